//! The driver against a scripted in-memory target, in paused time: lock polling and lock-timeout backoff
//! are exact, and a custom `MigrationTarget` is all a new backend needs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use runway_core::event::MigrationEvent;
use runway_core::{Emitter, EventPayload, MemorySink, RetryPolicy};
use runway_migrate::{
    AppliedMigration, Dialect, HistoryTable, MigrateError, Migration, MigrationSource,
    MigrationTarget, Migrator, TargetError, TargetErrorKind, TargetSession,
};

#[derive(Debug, Default)]
struct Script {
    /// `try_lock` answers `false` this many times first.
    busy_polls: usize,
    /// Transactions fail with a lock timeout this many times first.
    lock_timeouts: usize,
    polls: usize,
    executed: Vec<String>,
    rollbacks: usize,
}

#[derive(Debug, Clone, Default)]
struct FakeTarget {
    script: Arc<Mutex<Script>>,
    table: HistoryTable,
}

#[derive(Debug)]
struct FakeSession(Arc<Mutex<Script>>);

#[async_trait]
impl MigrationTarget for FakeTarget {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn history_table(&self) -> &HistoryTable {
        &self.table
    }
    async fn connect(&self) -> Result<Box<dyn TargetSession>, TargetError> {
        Ok(Box::new(FakeSession(self.script.clone())))
    }
}

#[async_trait]
impl TargetSession for FakeSession {
    async fn try_lock(&mut self) -> Result<bool, TargetError> {
        let mut s = self.0.lock().unwrap();
        s.polls += 1;
        Ok(s.polls > s.busy_polls)
    }
    async fn unlock(&mut self) -> Result<(), TargetError> {
        Ok(())
    }
    async fn history_exists(&mut self) -> Result<bool, TargetError> {
        Ok(false)
    }
    async fn history(&mut self) -> Result<Vec<AppliedMigration>, TargetError> {
        Ok(Vec::new())
    }
    async fn execute(&mut self, sql: &str) -> Result<(), TargetError> {
        let mut s = self.0.lock().unwrap();
        s.executed.push(sql.to_string());
        if sql.starts_with("BEGIN") && s.lock_timeouts > 0 {
            s.lock_timeouts -= 1;
            return Err(TargetError::new(
                TargetErrorKind::LockTimeout,
                Some("55P03".into()),
                "canceling statement due to lock timeout",
            ));
        }
        Ok(())
    }
    async fn rollback(&mut self) -> Result<(), TargetError> {
        self.0.lock().unwrap().rollbacks += 1;
        Ok(())
    }
    async fn close(self: Box<Self>) -> Result<(), TargetError> {
        Ok(())
    }
}

fn one_migration() -> MigrationSource {
    MigrationSource::from_migrations([Migration::new(
        1,
        "add_phone",
        "ALTER TABLE users ADD COLUMN phone TEXT",
        None,
    )
    .unwrap()])
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn lock_polling_waits_exactly_the_configured_time() {
    let target = FakeTarget::default();
    target.script.lock().unwrap().busy_polls = usize::MAX;
    let start = tokio::time::Instant::now();
    let err = Migrator::new(one_migration(), target.clone())
        .with_lock_poll(Duration::from_secs(1))
        .with_lock_wait(Duration::from_secs(10))
        .up()
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::LockWait { waited } if waited == Duration::from_secs(10)));
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert_eq!(target.script.lock().unwrap().polls, 11);
    assert!(target.script.lock().unwrap().executed.is_empty());
}

#[tokio::test(start_paused = true)]
async fn lock_timeouts_back_off_exponentially_then_succeed() {
    let target = FakeTarget::default();
    {
        let mut s = target.script.lock().unwrap();
        s.busy_polls = 2;
        s.lock_timeouts = 3;
    }
    let sink = MemorySink::new();
    let start = tokio::time::Instant::now();
    let report = Migrator::new(one_migration(), target.clone())
        .with_lock_poll(Duration::from_millis(500))
        .with_retry(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_secs(1))
                .with_jitter(false),
        )
        .with_emitter(Emitter::new(Arc::new(sink.clone())))
        .up()
        .await
        .unwrap();
    assert_eq!(report.versions, vec![1]);
    assert_eq!(report.lock_wait, Duration::from_secs(1));
    // 2 busy polls (1 s) + backoff 1 s, 2 s, 4 s.
    assert_eq!(start.elapsed(), Duration::from_secs(8));
    let delays: Vec<u64> = sink
        .payloads()
        .into_iter()
        .filter_map(|p| match p {
            EventPayload::Migration(MigrationEvent::Retrying { delay_ms, .. }) => Some(delay_ms),
            _ => None,
        })
        .collect();
    assert_eq!(delays, vec![1000, 2000, 4000]);
    let s = target.script.lock().unwrap();
    assert_eq!(s.rollbacks, 3);
    let tx: Vec<&String> = s
        .executed
        .iter()
        .filter(|q| q.starts_with("BEGIN"))
        .collect();
    assert_eq!(tx.len(), 4);
    assert!(tx[0].contains("ALTER TABLE users ADD COLUMN phone TEXT;"));
    assert!(s.executed[0].starts_with("CREATE TABLE IF NOT EXISTS"));
}
