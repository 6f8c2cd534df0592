//! The crate's error type: every variant about a migration names its version.

use std::path::PathBuf;
use std::time::Duration;

use runway_core::ErrorKind;

use crate::directive::DirectiveError;
use crate::source::FileNameError;
use crate::target::TargetError;

/// `Result` with [`MigrateError`].
pub type Result<T, E = MigrateError> = std::result::Result<T, E>;

/// Up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Applying a migration.
    Up,
    /// Reverting a migration.
    Down,
}

impl Direction {
    /// `"up"` or `"down"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong loading, planning or running migrations.
///
/// Classify with [`MigrateError::kind`] and [`MigrateError::version`]; never match on the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// A migration file or folder could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A `.sql` file name does not follow `<version>_<name>[.up|.down].sql`.
    #[error("bad migration file name {file:?}: {reason}")]
    BadFileName {
        /// The file name.
        file: String,
        /// What is wrong with it.
        reason: FileNameError,
    },
    /// A migration file is not UTF-8.
    #[error("migration file {file:?} is not UTF-8")]
    NotUtf8 {
        /// The file.
        file: String,
    },
    /// Two files claim the same version and direction.
    #[error("migration {version}: both {first:?} and {second:?} define it")]
    DuplicateVersion {
        /// The version.
        version: i64,
        /// The first file.
        first: String,
        /// The second file.
        second: String,
    },
    /// A `.down.sql` file has no matching up file.
    #[error("migration {version}: {file:?} has no matching up file")]
    OrphanDown {
        /// The version.
        version: i64,
        /// The down file.
        file: String,
    },
    /// A directive in a file's leading comment is malformed.
    #[error("migration {version}: {file:?}: {source}")]
    Directive {
        /// The version.
        version: i64,
        /// The file.
        file: String,
        /// What is wrong.
        #[source]
        source: DirectiveError,
    },
    /// An applied migration's file changed since it was applied.
    #[error(
        "migration {version} ({name}) was edited after it was applied (applied checksum {applied}, file checksum {current}); revert the edit, or accept it with `accept {version}`"
    )]
    Edited {
        /// The version.
        version: i64,
        /// Its name.
        name: String,
        /// Checksum recorded in the history table.
        applied: String,
        /// Checksum of the file now.
        current: String,
    },
    /// An applied migration has no file any more.
    #[error(
        "migration {version} ({name}) is recorded as applied but its file is missing from the source"
    )]
    MissingApplied {
        /// The version.
        version: i64,
        /// The name recorded in the history table.
        name: String,
    },
    /// A pending migration is older than the newest applied one.
    #[error(
        "migration {version} is pending but older than the latest applied migration {latest}; renumber it, or allow out-of-order migrations"
    )]
    OutOfOrder {
        /// The pending version.
        version: i64,
        /// The newest applied version.
        latest: i64,
    },
    /// A migration failed part-way without a transaction; it blocks every run until resolved.
    #[error(
        "migration {version} ({name}) is dirty: it failed part-way outside a transaction; repair the schema by hand, then `resolve {version}` as applied or reverted"
    )]
    Dirty {
        /// The version.
        version: i64,
        /// Its name.
        name: String,
    },
    /// `resolve` was asked for a migration that is not dirty.
    #[error("migration {version} is not dirty; nothing to resolve")]
    NotDirty {
        /// The version.
        version: i64,
    },
    /// `accept` or `resolve` was asked for a migration that is not in the history table.
    #[error("migration {version} is not recorded in the history table")]
    NotApplied {
        /// The version.
        version: i64,
    },
    /// A version asked for is not in the source.
    #[error("migration {version} is not in the source")]
    UnknownVersion {
        /// The version.
        version: i64,
    },
    /// A transactional migration holds a statement PostgreSQL refuses inside a transaction block.
    #[error(
        "migration {version}: {file:?} runs {statement}, which cannot run inside a transaction; add `-- runway: no-transaction` to its leading comment"
    )]
    NeedsNoTransaction {
        /// The version.
        version: i64,
        /// The file.
        file: String,
        /// The kind of statement (`CREATE INDEX CONCURRENTLY`, ...).
        statement: &'static str,
    },
    /// A migration to revert has no down file.
    #[error("migration {version} ({name}) has no down file and cannot be reverted")]
    Irreversible {
        /// The version.
        version: i64,
        /// Its name.
        name: String,
    },
    /// `baseline` needs an empty history table.
    #[error(
        "cannot baseline at {version}: the history table already records {recorded} migration(s)"
    )]
    BaselineNotEmpty {
        /// The version asked for.
        version: i64,
        /// How many rows the history holds.
        recorded: usize,
    },
    /// A migration's SQL failed.
    #[error(
        "migration {version} ({name}) failed {direction}{} after {attempts} attempt(s){}: {source}",
        statement.map(|s| format!(" at statement {s}")).unwrap_or_default(),
        if *dirty { "; it is recorded as dirty" } else { "; nothing was changed" }
    )]
    Failed {
        /// The version.
        version: i64,
        /// Its name.
        name: String,
        /// Up or down.
        direction: Direction,
        /// For a no-transaction migration, the 1-based statement that failed.
        statement: Option<usize>,
        /// Attempts made (lock-timeout retries included).
        attempts: u32,
        /// Whether a dirty record was left (a no-transaction migration failed part-way).
        dirty: bool,
        /// The database error.
        #[source]
        source: TargetError,
    },
    /// The migration lock was not acquired within the configured wait.
    #[error("the migration lock was not acquired within {waited:?}; another runner holds it")]
    LockWait {
        /// How long the runner waited.
        waited: Duration,
    },
    /// A bookkeeping operation (connect, lock, read or write the history) failed.
    #[error("{operation} failed: {source}")]
    Database {
        /// What was being done.
        operation: &'static str,
        /// The database error.
        #[source]
        source: TargetError,
    },
    /// The configuration is invalid (table name, URL, ...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An event sink refused an event.
    #[error("event sink failed: {0}")]
    Event(#[source] runway_core::Error),
}

impl MigrateError {
    /// The backend-independent classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            MigrateError::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
                _ => ErrorKind::InvalidInput,
            },
            MigrateError::BadFileName { .. }
            | MigrateError::NotUtf8 { .. }
            | MigrateError::DuplicateVersion { .. }
            | MigrateError::OrphanDown { .. }
            | MigrateError::Directive { .. }
            | MigrateError::NeedsNoTransaction { .. }
            | MigrateError::Config(_) => ErrorKind::InvalidInput,
            MigrateError::Edited { .. }
            | MigrateError::MissingApplied { .. }
            | MigrateError::OutOfOrder { .. }
            | MigrateError::Dirty { .. }
            | MigrateError::NotDirty { .. }
            | MigrateError::BaselineNotEmpty { .. } => ErrorKind::Conflict,
            MigrateError::NotApplied { .. } | MigrateError::UnknownVersion { .. } => {
                ErrorKind::NotFound
            }
            MigrateError::Irreversible { .. } => ErrorKind::Unsupported,
            MigrateError::Failed { source, .. } => {
                if source.is_lock_timeout() {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Provider
                }
            }
            MigrateError::LockWait { .. } => ErrorKind::Timeout,
            MigrateError::Database { source, .. } => source.error_kind(),
            MigrateError::Event(e) => e.kind().clone(),
        }
    }

    /// The migration version the error is about, when it is about one.
    pub fn version(&self) -> Option<i64> {
        match self {
            MigrateError::DuplicateVersion { version, .. }
            | MigrateError::OrphanDown { version, .. }
            | MigrateError::Directive { version, .. }
            | MigrateError::NeedsNoTransaction { version, .. }
            | MigrateError::Edited { version, .. }
            | MigrateError::MissingApplied { version, .. }
            | MigrateError::OutOfOrder { version, .. }
            | MigrateError::Dirty { version, .. }
            | MigrateError::NotDirty { version }
            | MigrateError::NotApplied { version }
            | MigrateError::UnknownVersion { version }
            | MigrateError::Irreversible { version, .. }
            | MigrateError::BaselineNotEmpty { version, .. }
            | MigrateError::Failed { version, .. } => Some(*version),
            _ => None,
        }
    }

    /// Whether running again later may succeed without any change (lock contention, a database down).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Timeout | ErrorKind::Unavailable | ErrorKind::RateLimited { .. }
        ) && !matches!(self, MigrateError::Failed { dirty: true, .. })
    }
}

impl From<MigrateError> for runway_core::Error {
    fn from(e: MigrateError) -> Self {
        let kind = e.kind();
        let message = e.to_string();
        runway_core::Error::new(kind, message)
            .with_backend("migrate")
            .with_source(e)
    }
}
