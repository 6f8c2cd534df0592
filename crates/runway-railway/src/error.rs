//! [`RailwayError`]: what went wrong talking to Railway, and its one mapping to [`runway_core::ErrorKind`].

use std::time::Duration;

use runway_core::{Error, ErrorKind, kind_for_http_status};
use serde::Deserialize;

/// One entry of a GraphQL response's `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GraphqlError {
    /// The server's message (secret values the request carried are scrubbed out).
    pub message: String,
    /// The response path of the failing field, when given.
    #[serde(default)]
    pub path: Option<Vec<serde_json::Value>>,
    /// `extensions.code`, when given.
    #[serde(default, rename = "extensions", deserialize_with = "code_of")]
    pub code: Option<String>,
}

fn code_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned)))
}

/// An error from the Railway client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RailwayError {
    /// Bad configuration (no token, no project, malformed base URL).
    #[error("configuration: {0}")]
    Config(String),
    /// A non-2xx HTTP status.
    #[error("HTTP {status}{}", first_message(errors))]
    Http {
        /// The status code.
        status: u16,
        /// `Retry-After` (or `X-RateLimit-Reset` on a 429).
        retry_after: Option<Duration>,
        /// GraphQL errors in the body, when it had some.
        errors: Vec<GraphqlError>,
    },
    /// `errors[]` in a 200 response.
    #[error("GraphQL error{}", first_message(.0))]
    Graphql(Vec<GraphqlError>),
    /// The response was not what the schema promises.
    #[error("cannot decode {what}: {detail}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed (never a secret value).
        detail: String,
    },
    /// A mutation returned `false`.
    #[error("{operation} returned false")]
    Rejected {
        /// The mutation.
        operation: &'static str,
    },
    /// The request did not complete in time.
    #[error("request timed out")]
    Timeout,
    /// The connection failed (refused, reset, TLS).
    #[error("connection failed: {0}")]
    Connect(String),
    /// The client paused itself because `X-RateLimit-Remaining` reached zero.
    #[error("rate limit exhausted until the window resets")]
    LocalRateLimit {
        /// Until the window resets.
        reset: Duration,
    },
    /// A mutation succeeded but the deployment it caused never appeared while polling.
    #[error("{operation} accepted, but no resulting deployment appeared within {waited:?}")]
    NotObserved {
        /// The mutation.
        operation: &'static str,
        /// How long the client polled.
        waited: Duration,
    },
    /// The argument does not name a Railway object this client understands (malformed unit id, ...).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Nothing matched (no deployment to roll back to, no such release).
    #[error("not found: {0}")]
    NotFound(String),
}

fn first_message(errors: &[GraphqlError]) -> String {
    match errors.first() {
        Some(e) => format!(": {}", e.message.chars().take(300).collect::<String>()),
        None => String::new(),
    }
}

impl RailwayError {
    /// The runway classification of this error: the single place Railway failures are mapped.
    ///
    /// GraphQL errors are classified by `extensions.code` first and by Railway's message wording second
    /// (Railway's errors often carry no code; the CLI matches on the same wording).
    pub fn kind(&self) -> ErrorKind {
        match self {
            RailwayError::Config(_) | RailwayError::Invalid(_) => ErrorKind::InvalidInput,
            RailwayError::Http {
                status,
                retry_after,
                errors,
            } => match (*status, errors.first()) {
                (429, _) => ErrorKind::RateLimited {
                    retry_after: *retry_after,
                },
                (400, Some(e)) => graphql_kind(e),
                (s, _) => kind_for_http_status(s, *retry_after),
            },
            RailwayError::Graphql(errors) => errors
                .first()
                .map(graphql_kind)
                .unwrap_or(ErrorKind::Provider),
            RailwayError::Decode { .. } => ErrorKind::InvalidInput,
            RailwayError::Rejected { .. } => ErrorKind::Provider,
            RailwayError::Timeout | RailwayError::NotObserved { .. } => ErrorKind::Timeout,
            RailwayError::Connect(_) => ErrorKind::Unavailable,
            RailwayError::LocalRateLimit { reset } => ErrorKind::RateLimited {
                retry_after: Some(*reset),
            },
            RailwayError::NotFound(_) => ErrorKind::NotFound,
        }
    }

    /// Convert into runway's error, naming the operation.
    pub fn into_error(self, operation: &str) -> Error {
        let kind = self.kind();
        let message = self.to_string();
        Error::new(kind, message)
            .with_backend("railway")
            .with_operation(operation)
            .with_source(self)
    }
}

fn graphql_kind(e: &GraphqlError) -> ErrorKind {
    match e.code.as_deref() {
        Some("UNAUTHENTICATED") => return ErrorKind::Unauthenticated,
        Some("FORBIDDEN") => return ErrorKind::PermissionDenied,
        Some("NOT_FOUND") => return ErrorKind::NotFound,
        Some("RATE_LIMITED") => return ErrorKind::RateLimited { retry_after: None },
        Some("GRAPHQL_VALIDATION_FAILED" | "GRAPHQL_PARSE_FAILED" | "BAD_USER_INPUT") => {
            return ErrorKind::InvalidInput;
        }
        Some("INTERNAL_SERVER_ERROR") => return ErrorKind::Unavailable,
        _ => {}
    }
    let m = e.message.to_ascii_lowercase();
    if m.contains("project token not found")
        || m.contains("unauthenticated")
        || m.contains("invalid token")
    {
        ErrorKind::Unauthenticated
    } else if m.contains("not authorized")
        || m.contains("two factor authentication required")
        || m.contains("forbidden")
    {
        ErrorKind::PermissionDenied
    } else if m.contains("rate limit") || m.contains("too many requests") {
        ErrorKind::RateLimited { retry_after: None }
    } else if m.contains("not found") || m.contains("does not exist") {
        ErrorKind::NotFound
    } else if m.contains("cannot query field")
        || m.contains("unknown argument")
        || m.contains("unknown type")
        || m.contains("got invalid value")
        || m.contains("must have a selection")
        || m.contains("must not have a selection")
        || m.contains("syntax error")
        || m.contains("invalid")
        || m.contains("expected")
    {
        ErrorKind::InvalidInput
    } else if m.contains("already") || m.contains("in progress") {
        ErrorKind::Conflict
    } else if m.contains("timed out") || m.contains("timeout") {
        ErrorKind::Timeout
    } else if m.contains("internal") || m.contains("temporarily unavailable") {
        ErrorKind::Unavailable
    } else {
        ErrorKind::Provider
    }
}

impl From<RailwayError> for Error {
    fn from(e: RailwayError) -> Self {
        let kind = e.kind();
        Error::new(kind, e.to_string())
            .with_backend("railway")
            .with_source(e)
    }
}
