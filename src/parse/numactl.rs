//! `numactl --hardware` output, used only when the snapshot has no
//! `sys/devices/system/node` tree (older sosreports).
//!
//! ```text
//! available: 2 nodes (0-1)
//! node 0 cpus: 0 1 2 3
//! node 0 size: 16008 MB
//! node 0 free: 165 MB
//! node distances:
//! node   0   1
//!   0:  10  21
//! ```

use std::collections::BTreeMap;

use super::{shape, Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    pub cpus: Vec<u32>,
    pub size_kib: Option<u64>,
    pub free_kib: Option<u64>,
    pub distances: Vec<u32>,
}

pub fn parse(text: &str) -> Parsed<BTreeMap<u32, Node>> {
    let mut nodes: BTreeMap<u32, Node> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut in_distances = false;
    let mut columns: Vec<u32> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.is_empty() || w[0] == "available:" || line.starts_with("No distance") {
            continue;
        }
        if line.starts_with("node distances") {
            in_distances = true;
            continue;
        }
        if in_distances {
            if w[0] == "node" {
                columns = w[1..].iter().filter_map(|x| x.parse().ok()).collect();
                continue;
            }
            if let Some(Ok(id)) = w[0].strip_suffix(':').map(str::parse::<u32>) {
                let d: Vec<u32> = w[1..].iter().filter_map(|x| x.parse().ok()).collect();
                if d.len() == columns.len() {
                    nodes.entry(id).or_default().distances = d;
                    continue;
                }
            }
            problems.push(Problem::at(
                i + 1,
                format!(
                    "expected a distance row (`N: d d …`), found {}",
                    shape(line)
                ),
            ));
            continue;
        }
        let id = w.get(1).and_then(|x| x.parse::<u32>().ok());
        match (w[0], id, w.get(2).copied()) {
            ("node", Some(id), Some("cpus:")) => {
                nodes.entry(id).or_default().cpus =
                    w[3..].iter().filter_map(|x| x.parse().ok()).collect();
            }
            ("node", Some(id), Some(field @ ("size:" | "free:"))) => {
                let kib = mib(w.get(3), w.get(4));
                let n = nodes.entry(id).or_default();
                if field == "size:" {
                    n.size_kib = kib;
                } else {
                    n.free_kib = kib;
                }
            }
            _ => problems.push(Problem::at(
                i + 1,
                format!(
                    "expected `available:`, `node N …` or a distance table, found {}",
                    shape(line)
                ),
            )),
        }
    }
    Parsed {
        value: nodes,
        problems,
    }
}

fn mib(value: Option<&&str>, unit: Option<&&str>) -> Option<u64> {
    let v: u64 = value?.parse().ok()?;
    match *unit? {
        "MB" => v.checked_mul(1024),
        "kB" => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_nodes_and_distances() {
        let p = super::parse("available: 1 nodes (0)\nnode 0 cpus: 0 1\nnode 0 size: 16008 MB\nnode 0 free: 165 MB\nnode distances:\nnode   0 \n  0:  10 \n");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let n = &p.value[&0];
        assert_eq!(n.cpus, vec![0, 1]);
        assert_eq!(n.size_kib, Some(16008 * 1024));
        assert_eq!(n.free_kib, Some(165 * 1024));
        assert_eq!(n.distances, vec![10]);
    }
}
