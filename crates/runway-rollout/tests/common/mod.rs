//! Shared helpers for the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use runway_core::{ControlModel, MemorySink, Release};
use runway_rollout::{HealthGate, Report, Rollout, RolloutBuilder, RolloutConfig, Strategy};
use runway_sim::{ReleaseProfile, SimPlatform};

pub const START: Duration = Duration::from_secs(20);
pub const READY: Duration = Duration::from_secs(10);

pub fn gate() -> HealthGate {
    HealthGate::default()
        .with_period(Duration::from_secs(2))
        .with_timeout(Duration::from_secs(1))
        .with_failure_threshold(3)
        .with_min_ready(Duration::from_secs(10))
}

pub fn config(strategy: Strategy) -> RolloutConfig {
    RolloutConfig::default()
        .with_strategy(strategy)
        .with_gate(gate())
        .with_progress_deadline(Duration::from_secs(300))
}

pub fn sim(units: usize, v2: ReleaseProfile) -> SimPlatform {
    SimPlatform::builder()
        .seed(7)
        .environment("production")
        .service("api")
        .units(units)
        .initial_release("v1")
        .start_time(START)
        .ready_time(READY)
        .release(ReleaseProfile::healthy("v1"))
        .release(v2)
        .model(ControlModel::Orchestrated)
        .build()
}

pub fn builder(sim: &SimPlatform, cfg: RolloutConfig, sink: &MemorySink) -> RolloutBuilder {
    Rollout::builder()
        .with_platform(Arc::new(sim.clone()))
        .with_probe(Arc::new(sim.clone()))
        .with_clock(Arc::new(sim.clock()))
        .with_sink(Arc::new(sink.clone()))
        .with_environment("production")
        .with_service("api")
        .with_release(Release::new("v2"))
        .with_config(cfg)
}

pub async fn run(sim: &SimPlatform, cfg: RolloutConfig) -> (Report, MemorySink) {
    let sink = MemorySink::new();
    let r = builder(sim, cfg, &sink)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    (r, sink)
}

/// Every unit's release in the simulator.
pub fn releases(sim: &SimPlatform) -> Vec<String> {
    sim.snapshot()
        .into_iter()
        .map(|u| u.release.map(|r| r.to_string()).unwrap_or_default())
        .collect()
}
