//! Values computed from the facts rather than read: what rules compare
//! against thresholds. Host-wide values live in `derived`; per-domain ones
//! in each domain's `derived`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{DomainFacts, Host};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Derived {
    /// Which domains the totals below count: `active` when the snapshot
    /// shows which domains were running, otherwise `defined` (every
    /// domain found, as in a sosreport with only persistent definitions).
    pub domain_basis: &'static str,
    pub domains_counted: usize,
    /// Sum of the counted domains' vCPUs (current count where set).
    pub vcpus_total: u32,
    /// `vcpus_total` / host logical CPUs.
    pub vcpu_overcommit_ratio: Option<f64>,
    /// Sum of the counted domains' `<memory>`.
    pub domain_memory_total_kib: u64,
    /// `domain_memory_total_kib` / host MemTotal.
    pub memory_commit_ratio: Option<f64>,
    /// Memory held in hugepage pools (all sizes): unavailable to ordinary
    /// guests.
    pub hugepages_reserved_kib: u64,
    /// Counted domains' memory that is *not* hugepage-backed.
    pub domain_memory_ordinary_kib: u64,
    /// `domain_memory_ordinary_kib` / (MemTotal - hugepages_reserved_kib):
    /// the commitment of the memory ordinary guests can actually use.
    pub ordinary_memory_commit_ratio: Option<f64>,
    /// Hugepages the counted domains need, per page size, against the pool.
    pub hugepage_demand: Vec<HugepageDemand>,
    /// The host's default hugepage size (meminfo `Hugepagesize`, else 2 MiB
    /// on x86): what a bare `<hugepages/>` uses.
    pub default_hugepage_kib: u64,
    pub numa_node_count: usize,
    /// Host memory in swap use (`SwapTotal - SwapFree`).
    pub swap_used_kib: Option<u64>,
    /// The counted domains with the most vCPUs (at most three, most
    /// first): who to look at when the host's CPUs are contended.
    pub vcpu_leaders: Vec<Leader>,
    /// The domains whose vCPU threads waited longest for a host CPU over
    /// the sampling interval (at most three, worst first).
    pub wait_leaders: Vec<Leader>,
    /// Host CPUs some counted domain's vCPUs are pinned to.
    pub cpus_pinned: Vec<u32>,
    /// Online host CPUs no counted domain's vCPUs are pinned to.
    pub cpus_unpinned: Vec<u32>,
    /// Counted domains with no vCPU pin at all and no automatic (numad)
    /// placement: the scheduler may run them on every host CPU, pinned
    /// ones included. Computed once here so a rule comparing each pinned
    /// domain with them stays linear in the number of domains.
    pub floating_domains: Vec<String>,
    /// Filesystems holding domains' file-backed images, fullest first.
    pub image_filesystems: Vec<ImageFilesystem>,
    /// Whether this is a hypervisor and whether KVM works, with the
    /// evidence for each (`facts/virtualization.rs`).
    pub virtualization: super::virtualization::Virtualization,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Leader {
    pub name: String,
    /// vCPUs (`vcpu_leaders`) or the worst vCPU's wait percentage
    /// (`wait_leaders`).
    pub value: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImageFilesystem {
    pub mount: String,
    pub use_pct: u8,
    pub avail_kib: u64,
    /// Domains with an image on it, in domain order.
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DiskFilesystem {
    pub target: Option<String>,
    pub source: String,
    pub mount: String,
    pub use_pct: u8,
    pub avail_kib: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct HugepageDemand {
    pub size_kib: u64,
    pub pages_requested: u64,
    pub pages_total: Option<u64>,
    pub pages_free: Option<u64>,
    /// Domains asking for this size.
    pub domains: Vec<String>,
}

/// Per-domain derived values.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DomainDerived {
    /// vCPUs that run: `current` where set, else the maximum.
    pub vcpus_effective: u32,
    /// Host CPUs the vCPUs are pinned to (union of all `vcpupin`s, or
    /// `<vcpu cpuset>` when there are no per-vCPU pins). Empty if unpinned.
    pub pinned_cpus: Vec<u32>,
    /// Every vCPU has a `vcpupin` (or the domain has a `<vcpu cpuset>`).
    pub pinned: bool,
    /// Host NUMA nodes holding `pinned_cpus`.
    pub pinned_nodes: Vec<u32>,
    /// Pinned CPUs that the host does not have online.
    pub pinned_cpus_absent: Vec<u32>,
    /// Other counted domains pinned to the same host CPUs: the first
    /// [`OVERLAPS_LISTED`] in domain order; `pin_overlap_count` is all.
    pub pin_overlaps: Vec<PinOverlap>,
    pub pin_overlap_count: usize,
    /// Other counted domains pinned to hyper-thread siblings of this
    /// domain's CPUs (but not to the same CPUs), listed like
    /// `pin_overlaps`.
    pub sibling_overlaps: Vec<PinOverlap>,
    pub sibling_overlap_count: usize,
    /// sockets × dies × clusters × cores × threads of `<cpu><topology>`.
    pub topology_vcpus: Option<u32>,
    /// `<numatune><memory nodeset>`.
    pub memory_nodes: Option<Vec<u32>>,
    /// The domain's memory may come only from `memory_nodes`: a nodeset in
    /// mode 'strict' (libvirt's default) or 'restrictive'. 'preferred'
    /// and 'interleave' fall back to other nodes when theirs run out.
    pub memory_confined: bool,
    /// MemTotal summed over `memory_nodes`.
    pub memory_nodes_total_kib: Option<u64>,
    /// MemFree summed over `memory_nodes`.
    pub memory_nodes_free_kib: Option<u64>,
    /// The largest host node's memory and CPU count.
    pub largest_node_memory_kib: Option<u64>,
    pub largest_node_cpus: Option<u32>,
    /// Hugepages this domain needs, per size (KiB) -> pages.
    pub hugepages_needed: Vec<(u64, u64)>,
    /// For each hugepage size the domain needs: free pages on the nodes it
    /// may take them from (numatune nodeset, else the whole host; a
    /// 'preferred' nodeset may take from any node).
    pub hugepages_free: Vec<(u64, Option<u64>)>,
    /// For each hugepage size the domain needs: pages of that size
    /// reserved (free or not) on its numatune nodes; empty when its memory
    /// is not confined to nodes (no nodeset, or mode='preferred') or the
    /// nodes' pools were not captured.
    pub hugepages_on_nodes: Vec<(u64, u64)>,
    pub max_backing_chain_depth: u32,
    /// For each file-backed disk, the filesystem that holds its image
    /// (the longest mount point above the path, from `df`).
    pub disk_filesystems: Vec<DiskFilesystem>,
    /// The domain counts in the host totals (see `derived.domain_basis`).
    pub counted: bool,
    /// This domain's host devices that other domains' definitions assign
    /// too, in `<hostdev>` order.
    pub shared_hostdevs: Vec<SharedHostdev>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SharedHostdev {
    /// As in `hostdevs[].source`.
    pub source: String,
    /// The `<hostdev>` element's line in this domain's XML.
    pub line: usize,
    /// The other domains assigning it, in domain order.
    pub others: Vec<HostdevHolder>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct HostdevHolder {
    pub domain: String,
    pub active: bool,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PinOverlap {
    pub domain: String,
    pub cpus: Vec<u32>,
}

/// Fill `shared_hostdevs`: every domain is compared with every other (a
/// device in two definitions is a problem whether or not they run), through
/// an index of holders per device rather than over all pairs of domains.
fn shared_hostdevs(domains: &mut [DomainFacts]) {
    let mut holders: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (j, d) in domains.iter().enumerate() {
        let mut own: Vec<&str> = d
            .domain
            .hostdevs
            .iter()
            .filter_map(|h| h.source.as_deref())
            .collect();
        own.sort_unstable();
        own.dedup();
        for source in own {
            holders.entry(source.to_string()).or_default().push(j);
        }
    }
    let owners: Vec<HostdevHolder> = domains
        .iter()
        .map(|d| HostdevHolder {
            domain: d.domain.name.clone(),
            active: d.active,
        })
        .collect();
    for (i, d) in domains.iter_mut().enumerate() {
        let mut listed = BTreeSet::new();
        let mut shared = Vec::new();
        for h in &d.domain.hostdevs {
            let Some(source) = h.source.as_deref() else {
                continue;
            };
            let others: Vec<HostdevHolder> = holders[source]
                .iter()
                .filter(|j| **j != i)
                .map(|j| owners[*j].clone())
                .collect();
            if !others.is_empty() && listed.insert(source) {
                shared.push(SharedHostdev {
                    source: source.to_string(),
                    line: h.line,
                    others,
                });
            }
        }
        d.derived.shared_hostdevs = shared;
    }
}

/// Overlapping domains listed per domain; the rest are counted. A host of
/// thousands of domains pinned to the same few CPUs would otherwise hold
/// millions of pairs, when a finding names five.
pub const OVERLAPS_LISTED: usize = 20;

/// Fill `pin_overlaps` and `sibling_overlaps` of the counted domains.
/// Domains are found through an index of who is pinned to each CPU, so the
/// work follows the overlaps that exist, not every pair of domains.
fn pin_overlaps(domains: &mut [DomainFacts], siblings: &BTreeMap<u32, &Vec<u32>>) {
    let pins: Vec<BTreeSet<u32>> = domains
        .iter()
        .map(|d| d.derived.pinned_cpus.iter().copied().collect())
        .collect();
    let mut on_cpu: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (j, d) in domains.iter().enumerate() {
        if d.derived.counted {
            for c in &pins[j] {
                on_cpu.entry(*c).or_default().push(j);
            }
        }
    }
    let names: Vec<String> = domains.iter().map(|d| d.domain.name.clone()).collect();
    // seen[j] == i + 1: domain j already found for domain i.
    let mut seen = vec![0usize; domains.len()];
    for (i, d) in domains.iter_mut().enumerate() {
        if !d.derived.counted || pins[i].is_empty() {
            continue;
        }
        let mine = &pins[i];
        let mut find = |cpus: &mut dyn Iterator<Item = u32>| -> Vec<usize> {
            let mut found = Vec::new();
            for c in cpus {
                for &j in on_cpu.get(&c).map_or(&[][..], Vec::as_slice) {
                    if j != i && seen[j] != i + 1 {
                        seen[j] = i + 1;
                        found.push(j);
                    }
                }
            }
            found.sort_unstable();
            found
        };
        let same = find(&mut mine.iter().copied());
        let sibling_cpus: BTreeSet<u32> = mine
            .iter()
            .filter_map(|c| siblings.get(c))
            .flat_map(|g| g.iter().copied())
            .filter(|c| !mine.contains(c))
            .collect();
        // Domains already found on the same CPUs are not found again.
        let sib = find(&mut sibling_cpus.iter().copied());
        let listed = |js: &[usize], cpus: &BTreeSet<u32>| -> Vec<PinOverlap> {
            js.iter()
                .take(OVERLAPS_LISTED)
                .map(|&j| PinOverlap {
                    domain: names[j].clone(),
                    cpus: cpus.intersection(&pins[j]).copied().collect(),
                })
                .collect()
        };
        d.derived.pin_overlaps = listed(&same, mine);
        d.derived.pin_overlap_count = same.len();
        d.derived.sibling_overlaps = listed(&sib, &sibling_cpus);
        d.derived.sibling_overlap_count = sib.len();
    }
}

/// Which filesystem holds each file-backed disk: the mount point that is
/// the longest prefix of the image's path.
fn disk_filesystems(d: &DomainFacts, host: &Host) -> Vec<DiskFilesystem> {
    let Some(filesystems) = &host.filesystems else {
        return Vec::new();
    };
    d.domain
        .disks
        .iter()
        .filter(|k| k.disk_type.as_deref() == Some("file"))
        .filter_map(|k| {
            let source = k.source.as_ref()?;
            let fs = filesystems
                .iter()
                .filter(|f| {
                    let m = f.mount.trim_end_matches('/');
                    source.starts_with(&format!("{m}/"))
                })
                .max_by_key(|f| f.mount.len())?;
            Some(DiskFilesystem {
                target: k.target.clone(),
                source: source.clone(),
                mount: fs.mount.clone(),
                use_pct: fs.use_pct,
                avail_kib: fs.avail_kib,
            })
        })
        .collect()
}

/// The three largest values, largest first; equal values in domain order.
fn leaders(values: impl Iterator<Item = (String, f64)>) -> Vec<Leader> {
    let mut all: Vec<Leader> = values
        .filter(|(_, v)| *v > 0.0)
        .map(|(name, value)| Leader { name, value })
        .collect();
    all.sort_by(|a, b| b.value.total_cmp(&a.value));
    all.truncate(3);
    all
}

fn image_filesystems(domains: &[DomainFacts]) -> Vec<ImageFilesystem> {
    let mut by_mount: BTreeMap<&str, ImageFilesystem> = BTreeMap::new();
    for d in domains {
        for f in &d.derived.disk_filesystems {
            let e = by_mount
                .entry(f.mount.as_str())
                .or_insert_with(|| ImageFilesystem {
                    mount: f.mount.clone(),
                    use_pct: f.use_pct,
                    avail_kib: f.avail_kib,
                    domains: Vec::new(),
                });
            if !e.domains.contains(&d.domain.name) {
                e.domains.push(d.domain.name.clone());
            }
        }
    }
    let mut out: Vec<ImageFilesystem> = by_mount.into_values().collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.use_pct));
    out
}

pub fn build(host: &Host, domains: &mut [DomainFacts]) -> Derived {
    let any_active = domains.iter().any(|d| d.active);
    let default_hugepage_kib = host.default_hugepage_kib.unwrap_or(2048);
    let cpu_node: BTreeMap<u32, u32> = host
        .numa
        .nodes
        .iter()
        .flat_map(|n| n.cpus.iter().map(move |c| (*c, n.id)))
        .collect();
    let siblings: BTreeMap<u32, &Vec<u32>> = host
        .cpu
        .thread_siblings
        .iter()
        .flat_map(|g| g.iter().map(move |c| (*c, g)))
        .collect();
    let online: Option<BTreeSet<u32>> = host
        .cpu
        .online
        .as_ref()
        .map(|o| o.iter().copied().collect());

    for d in domains.iter_mut() {
        d.derived = per_domain(d, host, &cpu_node, online.as_ref(), default_hugepage_kib);
        d.derived.counted = !any_active || d.active;
        d.derived.disk_filesystems = disk_filesystems(d, host);
    }
    pin_overlaps(domains, &siblings);
    shared_hostdevs(domains);

    let counted: Vec<&DomainFacts> = domains.iter().filter(|d| d.derived.counted).collect();
    let cpus_pinned: BTreeSet<u32> = counted
        .iter()
        .flat_map(|d| d.derived.pinned_cpus.iter().copied())
        .collect();
    let vcpus_total: u32 = counted.iter().map(|d| d.derived.vcpus_effective).sum();
    let domain_memory_total_kib: u64 = counted.iter().filter_map(|d| d.domain.memory_kib).sum();
    let domain_memory_ordinary_kib: u64 = counted
        .iter()
        .filter(|d| d.domain.hugepages.is_none())
        .filter_map(|d| d.domain.memory_kib)
        .sum();
    let hugepages_reserved_kib: u64 = host
        .hugepages
        .iter()
        .map(|p| p.size_kib.saturating_mul(p.total.unwrap_or(0)))
        .sum();
    let mut demand: BTreeMap<u64, HugepageDemand> = BTreeMap::new();
    for d in &counted {
        for (size, pages) in &d.derived.hugepages_needed {
            let e = demand.entry(*size).or_insert_with(|| HugepageDemand {
                size_kib: *size,
                ..Default::default()
            });
            e.pages_requested += pages;
            e.domains.push(d.domain.name.clone());
        }
    }
    for e in demand.values_mut() {
        if let Some(pool) = host.hugepages.iter().find(|p| p.size_kib == e.size_kib) {
            e.pages_total = pool.total;
            e.pages_free = pool.free;
        } else if !host.hugepages.is_empty() {
            // Pools were read and this size has none.
            e.pages_total = Some(0);
            e.pages_free = Some(0);
        }
    }
    let total = host.memory.total_kib.filter(|n| *n > 0);
    Derived {
        domain_basis: if any_active { "active" } else { "defined" },
        domains_counted: counted.len(),
        vcpus_total,
        vcpu_overcommit_ratio: host
            .cpu
            .logical
            .filter(|n| *n > 0)
            .map(|n| ratio(u64::from(vcpus_total), u64::from(n))),
        domain_memory_total_kib,
        memory_commit_ratio: total.map(|t| ratio(domain_memory_total_kib, t)),
        hugepages_reserved_kib,
        domain_memory_ordinary_kib,
        ordinary_memory_commit_ratio: total
            .map(|t| t.saturating_sub(hugepages_reserved_kib))
            .filter(|usable| *usable > 0)
            .map(|usable| ratio(domain_memory_ordinary_kib, usable)),
        hugepage_demand: demand.into_values().collect(),
        default_hugepage_kib,
        numa_node_count: host.numa.nodes.len(),
        swap_used_kib: match (host.memory.swap_total_kib, host.memory.swap_free_kib) {
            (Some(t), Some(f)) => Some(t.saturating_sub(f)),
            _ => None,
        },
        vcpu_leaders: leaders(
            counted
                .iter()
                .map(|d| (d.domain.name.clone(), f64::from(d.derived.vcpus_effective))),
        ),
        wait_leaders: leaders(
            domains
                .iter()
                .filter_map(|d| Some((d.domain.name.clone(), d.vcpu_wait.as_ref()?.max_pct))),
        ),
        cpus_pinned: cpus_pinned.iter().copied().collect(),
        floating_domains: counted
            .iter()
            .filter(|d| d.derived.pinned_cpus.is_empty())
            .filter(|d| d.domain.vcpu_placement.as_deref() != Some("auto"))
            .map(|d| d.domain.name.clone())
            .collect(),
        // Without an `online` list, a host with N logical CPUs has 0..N.
        cpus_unpinned: online
            .clone()
            .or_else(|| host.cpu.logical.map(|n| (0..n).collect()))
            .map(|o| o.difference(&cpus_pinned).copied().collect())
            .unwrap_or_default(),
        image_filesystems: image_filesystems(domains),
        // Set by the caller, which has the raw host data it needs.
        virtualization: Default::default(),
    }
}

fn per_domain(
    d: &DomainFacts,
    host: &Host,
    cpu_node: &BTreeMap<u32, u32>,
    online: Option<&BTreeSet<u32>>,
    default_hugepage_kib: u64,
) -> DomainDerived {
    let dom = &d.domain;
    let vcpus_effective = dom.vcpus_current.or(dom.vcpus).unwrap_or(0);
    let mut pinned: BTreeSet<u32> = dom
        .vcpupin
        .iter()
        .flat_map(|p| p.cpuset.iter().copied())
        .collect();
    let mut all_pinned = vcpus_effective > 0
        && (0..vcpus_effective).all(|v| dom.vcpupin.iter().any(|p| p.vcpu == v));
    if dom.vcpupin.is_empty() {
        if let Some(cpuset) = &dom.vcpu_cpuset {
            pinned.extend(cpuset.iter().copied());
            all_pinned = true;
        }
    }
    let pinned_cpus: Vec<u32> = pinned.iter().copied().collect();
    let pinned_nodes: Vec<u32> = pinned
        .iter()
        .filter_map(|c| cpu_node.get(c).copied())
        .collect::<BTreeSet<u32>>()
        .into_iter()
        .collect();
    let pinned_cpus_absent = match online {
        Some(on) => pinned.iter().filter(|c| !on.contains(c)).copied().collect(),
        None => match host.cpu.logical {
            Some(n) => pinned.iter().filter(|c| **c >= n).copied().collect(),
            None => Vec::new(),
        },
    };
    let topology_vcpus = dom
        .cpu
        .as_ref()
        .and_then(|c| c.topology.as_ref())
        .map(|t| t.sockets * t.dies * t.clusters * t.cores * t.threads);
    // An empty nodeset places nothing; treat it as no nodeset at all.
    let memory_nodes = dom
        .numatune
        .as_ref()
        .and_then(|n| n.nodeset.clone())
        .filter(|set| !set.is_empty());
    // strict binds (MPOL_BIND, cpuset.mems), restrictive confines through
    // cpuset.mems; preferred and interleave take from other nodes when
    // theirs have nothing left (the kernel gives interleaved allocations,
    // hugetlb's included, no nodemask to stay within).
    let memory_confined = memory_nodes.is_some()
        && dom
            .numatune
            .as_ref()
            .is_some_and(|n| !matches!(n.mode.as_deref(), Some("preferred") | Some("interleave")));
    let nodes_sum = |f: fn(&super::NumaNodeFacts) -> Option<u64>| -> Option<u64> {
        let set = memory_nodes.as_ref()?;
        let mut sum = 0u64;
        for id in set {
            sum += f(host.numa.nodes.iter().find(|n| n.id == *id)?)?;
        }
        Some(sum)
    };
    let mut hugepages_needed = Vec::new();
    let mut hugepages_free = Vec::new();
    let mut hugepages_on_nodes = Vec::new();
    if let (Some(pages), Some(mem)) = (&dom.hugepages, dom.memory_kib) {
        // Without per-page nodesets, all memory comes from the first size
        // listed (libvirt uses the page without nodeset as the default).
        let size = pages
            .iter()
            .find(|p| p.nodeset.is_none())
            .or(pages.first())
            .and_then(|p| p.size_kib)
            .unwrap_or(default_hugepage_kib);
        if size > 0 {
            let count = mem.div_ceil(size);
            hugepages_needed.push((size, count));
            let free = match memory_nodes.as_ref().filter(|_| memory_confined) {
                Some(set) => set.iter().try_fold(0u64, |acc, id| {
                    let node = host.numa.nodes.iter().find(|n| n.id == *id)?;
                    let pool = node.hugepages.iter().find(|p| p.size_kib == size)?;
                    Some(acc + pool.free?)
                }),
                None => host
                    .hugepages
                    .iter()
                    .find(|p| p.size_kib == size)
                    .and_then(|p| p.free),
            };
            hugepages_free.push((size, free));
            if let Some(set) = memory_nodes.as_ref().filter(|_| memory_confined) {
                let reserved = set.iter().try_fold(0u64, |acc, id| {
                    let node = host.numa.nodes.iter().find(|n| n.id == *id)?;
                    let pool = node.hugepages.iter().find(|p| p.size_kib == size);
                    Some(acc + pool.and_then(|p| p.total).unwrap_or(0))
                });
                if let Some(r) =
                    reserved.filter(|_| host.numa.nodes.iter().any(|n| !n.hugepages.is_empty()))
                {
                    hugepages_on_nodes.push((size, r));
                }
            }
        }
    }
    DomainDerived {
        vcpus_effective,
        pinned_cpus,
        pinned: all_pinned,
        pinned_nodes,
        pinned_cpus_absent,
        pin_overlaps: Vec::new(),
        pin_overlap_count: 0,
        sibling_overlaps: Vec::new(),
        sibling_overlap_count: 0,
        topology_vcpus,
        memory_nodes_total_kib: nodes_sum(|n| n.memory_total_kib),
        memory_nodes_free_kib: nodes_sum(|n| n.memory_free_kib),
        memory_nodes,
        memory_confined,
        largest_node_memory_kib: host
            .numa
            .nodes
            .iter()
            .filter_map(|n| n.memory_total_kib)
            .max(),
        largest_node_cpus: host.numa.nodes.iter().map(|n| n.cpus.len() as u32).max(),
        hugepages_needed,
        hugepages_free,
        hugepages_on_nodes,
        max_backing_chain_depth: dom
            .disks
            .iter()
            .filter_map(|k| k.backing_chain_depth)
            .max()
            .unwrap_or(0),
        disk_filesystems: Vec::new(),
        counted: false,
        // Filled in by `shared_hostdevs`, which sees every domain.
        shared_hostdevs: Vec::new(),
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    ((a as f64 / b as f64) * 100.0).round() / 100.0
}
