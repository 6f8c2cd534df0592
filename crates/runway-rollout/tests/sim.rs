//! Rollouts against the simulator: strategies, gates, rollback, pause/abort, delegated platforms.

mod common;

use std::time::Duration;

use common::*;
use runway_core::{ControlModel, ReleaseId};
use runway_rollout::{Outcome, Strategy, Trigger};
use runway_sim::ReleaseProfile;

#[tokio::test(start_paused = true)]
async fn one_at_a_time_succeeds_and_never_drops_two_units() {
    let sim = sim(3, ReleaseProfile::healthy("v2"));
    let t0 = tokio::time::Instant::now();
    let (report, _) = run(&sim, config(Strategy::OneAtATime)).await;
    assert_eq!(report.outcome, Outcome::Succeeded, "{report:?}");
    assert_eq!(releases(&sim), vec!["v2", "v2", "v2"]);
    assert_eq!(report.batches, 3);
    assert!(sim.min_serving_healthy(t0, tokio::time::Instant::now()) >= 2);
}

#[tokio::test(start_paused = true)]
async fn unhealthy_release_rolls_back_to_all_old() {
    let sim = sim(3, ReleaseProfile::unhealthy("v2"));
    let t0 = tokio::time::Instant::now();
    let (report, _) = run(&sim, config(Strategy::OneAtATime)).await;
    assert!(
        matches!(report.outcome, Outcome::RolledBack { .. }),
        "{:?}",
        report.outcome
    );
    assert_eq!(releases(&sim), vec!["v1", "v1", "v1"]);
    assert!(sim.min_serving_healthy(t0, tokio::time::Instant::now()) >= 2);
    assert_eq!(
        report.units_by_release.keys().collect::<Vec<_>>(),
        vec![&ReleaseId::new("v1")]
    );
}

#[tokio::test(start_paused = true)]
async fn rolling_with_surge_keeps_full_capacity() {
    let sim = sim(10, ReleaseProfile::healthy("v2"));
    let t0 = tokio::time::Instant::now();
    let (report, _) = run(&sim, config(Strategy::rolling("25%", "0").unwrap())).await;
    assert_eq!(report.outcome, Outcome::Succeeded, "{report:?}");
    assert!(releases(&sim).iter().all(|r| r == "v2"));
    assert_eq!(sim.snapshot().len(), 10);
    assert!(sim.min_serving_healthy(t0, tokio::time::Instant::now()) >= 10);
}

#[tokio::test(start_paused = true)]
async fn crash_after_ready_rolls_back() {
    let sim = sim(4, ReleaseProfile::crashing("v2", Duration::from_secs(45)));
    let (report, _) = run(&sim, config(Strategy::rolling("0", "1").unwrap())).await;
    match &report.outcome {
        Outcome::RolledBack { trigger } => assert!(
            matches!(
                trigger,
                Trigger::Crash { .. } | Trigger::DeploymentFailed { .. }
            ),
            "{trigger:?}"
        ),
        o => panic!("{o:?}"),
    }
    assert!(releases(&sim).iter().all(|r| r == "v1"));
}

#[tokio::test(start_paused = true)]
async fn delegated_platform_gates_on_status_and_rolls_back_through_it() {
    let sim = runway_sim::SimPlatform::builder()
        .seed(3)
        .environment("production")
        .service("api")
        .units(1)
        .initial_release("v1")
        .start_time(START)
        .ready_time(READY)
        .release(ReleaseProfile::unhealthy("v2"))
        .model(ControlModel::Delegated)
        .build();
    let (report, _) = run(&sim, config(Strategy::OneAtATime)).await;
    assert!(
        matches!(report.outcome, Outcome::RolledBack { .. }),
        "{report:?}"
    );
    assert_eq!(releases(&sim), vec!["v1"]);
}

#[tokio::test(start_paused = true)]
async fn unhealthy_surge_unit_fails_its_gate_long_before_the_deadline() {
    let sim = sim(4, ReleaseProfile::unhealthy("v2"));
    let (report, _) = run(&sim, config(Strategy::rolling("1", "0").unwrap())).await;
    assert!(
        matches!(
            report.outcome,
            Outcome::RolledBack {
                trigger: Trigger::HealthGate { .. }
            }
        ),
        "{:?}",
        report.outcome
    );
    // start + ready + failure_threshold x period, not the 300 s progress deadline.
    assert!(
        report.duration < Duration::from_secs(60),
        "{:?}",
        report.duration
    );
    assert_eq!(releases(&sim), vec!["v1"; 4]);
}
