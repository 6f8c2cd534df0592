//! SQLite: the embedded default. The lock is an exclusive OS file lock on `<database>-migrate.lock`, polled
//! with a non-blocking try and released when the session is dropped (the operating system releases it
//! even if the process dies). Lock waits inside SQLite itself are bounded by `busy_timeout`.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};

use super::{
    AppliedMigration, Dialect, HistoryTable, MigrationTarget, TargetError, TargetErrorKind,
    TargetSession, classify_sqlx,
};
use crate::error::{MigrateError, Result};

/// A SQLite database file to migrate (created when missing).
#[derive(Clone)]
pub struct SqliteTarget {
    path: PathBuf,
    table: HistoryTable,
    busy_timeout: Duration,
}

impl fmt::Debug for SqliteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteTarget")
            .field("path", &self.path)
            .field("table", &self.table.qualified())
            .field("busy_timeout", &self.busy_timeout)
            .finish()
    }
}

impl SqliteTarget {
    /// A target for the database file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Result<SqliteTarget> {
        let path = path.into();
        let shown = path.to_string_lossy();
        if shown.is_empty() || shown.contains(":memory:") || shown.contains("mode=memory") {
            return Err(MigrateError::Config(
                "SQLite migrations need a database file (an in-memory database cannot be shared by the lock and the runner)"
                    .into(),
            ));
        }
        Ok(SqliteTarget {
            path,
            table: HistoryTable::default(),
            busy_timeout: Duration::from_secs(5),
        })
    }

    /// A target from a `sqlite://path` or `sqlite:path` URL (query parameters are ignored).
    pub fn from_url(url: &str) -> Result<SqliteTarget> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| MigrateError::Config("a SQLite URL starts with sqlite:".into()))?;
        let path = rest.split('?').next().unwrap_or(rest);
        Self::new(path)
    }

    /// Use another history table.
    #[must_use = "with_table returns the changed target"]
    pub fn with_table(mut self, table: HistoryTable) -> Self {
        self.table = table;
        self
    }

    /// How long SQLite waits for its own locks before failing with `SQLITE_BUSY` (default 5 s); a busy
    /// transactional migration is then retried with backoff.
    #[must_use]
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push("-migrate.lock");
        PathBuf::from(p)
    }
}

#[async_trait]
impl MigrationTarget for SqliteTarget {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn history_table(&self) -> &HistoryTable {
        &self.table
    }

    async fn connect(&self) -> Result<Box<dyn TargetSession>, TargetError> {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(sqlite)?
            .filename(&self.path)
            .create_if_missing(true)
            .busy_timeout(self.busy_timeout);
        let conn = SqliteConnection::connect_with(&options)
            .await
            .map_err(|e| {
                let mut err = sqlite(e);
                err.kind = TargetErrorKind::Connect;
                err
            })?;
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.lock_path())
            .map_err(|e| TargetError::new(TargetErrorKind::Io, None, e))?;
        Ok(Box::new(SqliteSession {
            conn: Some(conn),
            lock,
            table: self.table.clone(),
        }))
    }
}

struct SqliteSession {
    conn: Option<SqliteConnection>,
    lock: File,
    table: HistoryTable,
}

impl fmt::Debug for SqliteSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteSession")
            .field("table", &self.table.qualified())
            .finish_non_exhaustive()
    }
}

fn sqlite(e: sqlx::Error) -> TargetError {
    classify_sqlx(e, Dialect::Sqlite)
}

impl SqliteSession {
    fn conn(&mut self) -> Result<&mut SqliteConnection, TargetError> {
        self.conn.as_mut().ok_or_else(|| {
            TargetError::new(TargetErrorKind::Connect, None, "the session is closed")
        })
    }
}

#[async_trait]
impl TargetSession for SqliteSession {
    async fn try_lock(&mut self) -> Result<bool, TargetError> {
        match fs4::FileExt::try_lock(&self.lock) {
            Ok(()) => Ok(true),
            Err(fs4::TryLockError::WouldBlock) => Ok(false),
            Err(fs4::TryLockError::Error(e)) => Err(TargetError::new(TargetErrorKind::Io, None, e)),
        }
    }

    async fn unlock(&mut self) -> Result<(), TargetError> {
        fs4::FileExt::unlock(&self.lock).map_err(|e| TargetError::new(TargetErrorKind::Io, None, e))
    }

    async fn history_exists(&mut self) -> Result<bool, TargetError> {
        let master = match self.table.schema() {
            Some(s) => format!("\"{s}\".sqlite_master"),
            None => "sqlite_master".into(),
        };
        let name = self.table.name().to_string();
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {master} WHERE type = 'table' AND name = ?1"
        ))
        .bind(name)
        .fetch_one(self.conn()?)
        .await
        .map_err(sqlite)?;
        Ok(n > 0)
    }

    async fn history(&mut self) -> Result<Vec<AppliedMigration>, TargetError> {
        let sql = Dialect::Sqlite.select_history(&self.table);
        let rows = sqlx::query(&sql)
            .fetch_all(self.conn()?)
            .await
            .map_err(sqlite)?;
        rows.iter()
            .map(|r| {
                let at: String = r.try_get(3).map_err(sqlite)?;
                let applied_at = DateTime::parse_from_rfc3339(&at)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|e| TargetError::new(TargetErrorKind::Query, None, e))?;
                let duration_ms: i64 = r.try_get(4).map_err(sqlite)?;
                Ok(AppliedMigration {
                    version: r.try_get(0).map_err(sqlite)?,
                    name: r.try_get(1).map_err(sqlite)?,
                    checksum: r.try_get(2).map_err(sqlite)?,
                    applied_at,
                    duration: Duration::from_millis(duration_ms.max(0) as u64),
                    success: r.try_get(5).map_err(sqlite)?,
                    no_transaction: r.try_get(6).map_err(sqlite)?,
                    baseline: r.try_get(7).map_err(sqlite)?,
                })
            })
            .collect()
    }

    async fn execute(&mut self, sql: &str) -> Result<(), TargetError> {
        let conn = self.conn()?;
        sqlx::Executor::execute(&mut *conn, sql)
            .await
            .map(|_| ())
            .map_err(sqlite)
    }

    async fn rollback(&mut self) -> Result<(), TargetError> {
        let conn = self.conn()?;
        // SQLite errors on ROLLBACK outside a transaction; that is not a failure here.
        let _ = sqlx::Executor::execute(&mut *conn, "ROLLBACK").await;
        Ok(())
    }

    async fn close(mut self: Box<Self>) -> Result<(), TargetError> {
        let _ = fs4::FileExt::unlock(&self.lock);
        match self.conn.take() {
            Some(c) => c.close().await.map_err(sqlite),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_memory() {
        let t = SqliteTarget::from_url("sqlite://data/app.db?mode=rwc").unwrap();
        assert_eq!(t.path(), Path::new("data/app.db"));
        assert!(SqliteTarget::from_url("sqlite::memory:").is_err());
        assert!(SqliteTarget::from_url("postgres://x").is_err());
    }
}
