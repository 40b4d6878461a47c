//! `virt-doctor.json` ([`super::paths::INFO`]): what a `virt-doctor
//! collect` capture says about itself. Written by `crate::collect` as this
//! struct in JSON, read back by the source table, so one struct is the
//! format.

use serde::{Deserialize, Serialize};

use crate::parse::{Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureInfo {
    pub tool: String,
    pub version: String,
    pub hostname: Option<String>,
    /// RFC 3339, UTC.
    pub captured_at: String,
    /// The root the host's files were read below (`/` on a live host).
    pub sysroot: String,
    pub libvirt: LibvirtInfo,
    /// Seconds between the two runtime samples; 0 when not sampled.
    pub interval_seconds: f64,
    /// Per-source reading: files, bytes, time, errors.
    pub sources: Vec<SourceTiming>,
    /// What was cut or left out (log cap, unreadable files), said plainly.
    pub notices: Vec<String>,
    /// What redaction replaced.
    pub redactions: Redactions,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LibvirtInfo {
    pub uri: Option<String>,
    /// `ok`, `unreachable`, `timeout` or `skipped` (`--connect none`).
    pub status: String,
    pub error: Option<String>,
    pub domains: usize,
    pub milliseconds: u64,
    /// Per-domain calls that failed while the rest went on.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceTiming {
    pub id: String,
    /// `ok` (files captured), `missing` (none exist on the host) or
    /// `unreadable` (some exist and none could be read; see `errors`).
    pub status: String,
    pub files: usize,
    pub bytes: u64,
    pub milliseconds: u64,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Redactions {
    /// Places where passwords, secret references, auth user names or
    /// cookies were replaced.
    pub secrets: usize,
    /// Whether host names and IP addresses were replaced (`--redact-hosts`).
    pub hosts: bool,
}

pub fn parse(text: &str) -> Parsed<Option<CaptureInfo>> {
    match serde_json::from_str::<CaptureInfo>(text) {
        Ok(info) => Parsed::ok(Some(info)),
        Err(e) => Parsed::failed(Problem::at(
            e.line(),
            format!("not a virt-doctor.json: {e}"),
        )),
    }
}
