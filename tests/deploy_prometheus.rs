//! The Prometheus side of a deployment (deploy/prometheus/): the alerting
//! rules load and pass their own unit tests, and what `--format prometheus`
//! prints is accepted by `promtool check metrics` and served by a real
//! node_exporter textfile collector with the values of the report.
//!
//! Needs `promtool` (Debian package `prometheus`) and
//! `prometheus-node-exporter`: without them a test says SKIPPED, unless
//! `VIRT_DOCTOR_DEPLOY=require`, where a missing tool fails it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{fixture, run, say, stderr, stdout};

const RULES: &str = "deploy/prometheus/virt-doctor.rules.yml";
const RULE_TESTS: &str = "deploy/prometheus/virt-doctor.rules.test.yml";
const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

/// One sample of an exposition: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// The tool's path on PATH (or where Debian puts it), or `None` after
/// saying SKIPPED; with `VIRT_DOCTOR_DEPLOY=require` a missing tool fails.
fn tool(test: &str, name: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !common::required("VIRT_DOCTOR_DEPLOY"),
            "{test}: VIRT_DOCTOR_DEPLOY=require but `{name}` (Debian package {package}) is not installed"
        );
        say(&format!(
            "SKIPPED {test}: `{name}` is not installed (Debian package {package})"
        ));
    }
    found
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn promtool(bin: &Path, args: &[&str], input: Option<&str>) -> std::process::Output {
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    // Dropping stdin after writing is the end of input `check metrics`
    // waits for.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.unwrap_or("").as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// `promtool check metrics` on `text`: it must exit 0 (no parse error and
/// no lint problem) and say nothing about errors.
fn check_metrics(bin: &Path, what: &str, text: &str) {
    // promtool accepts empty input, so make sure there is something to check.
    assert!(
        text.contains("virt_doctor_findings_by_severity{"),
        "{what}: no samples to check:\n{text}"
    );
    // The same series twice is something node_exporter drops with only a
    // log line (and this promtool does not flag), so look for it here.
    let mut seen = BTreeSet::new();
    for (metric, labels, _) in samples(text) {
        assert!(
            seen.insert((metric.clone(), labels.clone())),
            "{what}: {metric} {labels:?} twice:\n{text}"
        );
    }
    let o = promtool(bin, &["check", "metrics"], Some(text));
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        o.status.success() && !said.to_lowercase().contains("error"),
        "promtool check metrics rejects {what} ({}):\n{said}\n--- input:\n{text}",
        o.status
    );
}

fn host_path(name: &str) -> String {
    fixture(&format!("hosts/{name}")).display().to_string()
}

/// What the hourly timer writes: `scan` of the host, findings not failing it.
fn scan_prometheus(host: &str) -> String {
    let path = host_path(host);
    let o = run(&[
        "scan",
        "--sysroot",
        &path,
        "--connect",
        "none",
        "--interval",
        "0",
        "--format",
        "prometheus",
        "--fail-on",
        "never",
    ]);
    assert!(o.status.success(), "scan {host}: {}", stderr(&o));
    stdout(&o)
}

/// The JSON report of `ARGS --format json`.
fn json_report(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json", "--fail-on", "never"]);
    let o = run(&all);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// The host name a report of the fixture carries (what the `host` label is).
fn hostname(host: &str) -> String {
    let report = json_report(&["analyze", &host_path(host)]);
    report["target"]["hostname"]
        .as_str()
        .unwrap_or_else(|| panic!("{host}: no target.hostname"))
        .to_owned()
}

/// critical/warning/info counts of a JSON report's summary.
fn summary_counts(report: &serde_json::Value) -> BTreeMap<String, f64> {
    SEVERITIES
        .iter()
        .map(|s| {
            let n = report["summary"][s]
                .as_f64()
                .unwrap_or_else(|| panic!("no summary.{s}"));
            (s.to_string(), n)
        })
        .collect()
}

/// The counts of the same run the timer does, so they are the numbers its
/// .prom file carries.
fn scan_counts(host: &str) -> BTreeMap<String, f64> {
    let path = host_path(host);
    summary_counts(&json_report(&[
        "scan",
        "--sysroot",
        &path,
        "--connect",
        "none",
        "--interval",
        "0",
    ]))
}

/// Write `text` as DIR/NAME the way a timer must: to a temporary name the
/// collector ignores (it reads only `*.prom`), then renamed over, so a
/// scrape never sees half a file.
fn write_atomically(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

/// A node_exporter serving only the textfile collector, killed on drop
/// whichever way the test ends.
struct Exporter {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Exporter {
    fn start(bin: &Path, textfiles: &Path, log: PathBuf) -> Exporter {
        // A port the kernel just handed out is free unless something takes
        // it between here and node_exporter binding it.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--collector.disable-defaults")
            .arg("--collector.textfile")
            .arg(format!(
                "--collector.textfile.directory={}",
                textfiles.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // To a file, not a pipe nobody reads (which could fill and
            // block it); shown when it does not answer.
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("node_exporter starts");
        Exporter { child, port, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// GET /metrics, retried while the exporter is still coming up (up to
    /// 10 s), with plain HTTP/1.0 so the body ends when the server closes.
    fn scrape(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("node_exporter exited ({status}):\n{}", self.log());
            }
            match self.get() {
                Ok(body) => return body,
                Err(e) if Instant::now() >= deadline => {
                    panic!(
                        "node_exporter on port {} did not answer: {e}\n{}",
                        self.port,
                        self.log()
                    )
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn get(&self) -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)?;
        let raw = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .ok_or_else(|| std::io::Error::other(format!("no HTTP header end in {raw:?}")))?;
        let status = head.lines().next().unwrap_or("");
        assert!(
            status.split_whitespace().nth(1) == Some("200"),
            "node_exporter answered {status}:\n{body}"
        );
        Ok(body.to_owned())
    }
}

/// The gauge samples of an exposition text, as (metric, labels, value).
/// Everything virt-doctor and the textfile collector print is a gauge;
/// the exporter's own counters and histograms are left out.
fn samples(text: &str) -> Vec<Sample> {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .unwrap_or_else(|e| panic!("{e}:\n{text}"));
    scrape
        .samples
        .into_iter()
        .filter_map(|s| {
            let value = match s.value {
                prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => return None,
            };
            let labels = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Some((s.metric, labels, value))
        })
        .collect()
}

/// The one sample of `metric` with these labels (others may be there too).
fn value_of(scraped: &[Sample], metric: &str, pairs: &[(&str, &str)], text: &str) -> f64 {
    let found: Vec<f64> = scraped
        .iter()
        .filter(|(m, l, _)| {
            m == metric
                && pairs
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
        .collect();
    assert_eq!(found.len(), 1, "{metric} {pairs:?} in:\n{text}");
    found[0]
}

/// The `host` labels of virt_doctor_findings_by_severity.
fn hosts_of(scraped: &[Sample]) -> BTreeSet<String> {
    scraped
        .iter()
        .filter(|(m, _, _)| m == "virt_doctor_findings_by_severity")
        .map(|(_, l, _)| l.get("host").cloned().unwrap_or_default())
        .collect()
}

/// Each of the host's severity counts, as node_exporter serves it, is the
/// report's, in virt_doctor_findings_by_severity and summed over
/// virt_doctor_findings.
fn assert_host_served(scraped: &[Sample], host: &str, counts: &BTreeMap<String, f64>, text: &str) {
    for (severity, want) in counts {
        let by_severity = value_of(
            scraped,
            "virt_doctor_findings_by_severity",
            &[("host", host), ("severity", severity)],
            text,
        );
        assert_eq!(by_severity, *want, "{host} {severity}:\n{text}");
        let summed: f64 = scraped
            .iter()
            .filter(|(m, l, _)| {
                m == "virt_doctor_findings"
                    && l.get("host").map(String::as_str) == Some(host)
                    && l.get("severity") == Some(severity)
            })
            .map(|(_, _, v)| v)
            .sum();
        assert_eq!(summed, *want, "{host} {severity} findings:\n{text}");
    }
}

/// node_exporter read every .prom file without complaint: an unreadable
/// file sets node_textfile_scrape_error, while a series that two files
/// both hold is dropped with only an error in the exporter's log.
fn assert_no_textfile_error(exporter: &Exporter, scraped: &[Sample], text: &str) {
    assert_eq!(
        value_of(scraped, "node_textfile_scrape_error", &[], text),
        0.0,
        "node_exporter could not read a .prom file:\n{text}"
    );
    let log = exporter.log();
    assert!(
        !log.contains("level=error"),
        "node_exporter logged an error:\n{log}"
    );
}

#[test]
fn rules_file_passes_promtool_check() {
    let Some(bin) = tool("rules_file_passes_promtool_check", "promtool", "prometheus") else {
        return;
    };
    let o = promtool(&bin, &["check", "rules", RULES], None);
    assert!(
        o.status.success() && stdout(&o).contains("SUCCESS"),
        "promtool check rules {RULES}:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
}

#[test]
fn rules_pass_their_promtool_unit_tests() {
    let Some(bin) = tool(
        "rules_pass_their_promtool_unit_tests",
        "promtool",
        "prometheus",
    ) else {
        return;
    };
    let o = promtool(&bin, &["test", "rules", RULE_TESTS], None);
    assert!(
        o.status.success(),
        "promtool test rules {RULE_TESTS}:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
}

/// The rules read host metrics by name; a rename in the output would leave
/// them matching nothing, silently.
#[test]
fn rules_name_only_host_metrics_that_scan_prints() {
    let rules = std::fs::read_to_string(repo().join(RULES)).unwrap();
    let printed = scan_prometheus("hugepages");
    let names: BTreeSet<&str> = regex::Regex::new(r"virt_doctor_[a-z_]+")
        .unwrap()
        .find_iter(&rules)
        .map(|m| m.as_str())
        // Fleet families come only from a fleet run (checked below).
        .filter(|n| !n.starts_with("virt_doctor_fleet_") && *n != "virt_doctor_snapshot_failed")
        .collect();
    assert!(
        names.contains("virt_doctor_findings_by_severity")
            && names.contains("virt_doctor_last_run_timestamp_seconds"),
        "{names:?}"
    );
    for name in names {
        assert!(
            printed.contains(&format!("# TYPE {name} gauge\n")),
            "{RULES} uses {name}, which scan does not print:\n{printed}"
        );
    }
}

#[test]
fn scan_output_passes_promtool_check_metrics() {
    let Some(bin) = tool(
        "scan_output_passes_promtool_check_metrics",
        "promtool",
        "prometheus",
    ) else {
        return;
    };
    // Hosts with critical findings, and one with none (its findings family
    // has HELP and TYPE but no sample).
    for host in ["hugepages", "cpu-contention", "healthy-2node"] {
        check_metrics(&bin, &format!("scan of {host}"), &scan_prometheus(host));
    }
}

#[test]
fn node_exporter_serves_two_hosts_from_the_textfile_directory() {
    let test = "node_exporter_serves_two_hosts_from_the_textfile_directory";
    let Some(bin) = tool(test, "prometheus-node-exporter", "prometheus-node-exporter") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let textfiles = dir.path().join("textfile");
    std::fs::create_dir(&textfiles).unwrap();
    let hosts = ["hugepages", "cpu-contention"];
    for host in hosts {
        write_atomically(&textfiles, &format!("{host}.prom"), &scan_prometheus(host));
    }
    let mut exporter = Exporter::start(&bin, &textfiles, dir.path().join("exporter.log"));
    let text = exporter.scrape();
    let scraped = samples(&text);

    assert_no_textfile_error(&exporter, &scraped, &text);
    let names: BTreeSet<String> = hosts.iter().map(|h| hostname(h)).collect();
    assert_eq!(names.len(), 2, "the two fixtures share a host name");
    assert_eq!(hosts_of(&scraped), names, "{text}");
    for host in hosts {
        assert_host_served(&scraped, &hostname(host), &scan_counts(host), &text);
    }
    // node_exporter lists each file it read: both, under their final names.
    let files: BTreeSet<String> = scraped
        .iter()
        .filter(|(m, _, _)| m == "node_textfile_mtime_seconds")
        .map(|(_, l, _)| {
            let f = l.get("file").cloned().unwrap_or_default();
            f.rsplit('/').next().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        files,
        BTreeSet::from([
            "cpu-contention.prom".to_owned(),
            "hugepages.prom".to_owned()
        ]),
        "{text}"
    );
}

/// The fleet run's output (one file for several hosts plus the fleet
/// families) next to single-host files, as on a machine that runs both.
/// Waits on fleet mode (`analyze A B ...`).
#[test]
fn fleet_output_passes_promtool_and_node_exporter() {
    let test = "fleet_output_passes_promtool_and_node_exporter";
    let Some(promtool_bin) = tool(test, "promtool", "prometheus") else {
        return;
    };
    let Some(exporter_bin) = tool(test, "prometheus-node-exporter", "prometheus-node-exporter")
    else {
        return;
    };
    let fleet_hosts = ["hugepages", "cpu-contention"];
    let paths: Vec<String> = fleet_hosts.iter().map(|h| host_path(h)).collect();
    let o = run(&[
        "analyze",
        &paths[0],
        &paths[1],
        "--format",
        "prometheus",
        "--fail-on",
        "never",
    ]);
    assert!(
        o.status.success(),
        "fleet mode: `virt-doctor analyze {} {} --format prometheus --fail-on never` \
         should print one exposition for both hosts, but exited {}:\n{}",
        paths[0],
        paths[1],
        o.status,
        stderr(&o)
    );
    let fleet = stdout(&o);
    check_metrics(&promtool_bin, "the fleet run", &fleet);
    for family in [
        "virt_doctor_findings",
        "virt_doctor_findings_by_severity",
        "virt_doctor_last_run_timestamp_seconds",
    ] {
        assert_eq!(
            fleet.matches(&format!("# TYPE {family} gauge\n")).count(),
            1,
            "{family} is declared once for all hosts:\n{fleet}"
        );
    }

    // Every family the rules read, fleet ones included, is declared.
    let rules = std::fs::read_to_string(repo().join(RULES)).unwrap();
    for name in regex::Regex::new(r"virt_doctor_[a-z_]+")
        .unwrap()
        .find_iter(&rules)
    {
        let name = name.as_str();
        assert!(
            fleet.contains(&format!("# TYPE {name} gauge\n")),
            "{RULES} uses {name}, which the fleet run does not print:\n{fleet}"
        );
    }

    // The single-host files are of other hosts: the same host written by
    // both would be a duplicate series, which node_exporter refuses.
    let dir = tempfile::tempdir().unwrap();
    let textfiles = dir.path().join("textfile");
    std::fs::create_dir(&textfiles).unwrap();
    let single_hosts = ["numa-placement", "storage"];
    for host in single_hosts {
        write_atomically(&textfiles, &format!("{host}.prom"), &scan_prometheus(host));
    }
    write_atomically(&textfiles, "fleet.prom", &fleet);
    let mut exporter = Exporter::start(&exporter_bin, &textfiles, dir.path().join("exporter.log"));
    let text = exporter.scrape();
    let scraped = samples(&text);

    assert_no_textfile_error(&exporter, &scraped, &text);
    let all: BTreeSet<String> = fleet_hosts
        .iter()
        .chain(&single_hosts)
        .map(|h| hostname(h))
        .collect();
    assert_eq!(all.len(), 4, "two fixtures share a host name");
    assert_eq!(hosts_of(&scraped), all, "{text}");
    for (host, path) in fleet_hosts.iter().zip(&paths) {
        let counts = summary_counts(&json_report(&["analyze", path]));
        assert_host_served(&scraped, &hostname(host), &counts, &text);
    }
    for host in single_hosts {
        assert_host_served(&scraped, &hostname(host), &scan_counts(host), &text);
    }
    assert_eq!(
        value_of(
            &scraped,
            "virt_doctor_fleet_hosts",
            &[("group", "all"), ("state", "analyzed")],
            &text
        ),
        2.0,
        "{text}"
    );
    assert!(
        value_of(
            &scraped,
            "virt_doctor_fleet_last_run_timestamp_seconds",
            &[],
            &text
        ) > 0.0,
        "{text}"
    );
    assert!(
        !scraped
            .iter()
            .any(|(m, _, _)| m == "virt_doctor_snapshot_failed"),
        "no snapshot failed:\n{text}"
    );
}

/// A snapshot the fleet run cannot open is a `virt_doctor_snapshot_failed`
/// sample named by its path, which is what VirtDoctorSnapshotFailed reads.
/// Waits on fleet mode (`analyze A B ...`).
#[test]
fn fleet_output_names_a_failed_snapshot() {
    let test = "fleet_output_names_a_failed_snapshot";
    let Some(bin) = tool(test, "promtool", "prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("hv-gone.tar.gz");
    let good = host_path("hugepages");
    let o = run(&[
        "analyze",
        &good,
        missing.to_str().unwrap(),
        "--format",
        "prometheus",
        "--fail-on",
        "never",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "fleet mode: `virt-doctor analyze {good} {} --format prometheus` should report \
         the snapshot that cannot be opened and exit 2:\n{}",
        missing.display(),
        stderr(&o)
    );
    let text = stdout(&o);
    check_metrics(&bin, "a fleet run with a failed snapshot", &text);
    let scraped = samples(&text);
    let failed: Vec<_> = scraped
        .iter()
        .filter(|(m, _, _)| m == "virt_doctor_snapshot_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{text}");
    let (_, labels, value) = failed[0];
    assert_eq!(*value, 1.0, "{text}");
    assert!(
        labels
            .get("snapshot")
            .is_some_and(|s| s.ends_with("hv-gone.tar.gz")),
        "{text}"
    );
    // The host that did open is still reported.
    assert_eq!(
        hosts_of(&scraped),
        BTreeSet::from([hostname("hugepages")]),
        "{text}"
    );
}
