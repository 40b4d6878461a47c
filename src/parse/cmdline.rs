//! `/proc/cmdline`: the kernel's boot parameters.

use std::collections::BTreeMap;

use super::Parsed;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cmdline {
    pub raw: String,
    /// `name=value` parameters; bare flags map to an empty string. A
    /// repeated name keeps the last value, as the kernel does.
    pub params: BTreeMap<String, String>,
}

pub fn parse(text: &str) -> Parsed<Cmdline> {
    let raw = text.trim().to_owned();
    let params = raw
        .split_whitespace()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.trim_matches('"').to_owned()),
            None => (w.to_owned(), String::new()),
        })
        .collect();
    Parsed::ok(Cmdline { raw, params })
}
