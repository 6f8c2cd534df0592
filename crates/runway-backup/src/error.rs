//! The crate's error type.

use std::time::Duration;

use runway_core::ErrorKind;

use crate::id::BackupId;
use crate::verify::VerifyLevel;

/// `Result` with [`BackupError`] as the default error.
pub type Result<T, E = BackupError> = std::result::Result<T, E>;

/// Why a restore was refused by its guard.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The target is the database the backup was taken from.
    SourceDatabase {
        /// The database name.
        database: String,
    },
    /// The target already holds objects.
    NotEmpty {
        /// The database (or file) name.
        database: String,
        /// How many user relations (tables, views, sequences, ...) it holds.
        relations: u64,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::SourceDatabase { database } => write!(
                f,
                "target {database} is the backup's source database (force it with allow_source)"
            ),
            Refusal::NotEmpty {
                database,
                relations,
            } => write!(
                f,
                "target {database} is not empty ({relations} relations; force it with allow_non_empty)"
            ),
        }
    }
}

/// One table whose restored row count differs from the manifest's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountMismatch {
    /// `schema.table` (PostgreSQL) or the table name (SQLite).
    pub table: String,
    /// The count recorded in the manifest.
    pub expected: u64,
    /// The count in the restored copy (`None`: the table is missing).
    pub actual: Option<u64>,
}

/// Everything that can go wrong in runway-backup.
///
/// Classify with [`BackupError::kind`]; every variant keeps its inputs, so nothing is lost to a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// The stored file is shorter or longer than the manifest says (a truncated or padded upload).
    #[error("backup {id}: size is {actual} bytes, the manifest says {expected}")]
    SizeMismatch {
        /// The backup.
        id: BackupId,
        /// Size in the manifest.
        expected: u64,
        /// Size read from storage.
        actual: u64,
    },
    /// The stored file's SHA-256 differs from the manifest's (a flipped byte or a wrong manifest).
    #[error("backup {id}: sha256 is {actual}, the manifest says {expected}")]
    ChecksumMismatch {
        /// The backup.
        id: BackupId,
        /// Hash in the manifest.
        expected: String,
        /// Hash of the stored bytes.
        actual: String,
    },
    /// `pg_restore --list` (or SQLite's integrity check) could not read the archive.
    #[error("backup {id}: archive is not readable: {detail}")]
    Unreadable {
        /// The backup.
        id: BackupId,
        /// What the reader said (last lines of its stderr, or the integrity report).
        detail: String,
    },
    /// A restore drill restored different row counts than the manifest recorded.
    #[error("backup {id}: restore drill found {} table(s) with wrong row counts", mismatches.len())]
    CountMismatch {
        /// The backup.
        id: BackupId,
        /// Every table that differs.
        mismatches: Vec<CountMismatch>,
    },
    /// The restore guard refused the target.
    #[error("restore refused: {0}")]
    RestoreRefused(Refusal),
    /// A verification level needs something that was not configured (for example a drill server).
    #[error("{level} verification needs {what}")]
    NotConfigured {
        /// The level asked for.
        level: VerifyLevel,
        /// What is missing.
        what: &'static str,
    },
    /// The backup (or its manifest) does not exist.
    #[error("backup {0} not found")]
    NotFound(String),
    /// The manifest or verification record could not be decoded.
    #[error("invalid manifest: {reason}")]
    InvalidManifest {
        /// What is wrong with it.
        reason: String,
        /// The JSON error, if any.
        #[source]
        source: Option<serde_json::Error>,
    },
    /// `pg_restore --list` output could not be parsed.
    #[error("pg_restore listing, line {line}: {reason}")]
    InvalidListing {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A backup name does not follow `backup_YYYYMMDD_HHMMSS[_N]`.
    #[error("invalid backup name {name:?}: {reason}")]
    InvalidName {
        /// The offending name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Bad configuration or argument (URL, path, option).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A PostgreSQL client binary is missing.
    #[error("{0} not found (install the PostgreSQL client: apt-get install postgresql-client)")]
    ToolNotFound(&'static str),
    /// A PostgreSQL client binary failed.
    #[error("{tool} exited with {status}: {stderr}")]
    ToolFailed {
        /// `pg_dump`, `pg_restore`.
        tool: &'static str,
        /// Its exit status (`-1` when killed by a signal).
        status: i32,
        /// The last lines it wrote to stderr (it never sees a password).
        stderr: String,
    },
    /// A query failed.
    #[error("database error during {operation}")]
    Database {
        /// What was being done.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The storage backend failed.
    #[error("storage {backend}: {operation} {key}")]
    Storage {
        /// Backend name.
        backend: String,
        /// `put`, `get`, `list`, `delete`.
        operation: &'static str,
        /// The object key.
        key: String,
        /// The backend's error.
        #[source]
        source: Box<runway_core::Error>,
    },
    /// Local I/O failed (pipes to the tools, scratch files).
    #[error("i/o error during {operation}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// An event sink refused an event.
    #[error("event sink failed")]
    Events(#[source] Box<runway_core::Error>),
    /// A tool ran longer than allowed.
    #[error("{tool} did not finish within {limit:?}")]
    Timeout {
        /// The tool.
        tool: &'static str,
        /// The limit.
        limit: Duration,
    },
}

impl BackupError {
    /// The backend-independent classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            BackupError::SizeMismatch { .. }
            | BackupError::ChecksumMismatch { .. }
            | BackupError::Unreadable { .. }
            | BackupError::CountMismatch { .. }
            | BackupError::InvalidManifest { .. }
            | BackupError::InvalidName { .. }
            | BackupError::InvalidListing { .. }
            | BackupError::InvalidInput(_) => ErrorKind::InvalidInput,
            BackupError::RestoreRefused(_) => ErrorKind::Conflict,
            BackupError::NotConfigured { .. } | BackupError::ToolNotFound(_) => {
                ErrorKind::Unsupported
            }
            BackupError::NotFound(_) => ErrorKind::NotFound,
            BackupError::ToolFailed { .. } => ErrorKind::Provider,
            BackupError::Database { source, .. } => match source {
                sqlx::Error::PoolTimedOut => ErrorKind::Timeout,
                sqlx::Error::Io(_) | sqlx::Error::PoolClosed => ErrorKind::Unavailable,
                sqlx::Error::RowNotFound => ErrorKind::NotFound,
                _ => ErrorKind::Provider,
            },
            BackupError::Storage { source, .. } | BackupError::Events(source) => {
                source.kind().clone()
            }
            BackupError::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
                _ => ErrorKind::Provider,
            },
            BackupError::Timeout { .. } => ErrorKind::Timeout,
        }
    }

    /// Whether this error means the backup itself is bad (it failed verification).
    pub fn is_corrupt_backup(&self) -> bool {
        matches!(
            self,
            BackupError::SizeMismatch { .. }
                | BackupError::ChecksumMismatch { .. }
                | BackupError::Unreadable { .. }
                | BackupError::CountMismatch { .. }
        )
    }

    pub(crate) fn io(operation: &'static str) -> impl FnOnce(std::io::Error) -> BackupError {
        move |source| BackupError::Io { operation, source }
    }

    pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> BackupError {
        move |source| BackupError::Database { operation, source }
    }
}

impl From<BackupError> for runway_core::Error {
    fn from(e: BackupError) -> Self {
        let kind = e.kind();
        runway_core::Error::new(kind, e.to_string())
            .with_backend("backup")
            .with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_conversion_keep_the_classification() {
        let id = BackupId::parse("backup_20260101_000000").unwrap();
        let e = BackupError::SizeMismatch {
            id,
            expected: 10,
            actual: 5,
        };
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.is_corrupt_backup());
        let core: runway_core::Error = e.into();
        assert_eq!(*core.kind(), ErrorKind::InvalidInput);
        assert!(core.to_string().contains("backup_20260101_000000"));

        let refused = BackupError::RestoreRefused(Refusal::NotEmpty {
            database: "staging".into(),
            relations: 3,
        });
        assert_eq!(refused.kind(), ErrorKind::Conflict);
        assert!(!refused.is_corrupt_backup());
        assert!(refused.to_string().contains("allow_non_empty"));

        let storage = BackupError::Storage {
            backend: "s3://b".into(),
            operation: "get",
            key: "k".into(),
            source: Box::new(runway_core::Error::unavailable("503")),
        };
        assert_eq!(storage.kind(), ErrorKind::Unavailable);
        assert_eq!(
            BackupError::ToolNotFound("pg_dump").kind(),
            ErrorKind::Unsupported
        );
        assert_eq!(
            BackupError::Timeout {
                tool: "pg_dump",
                limit: Duration::from_secs(1)
            }
            .kind(),
            ErrorKind::Timeout
        );
    }
}
