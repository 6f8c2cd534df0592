//! # runway-migrate
//!
//! PostgreSQL and SQLite migration runner with a history table, safe locking, dry-run plans, and a
//! migration safety linter ([`lint`]).
//!
//! The runner follows a three-way split:
//!
//! | part | entry points |
//! |---|---|
//! | source: where migrations come from | [`MigrationSource::from_dir`], [`embed_migrations!`], [`Migration`], [`Directives`], [`Checksum`] |
//! | target: backend operations | [`PostgresTarget`], [`SqliteTarget`], the [`MigrationTarget`] / [`TargetSession`] traits |
//! | runner: policy | [`Migrator`] (`up`, `up_to`, `down`, `down_to`, `status`, `current`, `plan`, `baseline`, `accept`, `resolve`), the pure planner [`plan()`] / [`status()`] |
//!
//! Migrations are sqlx's reversible layout (`<version>_<name>.up.sql` / `.down.sql`, or `<version>_<name>.sql`),
//! so an existing sqlx folder works unchanged. Directives go in a file's leading comment
//! (`-- runway: no-transaction, lock_timeout=10s, statement_timeout=5min`; sqlx's `-- no-transaction` too).
//!
//! What the runner guarantees:
//! - each migration is applied once, even with many runners at the same time (a lock polled with
//!   `pg_try_advisory_lock` on one dedicated connection, so waiting runners never deadlock a
//!   `CREATE INDEX CONCURRENTLY`, and the lock goes away with the connection on errors, panics and
//!   cancellation);
//! - a failing transactional migration leaves nothing behind; a failing no-transaction migration leaves a
//!   *dirty* record that blocks every run until [`Migrator::resolve`];
//! - an edited, missing or out-of-order migration is refused with an error naming its version
//!   ([`MigrateError::version`]); checksums ignore line endings and trailing whitespace;
//! - each transactional migration runs under a `lock_timeout` (5 s by default) and is retried with backoff
//!   when it times out waiting for a lock;
//! - [`Migrator::plan`] shows the exact SQL, in order, with transaction boundaries, without writing anything.
//!
//! Progress is reported as [`runway_core::event::MigrationEvent`]s through a [`runway_core::Emitter`];
//! [`ConsoleProgress`] prints them as lines.
//!
//! ```
//! use runway_migrate::{MigrationSource, Migrator, SqliteTarget};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), runway_migrate::MigrateError> {
//! let dir = tempfile::tempdir().unwrap();
//! let migrations = dir.path().join("migrations");
//! std::fs::create_dir(&migrations).unwrap();
//! std::fs::write(migrations.join("1_create_users.up.sql"), "CREATE TABLE users (id INTEGER PRIMARY KEY);").unwrap();
//! std::fs::write(migrations.join("1_create_users.down.sql"), "DROP TABLE users;").unwrap();
//! std::fs::write(migrations.join("2_add_phone.up.sql"), "ALTER TABLE users ADD COLUMN phone TEXT;").unwrap();
//! std::fs::write(migrations.join("2_add_phone.down.sql"), "ALTER TABLE users DROP COLUMN phone;").unwrap();
//!
//! let source = MigrationSource::from_dir(&migrations)?;
//! let migrator = Migrator::new(source, SqliteTarget::new(dir.path().join("app.db"))?);
//!
//! let plan = migrator.plan(&runway_migrate::Request::Up { to: None }).await?;
//! assert!(plan.to_sql().contains("ALTER TABLE users ADD COLUMN phone TEXT;"));
//!
//! assert_eq!(migrator.up().await?.versions, vec![1, 2]);
//! assert_eq!(migrator.current().await?, Some(2));
//! assert_eq!(migrator.down(1).await?.versions, vec![2]);
//! assert_eq!(migrator.status().await?.pending(), vec![2]);
//! # Ok(()) }
//! ```

mod directive;
mod embed;
mod error;
mod plan;
mod progress;
mod runner;
mod source;
mod sql;
mod target;

#[cfg(feature = "lint")]
pub mod lint;

pub use directive::{DirectiveError, Directives, parse_duration};
pub use error::{Direction, MigrateError, Result};
pub use plan::{
    Batch, BatchKind, DownTarget, MigrationState, Plan, PlannedMigration, Policy, Request,
    Resolution, Status, StatusEntry, plan, status,
};
pub use progress::{ConsoleProgress, describe};
pub use runner::{Migrator, Report};
pub use source::{
    Checksum, FileKind, FileName, FileNameError, Migration, MigrationScript, MigrationSource,
    SourceFile, parse_file_name,
};
pub use sql::{is_terminated, non_transactional, split_statements};
pub use target::{
    AppliedMigration, Dialect, HistoryTable, MigrationTarget, PostgresTarget, SqliteTarget,
    TargetError, TargetErrorKind, TargetSession,
};

#[doc(hidden)]
pub mod __private {
    pub use include_dir;
}
