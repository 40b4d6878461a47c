//! `Key: value` text as printed by lscpu and many /proc files.

use std::collections::BTreeMap;

use super::{shape, Parsed, Problem};

/// Split each non-empty line at its first `sep`; keys and values are
/// trimmed. A later duplicate key keeps the first value (lscpu prints the
/// summary before per-level details).
pub fn parse(text: &str, sep: char) -> Parsed<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once(sep) {
            Some((k, v)) => {
                map.entry(k.trim().to_owned())
                    .or_insert_with(|| v.trim().to_owned());
            }
            None => problems.push(Problem::at(
                i + 1,
                format!("expected `key{sep} value`, found {}", shape(line)),
            )),
        }
    }
    Parsed {
        value: map,
        problems,
    }
}
