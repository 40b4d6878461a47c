//! The literals a log rule's pattern cannot match without.
//!
//! Most lines of a big syslog match no rule. Running even one combined
//! regex on each line costs about 100 ns a line, which on short lines is
//! most of the time spent. But every built-in pattern contains text that
//! any match must contain (`Killed process `, ` invoked oom-killer: `,
//! `blocked for more than `), and a multi-literal search (Teddy, in the
//! `aho-corasick` crate) finds those over a whole buffer at memory speed.
//! Only the lines around its hits need the regexes.
//!
//! [`required`] walks the pattern's syntax tree (`regex-syntax`, the
//! regex crate's own parser) and returns a set of strings such that every
//! match contains at least one of them: for a concatenation, the best run
//! of finite pieces (`[Ll]ink (?:is )?[Dd]own` gives eight strings); for
//! an alternation, the union of what each branch requires. This is the
//! inner-literal analysis of Russ Cox's "Regular Expression Matching with
//! a Trigram Index", bounded in the number of strings. A pattern with no
//! usable set (none at least [`MIN_LEN`] bytes long, as in `\w+: \d+`) is
//! said to scan every line, and its kind of log is read line by line.

use aho_corasick::{packed, AhoCorasick, AhoCorasickKind};
use regex_syntax::hir::{Class, Hir, HirKind};

/// Shortest literal worth searching for: two-byte literals such as `] `
/// occur on most lines, so they would pick nearly every line anyway.
pub const MIN_LEN: usize = 3;
/// Most strings one set may hold: past this, cross products of small
/// classes (`(?i)` makes each letter one) stop growing.
const MAX_SET: usize = 64;
/// Classes with at most this many members are expanded (`[Cc]`, `[\]:]`).
const MAX_CLASS: usize = 4;
/// Beyond this length a literal is selective enough; among sets at least
/// this long at their shortest, fewer strings win.
const GOOD_LEN: usize = 6;

/// Why a pattern has no prefilter, or the literals any match contains.
pub fn required(pattern: &str) -> Result<Vec<String>, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .map_err(|e| e.to_string())?;
    let info = walk(&hir);
    let set = info
        .required()
        .ok_or("no literal that every match contains")?;
    if let Some(short) = set.iter().find(|s| s.len() < MIN_LEN) {
        return Err(format!(
            "its best literal set has `{}`, shorter than {MIN_LEN} bytes",
            String::from_utf8_lossy(short)
        ));
    }
    set.into_iter()
        .map(|s| String::from_utf8(s).map_err(|_| "a literal is not UTF-8".to_owned()))
        .collect()
}

/// Most literals the SIMD search (Teddy) takes; past that the
/// `aho-corasick` crate falls back to searches several times slower.
const TEDDY_MAX: usize = 64;

/// A search for any of a set of literals over a buffer.
pub struct Prefilter {
    search: Search,
    /// The literals searched for, as shortened.
    pub literals: Vec<String>,
}

enum Search {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Prefilter {
    /// A search for `literals`. Any part of a required literal is required
    /// too, so when there are more than Teddy takes, they are cut to a
    /// common shorter length (never under [`MIN_LEN`]) until few enough
    /// remain once repeats and literals containing others are dropped:
    /// the 143 literals of the built-in syslog rules become 61 of at
    /// most 10 bytes.
    pub fn new(literals: &[String]) -> Result<Prefilter, String> {
        let longest = literals.iter().map(String::len).max().unwrap_or(0);
        // The longest cut that leaves few enough (longer literals pick
        // fewer lines that then fail the regexes), by bisection: shorter
        // cuts leave fewer distinct literals.
        let mut kept = minimal(literals, longest);
        if kept.len() > TEDDY_MAX {
            let (mut fits, mut over) = (MIN_LEN, longest);
            kept = minimal(literals, fits);
            while over - fits > 1 {
                let mid = (fits + over) / 2;
                let k = minimal(literals, mid);
                if k.len() <= TEDDY_MAX {
                    (fits, kept) = (mid, k);
                } else {
                    over = mid;
                }
            }
        }
        let teddy = (kept.len() <= TEDDY_MAX)
            .then(|| packed::Config::new().builder().extend(&kept).build())
            .flatten();
        let search = match teddy {
            Some(t) => Search::Teddy(t),
            None => {
                let kept = minimal(literals, longest);
                let ac = AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&kept)
                    .map_err(|e| e.to_string())?;
                return Ok(Prefilter {
                    search: Search::Automaton(ac),
                    literals: kept,
                });
            }
        };
        Ok(Prefilter {
            search,
            literals: kept,
        })
    }

    /// Where the first literal in `haystack` starts.
    pub fn find(&self, haystack: &[u8]) -> Option<usize> {
        match &self.search {
            Search::Teddy(t) => t.find(haystack).map(|m| m.start()),
            Search::Automaton(a) => a.find(haystack).map(|m| m.start()),
        }
    }
}

/// The literals cut to at most `len` bytes, without repeats or any that
/// contains another (a line holding the longer holds the shorter).
fn minimal(literals: &[String], len: usize) -> Vec<String> {
    let mut cut: Vec<String> = literals
        .iter()
        .map(|l| {
            let mut end = len.min(l.len());
            while !l.is_char_boundary(end) {
                end -= 1;
            }
            l[..end].to_owned()
        })
        .collect();
    cut.sort_by_key(|l| (l.len(), l.clone()));
    cut.dedup();
    let mut kept: Vec<String> = Vec::new();
    for l in cut {
        if !kept.iter().any(|k| l.contains(k.as_str())) {
            kept.push(l);
        }
    }
    kept
}

type Set = Vec<Vec<u8>>;

/// What a piece of a pattern matches, as far as literals tell.
struct Info {
    /// Every string the piece can match, when they are few.
    exact: Option<Set>,
    /// A set one of whose strings every match contains (the best found).
    best: Option<Set>,
}

impl Info {
    fn exact(set: Set) -> Info {
        Info {
            exact: Some(set),
            best: None,
        }
    }

    fn unknown() -> Info {
        Info {
            exact: None,
            best: None,
        }
    }

    /// The best set the piece requires: its exact strings, or its best
    /// inner set, whichever searches better.
    fn required(&self) -> Option<Set> {
        let exact = self.exact.clone().filter(usable);
        match (exact, &self.best) {
            (Some(e), Some(b)) => Some(if score(&e) >= score(b) { e } else { b.clone() }),
            (e, b) => e.or_else(|| b.clone()),
        }
    }
}

/// A set is usable when none of its strings is empty and none can cross
/// a line (the buffer is searched, not lines) or stand for bytes that
/// were not UTF-8 (lines are decoded lossily before the rules run, so a
/// pattern matching U+FFFD may match where the raw bytes differ).
fn usable(set: &Set) -> bool {
    !set.is_empty()
        && set.iter().all(|s| {
            !s.is_empty()
                && !s.contains(&b'\n')
                && !s.contains(&b'\r')
                && !s.windows(3).any(|w| w == "\u{fffd}".as_bytes())
        })
}

/// Better sets have longer shortest strings (up to [`GOOD_LEN`]), then
/// fewer strings.
fn score(set: &Set) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    (shortest.min(GOOD_LEN), std::cmp::Reverse(set.len()))
}

fn better(a: Option<Set>, b: Option<Set>) -> Option<Set> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn cross(a: &Set, b: &Set) -> Option<Set> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    let mut out: Set = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    Some(out)
}

fn union(sets: impl IntoIterator<Item = Set>) -> Option<Set> {
    let mut out: Set = Vec::new();
    for set in sets {
        for s in set {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        if out.len() > MAX_SET {
            return None;
        }
    }
    Some(out)
}

/// The members of a class, when they are at most [`MAX_CLASS`] (counted
/// from the ranges first: `\w` has thousands).
fn class(class: &Class) -> Option<Set> {
    let small = |sizes: &mut dyn Iterator<Item = usize>| sizes.sum::<usize>() <= MAX_CLASS;
    match class {
        Class::Unicode(c) if small(&mut c.iter().map(|r| r.len())) => Some(
            c.iter()
                .flat_map(|r| r.start()..=r.end())
                .map(|ch| ch.to_string().into_bytes())
                .collect(),
        ),
        Class::Bytes(c) if small(&mut c.iter().map(|r| r.len())) => Some(
            c.iter()
                .flat_map(|r| r.start()..=r.end())
                .map(|b| vec![b])
                .collect(),
        ),
        _ => None,
    }
}

fn walk(hir: &Hir) -> Info {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Info::exact(vec![Vec::new()]),
        HirKind::Literal(lit) => Info::exact(vec![lit.0.to_vec()]),
        HirKind::Class(c) => match class(c) {
            Some(set) => Info::exact(set),
            None => Info::unknown(),
        },
        HirKind::Capture(c) => walk(&c.sub),
        HirKind::Repetition(r) => {
            let sub = walk(&r.sub);
            match (r.min, r.max) {
                // `x?`: the empty string or x.
                (0, Some(1)) => match sub.exact.and_then(|e| union([vec![Vec::new()], e])) {
                    Some(set) => Info::exact(set),
                    None => Info::unknown(),
                },
                (0, _) => Info::unknown(),
                // At least one x: whatever x requires.
                _ => Info {
                    exact: None,
                    best: sub.required(),
                },
            }
        }
        HirKind::Alternation(branches) => {
            let infos: Vec<Info> = branches.iter().map(walk).collect();
            let exact = infos
                .iter()
                .map(|i| i.exact.clone())
                .collect::<Option<Vec<Set>>>()
                .and_then(union);
            // Every match is a match of some branch, so it contains one of
            // that branch's required strings.
            let best = infos
                .iter()
                .map(Info::required)
                .collect::<Option<Vec<Set>>>()
                .and_then(union);
            Info { exact, best }
        }
        HirKind::Concat(parts) => {
            // Runs of consecutive finite pieces are cross-multiplied: the
            // text they match is contiguous, so any match contains one of
            // the products. A run ends at an unbounded piece or when the
            // product grows past MAX_SET.
            let mut best: Option<Set> = None;
            let mut run: Set = vec![Vec::new()];
            let mut all_exact = true;
            let close = |run: &Set, best: Option<Set>| {
                if usable(run) {
                    better(best, Some(run.clone()))
                } else {
                    best
                }
            };
            for part in parts {
                let info = walk(part);
                match &info.exact {
                    Some(e) => match cross(&run, e) {
                        Some(product) => run = product,
                        None => {
                            all_exact = false;
                            best = close(&run, best);
                            run = e.clone();
                        }
                    },
                    None => {
                        all_exact = false;
                        best = close(&run, best);
                        best = better(best, info.required());
                        run = vec![Vec::new()];
                    }
                }
            }
            best = close(&run, best);
            Info {
                exact: all_exact.then_some(run),
                best,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_literals_are_cut_to_fit_teddy() {
        let literals: Vec<String> = (0..200)
            .map(|i| format!("event number {i:03} happened"))
            .collect();
        let p = Prefilter::new(&literals).unwrap();
        assert!(matches!(p.search, Search::Teddy(_)));
        assert!(p.literals.len() <= TEDDY_MAX, "{:?}", p.literals);
        // Every original literal still has a searched part inside it.
        for l in &literals {
            assert!(p.literals.iter().any(|k| l.contains(k.as_str())), "{l}");
        }
        assert_eq!(p.find(b"xx event number 123 happened"), Some(3));
        assert_eq!(p.find(b"event numbe"), None);
    }

    fn req(p: &str) -> Vec<String> {
        let mut r = required(p).unwrap();
        r.sort();
        r
    }

    #[test]
    fn literal_runs_and_alternations() {
        assert_eq!(
            req(r"Killed process (?P<pid>\d+),? (?:UID \d+, )?\((?P<comm>qemu[^)]*)\)"),
            ["Killed process "]
        );
        assert_eq!(
            req(
                r"(?:^|[\]:] )(?P<comm>CPU \d+/KVM|qemu-kvm|worker) invoked oom-killer: gfp_mask=(?P<gfp>\S+), order=(?P<order>\d+)"
            ),
            [" invoked oom-killer: gfp_mask="]
        );
        // Small classes and optional pieces multiply out: three
        // separators, two cases of L, with or without `is `, two of D.
        let link = req(r"(?P<dev>\w[\w.-]*)(?:: (?:NIC )?| NIC )[Ll]ink (?:is )?[Dd]own");
        assert_eq!(link.len(), 24);
        assert!(link.contains(&": NIC link is Down".to_owned()));
        assert!(link.contains(&" NIC Link down".to_owned()));
        // Each branch contributes what it requires.
        assert_eq!(
            req(r"KVM internal error|kvm run failed"),
            ["KVM internal error", "kvm run failed"]
        );
        assert_eq!(
            req(r"[Cc]locksource (?:'tsc'|tsc) unstable|Marking clocksource 'tsc' as unstable"),
            [
                "Clocksource 'tsc' unstable",
                "Clocksource tsc unstable",
                "Marking clocksource 'tsc' as unstable",
                "clocksource 'tsc' unstable",
                "clocksource tsc unstable"
            ]
        );
    }

    #[test]
    fn patterns_without_a_usable_literal() {
        assert!(required(r"\w+: \d+").is_err());
        assert!(required(r"(?:foo|\d+)bar?").is_err());
        assert!(required(r"a|bc").is_err());
        // A line break can never be inside one line.
        assert!(required("abc\ndef").is_err());
    }

    #[test]
    fn case_insensitive_patterns_expand_within_bounds() {
        // (?i) makes every letter a two-member class; the run stops
        // growing at MAX_SET strings and the best run is kept.
        let r = req(r"(?i)error");
        assert_eq!(r.len(), 32);
        assert!(r.contains(&"ErRoR".to_owned()));
        // Past MAX_SET strings in a union there is no set at all.
        assert!(required(r"(?i)\b(error|failed|could not|cannot)\b").is_err());
    }
}

#[cfg(test)]
mod catalog_tests {
    /// Every built-in log rule gets the fast path: a new pattern without a
    /// usable literal would quietly make every syslog be read line by line.
    /// The built-in syslog rules' literals fit one Teddy search without
    /// being cut below 10 bytes (shorter ones pick more lines in vain).
    #[test]
    fn built_in_syslog_literals_fit_teddy() {
        let catalog = crate::rules::Catalog::load(&[]).unwrap();
        let literals: Vec<String> = catalog
            .log_rules
            .iter()
            .filter(|r| r.sources.iter().any(|s| s == "syslog"))
            .flat_map(|r| super::required(r.pattern.as_str()).unwrap())
            .collect();
        let p = super::Prefilter::new(&literals).unwrap();
        assert!(matches!(p.search, super::Search::Teddy(_)));
        let longest = p.literals.iter().map(String::len).max().unwrap();
        assert_eq!((literals.len(), p.literals.len(), longest), (143, 61, 10));
    }

    #[test]
    fn every_built_in_log_rule_has_literals() {
        let catalog = crate::rules::Catalog::load(&[]).unwrap();
        for rule in &catalog.log_rules {
            if let Err(why) = super::required(rule.pattern.as_str()) {
                panic!("{} scans every line: {why}", rule.code);
            }
        }
    }
}
