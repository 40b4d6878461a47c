//! Every domain fix of the catalog, applied for real.
//!
//! For each fixture domain that has a finding whose fix changes its
//! definition: define it in a real libvirtd (qemu:///system, defined and
//! never started), lint it against its fixture host, run the `virt-xml`
//! and `virsh` lines `virt-doctor plan` prints for it, dump the inactive
//! XML libvirt then holds, and lint that again. Every finding the plan
//! fixed must be gone, and no rule may newly warn about the domain.
//!
//! Some mistakes are ones libvirt itself refuses to define (a CPU topology
//! that does not match the vCPU count, io='native' with a host-cached
//! disk). Those domains get the same virt-xml lines applied to their XML
//! on standard input (virt-xml's offline mode), and the fixed XML must
//! then define.
//!
//! The fixture XML is changed only where this libvirtd needs it: the name
//! gets a `vd-plan-` prefix, the UUID is dropped, the emulator is this
//! machine's QEMU and the machine type one it knows (`q35` or `pc`), and
//! libvirt's "auto-generated file" comment goes (virt-xml's offline mode
//! wants the document to start at `<domain>`).
//!
//! Needs root, `virt-xml` (Debian's virtinst, from `make deps`) and a
//! libvirtd answering at qemu:///system; elsewhere it says SKIPPED, and
//! with `VIRT_DOCTOR_E2E=require` (CI) it fails instead.

#![cfg(feature = "live")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{run, say, stderr, stdout, virsh, SYSTEM_URI as URI};

const PREFIX: &str = "vd-plan-";

/// Domain rules whose fix is not a change to the definition that a
/// machine can make, each with the reason.
const NOT_APPLIED: &[(&str, &str)] = &[
    (
        "CPU003",
        "which free host CPUs a domain gets is a placement decision",
    ),
    (
        "CPU004",
        "whole cores for each domain: a placement decision",
    ),
    (
        "CPU010",
        "needs host CPUs isolated at boot (kernel command line) first",
    ),
    (
        "CPU016",
        "which existing CPUs to re-pin to is a placement decision",
    ),
    (
        "CPU017",
        "the cure is on the host: fewer competing vCPUs, or dedicated cores",
    ),
    (
        "CPU020",
        "which domains get which CPUs is a placement decision",
    ),
    (
        "DISK010",
        "an I/O limit is a policy: inspect, then choose a number",
    ),
    (
        "DISK013",
        "the fix is making room on storage, then resuming the domain",
    ),
    (
        "HOST004",
        "the IOMMU is turned on in the firmware and the kernel command line",
    ),
    (
        "HOST005",
        "which domain keeps the device is the operator's choice",
    ),
    (
        "MEM007",
        "the hugepage pool must grow first, sized for every domain at once",
    ),
    (
        "MEM008",
        "the fix grows the host's hugepage pool: a host step, checked in tests/plan.rs",
    ),
    (
        "NUMA001",
        "a guest NUMA topology is designed for the guest's workload",
    ),
    (
        "NUMA002",
        "which node a domain moves to is a placement decision",
    ),
    (
        "NUMA006",
        "the fix is a host service (numad), not the domain",
    ),
    (
        "NUMA008",
        "a node's pool is sized for every domain confined to it: by hand",
    ),
    ("SNAP001", "deleting snapshots destroys data: only by hand"),
    ("SNAP002", "deleting snapshots destroys data: only by hand"),
    (
        "SNAP003",
        "merging a backing chain rewrites images: only by hand",
    ),
];

fn unavailable() -> Option<String> {
    common::libvirtd_unavailable(&[("virt-xml", "virt-xml (Debian: virtinst)")])
}

/// Undefines this test's domains when dropped, also on failure.
struct Defined(Vec<String>);

impl Drop for Defined {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = virsh(&["undefine", "--nvram", name]);
        }
    }
}

/// The fixture domain's XML, made definable here (see the module doc).
fn definable(xml: &str) -> String {
    let re = |p: &str| regex::Regex::new(p).unwrap();
    // libvirt's "auto-generated file" comment: virt-xml's offline mode
    // wants the document to start at <domain>.
    let xml = re(r"(?s)^\s*<!--.*?-->\s*").replace(xml, "");
    let xml = re(r"<name>([^<]+)</name>").replace(&xml, format!("<name>{PREFIX}$1</name>"));
    let xml = re(r"\s*<uuid>[^<]*</uuid>").replace(&xml, "");
    let xml = re(r"<emulator>[^<]*</emulator>")
        .replace(&xml, "<emulator>/usr/bin/qemu-system-x86_64</emulator>");
    re(r"machine='([^']*)'")
        .replace(&xml, |c: &regex::Captures| {
            if c[1].contains("q35") {
                "machine='q35'".to_owned()
            } else {
                "machine='pc'".to_owned()
            }
        })
        .into_owned()
}

/// Domains written for this test: (name, file, the host to lint against).
const EXTRA: &[(&str, &str, &str)] = &[(
    "custom-numa01",
    "plan/custom-cpu-numa.xml",
    "hosts/healthy-2node",
)];

/// The guest's CPU topology and NUMA cells, as attribute maps.
type CpuShape = (
    Option<BTreeMap<String, String>>,
    Vec<BTreeMap<String, String>>,
);

fn cpu_shape(xml: &str) -> CpuShape {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let attrs = |n: roxmltree::Node| -> BTreeMap<String, String> {
        n.attributes()
            .map(|a| (a.name().to_owned(), a.value().to_owned()))
            .collect()
    };
    let cpu = doc
        .descendants()
        .find(|n| n.has_tag_name("cpu") && n.parent().is_some_and(|p| p.has_tag_name("domain")));
    let topology = cpu
        .and_then(|c| c.children().find(|n| n.has_tag_name("topology")))
        .map(attrs);
    let cells = cpu
        .into_iter()
        .flat_map(|c| c.descendants().filter(|n| n.has_tag_name("cell")))
        .map(attrs)
        .collect();
    (topology, cells)
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o))
        .unwrap_or_else(|e| panic!("JSON: {e}\nstdout: {}\nstderr: {}", stdout(o), stderr(o)))
}

/// `(rule, subject, severity)` of a lint report's findings.
fn findings(report: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    common::findings_with(report, "severity")
}

fn lint(file: &Path, host: &Path) -> serde_json::Value {
    json(&run(&[
        "lint",
        file.to_str().unwrap(),
        "--host",
        host.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]))
}

/// The plan's domain-changing steps for `file`: (rule, subject, argv).
fn domain_steps(file: &Path, host: &Path) -> Vec<(String, String, Vec<String>)> {
    let plan = json(&run(&[
        "plan",
        file.to_str().unwrap(),
        "--host",
        host.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let mut out = Vec::new();
    for h in plan["hosts"].as_array().unwrap() {
        for d in h["domains"].as_array().unwrap() {
            for p in d["changes"].as_array().unwrap() {
                let rule = p["finding"]["rule"].as_str().unwrap().to_owned();
                let subject = p["finding"]["subject"].as_str().unwrap().to_owned();
                for s in p["steps"].as_array().unwrap() {
                    let words = |key: &str| -> Vec<String> {
                        s[key]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|w| w.as_str().unwrap().to_owned())
                            .collect()
                    };
                    let argv = match s["kind"].as_str().unwrap() {
                        "virt_xml" => {
                            let mut argv = vec![
                                "virt-xml".to_owned(),
                                s["domain"].as_str().unwrap().to_owned(),
                            ];
                            argv.extend(words("args"));
                            argv.push("--define".into());
                            argv
                        }
                        "virsh" => {
                            let mut argv = vec!["virsh".to_owned()];
                            argv.extend(words("args"));
                            argv
                        }
                        _ => continue,
                    };
                    // The script runs exactly these words.
                    assert!(
                        s["commands"][0]
                            .as_str()
                            .unwrap()
                            .starts_with(argv[0].as_str()),
                        "{s}"
                    );
                    out.push((rule.clone(), subject.clone(), argv));
                }
            }
        }
    }
    out
}

/// The rules whose fix the host's own plan makes on the host.
fn host_plan_rules(host: &Path) -> BTreeSet<String> {
    let plan = json(&run(&["plan", host.to_str().unwrap(), "--format", "json"]));
    plan["hosts"][0]["host_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["finding"]["rule"].as_str().unwrap().to_owned())
        .collect()
}

fn run_argv(argv: &[String], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).env("LIBVIRT_DEFAULT_URI", URI);
    match stdin {
        None => cmd.output().expect("runs"),
        Some(text) => {
            let mut child = cmd
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("runs");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        }
    }
}

/// The domain rules whose fix the catalog can apply, by code.
fn applicable_rules() -> BTreeSet<String> {
    let catalog = virt_doctor::rules::Catalog::load(&[]).unwrap();
    catalog
        .rules
        .iter()
        .filter(|r| r.apply.iter().any(|a| a.changes_domain()))
        .map(|r| r.code.clone())
        .collect()
}

#[test]
fn every_domain_rule_is_applied_or_says_why_not() {
    let catalog = virt_doctor::rules::Catalog::load(&[]).unwrap();
    let domain_rules: BTreeSet<String> = catalog
        .rules
        .iter()
        .filter(|r| {
            matches!(
                r.scope,
                virt_doctor::rules::Scope::Domain
                    | virt_doctor::rules::Scope::Disk
                    | virt_doctor::rules::Scope::Interface
            )
        })
        .map(|r| r.code.clone())
        .collect();
    let applied = applicable_rules();
    let not: BTreeSet<String> = NOT_APPLIED.iter().map(|(c, _)| c.to_string()).collect();
    let unaccounted: Vec<&String> = domain_rules
        .iter()
        .filter(|c| !applied.contains(*c) && !not.contains(*c))
        .collect();
    assert!(
        unaccounted.is_empty(),
        "domain rules with no virt-xml/virsh step and no reason in NOT_APPLIED: {unaccounted:?}"
    );
    let stale: Vec<&String> = not
        .iter()
        .filter(|c| applied.contains(*c) || !domain_rules.contains(*c))
        .collect();
    assert!(
        stale.is_empty(),
        "NOT_APPLIED lists rules it should not: {stale:?}"
    );
}

#[test]
fn every_domain_fix_applies_in_a_real_libvirtd() {
    if let Some(why) = unavailable() {
        assert!(
            !common::required("VIRT_DOCTOR_E2E"),
            "VIRT_DOCTOR_E2E=require but this machine cannot run the apply test: {why}"
        );
        say(&format!(
            "SKIPPED every_domain_fix_applies_in_a_real_libvirtd: {why}"
        ));
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let mut defined = Defined(Vec::new());
    let mut fixed: BTreeMap<String, usize> = BTreeMap::new();
    let mut offline: Vec<String> = Vec::new();
    // Every scenario host's domains, and the domains written for this
    // test (fixtures/plan/), each with the host it is linted against.
    let mut cases: Vec<(PathBuf, String, PathBuf)> = Vec::new();
    for host in common::scenario_hosts() {
        let facts = json(&run(&["facts", host.to_str().unwrap()]));
        for d in facts["domains"].as_array().unwrap() {
            let name = d["name"].as_str().unwrap().to_owned();
            let path = host.join(format!("etc/libvirt/qemu/{name}.xml"));
            cases.push((host.clone(), name, path));
        }
    }
    for (name, file, host) in EXTRA {
        cases.push((
            common::fixture(host),
            name.to_string(),
            common::fixture(file),
        ));
    }
    let mut host_fixes_of: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    {
        for (host, name, path) in &cases {
            let (host, name) = (host.clone(), name.as_str());
            let host_fixes = host_fixes_of
                .entry(host.clone())
                .or_insert_with(|| host_plan_rules(&host))
                .clone();
            let Ok(xml) = std::fs::read_to_string(path) else {
                continue;
            };
            let before = work.path().join(format!("{PREFIX}{name}.xml"));
            std::fs::write(&before, definable(&xml)).unwrap();
            let steps = domain_steps(&before, &host);
            if steps.is_empty() {
                continue;
            }
            let full = format!("{PREFIX}{name}");
            let _ = virsh(&["undefine", "--nvram", &full]);
            let define = virsh(&["define", before.to_str().unwrap()]);
            let after = work.path().join(format!("{PREFIX}{name}.after.xml"));
            if define.status.success() {
                defined.0.push(full.clone());
                // Lint what libvirt holds, defaults filled in.
                let dumped = virsh(&["dumpxml", "--inactive", &full]);
                assert!(dumped.status.success(), "{}", stderr(&dumped));
                std::fs::write(&before, &dumped.stdout).unwrap();
            } else {
                offline.push(format!(
                    "{full} ({})",
                    stderr(&define).trim().lines().last().unwrap_or("")
                ));
            }
            let linted_before = findings(&lint(&before, &host));
            // The steps as the plan gives them for this very XML.
            let steps = domain_steps(&before, &host);
            let mut text = std::fs::read_to_string(&before).unwrap();
            for (rule, subject, argv) in &steps {
                let out = if define.status.success() {
                    run_argv(argv, None)
                } else {
                    // virt-xml's offline mode: XML in, XML out; no domain
                    // name, nothing defined.
                    assert_eq!(
                        argv[0], "virt-xml",
                        "{rule} {subject}: {argv:?} needs libvirt"
                    );
                    let args: Vec<String> = argv[2..argv.len() - 1].to_vec();
                    let mut offline_argv = vec!["virt-xml".to_owned()];
                    offline_argv.extend(args);
                    run_argv(&offline_argv, Some(&text))
                };
                assert!(
                    out.status.success(),
                    "{rule} on {subject} ({}): {argv:?} failed: {}",
                    host.display(),
                    stderr(&out)
                );
                if !define.status.success() {
                    text = stdout(&out);
                }
            }
            if define.status.success() {
                let dumped = virsh(&["dumpxml", "--inactive", &full]);
                std::fs::write(&after, &dumped.stdout).unwrap();
            } else {
                std::fs::write(&after, &text).unwrap();
                // Fixed, libvirt takes it.
                let define = virsh(&["define", after.to_str().unwrap()]);
                assert!(
                    define.status.success(),
                    "{full} still refused after its fixes: {}",
                    stderr(&define)
                );
                defined.0.push(full.clone());
            }
            let linted_after = findings(&lint(&after, &host));
            let planned: BTreeSet<(&str, &str)> = steps
                .iter()
                .map(|(r, s, _)| (r.as_str(), s.as_str()))
                .collect();
            for (rule, subject) in &planned {
                // DISK001 renames the disk: its subject names the old target.
                let still: Vec<_> = linted_after
                    .iter()
                    .filter(|(r, s, _)| r == rule && (s == subject || *rule == "DISK001"))
                    .collect();
                assert!(
                    still.is_empty(),
                    "{rule} on {subject} ({}) is still reported after its fix: {still:?}",
                    host.display()
                );
                *fixed.entry(rule.to_string()).or_default() += 1;
            }
            let warned_before: BTreeSet<&str> = linted_before
                .iter()
                .filter(|(_, _, sev)| sev != "info")
                .map(|(r, _, _)| r.as_str())
                .collect();
            // A new warning about the domain is a wrong fix. One about the
            // host can be a fair consequence (a virtio NIC needs
            // /dev/vhost-net), and then the host's own plan must fix it.
            let new: Vec<_> = linted_after
                .iter()
                .filter(|(r, subject, sev)| {
                    sev != "info"
                        && !warned_before.contains(r.as_str())
                        && (subject.starts_with(&full) || !host_fixes.contains(r))
                })
                .collect();
            assert!(
                new.is_empty(),
                "fixing {full} ({}) made new warnings: {new:?}",
                host.display()
            );
            // What the guest sees of its CPUs stays, unless a fix is about
            // exactly that (the vCPU count, the topology).
            if !planned
                .iter()
                .any(|(r, _)| ["CPU001", "CPU006"].contains(r))
            {
                let shape = |f: &Path| cpu_shape(&std::fs::read_to_string(f).unwrap());
                assert_eq!(
                    shape(&before),
                    shape(&after),
                    "fixing {full} changed its guest CPU topology or NUMA cells"
                );
            }
        }
    }
    say(&format!(
        "plan_apply: fixes applied per rule: {fixed:?}; applied offline (libvirt refused the mistuned XML): {offline:?}"
    ));
    let applicable = applicable_rules();
    let missing: Vec<&String> = applicable
        .iter()
        .filter(|c| !fixed.contains_key(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "rules with domain fixes that no fixture domain exercised: {missing:?}"
    );
}
