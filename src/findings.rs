//! Findings: what a rule concluded about one subject, with the evidence
//! that shows it and the fix.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (info, warning, critical)"
            )),
        }
    }
}

/// The areas findings are grouped by, in report order.
pub const CATEGORIES: &[&str] = &[
    "host", "cpu", "memory", "numa", "disk", "network", "snapshot",
];

/// Where a finding's evidence is: a file and line in the snapshot, or a
/// value that was read (`path`/`line` null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub path: Option<String>,
    pub line: Option<usize>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule code, e.g. `DISK001`.
    pub rule: String,
    /// Rule name, e.g. `disk-on-emulated-bus`.
    pub name: String,
    pub category: String,
    pub severity: Severity,
    /// The domain concerned; null for host-level findings.
    pub domain: Option<String>,
    /// What exactly: `db01 disk vdb`, `sda`, `NUMA node 1`, the host name.
    pub subject: String,
    pub title: String,
    pub message: String,
    pub fix: String,
    pub evidence: Vec<Evidence>,
    pub references: Vec<String>,
    /// Log findings only: how many log lines (events) the finding groups,
    /// after de-duplication across files and the time window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<usize>,
}

/// A finding about several hosts of a fleet run at once (`scope =
/// "fleet"` rules): the same domain running on two hosts, settings that
/// differ between hosts meant to be alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetFinding {
    pub rule: String,
    pub name: String,
    pub category: String,
    pub severity: Severity,
    /// The group of hosts the rule compared (`--group-by`).
    pub group: String,
    /// The hosts the finding is about.
    pub hosts: Vec<String>,
    /// The domain concerned; null for findings about hosts.
    pub domain: Option<String>,
    pub subject: String,
    pub title: String,
    pub message: String,
    pub fix: String,
    pub evidence: Vec<Evidence>,
    pub references: Vec<String>,
}
