//! `/proc/meminfo` and the per-node `sys/devices/system/node/nodeN/meminfo`.
//!
//! The kernel's `kB` is KiB (it prints `pages << (PAGE_SHIFT - 10)`), so
//! values are stored as KiB without conversion. Count fields such as
//! `HugePages_Total` have no unit and are stored as they are.

use std::collections::BTreeMap;

use super::{quote, shape, Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Meminfo {
    /// Field name to value: KiB for `kB` fields, a count otherwise.
    pub fields: BTreeMap<String, u64>,
}

impl Meminfo {
    pub fn get(&self, name: &str) -> Option<u64> {
        self.fields.get(name).copied()
    }
}

pub fn parse(text: &str) -> Parsed<Meminfo> {
    let mut out = Meminfo::default();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // Per-node files prefix each line with `Node N `.
        let body = match line.strip_prefix("Node ") {
            Some(rest) => rest.split_once(' ').map(|(_, r)| r).unwrap_or(rest),
            None => line,
        };
        let Some((name, rest)) = body.split_once(':') else {
            problems.push(Problem::at(
                i + 1,
                format!("expected `Name: value`, found {}", shape(line)),
            ));
            continue;
        };
        let mut words = rest.split_whitespace();
        let value = words.next().map(str::parse::<u64>);
        let unit = words.next();
        match (value, unit) {
            (Some(Ok(v)), None | Some("kB")) => {
                out.fields.insert(name.trim().to_owned(), v);
            }
            (Some(Ok(_)), Some(u)) => problems.push(Problem::at(
                i + 1,
                format!("unknown unit {} for {}", quote(u), name.trim()),
            )),
            _ => problems.push(Problem::at(
                i + 1,
                format!("expected `Name: number [kB]`, found {}", shape(line)),
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
    fn reads_host_and_node_files() {
        let p = parse("MemTotal:       16393540 kB\nHugePages_Total:       4\n");
        assert!(p.problems.is_empty());
        assert_eq!(p.value.get("MemTotal"), Some(16393540));
        assert_eq!(p.value.get("HugePages_Total"), Some(4));
        let n = parse("Node 1 MemFree:         1024 kB\n");
        assert_eq!(n.value.get("MemFree"), Some(1024));
    }

    #[test]
    fn keeps_good_lines_and_names_bad_ones() {
        let p = parse("MemTotal: 10 kB\ngarbage\nMemFree: x kB\nSwapTotal: 18446744073709551615 kB\nBig: 18446744073709551616 kB\n");
        assert_eq!(p.value.get("MemTotal"), Some(10));
        assert_eq!(p.value.get("SwapTotal"), Some(u64::MAX));
        let lines: Vec<_> = p.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(2), Some(3), Some(5)]);
    }
}

/// `free` output (`sos_commands/memory/free`, KiB by default): the fallback
/// when a sosreport lacks `proc/meminfo`. Fills the meminfo names it knows.
pub fn parse_free(text: &str) -> Parsed<Meminfo> {
    let mut out = Meminfo::default();
    let mut problems = Vec::new();
    let mut header: Vec<&str> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.first().copied() {
            None => {}
            Some("total") => header = w.clone(),
            Some(row @ ("Mem:" | "Swap:")) => {
                let col = |name: &str| {
                    header
                        .iter()
                        .position(|h| *h == name)
                        .and_then(|p| w.get(p + 1))
                        .and_then(|v| free_kib(v))
                };
                let names: &[(&str, &str)] = if row == "Mem:" {
                    &[
                        ("total", "MemTotal"),
                        ("free", "MemFree"),
                        ("available", "MemAvailable"),
                    ]
                } else {
                    &[("total", "SwapTotal"), ("free", "SwapFree")]
                };
                for (column, field) in names {
                    if let Some(v) = col(column) {
                        out.fields.insert((*field).to_owned(), v);
                    }
                }
            }
            Some(_) => problems.push(Problem::at(
                i + 1,
                format!(
                    "expected a header, `Mem:` or `Swap:`, found {}",
                    shape(line)
                ),
            )),
        }
    }
    if out.fields.is_empty() {
        problems.push(Problem::whole("no `Mem:` row"));
    }
    Parsed {
        value: out,
        problems,
    }
}

/// One value of `free`: KiB as printed by plain `free`, or with the unit
/// `free -h` adds (`31Gi`, `1.5Mi`, `0B`; `--si` gives `G`, `M`, powers
/// of 1000).
fn free_kib(v: &str) -> Option<u64> {
    match v.parse::<u64>() {
        Ok(kib) => Some(kib),
        Err(_) => super::human_size_kib(v, 1000.0),
    }
}

#[cfg(test)]
mod free_tests {
    /// `free -h` of procps-ng 4 (Debian 12), the human-readable form some
    /// sosreports and ticket attachments hold.
    #[test]
    fn reads_human_units() {
        let p = super::parse_free("               total        used        free      shared  buff/cache   available\nMem:            31Gi        12Gi       1.2Gi       452Mi        17Gi        18Gi\nSwap:          975Mi          0B       975Mi\n");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.get("MemTotal"), Some(31 * 1024 * 1024));
        assert_eq!(p.value.get("MemFree"), Some(1258291));
        assert_eq!(p.value.get("MemAvailable"), Some(18 * 1024 * 1024));
        assert_eq!(p.value.get("SwapTotal"), Some(975 * 1024));
        assert_eq!(super::free_kib("0B"), Some(0));
        assert_eq!(super::free_kib("2,5G"), Some(2441406));
        assert_eq!(super::free_kib("lots"), None);
    }

    #[test]
    fn reads_mem_and_swap_rows() {
        let p = super::parse_free("              total        used        free      shared  buff/cache   available\nMem:       16393540     9836400      169212        2536     6387928     6210508\nSwap:       8388604      337152     8051452\n");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.get("MemTotal"), Some(16393540));
        assert_eq!(p.value.get("MemAvailable"), Some(6210508));
        assert_eq!(p.value.get("SwapFree"), Some(8051452));
    }
}
