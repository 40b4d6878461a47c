//! The terminal report: findings grouped by category, worst first, each
//! with what is wrong and the fix; `verbose` adds evidence and the rule's
//! explanation.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Color, ContentArrangement, Table};

use super::Report;
use crate::findings::{Severity, CATEGORIES};
use crate::rules::Catalog;
use crate::sources::Status;

/// `color`: severities in colour (a terminal without NO_COLOR);
/// `show_suppressed`: list what suppressions hid, with their reasons.
pub fn render(
    report: &Report,
    catalog: &Catalog,
    verbose: bool,
    width: Option<u16>,
    color: bool,
    show_suppressed: bool,
) -> String {
    let mut out = String::new();
    if let Some(note) = report.coverage.as_ref().and_then(|c| c.note()) {
        out.push_str(&format!("note: {note}\n"));
    }
    let mut categories: Vec<&str> = CATEGORIES.to_vec();
    for f in &report.findings {
        if !categories.contains(&f.category.as_str()) {
            categories.push(&f.category);
        }
    }
    for category in categories {
        let in_cat: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.category == category)
            .collect();
        if in_cat.is_empty() {
            continue;
        }
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_content_arrangement(ContentArrangement::Dynamic);
        if let Some(w) = width {
            t.set_width(w);
        }
        t.set_header(vec![
            category.to_uppercase().as_str(),
            "subject",
            "finding and fix",
        ]);
        for f in in_cat {
            let mut body = format!("{}\n{}\n\nfix:\n{}", f.title, f.message, f.fix);
            if verbose {
                for e in &f.evidence {
                    let at = match (&e.path, e.line) {
                        (Some(p), Some(l)) => format!("{p}:{l}: "),
                        (Some(p), None) => format!("{p}: "),
                        _ => String::new(),
                    };
                    body.push_str(&format!("\nevidence: {at}{}", e.text));
                }
                if let Some(rule) = catalog.find(&f.rule) {
                    body.push_str(&format!("\n\nwhy: {}", rule.explanation.trim()));
                }
            }
            let mut severity = Cell::new(format!("{}\n{}", f.severity.as_str(), f.rule));
            if color {
                severity = severity.fg(match f.severity {
                    Severity::Critical => Color::Red,
                    Severity::Warning => Color::Yellow,
                    Severity::Info => Color::Cyan,
                });
            }
            t.add_row(vec![severity, Cell::new(&f.subject), Cell::new(body)]);
        }
        out.push_str(&format!("{t}\n"));
    }
    let problems: Vec<_> = report
        .sources
        .iter()
        .filter(|s| matches!(s.status, Status::Malformed | Status::Unreadable))
        .collect();
    if !problems.is_empty() {
        out.push_str("data problems (the analysis used what could be read):\n");
        for s in problems {
            out.push_str(&format!(
                "  {} {}: {}\n",
                s.id,
                format!("{:?}", s.status).to_lowercase(),
                s.detail.as_deref().unwrap_or("")
            ));
        }
    }
    if show_suppressed && !report.suppressed.is_empty() {
        out.push_str("suppressed:\n");
        for s in &report.suppressed {
            out.push_str(&format!(
                "  {} {} {}: {} (reason: {}; {})\n",
                s.finding.severity.as_str(),
                s.finding.rule,
                s.finding.subject,
                s.finding.title,
                s.reason,
                s.suppressed_by
            ));
        }
    }
    if !report.rule_errors.is_empty() {
        out.push_str("rule errors (these rules could not be evaluated):\n");
        for e in &report.rule_errors {
            out.push_str(&format!("  {} on {}: {}\n", e.rule, e.subject, e.message));
        }
    }
    out.push_str(&report.summary_line());
    out.push('\n');
    out
}
