//! `scan` and `collect` through libvirt's built-in test driver: a real
//! libvirt client library and driver, no daemon needed. Host files come
//! from a fixture via `--sysroot`, so the findings are exact.

// Talks to libvirt: only in builds with it (the default `live` feature).
#![cfg(feature = "live")]

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

use common::{fixture, run, stderr, stdout, tarball_entries as entries};

fn node_uri() -> String {
    format!("test://{}", fixture("libvirt/node.xml").display())
}

/// (rule, subject) of every finding in a JSON report.
fn findings(json: &str) -> BTreeSet<(String, String)> {
    let report: serde_json::Value = serde_json::from_str(json).expect("JSON report");
    common::rules_and_subjects(&report).into_iter().collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// `scan` or `collect` of the host files below `sysroot` and libvirt at
/// `connect`, without sampling, then `extra` arguments.
fn live(command: &str, sysroot: &str, connect: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        command,
        "--sysroot",
        sysroot,
        "--connect",
        connect,
        "--interval",
        "0",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

const HEALTHY: &str = "hosts/healthy-2node";

#[test]
fn scan_reports_exactly_the_mistuned_domains_findings() {
    let sysroot = fixture(HEALTHY);
    let out = live(
        "scan",
        sysroot.to_str().unwrap(),
        &node_uri(),
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        findings(&stdout(&out)),
        set(&[
            ("DISK001", "td-mistuned disk hda"),
            ("DISK003", "td-mistuned disk hda"),
            ("DISK008", "td-mistuned disk hda"),
            ("NET001", "td-mistuned interface 52:54:00:11:22:33"),
            // The test driver's two running domains are not pinned, so
            // they float over the CPUs the tuned host pinned db01 and
            // web01 to.
            ("CPU020", "db01"),
            ("CPU020", "web01"),
        ])
    );
    // Nothing from libvirt went to stderr (errors are findings).
    assert_eq!(stderr(&out), "");
}

#[test]
fn collect_writes_a_private_redacted_capture_that_analyzes_like_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let capture = tmp.path().join("capture.tar.gz");
    let sysroot = fixture(HEALTHY);
    let sysroot = sysroot.to_str().unwrap();
    let uri = node_uri();
    let scan = live(
        "scan",
        sysroot,
        &uri,
        &["--format", "json", "--save", capture.to_str().unwrap()],
    );
    assert_eq!(scan.status.code(), Some(1), "{}", stderr(&scan));

    let mode = std::fs::metadata(&capture).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let files = entries(&capture);
    let names: BTreeSet<String> = files
        .iter()
        .map(|(n, _)| n.split_once('/').unwrap().1.to_owned())
        .collect();
    for wanted in [
        "virt-doctor.json",
        "sos_commands/virsh/virsh_-r_capabilities",
        "sos_commands/virsh/virsh_-r_list_--all",
        "sos_commands/virsh/virsh_-r_domstats",
        "sos_commands/virsh/virsh_-r_dumpxml_td-mistuned",
        "sos_commands/virsh/virsh_-r_dumpxml_td-tuned",
        "sos_commands/virsh/inactive/virsh_-r_dumpxml_--inactive_td-tuned",
        "etc/libvirt/qemu/web01.xml",
        "proc/meminfo",
    ] {
        assert!(names.contains(wanted), "{wanted} missing from {names:?}");
    }
    for (name, data) in &files {
        assert!(
            !data.windows(8).any(|w| w == b"TdVnc0Pw"),
            "the VNC password reached {name}"
        );
    }
    let info: serde_json::Value = serde_json::from_slice(
        &files
            .iter()
            .find(|(n, _)| n.ends_with("/virt-doctor.json"))
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(info["libvirt"]["status"], "ok");
    assert_eq!(info["libvirt"]["domains"], 2);
    assert_eq!(info["hostname"], "kvm-tuned-01");

    let analyze = run(&["analyze", capture.to_str().unwrap(), "--format", "json"]);
    assert_eq!(analyze.status.code(), Some(1), "{}", stderr(&analyze));
    assert_eq!(findings(&stdout(&analyze)), findings(&stdout(&scan)));

    // `collect` is the same capture, written.
    let collected = tmp.path().join("collected.tar.gz");
    let out = live(
        "collect",
        sysroot,
        &uri,
        &["-o", collected.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("libvirt: ok"), "{}", stderr(&out));
    let again = run(&["analyze", collected.to_str().unwrap(), "--format", "json"]);
    assert_eq!(findings(&stdout(&again)), findings(&stdout(&scan)));
}

#[test]
fn libvirt_states_and_statistics_reach_the_facts() {
    let tmp = tempfile::tempdir().unwrap();
    let capture = tmp.path().join("c.tar.gz");
    let out = live(
        "collect",
        fixture(HEALTHY).to_str().unwrap(),
        "test:///default",
        &["-o", capture.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let facts = common::facts_of(&capture);
    let test = facts
        .domains
        .iter()
        .find(|d| d.domain.name == "test")
        .expect("test:///default's domain `test`");
    assert_eq!(test.state.as_deref(), Some("running"));
    assert!(test.active);
    assert_eq!(test.origin, virt_doctor::sources::DomainOrigin::Dumpxml);
    let stats = test.stats.as_ref().expect("domstats of a running domain");
    // The test driver implements only the state group; the e2e test
    // checks the others against a real QEMU guest.
    assert_eq!(stats["state.state"], 1);
    assert_eq!(stats["state.reason"], 0);
    let capture_info = facts.capture.as_ref().unwrap();
    assert_eq!(capture_info.libvirt.uri.as_deref(), Some("test:///default"));
}

/// A machine with no libvirt configuration, daemon or domains (sysstat's
/// real /proc capture) has no libvirt to ask: its absence is no finding.
#[test]
fn a_machine_that_is_no_hypervisor_is_not_told_libvirt_is_unreachable() {
    let out = live(
        "scan",
        fixture("hosts/sysstat-root1").to_str().unwrap(),
        "qemu+unix:///system?socket=/nonexistent/libvirt-sock",
        &["--format", "json"],
    );
    let rules: Vec<String> = findings(&stdout(&out))
        .into_iter()
        .map(|(rule, _)| rule)
        .collect();
    assert!(!rules.contains(&"HOST001".to_string()), "{rules:?}");
}

#[test]
fn an_unreachable_libvirt_is_one_finding_and_the_rest_is_analyzed() {
    let out = live(
        "scan",
        fixture(HEALTHY).to_str().unwrap(),
        "qemu+unix:///system?socket=/nonexistent/libvirt-sock",
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // The tuned host's own domains (from /etc/libvirt/qemu) are analyzed
    // and clean; the only finding is that libvirt could not be asked.
    assert_eq!(findings(&stdout(&out)), set(&[("HOST001", "kvm-tuned-01")]));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("/nonexistent/libvirt-sock"), "{message}");
    assert_eq!(stderr(&out), "", "libvirt's own error printing is off");
}

#[test]
fn the_connection_is_read_only_and_libvirt_refuses_writes_through_it() {
    let conn = virt_doctor::collect::libvirt::open("test:///default").unwrap();
    let err = conn
        .define_domain_xml(
            "<domain type='test'><name>intruder</name><memory>1024</memory>\
         <os><type>hvm</type></os></domain>",
        )
        .expect_err("defining a domain through a read-only connection");
    assert!(
        err.to_string().contains("read only") || err.to_string().contains("read-only"),
        "{err}"
    );
    let test = conn.lookup_domain_by_name("test").unwrap();
    let err = test
        .destroy()
        .expect_err("destroying through a read-only connection");
    assert!(err.to_string().contains("read only"), "{err}");
    assert!(test.is_active().unwrap(), "the domain still runs");
}

#[test]
fn logs_share_one_byte_cap_keeping_the_newest_lines() {
    let root = tempfile::tempdir().unwrap();
    let log_dir = root.path().join("var/log");
    std::fs::create_dir_all(&log_dir).unwrap();
    let lines: String = (0..2000)
        .map(|i| format!("Nov 26 10:00:00 hv kernel: line {i:04}\n"))
        .collect();
    std::fs::write(log_dir.join("messages"), &lines).unwrap();
    std::fs::write(root.path().join("var/log/messages.1"), &lines).unwrap();
    // The rotation is older: it is the one left out.
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    std::fs::File::options()
        .write(true)
        .open(log_dir.join("messages.1"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let capture = root.path().join("c.tar.gz");
    let out = live(
        "collect",
        root.path().to_str().unwrap(),
        "none",
        &["--max-log-bytes", "4K", "-o", capture.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("log cap"), "{}", stderr(&out));
    let files = entries(&capture);
    let messages = &files
        .iter()
        .find(|(n, _)| n.ends_with("/var/log/messages"))
        .expect("the current log is kept")
        .1;
    let text = String::from_utf8_lossy(messages);
    assert!(messages.len() <= 4096);
    assert!(
        text.starts_with("Nov 26 10:00:00"),
        "starts at a whole line"
    );
    assert!(text.ends_with("line 1999\n"), "keeps the newest lines");
    assert!(!files.iter().any(|(n, _)| n.ends_with("messages.1")));
    let info = &files
        .iter()
        .find(|(n, _)| n.ends_with("virt-doctor.json"))
        .unwrap()
        .1;
    let info: serde_json::Value = serde_json::from_slice(info).unwrap();
    let notices = info["notices"].to_string();
    assert!(notices.contains("var/log/messages: log cap"), "{notices}");
    assert!(
        notices.contains("older log files left out: var/log/messages.1"),
        "{notices}"
    );
    assert_eq!(info["libvirt"]["status"], "skipped");
}

#[test]
fn redact_hosts_replaces_names_and_addresses_consistently() {
    let root = tempfile::tempdir().unwrap();
    let p = root.path();
    std::fs::create_dir_all(p.join("etc/libvirt/qemu")).unwrap();
    std::fs::write(p.join("etc/hostname"), "hv07.corp.example\n").unwrap();
    std::fs::write(
        p.join("etc/libvirt/qemu/db.xml"),
        "<domain type='kvm'><name>db</name><memory>1048576</memory><vcpu>1</vcpu>\
         <os><type>hvm</type></os><devices>\
         <disk type='network' device='disk'><driver name='qemu' type='raw' cache='none'/>\
         <source protocol='rbd' name='pool/db'><host name='ceph-mon1.corp.example' port='6789'/>\
         <host name='10.20.30.40' port='6789'/></source>\
         <auth username='admin'><secret type='ceph' uuid='0a1b2c3d-0000-4000-8000-000000000001'/></auth>\
         <target dev='vda' bus='virtio'/></disk>\
         <graphics type='vnc' passwd='db-pw-9'/></devices></domain>\n",
    )
    .unwrap();
    let capture = p.join("c.tar.gz");
    let out = live(
        "collect",
        p.to_str().unwrap(),
        "none",
        &["--redact-hosts", "-o", capture.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let files = entries(&capture);
    for (name, data) in &files {
        let text = String::from_utf8_lossy(data);
        for secret in [
            "hv07",
            "ceph-mon1",
            "10.20.30.40",
            "db-pw-9",
            "admin",
            "0a1b2c3d",
        ] {
            assert!(!text.contains(secret), "{secret} reached {name}");
        }
        assert!(!name.contains("hv07"), "{name}");
    }
    let xml = String::from_utf8_lossy(
        &files
            .iter()
            .find(|(n, _)| n.ends_with("etc/libvirt/qemu/db.xml"))
            .unwrap()
            .1,
    )
    .into_owned();
    assert!(xml.contains("<host name='host-1' port='6789'/>"), "{xml}");
    assert!(
        xml.contains("<host name='192.0.2.1' port='6789'/>"),
        "{xml}"
    );
    assert!(xml.contains("passwd='REDACTED'"), "{xml}");
    // The domain still parses and is analyzed.
    let facts = common::facts_of(&capture);
    assert_eq!(facts.domains.len(), 1);
    assert_eq!(facts.host.hostname.as_deref(), Some("host-2"));
    let info = facts.capture.unwrap();
    assert!(info.redactions.hosts);
    assert_eq!(info.redactions.secrets, 3);
}

#[test]
fn collect_never_writes_through_a_symlink_at_the_output_path() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let planted = tmp.path().join("capture.tar.gz");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let collect = |extra: &[&str]| {
        let mut args = vec!["-o", planted.to_str().unwrap()];
        args.extend_from_slice(extra);
        live("collect", fixture(HEALTHY).to_str().unwrap(), "none", &args)
    };
    // Something is there: refused before anything is captured...
    let out = collect(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("capture.tar.gz exists; give --force to overwrite it"),
        "{}",
        stderr(&out)
    );
    // ...and even --force does not follow the link.
    let out = collect(&["--force"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot create"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

/// The archive's compression follows its name, an existing capture is kept
/// unless --force, and a name that says no archive is refused.
#[test]
fn collect_compresses_as_the_name_says_and_keeps_what_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let sysroot = fixture(HEALTHY);
    let collect = |name: &str, extra: &[&str]| {
        let path = tmp.path().join(name);
        let mut args = vec!["-o", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        (
            path.clone(),
            live("collect", sysroot.to_str().unwrap(), "none", &args),
        )
    };
    // Where each format's magic bytes are: tar's "ustar" at 257, gzip's
    // 1f 8b and xz's FD '7zXZ' at the start.
    let magic: [(&str, usize, &[u8]); 4] = [
        ("c.tar", 257, b"ustar"),
        ("c.tar.gz", 0, &[0x1f, 0x8b]),
        ("c.tgz", 0, &[0x1f, 0x8b]),
        ("c.tar.xz", 0, b"\xfd7zXZ"),
    ];
    let mut reports = Vec::new();
    for (name, at, bytes) in magic {
        let (path, out) = collect(name, &[]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let written = std::fs::read(&path).unwrap();
        assert_eq!(
            written.get(at..at + bytes.len()),
            Some(bytes),
            "{name} is not what its name says"
        );
        let analyzed = run(&["analyze", path.to_str().unwrap(), "--format", "json"]);
        reports.push(findings(&stdout(&analyzed)));
    }
    assert!(reports.windows(2).all(|w| w[0] == w[1]), "{reports:?}");

    let existing = tmp.path().join("c.tar.gz");
    std::fs::write(&existing, "an older capture\n").unwrap();
    let (_, out) = collect("c.tar.gz", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "an older capture\n"
    );
    let (_, out) = collect("c.tar.gz", &["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::read(&existing).unwrap().starts_with(&[0x1f, 0x8b]));

    let (zip, out) = collect("c.zip", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("c.zip: name the capture .tar, .tar.gz or .tar.xz"),
        "{}",
        stderr(&out)
    );
    assert!(!zip.exists());
}

#[test]
fn a_real_test_driver_node_from_virt_manager_is_captured_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let capture = tmp.path().join("c.tar.gz");
    let uri = format!("test://{}", fixture("libvirt/testsuite.xml").display());
    let sysroot = fixture(HEALTHY);
    let scan = live(
        "scan",
        sysroot.to_str().unwrap(),
        &uri,
        &[
            "--format",
            "json",
            "--fail-on",
            "never",
            "--save",
            capture.to_str().unwrap(),
        ],
    );
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    let facts = common::facts_of(&capture);
    let info = facts.capture.as_ref().unwrap();
    assert_eq!(info.libvirt.status, "ok", "{:?}", info.libvirt.error);
    assert_eq!(info.libvirt.domains, 6);
    // The node's six domains, with the states libvirt gave, plus the
    // fixture host's two (their state from their own status files).
    assert_eq!(facts.domains.len(), 8);
    let from_libvirt = facts
        .domains
        .iter()
        .filter(|d| d.state.is_some() && !["db01", "web01"].contains(&d.domain.name.as_str()))
        .count();
    assert_eq!(from_libvirt, 6);
    let analyze = run(&[
        "analyze",
        capture.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(findings(&stdout(&analyze)), findings(&stdout(&scan)));
}
