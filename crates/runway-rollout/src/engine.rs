//! The pure rollout state machine: [`Engine::step`] takes an [`Observation`] and returns [`Action`]s.
//!
//! The engine does no IO and reads no clock: the driver passes `now` (time since the run started) with every
//! observation and performs the actions. Every decision is a value, so it is unit-testable and journal-able.
//!
//! Model. The engine keeps a view of the fleet (one [`Track`] per unit) and converts units to a *target*
//! release in waves: the new release while going forward, the previous one while rolling back. A wave takes
//! down (already unavailable) units for free, then as many serving units in place as the unavailability budget
//! allows (`serving - (desired - max_unavailable)`), then adds surge units while the fleet stays within
//! `desired + max_surge`, each replacing one old unit that is retired once the wave is available. Each
//! converted unit goes through the [`HealthGate`](crate::HealthGate). Rolling back uses the very same waves
//! and budgets.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use runway_core::event::DeployEvent;
use runway_core::{
    AnalysisVerdict, ControlModel, DeploymentId, DeploymentStatus, PlatformCapabilities, ReleaseId,
    Unit, UnitId, UnitState,
};
use serde::{Deserialize, Serialize};

use crate::config::{CanaryStep, InconclusivePolicy, RolloutConfig, Strategy, resolve_budgets};
use crate::error::RolloutError;
use crate::outcome::{Decision, Issue, Outcome, Trigger, group};

/// What the engine knows about a unit from the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitView {
    /// The unit.
    pub id: UnitId,
    /// The release it runs, when known.
    pub release: Option<ReleaseId>,
    /// Its lifecycle state.
    pub state: UnitState,
    /// Whether the load balancer sends it traffic.
    pub in_load_balancer: bool,
}

impl From<&Unit> for UnitView {
    fn from(u: &Unit) -> Self {
        UnitView {
            id: u.id.clone(),
            release: u.release.clone(),
            state: u.state,
            in_load_balancer: u.in_load_balancer,
        }
    }
}

/// An operator command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Stop starting new batches or steps (gates and monitoring go on; the progress deadline stops counting).
    Pause,
    /// Continue (also accepts an inconclusive analysis or ends an indefinite canary pause).
    Resume,
    /// Roll back now.
    Abort,
    /// Report an issue; the decision tree decides.
    Report(Issue),
    /// The reported non-critical issue was fixed within its window.
    Resolved,
}

/// Which platform call an action was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// List the fleet.
    Refresh,
    /// Drain.
    Drain,
    /// Restore.
    Restore,
    /// Deploy (or roll back) a unit.
    Deploy,
    /// Poll a deployment.
    Poll,
    /// Probe a unit.
    Probe,
    /// Add a unit.
    Add,
    /// Remove a unit.
    Remove,
    /// Switch traffic.
    Switch,
    /// Run the analysis hook.
    Analyze,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Refresh => "units",
            Operation::Drain => "drain",
            Operation::Restore => "restore",
            Operation::Deploy => "deploy",
            Operation::Poll => "deployment",
            Operation::Probe => "probe",
            Operation::Add => "add_unit",
            Operation::Remove => "remove_unit",
            Operation::Switch => "switch_traffic",
            Operation::Analyze => "analyze",
        }
    }
}

/// What the driver saw; fed to [`Engine::step`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "observation", rename_all = "snake_case")]
pub enum Observation {
    /// The run starts with this fleet.
    Start {
        /// The fleet.
        fleet: Vec<UnitView>,
    },
    /// Time passed (a requested wake-up).
    Tick,
    /// A fresh listing of the fleet.
    Fleet {
        /// The fleet.
        units: Vec<UnitView>,
    },
    /// A drain finished.
    Drained {
        /// The unit.
        unit: UnitId,
    },
    /// A restore finished.
    Restored {
        /// The unit.
        unit: UnitId,
    },
    /// A deployment was started.
    Deployed {
        /// The unit.
        unit: UnitId,
        /// The provider's deployment.
        deployment: DeploymentId,
    },
    /// A deployment's status.
    Status {
        /// The unit.
        unit: UnitId,
        /// The deployment polled.
        deployment: DeploymentId,
        /// The status.
        status: DeploymentStatus,
        /// The provider's message.
        message: Option<String>,
    },
    /// One probe's answer.
    Probed {
        /// The unit as the platform reports it.
        unit: UnitView,
        /// Whether the probe passed.
        healthy: bool,
        /// The failure reason.
        detail: Option<String>,
    },
    /// A unit was added.
    Added {
        /// The unit.
        unit: UnitView,
    },
    /// A unit was removed.
    Removed {
        /// The unit.
        unit: UnitId,
    },
    /// Traffic was switched.
    Switched,
    /// The analysis hook answered (an error counts as inconclusive).
    Analyzed {
        /// The verdict.
        verdict: AnalysisVerdict,
    },
    /// A platform call failed after its retries.
    Failed {
        /// The operation.
        operation: Operation,
        /// The unit, when the call was about one.
        unit: Option<UnitId>,
        /// The error kind name.
        kind: String,
        /// The error message (no secrets).
        message: String,
    },
    /// An operator command.
    Command(Command),
}

/// What the engine asks the driver to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// List the fleet, answer with [`Observation::Fleet`].
    Refresh,
    /// Take a unit out of the load balancer.
    Drain(UnitId),
    /// Put a unit back into the load balancer.
    Restore(UnitId),
    /// Deploy `release` on `unit` (`rollback`: through the platform's rollback where it has one).
    Deploy {
        /// The unit.
        unit: UnitId,
        /// The release.
        release: ReleaseId,
        /// Whether this goes back to an earlier release.
        rollback: bool,
    },
    /// Poll a deployment.
    Poll {
        /// The unit.
        unit: UnitId,
        /// The deployment.
        deployment: DeploymentId,
    },
    /// Probe a unit once within `timeout`.
    Probe {
        /// The unit.
        unit: UnitId,
        /// The per-probe timeout.
        timeout: Duration,
    },
    /// Add a unit running `release`.
    Add {
        /// The release.
        release: ReleaseId,
    },
    /// Remove a unit.
    Remove(UnitId),
    /// Move all traffic from `from` to `to`.
    Switch {
        /// Units losing traffic.
        from: Vec<UnitId>,
        /// Units gaining it.
        to: Vec<UnitId>,
    },
    /// Run the analysis hook.
    Analyze {
        /// Units on the new release.
        updated: Vec<UnitId>,
        /// How long the new release has been serving.
        window: Duration,
    },
    /// Persist and publish an event.
    Emit(DeployEvent),
    /// Send a [`Observation::Tick`] at this time (since the run started).
    WakeAt(Duration),
    /// The run is over.
    Finish(Outcome),
}

/// Where a run stands, for resuming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ResumePoint {
    /// The rollback trigger, when the run was already rolling back.
    pub rolling_back: Option<Trigger>,
    /// Batches already started.
    pub batches: usize,
    /// Canary steps already completed.
    pub canary_step: usize,
}

/// Inputs of an [`Engine`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineInit {
    /// The configuration.
    pub config: RolloutConfig,
    /// What the platform can do.
    pub capabilities: PlatformCapabilities,
    /// The release to roll out.
    pub release: ReleaseId,
    /// The release to go back to (default: the most common other release in the fleet).
    pub previous: Option<ReleaseId>,
    /// Whether an analysis hook is attached.
    pub analysis: bool,
    /// Continue an earlier run from this point.
    pub resume: Option<ResumePoint>,
    /// A manual rollback: roll everything to `release` and report it as [`Trigger::Manual`].
    pub manual: bool,
}

impl EngineInit {
    /// A fresh rollout of `release`.
    pub fn new(
        config: RolloutConfig,
        capabilities: PlatformCapabilities,
        release: ReleaseId,
    ) -> Self {
        EngineInit {
            config,
            capabilities,
            release,
            previous: None,
            analysis: false,
            resume: None,
            manual: false,
        }
    }
    /// Set the previous release.
    #[must_use]
    pub fn with_previous(mut self, previous: Option<ReleaseId>) -> Self {
        self.previous = previous;
        self
    }
    /// Declare an analysis hook.
    #[must_use]
    pub fn with_analysis(mut self, on: bool) -> Self {
        self.analysis = on;
        self
    }
    /// Resume from `point`.
    #[must_use]
    pub fn with_resume(mut self, point: Option<ResumePoint>) -> Self {
        self.resume = point;
        self
    }
    /// Make this a manual rollback to `release`.
    #[must_use]
    pub fn manual_rollback(mut self) -> Self {
        self.manual = true;
        self
    }
}

#[derive(Debug, Clone)]
struct Gate {
    release: ReleaseId,
    since: Duration,
    deployment: Option<DeploymentId>,
    status_done: bool,
    started: bool,
    successes: u32,
    failures: u32,
    ready_at: Option<Duration>,
    restore: bool,
}

#[derive(Debug, Clone)]
enum Op {
    /// Untouched in the current mode.
    None,
    /// Drain requested; then deploy (`true`) or remove (`false`).
    Draining { deploy: bool },
    /// Deploy requested or running; gating.
    Gating(Gate),
    /// Restore requested after the gate passed (gate kept for bake).
    Restoring(Gate),
    /// Remove requested.
    Removing,
    /// Converted and available in the current mode.
    Done,
    /// Failed in the current mode; eligible again after `not_before`.
    Failed { not_before: Duration },
}

#[derive(Debug, Clone)]
struct Track {
    release: Option<ReleaseId>,
    state: UnitState,
    in_lb: bool,
    op: Op,
    probe_busy: bool,
    poll_busy: bool,
    bad_seen: u32,
    order: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Forward,
    RollingBack(Trigger),
    Finished,
}

#[derive(Debug, Clone)]
struct Wave {
    no: usize,
    /// Members not yet done (converted and available, or removed).
    left: BTreeSet<UnitId>,
    adds_pending: usize,
    retire: Vec<UnitId>,
    /// Retired units not yet removed.
    retire_left: BTreeSet<UnitId>,
    retiring: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum StepState {
    /// Moving units until `goal` are on the target.
    Moving,
    /// Pausing until the time (None: until resumed).
    Pausing(Option<Duration>),
    /// Waiting for the analysis hook.
    Analyzing,
}

#[derive(Debug, Clone, PartialEq)]
enum BlueGreen {
    /// Adding and gating the green set.
    Green,
    /// Pre-promotion analysis.
    PreAnalysis,
    /// Switch requested.
    Switching,
    /// Switched; post checks then removal of blue.
    Switched,
    /// Removing blue.
    RemovingBlue,
}

/// The rollout state machine: [`step`](Self::step) takes an [`Observation`] and returns [`Action`]s, with no IO
/// and no clock of its own.
///
/// It keeps a view of the fleet and converts units to a target release in waves (the new release going
/// forward, the previous one rolling back). A wave takes down units for free, then serving units in place while
/// `serving >= desired - max_unavailable`, then surge units while the fleet stays within `desired + max_surge`
/// (each replacing an old unit retired once the wave is available). Every converted unit passes the
/// [`HealthGate`](crate::HealthGate).
#[derive(Debug, Clone)]
pub struct Engine {
    cfg: RolloutConfig,
    caps: PlatformCapabilities,
    release: ReleaseId,
    previous: ReleaseId,
    analysis: bool,
    manual: bool,
    desired: usize,
    surge: usize,
    unavailable: usize,
    units: BTreeMap<UnitId, Track>,
    gating: BTreeSet<UnitId>,
    next_order: u64,
    mode: Mode,
    wave: Option<Wave>,
    batches: usize,
    stray_adds: usize,
    paused: Option<String>,
    inconclusive_pause: bool,
    last_progress: Duration,
    next_tick: Duration,
    refresh_busy: bool,
    started: bool,
    // canary
    step_idx: usize,
    step: StepState,
    analysis_running: bool,
    final_analysis_done: bool,
    first_serving: Option<Duration>,
    // blue-green
    bg: Option<BlueGreen>,
    blue: Vec<UnitId>,
    switched: bool,
    switch_back_pending: bool,
    wave_dirty: bool,
    // hotfix
    hotfix: Option<(String, Duration)>,
    outcome: Option<Outcome>,
}

impl Engine {
    /// A new engine; call [`step`](Self::step) with [`Observation::Start`] first.
    pub fn new(init: EngineInit) -> Result<Engine, RolloutError> {
        init.config.validate()?;
        let caps = init.capabilities.clone();
        if let Strategy::BlueGreen { .. } = init.config.strategy
            && !(caps.traffic_switch && caps.surge)
        {
            return Err(RolloutError::InvalidConfig {
                field: "strategy",
                reason: "blue-green needs a platform that can add units and switch traffic".into(),
            });
        }
        let resume = init.resume.clone().unwrap_or_default();
        let mode = match (&resume.rolling_back, init.manual) {
            (Some(t), _) => Mode::RollingBack(t.clone()),
            (None, true) => Mode::RollingBack(Trigger::Manual {
                to: init.release.clone(),
            }),
            (None, false) => Mode::Forward,
        };
        Ok(Engine {
            cfg: init.config,
            caps,
            release: init.release.clone(),
            previous: init.previous.unwrap_or_else(|| ReleaseId::new("")),
            analysis: init.analysis,
            manual: init.manual,
            desired: 0,
            surge: 0,
            unavailable: 1,
            units: BTreeMap::new(),
            gating: BTreeSet::new(),
            next_order: 0,
            mode,
            wave: None,
            batches: resume.batches,
            stray_adds: 0,
            paused: None,
            inconclusive_pause: false,
            last_progress: Duration::ZERO,
            next_tick: Duration::ZERO,
            refresh_busy: false,
            started: false,
            step_idx: resume.canary_step,
            step: StepState::Moving,
            analysis_running: false,
            final_analysis_done: false,
            first_serving: None,
            bg: None,
            blue: Vec::new(),
            switched: false,
            switch_back_pending: false,
            wave_dirty: false,
            hotfix: None,
            outcome: None,
        })
    }

    /// The outcome, once finished.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// Resolved `(max_surge, max_unavailable)` (after [`Observation::Start`]).
    pub fn budgets(&self) -> (usize, usize) {
        (self.surge, self.unavailable)
    }

    /// The fleet size the run keeps.
    pub fn desired(&self) -> usize {
        self.desired
    }

    /// The release being rolled out, and the one it replaces.
    pub fn releases(&self) -> (&ReleaseId, &ReleaseId) {
        (&self.release, &self.previous)
    }

    /// Whether the engine is rolling back.
    pub fn rolling_back(&self) -> bool {
        matches!(self.mode, Mode::RollingBack(_))
    }

    /// Units on each release, as the engine last saw them.
    pub fn units_by_release(&self) -> BTreeMap<ReleaseId, Vec<UnitId>> {
        group(
            self.units
                .iter()
                .map(|(id, t)| (id.clone(), t.release.clone())),
        )
    }

    /// Units counted as serving by the engine's budget rules.
    pub fn serving(&self) -> usize {
        self.units.values().filter(|t| self.available(t)).count()
    }

    /// Where the run stands, for a journal checkpoint.
    pub fn resume_point(&self) -> ResumePoint {
        ResumePoint {
            rolling_back: match &self.mode {
                Mode::RollingBack(t) => Some(t.clone()),
                _ => None,
            },
            batches: self.batches,
            canary_step: self.step_idx,
        }
    }

    fn target(&self) -> &ReleaseId {
        match self.mode {
            Mode::Forward => &self.release,
            _ if self.manual => &self.release,
            _ => &self.previous,
        }
    }

    fn lb_managed(&self) -> bool {
        self.caps.drain && self.cfg.drain && self.caps.model == ControlModel::Orchestrated
    }

    fn delegated(&self) -> bool {
        self.caps.model == ControlModel::Delegated
    }

    fn available(&self, t: &Track) -> bool {
        matches!(t.op, Op::None | Op::Done)
            && t.state == UnitState::Running
            && (t.in_lb || !self.caps.drain || self.delegated())
    }

    fn settled_on_target(&self, t: &Track) -> bool {
        t.release.as_ref() == Some(self.target())
            && match t.op {
                Op::Done => true,
                Op::None => self.available(t),
                _ => false,
            }
    }

    /// Feed one observation at `now` (time since the run started); returns what to do next.
    pub fn step(&mut self, now: Duration, obs: Observation) -> Vec<Action> {
        let mut out = Vec::new();
        if self.outcome.is_some() {
            return out;
        }
        let wave_event = !matches!(
            obs,
            Observation::Tick
                | Observation::Fleet { .. }
                | Observation::Deployed { .. }
                | Observation::Probed { .. }
                | Observation::Status { .. }
        ) || self.wave_dirty;
        match obs {
            Observation::Start { fleet } => self.on_start(now, fleet, &mut out),
            Observation::Tick => self.on_tick(now, &mut out),
            Observation::Fleet { units } => self.on_fleet(now, units, &mut out),
            Observation::Drained { unit } => self.on_drained(now, unit, &mut out),
            Observation::Restored { unit } => self.on_restored(now, unit, &mut out),
            Observation::Deployed { unit, deployment } => {
                if let Some(t) = self.units.get_mut(&unit)
                    && let Op::Gating(g) = &mut t.op
                {
                    g.deployment = Some(deployment.clone());
                    out.push(Action::Emit(DeployEvent::UnitDeploying {
                        unit,
                        deployment,
                        release: g.release.clone(),
                    }));
                }
            }
            Observation::Status {
                unit,
                deployment,
                status,
                message,
            } => self.on_status(now, unit, deployment, status, message, &mut out),
            Observation::Probed {
                unit,
                healthy,
                detail,
            } => self.on_probe(now, unit, healthy, detail, &mut out),
            Observation::Added { unit } => self.on_added(now, unit, &mut out),
            Observation::Removed { unit } => {
                self.gating.remove(&unit);
                if let Some(w) = &mut self.wave {
                    w.left.remove(&unit);
                    w.retire_left.remove(&unit);
                }
                if self.units.remove(&unit).is_some() {
                    self.last_progress = now;
                    out.push(Action::Emit(DeployEvent::UnitRemoved { unit }));
                }
            }
            Observation::Switched => {
                self.switched = !self.switched;
                self.switch_back_pending = false;
                self.last_progress = now;
                let green: Vec<UnitId> = self
                    .units
                    .iter()
                    .filter(|(id, _)| !self.blue.contains(id))
                    .map(|(id, _)| id.clone())
                    .collect();
                let (from, to) = if self.switched {
                    (self.blue.clone(), green.clone())
                } else {
                    (green.clone(), self.blue.clone())
                };
                for id in &to {
                    if let Some(t) = self.units.get_mut(id) {
                        t.in_lb = true;
                    }
                }
                for id in &from {
                    if let Some(t) = self.units.get_mut(id) {
                        t.in_lb = false;
                    }
                }
                out.push(Action::Emit(DeployEvent::TrafficSwitched { from, to }));
                if self.bg == Some(BlueGreen::Switching) {
                    self.bg = Some(BlueGreen::Switched);
                }
            }
            Observation::Analyzed { verdict } => self.on_analysis(now, verdict, &mut out),
            Observation::Failed {
                operation,
                unit,
                kind,
                message,
            } => self.on_failed(now, operation, unit, kind, message, &mut out),
            Observation::Command(c) => self.on_command(now, c, &mut out),
        }
        if self.started && self.outcome.is_none() {
            if wave_event {
                self.wave_dirty = true;
            }
            self.advance(now, &mut out);
        }
        out
    }

    fn on_start(&mut self, now: Duration, fleet: Vec<UnitView>, out: &mut Vec<Action>) {
        self.started = true;
        self.desired = fleet.len();
        let (s, u) = self.cfg.strategy.budgets();
        let (mut s, u) = resolve_budgets(s, u, self.desired);
        if !self.caps.surge || self.delegated() {
            s = 0;
        }
        self.surge = s;
        self.unavailable = u;
        if self.previous.as_str().is_empty() {
            let mut counts: BTreeMap<&ReleaseId, usize> = BTreeMap::new();
            for u in &fleet {
                if let Some(r) = &u.release
                    && r != &self.release
                {
                    *counts.entry(r).or_default() += 1;
                }
            }
            self.previous = counts
                .into_iter()
                .max_by_key(|(_, c)| *c)
                .map(|(r, _)| r.clone())
                .unwrap_or_else(|| self.release.clone());
        }
        for u in fleet {
            let order = self.next_order;
            self.next_order += 1;
            self.units.insert(
                u.id,
                Track {
                    release: u.release,
                    state: u.state,
                    in_lb: u.in_load_balancer,
                    op: Op::None,
                    probe_busy: false,
                    poll_busy: false,
                    bad_seen: 0,
                    order,
                },
            );
        }
        if matches!(self.cfg.strategy, Strategy::BlueGreen { .. }) && self.mode == Mode::Forward {
            self.blue = self.units.keys().cloned().collect();
        }
        self.last_progress = now;
        self.next_tick = now;
        out.push(Action::Emit(DeployEvent::FleetObserved {
            units_by_release: self.units_by_release(),
            desired: self.desired,
            max_surge: self.surge,
            max_unavailable: self.unavailable,
        }));
        if let Mode::RollingBack(t) = self.mode.clone() {
            out.push(Action::Emit(DeployEvent::RollbackPlanned {
                trigger: serde_json::to_value(&t).unwrap_or_default(),
                target: self.target().clone(),
            }));
            out.push(Action::Emit(DeployEvent::RollbackStarted {
                trigger: t.to_string(),
            }));
        }
        self.on_tick(now, out);
    }

    fn on_tick(&mut self, now: Duration, out: &mut Vec<Action>) {
        if now >= self.next_tick {
            let period = self.cfg.gate.period;
            while self.next_tick <= now {
                self.next_tick += period;
            }
            if !self.refresh_busy {
                self.refresh_busy = true;
                out.push(Action::Refresh);
            }
            let ids: Vec<UnitId> = self.gating.iter().cloned().collect();
            for id in ids {
                let timeout = self.cfg.gate.timeout;
                let initial = self.cfg.gate.initial_delay;
                let Some(t) = self.units.get_mut(&id) else {
                    continue;
                };
                let g = match &t.op {
                    Op::Gating(g) | Op::Restoring(g) => g,
                    _ => continue,
                };
                if let Some(d) = &g.deployment
                    && !g.status_done
                    && !t.poll_busy
                {
                    t.poll_busy = true;
                    out.push(Action::Poll {
                        unit: id.clone(),
                        deployment: d.clone(),
                    });
                }
                if now >= g.since + initial && !t.probe_busy {
                    t.probe_busy = true;
                    out.push(Action::Probe {
                        unit: id.clone(),
                        timeout,
                    });
                }
            }
        }
        // Timers.
        if let Some((issue, until)) = self.hotfix.clone()
            && now >= until
        {
            self.hotfix = None;
            self.trigger(
                now,
                Trigger::Issue {
                    issue: format!("{issue} (not fixed within the hotfix window)"),
                },
                out,
            );
        }
        if let StepState::Pausing(Some(until)) = self.step
            && now >= until
        {
            self.step = StepState::Moving;
            self.step_idx += 1;
            self.last_progress = now;
        }
        let waiting = self.paused.is_some()
            || self.analysis_running
            || matches!(self.step, StepState::Pausing(_));
        if !waiting && now.saturating_sub(self.last_progress) > self.cfg.progress_deadline {
            let deadline = self.cfg.progress_deadline;
            match &self.mode {
                Mode::Forward => self.trigger(now, Trigger::ProgressDeadline { deadline }, out),
                Mode::RollingBack(_) => {
                    self.fail_rollback(format!("no progress within {}s", deadline.as_secs()), out)
                }
                Mode::Finished => {}
            }
        }
        if self.outcome.is_none() {
            let mut wake = self.next_tick;
            if let StepState::Pausing(Some(u)) = self.step {
                wake = wake.min(u);
            }
            if let Some((_, u)) = &self.hotfix {
                wake = wake.min(*u);
            }
            out.push(Action::WakeAt(wake));
        }
    }

    fn observe_unit(&mut self, now: Duration, v: &UnitView, out: &mut Vec<Action>) {
        let forward = self.mode == Mode::Forward;
        let threshold = self.cfg.gate.failure_threshold;
        let target = self.target().clone();
        let Some(t) = self.units.get_mut(&v.id) else {
            return;
        };
        // A unit with an operation in flight is tracked by that operation (a listing may predate it).
        if !matches!(t.op, Op::None | Op::Done | Op::Failed { .. }) {
            return;
        }
        t.release = v.release.clone();
        t.state = v.state;
        t.in_lb = v.in_load_balancer;
        // Monitoring of units that already passed their gate in this mode.
        if matches!(t.op, Op::Done) && t.release.as_ref() == Some(&target) {
            match v.state {
                UnitState::Crashed => {
                    t.bad_seen = 0;
                    if forward {
                        self.trigger(now, Trigger::Crash { unit: v.id.clone() }, out);
                    } else {
                        t.op = Op::None;
                    }
                }
                UnitState::Unhealthy | UnitState::Stopped | UnitState::Unknown => {
                    t.bad_seen += 1;
                    if t.bad_seen >= threshold {
                        t.bad_seen = 0;
                        if forward {
                            self.trigger(
                                now,
                                Trigger::HealthGate {
                                    unit: v.id.clone(),
                                    detail: format!("unit reported {:?}", v.state),
                                },
                                out,
                            );
                        } else {
                            t.op = Op::None;
                        }
                    }
                }
                _ => t.bad_seen = 0,
            }
        }
    }

    fn on_fleet(&mut self, now: Duration, units: Vec<UnitView>, out: &mut Vec<Action>) {
        self.refresh_busy = false;
        for v in &units {
            self.observe_unit(now, v, out);
            if self.outcome.is_some() {
                return;
            }
        }
    }

    fn on_drained(&mut self, now: Duration, unit: UnitId, out: &mut Vec<Action>) {
        let target = self.target().clone();
        let rollback = self.mode != Mode::Forward;
        let Some(t) = self.units.get_mut(&unit) else {
            return;
        };
        t.in_lb = false;
        let Op::Draining { deploy } = t.op else {
            return;
        };
        out.push(Action::Emit(DeployEvent::UnitDrained {
            unit: unit.clone(),
        }));
        if deploy {
            t.op = Op::Gating(Gate {
                release: target.clone(),
                since: now,
                deployment: None,
                status_done: false,
                started: false,
                successes: 0,
                failures: 0,
                ready_at: None,
                restore: true,
            });
            self.gating.insert(unit.clone());
            out.push(Action::Deploy {
                unit,
                release: target,
                rollback,
            });
        } else {
            t.op = Op::Removing;
            out.push(Action::Remove(unit));
        }
    }

    fn on_restored(&mut self, now: Duration, unit: UnitId, out: &mut Vec<Action>) {
        let Some(t) = self.units.get_mut(&unit) else {
            return;
        };
        t.in_lb = true;
        if let Op::Restoring(g) = &t.op {
            let g = g.clone();
            out.push(Action::Emit(DeployEvent::UnitRestored {
                unit: unit.clone(),
            }));
            t.op = Op::Gating(g);
            self.maybe_done(now, &unit, out);
        }
    }

    fn on_status(
        &mut self,
        now: Duration,
        unit: UnitId,
        deployment: DeploymentId,
        status: DeploymentStatus,
        message: Option<String>,
        out: &mut Vec<Action>,
    ) {
        let Some(t) = self.units.get_mut(&unit) else {
            return;
        };
        t.poll_busy = false;
        let g = match &mut t.op {
            Op::Gating(g) | Op::Restoring(g) => g,
            _ => return,
        };
        if g.deployment.as_ref() != Some(&deployment) {
            return;
        }
        if status.is_failure() {
            let detail = message.unwrap_or_else(|| {
                format!("the platform reported the deployment {status:?}").to_lowercase()
            });
            let trig = if status == DeploymentStatus::Crashed {
                Trigger::Crash { unit: unit.clone() }
            } else {
                Trigger::DeploymentFailed {
                    unit: unit.clone(),
                    detail: detail.clone(),
                }
            };
            self.unit_failed(now, &unit, detail, trig, out);
        } else if status.is_terminal() {
            g.status_done = true;
            if status == DeploymentStatus::Succeeded {
                g.started = true;
            } else {
                // Cancelled or removed: someone else replaced it.
                let detail = format!("deployment ended {status:?}").to_lowercase();
                let trig = Trigger::DeploymentFailed {
                    unit: unit.clone(),
                    detail: detail.clone(),
                };
                self.unit_failed(now, &unit, detail, trig, out);
            }
        }
    }

    fn unit_failed(
        &mut self,
        now: Duration,
        unit: &UnitId,
        detail: String,
        trig: Trigger,
        out: &mut Vec<Action>,
    ) {
        self.gating.remove(unit);
        if let Some(t) = self.units.get_mut(unit) {
            t.op = Op::Failed {
                not_before: now + self.cfg.gate.period,
            };
        }
        out.push(Action::Emit(DeployEvent::UnitUnhealthy {
            unit: unit.clone(),
            detail,
        }));
        if self.mode == Mode::Forward {
            self.trigger(now, trig, out);
        } else if let Some(w) = &mut self.wave {
            // Rolling back: the unit leaves this wave and is picked again after a period.
            w.left.remove(unit);
            self.wave_dirty = true;
        }
    }

    fn on_probe(
        &mut self,
        now: Duration,
        v: UnitView,
        healthy: bool,
        detail: Option<String>,
        out: &mut Vec<Action>,
    ) {
        let delegated = self.delegated();
        let success_threshold = self.cfg.gate.success_threshold;
        let failure_threshold = self.cfg.gate.failure_threshold;
        let lb = self.lb_managed();
        let id = v.id.clone();
        let Some(t) = self.units.get_mut(&id) else {
            return;
        };
        t.probe_busy = false;
        t.release = v.release.clone();
        t.state = v.state;
        t.in_lb = v.in_load_balancer;
        let in_lb = t.in_lb;
        let g = match &mut t.op {
            Op::Gating(g) | Op::Restoring(g) => g,
            _ => return,
        };
        if v.state == UnitState::Crashed && v.release.as_ref() == Some(&g.release) {
            self.unit_failed(
                now,
                &id,
                "crashed".into(),
                Trigger::Crash { unit: id.clone() },
                out,
            );
            return;
        }
        // Orchestrated: the unit is up once the platform reports it on the new release and past booting
        // (running, or running but failing its health: a surge unit has no deployment to poll).
        if !g.started
            && !delegated
            && matches!(v.state, UnitState::Running | UnitState::Unhealthy)
            && v.release.as_ref() == Some(&g.release)
        {
            g.started = true;
        }
        if !g.started {
            return;
        }
        if healthy {
            g.failures = 0;
            g.successes += 1;
            if g.ready_at.is_none() && g.successes >= success_threshold {
                g.ready_at = Some(now);
                self.last_progress = now;
                if self.first_serving.is_none() {
                    self.first_serving = Some(now);
                }
                out.push(Action::Emit(DeployEvent::UnitReady { unit: id.clone() }));
                let restore = g.restore && lb && !in_lb;
                if restore {
                    let g2 = g.clone();
                    t.op = Op::Restoring(g2);
                    out.push(Action::Restore(id.clone()));
                    return;
                }
            }
            self.maybe_done(now, &id, out);
        } else {
            g.successes = 0;
            g.failures += 1;
            if g.failures >= failure_threshold {
                let detail = detail.unwrap_or_else(|| "probe failed".into());
                let trig = Trigger::HealthGate {
                    unit: id.clone(),
                    detail: detail.clone(),
                };
                self.unit_failed(now, &id, detail, trig, out);
            }
        }
    }

    /// A gated unit is done once it is ready, back in the load balancer (where needed) and baked.
    fn maybe_done(&mut self, now: Duration, id: &UnitId, out: &mut Vec<Action>) {
        let min_ready = self.cfg.gate.min_ready;
        let Some(t) = self.units.get_mut(id) else {
            return;
        };
        let Op::Gating(g) = &t.op else {
            return;
        };
        let Some(ready_at) = g.ready_at else {
            return;
        };
        if now >= ready_at + min_ready {
            let release = g.release.clone();
            t.op = Op::Done;
            t.bad_seen = 0;
            self.gating.remove(id);
            self.wave_dirty = true;
            if let Some(w) = &mut self.wave {
                w.left.remove(id);
            }
            self.last_progress = now;
            out.push(Action::Emit(DeployEvent::UnitAvailable {
                unit: id.clone(),
                release,
            }));
        }
    }

    fn on_added(&mut self, now: Duration, v: UnitView, out: &mut Vec<Action>) {
        let order = self.next_order;
        self.next_order += 1;
        let target = self.target().clone();
        let release = v.release.clone().unwrap_or_else(|| target.clone());
        let in_wave = match &mut self.wave {
            Some(w) if w.adds_pending > 0 && release == target => {
                w.adds_pending -= 1;
                w.left.insert(v.id.clone());
                true
            }
            _ => {
                self.stray_adds = self.stray_adds.saturating_sub(1);
                false
            }
        };
        let bluegreen = self.bg.is_some();
        let op = if in_wave {
            self.gating.insert(v.id.clone());
            Op::Gating(Gate {
                release: release.clone(),
                since: now,
                deployment: None,
                status_done: true,
                started: false,
                successes: 0,
                failures: 0,
                ready_at: None,
                restore: !bluegreen,
            })
        } else {
            Op::None
        };
        self.units.insert(
            v.id.clone(),
            Track {
                release: Some(release.clone()),
                state: v.state,
                in_lb: v.in_load_balancer,
                op,
                probe_busy: false,
                poll_busy: false,
                bad_seen: 0,
                order,
            },
        );
        self.last_progress = now;
        out.push(Action::Emit(DeployEvent::UnitAdded {
            unit: v.id,
            release,
        }));
    }

    fn on_analysis(&mut self, now: Duration, verdict: AnalysisVerdict, out: &mut Vec<Action>) {
        if !self.analysis_running {
            return;
        }
        self.analysis_running = false;
        self.last_progress = now;
        let (name, reason) = match &verdict {
            AnalysisVerdict::Pass => ("pass", None),
            AnalysisVerdict::Fail { reason } => ("fail", Some(reason.clone())),
            AnalysisVerdict::Inconclusive { reason } => ("inconclusive", Some(reason.clone())),
        };
        out.push(Action::Emit(DeployEvent::Analysis {
            verdict: name.into(),
            reason: reason.clone(),
        }));
        if self.mode != Mode::Forward {
            return;
        }
        match verdict {
            AnalysisVerdict::Pass => self.analysis_passed(),
            AnalysisVerdict::Fail { reason } => {
                self.trigger(now, Trigger::AnalysisFailed { reason }, out)
            }
            AnalysisVerdict::Inconclusive { reason } => match self.cfg.analysis.on_inconclusive {
                InconclusivePolicy::Fail => {
                    self.trigger(now, Trigger::AnalysisInconclusive { reason }, out)
                }
                InconclusivePolicy::Pause => {
                    self.inconclusive_pause = true;
                    let r = format!("analysis inconclusive: {reason}");
                    self.paused = Some(r.clone());
                    out.push(Action::Emit(DeployEvent::Paused { reason: r }));
                }
            },
        }
    }

    fn analysis_passed(&mut self) {
        if self.step == StepState::Analyzing {
            self.step = StepState::Moving;
            self.step_idx += 1;
        } else if self.bg == Some(BlueGreen::PreAnalysis) {
            self.bg = Some(BlueGreen::Switching);
        } else {
            self.final_analysis_done = self.final_analysis_done || self.all_converted();
        }
    }

    fn on_failed(
        &mut self,
        now: Duration,
        operation: Operation,
        unit: Option<UnitId>,
        kind: String,
        message: String,
        out: &mut Vec<Action>,
    ) {
        match operation {
            Operation::Refresh => {
                self.refresh_busy = false;
                return;
            }
            Operation::Probe | Operation::Poll => {
                if let Some(t) = unit.as_ref().and_then(|u| self.units.get_mut(u)) {
                    if operation == Operation::Probe {
                        t.probe_busy = false;
                    } else {
                        t.poll_busy = false;
                    }
                }
                return;
            }
            Operation::Analyze => {
                self.on_analysis(
                    now,
                    AnalysisVerdict::Inconclusive {
                        reason: format!("analysis error ({kind}): {message}"),
                    },
                    out,
                );
                return;
            }
            _ => {}
        }
        let not_before = now + self.cfg.gate.period;
        match operation {
            Operation::Add => {
                if let Some(w) = &mut self.wave
                    && w.adds_pending > 0
                {
                    w.adds_pending -= 1;
                    // The old unit this surge unit was to replace stays: never shrink the fleet.
                    if !w.retiring
                        && let Some(keep) = w.retire.pop()
                    {
                        w.retire_left.remove(&keep);
                        if let Some(t) = self.units.get_mut(&keep) {
                            t.op = Op::None;
                        }
                    }
                    self.wave_dirty = true;
                } else {
                    self.stray_adds = self.stray_adds.saturating_sub(1);
                }
            }
            Operation::Switch => {
                if self.bg == Some(BlueGreen::Switching) {
                    self.bg = Some(BlueGreen::PreAnalysis);
                    self.analysis_running = false;
                }
            }
            _ => {
                if let Some(u) = &unit {
                    self.gating.remove(u);
                    if let Some(t) = self.units.get_mut(u) {
                        // A failed drain or remove left the unit as it was (still serving): judge it by its
                        // state, not as down. A failed deploy or restore leaves it out of service.
                        t.op = if matches!(operation, Operation::Drain | Operation::Remove) {
                            Op::None
                        } else {
                            Op::Failed { not_before }
                        };
                    }
                }
            }
        }
        if self.mode == Mode::Forward {
            self.trigger(
                now,
                Trigger::PlatformError {
                    operation: operation.name().into(),
                    kind,
                },
                out,
            );
        } else if let Some(w) = &mut self.wave {
            // Rolling back: drop the failed unit from the wave; it is picked again later.
            if let Some(u) = &unit {
                w.left.remove(u);
                w.retire.retain(|m| m != u);
                w.retire_left.remove(u);
            }
        }
    }

    fn on_command(&mut self, now: Duration, c: Command, out: &mut Vec<Action>) {
        match c {
            Command::Pause => {
                if self.paused.is_none() {
                    self.paused = Some("paused by operator".into());
                    out.push(Action::Emit(DeployEvent::Paused {
                        reason: "paused by operator".into(),
                    }));
                }
            }
            Command::Resume => {
                let was = self.paused.take().is_some();
                if self.step == StepState::Pausing(None) {
                    self.step = StepState::Moving;
                    self.step_idx += 1;
                } else if self.inconclusive_pause {
                    self.analysis_passed();
                }
                self.inconclusive_pause = false;
                self.last_progress = now;
                if was || self.step == StepState::Moving {
                    out.push(Action::Emit(DeployEvent::Resumed));
                }
            }
            Command::Abort => {
                if self.mode == Mode::Forward {
                    self.trigger(now, Trigger::Aborted, out);
                }
            }
            Command::Report(issue) => match issue.decide(self.cfg.hotfix_window) {
                Decision::RollbackNow => self.trigger(
                    now,
                    Trigger::Issue {
                        issue: issue.summary,
                    },
                    out,
                ),
                Decision::Hotfix { window } => {
                    out.push(Action::Emit(DeployEvent::HotfixWindowOpened {
                        issue: issue.summary.clone(),
                        window_secs: window.as_secs(),
                    }));
                    self.hotfix = Some((issue.summary, now + window));
                    out.push(Action::WakeAt(now + window));
                }
            },
            Command::Resolved => {
                if self.hotfix.take().is_some() {
                    out.push(Action::Emit(DeployEvent::IssueResolved));
                }
            }
        }
    }

    /// A critical trigger fired.
    fn trigger(&mut self, now: Duration, trigger: Trigger, out: &mut Vec<Action>) {
        if self.mode != Mode::Forward {
            return;
        }
        if !self.cfg.auto_rollback {
            let ubr = self.units_by_release();
            out.push(Action::Emit(DeployEvent::RolloutFinished {
                outcome: "halted".into(),
                units_by_release: ubr.clone(),
            }));
            self.finish(
                Outcome::Halted {
                    trigger,
                    units_by_release: ubr,
                },
                out,
            );
            return;
        }
        self.mode = Mode::RollingBack(trigger.clone());
        out.push(Action::Emit(DeployEvent::RollbackPlanned {
            trigger: serde_json::to_value(&trigger).unwrap_or_default(),
            target: self.previous.clone(),
        }));
        out.push(Action::Emit(DeployEvent::RollbackStarted {
            trigger: trigger.to_string(),
        }));
        if let Some(w) = self.wave.take() {
            self.stray_adds += w.adds_pending;
        }
        self.paused = None;
        self.inconclusive_pause = false;
        self.analysis_running = false;
        self.step = StepState::Moving;
        self.hotfix = None;
        self.last_progress = now;
        for (id, t) in self.units.iter_mut() {
            match &t.op {
                Op::Gating(_) | Op::Restoring(_) => {
                    self.gating.remove(id);
                    t.op = Op::Failed { not_before: now };
                }
                Op::Done | Op::Failed { .. } => t.op = Op::None,
                // A retirement that has not reached removal is cancelled: rolling back keeps old units.
                Op::Draining { deploy: false } => t.op = Op::None,
                _ => {}
            }
        }
        if let Some(bg) = self.bg.clone() {
            // Blue-green: blue never stopped running; send traffic back if it moved, then remove green.
            if self.switched && bg != BlueGreen::RemovingBlue {
                self.switch_back_pending = true;
                out.push(Action::Switch {
                    from: self
                        .units
                        .keys()
                        .filter(|id| !self.blue.contains(id))
                        .cloned()
                        .collect(),
                    to: self.blue.clone(),
                });
            }
            self.bg = None;
        }
    }

    fn fail_rollback(&mut self, reason: String, out: &mut Vec<Action>) {
        let Mode::RollingBack(trigger) = self.mode.clone() else {
            return;
        };
        let ubr = self.units_by_release();
        out.push(Action::Emit(DeployEvent::RolloutFinished {
            outcome: "rollback_failed".into(),
            units_by_release: ubr.clone(),
        }));
        self.finish(
            Outcome::RollbackFailed {
                trigger,
                reason,
                units_by_release: ubr,
            },
            out,
        );
    }

    fn finish(&mut self, outcome: Outcome, out: &mut Vec<Action>) {
        self.mode = Mode::Finished;
        self.outcome = Some(outcome.clone());
        out.push(Action::Finish(outcome));
    }

    fn all_converted(&self) -> bool {
        self.units.len() == self.desired && self.units.values().all(|t| self.settled_on_target(t))
    }

    fn goal(&self) -> usize {
        if self.mode != Mode::Forward {
            return self.desired;
        }
        if let Strategy::Canary { steps, .. } = &self.cfg.strategy {
            let mut goal = 0;
            for s in steps.iter().take(self.step_idx + 1) {
                match s {
                    CanaryStep::SetWeight(w) => {
                        goal = (self.desired * *w as usize).div_ceil(100);
                    }
                    CanaryStep::SetScale(n) => goal = (*n).min(self.desired),
                    _ => {}
                }
            }
            if self.step_idx >= steps.len() {
                return self.desired;
            }
            return goal;
        }
        self.desired
    }

    /// Move the run forward: finish waves, start new ones, walk canary steps, finish the run.
    fn advance(&mut self, now: Duration, out: &mut Vec<Action>) {
        if self.mode == Mode::Finished {
            return;
        }
        if matches!(self.cfg.strategy, Strategy::BlueGreen { .. }) && self.mode == Mode::Forward {
            self.advance_blue_green(now, out);
            return;
        }
        if self.switch_back_pending {
            return;
        }
        if self.wave.is_some() {
            if !self.wave_dirty {
                return;
            }
            self.wave_dirty = false;
            self.check_wave(now, out);
            if self.wave.is_some() || self.outcome.is_some() {
                return;
            }
        }
        if self.paused.is_some() || self.analysis_running {
            return;
        }
        // Canary steps that are not "move units".
        if self.mode == Mode::Forward
            && let Strategy::Canary { steps, .. } = &self.cfg.strategy
        {
            let steps = steps.clone();
            loop {
                if self.step != StepState::Moving || self.step_idx >= steps.len() {
                    break;
                }
                match &steps[self.step_idx] {
                    CanaryStep::Pause(d) => {
                        out.push(Action::Emit(DeployEvent::StepStarted {
                            step: self.step_idx,
                            description: steps[self.step_idx].to_string(),
                        }));
                        self.step = StepState::Pausing(d.map(|d| now + d));
                        let reason = steps[self.step_idx].to_string();
                        out.push(Action::Emit(DeployEvent::Paused { reason }));
                        if let Some(d) = d {
                            out.push(Action::WakeAt(now + *d));
                        }
                        return;
                    }
                    CanaryStep::Analysis => {
                        out.push(Action::Emit(DeployEvent::StepStarted {
                            step: self.step_idx,
                            description: "analysis".into(),
                        }));
                        if self.analysis {
                            self.step = StepState::Analyzing;
                            self.start_analysis(now, out);
                            return;
                        }
                        self.step_idx += 1;
                    }
                    _ => {
                        let on = self
                            .units
                            .values()
                            .filter(|t| self.settled_on_target(t))
                            .count();
                        if on >= self.goal() {
                            self.step_idx += 1;
                            self.last_progress = now;
                        } else {
                            break;
                        }
                    }
                }
            }
            if self.step != StepState::Moving {
                return;
            }
        }
        self.plan_wave(now, out);
        if self.wave.is_some() {
            return;
        }
        // Nothing to move: finished?
        if self.stray_adds > 0 || self.gating.iter().next().is_some() {
            return;
        }
        if self.units.values().any(|t| {
            matches!(
                t.op,
                Op::Draining { .. } | Op::Removing | Op::Restoring(_) | Op::Gating(_)
            )
        }) {
            return;
        }
        let goal = self.goal();
        let on = self
            .units
            .values()
            .filter(|t| self.settled_on_target(t))
            .count();
        if on < goal || (goal == self.desired && !self.all_converted()) {
            return; // blocked by the budget; a tick re-plans
        }
        match self.mode.clone() {
            Mode::Forward => {
                if self.analysis && self.cfg.analysis.before_success && !self.final_analysis_done {
                    self.start_analysis(now, out);
                    return;
                }
                out.push(Action::Emit(DeployEvent::RolloutFinished {
                    outcome: "succeeded".into(),
                    units_by_release: self.units_by_release(),
                }));
                self.finish(Outcome::Succeeded, out);
            }
            Mode::RollingBack(trigger) => {
                out.push(Action::Emit(DeployEvent::RolloutFinished {
                    outcome: "rolled_back".into(),
                    units_by_release: self.units_by_release(),
                }));
                self.finish(Outcome::RolledBack { trigger }, out);
            }
            Mode::Finished => {}
        }
    }

    fn start_analysis(&mut self, now: Duration, out: &mut Vec<Action>) {
        self.analysis_running = true;
        let updated: Vec<UnitId> = self
            .units
            .iter()
            .filter(|(_, t)| t.release.as_ref() == Some(&self.release))
            .map(|(id, _)| id.clone())
            .collect();
        let window = self
            .first_serving
            .map(|f| now.saturating_sub(f))
            .unwrap_or_default();
        out.push(Action::Analyze { updated, window });
    }

    fn check_wave(&mut self, now: Duration, out: &mut Vec<Action>) {
        let Some(w) = &self.wave else {
            return;
        };
        if w.adds_pending > 0 || !w.left.is_empty() {
            return;
        }
        if !w.retiring && !w.retire.is_empty() {
            let lb = self.lb_managed();
            let retire = w.retire.clone();
            for r in &retire {
                if let Some(t) = self.units.get_mut(r) {
                    if lb && t.in_lb {
                        t.op = Op::Draining { deploy: false };
                        out.push(Action::Drain(r.clone()));
                    } else {
                        t.op = Op::Removing;
                        out.push(Action::Remove(r.clone()));
                    }
                }
            }
            if let Some(w) = &mut self.wave {
                w.retiring = true;
            }
            return;
        }
        if !w.retire_left.is_empty() {
            return;
        }
        let no = w.no;
        self.wave = None;
        self.last_progress = now;
        out.push(Action::Emit(DeployEvent::BatchCompleted { batch: no }));
        if self.mode == Mode::Forward
            && self.analysis
            && self.cfg.analysis.after_each_batch
            && !matches!(self.cfg.strategy, Strategy::Canary { .. })
        {
            self.start_analysis(now, out);
        }
    }

    fn plan_wave(&mut self, now: Duration, out: &mut Vec<Action>) {
        let target = self.target().clone();
        let goal = self.goal();
        let on_target = self
            .units
            .values()
            .filter(|t| self.settled_on_target(t))
            .count();
        let mut need = goal.saturating_sub(on_target);
        // Units on their way out (retire or removal in flight) no longer count as part of the fleet.
        let leaving = self
            .units
            .values()
            .filter(|t| matches!(t.op, Op::Removing | Op::Draining { deploy: false }))
            .count();
        let present = self.units.len() - leaving;
        let mut excess = present.saturating_sub(self.desired);
        let mut short = self.desired.saturating_sub(present);
        if need == 0 && excess == 0 && short == 0 {
            return;
        }
        let delegated = self.delegated();
        // Candidates: units not on the target (or down on it) and not busy.
        let mut cands: Vec<(bool, u64, UnitId)> = self
            .units
            .iter()
            .filter(|(_, t)| match t.op {
                Op::None => !self.settled_on_target(t),
                Op::Failed { not_before } => now >= not_before,
                _ => false,
            })
            .map(|(id, t)| (self.available(t), t.order, id.clone()))
            .collect();
        if cands.is_empty() && (short == 0 || !self.caps.surge || delegated) {
            return;
        }
        // Down units first (free), then in fleet order.
        cands.sort();
        let serving = self.units.values().filter(|t| self.available(t)).count();
        let floor = self.desired.saturating_sub(self.unavailable);
        let mut budget = serving.saturating_sub(floor);
        let mut room = (self.desired + self.surge).saturating_sub(self.units.len());
        let mut in_place: Vec<UnitId> = Vec::new();
        let mut removes: Vec<UnitId> = Vec::new();
        let mut adds = 0usize;
        let mut retire: Vec<UnitId> = Vec::new();
        for (avail, _, id) in cands {
            let on_target = self.units.get(&id).and_then(|t| t.release.as_ref()) == Some(&target);
            if !avail {
                if excess > 0 && !on_target {
                    removes.push(id);
                    excess -= 1;
                } else if need > 0 {
                    in_place.push(id);
                    need -= 1;
                }
                continue;
            }
            if delegated {
                if need > 0 {
                    in_place.push(id);
                    need -= 1;
                }
                continue;
            }
            if excess > 0 && !on_target && budget > 0 {
                removes.push(id);
                excess -= 1;
                budget -= 1;
            } else if need == 0 {
                continue;
            } else if room > 0 {
                adds += 1;
                room -= 1;
                retire.push(id);
                need -= 1;
            } else if budget > 0 {
                in_place.push(id);
                budget -= 1;
                need -= 1;
            }
        }
        // A fleet left short (a unit lost to a removal that raced a rollback) is topped up: adding never
        // costs capacity.
        if self.caps.surge && !delegated {
            while short > 0 && need > 0 && room > 0 {
                adds += 1;
                short -= 1;
                need -= 1;
                room -= 1;
            }
        }
        if in_place.is_empty() && removes.is_empty() && adds == 0 {
            return;
        }
        let no = self.batches;
        self.batches += 1;
        let mut members: Vec<UnitId> = in_place.clone();
        members.extend(removes.iter().cloned());
        out.push(Action::Emit(DeployEvent::BatchStarted {
            batch: no,
            units: members.clone(),
        }));
        let lb = self.lb_managed();
        let rollback = self.mode != Mode::Forward;
        for id in &in_place {
            let t = self.units.get_mut(id).expect("candidate exists");
            t.bad_seen = 0;
            if lb && t.in_lb {
                t.op = Op::Draining { deploy: true };
                out.push(Action::Drain(id.clone()));
            } else {
                t.op = Op::Gating(Gate {
                    release: target.clone(),
                    since: now,
                    deployment: None,
                    status_done: false,
                    started: false,
                    successes: 0,
                    failures: 0,
                    ready_at: None,
                    restore: true,
                });
                self.gating.insert(id.clone());
                out.push(Action::Deploy {
                    unit: id.clone(),
                    release: target.clone(),
                    rollback,
                });
            }
        }
        for id in &removes {
            let t = self.units.get_mut(id).expect("candidate exists");
            if lb && t.in_lb {
                t.op = Op::Draining { deploy: false };
                out.push(Action::Drain(id.clone()));
            } else {
                t.op = Op::Removing;
                out.push(Action::Remove(id.clone()));
            }
        }
        for _ in 0..adds {
            out.push(Action::Add {
                release: target.clone(),
            });
        }
        self.wave = Some(Wave {
            no,
            left: members.into_iter().collect(),
            adds_pending: adds,
            retire_left: retire.iter().cloned().collect(),
            retire,
            retiring: false,
        });
        self.last_progress = now;
    }

    fn advance_blue_green(&mut self, now: Duration, out: &mut Vec<Action>) {
        let pre = matches!(
            self.cfg.strategy,
            Strategy::BlueGreen {
                pre_promotion_analysis: true
            }
        );
        match self.bg.clone() {
            None => {
                if self.paused.is_some() {
                    return;
                }
                let no = self.batches;
                self.batches += 1;
                out.push(Action::Emit(DeployEvent::BatchStarted {
                    batch: no,
                    units: Vec::new(),
                }));
                for _ in 0..self.desired {
                    out.push(Action::Add {
                        release: self.release.clone(),
                    });
                }
                self.wave = Some(Wave {
                    no,
                    left: BTreeSet::new(),
                    adds_pending: self.desired,
                    retire: Vec::new(),
                    retire_left: BTreeSet::new(),
                    retiring: false,
                });
                self.bg = Some(BlueGreen::Green);
                self.last_progress = now;
            }
            Some(BlueGreen::Green) => {
                let Some(w) = &self.wave else { return };
                if w.adds_pending > 0 || !w.left.is_empty() {
                    return;
                }
                let no = w.no;
                self.wave = None;
                out.push(Action::Emit(DeployEvent::BatchCompleted { batch: no }));
                self.bg = Some(BlueGreen::PreAnalysis);
                if pre && self.analysis {
                    self.start_analysis(now, out);
                } else {
                    self.bg = Some(BlueGreen::Switching);
                    self.advance_blue_green(now, out);
                }
            }
            Some(BlueGreen::PreAnalysis) => {
                if !self.analysis_running && self.paused.is_none() {
                    self.bg = Some(BlueGreen::Switching);
                    self.advance_blue_green(now, out);
                }
            }
            Some(BlueGreen::Switching) => {
                if self.paused.is_some() || self.analysis_running || self.switched {
                    return;
                }
                // Request once: mark by moving to Switching with analysis_running as a latch.
                self.analysis_running = false;
                let green: Vec<UnitId> = self
                    .units
                    .keys()
                    .filter(|id| !self.blue.contains(id))
                    .cloned()
                    .collect();
                out.push(Action::Switch {
                    from: self.blue.clone(),
                    to: green,
                });
                self.bg = Some(BlueGreen::Switched);
            }
            Some(BlueGreen::Switched) => {
                if !self.switched || self.analysis_running || self.paused.is_some() {
                    return;
                }
                if self.analysis && self.cfg.analysis.before_success && !self.final_analysis_done {
                    self.final_analysis_done = true;
                    self.start_analysis(now, out);
                    return;
                }
                for b in self.blue.clone() {
                    if let Some(t) = self.units.get_mut(&b) {
                        t.op = Op::Removing;
                        out.push(Action::Remove(b));
                    }
                }
                self.bg = Some(BlueGreen::RemovingBlue);
            }
            Some(BlueGreen::RemovingBlue) => {
                if self.blue.iter().any(|b| self.units.contains_key(b)) {
                    return;
                }
                out.push(Action::Emit(DeployEvent::RolloutFinished {
                    outcome: "succeeded".into(),
                    units_by_release: self.units_by_release(),
                }));
                self.finish(Outcome::Succeeded, out);
            }
        }
    }
}

#[cfg(test)]
mod tests;
