//! The deploy lock: one rollout per environment, with owner and age, an explicit break, and release on every
//! exit path.
//!
//! [`FileLock`] (the embedded default) uses an OS file lock, so a killed process frees it at once; a hung holder
//! can be removed with [`DeployLock::break_lock`]. [`PgLock`] (production) holds a PostgreSQL session advisory
//! lock on a dedicated connection plus an info row; a dead client's session ends and frees it, and
//! `break_lock` terminates a hung holder's session.

mod file;
mod pg;

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_core::{EnvironmentId, ErrorKind};
use serde::{Deserialize, Serialize};

pub use file::FileLock;
pub use pg::PgLock;

/// Who holds a lock, since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// The environment.
    pub environment: EnvironmentId,
    /// Who holds it (`user@host`, a CI job id).
    pub owner: String,
    /// The run it protects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// When it was taken.
    pub acquired_at: DateTime<Utc>,
    /// The holder's process id, when local.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

impl LockInfo {
    /// How long it has been held at `now`.
    pub fn age(&self, now: DateTime<Utc>) -> Duration {
        (now - self.acquired_at).to_std().unwrap_or_default()
    }
}

/// Lock failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Someone else holds it.
    #[error("environment {} is locked by {} since {}", .0.environment, .0.owner, .0.acquired_at)]
    Held(Box<LockInfo>),
    /// The lock file could not be used.
    #[error("lock file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database failed.
    #[error("lock database: {0}")]
    Database(#[source] sqlx::Error),
}

impl LockError {
    /// The runway-wide classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            LockError::Held(_) => ErrorKind::Conflict,
            LockError::Io { .. } => ErrorKind::Unavailable,
            LockError::Database(e) => match e {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => ErrorKind::Unavailable,
                _ => ErrorKind::Provider,
            },
        }
    }
}

pub(crate) enum Held {
    File(std::fs::File),
    Pg(Box<sqlx::PgConnection>, i64),
}

impl Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Held::File(_) => f.write_str("Held::File"),
            Held::Pg(_, k) => write!(f, "Held::Pg({k})"),
        }
    }
}

/// A held lock. Dropping it releases it (the file handle or database session closes);
/// [`release`](Self::release) does so explicitly and cleans up the holder's info.
#[derive(Debug)]
#[must_use = "dropping the guard releases the lock"]
pub struct LockGuard {
    info: LockInfo,
    held: Option<Held>,
}

impl LockGuard {
    /// Who holds it.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Release now.
    pub async fn release(mut self) -> Result<(), LockError> {
        match self.held.take() {
            Some(Held::File(f)) => file::release(f),
            Some(Held::Pg(conn, key)) => pg::release(*conn, key, &self.info).await,
            None => Ok(()),
        }
    }
}

/// One rollout per environment.
#[async_trait]
pub trait DeployLock: Send + Sync + Debug + 'static {
    /// Take the lock for `environment`, or fail with [`LockError::Held`] naming the holder.
    async fn acquire(
        &self,
        environment: &EnvironmentId,
        owner: &str,
        run: Option<&str>,
    ) -> Result<LockGuard, LockError>;

    /// The current holder, if any.
    async fn status(&self, environment: &EnvironmentId) -> Result<Option<LockInfo>, LockError>;

    /// Break a (stale) lock; returns who held it.
    async fn break_lock(&self, environment: &EnvironmentId) -> Result<Option<LockInfo>, LockError>;
}

/// The lock owner for this process: `$USER@$HOSTNAME (pid N)`.
pub fn default_owner() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}
