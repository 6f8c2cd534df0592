//! # runway-health
//!
//! Health checks, health reports and post-deploy verification: the runbook's `/health` endpoint, its
//! deployment health verification and its post-deployment monitoring, as a library.
//!
//! | what | entry points |
//! |---|---|
//! | checks | [`Check`] (object safe, own timeout), [`HttpCheck`], [`PostgresCheck`], [`RedisCheck`], [`QueueDepthCheck`], [`TcpCheck`], [`FnCheck`] |
//! | running them | [`HealthChecker`] (concurrent, timeouts, [`FlapPolicy`], cache TTL) -> [`Report`] |
//! | rendering | [`Report::to_health_json`] (`application/health+json`), [`Report::to_runbook_json`], [`HttpMapping`], [`Exposure`] |
//! | remote responses | [`parse_health_response`] -> [`RemoteHealth`] (either shape), [`ParseError`] |
//! | verification | [`verify::Verification`] (immediate checks, log error spike, monitoring window; implements [`runway_core::Analysis`]), [`verify::evaluate`], [`verify::Thresholds`] |
//! | rollout hook | [`HttpProbe`] implements [`runway_core::HealthProbe`] |
//! | serving | `axum::router` (feature `axum`): `/health`, `/health/ready`, `/health/live` |
//!
//! A failing check is a value ([`Status::Fail`] with a [`Problem`]), never an error; [`HealthError`] is for
//! bad configuration, unparseable input and unavailable metrics or logs.
//!
//! **Redaction**: public renderings ([`Exposure::Public`], the default) carry statuses, measurements and the
//! fixed wording of a [`Problem`] only: no hosts, URLs, connection strings or driver messages. Driver
//! messages are kept as internal detail, scrubbed of credentials ([`redact::scrub`]).
//!
//! ```
//! use std::time::Duration;
//! use runway_health::{CheckResult, Exposure, FnCheck, HealthChecker, Problem, Status};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let checker = HealthChecker::builder()
//!     .with_check(FnCheck::new("database", || async { CheckResult::pass() }))
//!     .with_check(FnCheck::new("redis", || async {
//!         CheckResult::fail(Problem::Unreachable).with_detail("connect to redis://:pw@10.0.0.7:6379 refused")
//!     }))
//!     .with_probe_timeout(Duration::from_secs(5))
//!     .build()
//!     .unwrap();
//! let report = checker.report().await;
//! assert_eq!(report.status, Status::Fail);
//! assert_eq!(report.http_status(), 503);
//!
//! let public = report.to_runbook_json(Exposure::Public);
//! assert_eq!(public, serde_json::json!({"status": "unhealthy", "checks": {"database": "healthy", "redis": "unhealthy"}}));
//! let json = report.to_health_json(Exposure::Public).to_string();
//! assert!(json.contains("unreachable") && !json.contains("10.0.0.7"));
//! # }
//! ```
//!
//! Post-deploy verification against the runbook's thresholds, on recorded metrics:
//!
//! ```
//! use runway_core::RequestMetrics;
//! use runway_health::verify::{evaluate, Thresholds, Verdict};
//!
//! let mut window = RequestMetrics::default();
//! for ms in 1..=1000 { window.record(200, ms); } // p95 is exactly 950 ms
//! let e = evaluate(&window, None, &Thresholds::default());
//! assert_eq!(e.verdict, Verdict::Fail);
//! assert!(e.reason().contains("p95_ms 950"));
//! ```

mod check;
mod checker;
mod checks;
mod error;
mod flap;
mod parse;
mod probe;
pub mod redact;
mod report;
mod status;
pub mod verify;

#[cfg(feature = "axum")]
pub mod axum;

pub use async_trait::async_trait;
pub use check::{Check, CheckResult, ComponentType, DEFAULT_CHECK_TIMEOUT, Observation, Problem};
pub use checker::{DEFAULT_PROBE_TIMEOUT, FnCheck, HealthChecker, HealthCheckerBuilder, run_check};
pub use checks::{
    CELERY_DEFAULT_QUEUE, HttpCheck, HttpCheckBuilder, JsonAssertion, PostgresCheck,
    QueueDepthCheck, RedisCheck, TcpCheck,
};
pub use error::HealthError;
pub use flap::{FlapPolicy, FlapState};
pub use parse::{
    JsonType, MAX_BODY_BYTES, MAX_TEXT_CHARS, ParseError, RemoteComponent, RemoteHealth, Shape,
    parse_health_response, parse_health_value,
};
pub use probe::HttpProbe;
pub use report::{ComponentReport, Exposure, HEALTH_JSON, Hold, Report, ServiceInfo};
pub use status::{HttpMapping, Status};
