//! The terminal report. It opens with "Fix first": one line per problem
//! (criticals, then warnings, the ones touching most of the host first),
//! at most a screen. Then every finding by category, worst first: what is
//! wrong, then the fix. `verbose` adds evidence and the rule's why.
//!
//! A fix is printed verbatim, indented, outside any border: it is meant to
//! be pasted, and a table cell would wrap `echo '…' > /etc/sysctl.d/…`
//! across lines or put its own borders inside a heredoc. Everything else
//! is laid out to the width given.

use super::words::{self, words};
use super::Report;
use crate::findings::{Finding, Severity, CATEGORIES};
use crate::lang::Lang;
use crate::prose::{fit, reflow, width_of, wrap_hanging};
use crate::rules::Catalog;
use crate::sources::Status;

/// How the report is laid out.
pub struct Layout {
    /// Columns available (`prose::output_width`).
    pub width: usize,
    /// Severities in colour (ANSI).
    pub color: bool,
    /// Evidence and each rule's why.
    pub verbose: bool,
    /// List what suppressions hid, with their reasons.
    pub show_suppressed: bool,
    /// The language of virt-doctor's own words (the findings' texts are
    /// already in it).
    pub lang: Lang,
}

/// Lines of the triage list, not counting its heading and the line that
/// says how many more there are: it must fit a terminal's first screen.
const FIX_FIRST_LINES: usize = 15;

pub fn render(report: &Report, catalog: &Catalog, layout: &Layout) -> String {
    let width = layout.width;
    let lang = layout.lang;
    let mut out = String::new();
    if let Some(note) = report.coverage.as_ref().and_then(|c| c.note(lang)) {
        let label = words(lang).note;
        out.push_str(&wrap_hanging(
            &format!("{label}{} {note}", lang.pick(":", "：")),
            width,
            "",
            "  ",
        ));
        out.push('\n');
    }
    out.push_str(&fix_first(report, layout));
    let mut categories: Vec<&str> = CATEGORIES.to_vec();
    for f in &report.findings {
        if !categories.contains(&f.category.as_str()) {
            categories.push(&f.category);
        }
    }
    for category in categories {
        let in_category: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.category == category)
            .collect();
        if in_category.is_empty() {
            continue;
        }
        let heading = format!(
            "{} · {}",
            words::category(category, lang).to_uppercase(),
            counts(&in_category, lang)
        );
        out.push_str(&format!(
            "{heading}\n{}\n",
            "─".repeat(heading.chars().count())
        ));
        for f in in_category {
            out.push_str(&finding(f, catalog, layout));
            out.push('\n');
        }
    }
    out.push_str(&trailer(report, layout));
    out.push_str(&wrap_hanging(&report.summary_line(lang), width, "", "  "));
    out
}

/// A heading's underline, as wide as the heading is on the terminal.
fn underline(heading: &str) -> String {
    "─".repeat(width_of(heading))
}

/// `2 warnings, 1 info`.
fn counts(findings: &[&Finding], lang: Lang) -> String {
    [Severity::Critical, Severity::Warning, Severity::Info]
        .iter()
        .filter_map(|s| {
            let n = findings.iter().filter(|f| f.severity == *s).count();
            (n > 0).then(|| words::count(n, *s, lang))
        })
        .collect::<Vec<_>>()
        .join(lang.pick(", ", "，"))
}

/// `critical`, in red when colour is on. Padded (by columns: `严重` is
/// four wide) before colouring, so that the escape codes do not count.
fn severity_word(s: Severity, color: bool, pad: usize, lang: Lang) -> String {
    let name = words::severity(s, lang);
    let word = format!("{name}{}", " ".repeat(pad.saturating_sub(width_of(name))));
    if !color {
        return word;
    }
    let code = match s {
        Severity::Critical => "1;31",
        Severity::Warning => "33",
        Severity::Info => "36",
    };
    format!("\x1b[{code}m{word}\x1b[0m")
}

/// One problem, one line: the findings of one rule above info, grouped.
struct Problem<'a> {
    severity: Severity,
    rule: &'a str,
    title: &'a str,
    subjects: Vec<&'a str>,
    /// It concerns the host itself (a host, device or log finding), not
    /// only some domains.
    host_wide: bool,
}

/// Criticals, then warnings; within each, what touches the whole host,
/// then what touches most subjects.
fn problems(report: &Report) -> Vec<Problem<'_>> {
    let mut out: Vec<Problem> = Vec::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
    {
        match out.iter_mut().find(|p| p.rule == f.rule) {
            Some(p) => {
                p.severity = p.severity.max(f.severity);
                p.subjects.push(&f.subject);
                p.host_wide |= f.domain.is_none();
            }
            None => out.push(Problem {
                severity: f.severity,
                rule: &f.rule,
                title: &f.title,
                subjects: vec![&f.subject],
                host_wide: f.domain.is_none(),
            }),
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.host_wide.cmp(&a.host_wide))
            .then(b.subjects.len().cmp(&a.subjects.len()))
            .then(a.rule.cmp(b.rule))
    });
    out
}

fn fix_first(report: &Report, layout: &Layout) -> String {
    let lang = layout.lang;
    let problems = problems(report);
    if problems.is_empty() {
        return String::new();
    }
    let heading = words(lang).fix_first;
    let mut out = format!("{heading}\n{}\n", underline(heading));
    let colon = lang.pick(": ", "：");
    for p in problems.iter().take(FIX_FIRST_LINES) {
        let subject = match p.subjects.len() {
            1 => p.subjects[0].to_owned(),
            n => format!(
                "{}{}{}",
                p.subjects[0],
                lang.pick(" ", ""),
                words::more(n - 1, lang)
            ),
        };
        // Severity is padded to 8 columns and coloured after fitting.
        let rest = fit(
            &format!("{:<8} {subject}{colon}{}", p.rule, p.title),
            layout.width.saturating_sub(9),
        );
        out.push_str(&format!(
            "{} {rest}\n",
            severity_word(p.severity, layout.color, 8, lang)
        ));
    }
    if problems.len() > FIX_FIRST_LINES {
        out.push_str(&words::more_below(problems.len() - FIX_FIRST_LINES, lang));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// A finding: its line, what is wrong, the fix verbatim; with `verbose`,
/// the evidence and the rule's why.
fn finding(f: &Finding, catalog: &Catalog, layout: &Layout) -> String {
    let width = layout.width;
    let lang = layout.lang;
    let w = words(lang);
    let severity = words::severity(f.severity, lang);
    let head = wrap_hanging(
        &format!(
            "{severity} {} {}{}{}",
            f.rule,
            f.subject,
            lang.pick(": ", "："),
            f.title
        ),
        width,
        "",
        "  ",
    );
    let mut out = if layout.color {
        head.replacen(severity, &severity_word(f.severity, true, 0, lang), 1)
    } else {
        head
    };
    out.push_str(&reflow(&f.message, width, "  "));
    out.push_str(&fix_block(&f.fix, w.fix));
    if layout.verbose {
        if !f.evidence.is_empty() {
            out.push_str(&format!("  {}\n", w.evidence));
        }
        for e in &f.evidence {
            let at = match (&e.path, e.line) {
                (Some(p), Some(l)) => format!("{p}:{l}: "),
                (Some(p), None) => format!("{p}: "),
                _ => String::new(),
            };
            out.push_str(&wrap_hanging(
                &format!("{at}{}", e.text),
                width,
                "    ",
                "      ",
            ));
        }
        if let Some(why) = catalog.find(&f.rule).and_then(|r| r.doc_in(lang).why) {
            out.push_str(&format!("  {}\n", w.why));
            out.push_str(&reflow(&why, width, "    "));
        }
    }
    out
}

/// `  fix:` and the fix below it, each line verbatim and indented (blank
/// lines kept blank): the fleet report prints fixes the same way.
pub(super) fn fix_block(fix: &str, label: &str) -> String {
    let mut out = format!("  {label}\n");
    for line in fix.trim_matches('\n').lines() {
        if line.trim().is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("    {}\n", line.trim_end()));
        }
    }
    out
}

/// Data problems, suppressed findings and rule errors, each a short list.
fn trailer(report: &Report, layout: &Layout) -> String {
    let width = layout.width;
    let lang = layout.lang;
    let w = words(lang);
    let mut out = String::new();
    let problems: Vec<_> = report
        .sources
        .iter()
        .filter(|s| matches!(s.status, Status::Malformed | Status::Unreadable))
        .collect();
    if !problems.is_empty() {
        out.push_str(w.data_problems);
        out.push('\n');
        for s in problems {
            out.push_str(&wrap_hanging(
                &format!(
                    "{} {}: {}",
                    s.id,
                    s.status.word(lang),
                    s.detail.as_deref().unwrap_or("")
                ),
                width,
                "  ",
                "    ",
            ));
        }
    }
    if !report.suppressed.is_empty() && layout.show_suppressed {
        out.push_str(w.suppressed);
        out.push('\n');
        for s in &report.suppressed {
            out.push_str(&wrap_hanging(
                &format!(
                    "{} {} {}: {} ({}: {}; {})",
                    words::severity(s.finding.severity, lang),
                    s.finding.rule,
                    s.finding.subject,
                    s.finding.title,
                    w.reason,
                    s.reason,
                    s.suppressed_by
                ),
                width,
                "  ",
                "    ",
            ));
        }
    }
    if !report.rule_errors.is_empty() {
        out.push_str(w.rule_errors);
        out.push('\n');
        for e in &report.rule_errors {
            out.push_str(&wrap_hanging(
                &format!("{} on {}: {}", e.rule, e.subject, e.message),
                width,
                "  ",
                "    ",
            ));
        }
    }
    out
}
