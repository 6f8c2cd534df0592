//! # runway-backup
//!
//! Backups that are proven, not hoped for: `pg_dump` (custom format) streamed through SHA-256 into a
//! local directory or S3-compatible object storage, a JSON manifest with per-table row counts taken in
//! the dump's own snapshot, three verification levels up to a restore drill, a guarded restore, a
//! grandfather-father-son retention planner and a freshness gate for releases. SQLite (the embedded
//! default) gets the same manifest and verification through `VACUUM INTO`.
//!
//! | what | entry points |
//! |---|---|
//! | take, list, verify, restore, expire | [`Backups`], [`BackupsBuilder`], [`RestoreOptions`], [`VerifyLevel`] |
//! | storage | [`BackupStorage`], [`LocalDir`], `S3Storage` (feature `s3`) |
//! | records | [`Manifest`], [`Verification`], [`BackupId`], [`parse_listing`], [`RestoreListing`] |
//! | retention (pure) | [`retention::plan`], [`RetentionPolicy`], [`RetentionPlan`] |
//! | release gate (pure) | [`freshness_gate`], [`GateOutcome`] |
//! | PostgreSQL | [`PgUrl`] (password kept secret), [`PgTools`], [`find_pg_bin`] |
//! | errors | [`BackupError`] (`kind()` maps to [`runway_core::ErrorKind`]) |
//!
//! A backup counts as **verified** only after a restore drill restored it into a scratch database and
//! found every table's row count equal to the manifest's. Events ([`runway_core::event::BackupEvent`])
//! report progress in bytes.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> runway_backup::Result<()> {
//! use std::sync::Arc;
//! use runway_backup::{Backups, LocalDir, VerifyLevel};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let db = dir.path().join("app.db");
//! runway_backup::demo::create_sqlite(&db, 25).await?;
//!
//! let backups = Backups::builder()
//!     .with_storage(Arc::new(LocalDir::new(dir.path().join("backups"))))
//!     .build()?;
//! let manifest = backups.backup_sqlite(&db).await?;
//! assert_eq!(manifest.tables["orders"], 75);
//!
//! let report = backups.verify(manifest.id, VerifyLevel::Drill).await?;
//! assert!(report.verified);
//! let gate = backups.freshness_gate(std::time::Duration::from_secs(3600)).await?;
//! assert!(gate.passed());
//! # Ok(()) }
//! ```

mod backups;
pub mod demo;
mod error;
mod gate;
mod id;
mod listing;
mod manifest;
mod pg;
mod pipe;
pub mod retention;
mod sqlite;
mod storage;
mod verify;

pub use backups::{
    BackupRecord, Backups, BackupsBuilder, RestoreOptions, RestoreReport, RetentionMode,
};
pub use error::{BackupError, CountMismatch, Refusal, Result};
pub use gate::{GateFailure, GateOutcome, freshness_gate};
pub use id::{BackupId, Engine, KeyKind, ListedBackup, parse_key, parse_listing};
pub use listing::{MAX_LISTING_BYTES, RestoreListing, TocEntry};
pub use manifest::{
    Check, DrillRecord, MANIFEST_VERSION, MAX_RECORD_BYTES, Manifest, Source, Verification,
};
pub use pg::tools::{PgTools, PgUrl, find_pg_bin};
pub use retention::{Candidate, KeepReason, RetentionPlan, RetentionPolicy};
pub use storage::{BackupStorage, ByteStream, LocalDir, ObjectInfo, StorageWriter};
#[cfg(feature = "s3")]
pub use storage::{S3Storage, S3StorageBuilder};
pub use verify::{DrillSummary, VerifyLevel, VerifyReport};
