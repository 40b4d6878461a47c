//! `facts` on the machine running the tests, checked against independent
//! readers: the `procfs` crate, `nproc` and `lscpu`.

mod common;

use std::process::Command;

use procfs::{Current, CurrentSI};
use virt_doctor::facts;
use virt_doctor::snapshot::Snapshot;

fn command_output(argv: &[&str]) -> Option<String> {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .env("LC_ALL", "C")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn live_facts_agree_with_procfs_nproc_and_lscpu() {
    let f = facts::gather(&Snapshot::live());
    let mem = procfs::Meminfo::current().expect("procfs reads /proc/meminfo");
    // procfs converts kB to bytes.
    assert_eq!(f.host.memory.total_kib, Some(mem.mem_total / 1024));
    assert_eq!(f.host.memory.swap_total_kib, Some(mem.swap_total / 1024));
    let stat = procfs::KernelStats::current().expect("procfs reads /proc/stat");
    assert_eq!(f.host.boot_time, Some(stat.btime as i64));
    assert_eq!(f.host.cpu_times.len(), stat.cpu_time.len());

    let nproc: u32 = command_output(&["nproc", "--all"])
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(f.host.cpu.logical, Some(nproc));
    if let Some(lscpu) = command_output(&["lscpu"]) {
        let cpus = lscpu
            .lines()
            .find_map(|l| l.strip_prefix("CPU(s):"))
            .map(|v| v.trim().parse::<u32>().unwrap());
        assert_eq!(f.host.cpu.logical, cpus);
        let sockets = lscpu
            .lines()
            .find_map(|l| l.strip_prefix("Socket(s):"))
            .map(|v| v.trim().parse::<u32>().unwrap());
        if sockets.is_some() {
            assert_eq!(f.host.cpu.sockets, sockets);
        }
    } else {
        eprintln!("lscpu not installed: compared with nproc only");
    }
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(f.host.hostname.as_deref(), Some(hostname.trim()));
}
