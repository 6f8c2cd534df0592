//! [`HttpCheck`]: status, latency and optional JSON body assertions, or a remote health response.

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, Url};
use serde_json::Value;
use tokio::time::Instant;

use crate::check::{Check, CheckResult, ComponentType, DEFAULT_CHECK_TIMEOUT, Problem, ms};
use crate::error::HealthError;
use crate::parse::parse_health_response;
use crate::status::Status;

/// A JSON body assertion, addressed by a JSON pointer (RFC 6901, `/data/status`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum JsonAssertion {
    /// The value at `pointer` equals `value`.
    Equals {
        /// Where.
        pointer: String,
        /// What.
        value: Value,
    },
    /// Something is at `pointer`.
    Exists {
        /// Where.
        pointer: String,
    },
}

impl JsonAssertion {
    /// `pointer` equals `value`.
    pub fn equals(pointer: impl Into<String>, value: impl Into<Value>) -> Self {
        JsonAssertion::Equals {
            pointer: pointer.into(),
            value: value.into(),
        }
    }

    /// `pointer` exists.
    pub fn exists(pointer: impl Into<String>) -> Self {
        JsonAssertion::Exists {
            pointer: pointer.into(),
        }
    }

    fn pointer(&self) -> &str {
        match self {
            JsonAssertion::Equals { pointer, .. } | JsonAssertion::Exists { pointer } => pointer,
        }
    }

    fn holds(&self, body: &Value) -> bool {
        match self {
            JsonAssertion::Equals { pointer, value } => body.pointer(pointer) == Some(value),
            JsonAssertion::Exists { pointer } => body.pointer(pointer).is_some(),
        }
    }
}

/// An HTTP check: the runbook's `curl /health`, `curl /api/v1/ping` and response-time checks, and key
/// workflows as scenarios (method, body, expected status, JSON assertions).
///
/// Passes on an expected status (2xx by default) within the latency limits; warns above
/// [`with_latency_warn`](HttpCheckBuilder::with_latency_warn); fails on any other status, above
/// [`with_latency_fail`](HttpCheckBuilder::with_latency_fail), on a failed assertion, a malformed body, a
/// connection error or a timeout. With [`expect_health_response`](HttpCheckBuilder::expect_health_response)
/// the body is parsed as a health response (either shape) and the remote status counts too.
///
/// Public output never names the URL; the scrubbed driver message is kept as internal detail.
#[derive(Clone)]
pub struct HttpCheck {
    name: String,
    url: Url,
    method: Method,
    body: Option<(Vec<u8>, String)>,
    headers: Vec<(String, String)>,
    expect: RangeInclusive<u16>,
    latency_warn: Option<Duration>,
    latency_fail: Option<Duration>,
    assertions: Vec<JsonAssertion>,
    health_response: HealthMode,
    timeout: Duration,
    critical: bool,
    client: reqwest::Client,
}

impl fmt::Debug for HttpCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpCheck")
            .field("name", &self.name)
            .field("method", &self.method)
            .field("url", &display_url(&self.url))
            .field("expect", &self.expect)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The URL without user info or query (queries often carry tokens).
pub(crate) fn display_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HealthMode {
    Ignore,
    Required,
    IfPresent,
}

/// Builds an [`HttpCheck`].
#[derive(Debug, Clone)]
pub struct HttpCheckBuilder {
    name: String,
    url: String,
    method: Method,
    body: Option<(Vec<u8>, String)>,
    headers: Vec<(String, String)>,
    expect: RangeInclusive<u16>,
    latency_warn: Option<Duration>,
    latency_fail: Option<Duration>,
    assertions: Vec<JsonAssertion>,
    health_response: HealthMode,
    timeout: Duration,
    critical: bool,
    client: Option<reqwest::Client>,
}

impl HttpCheck {
    /// A GET check of `url` named `name`.
    pub fn builder(name: impl Into<String>, url: impl Into<String>) -> HttpCheckBuilder {
        HttpCheckBuilder {
            name: name.into(),
            url: url.into(),
            method: Method::GET,
            body: None,
            headers: Vec::new(),
            expect: 200..=299,
            latency_warn: None,
            latency_fail: None,
            assertions: Vec::new(),
            health_response: HealthMode::Ignore,
            timeout: DEFAULT_CHECK_TIMEOUT,
            critical: true,
            client: None,
        }
    }

    /// A shared client suitable for many checks (connection pooling, no redirects beyond 5, rustls).
    pub fn default_client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("runway-health/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(1024)
            .build()
            .unwrap_or_default()
    }

    /// The URL checked, without credentials or query.
    pub fn url(&self) -> String {
        display_url(&self.url)
    }
}

impl HttpCheckBuilder {
    /// Use this HTTP method.
    #[must_use]
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Send a JSON body (scenarios such as "create order").
    #[must_use]
    pub fn with_json_body(mut self, body: &Value) -> Self {
        self.body = Some((body.to_string().into_bytes(), "application/json".into()));
        self
    }

    /// Add a request header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Pass only on exactly this status.
    #[must_use]
    pub fn expect_status(mut self, status: u16) -> Self {
        self.expect = status..=status;
        self
    }

    /// Pass on any status in this range.
    #[must_use]
    pub fn expect_status_range(mut self, range: RangeInclusive<u16>) -> Self {
        self.expect = range;
        self
    }

    /// Warn when the response takes at least this long.
    #[must_use]
    pub fn with_latency_warn(mut self, limit: Duration) -> Self {
        self.latency_warn = Some(limit);
        self
    }

    /// Fail when the response takes at least this long.
    #[must_use]
    pub fn with_latency_fail(mut self, limit: Duration) -> Self {
        self.latency_fail = Some(limit);
        self
    }

    /// Require a JSON body satisfying `assertion`.
    #[must_use]
    pub fn with_assertion(mut self, assertion: JsonAssertion) -> Self {
        self.assertions.push(assertion);
        self
    }

    /// Parse the body as a health response (health+json or the runbook's shape) and take its status into
    /// account; any status code is then accepted as long as the body parses (a failing service answers 503).
    #[must_use]
    pub fn expect_health_response(mut self) -> Self {
        self.health_response = HealthMode::Required;
        self
    }

    /// Like [`expect_health_response`](Self::expect_health_response) when the body parses as a health
    /// response; otherwise judge by the status code alone (for endpoints answering plain `OK`).
    #[must_use]
    pub fn expect_health_response_lenient(mut self) -> Self {
        self.health_response = HealthMode::IfPresent;
        self
    }

    /// The check's timeout (the whole request, body included).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A failure only warns the service.
    #[must_use]
    pub fn non_critical(mut self) -> Self {
        self.critical = false;
        self
    }

    /// Use this client (share one across checks; the test seam).
    #[must_use]
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<HttpCheck, HealthError> {
        let url = Url::parse(&self.url)
            .map_err(|e| HealthError::config("url", format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(HealthError::config("url", "scheme must be http or https"));
        }
        if self.timeout.is_zero() {
            return Err(HealthError::config("timeout", "must be non-zero"));
        }
        if self.expect.is_empty() {
            return Err(HealthError::config("expect_status", "empty range"));
        }
        if let (Some(w), Some(f)) = (self.latency_warn, self.latency_fail)
            && w > f
        {
            return Err(HealthError::config(
                "latency",
                "the warn limit must not exceed the fail limit",
            ));
        }
        for a in &self.assertions {
            let p = a.pointer();
            if !(p.is_empty() || p.starts_with('/')) {
                return Err(HealthError::config(
                    "assertion",
                    format!("{p:?} is not a JSON pointer (it must start with '/')"),
                ));
            }
        }
        Ok(HttpCheck {
            name: self.name,
            url,
            method: self.method,
            body: self.body,
            headers: self.headers,
            expect: self.expect,
            latency_warn: self.latency_warn,
            latency_fail: self.latency_fail,
            assertions: self.assertions,
            health_response: self.health_response,
            timeout: self.timeout,
            critical: self.critical,
            client: self.client.unwrap_or_else(HttpCheck::default_client),
        })
    }
}

fn request_problem(e: &reqwest::Error, timeout: Duration) -> Problem {
    if e.is_timeout() {
        Problem::Timeout {
            after_ms: timeout.as_millis() as u64,
        }
    } else if e.is_connect() {
        Problem::Unreachable
    } else if e.is_decode() || e.is_body() {
        Problem::MalformedBody
    } else {
        Problem::Protocol
    }
}

impl HttpCheck {
    /// Run the request and judge it (the [`Check`] implementation).
    pub async fn execute(&self) -> CheckResult {
        let started = Instant::now();
        let mut req = self
            .client
            .request(self.method.clone(), self.url.clone())
            .timeout(self.timeout);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        if self.health_response != HealthMode::Ignore {
            req = req.header(
                reqwest::header::ACCEPT,
                "application/health+json, application/json;q=0.9",
            );
        }
        if let Some((body, ct)) = &self.body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, ct)
                .body(body.clone());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                return CheckResult::fail(request_problem(&e, self.timeout))
                    .with_detail(e.without_url().to_string());
            }
        };
        let status = resp.status().as_u16();
        let needs_body = self.health_response != HealthMode::Ignore || !self.assertions.is_empty();
        let body = if needs_body {
            match resp.bytes().await {
                Ok(b) => Some(b),
                Err(e) => {
                    return CheckResult::fail(request_problem(&e, self.timeout))
                        .with_detail(e.without_url().to_string());
                }
            }
        } else {
            // Drain so the connection can be reused; a failed drain does not change the verdict.
            let _ = resp.bytes().await;
            None
        };
        let latency = started.elapsed();
        let mut result =
            CheckResult::pass().with_observation("responseTime", ms(latency).round(), "ms");
        let remote = match self.health_response {
            HealthMode::Ignore => None,
            mode => match parse_health_response(body.as_deref().unwrap_or_default()) {
                Ok(remote) => Some(remote),
                Err(e) if mode == HealthMode::Required => {
                    let problem = if self.expect.contains(&status) {
                        Problem::MalformedBody
                    } else {
                        Problem::HttpStatus { status }
                    };
                    return result
                        .escalate(Status::Fail, problem)
                        .with_detail(format!("HTTP {status}; {e}"));
                }
                Err(_) => None,
            },
        };
        match remote {
            Some(remote) => {
                // A parsed health response speaks for itself; a failing service answers 503 with it.
                if remote.status != Status::Pass {
                    result = result.escalate(
                        remote.status,
                        Problem::RemoteStatus {
                            status: remote.status,
                        },
                    );
                } else if !(200..400).contains(&status) {
                    result = result.escalate(Status::Fail, Problem::HttpStatus { status });
                }
            }
            None if !self.expect.contains(&status) => {
                return result
                    .escalate(Status::Fail, Problem::HttpStatus { status })
                    .with_detail(format!("HTTP {status}"));
            }
            None => {}
        }
        if !self.assertions.is_empty() {
            let parsed: Option<Value> =
                body.as_deref().and_then(|b| serde_json::from_slice(b).ok());
            let Some(json) = parsed else {
                return result.escalate(Status::Fail, Problem::MalformedBody);
            };
            if let Some(a) = self.assertions.iter().find(|a| !a.holds(&json)) {
                return result.escalate(
                    Status::Fail,
                    Problem::BodyMismatch {
                        pointer: a.pointer().to_owned(),
                    },
                );
            }
        }
        let threshold = |limit: Duration| Problem::Threshold {
            measurement: "responseTime".into(),
            observed: ms(latency).round(),
            limit: ms(limit),
        };
        if let Some(limit) = self.latency_fail.filter(|l| latency >= *l) {
            result = result.escalate(Status::Fail, threshold(limit));
        } else if let Some(limit) = self.latency_warn.filter(|l| latency >= *l) {
            result = result.escalate(Status::Warn, threshold(limit));
        }
        result
    }
}

#[async_trait]
impl Check for HttpCheck {
    fn name(&self) -> &str {
        &self.name
    }
    fn component_type(&self) -> ComponentType {
        ComponentType::Component
    }
    fn timeout(&self) -> Duration {
        // The checker's timeout is a little longer than the request's, so the request's own timeout
        // (with a precise problem) normally fires first.
        self.timeout + Duration::from_millis(50)
    }
    fn critical(&self) -> bool {
        self.critical
    }
    async fn check(&self) -> CheckResult {
        self.execute().await
    }
}
