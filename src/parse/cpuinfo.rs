//! `/proc/cpuinfo`, on x86 and the architectures that spell things
//! differently (`Features` on ARM, `features` on s390).

use std::collections::BTreeSet;

use super::{Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cpuinfo {
    /// Number of `processor` stanzas.
    pub logical: u32,
    pub model: Option<String>,
    pub vendor: Option<String>,
    /// Flags of the first processor (they are the same on every one in
    /// practice, and storing thousands of copies helps no one).
    pub flags: BTreeSet<String>,
    /// `microcode` of the first processor (x86; `0xde`).
    pub microcode: Option<String>,
    /// Distinct `physical id` values.
    pub packages: BTreeSet<u32>,
    /// Distinct (`physical id`, `core id`) pairs.
    pub cores: BTreeSet<(u32, u32)>,
}

pub fn parse(text: &str) -> Parsed<Cpuinfo> {
    let mut out = Cpuinfo::default();
    let mut problems = Vec::new();
    let mut package: Option<u32> = None;
    let mut first_flags = true;
    for (i, line) in text.lines().enumerate() {
        let Some((key, value)) = line.split_once(':') else {
            if !line.trim().is_empty() {
                problems.push(Problem::at(
                    i + 1,
                    format!("expected `key : value`, found {}", super::shape(line)),
                ));
            }
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            // s390 prints `processor 0: version = ...`, one line per CPU.
            _ if key == "processor" || key.starts_with("processor ") => {
                out.logical += 1;
                package = None;
            }
            "model name" | "cpu model" | "Processor" | "cpu" if out.model.is_none() => {
                out.model = Some(value.to_owned())
            }
            "vendor_id" | "vendor" if out.vendor.is_none() => out.vendor = Some(value.to_owned()),
            "microcode" if out.microcode.is_none() => out.microcode = Some(value.to_owned()),
            "flags" | "Features" | "features" if first_flags => {
                out.flags = value.split_whitespace().map(str::to_owned).collect();
                first_flags = false;
            }
            "physical id" => {
                package = value.parse().ok();
                if let Some(p) = package {
                    out.packages.insert(p);
                }
            }
            "core id" => {
                if let (Some(p), Ok(c)) = (package, value.parse::<u32>()) {
                    out.cores.insert((p, c));
                }
            }
            _ => {}
        }
    }
    if out.logical == 0 {
        problems.push(Problem::whole("no `processor` entries"));
    }
    Parsed {
        value: out,
        problems,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_processors_and_flags() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nphysical id\t: 0\ncore id\t\t: 0\nflags\t\t: fpu vmx ept\n\nprocessor\t: 1\nphysical id\t: 0\ncore id\t\t: 0\nflags\t\t: fpu vmx ept\n";
        let p = super::parse(text);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.logical, 2);
        assert_eq!(p.value.model.as_deref(), Some("Xeon"));
        assert!(p.value.flags.contains("vmx"));
        assert_eq!(p.value.cores.len(), 1);
    }
}
