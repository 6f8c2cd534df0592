//! The axum handler (feature `axum`, on by default): both shapes, status codes, redaction, liveness.
#![cfg(feature = "axum")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use runway_health::axum::{HealthRoute, router};
use runway_health::{HealthChecker, HttpCheck, Shape, Status, parse_health_response};
use serde_json::json;

fn http(name: &str, url: String) -> runway_health::HttpCheckBuilder {
    HttpCheck::builder(name, url).with_timeout(Duration::from_secs(3))
}

#[tokio::test]
async fn axum_handler_serves_both_shapes_with_status_codes() {
    let upstream = common::zoo().await;
    let healthy = Arc::new(
        HealthChecker::builder()
            .with_check(http("api", format!("{upstream}/ok")).build().unwrap())
            .build()
            .unwrap(),
    );
    let failing = Arc::new(
        HealthChecker::builder()
            .with_check(http("api", format!("{upstream}/ok")).build().unwrap())
            .with_check(http("redis", format!("{upstream}/error")).build().unwrap())
            .build()
            .unwrap(),
    );
    let a = common::serve(router(healthy, HealthRoute::default())).await;
    let b = common::serve(router(
        failing,
        HealthRoute {
            default_shape: Shape::HealthJson,
            ..HealthRoute::default()
        },
    ))
    .await;
    let client = reqwest::Client::new();

    let r = client.get(format!("{a}/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "healthy", "checks": {"api": "healthy"}})
    );

    let r = client
        .get(format!("{a}/health"))
        .header("accept", "application/health+json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/health+json");
    let body = r.bytes().await.unwrap();
    let parsed = parse_health_response(&body).unwrap();
    assert_eq!(
        (parsed.status, parsed.shape),
        (Status::Pass, Shape::HealthJson)
    );

    let r = client.get(format!("{b}/health")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("Traceback"),
        "{text}"
    );
    let parsed = parse_health_response(text.as_bytes()).unwrap();
    assert_eq!(parsed.status, Status::Fail);
    assert_eq!(
        parsed.checks["redis:responseTime"][0].status,
        Some(Status::Fail)
    );

    let r = client
        .get(format!("{b}/health?format=runbook"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["checks"]["redis"], "unhealthy");
    assert_eq!(body["status"], "unhealthy");

    let r = client.get(format!("{b}/health/live")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
