//! The live host and extracted snapshot directories.

use std::fs;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::resolve::{Node, Tree};
use super::{Contents, ReadError};

pub struct FsTree {
    root: PathBuf,
}

impl FsTree {
    pub fn new(root: PathBuf) -> FsTree {
        FsTree { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    pub fn read(&self, rel: &str, limit: u64) -> Result<Contents, ReadError> {
        // O_NOFOLLOW: the path was resolved link by link already; if a link
        // appeared since, refuse rather than follow it. O_NONBLOCK: never
        // hang on a FIFO that replaced a file after we looked.
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(self.path(rel))
            .map_err(io_error)?;
        read_limited(file, limit)
    }

    pub fn stream(&self, rel: &str) -> Result<super::Stream<'static>, ReadError> {
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(self.path(rel))
            .map_err(io_error)?;
        let modified = file
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_secs()).ok());
        Ok(super::Stream {
            reader: Box::new(file),
            modified,
        })
    }

    pub fn list(&self, rel: &str) -> Result<Vec<(String, Node)>, ReadError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.path(rel)).map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            out.push((name, self.lstat(&child)?));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

impl Tree for FsTree {
    fn lstat(&self, rel: &str) -> Result<Node, ReadError> {
        let meta = match fs::symlink_metadata(self.path(rel)) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Node::Missing),
            Err(e) => return Err(io_error(e)),
        };
        let ft = meta.file_type();
        Ok(if ft.is_symlink() {
            let target = fs::read_link(self.path(rel)).map_err(io_error)?;
            Node::Symlink(target.to_string_lossy().into_owned())
        } else if ft.is_dir() {
            Node::Dir
        } else if ft.is_file() {
            Node::File { size: meta.len() }
        } else {
            // Devices, FIFOs, sockets.
            Node::Special
        })
    }

    fn small_text(&self, rel: &str) -> Option<String> {
        let c = self.read(rel, 4096).ok()?;
        String::from_utf8(c.bytes).ok()
    }
}

fn io_error(e: std::io::Error) -> ReadError {
    if e.kind() == std::io::ErrorKind::NotFound {
        ReadError::NotFound
    } else {
        ReadError::Io(e.to_string())
    }
}

fn read_limited(reader: impl Read, limit: u64) -> Result<Contents, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    let truncated = bytes.len() as u64 > limit;
    bytes.truncate(limit as usize);
    Ok(Contents { bytes, truncated })
}

/// Run `argv` with a deadline; the child is killed when it passes.
pub fn run_command(argv: &[&str], limit: u64, timeout: Duration) -> Result<Contents, ReadError> {
    let (program, args) = argv.split_first().ok_or(ReadError::NotFound)?;
    let mut child = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Io(format!("cannot run `{}`: {e}", argv.join(" "))),
        })?;
    let stdout = child.stdout.take().expect("stdout was piped");
    let reader = std::thread::spawn(move || read_limited(stdout, limit));
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ReadError::Io(format!(
                    "`{}` did not finish within {}s",
                    argv.join(" "),
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(ReadError::Io(e.to_string())),
        }
    }
    reader
        .join()
        .unwrap_or_else(|_| Err(ReadError::Io("reader thread failed".into())))
}
