//! A fleet run over 1,000 snapshots: `virt-doctor analyze --manifest`
//! (the real binary) at `-j 1` and `-j 2`, and at a tenth of the hosts, for
//! time, hosts per second per core and peak RSS (the child's, from
//! `wait4`).
//!
//! Each snapshot is a `.tar.gz` of fixtures/fleets/matched/hv1 (a
//! two-socket host with two domains; 172 files, 420 KB) with its own host
//! name and domain names and UUIDs, as a support engineer gets them; ten
//! hosts to a cluster (`--group-by cluster`). Run with `cargo bench
//! --bench fleet_1000`; `BENCH_HOSTS=N` for another count. Under `cargo
//! test`: 6 hosts.
//!
//! Both ways it checks that every host was analyzed and that the record
//! stream has each host's record; the targets (1.7x from `-j 1` to `-j 2`
//! on 2 cores, peak RSS flat in the number of hosts) are figures to
//! read in bench/README.md, not assertions: timing belongs here, not in
//! the tests.

#[path = "common.rs"]
mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    if common::filtered_out("fleet_1000") {
        return;
    }
    let hosts = common::size("BENCH_HOSTS", 1000, 6) as usize;
    let dir = tempfile::tempdir().unwrap();
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fleets/matched/hv1");
    let files = common::read_tree(&base);
    let started = Instant::now();
    let mut manifest = String::new();
    for i in 0..hosts {
        let path = dir.path().join(format!("hv{i:04}.tar.gz"));
        write_host(&path, &files, i);
        manifest.push_str(&format!("{} cluster=c{:03}\n", path.display(), i / 10));
    }
    let m = dir.path().join("fleet.txt");
    std::fs::write(&m, manifest).unwrap();
    println!(
        "fleet_1000: {hosts} snapshots written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let tenth = dir.path().join("tenth.txt");
    let lines: Vec<String> = std::fs::read_to_string(&m)
        .unwrap()
        .lines()
        .take((hosts / 10).max(2))
        .map(str::to_owned)
        .collect();
    std::fs::write(&tenth, lines.join("\n") + "\n").unwrap();
    let one = run(&m, 1, hosts, dir.path());
    let two = run(&m, 2, hosts, dir.path());
    let small = run(&tenth, 2, lines.len(), dir.path());
    println!(
        "fleet_1000: {hosts} hosts: -j 1 {:.2} s ({:.1} hosts/s/core), peak RSS {} MiB; \
         -j 2 {:.2} s ({:.1} hosts/s/core), peak RSS {} MiB; speed-up {:.2}x",
        one.0,
        hosts as f64 / one.0,
        one.1 / 1024,
        two.0,
        hosts as f64 / two.0 / 2.0,
        two.1 / 1024,
        one.0 / two.0
    );
    println!(
        "fleet_1000: {} hosts at -j 2: {:.2} s, peak RSS {} MiB",
        lines.len(),
        small.0,
        small.1 / 1024
    );
}

/// Host `i`: its own name, and its own domain names and UUIDs.
fn write_host(path: &Path, files: &[(PathBuf, Vec<u8>)], i: usize) {
    let file = std::fs::File::create(path).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let top = format!("sosreport-hv{i:04}");
    for (rel, bytes) in files {
        let rel_s = rel.to_string_lossy();
        let bytes: Vec<u8> = if rel_s == "proc/sys/kernel/hostname" {
            format!("kvm-{i:04}\n").into_bytes()
        } else if rel_s.contains("libvirt/qemu/") && rel_s.ends_with(".xml") {
            String::from_utf8_lossy(bytes)
                .replace("<name>db01</name>", &format!("<name>db-{i:04}</name>"))
                .replace("<name>web01</name>", &format!("<name>web-{i:04}</name>"))
                .replace("-40aa01234d1e", &format!("-40aa0123{i:04}"))
                .replace("-7ea6f44b8fcb", &format!("-7ea6f44b{i:04}"))
                .into_bytes()
        } else {
            bytes.clone()
        };
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, format!("{top}/{rel_s}"), bytes.as_slice())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

/// One run: seconds and the child's peak RSS in KiB.
fn run(manifest: &Path, jobs: usize, hosts: usize, dir: &Path) -> (f64, u64) {
    let out_path = dir.join(format!("out-{jobs}-{hosts}.jsonl"));
    let (code, seconds, rss) = common::measured(
        std::process::Command::new(env!("CARGO_BIN_EXE_virt-doctor"))
            .args(["analyze", "--manifest"])
            .arg(manifest)
            .args([
                "--group-by",
                "cluster",
                "--format",
                "jsonl",
                "--fail-on",
                "never",
                "-j",
            ])
            .arg(jobs.to_string())
            .stdout(std::fs::File::create(&out_path).unwrap()),
    );
    assert_eq!(code, 0, "virt-doctor exited with {code}");
    let records = std::fs::read_to_string(&out_path).unwrap();
    let host_records = records
        .lines()
        .filter(|l| l.contains("\"record\":\"host\""))
        .count();
    assert_eq!(host_records, hosts, "every host analyzed");
    assert!(!records.contains("\"record\":\"failed\""));
    (seconds, rss)
}
