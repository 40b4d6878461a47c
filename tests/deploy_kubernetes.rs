//! The Kubernetes manifests in `deploy/kubernetes/`: the node DaemonSet,
//! the fleet Job and what they need.
//!
//! No cluster runs in CI, so what is tested is what can be without one:
//! every file parses as YAML (PyYAML through `python3`, so the project
//! needs no YAML crate) into objects Kubernetes would accept the shape of;
//! the DaemonSet's host mounts are read-only except the metrics directory;
//! every container runs with a read-only root and no capabilities; the
//! Job's shard count is its completion count; and every `virt-doctor`
//! command line in the containers' shell scripts names a subcommand and
//! flags the real binary has, with values it accepts. `kubectl kustomize`
//! builds the directory when kubectl is installed. `kubectl apply
//! --dry-run=client` is not run: even a client-side dry run asks an API
//! server for its resource types, and these tests talk to no cluster.
//!
//! python3 with PyYAML (Debian's python3-yaml, which ansible-core pulls in)
//! is needed; without it the tests say SKIPPED, or fail when
//! `VIRT_DOCTOR_DEPLOY=require` (CI). kubectl is never required.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use common::say;

const NAMESPACE: &str = "virt-doctor";

fn manifest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

/// Every `*.yaml` file of the directory, sorted.
fn yaml_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(manifest_dir())
        .expect("deploy/kubernetes exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    files
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Loads YAML documents and prints them as one JSON list of
/// `{"file", "doc"}`; `-` reads stdin. A key given twice in one mapping is
/// an error, as it is to kubectl (PyYAML alone would keep the last one and
/// hide the mistake).
const LOAD_YAML: &str = r#"
import json, sys, yaml

class Strict(yaml.SafeLoader):
    pass

def mapping(loader, node):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, "key %r given twice" % (key,), key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=True)

Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)

out = []
for path in sys.argv[1:]:
    text = sys.stdin.read() if path == "-" else open(path).read()
    for doc in yaml.load_all(text, Loader=Strict):
        if doc is not None:
            out.append({"file": path, "doc": doc})
json.dump(out, sys.stdout, default=str)
"#;

/// python3 can load YAML here; else a SKIPPED line (or, when CI requires
/// the deployment tools, a failure) and `false`.
fn python_yaml_or_skip(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return true;
    }
    assert!(
        !common::required("VIRT_DOCTOR_DEPLOY"),
        "{test}: VIRT_DOCTOR_DEPLOY=require but python3 cannot import yaml (Debian: python3-yaml)"
    );
    say(&format!(
        "SKIPPED {test}: python3 with PyYAML (python3-yaml) is not installed"
    ));
    false
}

/// (file name, document) of every YAML document of `args` (paths, or `-`
/// with `stdin`).
fn load_yaml(args: &[String], stdin: Option<&[u8]>) -> Vec<(String, Value)> {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(LOAD_YAML)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(data) = stdin {
            input.write_all(data).unwrap();
        }
    }
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "YAML does not load: {}",
        common::stderr(&o)
    );
    let list: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    list.into_iter()
        .map(|mut e| {
            let file = Path::new(e["file"].as_str().unwrap());
            (file_name(file), e["doc"].take())
        })
        .collect()
}

/// Every document of every file of the directory, or `None` after a
/// SKIPPED line.
fn documents(test: &str) -> Option<Vec<(String, Value)>> {
    if !python_yaml_or_skip(test) {
        return None;
    }
    let args: Vec<String> = yaml_files()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    Some(load_yaml(&args, None))
}

/// The Kubernetes objects: every document but kustomization.yaml's.
fn objects(docs: &[(String, Value)]) -> Vec<&Value> {
    docs.iter()
        .filter(|(f, _)| f != "kustomization.yaml")
        .map(|(_, d)| d)
        .collect()
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn list<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn describe(obj: &Value) -> String {
    format!(
        "{} {}",
        text(obj, "/kind").unwrap_or("?"),
        text(obj, "/metadata/name").unwrap_or("?")
    )
}

/// The one object of this kind.
fn the<'a>(objects: &[&'a Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = objects
        .iter()
        .copied()
        .filter(|o| text(o, "/kind") == Some(kind))
        .collect();
    assert_eq!(found.len(), 1, "one {kind} expected, found {}", found.len());
    found[0]
}

/// (object, pod spec) of every object that makes pods.
fn pod_specs<'a>(objects: &[&'a Value]) -> Vec<(&'a Value, &'a Value)> {
    objects
        .iter()
        .filter_map(|o| {
            o.pointer("/spec/template/spec")
                .or_else(|| o.pointer("/spec/jobTemplate/spec/template/spec"))
                .map(|spec| (*o, spec))
        })
        .collect()
}

fn containers(pod: &Value) -> Vec<&Value> {
    list(pod, "/initContainers")
        .iter()
        .chain(list(pod, "/containers"))
        .collect()
}

/// command + args of a container.
fn argv(container: &Value) -> Vec<String> {
    list(container, "/command")
        .iter()
        .chain(list(container, "/args"))
        .map(|a| {
            a.as_str()
                .unwrap_or_else(|| panic!("a non-string argument: {a}"))
                .to_owned()
        })
        .collect()
}

// ---------------------------------------------------------------------
// The containers' shell scripts, read far enough to find the virt-doctor
// command lines in them, their output files and the `mv`s.

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    /// `$NAME`, `${NAME}`, `$?`.
    Var(String),
    /// `$(...)`, backquotes, `${NAME:-...}`: the test does not evaluate
    /// those, so a command line using one cannot be checked.
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Word {
    /// The word as written.
    raw: String,
    parts: Vec<Part>,
}

impl Word {
    fn literal(s: &str) -> Word {
        Word {
            raw: s.to_owned(),
            parts: vec![Part::Lit(s.to_owned())],
        }
    }

    /// The word after the shell's expansion with these variables.
    fn expand(&self, vars: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(name) => out.push_str(
                    vars.get(name)
                        .ok_or_else(|| format!("${name} has no value the test knows"))?,
                ),
                Part::Other(s) => return Err(format!("{s} is not evaluated by the test")),
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Word),
    /// `;`, `&&`, `||`, `|`, `&`, `(`, `)`, a newline, or a redirection
    /// (`>`, `>>`, `<`, `2>`).
    Op(String),
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// After a `$` at `chars[*i]`: the expansion, with `*i` past it.
fn dollar(chars: &[char], i: &mut usize) -> Part {
    let start = *i;
    *i += 1;
    match chars.get(*i) {
        Some('{') => {
            let end = chars[*i..]
                .iter()
                .position(|&c| c == '}')
                .map_or(chars.len(), |n| *i + n);
            let inner: String = chars[*i + 1..end].iter().collect();
            *i = (end + 1).min(chars.len());
            if !inner.is_empty() && inner.chars().all(is_name) {
                Part::Var(inner)
            } else {
                Part::Other(chars[start..*i].iter().collect())
            }
        }
        Some('(') => {
            let mut depth = 0;
            while *i < chars.len() {
                match chars[*i] {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            *i += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                *i += 1;
            }
            Part::Other(chars[start..*i].iter().collect())
        }
        Some(&c) if is_name_start(c) => {
            let from = *i;
            while *i < chars.len() && is_name(chars[*i]) {
                *i += 1;
            }
            Part::Var(chars[from..*i].iter().collect())
        }
        Some(&c) if "?!$#@*-".contains(c) || c.is_ascii_digit() => {
            *i += 1;
            Part::Var(c.to_string())
        }
        _ => Part::Lit("$".into()),
    }
}

/// Split a POSIX shell script into words and operators (quotes, escapes,
/// comments and line continuations handled; no expansion yet).
fn tokenize(script: &str) -> Vec<Tok> {
    let chars: Vec<char> = script.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '\\' if chars.get(i + 1) == Some(&'\n') => i += 2,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\n' | ';' | '(' | ')' | '<' => {
                toks.push(Tok::Op(c.to_string()));
                i += 1;
            }
            '>' if chars.get(i + 1) == Some(&'&') => {
                toks.push(Tok::Op(">&".into()));
                i += 2;
            }
            '&' | '|' | '>' => {
                let two = chars.get(i + 1) == Some(&c);
                toks.push(Tok::Op(if two { format!("{c}{c}") } else { c.into() }));
                i += if two { 2 } else { 1 };
            }
            _ => {
                let start = i;
                let mut parts: Vec<Part> = Vec::new();
                let mut lit = String::new();
                let flush = |lit: &mut String, parts: &mut Vec<Part>| {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(lit)));
                    }
                };
                while i < chars.len() && !" \t\n;&|<>()".contains(chars[i]) {
                    match chars[i] {
                        '\'' => {
                            let end = chars[i + 1..]
                                .iter()
                                .position(|&c| c == '\'')
                                .map_or(chars.len(), |n| i + 1 + n);
                            lit.extend(&chars[i + 1..end]);
                            i = end + 1;
                        }
                        '"' => {
                            i += 1;
                            while i < chars.len() && chars[i] != '"' {
                                match chars[i] {
                                    '\\' if chars
                                        .get(i + 1)
                                        .is_some_and(|n| "$`\"\\\n".contains(*n)) =>
                                    {
                                        if chars[i + 1] != '\n' {
                                            lit.push(chars[i + 1]);
                                        }
                                        i += 2;
                                    }
                                    '$' => {
                                        flush(&mut lit, &mut parts);
                                        parts.push(dollar(&chars, &mut i));
                                    }
                                    '`' => {
                                        flush(&mut lit, &mut parts);
                                        parts.push(Part::Other("`...`".into()));
                                        i += 1;
                                        while i < chars.len() && chars[i] != '`' {
                                            i += 1;
                                        }
                                        i += 1;
                                    }
                                    ch => {
                                        lit.push(ch);
                                        i += 1;
                                    }
                                }
                            }
                            i += 1;
                        }
                        '\\' => {
                            if let Some(&n) = chars.get(i + 1) {
                                if n != '\n' {
                                    lit.push(n);
                                }
                            }
                            i += 2;
                        }
                        '$' => {
                            flush(&mut lit, &mut parts);
                            parts.push(dollar(&chars, &mut i));
                        }
                        '`' => {
                            flush(&mut lit, &mut parts);
                            parts.push(Part::Other("`...`".into()));
                            i += 1;
                            while i < chars.len() && chars[i] != '`' {
                                i += 1;
                            }
                            i += 1;
                        }
                        ch => {
                            lit.push(ch);
                            i += 1;
                        }
                    }
                }
                i = i.min(chars.len());
                flush(&mut lit, &mut parts);
                let raw: String = chars[start..i].iter().collect();
                // `2>`: a file descriptor number written against its
                // redirection is part of the operator.
                if raw.chars().all(|c| c.is_ascii_digit()) && chars.get(i) == Some(&'>') {
                    toks.push(Tok::Op(format!("{raw}>")));
                    i += 1;
                    continue;
                }
                toks.push(Tok::Word(Word { raw, parts }));
            }
        }
    }
    toks
}

/// Words after which the next word is a command name.
const KEYWORDS: [&str; 9] = [
    "if", "then", "else", "elif", "do", "while", "until", "exec", "!",
];

fn is_redirect(op: &str) -> bool {
    op.ends_with('>') || op == ">&" || op == "<"
}

/// One simple command of a script: its words and where its stdout goes.
#[derive(Debug)]
struct Simple {
    words: Vec<Word>,
    stdout: Option<Word>,
}

/// Every simple command whose name is `name`.
fn commands_named(toks: &[Tok], name: &str) -> Vec<Simple> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let at_command = match i.checked_sub(1).map(|p| &toks[p]) {
            None => true,
            Some(Tok::Op(op)) => !is_redirect(op),
            Some(Tok::Word(w)) => KEYWORDS.contains(&w.raw.as_str()),
        };
        let named = matches!(&toks[i], Tok::Word(w) if w.raw == name);
        if !(at_command && named) {
            i += 1;
            continue;
        }
        let mut cmd = Simple {
            words: Vec::new(),
            stdout: None,
        };
        i += 1;
        while i < toks.len() {
            match &toks[i] {
                Tok::Word(w) => cmd.words.push(w.clone()),
                Tok::Op(op) if is_redirect(op) => {
                    if let Some(Tok::Word(target)) = toks.get(i + 1) {
                        if op == ">" || op == ">>" || op == "1>" {
                            cmd.stdout = Some(target.clone());
                        }
                        i += 1;
                    }
                }
                Tok::Op(_) => break,
            }
            i += 1;
        }
        found.push(cmd);
    }
    found
}

/// The shell script a container runs (`sh -c SCRIPT`), if it runs one.
fn script(container: &Value) -> Option<String> {
    let a = argv(container);
    let shell = a.first().map(|s| s.rsplit('/').next().unwrap().to_owned());
    let is_shell = shell.is_some_and(|s| ["sh", "bash", "dash", "ash"].contains(&s.as_str()));
    let dash_c = a
        .get(1)
        .is_some_and(|f| f.starts_with('-') && f.ends_with('c'));
    (is_shell && dash_c && a.len() >= 3).then(|| a[2].clone())
}

/// Every virt-doctor command line of a container: from its shell script,
/// or its argv when it runs the binary directly.
fn virt_doctor_commands(container: &Value) -> Vec<Simple> {
    if let Some(s) = script(container) {
        return commands_named(&tokenize(&s), "virt-doctor");
    }
    let a = argv(container);
    match a.first() {
        Some(first) if first.rsplit('/').next() == Some("virt-doctor") => vec![Simple {
            words: a[1..].iter().map(|s| Word::literal(s)).collect(),
            stdout: None,
        }],
        _ => Vec::new(),
    }
}

/// The container's environment variables with a literal value.
fn env_values(container: &Value) -> BTreeMap<String, String> {
    list(container, "/env")
        .iter()
        .filter_map(|e| Some((text(e, "/name")?.to_owned(), text(e, "/value")?.to_owned())))
        .collect()
}

fn expand_all(words: &[Word], vars: &BTreeMap<String, String>, what: &str) -> Vec<String> {
    words
        .iter()
        .map(|w| {
            w.expand(vars)
                .unwrap_or_else(|e| panic!("{what}: `{}`: {e}", w.raw))
        })
        .collect()
}

/// The value after `flag` in an argument list.
fn flag_value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// (source, destination) of every `mv` of the script, expanded.
fn moves(script: &str, vars: &BTreeMap<String, String>) -> Vec<(String, String)> {
    commands_named(&tokenize(script), "mv")
        .iter()
        .map(|m| {
            let args: Vec<String> = expand_all(&m.words, vars, "mv")
                .into_iter()
                .filter(|a| !a.starts_with('-'))
                .collect();
            assert_eq!(args.len(), 2, "mv with {args:?}");
            (args[0].clone(), args[1].clone())
        })
        .collect()
}

/// mountPath -> (volume, read-only) of a container's mounts.
fn mounts<'a>(pod: &'a Value, container: &Value) -> BTreeMap<String, (&'a Value, bool)> {
    list(container, "/volumeMounts")
        .iter()
        .map(|m| {
            let name = text(m, "/name").unwrap();
            let volume = list(pod, "/volumes")
                .iter()
                .find(|v| text(v, "/name") == Some(name))
                .unwrap_or_else(|| panic!("volumeMount {name} has no volume"));
            let read_only = m["readOnly"] == Value::Bool(true);
            (
                text(m, "/mountPath").unwrap().to_owned(),
                (volume, read_only),
            )
        })
        .collect()
}

/// A virt-doctor output file is written under a temporary name and moved
/// in place by the script, into a writable mount: a reader (node_exporter's
/// textfile collector, whoever collects the shards) never sees half a file.
/// Returns the final path.
fn check_written_then_moved(
    what: &str,
    cmd: &Simple,
    script: &str,
    vars: &BTreeMap<String, String>,
    mounts: &BTreeMap<String, (&Value, bool)>,
) -> String {
    let out = cmd
        .stdout
        .as_ref()
        .unwrap_or_else(|| panic!("{what}: virt-doctor's output goes nowhere"))
        .expand(vars)
        .unwrap();
    let fin = out
        .strip_suffix(".tmp")
        .unwrap_or_else(|| panic!("{what}: the output {out} is not a temporary file"));
    assert!(
        moves(script, vars).contains(&(out.clone(), fin.to_owned())),
        "{what}: no `mv {out} {fin}`"
    );
    let dir = Path::new(fin).parent().unwrap().to_str().unwrap();
    match mounts.get(dir) {
        Some((_, false)) => {}
        other => panic!("{what}: {dir} is not a writable mount: {other:?}"),
    }
    fin.to_owned()
}

// ---------------------------------------------------------------------

#[test]
fn manifests_parse_into_named_objects() {
    let Some(docs) = documents("manifests_parse_into_named_objects") else {
        return;
    };
    let files: BTreeSet<String> = docs.iter().map(|(f, _)| f.clone()).collect();
    assert_eq!(
        files,
        yaml_files()
            .iter()
            .map(|p| file_name(p))
            .collect::<BTreeSet<String>>(),
        "a file with no document"
    );
    let mut seen = BTreeSet::new();
    for obj in objects(&docs) {
        let what = describe(obj);
        for field in ["/apiVersion", "/kind", "/metadata/name"] {
            assert!(
                text(obj, field).is_some_and(|s| !s.is_empty()),
                "{what}: no {field}: {obj}"
            );
        }
        let kind = text(obj, "/kind").unwrap();
        // Every object says its namespace, so `kubectl apply -f` of one
        // file lands where kustomize puts it.
        let ns = text(obj, "/metadata/namespace");
        if kind == "Namespace" {
            assert_eq!(text(obj, "/metadata/name"), Some(NAMESPACE));
        } else {
            assert_eq!(ns, Some(NAMESPACE), "{what}");
        }
        assert!(
            seen.insert((kind.to_owned(), ns, text(obj, "/metadata/name"))),
            "{what} defined twice"
        );
        // The API takes only strings here: an unquoted `true` is a YAML
        // boolean and is rejected.
        for map in [
            "/metadata/labels",
            "/spec/selector/matchLabels",
            "/spec/template/metadata/labels",
            "/spec/template/spec/nodeSelector",
        ] {
            if let Some(m) = obj.pointer(map) {
                for (k, v) in m.as_object().unwrap() {
                    assert!(v.is_string(), "{what}: {map}/{k} is {v}, not a string");
                }
            }
        }
        // A workload whose selector does not match its pods' labels is
        // rejected.
        if let Some(sel) = obj.pointer("/spec/selector/matchLabels") {
            let labels = &obj["spec"]["template"]["metadata"]["labels"];
            for (k, v) in sel.as_object().unwrap() {
                assert_eq!(
                    &labels[k], v,
                    "{what}: selector {k} does not match its pods"
                );
            }
        }
    }
    // No RBAC: virt-doctor never calls the Kubernetes API, so no account
    // needs a permission and no pod gets a token.
    for obj in objects(&docs) {
        assert!(
            !["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]
                .contains(&text(obj, "/kind").unwrap()),
            "{}",
            describe(obj)
        );
    }
    let objs = objects(&docs);
    for (obj, pod) in pod_specs(&objs) {
        assert_eq!(
            pod["automountServiceAccountToken"],
            Value::Bool(false),
            "{}",
            describe(obj)
        );
    }
}

#[test]
fn kustomization_lists_every_manifest() {
    let Some(docs) = documents("kustomization_lists_every_manifest") else {
        return;
    };
    let (_, k) = docs
        .iter()
        .find(|(f, _)| f == "kustomization.yaml")
        .expect("kustomization.yaml");
    assert_eq!(text(k, "/kind"), Some("Kustomization"));
    let listed: Vec<String> = list(k, "/resources")
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    let unique: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "listed twice: {listed:?}");
    let files: BTreeSet<String> = yaml_files()
        .iter()
        .map(|p| file_name(p))
        .filter(|f| f != "kustomization.yaml")
        .collect();
    assert_eq!(unique, files);
}

#[test]
fn daemonset_reads_the_node_through_read_only_mounts() {
    let Some(docs) = documents("daemonset_reads_the_node_through_read_only_mounts") else {
        return;
    };
    let objs = objects(&docs);
    let ds = the(&objs, "DaemonSet");
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(
        text(pod, "/nodeSelector/kubevirt.io~1schedulable"),
        Some("true"),
        "the DaemonSet runs on KubeVirt's VM nodes"
    );
    // The host's /proc is mounted, so the node's processes are readable
    // without its PID namespace (daemonset.yaml says why it stays out).
    assert_ne!(pod["hostPID"], Value::Bool(true));

    let mut scans = 0;
    let mut writable_host_dirs = Vec::new();
    let mut read_only_host_dirs = BTreeSet::new();
    for c in containers(pod) {
        let m = mounts(pod, c);
        for (path, (volume, read_only)) in &m {
            let Some(host) = text(volume, "/hostPath/path") else {
                continue;
            };
            if !read_only {
                writable_host_dirs.push((host.to_owned(), path.clone()));
                continue;
            }
            read_only_host_dirs.insert(host.to_owned());
            // Seen by `--sysroot /host` where the node has it.
            assert_eq!(*path, format!("/host{host}"), "{host}");
            // readOnly alone leaves the file systems mounted below (cgroup,
            // efivarfs under /sys) writable.
            let mount = list(c, "/volumeMounts")
                .iter()
                .find(|x| text(x, "/mountPath") == Some(path))
                .unwrap();
            assert!(
                matches!(
                    text(mount, "/recursiveReadOnly"),
                    Some("IfPossible" | "Enabled")
                ),
                "{path} is not recursively read-only"
            );
        }
        let Some(s) = script(c) else { continue };
        for cmd in virt_doctor_commands(c) {
            let vars = env_values(c);
            let args = expand_all(&cmd.words, &vars, "DaemonSet");
            assert_eq!(args[0], "scan", "{args:?}");
            assert_eq!(flag_value(&args, "--sysroot"), Some("/host"), "{args:?}");
            assert_eq!(flag_value(&args, "--format"), Some("prometheus"));
            let fin = check_written_then_moved("DaemonSet", &cmd, &s, &vars, &m);
            // The textfile collector reads *.prom files only, so the
            // temporary file is invisible to it.
            assert!(fin.ends_with(".prom"), "{fin}");
            scans += 1;
        }
    }
    assert!(scans >= 1, "the DaemonSet runs no virt-doctor scan");
    for dir in ["/proc", "/sys", "/etc/libvirt", "/run/libvirt", "/var/log"] {
        assert!(
            read_only_host_dirs.contains(dir),
            "{dir} is not mounted read-only: {read_only_host_dirs:?}"
        );
    }
    assert_eq!(
        writable_host_dirs.len(),
        1,
        "one writable host directory (the textfile collector's) expected: {writable_host_dirs:?}"
    );
}

#[test]
fn every_container_runs_read_only_without_capabilities() {
    let Some(docs) = documents("every_container_runs_read_only_without_capabilities") else {
        return;
    };
    let objs = objects(&docs);
    let pods = pod_specs(&objs);
    assert!(pods.len() >= 2, "the DaemonSet and the Job");
    for (obj, pod) in pods {
        for c in containers(pod) {
            let what = format!("{} container {}", describe(obj), c["name"]);
            let sc = &c["securityContext"];
            assert_eq!(sc["readOnlyRootFilesystem"], Value::Bool(true), "{what}");
            assert_eq!(sc["allowPrivilegeEscalation"], Value::Bool(false), "{what}");
            assert_ne!(sc["privileged"], Value::Bool(true), "{what}");
            assert!(
                list(sc, "/capabilities/drop").contains(&Value::from("ALL")),
                "{what}: capabilities not dropped"
            );
            assert!(list(sc, "/capabilities/add").is_empty(), "{what}");
        }
    }
}

#[test]
fn fleet_job_takes_one_shard_per_completion_index() {
    let Some(docs) = documents("fleet_job_takes_one_shard_per_completion_index") else {
        return;
    };
    let objs = objects(&docs);
    let job = the(&objs, "Job");
    assert_eq!(text(job, "/spec/completionMode"), Some("Indexed"));
    let completions = job["spec"]["completions"].as_u64().expect("completions");
    let pod = &job["spec"]["template"]["spec"];
    let mut outputs = BTreeSet::new();
    let mut analyses = 0;
    for c in containers(pod) {
        let Some(s) = script(c) else { continue };
        let m = mounts(pod, c);
        for cmd in virt_doctor_commands(c) {
            analyses += 1;
            for index in 0..completions {
                // What Kubernetes gives each pod of an Indexed Job.
                let mut vars = env_values(c);
                vars.insert("JOB_COMPLETION_INDEX".into(), index.to_string());
                let what = format!("Job index {index}");
                let args = expand_all(&cmd.words, &vars, &what);
                assert_eq!(args[0], "analyze", "{args:?}");
                // Worker I of N takes shard I/N: N is the completion count,
                // or shards go unanalyzed (N larger) or fail (N smaller).
                assert_eq!(
                    flag_value(&args, "--shard"),
                    Some(format!("{index}/{completions}").as_str()),
                    "{what}: {args:?}"
                );
                let manifest = flag_value(&args, "--manifest").expect("--manifest");
                let dir = Path::new(manifest).parent().unwrap().to_str().unwrap();
                assert!(
                    matches!(m.get(dir), Some((_, true))),
                    "{what}: {dir} is not a read-only mount"
                );
                outputs.insert(check_written_then_moved(&what, &cmd, &s, &vars, &m));
            }
        }
    }
    assert_eq!(analyses, 1, "one virt-doctor analyze in the Job");
    assert_eq!(
        outputs.len() as u64,
        completions,
        "every index writes its own file: {outputs:?}"
    );
}

/// Kubernetes replaces `$(NAME)` in command and args only when NAME is in
/// the container's env; otherwise it stays, and a shell runs `NAME` as a
/// command.
#[test]
fn kubernetes_substitutes_only_declared_variables() {
    let Some(docs) = documents("kubernetes_substitutes_only_declared_variables") else {
        return;
    };
    let objs = objects(&docs);
    for (obj, pod) in pod_specs(&objs) {
        for c in containers(pod) {
            let declared: BTreeSet<&str> = list(c, "/env")
                .iter()
                .filter_map(|e| text(e, "/name"))
                .collect();
            for a in argv(c) {
                let mut rest = a.as_str();
                while let Some(at) = rest.find("$(") {
                    let escaped = at > 0 && rest.as_bytes()[at - 1] == b'$';
                    let after = &rest[at + 2..];
                    let name: String = after.chars().take_while(|&ch| is_name(ch)).collect();
                    let closed = after[name.len()..].starts_with(')');
                    if !escaped && closed && !name.is_empty() {
                        assert!(
                            declared.contains(name.as_str()),
                            "{} container {}: $({name}) is not in its env",
                            describe(obj),
                            c["name"]
                        );
                    }
                    rest = after;
                }
            }
        }
    }
}

#[test]
fn every_virt_doctor_command_line_uses_flags_that_exist() {
    let Some(docs) = documents("every_virt_doctor_command_line_uses_flags_that_exist") else {
        return;
    };
    let objs = objects(&docs);
    let mut checked = BTreeSet::new();
    for (obj, pod) in pod_specs(&objs) {
        let completions = obj
            .pointer("/spec/completions")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        for c in containers(pod) {
            for cmd in virt_doctor_commands(c) {
                for index in 0..completions {
                    let mut vars = env_values(c);
                    if text(obj, "/spec/completionMode") == Some("Indexed") {
                        vars.insert("JOB_COMPLETION_INDEX".into(), index.to_string());
                    }
                    let what = describe(obj);
                    let args = expand_all(&cmd.words, &vars, &what);
                    let sub = args[0].as_str();
                    let help = common::run(&[sub, "--help"]);
                    assert!(
                        help.status.success(),
                        "{what}: `virt-doctor {sub}` is not a subcommand: {}",
                        common::stderr(&help)
                    );
                    let help = common::stdout(&help);
                    for a in &args[1..] {
                        let flag = a.split('=').next().unwrap();
                        let known = if let Some(long) = flag.strip_prefix("--") {
                            help.match_indices(&format!("--{long}")).any(|(at, m)| {
                                !help[at + m.len()..]
                                    .starts_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '-')
                            })
                        } else if flag.len() == 2 && flag.starts_with('-') {
                            help.contains(&format!("{flag},"))
                        } else {
                            continue;
                        };
                        assert!(
                            known,
                            "{what}: `virt-doctor {sub} --help` has no {flag} (the manifest runs `virt-doctor {}`)",
                            args.join(" ")
                        );
                    }
                    // The whole command line as virt-doctor's own parser
                    // takes it: values of --format, --fail-on, --shard...
                    // are checked before --help is acted on.
                    let mut probe: Vec<&str> = args.iter().map(String::as_str).collect();
                    probe.push("--help");
                    let o = common::run(&probe);
                    assert!(
                        o.status.success(),
                        "{what}: virt-doctor rejects `{}`: {}",
                        args.join(" "),
                        common::stderr(&o)
                    );
                    checked.insert(sub.to_owned());
                }
            }
        }
    }
    assert_eq!(
        checked,
        BTreeSet::from(["analyze".to_owned(), "scan".to_owned()]),
        "the DaemonSet's scan and the Job's analyze"
    );
}

/// kubectl builds the directory as `kubectl apply -k` would, offline, and
/// gets the objects the files define, once each.
#[test]
fn kustomize_builds_the_directory() {
    let test = "kustomize_builds_the_directory";
    let Some(docs) = documents(test) else {
        return;
    };
    // Never required: CI installs no kubectl.
    let scratch = tempfile::tempdir().unwrap();
    let o = match Command::new("kubectl")
        .arg("kustomize")
        .arg(manifest_dir())
        // Whatever cluster this machine's kubeconfig names stays out of it:
        // kustomize needs none.
        .env("KUBECONFIG", scratch.path().join("no-kubeconfig"))
        .output()
    {
        Ok(o) => o,
        Err(_) => {
            say(&format!("SKIPPED {test}: kubectl is not installed"));
            return;
        }
    };
    assert!(
        o.status.success(),
        "kubectl kustomize: {}",
        common::stderr(&o)
    );
    let key = |d: &Value| {
        format!(
            "{} {} {}/{}",
            text(d, "/apiVersion").unwrap_or(""),
            text(d, "/kind").unwrap_or(""),
            text(d, "/metadata/namespace").unwrap_or(""),
            text(d, "/metadata/name").unwrap_or("")
        )
    };
    let built: Vec<String> = load_yaml(&["-".into()], Some(&o.stdout))
        .iter()
        .map(|(_, d)| key(d))
        .collect();
    let mut built_sorted = built.clone();
    built_sorted.sort();
    let mut defined: Vec<String> = objects(&docs).into_iter().map(key).collect();
    defined.sort();
    assert_eq!(built_sorted, defined);
}

// The shell reading above is what the manifest checks stand on: if it
// missed a command line, they would pass having checked nothing.

#[test]
fn shell_reading_finds_command_lines_and_their_output() {
    let s = "trap 'exit 0' TERM\n\
             while true; do\n\
               # virt-doctor in a comment is no command\n\
               if virt-doctor scan --sysroot /host \\\n  --format 'prom'\"etheus\" > \"/out/$NAME.tmp\"; then\n\
                 mv \"/out/$NAME.tmp\" /out/$NAME\n\
               else echo \"virt-doctor failed (exit $?)\" >&2; fi\n\
               x=$(virt-doctor --version) && virt-doctor analyze \"${A}\" 2>/dev/null | cat\n\
             done";
    let toks = tokenize(s);
    let found = commands_named(&toks, "virt-doctor");
    assert_eq!(found.len(), 2, "{found:?}");
    let vars = BTreeMap::from([
        ("NAME".to_owned(), "m".to_owned()),
        ("A".into(), "a b".into()),
    ]);
    assert_eq!(
        expand_all(&found[0].words, &vars, "test"),
        ["scan", "--sysroot", "/host", "--format", "prometheus"]
    );
    assert_eq!(
        found[0].stdout.as_ref().unwrap().expand(&vars).unwrap(),
        "/out/m.tmp"
    );
    assert_eq!(
        expand_all(&found[1].words, &vars, "test"),
        ["analyze", "a b"]
    );
    assert_eq!(found[1].stdout, None, "2> is not stdout");
    assert_eq!(
        moves(s, &vars),
        [("/out/m.tmp".to_owned(), "/out/m".to_owned())]
    );
    // A command substitution is reported, not guessed at.
    let sub = &tokenize("virt-doctor analyze --shard $(JOB_COMPLETION_INDEX)/4")[3];
    let Tok::Word(w) = sub else { panic!("{sub:?}") };
    assert!(w
        .expand(&vars)
        .unwrap_err()
        .contains("$(JOB_COMPLETION_INDEX)"));
}
