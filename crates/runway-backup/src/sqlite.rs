//! SQLite: consistent copies with `VACUUM INTO`, integrity checks and row counts.

use std::collections::BTreeMap;
use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use crate::error::{BackupError, Result};

pub(crate) async fn open(path: &Path, read_only: bool) -> Result<SqliteConnection> {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .create_if_missing(false)
        .connect()
        .await
        .map_err(BackupError::db("opening the SQLite database"))
}

/// Write a consistent copy of `source` to `dest` (which must not exist).
pub(crate) async fn vacuum_into(source: &Path, dest: &Path) -> Result<String> {
    let mut conn = open(source, true).await?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut conn)
        .await
        .map_err(BackupError::db("reading the SQLite version"))?;
    let dest = dest
        .to_str()
        .ok_or_else(|| BackupError::InvalidInput("scratch path is not UTF-8".into()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(dest)
        .execute(&mut conn)
        .await
        .map_err(BackupError::db("VACUUM INTO"))?;
    let _ = conn.close().await;
    Ok(version)
}

/// Row counts of every user table.
pub(crate) async fn count_tables(conn: &mut SqliteConnection) -> Result<BTreeMap<String, u64>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(BackupError::db("listing SQLite tables"))?;
    let mut out = BTreeMap::new();
    for name in names {
        let sql = format!("SELECT count(*) FROM {}", crate::pg::quote_ident(&name));
        let n: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&mut *conn)
            .await
            .map_err(BackupError::db("counting SQLite rows"))?;
        out.insert(name, n.max(0) as u64);
    }
    Ok(out)
}

/// `PRAGMA integrity_check`: `Ok(())` or the report.
pub(crate) async fn integrity(conn: &mut SqliteConnection) -> std::result::Result<(), String> {
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        Err(rows.join("; ").chars().take(2000).collect())
    }
}

/// Number of user tables, views, indexes and triggers (0 for a new or missing file).
pub(crate) async fn user_objects(path: &Path) -> Result<u64> {
    if !path.exists() {
        return Ok(0);
    }
    let mut conn = open(path, true).await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(BackupError::db("checking whether the target is empty"))?;
    let _ = conn.close().await;
    Ok(n.max(0) as u64)
}
