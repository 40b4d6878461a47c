//! Simplified Chinese output: every built-in rule has it, with the same
//! variables and byte-identical commands; every finding on every fixture
//! host reads in Chinese with the English fix commands; English locales
//! print no Chinese; the language follows `--lang`, then gettext's order.

mod common;

use common::{stderr, stdout};
use virt_doctor::prose::width_of;
use virt_doctor::rules::expr::Template;

const FIELDS: [&str; 6] = ["title", "message", "fix", "what", "why", "ignore"];

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Lines of a fix that are code (commands, XML): indented.
fn code_lines(fix: &str) -> Vec<&str> {
    fix.lines()
        .filter(|l| l.starts_with([' ', '\t']) && !l.trim().is_empty())
        .map(str::trim_end)
        .collect()
}

/// Whether a fix has prose (a line not indented), which is translated; a
/// fix of commands alone is the same in every language.
fn has_prose(fix: &str) -> bool {
    fix.lines()
        .any(|l| !l.starts_with([' ', '\t']) && l.chars().any(char::is_alphabetic))
}

/// virt-doctor with a locale environment and nothing of the caller's.
fn run_in(env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    common::run_env(args, env)
}

const ZH: &[(&str, &str)] = &[("LANG", "zh_CN.UTF-8")];
const C: &[(&str, &str)] = &[("LANG", "C.UTF-8")];

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// The parameters a text reads (`params.max_ratio`).
fn params_of(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"params\.(\w+)").unwrap();
    sorted(re.captures_iter(text).map(|c| c[1].to_owned()).collect())
}

#[test]
fn every_rule_speaks_both_languages_with_the_same_commands() {
    let files = common::rule_files();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let doc: toml::Value = toml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        for kind in ["rule", "log_rule"] {
            for rule in doc
                .get(kind)
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
            {
                checked += 1;
                let code = rule["code"].as_str().unwrap();
                let Some(zh) = rule.get("zh-CN") else {
                    problems.push(format!("{code}: no [{kind}.zh-CN]"));
                    continue;
                };
                for field in FIELDS {
                    let en = rule.get(field).and_then(toml::Value::as_str).unwrap_or("");
                    let Some(text) = zh.get(field).and_then(toml::Value::as_str) else {
                        problems.push(format!("{code}: no zh-CN.{field}"));
                        continue;
                    };
                    let prose = field != "fix" || has_prose(en);
                    if prose && !has_chinese(text) {
                        problems.push(format!("{code}: zh-CN.{field} has no Chinese"));
                    }
                    if field == "message" || field == "fix" {
                        let vars = |t: &str| sorted(Template::compile(t).unwrap().variables());
                        if vars(en) != vars(text) || params_of(en) != params_of(text) {
                            problems.push(format!(
                                "{code}: zh-CN.{field} reads other variables: {:?} {:?} vs {:?} {:?}",
                                vars(en),
                                params_of(en),
                                vars(text),
                                params_of(text)
                            ));
                        }
                    }
                    if field == "fix" && code_lines(en) != code_lines(text) {
                        problems.push(format!(
                            "{code}: zh-CN.fix commands differ:\n  {:?}\n  {:?}",
                            code_lines(en),
                            code_lines(text)
                        ));
                    }
                }
            }
        }
    }
    assert!(checked >= 110, "{checked}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn scenario_hosts() -> Vec<String> {
    common::scenario_hosts()
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

fn findings(env: &[(&str, &str)], host: &str) -> Vec<serde_json::Value> {
    let o = run_in(env, &["analyze", host, "--format", "json"]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    r["findings"].as_array().unwrap().clone()
}

/// With `LANG=zh_CN.UTF-8` every finding has a Chinese title and message
/// and the English fix's commands, line for line; rule, subject, severity
/// and evidence (the data) are the same as in English; JSON keys and codes
/// stay English.
#[test]
fn every_finding_reads_in_chinese_with_the_english_commands() {
    let mut seen = 0;
    for host in scenario_hosts() {
        let en = findings(C, &host);
        let zh = findings(ZH, &host);
        assert_eq!(en.len(), zh.len(), "{host}");
        for (e, z) in en.iter().zip(&zh) {
            seen += 1;
            for same in [
                "rule",
                "name",
                "category",
                "severity",
                "domain",
                "subject",
                "evidence",
                "references",
            ] {
                assert_eq!(e[same], z[same], "{host} {} {same}", e["rule"]);
            }
            for text in ["title", "message"] {
                assert!(
                    has_chinese(z[text].as_str().unwrap()),
                    "{host} {} {text}: {}",
                    z["rule"],
                    z[text]
                );
            }
            let fix = z["fix"].as_str().unwrap();
            assert_eq!(
                has_chinese(fix),
                has_prose(e["fix"].as_str().unwrap()),
                "{host} {}: {fix}",
                z["rule"]
            );
            assert_eq!(
                code_lines(e["fix"].as_str().unwrap()),
                code_lines(z["fix"].as_str().unwrap()),
                "{host} {}",
                e["rule"]
            );
        }
    }
    assert!(seen >= 150, "{seen}");
}

/// An English locale (`C.UTF-8`) prints no Chinese anywhere: table with
/// evidence and why, JSON, Markdown, SARIF, JUnit, Prometheus, rule docs.
#[test]
fn english_locales_print_no_chinese() {
    for host in scenario_hosts() {
        for format in [
            "table",
            "json",
            "markdown",
            "sarif",
            "junit",
            "prometheus",
            "concise",
        ] {
            let o = run_in(C, &["analyze", &host, "--format", format, "-v"]);
            assert!(!has_chinese(&stdout(&o)), "{host} {format}");
        }
    }
    for args in [
        vec!["rules", "list"],
        vec!["rules", "doc"],
        vec!["rules", "show", "MEM001"],
    ] {
        assert!(!has_chinese(&stdout(&run_in(C, &args))), "{args:?}");
    }
}

/// `--lang` first; then LC_ALL, LC_MESSAGES, LANG as gettext reads them;
/// `C`/`POSIX` and languages virt-doctor lacks are English.
#[test]
fn the_language_follows_lang_then_the_locale() {
    let host = "fixtures/hosts/hotsos-compute";
    let chinese = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["analyze", host];
        args.extend_from_slice(extra);
        has_chinese(&stdout(&run_in(env, &args)))
    };
    assert!(chinese(&[("LANG", "zh_CN.UTF-8")], &[]));
    assert!(chinese(
        &[("LANG", "en_US.UTF-8"), ("LC_MESSAGES", "zh_CN.UTF-8")],
        &[]
    ));
    assert!(!chinese(&[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "C")], &[]));
    assert!(!chinese(
        &[("LANG", "zh_CN.UTF-8"), ("LC_MESSAGES", "POSIX")],
        &[]
    ));
    assert!(
        !chinese(&[("LANG", "zh_TW.UTF-8")], &[]),
        "Traditional is not Simplified"
    );
    assert!(!chinese(&[("LANG", "de_DE.UTF-8")], &[]));
    assert!(!chinese(&[], &[]));
    assert!(chinese(&[("LANG", "C")], &["--lang", "zh-CN"]));
    assert!(chinese(&[], &["--lang", "zh_CN.UTF-8"]));
    assert!(!chinese(&[("LANG", "zh_CN.UTF-8")], &["--lang", "en"]));
    let o = run_in(&[], &["analyze", host, "--lang", "fr"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("virt-doctor speaks en and zh-CN"),
        "{}",
        stderr(&o)
    );
}

/// `rules show X --lang zh-CN` explains every rule in Chinese, with the
/// same examples, predicates and references.
#[test]
fn rules_show_explains_every_rule_in_chinese() {
    let list = run_in(C, &["rules", "list", "--format", "json"]);
    let rules: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    for r in &rules {
        let code = r["code"].as_str().unwrap();
        let text = stdout(&run_in(&[], &["rules", "show", code, "--lang", "zh-CN"]));
        for heading in [
            "\n检查内容\n  ",
            "\n为什么重要\n  ",
            "\n何时可以忽略\n  ",
            "\n判定方式\n",
            "\n参考资料\n",
        ] {
            assert!(text.contains(heading), "{code}: {heading:?} in\n{text}");
        }
        let what = text
            .split("\n检查内容\n")
            .nth(1)
            .unwrap()
            .split("\n\n")
            .next()
            .unwrap();
        assert!(has_chinese(what), "{code}: {what}");
        let en = stdout(&run_in(C, &["rules", "show", code]));
        // Code is printed whole, the same lines in both languages; the
        // sentence saying which lines a log rule reads is prose, laid out
        // for the width, so its lines are left out.
        let code_part = |t: &str| -> Vec<String> {
            let mut in_lines_read = false;
            t.lines()
                .filter(|l| {
                    if !l.starts_with("    ") {
                        in_lines_read = matches!(l.trim(), "lines read:" | "读取的行：");
                        return false;
                    }
                    !in_lines_read
                })
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(code_part(&en).len(), code_part(&text).len(), "{code}");
    }
}

/// Chinese text is laid out by columns (an ideograph is two): at 80 and
/// 120 columns no line but a fix line is wider, and fix lines are whole.
#[test]
fn chinese_tables_fit_80_and_120_columns() {
    for host in scenario_hosts() {
        let fixes: Vec<String> = findings(ZH, &host)
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
        for width in ["80", "120"] {
            let env = [("LANG", "zh_CN.UTF-8"), ("COLUMNS", width)];
            let table = stdout(&run_in(&env, &["analyze", &host, "-v"]));
            let lines: Vec<&str> = table.lines().collect();
            for fix in &fixes {
                assert!(lines.contains(&fix.as_str()), "{host}: {fix}");
            }
            let limit: usize = width.parse().unwrap();
            for line in lines {
                assert!(
                    width_of(line) <= limit || fixes.iter().any(|f| f == line),
                    "{host} at {width}: {line}"
                );
            }
        }
    }
}

/// `docs/rules-reference.zh-CN.md` is `rules doc --lang zh-CN`.
#[test]
fn the_chinese_rules_reference_is_in_step() {
    let generated = stdout(&run_in(&[], &["rules", "doc", "--lang", "zh-CN"]));
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/rules-reference.zh-CN.md"
    ))
    .unwrap();
    assert!(
        generated == committed,
        "stale: cargo run -- rules doc --lang zh-CN -o docs/rules-reference.zh-CN.md"
    );
    assert!(generated.starts_with("# 规则参考\n"));
}

/// README.zh-CN.md shows the Chinese report as it really is.
#[test]
fn the_chinese_readme_shows_the_real_output() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.zh-CN.md")).unwrap();
    let start = readme.find("```\n优先处理\n").expect("the triage view") + 4;
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let real = stdout(&run_in(ZH, &["analyze", "fixtures/hosts/hotsos-compute"]));
    let mut lines = real.lines();
    for shown in block.lines().filter(|l| *l != "...") {
        assert!(
            lines.any(|l| l == shown),
            "not in the real output: {shown:?}\n{real}"
        );
    }
}
