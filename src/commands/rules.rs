//! `virt-doctor rules list|show|doc`: the catalog, like `ruff rule`.

use std::io::Write;
use std::path::PathBuf;

use std::io::IsTerminal;

use virt_doctor::findings::CATEGORIES;
use virt_doctor::lang::Lang;
use virt_doctor::prose::fit;
use virt_doctor::report::words;
use virt_doctor::rules::{doc, Catalog};

use super::load_catalog;
use crate::cli::{ListFormat, RulesCommand};

pub fn rules_command(command: RulesCommand, dirs: &[PathBuf], lang: Lang) -> anyhow::Result<i32> {
    let catalog = load_catalog(dirs)?;
    let mut out = std::io::stdout().lock();
    match command {
        RulesCommand::List {
            format: ListFormat::Json,
        } => {
            let mut rows: Vec<serde_json::Value> = catalog
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code, "name": r.name, "category": r.category,
                        "severity": r.severity, "scope": r.scope, "title": r.title,
                        "params": r.params, "doc": r.doc, "references": r.references,
                        "file": r.origin.file, "line": r.origin.line,
                    })
                })
                .collect();
            rows.extend(catalog.log_rules.iter().map(|r| {
                serde_json::json!({
                    "code": r.code, "name": r.name, "category": r.category,
                    "severity": r.severity, "scope": "log", "title": r.title,
                    "sources": r.sources, "pattern": r.pattern.as_str(),
                    "doc": r.doc, "references": r.references,
                    "file": r.origin.file, "line": r.origin.line,
                })
            }));
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        RulesCommand::List {
            format: ListFormat::Table,
        } => {
            let width = virt_doctor::prose::output_width(std::io::stdout().is_terminal());
            out.write_all(list_table(&catalog, width, lang).as_bytes())?;
        }
        RulesCommand::Show { rule } => {
            let Some(entry) = catalog.entry(&rule) else {
                say!("virt-doctor: no rule `{rule}`; `virt-doctor rules list` shows them all");
                return Ok(2);
            };
            let width = virt_doctor::prose::output_width(std::io::stdout().is_terminal());
            out.write_all(doc::text(entry, width, lang).as_bytes())?;
        }
        RulesCommand::Doc { output } => {
            let page = doc::reference(&catalog, lang);
            match output {
                Some(path) => std::fs::write(&path, page)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
                None => out.write_all(page.as_bytes())?,
            }
        }
    }
    Ok(0)
}

/// The catalog by category, a rule a line: code, severity, title (cut to
/// the width with `…`; `rules show` has it whole), then how many.
fn list_table(catalog: &Catalog, width: usize, lang: Lang) -> String {
    let mut categories: Vec<&str> = CATEGORIES.to_vec();
    for e in catalog.entries() {
        if !categories.contains(&e.meta().category.as_str()) {
            categories.push(&e.meta().category);
        }
    }
    let code_width = catalog
        .entries()
        .map(|e| e.meta().code.len())
        .max()
        .unwrap_or(7);
    let mut out = String::new();
    for category in categories {
        let entries: Vec<_> = catalog
            .entries()
            .filter(|e| e.meta().category == category)
            .collect();
        if entries.is_empty() {
            continue;
        }
        out.push_str(&format!("{}\n", words::category(category, lang)));
        for e in entries {
            let m = e.meta();
            let severity = words::severity(m.severity, lang);
            let pad = " ".repeat(8usize.saturating_sub(virt_doctor::prose::width_of(severity)));
            let line = format!(
                "  {:<code_width$}  {severity}{pad}  {}",
                m.code,
                m.title_in(lang)
            );
            out.push_str(&fit(&line, width));
            out.push('\n');
        }
    }
    let fleet_rules = catalog.rules.iter().filter(|r| r.is_fleet()).count();
    let host_rules = catalog.rules.len() - fleet_rules;
    out.push_str(&match lang {
        Lang::En => format!(
            "{} rules over the host's configuration and state, {} over its logs,\n\
             {} across the hosts of a fleet run; `virt-doctor rules show CODE` explains one\n",
            host_rules,
            catalog.log_rules.len(),
            fleet_rules
        ),
        Lang::ZhCn => format!(
            "{} 条规则检查主机的配置和状态，{} 条检查日志，{} 条在多主机分析中比较主机；\n\
             `virt-doctor rules show CODE` 解释其中一条\n",
            host_rules,
            catalog.log_rules.len(),
            fleet_rules
        ),
    });
    out
}
