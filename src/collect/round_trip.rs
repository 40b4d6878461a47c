//! Every file a capture writes in a format of its own is read back by the
//! source table's parser as written: the writers' text, parsed, gives back
//! the values they were given, and files written at the writers' paths
//! are found by the source table.

use std::collections::BTreeMap;
use std::path::Path;

use super::virsh::{domstats_text, list_text, version_text, ListEntry};
use super::*;
use crate::parse::capture::devices::Device;
use crate::parse::capture::{self as format, paths};
use crate::parse::{virsh, virt_versions};
use crate::sources::{self, Status};

#[test]
fn capture_info() {
    let info = CaptureInfo {
        tool: "virt-doctor".into(),
        version: "0.1.0".into(),
        hostname: Some("kvm01".into()),
        captured_at: "2026-12-01T18:00:00Z".into(),
        sysroot: "/".into(),
        libvirt: LibvirtInfo {
            uri: Some("qemu:///system".into()),
            status: "ok".into(),
            error: None,
            domains: 3,
            milliseconds: 41,
            errors: vec!["db: snapshot list: no".into()],
        },
        interval_seconds: 2.004,
        sources: vec![SourceTiming {
            id: "meminfo".into(),
            status: "ok".into(),
            files: 1,
            bytes: 1400,
            milliseconds: 0,
            errors: Vec::new(),
        }],
        notices: vec!["var/log/syslog: log cap reached".into()],
        redactions: Redactions {
            secrets: 2,
            hosts: true,
        },
    };
    let text = String::from_utf8(info_json(&info)).unwrap();
    let back = format::info::parse(&text);
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    assert_eq!(back.value, Some(info));
}

#[test]
fn kvm_probe() {
    for probe in [
        KvmProbe::Absent,
        KvmProbe::ApiVersion(12),
        KvmProbe::Error("EACCES".into(), "Permission denied (os error 13)".into()),
        KvmProbe::Error("ENXIO".into(), String::new()),
    ] {
        let back = format::kvm::parse(&kvm_text(&probe));
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        assert_eq!(back.value, Some(probe));
    }
    // What the probe of this machine answers reads back too.
    let here = probe::kvm_api_version(Path::new("/dev/kvm"));
    assert_eq!(format::kvm::parse(&kvm_text(&here)).value, Some(here));
}

#[test]
fn devices() {
    let written = [
        ("dev/kvm", true),
        ("dev/net/tun", false),
        ("dev/vhost-net", true),
    ];
    let back = format::devices::parse(&devices_text(&written));
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    let expected: Vec<Device> = written
        .iter()
        .map(|(path, present)| Device {
            path: (*path).into(),
            present: *present,
        })
        .collect();
    assert_eq!(back.value, expected);
    assert!(format::devices::parse(&devices_text(&[])).value.is_empty());
}

#[test]
fn iommu_groups() {
    for n in [0, 1, 97] {
        let back = format::iommu::parse(&iommu_groups_text(n));
        assert!(back.problems.is_empty());
        assert_eq!(back.value, Some(n));
    }
}

#[test]
fn sampled_pids() {
    let pids = vec![
        ("web01".to_owned(), 4242),
        ("db primary".to_owned(), 17),
        ("instance-00000002".to_owned(), u32::MAX),
    ];
    let back = format::pids::parse(&sample::pids_text(&pids));
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    assert_eq!(back.value, pids);
}

#[test]
fn virsh_version() {
    let back = virt_versions::parse_virsh_version(&version_text(9_000_000, 7_002_011));
    assert!(back.problems.is_empty());
    assert_eq!(back.value.libvirt.as_deref(), Some("9.0.0"));
    assert_eq!(back.value.qemu.as_deref(), Some("7.2.11"));
}

#[test]
fn virsh_list() {
    let entries = [
        ListEntry {
            id: Some(1),
            name: "web01".into(),
            state: "running".into(),
        },
        ListEntry {
            id: None,
            name: "db".into(),
            state: "shut off".into(),
        },
        ListEntry {
            id: Some(7),
            name: "batch".into(),
            state: "in shutdown".into(),
        },
    ];
    let back = virsh::parse_list(&list_text(&entries));
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    let expected: BTreeMap<String, String> = entries
        .iter()
        .map(|e| (e.name.clone(), e.state.clone()))
        .collect();
    assert_eq!(back.value, expected);
    assert!(virsh::parse_list(&list_text(&[])).value.is_empty());
}

#[test]
fn virsh_domstats() {
    let stats: BTreeMap<String, BTreeMap<String, String>> = [
        (
            "web01",
            &[
                ("state.state", "1"),
                ("block.0.name", "vda"),
                ("cpu.time", "123456789"),
            ][..],
        ),
        ("db", &[("balloon.current", "524288")][..]),
        ("idle", &[][..]),
    ]
    .into_iter()
    .map(|(dom, fields)| {
        let fields = fields
            .iter()
            .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
            .collect();
        (dom.to_owned(), fields)
    })
    .collect();
    let text: String = stats
        .iter()
        .map(|(dom, fields)| {
            let fields: Vec<(String, String)> = fields.clone().into_iter().collect();
            domstats_text(dom, &fields)
        })
        .collect();
    let back = virsh::parse_domstats(&text);
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    assert_eq!(back.value, stats);
}

/// The sampler run over a host with one running domain, twice, as
/// `collect` does: the source table finds every file where it was put.
#[test]
fn samples_are_found_where_the_sampler_puts_them() {
    let host: Vec<(String, Vec<u8>, Option<i64>)> = [
        ("proc/uptime", "1000.50 3900.00\n"),
        ("proc/stat", "cpu  10 0 10 1000 0 0 0 0 0 0\ncpu0 10 0 10 1000 0 0 0 0 0 0\n"),
        ("proc/diskstats", "   8       0 sda 10 0 80 5 20 0 160 10 0 15 15 0 0 0 0\n"),
        (
            "proc/net/dev",
            "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n",
        ),
        ("proc/pressure/cpu", "some avg10=1.00 avg60=0.50 avg300=0.10 total=12345\n"),
        ("run/libvirt/qemu/web01.pid", "4242\n"),
        ("proc/4242/task/4242/comm", "qemu-system-x86\n"),
        ("proc/4242/task/4243/comm", "CPU 0/KVM\n"),
        ("proc/4242/task/4243/schedstat", "5000 700 30\n"),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_owned(), t.as_bytes().to_vec(), None))
    .collect();
    let root = Snapshot::in_memory(Kind::Archive, Path::new("host"), host);
    let (files, _) = sample::Sampler::start(&root).finish(&root);
    let written: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for p in [
        "virt-doctor/samples/0/proc/uptime",
        "virt-doctor/samples/1/proc/pressure/cpu",
        "virt-doctor/samples/1/proc/4242/task/4243/schedstat",
        paths::SAMPLED_PIDS,
    ] {
        assert!(written.contains(&p), "{p} in {written:?}");
    }
    let capture = Snapshot::in_memory(
        Kind::Archive,
        Path::new("capture"),
        files.into_iter().map(|(p, d)| (p, d, None)).collect(),
    );
    let (data, statuses) = sources::load(&capture);
    let status = |id: &str| statuses.iter().find(|s| s.id == id).unwrap().status;
    assert_eq!(status("samples"), Status::Ok);
    assert_eq!(status("domain_pids"), Status::Ok);
    assert_eq!(data.domain_pids.get("web01"), Some(&4242));
    assert_eq!(data.samples.len(), 2);
    for n in [0, 1] {
        let s = &data.samples[&n];
        assert_eq!(s.uptime, Some(1000.5));
        assert!(s.stat.is_some() && s.diskstats.is_some() && s.netdev.is_some());
        assert!(s.pressure.contains_key("cpu"));
        let thread = &s.vcpu_threads[&(4242, 4243)];
        assert_eq!(thread.vcpu, Some(0));
        assert_eq!(thread.schedstat.map(|t| t.wait_ns), Some(700));
        assert_eq!(s.vcpu_threads.len(), 1, "only vCPU threads are sampled");
    }
}

/// Each of the capture's own files, written at its path by its writer, is
/// read by the source table into the host's data.
#[test]
fn own_files_are_found_where_the_collector_puts_them() {
    let info = CaptureInfo {
        tool: "virt-doctor".into(),
        ..CaptureInfo::default()
    };
    let files = vec![
        (paths::INFO.to_owned(), info_json(&info)),
        (
            paths::KVM.to_owned(),
            kvm_text(&KvmProbe::ApiVersion(12)).into_bytes(),
        ),
        (
            paths::DEVICES.to_owned(),
            devices_text(&[("dev/kvm", true), ("dev/vhost-net", false)]).into_bytes(),
        ),
        (
            paths::IOMMU_GROUPS.to_owned(),
            iommu_groups_text(0).into_bytes(),
        ),
        (
            paths::VIRSH_VERSION.to_owned(),
            version_text(9_000_000, 7_002_000).into_bytes(),
        ),
        (
            paths::VIRSH_LIST.to_owned(),
            list_text(&[ListEntry {
                id: Some(1),
                name: "web01".into(),
                state: "running".into(),
            }])
            .into_bytes(),
        ),
        (
            paths::VIRSH_DOMSTATS.to_owned(),
            domstats_text("web01", &[("state.state".into(), "1".into())]).into_bytes(),
        ),
    ];
    let capture = Snapshot::in_memory(
        Kind::Archive,
        Path::new("capture"),
        files.into_iter().map(|(p, d)| (p, d, None)).collect(),
    );
    let (data, statuses) = sources::load(&capture);
    for id in [
        "capture",
        "kvm",
        "devices",
        "iommu_groups",
        "virt_versions",
        "domain_states",
        "domain_stats",
    ] {
        let s = statuses.iter().find(|s| s.id == id).unwrap();
        assert_eq!(s.status, Status::Ok, "{id}: {:?}", s.detail);
    }
    assert_eq!(data.capture, Some(info));
    assert_eq!(data.kvm_probe, Some(KvmProbe::ApiVersion(12)));
    assert_eq!(data.devices.get("kvm"), Some(&true));
    assert_eq!(data.devices.get("vhost-net"), Some(&false));
    assert_eq!(data.iommu_group_count, Some(0));
    assert_eq!(
        data.virt_versions.and_then(|v| v.qemu).as_deref(),
        Some("7.2.0")
    );
    assert_eq!(data.domain_states["web01"], "running");
    assert_eq!(data.domain_stats["web01"]["state.state"], "1");
}
