//! [`Cloud66Error`]: what went wrong talking to Cloud66, and its one mapping to [`runway_core::ErrorKind`].

use std::time::Duration;

use runway_core::{Error, ErrorKind, kind_for_http_status};

/// An error from the Cloud66 client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Cloud66Error {
    /// Bad configuration (no token, malformed base URL).
    #[error("configuration: {0}")]
    Config(String),
    /// A non-2xx status, with Cloud66's error envelope when the body had one.
    #[error("HTTP {status}{}", envelope_text(.error, .description))]
    Http {
        /// The status code.
        status: u16,
        /// The envelope's `error` id (`throttled`, `not_found`, `forbidden`, ...).
        error: Option<String>,
        /// The envelope's `details`, else `error_description`.
        description: Option<String>,
        /// `Retry-After`, when sent.
        retry_after: Option<Duration>,
    },
    /// The body was not what the API promises.
    #[error("cannot decode {what}: {detail}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why (never a value).
        detail: String,
    },
    /// The request did not complete in time.
    #[error("request timed out")]
    Timeout,
    /// The connection failed.
    #[error("connection failed: {0}")]
    Connect(String),
    /// An async action finished unsuccessfully.
    #[error("action {id} ({action}) failed{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    ActionFailed {
        /// The action id.
        id: u64,
        /// The action name.
        action: String,
        /// `finished_message`.
        message: Option<String>,
    },
    /// An async action did not finish while polling.
    #[error("action {id} still running after {waited:?}")]
    ActionTimeout {
        /// The action id.
        id: u64,
        /// How long the client polled.
        waited: Duration,
    },
    /// The input does not name anything this client understands.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Nothing matched (no deployment to roll back to).
    #[error("not found: {0}")]
    NotFound(String),
    /// Cloud66's API has no endpoint for this.
    #[error("{0} is not available in Cloud66's API")]
    Unsupported(&'static str),
}

fn envelope_text(error: &Option<String>, description: &Option<String>) -> String {
    match (error, description) {
        (Some(e), Some(d)) => format!(" {e}: {}", d.chars().take(300).collect::<String>()),
        (Some(e), None) => format!(" {e}"),
        (None, Some(d)) => format!(": {}", d.chars().take(300).collect::<String>()),
        (None, None) => String::new(),
    }
}

impl Cloud66Error {
    /// The runway classification: the single place Cloud66 failures are mapped.
    ///
    /// `503 throttled` is rate limiting (Cloud66 does not send 429); `503 not_implemented` is unsupported;
    /// `402 trial_expired` is permission denied; everything else follows the HTTP status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Cloud66Error::Config(_) | Cloud66Error::Invalid(_) | Cloud66Error::Decode { .. } => {
                ErrorKind::InvalidInput
            }
            Cloud66Error::Http {
                status,
                error,
                retry_after,
                ..
            } => match (*status, error.as_deref()) {
                (_, Some("throttled")) | (429, _) => ErrorKind::RateLimited {
                    retry_after: *retry_after,
                },
                (_, Some("not_implemented")) => ErrorKind::Unsupported,
                (402, _) | (_, Some("trial_expired")) => ErrorKind::PermissionDenied,
                (_, Some("time_out")) => ErrorKind::Timeout,
                (s, _) => kind_for_http_status(s, *retry_after),
            },
            Cloud66Error::Timeout | Cloud66Error::ActionTimeout { .. } => ErrorKind::Timeout,
            Cloud66Error::Connect(_) => ErrorKind::Unavailable,
            Cloud66Error::ActionFailed { .. } => ErrorKind::Provider,
            Cloud66Error::NotFound(_) => ErrorKind::NotFound,
            Cloud66Error::Unsupported(_) => ErrorKind::Unsupported,
        }
    }

    /// Convert into runway's error, naming the operation.
    pub fn into_error(self, operation: &str) -> Error {
        Error::new(self.kind(), self.to_string())
            .with_backend("cloud66")
            .with_operation(operation)
            .with_source(self)
    }
}

impl From<Cloud66Error> for Error {
    fn from(e: Cloud66Error) -> Self {
        Error::new(e.kind(), e.to_string())
            .with_backend("cloud66")
            .with_source(e)
    }
}
