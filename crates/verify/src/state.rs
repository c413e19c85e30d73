//! The optional state file a server keeps: the latest time seen and the newest file accepted.

use std::fs::TryLockError;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use format::{Activation, FileId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::VerifyError;
use crate::fsio::{Links, OpenError};

/// How far the clock may go back behind the latest time seen before loads are refused with
/// [`VerifyError::ClockSetBack`]: 24 hours, so that an NTP correction or a time-zone mistake
/// fixed by hand is not an outage, while setting the clock back to stretch an expiry is.
pub const DEFAULT_CLOCK_TOLERANCE_SECS: i64 = 24 * 3600;

/// Largest state file read (64 KiB). A larger file is reported as corrupt.
pub const MAX_STATE_SIZE: usize = 64 * 1024;

/// Most superseded file ids remembered; the oldest are dropped beyond this (they are older
/// than the newest file, so [`VerifyError::OlderFile`] still refuses them).
pub const MAX_SUPERSEDED: usize = 1000;

/// How long an update waits for another process's (or thread's) update of the same state
/// file to finish before giving up with [`VerifyError::StateLocked`]: 10 seconds. An update
/// holds the lock for a read and an fsynced write, milliseconds even on a busy disk, so a
/// lock held longer belongs to a process that hangs or was stopped; a server's reload then
/// reports it instead of hanging with it.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Most lineages whose newest generation is remembered; beyond this the one updated longest
/// ago is dropped (a server loads files of a handful of lineages in its life).
pub const MAX_LINEAGES: usize = 100;

/// The first field of every state file this build writes.
pub const STATE_FORMAT: &str = "i3lic-verify-state/2";
/// The previous state format (no lineages), still read.
pub const STATE_FORMAT_V1: &str = "i3lic-verify-state/1";

/// The newest generation accepted from one lineage (version-2 files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedGeneration {
    /// The lineage (the id of its first file).
    pub lineage: FileId,
    /// The highest generation accepted.
    pub generation: u32,
    /// The file accepted at that generation.
    pub file_id: FileId,
}

/// The newest file accepted, as recorded in the state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedFile {
    /// The file's id.
    pub file_id: FileId,
    /// When it was issued.
    pub issued_at: Timestamp,
}

/// The contents of a state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    format: String,
    latest_seen: Timestamp,
    newest: Option<AcceptedFile>,
    superseded: Vec<FileId>,
    #[serde(default)]
    lineages: Vec<AcceptedGeneration>,
}

impl State {
    fn fresh(now: Timestamp) -> State {
        State {
            format: STATE_FORMAT.into(),
            latest_seen: now,
            newest: None,
            superseded: Vec::new(),
            lineages: Vec::new(),
        }
    }

    /// The newest generation accepted per lineage (at most [`MAX_LINEAGES`], the one
    /// updated last at the end).
    pub fn lineages(&self) -> &[AcceptedGeneration] {
        &self.lineages
    }

    /// The latest time seen.
    pub fn latest_seen(&self) -> Timestamp {
        self.latest_seen
    }

    /// The newest file accepted.
    pub fn newest(&self) -> Option<AcceptedFile> {
        self.newest
    }

    /// Ids of files superseded by accepted files (at most [`MAX_SUPERSEDED`], newest last).
    pub fn superseded(&self) -> &[FileId] {
        &self.superseded
    }

    /// Refuse a clock set back more than `tolerance_secs` behind the latest time seen.
    pub(crate) fn check_clock(
        &self,
        now: Timestamp,
        tolerance_secs: i64,
        path: &Path,
    ) -> Result<(), VerifyError> {
        if now.plus_secs(tolerance_secs) < self.latest_seen {
            return Err(VerifyError::ClockSetBack {
                now,
                latest_seen: self.latest_seen,
                tolerance_secs,
                path: path.to_owned(),
            });
        }
        Ok(())
    }

    /// Refuse a rollback. Every file: one superseded by an accepted file. A version-2 file
    /// (with a chain): one of a lower generation than the newest accepted from its lineage,
    /// or another file of that generation, whatever the timestamps say. A version-1 file:
    /// one issued before the newest file accepted. The file accepted last may be loaded again.
    pub(crate) fn check_file(&self, a: &Activation) -> Result<(), VerifyError> {
        if let Some(c) = a.chain {
            if let Some(g) = self.lineages.iter().find(|g| g.lineage == c.lineage) {
                if c.generation < g.generation
                    || (c.generation == g.generation && a.file_id != g.file_id)
                {
                    return Err(VerifyError::OlderGeneration {
                        file_id: a.file_id,
                        lineage: c.lineage,
                        generation: c.generation,
                        accepted_generation: g.generation,
                        accepted_id: g.file_id,
                    });
                }
            }
        }
        if self.superseded.contains(&a.file_id) {
            return Err(VerifyError::Superseded { file_id: a.file_id });
        }
        if a.chain.is_some() {
            return Ok(());
        }
        if let Some(n) = self.newest {
            if n.file_id != a.file_id && a.issued_at < n.issued_at {
                return Err(VerifyError::OlderFile {
                    file_id: a.file_id,
                    issued_at: a.issued_at,
                    newest_id: n.file_id,
                    newest_issued_at: n.issued_at,
                });
            }
        }
        Ok(())
    }

    /// Record an accepted file (already checked with [`State::check_file`]) and the time.
    pub(crate) fn record(&mut self, now: Timestamp, a: &Activation) {
        // A state read in the previous format is written in this one.
        self.format = STATE_FORMAT.into();
        self.latest_seen = self.latest_seen.max(now);
        if let Some(c) = a.chain {
            self.lineages.retain(|g| g.lineage != c.lineage);
            self.lineages.push(AcceptedGeneration {
                lineage: c.lineage,
                generation: c.generation,
                file_id: a.file_id,
            });
            if self.lineages.len() > MAX_LINEAGES {
                let extra = self.lineages.len() - MAX_LINEAGES;
                self.lineages.drain(..extra);
            }
            if let Some(old) = a.supersedes {
                if !self.superseded.contains(&old) {
                    self.superseded.push(old);
                }
            }
        }
        let newer = match self.newest {
            None => true,
            Some(n) => a.issued_at >= n.issued_at,
        };
        if newer {
            if let Some(old) = a.supersedes {
                if !self.superseded.contains(&old) {
                    self.superseded.push(old);
                }
            }
            self.newest = Some(AcceptedFile {
                file_id: a.file_id,
                issued_at: a.issued_at,
            });
        }
        if self.superseded.len() > MAX_SUPERSEDED {
            let extra = self.superseded.len() - MAX_SUPERSEDED;
            self.superseded.drain(..extra);
        }
    }

    /// Record the time only (a periodic check while running).
    pub(crate) fn record_time(&mut self, now: Timestamp) {
        self.format = STATE_FORMAT.into();
        self.latest_seen = self.latest_seen.max(now);
    }
}

/// Where a server keeps its state, and how much the clock may go back.
///
/// A missing file is a first start: it is created on the first successful load. A file that
/// exists but cannot be parsed is [`VerifyError::StateCorrupt`], never reset silently. A path
/// that is not a regular file (a symbolic link, a FIFO, a device) is
/// [`VerifyError::NotRegularFile`], for the state file and its lock file.
/// Writes go to a temporary file in the same folder, are flushed to disk, then renamed over
/// the old file, so a crash leaves either the old or the new state.
///
/// Each update (read, check, write) holds an exclusive OS file lock on a lock file beside
/// the state file ([`StateFile::lock_path`]), so updates from threads and from processes
/// (a server and an administrator's `licverify --state`) run one after the other and never
/// overwrite each other. A read-only check holds a shared lock. An update that cannot take
/// the lock within [`StateFile::lock_timeout`] fails with [`VerifyError::StateLocked`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFile {
    path: PathBuf,
    tolerance_secs: i64,
    lock_timeout: Duration,
}

/// Which lock [`StateFile::lock`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockMode {
    /// Read, check and write back: exclusive.
    Update,
    /// Read and check only: shared.
    Check,
}

/// A held state lock; released when dropped (the lock file is closed, then the mutex).
#[derive(Debug)]
pub(crate) struct StateLock {
    _file: Option<std::fs::File>,
    _threads: MutexGuard<'static, ()>,
}

impl StateFile {
    /// A state file at `path` with the default tolerance
    /// ([`DEFAULT_CLOCK_TOLERANCE_SECS`]) and lock timeout ([`DEFAULT_LOCK_TIMEOUT`]).
    pub fn new(path: impl Into<PathBuf>) -> StateFile {
        StateFile {
            path: path.into(),
            tolerance_secs: DEFAULT_CLOCK_TOLERANCE_SECS,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// Allow the clock to go back this many seconds behind the latest time seen (negative
    /// values count as 0).
    pub fn with_tolerance_secs(mut self, secs: i64) -> StateFile {
        self.tolerance_secs = secs.max(0);
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tolerance in seconds.
    pub fn tolerance_secs(&self) -> i64 {
        self.tolerance_secs
    }

    /// Read the state; `None` when the file does not exist yet.
    pub fn read(&self) -> Result<Option<State>, VerifyError> {
        let corrupt = |reason: String| VerifyError::StateCorrupt {
            path: self.path.clone(),
            reason,
        };
        // Anything but a regular file (a FIFO would block while the state lock is held, a
        // device such as /dev/null reads as an empty file) is refused before it is opened,
        // and so is a symbolic link: every write replaces the file at this path.
        let file = match crate::fsio::open_regular(&self.path, Links::Refuse) {
            Ok((f, _)) => f,
            Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e.into_verify("state file", &self.path, |source| {
                    VerifyError::StateIo {
                        action: "read",
                        path: self.path.clone(),
                        source,
                    }
                }))
            }
        };
        let mut buf = Vec::new();
        file.take(MAX_STATE_SIZE as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|source| VerifyError::StateIo {
                action: "read",
                path: self.path.clone(),
                source,
            })?;
        if buf.len() > MAX_STATE_SIZE {
            return Err(corrupt(format!("larger than {MAX_STATE_SIZE} bytes")));
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            return Err(corrupt("the file is empty".into()));
        }
        let state: State = serde_json::from_slice(&buf).map_err(|e| corrupt(e.to_string()))?;
        if state.format != STATE_FORMAT && state.format != STATE_FORMAT_V1 {
            return Err(corrupt(format!(
                "format '{}' is not {STATE_FORMAT} (or {STATE_FORMAT_V1})",
                state
                    .format
                    .chars()
                    .take(64)
                    .collect::<String>()
                    .escape_debug()
            )));
        }
        if state.lineages.len() > MAX_LINEAGES {
            return Err(corrupt(format!(
                "{} lineages, at most {MAX_LINEAGES}",
                state.lineages.len()
            )));
        }
        if state.superseded.len() > MAX_SUPERSEDED {
            return Err(corrupt(format!(
                "{} superseded ids, at most {MAX_SUPERSEDED}",
                state.superseded.len()
            )));
        }
        Ok(Some(state))
    }

    /// The lock file beside the state file: the state file's name with `.lock` appended
    /// (`license-state.json.lock`). Updates lock it, not the state file, because the state
    /// file is replaced by a rename at every write: a lock on the old file would not stop a
    /// second writer from opening the new one.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(std::ffi::OsStr::to_os_string)
            .unwrap_or_default();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    /// Wait at most this long for the lock of another process or thread to be released
    /// before giving up with [`VerifyError::StateLocked`] (default
    /// [`DEFAULT_LOCK_TIMEOUT`]).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> StateFile {
        self.lock_timeout = timeout;
        self
    }

    /// How long an update waits for the lock.
    pub fn lock_timeout(&self) -> Duration {
        self.lock_timeout
    }

    /// Take the state lock, held until the returned guard is dropped: hold it from reading
    /// the state to writing it back. Every load and [`crate::Verifier::record_time`] takes
    /// it, in this process and in every other one (a server, `licverify --state`), so no two
    /// updates each write back what they read and lose the other's (which would forget the
    /// newest file accepted and the ids it superseded).
    ///
    /// Two locks, in this order: a mutex for the threads of this process (they queue on it
    /// rather than poll, so a busy timer thread cannot starve a reload), then the lock
    /// file's OS lock for other processes ([`StateFile::lock_file`]).
    pub(crate) fn lock(&self, mode: LockMode) -> Result<StateLock, VerifyError> {
        // One mutex for every state file of the process: updates are rare and short. A
        // panic while holding it leaves at worst an unwritten update; the file itself is
        // only ever replaced whole.
        static THREADS: Mutex<()> = Mutex::new(());
        let threads = THREADS.lock().unwrap_or_else(PoisonError::into_inner);
        let file = self.lock_file(mode)?;
        Ok(StateLock {
            _file: file,
            _threads: threads,
        })
    }

    /// The lock file's OS lock (`std::fs::File::lock`), which serialises updates across
    /// processes; every handle has its own, so threads holding separate handles exclude each
    /// other too.
    ///
    /// [`LockMode::Update`] is exclusive and creates the lock file (mode 0600) when missing.
    /// [`LockMode::Check`] is shared: it waits for an update in progress, and runs alongside
    /// other checks. A check does not create the lock file; when it is missing or cannot be
    /// opened (a user who may read the folder but not write it), the check reads without the
    /// lock: the state file is only ever replaced whole, so the read still sees one complete
    /// state.
    ///
    /// Polls with `try_lock` (1 ms, doubling up to 16 ms) for at most
    /// [`StateFile::lock_timeout`], then fails with [`VerifyError::StateLocked`]: a server's
    /// reload or timer never hangs behind a stopped process that holds the lock.
    pub(crate) fn lock_file(&self, mode: LockMode) -> Result<Option<std::fs::File>, VerifyError> {
        let lock_path = self.lock_path();
        let io = |source: std::io::Error| VerifyError::StateIo {
            action: "lock",
            path: lock_path.clone(),
            source,
        };
        let not_regular = |e: OpenError| e.into_verify("state lock file", &lock_path, io);
        // A state path that can never be read (a FIFO, a device, a link) is refused before
        // an update creates the lock file beside it: `--state /dev/null` run as root must
        // not leave `/dev/null.lock` in `/dev`.
        if mode == LockMode::Update {
            match crate::fsio::regular_metadata(&self.path, Links::Refuse) {
                Ok(_) => {}
                Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e.into_verify("state file", &self.path, |source| {
                        VerifyError::StateIo {
                            action: "read",
                            path: self.path.clone(),
                            source,
                        }
                    }))
                }
            }
        }
        // Only a regular file is opened: a FIFO would block a check's read-only open.
        let file = match mode {
            LockMode::Update => self.open_update_lock(&lock_path).map_err(not_regular)?,
            LockMode::Check => match crate::fsio::open_regular(&lock_path, Links::Refuse) {
                Ok((f, _)) => f,
                Err(OpenError::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(not_regular(e)),
            },
        };
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            let attempt = match mode {
                LockMode::Update => file.try_lock(),
                LockMode::Check => file.try_lock_shared(),
            };
            match attempt {
                Ok(()) => return Ok(Some(file)),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
            let waited = started.elapsed();
            if waited >= self.lock_timeout {
                return Err(VerifyError::StateLocked {
                    path: self.path.clone(),
                    lock_path,
                    waited,
                });
            }
            std::thread::sleep(pause.min(self.lock_timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(16));
        }
    }

    /// The lock file opened for an update: a regular file, not a symbolic link; a missing
    /// one is created new (mode 0600, `O_EXCL`, which never follows a link that appeared
    /// meanwhile) and given the state file's owner and group where that is allowed (root
    /// checking a server's state must not leave a lock file the server cannot open).
    fn open_update_lock(&self, lock_path: &Path) -> Result<std::fs::File, OpenError> {
        // A second round when another process created the lock file meanwhile.
        for _ in 0..2 {
            let before = match crate::fsio::regular_metadata(lock_path, Links::Refuse) {
                Ok(m) => Some(m),
                Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            let mut options = std::fs::OpenOptions::new();
            options.read(true).write(true).create_new(before.is_none());
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let file = match options.open(lock_path) {
                Ok(f) => f,
                Err(e) if before.is_none() && e.kind() == std::io::ErrorKind::AlreadyExists => {
                    continue
                }
                Err(e) => return Err(OpenError::Io(e)),
            };
            crate::fsio::check_opened(&file, before.as_ref())?;
            #[cfg(unix)]
            if before.is_none() {
                use std::os::unix::fs::MetadataExt;
                if let Ok(state) = std::fs::symlink_metadata(&self.path) {
                    // Only root may; anyone else keeps a lock file of their own.
                    let _ = std::os::unix::fs::fchown(&file, Some(state.uid()), Some(state.gid()));
                }
            }
            return Ok(file);
        }
        Err(OpenError::Io(std::io::Error::other(
            "it was created and removed while being opened; try again",
        )))
    }

    /// Read the state, or a fresh one at `now` when there is no file yet.
    pub(crate) fn read_or_fresh(&self, now: Timestamp) -> Result<State, VerifyError> {
        Ok(self.read()?.unwrap_or_else(|| State::fresh(now)))
    }

    /// Write atomically: temporary file in the same folder, fsync, rename, fsync the folder.
    ///
    /// The new file keeps the owner, group and mode of the one it replaces (a new state file
    /// is the writer's, mode 0600): an administrator checking as root must not leave the
    /// server's own state file `root:root 0600`, which the server could no longer read. When
    /// the owner cannot be kept (a user who may write the folder but is not root), nothing is
    /// written and the error says why.
    pub(crate) fn write(&self, state: &State) -> Result<(), VerifyError> {
        let io = |source: std::io::Error| VerifyError::StateIo {
            action: "write",
            path: self.path.clone(),
            source,
        };
        // The file replaced must be a regular file, not a link (whose target would go stale
        // behind the new file) nor a device.
        let existing = match crate::fsio::regular_metadata(&self.path, Links::Refuse) {
            Ok(m) => Some(m),
            Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into_verify("state file", &self.path, io)),
        };
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let mut json = serde_json::to_vec_pretty(state).map_err(|e| io(e.into()))?;
        json.push(b'\n');
        let mut tmp = tempfile::Builder::new()
            .prefix(".i3lic-state-")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(io)?;
        if let Some(old) = &existing {
            keep_owner_and_mode(tmp.as_file(), old).map_err(io)?;
        }
        tmp.write_all(&json).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&self.path).map_err(|e| io(e.error))?;
        #[cfg(unix)]
        {
            std::fs::File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }
}

/// Give `file` (the new state, not yet in place) the owner, group and mode of `old`.
#[cfg(unix)]
fn keep_owner_and_mode(file: &std::fs::File, old: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let new = file.metadata()?;
    if (new.uid(), new.gid()) != (old.uid(), old.gid()) {
        std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid())).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot give the new state file the owner {}:{} of the one it replaces ({e}); nothing was written: run as that user or as root",
                    old.uid(),
                    old.gid()
                ),
            )
        })?;
    }
    // After the owner: changing it may clear the set-id bits.
    file.set_permissions(std::fs::Permissions::from_mode(old.mode() & 0o7777))
}

#[cfg(not(unix))]
fn keep_owner_and_mode(file: &std::fs::File, old: &std::fs::Metadata) -> std::io::Result<()> {
    file.set_permissions(old.permissions())
}

#[cfg(test)]
mod tests {
    use super::*;
    use format::FileId;

    #[test]
    fn missing_is_none_corrupt_is_an_error_and_writes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let sf = StateFile::new(dir.path().join("state.json"));
        assert!(sf.read().unwrap().is_none());
        let mut st = State::fresh(Timestamp::from_unix(1_700_000_000).unwrap());
        st.record_time(Timestamp::from_unix(1_700_000_100).unwrap());
        sf.write(&st).unwrap();
        assert_eq!(sf.read().unwrap(), Some(st));
        // Only the state file is left behind (no temporary files).
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        for bad in [
            &b""[..],
            b"{",
            b"{\"format\":\"other/1\",\"latest_seen\":\"2024-01-01T00:00:00Z\",\"newest\":null,\"superseded\":[]}",
            b"{\"format\":\"i3lic-verify-state/1\",\"latest_seen\":\"yesterday\",\"newest\":null,\"superseded\":[]}",
            b"{\"format\":\"i3lic-verify-state/1\",\"latest_seen\":\"2024-01-01T00:00:00Z\",\"newest\":null,\"superseded\":[],\"x\":1}",
        ] {
            std::fs::write(sf.path(), bad).unwrap();
            assert!(
                matches!(sf.read(), Err(VerifyError::StateCorrupt { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        std::fs::write(sf.path(), vec![b' '; MAX_STATE_SIZE + 10]).unwrap();
        assert!(matches!(sf.read(), Err(VerifyError::StateCorrupt { .. })));
    }

    #[test]
    fn clock_tolerance_is_inclusive() {
        let t = |s: i64| Timestamp::from_unix(1_700_000_000 + s).unwrap();
        let st = State::fresh(t(0));
        let p = Path::new("s");
        assert!(st.check_clock(t(-3600), 3600, p).is_ok());
        assert!(matches!(
            st.check_clock(t(-3601), 3600, p),
            Err(VerifyError::ClockSetBack { .. })
        ));
    }

    #[test]
    fn two_updates_holding_the_file_lock_serialise() {
        // Two updates that share no in-process mutex, as two processes do: each reads,
        // pauses while the other starts, then writes back what it read plus its own id.
        // Each opens its own handle on the lock file; without the OS lock both read the
        // empty list and the second write forgets the first id.
        let dir = tempfile::tempdir().unwrap();
        let sf = StateFile::new(dir.path().join("state.json"));
        sf.write(&State::fresh(Timestamp::from_unix(1_700_000_000).unwrap()))
            .unwrap();
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            for n in 1..=2u8 {
                let (sf, start) = (sf.clone(), &start);
                s.spawn(move || {
                    start.wait();
                    let _lock = sf.lock_file(LockMode::Update).unwrap();
                    let mut st = sf.read().unwrap().unwrap();
                    std::thread::sleep(Duration::from_millis(150));
                    st.superseded.push(FileId([n; 16]));
                    sf.write(&st).unwrap();
                });
            }
        });
        let mut ids = sf.read().unwrap().unwrap().superseded;
        ids.sort_by_key(|id| id.0);
        assert_eq!(ids, [FileId([1; 16]), FileId([2; 16])]);
    }

    #[test]
    fn a_held_lock_makes_updates_and_checks_wait_then_time_out() {
        let dir = tempfile::tempdir().unwrap();
        let sf = StateFile::new(dir.path().join("state.json"))
            .with_lock_timeout(Duration::from_millis(200));
        assert_eq!(sf.lock_path(), dir.path().join("state.json.lock"));
        // A check does not create the lock file, and reads unlocked without one.
        drop(sf.lock_file(LockMode::Check).unwrap());
        assert!(!sf.lock_path().exists());

        // The first update creates it, readable and writable by the owner only.
        let held = sf.lock_file(LockMode::Update).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(sf.lock_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // While it is held, another update and a check each wait the timeout and give up.
        for mode in [LockMode::Update, LockMode::Check] {
            let started = Instant::now();
            match sf.lock(mode) {
                Err(VerifyError::StateLocked {
                    path,
                    lock_path,
                    waited,
                }) => {
                    assert_eq!(path, sf.path());
                    assert_eq!(lock_path, sf.lock_path());
                    assert!(waited >= Duration::from_millis(200), "{waited:?}");
                }
                r => panic!("{mode:?}: {r:?}"),
            }
            assert!(started.elapsed() >= Duration::from_millis(200));
        }
        drop(held);
        // Released: taken at once; checks share the lock, an update excludes them.
        let a = sf.lock_file(LockMode::Check).unwrap();
        let b = sf.lock_file(LockMode::Check).unwrap();
        assert!(matches!(
            sf.lock_file(LockMode::Update),
            Err(VerifyError::StateLocked { .. })
        ));
        drop((a, b));
        let e = sf.lock_file(LockMode::Update).unwrap();
        drop(e);
    }
}
