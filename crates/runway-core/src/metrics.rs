//! Request and resource metrics, the inputs of post-deploy verification.
//!
//! Latencies are kept as HdrHistogram histograms so windows and units can be merged exactly; percentiles
//! are read from the merged histogram, never averaged.

use std::fmt::Debug;

use async_trait::async_trait;
use hdrhistogram::Histogram;

use crate::error::{Error, Result};
use crate::types::{EnvironmentId, ReleaseId, TimeRange, UnitId};

/// Request counts and a latency histogram (milliseconds) for one scope and window.
#[derive(Debug, Clone)]
pub struct RequestMetrics {
    /// All requests.
    pub total: u64,
    /// Requests answered 2xx.
    pub success: u64,
    /// Requests answered 5xx.
    pub server_errors: u64,
    /// Latency in milliseconds, 1 ms to 1 hour at 3 significant digits.
    pub latency_ms: Histogram<u64>,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        RequestMetrics {
            total: 0,
            success: 0,
            server_errors: 0,
            latency_ms: new_latency_histogram(),
        }
    }
}

/// A latency histogram with the bounds every runway component uses (1 ms .. 1 h, 3 digits).
pub fn new_latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000, 3).expect("static histogram bounds are valid")
}

impl RequestMetrics {
    /// Record one request with its status code and latency.
    pub fn record(&mut self, status: u16, latency_ms: u64) {
        self.total += 1;
        if (200..300).contains(&status) {
            self.success += 1;
        } else if status >= 500 {
            self.server_errors += 1;
        }
        self.latency_ms.saturating_record(latency_ms.max(1));
    }

    /// Add another window's or unit's metrics into this one.
    pub fn merge(&mut self, other: &RequestMetrics) {
        self.total += other.total;
        self.success += other.success;
        self.server_errors += other.server_errors;
        // Both histograms share the same bounds, so adding cannot fail; saturate defensively.
        if self.latency_ms.add(&other.latency_ms).is_err() {
            for v in other.latency_ms.iter_recorded() {
                self.latency_ms
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
    }

    /// The share of 2xx responses (0..=1), `None` without requests.
    pub fn success_rate(&self) -> Option<f64> {
        (self.total > 0).then(|| self.success as f64 / self.total as f64)
    }

    /// The share of 5xx responses (0..=1), `None` without requests.
    pub fn server_error_rate(&self) -> Option<f64> {
        (self.total > 0).then(|| self.server_errors as f64 / self.total as f64)
    }

    /// The latency at quantile `q` (0..=1) in milliseconds, `None` without samples.
    pub fn latency_quantile_ms(&self, q: f64) -> Option<u64> {
        (!self.latency_ms.is_empty()).then(|| self.latency_ms.value_at_quantile(q))
    }
}

/// Resource usage, as fractions 0..=1 (queue depth as a count). Missing values are `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceMetrics {
    /// Database connection pool use.
    pub db_pool_utilisation: Option<f64>,
    /// Background queue depth (Celery tasks waiting).
    pub queue_depth: Option<u64>,
    /// Memory use.
    pub memory_utilisation: Option<f64>,
    /// CPU use.
    pub cpu_utilisation: Option<f64>,
}

/// Which requests to count.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsQuery {
    /// The environment.
    pub environment: EnvironmentId,
    /// Only requests served by this release.
    pub release: Option<ReleaseId>,
    /// Only requests served by these units (empty: all).
    pub units: Vec<UnitId>,
    /// The window.
    pub range: TimeRange,
}

impl MetricsQuery {
    /// All requests of `environment` in `range`.
    pub fn new(environment: EnvironmentId, range: TimeRange) -> Self {
        MetricsQuery {
            environment,
            release: None,
            units: Vec::new(),
            range,
        }
    }

    /// Only requests served by `release`.
    #[must_use]
    pub fn with_release(mut self, release: impl Into<ReleaseId>) -> Self {
        self.release = Some(release.into());
        self
    }

    /// Only requests served by `units`.
    #[must_use]
    pub fn with_units(mut self, units: Vec<UnitId>) -> Self {
        self.units = units;
        self
    }
}

/// A source of request and resource metrics (the simulator; a load balancer's logs; an APM).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait MetricsSource: Send + Sync + Debug + 'static {
    /// Request metrics for the query's scope and window.
    async fn request_metrics(&self, query: &MetricsQuery) -> Result<RequestMetrics>;

    /// Resource usage now.
    async fn resource_metrics(&self, environment: &EnvironmentId) -> Result<ResourceMetrics> {
        let _ = environment;
        Err(Error::unsupported(
            "resource_metrics",
            "this metrics source",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_exact_percentiles() {
        let mut a = RequestMetrics::default();
        let mut b = RequestMetrics::default();
        for i in 1..=90 {
            a.record(200, i);
        }
        for i in 91..=100 {
            b.record(500, i * 10);
        }
        a.merge(&b);
        assert_eq!(a.total, 100);
        assert_eq!(a.server_error_rate(), Some(0.1));
        assert_eq!(a.success_rate(), Some(0.9));
        // p95 of 1..=90 plus 910..=1000: the 95th value is 950.
        let p95 = a.latency_quantile_ms(0.95).unwrap();
        assert!((949..=951).contains(&p95), "{p95}");
    }

    #[test]
    fn empty_has_no_rates() {
        let m = RequestMetrics::default();
        assert_eq!(m.success_rate(), None);
        assert_eq!(m.latency_quantile_ms(0.95), None);
    }
}
