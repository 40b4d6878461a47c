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
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::rules::catalog::Catalog;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub disable: Vec<String>,
    #[serde(default)]
    pub rules: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// Where the config was read from, for messages.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

impl Config {
    /// Find and read the config file; no file at all is an empty config.
    pub fn discover(explicit: Option<&Path>) -> anyhow::Result<Config> {
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
                Err(e) => anyhow::bail!("cannot read config {}: {e}", path.display()),
            }
        }
        Ok(Config::default())
    }

    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Config> {
        let mut c: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            anyhow::anyhow!("{}:{line}: {}", path.display(), e.message())
        })?;
        c.path = Some(path.to_owned());
        Ok(c)
    }

    /// Every rule and parameter the config names must exist, so a typo in
    /// a threshold override cannot silently leave the default in force.
    pub fn check(&self, catalog: &Catalog) -> Result<(), Vec<String>> {
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
        for (rule, params) in &self.rules {
            let Some(r) = catalog.find(rule) else {
                errors.push(format!("{at}: [rules.{rule}]: no such rule"));
                continue;
            };
            for p in params.keys() {
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
            Err(errors)
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
