//! # runway-core
//!
//! The contracts every runway crate builds on: domain types, provider traits, the error type, the retry
//! policy, the clock and typed events. No IO of its own.
//!
//! | what | entry points |
//! |---|---|
//! | deploy targets | [`Platform`], [`PlatformCapabilities`], [`ControlModel`] |
//! | health and analysis hooks | [`HealthProbe`], [`Analysis`], [`MetricsSource`] |
//! | environment variables | [`VariableStore`], [`VariableDiff`], [`EnvExample`] |
//! | logs | [`LogSource`], [`LogQuery`], [`AggregateQuery`] |
//! | secrets | [`SecretStore`], [`SecretStage`], [`RequestToken`] |
//! | notifications | [`Notifier`], [`Notification`] |
//! | events | [`Event`], [`EventSink`], [`Emitter`] |
//! | errors and retries | [`Error`], [`ErrorKind`], [`RetryPolicy`], [`Retrying`] |
//! | time | [`Clock`], [`SystemClock`], [`TokioClock`] |
//!
//! Traits held as `Arc<dyn _>` are object safe, `Send + Sync + Debug + 'static`, and take options structs
//! that may grow. With the `mock` feature, each has a mockall mock (`MockPlatform`, `MockVariableStore`, ...).
//!
//! Secrets are [`secrecy::SecretString`] end to end: variable values and secret versions never appear in
//! `Debug`, `Display`, logs, events or errors.
//!
//! ```
//! use runway_core::{Error, ErrorKind, Release};
//!
//! let release = Release::new("v1.1").with_message("feat(webhooks): add subscription endpoints");
//! assert_eq!(release.id.as_str(), "v1.1");
//!
//! let err = Error::rate_limited(Some(std::time::Duration::from_secs(2)), "429 from provider");
//! assert!(err.is_retryable());
//! assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }));
//! ```

mod clock;
mod dotenv;
mod error;
pub mod event;
mod logs;
mod metrics;
mod notify;
mod platform;
mod retry;
mod retrying;
mod secrets;
mod types;
mod vars;

pub use clock::{Clock, SystemClock, TokioClock};
pub use dotenv::parse_dotenv;
pub use error::{BoxError, Error, ErrorKind, Result, kind_for_http_status};
pub use event::{Emitter, Event, EventPayload, EventSink, MemorySink};
pub use logs::{
    AggregateQuery, AggregateResult, INSIGHTS_ERRORS, LogCapabilities, LogEntry, LogLevel,
    LogQuery, LogScope, LogSource, LogStream, collect_logs,
};
pub use metrics::{
    MetricsQuery, MetricsSource, RequestMetrics, ResourceMetrics, new_latency_histogram,
};
pub use notify::{Notification, NotificationKind, Notifier, RollbackStatus, human_duration};
pub use platform::{
    Analysis, AnalysisContext, AnalysisVerdict, ControlModel, DeployOptions, HealthProbe,
    ListDeployments, ListUnits, Platform, PlatformCapabilities, ProbeResult, RollbackTarget,
};
pub use retry::{Idempotency, RetryPolicy};
pub use retrying::Retrying;
pub use secrets::{
    RequestToken, SecretCapabilities, SecretStage, SecretStore, SecretVersion, SecretVersionInfo,
};
pub use types::{
    Deployment, DeploymentId, DeploymentStatus, Environment, EnvironmentId, EnvironmentKind,
    Release, ReleaseId, Service, ServiceId, ServiceRole, TimeRange, Unit, UnitId, UnitState,
};
pub use vars::{
    ApplyStrategy, EnvExample, SetOptions, VariableCapabilities, VariableDiff, VariableScope,
    VariableStore, Variables, fingerprint, validate_name,
};

#[cfg(feature = "mock")]
pub use event::MockEventSink;
#[cfg(feature = "mock")]
pub use logs::MockLogSource;
#[cfg(feature = "mock")]
pub use metrics::MockMetricsSource;
#[cfg(feature = "mock")]
pub use notify::MockNotifier;
#[cfg(feature = "mock")]
pub use platform::{MockAnalysis, MockHealthProbe, MockPlatform};
#[cfg(feature = "mock")]
pub use secrets::MockSecretStore;
#[cfg(feature = "mock")]
pub use vars::MockVariableStore;

pub use secrecy;

/// Forwarding impl so `Arc<dyn Platform>` can be wrapped (for example by [`Retrying`]).
#[async_trait::async_trait]
impl<P: Platform + ?Sized> Platform for std::sync::Arc<P> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn capabilities(&self) -> PlatformCapabilities {
        (**self).capabilities()
    }
    async fn environments(&self) -> Result<Vec<Environment>> {
        (**self).environments().await
    }
    async fn services(&self, env: &EnvironmentId) -> Result<Vec<Service>> {
        (**self).services(env).await
    }
    async fn units(&self, env: &EnvironmentId, opts: &ListUnits) -> Result<Vec<Unit>> {
        (**self).units(env, opts).await
    }
    async fn unit(&self, unit: &UnitId) -> Result<Unit> {
        (**self).unit(unit).await
    }
    async fn deploy(
        &self,
        unit: &UnitId,
        release: &Release,
        opts: &DeployOptions,
    ) -> Result<Deployment> {
        (**self).deploy(unit, release, opts).await
    }
    async fn deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        (**self).deployment(id).await
    }
    async fn deployments(&self, unit: &UnitId, opts: &ListDeployments) -> Result<Vec<Deployment>> {
        (**self).deployments(unit, opts).await
    }
    async fn rollback(&self, unit: &UnitId, to: &RollbackTarget) -> Result<Deployment> {
        (**self).rollback(unit, to).await
    }
    async fn restart(&self, unit: &UnitId) -> Result<Deployment> {
        (**self).restart(unit).await
    }
    async fn drain(&self, unit: &UnitId) -> Result<()> {
        (**self).drain(unit).await
    }
    async fn restore(&self, unit: &UnitId) -> Result<()> {
        (**self).restore(unit).await
    }
    async fn add_unit(&self, service: &ServiceId, release: &Release) -> Result<Unit> {
        (**self).add_unit(service, release).await
    }
    async fn remove_unit(&self, unit: &UnitId) -> Result<()> {
        (**self).remove_unit(unit).await
    }
    async fn switch_traffic(&self, from: &[UnitId], to: &[UnitId]) -> Result<()> {
        (**self).switch_traffic(from, to).await
    }
}
