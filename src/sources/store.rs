//! Store functions: the glue between one parser and one slot of
//! [`HostData`]. Each is named after the candidate it serves in the table.

use super::{DomainEntry, DomainOrigin, HostData, Input, InvalidXml, LogFile, Sample, VcpuThread};
use crate::parse::{self, capture, cpulist, Parsed, Problem};

/// Keep a parser's value in `slot` and hand back its problems.
fn keep<T>(slot: &mut Option<T>, parsed: Parsed<T>) -> Vec<Problem> {
    *slot = Some(parsed.value);
    parsed.problems
}

fn keep_cgroups(h: &mut HostData, parsed: Parsed<parse::cgroups::Cgroups>) -> Vec<Problem> {
    h.cgroup_controllers = Some(parsed.value.controllers);
    h.cgroup_cpu_version = parsed.value.cpu_version;
    parsed.problems
}

/// Like [`keep`] for parsers whose value is itself optional.
fn keep_opt<T>(slot: &mut Option<T>, parsed: Parsed<Option<T>>) -> Vec<Problem> {
    if parsed.value.is_some() {
        *slot = parsed.value;
    }
    parsed.problems
}

fn capture(input: &Input, i: usize) -> Option<u32> {
    input.captures.get(i).and_then(|c| c.parse().ok())
}

fn cpus(text: &str) -> Result<Vec<u32>, Vec<Problem>> {
    cpulist::parse(text).map_err(|e| vec![Problem::at(1, e)])
}

pub fn hostname(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let name = i.text.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return vec![Problem::at(
            1,
            format!("{} is not a host name", parse::quote(name)),
        )];
    }
    h.hostname = Some(name.to_owned());
    Vec::new()
}

/// The node name, the second field of `uname -a` (`Linux compute4 5.4.0 …`).
pub fn hostname_from_uname(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let w: Vec<&str> = i.text.split_whitespace().collect();
    match (w.first(), w.get(1)) {
        (Some(&"Linux"), Some(node)) => {
            h.hostname = Some((*node).to_owned());
            Vec::new()
        }
        _ => vec![Problem::at(
            1,
            format!(
                "expected `Linux <host> <release> …`, found {}",
                parse::shape(i.text.trim())
            ),
        )],
    }
}

pub fn virsh_version(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(
        &mut h.virt_versions,
        parse::virt_versions::parse_virsh_version(i.text),
    )
}

pub fn rpm_list(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(
        &mut h.virt_versions,
        parse::virt_versions::parse_rpm_list(i.text),
    )
}

pub fn dpkg_list(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(
        &mut h.virt_versions,
        parse::virt_versions::parse_dpkg_list(i.text),
    )
}

pub fn proc_version(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep_opt(&mut h.kernel, parse::version::parse_proc_version(i.text))
}

pub fn uname_a(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep_opt(&mut h.kernel, parse::version::parse_uname_a(i.text))
}

pub fn df(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = parse::df::parse(i.text);
    h.filesystems = Some(p.value);
    p.problems
}

/// `date` or `date --utc`: when the snapshot was taken.
pub fn date(i: &Input, h: &mut HostData) -> Vec<Problem> {
    match crate::logs::time::parse_date_output(i.text) {
        Some(t) => {
            h.date = Some(t);
            Vec::new()
        }
        None => vec![Problem::at(
            1,
            format!(
                "expected `date --utc` output (`Thu Feb 10 16:19:17 UTC 2022`), found {}",
                parse::shape(i.text.trim())
            ),
        )],
    }
}

pub fn cmdline(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(&mut h.cmdline, parse::cmdline::parse(i.text))
}

pub fn meminfo(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(&mut h.meminfo, parse::meminfo::parse(i.text))
}

pub fn free(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(&mut h.meminfo, parse::meminfo::parse_free(i.text))
}

pub fn cpuinfo(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(&mut h.cpuinfo, parse::cpuinfo::parse(i.text))
}

pub fn lscpu(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(&mut h.lscpu, parse::lscpu::parse(i.text))
}

/// `sys/devices/system/cpu/cpu*/topology/*`: captures are the CPU number
/// (or `freq`, `idle` for sibling directories, which we skip) and the file.
pub fn cpu_topology(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let (Some(cpu), Some(file)) = (capture(i, 0), i.captures.get(1)) else {
        return Vec::new();
    };
    let slot = h.cpu_topology.entry(cpu).or_default();
    match file.as_str() {
        "physical_package_id" | "core_id" => {
            // Some architectures print -1 for "unknown".
            let v = i.text.trim().parse::<u32>().ok();
            if file == "core_id" {
                slot.core = v;
            } else {
                slot.package = v;
            }
            Vec::new()
        }
        "thread_siblings_list" | "core_cpus_list" => match cpus(i.text) {
            Ok(v) => {
                slot.thread_siblings = Some(v);
                Vec::new()
            }
            Err(p) => p,
        },
        _ => Vec::new(),
    }
}

pub fn cpu_list(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(name) = i.captures.first() else {
        return Vec::new();
    };
    if !matches!(
        name.as_str(),
        "online" | "offline" | "present" | "possible" | "isolated" | "nohz_full"
    ) {
        return Vec::new();
    }
    // `nohz_full` reads `(null)` when unset.
    let text = if i.text.trim() == "(null)" {
        ""
    } else {
        i.text
    };
    match cpus(text) {
        Ok(v) => {
            h.cpu_lists.insert(name.clone(), v);
            Vec::new()
        }
        Err(p) => p,
    }
}

pub fn cpufreq(i: &Input, h: &mut HostData) -> Vec<Problem> {
    if let Some(cpu) = capture(i, 0) {
        h.cpufreq_governors.insert(cpu, i.text.trim().to_owned());
    }
    Vec::new()
}

pub fn loadavg(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep_opt(&mut h.loadavg, parse::loadavg::parse(i.text))
}

pub fn uptime(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep_opt(&mut h.uptime_seconds, parse::uptime::parse(i.text))
}

pub fn stat(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(&mut h.stat, parse::stat::parse(i.text))
}

pub fn pressure(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(resource) = i.captures.first() else {
        return Vec::new();
    };
    if !matches!(resource.as_str(), "cpu" | "memory" | "io" | "irq") {
        return Vec::new();
    }
    let p = parse::pressure::parse(i.text);
    h.pressure.insert(resource.clone(), p.value);
    p.problems
}

pub fn diskstats(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(&mut h.diskstats, parse::diskstats::parse(i.text))
}

pub fn netdev(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(&mut h.netdev, parse::netdev::parse(i.text))
}

pub fn numa_cpulist(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(node) = capture(i, 0) else {
        return Vec::new();
    };
    match cpus(i.text) {
        Ok(v) => {
            h.numa.entry(node).or_default().cpus = Some(v);
            Vec::new()
        }
        Err(p) => p,
    }
}

/// Kernels before 2.6.26 have only the hex `cpumap`; `cpulist`, read
/// first, wins where both exist.
pub fn numa_cpumap(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(node) = capture(i, 0) else {
        return Vec::new();
    };
    let slot = &mut h.numa.entry(node).or_default().cpus;
    if slot.is_some() {
        return Vec::new();
    }
    match cpulist::parse_mask(i.text) {
        Ok(v) => {
            *slot = Some(v);
            Vec::new()
        }
        Err(e) => vec![Problem::at(1, e)],
    }
}

pub fn numa_meminfo(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(node) = capture(i, 0) else {
        return Vec::new();
    };
    keep(
        &mut h.numa.entry(node).or_default().meminfo,
        parse::meminfo::parse(i.text),
    )
}

pub fn numa_distance(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(node) = capture(i, 0) else {
        return Vec::new();
    };
    let d: Result<Vec<u32>, _> = i.text.split_whitespace().map(str::parse).collect();
    match d {
        Ok(d) => {
            h.numa.entry(node).or_default().distances = Some(d);
            Vec::new()
        }
        Err(_) => vec![Problem::at(
            1,
            format!("expected distances, found {}", parse::shape(i.text.trim())),
        )],
    }
}

/// Store one pool counter file; `counter` is the `{nr,free,resv,surplus}`
/// capture of `<counter>_hugepages`.
fn pool_counter(
    pools: &mut std::collections::BTreeMap<u64, super::HugepagePool>,
    size: Option<u32>,
    file: Option<&String>,
    text: &str,
) -> Vec<Problem> {
    let (Some(size), Some(file)) = (size, file) else {
        return Vec::new();
    };
    let p = parse::single_u64(text);
    let pool = pools.entry(u64::from(size)).or_default();
    match file.as_str() {
        "nr" => pool.total = p.value,
        "free" => pool.free = p.value,
        "resv" => pool.reserved = p.value,
        "surplus" => pool.surplus = p.value,
        _ => return Vec::new(),
    }
    p.problems
}

pub fn numa_hugepages(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(node) = capture(i, 0) else {
        return Vec::new();
    };
    let pools = &mut h.numa.entry(node).or_default().hugepages;
    pool_counter(pools, capture(i, 1), i.captures.get(2), i.text)
}

pub fn hugepages(i: &Input, h: &mut HostData) -> Vec<Problem> {
    pool_counter(&mut h.hugepages, capture(i, 0), i.captures.get(1), i.text)
}

pub fn numactl(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(&mut h.numactl, parse::numactl::parse(i.text))
}

pub fn thp(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let slot = match i.captures.first().map(String::as_str) {
        Some("enabled") => &mut h.thp_enabled,
        Some("defrag") => &mut h.thp_defrag,
        _ => return Vec::new(),
    };
    if slot.is_some() {
        // The upstream path came first in the table and wins.
        return Vec::new();
    }
    let p = parse::bracketed_choice(i.text);
    *slot = p.value.0;
    p.problems
}

pub fn ksm(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(name) = i.captures.first() else {
        return Vec::new();
    };
    let p = parse::single_u64(i.text);
    if let Some(v) = p.value {
        h.ksm.insert(name.clone(), v);
    }
    p.problems
}

pub fn sysctl_file(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(rel) = i.captures.first() else {
        return Vec::new();
    };
    h.sysctl
        .entry(parse::sysctl::name_from_path(rel))
        .or_insert_with(|| parse::sysctl::normalise(i.text));
    Vec::new()
}

pub fn sysctl_a(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = parse::sysctl::parse_sysctl_a(i.text);
    for (k, v) in p.value {
        // Files under proc/sys were read first and take precedence.
        h.sysctl.entry(k).or_insert(v);
    }
    p.problems
}

pub fn block_queue(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let (Some(dev), Some(attr)) = (i.captures.first(), i.captures.get(1)) else {
        return Vec::new();
    };
    parse::block::store(h.block.entry(dev.clone()).or_default(), attr, i.text)
}

pub fn device_presence(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let node = i.path.trim_start_matches("dev/");
    h.devices.insert(node.to_owned(), i.text == "present");
    Vec::new()
}

pub fn ls_dev(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = parse::devices::parse_ls_dev(i.text);
    h.devices.extend(p.value);
    p.problems
}

fn domain(i: &Input, h: &mut HostData, origin: DomainOrigin) -> Vec<Problem> {
    let p = parse::domain::parse(i.text);
    if !p.problems.is_empty() {
        h.invalid_domain_xml.push(InvalidXml {
            path: i.path.to_owned(),
            problems: p.problems.clone(),
        });
    }
    let Some(domain) = p.value else {
        return p.problems;
    };
    let key = if domain.name.is_empty() {
        i.path.to_owned()
    } else {
        domain.name.clone()
    };
    let persistent = origin == DomainOrigin::Persistent;
    let active = origin == DomainOrigin::Live;
    match h.domains.get_mut(&key) {
        // Candidates come best-first, so an existing entry is at least as
        // good; only remember what this one tells about the domain.
        Some(existing) => {
            existing.persistent |= persistent;
            existing.active |= active;
        }
        None => {
            h.domains.insert(
                key,
                DomainEntry {
                    domain,
                    origin,
                    path: i.path.to_owned(),
                    persistent,
                    active,
                },
            );
        }
    }
    p.problems
}

/// `sos_commands/virsh/virsh_-r_dumpxml_*` also matches nothing else in a
/// sosreport; a capture keeps the inactive XML in its own directory.
pub fn live_domain(i: &Input, h: &mut HostData) -> Vec<Problem> {
    domain(i, h, DomainOrigin::Live)
}

pub fn dumpxml_domain(i: &Input, h: &mut HostData) -> Vec<Problem> {
    domain(i, h, DomainOrigin::Dumpxml)
}

pub fn persistent_domain(i: &Input, h: &mut HostData) -> Vec<Problem> {
    domain(i, h, DomainOrigin::Persistent)
}

pub fn domain_snapshot(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(dom) = i.captures.first() else {
        return Vec::new();
    };
    let p = parse::domain_snapshot::parse(i.text);
    if let Some(s) = p.value {
        h.snapshots.entry(dom.clone()).or_default().push(s);
    }
    p.problems
}

pub fn capabilities(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep_opt(&mut h.capabilities, parse::capabilities::parse(i.text))
}

fn log(i: &Input, h: &mut HostData, kind: &'static str) -> Vec<Problem> {
    h.logs.push(LogFile {
        kind,
        path: i.path.to_owned(),
        bytes: i.bytes,
    });
    Vec::new()
}

pub fn log_dmesg(i: &Input, h: &mut HostData) -> Vec<Problem> {
    log(i, h, "dmesg")
}

pub fn log_syslog(i: &Input, h: &mut HostData) -> Vec<Problem> {
    log(i, h, "syslog")
}

pub fn log_journal(i: &Input, h: &mut HostData) -> Vec<Problem> {
    log(i, h, "journal")
}

pub fn log_qemu(i: &Input, h: &mut HostData) -> Vec<Problem> {
    log(i, h, "qemu")
}

pub fn log_libvirtd(i: &Input, h: &mut HostData) -> Vec<Problem> {
    log(i, h, "libvirtd")
}

/// `/proc/modules` or `lsmod`: the first word of each line is a module
/// (lsmod's `Module Size Used by` header is not).
pub fn modules(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let names = h.modules.get_or_insert_with(Default::default);
    for line in i.text.lines() {
        match line.split_whitespace().next() {
            Some("Module") | None => {}
            Some(name) => {
                names.insert(name.to_owned());
            }
        }
    }
    Vec::new()
}

pub fn libvirt_config(i: &Input, h: &mut HostData) -> Vec<Problem> {
    h.libvirt_config.push(i.path.to_owned());
    Vec::new()
}

pub fn ps(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep(&mut h.processes, parse::processes::parse_ps(i.text))
}

/// `proc/<pid>/comm`: only numeric directories are processes
/// (`self` and `thread-self` are links to one of them).
pub fn proc_comm(i: &Input, h: &mut HostData) -> Vec<Problem> {
    if capture(i, 0).is_some() {
        let name = i.text.trim();
        if !name.is_empty() {
            h.processes
                .get_or_insert_with(Default::default)
                .insert(name.to_owned());
        }
    }
    Vec::new()
}

pub fn ethtool_rings(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(dev) = i.captures.first() else {
        return Vec::new();
    };
    let p = parse::ethtool::parse_rings(i.text);
    if let Some(r) = p.value {
        h.nic_rings.insert(dev.clone(), r);
    }
    p.problems
}

/// `run/libvirt/qemu/<domain>.pid`: the running domain's QEMU process.
pub fn domain_pid(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(name) = i.captures.first() else {
        return Vec::new();
    };
    let p = parse::pidfile::parse(i.text);
    if let Some(pid) = p.value {
        h.domain_pids.entry(name.clone()).or_insert(pid);
    }
    p.problems
}

/// `virt-doctor/devices` of a capture: `dev/kvm present` per line.
pub fn device_list(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = capture::devices::parse(i.text);
    for d in p.value {
        let node = d.path.trim_start_matches("dev/").to_owned();
        h.devices.insert(node, d.present);
    }
    p.problems
}

pub fn kvm_probe(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep_opt(&mut h.kvm_probe, capture::kvm::parse(i.text))
}

pub fn capture_info(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep_opt(&mut h.capture, capture::info::parse(i.text))
}

pub fn virsh_list(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = parse::virsh::parse_list(i.text);
    h.domain_states.extend(p.value);
    p.problems
}

pub fn domstats(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = parse::virsh::parse_domstats(i.text);
    h.domain_stats.extend(p.value);
    p.problems
}

/// `virt-doctor/samples/domain-pids`: pid files, when captured, were
/// read first and win.
pub fn sampled_pids(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = capture::pids::parse(i.text);
    for (dom, pid) in p.value {
        h.domain_pids.entry(dom).or_insert(pid);
    }
    p.problems
}

fn sample<'h>(i: &Input, h: &'h mut HostData) -> Option<&'h mut Sample> {
    let n = capture(i, 0)?;
    Some(h.samples.entry(n).or_default())
}

pub fn sample_uptime(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = parse::uptime::parse(i.text);
    if let Some(s) = sample(i, h) {
        s.uptime = p.value;
    }
    p.problems
}

pub fn sample_stat(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = parse::stat::parse(i.text);
    if let Some(s) = sample(i, h) {
        s.stat = Some(p.value);
    }
    p.problems
}

pub fn sample_diskstats(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = parse::diskstats::parse(i.text);
    if let Some(s) = sample(i, h) {
        s.diskstats = Some(p.value);
    }
    p.problems
}

pub fn sample_netdev(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = parse::netdev::parse(i.text);
    if let Some(s) = sample(i, h) {
        s.netdev = Some(p.value);
    }
    p.problems
}

pub fn sample_pressure(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let Some(resource) = i.captures.get(1).cloned() else {
        return Vec::new();
    };
    let p = parse::pressure::parse(i.text);
    if let Some(s) = sample(i, h) {
        s.pressure.insert(resource, p.value);
    }
    p.problems
}

fn vcpu_thread<'h>(i: &Input, h: &'h mut HostData) -> Option<&'h mut VcpuThread> {
    let (pid, tid) = (capture(i, 1)?, capture(i, 2)?);
    Some(sample(i, h)?.vcpu_threads.entry((pid, tid)).or_default())
}

pub fn sample_vcpu_comm(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let vcpu = capture::vcpu::vcpu_number(i.text);
    if let Some(t) = vcpu_thread(i, h) {
        t.vcpu = vcpu;
    }
    Vec::new()
}

pub fn sample_vcpu_schedstat(i: &Input, h: &mut HostData) -> Vec<Problem> {
    let p = parse::schedstat::parse(i.text);
    if let Some(t) = vcpu_thread(i, h) {
        t.schedstat = p.value;
    }
    p.problems
}

pub fn cgroup_v2(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep_cgroups(h, parse::cgroups::parse_v2(i.text))
}

pub fn cgroup_v1(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep_cgroups(h, parse::cgroups::parse_v1(i.text))
}

/// `sys/kernel/iommu_groups/<n>/type`: the group exists.
pub fn iommu_group(i: &Input, h: &mut HostData) -> Vec<Problem> {
    if let Some(n) = capture(i, 0) {
        h.iommu_groups
            .get_or_insert_with(Default::default)
            .insert(n);
    }
    Vec::new()
}

/// `virt-doctor/iommu-groups`: the number of entries of
/// `sys/kernel/iommu_groups` at capture time.
pub fn iommu_group_count(i: &Input, h: &mut HostData) -> Vec<Problem> {
    keep_opt(&mut h.iommu_group_count, capture::iommu::parse(i.text))
}
