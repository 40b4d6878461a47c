//! Huge and broken inputs: the answer is a finding or a clear error, never
//! a panic, a hang or unbounded memory. Sizes here are the real ones where
//! that is cheap (a sparse 10 GiB log, a 100 MB line, 5,000 domains, 4,096
//! CPUs in 256 NUMA nodes); time and memory figures for the largest cases
//! are measured in bench/ (bench/README.md), not asserted here.

mod common;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use virt_doctor::analysis;
use virt_doctor::config::Config;
use virt_doctor::logs::Window;
use virt_doctor::rules::Catalog;
use virt_doctor::snapshot::Snapshot;
use virt_doctor::sources::Status;

fn write(root: &Path, rel: &str, data: impl AsRef<[u8]>) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
}

fn analyze(root: &Path) -> analysis::Analysis {
    let catalog = Catalog::load(&[]).unwrap();
    analysis::run(
        &Snapshot::open(root).unwrap(),
        &catalog,
        &Config::default(),
        Window::default(),
    )
}

/// (rule, subject) pairs.
type Subjects = Vec<(String, String)>;

/// Every finding as (rule, subject), and every rule error as (rule,
/// subject): the whole verdict on an input, compared exactly.
fn verdict(a: &analysis::Analysis) -> (Subjects, Subjects) {
    let mut findings: Vec<(String, String)> = a
        .findings
        .iter()
        .map(|f| (f.rule.clone(), f.subject.clone()))
        .collect();
    findings.sort();
    let errors = a
        .rule_errors
        .iter()
        .map(|e| (e.rule.clone(), e.subject.clone()))
        .collect();
    (findings, errors)
}

fn pairs(list: &[(&str, &str)]) -> Subjects {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The status of source `id`, or of the log file at `id` (log reading
/// reports one `log` status per file).
fn status<'a>(a: &'a analysis::Analysis, id: &str) -> &'a virt_doctor::sources::SourceStatus {
    a.facts
        .sources
        .iter()
        .find(|s| s.id == id || (s.id == "log" && s.path.as_deref() == Some(id)))
        .unwrap_or_else(|| panic!("no status for {id}: {:#?}", a.facts.sources))
}

#[test]
fn a_sparse_10_gib_log_is_read_to_the_end_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // 10 GiB of NUL bytes with no newline, then a real OOM kill: the reader
    // must cut the giant "line", keep going, and still find the event.
    let path = root.join("var/log/messages");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = fs::File::create(&path).unwrap();
    f.set_len(10 << 30).unwrap();
    drop(f);
    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    std::io::Write::write_all(
        &mut f,
        b"\nFeb 10 16:20:01 hv01 kernel: Out of memory: Killed process 4242 (qemu-system-x86) total-vm:9000000kB, anon-rss:8000000kB, file-rss:0kB, shmem-rss:0kB, UID:107 pgtables:17000kB oom_score_adj:0\n",
    )
    .unwrap();
    drop(f);
    let a = analyze(root);
    let rules: Vec<&str> = a.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"LOG001"), "{rules:?}");
    let log = status(&a, "var/log/messages");
    assert_eq!(log.status, Status::Malformed);
    assert_eq!(
        log.detail.as_deref(),
        Some("2 lines read; 1 lines longer than 64 KiB were cut")
    );
}

/// A `.tar.xz` sosreport whose 48 MiB `messages` ends with a QEMU OOM
/// kill: the member is spilled to a temporary file as the archive streams
/// past (it is over the 4 MiB a member may take in memory), and read back
/// to its end. The same with caps scaled down so that every member,
/// small ones included, takes the spill path once memory is "full".
#[test]
fn a_large_archive_member_is_spilled_and_read_to_its_end() {
    use std::io::Write;
    let mut messages = Vec::with_capacity(49 << 20);
    let mut i = 0u64;
    while messages.len() < 48 << 20 {
        writeln!(
            messages,
            "Feb 10 16:{:02}:{:02} hv01 systemd[1]: Started Session {i} of user deploy.",
            (i / 60) % 60,
            i % 60
        )
        .unwrap();
        i += 1;
    }
    messages.extend_from_slice(b"Feb 10 16:20:01 hv01 kernel: Out of memory: Killed process 4242 (qemu-system-x86) total-vm:9000000kB, anon-rss:8000000kB\n");
    let lines = i + 1;
    let mut tar_bytes = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar_bytes);
        let mut add = |path: &str, data: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, path, data).unwrap();
        };
        add("sosreport-hv01/proc/meminfo", b"MemTotal: 2048 kB\n");
        add("sosreport-hv01/var/log/messages", &messages);
        b.finish().unwrap();
    }
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&tar_bytes).unwrap();
    let archive = xz.finish().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sosreport-hv01.tar.xz");
    fs::write(&path, &archive).unwrap();
    let catalog = Catalog::load(&[]).unwrap();
    let tight = virt_doctor::snapshot::Limits {
        spill_over: 1 << 10,
        max_memory_bytes: 0,
        ..Default::default()
    };
    for snap in [
        Snapshot::open(&path).unwrap(),
        Snapshot::from_archive_reader(&archive[..], tight, &path).unwrap(),
    ] {
        assert_eq!(snap.notices(), &[] as &[String]);
        let a = analysis::run(&snap, &catalog, &Config::default(), Window::default());
        let oom = a.findings.iter().find(|f| f.rule == "LOG001");
        assert_eq!(oom.map(|f| f.events), Some(Some(1)), "{:?}", a.findings);
        let log = status(&a, "var/log/messages");
        assert_eq!(log.detail, Some(format!("{lines} lines read")));
        assert_eq!(a.facts.host.memory.total_kib, Some(2048));
    }
}

#[test]
fn a_100_mb_line_is_cut_and_said_so() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut big = vec![b'A'; 100_000_000];
    big.extend_from_slice(b"\nMemTotal: 16384 kB\n");
    write(root, "proc/meminfo", &big);
    let mut log = b"Feb 10 16:20:01 hv01 kernel: ".to_vec();
    log.extend(std::iter::repeat_n(b'x', 100_000_000));
    log.extend_from_slice(b"\nFeb 10 16:20:02 hv01 kernel: watchdog: BUG: soft lockup - CPU#3 stuck for 23s! [qemu-kvm:4242]\n");
    write(root, "var/log/messages", &log);
    let a = analyze(root);
    let mem = status(&a, "meminfo");
    assert_eq!(mem.status, Status::Malformed);
    let detail = mem.detail.as_deref().unwrap();
    assert!(
        detail.contains("only the first 16 MiB were read"),
        "{detail}"
    );
    assert!(
        a.findings.iter().any(|f| f.rule == "LOG010"),
        "the line after the giant one is read"
    );
    let log = status(&a, "var/log/messages");
    assert_eq!(
        log.detail.as_deref(),
        Some("2 lines read; 1 lines longer than 64 KiB were cut")
    );
}

#[test]
fn meminfo_at_u64_max_is_a_finding_or_a_rule_error_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let max = u64::MAX;
    let mut meminfo = String::new();
    for key in [
        "MemTotal",
        "MemFree",
        "MemAvailable",
        "SwapTotal",
        "SwapFree",
        "Committed_AS",
        "CommitLimit",
        "AnonHugePages",
        "HugePages_Total",
        "HugePages_Free",
        "Hugepagesize",
    ] {
        writeln!(meminfo, "{key}: {max} kB").unwrap();
    }
    write(root, "proc/meminfo", &meminfo);
    write(
        root,
        "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
        format!("{max}\n"),
    );
    write(
        root,
        "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages",
        format!("{max}\n"),
    );
    write(root, "etc/libvirt/qemu/big.xml", format!(
        "<domain type='kvm'><name>big</name><memory unit='KiB'>{max}</memory><vcpu>4294967295</vcpu>\
         <memoryBacking><hugepages/></memoryBacking><os><type>hvm</type></os></domain>"));
    let a = analyze(root);
    assert_eq!(a.facts.host.memory.total_kib, Some(max));
    // The values are taken as they are: `big` asks for a page of the
    // (absurd) default size and the empty pool cannot give it (MEM009);
    // sizing the 2 MiB pool overflows CEL's integers, which is that
    // rule's error, named, while every other rule runs.
    assert_eq!(
        verdict(&a),
        (
            pairs(&[("CPU007", "big"), ("MEM009", "host")]),
            pairs(&[("MEM006", "2 MiB hugepage pool")])
        )
    );
    assert!(
        a.rule_errors[0]
            .message
            .contains("Unsupported binary operator 'mul'"),
        "{}",
        a.rule_errors[0].message
    );
}

/// roxmltree builds the tree without recursion, so a million nested
/// elements is only a large document: the unknown elements are ignored,
/// the domain is read, and the one real problem of the file (no
/// `<memory>`) is said with its name.
#[test]
fn a_million_nested_elements_are_read_without_recursion() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let depth = 1_000_000;
    let mut xml = String::with_capacity(depth * 7 + 64);
    xml.push_str("<domain type='kvm'><name>deep</name>");
    for _ in 0..depth {
        xml.push_str("<a>");
    }
    for _ in 0..depth {
        xml.push_str("</a>");
    }
    xml.push_str("</domain>");
    write(root, "etc/libvirt/qemu/deep.xml", &xml);
    write(root, "etc/libvirt/qemu/ok.xml", "<domain type='kvm'><name>ok</name><memory>1048576</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>");
    let a = analyze(root);
    let domains = status(&a, "domains");
    assert_eq!(domains.status, Status::Malformed, "{domains:?}");
    let detail = domains.detail.as_deref().unwrap();
    assert!(
        detail.contains("deep.xml") && detail.contains("memory size must be given"),
        "{detail}"
    );
    // Both domains are analyzed (neither names a host CPU model), and the
    // file libvirt would refuse is a finding.
    assert_eq!(
        verdict(&a),
        (
            pairs(&[
                ("CPU007", "deep"),
                ("CPU007", "ok"),
                ("VD003", "etc/libvirt/qemu/deep.xml")
            ]),
            vec![]
        )
    );
}

#[test]
fn five_thousand_domains_are_all_analyzed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        root,
        "proc/meminfo",
        "MemTotal: 1056964608 kB\nMemFree: 900000000 kB\nMemAvailable: 950000000 kB\n",
    );
    for i in 0..5000 {
        // Every tenth domain uses an IDE disk, so each of those has a finding.
        let bus = if i % 10 == 0 { "ide" } else { "virtio" };
        let dev = if bus == "ide" { "hda" } else { "vda" };
        write(root, &format!("etc/libvirt/qemu/vm{i:04}.xml"), format!(
            "<domain type='kvm'><name>vm{i:04}</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>\
             <os><type arch='x86_64'>hvm</type></os><cpu mode='host-passthrough'/><devices>\
             <disk type='file' device='disk'><driver name='qemu' type='raw' cache='none' io='native'/>\
             <source file='/var/lib/libvirt/images/vm{i:04}.img'/><target dev='{dev}' bus='{bus}'/></disk>\
             <memballoon model='none'/></devices></domain>"));
    }
    let a = analyze(root);
    assert_eq!(a.facts.domains.len(), 5000);
    assert!(
        a.rule_errors.is_empty(),
        "{:?}",
        &a.rule_errors[..a.rule_errors.len().min(3)]
    );
    // Every tenth domain's IDE disk (DISK001), every domain's disabled
    // balloon (MEM013, info), and 5,000 x 512 MiB against 1 TiB of RAM
    // (MEM001): nothing else, nothing missed.
    let mut per_rule = std::collections::BTreeMap::new();
    for f in &a.findings {
        *per_rule.entry(f.rule.as_str()).or_insert(0) += 1;
    }
    assert_eq!(
        per_rule,
        [("DISK001", 500), ("MEM001", 1), ("MEM013", 5000)].into()
    );
}

#[test]
fn four_thousand_cpus_in_256_numa_nodes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (nodes, per_node) = (256u32, 16u32);
    let cpus = nodes * per_node;
    write(
        root,
        "sys/devices/system/cpu/online",
        format!("0-{}\n", cpus - 1),
    );
    for cpu in 0..cpus {
        let base = format!("sys/devices/system/cpu/cpu{cpu}/topology");
        write(
            root,
            &format!("{base}/physical_package_id"),
            format!("{}\n", cpu / per_node),
        );
        write(
            root,
            &format!("{base}/core_id"),
            format!("{}\n", cpu % per_node),
        );
        write(
            root,
            &format!("{base}/thread_siblings_list"),
            format!("{cpu}\n"),
        );
    }
    for node in 0..nodes {
        let base = format!("sys/devices/system/node/node{node}");
        let first = node * per_node;
        write(
            root,
            &format!("{base}/cpulist"),
            format!("{first}-{}\n", first + per_node - 1),
        );
        write(
            root,
            &format!("{base}/meminfo"),
            format!(
                "Node {node} MemTotal:       4194304 kB\nNode {node} MemFree:        2097152 kB\n"
            ),
        );
        let distances: Vec<String> = (0..nodes)
            .map(|o| if o == node { "10".into() } else { "21".into() })
            .collect();
        write(
            root,
            &format!("{base}/distance"),
            distances.join(" ") + "\n",
        );
    }
    // A domain pinned across the last node's CPUs.
    let last = cpus - 1;
    write(root, "etc/libvirt/qemu/wide.xml", format!(
        "<domain type='kvm'><name>wide</name><memory unit='GiB'>8</memory><vcpu placement='static' cpuset='{}-{last}'>16</vcpu>\
         <os><type arch='x86_64'>hvm</type></os><cpu mode='host-passthrough'/></domain>", last - 15));
    let a = analyze(root);
    assert_eq!(a.facts.host.cpu.logical, Some(cpus));
    assert_eq!(a.facts.host.numa.nodes.len(), nodes as usize);
    assert_eq!(
        a.facts.host.numa.nodes[255]
            .distances
            .as_ref()
            .map(Vec::len),
        Some(256)
    );
    // `wide` (8 GiB) is larger than any 4 GiB node and pinned to node
    // 255 with no numatune: exactly the two NUMA findings.
    assert_eq!(
        verdict(&a),
        (pairs(&[("NUMA001", "wide"), ("NUMA003", "wide")]), vec![])
    );
    let numa003 = a.findings.iter().find(|f| f.rule == "NUMA003").unwrap();
    assert!(
        numa003.message.contains("NUMA node 255 "),
        "{}",
        numa003.message
    );
}

#[test]
fn hundreds_of_domains_on_the_same_cpus_list_twenty_overlaps_and_count_all() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "sys/devices/system/cpu/online", "0-7\n");
    for i in 0..300 {
        write(
            root,
            &format!("etc/libvirt/qemu/p{i:03}.xml"),
            format!(
                "<domain type='kvm'><name>p{i:03}</name><memory unit='MiB'>256</memory>\
             <vcpu placement='static' cpuset='0-1'>1</vcpu><os><type arch='x86_64'>hvm</type></os>\
             <cpu mode='host-passthrough'/></domain>"
            ),
        );
    }
    let a = analyze(root);
    let first = &a.facts.domains[0].derived;
    assert_eq!(first.pin_overlap_count, 299);
    assert_eq!(first.pin_overlaps.len(), 20);
    assert_eq!(first.pin_overlaps[0].domain, "p001");
    assert_eq!(first.pin_overlaps[0].cpus, vec![0, 1]);
    let f = a
        .findings
        .iter()
        .find(|f| f.rule == "CPU003" && f.subject == "p000")
        .expect("CPU003 on p000");
    assert!(
        f.message.contains("p005 (CPUs 0-1) and 294 more also use"),
        "{}",
        f.message
    );
}

/// Where no temporary file can be made (`TMPDIR` names a directory that
/// does not exist), a large archive member is held in memory instead, the
/// snapshot's status says so, and the analysis still reads it to its end.
#[test]
fn without_a_temporary_directory_large_members_stay_in_memory_and_that_is_said() {
    let mut messages = "Feb 10 16:19:00 hv01 systemd[1]: Started Session 1 of user deploy.\n"
        .repeat(80_000)
        .into_bytes();
    assert!(
        messages.len() > 4 << 20,
        "over the 4 MiB a member may take in memory"
    );
    messages.extend_from_slice(b"Feb 10 16:20:01 hv01 kernel: Out of memory: Killed process 4242 (qemu-system-x86) total-vm:9000000kB\n");
    let dir = common::snapshot_with(&[
        ("proc/meminfo", b"MemTotal: 2048 kB\n"),
        ("var/log/messages", &messages),
    ]);
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("sosreport-hv01.tar.gz");
    common::pack(dir.path(), "sosreport-hv01", "gz", &archive);
    let o = common::run_env(
        &[
            "analyze",
            archive.to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        &[("TMPDIR", "/nonexistent/virt-doctor-test")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules = common::rules_of(&report);
    assert!(rules.contains(&"LOG001".to_owned()), "{rules:?}");
    let snapshot = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "snapshot")
        .unwrap_or_else(|| panic!("no snapshot status: {}", report["sources"]));
    let detail = snapshot["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("no temporary file for large members (")
            && detail
                .ends_with("TMPDIR says where): they are held in memory, at most 512 MiB each"),
        "{detail}"
    );
}
