//! Every host snapshot under fixtures/hosts/ produces exactly the findings
//! in its `expected.json` (rule, severity, subject and the message with its
//! values), reviewed by hand. `VIRT_DOCTOR_BLESS=1 cargo test --test
//! scenarios` rewrites the golden files; review the diff before committing.
//!
//! The catalog is covered: every rule fires in at least one scenario, and
//! the well-tuned host produces no finding at all.

mod common;

use std::collections::BTreeSet;
use std::fs;

use serde::{Deserialize, Serialize};
use virt_doctor::analysis;
use virt_doctor::config::Config;
use virt_doctor::findings::Severity;
use virt_doctor::logs::Window;
use virt_doctor::rules::Catalog;
use virt_doctor::snapshot::Snapshot;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Expected {
    rule: String,
    severity: Severity,
    subject: String,
    message: String,
}

fn scenarios() -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(common::fixture("hosts"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.path().join("expected.json").is_file()
                || std::env::var_os("VIRT_DOCTOR_BLESS").is_some() && e.path().is_dir()
        })
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
            subject: f.subject,
            message: f.message,
        })
        .collect();
    got.sort_by(|a, b| (&a.rule, &a.subject).cmp(&(&b.rule, &b.subject)));
    got
}

#[test]
fn each_scenario_gives_exactly_its_golden_findings() {
    let catalog = Catalog::load(&[]).unwrap();
    let bless = std::env::var_os("VIRT_DOCTOR_BLESS").is_some();
    let names = scenarios();
    assert!(
        names.len() >= 9,
        "expected at least nine scenarios, found {names:?}"
    );
    for name in names {
        let got = findings_of(&name, &catalog);
        let path = common::fixture(&format!("hosts/{name}/expected.json"));
        if bless {
            fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let want: Vec<Expected> =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(got, want, "{name}: findings differ from {}", path.display());
    }
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
        .map(|r| r.code.as_str())
        .filter(|c| !fired.contains(*c))
        .collect();
    assert!(silent.is_empty(), "rules no scenario triggers: {silent:?}");
}
