//! Entry points for the fuzzers (`fuzz/`, `cargo fuzz`), one per input
//! format, and for the regression test that replays every input a fuzzer
//! ever crashed on (`tests/fuzz_regressions.rs`). Keeping them here means
//! the fuzz targets are one line each and the replay runs exactly what was
//! fuzzed.
//!
//! Every entry takes arbitrary bytes and must return without panicking;
//! the results are thrown away (the fuzzer judges only crashes, hangs and
//! memory).

use std::path::Path;
use std::sync::OnceLock;

use crate::facts;
use crate::logs::{self, LogRules, Window};
use crate::parse;
use crate::rules::Catalog;
use crate::snapshot::{Kind, Limits, Snapshot};

/// Every target name, in the order `fuzz/fuzz_targets/` has them.
pub const TARGETS: &[&str] = &[
    "meminfo",
    "cpuinfo",
    "numa_sysfs",
    "sysctl",
    "block_queue",
    "domain_xml",
    "domstatus",
    "snapshot_xml",
    "capabilities",
    "dmesg",
    "syslog",
    "journal",
    "qemu_log",
    "diskstats",
    "netdev",
    "pressure",
    "capture_files",
    "archive",
];

/// Run target `name` on `data`. Unknown names panic (a harness bug).
pub fn run(name: &str, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let t = text.as_ref();
    match name {
        "meminfo" => {
            let _ = parse::meminfo::parse(t);
            let _ = parse::meminfo::parse_free(t);
        }
        "cpuinfo" => {
            let _ = parse::cpuinfo::parse(t);
            let _ = parse::lscpu::parse(t);
        }
        "numa_sysfs" => numa_sysfs(data),
        "sysctl" => {
            let _ = parse::sysctl::parse_sysctl_a(t);
            let _ = parse::sysctl::normalise(t);
            let _ = parse::sysctl::name_from_path(t);
        }
        "block_queue" => {
            let mut q = parse::block::BlockQueue::default();
            for attr in ["scheduler", "rotational", "read_ahead_kb", "nr_requests"] {
                let _ = parse::block::store(&mut q, attr, t);
            }
        }
        "domain_xml" | "domstatus" => {
            let _ = parse::domain::parse(t);
        }
        "snapshot_xml" => {
            let _ = parse::domain_snapshot::parse(t);
        }
        "capabilities" => {
            let _ = parse::capabilities::parse(t);
        }
        "dmesg" => log_pipeline("var/log/dmesg", data),
        "syslog" => log_pipeline("var/log/messages", data),
        "journal" => log_pipeline("sos_commands/logs/journalctl_--no-pager", data),
        "qemu_log" => log_pipeline("var/log/libvirt/qemu/guest.log", data),
        "diskstats" => {
            let _ = parse::diskstats::parse(t);
        }
        "netdev" => {
            let _ = parse::netdev::parse(t);
        }
        "pressure" => {
            let _ = parse::pressure::parse(t);
        }
        "capture_files" => {
            let _ = parse::capture::info::parse(t);
            let _ = parse::capture::devices::parse(t);
            let _ = parse::capture::kvm::parse(t);
            let _ = parse::capture::iommu::parse(t);
            let _ = parse::capture::pids::parse(t);
            let _ = parse::capture::vcpu::vcpu_number(t);
            let _ = parse::pidfile::parse(t);
            let _ = parse::virsh::parse_list(t);
            let _ = parse::virsh::parse_domstats(t);
            let _ = parse::schedstat::parse(t);
            let _ = parse::cgroups::parse_v1(t);
            let _ = parse::cgroups::parse_v2(t);
        }
        "archive" => archive(data),
        other => panic!("no fuzz target `{other}`"),
    }
}

/// The input split at NUL bytes fills a two-node NUMA sysfs tree and CPU
/// topology, then the whole facts stage runs over it (parsers, the store
/// functions that merge them, derived values).
fn numa_sysfs(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let mut next = || parts.next().unwrap_or_default().to_vec();
    let mut files = Vec::new();
    for node in 0..2 {
        for f in ["cpulist", "cpumap", "meminfo", "distance"] {
            files.push((
                format!("sys/devices/system/node/node{node}/{f}"),
                next(),
                None,
            ));
        }
        files.push((
            format!("sys/devices/system/node/node{node}/hugepages/hugepages-2048kB/nr_hugepages"),
            next(),
            None,
        ));
    }
    for cpu in 0..2 {
        for f in ["physical_package_id", "core_id", "thread_siblings_list"] {
            files.push((
                format!("sys/devices/system/cpu/cpu{cpu}/topology/{f}"),
                next(),
                None,
            ));
        }
    }
    files.push(("sys/devices/system/cpu/online".into(), next(), None));
    let snap = Snapshot::in_memory(Kind::Archive, Path::new("fuzz"), files);
    let _ = facts::gather(&snap);
}

/// The built-in log rules, compiled once (compiling them is most of the
/// cost of a small input).
fn log_rules() -> &'static LogRules<'static> {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    static RULES: OnceLock<LogRules<'static>> = OnceLock::new();
    RULES.get_or_init(|| {
        let catalog =
            CATALOG.get_or_init(|| Catalog::load(&[]).expect("the built-in catalog loads"));
        LogRules::new(catalog.log_rules.iter().collect())
            .expect("the built-in log patterns combine")
    })
}

/// The input as one log file, through the whole log stage: line
/// splitting, time stamps, every built-in log rule, grouping.
fn log_pipeline(path: &str, data: &[u8]) {
    let snap = Snapshot::in_memory(
        Kind::Archive,
        Path::new("fuzz"),
        vec![(path.to_owned(), data.to_vec(), Some(1_700_000_000))],
    );
    let facts = facts::gather(&snap);
    let _ = logs::analyze(
        &snap,
        &facts,
        log_rules(),
        Window::default(),
        Default::default(),
    );
}

/// The input as a snapshot archive (tar, gzip or xz) under small caps, then
/// the facts stage over whatever it held.
fn archive(data: &[u8]) {
    let limits = Limits {
        max_total_bytes: 8 << 20,
        max_file_bytes: 4 << 20,
        max_entries: 10_000,
        // Small enough that the fuzzer's members take the spill path too.
        spill_over: 64 << 10,
        max_memory_bytes: 1 << 20,
    };
    if let Ok(snap) = Snapshot::from_archive_reader(data, limits, Path::new("fuzz.tar")) {
        let _ = facts::gather(&snap);
    }
}
