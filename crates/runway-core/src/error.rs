//! The error type shared by every provider trait.
//!
//! Callers classify an [`Error`] with [`Error::kind`] and [`Error::is_retryable`]; they never match on
//! message strings. Backends map their wire errors (HTTP status, GraphQL `errors[]`, AWS error codes) to an
//! [`ErrorKind`] in exactly one function each.

use std::fmt;
use std::time::Duration;

/// A boxed error usable as a source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, independent of the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The environment, service, unit, deployment, variable or secret does not exist.
    NotFound,
    /// The credentials are missing, malformed or rejected.
    Unauthenticated,
    /// The credentials are valid but lack the permission for this call.
    PermissionDenied,
    /// The provider throttled the call; `retry_after` is its hint, when it gave one.
    RateLimited {
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The provider is temporarily unavailable (5xx, connection refused or reset).
    Unavailable,
    /// The call did not finish in time.
    Timeout,
    /// The call conflicts with the current state (a lock held, a version already present, ...).
    Conflict,
    /// The input was malformed or rejected as invalid (config, migration file, API response shape).
    InvalidInput,
    /// The backend cannot do this at all.
    Unsupported,
    /// Any other provider-side failure.
    Provider,
}

impl ErrorKind {
    /// A short stable name, usable in logs and JSON output.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::RateLimited { .. } => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Conflict => "conflict",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Provider => "provider",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned by every provider trait in runway.
///
/// It carries a [`kind`](Error::kind), a human message, the backend and operation it came from, how many
/// attempts were made (set by [`RetryPolicy`](crate::RetryPolicy)), and an optional source.
///
/// Messages must never contain a secret value: backends build them from names and statuses only.
pub struct Error {
    kind: ErrorKind,
    message: String,
    backend: Option<String>,
    operation: Option<String>,
    attempts: u32,
    source: Option<BoxError>,
}

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            backend: None,
            operation: None,
            attempts: 1,
            source: None,
        }
    }

    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// Shorthand for [`ErrorKind::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// Shorthand for [`ErrorKind::Conflict`].
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// Shorthand for [`ErrorKind::Unavailable`].
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// Shorthand for [`ErrorKind::Timeout`].
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }

    /// Shorthand for [`ErrorKind::RateLimited`].
    pub fn rate_limited(retry_after: Option<Duration>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::RateLimited { retry_after }, message)
    }

    /// Shorthand for [`ErrorKind::Provider`].
    pub fn provider(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Provider, message)
    }

    /// An [`ErrorKind::Unsupported`] error naming the operation and the backend that lacks it.
    pub fn unsupported(operation: &str, backend: &str) -> Self {
        Self::new(
            ErrorKind::Unsupported,
            format!("{operation} is not supported by {backend}"),
        )
        .with_operation(operation)
        .with_backend(backend)
    }

    /// Attach the backend name (`"railway"`, `"sim"`, ...).
    #[must_use]
    pub fn with_backend(mut self, backend: impl Into<String>) -> Self {
        self.backend = Some(backend.into());
        self
    }

    /// Attach the operation (`"deploy"`, `"variables.set"`, ...).
    #[must_use]
    pub fn with_operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// Attach a source error. The source's `Display` must not contain secrets either.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Record how many attempts were made before giving up.
    #[must_use]
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The message, without backend, operation or source.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The backend the error came from, when known.
    pub fn backend(&self) -> Option<&str> {
        self.backend.as_deref()
    }

    /// The operation that failed, when known.
    pub fn operation(&self) -> Option<&str> {
        self.operation.as_deref()
    }

    /// How many attempts were made (1 when the call was not retried).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The provider's retry hint, for [`ErrorKind::RateLimited`].
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind {
            ErrorKind::RateLimited { retry_after } => retry_after,
            _ => None,
        }
    }

    /// Whether retrying the same call may succeed: rate limits, unavailability and timeouts.
    ///
    /// Timeouts are retryable only for idempotent calls; [`RetryPolicy`](crate::RetryPolicy) applies that rule.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RateLimited { .. } | ErrorKind::Unavailable | ErrorKind::Timeout
        )
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(b) = &self.backend {
            d.field("backend", b);
        }
        if let Some(o) = &self.operation {
            d.field("operation", o);
        }
        if self.attempts != 1 {
            d.field("attempts", &self.attempts);
        }
        if let Some(s) = &self.source {
            d.field("source", &format_args!("{s}"));
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(b) = &self.backend {
            write!(f, "{b}: ")?;
        }
        if let Some(o) = &self.operation {
            write!(f, "{o}: ")?;
        }
        write!(f, "{} ({})", self.message, self.kind)?;
        if self.attempts > 1 {
            write!(f, " after {} attempts", self.attempts)?;
        }
        if let Some(s) = &self.source {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        let kind = match e.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted => ErrorKind::Unavailable,
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
                ErrorKind::InvalidInput
            }
            _ => ErrorKind::Provider,
        };
        Error::new(kind, "i/o error").with_source(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::invalid_input("malformed JSON").with_source(e)
    }
}

/// Map an HTTP status (and an optional `Retry-After` hint) to an [`ErrorKind`].
///
/// Backends that speak HTTP call this from their single mapping function, so every provider classifies
/// statuses the same way: 404 not found, 401 unauthenticated, 403 permission denied, 408 timeout,
/// 409/412 conflict, 429 rate limited, 400/422 invalid input, other 5xx unavailable.
pub fn kind_for_http_status(status: u16, retry_after: Option<Duration>) -> ErrorKind {
    match status {
        400 | 422 => ErrorKind::InvalidInput,
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        408 | 504 => ErrorKind::Timeout,
        409 | 412 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited { retry_after },
        501 => ErrorKind::Unsupported,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Provider,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_context_and_attempts() {
        let e = Error::unavailable("server said 503")
            .with_backend("railway")
            .with_operation("deploy")
            .with_attempts(4);
        assert_eq!(
            e.to_string(),
            "railway: deploy: server said 503 (unavailable) after 4 attempts"
        );
        assert!(e.is_retryable());
        assert_eq!(e.attempts(), 4);
    }

    #[test]
    fn status_mapping() {
        assert_eq!(kind_for_http_status(404, None), ErrorKind::NotFound);
        assert_eq!(
            kind_for_http_status(429, Some(Duration::from_secs(3))),
            ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(kind_for_http_status(503, None), ErrorKind::Unavailable);
        assert_eq!(kind_for_http_status(401, None), ErrorKind::Unauthenticated);
        assert!(!Error::new(kind_for_http_status(400, None), "bad").is_retryable());
    }

    #[test]
    fn retry_after_only_for_rate_limits() {
        let e = Error::rate_limited(Some(Duration::from_secs(2)), "slow down");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(Error::timeout("t").retry_after(), None);
    }
}
