//! HTTP checks, the HTTP probe and the axum handler against local servers that pass, fail, hang, answer
//! malformed JSON or are slow.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use runway_core::{EnvironmentId, HealthProbe, ServiceId, Unit, UnitId, UnitState};
use runway_health::{
    Check, Exposure, HealthChecker, HttpCheck, HttpProbe, JsonAssertion, Problem, Status, TcpCheck,
};
use serde_json::json;

fn http(name: &str, url: String) -> runway_health::HttpCheckBuilder {
    HttpCheck::builder(name, url).with_timeout(Duration::from_secs(3))
}

#[tokio::test]
async fn ok_500_hang_malformed_and_slow() {
    let base = common::zoo().await;

    let ok = http("ping", format!("{base}/ok"))
        .build()
        .unwrap()
        .check()
        .await;
    assert_eq!(ok.status, Status::Pass, "{ok:?}");
    assert!(ok.observation("responseTime").is_some());

    let err = http("api", format!("{base}/error"))
        .build()
        .unwrap()
        .check()
        .await;
    assert_eq!(err.status, Status::Fail);
    assert_eq!(err.problem, Some(Problem::HttpStatus { status: 500 }));

    let hang = http("api", format!("{base}/hang"))
        .with_timeout(Duration::from_millis(400))
        .build()
        .unwrap()
        .check()
        .await;
    assert_eq!(hang.status, Status::Fail);
    assert_eq!(hang.problem, Some(Problem::Timeout { after_ms: 400 }));

    let malformed = http("api", format!("{base}/malformed"))
        .expect_health_response()
        .build()
        .unwrap()
        .check()
        .await;
    assert_eq!(malformed.status, Status::Fail);
    assert_eq!(malformed.problem, Some(Problem::MalformedBody));
    let malformed = http("api", format!("{base}/malformed"))
        .with_assertion(JsonAssertion::exists("/status"))
        .build()
        .unwrap()
        .check()
        .await;
    assert_eq!(malformed.problem, Some(Problem::MalformedBody));

    let slow = http("api", format!("{base}/slow"))
        .with_latency_warn(Duration::from_millis(50))
        .build()
        .unwrap()
        .check()
        .await;
    assert_eq!(slow.status, Status::Warn);
    assert!(
        matches!(slow.problem, Some(Problem::Threshold { ref measurement, .. }) if measurement == "responseTime")
    );
    assert!(slow.observation("responseTime").unwrap() >= 150.0);
    let slow = http("api", format!("{base}/slow"))
        .with_latency_warn(Duration::from_millis(20))
        .with_latency_fail(Duration::from_millis(100))
        .build()
        .unwrap()
        .check()
        .await;
    assert_eq!(slow.status, Status::Fail);

    let port = common::closed_port();
    let refused = http("api", format!("http://127.0.0.1:{port}/"))
        .build()
        .unwrap()
        .check()
        .await;
    assert_eq!(refused.problem, Some(Problem::Unreachable));

    let tcp = TcpCheck::new("port", base.trim_start_matches("http://"))
        .check()
        .await;
    assert_eq!(tcp.status, Status::Pass);
    let tcp = TcpCheck::new("port", format!("127.0.0.1:{port}"))
        .check()
        .await;
    assert_eq!(tcp.problem, Some(Problem::Unreachable));
}

#[tokio::test]
async fn remote_health_responses_in_both_shapes() {
    let base = common::zoo().await;
    let check = |path: &str| {
        http("upstream", format!("{base}{path}"))
            .expect_health_response()
            .build()
            .unwrap()
    };
    assert_eq!(check("/health").check().await.status, Status::Pass);
    let down = check("/health-down").check().await;
    assert_eq!(down.status, Status::Fail);
    assert_eq!(
        down.problem,
        Some(Problem::RemoteStatus {
            status: Status::Fail
        })
    );
    let warn = check("/health-warn").check().await;
    assert_eq!(warn.status, Status::Warn);
    // Plain text is not a health response.
    assert_eq!(
        check("/ok").check().await.problem,
        Some(Problem::MalformedBody)
    );
    // An error page with a non-2xx status reports the status.
    assert_eq!(
        check("/error").check().await.problem,
        Some(Problem::HttpStatus { status: 500 })
    );
}

#[tokio::test]
async fn scenarios_with_body_assertions() {
    let base = common::zoo().await;
    let create = http("create_order", format!("{base}/orders"))
        .with_method(reqwest::Method::POST)
        .with_json_body(&json!({"sku": "A-1", "qty": 1}))
        .expect_status(201)
        .with_assertion(JsonAssertion::equals("/order/state", "created"))
        .with_assertion(JsonAssertion::exists("/order/id"))
        .build()
        .unwrap();
    assert_eq!(create.check().await.status, Status::Pass);
    let wrong = http("create_order", format!("{base}/orders"))
        .with_method(reqwest::Method::POST)
        .with_json_body(&json!({"sku": "A-1"}))
        .expect_status(201)
        .with_assertion(JsonAssertion::equals("/order/state", "paid"))
        .build()
        .unwrap();
    assert_eq!(
        wrong.check().await.problem,
        Some(Problem::BodyMismatch {
            pointer: "/order/state".into()
        })
    );
    let bad = http("create_order", format!("{base}/orders"))
        .with_method(reqwest::Method::POST)
        .with_json_body(&json!({}))
        .expect_status(201)
        .build()
        .unwrap();
    assert_eq!(
        bad.check().await.problem,
        Some(Problem::HttpStatus { status: 400 })
    );
    assert!(HttpCheck::builder("x", "ftp://a").build().is_err());
    assert!(HttpCheck::builder("x", "not a url").build().is_err());
    assert!(
        HttpCheck::builder("x", "http://a")
            .with_assertion(JsonAssertion::exists("order"))
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn public_output_never_leaks_urls_or_driver_text() {
    let base = common::zoo().await;
    let port = common::closed_port();
    let checker = HealthChecker::builder()
        .with_check(
            http("api", format!("{base}/error?token=abc123"))
                .build()
                .unwrap(),
        )
        .with_check(
            http(
                "upstream",
                format!("http://admin:hunter2@127.0.0.1:{port}/health"),
            )
            .build()
            .unwrap(),
        )
        .with_check(
            http("remote", format!("{base}/health-down"))
                .expect_health_response()
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let report = checker.report().await;
    assert_eq!(report.status, Status::Fail);
    assert_eq!(report.http_status(), 503);
    for public in [
        report.to_health_json(Exposure::Public).to_string(),
        report.to_runbook_json(Exposure::Public).to_string(),
    ] {
        for secret in [
            "hunter2",
            "abc123",
            "127.0.0.1",
            "10.1.2.3",
            "Traceback",
            "admin",
            "Connection refused",
        ] {
            assert!(!public.contains(secret), "{secret} leaked in {public}");
        }
    }
    // Internal renderings explain more, still without credentials.
    let internal = report.to_runbook_json(Exposure::Internal).to_string();
    assert!(internal.contains("unhealthy: unreachable"), "{internal}");
    assert!(!internal.contains("hunter2"), "{internal}");
    // Debug of a check does not show credentials or the query either.
    let dbg = format!(
        "{:?}",
        http("u", "http://admin:hunter2@h/x?token=abc123".into())
            .build()
            .unwrap()
    );
    assert!(!dbg.contains("hunter2") && !dbg.contains("abc123"), "{dbg}");
}

fn unit(id: &str) -> Unit {
    Unit {
        id: UnitId::new(id),
        name: id.into(),
        service: ServiceId::new("api"),
        environment: EnvironmentId::new("production"),
        release: None,
        state: UnitState::Running,
        in_load_balancer: true,
        replicas: 1,
    }
}

#[tokio::test]
async fn http_probe_maps_units_to_urls() {
    let base = common::zoo().await;
    let probe = HttpProbe::from_map(HashMap::from([
        (UnitId::new("u1"), format!("{base}/health")),
        (UnitId::new("u2"), format!("{base}/health-down")),
        (UnitId::new("u3"), format!("{base}/hang")),
        (UnitId::new("u4"), format!("{base}/ok")),
        (UnitId::new("u5"), format!("{base}/health-warn")),
        (UnitId::new("u6"), format!("{base}/error")),
    ]));
    let t = Duration::from_secs(3);
    assert!(probe.probe(&unit("u1"), t).await.unwrap().healthy);
    let down = probe.probe(&unit("u2"), t).await.unwrap();
    assert!(!down.healthy);
    assert_eq!(down.detail.as_deref(), Some("remote status fail"));
    let hang = probe
        .probe(&unit("u3"), Duration::from_millis(300))
        .await
        .unwrap();
    assert!(!hang.healthy);
    assert!(hang.latency < Duration::from_secs(2));
    assert!(probe.probe(&unit("u4"), t).await.unwrap().healthy);
    let warn = probe.probe(&unit("u5"), t).await.unwrap();
    assert!(warn.healthy && warn.detail.is_some());
    let err = probe.probe(&unit("u6"), t).await.unwrap();
    assert!(!err.healthy);
    assert!(!err.detail.unwrap().contains("hunter2"));
    let missing = probe.probe(&unit("nope"), t).await.unwrap_err();
    assert_eq!(missing.kind(), &runway_core::ErrorKind::NotFound);
}
