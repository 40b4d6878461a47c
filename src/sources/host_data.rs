//! What the parsers produce, before facts are derived from it.
//!
//! Every field is filled by the source table's store functions and may be
//! empty: a snapshot never has to contain anything. `facts::build` turns
//! this into the documented model, choosing between overlapping sources
//! (sysfs topology over cpuinfo over lscpu, and so on).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::parse::{
    block::BlockQueue, capabilities::Capabilities, cmdline::Cmdline, cpuinfo::Cpuinfo,
    diskstats::DiskStat, domain::Domain, domain_snapshot::SnapshotMeta, loadavg::Loadavg,
    lscpu::Lscpu, meminfo::Meminfo, netdev::NetDev, numactl, pressure::Pressure, stat::Stat,
};

#[derive(Debug, Default)]
pub struct HostData {
    pub hostname: Option<String>,
    pub kernel: Option<String>,
    /// libvirt and QEMU versions (`virsh version`, else installed packages).
    pub virt_versions: Option<crate::parse::virt_versions::VirtVersions>,
    pub cmdline: Option<Cmdline>,
    pub meminfo: Option<Meminfo>,
    pub cpuinfo: Option<Cpuinfo>,
    pub lscpu: Option<Lscpu>,
    /// sysfs topology per logical CPU.
    pub cpu_topology: BTreeMap<u32, CpuTopology>,
    /// `online`, `isolated`, `present`, ... from `sys/devices/system/cpu`.
    pub cpu_lists: BTreeMap<String, Vec<u32>>,
    pub cpufreq_governors: BTreeMap<u32, String>,
    pub loadavg: Option<Loadavg>,
    pub uptime_seconds: Option<f64>,
    pub stat: Option<Stat>,
    pub pressure: BTreeMap<String, Pressure>,
    pub diskstats: Option<Vec<DiskStat>>,
    pub netdev: Option<Vec<NetDev>>,
    pub numa: BTreeMap<u32, NumaNode>,
    pub numactl: Option<BTreeMap<u32, numactl::Node>>,
    /// Page size in KiB -> pool.
    pub hugepages: BTreeMap<u64, HugepagePool>,
    pub thp_enabled: Option<String>,
    pub thp_defrag: Option<String>,
    pub ksm: BTreeMap<String, u64>,
    pub sysctl: BTreeMap<String, String>,
    pub block: BTreeMap<String, BlockQueue>,
    /// Device node below `/dev` -> present.
    pub devices: BTreeMap<String, bool>,
    pub domains: BTreeMap<String, DomainEntry>,
    pub snapshots: BTreeMap<String, Vec<SnapshotMeta>>,
    pub capabilities: Option<Capabilities>,
    pub logs: Vec<LogFile>,
    /// Names of running programs, when the snapshot shows them.
    pub processes: Option<std::collections::BTreeSet<String>>,
    /// Domain XML files with problems libvirt would refuse them for, each
    /// with every problem and its line (VD003).
    pub invalid_domain_xml: Vec<InvalidXml>,
    /// Mounted filesystems and how full they are (`df`), when captured.
    pub filesystems: Option<Vec<crate::parse::df::Filesystem>>,
    /// `date` as the snapshot recorded it (Unix seconds, UTC).
    pub date: Option<i64>,
    /// Loaded kernel modules (`/proc/modules`, `lsmod`), when captured.
    pub modules: Option<std::collections::BTreeSet<String>>,
    /// libvirt's configuration files present (`etc/libvirt/qemu.conf`, …):
    /// libvirt is installed.
    pub libvirt_config: Vec<String>,
    /// Domain name -> QEMU pid, from `run/libvirt/qemu/<name>.pid`.
    pub domain_pids: BTreeMap<String, u32>,
    /// NIC name -> ring sizes (`ethtool -g`).
    pub nic_rings: BTreeMap<String, crate::parse::ethtool::Rings>,
    /// A `virt-doctor collect` capture's description of itself.
    pub capture: Option<crate::parse::capture::CaptureInfo>,
    /// What `KVM_GET_API_VERSION` on /dev/kvm answered at capture time.
    pub kvm_probe: Option<KvmProbe>,
    /// Domain name -> state from `virsh list --all` (`running`, `shut off`).
    pub domain_states: BTreeMap<String, String>,
    /// Domain name -> `virsh domstats` field -> value.
    pub domain_stats: BTreeMap<String, BTreeMap<String, String>>,
    /// Runtime samples by index (0 = first).
    pub samples: BTreeMap<u32, Sample>,
    /// Enabled cgroup controllers (v2 `cgroup.controllers`, else v1).
    pub cgroup_controllers: Option<std::collections::BTreeSet<String>>,
    /// The cgroup version of the `cpu` controller (1 or 2).
    pub cgroup_cpu_version: Option<u8>,
    /// IOMMU group numbers (`sys/kernel/iommu_groups/<n>`).
    pub iommu_groups: Option<std::collections::BTreeSet<u32>>,
    /// How many IOMMU groups a capture counted: the only way to say "the
    /// directory exists and is empty", which no copied file can.
    pub iommu_group_count: Option<usize>,
}

/// A domain XML file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvalidXml {
    pub path: String,
    pub problems: Vec<crate::parse::Problem>,
}

pub use crate::parse::capture::kvm::KvmProbe;

/// One runtime sample (see `crate::collect`): counters read at one moment.
#[derive(Debug, Default, Clone)]
pub struct Sample {
    pub uptime: Option<f64>,
    pub stat: Option<Stat>,
    pub diskstats: Option<Vec<DiskStat>>,
    pub netdev: Option<Vec<NetDev>>,
    pub pressure: BTreeMap<String, Pressure>,
    /// (QEMU pid, thread id) -> the vCPU thread's counters.
    pub vcpu_threads: BTreeMap<(u32, u32), VcpuThread>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VcpuThread {
    /// `n` of the thread name `CPU n/KVM`.
    pub vcpu: Option<u32>,
    pub schedstat: Option<crate::parse::schedstat::Schedstat>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CpuTopology {
    pub package: Option<u32>,
    pub core: Option<u32>,
    pub thread_siblings: Option<Vec<u32>>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct NumaNode {
    pub cpus: Option<Vec<u32>>,
    pub meminfo: Option<Meminfo>,
    pub distances: Option<Vec<u32>>,
    pub hugepages: BTreeMap<u64, HugepagePool>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HugepagePool {
    pub total: Option<u64>,
    pub free: Option<u64>,
    pub reserved: Option<u64>,
    pub surplus: Option<u64>,
}

/// Where a domain definition was read from, best first. A running domain's
/// live XML describes what QEMU actually runs; the persistent definition
/// may have been edited since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainOrigin {
    /// `run/libvirt/qemu/<name>.xml`: the running domain's status file.
    Live,
    /// `virsh dumpxml` output captured by sosreport.
    Dumpxml,
    /// `etc/libvirt/qemu/<name>.xml`: the persistent definition.
    Persistent,
}

#[derive(Debug, Clone)]
pub struct DomainEntry {
    pub domain: Domain,
    pub origin: DomainOrigin,
    pub path: String,
    /// A persistent definition exists (whether or not it was the one used).
    pub persistent: bool,
    /// A live status file exists: the domain was running at capture time.
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogFile {
    /// `dmesg`, `syslog`, `journal`, `qemu`, `libvirtd`.
    pub kind: &'static str,
    pub path: String,
    pub bytes: Option<u64>,
}
