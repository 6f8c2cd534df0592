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
    /// The runner released the migration lock.
    LockReleased,
    /// A plan was made under the lock.
    Planned {
        /// `up`, `down`, `baseline`, `accept` or `resolve`.
        operation: String,
        /// How many migrations it covers.
        migrations: usize,
    },
    /// A transactional migration timed out waiting for a table lock and will be retried.
    Retrying {
        /// Version.
        version: i64,
        /// The attempt that failed, from 1.
        attempt: u32,
        /// The wait before the next attempt, in milliseconds.
        delay_ms: u64,
        /// The database error (no secrets).
        reason: String,
    },
    /// A migration was reverted.
    Reverted {
        /// Version.
        version: i64,
        /// How long it took, in milliseconds.
        duration_ms: u64,
    },
    /// A no-transaction migration failed part-way and is recorded as dirty.
    Dirty {
        /// Version.
        version: i64,
        /// `up` or `down`.
        direction: String,
    },
    /// Migrations up to this version were recorded as applied without running (baseline).
    Baselined {
        /// Version.
        version: i64,
    },
    /// An edited applied migration's new checksum was accepted.
    Accepted {
        /// Version.
        version: i64,
    },
    /// A dirty record was resolved by the operator.
    Resolved {
        /// Version.
        version: i64,
        /// `applied` or `reverted`.
        resolution: String,
    },
    /// A run finished.
    Finished {
        /// `up`, `down`, `baseline`, `accept` or `resolve`.
        operation: String,
        /// How many migrations it covered.
        migrations: usize,
        /// Wall time, lock wait included, in milliseconds.
        duration_ms: u64,
    },
    /// The lint produced findings.
    Linted {
        /// Errors.
        errors: usize,
        /// Warnings.
        warnings: usize,
    },
}
