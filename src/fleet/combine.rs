//! What a group of hosts says that no one host does: the combiner of the
//! fleet pipeline (as insights-core combines parsers). It computes the set
//! operations CEL is poor at (which CPU flags one host has and another
//! lacks, which UUIDs and disk images are in use on two hosts, which
//! settings differ, whether the busiest host's guests fit elsewhere); the
//! rules in `rules/fleet.toml` decide which of these are findings and
//! say so.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::host::FleetHost;

#[derive(Debug, Serialize)]
pub struct GroupFacts<'a> {
    pub name: String,
    pub hosts: Vec<&'a FleetHost>,
    pub derived: GroupDerived,
}

#[derive(Debug, Default, Serialize)]
pub struct GroupDerived {
    /// Domains whose CPU needs flags some other host of the group lacks.
    pub migration: Vec<MigrationRisk>,
    /// Domain UUIDs running on two or more hosts at once.
    pub uuid_conflicts: Vec<UuidConflict>,
    /// Disk images or volumes on shared storage in use by running
    /// domains of two or more hosts, writable and not `<shareable/>`.
    pub disk_conflicts: Vec<DiskConflict>,
    /// Settings whose value differs between hosts of the group.
    pub drift: Vec<Drift>,
    /// Whether the busiest host's running domains fit on the others;
    /// null with fewer than two hosts or unknown memory figures.
    pub capacity: Option<Capacity>,
}

#[derive(Debug, Serialize)]
pub struct MigrationRisk {
    pub domain: String,
    /// The host the domain is defined (or running) on.
    pub host: String,
    pub cpu_mode: String,
    pub cpu_model: Option<String>,
    pub active: bool,
    /// Each host of the group that lacks some of the flags, with them.
    pub lacking: Vec<HostFlags>,
    /// Every flag some other host lacks, sorted.
    pub flags: Vec<String>,
    /// The domain's host, then the hosts that lack flags.
    pub hosts: Vec<String>,
    /// `hv3 lacks avx512f, avx512bw; hv4 lacks pku`.
    pub summary: String,
    pub evidence: Vec<String>,
}

/// Hosts that lack the same flags.
#[derive(Debug, Serialize)]
pub struct HostFlags {
    pub hosts: Vec<String>,
    pub flags: Vec<String>,
}

/// At most five names, then how many more: one line per value whatever
/// the size of the fleet (the full lists stay in the data).
fn names(hosts: &[String]) -> String {
    const SHOWN: usize = 5;
    if hosts.len() <= SHOWN {
        hosts.join(", ")
    } else {
        format!(
            "{} and {} more",
            hosts[..SHOWN].join(", "),
            hosts.len() - SHOWN
        )
    }
}

#[derive(Debug, Serialize)]
pub struct UuidConflict {
    pub uuid: String,
    /// The domain's name on each host (`web01 on hv1`).
    pub domains: Vec<String>,
    pub names: Vec<String>,
    pub hosts: Vec<String>,
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct DiskConflict {
    pub source: String,
    pub storage: &'static str,
    /// `db01 (vda) on hv1`, one per use.
    pub uses: Vec<String>,
    pub domains: Vec<String>,
    pub hosts: Vec<String>,
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Drift {
    /// `memory`, `disk`, `cpu`, `cpu_model`, `versions`.
    pub kind: &'static str,
    pub setting: String,
    /// Each value with the hosts that have it, most hosts first.
    pub values: Vec<DriftValue>,
    /// Hosts whose value is known.
    pub hosts: Vec<String>,
    /// `hv1, hv2: 10; hv3: 60`.
    pub summary: String,
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct DriftValue {
    pub value: String,
    pub hosts: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Capacity {
    /// The host whose running domains take the most memory.
    pub busiest: String,
    pub domains: u32,
    pub memory_needed_kib: u64,
    /// MemAvailable of the other hosts, together.
    pub memory_free_kib: u64,
    /// The busiest host's domains that fit on no other host when placed
    /// largest first, each on the host with the most memory left.
    pub unplaced: Vec<String>,
    pub unplaced_memory_kib: u64,
    pub vcpus_needed: u64,
    /// Logical CPUs of the other hosts, together.
    pub cpus_other: u64,
    /// vCPUs the other hosts' running domains have.
    pub vcpus_other_running: u64,
    /// vCPUs per logical CPU on the other hosts once the busiest host's
    /// domains run there too (two decimals); null without CPU counts.
    pub vcpus_per_cpu_after: Option<f64>,
    pub hosts: Vec<String>,
    pub evidence: Vec<String>,
}

/// Flags Linux shows in `/proc/cpuinfo` that are not CPU features a
/// guest is given: the kernel's own synthetic words (`constant_tsc`,
/// `rep_good`, the mitigation flags it sets for itself) and the VMX
/// capability flags older kernels list. A host with a newer kernel lists
/// more of these, which says nothing about whether a guest can move.
const NOT_GUEST_FEATURES: &[&str] = &[
    "cxmmx",
    "k6_mtrr",
    "cyrix_arr",
    "centaur_mcr",
    "k8",
    "k7",
    "p3",
    "p4",
    "constant_tsc",
    "up",
    "art",
    "arch_perfmon",
    "pebs",
    "bts",
    "rep_good",
    "acc_power",
    "nopl",
    "xtopology",
    "tsc_reliable",
    "nonstop_tsc",
    "cpuid",
    "extd_apicid",
    "amd_dcm",
    "aperfmperf",
    "rapl",
    "nonstop_tsc_s3",
    "tsc_known_freq",
    "ring3mwait",
    "cpuid_fault",
    "cpb",
    "epb",
    "cat_l3",
    "cat_l2",
    "cdp_l3",
    "cdp_l2",
    "invpcid_single",
    "hw_pstate",
    "proc_feedback",
    "sme",
    "pti",
    "kaiser",
    "retpoline",
    "retpoline_amd",
    "ibrs",
    "ibpb",
    "stibp",
    "ssbd",
    "ibrs_enhanced",
    "mba",
    "sev",
    "sev_es",
    "intel_ppin",
    "intel_pt",
    "xenpv",
    "tpr_shadow",
    "vnmi",
    "flexpriority",
    "ept",
    "vpid",
    "ept_ad",
    "vmmcall",
    "cqm_llc",
    "cqm_occup_llc",
    "cqm_mbm_total",
    "cqm_mbm_local",
    "split_lock_detect",
    "user_shstk",
    "hypervisor",
    "tsc_adjust",
    "dtherm",
    "ida",
    "arat",
    "pln",
    "pts",
    "hwp",
    "hwp_notify",
    "hwp_act_window",
    "hwp_epp",
    "hwp_pkg_req",
    "hfi",
    "zero_fcs_fds",
    "tme",
    "pconfig",
    "eibrs_pbrsb",
    "ibt",
    "amd_ppin",
    "perfmon_v2",
    "vgif",
    "v_vmsave_vmload",
    "vmcb_clean",
    "flushbyasid",
    "decodeassists",
    "pausefilter",
    "pfthreshold",
    "avic",
    "v_spec_ctrl",
    "npt",
    "lbrv",
    "svm_lock",
    "nrip_save",
    "tsc_scale",
    "x2avic",
    "overflow_recov",
    "succor",
    "smca",
    "irperf",
    "xsaveerptr",
    "rdpru",
    "wbnoinvd",
    "amd_ssbd",
    "virt_ssbd",
    "amd_ibrs",
    "amd_ibpb",
    "amd_stibp",
    "amd_lbr_v2",
    "clear_cpu_buf",
    "bhi_ctrl",
    "rsb_ctrl",
];

/// libvirt's spelling of a CPU feature, as Linux spells the flag.
fn linux_flag(feature: &str) -> String {
    match feature {
        "pclmuldq" => "pclmulqdq".into(),
        "tsc-deadline" => "tsc_deadline_timer".into(),
        "lahf_lm" => "lahf_lm".into(),
        other => other.replace(['.', '-'], "_"),
    }
}

pub fn combine<'a>(name: &str, hosts: Vec<&'a FleetHost>) -> GroupFacts<'a> {
    let derived = GroupDerived {
        migration: migration(&hosts),
        uuid_conflicts: uuid_conflicts(&hosts),
        disk_conflicts: disk_conflicts(&hosts),
        drift: drift(&hosts),
        capacity: capacity(&hosts),
    };
    GroupFacts {
        name: name.to_owned(),
        hosts,
        derived,
    }
}

fn migration(hosts: &[&FleetHost]) -> Vec<MigrationRisk> {
    // Hosts of a cluster come in a few CPU kinds: each distinct flag set
    // is compared with each other once, not each host with each host.
    let mut kinds: Vec<(BTreeSet<&str>, Vec<String>)> = Vec::new();
    let mut kind_of: Vec<usize> = Vec::new();
    for h in hosts {
        let flags: BTreeSet<&str> = h.cpu.flags.iter().map(String::as_str).collect();
        let k = match kinds.iter().position(|(f, _)| *f == flags) {
            Some(k) => k,
            None => {
                kinds.push((flags, Vec::new()));
                kinds.len() - 1
            }
        };
        kinds[k].1.push(h.name.clone());
        kind_of.push(k);
    }
    // A flag one host of the group shows is a real Linux flag name: a
    // libvirt feature name no host shows is a spelling we do not map, not
    // a missing feature.
    let known: BTreeSet<&str> = kinds.iter().flat_map(|(f, _)| f.iter().copied()).collect();
    let mut out = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        let own = &kinds[kind_of[i]].0;
        for d in &h.domains {
            let needed: BTreeSet<String> = match d.cpu_mode.as_deref() {
                // The guest CPU is this host's, fixed when the domain
                // started: what matters is what the running domain has.
                Some("host-passthrough" | "host-model" | "maximum") if d.active => own
                    .iter()
                    .filter(|f| !NOT_GUEST_FEATURES.contains(f))
                    .map(|f| (*f).to_owned())
                    .collect(),
                // A named model's required features are checked when the
                // domain starts or arrives, running or not.
                Some("custom") | None if !d.cpu_features_required.is_empty() => d
                    .cpu_features_required
                    .iter()
                    .map(|f| linux_flag(f))
                    .filter(|f| known.contains(f.as_str()))
                    .collect(),
                _ => continue,
            };
            let mut lacking = Vec::new();
            for (k, (flags, members)) in kinds.iter().enumerate() {
                // Hosts without cpuinfo cannot be judged.
                if k == kind_of[i] || flags.is_empty() {
                    continue;
                }
                let missing: Vec<String> = needed
                    .iter()
                    .filter(|f| !flags.contains(f.as_str()))
                    .cloned()
                    .collect();
                if !missing.is_empty() {
                    lacking.push(HostFlags {
                        hosts: members.clone(),
                        flags: missing,
                    });
                }
            }
            if lacking.is_empty() {
                continue;
            }
            let flags: BTreeSet<String> = lacking.iter().flat_map(|l| l.flags.clone()).collect();
            let lines: Vec<String> = lacking
                .iter()
                .map(|l| format!("{}: no {}", names(&l.hosts), l.flags.join(", ")))
                .collect();
            let mut involved = vec![h.name.clone()];
            involved.extend(lacking.iter().flat_map(|l| l.hosts.clone()));
            let mut evidence = vec![format!(
                "{} ({}) on {}: <cpu mode='{}'>{}",
                d.name,
                if d.active { "running" } else { "defined" },
                h.name,
                d.cpu_mode.as_deref().unwrap_or("custom"),
                d.cpu_model
                    .as_deref()
                    .map(|m| format!("<model>{m}</model>"))
                    .unwrap_or_default()
            )];
            evidence.extend(lines.iter().map(|l| format!("{l} in /proc/cpuinfo flags")));
            out.push(MigrationRisk {
                domain: d.name.clone(),
                host: h.name.clone(),
                cpu_mode: d.cpu_mode.clone().unwrap_or_else(|| "custom".into()),
                cpu_model: d.cpu_model.clone(),
                active: d.active,
                lacking,
                flags: flags.into_iter().collect(),
                hosts: involved,
                summary: lines.join("; "),
                evidence,
            });
        }
    }
    out
}

fn uuid_conflicts(hosts: &[&FleetHost]) -> Vec<UuidConflict> {
    let mut by_uuid: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for h in hosts {
        for d in h.domains.iter().filter(|d| d.active) {
            if let Some(u) = &d.uuid {
                by_uuid.entry(u).or_default().push((&d.name, &h.name));
            }
        }
    }
    by_uuid
        .into_iter()
        .filter(|(_, uses)| distinct(uses.iter().map(|(_, h)| *h)).len() > 1)
        .map(|(uuid, uses)| UuidConflict {
            uuid: uuid.to_owned(),
            evidence: uses
                .iter()
                .map(|(d, h)| format!("{h}: {d} running, <uuid>{uuid}</uuid>"))
                .collect(),
            domains: uses.iter().map(|(d, h)| format!("{d} on {h}")).collect(),
            names: distinct(uses.iter().map(|(d, _)| *d)),
            hosts: distinct(uses.iter().map(|(_, h)| *h)),
        })
        .collect()
}

fn disk_conflicts(hosts: &[&FleetHost]) -> Vec<DiskConflict> {
    struct Use<'a> {
        domain: &'a str,
        target: Option<&'a str>,
        host: &'a str,
        storage: &'static str,
    }
    let mut by_source: BTreeMap<&str, Vec<Use>> = BTreeMap::new();
    for h in hosts {
        for d in h.domains.iter().filter(|d| d.active) {
            for k in &d.disks {
                // Read-only and <shareable/> disks are meant to be open in
                // many places; local files of the same name are different
                // files.
                if k.readonly
                    || k.shareable
                    || !matches!(k.storage, "network" | "network-fs" | "san")
                {
                    continue;
                }
                by_source.entry(&k.source).or_default().push(Use {
                    domain: &d.name,
                    target: k.target.as_deref(),
                    host: &h.name,
                    storage: k.storage,
                });
            }
        }
    }
    by_source
        .into_iter()
        .filter(|(_, uses)| distinct(uses.iter().map(|u| u.host)).len() > 1)
        .map(|(source, uses)| DiskConflict {
            source: source.to_owned(),
            storage: uses[0].storage,
            uses: uses
                .iter()
                .map(|u| match u.target {
                    Some(t) => format!("{} ({t}) on {}", u.domain, u.host),
                    None => format!("{} on {}", u.domain, u.host),
                })
                .collect(),
            domains: distinct(uses.iter().map(|u| u.domain)),
            hosts: distinct(uses.iter().map(|u| u.host)),
            evidence: uses
                .iter()
                .map(|u| {
                    format!(
                        "{}: {} running with <source> {source}{}",
                        u.host,
                        u.domain,
                        u.target.map(|t| format!(" ({t})")).unwrap_or_default()
                    )
                })
                .collect(),
        })
        .collect()
}

/// In first-seen order, without repeats.
fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.iter().any(|o| o == i) {
            out.push(i.to_owned());
        }
    }
    out
}

fn drift(hosts: &[&FleetHost]) -> Vec<Drift> {
    let mut out = Vec::new();
    let mut setting =
        |kind: &'static str, name: String, value: &dyn Fn(&FleetHost) -> Option<String>| {
            let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for h in hosts {
                if let Some(v) = value(h) {
                    values.entry(v).or_default().push(h.name.clone());
                }
            }
            if values.len() < 2 {
                return;
            }
            let mut values: Vec<DriftValue> = values
                .into_iter()
                .map(|(value, hosts)| DriftValue { value, hosts })
                .collect();
            values.sort_by(|a, b| {
                b.hosts
                    .len()
                    .cmp(&a.hosts.len())
                    .then(a.value.cmp(&b.value))
            });
            let summary = values
                .iter()
                .map(|v| format!("{}: {}", names(&v.hosts), v.value))
                .collect::<Vec<_>>()
                .join("; ");
            let evidence = values
                .iter()
                .map(|v| format!("{}: {}", names(&v.hosts), v.value))
                .collect();
            out.push(Drift {
                kind,
                evidence,
                setting: name,
                // In the order the hosts were given, whatever their value.
                hosts: hosts
                    .iter()
                    .filter(|h| values.iter().any(|v| v.hosts.contains(&h.name)))
                    .map(|h| h.name.clone())
                    .collect(),
                values,
                summary,
            });
        };
    let sizes: BTreeSet<u64> = hosts
        .iter()
        .flat_map(|h| h.hugepages.iter().map(|p| p.size_kib))
        .collect();
    for size in sizes {
        setting("memory", format!("{} hugepages", pagesize(size)), &|h| {
            h.hugepages
                .iter()
                .find(|p| p.size_kib == size)
                .and_then(|p| p.total)
                .map(|t| t.to_string())
        });
    }
    setting("memory", "transparent hugepages".into(), &|h| {
        h.thp_enabled.clone()
    });
    setting("memory", "KSM (ksm/run)".into(), &|h| {
        h.ksm_run.map(|r| {
            match r {
                0 => "0 (off)",
                1 => "1 (merging)",
                2 => "2 (unmerging)",
                _ => "other",
            }
            .to_owned()
        })
    });
    setting("memory", "vm.swappiness".into(), &|h| {
        h.swappiness.map(|s| s.to_string())
    });
    let devices: BTreeSet<&String> = hosts.iter().flat_map(|h| h.schedulers.keys()).collect();
    for dev in devices {
        setting("disk", format!("I/O scheduler of {dev}"), &|h| {
            h.schedulers.get(dev).cloned()
        });
    }
    setting("cpu", "cpufreq governor".into(), &|h| {
        (!h.governors.is_empty()).then(|| h.governors.join(", "))
    });
    setting("cpu_model", "CPU model".into(), &|h| h.cpu.model.clone());
    setting("cpu_model", "CPU microcode".into(), &|h| {
        h.cpu.microcode.clone()
    });
    setting("versions", "libvirt".into(), &|h| h.libvirt_version.clone());
    setting("versions", "QEMU".into(), &|h| h.qemu_version.clone());
    setting("versions", "kernel".into(), &|h| h.kernel.clone());
    out
}

/// `2 MiB`, `1 GiB`: hugepage sizes as people say them.
fn pagesize(kib: u64) -> String {
    if kib >= 1 << 20 && kib.is_multiple_of(1 << 20) {
        format!("{} GiB", kib >> 20)
    } else if kib >= 1 << 10 && kib.is_multiple_of(1 << 10) {
        format!("{} MiB", kib >> 10)
    } else {
        format!("{kib} KiB")
    }
}

fn capacity(hosts: &[&FleetHost]) -> Option<Capacity> {
    if hosts.len() < 2 {
        return None;
    }
    let busiest = hosts.iter().max_by(|a, b| {
        (
            a.running.memory_kib,
            a.running.vcpus,
            std::cmp::Reverse(&a.name),
        )
            .cmp(&(
                b.running.memory_kib,
                b.running.vcpus,
                std::cmp::Reverse(&b.name),
            ))
    })?;
    if busiest.running.domains == 0 {
        return None;
    }
    let others: Vec<&&FleetHost> = hosts.iter().filter(|h| h.name != busiest.name).collect();
    // Without every other host's free memory there is no verdict to give.
    let mut free: Vec<(u64, &str)> = others
        .iter()
        .map(|h| h.memory.available_kib.map(|a| (a, h.name.as_str())))
        .collect::<Option<_>>()?;
    let mut guests: Vec<(u64, &str)> = busiest
        .domains
        .iter()
        .filter(|d| d.active)
        .map(|d| (d.memory_kib.unwrap_or(0), d.name.as_str()))
        .collect();
    guests.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut unplaced = Vec::new();
    let mut unplaced_memory_kib = 0;
    for (need, name) in &guests {
        // The host with the most memory left takes the next largest guest.
        free.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        match free.first_mut() {
            Some(slot) if slot.0 >= *need => slot.0 -= need,
            _ => {
                unplaced.push((*name).to_owned());
                unplaced_memory_kib += need;
            }
        }
    }
    let mut evidence = vec![format!(
        "{} (busiest): {} running {}, {} of memory, {} vCPUs",
        busiest.name,
        busiest.running.domains,
        if busiest.running.domains == 1 {
            "domain"
        } else {
            "domains"
        },
        gib(busiest.running.memory_kib),
        busiest.running.vcpus
    )];
    for h in &others {
        evidence.push(format!(
            "{}: {} available, {} CPUs, {} vCPUs running",
            h.name,
            h.memory.available_kib.map_or("?".into(), gib),
            h.cpu.logical.map_or("?".into(), |c| c.to_string()),
            h.running.vcpus
        ));
    }
    let cpus_other: u64 = others
        .iter()
        .map(|h| u64::from(h.cpu.logical.unwrap_or(0)))
        .sum();
    let vcpus_other_running: u64 = others.iter().map(|h| h.running.vcpus).sum();
    let vcpus_per_cpu_after = (cpus_other > 0).then(|| {
        let r = (busiest.running.vcpus + vcpus_other_running) as f64 / cpus_other as f64;
        (r * 100.0).round() / 100.0
    });
    Some(Capacity {
        vcpus_per_cpu_after,
        evidence,
        busiest: busiest.name.clone(),
        domains: busiest.running.domains,
        memory_needed_kib: busiest.running.memory_kib,
        memory_free_kib: others.iter().filter_map(|h| h.memory.available_kib).sum(),
        unplaced,
        unplaced_memory_kib,
        vcpus_needed: busiest.running.vcpus,
        cpus_other,
        vcpus_other_running,
        hosts: hosts.iter().map(|h| h.name.clone()).collect(),
    })
}

/// `12.5 GiB`, `512 MiB`: memory as people read it.
pub fn gib(kib: u64) -> String {
    if kib >= 1 << 20 {
        let g = kib as f64 / (1u64 << 20) as f64;
        if (g - g.round()).abs() < 0.05 {
            format!("{} GiB", g.round())
        } else {
            format!("{g:.1} GiB")
        }
    } else {
        format!("{} MiB", kib >> 10)
    }
}
