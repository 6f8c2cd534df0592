//! # runway-sim
//!
//! A deterministic simulated platform: the mock platform runway's own tests and its users' deploy tests run
//! against. [`SimPlatform`] implements every provider trait of `runway-core`:
//! [`Platform`], [`HealthProbe`], [`MetricsSource`], [`LogSource`], [`VariableStore`] and [`SecretStore`].
//!
//! It models N units with versions, start and ready times, a load-balancer view (which units get traffic),
//! health per unit ([`ReleaseProfile`]: healthy, unhealthy, unhealthy after a delay, flapping, crashing),
//! request metrics per unit and release (successes, 5xx, latency histograms), logs, and fault injection:
//! crash a unit ([`SimBuilder::crash_unit_at`], [`SimPlatform::crash`]), slow starts, and API errors at the
//! n-th call ([`ApiFault`]: 429 with `Retry-After`, 5xx, timeout) or at a seeded random rate.
//!
//! Everything runs on tokio time and is derived from state, never stepped by a background task: a test with
//! paused time simulates hours in milliseconds, and the same seed gives the same run.
//!
//! ## Testing your own deploy code against it
//!
//! ```
//! use std::time::Duration;
//! use runway_core::{DeployOptions, DeploymentStatus, ListUnits, Platform, Release};
//! use runway_sim::{ReleaseProfile, SimPlatform};
//!
//! #[tokio::main(flavor = "current_thread", start_paused = true)]
//! async fn main() -> runway_core::Result<()> {
//!     let sim = SimPlatform::builder()
//!         .units(3)
//!         .initial_release("v1")
//!         .release(ReleaseProfile::unhealthy("v2"))
//!         .build();
//!     let env = "production".into();
//!     let units = sim.units(&env, &ListUnits::default()).await?;
//!     let dep = sim.deploy(&units[0].id, &Release::new("v2"), &DeployOptions::default()).await?;
//!     tokio::time::sleep(Duration::from_secs(60)).await; // instant: time is paused
//!     // Your code would now see the failing health check and roll back.
//!     assert_eq!(sim.deployment(&dep.id).await?.status, DeploymentStatus::Failed);
//!     assert_eq!(sim.serving_healthy(), 2);
//!     Ok(())
//! }
//! ```

mod model;
mod profile;
mod traffic;

pub use profile::{ApiFault, FaultKind, HealthModel, ReleaseProfile, ScheduledCrash};

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use runway_core::{
    AggregateQuery, AggregateResult, Clock, ControlModel, DeployOptions, Deployment, DeploymentId,
    Environment, EnvironmentId, EnvironmentKind, Error, HealthProbe, ListDeployments, ListUnits,
    LogCapabilities, LogEntry, LogLevel, LogQuery, LogSource, LogStream, MetricsQuery,
    MetricsSource, Platform, PlatformCapabilities, ProbeResult, Release, ReleaseId, RequestMetrics,
    RequestToken, ResourceMetrics, Result, RollbackTarget, SecretCapabilities, SecretStage,
    SecretStore, SecretVersion, SecretVersionInfo, Service, ServiceId, ServiceRole, SetOptions,
    TokioClock, Unit, UnitId, UnitState, VariableCapabilities, VariableScope, VariableStore,
    Variables,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use model::{Behaviour, Epoch, SimDeployment, SimSecretVersion, SimUnit, State};
use traffic::{TrafficModel, step_for};

/// Builds a [`SimPlatform`].
#[derive(Debug, Clone)]
pub struct SimBuilder {
    seed: u64,
    environments: Vec<String>,
    services: Vec<(String, ServiceRole)>,
    units: usize,
    initial_release: ReleaseId,
    default_start: Duration,
    default_ready: Duration,
    profiles: HashMap<ReleaseId, ReleaseProfile>,
    api_faults: Vec<ApiFault>,
    api_error_rate: f64,
    crashes: Vec<ScheduledCrash>,
    model: ControlModel,
    start_at: DateTime<Utc>,
    rate_per_unit: f64,
    timeout: Duration,
    resources: ResourceMetrics,
    variables: Vec<(VariableScope, Variables)>,
}

impl Default for SimBuilder {
    fn default() -> Self {
        SimBuilder {
            seed: 0,
            environments: Vec::new(),
            services: Vec::new(),
            units: 3,
            initial_release: ReleaseId::new("v1"),
            default_start: Duration::from_secs(5),
            default_ready: Duration::from_secs(10),
            profiles: HashMap::new(),
            api_faults: Vec::new(),
            api_error_rate: 0.0,
            crashes: Vec::new(),
            model: ControlModel::Orchestrated,
            start_at: DateTime::from_timestamp(1_767_225_600, 0).expect("valid timestamp"),
            rate_per_unit: 10.0,
            timeout: Duration::from_secs(30),
            resources: ResourceMetrics {
                db_pool_utilisation: Some(0.35),
                queue_depth: Some(12),
                memory_utilisation: Some(0.55),
                cpu_utilisation: Some(0.40),
            },
            variables: Vec::new(),
        }
    }
}

impl SimBuilder {
    /// The seed of every random draw (traffic, random API errors).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Add an environment (default: one named `production`).
    #[must_use]
    pub fn environment(mut self, name: impl Into<String>) -> Self {
        self.environments.push(name.into());
        self
    }

    /// Add a web service to every environment (default: one named `api`).
    #[must_use]
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.services.push((name.into(), ServiceRole::Web));
        self
    }

    /// Add a service with a role to every environment.
    #[must_use]
    pub fn service_with_role(mut self, name: impl Into<String>, role: ServiceRole) -> Self {
        self.services.push((name.into(), role));
        self
    }

    /// Units per service (orchestrated), or replicas of the single unit per service (delegated). Default 3.
    #[must_use]
    pub fn units(mut self, n: usize) -> Self {
        self.units = n.max(1);
        self
    }

    /// The release every unit runs at the start (default `v1`).
    #[must_use]
    pub fn initial_release(mut self, release: impl Into<ReleaseId>) -> Self {
        self.initial_release = release.into();
        self
    }

    /// Default time from deploy to process start (5 s).
    #[must_use]
    pub fn start_time(mut self, d: Duration) -> Self {
        self.default_start = d;
        self
    }

    /// Default time from process start to ready (10 s).
    #[must_use]
    pub fn ready_time(mut self, d: Duration) -> Self {
        self.default_ready = d;
        self
    }

    /// How a release behaves; releases without a profile are healthy.
    #[must_use]
    pub fn release(mut self, profile: ReleaseProfile) -> Self {
        self.profiles.insert(profile.id.clone(), profile);
        self
    }

    /// Inject an API fault at a given call.
    #[must_use]
    pub fn api_fault(mut self, fault: ApiFault) -> Self {
        self.api_faults.push(fault);
        self
    }

    /// Fail this share of API calls with a 5xx, drawn from the seed.
    #[must_use]
    pub fn api_error_rate(mut self, rate: f64) -> Self {
        self.api_error_rate = rate.clamp(0.0, 1.0);
        self
    }

    /// Crash a unit at an offset from the simulation's start.
    #[must_use]
    pub fn crash_unit_at(mut self, unit: impl Into<UnitId>, at: Duration) -> Self {
        self.crashes.push(ScheduledCrash {
            unit: unit.into(),
            at,
        });
        self
    }

    /// Orchestrated (default; units updated one by one by the engine) or delegated (one unit per service that
    /// rolls its replicas itself).
    #[must_use]
    pub fn model(mut self, model: ControlModel) -> Self {
        self.model = model;
        self
    }

    /// The wall-clock time at the simulation's start (default 2026-01-01T00:00:00Z).
    #[must_use]
    pub fn start_at(mut self, t: DateTime<Utc>) -> Self {
        self.start_at = t;
        self
    }

    /// Requests per second each serving unit handles (default 10).
    #[must_use]
    pub fn requests_per_unit(mut self, rate: f64) -> Self {
        self.rate_per_unit = rate.max(0.0);
        self
    }

    /// How long an injected timeout hangs before failing (default 30 s).
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The resource usage the simulator reports.
    #[must_use]
    pub fn resources(mut self, r: ResourceMetrics) -> Self {
        self.resources = r;
        self
    }

    /// Variables a scope holds at the start.
    #[must_use]
    pub fn variables(mut self, scope: VariableScope, vars: Variables) -> Self {
        self.variables.push((scope, vars));
        self
    }

    /// Build the simulator; its clock starts now (in tokio time).
    pub fn build(self) -> SimPlatform {
        let clock = TokioClock::starting_at(self.start_at);
        let origin = clock.origin();
        let envs = if self.environments.is_empty() {
            vec!["production".to_owned()]
        } else {
            self.environments.clone()
        };
        let services = if self.services.is_empty() {
            vec![("api".to_owned(), ServiceRole::Web)]
        } else {
            self.services.clone()
        };
        let multi_env = envs.len() > 1;
        let mut state = State::default();
        for env in &envs {
            let env_id = EnvironmentId::new(env.clone());
            state.environments.push(Environment {
                id: env_id.clone(),
                name: env.clone(),
                kind: EnvironmentKind::from_name(env),
            });
            for (svc, role) in &services {
                let svc_id = ServiceId::new(if multi_env {
                    format!("{env}/{svc}")
                } else {
                    svc.clone()
                });
                state.services.push(Service {
                    id: svc_id.clone(),
                    name: svc.clone(),
                    environment: env_id.clone(),
                    role: *role,
                });
                let (count, replicas) = match self.model {
                    ControlModel::Orchestrated => (self.units, 1),
                    ControlModel::Delegated => (1, self.units as u32),
                };
                for i in 1..=count {
                    let name = match self.model {
                        ControlModel::Orchestrated => format!("{svc}-{i}"),
                        ControlModel::Delegated => svc.clone(),
                    };
                    let id = UnitId::new(if multi_env {
                        format!("{env}/{name}")
                    } else {
                        name.clone()
                    });
                    let crashes = self
                        .crashes
                        .iter()
                        .filter(|c| c.unit == id)
                        .map(|c| origin + c.at)
                        .collect();
                    state.unit_order.push(id.clone());
                    *state.units_per_service.entry(svc_id.clone()).or_insert(0) += 1;
                    state.units.insert(
                        id.clone(),
                        SimUnit {
                            id,
                            name,
                            service: svc_id.clone(),
                            environment: env_id.clone(),
                            replicas,
                            epochs: vec![Epoch {
                                since: origin,
                                release: self.initial_release.clone(),
                                deployed_at: None,
                                in_lb: true,
                                crashed_at: None,
                                removed: false,
                            }],
                            deployments: Vec::new(),
                            releases: vec![self.initial_release.clone()],
                            scheduled_crashes: crashes,
                        },
                    );
                }
            }
        }
        for (scope, vars) in self.variables {
            state.variables.entry(scope).or_default().extend(vars);
        }
        let behaviour = Behaviour {
            default_start: self.default_start,
            default_ready: self.default_ready,
            profiles: self.profiles,
        };
        SimPlatform {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                behaviour,
                traffic: TrafficModel {
                    seed: self.seed,
                    rate_per_unit: self.rate_per_unit,
                    origin,
                },
                clock,
                model: self.model,
                faults: Mutex::new(Faults {
                    scheduled: self.api_faults,
                    rate: self.api_error_rate,
                    rng: ChaCha8Rng::seed_from_u64(self.seed ^ 0xA5A5_5A5A),
                }),
                timeout: self.timeout,
                resources: self.resources,
            }),
        }
    }
}

#[derive(Debug)]
struct Faults {
    scheduled: Vec<ApiFault>,
    rate: f64,
    rng: ChaCha8Rng,
}

struct Inner {
    state: Mutex<State>,
    behaviour: Behaviour,
    traffic: TrafficModel,
    clock: TokioClock,
    model: ControlModel,
    faults: Mutex<Faults>,
    timeout: Duration,
    resources: ResourceMetrics,
}

/// The simulated platform. Cheap to clone: clones share state.
#[derive(Clone)]
pub struct SimPlatform {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("SimPlatform")
            .field("model", &self.inner.model)
            .field("units", &st.unit_order.len())
            .field("api_calls", &st.api_calls)
            .finish_non_exhaustive()
    }
}

const BACKEND: &str = "sim";

impl SimPlatform {
    /// Start building a simulator.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The simulator's clock (wall-clock timestamps that follow tokio time).
    pub fn clock(&self) -> TokioClock {
        self.inner.clock
    }

    /// The tokio instant the simulation started at.
    pub fn origin(&self) -> Instant {
        self.inner.clock.origin()
    }

    /// How many provider calls were made so far.
    pub fn api_calls(&self) -> u64 {
        self.lock().api_calls
    }

    /// Every unit as it is now (no API call is counted, no fault injected).
    pub fn snapshot(&self) -> Vec<Unit> {
        let st = self.lock();
        let now = Instant::now();
        st.unit_order
            .iter()
            .filter_map(|id| st.units.get(id))
            .filter(|u| !u.current().removed)
            .map(|u| self.view(u, now))
            .collect()
    }

    /// Units in the load balancer and healthy now.
    pub fn serving_healthy(&self) -> usize {
        self.serving_healthy_at(Instant::now())
    }

    /// Units in the load balancer and healthy at instant `t` (past or present).
    pub fn serving_healthy_at(&self, t: Instant) -> usize {
        let st = self.lock();
        let b = &self.inner.behaviour;
        st.units
            .values()
            .filter(|u| {
                u.epoch_at(t).is_some_and(|e| {
                    e.in_lb && !e.removed && b.state(u, e, t) == UnitState::Running
                })
            })
            .count()
    }

    /// The lowest number of serving healthy units at any instant in `[from, to]`, exact: it is evaluated at
    /// every instant where some unit's state can change. Costs O(changes x units): meant for fleets of
    /// hundreds, in tests of capacity invariants.
    pub fn min_serving_healthy(&self, from: Instant, to: Instant) -> usize {
        let mut points = vec![from];
        {
            let st = self.lock();
            let b = &self.inner.behaviour;
            for u in st.units.values() {
                for (i, e) in u.epochs.iter().enumerate() {
                    let end = u.epochs.get(i + 1).map(|n| n.since).unwrap_or(to);
                    if e.since > to || end < from {
                        continue;
                    }
                    if e.since >= from {
                        points.push(e.since);
                    }
                    points.extend(b.transitions(u, e, from.max(e.since), end.min(to)));
                }
            }
        }
        points.sort();
        points.dedup();
        points
            .into_iter()
            .map(|t| self.serving_healthy_at(t))
            .min()
            .unwrap_or(0)
    }

    /// Which release each unit runs now.
    pub fn units_by_release(&self) -> BTreeMap<ReleaseId, Vec<UnitId>> {
        let mut out: BTreeMap<ReleaseId, Vec<UnitId>> = BTreeMap::new();
        for u in self.snapshot() {
            if let Some(r) = u.release {
                out.entry(r).or_default().push(u.id);
            }
        }
        out
    }

    /// Crash a unit now (its process exits; it stays crashed until redeployed or restarted).
    pub fn crash(&self, unit: &UnitId) -> Result<()> {
        let now = Instant::now();
        let mut st = self.lock();
        let u = st
            .units
            .get_mut(unit)
            .ok_or_else(|| Error::not_found(format!("unit {unit} not found")))?;
        u.push_epoch(now, |e| e.crashed_at = Some(now));
        let entry = self.log(
            LogLevel::Error,
            format!("ERROR {unit}: process exited with code 137"),
            Some(unit),
        );
        st.event_logs.push(entry);
        Ok(())
    }

    fn view(&self, u: &SimUnit, t: Instant) -> Unit {
        let e = u.epoch_at(t).unwrap_or_else(|| u.current());
        Unit {
            id: u.id.clone(),
            name: u.name.clone(),
            service: u.service.clone(),
            environment: u.environment.clone(),
            release: Some(e.release.clone()),
            state: self.inner.behaviour.state(u, e, t),
            in_load_balancer: e.in_lb,
            replicas: u.replicas,
        }
    }

    fn log(&self, level: LogLevel, message: String, unit: Option<&UnitId>) -> LogEntry {
        LogEntry {
            timestamp: self.inner.clock.now(),
            level,
            message,
            source: unit.map(|u| u.to_string()),
            attributes: BTreeMap::new(),
        }
    }

    /// Count a provider call and inject a fault when one is due.
    async fn api(&self, op: &str) -> Result<()> {
        let call = {
            let mut st = self.lock();
            st.api_calls += 1;
            st.api_calls
        };
        let fault = {
            let mut f = self.inner.faults.lock().unwrap_or_else(|p| p.into_inner());
            let scheduled = f.scheduled.iter().find(|x| x.call == call).map(|x| x.kind);
            let rate = f.rate;
            scheduled.or_else(|| {
                (rate > 0.0 && f.rng.random::<f64>() < rate).then_some(FaultKind::ServerError)
            })
        };
        match fault {
            None => Ok(()),
            Some(FaultKind::RateLimited(d)) => {
                Err(Error::rate_limited(Some(d), "429 Too Many Requests")
                    .with_backend(BACKEND)
                    .with_operation(op))
            }
            Some(FaultKind::ServerError) => Err(Error::unavailable("503 Service Unavailable")
                .with_backend(BACKEND)
                .with_operation(op)),
            Some(FaultKind::Timeout) => {
                tokio::time::sleep(self.inner.timeout).await;
                Err(Error::timeout("request timed out")
                    .with_backend(BACKEND)
                    .with_operation(op))
            }
        }
    }

    fn deployment_view(&self, st: &State, d: &SimDeployment, t: Instant) -> Deployment {
        let status = self.inner.behaviour.deployment_status(st, d, t);
        Deployment {
            id: d.id.clone(),
            unit: d.unit.clone(),
            release: Some(d.release.clone()),
            status,
            created_at: self.inner.clock.at(d.created),
            updated_at: self.inner.clock.at(t),
            message: None,
        }
    }

    /// Start a deployment of `release` on `unit` (shared by deploy, rollback and restart).
    fn start_deployment(
        &self,
        unit: &UnitId,
        release: &ReleaseId,
        key: Option<&str>,
        verb: &str,
    ) -> Result<Deployment> {
        let now = Instant::now();
        let mut st = self.lock();
        let Some(u) = st.units.get(unit) else {
            return Err(Error::not_found(format!("unit {unit} not found")).with_backend(BACKEND));
        };
        if u.current().removed {
            return Err(Error::not_found(format!("unit {unit} was removed")).with_backend(BACKEND));
        }
        if let Some(key) = key
            && let Some(last) = u.deployments.last().and_then(|d| st.deployments.get(d))
            && last.idempotency_key.as_deref() == Some(key)
        {
            let last = last.clone();
            return Ok(self.deployment_view(&st, &last, now));
        }
        let previous = u.deployments.last().cloned();
        st.next_id += 1;
        let id = DeploymentId::new(format!("dep-{}", st.next_id));
        if let Some(prev) = previous.and_then(|p| st.deployments.get_mut(&p)) {
            prev.superseded = Some(now);
        }
        let model = self.inner.model;
        let u = st.units.get_mut(unit).expect("checked above");
        u.push_epoch(now, |e| {
            e.release = release.clone();
            e.deployed_at = Some(now);
            e.crashed_at = None;
            if model == ControlModel::Delegated {
                e.in_lb = true;
            }
        });
        u.deployments.push(id.clone());
        u.releases.push(release.clone());
        let dep = SimDeployment {
            id: id.clone(),
            unit: unit.clone(),
            release: release.clone(),
            created: now,
            idempotency_key: key.map(str::to_owned),
            superseded: None,
        };
        st.deployments.insert(id.clone(), dep.clone());
        // Variables staged for the next deploy take effect now.
        let env = st.units[unit].environment.clone();
        st.pending_variable_changes
            .retain(|scope, _| scope.environment != env);
        let entry = self.log(
            LogLevel::Info,
            format!("{verb} {release} on {unit} ({id})"),
            Some(unit),
        );
        st.event_logs.push(entry);
        Ok(self.deployment_view(&st, &dep, now))
    }

    /// Variable changes staged with [`ApplyStrategy::NextDeploy`](runway_core::ApplyStrategy) and not yet
    /// applied by a deployment, per scope.
    pub fn pending_variable_changes(&self, scope: &VariableScope) -> usize {
        self.lock()
            .pending_variable_changes
            .get(scope)
            .copied()
            .unwrap_or(0)
    }

    fn units_in(&self, st: &State, env: &EnvironmentId) -> Vec<UnitId> {
        st.unit_order
            .iter()
            .filter(|id| {
                st.units
                    .get(*id)
                    .is_some_and(|u| &u.environment == env && !u.current().removed)
            })
            .cloned()
            .collect()
    }

    fn check_env(&self, st: &State, env: &EnvironmentId) -> Result<()> {
        if st.environments.iter().any(|e| &e.id == env) {
            Ok(())
        } else {
            Err(Error::not_found(format!("environment {env} not found")).with_backend(BACKEND))
        }
    }
}

#[async_trait]
impl Platform for SimPlatform {
    fn name(&self) -> &str {
        BACKEND
    }

    fn capabilities(&self) -> PlatformCapabilities {
        match self.inner.model {
            ControlModel::Orchestrated => PlatformCapabilities::all(ControlModel::Orchestrated),
            ControlModel::Delegated => PlatformCapabilities::new(ControlModel::Delegated)
                .with_rollback(true)
                .with_restart(true),
        }
    }

    async fn environments(&self) -> Result<Vec<Environment>> {
        self.api("environments").await?;
        Ok(self.lock().environments.clone())
    }

    async fn services(&self, env: &EnvironmentId) -> Result<Vec<Service>> {
        self.api("services").await?;
        let st = self.lock();
        self.check_env(&st, env)?;
        Ok(st
            .services
            .iter()
            .filter(|s| &s.environment == env)
            .cloned()
            .collect())
    }

    async fn units(&self, env: &EnvironmentId, opts: &ListUnits) -> Result<Vec<Unit>> {
        self.api("units").await?;
        let now = Instant::now();
        let st = self.lock();
        self.check_env(&st, env)?;
        Ok(self
            .units_in(&st, env)
            .iter()
            .map(|id| &st.units[id])
            .filter(|u| opts.service.as_ref().is_none_or(|s| &u.service == s))
            .map(|u| self.view(u, now))
            .collect())
    }

    async fn unit(&self, unit: &UnitId) -> Result<Unit> {
        self.api("unit").await?;
        let st = self.lock();
        st.units
            .get(unit)
            .filter(|u| !u.current().removed)
            .map(|u| self.view(u, Instant::now()))
            .ok_or_else(|| Error::not_found(format!("unit {unit} not found")).with_backend(BACKEND))
    }

    async fn deploy(
        &self,
        unit: &UnitId,
        release: &Release,
        opts: &DeployOptions,
    ) -> Result<Deployment> {
        self.api("deploy").await?;
        self.start_deployment(
            unit,
            &release.id,
            opts.idempotency_key.as_deref(),
            "deploying",
        )
    }

    async fn deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        self.api("deployment").await?;
        let st = self.lock();
        let d = st.deployments.get(id).ok_or_else(|| {
            Error::not_found(format!("deployment {id} not found")).with_backend(BACKEND)
        })?;
        Ok(self.deployment_view(&st, d, Instant::now()))
    }

    async fn deployments(&self, unit: &UnitId, opts: &ListDeployments) -> Result<Vec<Deployment>> {
        self.api("deployments").await?;
        let now = Instant::now();
        let st = self.lock();
        let u = st.units.get(unit).ok_or_else(|| {
            Error::not_found(format!("unit {unit} not found")).with_backend(BACKEND)
        })?;
        Ok(u.deployments
            .iter()
            .rev()
            .take(opts.limit)
            .filter_map(|d| st.deployments.get(d))
            .map(|d| self.deployment_view(&st, d, now))
            .collect())
    }

    async fn rollback(&self, unit: &UnitId, to: &RollbackTarget) -> Result<Deployment> {
        self.api("rollback").await?;
        let target = {
            let st = self.lock();
            let u = st.units.get(unit).ok_or_else(|| {
                Error::not_found(format!("unit {unit} not found")).with_backend(BACKEND)
            })?;
            let current = u.current().release.clone();
            match to {
                RollbackTarget::Previous => u
                    .releases
                    .iter()
                    .rev()
                    .find(|r| **r != current)
                    .cloned()
                    .ok_or_else(|| {
                        Error::not_found(format!("unit {unit} has no previous release"))
                            .with_backend(BACKEND)
                    })?,
                RollbackTarget::Release(r) => {
                    if u.releases.contains(r) {
                        r.clone()
                    } else {
                        return Err(
                            Error::not_found(format!("unit {unit} never ran release {r}"))
                                .with_backend(BACKEND),
                        );
                    }
                }
                RollbackTarget::Deployment(d) => st
                    .deployments
                    .get(d)
                    .filter(|d| &d.unit == unit)
                    .map(|d| d.release.clone())
                    .ok_or_else(|| {
                        Error::not_found(format!("deployment {d} not found for unit {unit}"))
                            .with_backend(BACKEND)
                    })?,
                _ => return Err(Error::unsupported("rollback target", BACKEND)),
            }
        };
        self.start_deployment(unit, &target, None, "rolling back to")
    }

    async fn restart(&self, unit: &UnitId) -> Result<Deployment> {
        self.api("restart").await?;
        let release = {
            let st = self.lock();
            st.units
                .get(unit)
                .map(|u| u.current().release.clone())
                .ok_or_else(|| {
                    Error::not_found(format!("unit {unit} not found")).with_backend(BACKEND)
                })?
        };
        self.start_deployment(unit, &release, None, "restarting")
    }

    async fn drain(&self, unit: &UnitId) -> Result<()> {
        self.set_lb(unit, false, "drain").await
    }

    async fn restore(&self, unit: &UnitId) -> Result<()> {
        self.set_lb(unit, true, "restore").await
    }

    async fn add_unit(&self, service: &ServiceId, release: &Release) -> Result<Unit> {
        self.api("add_unit").await?;
        if self.inner.model == ControlModel::Delegated {
            return Err(Error::unsupported("add_unit", BACKEND));
        }
        let now = Instant::now();
        let mut st = self.lock();
        let svc = st
            .services
            .iter()
            .find(|s| &s.id == service)
            .cloned()
            .ok_or_else(|| {
                Error::not_found(format!("service {service} not found")).with_backend(BACKEND)
            })?;
        let base = svc.id.as_str().to_owned();
        let count = st.units_per_service.entry(svc.id.clone()).or_insert(0);
        let mut k = *count + 1;
        let id = loop {
            let candidate = UnitId::new(format!("{base}-{k}"));
            if !st.units.contains_key(&candidate) {
                break candidate;
            }
            k += 1;
        };
        st.units_per_service.insert(svc.id.clone(), k);
        st.next_id += 1;
        let dep_id = DeploymentId::new(format!("dep-{}", st.next_id));
        let unit = SimUnit {
            id: id.clone(),
            name: format!("{}-{k}", svc.name),
            service: svc.id.clone(),
            environment: svc.environment.clone(),
            replicas: 1,
            epochs: vec![Epoch {
                since: now,
                release: release.id.clone(),
                deployed_at: Some(now),
                in_lb: false,
                crashed_at: None,
                removed: false,
            }],
            deployments: vec![dep_id.clone()],
            releases: vec![release.id.clone()],
            scheduled_crashes: Vec::new(),
        };
        st.deployments.insert(
            dep_id.clone(),
            SimDeployment {
                id: dep_id,
                unit: id.clone(),
                release: release.id.clone(),
                created: now,
                idempotency_key: None,
                superseded: None,
            },
        );
        st.unit_order.push(id.clone());
        let view = self.view(&unit, now);
        st.units.insert(id.clone(), unit);
        let entry = self.log(
            LogLevel::Info,
            format!("added unit {id} on {}", release.id),
            Some(&id),
        );
        st.event_logs.push(entry);
        Ok(view)
    }

    async fn remove_unit(&self, unit: &UnitId) -> Result<()> {
        self.api("remove_unit").await?;
        let now = Instant::now();
        let mut st = self.lock();
        let u = st.units.get_mut(unit).ok_or_else(|| {
            Error::not_found(format!("unit {unit} not found")).with_backend(BACKEND)
        })?;
        u.push_epoch(now, |e| {
            e.removed = true;
            e.in_lb = false;
        });
        Ok(())
    }

    async fn switch_traffic(&self, from: &[UnitId], to: &[UnitId]) -> Result<()> {
        self.api("switch_traffic").await?;
        if self.inner.model == ControlModel::Delegated {
            return Err(Error::unsupported("switch_traffic", BACKEND));
        }
        let now = Instant::now();
        let mut st = self.lock();
        for id in from.iter().chain(to) {
            if !st.units.contains_key(id) {
                return Err(Error::not_found(format!("unit {id} not found")).with_backend(BACKEND));
            }
        }
        for id in from {
            if let Some(u) = st.units.get_mut(id) {
                u.push_epoch(now, |e| e.in_lb = false);
            }
        }
        for id in to {
            if let Some(u) = st.units.get_mut(id) {
                u.push_epoch(now, |e| e.in_lb = true);
            }
        }
        Ok(())
    }
}

impl SimPlatform {
    async fn set_lb(&self, unit: &UnitId, in_lb: bool, op: &str) -> Result<()> {
        self.api(op).await?;
        if self.inner.model == ControlModel::Delegated {
            return Err(Error::unsupported(op, BACKEND));
        }
        let now = Instant::now();
        let mut st = self.lock();
        let u = st.units.get_mut(unit).ok_or_else(|| {
            Error::not_found(format!("unit {unit} not found")).with_backend(BACKEND)
        })?;
        if u.current().in_lb != in_lb {
            u.push_epoch(now, |e| e.in_lb = in_lb);
        }
        Ok(())
    }
}

#[async_trait]
impl HealthProbe for SimPlatform {
    async fn probe(&self, unit: &Unit, timeout: Duration) -> Result<ProbeResult> {
        let now = Instant::now();
        let state = {
            let st = self.lock();
            let u = st.units.get(&unit.id).ok_or_else(|| {
                Error::not_found(format!("unit {} not found", unit.id)).with_backend(BACKEND)
            })?;
            let e = u.epoch_at(now).unwrap_or_else(|| u.current());
            self.inner.behaviour.state(u, e, now)
        };
        let latency = Duration::from_millis(5).min(timeout);
        Ok(match state {
            UnitState::Running => ProbeResult::healthy(latency),
            UnitState::Unhealthy => ProbeResult::unhealthy(latency, "GET /health returned 503"),
            UnitState::Starting | UnitState::Pending => {
                ProbeResult::unhealthy(latency, "connection refused (starting)")
            }
            UnitState::Crashed => ProbeResult::unhealthy(latency, "connection refused (crashed)"),
            _ => ProbeResult::unhealthy(latency, "unit is not running"),
        })
    }
}

/// Which units' traffic to walk.
#[derive(Clone, Copy)]
struct TrafficFilter<'a> {
    environment: Option<&'a EnvironmentId>,
    release: Option<&'a ReleaseId>,
    units: &'a [UnitId],
    service: Option<&'a ServiceId>,
}

impl SimPlatform {
    /// Walk the query's window step by step, calling `f` for each routed unit's traffic.
    fn walk_traffic(
        &self,
        filter: TrafficFilter<'_>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        mut f: impl FnMut(Instant, &SimUnit, traffic::StepTraffic),
    ) -> RequestMetrics {
        let TrafficFilter {
            environment,
            release,
            units,
            service,
        } = filter;
        let mut metrics = RequestMetrics::default();
        let origin = self.origin();
        let clock = self.inner.clock;
        let to_instant = |t: DateTime<Utc>| -> Instant {
            let since = (t - clock.at(origin)).to_std().unwrap_or_default();
            origin + since
        };
        let now = Instant::now();
        let (from, to) = (to_instant(start).max(origin), to_instant(end).min(now));
        if to <= from {
            return metrics;
        }
        let step = step_for(to - from);
        let st = self.lock();
        let b = &self.inner.behaviour;
        let selected: Vec<(usize, &SimUnit)> = st
            .unit_order
            .iter()
            .enumerate()
            .filter_map(|(i, id)| st.units.get(id).map(|u| (i, u)))
            .filter(|(_, u)| environment.is_none_or(|e| &u.environment == e))
            .filter(|(_, u)| service.is_none_or(|s| &u.service == s))
            .filter(|(_, u)| units.is_empty() || units.contains(&u.id))
            .collect();
        let mut t = from;
        while t < to {
            let len = step.min(to - t);
            for &(i, u) in &selected {
                if let Some(r) = release
                    && u.epoch_at(t).is_none_or(|e| &e.release != r)
                {
                    continue;
                }
                let traffic = self.inner.traffic.serve(b, i, u, t, len, &mut metrics);
                if traffic.requests > 0 {
                    f(t, u, traffic);
                }
            }
            t += len;
        }
        metrics
    }
}

#[async_trait]
impl MetricsSource for SimPlatform {
    async fn request_metrics(&self, query: &MetricsQuery) -> Result<RequestMetrics> {
        self.api("request_metrics").await?;
        Ok(self.walk_traffic(
            TrafficFilter {
                environment: Some(&query.environment),
                release: query.release.as_ref(),
                units: &query.units,
                service: None,
            },
            query.range.start,
            query.range.end,
            |_, _, _| {},
        ))
    }

    async fn resource_metrics(&self, environment: &EnvironmentId) -> Result<ResourceMetrics> {
        self.api("resource_metrics").await?;
        let st = self.lock();
        self.check_env(&st, environment)?;
        Ok(self.inner.resources.clone())
    }
}

#[async_trait]
impl LogSource for SimPlatform {
    fn capabilities(&self) -> LogCapabilities {
        LogCapabilities::new(false, false)
    }

    async fn query(&self, query: &LogQuery) -> Result<LogStream> {
        self.api("logs").await?;
        let env = query.scope.environment.as_ref();
        let mut entries: Vec<LogEntry> = {
            let st = self.lock();
            if let Some(e) = env {
                self.check_env(&st, e)?;
            }
            let in_scope = |source: &Option<String>| {
                let Some(s) = source else { return true };
                let Some(u) = st.units.get(&UnitId::new(s.clone())) else {
                    return true;
                };
                env.is_none_or(|e| &u.environment == e)
                    && query
                        .scope
                        .service
                        .as_ref()
                        .is_none_or(|svc| &u.service == svc)
            };
            st.event_logs
                .iter()
                .filter(|e| in_scope(&e.source) && query.matches(e))
                .cloned()
                .collect()
        };
        let clock = self.inner.clock;
        let mut synthetic = Vec::new();
        self.walk_traffic(
            TrafficFilter {
                environment: env,
                release: None,
                units: &[],
                service: query.scope.service.as_ref(),
            },
            query.range.start,
            query.range.end,
            |t, u, traffic| {
                if traffic.errors > 0 {
                    let entry = LogEntry {
                        timestamp: clock.at(t),
                        level: LogLevel::Error,
                        message: format!(
                            "ERROR {}: {} of {} requests failed with 5xx",
                            u.id, traffic.errors, traffic.requests
                        ),
                        source: Some(u.id.to_string()),
                        attributes: BTreeMap::new(),
                    };
                    if query.matches(&entry) {
                        synthetic.push(entry);
                    }
                }
            },
        );
        entries.extend(synthetic);
        entries.sort_by_key(|e| e.timestamp);
        if let Some(limit) = query.limit
            && entries.len() > limit
        {
            entries.drain(..entries.len() - limit);
        }
        Ok(Box::pin(futures::stream::iter(entries.into_iter().map(Ok))))
    }

    async fn aggregate(&self, query: &AggregateQuery) -> Result<AggregateResult> {
        let _ = query;
        Err(Error::unsupported("aggregate", BACKEND))
    }
}

#[async_trait]
impl VariableStore for SimPlatform {
    fn capabilities(&self) -> VariableCapabilities {
        VariableCapabilities::new(true, true)
    }

    async fn list(&self, scope: &VariableScope) -> Result<Variables> {
        self.api("variables.list").await?;
        let st = self.lock();
        self.check_env(&st, &scope.environment)?;
        Ok(st.variables.get(scope).cloned().unwrap_or_default())
    }

    async fn set(
        &self,
        scope: &VariableScope,
        name: &str,
        value: SecretString,
        opts: &SetOptions,
    ) -> Result<()> {
        runway_core::validate_name(name)?;
        self.api("variables.set").await?;
        let mut st = self.lock();
        self.check_env(&st, &scope.environment)?;
        st.variables
            .entry(scope.clone())
            .or_default()
            .insert(name.to_owned(), value);
        self.note_apply(&mut st, scope, opts);
        Ok(())
    }

    async fn set_many(
        &self,
        scope: &VariableScope,
        vars: Variables,
        opts: &SetOptions,
    ) -> Result<()> {
        for name in vars.keys() {
            runway_core::validate_name(name)?;
        }
        self.api("variables.set_many").await?;
        let mut st = self.lock();
        self.check_env(&st, &scope.environment)?;
        let slot = st.variables.entry(scope.clone()).or_default();
        if opts.replace {
            *slot = vars;
        } else {
            slot.extend(vars);
        }
        self.note_apply(&mut st, scope, opts);
        Ok(())
    }

    async fn delete(&self, scope: &VariableScope, name: &str, opts: &SetOptions) -> Result<()> {
        self.api("variables.delete").await?;
        let mut st = self.lock();
        self.check_env(&st, &scope.environment)?;
        if let Some(v) = st.variables.get_mut(scope) {
            v.remove(name);
        }
        self.note_apply(&mut st, scope, opts);
        Ok(())
    }
}

impl SimPlatform {
    fn note_apply(&self, st: &mut State, scope: &VariableScope, opts: &SetOptions) {
        match opts.apply {
            runway_core::ApplyStrategy::NextDeploy => {
                *st.pending_variable_changes
                    .entry(scope.clone())
                    .or_default() += 1;
            }
            _ => {
                let entry = self.log(
                    LogLevel::Info,
                    format!(
                        "variables of {} changed; services restarted",
                        scope.environment
                    ),
                    None,
                );
                st.event_logs.push(entry);
            }
        }
    }
}

#[async_trait]
impl SecretStore for SimPlatform {
    fn capabilities(&self) -> SecretCapabilities {
        SecretCapabilities::new(true)
    }

    async fn create(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> Result<String> {
        self.api("secrets.create").await?;
        let now = self.inner.clock.now();
        let mut st = self.lock();
        if let Some(versions) = st.secrets.get(name) {
            // A retried create with the same token and value is the same call.
            if let Some(v) = versions.iter().find(|v| v.id == token.as_str())
                && v.value.expose_secret() == value.expose_secret()
            {
                return Ok(v.id.clone());
            }
            return Err(
                Error::conflict(format!("secret {name} already exists")).with_backend(BACKEND)
            );
        }
        st.secrets.insert(
            name.to_owned(),
            vec![SimSecretVersion {
                id: token.as_str().to_owned(),
                value,
                stages: vec![SecretStage::Current],
                created: now,
            }],
        );
        Ok(token.as_str().to_owned())
    }

    async fn get(&self, name: &str, stage: SecretStage) -> Result<SecretVersion> {
        self.api("secrets.get").await?;
        let st = self.lock();
        let versions = st.secrets.get(name).ok_or_else(|| {
            Error::not_found(format!("secret {name} not found")).with_backend(BACKEND)
        })?;
        versions
            .iter()
            .find(|v| v.stages.contains(&stage))
            .map(|v| SecretVersion {
                info: info(v),
                value: v.value.clone(),
            })
            .ok_or_else(|| {
                Error::not_found(format!("secret {name} has no {stage} version"))
                    .with_backend(BACKEND)
            })
    }

    async fn put_pending(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> Result<String> {
        self.api("secrets.put_pending").await?;
        let now = self.inner.clock.now();
        let mut st = self.lock();
        let versions = st.secrets.get_mut(name).ok_or_else(|| {
            Error::not_found(format!("secret {name} not found")).with_backend(BACKEND)
        })?;
        if let Some(v) = versions.iter().find(|v| v.id == token.as_str()) {
            return if v.value.expose_secret() == value.expose_secret() {
                Ok(v.id.clone())
            } else {
                Err(Error::conflict(format!(
                    "secret {name}: request token reused with a different value"
                ))
                .with_backend(BACKEND))
            };
        }
        for v in versions.iter_mut() {
            v.stages.retain(|s| *s != SecretStage::Pending);
        }
        versions.push(SimSecretVersion {
            id: token.as_str().to_owned(),
            value,
            stages: vec![SecretStage::Pending],
            created: now,
        });
        Ok(token.as_str().to_owned())
    }

    async fn promote(&self, name: &str, version_id: &str) -> Result<()> {
        self.api("secrets.promote").await?;
        let mut st = self.lock();
        let versions = st.secrets.get_mut(name).ok_or_else(|| {
            Error::not_found(format!("secret {name} not found")).with_backend(BACKEND)
        })?;
        let Some(target) = versions.iter().position(|v| v.id == version_id) else {
            return Err(
                Error::not_found(format!("secret {name} has no version {version_id}"))
                    .with_backend(BACKEND),
            );
        };
        if versions[target].stages.contains(&SecretStage::Current) {
            return Ok(());
        }
        for v in versions.iter_mut() {
            v.stages.retain(|s| *s != SecretStage::Previous);
            if v.stages.contains(&SecretStage::Current) {
                v.stages.retain(|s| *s != SecretStage::Current);
                v.stages.push(SecretStage::Previous);
            }
        }
        let t = &mut versions[target];
        t.stages.retain(|s| *s != SecretStage::Pending);
        t.stages.push(SecretStage::Current);
        Ok(())
    }

    async fn clear_pending(&self, name: &str) -> Result<()> {
        self.api("secrets.clear_pending").await?;
        let mut st = self.lock();
        let versions = st.secrets.get_mut(name).ok_or_else(|| {
            Error::not_found(format!("secret {name} not found")).with_backend(BACKEND)
        })?;
        for v in versions.iter_mut() {
            v.stages.retain(|s| *s != SecretStage::Pending);
        }
        Ok(())
    }

    async fn versions(&self, name: &str) -> Result<Vec<SecretVersionInfo>> {
        self.api("secrets.versions").await?;
        let st = self.lock();
        st.secrets
            .get(name)
            .map(|vs| vs.iter().map(info).collect())
            .ok_or_else(|| {
                Error::not_found(format!("secret {name} not found")).with_backend(BACKEND)
            })
    }
}

fn info(v: &SimSecretVersion) -> SecretVersionInfo {
    let mut stages = v.stages.clone();
    stages.sort();
    SecretVersionInfo {
        version_id: v.id.clone(),
        stages,
        created_at: Some(v.created),
    }
}
