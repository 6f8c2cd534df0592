//! The checker: timeouts shorter than the probe's, panics, criticality, flap protection, the cache, events.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use runway_core::{Emitter, EventPayload, MemorySink, event::HealthEvent};
use runway_health::{
    CheckResult, Exposure, FlapPolicy, FnCheck, HealthChecker, HealthError, Hold, Problem, Status,
};

/// A check that fails while `failing` says so, counting its runs.
fn switchable(
    name: &str,
    failing: Arc<AtomicU32>,
    runs: Arc<AtomicU32>,
) -> impl runway_health::Check {
    FnCheck::new(name.to_owned(), move || {
        let failing = failing.load(Ordering::SeqCst) == 1;
        runs.fetch_add(1, Ordering::SeqCst);
        async move {
            if failing {
                CheckResult::fail(Problem::Unreachable)
            } else {
                CheckResult::pass()
            }
        }
    })
}

#[tokio::test(start_paused = true)]
async fn hung_and_panicking_checks_become_failures_within_their_timeout() {
    let checker = HealthChecker::builder()
        .with_check(
            FnCheck::new("hangs", || async {
                std::future::pending::<()>().await;
                CheckResult::pass()
            })
            .with_timeout(Duration::from_millis(800)),
        )
        .with_check(FnCheck::new("panics", || async {
            panic!("boom with password=hunter2");
        }))
        .with_check(
            FnCheck::new("optional", || async {
                CheckResult::fail(Problem::Unreachable)
            })
            .non_critical(),
        )
        .with_check(FnCheck::new("fine", || async { CheckResult::pass() }))
        .with_probe_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let report = checker.report().await;
    // All checks ran concurrently: the run took the longest timeout, not the sum.
    assert_eq!(started.elapsed(), Duration::from_millis(800));
    assert!(report.duration < checker.probe_timeout());
    assert_eq!(
        report.component("hangs").unwrap().problem,
        Some(Problem::Timeout { after_ms: 800 })
    );
    assert_eq!(
        report.component("panics").unwrap().problem,
        Some(Problem::Panicked)
    );
    let optional = report.component("optional").unwrap();
    assert_eq!(
        (optional.raw_status, optional.status),
        (Status::Fail, Status::Warn)
    );
    assert_eq!(report.status, Status::Fail);
    let text = report.to_health_json(Exposure::Internal).to_string();
    assert!(!text.contains("hunter2"));
}

#[test]
fn builder_validates() {
    let long =
        FnCheck::new("slow", || async { CheckResult::pass() }).with_timeout(Duration::from_secs(5));
    let err = HealthChecker::builder()
        .with_check(long)
        .with_probe_timeout(Duration::from_secs(5))
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            HealthError::Config {
                field: "check timeout",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.kind(), runway_core::ErrorKind::InvalidInput);
    for name in ["", "db:main"] {
        assert!(
            HealthChecker::builder()
                .with_check(FnCheck::new(name, || async { CheckResult::pass() }))
                .build()
                .is_err()
        );
    }
    assert!(
        HealthChecker::builder()
            .with_check(FnCheck::new("a", || async { CheckResult::pass() }))
            .with_check(FnCheck::new("a", || async { CheckResult::pass() }))
            .build()
            .is_err()
    );
    assert!(
        HealthChecker::builder()
            .with_flap_policy(FlapPolicy::new(0, 1))
            .build()
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn flap_protection_holds_status_for_consecutive_results() {
    let failing = Arc::new(AtomicU32::new(0));
    let runs = Arc::new(AtomicU32::new(0));
    let checker = HealthChecker::builder()
        .with_check(switchable("database", failing.clone(), runs.clone()))
        .with_flap_policy(FlapPolicy::new(3, 2))
        .build()
        .unwrap();
    let mut seen = Vec::new();
    for fail in [0, 1, 1, 1, 0, 0, 1, 0] {
        failing.store(fail, Ordering::SeqCst);
        let r = checker.report().await;
        seen.push((r.status, r.components[0].hold, r.http_status()));
    }
    use Status::*;
    let statuses: Vec<Status> = seen.iter().map(|s| s.0).collect();
    assert_eq!(
        statuses,
        vec![Pass, Warn, Warn, Fail, Fail, Pass, Warn, Pass]
    );
    assert_eq!(
        seen[1].1,
        Some(Hold::Failing {
            consecutive: 1,
            threshold: 3
        })
    );
    assert_eq!(
        seen[4].1,
        Some(Hold::Recovering {
            consecutive: 1,
            threshold: 2
        })
    );
    let codes: Vec<u16> = seen.iter().map(|s| s.2).collect();
    assert_eq!(codes, vec![200, 200, 200, 503, 503, 200, 200, 200]);
}

#[tokio::test(start_paused = true)]
async fn cache_serves_within_ttl_and_refreshes_once_for_concurrent_callers() {
    let failing = Arc::new(AtomicU32::new(0));
    let runs = Arc::new(AtomicU32::new(0));
    let slow_runs = runs.clone();
    let checker = Arc::new(
        HealthChecker::builder()
            .with_check(FnCheck::new("slow", move || {
                slow_runs.fetch_add(1, Ordering::SeqCst);
                async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    CheckResult::pass()
                }
            }))
            .with_check(switchable(
                "db",
                failing.clone(),
                Arc::new(AtomicU32::new(0)),
            ))
            .with_cache_ttl(Duration::from_secs(10))
            .with_clock(Arc::new(runway_core::TokioClock::now_system()))
            .build()
            .unwrap(),
    );
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let c = checker.clone();
            tokio::spawn(async move { c.report().await })
        })
        .collect();
    for c in callers {
        assert_eq!(c.await.unwrap().status, Status::Pass);
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "one refresh for 20 concurrent callers"
    );
    failing.store(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let cached = checker.report().await;
    assert_eq!(cached.status, Status::Pass, "still cached");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let fresh = checker.report().await;
    assert_eq!(fresh.status, Status::Fail);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!((fresh.time - cached.time).num_milliseconds(), 11_100);
}

#[tokio::test]
async fn events_per_check() {
    let sink = MemorySink::new();
    let checker = HealthChecker::builder()
        .with_check(FnCheck::new("db", || async { CheckResult::pass() }))
        .with_check(FnCheck::new("redis", || async {
            CheckResult::fail(Problem::Unreachable).with_detail("redis://:pw@10.0.0.1 refused")
        }))
        .with_emitter(Emitter::new(Arc::new(sink.clone())))
        .build()
        .unwrap();
    checker.run().await;
    let events = sink.payloads();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1],
        EventPayload::Health(HealthEvent::Check {
            name: "redis".into(),
            status: "fail".into(),
            detail: Some("unreachable".into()),
        })
    );
}

#[tokio::test]
async fn health_json_shape() {
    let checker = HealthChecker::builder()
        .with_check(FnCheck::new("database", || async {
            CheckResult::pass()
                .with_observation("responseTime", 3.0, "ms")
                .with_observation("connections", 7.0, "connections")
        }))
        .with_check(FnCheck::new("queue", || async {
            CheckResult::warn(Problem::Threshold {
                measurement: "queueDepth".into(),
                observed: 140.0,
                limit: 100.0,
            })
            .with_observation("queueDepth", 140.0, "tasks")
        }))
        .with_service_info(
            runway_health::ServiceInfo::new()
                .with_version("1.1")
                .with_release_id("abc123"),
        )
        .build()
        .unwrap();
    let report = checker.report().await;
    assert_eq!(report.status, Status::Warn);
    assert_eq!(report.http_status(), 200);
    let j = report.to_health_json(Exposure::Public);
    assert_eq!(j["status"], "warn");
    assert_eq!(j["releaseId"], "abc123");
    assert_eq!(j["checks"]["database:connections"][0]["observedValue"], 7);
    assert_eq!(
        j["checks"]["database:responseTime"][0]["observedUnit"],
        "ms"
    );
    assert!(
        j["checks"]["database:responseTime"][0]
            .get("output")
            .is_none()
    );
    assert_eq!(j["checks"]["queue:queueDepth"][0]["status"], "warn");
    assert_eq!(
        j["checks"]["queue:queueDepth"][0]["output"],
        "queueDepth 140 reached limit 100"
    );
    assert_eq!(
        j["checks"]["queue:queueDepth"][0]["componentType"],
        "component"
    );
    let rb = report.to_runbook_json(Exposure::Public);
    assert_eq!(
        rb,
        serde_json::json!({"status": "healthy", "checks": {"database": "healthy", "queue": "degraded"}})
    );
    // Our own renderings parse back with the same statuses.
    for text in [j.to_string(), rb.to_string()] {
        let back = runway_health::parse_health_response(text.as_bytes()).unwrap();
        assert!(back.status.is_serving());
    }
}

#[test]
fn from_vars_builds_the_runbook_checks() {
    let vars = std::collections::HashMap::from([
        ("DATABASE_URL", "postgres://app:pw-123@db:5432/app"),
        ("REDIS_URL", "redis://:pw-456@cache:6379"),
        ("CELERY_QUEUES", "celery, emails"),
    ]);
    let checker =
        runway_health::HealthCheckerBuilder::from_vars(|k| vars.get(k).map(|v| v.to_string()))
            .unwrap()
            .build()
            .unwrap();
    assert_eq!(checker.names(), vec!["database", "redis", "queue"]);
    let dbg = format!("{checker:?}");
    assert!(!dbg.contains("pw-123") && !dbg.contains("pw-456"), "{dbg}");
    let none = runway_health::HealthCheckerBuilder::from_vars(|_| None)
        .unwrap()
        .build()
        .unwrap();
    assert!(none.names().is_empty());
    let err = runway_health::HealthCheckerBuilder::from_vars(|k| {
        (k == "CELERY_QUEUES").then(|| "celery".to_owned())
    })
    .unwrap_err();
    assert!(matches!(
        err,
        HealthError::Config {
            field: "CELERY_QUEUES",
            ..
        }
    ));
}

mod round_trip {
    use proptest::prelude::*;
    use runway_health::{
        ComponentReport, ComponentType, Exposure, Observation, Problem, Report, ServiceInfo,
        Status, parse_health_response,
    };

    fn status() -> impl Strategy<Value = Status> {
        prop_oneof![Just(Status::Pass), Just(Status::Warn), Just(Status::Fail)]
    }

    proptest! {
        /// Both renderings parse back with the same overall status (the runbook's shape folds warn into
        /// "healthy" overall), and every component keeps its status in health+json.
        #[test]
        fn renderings_parse_back(components in proptest::collection::vec((status(), any::<bool>(), 0.0f64..1e6), 0..8)) {
            let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
            let comps: Vec<ComponentReport> = components
                .iter()
                .enumerate()
                .map(|(i, (s, measured, v))| ComponentReport {
                    name: format!("c{i}"),
                    component_type: ComponentType::Datastore,
                    status: *s,
                    raw_status: *s,
                    critical: true,
                    problem: (*s != Status::Pass).then_some(Problem::Unreachable),
                    hold: None,
                    observations: if *measured {
                        vec![Observation { measurement: "responseTime".into(), value: *v, unit: "ms".into() }]
                    } else {
                        Vec::new()
                    },
                    detail: Some("postgres://u:secret@h/db".into()),
                    duration: std::time::Duration::from_millis(3),
                    time: now,
                })
                .collect();
            let report = Report::new(comps, now, std::time::Duration::from_millis(5), ServiceInfo::new());
            let hj = report.to_health_json(Exposure::Public).to_string();
            prop_assert!(!hj.contains("secret"));
            let back = parse_health_response(hj.as_bytes()).unwrap();
            prop_assert_eq!(back.status, report.status);
            prop_assert_eq!(back.worst_component().unwrap_or(Status::Pass), report.status);
            let rb = report.to_runbook_json(Exposure::Public).to_string();
            let back = parse_health_response(rb.as_bytes()).unwrap();
            prop_assert_eq!(back.status.is_serving(), report.status.is_serving());
        }
    }
}

#[tokio::test]
async fn serialised_reports_leave_internal_detail_out() {
    let checker = HealthChecker::builder()
        .with_check(FnCheck::new("db", || async {
            CheckResult::fail(Problem::Unreachable).with_detail("connect db.internal:5432 refused")
        }))
        .build()
        .unwrap();
    let report = checker.report().await;
    assert!(report.components[0].detail.is_some());
    let json = serde_json::to_string(&*report).unwrap();
    assert!(!json.contains("db.internal"), "{json}");
    assert!(json.contains("unreachable"));
}
