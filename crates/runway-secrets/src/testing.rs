//! Fault injection for rotation tests: a rotator and a store that fail at a chosen step.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use runway_core::{
    Error, RequestToken, SecretCapabilities, SecretStage, SecretStore, SecretVersion,
    SecretVersionInfo,
};
use secrecy::SecretString;

use crate::rotation::{RotationStep, Rotator};

/// Wraps a rotator and fails its `step` (once, or every time) with an `Unavailable` error.
#[derive(Debug, Clone)]
pub struct FailingRotator<R> {
    inner: R,
    step: RotationStep,
    armed: Arc<AtomicBool>,
    once: bool,
}

impl<R: Rotator> FailingRotator<R> {
    /// Fail `step` every time.
    pub fn new(inner: R, step: RotationStep) -> Self {
        FailingRotator {
            inner,
            step,
            armed: Arc::new(AtomicBool::new(true)),
            once: false,
        }
    }

    /// Fail `step` the first time only (to test resuming).
    pub fn once(inner: R, step: RotationStep) -> Self {
        FailingRotator {
            once: true,
            ..Self::new(inner, step)
        }
    }

    fn check(&self, step: RotationStep) -> runway_core::Result<()> {
        if step == self.step && self.armed.load(Ordering::SeqCst) {
            if self.once {
                self.armed.store(false, Ordering::SeqCst);
            }
            return Err(Error::unavailable(format!("injected failure at {step}")));
        }
        Ok(())
    }
}

#[async_trait]
impl<R: Rotator> Rotator for FailingRotator<R> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn create(&self, current: &SecretVersion) -> runway_core::Result<SecretString> {
        self.check(RotationStep::Create)?;
        self.inner.create(current).await
    }

    async fn set(
        &self,
        pending: &SecretVersion,
        current: &SecretVersion,
    ) -> runway_core::Result<()> {
        self.check(RotationStep::Set)?;
        self.inner.set(pending, current).await
    }

    async fn test(&self, pending: &SecretVersion) -> runway_core::Result<()> {
        self.check(RotationStep::Test)?;
        self.inner.test(pending).await
    }

    async fn finish(
        &self,
        current: &SecretVersion,
        previous: Option<&SecretVersion>,
    ) -> runway_core::Result<()> {
        self.check(RotationStep::Finish)?;
        self.inner.finish(current, previous).await
    }
}

/// Wraps a store and fails `promote` (the store side of `finish`) or `put_pending` (of `create`).
#[derive(Debug, Clone)]
pub struct FailingStore<S> {
    inner: S,
    fail_promote: bool,
    fail_put: bool,
}

impl<S: SecretStore> FailingStore<S> {
    /// Fail every `promote`.
    pub fn promote(inner: S) -> Self {
        FailingStore {
            inner,
            fail_promote: true,
            fail_put: false,
        }
    }

    /// Fail every `put_pending`.
    pub fn put_pending(inner: S) -> Self {
        FailingStore {
            inner,
            fail_promote: false,
            fail_put: true,
        }
    }
}

#[async_trait]
impl<S: SecretStore> SecretStore for FailingStore<S> {
    fn capabilities(&self) -> SecretCapabilities {
        self.inner.capabilities()
    }
    async fn create(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> runway_core::Result<String> {
        self.inner.create(name, value, token).await
    }
    async fn get(&self, name: &str, stage: SecretStage) -> runway_core::Result<SecretVersion> {
        self.inner.get(name, stage).await
    }
    async fn put_pending(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> runway_core::Result<String> {
        if self.fail_put {
            return Err(Error::unavailable("injected failure at put_pending"));
        }
        self.inner.put_pending(name, value, token).await
    }
    async fn promote(&self, name: &str, version_id: &str) -> runway_core::Result<()> {
        if self.fail_promote {
            return Err(Error::unavailable("injected failure at promote"));
        }
        self.inner.promote(name, version_id).await
    }
    async fn clear_pending(&self, name: &str) -> runway_core::Result<()> {
        self.inner.clear_pending(name).await
    }
    async fn versions(&self, name: &str) -> runway_core::Result<Vec<SecretVersionInfo>> {
        self.inner.versions(name).await
    }
}
