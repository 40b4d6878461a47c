//! The command line as an operator or a CI job uses it: exit codes (0
//! clean, 1 findings at or above --fail-on, 2 error), report formats,
//! site rules, config overrides, and clear errors.

mod common;

use common::{run, stderr, stdout};

#[test]
fn exit_codes_follow_fail_on() {
    let healthy = run(&["analyze", "fixtures/hosts/healthy-2node"]);
    assert_eq!(healthy.status.code(), Some(0), "{}", stderr(&healthy));
    assert!(
        stdout(&healthy).ends_with("0 critical, 0 warnings, 0 info on kvm-tuned-01 (2 domains)\n"),
        "{}",
        stdout(&healthy)
    );

    let busy = run(&["analyze", "fixtures/hosts/cpu-contention"]);
    assert_eq!(busy.status.code(), Some(1));
    assert!(
        stdout(&busy).contains("2 critical, 9 warnings, 7 info on kvm-busy-03 (7 domains)"),
        "{}",
        stdout(&busy)
    );
    assert_eq!(
        run(&[
            "analyze",
            "fixtures/hosts/cpu-contention",
            "--fail-on",
            "critical"
        ])
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        run(&[
            "analyze",
            "fixtures/hosts/cpu-contention",
            "--fail-on",
            "never"
        ])
        .status
        .code(),
        Some(0)
    );

    // hotsos: one warning (MEM012, swappiness) and five infos (CPU007,
    // LOG061, NET007, LOG063 on both domains): exit 1 at the default
    // warning level and at info, 0 at critical.
    assert_eq!(
        run(&["analyze", "fixtures/hosts/hotsos-compute"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(&[
            "analyze",
            "fixtures/hosts/hotsos-compute",
            "--fail-on",
            "critical"
        ])
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        run(&[
            "analyze",
            "fixtures/hosts/hotsos-compute",
            "--fail-on",
            "info"
        ])
        .status
        .code(),
        Some(1)
    );
}

#[test]
fn errors_exit_2_and_name_the_problem() {
    let missing = run(&["analyze", "fixtures/hosts/does-not-exist"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("cannot open snapshot fixtures/hosts/does-not-exist"),
        "{}",
        stderr(&missing)
    );
    let unwritable = run(&[
        "collect",
        "--connect",
        "none",
        "--interval",
        "0",
        "--sysroot",
        "fixtures/hosts/healthy-2node",
        "-o",
        "/nonexistent-dir/capture.tar.gz",
    ]);
    assert_eq!(unwritable.status.code(), Some(2));
    assert!(
        stderr(&unwritable).contains("cannot create /nonexistent-dir/capture.tar.gz"),
        "{}",
        stderr(&unwritable)
    );
    let bad_size = run(&["scan", "--max-log-bytes", "lots"]);
    assert_eq!(bad_size.status.code(), Some(2));
    assert!(
        stderr(&bad_size).contains("`lots` is not a size"),
        "{}",
        stderr(&bad_size)
    );
    // No subcommand: help, as a usage error.
    let bare = run(&[]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(
        stderr(&bare).contains("Usage: virt-doctor"),
        "{}",
        stderr(&bare)
    );
    let usage = run(&["analyze"]);
    assert_eq!(usage.status.code(), Some(2));
    let unknown = run(&["rules", "show", "NOPE999"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no rule `NOPE999`"));
    // JSONL is analyze's record stream; lint says so instead of panicking.
    let jsonl = run(&[
        "lint",
        "fixtures/hosts/healthy-2node/etc/libvirt/qemu/db01.xml",
        "--format",
        "jsonl",
    ]);
    assert_eq!(jsonl.status.code(), Some(2), "{}", stderr(&jsonl));
    assert!(
        stderr(&jsonl).contains("--format jsonl is the record stream of `analyze`"),
        "{}",
        stderr(&jsonl)
    );
}

#[test]
fn json_report_follows_the_contract() {
    let o = run(&["analyze", "fixtures/hosts/storage", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["schema"], "virt-doctor/report/v1");
    assert_eq!(r["tool"]["name"], "virt-doctor");
    assert_eq!(r["target"]["kind"], "directory");
    assert_eq!(r["target"]["hostname"], "kvm-disk-07");
    assert_eq!(r["summary"]["critical"], 3);
    assert_eq!(r["summary"]["warning"], 15);
    assert_eq!(r["summary"]["info"], 10);
    let findings = r["findings"].as_array().unwrap();
    // Grouped by category in report order, worst first within each.
    let cats: Vec<&str> = findings
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    let order = [
        "host", "cpu", "memory", "numa", "disk", "network", "snapshot",
    ];
    let ranks: Vec<usize> = cats
        .iter()
        .map(|c| order.iter().position(|o| o == c).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{cats:?}");
    let severity = |f: &serde_json::Value| match f["severity"].as_str().unwrap() {
        "critical" => 0,
        "warning" => 1,
        _ => 2,
    };
    assert!(
        findings
            .windows(2)
            .all(|w| w[0]["category"] != w[1]["category"] || severity(&w[0]) <= severity(&w[1])),
        "worst first within a category"
    );
    // A disk finding points at the <disk> element of the domain XML.
    let unsafe_cache = findings.iter().find(|f| f["rule"] == "DISK002").unwrap();
    assert_eq!(unsafe_cache["domain"], "files01");
    assert_eq!(unsafe_cache["subject"], "files01 disk hdb");
    assert_eq!(unsafe_cache["severity"], "warning");
    let ev = &unsafe_cache["evidence"][0];
    assert_eq!(ev["path"], "run/libvirt/qemu/files01.xml");
    // In the status file the domain is indented inside <domstatus>; the
    // second <disk> starts on line 25 there.
    assert_eq!(ev["line"], 25);
    let xml = std::fs::read_to_string(common::fixture(
        "hosts/storage/run/libvirt/qemu/files01.xml",
    ))
    .unwrap();
    assert!(xml
        .lines()
        .nth(24)
        .unwrap()
        .trim_start()
        .starts_with("<disk type='block' device='disk'>"));
    assert!(xml.lines().nth(25).unwrap().contains("cache='unsafe'"));
    assert!(unsafe_cache["fix"]
        .as_str()
        .unwrap()
        .contains("cache='none' io='native'"));
    assert!(!unsafe_cache["references"].as_array().unwrap().is_empty());
    // A host finding with a value read shows the value.
    let sched = findings
        .iter()
        .find(|f| f["rule"] == "DISK007" && f["subject"] == "sda")
        .unwrap();
    assert_eq!(sched["domain"], serde_json::Value::Null);
    assert_eq!(
        sched["evidence"][0]["path"],
        "sys/block/sda/queue/scheduler"
    );
    assert_eq!(
        sched["evidence"][0]["text"],
        "scheduler: [none] mq-deadline kyber bfq; rotational 1"
    );
    assert!(r["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == "domains" && s["status"] == "ok"));
}

#[test]
fn rules_list_and_show_explain_the_catalog() {
    let list = run(&["rules", "list", "--format", "json"]);
    assert_eq!(list.status.code(), Some(0));
    let rules: Vec<serde_json::Value> = serde_json::from_str(&stdout(&list)).unwrap();
    assert!(rules.len() >= 60, "{}", rules.len());
    for r in &rules {
        assert!(
            r["references"].as_array().is_some_and(|a| !a.is_empty()),
            "{} has no reference",
            r["code"]
        );
        assert!(
            r["references"].as_array().unwrap().iter().all(|x| x
                .as_str()
                .is_some_and(|x| x.contains("https://") || x.contains("http://"))),
            "{} has a reference without a URL",
            r["code"]
        );
        // Research notes stay out of what users read.
        assert!(r.get("seed").is_none(), "{}", r["code"]);
        // The docs, as `rules show` prints them.
        for field in ["what", "why", "ignore"] {
            assert!(r["doc"][field].is_string(), "{} doc.{field}", r["code"]);
        }
    }
    let show = run(&["rules", "show", "disk-cache-writeback"]);
    assert_eq!(show.status.code(), Some(0));
    let text = stdout(&show);
    assert!(
        text.starts_with(
            "DISK003 disk-cache-writeback\n\
             Disk cache mode `writeback` double-caches in host memory\n\
             disk · warning · checked per disk\n"
        ),
        "{text}"
    );
    // Shaped like `ruff rule`: what, why, when to ignore, the problem and
    // its fix, then how the rule decides.
    let sections = [
        "\nWhat it does\n  Reports every disk whose driver sets cache='writeback'.\n",
        "\nWhy it matters\n  ",
        "\nWhen to ignore it\n  ",
        "\nExample\n    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2' cache='writeback'/>\n",
        "\nUse instead\n    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2' cache='none' io='native'/>\n",
        "\nHow it decides\n  fires when:\n    disk.cache == 'writeback'\n",
        "\nReferences\n  - ",
    ];
    let mut at = 0;
    for s in sections {
        let found = text[at..].find(s).map(|i| i + at);
        assert!(found.is_some(), "no {s:?} after byte {at} in\n{text}");
        at = found.unwrap();
    }
    assert!(
        text.contains(
            "\n  - RHEL 10: Configure virtual disk caching\n    https://docs.redhat.com/"
        ),
        "{text}"
    );
    assert!(!text.contains("source document"), "{text}");
    let params = stdout(&run(&["rules", "show", "CPU002"]));
    assert!(
        params
            .contains("\n  max_ratio = 5.0\n      largest acceptable vCPUs per host logical CPU\n"),
        "{params}"
    );
}

#[test]
fn site_rules_load_without_recompiling() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site.toml"),
        r#"
[[rule]]
code = "SITE001"
name = "domains-must-have-two-vcpus"
category = "cpu"
severity = "warning"
scope = "domain"
title = "Site policy: at least two vCPUs"
when = "domain.derived.vcpus_effective < 2"
message = "{domain.name} has {domain.derived.vcpus_effective} vCPU"
fix = "virsh setvcpus {domain.name} 2 --config --maximum"
explanation = "Our site runs every guest with two vCPUs at least."
references = ["site runbook 7"]
"#,
    )
    .unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let o = run(&[
        "analyze",
        "fixtures/hosts/cpu-contention",
        "--rules-dir",
        dir_arg,
        "--format",
        "json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let site: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "SITE001")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(site, vec!["legacy01 has 1 vCPU"]);
    // Its old `explanation` is its why; the other doc fields are optional.
    let show = stdout(&run(&["rules", "show", "SITE001", "--rules-dir", dir_arg]));
    assert!(
        show.contains("\nWhy it matters\n  Our site runs every guest with two vCPUs at least.\n"),
        "{show}"
    );
    assert!(
        !show.contains("What it does") && !show.contains("Example"),
        "{show}"
    );
    // A site rule documented like the built-in ones shows it all.
    std::fs::write(
        dir.path().join("documented.toml"),
        r#"
[[rule]]
code = "SITE003"
name = "no-writeback-on-nfs"
category = "disk"
severity = "warning"
scope = "disk"
title = "Site policy: no writeback cache"
when = "disk.cache == 'writeback'"
message = "{domain.name} {disk.target}"
fix = "cache='none'"
what = "Flags writeback disks."
why = "Our NFS filers lose data otherwise."
ignore = "Never."
example_bad = "<driver cache='writeback'/>"
example_good = "<driver cache='none'/>"
"#,
    )
    .unwrap();
    let show = stdout(&run(&["rules", "show", "SITE003", "--rules-dir", dir_arg]));
    for part in [
        "\nWhat it does\n  Flags writeback disks.\n",
        "\nWhy it matters\n  Our NFS filers lose data otherwise.\n",
        "\nWhen to ignore it\n  Never.\n",
        "\nExample\n    <driver cache='writeback'/>\n",
        "\nUse instead\n    <driver cache='none'/>\n",
    ] {
        assert!(show.contains(part), "{part:?} in\n{show}");
    }
    std::fs::remove_file(dir.path().join("documented.toml")).unwrap();

    // A broken rule is an error naming file and line, and nothing runs.
    std::fs::write(
        dir.path().join("broken.toml"),
        "[[rule]]\ncode = \"SITE002\"\nname = \"broken\"\ncategory = \"cpu\"\nseverity = \"info\"\nscope = \"disk\"\ntitle = \"t\"\nwhen = \"disk.cache ==\"\nmessage = \"m\"\nfix = \"f\"\nexplanation = \"e\"\n",
    )
    .unwrap();
    let o = run(&[
        "analyze",
        "fixtures/hosts/cpu-contention",
        "--rules-dir",
        dir_arg,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty(), "no report: {}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("broken.toml:1: rule SITE002: when:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn config_overrides_thresholds_and_disables_rules() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("virt-doctor.toml");
    std::fs::write(
        &cfg,
        "disable = [\"CPU013\"]\n[rules.vcpu-overcommit]\nmax_ratio = 8.0\n",
    )
    .unwrap();
    let o = run(&[
        "analyze",
        "fixtures/hosts/cpu-contention",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rules = common::rules_of(&r);
    let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
    assert!(
        !rules.contains(&"CPU002"),
        "5.88:1 is below the overridden 8:1"
    );
    assert!(!rules.contains(&"CPU013"), "disabled");
    assert!(rules.contains(&"CPU001"));

    std::fs::write(&cfg, "[rules.CPU002]\nmax_ration = 8.0\n").unwrap();
    let o = run(&[
        "analyze",
        "fixtures/hosts/cpu-contention",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "[rules.CPU002] max_ration: rule CPU002 has no such parameter (it has: max_ratio)"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn verbose_table_shows_evidence_and_why() {
    let o = run(&["analyze", "fixtures/hosts/hotsos-compute", "-v"]);
    let text = stdout(&o);
    assert!(
        text.contains("\n  evidence:\n    sos_commands/kernel/sysctl_-a: vm.swappiness = 60\n"),
        "{text}"
    );
    assert!(
        text.contains("\n  why:\n    Red Hat's virtual-host TuneD profile"),
        "{text}"
    );
}

#[test]
fn scan_reads_the_live_host() {
    let o = run(&["scan", "--format", "json", "--fail-on", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["target"]["kind"], "live");
    assert_eq!(r["target"]["path"], "/");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(r["target"]["hostname"], hostname.trim());
    assert!(
        r["rule_errors"].as_array().unwrap().is_empty(),
        "{}",
        r["rule_errors"]
    );
}

/// MEM003 judges MemAvailable against the memory hugepages leave: a host
/// that reserves most of its RAM for hugepage-backed guests is not short.
#[test]
fn low_memory_is_judged_without_hugepage_reservations() {
    let host = |available_gib: u64| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("proc")).unwrap();
        std::fs::create_dir_all(root.join("sys/kernel/mm/hugepages/hugepages-2048kB")).unwrap();
        let gib = 1024 * 1024;
        std::fs::write(
            root.join("proc/meminfo"),
            format!(
                "MemTotal: {} kB\nMemFree: {} kB\nMemAvailable: {} kB\n",
                512 * gib,
                available_gib * gib,
                available_gib * gib
            ),
        )
        .unwrap();
        // 480 GiB of 2 MiB pages, all in use.
        std::fs::write(
            root.join("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"),
            "245760\n",
        )
        .unwrap();
        std::fs::write(
            root.join("sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"),
            "0\n",
        )
        .unwrap();
        dir
    };
    let rules_on = |dir: &tempfile::TempDir| -> Vec<String> {
        common::rules_and_subjects(&common::analyze_selected(dir.path(), "MEM003"))
            .into_iter()
            .map(|(rule, _)| rule)
            .collect()
    };
    // 20 GiB of the 32 GiB left: fine, although only 4% of MemTotal.
    assert!(rules_on(&host(20)).is_empty());
    // 1 GiB of 32 GiB: short.
    assert_eq!(rules_on(&host(1)), vec!["MEM003"]);
}

/// A domain definition libvirt would refuse is a finding of `analyze`
/// too, with every problem and its line, not only a `malformed` source;
/// the valid domains beside it are analyzed as usual.
#[test]
fn analyze_reports_domain_xml_libvirt_would_refuse_with_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("etc/libvirt/qemu")).unwrap();
    std::fs::create_dir_all(root.join("proc")).unwrap();
    std::fs::write(
        root.join("proc/meminfo"),
        "MemTotal: 16384000 kB\nMemAvailable: 8000000 kB\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/libvirt/qemu/broken.xml"),
        "<domain type='kvm'>\n  <name></name>\n  <memory unit='KiB'></memory>\n  <vcpu>1</vcpu>\n  <os><type arch='x86_64'>hvm</type></os>\n</domain>\n",
    )
    .unwrap();
    // libvirt's sparc-minimal.xml writes `unit="mib"`, which libvirt's
    // schema and libvirt accept: no finding.
    std::fs::write(
        root.join("etc/libvirt/qemu/fine.xml"),
        "<domain type='kvm'>\n  <name>fine</name>\n  <memory unit=\"mib\">64</memory>\n  <vcpu>1</vcpu>\n  <os><type arch='x86_64'>hvm</type></os>\n  <cpu mode='host-passthrough'/>\n</domain>\n",
    )
    .unwrap();
    let o = run(&[
        "analyze",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--select",
        "VD003",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["subject"], "etc/libvirt/qemu/broken.xml");
    assert_eq!(f["severity"], "critical");
    assert_eq!(
        f["message"],
        "etc/libvirt/qemu/broken.xml: line 2: <name> is empty: libvirt needs a name; line 3: <memory> is empty: libvirt needs a size"
    );
    let lines: Vec<u64> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3]);
}

/// Everything a config or a site rule says is checked before anything
/// runs, and a selection applies to the meta rules too.
#[test]
fn config_and_site_rules_are_checked_and_selection_is_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("virt-doctor.toml");
    let cfg_arg = cfg.to_str().unwrap();
    // A parameter of the wrong kind.
    std::fs::write(&cfg, "[rules.CPU002]\nmax_ratio = \"eight\"\n").unwrap();
    let o = run(&[
        "analyze",
        "fixtures/hosts/cpu-contention",
        "--config",
        cfg_arg,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("[rules.CPU002] max_ratio = \"eight\": expected a number (default 5.0)"),
        "{}",
        stderr(&o)
    );
    // `diff` checks its config like `analyze`.
    let o = run(&[
        "diff",
        "fixtures/hosts/storage",
        "fixtures/hosts/network",
        "--config",
        cfg_arg,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("expected a number"), "{}", stderr(&o));

    // A site rule reading a parameter it does not declare.
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("site.toml"),
        "[[rule]]\ncode = \"SITE010\"\nname = \"vcpu-cap\"\ncategory = \"cpu\"\nseverity = \"warning\"\nscope = \"domain\"\ntitle = \"t\"\nwhen = \"domain.vcpus > params.max_vcpu\"\nmessage = \"m\"\nfix = \"f\"\nexplanation = \"e\"\n[rule.params.max_vcpus]\ndefault = 8\ndoc = \"d\"\n",
    )
    .unwrap();
    let o = run(&[
        "analyze",
        "fixtures/hosts/storage",
        "--rules-dir",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("site.toml:1: rule SITE010: uses params.max_vcpu, which the rule does not declare (it has: max_vcpus)"),
        "{}",
        stderr(&o)
    );

    // A suppression of a rule the selection leaves out is not "unused".
    std::fs::write(
        &cfg,
        "[[suppress]]\nrule = \"DISK003\"\nreason = \"builders\"\n",
    )
    .unwrap();
    let codes = |args: &[&str]| -> Vec<String> {
        let mut a = vec![
            "analyze",
            "fixtures/hosts/healthy-2node",
            "--config",
            cfg_arg,
            "--format",
            "json",
        ];
        a.extend_from_slice(args);
        let r: serde_json::Value = serde_json::from_str(&stdout(&run(&a))).unwrap();
        common::rules_of(&r)
    };
    assert_eq!(codes(&[]), ["VD002"]);
    assert!(codes(&["--select", "CPU"]).is_empty());
    assert!(codes(&["--ignore", "disk"]).is_empty());
    assert!(codes(&["--ignore", "VD002"]).is_empty());
    // Categories in any case: the disk rules run, so the suppression of
    // DISK003 could have matched, and VD002 (category host) reports it.
    assert_eq!(codes(&["--select", "Disk,HOST"]), ["VD002"]);
}

/// A domain's own suppression with an expiry that is not a date is an
/// error, as it is in the config file.
#[test]
fn a_domain_suppression_with_a_bad_date_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("etc/libvirt/qemu")).unwrap();
    std::fs::create_dir_all(root.join("proc")).unwrap();
    std::fs::write(root.join("proc/meminfo"), "MemTotal: 16384000 kB\n").unwrap();
    std::fs::write(
        root.join("etc/libvirt/qemu/web01.xml"),
        "<domain type='kvm'>\n  <name>web01</name>\n  <memory unit='GiB'>2</memory>\n  <vcpu>1</vcpu>\n  <os><type arch='x86_64'>hvm</type></os>\n  <metadata>\n    <vd:suppressions xmlns:vd='urn:x-virt-doctor:1'>\n      <vd:suppress rule='CPU007' reason='legacy guest' expires='2026-13-45'/>\n    </vd:suppressions>\n  </metadata>\n</domain>\n",
    )
    .unwrap();
    let o = run(&["analyze", root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("etc/libvirt/qemu/web01.xml:8: <vd:suppress expires='2026-13-45'>: not a date (YYYY-MM-DD)"),
        "{}",
        stderr(&o)
    );
}

/// Contention findings name their cause: a host at 2:1 (below CPU002's
/// 5:1) with 35% CPU pressure says its ratio and its biggest domains.
#[test]
fn cpu_pressure_names_the_ratio_and_the_biggest_domains() {
    let domains: Vec<(String, String)> = [("db01", 8), ("web01", 4), ("web02", 4)]
        .iter()
        .map(|(name, vcpus)| {
            (
                format!("etc/libvirt/qemu/{name}.xml"),
                format!("<domain type='kvm'><name>{name}</name><memory unit='GiB'>2</memory><vcpu>{vcpus}</vcpu><os><type arch='x86_64'>hvm</type></os><cpu mode='host-passthrough'/></domain>"),
            )
        })
        .collect();
    let mut files: Vec<(&str, &[u8])> = vec![
        ("sys/devices/system/cpu/online", b"0-7\n"),
        (
            "proc/pressure/cpu",
            b"some avg10=36.10 avg60=35.02 avg300=30.40 total=981723311\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
        ),
    ];
    files.extend(domains.iter().map(|(p, x)| (p.as_str(), x.as_bytes())));
    let dir = common::snapshot_with(&files);
    let r = common::analyze_selected(dir.path(), "CPU002,CPU012");
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "only CPU012: {findings:#?}");
    assert_eq!(
        findings[0]["message"],
        "CPU pressure: some tasks were stalled waiting for a CPU 35.02% of the last 60 s (30.4% over 5 min); threshold 10%. The host runs 16 vCPUs on 8 CPUs (2:1), the most in db01 (8), web01 (4), web02 (4)."
    );
}

/// numatune mode='preferred' falls back to other nodes when its own run
/// out, so a preferred domain is not short of hugepages on its node
/// (NUMA008), and idle pages on other nodes are within its reach (NUMA007).
/// The numa-placement scenario with hp01 switched from strict to preferred.
#[test]
fn preferred_numatune_is_not_confined_to_its_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::copy_tree(&common::fixture("hosts/numa-placement"), root);
    let hp01 = root.join("etc/libvirt/qemu/hp01.xml");
    let xml = std::fs::read_to_string(&hp01).unwrap();
    assert!(xml.contains("<memory mode='strict' nodeset='0'/>"));
    std::fs::write(
        &hp01,
        xml.replace("mode='strict' nodeset='0'", "mode='preferred' nodeset='0'"),
    )
    .unwrap();
    let found = common::rules_and_subjects(&common::analyze_selected(root, "NUMA007,NUMA008"));
    assert_eq!(found, vec![("NUMA008".to_owned(), "hp02".to_owned())]);
}

/// A reader that stops early (`| head`) ends the run quietly with 0, as
/// ripgrep does; a closed stderr (`2>&-`) changes nothing but the missing
/// message. Neither panics (exit 101). The facts of hotsos-compute are
/// 200 KB, more than a pipe holds, so the write meets the closed pipe.
#[test]
fn a_closed_pipe_or_stderr_is_no_panic() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_virt-doctor"))
        .args(["facts", "fixtures/hosts/hotsos-compute", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");

    let o = Command::new(env!("CARGO_BIN_EXE_virt-doctor"))
        .args(["analyze", "/nonexistent/snapshot"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    // Stdio::null() is an open /dev/null; close fd 2 for real.
    let o = Command::new("sh")
        .args(["-c", "\"$0\" analyze /nonexistent/snapshot 2>&-"])
        .arg(env!("CARGO_BIN_EXE_virt-doctor"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Hugepages kept on a node for a domain that is shut off are not idle
/// (NUMA007): the standby guest takes them when it starts. The
/// numa-placement scenario with hp01 and hp02 running (live status files)
/// and a shut-off hp03 confined to node 2; node 3 stays unclaimed.
#[test]
fn hugepages_kept_for_a_shut_off_domain_are_not_idle() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::copy_tree(&common::fixture("hosts/numa-placement"), root);
    let defined = |name: &str| {
        std::fs::read_to_string(root.join(format!("etc/libvirt/qemu/{name}.xml"))).unwrap()
    };
    for (name, pid) in [("hp01", 4101), ("hp02", 4102)] {
        let xml = defined(name);
        let domain = &xml[xml.find("<domain").unwrap()..];
        let status = format!(
            "<domstatus state='running' reason='booted' pid='{pid}'>\n{domain}</domstatus>\n"
        );
        let run = root.join("run/libvirt/qemu");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(run.join(format!("{name}.xml")), status).unwrap();
    }
    let hp03 = defined("hp01")
        .replace("<name>hp01</name>", "<name>hp03</name>")
        .replace(
            "f6e84b56-5071-4d24-a007-07b40cf4baec",
            "f6e84b56-5071-4d24-a007-07b40cf4bae3",
        )
        .replace(
            "<memory unit='KiB'>12582912</memory>",
            "<memory unit='KiB'>4194304</memory>",
        )
        .replace(
            "<currentMemory unit='KiB'>12582912</currentMemory>",
            "<currentMemory unit='KiB'>4194304</currentMemory>",
        )
        .replace("mode='strict' nodeset='0'", "mode='strict' nodeset='2'");
    assert!(hp03.contains("nodeset='2'") && hp03.contains("<name>hp03</name>"));
    std::fs::write(root.join("etc/libvirt/qemu/hp03.xml"), hp03).unwrap();
    let found = common::rules_and_subjects(&common::analyze_selected(root, "NUMA007"));
    assert_eq!(
        found,
        vec![("NUMA007".to_owned(), "NUMA node 3".to_owned())]
    );
}

/// A hugepage pool no running domain uses is not idle when a shut-off
/// domain asks for its size (MEM006): the pages wait for that guest. The
/// hugepages scenario's 2 MiB pool, and a web05 defined (not running)
/// with 2 MiB pages.
#[test]
fn a_pool_kept_for_a_shut_off_domain_is_not_idle() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::copy_tree(&common::fixture("hosts/hugepages"), root);
    let before = common::rules_and_subjects(&common::analyze_selected(root, "MEM006"));
    assert_eq!(
        before,
        vec![("MEM006".to_owned(), "2 MiB hugepage pool".to_owned())]
    );
    let defined = root.join("etc/libvirt/qemu");
    let web01 = std::fs::read_to_string(defined.join("web01.xml")).unwrap();
    let web05 = web01
        .replace("<name>web01</name>", "<name>web05</name>")
        .replace(
            "1f94fe44-5ba9-4e78-aacb-7ea6f44b8fcb",
            "1f94fe44-5ba9-4e78-aacb-7ea6f44b8fc5",
        )
        .replacen(
            "</currentMemory>",
            "</currentMemory>\n  <memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>",
            1,
        );
    assert!(web05.contains("<name>web05</name>") && web05.contains("size='2048'"));
    std::fs::write(defined.join("web05.xml"), web05).unwrap();
    let facts = common::facts_of(root);
    let web05 = facts
        .domains
        .iter()
        .find(|d| d.domain.name == "web05")
        .unwrap();
    assert!(!web05.active);
    let after = common::rules_and_subjects(&common::analyze_selected(root, "MEM006"));
    assert_eq!(after, vec![]);
}

/// CPU009 judges `<shares>` by the version of the host's cpu controller.
/// `proc/cgroups` exists under both versions: with the cpu controller in
/// hierarchy 0 the host is on cgroup v2, where a weight of 1 is valid, and
/// must not be told its domain fails to start. cpu-contention's app04
/// (`<shares>1</shares>`) with each host's real table.
#[test]
fn shares_are_judged_by_the_cpu_controllers_cgroup_version() {
    let app04 = std::fs::read(common::fixture(
        "hosts/cpu-contention/etc/libvirt/qemu/app04.xml",
    ))
    .unwrap();
    let host = |proc_cgroups: &str| {
        let dir = common::snapshot_with(&[
            ("etc/libvirt/qemu/app04.xml", &app04),
            ("proc/cgroups", proc_cgroups.as_bytes()),
        ]);
        let r = common::analyze_selected(dir.path(), "CPU009");
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let unified = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t98\t1\ncpu\t0\t98\t1\nmemory\t0\t98\t1\n";
    assert_eq!(host(unified), Vec::<String>::new());
    let legacy = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t6\t1\t1\ncpu\t3\t74\t1\nmemory\t9\t120\t1\n";
    let found = host(legacy);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].contains("outside the 2..262144 that cgroup v1 accepts"),
        "{found:?}"
    );
}
