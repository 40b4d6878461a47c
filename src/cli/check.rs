//! The commands that produce findings: `analyze` (a snapshot), `lint`
//! (domain XML files on their own) and `diff` (two snapshots or reports).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use virt_doctor::analysis;
use virt_doctor::collect;
use virt_doctor::config::Config;
use virt_doctor::facts::{self, Target};
use virt_doctor::findings::Finding;
use virt_doctor::logs::{self, Window};
use virt_doctor::parse;
use virt_doctor::report::{self, Report, SkippedRule};
use virt_doctor::rules::Catalog;
use virt_doctor::snapshot::{Kind, Snapshot};
use virt_doctor::sources::{self, DomainEntry, DomainOrigin, HostData};
use virt_doctor::suppress;

use super::{load_catalog, DiffFormat, DiffOpts, FleetOpts, ReportFormat, ReportOpts};

/// The config file, with the command line's selection added to it.
fn config_for(opts: &ReportOpts, catalog: &Catalog) -> anyhow::Result<Config> {
    let mut config = Config::discover(opts.config.as_deref())?;
    config.select.extend(opts.select.iter().cloned());
    config.ignore.extend(opts.ignore.iter().cloned());
    if let Some(m) = opts.min_severity {
        config.min_severity = Some(m.into());
    }
    config.lang = opts.lang;
    config
        .check(catalog)
        .map_err(|e| anyhow::anyhow!("{}", e.join("\n")))?;
    Ok(config)
}

/// Suppressions applied, report made; also the codes of the fact rules
/// that ran (for JUnit's passing test cases).
fn finish(
    a: analysis::Analysis,
    catalog: &Catalog,
    config: &Config,
) -> anyhow::Result<(Report, Vec<String>)> {
    suppress::check(&a.facts).map_err(|e| anyhow::anyhow!("{}", e.join("\n")))?;
    let today = chrono::Local::now().date_naive();
    let outcome = suppress::apply(a.findings, &a.facts, config, catalog, today);
    Ok((
        Report::new(&a.facts, outcome, a.rule_errors, a.ran.len()),
        a.ran,
    ))
}

/// Print the report as asked and return the exit code.
fn emit(
    report: &Report,
    catalog: &Catalog,
    opts: &ReportOpts,
    ran: &[String],
) -> anyhow::Result<i32> {
    let threshold = opts.fail_on.threshold();
    let text = match opts.format {
        ReportFormat::Json => serde_json::to_string_pretty(report)? + "\n",
        ReportFormat::Jsonl => unreachable!("JSONL is written by check_snapshot"),
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
    Ok(match (threshold, report.worst()) {
        (Some(t), Some(w)) if w >= t => 1,
        _ => 0,
    })
}

/// The live host, captured in memory exactly as `collect` captures it and
/// analyzed as `analyze` would analyze that capture.
pub fn scan(
    live: &collect::Options,
    save: Option<&Path>,
    opts: &ReportOpts,
) -> anyhow::Result<i32> {
    // A mistyped --sysroot would otherwise read as a host with nothing
    // wrong.
    if !live.sysroot.is_dir() {
        anyhow::bail!("--sysroot {}: not a directory", live.sysroot.display());
    }
    // Rules and config are checked before spending seconds on sampling.
    let catalog = load_catalog(&opts.rules_dirs)?;
    config_for(opts, &catalog)?;
    let capture = collect::collect(live);
    if let Some(path) = save {
        capture.write_archive(path, collect::Compression::of(path)?, true)?;
    }
    check_snapshot(&capture.into_snapshot(Kind::Live, &live.sysroot), opts)
}

/// Write the capture; say where and what was cut.
pub fn collect(live: &collect::Options, output: &Path, force: bool) -> anyhow::Result<i32> {
    // Both checked before the seconds of capturing.
    let compression = collect::Compression::of(output)?;
    if !force && output.symlink_metadata().is_ok() {
        anyhow::bail!("{} exists; give --force to overwrite it", output.display());
    }
    let capture = collect::collect(live);
    capture.write_archive(output, compression, force)?;
    let info = &capture.info;
    say!(
        "virt-doctor: wrote {} (libvirt: {}{}; {} secrets redacted{})",
        output.display(),
        info.libvirt.status,
        info.libvirt
            .error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default(),
        info.redactions.secrets,
        if info.redactions.hosts {
            ", host names and addresses replaced"
        } else {
            ""
        }
    );
    for notice in &info.notices {
        say!("virt-doctor: note: {notice}");
    }
    Ok(0)
}

pub fn analyze(path: &Path, opts: &ReportOpts) -> anyhow::Result<i32> {
    check_snapshot(&super::open_host(path)?, opts)
}

/// Facts rules and log rules over one snapshot.
fn check_snapshot(snap: &Snapshot, opts: &ReportOpts) -> anyhow::Result<i32> {
    let catalog = load_catalog(&opts.rules_dirs)?;
    let config = config_for(opts, &catalog)?;
    let when = |w: &Option<String>| w.as_deref().map(logs::time::parse_when).transpose();
    let window = Window {
        since: when(&opts.since).map_err(|e| anyhow::anyhow!("--since: {e}"))?,
        until: when(&opts.until).map_err(|e| anyhow::anyhow!("--until: {e}"))?,
    };
    let a = analysis::run(snap, &catalog, &config, window);
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
        let (report, ran) = finish(a, &catalog, &config)?;
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
        let threshold = opts.fail_on.threshold();
        return Ok(match (threshold, done.report.worst()) {
            (Some(t), Some(w)) if w >= t => 1,
            _ => 0,
        });
    }
    let (report, ran) = finish(a, &catalog, &config)?;
    emit(&report, &catalog, opts, &ran)
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
    let when = |w: &Option<String>| w.as_deref().map(logs::time::parse_when).transpose();
    let window = Window {
        since: when(&opts.since).map_err(|e| anyhow::anyhow!("--since: {e}"))?,
        until: when(&opts.until).map_err(|e| anyhow::anyhow!("--until: {e}"))?,
    };
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

/// Domain XML files as the domains of a host: the given snapshot's, or an
/// empty one. XML that does not parse becomes a VD003 finding.
pub fn lint(files: &[PathBuf], host: Option<&Path>, opts: &ReportOpts) -> anyhow::Result<i32> {
    let catalog = load_catalog(&opts.rules_dirs)?;
    let mut config = config_for(opts, &catalog)?;
    let (mut data, statuses, target) = match host {
        Some(p) => {
            let snap = super::open_host(p)?;
            let (d, s) = sources::load(&snap);
            (
                d,
                s,
                Target {
                    kind: snap.kind(),
                    path: ".".into(),
                },
            )
        }
        // No host: the report is about what was given, and says so
        // (`0 critical, ... on domains/`).
        None => (
            HostData::default(),
            Vec::new(),
            Target {
                kind: Kind::Directory,
                path: match files {
                    [one] => one.display().to_string(),
                    many => format!("{} files", many.len()),
                },
            },
        ),
    };
    data.domains.clear();
    data.invalid_domain_xml.clear();
    for file in &domain_files(files)? {
        let shown = file.display().to_string();
        let text = std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {shown}: {e}"))?;
        let parsed = parse::domain::parse(&String::from_utf8_lossy(&text));
        if !parsed.problems.is_empty() {
            data.invalid_domain_xml.push(sources::InvalidXml {
                path: shown.clone(),
                problems: parsed.problems,
            });
        }
        if let Some(domain) = parsed.value {
            data.domains.insert(
                domain.name.clone(),
                DomainEntry {
                    domain,
                    origin: DomainOrigin::Persistent,
                    path: shown,
                    persistent: true,
                    active: false,
                },
            );
        }
    }
    let mut skipped = Vec::new();
    if host.is_none() {
        for r in catalog
            .rules
            .iter()
            // Rules virt-doctor raises itself (VD001-VD003, `when = "false"`)
            // are not judged over host facts.
            .filter(|r| r.needs_host && config.runs(r) && r.when.source != "false")
        {
            skipped.push(SkippedRule {
                rule: r.code.clone(),
                reason: "needs host facts; run with --host SNAPSHOT".into(),
            });
        }
        config
            .disable
            .extend(skipped.iter().map(|s| s.rule.clone()));
    }
    let facts = facts::build(&data, statuses, target);
    let a = analysis::with_facts(facts, &catalog, &config, Vec::new());
    let (mut report, ran) = finish(a, &catalog, &config)?;
    report.skipped_rules = skipped;
    // The domains are the files given: only the host can be partial.
    match (&mut report.coverage, host) {
        (Some(c), Some(_)) => {
            c.missing.retain(|g| g.what != "domain definitions");
            c.partial = !c.missing.is_empty();
        }
        (coverage, _) => *coverage = None,
    }
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

/// The files `lint` reads: each file given, and the `*.xml` files of each
/// directory given (sorted, not recursive: a directory of definitions,
/// as /etc/libvirt/qemu is).
fn domain_files(given: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in given {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let mut xml: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "xml"))
            .collect();
        if xml.is_empty() {
            anyhow::bail!("{}: no *.xml files in this directory", path.display());
        }
        xml.sort();
        out.extend(xml);
    }
    Ok(out)
}

/// Findings of one side of a diff: a JSON report, or a snapshot analysed now.
fn side(path: &Path, catalog: &Catalog, config: &Config) -> anyhow::Result<(String, Vec<Finding>)> {
    if path.is_file() {
        let head = std::fs::read(path)?;
        if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            let v: serde_json::Value = serde_json::from_slice(&head).map_err(|e| {
                anyhow::anyhow!("{}: not a virt-doctor JSON report: {e}", path.display())
            })?;
            if v["schema"] != report::SCHEMA {
                anyhow::bail!(
                    "{}: not a {} report (schema {})",
                    path.display(),
                    report::SCHEMA,
                    v["schema"]
                );
            }
            let findings: Vec<Finding> = serde_json::from_value(v["findings"].clone())
                .map_err(|e| anyhow::anyhow!("{}: findings: {e}", path.display()))?;
            let host = v["target"]["hostname"].as_str().unwrap_or("").to_owned();
            return Ok((host, findings));
        }
    }
    let a = analysis::run(&super::open_host(path)?, catalog, config, Window::default());
    let (report, _) = finish(a, catalog, config)?;
    Ok((report.target.hostname.unwrap_or_default(), report.findings))
}

pub fn diff(
    base: &Path,
    new: &Path,
    opts: &DiffOpts,
    lang: virt_doctor::lang::Lang,
) -> anyhow::Result<i32> {
    let DiffOpts {
        fail_on_new,
        fail_on,
        format,
        ..
    } = *opts;
    let catalog = load_catalog(&opts.rules_dirs)?;
    let mut config = Config::discover(opts.config.as_deref())?;
    config.lang = lang;
    config
        .check(&catalog)
        .map_err(|e| anyhow::anyhow!("{}", e.join("\n")))?;
    let (_, before) = side(base, &catalog, &config)?;
    let (host, after) = side(new, &catalog, &config)?;
    let key = |f: &Finding| (f.rule.clone(), f.subject.clone());
    let before_keys: BTreeMap<_, &Finding> = before.iter().map(|f| (key(f), f)).collect();
    let after_keys: BTreeMap<_, &Finding> = after.iter().map(|f| (key(f), f)).collect();
    let added: Vec<&Finding> = after
        .iter()
        .filter(|f| !before_keys.contains_key(&key(f)))
        .collect();
    let resolved: Vec<&Finding> = before
        .iter()
        .filter(|f| !after_keys.contains_key(&key(f)))
        .collect();
    let unchanged: Vec<&Finding> = after
        .iter()
        .filter(|f| before_keys.contains_key(&key(f)))
        .collect();
    let mut out = std::io::stdout().lock();
    match format {
        DiffFormat::Json => {
            let v =
                serde_json::json!({ "new": added, "resolved": resolved, "unchanged": unchanged });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        DiffFormat::Table => {
            // A finding a line, cut to the width: `analyze` has them whole.
            let width = virt_doctor::prose::output_width(std::io::stdout().is_terminal());
            for (title, list) in [("new", &added), ("resolved", &resolved)] {
                writeln!(out, "{title} ({}):", list.len())?;
                for f in list.iter() {
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
            writeln!(out, "unchanged: {}", unchanged.len())?;
            writeln!(
                out,
                "{} new, {} resolved, {} unchanged on {}",
                added.len(),
                resolved.len(),
                unchanged.len(),
                if host.is_empty() { "-" } else { &host }
            )?;
        }
    }
    let gate: Vec<&&Finding> = if fail_on_new {
        added.iter().collect()
    } else {
        unchanged.iter().chain(added.iter()).collect()
    };
    Ok(match fail_on.threshold() {
        Some(t) if gate.iter().any(|f| f.severity >= t) => 1,
        _ => 0,
    })
}
