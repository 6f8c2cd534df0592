//! Diagnosis on real PostgreSQL (long queries, blocking locks, pool use, size, an unreachable server) and
//! on the simulator (an erroring release found in the logs and in the journal: roll back).

use std::sync::Arc;
use std::time::{Duration, Instant};

use runway::diagnose::{
    CheckId, CheckStatus, Diagnosis, DiagnosisReport, FindingKind, ReleaseHistory, Severity,
    Thresholds,
};
use runway_core::event::DeployEvent;
use runway_core::secrecy::SecretString;
use runway_core::{Event, EventPayload, LogScope, Release, ReleaseId};
use runway_rollout::{FileJournal, Journal, Outcome, PgJournal, Rollout};
use runway_sim::{ReleaseProfile, SimPlatform};
use runway_testkit::services::{TestDatabase, free_port};
use sqlx::{Connection, PgConnection};

fn diagnosis_for(db: &TestDatabase, thresholds: Thresholds) -> Diagnosis {
    Diagnosis::builder()
        .with_database_url(SecretString::from(db.url().to_owned()))
        .with_thresholds(thresholds)
        .build()
        .unwrap()
}

/// Run the diagnosis until `found` holds (at most 15 s of real time).
async fn until(diag: &Diagnosis, found: impl Fn(&DiagnosisReport) -> bool) -> DiagnosisReport {
    let start = Instant::now();
    loop {
        let report = diag.run().await;
        if found(&report) || start.elapsed() > Duration::from_secs(15) {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn pid(conn: &mut PgConnection) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_long_query_is_found_with_its_pid() {
    let db = TestDatabase::create().await;
    let mut sleeper = PgConnection::connect(db.url()).await.unwrap();
    let sleeper_pid = pid(&mut sleeper).await;
    let task = tokio::spawn(async move {
        // A literal in the statement: it must not reach the finding.
        sqlx::query("SELECT pg_sleep(30), 'card-4242-4242' AS note")
            .execute(&mut sleeper)
            .await
    });
    let diag = diagnosis_for(&db, Thresholds::default());
    let report = until(&diag, |r| {
        r.findings_for(CheckId::SlowQueries)
            .any(|f| matches!(f.kind, FindingKind::SlowQuery { pid, .. } if pid == sleeper_pid))
    })
    .await;
    let f = report
        .findings_for(CheckId::SlowQueries)
        .find(|f| matches!(f.kind, FindingKind::SlowQuery { pid, .. } if pid == sleeper_pid))
        .unwrap_or_else(|| panic!("no slow query found:\n{}", report.render_text()));
    let FindingKind::SlowQuery {
        seconds,
        query,
        critical,
        ..
    } = &f.kind
    else {
        unreachable!()
    };
    assert!(*seconds > 1.0, "{seconds}");
    assert!(!critical);
    assert_eq!(f.severity, Severity::Warning);
    assert!(query.contains("pg_sleep(30)"), "{query}");
    assert!(!query.contains("4242"), "{query}");
    assert!(
        f.action
            .contains(&format!("pg_cancel_backend({sleeper_pid})"))
    );
    assert_eq!(report.status(CheckId::SlowQueries), CheckStatus::Warning);

    let admin = db.pool().await;
    sqlx::query("SELECT pg_cancel_backend($1)")
        .bind(sleeper_pid)
        .execute(&admin)
        .await
        .unwrap();
    assert!(task.await.unwrap().is_err(), "the sleep was cancelled");
    // Gone once cancelled.
    let report = until(&diag, |r| {
        r.findings_for(CheckId::SlowQueries).next().is_none()
    })
    .await;
    assert_eq!(
        report.status(CheckId::SlowQueries),
        CheckStatus::Ok,
        "{}",
        report.render_text()
    );
}

#[tokio::test]
async fn a_blocking_lock_names_the_blocked_and_blocking_pids() {
    let db = TestDatabase::create().await;
    let mut holder = PgConnection::connect(db.url()).await.unwrap();
    let mut waiter = PgConnection::connect(db.url()).await.unwrap();
    let (holder_pid, waiter_pid) = (pid(&mut holder).await, pid(&mut waiter).await);
    sqlx::query("CREATE TABLE orders (id bigint PRIMARY KEY, total bigint)")
        .execute(&mut holder)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .unwrap();
    let task = tokio::spawn(async move {
        let r = sqlx::query("SELECT count(*) FROM orders")
            .execute(&mut waiter)
            .await;
        (r.is_ok(), waiter)
    });

    let diag = diagnosis_for(&db, Thresholds::default());
    let report = until(&diag, |r| r.findings_for(CheckId::Locks).next().is_some()).await;
    let f = report
        .findings_for(CheckId::Locks)
        .next()
        .unwrap_or_else(|| panic!("no lock found:\n{}", report.render_text()));
    let FindingKind::BlockingLock {
        blocked_pid,
        blocking_pids,
        mode,
        relation,
        blocked_query,
        blockers,
        ..
    } = &f.kind
    else {
        unreachable!()
    };
    assert_eq!(*blocked_pid, waiter_pid);
    assert_eq!(blocking_pids, &vec![holder_pid]);
    assert_eq!(mode, "AccessShareLock");
    assert_eq!(relation.as_deref(), Some("orders"));
    assert!(blocked_query.contains("FROM orders"));
    assert_eq!(blockers.len(), 1);
    assert_eq!(blockers[0].pid, holder_pid);
    assert_eq!(blockers[0].state, "idle in transaction");
    assert!(
        f.action
            .contains(&format!("pg_terminate_backend({holder_pid})")),
        "{}",
        f.action
    );
    assert!(
        f.message.contains(&format!("blocked by pid {holder_pid}")),
        "{}",
        f.message
    );

    sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
    let (ok, _waiter) = task.await.unwrap();
    assert!(ok, "the waiter proceeds once the lock is released");
    let report = diag.run().await;
    assert_eq!(report.findings_for(CheckId::Locks).count(), 0);
}

#[tokio::test]
async fn pool_use_and_size_are_measured() {
    let db = TestDatabase::create().await;
    let mut extra = Vec::new();
    for _ in 0..3 {
        extra.push(PgConnection::connect(db.url()).await.unwrap());
    }
    let mut probe = PgConnection::connect(db.url()).await.unwrap();
    let max: i64 = sqlx::query_scalar("SELECT current_setting('max_connections')::int8")
        .fetch_one(&mut probe)
        .await
        .unwrap();
    let report = diagnosis_for(&db, Thresholds::default().with_disk_limit(u64::MAX))
        .run()
        .await;
    let pool = report.measurements.pool.clone().expect("pool measured");
    // Three idle connections, the probe, and the diagnosis' own.
    assert!(pool.this_database >= 5, "{pool:?}");
    assert!(pool.total >= pool.this_database);
    assert!(pool.idle >= 4, "{pool:?}");
    assert_eq!(pool.max_connections, max);
    assert!(report.measurements.database_bytes.unwrap() > 1_000_000);
    assert_eq!(report.findings_for(CheckId::DatabaseSize).count(), 0);
    let summary = &report
        .checks
        .iter()
        .find(|c| c.check == CheckId::ConnectionPool)
        .unwrap()
        .summary;
    assert!(
        summary.contains(&format!("of {max} connections")),
        "{summary}"
    );

    // With a zero warning threshold the same use is reported; a tiny disk limit is critical.
    let report = diagnosis_for(
        &db,
        Thresholds::default()
            .with_pool_utilisation(0.0)
            .with_disk_limit(1),
    )
    .run()
    .await;
    let f = report
        .findings_for(CheckId::ConnectionPool)
        .next()
        .expect("pool finding");
    assert!(
        matches!(f.kind, FindingKind::ConnectionPool { used, max: m, .. } if used >= 5 && m == max)
    );
    let disk = report
        .findings_for(CheckId::DatabaseSize)
        .next()
        .expect("disk finding");
    assert_eq!(disk.severity, Severity::Critical);
    assert!(!report.healthy());
    drop(extra);
}

#[tokio::test]
async fn an_unreachable_database_is_critical_and_redacted() {
    let url = format!("postgres://app:hunter2-pw@127.0.0.1:{}/app", free_port());
    let report = Diagnosis::builder()
        .with_database_url(SecretString::from(url))
        .build()
        .unwrap()
        .run()
        .await;
    let f = report
        .findings_for(CheckId::ConnectionPool)
        .next()
        .expect("finding");
    assert!(matches!(f.kind, FindingKind::DatabaseUnreachable { .. }));
    assert_eq!(f.severity, Severity::Critical);
    assert!(!report.healthy());
    assert_eq!(
        report.status(CheckId::ConnectionPool),
        CheckStatus::Critical
    );
    for c in [CheckId::SlowQueries, CheckId::DatabaseSize, CheckId::Locks] {
        assert_eq!(report.status(c), CheckStatus::Skipped, "could not run");
    }
    let out = format!("{}{}{report:?}", report.render_text(), report.to_json());
    assert!(!out.contains("hunter2"), "{out}");
}

#[tokio::test]
async fn recent_releases_from_the_postgres_journal() {
    let db = TestDatabase::create().await;
    let pool = db.pool().await;
    let journal = PgJournal::new(pool.clone());
    journal.ensure_schema().await.unwrap();
    let now = chrono::Utc::now();
    let ev = |run: &str, seq: u64, ago_min: i64, payload: DeployEvent| Event {
        seq,
        at: now - chrono::Duration::minutes(ago_min),
        run: Some(run.into()),
        payload: EventPayload::Deploy(payload),
    };
    let started = |release: &str, previous: &str| DeployEvent::RolloutStarted {
        environment: "production".into(),
        release: ReleaseId::new(release),
        previous: Some(ReleaseId::new(previous)),
        units: 3,
        strategy: "rolling".into(),
    };
    let finished = || DeployEvent::RolloutFinished {
        outcome: "succeeded".into(),
        units_by_release: Default::default(),
    };
    for e in [
        ev("old", 0, 600, started("v1", "v0")),
        ev("old", 1, 590, finished()),
        ev("recent", 0, 20, started("v2", "v1")),
        ev("recent", 1, 15, finished()),
        ev("crashed", 0, 300, started("v3", "v2")),
    ] {
        journal.append(&e).await.unwrap();
    }
    let report = Diagnosis::builder()
        .with_release_history(ReleaseHistory::Postgres(pool))
        .build()
        .unwrap()
        .run()
        .await;
    let mut found: Vec<(String, Option<String>, Severity)> = report
        .findings_for(CheckId::RecentReleases)
        .map(|f| match &f.kind {
            FindingKind::RecentRelease {
                release, outcome, ..
            } => (release.clone(), outcome.clone(), f.severity),
            _ => unreachable!(),
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("v2".into(), Some("succeeded".into()), Severity::Warning),
            ("v3".into(), None, Severity::Critical),
        ],
        "{}",
        report.render_text()
    );
    // Nothing else is wrong, so no rollback is recommended for the successful one.
    assert!(report.rollback_recommended().is_none());
}

async fn release_on_sim(profile: ReleaseProfile, journal: Arc<FileJournal>) -> SimPlatform {
    let sim = SimPlatform::builder()
        .environment("production")
        .units(3)
        .initial_release("v1")
        .release(profile)
        .build();
    tokio::time::sleep(Duration::from_secs(1800)).await; // quiet traffic before the release
    let report = Rollout::builder()
        .with_platform(Arc::new(sim.clone()))
        .with_probe(Arc::new(sim.clone()))
        .with_journal(journal)
        .with_clock(Arc::new(sim.clock()))
        .with_environment("production")
        .with_release(Release::new("v2"))
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert!(
        matches!(report.outcome, Outcome::Succeeded),
        "{:?}",
        report.outcome
    );
    tokio::time::sleep(Duration::from_secs(600)).await; // ten minutes of traffic on v2
    sim
}

fn sim_diagnosis(sim: &SimPlatform, journal: &FileJournal) -> Diagnosis {
    let sim = Arc::new(sim.clone());
    Diagnosis::builder()
        .with_logs(sim.clone(), LogScope::environment("production"))
        .with_release_history(ReleaseHistory::File(journal.clone()))
        .with_fleet(sim.clone(), sim.clone(), "production")
        .with_metrics(sim.clone(), "production")
        .with_clock(Arc::new(sim.clock()))
        .with_environment("production")
        .build()
        .unwrap()
}

fn journal_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!(
        "runway-diagnose-{}-{name}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&p);
    p
}

#[tokio::test(start_paused = true)]
async fn an_erroring_release_is_found_in_the_logs_and_rolled_back_first() {
    let path = journal_path("bad");
    let journal = Arc::new(FileJournal::new(&path));
    let sim = release_on_sim(
        ReleaseProfile::healthy("v2").with_error_rate(0.5),
        journal.clone(),
    )
    .await;
    let report = sim_diagnosis(&sim, &journal).run().await;

    let errors = report
        .findings_for(CheckId::ErrorRate)
        .next()
        .expect("error spike");
    let FindingKind::ErrorRate {
        count,
        previous_hour,
        patterns,
        critical,
        ..
    } = &errors.kind
    else {
        unreachable!()
    };
    assert!(*critical && *count >= 50, "{}", report.render_text());
    assert_eq!(*previous_hour, Some(0), "v1 served without errors");
    assert!(
        patterns[0].0.contains("requests failed with"),
        "{patterns:?}"
    );
    assert_eq!(errors.severity, Severity::Critical);

    let release = report
        .findings_for(CheckId::RecentReleases)
        .next()
        .expect("recent release");
    assert!(matches!(
        &release.kind,
        FindingKind::RecentRelease { release, previous, outcome, .. }
            if release == "v2" && previous.as_deref() == Some("v1") && outcome.as_deref() == Some("succeeded")
    ));
    assert!(report.rollback_recommended().is_some());
    assert!(
        report.actions[0].starts_with("Roll back v2 to v1 now"),
        "{:?}",
        report.actions
    );
    assert!(report.findings_for(CheckId::Resources).any(|f| matches!(
        &f.kind,
        FindingKind::Resource { measurement, .. } if measurement == "http_5xx_rate"
    )));
    assert!(!report.healthy());
    assert_eq!(
        report.status(CheckId::Health),
        CheckStatus::Ok,
        "units pass their health checks"
    );
    assert_eq!(report.to_json()["healthy"], false);
    std::fs::remove_file(path).ok();
}

#[tokio::test(start_paused = true)]
async fn a_good_release_is_reported_without_a_rollback() {
    let path = journal_path("good");
    let journal = Arc::new(FileJournal::new(&path));
    // The simulator's healthy profile fails 0.1% of requests: ERROR lines appear where v1 had none, but
    // the 5xx rate stays within the runbook's 1%, so they are a warning, not an outage.
    let sim = release_on_sim(ReleaseProfile::healthy("v2"), journal.clone()).await;
    let report = sim_diagnosis(&sim, &journal).run().await;
    assert!(report.healthy(), "{}", report.render_text());
    let errors: Vec<_> = report.findings_for(CheckId::ErrorRate).collect();
    assert_eq!(errors.len(), 1, "{}", report.render_text());
    assert_eq!(errors[0].severity, Severity::Warning);
    assert!(
        errors[0].message.contains("within the 1% threshold"),
        "{}",
        errors[0].message
    );
    assert_eq!(report.findings_for(CheckId::RecentReleases).count(), 1);
    assert!(report.rollback_recommended().is_none());
    for c in [CheckId::Health, CheckId::Resources] {
        assert_eq!(report.status(c), CheckStatus::Ok, "{c}");
    }
    for c in [
        CheckId::ConnectionPool,
        CheckId::SlowQueries,
        CheckId::DatabaseSize,
        CheckId::Locks,
    ] {
        assert_eq!(report.status(c), CheckStatus::Skipped, "{c}");
    }
    std::fs::remove_file(path).ok();
}

#[tokio::test(start_paused = true)]
async fn production_down_failing_health_and_units_after_a_release() {
    use runway_core::Platform;
    use runway_health::{CheckResult, FnCheck, Problem};

    let sim = Arc::new(
        SimPlatform::builder()
            .environment("production")
            .units(3)
            .initial_release("v1")
            .release(ReleaseProfile::unhealthy("v2"))
            .build(),
    );
    let units = sim
        .units(&"production".into(), &Default::default())
        .await
        .unwrap();
    for u in &units[..2] {
        sim.deploy(&u.id, &Release::new("v2"), &Default::default())
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(120)).await;
    let at = sim.clock();
    let now = runway_core::Clock::now(&at);
    let events = vec![
        Event {
            seq: 0,
            at: now - chrono::Duration::minutes(3),
            run: Some("r2".into()),
            payload: EventPayload::Deploy(DeployEvent::RolloutStarted {
                environment: "production".into(),
                release: ReleaseId::new("v2"),
                previous: Some(ReleaseId::new("v1")),
                units: 3,
                strategy: "rolling".into(),
            }),
        },
        Event {
            seq: 1,
            at: now - chrono::Duration::minutes(2),
            run: Some("r2".into()),
            payload: EventPayload::Deploy(DeployEvent::RolloutFinished {
                outcome: "succeeded".into(),
                units_by_release: Default::default(),
            }),
        },
    ];
    let health = FnCheck::new("api", || async {
        CheckResult::fail(Problem::Unreachable).with_detail("connect to 10.0.0.7:443 refused")
    });
    let report = Diagnosis::builder()
        .with_health_check(Arc::new(health))
        .with_fleet(sim.clone(), sim.clone(), "production")
        .with_release_history(ReleaseHistory::Events(events))
        .with_clock(Arc::new(at))
        .build()
        .unwrap()
        .run()
        .await;
    let health: Vec<_> = report.findings_for(CheckId::Health).collect();
    assert_eq!(health.len(), 2, "{}", report.render_text());
    assert!(health.iter().all(|f| f.severity == Severity::Critical));
    assert!(health.iter().any(|f| matches!(
        &f.kind,
        FindingKind::HealthFailing { name, problem, failing: true } if name == "api" && problem == "unreachable"
    )));
    let unhealthy = health
        .iter()
        .find_map(|f| match &f.kind {
            FindingKind::UnhealthyUnits { unhealthy, total } => Some((unhealthy.len(), *total)),
            _ => None,
        })
        .unwrap();
    assert_eq!(unhealthy, (2, 3));
    assert!(
        report.actions[0].starts_with("Roll back v2 to v1 now"),
        "{:?}",
        report.actions
    );
    // The check's internal detail (a host) stays internal.
    assert!(!report.to_json().to_string().contains("10.0.0.7"));
}

/// Redaction and pattern masking never panic and stay bounded on arbitrary input.
#[test]
fn redaction_never_panics_on_arbitrary_input() {
    use runway::diagnose::analyze::{message_pattern, redact_sql};
    let fragments = [
        "'", "''", "$$", "$", "SELECT ", "--", "é", "\u{0}", "\n", "\\", "x", "123", "\"", " ",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5000 {
        let mut s = String::new();
        for _ in 0..(next() % 40) {
            s.push_str(fragments[(next() as usize) % fragments.len()]);
        }
        assert!(redact_sql(&s).chars().count() <= 160);
        assert!(message_pattern(&s).chars().count() <= 120);
        let wrapped = redact_sql(&format!(
            "SELECT 'hunter2{}' AS x",
            s.replace(['\'', '$'], "")
        ));
        assert!(!wrapped.contains("hunter2"), "{wrapped}");
    }
}
