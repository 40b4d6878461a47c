//! `facts` on real host snapshots shipped in fixtures/ (see
//! fixtures/PROVENANCE.md): exact values, checked by hand against the files.

mod common;

use common::{facts_of, fixture, source};
use virt_doctor::sources::Status;

#[test]
fn hotsos_compute_sosreport() {
    let f = facts_of(&fixture("hosts/hotsos-compute"));
    let h = &f.host;
    assert_eq!(h.hostname.as_deref(), Some("compute4"));
    assert_eq!(h.kernel.as_deref(), Some("5.4.0-97-generic"));
    // 2 vCPUs of a nested-KVM guest: cpuinfo has `physical id` 0 and 1.
    assert_eq!(h.cpu.logical, Some(2));
    assert_eq!(h.cpu.sockets, Some(2));
    assert_eq!(h.cpu.cores_per_socket, Some(1));
    assert_eq!(h.cpu.threads_per_core, Some(1));
    assert_eq!(h.cpu.virtualization.as_deref(), Some("vmx"));
    assert_eq!(
        h.cpu.model.as_deref(),
        Some("Intel Core Processor (Skylake, IBRS)")
    );
    // No proc/meminfo in this capture: `free` fills what it can.
    assert_eq!(h.memory.total_kib, Some(16393164));
    assert_eq!(h.memory.available_kib, Some(8638440));
    assert_eq!(h.memory.swap_total_kib, Some(4194300));
    assert_eq!(h.memory.committed_as_kib, None);
    assert_eq!(h.memory.source.as_deref(), Some("free"));
    assert_eq!(h.numa.source.as_deref(), Some("sysfs"));
    assert_eq!(h.numa.nodes.len(), 1);
    assert_eq!(h.numa.nodes[0].cpus, vec![0, 1]);
    assert_eq!(h.numa.nodes[0].distances, Some(vec![10]));
    let sizes: Vec<u64> = h.hugepages.iter().map(|p| p.size_kib).collect();
    assert_eq!(sizes, vec![2048, 1048576]);
    assert_eq!(h.thp.enabled.as_deref(), Some("madvise"));
    assert_eq!(h.ksm.as_ref().unwrap()["run"], 0);
    // sys/block entries are link-files into sys/devices (see PROVENANCE).
    let vda = h.block.iter().find(|b| b.name == "vda").unwrap();
    assert_eq!(vda.queue.scheduler.as_deref(), Some("mq-deadline"));
    assert_eq!(vda.queue.schedulers_available, vec!["mq-deadline", "none"]);
    assert_eq!(vda.queue.rotational, Some(true));
    assert_eq!(h.block.len(), 17);
    assert_eq!(h.sysctl["vm.swappiness"], "60");
    assert_eq!(h.sysctl["net.core.rmem_max"], "212992");
    assert_eq!(h.devices.kvm, Some(true));
    assert_eq!(h.devices.vhost_net, Some(true));

    assert_eq!(f.domains.len(), 1);
    let d = &f.domains[0];
    assert_eq!(d.domain.name, "instance-00000001");
    assert_eq!(d.domain.vcpus, Some(1));
    assert_eq!(d.domain.memory_kib, Some(2097152));
    assert_eq!(d.domain.cpu_mode.as_deref(), Some("custom"));
    assert_eq!(d.source_path, "etc/libvirt/qemu/instance-00000001.xml");
    assert!(d.persistent && !d.active);
    let disk = &d.domain.disks[0];
    assert_eq!(
        (
            disk.target.as_deref(),
            disk.bus.as_deref(),
            disk.cache.as_deref(),
            disk.discard.as_deref()
        ),
        (Some("vda"), Some("virtio"), Some("none"), Some("unmap"))
    );
    assert_eq!(
        disk.source.as_deref(),
        Some("rbd://nova/d1d75e2f-ada4-49bc-a963-528d89dfda25_disk")
    );
    assert_eq!(disk.line, 89);
    let nic = &d.domain.interfaces[0];
    assert_eq!(
        (nic.interface_type.as_str(), nic.model.as_deref()),
        ("bridge", Some("virtio"))
    );
    assert_eq!(d.domain.memballoon.as_ref().unwrap().stats_period, Some(10));

    let logs: Vec<&str> = f.logs.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(
        logs,
        vec![
            "var/log/dmesg",
            "sos_commands/kernel/dmesg",
            "var/log/syslog",
            "var/log/kern.log",
            "var/log/libvirt/qemu/instance-00000001.log",
            "var/log/libvirt/qemu/instance-00000002.log",
        ]
    );
    assert_eq!(
        source(&f, "meminfo").path.as_deref(),
        Some("sos_commands/memory/free")
    );
    assert_eq!(source(&f, "stat").status, Status::Missing);
    for s in &f.sources {
        assert_ne!(s.status, Status::Malformed, "{s:?}");
        assert_ne!(s.status, Status::Unreadable, "{s:?}");
    }
}

#[test]
fn four_node_opteron_from_hwloc() {
    let f = facts_of(&fixture("hosts/hwloc-8amd64-4n2c"));
    let h = &f.host;
    assert_eq!(h.cpu.logical, Some(8));
    assert_eq!(
        (
            h.cpu.sockets,
            h.cpu.cores_per_socket,
            h.cpu.threads_per_core
        ),
        (Some(4), Some(2), Some(1))
    );
    assert_eq!(h.cpu.virtualization.as_deref(), Some("svm"));
    let nodes: Vec<(u32, Vec<u32>, Option<u64>)> = h
        .numa
        .nodes
        .iter()
        .map(|n| (n.id, n.cpus.clone(), n.memory_total_kib))
        .collect();
    // Only the hex `cpumap` exists in this 2.6-era capture.
    assert_eq!(
        nodes,
        vec![
            (0, vec![0, 4], Some(16776592)),
            (1, vec![1, 5], Some(16777216)),
            (2, vec![2, 6], Some(16777216)),
            (3, vec![3, 7], Some(16777216)),
        ]
    );
    assert_eq!(h.numa.nodes[0].distances, Some(vec![10, 20, 20, 20]));
    // Nothing captured means null, not zero.
    assert_eq!(h.memory.total_kib, None);
    assert_eq!(h.hostname, None);
}

#[test]
fn sysstat_proc_capture() {
    let f = facts_of(&fixture("hosts/sysstat-root1"));
    let h = &f.host;
    assert_eq!(h.memory.total_kib, Some(8_144_960));
    assert_eq!(h.cpu.logical, Some(8));
    assert_eq!(h.boot_time, Some(1_555_568_347));
    let la = h.loadavg.as_ref().unwrap();
    assert_eq!((la.one, la.running, la.total), (3.16, Some(4), Some(956)));
    let virbr = h
        .net
        .as_ref()
        .unwrap()
        .iter()
        .find(|n| n.name == "virbr0")
        .unwrap();
    assert_eq!(
        (virbr.rx_bytes, virbr.rx_packets, virbr.tx_dropped),
        (1000, 100, 0)
    );
    assert!(h.pressure.contains_key("memory"));
    assert_eq!(h.uptime_seconds, Some(7192.55));
}

#[test]
fn pid_files_name_the_qemu_process_of_a_domain() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("etc/libvirt/qemu")).unwrap();
    std::fs::create_dir_all(root.join("run/libvirt/qemu")).unwrap();
    std::fs::copy(
        fixture("hosts/hotsos-compute/etc/libvirt/qemu/instance-00000001.xml"),
        root.join("etc/libvirt/qemu/instance-00000001.xml"),
    )
    .unwrap();
    std::fs::write(
        root.join("run/libvirt/qemu/instance-00000001.pid"),
        "6021\n",
    )
    .unwrap();
    let f = facts_of(root);
    assert_eq!(f.domains[0].pid, Some(6021));
    assert_eq!(source(&f, "domain_pids").status, Status::Ok);
    // The incident scenario's domain has its pid in the live status file.
    let incident = facts_of(&fixture("hosts/incident-logs"));
    assert_eq!(incident.domains[0].pid, Some(6021));
}

/// Whether this is a hypervisor and whether KVM works are decided from all
/// the evidence, strongest first, never from CPU flags alone.
#[test]
fn hypervisor_and_kvm_are_judged_from_what_libvirt_and_qemu_did() {
    // A nested host's sosreport from a container: no /dev/kvm in its
    // listing, but libvirt offers kvm guests and one runs.
    let nested = common::facts_of(&common::fixture("hosts/nested-kvm"));
    let v = &nested.derived.virtualization;
    assert!(v.hypervisor);
    assert_eq!(v.kvm, Some(true));
    assert_eq!(
        v.kvm_evidence,
        [
            "libvirt's capabilities offer kvm guests",
            "running with type='kvm': nested01"
        ]
    );
    // A VirtualBox guest with libvirt installed: nothing shows KVM, three
    // things show it missing.
    let no_kvm = common::facts_of(&common::fixture("hosts/no-kvm"));
    let v = &no_kvm.derived.virtualization;
    assert!(v.hypervisor);
    assert_eq!(v.kvm, Some(false));
    assert_eq!(
        v.kvm_evidence,
        [
            "/dev/kvm is not in the device listing",
            "no kvm_intel or kvm_amd module is loaded",
            "the CPU flags show no vmx or svm"
        ]
    );
    // An ordinary server (sysstat's real /proc) with the same /dev
    // listing: not a hypervisor, so nothing about KVM is a finding there.
    let tmp = tempfile::tempdir().unwrap();
    common::copy_tree(&common::fixture("hosts/sysstat-root1"), tmp.path());
    let listing = tmp.path().join("sos_commands/block");
    std::fs::create_dir_all(&listing).unwrap();
    std::fs::copy(
        common::fixture("hosts/nested-kvm/sos_commands/block/ls_-lanR_.dev"),
        listing.join("ls_-lanR_.dev"),
    )
    .unwrap();
    let server = common::facts_of(tmp.path());
    let v = &server.derived.virtualization;
    assert!(!v.hypervisor, "{v:?}");
    assert_eq!(v.kvm, Some(false));
    let r = common::analyze_selected(tmp.path(), "CPU014,NET005");
    assert_eq!(r["findings"], serde_json::json!([]));
    // CPU flags alone decide nothing.
    let hwloc = common::facts_of(&common::fixture("hosts/hwloc-8amd64-4n2c"));
    assert_eq!(hwloc.derived.virtualization.kvm, None);
}

/// The host name comes from whatever the sosreport kept: its `hostname`
/// file, or the node name in `uname -a` (here hotsos' real one), never a
/// placeholder.
#[test]
fn the_host_name_comes_from_uname_when_nothing_else_has_it() {
    let tmp = tempfile::tempdir().unwrap();
    let kernel = tmp.path().join("sos_commands/kernel");
    std::fs::create_dir_all(&kernel).unwrap();
    std::fs::copy(
        common::fixture("hosts/hotsos-compute/sos_commands/kernel/uname_-a"),
        kernel.join("uname_-a"),
    )
    .unwrap();
    let f = common::facts_of(tmp.path());
    assert_eq!(f.host.hostname.as_deref(), Some("compute4"));
    assert_eq!(f.host.kernel.as_deref(), Some("5.4.0-97-generic"));
    let o = common::run(&["analyze", tmp.path().to_str().unwrap()]);
    assert!(
        common::stdout(&o).ends_with("on compute4 (0 domains)\n"),
        "{}",
        common::stdout(&o)
    );
}

/// Objects whose keys are data (sysctl names, CPU names, pressure
/// resources, NICs, KSM files, governors, domstats fields) or documented
/// as a whole elsewhere (`capture`, `rates`): their keys are not fields.
const DATA_KEYED: &[&str] = &[
    "sysctl",
    "cpu_times",
    "pressure",
    "nic_rings",
    "ksm",
    "governors",
    "stats",
    "iotune",
    "capture",
    "rates",
];

fn fields(v: &serde_json::Value, path: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            let parent = path.rsplit(['.', '[']).next().unwrap_or("");
            if DATA_KEYED.contains(&parent) {
                return;
            }
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.insert(p.clone());
                fields(x, &p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                fields(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// docs/facts-schema.md is the contract rules are written against: every
/// field the facts of the shipped hosts have is named there. The check is
/// by name, so it catches a field added without a word of documentation,
/// not a wrong description.
#[test]
fn every_field_of_the_facts_is_documented() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/facts-schema.md"),
    )
    .unwrap();
    let mut all = std::collections::BTreeSet::new();
    let hosts = std::fs::read_dir(fixture("hosts")).unwrap();
    let mut read = 0;
    for h in hosts.flatten().filter(|h| h.path().is_dir()) {
        let f = facts_of(&h.path());
        fields(&serde_json::to_value(&f).unwrap(), "", &mut all);
        read += 1;
    }
    assert!(read >= 15, "only {read} hosts");
    assert!(all.len() > 300, "only {} fields", all.len());
    let missing: Vec<&String> = all
        .iter()
        .filter(|p| {
            let leaf = p.rsplit(['.', ']']).next().unwrap_or(p);
            let word = regex::Regex::new(&format!(r"\b{}\b", regex::escape(leaf))).unwrap();
            !word.is_match(&doc)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "fields docs/facts-schema.md does not name: {missing:?}"
    );
}
