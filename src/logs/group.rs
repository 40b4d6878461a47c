//! Events of one rule and subject, gathered into what a finding says:
//! how many, first and last time, the values each capture took, samples.

use std::collections::{BTreeMap, VecDeque};

use cel_interpreter::Value;

use crate::findings::Evidence;
use crate::lang::Lang;
use crate::rules::expr::to_cel;

/// Sample lines kept as evidence per finding.
pub const SAMPLES: usize = 3;

#[derive(Default)]
pub struct Group {
    pub count: usize,
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Every value each named capture took, with how often: a finding
    /// that groups eight soft lockups must not speak for all eight with
    /// the first one's CPU and pid.
    pub values: BTreeMap<String, Values>,
    pub domain: Option<String>,
    pub samples: Vec<Evidence>,
    /// Why the last event happened, from the lines before it (rules with
    /// a `cause` pattern).
    pub cause: Option<String>,
    /// Times inside the rule's window, for `min_count` within `within_seconds`.
    recent: VecDeque<i64>,
    /// Most events inside one window of `within_seconds`.
    pub densest: usize,
}

impl Group {
    /// Another event's time, counted.
    pub fn add(&mut self, t: Option<i64>, within_seconds: Option<i64>) {
        self.count += 1;
        self.widen(t);
        match (within_seconds, t) {
            (Some(w), Some(t)) => {
                self.recent.push_back(t);
                while self.recent.front().is_some_and(|f| t - f > w) {
                    self.recent.pop_front();
                }
                self.densest = self.densest.max(self.recent.len());
            }
            _ => self.densest = self.count,
        }
    }

    /// A time the group's span must include (also from a duplicate of an
    /// event counted already, which may tell the time the other lacked).
    pub fn widen(&mut self, t: Option<i64>) {
        self.first = min_time(self.first, t);
        self.last = max_time(self.last, t);
    }

    pub fn sample(&mut self, evidence: impl FnOnce() -> Evidence) {
        if self.samples.len() < SAMPLES {
            self.samples.push(evidence());
        }
    }
}

/// The values one named capture took over a group of events.
#[derive(Default)]
pub struct Values {
    /// In order of first appearance, with counts.
    seen: Vec<(String, usize)>,
    /// Events whose value is not kept (past `VALUES_KEPT` distinct ones).
    others: usize,
}

/// Distinct values remembered per capture and group; an event storm with
/// a new pid on every line does not grow memory past this.
const VALUES_KEPT: usize = 64;
/// Values a message lists before "and N others".
const VALUES_SHOWN: usize = 3;

impl Values {
    pub fn add(&mut self, value: String) {
        if let Some(v) = self.seen.iter_mut().find(|(v, _)| *v == value) {
            v.1 += 1;
        } else if self.seen.len() < VALUES_KEPT {
            self.seen.push((value, 1));
        } else {
            self.others += 1;
        }
    }

    pub fn first(&self) -> &str {
        self.seen.first().map_or("", |(v, _)| v.as_str())
    }

    /// The value, when every event had the same; else the most common
    /// ones with their counts: `1 ×4, 8 ×4` or `4242 ×6, 4243, 4251 and 5
    /// more`.
    pub fn show(&self, lang: Lang) -> String {
        if self.seen.len() == 1 && self.others == 0 {
            return self.seen[0].0.clone();
        }
        let mut by_count: Vec<&(String, usize)> = self.seen.iter().collect();
        // Most common first; first seen first among equals (stable sort).
        by_count.sort_by_key(|v| std::cmp::Reverse(v.1));
        let mut text = by_count
            .iter()
            .take(VALUES_SHOWN)
            .map(|(v, n)| {
                if *n > 1 {
                    format!("{v} ×{n}")
                } else {
                    v.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let rest = by_count.len().saturating_sub(VALUES_SHOWN) + usize::from(self.others > 0);
        if rest > 0 {
            let events: usize = by_count
                .iter()
                .skip(VALUES_SHOWN)
                .map(|(_, n)| n)
                .sum::<usize>()
                + self.others;
            text.push_str(&match lang {
                Lang::En => format!(" and {events} more"),
                Lang::ZhCn => format!(" 等另外 {events} 次"),
            });
        }
        text
    }
}

/// Captures as the CEL map `m` of a rule's templates.
pub fn captures_value(c: &BTreeMap<String, String>) -> Value {
    let json: serde_json::Map<String, serde_json::Value> = c
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    to_cel(&serde_json::Value::Object(json))
}

fn min_time(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_time(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
