//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::time::Duration;

use runway_cloud66::Cloud66Client;
use runway_core::RetryPolicy;
use runway_testkit::fake_cloud66::{FakeCloud66, TOKEN};

/// A quick, exact retry policy.
pub(crate) fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_jitter(false)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_retries(4)
}

/// A client on the fake.
pub(crate) fn client(fake: &FakeCloud66) -> Cloud66Client {
    Cloud66Client::builder()
        .with_token(TOKEN)
        .with_base_url(fake.base_url())
        .with_retry(fast_retry())
        .with_timeout(Duration::from_secs(10))
        .with_polling(Duration::from_millis(500), Duration::from_secs(60))
        .build()
        .unwrap()
}
