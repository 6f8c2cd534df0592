//! The conformance suites of all four provider traits against the simulator, plus its fault scenarios.

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use runway_core::{
    ControlModel, DeployOptions, LogQuery, LogScope, Platform, Release, TimeRange, UnitState,
    VariableScope,
};
use runway_sim::{ApiFault, FaultKind, SimPlatform};
use runway_testkit::conformance::logs::LogsFixture;
use runway_testkit::conformance::platform::{self, PlatformFixture};
use runway_testkit::conformance::secrets::SecretsFixture;
use runway_testkit::conformance::variables::VariablesFixture;

runway_testkit::platform_conformance!(sim_orchestrated, paused, async {
    PlatformFixture::new(
        Arc::new(SimPlatform::builder().seed(1).build()),
        "production",
    )
});

runway_testkit::platform_conformance!(sim_delegated, paused, async {
    let sim = SimPlatform::builder()
        .seed(2)
        .model(ControlModel::Delegated)
        .build();
    PlatformFixture::new(Arc::new(sim), "production")
});

runway_testkit::variables_conformance!(sim_variables, paused, async {
    let sim = SimPlatform::builder()
        .environment("staging")
        .environment("production")
        .build();
    VariablesFixture::new(
        Arc::new(sim),
        VariableScope::environment("staging"),
        VariableScope::environment("production"),
    )
});

runway_testkit::secrets_conformance!(sim_secrets, paused, async {
    SecretsFixture::new(Arc::new(SimPlatform::builder().build()))
});

runway_testkit::logs_conformance!(sim_logs, paused, async {
    // A deploy and a crash write event lines; a release with 20% errors writes ERROR lines.
    let sim = SimPlatform::builder()
        .release(runway_sim::ReleaseProfile::healthy("v2").with_error_rate(0.2))
        .build();
    let start = sim.clock().at(sim.origin());
    let units = sim
        .units(&"production".into(), &Default::default())
        .await
        .unwrap();
    sim.deploy(&units[0].id, &Release::new("v2"), &DeployOptions::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;
    let end = sim.clock().at(tokio::time::Instant::now());
    LogsFixture::new(
        Arc::new(sim),
        LogScope::environment("production"),
        TimeRange { start, end },
        "ERROR",
    )
});

#[tokio::test(start_paused = true)]
async fn rate_limit_is_honoured_with_its_delay() {
    let sim = SimPlatform::builder()
        .api_fault(ApiFault::at_call(
            1,
            FaultKind::RateLimited(Duration::from_secs(9)),
        ))
        .build();
    platform::rate_limit_is_honoured(Arc::new(sim.clone()), Duration::from_secs(9)).await;
    assert_eq!(sim.api_calls(), 2, "one rejected call, one retry");
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_within_the_policy() {
    let sim = SimPlatform::builder()
        .api_fault(ApiFault::at_call(1, FaultKind::ServerError))
        .api_fault(ApiFault::at_call(2, FaultKind::ServerError))
        .api_fault(ApiFault::at_call(3, FaultKind::ServerError))
        .build();
    platform::server_errors_are_retried_within_policy(Arc::new(sim.clone()), 3).await;
    assert_eq!(sim.api_calls(), 4);

    let sim = SimPlatform::builder()
        .api_fault(ApiFault::at_call(1, FaultKind::ServerError))
        .api_fault(ApiFault::at_call(2, FaultKind::ServerError))
        .build();
    platform::server_errors_beyond_policy_fail(Arc::new(sim), 2).await;
}

#[tokio::test(start_paused = true)]
async fn timeouts_are_retried_only_for_idempotent_calls() {
    let sim = SimPlatform::builder()
        .api_fault(ApiFault::at_call(1, FaultKind::Timeout))
        .api_fault(ApiFault::at_call(3, FaultKind::Timeout))
        .timeout(Duration::from_secs(30))
        .build();
    let retrying = runway_core::Retrying::new(
        sim.clone(),
        runway_core::RetryPolicy::default().with_jitter(false),
    );
    let start = tokio::time::Instant::now();
    let units = retrying
        .units(&"production".into(), &Default::default())
        .await
        .expect("idempotent read retried after a timeout");
    assert!(start.elapsed() >= Duration::from_secs(30));
    let err = retrying
        .deploy(&units[0].id, &Release::new("v2"), &DeployOptions::default())
        .await
        .expect_err("a deploy without an idempotency key is not retried after a timeout");
    assert_eq!(err.kind(), &runway_core::ErrorKind::Timeout);
    assert_eq!(sim.api_calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn crashed_unit_is_observed() {
    let sim = SimPlatform::builder()
        .crash_unit_at("api-2", Duration::from_secs(30))
        .build();
    let p: Arc<dyn Platform> = Arc::new(sim.clone());
    assert_eq!(
        p.unit(&"api-2".into()).await.unwrap().state,
        UnitState::Running
    );
    tokio::time::sleep(Duration::from_secs(31)).await;
    assert_eq!(
        p.unit(&"api-2".into()).await.unwrap().state,
        UnitState::Crashed
    );
    assert_eq!(sim.serving_healthy(), 2);
    sim.crash(&"api-3".into()).unwrap();
    assert_eq!(
        p.unit(&"api-3".into()).await.unwrap().state,
        UnitState::Crashed
    );
    // A restart brings it back after start + ready.
    let dep = p.restart(&"api-3".into()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(
        p.deployment(&dep.id).await.unwrap().status,
        runway_core::DeploymentStatus::Succeeded
    );
    assert_eq!(
        p.unit(&"api-3".into()).await.unwrap().state,
        UnitState::Running
    );
    let logs: Vec<_> = runway_core::LogSource::query(
        &sim,
        &LogQuery::new(
            LogScope::environment("production"),
            TimeRange::last(
                Duration::from_secs(3600),
                sim.clock().at(tokio::time::Instant::now()),
            ),
        )
        .with_contains("exited"),
    )
    .await
    .unwrap()
    .try_collect()
    .await
    .unwrap();
    assert_eq!(logs.len(), 1, "the crash is in the logs: {logs:?}");
}
