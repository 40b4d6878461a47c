//! Text printed by virsh (and written in the same form by `collect`):
//! `virsh list --all` and `virsh domstats`.

use std::collections::BTreeMap;

use super::{quote, shape, Parsed, Problem};

/// `virsh list --all`: domain name -> state (`running`, `shut off`, ...).
///
/// ```text
///  Id   Name    State
/// ------------------------
///  1    web01   running
///  -    db      shut off
/// ```
pub fn parse_list(text: &str) -> Parsed<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with("Id ") || t.starts_with('-') && t.chars().all(|c| c == '-')
        {
            continue;
        }
        let mut parts = t.split_whitespace();
        let (Some(id), Some(name)) = (parts.next(), parts.next()) else {
            problems.push(Problem::at(
                n + 1,
                format!("expected `ID NAME STATE`, found {}", shape(t)),
            ));
            continue;
        };
        if id != "-" && id.parse::<u32>().is_err() {
            problems.push(Problem::at(
                n + 1,
                format!("{} is not a domain id", quote(id)),
            ));
            continue;
        }
        let state = parts.collect::<Vec<_>>().join(" ");
        if state.is_empty() {
            problems.push(Problem::at(
                n + 1,
                format!("no state for domain {}", quote(name)),
            ));
            continue;
        }
        out.insert(name.to_owned(), state);
    }
    Parsed {
        value: out,
        problems,
    }
}

/// `virsh domstats`: domain name -> field -> value, as printed.
///
/// ```text
/// Domain: 'web01'
///   state.state=1
///   balloon.current=1048576
/// ```
pub fn parse_domstats(text: &str) -> Parsed<BTreeMap<String, BTreeMap<String, String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut current: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(rest) = t.strip_prefix("Domain: ") {
            let name = rest.trim().trim_matches('\'').to_owned();
            out.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        match (&current, t.split_once('=')) {
            (Some(dom), Some((key, value))) => {
                out.entry(dom.clone())
                    .or_default()
                    .insert(key.to_owned(), value.to_owned());
            }
            (None, _) => problems.push(Problem::at(n + 1, "statistic before any `Domain:` line")),
            (_, None) => problems.push(Problem::at(
                n + 1,
                format!("expected `field=value`, found {}", shape(t)),
            )),
        }
    }
    Parsed {
        value: out,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_gives_states_including_two_word_ones() {
        let p = parse_list(" Id   Name    State\n------------------------\n 1    web01   running\n -    db      shut off\n\n");
        assert!(p.problems.is_empty());
        assert_eq!(p.value.get("web01").map(String::as_str), Some("running"));
        assert_eq!(p.value.get("db").map(String::as_str), Some("shut off"));
        let bad = parse_list(" x web01 running\n");
        assert_eq!(bad.problems[0].line, Some(1));
    }

    #[test]
    fn domstats_group_fields_by_domain() {
        let p = parse_domstats("Domain: 'web01'\n  state.state=1\n  block.0.name=vda\n\nDomain: 'db'\n  balloon.current=524288\n");
        assert!(p.problems.is_empty());
        assert_eq!(p.value["web01"]["block.0.name"], "vda");
        assert_eq!(p.value["db"]["balloon.current"], "524288");
        let bad = parse_domstats("state.state=1\n");
        assert_eq!(bad.problems[0].line, Some(1));
    }
}
