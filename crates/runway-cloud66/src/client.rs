//! The client, its builder, and the one function every HTTP call goes through.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use runway_core::{Error, Idempotency, RetryPolicy};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Cloud66Error;
use crate::wire::{self, AsyncAction, Server, Stack};

/// Cloud66's API v3 base URL.
pub const DEFAULT_BASE_URL: &str = "https://app.cloud66.com/api/3";
/// Environment variable holding the access token (`Authorization: Bearer`).
pub const TOKEN_VAR: &str = "CLOUD66_TOKEN";
/// Alternative name for the token variable.
pub const ACCESS_TOKEN_VAR: &str = "CLOUD66_ACCESS_TOKEN";
/// Environment variable overriding the base URL.
pub const BASE_URL_VAR: &str = "CLOUD66_API_URL";
/// Environment variable selecting the account (`X-Account`).
pub const ACCOUNT_VAR: &str = "CLOUD66_ACCOUNT";

/// Builds a [`Cloud66Client`].
///
/// ```
/// use runway_cloud66::Cloud66Client;
/// let client = Cloud66Client::builder()
///     .with_token("not-a-real-token")
///     .with_base_url("http://127.0.0.1:9/api/3")
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("not-a-real-token"));
/// ```
#[derive(Clone)]
pub struct Cloud66Builder {
    token: Option<SecretString>,
    base_url: String,
    account: Option<String>,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    timeout: Duration,
    poll_interval: Duration,
    poll_timeout: Duration,
}

impl fmt::Debug for Cloud66Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cloud66Builder")
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Default for Cloud66Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Cloud66Builder {
    /// Defaults: Cloud66's API, the default [`RetryPolicy`], a 30 s request timeout, async actions polled every
    /// 15 s for up to 10 minutes (as Cloud66's own client does).
    pub fn new() -> Self {
        Cloud66Builder {
            token: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            account: None,
            http: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            poll_interval: Duration::from_secs(15),
            poll_timeout: Duration::from_secs(600),
        }
    }

    /// Read `CLOUD66_TOKEN` (or `CLOUD66_ACCESS_TOKEN`), `CLOUD66_API_URL` and `CLOUD66_ACCOUNT`.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`from_env`](Self::from_env) with any lookup (a test seam).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let nonempty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut b = Self::new();
        b.token = nonempty(TOKEN_VAR)
            .or_else(|| nonempty(ACCESS_TOKEN_VAR))
            .map(SecretString::from);
        if let Some(u) = nonempty(BASE_URL_VAR) {
            b.base_url = u;
        }
        b.account = nonempty(ACCOUNT_VAR);
        b
    }

    /// The OAuth or personal access token.
    #[must_use]
    pub fn with_token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Override the base URL (a fake API in tests).
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Select an account (`X-Account`), for users in several accounts.
    #[must_use]
    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// Use this HTTP client.
    #[must_use]
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The retry policy applied to every call.
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

    /// How often and how long to poll async actions.
    #[must_use]
    pub fn with_polling(mut self, interval: Duration, timeout: Duration) -> Self {
        self.poll_interval = interval;
        self.poll_timeout = timeout;
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<Cloud66Client, Error> {
        let token = self.token.ok_or_else(|| {
            Cloud66Error::Config(format!("no token: set {TOKEN_VAR}")).into_error("build")
        })?;
        if token.expose_secret().trim().is_empty() {
            return Err(Cloud66Error::Config("the token is empty".into()).into_error("build"));
        }
        let base = reqwest::Url::parse(self.base_url.trim_end_matches('/')).map_err(|e| {
            Cloud66Error::Config(format!("base URL {:?}: {e}", self.base_url)).into_error("build")
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(
                Cloud66Error::Config("base URL must be http or https".into()).into_error("build"),
            );
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .user_agent(concat!("runway-cloud66/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| Cloud66Error::Config(e.to_string()).into_error("build"))?,
        };
        Ok(Cloud66Client {
            inner: Arc::new(Inner {
                http,
                base: base.as_str().trim_end_matches('/').to_owned(),
                token,
                account: self.account,
                retry: self.retry,
                timeout: self.timeout,
                poll_interval: self.poll_interval,
                poll_timeout: self.poll_timeout,
            }),
        })
    }
}

pub(crate) struct Inner {
    http: reqwest::Client,
    base: String,
    token: SecretString,
    account: Option<String>,
    retry: RetryPolicy,
    timeout: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) poll_timeout: Duration,
}

/// A Cloud66 API v3 client: implements [`Platform`](runway_core::Platform) and
/// [`VariableStore`](runway_core::VariableStore). Cheap to clone; `Debug` never shows the token.
#[derive(Clone)]
pub struct Cloud66Client {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Cloud66Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cloud66Client")
            .field("base_url", &self.inner.base)
            .field("token", &"[redacted]")
            .field("account", &self.inner.account)
            .finish_non_exhaustive()
    }
}

/// Percent-encode one path segment.
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const MAX_PAGES: u64 = 1000;

impl Cloud66Client {
    /// A builder with defaults.
    pub fn builder() -> Cloud66Builder {
        Cloud66Builder::new()
    }

    /// A client from the environment ([`Cloud66Builder::from_env`]).
    pub fn from_env() -> Result<Self, Error> {
        Cloud66Builder::from_env().build()
    }

    /// One HTTP call through the retry policy; returns the 2xx body.
    pub(crate) async fn send(
        &self,
        operation: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        idempotency: Idempotency,
    ) -> Result<bytes_body::Body, Error> {
        self.inner
            .retry
            .run(idempotency, || async {
                self.send_once(method.clone(), path, query, body)
                    .await
                    .map_err(|e| e.into_error(operation))
            })
            .await
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<bytes_body::Body, Cloud66Error> {
        let url = format!("{}{path}", self.inner.base);
        let mut req = self
            .inner
            .http
            .request(method, url)
            .timeout(self.inner.timeout)
            .bearer_auth(self.inner.token.expose_secret())
            .header("Accept", "application/json");
        if let Some(a) = &self.inner.account {
            req = req.header("X-Account", a);
        }
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        if let Some(w) = resp
            .headers()
            .get("x-cloud66-warning")
            .and_then(|v| v.to_str().ok())
        {
            tracing::warn!(warning = w, "cloud66 warning");
        }
        tracing::debug!(status, path, "cloud66 response");
        let bytes = resp.bytes().await.map_err(transport_error)?;
        if (200..300).contains(&status) {
            Ok(bytes_body::Body(bytes.to_vec()))
        } else {
            Err(wire::decode_error(status, retry_after, &bytes))
        }
    }

    /// GET one wrapped object.
    pub(crate) async fn get_one<T: DeserializeOwned>(
        &self,
        operation: &str,
        path: &str,
    ) -> Result<T, Error> {
        let body = self
            .send(
                operation,
                Method::GET,
                path,
                &[],
                None,
                Idempotency::Idempotent,
            )
            .await?;
        wire::decode_envelope::<T>(&body.0)
            .map(|(v, _)| v)
            .map_err(|e| e.into_error(operation))
    }

    /// GET every page of a wrapped list.
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        operation: &str,
        path: &str,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        let mut page = 1u64;
        loop {
            let body = self
                .send(
                    operation,
                    Method::GET,
                    path,
                    &[("page", page.to_string())],
                    None,
                    Idempotency::Idempotent,
                )
                .await?;
            let (items, pagination) =
                wire::decode_envelope::<Vec<T>>(&body.0).map_err(|e| e.into_error(operation))?;
            out.extend(items);
            match pagination.and_then(|p| p.next_page()) {
                Some(n) if n > page && n <= MAX_PAGES => page = n,
                _ => break,
            }
        }
        Ok(out)
    }

    /// Every stack visible to the token.
    pub async fn stacks(&self) -> Result<Vec<Stack>, Error> {
        self.get_all("stacks", "/stacks.json").await
    }

    /// One stack.
    pub async fn stack(&self, uid: &str) -> Result<Stack, Error> {
        self.get_one("stack", &format!("/stacks/{}.json", seg(uid)))
            .await
    }

    /// A stack's servers.
    pub async fn servers(&self, stack: &str) -> Result<Vec<Server>, Error> {
        self.get_all("servers", &format!("/stacks/{}/servers.json", seg(stack)))
            .await
    }

    /// One async action.
    pub async fn action(&self, stack: &str, id: u64) -> Result<AsyncAction, Error> {
        self.get_one(
            "action",
            &format!("/stacks/{}/actions/{id}.json", seg(stack)),
        )
        .await
    }

    /// Poll an async action until `finished_at` is set; an unsuccessful finish is an error.
    pub async fn wait_action(&self, stack: &str, id: u64) -> Result<AsyncAction, Error> {
        let start = tokio::time::Instant::now();
        loop {
            let a = self.action(stack, id).await?;
            if a.is_finished() {
                return if a.finished_success == Some(true) {
                    Ok(a)
                } else {
                    Err(Cloud66Error::ActionFailed {
                        id,
                        action: a.action.clone().unwrap_or_default(),
                        message: a.finished_message.clone(),
                    }
                    .into_error("action"))
                };
            }
            if start.elapsed() >= self.inner.poll_timeout {
                return Err(Cloud66Error::ActionTimeout {
                    id,
                    waited: start.elapsed(),
                }
                .into_error("action"));
            }
            tokio::time::sleep(self.inner.poll_interval).await;
        }
    }

    /// Start a stack action (`restart`, `clear_caches`, `maintenance_mode`); returns the async action.
    pub async fn stack_action(&self, stack: &str, command: &str) -> Result<AsyncAction, Error> {
        let body = serde_json::json!({ "command": command });
        let out = self
            .send(
                "action",
                Method::POST,
                &format!("/stacks/{}/actions.json", seg(stack)),
                &[],
                Some(&body),
                Idempotency::NonIdempotent,
            )
            .await?;
        wire::decode_envelope::<AsyncAction>(&out.0)
            .map(|(a, _)| a)
            .map_err(|e| e.into_error("action"))
    }
}

fn transport_error(e: reqwest::Error) -> Cloud66Error {
    if e.is_timeout() {
        Cloud66Error::Timeout
    } else if e.is_decode() || e.is_body() {
        Cloud66Error::Decode {
            what: "HTTP body",
            detail: "body could not be read".into(),
        }
    } else {
        let mut msg = e.to_string();
        if let Some(src) = std::error::Error::source(&e) {
            msg.push_str(&format!(": {src}"));
        }
        Cloud66Error::Connect(msg)
    }
}

pub(crate) mod bytes_body {
    /// A response body (kept private so callers always go through the decoders).
    pub(crate) struct Body(pub(crate) Vec<u8>);
}
