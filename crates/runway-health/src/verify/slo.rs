//! SLO thresholds and the evaluation of one metrics window against them.

use std::fmt;
use std::time::Duration;

use runway_core::{AnalysisVerdict, RequestMetrics, ResourceMetrics};
use serde::{Deserialize, Serialize};

use crate::error::HealthError;

/// The monitoring thresholds. Defaults are the runbook's dashboard checks: 2xx rate > 99 %, 5xx rate < 1 %,
/// p95 < 500 ms, database pool < 80 %, queue depth < 100, memory < 80 %, CPU < 70 %; and at least 100
/// requests before request-based thresholds give a verdict (with fewer, one failed request is already 1 %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// The 2xx share must be above this.
    pub min_success_rate: f64,
    /// The 5xx share must be below this.
    pub max_server_error_rate: f64,
    /// p95 latency must be below this.
    pub max_p95: Duration,
    /// Database pool use must be below this share.
    pub max_db_pool: f64,
    /// Queue depth must be below this.
    pub max_queue_depth: u64,
    /// Memory use must be below this share.
    pub max_memory: f64,
    /// CPU use must be below this share.
    pub max_cpu: f64,
    /// Request-based thresholds need at least this many requests.
    pub min_samples: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_success_rate: 0.99,
            max_server_error_rate: 0.01,
            max_p95: Duration::from_millis(500),
            max_db_pool: 0.8,
            max_queue_depth: 100,
            max_memory: 0.8,
            max_cpu: 0.7,
            min_samples: 100,
        }
    }
}

macro_rules! setter {
    ($(#[$doc:meta] $fn:ident, $field:ident: $ty:ty;)*) => {$(
        #[$doc]
        #[must_use]
        pub fn $fn(mut self, v: $ty) -> Self {
            self.$field = v;
            self
        }
    )*};
}

impl Thresholds {
    setter! {
        /// Set the minimum 2xx share.
        with_min_success_rate, min_success_rate: f64;
        /// Set the maximum 5xx share.
        with_max_server_error_rate, max_server_error_rate: f64;
        /// Set the maximum p95 latency.
        with_max_p95, max_p95: Duration;
        /// Set the maximum database pool use.
        with_max_db_pool, max_db_pool: f64;
        /// Set the maximum queue depth.
        with_max_queue_depth, max_queue_depth: u64;
        /// Set the maximum memory use.
        with_max_memory, max_memory: f64;
        /// Set the maximum CPU use.
        with_max_cpu, max_cpu: f64;
        /// Set the minimum sample size.
        with_min_samples, min_samples: u64;
    }

    /// Shares must lie in 0..=1 and the sample minimum be at least 1.
    pub fn validate(&self) -> Result<(), HealthError> {
        for (name, v) in [
            ("min_success_rate", self.min_success_rate),
            ("max_server_error_rate", self.max_server_error_rate),
            ("max_db_pool", self.max_db_pool),
            ("max_memory", self.max_memory),
            ("max_cpu", self.max_cpu),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(HealthError::config(
                    "thresholds",
                    format!("{name} must be within 0..=1, got {v}"),
                ));
            }
        }
        if self.min_samples == 0 {
            return Err(HealthError::config(
                "thresholds",
                "min_samples must be at least 1",
            ));
        }
        Ok(())
    }
}

/// Which threshold a [`Criterion`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// 2xx share.
    SuccessRate,
    /// 5xx share.
    ServerErrorRate,
    /// p95 latency (ms).
    LatencyP95,
    /// Database pool use.
    DbPool,
    /// Queue depth.
    QueueDepth,
    /// Memory use.
    Memory,
    /// CPU use.
    Cpu,
}

impl Metric {
    /// A stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::SuccessRate => "2xx_rate",
            Metric::ServerErrorRate => "5xx_rate",
            Metric::LatencyP95 => "p95_ms",
            Metric::DbPool => "db_pool",
            Metric::QueueDepth => "queue_depth",
            Metric::Memory => "memory",
            Metric::Cpu => "cpu",
        }
    }

    fn needs_samples(self) -> bool {
        matches!(
            self,
            Metric::SuccessRate | Metric::ServerErrorRate | Metric::LatencyP95
        )
    }
}

/// How one criterion came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Within the threshold.
    Met,
    /// Outside the threshold.
    Breached,
    /// The source had no value.
    NotMeasured,
    /// Fewer requests than the minimum sample size.
    InsufficientSamples,
}

/// One threshold's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// Which threshold.
    pub metric: Metric,
    /// The observed value (shares as 0..=1, latency in ms).
    pub observed: Option<f64>,
    /// The threshold.
    pub limit: f64,
    /// How it came out.
    pub outcome: Outcome,
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.metric {
            Metric::SuccessRate => ">",
            _ => "<",
        };
        let fmt_v = |v: f64| match self.metric {
            Metric::LatencyP95 | Metric::QueueDepth => format!("{v:.0}"),
            _ => format!("{:.2}%", v * 100.0),
        };
        match self.observed {
            Some(v) => write!(
                f,
                "{} {} (needs {op} {})",
                self.metric.as_str(),
                fmt_v(v),
                fmt_v(self.limit)
            ),
            None => write!(f, "{} not measured", self.metric.as_str()),
        }
    }
}

/// The verdict of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every measured threshold held, with enough samples.
    Pass,
    /// A threshold was breached.
    Fail,
    /// Not enough data to decide.
    Inconclusive,
}

impl Verdict {
    /// `pass`, `fail` or `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// The result of evaluating one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The verdict.
    pub verdict: Verdict,
    /// Requests in the window.
    pub samples: u64,
    /// The minimum sample size applied.
    pub min_samples: u64,
    /// Each threshold.
    pub criteria: Vec<Criterion>,
    /// Set when the metrics could not be read at all.
    pub unavailable: Option<String>,
}

impl Evaluation {
    /// An inconclusive evaluation because the metrics could not be read.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Evaluation {
            verdict: Verdict::Inconclusive,
            samples: 0,
            min_samples: 0,
            criteria: Vec::new(),
            unavailable: Some(reason.into()),
        }
    }

    /// The criteria that were breached.
    pub fn breaches(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria
            .iter()
            .filter(|c| c.outcome == Outcome::Breached)
    }

    /// The criterion for `metric`.
    pub fn criterion(&self, metric: Metric) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.metric == metric)
    }

    /// A one-line explanation.
    pub fn reason(&self) -> String {
        if let Some(u) = &self.unavailable {
            return format!("metrics unavailable: {u}");
        }
        match self.verdict {
            Verdict::Fail => self
                .breaches()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            Verdict::Inconclusive => format!(
                "{} requests, fewer than the minimum of {}",
                self.samples, self.min_samples
            ),
            Verdict::Pass => format!("all thresholds held over {} requests", self.samples),
        }
    }

    /// As the rollout engine's [`AnalysisVerdict`].
    pub fn to_analysis_verdict(&self) -> AnalysisVerdict {
        match self.verdict {
            Verdict::Pass => AnalysisVerdict::Pass,
            Verdict::Fail => AnalysisVerdict::Fail {
                reason: self.reason(),
            },
            Verdict::Inconclusive => AnalysisVerdict::Inconclusive {
                reason: self.reason(),
            },
        }
    }
}

/// Evaluate one window of request metrics (and current resource use, when known) against `t`.
///
/// p95 comes from the window's merged HdrHistogram. Request-based thresholds need `t.min_samples`
/// requests: below that they are [`Outcome::InsufficientSamples`] and, unless a resource threshold is
/// breached, the verdict is [`Verdict::Inconclusive`]. Resource thresholds do not depend on the request
/// count: a breach fails the window whatever the traffic. Comparisons are strict, as in the runbook
/// (a p95 of exactly 500 ms breaches "p95 < 500 ms").
///
/// ```
/// use runway_core::RequestMetrics;
/// use runway_health::verify::{evaluate, Thresholds, Verdict};
///
/// let mut m = RequestMetrics::default();
/// for ms in 1..=200 { m.record(200, ms); }
/// let e = evaluate(&m, None, &Thresholds::default());
/// assert_eq!(e.verdict, Verdict::Pass);
/// let e = evaluate(&m, None, &Thresholds::default().with_min_samples(1000));
/// assert_eq!(e.verdict, Verdict::Inconclusive);
/// ```
pub fn evaluate(
    requests: &RequestMetrics,
    resources: Option<&ResourceMetrics>,
    t: &Thresholds,
) -> Evaluation {
    let enough = requests.total >= t.min_samples;
    let mut criteria = Vec::with_capacity(7);
    let mut push = |metric: Metric, observed: Option<f64>, limit: f64, ok: fn(f64, f64) -> bool| {
        let outcome = match observed {
            None => Outcome::NotMeasured,
            Some(_) if metric.needs_samples() && !enough => Outcome::InsufficientSamples,
            Some(v) if ok(v, limit) => Outcome::Met,
            Some(_) => Outcome::Breached,
        };
        criteria.push(Criterion {
            metric,
            observed,
            limit,
            outcome,
        });
    };
    let above = |v: f64, l: f64| v > l;
    let below = |v: f64, l: f64| v < l;
    push(
        Metric::SuccessRate,
        requests.success_rate(),
        t.min_success_rate,
        above,
    );
    push(
        Metric::ServerErrorRate,
        requests.server_error_rate(),
        t.max_server_error_rate,
        below,
    );
    push(
        Metric::LatencyP95,
        requests.latency_quantile_ms(0.95).map(|v| v as f64),
        t.max_p95.as_secs_f64() * 1000.0,
        below,
    );
    let r = resources.cloned().unwrap_or_default();
    push(Metric::DbPool, r.db_pool_utilisation, t.max_db_pool, below);
    push(
        Metric::QueueDepth,
        r.queue_depth.map(|q| q as f64),
        t.max_queue_depth as f64,
        below,
    );
    push(Metric::Memory, r.memory_utilisation, t.max_memory, below);
    push(Metric::Cpu, r.cpu_utilisation, t.max_cpu, below);
    let breached = criteria.iter().any(|c| c.outcome == Outcome::Breached);
    let verdict = if breached {
        Verdict::Fail
    } else if !enough {
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    };
    Evaluation {
        verdict,
        samples: requests.total,
        min_samples: t.min_samples,
        criteria,
        unavailable: None,
    }
}

/// Settings of a monitoring window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorPlan {
    /// How long to watch (the runbook's 5 to 30 minutes).
    pub window: Duration,
    /// How often to read the metrics.
    pub interval: Duration,
    /// The thresholds.
    pub thresholds: Thresholds,
}

impl Default for MonitorPlan {
    /// A 15-minute window read every 30 s with the runbook's thresholds.
    fn default() -> Self {
        MonitorPlan {
            window: Duration::from_secs(15 * 60),
            interval: Duration::from_secs(30),
            thresholds: Thresholds::default(),
        }
    }
}

/// What the monitor wants next.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorAction {
    /// Read the metrics again after this long.
    SampleAfter(Duration),
    /// The window is decided.
    Finish(Evaluation),
}

/// The monitoring window as a pure state machine: feed it each evaluation with the time elapsed since the
/// window opened; it stops early on a breach (a decisive failure is not worth waiting out) and otherwise
/// when the window has elapsed, with the last evaluation (pass or inconclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    plan: MonitorPlan,
    samples: u32,
}

impl Monitor {
    /// A monitor for `plan`.
    pub fn new(plan: MonitorPlan) -> Self {
        Monitor { plan, samples: 0 }
    }

    /// The plan.
    pub fn plan(&self) -> &MonitorPlan {
        &self.plan
    }

    /// The first action: wait one interval (or the whole window when shorter).
    pub fn start(&self) -> MonitorAction {
        MonitorAction::SampleAfter(self.plan.interval.min(self.plan.window))
    }

    /// Take one evaluation made `elapsed` after the window opened.
    pub fn step(&mut self, elapsed: Duration, evaluation: Evaluation) -> MonitorAction {
        self.samples += 1;
        if evaluation.verdict == Verdict::Fail || elapsed >= self.plan.window {
            return MonitorAction::Finish(evaluation);
        }
        MonitorAction::SampleAfter(self.plan.interval.min(self.plan.window - elapsed))
    }

    /// Evaluations taken so far.
    pub fn samples(&self) -> u32 {
        self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Pass needs enough samples and every measured criterion met; below the minimum, only a resource
        /// breach can fail the window.
        #[test]
        fn verdict_rules(
            ok in 0u64..400, errors in 0u64..20, slow in 0u64..40,
            cpu in proptest::option::of(0.0f64..1.0), min in 1u64..300,
        ) {
            let mut m = RequestMetrics::default();
            for _ in 0..ok { m.record(200, 50); }
            for _ in 0..errors { m.record(503, 50); }
            for _ in 0..slow { m.record(200, 900); }
            let r = ResourceMetrics { cpu_utilisation: cpu, ..ResourceMetrics::default() };
            let t = Thresholds::default().with_min_samples(min);
            let e = evaluate(&m, Some(&r), &t);
            match e.verdict {
                Verdict::Pass => {
                    prop_assert!(e.samples >= min);
                    prop_assert!(e.criteria.iter().all(|c| matches!(c.outcome, Outcome::Met | Outcome::NotMeasured)));
                }
                Verdict::Inconclusive => {
                    prop_assert!(e.samples < min);
                    prop_assert!(e.breaches().next().is_none());
                }
                Verdict::Fail => {
                    prop_assert!(e.breaches().next().is_some());
                    if e.samples < min {
                        prop_assert!(e.breaches().all(|c| !c.metric.needs_samples()));
                    }
                }
            }
        }

        /// Merging windows gives the same evaluation as recording everything in one.
        #[test]
        fn merging_is_exact(a in proptest::collection::vec(1u64..3000, 0..200), b in proptest::collection::vec(1u64..3000, 0..200)) {
            let (mut ma, mut mb, mut all) = (RequestMetrics::default(), RequestMetrics::default(), RequestMetrics::default());
            for v in &a { ma.record(200, *v); all.record(200, *v); }
            for v in &b { mb.record(200, *v); all.record(200, *v); }
            ma.merge(&mb);
            let t = Thresholds::default().with_min_samples(1);
            prop_assert_eq!(evaluate(&ma, None, &t), evaluate(&all, None, &t));
        }
    }
}
