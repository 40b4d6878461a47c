//! `plan`: the fixes of a host's findings, or of domain XML files', as
//! one shell script (or its JSON), never run (`virt_doctor::plan`).

use std::io::Write;
use std::path::{Path, PathBuf};

use virt_doctor::analysis;
use virt_doctor::plan::{self, Plan};

use super::{config_for, load_catalog, log_window, open_host};
use crate::cli::{PlanFormat, ReportOpts};

/// Whether `path` is domain XML: a file ending in .xml, or a directory
/// with such files in it (as `lint` reads one; a host snapshot has none
/// at its top).
fn is_domain_xml(path: &Path) -> bool {
    let xml = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml"));
    xml(path)
        || (path.is_dir()
            && std::fs::read_dir(path).is_ok_and(|mut entries| {
                entries.any(|e| e.is_ok_and(|e| xml(&e.path()) && e.path().is_file()))
            }))
}

pub fn plan(
    paths: &[PathBuf],
    host: Option<&Path>,
    format: PlanFormat,
    opts: &ReportOpts,
) -> anyhow::Result<i32> {
    let catalog = load_catalog(&opts.rules_dirs)?;
    let mut hosts = Vec::new();
    let shown = |ps: &[PathBuf]| {
        ps.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let xml = paths.iter().filter(|p| is_domain_xml(p)).count();
    if xml > 0 && xml < paths.len() {
        anyhow::bail!(
            "give domain XML files or host snapshots, not both: {}",
            shown(paths)
        );
    }
    if xml > 0 {
        let mut config = config_for(opts, &catalog)?;
        config.fix_steps = true;
        let snap = host.map(open_host).transpose()?;
        let (report, _) = virt_doctor::lint::lint(paths, snap.as_ref(), &catalog, config)?;
        if !report.skipped_rules.is_empty() {
            say!(
                "virt-doctor: {} rules need host facts and were skipped, so their fixes are not planned; give --host SNAPSHOT to run them",
                report.skipped_rules.len()
            );
        }
        let name = snap.as_ref().and(report.target.hostname.clone());
        hosts.push(plan::host_plan(&report, name, shown(paths)));
    } else {
        if host.is_some() {
            anyhow::bail!(
                "--host is for domain XML files; {} is a host snapshot",
                shown(paths)
            );
        }
        let mut config = config_for(opts, &catalog)?;
        config.fix_steps = true;
        let window = log_window(opts)?;
        for path in paths {
            let snap = open_host(path)?;
            let a = analysis::run(&snap, &catalog, &config, window);
            let (report, _) = a.into_report(&catalog, &config)?;
            let name = report.target.hostname.clone();
            hosts.push(plan::host_plan(&report, name, path.display().to_string()));
        }
    }
    let plan = Plan {
        schema: plan::SCHEMA,
        hosts,
    };
    for h in &plan.hosts {
        let parts = h
            .host_changes
            .iter()
            .chain(h.domains.iter().flat_map(|d| &d.changes));
        for p in parts {
            for s in p.steps.iter().filter_map(|s| s.conflict.as_deref()) {
                say!(
                    "virt-doctor: note: {} ({}) is left out of the plan: {s}",
                    p.finding.rule,
                    p.finding.subject
                );
            }
        }
    }
    let text = match format {
        PlanFormat::Json => serde_json::to_string_pretty(&plan)? + "\n",
        PlanFormat::Sh => plan::script::render(
            &plan,
            &format!(
                "virt-doctor {} plan {}",
                env!("CARGO_PKG_VERSION"),
                shown(paths)
            ),
        ),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(0)
}
