//! Deployment notifications: the [`Notifier`] trait and the message it delivers.

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::types::{EnvironmentId, Release};

/// Which of the runbook's messages this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotificationKind {
    /// "Deployment Started".
    Started,
    /// "Deployment Successful".
    Succeeded,
    /// "Deployment Failed" (with or without a rollback).
    Failed,
    /// Rolled back after a failure (automatic or manual).
    RolledBack,
}

/// What happened to the previous release after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackStatus {
    /// No rollback was needed or attempted.
    None,
    /// Rolled back automatically.
    Automatic,
    /// Rolled back by an operator.
    Manual,
    /// A rollback was attempted and failed: units are left on mixed versions.
    Failed,
}

/// A deployment event summary, in the shape of the runbook's Slack messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notification {
    /// Which message.
    pub kind: NotificationKind,
    /// The environment's id.
    pub environment: EnvironmentId,
    /// The environment's display name ("Production").
    pub environment_name: String,
    /// The release.
    pub release: Release,
    /// Build or deployment status line ("Building...", "Passed").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// How long the deployment took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
    /// Health check summary ("Passed").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// What failed (never containing secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What happened to the previous release.
    pub rollback: RollbackStatus,
    /// Links to logs, the application, error details: `(label, url)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<(String, String)>,
}

impl Notification {
    /// A notification of `kind` about `release` in `environment`.
    pub fn new(
        kind: NotificationKind,
        environment: EnvironmentId,
        environment_name: impl Into<String>,
        release: Release,
    ) -> Self {
        Notification {
            kind,
            environment,
            environment_name: environment_name.into(),
            release,
            status: None,
            duration: None,
            health: None,
            error: None,
            rollback: RollbackStatus::None,
            links: Vec::new(),
        }
    }

    /// Set the status line.
    #[must_use]
    pub fn with_status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// Set the duration.
    #[must_use]
    pub fn with_duration(mut self, d: Duration) -> Self {
        self.duration = Some(d);
        self
    }

    /// Set the health summary.
    #[must_use]
    pub fn with_health(mut self, health: impl Into<String>) -> Self {
        self.health = Some(health.into());
        self
    }

    /// Set the error.
    #[must_use]
    pub fn with_error(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self
    }

    /// Set the rollback status.
    #[must_use]
    pub fn with_rollback(mut self, rollback: RollbackStatus) -> Self {
        self.rollback = rollback;
        self
    }

    /// Add a link.
    #[must_use]
    pub fn with_link(mut self, label: impl Into<String>, url: impl Into<String>) -> Self {
        self.links.push((label.into(), url.into()));
        self
    }
}

/// Formats a duration the way the runbook does: `3m 42s`, `42s`, `1h 3m`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// Delivers deployment notifications (Slack, a generic webhook, the console).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync + Debug + 'static {
    /// Deliver one notification.
    async fn notify(&self, notification: &Notification) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_the_runbook() {
        assert_eq!(human_duration(Duration::from_secs(222)), "3m 42s");
        assert_eq!(human_duration(Duration::from_secs(42)), "42s");
        assert_eq!(human_duration(Duration::from_secs(3780)), "1h 3m");
    }
}
