//! Facts: the typed model of a host that rules and `virt-doctor facts`
//! see, built from [`HostData`] with overlapping sources reconciled and
//! derived values computed.
//!
//! The JSON form is a versioned contract documented in
//! `docs/facts-schema.md`. Absent data is `null`, never a made-up default:
//! a rule must be able to tell "swap is 0" from "we could not read swap".

mod cpu;
mod derived;
mod numa;
pub mod runtime;
pub mod virtualization;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::parse::block::BlockQueue;
use crate::parse::diskstats::DiskStat;
use crate::parse::domain::Domain;
use crate::parse::loadavg::Loadavg;
use crate::parse::netdev::NetDev;
use crate::parse::pressure::Pressure;
use crate::parse::stat::CpuTimes;
use crate::snapshot::{Kind, Snapshot};
use crate::sources::{self, DomainOrigin, HostData, LogFile, SourceStatus};

pub use cpu::CpuFacts;
pub use derived::{Derived, DomainDerived, HugepageDemand, PinOverlap};
pub use numa::{NumaFacts, NumaNodeFacts};

pub const SCHEMA: &str = "virt-doctor/facts/v1";

#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    pub schema: &'static str,
    pub target: Target,
    /// How a `collect`/`scan` capture went (`virt-doctor.json`); null for
    /// other snapshots.
    pub capture: Option<crate::parse::capture::CaptureInfo>,
    pub host: Host,
    pub domains: Vec<DomainFacts>,
    pub derived: Derived,
    /// Domain XML files libvirt would refuse, with every problem and its
    /// line (raised as VD003).
    pub invalid_domain_xml: Vec<crate::sources::InvalidXml>,
    pub logs: Vec<LogFile>,
    pub sources: Vec<SourceStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub kind: Kind,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Host {
    pub hostname: Option<String>,
    pub kernel: Option<String>,
    /// libvirt's version (`virsh version`, else the installed package).
    pub libvirt_version: Option<String>,
    /// QEMU's version (`virsh version`, else the installed package).
    pub qemu_version: Option<String>,
    pub cmdline: Option<String>,
    pub cpu: CpuFacts,
    pub memory: MemoryFacts,
    pub hugepages: Vec<HugepageFacts>,
    pub numa: NumaFacts,
    pub block: Vec<BlockFacts>,
    pub sysctl: BTreeMap<String, String>,
    pub thp: ThpFacts,
    /// `sys/kernel/mm/ksm/*` counters by file name; `null` when not captured.
    pub ksm: Option<BTreeMap<String, u64>>,
    pub pressure: BTreeMap<String, Pressure>,
    pub loadavg: Option<Loadavg>,
    pub uptime_seconds: Option<f64>,
    /// Seconds since the Unix epoch (`btime` in `/proc/stat`).
    pub boot_time: Option<i64>,
    /// When the snapshot was taken (Unix seconds): a capture's own record,
    /// else boot time plus uptime, else the sosreport's `date`. Log
    /// windows and year-less log stamps count from it.
    pub captured_at: Option<i64>,
    pub devices: DeviceFacts,
    pub diskstats: Option<Vec<DiskStat>>,
    pub net: Option<Vec<NetDev>>,
    /// Names of running programs; `null` when the snapshot does not show
    /// processes.
    pub processes: Option<Vec<String>>,
    /// NIC name -> ring sizes from `ethtool -g` (`{rx_max, tx_max, rx, tx}`).
    pub nic_rings: BTreeMap<String, crate::parse::ethtool::Rings>,
    /// meminfo `Hugepagesize`: the size a bare `<hugepages/>` gets.
    pub default_hugepage_kib: Option<u64>,
    /// Per-CPU time counters from `/proc/stat` (USER_HZ ticks since boot).
    pub cpu_times: BTreeMap<u32, CpuTimes>,
    /// `/dev/kvm` asked for its API version at capture time; null when
    /// the snapshot was not made by `collect`/`scan`.
    pub kvm: Option<runtime::KvmFacts>,
    /// Enabled cgroup controllers; null when not captured.
    pub cgroup_controllers: Option<Vec<String>>,
    /// The cgroup version (1 or 2) of the `cpu` controller, through which
    /// libvirt applies `<cputune><shares>`; null when not captured.
    pub cgroup_cpu_version: Option<u8>,
    /// Number of IOMMU groups; null when `sys/kernel/iommu_groups` was not
    /// captured (0 means the IOMMU is off).
    pub iommu_groups: Option<usize>,
    /// Rates over the capture's sampling interval; null without samples.
    pub rates: Option<runtime::Rates>,
    /// Mounted filesystems with sizes (`df`); null when not captured.
    pub filesystems: Option<Vec<crate::parse::df::Filesystem>>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MemoryFacts {
    pub total_kib: Option<u64>,
    pub available_kib: Option<u64>,
    pub free_kib: Option<u64>,
    pub swap_total_kib: Option<u64>,
    pub swap_free_kib: Option<u64>,
    pub committed_as_kib: Option<u64>,
    pub commit_limit_kib: Option<u64>,
    pub anon_hugepages_kib: Option<u64>,
    /// Where these came from: `meminfo` or `free` (a sosreport fallback
    /// that lacks the commit figures).
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HugepageFacts {
    pub size_kib: u64,
    pub total: Option<u64>,
    pub free: Option<u64>,
    pub reserved: Option<u64>,
    pub surplus: Option<u64>,
}

impl HugepageFacts {
    /// The pools of one sysfs directory (host-wide or one node's), by size.
    pub fn from_pools(pools: &BTreeMap<u64, crate::sources::HugepagePool>) -> Vec<HugepageFacts> {
        pools
            .iter()
            .map(|(size, p)| HugepageFacts {
                size_kib: *size,
                total: p.total,
                free: p.free,
                reserved: p.reserved,
                surplus: p.surplus,
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BlockFacts {
    pub name: String,
    #[serde(flatten)]
    pub queue: BlockQueue,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ThpFacts {
    pub enabled: Option<String>,
    pub defrag: Option<String>,
}

/// Presence of device nodes; `null` when the snapshot cannot tell.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeviceFacts {
    pub kvm: Option<bool>,
    pub vhost_net: Option<bool>,
    pub tun: Option<bool>,
    pub vhost_vsock: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DomainFacts {
    #[serde(flatten)]
    pub domain: Domain,
    /// Which definition was used: `live`, `dumpxml` or `persistent`.
    pub origin: DomainOrigin,
    pub source_path: String,
    /// Running at capture time (a live status file exists). `false` only
    /// says no status file was captured.
    pub active: bool,
    pub persistent: bool,
    /// The running QEMU process (live status file or `<name>.pid`).
    pub pid: Option<u32>,
    /// State as libvirt reported it (`running`, `paused`, `shut off`,
    /// ...; `virsh list`, else the live status file); null when neither
    /// was captured.
    pub state: Option<String>,
    /// Why it is in that state, for a paused domain: `ioerror`, `user`,
    /// `migration`, ... (the status file's `reason`, else domstats'
    /// `state.reason`).
    pub state_reason: Option<String>,
    /// `virsh domstats` fields (running domains, when libvirt was asked).
    pub stats: Option<BTreeMap<String, serde_json::Value>>,
    /// Host-side run-queue wait of the vCPU threads over the sampling
    /// interval; null without samples.
    pub vcpu_wait: Option<runtime::VcpuWait>,
    pub snapshots: SnapshotFacts,
    pub derived: DomainDerived,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SnapshotFacts {
    pub count: usize,
    pub internal: usize,
    pub external: usize,
    pub oldest_creation_time: Option<i64>,
    pub newest_creation_time: Option<i64>,
}

/// Read, parse and model everything in `snap`.
pub fn gather(snap: &Snapshot) -> Facts {
    let (data, statuses) = sources::load(snap);
    build(
        &data,
        statuses,
        Target {
            kind: snap.kind(),
            path: snap.origin().display().to_string(),
        },
    )
}

pub fn build(data: &HostData, sources: Vec<SourceStatus>, target: Target) -> Facts {
    let host = Host {
        hostname: data.hostname.clone(),
        kernel: data.kernel.clone(),
        libvirt_version: data.virt_versions.as_ref().and_then(|v| v.libvirt.clone()),
        qemu_version: data.virt_versions.as_ref().and_then(|v| v.qemu.clone()),
        cmdline: data.cmdline.as_ref().map(|c| c.raw.clone()),
        cpu: cpu::build(data),
        memory: memory(data),
        hugepages: hugepages(data),
        numa: numa::build(data),
        block: data
            .block
            .iter()
            .map(|(name, queue)| BlockFacts {
                name: name.clone(),
                queue: queue.clone(),
            })
            .collect(),
        sysctl: data.sysctl.clone(),
        thp: ThpFacts {
            enabled: data.thp_enabled.clone(),
            defrag: data.thp_defrag.clone(),
        },
        ksm: (!data.ksm.is_empty()).then(|| data.ksm.clone()),
        pressure: data.pressure.clone(),
        loadavg: data.loadavg.clone(),
        uptime_seconds: data.uptime_seconds,
        boot_time: data.stat.as_ref().and_then(|s| s.btime),
        captured_at: captured_at(data),
        devices: DeviceFacts {
            kvm: data.devices.get("kvm").copied(),
            vhost_net: data.devices.get("vhost-net").copied(),
            tun: data.devices.get("net/tun").copied(),
            vhost_vsock: data.devices.get("vhost-vsock").copied(),
        },
        diskstats: data.diskstats.clone(),
        net: data.netdev.clone(),
        processes: data.processes.as_ref().map(|p| p.iter().cloned().collect()),
        nic_rings: data.nic_rings.clone(),
        default_hugepage_kib: data.meminfo.as_ref().and_then(|m| m.get("Hugepagesize")),
        cpu_times: data
            .stat
            .as_ref()
            .map(|s| s.per_cpu.clone())
            .unwrap_or_default(),
        kvm: runtime::kvm(data),
        cgroup_controllers: data
            .cgroup_controllers
            .as_ref()
            .map(|c| c.iter().cloned().collect()),
        cgroup_cpu_version: data.cgroup_cpu_version,
        iommu_groups: match (&data.iommu_groups, data.iommu_group_count) {
            (Some(g), Some(n)) => Some(g.len().max(n)),
            (Some(g), None) => Some(g.len()),
            (None, n) => n,
        },
        rates: runtime::rates(data),
        filesystems: data.filesystems.clone(),
    };
    let mut domains: Vec<DomainFacts> = data
        .domains
        .values()
        .map(|e| {
            let name = &e.domain.name;
            let pid = e
                .domain
                .status
                .as_ref()
                .and_then(|s| s.pid)
                .or_else(|| data.domain_pids.get(name).copied());
            let status = e.domain.status.as_ref();
            let state = data
                .domain_states
                .get(name)
                .cloned()
                .or_else(|| status.and_then(|s| s.state.clone()));
            let state_reason = runtime::state_reason(
                state.as_deref(),
                status.and_then(|s| s.reason.as_deref()),
                data.domain_stats.get(name),
            );
            // libvirt's word outranks the absence of a status file (which
            // only root can read).
            let running = matches!(
                state.as_deref(),
                Some("running" | "idle" | "paused" | "in shutdown" | "pmsuspended")
            );
            DomainFacts {
                domain: e.domain.clone(),
                origin: e.origin,
                source_path: e.path.clone(),
                active: e.active || running,
                persistent: e.persistent,
                pid,
                state,
                state_reason,
                stats: runtime::domain_stats(data, name),
                vcpu_wait: pid.and_then(|p| runtime::vcpu_wait(data, p)),
                snapshots: snapshot_facts(data, name),
                derived: DomainDerived::default(),
            }
        })
        .collect();
    let mut derived = derived::build(&host, &mut domains);
    derived.virtualization = virtualization::build(data, &host, &domains);
    Facts {
        schema: SCHEMA,
        target,
        capture: data.capture.clone(),
        host,
        domains,
        derived,
        invalid_domain_xml: data.invalid_domain_xml.clone(),
        logs: data.logs.clone(),
        sources,
    }
}

fn captured_at(data: &HostData) -> Option<i64> {
    let recorded = data
        .capture
        .as_ref()
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(&c.captured_at).ok())
        .map(|d| d.timestamp());
    let boot_and_uptime = match (
        data.stat.as_ref().and_then(|s| s.btime),
        data.uptime_seconds,
    ) {
        (Some(boot), Some(up)) => Some(boot + up as i64),
        _ => None,
    };
    recorded.or(boot_and_uptime).or(data.date)
}

fn memory(data: &HostData) -> MemoryFacts {
    let Some(m) = &data.meminfo else {
        return MemoryFacts::default();
    };
    MemoryFacts {
        total_kib: m.get("MemTotal"),
        available_kib: m.get("MemAvailable"),
        free_kib: m.get("MemFree"),
        swap_total_kib: m.get("SwapTotal"),
        swap_free_kib: m.get("SwapFree"),
        committed_as_kib: m.get("Committed_AS"),
        commit_limit_kib: m.get("CommitLimit"),
        anon_hugepages_kib: m.get("AnonHugePages"),
        source: Some(
            if m.get("Committed_AS").is_some() || m.get("Buffers").is_some() {
                "meminfo".into()
            } else {
                "free".into()
            },
        ),
    }
}

/// sysfs pools when captured; otherwise the default-size pool that
/// `/proc/meminfo` summarises.
fn hugepages(data: &HostData) -> Vec<HugepageFacts> {
    if !data.hugepages.is_empty() {
        return HugepageFacts::from_pools(&data.hugepages);
    }
    let Some(m) = &data.meminfo else {
        return Vec::new();
    };
    match (m.get("Hugepagesize"), m.get("HugePages_Total")) {
        (Some(size), Some(total)) => vec![HugepageFacts {
            size_kib: size,
            total: Some(total),
            free: m.get("HugePages_Free"),
            reserved: m.get("HugePages_Rsvd"),
            surplus: m.get("HugePages_Surp"),
        }],
        _ => Vec::new(),
    }
}

fn snapshot_facts(data: &HostData, domain: &str) -> SnapshotFacts {
    let Some(list) = data.snapshots.get(domain) else {
        return SnapshotFacts::default();
    };
    let times = list.iter().filter_map(|s| s.creation_time);
    SnapshotFacts {
        count: list.len(),
        internal: list
            .iter()
            .filter(|s| s.kind == "internal" || s.kind == "mixed")
            .count(),
        external: list.iter().filter(|s| s.kind == "external").count(),
        oldest_creation_time: times.clone().min(),
        newest_creation_time: times.max(),
    }
}
