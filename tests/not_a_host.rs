//! What the user points at is not always a host: an empty directory, an
//! unrelated tarball, a text file, the support case's folder with the
//! sosreport inside, a snapshot that lacks whole kinds of data. None of
//! these may come back as a clean bill of health, and no error may echo
//! the file's bytes.
//!
//! The `/etc/passwd` used here is written in that file's exact format with
//! the entries Debian's base-passwd package creates on every system.

mod common;

use std::fs;
use std::path::Path;

use common::{run, stderr, stdout};

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
bin:x:2:2:bin:/bin:/usr/sbin/nologin\n\
sys:x:3:3:sys:/dev:/usr/sbin/nologin\n";

fn analyze(path: &Path) -> std::process::Output {
    run(&["analyze", path.to_str().unwrap(), "--format", "json"])
}

/// No report, exit 2, and the message says what was looked for.
fn assert_no_host(out: &std::process::Output, path: &Path) {
    assert_eq!(out.status.code(), Some(2), "{}", stdout(out));
    assert!(stdout(out).is_empty(), "no report: {}", stdout(out));
    let err = stderr(out);
    assert!(
        err.contains(&format!("no host data found in {}", path.display())),
        "{err}"
    );
    for looked_for in [
        "proc/meminfo",
        "proc/cpuinfo",
        "run/libvirt/qemu/*.xml",
        "var/log/messages*",
    ] {
        assert!(err.contains(looked_for), "names {looked_for}: {err}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_dir(&e.path(), &target);
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(e.path()).unwrap(), &target).unwrap();
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[test]
fn an_empty_directory_is_not_a_healthy_host() {
    let tmp = tempfile::tempdir().unwrap();
    assert_no_host(&analyze(tmp.path()), tmp.path());
}

#[test]
fn unrelated_files_and_an_unrelated_tarball_are_not_hosts() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    fs::create_dir_all(docs.join("notes/2026")).unwrap();
    fs::write(docs.join("README.md"), "# Team notes\n").unwrap();
    fs::write(docs.join("notes/2026/standup.txt"), "nothing to report\n").unwrap();
    assert_no_host(&analyze(&docs), &docs);
    let tarball = tmp.path().join("docs.tar.gz");
    common::pack(&docs, "docs", "gz", &tarball);
    assert_no_host(&analyze(&tarball), &tarball);
}

#[test]
fn a_text_file_or_binary_junk_is_refused_without_echoing_it() {
    let tmp = tempfile::tempdir().unwrap();
    let passwd = tmp.path().join("passwd");
    fs::write(&passwd, PASSWD).unwrap();
    let out = analyze(&passwd);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("is neither a directory nor a tar archive (.tar, .tar.gz or .tar.xz)"),
        "{err}"
    );
    assert!(
        !err.contains("root:x"),
        "the file's bytes were echoed: {err}"
    );
    let junk = tmp.path().join("junk.bin");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    fs::write(&junk, bytes).unwrap();
    let err = stderr(&analyze(&junk));
    assert!(err.contains("its first block is not a tar header"), "{err}");
    assert!(
        err.chars().all(|c| !c.is_control() || c == '\n') && !err.contains('\u{fffd}'),
        "binary bytes in the error: {err:?}"
    );
}

#[test]
fn a_file_in_the_wrong_format_is_named_with_its_line_not_echoed() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("proc")).unwrap();
    fs::write(tmp.path().join("proc/meminfo"), PASSWD).unwrap();
    let out = analyze(tmp.path());
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let meminfo = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "meminfo")
        .unwrap();
    assert_eq!(meminfo["status"], "malformed");
    let detail = meminfo["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(
            "proc/meminfo:1: expected `Name: number [kB]`, found a line of 31 characters (and 3 more problems)"
        ),
        "{detail}"
    );
    assert!(!detail.contains("root"), "{detail}");
}

#[test]
fn the_sosreport_inside_a_case_folder_is_found_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case-03141592");
    let sos = case.join("sosreport-compute4-2022-02-10-abcdef");
    copy_dir(&common::fixture("hosts/hotsos-compute"), &sos);
    fs::write(
        case.join("customer-notes.txt"),
        "slow guests since Monday\n",
    )
    .unwrap();
    let out = analyze(&case);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "no host data in {} itself; analyzing {}, the one snapshot below it",
            case.display(),
            sos.display()
        )),
        "{}",
        stderr(&out)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["target"]["path"], sos.display().to_string());
    assert_eq!(report["target"]["hostname"], "compute4");

    // The same tree in a tarball with a second wrapper directory.
    let tarball = tmp.path().join("case.tar.xz");
    common::pack(&case, "case-03141592", "xz", &tarball);
    let out = analyze(&tarball);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("analyzing ")
            && stderr(&out).contains("sosreport-compute4-2022-02-10-abcdef"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn two_sosreports_or_only_a_tarball_below_is_a_question_not_a_guess() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    copy_dir(
        &common::fixture("hosts/hotsos-compute"),
        &case.join("sosreport-a"),
    );
    copy_dir(&common::fixture("hosts/storage"), &case.join("sosreport-b"));
    let out = analyze(&case);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "no host data in {} itself, and 2 snapshots below it; did you mean {} or {}?",
            case.display(),
            case.join("sosreport-a").display(),
            case.join("sosreport-b").display()
        )),
        "{}",
        stderr(&out)
    );
    let only_tarball = tmp.path().join("case2");
    fs::create_dir_all(&only_tarball).unwrap();
    common::pack(
        &common::fixture("hosts/storage"),
        "sosreport-c",
        "gz",
        &only_tarball.join("sosreport-c.tar.gz"),
    );
    let out = analyze(&only_tarball);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "did you mean {}?",
            only_tarball.join("sosreport-c.tar.gz").display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_partial_snapshot_says_what_it_lacks_above_the_findings() {
    // hwloc's real capture of a 4-node Opteron: CPUs and NUMA only.
    let host = common::fixture("hosts/hwloc-8amd64-4n2c");
    let table = run(&["analyze", host.to_str().unwrap()]);
    assert!(
        stdout(&table).starts_with(
            "note: partial snapshot, no memory, no domain definitions, no logs: findings that\n  need them cannot appear\n"
        ),
        "{}",
        stdout(&table)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&analyze(&host))).unwrap();
    let coverage = &report["coverage"];
    assert_eq!(coverage["partial"], true);
    let missing: Vec<&str> = coverage["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["what"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["memory", "domain definitions", "logs"]);
    let memory = &coverage["missing"][0];
    assert_eq!(memory["sources"], serde_json::json!(["meminfo"]));
    assert!(
        memory["why"]
            .as_str()
            .unwrap()
            .contains("looked for proc/meminfo, sos_commands/memory/free"),
        "{memory}"
    );
    let cpuinfo = coverage["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "cpuinfo")
        .unwrap();
    assert_eq!(cpuinfo["status"], "ok");
    assert_eq!(cpuinfo["why"], "read from proc/cpuinfo");

    // A complete snapshot has no note.
    let full = run(&["analyze", "fixtures/hosts/hotsos-compute"]);
    assert!(
        !stdout(&full).contains("partial snapshot"),
        "{}",
        stdout(&full)
    );
    let r: serde_json::Value = serde_json::from_str(&stdout(&run(&[
        "analyze",
        "fixtures/hosts/hotsos-compute",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(r["coverage"]["partial"], false);
}
