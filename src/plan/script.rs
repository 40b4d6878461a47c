//! A plan as one POSIX shell script.
//!
//! Each host's part is a shell function, and the script runs the part of
//! the host it runs on (by short host name), so a plan for many hosts can
//! be copied everywhere and nothing lands on the wrong machine. Domain XML
//! files analyzed without a host make one part that runs anywhere.
//! Every command follows a comment naming its finding. Commands are
//! idempotent (a second run sets the same values), domain changes go to
//! the persistent definition only, and nothing stops, destroys or
//! undefines a domain.

use std::fmt::Write;

use super::{FindingRef, HostPlan, Plan, PlannedFinding};
use crate::findings::{Change, Need};

/// A shell word: as it is when it needs no quoting, else single-quoted.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn line(words: &[&str]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// Where a sysctl setting is kept: a drop-in of its own, so fixes never
/// overwrite each other's files, named to sort after the distributions'
/// own files (99-sysctl.conf), which would otherwise win.
pub fn sysctl_drop_in(key: &str) -> String {
    format!("/etc/sysctl.d/99-virt-doctor-{key}.conf")
}

/// The shell lines of one change (none for a manual step).
pub fn commands(change: &Change) -> Vec<String> {
    match change {
        Change::VirtXml { domain, args } => {
            let mut words = vec!["virt-xml", domain.as_str()];
            words.extend(args.iter().map(String::as_str));
            words.push("--define");
            vec![line(&words)]
        }
        Change::Virsh { args } => {
            let mut words = vec!["virsh"];
            words.extend(args.iter().map(String::as_str));
            vec![line(&words)]
        }
        Change::Sysctl { key, value } => vec![
            line(&["sysctl", "-w", &format!("{key}={value}")]),
            format!(
                "printf '%s\\n' {} > {}",
                quote(&format!("{key} = {value}")),
                quote(&sysctl_drop_in(key))
            ),
        ],
        Change::Sysfs { path, value } => vec![format!("echo {} > {}", quote(value), quote(path))],
        Change::File { path, content } => {
            let dir = path.rsplit_once('/').map_or("/", |(d, _)| d);
            let lines: Vec<String> = content.trim_end().lines().map(quote).collect();
            vec![
                line(&["mkdir", "-p", dir]),
                format!("printf '%s\\n' {} > {}", lines.join(" "), quote(path)),
            ]
        }
        Change::Module { name } => vec![
            line(&["modprobe", name]),
            format!(
                "echo {} > {}",
                quote(name),
                quote(&format!("/etc/modules-load.d/{name}.conf"))
            ),
        ],
        Change::Command { args } => {
            let words: Vec<&str> = args.iter().map(String::as_str).collect();
            vec![line(&words)]
        }
        Change::Manual { .. } => Vec::new(),
    }
}

/// Text for a comment line: data from the snapshot (a host or domain
/// name, a path) must not end the comment and start a command.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn comment(out: &mut String, indent: &str, text: &str) {
    for l in text.lines() {
        let _ = if l.is_empty() {
            writeln!(out, "{indent}#")
        } else {
            writeln!(out, "{indent}# {l}")
        };
    }
}

/// `CODE [severity] title (subject)`, as every finding is named.
fn named(f: &FindingRef) -> String {
    one_line(&format!(
        "{} [{}] {} ({})",
        f.rule,
        f.severity.as_str(),
        f.title,
        f.subject
    ))
}

fn finding(out: &mut String, indent: &str, p: &PlannedFinding) {
    let f = &p.finding;
    let _ = writeln!(out, "\n{indent}# {}", named(f));
    let mut needs: Vec<Need> = p.steps.iter().flat_map(|s| s.step.needs.clone()).collect();
    needs.sort();
    needs.dedup();
    for n in needs {
        comment(
            out,
            indent,
            &format!("needs: {}", n.describe(f.domain.as_deref())),
        );
    }
    let mut notes = Vec::new();
    for s in &p.steps {
        // A note repeated by `each` is said once.
        if let Some(note) = s.step.note.as_ref().filter(|n| !notes.contains(n)) {
            notes.push(note);
            comment(out, indent, &format!("note: {note}"));
        }
        if let Change::Manual { text } = &s.step.change {
            comment(out, indent, &format!("by hand: {text}"));
            continue;
        }
        if let Some(c) = &s.conflict {
            comment(out, indent, &format!("left out, conflicting: {c}:"));
            for l in &s.commands {
                comment(out, indent, &format!("  {l}"));
            }
            continue;
        }
        if let Some(by) = &s.same_as {
            comment(out, indent, &format!("done above, for {by}:"));
            for l in &s.commands {
                comment(out, indent, &format!("  {l}"));
            }
            continue;
        }
        for l in &s.commands {
            let _ = writeln!(out, "{indent}{l}");
        }
    }
}

fn part(out: &mut String, function: &str, h: &HostPlan) {
    let what = match &h.host {
        Some(name) => format!("host {name}, from {}", h.source),
        None => format!("domains of {}, wherever they are defined", h.source),
    };
    let _ = writeln!(out, "\n# ==== {} ====", one_line(&what));
    let _ = writeln!(out, "{function}() {{");
    let indent = "    ";
    // An empty function body is a syntax error in sh.
    let _ = writeln!(out, "{indent}:");
    if h.host_changes.is_empty() && h.domains.is_empty() {
        let _ = writeln!(
            out,
            "{indent}# Nothing to change: no finding has a fix to apply."
        );
    }
    if !h.host_changes.is_empty() {
        let _ = writeln!(out, "\n{indent}# ---- the host ----");
        for p in &h.host_changes {
            finding(out, indent, p);
        }
    }
    for d in &h.domains {
        let _ = writeln!(out, "\n{indent}# ---- domain {} ----", one_line(&d.name));
        for p in &d.changes {
            finding(out, indent, p);
        }
    }
    if !h.without_steps.is_empty() {
        let _ = writeln!(
            out,
            "\n{indent}# ---- findings with no change to make here (their fix is in the report) ----"
        );
        for f in &h.without_steps {
            let _ = writeln!(out, "{indent}# {}", named(f));
        }
    }
    let _ = writeln!(out, "}}");
}

/// The whole script; `generated_by` is the command line that made it.
pub fn render(plan: &Plan, generated_by: &str) -> String {
    let mut out = String::new();
    out.push_str("#!/bin/sh\n");
    let _ = writeln!(out, "# Made by {}.", one_line(generated_by));
    out.push_str(
        "# virt-doctor never runs this script and has changed nothing. Read each\n\
         # step, then run it as root on the host it names: each host's part runs\n\
         # only where `uname -n` is that host (its short name). Domain changes\n\
         # go to the persistent definition only (virt-xml --define, virsh\n\
         # --config); a \"needs\" line says what makes them take effect. Host\n\
         # changes are made now and kept across reboots. A second run sets the\n\
         # same values again. Nothing here stops, destroys or undefines a domain.\n\
         set -eu\n",
    );
    let mut dispatch = String::new();
    let mut anywhere = Vec::new();
    for (i, h) in plan.hosts.iter().enumerate() {
        let function = format!("plan_{}", i + 1);
        part(&mut out, &function, h);
        match &h.host {
            Some(name) => {
                let name = one_line(name);
                let short = name.split('.').next().unwrap_or(&name);
                let _ = writeln!(dispatch, "    {}) {function}; ran=1 ;;", quote(short));
            }
            None => anywhere.push(function),
        }
    }
    out.push('\n');
    for f in &anywhere {
        let _ = writeln!(out, "{f}");
    }
    if !dispatch.is_empty() {
        let names: Vec<&str> = plan
            .hosts
            .iter()
            .filter_map(|h| h.host.as_deref())
            .collect();
        out.push_str("ran=0\nhost=$(uname -n)\ncase \"${host%%.*}\" in\n");
        out.push_str(&dispatch);
        out.push_str("esac\n");
        // The names are data: single-quoted, so nothing in them runs.
        let _ = writeln!(
            out,
            "if [ \"$ran\" = 0 ]; then\n    echo {}\"$host\" >&2\n    exit 1\nfi",
            quote(&format!(
                "this plan is for {}, not ",
                one_line(&names.join(", "))
            ))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_when_they_need_it() {
        assert_eq!(
            quote("bus=virtio,target.dev=vda"),
            "bus=virtio,target.dev=vda"
        );
        assert_eq!(
            quote("path=/var/lib/x a.qcow2"),
            "'path=/var/lib/x a.qcow2'"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn names_from_the_snapshot_stay_data() {
        let plan = Plan {
            schema: super::super::SCHEMA,
            hosts: vec![HostPlan {
                host: Some("evil$(touch /tmp/x)\nrm -rf /".into()),
                source: "s".into(),
                host_changes: Vec::new(),
                domains: Vec::new(),
                without_steps: Vec::new(),
            }],
        };
        let script = render(&plan, "test");
        assert!(!script.lines().any(|l| l.starts_with("rm ")), "{script}");
        assert!(
            script.contains(
                "echo 'this plan is for evil$(touch /tmp/x) rm -rf /, not '\"$host\" >&2"
            ),
            "{script}"
        );
        // Run, it refuses (this machine is not that host) and runs nothing.
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("x");
        let script = script.replace("/tmp/x", marker.to_str().unwrap());
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(!marker.exists());
    }

    #[test]
    fn a_sysctl_is_set_now_and_in_a_drop_in_of_its_own() {
        let c = Change::Sysctl {
            key: "vm.swappiness".into(),
            value: "10".into(),
        };
        assert_eq!(
            commands(&c),
            [
                "sysctl -w vm.swappiness=10",
                "printf '%s\\n' 'vm.swappiness = 10' > /etc/sysctl.d/99-virt-doctor-vm.swappiness.conf"
            ]
        );
    }

    #[test]
    fn virt_xml_edits_the_persistent_definition() {
        let c = Change::VirtXml {
            domain: "db 01".into(),
            args: vec![
                "--edit".into(),
                "target=sda".into(),
                "--disk".into(),
                "bus=virtio".into(),
            ],
        };
        assert_eq!(
            commands(&c),
            ["virt-xml 'db 01' --edit target=sda --disk bus=virtio --define"]
        );
    }
}
