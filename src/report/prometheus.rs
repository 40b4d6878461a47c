//! Prometheus text exposition for node_exporter's textfile collector:
//! run `virt-doctor scan --format prometheus > /var/lib/node_exporter/textfile/virt_doctor.prom`
//! from a timer and the fleet's existing Prometheus scrapes the findings.

use std::collections::BTreeMap;

use super::Report;
use crate::findings::Severity;

/// Label values escape backslash, double quote and newline.
pub(super) fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub fn render(report: &Report) -> String {
    let mut counts: BTreeMap<(&str, &str, &str, &str), usize> = BTreeMap::new();
    for f in &report.findings {
        *counts
            .entry((
                f.severity.as_str(),
                f.category.as_str(),
                f.rule.as_str(),
                f.domain.as_deref().unwrap_or(""),
            ))
            .or_default() += 1;
    }
    // A host whose snapshot does not name it is told apart by its path,
    // as in fleet runs: an empty label would merge such hosts.
    let host = label(
        report
            .target
            .hostname
            .as_deref()
            .unwrap_or(&report.target.path),
    );
    let mut out = String::new();
    out.push_str("# HELP virt_doctor_findings Findings of the last virt-doctor run, by severity, category, rule and domain (empty for host-level findings).\n");
    out.push_str("# TYPE virt_doctor_findings gauge\n");
    for ((severity, category, rule, domain), n) in &counts {
        out.push_str(&format!(
            "virt_doctor_findings{{host=\"{host}\",severity=\"{severity}\",category=\"{}\",rule=\"{}\",domain=\"{}\"}} {n}\n",
            label(category),
            label(rule),
            label(domain)
        ));
    }
    out.push_str("# HELP virt_doctor_findings_by_severity Findings of the last run per severity (always present, so alerts can compare with 0).\n");
    out.push_str("# TYPE virt_doctor_findings_by_severity gauge\n");
    for s in [Severity::Critical, Severity::Warning, Severity::Info] {
        let n = report.findings.iter().filter(|f| f.severity == s).count();
        out.push_str(&format!(
            "virt_doctor_findings_by_severity{{host=\"{host}\",severity=\"{}\"}} {n}\n",
            s.as_str()
        ));
    }
    out.push_str("# HELP virt_doctor_suppressed_findings Findings hidden by a suppression in the last run.\n");
    out.push_str("# TYPE virt_doctor_suppressed_findings gauge\n");
    out.push_str(&format!(
        "virt_doctor_suppressed_findings{{host=\"{host}\"}} {}\n",
        report.suppressed.len()
    ));
    out.push_str("# HELP virt_doctor_rule_errors Rule evaluations that failed in the last run.\n");
    out.push_str("# TYPE virt_doctor_rule_errors gauge\n");
    out.push_str(&format!(
        "virt_doctor_rule_errors{{host=\"{host}\"}} {}\n",
        report.rule_errors.len()
    ));
    out.push_str("# HELP virt_doctor_last_run_timestamp_seconds When virt-doctor last ran, seconds since the Unix epoch.\n");
    out.push_str("# TYPE virt_doctor_last_run_timestamp_seconds gauge\n");
    out.push_str(&format!(
        "virt_doctor_last_run_timestamp_seconds{{host=\"{host}\"}} {}\n",
        report.summary.generated_at
    ));
    out
}
