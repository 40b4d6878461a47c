//! Every machine format checked by a real consumer, not string comparison:
//! SARIF against the official 2.1.0 schema, JUnit by a JUnit XML parser,
//! Prometheus by an exposition-format parser. Also selection, suppressions
//! (config and domain metadata, expiry, unused), `lint`, `diff`, and the
//! generated completions and man page.

mod common;

use common::{run, stdout};

use std::io::BufReader;
use std::process::Output;

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixture("schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for host in ["storage", "network", "healthy-2node", "hotsos-compute"] {
        let o = run(&[
            "analyze",
            &format!("fixtures/hosts/{host}"),
            "--format",
            "sarif",
        ]);
        let log = json(&o);
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{host}: {errors:#?}");
        let run0 = &log["runs"][0];
        assert!(run0["tool"]["driver"]["rules"].as_array().unwrap().len() >= 60);
        let expected: Vec<serde_json::Value> = serde_json::from_str(
            &std::fs::read_to_string(common::fixture(&format!("hosts/{host}/expected.json")))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            run0["results"].as_array().unwrap().len(),
            expected.len(),
            "{host}"
        );
    }
    // A configuration finding is located at its domain XML element.
    let log = json(&run(&[
        "analyze",
        "fixtures/hosts/storage",
        "--format",
        "sarif",
    ]));
    let results = log["runs"][0]["results"].as_array().unwrap();
    let unsafe_cache = results.iter().find(|r| r["ruleId"] == "DISK002").unwrap();
    let loc = &unsafe_cache["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "run/libvirt/qemu/files01.xml"
    );
    assert_eq!(loc["region"]["startLine"], 25);
    assert_eq!(unsafe_cache["level"], "warning");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let idx = unsafe_cache["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[idx]["id"], "DISK002");
    // The rule explained as `rules show` does, and in Markdown.
    let help = &rules[idx]["help"];
    let text = help["text"].as_str().unwrap();
    assert!(text.starts_with("DISK002 "), "{text}");
    assert!(text.contains("\nWhy it matters\n  "), "{text}");
    assert!(text.contains("\nReferences\n  - "), "{text}");
    let markdown = help["markdown"].as_str().unwrap();
    assert!(markdown.starts_with("## DISK002 "), "{markdown}");
    assert!(
        markdown.contains("\n### Example\n\n```xml\n<"),
        "{markdown}"
    );
    assert!(markdown.contains("\n### References\n\n- ["), "{markdown}");
}

#[test]
fn junit_parses_and_fails_at_the_threshold() {
    let o = run(&[
        "analyze",
        "fixtures/hosts/cpu-contention",
        "--format",
        "junit",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let suites = junit_parser::from_reader(BufReader::new(&o.stdout[..])).unwrap();
    // 1 critical + 10 warnings fail at the default --fail-on warning; the 7
    // infos pass (with their text as output).
    assert_eq!(suites.failures, 11);
    let cases: Vec<_> = suites.suites.iter().flat_map(|s| s.cases.iter()).collect();
    // The parser reports names as `classname::name`.
    let failing: Vec<&str> = cases
        .iter()
        .filter(|c| c.status.is_failure())
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        failing.contains(&"virt-doctor.cpu::CPU001 vcpus-exceed-host-cpus: batch01"),
        "{failing:?}"
    );
    assert!(
        cases
            .iter()
            .any(|c| c.name == "virt-doctor.disk::DISK002 disk-cache-unsafe"
                && !c.status.is_failure()),
        "rules with no finding pass"
    );
    let only_critical = run(&[
        "analyze",
        "fixtures/hosts/cpu-contention",
        "--format",
        "junit",
        "--fail-on",
        "critical",
    ]);
    let suites = junit_parser::from_reader(BufReader::new(&only_critical.stdout[..])).unwrap();
    // CPU001 batch01 and CPU006 app02.
    assert_eq!(suites.failures, 2);
}

#[test]
fn prometheus_textfile_parses() {
    let o = run(&[
        "analyze",
        "fixtures/hosts/storage",
        "--format",
        "prometheus",
    ]);
    let text = stdout(&o);
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let value = |metric: &str, pairs: &[(&str, &str)]| -> f64 {
        let s = scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && pairs.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no {metric} {pairs:?} in\n{text}"));
        match s.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => panic!("not a gauge"),
        }
    };
    assert_eq!(
        value(
            "virt_doctor_findings",
            &[
                ("rule", "DISK008"),
                ("domain", "files01"),
                ("severity", "info")
            ]
        ),
        5.0
    );
    assert_eq!(
        value(
            "virt_doctor_findings",
            &[("rule", "DISK007"), ("domain", "")]
        ),
        2.0
    );
    assert_eq!(
        value(
            "virt_doctor_findings_by_severity",
            &[("severity", "critical")]
        ),
        3.0
    );
    assert_eq!(
        value(
            "virt_doctor_findings_by_severity",
            &[("severity", "warning")]
        ),
        15.0
    );
    assert!(
        value(
            "virt_doctor_last_run_timestamp_seconds",
            &[("host", "kvm-disk-07")]
        ) > 1.7e9
    );
    assert_eq!(value("virt_doctor_suppressed_findings", &[]), 0.0);
}

#[test]
fn jsonl_and_markdown() {
    let o = run(&[
        "analyze",
        "fixtures/hosts/hotsos-compute",
        "--format",
        "jsonl",
    ]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The record stream (docs/fleet-schema.md): the host, its findings,
    // its sources.
    let findings: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["record"] == "finding").collect();
    assert_eq!(findings.len(), 6, "3 from facts, 3 from the QEMU logs");
    assert_eq!(lines[0]["record"], "host");
    assert!(lines.iter().all(|l| l["host"] == "compute4"));
    let md = stdout(&run(&[
        "analyze",
        "fixtures/hosts/hotsos-compute",
        "--format",
        "markdown",
    ]));
    assert!(
        md.starts_with(
            "# virt-doctor: compute4\n\n**0 critical, 1 warning, 5 info on compute4 (1 domain); \
             most findings: compute4 (2), instance-00000001 (2), instance-00000002 (2)**\n"
        ),
        "{md}"
    );
    assert!(md.contains("### warning `MEM012` compute4: vm.swappiness is high for a hypervisor"));
    assert!(md.contains("```\nLower it now and at every boot:\n  sysctl -w vm.swappiness=10\n"));
}

#[test]
fn selection_by_code_prefix_name_category_and_severity() {
    let rules = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["analyze", "fixtures/hosts/storage", "--format", "json"];
        a.extend_from_slice(args);
        let r = json(&run(&a));
        let mut v: Vec<String> = common::rules_of(&r);
        v.dedup();
        v
    };
    assert_eq!(
        rules(&["--select", "SNAP"]),
        vec!["SNAP001", "SNAP002", "SNAP003"]
    );
    assert_eq!(
        rules(&["--select", "disk-cache-unsafe,memory"]),
        vec!["MEM001", "MEM013", "DISK002"]
    );
    assert_eq!(
        rules(&["--min-severity", "critical"]),
        vec!["DISK004", "DISK013", "LOG068"]
    );
    let ignored = rules(&["--ignore", "disk,snapshot,NET"]);
    assert_eq!(ignored, vec!["CPU015", "MEM001", "MEM013"]);
    let bad = run(&["analyze", "fixtures/hosts/storage", "--select", "NOPE"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`NOPE` matches no rule"));
}

#[test]
fn suppressions_hide_count_expire_and_report_unused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("virt-doctor.toml");
    std::fs::write(
        &cfg,
        r#"
[[suppress]]
rule = "DISK008"
domain = "files*"
reason = "libvirt test images, never trimmed"

[[suppress]]
rule = "disk-cache-unsafe"
host = "kvm-disk-*"
reason = "scratch disk"
expires = "2020-01-01"

[[suppress]]
rule = "NET001"
reason = "left over from the old e1000 guests"
"#,
    )
    .unwrap();
    let o = run(&[
        "analyze",
        "fixtures/hosts/storage",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let r = json(&o);
    assert_eq!(
        r["summary"]["suppressed"], 5,
        "the five DISK008 findings of files01"
    );
    let findings = r["findings"].as_array().unwrap();
    assert!(!findings.iter().any(|f| f["rule"] == "DISK008"));
    assert!(
        findings.iter().any(|f| f["rule"] == "DISK002"),
        "expired suppressions hide nothing"
    );
    let expired = findings.iter().find(|f| f["rule"] == "VD001").unwrap();
    assert!(
        expired["message"]
            .as_str()
            .unwrap()
            .contains("expired on 2020-01-01"),
        "{expired}"
    );
    assert_eq!(expired["evidence"][0]["line"], 7, "the [[suppress]] header");
    let unused = findings.iter().find(|f| f["rule"] == "VD002").unwrap();
    assert!(
        unused["message"]
            .as_str()
            .unwrap()
            .starts_with("The suppression of `NET001`"),
        "{unused}"
    );
    let s = &r["suppressed"][0];
    assert_eq!(s["rule"], "DISK008");
    assert_eq!(s["reason"], "libvirt test images, never trimmed");
    assert!(s["suppressed_by"]
        .as_str()
        .unwrap()
        .ends_with("virt-doctor.toml:2"));

    let table = stdout(&run(&[
        "analyze",
        "fixtures/hosts/storage",
        "--config",
        cfg.to_str().unwrap(),
        "--show-suppressed",
    ]));
    assert!(
        table.contains("suppressed:\n  info DISK008 files01 disk hda"),
        "{table}"
    );
    assert!(table.contains(", 5 suppressed)"), "{table}");

    std::fs::write(&cfg, "[[suppress]]\nrule = \"DISK008\"\n").unwrap();
    let o = run(&[
        "analyze",
        "fixtures/hosts/storage",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("virt-doctor.toml:1: [[suppress]] for `DISK008` needs a reason"));
}

#[test]
fn domain_metadata_suppressions_travel_with_the_domain() {
    let dir = tempfile::tempdir().unwrap();
    let xml = std::fs::read_to_string(common::fixture("hosts/network/etc/libvirt/qemu/win01.xml"))
        .unwrap();
    let with_meta = xml.replace(
        "  <memory unit",
        "  <metadata>\n    <vd:suppressions xmlns:vd=\"urn:x-virt-doctor:1\">\n      <vd:suppress rule=\"NET001\" reason=\"Windows installer ISO has no virtio driver yet\"/>\n    </vd:suppressions>\n  </metadata>\n  <memory unit",
    );
    let file = dir.path().join("win01.xml");
    std::fs::write(&file, with_meta).unwrap();
    let r = json(&run(&["lint", file.to_str().unwrap(), "--format", "json"]));
    assert!(!r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "NET001"));
    assert_eq!(r["suppressed"][0]["rule"], "NET001");
    assert_eq!(
        r["suppressed"][0]["reason"],
        "Windows installer ISO has no virtio driver yet"
    );
}

#[test]
fn lint_checks_xml_alone_or_against_a_host() {
    let files = [
        "fixtures/hosts/storage/etc/libvirt/qemu/files01.xml",
        "fixtures/hosts/network/etc/libvirt/qemu/win01.xml",
    ];
    let o = run(&["lint", files[0], files[1], "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let r = json(&o);
    let rules = common::rules_of(&r);
    let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
    assert!(
        rules.contains(&"DISK002") && rules.contains(&"NET001"),
        "{rules:?}"
    );
    let skipped: Vec<&str> = r["skipped_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rule"].as_str().unwrap())
        .collect();
    assert!(
        skipped.contains(&"CPU001") && skipped.contains(&"MEM001"),
        "{skipped:?}"
    );
    assert!(!skipped.contains(&"DISK002"));
    // SARIF locations point into the files as given.
    let log = json(&run(&["lint", files[0], "--format", "sarif"]));
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(
        !uris.is_empty() && uris.iter().all(|u| *u == files[0]),
        "{uris:?}"
    );
    // With a host, host-dependent rules run too: a 12-vCPU domain on the
    // 8-CPU sysstat host.
    let big = "fixtures/hosts/cpu-contention/etc/libvirt/qemu/batch01.xml";
    let alone = json(&run(&["lint", big, "--format", "json"]));
    assert!(!alone["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "CPU001"));
    let on_host = json(&run(&[
        "lint",
        big,
        "--host",
        "fixtures/hosts/sysstat-root1",
        "--format",
        "json",
    ]));
    assert!(on_host["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "CPU001"));
    assert!(on_host.get("skipped_rules").is_none());
}

#[test]
fn lint_reports_invalid_xml_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.xml");
    std::fs::write(
        &bad,
        "<domain type='kvm'>\n  <name>x</name>\n  <memory unit='parsecs'>4</memory>\n</domain>\n",
    )
    .unwrap();
    let o = run(&["lint", bad.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let r = json(&o);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "VD003")
        .unwrap();
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["evidence"][0]["line"], 3);
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("unknown unit `parsecs`"));
}

#[test]
fn diff_shows_new_and_resolved_and_gates_on_new() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    std::fs::write(
        &base,
        run(&[
            "analyze",
            "fixtures/hosts/hotsos-compute",
            "--format",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    // The same host compared with itself: nothing new.
    let same = run(&[
        "diff",
        base.to_str().unwrap(),
        "fixtures/hosts/hotsos-compute",
        "--fail-on-new",
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    assert!(
        stdout(&same).ends_with("0 new, 0 resolved, 6 unchanged on compute4\n"),
        "{}",
        stdout(&same)
    );
    // Against another host: its findings are new, the old ones resolved.
    let o = run(&[
        "diff",
        base.to_str().unwrap(),
        "fixtures/hosts/network",
        "--fail-on-new",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let d = json(&o);
    // Host-level subjects carry the host name, and the network host has
    // none of compute4's domains: all six are resolved.
    assert_eq!(d["resolved"].as_array().unwrap().len(), 6);
    assert!(d["new"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "NET006"));
    assert_eq!(d["unchanged"].as_array().unwrap().len(), 0);
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    assert!(stdout(&bash).contains("--fail-on"));
    let man = run(&["man"]);
    assert!(
        stdout(&man).starts_with(".ie \\n(.g .ds Aq \\(aq")
            || stdout(&man).contains(".TH virt-doctor"),
        "{}",
        &stdout(&man)[..200]
    );
}

/// Log rules are rules like the others in every format and lookup: SARIF
/// declares every rule a result refers to, JUnit has their test cases,
/// `-v` explains them, and the config can disable them.
#[test]
fn log_findings_are_first_class_in_every_format() {
    let host = "fixtures/hosts/incident-logs";
    let sarif = json(&run(&["analyze", host, "--format", "sarif"]));
    let run0 = &sarif["runs"][0];
    let declared: Vec<&str> = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run0["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "LOG001"));
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"]
            .as_u64()
            .unwrap_or_else(|| panic!("{id} has no ruleIndex")) as usize;
        assert_eq!(declared[index], id);
    }
    let log001 = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "LOG001")
        .unwrap();
    assert_eq!(log001["properties"]["scope"], "log");

    let o = run(&["analyze", host, "--format", "junit"]);
    let suites = junit_parser::from_reader(BufReader::new(&o.stdout[..])).unwrap();
    let names: Vec<String> = suites
        .suites
        .iter()
        .flat_map(|s| s.cases.iter().map(|c| c.name.clone()))
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.contains("LOG001 oom-killed-qemu: batch01")),
        "{names:?}"
    );
    // A log rule that found nothing passes as its own test case.
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("LOG040 hardware-error-corrected")),
        "{names:?}"
    );

    let verbose = stdout(&run(&["analyze", host, "-v"]));
    assert!(
        verbose.contains(
            "\n  why:\n    When the kernel cannot free memory any other way, the OOM killer"
        ),
        "{verbose}"
    );

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("virt-doctor.toml");
    std::fs::write(&cfg, "disable = [\"LOG060\"]\n").unwrap();
    let r = json(&run(&[
        "analyze",
        host,
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let rules = common::rules_of(&r);
    let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
    assert!(
        rules.contains(&"LOG001") && !rules.contains(&"LOG060"),
        "{rules:?}"
    );
}
