//! End-to-end: the release procedure on the simulator, with SQLite and with real PostgreSQL.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use runway::assemble::{Assembled, assemble};
use runway::config::Config;
use runway::release::{ReleaseOutcome, Step};
use runway_core::{
    MemorySink, Notification, NotificationKind, Notifier, ReleaseId, RollbackStatus,
};
use runway_testkit::TestDatabase;
use secrecy::SecretString;

/// Keeps every notification.
#[derive(Debug, Default, Clone)]
struct Recorder(Arc<Mutex<Vec<Notification>>>);

#[async_trait]
impl Notifier for Recorder {
    async fn notify(&self, n: &Notification) -> runway_core::Result<()> {
        self.0.lock().unwrap().push(n.clone());
        Ok(())
    }
}

impl Recorder {
    fn kinds(&self) -> Vec<NotificationKind> {
        self.0.lock().unwrap().iter().map(|n| n.kind).collect()
    }
    fn last(&self) -> Notification {
        self.0
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a notification")
    }
}

/// A fast configuration: short start/ready times, gates and verification window.
fn fast_config(state: &Path) -> Config {
    let text = format!(
        r#"
        state_dir = "{}"
        [platform]
        start_time = "100ms"
        ready_time = "100ms"
        [rollout]
        period = "50ms"
        bake = "100ms"
        progress_deadline = "20s"
        [verify]
        window = "1500ms"
        interval = "500ms"
        min_requests = 400
        "#,
        state.display()
    );
    Config::from_toml_str(&text).expect("valid test config")
}

fn assembled(cfg: &Config, db: Option<&TestDatabase>) -> (Assembled, Recorder, MemorySink) {
    let rec = Recorder::default();
    let sink = MemorySink::new();
    let a = assemble(
        cfg,
        db.map(|d| SecretString::from(d.url().to_owned())),
        Arc::new(sink.clone()),
        Some(Arc::new(rec.clone())),
    )
    .expect("assembles");
    (a, rec, sink)
}

fn units_on(a: &Assembled, release: &str) -> usize {
    a.sim
        .as_ref()
        .unwrap()
        .units_by_release()
        .get(&ReleaseId::new(release))
        .map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_default_release_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = fast_config(dir.path());
    let (a, rec, sink) = assembled(&cfg, None);
    let report = a.release.run().await;
    assert_eq!(report.outcome, ReleaseOutcome::Succeeded, "{report:#?}");
    for step in [
        Step::Lock,
        Step::Backup,
        Step::Migrate,
        Step::Rollout,
        Step::Verify,
    ] {
        assert!(
            report.step(step).is_some_and(|s| s.ok),
            "{step:?}: {report:#?}"
        );
    }
    assert!(
        report
            .step(Step::Migrate)
            .unwrap()
            .summary
            .starts_with("applied 1, 2, 3, 4, 5")
    );
    assert!(
        report
            .step(Step::Backup)
            .unwrap()
            .summary
            .contains("drilled")
    );
    assert_eq!(units_on(&a, "v1.1"), 3);
    assert_eq!(
        rec.kinds(),
        vec![NotificationKind::Started, NotificationKind::Succeeded]
    );
    assert_eq!(rec.last().health.as_deref(), Some("Passed"));
    assert!(!sink.events().is_empty());
    // The journal holds the rollout, and the lock is free again.
    let journal = std::fs::read_to_string(&a.journal).unwrap();
    assert!(journal.contains("rollout_finished"));
    // A second release of the same version finds nothing to migrate and still passes its gates.
    let (again, _, _) = assembled(&cfg, None);
    let report = again.release.run().await;
    assert!(
        report.step(Step::Lock).unwrap().ok,
        "the lock was not released: {report:#?}"
    );
    assert_eq!(report.step(Step::Migrate).unwrap().summary, "up to date");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_release_rolls_back_and_the_notifier_gets_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fast_config(dir.path());
    cfg.platform.bad_release = true;
    let (a, rec, _) = assembled(&cfg, None);
    let report = a.release.run().await;
    assert!(
        matches!(
            report.outcome,
            ReleaseOutcome::RolledBack {
                step: Step::Rollout,
                ..
            }
        ),
        "{report:#?}"
    );
    assert_eq!(
        units_on(&a, "v1.0"),
        3,
        "every unit back on the previous release"
    );
    assert_eq!(units_on(&a, "v1.1"), 0);
    let last = rec.last();
    assert_eq!(last.kind, NotificationKind::Failed);
    assert_eq!(last.rollback, RollbackStatus::Automatic);
    assert!(last.error.is_some());
    assert_eq!(report.outcome.exit_code(), 1);
    // The journal draws the rollback: one row per unit that moved, and the rollback marker.
    let journal = std::fs::read_to_string(&a.journal).unwrap();
    let events = runway_rollout::decode_journal(&journal).unwrap().events;
    let svg = runway::timeline::svg(&runway::timeline::last_run(&events));
    assert!(svg.contains(">rollback<"), "{svg}");
    assert!(svg.contains("api-1"));
    assert!(svg.contains("rolled_back"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_verification_rolls_the_release_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fast_config(dir.path());
    // Passes every health check, but answers 5% of requests with 5xx: the runbook allows < 1%.
    cfg.platform.error_rate = 0.05;
    let (a, rec, _) = assembled(&cfg, None);
    let report = a.release.run().await;
    match &report.outcome {
        ReleaseOutcome::RolledBack {
            step: Step::Verify,
            reason,
        } => {
            assert!(reason.contains("5xx"), "{reason}");
        }
        other => panic!("expected a rollback after verification, got {other:?}"),
    }
    assert!(
        report.step(Step::Rollout).unwrap().ok,
        "the rollout itself succeeded"
    );
    assert_eq!(
        units_on(&a, "v1.0"),
        3,
        "every unit back on the previous release"
    );
    let last = rec.last();
    assert_eq!(last.kind, NotificationKind::Failed);
    assert_eq!(last.rollback, RollbackStatus::Automatic);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_migration_deploys_no_code() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(
        migrations.join("1_ok.up.sql"),
        "CREATE TABLE t (id INTEGER);",
    )
    .unwrap();
    std::fs::write(migrations.join("1_ok.down.sql"), "DROP TABLE t;").unwrap();
    std::fs::write(
        migrations.join("2_broken.up.sql"),
        "ALTER TABLE nope ADD COLUMN x INTEGER;",
    )
    .unwrap();
    std::fs::write(migrations.join("2_broken.down.sql"), "SELECT 1;").unwrap();
    let mut cfg = fast_config(dir.path());
    cfg.migrations.dir = Some(migrations);
    let (a, rec, _) = assembled(&cfg, None);
    let api_calls_before = a.sim.as_ref().unwrap().api_calls();
    let report = a.release.run().await;
    match &report.outcome {
        ReleaseOutcome::Failed {
            step: Step::Migrate,
            error,
        } => {
            assert!(
                error.contains('2') && error.contains("no code was deployed"),
                "{error}"
            );
        }
        other => panic!("expected a failed migration, got {other:?}"),
    }
    assert!(
        report.step(Step::Rollout).is_none(),
        "the rollout must not start"
    );
    assert_eq!(units_on(&a, "v1.0"), 3);
    assert_eq!(
        a.sim.as_ref().unwrap().api_calls(),
        api_calls_before,
        "no platform call was made"
    );
    assert_eq!(rec.last().kind, NotificationKind::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_backup_stops_a_production_release_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    // Production, no new backup taken, and no verified backup younger than an hour (there is none at all).
    let mut cfg = fast_config(dir.path());
    cfg.backup.take = false;
    cfg.backup.max_age = Duration::from_secs(3600);
    assert_eq!(cfg.environment.name, "production");
    let (a, rec, _) = assembled(&cfg, None);
    let report = a.release.run().await;
    assert!(
        matches!(
            report.outcome,
            ReleaseOutcome::Blocked {
                step: Step::Backup,
                ..
            }
        ),
        "{report:#?}"
    );
    assert!(report.step(Step::Migrate).is_none(), "no migration may run");
    assert!(
        report.step(Step::Rollout).is_none(),
        "no code may be deployed"
    );
    assert_eq!(units_on(&a, "v1.0"), 3);
    assert_eq!(rec.last().kind, NotificationKind::Failed);
    assert_eq!(report.outcome.exit_code(), 3);
}

#[cfg(feature = "lint")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_with_real_postgres_succeeds() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/migrations");
    let mut cfg = fast_config(dir.path());
    cfg.migrations.dir = Some(migrations);
    let (a, rec, _) = assembled(&cfg, Some(&db));
    let report = a.release.run().await;
    assert_eq!(report.outcome, ReleaseOutcome::Succeeded, "{report:#?}");
    assert!(
        report
            .step(Step::Backup)
            .unwrap()
            .summary
            .contains("drilled"),
        "{report:#?}"
    );
    let pool = db.pool().await;
    let not_null: String = sqlx::query_scalar(
        "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'phone'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        not_null, "NO",
        "the runbook's three-step phone migration ran to NOT NULL"
    );
    assert_eq!(units_on(&a, "v1.1"), 3);
    assert_eq!(
        rec.kinds(),
        vec![NotificationKind::Started, NotificationKind::Succeeded]
    );
}

/// Without the linter compiled in, a release that asks for linting is blocked, never silently unlinted.
#[cfg(not(feature = "lint"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_requested_without_the_lint_feature_blocks() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fast_config(dir.path());
    cfg.migrations.dir = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/migrations"));
    let (a, _, _) = assembled(&cfg, Some(&db));
    let report = a.release.run().await;
    assert!(
        matches!(
            report.outcome,
            ReleaseOutcome::Blocked {
                step: Step::Migrate,
                ..
            }
        ),
        "{report:#?}"
    );
    assert_eq!(units_on(&a, "v1.0"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_findings_block_the_release_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fast_config(dir.path());
    cfg.preflight.repo = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/app/seeded"));
    let (a, rec, _) = assembled(&cfg, None);
    let report = a.release.run().await;
    assert!(
        matches!(
            report.outcome,
            ReleaseOutcome::Blocked {
                step: Step::Preflight,
                ..
            }
        ),
        "{report:#?}"
    );
    assert!(
        report.step(Step::Lock).is_none(),
        "nothing runs after a failed preflight"
    );
    assert_eq!(units_on(&a, "v1.0"), 3);
    assert!(
        rec.kinds().is_empty(),
        "a blocked preflight deploys nothing and announces nothing"
    );

    // The clean repository, with its production variables in the simulated environment, passes.
    let clean = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/app/clean");
    cfg.platform.env_file = Some(clean.join(".env.production"));
    cfg.preflight.repo = Some(clean);
    let (a, _, _) = assembled(&cfg, None);
    let report = a.release.run().await;
    assert_eq!(report.outcome, ReleaseOutcome::Succeeded, "{report:#?}");
    assert!(report.step(Step::Preflight).unwrap().ok);
}
