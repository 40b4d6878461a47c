//! Path resolution inside a snapshot.
//!
//! Every read goes through [`resolve`], which walks the path one component at
//! a time and follows symlinks itself instead of letting the OS do it. That is
//! the only way to keep a customer's sosreport from pointing us at the
//! analyst's own `/etc/shadow`: a link whose target climbs above the snapshot
//! root, or (outside the live host) an absolute link, is refused with a
//! message naming the link.
//!
//! Snapshots that went through git or a copy tool without symlink support
//! store a sysfs link such as `sys/block/vda -> ../devices/.../vda` as a small
//! regular file holding the target text. When such a file sits where a
//! directory is needed we follow it like a link; a leaf file is never
//! reinterpreted.

use super::ReadError;

/// How many links one lookup may follow, as in Linux's `MAXSYMLINKS`.
const MAX_LINK_HOPS: usize = 40;

/// What one path component is, without following it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    File {
        size: u64,
    },
    Dir,
    Symlink(String),
    /// Device nodes, FIFOs, sockets: present, but never opened.
    Special,
    Missing,
}

/// A tree of files that can be asked about one path at a time.
pub trait Tree {
    /// Inspect `rel` (a `/`-joined path relative to the root, "" is the root)
    /// without following a final symlink.
    fn lstat(&self, rel: &str) -> Result<Node, ReadError>;
    /// The text of a small regular file, for link-as-file detection.
    fn small_text(&self, rel: &str) -> Option<String>;
}

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Absolute symlinks restart at the root (the live host) instead of
    /// being refused (a captured snapshot).
    pub absolute_links: bool,
    /// `..` at the root stays at the root (POSIX) instead of being refused.
    pub clamp_parent: bool,
    /// Follow link-as-file stand-ins for directories.
    pub link_files: bool,
}

/// Split a relative path into its components, ignoring empty ones and `.`.
pub fn components(path: &str) -> impl DoubleEndedIterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

/// Resolve `rel` to the canonical path of what it names inside the tree.
/// The final component is followed too when it is a link.
pub fn resolve(tree: &dyn Tree, rel: &str, policy: Policy) -> Result<String, ReadError> {
    let mut pending: Vec<String> = components(rel).rev().map(str::to_owned).collect();
    let mut resolved: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(component) = pending.pop() {
        if component == "." {
            continue;
        }
        if component == ".." {
            if resolved.pop().is_none() && !policy.clamp_parent {
                return Err(ReadError::Refused(format!(
                    "`{rel}` leads above the snapshot root"
                )));
            }
            continue;
        }
        let here = join(&resolved, &component);
        let target = match tree.lstat(&here)? {
            Node::Missing => return Err(ReadError::NotFound),
            Node::Symlink(target) => target,
            Node::File { size } if !pending.is_empty() && policy.link_files && size < 4096 => {
                match tree.small_text(&here).and_then(|t| link_file_target(&t)) {
                    Some(target) => target,
                    None => return Err(ReadError::NotFound),
                }
            }
            Node::File { .. } | Node::Special if !pending.is_empty() => {
                return Err(ReadError::NotFound)
            }
            _ => {
                resolved.push(component);
                continue;
            }
        };
        hops += 1;
        if hops > MAX_LINK_HOPS {
            return Err(ReadError::Refused(format!(
                "`{rel}`: more than {MAX_LINK_HOPS} symlinks (a loop?)"
            )));
        }
        if target.starts_with('/') {
            if !policy.absolute_links {
                return Err(ReadError::Refused(format!(
                    "symlink `{here}` -> `{target}` points outside the snapshot"
                )));
            }
            resolved.clear();
        }
        // `..` in a relative target must not escape the root either; the
        // check above handles it when that component is processed.
        for part in components(&target).collect::<Vec<_>>().into_iter().rev() {
            pending.push(part.to_owned());
        }
        if !policy.clamp_parent {
            // Refuse early with the link named, which is clearer than a
            // generic "leads above the root" on a later component.
            let ups = depth_change(&target);
            if (resolved.len() as isize) + ups < 0 {
                return Err(ReadError::Refused(format!(
                    "symlink `{here}` -> `{target}` points outside the snapshot"
                )));
            }
        }
    }
    Ok(resolved.join("/"))
}

/// The lowest depth a relative path reaches, relative to where it starts.
fn depth_change(target: &str) -> isize {
    let mut depth = 0isize;
    let mut lowest = 0isize;
    for c in components(target) {
        if c == ".." {
            depth -= 1;
            lowest = lowest.min(depth);
        } else {
            depth += 1;
        }
    }
    lowest
}

fn join(parts: &[String], last: &str) -> String {
    if parts.is_empty() {
        last.to_owned()
    } else {
        format!("{}/{}", parts.join("/"), last)
    }
}

/// A link-as-file holds one relative path and nothing else.
fn link_file_target(text: &str) -> Option<String> {
    let t = text.trim_end_matches('\n');
    let plausible = !t.is_empty()
        && !t.starts_with('/')
        && t.contains('/')
        && !t.contains(['\n', '\0', ' ', '\t']);
    plausible.then(|| t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Fake(BTreeMap<&'static str, Node>);
    impl Tree for Fake {
        fn lstat(&self, rel: &str) -> Result<Node, ReadError> {
            if rel.is_empty() {
                return Ok(Node::Dir);
            }
            Ok(self.0.get(rel).cloned().unwrap_or(Node::Missing))
        }
        fn small_text(&self, rel: &str) -> Option<String> {
            match rel {
                "sys/block/vdb" => Some("../devices/virtual/block/vdb\n".into()),
                _ => None,
            }
        }
    }

    fn tree() -> Fake {
        use Node::*;
        Fake(BTreeMap::from([
            ("sys", Dir),
            ("sys/block", Dir),
            ("sys/block/vda", Symlink("../devices/pci/vda".into())),
            ("sys/block/vdb", File { size: 29 }),
            ("sys/block/evil", Symlink("../../../etc".into())),
            ("sys/block/abs", Symlink("/etc".into())),
            ("sys/block/loop", Symlink("loop".into())),
            ("sys/devices", Dir),
            ("sys/devices/pci", Dir),
            ("sys/devices/pci/vda", Dir),
            ("sys/devices/pci/vda/queue", Dir),
            ("sys/devices/pci/vda/queue/scheduler", File { size: 10 }),
            ("sys/devices/virtual", Dir),
            ("sys/devices/virtual/block", Dir),
            ("sys/devices/virtual/block/vdb", Dir),
            ("sys/devices/virtual/block/vdb/queue", Dir),
        ]))
    }

    const SNAPSHOT: Policy = Policy {
        absolute_links: false,
        clamp_parent: false,
        link_files: true,
    };

    #[test]
    fn follows_relative_links_inside_the_root() {
        let t = tree();
        assert_eq!(
            resolve(&t, "sys/block/vda/queue/scheduler", SNAPSHOT).unwrap(),
            "sys/devices/pci/vda/queue/scheduler"
        );
        assert_eq!(
            resolve(&t, "sys/block/vdb", SNAPSHOT).unwrap(),
            "sys/block/vdb",
            "a leaf link-file is not reinterpreted"
        );
        assert_eq!(
            resolve(&t, "sys/block/vdb/queue", SNAPSHOT).unwrap(),
            "sys/devices/virtual/block/vdb/queue"
        );
    }

    #[test]
    fn refuses_links_that_leave_the_root() {
        let t = tree();
        let err = resolve(&t, "sys/block/evil/passwd", SNAPSHOT).unwrap_err();
        assert_eq!(
            err,
            ReadError::Refused(
                "symlink `sys/block/evil` -> `../../../etc` points outside the snapshot".into()
            )
        );
        let err = resolve(&t, "sys/block/abs/passwd", SNAPSHOT).unwrap_err();
        assert!(matches!(err, ReadError::Refused(m) if m.contains("`/etc`")));
        let err = resolve(&t, "../etc/passwd", SNAPSHOT).unwrap_err();
        assert!(matches!(err, ReadError::Refused(_)));
    }

    #[test]
    fn stops_link_loops() {
        let err = resolve(&tree(), "sys/block/loop/x", SNAPSHOT).unwrap_err();
        assert!(matches!(err, ReadError::Refused(m) if m.contains("more than 40 symlinks")));
    }

    #[test]
    fn missing_components_are_not_found() {
        assert_eq!(
            resolve(&tree(), "sys/nothing/here", SNAPSHOT),
            Err(ReadError::NotFound)
        );
    }
}
