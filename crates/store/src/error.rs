//! Errors of the storage interface, classified so that callers can give each its exit code
//! without knowing the engine.

/// The result of a store operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A query expected a row and got none.
    NoRows,
    /// A value did not fit the type asked for.
    Conversion,
    /// The store refused a change (a unique key, a check, a trigger).
    Constraint,
    /// Another writer held the store longer than the busy timeout.
    Busy,
    /// Reading or writing failed: the file, the disk, the network, the server went away,
    /// permission denied, wrong credentials.
    Io,
    /// Not this store: another program's database, a corrupt file, an empty database where
    /// one was expected, or a schema this build cannot read.
    Foreign,
    /// Anything else the engine reports (a statement it cannot run).
    Other,
}

/// A store failure: its kind and the engine's message (never a password; never SQL text
/// beyond a short excerpt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }
    /// Its kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// Its message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Whether retrying the whole transaction may succeed (a serialisation failure or a
    /// deadlock the engine broke).
    pub fn is_busy(&self) -> bool {
        self.kind == ErrorKind::Busy
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `Result<T>` to `Result<Option<T>>`: no row is `None`.
pub trait OptionalExt<T> {
    /// `Ok(None)` for [`ErrorKind::NoRows`], the rest unchanged.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExt<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind == ErrorKind::NoRows => Ok(None),
            Err(e) => Err(e),
        }
    }
}
