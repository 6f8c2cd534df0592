//! SQLite-specific behaviour: busy databases are retried with backoff, the file lock serialises runners.

use std::sync::Arc;
use std::time::Duration;

use runway_core::event::MigrationEvent;
use runway_core::{Emitter, EventPayload, MemorySink, RetryPolicy};
use runway_migrate::{MigrateError, MigrationSource, MigrationTarget, Migrator, SqliteTarget};
use sqlx::Connection;

fn source(dir: &std::path::Path) -> MigrationSource {
    std::fs::write(dir.join("1_a.up.sql"), "CREATE TABLE a (id INTEGER);").unwrap();
    MigrationSource::from_dir(dir).unwrap()
}

#[tokio::test]
async fn a_busy_database_is_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("busy.db");
    let migrations = dir.path().join("m");
    std::fs::create_dir(&migrations).unwrap();
    let target = SqliteTarget::new(&db)
        .unwrap()
        .with_busy_timeout(Duration::from_millis(20));
    // The history table exists; then another writer holds the database's write lock for a while.
    Migrator::new(MigrationSource::default(), target.clone())
        .up()
        .await
        .unwrap();
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db)
        .create_if_missing(true);
    let mut writer = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    sqlx::raw_sql("CREATE TABLE other (id INTEGER)")
        .execute(&mut writer)
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE; INSERT INTO other VALUES (1);")
        .execute(&mut writer)
        .await
        .unwrap();

    let sink = MemorySink::new();
    let m = Migrator::new(source(&migrations), target)
        .with_retry(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(30))
                .with_max_backoff(Duration::from_millis(60))
                .with_max_retries(50)
                .with_jitter(false),
        )
        .with_emitter(Emitter::new(Arc::new(sink.clone())));
    let run = tokio::spawn(async move { m.up().await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    sqlx::raw_sql("COMMIT").execute(&mut writer).await.unwrap();
    let report = run.await.unwrap();
    assert_eq!(
        report.expect("a busy database is retried").versions,
        vec![1]
    );
    assert!(sink.payloads().iter().any(|p| matches!(
        p,
        EventPayload::Migration(MigrationEvent::Retrying { version: 1, .. })
    )));
}

#[tokio::test]
async fn the_file_lock_is_exclusive_and_released_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lock.db");
    let migrations = dir.path().join("m");
    std::fs::create_dir(&migrations).unwrap();
    let target = SqliteTarget::new(&db).unwrap();
    let mut holder = target.connect().await.unwrap();
    assert!(holder.try_lock().await.unwrap());
    let m = Migrator::new(source(&migrations), target.clone())
        .with_lock_poll(Duration::from_millis(5))
        .with_lock_wait(Duration::from_millis(100));
    assert!(matches!(m.up().await, Err(MigrateError::LockWait { .. })));
    drop(holder);
    assert_eq!(m.up().await.unwrap().versions, vec![1]);
    assert!(format!("{target:?}").contains("lock.db"));
}

#[tokio::test]
async fn the_sqlite_demo_folder_applies_reverts_and_reapplies() {
    let dir = tempfile::tempdir().unwrap();
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/migrations-sqlite"
    );
    let source = MigrationSource::from_dir(demo).unwrap();
    assert!(source.irreversible().is_empty());
    let m = Migrator::new(
        source,
        SqliteTarget::new(dir.path().join("demo.db")).unwrap(),
    );
    assert_eq!(m.up().await.unwrap().versions, vec![1, 2, 3, 4, 5]);
    assert_eq!(m.down_to(0).await.unwrap().versions, vec![5, 4, 3, 2, 1]);
    assert_eq!(m.up().await.unwrap().versions.len(), 5);
    assert_eq!(m.current().await.unwrap(), Some(5));
}
