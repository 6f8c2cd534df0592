//! Real PostgreSQL: backup, verify, drill, restore guard, corruption, events.

use std::sync::Arc;

use runway_backup::{
    BackupError, BackupStorage, Backups, LocalDir, PgUrl, Refusal, RestoreOptions, VerifyLevel,
};
use runway_core::event::BackupEvent;
use runway_core::{Emitter, EventPayload, MemorySink};
use runway_testkit::TestDatabase;
use sqlx::PgPool;

async fn seed(pool: &PgPool) {
    for sql in [
        "CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE)",
        "CREATE TABLE \"Order Items\" (id bigserial PRIMARY KEY, user_id bigint REFERENCES users(id), qty int)",
        "CREATE SCHEMA billing",
        "CREATE TABLE billing.invoices (id bigserial PRIMARY KEY, cents bigint)",
        "CREATE TABLE billing.invoices_2026 () INHERITS (billing.invoices)",
        "CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at)",
        "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        "CREATE TABLE empty_one (x int)",
        "INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 1500) g",
        "INSERT INTO \"Order Items\" (user_id, qty) SELECT 1 + g % 1500, g FROM generate_series(1, 4000) g",
        "INSERT INTO billing.invoices (cents) SELECT g FROM generate_series(1, 300) g",
        "INSERT INTO billing.invoices_2026 (cents) SELECT g FROM generate_series(1, 70) g",
        "INSERT INTO events SELECT g, date '2026-01-01' + (g % 300) FROM generate_series(1, 900) g",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
}

struct Fixture {
    db: TestDatabase,
    dir: tempfile::TempDir,
    backups: Backups,
    sink: MemorySink,
}

async fn fixture() -> Fixture {
    let db = TestDatabase::create().await;
    seed(&db.pool().await).await;
    let dir = tempfile::tempdir().unwrap();
    let sink = MemorySink::new();
    let backups = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(dir.path())))
        .with_emitter(Emitter::new(Arc::new(sink.clone())))
        .with_drill_server(PgUrl::parse(db.admin_url()).unwrap())
        .build()
        .unwrap();
    Fixture {
        db,
        dir,
        backups,
        sink,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_verify_drill_round_trip_with_exact_counts_under_concurrent_writes() {
    let f = fixture().await;
    let url = PgUrl::parse(f.db.url()).unwrap();

    // Writers keep inserting during the backup: the counts must still match the dump exactly.
    let pool = f.db.pool().await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                sqlx::query("INSERT INTO users (email) VALUES ($1)")
                    .bind(format!("late{n}@example.com"))
                    .execute(&pool)
                    .await
                    .unwrap();
                n += 1;
            }
            n
        })
    };
    let manifest = f.backups.backup_postgres(&url).await.unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let late = writer.await.unwrap();

    assert!(manifest.id.to_string().starts_with("backup_"));
    assert_eq!(manifest.source.database, f.db.name());
    assert!(manifest.tool_version.starts_with("pg_dump"));
    assert!(manifest.size > 0 && manifest.sha256.len() == 64);
    let users = manifest.tables["public.users"];
    assert!((1500..=1500 + late).contains(&users), "{users} users");
    assert_eq!(manifest.tables["public.Order Items"], 4000);
    assert_eq!(manifest.tables["billing.invoices"], 300, "FROM ONLY parent");
    assert_eq!(manifest.tables["billing.invoices_2026"], 70);
    assert_eq!(manifest.tables["public.events_2026"], 900);
    assert!(
        !manifest.tables.contains_key("public.events"),
        "partitioned parent holds no rows"
    );
    assert_eq!(manifest.tables["public.empty_one"], 0);

    let report = f
        .backups
        .verify(manifest.id, VerifyLevel::Drill)
        .await
        .unwrap();
    assert!(report.verified);
    let drill = report.drill.unwrap();
    assert_eq!(drill.tables, manifest.tables.len());
    assert_eq!(drill.rows, manifest.tables.values().sum::<u64>());
    assert!(drill.total >= drill.restore);

    let record = f.backups.verification(manifest.id).await.unwrap().unwrap();
    assert!(record.is_verified_for(&manifest));
    assert!(record.drill.as_ref().unwrap().check.ok);
    let listed = f.backups.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].is_verified());
    assert!(
        f.backups
            .freshness_gate(std::time::Duration::from_secs(3600))
            .await
            .unwrap()
            .passed()
    );

    let payloads = f.sink.payloads();
    assert!(
        payloads
            .iter()
            .any(|p| matches!(p, EventPayload::Backup(BackupEvent::Completed { .. })))
    );
    assert!(payloads.iter().any(|p| matches!(
        p,
        EventPayload::Backup(BackupEvent::DrillCompleted { ok: true, .. })
    )));
    let levels: Vec<String> = payloads
        .iter()
        .filter_map(|p| match p {
            EventPayload::Backup(BackupEvent::Verified {
                level, ok: true, ..
            }) => Some(level.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(levels, ["checksum", "listing", "drill"]);

    // Restore into an empty sibling: counts equal the manifest's.
    let target_db = f.db.sibling().await;
    let target = PgUrl::parse(target_db.url()).unwrap();
    let restored = f
        .backups
        .restore_postgres(
            manifest.id,
            &target,
            &RestoreOptions::new().with_no_owner(true),
        )
        .await
        .unwrap();
    assert!(restored.single_transaction);
    let tpool = target_db.pool().await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&tpool)
        .await
        .unwrap();
    assert_eq!(n as u64, users);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM \"Order Items\"")
        .fetch_one(&tpool)
        .await
        .unwrap();
    assert_eq!(n, 4000);
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_guard_refuses_source_and_non_empty_targets() {
    let f = fixture().await;
    let url = PgUrl::parse(f.db.url()).unwrap();
    let m = f.backups.backup_postgres(&url).await.unwrap();

    let err = f
        .backups
        .restore_postgres(m.id, &url, &RestoreOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BackupError::RestoreRefused(Refusal::SourceDatabase { database }) if database == f.db.name()),
        "{err}"
    );
    assert_eq!(err.kind(), runway_core::ErrorKind::Conflict);
    // Even allowing non-empty targets does not allow the source.
    let err = f
        .backups
        .restore_postgres(
            m.id,
            &url,
            &RestoreOptions::new().with_allow_non_empty(true),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        BackupError::RestoreRefused(Refusal::SourceDatabase { .. })
    ));

    let other = f.db.sibling().await;
    sqlx::query("CREATE TABLE keep_me (x int)")
        .execute(&other.pool().await)
        .await
        .unwrap();
    let target = PgUrl::parse(other.url()).unwrap();
    let err = f
        .backups
        .restore_postgres(m.id, &target, &RestoreOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BackupError::RestoreRefused(Refusal::NotEmpty { relations: 1, .. })
        ),
        "{err}"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        .fetch_one(&other.pool().await)
        .await
        .unwrap();
    assert_eq!(n, 1, "nothing was restored into the refused target");
    assert!(
        f.sink
            .payloads()
            .iter()
            .any(|p| matches!(p, EventPayload::Backup(BackupEvent::RestoreRefused { .. })))
    );

    // Forced, with parallel jobs (so not one transaction), and --clean: restores over it.
    let report = f
        .backups
        .restore_postgres(
            m.id,
            &target,
            &RestoreOptions::new()
                .with_allow_non_empty(true)
                .with_jobs(2)
                .with_no_owner(true),
        )
        .await
        .unwrap();
    assert_eq!(report.jobs, 2);
    assert!(!report.single_transaction);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM billing.invoices_2026")
        .fetch_one(&other.pool().await)
        .await
        .unwrap();
    assert_eq!(n, 70);
    // A second forced restore over the restored copy works thanks to --clean --if-exists.
    f.backups
        .restore_postgres(
            m.id,
            &target,
            &RestoreOptions::new().with_allow_non_empty(true),
        )
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&other.pool().await)
        .await
        .unwrap();
    assert_eq!(n, 1500);
}

fn corrupt(path: &std::path::Path, how: &str) {
    let mut bytes = std::fs::read(path).unwrap();
    match how {
        "truncate" => bytes.truncate(bytes.len() / 2),
        "flip" => {
            let i = bytes.len() * 2 / 3;
            bytes[i] ^= 0x01;
        }
        _ => unreachable!(),
    }
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_flipped_and_wrong_hash_each_fail_verification() {
    let f = fixture().await;
    let url = PgUrl::parse(f.db.url()).unwrap();
    let store = LocalDir::new(f.dir.path());

    // Truncated.
    let m = f.backups.backup_postgres(&url).await.unwrap();
    corrupt(&f.dir.path().join(&m.file), "truncate");
    let err = f
        .backups
        .verify(m.id, VerifyLevel::Drill)
        .await
        .unwrap_err();
    assert!(
        matches!(err, BackupError::SizeMismatch { expected, actual, .. } if actual == expected / 2),
        "{err}"
    );
    assert!(err.is_corrupt_backup());
    let rec = f.backups.verification(m.id).await.unwrap().unwrap();
    assert!(!rec.checksum.as_ref().unwrap().ok);
    assert!(
        rec.checksum
            .as_ref()
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .contains("size")
    );
    assert!(rec.drill.is_none() && !rec.is_verified_for(&m));
    // A corrupt backup is never restored.
    let target = f.db.sibling().await;
    let err = f
        .backups
        .restore_postgres(
            m.id,
            &PgUrl::parse(target.url()).unwrap(),
            &RestoreOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::SizeMismatch { .. }));

    // A flipped byte.
    let m = f.backups.backup_postgres(&url).await.unwrap();
    corrupt(&f.dir.path().join(&m.file), "flip");
    let err = f
        .backups
        .verify(m.id, VerifyLevel::Checksum)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BackupError::ChecksumMismatch { expected, actual, .. } if *expected == m.sha256 && *actual != m.sha256),
        "{err}"
    );

    // A wrong hash in the manifest.
    let m = f.backups.backup_postgres(&url).await.unwrap();
    let mut wrong = m.clone();
    wrong.sha256 = "0".repeat(64);
    store
        .put(&m.id.manifest_key(), wrong.to_json().into())
        .await
        .unwrap();
    let err = f
        .backups
        .verify(m.id, VerifyLevel::Listing)
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::ChecksumMismatch { .. }), "{err}");
    assert_eq!(err.kind(), runway_core::ErrorKind::InvalidInput);

    // None of them is verified, and the gate says so.
    let gate = f
        .backups
        .freshness_gate(std::time::Duration::from_secs(86_400))
        .await
        .unwrap();
    assert_eq!(
        gate,
        runway_backup::GateOutcome::Fail(runway_backup::GateFailure::NoVerifiedBackup {
            unverified: 3
        })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drill_catches_a_manifest_whose_counts_are_wrong() {
    let f = fixture().await;
    let url = PgUrl::parse(f.db.url()).unwrap();
    let m = f.backups.backup_postgres(&url).await.unwrap();
    let mut lying = m.clone();
    lying.tables.insert("public.users".into(), 9999);
    lying.tables.insert("public.ghost".into(), 1);
    LocalDir::new(f.dir.path())
        .put(&m.id.manifest_key(), lying.to_json().into())
        .await
        .unwrap();
    // The listing already misses the ghost table's data.
    let err = f
        .backups
        .verify(m.id, VerifyLevel::Listing)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BackupError::Unreadable { detail, .. } if detail.contains("public.ghost")),
        "{err}"
    );
    lying.tables.remove("public.ghost");
    LocalDir::new(f.dir.path())
        .put(&m.id.manifest_key(), lying.to_json().into())
        .await
        .unwrap();
    let err = f
        .backups
        .verify(m.id, VerifyLevel::Drill)
        .await
        .unwrap_err();
    match err {
        BackupError::CountMismatch { mismatches, .. } => {
            assert_eq!(mismatches.len(), 1);
            assert_eq!(mismatches[0].table, "public.users");
            assert_eq!(mismatches[0].expected, 9999);
            assert_eq!(mismatches[0].actual, Some(1500));
        }
        other => panic!("expected a count mismatch, got {other}"),
    }
    let rec = f.backups.verification(m.id).await.unwrap().unwrap();
    assert!(!rec.drill.unwrap().check.ok);
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_never_reach_events_manifests_or_errors() {
    let f = fixture().await;
    // The local server trusts loopback connections, so any password is accepted and must stay hidden.
    let secret = "pw-9f8e7d6c5b4a";
    let with_pw =
        f.db.url()
            .replacen("postgres@", &format!("postgres:{secret}@"), 1);
    assert!(with_pw.contains(secret));
    let url = PgUrl::parse(&with_pw).unwrap();
    assert!(!format!("{url:?} {url}").contains(secret));
    let m = f.backups.backup_postgres(&url).await.unwrap();
    assert!(!String::from_utf8(m.to_json()).unwrap().contains(secret));
    let events = serde_json::to_string(&f.sink.events()).unwrap();
    assert!(!events.contains(secret));

    let missing = PgUrl::parse(&format!("{}_missing", with_pw)).unwrap();
    let err = f.backups.backup_postgres(&missing).await.unwrap_err();
    assert!(matches!(err, BackupError::Database { .. }), "{err}");
    assert!(!format!("{err} {err:?}").contains(secret));
    assert!(
        !f.dir
            .path()
            .read_dir()
            .unwrap()
            .any(|e| { e.unwrap().file_name().to_string_lossy().contains("partial") })
    );
}

#[tokio::test]
async fn drill_without_a_server_is_a_typed_configuration_error() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let backups = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(dir.path())))
        .build()
        .unwrap();
    let m = backups
        .backup_postgres(&PgUrl::parse(db.url()).unwrap())
        .await
        .unwrap();
    assert!(m.tables.is_empty());
    backups.verify(m.id, VerifyLevel::Listing).await.unwrap();
    let err = backups.verify(m.id, VerifyLevel::Drill).await.unwrap_err();
    assert!(matches!(
        err,
        BackupError::NotConfigured {
            level: VerifyLevel::Drill,
            ..
        }
    ));
    assert_eq!(err.kind(), runway_core::ErrorKind::Unsupported);
}

#[tokio::test]
async fn a_tool_timeout_stops_pg_dump_and_leaves_nothing() {
    let db = TestDatabase::create().await;
    seed(&db.pool().await).await;
    let dir = tempfile::tempdir().unwrap();
    let backups = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(dir.path())))
        .with_tool_timeout(std::time::Duration::from_millis(1))
        .build()
        .unwrap();
    let err = backups
        .backup_postgres(&PgUrl::parse(db.url()).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BackupError::Timeout {
                tool: "pg_dump",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.kind(), runway_core::ErrorKind::Timeout);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial file, no manifest"
    );
    assert!(backups.list().await.unwrap().is_empty());
}
