//! What the `live` feature (libvirt, on by default) changes in the binary.
//! `make test` runs this file in both builds: the default one, and the
//! analyze-only one (`--no-default-features`), which must neither link
//! libvirt nor pretend to have asked it.

mod common;

use common::{run, stdout};

/// How many of the binary's shared libraries are libvirt's, as the
/// dynamic loader resolves them (`ldd`).
fn libvirt_libraries() -> usize {
    let o = std::process::Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_virt-doctor"))
        .output()
        .expect("ldd runs (libc-bin)");
    assert!(
        o.status.success(),
        "ldd: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    // Something is listed either way: an empty answer would pass the
    // check below without proving anything.
    assert!(text.contains("libc.so"), "ldd lists no libraries:\n{text}");
    text.lines().filter(|l| l.contains("libvirt")).count()
}

#[cfg(feature = "live")]
#[test]
fn the_default_build_links_libvirt() {
    assert!(libvirt_libraries() > 0);
    let version = stdout(&run(&["--version"]));
    assert!(!version.contains("without"), "{version}");
}

#[cfg(not(feature = "live"))]
#[test]
fn the_analyze_only_build_does_not_link_libvirt() {
    assert_eq!(libvirt_libraries(), 0);
    let version = stdout(&run(&["--version"]));
    assert!(
        version.contains("without libvirt: built without the `live` feature"),
        "{version}"
    );
}

/// Without libvirt, `scan` still reads the host's files and analyzes
/// them; it says on stderr that libvirt was not asked, and its capture
/// records why, as a skip: not as a libvirt that failed to answer, which
/// would raise HOST001 and send the operator after a healthy daemon.
#[cfg(not(feature = "live"))]
#[test]
fn without_libvirt_scan_and_collect_say_libvirt_was_not_asked() {
    use common::stderr;
    let host = "fixtures/hosts/healthy-2node";
    let scan = |connect: &[&str]| {
        let mut args = vec!["scan", "--sysroot", host, "--interval", "0"];
        args.extend(connect);
        args.extend(["--format", "json", "--fail-on", "never"]);
        run(&args)
    };
    let o = scan(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "note: this virt-doctor was built without the `live` feature (libvirt): libvirt at qemu:///system was not asked"
        ),
        "{}",
        stderr(&o)
    );
    let with_uri: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        with_uri["rule_errors"].as_array().unwrap().is_empty(),
        "{}",
        with_uri["rule_errors"]
    );
    let rules = |r: &serde_json::Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(!rules(&with_uri).contains(&"HOST001".to_owned()));

    // `--connect none` asks for exactly this: no note, the same findings.
    let o = scan(&["--connect", "none"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("live"), "{}", stderr(&o));
    let without: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(rules(&with_uri), rules(&without));

    // The capture says it too, for whoever analyzes it elsewhere.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("capture.tar.gz");
    let o = run(&[
        "collect",
        "--sysroot",
        host,
        "--interval",
        "0",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "(libvirt: skipped: this virt-doctor was built without the `live` feature (libvirt)"
        ),
        "{}",
        stderr(&o)
    );
    let facts = run(&["facts", out.to_str().unwrap()]);
    let facts: serde_json::Value = serde_json::from_str(&stdout(&facts)).unwrap();
    let libvirt = &facts["capture"]["libvirt"];
    assert_eq!(libvirt["status"], "skipped", "{libvirt}");
    assert_eq!(libvirt["uri"], "qemu:///system", "{libvirt}");
    assert!(
        libvirt["error"]
            .as_str()
            .unwrap()
            .starts_with("this virt-doctor was built without the `live` feature (libvirt)"),
        "{libvirt}"
    );
}
