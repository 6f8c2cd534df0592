//! SQLite (the embedded default): same manifest, verification, guard and retention.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use runway_backup::{
    BackupError, Backups, GateFailure, GateOutcome, LocalDir, Refusal, RestoreOptions,
    RetentionMode, RetentionPolicy, VerifyLevel,
};
use runway_core::Clock;

#[derive(Debug, Clone)]
struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

fn setup() -> (tempfile::TempDir, Backups, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock(Arc::new(Mutex::new(
        Utc.with_ymd_and_hms(2026, 2, 1, 9, 0, 0).unwrap(),
    )));
    let backups = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(dir.path().join("backups"))))
        .with_clock(Arc::new(clock.clone()))
        .with_scratch_dir(dir.path())
        .build()
        .unwrap();
    (dir, backups, clock)
}

#[tokio::test]
async fn sqlite_backup_drill_and_guarded_restore() {
    let (dir, backups, _clock) = setup();
    let db = dir.path().join("app.db");
    runway_backup::demo::create_sqlite(&db, 40).await.unwrap();
    let m = backups.backup_sqlite(&db).await.unwrap();
    assert_eq!(m.id.to_string(), "backup_20260201_090000");
    assert_eq!(m.tables["users"], 40);
    assert_eq!(m.tables["orders"], 120);
    assert_eq!(m.source.database, "app.db");
    assert!(m.tool_version.starts_with("VACUUM INTO"));

    let report = backups.verify(m.id, VerifyLevel::Drill).await.unwrap();
    assert!(report.verified);
    assert_eq!(report.drill.unwrap().rows, 160);

    // Same second: the next backup gets _2.
    let m2 = backups.backup_sqlite(&db).await.unwrap();
    assert_eq!(m2.id.to_string(), "backup_20260201_090000_2");

    // The guard: not over the source, not over a non-empty file.
    let err = backups
        .restore_sqlite(m.id, &db, &RestoreOptions::new().with_allow_non_empty(true))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BackupError::RestoreRefused(Refusal::SourceDatabase { .. })
        ),
        "{err}"
    );
    let other = dir.path().join("other.db");
    runway_backup::demo::create_sqlite(&other, 1).await.unwrap();
    let err = backups
        .restore_sqlite(m.id, &other, &RestoreOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, BackupError::RestoreRefused(Refusal::NotEmpty { .. })),
        "{err}"
    );
    // A new file restores; forcing restores over the non-empty one.
    let fresh = dir.path().join("fresh.db");
    backups
        .restore_sqlite(m.id, &fresh, &RestoreOptions::new())
        .await
        .unwrap();
    backups
        .restore_sqlite(
            m.id,
            &other,
            &RestoreOptions::new().with_allow_non_empty(true),
        )
        .await
        .unwrap();
    for p in [&fresh, &other] {
        let copy = dir.path().join("check.sqlite");
        let _ = std::fs::remove_file(&copy);
        let b2 = Backups::builder()
            .with_storage(Arc::new(LocalDir::new(dir.path().join("b2"))))
            .build()
            .unwrap();
        let mm = b2.backup_sqlite(p).await.unwrap();
        assert_eq!(mm.tables["orders"], 120);
    }
}

#[tokio::test]
async fn sqlite_corruption_fails_verification() {
    let (dir, backups, _clock) = setup();
    let db = dir.path().join("app.db");
    runway_backup::demo::create_sqlite(&db, 40).await.unwrap();
    let m = backups.backup_sqlite(&db).await.unwrap();
    backups.verify(m.id, VerifyLevel::Drill).await.unwrap();
    assert!(backups.list().await.unwrap()[0].is_verified());
    let file = dir.path().join("backups").join(&m.file);
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let err = backups
        .verify(m.id, VerifyLevel::Checksum)
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::ChecksumMismatch { .. }), "{err}");
    // Corrupted after its drill: no longer verified, and the gate closes.
    assert!(!backups.list().await.unwrap()[0].is_verified());
    assert!(
        !backups
            .freshness_gate(Duration::from_secs(3600))
            .await
            .unwrap()
            .passed()
    );
    bytes.truncate(100);
    std::fs::write(&file, &bytes).unwrap();
    let err = backups
        .verify(m.id, VerifyLevel::Checksum)
        .await
        .unwrap_err();
    assert!(
        matches!(err, BackupError::SizeMismatch { actual: 100, .. }),
        "{err}"
    );
    let err = backups
        .restore_sqlite(m.id, &dir.path().join("never.db"), &RestoreOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_corrupt_backup());
    assert!(!dir.path().join("never.db").exists());
}

#[tokio::test]
async fn retention_is_a_dry_run_by_default_and_keeps_the_newest_verified() {
    let (dir, backups, clock) = setup();
    let db = dir.path().join("app.db");
    runway_backup::demo::create_sqlite(&db, 3).await.unwrap();
    let start = Utc.with_ymd_and_hms(2026, 2, 1, 9, 0, 0).unwrap();
    let mut ids = Vec::new();
    for day in 0..5 {
        clock.set(start + chrono::Duration::days(day));
        ids.push(backups.backup_sqlite(&db).await.unwrap().id);
    }
    // Only the second one is drilled.
    backups.verify(ids[1], VerifyLevel::Drill).await.unwrap();
    clock.set(start + chrono::Duration::days(5));

    let policy = RetentionPolicy::none().with_daily(2);
    let plan = backups
        .enforce_retention(&policy, RetentionMode::default())
        .await
        .unwrap();
    assert_eq!(plan.delete, vec![ids[2], ids[0]]);
    assert!(plan.keeps(&ids[1]) && plan.keeps(&ids[4]) && plan.keeps(&ids[3]));
    assert_eq!(
        backups.list().await.unwrap().len(),
        5,
        "dry run deletes nothing"
    );

    backups
        .enforce_retention(&policy, RetentionMode::Delete)
        .await
        .unwrap();
    let left: Vec<_> = backups
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, vec![ids[4], ids[3], ids[1]]);
    assert!(
        !dir.path()
            .join("backups")
            .join(ids[0].manifest_key())
            .exists()
    );

    // The gate: the verified backup is 4 days old.
    let day = Duration::from_secs(86_400);
    assert_eq!(
        backups.freshness_gate(day).await.unwrap(),
        GateOutcome::Fail(GateFailure::TooOld {
            id: ids[1],
            age: 4 * day,
            max_age: day
        })
    );
    assert!(backups.freshness_gate(5 * day).await.unwrap().passed());
}
