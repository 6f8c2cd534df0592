//! Backend operations: connect, lock, read and write the history table, execute SQL.
//!
//! A [`MigrationTarget`] hands out [`TargetSession`]s: one dedicated (never pooled) connection that holds the
//! migration lock and runs the work. Dropping a session closes its connection, which releases the lock on
//! every exit path (errors, panics, a cancelled future). The SQL a session runs comes from [`Dialect`], so
//! [`Plan`](crate::Plan)s print exactly what runs.

mod postgres;
mod sqlite;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_core::{BoxError, ErrorKind};

pub use postgres::PostgresTarget;
pub use sqlite::SqliteTarget;

use crate::error::{MigrateError, Result};
use crate::source::Migration;

/// The SQL flavour of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// The history table's (optionally schema-qualified) name; default `runway_migrations`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoryTable {
    schema: Option<String>,
    name: String,
}

impl Default for HistoryTable {
    fn default() -> Self {
        HistoryTable {
            schema: None,
            name: "runway_migrations".into(),
        }
    }
}

fn valid_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63
}

impl HistoryTable {
    /// Parse `name` or `schema.name` (ASCII letters, digits and `_`, at most 63 characters each).
    pub fn parse(qualified: &str) -> Result<HistoryTable> {
        let (schema, name) = match qualified.split_once('.') {
            Some((s, n)) => (Some(s), n),
            None => (None, qualified),
        };
        if !valid_ident(name) || schema.is_some_and(|s| !valid_ident(s)) {
            return Err(MigrateError::Config(format!(
                "history table name {qualified:?} must be `name` or `schema.name` of ASCII letters, digits and _"
            )));
        }
        Ok(HistoryTable {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        })
    }

    /// The schema, if qualified.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The bare table name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The quoted, qualified name for SQL.
    pub fn quoted(&self) -> String {
        match &self.schema {
            Some(s) => format!("\"{s}\".\"{}\"", self.name),
            None => format!("\"{}\"", self.name),
        }
    }

    /// `schema.name` or `name`, unquoted.
    pub fn qualified(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn millis(d: Duration) -> u128 {
    d.as_millis()
}

impl Dialect {
    /// `CREATE TABLE IF NOT EXISTS` for the history table.
    pub fn create_history(self, t: &HistoryTable) -> String {
        let q = t.quoted();
        match self {
            Dialect::Postgres => {
                let schema = t
                    .schema()
                    .map(|s| format!("CREATE SCHEMA IF NOT EXISTS \"{s}\";\n"))
                    .unwrap_or_default();
                format!(
                    "{schema}CREATE TABLE IF NOT EXISTS {q} (\n    version BIGINT PRIMARY KEY,\n    name TEXT NOT NULL,\n    checksum TEXT NOT NULL,\n    applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),\n    duration_ms BIGINT NOT NULL DEFAULT 0,\n    success BOOLEAN NOT NULL,\n    no_transaction BOOLEAN NOT NULL DEFAULT FALSE,\n    baseline BOOLEAN NOT NULL DEFAULT FALSE\n)"
                )
            }
            Dialect::Sqlite => format!(
                "CREATE TABLE IF NOT EXISTS {q} (\n    version INTEGER PRIMARY KEY,\n    name TEXT NOT NULL,\n    checksum TEXT NOT NULL,\n    applied_at TEXT NOT NULL,\n    duration_ms INTEGER NOT NULL DEFAULT 0,\n    success BOOLEAN NOT NULL,\n    no_transaction BOOLEAN NOT NULL DEFAULT FALSE,\n    baseline BOOLEAN NOT NULL DEFAULT FALSE\n)"
            ),
        }
    }

    /// `SELECT` of every history row, by version.
    pub fn select_history(self, t: &HistoryTable) -> String {
        format!(
            "SELECT version, name, checksum, applied_at, duration_ms, success, no_transaction, baseline FROM {} ORDER BY version",
            t.quoted()
        )
    }

    fn now(self) -> &'static str {
        match self {
            Dialect::Postgres => "clock_timestamp()",
            Dialect::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        }
    }

    fn elapsed_ms(self) -> &'static str {
        match self {
            Dialect::Postgres => {
                "CAST(EXTRACT(EPOCH FROM (clock_timestamp() - applied_at)) * 1000 AS BIGINT)"
            }
            Dialect::Sqlite => {
                "CAST(ROUND((julianday('now') - julianday(applied_at)) * 86400000.0) AS INTEGER)"
            }
        }
    }

    /// The row that claims a migration before its SQL runs (`success = FALSE` until it finishes).
    pub fn insert_claim(self, t: &HistoryTable, m: &Migration) -> String {
        format!(
            "INSERT INTO {} (version, name, checksum, applied_at, duration_ms, success, no_transaction, baseline) VALUES ({}, {}, {}, {}, 0, FALSE, {}, FALSE)",
            t.quoted(),
            m.version,
            sql_text(&m.name),
            sql_text(m.checksum.as_str()),
            self.now(),
            bool_sql(m.up.directives.no_transaction),
        )
    }

    /// A baseline row: recorded as applied without running.
    pub fn insert_baseline(self, t: &HistoryTable, m: &Migration) -> String {
        format!(
            "INSERT INTO {} (version, name, checksum, applied_at, duration_ms, success, no_transaction, baseline) VALUES ({}, {}, {}, {}, 0, TRUE, {}, TRUE)",
            t.quoted(),
            m.version,
            sql_text(&m.name),
            sql_text(m.checksum.as_str()),
            self.now(),
            bool_sql(m.up.directives.no_transaction),
        )
    }

    /// Mark a claimed migration as applied and record its duration.
    pub fn mark_applied(self, t: &HistoryTable, version: i64) -> String {
        format!(
            "UPDATE {} SET success = TRUE, duration_ms = {} WHERE version = {version}",
            t.quoted(),
            self.elapsed_ms()
        )
    }

    /// Mark a migration as dirty (a no-transaction revert in progress).
    pub fn mark_dirty(self, t: &HistoryTable, version: i64) -> String {
        format!(
            "UPDATE {} SET success = FALSE WHERE version = {version}",
            t.quoted()
        )
    }

    /// Mark a dirty migration as applied (resolve).
    pub fn mark_resolved(self, t: &HistoryTable, version: i64) -> String {
        format!(
            "UPDATE {} SET success = TRUE WHERE version = {version}",
            t.quoted()
        )
    }

    /// Remove a migration's row (reverted).
    pub fn delete(self, t: &HistoryTable, version: i64) -> String {
        format!("DELETE FROM {} WHERE version = {version}", t.quoted())
    }

    /// Accept the file's current checksum and name for an applied migration.
    pub fn accept(self, t: &HistoryTable, m: &Migration) -> String {
        format!(
            "UPDATE {} SET checksum = {}, name = {} WHERE version = {}",
            t.quoted(),
            sql_text(m.checksum.as_str()),
            sql_text(&m.name),
            m.version
        )
    }

    /// Start a transaction (`BEGIN IMMEDIATE` on SQLite, so lock waits happen up front).
    pub fn begin(self) -> &'static str {
        match self {
            Dialect::Postgres => "BEGIN",
            Dialect::Sqlite => "BEGIN IMMEDIATE",
        }
    }

    /// `SET [LOCAL] name = 'Nms'`, or `None` where the dialect has no such setting (SQLite).
    pub fn set_timeout(self, name: &str, value: Duration, local: bool) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!(
                "SET {}{name} = '{}ms'",
                if local { "LOCAL " } else { "" },
                millis(value)
            )),
            Dialect::Sqlite => None,
        }
    }

    /// `RESET name`, or `None` on SQLite.
    pub fn reset(self, name: &str) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!("RESET {name}")),
            Dialect::Sqlite => None,
        }
    }
}

fn bool_sql(b: bool) -> &'static str {
    if b { "TRUE" } else { "FALSE" }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppliedMigration {
    /// The version.
    pub version: i64,
    /// The name recorded.
    pub name: String,
    /// The checksum recorded (hex).
    pub checksum: String,
    /// When it started.
    pub applied_at: DateTime<Utc>,
    /// How long it took.
    pub duration: Duration,
    /// `false`: a no-transaction migration failed part-way (dirty).
    pub success: bool,
    /// Whether it ran without a transaction.
    pub no_transaction: bool,
    /// Recorded by `baseline`, never run.
    pub baseline: bool,
}

/// What kind of database failure a [`TargetError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetErrorKind {
    /// Could not connect.
    Connect,
    /// A lock wait timed out (PostgreSQL `lock_timeout`, SQLite busy): safe to retry a transaction.
    LockTimeout,
    /// A deadlock was detected and this transaction was chosen as the victim: safe to retry.
    Deadlock,
    /// `statement_timeout` cancelled the statement.
    StatementTimeout,
    /// Any other SQL error.
    Query,
    /// A local I/O failure (SQLite lock file).
    Io,
}

/// A database failure, with the SQLSTATE (PostgreSQL) or result code (SQLite) when there is one.
pub struct TargetError {
    kind: TargetErrorKind,
    code: Option<String>,
    source: BoxError,
}

impl TargetError {
    /// A new error.
    pub fn new(kind: TargetErrorKind, code: Option<String>, source: impl Into<BoxError>) -> Self {
        TargetError {
            kind,
            code,
            source: source.into(),
        }
    }

    /// The classification.
    pub fn kind(&self) -> TargetErrorKind {
        self.kind
    }

    /// SQLSTATE or SQLite result code.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Whether a transaction that failed with this error can simply be run again.
    pub fn is_lock_timeout(&self) -> bool {
        matches!(
            self.kind,
            TargetErrorKind::LockTimeout | TargetErrorKind::Deadlock
        )
    }

    pub(crate) fn error_kind(&self) -> ErrorKind {
        match self.kind {
            TargetErrorKind::Connect => ErrorKind::Unavailable,
            TargetErrorKind::LockTimeout
            | TargetErrorKind::Deadlock
            | TargetErrorKind::StatementTimeout => ErrorKind::Timeout,
            TargetErrorKind::Query | TargetErrorKind::Io => ErrorKind::Provider,
        }
    }
}

impl fmt::Debug for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TargetError")
            .field("kind", &self.kind)
            .field("code", &self.code)
            .field("source", &format_args!("{}", self.source))
            .finish()
    }
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{} [{c}]", self.source),
            None => write!(f, "{}", self.source),
        }
    }
}

impl std::error::Error for TargetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// A database the runner can migrate.
#[async_trait]
pub trait MigrationTarget: Send + Sync + fmt::Debug + 'static {
    /// The SQL flavour.
    fn dialect(&self) -> Dialect;
    /// The history table.
    fn history_table(&self) -> &HistoryTable;
    /// Open a dedicated session (a fresh connection, never from a pool).
    async fn connect(&self) -> Result<Box<dyn TargetSession>, TargetError>;
}

/// One dedicated connection. Dropping it closes the connection and so releases its lock.
#[async_trait]
pub trait TargetSession: Send + fmt::Debug {
    /// Try once to take the migration lock; `false` when another session holds it. Never blocks.
    async fn try_lock(&mut self) -> Result<bool, TargetError>;
    /// Release the lock taken by [`try_lock`](Self::try_lock).
    async fn unlock(&mut self) -> Result<(), TargetError>;
    /// Whether the history table exists (read-only operations never create it).
    async fn history_exists(&mut self) -> Result<bool, TargetError>;
    /// Read the history table, by version.
    async fn history(&mut self) -> Result<Vec<AppliedMigration>, TargetError>;
    /// Execute `sql` as one simple query (several statements allowed).
    async fn execute(&mut self, sql: &str) -> Result<(), TargetError>;
    /// Roll back an open transaction, if any (errors are ignored by callers).
    async fn rollback(&mut self) -> Result<(), TargetError>;
    /// Close the connection cleanly.
    async fn close(self: Box<Self>) -> Result<(), TargetError>;
}

pub(crate) fn classify_sqlx(e: sqlx::Error, dialect: Dialect) -> TargetError {
    let (kind, code) = match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.to_string());
            let kind = match (dialect, code.as_deref()) {
                (Dialect::Postgres, Some("55P03")) => TargetErrorKind::LockTimeout,
                (Dialect::Postgres, Some("40P01")) => TargetErrorKind::Deadlock,
                (Dialect::Postgres, Some("57014")) => TargetErrorKind::StatementTimeout,
                (Dialect::Sqlite, Some(c)) => match c.parse::<i64>().map(|n| n & 0xff) {
                    Ok(5) | Ok(6) => TargetErrorKind::LockTimeout,
                    _ => TargetErrorKind::Query,
                },
                _ => TargetErrorKind::Query,
            };
            (kind, code)
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => (TargetErrorKind::Connect, None),
        _ => (TargetErrorKind::Query, None),
    };
    TargetError::new(kind, code, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_table_names_are_validated_and_quoted() {
        let t = HistoryTable::parse("ops.schema_history").unwrap();
        assert_eq!(t.quoted(), "\"ops\".\"schema_history\"");
        assert_eq!(t.qualified(), "ops.schema_history");
        for bad in [
            "",
            "a.b.c",
            "x\"; DROP TABLE users; --",
            "1abc",
            "a-b",
            "a.",
            ".a",
        ] {
            assert!(
                matches!(HistoryTable::parse(bad), Err(MigrateError::Config(_))),
                "{bad:?}"
            );
        }
        assert!(
            Dialect::Postgres
                .create_history(&t)
                .starts_with("CREATE SCHEMA IF NOT EXISTS \"ops\";")
        );
    }

    #[test]
    fn timeouts_render_per_dialect() {
        let d = Duration::from_millis(1500);
        assert_eq!(
            Dialect::Postgres
                .set_timeout("lock_timeout", d, true)
                .as_deref(),
            Some("SET LOCAL lock_timeout = '1500ms'")
        );
        assert_eq!(Dialect::Sqlite.set_timeout("lock_timeout", d, true), None);
        assert_eq!(Dialect::Sqlite.begin(), "BEGIN IMMEDIATE");
    }

    #[test]
    fn target_errors_classify() {
        let e = TargetError::new(TargetErrorKind::Deadlock, Some("40P01".into()), "deadlock");
        assert!(e.is_lock_timeout());
        assert_eq!(e.error_kind(), ErrorKind::Timeout);
        assert_eq!(e.to_string(), "deadlock [40P01]");
        let e = TargetError::new(TargetErrorKind::StatementTimeout, None, "cancelled");
        assert!(!e.is_lock_timeout());
    }
}
