//! `analyze`: one snapshot, or many (a fleet run). `scan` prints its
//! analysis here too.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use virt_doctor::analysis::{self, Analysis};
use virt_doctor::config::Config;
use virt_doctor::report;
use virt_doctor::rules::Catalog;
use virt_doctor::snapshot::Snapshot;

use super::{config_for, emit, exit_code, load_catalog, log_window, open_host};
use crate::cli::{FleetOpts, ReportFormat, ReportOpts};

/// One snapshot: a directory, a sosreport or a tarball.
pub fn analyze(path: &Path, opts: &ReportOpts) -> anyhow::Result<i32> {
    check_snapshot(&open_host(path)?, opts)
}

/// Facts rules and log rules over one snapshot.
fn check_snapshot(snap: &Snapshot, opts: &ReportOpts) -> anyhow::Result<i32> {
    let catalog = load_catalog(&opts.rules_dirs)?;
    let config = config_for(opts, &catalog)?;
    let window = log_window(opts)?;
    let a = analysis::run(snap, &catalog, &config, window);
    print_analysis(snap, a, &catalog, &config, opts)
}

/// The report of `snap`'s analysis, printed as asked; the exit code.
pub fn print_analysis(
    snap: &Snapshot,
    a: Analysis,
    catalog: &Catalog,
    config: &Config,
    opts: &ReportOpts,
) -> anyhow::Result<i32> {
    if opts.format == ReportFormat::Jsonl {
        // The record stream of docs/fleet-schema.md, as for a fleet of
        // one: the same consumer reads both.
        let path = snap.origin().display().to_string();
        let host = virt_doctor::fleet::FleetHost::of(
            &a.facts,
            &path,
            virt_doctor::fleet::inputs::ALL,
            &BTreeMap::new(),
        );
        let (report, ran) = a.into_report(catalog, config)?;
        let done = virt_doctor::fleet::HostDone {
            snapshot: virt_doctor::fleet::snapshot_id(&host.name, &path, host.captured_at),
            input: virt_doctor::fleet::HostInput {
                path: snap.origin().to_owned(),
                labels: BTreeMap::new(),
                group: virt_doctor::fleet::inputs::ALL.into(),
            },
            report,
            ran,
            host,
            below: None,
        };
        let mut out = std::io::stdout().lock();
        for record in report::fleet::host_records(&done, &catalog.digest) {
            serde_json::to_writer(&mut out, &record)?;
            out.write_all(b"\n")?;
        }
        return Ok(exit_code(opts, &done.report));
    }
    let (report, ran) = a.into_report(catalog, config)?;
    emit(&report, catalog, opts, &ran)
}

/// Many snapshots: each host analyzed as `analyze` analyzes one, on
/// `--jobs` threads, its report written as it is done; then the
/// cross-host rules over each group; then the fleet's summary.
pub fn analyze_fleet(
    paths: &[PathBuf],
    fleet: &FleetOpts,
    opts: &ReportOpts,
) -> anyhow::Result<i32> {
    use virt_doctor::fleet::{self, inputs, HostOutcome};
    use virt_doctor::report::fleet::{FleetEnd, FleetFormat, FleetOutput};
    let format = match opts.format {
        ReportFormat::Table => FleetFormat::Table,
        ReportFormat::Concise => FleetFormat::Concise,
        ReportFormat::Json => FleetFormat::Json,
        ReportFormat::Jsonl => FleetFormat::Jsonl,
        ReportFormat::Markdown => FleetFormat::Markdown,
        ReportFormat::Prometheus => FleetFormat::Prometheus,
        ReportFormat::Sarif | ReportFormat::Junit => anyhow::bail!(
            "--format {} reports one host; a fleet run writes table, concise, json, jsonl, markdown or prometheus (or run analyze once per snapshot)",
            if opts.format == ReportFormat::Sarif { "sarif" } else { "junit" }
        ),
    };
    let catalog = load_catalog(&opts.rules_dirs)?;
    let mut config = config_for(opts, &catalog)?;
    // Hosts run in parallel; each host's rules on its one thread.
    config.rule_threads = Some(1);
    let window = log_window(opts)?;
    let mut hosts: Vec<inputs::HostInput> = paths
        .iter()
        .map(|p| inputs::HostInput {
            path: p.clone(),
            labels: BTreeMap::new(),
            group: inputs::ALL.into(),
        })
        .collect();
    if let Some(m) = &fleet.manifest {
        hosts.extend(inputs::read_manifest(m).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    let group_by = inputs::GroupBy::parse(fleet.group_by.as_deref());
    if let inputs::GroupBy::Label(l) = &group_by {
        if !hosts.iter().any(|h| h.labels.contains_key(l)) {
            anyhow::bail!(
                "--group-by {l}: no snapshot has a `{l}=` label (labels come from --manifest lines; `dir` groups by directory)"
            );
        }
    }
    inputs::assign_groups(&mut hosts, &group_by);
    let shard = fleet.shard.map(|(i, n)| format!("{i}/{n}"));
    if let Some(s) = fleet.shard {
        hosts = inputs::shard(hosts, s, group_by != inputs::GroupBy::None);
    }
    let jobs = fleet
        .jobs
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let terminal = std::io::stdout().is_terminal();
    let mut output = FleetOutput::new(
        format,
        opts.lang,
        virt_doctor::prose::output_width(terminal),
        &catalog.digest,
    );
    let mut kept: Vec<fleet::FleetHost> = Vec::new();
    let mut flag_sets = Vec::new();
    // Host names label every record and series; two snapshots of hosts
    // with one name would merge there, so the second is told apart by
    // its path.
    let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut stdout = std::io::stdout().lock();
    let mut write_error: Option<std::io::Error> = None;
    fleet::run(hosts, jobs, &catalog, &config, window, |outcome| {
        if write_error.is_some() {
            return;
        }
        let mut outcome = outcome;
        if let HostOutcome::Done(done) = &mut outcome {
            if !names.insert(done.host.name.clone()) {
                let unique = format!("{} ({})", done.host.name, done.host.path);
                say!(
                    "virt-doctor: note: {} is the name of an earlier snapshot's host too; this one is called {unique}",
                    done.host.name
                );
                done.host.name = unique.clone();
                names.insert(unique);
            }
        }
        let written = match &outcome {
            HostOutcome::Done(done) => {
                if let Some(below) = &done.below {
                    say!(
                        "virt-doctor: no host data in {} itself; analyzing {below}, the one snapshot below it",
                        done.input.path.display()
                    );
                }
                output.host(&mut stdout, done)
            }
            HostOutcome::Failed(f) => {
                say!("virt-doctor: {}: {}", f.input.path.display(), f.error);
                output.failed(&mut stdout, f)
            }
        };
        if let Err(e) = written {
            write_error = Some(e);
        }
        if let HostOutcome::Done(done) = outcome {
            let mut host = done.host;
            host.share_flags(&mut flag_sets);
            kept.push(host);
        }
    });
    if let Some(e) = write_error {
        return Err(e.into());
    }
    let mut groups: BTreeMap<&str, Vec<&fleet::FleetHost>> = BTreeMap::new();
    for h in &kept {
        groups.entry(&h.group).or_default().push(h);
    }
    let combined: Vec<fleet::GroupFacts> = groups
        .into_iter()
        .map(|(name, hosts)| fleet::combine(name, hosts))
        .collect();
    let evaluation = virt_doctor::rules::evaluate_fleet(&catalog, &combined, &config);
    let findings = evaluation.findings;
    let worst = output
        .worst()
        .into_iter()
        .chain(findings.iter().map(|f| f.severity))
        .max();
    let end = FleetEnd {
        findings: &findings,
        rule_errors: &evaluation.errors,
        shard,
    };
    let summary = output.finish(&mut stdout, &end)?;
    stdout.flush()?;
    if !summary.failed.is_empty() {
        say!(
            "virt-doctor: {} of {} snapshots could not be analyzed",
            summary.failed.len(),
            summary.hosts
        );
        return Ok(2);
    }
    Ok(match (opts.fail_on.threshold(), worst) {
        (Some(t), Some(w)) if w >= t => 1,
        _ => 0,
    })
}
