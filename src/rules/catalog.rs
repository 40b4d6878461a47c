//! The rule catalog: rule files (TOML) loaded, checked and compiled once.
//!
//! Built-in rules are the files under `rules/`, embedded at build time; a
//! site adds its own with `--rules-dir DIR` (every `*.toml` in it), no
//! recompilation. Every problem in a rule file is an error naming the file
//! and the line of the rule, and all of them are reported at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::expr::{Expr, Template};
use crate::findings::{Severity, CATEGORIES};
use crate::lang::Lang;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// What a rule iterates over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Once for the host.
    Host,
    /// Each domain (`domain`).
    Domain,
    /// Each disk of each domain (`domain`, `disk`).
    Disk,
    /// Each interface of each domain (`domain`, `iface`).
    Interface,
    /// Each host NUMA node (`node`).
    NumaNode,
    /// Each host block device (`dev`).
    BlockDevice,
    /// Each host hugepage pool (`pool`).
    HugepagePool,
    /// Each host network interface in `/proc/net/dev` (`nic`).
    NetDevice,
    /// Each group of hosts of a fleet run (`group`, `hosts`), or each
    /// element (`item`) of the rule's `each` list over the group.
    Fleet,
}

impl Scope {
    /// Variables an expression in this scope may use, beyond the ones
    /// every rule has (`host`, `derived`, `domains`, `sources`, `params`).
    pub fn subject_variables(self) -> &'static [&'static str] {
        match self {
            Scope::Host => &[],
            Scope::Domain => &["domain"],
            Scope::Disk => &["domain", "disk"],
            Scope::Interface => &["domain", "iface"],
            Scope::NumaNode => &["node"],
            Scope::BlockDevice => &["dev"],
            Scope::HugepagePool => &["pool"],
            Scope::NetDevice => &["nic"],
            Scope::Fleet => &["group", "hosts", "item"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Host => "host",
            Scope::Domain => "domain",
            Scope::Disk => "disk",
            Scope::Interface => "interface",
            Scope::NumaNode => "numa_node",
            Scope::BlockDevice => "block_device",
            Scope::HugepagePool => "hugepage_pool",
            Scope::NetDevice => "net_device",
            Scope::Fleet => "fleet",
        }
    }

    fn default_subject(self) -> &'static str {
        match self {
            Scope::Host => "{host.hostname != null ? host.hostname : 'host'}",
            Scope::Domain => "{domain.name}",
            Scope::Disk => "{domain.name} disk {disk.target}",
            Scope::Interface => {
                "{domain.name} interface {iface.mac != null ? iface.mac : iface.type}"
            }
            Scope::NumaNode => "NUMA node {node.id}",
            Scope::BlockDevice => "{dev.name}",
            Scope::HugepagePool => "{pagesize(pool.size_kib)} hugepage pool",
            Scope::NetDevice => "{nic.name}",
            Scope::Fleet => "{group.name}",
        }
    }
}

const COMMON_VARIABLES: &[&str] = &["host", "derived", "domains", "sources", "capture", "params"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<toml::Spanned<RawRule>>,
    #[serde(default)]
    log_rule: Vec<toml::Spanned<RawLogRule>>,
}

/// A log rule: a pattern matched against log lines (see `crate::logs`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogRule {
    code: String,
    name: String,
    category: String,
    severity: Severity,
    /// Which logs: `dmesg`, `syslog`, `journal`, `qemu`, `libvirtd`.
    sources: Vec<String>,
    /// A Rust `regex`; named groups become `m.NAME` in templates.
    pattern: String,
    /// Lines that also match this are not events of the rule (the regex
    /// crate has no look-around; this is how a general rule leaves a case
    /// to a more specific one).
    #[serde(default)]
    exclude: Option<String>,
    title: String,
    /// Groups events into one finding; default: one finding per rule.
    #[serde(default)]
    subject: Option<String>,
    message: String,
    fix: String,
    /// The rule's documentation (see [`RuleDoc`]); `explanation`, the one
    /// field rule files had before, is read as `why`.
    #[serde(default, alias = "explanation")]
    why: Option<String>,
    #[serde(default)]
    what: Option<String>,
    #[serde(default)]
    ignore: Option<String>,
    /// Log lines the rule matches, one per line (tested against `pattern`).
    #[serde(default)]
    example_log: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default, rename = "zh-CN")]
    zh_cn: Option<RawTranslation>,
    /// Where the rule's knowledge came from, for its authors: accepted
    /// (also under its old name `seed`), never loaded or printed.
    #[serde(default, rename = "provenance", alias = "seed")]
    _provenance: Option<serde::de::IgnoredAny>,
    /// Report only when at least this many events...
    #[serde(default)]
    min_count: Option<u32>,
    /// ...fall within this many seconds of each other.
    #[serde(default)]
    within_seconds: Option<i64>,
    /// Lines just before an event that say why it happened (a failed
    /// start's QEMU error): a regex; the matching lines among the
    /// `cause_lines` before the event become `cause` in templates.
    #[serde(default)]
    cause: Option<String>,
    #[serde(default)]
    cause_lines: Option<usize>,
    /// Rules that say the same thing better when they fire: a finding of
    /// this rule is dropped when one of theirs has an event within two
    /// minutes of it (the OOM victim's line makes the bare "invoked
    /// oom-killer" redundant).
    #[serde(default)]
    superseded_by: Vec<String>,
}

/// Log sources a log rule may name.
pub const LOG_SOURCES: &[&str] = &["dmesg", "syslog", "journal", "qemu", "libvirtd"];

/// Variables of log rule templates: the named captures, the event count,
/// first and last time (text), both as one phrase (`span`: "at T" or
/// "from T1 to T2"), the domain the events were tied to (or null) and the
/// host name.
const LOG_VARIABLES: &[&str] = &[
    "m", "count", "first", "last", "span", "domain", "host", "cause",
];

/// What every rule has, whatever decides when it fires: its identity,
/// how bad a finding is, and what a person reads about it. Reports,
/// `rules show`, the config's selections and suppressions look rules up
/// by this alone, so fact rules and log rules are treated alike.
#[derive(Debug, Clone)]
pub struct Meta {
    pub code: String,
    pub name: String,
    pub category: String,
    pub severity: Severity,
    /// What the rule judges: a fact rule's scope (`host`, `domain`,
    /// `disk`, …) or `log`.
    pub kind: &'static str,
    pub title: String,
    pub doc: RuleDoc,
    /// The title and docs in Simplified Chinese, where the rule has them.
    pub zh_cn: Option<Translation>,
    pub references: Vec<String>,
    pub origin: Origin,
}

impl Meta {
    /// The title in `lang` (English where the rule has no translation).
    pub fn title_in(&self, lang: Lang) -> &str {
        match (lang, &self.zh_cn) {
            (Lang::ZhCn, Some(Translation { title: Some(t), .. })) => t,
            _ => &self.title,
        }
    }

    /// The docs in `lang`, each field in English where the translation
    /// lacks it; examples are the same in every language.
    pub fn doc_in(&self, lang: Lang) -> RuleDoc {
        let mut doc = self.doc.clone();
        if let (Lang::ZhCn, Some(t)) = (lang, &self.zh_cn) {
            for (field, translated) in [
                (&mut doc.what, &t.doc.what),
                (&mut doc.why, &t.doc.why),
                (&mut doc.ignore, &t.doc.ignore),
            ] {
                if translated.is_some() {
                    field.clone_from(translated);
                }
            }
        }
        doc
    }
}

/// A `[rule.zh-CN]` table's title and docs.
fn translation(raw: Option<&RawTranslation>) -> Option<Translation> {
    raw.map(|t| Translation {
        title: t.title.clone(),
        doc: RuleDoc::new(
            t.what.clone(),
            t.why.clone(),
            t.ignore.clone(),
            None,
            None,
            None,
        ),
    })
}

/// A rule's documentation, shaped like ruff's: what it checks, why that
/// matters, when a finding is fine to leave, and an example. Every field
/// is optional so that a site's rules need not have them; the built-in
/// catalog is tested to have all of them (`tests/catalog_text.rs`).
/// Texts are trimmed of the blank lines TOML's `"""` leaves.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RuleDoc {
    pub what: Option<String>,
    pub why: Option<String>,
    pub ignore: Option<String>,
    /// The problem as it looks in a domain's XML or on the host...
    pub example_bad: Option<String>,
    /// ...and the same with the fix applied.
    pub example_good: Option<String>,
    /// Log lines a log rule matches.
    pub example_log: Option<String>,
}

impl RuleDoc {
    fn new(
        what: Option<String>,
        why: Option<String>,
        ignore: Option<String>,
        example_bad: Option<String>,
        example_good: Option<String>,
        example_log: Option<String>,
    ) -> RuleDoc {
        // Prose loses the newline after `"""` and trailing blanks;
        // examples keep their indentation.
        let prose = |t: Option<String>| t.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let example = |t: Option<String>| {
            t.map(|t| t.trim_start_matches(['\n', '\r']).trim_end().to_owned())
                .filter(|t| !t.trim().is_empty())
        };
        RuleDoc {
            what: prose(what),
            why: prose(why),
            ignore: prose(ignore),
            example_bad: example(example_bad),
            example_good: example(example_good),
            example_log: example(example_log),
        }
    }
}

#[derive(Debug)]
pub struct LogRule {
    pub meta: Meta,
    pub sources: Vec<String>,
    pub pattern: regex::Regex,
    pub exclude: Option<regex::Regex>,
    pub subject: Option<Template>,
    pub message: Localized<Template>,
    pub fix: Localized<Template>,
    pub min_count: u32,
    pub within_seconds: Option<i64>,
    /// What marks a line before an event as its cause, and how many lines
    /// back to look (see `RawLogRule::cause`).
    pub cause: Option<regex::Regex>,
    pub cause_lines: usize,
    pub superseded_by: Vec<String>,
}

impl std::ops::Deref for LogRule {
    type Target = Meta;
    fn deref(&self) -> &Meta {
        &self.meta
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    code: String,
    name: String,
    category: String,
    severity: Severity,
    scope: Scope,
    title: String,
    when: String,
    message: String,
    fix: String,
    /// The rule's documentation (see [`RuleDoc`]); `explanation`, the one
    /// field rule files had before, is read as `why`.
    #[serde(default, alias = "explanation")]
    why: Option<String>,
    #[serde(default)]
    what: Option<String>,
    #[serde(default)]
    ignore: Option<String>,
    /// The problem, then the same fixed: domain XML, a config file,
    /// command output.
    #[serde(default)]
    example_bad: Option<String>,
    #[serde(default)]
    example_good: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default, rename = "zh-CN")]
    zh_cn: Option<RawTranslation>,
    /// As in [`RawLogRule`]: for the rule's authors, never printed.
    #[serde(default, rename = "provenance", alias = "seed")]
    _provenance: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    evidence: Vec<RawEvidence>,
    #[serde(default)]
    params: BTreeMap<String, RawParam>,
    /// Fleet rules: a CEL list over the group; each element is a subject,
    /// bound as `item`.
    #[serde(default)]
    each: Option<String>,
    /// Fleet rules: a CEL list of the host names a finding is about
    /// (default: every host of the group).
    #[serde(default)]
    hosts: Option<String>,
    /// Fleet rules: a CEL expression giving the domain a finding is
    /// about, or null.
    #[serde(default)]
    domain: Option<String>,
    /// The fix as steps `plan` can print (`src/rules/apply.rs`).
    #[serde(default)]
    apply: Vec<super::apply::RawApply>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvidence {
    /// CEL expression giving the file (relative to the snapshot root).
    #[serde(default)]
    path: Option<String>,
    /// CEL expression giving the line.
    #[serde(default)]
    line: Option<String>,
    /// Template for what the evidence shows.
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    default: toml::Value,
    doc: String,
}

/// A rule's texts in another language (`[rule.zh-CN]`): any field left
/// out is read in English.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTranslation {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    fix: Option<String>,
    #[serde(default)]
    what: Option<String>,
    #[serde(default)]
    why: Option<String>,
    #[serde(default)]
    ignore: Option<String>,
}

/// A text in English and, where the rule has one, Simplified Chinese.
#[derive(Debug)]
pub struct Localized<T> {
    pub en: T,
    pub zh_cn: Option<T>,
}

impl<T> Localized<T> {
    /// The text in `lang`, or in English where the rule has no translation.
    pub fn get(&self, lang: Lang) -> &T {
        match lang {
            Lang::ZhCn => self.zh_cn.as_ref().unwrap_or(&self.en),
            Lang::En => &self.en,
        }
    }
}

/// The translated title and docs of a rule (`[rule.zh-CN]`).
#[derive(Debug, Clone, Default)]
pub struct Translation {
    pub title: Option<String>,
    pub doc: RuleDoc,
}

#[derive(Debug)]
pub struct EvidenceSpec {
    pub path: Option<Expr>,
    pub line: Option<Expr>,
    pub text: Template,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Param {
    pub name: String,
    pub default: serde_json::Value,
    pub doc: String,
}

/// Where a rule was defined.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

#[derive(Debug)]
pub struct Rule {
    pub meta: Meta,
    pub scope: Scope,
    pub when: Expr,
    pub message: Localized<Template>,
    pub fix: Localized<Template>,
    pub subject: Template,
    pub evidence: Vec<EvidenceSpec>,
    pub params: Vec<Param>,
    /// The rule reads host facts (or other domains), so `lint` of a lone
    /// domain XML cannot run it.
    pub needs_host: bool,
    /// Fleet rules: what each subject is, which hosts a finding names,
    /// and its domain (see [`RawRule`]).
    pub each: Option<Expr>,
    pub affected_hosts: Option<Expr>,
    pub domain: Option<Expr>,
    /// The fix as steps a machine can take (`virt-doctor plan`).
    pub apply: Vec<super::apply::ApplySpec>,
}

impl Rule {
    /// A rule over the hosts of a fleet run, not over one host.
    pub fn is_fleet(&self) -> bool {
        self.scope == Scope::Fleet
    }
}

impl std::ops::Deref for Rule {
    type Target = Meta;
    fn deref(&self) -> &Meta {
        &self.meta
    }
}

/// Why the catalog could not be loaded: every problem of every rule file,
/// all at once. Shown as `the rule catalog has 2 errors:` and one problem
/// per indented line.
#[derive(Debug)]
pub struct CatalogError {
    pub problems: Vec<CatalogProblem>,
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "the rule catalog has {n} error{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CatalogError {}

/// One problem of the catalog, naming the file (and line) where it has
/// one.
#[derive(Debug, thiserror::Error)]
pub enum CatalogProblem {
    /// A `--rules-dir` that cannot be listed.
    #[error("{}: cannot read rules directory: {error}", dir.display())]
    ReadDir { dir: PathBuf, error: std::io::Error },
    /// A rule file that cannot be read.
    #[error("{}: cannot read rule file: {error}", path.display())]
    ReadFile {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Not TOML, or not a rule file's tables and keys.
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    /// A rule that fails its checks; `kind` is `rule` or `log rule`, and
    /// `line` the line of its table.
    #[error("{file}:{line}: {kind} {code}: {message}")]
    Rule {
        file: String,
        line: usize,
        kind: &'static str,
        code: String,
        message: String,
    },
    /// A rule code or name (`what`) defined twice.
    #[error("{file}:{line}: rule {what} {key} is already used at {first_file}:{first_line}")]
    Duplicate {
        file: String,
        line: usize,
        what: &'static str,
        key: String,
        first_file: String,
        first_line: usize,
    },
    /// The log rules' patterns cannot be combined into one matcher per
    /// kind of log (`crate::logs::LogRules`).
    #[error("rules: {0}")]
    LogPatterns(String),
}

#[derive(Debug, Default)]
pub struct Catalog {
    pub rules: Vec<Rule>,
    pub log_rules: Vec<LogRule>,
    /// `sha256:` of every rule file read (path and contents, in load
    /// order): records made with the same rules carry the same digest, so
    /// stored results say which rules judged them.
    pub digest: String,
}

impl Catalog {
    /// The built-in rules plus every `*.toml` in `extra_dirs`.
    pub fn load(extra_dirs: &[&Path]) -> Result<Catalog, CatalogError> {
        let mut files: Vec<(String, String)> = BUILTIN_RULES
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect();
        let mut errors = Vec::new();
        for dir in extra_dirs {
            match std::fs::read_dir(dir) {
                Ok(entries) => {
                    let mut paths: Vec<_> = entries
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                        .collect();
                    paths.sort();
                    for p in paths {
                        match std::fs::read_to_string(&p) {
                            Ok(t) => files.push((p.display().to_string(), t)),
                            Err(error) => errors.push(CatalogProblem::ReadFile { path: p, error }),
                        }
                    }
                }
                Err(error) => errors.push(CatalogProblem::ReadDir {
                    dir: dir.to_path_buf(),
                    error,
                }),
            }
        }
        let mut catalog = Catalog::default();
        {
            use sha2::Digest;
            let mut hash = sha2::Sha256::new();
            for (path, text) in &files {
                hash.update(path.as_bytes());
                hash.update([0]);
                hash.update(text.as_bytes());
                hash.update([0]);
            }
            catalog.digest = format!("sha256:{:x}", hash.finalize());
        }
        for (path, text) in &files {
            catalog.add_file(path, text, &mut errors);
        }
        catalog.check_unique(&mut errors);
        for r in &catalog.log_rules {
            for code in &r.superseded_by {
                if !catalog.log_rules.iter().any(|o| &o.code == code) {
                    errors.push(CatalogProblem::Rule {
                        file: r.origin.file.clone(),
                        line: r.origin.line,
                        kind: "log rule",
                        code: r.code.clone(),
                        message: format!("superseded_by names `{code}`, which is not a log rule"),
                    });
                }
            }
        }
        // The log patterns run together (one combined matcher per kind of
        // log): a site's rules that cannot be combined are a catalog error,
        // here, not a crash when the first log is read.
        if errors.is_empty() {
            if let Err(e) = crate::logs::LogRules::new(catalog.log_rules.iter().collect()) {
                errors.push(CatalogProblem::LogPatterns(e.to_string()));
            }
        }
        if errors.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogError { problems: errors })
        }
    }

    /// Any rule, fact or log, by code (any case) or name.
    pub fn find(&self, code_or_name: &str) -> Option<&Meta> {
        self.all()
            .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
    }

    /// A fact rule by code or name (its parameters, its predicate).
    pub fn find_rule(&self, code_or_name: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
    }

    /// Every rule, fact rules then log rules, in catalog order.
    pub fn all(&self) -> impl Iterator<Item = &Meta> {
        self.rules
            .iter()
            .map(|r| &r.meta)
            .chain(self.log_rules.iter().map(|r| &r.meta))
    }

    fn add_file(&mut self, path: &str, text: &str, errors: &mut Vec<CatalogProblem>) {
        let file: RuleFile = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                let line = e.span().map_or(1, |s| line_of(text, s.start));
                errors.push(CatalogProblem::Syntax {
                    file: path.to_owned(),
                    line,
                    message: e.message().to_owned(),
                });
                return;
            }
        };
        let problem = |line: usize, kind: &'static str, code: String| {
            move |message: String| CatalogProblem::Rule {
                file: path.to_owned(),
                line,
                kind,
                code: code.clone(),
                message,
            }
        };
        for spanned in file.rule {
            let line = line_of(text, spanned.span().start);
            let raw = spanned.into_inner();
            let at = problem(line, "rule", raw.code.clone());
            match compile(
                raw,
                Origin {
                    file: path.to_owned(),
                    line,
                },
            ) {
                Ok(rule) => self.rules.push(rule),
                Err(problems) => errors.extend(problems.into_iter().map(at)),
            }
        }
        for spanned in file.log_rule {
            let line = line_of(text, spanned.span().start);
            let raw = spanned.into_inner();
            let at = problem(line, "log rule", raw.code.clone());
            let origin = Origin {
                file: path.to_owned(),
                line,
            };
            match compile_log(raw, origin) {
                Ok(rule) => self.log_rules.push(rule),
                Err(problems) => errors.extend(problems.into_iter().map(at)),
            }
        }
    }

    fn check_unique(&self, errors: &mut Vec<CatalogProblem>) {
        let mut codes: BTreeMap<&str, &Origin> = BTreeMap::new();
        let mut names: BTreeMap<&str, &Origin> = BTreeMap::new();
        let all = self
            .rules
            .iter()
            .map(|r| (&r.code, &r.name, &r.origin))
            .chain(self.log_rules.iter().map(|r| (&r.code, &r.name, &r.origin)));
        for (code, name, origin) in all {
            for (kind, key, seen) in [("code", code, &mut codes), ("name", name, &mut names)] {
                if let Some(o) = seen.insert(key, origin) {
                    errors.push(CatalogProblem::Duplicate {
                        file: origin.file.clone(),
                        line: origin.line,
                        what: kind,
                        key: key.clone(),
                        first_file: o.file.clone(),
                        first_line: o.line,
                    });
                }
            }
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Checks every rule's code, name and category must pass.
fn check_identity(code: &str, name: &str, category: &str, problems: &mut Vec<String>) {
    let code_ok = code.len() >= 4
        && code.chars().take_while(|c| c.is_ascii_uppercase()).count() >= 2
        && code.chars().rev().take(3).all(|c| c.is_ascii_digit())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !code_ok {
        problems.push(format!(
            "code `{code}` must be capital letters then three digits (like DISK012)"
        ));
    }
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !name_ok {
        problems.push(format!("name `{name}` must be kebab-case"));
    }
    if !CATEGORIES.contains(&category) {
        problems.push(format!(
            "category `{category}` is not one of {}",
            CATEGORIES.join(", ")
        ));
    }
}

fn compile_log(raw: RawLogRule, origin: Origin) -> Result<LogRule, Vec<String>> {
    let mut problems = Vec::new();
    check_identity(&raw.code, &raw.name, &raw.category, &mut problems);
    for s in &raw.sources {
        if !LOG_SOURCES.contains(&s.as_str()) {
            problems.push(format!(
                "source `{s}` is not one of {}",
                LOG_SOURCES.join(", ")
            ));
        }
    }
    if raw.sources.is_empty() {
        problems.push("sources is empty".into());
    }
    let pattern = regex::Regex::new(&raw.pattern).map_err(|e| format!("pattern: {e}"));
    let exclude = match raw.exclude.as_deref().map(regex::Regex::new) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            problems.push(format!("exclude: {e}"));
            None
        }
    };
    let cause = match raw.cause.as_deref().map(regex::Regex::new) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            problems.push(format!("cause: {e}"));
            None
        }
    };
    let mut template = |what: &str, text: &str| -> Option<Template> {
        match Template::compile(text) {
            Ok(t) => {
                for v in t.variables() {
                    if !LOG_VARIABLES.contains(&v.as_str()) {
                        problems.push(format!(
                            "{what} uses `{v}`; log rules have {}",
                            LOG_VARIABLES.join(", ")
                        ));
                    }
                }
                Some(t)
            }
            Err(e) => {
                problems.push(format!("{what}: {e}"));
                None
            }
        }
    };
    let subject = raw.subject.as_deref().map(|s| template("subject", s));
    let message = template("message", &raw.message);
    let fix = template("fix", &raw.fix);
    let zh = raw.zh_cn.as_ref();
    let message_zh = zh
        .and_then(|t| t.message.as_deref())
        .map(|m| template("zh-CN.message", m));
    let fix_zh = zh
        .and_then(|t| t.fix.as_deref())
        .map(|f| template("zh-CN.fix", f));
    let zh_ok = message_zh.as_ref().is_none_or(Option::is_some)
        && fix_zh.as_ref().is_none_or(Option::is_some);
    let pattern = match pattern {
        Ok(p) => Some(p),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    match (pattern, message, fix, subject) {
        (Some(pattern), Some(message), Some(fix), subject)
            if problems.is_empty() && zh_ok && subject.as_ref().is_none_or(Option::is_some) =>
        {
            Ok(LogRule {
                meta: Meta {
                    code: raw.code,
                    name: raw.name,
                    category: raw.category,
                    severity: raw.severity,
                    kind: "log",
                    title: raw.title,
                    doc: RuleDoc::new(raw.what, raw.why, raw.ignore, None, None, raw.example_log),
                    zh_cn: translation(raw.zh_cn.as_ref()),
                    references: raw.references,
                    origin,
                },
                sources: raw.sources,
                pattern,
                exclude,
                subject: subject.flatten(),
                message: Localized {
                    en: message,
                    zh_cn: message_zh.flatten(),
                },
                fix: Localized {
                    en: fix,
                    zh_cn: fix_zh.flatten(),
                },
                min_count: raw.min_count.unwrap_or(1).max(1),
                within_seconds: raw.within_seconds,
                cause,
                cause_lines: raw.cause_lines.unwrap_or(10).min(100),
                superseded_by: raw.superseded_by,
            })
        }
        _ => Err(problems),
    }
}

/// The variables that come from a host, not from a domain file.
const HOST_VARIABLES: &[&str] = &["host", "derived", "domains", "sources", "capture"];

fn compile(raw: RawRule, origin: Origin) -> Result<Rule, Vec<String>> {
    let mut problems = Vec::new();
    check_identity(&raw.code, &raw.name, &raw.category, &mut problems);
    // A fleet rule sees the group, not any one host's facts.
    let common: &[&str] = if raw.scope == Scope::Fleet {
        &["params"]
    } else {
        COMMON_VARIABLES
    };
    let allowed: BTreeSet<&str> = common
        .iter()
        .chain(raw.scope.subject_variables())
        .copied()
        .collect();
    let fleet_only = [
        ("each", &raw.each),
        ("hosts", &raw.hosts),
        ("domain", &raw.domain),
    ];
    let mut fleet_exprs: Vec<(&str, Option<Expr>)> = Vec::new();
    for (what, text) in fleet_only {
        match (text, raw.scope) {
            (None, _) => fleet_exprs.push((what, None)),
            (Some(_), scope) if scope != Scope::Fleet => problems.push(format!(
                "`{what}` is for rules of scope fleet, not {}",
                scope.as_str()
            )),
            (Some(t), _) => match Expr::compile(t) {
                Ok(e) => fleet_exprs.push((what, Some(e))),
                Err(e) => problems.push(format!("{what}: {e}")),
            },
        }
    }
    let when = Expr::compile(&raw.when).map_err(|e| format!("when: {e}"));
    let message = Template::compile(&raw.message).map_err(|e| format!("message: {e}"));
    let fix = Template::compile(&raw.fix).map_err(|e| format!("fix: {e}"));
    let zh = raw.zh_cn.as_ref();
    let compile_zh = |what: &str, text: Option<&str>| {
        text.map(|t| Template::compile(t).map_err(|e| format!("zh-CN.{what}: {e}")))
            .transpose()
    };
    let message_zh = compile_zh("message", zh.and_then(|t| t.message.as_deref()));
    let fix_zh = compile_zh("fix", zh.and_then(|t| t.fix.as_deref()));
    let subject = Template::compile(
        raw.subject
            .as_deref()
            .unwrap_or(raw.scope.default_subject()),
    )
    .map_err(|e| format!("subject: {e}"));
    let mut evidence = Vec::new();
    for (i, e) in raw.evidence.iter().enumerate() {
        let path = e.path.as_deref().map(Expr::compile).transpose();
        let line = e.line.as_deref().map(Expr::compile).transpose();
        let text = Template::compile(&e.text);
        match (path, line, text) {
            (Ok(path), Ok(line), Ok(text)) => evidence.push(EvidenceSpec { path, line, text }),
            (p, l, t) => {
                for err in [p.err(), l.err(), t.err()].into_iter().flatten() {
                    problems.push(format!("evidence[{i}]: {err}"));
                }
            }
        }
    }
    let has_domain = matches!(raw.scope, Scope::Domain | Scope::Disk | Scope::Interface);
    if raw.scope == Scope::Fleet && !raw.apply.is_empty() {
        problems.push("`apply` is not for rules of scope fleet: plan works host by host".into());
    }
    let mut apply = Vec::new();
    for (i, a) in raw.apply.iter().enumerate() {
        match super::apply::compile(a, i, has_domain) {
            Ok(spec) => apply.push(spec),
            Err(p) => problems.extend(p),
        }
    }
    let mut needs_host = false;
    let mut all_vars = Vec::new();
    // A fix step that reads host facts does not make the rule need a host
    // (lint still runs it on a lone domain file); the step itself is left
    // out there instead (`ApplySpec::reads_host`).
    for a in &mut apply {
        let vars = a.variables();
        a.reads_host = vars.iter().any(|v| HOST_VARIABLES.contains(&v.as_str()));
        for v in vars {
            if !allowed.contains(v.as_str()) {
                problems.push(format!(
                    "apply uses `{v}`, which a rule of scope {} does not have",
                    raw.scope.as_str()
                ));
            }
        }
    }
    if let Ok(w) = &when {
        all_vars.push(("when", w.variables()));
    }
    for (what, t) in [("message", &message), ("fix", &fix), ("subject", &subject)] {
        if let Ok(t) = t {
            all_vars.push((what, t.variables()));
        }
    }
    for (what, t) in [("zh-CN.message", &message_zh), ("zh-CN.fix", &fix_zh)] {
        match t {
            Ok(Some(t)) => all_vars.push((what, t.variables())),
            Ok(None) => {}
            Err(e) => problems.push(e.clone()),
        }
    }
    for (what, e) in &fleet_exprs {
        if let Some(e) = e {
            all_vars.push((what, e.variables()));
        }
    }
    for e in &evidence {
        all_vars.push(("evidence", e.text.variables()));
        for x in [&e.path, &e.line].into_iter().flatten() {
            all_vars.push(("evidence", x.variables()));
        }
    }
    for (what, vars) in all_vars {
        needs_host |= vars.iter().any(|v| HOST_VARIABLES.contains(&v.as_str()));
        for v in vars {
            if !allowed.contains(v.as_str()) {
                problems.push(format!(
                    "{what} uses `{v}`, which a rule of scope {} does not have",
                    raw.scope.as_str()
                ));
            }
        }
    }
    // Every `params.NAME` a rule reads must be declared: an undeclared one
    // would be null at run time and quietly change what the rule says.
    let used = regex::Regex::new(r"\bparams\.([A-Za-z_][A-Za-z0-9_]*)").expect("static regex");
    let sources = [raw.when.as_str(), &raw.message, &raw.fix]
        .into_iter()
        .chain(raw.each.as_deref())
        .chain(raw.hosts.as_deref())
        .chain(raw.domain.as_deref())
        .chain(zh.and_then(|t| t.message.as_deref()))
        .chain(zh.and_then(|t| t.fix.as_deref()))
        .chain(raw.subject.as_deref())
        .chain(raw.apply.iter().flat_map(super::apply::sources))
        .chain(raw.evidence.iter().flat_map(|e| {
            [Some(e.text.as_str()), e.path.as_deref(), e.line.as_deref()]
                .into_iter()
                .flatten()
        }));
    let mut undeclared = BTreeSet::new();
    for text in sources {
        for c in used.captures_iter(text) {
            if !raw.params.contains_key(&c[1]) {
                undeclared.insert(c[1].to_owned());
            }
        }
    }
    for name in undeclared {
        let declared: Vec<&str> = raw.params.keys().map(String::as_str).collect();
        problems.push(format!(
            "uses params.{name}, which the rule does not declare (it has: {})",
            if declared.is_empty() {
                "none".to_owned()
            } else {
                declared.join(", ")
            }
        ));
    }
    let mut params = Vec::new();
    for (name, p) in raw.params {
        match serde_json::to_value(&p.default) {
            Ok(default) => params.push(Param {
                name,
                default,
                doc: p.doc,
            }),
            Err(e) => problems.push(format!("params.{name}: {e}")),
        }
    }
    let (when, message, fix, subject) = match (when, message, fix, subject) {
        (Ok(w), Ok(m), Ok(f), Ok(s)) if problems.is_empty() => (w, m, f, s),
        (w, m, f, s) => {
            problems.extend([w.err(), m.err(), f.err(), s.err()].into_iter().flatten());
            return Err(problems);
        }
    };
    let mut fleet_exprs = fleet_exprs.into_iter().map(|(_, e)| e);
    let (each, affected_hosts, domain) = (
        fleet_exprs.next().flatten(),
        fleet_exprs.next().flatten(),
        fleet_exprs.next().flatten(),
    );
    Ok(Rule {
        meta: Meta {
            code: raw.code,
            name: raw.name,
            category: raw.category,
            severity: raw.severity,
            kind: raw.scope.as_str(),
            title: raw.title,
            doc: RuleDoc::new(
                raw.what,
                raw.why,
                raw.ignore,
                raw.example_bad,
                raw.example_good,
                None,
            ),
            zh_cn: translation(raw.zh_cn.as_ref()),
            references: raw.references,
            origin,
        },
        scope: raw.scope,
        when,
        message: Localized {
            en: message,
            zh_cn: message_zh.ok().flatten(),
        },
        fix: Localized {
            en: fix,
            zh_cn: fix_zh.ok().flatten(),
        },
        subject,
        evidence,
        params,
        needs_host,
        each,
        affected_hosts,
        domain,
        apply,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "[[rule]]\ncode = \"SITE001\"\nname = \"site-one\"\ncategory = \"cpu\"\nseverity = \"info\"\nscope = \"host\"\ntitle = \"t\"\nwhen = \"true\"\nmessage = \"m\"\nfix = \"f\"\n";

    /// A `[[rule.apply]]` step that is wrong is an error of its rule,
    /// named by step: two kinds at once, a virt-xml step in a host rule,
    /// a sysctl without its value, an unknown variable.
    #[test]
    fn apply_steps_are_checked_when_the_catalog_loads() {
        let cases = [
            (
                "[[rule.apply]]\nsysctl = 'vm.swappiness'\nvalue = '10'\nmodule = 'tun'\n",
                "apply[0] must have exactly one of virt_xml, virsh, sysctl, sysfs, file, module, command, manual (it has sysctl, module)",
            ),
            (
                "[[rule.apply]]\nvirt_xml = ['--edit', '--cpu', 'host-model']\n",
                "apply[0].virt_xml is for rules whose subject has a domain (scope domain, disk or interface)",
            ),
            (
                "[[rule.apply]]\nsysctl = 'vm.swappiness'\n",
                "apply[0].sysctl needs a `value`",
            ),
            (
                "[[rule.apply]]\nsysfs = '/sys/x'\nvalue = '{disk.cache}'\n",
                "apply uses `disk`, which a rule of scope host does not have",
            ),
            (
                "[[rule.apply]]\nmanual = 'm'\nneeds = ['a-miracle']\n",
                "unknown variant `a-miracle`",
            ),
        ];
        for (apply, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("a.toml"), format!("{RULE}{apply}")).unwrap();
            let err = Catalog::load(&[dir.path()]).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(expected), "{apply}: {text}");
            assert!(text.contains("a.toml:"), "{text}");
        }
        // And a good one loads, with its step.
        let dir = tempfile::tempdir().unwrap();
        let good = "[[rule.apply]]\nsysctl = 'vm.swappiness'\nvalue = '10'\n";
        std::fs::write(dir.path().join("a.toml"), format!("{RULE}{good}")).unwrap();
        let catalog = Catalog::load(&[dir.path()]).unwrap();
        let rule = catalog.find_rule("SITE001").unwrap();
        assert_eq!(rule.apply.len(), 1);
        assert!(!rule.apply[0].changes_domain());
    }

    #[test]
    fn every_problem_names_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), RULE).unwrap();
        // The same rule again, and one whose predicate is not CEL.
        let broken = RULE.replace("when = \"true\"", "when = \"1 ==\"");
        std::fs::write(dir.path().join("b.toml"), format!("{RULE}\n{broken}")).unwrap();
        std::fs::write(dir.path().join("c.toml"), "[[rule]\n").unwrap();
        let missing = dir.path().join("no-such-dir");
        let err = Catalog::load(&[dir.path(), &missing]).unwrap_err();
        let a = dir.path().join("a.toml").display().to_string();
        let b = dir.path().join("b.toml").display().to_string();
        assert!(err.problems.iter().any(|p| matches!(
            p,
            CatalogProblem::Rule { file, line: 12, kind: "rule", code, message }
                if *file == b && code == "SITE001" && message.starts_with("when: ")
        )));
        assert!(err.problems.iter().any(|p| matches!(
            p,
            CatalogProblem::Syntax { file, line: 1, .. } if file.ends_with("c.toml")
        )));
        assert!(err
            .problems
            .iter()
            .any(|p| matches!(p, CatalogProblem::ReadDir { dir, .. } if *dir == missing)));
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "the rule catalog has {} errors:\n  ",
                err.problems.len()
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "\n  {b}:1: rule code SITE001 is already used at {a}:1"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("\n  {b}:12: rule SITE001: when: ")),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "{}: cannot read rules directory: ",
                missing.display()
            )),
            "{text}"
        );
    }

    #[test]
    fn one_error_is_one_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), RULE.replace("SITE001", "SITE1")).unwrap();
        let err = Catalog::load(&[dir.path()]).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert!(
            err.to_string()
                .starts_with("the rule catalog has 1 error:\n  "),
            "{err}"
        );
    }
}
