//! The simulator's state: units with their epoch history, deployments, variables, secrets, logs.
//!
//! Unit state is never stepped by a background task: it is a pure function of the unit's epoch (what it runs
//! since when, whether the load balancer routes to it, when it crashed) and the current tokio instant. That
//! makes the simulator deterministic, cheap for 10,000 units, and exact under paused time.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use runway_core::{
    DeploymentId, DeploymentStatus, Environment, EnvironmentId, LogEntry, ReleaseId, SecretStage,
    Service, ServiceId, UnitId, UnitState, VariableScope, Variables,
};
use secrecy::SecretString;
use tokio::time::Instant;

use crate::profile::{HealthModel, ReleaseProfile};

/// One period of a unit's life with fixed parameters.
#[derive(Debug, Clone)]
pub(crate) struct Epoch {
    /// When this epoch began.
    pub(crate) since: Instant,
    /// The release it runs.
    pub(crate) release: ReleaseId,
    /// When that release's deployment started; `None`: running since before the simulation.
    pub(crate) deployed_at: Option<Instant>,
    /// Whether the load balancer routes to it.
    pub(crate) in_lb: bool,
    /// When it crashed, if it did during this deployment.
    pub(crate) crashed_at: Option<Instant>,
    /// Removed from the fleet.
    pub(crate) removed: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct SimUnit {
    pub(crate) id: UnitId,
    pub(crate) name: String,
    pub(crate) service: ServiceId,
    pub(crate) environment: EnvironmentId,
    pub(crate) replicas: u32,
    pub(crate) epochs: Vec<Epoch>,
    pub(crate) deployments: Vec<DeploymentId>,
    /// Every release the unit ran, in order (epochs at one instant collapse; this never does).
    pub(crate) releases: Vec<ReleaseId>,
    /// Crashes scheduled by the builder, absolute instants.
    pub(crate) scheduled_crashes: Vec<Instant>,
}

impl SimUnit {
    pub(crate) fn current(&self) -> &Epoch {
        self.epochs.last().expect("a unit always has an epoch")
    }

    pub(crate) fn epoch_at(&self, t: Instant) -> Option<&Epoch> {
        let idx = self.epochs.partition_point(|e| e.since <= t);
        idx.checked_sub(1).map(|i| &self.epochs[i])
    }

    /// Start a new epoch from the current one, changed by `f`.
    pub(crate) fn push_epoch(&mut self, now: Instant, f: impl FnOnce(&mut Epoch)) {
        let mut e = self.current().clone();
        e.since = now;
        f(&mut e);
        // Collapse epochs that start at the same instant (several changes in one call).
        if self.epochs.last().is_some_and(|l| l.since == now) {
            self.epochs.pop();
        }
        self.epochs.push(e);
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SimDeployment {
    pub(crate) id: DeploymentId,
    pub(crate) unit: UnitId,
    pub(crate) release: ReleaseId,
    pub(crate) created: Instant,
    pub(crate) idempotency_key: Option<String>,
    /// Superseded by a newer deployment of the same unit at this instant.
    pub(crate) superseded: Option<Instant>,
}

#[derive(Debug, Clone)]
pub(crate) struct SimSecretVersion {
    pub(crate) id: String,
    pub(crate) value: SecretString,
    pub(crate) stages: Vec<SecretStage>,
    pub(crate) created: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) environments: Vec<Environment>,
    pub(crate) services: Vec<Service>,
    pub(crate) unit_order: Vec<UnitId>,
    pub(crate) units: HashMap<UnitId, SimUnit>,
    pub(crate) deployments: HashMap<DeploymentId, SimDeployment>,
    pub(crate) next_id: u64,
    pub(crate) api_calls: u64,
    pub(crate) variables: HashMap<VariableScope, Variables>,
    pub(crate) pending_variable_changes: HashMap<VariableScope, usize>,
    pub(crate) secrets: BTreeMap<String, Vec<SimSecretVersion>>,
    pub(crate) event_logs: Vec<LogEntry>,
    /// Units ever created per service, so a new unit's number is O(1) to find.
    pub(crate) units_per_service: HashMap<ServiceId, usize>,
}

/// Timing defaults and profiles: everything needed to derive a unit's state.
#[derive(Debug, Clone)]
pub(crate) struct Behaviour {
    pub(crate) default_start: Duration,
    pub(crate) default_ready: Duration,
    pub(crate) profiles: HashMap<ReleaseId, ReleaseProfile>,
}

impl Behaviour {
    pub(crate) fn profile(&self, release: &ReleaseId) -> ReleaseProfile {
        self.profiles
            .get(release)
            .cloned()
            .unwrap_or_else(|| ReleaseProfile::healthy(release.clone()))
    }

    pub(crate) fn start_time(&self, p: &ReleaseProfile) -> Duration {
        p.start_time.unwrap_or(self.default_start)
    }

    pub(crate) fn ready_time(&self, p: &ReleaseProfile) -> Duration {
        p.ready_time.unwrap_or(self.default_ready)
    }

    /// The state of a unit in `epoch` at `t` (the epoch must be the one in force at `t`).
    pub(crate) fn state(&self, unit: &SimUnit, epoch: &Epoch, t: Instant) -> UnitState {
        if epoch.removed {
            return UnitState::Stopped;
        }
        if let Some(c) = epoch.crashed_at
            && c <= t
        {
            return UnitState::Crashed;
        }
        let since_deploy = epoch.deployed_at;
        if unit
            .scheduled_crashes
            .iter()
            .any(|&c| c <= t && since_deploy.is_none_or(|d| c >= d))
        {
            return UnitState::Crashed;
        }
        let p = self.profile(&epoch.release);
        let Some(deployed) = since_deploy else {
            // Running since before the simulation: steady state of its health model, measured from the origin.
            return self.steady(&p, None, t);
        };
        let start = self.start_time(&p);
        let ready = self.ready_time(&p);
        let elapsed = t.saturating_duration_since(deployed);
        if let HealthModel::CrashAfter(after) = p.health
            && elapsed >= start + after
        {
            return UnitState::Crashed;
        }
        if elapsed < start + ready {
            return UnitState::Starting;
        }
        self.steady(&p, Some(deployed + start + ready), t)
    }

    fn steady(&self, p: &ReleaseProfile, ready_at: Option<Instant>, t: Instant) -> UnitState {
        let since_ready = ready_at.map(|r| t.saturating_duration_since(r));
        match p.health {
            HealthModel::Healthy => UnitState::Running,
            HealthModel::Unhealthy => UnitState::Unhealthy,
            HealthModel::UnhealthyAfter(d) => match since_ready {
                Some(s) if s < d => UnitState::Running,
                _ => UnitState::Unhealthy,
            },
            HealthModel::Flapping(period) => {
                let s = since_ready.unwrap_or_default();
                let n = s.as_nanos() / period.as_nanos().max(1);
                if n.is_multiple_of(2) {
                    UnitState::Running
                } else {
                    UnitState::Unhealthy
                }
            }
            HealthModel::CrashAfter(_) => {
                if ready_at.is_some() {
                    UnitState::Running
                } else {
                    UnitState::Crashed
                }
            }
        }
    }

    /// The instants after `from` (up to `to`) at which a unit's derived state may change within `epoch`.
    pub(crate) fn transitions(
        &self,
        unit: &SimUnit,
        epoch: &Epoch,
        from: Instant,
        to: Instant,
    ) -> Vec<Instant> {
        let mut out = Vec::new();
        let mut push = |t: Instant| {
            if t > from && t <= to {
                out.push(t);
            }
        };
        if let Some(c) = epoch.crashed_at {
            push(c);
        }
        for &c in &unit.scheduled_crashes {
            push(c);
        }
        let p = self.profile(&epoch.release);
        if let Some(d) = epoch.deployed_at {
            let start = self.start_time(&p);
            let ready_at = d + start + self.ready_time(&p);
            push(ready_at);
            match p.health {
                HealthModel::UnhealthyAfter(after) => push(ready_at + after),
                HealthModel::CrashAfter(after) => push(d + start + after),
                HealthModel::Flapping(period) => {
                    let mut t = ready_at + period;
                    while t <= to {
                        push(t);
                        t += period;
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// A deployment's status at `t`, derived from its unit.
    pub(crate) fn deployment_status(
        &self,
        state: &State,
        dep: &SimDeployment,
        t: Instant,
    ) -> DeploymentStatus {
        if dep.superseded.is_some_and(|s| s <= t) {
            return DeploymentStatus::Removed;
        }
        let Some(unit) = state.units.get(&dep.unit) else {
            return DeploymentStatus::Removed;
        };
        let Some(epoch) = unit.epoch_at(t) else {
            return DeploymentStatus::Queued;
        };
        match self.state(unit, epoch, t) {
            UnitState::Pending => DeploymentStatus::Queued,
            UnitState::Starting => DeploymentStatus::Deploying,
            UnitState::Running => DeploymentStatus::Succeeded,
            UnitState::Unhealthy => DeploymentStatus::Failed,
            UnitState::Crashed => DeploymentStatus::Crashed,
            UnitState::Stopped => DeploymentStatus::Removed,
            _ => DeploymentStatus::Deploying,
        }
    }
}
