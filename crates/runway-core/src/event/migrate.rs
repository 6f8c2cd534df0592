use serde::{Deserialize, Serialize};

/// Events of the migration runner and linter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MigrationEvent {
    /// The runner is waiting for the migration lock.
    LockWaiting,
    /// The runner holds the migration lock.
    LockAcquired,
    /// A migration started.
    Started {
        /// Version.
        version: i64,
        /// Name.
        name: String,
        /// `up` or `down`.
        direction: String,
    },
    /// A migration finished.
    Applied {
        /// Version.
        version: i64,
        /// How long it took, in milliseconds.
        duration_ms: u64,
    },
    /// A migration failed.
    Failed {
        /// Version.
        version: i64,
        /// The error (no secrets).
        error: String,
    },
    /// The lint produced findings.
    Linted {
        /// Errors.
        errors: usize,
        /// Warnings.
        warnings: usize,
    },
}
