//! The source table: every piece of host data virt-doctor reads, where it
//! may be found, and which parser turns it into [`HostData`].
//!
//! This table is the only place that knows paths. A snapshot from a live
//! host, a `virt-doctor collect` capture and a sosreport differ only in
//! which candidates exist, so supporting a new layout means adding a
//! candidate here, and adding a source means one entry plus a parser in
//! `crate::parse`. Candidates are listed in priority order. Red Hat's
//! insights-client archives keep command output in `insights_commands/`
//! instead of `sos_commands/<plugin>/`; where they carry a source, it is a
//! candidate too. The paths of virt-doctor's own capture files are
//! shared with the collector that writes them
//! (`crate::parse::capture::paths`).

mod host_data;
mod locate;
mod store;

use serde::Serialize;

pub use host_data::*;
pub use locate::{has_host_data, open_host, Located};

use crate::parse::Problem;
use crate::snapshot::{ReadError, Snapshot};

/// Where one candidate's data is.
#[derive(Debug, Clone, Copy)]
pub enum Locator {
    /// A file path or pattern (see `snapshot::glob`); each match is read.
    File(&'static str),
    /// Paths whose mere presence is the data (device nodes: never opened).
    /// Live host only; the store function receives `present` or `absent`.
    Exists(&'static [&'static str]),
    /// Files listed by name and size but not read (log analysis reads them
    /// itself, streaming).
    Names(&'static str),
}

/// Everything a store function gets about one file.
pub struct Input<'a> {
    pub path: &'a str,
    pub text: &'a str,
    /// What each `*` of the pattern matched.
    pub captures: &'a [String],
    pub bytes: Option<u64>,
}

pub type Store = fn(&Input, &mut HostData) -> Vec<Problem>;

#[derive(Clone, Copy)]
pub struct Candidate {
    pub at: Locator,
    pub store: Store,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The first candidate that yields data wins; later ones are fallbacks.
    First,
    /// Every candidate contributes; the store functions merge, earlier
    /// candidates taking precedence.
    All,
}

pub struct Source {
    pub id: &'static str,
    pub pick: Pick,
    /// Largest file read for this source; more is cut and reported.
    pub max_bytes: u64,
    pub candidates: &'static [Candidate],
}

const fn file(path: &'static str, store: Store) -> Candidate {
    Candidate {
        at: Locator::File(path),
        store,
    }
}

const fn names(pattern: &'static str, store: Store) -> Candidate {
    Candidate {
        at: Locator::Names(pattern),
        store,
    }
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

const fn one(id: &'static str, candidates: &'static [Candidate]) -> Source {
    Source {
        id,
        pick: Pick::First,
        max_bytes: 16 * MIB,
        candidates,
    }
}

const fn all(id: &'static str, candidates: &'static [Candidate]) -> Source {
    Source {
        id,
        pick: Pick::All,
        max_bytes: 16 * MIB,
        candidates,
    }
}

use crate::parse::capture::paths as own;
use store as s;

/// libvirt's pid files of running domains (the sampler reads them too).
pub const PID_FILES: &[&str] = &[PID_FILE, PID_FILE_VAR_RUN];
const PID_FILE: &str = "run/libvirt/qemu/*.pid";
const PID_FILE_VAR_RUN: &str = "var/run/libvirt/qemu/*.pid";

/// The sources without which an analysis is partial, by what they tell:
/// a snapshot lacking all sources of a group says so above its findings
/// (and in the report's `coverage`), and these are what is named when a
/// path holds no host at all.
pub const CORE: &[(&str, &[&str])] = &[
    ("memory", &["meminfo"]),
    ("CPUs", &["cpuinfo", "lscpu", "cpu_topology"]),
    ("domain definitions", &["domains"]),
    ("logs", &["logs"]),
];

pub static SOURCES: &[Source] = &[
    one("hostname", &[
        file("proc/sys/kernel/hostname", s::hostname),
        file("sos_commands/host/hostname", s::hostname),
        file("sos_commands/general/hostname", s::hostname),
        file("hostname", s::hostname),
        file("insights_commands/hostname", s::hostname),
        file("etc/hostname", s::hostname),
        // `uname -a` names the node too: a sosreport without any of the
        // above still says which host it is.
        file("sos_commands/kernel/uname_-a", s::hostname_from_uname),
        file("insights_commands/uname_-a", s::hostname_from_uname),
    ]),
    one("kernel", &[
        file("proc/version", s::proc_version),
        file("sos_commands/kernel/uname_-a", s::uname_a),
        file("insights_commands/uname_-a", s::uname_a),
    ]),
    one("cmdline", &[file("proc/cmdline", s::cmdline)]),
    one("virt_versions", &[
        file(own::VIRSH_VERSION, s::virsh_version),
        file("sos_commands/libvirt/virsh_-r_version", s::virsh_version),
        file("installed-rpms", s::rpm_list),
        file("insights_commands/rpm_-qa_--root_._--qf_NAME_-_VERSION_-_RELEASE_._ARCH_INSTALLTIME_date_BUILDTIME_VENDOR_BUILDHOST_DUMMY_SIGPGP_pgpsig", s::rpm_list),
        file("sos_commands/dpkg/dpkg_-l", s::dpkg_list),
    ]),
    one("date", &[
        file("sos_commands/date/date_--utc", s::date),
        file("sos_commands/date/date", s::date),
        file("insights_commands/date_--utc", s::date),
        file("insights_commands/date", s::date),
    ]),
    one("meminfo", &[
        file("proc/meminfo", s::meminfo),
        file("sos_commands/memory/free", s::free),
    ]),
    one("cpuinfo", &[file("proc/cpuinfo", s::cpuinfo)]),
    one("lscpu", &[file("sos_commands/processor/lscpu", s::lscpu)]),
    all("cpu_topology", &[file("sys/devices/system/cpu/cpu*/topology/{physical_package_id,core_id,thread_siblings_list}", s::cpu_topology)]),
    all("cpu_lists", &[file("sys/devices/system/cpu/{online,offline,present,possible,isolated,nohz_full}", s::cpu_list)]),
    all("cpufreq", &[file("sys/devices/system/cpu/cpu*/cpufreq/scaling_governor", s::cpufreq)]),
    one("loadavg", &[file("proc/loadavg", s::loadavg)]),
    one("uptime", &[file("proc/uptime", s::uptime)]),
    one("stat", &[file("proc/stat", s::stat)]),
    all("pressure", &[file("proc/pressure/*", s::pressure)]),
    one("diskstats", &[file("proc/diskstats", s::diskstats)]),
    one("filesystems", &[
        file("sos_commands/filesys/df_-al_-x_autofs", s::df),
        file("sos_commands/filesys/df_-al", s::df),
        file("insights_commands/df_-al", s::df),
        file("insights_commands/df_-alP", s::df),
    ]),
    one("netdev", &[file("proc/net/dev", s::netdev)]),
    all("numa", &[
        file("sys/devices/system/node/node*/cpulist", s::numa_cpulist),
        file("sys/devices/system/node/node*/cpumap", s::numa_cpumap),
        file("sys/devices/system/node/node*/meminfo", s::numa_meminfo),
        file("sys/devices/system/node/node*/distance", s::numa_distance),
        file("sys/devices/system/node/node*/hugepages/hugepages-*kB/{nr,free,surplus}_hugepages", s::numa_hugepages),
    ]),
    one("numactl", &[
        file("sos_commands/numa/numactl_--hardware", s::numactl),
    ]),
    all("hugepages", &[file("sys/kernel/mm/hugepages/hugepages-*kB/{nr,free,resv,surplus}_hugepages", s::hugepages)]),
    all("thp", &[
        file("sys/kernel/mm/transparent_hugepage/{enabled,defrag}", s::thp),
        file("sys/kernel/mm/redhat_transparent_hugepage/{enabled,defrag}", s::thp),
    ]),
    all("ksm", &[file("sys/kernel/mm/ksm/{run,pages_shared,pages_sharing,pages_unshared,pages_volatile,full_scans,merge_across_nodes,sleep_millisecs,pages_to_scan,max_page_sharing,use_zero_pages}", s::ksm)]),
    all("sysctl", &[
        file("proc/sys/**", s::sysctl_file),
        file("sos_commands/kernel/sysctl_-a", s::sysctl_a),
    ]),
    all("block", &[file("sys/block/*/queue/{scheduler,rotational,read_ahead_kb,nr_requests}", s::block_queue)]),
    one("devices", &[
        Candidate {
            at: Locator::Exists(&["dev/kvm", "dev/vhost-net", "dev/net/tun", "dev/vhost-vsock"]),
            store: s::device_presence,
        },
        file(own::DEVICES, s::device_list),
        file("sos_commands/block/ls_-lanR_.dev", s::ls_dev),
    ]),
    one("kvm", &[file(own::KVM, s::kvm_probe)]),
    one("cgroups", &[
        file("sys/fs/cgroup/cgroup.controllers", s::cgroup_v2),
        file("proc/cgroups", s::cgroup_v1),
    ]),
    all("iommu_groups", &[
        file("sys/kernel/iommu_groups/*/type", s::iommu_group),
        file(own::IOMMU_GROUPS, s::iommu_group_count),
    ]),
    Source {
        id: "domains",
        pick: Pick::All,
        max_bytes: 64 * MIB,
        candidates: &[
            file("run/libvirt/qemu/*.xml", s::live_domain),
            file("var/run/libvirt/qemu/*.xml", s::live_domain),
            file(own::VIRSH_DUMPXML, s::dumpxml_domain),
            file("sos_commands/libvirt/virsh_-r_dumpxml_*", s::dumpxml_domain),
            file(own::VIRSH_DUMPXML_INACTIVE, s::persistent_domain),
            file("etc/libvirt/qemu/*.xml", s::persistent_domain),
        ],
    },
    all("domain_pids", &[
        file(PID_FILE, s::domain_pid),
        file(PID_FILE_VAR_RUN, s::domain_pid),
        file(own::SAMPLED_PIDS, s::sampled_pids),
    ]),
    one("domain_states", &[
        file(own::VIRSH_LIST, s::virsh_list),
        file("sos_commands/libvirt/virsh_-r_list_--all", s::virsh_list),
    ]),
    one("domain_stats", &[file(own::VIRSH_DOMSTATS, s::domstats)]),
    // libvirt's answer first: the files below /var/lib are libvirt's
    // private copies and may lag behind it.
    one("domain_snapshots", &[
        file(own::VIRSH_SNAPSHOT, s::domain_snapshot),
        file("var/lib/libvirt/qemu/snapshot/*/*.xml", s::domain_snapshot),
    ]),
    one("capabilities", &[
        file(own::VIRSH_CAPABILITIES, s::capabilities),
        file("sos_commands/libvirt/virsh_-r_capabilities", s::capabilities),
    ]),
    one("modules", &[
        file("proc/modules", s::modules),
        file("sos_commands/kernel/lsmod", s::modules),
        file("insights_commands/lsmod", s::modules),
    ]),
    all("libvirt_config", &[names("etc/libvirt/{libvirtd,virtqemud,qemu}.conf", s::libvirt_config)]),
    one("processes", &[
        file("sos_commands/process/ps_auxwww", s::ps),
        file("sos_commands/process/ps_auxfwww", s::ps),
        file("insights_commands/ps_auxww", s::ps),
        file("proc/*/comm", s::proc_comm),
    ]),
    all("nic_rings", &[
        file("sos_commands/networking/ethtool_-g_*", s::ethtool_rings),
        file("insights_commands/ethtool_-g_*", s::ethtool_rings),
    ]),
    one("capture", &[file(own::INFO, s::capture_info)]),
    all("samples", &[
        file(own::SAMPLE_UPTIME, s::sample_uptime),
        file(own::SAMPLE_STAT, s::sample_stat),
        file(own::SAMPLE_DISKSTATS, s::sample_diskstats),
        file(own::SAMPLE_NETDEV, s::sample_netdev),
        file(own::SAMPLE_PRESSURE, s::sample_pressure),
        file(own::SAMPLE_VCPU_COMM, s::sample_vcpu_comm),
        file(own::SAMPLE_VCPU_SCHEDSTAT, s::sample_vcpu_schedstat),
    ]),
    all("logs", &[
        names("var/log/dmesg", s::log_dmesg),
        names(own::DMESG, s::log_dmesg),
        names("var/log/messages*", s::log_syslog),
        names("var/log/syslog*", s::log_syslog),
        names("var/log/kern.log*", s::log_syslog),
        names("sos_commands/logs/journalctl_*", s::log_journal),
        names("var/log/libvirt/qemu/*.log*", s::log_qemu),
        names("var/log/libvirt/libvirtd.log*", s::log_libvirtd),
    ]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Missing,
    Unreadable,
    Malformed,
}

impl Status {
    /// As a report says it: `malformed`, `格式错误`.
    pub fn word(self, lang: crate::lang::Lang) -> &'static str {
        use crate::lang::Lang::{En, ZhCn};
        match (self, lang) {
            (Status::Ok, En) => "ok",
            (Status::Missing, En) => "missing",
            (Status::Unreadable, En) => "unreadable",
            (Status::Malformed, En) => "malformed",
            (Status::Ok, ZhCn) => "正常",
            (Status::Missing, ZhCn) => "缺失",
            (Status::Unreadable, ZhCn) => "无法读取",
            (Status::Malformed, ZhCn) => "格式错误",
        }
    }
}

/// How one source fared; serialised as `sources[]` in the facts.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub id: String,
    /// The file (or pattern, when several files matched) the data came from.
    pub path: Option<String>,
    pub status: Status,
    /// For `unreadable`, the OS error; for `malformed`, `file:line: what`;
    /// notes about truncation and fallbacks otherwise.
    pub detail: Option<String>,
    /// Number of files (or commands) read.
    pub files: usize,
}

/// Read and parse every source in [`SOURCES`] from `snap`.
pub fn load(snap: &Snapshot) -> (HostData, Vec<SourceStatus>) {
    let mut data = HostData::default();
    let mut statuses = Vec::new();
    if !snap.notices().is_empty() {
        statuses.push(SourceStatus {
            id: "snapshot".into(),
            path: Some(snap.origin().display().to_string()),
            status: Status::Malformed,
            detail: Some(snap.notices().join("; ")),
            files: 0,
        });
    }
    for source in SOURCES {
        statuses.push(load_source(snap, source, &mut data));
    }
    (data, statuses)
}

/// What happened to each input of one source, for the status roll-up.
#[derive(Default)]
struct Tally {
    paths: Vec<String>,
    parsed: usize,
    unreadable: Vec<String>,
    malformed: Vec<String>,
    notes: Vec<String>,
}

fn load_source(snap: &Snapshot, source: &Source, data: &mut HostData) -> SourceStatus {
    let mut tally = Tally::default();
    for candidate in source.candidates {
        let before = tally.parsed;
        match candidate.at {
            Locator::File(p) => {
                for m in snap.glob(p) {
                    match snap.read(&m.path, source.max_bytes) {
                        Ok(contents) => {
                            if contents.truncated {
                                tally.notes.push(format!(
                                    "{}: only the first {} MiB were read",
                                    m.path,
                                    source.max_bytes / MIB
                                ));
                            }
                            let text = String::from_utf8_lossy(&contents.bytes);
                            let input = Input {
                                path: &m.path,
                                text: &text,
                                captures: &m.captures,
                                bytes: Some(contents.bytes.len() as u64),
                            };
                            record(&mut tally, &m.path, (candidate.store)(&input, data));
                        }
                        Err(ReadError::NotFound) => {}
                        Err(e) => tally.unreadable.push(format!("{}: {e}", m.path)),
                    }
                }
            }
            Locator::Exists(paths) => {
                if snap.is_running_host() {
                    for p in paths {
                        let present = snap.stat(p).is_ok();
                        let input = Input {
                            path: p,
                            text: if present { "present" } else { "absent" },
                            captures: &[],
                            bytes: None,
                        };
                        record(&mut tally, p, (candidate.store)(&input, data));
                    }
                }
            }
            Locator::Names(p) => {
                for m in snap.glob(p) {
                    let bytes = match snap.stat(&m.path) {
                        Ok(crate::snapshot::resolve::Node::File { size }) => Some(size),
                        _ => None,
                    };
                    let input = Input {
                        path: &m.path,
                        text: "",
                        captures: &m.captures,
                        bytes,
                    };
                    record(&mut tally, &m.path, (candidate.store)(&input, data));
                }
            }
        }
        if tally.parsed > before && source.pick == Pick::First {
            break;
        }
    }
    summarise(source, tally)
}

fn record(tally: &mut Tally, path: &str, problems: Vec<Problem>) {
    tally.parsed += 1;
    tally.paths.push(path.to_owned());
    if let Some(first) = problems.first() {
        let at = match first.line {
            Some(l) => format!("{path}:{l}"),
            None => path.to_owned(),
        };
        let more = if problems.len() > 1 {
            format!(" (and {} more problems)", problems.len() - 1)
        } else {
            String::new()
        };
        tally
            .malformed
            .push(format!("{at}: {}{more}", first.message));
    }
}

fn summarise(source: &Source, t: Tally) -> SourceStatus {
    let status = if !t.malformed.is_empty() {
        Status::Malformed
    } else if t.parsed > 0 {
        Status::Ok
    } else if !t.unreadable.is_empty() {
        Status::Unreadable
    } else {
        Status::Missing
    };
    let path = match t.paths.len() {
        0 => t
            .unreadable
            .first()
            .map(|u| u.split(": ").next().unwrap_or("").to_owned()),
        1 => t.paths.first().cloned(),
        _ => common_directory(&t.paths),
    };
    let mut detail: Vec<String> = Vec::new();
    detail.extend(t.malformed.iter().take(5).cloned());
    if t.malformed.len() > 5 {
        detail.push(format!(
            "{} more files with problems",
            t.malformed.len() - 5
        ));
    }
    // For a source with data, unreadable extra files are worth a note;
    // for one without, they are the whole story.
    detail.extend(t.unreadable.iter().take(5).cloned());
    if t.unreadable.len() > 5 {
        detail.push(format!("{} more unreadable files", t.unreadable.len() - 5));
    }
    detail.extend(t.notes);
    if status == Status::Missing {
        let tried: Vec<String> = source
            .candidates
            .iter()
            .map(|c| match c.at {
                Locator::File(p) | Locator::Names(p) => p.to_owned(),
                Locator::Exists(p) => format!("{} (live host only)", p.join(", ")),
            })
            .collect();
        detail.push(format!("looked for {}", tried.join(", ")));
    }
    SourceStatus {
        id: source.id.to_owned(),
        path,
        status,
        detail: (!detail.is_empty()).then(|| detail.join("; ")),
        files: t.parsed,
    }
}

/// `sys/block/sda/queue/scheduler`, `sys/block/vda/queue/rotational` ->
/// `sys/block`: the directory holding every file read, a real path that
/// evidence can point at (the count is the status's `files`). `None` when
/// the files share no directory (`proc/sys/...` and `sos_commands/...`).
fn common_directory(paths: &[String]) -> Option<String> {
    let first: Vec<&str> = paths[0].split('/').collect();
    // Never the whole path of the first file: the result is a directory.
    let mut keep = first.len() - 1;
    for p in &paths[1..] {
        let parts: Vec<&str> = p.split('/').collect();
        keep = keep.min(first.iter().zip(&parts).take_while(|(a, b)| a == b).count());
    }
    (keep > 0).then(|| first[..keep].join("/"))
}
