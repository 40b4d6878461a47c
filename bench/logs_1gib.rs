//! The log rules over a generated 1 GiB syslog, against ripgrep and GNU
//! grep searching the same patterns. The file is mostly ordinary lines
//! (sshd, cron, systemd, kernel noise) with a few thousand events the
//! rules look for, spread through it. Run with
//! `cargo bench --bench logs_1gib` (needs `rg`, from Debian's ripgrep
//! package, for the comparison; GiB size via LOG_BENCH_MIB).

use std::io::{BufWriter, Write};
use std::process::Command;
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

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("logs_1gib: benchmark; run it with `cargo bench --bench logs_1gib`");
        return;
    }
    let mib: u64 = std::env::var("LOG_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("var/log/messages");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let (mut written, mut lines, mut events) = (0u64, 0u64, 0u64);
    {
        let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&log).unwrap());
        let mut i = 0usize;
        while written < mib << 20 {
            let body = if i % 40_000 == 7 {
                events += 1;
                EVENTS[(i / 40_000) % EVENTS.len()]
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
    }
    println!(
        "generated {} MiB, {lines} lines, {events} event lines",
        written >> 20
    );

    let bin = env!("CARGO_BIN_EXE_virt-doctor");
    let t = Instant::now();
    let out = Command::new(bin)
        .args([
            "analyze",
            dir.path().to_str().unwrap(),
            "--select",
            "LOG",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let ours = t.elapsed().as_secs_f64();
    let rss = peak_rss_kib_children();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("virt-doctor JSON");
    let counted: u64 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["message"].as_str())
        .filter_map(|m| m.split_whitespace().find_map(|w| w.parse::<u64>().ok()))
        .count() as u64;
    println!(
        "virt-doctor analyze (32 log rules, one pass): {ours:.2} s, peak RSS {} MiB, {} findings ({counted} with counts)",
        rss / 1024,
        report["findings"].as_array().unwrap().len()
    );

    let catalog = virt_doctor::rules::Catalog::load(&[]).unwrap();
    // Named groups repeat across patterns (pid, dev); plain groups keep
    // every tool happy and match the same lines.
    let named = regex::Regex::new(r"\(\?P<\w+>").unwrap();
    let patterns: Vec<String> = catalog
        .log_rules
        .iter()
        .map(|r| named.replace_all(r.pattern.as_str(), "(").into_owned())
        .collect();
    let mut rg = Command::new("rg");
    rg.arg("-c");
    for p in &patterns {
        rg.arg("-e").arg(p);
    }
    rg.arg(&log);
    let t = Instant::now();
    match rg.output() {
        Ok(o) => println!(
            "rg -c with the same {} patterns: {:.2} s ({} matching lines{}); virt-doctor/rg = {:.2}",
            patterns.len(),
            t.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&o.stdout).trim(),
            String::from_utf8_lossy(&o.stderr).trim(),
            ours / t.elapsed().as_secs_f64()
        ),
        Err(e) => println!("rg not available ({e}): apt-get install ripgrep"),
    }
    // GNU grep -P takes ~17 times longer than rg: skippable for the
    // 10 GiB run (LOG_BENCH_NO_GREP=1).
    if std::env::var_os("LOG_BENCH_NO_GREP").is_some() {
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
