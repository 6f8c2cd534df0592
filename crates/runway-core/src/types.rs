//! Domain types: environments, services, units, releases and deployments.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wrap a provider's identifier.
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            /// The identifier as the provider spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// An environment's id (`staging`, `production`, or a provider's UUID).
    EnvironmentId
);
string_id!(
    /// A service's id.
    ServiceId
);
string_id!(
    /// A unit's id: the smallest thing the provider updates independently.
    UnitId
);
string_id!(
    /// A deployment's id, as the provider assigns it.
    DeploymentId
);
string_id!(
    /// A release's version label (`v1.1`, a git sha, an image tag).
    ReleaseId
);

/// What an environment is for; production gets the stricter gates (fresh verified backup, approvals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EnvironmentKind {
    /// Pre-production testing and demos.
    Staging,
    /// The live, customer-facing environment.
    Production,
    /// Anything else (preview, development).
    Other,
}

impl EnvironmentKind {
    /// Guess the kind from an environment name (`prod`, `production` -> production; `staging`, `stage` -> staging).
    pub fn from_name(name: &str) -> Self {
        let n = name.to_ascii_lowercase();
        if n == "production" || n == "prod" || n.starts_with("prod-") || n.ends_with("-production")
        {
            EnvironmentKind::Production
        } else if n == "staging" || n == "stage" || n.starts_with("staging") {
            EnvironmentKind::Staging
        } else {
            EnvironmentKind::Other
        }
    }
}

/// An environment of a project (staging, production).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// Provider id.
    pub id: EnvironmentId,
    /// Human name.
    pub name: String,
    /// What the environment is for.
    pub kind: EnvironmentKind,
}

/// What a service does in the runbook's architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ServiceRole {
    /// Serves HTTP behind the load balancer (the FastAPI app).
    Web,
    /// Background workers (Celery).
    Worker,
    /// A database (PostgreSQL).
    Database,
    /// A cache or queue (Redis).
    Cache,
    /// Anything else.
    Other,
}

/// A service in an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Provider id.
    pub id: ServiceId,
    /// Human name.
    pub name: String,
    /// The environment it runs in.
    pub environment: EnvironmentId,
    /// What it does.
    pub role: ServiceRole,
}

/// A release: what gets deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Version label.
    pub id: ReleaseId,
    /// Container image reference, when deploying images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Git commit sha, when deploying source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Commit message (for notifications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Commit author (for notifications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

impl Release {
    /// A release with only a version label.
    pub fn new(id: impl Into<ReleaseId>) -> Self {
        Release {
            id: id.into(),
            image: None,
            commit: None,
            message: None,
            author: None,
        }
    }

    /// Set the image.
    #[must_use]
    pub fn with_image(mut self, image: impl Into<String>) -> Self {
        self.image = Some(image.into());
        self
    }

    /// Set the commit sha.
    #[must_use]
    pub fn with_commit(mut self, sha: impl Into<String>) -> Self {
        self.commit = Some(sha.into());
        self
    }

    /// Set the commit message.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Set the author.
    #[must_use]
    pub fn with_author(mut self, author: impl Into<String>) -> Self {
        self.author = Some(author.into());
        self
    }
}

/// The lifecycle state of a unit (an instance, or a provider service as a whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnitState {
    /// Created or queued, not started.
    Pending,
    /// Process starting; not ready for traffic.
    Starting,
    /// Running and ready to serve.
    Running,
    /// Running but failing its readiness (unhealthy).
    Unhealthy,
    /// Exited unexpectedly.
    Crashed,
    /// Stopped on purpose.
    Stopped,
    /// State unknown to the provider.
    Unknown,
}

impl UnitState {
    /// Whether the unit is up and ready.
    pub fn is_ready(self) -> bool {
        self == UnitState::Running
    }
}

/// A unit: the smallest thing the provider updates independently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Provider id.
    pub id: UnitId,
    /// Human name (`api-1`).
    pub name: String,
    /// The service it belongs to.
    pub service: ServiceId,
    /// The environment it runs in.
    pub environment: EnvironmentId,
    /// The release it runs (or is being updated to), when known.
    pub release: Option<ReleaseId>,
    /// Its lifecycle state.
    pub state: UnitState,
    /// Whether the load balancer sends it traffic.
    pub in_load_balancer: bool,
    /// Replicas behind this unit (1 for an instance; N for a delegated service).
    pub replicas: u32,
}

impl Unit {
    /// Serving: ready and receiving traffic.
    pub fn is_serving(&self) -> bool {
        self.state.is_ready() && self.in_load_balancer
    }
}

/// The status of a deployment, normalised across providers.
///
/// Railway's 13 statuses, Cloud66's outcomes and the simulator all map onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeploymentStatus {
    /// Accepted, waiting to start.
    Queued,
    /// Waiting for an approval.
    WaitingApproval,
    /// Building the image.
    Building,
    /// Starting the new release.
    Deploying,
    /// Live and healthy.
    Succeeded,
    /// Build or start failed.
    Failed,
    /// The new release crashed.
    Crashed,
    /// Cancelled, skipped, or replaced before finishing.
    Cancelled,
    /// Being removed, or removed (a previous deployment replaced by a newer one).
    Removed,
    /// Inactive (app sleeping).
    Sleeping,
}

impl DeploymentStatus {
    /// Whether the status will not change any more by itself.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Succeeded
                | DeploymentStatus::Failed
                | DeploymentStatus::Crashed
                | DeploymentStatus::Cancelled
                | DeploymentStatus::Removed
                | DeploymentStatus::Sleeping
        )
    }

    /// Whether the deployment ended badly.
    pub fn is_failure(self) -> bool {
        matches!(self, DeploymentStatus::Failed | DeploymentStatus::Crashed)
    }
}

/// A deployment of a release onto a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Provider id.
    pub id: DeploymentId,
    /// The unit it targets.
    pub unit: UnitId,
    /// The release it deploys, when the provider reports it.
    pub release: Option<ReleaseId>,
    /// Current status.
    pub status: DeploymentStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
    /// Provider's message (failure reason, diagnosis), never containing secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A time range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

impl TimeRange {
    /// The range ending at `end` and lasting `length`.
    pub fn last(length: Duration, end: DateTime<Utc>) -> Self {
        let len = chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX);
        TimeRange {
            start: end - len,
            end,
        }
    }

    /// Whether `t` lies in the range.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.start && t < self.end
    }

    /// The range's length (zero when reversed).
    pub fn duration(&self) -> Duration {
        (self.end - self.start).to_std().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_kind_from_name() {
        assert_eq!(
            EnvironmentKind::from_name("Production"),
            EnvironmentKind::Production
        );
        assert_eq!(
            EnvironmentKind::from_name("prod"),
            EnvironmentKind::Production
        );
        assert_eq!(
            EnvironmentKind::from_name("staging"),
            EnvironmentKind::Staging
        );
        assert_eq!(EnvironmentKind::from_name("pr-42"), EnvironmentKind::Other);
    }

    #[test]
    fn terminal_statuses() {
        assert!(DeploymentStatus::Succeeded.is_terminal());
        assert!(DeploymentStatus::Crashed.is_failure());
        assert!(!DeploymentStatus::Building.is_terminal());
        assert!(!DeploymentStatus::Succeeded.is_failure());
    }

    #[test]
    fn time_range() {
        let end = DateTime::<Utc>::from_timestamp(3600, 0).unwrap();
        let r = TimeRange::last(Duration::from_secs(600), end);
        assert!(r.contains(end - chrono::Duration::seconds(1)));
        assert!(!r.contains(end));
        assert_eq!(r.duration(), Duration::from_secs(600));
    }
}
