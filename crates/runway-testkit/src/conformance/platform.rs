//! The [`Platform`] conformance suite.

use std::sync::Arc;
use std::time::Duration;

use runway_core::{
    DeployOptions, DeploymentId, DeploymentStatus, EnvironmentId, ErrorKind, ListDeployments,
    ListUnits, Platform, Release, RollbackTarget, Unit, UnitId,
};

use super::eventually;

/// What the platform suite needs from a backend.
#[derive(Debug, Clone)]
pub struct PlatformFixture {
    /// The backend under test.
    pub platform: Arc<dyn Platform>,
    /// An environment with at least one unit.
    pub environment: EnvironmentId,
    /// A release that deploys successfully and differs from what the units run.
    pub release: Release,
    /// How often to poll deployments.
    pub poll_interval: Duration,
    /// How long a deployment may take to reach a terminal status.
    pub deploy_timeout: Duration,
}

impl PlatformFixture {
    /// A fixture deploying release `v2` in `environment`, polling every second for up to ten minutes
    /// (instant with paused time).
    pub fn new(platform: Arc<dyn Platform>, environment: impl Into<EnvironmentId>) -> Self {
        PlatformFixture {
            platform,
            environment: environment.into(),
            release: Release::new("v2"),
            poll_interval: Duration::from_secs(1),
            deploy_timeout: Duration::from_secs(600),
        }
    }

    /// Deploy this release instead.
    #[must_use]
    pub fn with_release(mut self, release: Release) -> Self {
        self.release = release;
        self
    }

    /// Poll at this interval, for at most `timeout`.
    #[must_use]
    pub fn with_polling(mut self, interval: Duration, timeout: Duration) -> Self {
        self.poll_interval = interval;
        self.deploy_timeout = timeout;
        self
    }

    fn name(&self) -> &str {
        self.platform.name()
    }

    async fn first_unit(&self) -> Unit {
        let units = self
            .platform
            .units(&self.environment, &ListUnits::default())
            .await
            .unwrap_or_else(|e| panic!("{}: units failed: {e}", self.name()));
        units.into_iter().next().unwrap_or_else(|| {
            panic!(
                "{}: environment {} has no units",
                self.name(),
                self.environment
            )
        })
    }

    /// Poll a deployment until it is terminal; returns its final status.
    pub async fn wait(&self, id: &DeploymentId) -> DeploymentStatus {
        let p = self.platform.clone();
        eventually(
            &format!("{}: deployment {id} to finish", self.name()),
            self.poll_interval,
            self.deploy_timeout,
            || {
                let p = p.clone();
                let id = id.clone();
                async move {
                    let d = p.deployment(&id).await.ok()?;
                    d.status.is_terminal().then_some(d.status)
                }
            },
        )
        .await
    }
}

/// Environments list the fixture's; services and units belong to it; `unit()` agrees with `units()`.
pub async fn lists_environments_services_units(fx: &PlatformFixture) {
    let p = &fx.platform;
    let envs = p.environments().await.expect("environments");
    assert!(
        envs.iter().any(|e| e.id == fx.environment),
        "{}: environments() lacks {}",
        fx.name(),
        fx.environment
    );
    let services = p.services(&fx.environment).await.expect("services");
    assert!(!services.is_empty(), "{}: no services", fx.name());
    assert!(services.iter().all(|s| s.environment == fx.environment));
    let units = p
        .units(&fx.environment, &ListUnits::default())
        .await
        .expect("units");
    assert!(!units.is_empty(), "{}: no units", fx.name());
    for u in &units {
        assert_eq!(
            u.environment,
            fx.environment,
            "{}: unit {} in wrong environment",
            fx.name(),
            u.id
        );
        assert!(
            services.iter().any(|s| s.id == u.service),
            "{}: unit {} names unknown service {}",
            fx.name(),
            u.id,
            u.service
        );
        let one = p.unit(&u.id).await.expect("unit");
        assert_eq!(one.id, u.id);
        assert_eq!(one.service, u.service);
    }
    let first_service = &units[0].service;
    let filtered = p
        .units(&fx.environment, &ListUnits::service(first_service.clone()))
        .await
        .expect("units filtered by service");
    assert!(!filtered.is_empty());
    assert!(filtered.iter().all(|u| &u.service == first_service));
}

/// Unknown units, deployments and environments are `NotFound`, not another error.
pub async fn unknown_ids_are_not_found(fx: &PlatformFixture) {
    let p = &fx.platform;
    let e = p.unit(&UnitId::new("no-such-unit-9f3a")).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound, "{}: unit: {e}", fx.name());
    let e = p
        .deployment(&DeploymentId::new("no-such-deployment-9f3a"))
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::NotFound,
        "{}: deployment: {e}",
        fx.name()
    );
    let e = p
        .units(
            &EnvironmentId::new("no-such-environment-9f3a"),
            &ListUnits::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound, "{}: units: {e}", fx.name());
}

/// A deployment of a good release reaches `Succeeded` and the unit then runs it.
pub async fn deploy_reaches_success(fx: &PlatformFixture) {
    let unit = fx.first_unit().await;
    let dep = fx
        .platform
        .deploy(&unit.id, &fx.release, &DeployOptions::default())
        .await
        .expect("deploy");
    assert_eq!(dep.unit, unit.id);
    assert!(
        !dep.status.is_failure(),
        "{}: new deployment already failed",
        fx.name()
    );
    let status = fx.wait(&dep.id).await;
    assert_eq!(
        status,
        DeploymentStatus::Succeeded,
        "{}: deployment ended {status:?}",
        fx.name()
    );
    let after = fx.platform.unit(&unit.id).await.expect("unit");
    assert_eq!(
        after.release.as_ref(),
        Some(&fx.release.id),
        "{}: unit does not report the deployed release",
        fx.name()
    );
}

/// Two deploys with the same idempotency key are one deployment.
pub async fn deploy_with_same_idempotency_key_is_one_deployment(fx: &PlatformFixture) {
    let unit = fx.first_unit().await;
    let opts = DeployOptions::with_idempotency_key("conformance-key-1");
    let a = fx
        .platform
        .deploy(&unit.id, &fx.release, &opts)
        .await
        .expect("deploy");
    let b = fx
        .platform
        .deploy(&unit.id, &fx.release, &opts)
        .await
        .expect("deploy again");
    assert_eq!(
        a.id,
        b.id,
        "{}: a retried deploy started a second deployment",
        fx.name()
    );
    fx.wait(&a.id).await;
}

/// `deployments()` lists the newest first.
pub async fn deployments_are_newest_first(fx: &PlatformFixture) {
    let unit = fx.first_unit().await;
    let a = fx
        .platform
        .deploy(&unit.id, &fx.release, &DeployOptions::default())
        .await
        .expect("deploy 1");
    fx.wait(&a.id).await;
    let b = fx
        .platform
        .deploy(&unit.id, &fx.release, &DeployOptions::default())
        .await
        .expect("deploy 2");
    fx.wait(&b.id).await;
    let list = fx
        .platform
        .deployments(&unit.id, &ListDeployments::default())
        .await
        .expect("deployments");
    let pos = |id: &DeploymentId| list.iter().position(|d| &d.id == id);
    let (pa, pb) = (pos(&a.id), pos(&b.id));
    assert!(
        pa.is_some() && pb.is_some(),
        "{}: deployments() lacks a deployment",
        fx.name()
    );
    assert!(pb < pa, "{}: deployments() is not newest first", fx.name());
}

/// Rolling back to `Previous` returns the unit to the release it ran before (or is `Unsupported`).
pub async fn rollback_returns_to_previous_release(fx: &PlatformFixture) {
    let unit = fx.first_unit().await;
    if !fx.platform.capabilities().rollback {
        let e = fx
            .platform
            .rollback(&unit.id, &RollbackTarget::Previous)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Unsupported, "{}: {e}", fx.name());
        return;
    }
    let before = unit.release.clone();
    let dep = fx
        .platform
        .deploy(&unit.id, &fx.release, &DeployOptions::default())
        .await
        .expect("deploy");
    assert_eq!(fx.wait(&dep.id).await, DeploymentStatus::Succeeded);
    let rb = fx
        .platform
        .rollback(&unit.id, &RollbackTarget::Previous)
        .await
        .expect("rollback");
    assert_ne!(
        rb.id,
        dep.id,
        "{}: rollback must return the deployment it caused",
        fx.name()
    );
    assert_eq!(
        fx.wait(&rb.id).await,
        DeploymentStatus::Succeeded,
        "{}: rollback failed",
        fx.name()
    );
    let after = fx.platform.unit(&unit.id).await.expect("unit");
    assert_eq!(
        after.release,
        before,
        "{}: rollback did not restore the previous release",
        fx.name()
    );
}

/// Restart keeps the release (or is `Unsupported`).
pub async fn restart_keeps_release(fx: &PlatformFixture) {
    let unit = fx.first_unit().await;
    if !fx.platform.capabilities().restart {
        let e = fx.platform.restart(&unit.id).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Unsupported, "{}: {e}", fx.name());
        return;
    }
    let dep = fx.platform.restart(&unit.id).await.expect("restart");
    assert_eq!(fx.wait(&dep.id).await, DeploymentStatus::Succeeded);
    let after = fx.platform.unit(&unit.id).await.expect("unit");
    assert_eq!(
        after.release,
        unit.release,
        "{}: restart changed the release",
        fx.name()
    );
}

/// Drain takes a unit out of the load balancer and restore puts it back (or both are `Unsupported`).
pub async fn drain_and_restore(fx: &PlatformFixture) {
    let unit = fx.first_unit().await;
    if !fx.platform.capabilities().drain {
        let e = fx.platform.drain(&unit.id).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Unsupported, "{}: {e}", fx.name());
        let e = fx.platform.restore(&unit.id).await.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Unsupported, "{}: {e}", fx.name());
        return;
    }
    fx.platform.drain(&unit.id).await.expect("drain");
    assert!(
        !fx.platform
            .unit(&unit.id)
            .await
            .expect("unit")
            .in_load_balancer
    );
    fx.platform
        .drain(&unit.id)
        .await
        .expect("drain twice is fine");
    fx.platform.restore(&unit.id).await.expect("restore");
    assert!(
        fx.platform
            .unit(&unit.id)
            .await
            .expect("unit")
            .in_load_balancer
    );
}

/// Fault scenario: a platform that answers its next call with 429 `Retry-After: delay` succeeds through
/// [`Retrying`](runway_core::Retrying), no earlier than `delay`.
pub async fn rate_limit_is_honoured(platform: Arc<dyn Platform>, delay: Duration) {
    let retrying = runway_core::Retrying::new(
        platform,
        runway_core::RetryPolicy::default()
            .with_jitter(false)
            .with_initial_backoff(Duration::from_millis(10)),
    );
    let start = tokio::time::Instant::now();
    retrying
        .environments()
        .await
        .expect("retried past the rate limit");
    assert!(
        start.elapsed() >= delay,
        "retried after {:?}, before the provider's Retry-After of {delay:?}",
        start.elapsed()
    );
}

/// Fault scenario: a platform that fails its next `failures` calls with 5xx succeeds through
/// [`Retrying`](runway_core::Retrying) with a budget of `failures` retries.
pub async fn server_errors_are_retried_within_policy(platform: Arc<dyn Platform>, failures: u32) {
    let policy = runway_core::RetryPolicy::default()
        .with_jitter(false)
        .with_initial_backoff(Duration::from_millis(10))
        .with_max_retries(failures);
    let retrying = runway_core::Retrying::new(platform, policy);
    retrying
        .environments()
        .await
        .expect("5xx within the retry budget must be retried");
}

/// Fault scenario: a platform that fails its next `failures` (at least 1) calls with 5xx fails through
/// [`Retrying`](runway_core::Retrying) with one retry fewer than needed, and the error counts every attempt.
pub async fn server_errors_beyond_policy_fail(platform: Arc<dyn Platform>, failures: u32) {
    assert!(failures >= 1);
    let policy = runway_core::RetryPolicy::default()
        .with_jitter(false)
        .with_initial_backoff(Duration::from_millis(10))
        .with_max_retries(failures - 1);
    let retrying = runway_core::Retrying::new(platform, policy);
    let err = retrying.environments().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
    assert_eq!(err.attempts(), failures, "{err}");
}
