//! A generic JSON webhook: POSTs the [`Notification`] as JSON (plus the runbook text) to any URL.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use runway_core::{Idempotency, Notification, Notifier, RetryPolicy};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::error::{NotifyError, Result};
use crate::slack::{parse_retry_after, runbook_lines};

/// The environment variable with the webhook URL.
pub const URL_ENV: &str = "RUNWAY_WEBHOOK_URL";
/// The environment variable with an optional bearer token.
pub const TOKEN_ENV: &str = "RUNWAY_WEBHOOK_TOKEN";

/// The JSON body a [`WebhookNotifier`] sends.
#[derive(Debug, Serialize)]
pub struct WebhookPayload<'a> {
    /// Payload format version, `1`.
    pub version: u32,
    /// The runbook's message as text.
    pub text: String,
    /// The structured notification.
    pub notification: &'a Notification,
}

impl<'a> WebhookPayload<'a> {
    /// The payload for `n`.
    pub fn new(n: &'a Notification) -> Self {
        WebhookPayload {
            version: 1,
            text: runbook_lines(n).join("\n"),
            notification: n,
        }
    }
}

/// Builds a [`WebhookNotifier`].
pub struct WebhookNotifierBuilder {
    url: Option<SecretString>,
    bearer: Option<SecretString>,
    headers: Vec<(String, String)>,
    client: Option<reqwest::Client>,
    retry: RetryPolicy,
    timeout: Duration,
}

impl fmt::Debug for WebhookNotifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookNotifierBuilder")
            .field("url", &self.url.as_ref().map(|_| "[redacted]"))
            .field("bearer", &self.bearer.as_ref().map(|_| "[redacted]"))
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for WebhookNotifierBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl WebhookNotifierBuilder {
    /// No URL yet.
    pub fn new() -> Self {
        WebhookNotifierBuilder {
            url: None,
            bearer: None,
            headers: Vec::new(),
            client: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(10),
        }
    }

    /// [`URL_ENV`] and, when set, [`TOKEN_ENV`] (sent as a bearer token).
    pub fn from_env() -> Self {
        Self::new().from_env_vars()
    }

    /// Take the URL and token from [`URL_ENV`] and [`TOKEN_ENV`] when they are set.
    #[must_use]
    pub fn from_env_vars(mut self) -> Self {
        if let Ok(u) = std::env::var(URL_ENV)
            && !u.is_empty()
        {
            self = self.with_url(SecretString::from(u));
        }
        if let Ok(t) = std::env::var(TOKEN_ENV)
            && !t.is_empty()
        {
            self = self.with_bearer_token(SecretString::from(t));
        }
        self
    }

    /// The URL (may embed a token, so it is secret).
    #[must_use]
    pub fn with_url(mut self, url: SecretString) -> Self {
        self.url = Some(url);
        self
    }

    /// Send `Authorization: Bearer <token>`.
    #[must_use]
    pub fn with_bearer_token(mut self, token: SecretString) -> Self {
        self.bearer = Some(token);
        self
    }

    /// An extra header (not secret).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Use this HTTP client.
    #[must_use]
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The retry policy.
    #[must_use]
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Per-request timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<WebhookNotifier> {
        let url = self
            .url
            .ok_or_else(|| NotifyError::Config("no webhook URL (set RUNWAY_WEBHOOK_URL)".into()))?;
        let parsed = reqwest::Url::parse(url.expose_secret())
            .map_err(|_| NotifyError::Config("the webhook URL does not parse".into()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(NotifyError::Config(
                "the webhook URL must be http or https".into(),
            ));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, v) in &self.headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| NotifyError::Config(format!("invalid header name {k:?}")))?;
            let value = reqwest::header::HeaderValue::from_str(v)
                .map_err(|_| NotifyError::Config(format!("invalid value for header {k:?}")))?;
            headers.insert(name, value);
        }
        if let Some(token) = &self.bearer {
            let mut value = reqwest::header::HeaderValue::from_str(&format!(
                "Bearer {}",
                token.expose_secret()
            ))
            .map_err(|_| NotifyError::Config("invalid bearer token".into()))?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let client = match self.client {
            Some(c) => c,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .build()
                .map_err(|e| NotifyError::Config(e.without_url().to_string()))?,
        };
        Ok(WebhookNotifier {
            url,
            headers,
            client,
            retry: self.retry,
        })
    }
}

/// POSTs each notification as JSON ([`WebhookPayload`]); any 2xx is delivered.
#[derive(Clone)]
pub struct WebhookNotifier {
    url: SecretString,
    headers: reqwest::header::HeaderMap,
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookNotifier")
            .field("url", &"[redacted]")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl WebhookNotifier {
    /// A builder.
    pub fn builder() -> WebhookNotifierBuilder {
        WebhookNotifierBuilder::new()
    }

    /// Deliver one notification, with retries (429 and 5xx; `Retry-After` honoured).
    pub async fn send(&self, n: &Notification) -> Result<()> {
        let payload = WebhookPayload::new(n);
        self.retry
            .run(Idempotency::NonIdempotent, || async {
                self.send_once(&payload)
                    .await
                    .map_err(|e| e.into_core("webhook"))
            })
            .await
            .map_err(NotifyError::from_core)
    }

    async fn send_once(&self, payload: &WebhookPayload<'_>) -> Result<()> {
        let resp = self
            .client
            .post(self.url.expose_secret())
            .headers(self.headers.clone())
            .json(payload)
            .send()
            .await
            .map_err(NotifyError::transport)?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = parse_retry_after(
            resp.headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
        );
        Err(NotifyError::Http {
            status: status.as_u16(),
            retry_after,
        })
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn notify(&self, notification: &Notification) -> runway_core::Result<()> {
        self.send(notification)
            .await
            .map_err(|e| e.into_core("webhook"))
    }
}
