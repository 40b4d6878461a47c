//! Memory flat in an archive's size: a `.tar.gz` sosreport whose 1 GiB
//! `var/log/messages` ends with a QEMU OOM kill, and a `.tar.xz` whose
//! `messages` is 3 GiB, analyzed by the real binary (`analyze ARCHIVE`,
//! every rule) with its own peak RSS from `wait4`.
//!
//! The archive is read in one streaming pass; members over 4 MiB are
//! copied into an anonymous temporary file as they stream past and read
//! back from there (src/snapshot/archive.rs). Target: peak RSS at most
//! 256 MiB whatever the archive's size, figures in bench/README.md.
//!
//! `cargo bench --bench archive_flat` builds both (the 3 GiB xz takes a
//! few minutes to compress; `ARCHIVE_BENCH_MIB` and `ARCHIVE_BENCH_XZ_MIB`
//! for other sizes). Under `cargo test`: 8 and 16 MiB. Both ways it
//! asserts that the OOM kill on the log's last line is found (with its
//! line number) and that every line was read.

#[path = "common.rs"]
mod common;

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Write `mib` MiB of ordinary syslog lines and then the OOM kill; the
/// number of lines.
fn write_log(path: &Path, mib: u64) -> u64 {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let (mut written, mut lines) = (0u64, 0u64);
    while written < mib << 20 {
        let line = common::syslog_line(
            lines as usize,
            "hv01",
            &format!("systemd[1]: Started Session {lines} of user deploy."),
        );
        w.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        lines += 1;
    }
    w.write_all(b"Nov 24 23:59:59 hv01 kernel: Out of memory: Killed process 6021 (qemu-kvm) total-vm:17432112kB, anon-rss:16123904kB\n").unwrap();
    w.flush().unwrap();
    lines + 1
}

fn write_archive(
    out: &mut dyn Write,
    host: &[(PathBuf, Vec<u8>)],
    log: &Path,
) -> std::io::Result<()> {
    let mut tar = tar::Builder::new(out);
    for (rel, bytes) in host {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(
            &mut header,
            format!("sosreport-hv01/{}", rel.display()),
            bytes.as_slice(),
        )?;
    }
    let mut file = std::fs::File::open(log)?;
    tar.append_file("sosreport-hv01/var/log/messages", &mut file)?;
    tar.finish()
}

fn main() {
    if common::filtered_out("archive_flat") {
        return;
    }
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hosts/healthy-2node");
    let host: Vec<_> = common::read_tree(&base)
        .into_iter()
        .filter(|(rel, _)| !rel.starts_with("var/log/messages"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for (ext, mib) in [
        ("tar.gz", common::size("ARCHIVE_BENCH_MIB", 1024, 8)),
        ("tar.xz", common::size("ARCHIVE_BENCH_XZ_MIB", 3072, 16)),
    ] {
        let log = dir.path().join("messages");
        let lines = write_log(&log, mib);
        let archive = dir.path().join(format!("sosreport-hv01.{ext}"));
        let file = BufWriter::new(std::fs::File::create(&archive).unwrap());
        if ext == "tar.gz" {
            let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
            write_archive(&mut gz, &host, &log).unwrap();
            gz.finish().unwrap().flush().unwrap();
        } else {
            let mut xz = xz2::write::XzEncoder::new(file, 0);
            write_archive(&mut xz, &host, &log).unwrap();
            xz.finish().unwrap().flush().unwrap();
        }
        std::fs::remove_file(&log).unwrap();
        let size = std::fs::metadata(&archive).unwrap().len();
        let out_path = dir.path().join("report.json");
        let (code, seconds, rss) = common::measured(
            Command::new(env!("CARGO_BIN_EXE_virt-doctor"))
                .arg("analyze")
                .arg(&archive)
                .args(["--format", "json", "--fail-on", "never"])
                .stdout(std::fs::File::create(&out_path).unwrap()),
        );
        assert_eq!(code, 0, "virt-doctor exited with {code}");
        let mut text = String::new();
        std::fs::File::open(&out_path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        let report: serde_json::Value = serde_json::from_str(&text).unwrap();
        let oom = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "LOG001")
            .unwrap_or_else(|| panic!("{ext}: the OOM kill at the end of the log is found"));
        assert_eq!(oom["events"], 1);
        assert_eq!(oom["evidence"][0]["line"], lines);
        assert_eq!(
            common::log_detail(&report, "var/log/messages"),
            Some(serde_json::json!(format!("{lines} lines read"))),
            "{ext}: every line read"
        );
        println!(
            "{ext}: {} MiB archive, {mib} MiB log ({lines} lines, the OOM kill on the last): analyze {seconds:.2} s = {:.0} MB/s of log, peak RSS {} MiB",
            size >> 20,
            (mib << 20) as f64 / 1e6 / seconds,
            rss / 1024
        );
        std::fs::remove_file(&archive).unwrap();
    }
}
