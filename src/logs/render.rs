//! Groups of events as findings, in the report's language.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cel_interpreter::{Context, Value};

use super::group::{captures_value, Group};
use super::time;
use crate::findings::Finding;
use crate::lang::Lang;
use crate::rules::catalog::LogRule;

/// The finding of each group with enough events. A template that fails
/// is noted in `failed` as (rule, subject, error).
pub fn findings(
    groups: Vec<((usize, String), Group)>,
    rules: &[&LogRule],
    root: &Context,
    host_name: Option<&str>,
    lang: Lang,
    failed: &mut BTreeSet<(usize, String, String)>,
) -> Vec<Finding> {
    let text = |t: String| Value::String(Arc::new(t));
    let optional = |t: Option<&str>| t.map_or(Value::Null, |t| text(t.to_owned()));
    let mut out = Vec::new();
    for ((rule_index, subject), g) in groups {
        let rule = rules[rule_index];
        if g.densest < rule.min_count as usize {
            continue;
        }
        let mut ctx = root.new_inner_scope();
        let shown: BTreeMap<String, String> = g
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.show(lang)))
            .collect();
        ctx.add_variable_from_value("m", captures_value(&shown));
        ctx.add_variable_from_value("count", Value::Int(g.count as i64));
        ctx.add_variable_from_value("first", text(time::show(g.first, lang)));
        ctx.add_variable_from_value("last", text(time::show(g.last, lang)));
        ctx.add_variable_from_value("span", text(time::span(g.first, g.last, lang)));
        ctx.add_variable_from_value("cause", optional(g.cause.as_deref()));
        ctx.add_variable_from_value("domain", optional(g.domain.as_deref()));
        ctx.add_variable_from_value("host", optional(host_name));
        let subject = if subject.is_empty() {
            host_name.unwrap_or("host").to_owned()
        } else {
            subject
        };
        let (message, fix) = match (
            rule.message.get(lang).render(&ctx),
            rule.fix.get(lang).render(&ctx),
        ) {
            (Ok(m), Ok(f)) => (m, f),
            (Err(e), _) | (_, Err(e)) => {
                failed.insert((rule_index, subject, e));
                continue;
            }
        };
        out.push(Finding {
            rule: rule.code.clone(),
            name: rule.name.clone(),
            category: rule.category.clone(),
            severity: rule.severity,
            domain: g.domain.clone(),
            subject,
            title: rule.title_in(lang).to_owned(),
            message,
            fix: fix.trim_end().to_owned(),
            evidence: g.samples,
            references: rule.references.clone(),
            events: Some(g.count),
            apply: Vec::new(),
        });
    }
    out
}
