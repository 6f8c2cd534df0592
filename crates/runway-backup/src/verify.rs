//! Verification levels and reports.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::id::BackupId;

/// How deeply to verify a backup. Each level includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyLevel {
    /// Size and SHA-256 of the stored bytes equal the manifest's.
    Checksum,
    /// The archive is readable: `pg_restore --list` parses and lists data for every manifest table
    /// (SQLite: `PRAGMA integrity_check` passes).
    Listing,
    /// A restore drill: restore into a scratch database and compare every table's row count with the
    /// manifest's. Only this level makes a backup *verified*.
    Drill,
}

impl VerifyLevel {
    /// `checksum`, `listing` or `drill`.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyLevel::Checksum => "checksum",
            VerifyLevel::Listing => "listing",
            VerifyLevel::Drill => "drill",
        }
    }
}

impl fmt::Display for VerifyLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyReport {
    /// The backup.
    pub id: BackupId,
    /// The deepest level that ran (and passed).
    pub level: VerifyLevel,
    /// Time per level, in order.
    pub timings: Vec<(VerifyLevel, Duration)>,
    /// For a drill: how long the restore took, tables and rows compared.
    pub drill: Option<DrillSummary>,
    /// Whether the backup now counts as verified (a drill passed).
    pub verified: bool,
}

/// The numbers of a passed restore drill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillSummary {
    /// The restore into the scratch database.
    pub restore: Duration,
    /// The whole drill (create, restore, count, drop).
    pub total: Duration,
    /// Tables compared.
    pub tables: usize,
    /// Rows counted.
    pub rows: u64,
}
