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

use crate::parse::capture::paths::{self, fill, sampled_from};
use crate::parse::capture::vcpu::is_vcpu_thread;
use crate::snapshot::Snapshot;

/// The host's counters each sample copies, each kept at its pattern
/// filled with the sample's number (and the pressure resource).
const HOST_FILES: &[&str] = &[
    paths::SAMPLE_UPTIME,
    paths::SAMPLE_STAT,
    paths::SAMPLE_DISKSTATS,
    paths::SAMPLE_NETDEV,
];
const PRESSURE: &[&str] = &["cpu", "memory", "io"];

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
        files.push((
            paths::SAMPLED_PIDS.to_owned(),
            pids_text(&self.pids).into_bytes(),
        ));
        (files, (interval * 1000.0).round() / 1000.0)
    }
}

/// [`paths::SAMPLED_PIDS`]: `<domain> <pid>` per line.
pub(super) fn pids_text(pids: &[(String, u32)]) -> String {
    pids.iter()
        .map(|(name, pid)| format!("{name} {pid}\n"))
        .collect()
}

fn read_sample(root: &Snapshot, n: usize, pids: &[(String, u32)]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut copy = |pattern: &'static str, parts: &[&dyn std::fmt::Display]| {
        let host = fill(sampled_from(pattern), parts);
        let c = root.read(&host, 4 << 20).ok()?;
        let mut all: Vec<&dyn std::fmt::Display> = vec![&n];
        all.extend(parts);
        out.push((fill(pattern, &all), c.bytes));
        Some(())
    };
    for pattern in HOST_FILES {
        copy(pattern, &[]);
    }
    for resource in PRESSURE {
        copy(paths::SAMPLE_PRESSURE, &[resource]);
    }
    for (_, pid) in pids {
        let Ok(tasks) = root.list(&format!("proc/{pid}/task")) else {
            continue;
        };
        for (tid, _) in tasks {
            let comm_path = fill(sampled_from(paths::SAMPLE_VCPU_COMM), &[pid, &tid]);
            let Ok(comm) = root.read(&comm_path, 256) else {
                continue;
            };
            if !is_vcpu_thread(&String::from_utf8_lossy(&comm.bytes)) {
                continue;
            }
            let stat_path = fill(sampled_from(paths::SAMPLE_VCPU_SCHEDSTAT), &[pid, &tid]);
            if let Ok(s) = root.read(&stat_path, 256) {
                out.push((fill(paths::SAMPLE_VCPU_COMM, &[&n, pid, &tid]), comm.bytes));
                out.push((
                    fill(paths::SAMPLE_VCPU_SCHEDSTAT, &[&n, pid, &tid]),
                    s.bytes,
                ));
            }
        }
    }
    out
}

/// Running domains' QEMU pids: libvirt's pid files, else QEMU processes
/// found by their `-name guest=<name>` argument (pid files are root-only).
fn qemu_pids(root: &Snapshot) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    for pattern in crate::sources::PID_FILES {
        for m in root.glob(pattern) {
            let (Some(name), Ok(c)) = (m.captures.first(), root.read(&m.path, 64)) else {
                continue;
            };
            if let Some(pid) =
                crate::parse::pidfile::parse(&String::from_utf8_lossy(&c.bytes)).value
            {
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
