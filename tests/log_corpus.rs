//! Log rules against real logs. The syzkaller reports in the corpus come
//! labelled with the kernel's own classification (`TITLE:`), so recall is
//! measured on them; hits of every log rule over all corpus logs are
//! printed so false positives can be looked at. Skipped (and said so)
//! without ../shared/corpus.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use virt_doctor::logs::{self, LogRules, Window};
use virt_doctor::rules::Catalog;
use virt_doctor::snapshot::Snapshot;

/// The log rules that fire on `text` read as a file of the given place.
fn rules_hit(rules: &LogRules, place: &str, text: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(place);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    let snap = Snapshot::open(dir.path()).unwrap();
    let facts = virt_doctor::facts::gather(&snap);
    let a = logs::analyze(&snap, &facts, rules, Window::default(), Default::default());
    let mut rules: Vec<String> = a.findings.into_iter().map(|f| f.rule).collect();
    rules.dedup();
    rules
}

#[test]
#[cfg_attr(
    not(corpus_tests),
    ignore = "../shared/corpus is not present beside this checkout"
)]
fn labelled_syzkaller_reports() {
    let Some(corpus) = common::corpus_or_skip("labelled_syzkaller_reports") else {
        return;
    };
    let catalog = Catalog::load(&[]).unwrap();
    let rules = LogRules::new(catalog.log_rules.iter().collect()).unwrap();
    let dir = corpus.join("logs/kernel/syzkaller-reports");
    // title prefix -> the rule that must find it
    let expect = [
        ("BUG: soft lockup", "LOG010"),
        ("INFO: task hung", "LOG013"),
        ("INFO: rcu detected stall", "LOG012"),
    ];
    let mut tally: BTreeMap<&str, (usize, usize, Vec<String>)> = BTreeMap::new();
    for e in fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let text = fs::read(e.path()).unwrap();
        let head = String::from_utf8_lossy(&text[..text.len().min(400)]).into_owned();
        let Some(title) = head.lines().find_map(|l| l.strip_prefix("TITLE: ")) else {
            continue;
        };
        let Some((_, rule)) = expect.iter().find(|(p, _)| title.starts_with(p)) else {
            continue;
        };
        let hit = rules_hit(&rules, "var/log/dmesg", &text);
        let t = tally.entry(rule).or_default();
        t.0 += 1;
        if hit.iter().any(|r| r == rule) {
            t.1 += 1;
        } else {
            t.2.push(format!("{name}: {title}"));
        }
    }
    for (rule, (n, found, missed)) in &tally {
        eprintln!("{rule}: found in {found} of {n} labelled reports; missed: {missed:?}");
    }
    for (rule, min_recall) in [("LOG010", 0.9), ("LOG013", 0.9), ("LOG012", 0.8)] {
        let (n, found, _) = &tally[rule];
        assert!(*n >= 10, "{rule}: only {n} labelled reports");
        assert!(
            *found as f64 / *n as f64 >= min_recall,
            "{rule}: recall {found}/{n}"
        );
    }
}

fn files_below(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_below(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
#[cfg_attr(
    not(corpus_tests),
    ignore = "../shared/corpus is not present beside this checkout"
)]
fn every_log_rule_over_the_corpus_logs() {
    let Some(corpus) = common::corpus_or_skip("every_log_rule_over_the_corpus_logs") else {
        return;
    };
    let catalog = Catalog::load(&[]).unwrap();
    let rules = LogRules::new(catalog.log_rules.iter().collect()).unwrap();
    let mut files = Vec::new();
    files_below(&corpus.join("logs"), &mut files);
    files.sort();
    let mut hits: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &files {
        let name = f.to_string_lossy();
        if name.ends_with(".yaml")
            || name.ends_with(".tsv")
            || name.ends_with("LICENSE")
            || name.ends_with(".md")
        {
            continue;
        }
        // QEMU domain logs as such, everything else as kernel/syslog text.
        let place = if name.contains("/qemu/") && name.ends_with(".log") {
            "var/log/libvirt/qemu/guest.log"
        } else if name.contains("syslog") || name.contains("messages") || name.contains("kern.log")
        {
            "var/log/messages"
        } else {
            "var/log/dmesg"
        };
        for rule in rules_hit(&rules, place, &fs::read(f).unwrap()) {
            hits.entry(rule)
                .or_default()
                .push(f.strip_prefix(&corpus).unwrap().display().to_string());
        }
    }
    eprintln!("log rule hits over {} corpus log files:", files.len());
    for (rule, files) in &hits {
        eprintln!(
            "  {rule:<7} {:>4}  e.g. {}",
            files.len(),
            files.iter().take(2).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    // LOG001 (a QEMU process OOM-killed) has no real sample in the corpus;
    // fixtures/hosts/incident-logs covers it.
    for must in [
        "LOG002", "LOG010", "LOG012", "LOG013", "LOG020", "LOG030", "LOG032", "LOG033", "LOG061",
        "LOG063",
    ] {
        assert!(
            hits.contains_key(must),
            "{must} found nothing in the corpus"
        );
    }
}
