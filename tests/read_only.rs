//! `scan` never changes the host it inspects: run it on this machine under
//! strace, following child processes (`dmesg`), and find no file opened for
//! writing (but `/dev/null`, where a child's unused stdin goes) and no call
//! that creates, removes, renames, truncates or re-permissions a file. The
//! scan includes everything `scan` does on a live host: libvirt through its
//! socket (when libvirtd runs), the `/dev/kvm` probe and two samples.
//!
//! Without strace the test is ignored, with that reason; CI sets
//! `VIRT_DOCTOR_STRACE=require`, which makes a missing strace a failure.

use std::process::Command;

const WRITE_CALLS: &[&str] = &[
    "creat",
    "mkdir",
    "mkdirat",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "truncate",
    "ftruncate",
    "rmdir",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "fchown",
    "fchownat",
];

#[test]
#[cfg_attr(
    not(strace_tests),
    ignore = "strace is not installed (`make deps` installs it)"
)]
fn scan_writes_nothing() {
    // Built to run without strace only when VIRT_DOCTOR_STRACE=require.
    assert!(
        Command::new("strace").arg("-V").output().is_ok(),
        "VIRT_DOCTOR_STRACE=require but strace is not on PATH (`make deps` installs it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    let calls = format!("open,openat,openat2,{}", WRITE_CALLS.join(","));
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", &format!("trace={calls}"), "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_virt-doctor"))
        .args(["scan", "--format", "json", "--fail-on", "never"])
        .output()
        .expect("strace runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(
        trace.contains("\"/proc/meminfo\", O_RDONLY"),
        "the trace must see the reads:\n{trace}"
    );
    // The KVM probe opens the device read-only (and is in the trace, so
    // the check below covers it).
    if std::path::Path::new("/dev/kvm").exists() {
        assert!(
            trace.contains("\"/dev/kvm\", O_RDONLY"),
            "the /dev/kvm probe must be read-only:\n{trace}"
        );
    }
    let violations: Vec<&str> = trace
        .lines()
        .filter(|l| {
            let call = l
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.split('(').next())
                .unwrap_or("");
            let writes_open = call.starts_with("open")
                && ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"]
                    .iter()
                    .any(|f| l.contains(f))
                && !l.contains("\"/dev/null\"");
            writes_open || WRITE_CALLS.contains(&call)
        })
        .collect();
    assert!(
        violations.is_empty(),
        "scan wrote to the host:\n{}",
        violations.join("\n")
    );
}
