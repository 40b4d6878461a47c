//! `diff`: two snapshots or JSON reports compared (`virt_doctor::diff`).

use std::io::{IsTerminal, Write};
use std::path::Path;

use virt_doctor::config::Config;
use virt_doctor::diff::{self, Side};
use virt_doctor::lang::Lang;
use virt_doctor::rules::Catalog;

use super::{load_catalog, open_host};
use crate::cli::{DiffFormat, DiffOpts};

pub fn diff(base: &Path, new: &Path, opts: &DiffOpts, lang: Lang) -> anyhow::Result<i32> {
    let catalog = load_catalog(&opts.rules_dirs)?;
    let mut config = Config::discover(opts.config.as_deref())?;
    config.lang = lang;
    config.check(&catalog)?;
    let before = side(base, &catalog, &config)?;
    let after = side(new, &catalog, &config)?;
    let d = diff::compare(&before.findings, &after.findings);
    let mut out = std::io::stdout().lock();
    match opts.format {
        DiffFormat::Json => {
            let v = serde_json::json!({ "new": d.new, "resolved": d.resolved, "unchanged": d.unchanged });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        DiffFormat::Table => {
            // A finding a line, cut to the width: `analyze` has them whole.
            let width = virt_doctor::prose::output_width(std::io::stdout().is_terminal());
            for (title, list) in [("new", &d.new), ("resolved", &d.resolved)] {
                writeln!(out, "{title} ({}):", list.len())?;
                for f in list {
                    let line = format!(
                        "  {:<8} {:<8} {}: {}",
                        f.severity.as_str(),
                        f.rule,
                        f.subject,
                        f.title
                    );
                    writeln!(out, "{}", virt_doctor::prose::fit(&line, width))?;
                }
            }
            writeln!(out, "unchanged: {}", d.unchanged.len())?;
            let host = &after.host;
            writeln!(
                out,
                "{} new, {} resolved, {} unchanged on {}",
                d.new.len(),
                d.resolved.len(),
                d.unchanged.len(),
                if host.is_empty() { "-" } else { host }
            )?;
        }
    }
    Ok(i32::from(
        d.fails(opts.fail_on.threshold(), opts.fail_on_new),
    ))
}

/// One side: a JSON report, or a snapshot analyzed now.
fn side(path: &Path, catalog: &Catalog, config: &Config) -> anyhow::Result<Side> {
    match Side::read_report(path)? {
        Some(side) => Ok(side),
        None => Ok(Side::analyze(&open_host(path)?, catalog, config)?),
    }
}
