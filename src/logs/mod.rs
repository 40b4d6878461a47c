//! Log analysis: dmesg, syslog, journal exports and libvirt's per-domain
//! QEMU logs, read once each, turned into findings with counts, first and
//! last time, the guest concerned and sample lines as evidence.
//!
//! Log rules are data (`[[log_rule]]` in `rules/logs/*.toml`): a regex with
//! named captures, the logs it applies to, how to name the subject, and
//! templates. The stages, one module each:
//!
//! * [`input`]: which logs, opened how, their clocks;
//! * [`scan`]: each file read once in large buffers. All rules that apply
//!   to a kind of log share one search for the literals they require
//!   ([`literals`]), so only lines that may match are handed on;
//! * here, per line handed on: a `RegexSet` tells which rules match at
//!   all, and only those run again for their captures;
//! * [`dedup`]: an event already counted from another file is counted once;
//! * [`group`]: events by rule and subject;
//! * [`correlate`]: the guest a kernel event hit, superseded events;
//! * [`render`] makes the findings.

pub mod correlate;
pub mod dedup;
pub mod group;
pub mod input;
pub mod literals;
pub mod render;
pub mod scan;
pub mod time;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use cel_interpreter::Value;
use regex::RegexSet;

use crate::facts::Facts;
use crate::findings::{Evidence, Finding};
use crate::lang::Lang;
use crate::rules::catalog::LogRule;
use crate::rules::expr::root_context;
use crate::snapshot::{Kind, Snapshot};
use crate::sources::{SourceStatus, Status};
use group::{captures_value, Group};
use input::status;

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

pub struct LogAnalysis {
    pub findings: Vec<Finding>,
    /// Problems met reading logs (cut lines, truncated files).
    pub statuses: Vec<SourceStatus>,
    /// Rules whose templates failed (a site rule naming a capture its
    /// pattern does not have): errors of the rule, as for fact rules,
    /// never text inside a finding.
    pub errors: Vec<crate::rules::RuleError>,
}

/// The rules that read one kind of log, ready to run.
struct KindRules {
    /// The rules' indices.
    indices: Vec<usize>,
    /// Which of them match a line at all.
    set: RegexSet,
    /// Whether any does, on the raw bytes: the quick rejection of most
    /// lines when every line is read (built only then: it is the costliest
    /// of the matchers to compile).
    any: Option<regex::bytes::Regex>,
    /// The literals every match of one of them contains, searched for in
    /// whole buffers; `None` when some rule has none, or names causes
    /// from the lines before an event: then every line is read.
    prefilter: Option<literals::Prefilter>,
    /// Lines of context kept for rules with a `cause` pattern.
    context: usize,
}

/// Log rules ready to run: per kind of log, the matchers of the rules
/// that read it (built once, used for every file of that kind).
pub struct LogRules<'a> {
    rules: Vec<&'a LogRule>,
    kinds: HashMap<&'static str, KindRules>,
}

impl<'a> LogRules<'a> {
    /// The rules' combined matchers. Each pattern compiled on its own when
    /// the catalog loaded, but together they can still exceed the regex
    /// engine's size limit: that is an error naming the rules, and the
    /// catalog checks it at load time (`Catalog::load`), so a run never
    /// meets it.
    pub fn new(rules: Vec<&'a LogRule>) -> Result<LogRules<'a>, String> {
        let mut kinds = HashMap::new();
        let plain_groups =
            regex::Regex::new(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>").expect("static regex");
        for kind in crate::rules::catalog::LOG_SOURCES {
            let indices: Vec<usize> = (0..rules.len())
                .filter(|i| rules[*i].sources.iter().any(|s| s == kind))
                .collect();
            if indices.is_empty() {
                continue;
            }
            let named = |i: &usize| {
                format!(
                    "{} at {}:{}",
                    rules[*i].code, rules[*i].origin.file, rules[*i].origin.line
                )
            };
            let too_big = |e: String| {
                format!(
                    "the {} log patterns that read {kind} logs ({}) cannot be combined: {e}",
                    indices.len(),
                    indices.iter().map(named).collect::<Vec<_>>().join(", ")
                )
            };
            // The set only picks rules for a line; each rule's own pattern
            // then runs on the line's body. So a pattern anchored to the
            // body's start (`^kvm: …`) is searched unanchored here, or it
            // would never see a line that starts with a timestamp.
            let loose: Vec<String> = indices
                .iter()
                .map(|i| unanchored(rules[*i].pattern.as_str()))
                .collect();
            let set = RegexSet::new(&loose).map_err(|e| too_big(e.to_string()))?;
            let context = indices
                .iter()
                .filter(|i| rules[**i].cause.is_some())
                .map(|i| rules[*i].cause_lines)
                .max()
                .unwrap_or(0);
            let prefilter = if context > 0 {
                None
            } else {
                let literals: Option<Vec<String>> = indices
                    .iter()
                    .map(|i| literals::required(rules[*i].pattern.as_str()).ok())
                    .collect::<Option<Vec<Vec<String>>>>()
                    .map(|sets| sets.concat());
                match literals {
                    Some(literals) => Some(literals::Prefilter::new(&literals).map_err(too_big)?),
                    None => None,
                }
            };
            let any = match prefilter {
                Some(_) => None,
                None => {
                    // Group names may repeat across patterns; the
                    // alternation only needs to match, so plain groups do.
                    let any = loose
                        .iter()
                        .map(|p| format!("(?:{})", plain_groups.replace_all(p, "(")))
                        .collect::<Vec<_>>()
                        .join("|");
                    Some(regex::bytes::Regex::new(&any).map_err(|e| too_big(e.to_string()))?)
                }
            };
            kinds.insert(
                *kind,
                KindRules {
                    indices,
                    set,
                    any,
                    prefilter,
                    context,
                },
            );
        }
        Ok(LogRules { rules, kinds })
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
    let mut failed: BTreeSet<(usize, String, String)> = BTreeSet::new();
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
    let mut seen = dedup::Seen::default();
    let root = root_context(lang);
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

    let mut inputs = input::Inputs::new(snap, facts, &mut out.statuses);
    let logs = inputs.logs.clone();
    for (file_index, log) in logs.iter().enumerate() {
        let Some(kind) = log_rules.kinds.get(log.kind) else {
            continue;
        };
        let stream = match inputs.open(snap, log) {
            Ok(s) => s,
            Err(e) => {
                out.statuses.push(status(&log.path, Status::Unreadable, e));
                continue;
            }
        };
        let mut clock = input::clock(snap, facts, &stream, now);
        let format = input::format_of(log.kind);
        let file_domain = if log.kind == "qemu" {
            input::qemu_log_domain(&log.path)
        } else {
            None
        };
        let mut outside = 0usize;
        // The last lines' bodies, kept only when a rule of this kind of
        // log names its events' causes (small QEMU logs); then every line
        // is handed on.
        let mut recent: VecDeque<String> = VecDeque::with_capacity(kind.context);
        let remember = |recent: &mut VecDeque<String>, body: &str| {
            if kind.context > 0 {
                if recent.len() == kind.context {
                    recent.pop_front();
                }
                recent.push_back(sample(body));
            }
        };
        let read = scan::scan(stream.reader, kind.prefilter.as_ref(), |number, raw| {
            if number == 1 && log.kind == "journal" {
                if let Some(end) = time::journal_header_end(raw) {
                    clock.reference = Some(end);
                }
            }
            if kind.any.as_ref().is_some_and(|any| !any.is_match(raw)) {
                if kind.context > 0 {
                    let line = String::from_utf8_lossy(raw);
                    remember(&mut recent, time::split(&line, format, clock).1);
                }
                return;
            }
            let line = String::from_utf8_lossy(raw);
            let hits = kind.set.matches(&line);
            let (mut t, body) = time::split(&line, format, clock);
            if !hits.matched_any() {
                remember(&mut recent, body);
                return;
            }
            // A dmesg stamp past the capture moment belongs to an earlier
            // boot (a dmesg saved before a reboot): its time is unknown.
            if format == time::Format::Dmesg && t.is_some_and(|t| capture.is_some_and(|c| t > c)) {
                t = None;
            }
            if !bounds.contains(t) {
                outside += 1;
                remember(&mut recent, body);
                return;
            }
            for i in hits.iter() {
                let rule_index = kind.indices[i];
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
                    match seen.check(rule_index, body, file_index, t) {
                        dedup::Verdict::Duplicate => {
                            // Already counted from another file; it may
                            // still tell the time the other copy lacked.
                            g.widen(t);
                            continue;
                        }
                        dedup::Verdict::New => {}
                        dedup::Verdict::NewAndFull => out.statuses.push(status(
                            &log.path,
                            Status::Ok,
                            format!(
                                "more than {} kernel events: later ones are no longer matched against other files, so an event in both dmesg and syslog may count twice",
                                dedup::SEEN_CAP
                            ),
                        )),
                    }
                }
                if let (Some(d), Some(t)) = (&file_domain, t) {
                    qemu_events.push((t, d.clone()));
                }
                g.add(t, rule.within_seconds);
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
                g.sample(|| Evidence {
                    path: Some(log.path.clone()),
                    line: Some(number),
                    text: sample(&line),
                });
            }
            remember(&mut recent, body);
        });
        let lines = if window.is_set() {
            format!(
                "{} lines read; {outside} lines with events outside --since/--until left out",
                read.lines
            )
        } else {
            format!("{} lines read", read.lines)
        };
        if read.cut == 0 && read.error.is_none() {
            out.statuses.push(status(&log.path, Status::Ok, lines));
        } else {
            let mut detail = vec![lines];
            if read.cut > 0 {
                detail.push(format!(
                    "{} lines longer than {} KiB were cut",
                    read.cut,
                    scan::MAX_LINE / 1024
                ));
            }
            detail.extend(read.error);
            out.statuses
                .push(status(&log.path, Status::Malformed, detail.join("; ")));
        }
    }

    correlate::name_qemu_domains(&mut groups, &qemu_events);
    let kept = correlate::drop_superseded(groups, rules);
    out.findings = render::findings(
        kept,
        rules,
        &root,
        facts.host.hostname.as_deref(),
        lang,
        &mut failed,
    );
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
