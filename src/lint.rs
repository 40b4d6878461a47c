//! `lint`: domain XML files checked on their own, as they are kept in
//! git, or as the domains of a real host.
//!
//! The files become the domains of a host, the given snapshot's or an
//! empty one, and go through the same fact rules as `analyze`. Without a
//! host, the rules that judge host facts cannot say anything true, so
//! they are skipped and the report lists them.

use std::path::{Path, PathBuf};

use crate::analysis::{self, BadSuppressions};
use crate::config::Config;
use crate::facts::{self, Target};
use crate::parse;
use crate::report::{Report, SkippedRule};
use crate::rules::Catalog;
use crate::snapshot::{Kind, Snapshot};
use crate::sources::{self, DomainEntry, DomainOrigin, HostData, InvalidXml};

/// Why the domain XML could not be checked.
#[derive(Debug)]
pub enum LintError {
    /// A file or directory given could not be read.
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A directory given holds no `*.xml` file: most likely the wrong one.
    NoXml { dir: PathBuf },
    /// A domain's own suppression has an expiry that is not a date.
    Suppressions(BadSuppressions),
}

impl std::fmt::Display for LintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LintError::Read { path, error } => write!(f, "cannot read {}: {error}", path.display()),
            LintError::NoXml { dir } => {
                write!(f, "{}: no *.xml files in this directory", dir.display())
            }
            LintError::Suppressions(s) => s.fmt(f),
        }
    }
}

// No `source()`: each message already includes its cause, and callers
// print the whole chain.
impl std::error::Error for LintError {}

/// Why a rule was skipped when no host was given.
pub const NEEDS_HOST: &str = "needs host facts; run with --host SNAPSHOT";

/// The files `lint` reads: each file given, and the `*.xml` files of each
/// directory given (sorted, not recursive: a directory of definitions,
/// as /etc/libvirt/qemu is).
pub fn domain_files(given: &[PathBuf]) -> Result<Vec<PathBuf>, LintError> {
    let mut out = Vec::new();
    for path in given {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|error| LintError::Read {
            path: path.clone(),
            error,
        })?;
        let mut xml: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "xml"))
            .collect();
        if xml.is_empty() {
            return Err(LintError::NoXml { dir: path.clone() });
        }
        xml.sort();
        out.extend(xml);
    }
    Ok(out)
}

/// The report on the domain XML in `files` (files, or directories as
/// [`domain_files`] reads them) as the domains of `host`, or of an empty
/// host. XML that does not parse becomes a VD003 finding. Also returns
/// the codes of the rules that ran.
///
/// Without a host, the rules that need host facts are disabled in
/// `config` and listed in the report's `skipped_rules`.
pub fn lint(
    files: &[PathBuf],
    host: Option<&Snapshot>,
    catalog: &Catalog,
    mut config: Config,
) -> Result<(Report, Vec<String>), LintError> {
    let (mut data, statuses, target) = match host {
        Some(snap) => {
            let (d, s) = sources::load(snap);
            (
                d,
                s,
                Target {
                    kind: snap.kind(),
                    path: ".".into(),
                },
            )
        }
        // No host: the report is about what was given, and says so
        // (`0 critical, ... on domains/`).
        None => (
            HostData::default(),
            Vec::new(),
            Target {
                kind: Kind::Directory,
                path: match files {
                    [one] => one.display().to_string(),
                    many => format!("{} files", many.len()),
                },
            },
        ),
    };
    // The domains are the files given, not the host's.
    data.domains.clear();
    data.invalid_domain_xml.clear();
    for file in &domain_files(files)? {
        add_domain_file(&mut data, file)?;
    }
    let mut skipped = Vec::new();
    if host.is_none() {
        for r in catalog
            .rules
            .iter()
            // Rules virt-doctor raises itself (VD001-VD003, `when = "false"`)
            // are not judged over host facts.
            .filter(|r| r.needs_host && config.runs(r) && r.when.source != "false")
        {
            skipped.push(SkippedRule {
                rule: r.code.clone(),
                reason: NEEDS_HOST.into(),
            });
        }
        config
            .disable
            .extend(skipped.iter().map(|s| s.rule.clone()));
        config.without_host = true;
    }
    let facts = facts::build(&data, statuses, target);
    let a = analysis::with_facts(facts, catalog, &config, Vec::new());
    let (mut report, ran) = a
        .into_report(catalog, &config)
        .map_err(LintError::Suppressions)?;
    report.skipped_rules = skipped;
    // The domains are the files given: only the host can be partial.
    match (&mut report.coverage, host) {
        (Some(c), Some(_)) => {
            c.missing.retain(|g| g.what != "domain definitions");
            c.partial = !c.missing.is_empty();
        }
        (coverage, _) => *coverage = None,
    }
    Ok((report, ran))
}

/// One domain XML file as a persistent, inactive definition, named by its
/// path as given; its problems, if any, for VD003.
fn add_domain_file(data: &mut HostData, file: &Path) -> Result<(), LintError> {
    let shown = file.display().to_string();
    let text = std::fs::read(file).map_err(|error| LintError::Read {
        path: file.to_owned(),
        error,
    })?;
    let parsed = parse::domain::parse(&String::from_utf8_lossy(&text));
    if !parsed.problems.is_empty() {
        data.invalid_domain_xml.push(InvalidXml {
            path: shown.clone(),
            problems: parsed.problems,
        });
    }
    if let Some(domain) = parsed.value {
        data.domains.insert(
            domain.name.clone(),
            DomainEntry {
                domain,
                origin: DomainOrigin::Persistent,
                path: shown,
                persistent: true,
                active: false,
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_host_the_host_rules_are_skipped_and_said() {
        let file = PathBuf::from("fixtures/hosts/healthy-2node/etc/libvirt/qemu/db01.xml");
        let catalog = Catalog::load(&[]).unwrap();
        let (report, ran) = lint(
            std::slice::from_ref(&file),
            None,
            &catalog,
            Config::default(),
        )
        .unwrap();
        assert_eq!(report.target.path, file.display().to_string());
        assert!(report.coverage.is_none());
        assert!(!report.skipped_rules.is_empty());
        for s in &report.skipped_rules {
            assert_eq!(s.reason, NEEDS_HOST);
            assert!(!ran.contains(&s.rule), "{} ran and was skipped", s.rule);
        }
    }

    #[test]
    fn a_directory_without_domain_xml_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not XML").unwrap();
        let err = domain_files(&[dir.path().to_owned()]).unwrap_err();
        assert!(matches!(err, LintError::NoXml { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("{}: no *.xml files in this directory", dir.path().display())
        );
    }
}
