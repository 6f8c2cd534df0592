//! [`Retrying`]: a wrapper that puts every call of a provider through one [`RetryPolicy`].
//!
//! It implements the same traits as what it wraps, so engines take an `Arc<dyn Platform>` and never know
//! whether retries happen. Reads, upserts and token-carrying secret writes are idempotent; `deploy` is
//! idempotent only with an idempotency key, and `rollback`/`restart`/`add_unit` are treated as not idempotent
//! (their timeouts are not retried).

use async_trait::async_trait;
use secrecy::SecretString;

use crate::error::Result;
use crate::logs::{
    AggregateQuery, AggregateResult, LogCapabilities, LogQuery, LogSource, LogStream,
};
use crate::platform::{
    DeployOptions, ListDeployments, ListUnits, Platform, PlatformCapabilities, RollbackTarget,
};
use crate::retry::{Idempotency, RetryPolicy};
use crate::secrets::{
    RequestToken, SecretCapabilities, SecretStage, SecretStore, SecretVersion, SecretVersionInfo,
};
use crate::types::{
    Deployment, DeploymentId, Environment, EnvironmentId, Release, Service, ServiceId, Unit, UnitId,
};
use crate::vars::{SetOptions, VariableCapabilities, VariableScope, VariableStore, Variables};

use Idempotency::{Idempotent, NonIdempotent};

/// Wraps a provider so each call is retried by `policy`.
#[derive(Debug, Clone)]
pub struct Retrying<T> {
    inner: T,
    policy: RetryPolicy,
}

impl<T> Retrying<T> {
    /// Wrap `inner` with `policy`.
    pub fn new(inner: T, policy: RetryPolicy) -> Self {
        Retrying { inner, policy }
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<T: Platform> Platform for Retrying<T> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn capabilities(&self) -> PlatformCapabilities {
        self.inner.capabilities()
    }

    async fn environments(&self) -> Result<Vec<Environment>> {
        self.policy
            .run(Idempotent, || self.inner.environments())
            .await
    }

    async fn services(&self, env: &EnvironmentId) -> Result<Vec<Service>> {
        self.policy
            .run(Idempotent, || self.inner.services(env))
            .await
    }

    async fn units(&self, env: &EnvironmentId, opts: &ListUnits) -> Result<Vec<Unit>> {
        self.policy
            .run(Idempotent, || self.inner.units(env, opts))
            .await
    }

    async fn unit(&self, unit: &UnitId) -> Result<Unit> {
        self.policy.run(Idempotent, || self.inner.unit(unit)).await
    }

    async fn deploy(
        &self,
        unit: &UnitId,
        release: &Release,
        opts: &DeployOptions,
    ) -> Result<Deployment> {
        let idem = if opts.idempotency_key.is_some() {
            Idempotent
        } else {
            NonIdempotent
        };
        self.policy
            .run(idem, || self.inner.deploy(unit, release, opts))
            .await
    }

    async fn deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        self.policy
            .run(Idempotent, || self.inner.deployment(id))
            .await
    }

    async fn deployments(&self, unit: &UnitId, opts: &ListDeployments) -> Result<Vec<Deployment>> {
        self.policy
            .run(Idempotent, || self.inner.deployments(unit, opts))
            .await
    }

    async fn rollback(&self, unit: &UnitId, to: &RollbackTarget) -> Result<Deployment> {
        self.policy
            .run(NonIdempotent, || self.inner.rollback(unit, to))
            .await
    }

    async fn restart(&self, unit: &UnitId) -> Result<Deployment> {
        self.policy
            .run(NonIdempotent, || self.inner.restart(unit))
            .await
    }

    async fn drain(&self, unit: &UnitId) -> Result<()> {
        self.policy.run(Idempotent, || self.inner.drain(unit)).await
    }

    async fn restore(&self, unit: &UnitId) -> Result<()> {
        self.policy
            .run(Idempotent, || self.inner.restore(unit))
            .await
    }

    async fn add_unit(&self, service: &ServiceId, release: &Release) -> Result<Unit> {
        self.policy
            .run(NonIdempotent, || self.inner.add_unit(service, release))
            .await
    }

    async fn remove_unit(&self, unit: &UnitId) -> Result<()> {
        self.policy
            .run(Idempotent, || self.inner.remove_unit(unit))
            .await
    }

    async fn switch_traffic(&self, from: &[UnitId], to: &[UnitId]) -> Result<()> {
        self.policy
            .run(Idempotent, || self.inner.switch_traffic(from, to))
            .await
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<T: VariableStore> VariableStore for Retrying<T> {
    fn capabilities(&self) -> VariableCapabilities {
        self.inner.capabilities()
    }

    async fn list(&self, scope: &VariableScope) -> Result<Variables> {
        self.policy.run(Idempotent, || self.inner.list(scope)).await
    }

    async fn get(&self, scope: &VariableScope, name: &str) -> Result<Option<SecretString>> {
        self.policy
            .run(Idempotent, || self.inner.get(scope, name))
            .await
    }

    async fn set(
        &self,
        scope: &VariableScope,
        name: &str,
        value: SecretString,
        opts: &SetOptions,
    ) -> Result<()> {
        self.policy
            .run(Idempotent, || {
                self.inner.set(scope, name, value.clone(), opts)
            })
            .await
    }

    async fn set_many(
        &self,
        scope: &VariableScope,
        vars: Variables,
        opts: &SetOptions,
    ) -> Result<()> {
        self.policy
            .run(Idempotent, || {
                self.inner.set_many(scope, vars.clone(), opts)
            })
            .await
    }

    async fn delete(&self, scope: &VariableScope, name: &str, opts: &SetOptions) -> Result<()> {
        self.policy
            .run(Idempotent, || self.inner.delete(scope, name, opts))
            .await
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<T: LogSource> LogSource for Retrying<T> {
    fn capabilities(&self) -> LogCapabilities {
        self.inner.capabilities()
    }

    async fn query(&self, query: &LogQuery) -> Result<LogStream> {
        self.policy
            .run(Idempotent, || self.inner.query(query))
            .await
    }

    async fn aggregate(&self, query: &AggregateQuery) -> Result<AggregateResult> {
        self.policy
            .run(Idempotent, || self.inner.aggregate(query))
            .await
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<T: SecretStore> SecretStore for Retrying<T> {
    fn capabilities(&self) -> SecretCapabilities {
        self.inner.capabilities()
    }

    async fn create(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> Result<String> {
        self.policy
            .run(Idempotent, || self.inner.create(name, value.clone(), token))
            .await
    }

    async fn get(&self, name: &str, stage: SecretStage) -> Result<SecretVersion> {
        self.policy
            .run(Idempotent, || self.inner.get(name, stage))
            .await
    }

    async fn put_pending(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> Result<String> {
        self.policy
            .run(Idempotent, || {
                self.inner.put_pending(name, value.clone(), token)
            })
            .await
    }

    async fn promote(&self, name: &str, version_id: &str) -> Result<()> {
        self.policy
            .run(Idempotent, || self.inner.promote(name, version_id))
            .await
    }

    async fn clear_pending(&self, name: &str) -> Result<()> {
        self.policy
            .run(Idempotent, || self.inner.clear_pending(name))
            .await
    }

    async fn versions(&self, name: &str) -> Result<Vec<SecretVersionInfo>> {
        self.policy
            .run(Idempotent, || self.inner.versions(name))
            .await
    }
}
