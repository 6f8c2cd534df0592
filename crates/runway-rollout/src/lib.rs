//! # runway-rollout
//!
//! The rolling-deploy strategy engine: the runbook's zero-downtime deployment (take an instance out of the load
//! balancer, update it, wait until healthy, continue; roll back on a failed health check, a crash or a timeout)
//! as a pure state machine with a thin async driver.
//!
//! | what | entry points |
//! |---|---|
//! | run a rollout | [`Rollout::builder`], [`Rollout::run`], [`Report`], [`Outcome`] |
//! | control it | [`RolloutControl`] (pause, resume, abort, report an issue) |
//! | configure | [`RolloutConfig`], [`Strategy`], [`Budget`], [`CanaryStep`], [`HealthGate`], [`AnalysisPolicy`] |
//! | dry run | [`plan`], [`Rollout::plan`], [`Plan`] |
//! | the pure engine | [`Engine::step`], [`Observation`], [`Action`] |
//! | rollback decisions | [`Trigger`], [`Issue`], [`decide`], [`Decision`] |
//! | journal and resume | [`Journal`], [`FileJournal`], [`PgJournal`], [`decode_journal`], [`replay`], [`RolloutBuilder::resume`] |
//! | deploy lock | [`DeployLock`], [`FileLock`], [`PgLock`], [`LockInfo`] |
//! | terminal output (feature `progress`, default) | `ProgressSink` (indicatif), `JsonLinesSink` |
//!
//! Strategies: one-at-a-time with drain (the runbook's default), rolling with `max_surge`/`max_unavailable`
//! (counts or percentages, Kubernetes' rounding), canary steps, and blue-green where the platform can switch
//! traffic. Every run ends [`Outcome::Succeeded`] (all units on the new release), [`Outcome::RolledBack`] (all
//! back on the previous one, with the trigger), or says exactly which units are left where.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use runway_core::{ControlModel, PlatformCapabilities, UnitId};
//! use runway_rollout::{Engine, EngineInit, Observation, RolloutConfig, UnitView, Action};
//! use runway_core::{ReleaseId, UnitState};
//!
//! // The pure engine: feed observations, get actions.
//! let caps = PlatformCapabilities::all(ControlModel::Orchestrated);
//! let mut engine = Engine::new(EngineInit::new(RolloutConfig::default(), caps, ReleaseId::new("v2"))).unwrap();
//! let fleet = (1..=3)
//!     .map(|i| UnitView {
//!         id: UnitId::new(format!("api-{i}")),
//!         release: Some(ReleaseId::new("v1")),
//!         state: UnitState::Running,
//!         in_load_balancer: true,
//!     })
//!     .collect();
//! let actions = engine.step(Duration::ZERO, Observation::Start { fleet });
//! // One at a time with drain: the first action on a unit drains api-1.
//! assert!(actions.contains(&Action::Drain(UnitId::new("api-1"))));
//! assert!(!actions.contains(&Action::Drain(UnitId::new("api-2"))));
//! ```
//!
//! A whole rollout against the simulator (paused tokio time: minutes of rollout take milliseconds):
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use runway_core::Release;
//! use runway_rollout::{HealthGate, Outcome, Rollout, RolloutConfig};
//! use runway_sim::{ReleaseProfile, SimPlatform};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! let sim = SimPlatform::builder()
//!     .environment("production").service("api").units(3).initial_release("v1")
//!     .release(ReleaseProfile::unhealthy("v2"))
//!     .build();
//! let report = Rollout::builder()
//!     .with_platform(Arc::new(sim.clone()))
//!     .with_probe(Arc::new(sim.clone()))
//!     .with_environment("production")
//!     .with_release(Release::new("v2"))
//!     .with_config(RolloutConfig::default().with_gate(HealthGate::default().with_period(Duration::from_secs(2))))
//!     .build()
//!     .unwrap()
//!     .run()
//!     .await
//!     .unwrap();
//! assert!(matches!(report.outcome, Outcome::RolledBack { .. }));
//! assert_eq!(sim.units_by_release().len(), 1); // all on v1 again
//! # }
//! ```

mod config;
mod driver;
mod engine;
mod error;
pub mod journal;
pub mod lock;
mod outcome;
mod plan;
#[cfg(feature = "progress")]
mod progress;

pub use config::{
    AnalysisPolicy, Budget, CanaryStep, HealthGate, InconclusivePolicy, RolloutConfig, Strategy,
    resolve_budgets,
};
pub use driver::{Report, ResumePolicy, Rollout, RolloutBuilder, RolloutControl};
pub use engine::{
    Action, Command, Engine, EngineInit, Observation, Operation, ResumePoint, UnitView,
};
pub use error::RolloutError;
pub use journal::{
    Decoded, FileJournal, Journal, JournalError, JournalSink, PgJournal, ReplayState,
    decode_journal, replay,
};
pub use lock::{DeployLock, FileLock, LockError, LockGuard, LockInfo, PgLock};
pub use outcome::{Decision, Issue, IssueKind, Outcome, Trigger, decide};
pub use plan::{Plan, PlannedBatch, plan};
#[cfg(feature = "progress")]
pub use progress::{JsonLinesSink, ProgressSink};
