//! Versioned secrets: the [`SecretStore`] trait with the current / pending / previous stages.
//!
//! The model is AWS Secrets Manager's (AWSCURRENT / AWSPENDING / AWSPREVIOUS): a rotation writes a pending
//! version, tests it, then promotes it; the old current becomes previous. Writes carry a client request token
//! so a retried write never creates a second version.

use std::fmt::{self, Debug};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A version's stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretStage {
    /// The value in use (AWSCURRENT).
    Current,
    /// A new value being rotated in (AWSPENDING).
    Pending,
    /// The value before the last promotion (AWSPREVIOUS).
    Previous,
}

impl fmt::Display for SecretStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecretStage::Current => "current",
            SecretStage::Pending => "pending",
            SecretStage::Previous => "previous",
        })
    }
}

/// A client request token: the idempotency key of a secret write (32 to 64 characters on AWS).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RequestToken(String);

impl RequestToken {
    /// Wrap a token.
    pub fn new(token: impl Into<String>) -> Self {
        RequestToken(token.into())
    }

    /// A token derived from a name and a rotation id, stable across retries and restarts.
    pub fn derive(secret_name: &str, rotation_id: &str) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{secret_name}\0{rotation_id}").as_bytes());
        RequestToken(digest.iter().take(20).map(|b| format!("{b:02x}")).collect())
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A version's metadata (no value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretVersionInfo {
    /// Version id (for AWS, the client request token used to write it).
    pub version_id: String,
    /// Stages attached to it; empty for a deprecated version.
    pub stages: Vec<SecretStage>,
    /// When it was written.
    pub created_at: Option<DateTime<Utc>>,
}

/// A version with its value.
#[derive(Debug, Clone)]
pub struct SecretVersion {
    /// Metadata.
    pub info: SecretVersionInfo,
    /// The value, never printed.
    pub value: SecretString,
}

/// What a secret store supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SecretCapabilities {
    /// Writes with the same token are idempotent natively.
    pub native_idempotency: bool,
}

impl SecretCapabilities {
    /// Set the capability.
    pub fn new(native_idempotency: bool) -> Self {
        SecretCapabilities { native_idempotency }
    }
}

/// A store of versioned secrets (AWS Secrets Manager, the simulator's in-memory store, a file store).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SecretStore: Send + Sync + Debug + 'static {
    /// What this store supports.
    fn capabilities(&self) -> SecretCapabilities;

    /// Create a secret whose first version is current. Fails with `Conflict` when it exists.
    async fn create(&self, name: &str, value: SecretString, token: &RequestToken)
    -> Result<String>;

    /// The version at `stage`. `NotFound` when the secret or the stage does not exist.
    async fn get(&self, name: &str, stage: SecretStage) -> Result<SecretVersion>;

    /// Write a new pending version. The same token with the same value returns the same version id;
    /// the same token with another value is a `Conflict`.
    async fn put_pending(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> Result<String>;

    /// Make `version_id` current; the old current becomes previous. Promoting the current version is a no-op.
    async fn promote(&self, name: &str, version_id: &str) -> Result<()>;

    /// Drop the pending stage (abandon a rotation); no-op when there is none.
    async fn clear_pending(&self, name: &str) -> Result<()>;

    /// Every version's metadata.
    async fn versions(&self, name: &str) -> Result<Vec<SecretVersionInfo>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_tokens_are_stable() {
        let a = RequestToken::derive("db/password", "2026-q4");
        assert_eq!(a, RequestToken::derive("db/password", "2026-q4"));
        assert_ne!(a, RequestToken::derive("db/password", "2027-q1"));
        assert_eq!(a.as_str().len(), 40);
    }
}
