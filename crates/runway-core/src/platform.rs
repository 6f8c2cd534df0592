//! The [`Platform`] trait: what a deploy target can do.
//!
//! Two provider models sit behind the one trait (see [`ControlModel`]):
//! - **orchestrated**: the rollout engine updates units one by one (the simulator; a fleet of Railway services
//!   `api-1..api-3`), draining each from the load balancer where the platform supports it;
//! - **delegated**: the platform rolls its replicas itself (one Railway service with N replicas, a Cloud66
//!   stack). The engine starts one deployment per unit, polls [`Platform::deployment`] until it is terminal,
//!   gates on its own health and analysis, and rolls back through [`Platform::rollback`].
//!
//! Providers whose mutations return only a boolean (Railway's rollback and restart) or an async action to
//! poll (Cloud66) find the resulting deployment themselves before returning a [`Deployment`]: callers always
//! get a deployment id to poll.

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::types::{
    Deployment, DeploymentId, Environment, EnvironmentId, Release, ReleaseId, Service, ServiceId,
    Unit, UnitId,
};

/// Who rolls replicas: the engine, or the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlModel {
    /// The engine updates units one by one.
    Orchestrated,
    /// The platform rolls its replicas itself and reports a deployment status.
    Delegated,
}

/// What a platform supports; engines read this instead of probing for `Unsupported` errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PlatformCapabilities {
    /// Orchestrated or delegated.
    pub model: ControlModel,
    /// [`Platform::drain`] and [`Platform::restore`] take a unit out of / back into the load balancer.
    pub drain: bool,
    /// [`Platform::rollback`] redeploys an earlier deployment without rebuilding.
    pub rollback: bool,
    /// [`Platform::restart`] restarts a unit without a new release.
    pub restart: bool,
    /// [`Platform::add_unit`] / [`Platform::remove_unit`] exist, so rollouts may surge above the fleet size.
    pub surge: bool,
    /// [`Platform::switch_traffic`] moves all traffic between two unit sets at once (blue-green).
    pub traffic_switch: bool,
}

impl PlatformCapabilities {
    /// The minimum: deploy and poll, nothing else.
    pub fn new(model: ControlModel) -> Self {
        PlatformCapabilities {
            model,
            drain: false,
            rollback: false,
            restart: false,
            surge: false,
            traffic_switch: false,
        }
    }

    /// Everything on (used by the simulator).
    pub fn all(model: ControlModel) -> Self {
        PlatformCapabilities {
            model,
            drain: true,
            rollback: true,
            restart: true,
            surge: true,
            traffic_switch: true,
        }
    }

    /// Set [`drain`](Self::drain).
    #[must_use]
    pub fn with_drain(mut self, on: bool) -> Self {
        self.drain = on;
        self
    }

    /// Set [`rollback`](Self::rollback).
    #[must_use]
    pub fn with_rollback(mut self, on: bool) -> Self {
        self.rollback = on;
        self
    }

    /// Set [`restart`](Self::restart).
    #[must_use]
    pub fn with_restart(mut self, on: bool) -> Self {
        self.restart = on;
        self
    }

    /// Set [`surge`](Self::surge).
    #[must_use]
    pub fn with_surge(mut self, on: bool) -> Self {
        self.surge = on;
        self
    }

    /// Set [`traffic_switch`](Self::traffic_switch).
    #[must_use]
    pub fn with_traffic_switch(mut self, on: bool) -> Self {
        self.traffic_switch = on;
        self
    }
}

/// Options for [`Platform::units`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListUnits {
    /// Only units of this service.
    pub service: Option<ServiceId>,
}

impl ListUnits {
    /// Only units of `service`.
    pub fn service(service: impl Into<ServiceId>) -> Self {
        ListUnits {
            service: Some(service.into()),
        }
    }
}

/// Options for [`Platform::deploy`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeployOptions {
    /// A caller-chosen key: a retried deploy with the same key must not start a second deployment
    /// (backends without native idempotency keys compare against the unit's latest deployment).
    pub idempotency_key: Option<String>,
}

impl DeployOptions {
    /// With an idempotency key.
    pub fn with_idempotency_key(key: impl Into<String>) -> Self {
        DeployOptions {
            idempotency_key: Some(key.into()),
        }
    }
}

/// Options for [`Platform::deployments`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListDeployments {
    /// At most this many, newest first.
    pub limit: usize,
}

impl Default for ListDeployments {
    fn default() -> Self {
        ListDeployments { limit: 20 }
    }
}

/// Where [`Platform::rollback`] goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RollbackTarget {
    /// The release the unit ran before its latest deployment.
    Previous,
    /// A named earlier release.
    Release(ReleaseId),
    /// A specific earlier deployment.
    Deployment(DeploymentId),
}

/// A deploy target: environments, services, units and their deployments.
///
/// Implementations: `runway-sim` (simulated, orchestrated), `runway-railway` and `runway-cloud66` (delegated or
/// orchestrated by configuration). Every implementation passes the conformance suite in `runway-testkit`.
///
/// Wrappers (retrying, metered, fault-injecting) implement this same trait and forward every method.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Platform: Send + Sync + Debug + 'static {
    /// A short backend name (`"sim"`, `"railway"`, `"cloud66"`).
    fn name(&self) -> &str;

    /// What this platform supports.
    fn capabilities(&self) -> PlatformCapabilities;

    /// Every environment visible to the credentials.
    async fn environments(&self) -> Result<Vec<Environment>>;

    /// The services of an environment.
    async fn services(&self, env: &EnvironmentId) -> Result<Vec<Service>>;

    /// The units of an environment, in a stable order.
    async fn units(&self, env: &EnvironmentId, opts: &ListUnits) -> Result<Vec<Unit>>;

    /// One unit's current state.
    async fn unit(&self, unit: &UnitId) -> Result<Unit>;

    /// Start deploying `release` onto `unit`; returns the new deployment (poll it with [`deployment`](Self::deployment)).
    async fn deploy(
        &self,
        unit: &UnitId,
        release: &Release,
        opts: &DeployOptions,
    ) -> Result<Deployment>;

    /// A deployment's current status.
    async fn deployment(&self, id: &DeploymentId) -> Result<Deployment>;

    /// A unit's deployments, newest first.
    async fn deployments(&self, unit: &UnitId, opts: &ListDeployments) -> Result<Vec<Deployment>>;

    /// Roll `unit` back to an earlier release; returns the deployment that does it.
    async fn rollback(&self, unit: &UnitId, to: &RollbackTarget) -> Result<Deployment> {
        let _ = (unit, to);
        Err(Error::unsupported("rollback", self.name()))
    }

    /// Restart `unit` on its current release; returns the deployment that does it.
    async fn restart(&self, unit: &UnitId) -> Result<Deployment> {
        let _ = unit;
        Err(Error::unsupported("restart", self.name()))
    }

    /// Take `unit` out of the load balancer (in-flight requests finish; no new ones arrive).
    async fn drain(&self, unit: &UnitId) -> Result<()> {
        let _ = unit;
        Err(Error::unsupported("drain", self.name()))
    }

    /// Put `unit` back into the load balancer.
    async fn restore(&self, unit: &UnitId) -> Result<()> {
        let _ = unit;
        Err(Error::unsupported("restore", self.name()))
    }

    /// Add a unit to `service` running `release` (surge capacity); it starts outside the load balancer.
    async fn add_unit(&self, service: &ServiceId, release: &Release) -> Result<Unit> {
        let _ = (service, release);
        Err(Error::unsupported("add_unit", self.name()))
    }

    /// Remove a unit (after it was drained).
    async fn remove_unit(&self, unit: &UnitId) -> Result<()> {
        let _ = unit;
        Err(Error::unsupported("remove_unit", self.name()))
    }

    /// Send all traffic to `to` and none to `from`, at once (blue-green).
    async fn switch_traffic(&self, from: &[UnitId], to: &[UnitId]) -> Result<()> {
        let _ = (from, to);
        Err(Error::unsupported("switch_traffic", self.name()))
    }
}

/// The result of probing one unit's health once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// Whether the probe passed.
    pub healthy: bool,
    /// How long the probe took.
    pub latency: Duration,
    /// A short, redacted reason when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ProbeResult {
    /// A passing probe.
    pub fn healthy(latency: Duration) -> Self {
        ProbeResult {
            healthy: true,
            latency,
            detail: None,
        }
    }

    /// A failing probe with a reason.
    pub fn unhealthy(latency: Duration, detail: impl Into<String>) -> Self {
        ProbeResult {
            healthy: false,
            latency,
            detail: Some(detail.into()),
        }
    }
}

/// Probes one unit's health (the runbook's `/health` on that instance).
///
/// The simulator implements it from its health model; `runway-health` implements it over HTTP and the
/// database/Redis checks. The rollout engine applies thresholds and timing; a probe answers once.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait HealthProbe: Send + Sync + Debug + 'static {
    /// Probe `unit` once, within `timeout`.
    async fn probe(&self, unit: &Unit, timeout: Duration) -> Result<ProbeResult>;
}

/// Analysis verdict of a rollout step (SLO verification, canary analysis).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum AnalysisVerdict {
    /// Every threshold held with enough samples.
    Pass,
    /// A threshold was breached.
    Fail {
        /// Which threshold and by how much.
        reason: String,
    },
    /// Not enough data to decide (below the minimum sample size, metrics unavailable).
    Inconclusive {
        /// Why no verdict was possible.
        reason: String,
    },
}

/// What an analysis looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnalysisContext {
    /// The environment being deployed.
    pub environment: EnvironmentId,
    /// The release being rolled out.
    pub release: ReleaseId,
    /// The release being replaced, when there is one.
    pub previous: Option<ReleaseId>,
    /// Units already on the new release.
    pub updated_units: Vec<UnitId>,
    /// How long the new release has been serving.
    pub window: Duration,
}

impl AnalysisContext {
    /// A context for `release` in `environment`.
    pub fn new(environment: EnvironmentId, release: ReleaseId) -> Self {
        AnalysisContext {
            environment,
            release,
            previous: None,
            updated_units: Vec::new(),
            window: Duration::ZERO,
        }
    }

    /// Set the previous release.
    #[must_use]
    pub fn with_previous(mut self, previous: Option<ReleaseId>) -> Self {
        self.previous = previous;
        self
    }

    /// Set the units already updated.
    #[must_use]
    pub fn with_updated_units(mut self, units: Vec<UnitId>) -> Self {
        self.updated_units = units;
        self
    }

    /// Set the observation window.
    #[must_use]
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }
}

/// The rollout engine's analysis hook; `runway-health`'s SLO verification implements it.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Analysis: Send + Sync + Debug + 'static {
    /// Judge the release in `ctx`.
    async fn analyze(&self, ctx: &AnalysisContext) -> Result<AnalysisVerdict>;
}
