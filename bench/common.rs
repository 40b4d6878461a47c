//! What every benchmark shares: whether this run measures or only checks.
//!
//! `cargo bench` passes `--bench`: the benchmark runs at its full size and
//! reports its figures. `cargo test` runs the same program without it (the
//! targets have `test = true`): a small size, one round, every assertion
//! executed, so a benchmark that stopped measuring what it claims fails
//! the test suite instead of waiting for the next person to run it.
//!
//! Each benchmark includes this file as its own module and uses part of it.
#![allow(dead_code)]

/// True under `cargo bench`.
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Under `cargo test NAME`, a benchmark whose name does not contain the
/// filter stays out of the way (it cannot take part in libtest's own
/// filtering, having no harness).
pub fn filtered_out(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let out = !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str()));
    if out {
        println!("{name}: filtered out");
    }
    out
}

/// `VAR=require` (set by `.ci/run`): what the variable stands for must be
/// there, so a benchmark that would skip fails instead.
pub fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "require")
}

/// A size from the environment, else the full or the smoke default.
pub fn size(var: &str, full: u64, smoke: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring() { full } else { smoke })
}

/// Run `command` to its end: its exit code, wall seconds and its own peak
/// RSS in KiB (from `wait4`, so other children, such as ripgrep, do not
/// count). Give it a file or null for stdout: a pipe nobody reads blocks.
// The child is reaped by `wait4`, which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn measured(command: &mut std::process::Command) -> (i32, f64, u64) {
    let started = std::time::Instant::now();
    let child = command.spawn().expect("the command starts");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child's, and both pointers are valid.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(pid, child.id() as i32);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, seconds, usage.ru_maxrss as u64)
}

/// Every file below `root`: its path relative to `root`, and its bytes,
/// sorted by path.
pub fn read_tree(root: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    fn walk(
        root: &std::path::Path,
        dir: &std::path::Path,
        out: &mut Vec<(std::path::PathBuf, Vec<u8>)>,
    ) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push((
                    p.strip_prefix(root).unwrap().to_owned(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// The detail of the status of the log at `path` in a JSON report
/// (`N lines read`, with any cut lines or read error).
pub fn log_detail(report: &serde_json::Value, path: &str) -> Option<serde_json::Value> {
    report["sources"]
        .as_array()?
        .iter()
        .find(|s| s["id"] == "log" && s["path"] == path)
        .map(|s| s["detail"].clone())
}

/// A syslog line (RFC 3164 stamp, then host and body) for line `i` of a
/// generated file, a hundred lines a second from midnight.
pub fn syslog_line(i: usize, host: &str, body: &str) -> String {
    let secs = i / 100;
    format!(
        "Nov 24 {:02}:{:02}:{:02} {host} {body}\n",
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60
    )
}
