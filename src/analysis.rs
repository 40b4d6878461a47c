//! One analysis of one snapshot: facts, the fact rules, the log rules.
//! The CLI's `analyze`, `scan`, `lint` and `diff` and the scenario tests
//! all go through here, so what is tested is what runs.

use crate::config::Config;
use crate::facts::{self, Facts};
use crate::findings::{Evidence, Finding};
use crate::logs::{self, Window};
use crate::report::Report;
use crate::rules::{self, Catalog, RuleError};
use crate::snapshot::Snapshot;

pub struct Analysis {
    pub facts: Facts,
    /// Findings of fact rules and log rules, before suppressions.
    pub findings: Vec<Finding>,
    pub rule_errors: Vec<RuleError>,
    /// Codes of the rules that ran (not disabled or deselected): fact
    /// rules, and log rules when logs were read.
    pub ran: Vec<String>,
}

/// Suppressions in domains' own XML whose expiry is not a date, one
/// message each (`suppress::check`): no report is made, since a typo
/// would otherwise make an exception permanent.
#[derive(Debug)]
pub struct BadSuppressions(pub Vec<String>);

impl std::fmt::Display for BadSuppressions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for BadSuppressions {}

impl Analysis {
    /// The report: domains' own suppressions checked, every suppression
    /// applied as of today. Also returns the codes of the rules that ran
    /// (JUnit writes them as passing test cases).
    pub fn into_report(
        self,
        catalog: &Catalog,
        config: &Config,
    ) -> Result<(Report, Vec<String>), BadSuppressions> {
        crate::suppress::check(&self.facts).map_err(BadSuppressions)?;
        let today = chrono::Local::now().date_naive();
        let outcome = crate::suppress::apply(self.findings, &self.facts, config, catalog, today);
        let report = Report::new(&self.facts, outcome, self.rule_errors, self.ran.len());
        Ok((report, self.ran))
    }
}

/// Everything about a snapshot: its facts, its logs.
pub fn run(snap: &Snapshot, catalog: &Catalog, config: &Config, window: Window) -> Analysis {
    run_with(snap, catalog, config, window, &log_rules(catalog, config))
}

/// The combined log matchers of the rules `config` runs. Building them
/// compiles every pattern, so a run over many snapshots builds them once
/// ([`run_with`]).
pub fn log_rules<'a>(catalog: &'a Catalog, config: &Config) -> logs::LogRules<'a> {
    // A subset of the catalog's log rules, whose union `Catalog::load`
    // already compiled: a subset compiles too.
    logs::LogRules::new(
        catalog
            .log_rules
            .iter()
            .filter(|r| config.runs(r))
            .collect(),
    )
    .expect("the catalog's log patterns combine (checked at load)")
}

/// [`run`] with log matchers already built by [`log_rules`].
pub fn run_with(
    snap: &Snapshot,
    catalog: &Catalog,
    config: &Config,
    window: Window,
    log_rules: &logs::LogRules,
) -> Analysis {
    let mut facts = facts::gather(snap);
    let log = logs::analyze(snap, &facts, log_rules, window, config.lang);
    facts.sources.extend(log.statuses);
    let mut analysis = with_facts(facts, catalog, config, log.findings);
    analysis.rule_errors.extend(log.errors);
    analysis.ran.extend(
        catalog
            .log_rules
            .iter()
            .filter(|r| config.runs(r))
            .map(|r| r.code.clone()),
    );
    analysis
}

/// The fact rules over facts built some other way (`lint` builds them from
/// domain XML files), plus findings found elsewhere.
pub fn with_facts(
    facts: Facts,
    catalog: &Catalog,
    config: &Config,
    extra: Vec<Finding>,
) -> Analysis {
    let evaluation = rules::evaluate(catalog, &facts, config);
    let ran = catalog
        .rules
        .iter()
        .filter(|r| !r.is_fleet() && !evaluation.disabled.contains(&r.code))
        .map(|r| r.code.clone())
        .collect();
    let mut findings = evaluation.findings;
    findings.extend(extra);
    findings.extend(invalid_xml_findings(&facts, catalog, config));
    Analysis {
        facts,
        findings,
        rule_errors: evaluation.errors,
        ran,
    }
}

/// VD003 for every domain XML file libvirt would refuse, with every
/// problem and its line: raised here, not by a predicate, because the
/// facts of a file that does not parse are exactly what is missing.
fn invalid_xml_findings(facts: &Facts, catalog: &Catalog, config: &Config) -> Vec<Finding> {
    let Some(rule) = catalog.find("VD003") else {
        return Vec::new();
    };
    if !config.runs(rule) {
        return Vec::new();
    }
    facts
        .invalid_domain_xml
        .iter()
        .map(|file| {
            let listed: Vec<String> = file
                .problems
                .iter()
                .map(|p| match p.line {
                    Some(l) => format!("{} {l}: {}", config.lang.pick("line", "第"), p.message),
                    None => p.message.clone(),
                })
                .collect();
            Finding {
                rule: rule.code.clone(),
                name: rule.name.clone(),
                category: rule.category.clone(),
                severity: rule.severity,
                domain: None,
                subject: file.path.clone(),
                title: rule.title_in(config.lang).to_owned(),
                message: format!("{}: {}", file.path, listed.join("; ")),
                fix: match config.lang {
                    crate::lang::Lang::En => format!(
                        "Correct the file at the lines named, then check it the way libvirt will:\n  virt-xml-validate {} domain",
                        file.path
                    ),
                    crate::lang::Lang::ZhCn => format!(
                        "按所列行号修正文件，再用 libvirt 的方式校验：\n  virt-xml-validate {} domain",
                        file.path
                    ),
                },
                evidence: file
                    .problems
                    .iter()
                    .map(|p| Evidence {
                        path: Some(file.path.clone()),
                        line: p.line,
                        text: p.message.clone(),
                    })
                    .collect(),
                references: rule.references.clone(),
                events: None,
                apply: Vec::new(),
            }
        })
        .collect()
}
