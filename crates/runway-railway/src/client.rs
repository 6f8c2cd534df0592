//! The client, its builder, and the one function every GraphQL call goes through.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runway_core::{ControlModel, Error, Idempotency, RetryPolicy};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::error::RailwayError;
use crate::wire::{self, RateLimitHeaders};

/// Railway's public GraphQL endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://backboard.railway.com/graphql/v2";

/// Environment variable holding a project token (sent as `Project-Access-Token`); wins over [`API_TOKEN_VAR`].
pub const PROJECT_TOKEN_VAR: &str = "RAILWAY_TOKEN";
/// Environment variable holding an account or workspace token (sent as `Authorization: Bearer`).
pub const API_TOKEN_VAR: &str = "RAILWAY_API_TOKEN";
/// Environment variable naming the project id.
pub const PROJECT_ID_VAR: &str = "RAILWAY_PROJECT_ID";
/// Environment variable overriding the endpoint URL.
pub const ENDPOINT_VAR: &str = "RAILWAY_API_URL";

/// Which credential the client sends.
#[derive(Clone)]
pub enum Token {
    /// A project token: `Project-Access-Token: <token>`, scoped to one environment of one project.
    Project(SecretString),
    /// An account or workspace token: `Authorization: Bearer <token>`.
    Api(SecretString),
}

impl Token {
    /// `"project"` or `"api"`, safe to print.
    pub fn kind(&self) -> &'static str {
        match self {
            Token::Project(_) => "project",
            Token::Api(_) => "api",
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token::{}([redacted])", self.kind())
    }
}

/// Builds a [`RailwayClient`].
///
/// ```
/// use runway_railway::RailwayClient;
///
/// let client = RailwayClient::builder()
///     .with_api_token("not-a-real-token")
///     .with_project("0b5f3f48-project")
///     .with_base_url("http://127.0.0.1:9/graphql/v2")
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("not-a-real-token"));
/// ```
#[derive(Debug, Clone)]
pub struct RailwayBuilder {
    token: Option<Token>,
    project: Option<String>,
    endpoint: String,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    timeout: Duration,
    model: ControlModel,
    poll_interval: Duration,
    poll_timeout: Duration,
    unrendered: bool,
    page_size: u32,
}

impl Default for RailwayBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RailwayBuilder {
    /// Defaults: Railway's endpoint, the default [`RetryPolicy`], a 30 s request timeout, the delegated model,
    /// polling every 2 s for up to 2 minutes after boolean-only mutations.
    pub fn new() -> Self {
        RailwayBuilder {
            token: None,
            project: None,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            http: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            model: ControlModel::Delegated,
            poll_interval: Duration::from_secs(2),
            poll_timeout: Duration::from_secs(120),
            unrendered: false,
            page_size: 100,
        }
    }

    /// Read `RAILWAY_TOKEN`, `RAILWAY_API_TOKEN`, `RAILWAY_PROJECT_ID` and `RAILWAY_API_URL` from the process
    /// environment. `RAILWAY_TOKEN` (a project token) wins when both tokens are set, as in the Railway CLI.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`from_env`](Self::from_env) with any lookup (a test seam; no global state).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let nonempty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut b = Self::new();
        b.token = match (nonempty(PROJECT_TOKEN_VAR), nonempty(API_TOKEN_VAR)) {
            (Some(t), _) => Some(Token::Project(SecretString::from(t))),
            (None, Some(t)) => Some(Token::Api(SecretString::from(t))),
            (None, None) => None,
        };
        b.project = nonempty(PROJECT_ID_VAR);
        if let Some(url) = nonempty(ENDPOINT_VAR) {
            b.endpoint = url;
        }
        b
    }

    /// Use an account or workspace token (`Authorization: Bearer`).
    #[must_use]
    pub fn with_api_token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(Token::Api(token.into()));
        self
    }

    /// Use a project token (`Project-Access-Token`).
    #[must_use]
    pub fn with_project_token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(Token::Project(token.into()));
        self
    }

    /// The project whose environments, services and variables this client manages. Optional with a project
    /// token (the token names its project); required with an account or workspace token.
    #[must_use]
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Override the GraphQL endpoint (a fake API in tests, a staging backboard).
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// Use this HTTP client (shared pools, proxies, custom TLS).
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

    /// Orchestrated (a fleet of services `api-1..api-3`, updated one by one by the engine) or delegated (one
    /// service with N replicas that Railway rolls itself). Units are service instances either way.
    #[must_use]
    pub fn with_model(mut self, model: ControlModel) -> Self {
        self.model = model;
        self
    }

    /// How often and how long to poll for the deployment a boolean-only mutation caused.
    #[must_use]
    pub fn with_polling(mut self, interval: Duration, timeout: Duration) -> Self {
        self.poll_interval = interval;
        self.poll_timeout = timeout;
        self
    }

    /// Read variables unrendered: `${{Postgres.DATABASE_URL}}` references stay as written instead of being
    /// resolved to values (what you want when diffing configuration between environments). Default: rendered.
    #[must_use]
    pub fn with_unrendered_variables(mut self, on: bool) -> Self {
        self.unrendered = on;
        self
    }

    /// Page size for paginated lists (service instances); 1 to 500, default 100.
    #[must_use]
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 500);
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<RailwayClient, Error> {
        let token = self.token.ok_or_else(|| {
            RailwayError::Config(format!(
                "no token: set {PROJECT_TOKEN_VAR} (project token) or {API_TOKEN_VAR} (account or workspace token)"
            ))
            .into_error("build")
        })?;
        if token_value(&token).trim().is_empty() {
            return Err(RailwayError::Config("the token is empty".into()).into_error("build"));
        }
        let url = reqwest::Url::parse(&self.endpoint).map_err(|e| {
            RailwayError::Config(format!("base URL {:?}: {e}", self.endpoint)).into_error("build")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(
                RailwayError::Config("base URL must be http or https".into()).into_error("build"),
            );
        }
        if self.project.is_none() && matches!(token, Token::Api(_)) {
            return Err(RailwayError::Config(format!(
                "an account or workspace token needs a project: call with_project or set {PROJECT_ID_VAR}"
            ))
            .into_error("build"));
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .user_agent(concat!("runway-railway/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| RailwayError::Config(e.to_string()).into_error("build"))?,
        };
        let project = OnceCell::new_with(self.project);
        Ok(RailwayClient {
            inner: Arc::new(Inner {
                http,
                url,
                token,
                project,
                retry: self.retry,
                timeout: self.timeout,
                model: self.model,
                poll_interval: self.poll_interval,
                poll_timeout: self.poll_timeout,
                unrendered: self.unrendered,
                page_size: self.page_size,
                limits: Mutex::new(None),
            }),
        })
    }
}

fn token_value(t: &Token) -> &str {
    match t {
        Token::Project(s) | Token::Api(s) => s.expose_secret(),
    }
}

/// The last rate-limit state Railway reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitState {
    /// `X-RateLimit-Limit`.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// When the window resets.
    pub reset_at: Option<Instant>,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    url: reqwest::Url,
    token: Token,
    project: OnceCell<String>,
    pub(crate) retry: RetryPolicy,
    timeout: Duration,
    pub(crate) model: ControlModel,
    pub(crate) poll_interval: Duration,
    pub(crate) poll_timeout: Duration,
    pub(crate) unrendered: bool,
    pub(crate) page_size: u32,
    limits: Mutex<Option<RateLimitState>>,
}

/// A Railway GraphQL client: implements [`Platform`](runway_core::Platform),
/// [`VariableStore`](runway_core::VariableStore) and [`LogSource`](runway_core::LogSource).
///
/// Cheap to clone (an `Arc` inside). `Debug` never shows the token.
#[derive(Clone)]
pub struct RailwayClient {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for RailwayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RailwayClient")
            .field("endpoint", &self.inner.url.as_str())
            .field("token", &self.inner.token)
            .field("project", &self.inner.project.get())
            .field("model", &self.inner.model)
            .finish_non_exhaustive()
    }
}

impl RailwayClient {
    /// A builder with defaults.
    pub fn builder() -> RailwayBuilder {
        RailwayBuilder::new()
    }

    /// A client from the environment ([`RailwayBuilder::from_env`]).
    pub fn from_env() -> Result<Self, Error> {
        RailwayBuilder::from_env().build()
    }

    /// The kind of token in use (`"project"` or `"api"`).
    pub fn token_kind(&self) -> &'static str {
        self.inner.token.kind()
    }

    /// The last rate-limit headers Railway sent, if any.
    pub fn rate_limit(&self) -> Option<RateLimitState> {
        *self.inner.limits.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The project id: configured, or (with a project token) the one the token is bound to.
    pub async fn project_id(&self) -> Result<String, Error> {
        let p = self
            .inner
            .project
            .get_or_try_init(|| async {
                let data = self
                    .call(
                        "project",
                        crate::ops::PROJECT_TOKEN,
                        json!({}),
                        &[],
                        Idempotency::Idempotent,
                    )
                    .await?;
                let (project, _env) =
                    wire::decode_project_token(&data).map_err(|e| e.into_error("project"))?;
                Ok::<_, Error>(project)
            })
            .await?;
        Ok(p.clone())
    }

    /// Send one GraphQL document through the retry policy and decode its `data`.
    ///
    /// `secrets` are values in `variables` that must never reach an error message.
    pub(crate) async fn call(
        &self,
        operation: &str,
        document: &'static str,
        variables: Value,
        secrets: &[&str],
        idempotency: Idempotency,
    ) -> Result<Value, Error> {
        self.inner
            .retry
            .run(idempotency, || async {
                self.send_once(document, &variables, secrets)
                    .await
                    .map_err(|e| e.into_error(operation))
            })
            .await
    }

    async fn send_once(
        &self,
        document: &'static str,
        variables: &Value,
        secrets: &[&str],
    ) -> Result<Value, RailwayError> {
        // Honour an exhausted window locally instead of spending a request on a certain 429.
        if let Some(state) = self.rate_limit()
            && state.remaining == Some(0)
            && let Some(reset_at) = state.reset_at
        {
            let now = Instant::now();
            if reset_at > now {
                return Err(RailwayError::LocalRateLimit {
                    reset: reset_at - now,
                });
            }
        }
        let body = json!({ "query": document, "variables": variables });
        let mut req = self
            .inner
            .http
            .post(self.inner.url.clone())
            .timeout(self.inner.timeout)
            .json(&body);
        req = match &self.inner.token {
            Token::Project(t) => req.header("Project-Access-Token", t.expose_secret()),
            Token::Api(t) => req.bearer_auth(t.expose_secret()),
        };
        let resp = req.send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let now_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let limits = RateLimitHeaders::parse(
            |name| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            },
            now_epoch,
        );
        self.record_limits(&limits);
        tracing::debug!(
            status,
            remaining = limits.remaining,
            token = self.inner.token.kind(),
            "railway graphql response"
        );
        let bytes = resp.bytes().await.map_err(transport_error)?;
        wire::decode_response(status, &limits, &bytes, secrets)
    }

    fn record_limits(&self, l: &RateLimitHeaders) {
        if l.limit.is_none() && l.remaining.is_none() && l.reset.is_none() {
            return;
        }
        let now = Instant::now();
        let state = RateLimitState {
            limit: l.limit,
            remaining: l.remaining,
            reset_at: l.reset.map(|d| now + d),
        };
        *self.inner.limits.lock().unwrap_or_else(|p| p.into_inner()) = Some(state);
    }
}

fn transport_error(e: reqwest::Error) -> RailwayError {
    if e.is_timeout() {
        RailwayError::Timeout
    } else if e.is_decode() || e.is_body() {
        RailwayError::Decode {
            what: "HTTP body",
            detail: "body could not be read".into(),
        }
    } else {
        // reqwest's Display can include the URL but never headers, so no token leaks here.
        let mut msg = e.to_string();
        if let Some(src) = std::error::Error::source(&e) {
            msg.push_str(&format!(": {src}"));
        }
        RailwayError::Connect(msg)
    }
}
