use serde::{Deserialize, Serialize};

/// Events of backups, restores and restore drills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BackupEvent {
    /// A backup started.
    Started {
        /// Backup id (its file name).
        id: String,
    },
    /// Bytes written so far.
    Progress {
        /// Backup id.
        id: String,
        /// Bytes so far.
        bytes: u64,
    },
    /// A backup finished.
    Completed {
        /// Backup id.
        id: String,
        /// Size in bytes.
        bytes: u64,
        /// SHA-256, hex.
        sha256: String,
    },
    /// A verification step finished.
    Verified {
        /// Backup id.
        id: String,
        /// `checksum`, `listing` or `drill`.
        level: String,
        /// Whether it passed.
        ok: bool,
    },
    /// A retention plan deleted a backup.
    Deleted {
        /// Backup id.
        id: String,
    },
    /// Bytes read back so far (verification, restore).
    ReadProgress {
        /// Backup id.
        id: String,
        /// Bytes so far.
        bytes: u64,
        /// Total bytes, from the manifest.
        total: u64,
    },
    /// A restore into a named target started (the guard passed).
    RestoreStarted {
        /// Backup id.
        id: String,
        /// Target database (name only, never a URL).
        target: String,
    },
    /// The restore guard refused a target.
    RestoreRefused {
        /// Backup id.
        id: String,
        /// Target database (name only).
        target: String,
        /// Why.
        reason: String,
    },
    /// A restore finished.
    RestoreCompleted {
        /// Backup id.
        id: String,
        /// Target database (name only).
        target: String,
        /// How long it took.
        duration_ms: u64,
    },
    /// A restore drill finished.
    DrillCompleted {
        /// Backup id.
        id: String,
        /// Whether every row count matched.
        ok: bool,
        /// The whole drill.
        duration_ms: u64,
        /// The restore part.
        restore_ms: u64,
        /// Tables compared.
        tables: usize,
        /// Rows counted.
        rows: u64,
    },
    /// A retention plan was made (and applied unless `dry_run`).
    RetentionPlanned {
        /// Kept backup ids.
        keep: Vec<String>,
        /// Backup ids deleted (or that would be, in a dry run).
        delete: Vec<String>,
        /// Whether nothing was deleted.
        dry_run: bool,
    },
}
