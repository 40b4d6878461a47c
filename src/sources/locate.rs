//! Finding the host in what the user pointed at.
//!
//! A snapshot is only worth analyzing if it holds some of what the source
//! table looks for; an empty directory, an unrelated tarball or a folder of
//! documents must not come back as a clean bill of health. The most common
//! mistake is pointing at the support case's folder, which holds the
//! sosreport one or two directories down (`case-123/sosreport-host-…/`, or
//! a tarball with a second wrapper directory): then the one host found
//! there is analyzed, and which directory that was is said.

use std::path::Path;

use super::{Locator, CORE, SOURCES};
use crate::snapshot::resolve::Node;
use crate::snapshot::Snapshot;

/// A snapshot that holds host data.
pub struct Located {
    pub snapshot: Snapshot,
    /// The directory below the given path that holds the host, when the
    /// path itself held none.
    pub below: Option<String>,
}

/// How deep below the given path a host is looked for.
const DEPTH: usize = 2;
/// Directories examined below the given path at most: pointing at a home
/// directory must not walk it.
const MAX_DIRS: usize = 200;

/// Open `path` and find the host in it: there, or in the one directory up
/// to two levels down that holds one. An error says what was looked for,
/// or which directories to choose between.
pub fn open_host(path: &Path) -> anyhow::Result<Located> {
    let snapshot = Snapshot::open(path)?;
    if has_host_data(&snapshot, "") {
        return Ok(Located {
            snapshot,
            below: None,
        });
    }
    let (hosts, archives) = hosts_below(&snapshot);
    match hosts.as_slice() {
        [one] => {
            let one = one.clone();
            Ok(Located {
                snapshot: snapshot.descend(&one),
                below: Some(one),
            })
        }
        [] if !archives.is_empty() => anyhow::bail!(
            "no host data found in {}; did you mean {}?",
            path.display(),
            archives
                .iter()
                .map(|a| path.join(a).display().to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        [] => anyhow::bail!(
            "no host data found in {} (nor in the directories up to {DEPTH} levels below it): \
             looked for {} and the other sources virt-doctor reads",
            path.display(),
            looked_for()
        ),
        several => anyhow::bail!(
            "no host data in {} itself, and {} snapshots below it; did you mean {}?",
            path.display(),
            several.len(),
            several
                .iter()
                .map(|h| path.join(h).display().to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
}

/// Whether any source of the table has a file in the snapshot below
/// `dir` (`""` for its root).
pub fn has_host_data(snap: &Snapshot, dir: &str) -> bool {
    SOURCES.iter().any(|source| {
        source.candidates.iter().any(|c| match c.at {
            Locator::File(p) | Locator::Names(p) => {
                let pattern = if dir.is_empty() {
                    p.to_owned()
                } else {
                    format!("{dir}/{p}")
                };
                !snap.glob(&pattern).is_empty()
            }
            // Device nodes are only looked at on the live host.
            Locator::Exists(_) => false,
        })
    })
}

/// Directories up to `DEPTH` levels down that hold host data (a host's
/// own subdirectories are not searched further), and the archives at the
/// first level, which are named but not opened.
fn hosts_below(snap: &Snapshot) -> (Vec<String>, Vec<String>) {
    let (mut hosts, mut archives) = (Vec::new(), Vec::new());
    let mut level = vec![String::new()];
    let mut examined = 0;
    for depth in 1..=DEPTH {
        let mut next = Vec::new();
        for dir in &level {
            let Ok(mut entries) = snap.list(dir) else {
                continue;
            };
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (name, node) in entries {
                let rel = if dir.is_empty() {
                    name.clone()
                } else {
                    format!("{dir}/{name}")
                };
                let archive = [".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz"]
                    .iter()
                    .any(|x| name.ends_with(x));
                match node {
                    Node::File { .. } if depth == 1 && archive => archives.push(rel),
                    // Glob syntax in a name would change the patterns.
                    Node::Dir if !name.contains(['*', '{', '}', '[', ']', '?']) => {
                        examined += 1;
                        if examined > MAX_DIRS {
                            return (hosts, archives);
                        }
                        if has_host_data(snap, &rel) {
                            hosts.push(rel);
                        } else {
                            next.push(rel);
                        }
                    }
                    _ => {}
                }
            }
        }
        level = next;
    }
    (hosts, archives)
}

/// Where the core sources were looked for, for the error message.
fn looked_for() -> String {
    CORE.iter()
        .map(|(what, ids)| {
            let paths: Vec<&str> = SOURCES
                .iter()
                .filter(|s| ids.contains(&s.id))
                .flat_map(|s| s.candidates)
                .filter_map(|c| match c.at {
                    Locator::File(p) | Locator::Names(p) => Some(p),
                    Locator::Exists(_) => None,
                })
                .take(3)
                .collect();
            format!("{what} ({}, …)", paths.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
