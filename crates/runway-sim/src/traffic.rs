//! Synthetic request traffic: what the load balancer would have seen over a window.
//!
//! The window is cut into steps; at each step every routed unit (in the load balancer and running, healthy
//! or not) serves `rate x step` requests, with the error rate and latency distribution of its release and
//! state. Random draws are seeded by the simulator's seed, the unit and the step's absolute time, so the same
//! window always yields the same numbers.

use std::time::Duration;

use runway_core::{RequestMetrics, UnitState};
use tokio::time::Instant;

use crate::model::{Behaviour, SimUnit};

/// One unit's traffic in one step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct StepTraffic {
    pub(crate) requests: u64,
    pub(crate) errors: u64,
}

pub(crate) struct TrafficModel {
    pub(crate) seed: u64,
    pub(crate) rate_per_unit: f64,
    pub(crate) origin: Instant,
}

impl TrafficModel {
    fn rng(&self, unit_index: usize, t: Instant) -> SplitMix {
        let ms = t.saturating_duration_since(self.origin).as_millis() as u64;
        let mixed = self
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add((unit_index as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9))
            .wrapping_add(ms.wrapping_mul(0x94D0_49BB_1331_11EB));
        SplitMix(mixed)
    }

    /// Requests served by `unit` in the step `[t, t + step)`, recorded into `metrics`.
    pub(crate) fn serve(
        &self,
        behaviour: &Behaviour,
        unit_index: usize,
        unit: &SimUnit,
        t: Instant,
        step: Duration,
        metrics: &mut RequestMetrics,
    ) -> StepTraffic {
        let Some(epoch) = unit.epoch_at(t) else {
            return StepTraffic::default();
        };
        if !epoch.in_lb {
            return StepTraffic::default();
        }
        let state = behaviour.state(unit, epoch, t);
        let profile = behaviour.profile(&epoch.release);
        let (error_rate, slow) = match state {
            UnitState::Running => (profile.error_rate, 1.0),
            UnitState::Unhealthy => (profile.unhealthy_error_rate, 3.0),
            // Not listening: the load balancer's passive check skips it.
            _ => return StepTraffic::default(),
        };
        let mut rng = self.rng(unit_index, t);
        let expected = self.rate_per_unit * step.as_secs_f64() * f64::from(unit.replicas.max(1));
        let mut requests = expected.floor() as u64;
        if rng.unit() < expected.fract() {
            requests += 1;
        }
        if requests == 0 {
            return StepTraffic::default();
        }
        let expected_errors = requests as f64 * error_rate;
        let mut errors = expected_errors.floor() as u64;
        if rng.unit() < expected_errors.fract() {
            errors += 1;
        }
        let errors = errors.min(requests);
        // Log-normal latency through p50 and p99; a few samples per step carry the step's weight.
        let mu = (profile.latency_p50_ms * slow).ln();
        let sigma = ((profile.latency_p99_ms / profile.latency_p50_ms).ln() / 2.326).max(0.0);
        let samples = requests.min(8);
        let weight = requests / samples;
        let mut remainder = requests - weight * samples;
        for _ in 0..samples {
            let z = standard_normal(&mut rng);
            let ms = (mu + sigma * z).exp().round().clamp(1.0, 3_600_000.0) as u64;
            let n = weight + u64::from(remainder > 0);
            remainder = remainder.saturating_sub(1);
            metrics.latency_ms.saturating_record_n(ms, n);
        }
        metrics.total += requests;
        metrics.server_errors += errors;
        metrics.success += requests - errors;
        StepTraffic { requests, errors }
    }
}

/// SplitMix64: a tiny, fast generator whose output is fixed by its definition, so a seed means the same
/// traffic on every platform and every version of the `rand` crates. One is created per unit and step.
pub(crate) struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn standard_normal(rng: &mut SplitMix) -> f64 {
    // Box-Muller.
    let u1: f64 = rng.unit().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Step length for a window: about 120 steps, at least 100 ms, at most 10 s.
pub(crate) fn step_for(window: Duration) -> Duration {
    (window / 120).clamp(Duration::from_millis(100), Duration::from_secs(10))
}
