//! PostgreSQL: the lock is `pg_try_advisory_lock`, polled on the session's own connection.
//!
//! Polling (never the blocking `pg_advisory_lock`) means a waiting runner holds no open transaction, so a
//! `CREATE INDEX CONCURRENTLY` run by the lock holder — which waits for every older transaction — never
//! waits for it. The session is one dedicated connection: when it is dropped (error, panic, cancelled
//! future) the server ends the session and releases the lock.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};

use super::{
    AppliedMigration, Dialect, HistoryTable, MigrationTarget, TargetError, TargetErrorKind,
    TargetSession, classify_sqlx,
};
use crate::error::{MigrateError, Result};

/// A PostgreSQL database to migrate.
///
/// The URL may hold a password: it is kept only inside the connect options and never shown by `Debug`.
#[derive(Clone)]
pub struct PostgresTarget {
    options: PgConnectOptions,
    table: HistoryTable,
    connect_timeout: Duration,
}

impl fmt::Debug for PostgresTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresTarget")
            .field("host", &self.options.get_host())
            .field("port", &self.options.get_port())
            .field("database", &self.options.get_database())
            .field("table", &self.table.qualified())
            .finish_non_exhaustive()
    }
}

impl PostgresTarget {
    /// A target from a `postgres://` URL.
    pub fn new(url: &SecretString) -> Result<PostgresTarget> {
        let options = PgConnectOptions::from_str(url.expose_secret())
            .map_err(|_| MigrateError::Config("the PostgreSQL URL cannot be parsed".into()))?;
        Ok(Self::from_options(options))
    }

    /// A target from a URL held in plain text (tests, local databases).
    pub fn from_url(url: &str) -> Result<PostgresTarget> {
        Self::new(&SecretString::from(url.to_string()))
    }

    /// A target from `DATABASE_URL`.
    pub fn from_env() -> Result<PostgresTarget> {
        let url = std::env::var("DATABASE_URL")
            .map_err(|_| MigrateError::Config("DATABASE_URL is not set".into()))?;
        Self::new(&SecretString::from(url))
    }

    /// A target from sqlx connect options.
    pub fn from_options(options: PgConnectOptions) -> PostgresTarget {
        PostgresTarget {
            options: options.application_name("runway-migrate"),
            table: HistoryTable::default(),
            connect_timeout: Duration::from_secs(30),
        }
    }

    /// Use another history table (`name` or `schema.name`).
    #[must_use = "with_table returns the changed target"]
    pub fn with_table(mut self, table: HistoryTable) -> Self {
        self.table = table;
        self
    }

    /// How long to wait for a connection (default 30 s).
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

fn lock_key(database: &str, schema: &str, table: &str) -> i64 {
    let mut h = Sha256::new();
    for part in ["runway-migrate", database, schema, table] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

#[async_trait]
impl MigrationTarget for PostgresTarget {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn history_table(&self) -> &HistoryTable {
        &self.table
    }

    async fn connect(&self) -> Result<Box<dyn TargetSession>, TargetError> {
        let mut conn = match tokio::time::timeout(
            self.connect_timeout,
            PgConnection::connect_with(&self.options),
        )
        .await
        {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                let mut err = classify_sqlx(e, Dialect::Postgres);
                if err.kind == TargetErrorKind::Query && err.code.is_none() {
                    err.kind = TargetErrorKind::Connect;
                }
                return Err(err);
            }
            Err(_) => {
                return Err(TargetError::new(
                    TargetErrorKind::Connect,
                    None,
                    format!("no connection within {:?}", self.connect_timeout),
                ));
            }
        };
        // PostgreSQL 14+: notice a vanished client even mid-query, so a cancelled or crashed runner's
        // session (and its lock) ends promptly instead of after its statement finishes. Older servers lack
        // the setting; that is not an error.
        let _ =
            sqlx::Executor::execute(&mut conn, "SET client_connection_check_interval = 1000").await;
        let row = sqlx::query("SELECT current_database(), current_schema()")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| classify_sqlx(e, Dialect::Postgres))?;
        let database: String = row.get(0);
        let current_schema: Option<String> = row.get(1);
        let schema = self
            .table
            .schema()
            .map(str::to_string)
            .or(current_schema)
            .unwrap_or_default();
        Ok(Box::new(PgSession {
            lock_key: lock_key(&database, &schema, self.table.name()),
            conn: Some(conn),
            table: self.table.clone(),
        }))
    }
}

struct PgSession {
    conn: Option<PgConnection>,
    lock_key: i64,
    table: HistoryTable,
}

impl fmt::Debug for PgSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgSession")
            .field("lock_key", &self.lock_key)
            .field("table", &self.table.qualified())
            .finish_non_exhaustive()
    }
}

impl PgSession {
    fn conn(&mut self) -> Result<&mut PgConnection, TargetError> {
        self.conn.as_mut().ok_or_else(|| {
            TargetError::new(TargetErrorKind::Connect, None, "the session is closed")
        })
    }
}

fn pg(e: sqlx::Error) -> TargetError {
    classify_sqlx(e, Dialect::Postgres)
}

#[async_trait]
impl TargetSession for PgSession {
    async fn try_lock(&mut self) -> Result<bool, TargetError> {
        let key = self.lock_key;
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(self.conn()?)
            .await
            .map_err(pg)
    }

    async fn unlock(&mut self) -> Result<(), TargetError> {
        let key = self.lock_key;
        let _: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .fetch_one(self.conn()?)
            .await
            .map_err(pg)?;
        Ok(())
    }

    async fn history_exists(&mut self) -> Result<bool, TargetError> {
        let name = self.table.quoted();
        sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(name)
            .fetch_one(self.conn()?)
            .await
            .map_err(pg)
    }

    async fn history(&mut self) -> Result<Vec<AppliedMigration>, TargetError> {
        let sql = Dialect::Postgres.select_history(&self.table);
        let rows = sqlx::query(&sql)
            .fetch_all(self.conn()?)
            .await
            .map_err(pg)?;
        rows.iter()
            .map(|r| {
                let duration_ms: i64 = r.try_get(4).map_err(pg)?;
                Ok(AppliedMigration {
                    version: r.try_get(0).map_err(pg)?,
                    name: r.try_get(1).map_err(pg)?,
                    checksum: r.try_get(2).map_err(pg)?,
                    applied_at: r.try_get::<DateTime<Utc>, _>(3).map_err(pg)?,
                    duration: Duration::from_millis(duration_ms.max(0) as u64),
                    success: r.try_get(5).map_err(pg)?,
                    no_transaction: r.try_get(6).map_err(pg)?,
                    baseline: r.try_get(7).map_err(pg)?,
                })
            })
            .collect()
    }

    async fn execute(&mut self, sql: &str) -> Result<(), TargetError> {
        let conn = self.conn()?;
        sqlx::Executor::execute(&mut *conn, sql)
            .await
            .map(|_| ())
            .map_err(pg)
    }

    async fn rollback(&mut self) -> Result<(), TargetError> {
        let conn = self.conn()?;
        sqlx::Executor::execute(&mut *conn, "ROLLBACK")
            .await
            .map(|_| ())
            .map_err(pg)
    }

    async fn close(mut self: Box<Self>) -> Result<(), TargetError> {
        match self.conn.take() {
            Some(c) => c.close().await.map_err(pg),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let t = PostgresTarget::from_url("postgres://app:hunter2-secret@db.internal:5433/prod")
            .unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.internal"));
    }

    #[test]
    fn bad_urls_do_not_echo() {
        let e = PostgresTarget::from_url("postgres://app:hunter2@[::1").unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
        assert!(matches!(e, MigrateError::Config(_)));
    }

    #[test]
    fn lock_key_depends_on_database_schema_and_table() {
        let a = lock_key("db", "public", "runway_migrations");
        assert_eq!(a, lock_key("db", "public", "runway_migrations"));
        assert_ne!(a, lock_key("db2", "public", "runway_migrations"));
        assert_ne!(a, lock_key("db", "app", "runway_migrations"));
        assert_ne!(a, lock_key("db", "public", "other"));
    }
}
