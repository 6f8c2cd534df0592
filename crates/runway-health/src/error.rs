//! [`HealthError`]: the one error type of this crate.

use runway_core::ErrorKind;

use crate::parse::ParseError;

/// Errors of building checks and plans, parsing remote responses and reading metrics or logs.
///
/// A failing *check* is not an error: it is a [`Status::Fail`](crate::Status::Fail) result. Errors are for
/// configuration mistakes, unreadable input and unavailable data sources.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HealthError {
    /// A builder was given an invalid setting.
    #[error("invalid configuration of {field}: {reason}")]
    Config {
        /// The setting.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A remote health response could not be parsed.
    #[error("health response: {0}")]
    Parse(#[from] ParseError),
    /// A metrics or log source failed.
    #[error(transparent)]
    Source(#[from] runway_core::Error),
    /// Emitting an event failed.
    #[error("event sink: {0}")]
    Events(runway_core::Error),
}

impl HealthError {
    /// A configuration error.
    pub fn config(field: &'static str, reason: impl Into<String>) -> Self {
        HealthError::Config {
            field,
            reason: reason.into(),
        }
    }

    /// What went wrong, in runway's shared classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            HealthError::Config { .. } | HealthError::Parse(_) => ErrorKind::InvalidInput,
            HealthError::Source(e) | HealthError::Events(e) => e.kind().clone(),
        }
    }

    /// Whether retrying may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            HealthError::Source(e) | HealthError::Events(e) => e.is_retryable(),
            _ => false,
        }
    }
}

impl From<HealthError> for runway_core::Error {
    fn from(e: HealthError) -> Self {
        match e {
            HealthError::Source(inner) | HealthError::Events(inner) => inner,
            other => runway_core::Error::new(other.kind(), other.to_string())
                .with_backend("runway-health"),
        }
    }
}
