//! What one log's events say about another's: the guest a kernel event
//! hit, and events a better rule already explains.

use std::collections::{BTreeMap, HashMap};

use super::group::Group;
use crate::rules::catalog::LogRule;

/// A kernel event and a domain log event this close belong together.
pub const SAME_MOMENT_SECONDS: i64 = 120;

/// A kernel event about a QEMU process whose pid names no domain (no
/// status or pid file captured) is tied to the domain whose QEMU log
/// recorded something at the same moment: the OOM kill and the domain's
/// "shutting down, reason=crashed" line. `qemu_events` are the (time,
/// domain) of every event found in a QEMU domain log.
pub fn name_qemu_domains(
    groups: &mut BTreeMap<(usize, String), Group>,
    qemu_events: &[(i64, String)],
) {
    for g in groups.values_mut() {
        let qemu = g
            .values
            .get("comm")
            .is_some_and(|c| c.first().starts_with("qemu"));
        if let (None, true, Some(t)) = (&g.domain, qemu, g.first) {
            g.domain = qemu_events
                .iter()
                .filter(|(at, _)| (at - t).abs() <= SAME_MOMENT_SECONDS)
                .min_by_key(|(at, _)| (at - t).abs())
                .map(|(_, d)| d.clone());
        }
    }
}

/// The groups left once those a rule's `superseded_by` names explain are
/// dropped: a finding of the better rule whose events overlap in time
/// (any finding of it, when times are unknown).
pub fn drop_superseded(
    groups: BTreeMap<(usize, String), Group>,
    rules: &[&LogRule],
) -> Vec<((usize, String), Group)> {
    let mut moments: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for ((rule_index, _), g) in &groups {
        if let (Some(a), Some(b)) = (g.first, g.last) {
            moments
                .entry(rules[*rule_index].code.as_str())
                .or_default()
                .push((a, b));
        }
    }
    let superseded = |rule: &LogRule, g: &Group| {
        rule.superseded_by.iter().any(|code| {
            moments.get(code.as_str()).is_some_and(|spans| {
                spans.iter().any(|(a, b)| match (g.first, g.last) {
                    (Some(first), Some(last)) => {
                        first <= b + SAME_MOMENT_SECONDS && last + SAME_MOMENT_SECONDS >= *a
                    }
                    _ => true,
                })
            })
        })
    };
    groups
        .into_iter()
        .filter(|((rule_index, _), g)| !superseded(rules[*rule_index], g))
        .collect()
}
