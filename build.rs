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

fn main() {
    println!("cargo:rerun-if-changed=rules");
    // Tests that sweep the shared corpus run when it sits beside this
    // checkout (CI, developer machines) and are marked ignored, with the
    // reason shown in the test output, in a plain clone.
    println!("cargo:rustc-check-cfg=cfg(has_corpus)");
    println!("cargo:rerun-if-changed=../shared/corpus");
    if Path::new("../shared/corpus").is_dir() {
        println!("cargo:rustc-cfg=has_corpus");
    }
    // The read-only proof traces `scan` with strace (installed by `make deps`).
    println!("cargo:rustc-check-cfg=cfg(has_strace)");
    let strace = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("strace").is_file()))
        .unwrap_or(false);
    if strace {
        println!("cargo:rustc-cfg=has_strace");
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
