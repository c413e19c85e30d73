//! Opening the files the verifier reads (the activation file, trusted keys, the state file
//! and its lock file): regular files only.
//!
//! Opening a FIFO for reading blocks until a writer appears (and `licverify --state FIFO`
//! would hold the state lock while it waits), and a device such as `/dev/zero` never ends.
//! So the path's metadata is checked before it is opened, and the opened file's metadata
//! again afterwards: it must still be a regular file, and the same one (device and inode), so
//! a swap between the check and the open is refused too.

use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::VerifyError;

/// What to do when the path itself is a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Links {
    /// Follow it: the file it leads to must be a regular file (the activation file, keys).
    Follow,
    /// Refuse it: the path itself must be a regular file (the state file and its lock file,
    /// which are written, and where a link would let whoever may write the folder send the
    /// write elsewhere).
    Refuse,
}

/// Why [`open_regular`] did not open a file.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The path could not be examined or opened.
    Io(io::Error),
    /// It is not a regular file: what it is instead (`a FIFO`, `a character device`, ...).
    NotRegular(&'static str),
}

impl OpenError {
    /// As [`VerifyError::NotRegularFile`] for `what` at `path`, or `io` for an I/O failure.
    pub(crate) fn into_verify(
        self,
        what: &'static str,
        path: &Path,
        io: impl FnOnce(io::Error) -> VerifyError,
    ) -> VerifyError {
        match self {
            OpenError::Io(e) => io(e),
            OpenError::NotRegular(file_type) => VerifyError::NotRegularFile {
                what,
                path: path.to_path_buf(),
                file_type,
            },
        }
    }
}

/// What a file that is not a regular file is, in words ("a FIFO (named pipe)", "a character
/// device", "a folder", ...), for messages that refuse it.
pub fn describe(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// The metadata of `path` (of the file it leads to, or of the link itself, as `links`
/// says), if it is a regular file.
pub(crate) fn regular_metadata(path: &Path, links: Links) -> Result<Metadata, OpenError> {
    let meta = match links {
        Links::Follow => std::fs::metadata(path),
        Links::Refuse => std::fs::symlink_metadata(path),
    }
    .map_err(OpenError::Io)?;
    if meta.is_file() {
        Ok(meta)
    } else {
        Err(OpenError::NotRegular(describe(&meta)))
    }
}

/// Whether two metadata describe the same file (device and inode on Unix).
pub(crate) fn same_file(a: &Metadata, b: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        true
    }
}

/// Check that the opened `file` is a regular file and the one `before` described.
pub(crate) fn check_opened(file: &File, before: Option<&Metadata>) -> Result<Metadata, OpenError> {
    let meta = file.metadata().map_err(OpenError::Io)?;
    if !meta.is_file() {
        return Err(OpenError::NotRegular(describe(&meta)));
    }
    if before.is_some_and(|b| !same_file(b, &meta)) {
        return Err(OpenError::Io(io::Error::other(
            "it was replaced while being opened; try again",
        )));
    }
    Ok(meta)
}

/// Open `path` for reading if it is a regular file (checked before opening, and on the
/// opened file), with its metadata. With [`Links::Refuse`], a link swapped in between the
/// check and the open leads to another file and is refused as replaced.
pub(crate) fn open_regular(path: &Path, links: Links) -> Result<(File, Metadata), OpenError> {
    let before = regular_metadata(path, links)?;
    let file = File::open(path).map_err(OpenError::Io)?;
    let meta = check_opened(&file, Some(&before))?;
    Ok((file, meta))
}

/// Open a file the verifier (or a tool built on it, such as `licverify` reading its
/// `--trust` keys) reads, refusing anything that is not a regular file: a FIFO, which would
/// block until a writer appears, a device such as `/dev/zero`, a socket or a folder. A
/// symbolic link is followed; the file it leads to must be a regular file. The check is made
/// before opening and again on the opened file, which must be the same file.
///
/// `what` names the file in the error: [`VerifyError::NotRegularFile`] (exit 4) for a file
/// that is not a regular file; [`VerifyError::Io`] (exit 4) when it cannot be examined or
/// opened, which a caller reading something other than an activation file may map to its
/// own error.
pub fn open_regular_file(path: &Path, what: &'static str) -> Result<File, VerifyError> {
    open_regular(path, Links::Follow)
        .map(|(f, _)| f)
        .map_err(|e| {
            e.into_verify(what, path, |source| VerifyError::Io {
                path: PathBuf::from(path),
                source,
            })
        })
}
