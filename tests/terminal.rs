//! What a person sees in a terminal, a pipe or a pasted ticket: fixes
//! that survive any width, the triage list, one-line output, flags where
//! people put them, and quiet ends when the reader goes away.

mod common;

use std::process::{Command, Stdio};

use common::{run_env, scenario_hosts, stderr, stdout};
use virt_doctor::prose::width_of;

fn findings(host: &str) -> Vec<serde_json::Value> {
    let o = run_env(&["analyze", host, "--format", "json"], &[]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    r["findings"].as_array().unwrap().clone()
}

/// At 80 columns, with and without `-v`: every line of every fix is
/// printed whole, on a line of its own (indented); no other line is wider
/// than 80. A fix wrapped or boxed cannot be pasted.
#[test]
fn at_80_columns_fixes_are_whole_and_nothing_else_is_wider() {
    for host in scenario_hosts() {
        let host = host.to_str().unwrap();
        let fixes: Vec<String> = findings(host)
            .iter()
            .flat_map(|f| {
                f["fix"]
                    .as_str()
                    .unwrap()
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| format!("    {}", l.trim_end()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for verbose in [false, true] {
            let mut args = vec!["analyze", host];
            if verbose {
                args.push("-v");
            }
            let table = stdout(&run_env(&args, &[("COLUMNS", "80")]));
            let lines: Vec<&str> = table.lines().collect();
            for fix in &fixes {
                assert!(
                    lines.contains(&fix.as_str()),
                    "{host}: fix line not printed whole: {fix:?}\n{table}"
                );
            }
            for line in &lines {
                assert!(
                    width_of(line) <= 80 || fixes.iter().any(|f| f == line),
                    "{host}: wider than 80: {line:?}"
                );
            }
            // No table borders anywhere near a fix.
            assert!(!table.contains('│') && !table.contains('┆'), "{host}");
        }
    }
}

/// Piped with no COLUMNS, the table is laid out for 80 columns; COLUMNS
/// wins when set.
#[test]
fn the_width_follows_columns_and_is_80_in_a_pipe() {
    let host = "fixtures/hosts/storage";
    let widest = |env: &[(&str, &str)]| {
        stdout(&run_env(&["analyze", host], env))
            .lines()
            .filter(|l| !l.starts_with("    "))
            .map(width_of)
            .max()
            .unwrap()
    };
    assert!(widest(&[]) <= 80);
    assert!(widest(&[]) > 70, "prose fills the line");
    assert!(widest(&[("COLUMNS", "60")]) <= 60);
    assert!(widest(&[("COLUMNS", "132")]) > 80);
}

/// `--format concise`: exactly one line per finding, `severity CODE
/// subject: title`, and nothing else.
#[test]
fn concise_prints_exactly_one_line_per_finding() {
    for host in scenario_hosts() {
        let host = host.to_str().unwrap();
        let expected: Vec<String> = findings(host)
            .iter()
            .map(|f| {
                format!(
                    "{} {} {}: {}",
                    f["severity"].as_str().unwrap(),
                    f["rule"].as_str().unwrap(),
                    f["subject"].as_str().unwrap(),
                    f["title"].as_str().unwrap()
                )
            })
            .collect();
        let o = run_env(&["analyze", host, "--format", "concise"], &[]);
        let lines: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
        assert_eq!(lines, expected, "{host}");
    }
    let o = run_env(
        &[
            "analyze",
            "fixtures/hosts/healthy-2node",
            "--format",
            "concise",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "");
}

/// The table opens with "Fix first": one line per rule with a critical or
/// warning finding, criticals first, and within a severity what touches
/// the host before what touches some domains; each line fits.
#[test]
fn fix_first_lists_what_matters_most_in_a_screen() {
    let host = "fixtures/hosts/storage";
    let table = stdout(&run_env(&["analyze", host], &[]));
    assert!(table.starts_with("Fix first\n─────────\n"), "{table}");
    let section: Vec<&str> = table
        .lines()
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect();
    let all = findings(host);
    let mut problems: Vec<(&str, &str, bool)> = Vec::new();
    for f in &all {
        let severity = f["severity"].as_str().unwrap();
        if severity == "info" {
            continue;
        }
        let rule = f["rule"].as_str().unwrap();
        let host_wide = f["domain"].is_null();
        match problems.iter_mut().find(|p| p.1 == rule) {
            Some(p) => p.2 |= host_wide,
            None => problems.push((severity, rule, host_wide)),
        }
    }
    assert!(problems.len() >= 5, "{problems:?}");
    let shown = section.len().min(15);
    assert_eq!(
        section.len(),
        if problems.len() > 15 {
            16
        } else {
            problems.len()
        },
        "{table}"
    );
    let rank = |s: &str| if s == "critical" { 0 } else { 1 };
    let mut last = (0, false);
    for line in &section[..shown] {
        assert!(width_of(line) <= 80, "{line}");
        let mut words = line.split_whitespace();
        let (severity, rule) = (words.next().unwrap(), words.next().unwrap());
        let p = problems
            .iter()
            .find(|p| p.1 == rule)
            .unwrap_or_else(|| panic!("{rule} is no critical or warning: {line}"));
        assert_eq!(p.0, severity, "{line}");
        let key = (rank(severity), !p.2);
        assert!(key >= last, "out of order at {line}\n{table}");
        last = key;
    }
    // The rules with several subjects say how many more.
    let storage_disk_rules = all.iter().filter(|f| f["rule"] == "DISK003").count();
    if storage_disk_rules > 1 {
        let line = section.iter().find(|l| l.contains(" DISK003 ")).unwrap();
        assert!(
            line.contains(&format!("(+{} more)", storage_disk_rules - 1)),
            "{line}"
        );
    }
}

/// The summary counts by severity and names who has the most findings.
#[test]
fn the_summary_names_who_has_the_most_findings() {
    let table = stdout(&run_env(&["analyze", "fixtures/hosts/hotsos-compute"], &[]));
    let summary: String = table
        .lines()
        .rev()
        .take_while(|l| !l.is_empty() && !l.starts_with("    "))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        summary,
        "0 critical, 1 warning, 5 info on compute4 (1 domain); most findings: compute4\n  (2), instance-00000001 (2), instance-00000002 (2)"
    );
}

/// A reader that goes away (`| head`) ends the output quietly: no error,
/// no panic, whatever the command.
#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let commands: &[&[&str]] = &[
        &["analyze", "fixtures/hosts/storage"],
        &["analyze", "fixtures/hosts/storage", "--format", "json"],
        &["analyze", "fixtures/hosts/storage", "--format", "concise"],
        &["analyze", "fixtures/hosts/storage", "--format", "markdown"],
        &["facts", "fixtures/hosts/storage"],
        &["facts", "fixtures/hosts/storage", "--format", "table"],
        &["rules", "list"],
        &["rules", "doc"],
        &["rules", "show", "DISK003"],
        &["completions", "bash"],
        &["man"],
        &["man", "analyze"],
        &["lint", "fixtures/hosts/storage/etc/libvirt/qemu"],
    ];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_virt-doctor"))
            .args(*args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before the first byte is written: every write fails.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{args:?}: {:?} {}",
            o.status,
            stderr(&o)
        );
        // lint's notice of skipped rules is all stderr may say.
        let said = stderr(&o);
        assert!(
            said.is_empty() || (args[0] == "lint" && said.lines().count() == 1),
            "{args:?}: {said}"
        );
        assert!(
            !said.contains("error") && !said.contains("panicked"),
            "{said}"
        );
    }
}

/// `rules list` and `facts --format table` fit 80 columns.
#[test]
fn lists_and_fact_tables_fit_80_columns() {
    for args in [
        vec!["rules", "list"],
        vec!["facts", "fixtures/hosts/storage", "--format", "table"],
        vec![
            "facts",
            "fixtures/hosts/hotsos-compute",
            "--format",
            "table",
        ],
    ] {
        let out = stdout(&run_env(&args, &[("COLUMNS", "80")]));
        assert!(out.lines().count() > 10, "{args:?}");
        for line in out.lines() {
            assert!(width_of(line) <= 80, "{args:?}: {line}");
        }
    }
    let list = stdout(&run_env(&["rules", "list"], &[]));
    assert!(
        list.contains(
            "\n  DISK003   warning   Disk cache mode `writeback` double-caches in host memory\n"
        ),
        "{list}"
    );
    let facts = stdout(&run_env(
        &["facts", "fixtures/hosts/hugepages", "--format", "table"],
        &[],
    ));
    assert!(
        facts.contains("2 MiB pages: 512 total, 512 free; 1 GiB pages: 320 total"),
        "{facts}"
    );
}

/// `--color`: always and never whatever the output is, auto only on a
/// terminal and without NO_COLOR; global flags go before or after the
/// subcommand; `analyse` is `analyze`.
#[test]
fn color_global_flags_and_the_british_spelling() {
    let host = "fixtures/hosts/hotsos-compute";
    let esc = |o: &std::process::Output| stdout(o).contains('\x1b');
    assert!(!esc(&run_env(&["analyze", host], &[])), "piped: no colour");
    assert!(esc(&run_env(&["analyze", host, "--color", "always"], &[])));
    assert!(esc(&run_env(&["--color", "always", "analyze", host], &[])));
    assert!(!esc(&run_env(&["analyze", host, "--color", "never"], &[])));
    let plain = stdout(&run_env(&["analyze", host], &[]));
    let coloured = stdout(&run_env(&["analyze", host, "--color", "always"], &[]));
    let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&coloured, "")
        .into_owned();
    assert_eq!(stripped, plain, "colour changes nothing but colour");

    let before = stdout(&run_env(&["-v", "analyse", host], &[]));
    let after = stdout(&run_env(&["analyze", host, "-v"], &[]));
    assert_eq!(before, after);
    assert!(before.contains("\n  evidence:\n"), "{before}");
}

/// `lint DIR` reads the directory's `*.xml`, as if each were named; the
/// notice about rules that need a host is one line, without VD003 (lint
/// raises that itself), and `-v` lists the rules.
#[test]
fn lint_walks_a_directory_and_says_what_it_skipped_in_one_line() {
    let dir = "fixtures/hosts/storage/etc/libvirt/qemu";
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path().display().to_string())
        .filter(|p| p.ends_with(".xml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2);
    let mut by_file = vec!["lint"];
    by_file.extend(files.iter().map(String::as_str));
    by_file.extend(["--format", "json"]);
    let of = |args: &[&str]| {
        let o = run_env(args, &[]);
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        common::rules_and_subjects(&r)
    };
    let walked = of(&["lint", dir, "--format", "json"]);
    assert!(!walked.is_empty());
    assert_eq!(walked, of(&by_file));

    let o = run_env(&["lint", dir], &[]);
    // With no host, the summary names what was linted.
    assert!(
        stdout(&o).contains(" on fixtures/hosts/storage/etc/libvirt/qemu ("),
        "{}",
        stdout(&o)
    );
    let said = stderr(&o);
    let notice: Vec<&str> = said.lines().collect();
    assert_eq!(notice.len(), 1, "{notice:?}");
    assert!(
        notice[0].ends_with("rules need host facts and were skipped (-v lists them); give --host SNAPSHOT to run them"),
        "{notice:?}"
    );
    let listed = stderr(&run_env(&["lint", dir, "-v"], &[]));
    assert!(listed.contains(" skipped (CPU001, CPU002, "), "{listed}");
    assert!(!listed.contains("VD003"), "{listed}");

    let empty = tempfile::tempdir().unwrap();
    let o = run_env(&["lint", empty.path().to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no *.xml files in this directory"),
        "{}",
        stderr(&o)
    );
}

/// A manual page per subcommand, as `git help` has them.
#[test]
fn every_subcommand_has_a_manual_page() {
    let page = stdout(&run_env(&["man", "analyze"], &[]));
    assert!(page.contains(".TH virt-doctor-analyze 1"), "{page}");
    assert!(page.contains("fail\\-on"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let o = run_env(&["man", "--dir", dir.path().to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for expected in [
        "virt-doctor.1",
        "virt-doctor-analyze.1",
        "virt-doctor-scan.1",
        "virt-doctor-lint.1",
        "virt-doctor-rules.1",
    ] {
        assert!(pages.iter().any(|p| p == expected), "{pages:?}");
    }
    let o = run_env(&["man", "nosuch"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no subcommand `nosuch`"),
        "{}",
        stderr(&o)
    );
}

/// `docs/rules-reference.md` is `virt-doctor rules doc`, for the rules as
/// they are now.
#[test]
fn the_rules_reference_is_in_step_with_the_rules() {
    let generated = stdout(&run_env(&["rules", "doc"], &[]));
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/rules-reference.md"
    ))
    .unwrap();
    assert!(
        generated == committed,
        "docs/rules-reference.md is stale: cargo run -- rules doc -o docs/rules-reference.md"
    );
    for needle in [
        "\n### DISK003 disk-cache-writeback\n",
        "\n#### What it does\n",
        "\n#### Why it matters\n",
        "\n#### When to ignore it\n",
        "\n#### Example\n\n```xml\n",
        "\nUse instead:\n\n```xml\n",
        "\n## CPU\n",
        "\n## NUMA\n",
    ] {
        assert!(generated.contains(needle), "{needle:?}");
    }
}

/// README shows `make demo`'s output as it really is: each of its lines,
/// in order, is a line of `analyze fixtures/hosts/hotsos-compute` (`...`
/// stands for lines left out), and so is its concise example.
#[test]
fn the_readme_shows_the_demo_as_it_really_looks() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```\nFix first\n")
        .expect("README shows the triage view")
        + 4;
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let real = stdout(&run_env(&["analyze", "fixtures/hosts/hotsos-compute"], &[]));
    let mut lines = real.lines();
    for shown in block.lines().filter(|l| *l != "...") {
        assert!(
            lines.any(|l| l == shown),
            "README line not in the real output (or out of order): {shown:?}\n{real}"
        );
    }
    let concise = stdout(&run_env(
        &[
            "analyze",
            "fixtures/hosts/hotsos-compute",
            "--format",
            "concise",
        ],
        &[],
    ));
    let example = "warning MEM012 compute4: vm.swappiness is high for a hypervisor\n";
    assert!(readme.contains(&format!("```\n{example}```")));
    assert!(concise.contains(example), "{concise}");
}
