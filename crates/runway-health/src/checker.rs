//! [`HealthChecker`]: runs a set of checks concurrently with timeouts, flap protection and a result cache.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use runway_core::event::HealthEvent;
use runway_core::{Clock, Emitter, SystemClock};
use tokio::time::Instant;

use crate::check::{Check, CheckResult, Problem};
use crate::error::HealthError;
use crate::flap::{FlapPolicy, FlapState};
use crate::report::{ComponentReport, Report, ServiceInfo};
use crate::status::{HttpMapping, Status};

/// The default probe timeout: every check's own timeout must be shorter.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

struct Entry {
    check: Arc<dyn Check>,
    flap: Mutex<FlapState>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.check.fmt(f)
    }
}

/// Runs a set of [`Check`]s: all at once, each within its own timeout, through flap protection, with the
/// report cached for a TTL (one refresh at a time; concurrent callers share it).
///
/// ```
/// use std::time::Duration;
/// use runway_health::{FnCheck, CheckResult, HealthChecker, Status, Exposure};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let checker = HealthChecker::builder()
///     .with_check(FnCheck::new("cache", || async { CheckResult::pass() }))
///     .with_cache_ttl(Duration::from_secs(2))
///     .build()
///     .unwrap();
/// let report = checker.report().await;
/// assert_eq!(report.status, Status::Pass);
/// assert_eq!(report.to_runbook_json(Exposure::Public)["checks"]["cache"], "healthy");
/// # }
/// ```
#[derive(Debug)]
pub struct HealthChecker {
    entries: Vec<Entry>,
    policy: FlapPolicy,
    probe_timeout: Duration,
    cache_ttl: Option<Duration>,
    cache: tokio::sync::Mutex<Option<(Instant, Arc<Report>)>>,
    clock: Arc<dyn Clock>,
    emitter: Option<Emitter>,
    info: ServiceInfo,
    mapping: HttpMapping,
}

/// Builds a [`HealthChecker`].
#[derive(Debug)]
pub struct HealthCheckerBuilder {
    checks: Vec<Arc<dyn Check>>,
    policy: FlapPolicy,
    probe_timeout: Duration,
    cache_ttl: Option<Duration>,
    clock: Arc<dyn Clock>,
    emitter: Option<Emitter>,
    info: ServiceInfo,
    mapping: HttpMapping,
}

impl Default for HealthCheckerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthCheckerBuilder {
    /// No checks, no flap protection, no cache, a 5 s probe timeout.
    pub fn new() -> Self {
        HealthCheckerBuilder {
            checks: Vec::new(),
            policy: FlapPolicy::default(),
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            cache_ttl: None,
            clock: Arc::new(SystemClock),
            emitter: None,
            info: ServiceInfo::default(),
            mapping: HttpMapping::default(),
        }
    }

    /// The runbook's `/health` checks from the environment: `DATABASE_URL` -> `database`
    /// ([`PostgresCheck`](crate::PostgresCheck)), `REDIS_URL` -> `redis` ([`RedisCheck`](crate::RedisCheck)),
    /// and with `CELERY_QUEUES` (comma-separated) -> `queue` ([`QueueDepthCheck`](crate::QueueDepthCheck))
    /// on `CELERY_BROKER_URL` or `REDIS_URL`. Unset variables add nothing.
    pub fn from_env() -> Result<Self, HealthError> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// [`from_env`](Self::from_env) with the variables from `get` (the test seam).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, HealthError> {
        use secrecy::SecretString;
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut b = Self::new();
        if let Some(url) = get("DATABASE_URL") {
            b = b.with_check(crate::PostgresCheck::connect(
                "database",
                &SecretString::from(url),
            )?);
        }
        let redis = get("REDIS_URL");
        if let Some(url) = &redis {
            b = b.with_check(crate::RedisCheck::new(
                "redis",
                &SecretString::from(url.clone()),
            )?);
        }
        if let Some(queues) = get("CELERY_QUEUES") {
            let broker = get("CELERY_BROKER_URL").or(redis).ok_or_else(|| {
                HealthError::config("CELERY_QUEUES", "needs CELERY_BROKER_URL or REDIS_URL")
            })?;
            let names: Vec<String> = queues
                .split(',')
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(str::to_owned)
                .collect();
            b = b.with_check(
                crate::QueueDepthCheck::new("queue", &SecretString::from(broker))?
                    .with_queues(names),
            );
        }
        Ok(b)
    }

    /// Add a check.
    #[must_use]
    pub fn with_check(mut self, check: impl Check) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// Add a shared check.
    #[must_use]
    pub fn with_shared_check(mut self, check: Arc<dyn Check>) -> Self {
        self.checks.push(check);
        self
    }

    /// Flap protection for every check.
    #[must_use]
    pub fn with_flap_policy(mut self, policy: FlapPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The timeout of whoever probes this service (a load balancer, Kubernetes' `timeoutSeconds`): every
    /// check's timeout must be shorter, so a slow dependency yields a report rather than a probe timeout.
    #[must_use]
    pub fn with_probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// Serve a report for up to `ttl` before running the checks again.
    #[must_use]
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = Some(ttl);
        self
    }

    /// The clock for report timestamps.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Emit a [`HealthEvent::Check`] per check and fresh run.
    #[must_use]
    pub fn with_emitter(mut self, emitter: Emitter) -> Self {
        self.emitter = Some(emitter);
        self
    }

    /// Service-level fields of rendered reports.
    #[must_use]
    pub fn with_service_info(mut self, info: ServiceInfo) -> Self {
        self.info = info;
        self
    }

    /// The HTTP codes to serve reports with.
    #[must_use]
    pub fn with_http_mapping(mut self, mapping: HttpMapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// Validate and build: names non-empty, unique and without `:`; each timeout non-zero and shorter
    /// than the probe timeout; thresholds at least 1; a valid HTTP mapping.
    pub fn build(self) -> Result<HealthChecker, HealthError> {
        self.policy.validate()?;
        self.mapping.validate()?;
        let mut seen = std::collections::HashSet::new();
        for c in &self.checks {
            let name = c.name();
            if name.is_empty() || name.contains(':') || name.chars().any(char::is_control) {
                return Err(HealthError::config(
                    "check name",
                    format!("{name:?} must be non-empty, without ':' or control characters"),
                ));
            }
            if !seen.insert(name.to_owned()) {
                return Err(HealthError::config(
                    "check name",
                    format!("{name:?} is used twice"),
                ));
            }
            let t = c.timeout();
            if t.is_zero() || t >= self.probe_timeout {
                return Err(HealthError::config(
                    "check timeout",
                    format!(
                        "{name}: {t:?} must be non-zero and shorter than the probe timeout {:?}",
                        self.probe_timeout
                    ),
                ));
            }
        }
        Ok(HealthChecker {
            entries: self
                .checks
                .into_iter()
                .map(|check| Entry {
                    check,
                    flap: Mutex::new(FlapState::new()),
                })
                .collect(),
            policy: self.policy,
            probe_timeout: self.probe_timeout,
            cache_ttl: self.cache_ttl,
            cache: tokio::sync::Mutex::new(None),
            clock: self.clock,
            emitter: self.emitter,
            info: self.info,
            mapping: self.mapping,
        })
    }
}

/// Run one check within its timeout, turning a timeout or a panic into a failed result.
pub async fn run_check(check: &dyn Check) -> (CheckResult, Duration) {
    let started = Instant::now();
    let timeout = check.timeout();
    let fut = AssertUnwindSafe(check.check()).catch_unwind();
    let result = match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => CheckResult::fail(Problem::Panicked),
        Err(_) => CheckResult::fail(Problem::Timeout {
            after_ms: timeout.as_millis() as u64,
        }),
    };
    (result, started.elapsed())
}

impl HealthChecker {
    /// A builder.
    pub fn builder() -> HealthCheckerBuilder {
        HealthCheckerBuilder::new()
    }

    /// The probe timeout the checks were validated against.
    pub fn probe_timeout(&self) -> Duration {
        self.probe_timeout
    }

    /// The HTTP codes reports are served with.
    pub fn http_mapping(&self) -> HttpMapping {
        self.mapping
    }

    /// The names of the checks, in order.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.check.name()).collect()
    }

    /// The latest report: the cached one while it is younger than the TTL, otherwise a fresh run.
    /// Concurrent callers during a refresh wait for that refresh instead of starting their own.
    pub async fn report(&self) -> Arc<Report> {
        let Some(ttl) = self.cache_ttl else {
            return Arc::new(self.run().await);
        };
        let mut slot = self.cache.lock().await;
        if let Some((at, report)) = slot.as_ref()
            && at.elapsed() < ttl
        {
            return report.clone();
        }
        let report = Arc::new(self.run().await);
        *slot = Some((Instant::now(), report.clone()));
        report
    }

    /// Run every check now (ignoring the cache, but updating flap state).
    pub async fn run(&self) -> Report {
        let started = Instant::now();
        let time = self.clock.now();
        let runs = self.entries.iter().map(|e| async move {
            let at = self.clock.now();
            let (result, duration) = run_check(e.check.as_ref()).await;
            (e, result, duration, at)
        });
        let results = futures::future::join_all(runs).await;
        let mut components = Vec::with_capacity(results.len());
        for (e, result, duration, at) in results {
            let (status, hold) = {
                let mut flap = e.flap.lock().unwrap_or_else(|p| p.into_inner());
                flap.step(&self.policy, result.status)
            };
            let critical = e.check.critical();
            let status = if !critical && status == Status::Fail {
                Status::Warn
            } else {
                status
            };
            components.push(ComponentReport {
                name: e.check.name().to_owned(),
                component_type: e.check.component_type(),
                status,
                raw_status: result.status,
                critical,
                problem: result.problem,
                hold,
                observations: result.observations,
                detail: result.detail,
                duration,
                time: at,
            });
        }
        let report = Report::new(components, time, started.elapsed(), self.info.clone());
        if let Some(em) = &self.emitter {
            for c in &report.components {
                let ev = HealthEvent::Check {
                    name: c.name.clone(),
                    status: c.status.as_str().to_owned(),
                    detail: c.output(),
                };
                if let Err(err) = em.emit(ev).await {
                    tracing::warn!(error = %err, "health event not delivered");
                }
            }
        }
        for c in &report.components {
            if c.status != Status::Pass {
                tracing::debug!(check = %c.name, status = %c.status, output = ?c.output(), detail = ?c.detail, "health check not passing");
            }
        }
        report
    }
}

/// A check from a closure, for one-off checks and tests.
pub struct FnCheck<F> {
    name: String,
    timeout: Duration,
    critical: bool,
    f: F,
}

impl<F> std::fmt::Debug for FnCheck<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnCheck")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl<F, Fut> FnCheck<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = CheckResult> + Send + 'static,
{
    /// A critical check named `name` with the default timeout.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        FnCheck {
            name: name.into(),
            timeout: crate::check::DEFAULT_CHECK_TIMEOUT,
            critical: true,
            f,
        }
    }

    /// Set the timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Make a failure only a warning for the service.
    #[must_use]
    pub fn non_critical(mut self) -> Self {
        self.critical = false;
        self
    }
}

#[async_trait::async_trait]
impl<F, Fut> Check for FnCheck<F>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = CheckResult> + Send + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn critical(&self) -> bool {
        self.critical
    }
    async fn check(&self) -> CheckResult {
        (self.f)().await
    }
}
