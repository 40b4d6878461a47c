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
use crate::lang::Lang;
use crate::rules::catalog::LogRule;
use crate::rules::expr::{root_context, to_cel};
use crate::snapshot::{Kind, Snapshot, Stream};
use crate::sources::{LogFile, SourceStatus, Status};

/// Which events count: `--since`/`--until`, relative spans counted back
/// from when the snapshot was taken.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<time::When>,
    pub until: Option<time::When>,
}

/// A window made absolute.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    since: Option<i64>,
    until: Option<i64>,
}

impl Bounds {
    /// Events whose time is unknown are kept: they cannot be placed.
    fn contains(&self, t: Option<i64>) -> bool {
        match t {
            None => true,
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
        }
    }
}

impl Window {
    fn is_set(&self) -> bool {
        self.since.is_some() || self.until.is_some()
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
    /// Every value each named capture took, with how often: a finding
    /// that groups eight soft lockups must not speak for all eight with
    /// the first one's CPU and pid.
    values: BTreeMap<String, Values>,
    domain: Option<String>,
    samples: Vec<Evidence>,
    /// Why the last event happened, from the lines before it (rules with
    /// a `cause` pattern).
    cause: Option<String>,
    /// Times inside the rule's window, for `min_count` within `within_seconds`.
    recent: VecDeque<i64>,
    densest: usize,
}

pub struct LogAnalysis {
    pub findings: Vec<Finding>,
    /// Problems met reading logs (cut lines, truncated files).
    pub statuses: Vec<SourceStatus>,
    /// Rules whose templates failed (a site rule naming a capture its
    /// pattern does not have): errors of the rule, as for fact rules,
    /// never text inside a finding.
    pub errors: Vec<crate::rules::RuleError>,
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
    /// The rules' combined matchers. Each pattern compiled on its own when
    /// the catalog loaded, but together they can still exceed the regex
    /// engine's size limit: that is an error naming the rules, and the
    /// catalog checks it at load time (`Catalog::load`), so a run never
    /// meets it.
    pub fn new(rules: Vec<&'a LogRule>) -> Result<LogRules<'a>, String> {
        let mut sets = HashMap::new();
        let named = regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>").expect("static regex");
        for kind in crate::rules::catalog::LOG_SOURCES {
            let indices: Vec<usize> = (0..rules.len())
                .filter(|i| rules[*i].sources.iter().any(|s| s == kind))
                .collect();
            if indices.is_empty() {
                continue;
            }
            let too_big = |e: regex::Error| {
                format!(
                    "the {} log patterns that read {kind} logs ({}) cannot be combined: {e}",
                    indices.len(),
                    indices
                        .iter()
                        .map(|i| format!(
                            "{} at {}:{}",
                            rules[*i].code, rules[*i].origin.file, rules[*i].origin.line
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            // The line-level matchers only pick candidate lines and rules;
            // each rule's own pattern then runs on the line's body. So a
            // pattern anchored to the body's start (`^kvm: …`) is searched
            // unanchored here, or it would never see a line that starts
            // with a timestamp.
            let loose: Vec<String> = indices
                .iter()
                .map(|i| unanchored(rules[*i].pattern.as_str()))
                .collect();
            let set = RegexSet::new(&loose).map_err(too_big)?;
            // Group names may repeat across patterns; the alternation only
            // needs to match, so plain groups do.
            let any = loose
                .iter()
                .map(|p| format!("(?:{})", named.replace_all(p, "(")))
                .collect::<Vec<_>>()
                .join("|");
            let any = regex::bytes::Regex::new(&any).map_err(too_big)?;
            sets.insert(*kind, (any, set, indices));
        }
        Ok(LogRules { rules, sets })
    }
}

/// A pattern without its leading `^` (after any inline flags such as
/// `(?i)`): it matches wherever the anchored one matches in a body.
fn unanchored(pattern: &str) -> String {
    let flags_end = if pattern.starts_with("(?")
        && !pattern.starts_with("(?P")
        && !pattern.starts_with("(?:")
        && !pattern.starts_with("(?<")
    {
        pattern.find(')').map_or(0, |i| i + 1)
    } else {
        0
    };
    let (flags, rest) = pattern.split_at(flags_end);
    match rest.strip_prefix('^') {
        Some(rest) => format!("{flags}{rest}"),
        None => pattern.to_owned(),
    }
}

/// Run the rules over every log the facts list.
pub fn analyze(
    snap: &Snapshot,
    facts: &Facts,
    log_rules: &LogRules,
    window: Window,
    lang: Lang,
) -> LogAnalysis {
    let rules = &log_rules.rules;
    let mut out = LogAnalysis {
        findings: Vec::new(),
        statuses: Vec::new(),
        errors: Vec::new(),
    };
    // (rule, subject, error) reported once each, however many lines hit it.
    let mut failed: std::collections::BTreeSet<(usize, String, String)> = Default::default();
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
    let root = root_context(lang);
    let host_name = facts.host.hostname.clone();
    let capture = facts.host.captured_at;
    // A relative window counts back from when the snapshot was taken; on
    // the live host that is now. A snapshot that does not say falls back
    // to now, and its status says so.
    let taken = capture.or((snap.kind() == Kind::Live).then_some(now));
    let bounds = Bounds {
        since: window.since.map(|w| w.resolve(taken.unwrap_or(now))),
        until: window.until.map(|w| w.resolve(taken.unwrap_or(now))),
    };
    let relative = matches!(window.since, Some(time::When::Before(_)))
        || matches!(window.until, Some(time::When::Before(_)));
    if relative && taken.is_none() {
        out.statuses.push(status(
            "--since/--until",
            Status::Ok,
            "the snapshot does not say when it was taken (no virt-doctor.json, uptime or `date`): the window counts back from now".into(),
        ));
    }

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
        // taken, which, unlike a file's modification time after extraction
        // or checkout, does not move. A journal export says itself when it
        // ends (its `-- Logs begin at …, end at … --` header), which beats
        // both.
        let mut clock = time::Clock {
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
        let mut outside = 0usize;
        // The last lines' bodies, kept only when a rule of this kind of
        // log names its events' causes (small QEMU logs), so the fast path
        // over big syslogs decodes nothing it does not match.
        let context = indices
            .iter()
            .filter(|i| rules[**i].cause.is_some())
            .map(|i| rules[*i].cause_lines)
            .max()
            .unwrap_or(0);
        let mut recent: VecDeque<String> = VecDeque::with_capacity(context);
        let remember = |recent: &mut VecDeque<String>, body: &str| {
            if context > 0 {
                if recent.len() == context {
                    recent.pop_front();
                }
                recent.push_back(sample(body));
            }
        };
        while let Some(number) = lines.next_raw() {
            if number == 1 && log.kind == "journal" {
                if let Some(end) = time::journal_header_end(lines.raw()) {
                    clock.reference = Some(end);
                }
            }
            if !any.is_match(lines.raw()) {
                if context > 0 {
                    let line = String::from_utf8_lossy(lines.raw());
                    remember(&mut recent, time::split(&line, format, clock).1);
                }
                continue;
            }
            let line = String::from_utf8_lossy(lines.raw());
            let hits = set.matches(&line);
            if !hits.matched_any() {
                remember(&mut recent, time::split(&line, format, clock).1);
                continue;
            }
            let (mut t, body) = time::split(&line, format, clock);
            // A dmesg stamp past the capture moment belongs to an earlier
            // boot (a dmesg saved before a reboot): its time is unknown.
            if format == time::Format::Dmesg && t.is_some_and(|t| capture.is_some_and(|c| t > c)) {
                t = None;
            }
            if !bounds.contains(t) {
                outside += 1;
                remember(&mut recent, body);
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
                        match template.render(&ctx) {
                            Ok(s) => s,
                            Err(e) => {
                                failed.insert((rule_index, "subject".into(), e));
                                continue;
                            }
                        }
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
                for (name, value) in captures {
                    g.values.entry(name).or_default().add(value);
                }
                if g.domain.is_none() {
                    g.domain = domain;
                }
                if let Some(cause) = &rule.cause {
                    // The lines that say why, oldest first (`Could not
                    // access KVM kernel module`, then QEMU's own summary).
                    let mut why: Vec<&str> = recent
                        .iter()
                        .rev()
                        .take(rule.cause_lines)
                        .filter(|l| cause.is_match(l))
                        .map(String::as_str)
                        .take(2)
                        .collect();
                    why.reverse();
                    g.cause = (!why.is_empty()).then(|| why.join("; "));
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
            remember(&mut recent, body);
        }
        let read = if window.is_set() {
            format!(
                "{} lines read; {outside} lines with events outside --since/--until left out",
                lines.number
            )
        } else {
            format!("{} lines read", lines.number)
        };
        if lines.cut == 0 && lines.error.is_none() {
            out.statuses.push(status(&log.path, Status::Ok, read));
        } else {
            let mut detail = vec![read];
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

    // Times of every group's events by rule code, for `superseded_by`.
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
                    // Without times, any finding of the better rule.
                    _ => true,
                })
            })
        })
    };
    let mut kept = Vec::new();
    for ((rule_index, subject), g) in groups {
        let rule = rules[rule_index];
        if !superseded(rule, &g) {
            kept.push(((rule_index, subject), g));
        }
    }
    for ((rule_index, subject), g) in kept {
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
        let text = |t: String| Value::String(Arc::new(t));
        ctx.add_variable_from_value("first", text(time::show(g.first, lang)));
        ctx.add_variable_from_value("last", text(time::show(g.last, lang)));
        ctx.add_variable_from_value("span", text(time::span(g.first, g.last, lang)));
        ctx.add_variable_from_value(
            "cause",
            g.cause
                .clone()
                .map_or(Value::Null, |c| Value::String(Arc::new(c))),
        );
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
        let subject = if subject.is_empty() {
            host_name.clone().unwrap_or_else(|| "host".into())
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
        out.findings.push(Finding {
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
        });
    }
    out.errors = failed
        .into_iter()
        .map(|(i, subject, message)| crate::rules::RuleError {
            rule: rules[i].code.clone(),
            subject,
            message,
        })
        .collect();
    out
}

/// The values one named capture took over a group of events.
#[derive(Default)]
struct Values {
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
    fn add(&mut self, value: String) {
        if let Some(v) = self.seen.iter_mut().find(|(v, _)| *v == value) {
            v.1 += 1;
        } else if self.seen.len() < VALUES_KEPT {
            self.seen.push((value, 1));
        } else {
            self.others += 1;
        }
    }

    fn first(&self) -> &str {
        self.seen.first().map_or("", |(v, _)| v.as_str())
    }

    /// The value, when every event had the same; else the most common
    /// ones with their counts: `1 ×4, 8 ×4` or `4242 ×6, 4243, 4251 and 5
    /// more`.
    fn show(&self, lang: Lang) -> String {
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
