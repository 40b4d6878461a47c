//! Markdown, for pasting into a ticket or a chat: a summary line, then each
//! finding with its fix in a code block, worst first within each category.

use super::Report;
use crate::prose::code_span;
use crate::rules::doc::markdown_prose;

pub fn render(report: &Report) -> String {
    let host = report
        .target
        .hostname
        .as_deref()
        .unwrap_or(&report.target.path);
    let mut out = format!("# virt-doctor: {host}\n\n**{}**\n", report.summary_line());
    if let Some(note) = report.coverage.as_ref().and_then(|c| c.note()) {
        out.push_str(&format!("\n> Note: {note}\n"));
    }
    let mut category = "";
    for f in &report.findings {
        if f.category != category {
            category = &f.category;
            out.push_str(&format!(
                "\n## {}\n",
                crate::rules::doc::heading_of(category)
            ));
        }
        out.push_str(&format!(
            "\n### {} `{}` {}: {}\n\n{}\n\n",
            f.severity.as_str(),
            f.rule,
            markdown_prose(&f.subject),
            markdown_prose(&f.title),
            markdown_prose(&f.message)
        ));
        for e in &f.evidence {
            let at = match (&e.path, e.line) {
                (Some(p), Some(l)) => format!("{}: ", code_span(&format!("{p}:{l}"))),
                (Some(p), None) => format!("{}: ", code_span(p)),
                _ => String::new(),
            };
            // Evidence quotes XML and log lines: as code, not as HTML.
            out.push_str(&format!("- evidence: {at}{}\n", code_span(&e.text)));
        }
        out.push_str(&format!("\nFix:\n\n```\n{}\n```\n", f.fix.trim_end()));
    }
    if !report.suppressed.is_empty() {
        out.push_str(&format!(
            "\n## Suppressed ({})\n\n",
            report.suppressed.len()
        ));
        for s in &report.suppressed {
            out.push_str(&format!(
                "- `{}` {}: {} (reason: {}; {})\n",
                s.finding.rule, s.finding.subject, s.finding.title, s.reason, s.suppressed_by
            ));
        }
    }
    out
}
