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
    /// The fix as changes a machine can make (`virt-doctor plan`), in the
    /// order they are made; empty where the rule has none, and unless the
    /// config asks for them (`Config::fix_steps`). Not part of the report
    /// contract: `plan --format json` is where they are read.
    #[serde(default, skip_serializing)]
    pub apply: Vec<Step>,
}

/// One change of a finding's fix, as `plan` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    #[serde(flatten)]
    pub change: Change,
    /// What must happen before the change works, or for it to take effect.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub needs: Vec<Need>,
    /// A remark printed with the step (a follow-up inside the guest, a
    /// choice the operator still has).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    /// It renames what other steps select by (a disk's target), so it
    /// runs after the domain's other steps.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub last: bool,
}

/// What a step changes. Domain changes go to the persistent definition
/// only (`virt-xml --define`, `virsh … --config`); host changes are made
/// now and kept across reboots (a sysctl drop-in of their own, a udev
/// rule, a module list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// `virt-xml DOMAIN ARGS… --define`.
    VirtXml { domain: String, args: Vec<String> },
    /// `virsh ARGS…` (a domain's `--config`, a runtime setting).
    Virsh { args: Vec<String> },
    /// `sysctl -w KEY=VALUE`, and `KEY = VALUE` in a drop-in of its own.
    Sysctl { key: String, value: String },
    /// `echo VALUE > PATH` (sysfs), made now; how it persists is the next
    /// step or the note.
    Sysfs { path: String, value: String },
    /// A whole file written (a udev rule, a module list): idempotent.
    File { path: String, content: String },
    /// `modprobe NAME`, and NAME in /etc/modules-load.d.
    Module { name: String },
    /// Another host command, as argv.
    Command { args: Vec<String> },
    /// A change virt-doctor cannot write as a command (a placement to
    /// choose, a firmware setting): said, never run.
    Manual { text: String },
}

/// What a step needs, beyond running its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    /// virtio drivers in the guest before it boots with the change.
    VirtioDrivers,
    /// The domain shut down and started again (not a reboot from inside).
    ColdBoot,
    /// The host rebooted (a kernel command line setting).
    HostReboot,
    /// Something done inside the guest too (the note says what).
    GuestChange,
}

impl Need {
    /// The comment `plan` prints for it.
    pub fn describe(self, domain: Option<&str>) -> String {
        let d = domain.unwrap_or("the domain");
        match self {
            Need::ColdBoot => format!(
                "a cold boot of {d} to take effect (virsh shutdown, then virsh start; a reboot inside the guest is not enough)"
            ),
            Need::VirtioDrivers => format!(
                "virtio drivers in {d}'s guest before it boots with this change (Linux has them; Windows needs virtio-win)"
            ),
            Need::HostReboot => "a reboot of the host to take effect".to_owned(),
            Need::GuestChange => format!("a change inside {d}'s guest too (see the note)"),
        }
    }
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
