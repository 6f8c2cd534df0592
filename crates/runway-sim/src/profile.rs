//! How a release behaves in the simulator, and the faults the simulator can inject.

use std::time::Duration;

use runway_core::{ReleaseId, UnitId};

/// How a release's health evolves once it is ready.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HealthModel {
    /// Healthy from readiness on.
    Healthy,
    /// Never passes its health check.
    Unhealthy,
    /// Healthy for a while after readiness, then unhealthy.
    UnhealthyAfter(Duration),
    /// Alternates healthy / unhealthy every period, starting healthy.
    Flapping(Duration),
    /// The process exits this long after it started (the runbook's "application won't start").
    CrashAfter(Duration),
}

/// The behaviour of one release: timing, health, error rate and latency.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseProfile {
    /// The release.
    pub id: ReleaseId,
    /// Health after readiness.
    pub health: HealthModel,
    /// Time from deploy to process start (image pull, boot); `None`: the simulator's default.
    pub start_time: Option<Duration>,
    /// Time from process start to ready; `None`: the simulator's default.
    pub ready_time: Option<Duration>,
    /// Share of requests answered 5xx while healthy.
    pub error_rate: f64,
    /// Share of requests answered 5xx while unhealthy.
    pub unhealthy_error_rate: f64,
    /// Median latency in milliseconds.
    pub latency_p50_ms: f64,
    /// 99th percentile latency in milliseconds.
    pub latency_p99_ms: f64,
}

impl ReleaseProfile {
    fn with_health(id: impl Into<ReleaseId>, health: HealthModel) -> Self {
        ReleaseProfile {
            id: id.into(),
            health,
            start_time: None,
            ready_time: None,
            error_rate: 0.001,
            unhealthy_error_rate: 0.5,
            latency_p50_ms: 80.0,
            latency_p99_ms: 300.0,
        }
    }

    /// A healthy release (0.1% errors, p50 80 ms, p99 300 ms).
    pub fn healthy(id: impl Into<ReleaseId>) -> Self {
        Self::with_health(id, HealthModel::Healthy)
    }

    /// A release that never passes its health check.
    pub fn unhealthy(id: impl Into<ReleaseId>) -> Self {
        Self::with_health(id, HealthModel::Unhealthy)
    }

    /// A release that turns unhealthy `after` its readiness.
    pub fn unhealthy_after(id: impl Into<ReleaseId>, after: Duration) -> Self {
        Self::with_health(id, HealthModel::UnhealthyAfter(after))
    }

    /// A release that flaps between healthy and unhealthy every `period`.
    pub fn flapping(id: impl Into<ReleaseId>, period: Duration) -> Self {
        Self::with_health(
            id,
            HealthModel::Flapping(period.max(Duration::from_millis(1))),
        )
    }

    /// A release whose process exits `after` it started.
    pub fn crashing(id: impl Into<ReleaseId>, after: Duration) -> Self {
        Self::with_health(id, HealthModel::CrashAfter(after))
    }

    /// Set the start time.
    #[must_use]
    pub fn with_start_time(mut self, d: Duration) -> Self {
        self.start_time = Some(d);
        self
    }

    /// Set the ready time.
    #[must_use]
    pub fn with_ready_time(mut self, d: Duration) -> Self {
        self.ready_time = Some(d);
        self
    }

    /// Set the healthy error rate (0..=1).
    #[must_use]
    pub fn with_error_rate(mut self, rate: f64) -> Self {
        self.error_rate = rate.clamp(0.0, 1.0);
        self
    }

    /// Set the latency distribution (log-normal through these two percentiles).
    #[must_use]
    pub fn with_latency_ms(mut self, p50: f64, p99: f64) -> Self {
        self.latency_p50_ms = p50.max(1.0);
        self.latency_p99_ms = p99.max(self.latency_p50_ms);
        self
    }
}

/// What an injected API fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer 429 with this `Retry-After`.
    RateLimited(Duration),
    /// Answer a 5xx.
    ServerError,
    /// Hang for the simulator's timeout, then fail with a timeout.
    Timeout,
}

/// An API fault at the n-th provider call (1-based, counting every call to every provider trait).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiFault {
    /// Which call.
    pub call: u64,
    /// What happens.
    pub kind: FaultKind,
}

impl ApiFault {
    /// A fault at call `n` (1-based).
    pub fn at_call(n: u64, kind: FaultKind) -> Self {
        ApiFault { call: n, kind }
    }
}

/// A scheduled crash of a unit, at an offset from the simulation's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledCrash {
    /// The unit.
    pub unit: UnitId,
    /// When, from the start.
    pub at: Duration,
}
