//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use virt_doctor::facts::{self, Facts};
use virt_doctor::snapshot::Snapshot;

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

pub fn facts_of(path: &Path) -> Facts {
    facts::gather(&Snapshot::open(path).expect("snapshot opens"))
}

/// `VAR=require` (set by `.ci/run`): what the variable names must be
/// there, and a test that would skip without it fails instead.
pub fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "require")
}

/// A line on the test run's own stderr, past the test harness's output
/// capture (which only takes `print!`/`eprint!`), so a skip or the
/// accelerator the end-to-end test chose shows in every run, passing or
/// not.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The shared corpus beside this checkout (CI and developer machines).
/// Without it the test says SKIPPED and gets `None`, or, with
/// `VIRT_DOCTOR_CORPUS=require`, fails.
pub fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if p.is_dir() {
        return Some(p);
    }
    assert!(
        !required("VIRT_DOCTOR_CORPUS"),
        "{test}: VIRT_DOCTOR_CORPUS=require but {} is not there",
        p.display()
    );
    say(&format!(
        "SKIPPED {test}: ../shared/corpus is not present beside this checkout"
    ));
    None
}

pub fn source<'a>(f: &'a Facts, id: &str) -> &'a virt_doctor::sources::SourceStatus {
    f.sources
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no source {id}"))
}

/// Pack `dir` as a tar archive below one top-level directory named `top`,
/// the way sosreport does, compressed as `kind` says.
pub fn pack(dir: &Path, top: &str, kind: &str, out: &Path) {
    let file = std::fs::File::create(out).unwrap();
    let writer: Box<dyn std::io::Write> = match kind {
        "gz" => Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        )),
        "xz" => Box::new(xz2::write::XzEncoder::new(file, 1)),
        _ => Box::new(file),
    };
    let mut b = tar::Builder::new(writer);
    b.follow_symlinks(false);
    b.append_dir_all(top, dir).unwrap();
    b.into_inner().unwrap().flush().unwrap();
}

/// Copy a fixture tree, to change one thing in a scratch copy.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A scratch snapshot holding these files (path relative to its root,
/// contents).
pub fn snapshot_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, data) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    dir
}

/// The JSON report of `analyze PATH --select SELECT`.
pub fn analyze_selected(path: &Path, select: &str) -> serde_json::Value {
    let o = run(&[
        "analyze",
        path.to_str().unwrap(),
        "--select",
        select,
        "--format",
        "json",
    ]);
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

/// The rule of each finding of a JSON report, in report order.
pub fn rules_of(report: &serde_json::Value) -> Vec<String> {
    rules_and_subjects(report)
        .into_iter()
        .map(|(rule, _)| rule)
        .collect()
}

/// (rule, subject) of each finding of a JSON report, in report order.
pub fn rules_and_subjects(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// (rule, subject, `field`) of each finding of a JSON report.
pub fn findings_with(
    report: &serde_json::Value,
    field: &str,
) -> std::collections::BTreeSet<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap().to_owned(),
                f[field].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Run the virt-doctor binary in the repository root, as in a pipe: no
/// colour, and the width a pipe gets whatever the caller's COLUMNS.
pub fn run(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_virt-doctor"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        // English, whatever the caller's locale (tests/translations.rs
        // sets it where the language is what is tested).
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .output()
        .expect("virt-doctor runs")
}

pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file of a gzip tarball (a `collect` capture): (path, bytes).
pub fn tarball_entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
    tar::Archive::new(gz)
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, data)
        })
        .collect()
}

/// `virt-doctor ARGS` in the repository root with only the environment
/// given deciding width, colour and language (the caller's COLUMNS,
/// NO_COLOR and locale are removed), stdout piped.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_virt-doctor"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for var in [
        "COLUMNS",
        "NO_COLOR",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "LC_MESSAGES",
        "LC_CTYPE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("virt-doctor runs")
}

/// Every rule file of the built-in catalog (`rules/**/*.toml`), sorted.
pub fn rule_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
        &mut out,
    );
    out.sort();
    out
}

/// Every scenario host with a golden file (`fixtures/hosts/*/expected.json`).
pub fn scenario_hosts() -> Vec<PathBuf> {
    let mut hosts: Vec<PathBuf> = std::fs::read_dir(fixture("hosts"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    hosts.sort();
    assert!(hosts.len() >= 12, "{hosts:?}");
    hosts
}

/// The libvirtd the end-to-end tests use (tests/libvirt_e2e.rs,
/// tests/plan_apply.rs): the system instance, as root.
pub const SYSTEM_URI: &str = "qemu:///system";

/// `virsh -c qemu:///system ARGS`.
pub fn virsh(args: &[&str]) -> std::process::Output {
    std::process::Command::new("virsh")
        .arg("-c")
        .arg(SYSTEM_URI)
        .args(args)
        .output()
        .expect("virsh runs")
}

/// Why this machine cannot run a test against libvirtd, if it cannot: not
/// root, one of `tools` (program, what it is) missing, or libvirtd not
/// answering at qemu:///system.
pub fn libvirtd_unavailable(tools: &[(&str, &str)]) -> Option<String> {
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    for (program, what) in tools {
        if std::process::Command::new(program)
            .arg("--version")
            .output()
            .is_err()
        {
            return Some(format!("{what} is not installed"));
        }
    }
    match std::process::Command::new("virsh")
        .args(["-c", SYSTEM_URI, "version"])
        .output()
    {
        Err(_) => Some("virsh is not installed".into()),
        Ok(o) if !o.status.success() => Some(format!(
            "libvirtd does not answer at {SYSTEM_URI}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => None,
    }
}
