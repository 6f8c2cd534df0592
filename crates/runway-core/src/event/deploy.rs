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
}
