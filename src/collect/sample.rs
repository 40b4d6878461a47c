//! Two runtime samples: the rates no single file holds.
//!
//! Counters in `/proc` only mean something as a difference, so the
//! collector reads them twice, `--interval` seconds apart, and keeps both
//! readings (not the rates) in the capture. The analysis derives the rates
//! from the two readings, so `analyze` of a capture computes exactly what
//! `scan` computed. Each reading carries `/proc/uptime`, whose difference
//! is the interval the kernel saw.
//!
//! Per domain, the QEMU process's vCPU threads (named `CPU <n>/KVM`) are
//! sampled through `/proc/<pid>/task/<tid>/schedstat`, whose second field
//! is the time the thread spent runnable but waiting for a CPU: the
//! host-side view of the guest's steal time.

use std::time::Instant;

use crate::snapshot::Snapshot;

/// Where sample `n` keeps its files: `virt-doctor/samples/<n>/proc/...`.
pub const DIR: &str = "virt-doctor/samples";
/// `<domain> <pid>` per line: whose vCPU threads were sampled.
pub const PIDS_PATH: &str = "virt-doctor/samples/domain-pids";

const HOST_FILES: &[&str] = &[
    "proc/uptime",
    "proc/stat",
    "proc/diskstats",
    "proc/net/dev",
    "proc/pressure/cpu",
    "proc/pressure/memory",
    "proc/pressure/io",
];

pub struct Sampler {
    pub started: Instant,
    pids: Vec<(String, u32)>,
    first: Vec<(String, Vec<u8>)>,
}

impl Sampler {
    pub fn start(root: &Snapshot) -> Sampler {
        let started = Instant::now();
        let pids = qemu_pids(root);
        let first = read_sample(root, 0, &pids);
        Sampler {
            started,
            pids,
            first,
        }
    }

    /// The second sample; returns every sample file and the seconds
    /// between the two samples.
    pub fn finish(self, root: &Snapshot) -> (Vec<(String, Vec<u8>)>, f64) {
        let interval = self.started.elapsed().as_secs_f64();
        let mut files = self.first;
        files.extend(read_sample(root, 1, &self.pids));
        let list: String = self
            .pids
            .iter()
            .map(|(name, pid)| format!("{name} {pid}\n"))
            .collect();
        files.push((PIDS_PATH.to_owned(), list.into_bytes()));
        (files, (interval * 1000.0).round() / 1000.0)
    }
}

fn read_sample(root: &Snapshot, n: usize, pids: &[(String, u32)]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for path in HOST_FILES {
        if let Ok(c) = root.read(path, 4 << 20) {
            out.push((format!("{DIR}/{n}/{path}"), c.bytes));
        }
    }
    for (_, pid) in pids {
        let Ok(tasks) = root.list(&format!("proc/{pid}/task")) else {
            continue;
        };
        for (tid, _) in tasks {
            let base = format!("proc/{pid}/task/{tid}");
            let Ok(comm) = root.read(&format!("{base}/comm"), 256) else {
                continue;
            };
            if !is_vcpu_thread(&String::from_utf8_lossy(&comm.bytes)) {
                continue;
            }
            if let Ok(s) = root.read(&format!("{base}/schedstat"), 256) {
                out.push((format!("{DIR}/{n}/{base}/comm"), comm.bytes));
                out.push((format!("{DIR}/{n}/{base}/schedstat"), s.bytes));
            }
        }
    }
    out
}

/// QEMU names its vCPU threads `CPU 0/KVM` (`CPU 0/TCG` under emulation,
/// which is sampled too: it is the same contention).
pub fn is_vcpu_thread(comm: &str) -> bool {
    let comm = comm.trim();
    comm.strip_prefix("CPU ")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(n, accel)| n.parse::<u32>().is_ok() && matches!(accel, "KVM" | "TCG"))
}

/// Running domains' QEMU pids: libvirt's pid files, else QEMU processes
/// found by their `-name guest=<name>` argument (pid files are root-only).
fn qemu_pids(root: &Snapshot) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    for pattern in ["run/libvirt/qemu/*.pid", "var/run/libvirt/qemu/*.pid"] {
        for m in root.glob(pattern) {
            let (Some(name), Ok(c)) = (m.captures.first(), root.read(&m.path, 64)) else {
                continue;
            };
            if let Ok(pid) = String::from_utf8_lossy(&c.bytes).trim().parse::<u32>() {
                if !out.iter().any(|(n, _)| n == name) {
                    out.push((name.clone(), pid));
                }
            }
        }
    }
    if !out.is_empty() {
        return out;
    }
    for m in root.glob("proc/*/cmdline") {
        let Some(pid) = m.captures.first().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(c) = root.read(&m.path, 1 << 20) else {
            continue;
        };
        if let Some(name) = guest_name(&c.bytes) {
            out.push((name, pid));
        }
    }
    out
}

/// `qemu-system-x86_64 ... -name guest=web01,debug-threads=on ...` ->
/// `web01` (arguments are NUL-separated in `/proc/<pid>/cmdline`).
fn guest_name(cmdline: &[u8]) -> Option<String> {
    let mut args = cmdline.split(|&b| b == 0);
    let program = String::from_utf8_lossy(args.next()?);
    if !program.contains("qemu") {
        return None;
    }
    while let Some(arg) = args.next() {
        if arg == b"-name" {
            let value = String::from_utf8_lossy(args.next()?);
            let first = value.split(',').next()?;
            return Some(first.strip_prefix("guest=").unwrap_or(first).to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcpu_threads_are_recognised_by_name() {
        assert!(is_vcpu_thread("CPU 0/KVM\n"));
        assert!(is_vcpu_thread("CPU 15/TCG"));
        assert!(!is_vcpu_thread("qemu-system-x86"));
        assert!(!is_vcpu_thread("CPU x/KVM"));
        assert!(!is_vcpu_thread("IO mon_iothread"));
    }

    #[test]
    fn guest_names_come_from_the_name_argument() {
        let cmd = b"/usr/bin/qemu-system-x86_64\0-name\0guest=web01,debug-threads=on\0-m\x00512\0";
        assert_eq!(guest_name(cmd).as_deref(), Some("web01"));
        assert_eq!(
            guest_name(b"/usr/bin/qemu-kvm\0-name\0db\0").as_deref(),
            Some("db")
        );
        assert_eq!(guest_name(b"/bin/bash\0-name\0x\0"), None);
    }
}
