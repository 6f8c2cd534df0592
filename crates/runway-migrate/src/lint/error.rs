//! The linter's and rehearsal's error type.

use std::path::PathBuf;

use runway_core::ErrorKind;

/// What went wrong while loading, linting, querying context or rehearsing. Findings are not errors: they
/// are in the [`Report`](super::Report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LintError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// A `.sql` file in a migrations folder has no leading version.
    #[error("{path}: a migration file name starts with its version, e.g. 0003_add_phone.up.sql")]
    InvalidMigrationName {
        /// The file.
        path: PathBuf,
    },
    /// A downgrade file without its up file.
    #[error("{path}: downgrade without an up migration")]
    MissingUpFile {
        /// The down file.
        path: PathBuf,
    },
    /// Two migrations share a version.
    #[error("two migrations have version {version}")]
    DuplicateVersion {
        /// The version.
        version: String,
    },
    /// A rule id that does not exist.
    #[error("unknown lint rule `{rule}`")]
    UnknownRule {
        /// What was given.
        rule: String,
    },
    /// Invalid linter or rehearsal configuration.
    #[error("invalid configuration: {message}")]
    InvalidConfig {
        /// What is wrong (never contains a URL or password).
        message: String,
    },
    /// A database call failed.
    #[error("database error during {step}: {source}")]
    Database {
        /// What the rehearsal or context query was doing.
        step: String,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed while being rehearsed.
    #[error("migration {version} failed during {direction} in the rehearsal: {message}")]
    MigrationFailed {
        /// The version.
        version: String,
        /// `up`, `down` or `re-up`.
        direction: String,
        /// The database's message.
        message: String,
    },
    /// A PostgreSQL client tool (pg_dump, pg_restore) is missing or failed.
    #[error("{tool} failed: {message}")]
    Tool {
        /// The tool.
        tool: String,
        /// Exit status and stderr (with no connection string).
        message: String,
    },
}

impl LintError {
    /// The runway-wide classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            LintError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ErrorKind::NotFound
            }
            // Not UTF-8: the file's content is bad input, not an IO failure.
            LintError::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidData => {
                ErrorKind::InvalidInput
            }
            LintError::Io { .. } => ErrorKind::Provider,
            LintError::InvalidMigrationName { .. }
            | LintError::MissingUpFile { .. }
            | LintError::DuplicateVersion { .. }
            | LintError::UnknownRule { .. }
            | LintError::InvalidConfig { .. }
            | LintError::MigrationFailed { .. } => ErrorKind::InvalidInput,
            LintError::Database { source, .. } => match source {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                    ErrorKind::Unavailable
                }
                _ => ErrorKind::Provider,
            },
            LintError::Tool { .. } => ErrorKind::Provider,
        }
    }

    /// Whether retrying may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Unavailable | ErrorKind::Timeout)
    }
}

impl From<LintError> for runway_core::Error {
    fn from(e: LintError) -> Self {
        let kind = e.kind();
        runway_core::Error::new(kind, e.to_string()).with_source(e)
    }
}
