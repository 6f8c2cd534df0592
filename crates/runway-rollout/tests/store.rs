//! Journal and lock backends: JSON-lines file and PostgreSQL (real server from runway-testkit).

use std::sync::Arc;

use runway_core::event::DeployEvent;
use runway_core::{EnvironmentId, Event, EventPayload, secrecy::SecretString};
use runway_rollout::{
    DeployLock, FileJournal, FileLock, Journal, LockError, PgJournal, PgLock, decode_journal,
};
use runway_testkit::services::TestDatabase;

fn ev(run: &str, seq: u64, d: DeployEvent) -> Event {
    Event {
        seq,
        at: chrono::DateTime::from_timestamp(1_700_000_000 + seq as i64, 0).unwrap(),
        run: Some(run.into()),
        payload: EventPayload::Deploy(d),
    }
}

fn finished() -> DeployEvent {
    DeployEvent::RolloutFinished {
        outcome: "succeeded".into(),
        units_by_release: Default::default(),
    }
}

async fn journal_contract(j: &dyn Journal) {
    j.append(&ev("a", 0, DeployEvent::Resumed)).await.unwrap();
    j.append(&ev("b", 0, DeployEvent::Resumed)).await.unwrap();
    j.append(&ev("a", 1, DeployEvent::Paused { reason: "x".into() }))
        .await
        .unwrap();
    j.append(&ev("b", 1, finished())).await.unwrap();
    let a = j.load("a").await.unwrap();
    assert_eq!(a.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(
        a[1].payload,
        EventPayload::Deploy(DeployEvent::Paused { reason: "x".into() })
    );
    assert_eq!(j.unfinished().await.unwrap(), vec!["a".to_string()]);
    assert!(j.load("missing").await.unwrap().is_empty());
}

#[tokio::test]
async fn file_journal_round_trips_and_tolerates_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j").join("journal.jsonl");
    let j = FileJournal::new(&path).with_fsync(true);
    journal_contract(&j).await;
    // A crash mid-write leaves half a line: still readable.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"seq\":2,\"at\":");
    std::fs::write(&path, &text).unwrap();
    assert_eq!(FileJournal::new(&path).load("a").await.unwrap().len(), 2);
    assert!(decode_journal(&text).unwrap().torn_tail);
    // Corruption in the middle is an error with the line number.
    std::fs::write(&path, format!("garbage\n{text}\n")).unwrap();
    let err = FileJournal::new(&path).load("a").await.unwrap_err();
    assert_eq!(err.kind(), runway_core::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("line 1"), "{err}");
}

#[tokio::test]
async fn pg_journal_round_trips() {
    let db = TestDatabase::create().await;
    let j = PgJournal::new(db.pool().await);
    j.ensure_schema().await.unwrap();
    j.ensure_schema().await.unwrap();
    journal_contract(&j).await;
    // Appends are idempotent per (run, seq).
    j.append(&ev("a", 1, DeployEvent::Resumed)).await.unwrap();
    assert_eq!(j.load("a").await.unwrap().len(), 2);
}

async fn lock_contract(l: Arc<dyn DeployLock>) {
    let env = EnvironmentId::new("production");
    let other = EnvironmentId::new("staging");
    assert_eq!(l.status(&env).await.unwrap(), None);
    let g = l.acquire(&env, "alice@ci", Some("run-1")).await.unwrap();
    assert_eq!(g.info().owner, "alice@ci");
    let st = l.status(&env).await.unwrap().expect("held");
    assert_eq!(st.owner, "alice@ci");
    assert_eq!(st.run.as_deref(), Some("run-1"));
    assert!(st.age(chrono::Utc::now()) < std::time::Duration::from_secs(60));
    match l.acquire(&env, "bob", None).await {
        Err(LockError::Held(info)) => assert_eq!(info.owner, "alice@ci"),
        other => panic!("{other:?}"),
    }
    // Another environment is independent.
    let g2 = l.acquire(&other, "bob", None).await.unwrap();
    g.release().await.unwrap();
    assert_eq!(l.status(&env).await.unwrap(), None);
    // Dropping the guard releases too.
    drop(g2);
    let _g3 = l.acquire(&other, "carol", None).await.unwrap();
    // Break a (hung) holder's lock.
    let hung = l.acquire(&env, "hung", None).await.unwrap();
    let broken = l.break_lock(&env).await.unwrap().expect("was held");
    assert_eq!(broken.owner, "hung");
    let fresh = l.acquire(&env, "dave", None).await.unwrap();
    assert_eq!(l.status(&env).await.unwrap().unwrap().owner, "dave");
    drop(hung);
    assert_eq!(l.status(&env).await.unwrap().unwrap().owner, "dave");
    fresh.release().await.unwrap();
}

#[tokio::test]
async fn file_lock_contract() {
    let dir = tempfile::tempdir().unwrap();
    lock_contract(Arc::new(FileLock::new(dir.path()))).await;
}

#[tokio::test]
async fn pg_lock_contract_and_no_secret_in_debug() {
    let db = TestDatabase::create().await;
    let url = db.url().to_string();
    let lock = PgLock::new(SecretString::from(url.clone()));
    let dbg = format!("{lock:?}");
    assert!(!dbg.contains(&url) && dbg.contains("redacted"), "{dbg}");
    lock_contract(Arc::new(lock)).await;
}
