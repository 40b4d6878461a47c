//! Embed every rule file under rules/ into the binary, so the built-in
//! catalog needs no files at run time and adding a rule file needs no
//! code change.

use std::fs;
use std::path::Path;

fn collect(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p.to_string_lossy().into_owned());
        }
    }
}

/// `VAR=require`: what the variable names must be there, so the tests
/// that need it run (and fail without it) instead of being ignored.
fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "require")
}

fn main() {
    println!("cargo:rerun-if-changed=rules");
    // Tests that sweep the shared corpus run when it sits beside this
    // checkout (CI, developer machines). In a plain clone they are marked
    // ignored, with the reason shown in the test output, unless
    // VIRT_DOCTOR_CORPUS=require (set by .ci/run): then they run and fail,
    // so a CI machine without the corpus cannot pass silently.
    println!("cargo:rustc-check-cfg=cfg(corpus_tests)");
    println!("cargo:rerun-if-changed=../shared/corpus");
    println!("cargo:rerun-if-env-changed=VIRT_DOCTOR_CORPUS");
    if Path::new("../shared/corpus").is_dir() || required("VIRT_DOCTOR_CORPUS") {
        println!("cargo:rustc-cfg=corpus_tests");
    }
    // The read-only proof traces `scan` with strace (installed by `make
    // deps`); the same rule with VIRT_DOCTOR_STRACE=require. Whether
    // strace is found depends on PATH, so a changed PATH re-runs this.
    println!("cargo:rustc-check-cfg=cfg(strace_tests)");
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=VIRT_DOCTOR_STRACE");
    let strace = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("strace").is_file()))
        .unwrap_or(false);
    if strace || required("VIRT_DOCTOR_STRACE") {
        println!("cargo:rustc-cfg=strace_tests");
    }
    let mut files = Vec::new();
    collect(Path::new("rules"), &mut files);
    files.sort();
    let mut code = String::from("/// Built-in rule files: (path, contents).\npub static BUILTIN_RULES: &[(&str, &str)] = &[\n");
    for f in &files {
        code.push_str(&format!(
            "    ({f:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/\", {f:?}))),\n"
        ));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("builtin_rules.rs");
    fs::write(out, code).unwrap();
}
