//! `diff`: the findings of two runs compared, each side a JSON report or
//! a snapshot analyzed now.
//!
//! A finding is the same on both sides when its rule and subject are: its
//! message carries measurements that move between runs, and a problem
//! that is still there with a new figure is not a new problem.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::analysis::{self, BadSuppressions};
use crate::config::Config;
use crate::findings::{Finding, Severity};
use crate::logs::Window;
use crate::report;
use crate::rules::Catalog;
use crate::snapshot::Snapshot;

/// Why a file that looks like a JSON report cannot be one side.
#[derive(Debug)]
pub enum ReportError {
    /// The file could not be read (the message is the system's).
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// It starts like JSON but is not.
    NotJson {
        path: PathBuf,
        error: serde_json::Error,
    },
    /// JSON, but not a virt-doctor report of this version.
    Schema {
        path: PathBuf,
        schema: serde_json::Value,
    },
    /// A report whose findings do not read as findings.
    Findings {
        path: PathBuf,
        error: serde_json::Error,
    },
}

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReportError::Read { error, .. } => write!(f, "{error}"),
            ReportError::NotJson { path, error } => write!(
                f,
                "{}: not a virt-doctor JSON report: {error}",
                path.display()
            ),
            ReportError::Schema { path, schema } => write!(
                f,
                "{}: not a {} report (schema {schema})",
                path.display(),
                report::SCHEMA
            ),
            ReportError::Findings { path, error } => {
                write!(f, "{}: findings: {error}", path.display())
            }
        }
    }
}

// No `source()`: each message already includes its cause, and callers
// print the whole chain.
impl std::error::Error for ReportError {}

/// One side of a diff.
pub struct Side {
    /// The host the findings are about; empty when unknown.
    pub host: String,
    pub findings: Vec<Finding>,
}

impl Side {
    /// The findings of a JSON report (`--format json`) at `path`, or
    /// `None` when `path` is not a file that starts like JSON (it is a
    /// snapshot, then: [`Side::analyze`]).
    pub fn read_report(path: &Path) -> Result<Option<Side>, ReportError> {
        if !path.is_file() {
            return Ok(None);
        }
        let head = std::fs::read(path).map_err(|error| ReportError::Read {
            path: path.to_owned(),
            error,
        })?;
        if head.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Ok(None);
        }
        let v: serde_json::Value =
            serde_json::from_slice(&head).map_err(|error| ReportError::NotJson {
                path: path.to_owned(),
                error,
            })?;
        if v["schema"] != report::SCHEMA {
            return Err(ReportError::Schema {
                path: path.to_owned(),
                schema: v["schema"].clone(),
            });
        }
        let findings: Vec<Finding> =
            serde_json::from_value(v["findings"].clone()).map_err(|error| {
                ReportError::Findings {
                    path: path.to_owned(),
                    error,
                }
            })?;
        let host = v["target"]["hostname"].as_str().unwrap_or("").to_owned();
        Ok(Some(Side { host, findings }))
    }

    /// The findings of a snapshot analyzed now, as `analyze` would report
    /// them (every log event, suppressions applied).
    pub fn analyze(
        snap: &Snapshot,
        catalog: &Catalog,
        config: &Config,
    ) -> Result<Side, BadSuppressions> {
        let a = analysis::run(snap, catalog, config, Window::default());
        let (report, _) = a.into_report(catalog, config)?;
        Ok(Side {
            host: report.target.hostname.unwrap_or_default(),
            findings: report.findings,
        })
    }
}

/// Two sides compared, each list in its side's order.
pub struct Diff<'a> {
    /// On the new side only.
    pub new: Vec<&'a Finding>,
    /// On the base side only.
    pub resolved: Vec<&'a Finding>,
    /// On both sides, as the new side has them.
    pub unchanged: Vec<&'a Finding>,
}

/// `after` compared with `before`.
pub fn compare<'a>(before: &'a [Finding], after: &'a [Finding]) -> Diff<'a> {
    let key = |f: &'a Finding| (f.rule.as_str(), f.subject.as_str());
    let before_keys: BTreeSet<_> = before.iter().map(key).collect();
    let after_keys: BTreeSet<_> = after.iter().map(key).collect();
    let (unchanged, new) = after.iter().partition(|f| before_keys.contains(&key(f)));
    let resolved = before
        .iter()
        .filter(|f| !after_keys.contains(&key(f)))
        .collect();
    Diff {
        new,
        resolved,
        unchanged,
    }
}

impl Diff<'_> {
    /// Whether a finding at or above `threshold` is new, or (unless
    /// `only_new`) still there. No threshold: never.
    pub fn fails(&self, threshold: Option<Severity>, only_new: bool) -> bool {
        let Some(t) = threshold else {
            return false;
        };
        let still: &[&Finding] = if only_new { &[] } else { &self.unchanged };
        self.new.iter().chain(still).any(|f| f.severity >= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, subject: &str, severity: Severity, message: &str) -> Finding {
        serde_json::from_value(serde_json::json!({
            "rule": rule, "name": rule.to_lowercase(), "category": "cpu",
            "severity": severity, "domain": null, "subject": subject,
            "title": "t", "message": message, "fix": "f",
            "evidence": [], "references": [],
        }))
        .expect("a finding")
    }

    #[test]
    fn findings_are_matched_by_rule_and_subject_not_message() {
        let before = [
            finding("CPU001", "db01", Severity::Warning, "12 vCPUs"),
            finding("MEM003", "host", Severity::Critical, "1 GiB left"),
        ];
        let after = [
            finding("CPU001", "db01", Severity::Warning, "16 vCPUs"),
            finding("CPU001", "web02", Severity::Info, "4 vCPUs"),
        ];
        let d = compare(&before, &after);
        let subjects = |l: &[&Finding]| -> Vec<String> {
            l.iter()
                .map(|f| format!("{} {}", f.rule, f.subject))
                .collect()
        };
        assert_eq!(subjects(&d.new), ["CPU001 web02"]);
        assert_eq!(subjects(&d.resolved), ["MEM003 host"]);
        assert_eq!(subjects(&d.unchanged), ["CPU001 db01"]);
        // The new side's message, not the base's.
        assert_eq!(d.unchanged[0].message, "16 vCPUs");

        assert!(d.fails(Some(Severity::Warning), false));
        assert!(!d.fails(Some(Severity::Warning), true));
        assert!(d.fails(Some(Severity::Info), true));
        assert!(!d.fails(None, false));
    }
}
