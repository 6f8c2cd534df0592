//! The thin async driver: performs the engine's actions against a [`Platform`], feeds back observations,
//! journals every event, holds the deploy lock, and takes operator commands.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use runway_core::event::DeployEvent;
use runway_core::event::FanoutSink;
use runway_core::{
    Analysis, AnalysisContext, Clock, DeployOptions, Emitter, EnvironmentId, EventSink,
    HealthProbe, ListUnits, Platform, Release, ReleaseId, RetryPolicy, Retrying, RollbackTarget,
    ServiceId, SystemClock, UnitId, UnitState,
};
use tokio::sync::mpsc;

use crate::config::RolloutConfig;
use crate::engine::{
    Action, Command, Engine, EngineInit, Observation, Operation, ResumePoint, UnitView,
};
use crate::error::RolloutError;
use crate::journal::{Journal, JournalSink, replay};
use crate::lock::{DeployLock, LockError, default_owner};
use crate::outcome::{Issue, Outcome, Trigger};
use crate::plan::{Plan, plan};

/// What a finished run reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// The run id (journal key).
    pub run: String,
    /// What really happened.
    pub outcome: Outcome,
    /// The release rolled out.
    pub release: ReleaseId,
    /// The release it replaced.
    pub previous: ReleaseId,
    /// Units on each release at the end, as the engine saw them.
    pub units_by_release: BTreeMap<ReleaseId, Vec<UnitId>>,
    /// How long the run took (tokio time, so virtual under a paused clock).
    pub duration: Duration,
    /// Batches started.
    pub batches: usize,
}

/// What a resumed run does with an unfinished journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResumePolicy {
    /// Pick up where it stopped: continue forward, or continue the rollback it was in.
    #[default]
    Continue,
    /// Roll back whatever it had done (unless it finished).
    RollBack,
}

/// Sends commands to a running rollout; cheap to clone.
#[derive(Debug, Clone)]
pub struct RolloutControl {
    tx: mpsc::UnboundedSender<Command>,
}

impl RolloutControl {
    fn send(&self, c: Command) -> bool {
        self.tx.send(c).is_ok()
    }
    /// Pause: no new batches or steps; gates and monitoring continue. Returns false when the run is over.
    pub fn pause(&self) -> bool {
        self.send(Command::Pause)
    }
    /// Resume (also accepts an inconclusive analysis and ends an indefinite canary pause).
    pub fn resume(&self) -> bool {
        self.send(Command::Resume)
    }
    /// Abort: roll back now.
    pub fn abort(&self) -> bool {
        self.send(Command::Abort)
    }
    /// Report an issue; the runbook's decision tree decides between rolling back now and a hotfix window.
    pub fn report(&self, issue: Issue) -> bool {
        self.send(Command::Report(issue))
    }
    /// The reported non-critical issue is fixed.
    pub fn resolved(&self) -> bool {
        self.send(Command::Resolved)
    }
}

/// Builds a [`Rollout`].
#[derive(Debug)]
pub struct RolloutBuilder {
    platform: Option<Arc<dyn Platform>>,
    probe: Option<Arc<dyn HealthProbe>>,
    analysis: Option<Arc<dyn Analysis>>,
    sink: Option<Arc<dyn EventSink>>,
    journal: Option<Arc<dyn Journal>>,
    lock: Option<Arc<dyn DeployLock>>,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    config: RolloutConfig,
    environment: Option<EnvironmentId>,
    service: Option<ServiceId>,
    release: Option<Release>,
    previous: Option<ReleaseId>,
    run: Option<String>,
    owner: String,
    resume: Option<(String, ResumePolicy)>,
    manual_to: Option<ReleaseId>,
}

impl Default for RolloutBuilder {
    fn default() -> Self {
        RolloutBuilder {
            platform: None,
            probe: None,
            analysis: None,
            sink: None,
            journal: None,
            lock: None,
            clock: Arc::new(SystemClock),
            retry: RetryPolicy::default(),
            config: RolloutConfig::default(),
            environment: None,
            service: None,
            release: None,
            previous: None,
            run: None,
            owner: default_owner(),
            resume: None,
            manual_to: None,
        }
    }
}

impl RolloutBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }
    /// The platform (required).
    #[must_use]
    pub fn with_platform(mut self, p: Arc<dyn Platform>) -> Self {
        self.platform = Some(p);
        self
    }
    /// The health probe (default: a unit is healthy when the platform says it is running).
    #[must_use]
    pub fn with_probe(mut self, p: Arc<dyn HealthProbe>) -> Self {
        self.probe = Some(p);
        self
    }
    /// The analysis hook (SLO verification).
    #[must_use]
    pub fn with_analysis(mut self, a: Arc<dyn Analysis>) -> Self {
        self.analysis = Some(a);
        self
    }
    /// Where events go besides the journal (progress display, notifications).
    #[must_use]
    pub fn with_sink(mut self, s: Arc<dyn EventSink>) -> Self {
        self.sink = Some(s);
        self
    }
    /// The journal.
    #[must_use]
    pub fn with_journal(mut self, j: Arc<dyn Journal>) -> Self {
        self.journal = Some(j);
        self
    }
    /// The deploy lock.
    #[must_use]
    pub fn with_lock(mut self, l: Arc<dyn DeployLock>) -> Self {
        self.lock = Some(l);
        self
    }
    /// The clock for event timestamps (the simulator's in tests).
    #[must_use]
    pub fn with_clock(mut self, c: Arc<dyn Clock>) -> Self {
        self.clock = c;
        self
    }
    /// The retry policy for platform calls.
    #[must_use]
    pub fn with_retry(mut self, r: RetryPolicy) -> Self {
        self.retry = r;
        self
    }
    /// The configuration.
    #[must_use]
    pub fn with_config(mut self, c: RolloutConfig) -> Self {
        self.config = c;
        self
    }
    /// The environment (required).
    #[must_use]
    pub fn with_environment(mut self, e: impl Into<EnvironmentId>) -> Self {
        self.environment = Some(e.into());
        self
    }
    /// Only this service's units.
    #[must_use]
    pub fn with_service(mut self, s: impl Into<ServiceId>) -> Self {
        self.service = Some(s.into());
        self
    }
    /// The release to roll out (required unless resuming or rolling back manually).
    #[must_use]
    pub fn with_release(mut self, r: Release) -> Self {
        self.release = Some(r);
        self
    }
    /// The release to roll back to (default: the most common other release in the fleet).
    #[must_use]
    pub fn with_previous(mut self, r: impl Into<ReleaseId>) -> Self {
        self.previous = Some(r.into());
        self
    }
    /// The run id (default: environment, release and start time).
    #[must_use]
    pub fn with_run_id(mut self, run: impl Into<String>) -> Self {
        self.run = Some(run.into());
        self
    }
    /// The lock owner (default `$USER@host`).
    #[must_use]
    pub fn with_owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = owner.into();
        self
    }
    /// Resume the unfinished run `run` from the journal.
    #[must_use]
    pub fn resume(mut self, run: impl Into<String>, policy: ResumePolicy) -> Self {
        self.resume = Some((run.into(), policy));
        self
    }
    /// Instead of rolling out, roll every unit back to the named release (same capacity rules).
    #[must_use]
    pub fn rollback_to(mut self, release: impl Into<ReleaseId>) -> Self {
        self.manual_to = Some(release.into());
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<Rollout, RolloutError> {
        self.config.validate()?;
        let platform = self.platform.ok_or(RolloutError::Missing("platform"))?;
        let environment = self
            .environment
            .ok_or(RolloutError::Missing("environment"))?;
        if self.resume.is_some() && self.journal.is_none() {
            return Err(RolloutError::Missing("journal (needed to resume)"));
        }
        let release = match (&self.release, &self.manual_to, &self.resume) {
            (Some(r), _, _) => Some(r.clone()),
            (None, Some(to), _) => Some(Release::new(to.clone())),
            (None, None, Some(_)) => None,
            (None, None, None) => return Err(RolloutError::Missing("release")),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        Ok(Rollout {
            platform: Arc::new(Retrying::new(platform, self.retry)),
            probe: self.probe,
            analysis: self.analysis,
            sink: self.sink,
            journal: self.journal,
            lock: self.lock,
            clock: self.clock,
            config: self.config,
            environment,
            service: self.service,
            release,
            previous: self.previous,
            run: self.run,
            owner: self.owner,
            resume: self.resume,
            manual: self.manual_to.is_some(),
            control: RolloutControl { tx },
            commands: tokio::sync::Mutex::new(rx),
        })
    }
}

type Plat = Arc<Retrying<Arc<dyn Platform>>>;

/// A rollout, ready to [`run`](Self::run) (or to [`plan`](Self::plan) without touching anything).
#[derive(Debug)]
pub struct Rollout {
    platform: Plat,
    probe: Option<Arc<dyn HealthProbe>>,
    analysis: Option<Arc<dyn Analysis>>,
    sink: Option<Arc<dyn EventSink>>,
    journal: Option<Arc<dyn Journal>>,
    lock: Option<Arc<dyn DeployLock>>,
    clock: Arc<dyn Clock>,
    config: RolloutConfig,
    environment: EnvironmentId,
    service: Option<ServiceId>,
    release: Option<Release>,
    previous: Option<ReleaseId>,
    run: Option<String>,
    owner: String,
    resume: Option<(String, ResumePolicy)>,
    manual: bool,
    control: RolloutControl,
    commands: tokio::sync::Mutex<mpsc::UnboundedReceiver<Command>>,
}

impl Rollout {
    /// A builder.
    pub fn builder() -> RolloutBuilder {
        RolloutBuilder::new()
    }

    /// A handle to pause, resume, abort or report issues while [`run`](Self::run) is going.
    pub fn control(&self) -> RolloutControl {
        self.control.clone()
    }

    async fn fleet(&self) -> Result<Vec<runway_core::Unit>, RolloutError> {
        let opts = match &self.service {
            Some(s) => ListUnits::service(s.clone()),
            None => ListUnits::default(),
        };
        self.platform
            .units(&self.environment, &opts)
            .await
            .map_err(|source| RolloutError::Platform {
                step: "list units",
                source: Box::new(source),
            })
    }

    /// The dry-run plan for the current fleet: batches and durations, without changing anything.
    pub async fn plan(&self, start_estimate: Duration) -> Result<Plan, RolloutError> {
        let fleet = self.fleet().await?;
        let ids: Vec<UnitId> = fleet.iter().map(|u| u.id.clone()).collect();
        plan(
            &self.config,
            &self.platform.capabilities(),
            &ids,
            start_estimate,
        )
    }

    /// Run to an outcome. Takes the lock first and releases it on every exit path.
    pub async fn run(&self) -> Result<Report, RolloutError> {
        // Resume: read the journal first.
        let mut resume_point: Option<ResumePoint> = None;
        let mut next_seq = 0;
        let mut release = self.release.clone();
        let mut previous = self.previous.clone();
        let mut resumed: Option<(u64, ResumePolicy)> = None;
        let run = match &self.resume {
            Some((run, policy)) => {
                let journal = self.journal.as_ref().expect("checked in build");
                let events = journal.load(run).await?;
                let st = replay(&events);
                if st.events == 0 || st.finished() {
                    return Err(RolloutError::NothingToResume(run.clone()));
                }
                let mut point = st.resume.clone();
                if *policy == ResumePolicy::RollBack && point.rolling_back.is_none() {
                    point.rolling_back = Some(Trigger::Interrupted);
                }
                release = release.or_else(|| st.release.clone().map(Release::new));
                previous = previous.or(st.previous.clone());
                next_seq = st.next_seq;
                resumed = Some((st.events, *policy));
                resume_point = Some(point);
                run.clone()
            }
            None => self.run.clone().unwrap_or_else(|| {
                // Wall-clock time and pid, not the (possibly simulated) clock: ids must not repeat.
                format!(
                    "{}-{}-{}-{}",
                    self.environment,
                    self.release
                        .as_ref()
                        .map(|r| r.id.as_str())
                        .unwrap_or("rollback"),
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
                    std::process::id()
                )
            }),
        };
        let release = release.ok_or(RolloutError::Missing("release"))?;

        let mut fan = FanoutSink::new();
        if let Some(j) = &self.journal {
            fan = fan.with(Arc::new(JournalSink(j.clone())));
        }
        if let Some(s) = &self.sink {
            fan = fan.with(s.clone());
        }
        let emitter = Emitter::new(Arc::new(fan))
            .with_clock(self.clock.clone())
            .with_run(run.clone())
            .starting_at(next_seq);

        let guard = match &self.lock {
            Some(l) => match l.acquire(&self.environment, &self.owner, Some(&run)).await {
                Ok(g) => Some(g),
                Err(LockError::Held(info)) => {
                    return Err(RolloutError::Locked {
                        environment: info.environment.to_string(),
                        owner: info.owner.clone(),
                        acquired_at: info.acquired_at.to_rfc3339(),
                    });
                }
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        // From here the guard is dropped (released) on every early return, panic or cancellation.
        let result = self
            .drive(
                &emitter,
                &run,
                release,
                previous,
                resume_point,
                resumed,
                guard.is_some(),
            )
            .await;
        if let Some(g) = guard {
            let released = g.release().await;
            if result.is_ok() {
                emitter
                    .emit(DeployEvent::LockReleased)
                    .await
                    .map_err(|e| RolloutError::Sink(Box::new(e)))?;
            }
            released?;
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn drive(
        &self,
        emitter: &Emitter,
        run: &str,
        release: Release,
        previous: Option<ReleaseId>,
        resume_point: Option<ResumePoint>,
        resumed: Option<(u64, ResumePolicy)>,
        locked: bool,
    ) -> Result<Report, RolloutError> {
        let emit = |e: DeployEvent| async move {
            emitter
                .emit(e)
                .await
                .map_err(|e| RolloutError::Sink(Box::new(e)))
        };
        if locked {
            emit(DeployEvent::LockAcquired {
                owner: self.owner.clone(),
            })
            .await?;
        }
        let fleet = self.fleet().await?;
        let caps = self.platform.capabilities();
        let service = self
            .service
            .clone()
            .or_else(|| fleet.first().map(|u| u.service.clone()))
            .unwrap_or_else(|| ServiceId::new(""));
        let mut init = EngineInit::new(self.config.clone(), caps.clone(), release.id.clone())
            .with_previous(previous)
            .with_analysis(self.analysis.is_some())
            .with_resume(resume_point);
        if self.manual {
            init = init.manual_rollback();
        }
        let mut engine = Engine::new(init)?;
        let views: Vec<UnitView> = fleet.iter().map(UnitView::from).collect();
        let start = tokio::time::Instant::now();
        let mut queue: VecDeque<Action> = engine
            .step(Duration::ZERO, Observation::Start { fleet: views })
            .into();
        let (rel, prev) = engine.releases();
        let (rel, prev) = (rel.clone(), prev.clone());
        match resumed {
            Some((journaled, policy)) => {
                emit(DeployEvent::RolloutResumed {
                    journaled,
                    action: match policy {
                        ResumePolicy::Continue => "continue".into(),
                        ResumePolicy::RollBack => "roll_back".into(),
                    },
                })
                .await?
            }
            None => {
                emit(DeployEvent::RolloutStarted {
                    environment: self.environment.clone(),
                    release: rel.clone(),
                    previous: Some(prev.clone()),
                    units: fleet.len(),
                    strategy: self.config.strategy.name().into(),
                })
                .await?
            }
        }
        let ctx = Ctx {
            platform: self.platform.clone(),
            probe: self.probe.clone(),
            analysis: self.analysis.clone(),
            environment: self.environment.clone(),
            service,
            release: release.clone(),
            caps_rollback: caps.rollback,
            run: run.to_string(),
            counter: Arc::new(AtomicU64::new(0)),
        };
        let mut unit_locks: HashMap<UnitId, Arc<tokio::sync::Mutex<()>>> = HashMap::new();
        let mut inflight: FuturesUnordered<BoxFuture<'static, Observation>> =
            FuturesUnordered::new();
        let mut wake: Option<Duration> = None;
        let mut commands = self.commands.lock().await;
        let outcome = 'run: loop {
            while let Some(a) = queue.pop_front() {
                match a {
                    Action::Emit(e) => emit(e).await?,
                    Action::WakeAt(t) => wake = Some(wake.map_or(t, |w| w.min(t))),
                    Action::Finish(o) => break 'run o,
                    io => {
                        let lock = unit_of(&io).map(|u| {
                            unit_locks
                                .entry(u.clone())
                                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
                                .clone()
                        });
                        inflight.push(ctx.exec(io, lock));
                    }
                }
            }
            let obs = tokio::select! {
                Some(o) = inflight.next() => o,
                _ = sleep_until(start, wake), if wake.is_some() => {
                    wake = None;
                    Observation::Tick
                }
                Some(c) = commands.recv() => Observation::Command(c),
            };
            queue.extend(engine.step(start.elapsed(), obs));
        };
        Ok(Report {
            run: run.to_string(),
            units_by_release: engine.units_by_release(),
            outcome,
            release: rel,
            previous: prev,
            duration: start.elapsed(),
            batches: engine.resume_point().batches,
        })
    }
}

async fn sleep_until(start: tokio::time::Instant, at: Option<Duration>) {
    if let Some(at) = at {
        tokio::time::sleep_until(start + at).await;
    }
}

fn unit_of(a: &Action) -> Option<&UnitId> {
    match a {
        Action::Drain(u) | Action::Restore(u) | Action::Remove(u) => Some(u),
        Action::Deploy { unit, .. } | Action::Poll { unit, .. } | Action::Probe { unit, .. } => {
            Some(unit)
        }
        _ => None,
    }
}

#[derive(Debug, Clone)]
struct Ctx {
    platform: Plat,
    probe: Option<Arc<dyn HealthProbe>>,
    analysis: Option<Arc<dyn Analysis>>,
    environment: EnvironmentId,
    service: ServiceId,
    release: Release,
    caps_rollback: bool,
    run: String,
    counter: Arc<AtomicU64>,
}

fn failed(op: Operation, unit: Option<UnitId>, e: &runway_core::Error) -> Observation {
    Observation::Failed {
        operation: op,
        unit,
        kind: e.kind().as_str().into(),
        message: e.message().to_string(),
    }
}

impl Ctx {
    fn exec(
        &self,
        a: Action,
        lock: Option<Arc<tokio::sync::Mutex<()>>>,
    ) -> BoxFuture<'static, Observation> {
        let c = self.clone();
        Box::pin(async move {
            let _g = match &lock {
                Some(l) => Some(l.lock().await),
                None => None,
            };
            c.perform(a).await
        })
    }

    async fn perform(&self, a: Action) -> Observation {
        let p = &self.platform;
        match a {
            Action::Refresh => {
                let opts = ListUnits::service(self.service.clone());
                match p.units(&self.environment, &opts).await {
                    Ok(us) => Observation::Fleet {
                        units: us.iter().map(UnitView::from).collect(),
                    },
                    Err(e) => failed(Operation::Refresh, None, &e),
                }
            }
            Action::Drain(u) => match p.drain(&u).await {
                Ok(()) => Observation::Drained { unit: u },
                Err(e) => failed(Operation::Drain, Some(u), &e),
            },
            Action::Restore(u) => match p.restore(&u).await {
                Ok(()) => Observation::Restored { unit: u },
                Err(e) => failed(Operation::Restore, Some(u), &e),
            },
            Action::Remove(u) => match p.remove_unit(&u).await {
                Ok(()) => Observation::Removed { unit: u },
                Err(e) => failed(Operation::Remove, Some(u), &e),
            },
            Action::Deploy {
                unit,
                release,
                rollback,
            } => {
                let via_rollback = if rollback && self.caps_rollback {
                    match p
                        .rollback(&unit, &RollbackTarget::Release(release.clone()))
                        .await
                    {
                        // A unit added during the run never ran the old release: deploy it instead.
                        Err(e) if matches!(e.kind(), runway_core::ErrorKind::NotFound) => None,
                        other => Some(other),
                    }
                } else {
                    None
                };
                let res = if let Some(r) = via_rollback {
                    r
                } else {
                    let rel = if release == self.release.id {
                        self.release.clone()
                    } else {
                        Release::new(release.clone())
                    };
                    let n = self.counter.fetch_add(1, Ordering::Relaxed);
                    let key = format!("{}:{}:{}:{n}", self.run, unit, release);
                    p.deploy(&unit, &rel, &DeployOptions::with_idempotency_key(key))
                        .await
                };
                match res {
                    Ok(d) => Observation::Deployed {
                        unit,
                        deployment: d.id,
                    },
                    Err(e) => failed(Operation::Deploy, Some(unit), &e),
                }
            }
            Action::Poll { unit, deployment } => match p.deployment(&deployment).await {
                Ok(d) => Observation::Status {
                    unit,
                    deployment,
                    status: d.status,
                    message: d.message,
                },
                Err(e) => failed(Operation::Poll, Some(unit), &e),
            },
            Action::Probe { unit, timeout } => {
                let u = match p.unit(&unit).await {
                    Ok(u) => u,
                    Err(e) => return failed(Operation::Probe, Some(unit), &e),
                };
                let (healthy, detail) = match &self.probe {
                    None => (
                        u.state == UnitState::Running,
                        (u.state != UnitState::Running).then(|| format!("unit is {:?}", u.state)),
                    ),
                    Some(probe) => {
                        match tokio::time::timeout(timeout, probe.probe(&u, timeout)).await {
                            Ok(Ok(r)) => (r.healthy, r.detail),
                            Ok(Err(e)) => (false, Some(format!("probe error ({})", e.kind()))),
                            Err(_) => (false, Some(format!("probe timed out after {timeout:?}"))),
                        }
                    }
                };
                Observation::Probed {
                    unit: UnitView::from(&u),
                    healthy,
                    detail,
                }
            }
            Action::Add { release } => {
                let rel = if release == self.release.id {
                    self.release.clone()
                } else {
                    Release::new(release)
                };
                match p.add_unit(&self.service, &rel).await {
                    Ok(u) => Observation::Added {
                        unit: UnitView::from(&u),
                    },
                    Err(e) => failed(Operation::Add, None, &e),
                }
            }
            Action::Switch { from, to } => match p.switch_traffic(&from, &to).await {
                Ok(()) => Observation::Switched,
                Err(e) => failed(Operation::Switch, None, &e),
            },
            Action::Analyze { updated, window } => {
                let Some(a) = &self.analysis else {
                    return Observation::Analyzed {
                        verdict: runway_core::AnalysisVerdict::Pass,
                    };
                };
                let ctx = AnalysisContext::new(self.environment.clone(), self.release.id.clone())
                    .with_updated_units(updated)
                    .with_window(window);
                match a.analyze(&ctx).await {
                    Ok(verdict) => Observation::Analyzed { verdict },
                    Err(e) => failed(Operation::Analyze, None, &e),
                }
            }
            Action::Emit(_) | Action::WakeAt(_) | Action::Finish(_) => Observation::Tick,
        }
    }
}
