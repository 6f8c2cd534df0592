//! The crate's error type.

use std::time::Duration;

use runway_core::{ErrorKind, kind_for_http_status};

use crate::slack::SlackError;

/// Why a notification was not delivered. Never contains the webhook URL (it is a credential).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// Slack answered with an error (or with something other than `ok`).
    #[error("slack webhook: {0}")]
    Slack(#[from] SlackError),
    /// A generic webhook answered with a non-2xx status.
    #[error("webhook answered HTTP {status}")]
    Http {
        /// The status code.
        status: u16,
        /// The `Retry-After` hint, when the status was 429 or 503.
        retry_after: Option<Duration>,
    },
    /// The request could not be sent or the answer not read (connect, TLS, timeout).
    #[error("cannot reach the webhook: {message}")]
    Transport {
        /// What failed (the URL is stripped).
        message: String,
        /// Whether it was a timeout.
        timeout: bool,
    },
    /// The notifier was configured wrongly (bad URL, missing setting).
    #[error("invalid notifier configuration: {0}")]
    Config(String),
    /// Writing to the console (or the configured writer) failed.
    #[error("cannot write the notification: {0}")]
    Io(String),
    /// Still failing after retries; `last` is the final error.
    #[error("{last} (after {attempts} attempts)")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: Box<NotifyError>,
    },
}

impl NotifyError {
    /// The backend-independent classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            NotifyError::Slack(e) => e.kind(),
            NotifyError::Http {
                status,
                retry_after,
            } => kind_for_http_status(*status, *retry_after),
            NotifyError::Transport { timeout: true, .. } => ErrorKind::Timeout,
            NotifyError::Transport { .. } => ErrorKind::Unavailable,
            NotifyError::Config(_) => ErrorKind::InvalidInput,
            NotifyError::Io(_) => ErrorKind::Provider,
            NotifyError::GaveUp { last, .. } => last.kind(),
        }
    }

    /// Whether sending again may succeed (rate limits, 5xx, connection errors, timeouts).
    pub fn is_retryable(&self) -> bool {
        runway_core::Error::new(self.kind(), "").is_retryable()
    }

    /// The error behind retries ([`NotifyError::GaveUp`]'s `last`, or `self`).
    pub fn root(&self) -> &NotifyError {
        match self {
            NotifyError::GaveUp { last, .. } => last.root(),
            e => e,
        }
    }

    pub(crate) fn transport(e: reqwest::Error) -> Self {
        // reqwest's Display includes the URL, which for Slack is the credential.
        let e = e.without_url();
        NotifyError::Transport {
            timeout: e.is_timeout(),
            message: e.to_string(),
        }
    }

    /// Recover the typed error from a core error produced by [`NotifyError::into_core`].
    pub(crate) fn from_core(e: runway_core::Error) -> Self {
        let attempts = e.attempts();
        let typed = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<NotifyError>())
            .cloned()
            .unwrap_or_else(|| NotifyError::Io(e.message().to_owned()));
        if attempts > 1 {
            NotifyError::GaveUp {
                attempts,
                last: Box::new(typed),
            }
        } else {
            typed
        }
    }

    /// As a core error (kind, message, this error as the source).
    pub fn into_core(self, backend: &str) -> runway_core::Error {
        let attempts = match &self {
            NotifyError::GaveUp { attempts, .. } => *attempts,
            _ => 1,
        };
        runway_core::Error::new(self.kind(), self.root().to_string())
            .with_attempts(attempts)
            .with_backend(backend)
            .with_operation("notify")
            .with_source(self)
    }
}

/// `Result` with [`NotifyError`].
pub type Result<T, E = NotifyError> = std::result::Result<T, E>;
