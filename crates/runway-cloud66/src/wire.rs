//! Decoding Cloud66's responses: the `response` / `pagination` envelope, errors, and the objects used here.
//!
//! Every function takes untrusted bytes and returns a typed [`Cloud66Error`] on anything unexpected; none
//! panics (a proptest and a fuzz target check that).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Cloud66Error;

/// Cloud66's pagination block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Pagination {
    /// The previous page, if any.
    #[serde(default)]
    pub previous: Option<u64>,
    /// The next page, if any.
    #[serde(default)]
    pub next: Option<u64>,
    /// This page.
    #[serde(default)]
    pub current: Option<u64>,
    /// Items per page.
    #[serde(default)]
    pub per_page: Option<u64>,
    /// Items in all pages.
    #[serde(default)]
    pub count: Option<u64>,
    /// Number of pages.
    #[serde(default)]
    pub pages: Option<u64>,
}

impl Pagination {
    /// The page to fetch next, if the envelope says there is one past `current`.
    pub fn next_page(&self) -> Option<u64> {
        match (self.current, self.next) {
            (Some(c), Some(n)) if n > c => Some(n),
            (None, Some(n)) => Some(n),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    details: Option<Value>,
}

/// Map a non-2xx response to its typed error (the envelope's `details` preferred over `error_description`).
pub fn decode_error(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Cloud66Error {
    let env: Option<ErrorEnvelope> = serde_json::from_slice(body).ok();
    let (error, description) = match env {
        Some(e) => {
            let details = match e.details {
                Some(Value::String(s)) if !s.is_empty() => Some(s),
                Some(Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            };
            (e.error, details.or(e.error_description))
        }
        None => (None, None),
    };
    Cloud66Error::Http {
        status,
        error,
        description,
        retry_after,
    }
}

/// Decode a 2xx body that wraps one object or a list in `response`, with its pagination when present.
pub fn decode_envelope<T: DeserializeOwned>(
    body: &[u8],
) -> Result<(T, Option<Pagination>), Cloud66Error> {
    #[derive(Deserialize)]
    struct Env<T> {
        response: T,
        #[serde(default)]
        pagination: Option<Pagination>,
    }
    let env: Env<T> = serde_json::from_slice(body).map_err(|e| Cloud66Error::Decode {
        what: "response envelope",
        detail: e.to_string(),
    })?;
    Ok((env.response, env.pagination))
}

/// Decode a 2xx body that is not wrapped (the redeploy answer).
pub fn decode_plain<T: DeserializeOwned>(
    body: &[u8],
    what: &'static str,
) -> Result<T, Cloud66Error> {
    serde_json::from_slice(body).map_err(|e| Cloud66Error::Decode {
        what,
        detail: e.to_string(),
    })
}

/// A stack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Stack {
    /// Stack uid.
    pub uid: String,
    /// Name.
    pub name: String,
    /// `production`, `staging`, ...
    #[serde(default)]
    pub environment: Option<String>,
    /// 0 pending analysis, 1 deployed, 2 deployment failed, 3 analyzing, 4 analyzed, 5 queued, 6 deploying,
    /// 7 unable to analyze.
    #[serde(default)]
    pub status: Option<i64>,
    /// 0 unknown, 1 building, 2 impaired, 3 healthy, 4 failed.
    #[serde(default)]
    pub health: Option<i64>,
    /// Maintenance mode on.
    #[serde(default)]
    pub maintenance_mode: Option<bool>,
}

/// A code + meaning pair (`{"code": 1, "meaning": "success"}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Coded {
    /// The code.
    pub code: i64,
    /// The meaning.
    #[serde(default)]
    pub meaning: Option<String>,
}

/// A deployment of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StackDeployment {
    /// Deployment id.
    pub id: u64,
    /// When it started.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Outcome (1 = success).
    #[serde(default)]
    pub outcome: Option<Coded>,
    /// The deployed commit.
    #[serde(default)]
    pub git_hash: Option<String>,
    /// Whether this deployment is live.
    #[serde(default)]
    pub is_live: Option<bool>,
    /// Still deploying.
    #[serde(default)]
    pub is_deploying: Option<bool>,
    /// Reverted.
    #[serde(default)]
    pub reverted: Option<bool>,
}

/// An async action (deploys, restarts, variable writes).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AsyncAction {
    /// Action id.
    pub id: u64,
    /// What it does.
    #[serde(default)]
    pub action: Option<String>,
    /// Started.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    /// Finished (`None` while running).
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Result, once finished.
    #[serde(default)]
    pub finished_success: Option<bool>,
    /// Message, once finished.
    #[serde(default)]
    pub finished_message: Option<String>,
}

impl AsyncAction {
    /// Done: `finished_at` is set.
    pub fn is_finished(&self) -> bool {
        self.finished_at.is_some()
    }
}

/// An environment variable (its value is secret: this type's `Debug` hides it).
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct EnvVar {
    /// Id.
    #[serde(default)]
    pub id: Option<u64>,
    /// Name.
    pub key: String,
    /// Value.
    #[serde(default)]
    pub value: Option<String>,
    /// Generated by Cloud66; cannot be changed.
    #[serde(default)]
    pub readonly: Option<bool>,
}

impl std::fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvVar")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("value", &"[redacted]")
            .field("readonly", &self.readonly)
            .finish()
    }
}

/// A server of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Server {
    /// Server uid.
    pub uid: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Address.
    #[serde(default)]
    pub address: Option<String>,
    /// Roles (`web`, `docker`, ...).
    #[serde(default)]
    pub server_roles: Vec<String>,
    /// Health state.
    #[serde(default)]
    pub health_state: Option<i64>,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
}

/// A (docker) service of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StackService {
    /// Service name.
    pub name: String,
}

/// The answer to `POST /stacks/{id}/deployments`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RedeployResponse {
    /// Accepted.
    #[serde(default)]
    pub ok: bool,
    /// Message.
    #[serde(default)]
    pub message: Option<String>,
    /// Queued behind a running deployment.
    #[serde(default)]
    pub queued: Option<bool>,
    /// The async action to poll.
    #[serde(default)]
    pub async_action_id: Option<u64>,
}
