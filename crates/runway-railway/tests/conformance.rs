//! runway's conformance suites (platform, variables, logs) against the fake Railway API, plus the shared
//! fault scenarios.

use std::sync::Arc;
use std::time::Duration;

use runway_core::{
    ControlModel, DeployOptions, LogScope, Platform, Release, RetryPolicy, TimeRange, VariableScope,
};
use runway_railway::{RailwayClient, unit_id};
use runway_testkit::conformance::logs::LogsFixture;
use runway_testkit::conformance::platform::{self, PlatformFixture};
use runway_testkit::conformance::variables::VariablesFixture;
use runway_testkit::fake_railway::{
    ACCOUNT_TOKEN, FakeRailway, Fault, PRODUCTION, PROJECT_ID, STAGING,
};

/// The fake must outlive the fixture, which holds only the client: keep it for the rest of the test.
fn keep(fake: FakeRailway) -> &'static FakeRailway {
    Box::leak(Box::new(fake))
}

fn client(fake: &FakeRailway, model: ControlModel, retry: RetryPolicy) -> RailwayClient {
    RailwayClient::builder()
        .with_api_token(ACCOUNT_TOKEN)
        .with_project(PROJECT_ID)
        .with_base_url(fake.url())
        .with_model(model)
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

runway_testkit::platform_conformance!(railway_delegated, paused, async {
    let fake = keep(FakeRailway::start().await);
    PlatformFixture::new(
        Arc::new(client(fake, ControlModel::Delegated, quick())),
        PRODUCTION,
    )
});

runway_testkit::platform_conformance!(railway_orchestrated, paused, async {
    let fake = keep(FakeRailway::start().await);
    PlatformFixture::new(
        Arc::new(client(fake, ControlModel::Orchestrated, quick())),
        STAGING,
    )
    .with_release(Release::new("3f2c9e1"))
});

runway_testkit::variables_conformance!(railway_service_variables, paused, async {
    let fake = keep(FakeRailway::start().await);
    VariablesFixture::new(
        Arc::new(client(fake, ControlModel::Delegated, quick())),
        VariableScope::service(STAGING, "svc-api-1"),
        VariableScope::environment(STAGING),
    )
});

runway_testkit::variables_conformance!(railway_shared_variables, paused, async {
    let fake = keep(FakeRailway::start().await);
    VariablesFixture::new(
        Arc::new(client(fake, ControlModel::Delegated, quick())),
        VariableScope::environment(PRODUCTION),
        VariableScope::service(PRODUCTION, "svc-web"),
    )
});

runway_testkit::logs_conformance!(railway_logs, paused, async {
    let fake = keep(FakeRailway::start().await);
    let c = client(fake, ControlModel::Delegated, quick());
    let d = c
        .deploy(
            &unit_id(PRODUCTION, "svc-api-1"),
            &Release::new("v2"),
            &DeployOptions::default(),
        )
        .await
        .expect("deploy");
    tokio::time::sleep(Duration::from_secs(30)).await;
    fake.push_log(d.id.as_str(), "error", "ERROR payment webhook failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
    fake.push_log(d.id.as_str(), "error", "ERROR order sync timed out");
    let range = TimeRange::last(
        Duration::from_secs(3600),
        fake.now() + chrono::Duration::seconds(1),
    );
    LogsFixture::new(Arc::new(c), LogScope::deployment(d.id), range, "ERROR")
});

#[tokio::test(start_paused = true)]
async fn rate_limit_is_honoured() {
    let fake = FakeRailway::start().await;
    fake.push_fault(Fault::RateLimited {
        retry_after: Duration::from_secs(5),
    });
    let p: Arc<dyn Platform> =
        Arc::new(client(&fake, ControlModel::Delegated, RetryPolicy::none()));
    platform::rate_limit_is_honoured(p, Duration::from_secs(5)).await;
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_within_policy() {
    let fake = FakeRailway::start().await;
    for code in [502, 503, 500] {
        fake.push_fault(Fault::Status(code));
    }
    let p: Arc<dyn Platform> =
        Arc::new(client(&fake, ControlModel::Delegated, RetryPolicy::none()));
    platform::server_errors_are_retried_within_policy(p, 3).await;
}

#[tokio::test(start_paused = true)]
async fn server_errors_beyond_policy_fail() {
    let fake = FakeRailway::start().await;
    for _ in 0..3 {
        fake.push_fault(Fault::Status(503));
    }
    let p: Arc<dyn Platform> =
        Arc::new(client(&fake, ControlModel::Delegated, RetryPolicy::none()));
    platform::server_errors_beyond_policy_fail(p, 3).await;
}
