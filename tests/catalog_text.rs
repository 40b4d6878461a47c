//! The words of the built-in catalog, as a person reads them in a report:
//! every prose field of every rule file under rules/ (title, message, fix,
//! subject, evidence text, and the docs: what, why, ignore, examples).
//! Counts are written with `plural`/`noun`/`times`, never as "1 time(s)";
//! every rule cites public documents as `Title URL`, never the notes it was
//! researched from. And one rule about the expressions' shape: no
//! per-domain rule walks every domain.

mod common;

/// Fields a report, `rules show` or a SARIF consumer shows to people.
/// (`references` too, checked below as a list.)
const PROSE: &[&str] = &[
    "title",
    "message",
    "fix",
    "subject",
    "what",
    "why",
    "ignore",
    "example_bad",
    "example_good",
    "example_log",
];

/// Text that must never reach a person, and why.
const FORBIDDEN: &[(&str, &str)] = &[
    ("(s)", "write the count with plural(n, 'word') or times(n)"),
    ("(es)", "write the count with plural(n, 'word', 'words')"),
    (
        "source document",
        "the research notes are not something users know",
    ),
    (
        "catalog ",
        "cite the public document, not the research notes",
    ),
    ("issue #", "cite the public document, not the issue"),
    ("seed ", "cite the public document, not the research notes"),
    (
        "threshold ours",
        "a threshold's meaning belongs in its parameter doc",
    ),
    ("VTOG", "write the guide's title and URL"),
];

/// The research notes' condition codes (`MEM10`, `CPU07`, `§1.1`): two
/// digits, where rule codes have three.
fn names_a_note_code(text: &str) -> Option<String> {
    static CODE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    CODE.get_or_init(|| {
        regex::Regex::new(r"\b(?:CPU|MEM|NET|NUMA|DSK|DISK|SNP|LOG|HOST|KSM|THP)\d{2}\b|§").unwrap()
    })
    .find(text)
    .map(|m| m.as_str().to_owned())
}

#[test]
fn no_rule_text_hedges_its_counts_or_names_the_research_notes() {
    let files = common::rule_files();
    assert!(files.len() >= 8, "{files:?}");
    let title_url = regex::Regex::new(r" https?://\S+$").unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let doc: toml::Value = toml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let rules = ["rule", "log_rule"]
            .iter()
            .filter_map(|k| doc.get(*k).and_then(toml::Value::as_array))
            .flatten();
        for rule in rules {
            let code = rule["code"].as_str().unwrap_or("?");
            let mut texts: Vec<(String, &str)> = PROSE
                .iter()
                .filter_map(|f| Some((f.to_string(), rule.get(*f)?.as_str()?)))
                .collect();
            let references: Vec<&str> = rule
                .get("references")
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
                .map(|r| r.as_str().unwrap_or(""))
                .collect();
            if references.is_empty() {
                problems.push(format!("{code} has no reference"));
            }
            for (i, r) in references.iter().enumerate() {
                // "Title https://…": something a user can open.
                if !title_url.is_match(r)
                    || r.matches("http://").count() + r.matches("https://").count() != 1
                {
                    problems.push(format!("{code} references[{i}] is not `Title URL`: {r}"));
                }
                texts.push((format!("references[{i}]"), r));
            }
            for (i, ev) in rule
                .get("evidence")
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(t) = ev.get("text").and_then(toml::Value::as_str) {
                    texts.push((format!("evidence[{i}].text"), t));
                }
            }
            // Fixes are printed indented, to be pasted: a heredoc's
            // terminator would be indented too, and the shell would wait
            // for it forever.
            if rule
                .get("fix")
                .and_then(toml::Value::as_str)
                .is_some_and(|f| f.contains("<<"))
            {
                problems.push(format!(
                    "{code} fix has a heredoc, which does not survive indentation: use echo/printf lines"
                ));
            }
            checked += 1;
            for (field, text) in texts {
                if let Some(note) = names_a_note_code(text) {
                    problems.push(format!(
                        "{}: {code} {field} has `{note}`: cite the public document, not the research notes",
                        file.file_name().unwrap().to_string_lossy()
                    ));
                }
                for (bad, why) in FORBIDDEN {
                    if text.contains(bad) {
                        problems.push(format!(
                            "{}: {code} {field} has `{bad}`: {why}",
                            file.file_name().unwrap().to_string_lossy()
                        ));
                    }
                }
            }
        }
    }
    assert!(checked >= 100, "only {checked} rules read");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Scopes evaluated once per domain, or per disk or interface of one.
const PER_DOMAIN_SCOPES: &[&str] = &["domain", "disk", "interface"];

/// A per-domain rule that walks `domains` is quadratic: 1,000 domains
/// cost a million evaluations (CPU020 once took 22 s in
/// `bench/analyze_1000.rs` that way). What needs every domain is derived
/// once in the facts instead.
#[test]
fn no_per_domain_rule_walks_every_domain() {
    let files = common::rule_files();
    let walk = regex::Regex::new(r"\bdomains\s*\.").unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let doc: toml::Value = toml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        for rule in doc
            .get("rule")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            let scope = rule
                .get("scope")
                .and_then(toml::Value::as_str)
                .unwrap_or("host");
            if !PER_DOMAIN_SCOPES.contains(&scope) {
                continue;
            }
            checked += 1;
            // Every field: predicates, templates and evidence expressions.
            let text = toml::to_string(rule).unwrap();
            if walk.is_match(&text) {
                problems.push(format!(
                    "{}: {} ({scope} scope) walks `domains`",
                    file.file_name().unwrap().to_string_lossy(),
                    rule["code"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    assert!(checked >= 40, "only {checked} per-domain rules read");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every built-in rule is documented as `ruff rule` documents one: what it
/// checks, why that matters, when to ignore it, and an example; the
/// examples are real: XML parses, and every example log line is matched
/// by the rule's own pattern (and not excluded), with the regex engine
/// the analysis uses.
#[test]
fn every_rule_is_documented_with_a_working_example() {
    let catalog = virt_doctor::rules::Catalog::load(&[]).unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for entry in catalog.entries() {
        let m = entry.meta();
        let doc = &m.doc;
        for (field, text) in [
            ("what", &doc.what),
            ("why", &doc.why),
            ("ignore", &doc.ignore),
        ] {
            if text.as_deref().is_none_or(|t| t.len() < 20) {
                problems.push(format!("{}: no `{field}` worth the name", m.code));
            }
        }
        match entry {
            virt_doctor::rules::doc::Entry::Fact(_) => {
                match (&doc.example_bad, &doc.example_good) {
                    (Some(bad), Some(good)) if bad != good => {
                        for (field, text) in [("example_bad", bad), ("example_good", good)] {
                            if text.trim_start().starts_with('<') {
                                if let Err(e) = roxmltree::Document::parse(text) {
                                    problems.push(format!("{}: {field} is not XML: {e}", m.code));
                                }
                            }
                        }
                    }
                    _ => problems.push(format!(
                        "{}: needs example_bad and a different example_good",
                        m.code
                    )),
                }
            }
            virt_doctor::rules::doc::Entry::Log(rule) => {
                let Some(log) = &doc.example_log else {
                    problems.push(format!("{}: no example_log", m.code));
                    continue;
                };
                for line in log.lines() {
                    if !rule.pattern.is_match(line) {
                        problems.push(format!(
                            "{}: its pattern misses its example: {line}",
                            m.code
                        ));
                    }
                    if rule.exclude.as_ref().is_some_and(|x| x.is_match(line)) {
                        problems.push(format!("{}: its exclude drops its example: {line}", m.code));
                    }
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 110, "only {checked} rules");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
