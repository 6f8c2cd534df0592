//! # runway-cloud66
//!
//! Cloud66's API v3 (`https://app.cloud66.com/api/3`) behind runway's [`Platform`](runway_core::Platform) and
//! [`VariableStore`](runway_core::VariableStore) traits.
//!
//! | entry point | what |
//! |---|---|
//! | [`Cloud66Client::from_env`], [`Cloud66Builder`] | build a client (`CLOUD66_TOKEN`, Bearer auth) |
//! | `impl Platform for Cloud66Client` | stacks as environments and units; deploy (`POST deployments` with `git_ref` or `services`), status, list, rollback (redeploy of an earlier ref), restart (stack action) |
//! | `impl VariableStore for Cloud66Client` | stack environment variables with `apply_strategy` `immediately` / `deployment` |
//! | [`Cloud66Client::wait_action`], [`Cloud66Client::servers`], [`Cloud66Client::stacks`] | async actions, servers, stacks |
//! | [`wire`] | response decoders (envelope, pagination, error envelope) |
//! | [`Cloud66Error`] | the crate's error, mapped to [`runway_core::ErrorKind`] in one place (`503 throttled` is rate limiting) |
//!
//! ## Model
//!
//! A stack is both an environment and a unit (delegated: Cloud66 rolls the stack's servers itself). A unit
//! `"<stack>/<service>"` deploys one docker service at an image tag. Deploys, restarts and variable writes
//! are async actions: deploy, rollback and restart return a deployment whose id names the action
//! (`"<stack>:action:<id>"`); polling [`Platform::deployment`](runway_core::Platform::deployment) follows it
//! until `finished_at` is set, then reports `finished_success`.
//!
//! Cloud66's API has no restore endpoint and no endpoint to run an arbitrary command (`cx run` uses SSH);
//! see `docs/providers.md`.
//!
//! ## Example
//!
//! No network is used: nothing listens on port 9, so the call fails fast with a typed, retryable error.
//!
//! ```
//! use runway_core::{ErrorKind, Platform, RetryPolicy};
//! use runway_cloud66::Cloud66Client;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let client = Cloud66Client::builder()
//!     .with_token("token-from-CLOUD66_TOKEN")
//!     .with_base_url("http://127.0.0.1:9/api/3")
//!     .with_retry(RetryPolicy::none())
//!     .build()
//!     .unwrap();
//! let err = client.environments().await.unwrap_err();
//! assert_eq!(err.kind(), &ErrorKind::Unavailable);
//! # }
//! ```

mod client;
mod error;
mod ids;
mod platform;
mod vars;
pub mod wire;

pub use client::{
    ACCESS_TOKEN_VAR, ACCOUNT_VAR, BASE_URL_VAR, Cloud66Builder, Cloud66Client, DEFAULT_BASE_URL,
    TOKEN_VAR,
};
pub use error::Cloud66Error;
pub use ids::{DeploymentRef, UnitRef, parse_deployment, parse_unit};
pub use platform::{action_status, deployment_status, stack_state};
