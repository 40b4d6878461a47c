//! The Ansible deployment in deploy/ansible, run for real with
//! `ansible-playbook` against three hosts that are this machine
//! (`ansible_connection=local`), each reading a different fixture host
//! through `--sysroot` and installing below its own prefix in a scratch
//! directory, with systemd left alone (there is none to talk to here).
//!
//! install.yml must lay out the binary, the service and the timer, and the
//! service's command line, run by hand, must write the metrics file by
//! renaming a finished temporary file onto it. collect.yml must fetch one
//! snapshot per host to the controller, list them in a manifest with their
//! group label and write the fleet reports naming every host. How the play
//! treats the fleet analysis's exit code (2 fails it, findings do not) is
//! checked with a stand-in for the analyzing binary.
//!
//! Everything Ansible writes (its home, local and remote temporary
//! directories) stays in the scratch directory. Without `ansible-playbook`
//! the tests say SKIPPED; with `VIRT_DOCTOR_DEPLOY=require` (CI) they fail.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{fixture, say};

const BIN: &str = env!("CARGO_BIN_EXE_virt-doctor");

/// The three hosts and the fixture each one reads as its root.
const HOSTS: [(&str, &str); 3] = [
    ("hv1", "hosts/healthy-2node"),
    ("hv2", "hosts/hugepages"),
    ("hv3", "hosts/numa-placement"),
];

fn ansible_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/ansible")
}

/// `ansible-playbook` with no setting of the caller's (every ANSIBLE_
/// variable removed) and its home and temporary directories below `root`,
/// which must hold the directories `Scratch::new` makes: even `--version`
/// writes below the home directory.
fn ansible_playbook(root: &Path) -> Command {
    let mut cmd = Command::new("ansible-playbook");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ANSIBLE_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("ANSIBLE_CONFIG", ansible_dir().join("ansible.cfg"))
        .env("HOME", root.join("home"))
        .env("ANSIBLE_HOME", root.join("ansible-home"))
        .env("ANSIBLE_LOCAL_TEMP", root.join("local-tmp"))
        .env("ANSIBLE_REMOTE_TEMP", root.join("remote-tmp"))
        .env("TMPDIR", root.join("tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .current_dir(root);
    cmd
}

/// Why this machine cannot run the tests, if it cannot.
fn unavailable() -> Option<String> {
    let s = Scratch::new();
    match ansible_playbook(s.path()).arg("--version").output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "ansible-playbook --version failed: {}",
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Some(format!("ansible-playbook does not run: {e}")),
    }
}

/// A failure under `VIRT_DOCTOR_DEPLOY=require`, else a SKIPPED line and
/// `true` when ansible-playbook is missing.
fn skip(test: &str) -> bool {
    let Some(why) = unavailable() else {
        return false;
    };
    assert!(
        !common::required("VIRT_DOCTOR_DEPLOY"),
        "{test}: VIRT_DOCTOR_DEPLOY=require but {why}"
    );
    say(&format!("SKIPPED {test}: {why}"));
    true
}

/// The host name virt-doctor reports for a fixture.
fn hostname_of(fixture_rel: &str) -> String {
    let o = common::run(&[
        "analyze",
        fixture(fixture_rel).to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let report: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", common::stderr(&o)));
    report["target"]["hostname"]
        .as_str()
        .unwrap_or_else(|| panic!("no target.hostname for {fixture_rel}: {report}"))
        .to_owned()
}

/// A scratch directory for one run: Ansible's home and temporary
/// directories, the hosts' prefixes, the fleet directory, the inventory.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        for sub in [
            "home",
            "ansible-home",
            "local-tmp",
            "remote-tmp",
            "tmp",
            "host-tmp",
            "controller",
        ] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        Scratch { dir }
    }

    /// The inventory of the three hosts; `extra` is added to the group's
    /// variables.
    fn inventory(&self, extra: &[(&str, String)]) {
        // The binary to deploy, copied: the one cargo built may be rebuilt
        // while the test runs, and what was installed is compared with it.
        std::fs::copy(BIN, self.binary()).unwrap();
        let root = self.path().display().to_string();
        let mut inv = String::from("[hypervisors]\n");
        for (host, rel) in HOSTS {
            inv += &format!(
                "{host} virt_doctor_sysroot={} virt_doctor_prefix={root}/{host}{}\n",
                fixture(rel).display(),
                // Two hosts share a group, the third has none and is in
                // the default group.
                if host == "hv3" {
                    ""
                } else {
                    " virt_doctor_group=east"
                }
            );
        }
        inv += "\n[hypervisors:vars]\n";
        let mut vars: Vec<(&str, String)> = vec![
            ("ansible_connection", "local".into()),
            (
                "ansible_python_interpreter",
                "{{ ansible_playbook_python }}".into(),
            ),
            ("virt_doctor_connect", "none".into()),
            ("virt_doctor_interval", "0".into()),
            ("virt_doctor_manage_systemd", "false".into()),
            ("virt_doctor_binary", self.binary().display().to_string()),
            (
                "virt_doctor_textfile_dir",
                "{{ virt_doctor_prefix }}/var/lib/prometheus/node-exporter".into(),
            ),
            (
                "virt_doctor_jsonl_dir",
                "{{ virt_doctor_prefix }}/var/lib/virt-doctor".into(),
            ),
            ("virt_doctor_fleet_dir", format!("{root}/fleet")),
            ("virt_doctor_remote_tmp", format!("{root}/host-tmp")),
        ];
        vars.extend(extra.iter().cloned());
        for (k, v) in vars {
            inv += &format!("{k}={v}\n");
        }
        std::fs::write(self.path().join("inventory.ini"), inv).unwrap();
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary install.yml deploys.
    fn binary(&self) -> PathBuf {
        self.path().join("controller/virt-doctor")
    }

    fn prefix(&self, host: &str) -> PathBuf {
        self.path().join(host)
    }

    /// `ansible-playbook -i inventory.ini PLAYBOOK`, Ansible's files kept
    /// in the scratch directory.
    fn play(&self, playbook: &str) -> Output {
        ansible_playbook(self.path())
            .arg("-i")
            .arg(self.path().join("inventory.ini"))
            .arg(ansible_dir().join(playbook))
            .output()
            .expect("ansible-playbook runs")
    }
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        common::stdout(o),
        common::stderr(o)
    )
}

/// The value of each `KEY=` line of a unit file.
fn unit_values(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_owned)
        .collect()
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Checks install.yml's work on one host; returns the service's ExecStart.
fn check_installed(s: &Scratch, host: &str, sysroot: &Path) -> String {
    let prefix = s.prefix(host);
    let bin = prefix.join("usr/local/bin/virt-doctor");
    let meta = std::fs::metadata(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    assert_eq!(
        meta.permissions().mode() & 0o7777,
        0o755,
        "{}",
        bin.display()
    );
    assert_eq!(
        meta.len(),
        std::fs::metadata(s.binary()).unwrap().len(),
        "{host}: not the binary given"
    );
    let o = Command::new(&bin).arg("--version").output().unwrap();
    assert!(o.status.success(), "{host}: installed binary: {}", show(&o));

    let units = prefix.join("etc/systemd/system");
    let service = std::fs::read_to_string(units.join("virt-doctor.service")).unwrap();
    let timer = std::fs::read_to_string(units.join("virt-doctor.timer")).unwrap();
    let textfile = prefix.join("var/lib/prometheus/node-exporter");
    let jsonl = prefix.join("var/lib/virt-doctor");

    let exec = unit_values(&service, "ExecStart");
    assert_eq!(exec.len(), 1, "{host}: one ExecStart:\n{service}");
    let exec = exec[0].clone();
    for (what, needle) in [
        ("binary", bin.display().to_string()),
        ("sysroot", format!("--sysroot {}", sysroot.display())),
        ("connect", "--connect none".into()),
        ("interval", "--interval 0".into()),
        (
            "metrics file",
            textfile.join("virt_doctor.prom").display().to_string(),
        ),
        (
            "report file",
            jsonl.join("last.jsonl").display().to_string(),
        ),
        (
            "prometheus format",
            "--format prometheus --fail-on never".into(),
        ),
        ("jsonl format", "--format jsonl --fail-on never".into()),
    ] {
        assert!(
            exec.contains(&needle),
            "{host}: ExecStart lacks the {what} {needle}:\n{exec}"
        );
    }
    // Sandbox: all read-only but the two report directories.
    assert_eq!(
        unit_values(&service, "ProtectSystem"),
        ["strict"],
        "{service}"
    );
    assert_eq!(
        unit_values(&service, "NoNewPrivileges"),
        ["yes"],
        "{service}"
    );
    assert_eq!(
        unit_values(&service, "ReadWritePaths"),
        [format!(
            "\"{}\" \"{}\"",
            textfile.display(),
            jsonl.display()
        )],
        "{service}"
    );
    assert!(unit_values(&service, "PrivateTmp").is_empty(), "{service}");
    assert!(
        textfile.is_dir() && jsonl.is_dir(),
        "{host}: report directories"
    );

    assert_eq!(unit_values(&timer, "OnCalendar"), ["hourly"], "{timer}");
    assert_eq!(
        unit_values(&timer, "RandomizedDelaySec").len(),
        1,
        "{timer}"
    );
    assert_eq!(
        unit_values(&timer, "WantedBy"),
        ["timers.target"],
        "{timer}"
    );
    exec
}

/// install.yml then collect.yml, as an operator runs them.
#[test]
fn install_then_collect_a_fleet_of_three() {
    let test = "install_then_collect_a_fleet_of_three";
    if skip(test) {
        return;
    }
    let s = Scratch::new();
    s.inventory(&[]);
    let o = s.play("install.yml");
    assert!(o.status.success(), "install.yml: {}", show(&o));

    let mut execs = Vec::new();
    for (host, rel) in HOSTS {
        execs.push(check_installed(&s, host, &fixture(rel)));
    }

    // The service's command line by hand, for the hugepages host (it has
    // findings, so both reports have content). systemd would resolve %, $
    // and backslashes; without them, sh reads the line the way systemd does.
    let exec = &execs[1];
    assert!(
        !exec.contains(['%', '$', '\\', '`']),
        "ExecStart escapes for systemd, so sh would read it differently: {exec}"
    );
    let textfile = s.prefix("hv2").join("var/lib/prometheus/node-exporter");
    let jsonl_dir = s.prefix("hv2").join("var/lib/virt-doctor");
    // A metrics file from an earlier run: the new one must replace it by a
    // rename (a new inode), not be rewritten in place where node_exporter
    // could read it half-written.
    let prom = textfile.join("virt_doctor.prom");
    std::fs::write(&prom, "# an earlier run\n").unwrap();
    let old_inode = std::fs::metadata(&prom).unwrap().ino();
    let o = Command::new("/bin/sh")
        .arg("-c")
        .arg(exec)
        .output()
        .unwrap();
    assert!(o.status.success(), "ExecStart by hand: {}", show(&o));
    assert_eq!(
        names_in(&textfile),
        BTreeSet::from(["virt_doctor.prom".to_owned()])
    );
    assert_eq!(
        names_in(&jsonl_dir),
        BTreeSet::from(["last.jsonl".to_owned()])
    );
    assert_ne!(
        std::fs::metadata(&prom).unwrap().ino(),
        old_inode,
        "written in place"
    );
    let metrics = std::fs::read_to_string(&prom).unwrap();
    let hp = hostname_of("hosts/hugepages");
    assert!(
        metrics.contains(&format!(
            "virt_doctor_findings_by_severity{{host=\"{hp}\",severity=\"critical\"}}"
        )),
        "{metrics}"
    );
    let report = std::fs::read_to_string(jsonl_dir.join("last.jsonl")).unwrap();
    assert!(report.lines().count() > 0, "empty last.jsonl");
    for line in report.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("last.jsonl: {e}: {line}"));
    }

    let o = s.play("collect.yml");
    let fleet = s.path().join("fleet");
    // The captures are fetched, private, each of its own host, and the
    // hosts' temporary copies are gone, whatever became of the analysis.
    let expected_archives = [
        ("east/hv1.tar.gz", "hosts/healthy-2node"),
        ("east/hv2.tar.gz", "hosts/hugepages"),
        ("all/hv3.tar.gz", "hosts/numa-placement"),
    ];
    for (rel, fixture_rel) in expected_archives {
        let archive = fleet.join(rel);
        let meta = std::fs::metadata(&archive)
            .unwrap_or_else(|e| panic!("{}: {e}\ncollect.yml: {}", archive.display(), show(&o)));
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{rel}");
        assert_eq!(
            hostname_of_archive(&archive),
            hostname_of(fixture_rel),
            "{rel} is not the capture of {fixture_rel}"
        );
    }
    assert_eq!(names_in(&fleet.join("east")).len(), 2);
    assert_eq!(names_in(&fleet.join("all")).len(), 1);
    assert!(
        names_in(&s.path().join("host-tmp")).is_empty(),
        "captures left on the hosts"
    );
    let manifest = std::fs::read_to_string(fleet.join("manifest")).unwrap();
    let entries: Vec<&str> = manifest
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        entries,
        [
            "east/hv1.tar.gz group=east",
            "east/hv2.tar.gz group=east",
            "all/hv3.tar.gz group=all"
        ],
        "{manifest}"
    );

    // The fleet analysis.
    assert!(o.status.success(), "collect.yml: {}", show(&o));
    // One host record per host, under the group its inventory gave it.
    let expected: BTreeMap<String, String> = HOSTS
        .iter()
        .map(|(host, rel)| {
            (
                hostname_of(rel),
                if *host == "hv3" { "all" } else { "east" }.to_owned(),
            )
        })
        .collect();
    let jsonl = std::fs::read_to_string(fleet.join("fleet.jsonl")).unwrap();
    let mut seen = BTreeMap::new();
    for line in jsonl.lines() {
        let record: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("fleet.jsonl: {e}: {line}"));
        assert_ne!(record["record"], "failed", "{line}");
        if record["record"] != "host" {
            continue;
        }
        let host = record["host"].as_str().unwrap_or_else(|| panic!("{line}"));
        let group = record["group"].as_str().unwrap_or_else(|| panic!("{line}"));
        assert!(
            seen.insert(host.to_owned(), group.to_owned()).is_none(),
            "{host} twice"
        );
    }
    assert_eq!(seen, expected, "{jsonl}");
    let markdown = std::fs::read_to_string(fleet.join("fleet.md")).unwrap();
    for host in expected.keys() {
        assert!(markdown.contains(host.as_str()), "fleet.md lacks {host}");
    }
}

fn hostname_of_archive(archive: &Path) -> String {
    let o = common::run(&[
        "analyze",
        archive.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{}: {e}: {}", archive.display(), common::stderr(&o)));
    report["target"]["hostname"].as_str().unwrap().to_owned()
}

/// collect.yml with a stand-in for the analyzing binary that prints a line
/// and exits with `code`; the hosts run the binary in place, uninstalled.
/// The fleet directory holds reports of an earlier run.
fn collect_with_analysis_exiting(code: i32) -> (Scratch, Output) {
    let s = Scratch::new();
    let stub = s.path().join("analyze-stub");
    std::fs::write(
        &stub,
        format!("#!/bin/sh\necho '{{\"record\":\"stub\",\"exit\":{code}}}'\nexit {code}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.inventory(&[
        ("virt_doctor_bin", s.binary().display().to_string()),
        ("virt_doctor_analyze_binary", stub.display().to_string()),
    ]);
    let fleet = s.path().join("fleet");
    std::fs::create_dir(&fleet).unwrap();
    for report in ["fleet.jsonl", "fleet.md"] {
        std::fs::write(fleet.join(report), "an earlier run\n").unwrap();
    }
    let o = s.play("collect.yml");
    (s, o)
}

/// Exit 2 of the fleet analysis (a snapshot could not be read) fails the
/// play and keeps the earlier reports whole; exit 1 (findings) is no
/// failure and replaces them.
#[test]
fn collect_fails_on_a_broken_analysis_not_on_findings() {
    let test = "collect_fails_on_a_broken_analysis_not_on_findings";
    if skip(test) {
        return;
    }
    let report_of = |s: &Scratch, name: &str| {
        std::fs::read_to_string(s.path().join("fleet").join(name)).unwrap()
    };
    let expected_names: BTreeSet<String> = ["all", "east", "manifest", "fleet.jsonl", "fleet.md"]
        .map(String::from)
        .into();

    let (s, o) = collect_with_analysis_exiting(2);
    assert!(!o.status.success(), "exit 2 passed: {}", show(&o));
    // It failed at the analysis: everything before it was done.
    assert!(
        s.path().join("fleet/manifest").is_file() && common::stdout(&o).contains("\"rc\": 2"),
        "failed elsewhere: {}",
        show(&o)
    );
    for report in ["fleet.jsonl", "fleet.md"] {
        assert_eq!(report_of(&s, report), "an earlier run\n", "{report}");
    }
    // No half-written report is left beside them.
    assert_eq!(names_in(&s.path().join("fleet")), expected_names);

    let (s, o) = collect_with_analysis_exiting(1);
    assert!(o.status.success(), "exit 1 failed the play: {}", show(&o));
    for report in ["fleet.jsonl", "fleet.md"] {
        assert_eq!(
            report_of(&s, report),
            "{\"record\":\"stub\",\"exit\":1}\n",
            "{report}"
        );
    }
    assert_eq!(names_in(&s.path().join("fleet")), expected_names);
}
