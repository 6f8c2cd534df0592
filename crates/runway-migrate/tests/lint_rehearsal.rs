//! Rehearsal on real PostgreSQL: a seeded database is cloned, pending migrations run up, down and up again
//! on the clone, and the source is left untouched.

use runway_core::secrecy::SecretString;
use runway_migrate::lint::{LintError, Migration, Rehearsal};
use runway_testkit::TestDatabase;

async fn seeded() -> TestDatabase {
    let db = TestDatabase::create().await;
    let pool = db.pool().await;
    sqlx::raw_sql(
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);
         INSERT INTO users SELECT g, 'user' || (g % 500) || '@example.com' FROM generate_series(1, 2000) g;
         CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id), amount numeric);
         INSERT INTO orders SELECT g, 1 + g % 2000, g FROM generate_series(1, 5000) g;
         CREATE TABLE runway_migrations (version bigint PRIMARY KEY);
         INSERT INTO runway_migrations VALUES (1);",
    )
    .execute(&pool)
    .await
    .expect("seed");
    pool.close().await;
    db
}

fn pending() -> Vec<Migration> {
    vec![
        // Already applied on the source (listed in its history table): skipped.
        Migration::new("0001", "users", "0001_users.up.sql", "CREATE TABLE users (id bigint);"),
        Migration::new(
            "0002",
            "phone",
            "0002_phone.up.sql",
            "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN phone text;",
        )
        .with_down("0002_phone.down.sql", "ALTER TABLE users DROP COLUMN phone;"),
        Migration::new(
            "0003",
            "email_idx",
            "0003_email_idx.up.sql",
            "-- runway: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);",
        )
        .with_down("0003_email_idx.down.sql", "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS users_email_idx;"),
        // This downgrade forgets the index, so it does not round-trip.
        Migration::new(
            "0004",
            "notes",
            "0004_notes.up.sql",
            "CREATE TABLE IF NOT EXISTS notes (id bigint, body text);\nCREATE INDEX IF NOT EXISTS notes_body_idx ON notes (body);",
        )
        .with_down("0004_notes.down.sql", "DROP INDEX notes_body_idx;"),
        Migration::new("0005", "noop", "0005_noop.up.sql", "SELECT 1;"),
    ]
}

async fn exists(db: &TestDatabase, name: &str) -> bool {
    let pool = db.pool().await;
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&pool)
        .await
        .expect("query");
    pool.close().await;
    found.is_some()
}

#[tokio::test]
async fn rehearsal_reports_durations_locks_and_round_trips() {
    let db = seeded().await;
    let scratch = format!("{}_r1", db.name());
    let report = Rehearsal::builder(SecretString::from(db.url().to_string()))
        .with_scratch_name(&scratch)
        .with_history_table(runway_migrate::lint::RUNNER_HISTORY_TABLE)
        .build()
        .expect("build")
        .run(&pending())
        .await
        .expect("rehearsal");
    assert_eq!(report.scratch_database, scratch);
    assert_eq!(report.skipped, vec!["0001".to_string()]);
    assert_eq!(report.migrations.len(), 4);

    let phone = &report.migrations[0];
    assert!(!phone.no_transaction);
    assert!(phone.round_trips, "{:?}", phone.problems);
    assert!(phone.down.is_some() && phone.reapply.is_some());
    assert!(
        phone
            .locks
            .iter()
            .any(|l| l.relation == "public.users" && l.mode == "AccessExclusiveLock" && l.granted),
        "{:?}",
        phone.locks
    );

    let idx = &report.migrations[1];
    assert!(idx.no_transaction);
    assert!(idx.round_trips, "{:?}", idx.problems);

    let notes = &report.migrations[2];
    assert!(!notes.round_trips);
    assert!(
        notes
            .problems
            .iter()
            .any(|p| p.contains("down does not restore")),
        "{:?}",
        notes.problems
    );

    let noop = &report.migrations[3];
    assert!(noop.down.is_none() && !noop.round_trips);
    assert_eq!(noop.problems, vec!["no downgrade".to_string()]);
    assert!(report.stopped.is_none());
    assert!(!report.round_trips());
    assert!(
        !report.downgrades_round_trip(),
        "0004's downgrade does not round-trip"
    );
    assert!(report.to_text().contains("round-trip FAILED"));

    // The source is untouched and the scratch database is gone.
    let pool = db.pool().await;
    let cols: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'phone'",
    )
    .fetch_one(&pool)
    .await
    .expect("query");
    assert_eq!(cols, 0);
    pool.close().await;
    assert!(!exists(&db, &scratch).await);
}

#[tokio::test]
async fn a_downgrade_that_breaks_the_next_up_stops_the_rehearsal() {
    let db = seeded().await;
    let migrations = vec![
        Migration::new(
            "0002",
            "notes",
            "0002_notes.up.sql",
            "CREATE TABLE notes (id bigint);",
        )
        .with_down("0002_notes.down.sql", "COMMENT ON TABLE users IS NULL;"),
        Migration::new(
            "0003",
            "more",
            "0003_more.up.sql",
            "CREATE TABLE more (id bigint);",
        )
        .with_down("0003_more.down.sql", "DROP TABLE more;"),
    ];
    let report = Rehearsal::builder(SecretString::from(db.url().to_string()))
        .build()
        .expect("build")
        .run(&migrations)
        .await
        .expect("rehearsal");
    assert_eq!(
        report.migrations.len(),
        1,
        "0003 is not rehearsed on a copy in the wrong state"
    );
    let notes = &report.migrations[0];
    assert!(
        notes
            .problems
            .iter()
            .any(|p| p.contains("down does not restore"))
    );
    assert!(
        notes
            .problems
            .iter()
            .any(|p| p.contains("up after down fails")),
        "{:?}",
        notes.problems
    );
    assert!(
        report
            .stopped
            .as_deref()
            .is_some_and(|s| s.contains("0002"))
    );
    assert!(!report.round_trips());
}

#[tokio::test]
async fn data_rehearsal_catches_what_schema_only_cannot() {
    let db = seeded().await;
    // users.email has duplicates in the data: a unique constraint fails only on real rows.
    let unique = vec![
        Migration::new(
            "0002",
            "unique_email",
            "0002_unique_email.up.sql",
            "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
        )
        .with_down(
            "0002_unique_email.down.sql",
            "ALTER TABLE users DROP CONSTRAINT users_email_key;",
        ),
    ];
    let url = SecretString::from(db.url().to_string());

    let schema_only = Rehearsal::builder(url.clone())
        .build()
        .expect("build")
        .run(&unique)
        .await
        .expect("schema-only rehearsal passes on an empty copy");
    assert!(schema_only.round_trips() && schema_only.downgrades_round_trip());
    let lock = &schema_only.migrations[0].locks;
    assert!(
        lock.iter()
            .any(|l| l.relation == "public.users" && l.mode == "AccessExclusiveLock"),
        "{lock:?}"
    );

    let scratch = format!("{}_r2", db.name());
    let err = Rehearsal::builder(url)
        .with_data(true)
        .with_scratch_name(&scratch)
        .build()
        .expect("build")
        .run(&unique)
        .await
        .expect_err("duplicates make the migration fail");
    match &err {
        LintError::MigrationFailed {
            version,
            direction,
            message,
        } => {
            assert_eq!((version.as_str(), direction.as_str()), ("0002", "up"));
            assert!(message.contains("users_email_key"), "{message}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(err.kind(), runway_core::ErrorKind::InvalidInput);
    // Dropped even though the rehearsal failed.
    assert!(!exists(&db, &scratch).await);
}

#[tokio::test]
async fn unreachable_database_is_a_typed_error_without_the_password() {
    let url = SecretString::from("postgres://app:hunter2@127.0.0.1:1/app".to_string());
    let err = Rehearsal::builder(url)
        .build()
        .expect("build")
        .run(&pending())
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(err, LintError::Database { .. }));
    assert!(err.is_retryable());
    assert!(!err.to_string().contains("hunter2"));
    assert!(!format!("{err:?}").contains("hunter2"));
}

#[tokio::test]
async fn no_transaction_locks_are_sampled_from_another_connection() {
    let db = seeded().await;
    // The statement holds ACCESS SHARE on users for 300 ms; the sampler looks every 2 ms.
    let slow = vec![
        Migration::new(
            "0002",
            "slow_read",
            "0002_slow_read.up.sql",
            "-- runway: no-transaction\nSELECT pg_sleep(0.3), (SELECT count(*) FROM users);",
        )
        .with_down("0002_slow_read.down.sql", "SELECT 1;"),
    ];
    let report = Rehearsal::builder(SecretString::from(db.url().to_string()))
        .build()
        .expect("build")
        .run(&slow)
        .await
        .expect("rehearsal");
    let m = &report.migrations[0];
    assert!(m.no_transaction);
    assert!(m.up.duration >= std::time::Duration::from_millis(300));
    assert!(
        m.locks
            .iter()
            .any(|l| l.relation == "public.users" && l.mode == "AccessShareLock" && l.granted),
        "{:?}",
        m.locks
    );
    assert!(report.downgrades_round_trip());
}
