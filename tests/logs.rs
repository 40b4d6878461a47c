//! Log analysis behaviour that needs no corpus: correlation of kernel
//! events with guests, the time window, rotated and compressed files.

mod common;

use std::fs;
use std::io::Write;

use common::{run, snapshot_with};

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_slice(&run(args).stdout).unwrap()
}

/// The JSON report of `analyze DIR --select SELECT`.
fn selected(dir: &tempfile::TempDir, select: &str) -> serde_json::Value {
    common::analyze_selected(dir.path(), select)
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
    let r = selected(&dir, "LOG");
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
        count(&[]).contains("(2 reports, from 2026-11-01T10:00:00Z to 2026-11-20T10:00:00Z)"),
        "{}",
        count(&[])
    );
    assert!(
        count(&["--since", "2026-11-10T00:00:00Z"]).contains("(1 report, at 2026-11-20T10:00:00Z)")
    );
    assert!(
        count(&["--until", "2026-11-10T00:00:00Z"]).contains("(1 report, at 2026-11-01T10:00:00Z)")
    );
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

/// Every log rule fires on a line in the format its source prints (lines
/// from the corpus where it has one; the kernel's and libvirt's format
/// strings otherwise), and each line fires only the rule it is meant for.
#[test]
fn every_log_rule_matches_its_format() {
    let kernel = "var/log/messages";
    let qemu = "var/log/libvirt/qemu/web07.log";
    let cases: &[(&str, &str, &str)] = &[
        ("LOG001", kernel, "Apr 18 08:10:31 h kernel: Out of memory: Killed process 6021 (qemu-kvm) total-vm:17432112kB"),
        ("LOG002", kernel, "Apr 18 08:10:31 h kernel: [27742.909353] Out of memory: Killed process 955 (gnome-shell) total-vm:3289540kB"),
        ("LOG004", kernel, "Apr 18 08:10:31 h kernel: [  836.278657] CPU 2/KVM invoked oom-killer: gfp_mask=0x24200ca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0"),
        ("LOG003", kernel, "Apr 18 08:10:31 h kernel: qemu-kvm: page allocation failure: order:4, mode:0x40dc0(GFP_KERNEL|__GFP_COMP)"),
        ("LOG010", kernel, "Apr 18 08:10:31 h kernel: [  281.646907] watchdog: BUG: soft lockup - CPU#1 stuck for 134s! [syz-executor4:4588]"),
        ("LOG011", kernel, "Apr 18 08:10:31 h kernel: NMI watchdog: Watchdog detected hard LOCKUP on cpu 3"),
        ("LOG012", kernel, "Apr 18 08:10:31 h kernel: rcu: INFO: rcu_sched self-detected stall on CPU"),
        ("LOG013", kernel, "Feb 04 00:07:13 h kernel: INFO: task df:1177107 blocked for more than 120 seconds."),
        ("LOG014", kernel, "Apr 18 08:10:31 h kernel: x86/split lock detection: #AC: qemu-system-x86/4242 took a split_lock trap at address: 0x7f1c2d3e"),
        ("LOG015", kernel, "Apr 18 08:10:31 h kernel: clocksource: Marking clocksource 'tsc' as unstable because the skew is too large:"),
        ("LOG020", kernel, "Apr 18 08:10:31 h kernel: blk_update_request: I/O error, dev loop11, sector 0 op 0x0:(READ) flags 0x80700"),
        ("LOG021", kernel, "Apr 18 08:10:31 h kernel: Buffer I/O error on dev sdb1, logical block 0, async page read"),
        ("LOG022", kernel, "Apr 18 08:10:31 h kernel: sd 0:0:0:0: [sdc] tag#12 FAILED Result: hostbyte=DID_OK driverbyte=DRIVER_SENSE"),
        ("LOG023", kernel, "Jun 11 06:51:39 h kernel: [  725.995102] blk_update_request: critical medium error, dev sdk, sector 130611915 op 0x1:(WRITE)"),
        ("LOG024", kernel, "Apr 18 08:10:31 h kernel: EXT4-fs error (device dm-3): ext4_lookup:1701: inode #1310721: comm qemu-kvm: deleted inode referenced"),
        ("LOG025", kernel, "Apr 18 08:10:31 h kernel: EXT4-fs (dm-3): Remounting filesystem read-only"),
        ("LOG030", kernel, "Apr 18 08:10:31 h kernel: NETDEV WATCHDOG: eno1 (ixgbe): transmit queue 3 timed out"),
        ("LOG032", kernel, "Jun  8 10:48:13 compute4 kernel: [1694413.621694] nf_conntrack: nf_conntrack: table full, dropping packet"),
        ("LOG033", kernel, "Apr 18 08:10:31 h kernel: unregister_netdevice: waiting for lo to become free. Usage count = 2"),
        ("LOG040", kernel, "Apr 18 08:10:31 h kernel: EDAC MC0: 1 CE memory read error on CPU_SrcID#0_MC#0_Chan#1_DIMM#0"),
        ("LOG041", kernel, "Apr 18 08:10:31 h kernel: EDAC MC1: 1 UE memory read error on CPU_SrcID#1_MC#0_Chan#0_DIMM#0"),
        ("LOG050", kernel, "Apr 18 08:10:31 h kernel: kvm: disabled by bios"),
        ("LOG051", kernel, "Apr 18 08:10:31 h kernel: kvm [4242]: vcpu0, guest rIP: 0xffffffff8106b7e4 unhandled rdmsr: 0x34"),
        // Linux 6.x words it vcpu_unimpl(vcpu, "Unhandled RDMSR(0x%x)\n", msr).
        ("LOG051", kernel, "Apr 18 08:10:31 h kernel: kvm [4242]: vcpu0, guest rIP: 0xffffffff8106b7e4 Unhandled RDMSR(0xc0011029)"),
        ("LOG060", qemu, "2019-04-18 08:10:32.377+0000: shutting down, reason=crashed"),
        ("LOG061", qemu, "2022-02-10T16:18:33.031019Z qemu-system-x86_64: terminating on signal 15 from pid 1074 (/usr/sbin/libvirtd)"),
        ("LOG062", qemu, "2019-04-18 06:25:12.102+0000: Domain id=3 is tainted: custom-argv"),
        ("LOG063", qemu, "2022-02-10T16:18:05.033085Z qemu-system-x86_64: warning: host doesn't support requested feature: MSR(48FH).vmx-exit-load-perf-global-ctrl [bit 12]"),
        ("LOG064", qemu, "KVM internal error. Suberror: 1"),
        ("LOG065", qemu, "2019-04-18T06:25:12.102000Z qemu-system-x86_64: -netdev tap,fds=25,id=hostnet0,vhost=on,vhostfd=27: vhost-net requested but could not be initialized"),
        ("LOG066", qemu, "2019-04-18T06:25:12.102000Z qemu-system-x86_64: warning: Machine type 'pc-i440fx-1.4' is deprecated: use a newer machine type instead"),
        ("LOG068", qemu, "2026-11-24T06:41:09.118402Z qemu-system-x86_64: block I/O error in device 'drive-virtio-disk0': No space left on device (28)"),
        ("LOG067", qemu, "2019-04-18T06:25:12.102000Z qemu-system-x86_64: unable to map backing store for guest RAM: Cannot allocate memory"),
        ("LOG070", "var/log/libvirt/libvirtd.log", "2019-04-18 06:25:12.102+0000: 1432: warning : qemuDomainObjBeginJobInternal:9714 : Cannot acquire state change lock (held by monitor=remoteDispatchDomainGetBlockInfo)"),
    ];
    for (rule, place, line) in cases {
        let dir = snapshot_with(&[(place, format!("{line}\n").as_bytes())]);
        let r = selected(&dir, "LOG");
        let fired: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert_eq!(fired, vec![*rule], "{line}");
    }
    // The host-cpu taint is what host-passthrough and host-model set: not
    // a finding. Another taint on the same domain is, with its meaning.
    let taints = "2019-04-18 06:25:12.102+0000: Domain id=3 is tainted: host-cpu\n2019-04-18 06:25:12.103+0000: Domain id=3 is tainted: custom-monitor\n";
    let dir = snapshot_with(&[(qemu, taints.as_bytes())]);
    let r = selected(&dir, "LOG062");
    let messages: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        ["web07 is tainted: custom-monitor (commands sent straight to the QEMU monitor) (once, at 2019-04-18T06:25:12Z): libvirt cannot vouch for what it did not configure."]
    );
    // LOG031 wants three link-downs within an hour.
    let flaps = "2026-11-20T10:00:00+00:00 h kernel: eno1: Link is Down\n2026-11-20T10:10:00+00:00 h kernel: eno1: Link is Down\n";
    let dir = snapshot_with(&[(kernel, flaps.as_bytes())]);
    let r = selected(&dir, "LOG031");
    assert!(
        r["findings"].as_array().unwrap().is_empty(),
        "two flaps are not flapping"
    );
    let flaps = format!("{flaps}2026-11-20T10:20:00+00:00 h kernel: eno1: Link is Down\n");
    let dir = snapshot_with(&[(kernel, flaps.as_bytes())]);
    let r = selected(&dir, "LOG031");
    assert_eq!(r["findings"][0]["subject"], "eno1");
}

/// A finding that groups several events is true for all of them: values
/// that differ between the events are listed with their counts, never
/// only the first event's.
#[test]
fn grouped_findings_show_every_value_they_group() {
    let mut log = String::new();
    for i in 0..8 {
        let (cpu, pid) = if i % 2 == 0 { (1, 333) } else { (8, 332) };
        log.push_str(&format!(
            "2026-11-20T10:0{i}:00+00:00 kvm01 kernel: watchdog: BUG: soft lockup - CPU#{cpu} stuck for 23s! [qemu-kvm:{pid}]\n"
        ));
    }
    let dir = snapshot_with(&[("var/log/messages", log.as_bytes())]);
    let r = selected(&dir, "LOG010");
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0]["message"],
        "8 soft lockups, from 2026-11-20T10:00:00Z to 2026-11-20T10:07:00Z: CPU#1 ×4, 8 ×4 stuck for 23s in qemu-kvm (pid 333 ×4, 332 ×4)."
    );
    assert_eq!(findings[0]["events"], 8);
}

/// `--since 24h` is the last day of the snapshot, not of today: a
/// sosreport taken in 2022 (its own `date --utc` says when) keeps its
/// last day's events. Dates are accepted, and what the window left out is
/// counted.
#[test]
fn the_window_counts_back_from_when_the_snapshot_was_taken() {
    let dir = snapshot_with(&[
        ("sos_commands/date/date_--utc", b"Thu Feb 10 16:19:17 UTC 2022\n"),
        (
            "var/log/messages",
            b"2022-02-08T10:00:00+00:00 kvm01 kernel: INFO: task qemu-kvm:5120 blocked for more than 120 seconds.\n\
2022-02-10T10:00:00+00:00 kvm01 kernel: INFO: task qemu-kvm:5121 blocked for more than 120 seconds.\n",
        ),
    ]);
    let path = dir.path().to_str().unwrap();
    let report = |extra: &[&str]| {
        let mut args = vec!["analyze", path, "--select", "LOG013", "--format", "json"];
        args.extend_from_slice(extra);
        json(&args)
    };
    let day = report(&["--since", "24h"]);
    assert_eq!(day["findings"][0]["events"], 1, "{day}");
    assert!(
        day["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("(pid 5121)"),
        "{day}"
    );
    let status = day["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "log" && s["path"] == "var/log/messages")
        .unwrap();
    assert_eq!(
        status["detail"],
        "2 lines read; 1 lines with events outside --since/--until left out"
    );
    let dated = report(&["--since", "2022-02-08", "--until", "2022-02-09"]);
    assert_eq!(dated["findings"][0]["events"], 1, "{dated}");
    assert!(dated["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("(pid 5120)"));
}

/// A journal export's header says when it ends, and so which year its
/// year-less stamps are in. The header is insights-core's real one
/// (`test_journalctl.py`); the OOM line is in the same short format.
#[test]
fn a_journal_headers_end_gives_its_year() {
    let journal = "-- Logs begin at Wed 2017-02-08 15:18:00 CET, end at Tue 2017-09-19 09:12:59 CEST. --\n\
May 18 15:13:34 lxc-rhel68-sat56 kernel: Out of memory: Killed process 6021 (qemu-kvm) total-vm:17432112kB\n";
    // A snapshot taken in 2026 would otherwise put May 18 in 2026.
    let dir = snapshot_with(&[
        (
            "sos_commands/date/date_--utc",
            b"Tue Nov 24 01:08:01 UTC 2026\n",
        ),
        (
            "sos_commands/logs/journalctl_--no-pager",
            journal.as_bytes(),
        ),
    ]);
    let r = selected(&dir, "LOG001");
    assert!(
        r["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at 2017-05-18T15:13:34Z"),
        "{r}"
    );
}

/// A site's log rules, with patterns that match the body as documented
/// (`^kvm: …` after the timestamp and `kernel:` prefix); a template error
/// is the rule's error, not text in a finding; patterns that cannot be
/// combined are a catalog error before anything runs.
#[test]
fn site_log_rules_match_bodies_and_fail_cleanly() {
    let rules = tempfile::tempdir().unwrap();
    fs::write(
        rules.path().join("site.toml"),
        r#"
[[log_rule]]
code = "SITE201"
name = "kvm-nested-off"
category = "cpu"
severity = "warning"
sources = ["syslog", "dmesg"]
pattern = '''^kvm: (?P<what>nested virtualization is disabled)'''
title = "Nested virtualization is off"
message = "{m.what} ({times(count)})."
fix = "modprobe -r kvm_intel && modprobe kvm_intel nested=1"
explanation = "Our CI hosts run guests that run guests."

[[log_rule]]
code = "SITE202"
name = "broken-template"
category = "host"
severity = "info"
sources = ["syslog"]
pattern = '''watchdog: BUG: soft lockup'''
title = "t"
message = "{m.no_such_capture}"
fix = "f"
explanation = "e"
"#,
    )
    .unwrap();
    let dir = snapshot_with(&[(
        "var/log/messages",
        b"Nov 24 01:08:01 kvm01 kernel: [ 12.345678] kvm: nested virtualization is disabled\n\
Nov 24 01:09:01 kvm01 kernel: watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [qemu-kvm:333]\n",
    )]);
    let rules_dir = rules.path().to_str().unwrap();
    let r = json(&[
        "analyze",
        dir.path().to_str().unwrap(),
        "--rules-dir",
        rules_dir,
        "--select",
        "SITE",
        "--format",
        "json",
    ]);
    let messages: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(messages, ["nested virtualization is disabled (once)."]);
    let errors = r["rule_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["rule"], "SITE202");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("no_such_capture"),
        "{errors:?}"
    );

    let mut big = String::new();
    for i in 0..12 {
        big.push_str(&format!(
            "[[log_rule]]\ncode = \"SITE3{i:02}\"\nname = \"big-{i}\"\ncategory = \"host\"\nseverity = \"info\"\nsources = [\"syslog\"]\npattern = '''\\w{{1,100}}tag{i}\\w{{1,100}}'''\ntitle = \"t\"\nmessage = \"m\"\nfix = \"f\"\nexplanation = \"e\"\n\n"
        ));
    }
    fs::write(rules.path().join("big.toml"), big).unwrap();
    let o = run(&[
        "analyze",
        dir.path().to_str().unwrap(),
        "--rules-dir",
        rules_dir,
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("log patterns that read syslog logs") && err.contains("cannot be combined"),
        "{err}"
    );
    assert!(err.contains("big.toml:1"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A failed start names its cause, from the lines QEMU printed just
/// before `shutting down, reason=failed`, with the fix for that cause.
/// The first log is real: this project's CI host with /dev/kvm made
/// unreadable to QEMU (fixtures/logs/). The other two are written in
/// QEMU's own messages' format (the MSR failure exactly as QEMU 7.2 printed
/// it on a nested AMD host; vfio's from hw/vfio/common.c).
#[test]
fn a_failed_start_names_its_cause() {
    let real = fs::read(common::fixture("logs/qemu-start-failed-kvm-permission.log")).unwrap();
    let msr = b"2026-11-30 09:12:01.101+0000: starting up libvirt version: 9.0.0, qemu version: 7.2.22, hostname: ci-4\n\
2026-11-30T09:12:01.412233Z qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n\
qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n\
2026-11-30 09:12:01.530+0000: shutting down, reason=failed\n";
    let vfio = b"2026-11-30 09:20:00.001+0000: starting up libvirt version: 9.0.0, qemu version: 7.2.22, hostname: gpu-2\n\
2026-11-30T09:20:00.318000Z qemu-system-x86_64: -device vfio-pci,host=0000:03:00.0,id=hostdev0,bus=pci.0,addr=0x6: vfio 0000:03:00.0: group 21 is not viable\n\
Please ensure all devices within the iommu_group are bound to their vfio bus driver.\n\
2026-11-30 09:20:00.402+0000: shutting down, reason=failed\n";
    let dir = snapshot_with(&[
        ("var/log/libvirt/qemu/web01.log", &real),
        ("var/log/libvirt/qemu/nested01.log", msr),
        ("var/log/libvirt/qemu/gpu01.log", vfio),
    ]);
    let r = selected(&dir, "LOG060");
    let by_domain = |d: &str| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["domain"] == d)
            .unwrap_or_else(|| panic!("no LOG060 for {d}: {r}"))
            .clone()
    };
    let web = by_domain("web01");
    assert_eq!(
        web["message"],
        "web01 shut down with reason=failed once, at 2026-12-01T11:45:25Z, after: Could not access KVM kernel module: Permission denied; qemu-system-x86_64: -accel kvm: failed to initialize kvm: Permission denied."
    );
    assert!(
        web["fix"]
            .as_str()
            .unwrap()
            .starts_with("QEMU could not open /dev/kvm"),
        "{web}"
    );
    let nested = by_domain("nested01");
    assert!(
        nested["message"]
            .as_str()
            .unwrap()
            .contains("after: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69; qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion"),
        "{nested}"
    );
    assert!(
        nested["fix"].as_str().unwrap().contains("host-model"),
        "{nested}"
    );
    let gpu = by_domain("gpu01");
    assert!(
        gpu["message"]
            .as_str()
            .unwrap()
            .contains("group 21 is not viable"),
        "{gpu}"
    );
    assert!(
        gpu["fix"]
            .as_str()
            .unwrap()
            .contains("virsh nodedev-detach"),
        "{gpu}"
    );
}

/// An OOM report is one finding: the victim's line (LOG001) when the log
/// kept it, the guest thread that invoked the killer (LOG004) when it did
/// not. Lines in the kernel's format (mm/oom_kill.c).
#[test]
fn an_oom_report_without_its_victim_line_is_still_found() {
    let invoked = "2026-11-20T10:00:00+00:00 kvm01 kernel: CPU 2/KVM invoked oom-killer: gfp_mask=0x24200ca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0\n";
    let killed = "2026-11-20T10:00:01+00:00 kvm01 kernel: Out of memory: Killed process 4242 (qemu-kvm) total-vm:9000000kB, anon-rss:8000000kB\n";
    let rules_of = |text: String| -> Vec<String> {
        let dir = snapshot_with(&[("var/log/messages", text.as_bytes())]);
        common::rules_of(&selected(&dir, "LOG"))
    };
    assert_eq!(rules_of(invoked.to_owned()), ["LOG004"]);
    assert_eq!(rules_of(format!("{invoked}{killed}")), ["LOG001"]);
}

/// Each log rule's documented example (`rules show`, the rules reference)
/// fires that rule when it is found in a host's logs: the lines of the
/// kernel's (dmesg or syslog, by their prefix), QEMU's or libvirtd's log
/// go where a sosreport has them.
#[test]
fn every_log_rules_documented_example_fires_it() {
    let catalog = virt_doctor::rules::Catalog::load(&[]).unwrap();
    let mut problems = Vec::new();
    for rule in &catalog.log_rules {
        let example = rule.doc.example_log.as_deref().unwrap_or_default();
        let mut files: Vec<(&str, String)> = Vec::new();
        for line in example.lines() {
            let place = match rule.sources[0].as_str() {
                "qemu" => "var/log/libvirt/qemu/web07.log",
                "libvirtd" => "var/log/libvirt/libvirtd.log",
                _ if line.starts_with('[') => "var/log/dmesg",
                _ => "var/log/messages",
            };
            match files.iter_mut().find(|(p, _)| *p == place) {
                Some((_, text)) => text.push_str(&format!("{line}\n")),
                None => files.push((place, format!("{line}\n"))),
            }
        }
        let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
        let dir = snapshot_with(&files);
        let r = selected(&dir, &rule.code);
        if !common::rules_of(&r).contains(&rule.code) {
            problems.push(format!(
                "{}: its example fires nothing:\n{example}",
                rule.code
            ));
        }
    }
    assert!(catalog.log_rules.len() >= 30);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The literal prefilter only decides which lines the rules see, never what
/// they find: a site log rule with no literal (`scans every line`, as
/// `rules show` says) makes syslogs be read line by line, and the built-in
/// rules' findings, lines and counts are the same as with the prefilter.
/// The file has CRLF endings, bytes that are not UTF-8, a line over the
/// 64 KiB cap with an event past the cap (never seen either way) and one
/// before it, and a last line without a newline.
#[test]
fn a_rule_without_literals_reads_every_line_and_finds_the_same() {
    let mut messages = Vec::new();
    for i in 0..5000 {
        messages.extend_from_slice(
            format!(
                "Nov 24 01:{:02}:{:02} kvm01 systemd[1]: Started Session {i} of user deploy. ",
                (i / 60) % 60,
                i % 60
            )
            .as_bytes(),
        );
        messages.extend_from_slice(b"\xff\xfe\r\n");
        if i % 1000 == 999 {
            messages.extend_from_slice(b"Nov 24 02:00:00 kvm01 kernel: INFO: task qemu-kvm:5120 blocked for more than 120 seconds.\r\n");
        }
    }
    // An event after the cap of a long line (cut: not seen), and one before.
    messages.extend_from_slice(b"Nov 24 02:10:00 kvm01 kernel: ");
    messages.extend(std::iter::repeat_n(b'x', 70 * 1024));
    messages.extend_from_slice(b" Out of memory: Killed process 6021 (qemu-kvm)\n");
    messages.extend_from_slice(
        b"Nov 24 02:11:00 kvm01 kernel: Out of memory: Killed process 6022 (qemu-kvm) ",
    );
    messages.extend(std::iter::repeat_n(b'y', 70 * 1024));
    messages.extend_from_slice(
        b"\nNov 24 02:12:00 kvm01 kernel: NETDEV WATCHDOG: eno1 (ixgbe): transmit queue 3 timed out",
    );
    let dir = snapshot_with(&[("var/log/messages", &messages)]);
    let rules = tempfile::tempdir().unwrap();
    fs::write(
        rules.path().join("site.toml"),
        r#"
[[log_rule]]
code = "SITE100"
name = "numbered-lines"
category = "cpu"
severity = "info"
sources = ["syslog"]
pattern = '''^\w+: \d+$'''
title = "t"
message = "m"
fix = "f"
"#,
    )
    .unwrap();
    let site = rules.path().to_str().unwrap();
    let show =
        String::from_utf8(run(&["rules", "show", "SITE100", "--rules-dir", site]).stdout).unwrap();
    assert!(
        show.contains("lines read:\n    scans every line: its best literal set has `: `, shorter than 3 bytes"),
        "{show}"
    );
    let path = dir.path().to_str().unwrap();
    let report = |extra: &[&str]| {
        let mut args = vec!["analyze", path, "--format", "json", "--fail-on", "never"];
        args.extend(extra);
        let r = json(&args);
        let findings: Vec<(String, u64, Vec<u64>)> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"].as_str().unwrap().starts_with("LOG"))
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_owned(),
                    f["events"].as_u64().unwrap(),
                    f["evidence"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e["line"].as_u64().unwrap())
                        .collect(),
                )
            })
            .collect();
        let status = r["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "log" && s["path"] == "var/log/messages")
            .unwrap_or_else(|| panic!("no status for the log: {}", r["sources"]))["detail"]
            .clone();
        (findings, status)
    };
    let fast = report(&[]);
    let every_line = report(&["--rules-dir", site]);
    assert_eq!(fast, every_line);
    assert_eq!(
        fast.0,
        [
            ("LOG013".to_owned(), 5, vec![1001, 2002, 3003]),
            ("LOG001".to_owned(), 1, vec![5007]),
            ("LOG030".to_owned(), 1, vec![5008]),
        ]
    );
    assert_eq!(
        fast.1,
        "5008 lines read; 2 lines longer than 64 KiB were cut"
    );
}
