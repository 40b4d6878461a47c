//! The log rules over generated syslogs, against ripgrep doing the same
//! work, in one run:
//!
//! * **short lines**: 256 MiB of ~80-byte lines (sshd, cron, systemd
//!   noise) with rare events, where a per-line cost shows most;
//! * **mixed**: 1 GiB of lines of every length, a long audit record every
//!   97 lines and a 9 KiB one every 1,009.
//!
//! On each, `virt-doctor analyze DIR --select LOG` (the real binary: every
//! rule that reads a syslog, one pass) is timed with its own peak RSS, and
//! so are `rg -c` given exactly those rules' regexes, and `rg -c -F` given
//! only the literals the rules require (what virt-doctor searches for
//! before any regex runs). Targets: at most 0.5x the time of `rg -c` with
//! the regexes, at most 3x `rg -c -F` with the literals, peak RSS at most
//! 64 MiB; figures in bench/README.md, never assertions.
//!
//! `cargo bench --bench logs_1gib` runs at full size (`LOG_BENCH_SHORT_MIB`
//! and `LOG_BENCH_MIB` for others; `LOG_BENCH_NO_GREP=1` leaves GNU grep,
//! 40 s a GiB, out). Under `cargo test`: 4 MiB each, checks only. Both
//! ways it asserts that the two sides found the same lines:
//!
//! * virt-doctor's lines read equal the lines generated;
//! * its event total (the `events` of its log findings) equals ripgrep's
//!   count of lines matching any of the regexes. That holds because each
//!   event line is an event of exactly one rule: the one line two patterns
//!   match, a QEMU OOM kill (LOG001 and LOG002), is excluded from LOG002 by
//!   its `exclude` pattern, so it counts once on both sides. The files have
//!   no events of a rule with `min_count` (LOG031);
//! * per rule, the events equal `rg -c PATTERN`, or for a rule with an
//!   `exclude`, `rg PATTERN | rg -v -c EXCLUDE`;
//! * the literal search finds at least the lines the regexes match.
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

/// About 52 bytes each: with the 28-byte stamp and host, ~80-byte lines.
const SHORT: &[&str] = &[
    "systemd[1]: Started Session 4211 of user deploy.",
    "CRON[3301]: (root) CMD (debian-sa1 1 1 > /dev/null)",
    "sshd[2211]: Disconnected from user deploy port 501",
    "systemd-networkd[612]: vnet12: Gained IPv6LL again",
    "kernel: [ 8123.600002] br0: port 3(vnet12) learning",
    "chronyd[801]: Selected source 10.20.30.1 (ntp.lan)",
];

const EVENTS: &[&str] = &[
    "kernel: [ 8124.114190] Out of memory: Killed process 6021 (qemu-kvm) total-vm:17432112kB, anon-rss:16123904kB",
    "kernel: [ 8125.646907] watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [qemu-kvm:4588]",
    "kernel: [ 8126.000001] INFO: task qemu-kvm:5120 blocked for more than 120 seconds.",
    "kernel: [ 8127.995102] blk_update_request: I/O error, dev sdb, sector 130611915 op 0x1:(WRITE) flags 0x0",
    "kernel: [ 8128.621694] nf_conntrack: nf_conntrack: table full, dropping packet",
    "kernel: [ 8129.100000] NETDEV WATCHDOG: eno1 (ixgbe): transmit queue 3 timed out",
];

#[derive(Clone, Copy)]
enum Mix {
    Short,
    Mixed,
}

/// Write `mib` MiB of syslog; returns (bytes, lines, event lines).
fn generate(path: &Path, mib: u64, mix: Mix) -> (u64, u64, u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let (mut written, mut lines, mut events) = (0u64, 0u64, 0u64);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    // An audit record of a long command line, hex-encoded as auditd does.
    let long_audit = format!(
        "audit: type=1327 audit(1644450589.972:425): proctitle={}",
        "2F7573722F62696E2F71656D752D73797374656D2D7838365F3634".repeat(26)
    );
    let huge_audit = format!(
        "audit: type=1327 audit(1644450589.972:426): proctitle={}",
        "2F7573722F62696E2F71656D752D73797374656D2D7838365F3634".repeat(170)
    );
    let mut i = 0usize;
    while written < mib << 20 {
        // One event line in 40,000 in a full run; the 4 MiB check keeps
        // the same mix but more often, so every event kind is present.
        let every = if mib >= 256 { 40_000 } else { 500 };
        let body = if i % every == 7 {
            events += 1;
            EVENTS[(i / every) % EVENTS.len()]
        } else {
            match mix {
                Mix::Short => SHORT[i % SHORT.len()],
                Mix::Mixed if i % 1009 == 5 => &huge_audit,
                Mix::Mixed if i % 97 == 3 => &long_audit,
                Mix::Mixed => ORDINARY[i % ORDINARY.len()],
            }
        };
        let line = common::syslog_line(i, "kvm-host-17", body);
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

/// `rg -c [-F]` over `log` with `patterns`: the number of matching lines
/// and the seconds it took.
fn rg_count(patterns: &[String], fixed: bool, log: &Path) -> (u64, f64) {
    let mut rg = Command::new("rg");
    rg.arg("-c");
    if fixed {
        rg.arg("-F");
    }
    for p in patterns {
        rg.arg("-e").arg(p);
    }
    let t = Instant::now();
    let out = rg.arg(log).output().expect("rg runs");
    let seconds = t.elapsed().as_secs_f64();
    // rg exits 1 when nothing matched.
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "rg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    (count, seconds)
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
    // Exactly what virt-doctor runs on a syslog file.
    let catalog = virt_doctor::rules::Catalog::load(&[]).unwrap();
    let rules: Vec<_> = catalog
        .log_rules
        .iter()
        .filter(|r| r.sources.iter().any(|s| s == "syslog"))
        .collect();
    let patterns: Vec<String> = rules.iter().map(|r| for_rg(r.pattern.as_str())).collect();
    let mut literals: Vec<String> = rules
        .iter()
        .flat_map(|r| virt_doctor::logs::literals::required(r.pattern.as_str()).unwrap())
        .collect();
    literals.sort();
    literals.dedup();
    let have_rg = Command::new("rg").arg("--version").output().is_ok();
    if !have_rg {
        assert!(
            !common::required("VIRT_DOCTOR_RG"),
            "VIRT_DOCTOR_RG=require but rg is not on PATH (`make deps` installs ripgrep)"
        );
        println!("SKIPPED the ripgrep comparison: rg is not installed (apt-get install ripgrep)");
    }
    println!(
        "{} syslog rules; {} required literals",
        rules.len(),
        literals.len()
    );

    for (label, mix, mib) in [
        (
            "short lines",
            Mix::Short,
            common::size("LOG_BENCH_SHORT_MIB", 256, 4),
        ),
        ("mixed", Mix::Mixed, common::size("LOG_BENCH_MIB", 1024, 4)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("var/log/messages");
        let (bytes, lines, event_lines) = generate(&log, mib, mix);
        let mb = bytes as f64 / 1e6;
        let out_path = dir.path().join("report.json");
        let (code, ours, rss) = common::measured(
            Command::new(env!("CARGO_BIN_EXE_virt-doctor"))
                .args(["analyze", dir.path().to_str().unwrap()])
                .args(["--select", "LOG", "--format", "json", "--fail-on", "never"])
                .stdout(std::fs::File::create(&out_path).unwrap()),
        );
        assert_eq!(code, 0, "virt-doctor exited with {code}");
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
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
        assert_eq!(
            common::log_detail(&report, "var/log/messages"),
            Some(serde_json::json!(format!("{lines} lines read"))),
            "{label}: every line read"
        );
        assert_eq!(
            total, event_lines,
            "{label}: every generated event line is an event: {per_rule:?}"
        );
        println!(
            "{label}: {} MiB, {lines} lines, {event_lines} event lines\n  virt-doctor analyze: {ours:.3} s = {:.0} MB/s, peak RSS {} MiB, {total} events",
            bytes >> 20,
            mb / ours,
            rss / 1024
        );
        if !have_rg {
            continue;
        }
        let (matching, rg_regex) = rg_count(&patterns, false, &log);
        assert_eq!(
            total, matching,
            "{label}: virt-doctor's events and ripgrep's matching lines (see the exclusions at the top of bench/logs_1gib.rs)"
        );
        let (candidates, rg_literals) = rg_count(&literals, true, &log);
        assert!(
            candidates >= matching,
            "{label}: the literals find every line the regexes do ({candidates} < {matching})"
        );
        println!(
            "  rg -c, the {} regexes: {rg_regex:.3} s = {:.0} MB/s, {matching} lines; virt-doctor/rg = {:.2} (target 0.5)",
            patterns.len(),
            mb / rg_regex,
            ours / rg_regex
        );
        println!(
            "  rg -c -F, the {} literals: {rg_literals:.3} s = {:.0} MB/s, {candidates} lines; virt-doctor/rg = {:.2} (target 3)",
            literals.len(),
            mb / rg_literals,
            ours / rg_literals
        );
        if let Mix::Short = mix {
            for rule in &rules {
                let pattern = for_rg(rule.pattern.as_str());
                let expected = match &rule.exclude {
                    None => rg_count(&[pattern], false, &log).0,
                    Some(x) => rg_count_excluding(&pattern, x.as_str(), &log),
                };
                let got = per_rule.get(&rule.code).copied().unwrap_or(0);
                assert_eq!(
                    got, expected,
                    "{}: virt-doctor's events and ripgrep's lines",
                    rule.code
                );
            }
            println!("  per rule: {per_rule:?}, equal to ripgrep's counts");
        }
        // GNU grep -P takes ~17 times longer than rg: for the full run
        // only, and skippable there (LOG_BENCH_NO_GREP=1).
        if let Mix::Mixed = mix {
            if common::measuring() && std::env::var_os("LOG_BENCH_NO_GREP").is_none() {
                let t = Instant::now();
                if let Ok(o) = Command::new("grep")
                    .args(["-c", "-P", &patterns.join("|")])
                    .arg(&log)
                    .output()
                {
                    println!(
                        "  grep -c -P with the regexes joined: {:.2} s ({} matching lines{})",
                        t.elapsed().as_secs_f64(),
                        String::from_utf8_lossy(&o.stdout).trim(),
                        String::from_utf8_lossy(&o.stderr).trim()
                    );
                }
            }
        }
    }
}
