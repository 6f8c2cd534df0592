//! Generic API keys: the rotation calls back into the key's provider.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use runway_core::SecretVersion;
use secrecy::SecretString;

use crate::rotation::Rotator;

/// The provider of an API key (a payment gateway, a mail service): issue, check and revoke keys.
///
/// `issue` runs in the `create` step; if a rotation is retried before the pending version is stored, a
/// second key may be issued, so `revoke` must accept keys it never saw in use.
#[async_trait]
pub trait ApiKeyProvider: Send + Sync + Debug + 'static {
    /// Issue a new key (the current one is given for providers that rotate in place).
    async fn issue(&self, current: &SecretString) -> runway_core::Result<SecretString>;

    /// Make an issued key active, when the provider needs that step (default: nothing to do).
    async fn activate(&self, key: &SecretString) -> runway_core::Result<()> {
        let _ = key;
        Ok(())
    }

    /// Check that `key` is accepted.
    async fn verify(&self, key: &SecretString) -> runway_core::Result<()>;

    /// Revoke `key`.
    async fn revoke(&self, key: &SecretString) -> runway_core::Result<()>;
}

/// Rotates an API key through an [`ApiKeyProvider`]; by default the previous key is revoked when the new
/// one is current (the runbook rotates API keys when compromised).
#[derive(Debug, Clone)]
pub struct ApiKeyRotator {
    provider: Arc<dyn ApiKeyProvider>,
    revoke_previous: bool,
}

impl ApiKeyRotator {
    /// Rotate keys of `provider`.
    pub fn new(provider: Arc<dyn ApiKeyProvider>) -> Self {
        ApiKeyRotator {
            provider,
            revoke_previous: true,
        }
    }

    /// Keep the previous key valid after the rotation (consumers switch at their own pace).
    #[must_use]
    pub fn keep_previous(mut self) -> Self {
        self.revoke_previous = false;
        self
    }
}

#[async_trait]
impl Rotator for ApiKeyRotator {
    fn name(&self) -> &str {
        "api-key"
    }

    async fn create(&self, current: &SecretVersion) -> runway_core::Result<SecretString> {
        self.provider.issue(&current.value).await
    }

    async fn set(
        &self,
        pending: &SecretVersion,
        _current: &SecretVersion,
    ) -> runway_core::Result<()> {
        self.provider.activate(&pending.value).await
    }

    async fn test(&self, pending: &SecretVersion) -> runway_core::Result<()> {
        self.provider.verify(&pending.value).await
    }

    async fn finish(
        &self,
        _current: &SecretVersion,
        previous: Option<&SecretVersion>,
    ) -> runway_core::Result<()> {
        match previous {
            Some(p) if self.revoke_previous => self.provider.revoke(&p.value).await,
            _ => Ok(()),
        }
    }
}
