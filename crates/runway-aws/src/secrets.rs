//! AWS Secrets Manager as a [`SecretStore`]: stages AWSCURRENT / AWSPENDING / AWSPREVIOUS, writes with an
//! explicit client request token, every call with an explicit `VersionStage`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::primitives::DateTime as AwsDateTime;
use chrono::{DateTime, Utc};
use runway_core::{
    Error, ErrorKind, Idempotency, RequestToken, RetryPolicy, SecretCapabilities, SecretStage,
    SecretStore, SecretVersion, SecretVersionInfo,
};
use secrecy::{ExposeSecret, SecretString};

use crate::config::AwsConfig;
use crate::error::map_sdk_error;

/// The AWS staging label of a stage.
pub fn stage_label(stage: SecretStage) -> &'static str {
    match stage {
        SecretStage::Current => "AWSCURRENT",
        SecretStage::Pending => "AWSPENDING",
        SecretStage::Previous => "AWSPREVIOUS",
    }
}

/// The stage of an AWS staging label; custom labels are `None`.
pub fn parse_stage_label(label: &str) -> Option<SecretStage> {
    match label {
        "AWSCURRENT" => Some(SecretStage::Current),
        "AWSPENDING" => Some(SecretStage::Pending),
        "AWSPREVIOUS" => Some(SecretStage::Previous),
        _ => None,
    }
}

fn stages(labels: &[String]) -> Vec<SecretStage> {
    let mut s: Vec<SecretStage> = labels.iter().filter_map(|l| parse_stage_label(l)).collect();
    s.sort();
    s
}

fn chrono_time(t: Option<&AwsDateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

/// Secrets Manager.
///
/// Version ids are the client request tokens used to write them, so a retried write (same token, same
/// value) finds its version instead of creating a second one; the same token with another value is a
/// `Conflict`. Binary secrets are not supported (`InvalidInput`).
#[derive(Debug, Clone)]
pub struct SecretsManagerStore {
    client: Client,
    retry: RetryPolicy,
}

impl SecretsManagerStore {
    /// A store from `config`.
    pub fn new(config: &AwsConfig) -> Self {
        SecretsManagerStore {
            client: Client::new(config.sdk_config()),
            retry: config.retry.clone(),
        }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn stages_by_version(&self, name: &str) -> Result<HashMap<String, Vec<String>>, Error> {
        let out = self
            .client
            .describe_secret()
            .secret_id(name)
            .send()
            .await
            .map_err(|e| map_sdk_error("secrets.describe", e))?;
        Ok(out.version_ids_to_stages().cloned().unwrap_or_default())
    }

    async fn move_label(
        &self,
        name: &str,
        label: &str,
        to: Option<&str>,
        from: Option<&str>,
    ) -> Result<(), Error> {
        self.client
            .update_secret_version_stage()
            .secret_id(name)
            .version_stage(label)
            .set_move_to_version_id(to.map(str::to_owned))
            .set_remove_from_version_id(from.map(str::to_owned))
            .send()
            .await
            .map_err(|e| map_sdk_error("secrets.update_stage", e))?;
        Ok(())
    }

    async fn promote_once(&self, name: &str, version_id: &str) -> Result<(), Error> {
        let map = self.stages_by_version(name).await?;
        let Some(labels) = map.get(version_id) else {
            return Err(
                Error::not_found(format!("secret {name:?} has no version {version_id:?}"))
                    .with_backend("aws")
                    .with_operation("secrets.promote"),
            );
        };
        let holder = |label: &str| {
            map.iter()
                .find(|(_, ls)| ls.iter().any(|l| l == label))
                .map(|(v, _)| v.clone())
        };
        if !labels.iter().any(|l| l == "AWSCURRENT") {
            let current = holder("AWSCURRENT");
            self.move_label(name, "AWSCURRENT", Some(version_id), current.as_deref())
                .await?;
        }
        if labels.iter().any(|l| l == "AWSPENDING") {
            self.move_label(name, "AWSPENDING", None, Some(version_id))
                .await?;
        }
        Ok(())
    }

    /// A version written with `token` already exists: the same value is the same version (a retry), another
    /// value a `Conflict`. Checked here rather than left to the service, because emulators accept the
    /// second value silently.
    async fn put_pending_once(
        &self,
        name: &str,
        value: &SecretString,
        token: &RequestToken,
    ) -> Result<String, Error> {
        let map = self.stages_by_version(name).await?;
        if let Some(labels) = map.get(token.as_str()) {
            let existing = self
                .client
                .get_secret_value()
                .secret_id(name)
                .version_id(token.as_str())
                .send()
                .await
                .map_err(|e| map_sdk_error("secrets.put_pending", e))?;
            if existing.secret_string() != Some(value.expose_secret()) {
                return Err(Error::conflict(format!(
                    "version {:?} of secret {name:?} exists with another value",
                    token.as_str()
                ))
                .with_backend("aws")
                .with_operation("secrets.put_pending"));
            }
            if !labels
                .iter()
                .any(|l| l == "AWSCURRENT" || l == "AWSPENDING")
            {
                let holder = map
                    .iter()
                    .find(|(_, ls)| ls.iter().any(|l| l == "AWSPENDING"))
                    .map(|(v, _)| v.clone());
                self.move_label(name, "AWSPENDING", Some(token.as_str()), holder.as_deref())
                    .await?;
            }
            return Ok(token.as_str().to_owned());
        }
        let out = self
            .client
            .put_secret_value()
            .secret_id(name)
            .client_request_token(token.as_str())
            .secret_string(value.expose_secret())
            .version_stages(stage_label(SecretStage::Pending))
            .send()
            .await
            .map_err(|e| map_sdk_error("secrets.put_pending", e))?;
        Ok(out
            .version_id()
            .map_or_else(|| token.as_str().to_owned(), str::to_owned))
    }

    async fn clear_pending_once(&self, name: &str) -> Result<(), Error> {
        let map = self.stages_by_version(name).await?;
        for (v, labels) in &map {
            if labels.iter().any(|l| l == "AWSPENDING") {
                self.move_label(name, "AWSPENDING", None, Some(v)).await?;
            }
        }
        Ok(())
    }
}

fn check_token(token: &RequestToken) -> Result<(), Error> {
    let n = token.as_str().len();
    if (32..=64).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "a Secrets Manager client request token has 32 to 64 characters, not {n} (use RequestToken::derive)"
        ))
        .with_backend("aws"))
    }
}

#[async_trait]
impl SecretStore for SecretsManagerStore {
    fn capabilities(&self) -> SecretCapabilities {
        SecretCapabilities::new(true)
    }

    async fn create(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> runway_core::Result<String> {
        check_token(token)?;
        let out = self
            .retry
            .run(Idempotency::Idempotent, || async {
                self.client
                    .create_secret()
                    .name(name)
                    .secret_string(value.expose_secret())
                    .client_request_token(token.as_str())
                    .send()
                    .await
                    .map_err(|e| map_sdk_error("secrets.create", e))
            })
            .await?;
        Ok(out
            .version_id()
            .map_or_else(|| token.as_str().to_owned(), str::to_owned))
    }

    async fn get(&self, name: &str, stage: SecretStage) -> runway_core::Result<SecretVersion> {
        let out = self
            .retry
            .run(Idempotency::Idempotent, || async {
                self.client
                    .get_secret_value()
                    .secret_id(name)
                    // Always explicit (without it moto serves a stale AWSCURRENT after a stage move).
                    .version_stage(stage_label(stage))
                    .send()
                    .await
                    .map_err(|e| map_sdk_error("secrets.get", e))
            })
            .await?;
        let value = out.secret_string().ok_or_else(|| {
            Error::invalid_input(format!(
                "secret {name:?} is binary; only string secrets are supported"
            ))
            .with_backend("aws")
        })?;
        Ok(SecretVersion {
            info: SecretVersionInfo {
                version_id: out.version_id().unwrap_or_default().to_owned(),
                stages: stages(out.version_stages()),
                created_at: chrono_time(out.created_date()),
            },
            value: SecretString::from(value.to_owned()),
        })
    }

    async fn put_pending(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> runway_core::Result<String> {
        check_token(token)?;
        self.retry
            .run(Idempotency::Idempotent, || {
                self.put_pending_once(name, &value, token)
            })
            .await
    }

    async fn promote(&self, name: &str, version_id: &str) -> runway_core::Result<()> {
        self.retry
            .run(Idempotency::Idempotent, || {
                self.promote_once(name, version_id)
            })
            .await
    }

    async fn clear_pending(&self, name: &str) -> runway_core::Result<()> {
        self.retry
            .run(Idempotency::Idempotent, || self.clear_pending_once(name))
            .await
    }

    async fn versions(&self, name: &str) -> runway_core::Result<Vec<SecretVersionInfo>> {
        // DescribeSecret first: it reports a missing secret as ResourceNotFoundException everywhere
        // (moto answers ListSecretVersionIds on a missing secret with a 500).
        self.retry
            .run(Idempotency::Idempotent, || self.stages_by_version(name))
            .await?;
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .retry
                .run(Idempotency::Idempotent, || async {
                    self.client
                        .list_secret_version_ids()
                        .secret_id(name)
                        .include_deprecated(true)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| map_sdk_error("secrets.versions", e))
                })
                .await?;
            all.extend(out.versions().iter().map(|v| SecretVersionInfo {
                version_id: v.version_id().unwrap_or_default().to_owned(),
                stages: stages(v.version_stages()),
                created_at: chrono_time(v.created_date()),
            }));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        all.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.version_id.cmp(&b.version_id))
        });
        Ok(all)
    }
}

/// Whether `e` means "this secret does not exist" (for create-if-missing flows).
pub fn is_not_found(e: &Error) -> bool {
    e.kind() == &ErrorKind::NotFound
}
