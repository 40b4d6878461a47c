//! `collect` and `scan` on the machine running the benchmark, as an
//! operator runs them: the host's files, libvirt at qemu:///system (when it
//! answers; `VIRT_DOCTOR_BENCH_URI` to change, `none` to skip), no sampling
//! interval (the 2 s sleep would dominate and is not work). Best of 5.
//! Run with `cargo bench --bench scan_live`; under `cargo test`, one round
//! that checks the capture: the host's files are there, libvirt answered
//! whenever `virsh` says libvirtd does, and no rule failed.

#[path = "common.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use virt_doctor::analysis;
use virt_doctor::collect::{self, Options};
use virt_doctor::config::Config;
use virt_doctor::logs::Window;
use virt_doctor::rules::Catalog;
use virt_doctor::snapshot::Kind;

fn main() {
    if common::filtered_out("scan_live") {
        return;
    }
    let rounds = if common::measuring() { 5 } else { 1 };
    let uri = std::env::var("VIRT_DOCTOR_BENCH_URI").unwrap_or_else(|_| "qemu:///system".into());
    // Whether libvirtd answers here, asked the way an operator would.
    let libvirtd_answers = uri != "none"
        && std::process::Command::new("virsh")
            .args(["-r", "-c", &uri, "version"])
            .output()
            .is_ok_and(|o| o.status.success());
    let opts = Options {
        sysroot: "/".into(),
        connect: (uri != "none").then_some(uri),
        interval: 0.0,
        max_log_bytes: 64 << 20,
        redact_hosts: false,
        libvirt_timeout: Duration::from_secs(30),
    };
    let catalog = Catalog::load(&[]).unwrap();
    let config = Config::default();
    let (mut best_collect, mut best_scan) = (f64::MAX, f64::MAX);
    let (mut files, mut bytes, mut findings, mut domains) = (0, 0, 0, 0);
    for _ in 0..rounds {
        let start = Instant::now();
        let capture = collect::collect(&opts);
        assert_eq!(
            capture.info.libvirt.status == "ok",
            libvirtd_answers,
            "libvirt in the capture: {:?}",
            capture.info.libvirt
        );
        assert!(
            capture.file("proc/meminfo").is_some() && capture.file("proc/cpuinfo").is_some(),
            "the host's own files are captured"
        );
        best_collect = best_collect.min(start.elapsed().as_secs_f64());
        files = capture.paths().count();
        bytes = capture
            .paths()
            .filter_map(|p| capture.file(p))
            .map(<[u8]>::len)
            .sum::<usize>();
        domains = capture.info.libvirt.domains;
        let snap = capture.into_snapshot(Kind::Live, Path::new("/"));
        let a = analysis::run(&snap, &catalog, &config, Window::default());
        best_scan = best_scan.min(start.elapsed().as_secs_f64());
        findings = a.findings.len();
        assert!(a.rule_errors.is_empty(), "{:?}", a.rule_errors);
    }
    println!(
        "collect: {:.0} ms ({files} files, {:.1} MiB, {domains} libvirt domains); \
         scan (collect + analysis): {:.0} ms, {findings} findings; best of {rounds}",
        best_collect * 1000.0,
        bytes as f64 / 1048576.0,
        best_scan * 1000.0
    );
}
