//! JUnit XML, for CI systems that show test results: one test suite per
//! category, one test case per rule that found nothing, and one per rule
//! and subject that it found something on. Findings at or above
//! `--fail-on` are failures; the others pass with the finding as output.

use super::words::words;
use super::Report;
use crate::findings::{Severity, CATEGORIES};
use crate::lang::Lang;
use crate::rules::Catalog;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

pub fn render(
    report: &Report,
    catalog: &Catalog,
    fail_on: Option<Severity>,
    ran: &[String],
    lang: Lang,
) -> String {
    let mut suites = String::new();
    let (mut total_tests, mut total_failures) = (0, 0);
    let mut categories: Vec<&str> = CATEGORIES.to_vec();
    for r in catalog.all() {
        if !categories.contains(&r.category.as_str()) {
            categories.push(&r.category);
        }
    }
    for category in categories {
        let mut cases = String::new();
        let (mut tests, mut failures) = (0, 0);
        for rule in catalog
            .all()
            .filter(|r| r.category == category && ran.contains(&r.code))
        {
            let found: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.rule == rule.code)
                .collect();
            if found.is_empty() {
                tests += 1;
                cases.push_str(&format!(
                    "    <testcase classname=\"virt-doctor.{category}\" name=\"{} {}\"/>\n",
                    rule.code,
                    escape(&rule.name)
                ));
            }
            for f in found {
                tests += 1;
                let name = format!("{} {}: {}", f.rule, f.name, f.subject);
                let text = format!("{}\n\n{}\n{}", f.message, words(lang).fix, f.fix);
                let failing = fail_on.is_some_and(|t| f.severity >= t);
                if failing {
                    failures += 1;
                    cases.push_str(&format!(
                        "    <testcase classname=\"virt-doctor.{category}\" name=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                        escape(&name),
                        f.severity.as_str(),
                        escape(&f.title),
                        escape(&text)
                    ));
                } else {
                    cases.push_str(&format!(
                        "    <testcase classname=\"virt-doctor.{category}\" name=\"{}\">\n      <system-out>{}</system-out>\n    </testcase>\n",
                        escape(&name),
                        escape(&format!("{}: {}", super::words::severity(f.severity, lang), text))
                    ));
                }
            }
        }
        if tests == 0 {
            continue;
        }
        total_tests += tests;
        total_failures += failures;
        suites.push_str(&format!(
            "  <testsuite name=\"{category}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n"
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"virt-doctor {}\" tests=\"{total_tests}\" failures=\"{total_failures}\" errors=\"0\">\n{suites}</testsuites>\n",
        escape(report.target.hostname.as_deref().unwrap_or(&report.target.path))
    )
}
