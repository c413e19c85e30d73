//! Small file helpers: atomic replacement, writing an output file ([`OutFile`]), bounded
//! reads, the ledger path's check.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::IssuerError;

/// A complete, synced file under a temporary name in the folder of its final path. It becomes
/// the final file with [`PendingFile::persist`] (an atomic rename); dropped without that, it is
/// removed.
#[derive(Debug)]
pub struct PendingFile {
    file: File,
    temp: PathBuf,
    target: PathBuf,
    done: bool,
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl PendingFile {
    /// Write `bytes` to `.<name>.<tag>.tmp` next to `target` (created new, with `mode` on Unix)
    /// and flush them to disk. An error names `target` (the path the user gave), never the
    /// temporary name.
    pub fn write(
        target: &Path,
        tag: &str,
        bytes: &[u8],
        mode: u32,
    ) -> Result<PendingFile, IssuerError> {
        let pending = PendingFile::write_unsynced(target, tag, bytes, mode)?;
        pending.sync()?;
        Ok(pending)
    }

    /// [`PendingFile::write`] without the flush to disk: the caller must call
    /// [`PendingFile::sync`] before anything depends on the bytes being durable (a batch
    /// writes every file first, then flushes them together).
    pub fn write_unsynced(
        target: &Path,
        tag: &str,
        bytes: &[u8],
        mode: u32,
    ) -> Result<PendingFile, IssuerError> {
        let name = target.file_name().ok_or_else(|| {
            IssuerError::io(
                "writing",
                target,
                std::io::Error::other("the path names no file"),
            )
        })?;
        // A folder at the final path would make the rename fail only after the caller has
        // committed what the file records: refuse it now, while nothing has happened.
        if target.is_dir() {
            return Err(IssuerError::io(
                "writing",
                target,
                std::io::Error::other("it is a folder; name a file"),
            ));
        }
        let temp = parent_of(target).join(format!(".{}.{tag}.tmp", name.to_string_lossy()));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        opts.mode(mode);
        #[cfg(not(unix))]
        let _ = mode;
        let f = opts
            .open(&temp)
            .map_err(|e| IssuerError::io("writing", target, e))?;
        let mut pending = PendingFile {
            file: f,
            temp,
            target: target.to_path_buf(),
            done: false,
        };
        pending
            .file
            .write_all(bytes)
            .map_err(|e| IssuerError::io("writing", target, e))?;
        Ok(pending)
    }

    /// Flush the temporary file's bytes to disk.
    pub fn sync(&self) -> Result<(), IssuerError> {
        self.file
            .sync_all()
            .map_err(|e| IssuerError::io("writing", &self.target, e))
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary path holding the complete bytes.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Rename onto the final path (replacing it) and sync the folder so the rename survives a
    /// power cut.
    pub fn persist(self) -> Result<(), IssuerError> {
        let dir = parent_of(&self.target).to_path_buf();
        self.rename()?;
        sync_dir(&dir);
        Ok(())
    }

    /// Give the complete file its final name only if nothing holds that name yet (a hard
    /// link, which fails rather than replaces), then drop the temporary name and sync the
    /// folder. An existing file is [`IssuerError::AlreadyExists`]; the final name never
    /// holds a partial file, even if the process dies while writing.
    pub fn persist_new(self) -> Result<(), IssuerError> {
        let dir = parent_of(&self.target).to_path_buf();
        self.link_new().map_err(|e| match e {
            IssuerError::OutputExists { path } => IssuerError::AlreadyExists { path },
            other => other,
        })?;
        sync_dir(&dir);
        Ok(())
    }

    /// Give the complete file its final name only if nothing holds that name yet, without
    /// syncing the folder (the caller syncs it once after placing several files,
    /// [`sync_dir`]). The name is taken with a hard link, which the file system refuses
    /// atomically when the name exists (a file, a folder, a dangling symbolic link), so of
    /// two processes placing the same name exactly one succeeds and the other's file is never
    /// renamed over it; then the temporary name is dropped. An existing name is
    /// [`IssuerError::OutputExists`] (the temporary file is removed).
    pub fn link_new(mut self) -> Result<(), IssuerError> {
        std::fs::hard_link(&self.temp, &self.target).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => IssuerError::OutputExists {
                path: self.target.clone(),
            },
            _ => IssuerError::io("creating", &self.target, e),
        })?;
        self.done = true;
        let _ = std::fs::remove_file(&self.temp);
        Ok(())
    }

    /// Rename onto the final path (replacing it) without syncing the folder: the caller
    /// syncs it once after renaming several files ([`sync_dir`]).
    pub fn rename(mut self) -> Result<(), IssuerError> {
        std::fs::rename(&self.temp, &self.target)
            .map_err(|e| IssuerError::io("renaming onto", &self.target, e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Flush several pending files to disk, a few threads at a time: the file system commits
/// flushes that wait together in one journal write, so a batch costs a few disk flushes
/// rather than one per file. The first error is returned.
pub fn sync_all(files: &[PendingFile]) -> Result<(), IssuerError> {
    const THREADS: usize = 8;
    if files.len() < 2 {
        return files.iter().try_for_each(PendingFile::sync);
    }
    let chunk = files.len().div_ceil(THREADS);
    std::thread::scope(|s| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().try_for_each(PendingFile::sync)))
            .collect();
        let mut result = Ok(());
        for (w, c) in workers.into_iter().zip(files.chunks(chunk)) {
            let r = w.join().unwrap_or_else(|_| {
                let path = c.first().map_or_else(PathBuf::new, |p| p.target.clone());
                Err(IssuerError::io(
                    "writing",
                    path,
                    std::io::Error::other("the flushing thread stopped"),
                ))
            });
            if result.is_ok() {
                result = r;
            }
        }
        result
    })
}

/// Best-effort fsync of a folder (makes a rename or a new entry durable on Linux).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Create `dir` and missing parents with mode 0700 (Unix) unless it is already a folder.
pub fn create_private_dir(dir: &Path, action: &'static str) -> Result<(), IssuerError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(|e| IssuerError::io(action, dir, e))
}

/// Where `--out PATH` writes (`issue`, `update`, `download`), decided before anything is
/// recorded: a regular file, or nothing yet, is replaced atomically (a complete temporary file
/// renamed over it); a FIFO, a character device (`/dev/null`, a terminal) or a symbolic link
/// (`/dev/stdout`) is written through as it is and never replaced, so a rename can never turn
/// it into a regular file; a folder, a block device, a socket or a link to nothing is refused
/// (exit 4, naming what it is) before anything happens.
#[derive(Debug)]
pub enum OutFile {
    /// A new or regular file: complete under a temporary name, renamed at
    /// [`OutFile::persist`].
    Replace(PendingFile),
    /// A FIFO, a character device or what a symbolic link names: opened (never created) and
    /// written at [`OutFile::persist`].
    Through {
        /// The path as given.
        target: PathBuf,
        /// What to write.
        bytes: Vec<u8>,
        /// What the path named when it was checked (device and inode): what is opened at
        /// [`OutFile::persist`] must be that same file, not one put there meanwhile.
        checked: (u64, u64),
    },
}

impl OutFile {
    /// Check `target` and, when it is replaced, write `bytes` under a temporary name beside it
    /// (as [`PendingFile::write`], `tag` naming the temporary file). A path written through
    /// is not opened yet: a FIFO would wait for its reader before anything is recorded.
    pub fn prepare(
        target: &Path,
        tag: &str,
        bytes: &[u8],
        mode: u32,
    ) -> Result<OutFile, IssuerError> {
        if let Some(checked) = write_through(target)? {
            return Ok(OutFile::Through {
                target: target.to_path_buf(),
                bytes: bytes.to_vec(),
                checked,
            });
        }
        PendingFile::write(target, tag, bytes, mode).map(OutFile::Replace)
    }

    /// Put the bytes at the path: rename the complete temporary file over it, or write them
    /// through to it (flushed to disk when it is a regular file behind a link). A path
    /// written through that names another file than when it was checked (a FIFO replaced
    /// by a link to a regular file meanwhile) is refused before anything is written.
    pub fn persist(self) -> Result<(), IssuerError> {
        match self {
            OutFile::Replace(p) => p.persist(),
            OutFile::Through {
                target,
                bytes,
                checked,
            } => {
                let io = |e| IssuerError::io("writing", &target, e);
                // No create: the path was there when checked; no truncation of anything but
                // a regular file (a FIFO or a device ignores it).
                let mut f = OpenOptions::new().write(true).open(&target).map_err(io)?;
                let meta = f.metadata().map_err(io)?;
                if file_identity(&meta) != checked {
                    return Err(io(std::io::Error::other(
                        "it names another file than when it was checked; nothing was written",
                    )));
                }
                let regular = meta.is_file();
                if regular {
                    f.set_len(0).map_err(io)?;
                }
                f.write_all(&bytes).and_then(|()| f.flush()).map_err(io)?;
                if regular {
                    f.sync_all().map_err(io)?;
                }
                Ok(())
            }
        }
    }
}

/// A file's device and inode (on Unix; elsewhere nothing to compare).
fn file_identity(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

/// Whether `--out target` is written through rather than replaced ([`OutFile`]), with the
/// identity of the file it names then; an error for a path that can be neither.
fn write_through(target: &Path) -> Result<Option<(u64, u64)>, IssuerError> {
    let refuse = |what: &str| {
        Err(IssuerError::io(
            "writing",
            target,
            std::io::Error::other(format!(
                "it is {what}; name a file, a FIFO or a character device"
            )),
        ))
    };
    let link = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(IssuerError::io("writing", target, e)),
    };
    if link.is_file() {
        return Ok(None);
    }
    let meta = match std::fs::metadata(target) {
        Ok(m) => m,
        // A link to nothing (`/dev/stdout` with standard output closed): replacing it would
        // replace the link.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return refuse("a symbolic link to nothing")
        }
        Err(e) => return Err(IssuerError::io("writing", target, e)),
    };
    let kind = meta.file_type();
    if kind.is_dir() {
        return refuse("a folder");
    }
    if kind.is_file() {
        return Ok(Some(file_identity(&meta)));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() || kind.is_char_device() {
            return Ok(Some(file_identity(&meta)));
        }
        if kind.is_block_device() {
            return refuse("a block device");
        }
        if kind.is_socket() {
            return refuse("a socket");
        }
    }
    refuse("not a regular file")
}

/// Refuse a ledger path that names anything but a regular file (a folder, a FIFO, a device,
/// a socket) before SQLite opens it: SQLite would wait forever on a FIFO and leave a
/// `-journal` file beside a device (`--db /dev/null` run as root: `/dev/null-journal`). A
/// path that does not exist passes (`open` creates the file).
pub(crate) fn check_ledger_path(path: &Path, action: &'static str) -> Result<(), IssuerError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(IssuerError::io(action, path, e)),
    };
    if meta.is_file() {
        return Ok(());
    }
    let t = meta.file_type();
    let what = if t.is_dir() {
        "a folder"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if t.is_fifo() {
                "a FIFO (named pipe)"
            } else if t.is_char_device() {
                "a character device"
            } else if t.is_block_device() {
                "a block device"
            } else if t.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            }
        }
        #[cfg(not(unix))]
        {
            "not a regular file"
        }
    };
    Err(IssuerError::io(
        action,
        path,
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("it is {what}; name the ledger file"),
        ),
    ))
}

/// Write `bytes` to `--out target` as [`OutFile`] does: a new or regular file replaced
/// atomically, a FIFO, character device or symbolic link written through.
pub fn write_out(target: &Path, bytes: &[u8], mode: u32) -> Result<(), IssuerError> {
    OutFile::prepare(target, &random_tag(), bytes, mode)?.persist()
}

/// [`PendingFile::write`] under a random temporary name.
pub fn write_pending(target: &Path, bytes: &[u8], mode: u32) -> Result<PendingFile, IssuerError> {
    PendingFile::write(target, &random_tag(), bytes, mode)
}

/// 16 random hex digits naming a temporary file.
fn random_tag() -> String {
    let mut tag = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut tag);
    tag.iter().map(|b| format!("{b:02x}")).collect()
}

/// Read a whole file of at most `max` bytes.
pub fn read_bounded(path: &Path, max: usize, what: &str) -> Result<Vec<u8>, IssuerError> {
    let f = File::open(path).map_err(|e| IssuerError::io("opening", path, e))?;
    read_handle(f, path, max, what)
}

pub(crate) fn read_handle(
    f: File,
    path: &Path,
    max: usize,
    what: &str,
) -> Result<Vec<u8>, IssuerError> {
    let mut buf = Vec::new();
    f.take(max as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| IssuerError::io("reading", path, e))?;
    if buf.len() > max {
        return Err(IssuerError::MalformedRequest {
            reason: format!("{what} {} is larger than {max} bytes", path.display()),
        });
    }
    Ok(buf)
}
