//! Log analysis: dmesg, syslog, journal exports and libvirt's per-domain
//! QEMU logs, read once each, turned into findings with counts, first and
//! last time, the guest concerned and sample lines as evidence.
//!
//! Log rules are data (`[[log_rule]]` in `rules/logs/*.toml`): a regex with
//! named captures, the logs it applies to, how to name the subject, and
//! templates. All rules that apply to a file run together in one pass: a
//! `RegexSet` tells for each line which patterns match at all (one scan of
//! the line), and only those are run again for their captures. Lines are
//! streamed with bounded memory (`lines`), timestamps made absolute where
//! possible (`time`).
//!
//! The same kernel event is often in dmesg and in kern.log/messages; an
//! event already counted from another file with the same text within ten
//! minutes is counted once.

pub mod lines;
pub mod time;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use cel_interpreter::Value;
use regex::RegexSet;

use crate::facts::Facts;
use crate::findings::{Evidence, Finding};
use crate::rules::catalog::LogRule;
use crate::rules::expr::{root_context, to_cel};
use crate::snapshot::{Kind, Snapshot, Stream};
use crate::sources::{LogFile, SourceStatus, Status};

/// Which events count.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Window {
    /// Events whose time is unknown are kept: they cannot be placed.
    fn contains(&self, t: Option<i64>) -> bool {
        match t {
            None => true,
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
        }
    }
}

const SAMPLES: usize = 3;
/// Events with the same text from two files within this many seconds are
/// the same event.
const SAME_EVENT_SECONDS: i64 = 600;
/// Most kernel events remembered for de-duplication across files.
const SEEN_CAP: usize = 1_000_000;
/// A kernel event and a domain log event this close belong together.
const SAME_MOMENT_SECONDS: i64 = 120;

#[derive(Default)]
struct Group {
    count: usize,
    first: Option<i64>,
    last: Option<i64>,
    captures: BTreeMap<String, String>,
    domain: Option<String>,
    samples: Vec<Evidence>,
    /// Times inside the rule's window, for `min_count` within `within_seconds`.
    recent: VecDeque<i64>,
    densest: usize,
}

pub struct LogAnalysis {
    pub findings: Vec<Finding>,
    /// Problems met reading logs (cut lines, truncated files).
    pub statuses: Vec<SourceStatus>,
}

fn format_of(kind: &str) -> time::Format {
    match kind {
        "dmesg" => time::Format::Dmesg,
        "qemu" | "libvirtd" => time::Format::Libvirt,
        _ => time::Format::Syslog,
    }
}

/// The domain a QEMU log belongs to: `var/log/libvirt/qemu/<name>.log[.N][.gz]`.
fn qemu_log_domain(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    file.find(".log").map(|i| file[..i].to_owned())
}

/// Log rules ready to run: for each kind of log, the `RegexSet` of the
/// rules that read it (built once, used for every file of that kind).
pub struct LogRules<'a> {
    rules: Vec<&'a LogRule>,
    /// Per kind of log: one regex that matches where any of the kind's
    /// rules may (a fast reject on the raw bytes of most lines, with the
    /// regex crate's literal prefilters), the set that says which, and the
    /// rules' indices.
    sets: HashMap<&'static str, (regex::bytes::Regex, RegexSet, Vec<usize>)>,
}

impl<'a> LogRules<'a> {
    pub fn new(rules: Vec<&'a LogRule>) -> LogRules<'a> {
        let mut sets = HashMap::new();
        let named = regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>").expect("static regex");
        for kind in crate::rules::catalog::LOG_SOURCES {
            let indices: Vec<usize> = (0..rules.len())
                .filter(|i| rules[*i].sources.iter().any(|s| s == kind))
                .collect();
            if indices.is_empty() {
                continue;
            }
            let set = RegexSet::new(indices.iter().map(|i| rules[*i].pattern.as_str()))
                .expect("each pattern compiled when the catalog loaded");
            // Group names may repeat across patterns; the alternation only
            // needs to match, so plain groups do.
            let any = indices
                .iter()
                .map(|i| format!("(?:{})", named.replace_all(rules[*i].pattern.as_str(), "(")))
                .collect::<Vec<_>>()
                .join("|");
            let any = regex::bytes::Regex::new(&any).expect("alternation of compiled patterns");
            sets.insert(*kind, (any, set, indices));
        }
        LogRules { rules, sets }
    }
}

/// Run the rules over every log the facts list.
pub fn analyze(
    snap: &Snapshot,
    facts: &Facts,
    log_rules: &LogRules,
    window: Window,
) -> LogAnalysis {
    let rules = &log_rules.rules;
    let mut out = LogAnalysis {
        findings: Vec::new(),
        statuses: Vec::new(),
    };
    if rules.is_empty() {
        return out;
    }
    // QEMU process ids of running domains, to name the guest an OOM kill
    // or a hung task hit.
    let pid_domain: HashMap<String, String> = facts
        .domains
        .iter()
        .filter_map(|d| Some((d.pid?.to_string(), d.domain.name.clone())))
        .collect();
    let now = chrono::Utc::now().timestamp();
    let mut groups: BTreeMap<(usize, String), Group> = BTreeMap::new();
    // (time, domain) of every event found in a QEMU domain log.
    let mut qemu_events: Vec<(i64, String)> = Vec::new();
    // Kernel events already counted, by rule and a hash of their text, for
    // the dmesg/kern.log de-duplication. Bounded: past SEEN_CAP events the
    // table stops growing (and says so), so memory stays flat on a storm.
    let mut seen: HashMap<(usize, u64), (usize, Option<i64>)> = HashMap::new();
    let mut seen_full = false;
    let root = root_context();
    let host_name = facts.host.hostname.clone();
    let capture = match (facts.host.boot_time, facts.host.uptime_seconds) {
        (Some(boot), Some(up)) => Some(boot + up as i64),
        _ => None,
    };

    // On the live host the kernel ring buffer is a command's output, not
    // a file (unless something saved it to /var/log/dmesg).
    let mut logs: Vec<LogFile> = facts.logs.clone();
    let mut ring_buffer = None;
    if snap.is_running_host() && !logs.iter().any(|l| l.kind == "dmesg") {
        match snap.run(&["dmesg"], 64 << 20) {
            Ok(c) => {
                ring_buffer = Some(c.bytes);
                logs.push(LogFile {
                    kind: "dmesg",
                    path: "`dmesg` (kernel ring buffer)".into(),
                    bytes: None,
                });
            }
            Err(e) => out
                .statuses
                .push(status("`dmesg`", Status::Unreadable, e.to_string())),
        }
    }
    for (file_index, log) in logs.iter().enumerate() {
        let Some((any, set, indices)) = log_rules.sets.get(log.kind) else {
            continue;
        };
        let stream = if log.path.starts_with('`') {
            Stream {
                reader: Box::new(std::io::Cursor::new(ring_buffer.take().unwrap_or_default())),
                modified: None,
            }
        } else {
            match snap.stream(&log.path) {
                Ok(s) => s,
                Err(e) => {
                    out.statuses
                        .push(status(&log.path, Status::Unreadable, e.to_string()));
                    continue;
                }
            }
        };
        // Year-less stamps are placed before the moment the snapshot was
        // taken (boot time + uptime), which, unlike a file's modification
        // time after extraction or checkout, does not move.
        let clock = time::Clock {
            boot_time: facts.host.boot_time,
            reference: capture
                .or((snap.kind() == Kind::Live).then_some(now))
                .or(stream.modified),
        };
        let format = format_of(log.kind);
        let file_domain = if log.kind == "qemu" {
            qemu_log_domain(&log.path)
        } else {
            None
        };
        let mut lines = lines::Lines::new(stream.reader);
        while let Some(number) = lines.next_raw() {
            if !any.is_match(lines.raw()) {
                continue;
            }
            let line = String::from_utf8_lossy(lines.raw());
            let hits = set.matches(&line);
            if !hits.matched_any() {
                continue;
            }
            let (mut t, body) = time::split(&line, format, clock);
            // A dmesg stamp past the capture moment belongs to an earlier
            // boot (a dmesg saved before a reboot): its time is unknown.
            if format == time::Format::Dmesg && t.is_some_and(|t| capture.is_some_and(|c| t > c)) {
                t = None;
            }
            if !window.contains(t) {
                continue;
            }
            for i in hits.iter() {
                let rule_index = indices[i];
                let rule = rules[rule_index];
                let Some(caps) = rule.pattern.captures(body) else {
                    continue;
                };
                if rule.exclude.as_ref().is_some_and(|x| x.is_match(body)) {
                    continue;
                }
                let captures: BTreeMap<String, String> = rule
                    .pattern
                    .capture_names()
                    .flatten()
                    .filter_map(|n| Some((n.to_owned(), caps.name(n)?.as_str().to_owned())))
                    .collect();
                let domain = file_domain
                    .clone()
                    .or_else(|| captures.get("pid").and_then(|p| pid_domain.get(p)).cloned());
                let subject = match &rule.subject {
                    None => String::new(),
                    Some(template) => {
                        let mut ctx = root.new_inner_scope();
                        ctx.add_variable_from_value("m", captures_value(&captures));
                        ctx.add_variable_from_value(
                            "domain",
                            domain
                                .clone()
                                .map_or(Value::Null, |d| Value::String(Arc::new(d))),
                        );
                        template.render(&ctx).unwrap_or_default()
                    }
                };
                let g = groups.entry((rule_index, subject)).or_default();
                if matches!(log.kind, "dmesg" | "syslog" | "journal") {
                    let key = (rule_index, crate::stable_hash(body));
                    if let Some((other_file, other_t)) = seen.get(&key) {
                        let close = match (t, other_t) {
                            (Some(a), Some(b)) => (a - b).abs() <= SAME_EVENT_SECONDS,
                            _ => true,
                        };
                        if *other_file != file_index && close {
                            // Already counted from another file; it may
                            // still tell the time the other copy lacked.
                            g.first = min_time(g.first, t);
                            g.last = max_time(g.last, t);
                            continue;
                        }
                    }
                    if seen.len() < SEEN_CAP || seen.contains_key(&key) {
                        seen.insert(key, (file_index, t));
                    } else if !seen_full {
                        seen_full = true;
                        out.statuses.push(status(
                            &log.path,
                            Status::Ok,
                            format!(
                                "more than {SEEN_CAP} kernel events: later ones are no longer matched against other files, so an event in both dmesg and syslog may count twice"
                            ),
                        ));
                    }
                }
                if let (Some(d), Some(t)) = (&file_domain, t) {
                    qemu_events.push((t, d.clone()));
                }
                g.count += 1;
                g.first = min_time(g.first, t);
                g.last = max_time(g.last, t);
                if g.captures.is_empty() {
                    g.captures = captures;
                }
                if g.domain.is_none() {
                    g.domain = domain;
                }
                if g.samples.len() < SAMPLES {
                    g.samples.push(Evidence {
                        path: Some(log.path.clone()),
                        line: Some(number),
                        text: sample(&line),
                    });
                }
                match (rule.within_seconds, t) {
                    (Some(w), Some(t)) => {
                        g.recent.push_back(t);
                        while g.recent.front().is_some_and(|f| t - f > w) {
                            g.recent.pop_front();
                        }
                        g.densest = g.densest.max(g.recent.len());
                    }
                    _ => g.densest = g.count,
                }
            }
        }
        if lines.cut == 0 && lines.error.is_none() {
            out.statuses.push(status(
                &log.path,
                Status::Ok,
                format!("{} lines read", lines.number),
            ));
        } else {
            let mut detail = vec![format!("{} lines read", lines.number)];
            if lines.cut > 0 {
                detail.push(format!(
                    "{} lines longer than {} KiB were cut",
                    lines.cut,
                    lines::MAX_LINE / 1024
                ));
            }
            detail.extend(lines.error.clone());
            out.statuses
                .push(status(&log.path, Status::Malformed, detail.join("; ")));
        }
    }

    // A kernel event about a QEMU process whose pid names no domain (no
    // status or pid file captured) is tied to the domain whose QEMU log
    // recorded something at the same moment: the OOM kill and the
    // domain's "shutting down, reason=crashed" line.
    for g in groups.values_mut() {
        let qemu = g
            .captures
            .get("comm")
            .is_some_and(|c| c.starts_with("qemu"));
        if let (None, true, Some(t)) = (&g.domain, qemu, g.first) {
            g.domain = qemu_events
                .iter()
                .filter(|(at, _)| (at - t).abs() <= SAME_MOMENT_SECONDS)
                .min_by_key(|(at, _)| (at - t).abs())
                .map(|(_, d)| d.clone());
        }
    }

    for ((rule_index, subject), g) in groups {
        let rule = rules[rule_index];
        if g.densest < rule.min_count as usize {
            continue;
        }
        let mut ctx = root.new_inner_scope();
        ctx.add_variable_from_value("m", captures_value(&g.captures));
        ctx.add_variable_from_value("count", Value::Int(g.count as i64));
        ctx.add_variable_from_value("first", Value::String(Arc::new(time::show(g.first))));
        ctx.add_variable_from_value("last", Value::String(Arc::new(time::show(g.last))));
        ctx.add_variable_from_value("span", Value::String(Arc::new(time::span(g.first, g.last))));
        ctx.add_variable_from_value(
            "domain",
            g.domain
                .clone()
                .map_or(Value::Null, |d| Value::String(Arc::new(d))),
        );
        ctx.add_variable_from_value(
            "host",
            host_name
                .clone()
                .map_or(Value::Null, |h| Value::String(Arc::new(h))),
        );
        let render = |t: &crate::rules::expr::Template| {
            t.render(&ctx)
                .unwrap_or_else(|e| format!("(template error: {e})"))
        };
        let subject = if subject.is_empty() {
            host_name.clone().unwrap_or_else(|| "host".into())
        } else {
            subject
        };
        out.findings.push(Finding {
            rule: rule.code.clone(),
            name: rule.name.clone(),
            category: rule.category.clone(),
            severity: rule.severity,
            domain: g.domain.clone(),
            subject,
            title: rule.title.clone(),
            message: render(&rule.message),
            fix: render(&rule.fix).trim_end().to_owned(),
            evidence: g.samples,
            references: rule.references.clone(),
            events: Some(g.count),
        });
    }
    out
}

fn captures_value(c: &BTreeMap<String, String>) -> Value {
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

fn status(path: &str, status: Status, detail: String) -> SourceStatus {
    SourceStatus {
        id: "log".into(),
        path: Some(path.to_owned()),
        status,
        detail: Some(detail),
        files: 1,
    }
}

/// A log line as evidence: long enough to read, never a megabyte.
fn sample(line: &str) -> String {
    const MAX: usize = 400;
    if line.len() <= MAX {
        return line.to_owned();
    }
    let mut end = MAX;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}
