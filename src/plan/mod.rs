//! `virt-doctor plan`: the fixes of a report's findings as one plan, host
//! by host: the host's own changes first, then each domain's. `script`
//! prints it as a POSIX shell script; the plan itself is the JSON form.
//!
//! virt-doctor never runs a plan. It is built from the findings' steps
//! (`[[rule.apply]]`, src/rules/apply.rs), with two checks a list of
//! separate fixes cannot make: a command two findings share is written
//! once, and two findings that set one host setting (a sysctl key, a sysfs
//! file, a file) to different values are a conflict, said in the plan
//! instead of letting the later silently win.

pub mod script;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::findings::{Change, Finding, Severity, Step};
use crate::report::Report;

/// The plan's JSON contract (docs/plan.md).
pub const SCHEMA: &str = "virt-doctor/plan/1";

#[derive(Debug, Serialize)]
pub struct Plan {
    pub schema: &'static str,
    pub hosts: Vec<HostPlan>,
}

/// The plan for one host, or for domain XML files without a host
/// (`host` null: the steps run wherever those domains are defined).
#[derive(Debug, Serialize)]
pub struct HostPlan {
    pub host: Option<String>,
    /// What was analyzed: the snapshot, or the XML files.
    pub source: String,
    /// Changes to the host itself, including the host side of a domain's
    /// finding (hugepages reserved on a node).
    pub host_changes: Vec<PlannedFinding>,
    pub domains: Vec<DomainPlan>,
    /// Findings whose fix is not a change to make (a log event to
    /// investigate, a load to spread): named, their fix is in the report.
    pub without_steps: Vec<FindingRef>,
}

#[derive(Debug, Serialize)]
pub struct DomainPlan {
    pub name: String,
    pub changes: Vec<PlannedFinding>,
}

/// A finding, named the way every plan line names it.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRef {
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    pub subject: String,
    pub domain: Option<String>,
}

impl FindingRef {
    fn of(f: &Finding) -> FindingRef {
        FindingRef {
            rule: f.rule.clone(),
            severity: f.severity,
            title: f.title.clone(),
            subject: f.subject.clone(),
            domain: f.domain.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PlannedFinding {
    pub finding: FindingRef,
    pub steps: Vec<PlannedStep>,
}

#[derive(Debug, Serialize)]
pub struct PlannedStep {
    #[serde(flatten)]
    pub step: Step,
    /// The shell lines of the step, exactly as the script has them
    /// (empty for a manual step).
    pub commands: Vec<String>,
    /// The same lines were written for an earlier finding: the script
    /// says so instead of running them twice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_as: Option<String>,
    /// Another finding sets this setting to a different value: the
    /// script leaves this step out and says why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
}

/// Whether a change is made to the host (written before any domain's).
fn on_host(c: &Change) -> bool {
    matches!(
        c,
        Change::Sysctl { .. }
            | Change::Sysfs { .. }
            | Change::File { .. }
            | Change::Module { .. }
            | Change::Command { .. }
    )
}

/// The setting a host change writes, and the value it writes, for
/// conflicts: two steps with one setting and different values conflict.
fn setting(c: &Change) -> Option<(String, String)> {
    match c {
        Change::Sysctl { key, value } => Some((format!("sysctl {key}"), value.clone())),
        Change::Sysfs { path, value } => Some((path.clone(), value.clone())),
        Change::File { path, content } => Some((path.clone(), content.clone())),
        _ => None,
    }
}

/// The plan of one report. `source` names what was analyzed.
pub fn host_plan(report: &Report, host: Option<String>, source: String) -> HostPlan {
    let mut plan = HostPlan {
        host,
        source,
        host_changes: Vec::new(),
        domains: Vec::new(),
        without_steps: Vec::new(),
    };
    let mut domains: BTreeMap<String, Vec<PlannedFinding>> = BTreeMap::new();
    // Per host: the lines already written, and the value each setting got.
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    let mut settings: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    // Worst first within each part, as the report's "Fix first" does;
    // the sort is stable, so a rule's findings keep the report's order.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    // Host changes are collected first for every finding, so that the
    // host part comes first in the plan also for what domains need.
    for host_pass in [true, false] {
        for f in &findings {
            let id = format!("{} ({})", f.rule, f.subject);
            let steps: Vec<PlannedStep> = f
                .apply
                .iter()
                .filter(|s| (on_host(&s.change) || f.domain.is_none()) == host_pass)
                .map(|s| {
                    let commands = script::commands(&s.change);
                    let mut same_as = None;
                    let mut conflict = None;
                    if let Some((key, value)) = setting(&s.change) {
                        // One finding may write a setting twice in
                        // sequence (KSM's run: 2, then 1); two findings
                        // that want different values conflict.
                        match settings.get(&key) {
                            Some((v, by)) if *v != value && *by != id => {
                                conflict =
                                    Some(format!("{by} sets {key} to {}; choose one", v.trim_end()))
                            }
                            _ => {
                                settings.insert(key, (value, id.clone()));
                            }
                        }
                    }
                    if conflict.is_none() && !commands.is_empty() {
                        let text = commands.join("\n");
                        match written.get(&text) {
                            Some(by) => same_as = Some(by.clone()),
                            None => {
                                written.insert(text, id.clone());
                            }
                        }
                    }
                    PlannedStep {
                        step: s.clone(),
                        commands,
                        same_as,
                        conflict,
                    }
                })
                .collect();
            if steps.is_empty() {
                continue;
            }
            let planned = PlannedFinding {
                finding: FindingRef::of(f),
                steps,
            };
            match (&f.domain, host_pass) {
                (Some(d), false) => domains.entry(d.clone()).or_default().push(planned),
                _ => plan.host_changes.push(planned),
            }
        }
    }
    plan.domains = domains
        .into_iter()
        .map(|(name, mut changes)| {
            // A step that renames a device goes after those that select
            // it by its old name (stable: the order is otherwise kept).
            changes.sort_by_key(|p| p.steps.iter().any(|s| s.step.last));
            DomainPlan { name, changes }
        })
        .collect();
    plan.without_steps = findings
        .iter()
        .filter(|f| f.apply.is_empty())
        .map(|f| FindingRef::of(f))
        .collect();
    plan
}
