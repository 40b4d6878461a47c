//! Running the catalog over a host's facts.
//!
//! The facts become CEL values once; each rule then gets a scope with its
//! parameters, and each subject of the rule's scope (a domain, a disk, a
//! block device, ...) a scope with that subject bound. A rule that fails to
//! evaluate on a subject (a typo in a site rule, a null it did not guard)
//! is reported as a rule error with the subject named; the other rules and
//! subjects go on.

use std::sync::Arc;

use cel_interpreter::{Context, Value};
use serde::Serialize;

use super::catalog::{Catalog, Rule, Scope};
use super::expr::{display, root_context, serialize_to_cel, to_cel};
use crate::config::Config;
use crate::facts::Facts;
use crate::findings::{Evidence, Finding};
use crate::lang::Lang;

#[derive(Debug, Clone, Serialize)]
pub struct RuleError {
    pub rule: String,
    pub subject: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub errors: Vec<RuleError>,
    /// Rules skipped by the config's `disable`.
    pub disabled: Vec<String>,
}

/// One thing a rule looks at: the variables bound for it, and the domain
/// it belongs to (for the finding's `domain` field).
struct Subject {
    bindings: Vec<(&'static str, Value)>,
    domain: Option<String>,
}

/// A map's field, or null (also the fleet rules').
pub(super) fn get(v: &Value, key: &str) -> Value {
    match v {
        Value::Map(m) => m
            .map
            .get(&cel_interpreter::objects::Key::String(Arc::new(
                key.to_owned(),
            )))
            .cloned()
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::List(items) => items.iter().cloned().collect(),
        _ => Vec::new(),
    }
}

fn subjects(scope: Scope, host: &Value, domains: &[Value]) -> Vec<Subject> {
    let name = |d: &Value| match get(d, "name") {
        Value::String(s) => Some(s.to_string()),
        _ => None,
    };
    let each_host = |key: &str, var: &'static str| -> Vec<Subject> {
        let v = if key == "numa" {
            get(&get(host, "numa"), "nodes")
        } else {
            get(host, key)
        };
        list(&v)
            .into_iter()
            .map(|x| Subject {
                bindings: vec![(var, x)],
                domain: None,
            })
            .collect()
    };
    match scope {
        Scope::Host => vec![Subject {
            bindings: Vec::new(),
            domain: None,
        }],
        Scope::Domain => domains
            .iter()
            .map(|d| Subject {
                bindings: vec![("domain", d.clone())],
                domain: name(d),
            })
            .collect(),
        Scope::Disk | Scope::Interface => {
            let (key, var) = if scope == Scope::Disk {
                ("disks", "disk")
            } else {
                ("interfaces", "iface")
            };
            domains
                .iter()
                .flat_map(|d| {
                    list(&get(d, key)).into_iter().map(move |x| Subject {
                        bindings: vec![("domain", d.clone()), (var, x)],
                        domain: name(d),
                    })
                })
                .collect()
        }
        Scope::NumaNode => each_host("numa", "node"),
        Scope::BlockDevice => each_host("block", "dev"),
        Scope::HugepagePool => each_host("hugepages", "pool"),
        Scope::NetDevice => each_host("net", "nic"),
        // Fleet rules run over groups of hosts (`evaluate_fleet`).
        Scope::Fleet => Vec::new(),
    }
}

/// The facts as CEL values, converted once and shared by every thread,
/// with the subjects of each scope the enabled rules use (computed once,
/// not once per rule: with 5,000 domains that was 92 × 5,000 lookups of
/// each domain's name).
struct Bound {
    host: Value,
    derived: Value,
    domains_value: Value,
    sources: Value,
    capture: Value,
    subjects: Vec<(Scope, Vec<Subject>)>,
}

impl Bound {
    fn subjects(&self, scope: Scope) -> &[Subject] {
        self.subjects
            .iter()
            .find(|(s, _)| *s == scope)
            .map_or(&[], |(_, subjects)| subjects.as_slice())
    }
}

fn cel<T: serde::Serialize>(v: &T) -> Value {
    serialize_to_cel(v).expect("facts serialise")
}

/// The domains as one CEL list, converted on `threads` threads: on a host
/// with thousands of domains the conversion is most of the fixed cost of
/// an evaluation, and domains convert independently. Each thread converts
/// its share in one go, so that its domains share their interned field
/// names (one copy per thread, not one per domain).
fn domains_to_cel(domains: &[crate::facts::DomainFacts], threads: usize) -> Value {
    let chunk = domains.len().div_ceil(threads).max(1);
    let parts: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = domains
            .chunks(chunk)
            .map(|part| scope.spawn(move || cel(&part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("conversion thread"))
            .collect()
    });
    Value::List(Arc::new(parts.iter().flat_map(list).collect()))
}

pub fn evaluate(catalog: &Catalog, facts: &Facts, config: &Config) -> Evaluation {
    // Rules are independent, so they are shared out over the CPUs; results
    // are put back in catalog order, so the output does not depend on the
    // thread count.
    let threads = config.rule_threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    });
    let mut out = Evaluation::default();
    let enabled: Vec<&Rule> = catalog
        .rules
        .iter()
        .filter(|r| !r.is_fleet())
        .filter(|r| {
            let off = !config.runs(r);
            if off {
                out.disabled.push(r.code.clone());
            }
            !off
        })
        .collect();
    let domains_value = domains_to_cel(&facts.domains, threads);
    let sources: std::collections::BTreeMap<&str, &crate::sources::SourceStatus> =
        facts.sources.iter().map(|s| (s.id.as_str(), s)).collect();
    let host = cel(&facts.host);
    let mut scopes: Vec<Scope> = enabled.iter().map(|r| r.scope).collect();
    scopes.sort_by_key(|s| *s as u8);
    scopes.dedup();
    let subjects = scopes
        .into_iter()
        .map(|scope| (scope, subjects(scope, &host, &list(&domains_value))))
        .collect();
    let bound = Bound {
        host,
        derived: cel(&facts.derived),
        domains_value,
        sources: cel(&sources),
        capture: cel(&facts.capture),
        subjects,
    };
    let chunk = enabled.len().div_ceil(threads).max(1);
    let parts: Vec<Evaluation> = std::thread::scope(|scope| {
        let handles: Vec<_> = enabled
            .chunks(chunk)
            .map(|rules| scope.spawn(|| run_rules(rules, &bound, config)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("rule evaluation thread"))
            .collect()
    });
    for part in parts {
        out.findings.extend(part.findings);
        out.errors.extend(part.errors);
    }
    out
}

fn run_rules(rules: &[&Rule], bound: &Bound, config: &Config) -> Evaluation {
    // Titles, messages and fixes are written in the report's language;
    // subjects and evidence are data, the same in every language (a
    // finding is matched across runs by rule and subject), so they are
    // rendered in English.
    let root_of = |lang: Lang| {
        let mut root = root_context(lang);
        root.add_variable_from_value("host", bound.host.clone());
        root.add_variable_from_value("derived", bound.derived.clone());
        root.add_variable_from_value("domains", bound.domains_value.clone());
        root.add_variable_from_value("sources", bound.sources.clone());
        root.add_variable_from_value("capture", bound.capture.clone());
        root
    };
    let root = root_of(config.lang);
    let english = (config.lang != Lang::En).then(|| root_of(Lang::En));
    let mut out = Evaluation::default();
    for rule in rules {
        let params = params(rule, config);
        let mut rule_ctx = root.new_inner_scope();
        rule_ctx.add_variable_from_value("params", params.clone());
        let mut rule_english = english.as_ref().map(|e| e.new_inner_scope());
        if let Some(e) = rule_english.as_mut() {
            e.add_variable_from_value("params", params);
        }
        for subject in bound.subjects(rule.scope) {
            let mut ctx = rule_ctx.new_inner_scope();
            let mut data_ctx = rule_english.as_ref().map(|e| e.new_inner_scope());
            for (k, v) in &subject.bindings {
                ctx.add_variable_from_value(*k, v.clone());
                if let Some(e) = data_ctx.as_mut() {
                    e.add_variable_from_value(*k, v.clone());
                }
            }
            let data = data_ctx.as_ref().unwrap_or(&ctx);
            match check(rule, &ctx, data, subject.domain.clone(), config.lang) {
                Ok(Some(mut f)) if config.fix_steps && !rule.apply.is_empty() => {
                    // Steps are commands, the same in every language. A
                    // step that fails to render is the rule's error; the
                    // finding stands without steps.
                    match apply_steps(rule, data, f.domain.as_deref(), config.without_host) {
                        Ok(steps) => f.apply = steps,
                        Err(e) => out.errors.push(RuleError {
                            rule: rule.code.clone(),
                            subject: f.subject.clone(),
                            message: e,
                        }),
                    }
                    out.findings.push(f)
                }
                Ok(Some(f)) => out.findings.push(f),
                Ok(None) => {}
                Err(e) => out.errors.push(RuleError {
                    rule: rule.code.clone(),
                    subject: rule.subject.render(data).unwrap_or_else(|_| "?".into()),
                    message: e,
                }),
            }
        }
    }
    out
}

/// The finding's fix as steps (`[[rule.apply]]`), in the rule's order.
fn apply_steps(
    rule: &Rule,
    data: &Context,
    domain: Option<&str>,
    without_host: bool,
) -> Result<Vec<crate::findings::Step>, String> {
    let mut steps = Vec::new();
    let mut left_out = false;
    for spec in &rule.apply {
        if without_host && spec.reads_host {
            left_out = true;
            continue;
        }
        steps.extend(spec.render(data, domain)?);
    }
    if left_out {
        steps.push(crate::findings::Step {
            change: crate::findings::Change::Manual {
                text: "this fix depends on the host's CPUs or memory: plan with --host SNAPSHOT for its commands".into(),
            },
            needs: Vec::new(),
            note: None,
            last: false,
        });
    }
    Ok(steps)
}

/// The rule's parameters: defaults, overridden by the config.
pub(super) fn params(rule: &Rule, config: &Config) -> Value {
    let map: serde_json::Map<String, serde_json::Value> = rule
        .params
        .iter()
        .map(|p| {
            let v = config
                .param(&rule.code, &rule.name, &p.name)
                .unwrap_or_else(|| p.default.clone());
            (p.name.clone(), v)
        })
        .collect();
    to_cel(&serde_json::Value::Object(map))
}

/// The finding of `rule` on one subject, if its predicate holds: texts
/// from `ctx` (the report's language), subject and evidence from `data`
/// (English).
fn check(
    rule: &Rule,
    ctx: &Context,
    data: &Context,
    domain: Option<String>,
    lang: Lang,
) -> Result<Option<Finding>, String> {
    if !rule.when.truth(ctx)? {
        return Ok(None);
    }
    let mut evidence = Vec::new();
    for spec in &rule.evidence {
        let path = match &spec.path {
            Some(e) => match e.eval(ctx)? {
                Value::Null => None,
                v => Some(display(&v)),
            },
            None => None,
        };
        let line = match &spec.line {
            Some(e) => match e.eval(ctx)? {
                Value::Int(i) if i > 0 => Some(i as usize),
                _ => None,
            },
            None => None,
        };
        evidence.push(Evidence {
            path,
            line,
            text: spec.text.render(data)?,
        });
    }
    if evidence.is_empty() {
        evidence.extend(default_evidence(rule.scope, data)?);
    }
    Ok(Some(Finding {
        rule: rule.code.clone(),
        name: rule.name.clone(),
        category: rule.category.clone(),
        severity: rule.severity,
        domain,
        subject: rule.subject.render(data)?,
        title: rule.title_in(lang).to_owned(),
        message: rule.message.get(lang).render(ctx)?,
        fix: rule.fix.get(lang).render(ctx)?.trim_end().to_owned(),
        evidence,
        references: rule.references.clone(),
        events: None,
        apply: Vec::new(),
    }))
}

/// ` name='value'`, or nothing for a value the XML does not set.
fn xml_attr(name: &str, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        v => format!(" {name}='{}'", display(v)),
    }
}

/// ` <element a='1' b='2'/>` from the fields of `of` that are set
/// (`(attribute, field)` pairs), or nothing when none is: evidence shows the
/// XML as the domain has it.
fn xml_element(element: &str, of: &Value, attributes: &[(&str, &str)]) -> String {
    let attrs: String = attributes
        .iter()
        .map(|(attr, field)| xml_attr(attr, &get(of, field)))
        .collect();
    if attrs.is_empty() {
        String::new()
    } else {
        format!(" <{element}{attrs}/>")
    }
}

/// Where a finding points when its rule names no evidence: the element
/// of the domain XML for domain-level scopes, shown as the XML sets it.
fn default_evidence(scope: Scope, ctx: &Context) -> Result<Option<Evidence>, String> {
    let var = |name: &str| ctx.get_variable(name).map_err(|e| e.to_string());
    let domain_line = |element: &Value, text: String| -> Result<Option<Evidence>, String> {
        let d = var("domain")?;
        let line = match get(element, "line") {
            Value::Int(i) if i > 0 => Some(i as usize),
            _ => None,
        };
        Ok(Some(Evidence {
            path: Some(display(&get(&d, "source_path"))),
            line,
            text,
        }))
    };
    match scope {
        Scope::Domain => {
            let d = var("domain")?;
            domain_line(&d, format!("<domain> {}", display(&get(&d, "name"))))
        }
        Scope::Disk => {
            let k = var("disk")?;
            let text = format!(
                "<target{}{}/>{}",
                xml_attr("dev", &get(&k, "target")),
                xml_attr("bus", &get(&k, "bus")),
                xml_element(
                    "driver",
                    &k,
                    &[("cache", "cache"), ("io", "io"), ("discard", "discard")]
                )
            );
            domain_line(&k, text)
        }
        Scope::Interface => {
            let i = var("iface")?;
            let text = format!(
                "<interface{}>{}{}",
                xml_attr("type", &get(&i, "type")),
                xml_element("model", &i, &[("type", "model")]),
                xml_element("driver", &i, &[("name", "driver"), ("queues", "queues")])
            );
            domain_line(&i, text)
        }
        _ => Ok(None),
    }
}
