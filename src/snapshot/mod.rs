//! One reader for every place a host's files can come from.
//!
//! A snapshot is a sos-style tree: the host's own paths relative to a root
//! (`proc/meminfo`, `etc/libvirt/qemu/web01.xml`) plus `sos_commands/` for
//! command output. The live host is the tree rooted at `/`; an extracted
//! sosreport or a `virt-doctor collect` capture is a directory; a `.tar`,
//! `.tar.gz` or `.tar.xz` of either is read in one pass into an index,
//! small files in memory and large ones in an anonymous temporary file
//! (nothing is unpacked into a directory). Parsers only ever see
//! [`Snapshot`], so none of them knows or
//! cares which of the three it is reading.

mod archive;
mod fs;
mod glob;
pub mod resolve;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use archive::Limits;
pub use glob::Match;
use resolve::{Node, Policy, Tree};

/// Why a path could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    /// Reading it would leave the snapshot, or it is not a regular file.
    Refused(String),
    /// The OS refused (permissions, I/O error): the message is the OS error.
    Io(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("not found"),
            ReadError::Refused(m) => write!(f, "refused: {m}"),
            ReadError::Io(m) => f.write_str(m),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Live,
    Directory,
    Archive,
}

/// A file opened for streaming (logs of any size).
pub struct Stream<'a> {
    pub reader: Box<dyn std::io::Read + 'a>,
    /// Modification time, Unix seconds, where the snapshot keeps one.
    pub modified: Option<i64>,
}

/// Bytes read from one file, and whether the read stopped at the limit.
#[derive(Debug)]
pub struct Contents {
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

enum Backend {
    Fs(fs::FsTree),
    Archive(archive::ArchiveTree),
}

/// How links are followed in a captured tree (directory or archive):
/// absolute links and `..` past the root are refused, and sysfs links
/// stored as text files are followed where a directory is needed.
const CAPTURED: Policy = Policy {
    absolute_links: false,
    clamp_parent: false,
    link_files: true,
};

pub struct Snapshot {
    kind: Kind,
    origin: PathBuf,
    backend: Backend,
    policy: Policy,
    /// Things noticed while opening the snapshot (archive entries refused,
    /// caps reached). Reported as the `snapshot` source.
    notices: Vec<String>,
}

impl Snapshot {
    /// The running host, read at `/`.
    pub fn live() -> Snapshot {
        Snapshot::live_at(Path::new("/"))
    }

    /// A running host whose root is mounted at `root` (`--sysroot`, as in
    /// sos: a container looking at its host's `/`, or a test's tree).
    /// Read with the live host's link policy: absolute links resolve
    /// inside `root`.
    pub fn live_at(root: &Path) -> Snapshot {
        Snapshot {
            kind: Kind::Live,
            origin: root.to_owned(),
            backend: Backend::Fs(fs::FsTree::new(root.to_owned())),
            policy: Policy {
                absolute_links: true,
                clamp_parent: true,
                link_files: false,
            },
            notices: Vec::new(),
        }
    }

    /// A captured tree: a directory, or a tar archive (plain, gzip or xz).
    pub fn open(path: &Path) -> anyhow::Result<Snapshot> {
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("cannot open snapshot {}: {e}", path.display()))?;
        if meta.is_dir() {
            return Ok(Snapshot {
                kind: Kind::Directory,
                origin: path.to_owned(),
                backend: Backend::Fs(fs::FsTree::new(path.to_owned())),
                policy: CAPTURED,
                notices: Vec::new(),
            });
        }
        let file = std::fs::File::open(path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        Snapshot::from_archive_reader(std::io::BufReader::new(file), Limits::default(), path)
    }

    /// A tar archive (plain, gzip or xz) from a reader, with explicit caps;
    /// `name` stands for it in messages. `open` is this for a file with the
    /// default caps.
    pub fn from_archive_reader(
        reader: impl std::io::Read,
        limits: Limits,
        name: &Path,
    ) -> anyhow::Result<Snapshot> {
        let loaded = archive::ArchiveTree::from_reader(reader, limits, name)?;
        Ok(Snapshot {
            kind: Kind::Archive,
            origin: name.to_owned(),
            notices: loaded.notices.clone(),
            backend: Backend::Archive(loaded),
            policy: CAPTURED,
        })
    }

    /// Files captured from a host and held in memory (`scan` analyzes its
    /// own capture this way, so that `scan` and `analyze` of the written
    /// capture see the same bytes). `kind` is what the report calls the
    /// target: `live` for a scan.
    pub fn in_memory(
        kind: Kind,
        origin: &Path,
        files: Vec<(String, Vec<u8>, Option<i64>)>,
    ) -> Snapshot {
        Snapshot {
            kind,
            origin: origin.to_owned(),
            backend: Backend::Archive(archive::ArchiveTree::from_files(files)),
            policy: Policy {
                absolute_links: false,
                clamp_parent: false,
                link_files: false,
            },
            notices: Vec::new(),
        }
    }

    /// The snapshot whose root is the directory `sub` of this one (a
    /// sosreport inside the case folder the user pointed at). Its origin
    /// names the directory, so reports say which tree they describe.
    pub fn descend(self, sub: &str) -> Snapshot {
        let origin = self.origin.join(sub);
        let backend = match self.backend {
            Backend::Fs(_) => Backend::Fs(fs::FsTree::new(origin.clone())),
            Backend::Archive(t) => Backend::Archive(t.descend(sub)),
        };
        Snapshot {
            origin,
            backend,
            ..self
        }
    }

    /// Whether this is the running host's own filesystem, not a capture of
    /// it: only then are commands run (the kernel ring buffer) and device
    /// nodes looked at.
    pub fn is_running_host(&self) -> bool {
        self.kind == Kind::Live && matches!(self.backend, Backend::Fs(_))
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn origin(&self) -> &Path {
        &self.origin
    }

    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    fn tree(&self) -> &dyn Tree {
        match &self.backend {
            Backend::Fs(t) => t,
            Backend::Archive(t) => t,
        }
    }

    /// What `rel` is after following links, without reading it.
    pub fn stat(&self, rel: &str) -> Result<Node, ReadError> {
        let real = resolve::resolve(self.tree(), rel, self.policy)?;
        self.tree().lstat(&real)
    }

    /// Read at most `limit` bytes of the regular file at `rel`.
    pub fn read(&self, rel: &str, limit: u64) -> Result<Contents, ReadError> {
        let real = resolve::resolve(self.tree(), rel, self.policy)?;
        match self.tree().lstat(&real)? {
            Node::File { .. } => {}
            Node::Dir => return Err(ReadError::Refused(format!("`{rel}` is a directory"))),
            Node::Special => {
                return Err(ReadError::Refused(format!(
                    "`{rel}` is a device, FIFO or socket, not a regular file"
                )))
            }
            Node::Missing | Node::Symlink(_) => return Err(ReadError::NotFound),
        }
        match &self.backend {
            Backend::Fs(t) => t.read(&real, limit),
            Backend::Archive(t) => t.read(&real, limit),
        }
    }

    /// Open the regular file at `rel` for streaming.
    pub fn stream(&self, rel: &str) -> Result<Stream<'_>, ReadError> {
        let real = resolve::resolve(self.tree(), rel, self.policy)?;
        match self.tree().lstat(&real)? {
            Node::File { .. } => {}
            Node::Missing | Node::Symlink(_) => return Err(ReadError::NotFound),
            _ => return Err(ReadError::Refused(format!("`{rel}` is not a regular file"))),
        }
        match &self.backend {
            Backend::Fs(t) => t.stream(&real),
            Backend::Archive(t) => {
                let (reader, modified) = t.stream(&real)?;
                Ok(Stream { reader, modified })
            }
        }
    }

    /// Names and kinds of the entries of the directory at `rel`.
    pub fn list(&self, rel: &str) -> Result<Vec<(String, Node)>, ReadError> {
        let real = resolve::resolve(self.tree(), rel, self.policy)?;
        match &self.backend {
            Backend::Fs(t) => t.list(&real),
            Backend::Archive(t) => t.list(&real),
        }
    }

    /// Every existing path matching `pattern` (see [`glob`] for the syntax).
    pub fn glob(&self, pattern: &str) -> Vec<Match> {
        glob::expand(self, pattern)
    }

    /// Run a command on the live host (never on a captured snapshot) and
    /// return its standard output. Commands are a fallback for data that has
    /// no file under `/proc` or `/sys` (the kernel ring buffer, for one).
    pub fn run(&self, argv: &[&str], limit: u64) -> Result<Contents, ReadError> {
        if !self.is_running_host() {
            return Err(ReadError::NotFound);
        }
        fs::run_command(argv, limit, Duration::from_secs(10))
    }
}
