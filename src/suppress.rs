//! Suppressions: known exceptions, each with a reason, written in
//! `virt-doctor.toml` or carried by a domain in its own `<metadata>`.
//!
//! A suppression hides matching findings from the report and the exit code
//! but never loses them: they are counted and listed with
//! `--show-suppressed`. An expired one stops hiding and is itself reported
//! (VD001); one that matches nothing is reported as unused (VD002), like
//! ruff's RUF100, so exceptions cannot outlive their reason unnoticed.

use crate::lang::Lang;
use serde::Serialize;

use crate::config::{Config, Suppression};
use crate::facts::Facts;
use crate::findings::{Evidence, Finding, Severity};
use crate::rules::Catalog;

/// A finding a suppression hid, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    pub reason: String,
    /// `file:line` of the suppression.
    pub suppressed_by: String,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
}

/// All suppressions in force for this host: the config's, and every
/// domain's own (scoped to that domain).
fn collect(facts: &Facts, config: &Config) -> Vec<Suppression> {
    let mut all = config.suppressions.clone();
    for d in &facts.domains {
        for s in &d.domain.suppressions {
            all.push(Suppression {
                rule: s.rule.clone(),
                host: None,
                // The domain's own name, matched literally.
                domain: Some(glob::Pattern::escape(&d.domain.name)),
                reason: s.reason.clone(),
                expires: s
                    .expires
                    .as_deref()
                    .and_then(|e| chrono::NaiveDate::parse_from_str(e, "%Y-%m-%d").ok()),
                origin: format!("{}:{}", d.source_path, s.line),
            });
        }
    }
    all
}

fn matches(s: &Suppression, f: &Finding, hostname: Option<&str>) -> bool {
    let rule = f.rule.eq_ignore_ascii_case(&s.rule) || f.name == s.rule || f.category == s.rule;
    let glob = |pattern: &Option<String>, value: Option<&str>| match pattern {
        None => true,
        Some(p) => match (glob::Pattern::new(p), value) {
            (Ok(p), Some(v)) => p.matches(v),
            _ => false,
        },
    };
    rule && glob(&s.host, hostname) && glob(&s.domain, f.domain.as_deref())
}

/// Expiry dates in domains' own suppressions must be dates, as in the
/// config file: a typo would otherwise make an exception permanent.
pub fn check(facts: &Facts) -> Result<(), Vec<String>> {
    let errors: Vec<String> = facts
        .domains
        .iter()
        .flat_map(|d| {
            d.domain.suppressions.iter().filter_map(move |s| {
                let e = s.expires.as_deref()?;
                chrono::NaiveDate::parse_from_str(e, "%Y-%m-%d")
                    .is_err()
                    .then(|| {
                        format!(
                            "{}:{}: <vd:suppress expires='{}'>: not a date (YYYY-MM-DD)",
                            d.source_path,
                            s.line,
                            crate::parse::attr_value(e)
                        )
                    })
            })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

pub fn apply(
    findings: Vec<Finding>,
    facts: &Facts,
    config: &Config,
    catalog: &Catalog,
    today: chrono::NaiveDate,
) -> Outcome {
    let hostname = facts.host.hostname.as_deref();
    let suppressions = collect(facts, config);
    let expired: Vec<bool> = suppressions
        .iter()
        .map(|s| s.expires.is_some_and(|e| e < today))
        .collect();
    let mut used = vec![false; suppressions.len()];
    let mut out = Outcome::default();
    for f in findings {
        let hit = suppressions
            .iter()
            .enumerate()
            .find(|(i, s)| !expired[*i] && matches(s, &f, hostname));
        match hit {
            Some((i, s)) => {
                used[i] = true;
                out.suppressed.push(Suppressed {
                    finding: f,
                    reason: s.reason.clone(),
                    suppressed_by: s.origin.clone(),
                });
            }
            None => out.findings.push(f),
        }
    }
    let subject = hostname.unwrap_or("host").to_owned();
    // The meta rules follow the selection like any rule (`--select DISK`
    // reports no VD002), and a suppression of rules that did not run is
    // not "unused": nothing could have matched it (ruff's RUF100 works
    // the same way).
    let reports = |code: &str| catalog.find(code).is_some_and(|m| config.runs(m));
    let could_match = |s: &Suppression| {
        catalog.all().any(|m| {
            (m.code.eq_ignore_ascii_case(&s.rule) || m.name == s.rule || m.category == s.rule)
                && config.runs(m)
        })
    };
    for (i, s) in suppressions.iter().enumerate() {
        let scope = describe(s, config.lang);
        if expired[i] && reports("VD001") {
            let date = s.expires.map(|d| d.to_string()).unwrap_or_default();
            out.findings.push(meta_finding(
                catalog,
                config.lang,
                "VD001",
                &subject,
                match config.lang {
                    Lang::En => format!("The suppression of {scope} ({}) expired on {date}; its findings are reported again. Reason given: {}", s.origin, s.reason),
                    Lang::ZhCn => format!("对 {scope} 的抑制（{}）已于 {date} 过期，它的检查结果重新报告。当时给出的原因：{}", s.origin, s.reason),
                },
                match config.lang {
                    Lang::En => format!("Fix what it excused, or renew the exception with a later date:\n  {} -> expires = \"YYYY-MM-DD\"", s.origin),
                    Lang::ZhCn => format!("修复它所豁免的问题，或把例外延期到更晚的日期：\n  {} -> expires = \"YYYY-MM-DD\"", s.origin),
                },
                s,
            ));
        } else if !expired[i] && !used[i] && could_match(s) && reports("VD002") {
            out.findings.push(meta_finding(
                catalog,
                config.lang,
                "VD002",
                &subject,
                match config.lang {
                    Lang::En => format!(
                        "The suppression of {scope} ({}) matched no finding. Reason given: {}",
                        s.origin, s.reason
                    ),
                    Lang::ZhCn => format!(
                        "对 {scope} 的抑制（{}）没有匹配到任何检查结果。当时给出的原因：{}",
                        s.origin, s.reason
                    ),
                },
                match config.lang {
                    Lang::En => format!("Delete the suppression at {}.", s.origin),
                    Lang::ZhCn => format!("删除 {} 处的这条抑制。", s.origin),
                },
                s,
            ));
        }
    }
    out
}

fn describe(s: &Suppression, lang: Lang) -> String {
    let mut d = format!("`{}`", s.rule);
    if let Some(h) = &s.host {
        d.push_str(&match lang {
            Lang::En => format!(" on hosts `{h}`"),
            Lang::ZhCn => format!("（主机 `{h}`）"),
        });
    }
    if let Some(dom) = &s.domain {
        d.push_str(&match lang {
            Lang::En => format!(" for domains `{dom}`"),
            Lang::ZhCn => format!("（虚拟机 `{dom}`）"),
        });
    }
    d
}

#[allow(clippy::too_many_arguments)]
fn meta_finding(
    catalog: &Catalog,
    lang: Lang,
    code: &str,
    subject: &str,
    message: String,
    fix: String,
    s: &Suppression,
) -> Finding {
    let rule = catalog.find(code);
    let (path, line) = match s.origin.rsplit_once(':') {
        Some((p, l)) => (Some(p.to_owned()), l.parse().ok()),
        None => (Some(s.origin.clone()), None),
    };
    Finding {
        rule: code.to_owned(),
        name: rule.map_or_else(|| code.to_lowercase(), |r| r.name.clone()),
        category: "host".into(),
        severity: rule.map_or(Severity::Warning, |r| r.severity),
        domain: s
            .domain
            .clone()
            .filter(|d| !d.contains(['*', '?', '[', ']'])),
        subject: subject.to_owned(),
        title: rule.map_or_else(String::new, |r| r.title_in(lang).to_owned()),
        message,
        fix,
        evidence: vec![Evidence {
            path,
            line,
            text: format!("suppress {} (reason: {})", s.rule, s.reason),
        }],
        references: rule.map(|r| r.references.clone()).unwrap_or_default(),
        events: None,
        apply: Vec::new(),
    }
}
