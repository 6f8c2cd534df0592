//! A small demo SQLite database, for the examples and the crate docs (the embedded default).

use std::path::Path;

use sqlx::ConnectOptions;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnectOptions;

use crate::error::{BackupError, Result};

/// Create (or replace) a demo SQLite database at `path` with `users` and `orders` tables:
/// `users` rows and three orders per user. Returns the total row count.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runway_backup::Result<()> {
/// let dir = tempfile::tempdir().unwrap();
/// let rows = runway_backup::demo::create_sqlite(&dir.path().join("app.db"), 10).await?;
/// assert_eq!(rows, 40);
/// # Ok(()) }
/// ```
pub async fn create_sqlite(path: &Path, users: u32) -> Result<u64> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = tokio::fs::remove_file(std::path::PathBuf::from(p)).await;
    }
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .map_err(BackupError::db("creating the demo database"))?;
    let mut tx = conn
        .begin()
        .await
        .map_err(BackupError::db("demo transaction"))?;
    sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)")
        .execute(&mut *tx)
        .await
        .map_err(BackupError::db("creating demo tables"))?;
    sqlx::query(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), total_cents INTEGER NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(BackupError::db("creating demo tables"))?;
    for i in 0..users {
        sqlx::query("INSERT INTO users (id, email) VALUES (?, ?)")
            .bind(i64::from(i))
            .bind(format!("user{i}@example.com"))
            .execute(&mut *tx)
            .await
            .map_err(BackupError::db("inserting demo rows"))?;
        for j in 0..3 {
            sqlx::query("INSERT INTO orders (user_id, total_cents) VALUES (?, ?)")
                .bind(i64::from(i))
                .bind(i64::from(i * 100 + j))
                .execute(&mut *tx)
                .await
                .map_err(BackupError::db("inserting demo rows"))?;
        }
    }
    tx.commit().await.map_err(BackupError::db("demo commit"))?;
    let _ = conn.close().await;
    Ok(u64::from(users) * 4)
}
