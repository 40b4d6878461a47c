//! What cross-host rules know of one host: a small summary of its facts
//! (versions, CPU flags, memory settings, domains and their disks), kept
//! for every host of a run while the full facts of each host are dropped
//! as soon as its own report is made. That is what keeps a fleet run's
//! memory bounded by the number of hosts analyzed at once, not by the
//! number of hosts.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::facts::Facts;

#[derive(Debug, Clone, Serialize)]
pub struct FleetHost {
    /// The host name, else the snapshot's path: how reports name the host.
    pub name: String,
    /// The snapshot as given (path of the directory or archive).
    pub path: String,
    pub group: String,
    /// The manifest's `key=value` columns for this snapshot.
    pub labels: BTreeMap<String, String>,
    /// When the snapshot was taken (Unix seconds), if known.
    pub captured_at: Option<i64>,
    pub kernel: Option<String>,
    pub libvirt_version: Option<String>,
    pub qemu_version: Option<String>,
    pub cpu: FleetCpu,
    pub memory: FleetMemory,
    /// Hugepage pools, host-wide.
    pub hugepages: Vec<FleetHugepages>,
    /// `always`, `madvise` or `never`.
    pub thp_enabled: Option<String>,
    /// `sys/kernel/mm/ksm/run`: 0 off, 1 merging, 2 unmerging.
    pub ksm_run: Option<u64>,
    /// `vm.swappiness`.
    pub swappiness: Option<u64>,
    /// Active I/O scheduler of each block device that is a disk (not
    /// loop, ram, zram, dm or md devices, whose scheduler is not tuned).
    pub schedulers: BTreeMap<String, String>,
    /// cpufreq governors in use, sorted; empty when not captured.
    pub governors: Vec<String>,
    pub domains: Vec<FleetDomain>,
    /// What the running domains take: their count, vCPUs and memory.
    pub running: Running,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetCpu {
    pub model: Option<String>,
    pub vendor: Option<String>,
    pub microcode: Option<String>,
    pub logical: Option<u32>,
    /// CPU flags; empty when cpuinfo was not captured. Shared between
    /// hosts with the same flags ([`FleetHost::share_flags`]): they are
    /// most of a summary's size, and a fleet has few kinds of CPU.
    pub flags: std::sync::Arc<[String]>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetMemory {
    pub total_kib: Option<u64>,
    pub available_kib: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FleetHugepages {
    pub size_kib: u64,
    pub total: Option<u64>,
    pub free: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FleetDomain {
    pub name: String,
    pub uuid: Option<String>,
    /// Running (or paused) at capture time.
    pub active: bool,
    pub vcpus: Option<u32>,
    /// `<currentMemory>`, else `<memory>`.
    pub memory_kib: Option<u64>,
    /// `host-passthrough`, `host-model`, `custom` (a named model), or
    /// null without `<cpu>`.
    pub cpu_mode: Option<String>,
    pub cpu_model: Option<String>,
    /// CPU features the domain requires (`policy='require'` or `force`).
    pub cpu_features_required: Vec<String>,
    pub disks: Vec<FleetDisk>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FleetDisk {
    pub target: Option<String>,
    pub source: String,
    /// Whether other hosts can see the same storage under this name:
    /// `network` (a network disk), `network-fs` (a file on NFS, Gluster,
    /// CephFS or CIFS, per the host's mounts), `san` (a multipath or
    /// by-id device path), `local` (a file on a local filesystem), or
    /// `unknown` (no mounts captured, a pool volume).
    pub storage: &'static str,
    pub shareable: bool,
    pub readonly: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Running {
    pub domains: u32,
    pub vcpus: u64,
    pub memory_kib: u64,
}

/// Block devices whose scheduler nobody sets: virtual or stacked devices
/// that pass I/O to the disks below them.
fn tuned_disk(name: &str) -> bool {
    !["loop", "ram", "zram", "dm-", "md", "sr", "nbd", "rbd"]
        .iter()
        .any(|p| name.starts_with(p))
}

impl FleetHost {
    pub fn of(facts: &Facts, path: &str, group: &str, labels: &BTreeMap<String, String>) -> Self {
        let h = &facts.host;
        let name = h.hostname.clone().unwrap_or_else(|| path.to_owned());
        let mut running = Running::default();
        let domains: Vec<FleetDomain> = facts
            .domains
            .iter()
            .map(|d| {
                let dom = &d.domain;
                let memory_kib = dom.current_memory_kib.or(dom.memory_kib);
                let vcpus = dom.vcpus_current.or(dom.vcpus);
                if d.active {
                    running.domains += 1;
                    running.vcpus += u64::from(vcpus.unwrap_or(0));
                    running.memory_kib += memory_kib.unwrap_or(0);
                }
                FleetDomain {
                    name: dom.name.clone(),
                    uuid: dom.uuid.as_ref().map(|u| u.to_ascii_lowercase()),
                    active: d.active,
                    vcpus,
                    memory_kib,
                    cpu_mode: dom.cpu.as_ref().and_then(|c| {
                        c.mode
                            .clone()
                            .or_else(|| c.model.as_ref().map(|_| "custom".to_owned()))
                    }),
                    cpu_model: dom.cpu.as_ref().and_then(|c| c.model.clone()),
                    cpu_features_required: dom
                        .cpu
                        .as_ref()
                        .map(|c| {
                            c.features
                                .iter()
                                .filter(|f| f.policy == "require" || f.policy == "force")
                                .map(|f| f.name.clone())
                                .collect()
                        })
                        .unwrap_or_default(),
                    disks: dom
                        .disks
                        .iter()
                        .filter(|k| k.device != "cdrom" && k.device != "floppy")
                        .filter_map(|k| {
                            let source = k.source.clone()?;
                            Some(FleetDisk {
                                target: k.target.clone(),
                                storage: storage(k.disk_type.as_deref(), &source, facts),
                                source,
                                shareable: k.shareable,
                                readonly: k.readonly,
                            })
                        })
                        .collect(),
                }
            })
            .collect();
        FleetHost {
            name,
            path: path.to_owned(),
            group: group.to_owned(),
            labels: labels.clone(),
            captured_at: h.captured_at,
            kernel: h.kernel.clone(),
            libvirt_version: h.libvirt_version.clone(),
            qemu_version: h.qemu_version.clone(),
            cpu: FleetCpu {
                model: h.cpu.model.clone(),
                vendor: h.cpu.vendor.clone(),
                microcode: h.cpu.microcode.clone(),
                logical: h.cpu.logical,
                flags: h.cpu.flags.clone().unwrap_or_default().into(),
            },
            memory: FleetMemory {
                total_kib: h.memory.total_kib,
                available_kib: h.memory.available_kib,
            },
            hugepages: h
                .hugepages
                .iter()
                .map(|p| FleetHugepages {
                    size_kib: p.size_kib,
                    total: p.total,
                    free: p.free,
                })
                .collect(),
            thp_enabled: h.thp.enabled.clone(),
            ksm_run: h.ksm.as_ref().and_then(|k| k.get("run").copied()),
            swappiness: h
                .sysctl
                .get("vm.swappiness")
                .and_then(|v| v.trim().parse().ok()),
            schedulers: h
                .block
                .iter()
                .filter(|b| tuned_disk(&b.name))
                .filter_map(|b| Some((b.name.clone(), b.queue.scheduler.clone()?)))
                .collect(),
            governors: h.cpu.governors.keys().cloned().collect(),
            domains,
            running,
        }
    }
}

impl FleetHost {
    /// Use an earlier host's copy of the same CPU flags, or keep this one
    /// for the hosts after it.
    pub fn share_flags(&mut self, seen: &mut Vec<std::sync::Arc<[String]>>) {
        match seen.iter().find(|f| **f == self.cpu.flags) {
            Some(f) => self.cpu.flags = f.clone(),
            None => seen.push(self.cpu.flags.clone()),
        }
    }
}

/// Network filesystems, as `df` names their sources: `server:/export`
/// (NFS, GlusterFS, CephFS's `mon:/`) and `//server/share` (CIFS).
fn network_fs(device: &str) -> bool {
    device.contains(":/") || device.starts_with("//")
}

/// Device paths that name one LUN the same way on every host: multipath
/// maps by WWID or user-friendly name, and `/dev/disk/by-id` links.
fn san_path(path: &str) -> bool {
    if path.starts_with("/dev/disk/by-id/") || path.starts_with("/dev/disk/by-path/ip-") {
        return true;
    }
    path.strip_prefix("/dev/mapper/").is_some_and(|m| {
        m.starts_with("mpath")
            || (m.len() >= 17 && m.starts_with('3') && m.chars().all(|c| c.is_ascii_hexdigit()))
    })
}

fn storage(disk_type: Option<&str>, source: &str, facts: &Facts) -> &'static str {
    match disk_type {
        Some("network") => return "network",
        Some("volume") => return "unknown",
        _ => {}
    }
    if source.contains("://") {
        return "network";
    }
    if san_path(source) {
        return "san";
    }
    if !source.starts_with('/') || source.starts_with("/dev/") {
        return "local";
    }
    let Some(filesystems) = &facts.host.filesystems else {
        return "unknown";
    };
    // The mount the file lives on: the longest mount point that is a
    // path prefix of it.
    let mount = filesystems
        .iter()
        .filter(|f| {
            let m = f.mount.trim_end_matches('/');
            source == m || source.starts_with(&format!("{m}/"))
        })
        .max_by_key(|f| f.mount.len());
    match mount {
        Some(f) if network_fs(&f.device) => "network-fs",
        Some(_) => "local",
        None => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn san_paths() {
        assert!(san_path("/dev/mapper/mpatha"));
        assert!(san_path("/dev/mapper/3600508b400105e210000900000490000"));
        assert!(san_path("/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"));
        assert!(!san_path("/dev/mapper/vg0-lv_images"));
        assert!(!san_path("/dev/sdb"));
    }

    #[test]
    fn network_filesystems() {
        assert!(network_fs("nfs01:/export/images"));
        assert!(network_fs("10.0.0.5:/vol1"));
        assert!(network_fs("//filer/images"));
        assert!(!network_fs("/dev/mapper/vg0-root"));
        assert!(!network_fs("tmpfs"));
    }
}
