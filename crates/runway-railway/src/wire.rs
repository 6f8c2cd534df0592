//! Decoding Railway's responses: the GraphQL envelope, deployments, statuses, variables and logs.
//!
//! Every function here takes untrusted bytes or JSON and returns a typed [`RailwayError`] on anything
//! unexpected; none panics (a proptest and a fuzz target check that).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use runway_core::{
    Deployment, DeploymentId, DeploymentStatus, LogEntry, LogLevel, ReleaseId, UnitId,
};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{GraphqlError, RailwayError};
use crate::unit::unit_id;

/// Railway's 13 deployment statuses, as the schema's `DeploymentStatus` enum spells them.
pub const STATUSES: [&str; 13] = [
    "BUILDING",
    "CRASHED",
    "DEPLOYING",
    "FAILED",
    "INITIALIZING",
    "NEEDS_APPROVAL",
    "QUEUED",
    "REMOVED",
    "REMOVING",
    "SKIPPED",
    "SLEEPING",
    "SUCCESS",
    "WAITING",
];

/// Map one of Railway's `DeploymentStatus` values to runway's.
///
/// | Railway | runway |
/// |---|---|
/// | `QUEUED`, `INITIALIZING` | `Queued` |
/// | `WAITING`, `NEEDS_APPROVAL` | `WaitingApproval` |
/// | `BUILDING` | `Building` |
/// | `DEPLOYING` | `Deploying` |
/// | `SUCCESS` | `Succeeded` |
/// | `FAILED` | `Failed` |
/// | `CRASHED` | `Crashed` |
/// | `SKIPPED` | `Cancelled` |
/// | `REMOVING`, `REMOVED` | `Removed` |
/// | `SLEEPING` | `Sleeping` |
///
/// An unknown value (a status added to the API later) is an [`RailwayError::Decode`] error, never a guess.
pub fn map_status(status: &str) -> Result<DeploymentStatus, RailwayError> {
    Ok(match status {
        "QUEUED" | "INITIALIZING" => DeploymentStatus::Queued,
        "WAITING" | "NEEDS_APPROVAL" => DeploymentStatus::WaitingApproval,
        "BUILDING" => DeploymentStatus::Building,
        "DEPLOYING" => DeploymentStatus::Deploying,
        "SUCCESS" => DeploymentStatus::Succeeded,
        "FAILED" => DeploymentStatus::Failed,
        "CRASHED" => DeploymentStatus::Crashed,
        "SKIPPED" => DeploymentStatus::Cancelled,
        "REMOVING" | "REMOVED" => DeploymentStatus::Removed,
        "SLEEPING" => DeploymentStatus::Sleeping,
        other => {
            return Err(RailwayError::Decode {
                what: "deployment status",
                detail: format!("unknown DeploymentStatus {:?}", truncate(other, 40)),
            });
        }
    })
}

/// The rate-limit headers of one response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// `X-RateLimit-Limit`.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`, as a wait from now (epoch-second values are converted).
    pub reset: Option<Duration>,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<Duration>,
}

impl RateLimitHeaders {
    /// Parse from a header lookup; malformed values are ignored (treated as absent).
    pub fn parse(get: impl Fn(&str) -> Option<String>, now_epoch: u64) -> Self {
        let num = |name: &str| get(name).and_then(|v| v.trim().parse::<u64>().ok());
        let reset = num("x-ratelimit-reset").map(|v| {
            // Epoch seconds (anything past 2001) become a delta; small numbers already are one.
            if v > 1_000_000_000 {
                Duration::from_secs(v.saturating_sub(now_epoch))
            } else {
                Duration::from_secs(v)
            }
        });
        RateLimitHeaders {
            limit: num("x-ratelimit-limit"),
            remaining: num("x-ratelimit-remaining"),
            reset,
            retry_after: num("retry-after").map(Duration::from_secs),
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    errors: Option<Vec<GraphqlError>>,
}

/// Decode one HTTP response from the GraphQL endpoint into its `data` object.
///
/// Non-2xx statuses, `errors[]` in a 200 and bodies that are not a GraphQL response all become typed errors;
/// `secrets` are values the request carried, scrubbed from any server message kept in the error.
pub fn decode_response(
    status: u16,
    limits: &RateLimitHeaders,
    body: &[u8],
    secrets: &[&str],
) -> Result<Value, RailwayError> {
    if !(200..300).contains(&status) {
        // Railway also returns GraphQL errors with a 4xx; keep their messages when the body has them.
        let errors = serde_json::from_slice::<Envelope>(body)
            .ok()
            .and_then(|e| e.errors)
            .unwrap_or_default();
        return Err(RailwayError::Http {
            status,
            retry_after: limits.retry_after.or(match status {
                429 => limits.reset,
                _ => None,
            }),
            errors: scrub_all(errors, secrets),
        });
    }
    let env: Envelope = serde_json::from_slice(body).map_err(|e| RailwayError::Decode {
        what: "GraphQL response",
        detail: e.to_string(),
    })?;
    if let Some(errors) = env.errors.filter(|e| !e.is_empty()) {
        return Err(RailwayError::Graphql(scrub_all(errors, secrets)));
    }
    match env.data {
        Some(Value::Object(map)) => Ok(Value::Object(map)),
        _ => Err(RailwayError::Decode {
            what: "GraphQL response",
            detail: "no data object".into(),
        }),
    }
}

fn scrub_all(errors: Vec<GraphqlError>, secrets: &[&str]) -> Vec<GraphqlError> {
    errors
        .into_iter()
        .map(|mut e| {
            e.message = scrub(&e.message, secrets);
            e
        })
        .collect()
}

/// Replace every occurrence of a secret in `text`.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s, "[redacted]");
    }
    out
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Take `data.<field>` out of a decoded `data` object.
pub fn field<'a>(data: &'a Value, name: &'static str) -> Result<&'a Value, RailwayError> {
    data.get(name).ok_or(RailwayError::Decode {
        what: name,
        detail: "field missing from data".into(),
    })
}

/// A deployment as selected by this crate's documents.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawDeployment {
    /// Deployment id.
    pub id: String,
    /// Railway status.
    pub status: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last update.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    /// Last status change.
    #[serde(default)]
    pub status_updated_at: Option<DateTime<Utc>>,
    /// `DeploymentMeta` (free-form JSON: `commitHash`, `image`, `reason`, ...).
    #[serde(default)]
    pub meta: Option<Value>,
    /// Environment.
    pub environment_id: String,
    /// Service (absent for some plugin deployments).
    #[serde(default)]
    pub service_id: Option<String>,
    /// Whether Railway allows rolling back to it.
    #[serde(default)]
    pub can_rollback: bool,
}

impl RawDeployment {
    /// The release it deploys: the commit sha, else the image's tag (or the whole image reference).
    pub fn release(&self) -> Option<ReleaseId> {
        let meta = self.meta.as_ref()?;
        if let Some(sha) = meta.get("commitHash").and_then(Value::as_str) {
            return Some(ReleaseId::new(sha));
        }
        let image = meta.get("image").and_then(Value::as_str)?;
        Some(ReleaseId::new(image_tag(image)))
    }

    /// When the status last changed (falling back to the update and creation times).
    pub fn changed_at(&self) -> DateTime<Utc> {
        self.status_updated_at
            .or(self.updated_at)
            .unwrap_or(self.created_at)
    }

    /// The runway unit this deployment belongs to.
    pub fn unit(&self) -> Option<UnitId> {
        self.service_id
            .as_deref()
            .map(|s| unit_id(&self.environment_id, s))
    }

    /// Convert to runway's [`Deployment`].
    pub fn into_deployment(self) -> Result<Deployment, RailwayError> {
        let status = map_status(&self.status)?;
        let unit = self.unit().ok_or(RailwayError::Decode {
            what: "deployment",
            detail: "deployment has no serviceId".into(),
        })?;
        let message = self
            .meta
            .as_ref()
            .and_then(|m| m.get("reason"))
            .and_then(Value::as_str)
            .map(|r| truncate(r, 200));
        Ok(Deployment {
            id: DeploymentId::new(self.id.clone()),
            release: self.release(),
            status,
            created_at: self.created_at,
            updated_at: self.changed_at(),
            message,
            unit,
        })
    }
}

/// The tag of an image reference (`ghcr.io/acme/app:v2` -> `v2`), or the reference when it has none.
pub fn image_tag(image: &str) -> &str {
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) if !tag.is_empty() => tag,
        _ => image,
    }
}

fn from_value<T: serde::de::DeserializeOwned>(
    v: &Value,
    what: &'static str,
) -> Result<T, RailwayError> {
    T::deserialize(v).map_err(|e| RailwayError::Decode {
        what,
        detail: e.to_string(),
    })
}

/// Decode `data.deployment`.
pub fn decode_deployment(data: &Value) -> Result<RawDeployment, RailwayError> {
    from_value(field(data, "deployment")?, "deployment")
}

#[derive(Deserialize)]
struct Edges<T> {
    edges: Vec<Edge<T>>,
}

#[derive(Deserialize)]
struct Edge<T> {
    node: T,
}

/// Decode `data.deployments` (a connection), newest first as Railway returns them.
pub fn decode_deployments(data: &Value) -> Result<Vec<RawDeployment>, RailwayError> {
    let c: Edges<RawDeployment> = from_value(field(data, "deployments")?, "deployments")?;
    Ok(c.edges.into_iter().map(|e| e.node).collect())
}

/// A service instance as selected by this crate's documents.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawInstance {
    /// Service id.
    pub service_id: String,
    /// Service name.
    pub service_name: String,
    /// Environment id.
    pub environment_id: String,
    /// Replica count (`None`: Railway's default of one).
    #[serde(default)]
    pub num_replicas: Option<i64>,
    /// Latest deployment, in any status.
    #[serde(default)]
    pub latest_deployment: Option<RawDeployment>,
    /// Deployments currently serving.
    #[serde(default)]
    pub active_deployments: Vec<RawDeployment>,
}

/// One page of `data.environment.serviceInstances`, with the cursor of the next page.
pub fn decode_instances(data: &Value) -> Result<(Vec<RawInstance>, Option<String>), RailwayError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PageInfo {
        has_next_page: bool,
        #[serde(default)]
        end_cursor: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Conn {
        edges: Vec<Edge<RawInstance>>,
        page_info: PageInfo,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Env {
        service_instances: Conn,
    }
    let env: Env = from_value(field(data, "environment")?, "environment")?;
    let next = if env.service_instances.page_info.has_next_page {
        env.service_instances.page_info.end_cursor
    } else {
        None
    };
    Ok((
        env.service_instances
            .edges
            .into_iter()
            .map(|e| e.node)
            .collect(),
        next,
    ))
}

/// Decode `data.serviceInstance`.
pub fn decode_instance(data: &Value) -> Result<RawInstance, RailwayError> {
    from_value(field(data, "serviceInstance")?, "serviceInstance")
}

/// Decode `data.project.environments` into `(id, name)` pairs.
pub fn decode_environments(data: &Value) -> Result<Vec<(String, String)>, RailwayError> {
    #[derive(Deserialize)]
    struct Node {
        id: String,
        name: String,
    }
    #[derive(Deserialize)]
    struct Project {
        environments: Edges<Node>,
    }
    let p: Project = from_value(field(data, "project")?, "project")?;
    Ok(p.environments
        .edges
        .into_iter()
        .map(|e| (e.node.id, e.node.name))
        .collect())
}

/// Decode `data.projectToken` into `(projectId, environmentId)`.
pub fn decode_project_token(data: &Value) -> Result<(String, String), RailwayError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Token {
        project_id: String,
        environment_id: String,
    }
    let t: Token = from_value(field(data, "projectToken")?, "projectToken")?;
    Ok((t.project_id, t.environment_id))
}

/// Decode `data.variables`, the `EnvironmentVariables` JSON map scalar, into names and values.
///
/// Values must be strings (Railway's map is string to string); anything else is a decode error that names the
/// variable but never shows a value.
pub fn decode_variables(data: &Value) -> Result<BTreeMap<String, String>, RailwayError> {
    let map = field(data, "variables")?
        .as_object()
        .ok_or(RailwayError::Decode {
            what: "variables",
            detail: "EnvironmentVariables is not a JSON object".into(),
        })?;
    let mut out = BTreeMap::new();
    for (k, v) in map {
        match v {
            Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            _ => {
                return Err(RailwayError::Decode {
                    what: "variables",
                    detail: format!("variable {:?} is not a string", truncate(k, 64)),
                });
            }
        }
    }
    Ok(out)
}

/// Decode a boolean mutation result (`data.<field>`), requiring `true`.
pub fn decode_true(data: &Value, name: &'static str) -> Result<(), RailwayError> {
    match field(data, name)? {
        Value::Bool(true) => Ok(()),
        Value::Bool(false) => Err(RailwayError::Rejected { operation: name }),
        _ => Err(RailwayError::Decode {
            what: name,
            detail: "expected a Boolean".into(),
        }),
    }
}

/// Decode `data.serviceInstanceDeployV2`, the new deployment's id.
pub fn decode_deploy_id(data: &Value) -> Result<String, RailwayError> {
    match field(data, "serviceInstanceDeployV2")? {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err(RailwayError::Decode {
            what: "serviceInstanceDeployV2",
            detail: "expected a deployment id".into(),
        }),
    }
}

/// Decode a list of `Log`s (`data.deploymentLogs`, `data.buildLogs` or `data.environmentLogs`).
pub fn decode_logs(data: &Value, name: &'static str) -> Result<Vec<LogEntry>, RailwayError> {
    #[derive(Deserialize)]
    struct Attr {
        key: String,
        value: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Tags {
        #[serde(default)]
        service_id: Option<String>,
    }
    #[derive(Deserialize)]
    struct Log {
        timestamp: String,
        message: String,
        #[serde(default)]
        severity: Option<String>,
        #[serde(default)]
        attributes: Vec<Attr>,
        #[serde(default)]
        tags: Option<Tags>,
    }
    let logs: Vec<Log> = from_value(field(data, name)?, name)?;
    logs.into_iter()
        .map(|l| {
            let timestamp = DateTime::parse_from_rfc3339(&l.timestamp)
                .map_err(|e| RailwayError::Decode {
                    what: "log timestamp",
                    detail: e.to_string(),
                })?
                .with_timezone(&Utc);
            let mut attributes: BTreeMap<String, String> =
                l.attributes.into_iter().map(|a| (a.key, a.value)).collect();
            let level = l
                .severity
                .as_deref()
                .or_else(|| attributes.get("level").map(String::as_str))
                .map(LogLevel::parse_lenient)
                .unwrap_or(LogLevel::Info);
            attributes.remove("level");
            Ok(LogEntry {
                timestamp,
                level,
                message: l.message,
                source: l.tags.and_then(|t| t.service_id),
                attributes,
            })
        })
        .collect()
}
