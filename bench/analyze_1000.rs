//! All rules over a host with 1,000 domains. The host is the tuned
//! two-socket fixture; the domains are copies of the domain definitions of
//! the scenario fixtures (tuned, mistuned, pinned, hugepage-backed, with
//! many disks), renamed, all running. Best of 5 rounds.
//! Run with `cargo bench --bench analyze_1000`; `BENCH_DOMAINS=5000` for
//! another count (the 5,000-domain figure in bench/README.md). Under
//! `cargo test`: 60 domains, one round.
//!
//! Both ways it checks that scale loses nothing: every copy gets at least
//! the findings its definition gets with one copy of each definition on
//! the host (more copies may add findings, such as shared pinned CPUs),
//! and no rule fails.

#[path = "common.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use virt_doctor::config::Config;
use virt_doctor::facts::{self, Target};
use virt_doctor::rules::{self, Catalog};
use virt_doctor::snapshot::{Kind, Snapshot};
use virt_doctor::sources;

/// The fixture hosts whose domain definitions are copied: tuned, mistuned,
/// pinned, hugepage-backed, with many disks.
const SCENARIOS: [&str; 5] = [
    "healthy-2node",
    "pinning-contention",
    "storage",
    "network",
    "memory-pressure",
];

fn main() {
    if common::filtered_out("analyze_1000") {
        return;
    }
    let rounds = if common::measuring() { 5 } else { 1 };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hosts");
    let host = Snapshot::open(&fixtures.join("healthy-2node")).unwrap();
    let (_, statuses) = sources::load(&host);
    // The host without its own domains, to fill with copies.
    let bare_host = || {
        let (mut data, _) = sources::load(&host);
        data.domains.clear();
        data
    };
    let mut templates = Vec::new();
    for scenario in SCENARIOS {
        let (d, _) = sources::load(&Snapshot::open(&fixtures.join(scenario)).unwrap());
        templates.extend(d.domains.into_values());
    }
    let count = common::size("BENCH_DOMAINS", 1000, 60) as usize;
    let with_copies = |count: usize| {
        let mut data = bare_host();
        for i in 0..count {
            let mut e = templates[i % templates.len()].clone();
            e.domain.name = format!("{}-{i:04}", e.domain.name);
            e.active = true;
            data.domains.insert(e.domain.name.clone(), e);
        }
        data
    };
    let catalog = Catalog::load(&[]).unwrap();
    let config = Config::default();
    let target = || Target {
        kind: Kind::Directory,
        path: "bench".into(),
    };
    // The rules each definition gets with one copy of each on the host,
    // by template index.
    let alone = rules::evaluate(
        &catalog,
        &facts::build(&with_copies(templates.len()), statuses.clone(), target()),
        &config,
    );
    let reference = rules_by_copy(&alone.findings);
    // All but the tuned host's own definitions have something to report.
    assert_eq!(
        (templates.len(), reference.len()),
        (24, 23),
        "definitions, and those with findings"
    );
    let data = with_copies(count);
    let disks: usize = data.domains.values().map(|d| d.domain.disks.len()).sum();
    let (mut best_build, mut best_eval, mut best_cpu) = (f64::MAX, f64::MAX, f64::MAX);
    let mut findings = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let f = facts::build(&data, statuses.clone(), target());
        best_build = best_build.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let cpu = cpu_seconds();
        let eval = rules::evaluate(&catalog, &f, &config);
        best_eval = best_eval.min(t.elapsed().as_secs_f64());
        best_cpu = best_cpu.min(cpu_seconds() - cpu);
        assert!(eval.errors.is_empty(), "{:?}", eval.errors.first());
        findings = eval.findings.len();
        let got = rules_by_copy(&eval.findings);
        for i in 0..count {
            let want = reference
                .get(&(i % templates.len()))
                .cloned()
                .unwrap_or_default();
            let have = got.get(&i).cloned().unwrap_or_default();
            assert!(
                have.is_superset(&want),
                "copy {i} lost findings: has {have:?}, its definition alone {want:?}"
            );
        }
    }
    if std::env::var_os("PER_RULE").is_some() {
        let f = facts::build(&data, statuses.clone(), target());
        let mut times = Vec::new();
        let all = Catalog::load(&[]).unwrap();
        for r in &all.rules {
            let mut cfg = Config::default();
            cfg.disable.extend(
                all.rules
                    .iter()
                    .filter(|x| x.code != r.code)
                    .map(|x| x.code.clone()),
            );
            let t = Instant::now();
            rules::evaluate(&all, &f, &cfg);
            times.push((t.elapsed().as_secs_f64() * 1e3, r.code.clone()));
        }
        let mut cfg = Config::default();
        cfg.disable.extend(all.rules.iter().map(|x| x.code.clone()));
        let t = Instant::now();
        rules::evaluate(&all, &f, &cfg);
        println!("no rules: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        println!(
            "facts JSON: {} bytes",
            serde_json::to_vec(&f).unwrap().len()
        );
        let t = Instant::now();
        let j = serde_json::to_value(&f).unwrap();
        println!("to_value: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let _c = virt_doctor::rules::expr::to_cel(&j);
        println!("to_cel: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        times.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
        for (t, c) in times.iter().take(12) {
            println!("{c} {t:.1} ms");
        }
    }
    println!(
        "{count} domains ({disks} disks), {} rules: facts {:.1} ms + rules {:.1} ms = {:.1} ms (best of {rounds}; rules took {:.1} ms of CPU); {findings} findings; peak RSS {} MiB",
        catalog.rules.len(),
        best_build * 1e3,
        best_eval * 1e3,
        (best_build + best_eval) * 1e3,
        best_cpu * 1e3,
        peak_rss_mib()
    );
    whole_run(&fixtures, count, findings);
}

/// The real binary on a host directory with `count` running domains:
/// healthy-2node with copies of the scenario fixtures' domain XML (each
/// renamed, with its own UUID) in `etc/libvirt/qemu` and, as running,
/// `run/libvirt/qemu`. Parsing, facts, rules and the JSON report, with
/// the child's own peak RSS.
fn whole_run(fixtures: &Path, count: usize, in_process: usize) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("host");
    copy_tree(&fixtures.join("healthy-2node"), &root);
    let mut xmls = Vec::new();
    for scenario in SCENARIOS {
        let defined = fixtures.join(scenario).join("etc/libvirt/qemu");
        let mut names: Vec<_> = std::fs::read_dir(&defined)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        names.sort();
        for p in names {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            xmls.push((name, std::fs::read_to_string(&p).unwrap()));
        }
    }
    for dir in ["etc/libvirt/qemu", "run/libvirt/qemu"] {
        let d = root.join(dir);
        std::fs::remove_dir_all(&d).ok();
        std::fs::create_dir_all(&d).unwrap();
    }
    let uuid = regex::Regex::new(r"<uuid>[^<]*</uuid>").unwrap();
    for i in 0..count {
        let (name, xml) = &xmls[i % xmls.len()];
        let copy = format!("{name}-{i:04}");
        let xml = xml.replace(
            &format!("<name>{name}</name>"),
            &format!("<name>{copy}</name>"),
        );
        let xml = uuid.replace(
            &xml,
            format!("<uuid>00000000-0000-4000-8000-{i:012}</uuid>").as_str(),
        );
        std::fs::write(
            root.join(format!("etc/libvirt/qemu/{copy}.xml")),
            xml.as_bytes(),
        )
        .unwrap();
        let body = xml.trim_start();
        let body = match body.find("<domain") {
            Some(at) => &body[at..],
            None => body,
        };
        std::fs::write(
            root.join(format!("run/libvirt/qemu/{copy}.xml")),
            format!(
                "<domstatus state='running' reason='booted' pid='{}'>\n{body}</domstatus>\n",
                100_000 + i
            ),
        )
        .unwrap();
    }
    let out = dir.path().join("report.json");
    let (code, seconds, rss) = common::measured(
        std::process::Command::new(env!("CARGO_BIN_EXE_virt-doctor"))
            .arg("analyze")
            .arg(&root)
            .args(["--format", "json", "--fail-on", "never"])
            .stdout(std::fs::File::create(&out).unwrap()),
    );
    assert_eq!(code, 0, "virt-doctor exited with {code}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let domains: BTreeSet<&str> = findings
        .iter()
        .filter_map(|f| f["domain"].as_str())
        .collect();
    assert!(
        report["rule_errors"]
            .as_array()
            .is_none_or(|e| e.is_empty()),
        "{}",
        report["rule_errors"]
    );
    // Every copy but those of the tuned host's own definitions has a finding.
    assert!(
        domains.len() >= count * 22 / 24,
        "{} of {count} domains with findings",
        domains.len()
    );
    println!(
        "whole run, `virt-doctor analyze DIR --format json` with {count} running domains: {seconds:.3} s, peak RSS {} MiB, {} findings (in process: {in_process})",
        rss / 1024,
        findings.len()
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        let kind = e.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&e.path(), &target);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// CPU time of this process so far (every thread), in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: an all-zero rusage is a valid value for getrusage to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is valid for the call.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

/// Rule codes per domain copy, keyed by the copy's number (the `-NNNN`
/// suffix of its name).
fn rules_by_copy(findings: &[virt_doctor::findings::Finding]) -> BTreeMap<usize, BTreeSet<String>> {
    let mut out: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for f in findings {
        let Some(copy) = f
            .domain
            .as_deref()
            .and_then(|d| d.rsplit_once('-'))
            .and_then(|(_, n)| n.parse().ok())
        else {
            continue;
        };
        out.entry(copy).or_default().insert(f.rule.clone());
    }
    out
}

/// `VmHWM` of this process: the most memory it ever held.
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}
