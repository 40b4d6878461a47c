//! `virt-doctor rules list|show`: the catalog, like `ruff rule`.

use std::io::Write;
use std::path::PathBuf;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use virt_doctor::rules::catalog::{LogRule, Rule};

use super::{load_catalog, ListFormat, RulesCommand};

pub fn rules_command(command: RulesCommand, dirs: &[PathBuf]) -> anyhow::Result<i32> {
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
                        "params": r.params, "references": r.references,
                        "file": r.origin.file, "line": r.origin.line,
                    })
                })
                .collect();
            rows.extend(catalog.log_rules.iter().map(|r| {
                serde_json::json!({
                    "code": r.code, "name": r.name, "category": r.category,
                    "severity": r.severity, "scope": "log", "title": r.title,
                    "sources": r.sources, "pattern": r.pattern.as_str(),
                    "references": r.references,
                    "file": r.origin.file, "line": r.origin.line,
                })
            }));
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
            for r in &catalog.log_rules {
                t.add_row(vec![
                    r.code.as_str(),
                    r.name.as_str(),
                    r.category.as_str(),
                    r.severity.as_str(),
                    "log",
                    r.title.as_str(),
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(
                out,
                "{} rules over the host's configuration and state, {} over its logs",
                catalog.rules.len(),
                catalog.log_rules.len()
            )?;
        }
        RulesCommand::Show { rule } => {
            let Some(meta) = catalog.find(&rule) else {
                say!("virt-doctor: no rule `{rule}`; `virt-doctor rules list` shows them all");
                return Ok(2);
            };
            if let Some(r) = catalog.find_rule(&meta.code) {
                show_rule(&mut out, r)?;
            } else if let Some(r) = catalog.log_rules.iter().find(|r| r.code == meta.code) {
                show_log_rule(&mut out, r)?;
            }
        }
    }
    Ok(0)
}

fn show_rule(out: &mut impl Write, r: &Rule) -> std::io::Result<()> {
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
    references(out, &r.references)
}

fn show_log_rule(out: &mut impl Write, r: &LogRule) -> std::io::Result<()> {
    writeln!(out, "{} ({})", r.code, r.name)?;
    writeln!(out, "{}\n", r.title)?;
    writeln!(
        out,
        "category: {}   severity: {}   reads: {}",
        r.category,
        r.severity.as_str(),
        r.sources.join(", ")
    )?;
    writeln!(out, "defined at: {}:{}\n", r.origin.file, r.origin.line)?;
    writeln!(out, "{}\n", r.explanation.trim())?;
    writeln!(out, "matches: {}", r.pattern.as_str())?;
    if let Some(x) = &r.exclude {
        writeln!(out, "except lines matching: {}", x.as_str())?;
    }
    if r.min_count > 1 {
        let within = r
            .within_seconds
            .map_or(String::new(), |w| format!(" within {w} s"));
        writeln!(out, "reported from {} events{within}", r.min_count)?;
    }
    references(out, &r.references)
}

fn references(out: &mut impl Write, references: &[String]) -> std::io::Result<()> {
    if !references.is_empty() {
        writeln!(out, "\nreferences:")?;
        for x in references {
            writeln!(out, "  - {x}")?;
        }
    }
    Ok(())
}
