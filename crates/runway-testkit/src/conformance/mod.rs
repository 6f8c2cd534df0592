//! Conformance suites: the behaviour every backend of a core trait must show.
//!
//! Each submodule holds `pub async fn` scenarios taking a fixture; each scenario panics (with a message
//! naming the backend) when the backend misbehaves. Capability differences are passed in the fixture or read
//! from `capabilities()`, never skipped silently: a backend without a capability must answer
//! [`ErrorKind::Unsupported`](runway_core::ErrorKind::Unsupported).
//!
//! The macros turn a whole suite into tests for one backend:
//!
//! ```text
//! runway_testkit::platform_conformance!(sim_platform, paused, async {
//!     let sim = runway_sim::SimPlatform::builder().build();
//!     runway_testkit::conformance::platform::PlatformFixture::new(std::sync::Arc::new(sim), "production")
//! });
//! ```
//!
//! `paused` runs each test with tokio's paused clock (for simulated backends); `real` runs in real time
//! (for clients talking to a fake HTTP API on loopback).

pub mod logs;
pub mod platform;
pub mod secrets;
pub mod variables;

use std::future::Future;
use std::time::Duration;

/// Poll `f` every `interval` until it returns `Some`, for at most `timeout`.
///
/// # Panics
/// When the timeout passes, with `what` in the message.
pub async fn eventually<T, F, Fut>(what: &str, interval: Duration, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(interval).await;
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    (paused, $suite:path, $fixture:expr, [$($scenario:ident),* $(,)?]) => {
        $(
            #[tokio::test(start_paused = true)]
            async fn $scenario() {
                let fixture = $fixture.await;
                { use $suite as suite; suite::$scenario(&fixture).await; }
            }
        )*
    };
    (real, $suite:path, $fixture:expr, [$($scenario:ident),* $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let fixture = $fixture.await;
                { use $suite as suite; suite::$scenario(&fixture).await; }
            }
        )*
    };
}

/// Generate the [`platform`] suite as tests in a module `$name`. `$mode` is `paused` or `real`; `$fixture` is
/// an async block evaluating to a [`platform::PlatformFixture`].
#[macro_export]
macro_rules! platform_conformance {
    ($name:ident, $mode:ident, $fixture:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__conformance_tests!(
                $mode,
                $crate::conformance::platform,
                $fixture,
                [
                    lists_environments_services_units,
                    unknown_ids_are_not_found,
                    deploy_reaches_success,
                    deploy_with_same_idempotency_key_is_one_deployment,
                    deployments_are_newest_first,
                    rollback_returns_to_previous_release,
                    restart_keeps_release,
                    drain_and_restore,
                ]
            );
        }
    };
}

/// Generate the [`variables`] suite as tests in a module `$name`; `$fixture` evaluates to a
/// [`variables::VariablesFixture`].
#[macro_export]
macro_rules! variables_conformance {
    ($name:ident, $mode:ident, $fixture:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__conformance_tests!(
                $mode,
                $crate::conformance::variables,
                $fixture,
                [
                    set_get_list_delete,
                    set_many_merges_or_replaces,
                    deleting_unset_variable_is_ok,
                    invalid_names_are_rejected,
                    scopes_are_isolated,
                    values_never_printed,
                    deferred_apply_accepted,
                ]
            );
        }
    };
}

/// Generate the [`logs`] suite as tests in a module `$name`; `$fixture` evaluates to a [`logs::LogsFixture`].
#[macro_export]
macro_rules! logs_conformance {
    ($name:ident, $mode:ident, $fixture:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__conformance_tests!(
                $mode,
                $crate::conformance::logs,
                $fixture,
                [
                    lines_are_in_range_and_ordered,
                    limit_keeps_newest,
                    contains_filter_applies,
                    aggregate_or_unsupported,
                ]
            );
        }
    };
}

/// Generate the [`secrets`] suite as tests in a module `$name`; `$fixture` evaluates to a
/// [`secrets::SecretsFixture`].
#[macro_export]
macro_rules! secrets_conformance {
    ($name:ident, $mode:ident, $fixture:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__conformance_tests!(
                $mode,
                $crate::conformance::secrets,
                $fixture,
                [
                    create_then_get_current,
                    create_twice_conflicts,
                    put_pending_is_idempotent_per_token,
                    token_reuse_with_other_value_conflicts,
                    promote_moves_stages,
                    promote_is_idempotent,
                    clear_pending_abandons_rotation,
                    unknown_secret_is_not_found,
                    values_never_printed,
                ]
            );
        }
    };
}
