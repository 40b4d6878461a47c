//! Reports: the findings of one analysis in the forms people and programs
//! read. `json` is the documented contract (`docs/report-schema.md`);
//! `table` is for a terminal.

pub mod fleet;
mod junit;
mod markdown;
mod prometheus;
mod sarif;
mod table;
pub mod words;

use serde::Serialize;

use crate::facts::Facts;
use crate::findings::{Finding, Severity, CATEGORIES};
use crate::lang::Lang;
use crate::rules::RuleError;
use crate::snapshot::Kind;
use crate::sources::SourceStatus;
use crate::suppress::{Outcome, Suppressed};

pub use junit::render as junit;
pub use markdown::render as markdown;
pub use prometheus::render as prometheus;
pub use sarif::render as sarif;
pub use table::{render as table, Layout};

pub const SCHEMA: &str = "virt-doctor/report/v1";

#[derive(Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub target: Target,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    /// Findings hidden by a suppression, with its reason.
    pub suppressed: Vec<Suppressed>,
    /// Rules that could not be evaluated on some subject.
    pub rule_errors: Vec<RuleError>,
    /// Rules not run, and why (`lint` without host facts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_rules: Vec<SkippedRule>,
    pub sources: Vec<SourceStatus>,
    /// What the analysis could and could not see; absent for `lint` of
    /// domain files without a host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
}

/// Whether the snapshot had what an analysis needs: the core sources
/// (memory, CPUs, domain definitions, logs) by what they tell, and every
/// source with its status and why.
#[derive(Debug, Serialize)]
pub struct Coverage {
    /// Some core group has no source with data.
    pub partial: bool,
    pub missing: Vec<Gap>,
    pub sources: Vec<SourceCoverage>,
}

/// A core group none of whose sources had data.
#[derive(Debug, Serialize)]
pub struct Gap {
    /// `memory`, `CPUs`, `domain definitions`, `logs`.
    pub what: &'static str,
    pub sources: Vec<&'static str>,
    /// Where they were looked for, or why they could not be read.
    pub why: String,
}

#[derive(Debug, Serialize)]
pub struct SourceCoverage {
    pub source: String,
    pub status: crate::sources::Status,
    pub why: String,
}

impl Coverage {
    pub fn of(sources: &[SourceStatus]) -> Coverage {
        use crate::sources::Status;
        let missing: Vec<Gap> = crate::sources::CORE
            .iter()
            .filter_map(|(what, ids)| {
                let of_group: Vec<&SourceStatus> = sources
                    .iter()
                    .filter(|s| ids.contains(&s.id.as_str()))
                    .collect();
                // Log files each have their own status (`log`) once read.
                let logs_read = *what == "logs" && sources.iter().any(|s| s.id == "log");
                let has_data = logs_read
                    || of_group
                        .iter()
                        .any(|s| matches!(s.status, Status::Ok | Status::Malformed));
                (!has_data).then(|| Gap {
                    what,
                    sources: ids.to_vec(),
                    why: of_group
                        .iter()
                        .filter_map(|s| s.detail.as_deref())
                        .collect::<Vec<_>>()
                        .join("; "),
                })
            })
            .collect();
        Coverage {
            partial: !missing.is_empty(),
            missing,
            sources: sources
                .iter()
                .map(|s| SourceCoverage {
                    source: s.id.clone(),
                    status: s.status,
                    why: match (&s.detail, &s.path) {
                        (Some(d), _) => d.clone(),
                        (None, Some(p)) => format!("read from {p}"),
                        (None, None) => String::new(),
                    },
                })
                .collect(),
        }
    }

    /// One line for people, or nothing when the snapshot is complete.
    pub fn note(&self, lang: Lang) -> Option<String> {
        if !self.partial {
            return None;
        }
        Some(match lang {
            Lang::En => {
                let what: Vec<&str> = self.missing.iter().map(|g| g.what).collect();
                format!(
                    "partial snapshot, no {}: findings that need them cannot appear",
                    what.join(", no ")
                )
            }
            Lang::ZhCn => {
                let what: Vec<&str> = self
                    .missing
                    .iter()
                    .map(|g| match g.what {
                        "memory" => "内存",
                        "CPUs" => "CPU",
                        "domain definitions" => "虚拟机定义",
                        "logs" => "日志",
                        other => other,
                    })
                    .collect();
                format!(
                    "快照不完整，缺少{}：依赖这些数据的检查结果不会出现",
                    what.join("、")
                )
            }
        })
    }
}

#[derive(Debug, Serialize)]
pub struct SkippedRule {
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Target {
    pub kind: Kind,
    pub path: String,
    pub hostname: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub domains: usize,
    pub rules_run: usize,
    pub suppressed: usize,
    /// Unix time the report was made.
    pub generated_at: i64,
}

impl Report {
    pub fn new(
        facts: &Facts,
        outcome: Outcome,
        rule_errors: Vec<RuleError>,
        rules_run: usize,
    ) -> Report {
        let mut findings = outcome.findings;
        findings.sort_by(|a, b| {
            category_rank(&a.category)
                .cmp(&category_rank(&b.category))
                .then(b.severity.cmp(&a.severity))
                .then(a.rule.cmp(&b.rule))
                .then(a.subject.cmp(&b.subject))
        });
        let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
        let summary = Summary {
            critical: count(Severity::Critical),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
            domains: facts.domains.len(),
            rules_run,
            suppressed: outcome.suppressed.len(),
            generated_at: chrono::Utc::now().timestamp(),
        };
        Report {
            schema: SCHEMA,
            tool: Tool {
                name: "virt-doctor",
                version: env!("CARGO_PKG_VERSION"),
            },
            target: Target {
                kind: facts.target.kind,
                path: facts.target.path.clone(),
                hostname: facts.host.hostname.clone(),
            },
            summary,
            findings,
            suppressed: outcome.suppressed,
            rule_errors,
            skipped_rules: Vec::new(),
            sources: facts.sources.clone(),
            coverage: Some(Coverage::of(&facts.sources)),
        }
    }

    /// The worst severity present, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Who has the most findings: the host itself (findings about no one
    /// domain, under its name) and each domain, most first, at most `n`.
    pub fn most_findings(&self, n: usize) -> Vec<(&str, usize)> {
        let host = self.target.hostname.as_deref().unwrap_or(&self.target.path);
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for f in &self.findings {
            let who = f.domain.as_deref().unwrap_or(host);
            match counts.iter_mut().find(|(w, _)| *w == who) {
                Some((_, c)) => *c += 1,
                None => counts.push((who, 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts.truncate(n);
        counts
    }

    /// `2 critical, 7 warnings, 3 info on kvm-host-17 (4 domains); most
    /// findings: db01 (5), kvm-host-17 (4), web02 (3)`.
    pub fn summary_line(&self, lang: Lang) -> String {
        let s = &self.summary;
        let on = self.target.hostname.as_deref().unwrap_or(&self.target.path);
        let most = self.most_findings(3);
        // One name is no ranking.
        let most = (most.len() >= 2).then(|| {
            most.iter()
                .map(|(w, n)| match lang {
                    Lang::En => format!("{w} ({n})"),
                    Lang::ZhCn => format!("{w}（{n}）"),
                })
                .collect::<Vec<_>>()
        });
        match lang {
            Lang::En => {
                let suppressed = if s.suppressed > 0 {
                    format!(", {} suppressed", s.suppressed)
                } else {
                    String::new()
                };
                format!(
                    "{} critical, {} warning{}, {} info on {on} ({} domain{}{suppressed}){}",
                    s.critical,
                    s.warning,
                    if s.warning == 1 { "" } else { "s" },
                    s.info,
                    s.domains,
                    if s.domains == 1 { "" } else { "s" },
                    most.map_or(String::new(), |m| format!(
                        "; most findings: {}",
                        m.join(", ")
                    ))
                )
            }
            Lang::ZhCn => {
                let suppressed = if s.suppressed > 0 {
                    format!("，已抑制 {} 个", s.suppressed)
                } else {
                    String::new()
                };
                format!(
                    "{on}（{} 台虚拟机{suppressed}）：严重 {} 个，警告 {} 个，提示 {} 个{}",
                    s.domains,
                    s.critical,
                    s.warning,
                    s.info,
                    most.map_or(String::new(), |m| format!("；结果最多：{}", m.join("，")))
                )
            }
        }
    }
}

fn category_rank(c: &str) -> usize {
    CATEGORIES
        .iter()
        .position(|x| *x == c)
        .unwrap_or(CATEGORIES.len())
}

/// One line per finding, `severity CODE subject: title` (ruff's
/// `--output-format concise`), for grep, a chat, or a glance; nothing
/// else, so that `wc -l` counts findings.
pub fn concise(report: &Report) -> String {
    let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&format!(
            "{} {} {}: {}\n",
            f.severity.as_str(),
            f.rule,
            one_line(&f.subject),
            one_line(&f.title)
        ));
    }
    out
}
