//! PostgreSQL password rotation with two alternating login roles, against a real server: zero failed
//! connections under a concurrent load, the old role disabled only once idle, and no secret value in any
//! tracing output or event.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runway_core::{Emitter, MemorySink, RequestToken, SecretStage, SecretStore};
use runway_secrets::testing::FailingRotator;
use runway_secrets::{
    MemorySecretStore, PgCredentials, PostgresRotator, Rotate, RotationStep, Rotator,
};
use runway_testkit::TestDatabase;
use secrecy::{ExposeSecret, SecretString};
use sqlx::Connection;
use sqlx::postgres::PgConnectOptions;

const SECRET: &str = "db/app";

struct Fixture {
    db: TestDatabase,
    rotator: PostgresRotator,
    group: String,
    store: MemorySecretStore,
}

async fn fixture(tag: &str) -> Fixture {
    let db = TestDatabase::create().await;
    let base = format!(
        "rw{}_{tag}",
        db.name()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    );
    let group = format!("{base}_app");
    let rotator = PostgresRotator::builder(
        SecretString::from(db.url().to_owned()),
        [&format!("{base}_blue"), &format!("{base}_green")],
    )
    .with_drain_grace(Duration::from_millis(300))
    .with_drain_poll(Duration::from_millis(20))
    .with_drain_timeout(Duration::from_secs(10))
    .build()
    .unwrap();
    let _ = rotator.drop_roles(&group).await;
    let first = rotator
        .bootstrap(&group, &SecretString::from("Initial0Password0For0Tests"))
        .await
        .unwrap();
    let store = MemorySecretStore::new();
    store
        .create(SECRET, first, &RequestToken::derive(SECRET, "bootstrap"))
        .await
        .unwrap();
    Fixture {
        db,
        rotator,
        group,
        store,
    }
}

async fn connect_current(
    store: &MemorySecretStore,
    base: &PgConnectOptions,
) -> Result<(), sqlx::Error> {
    let v = store
        .get(SECRET, SecretStage::Current)
        .await
        .expect("current secret");
    let c = PgCredentials::parse(&v.value).expect("credentials");
    let opts = base
        .clone()
        .username(&c.username)
        .password(c.password.expose_secret());
    let mut conn = sqlx::PgConnection::connect_with(&opts).await?;
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut conn).await?;
    assert_eq!(one, 1);
    conn.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_load_never_fails_a_connection() {
    let f = fixture("load").await;
    let base = PgConnectOptions::from_str(f.db.url()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (store, base, stop, ok, failed) = (
            f.store.clone(),
            base.clone(),
            stop.clone(),
            ok.clone(),
            failed.clone(),
        );
        workers.push(tokio::spawn(async move {
            // Bounded: at most 20 s or until told to stop.
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while !stop.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
                match connect_current(&store, &base).await {
                    Ok(()) => {
                        ok.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => failed.lock().unwrap().push(e.to_string()),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let [blue, green] = f.rotator.roles().map(str::to_owned);
    let rotate = Rotate::new(Arc::new(f.store.clone()), Arc::new(f.rotator.clone()));

    let r1 = rotate.run(SECRET, "q1").await.unwrap();
    let cur = PgCredentials::parse(
        &f.store
            .get(SECRET, SecretStage::Current)
            .await
            .unwrap()
            .value,
    )
    .unwrap();
    assert_eq!(cur.username, green);
    assert!(f.rotator.can_login(&green).await.unwrap());
    assert!(
        !f.rotator.can_login(&blue).await.unwrap(),
        "old role disabled"
    );
    let after_first = ok.load(Ordering::SeqCst);

    let r2 = rotate.run(SECRET, "q2").await.unwrap();
    assert_eq!(r2.previous.as_deref(), Some(r1.current.as_str()));
    let cur = PgCredentials::parse(
        &f.store
            .get(SECRET, SecretStage::Current)
            .await
            .unwrap()
            .value,
    )
    .unwrap();
    assert_eq!(cur.username, blue, "roles alternate");
    assert!(!f.rotator.can_login(&green).await.unwrap());

    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    let failures = failed.lock().unwrap().clone();
    assert!(failures.is_empty(), "failed connections: {failures:?}");
    let total = ok.load(Ordering::SeqCst);
    eprintln!("{total} connections, 0 failed, across two rotations");
    assert!(
        after_first > 0 && total > after_first,
        "load ran throughout: {total} connections"
    );
    f.rotator.drop_roles(&f.group).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_at_each_step_keeps_current_login_working() {
    let f = fixture("fail").await;
    let base = PgConnectOptions::from_str(f.db.url()).unwrap();
    for step in [RotationStep::Create, RotationStep::Set, RotationStep::Test] {
        let rotator: Arc<dyn Rotator> = Arc::new(FailingRotator::new(f.rotator.clone(), step));
        let err = Rotate::new(Arc::new(f.store.clone()), rotator)
            .clear_pending_on_failure(true)
            .run(SECRET, &format!("fail-{step}"))
            .await
            .unwrap_err();
        assert_eq!(err.step(), Some(step));
        connect_current(&f.store, &base).await.unwrap();
        let cur = PgCredentials::parse(
            &f.store
                .get(SECRET, SecretStage::Current)
                .await
                .unwrap()
                .value,
        )
        .unwrap();
        assert!(f.rotator.can_login(&cur.username).await.unwrap());
    }
    // A wrong password staged pending is caught by the test step (the stored verifier is compared, so even
    // a trust-auth server cannot hide it).
    let cur = f.store.get(SECRET, SecretStage::Current).await.unwrap();
    let c = PgCredentials::parse(&cur.value).unwrap();
    let other = f
        .rotator
        .roles()
        .into_iter()
        .find(|r| *r != c.username)
        .unwrap()
        .to_owned();
    f.store
        .put_pending(
            SECRET,
            PgCredentials {
                username: other.clone(),
                password: SecretString::from("NotTheOneThatWasSet1"),
            }
            .to_secret(),
            &RequestToken::derive(SECRET, "manual"),
        )
        .await
        .unwrap();
    let pending = f.store.get(SECRET, SecretStage::Pending).await.unwrap();
    assert!(f.rotator.test(&pending).await.is_err());
    f.store.clear_pending(SECRET).await.unwrap();
    f.rotator.drop_roles(&f.group).await.unwrap();
}

#[tokio::test]
async fn no_secret_value_in_tracing_output_or_events() {
    let traces = runway_testkit::traces::capture();

    let f = fixture("leak").await;
    let sink = MemorySink::new();
    let rotate = Rotate::new(Arc::new(f.store.clone()), Arc::new(f.rotator.clone()))
        .with_emitter(Emitter::new(Arc::new(sink.clone())));
    let report = rotate.run(SECRET, "q1").await.unwrap();
    let report2 = rotate.run(SECRET, "q2").await.unwrap();
    // and a failed one
    let failing: Arc<dyn Rotator> =
        Arc::new(FailingRotator::new(f.rotator.clone(), RotationStep::Test));
    let err = Rotate::new(Arc::new(f.store.clone()), failing)
        .with_emitter(Emitter::new(Arc::new(sink.clone())))
        .run(SECRET, "q3")
        .await
        .unwrap_err();

    let mut values: Vec<String> = vec!["Initial0Password0For0Tests".into()];
    for stage in [
        SecretStage::Current,
        SecretStage::Previous,
        SecretStage::Pending,
    ] {
        if let Ok(v) = f.store.get(SECRET, stage).await {
            values.push(
                PgCredentials::parse(&v.value)
                    .unwrap()
                    .password
                    .expose_secret()
                    .to_owned(),
            );
            values.push(v.value.expose_secret().to_owned());
        }
    }
    assert!(values.len() >= 5);
    let logs = traces.text();
    assert!(
        logs.contains("rotation completed"),
        "tracing output was captured"
    );
    let events = serde_json::to_string(&sink.events()).unwrap();
    let everything = format!(
        "{logs}\n{events}\n{err}\n{err:?}\n{report:?}\n{report2:?}\n{:?}\n{:?}",
        f.store, f.rotator
    );
    for v in &values {
        assert!(!everything.contains(v.as_str()), "a secret value leaked");
    }
    f.rotator.drop_roles(&f.group).await.unwrap();
}
