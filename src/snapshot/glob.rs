//! Path patterns for the source table.
//!
//! A pattern is a `/`-separated relative path. A `*` in a component
//! matches any run of characters within that component, and `{a,b}` any
//! one of the listed names; each is *captured* (so `sys/devices/system/node/node*/cpulist` yields the node id
//! without re-parsing the path). A final `**` matches every regular file
//! below, at any depth, without following symlinked directories (sysfs and
//! `/proc/sys` are full of loops).

use super::resolve::{components, Node};
use super::{ReadError, Snapshot};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The path as the pattern spelled it (links not resolved): this is what
    /// evidence and source statuses show.
    pub path: String,
    /// What each `*` matched, in order; for `**`, the path below it.
    pub captures: Vec<String>,
}

pub fn expand(snap: &Snapshot, pattern: &str) -> Vec<Match> {
    let segments: Vec<&str> = components(pattern).collect();
    let mut out = Vec::new();
    walk(snap, String::new(), &segments, Vec::new(), &mut out);
    out
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_owned()
    } else {
        format!("{base}/{name}")
    }
}

fn walk(snap: &Snapshot, base: String, segments: &[&str], caps: Vec<String>, out: &mut Vec<Match>) {
    let Some((segment, rest)) = segments.split_first() else {
        return;
    };
    if *segment == "**" {
        below(snap, &base, "", &caps, out);
        return;
    }
    if !segment.contains(['*', '{']) {
        let path = join(&base, segment);
        if rest.is_empty() {
            accept(snap, path, caps, true, out);
        } else {
            walk(snap, path, rest, caps, out);
        }
        return;
    }
    // List before compiling: most patterns' directories do not exist in a
    // given snapshot, and compiling the regex is the expensive part.
    let Ok(entries) = snap.list(&base) else {
        return;
    };
    let Some(matcher) = ComponentPattern::new(segment) else {
        return;
    };
    for (name, _) in entries {
        if let Some(found) = matcher.captures(&name) {
            let mut caps = caps.clone();
            caps.extend(found);
            let path = join(&base, &name);
            if rest.is_empty() {
                accept(snap, path, caps, false, out);
            } else {
                walk(snap, path, rest, caps, out);
            }
        }
    }
}

/// Anything that exists at the end of a pattern is a match, including what
/// cannot be read (a link out of the snapshot, a FIFO): the reader then
/// reports it as unreadable instead of the source looking merely missing.
/// A directory matches only where the pattern named it literally.
fn accept(
    snap: &Snapshot,
    path: String,
    captures: Vec<String>,
    literal: bool,
    out: &mut Vec<Match>,
) {
    let wanted = match snap.stat(&path) {
        Ok(Node::File { .. } | Node::Special) => true,
        Ok(Node::Dir) => literal,
        Ok(Node::Missing | Node::Symlink(_)) | Err(ReadError::NotFound) => false,
        Err(_) => true,
    };
    if wanted {
        out.push(Match { path, captures });
    }
}

/// One path component with wildcards, compiled to an anchored regex:
/// `*` is a lazy `(.*?)`, `{a,b}` is `(a|b)`; everything else is literal.
struct ComponentPattern(regex::Regex);

impl ComponentPattern {
    /// `None` for a plain literal component.
    fn new(segment: &str) -> Option<ComponentPattern> {
        if !segment.contains(['*', '{']) {
            return None;
        }
        let mut re = String::from("^");
        let mut rest = segment;
        while let Some(i) = rest.find(['*', '{']) {
            re.push_str(&regex::escape(&rest[..i]));
            if rest[i..].starts_with('*') {
                re.push_str("(.*?)");
                rest = &rest[i + 1..];
            } else {
                let close = rest[i..].find('}').map_or(rest.len(), |c| i + c);
                let alternatives: Vec<String> =
                    rest[i + 1..close].split(',').map(regex::escape).collect();
                re.push_str(&format!("({})", alternatives.join("|")));
                rest = rest.get(close + 1..).unwrap_or("");
            }
        }
        re.push_str(&regex::escape(rest));
        re.push('$');
        // The source table's patterns are a fixed set, so each is compiled
        // once per thread and reused (a clone shares the compiled program).
        thread_local! {
            static COMPILED: std::cell::RefCell<std::collections::HashMap<String, regex::Regex>> =
                Default::default();
        }
        let compiled = COMPILED.with(|c| {
            c.borrow_mut()
                .entry(re)
                // The table's patterns are fixed strings; a bad one is a bug.
                .or_insert_with_key(|re| regex::Regex::new(re).expect("valid source pattern"))
                .clone()
        });
        Some(ComponentPattern(compiled))
    }

    fn captures(&self, name: &str) -> Option<Vec<String>> {
        let c = self.0.captures(name)?;
        Some(
            c.iter()
                .skip(1)
                .map(|m| m.map_or(String::new(), |m| m.as_str().to_owned()))
                .collect(),
        )
    }
}

fn below(snap: &Snapshot, base: &str, sub: &str, caps: &[String], out: &mut Vec<Match>) {
    let Ok(entries) = snap.list(&join(base, sub)) else {
        return;
    };
    for (name, node) in entries {
        let rel = join(sub, &name);
        match node {
            Node::Dir => below(snap, base, &rel, caps, out),
            Node::File { .. } => {
                let mut caps = caps.to_vec();
                caps.push(rel.clone());
                out.push(Match {
                    path: join(base, &rel),
                    captures: caps,
                });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ComponentPattern;

    fn match_component(pattern: &str, name: &str) -> Option<Vec<String>> {
        ComponentPattern::new(pattern).unwrap().captures(name)
    }

    #[test]
    fn components_with_several_stars() {
        assert_eq!(match_component("node*", "node12"), Some(vec!["12".into()]));
        assert_eq!(
            match_component("*.log*", "web01.log"),
            Some(vec!["web01".into(), "".into()])
        );
        assert_eq!(
            match_component("*.log*", "web01.log.2.gz"),
            Some(vec!["web01".into(), ".2.gz".into()])
        );
        assert_eq!(
            match_component("hugepages-*kB", "hugepages-2048kB"),
            Some(vec!["2048".into()])
        );
        assert_eq!(match_component("node*", "possible"), None);
        assert_eq!(match_component("*.xml", "x.xm"), None);
        assert_eq!(
            match_component("{run,full_scans}", "run"),
            Some(vec!["run".into()])
        );
        assert_eq!(match_component("{run,full_scans}", "advisor_mode"), None);
        assert_eq!(match_component("a.b*", "aXb1"), None, "dots are literal");
    }
}
