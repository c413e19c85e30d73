//! What tells whether a store file changed while it was read without SQLite's locks.

use std::path::{Path, PathBuf};

/// A file's identity, size and times, and whether its write-ahead log exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileStamp {
    file: (u64, u64, u64, i64, i64, i64, i64),
    pub(crate) wal: bool,
}

impl FileStamp {
    pub(crate) fn of(path: &Path) -> std::io::Result<FileStamp> {
        let m = std::fs::metadata(path)?;
        #[cfg(unix)]
        let file = {
            use std::os::unix::fs::MetadataExt;
            (
                m.dev(),
                m.ino(),
                m.len(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec(),
            )
        };
        #[cfg(not(unix))]
        let file = {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .unwrap_or_default();
            (
                0,
                0,
                m.len(),
                i64::try_from(t.as_secs()).unwrap_or(i64::MAX),
                i64::from(t.subsec_nanos()),
                0,
                0,
            )
        };
        Ok(FileStamp {
            file,
            wal: wal_path(path).symlink_metadata().is_ok(),
        })
    }
}

/// The write-ahead log beside a store (`ledger.db-wal`).
pub(crate) fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push("-wal");
    PathBuf::from(name)
}

/// `path` as an SQLite URI filename (`file:...`), every byte but unreserved ones and `/`
/// percent-encoded.
pub(crate) fn uri_of(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut uri = String::from("file:");
    for b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::uri_of;
    use std::path::Path;

    #[test]
    fn uri_filenames_escape_what_sqlite_would_read_as_syntax() {
        assert_eq!(
            uri_of(Path::new("/a b/c?d#e%f")),
            "file:/a%20b/c%3Fd%23e%25f"
        );
        assert_eq!(uri_of(Path::new("rel/x-y_z.db")), "file:rel/x-y_z.db");
    }
}
