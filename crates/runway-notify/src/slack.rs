//! Slack incoming webhooks: the runbook's three messages as Block Kit with a text fallback, the plain `ok`
//! answer checked, documented error bodies mapped to [`SlackError`], and 429 `Retry-After` honoured.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use runway_core::{
    ErrorKind, Idempotency, Notification, NotificationKind, Notifier, RetryPolicy, RollbackStatus,
    human_duration, kind_for_http_status,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{NotifyError, Result};

/// The environment variable [`SlackNotifierBuilder::from_env`] reads the webhook URL from.
pub const WEBHOOK_ENV: &str = "RUNWAY_SLACK_WEBHOOK_URL";

/// A Slack webhook error, from the status code and the plain-text body Slack answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlackError {
    /// 400 `invalid_payload`: the body is malformed or does not match its content type.
    #[error("invalid_payload")]
    InvalidPayload,
    /// 400 `no_text`: the message has no text.
    #[error("no_text")]
    NoText,
    /// 400 `user_not_found`.
    #[error("user_not_found")]
    UserNotFound,
    /// 403 `action_prohibited`: an admin restricted posting.
    #[error("action_prohibited")]
    ActionProhibited,
    /// `posting_to_general_channel_denied`.
    #[error("posting_to_general_channel_denied")]
    PostingToGeneralChannelDenied,
    /// 403 `invalid_token`: the webhook's token is no longer valid.
    #[error("invalid_token")]
    InvalidToken,
    /// 404 `channel_not_found`.
    #[error("channel_not_found")]
    ChannelNotFound,
    /// 404 `no_service`: the webhook was disabled, removed or never existed; reconfigure it.
    #[error("no_service")]
    NoService,
    /// `no_service_id`, `no_team`, `team_disabled` or `no_active_hooks`: the webhook or its workspace is gone.
    #[error("webhook disabled ({code})")]
    Disabled {
        /// Which of the codes.
        code: String,
    },
    /// 410 `channel_is_archived`.
    #[error("channel_is_archived")]
    ChannelIsArchived,
    /// 500 `rollup_error`: a Slack-side failure, retryable.
    #[error("rollup_error")]
    RollupError,
    /// 429: more than about one message per second.
    #[error("rate limited (retry after {retry_after:?})")]
    RateLimited {
        /// Slack's `Retry-After`, in seconds on the wire.
        retry_after: Option<Duration>,
    },
    /// Another status with an error code in the body.
    #[error("HTTP {status}: {code}")]
    Other {
        /// The status code.
        status: u16,
        /// The error code (only `[a-z0-9_]`, at most 64 characters; anything else is dropped).
        code: String,
    },
    /// A status without a recognisable body, or 200 with a body other than `ok`.
    #[error("unexpected answer: HTTP {status}")]
    Unexpected {
        /// The status code.
        status: u16,
    },
}

impl SlackError {
    /// The backend-independent classification: 400s are invalid input, 403 permission or credentials,
    /// 404/410 not found, 429 rate limited, 5xx unavailable.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SlackError::InvalidPayload | SlackError::NoText | SlackError::UserNotFound => {
                ErrorKind::InvalidInput
            }
            SlackError::ActionProhibited | SlackError::PostingToGeneralChannelDenied => {
                ErrorKind::PermissionDenied
            }
            SlackError::InvalidToken => ErrorKind::Unauthenticated,
            SlackError::ChannelNotFound
            | SlackError::NoService
            | SlackError::Disabled { .. }
            | SlackError::ChannelIsArchived => ErrorKind::NotFound,
            SlackError::RollupError => ErrorKind::Unavailable,
            SlackError::RateLimited { retry_after } => ErrorKind::RateLimited {
                retry_after: *retry_after,
            },
            SlackError::Other { status, .. } => kind_for_http_status(*status, None),
            SlackError::Unexpected { status: 200 } => ErrorKind::Provider,
            SlackError::Unexpected { status } => kind_for_http_status(*status, None),
        }
    }
}

/// Decode Slack's answer to a webhook POST: only `200` with the body `ok` is success.
///
/// `retry_after` is the raw `Retry-After` header value (seconds). Never panics on any input.
///
/// ```
/// use runway_notify::slack::{SlackError, parse_response};
/// assert_eq!(parse_response(200, None, b"ok"), Ok(()));
/// assert_eq!(parse_response(404, None, b"no_service"), Err(SlackError::NoService));
/// assert!(matches!(parse_response(429, Some("3"), b"{}"), Err(SlackError::RateLimited { .. })));
/// ```
pub fn parse_response(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
) -> std::result::Result<(), SlackError> {
    let text = std::str::from_utf8(body).unwrap_or("").trim();
    if status == 200 && text == "ok" {
        return Ok(());
    }
    if status == 429 {
        return Err(SlackError::RateLimited {
            retry_after: parse_retry_after(retry_after),
        });
    }
    let code = if !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        Some(text)
    } else {
        None
    };
    Err(match code {
        Some("invalid_payload") => SlackError::InvalidPayload,
        Some("no_text") => SlackError::NoText,
        Some("user_not_found") => SlackError::UserNotFound,
        Some("action_prohibited") => SlackError::ActionProhibited,
        Some("posting_to_general_channel_denied") => SlackError::PostingToGeneralChannelDenied,
        Some("invalid_token") => SlackError::InvalidToken,
        Some("channel_not_found") => SlackError::ChannelNotFound,
        Some("no_service") => SlackError::NoService,
        Some(c @ ("no_service_id" | "no_team" | "team_disabled" | "no_active_hooks")) => {
            SlackError::Disabled { code: c.to_owned() }
        }
        Some("channel_is_archived") => SlackError::ChannelIsArchived,
        Some("rollup_error") => SlackError::RollupError,
        Some(c) if status != 200 => SlackError::Other {
            status,
            code: c.to_owned(),
        },
        _ => SlackError::Unexpected { status },
    })
}

/// `Retry-After` in seconds (Slack sends an integer); HTTP dates and garbage give `None`.
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let secs: f64 = value?.trim().parse().ok()?;
    (secs.is_finite() && (0.0..=86_400.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

/// A webhook payload: Block Kit blocks plus the `text` fallback shown in notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlackMessage {
    /// Plain-text fallback (the runbook's message, line by line).
    pub text: String,
    /// Block Kit blocks.
    pub blocks: Vec<serde_json::Value>,
}

impl SlackMessage {
    /// The runbook's message for `n`: a header, the fields, and link buttons.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runway_core::{Notification, NotificationKind, Release};
    /// use runway_notify::slack::SlackMessage;
    ///
    /// let n = Notification::new(NotificationKind::Succeeded, "production".into(), "Production", Release::new("v2"))
    ///     .with_duration(Duration::from_secs(222))
    ///     .with_health("Passed");
    /// let m = SlackMessage::render(&n);
    /// assert_eq!(m.text, "✅ Deployment Successful\nEnvironment: Production\nDuration: 3m 42s\nHealth Check: Passed");
    /// ```
    pub fn render(n: &Notification) -> SlackMessage {
        let lines = runbook_lines(n);
        let header = lines[0].clone();
        let fields: Vec<serde_json::Value> = lines[1..]
            .iter()
            .map(|l| {
                let (k, v) = l.split_once(": ").unwrap_or((l.as_str(), ""));
                serde_json::json!({"type": "mrkdwn", "text": format!("*{}:*\n{}", escape(k), escape(v))})
            })
            .collect();
        let mut blocks = vec![serde_json::json!({
            "type": "header",
            "text": {"type": "plain_text", "text": header, "emoji": true}
        })];
        // A section holds at most 10 fields.
        for chunk in fields.chunks(10) {
            blocks.push(serde_json::json!({"type": "section", "fields": chunk}));
        }
        let buttons: Vec<serde_json::Value> = n
            .links
            .iter()
            .filter(|(_, url)| url.starts_with("https://") || url.starts_with("http://"))
            .take(25)
            .map(|(label, url)| {
                serde_json::json!({
                    "type": "button",
                    "text": {"type": "plain_text", "text": label},
                    "url": url
                })
            })
            .collect();
        if !buttons.is_empty() {
            blocks.push(serde_json::json!({"type": "actions", "elements": buttons}));
        }
        SlackMessage {
            text: lines.join("\n"),
            blocks,
        }
    }
}

/// mrkdwn control characters.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The runbook's message as lines: the title, then `Field: value` lines (links are not included).
pub fn runbook_lines(n: &Notification) -> Vec<String> {
    let mut lines = vec![
        match n.kind {
            NotificationKind::Started => "🚀 Deployment Started",
            NotificationKind::Succeeded => "✅ Deployment Successful",
            NotificationKind::Failed => "❌ Deployment Failed",
            NotificationKind::RolledBack => "↩️ Deployment Rolled Back",
            _ => "ℹ️ Deployment Update",
        }
        .to_owned(),
        format!("Environment: {}", n.environment_name),
    ];
    match n.kind {
        NotificationKind::Started => {
            let commit = n
                .release
                .message
                .as_deref()
                .or(n.release.commit.as_deref())
                .unwrap_or(n.release.id.as_str());
            lines.push(format!("Commit: {}", first_line(commit)));
            if let Some(a) = &n.release.author {
                let at = if a.starts_with('@') { "" } else { "@" };
                lines.push(format!("Author: {at}{a}"));
            }
            lines.push(format!(
                "Status: {}",
                n.status.as_deref().unwrap_or("Building...")
            ));
        }
        NotificationKind::Succeeded => {
            if let Some(d) = n.duration {
                lines.push(format!("Duration: {}", human_duration(d)));
            }
            lines.push(format!(
                "Health Check: {}",
                n.health.as_deref().unwrap_or("Passed")
            ));
        }
        _ => {
            if let Some(e) = &n.error {
                lines.push(format!("Error: {}", first_line(e)));
            }
            lines.push(format!("Rollback: {}", rollback_word(n.rollback)));
            if let Some(d) = n.duration {
                lines.push(format!("Duration: {}", human_duration(d)));
            }
        }
    }
    lines
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// `Automatic`, `Manual`, `None`, `Failed (units on mixed versions)`.
pub fn rollback_word(r: RollbackStatus) -> &'static str {
    match r {
        RollbackStatus::None => "None",
        RollbackStatus::Automatic => "Automatic",
        RollbackStatus::Manual => "Manual",
        RollbackStatus::Failed => "Failed (units on mixed versions)",
    }
}

/// Builds a [`SlackNotifier`].
pub struct SlackNotifierBuilder {
    webhook: Option<SecretString>,
    client: Option<reqwest::Client>,
    retry: RetryPolicy,
    timeout: Duration,
    allow_http: bool,
}

impl fmt::Debug for SlackNotifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackNotifierBuilder")
            .field("webhook", &self.webhook.as_ref().map(|_| "[redacted]"))
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for SlackNotifierBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SlackNotifierBuilder {
    /// No webhook yet; the default retry policy; a 10 s request timeout.
    pub fn new() -> Self {
        SlackNotifierBuilder {
            webhook: None,
            client: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(10),
            allow_http: false,
        }
    }

    /// The webhook URL from [`WEBHOOK_ENV`].
    pub fn from_env() -> Self {
        Self::new().with_webhook_from_env()
    }

    /// Take the webhook URL from [`WEBHOOK_ENV`] when it is set.
    #[must_use]
    pub fn with_webhook_from_env(self) -> Self {
        match std::env::var(WEBHOOK_ENV) {
            Ok(url) if !url.is_empty() => self.with_webhook(SecretString::from(url)),
            _ => self,
        }
    }

    /// The webhook URL (`https://hooks.slack.com/services/...`); it is a credential.
    #[must_use]
    pub fn with_webhook(mut self, url: SecretString) -> Self {
        self.webhook = Some(url);
        self
    }

    /// Use this HTTP client (proxies, custom TLS, tests).
    #[must_use]
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The retry policy (429 and 5xx are retried; a 429's `Retry-After` is honoured).
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

    /// Accept `http://` webhooks (local test servers); only `https://` otherwise.
    #[must_use]
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<SlackNotifier> {
        let webhook = self.webhook.ok_or_else(|| {
            NotifyError::Config(format!("no Slack webhook URL (set {WEBHOOK_ENV})"))
        })?;
        let url = reqwest::Url::parse(webhook.expose_secret())
            .map_err(|_| NotifyError::Config("the Slack webhook URL does not parse".into()))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => {
                return Err(NotifyError::Config(
                    "the Slack webhook URL must use https".into(),
                ));
            }
        }
        if url.host_str().is_none() {
            return Err(NotifyError::Config(
                "the Slack webhook URL has no host".into(),
            ));
        }
        let client = match self.client {
            Some(c) => c,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .build()
                .map_err(|e| NotifyError::Config(e.without_url().to_string()))?,
        };
        Ok(SlackNotifier {
            webhook,
            client,
            retry: self.retry,
        })
    }
}

/// Posts notifications to a Slack incoming webhook.
///
/// Only `200 ok` counts as delivered. 429 waits for `Retry-After` and retries; 5xx and connection errors
/// retry with backoff; 400/403/404/410 fail at once with a typed [`SlackError`]. Timeouts are not retried
/// (the message may have been posted).
#[derive(Clone)]
pub struct SlackNotifier {
    webhook: SecretString,
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl fmt::Debug for SlackNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackNotifier")
            .field("webhook", &"[redacted]")
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl SlackNotifier {
    /// A builder.
    pub fn builder() -> SlackNotifierBuilder {
        SlackNotifierBuilder::new()
    }

    /// Post one message, with retries.
    pub async fn send(&self, message: &SlackMessage) -> Result<()> {
        self.retry
            .run(Idempotency::NonIdempotent, || async {
                self.send_once(message)
                    .await
                    .map_err(|e| e.into_core("slack"))
            })
            .await
            .map_err(NotifyError::from_core)
    }

    /// Post one message once, without retrying.
    pub async fn send_once(&self, message: &SlackMessage) -> Result<()> {
        let resp = self
            .client
            .post(self.webhook.expose_secret())
            .json(message)
            .send()
            .await
            .map_err(NotifyError::transport)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.bytes().await.map_err(NotifyError::transport)?;
        match parse_response(status, retry_after.as_deref(), &body) {
            Ok(()) => {
                tracing::debug!(target: "runway_notify", "slack message delivered");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(target: "runway_notify", error = %e, "slack webhook rejected the message");
                Err(e.into())
            }
        }
    }
}

#[async_trait]
impl Notifier for SlackNotifier {
    async fn notify(&self, notification: &Notification) -> runway_core::Result<()> {
        self.send(&SlackMessage::render(notification))
            .await
            .map_err(|e| e.into_core("slack"))
    }
}
