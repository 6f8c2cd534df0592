//! An axum router exposing `/health` from a [`HealthChecker`] (feature `axum`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::checker::HealthChecker;
use crate::parse::Shape;
use crate::report::{Exposure, HEALTH_JSON};

/// How the `/health` handler renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthRoute {
    /// The shape served when the client does not ask for one.
    pub default_shape: Shape,
    /// What the response may reveal. Keep [`Exposure::Public`] on anything reachable from outside.
    pub exposure: Exposure,
}

impl Default for HealthRoute {
    /// The runbook's shape by default (drop-in for its existing consumers), public exposure.
    fn default() -> Self {
        HealthRoute {
            default_shape: Shape::Runbook,
            exposure: Exposure::Public,
        }
    }
}

#[derive(Debug, Clone)]
struct AppState {
    checker: Arc<HealthChecker>,
    route: HealthRoute,
}

#[derive(Debug, Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

/// A router with `GET /health` (and `/health/ready`, the same), and `GET /health/live` (always 200:
/// liveness must not depend on other systems, or one outage restarts every instance).
///
/// `/health` runs the checker (through its cache), answers 200 for pass and warn and 503 for fail (the
/// checker's [`HttpMapping`](crate::HttpMapping)), and renders health+json when the `Accept` header asks
/// for `application/health+json` or `?format=health+json`, the runbook's shape for `?format=runbook`, and
/// `route.default_shape` otherwise.
pub fn router(checker: Arc<HealthChecker>, route: HealthRoute) -> Router {
    let state = AppState { checker, route };
    Router::new()
        .route("/health", get(health))
        .route("/health/ready", get(health))
        .route("/health/live", get(live))
        .with_state(state)
}

/// Render the latest report of `checker` as an HTTP response.
pub async fn health_response(
    checker: &HealthChecker,
    shape: Shape,
    exposure: Exposure,
) -> Response {
    let report = checker.report().await;
    let code = StatusCode::from_u16(checker.http_mapping().code(report.status))
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let (body, ct) = match shape {
        Shape::HealthJson => (report.to_health_json(exposure), HEALTH_JSON),
        Shape::Runbook => (report.to_runbook_json(exposure), "application/json"),
    };
    let mut resp = (code, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn health(
    State(state): State<AppState>,
    Query(q): Query<FormatQuery>,
    headers: HeaderMap,
) -> Response {
    let wants_health_json = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(HEALTH_JSON));
    let shape = match q.format.as_deref() {
        Some("health+json" | "health json" | "healthjson") => Shape::HealthJson,
        Some("runbook") => Shape::Runbook,
        _ if wants_health_json => Shape::HealthJson,
        _ => state.route.default_shape,
    };
    health_response(&state.checker, shape, state.route.exposure).await
}

async fn live() -> Response {
    let mut resp = (StatusCode::OK, r#"{"status":"pass"}"#).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(HEALTH_JSON));
    resp
}
