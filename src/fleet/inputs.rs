//! Which snapshots a fleet run reads, how they are grouped, and which of
//! them this worker takes (`--shard I/N`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One snapshot to analyze.
#[derive(Debug, Clone)]
pub struct HostInput {
    pub path: PathBuf,
    /// The manifest's `key=value` columns.
    pub labels: BTreeMap<String, String>,
    pub group: String,
}

/// How hosts are grouped for cross-host rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// One group of every host (`all`).
    None,
    /// The name of the directory that holds each snapshot.
    Dir,
    /// A manifest label; a snapshot without it is in group `-`.
    Label(String),
}

impl GroupBy {
    pub fn parse(s: Option<&str>) -> GroupBy {
        match s {
            None => GroupBy::None,
            Some("dir") => GroupBy::Dir,
            Some(label) => GroupBy::Label(label.to_owned()),
        }
    }
}

/// The group name of hosts when there is no grouping.
pub const ALL: &str = "all";

/// A manifest: one snapshot per line, `PATH [key=value ...]`; blank lines
/// and `#` comments are skipped; relative paths are relative to the
/// manifest's directory, so a manifest travels with its archives. Every
/// bad line is named with its number.
pub fn read_manifest(path: &Path) -> Result<Vec<HostInput>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read manifest {}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line
            .split_once('#')
            .map_or(line, |(before, _)| before)
            .trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        let mut labels = BTreeMap::new();
        for w in words {
            match w.split_once('=') {
                Some((k, v)) if !k.is_empty() => {
                    labels.insert(k.to_owned(), v.to_owned());
                }
                _ => problems.push(format!(
                    "{}:{}: `{w}` is not a label (expected key=value after the path)",
                    path.display(),
                    i + 1
                )),
            }
        }
        let p = Path::new(first);
        out.push(HostInput {
            path: if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            },
            labels,
            group: ALL.to_owned(),
        });
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    if out.is_empty() {
        return Err(format!(
            "{}: the manifest lists no snapshots",
            path.display()
        ));
    }
    Ok(out)
}

/// Each input's group.
pub fn assign_groups(inputs: &mut [HostInput], by: &GroupBy) {
    for i in inputs {
        i.group = match by {
            GroupBy::None => ALL.to_owned(),
            GroupBy::Dir => i
                .path
                .parent()
                .and_then(|p| p.file_name())
                .map_or_else(|| ".".to_owned(), |n| n.to_string_lossy().into_owned()),
            GroupBy::Label(l) => i.labels.get(l).cloned().unwrap_or_else(|| "-".to_owned()),
        };
    }
}

/// `I/N`, with I from 0 (Kubernetes' `JOB_COMPLETION_INDEX`) to N-1.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{s}` is not a shard: give I/N with 0 <= I < N, like 0/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// This worker's share. With groups, whole groups go to one shard (the
/// k-th group in name order to shard k mod N), because cross-host rules
/// compare the hosts of a group and a group split over workers would be
/// compared in pieces. Without groups, every N-th host.
pub fn shard(inputs: Vec<HostInput>, (i, n): (usize, usize), grouped: bool) -> Vec<HostInput> {
    if grouped {
        let names: std::collections::BTreeSet<String> =
            inputs.iter().map(|h| h.group.clone()).collect();
        let mine: std::collections::BTreeSet<&String> = names
            .iter()
            .enumerate()
            .filter(|(k, _)| k % n == i)
            .map(|(_, g)| g)
            .collect();
        inputs
            .into_iter()
            .filter(|h| mine.contains(&h.group))
            .collect()
    } else {
        inputs
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i)
            .map(|(_, h)| h)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(path: &str, group: &str) -> HostInput {
        HostInput {
            path: path.into(),
            labels: BTreeMap::new(),
            group: group.into(),
        }
    }

    #[test]
    fn shards_split_hosts_or_whole_groups() {
        let hosts = vec![
            input("a", "east"),
            input("b", "west"),
            input("c", "east"),
            input("d", "north"),
        ];
        let paths = |v: Vec<HostInput>| v.into_iter().map(|h| h.path).collect::<Vec<_>>();
        assert_eq!(
            paths(shard(hosts.clone(), (0, 2), false)),
            ["a", "c"].map(PathBuf::from)
        );
        assert_eq!(
            paths(shard(hosts.clone(), (1, 2), false)),
            ["b", "d"].map(PathBuf::from)
        );
        // Groups in name order: east (0), north (1), west (2).
        assert_eq!(
            paths(shard(hosts.clone(), (0, 2), true)),
            ["a", "b", "c"].map(PathBuf::from)
        );
        assert_eq!(paths(shard(hosts, (1, 2), true)), ["d"].map(PathBuf::from));
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(parse_shard("3/4"), Ok((3, 4)));
        assert!(parse_shard("4/4").is_err());
        assert!(parse_shard("1/0").is_err());
        assert!(parse_shard("x").is_err());
    }

    #[test]
    fn manifest_lines() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("fleet.txt");
        std::fs::write(
            &m,
            "# cluster east\nhv1.tar.gz cluster=east\n\n/abs/hv2 cluster=west rack=r2 # moved\n",
        )
        .unwrap();
        let inputs = read_manifest(&m).unwrap();
        assert_eq!(inputs.len(), 2);
        assert_eq!(inputs[0].path, dir.path().join("hv1.tar.gz"));
        assert_eq!(inputs[0].labels["cluster"], "east");
        assert_eq!(inputs[1].path, PathBuf::from("/abs/hv2"));
        assert_eq!(inputs[1].labels["rack"], "r2");
        std::fs::write(&m, "hv1 cluster\n").unwrap();
        let e = read_manifest(&m).unwrap_err();
        assert!(e.contains("fleet.txt:1: `cluster` is not a label"), "{e}");
    }
}
