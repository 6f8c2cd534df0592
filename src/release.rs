//! The release procedure: the runbook's deployment order as one call.
//!
//! [`Release::run`] performs, in order, each step a typed event and each failure a typed outcome:
//!
//! 1. **preflight** (optional): the pre-deployment checklist ([`crate::preflight`]); a blocking finding stops
//!    the release before anything changes;
//! 2. **lock**: one release per environment at a time ([`runway_rollout::DeployLock`]); a held lock stops the
//!    release with the holder's name and age;
//! 3. **notify started**;
//! 4. **backup**: take a backup and prove it with a restore drill (when configured), then the freshness gate:
//!    the newest *verified* backup must be younger than the threshold (required for production); a stale
//!    backup stops a production release before any migration runs;
//! 5. **migrate** before code: lint (errors block), then apply pending migrations; a failed migration means no
//!    code is deployed;
//! 6. **rollout** with the configured strategy, health-gating every batch and rolling back automatically on a
//!    critical trigger ([`runway_rollout::Rollout`]);
//! 7. **verify**: immediate checks and a monitoring window against the runbook's thresholds
//!    ([`runway_health::verify::Verification`]); a failed verification rolls the release back;
//! 8. **notify** succeeded (with duration and health) or failed (with the error and the rollback).
//!
//! The lock is released on every exit path. The rollout's events go to the journal when one is configured,
//! so a crashed deployer can resume ([`runway_rollout::RolloutBuilder::resume`]).

use std::sync::Arc;
use std::time::Duration;

use runway_backup::{Backups, GateOutcome, PgUrl, VerifyLevel};
use runway_core::event::ReleaseEvent;
use runway_core::{
    Clock, Emitter, Environment, EnvironmentKind, EventSink, HealthProbe, Notification,
    NotificationKind, Notifier, Platform, Release as ReleaseSpec, ReleaseId, RollbackStatus,
};
use runway_health::verify::{Verdict, Verification, VerifyScope};
use runway_migrate::Migrator;
use runway_rollout::{DeployLock, Journal, Outcome, Rollout, RolloutConfig};
use serde::Serialize;

/// A pre-release gate (the preflight checklist implements it): nothing changes when it does not pass.
#[async_trait::async_trait]
pub trait Gate: Send + Sync + std::fmt::Debug + 'static {
    /// Run the gate.
    async fn check(&self) -> GateVerdict;
}

#[async_trait::async_trait]
impl Gate for crate::preflight::Preflight {
    /// The pre-deployment checklist: blocking findings stop the release.
    async fn check(&self) -> GateVerdict {
        let report = self.run().await;
        let mut summary = format!(
            "{} error(s), {} warning(s) in {} files",
            report.errors(),
            report.warnings(),
            report.files_scanned
        );
        if let Some(first) = report.findings.iter().find(|f| f.blocks()) {
            summary.push_str(&format!(" (first: {})", first.message));
        }
        GateVerdict {
            passed: report.passed(),
            summary,
        }
    }
}

/// A gate's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateVerdict {
    /// Whether the release may go on.
    pub passed: bool,
    /// One line for the report.
    pub summary: String,
}

/// The database a backup step protects.
#[derive(Debug, Clone)]
pub enum BackupTarget {
    /// A PostgreSQL database (pg_dump custom format).
    Postgres(PgUrl),
    /// A SQLite file (the embedded default).
    Sqlite(std::path::PathBuf),
}

/// What the backup step does.
#[derive(Debug, Clone)]
pub struct BackupStep {
    /// Where backups are kept and verified.
    pub backups: Backups,
    /// The database to back up.
    pub target: BackupTarget,
    /// Take a new backup (and drill it) before migrating; when false, only the freshness gate runs.
    pub take: bool,
    /// The newest verified backup must be younger than this.
    pub max_age: Duration,
}

/// What the migrate step does.
#[derive(Debug)]
pub struct MigrateStep {
    /// The runner.
    pub migrator: Migrator,
    /// Folders to lint before applying (PostgreSQL migrations); empty skips linting.
    pub lint_dirs: Vec<std::path::PathBuf>,
}

/// Which step a release stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The pre-deployment checklist.
    Preflight,
    /// The deploy lock.
    Lock,
    /// Backup and freshness gate.
    Backup,
    /// Lint and migrations.
    Migrate,
    /// The rollout.
    Rollout,
    /// Post-deploy verification.
    Verify,
    /// Notifications.
    Notify,
}

impl Step {
    /// The step's name.
    pub fn name(self) -> &'static str {
        match self {
            Step::Preflight => "preflight",
            Step::Lock => "lock",
            Step::Backup => "backup",
            Step::Migrate => "migrate",
            Step::Rollout => "rollout",
            Step::Verify => "verify",
            Step::Notify => "notify",
        }
    }
}

/// How a release ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReleaseOutcome {
    /// Everything passed; every unit runs the new release.
    Succeeded,
    /// The new release was rolled back (by the rollout's automatic rollback or after a failed verification).
    RolledBack {
        /// The step that triggered it.
        step: Step,
        /// Why.
        reason: String,
    },
    /// A step failed; what changed is described in the report (a failed migration deploys no code).
    Failed {
        /// The step.
        step: Step,
        /// Why (no secrets).
        error: String,
    },
    /// The release did not start changing anything: a gate said no.
    Blocked {
        /// The gate.
        step: Step,
        /// Why.
        reason: String,
    },
}

impl ReleaseOutcome {
    /// `succeeded`, `rolled_back`, `failed` or `blocked`.
    pub fn name(&self) -> &'static str {
        match self {
            ReleaseOutcome::Succeeded => "succeeded",
            ReleaseOutcome::RolledBack { .. } => "rolled_back",
            ReleaseOutcome::Failed { .. } => "failed",
            ReleaseOutcome::Blocked { .. } => "blocked",
        }
    }

    /// Whether the release succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, ReleaseOutcome::Succeeded)
    }

    /// The process exit code a CLI should use: 0 succeeded, 1 rolled back, 2 failed, 3 blocked.
    pub fn exit_code(&self) -> i32 {
        match self {
            ReleaseOutcome::Succeeded => 0,
            ReleaseOutcome::RolledBack { .. } => 1,
            ReleaseOutcome::Failed { .. } => 2,
            ReleaseOutcome::Blocked { .. } => 3,
        }
    }
}

/// One step's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    /// The step.
    pub step: Step,
    /// Whether it passed (a skipped step passes).
    pub ok: bool,
    /// One line.
    pub summary: String,
    /// How long it took.
    pub duration: Duration,
}

/// What [`Release::run`] returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseReport {
    /// How it ended.
    pub outcome: ReleaseOutcome,
    /// Each step that ran, in order.
    pub steps: Vec<StepReport>,
    /// The rollout's own report, when the rollout ran.
    pub rollout: Option<runway_rollout::Report>,
    /// The whole release's duration.
    pub duration: Duration,
}

impl ReleaseReport {
    /// The report of `step`, when it ran.
    pub fn step(&self, step: Step) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.step == step)
    }
}

/// Errors building a release.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReleaseError {
    /// A required component is missing.
    #[error("release is missing its {0}")]
    Missing(&'static str),
    /// A production release needs a backup step.
    #[error("a production release needs a backup step (Release::builder().with_backup(..))")]
    ProductionWithoutBackup,
}

impl ReleaseError {
    /// The error's kind.
    pub fn kind(&self) -> runway_core::ErrorKind {
        runway_core::ErrorKind::InvalidInput
    }
}

/// Builds a [`Release`].
#[derive(Debug, Default)]
pub struct ReleaseBuilder {
    environment: Option<Environment>,
    release: Option<ReleaseSpec>,
    platform: Option<Arc<dyn Platform>>,
    probe: Option<Arc<dyn HealthProbe>>,
    notifier: Option<Arc<dyn Notifier>>,
    sink: Option<Arc<dyn EventSink>>,
    lock: Option<Arc<dyn DeployLock>>,
    journal: Option<Arc<dyn Journal>>,
    rollout: RolloutConfig,
    preflight: Option<Arc<dyn Gate>>,
    backup: Option<BackupStep>,
    migrate: Option<MigrateStep>,
    verification: Option<Verification>,
    owner: Option<String>,
    clock: Option<Arc<dyn Clock>>,
}

impl ReleaseBuilder {
    /// The target environment (its kind decides whether a backup is required).
    #[must_use]
    pub fn with_environment(mut self, env: Environment) -> Self {
        self.environment = Some(env);
        self
    }

    /// The release to deploy.
    #[must_use]
    pub fn with_release(mut self, release: ReleaseSpec) -> Self {
        self.release = Some(release);
        self
    }

    /// The platform to deploy on.
    #[must_use]
    pub fn with_platform(mut self, platform: Arc<dyn Platform>) -> Self {
        self.platform = Some(platform);
        self
    }

    /// The per-unit health probe the rollout gates on.
    #[must_use]
    pub fn with_probe(mut self, probe: Arc<dyn HealthProbe>) -> Self {
        self.probe = Some(probe);
        self
    }

    /// Where notifications go.
    #[must_use]
    pub fn with_notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Where every event goes (progress display, JSON output).
    #[must_use]
    pub fn with_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The deploy lock.
    #[must_use]
    pub fn with_lock(mut self, lock: Arc<dyn DeployLock>) -> Self {
        self.lock = Some(lock);
        self
    }

    /// The rollout journal.
    #[must_use]
    pub fn with_journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The rollout strategy, gates and deadlines.
    #[must_use]
    pub fn with_rollout(mut self, config: RolloutConfig) -> Self {
        self.rollout = config;
        self
    }

    /// Run the pre-deployment checklist (or any [`Gate`]) first.
    #[must_use]
    pub fn with_preflight(mut self, preflight: Arc<dyn Gate>) -> Self {
        self.preflight = Some(preflight);
        self
    }

    /// The clock for timestamps (events, the verification window); the platform's clock for a simulator.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Back up (and gate on backup freshness) before migrating.
    #[must_use]
    pub fn with_backup(mut self, step: BackupStep) -> Self {
        self.backup = Some(step);
        self
    }

    /// Lint and apply migrations before the code.
    #[must_use]
    pub fn with_migrations(mut self, step: MigrateStep) -> Self {
        self.migrate = Some(step);
        self
    }

    /// Verify after the rollout; a failure rolls back.
    #[must_use]
    pub fn with_verification(mut self, verification: Verification) -> Self {
        self.verification = Some(verification);
        self
    }

    /// The lock owner shown to others (default `$USER@$HOSTNAME (pid N)`).
    #[must_use]
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Check the parts and build.
    pub fn build(self) -> Result<Release, ReleaseError> {
        let environment = self
            .environment
            .ok_or(ReleaseError::Missing("environment"))?;
        if environment.kind == EnvironmentKind::Production && self.backup.is_none() {
            return Err(ReleaseError::ProductionWithoutBackup);
        }
        Ok(Release {
            release: self.release.ok_or(ReleaseError::Missing("release"))?,
            platform: self.platform.ok_or(ReleaseError::Missing("platform"))?,
            probe: self.probe.ok_or(ReleaseError::Missing("health probe"))?,
            notifier: self.notifier.ok_or(ReleaseError::Missing("notifier"))?,
            sink: self
                .sink
                .unwrap_or_else(|| Arc::new(runway_core::event::NullSink)),
            lock: self.lock.ok_or(ReleaseError::Missing("deploy lock"))?,
            journal: self.journal,
            rollout: self.rollout,
            preflight: self.preflight,
            backup: self.backup,
            migrate: self.migrate,
            verification: self.verification,
            owner: self
                .owner
                .unwrap_or_else(runway_rollout::lock::default_owner),
            clock: self
                .clock
                .unwrap_or_else(|| Arc::new(runway_core::SystemClock)),
            environment,
        })
    }
}

/// A configured release; [`run`](Self::run) performs the procedure.
#[derive(Debug)]
pub struct Release {
    environment: Environment,
    release: ReleaseSpec,
    platform: Arc<dyn Platform>,
    probe: Arc<dyn HealthProbe>,
    notifier: Arc<dyn Notifier>,
    sink: Arc<dyn EventSink>,
    lock: Arc<dyn DeployLock>,
    journal: Option<Arc<dyn Journal>>,
    rollout: RolloutConfig,
    preflight: Option<Arc<dyn Gate>>,
    backup: Option<BackupStep>,
    migrate: Option<MigrateStep>,
    verification: Option<Verification>,
    owner: String,
    clock: Arc<dyn Clock>,
}

/// What a step decided.
enum StepEnd {
    Continue(String),
    Stop(ReleaseOutcome, String),
}

struct Run<'a> {
    release: &'a Release,
    emitter: Emitter,
    steps: Vec<StepReport>,
    started: tokio::time::Instant,
}

impl Run<'_> {
    async fn begin(&self, step: Step) {
        let _ = self
            .emitter
            .emit(ReleaseEvent::StepStarted {
                step: step.name().into(),
            })
            .await;
    }

    async fn end(&mut self, step: Step, ok: bool, summary: String, since: tokio::time::Instant) {
        let _ = self
            .emitter
            .emit(ReleaseEvent::StepFinished {
                step: step.name().into(),
                ok,
                summary: summary.clone(),
            })
            .await;
        self.steps.push(StepReport {
            step,
            ok,
            summary,
            duration: since.elapsed(),
        });
    }

    fn notification(&self, kind: NotificationKind) -> Notification {
        let env = &self.release.environment;
        Notification::new(
            kind,
            env.id.clone(),
            display_name(&env.name),
            self.release.release.clone(),
        )
    }
}

fn display_name(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Release {
    /// Start building a release.
    pub fn builder() -> ReleaseBuilder {
        ReleaseBuilder::default()
    }

    /// Run the procedure. Errors of the steps are outcomes, not `Err`: the report says what happened.
    pub async fn run(&self) -> ReleaseReport {
        let emitter = Emitter::new(self.sink.clone())
            .with_clock(self.clock.clone())
            .with_run(format!(
                "release-{}-{}",
                self.environment.id, self.release.id
            ));
        let mut run = Run {
            release: self,
            emitter,
            steps: Vec::new(),
            started: tokio::time::Instant::now(),
        };
        let mut rollout_report = None;
        let outcome = self.procedure(&mut run, &mut rollout_report).await;
        let _ = run
            .emitter
            .emit(ReleaseEvent::Finished {
                outcome: outcome.name().into(),
            })
            .await;
        ReleaseReport {
            outcome,
            duration: run.started.elapsed(),
            steps: run.steps,
            rollout: rollout_report,
        }
    }

    async fn procedure(
        &self,
        run: &mut Run<'_>,
        rollout_report: &mut Option<runway_rollout::Report>,
    ) -> ReleaseOutcome {
        // 1. Preflight: nothing has changed yet.
        if let Some(pf) = &self.preflight {
            let t = tokio::time::Instant::now();
            run.begin(Step::Preflight).await;
            let GateVerdict {
                passed: ok,
                summary,
            } = pf.check().await;
            run.end(Step::Preflight, ok, summary.clone(), t).await;
            if !ok {
                return ReleaseOutcome::Blocked {
                    step: Step::Preflight,
                    reason: summary,
                };
            }
        }

        // 2. Lock, held until the procedure returns (released explicitly, or on drop).
        let t = tokio::time::Instant::now();
        run.begin(Step::Lock).await;
        let guard = match self
            .lock
            .acquire(&self.environment.id, &self.owner, None)
            .await
        {
            Ok(g) => {
                run.end(Step::Lock, true, format!("held by {}", self.owner), t)
                    .await;
                g
            }
            Err(e) => {
                let reason = e.to_string();
                run.end(Step::Lock, false, reason.clone(), t).await;
                return ReleaseOutcome::Blocked {
                    step: Step::Lock,
                    reason,
                };
            }
        };

        let outcome = self.locked(run, rollout_report).await;

        if let Err(e) = guard.release().await {
            tracing::warn!(error = %e, "releasing the deploy lock failed; it is freed when the process exits");
        }
        outcome
    }

    async fn locked(
        &self,
        run: &mut Run<'_>,
        rollout_report: &mut Option<runway_rollout::Report>,
    ) -> ReleaseOutcome {
        let started = tokio::time::Instant::now();
        self.notify(
            run,
            run.notification(NotificationKind::Started)
                .with_status("Deploying..."),
        )
        .await;

        let outcome = match self.gated(run, rollout_report).await {
            Ok(()) => ReleaseOutcome::Succeeded,
            Err(o) => o,
        };

        let health = run.steps.iter().find(|s| s.step == Step::Verify).map(|s| {
            if s.ok {
                "Passed".to_owned()
            } else {
                format!("Failed: {}", s.summary)
            }
        });
        let n = match &outcome {
            ReleaseOutcome::Succeeded => run
                .notification(NotificationKind::Succeeded)
                .with_duration(started.elapsed())
                .with_health(health.unwrap_or_else(|| "Passed".to_owned())),
            ReleaseOutcome::RolledBack { reason, .. } => run
                .notification(NotificationKind::Failed)
                .with_duration(started.elapsed())
                .with_error(reason.clone())
                .with_rollback(RollbackStatus::Automatic),
            ReleaseOutcome::Failed { error, step } => {
                let rollback = match rollout_report.as_ref().map(|r| &r.outcome) {
                    Some(Outcome::RollbackFailed { .. }) => RollbackStatus::Failed,
                    _ => RollbackStatus::None,
                };
                run.notification(NotificationKind::Failed)
                    .with_duration(started.elapsed())
                    .with_error(format!("{}: {error}", step.name()))
                    .with_rollback(rollback)
            }
            ReleaseOutcome::Blocked { step, reason } => run
                .notification(NotificationKind::Failed)
                .with_error(format!("{}: {reason}", step.name()))
                .with_status("Not deployed"),
        };
        self.notify(run, n).await;
        outcome
    }

    async fn notify(&self, run: &mut Run<'_>, n: Notification) {
        let t = tokio::time::Instant::now();
        if let Err(e) = self.notifier.notify(&n).await {
            // A notification failure never changes what the release did; it is reported.
            run.end(Step::Notify, false, format!("notification failed: {e}"), t)
                .await;
        }
    }

    /// Backup, migrate, rollout, verify; `Err` carries the outcome that stopped the release.
    async fn gated(
        &self,
        run: &mut Run<'_>,
        rollout_report: &mut Option<runway_rollout::Report>,
    ) -> Result<(), ReleaseOutcome> {
        if let Some(b) = &self.backup {
            self.step(run, Step::Backup, self.backup_step(b)).await?;
        }
        if let Some(m) = &self.migrate {
            self.step(run, Step::Migrate, self.migrate_step(m)).await?;
        }
        let previous = self.previous_release().await;
        let t = tokio::time::Instant::now();
        run.begin(Step::Rollout).await;
        let rollout = match self.rollout_builder(Some(previous.clone())).build() {
            Ok(r) => r,
            Err(e) => {
                let error = e.to_string();
                run.end(Step::Rollout, false, error.clone(), t).await;
                return Err(ReleaseOutcome::Failed {
                    step: Step::Rollout,
                    error,
                });
            }
        };
        let report = match rollout.run().await {
            Ok(r) => r,
            Err(e) => {
                let error = e.to_string();
                run.end(Step::Rollout, false, error.clone(), t).await;
                return Err(ReleaseOutcome::Failed {
                    step: Step::Rollout,
                    error,
                });
            }
        };
        let deployed_at = self.clock.now();
        let summary = format!(
            "{} in {}",
            report.outcome,
            runway_core::human_duration(report.duration)
        );
        let outcome = report.outcome.clone();
        *rollout_report = Some(report);
        match outcome {
            Outcome::Succeeded => run.end(Step::Rollout, true, summary, t).await,
            Outcome::RolledBack { trigger } => {
                run.end(Step::Rollout, false, summary, t).await;
                return Err(ReleaseOutcome::RolledBack {
                    step: Step::Rollout,
                    reason: trigger.to_string(),
                });
            }
            other => {
                run.end(Step::Rollout, false, summary, t).await;
                return Err(ReleaseOutcome::Failed {
                    step: Step::Rollout,
                    error: other.to_string(),
                });
            }
        }

        if let Some(v) = &self.verification {
            let t = tokio::time::Instant::now();
            run.begin(Step::Verify).await;
            let scope = VerifyScope::new(self.environment.id.clone(), deployed_at)
                .with_release(self.release.id.clone());
            let (ok, reason) = match v.run(&scope).await {
                Ok(r) => (
                    r.verdict != Verdict::Fail,
                    format!("{}: {}", r.verdict.as_str(), r.reason),
                ),
                Err(e) => (false, format!("verification could not run: {e}")),
            };
            run.end(Step::Verify, ok, reason.clone(), t).await;
            if !ok {
                // "If any check fails, deployment is rolled back."
                let back = self.roll_back(previous).await;
                return Err(ReleaseOutcome::RolledBack {
                    step: Step::Verify,
                    reason: match back {
                        Ok(()) => reason,
                        Err(e) => format!("{reason}; rollback failed: {e}"),
                    },
                });
            }
        }
        Ok(())
    }

    async fn step(
        &self,
        run: &mut Run<'_>,
        step: Step,
        work: impl std::future::Future<Output = StepEnd>,
    ) -> Result<(), ReleaseOutcome> {
        let t = tokio::time::Instant::now();
        run.begin(step).await;
        match work.await {
            StepEnd::Continue(summary) => {
                run.end(step, true, summary, t).await;
                Ok(())
            }
            StepEnd::Stop(outcome, summary) => {
                run.end(step, false, summary, t).await;
                Err(outcome)
            }
        }
    }

    /// A rollout of the new release (`Some(previous)`), or the parts shared with a rollback (`None`).
    fn rollout_builder(
        &self,
        forward: Option<Option<ReleaseId>>,
    ) -> runway_rollout::RolloutBuilder {
        let mut b = Rollout::builder()
            .with_platform(self.platform.clone())
            .with_probe(self.probe.clone())
            .with_sink(self.sink.clone())
            .with_config(self.rollout.clone())
            .with_environment(self.environment.id.clone())
            .with_owner(self.owner.clone())
            .with_clock(self.clock.clone());
        if let Some(previous) = forward {
            b = b.with_release(self.release.clone());
            if let Some(p) = previous {
                b = b.with_previous(p);
            }
        }
        if let Some(j) = &self.journal {
            b = b.with_journal(j.clone());
        }
        b
    }

    async fn previous_release(&self) -> Option<ReleaseId> {
        let units = self
            .platform
            .units(&self.environment.id, &Default::default())
            .await
            .ok()?;
        units
            .iter()
            .filter_map(|u| u.release.clone())
            .find(|r| *r != self.release.id)
    }

    async fn roll_back(&self, previous: Option<ReleaseId>) -> Result<(), String> {
        let previous = previous.ok_or("no previous release to roll back to")?;
        let rollout = self
            .rollout_builder(None)
            .rollback_to(previous)
            .build()
            .map_err(|e| e.to_string())?;
        let report = rollout.run().await.map_err(|e| e.to_string())?;
        if report.outcome.is_success() {
            Ok(())
        } else {
            Err(report.outcome.to_string())
        }
    }

    async fn backup_step(&self, b: &BackupStep) -> StepEnd {
        let mut summary = Vec::new();
        if b.take {
            let manifest = match &b.target {
                BackupTarget::Postgres(url) => b.backups.backup_postgres(url).await,
                BackupTarget::Sqlite(path) => b.backups.backup_sqlite(path).await,
            };
            let manifest = match manifest {
                Ok(m) => m,
                Err(e) => {
                    return StepEnd::Stop(
                        ReleaseOutcome::Blocked {
                            step: Step::Backup,
                            reason: format!("backup failed: {e}"),
                        },
                        format!("backup failed: {e}"),
                    );
                }
            };
            match b.backups.verify(manifest.id, VerifyLevel::Drill).await {
                Ok(r) if r.verified => summary.push(format!("{} taken and drilled", manifest.id)),
                Ok(_) => summary.push(format!("{} taken; drill did not verify it", manifest.id)),
                Err(e) => summary.push(format!("{} taken; drill failed: {e}", manifest.id)),
            }
        }
        match b.backups.freshness_gate(b.max_age).await {
            Ok(g @ GateOutcome::Pass { .. }) => {
                summary.push(g.to_string());
                StepEnd::Continue(summary.join("; "))
            }
            Ok(g) => {
                summary.push(format!("backup gate: {g}"));
                let reason = summary.join("; ");
                StepEnd::Stop(
                    ReleaseOutcome::Blocked {
                        step: Step::Backup,
                        reason: reason.clone(),
                    },
                    reason,
                )
            }
            Err(e) => {
                let reason = format!("backup gate could not read backups: {e}");
                StepEnd::Stop(
                    ReleaseOutcome::Blocked {
                        step: Step::Backup,
                        reason: reason.clone(),
                    },
                    reason,
                )
            }
        }
    }

    async fn migrate_step(&self, m: &MigrateStep) -> StepEnd {
        if let Some(blocked) = lint_dirs(&m.lint_dirs) {
            return blocked;
        }
        match m.migrator.up().await {
            Ok(report) if report.versions.is_empty() => StepEnd::Continue("up to date".into()),
            Ok(report) => StepEnd::Continue(format!(
                "applied {}",
                report
                    .versions
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Err(e) => {
                let error = e.to_string();
                StepEnd::Stop(
                    ReleaseOutcome::Failed {
                        step: Step::Migrate,
                        error: format!("{error}; no code was deployed"),
                    },
                    error,
                )
            }
        }
    }
}

/// Without the `lint` feature there is no linter: asking for a lint blocks rather than silently passing.
#[cfg(not(feature = "lint"))]
fn lint_dirs(dirs: &[std::path::PathBuf]) -> Option<StepEnd> {
    (!dirs.is_empty()).then(|| {
        blocked_by_lint(
            "migrations are set to be linted, but runway was built without the `lint` feature \
             (build with --features lint, or set migrations.lint = false)"
                .into(),
        )
    })
}

/// Lint the folders; `Some` when the lint blocks the release.
#[cfg(feature = "lint")]
fn lint_dirs(dirs: &[std::path::PathBuf]) -> Option<StepEnd> {
    if dirs.is_empty() {
        return None;
    }
    // The runner sets a lock_timeout on every transactional migration, so the linter may assume one.
    let linter = match runway_migrate::lint::Linter::builder()
        .with_assume_lock_timeout(true)
        .build()
    {
        Ok(l) => l,
        Err(e) => return Some(blocked_by_lint(format!("linter: {e}"))),
    };
    let set = match runway_migrate::lint::MigrationSet::load(dirs) {
        Ok(s) => s,
        Err(e) => return Some(blocked_by_lint(format!("cannot read migrations: {e}"))),
    };
    let report = linter.lint_set(&set);
    if report.has_errors() {
        let first = report
            .findings
            .iter()
            .find(|f| f.severity == runway_migrate::lint::Severity::Error)
            .map(|f| format!(" (first: {} {}:{})", f.rule.as_str(), f.file, f.line))
            .unwrap_or_default();
        return Some(blocked_by_lint(format!(
            "lint found {} error(s){first}",
            report.errors()
        )));
    }
    None
}

fn blocked_by_lint(reason: String) -> StepEnd {
    StepEnd::Stop(
        ReleaseOutcome::Blocked {
            step: Step::Migrate,
            reason: reason.clone(),
        },
        reason,
    )
}
