//! Local HTTP servers for the tests: healthy, failing, hanging, malformed, slow.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

/// Serve `app` on 127.0.0.1:0 and return its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

/// A server with one route per behaviour.
pub async fn zoo() -> String {
    let app = Router::new()
        .route("/ok", get(|| async { "OK" }))
        .route(
            "/health",
            get(|| async {
                (
                    [("content-type", "application/json")],
                    r#"{"status":"healthy","checks":{"database":"healthy","redis":"healthy"}}"#,
                )
            }),
        )
        .route(
            "/health-down",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    r#"{"status":"unhealthy","checks":{"database":"healthy","redis":"unhealthy: Connection refused at 10.1.2.3:6379"}}"#,
                )
            }),
        )
        .route(
            "/health-warn",
            get(|| async { r#"{"status":"warn","checks":{"db:responseTime":[{"status":"warn","observedValue":900,"observedUnit":"ms"}]}}"# }),
        )
        .route(
            "/error",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "Traceback: password=hunter2 at db.internal") }),
        )
        .route("/malformed", get(|| async { ([("content-type", "application/json")], "{\"status\": \"pass\", \"checks\": [") }))
        .route(
            "/hang",
            get(|| async {
                std::future::pending::<()>().await;
                "never"
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(150)).await;
                "slow"
            }),
        )
        .route(
            "/orders",
            post(|body: String| async move {
                if body.contains("\"sku\"") {
                    (StatusCode::CREATED, r#"{"order":{"id":42,"state":"created"}}"#)
                } else {
                    (StatusCode::BAD_REQUEST, r#"{"error":"missing sku"}"#)
                }
            }),
        );
    serve(app).await
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}
