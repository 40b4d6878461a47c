//! A rule explained, as `ruff rule X` explains one: what it checks, why
//! that matters, when a finding is fine to leave, an example of the
//! problem and of its fix, how it decides, its parameters and the public
//! documents behind it. One model ([`Entry`]) rendered two ways: text for
//! `rules show` and SARIF's plain help, Markdown for `rules doc`
//! (`docs/rules-reference.md`) and SARIF's Markdown help.

use super::catalog::{Catalog, LogRule, Meta, Param, Rule};
use crate::findings::CATEGORIES;
use crate::prose::{code_span, reflow};

/// One rule of either kind.
#[derive(Clone, Copy)]
pub enum Entry<'a> {
    Fact(&'a Rule),
    Log(&'a LogRule),
}

impl<'a> Entry<'a> {
    pub fn meta(&self) -> &'a Meta {
        match self {
            Entry::Fact(r) => &r.meta,
            Entry::Log(r) => &r.meta,
        }
    }

    /// `checked per disk`, `matched in dmesg, syslog`.
    fn applies_to(&self) -> String {
        match self {
            Entry::Fact(r) => match r.scope.as_str() {
                "host" => "checked once per host".to_owned(),
                scope => format!("checked per {}", scope.replace('_', " ")),
            },
            Entry::Log(r) => format!("matched in {} logs", r.sources.join(", ")),
        }
    }

    /// How the rule decides, as lines of code: the predicate, or the
    /// pattern with its exclusions and thresholds.
    fn decides(&self) -> Vec<(&'static str, String)> {
        match self {
            Entry::Fact(r) => vec![("fires when", r.when.source.trim().to_owned())],
            Entry::Log(r) => {
                let mut out = vec![("matches", r.pattern.as_str().to_owned())];
                if let Some(x) = &r.exclude {
                    out.push(("except lines matching", x.as_str().to_owned()));
                }
                if r.min_count > 1 {
                    let within = r
                        .within_seconds
                        .map_or(String::new(), |w| format!(" within {w} s"));
                    out.push(("reported from", format!("{} events{within}", r.min_count)));
                }
                out
            }
        }
    }

    fn params(&self) -> &'a [Param] {
        match self {
            Entry::Fact(r) => &r.params,
            Entry::Log(_) => &[],
        }
    }
}

impl Catalog {
    /// Every rule, fact rules then log rules, in catalog order.
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.rules
            .iter()
            .map(Entry::Fact)
            .chain(self.log_rules.iter().map(Entry::Log))
    }

    /// A rule of either kind by code (any case) or name.
    pub fn entry(&self, code_or_name: &str) -> Option<Entry<'_>> {
        self.entries().find(|e| {
            let m = e.meta();
            m.code.eq_ignore_ascii_case(code_or_name) || m.name == code_or_name
        })
    }
}

/// A reference is `Title URL`; the URL is printed on its own so that a
/// narrow terminal never breaks it.
fn split_reference(reference: &str) -> (&str, Option<&str>) {
    match reference.rsplit_once(' ') {
        Some((title, url)) if url.starts_with("http://") || url.starts_with("https://") => {
            (title.trim(), Some(url))
        }
        _ => (reference, None),
    }
}

const SECTIONS: [&str; 3] = ["What it does", "Why it matters", "When to ignore it"];

/// The rule for a terminal `width` columns wide. Prose is reflowed to fit;
/// examples, predicates, patterns and URLs are printed whole.
pub fn text(entry: Entry, width: usize) -> String {
    let m = entry.meta();
    let mut out = format!("{} {}\n", m.code, m.name);
    out.push_str(&reflow(&m.title, width, ""));
    out.push_str(&format!(
        "{} · {} · {}\ndefined at {}:{}\n",
        m.category,
        m.severity.as_str(),
        entry.applies_to(),
        m.origin.file,
        m.origin.line
    ));
    let doc = &m.doc;
    for (heading, body) in SECTIONS.iter().zip([&doc.what, &doc.why, &doc.ignore]) {
        if let Some(body) = body {
            out.push_str(&format!("\n{heading}\n{}", reflow(body, width, "  ")));
        }
    }
    let code = |out: &mut String, heading: &str, body: &str| {
        out.push_str(&format!("\n{heading}\n"));
        for line in body.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    };
    if let Some(bad) = &doc.example_bad {
        code(&mut out, "Example", bad);
    }
    if let Some(good) = &doc.example_good {
        code(&mut out, "Use instead", good);
    }
    if let Some(log) = &doc.example_log {
        code(&mut out, "Example log lines", log);
    }
    out.push_str("\nHow it decides\n");
    for (label, code) in entry.decides() {
        out.push_str(&format!("  {label}:\n    {code}\n"));
    }
    let params = entry.params();
    if !params.is_empty() {
        out.push_str(&format!(
            "\nParameters (set in virt-doctor.toml under [rules.{}])\n",
            m.code
        ));
        for p in params {
            out.push_str(&format!("  {} = {}\n", p.name, p.default));
            out.push_str(&reflow(&p.doc, width, "      "));
        }
    }
    if !m.references.is_empty() {
        out.push_str("\nReferences\n");
        for r in &m.references {
            let (title, url) = split_reference(r);
            out.push_str(&crate::prose::wrap_hanging(title, width, "  - ", "    "));
            if let Some(url) = url {
                out.push_str(&format!("    {url}\n"));
            }
        }
    }
    out
}

/// Markdown prose: a rule file's paragraphs as they are, its indented
/// lines (commands, XML) as fenced code, and `<` outside code spans
/// escaped so that an element named in a sentence is not taken for HTML.
pub fn markdown_prose(text: &str) -> String {
    let mut out = String::new();
    let mut code: Vec<&str> = Vec::new();
    let flush = |code: &mut Vec<&str>, out: &mut String| {
        if code.is_empty() {
            return;
        }
        let strip = code
            .iter()
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        out.push_str("\n```\n");
        for l in code.iter() {
            out.push_str(l.get(strip..).unwrap_or(l).trim_end());
            out.push('\n');
        }
        out.push_str("```\n\n");
        code.clear();
    };
    for line in text.lines() {
        if line.starts_with([' ', '\t']) && !line.trim().is_empty() {
            code.push(line);
            continue;
        }
        flush(&mut code, &mut out);
        let escaped: String = line
            .split('`')
            .enumerate()
            .map(|(i, part)| {
                if i % 2 == 0 {
                    part.replace('<', "&lt;")
                } else {
                    part.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("`");
        out.push_str(&escaped);
        out.push('\n');
    }
    flush(&mut code, &mut out);
    out.trim().to_owned()
}

fn fence(body: &str) -> String {
    let lang = if body.trim_start().starts_with('<') {
        "xml"
    } else {
        "text"
    };
    format!("```{lang}\n{body}\n```\n")
}

/// `### CPU001 vcpus-exceed-host-cpus` is linked as `#cpu001-vcpus-exceed-host-cpus`
/// on GitHub and most Markdown renderers (codes and names are ASCII,
/// names kebab-case).
fn anchor(m: &Meta) -> String {
    format!("{}-{}", m.code.to_lowercase(), m.name)
}

/// One rule in Markdown, its heading at `level` (`###` in the reference).
pub fn markdown(entry: Entry, level: usize) -> String {
    let m = entry.meta();
    let h = "#".repeat(level);
    let mut out = format!("{h} {} {}\n\n", m.code, m.name);
    out.push_str(&format!(
        "**{}**  \n*{} · {} · {}*\n",
        markdown_prose(&m.title),
        m.category,
        m.severity.as_str(),
        entry.applies_to()
    ));
    let doc = &m.doc;
    for (heading, body) in SECTIONS.iter().zip([&doc.what, &doc.why, &doc.ignore]) {
        if let Some(body) = body {
            out.push_str(&format!("\n{h}# {heading}\n\n{}\n", markdown_prose(body)));
        }
    }
    if doc.example_bad.is_some() || doc.example_log.is_some() {
        out.push_str(&format!("\n{h}# Example\n\n"));
    }
    if let Some(bad) = &doc.example_bad {
        out.push_str(&fence(bad));
    }
    if let Some(good) = &doc.example_good {
        out.push_str(&format!("\nUse instead:\n\n{}", fence(good)));
    }
    if let Some(log) = &doc.example_log {
        out.push_str(&format!("Log lines it matches:\n\n```text\n{log}\n```\n"));
    }
    out.push_str(&format!("\n{h}# How it decides\n\n"));
    for (label, code) in entry.decides() {
        out.push_str(&format!("- {label}: {}\n", code_span(&code)));
    }
    let params = entry.params();
    if !params.is_empty() {
        out.push_str(&format!(
            "\n{h}# Parameters\n\nSet in `virt-doctor.toml` under `[rules.{}]`.\n\n| name | default | meaning |\n|---|---|---|\n",
            m.code
        ));
        for p in params {
            out.push_str(&format!(
                "| `{}` | `{}` | {} |\n",
                p.name,
                p.default,
                markdown_prose(&p.doc)
                    .replace('\n', " ")
                    .replace('|', "\\|")
            ));
        }
    }
    if !m.references.is_empty() {
        out.push_str(&format!("\n{h}# References\n\n"));
        for r in &m.references {
            match split_reference(r) {
                (title, Some(url)) => out.push_str(&format!(
                    "- [{}]({url})\n",
                    title.replace('[', "\\[").replace(']', "\\]")
                )),
                (title, None) => out.push_str(&format!("- {title}\n")),
            }
        }
    }
    out
}

/// Every rule of `catalog` as one Markdown page: an index, then the rules
/// by category.
pub fn reference(catalog: &Catalog) -> String {
    let fact = catalog.rules.len();
    let log = catalog.log_rules.len();
    let mut out = String::from(
        "# Rules reference\n\n\
         <!-- Written by `virt-doctor rules doc > docs/rules-reference.md` from the rule files; \
         edit those, not this page (a test keeps the two in step). -->\n\n",
    );
    out.push_str(&format!(
        "{fact} rules over a host's configuration and state and {log} over its logs. \
         `virt-doctor rules show CODE` prints any of them in a terminal; \
         [rules.md](rules.md) explains how to write your own.\n\n"
    ));
    let mut categories: Vec<&str> = CATEGORIES.to_vec();
    for e in catalog.entries() {
        if !categories.contains(&e.meta().category.as_str()) {
            categories.push(&e.meta().category);
        }
    }
    out.push_str("| code | name | severity | title |\n|---|---|---|---|\n");
    for category in &categories {
        for e in catalog.entries().filter(|e| e.meta().category == *category) {
            let m = e.meta();
            out.push_str(&format!(
                "| [{}](#{}) | {} | {} | {} |\n",
                m.code,
                anchor(m),
                m.name,
                m.severity.as_str(),
                markdown_prose(&m.title).replace('|', "\\|")
            ));
        }
    }
    for category in &categories {
        let entries: Vec<Entry> = catalog
            .entries()
            .filter(|e| e.meta().category == *category)
            .collect();
        if entries.is_empty() {
            continue;
        }
        out.push_str(&format!("\n## {}\n", heading_of(category)));
        for e in entries {
            out.push('\n');
            out.push_str(&markdown(e, 3));
        }
    }
    out
}

/// `CPU`, `NUMA`, `Memory`: how a category is written as a heading.
pub fn heading_of(category: &str) -> String {
    match category {
        "cpu" | "numa" => category.to_uppercase(),
        _ => {
            let mut c = category.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prose::width_of;

    #[test]
    fn prose_code_lines_become_fences_and_elements_are_escaped() {
        let md = markdown_prose("Set <cpu mode> as `<cpu/>`:\n  virsh edit vm\n    <x/>\nthen");
        assert_eq!(
            md,
            "Set &lt;cpu mode> as `<cpu/>`:\n\n```\nvirsh edit vm\n  <x/>\n```\n\nthen"
        );
    }

    #[test]
    fn references_split_title_and_url() {
        assert_eq!(
            split_reference("libvirt: Domain XML format https://libvirt.org/formatdomain.html"),
            (
                "libvirt: Domain XML format",
                Some("https://libvirt.org/formatdomain.html")
            )
        );
        assert_eq!(split_reference("a note"), ("a note", None));
    }

    #[test]
    fn headings_keep_acronyms() {
        assert_eq!(heading_of("cpu"), "CPU");
        assert_eq!(heading_of("numa"), "NUMA");
        assert_eq!(heading_of("memory"), "Memory");
    }

    #[test]
    fn text_fits_the_width_except_code_and_urls() {
        let catalog = Catalog::load(&[]).unwrap();
        for e in catalog.entries() {
            let m = e.meta();
            // What is printed whole: predicates, patterns, examples, the
            // indented (code) lines of the prose, URLs, the file name.
            let mut whole: Vec<String> = e.decides().into_iter().map(|(_, c)| c).collect();
            for text in [&m.doc.what, &m.doc.why, &m.doc.ignore]
                .into_iter()
                .chain([&m.doc.example_bad, &m.doc.example_good, &m.doc.example_log])
                .flatten()
            {
                whole.extend(text.lines().map(|l| l.trim().to_owned()));
            }
            let t = text(e, 80);
            for line in t.lines() {
                let trimmed = line.trim();
                let verbatim = whole.iter().any(|w| w == trimmed)
                    || trimmed.starts_with("http")
                    || trimmed.starts_with("defined at ");
                assert!(
                    width_of(line) <= 80 || verbatim,
                    "{}: wider than 80: {line}",
                    m.code
                );
            }
        }
    }
}
