//! A rule's fix as changes a machine can make (`[[rule.apply]]`), which
//! `virt-doctor plan` prints as a shell script.
//!
//! The prose `fix` is what people read; the steps are the same fix in a
//! form that runs, so that a test can run it: every domain step is
//! applied with virt-xml to a real libvirtd and the rule checked again
//! (tests/plan_apply.rs). Each step is one kind of change; every text in
//! it is a template over the finding's variables, and `each` repeats the
//! step for every element of a CEL list (bound as `item`).

use cel_interpreter::{Context, Value};
use serde::Deserialize;

use super::expr::{display, Expr, Template};
use crate::findings::{Change, Need, Step};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApply {
    /// CEL predicate: the step is taken only where it holds.
    #[serde(default)]
    when: Option<String>,
    /// CEL list: the step is taken once per element, bound as `item`.
    #[serde(default)]
    each: Option<String>,
    /// virt-xml's arguments after the domain name (`--define` is added).
    #[serde(default)]
    virt_xml: Option<Vec<String>>,
    /// virsh's arguments.
    #[serde(default)]
    virsh: Option<Vec<String>>,
    /// A sysctl key; with `value`.
    #[serde(default)]
    sysctl: Option<String>,
    /// A file under /sys; with `value`.
    #[serde(default)]
    sysfs: Option<String>,
    #[serde(default)]
    value: Option<String>,
    /// A file written whole; with `content`.
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    content: Option<String>,
    /// A kernel module loaded now and at boot.
    #[serde(default)]
    module: Option<String>,
    /// Another host command, as argv.
    #[serde(default)]
    command: Option<Vec<String>>,
    /// What to do by hand, and why it is not a command.
    #[serde(default)]
    manual: Option<String>,
    #[serde(default)]
    needs: Vec<Need>,
    #[serde(default)]
    note: Option<String>,
    /// The step renames what other steps select by (a disk's target):
    /// `plan` puts it after the domain's other changes.
    #[serde(default)]
    last: bool,
}

#[derive(Debug)]
enum Kind {
    VirtXml(Vec<Template>),
    Virsh(Vec<Template>),
    Sysctl(Template, Template),
    Sysfs(Template, Template),
    File(Template, Template),
    Module(Template),
    Command(Vec<Template>),
    Manual(Template),
}

/// One `[[rule.apply]]`, compiled.
#[derive(Debug)]
pub struct ApplySpec {
    /// The step as the rule writes it, for `rules show`:
    /// `virt-xml DOMAIN --edit … --define (needs: cold-boot)`.
    pub summary: String,
    when: Option<Expr>,
    each: Option<Expr>,
    kind: Kind,
    pub needs: Vec<Need>,
    note: Option<Template>,
    last: bool,
    /// It reads host facts (`host`, `derived`, `domains`, …), which
    /// `lint` without `--host` does not have.
    pub reads_host: bool,
}

impl ApplySpec {
    /// Whether the step changes a domain's definition (what the apply
    /// test runs against libvirtd).
    pub fn changes_domain(&self) -> bool {
        matches!(self.kind, Kind::VirtXml(_) | Kind::Virsh(_))
    }

    /// Every expression and template, for the catalog's variable checks.
    pub(super) fn variables(&self) -> Vec<String> {
        let mut vars = Vec::new();
        for e in [&self.when, &self.each].into_iter().flatten() {
            vars.extend(e.variables());
        }
        for t in self.templates() {
            vars.extend(t.variables());
        }
        // `item` is bound by `each`, not a variable of the scope.
        if self.each.is_some() {
            vars.retain(|v| v != "item");
        }
        vars
    }

    fn templates(&self) -> Vec<&Template> {
        let mut out: Vec<&Template> = match &self.kind {
            Kind::VirtXml(words) | Kind::Virsh(words) | Kind::Command(words) => {
                words.iter().collect()
            }
            Kind::Sysctl(a, b) | Kind::Sysfs(a, b) | Kind::File(a, b) => vec![a, b],
            Kind::Module(t) | Kind::Manual(t) => vec![t],
        };
        out.extend(self.note.iter());
        out
    }

    /// The steps this spec gives for one finding (none when `when` is
    /// false, one per element of `each`). `domain` is the finding's.
    pub fn render(&self, ctx: &Context, domain: Option<&str>) -> Result<Vec<Step>, String> {
        if let Some(w) = &self.when {
            if !w.truth(ctx)? {
                return Ok(Vec::new());
            }
        }
        let Some(each) = &self.each else {
            return Ok(vec![self.step(ctx, domain)?]);
        };
        let items = match each.eval(ctx)? {
            Value::List(items) => items,
            other => {
                return Err(format!(
                    "apply: each `{}` gave {} instead of a list",
                    each.source,
                    display(&other)
                ))
            }
        };
        let mut steps = Vec::new();
        for item in items.iter() {
            let mut inner = ctx.new_inner_scope();
            inner.add_variable_from_value("item", item.clone());
            steps.push(self.step(&inner, domain)?);
        }
        Ok(steps)
    }

    fn step(&self, ctx: &Context, domain: Option<&str>) -> Result<Step, String> {
        let words = |ts: &[Template]| -> Result<Vec<String>, String> {
            ts.iter().map(|t| t.render(ctx)).collect()
        };
        let change = match &self.kind {
            Kind::VirtXml(args) => Change::VirtXml {
                domain: domain
                    .ok_or("apply: virt_xml in a rule without a domain")?
                    .to_owned(),
                args: words(args)?,
            },
            Kind::Virsh(args) => Change::Virsh { args: words(args)? },
            Kind::Sysctl(k, v) => Change::Sysctl {
                key: k.render(ctx)?,
                value: v.render(ctx)?,
            },
            Kind::Sysfs(p, v) => Change::Sysfs {
                path: p.render(ctx)?,
                value: v.render(ctx)?,
            },
            Kind::File(p, c) => Change::File {
                path: p.render(ctx)?,
                content: c.render(ctx)?,
            },
            Kind::Module(m) => Change::Module {
                name: m.render(ctx)?,
            },
            Kind::Command(args) => Change::Command { args: words(args)? },
            Kind::Manual(t) => Change::Manual {
                text: t.render(ctx)?.trim().to_owned(),
            },
        };
        Ok(Step {
            change,
            last: self.last,
            needs: self.needs.clone(),
            note: self
                .note
                .as_ref()
                .map(|n| n.render(ctx).map(|s| s.trim().to_owned()))
                .transpose()?,
        })
    }
}

/// The raw sources of a spec's expressions and templates, for the
/// catalog's check that every `params.NAME` is declared.
pub(super) fn sources(raw: &RawApply) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    out.extend(raw.when.as_deref());
    out.extend(raw.each.as_deref());
    for list in [&raw.virt_xml, &raw.virsh, &raw.command]
        .into_iter()
        .flatten()
    {
        out.extend(list.iter().map(String::as_str));
    }
    for t in [
        &raw.sysctl,
        &raw.sysfs,
        &raw.value,
        &raw.file,
        &raw.content,
        &raw.module,
        &raw.manual,
        &raw.note,
    ]
    .into_iter()
    .flatten()
    {
        out.push(t);
    }
    out
}

/// A step in one line, its templates as written.
fn summary(raw: &RawApply) -> String {
    let words = |w: &Option<Vec<String>>| w.as_deref().unwrap_or_default().join(" ");
    let text = |t: &Option<String>| t.as_deref().unwrap_or_default().trim().to_owned();
    let mut out = String::new();
    if let Some(e) = &raw.each {
        out.push_str(&format!("for each item of {e}: "));
    }
    if let Some(w) = &raw.when {
        out.push_str(&format!("where {w}: "));
    }
    out.push_str(&if raw.virt_xml.is_some() {
        format!("virt-xml DOMAIN {} --define", words(&raw.virt_xml))
    } else if raw.virsh.is_some() {
        format!("virsh {}", words(&raw.virsh))
    } else if raw.command.is_some() {
        words(&raw.command)
    } else if raw.sysctl.is_some() {
        format!(
            "sysctl {} = {} (now, and in its own /etc/sysctl.d drop-in)",
            text(&raw.sysctl),
            text(&raw.value)
        )
    } else if raw.sysfs.is_some() {
        format!("echo {} > {}", text(&raw.value), text(&raw.sysfs))
    } else if raw.file.is_some() {
        format!("write {}: {}", text(&raw.file), text(&raw.content))
    } else if raw.module.is_some() {
        format!("modprobe {} (and at boot)", text(&raw.module))
    } else {
        format!("by hand: {}", text(&raw.manual))
    });
    if !raw.needs.is_empty() {
        let needs: Vec<String> = raw
            .needs
            .iter()
            .map(|n| {
                serde_json::to_value(n)
                    .map_or(String::new(), |v| v.as_str().unwrap_or_default().to_owned())
            })
            .collect();
        out.push_str(&format!(" (needs: {})", needs.join(", ")));
    }
    out
}

/// Compile one `[[rule.apply]]` of a rule of scope `scope`; problems are
/// named `apply[i]`.
pub(super) fn compile(
    raw: &RawApply,
    i: usize,
    has_domain: bool,
) -> Result<ApplySpec, Vec<String>> {
    let mut problems = Vec::new();
    let at = |what: &str, e: String| format!("apply[{i}].{what}: {e}");
    let template = |what: &str, t: &str, problems: &mut Vec<String>| match Template::compile(t) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(at(what, e));
            None
        }
    };
    let words = |what: &str, ws: &[String], problems: &mut Vec<String>| -> Option<Vec<Template>> {
        if ws.is_empty() {
            problems.push(format!("apply[{i}].{what} is empty"));
            return None;
        }
        let out: Vec<Option<Template>> = ws.iter().map(|w| template(what, w, problems)).collect();
        out.into_iter().collect()
    };
    let expr = |what: &str, t: &Option<String>, problems: &mut Vec<String>| -> Option<Expr> {
        t.as_deref().and_then(|t| match Expr::compile(t) {
            Ok(e) => Some(e),
            Err(e) => {
                problems.push(at(what, e));
                None
            }
        })
    };
    let when = expr("when", &raw.when, &mut problems);
    let each = expr("each", &raw.each, &mut problems);
    let kinds: Vec<&str> = [
        ("virt_xml", raw.virt_xml.is_some()),
        ("virsh", raw.virsh.is_some()),
        ("sysctl", raw.sysctl.is_some()),
        ("sysfs", raw.sysfs.is_some()),
        ("file", raw.file.is_some()),
        ("module", raw.module.is_some()),
        ("command", raw.command.is_some()),
        ("manual", raw.manual.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(k, _)| k)
    .collect();
    if kinds.len() != 1 {
        problems.push(format!(
            "apply[{i}] must have exactly one of virt_xml, virsh, sysctl, sysfs, file, module, command, manual (it has {})",
            if kinds.is_empty() { "none".to_owned() } else { kinds.join(", ") }
        ));
        return Err(problems);
    }
    let kind = kinds[0];
    let wants_value = matches!(kind, "sysctl" | "sysfs");
    if wants_value != raw.value.is_some() {
        problems.push(if wants_value {
            format!("apply[{i}].{kind} needs a `value`")
        } else {
            format!("apply[{i}].value belongs with sysctl or sysfs, not {kind}")
        });
    }
    if (kind == "file") != raw.content.is_some() {
        problems.push(format!(
            "apply[{i}]: `file` and `content` go together (this step is {kind})"
        ));
    }
    if kind == "virt_xml" && !has_domain {
        problems.push(format!(
            "apply[{i}].virt_xml is for rules whose subject has a domain (scope domain, disk or interface)"
        ));
    }
    let value = raw
        .value
        .as_deref()
        .and_then(|v| template("value", v, &mut problems));
    let kind = match kind {
        "virt_xml" => words(
            "virt_xml",
            raw.virt_xml.as_deref().unwrap_or_default(),
            &mut problems,
        )
        .map(Kind::VirtXml),
        "virsh" => words(
            "virsh",
            raw.virsh.as_deref().unwrap_or_default(),
            &mut problems,
        )
        .map(Kind::Virsh),
        "command" => words(
            "command",
            raw.command.as_deref().unwrap_or_default(),
            &mut problems,
        )
        .map(Kind::Command),
        "sysctl" => template(
            "sysctl",
            raw.sysctl.as_deref().unwrap_or_default(),
            &mut problems,
        )
        .zip(value)
        .map(|(k, v)| Kind::Sysctl(k, v)),
        "sysfs" => template(
            "sysfs",
            raw.sysfs.as_deref().unwrap_or_default(),
            &mut problems,
        )
        .zip(value)
        .map(|(k, v)| Kind::Sysfs(k, v)),
        "file" => template(
            "file",
            raw.file.as_deref().unwrap_or_default(),
            &mut problems,
        )
        .zip(
            raw.content
                .as_deref()
                .and_then(|c| template("content", c, &mut problems)),
        )
        .map(|(p, c)| Kind::File(p, c)),
        "module" => template(
            "module",
            raw.module.as_deref().unwrap_or_default(),
            &mut problems,
        )
        .map(Kind::Module),
        _ => template(
            "manual",
            raw.manual.as_deref().unwrap_or_default(),
            &mut problems,
        )
        .map(Kind::Manual),
    };
    let note = raw
        .note
        .as_deref()
        .and_then(|n| template("note", n, &mut problems));
    match kind {
        Some(kind) if problems.is_empty() => Ok(ApplySpec {
            reads_host: false,
            summary: summary(raw),
            when,
            each,
            kind,
            needs: raw.needs.clone(),
            note,
            last: raw.last,
        }),
        _ => Err(problems),
    }
}
