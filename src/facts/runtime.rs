//! Rates from the two runtime samples of a capture, and what the capture
//! knew that files do not (the KVM probe, libvirt's reachability).
//!
//! Every rate is a difference of two counter readings divided by the
//! interval the kernel measured between them (`/proc/uptime`), so a
//! capture analysed anywhere gives the figures `scan` gave.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::parse::stat::CpuTimes;
use crate::sources::{HostData, KvmProbe, Sample};

#[derive(Debug, Clone, Serialize)]
pub struct Rates {
    /// Seconds between the two samples.
    pub interval_seconds: f64,
    pub cpu: Option<CpuRates>,
    /// Whole disks (`sys/block` names when captured; never loop/ram).
    pub disks: Vec<DiskRates>,
    /// Network interfaces except `lo`.
    pub nics: Vec<NicRates>,
    /// Resource -> share of the interval some task stalled on it (PSI
    /// `some`, percent), from the `total` counters.
    pub pressure_some_pct: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CpuRates {
    /// Percent of all CPU time: not idle and not waiting for I/O.
    pub busy_pct: f64,
    pub iowait_pct: f64,
    /// Time this host's own hypervisor ran something else on its CPUs.
    pub steal_pct: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiskRates {
    pub name: String,
    /// Percent of the interval with I/O in flight (`%util`).
    pub util_pct: f64,
    /// Average time per completed request, ms (`await`); null with none.
    pub await_ms: Option<f64>,
    pub reads_per_s: f64,
    pub writes_per_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NicRates {
    pub name: String,
    pub rx_packets_per_s: f64,
    pub tx_packets_per_s: f64,
    pub rx_dropped_per_s: f64,
    pub tx_dropped_per_s: f64,
    pub rx_errors_per_s: f64,
    pub tx_errors_per_s: f64,
}

/// Per domain: how long its vCPU threads waited for a host CPU while
/// runnable, as a percent of the interval.
#[derive(Debug, Clone, Serialize)]
pub struct VcpuWait {
    pub max_pct: f64,
    pub mean_pct: f64,
    pub vcpus: Vec<VcpuWaitOne>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VcpuWaitOne {
    pub vcpu: Option<u32>,
    pub thread: u32,
    pub wait_pct: f64,
}

/// The KVM device as the capture found it by asking it.
#[derive(Debug, Clone, Serialize)]
pub struct KvmFacts {
    pub api_version: Option<i64>,
    /// `EACCES`, `ENXIO`, ...; null when it answered.
    pub errno: Option<String>,
    pub error: Option<String>,
}

pub fn kvm(data: &HostData) -> Option<KvmFacts> {
    Some(match data.kvm_probe.as_ref()? {
        KvmProbe::Absent => KvmFacts {
            api_version: None,
            errno: Some("ENOENT".into()),
            error: Some("/dev/kvm does not exist".into()),
        },
        KvmProbe::ApiVersion(v) => KvmFacts {
            api_version: Some(*v),
            errno: None,
            error: None,
        },
        KvmProbe::Error(errno, message) => KvmFacts {
            api_version: None,
            errno: Some(errno.clone()),
            error: Some(message.clone()),
        },
    })
}

fn pair(data: &HostData) -> Option<(&Sample, &Sample, f64)> {
    let a = data.samples.get(&0)?;
    let b = data.samples.get(&1)?;
    let interval = b.uptime? - a.uptime?;
    (interval > 0.0).then_some((a, b, interval))
}

fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn per_s(a: u64, b: u64, interval: f64) -> f64 {
    round(b.saturating_sub(a) as f64 / interval)
}

pub fn rates(data: &HostData) -> Option<Rates> {
    let (a, b, interval) = pair(data)?;
    let cpu = match (
        a.stat.as_ref().and_then(|s| s.total.as_ref()),
        b.stat.as_ref().and_then(|s| s.total.as_ref()),
    ) {
        (Some(x), Some(y)) => cpu_rates(x, y),
        _ => None,
    };
    let whole_disks: Vec<&String> = data.block.keys().collect();
    let disks = match (&a.diskstats, &b.diskstats) {
        (Some(xs), Some(ys)) => ys
            .iter()
            .filter(|y| {
                !y.name.starts_with("loop")
                    && !y.name.starts_with("ram")
                    && (whole_disks.is_empty() || whole_disks.contains(&&y.name))
            })
            .filter_map(|y| {
                let x = xs.iter().find(|x| x.name == y.name)?;
                let ios = (y.reads + y.writes).saturating_sub(x.reads + x.writes);
                let ms = (y.read_ms + y.write_ms).saturating_sub(x.read_ms + x.write_ms);
                Some(DiskRates {
                    name: y.name.clone(),
                    util_pct: round(
                        (y.io_ms.saturating_sub(x.io_ms) as f64 / (interval * 1000.0) * 100.0)
                            .min(100.0),
                    ),
                    await_ms: (ios > 0).then(|| round(ms as f64 / ios as f64)),
                    reads_per_s: per_s(x.reads, y.reads, interval),
                    writes_per_s: per_s(x.writes, y.writes, interval),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let nics = match (&a.netdev, &b.netdev) {
        (Some(xs), Some(ys)) => ys
            .iter()
            .filter(|y| y.name != "lo")
            .filter_map(|y| {
                let x = xs.iter().find(|x| x.name == y.name)?;
                Some(NicRates {
                    name: y.name.clone(),
                    rx_packets_per_s: per_s(x.rx_packets, y.rx_packets, interval),
                    tx_packets_per_s: per_s(x.tx_packets, y.tx_packets, interval),
                    rx_dropped_per_s: per_s(x.rx_dropped, y.rx_dropped, interval),
                    tx_dropped_per_s: per_s(x.tx_dropped, y.tx_dropped, interval),
                    rx_errors_per_s: per_s(x.rx_errors, y.rx_errors, interval),
                    tx_errors_per_s: per_s(x.tx_errors, y.tx_errors, interval),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let pressure_some_pct = b
        .pressure
        .iter()
        .filter_map(|(resource, y)| {
            let x = a.pressure.get(resource)?;
            let (x, y) = (x.some.as_ref()?, y.some.as_ref()?);
            let stalled_us = y.total_us.saturating_sub(x.total_us) as f64;
            Some((
                resource.clone(),
                round((stalled_us / (interval * 1e6) * 100.0).min(100.0)),
            ))
        })
        .collect();
    Some(Rates {
        interval_seconds: round(interval),
        cpu,
        disks,
        nics,
        pressure_some_pct,
    })
}

fn cpu_rates(x: &CpuTimes, y: &CpuTimes) -> Option<CpuRates> {
    // guest and guest_nice are already counted in user and nice.
    let total =
        |t: &CpuTimes| t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
    let all = total(y).checked_sub(total(x))? as f64;
    if all <= 0.0 {
        return None;
    }
    let d = |f: fn(&CpuTimes) -> u64| f(y).saturating_sub(f(x)) as f64 / all * 100.0;
    let idle = d(|t| t.idle);
    let iowait = d(|t| t.iowait);
    let steal = d(|t| t.steal);
    Some(CpuRates {
        busy_pct: round((100.0 - idle - iowait).max(0.0)),
        iowait_pct: round(iowait),
        steal_pct: round(steal),
    })
}

/// vCPU wait of the domain whose QEMU process is `pid`.
pub fn vcpu_wait(data: &HostData, pid: u32) -> Option<VcpuWait> {
    let (a, b, interval) = pair(data)?;
    let mut vcpus: Vec<VcpuWaitOne> = b
        .vcpu_threads
        .range((pid, 0)..=(pid, u32::MAX))
        .filter_map(|(&(_, tid), y)| {
            let x = a.vcpu_threads.get(&(pid, tid))?;
            let waited = y.schedstat?.wait_ns.saturating_sub(x.schedstat?.wait_ns) as f64;
            Some(VcpuWaitOne {
                vcpu: y.vcpu.or(x.vcpu),
                thread: tid,
                wait_pct: round((waited / (interval * 1e9) * 100.0).min(100.0)),
            })
        })
        .collect();
    if vcpus.is_empty() {
        return None;
    }
    vcpus.sort_by_key(|v| (v.vcpu, v.thread));
    let max = vcpus.iter().map(|v| v.wait_pct).fold(0.0, f64::max);
    let mean = vcpus.iter().map(|v| v.wait_pct).sum::<f64>() / vcpus.len() as f64;
    Some(VcpuWait {
        max_pct: max,
        mean_pct: round(mean),
        vcpus,
    })
}

/// `virsh domstats` values as numbers where they are numbers.
/// Why a domain is paused: libvirt's status file says it in words;
/// `virsh domstats` as a number (`state.state` 3 = paused, `state.reason`
/// from virDomainPausedReason).
pub fn state_reason(
    state: Option<&str>,
    status_reason: Option<&str>,
    stats: Option<&BTreeMap<String, String>>,
) -> Option<String> {
    if state != Some("paused") {
        return None;
    }
    if let Some(r) = status_reason {
        return Some(r.to_owned());
    }
    const PAUSED: &[&str] = &[
        "unknown",
        "user",
        "migration",
        "save",
        "dump",
        "ioerror",
        "watchdog",
        "from snapshot",
        "shutting down",
        "snapshot",
        "crashed",
        "starting up",
        "post-copy",
        "post-copy failed",
    ];
    let stats = stats?;
    (stats.get("state.state").map(String::as_str) == Some("3"))
        .then(|| stats.get("state.reason")?.parse::<usize>().ok())
        .flatten()
        .and_then(|r| PAUSED.get(r))
        .map(|r| (*r).to_owned())
}

pub fn domain_stats(data: &HostData, name: &str) -> Option<BTreeMap<String, serde_json::Value>> {
    let stats = data.domain_stats.get(name)?;
    Some(
        stats
            .iter()
            .map(|(k, v)| {
                let value = v
                    .parse::<i64>()
                    .map(serde_json::Value::from)
                    .or_else(|_| v.parse::<f64>().map(serde_json::Value::from))
                    .unwrap_or_else(|_| serde_json::Value::from(v.clone()));
                (k.clone(), value)
            })
            .collect(),
    )
}
