//! Every host snapshot under fixtures/hosts/ produces exactly the findings
//! in its `expected.json`, reviewed by hand: the whole finding a person
//! reads (rule, severity, domain, subject, message, fix and evidence).
//!
//! A golden file is never rewritten by the test. `VIRT_DOCTOR_BLESS=1
//! cargo test --test scenarios` writes `expected.json.new` beside each
//! golden file that differs (or is missing) and fails; a person reviews
//! `diff expected.json expected.json.new` and moves the file.
//!
//! The catalog is covered: every rule fires in at least one scenario, and
//! the well-tuned host produces no finding at all.

mod common;

use std::collections::BTreeSet;
use std::fs;

use serde::{Deserialize, Serialize};
use virt_doctor::analysis;
use virt_doctor::config::Config;
use virt_doctor::findings::{Evidence, Severity};
use virt_doctor::logs::Window;
use virt_doctor::rules::Catalog;
use virt_doctor::snapshot::Snapshot;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    rule: String,
    severity: Severity,
    domain: Option<String>,
    subject: String,
    message: String,
    fix: String,
    evidence: Vec<Evidence>,
    /// Log findings: the number of log lines grouped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    events: Option<usize>,
}

fn bless() -> bool {
    std::env::var_os("VIRT_DOCTOR_BLESS").is_some()
}

fn scenarios() -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(common::fixture("hosts"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("expected.json").is_file() || bless() && e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

fn findings_of(name: &str, catalog: &Catalog) -> Vec<Expected> {
    let snap = Snapshot::open(&common::fixture(&format!("hosts/{name}"))).unwrap();
    let eval = analysis::run(&snap, catalog, &Config::default(), Window::default());
    assert!(
        eval.rule_errors.is_empty(),
        "{name}: rule errors {:?}",
        eval.rule_errors
    );
    let mut got: Vec<Expected> = eval
        .findings
        .into_iter()
        .map(|f| Expected {
            rule: f.rule,
            severity: f.severity,
            domain: f.domain,
            subject: f.subject,
            message: f.message,
            fix: f.fix,
            evidence: f.evidence,
            events: f.events,
        })
        .collect();
    got.sort_by(|a, b| (&a.rule, &a.subject, &a.message).cmp(&(&b.rule, &b.subject, &b.message)));
    got
}

#[test]
fn each_scenario_gives_exactly_its_golden_findings() {
    let catalog = Catalog::load(&[]).unwrap();
    let names = scenarios();
    assert!(
        names.len() >= 9,
        "expected at least nine scenarios, found {names:?}"
    );
    let mut drafts = Vec::new();
    for name in names {
        let got = findings_of(&name, &catalog);
        // Twice in one process: maps in the rule engine are hash tables
        // with a fresh seed each, so text built in map order would differ.
        assert_eq!(
            findings_of(&name, &catalog),
            got,
            "{name}: findings differ between two runs"
        );
        let path = common::fixture(&format!("hosts/{name}/expected.json"));
        // An old-format golden file is only a reason to draft a new one.
        let want: Option<Vec<Expected>> =
            fs::read_to_string(&path)
                .ok()
                .and_then(|text| match serde_json::from_str(&text) {
                    Ok(v) => Some(v),
                    Err(_) if bless() => None,
                    Err(e) => panic!("{}: not a golden file: {e}", path.display()),
                });
        let draft = path.with_extension("json.new");
        if want.as_ref() == Some(&got) {
            continue;
        }
        if bless() {
            fs::write(&draft, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            drafts.push(draft.display().to_string());
            continue;
        }
        assert_eq!(
            Some(got),
            want,
            "{name}: findings differ from {} (VIRT_DOCTOR_BLESS=1 writes a draft to review)",
            path.display()
        );
    }
    assert!(
        drafts.is_empty(),
        "drafts written, to be read line by line and moved over the golden files by hand:\n  {}",
        drafts.join("\n  ")
    );
}

#[test]
fn the_well_tuned_host_has_no_findings() {
    let catalog = Catalog::load(&[]).unwrap();
    let got = findings_of("healthy-2node", &catalog);
    assert!(
        got.is_empty(),
        "false positives on the tuned host: {got:#?}"
    );
}

#[test]
fn every_rule_fires_somewhere() {
    let catalog = Catalog::load(&[]).unwrap();
    let mut fired = BTreeSet::new();
    for name in scenarios() {
        for f in findings_of(&name, &catalog) {
            fired.insert(f.rule);
        }
    }
    // VD rules have no predicate (`when = "false"`): the suppression stage
    // and `lint` raise them, and tests/reports.rs covers them.
    let silent: Vec<&str> = catalog
        .rules
        .iter()
        .filter(|r| r.when.source != "false")
        // Fleet rules compare hosts: tests/fleet.rs has them all fire on
        // fixtures/fleets/cluster.
        .filter(|r| !r.is_fleet())
        .map(|r| r.code.as_str())
        .filter(|c| !fired.contains(*c))
        .collect();
    assert!(silent.is_empty(), "rules no scenario triggers: {silent:?}");
}

/// Every fix one report prints can be applied, in any order, and every
/// setting stays in place: no two rules truncate the same configuration
/// file (`> /etc/...`), and no two rules write different final values to
/// the same sysfs or procfs file (one turning KSM off, the other back on).
#[test]
fn the_fixes_of_one_report_never_undo_each_other() {
    let catalog = Catalog::load(&[]).unwrap();
    // `echo VALUE > FILE` and `cat > FILE <<`, not `>>`.
    let write = regex::Regex::new(r"(?:echo\s+'?([^'>|]*?)'?\s*|cat\s+)>\s*(/\S+)").unwrap();
    let mut fights = Vec::new();
    let mut checked = 0;
    for name in scenarios() {
        // file -> (rule, final value written by that rule's fix)
        let mut writes: std::collections::BTreeMap<String, Vec<(String, String)>> =
            Default::default();
        for f in findings_of(&name, &catalog) {
            let mut last: std::collections::BTreeMap<String, String> = Default::default();
            for c in write.captures_iter(&f.fix) {
                last.insert(
                    c[2].to_owned(),
                    c.get(1).map_or("", |v| v.as_str()).trim().to_owned(),
                );
            }
            for (file, value) in last {
                checked += 1;
                writes
                    .entry(file)
                    .or_default()
                    .push((f.rule.clone(), value));
            }
        }
        for (file, by) in writes {
            let rules: BTreeSet<&str> = by.iter().map(|(r, _)| r.as_str()).collect();
            let values: BTreeSet<&str> = by.iter().map(|(_, v)| v.as_str()).collect();
            let fight = if file.starts_with("/etc/") {
                rules.len() > 1
            } else {
                values.len() > 1
            };
            if fight {
                fights.push(format!("{name}: {file} written by {by:?}"));
            }
        }
    }
    assert!(
        checked >= 10,
        "only {checked} writes found: is the pattern right?"
    );
    assert!(fights.is_empty(), "{}", fights.join("\n"));
}
