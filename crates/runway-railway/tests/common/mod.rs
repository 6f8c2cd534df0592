//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::time::Duration;

use runway_core::RetryPolicy;
use runway_railway::RailwayClient;
use runway_testkit::fake_railway::{ACCOUNT_TOKEN, FakeRailway, PROJECT_ID};

/// A quick, exact retry policy.
pub(crate) fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_jitter(false)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_retries(4)
}

/// A client on the fake with an account token.
pub(crate) fn client(fake: &FakeRailway) -> RailwayClient {
    RailwayClient::builder()
        .with_api_token(ACCOUNT_TOKEN)
        .with_project(PROJECT_ID)
        .with_base_url(fake.url())
        .with_retry(fast_retry())
        .with_timeout(Duration::from_secs(10))
        .with_polling(Duration::from_millis(500), Duration::from_secs(30))
        .build()
        .unwrap()
}
