//! The running kernel release, from `/proc/version`
//! (`Linux version 5.4.0-97-generic (buildd@…) …`) or `uname -a`
//! (`Linux host 5.4.0-97-generic #110-Ubuntu SMP …`).

use super::{shape, Parsed, Problem};

pub fn parse_proc_version(text: &str) -> Parsed<Option<String>> {
    let release = text
        .trim()
        .strip_prefix("Linux version ")
        .and_then(|r| r.split_whitespace().next());
    found(release, text, "`Linux version <release> …`")
}

pub fn parse_uname_a(text: &str) -> Parsed<Option<String>> {
    let w: Vec<&str> = text.split_whitespace().collect();
    let release = (w.first() == Some(&"Linux"))
        .then(|| w.get(2).copied())
        .flatten();
    found(release, text, "`Linux <host> <release> …`")
}

fn found(release: Option<&str>, text: &str, expected: &str) -> Parsed<Option<String>> {
    match release {
        Some(r) => Parsed::ok(Some(r.to_owned())),
        None => Parsed {
            value: None,
            problems: vec![Problem::at(
                1,
                format!("expected {expected}, found {}", shape(text.trim())),
            )],
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_shapes() {
        assert_eq!(
            super::parse_proc_version("Linux version 5.4.0-97-generic (buildd@lcy01) #110")
                .value
                .as_deref(),
            Some("5.4.0-97-generic")
        );
        assert_eq!(
            super::parse_uname_a("Linux compute4 5.4.0-97-generic #110-Ubuntu SMP x86_64")
                .value
                .as_deref(),
            Some("5.4.0-97-generic")
        );
        assert!(super::parse_uname_a("garbage").value.is_none());
    }
}
