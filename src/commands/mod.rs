//! What each command does, one module per command: read its options,
//! call the library, print. What they share is here: loading the rule
//! catalog and the config, opening a snapshot, printing a report.

pub mod analyze;
pub mod collect;
pub mod diff;
pub mod facts;
pub mod lint;
pub mod plan;
pub mod rules;
pub mod scan;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use virt_doctor::config::Config;
use virt_doctor::logs::{self, Window};
use virt_doctor::report::{self, Report};
use virt_doctor::rules::Catalog;
use virt_doctor::snapshot::Snapshot;

use crate::cli::{ReportFormat, ReportOpts};

/// The host snapshot at `path`, or the one sosreport found below it, said
/// on stderr (`sources::open_host`).
pub fn open_host(path: &Path) -> anyhow::Result<Snapshot> {
    let located = virt_doctor::sources::open_host(path)?;
    if let Some(below) = &located.below {
        say!(
            "virt-doctor: no host data in {} itself; analyzing {}, the one snapshot below it",
            path.display(),
            path.join(below).display()
        );
    }
    Ok(located.snapshot)
}

/// The built-in rules and those of every `--rules-dir`.
fn load_catalog(dirs: &[PathBuf]) -> anyhow::Result<Catalog> {
    let dirs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    Ok(Catalog::load(&dirs)?)
}

/// The config file, with the command line's selection added to it.
fn config_for(opts: &ReportOpts, catalog: &Catalog) -> anyhow::Result<Config> {
    let mut config = Config::discover(opts.config.as_deref())?;
    config.select.extend(opts.select.iter().cloned());
    config.ignore.extend(opts.ignore.iter().cloned());
    if let Some(m) = opts.min_severity {
        config.min_severity = Some(m.into());
    }
    config.lang = opts.lang;
    config.check(catalog)?;
    Ok(config)
}

/// The log events `--since` and `--until` keep.
fn log_window(opts: &ReportOpts) -> anyhow::Result<Window> {
    let when = |w: &Option<String>| w.as_deref().map(logs::time::parse_when).transpose();
    Ok(Window {
        since: when(&opts.since).map_err(|e| anyhow::anyhow!("--since: {e}"))?,
        until: when(&opts.until).map_err(|e| anyhow::anyhow!("--until: {e}"))?,
    })
}

/// Print one host's report as asked and return the exit code. `ran` are
/// the codes of the rules that ran (JUnit's passing test cases).
fn emit(
    report: &Report,
    catalog: &Catalog,
    opts: &ReportOpts,
    ran: &[String],
) -> anyhow::Result<i32> {
    let threshold = opts.fail_on.threshold();
    let text = match opts.format {
        ReportFormat::Json => serde_json::to_string_pretty(report)? + "\n",
        ReportFormat::Jsonl => unreachable!("JSONL is written by analyze::check_snapshot"),
        ReportFormat::Sarif => report::sarif(report, catalog, opts.lang),
        ReportFormat::Junit => report::junit(report, catalog, threshold, ran, opts.lang),
        ReportFormat::Markdown => report::markdown(report, opts.lang),
        ReportFormat::Prometheus => report::prometheus(report),
        ReportFormat::Concise => report::concise(report),
        ReportFormat::Table => {
            let terminal = std::io::stdout().is_terminal();
            let layout = report::Layout {
                width: virt_doctor::prose::output_width(terminal),
                color: opts.color.on(terminal),
                verbose: opts.verbose,
                show_suppressed: opts.show_suppressed,
                lang: opts.lang,
            };
            report::table(report, catalog, &layout)
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(exit_code(opts, report))
}

/// 1 when the report's worst finding is at or above `--fail-on`, else 0.
fn exit_code(opts: &ReportOpts, report: &Report) -> i32 {
    match (opts.fail_on.threshold(), report.worst()) {
        (Some(t), Some(w)) if w >= t => 1,
        _ => 0,
    }
}

/// Said on stderr when a live command was asked to talk to libvirt but
/// this build cannot: the findings then lack everything only libvirt
/// knows, and whoever reads them should know why. Nothing without a URI
/// (`--connect none` asks for exactly this).
fn say_if_libvirt_missing(live: &virt_doctor::collect::Options) {
    if let (false, Some(uri)) = (virt_doctor::collect::LIBVIRT, &live.connect) {
        say!(
            "virt-doctor: note: {}: libvirt at {uri} was not asked, so running domains' live XML, states and statistics are missing (a default build asks it; --connect none skips libvirt without this note)",
            virt_doctor::collect::WITHOUT_LIBVIRT
        );
    }
}
