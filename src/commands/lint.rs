//! `lint`: domain XML files on their own, or against a host
//! (`virt_doctor::lint`).

use std::path::{Path, PathBuf};

use super::{config_for, emit, load_catalog, open_host};
use crate::cli::{ReportFormat, ReportOpts};

pub fn lint(files: &[PathBuf], host: Option<&Path>, opts: &ReportOpts) -> anyhow::Result<i32> {
    // The record stream describes hosts (docs/fleet-schema.md); lint's
    // subject is a set of files.
    if opts.format == ReportFormat::Jsonl {
        anyhow::bail!(
            "--format jsonl is the record stream of `analyze`; lint writes table, concise, json, sarif, junit, markdown or prometheus"
        );
    }
    let catalog = load_catalog(&opts.rules_dirs)?;
    let config = config_for(opts, &catalog)?;
    let host = host.map(open_host).transpose()?;
    let (report, ran) = virt_doctor::lint::lint(files, host.as_ref(), &catalog, config)?;
    // The table has no room for them; the other formats list them.
    if !report.skipped_rules.is_empty() && opts.format == ReportFormat::Table {
        let codes: Vec<&str> = report
            .skipped_rules
            .iter()
            .map(|s| s.rule.as_str())
            .collect();
        if opts.verbose {
            say!(
                "virt-doctor: {} rules need host facts and were skipped ({}); give --host SNAPSHOT to run them",
                codes.len(),
                codes.join(", ")
            );
        } else {
            say!(
                "virt-doctor: {} rules need host facts and were skipped (-v lists them); give --host SNAPSHOT to run them",
                codes.len()
            );
        }
    }
    emit(&report, &catalog, opts, &ran)
}
