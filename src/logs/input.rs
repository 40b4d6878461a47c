//! Which logs are read, and how each one is opened and timed.

use super::time::{Clock, Format};
use crate::facts::Facts;
use crate::snapshot::{Kind, Snapshot, Stream};
use crate::sources::{LogFile, SourceStatus, Status};

/// The logs the facts list; on the live host, also the kernel ring
/// buffer, which is a command's output there, not a file (unless
/// something saved it to /var/log/dmesg).
pub struct Inputs {
    pub logs: Vec<LogFile>,
    ring_buffer: Option<Vec<u8>>,
}

/// How the ring buffer is named where a path would be.
const RING_BUFFER: &str = "`dmesg` (kernel ring buffer)";

impl Inputs {
    pub fn new(snap: &Snapshot, facts: &Facts, statuses: &mut Vec<SourceStatus>) -> Inputs {
        let mut logs = facts.logs.clone();
        let mut ring_buffer = None;
        if snap.is_running_host() && !logs.iter().any(|l| l.kind == "dmesg") {
            match snap.run(&["dmesg"], 64 << 20) {
                Ok(c) => {
                    ring_buffer = Some(c.bytes);
                    logs.push(LogFile {
                        kind: "dmesg",
                        path: RING_BUFFER.into(),
                        bytes: None,
                    });
                }
                Err(e) => statuses.push(status("`dmesg`", Status::Unreadable, e.to_string())),
            }
        }
        Inputs { logs, ring_buffer }
    }

    /// The bytes of one of the logs.
    pub fn open<'s>(&mut self, snap: &'s Snapshot, log: &LogFile) -> Result<Stream<'s>, String> {
        if log.path == RING_BUFFER {
            return Ok(Stream {
                reader: Box::new(std::io::Cursor::new(
                    self.ring_buffer.take().unwrap_or_default(),
                )),
                modified: None,
            });
        }
        snap.stream(&log.path).map_err(|e| e.to_string())
    }
}

/// The clock a file's stamps are read with. Year-less stamps are placed
/// before the moment the snapshot was taken, which, unlike a file's
/// modification time after extraction or checkout, does not move; on the
/// live host that is now. (A journal export says itself when it ends,
/// which beats both: see `time::journal_header_end`.)
pub fn clock(snap: &Snapshot, facts: &Facts, stream: &Stream, now: i64) -> Clock {
    Clock {
        boot_time: facts.host.boot_time,
        reference: facts
            .host
            .captured_at
            .or((snap.kind() == Kind::Live).then_some(now))
            .or(stream.modified),
    }
}

pub fn format_of(kind: &str) -> Format {
    match kind {
        "dmesg" => Format::Dmesg,
        "qemu" | "libvirtd" => Format::Libvirt,
        _ => Format::Syslog,
    }
}

/// The domain a QEMU log belongs to: `var/log/libvirt/qemu/<name>.log[.N][.gz]`.
pub fn qemu_log_domain(path: &str) -> Option<String> {
    let file = path.rsplit('/').next()?;
    file.find(".log").map(|i| file[..i].to_owned())
}

pub fn status(path: &str, status: Status, detail: String) -> SourceStatus {
    SourceStatus {
        id: "log".into(),
        path: Some(path.to_owned()),
        status,
        detail: Some(detail),
        files: 1,
    }
}
