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
}
