//! [`RedisCheck`] (PING, memory) and [`QueueDepthCheck`] (LLEN of Celery's lists).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use crate::check::{Check, CheckResult, ComponentType, DEFAULT_CHECK_TIMEOUT, Problem, ms};
use crate::error::HealthError;
use crate::status::Status;

/// A Redis client with one cached multiplexed connection, re-opened after an error.
struct RedisTarget {
    client: Client,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
}

impl RedisTarget {
    fn open(url: &SecretString) -> Result<Self, HealthError> {
        let client = Client::open(url.expose_secret())
            .map_err(|_| HealthError::config("redis url", "not a valid Redis URL"))?;
        Ok(RedisTarget {
            client,
            conn: tokio::sync::Mutex::new(None),
        })
    }

    async fn connection(&self, timeout: Duration) -> redis::RedisResult<MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let cfg = AsyncConnectionConfig::new()
            .set_connection_timeout(timeout)
            .set_response_timeout(timeout);
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await?;
        *slot = Some(c.clone());
        Ok(c)
    }

    async fn forget(&self) {
        *self.conn.lock().await = None;
    }
}

/// The one place Redis errors become problems.
pub(crate) fn redis_problem(e: &redis::RedisError, timeout: Duration) -> Problem {
    if e.is_timeout() {
        Problem::Timeout {
            after_ms: timeout.as_millis() as u64,
        }
    } else if e.kind() == redis::ErrorKind::AuthenticationFailed {
        Problem::AuthFailed
    } else if e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() {
        Problem::Unreachable
    } else if let Some(code) = e.code() {
        Problem::Rejected {
            code: code
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(16)
                .collect(),
        }
    } else {
        Problem::Protocol
    }
}

fn info_field(info: &str, key: &str) -> Option<u64> {
    info.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// A Redis check: `PING`, then `INFO memory`. When `maxmemory` is set, memory use over it warns at
/// [`with_memory_warn`](RedisCheck::with_memory_warn) (0.8) and fails at
/// [`with_memory_fail`](RedisCheck::with_memory_fail) (0.95).
pub struct RedisCheck {
    name: String,
    target: RedisTarget,
    timeout: Duration,
    warn_at: f64,
    fail_at: f64,
    critical: bool,
}

impl fmt::Debug for RedisCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCheck")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisCheck {
    /// A check of the server at `url` (a secret: it may hold a password).
    pub fn new(name: impl Into<String>, url: &SecretString) -> Result<Self, HealthError> {
        Ok(RedisCheck {
            name: name.into(),
            target: RedisTarget::open(url)?,
            timeout: DEFAULT_CHECK_TIMEOUT,
            warn_at: 0.8,
            fail_at: 0.95,
            critical: true,
        })
    }

    /// The check's timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Warn at this share of `maxmemory`.
    #[must_use]
    pub fn with_memory_warn(mut self, ratio: f64) -> Self {
        self.warn_at = ratio;
        self
    }

    /// Fail at this share of `maxmemory`.
    #[must_use]
    pub fn with_memory_fail(mut self, ratio: f64) -> Self {
        self.fail_at = ratio;
        self
    }

    /// A failure only warns the service.
    #[must_use]
    pub fn non_critical(mut self) -> Self {
        self.critical = false;
        self
    }

    async fn probe(&self) -> redis::RedisResult<(Duration, String)> {
        let started = Instant::now();
        let mut conn = self.target.connection(self.timeout).await?;
        let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
        if pong != "PONG" {
            return Err(redis::RedisError::from((
                redis::ErrorKind::TypeError,
                "unexpected PING reply",
            )));
        }
        let latency = started.elapsed();
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(&mut conn)
            .await?;
        Ok((latency, info))
    }
}

#[async_trait]
impl Check for RedisCheck {
    fn name(&self) -> &str {
        &self.name
    }
    fn component_type(&self) -> ComponentType {
        ComponentType::Datastore
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn critical(&self) -> bool {
        self.critical
    }
    async fn check(&self) -> CheckResult {
        let (latency, info) = match self.probe().await {
            Ok(v) => v,
            Err(e) => {
                self.target.forget().await;
                return CheckResult::fail(redis_problem(&e, self.timeout))
                    .with_detail(e.to_string());
            }
        };
        let used = info_field(&info, "used_memory").unwrap_or(0);
        let max = info_field(&info, "maxmemory").unwrap_or(0);
        let mut r = CheckResult::pass()
            .with_observation("responseTime", ms(latency).round(), "ms")
            .with_observation("memory", used as f64, "bytes");
        if max > 0 {
            let ratio = used as f64 / max as f64;
            let pct = (ratio * 1000.0).round() / 10.0;
            r = r.with_observation("utilization", pct, "percent");
            let threshold = |limit: f64| Problem::Threshold {
                measurement: "utilization".into(),
                observed: pct,
                limit: (limit * 1000.0).round() / 10.0,
            };
            if ratio >= self.fail_at {
                r = r.escalate(Status::Fail, threshold(self.fail_at));
            } else if ratio >= self.warn_at {
                r = r.escalate(Status::Warn, threshold(self.warn_at));
            }
        }
        r
    }
}

/// Celery's default queue list in Redis.
pub const CELERY_DEFAULT_QUEUE: &str = "celery";

/// Queue depth: the summed `LLEN` of Celery's Redis lists (the runbook's "Celery queue depth < 100").
///
/// Warns at [`with_warn_at`](QueueDepthCheck::with_warn_at) tasks (100); fails at
/// [`with_fail_at`](QueueDepthCheck::with_fail_at) when set (a backlog alone does not take a service out of
/// rotation by default).
pub struct QueueDepthCheck {
    name: String,
    target: RedisTarget,
    queues: Vec<String>,
    warn_at: u64,
    fail_at: Option<u64>,
    timeout: Duration,
    critical: bool,
}

impl fmt::Debug for QueueDepthCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueDepthCheck")
            .field("name", &self.name)
            .field("queues", &self.queues)
            .field("warn_at", &self.warn_at)
            .field("fail_at", &self.fail_at)
            .finish_non_exhaustive()
    }
}

impl QueueDepthCheck {
    /// A check of the `celery` list on the broker at `url`.
    pub fn new(name: impl Into<String>, url: &SecretString) -> Result<Self, HealthError> {
        Ok(QueueDepthCheck {
            name: name.into(),
            target: RedisTarget::open(url)?,
            queues: vec![CELERY_DEFAULT_QUEUE.to_owned()],
            warn_at: 100,
            fail_at: None,
            timeout: DEFAULT_CHECK_TIMEOUT,
            critical: true,
        })
    }

    /// The lists to sum (Celery queue names).
    #[must_use]
    pub fn with_queues(mut self, queues: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.queues = queues.into_iter().map(Into::into).collect();
        self
    }

    /// Warn at this many waiting tasks.
    #[must_use]
    pub fn with_warn_at(mut self, tasks: u64) -> Self {
        self.warn_at = tasks;
        self
    }

    /// Fail at this many waiting tasks.
    #[must_use]
    pub fn with_fail_at(mut self, tasks: u64) -> Self {
        self.fail_at = Some(tasks);
        self
    }

    /// The check's timeout.
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

    async fn depth(&self) -> redis::RedisResult<u64> {
        let mut conn = self.target.connection(self.timeout).await?;
        let mut pipe = redis::pipe();
        for q in &self.queues {
            pipe.cmd("LLEN").arg(q);
        }
        let lens: Vec<u64> = pipe.query_async(&mut conn).await?;
        Ok(lens.iter().sum())
    }
}

#[async_trait]
impl Check for QueueDepthCheck {
    fn name(&self) -> &str {
        &self.name
    }
    fn component_type(&self) -> ComponentType {
        ComponentType::Datastore
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn critical(&self) -> bool {
        self.critical
    }
    async fn check(&self) -> CheckResult {
        let depth = match self.depth().await {
            Ok(d) => d,
            Err(e) => {
                self.target.forget().await;
                return CheckResult::fail(redis_problem(&e, self.timeout))
                    .with_detail(e.to_string());
            }
        };
        let r = CheckResult::pass().with_observation("queueDepth", depth as f64, "tasks");
        let threshold = |limit: u64| Problem::Threshold {
            measurement: "queueDepth".into(),
            observed: depth as f64,
            limit: limit as f64,
        };
        match self.fail_at {
            Some(f) if depth >= f => r.escalate(Status::Fail, threshold(f)),
            _ if depth >= self.warn_at => r.escalate(Status::Warn, threshold(self.warn_at)),
            _ => r,
        }
    }
}
