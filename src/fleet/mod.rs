//! Fleets: many hosts in one run.
//!
//! `inputs` (snapshots, manifest, groups, shards) → each host analyzed
//! exactly as `analyze` analyzes one, on `jobs` threads, its report
//! handed on as soon as it is made and its facts dropped (`run`) → a
//! small summary of each host kept (`host::FleetHost`) → the hosts of
//! each group combined (`combine`) → the fleet rules (`rules/fleet.toml`)
//! over the groups → the fleet report (`report::fleet`).
//!
//! Memory grows with `jobs` (whole facts of that many hosts at once) and
//! only by a host's summary per host.

pub mod combine;
pub mod host;
pub mod inputs;

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

use sha2::Digest;

use crate::analysis;
use crate::config::Config;
use crate::logs::Window;
use crate::report::Report;
use crate::rules::Catalog;

pub use combine::{combine, GroupFacts};
pub use host::FleetHost;
pub use inputs::{GroupBy, HostInput};

/// One host analyzed: its own report, the rules that ran on it (for
/// JUnit-like consumers) and its summary for the cross-host rules.
pub struct HostDone {
    pub input: HostInput,
    pub report: Report,
    pub ran: Vec<String>,
    pub host: FleetHost,
    /// Stable id of the snapshot (see [`snapshot_id`]).
    pub snapshot: String,
    /// The snapshot holds no host itself; this one below it was read.
    pub below: Option<String>,
}

/// A snapshot that could not be analyzed, and why.
pub struct HostFailed {
    pub input: HostInput,
    pub error: String,
}

pub enum HostOutcome {
    Done(Box<HostDone>),
    Failed(HostFailed),
}

/// `sha256` (first 16 hex digits) of the host name, the snapshot's path
/// and when it was taken: the same capture analyzed twice has the same
/// id; two captures of one host differ.
pub fn snapshot_id(host: &str, path: &str, captured_at: Option<i64>) -> String {
    let mut h = sha2::Sha256::new();
    h.update(host.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(
        captured_at
            .map(|t| t.to_string())
            .unwrap_or_default()
            .as_bytes(),
    );
    hex16(h)
}

/// A finding's identity across runs and languages: who, which rule, on
/// what (never its message, which changes with values and language).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex16(h)
}

fn hex16(h: sha2::Sha256) -> String {
    format!("{:x}", h.finalize())[..16].to_owned()
}

/// Analyze one snapshot as `analyze` would, suppressions applied.
pub fn analyze_host(
    input: HostInput,
    catalog: &Catalog,
    config: &Config,
    window: Window,
    log_rules: &crate::logs::LogRules,
) -> HostOutcome {
    let fail = |input: HostInput, error: String| HostOutcome::Failed(HostFailed { input, error });
    let located = match crate::sources::open_host(&input.path) {
        Ok(l) => l,
        Err(e) => return fail(input, format!("{e:#}")),
    };
    let a = analysis::run_with(&located.snapshot, catalog, config, window, log_rules);
    drop(located.snapshot);
    if let Err(problems) = crate::suppress::check(&a.facts) {
        return fail(input, problems.join("; "));
    }
    let shown = input.path.display().to_string();
    let host = FleetHost::of(&a.facts, &shown, &input.group, &input.labels);
    let today = chrono::Local::now().date_naive();
    let outcome = crate::suppress::apply(a.findings, &a.facts, config, catalog, today);
    let report = Report::new(&a.facts, outcome, a.rule_errors, a.ran.len());
    HostOutcome::Done(Box::new(HostDone {
        snapshot: snapshot_id(&host.name, &shown, host.captured_at),
        below: located.below,
        input,
        report,
        ran: a.ran,
        host,
    }))
}

/// Analyze every input on `jobs` threads and hand each outcome to `emit`
/// in input order, as soon as it and those before it are done. Workers
/// stay at most `2 * jobs` hosts ahead of the next one handed on, so a
/// slow host holds back at most that many finished reports.
pub fn run(
    inputs: Vec<HostInput>,
    jobs: usize,
    catalog: &Catalog,
    config: &Config,
    window: Window,
    mut emit: impl FnMut(HostOutcome),
) {
    let jobs = jobs.max(1);
    // Compiled once for every host: building them was two thirds of a
    // small host's analysis (33 ms of 50 ms in a release build).
    let log_rules = analysis::log_rules(catalog, config);
    let ahead = 2 * jobs;
    let total = inputs.len();
    let queue: Mutex<std::vec::IntoIter<(usize, HostInput)>> = Mutex::new(
        inputs
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
            .into_iter(),
    );
    // The next index `emit` waits for, and the finished outcomes after it.
    struct Order {
        next: usize,
        done: BTreeMap<usize, HostOutcome>,
    }
    let order = Mutex::new(Order {
        next: 0,
        done: BTreeMap::new(),
    });
    let turn = Condvar::new();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(total) {
            scope.spawn(|| loop {
                let Some((k, input)) = queue.lock().expect("queue").next() else {
                    return;
                };
                {
                    let mut o = order.lock().expect("order");
                    while k >= o.next + ahead {
                        o = turn.wait(o).expect("order");
                    }
                }
                // A bug that panics on one snapshot is that snapshot's
                // failure; the others go on, and `emit` is not left
                // waiting for an outcome that never comes.
                let kept = input.clone();
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    analyze_host(input, catalog, config, window, &log_rules)
                }))
                .unwrap_or_else(|panic| {
                    let why = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    HostOutcome::Failed(HostFailed {
                        input: kept,
                        error: format!(
                            "virt-doctor failed on this snapshot (a bug; please report it): {why}"
                        ),
                    })
                });
                order.lock().expect("order").done.insert(k, outcome);
                turn.notify_all();
            });
        }
        let mut handed = 0;
        while handed < total {
            let outcome = {
                let mut o = order.lock().expect("order");
                loop {
                    let next = o.next;
                    if let Some(x) = o.done.remove(&next) {
                        o.next += 1;
                        break x;
                    }
                    o = turn.wait(o).expect("order");
                }
            };
            turn.notify_all();
            emit(outcome);
            handed += 1;
        }
    });
}
