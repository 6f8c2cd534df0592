//! PostgreSQL-specific guarantees: the lock under CONCURRENTLY, cancellation and panics, lock waits,
//! lock_timeout retries, read-only plans, embedded sources, secrets.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::Fx;
use runway_core::event::MigrationEvent;
use runway_core::{Emitter, ErrorKind, Event, EventPayload, EventSink, MemorySink, RetryPolicy};
use runway_migrate::{MigrateError, MigrationTarget, Migrator, PostgresTarget, Request};
use sqlx::Connection;

async fn wait_for_activity(fx: &Fx, pattern: &str, wait_event_type: Option<&str>) {
    let sql = match wait_event_type {
        Some(w) => format!(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '{pattern}' AND wait_event_type = '{w}'"
        ),
        None => format!(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '{pattern}' AND state = 'active'"
        ),
    };
    for _ in 0..400 {
        if fx.scalar(&sql).await > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no session matching {pattern:?} appeared");
}

fn url(fx: &Fx) -> String {
    match &fx.db {
        common::Db::Pg(db, _) => db.url().to_string(),
        common::Db::Sqlite(..) => unreachable!("PostgreSQL fixture"),
    }
}

fn has(sink: &MemorySink, f: impl Fn(&MigrationEvent) -> bool) -> bool {
    sink.payloads()
        .iter()
        .any(|p| matches!(p, EventPayload::Migration(e) if f(e)))
}

#[tokio::test]
async fn concurrently_migration_completes_while_another_runner_waits() {
    let fx = Fx::pg().await;
    fx.write("1_big.up.sql", "CREATE TABLE big (id INTEGER);");
    fx.write(
        "2_big_idx.up.sql",
        "-- runway: no-transaction\nCREATE INDEX CONCURRENTLY big_id_idx ON big (id);",
    );
    fx.migrator().up_to(1).await.unwrap();

    // An open writing transaction makes CREATE INDEX CONCURRENTLY wait, so it is still running when the
    // second runner starts waiting for the migration lock.
    let mut blocker = sqlx::PgConnection::connect(&url(&fx)).await.unwrap();
    sqlx::raw_sql("BEGIN; INSERT INTO big VALUES (1);")
        .execute(&mut blocker)
        .await
        .unwrap();
    let a = {
        let m = fx.migrator();
        tokio::spawn(async move { m.up().await })
    };
    wait_for_activity(&fx, "%CREATE INDEX CONCURRENTLY%", Some("Lock")).await;
    let waiting = MemorySink::new();
    let b = {
        let m = fx
            .migrator()
            .with_emitter(Emitter::new(Arc::new(waiting.clone())));
        tokio::spawn(async move { m.up().await })
    };
    for _ in 0..200 {
        if has(&waiting, |e| matches!(e, MigrationEvent::LockWaiting)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(has(&waiting, |e| matches!(e, MigrationEvent::LockWaiting)));
    // Let the waiter poll a while: it must not become a transaction the index build waits for.
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::raw_sql("COMMIT").execute(&mut blocker).await.unwrap();

    let both = tokio::time::timeout(Duration::from_secs(20), async {
        (a.await.unwrap(), b.await.unwrap())
    })
    .await
    .expect("no deadlock between the index build and the waiting runner");
    assert_eq!(both.0.unwrap().versions, vec![2]);
    assert!(both.1.unwrap().versions.is_empty());
    assert_eq!(
        fx.scalar("SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'big_id_idx' AND i.indisvalid")
            .await,
        1
    );
}

#[tokio::test]
async fn a_cancelled_run_releases_the_lock_and_leaves_no_trace() {
    let fx = Fx::pg().await;
    fx.write(
        "1_slow.up.sql",
        "CREATE TABLE slow (id INTEGER);\nSELECT pg_sleep(30);",
    );
    let a = {
        let m = fx.migrator();
        tokio::spawn(async move { m.up().await })
    };
    wait_for_activity(&fx, "%pg_sleep(30)%", None).await;
    a.abort();
    assert!(a.await.unwrap_err().is_cancelled());

    fx.write("1_slow.up.sql", "CREATE TABLE slow (id INTEGER);");
    let started = std::time::Instant::now();
    let report = fx
        .migrator()
        .with_lock_wait(Duration::from_secs(15))
        .up()
        .await
        .unwrap();
    assert_eq!(report.versions, vec![1]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the lock outlived the cancelled run: {:?}",
        started.elapsed()
    );
    assert_eq!(fx.history().await, vec![(1, true)]);
}

#[derive(Debug)]
struct PanicOnStart;

#[async_trait]
impl EventSink for PanicOnStart {
    async fn emit(&self, event: &Event) -> runway_core::Result<()> {
        if matches!(
            event.payload,
            EventPayload::Migration(MigrationEvent::Started { .. })
        ) {
            panic!("sink exploded");
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_panicking_run_releases_the_lock() {
    let fx = Fx::pg().await;
    fx.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);");
    let m = fx
        .migrator()
        .with_emitter(Emitter::new(Arc::new(PanicOnStart)));
    let err = tokio::spawn(async move { m.up().await }).await.unwrap_err();
    assert!(err.is_panic());
    let report = fx
        .migrator()
        .with_lock_wait(Duration::from_secs(5))
        .up()
        .await
        .unwrap();
    assert_eq!(report.versions, vec![1]);
}

#[tokio::test]
async fn lock_wait_is_bounded() {
    let fx = Fx::pg().await;
    fx.write("1_a.up.sql", "CREATE TABLE a (id INTEGER);");
    let target = PostgresTarget::from_url(&url(&fx)).unwrap();
    let mut holder = target.connect().await.unwrap();
    assert!(holder.try_lock().await.unwrap());
    let err = fx
        .migrator()
        .with_lock_wait(Duration::from_millis(200))
        .up()
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::LockWait { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_retryable());
    assert!(!fx.table_exists("a").await);
    drop(holder);
    assert_eq!(fx.migrator().up().await.unwrap().versions, vec![1]);
}

#[tokio::test]
async fn lock_timeouts_are_retried_with_backoff() {
    let fx = Fx::pg().await;
    fx.write("1_busy.up.sql", "CREATE TABLE busy (id INTEGER);");
    fx.write(
        "2_busy_extra.up.sql",
        "-- runway: lock_timeout=100ms\nALTER TABLE busy ADD COLUMN extra INTEGER;",
    );
    fx.migrator().up_to(1).await.unwrap();
    let mut reader = sqlx::PgConnection::connect(&url(&fx)).await.unwrap();
    sqlx::raw_sql("BEGIN; SELECT * FROM busy;")
        .execute(&mut reader)
        .await
        .unwrap();

    // Retries run out while the reader holds its lock: the error says how many attempts were made.
    let fast = RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(50))
        .with_jitter(false);
    let err = fx
        .migrator()
        .with_retry(fast.clone().with_max_retries(2))
        .up()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MigrateError::Failed {
                version: 2,
                attempts: 3,
                dirty: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(fx.history().await, vec![(1, true)]);

    // With enough retries the migration goes through once the reader finishes.
    let sink = MemorySink::new();
    let m = fx
        .migrator()
        .with_retry(fast.with_max_retries(40))
        .with_emitter(Emitter::new(Arc::new(sink.clone())));
    let run = tokio::spawn(async move { m.up().await });
    tokio::time::sleep(Duration::from_millis(600)).await;
    sqlx::raw_sql("COMMIT").execute(&mut reader).await.unwrap();
    assert_eq!(run.await.unwrap().unwrap().versions, vec![2]);
    assert!(has(&sink, |e| matches!(
        e,
        MigrationEvent::Retrying { version: 2, .. }
    )));
}

#[tokio::test]
async fn plan_and_status_are_read_only_and_exact() {
    let fx = Fx::pg().await;
    fx.write(
        "1_users.up.sql",
        "CREATE TABLE users (id BIGINT PRIMARY KEY)",
    );
    fx.write(
        "2_users_idx.up.sql",
        "-- runway: no-transaction\nCREATE INDEX CONCURRENTLY users_id_idx ON users (id);",
    );
    let m = fx.migrator();
    let plan = m.plan(&Request::Up { to: None }).await.unwrap();
    let sql = plan.to_sql();
    assert!(
        sql.contains(
            "BEGIN;\nSET LOCAL lock_timeout = '5000ms';\nINSERT INTO \"runway_migrations\""
        ),
        "{sql}"
    );
    assert!(
        sql.contains("CREATE TABLE users (id BIGINT PRIMARY KEY);\nUPDATE"),
        "{sql}"
    );
    assert!(sql.contains("-- statement (autocommit)\n-- runway: no-transaction\nCREATE INDEX CONCURRENTLY users_id_idx ON users (id);\n"), "{sql}");
    assert_eq!(m.status().await.unwrap().pending(), vec![1, 2]);
    assert!(
        !fx.table_exists("runway_migrations").await,
        "plan and status write nothing"
    );
    assert_eq!(
        m.plan_against(&[], &Request::Up { to: None }).unwrap(),
        plan
    );

    m.up().await.unwrap();
    assert!(m.plan(&Request::Up { to: None }).await.unwrap().is_empty());
    let history = m.history().await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(history[1].no_transaction && history.iter().all(|h| h.success));
}

#[tokio::test]
async fn embedded_migrations_apply_and_revert() {
    let fx = Fx::pg().await;
    let source =
        runway_migrate::embed_migrations!("$CARGO_MANIFEST_DIR/tests/fixtures/reversible").unwrap();
    let m = Migrator::new(source, PostgresTarget::from_url(&url(&fx)).unwrap());
    assert_eq!(m.up().await.unwrap().versions, vec![1, 2]);
    assert_eq!(
        fx.scalar("SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'accounts_email_idx'")
            .await,
        1
    );
    assert_eq!(m.down_to(0).await.unwrap().versions, vec![2, 1]);
    assert!(!fx.table_exists("accounts").await);
}

#[tokio::test]
async fn connection_errors_never_show_the_password() {
    let port = runway_testkit::free_port();
    let target =
        PostgresTarget::from_url(&format!("postgres://app:sup3r-s3cret@127.0.0.1:{port}/app"))
            .unwrap();
    let shown = format!("{target:?}");
    let m = Migrator::new(runway_migrate::MigrationSource::default(), target);
    let err = m.up().await.unwrap_err();
    let all = format!("{shown} {m:?} {err} {err:?}");
    assert!(!all.contains("sup3r-s3cret"), "{all}");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let core: runway_core::Error = err.into();
    assert!(!format!("{core} {core:?}").contains("sup3r-s3cret"));
}

#[tokio::test]
async fn the_demo_folder_applies_reverts_and_reapplies() {
    let fx = Fx::pg().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/migrations");
    let source = runway_migrate::MigrationSource::from_dir(dir).unwrap();
    assert!(
        source.irreversible().is_empty(),
        "every demo migration has a down file"
    );
    let m = Migrator::new(source, PostgresTarget::from_url(&url(&fx)).unwrap());
    m.up().await.unwrap();
    let nullable = "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'phone' AND is_nullable = 'YES'";
    assert_eq!(fx.scalar(nullable).await, 0, "phone ends NOT NULL");
    assert_eq!(
        fx.scalar("SELECT COUNT(*) FROM users WHERE phone = ''")
            .await,
        2
    );
    let schema = fx.schema().await;
    m.down_to(0).await.unwrap();
    assert!(!fx.table_exists("users").await);
    m.up().await.unwrap();
    assert_eq!(fx.schema().await, schema);
}
