//! `collect`: capture a running host as a snapshot.
//!
//! A capture is the sos-style tree `analyze` reads: the host's own files
//! (chosen by walking the source table, so the collector can never read
//! less than the analysis wants), libvirt's answers under
//! `sos_commands/virsh/`, two runtime samples under `virt-doctor/samples/`,
//! and `virt-doctor.json` saying how the capture went. `scan` analyzes the
//! capture in memory and `collect -o` writes it, so the two give the same
//! findings by construction.
//!
//! Nothing here writes to the host: files are opened read-only, libvirt
//! through a read-only connection, `/dev/kvm` read-only for one ioctl that
//! only asks a question. The only file ever created is `-o`'s, mode 0600.
//!
//! Everything is bounded: each source's reads by [`SOURCE_TIMEOUT`], the
//! logs by [`LOGS_TIMEOUT`] and `--max-log-bytes`, commands (`dmesg`) by 10
//! seconds, libvirt by `--libvirt-timeout`. What was cut or given up is
//! said in `virt-doctor.json`.
//!
//! Asking libvirt needs its C library, so it is the `live` feature (on by
//! default). A build without it still captures the host's files and
//! samples, and its `virt-doctor.json` says libvirt was not asked, and
//! why ([`WITHOUT_LIBVIRT`]).

#[cfg(feature = "live")]
pub mod libvirt;
mod probe;
pub mod redact;
#[cfg(test)]
mod round_trip;
mod sample;
pub mod virsh;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::parse::capture::kvm::KvmProbe;
use crate::parse::capture::paths;
use crate::parse::capture::{CaptureInfo, LibvirtInfo, Redactions, SourceTiming};
use crate::snapshot::{resolve::Node, Kind, ReadError, Snapshot};
use crate::sources::{Locator, Source, SOURCES};

/// Whether this build can ask libvirt (the `live` feature).
pub const LIBVIRT: bool = cfg!(feature = "live");
/// Why a build without the `live` feature does not ask libvirt.
pub const WITHOUT_LIBVIRT: &str = "this virt-doctor was built without the `live` feature (libvirt)";

#[derive(Clone)]
pub struct Options {
    /// Root of the host's files: `/`, or a mounted host (`--sysroot`).
    pub sysroot: PathBuf,
    /// libvirt URI; `None` skips libvirt (`--connect none`).
    pub connect: Option<String>,
    /// Seconds between the two runtime samples; 0 skips sampling.
    pub interval: f64,
    /// All logs together keep at most this many bytes, newest first.
    pub max_log_bytes: u64,
    pub redact_hosts: bool,
    /// How long libvirt may take to answer everything.
    pub libvirt_timeout: Duration,
}

/// One captured file.
struct File {
    data: Vec<u8>,
    mtime: Option<i64>,
}

pub struct Capture {
    files: BTreeMap<String, File>,
    pub info: CaptureInfo,
}

impl Capture {
    fn add(&mut self, path: String, data: Vec<u8>, mtime: Option<i64>) {
        self.files.insert(path, File { data, mtime });
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|f| f.data.as_slice())
    }

    /// The capture as a snapshot to analyze (what `scan` does).
    pub fn into_snapshot(self, kind: Kind, origin: &Path) -> Snapshot {
        let files = self
            .files
            .into_iter()
            .map(|(path, f)| (path, f.data, f.mtime))
            .collect();
        Snapshot::in_memory(kind, origin, files)
    }

    /// Write the capture as a gzip tarball at `path`, created with mode
    /// 0600 (it describes the host's configuration; only its owner should
    /// read it). The tree sits under one top directory, as in a sosreport.
    /// The capture as a tar archive at `path`, mode 0600, compressed as
    /// asked; an existing file is replaced only when `overwrite`.
    pub fn write_archive(
        &self,
        path: &Path,
        compression: Compression,
        overwrite: bool,
    ) -> anyhow::Result<()> {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // O_NOFOLLOW: as root, writing through a symlink someone planted
        // at the output path (in /tmp, say) would clobber its target.
        // create_new makes "refuse to overwrite" atomic.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(overwrite)
            .create_new(!overwrite)
            .truncate(overwrite)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
        // An existing file keeps its mode on open; make it 0600 too.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| anyhow::anyhow!("cannot set the mode of {}: {e}", path.display()))?;
        let top = format!(
            "virt-doctor-{}-{}",
            self.info.hostname.as_deref().unwrap_or("host"),
            self.info.captured_at.replace(':', "")
        );
        let err = |e: std::io::Error| anyhow::anyhow!("writing {}: {e}", path.display());
        // Each encoder is finished explicitly: dropping one finishes its
        // stream too, but swallows the error of a full disk.
        let file = match compression {
            Compression::None => self
                .append_all(std::io::BufWriter::new(file), &top, path)?
                .into_inner()
                .map_err(|e| err(e.into_error()))?,
            Compression::Gzip => self
                .append_all(
                    flate2::write::GzEncoder::new(file, flate2::Compression::default()),
                    &top,
                    path,
                )?
                .finish()
                .map_err(err)?,
            Compression::Xz => self
                .append_all(xz2::write::XzEncoder::new(file, 6), &top, path)?
                .finish()
                .map_err(err)?,
        };
        file.sync_all().map_err(err)
    }

    /// Every captured file into a tar stream on `writer`, below `top/`.
    fn append_all<W: Write>(&self, writer: W, top: &str, path: &Path) -> anyhow::Result<W> {
        let mut tar = tar::Builder::new(writer);
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        for (rel, f) in &self.files {
            let mut header = tar::Header::new_gnu();
            header.set_size(f.data.len() as u64);
            header.set_mode(0o600);
            header.set_mtime(f.mtime.map_or(now, |m| m.max(0) as u64));
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, format!("{top}/{rel}"), f.data.as_slice())
                .map_err(|e| anyhow::anyhow!("writing {}: {rel}: {e}", path.display()))?;
        }
        tar.into_inner()
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))
    }
}

/// How a capture is compressed: as its file name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Xz,
}

impl Compression {
    /// `.tar`, `.tar.gz` or `.tgz`, `.tar.xz`; anything else is refused,
    /// since a name that lies about its contents misleads whoever opens
    /// the file next (and `analyze` reads it by its content anyway).
    pub fn of(path: &Path) -> anyhow::Result<Compression> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Ok(Compression::Gzip)
        } else if name.ends_with(".tar.xz") || name.ends_with(".txz") {
            Ok(Compression::Xz)
        } else if name.ends_with(".tar") {
            Ok(Compression::None)
        } else {
            anyhow::bail!(
                "{}: name the capture .tar, .tar.gz or .tar.xz (its compression follows the name)",
                path.display()
            )
        }
    }
}

/// Progress lines on stderr, only when a person is watching it.
struct Progress {
    on: bool,
}

impl Progress {
    fn say(&self, what: &str) {
        if self.on {
            // Ignored when stderr is closed: progress is not worth a panic.
            let _ = writeln!(std::io::stderr(), "virt-doctor: {what}");
        }
    }
}

/// Capture the host below `opts.sysroot`.
pub fn collect(opts: &Options) -> Capture {
    let progress = Progress {
        on: std::io::stderr().is_terminal(),
    };
    let root = Arc::new(Snapshot::live_at(&opts.sysroot));
    let on_this_host = opts.sysroot == Path::new("/");
    let mut cap = Capture {
        files: BTreeMap::new(),
        info: CaptureInfo {
            tool: "virt-doctor".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            captured_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            sysroot: opts.sysroot.display().to_string(),
            interval_seconds: 0.0,
            ..CaptureInfo::default()
        },
    };

    // The first runtime sample is taken first so the interval overlaps
    // the rest of the collection instead of adding to it.
    let sampler = (opts.interval > 0.0).then(|| {
        progress.say("taking the first runtime sample");
        sample::Sampler::start(&root)
    });

    progress.say("reading host files");
    copy_host_files(&root, on_this_host, opts.max_log_bytes, &mut cap);
    cap.info.hostname = cap
        .file("proc/sys/kernel/hostname")
        .or_else(|| cap.file("etc/hostname"))
        .map(|b| String::from_utf8_lossy(b).trim().to_owned());

    if let Ok(groups) = root.list("sys/kernel/iommu_groups") {
        cap.add(
            paths::IOMMU_GROUPS.into(),
            iommu_groups_text(groups.len()).into_bytes(),
            None,
        );
    }
    if on_this_host {
        let answer = probe::kvm_api_version(Path::new("/dev/kvm"));
        cap.add(paths::KVM.into(), kvm_text(&answer).into_bytes(), None);
    }

    cap.info.libvirt = match &opts.connect {
        None => LibvirtInfo {
            status: "skipped".into(),
            ..LibvirtInfo::default()
        },
        Some(uri) => {
            progress.say(&format!("asking libvirt at {uri} (read-only)"));
            ask_libvirt(uri, opts.libvirt_timeout, &mut cap)
        }
    };

    if let Some(sampler) = sampler {
        let wait = Duration::from_secs_f64(opts.interval);
        let elapsed = sampler.started.elapsed();
        if elapsed < wait {
            progress.say(&format!(
                "waiting {:.1}s for the second runtime sample",
                (wait - elapsed).as_secs_f64()
            ));
            std::thread::sleep(wait - elapsed);
        }
        let (files, interval) = sampler.finish(&root);
        for (path, data) in files {
            cap.add(path, data, None);
        }
        cap.info.interval_seconds = interval;
    }

    let mut secrets = 0;
    for f in cap.files.values_mut() {
        secrets += redact::secrets(&mut f.data);
    }
    if opts.redact_hosts {
        let mut names = redact::HostNames::from_capture(cap.info.hostname.as_deref(), || {
            cap.files
                .iter()
                .map(|(p, f)| (p.as_str(), f.data.as_slice()))
        });
        for f in cap.files.values_mut() {
            names.apply(&mut f.data);
        }
        if let Some(h) = cap.info.hostname.as_mut() {
            let mut bytes = std::mem::take(h).into_bytes();
            names.apply(&mut bytes);
            *h = String::from_utf8_lossy(&bytes).into_owned();
        }
        // A remote URI and libvirt's error about it name hosts too.
        let libvirt = &mut cap.info.libvirt;
        for text in [libvirt.uri.as_mut(), libvirt.error.as_mut()]
            .into_iter()
            .flatten()
        {
            let mut bytes = std::mem::take(text).into_bytes();
            names.apply(&mut bytes);
            *text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    cap.info.redactions = Redactions {
        secrets,
        hosts: opts.redact_hosts,
    };
    let info = info_json(&cap.info);
    cap.add(paths::INFO.into(), info, None);
    cap
}

/// [`paths::INFO`]: the capture's description of itself.
fn info_json(info: &CaptureInfo) -> Vec<u8> {
    serde_json::to_vec_pretty(info).expect("capture info serialises")
}

/// [`paths::IOMMU_GROUPS`]: how many IOMMU groups the host has.
fn iommu_groups_text(groups: usize) -> String {
    format!("{groups}\n")
}

/// [`paths::KVM`]: what the probe of `/dev/kvm` answered.
fn kvm_text(probe: &KvmProbe) -> String {
    match probe {
        KvmProbe::Absent => "absent\n".into(),
        KvmProbe::ApiVersion(v) => format!("api_version={v}\n"),
        KvmProbe::Error(name, message) if message.is_empty() => format!("error={name}\n"),
        KvmProbe::Error(name, message) => format!("error={name}: {message}\n"),
    }
}

/// [`paths::DEVICES`]: each device node (`dev/kvm`) and whether it exists.
fn devices_text(devices: &[(&str, bool)]) -> String {
    devices
        .iter()
        .map(|(path, present)| {
            let word = if *present { "present" } else { "absent" };
            format!("{path} {word}\n")
        })
        .collect()
}

/// libvirt's answers at `uri` into the capture, and how asking went.
#[cfg(feature = "live")]
fn ask_libvirt(uri: &str, timeout: Duration, cap: &mut Capture) -> LibvirtInfo {
    let start = Instant::now();
    let answer = libvirt::ask(uri, timeout);
    let milliseconds = start.elapsed().as_millis() as u64;
    match answer {
        Ok(a) => {
            for (path, data) in a.files {
                cap.add(path, data, None);
            }
            LibvirtInfo {
                uri: Some(uri.to_owned()),
                status: "ok".into(),
                error: None,
                domains: a.domains,
                milliseconds,
                errors: a.errors,
            }
        }
        Err(e) => LibvirtInfo {
            uri: Some(uri.to_owned()),
            status: match e {
                libvirt::AskError::Unreachable(_) => "unreachable".into(),
                libvirt::AskError::Timeout(_) => "timeout".into(),
            },
            error: Some(e.to_string()),
            domains: 0,
            milliseconds,
            errors: Vec::new(),
        },
    }
}

/// Without the `live` feature there is no libvirt client to ask: said in
/// the capture as a skip with its reason, not as a libvirt that failed to
/// answer (HOST001 would then send the operator to check a daemon that
/// may be fine).
#[cfg(not(feature = "live"))]
fn ask_libvirt(uri: &str, _timeout: Duration, _cap: &mut Capture) -> LibvirtInfo {
    LibvirtInfo {
        uri: Some(uri.to_owned()),
        status: "skipped".into(),
        error: Some(format!(
            "{WITHOUT_LIBVIRT}: libvirt was not asked; domains were read from their files only"
        )),
        ..LibvirtInfo::default()
    }
}

/// Candidate prefixes that a host never has as files: command output
/// (sosreport, insights) and what a capture writes itself.
const CAPTURE_ONLY: &[&str] = &["sos_commands/", "insights_commands/", paths::OWN];

/// How long one source's files may take to read. Files under /proc and
/// /sys answer at once; this bounds the odd one that does not (a hung
/// NFS-backed log directory, a process stuck in the kernel).
const SOURCE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long all logs together may take to read.
const LOGS_TIMEOUT: Duration = Duration::from_secs(60);

/// What reading one source produced, handed back from its thread.
#[derive(Default)]
struct SourceRead {
    files: Vec<(String, Vec<u8>, Option<i64>)>,
    notices: Vec<String>,
    timing: SourceTiming,
    /// Log files found (path, size), read later under the log cap.
    logs: Vec<(String, u64)>,
}

/// Run `work` on its own thread and wait at most `timeout`. A read that
/// never returns cannot be cancelled, so its thread is left behind and the
/// capture goes on without it; the caller says what was given up.
fn bounded<T: Send + 'static>(
    timeout: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("collect".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .ok()?;
    rx.recv_timeout(timeout).ok()
}

/// Copy every file the source table would read, source by source, each
/// source on a thread bounded by [`SOURCE_TIMEOUT`].
fn copy_host_files(
    root: &Arc<Snapshot>,
    on_this_host: bool,
    max_log_bytes: u64,
    cap: &mut Capture,
) {
    let mut logs: Vec<(String, u64)> = Vec::new();
    for source in SOURCES {
        // Command output and the capture's own files are not the host's
        // files: libvirt, the probe and the sampler write those.
        if !source.candidates.iter().any(|c| match c.at {
            Locator::File(p) | Locator::Names(p) => !CAPTURE_ONLY.iter().any(|x| p.starts_with(x)),
            Locator::Exists(_) => true,
        }) {
            continue;
        }
        let start = Instant::now();
        let tree = Arc::clone(root);
        let Some(read) = bounded(SOURCE_TIMEOUT, move || read_source(&tree, source)) else {
            cap.info.sources.push(SourceTiming {
                id: source.id.to_owned(),
                status: "unreadable".into(),
                milliseconds: start.elapsed().as_millis() as u64,
                errors: vec![format!(
                    "reading did not finish within {}s; the capture went on without it",
                    SOURCE_TIMEOUT.as_secs()
                )],
                ..SourceTiming::default()
            });
            continue;
        };
        for (path, data, mtime) in read.files {
            if !cap.files.contains_key(&path) {
                cap.add(path, data, mtime);
            }
        }
        cap.info.notices.extend(read.notices);
        for log in read.logs {
            if !logs.iter().any(|(p, _)| *p == log.0) {
                logs.push(log);
            }
        }
        let mut timing = read.timing;
        timing.milliseconds = start.elapsed().as_millis() as u64;
        cap.info.sources.push(timing);
    }
    let start = Instant::now();
    let mut timing = SourceTiming {
        id: "logs".into(),
        ..SourceTiming::default()
    };
    // The kernel ring buffer has no file on most hosts; sos keeps it as
    // `sos_commands/kernel/dmesg`, and so do we.
    if on_this_host && !logs.iter().any(|(p, _)| p == "var/log/dmesg") {
        match root.run(&["dmesg"], max_log_bytes) {
            Ok(c) => {
                timing.files += 1;
                timing.bytes += c.bytes.len() as u64;
                cap.add(paths::DMESG.into(), c.bytes, None);
            }
            Err(e) => timing.errors.push(format!("`dmesg`: {e}")),
        }
    }
    let tree = Arc::clone(root);
    let budget = max_log_bytes.saturating_sub(timing.bytes);
    match bounded(LOGS_TIMEOUT, move || {
        copy_logs(&tree, logs, budget, max_log_bytes)
    }) {
        Some(read) => {
            for (path, data, mtime) in read.files {
                cap.add(path, data, mtime);
            }
            cap.info.notices.extend(read.notices);
            timing.files += read.timing.files;
            timing.bytes += read.timing.bytes;
            timing.errors.extend(read.timing.errors);
        }
        None => timing.errors.push(format!(
            "reading the logs did not finish within {}s; the capture went on without them",
            LOGS_TIMEOUT.as_secs()
        )),
    }
    timing.milliseconds = start.elapsed().as_millis() as u64;
    timing.status = capture_status(&timing);
    if let Some(t) = cap.info.sources.iter_mut().find(|t| t.id == "logs") {
        *t = timing;
    } else {
        cap.info.sources.push(timing);
    }
}

/// Read one source's host files (see [`copy_host_files`]).
fn read_source(root: &Snapshot, source: &Source) -> SourceRead {
    let mut out = SourceRead {
        timing: SourceTiming {
            id: source.id.to_owned(),
            ..SourceTiming::default()
        },
        ..SourceRead::default()
    };
    for candidate in source.candidates {
        match candidate.at {
            Locator::File(pattern) | Locator::Names(pattern)
                if CAPTURE_ONLY.iter().any(|x| pattern.starts_with(x)) => {}
            Locator::File(pattern) => {
                for m in root.glob(pattern) {
                    if out.files.iter().any(|(p, _, _)| *p == m.path) {
                        continue;
                    }
                    match root.read(&m.path, source.max_bytes) {
                        Ok(c) => {
                            if c.truncated {
                                out.notices.push(format!(
                                    "{}: only the first {} MiB were captured",
                                    m.path,
                                    source.max_bytes >> 20
                                ));
                            }
                            out.timing.files += 1;
                            out.timing.bytes += c.bytes.len() as u64;
                            out.files.push((m.path, c.bytes, None));
                        }
                        // Gone between listing and reading (a process
                        // that exited): not worth a word.
                        Err(ReadError::NotFound) => {}
                        Err(e) => out.timing.errors.push(format!("{}: {e}", m.path)),
                    }
                }
            }
            // A tree without /dev (a captured tree used as sysroot) says
            // nothing about devices: better unknown than absent.
            Locator::Exists(_) if !matches!(root.stat("dev"), Ok(Node::Dir)) => {}
            Locator::Exists(nodes) => {
                let devices: Vec<(&str, bool)> = nodes
                    .iter()
                    .map(|p| (*p, root.stat(p).is_ok_and(|n| n != Node::Missing)))
                    .collect();
                out.timing.files += 1;
                out.files.push((
                    paths::DEVICES.into(),
                    devices_text(&devices).into_bytes(),
                    None,
                ));
            }
            Locator::Names(pattern) => {
                for m in root.glob(pattern) {
                    if let Ok(Node::File { size }) = root.stat(&m.path) {
                        out.logs.push((m.path, size));
                    }
                }
            }
        }
    }
    out.timing.status = capture_status(&out.timing);
    // Error lists are for reading, not an inventory of /proc.
    if out.timing.errors.len() > 5 {
        let more = out.timing.errors.len() - 5;
        out.timing.errors.truncate(5);
        out.timing
            .errors
            .push(format!("{more} more unreadable files"));
    }
    out
}

fn capture_status(t: &SourceTiming) -> String {
    match (t.files, t.errors.is_empty()) {
        (0, true) => "missing",
        (0, false) => "unreadable",
        _ => "ok",
    }
    .into()
}

/// Logs are the only unbounded input, so they share one byte budget:
/// newest files first, and a file that does not fit whole keeps its end
/// (the newest lines). Compressed rotations are kept whole or not at all.
/// Everything cut is named in the capture's notices.
fn copy_logs(
    root: &Snapshot,
    mut logs: Vec<(String, u64)>,
    budget: u64,
    cap_bytes: u64,
) -> SourceRead {
    let mut out = SourceRead::default();
    let mtime = |p: &str| root.stream(p).ok().and_then(|s| s.modified).unwrap_or(0);
    let mut dated: Vec<(i64, String, u64)> = logs
        .drain(..)
        .map(|(p, size)| (mtime(&p), p, size))
        .collect();
    dated.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut left = budget;
    let mut skipped: Vec<String> = Vec::new();
    for (modified, path, size) in dated {
        let compressed = path.ends_with(".gz") || path.ends_with(".xz");
        let keep = if size <= left {
            size
        } else if !compressed && left > 0 {
            left
        } else {
            skipped.push(path);
            continue;
        };
        let mut stream = match root.stream(&path) {
            Ok(s) => s,
            Err(e) => {
                out.timing.errors.push(format!("{path}: {e}"));
                continue;
            }
        };
        let mut data = Vec::with_capacity(keep as usize);
        let skip = size - keep;
        let read = std::io::copy(&mut (&mut stream.reader).take(skip), &mut std::io::sink())
            .and_then(|_| (&mut stream.reader).take(keep).read_to_end(&mut data));
        if let Err(e) = read {
            out.timing.errors.push(format!("{path}: {e}"));
            continue;
        }
        if skip > 0 {
            // Start at a whole line.
            if let Some(nl) = memchr::memchr(b'\n', &data) {
                data.drain(..=nl);
            }
            out.notices.push(format!(
                "{path}: log cap (--max-log-bytes {cap_bytes}) reached: kept the last {} of {} bytes",
                data.len(),
                size
            ));
        }
        left -= keep;
        out.timing.files += 1;
        out.timing.bytes += data.len() as u64;
        out.files.push((path, data, Some(modified)));
    }
    if !skipped.is_empty() {
        out.notices.push(format!(
            "log cap (--max-log-bytes {cap_bytes}) reached: {} older log files left out: {}",
            skipped.len(),
            skipped.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_never_returns_is_given_up_at_its_timeout() {
        let start = Instant::now();
        let never = bounded(Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(30));
        });
        assert!(never.is_none());
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(bounded(Duration::from_secs(5), || 7), Some(7));
    }
}
