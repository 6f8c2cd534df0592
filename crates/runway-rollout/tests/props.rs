//! Property tests over random fleets (1..=200 units), budgets and fault schedules, against the simulator.
//!
//! Checked for every case:
//! - capacity: the simulator's serving healthy units (exact, at every instant any unit changes) never drop below
//!   `units - max_unavailable - crashes injected` (crashes are outside the engine's control). For releases that
//!   turn bad only after passing the gate (unhealthy-after, flapping, crash-after), capacity lost to them before
//!   detection is the release's doing, so those cases check the outcome properties only;
//! - the run ends all-new with `Succeeded` or all-old with `RolledBack`, with the fleet size kept; a healthy
//!   release without crashes, slow starts past the deadline or exhausted API retries always succeeds, an
//!   unhealthy one always rolls back (a timeout of a non-idempotent call, `add_unit`, is not retried and may
//!   roll back a healthy release);
//! - replaying the event stream (what the journal stores) gives the final units per release the engine
//!   reported, which equal the simulator's.
//!
//! Default case count is small for CI; run more with `PROPTEST_CASES=10000 cargo nextest run -p runway-rollout
//! --test props --release` (documented in docs/rollout.md).

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use runway_core::{ControlModel, MemorySink, UnitId};
use runway_rollout::{Budget, Outcome, Strategy as Rollout, replay, resolve_budgets};
use runway_sim::{ApiFault, FaultKind, ReleaseProfile, SimPlatform};

#[derive(Debug, Clone)]
enum Health {
    Healthy,
    Unhealthy,
    UnhealthyAfter(u64),
    Flapping(u64),
    CrashAfter(u64),
}

#[derive(Debug, Clone)]
struct Case {
    units: usize,
    surge: Budget,
    unavailable: Budget,
    health: Health,
    v2_start: Option<u64>,
    crashes: Vec<(usize, u64)>,
    faults: Vec<(u64, u8)>,
}

fn budget() -> impl Strategy<Value = Budget> {
    prop_oneof![
        (0u32..4).prop_map(Budget::Count),
        prop_oneof![Just(0u32), Just(10), Just(25), Just(50)].prop_map(Budget::Percent),
    ]
}

fn health() -> impl Strategy<Value = Health> {
    prop_oneof![
        4 => Just(Health::Healthy),
        2 => Just(Health::Unhealthy),
        1 => (1u64..120).prop_map(Health::UnhealthyAfter),
        1 => (5u64..60).prop_map(Health::Flapping),
        1 => (1u64..90).prop_map(Health::CrashAfter),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![1usize..=5, 1usize..=200],
        budget(),
        budget(),
        health(),
        proptest::option::weighted(0.2, 1u64..400),
        proptest::collection::vec((0usize..200, 0u64..600), 0..3),
        proptest::collection::vec((1u64..3000, 0u8..3), 0..4),
    )
        .prop_map(
            |(units, surge, unavailable, health, v2_start, crashes, faults)| Case {
                units,
                surge,
                unavailable,
                health,
                v2_start,
                crashes,
                faults,
            },
        )
}

fn build(c: &Case) -> SimPlatform {
    let mut v2 = match c.health {
        Health::Healthy => ReleaseProfile::healthy("v2"),
        Health::Unhealthy => ReleaseProfile::unhealthy("v2"),
        Health::UnhealthyAfter(s) => ReleaseProfile::unhealthy_after("v2", Duration::from_secs(s)),
        Health::Flapping(s) => ReleaseProfile::flapping("v2", Duration::from_secs(s)),
        Health::CrashAfter(s) => ReleaseProfile::crashing("v2", Duration::from_secs(s)),
    };
    if let Some(s) = c.v2_start {
        v2 = v2.with_start_time(Duration::from_secs(s));
    }
    let mut b = SimPlatform::builder()
        .seed(c.units as u64)
        .environment("production")
        .service("api")
        .units(c.units)
        .initial_release("v1")
        .start_time(START)
        .ready_time(READY)
        .release(ReleaseProfile::healthy("v1"))
        .release(v2)
        .model(ControlModel::Orchestrated);
    for (i, at) in &c.crashes {
        b = b.crash_unit_at(
            UnitId::new(format!("api-{}", i % c.units + 1)),
            Duration::from_secs(*at),
        );
    }
    for (call, k) in &c.faults {
        let kind = match k {
            0 => FaultKind::RateLimited(Duration::from_secs(2)),
            1 => FaultKind::ServerError,
            _ => FaultKind::Timeout,
        };
        b = b.api_fault(ApiFault::at_call(*call, kind));
    }
    b.build()
}

fn check(c: Case) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async move {
        let sim = build(&c);
        let strategy = Rollout::Rolling {
            max_surge: c.surge,
            max_unavailable: c.unavailable,
        };
        let (_, u) = resolve_budgets(c.surge, c.unavailable, c.units);
        let sink = MemorySink::new();
        let t0 = tokio::time::Instant::now();
        let report = builder(&sim, config(strategy), &sink)
            .with_retry(runway_core::RetryPolicy::default().with_jitter(false))
            .build()
            .unwrap()
            .run()
            .await
            .unwrap();
        let t1 = tokio::time::Instant::now();
        let snapshot = sim.snapshot();
        prop_assert_eq!(snapshot.len(), c.units, "fleet size kept");
        let on = |r: &str| {
            snapshot
                .iter()
                .filter(|x| x.release.as_ref().map(|x| x.as_str()) == Some(r))
                .count()
        };
        match &report.outcome {
            Outcome::Succeeded => prop_assert_eq!(on("v2"), c.units, "succeeded means all new"),
            Outcome::RolledBack { .. } => {
                prop_assert_eq!(on("v1"), c.units, "rolled back means all old")
            }
            other => prop_assert!(false, "unexpected outcome {:?}", other),
        }
        // The right outcome.
        if matches!(c.health, Health::Unhealthy) {
            prop_assert!(
                !report.outcome.is_success(),
                "an unhealthy release never succeeds"
            );
        }
        // Journal replay gives the same final state.
        let st = replay(&sink.events());
        prop_assert!(st.finished());
        prop_assert_eq!(&st.units_by_release, &report.units_by_release);
        prop_assert_eq!(st.reported_final.as_ref(), Some(&report.units_by_release));
        let mut sim_view = sim.units_by_release();
        for v in sim_view.values_mut() {
            v.sort();
        }
        prop_assert_eq!(&sim_view, &report.units_by_release);
        // Capacity.
        let gate_passing = matches!(c.health, Health::Healthy | Health::Unhealthy);
        if gate_passing {
            let floor = c.units.saturating_sub(u).saturating_sub(c.crashes.len());
            let min = sim.min_serving_healthy(t0, t1);
            prop_assert!(
                min >= floor,
                "serving dropped to {} below {} ({:?})",
                min,
                floor,
                report.outcome
            );
        }
        // Timeouts of non-idempotent calls (add_unit) are not retried, by design: they may roll back.
        let no_timeouts = c.faults.iter().all(|(_, k)| *k != 2);
        if matches!(c.health, Health::Healthy)
            && c.crashes.is_empty()
            && no_timeouts
            && c.v2_start.is_none_or(|s| s < 200)
        {
            prop_assert!(
                report.outcome.is_success(),
                "a healthy release succeeds: {:?}",
                report.outcome
            );
        }
        Ok(())
    })
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn rollouts_keep_capacity_end_clean_and_replay(c in case()) {
        check(c)?;
    }
}
