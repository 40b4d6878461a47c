//! One parser per source.
//!
//! Every parser is a pure function from text to a typed value plus the
//! problems it met ([`Parsed`]). A parser never panics and never gives up on
//! a whole file because of one bad line: it keeps what it understood and
//! names each line it did not, so the source is reported `malformed` with
//! file and line while the rest of the analysis still has the good data.
//! Parsers know nothing about where their text came from; the source table
//! (`crate::sources`) decides that.

pub mod block;
pub mod capabilities;
pub mod capture;
pub mod cgroups;
pub mod cmdline;
pub mod cpuinfo;
pub mod cpulist;
pub mod devices;
pub mod df;
pub mod diskstats;
pub mod domain;
pub mod domain_snapshot;
pub mod ethtool;
pub mod kv;
pub mod loadavg;
pub mod lscpu;
pub mod meminfo;
pub mod netdev;
pub mod numactl;
pub mod pidfile;
pub mod pressure;
pub mod processes;
pub mod schedstat;
pub mod stat;
pub mod sysctl;
pub mod uptime;
pub mod version;
pub mod virsh;
pub mod virt_versions;

use serde::Serialize;

/// Something a parser could not make sense of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line in the source file, where the problem has one.
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn at(line: usize, message: impl Into<String>) -> Problem {
        Problem {
            line: Some(line),
            message: message.into(),
        }
    }

    pub fn whole(message: impl Into<String>) -> Problem {
        Problem {
            line: None,
            message: message.into(),
        }
    }
}

/// A parser's result: what it understood and what it could not.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    pub value: T,
    pub problems: Vec<Problem>,
}

impl<T> Parsed<T> {
    pub fn ok(value: T) -> Parsed<T> {
        Parsed {
            value,
            problems: Vec::new(),
        }
    }
}

impl<T> Parsed<Option<T>> {
    /// Nothing could be read; `problem` says why.
    pub fn failed(problem: Problem) -> Parsed<Option<T>> {
        Parsed {
            value: None,
            problems: vec![problem],
        }
    }
}

/// The root element must be one of `names`.
pub fn expect_root(doc: &roxmltree::Document, names: &[&str]) -> Result<(), Problem> {
    let root = doc.root_element();
    if names.contains(&root.tag_name().name()) {
        return Ok(());
    }
    let wanted: Vec<String> = names.iter().map(|n| format!("<{n}>")).collect();
    Err(Problem::at(
        doc.text_pos_at(root.range().start).row as usize,
        format!(
            "root element is <{}>, not {}",
            root.tag_name().name(),
            wanted.join(" or ")
        ),
    ))
}

/// Parse the whole text of a one-value file (`rotational`, `nr_hugepages`).
pub fn single_u64(text: &str) -> Parsed<Option<u64>> {
    let t = text.trim();
    match t.parse::<u64>() {
        Ok(v) => Parsed::ok(Some(v)),
        Err(_) => Parsed {
            value: None,
            problems: vec![Problem::at(
                1,
                format!("expected a whole number, found {}", quote(t)),
            )],
        },
    }
}

/// A size as `df -h` and `free -h` print it, in KiB: a number (`,` or `.`
/// for the decimal point) and a unit. `Ki` to `Pi` are powers of 1024;
/// the bare `K` to `P` are powers of `bare_base` (1024 for `df -h`, 1000
/// for `free --si`); `B` or no unit is bytes.
pub fn human_size_kib(v: &str, bare_base: f64) -> Option<u64> {
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let number: f64 = number.replace(',', ".").parse().ok()?;
    let power = |letter: &str| -> Option<i32> {
        ["K", "M", "G", "T", "P"]
            .iter()
            .position(|l| *l == letter)
            .map(|i| i as i32 + 1)
    };
    let bytes = match unit {
        "" | "B" => 1.0,
        _ if unit.len() == 2 && unit.ends_with('i') => 1024f64.powi(power(&unit[..1])?),
        _ => bare_base.powi(power(unit)?),
    };
    Some((number * bytes / 1024.0).round() as u64)
}

/// The selected value of a sysfs choice file: `always [madvise] never`
/// selects `madvise`. Returns the choice and every option offered.
pub fn bracketed_choice(text: &str) -> Parsed<(Option<String>, Vec<String>)> {
    let mut selected = None;
    let mut all = Vec::new();
    for word in text.split_whitespace() {
        match word.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
            Some(inner) => {
                selected = Some(inner.to_owned());
                all.push(inner.to_owned());
            }
            None => all.push(word.to_owned()),
        }
    }
    let problems = if selected.is_none() && all.len() > 1 {
        vec![Problem::at(
            1,
            format!("no [selected] entry in {}", quote(text.trim())),
        )]
    } else {
        Vec::new()
    };
    // A file with a single word and no brackets (`none` on some
    // multi-queue devices) has that word selected.
    if selected.is_none() && all.len() == 1 {
        selected = all.first().cloned();
    }
    Parsed {
        value: (selected, all),
        problems,
    }
}

/// Parse an XML document, or say why not at the right line. (roxmltree
/// reports an unclosed root at 1:1; the useful place is where the text
/// ran out.) DTDs are refused, so entity expansion cannot happen.
pub fn xml_document(text: &str) -> Result<roxmltree::Document<'_>, Problem> {
    roxmltree::Document::parse(text).map_err(|e| {
        let line = match e {
            roxmltree::Error::UnclosedRootNode | roxmltree::Error::UnexpectedEndOfStream => {
                text.lines().count().max(1)
            }
            _ => e.pos().row as usize,
        };
        Problem::at(line, format!("not well-formed XML: {e}"))
    })
}

// File contents never reach a problem message whole: a line of
// /etc/passwd fed to the meminfo parser, or binary junk, would otherwise be
// echoed to a terminal or a ticket. A problem names the file and the line
// (so the reader can look) and what was expected; of the input it shows at
// most a short token, and otherwise only what the input looked like.

/// The longest token a problem message shows as it is.
const TOKEN_MAX: usize = 32;

fn plain_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= TOKEN_MAX
        && s.chars().all(|c| !c.is_control() && c != '\u{fffd}')
}

/// A value from the input (a unit, a number that did not parse), quoted
/// in backticks when it is a short piece of plain text, else described.
pub fn quote(s: &str) -> String {
    if plain_token(s) {
        format!("`{s}`")
    } else {
        shape(s)
    }
}

/// An attribute value inside XML shown in a message (`<vcpu
/// cpuset='{}'>`): the value itself when short plain text, else described.
pub fn attr_value(s: &str) -> String {
    if plain_token(s) {
        s.to_owned()
    } else {
        format!("({})", shape(s))
    }
}

/// What a line (or a whole small file) looked like, without its contents.
pub fn shape(s: &str) -> String {
    if s.trim().is_empty() {
        "an empty line".into()
    } else if s
        .chars()
        .any(|c| (c.is_control() && c != '\t') || c == '\u{fffd}')
    {
        format!("{} bytes of binary data", s.len())
    } else {
        format!("a line of {} characters", s.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_tokens_and_describe_lines() {
        assert_eq!(quote("MiB"), "`MiB`");
        assert_eq!(
            quote("root:x:0:0:root:/root:/bin/bash and more"),
            "a line of 40 characters"
        );
        assert_eq!(quote("\u{1}\u{2}ELF"), "5 bytes of binary data");
        assert_eq!(shape("  "), "an empty line");
        assert_eq!(shape("bin:x:2:2"), "a line of 9 characters");
        assert_eq!(shape("ab\u{fffd}"), "5 bytes of binary data");
        assert_eq!(attr_value("0-3"), "0-3");
        assert_eq!(attr_value(&"9".repeat(40)), "(a line of 40 characters)");
    }

    #[test]
    fn bracketed_choice_picks_the_selected_word() {
        let p = bracketed_choice("mq-deadline kyber [bfq] none\n");
        assert_eq!(p.value.0.as_deref(), Some("bfq"));
        assert_eq!(p.value.1, vec!["mq-deadline", "kyber", "bfq", "none"]);
        assert!(p.problems.is_empty());
        assert_eq!(bracketed_choice("none\n").value.0.as_deref(), Some("none"));
        assert_eq!(bracketed_choice("a b").problems.len(), 1);
    }

    #[test]
    fn single_values_report_junk() {
        assert_eq!(single_u64("1\n").value, Some(1));
        let p = single_u64("x");
        assert_eq!(p.value, None);
        assert_eq!(p.problems[0].line, Some(1));
    }
}
