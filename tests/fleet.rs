//! Fleet runs: many snapshots in one `analyze`, cross-host findings,
//! groups, shards, failures, and the record stream's contract, read by
//! DuckDB as a consumer would.
//!
//! fixtures/fleets/cluster is one cluster of three hosts with every kind
//! of cross-host problem (fixtures/fleets/assemble.py says which);
//! fixtures/fleets/matched is three hosts that agree, where no cross-host
//! finding may appear.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{run, stderr, stdout};

const CLUSTER: [&str; 3] = [
    "fixtures/fleets/cluster/hv1",
    "fixtures/fleets/cluster/hv2",
    "fixtures/fleets/cluster/hv3",
];
const MATCHED: [&str; 3] = [
    "fixtures/fleets/matched/hv1",
    "fixtures/fleets/matched/hv2",
    "fixtures/fleets/matched/hv3",
];

fn fleet_json(args: &[&str]) -> (serde_json::Value, std::process::Output) {
    let mut all = vec!["analyze"];
    all.extend_from_slice(args);
    all.extend(["--format", "json"]);
    let o = run(&all);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&o), stderr(&o)));
    (v, o)
}

/// (rule, subject, hosts) of every cross-host finding.
fn fleet_findings(v: &serde_json::Value) -> BTreeSet<(String, String, Vec<String>)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut hosts: Vec<String> = f["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_owned())
                .collect();
            hosts.sort();
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
                hosts,
            )
        })
        .collect()
}

fn t(rule: &str, subject: &str, hosts: &[&str]) -> (String, String, Vec<String>) {
    (
        rule.to_owned(),
        subject.to_owned(),
        hosts.iter().map(|h| (*h).to_owned()).collect(),
    )
}

const E1: &str = "kvm-east-01";
const E2: &str = "kvm-east-02";
const E3: &str = "kvm-east-03";

/// The cluster that drifted gives each kind of cross-host finding, about
/// exactly the hosts concerned, and exit 1.
#[test]
fn a_drifted_cluster_gives_every_kind_of_cross_host_finding() {
    let (v, o) = fleet_json(&CLUSTER);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(v["schema"], "virt-doctor/fleet/v1");
    let expected: BTreeSet<_> = [
        // Migration: hv3 is an older CPU without AVX-512; every
        // host-passthrough domain running on hv1 and hv2 needs it.
        t("FLEET001", "db01 on kvm-east-01", &[E1, E3]),
        t("FLEET001", "web01 on kvm-east-01", &[E1, E3]),
        t("FLEET001", "db02 on kvm-east-02", &[E2, E3]),
        t("FLEET001", "web01 on kvm-east-02", &[E2, E3]),
        t("FLEET002", "CPU model in group all", &[E1, E2, E3]),
        t("FLEET002", "CPU microcode in group all", &[E1, E2, E3]),
        // Split brain: web01 runs on hv1 and hv2, on one NFS image.
        t(
            "FLEET003",
            "UUID 1f94fe44-5ba9-4e78-aacb-7ea6f44b8fcb",
            &[E1, E2],
        ),
        t("FLEET004", "/var/lib/libvirt/images/vda.qcow2", &[E1, E2]),
        // Drift.
        t(
            "FLEET005",
            "transparent hugepages in group all",
            &[E1, E2, E3],
        ),
        t("FLEET005", "vm.swappiness in group all", &[E1, E2, E3]),
        t(
            "FLEET006",
            "I/O scheduler of sda in group all",
            &[E1, E2, E3],
        ),
        t("FLEET007", "cpufreq governor in group all", &[E1, E2, E3]),
        t("FLEET008", "libvirt version in group all", &[E1, E2, E3]),
        t("FLEET008", "QEMU version in group all", &[E1, E2, E3]),
        // N+1: hv2 and hv3 have 3 GiB available; hv1's db01 (6 GiB) and
        // web01 (4 GiB) fit on neither.
        t("FLEET009", "N+1 capacity of group all", &[E1, E2, E3]),
    ]
    .into_iter()
    .collect();
    assert_eq!(fleet_findings(&v), expected);
    // Every fleet rule of the catalog is among them.
    let catalog = virt_doctor::rules::Catalog::load(&[]).unwrap();
    let fired: BTreeSet<&str> = expected.iter().map(|(r, _, _)| r.as_str()).collect();
    for rule in catalog.rules.iter().filter(|r| r.is_fleet()) {
        assert!(
            fired.contains(rule.code.as_str()),
            "{} fires nowhere",
            rule.code
        );
    }
    let by_rule = |rule: &str, subject: &str| -> serde_json::Value {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["subject"] == subject)
            .cloned()
            .unwrap()
    };
    let migration = by_rule("FLEET001", "db01 on kvm-east-01");
    assert_eq!(migration["domain"], "db01");
    assert_eq!(migration["severity"], "warning");
    let message = migration["message"].as_str().unwrap();
    assert!(
        message.contains("kvm-east-03: no ") && message.contains("avx512f"),
        "{message}"
    );
    // Flags the kernel sets for itself are not guest features.
    assert!(
        !message.contains("constant_tsc") && !message.contains("arat"),
        "{message}"
    );
    let split = by_rule("FLEET003", "UUID 1f94fe44-5ba9-4e78-aacb-7ea6f44b8fcb");
    assert_eq!(split["severity"], "critical");
    assert_eq!(split["domain"], "web01");
    assert_eq!(
        split["evidence"].as_array().unwrap().len(),
        2,
        "one line per host: {split}"
    );
    let qemu = by_rule("FLEET008", "QEMU version in group all");
    assert!(
        qemu["message"]
            .as_str()
            .unwrap()
            .contains("kvm-east-01, kvm-east-02: 7.2.0; kvm-east-03: 6.2.0"),
        "{qemu}"
    );
    let capacity = by_rule("FLEET009", "N+1 capacity of group all");
    let m = capacity["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "kvm-east-01 runs 2 domains with 10.0 GiB of memory and 12 vCPUs. \
             If it fails, db01, web01 (10.0 GiB) fit on no other host"
        ),
        "{m}"
    );
    // Each host's own report is there, unchanged, in input order.
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 3);
    for (report, path) in hosts.iter().zip(CLUSTER) {
        assert_eq!(report["schema"], "virt-doctor/report/v1");
        let alone = run(&["analyze", path, "--format", "json"]);
        let alone: serde_json::Value = serde_json::from_slice(&alone.stdout).unwrap();
        assert_eq!(report["findings"], alone["findings"], "{path}");
        assert_eq!(report["target"], alone["target"], "{path}");
    }
    let summary = &v["summary"];
    assert_eq!(summary["hosts"], 3);
    assert_eq!(summary["analyzed"], 3);
    assert_eq!(summary["failed"], serde_json::json!([]));
    assert_eq!(summary["fleet_findings"]["critical"], 2);
    assert_eq!(summary["top_rules"][0]["rule"], "MEM003");
    assert_eq!(summary["top_rules"][0]["hosts"], 2);
    let by_host: Vec<(String, u64)> = summary["by_host"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["host"].as_str().unwrap().to_owned(),
                h["warning"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_host,
        [(E1.to_owned(), 0), (E2.to_owned(), 2), (E3.to_owned(), 3)]
    );
}

/// Hosts that agree give no cross-host finding (and, being well tuned,
/// none of their own): exit 0.
#[test]
fn hosts_that_agree_give_no_cross_host_finding() {
    let (v, o) = fleet_json(&MATCHED);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fleet_findings(&v), BTreeSet::new());
    assert_eq!(v["summary"]["host_findings"]["warning"], 0);
    let text = run(&[
        "analyze",
        MATCHED[0],
        MATCHED[1],
        MATCHED[2],
        "--fail-on",
        "info",
    ]);
    assert_eq!(text.status.code(), Some(0));
    assert!(
        stdout(&text).ends_with("3 hosts in 1 group: 0 critical, 0 warnings, 0 info on the hosts; 0 cross-host\n  findings\n"),
        "{}",
        stdout(&text)
    );
}

/// A snapshot that cannot be read is reported, the others are analyzed
/// and compared, and the exit code says a snapshot failed.
#[test]
fn a_failed_snapshot_is_reported_and_the_others_go_on() {
    let missing = "fixtures/fleets/cluster/hv9";
    let (v, o) = fleet_json(&[CLUSTER[0], missing, CLUSTER[1]]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("fixtures/fleets/cluster/hv9: cannot open snapshot"),
        "{}",
        stderr(&o)
    );
    let failed = v["summary"]["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["path"], missing);
    assert_eq!(v["hosts"].as_array().unwrap().len(), 2);
    // hv1 and hv2 were still compared: web01 runs on both.
    assert!(fleet_findings(&v).contains(&t(
        "FLEET003",
        "UUID 1f94fe44-5ba9-4e78-aacb-7ea6f44b8fcb",
        &[E1, E2]
    )));
}

/// A manifest with labels groups hosts by them, so two clusters are
/// compared each within itself; shards take whole groups, and together
/// they are the whole run.
#[test]
fn manifest_groups_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut manifest = String::from("# two clusters\n");
    for p in CLUSTER {
        manifest.push_str(&format!("{} cluster=east\n", root.join(p).display()));
    }
    for p in MATCHED {
        manifest.push_str(&format!(
            "{} cluster=west  # agrees\n",
            root.join(p).display()
        ));
    }
    let m = dir.path().join("fleet.txt");
    std::fs::write(&m, manifest).unwrap();
    let m = m.to_str().unwrap();
    let (v, o) = fleet_json(&["--manifest", m, "--group-by", "cluster"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let groups: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["group"].as_str().unwrap())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(groups, ["east"]);
    assert_eq!(
        v["summary"]["groups"],
        serde_json::json!([{"name": "east", "hosts": 3}, {"name": "west", "hosts": 3}])
    );
    // Without groups, east and west are one group: their settings agree,
    // so the drift is the same, but the west hosts are in it too.
    let (ungrouped, _) = fleet_json(&["--manifest", m]);
    let thp = ungrouped["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "FLEET005" && f["subject"] == "transparent hugepages in group all")
        .unwrap()
        .clone();
    assert_eq!(thp["hosts"].as_array().unwrap().len(), 6);
    // Shards: east is group 0, west group 1.
    let (s0, _) = fleet_json(&["--manifest", m, "--group-by", "cluster", "--shard", "0/2"]);
    let (s1, o1) = fleet_json(&["--manifest", m, "--group-by", "cluster", "--shard", "1/2"]);
    assert_eq!(o1.status.code(), Some(0));
    assert_eq!(s0["summary"]["analyzed"], 3);
    assert_eq!(s1["summary"]["analyzed"], 3);
    assert_eq!(fleet_findings(&s0), fleet_findings(&v));
    assert_eq!(fleet_findings(&s1), BTreeSet::new());
    // A bad manifest line is named.
    std::fs::write(dir.path().join("bad.txt"), "hv1 cluster\n").unwrap();
    let bad = run(&[
        "analyze",
        "--manifest",
        dir.path().join("bad.txt").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("bad.txt:1: `cluster` is not a label"),
        "{}",
        stderr(&bad)
    );
    let no_label = run(&["analyze", "--manifest", m, "--group-by", "rack"]);
    assert_eq!(no_label.status.code(), Some(2));
    assert!(stderr(&no_label).contains("no snapshot has a `rack=` label"));
}

/// One host at a time or two at once: the same report.
#[test]
fn jobs_do_not_change_the_report() {
    let strip = |o: std::process::Output| {
        let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["summary"]["generated_at"] = serde_json::Value::Null;
        for h in v["hosts"].as_array_mut().unwrap() {
            h["summary"]["generated_at"] = serde_json::Value::Null;
        }
        for h in v["summary"]["by_host"].as_array_mut().unwrap() {
            h.as_object_mut().unwrap().remove("generated_at");
        }
        v
    };
    let mut args = vec!["analyze"];
    args.extend(CLUSTER);
    args.extend(MATCHED);
    args.extend(["--format", "json"]);
    let mut one = args.clone();
    one.extend(["-j", "1"]);
    let mut two = args.clone();
    two.extend(["-j", "2"]);
    assert_eq!(strip(run(&one)), strip(run(&two)));
}

/// The record stream: every line is one record of the documented kinds
/// with the common fields; findings carry stable fingerprints.
#[test]
fn jsonl_records_follow_the_contract() {
    let mut args = vec!["analyze"];
    args.extend(CLUSTER);
    args.extend(["--format", "jsonl"]);
    let a = stdout(&run(&args));
    let b = stdout(&run(&args));
    let records: Vec<serde_json::Value> = a
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: BTreeSet<&str> = records
        .iter()
        .map(|r| r["record"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["finding", "fleet_finding", "host", "source"]
            .into_iter()
            .collect()
    );
    let ruleset = records[0]["ruleset"].as_str().unwrap();
    assert!(
        ruleset.starts_with("sha256:") && ruleset.len() == 71,
        "{ruleset}"
    );
    for r in &records {
        assert_eq!(r["schema"], "virt-doctor/records/v1");
        assert_eq!(r["ruleset"], ruleset);
        assert_eq!(r["tool_version"], env!("CARGO_PKG_VERSION"));
        match r["record"].as_str().unwrap() {
            "fleet_finding" => assert!(r["hosts"].is_array() && r["fingerprint"].is_string()),
            kind => {
                assert!(
                    r["host"].is_string() && r["snapshot"].is_string(),
                    "{kind}: {r}"
                );
                if kind == "finding" {
                    assert_eq!(r["fingerprint"].as_str().unwrap().len(), 16);
                }
            }
        }
    }
    // Same input, same records, apart from nothing: no timestamps of the
    // run in the records.
    assert_eq!(a, b);
    // One host's stream is the same records as in a fleet.
    let one = stdout(&run(&["analyze", CLUSTER[2], "--format", "jsonl"]));
    let host_lines: Vec<&str> = a
        .lines()
        .filter(|l| l.contains(&format!("\"host\":\"{E3}\"")))
        .collect();
    assert_eq!(one.lines().collect::<Vec<_>>(), host_lines);
}

/// Prometheus: each family once, every host's samples, the fleet's own
/// series, parsed by the Prometheus text parser.
#[test]
fn prometheus_covers_every_host_and_the_fleet() {
    let mut args = vec!["analyze"];
    args.extend(CLUSTER);
    args.extend(["fixtures/fleets/cluster/hv9", "--format", "prometheus"]);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    let helps: Vec<&str> = text.lines().filter(|l| l.starts_with("# HELP ")).collect();
    let unique: BTreeSet<&&str> = helps.iter().collect();
    assert_eq!(helps.len(), unique.len(), "a family repeated:\n{text}");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let s = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no {name} {labels:?}\n{text}"));
        match s.value {
            prometheus_parse::Value::Gauge(g) => g,
            ref other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        value(
            "virt_doctor_findings_by_severity",
            &[("host", E3), ("severity", "warning")]
        ),
        3.0
    );
    assert_eq!(
        value(
            "virt_doctor_findings_by_severity",
            &[("host", E1), ("severity", "warning")]
        ),
        0.0
    );
    assert_eq!(
        value(
            "virt_doctor_fleet_findings",
            &[
                ("group", "all"),
                ("rule", "FLEET001"),
                ("severity", "warning")
            ]
        ),
        4.0
    );
    assert_eq!(
        value(
            "virt_doctor_fleet_hosts",
            &[("group", "all"), ("state", "analyzed")]
        ),
        3.0
    );
    assert_eq!(
        value(
            "virt_doctor_fleet_hosts",
            &[("group", "all"), ("state", "failed")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "virt_doctor_snapshot_failed",
            &[("snapshot", "fixtures/fleets/cluster/hv9")]
        ),
        1.0
    );
}

/// Formats that describe one host say so for a fleet, and do not half
/// run.
#[test]
fn sarif_and_junit_are_for_one_host() {
    let o = run(&["analyze", CLUSTER[0], CLUSTER[1], "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--format sarif reports one host"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
}

/// The Markdown report has the fleet table, the cross-host findings with
/// their fixes, and each host.
#[test]
fn markdown_fleet_report() {
    let mut args = vec!["analyze"];
    args.extend(CLUSTER);
    args.extend(["--format", "markdown"]);
    let md = stdout(&run(&args));
    assert!(
        md.starts_with("# virt-doctor: fleet\n\n**3 hosts in 1 group:"),
        "{md}"
    );
    assert!(md.contains("| kvm-east-03 | all | 0 | 3 | 0 | 2 |"), "{md}");
    assert!(md.contains("### critical `FLEET003` UUID 1f94fe44-5ba9-4e78-aacb-7ea6f44b8fcb:"));
    assert!(md.contains("\n### kvm-east-02\n"));
    assert!(md.contains("- warning `DISK007` sda: I/O scheduler does not suit the device"));
}

/// The record stream loaded into DuckDB answers the questions a fleet's
/// owner asks, in SQL. DuckDB is the `duckdb` package from PyPI (`make
/// deps` installs it); without it the test says SKIPPED, or fails under
/// `VIRT_DOCTOR_DUCKDB=require` (CI).
#[test]
fn duckdb_answers_fleet_questions_from_the_records() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            !common::required("VIRT_DOCTOR_DUCKDB"),
            "VIRT_DOCTOR_DUCKDB=require but python3 cannot import duckdb (`make deps` installs it)"
        );
        common::say(
            "SKIPPED duckdb_answers_fleet_questions_from_the_records: python3 has no duckdb module",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("fleet.jsonl");
    let mut args = vec!["analyze"];
    args.extend(CLUSTER);
    args.extend(["fixtures/hosts/hugepages", "--format", "jsonl"]);
    std::fs::write(&records, run(&args).stdout).unwrap();
    let script = r#"
import duckdb, json, sys
con = duckdb.connect()
con.execute("CREATE TABLE r AS SELECT * FROM read_json_auto(?, format='newline_delimited', union_by_name=true, sample_size=-1)", [sys.argv[1]])
most = con.execute("""
    SELECT rule, count(DISTINCT host) AS hosts FROM r
    WHERE record = 'finding' GROUP BY rule ORDER BY hosts DESC, rule LIMIT 3""").fetchall()
critical = con.execute("""
    SELECT DISTINCT h FROM (
        SELECT host AS h FROM r WHERE record = 'finding' AND severity = 'critical'
        UNION ALL
        SELECT unnest(hosts) AS h FROM r WHERE record = 'fleet_finding' AND severity = 'critical')
    ORDER BY h""").fetchall()
hugepages = con.execute("""
    WITH pools AS (SELECT host, unnest(hugepages) AS p FROM r WHERE record = 'host')
    SELECT p.size_kib, list(DISTINCT p.total ORDER BY p.total) AS totals,
           list(host ORDER BY host) FILTER (WHERE p.total <> (SELECT mode(q.p.total) FROM pools q WHERE q.p.size_kib = pools.p.size_kib)) AS odd
    FROM pools GROUP BY p.size_kib HAVING count(DISTINCT p.total) > 1 ORDER BY p.size_kib""").fetchall()
print(json.dumps({"most": most, "critical": critical, "hugepages": hugepages}))
"#;
    let o = std::process::Command::new("python3")
        .args(["-c", script, records.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let answers: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // Which rules hit the most hosts.
    assert_eq!(
        answers["most"],
        serde_json::json!([["MEM003", 3], ["CPU013", 1], ["DISK007", 1]])
    );
    // Which hosts have criticals: their own (kvm-hp-05's hugepages) or a
    // cross-host one (web01 running twice).
    assert_eq!(
        answers["critical"],
        serde_json::json!([[E1], [E2], ["kvm-hp-05"]])
    );
    // Where the hugepage settings differ: the 2 MiB pool, 512 pages on
    // kvm-hp-05 where the cluster has 3072.
    assert_eq!(
        answers["hugepages"],
        serde_json::json!([[2048, [512, 3072], ["kvm-hp-05"]]])
    );
}

/// README's "Fleets" section shows the cross-host findings exactly as the
/// command it names prints them.
#[test]
fn readme_shows_the_fleet_run_as_it_is() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("$ virt-doctor analyze fixtures/fleets/cluster/hv1")
        .expect("README shows a fleet run");
    let shown: Vec<&str> = readme[start..]
        .split("\n```")
        .next()
        .unwrap()
        .lines()
        .skip(1)
        .collect();
    let mut args = vec!["analyze"];
    args.extend(CLUSTER);
    args.extend(["--format", "concise"]);
    let real = stdout(&run(&args));
    let real: Vec<&str> = real
        .lines()
        .filter(|l| {
            ["FLEET001", "FLEET003", "FLEET004"]
                .iter()
                .any(|c| l.contains(c))
        })
        .collect();
    assert_eq!(shown, real);
}
