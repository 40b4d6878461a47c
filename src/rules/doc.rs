//! A rule explained, as `ruff rule X` explains one: what it checks, why
//! that matters, when a finding is fine to leave, an example of the
//! problem and of its fix, how it decides, its parameters and the public
//! documents behind it. One model ([`Entry`]) rendered two ways: text for
//! `rules show` and SARIF's plain help, Markdown for `rules doc`
//! (`docs/rules-reference.md`) and SARIF's Markdown help.

use super::catalog::{Catalog, LogRule, Meta, Param, Rule};
use crate::findings::CATEGORIES;
use crate::lang::Lang;
use crate::prose::{code_span, reflow};
use crate::report::words::{self, words};

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

    /// `checked per disk`, `matched in dmesg, syslog logs`.
    fn applies_to(&self, lang: Lang) -> String {
        match self {
            Entry::Fact(r) => words::applies_to(r.scope.as_str(), lang),
            Entry::Log(r) => match lang {
                Lang::En => format!("matched in {} logs", r.sources.join(", ")),
                Lang::ZhCn => format!("在 {} 日志中匹配", r.sources.join("、")),
            },
        }
    }

    /// How the rule decides, as lines of code: the predicate, or the
    /// pattern with its exclusions and thresholds.
    fn decides(&self, lang: Lang) -> Vec<(&'static str, String)> {
        let w = words(lang);
        match self {
            Entry::Fact(r) => {
                let mut out = vec![(w.fires_when, r.when.source.trim().to_owned())];
                // What `virt-doctor plan` does about a finding of it.
                out.extend(r.apply.iter().map(|a| (w.in_a_plan, a.summary.clone())));
                out
            }
            Entry::Log(r) => {
                let mut out = vec![(w.matches, r.pattern.as_str().to_owned())];
                if let Some(x) = &r.exclude {
                    out.push((w.except_matching, x.as_str().to_owned()));
                }
                out.push((w.lines_read, lines_read(r.pattern.as_str(), lang)));
                if r.min_count > 1 {
                    let n = r.min_count;
                    let threshold = match (lang, r.within_seconds) {
                        (Lang::En, Some(s)) => format!("{n} events within {s} s"),
                        (Lang::En, None) => format!("{n} events"),
                        (Lang::ZhCn, Some(s)) => format!("{s} 秒内 {n} 个事件"),
                        (Lang::ZhCn, None) => format!("{n} 个事件"),
                    };
                    out.push((w.reported_from, threshold));
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

/// Which lines a log rule's pattern is run on: those holding one of the
/// literals every match contains (found in whole buffers at memory
/// speed), or every line, and why.
fn lines_read(pattern: &str, lang: Lang) -> String {
    const SHOWN: usize = 3;
    match crate::logs::literals::required(pattern) {
        Ok(literals) => {
            // "or one of 1 more" says less than the literal itself.
            let take = if literals.len() == SHOWN + 1 {
                SHOWN + 1
            } else {
                SHOWN
            };
            let mut shown: Vec<String> = literals
                .iter()
                .take(take)
                .map(|l| format!("`{l}`"))
                .collect();
            let more = literals.len() - shown.len();
            match lang {
                Lang::En => {
                    if more > 0 {
                        shown.push(format!("one of {more} more"));
                    }
                    let last = shown.pop().unwrap_or_default();
                    if shown.is_empty() {
                        format!("only lines containing {last}")
                    } else {
                        format!("only lines containing {} or {last}", shown.join(", "))
                    }
                }
                Lang::ZhCn => {
                    if more > 0 {
                        shown.push(format!("另外 {more} 个之一"));
                    }
                    format!("仅包含 {} 的行", shown.join("、"))
                }
            }
        }
        Err(why) => match lang {
            Lang::En => format!("scans every line: {why}"),
            Lang::ZhCn => format!("逐行扫描：{why}"),
        },
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

fn sections(lang: Lang) -> [&'static str; 3] {
    let w = words(lang);
    [w.what_it_does, w.why_it_matters, w.when_to_ignore]
}

/// The rule for a terminal `width` columns wide. Prose is reflowed to fit;
/// examples, predicates, patterns and URLs are printed whole.
pub fn text(entry: Entry, width: usize, lang: Lang) -> String {
    let m = entry.meta();
    let w = words(lang);
    let mut out = format!("{} {}\n", m.code, m.name);
    out.push_str(&reflow(m.title_in(lang), width, ""));
    out.push_str(&format!(
        "{} · {} · {}\n{} {}:{}\n",
        // The category as --select takes it, or its Chinese name.
        match lang {
            Lang::En => m.category.clone(),
            Lang::ZhCn => words::category(&m.category, lang),
        },
        words::severity(m.severity, lang),
        entry.applies_to(lang),
        w.defined_at,
        m.origin.file,
        m.origin.line
    ));
    let doc = m.doc_in(lang);
    for (heading, body) in sections(lang)
        .iter()
        .zip([&doc.what, &doc.why, &doc.ignore])
    {
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
        code(&mut out, w.example, bad);
    }
    if let Some(good) = &doc.example_good {
        code(&mut out, w.use_instead, good);
    }
    if let Some(log) = &doc.example_log {
        code(&mut out, w.example_log, log);
    }
    out.push_str(&format!("\n{}\n", w.how_it_decides));
    let colon = lang.pick(":", "：");
    for (label, code) in entry.decides(lang) {
        if label == w.lines_read {
            // A sentence, not code: it fits the width like the prose.
            out.push_str(&format!("  {label}{colon}\n"));
            out.push_str(&crate::prose::reflow(&code, width, "    "));
            if !out.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(&format!("  {label}{colon}\n    {code}\n"));
        }
    }
    let params = entry.params();
    if !params.is_empty() {
        out.push_str(&match lang {
            Lang::En => format!(
                "\nParameters (set in virt-doctor.toml under [rules.{}])\n",
                m.code
            ),
            Lang::ZhCn => format!(
                "\n参数（在 virt-doctor.toml 的 [rules.{}] 下设置）\n",
                m.code
            ),
        });
        for p in params {
            out.push_str(&format!("  {} = {}\n", p.name, p.default));
            out.push_str(&reflow(&p.doc, width, "      "));
        }
    }
    if !m.references.is_empty() {
        out.push_str(&format!("\n{}\n", w.references));
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
pub fn markdown(entry: Entry, level: usize, lang: Lang) -> String {
    let m = entry.meta();
    let w = words(lang);
    let h = "#".repeat(level);
    let mut out = format!("{h} {} {}\n\n", m.code, m.name);
    out.push_str(&format!(
        "**{}**  \n*{} · {} · {}*\n",
        markdown_prose(m.title_in(lang)),
        match lang {
            Lang::En => m.category.clone(),
            Lang::ZhCn => words::category(&m.category, lang),
        },
        words::severity(m.severity, lang),
        entry.applies_to(lang)
    ));
    let doc = m.doc_in(lang);
    for (heading, body) in sections(lang)
        .iter()
        .zip([&doc.what, &doc.why, &doc.ignore])
    {
        if let Some(body) = body {
            out.push_str(&format!("\n{h}# {heading}\n\n{}\n", markdown_prose(body)));
        }
    }
    let colon = lang.pick(":", "：");
    if doc.example_bad.is_some() || doc.example_log.is_some() {
        out.push_str(&format!("\n{h}# {}\n\n", w.example));
    }
    if let Some(bad) = &doc.example_bad {
        out.push_str(&fence(bad));
    }
    if let Some(good) = &doc.example_good {
        out.push_str(&format!("\n{}{colon}\n\n{}", w.use_instead, fence(good)));
    }
    if let Some(log) = &doc.example_log {
        out.push_str(&format!(
            "{}{colon}\n\n```text\n{log}\n```\n",
            w.example_log
        ));
    }
    out.push_str(&format!("\n{h}# {}\n\n", w.how_it_decides));
    for (label, code) in entry.decides(lang) {
        out.push_str(&format!("- {label}{colon} {}\n", code_span(&code)));
    }
    let params = entry.params();
    if !params.is_empty() {
        out.push_str(&match lang {
            Lang::En => format!(
                "\n{h}# Parameters\n\nSet in `virt-doctor.toml` under `[rules.{}]`.\n\n| name | default | meaning |\n|---|---|---|\n",
                m.code
            ),
            Lang::ZhCn => format!(
                "\n{h}# 参数\n\n在 `virt-doctor.toml` 的 `[rules.{}]` 下设置。\n\n| 名称 | 默认值 | 含义 |\n|---|---|---|\n",
                m.code
            ),
        });
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
        out.push_str(&format!("\n{h}# {}\n\n", w.references));
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
pub fn reference(catalog: &Catalog, lang: Lang) -> String {
    let fleet = catalog.rules.iter().filter(|r| r.is_fleet()).count();
    let fact = catalog.rules.len() - fleet;
    let log = catalog.log_rules.len();
    let mut out = match lang {
        Lang::En => format!(
            "# Rules reference\n\n\
             <!-- Written by `virt-doctor rules doc > docs/rules-reference.md` from the rule files; \
             edit those, not this page (a test keeps the two in step). -->\n\n\
             {fact} rules over a host's configuration and state, {log} over its logs and \
             {fleet} across the hosts of a fleet run. \
             `virt-doctor rules show CODE` prints any of them in a terminal; \
             [rules.md](rules.md) explains how to write your own.\n\n"
        ),
        Lang::ZhCn => format!(
            "# 规则参考\n\n\
             <!-- 由 `virt-doctor rules doc --lang zh-CN > docs/rules-reference.zh-CN.md` 从规则文件生成；\
             请修改规则文件，而不是本页（有测试保证两者一致）。 -->\n\n\
             {fact} 条规则检查主机的配置和状态，{log} 条规则检查日志，{fleet} 条规则在多主机分析中比较主机。\
             `virt-doctor rules show CODE --lang zh-CN` 在终端中显示任意一条；\
             编写自己的规则见 [rules.md](rules.md)。\n\n"
        ),
    };
    let mut categories: Vec<&str> = CATEGORIES.to_vec();
    for e in catalog.entries() {
        if !categories.contains(&e.meta().category.as_str()) {
            categories.push(&e.meta().category);
        }
    }
    out.push_str(lang.pick(
        "| code | name | severity | title |\n|---|---|---|---|\n",
        "| 代码 | 名称 | 级别 | 标题 |\n|---|---|---|---|\n",
    ));
    for category in &categories {
        for e in catalog.entries().filter(|e| e.meta().category == *category) {
            let m = e.meta();
            out.push_str(&format!(
                "| [{}](#{}) | {} | {} | {} |\n",
                m.code,
                anchor(m),
                m.name,
                words::severity(m.severity, lang),
                markdown_prose(m.title_in(lang)).replace('|', "\\|")
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
        out.push_str(&format!("\n## {}\n", words::category(category, lang)));
        for e in entries {
            out.push('\n');
            out.push_str(&markdown(e, 3, lang));
        }
    }
    out
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
        assert_eq!(words::category("cpu", Lang::En), "CPU");
        assert_eq!(words::category("numa", Lang::ZhCn), "NUMA");
        assert_eq!(words::category("memory", Lang::En), "Memory");
        assert_eq!(words::category("memory", Lang::ZhCn), "内存");
    }

    #[test]
    fn text_fits_the_width_except_code_and_urls() {
        let catalog = Catalog::load(&[]).unwrap();
        for e in catalog.entries() {
            let m = e.meta();
            // What is printed whole: predicates, patterns, examples, the
            // indented (code) lines of the prose, URLs, the file name.
            let mut whole: Vec<String> = e.decides(Lang::En).into_iter().map(|(_, c)| c).collect();
            for text in [&m.doc.what, &m.doc.why, &m.doc.ignore]
                .into_iter()
                .chain([&m.doc.example_bad, &m.doc.example_good, &m.doc.example_log])
                .flatten()
            {
                whole.extend(text.lines().map(|l| l.trim().to_owned()));
            }
            let t = text(e, 80, Lang::En);
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
