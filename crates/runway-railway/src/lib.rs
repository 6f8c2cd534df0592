//! # runway-railway
//!
//! Railway's public GraphQL API (`https://backboard.railway.com/graphql/v2`) behind runway's
//! [`Platform`](runway_core::Platform), [`VariableStore`](runway_core::VariableStore) and
//! [`LogSource`](runway_core::LogSource) traits.
//!
//! | entry point | what |
//! |---|---|
//! | [`RailwayClient::from_env`], [`RailwayBuilder`] | build a client (`RAILWAY_TOKEN` wins over `RAILWAY_API_TOKEN`) |
//! | `impl Platform for RailwayClient` | deploy (`serviceInstanceDeployV2`), status, list, rollback, restart |
//! | `impl VariableStore for RailwayClient` | `variables`, `variableUpsert`, `variableCollectionUpsert`, `variableDelete` |
//! | `impl LogSource for RailwayClient` | `deploymentLogs`, `buildLogs`, `environmentLogs` |
//! | [`ops`] | every GraphQL document sent, validated against Railway's schema by the tests |
//! | [`wire`] | the response decoders (status mapping, `errors[]`, rate-limit headers) |
//! | [`RailwayError`] | the crate's error, mapped to [`runway_core::ErrorKind`] in one place |
//!
//! ## Units
//!
//! A unit is a **service instance**: one service in one environment, id `"<environmentId>:<serviceId>"`.
//! One service with N replicas is one unit with `replicas = N` that Railway rolls itself
//! ([`ControlModel::Delegated`](runway_core::ControlModel), the default). A fleet of services `api-1..api-3`
//! is three units that the rollout engine updates one by one: build the client
//! `.with_model(ControlModel::Orchestrated)`.
//!
//! ## Boolean-only mutations
//!
//! `deploymentRollback` and `deploymentRestart` return only `true`. The client then polls the unit's
//! deployments until the deployment they caused appears (or, for a restart, until the restarted deployment's
//! status changes), and returns that; it never assumes.
//!
//! ## Example
//!
//! Against a local endpoint (no network is used: nothing listens on port 9, so the call fails fast with a
//! typed, retryable error):
//!
//! ```
//! use runway_core::{ErrorKind, Platform, RetryPolicy};
//! use runway_railway::RailwayClient;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let client = RailwayClient::builder()
//!     .with_project_token("project-token-from-RAILWAY_TOKEN")
//!     .with_project("my-project-id")
//!     .with_base_url("http://127.0.0.1:9/graphql/v2")
//!     .with_retry(RetryPolicy::none())
//!     .build()
//!     .unwrap();
//! assert_eq!(client.token_kind(), "project");
//! let err = client.environments().await.unwrap_err();
//! assert_eq!(err.kind(), &ErrorKind::Unavailable);
//! assert!(err.is_retryable());
//! # }
//! ```

mod client;
mod error;
mod logs;
pub mod ops;
mod platform;
mod unit;
mod vars;
pub mod wire;

pub use client::{
    API_TOKEN_VAR, DEFAULT_ENDPOINT, ENDPOINT_VAR, PROJECT_ID_VAR, PROJECT_TOKEN_VAR,
    RailwayBuilder, RailwayClient, RateLimitState, Token,
};
pub use error::{GraphqlError, RailwayError};
pub use unit::{parse_unit, unit_id};
