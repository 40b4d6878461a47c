//! Running the fleet rules (`scope = "fleet"`) over the groups of a fleet
//! run. Each group becomes CEL values once (`group`, `hosts`); a rule
//! with `each` gets one subject per element of that list (`item`), a rule
//! without it one subject per group. As with host rules, a rule that
//! fails on a subject is a rule error naming it, and the rest goes on.

use cel_interpreter::{Context, Value};

use super::catalog::{Catalog, Rule};
use super::engine::{get, params, RuleError};
use super::expr::{display, root_context, serialize_to_cel};
use crate::config::Config;
use crate::findings::{Evidence, FleetFinding};
use crate::fleet::GroupFacts;
use crate::lang::Lang;

pub struct FleetEvaluation {
    pub findings: Vec<FleetFinding>,
    pub errors: Vec<RuleError>,
    /// Codes of the fleet rules that ran.
    pub ran: Vec<String>,
}

pub fn evaluate_fleet(
    catalog: &Catalog,
    groups: &[GroupFacts],
    config: &Config,
) -> FleetEvaluation {
    let rules: Vec<&Rule> = catalog
        .rules
        .iter()
        .filter(|r| r.is_fleet() && config.runs(r))
        .collect();
    let mut out = FleetEvaluation {
        findings: Vec::new(),
        errors: Vec::new(),
        ran: rules.iter().map(|r| r.code.clone()).collect(),
    };
    for group in groups {
        let group_value = match serialize_to_cel(group) {
            Ok(v) => v,
            Err(e) => {
                out.errors.push(RuleError {
                    rule: "fleet".into(),
                    subject: group.name.clone(),
                    message: format!("the group's facts: {e}"),
                });
                continue;
            }
        };
        let hosts_value = get(&group_value, "hosts");
        let root_of = |lang: Lang| {
            let mut root = root_context(lang);
            root.add_variable_from_value("group", group_value.clone());
            root.add_variable_from_value("hosts", hosts_value.clone());
            root
        };
        let root = root_of(config.lang);
        // Subjects, evidence and host lists are data: English, whatever
        // the report's language (as for host rules).
        let english = (config.lang != Lang::En).then(|| root_of(Lang::En));
        for rule in &rules {
            let params = params(rule, config);
            let mut rule_ctx = root.new_inner_scope();
            rule_ctx.add_variable_from_value("params", params.clone());
            let rule_english = english.as_ref().map(|e| {
                let mut c = e.new_inner_scope();
                c.add_variable_from_value("params", params.clone());
                c
            });
            let items = match &rule.each {
                None => vec![None],
                Some(each) => match each.eval(&rule_ctx) {
                    Ok(Value::List(l)) => l.iter().cloned().map(Some).collect(),
                    Ok(Value::Null) => Vec::new(),
                    Ok(other) => {
                        out.errors.push(RuleError {
                            rule: rule.code.clone(),
                            subject: group.name.clone(),
                            message: format!(
                                "each: `{}` gave {} instead of a list",
                                each.source,
                                display(&other)
                            ),
                        });
                        continue;
                    }
                    Err(e) => {
                        out.errors.push(RuleError {
                            rule: rule.code.clone(),
                            subject: group.name.clone(),
                            message: format!("each: {e}"),
                        });
                        continue;
                    }
                },
            };
            for item in items {
                let mut ctx = rule_ctx.new_inner_scope();
                let mut data_ctx = rule_english.as_ref().map(|e| e.new_inner_scope());
                if let Some(item) = &item {
                    ctx.add_variable_from_value("item", item.clone());
                    if let Some(d) = data_ctx.as_mut() {
                        d.add_variable_from_value("item", item.clone());
                    }
                }
                let data = data_ctx.as_ref().unwrap_or(&ctx);
                match check(
                    rule,
                    &ctx,
                    data,
                    &group.name,
                    item.as_ref(),
                    &hosts_value,
                    config.lang,
                ) {
                    Ok(Some(f)) => out.findings.push(f),
                    Ok(None) => {}
                    Err(e) => out.errors.push(RuleError {
                        rule: rule.code.clone(),
                        subject: rule
                            .subject
                            .render(data)
                            .unwrap_or_else(|_| group.name.clone()),
                        message: e,
                    }),
                }
            }
        }
    }
    out
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l.iter().map(display).collect(),
        _ => Vec::new(),
    }
}

fn check(
    rule: &Rule,
    ctx: &Context,
    data: &Context,
    group: &str,
    item: Option<&Value>,
    all_hosts: &Value,
    lang: Lang,
) -> Result<Option<FleetFinding>, String> {
    if !rule.when.truth(ctx)? {
        return Ok(None);
    }
    let hosts = match &rule.affected_hosts {
        Some(e) => strings(&e.eval(data)?),
        None => match all_hosts {
            Value::List(l) => l.iter().map(|h| display(&get(h, "name"))).collect(),
            _ => Vec::new(),
        },
    };
    let domain = match &rule.domain {
        Some(e) => match e.eval(data)? {
            Value::Null => None,
            v => Some(display(&v)),
        },
        None => None,
    };
    let mut evidence = Vec::new();
    for spec in &rule.evidence {
        evidence.push(Evidence {
            path: None,
            line: None,
            text: spec.text.render(data)?,
        });
    }
    // Without evidence of its own, a finding shows the combiner's lines
    // for its item: each host with what it has.
    if evidence.is_empty() {
        if let Some(item) = item {
            evidence.extend(
                strings(&get(item, "evidence"))
                    .into_iter()
                    .map(|text| Evidence {
                        path: None,
                        line: None,
                        text,
                    }),
            );
        }
    }
    Ok(Some(FleetFinding {
        rule: rule.code.clone(),
        name: rule.name.clone(),
        category: rule.category.clone(),
        severity: rule.severity,
        group: group.to_owned(),
        hosts,
        domain,
        subject: rule.subject.render(data)?,
        title: rule.title_in(lang).to_owned(),
        message: rule.message.get(lang).render(ctx)?,
        fix: rule.fix.get(lang).render(ctx)?.trim_end().to_owned(),
        evidence,
        references: rule.references.clone(),
    }))
}
