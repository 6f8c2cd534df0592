//! runway's conformance suites (platform, variables) against the fake Cloud66 API, plus the shared fault
//! scenarios.

use std::sync::Arc;
use std::time::Duration;

use runway_cloud66::Cloud66Client;
use runway_core::{Platform, RetryPolicy, VariableScope};
use runway_testkit::conformance::platform::{self, PlatformFixture};
use runway_testkit::conformance::variables::VariablesFixture;
use runway_testkit::fake_cloud66::{FakeCloud66, Fault, PRODUCTION, STAGING, TOKEN};

/// The fake must outlive the fixture, which holds only the client: keep it for the rest of the test.
fn keep(fake: FakeCloud66) -> &'static FakeCloud66 {
    Box::leak(Box::new(fake))
}

fn client(fake: &FakeCloud66, retry: RetryPolicy) -> Cloud66Client {
    Cloud66Client::builder()
        .with_token(TOKEN)
        .with_base_url(fake.base_url())
        .with_retry(retry)
        .with_polling(Duration::from_secs(1), Duration::from_secs(60))
        .build()
        .expect("client")
}

fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .with_jitter(false)
        .with_initial_backoff(Duration::from_millis(50))
}

runway_testkit::platform_conformance!(cloud66_platform, paused, async {
    let fake = keep(FakeCloud66::start().await);
    PlatformFixture::new(Arc::new(client(fake, quick())), PRODUCTION)
});

runway_testkit::variables_conformance!(cloud66_variables, paused, async {
    let fake = keep(FakeCloud66::start().await);
    VariablesFixture::new(
        Arc::new(client(fake, quick())),
        VariableScope::environment(STAGING),
        VariableScope::environment(PRODUCTION),
    )
});

#[tokio::test(start_paused = true)]
async fn throttling_is_honoured() {
    let fake = FakeCloud66::start().await;
    fake.push_fault(Fault::Throttled);
    let p: Arc<dyn Platform> = Arc::new(client(&fake, RetryPolicy::none()));
    platform::rate_limit_is_honoured(p, Duration::ZERO).await;
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_within_policy() {
    let fake = FakeCloud66::start().await;
    for code in [502, 503, 500] {
        fake.push_fault(Fault::Status(code));
    }
    let p: Arc<dyn Platform> = Arc::new(client(&fake, RetryPolicy::none()));
    platform::server_errors_are_retried_within_policy(p, 3).await;
}

#[tokio::test(start_paused = true)]
async fn server_errors_beyond_policy_fail() {
    let fake = FakeCloud66::start().await;
    for _ in 0..3 {
        fake.push_fault(Fault::Status(503));
    }
    let p: Arc<dyn Platform> = Arc::new(client(&fake, RetryPolicy::none()));
    platform::server_errors_beyond_policy_fail(p, 3).await;
}
