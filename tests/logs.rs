//! Log analysis behaviour that needs no corpus: correlation of kernel
//! events with guests, the time window, rotated and compressed files.

mod common;

use std::fs;
use std::io::Write;

use common::run;

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_slice(&run(args).stdout).unwrap()
}

fn snapshot_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, data) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    }
    dir
}

#[test]
fn oom_kill_is_tied_to_the_domain_whose_log_shows_the_crash_at_that_moment() {
    // No status or pid file: only the times connect the two logs.
    let dir = snapshot_with(&[
        ("proc/stat", b"btime 1555568347\n"),
        ("proc/uptime", b"7192.55 29212.05\n"),
        (
            "var/log/messages",
            b"Apr 18 08:10:31 kvm01 kernel: [ 6684.114190] Out of memory: Killed process 7777 (qemu-system-x86) total-vm:17432112kB, anon-rss:16123904kB\n",
        ),
        ("var/log/libvirt/qemu/web07.log", b"2019-04-18 08:10:32.377+0000: shutting down, reason=crashed\n"),
        ("var/log/libvirt/qemu/db02.log", b"2019-04-18 06:00:00.000+0000: shutting down, reason=shutdown\n"),
    ]);
    let r = json(&[
        "analyze",
        dir.path().to_str().unwrap(),
        "--select",
        "LOG",
        "--format",
        "json",
    ]);
    let oom = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "LOG001")
        .unwrap();
    assert_eq!(oom["domain"], "web07");
    assert!(
        oom["message"].as_str().unwrap().contains("(domain web07)"),
        "{}",
        oom["message"]
    );
    assert_eq!(oom["evidence"][0]["path"], "var/log/messages");
    assert_eq!(oom["evidence"][0]["line"], 1);
    let crash = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "LOG060")
        .unwrap();
    assert_eq!(crash["subject"], "web07");
}

#[test]
fn since_and_until_select_events_by_time() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"2026-11-01T10:00:00+00:00 kvm01 kernel: INFO: task qemu-kvm:5120 blocked for more than 120 seconds.\n").unwrap();
    let older = gz.finish().unwrap();
    let dir = snapshot_with(&[
        ("var/log/messages", b"2026-11-20T10:00:00+00:00 kvm01 kernel: INFO: task qemu-kvm:5120 blocked for more than 120 seconds.\r\n"),
        ("var/log/messages-20261102.gz", &older),
    ]);
    let path = dir.path().to_str().unwrap();
    let count = |extra: &[&str]| -> String {
        let mut args = vec!["analyze", path, "--select", "LOG013", "--format", "json"];
        args.extend_from_slice(extra);
        let r = json(&args);
        r["findings"][0]["message"]
            .as_str()
            .unwrap_or("none")
            .to_owned()
    };
    assert!(
        count(&[]).contains("(2 report(s), first 2026-11-01T10:00:00Z, last 2026-11-20T10:00:00Z)"),
        "{}",
        count(&[])
    );
    assert!(count(&["--since", "2026-11-10T00:00:00Z"])
        .contains("(1 report(s), first 2026-11-20T10:00:00Z"));
    assert!(count(&["--until", "2026-11-10T00:00:00Z"])
        .contains("(1 report(s), first 2026-11-01T10:00:00Z"));
    assert_eq!(count(&["--since", "2026-11-21T00:00:00Z"]), "none");
    let bad = run(&["analyze", path, "--since", "last tuesday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("--since: `last tuesday` is neither a duration"));
    // Each log read has a status.
    let r = json(&["analyze", path, "--format", "json", "--fail-on", "never"]);
    let logs: Vec<&str> = r["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["id"] == "log")
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        logs,
        vec!["var/log/messages", "var/log/messages-20261102.gz"]
    );
}
