//! The [`Check`] trait and what a check returns.

use std::fmt::{self, Debug};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::redact::scrub;
use crate::status::Status;

/// The default per-check timeout (the probe's default is [`DEFAULT_PROBE_TIMEOUT`](crate::DEFAULT_PROBE_TIMEOUT)).
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One health check of one component (the database, Redis, an upstream HTTP service, ...).
///
/// Object safe (`Arc<dyn Check>`). A check never returns an error: a failure is a [`CheckResult`] with
/// [`Status::Fail`] and a [`Problem`]. The [`HealthChecker`](crate::HealthChecker) enforces
/// [`timeout`](Check::timeout), which must be shorter than the probe's own timeout, and turns a panic into a
/// failed result.
///
/// ```
/// use std::time::Duration;
/// use runway_health::{Check, CheckResult, Status, async_trait};
///
/// #[derive(Debug)]
/// struct DiskSpace;
///
/// #[async_trait]
/// impl Check for DiskSpace {
///     fn name(&self) -> &str { "disk" }
///     fn timeout(&self) -> Duration { Duration::from_millis(200) }
///     async fn check(&self) -> CheckResult {
///         CheckResult::pass().with_observation("utilization", 41.0, "percent")
///     }
/// }
/// # let r = futures::executor::block_on(DiskSpace.check());
/// # assert_eq!(r.status, Status::Pass);
/// ```
#[async_trait]
pub trait Check: Send + Sync + Debug + 'static {
    /// The component's name: the key in reports (`database`, `redis`). No `:` allowed.
    fn name(&self) -> &str;

    /// The health+json `componentType`.
    fn component_type(&self) -> ComponentType {
        ComponentType::Component
    }

    /// How long one run may take; the checker cancels it after this and records a timeout.
    fn timeout(&self) -> Duration {
        DEFAULT_CHECK_TIMEOUT
    }

    /// Whether a failure makes the whole service fail (`true`) or only warn (`false`).
    fn critical(&self) -> bool {
        true
    }

    /// Run the check once.
    async fn check(&self) -> CheckResult;
}

/// The health+json `componentType` of a check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ComponentType {
    /// A component of the service (an upstream, a worker).
    Component,
    /// A data store (PostgreSQL, Redis, a queue).
    Datastore,
    /// A system resource (a TCP port, disk, memory).
    System,
    /// Any other standard term or URI.
    Other(String),
}

impl ComponentType {
    /// The word used in health+json.
    pub fn as_str(&self) -> &str {
        match self {
            ComponentType::Component => "component",
            ComponentType::Datastore => "datastore",
            ComponentType::System => "system",
            ComponentType::Other(s) => s,
        }
    }
}

/// Why a check did not pass, in fixed wording safe to show publicly: no hosts, URLs, connection strings
/// or error text from drivers. The driver's own message goes into [`CheckResult::detail`] (scrubbed of
/// credentials and shown only in internal renderings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Problem {
    /// The check did not finish within its timeout.
    Timeout {
        /// The timeout, in milliseconds.
        after_ms: u64,
    },
    /// The component could not be reached (connection refused or reset, DNS failure).
    Unreachable,
    /// The component rejected our credentials.
    AuthFailed,
    /// The component refused a new connection because all are in use.
    ConnectionsExhausted,
    /// An HTTP endpoint answered with an unexpected status.
    HttpStatus {
        /// The status it answered with.
        status: u16,
    },
    /// The response body was not what was expected (not JSON, not a health response).
    MalformedBody,
    /// A JSON body assertion failed.
    BodyMismatch {
        /// The JSON pointer that was checked (from the check's configuration).
        pointer: String,
    },
    /// A remote health endpoint reported this status.
    RemoteStatus {
        /// The remote service's status.
        status: Status,
    },
    /// A measurement crossed its threshold.
    Threshold {
        /// The measurement (`responseTime`, `utilization`, `queueDepth`, `longQueries`, ...).
        measurement: String,
        /// The observed value.
        observed: f64,
        /// The limit it reached.
        limit: f64,
    },
    /// The component answered something the check could not interpret.
    Protocol,
    /// The component answered with an error code (an SQLSTATE, a Redis error kind).
    Rejected {
        /// The code.
        code: String,
    },
    /// The check itself panicked.
    Panicked,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Timeout { after_ms } => write!(f, "timed out after {after_ms} ms"),
            Problem::Unreachable => f.write_str("unreachable"),
            Problem::AuthFailed => f.write_str("authentication failed"),
            Problem::ConnectionsExhausted => f.write_str("connections exhausted"),
            Problem::HttpStatus { status } => write!(f, "unexpected HTTP status {status}"),
            Problem::MalformedBody => f.write_str("malformed response body"),
            Problem::BodyMismatch { pointer } => write!(f, "response body mismatch at {pointer}"),
            Problem::RemoteStatus { status } => write!(f, "remote status {status}"),
            Problem::Threshold {
                measurement,
                observed,
                limit,
            } => write!(f, "{measurement} {observed} reached limit {limit}"),
            Problem::Protocol => f.write_str("unexpected reply"),
            Problem::Rejected { code } => write!(f, "rejected with code {code}"),
            Problem::Panicked => f.write_str("check panicked"),
        }
    }
}

/// One measurement of a check (health+json `observedValue` / `observedUnit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Measurement name: `responseTime`, `utilization`, `connections`, or a check-specific one.
    pub measurement: String,
    /// The value.
    pub value: f64,
    /// Its unit (`ms`, `percent`, `bytes`, `connections`, `tasks`).
    pub unit: String,
}

/// The outcome of one run of a [`Check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Pass, warn or fail.
    pub status: Status,
    /// Why it did not pass (public wording).
    pub problem: Option<Problem>,
    /// Measurements taken.
    pub observations: Vec<Observation>,
    /// The driver's message, scrubbed of credentials; never shown in public renderings, never serialised.
    #[serde(default, skip_serializing)]
    pub detail: Option<String>,
}

impl CheckResult {
    /// A passing result.
    pub fn pass() -> Self {
        CheckResult {
            status: Status::Pass,
            problem: None,
            observations: Vec::new(),
            detail: None,
        }
    }

    /// A warning with its problem.
    pub fn warn(problem: Problem) -> Self {
        CheckResult {
            status: Status::Warn,
            problem: Some(problem),
            ..Self::pass()
        }
    }

    /// A failure with its problem.
    pub fn fail(problem: Problem) -> Self {
        CheckResult {
            status: Status::Fail,
            problem: Some(problem),
            ..Self::pass()
        }
    }

    /// Add a measurement.
    #[must_use]
    pub fn with_observation(
        mut self,
        measurement: impl Into<String>,
        value: f64,
        unit: impl Into<String>,
    ) -> Self {
        self.observations.push(Observation {
            measurement: measurement.into(),
            value,
            unit: unit.into(),
        });
        self
    }

    /// Attach an internal detail (scrubbed of credentials here).
    #[must_use]
    pub fn with_detail(mut self, detail: impl AsRef<str>) -> Self {
        self.detail = Some(scrub(detail.as_ref()));
        self
    }

    /// Raise the status to `status` with `problem` when it is worse than the current one.
    #[must_use]
    pub fn escalate(mut self, status: Status, problem: Problem) -> Self {
        if status > self.status {
            self.status = status;
            self.problem = Some(problem);
        }
        self
    }

    /// The first observation named `measurement`.
    pub fn observation(&self, measurement: &str) -> Option<f64> {
        self.observations
            .iter()
            .find(|o| o.measurement == measurement)
            .map(|o| o.value)
    }
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
