//! Behaviour of the simulator itself: health models, load balancer, traffic, determinism, scale.

use std::time::{Duration, Instant as StdInstant};

use runway_core::{
    DeployOptions, DeploymentStatus, EnvironmentId, HealthProbe, ListUnits, MetricsQuery,
    MetricsSource, Platform, Release, ReleaseId, SetOptions, TimeRange, UnitId, UnitState,
    VariableScope, VariableStore,
};
use runway_sim::{ApiFault, FaultKind, ReleaseProfile, SimPlatform};
use tokio::time::{Instant, sleep};

fn env() -> EnvironmentId {
    EnvironmentId::new("production")
}

async fn deploy(sim: &SimPlatform, unit: &str, release: &str) -> runway_core::Deployment {
    sim.deploy(
        &UnitId::new(unit),
        &Release::new(release),
        &DeployOptions::default(),
    )
    .await
    .unwrap()
}

fn window(sim: &SimPlatform, from: Instant, to: Instant) -> TimeRange {
    TimeRange {
        start: sim.clock().at(from),
        end: sim.clock().at(to),
    }
}

#[tokio::test(start_paused = true)]
async fn start_and_ready_times_are_respected() {
    let sim = SimPlatform::builder()
        .start_time(Duration::from_secs(5))
        .ready_time(Duration::from_secs(10))
        .release(ReleaseProfile::healthy("v2").with_start_time(Duration::from_secs(20)))
        .build();
    let dep = deploy(&sim, "api-1", "v2").await;
    sleep(Duration::from_secs(29)).await;
    assert_eq!(
        sim.deployment(&dep.id).await.unwrap().status,
        DeploymentStatus::Deploying
    );
    assert_eq!(
        sim.unit(&"api-1".into()).await.unwrap().state,
        UnitState::Starting
    );
    sleep(Duration::from_secs(1)).await;
    assert_eq!(
        sim.deployment(&dep.id).await.unwrap().status,
        DeploymentStatus::Succeeded
    );
    assert_eq!(
        sim.unit(&"api-1".into()).await.unwrap().state,
        UnitState::Running
    );
}

#[tokio::test(start_paused = true)]
async fn health_models() {
    let sim = SimPlatform::builder()
        .units(4)
        .release(ReleaseProfile::unhealthy("bad"))
        .release(ReleaseProfile::unhealthy_after(
            "late",
            Duration::from_secs(60),
        ))
        .release(ReleaseProfile::flapping("flap", Duration::from_secs(10)))
        .release(ReleaseProfile::crashing("boom", Duration::from_secs(2)))
        .build();
    for (u, r) in [
        ("api-1", "bad"),
        ("api-2", "late"),
        ("api-3", "flap"),
        ("api-4", "boom"),
    ] {
        deploy(&sim, u, r).await;
    }
    let state = |u: &str| {
        let sim = sim.clone();
        let u = UnitId::new(u);
        async move { sim.unit(&u).await.unwrap().state }
    };
    // Ready after 15 s (5 + 10); "boom" exits 2 s after it started, before it is ready.
    sleep(Duration::from_secs(16)).await;
    assert_eq!(state("api-1").await, UnitState::Unhealthy);
    assert_eq!(state("api-2").await, UnitState::Running);
    assert_eq!(state("api-3").await, UnitState::Running);
    assert_eq!(state("api-4").await, UnitState::Crashed);
    sleep(Duration::from_secs(10)).await; // 26 s: flap is in its second period
    assert_eq!(state("api-3").await, UnitState::Unhealthy);
    sleep(Duration::from_secs(10)).await; // 36 s: third period, healthy again
    assert_eq!(state("api-3").await, UnitState::Running);
    sleep(Duration::from_secs(40)).await; // 76 s: "late" is unhealthy from 75 s
    assert_eq!(state("api-2").await, UnitState::Unhealthy);
    let unit = sim.unit(&"api-1".into()).await.unwrap();
    let probe = sim.probe(&unit, Duration::from_secs(1)).await.unwrap();
    assert!(!probe.healthy);
    assert_eq!(probe.detail.as_deref(), Some("GET /health returned 503"));
}

#[tokio::test(start_paused = true)]
async fn drained_units_get_no_traffic_and_capacity_is_exact() {
    let sim = SimPlatform::builder().units(3).build();
    let t0 = Instant::now();
    sleep(Duration::from_secs(60)).await;
    sim.drain(&"api-1".into()).await.unwrap();
    assert_eq!(sim.serving_healthy(), 2);
    let dep = deploy(&sim, "api-1", "v2").await;
    sleep(Duration::from_secs(60)).await;
    assert_eq!(
        sim.deployment(&dep.id).await.unwrap().status,
        DeploymentStatus::Succeeded
    );
    let t_mid = Instant::now();
    sleep(Duration::from_secs(60)).await;
    let q = MetricsQuery::new(env(), window(&sim, t_mid, Instant::now()))
        .with_units(vec![UnitId::new("api-1")]);
    assert_eq!(
        sim.request_metrics(&q).await.unwrap().total,
        0,
        "a drained unit served traffic"
    );
    sim.restore(&"api-1".into()).await.unwrap();
    sleep(Duration::from_secs(60)).await;
    let t_end = Instant::now();
    assert_eq!(sim.serving_healthy(), 3);
    assert_eq!(sim.min_serving_healthy(t0, t_end), 2);
    let q = MetricsQuery::new(env(), window(&sim, t_end - Duration::from_secs(30), t_end))
        .with_release("v2");
    let m = sim.request_metrics(&q).await.unwrap();
    // 1 unit x 10 req/s x 30 s.
    assert!((270..=330).contains(&m.total), "{}", m.total);
}

#[tokio::test(start_paused = true)]
async fn traffic_follows_the_release_profile() {
    let sim = SimPlatform::builder()
        .units(3)
        .release(
            ReleaseProfile::healthy("slow")
                .with_error_rate(0.1)
                .with_latency_ms(400.0, 1200.0),
        )
        .build();
    for u in ["api-1", "api-2", "api-3"] {
        deploy(&sim, u, "slow").await;
    }
    sleep(Duration::from_secs(15)).await;
    let from = Instant::now();
    sleep(Duration::from_secs(600)).await;
    let m = sim
        .request_metrics(&MetricsQuery::new(
            env(),
            window(&sim, from, Instant::now()),
        ))
        .await
        .unwrap();
    assert!(
        (17_900..=18_100).contains(&m.total),
        "3 units x 10/s x 600 s: {}",
        m.total
    );
    let err = m.server_error_rate().unwrap();
    assert!((0.09..0.11).contains(&err), "5xx rate {err}");
    let p50 = m.latency_quantile_ms(0.5).unwrap();
    assert!((330..=480).contains(&p50), "p50 {p50}");
    let p95 = m.latency_quantile_ms(0.95).unwrap();
    assert!(p95 > 500, "p95 {p95} should breach the runbook's 500 ms");
}

#[tokio::test(start_paused = true)]
async fn same_seed_same_numbers() {
    async fn run(seed: u64) -> (u64, u64, u64) {
        let sim = SimPlatform::builder()
            .seed(seed)
            .release(ReleaseProfile::healthy("v2").with_error_rate(0.05))
            .build();
        deploy(&sim, "api-2", "v2").await;
        sleep(Duration::from_secs(300)).await;
        let m = sim
            .request_metrics(&MetricsQuery::new(
                env(),
                window(&sim, sim.origin(), Instant::now()),
            ))
            .await
            .unwrap();
        (
            m.total,
            m.server_errors,
            m.latency_quantile_ms(0.95).unwrap(),
        )
    }
    let a = run(42).await;
    assert_eq!(a, run(42).await);
    assert_ne!(a, run(43).await);
}

#[tokio::test(start_paused = true)]
async fn seeded_random_api_errors_are_deterministic() {
    async fn failures(seed: u64) -> Vec<bool> {
        let sim = SimPlatform::builder()
            .seed(seed)
            .api_error_rate(0.3)
            .build();
        let mut out = Vec::new();
        for _ in 0..50 {
            out.push(sim.environments().await.is_err());
        }
        out
    }
    let a = failures(5).await;
    assert_eq!(a, failures(5).await);
    let n = a.iter().filter(|f| **f).count();
    assert!((5..=25).contains(&n), "{n} of 50 failed at a 30% rate");
}

#[tokio::test(start_paused = true)]
async fn api_faults_at_nth_call() {
    let sim = SimPlatform::builder()
        .api_fault(ApiFault::at_call(
            2,
            FaultKind::RateLimited(Duration::from_secs(4)),
        ))
        .build();
    assert!(sim.environments().await.is_ok());
    let e = sim.environments().await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
    assert!(sim.environments().await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn surge_and_blue_green() {
    let sim = SimPlatform::builder().units(2).build();
    let extra = sim
        .add_unit(&"api".into(), &Release::new("v2"))
        .await
        .unwrap();
    assert!(!extra.in_load_balancer);
    assert_eq!(
        sim.units(&env(), &ListUnits::default())
            .await
            .unwrap()
            .len(),
        3
    );
    sleep(Duration::from_secs(20)).await;
    sim.switch_traffic(
        &["api-1".into(), "api-2".into()],
        std::slice::from_ref(&extra.id),
    )
    .await
    .unwrap();
    assert_eq!(sim.serving_healthy(), 1);
    sim.remove_unit(&"api-1".into()).await.unwrap();
    assert_eq!(
        sim.units(&env(), &ListUnits::default())
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        sim.units_by_release().get(&ReleaseId::new("v2")),
        Some(&vec![extra.id.clone()])
    );
}

#[tokio::test(start_paused = true)]
async fn deferred_variables_apply_with_the_next_deploy() {
    let sim = SimPlatform::builder().build();
    let scope = VariableScope::environment("production");
    sim.set(
        &scope,
        "NEW_VAR",
        "x".to_owned().into(),
        &SetOptions::next_deploy(),
    )
    .await
    .unwrap();
    assert_eq!(sim.pending_variable_changes(&scope), 1);
    deploy(&sim, "api-1", "v2").await;
    assert_eq!(sim.pending_variable_changes(&scope), 0);
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_units_through_one_simulated_hour() {
    let real = StdInstant::now();
    let sim = SimPlatform::builder().units(10_000).seed(9).build();
    let units = sim.units(&env(), &ListUnits::default()).await.unwrap();
    assert_eq!(units.len(), 10_000);
    // Roll v2 out in 100 batches of 100 units, one batch every 36 s: one simulated hour.
    for batch in units.chunks(100) {
        for u in batch {
            sim.deploy(&u.id, &Release::new("v2"), &DeployOptions::default())
                .await
                .unwrap();
        }
        sleep(Duration::from_secs(36)).await;
    }
    let end = Instant::now();
    assert!(end - sim.origin() >= Duration::from_secs(3600));
    assert_eq!(
        sim.units_by_release()
            .get(&ReleaseId::new("v2"))
            .map(Vec::len),
        Some(10_000)
    );
    assert_eq!(sim.serving_healthy(), 10_000);
    // The hour's traffic: a unit is not listening for 15 s of its update, so slightly under 10,000 x 10/s x 3600 s.
    let m = sim
        .request_metrics(&MetricsQuery::new(env(), window(&sim, sim.origin(), end)))
        .await
        .unwrap();
    let full = 10_000u64 * 10 * 3600;
    assert!(m.total < full && m.total > full * 95 / 100, "{}", m.total);
    let took = real.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "10,000 units through an hour took {took:?} of real time"
    );
    println!("10,000 units, 1 simulated hour: {took:?} real time");
}
