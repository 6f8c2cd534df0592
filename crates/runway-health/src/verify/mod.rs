//! Post-deploy verification: immediate checks, then a monitoring window against SLO thresholds.
//!
//! [`Verification`] runs the runbook's two phases. Immediate (0 to 5 minutes): the health endpoint answers
//! 200, ping answers, key workflows work as HTTP scenarios, and the logs show no error spike compared with
//! the time before the deploy ([`ErrorSpike`], through [`LogSource`]). Monitoring (5 to 30 minutes): the
//! [`MetricsSource`] is read every interval and [`evaluate`]d against [`Thresholds`] until the window ends
//! or a threshold is breached ([`Monitor`] is the pure state machine; [`Verification::run`] drives it).
//!
//! [`Verification`] also implements the rollout engine's [`Analysis`] hook: one immediate pass plus one
//! evaluation of the context's window, without waiting.

mod slo;

pub use slo::{
    Criterion, Evaluation, Metric, Monitor, MonitorAction, MonitorPlan, Outcome, Thresholds,
    Verdict, evaluate,
};

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use runway_core::event::HealthEvent;
use runway_core::{
    Analysis, AnalysisContext, AnalysisVerdict, Clock, Emitter, EnvironmentId, LogLevel, LogQuery,
    LogScope, LogSource, MetricsQuery, MetricsSource, ReleaseId, SystemClock, TimeRange, UnitId,
};
use serde::{Deserialize, Serialize};

use crate::check::Check;
use crate::checker::HealthChecker;
use crate::checks::HttpCheck;
use crate::error::HealthError;
use crate::report::Report;
use crate::status::Status;

/// How error lines are recognised in the logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorMatch {
    /// Lines at level error.
    Level,
    /// Lines containing this text (the runbook's `filter @message like /ERROR/`).
    Contains(String),
}

/// The "no error spike in logs" rule: errors since the deploy, per minute, must not exceed `ratio` times
/// the rate of the `baseline` before it, once there are at least `min_errors` of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorSpike {
    /// Where to read.
    pub scope: LogScope,
    /// Which lines are errors.
    pub matcher: ErrorMatch,
    /// Fewer errors than this never count as a spike.
    pub min_errors: usize,
    /// Allowed factor over the baseline rate.
    pub ratio: f64,
    /// How far before the deploy the baseline reaches.
    pub baseline: Duration,
    /// Stop counting at this many lines per window.
    pub max_lines: usize,
}

impl ErrorSpike {
    /// Error-level lines of `scope`, at least 5, at most twice the rate of the hour before the deploy.
    pub fn new(scope: LogScope) -> Self {
        ErrorSpike {
            scope,
            matcher: ErrorMatch::Level,
            min_errors: 5,
            ratio: 2.0,
            baseline: Duration::from_secs(3600),
            max_lines: 10_000,
        }
    }

    /// Recognise errors by this text instead of by level.
    #[must_use]
    pub fn with_contains(mut self, text: impl Into<String>) -> Self {
        self.matcher = ErrorMatch::Contains(text.into());
        self
    }

    /// Set the minimum error count.
    #[must_use]
    pub fn with_min_errors(mut self, n: usize) -> Self {
        self.min_errors = n;
        self
    }

    /// Set the allowed factor over the baseline.
    #[must_use]
    pub fn with_ratio(mut self, ratio: f64) -> Self {
        self.ratio = ratio;
        self
    }

    /// Set the baseline length.
    #[must_use]
    pub fn with_baseline(mut self, baseline: Duration) -> Self {
        self.baseline = baseline;
        self
    }

    fn query(&self, range: TimeRange) -> LogQuery {
        let q = LogQuery::new(self.scope.clone(), range).with_limit(self.max_lines);
        match &self.matcher {
            ErrorMatch::Level => q.with_min_level(LogLevel::Error),
            ErrorMatch::Contains(t) => q.with_contains(t.clone()),
        }
    }

    /// Judge counts: `after` errors over `after_len` versus `before` over the baseline.
    pub fn judge(&self, before: usize, after: usize, after_len: Duration) -> bool {
        if after < self.min_errors {
            return false;
        }
        let per_min = |n: usize, d: Duration| n as f64 / (d.as_secs_f64() / 60.0).max(1.0 / 60.0);
        per_min(after, after_len) > self.ratio * per_min(before, self.baseline)
    }
}

/// The result of the error-spike rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpikeResult {
    /// Errors in the baseline before the deploy.
    pub before: usize,
    /// Errors since the deploy.
    pub after: usize,
    /// Whether that is a spike.
    pub spike: bool,
}

/// The immediate phase's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImmediateReport {
    /// The checks (health, ping, scenarios, custom).
    pub checks: Report,
    /// The error-spike rule, when configured.
    pub errors: Option<SpikeResult>,
}

impl ImmediateReport {
    /// Whether the phase passed: no check failed and no error spike.
    pub fn passed(&self) -> bool {
        self.checks.status != Status::Fail && !self.errors.as_ref().is_some_and(|e| e.spike)
    }

    /// A one-line explanation of a failure.
    pub fn reason(&self) -> String {
        let mut parts: Vec<String> = self
            .checks
            .components
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| {
                format!(
                    "{}: {}",
                    c.name,
                    c.output().unwrap_or_else(|| "failed".into())
                )
            })
            .collect();
        if let Some(e) = self.errors.as_ref().filter(|e| e.spike) {
            parts.push(format!(
                "error spike in logs: {} since deploy vs {} before",
                e.after, e.before
            ));
        }
        if parts.is_empty() {
            "immediate checks passed".into()
        } else {
            parts.join("; ")
        }
    }
}

/// What a verification looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyScope {
    /// The environment.
    pub environment: EnvironmentId,
    /// Only requests served by this release.
    pub release: Option<ReleaseId>,
    /// Only requests served by these units (empty: all).
    pub units: Vec<UnitId>,
    /// When the release went live.
    pub deployed_at: DateTime<Utc>,
}

impl VerifyScope {
    /// All of `environment` since `deployed_at`.
    pub fn new(environment: impl Into<EnvironmentId>, deployed_at: DateTime<Utc>) -> Self {
        VerifyScope {
            environment: environment.into(),
            release: None,
            units: Vec::new(),
            deployed_at,
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

/// A whole verification's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationReport {
    /// The immediate phase.
    pub immediate: ImmediateReport,
    /// The monitoring phase (absent when the immediate phase failed or no metrics source is set).
    pub monitoring: Option<Evaluation>,
    /// The overall verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
}

/// Post-deploy verification (see the [module docs](self)).
#[derive(Debug)]
pub struct Verification {
    checks: Option<HealthChecker>,
    errors: Option<(Arc<dyn LogSource>, ErrorSpike)>,
    metrics: Option<Arc<dyn MetricsSource>>,
    plan: MonitorPlan,
    clock: Arc<dyn Clock>,
    emitter: Option<Emitter>,
}

/// Builds a [`Verification`].
#[derive(Debug)]
pub struct VerificationBuilder {
    checks: Vec<Arc<dyn Check>>,
    errors: Option<(Arc<dyn LogSource>, ErrorSpike)>,
    metrics: Option<Arc<dyn MetricsSource>>,
    plan: MonitorPlan,
    clock: Arc<dyn Clock>,
    emitter: Option<Emitter>,
    pending: Vec<Result<HttpCheck, HealthError>>,
}

impl Default for VerificationBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl VerificationBuilder {
    /// Nothing to check yet, the default [`MonitorPlan`].
    pub fn new() -> Self {
        VerificationBuilder {
            checks: Vec::new(),
            errors: None,
            metrics: None,
            plan: MonitorPlan::default(),
            clock: Arc::new(SystemClock),
            emitter: None,
            pending: Vec::new(),
        }
    }

    /// The health endpoint must answer 200 (check `health`).
    #[must_use]
    pub fn with_health_url(mut self, url: impl Into<String>) -> Self {
        self.pending
            .push(HttpCheck::builder("health", url).expect_status(200).build());
        self
    }

    /// The ping endpoint must answer 2xx (check `ping`).
    #[must_use]
    pub fn with_ping_url(mut self, url: impl Into<String>) -> Self {
        self.pending.push(HttpCheck::builder("ping", url).build());
        self
    }

    /// A key workflow as an HTTP scenario (method, body, expected status, JSON assertions).
    #[must_use]
    pub fn with_scenario(mut self, scenario: HttpCheck) -> Self {
        self.checks.push(Arc::new(scenario));
        self
    }

    /// Any other immediate check.
    #[must_use]
    pub fn with_check(mut self, check: impl Check) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// The error-spike rule over `logs`.
    #[must_use]
    pub fn with_error_spike(mut self, logs: Arc<dyn LogSource>, rule: ErrorSpike) -> Self {
        self.errors = Some((logs, rule));
        self
    }

    /// Where the monitoring window reads metrics.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricsSource>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The monitoring plan.
    #[must_use]
    pub fn with_plan(mut self, plan: MonitorPlan) -> Self {
        self.plan = plan;
        self
    }

    /// The thresholds (keeping the window and interval).
    #[must_use]
    pub fn with_thresholds(mut self, thresholds: Thresholds) -> Self {
        self.plan.thresholds = thresholds;
        self
    }

    /// The clock for metric windows and timestamps.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Emit [`HealthEvent`]s for checks and phases.
    #[must_use]
    pub fn with_emitter(mut self, emitter: Emitter) -> Self {
        self.emitter = Some(emitter);
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<Verification, HealthError> {
        self.plan.thresholds.validate()?;
        if self.plan.interval.is_zero() {
            return Err(HealthError::config(
                "monitor plan",
                "interval must be non-zero",
            ));
        }
        let mut checks = Vec::new();
        for c in self.pending {
            checks.push(Arc::new(c?) as Arc<dyn Check>);
        }
        checks.extend(self.checks);
        let checker = if checks.is_empty() {
            None
        } else {
            let mut b = HealthChecker::builder()
                .with_probe_timeout(Duration::from_secs(600))
                .with_clock(self.clock.clone());
            if let Some(em) = &self.emitter {
                b = b.with_emitter(em.clone());
            }
            for c in checks {
                b = b.with_shared_check(c);
            }
            Some(b.build()?)
        };
        Ok(Verification {
            checks: checker,
            errors: self.errors,
            metrics: self.metrics,
            plan: self.plan,
            clock: self.clock,
            emitter: self.emitter,
        })
    }
}

fn minus(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

async fn count(logs: &dyn LogSource, q: &LogQuery) -> Result<usize, HealthError> {
    let mut stream = logs.query(q).await?;
    let mut n = 0;
    while let Some(entry) = stream.next().await {
        let entry = entry?;
        if q.matches(&entry) {
            n += 1;
        }
        if q.limit.is_some_and(|l| n >= l) {
            break;
        }
    }
    Ok(n)
}

impl Verification {
    /// A builder.
    pub fn builder() -> VerificationBuilder {
        VerificationBuilder::new()
    }

    /// The monitoring plan.
    pub fn plan(&self) -> &MonitorPlan {
        &self.plan
    }

    async fn emit(&self, phase: &str, verdict: Verdict, reason: Option<String>) {
        if let Some(em) = &self.emitter {
            let ev = HealthEvent::Verification {
                phase: phase.into(),
                verdict: verdict.as_str().into(),
                reason,
            };
            if let Err(e) = em.emit(ev).await {
                tracing::warn!(error = %e, "verification event not delivered");
            }
        }
    }

    /// Run the immediate phase: every check once, and the error-spike rule since `deployed_at`.
    pub async fn immediate(
        &self,
        deployed_at: DateTime<Utc>,
    ) -> Result<ImmediateReport, HealthError> {
        let now = self.clock.now();
        let checks = match &self.checks {
            Some(c) => c.run().await,
            None => Report::new(Vec::new(), now, Duration::ZERO, Default::default()),
        };
        let errors = match &self.errors {
            None => None,
            Some((logs, rule)) => {
                let before_range = TimeRange {
                    start: minus(deployed_at, rule.baseline),
                    end: deployed_at,
                };
                let end = now.max(deployed_at);
                let after_range = TimeRange {
                    start: deployed_at,
                    end: end + chrono::Duration::milliseconds(1),
                };
                let before = count(logs.as_ref(), &rule.query(before_range)).await?;
                let after = count(logs.as_ref(), &rule.query(after_range)).await?;
                let spike = rule.judge(before, after, after_range.duration());
                Some(SpikeResult {
                    before,
                    after,
                    spike,
                })
            }
        };
        let report = ImmediateReport { checks, errors };
        let verdict = if report.passed() {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        self.emit(
            "immediate",
            verdict,
            (verdict != Verdict::Pass).then(|| report.reason()),
        )
        .await;
        Ok(report)
    }

    /// Evaluate the metrics of `scope` from its deploy time to now, once.
    pub async fn evaluate_now(&self, scope: &VerifyScope) -> Evaluation {
        self.evaluate_until(scope, self.clock.now()).await
    }

    async fn evaluate_until(&self, scope: &VerifyScope, now: DateTime<Utc>) -> Evaluation {
        let Some(metrics) = &self.metrics else {
            return Evaluation::unavailable("no metrics source configured");
        };
        let range = TimeRange {
            start: scope.deployed_at,
            end: now.max(scope.deployed_at),
        };
        let mut q =
            MetricsQuery::new(scope.environment.clone(), range).with_units(scope.units.clone());
        if let Some(r) = &scope.release {
            q = q.with_release(r.clone());
        }
        let requests = match metrics.request_metrics(&q).await {
            Ok(r) => r,
            Err(e) => return Evaluation::unavailable(e.kind().as_str()),
        };
        // Resource metrics are optional: a source without them leaves those thresholds unmeasured.
        let resources = metrics.resource_metrics(&scope.environment).await.ok();
        evaluate(&requests, resources.as_ref(), &self.plan.thresholds)
    }

    /// Run the whole verification: the immediate phase, then (when it passed and a metrics source is set)
    /// the monitoring window, sleeping between reads with `tokio::time`.
    pub async fn run(&self, scope: &VerifyScope) -> Result<VerificationReport, HealthError> {
        let immediate = self.immediate(scope.deployed_at).await?;
        if !immediate.passed() {
            let reason = immediate.reason();
            return Ok(VerificationReport {
                immediate,
                monitoring: None,
                verdict: Verdict::Fail,
                reason,
            });
        }
        if self.metrics.is_none() {
            return Ok(VerificationReport {
                immediate,
                monitoring: None,
                verdict: Verdict::Pass,
                reason: "immediate checks passed; no metrics source for monitoring".into(),
            });
        }
        let mut monitor = Monitor::new(self.plan.clone());
        let opened = tokio::time::Instant::now();
        let mut action = monitor.start();
        let evaluation = loop {
            match action {
                MonitorAction::SampleAfter(d) => {
                    tokio::time::sleep(d).await;
                    let e = self.evaluate_now(scope).await;
                    action = monitor.step(opened.elapsed(), e);
                }
                MonitorAction::Finish(e) => break e,
            }
        };
        let reason = evaluation.reason();
        self.emit(
            "monitoring",
            evaluation.verdict,
            (evaluation.verdict != Verdict::Pass).then(|| reason.clone()),
        )
        .await;
        Ok(VerificationReport {
            immediate,
            verdict: evaluation.verdict,
            reason,
            monitoring: Some(evaluation),
        })
    }
}

#[async_trait]
impl Analysis for Verification {
    /// One immediate pass (since `now - ctx.window`) and one evaluation of the new release's requests on
    /// the updated units over `ctx.window`.
    async fn analyze(&self, ctx: &AnalysisContext) -> runway_core::Result<AnalysisVerdict> {
        let now = self.clock.now();
        let deployed_at = minus(now, ctx.window);
        let immediate = self.immediate(deployed_at).await?;
        if !immediate.passed() {
            return Ok(AnalysisVerdict::Fail {
                reason: immediate.reason(),
            });
        }
        if self.metrics.is_none() {
            return Ok(AnalysisVerdict::Pass);
        }
        let scope = VerifyScope::new(ctx.environment.clone(), deployed_at)
            .with_release(ctx.release.clone())
            .with_units(ctx.updated_units.clone());
        let e = self.evaluate_until(&scope, now).await;
        self.emit(
            "analysis",
            e.verdict,
            (e.verdict != Verdict::Pass).then(|| e.reason()),
        )
        .await;
        Ok(e.to_analysis_verdict())
    }
}
