//! The fleet report: many hosts in one run (`virt-doctor analyze A B C`,
//! `--manifest`). Each host's own report is written as soon as the host is
//! analyzed (JSON, JSONL, concise) or kept as a brief (a few lines per
//! host: table, Markdown, Prometheus), never as whole facts, so a run over
//! thousands of hosts holds little more than one line per finding.
//!
//! `json` is `virt-doctor/fleet/v1` (docs/report-schema.md); `jsonl` is
//! the record stream of `docs/fleet-schema.md`, the same for one host.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::prometheus::label;
use super::words::{self, words};
use super::Tool;
use crate::findings::{Finding, FleetFinding, Severity};
use crate::fleet::{fingerprint, HostDone, HostFailed};
use crate::lang::Lang;
use crate::prose::{fit, reflow, wrap_hanging};
use crate::rules::RuleError;

pub const FLEET_SCHEMA: &str = "virt-doctor/fleet/v1";
/// The JSONL records' contract (`docs/fleet-schema.md`).
pub const RECORDS_SCHEMA: &str = "virt-doctor/records/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetFormat {
    Table,
    Concise,
    Json,
    Jsonl,
    Markdown,
    Prometheus,
}

/// What a fleet report keeps of one host once its own report is written.
#[derive(Debug, Serialize)]
pub struct HostBrief {
    pub host: String,
    pub path: String,
    pub group: String,
    pub snapshot: String,
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub domains: usize,
    pub suppressed: usize,
    pub rule_errors: usize,
    /// Some core data (memory, CPUs, domains, logs) was missing.
    pub partial: bool,
    #[serde(skip)]
    findings: Vec<BriefFinding>,
    #[serde(skip)]
    generated_at: i64,
}

#[derive(Debug)]
struct BriefFinding {
    severity: Severity,
    rule: String,
    subject: String,
    title: String,
}

#[derive(Debug, Serialize)]
pub struct FailedHost {
    pub path: String,
    pub group: String,
    pub error: String,
}

#[derive(Debug, Serialize)]
pub struct RuleHits {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub hosts: usize,
}

#[derive(Debug, Serialize)]
pub struct GroupSize {
    pub name: String,
    pub hosts: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
}

#[derive(Debug, Serialize)]
pub struct FleetSummary {
    /// Snapshots given (after `--shard`).
    pub hosts: usize,
    pub analyzed: usize,
    /// Snapshots that could not be analyzed, with why.
    pub failed: Vec<FailedHost>,
    pub groups: Vec<GroupSize>,
    /// Each analyzed host's findings by severity.
    pub by_host: Vec<HostBrief>,
    /// Host findings, all hosts together.
    pub host_findings: Counts,
    /// Cross-host findings.
    pub fleet_findings: Counts,
    /// Rules by the number of hosts they hit, most first (at most 10).
    pub top_rules: Vec<RuleHits>,
    /// `--shard I/N` when given: cross-host rules saw this shard's hosts.
    pub shard: Option<String>,
    pub generated_at: i64,
}

/// Everything known once every host is done.
pub struct FleetEnd<'a> {
    pub findings: &'a [FleetFinding],
    pub rule_errors: &'a [RuleError],
    pub shard: Option<String>,
}

/// One host's findings counted by (severity, category, rule, domain).
type FindingCounts = BTreeMap<(Severity, String, String, String), usize>;

/// The writer of one fleet report, fed host by host.
pub struct FleetOutput {
    format: FleetFormat,
    lang: Lang,
    width: usize,
    ruleset: String,
    generated_at: i64,
    briefs: Vec<HostBrief>,
    failed: Vec<FailedHost>,
    /// Prometheus: each host's `virt_doctor_findings` samples.
    samples: Vec<(String, FindingCounts)>,
    hosts_written: usize,
}

impl FleetOutput {
    pub fn new(format: FleetFormat, lang: Lang, width: usize, ruleset: &str) -> FleetOutput {
        FleetOutput {
            format,
            lang,
            width,
            ruleset: ruleset.to_owned(),
            generated_at: chrono::Utc::now().timestamp(),
            briefs: Vec::new(),
            failed: Vec::new(),
            samples: Vec::new(),
            hosts_written: 0,
        }
    }

    /// The worst severity of any host finding so far.
    pub fn worst(&self) -> Option<Severity> {
        self.briefs
            .iter()
            .flat_map(|b| b.findings.iter().map(|f| f.severity))
            .max()
    }

    /// The JSON report up to its `hosts` array, opened.
    fn json_head(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "{{\"schema\":{},\"tool\":{},\"ruleset\":{},\"hosts\":[",
            serde_json::to_string(FLEET_SCHEMA)?,
            serde_json::to_string(&tool())?,
            serde_json::to_string(&self.ruleset)?
        )
    }

    pub fn host(&mut self, out: &mut dyn Write, done: &HostDone) -> io::Result<()> {
        let r = &done.report;
        match self.format {
            FleetFormat::Json => {
                if self.hosts_written == 0 {
                    self.json_head(out)?;
                } else {
                    out.write_all(b",\n")?;
                }
                serde_json::to_writer(&mut *out, r)?;
            }
            FleetFormat::Jsonl => {
                for record in host_records(done, &self.ruleset) {
                    serde_json::to_writer(&mut *out, &record)?;
                    out.write_all(b"\n")?;
                }
            }
            FleetFormat::Concise => {
                for f in &r.findings {
                    writeln!(out, "{}", concise_line(&done.host.name, f))?;
                }
            }
            FleetFormat::Prometheus => {
                let mut counts = BTreeMap::new();
                for f in &r.findings {
                    *counts
                        .entry((
                            f.severity,
                            f.category.clone(),
                            f.rule.clone(),
                            f.domain.clone().unwrap_or_default(),
                        ))
                        .or_default() += 1;
                }
                self.samples.push((done.host.name.clone(), counts));
            }
            FleetFormat::Table | FleetFormat::Markdown => {}
        }
        self.hosts_written += 1;
        self.briefs.push(brief(done));
        Ok(())
    }

    pub fn failed(&mut self, out: &mut dyn Write, f: &HostFailed) -> io::Result<()> {
        let failed = FailedHost {
            path: f.input.path.display().to_string(),
            group: f.input.group.clone(),
            error: f.error.clone(),
        };
        if self.format == FleetFormat::Jsonl {
            let record = serde_json::json!({
                "schema": RECORDS_SCHEMA,
                "record": "failed",
                "tool_version": env!("CARGO_PKG_VERSION"),
                "ruleset": self.ruleset,
                "path": failed.path,
                "group": failed.group,
                "error": failed.error,
            });
            serde_json::to_writer(&mut *out, &record)?;
            out.write_all(b"\n")?;
        }
        if self.format == FleetFormat::Concise {
            writeln!(out, "failed {}: {}", failed.path, one_line(&failed.error))?;
        }
        self.failed.push(failed);
        Ok(())
    }

    pub fn summary(&mut self, end: &FleetEnd) -> FleetSummary {
        let mut groups: BTreeMap<String, usize> = BTreeMap::new();
        for b in &self.briefs {
            *groups.entry(b.group.clone()).or_default() += 1;
        }
        let mut hits: BTreeMap<&str, (usize, Severity, &str)> = BTreeMap::new();
        for b in &self.briefs {
            let mut seen = std::collections::BTreeSet::new();
            for f in &b.findings {
                if seen.insert(&f.rule) {
                    let e = hits.entry(&f.rule).or_insert((0, f.severity, &f.title));
                    e.0 += 1;
                    e.1 = e.1.max(f.severity);
                }
            }
        }
        let mut top_rules: Vec<RuleHits> = hits
            .into_iter()
            .map(|(rule, (hosts, severity, title))| RuleHits {
                rule: rule.to_owned(),
                title: title.to_owned(),
                severity,
                hosts,
            })
            .collect();
        top_rules.sort_by(|a, b| {
            b.hosts
                .cmp(&a.hosts)
                .then(b.severity.cmp(&a.severity))
                .then(a.rule.cmp(&b.rule))
        });
        top_rules.truncate(10);
        let count = |s: Severity| self.briefs.iter().map(|b| b.count(s)).sum();
        let fleet_count = |s: Severity| end.findings.iter().filter(|f| f.severity == s).count();
        FleetSummary {
            hosts: self.briefs.len() + self.failed.len(),
            analyzed: self.briefs.len(),
            failed: std::mem::take(&mut self.failed),
            groups: groups
                .into_iter()
                .map(|(name, hosts)| GroupSize { name, hosts })
                .collect(),
            host_findings: Counts {
                critical: count(Severity::Critical),
                warning: count(Severity::Warning),
                info: count(Severity::Info),
            },
            fleet_findings: Counts {
                critical: fleet_count(Severity::Critical),
                warning: fleet_count(Severity::Warning),
                info: fleet_count(Severity::Info),
            },
            by_host: std::mem::take(&mut self.briefs),
            top_rules,
            shard: end.shard.clone(),
            generated_at: self.generated_at,
        }
    }

    /// The rest of the report, once every host is done.
    pub fn finish(&mut self, out: &mut dyn Write, end: &FleetEnd) -> io::Result<FleetSummary> {
        let summary = self.summary(end);
        match self.format {
            FleetFormat::Json => {
                if self.hosts_written == 0 {
                    self.json_head(out)?;
                }
                out.write_all(b"],\n\"findings\":")?;
                let findings: Vec<serde_json::Value> = end
                    .findings
                    .iter()
                    .map(|f| fleet_finding_value(f, None))
                    .collect();
                serde_json::to_writer_pretty(&mut *out, &findings)?;
                out.write_all(b",\n\"rule_errors\":")?;
                serde_json::to_writer_pretty(&mut *out, end.rule_errors)?;
                out.write_all(b",\n\"summary\":")?;
                serde_json::to_writer_pretty(&mut *out, &summary)?;
                out.write_all(b"}\n")?;
            }
            FleetFormat::Jsonl => {
                for f in end.findings {
                    serde_json::to_writer(&mut *out, &fleet_finding_value(f, Some(&self.ruleset)))?;
                    out.write_all(b"\n")?;
                }
            }
            FleetFormat::Concise => {
                for f in end.findings {
                    writeln!(
                        out,
                        "{} {} {} {}: {}",
                        f.hosts.join(","),
                        f.severity.as_str(),
                        f.rule,
                        one_line(&f.subject),
                        one_line(&f.title)
                    )?;
                }
            }
            FleetFormat::Prometheus => {
                out.write_all(prometheus(&summary, &self.samples, end).as_bytes())?
            }
            FleetFormat::Table => {
                out.write_all(table(&summary, end, self.width, self.lang).as_bytes())?
            }
            FleetFormat::Markdown => {
                out.write_all(markdown(&summary, end, self.lang).as_bytes())?
            }
        }
        Ok(summary)
    }
}

impl HostBrief {
    fn count(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::Warning => self.warning,
            Severity::Info => self.info,
        }
    }
}

fn tool() -> Tool {
    Tool {
        name: "virt-doctor",
        version: env!("CARGO_PKG_VERSION"),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `hv1 warning MEM012 hv1: vm.swappiness is high for a hypervisor`.
fn concise_line(host: &str, f: &Finding) -> String {
    format!(
        "{host} {} {} {}: {}",
        f.severity.as_str(),
        f.rule,
        one_line(&f.subject),
        one_line(&f.title)
    )
}

fn brief(done: &HostDone) -> HostBrief {
    let r = &done.report;
    HostBrief {
        host: done.host.name.clone(),
        path: done.host.path.clone(),
        group: done.host.group.clone(),
        snapshot: done.snapshot.clone(),
        critical: r.summary.critical,
        warning: r.summary.warning,
        info: r.summary.info,
        domains: r.summary.domains,
        suppressed: r.summary.suppressed,
        rule_errors: r.rule_errors.len(),
        partial: r.coverage.as_ref().is_some_and(|c| c.partial),
        findings: r
            .findings
            .iter()
            .map(|f| BriefFinding {
                severity: f.severity,
                rule: f.rule.clone(),
                subject: f.subject.clone(),
                title: f.title.clone(),
            })
            .collect(),
        generated_at: r.summary.generated_at,
    }
}

/// RFC 3339, UTC.
fn rfc3339(t: Option<i64>) -> Option<String> {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// One host's records: `host`, then each `finding`, then each `source`.
pub fn host_records(done: &HostDone, ruleset: &str) -> Vec<serde_json::Value> {
    let h = &done.host;
    let r = &done.report;
    let common = serde_json::json!({
        "schema": RECORDS_SCHEMA,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "ruleset": ruleset,
        "host": h.name,
        "group": h.group,
        "snapshot": done.snapshot,
        "captured_at": rfc3339(h.captured_at),
    });
    let with = |record: &str, fields: serde_json::Value| {
        let mut v = common.clone();
        v["record"] = serde_json::json!(record);
        if let (Some(m), serde_json::Value::Object(f)) = (v.as_object_mut(), fields) {
            m.extend(f);
        }
        v
    };
    let mut out = vec![with(
        "host",
        serde_json::json!({
            "path": h.path,
            "labels": h.labels,
            "kernel": h.kernel,
            "libvirt_version": h.libvirt_version,
            "qemu_version": h.qemu_version,
            "cpu_model": h.cpu.model,
            "microcode": h.cpu.microcode,
            "cpus": h.cpu.logical,
            "memory_total_kib": h.memory.total_kib,
            "hugepages": h.hugepages,
            "thp_enabled": h.thp_enabled,
            "ksm_run": h.ksm_run,
            "swappiness": h.swappiness,
            "schedulers": h.schedulers,
            "governors": h.governors,
            "domains": r.summary.domains,
            "running_domains": h.running.domains,
            "critical": r.summary.critical,
            "warning": r.summary.warning,
            "info": r.summary.info,
            "suppressed": r.summary.suppressed,
            "rule_errors": r.rule_errors.len(),
            "partial": r.coverage.as_ref().is_some_and(|c| c.partial),
        }),
    )];
    for f in &r.findings {
        out.push(with(
            "finding",
            serde_json::json!({
                "rule": f.rule,
                "name": f.name,
                "category": f.category,
                "severity": f.severity,
                "subject": f.subject,
                "domain": f.domain,
                "title": f.title,
                "message": f.message,
                "fix": f.fix,
                "fingerprint": fingerprint(&[&h.name, &f.rule, &f.subject]),
                "evidence": f.evidence,
                "events": f.events,
            }),
        ));
    }
    for s in &r.sources {
        out.push(with(
            "source",
            serde_json::json!({
                "source": s.id,
                "status": s.status,
                "path": s.path,
                "detail": s.detail,
            }),
        ));
    }
    out
}

/// A cross-host finding as JSON; as a JSONL record when `ruleset` is
/// given.
fn fleet_finding_value(f: &FleetFinding, ruleset: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::to_value(f).expect("a finding serialises");
    v["fingerprint"] = serde_json::json!(fingerprint(&["fleet", &f.group, &f.rule, &f.subject]));
    if let Some(ruleset) = ruleset {
        v["schema"] = serde_json::json!(RECORDS_SCHEMA);
        v["record"] = serde_json::json!("fleet_finding");
        v["tool_version"] = serde_json::json!(env!("CARGO_PKG_VERSION"));
        v["ruleset"] = serde_json::json!(ruleset);
    }
    v
}

/// Each metric family once, with every host's samples (the exposition
/// format wants a family's samples together), then the fleet's own.
fn prometheus(
    summary: &FleetSummary,
    samples: &[(String, FindingCounts)],
    end: &FleetEnd,
) -> String {
    let mut out = String::new();
    out.push_str("# HELP virt_doctor_findings Findings of the last virt-doctor run, by severity, category, rule and domain (empty for host-level findings).\n# TYPE virt_doctor_findings gauge\n");
    for (host, counts) in samples {
        for ((severity, category, rule, domain), n) in counts {
            out.push_str(&format!(
                "virt_doctor_findings{{host=\"{}\",severity=\"{}\",category=\"{}\",rule=\"{}\",domain=\"{}\"}} {n}\n",
                label(host),
                severity.as_str(),
                label(category),
                label(rule),
                label(domain)
            ));
        }
    }
    out.push_str("# HELP virt_doctor_findings_by_severity Findings of the last run per severity (always present, so alerts can compare with 0).\n# TYPE virt_doctor_findings_by_severity gauge\n");
    for b in &summary.by_host {
        for s in [Severity::Critical, Severity::Warning, Severity::Info] {
            out.push_str(&format!(
                "virt_doctor_findings_by_severity{{host=\"{}\",severity=\"{}\"}} {}\n",
                label(&b.host),
                s.as_str(),
                b.count(s)
            ));
        }
    }
    let per_host = |out: &mut String, name: &str, help: &str, value: &dyn Fn(&HostBrief) -> i64| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for b in &summary.by_host {
            out.push_str(&format!(
                "{name}{{host=\"{}\"}} {}\n",
                label(&b.host),
                value(b)
            ));
        }
    };
    per_host(
        &mut out,
        "virt_doctor_suppressed_findings",
        "Findings hidden by a suppression in the last run.",
        &|b| b.suppressed as i64,
    );
    per_host(
        &mut out,
        "virt_doctor_rule_errors",
        "Rule evaluations that failed in the last run.",
        &|b| b.rule_errors as i64,
    );
    per_host(
        &mut out,
        "virt_doctor_last_run_timestamp_seconds",
        "When virt-doctor last ran, seconds since the Unix epoch.",
        &|b| b.generated_at,
    );
    out.push_str("# HELP virt_doctor_fleet_findings Cross-host findings of the last fleet run, by group, severity, category and rule.\n# TYPE virt_doctor_fleet_findings gauge\n");
    let mut fleet: BTreeMap<(&str, Severity, &str, &str), usize> = BTreeMap::new();
    for f in end.findings {
        *fleet
            .entry((&f.group, f.severity, &f.category, &f.rule))
            .or_default() += 1;
    }
    for ((group, severity, category, rule), n) in fleet {
        out.push_str(&format!(
            "virt_doctor_fleet_findings{{group=\"{}\",severity=\"{}\",category=\"{}\",rule=\"{}\"}} {n}\n",
            label(group),
            severity.as_str(),
            label(category),
            label(rule)
        ));
    }
    out.push_str("# HELP virt_doctor_fleet_hosts Snapshots of the last fleet run per group: analyzed, or failed.\n# TYPE virt_doctor_fleet_hosts gauge\n");
    let mut per_group: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for g in &summary.groups {
        per_group.entry(&g.name).or_default().0 = g.hosts;
    }
    for f in &summary.failed {
        per_group.entry(&f.group).or_default().1 += 1;
    }
    for (group, (analyzed, failed)) in per_group {
        for (state, n) in [("analyzed", analyzed), ("failed", failed)] {
            out.push_str(&format!(
                "virt_doctor_fleet_hosts{{group=\"{}\",state=\"{state}\"}} {n}\n",
                label(group)
            ));
        }
    }
    out.push_str("# HELP virt_doctor_snapshot_failed A snapshot of the last fleet run that could not be analyzed.\n# TYPE virt_doctor_snapshot_failed gauge\n");
    for f in &summary.failed {
        out.push_str(&format!(
            "virt_doctor_snapshot_failed{{snapshot=\"{}\"}} 1\n",
            label(&f.path)
        ));
    }
    out.push_str("# HELP virt_doctor_fleet_last_run_timestamp_seconds When the last fleet run ended, seconds since the Unix epoch.\n# TYPE virt_doctor_fleet_last_run_timestamp_seconds gauge\n");
    out.push_str(&format!(
        "virt_doctor_fleet_last_run_timestamp_seconds {}\n",
        chrono::Utc::now().timestamp()
    ));
    out
}

/// `3 hosts in 1 group, 1 failed: 2 critical, 5 warnings, 1 info on the
/// hosts; 3 cross-host findings`.
pub fn summary_line(s: &FleetSummary, lang: Lang) -> String {
    let h = &s.host_findings;
    let f = &s.fleet_findings;
    let fleet_n = f.critical + f.warning + f.info;
    match lang {
        Lang::En => format!(
            "{} host{} in {} group{}{}: {} critical, {} warning{}, {} info on the hosts; {} cross-host finding{}",
            s.hosts,
            if s.hosts == 1 { "" } else { "s" },
            s.groups.len(),
            if s.groups.len() == 1 { "" } else { "s" },
            if s.failed.is_empty() {
                String::new()
            } else {
                format!(", {} failed", s.failed.len())
            },
            h.critical,
            h.warning,
            if h.warning == 1 { "" } else { "s" },
            h.info,
            fleet_n,
            if fleet_n == 1 { "" } else { "s" },
        ),
        Lang::ZhCn => format!(
            "{} 台主机，{} 个分组{}：主机上严重 {} 个，警告 {} 个，提示 {} 个；跨主机结果 {} 个",
            s.hosts,
            s.groups.len(),
            if s.failed.is_empty() {
                String::new()
            } else {
                format!("，{} 台失败", s.failed.len())
            },
            h.critical,
            h.warning,
            h.info,
            fleet_n
        ),
    }
}

fn heading(out: &mut String, text: &str) {
    out.push_str(&format!(
        "{text}\n{}\n",
        "─".repeat(crate::prose::width_of(text))
    ));
}

/// How many of a host's critical and warning findings its brief shows.
const BRIEF_LINES: usize = 5;

fn table(s: &FleetSummary, end: &FleetEnd, width: usize, lang: Lang) -> String {
    let w = words(lang);
    let mut out = String::new();
    heading(&mut out, lang.pick("Fleet", "集群"));
    if let Some(shard) = &s.shard {
        out.push_str(&wrap_hanging(
            &match lang {
                Lang::En => {
                    format!("shard {shard}: cross-host rules compared only this shard's hosts")
                }
                Lang::ZhCn => format!("分片 {shard}：跨主机规则只比较了本分片的主机"),
            },
            width,
            "",
            "  ",
        ));
    }
    let name_w = s
        .by_host
        .iter()
        .map(|b| crate::prose::width_of(&b.host))
        .max()
        .unwrap_or(4)
        .max(4);
    let group_w = s
        .by_host
        .iter()
        .map(|b| crate::prose::width_of(&b.group))
        .max()
        .unwrap_or(5)
        .max(5);
    out.push_str(&fit(
        &format!(
            "  {:<name_w$}  {:<group_w$}  {:>8}  {:>8}  {:>5}  {:>7}",
            lang.pick("host", "主机"),
            lang.pick("group", "分组"),
            words::severity(Severity::Critical, lang),
            words::severity(Severity::Warning, lang),
            words::severity(Severity::Info, lang),
            lang.pick("domains", "虚拟机"),
        ),
        width,
    ));
    out.push('\n');
    for b in &s.by_host {
        out.push_str(&fit(
            &format!(
                "  {:<name_w$}  {:<group_w$}  {:>8}  {:>8}  {:>5}  {:>7}{}",
                b.host,
                b.group,
                b.critical,
                b.warning,
                b.info,
                b.domains,
                if b.partial {
                    lang.pick("  (partial snapshot)", "（快照不完整）")
                } else {
                    ""
                }
            ),
            width,
        ));
        out.push('\n');
    }
    for f in &s.failed {
        out.push_str(&wrap_hanging(
            &format!("  {} {}: {}", lang.pick("FAILED", "失败"), f.path, f.error),
            width,
            "",
            "      ",
        ));
    }
    if !s.top_rules.is_empty() {
        out.push_str(lang.pick("Rules hitting the most hosts:\n", "命中主机最多的规则：\n"));
        for r in s.top_rules.iter().take(5) {
            out.push_str(&fit(
                &format!(
                    "  {:>3} {}  {:<8} {} {}",
                    r.hosts,
                    lang.pick(if r.hosts == 1 { "host " } else { "hosts" }, "台"),
                    words::severity(r.severity, lang),
                    r.rule,
                    r.title
                ),
                width,
            ));
            out.push('\n');
        }
    }
    out.push('\n');
    if !end.findings.is_empty() {
        heading(&mut out, lang.pick("Cross-host findings", "跨主机结果"));
        let mut sorted: Vec<&FleetFinding> = end.findings.iter().collect();
        sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
        for f in sorted {
            out.push_str(&wrap_hanging(
                &format!(
                    "{} {} {}{}{}",
                    words::severity(f.severity, lang),
                    f.rule,
                    f.subject,
                    lang.pick(": ", "："),
                    f.title
                ),
                width,
                "",
                "  ",
            ));
            out.push_str(&reflow(&f.message, width, "  "));
            out.push_str(&wrap_hanging(
                &format!("{} {}", lang.pick("hosts:", "主机："), f.hosts.join(", ")),
                width,
                "  ",
                "    ",
            ));
            for e in &f.evidence {
                out.push_str(&wrap_hanging(&e.text, width, "    ", "      "));
            }
            out.push_str(&super::table::fix_block(&f.fix, w.fix));
            out.push('\n');
        }
    }
    if !s.by_host.is_empty() {
        heading(&mut out, lang.pick("Hosts", "各主机"));
        for b in &s.by_host {
            let counts: Vec<String> = [Severity::Critical, Severity::Warning, Severity::Info]
                .iter()
                .map(|sev| words::count(b.count(*sev), *sev, lang))
                .collect();
            out.push_str(&wrap_hanging(
                &format!(
                    "{} ({}): {}",
                    b.host,
                    b.path,
                    counts.join(lang.pick(", ", "，"))
                ),
                width,
                "",
                "  ",
            ));
            let serious: Vec<&BriefFinding> = b
                .findings
                .iter()
                .filter(|f| f.severity >= Severity::Warning)
                .collect();
            let mut sorted = serious.clone();
            sorted.sort_by(|x, y| y.severity.cmp(&x.severity).then(x.rule.cmp(&y.rule)));
            for f in sorted.iter().take(BRIEF_LINES) {
                out.push_str(&fit(
                    &format!(
                        "  {:<8} {:<8} {}{}{}",
                        words::severity(f.severity, lang),
                        f.rule,
                        f.subject,
                        lang.pick(": ", "："),
                        f.title
                    ),
                    width,
                ));
                out.push('\n');
            }
            if sorted.len() > BRIEF_LINES {
                out.push_str(&fit(
                    &match lang {
                        Lang::En => format!(
                            "  … {} more: virt-doctor analyze {}",
                            sorted.len() - BRIEF_LINES,
                            b.path
                        ),
                        Lang::ZhCn => format!(
                            "  …… 另 {} 项：virt-doctor analyze {}",
                            sorted.len() - BRIEF_LINES,
                            b.path
                        ),
                    },
                    width,
                ));
                out.push('\n');
            }
        }
        out.push('\n');
    }
    if !end.rule_errors.is_empty() {
        out.push_str(w.rule_errors);
        out.push('\n');
        for e in end.rule_errors {
            out.push_str(&wrap_hanging(
                &format!("{} on {}: {}", e.rule, e.subject, e.message),
                width,
                "  ",
                "    ",
            ));
        }
    }
    out.push_str(&wrap_hanging(&summary_line(s, lang), width, "", "  "));
    out
}

fn markdown(s: &FleetSummary, end: &FleetEnd, lang: Lang) -> String {
    use crate::prose::code_span;
    use crate::rules::doc::markdown_prose;
    let w = words(lang);
    let mut out = format!(
        "# virt-doctor: {}\n\n**{}**\n\n",
        lang.pick("fleet", "集群"),
        summary_line(s, lang)
    );
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} |\n|---|---|---:|---:|---:|---:|\n",
        lang.pick("host", "主机"),
        lang.pick("group", "分组"),
        words::severity(Severity::Critical, lang),
        words::severity(Severity::Warning, lang),
        words::severity(Severity::Info, lang),
        lang.pick("domains", "虚拟机"),
    ));
    for b in &s.by_host {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            markdown_prose(&b.host).replace('|', "\\|"),
            markdown_prose(&b.group).replace('|', "\\|"),
            b.critical,
            b.warning,
            b.info,
            b.domains
        ));
    }
    for f in &s.failed {
        out.push_str(&format!(
            "\n> **{}** {}: {}\n",
            lang.pick("failed", "失败"),
            code_span(&f.path),
            markdown_prose(&f.error)
        ));
    }
    if !end.findings.is_empty() {
        out.push_str(&format!(
            "\n## {}\n",
            lang.pick("Cross-host findings", "跨主机结果")
        ));
        for f in end.findings {
            out.push_str(&format!(
                "\n### {} `{}` {}: {}\n\n{}\n\n{} {}\n\n",
                words::severity(f.severity, lang),
                f.rule,
                markdown_prose(&f.subject),
                markdown_prose(&f.title),
                markdown_prose(&f.message),
                lang.pick("Hosts:", "主机："),
                f.hosts
                    .iter()
                    .map(|h| code_span(h))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            let label = w.evidence.trim_end_matches([':', '：']);
            for e in &f.evidence {
                out.push_str(&format!("- {label}: {}\n", code_span(&e.text)));
            }
            let fix = w.fix.trim_end_matches([':', '：']);
            out.push_str(&format!(
                "\n{fix}{}\n\n```\n{}\n```\n",
                lang.pick(":", "："),
                f.fix.trim_end()
            ));
        }
    }
    out.push_str(&format!("\n## {}\n", lang.pick("Hosts", "各主机")));
    for b in &s.by_host {
        out.push_str(&format!(
            "\n### {}\n\n{} {}\n\n",
            markdown_prose(&b.host),
            code_span(&b.path),
            [Severity::Critical, Severity::Warning, Severity::Info]
                .iter()
                .map(|sev| words::count(b.count(*sev), *sev, lang))
                .collect::<Vec<_>>()
                .join(lang.pick(", ", "，"))
        ));
        for f in &b.findings {
            out.push_str(&format!(
                "- {} `{}` {}: {}\n",
                words::severity(f.severity, lang),
                f.rule,
                markdown_prose(&f.subject),
                markdown_prose(&f.title)
            ));
        }
    }
    out
}
