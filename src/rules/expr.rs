//! The rule expression language: CEL (Common Expression Language, the
//! policy language of Kubernetes admission and Envoy), via the
//! `cel-interpreter` crate. Safe and non-Turing-complete: a site's rule can
//! read the facts but cannot loop forever, touch files or run commands.
//!
//! Facts reach CEL as plain JSON-shaped values (the documented facts
//! contract), with every integer that fits made a signed `int`, so rule
//! authors can mix `domain.vcpus * 2 > host.cpu.logical` freely.
//!
//! Templates (`message`, `fix`, evidence text) are text with `{expr}`
//! holes, each a CEL expression; `{{` and `}}` are literal braces.

use crate::lang::Lang;
use std::collections::HashMap;
use std::sync::Arc;

use cel_interpreter::extractors::Arguments;
use cel_interpreter::objects::{Key, Map};
use cel_interpreter::{Context, ExecutionError, Program, Value};

/// Convert JSON-shaped data to a CEL value.
pub fn to_cel(v: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(Arc::new(s.clone())),
        J::Array(a) => Value::List(Arc::new(a.iter().map(to_cel).collect())),
        J::Object(o) => {
            let map: HashMap<Key, Value> = o
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// Convert any serialisable data straight to a CEL value, by way of JSON
/// text (fast to write and read) rather than a `serde_json::Value` tree:
/// for a host with a thousand domains this is the dominant fixed cost of
/// evaluating the catalog.
pub fn serialize_to_cel<T: serde::Serialize>(value: &T) -> Result<Value, String> {
    use serde::de::DeserializeSeed;
    let text = serde_json::to_vec(value).map_err(|e| e.to_string())?;
    let keys = std::cell::RefCell::new(HashMap::new());
    let mut de = serde_json::Deserializer::from_slice(&text);
    CelSeed { keys: &keys }
        .deserialize(&mut de)
        .map_err(|e| e.to_string())
}

/// Builds CEL values while deserialising, with the same integer rule as
/// [`to_cel`]. Map keys are interned: the facts of a thousand domains
/// repeat the same few hundred field names, and sharing them saves most of
/// the allocations.
#[derive(Clone, Copy)]
struct CelSeed<'k> {
    keys: &'k std::cell::RefCell<HashMap<String, Arc<String>>>,
}

impl<'de> serde::de::DeserializeSeed<'de> for CelSeed<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CelSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON data")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::UInt(v), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(Arc::new(v.to_owned())))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Value::List(Arc::new(items)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = HashMap::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let key = {
                let mut keys = self.keys.borrow_mut();
                match keys.get(k.as_ref()) {
                    Some(a) => a.clone(),
                    None => {
                        let a = Arc::new(k.clone().into_owned());
                        keys.insert(k.into_owned(), a.clone());
                        a
                    }
                }
            };
            let v = map.next_value_seed(self)?;
            out.insert(Key::String(key), v);
        }
        Ok(Value::Map(Map { map: Arc::new(out) }))
    }
}

/// A value as rule text shows it.
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => format_float(*f),
        Value::String(s) => s.to_string(),
        Value::List(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        Value::Map(m) => {
            let mut parts: Vec<String> = m
                .map
                .iter()
                .map(|(k, v)| format!("{}={}", key_text(k), display(v)))
                .collect();
            parts.sort();
            parts.join(" ")
        }
        other => format!("{other:?}"),
    }
}

fn key_text(k: &Key) -> String {
    match k {
        Key::String(s) => s.to_string(),
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
    }
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        let s = format!("{f:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The root context: helper functions rule text may call.
///
/// * `cpus(list)`: `[0,1,2,5]` -> `"0-2,5"`, the kernel/libvirt cpuset form.
/// * `gib(kib)`: `16777216` -> `"16.0 GiB"`.
/// * `join(list, sep)`: the elements as text.
/// * `take(list, n)`: the first `n` elements (keeps messages short when a
///   list is long; pair it with `more(list, n)`).
/// * `more(list, n)`: `" and 7 more"` when the list has more than `n`
///   elements, else `""`.
/// * `plural(n, 'socket')`: `"1 socket"`, `"2 sockets"`; `n` is a number
///   or a list (its length); a third argument gives an irregular plural
///   (`plural(n, 'entry', 'entries')`).
/// * `noun(n, 'node')`: the word alone, `"node"` or `"nodes"`, for text
///   such as `NUMA {noun(nodes, 'node')} {cpus(nodes)}`.
/// * `times(n)`: `"once"`, `"twice"`, `"3 times"`.
/// * `sort(list)`: the list in ascending order (numbers by value, the rest
///   by their text). A map's keys come out of `filter`/`map`/`exists` in no
///   fixed order (the interpreter keeps maps in hash tables), so text built
///   from a map's keys sorts them first, or a report would change from one
///   run to the next.
///
/// In Simplified Chinese (`lang`), which has no plural: `plural(n, '个节点')`
/// is `"2 个节点"`, `noun` the word as given, `times(n)` `"2 次"`, and
/// `more` `" 等另外 7 项"`.
pub fn root_context(lang: Lang) -> Context<'static> {
    let mut ctx = Context::default();
    ctx.add_function(
        "sort",
        |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            let mut items: Vec<Value> = match args.first() {
                Some(Value::List(l)) => l.iter().cloned().collect(),
                Some(other) => {
                    return Err(ExecutionError::UnsupportedTargetType {
                        target: other.clone(),
                    })
                }
                None => return Err(ExecutionError::MissingArgumentOrTarget),
            };
            let number = |v: &Value| match v {
                Value::Int(i) => Some(*i as f64),
                Value::UInt(u) => Some(*u as f64),
                Value::Float(f) => Some(*f),
                _ => None,
            };
            items.sort_by(|a, b| match (number(a), number(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => display(a).cmp(&display(b)),
            });
            Ok(Value::List(Arc::new(items)))
        },
    );
    ctx.add_function(
        "plural",
        move |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            let (n, word) = counted_word(&args, lang)?;
            Ok(Value::String(Arc::new(format!("{n} {word}"))))
        },
    );
    ctx.add_function(
        "noun",
        move |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            let (_, word) = counted_word(&args, lang)?;
            Ok(Value::String(Arc::new(word)))
        },
    );
    ctx.add_function(
        "times",
        move |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            let n = count_of(args.first())?;
            Ok(Value::String(Arc::new(times(n, lang))))
        },
    );
    ctx.add_function(
        "cpus",
        |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            let list = match args.first() {
                Some(Value::List(l)) => l.clone(),
                Some(Value::Null) | None => return Ok(Value::String(Arc::new("-".into()))),
                Some(other) => {
                    return Err(ExecutionError::UnsupportedTargetType {
                        target: other.clone(),
                    })
                }
            };
            let ids: Vec<u32> = list
                .iter()
                .filter_map(|v| match v {
                    Value::Int(i) => u32::try_from(*i).ok(),
                    Value::UInt(u) => u32::try_from(*u).ok(),
                    _ => None,
                })
                .collect();
            Ok(Value::String(Arc::new(crate::parse::cpulist::format(&ids))))
        },
    );
    ctx.add_function(
        "gib",
        |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            let kib = match args.first() {
                Some(Value::Int(i)) => *i as f64,
                Some(Value::UInt(u)) => *u as f64,
                Some(Value::Float(f)) => *f,
                _ => return Ok(Value::String(Arc::new("-".into()))),
            };
            Ok(Value::String(Arc::new(format!(
                "{:.1} GiB",
                kib / 1048576.0
            ))))
        },
    );
    // A page size as people write it: 2048 KiB is "2 MiB", 1048576 KiB
    // "1 GiB" (`310 1 GiB hugepages`, not `310 pages of 1048576 KiB`).
    ctx.add_function(
        "pagesize",
        |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            let kib = match args.first() {
                Some(Value::Int(i)) if *i >= 0 => *i as u64,
                Some(Value::UInt(u)) => *u,
                _ => return Ok(Value::String(Arc::new("-".into()))),
            };
            Ok(Value::String(Arc::new(page_size(kib))))
        },
    );
    ctx.add_function(
        "take",
        |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            match (args.first(), args.get(1)) {
                (Some(Value::List(l)), Some(Value::Int(n))) => {
                    let n = usize::try_from(*n).unwrap_or(0);
                    Ok(Value::List(Arc::new(l.iter().take(n).cloned().collect())))
                }
                (Some(other), _) => Err(ExecutionError::UnsupportedTargetType {
                    target: other.clone(),
                }),
                (None, _) => Err(ExecutionError::MissingArgumentOrTarget),
            }
        },
    );
    ctx.add_function(
        "more",
        move |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            // `more(list, n)` counts the list; `more(total, n)` takes the
            // count (for lists the facts keep only the first entries of).
            let total = match args.first() {
                Some(Value::List(l)) => Some(l.len() as i64),
                Some(Value::Int(t)) => Some(*t),
                Some(Value::UInt(t)) => i64::try_from(*t).ok(),
                _ => None,
            };
            let text = match (total, args.get(1)) {
                (Some(total), Some(Value::Int(n))) if total > *n => match lang {
                    Lang::En => format!(" and {} more", total - n),
                    Lang::ZhCn => format!(" 等另外 {} 项", total - n),
                },
                _ => String::new(),
            };
            Ok(Value::String(Arc::new(text)))
        },
    );
    ctx.add_function(
        "join",
        |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            let sep = match args.get(1) {
                Some(Value::String(s)) => s.to_string(),
                _ => ", ".into(),
            };
            let text = match args.first() {
                Some(Value::List(l)) => l.iter().map(display).collect::<Vec<_>>().join(&sep),
                Some(v) => display(v),
                None => String::new(),
            };
            Ok(Value::String(Arc::new(text)))
        },
    );
    ctx
}

/// The number a count argument stands for: an integer, or a list's
/// length; `None` for null (a value the snapshot did not have).
fn count_of(v: Option<&Value>) -> Result<Option<i64>, ExecutionError> {
    match v {
        Some(Value::Int(i)) => Ok(Some(*i)),
        Some(Value::UInt(u)) => Ok(Some(i64::try_from(*u).unwrap_or(i64::MAX))),
        Some(Value::List(l)) => Ok(Some(l.len() as i64)),
        Some(Value::Null) => Ok(None),
        Some(other) => Err(ExecutionError::UnsupportedTargetType {
            target: other.clone(),
        }),
        None => Err(ExecutionError::MissingArgumentOrTarget),
    }
}

/// `once`, `twice`, `3 times`; `1 次`, `3 次`.
pub fn times(n: Option<i64>, lang: Lang) -> String {
    match (lang, n) {
        (Lang::En, Some(1)) => "once".to_owned(),
        (Lang::En, Some(2)) => "twice".to_owned(),
        (Lang::En, Some(n)) => format!("{n} times"),
        (Lang::En, None) => "- times".to_owned(),
        (Lang::ZhCn, Some(n)) => format!("{n} 次"),
        (Lang::ZhCn, None) => "- 次".to_owned(),
    }
}

/// `(n, word)` for `plural`/`noun`: the singular for exactly one, else the
/// given plural or the singular with an `s` (in Chinese, the word as
/// given). An unknown count shows as `-`, as null values do everywhere in
/// rule text.
fn counted_word(args: &[Value], lang: Lang) -> Result<(String, String), ExecutionError> {
    let n = count_of(args.first())?;
    let singular = match args.get(1) {
        Some(Value::String(s)) => s.to_string(),
        _ => return Err(ExecutionError::MissingArgumentOrTarget),
    };
    let word = match (n, args.get(2)) {
        _ if lang == Lang::ZhCn => singular,
        (Some(1), _) => singular,
        (_, Some(Value::String(p))) => p.to_string(),
        _ => format!("{singular}s"),
    };
    Ok((n.map_or_else(|| "-".to_owned(), |n| n.to_string()), word))
}

/// Whether a panic was raised inside the CEL crates (`location` as a
/// panic hook gets it). [`Expr::compile`] and [`Expr::eval`] catch those
/// panics and report them as errors of the rule, so a program may keep
/// their default message ("thread panicked at ...") off its stderr with a
/// panic hook of its own; the library installs none:
///
/// ```no_run
/// let default = std::panic::take_hook();
/// std::panic::set_hook(Box::new(move |info| {
///     if !virt_doctor::rules::expr::raised_in_cel(info.location()) {
///         default(info);
///     }
/// }));
/// ```
pub fn raised_in_cel(location: Option<&std::panic::Location<'_>>) -> bool {
    location.is_some_and(|l| {
        ["antlr4rust", "cel-parser", "cel-interpreter"]
            .iter()
            .any(|c| l.file().contains(c))
    })
}

/// A compiled CEL expression with its source, for error messages.
#[derive(Debug)]
pub struct Expr {
    pub source: String,
    program: Program,
}

impl Expr {
    pub fn compile(source: &str) -> Result<Expr, String> {
        // cel-parser 0.10's ANTLR runtime panics on some incomplete
        // expressions (`a ==`) instead of returning an error; a rule with a
        // typo must be an error naming the rule, not a crash.
        let program = std::panic::catch_unwind(|| Program::compile(source))
            .map_err(|_| format!("`{source}` is not a valid CEL expression (the parser gave up)"))?
            .map_err(|e| e.to_string())?;
        Ok(Expr {
            source: source.to_owned(),
            program,
        })
    }

    pub fn eval(&self, ctx: &Context) -> Result<Value, String> {
        // cel-interpreter 0.10 panics (`todo!`) when a macro such as
        // `exists` iterates over something that is neither a list nor a
        // map, e.g. a null a rule did not guard. That is the rule's error,
        // never a crash of the whole analysis.
        let run = std::panic::AssertUnwindSafe(|| self.program.execute(ctx));
        match std::panic::catch_unwind(run) {
            Ok(result) => result.map_err(|e| format!("evaluating `{}`: {e}", self.source)),
            Err(_) => Err(format!(
                "evaluating `{}`: the interpreter gave up (a macro such as exists/map over a null or a scalar?)",
                self.source
            )),
        }
    }

    /// Evaluate as a predicate: only `true` is true; anything but a bool is
    /// an error so a typo cannot silently disable a rule.
    pub fn truth(&self, ctx: &Context) -> Result<bool, String> {
        match self.eval(ctx)? {
            Value::Bool(b) => Ok(b),
            other => Err(format!(
                "`{}` gave {} instead of true/false",
                self.source,
                display(&other)
            )),
        }
    }

    /// The top-level variables the expression reads, leaving out the ones
    /// a macro binds (`domains.exists(d, d.active)` reads `domains` only).
    pub fn variables(&self) -> Vec<String> {
        let refs = self.program.references();
        let mut vars: Vec<String> = refs
            .variables()
            .into_iter()
            .filter(|v| {
                let compact: String = self.source.chars().filter(|c| !c.is_whitespace()).collect();
                !compact.contains(&format!("({v},"))
            })
            .map(str::to_owned)
            .collect();
        vars.sort();
        vars
    }
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Hole(Expr),
}

/// Text with `{expr}` holes.
#[derive(Debug)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    pub fn compile(source: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|p| p.1) == Some('{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().map(|p| p.1) == Some('}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    // A hole runs to the matching close brace; CEL map
                    // literals inside a hole are balanced.
                    let mut depth = 1;
                    let mut end = None;
                    for (j, d) in chars.by_ref() {
                        match d {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    end = Some(j);
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    let end = end.ok_or_else(|| format!("unclosed `{{` at offset {i}"))?;
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    let expr = &source[i + 1..end];
                    pieces.push(Piece::Hole(
                        Expr::compile(expr.trim()).map_err(|e| format!("in `{{{expr}}}`: {e}"))?,
                    ));
                }
                '}' => {
                    return Err(format!(
                        "unmatched `}}` at offset {i} (write `}}}}` for a brace)"
                    ))
                }
                _ => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template { pieces })
    }

    pub fn render(&self, ctx: &Context) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Hole(e) => out.push_str(&display(&e.eval(ctx)?)),
            }
        }
        Ok(out)
    }

    pub fn variables(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Hole(e) => Some(e.variables()),
                Piece::Text(_) => None,
            })
            .flatten()
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_with(json: serde_json::Value) -> Context<'static> {
        let mut ctx = root_context(Lang::En);
        if let serde_json::Value::Object(o) = json {
            for (k, v) in o {
                ctx.add_variable_from_value(k, to_cel(&v));
            }
        }
        ctx
    }

    #[test]
    fn predicates_read_facts() {
        let ctx = ctx_with(serde_json::json!({
            "disk": {"cache": "writeback", "bus": "ide", "iothread": null},
            "domain": {"vcpus": 4u64},
            "host": {"cpu": {"logical": 2}}
        }));
        let t = |s: &str| Expr::compile(s).unwrap().truth(&ctx).unwrap();
        assert!(t("disk.cache in ['writeback', 'unsafe']"));
        assert!(t("domain.vcpus * 2 > host.cpu.logical"));
        assert!(t("disk.iothread == null"));
        assert!(!t("disk.bus == 'virtio'"));
        let err = Expr::compile("disk.iothread.exists(x, x)")
            .unwrap()
            .truth(&ctx)
            .unwrap_err();
        assert!(err.contains("interpreter gave up"), "{err}");
        let err = Expr::compile("disk.cache")
            .unwrap()
            .truth(&ctx)
            .unwrap_err();
        assert!(err.contains("instead of true/false"), "{err}");
        assert!(Expr::compile("disk.cache ==").is_err());
    }

    #[test]
    fn only_panics_of_the_cel_crates_are_cel_panics() {
        assert!(!raised_in_cel(Some(std::panic::Location::caller())));
        assert!(!raised_in_cel(None));
    }

    #[test]
    fn templates_fill_holes() {
        let ctx = ctx_with(
            serde_json::json!({"domain": {"name": "db01", "cpus": [0, 1, 2, 5], "mem": 16777216, "r": 2.5}}),
        );
        let t = Template::compile("{domain.name}: pinned to {cpus(domain.cpus)}, {gib(domain.mem)}, ratio {domain.r} {{literal}}").unwrap();
        let short = Template::compile(
            "{join(take(domain.cpus, 2), '/')}{more(domain.cpus, 2)}|{more(domain.cpus, 9)}",
        )
        .unwrap();
        assert_eq!(short.render(&ctx).unwrap(), "0/1 and 2 more|");
        assert_eq!(
            t.render(&ctx).unwrap(),
            "db01: pinned to 0-2,5, 16.0 GiB, ratio 2.5 {literal}"
        );
        let words = Template::compile(
            "{plural(1, 'socket')}|{plural(domain.cpus, 'CPU')}|{noun([2], 'node')} {noun(domain.cpus, 'node')}|{plural(3, 'entry', 'entries')}|{times(1)} {times(2)} {times(7)}",
        )
        .unwrap();
        assert_eq!(
            words.render(&ctx).unwrap(),
            "1 socket|4 CPUs|node nodes|3 entries|once twice 7 times"
        );
        let sorted = Template::compile("{sort([3, 1, 2.5])}|{sort(['eth0', 'eno1'])}").unwrap();
        assert_eq!(sorted.render(&ctx).unwrap(), "1, 2.5, 3|eno1, eth0");
        assert!(Template::compile("{unclosed").is_err());
        assert!(Template::compile("stray }").is_err());
        assert_eq!(t.variables(), vec!["domain"]);
        let e = Expr::compile("domains.exists(d, d.name == domain.name && dsk.x)").unwrap();
        assert_eq!(e.variables(), vec!["domain", "domains", "dsk"]);
    }
}
#[cfg(test)]
mod semantics {
    use super::*;

    #[test]
    fn guards_short_circuit() {
        let mut ctx = root_context(Lang::En);
        ctx.add_variable_from_value(
            "x",
            to_cel(&serde_json::json!({"a": null, "m": {"k": "60"}, "l": [1, 2]})),
        );
        for (src, want) in [
            ("x.a != null && x.a > 3", false),
            ("x.a == null || x.a > 3", true),
            ("'k' in x.m && int(x.m['k']) > 10", true),
            ("'z' in x.m && int(x.m['z']) > 10", false),
            ("x.l.exists(v, v == 2)", true),
            ("size(x.l.filter(v, v > 1)) == 1", true),
            ("double(3) / double(2) == 1.5", true),
            ("'abc'.contains('b')", true),
            ("x.l.map(v, v * 2)[1] == 4", true),
            ("!(3 in x.l)", true),
        ] {
            let e = Expr::compile(src).unwrap();
            assert_eq!(e.truth(&ctx), Ok(want), "{src}");
        }
    }
}

/// `4 KiB`, `2 MiB`, `1 GiB`; a size that is no whole number of the
/// larger unit stays in the smaller one.
pub fn page_size(kib: u64) -> String {
    match kib {
        0 => "0 KiB".into(),
        k if k % 1048576 == 0 => format!("{} GiB", k / 1048576),
        k if k % 1024 == 0 => format!("{} MiB", k / 1024),
        k => format!("{k} KiB"),
    }
}
