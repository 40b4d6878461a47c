//! Tar archives (`.tar`, `.tar.gz`, `.tar.xz`), read in one streaming pass.
//!
//! A customer's sosreport arrives as `sosreport-host-2024-01-01.tar.xz` with
//! one top-level directory. We never unpack it into a directory tree: that
//! would write files to the analyst's machine and open the classic tar
//! traps (`../` entries, links out of the tree). Instead the entries become
//! an in-memory index that the same link-by-link resolver walks. Entries
//! that could only mean harm (absolute paths, `..`, non-UTF-8 names) are
//! refused and named in the snapshot's notices; the analysis goes on with
//! the rest.
//!
//! Small files (the `/proc` and `/sys` captures, domain XML, command
//! output: thousands of them, most under a page) are kept in memory. Large
//! members (logs, journals: a 3 GiB `messages` is not rare) are copied as
//! they stream past into one anonymous temporary file (`tempfile`, which
//! the OS deletes when it is closed, even after a crash), and read back
//! from there, so memory stays flat whatever the archive holds and the end
//! of a huge log is still analyzed. The archive is read once either way:
//! a compressed stream cannot be rewound.
//!
//! Compression is detected from the first bytes, not the file name, so a
//! `.tgz` or a misnamed file works too.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use super::resolve::{components, Node, Tree};
use super::{Contents, ReadError};

/// Caps on what one archive may make us hold. Reaching one is reported,
/// never silent.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// All members together, in memory and spilled to the temporary file.
    pub max_total_bytes: u64,
    /// One member.
    pub max_file_bytes: u64,
    pub max_entries: usize,
    /// Members larger than this are spilled to the temporary file.
    pub spill_over: u64,
    /// Small members are kept in memory until they take this much; the
    /// rest are spilled too.
    pub max_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // Disk, not memory, past `max_memory_bytes`: the caps only
            // stop an archive bomb from filling the analyst's disk.
            max_total_bytes: 64 << 30,
            max_file_bytes: 32 << 30,
            max_entries: 1_000_000,
            spill_over: 4 << 20,
            max_memory_bytes: 128 << 20,
        }
    }
}

/// Without a temporary file, the most of one member held in memory.
const NO_SPILL_FILE_CAP: u64 = 512 << 20;

/// Where a member's bytes are.
#[derive(Clone)]
enum Data {
    Memory(Vec<u8>),
    /// `len` bytes at `offset` in the spill file.
    Spilled {
        file: Arc<File>,
        offset: u64,
        len: u64,
    },
}

impl Data {
    fn len(&self) -> u64 {
        match self {
            Data::Memory(d) => d.len() as u64,
            Data::Spilled { len, .. } => *len,
        }
    }
}

enum Entry {
    File {
        data: Data,
        truncated: bool,
        /// Modification time from the tar header, Unix seconds.
        mtime: Option<i64>,
    },
    Dir,
    Symlink(String),
    Special,
}

/// A spilled member read back: positioned reads, so that any number of
/// readers share the one file.
struct SpillReader {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for SpillReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = (buf.len() as u64).min(self.end - self.pos) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the temporary copy of an archive member ended early",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

pub struct ArchiveTree {
    entries: BTreeMap<String, Entry>,
    pub notices: Vec<String>,
}

/// Directory names that sit at the root of a snapshot; a single top-level
/// directory with one of these names is content, not a wrapper to strip.
const ROOT_NAMES: &[&str] = &[
    "proc",
    "sys",
    "etc",
    "var",
    "run",
    "dev",
    "usr",
    "sos_commands",
];

impl ArchiveTree {
    /// An archive from any reader; `path` only names it in messages (a
    /// file, or the fuzzer's bytes in memory).
    pub fn from_reader(
        mut file: impl Read,
        limits: Limits,
        path: &Path,
    ) -> anyhow::Result<ArchiveTree> {
        let mut magic = [0u8; 6];
        let n = read_fully(&mut file, &mut magic)?;
        let head = std::io::Cursor::new(magic[..n].to_vec()).chain(file);
        let reader: Box<dyn Read + '_> = if magic.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::read::MultiGzDecoder::new(head))
        } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Box::new(xz2::read::XzDecoder::new_multi_decoder(head))
        } else {
            Box::new(head)
        };
        let mut raw = Raw::default();
        raw.read(reader, limits, path)?;
        Ok(raw.finish())
    }

    /// A tree of files held in memory already: a `virt-doctor collect`
    /// capture that `scan` analyzes without writing it anywhere. Paths are
    /// relative and confined (the collector builds them); parents are
    /// implied.
    pub fn from_files(
        files: impl IntoIterator<Item = (String, Vec<u8>, Option<i64>)>,
    ) -> ArchiveTree {
        let mut entries = BTreeMap::new();
        for (path, data, mtime) in files {
            for parent in parents(&path) {
                entries.entry(parent).or_insert(Entry::Dir);
            }
            entries.insert(
                path,
                Entry::File {
                    data: Data::Memory(data),
                    truncated: false,
                    mtime,
                },
            );
        }
        ArchiveTree {
            entries,
            notices: Vec::new(),
        }
    }

    /// The tree below directory `sub`, as its own root: a sosreport found
    /// one or two directories down in what the user pointed at.
    pub fn descend(self, sub: &str) -> ArchiveTree {
        let prefix = format!("{sub}/");
        let entries = self
            .entries
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_owned(), v)))
            .collect();
        ArchiveTree {
            entries,
            notices: self.notices,
        }
    }

    pub fn read(&self, rel: &str, limit: u64) -> Result<Contents, ReadError> {
        match self.entries.get(rel) {
            Some(Entry::File {
                data, truncated, ..
            }) => {
                let keep = data.len().min(limit);
                let bytes = match data {
                    Data::Memory(d) => d[..keep as usize].to_vec(),
                    Data::Spilled { file, offset, .. } => {
                        let mut bytes = vec![0; keep as usize];
                        file.read_exact_at(&mut bytes, *offset)
                            .map_err(|e| ReadError::Io(e.to_string()))?;
                        bytes
                    }
                };
                Ok(Contents {
                    bytes,
                    truncated: *truncated || data.len() > limit,
                })
            }
            _ => Err(ReadError::NotFound),
        }
    }

    /// A reader over a file's bytes, wherever they are kept, and its
    /// modification time.
    pub fn stream(&self, rel: &str) -> Result<(Box<dyn Read + Send + '_>, Option<i64>), ReadError> {
        match self.entries.get(rel) {
            Some(Entry::File { data, mtime, .. }) => {
                let reader: Box<dyn Read + Send + '_> = match data {
                    Data::Memory(d) => Box::new(d.as_slice()),
                    Data::Spilled { file, offset, len } => Box::new(SpillReader {
                        file: Arc::clone(file),
                        pos: *offset,
                        end: offset + len,
                    }),
                };
                Ok((reader, *mtime))
            }
            _ => Err(ReadError::NotFound),
        }
    }

    pub fn list(&self, rel: &str) -> Result<Vec<(String, Node)>, ReadError> {
        let prefix = if rel.is_empty() {
            String::new()
        } else {
            format!("{rel}/")
        };
        let mut out = Vec::new();
        for (key, _) in self.entries.range(prefix.clone()..) {
            let Some(rest) = key.strip_prefix(&prefix) else {
                break;
            };
            if !rest.is_empty() && !rest.contains('/') {
                out.push((rest.to_owned(), self.lstat(key)?));
            }
        }
        Ok(out)
    }
}

impl Tree for ArchiveTree {
    fn lstat(&self, rel: &str) -> Result<Node, ReadError> {
        if rel.is_empty() {
            return Ok(Node::Dir);
        }
        Ok(match self.entries.get(rel) {
            None => Node::Missing,
            Some(Entry::Dir) => Node::Dir,
            Some(Entry::File { data, .. }) => Node::File { size: data.len() },
            Some(Entry::Symlink(t)) => Node::Symlink(t.clone()),
            Some(Entry::Special) => Node::Special,
        })
    }

    fn small_text(&self, rel: &str) -> Option<String> {
        match self.entries.get(rel) {
            Some(Entry::File {
                data: Data::Memory(data),
                ..
            }) if data.len() < 4096 => String::from_utf8(data.clone()).ok(),
            _ => None,
        }
    }
}

fn read_fully(r: &mut impl Read, buf: &mut [u8]) -> anyhow::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Entries as read, before the wrapper directory is stripped.
#[derive(Default)]
struct Raw {
    entries: Vec<(String, Entry)>,
    hardlinks: Vec<(String, String)>,
    notices: Vec<String>,
    /// The temporary file large members go to, made when the first one
    /// comes, and how much it holds.
    spill: Option<Arc<File>>,
    spilled: u64,
    /// No temporary file could be made: large members stay in memory.
    no_spill: bool,
    in_memory: u64,
}

impl Raw {
    fn read(
        &mut self,
        reader: Box<dyn Read + '_>,
        limits: Limits,
        path: &Path,
    ) -> anyhow::Result<()> {
        // The tar crate's errors quote the header bytes they choked on:
        // for a file that is not an archive those are its contents (a
        // line of /etc/passwd, binary junk), which never belong in a
        // message. Say what was expected instead.
        let not_an_archive = || {
            anyhow::anyhow!(
                "{} is neither a directory nor a tar archive (.tar, .tar.gz or .tar.xz): its first block is not a tar header",
                path.display()
            )
        };
        let mut archive = tar::Archive::new(reader);
        let iter = archive.entries().map_err(|_| not_an_archive())?;
        let mut total: u64 = 0;
        let mut count = 0usize;
        for (index, entry) in iter.enumerate() {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) if index == 0 && e.kind() != std::io::ErrorKind::UnexpectedEof => {
                    return Err(not_an_archive())
                }
                Err(_) if index == 0 => anyhow::bail!(
                    "{} ends before its first tar header: an empty or cut archive",
                    path.display()
                ),
                Err(e)
                    if e.kind() == std::io::ErrorKind::InvalidData
                        || e.kind() == std::io::ErrorKind::Other =>
                {
                    self.notices.push(format!(
                        "archive ends early after {index} entries: entry {} has a damaged header",
                        index + 1
                    ));
                    break;
                }
                Err(e) => {
                    self.notices
                        .push(format!("archive ends early after {index} entries: {e}"));
                    break;
                }
            };
            count += 1;
            if count > limits.max_entries {
                self.notices.push(format!(
                    "archive has more than {} entries; the rest were not read",
                    limits.max_entries
                ));
                break;
            }
            let name_bytes = entry.path_bytes().into_owned();
            let Ok(name) = String::from_utf8(name_bytes.clone()) else {
                self.notices.push(format!(
                    "entry {} skipped: its name ({} bytes) is not UTF-8",
                    index + 1,
                    name_bytes.len()
                ));
                continue;
            };
            let Some(rel) = safe_relative(&name) else {
                self.notices.push(format!(
                    "entry `{name}` refused: absolute or `..` path would leave the snapshot"
                ));
                continue;
            };
            let kind = entry.header().entry_type();
            let link = || {
                entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            };
            let node = if kind.is_file() {
                let mut budget = limits
                    .max_file_bytes
                    .min(limits.max_total_bytes.saturating_sub(total));
                let size = entry.size();
                let spill = size > limits.spill_over
                    || self.in_memory + size.min(budget) > limits.max_memory_bytes;
                let spill = spill && self.spill_file().is_some();
                if self.no_spill {
                    budget = budget.min(NO_SPILL_FILE_CAP);
                }
                let read = if spill {
                    self.spill(&mut (&mut entry).take(budget))
                } else {
                    let mut data = Vec::new();
                    let r = (&mut entry).take(budget).read_to_end(&mut data);
                    self.in_memory += data.len() as u64;
                    match r {
                        Ok(_) => Ok(Data::Memory(data)),
                        Err(e) => Err((e.to_string(), Some(Data::Memory(data)))),
                    }
                };
                let data = match read {
                    Ok(d) => d,
                    Err((e, partial)) => {
                        self.notices
                            .push(format!("entry `{name}` could not be read completely: {e}"));
                        if let Some(data) = partial {
                            self.entries.push((
                                rel,
                                Entry::File {
                                    data,
                                    truncated: true,
                                    mtime: None,
                                },
                            ));
                        }
                        break;
                    }
                };
                total += data.len();
                let truncated = data.len() < size;
                if truncated {
                    self.notices.push(format!(
                        "entry `{name}` was cut at {} of {size} bytes (per-file cap {} MiB, total cap {} MiB)",
                        data.len(),
                        limits.max_file_bytes >> 20,
                        limits.max_total_bytes >> 20
                    ));
                }
                let mtime = entry
                    .header()
                    .mtime()
                    .ok()
                    .and_then(|m| i64::try_from(m).ok());
                Entry::File {
                    data,
                    truncated,
                    mtime,
                }
            } else if kind.is_dir() {
                Entry::Dir
            } else if kind.is_symlink() {
                match link() {
                    Some(t) => Entry::Symlink(t),
                    None => continue,
                }
            } else if kind.is_hard_link() {
                if let Some(t) = link() {
                    self.hardlinks.push((rel, t));
                }
                continue;
            } else if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
                Entry::Special
            } else {
                continue;
            };
            self.entries.push((rel, node));
        }
        Ok(())
    }

    /// The temporary file large members go to, made when the first one
    /// comes. Where none can be made (no writable temporary directory),
    /// that is said once and large members are kept in memory instead,
    /// under the same caps.
    fn spill_file(&mut self) -> Option<Arc<File>> {
        if self.spill.is_none() && !self.no_spill {
            match tempfile::tempfile() {
                Ok(f) => self.spill = Some(Arc::new(f)),
                Err(e) => {
                    self.no_spill = true;
                    self.notices.push(format!(
                        "no temporary file for large members ({e}; TMPDIR says where): they are held in memory, at most {} MiB each",
                        NO_SPILL_FILE_CAP >> 20
                    ));
                }
            }
        }
        self.spill.clone()
    }

    /// Copy a member to the end of the spill file. On failure, the error
    /// and whatever part was written.
    fn spill(&mut self, member: &mut impl Read) -> Result<Data, (String, Option<Data>)> {
        let file = self
            .spill_file()
            .ok_or_else(|| ("no temporary file".to_owned(), None))?;
        let offset = self.spilled;
        let mut buf = vec![0u8; 1 << 20];
        let mut len = 0u64;
        let result = loop {
            let n = match member.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e.to_string()),
            };
            if let Err(e) = (&*file).write_all(&buf[..n]) {
                break Err(format!("the temporary file could not take it: {e}"));
            }
            len += n as u64;
        };
        self.spilled += len;
        let data = Data::Spilled { file, offset, len };
        match result {
            Ok(()) => Ok(data),
            Err(e) => Err((e, Some(data))),
        }
    }

    fn finish(self) -> ArchiveTree {
        let Raw {
            entries,
            hardlinks,
            mut notices,
            ..
        } = self;
        let strip = wrapper_dir(&entries);
        let unwrap = |p: &str| -> Option<String> {
            match &strip {
                None => Some(p.to_owned()),
                Some(top) if p == top => None,
                Some(top) => p.strip_prefix(&format!("{top}/")).map(str::to_owned),
            }
        };
        let mut tree: BTreeMap<String, Entry> = BTreeMap::new();
        for (path, entry) in entries {
            let Some(path) = unwrap(&path) else { continue };
            for parent in parents(&path) {
                tree.entry(parent).or_insert(Entry::Dir);
            }
            // Duplicate entries: the later one wins, as when tar extracts.
            tree.insert(path, entry);
        }
        for (path, target) in hardlinks {
            let (Some(path), Some(target)) = (
                unwrap(&path),
                safe_relative(&target).and_then(|t| unwrap(&t)),
            ) else {
                notices.push(format!(
                    "hard link `{path}` -> `{target}` refused: target outside the snapshot"
                ));
                continue;
            };
            let copy = match tree.get(&target) {
                Some(Entry::File {
                    data,
                    truncated,
                    mtime,
                }) => Entry::File {
                    data: data.clone(),
                    truncated: *truncated,
                    mtime: *mtime,
                },
                _ => {
                    notices.push(format!(
                        "hard link `{path}` -> `{target}` skipped: no such file earlier in the archive"
                    ));
                    continue;
                }
            };
            for parent in parents(&path) {
                tree.entry(parent).or_insert(Entry::Dir);
            }
            tree.insert(path, copy);
        }
        ArchiveTree {
            entries: tree,
            notices,
        }
    }
}

/// The one top-level directory a sosreport tarball wraps its tree in.
fn wrapper_dir(entries: &[(String, Entry)]) -> Option<String> {
    let mut top: Option<&str> = None;
    for (path, entry) in entries {
        let first = path.split('/').next().unwrap_or("");
        let is_leaf_at_top = !path.contains('/') && !matches!(entry, Entry::Dir);
        if is_leaf_at_top {
            return None;
        }
        match top {
            None => top = Some(first),
            Some(t) if t == first => {}
            Some(_) => return None,
        }
    }
    top.filter(|t| !ROOT_NAMES.contains(t)).map(str::to_owned)
}

fn parents(path: &str) -> Vec<String> {
    let parts: Vec<&str> = path.split('/').collect();
    (1..parts.len()).map(|i| parts[..i].join("/")).collect()
}

/// `./a/b` -> `a/b`; refuses absolute paths and any `..` component.
fn safe_relative(name: &str) -> Option<String> {
    if name.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for c in components(name) {
        if c == ".." {
            return None;
        }
        parts.push(c);
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_confined() {
        assert_eq!(
            safe_relative("./proc/meminfo").as_deref(),
            Some("proc/meminfo")
        );
        assert_eq!(safe_relative("/etc/passwd"), None);
        assert_eq!(safe_relative("a/../../etc/passwd"), None);
        assert_eq!(safe_relative("./"), None);
    }

    #[test]
    fn strips_one_wrapper_directory_but_not_a_root_name() {
        let e = |p: &str| (p.to_owned(), Entry::Dir);
        assert_eq!(
            wrapper_dir(&[e("sosreport-x"), e("sosreport-x/proc")]).as_deref(),
            Some("sosreport-x")
        );
        assert_eq!(wrapper_dir(&[e("proc"), e("proc/sys")]), None);
        assert_eq!(wrapper_dir(&[e("a/proc"), e("b/sys")]), None);
    }
}
