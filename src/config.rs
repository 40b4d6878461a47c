//! `virt-doctor.toml`: site settings for the rules.
//!
//! Looked for at `--config FILE`, then `./virt-doctor.toml`, then
//! `/etc/virt-doctor/config.toml`; the first that exists is used.
//!
//! ```toml
//! # Rules to skip entirely, by code or name.
//! disable = ["MEM012", "cpu-governor-not-performance"]
//!
//! # Threshold overrides, per rule (code or name), per parameter.
//! [rules.CPU002]
//! max_ratio = 5.0
//!
//! # Rule selection, like ruff: codes, code prefixes, names, categories.
//! select = ["cpu", "DISK"]
//! ignore = ["NET007"]
//! min_severity = "warning"
//!
//! # Known exceptions, each with a reason; `expires` makes it temporary.
//! [[suppress]]
//! rule = "DISK003"            # code, name or category
//! host = "kvm-lab-*"          # glob on the host name (optional)
//! domain = "build*"           # glob on the domain name (optional)
//! reason = "CI builders: throwaway disks, speed over safety"
//! expires = "2027-06-30"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::findings::Severity;
use crate::rules::catalog::{Catalog, Meta};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub disable: Vec<String>,
    #[serde(default)]
    pub rules: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// Run only rules matching one of these (empty: all).
    #[serde(default)]
    pub select: Vec<String>,
    /// Never run rules matching one of these.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Run only rules of at least this severity.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    #[serde(default, rename = "suppress")]
    raw_suppressions: Vec<toml::Spanned<RawSuppression>>,
    /// Checked suppressions (filled by [`Config::parse`]).
    #[serde(skip)]
    pub suppressions: Vec<Suppression>,
    /// Where the config was read from, for messages.
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// The language findings are written in (`--lang`, or the locale).
    #[serde(skip)]
    pub lang: crate::lang::Lang,
    /// Threads one analysis evaluates its rules on (default: the CPUs, at
    /// most 8). A fleet run analyzes hosts in parallel instead, one
    /// thread each.
    #[serde(skip)]
    pub rule_threads: Option<usize>,
    /// There are no host facts (`lint` of domain files without `--host`):
    /// fix steps that read them would be made from empty facts, so they
    /// become a note to plan with a host instead.
    #[serde(skip)]
    pub without_host: bool,
    /// Render each finding's fix steps (`plan`). Off for every other
    /// command: the steps are not reported, and on a host with thousands
    /// of findings their templates are work for nothing.
    #[serde(skip)]
    pub fix_steps: bool,
}

/// Why a config file could not be used. Each names the file, and the
/// line where the problem has one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Not TOML, or a key the config does not have.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A `[[suppress]]` entry without a reason, with a bad date or glob.
    #[error("{}:{line}: [[suppress]] {message}", path.display())]
    Suppression {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// Rules, patterns or parameters the config names that the catalog
    /// does not have ([`Config::check`]), one line each.
    #[error("{}", .0.join("\n"))]
    Unknown(Vec<String>),
}

impl Config {
    /// Find and read the config file; no file at all is an empty config.
    pub fn discover(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let candidates: Vec<PathBuf> = match explicit {
            Some(p) => vec![p.to_owned()],
            None => vec![
                PathBuf::from("virt-doctor.toml"),
                PathBuf::from("/etc/virt-doctor/config.toml"),
            ],
        };
        for path in candidates {
            match std::fs::read_to_string(&path) {
                Ok(text) => return Config::parse(&text, &path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                    continue
                }
                Err(error) => return Err(ConfigError::Read { path, error }),
            }
        }
        Ok(Config::default())
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let mut c: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            line: e.span().map_or(1, |s| line_of(s.start)),
            message: e.message().to_owned(),
        })?;
        for raw in std::mem::take(&mut c.raw_suppressions) {
            let line = line_of(raw.span().start);
            let raw = raw.into_inner();
            let at = format!("{}:{line}", path.display());
            let problem = |message: String| ConfigError::Suppression {
                path: path.to_owned(),
                line,
                message,
            };
            if raw.reason.trim().is_empty() {
                return Err(problem(format!("for `{}` needs a reason", raw.rule)));
            }
            let expires =
                match &raw.expires {
                    None => None,
                    Some(d) => Some(chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(
                        |e| problem(format!("expires = \"{d}\": {e} (write YYYY-MM-DD)")),
                    )?),
                };
            for (what, pattern) in [("host", &raw.host), ("domain", &raw.domain)] {
                if let Some(p) = pattern {
                    glob::Pattern::new(p).map_err(|e| problem(format!("{what} = \"{p}\": {e}")))?;
                }
            }
            c.suppressions.push(Suppression {
                rule: raw.rule,
                host: raw.host,
                domain: raw.domain,
                reason: raw.reason,
                expires,
                origin: at,
            });
        }
        c.path = Some(path.to_owned());
        Ok(c)
    }

    /// Whether a rule runs, given `disable`, `select`, `ignore` and
    /// `min_severity`.
    /// (Fact rules and log rules alike: both dereference to [`Meta`].)
    pub fn runs(&self, rule: &Meta) -> bool {
        let hit = |s: &String| selects(s, &rule.code, &rule.name, &rule.category);
        !self.disabled(&rule.code, &rule.name)
            && (self.select.is_empty() || self.select.iter().any(hit))
            && !self.ignore.iter().any(hit)
            && self.min_severity.is_none_or(|m| rule.severity >= m)
    }

    /// Every rule and parameter the config names must exist, so a typo in
    /// a threshold override cannot silently leave the default in force.
    pub fn check(&self, catalog: &Catalog) -> Result<(), ConfigError> {
        let at = self
            .path
            .as_ref()
            .map_or("config".into(), |p| p.display().to_string());
        let mut errors = Vec::new();
        for name in &self.disable {
            if catalog.find(name).is_none() {
                errors.push(format!("{at}: disable: no rule `{name}`"));
            }
        }
        for pattern in self.select.iter().chain(&self.ignore) {
            let any = catalog
                .all()
                .any(|r| selects(pattern, &r.code, &r.name, &r.category));
            if !any {
                errors.push(format!("{at}: select/ignore: `{pattern}` matches no rule"));
            }
        }
        for (rule, params) in &self.rules {
            let Some(r) = catalog.find_rule(rule) else {
                errors.push(match catalog.find(rule) {
                    Some(log) => format!(
                        "{at}: [rules.{rule}]: {} is a log rule and has no parameters",
                        log.code
                    ),
                    None => format!("{at}: [rules.{rule}]: no such rule"),
                });
                continue;
            };
            for (p, value) in params {
                // A value of another kind than the default (a string where
                // a number belongs) would make the rule's predicate fail on
                // every subject: refuse it here, with the expected kind.
                if let Some(declared) = r.params.iter().find(|x| &x.name == p) {
                    let kind = |v: &serde_json::Value| match v {
                        serde_json::Value::Number(_) => "a number",
                        serde_json::Value::String(_) => "a string",
                        serde_json::Value::Bool(_) => "true or false",
                        serde_json::Value::Array(_) => "a list",
                        _ => "a table",
                    };
                    let given = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
                    if kind(&given) != kind(&declared.default) {
                        errors.push(format!(
                            "{at}: [rules.{rule}] {p} = {value}: expected {} (default {})",
                            kind(&declared.default),
                            declared.default
                        ));
                    }
                }
                if !r.params.iter().any(|x| &x.name == p) {
                    let known: Vec<&str> = r.params.iter().map(|x| x.name.as_str()).collect();
                    errors.push(format!(
                        "{at}: [rules.{rule}] {p}: rule {} has no such parameter (it has: {})",
                        r.code,
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Unknown(errors))
        }
    }

    pub fn disabled(&self, code: &str, name: &str) -> bool {
        self.disable
            .iter()
            .any(|d| d.eq_ignore_ascii_case(code) || d == name)
    }

    /// The override for one parameter of one rule, if any.
    pub fn param(&self, code: &str, name: &str, param: &str) -> Option<serde_json::Value> {
        self.rules
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(code) || k.as_str() == name)
            .and_then(|(_, ps)| ps.get(param))
            .and_then(|v| serde_json::to_value(v).ok())
    }
}

/// `select`/`ignore` entries match a code (`DISK003`), a code prefix in
/// capitals (`DISK`), a name (`disk-cache-writeback`) or a category
/// (`disk`).
/// Whether a `--select`/`--ignore` pattern names a rule: a code or code
/// prefix (`DISK`, `cpu01`), a rule name, or a category, in any case.
pub fn selects(pattern: &str, code: &str, name: &str, category: &str) -> bool {
    let prefix = !pattern.is_empty()
        && pattern.chars().all(|c| c.is_ascii_alphanumeric())
        && code.starts_with(&pattern.to_ascii_uppercase());
    prefix || name.eq_ignore_ascii_case(pattern) || category.eq_ignore_ascii_case(pattern)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    rule: String,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires: Option<String>,
}

/// A known exception: findings of `rule` on matching hosts and domains are
/// suppressed, with a reason, until `expires`.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// Rule code, name or category.
    pub rule: String,
    pub host: Option<String>,
    pub domain: Option<String>,
    pub reason: String,
    pub expires: Option<chrono::NaiveDate>,
    /// `file:line` where it was written.
    pub origin: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_line() {
        let path = Path::new("site.toml");
        let err = Config::parse("disable = [\"MEM012\"]\nselect = 3\n", path).unwrap_err();
        assert!(
            matches!(err, ConfigError::Syntax { line: 2, .. }),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("site.toml:2: "), "{err}");

        let err = Config::parse("[[suppress]]\nrule = \"DISK008\"\n", path).unwrap_err();
        assert_eq!(
            err.to_string(),
            "site.toml:1: [[suppress]] for `DISK008` needs a reason"
        );
        let err = Config::parse(
            "\n[[suppress]]\nrule = \"DISK008\"\nreason = \"r\"\nexpires = \"soon\"\n",
            path,
        )
        .unwrap_err();
        assert!(
            matches!(err, ConfigError::Suppression { line: 2, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("site.toml:2: [[suppress]] expires = \"soon\": "),
            "{err}"
        );
        assert!(err.to_string().ends_with(" (write YYYY-MM-DD)"), "{err}");
    }

    #[test]
    fn an_explicit_config_must_exist() {
        let err = Config::discover(Some(Path::new("/nonexistent/virt-doctor.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
        assert!(err
            .to_string()
            .starts_with("cannot read config /nonexistent/virt-doctor.toml: "));
    }
}
