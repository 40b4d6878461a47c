//! Every parser over the whole shared corpus (../shared/corpus, present on
//! CI and developer machines; these tests say SKIPPED in a plain clone).
//! Nothing may panic; every problem names a line or the whole file; and the
//! domain XMLs that libvirt's own test suite rejects on purpose are never
//! passed silently.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use virt_doctor::parse::{self, Problem};

fn files_below(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            files_below(&p, out);
        } else if ft.is_file() {
            out.push(p);
        }
    }
}

/// Which parser a corpus file is for, by its name and place.
fn parser_for(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent()?.file_name()?.to_str()?;
    Some(match (parent, name) {
        (_, n) if n.ends_with(".xml") => "xml",
        (_, "meminfo") => "meminfo",
        (_, "cpuinfo") => "cpuinfo",
        ("proc", "stat") => "stat",
        ("proc", "diskstats") => "diskstats",
        ("proc", "loadavg") => "loadavg",
        ("proc", "uptime") => "uptime",
        ("net", "dev") => "netdev",
        ("pressure", "cpu" | "memory" | "io") => "pressure",
        (_, "lscpu") => "lscpu",
        (_, "sysctl_-a") => "sysctl",
        (_, "numactl_--hardware") => "numactl",
        _ => return None,
    })
}

fn run_parser(kind: &str, text: &str) -> Vec<Problem> {
    match kind {
        "xml" => {
            // Dispatch on the root element, as the source table would by path.
            if text.contains("<domainsnapshot") {
                parse::domain_snapshot::parse(text).problems
            } else if text.contains("<capabilities") {
                parse::capabilities::parse(text).problems
            } else {
                parse::domain::parse(text).problems
            }
        }
        "meminfo" => parse::meminfo::parse(text).problems,
        "cpuinfo" => parse::cpuinfo::parse(text).problems,
        "stat" => parse::stat::parse(text).problems,
        "diskstats" => parse::diskstats::parse(text).problems,
        "loadavg" => parse::loadavg::parse(text).problems,
        "uptime" => parse::uptime::parse(text).problems,
        "netdev" => parse::netdev::parse(text).problems,
        "pressure" => parse::pressure::parse(text).problems,
        "lscpu" => parse::lscpu::parse(text).problems,
        "sysctl" => parse::sysctl::parse_sysctl_a(text).problems,
        "numactl" => parse::numactl::parse(text).problems,
        _ => unreachable!(),
    }
}

#[test]
#[cfg_attr(
    not(corpus_tests),
    ignore = "../shared/corpus is not present beside this checkout"
)]
fn every_parser_over_the_corpus() {
    let Some(corpus) = common::corpus_or_skip("every_parser_over_the_corpus") else {
        return;
    };
    let mut files = Vec::new();
    files_below(&corpus, &mut files);
    // parser -> (files, files with problems)
    let mut tally: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for path in &files {
        let Some(kind) = parser_for(path) else {
            continue;
        };
        let bytes = fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let problems = run_parser(kind, &text);
        let t = tally.entry(kind).or_default();
        t.0 += 1;
        if !problems.is_empty() {
            t.1 += 1;
        }
        for p in &problems {
            assert!(
                !p.message.is_empty(),
                "{}: empty problem message",
                path.display()
            );
            if let Some(line) = p.line {
                let lines = text.lines().count().max(1);
                assert!(
                    line >= 1 && line <= lines + 1,
                    "{}: line {line} beyond the file",
                    path.display()
                );
            }
        }
    }
    eprintln!("parser      files  with-problems");
    for (k, (n, bad)) in &tally {
        eprintln!("{k:<10} {n:>6} {bad:>14}");
    }
    assert!(
        tally["xml"].0 >= 2000,
        "expected the 2,000+ domain XMLs, found {}",
        tally["xml"].0
    );
    assert!(tally["meminfo"].0 >= 30);
    assert!(tally["cpuinfo"].0 >= 50);
}

/// The test names libvirt expects to fail: `<name>.<caps variant>.err`.
fn expected_error_names(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let f = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = f.strip_suffix(".err") {
            // Strip the caps suffix (`.x86_64-latest`, `.x86_64-9.0.0`, ...).
            let name = match stem.split_once('.') {
                Some((n, _)) => n,
                None => stem,
            };
            out.insert(name.to_owned());
        }
    }
    out
}

#[test]
#[cfg_attr(
    not(corpus_tests),
    ignore = "../shared/corpus is not present beside this checkout"
)]
fn libvirt_negative_cases_are_never_silently_fine() {
    let Some(corpus) = common::corpus_or_skip("libvirt_negative_cases_are_never_silently_fine")
    else {
        return;
    };
    let sets = [
        (
            "libvirt-9.0.0",
            "qemuxml2argvdata",
            "qemuxml2argvdata-expected-errors",
        ),
        (
            "libvirt-11.3.0",
            "qemuxmlconfdata-new-inputs",
            "qemuxmlconfdata-new-inputs-expected-errors",
        ),
    ];
    // One line per case, `flagged` or `accepted`, then the case and
    // libvirt's own reason (or the parser's problem).
    let mut lines = Vec::new();
    for (version, inputs, errors) in sets {
        let dir = corpus.join("libvirt-xml").join(version);
        let errors_dir = dir.join(errors);
        for name in expected_error_names(&errors_dir) {
            let Ok(text) = fs::read_to_string(dir.join(inputs).join(format!("{name}.xml"))) else {
                continue;
            };
            let p = parse::domain::parse(&text);
            let why = fs::read_dir(&errors_dir)
                .unwrap()
                .flatten()
                .find(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(&format!("{name}."))
                })
                .and_then(|e| fs::read_to_string(e.path()).ok())
                .unwrap_or_default();
            let why = why.lines().next().unwrap_or("").trim().to_owned();
            lines.push(match p.problems.first() {
                None => format!("accepted {version}/{name}: libvirt says {why}"),
                Some(problem) => format!("flagged  {version}/{name}: {}", problem.message),
            });
        }
    }
    lines.sort();
    let flagged = lines.iter().filter(|l| l.starts_with("flagged")).count();
    eprintln!(
        "libvirt negative cases: {} in all, {flagged} flagged by the parser, {} accepted",
        lines.len(),
        lines.len() - flagged
    );
    // Most of libvirt's rejections depend on QEMU capabilities or driver
    // policy that a static parse cannot know; rules see those as valid
    // domains. The list is checked in, so a case moving between flagged
    // and accepted (a parser change) shows in review.
    let listed = common::fixture("libvirt/negative-cases.txt");
    let got = lines.join("\n") + "\n";
    let want = fs::read_to_string(&listed).unwrap_or_default();
    if got != want {
        let draft = listed.with_extension("txt.new");
        fs::write(&draft, &got).unwrap();
        let old: BTreeSet<&str> = want.lines().collect();
        let new: BTreeSet<&str> = got.lines().collect();
        panic!(
            "libvirt's negative cases changed against {} (draft in {}):\n{}",
            listed.display(),
            draft.display(),
            old.symmetric_difference(&new)
                .map(|l| format!("{} {l}", if new.contains(l) { "+" } else { "-" }))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(lines.len() > 200, "negative cases were not found");
    assert!(flagged > 0);
    // The one file libvirt ships as not well-formed must be malformed.
    let broken = fs::read_to_string(
        corpus.join("libvirt-xml/libvirt-11.3.0/qemuxmlconfdata-new-inputs/broken-xml-invalid.xml"),
    )
    .unwrap();
    let p = parse::domain::parse(&broken);
    assert!(p.value.is_none());
    assert!(
        p.problems[0].message.starts_with("not well-formed XML"),
        "{:?}",
        p.problems
    );
}

#[test]
#[cfg_attr(
    not(corpus_tests),
    ignore = "../shared/corpus is not present beside this checkout"
)]
fn every_corpus_host_tree_gives_facts() {
    let Some(corpus) = common::corpus_or_skip("every_corpus_host_tree_gives_facts") else {
        return;
    };
    // Any directory holding proc/ or sys/ is a host root.
    let mut roots = Vec::new();
    let mut stack = vec![corpus.clone()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        let mut is_root = false;
        for e in entries.flatten() {
            if e.file_type().unwrap().is_dir() {
                let n = e.file_name();
                if n == "proc" || n == "sys" {
                    is_root = true;
                } else {
                    stack.push(e.path());
                }
            }
        }
        if is_root {
            roots.push(d);
        }
    }
    roots.sort();
    // Every root is judged by what it holds: a CPU source must give a CPU
    // count, a meminfo a memory total, a NUMA node directory the nodes.
    // Known gaps are listed with their reason, so a new one shows.
    let gaps: &[(&str, &str)] = &[(
        "util-linux-lscpu-dumps/extracted/sparc64",
        "sparc's cpuinfo counts CPUs in `ncpus active`, not per-processor blocks",
    )];
    let (mut with_cpu, mut with_memory, mut with_numa) = (0, 0, 0);
    let mut missed = Vec::new();
    for root in &roots {
        let rel = root.strip_prefix(&corpus).unwrap().display().to_string();
        let rel = rel.trim_start_matches("procfs/");
        let has = |p: &str| root.join(p).exists();
        let f = common::facts_of(root);
        let cpu_source = has("proc/cpuinfo")
            || has("sys/devices/system/cpu/online")
            || has("sos_commands/processor/lscpu");
        if f.host.cpu.logical.is_some() {
            with_cpu += 1;
        } else if cpu_source && !gaps.iter().any(|(g, _)| *g == rel) {
            missed.push(format!("{rel}: a CPU source but no CPU count"));
        }
        if f.host.memory.total_kib.is_some() {
            with_memory += 1;
        } else if has("proc/meminfo") {
            missed.push(format!("{rel}: proc/meminfo but no MemTotal"));
        }
        if !f.host.numa.nodes.is_empty() {
            with_numa += 1;
        } else if has("sys/devices/system/node/node0") {
            missed.push(format!(
                "{rel}: sys/devices/system/node/node0 but no NUMA node"
            ));
        }
        for s in &f.sources {
            if let Some(d) = &s.detail {
                assert!(!d.is_empty(), "{rel}: source {} has an empty detail", s.id);
            }
        }
    }
    eprintln!(
        "{} host trees read: {with_cpu} with a CPU count, {with_memory} with MemTotal, {with_numa} with NUMA nodes",
        roots.len()
    );
    assert!(missed.is_empty(), "{}", missed.join("\n"));
    // The corpus is fixed (MANIFEST.tsv): these totals change only when
    // what virt-doctor reads from it changes.
    assert_eq!(
        (roots.len(), with_cpu, with_memory, with_numa),
        (66, 57, 38, 36),
        "host trees, with a CPU count, with MemTotal, with NUMA nodes"
    );
}

/// Every domain XML of the corpus, analysed as the only domain of an
/// otherwise empty host: no panic, no rule error. Prints how often each rule
/// fires, which is where false positives show first.
#[test]
#[cfg_attr(
    not(corpus_tests),
    ignore = "../shared/corpus is not present beside this checkout"
)]
fn analyze_every_corpus_domain() {
    use virt_doctor::config::Config;
    use virt_doctor::facts::{self, Target};
    use virt_doctor::rules::{self, Catalog};
    use virt_doctor::sources::{DomainEntry, DomainOrigin, HostData};

    let Some(corpus) = common::corpus_or_skip("analyze_every_corpus_domain") else {
        return;
    };
    let catalog = Catalog::load(&[]).unwrap();
    let mut files = Vec::new();
    files_below(&corpus.join("libvirt-xml"), &mut files);
    files.sort();
    let mut per_rule: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (mut analysed, mut errors) = (0, Vec::new());
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
    {
        let text = String::from_utf8_lossy(&fs::read(path).unwrap()).into_owned();
        let Some(domain) = parse::domain::parse(&text).value else {
            continue;
        };
        let mut data = HostData::default();
        data.domains.insert(
            domain.name.clone(),
            DomainEntry {
                domain,
                origin: DomainOrigin::Persistent,
                path: path.display().to_string(),
                persistent: true,
                active: false,
            },
        );
        let f = facts::build(
            &data,
            Vec::new(),
            Target {
                kind: virt_doctor::snapshot::Kind::Directory,
                path: path.display().to_string(),
            },
        );
        let eval = rules::evaluate(&catalog, &f, &Config::default());
        analysed += 1;
        for e in eval.errors {
            errors.push(format!(
                "{}: {} on {}: {}",
                path.display(),
                e.rule,
                e.subject,
                e.message
            ));
        }
        for finding in eval.findings {
            let n = per_rule.entry(finding.rule.clone()).or_default();
            *n += 1;
            if *n <= 3 {
                examples.entry(finding.rule).or_default().push(format!(
                    "{}: {}",
                    path.strip_prefix(&corpus).unwrap_or(path).display(),
                    finding.message
                ));
            }
        }
    }
    let mut counts: Vec<_> = per_rule.into_iter().collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    eprintln!("{analysed} corpus domains analysed; findings per rule:");
    for (rule, n) in &counts {
        eprintln!(
            "  {rule:<8} {n:>5}   e.g. {}",
            examples[rule].join("\n                   ")
        );
    }
    assert!(analysed >= 2000, "only {analysed} domains analysed");
    assert!(
        errors.is_empty(),
        "{} rule errors, first: {:#?}",
        errors.len(),
        &errors[..errors.len().min(10)]
    );
}

/// VD003 says "libvirt would refuse this file". libvirt's own schema is
/// the oracle: every corpus XML that `xmllint --relaxng domain.rng` (what
/// `virt-xml-validate` runs) accepts must parse without a problem, except
/// the files libvirt's own test suite expects it to reject after the
/// schema (its `.err` cases: no memory at all, a queue size that is not a
/// power of two), which must keep theirs.
#[test]
#[cfg_attr(
    not(corpus_tests),
    ignore = "../shared/corpus is not present beside this checkout"
)]
fn files_libvirts_schema_accepts_are_not_called_invalid() {
    let Some(corpus) =
        common::corpus_or_skip("files_libvirts_schema_accepts_are_not_called_invalid")
    else {
        return;
    };
    let schema = Path::new("/usr/share/libvirt/schemas/domain.rng");
    let xmllint = std::process::Command::new("xmllint")
        .arg("--version")
        .output();
    if !schema.is_file() || xmllint.is_err() {
        assert!(
            !common::required("VIRT_DOCTOR_CORPUS"),
            "xmllint (libxml2-utils) and libvirt's {} are needed: `make deps` installs them",
            schema.display()
        );
        common::say("SKIPPED files_libvirts_schema_accepts_are_not_called_invalid: xmllint or libvirt's schemas are not installed");
        return;
    }
    let mut files = Vec::new();
    files_below(&corpus.join("libvirt-xml"), &mut files);
    files.retain(|p| p.extension().is_some_and(|x| x == "xml"));
    files.sort();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--relaxng"])
        .arg(schema)
        .args(&files)
        .output()
        .unwrap();
    let verdicts = String::from_utf8_lossy(&out.stderr);
    let valid: Vec<&str> = verdicts
        .lines()
        .filter_map(|l| l.strip_suffix(" validates"))
        .collect();
    let mut rejected_by_libvirt = BTreeSet::new();
    for set in [
        "libvirt-9.0.0/qemuxml2argvdata-expected-errors",
        "libvirt-11.3.0/qemuxmlconfdata-new-inputs-expected-errors",
    ] {
        rejected_by_libvirt.extend(expected_error_names(&corpus.join("libvirt-xml").join(set)));
    }
    let (mut clean, mut kept, mut wrong) = (0, Vec::new(), Vec::new());
    for file in &valid {
        let text = String::from_utf8_lossy(&fs::read(file).unwrap()).into_owned();
        let problems = parse::domain::parse(&text).problems;
        let name = Path::new(file)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        match (problems.first(), rejected_by_libvirt.contains(&name)) {
            (None, _) => clean += 1,
            (Some(p), true) => kept.push(format!("{name}: {}", p.message)),
            (Some(p), false) => wrong.push(format!("{file}: {}", p.message)),
        }
    }
    common::say(&format!(
        "libvirt's schema accepts {} corpus files: {clean} parse cleanly, {} are libvirt's own rejections after the schema",
        valid.len(),
        kept.len()
    ));
    assert!(valid.len() > 1800, "xmllint accepted only {}", valid.len());
    assert!(
        wrong.is_empty(),
        "called invalid although libvirt's schema accepts them:\n{}",
        wrong.join("\n")
    );
    assert_eq!(kept.len(), 3, "{kept:#?}");
}
