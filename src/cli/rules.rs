//! `virt-doctor rules list|show`: the catalog, like `ruff rule`.

use std::io::Write;
use std::path::PathBuf;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use super::{load_catalog, ListFormat, RulesCommand};

pub fn rules_command(command: RulesCommand, dirs: &[PathBuf]) -> anyhow::Result<i32> {
    let catalog = load_catalog(dirs)?;
    let mut out = std::io::stdout().lock();
    match command {
        RulesCommand::List {
            format: ListFormat::Json,
        } => {
            let rows: Vec<serde_json::Value> = catalog
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code, "name": r.name, "category": r.category,
                        "severity": r.severity, "scope": r.scope, "title": r.title,
                        "params": r.params, "references": r.references, "seed": r.seed,
                        "file": r.origin.file, "line": r.origin.line,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        RulesCommand::List {
            format: ListFormat::Table,
        } => {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED);
            t.set_header(vec![
                "code", "name", "category", "severity", "scope", "title",
            ]);
            for r in &catalog.rules {
                t.add_row(vec![
                    r.code.as_str(),
                    r.name.as_str(),
                    r.category.as_str(),
                    r.severity.as_str(),
                    r.scope.as_str(),
                    r.title.as_str(),
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(out, "{} rules", catalog.rules.len())?;
        }
        RulesCommand::Show { rule } => {
            let Some(r) = catalog.find(&rule) else {
                eprintln!("virt-doctor: no rule `{rule}`; `virt-doctor rules list` shows them all");
                return Ok(2);
            };
            writeln!(out, "{} ({})", r.code, r.name)?;
            writeln!(out, "{}\n", r.title)?;
            writeln!(
                out,
                "category: {}   severity: {}   scope: {}",
                r.category,
                r.severity.as_str(),
                r.scope.as_str()
            )?;
            writeln!(out, "defined at: {}:{}\n", r.origin.file, r.origin.line)?;
            writeln!(out, "{}\n", r.explanation.trim())?;
            writeln!(out, "checks: {}", r.when.source.trim())?;
            if !r.params.is_empty() {
                writeln!(
                    out,
                    "\nparameters (override in virt-doctor.toml under [rules.{}]):",
                    r.code
                )?;
                for p in &r.params {
                    writeln!(out, "  {} = {}  {}", p.name, p.default, p.doc)?;
                }
            }
            if let Some(seed) = &r.seed {
                writeln!(out, "\nsource document: {seed}")?;
            }
            if !r.references.is_empty() {
                writeln!(out, "\nreferences:")?;
                for x in &r.references {
                    writeln!(out, "  - {x}")?;
                }
            }
        }
    }
    Ok(0)
}
