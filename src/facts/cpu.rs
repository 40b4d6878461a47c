//! Host CPU facts, reconciled from sysfs topology, `/proc/cpuinfo` and
//! `lscpu` (best first: sysfs is per-CPU and exact; cpuinfo lacks topology
//! on some architectures; lscpu is a summary someone else computed).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::sources::HostData;

#[derive(Debug, Clone, Default, Serialize)]
pub struct CpuFacts {
    /// Online logical CPUs.
    pub logical: Option<u32>,
    pub sockets: Option<u32>,
    pub cores_per_socket: Option<u32>,
    pub threads_per_core: Option<u32>,
    pub model: Option<String>,
    pub vendor: Option<String>,
    /// CPU flags of the first CPU (`/proc/cpuinfo` `flags`); null when
    /// cpuinfo was not captured.
    pub flags: Option<Vec<String>>,
    /// Microcode revision (`/proc/cpuinfo` `microcode`, x86); null when
    /// not shown.
    pub microcode: Option<String>,
    /// `vmx` (Intel VT-x), `svm` (AMD-V), `none` when the CPU flags were
    /// read and have neither, `null` when unknown.
    pub virtualization: Option<String>,
    pub online: Option<Vec<u32>>,
    /// CPUs removed from the scheduler (`isolcpus=`), if captured.
    pub isolated: Option<Vec<u32>>,
    /// Groups of hyper-thread siblings (one entry per physical core with
    /// more than one thread).
    pub thread_siblings: Vec<Vec<u32>>,
    /// cpufreq governor -> number of CPUs using it.
    pub governors: BTreeMap<String, u32>,
    /// Which source the topology came from: `sysfs`, `cpuinfo`, `lscpu`.
    pub topology_source: Option<String>,
}

pub fn build(d: &HostData) -> CpuFacts {
    let mut f = CpuFacts {
        online: d.cpu_lists.get("online").cloned(),
        isolated: d.cpu_lists.get("isolated").cloned(),
        ..CpuFacts::default()
    };
    let ci = d.cpuinfo.as_ref();
    let ls = d.lscpu.as_ref();
    f.logical = f
        .online
        .as_ref()
        .map(|o| o.len() as u32)
        .or(ci.map(|c| c.logical).filter(|n| *n > 0))
        .or((!d.cpu_topology.is_empty()).then_some(d.cpu_topology.len() as u32))
        .or(ls.and_then(|l| l.cpus));
    f.model = ci
        .and_then(|c| c.model.clone())
        .or(ls.and_then(|l| l.model.clone()));
    f.vendor = ci.and_then(|c| c.vendor.clone());
    f.flags = ci
        .filter(|c| !c.flags.is_empty())
        .map(|c| c.flags.iter().cloned().collect());
    f.microcode = ci.and_then(|c| c.microcode.clone());
    f.virtualization = match ci.filter(|c| !c.flags.is_empty()) {
        Some(c) if c.flags.contains("vmx") => Some("vmx".into()),
        Some(c) if c.flags.contains("svm") => Some("svm".into()),
        Some(_) => Some("none".into()),
        None => ls
            .and_then(|l| l.virtualization.as_deref())
            .map(|v| match v {
                "VT-x" => "vmx".to_owned(),
                "AMD-V" => "svm".to_owned(),
                other => other.to_owned(),
            }),
    };
    let sysfs_packages: BTreeSet<u32> = d.cpu_topology.values().filter_map(|t| t.package).collect();
    let sysfs_cores: BTreeSet<(u32, u32)> = d
        .cpu_topology
        .values()
        .filter_map(|t| Some((t.package?, t.core?)))
        .collect();
    let (packages, cores, source) = if !sysfs_cores.is_empty() {
        (
            sysfs_packages.len() as u32,
            sysfs_cores.len() as u32,
            "sysfs",
        )
    } else if let Some(c) = ci.filter(|c| !c.cores.is_empty()) {
        (c.packages.len() as u32, c.cores.len() as u32, "cpuinfo")
    } else {
        (0, 0, "lscpu")
    };
    if source == "lscpu" {
        if let Some(l) = ls {
            f.sockets = l.sockets;
            f.cores_per_socket = l.cores_per_socket;
            f.threads_per_core = l.threads_per_core;
            f.topology_source = Some("lscpu".into());
        }
    } else {
        f.sockets = Some(packages);
        f.cores_per_socket = Some(cores / packages.max(1));
        // Count logical CPUs that have topology, so offline CPUs do not
        // skew threads per core.
        let logical = if source == "sysfs" {
            d.cpu_topology.len() as u32
        } else {
            ci.map_or(0, |c| c.logical)
        };
        f.threads_per_core = Some((logical / cores.max(1)).max(1));
        f.topology_source = Some(source.into());
    }
    let mut groups: BTreeSet<Vec<u32>> = BTreeSet::new();
    for t in d.cpu_topology.values() {
        if let Some(s) = &t.thread_siblings {
            if s.len() > 1 {
                groups.insert(s.clone());
            }
        }
    }
    f.thread_siblings = groups.into_iter().collect();
    for g in d.cpufreq_governors.values() {
        *f.governors.entry(g.clone()).or_default() += 1;
    }
    f
}
