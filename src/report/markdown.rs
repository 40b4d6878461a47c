//! Markdown, for pasting into a ticket or a chat: a summary line, then each
//! finding with its fix in a code block, worst first within each category.

use super::words::{self, words};
use super::Report;
use crate::lang::Lang;
use crate::prose::code_span;
use crate::rules::doc::markdown_prose;

pub fn render(report: &Report, lang: Lang) -> String {
    let host = report
        .target
        .hostname
        .as_deref()
        .unwrap_or(&report.target.path);
    let w = words(lang);
    let mut out = format!(
        "# virt-doctor: {host}\n\n**{}**\n",
        report.summary_line(lang)
    );
    if let Some(note) = report.coverage.as_ref().and_then(|c| c.note(lang)) {
        out.push_str(&format!("\n> {}{} {note}\n", w.note, lang.pick(":", "：")));
    }
    let mut category = "";
    for f in &report.findings {
        if f.category != category {
            category = &f.category;
            out.push_str(&format!("\n## {}\n", words::category(category, lang)));
        }
        out.push_str(&format!(
            "\n### {} `{}` {}: {}\n\n{}\n\n",
            words::severity(f.severity, lang),
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
            let label = w.evidence.trim_end_matches([':', '：']);
            out.push_str(&format!("- {label}: {at}{}\n", code_span(&e.text)));
        }
        let fix = w.fix.trim_end_matches([':', '：']);
        out.push_str(&format!(
            "\n{}{fix}{}\n\n```\n{}\n```\n",
            "",
            lang.pick(":", "："),
            f.fix.trim_end()
        ));
    }
    if !report.suppressed.is_empty() {
        let heading = w.suppressed.trim_end_matches([':', '：']);
        out.push_str(&format!("\n## {heading} ({})\n\n", report.suppressed.len()));
        for s in &report.suppressed {
            out.push_str(&format!(
                "- `{}` {}: {} ({}: {}; {})\n",
                s.finding.rule,
                s.finding.subject,
                s.finding.title,
                w.reason,
                s.reason,
                s.suppressed_by
            ));
        }
    }
    out
}
