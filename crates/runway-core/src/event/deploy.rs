use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::{DeploymentId, EnvironmentId, ReleaseId, UnitId};

/// Events of the rollout engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeployEvent {
    /// A rollout began.
    RolloutStarted {
        /// Target environment.
        environment: EnvironmentId,
        /// The new release.
        release: ReleaseId,
        /// The release being replaced.
        previous: Option<ReleaseId>,
        /// Units in the fleet.
        units: usize,
        /// Strategy name.
        strategy: String,
    },
    /// A batch of units began updating.
    BatchStarted {
        /// Batch number from 0.
        batch: usize,
        /// Its units.
        units: Vec<UnitId>,
    },
    /// A unit was taken out of the load balancer.
    UnitDrained {
        /// The unit.
        unit: UnitId,
    },
    /// A deployment was started on a unit.
    UnitDeploying {
        /// The unit.
        unit: UnitId,
        /// The provider's deployment.
        deployment: DeploymentId,
        /// The release it deploys.
        release: ReleaseId,
    },
    /// A unit passed its readiness gate.
    UnitReady {
        /// The unit.
        unit: UnitId,
    },
    /// A unit failed its health gate.
    UnitUnhealthy {
        /// The unit.
        unit: UnitId,
        /// Why (redacted).
        detail: String,
    },
    /// A unit was put back into the load balancer.
    UnitRestored {
        /// The unit.
        unit: UnitId,
    },
    /// A batch finished.
    BatchCompleted {
        /// Batch number.
        batch: usize,
    },
    /// An analysis ran.
    Analysis {
        /// `pass`, `fail` or `inconclusive`.
        verdict: String,
        /// The reason, for fail and inconclusive.
        reason: Option<String>,
    },
    /// The rollout paused.
    Paused {
        /// Why.
        reason: String,
    },
    /// The rollout resumed.
    Resumed,
    /// A rollback began.
    RollbackStarted {
        /// What triggered it.
        trigger: String,
    },
    /// The rollout finished.
    RolloutFinished {
        /// `succeeded`, `rolled_back` or `rollback_failed`.
        outcome: String,
        /// Units on each release at the end.
        units_by_release: BTreeMap<ReleaseId, Vec<UnitId>>,
    },
    /// The fleet as the engine saw it when a run (or a resumed run) started.
    FleetObserved {
        /// Units on each release.
        units_by_release: BTreeMap<ReleaseId, Vec<UnitId>>,
        /// The fleet size the rollout keeps.
        desired: usize,
        /// Resolved surge budget (extra units allowed).
        max_surge: usize,
        /// Resolved unavailability budget (units allowed out of service).
        max_unavailable: usize,
    },
    /// A surge (or blue-green) unit was added.
    UnitAdded {
        /// The new unit.
        unit: UnitId,
        /// The release it runs.
        release: ReleaseId,
    },
    /// A unit was removed from the fleet (retired after its replacement was ready).
    UnitRemoved {
        /// The unit.
        unit: UnitId,
    },
    /// A unit stayed healthy for the whole bake (min-ready) time and counts as available.
    UnitAvailable {
        /// The unit.
        unit: UnitId,
        /// The release it runs.
        release: ReleaseId,
    },
    /// Traffic moved between two unit sets at once (blue-green).
    TrafficSwitched {
        /// Units that stopped receiving traffic.
        from: Vec<UnitId>,
        /// Units that now receive all traffic.
        to: Vec<UnitId>,
    },
    /// A canary step began.
    StepStarted {
        /// Step number from 0.
        step: usize,
        /// What the step does (`set_weight 20`, `pause 5m`, `analysis`).
        description: String,
    },
    /// The engine decided to roll back; `trigger` is the structured trigger (see runway-rollout's `Trigger`).
    RollbackPlanned {
        /// The trigger, as the engine serialises it.
        trigger: serde_json::Value,
        /// The release the fleet goes back to.
        target: ReleaseId,
    },
    /// A non-critical issue was reported: a hotfix may land within the window, else the rollout rolls back.
    HotfixWindowOpened {
        /// The issue.
        issue: String,
        /// Seconds left to fix it.
        window_secs: u64,
    },
    /// A reported non-critical issue was resolved within its window.
    IssueResolved,
    /// A driver picked up an unfinished run from its journal.
    RolloutResumed {
        /// Events already in the journal.
        journaled: u64,
        /// `continue` or `roll_back`.
        action: String,
    },
    /// The deploy lock was taken.
    LockAcquired {
        /// Who holds it.
        owner: String,
    },
    /// The deploy lock was released.
    LockReleased,
}
