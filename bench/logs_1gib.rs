//! The log rules over a generated syslog, against ripgrep doing the same
//! work: `rg -c` given exactly the regexes virt-doctor runs on a syslog
//! (the rules whose `sources` include `syslog`, nothing else). The file is
//! mostly ordinary lines (sshd, cron, systemd, kernel noise) with events
//! the rules look for spread through it.
//!
//! `cargo bench --bench logs_1gib` measures 1 GiB (`LOG_BENCH_MIB` for
//! another size; `LOG_BENCH_NO_GREP=1` leaves GNU grep out). Under
//! `cargo test` it runs on 4 MiB and only checks. Both ways it asserts that
//! the two sides found the same lines:
//!
//! * virt-doctor's event total (the `events` of its log findings) equals
//!   ripgrep's count of lines matching any of the patterns. That holds
//!   because each event line of the file is an event of exactly one rule:
//!   the one line two patterns match, a QEMU OOM kill (LOG001 and LOG002),
//!   is excluded from LOG002 by its `exclude` pattern, so it counts once
//!   on both sides. The file has no events of a rule with `min_count`
//!   (LOG031), which would need several close together to count.
//! * per rule, the events equal `rg -c PATTERN`, or for a rule with an
//!   `exclude`, `rg PATTERN | rg -v -c EXCLUDE`.
//!
//! ripgrep comes from Debian's ripgrep package (`make deps`). Without it
//! the comparison says SKIPPED, or fails under `VIRT_DOCTOR_RG=require`.

#[path = "common.rs"]
mod common;

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const ORDINARY: &[&str] = &[
    "sshd[2211]: Accepted publickey for deploy from 10.20.30.40 port 50122 ssh2: ED25519 SHA256:0bVnH6u0c2cO1eJ0wqG1",
    "CRON[3301]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    "systemd[1]: Started Session 4211 of user deploy.",
    "kernel: [ 8123.551001] audit: type=1400 audit(1644450589.972:424): apparmor=\"DENIED\" operation=\"file_lock\" profile=\"/snap/snapd/14549/usr/lib/snapd/snap-confine\"",
    "libvirtd[1423]: 2026-11-24 01:08:01.123+0000: 1432: info : libvirt version: 9.0.0, package: 9.0.0-4",
    "kernel: [ 8123.600002] br0: port 3(vnet12) entered forwarding state",
    "systemd-networkd[612]: vnet12: Gained IPv6LL",
    "ovs-vswitchd: ovs|00231|bridge|INFO|bridge br-int: added interface tap0e778df8-ca on port 17",
];

const EVENTS: &[&str] = &[
    "kernel: [ 8124.114190] Out of memory: Killed process 6021 (qemu-kvm) total-vm:17432112kB, anon-rss:16123904kB",
    "kernel: [ 8125.646907] watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [qemu-kvm:4588]",
    "kernel: [ 8126.000001] INFO: task qemu-kvm:5120 blocked for more than 120 seconds.",
    "kernel: [ 8127.995102] blk_update_request: I/O error, dev sdb, sector 130611915 op 0x1:(WRITE) flags 0x0",
    "kernel: [ 8128.621694] nf_conntrack: nf_conntrack: table full, dropping packet",
    "kernel: [ 8129.100000] NETDEV WATCHDOG: eno1 (ixgbe): transmit queue 3 timed out",
];

fn peak_rss_kib_children() -> i64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss
}

/// Write `mib` MiB of syslog; returns (bytes, lines, event lines).
fn generate(path: &Path, mib: u64) -> (u64, u64, u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let (mut written, mut lines, mut events) = (0u64, 0u64, 0u64);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut i = 0usize;
    while written < mib << 20 {
        // One event line in 40,000 in a full run; the 4 MiB check keeps
        // the same mix but more often, so every event kind is present.
        let every = if mib >= 256 { 40_000 } else { 500 };
        let body = if i % every == 7 {
            events += 1;
            EVENTS[(i / every) % EVENTS.len()]
        } else {
            ORDINARY[i % ORDINARY.len()]
        };
        let secs = i / 100;
        let line = format!(
            "Nov 24 {:02}:{:02}:{:02} kvm-host-17 {body}\n",
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60
        );
        w.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        lines += 1;
        i += 1;
    }
    w.flush().unwrap();
    (written, lines, events)
}

/// A rule's regex as ripgrep takes it alongside others: named groups
/// repeat across patterns (pid, dev), plain groups match the same lines.
fn for_rg(pattern: &str) -> String {
    regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>")
        .unwrap()
        .replace_all(pattern, "(")
        .into_owned()
}

/// `rg -c` over `log` with `patterns`: the number of matching lines.
fn rg_count(patterns: &[String], log: &Path) -> u64 {
    let mut rg = Command::new("rg");
    rg.arg("-c");
    for p in patterns {
        rg.arg("-e").arg(p);
    }
    let out = rg.arg(log).output().expect("rg runs");
    // rg exits 1 when nothing matched.
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "rg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// Lines matching `pattern` but not `exclude`: `rg PATTERN | rg -v -c EXCLUDE`.
fn rg_count_excluding(pattern: &str, exclude: &str, log: &Path) -> u64 {
    let mut first = Command::new("rg")
        .arg("-e")
        .arg(pattern)
        .arg(log)
        .stdout(Stdio::piped())
        .spawn()
        .expect("rg runs");
    let out = Command::new("rg")
        .args(["-v", "-c", "-e", exclude])
        .stdin(first.stdout.take().unwrap())
        .output()
        .expect("rg runs");
    first.wait().expect("rg ends");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn main() {
    if common::filtered_out("logs_1gib") {
        return;
    }
    let mib = common::size("LOG_BENCH_MIB", 1024, 4);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("var/log/messages");
    let (bytes, lines, event_lines) = generate(&log, mib);
    println!(
        "generated {} MiB, {lines} lines, {event_lines} event lines",
        bytes >> 20
    );

    // Exactly what virt-doctor runs on a syslog file.
    let catalog = virt_doctor::rules::Catalog::load(&[]).unwrap();
    let rules: Vec<_> = catalog
        .log_rules
        .iter()
        .filter(|r| r.sources.iter().any(|s| s == "syslog"))
        .collect();
    let patterns: Vec<String> = rules.iter().map(|r| for_rg(r.pattern.as_str())).collect();

    let bin = env!("CARGO_BIN_EXE_virt-doctor");
    let t = Instant::now();
    let out = Command::new(bin)
        .args(["analyze", dir.path().to_str().unwrap()])
        .args(["--select", "LOG", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    let ours = t.elapsed().as_secs_f64();
    let rss = peak_rss_kib_children();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "virt-doctor JSON: {e}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut per_rule: BTreeMap<String, u64> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        let events = f["events"]
            .as_u64()
            .unwrap_or_else(|| panic!("a log finding without `events`: {f}"));
        *per_rule
            .entry(f["rule"].as_str().unwrap().to_owned())
            .or_default() += events;
    }
    let total: u64 = per_rule.values().sum();
    println!(
        "virt-doctor analyze ({} syslog rules, one pass): {ours:.2} s = {:.0} MB/s, peak RSS {} MiB, {total} events in {} findings",
        rules.len(),
        bytes as f64 / 1e6 / ours,
        rss / 1024,
        report["findings"].as_array().unwrap().len()
    );
    assert_eq!(
        total, event_lines,
        "every generated event line is an event: {per_rule:?}"
    );

    if Command::new("rg").arg("--version").output().is_err() {
        assert!(
            !common::required("VIRT_DOCTOR_RG"),
            "VIRT_DOCTOR_RG=require but rg is not on PATH (`make deps` installs ripgrep)"
        );
        println!("SKIPPED the ripgrep comparison: rg is not installed (apt-get install ripgrep)");
        return;
    }
    let t = Instant::now();
    let matching = rg_count(&patterns, &log);
    let theirs = t.elapsed().as_secs_f64();
    println!(
        "rg -c with the same {} patterns: {theirs:.2} s = {:.0} MB/s, {matching} matching lines; virt-doctor/rg = {:.2}",
        patterns.len(),
        bytes as f64 / 1e6 / theirs,
        ours / theirs
    );
    assert_eq!(
        total, matching,
        "virt-doctor's events and ripgrep's matching lines (see the exclusions at the top of bench/logs_1gib.rs)"
    );
    for rule in &rules {
        let pattern = for_rg(rule.pattern.as_str());
        let expected = match &rule.exclude {
            None => rg_count(&[pattern], &log),
            Some(x) => rg_count_excluding(&pattern, x.as_str(), &log),
        };
        let got = per_rule.get(&rule.code).copied().unwrap_or(0);
        assert_eq!(
            got, expected,
            "{}: virt-doctor's events and ripgrep's lines",
            rule.code
        );
    }
    println!("per rule: {per_rule:?}, equal to ripgrep's counts");

    // GNU grep -P takes ~17 times longer than rg: for the full run only,
    // and skippable there (LOG_BENCH_NO_GREP=1).
    if !common::measuring() || std::env::var_os("LOG_BENCH_NO_GREP").is_some() {
        return;
    }
    let joined = patterns.join("|");
    let t = Instant::now();
    if let Ok(o) = Command::new("grep")
        .args(["-c", "-P", &joined])
        .arg(&log)
        .output()
    {
        println!(
            "grep -c -P with the patterns joined: {:.2} s ({} matching lines{})",
            t.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&o.stdout).trim(),
            String::from_utf8_lossy(&o.stderr).trim()
        );
    }
}
