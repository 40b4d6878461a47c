//! SARIF 2.1.0, for code-scanning dashboards (GitHub, GitLab, Azure
//! DevOps). Every catalog rule is described in `tool.driver.rules` with its
//! help text; each finding is a result located at the file and line of its
//! evidence: the domain XML element for configuration findings.

use crate::lang::Lang;
use serde_json::{json, Value};

use super::Report;
use crate::findings::Severity;
use crate::rules::Catalog;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A relative path as a URI reference: only what must be escaped is.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            '%' => out.push_str("%25"),
            _ => out.push(c),
        }
    }
    out
}

/// A stable fingerprint of rule and subject, so dashboards follow a
/// finding across runs.
fn fingerprint(text: &str) -> String {
    format!("{:016x}", crate::stable_hash(text))
}

pub fn render(report: &Report, catalog: &Catalog, lang: Lang) -> String {
    // Fact rules and log rules alike: every result's ruleId is here.
    let rules: Vec<Value> = catalog
        .entries()
        .map(|entry| {
            let r = entry.meta();
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": r.title_in(lang) },
                "fullDescription": { "text": r.doc_in(lang).what.as_deref().unwrap_or(r.title_in(lang)) },
                // What `rules show` prints, and the same in Markdown, which
                // code-scanning pages render.
                "help": {
                    "text": crate::rules::doc::text(entry, 80, lang),
                    "markdown": crate::rules::doc::markdown(entry, 2, lang),
                },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": { "category": r.category, "scope": r.kind, "tags": [r.category] },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let locations: Vec<Value> = f
                .evidence
                .iter()
                .filter_map(|e| {
                    let path = e.path.as_ref()?;
                    let mut physical = json!({ "artifactLocation": { "uri": uri(path), "uriBaseId": "SNAPSHOT" } });
                    if let Some(line) = e.line.filter(|l| *l > 0) {
                        physical["region"] = json!({ "startLine": line });
                    }
                    Some(json!({ "physicalLocation": physical, "message": { "text": e.text } }))
                })
                .collect();
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": { "text": format!("{}: {}\n\nFix:\n{}", f.subject, f.message, f.fix) },
                "partialFingerprints": { "virtDoctor/v1": fingerprint(&format!("{}|{}", f.rule, f.subject)) },
                "properties": { "subject": f.subject, "domain": f.domain, "category": f.category },
            });
            if let Some(i) = catalog.all().position(|r| r.code == f.rule) {
                result["ruleIndex"] = json!(i);
            }
            if !locations.is_empty() {
                result["locations"] = json!(locations);
            }
            result
        })
        .collect();
    let base = std::path::Path::new(&report.target.path);
    let abs = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_owned());
    let base_uri = format!(
        "file://{}/",
        uri(abs.to_string_lossy().trim_end_matches('/'))
    );
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "virt-doctor",
                "version": report.tool.version,
                "informationUri": "https://github.com/virt-doctor/virt-doctor",
                "rules": rules,
            }},
            "originalUriBaseIds": { "SNAPSHOT": { "uri": base_uri } },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).expect("SARIF serialises") + "\n"
}
