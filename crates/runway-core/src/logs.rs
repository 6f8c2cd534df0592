//! Logs: the [`LogSource`] trait, queries, and the runbook's two saved queries as presets.

use std::collections::BTreeMap;
use std::fmt::{self, Debug};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::types::{DeploymentId, EnvironmentId, ServiceId, TimeRange};

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Debug output.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected, not failing.
    Warn,
    /// A failure.
    Error,
}

impl LogLevel {
    /// Parse a provider's severity word (`err`, `error`, `warning`, `info`, ...); unknown words are `Info`.
    pub fn parse_lenient(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "err" | "error" | "fatal" | "critical" | "crit" | "emerg" | "alert" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "debug" | "trace" => LogLevel::Debug,
            _ => LogLevel::Info,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        })
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When it was written.
    pub timestamp: DateTime<Utc>,
    /// Severity.
    pub level: LogLevel,
    /// The message.
    pub message: String,
    /// Where it came from (service, unit, log stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Structured attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// Where to read logs from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogScope {
    /// The environment.
    pub environment: Option<EnvironmentId>,
    /// One service.
    pub service: Option<ServiceId>,
    /// One deployment (Railway deployment logs).
    pub deployment: Option<DeploymentId>,
    /// A named log group (CloudWatch `/aws/ecs/yourapp-production`).
    pub group: Option<String>,
    /// Build logs instead of runtime logs, where the backend has both.
    pub build: bool,
}

impl LogScope {
    /// An environment's logs.
    pub fn environment(env: impl Into<EnvironmentId>) -> Self {
        LogScope {
            environment: Some(env.into()),
            ..Self::default()
        }
    }

    /// A log group's logs.
    pub fn group(group: impl Into<String>) -> Self {
        LogScope {
            group: Some(group.into()),
            ..Self::default()
        }
    }

    /// A deployment's logs.
    pub fn deployment(id: impl Into<DeploymentId>) -> Self {
        LogScope {
            deployment: Some(id.into()),
            ..Self::default()
        }
    }

    /// Only one service.
    #[must_use]
    pub fn with_service(mut self, service: impl Into<ServiceId>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// Build logs.
    #[must_use]
    pub fn build_logs(mut self) -> Self {
        self.build = true;
        self
    }
}

/// A log query: scope, time range, text filter, minimum level, limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogQuery {
    /// Where to read.
    pub scope: LogScope,
    /// The time range.
    pub range: TimeRange,
    /// Keep lines whose message contains this text (backends may pass it as their native filter pattern).
    pub contains: Option<String>,
    /// Keep lines at or above this level.
    pub min_level: Option<LogLevel>,
    /// At most this many lines: the newest ones, returned oldest first.
    pub limit: Option<usize>,
}

impl LogQuery {
    /// Every line of `scope` in `range`.
    pub fn new(scope: LogScope, range: TimeRange) -> Self {
        LogQuery {
            scope,
            range,
            contains: None,
            min_level: None,
            limit: None,
        }
    }

    /// The runbook's "find errors in the last hour" (`filter @message like /ERROR/ | limit 100`).
    pub fn errors_last_hour(scope: LogScope, now: DateTime<Utc>) -> Self {
        LogQuery {
            scope,
            range: TimeRange::last(Duration::from_secs(3600), now),
            contains: Some("ERROR".to_owned()),
            min_level: None,
            limit: Some(100),
        }
    }

    /// Only lines containing `text`.
    #[must_use]
    pub fn with_contains(mut self, text: impl Into<String>) -> Self {
        self.contains = Some(text.into());
        self
    }

    /// Only lines at or above `level`.
    #[must_use]
    pub fn with_min_level(mut self, level: LogLevel) -> Self {
        self.min_level = Some(level);
        self
    }

    /// At most `n` lines.
    #[must_use]
    pub fn with_limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Whether `entry` passes this query's filters (range, text, level); backends without native
    /// filtering apply this.
    pub fn matches(&self, entry: &LogEntry) -> bool {
        self.range.contains(entry.timestamp)
            && self
                .contains
                .as_deref()
                .is_none_or(|t| entry.message.contains(t))
            && self.min_level.is_none_or(|l| entry.level >= l)
    }
}

/// An aggregated query (CloudWatch Logs Insights syntax).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AggregateQuery {
    /// Where to read.
    pub scope: LogScope,
    /// The time range.
    pub range: TimeRange,
    /// The query text.
    pub query: String,
    /// At most this many rows.
    pub limit: Option<usize>,
}

/// The runbook's "find errors in the last hour" Logs Insights query.
pub const INSIGHTS_ERRORS: &str = "fields @timestamp, @message\n| filter @message like /ERROR/\n| sort @timestamp desc\n| limit 100";

impl AggregateQuery {
    /// A query over `scope` and `range`.
    pub fn new(scope: LogScope, range: TimeRange, query: impl Into<String>) -> Self {
        AggregateQuery {
            scope,
            range,
            query: query.into(),
            limit: None,
        }
    }

    /// The runbook's error query over the last hour.
    pub fn errors_last_hour(scope: LogScope, now: DateTime<Utc>) -> Self {
        Self::new(
            scope,
            TimeRange::last(Duration::from_secs(3600), now),
            INSIGHTS_ERRORS,
        )
    }

    /// The runbook's response time analysis for one endpoint
    /// (`stats avg(duration_ms), max(duration_ms), min(duration_ms)`).
    ///
    /// The endpoint is quoted for the query language; a `"` or `\` in it is rejected.
    pub fn response_time_stats(scope: LogScope, range: TimeRange, endpoint: &str) -> Result<Self> {
        if endpoint.contains(['"', '\\', '\n']) {
            return Err(Error::invalid_input(
                "endpoint must not contain quotes, backslashes or newlines",
            ));
        }
        Ok(Self::new(
            scope,
            range,
            format!(
                "fields @timestamp, duration_ms\n| filter endpoint = \"{endpoint}\"\n| stats avg(duration_ms), max(duration_ms), min(duration_ms)"
            ),
        ))
    }
}

/// Rows of an aggregated query, each a field -> value map.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AggregateResult {
    /// The rows.
    pub rows: Vec<BTreeMap<String, String>>,
    /// Records the backend scanned, when it says.
    pub records_scanned: Option<f64>,
}

/// What a log source supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogCapabilities {
    /// [`LogSource::aggregate`] works.
    pub aggregate: bool,
    /// Build logs exist apart from runtime logs.
    pub build_logs: bool,
}

impl LogCapabilities {
    /// Set both capabilities.
    pub fn new(aggregate: bool, build_logs: bool) -> Self {
        LogCapabilities {
            aggregate,
            build_logs,
        }
    }
}

/// A stream of log lines.
pub type LogStream = BoxStream<'static, Result<LogEntry>>;

/// Read a whole [`LogStream`] into a vector, stopping at the first error.
pub async fn collect_logs(stream: LogStream) -> Result<Vec<LogEntry>> {
    use futures::TryStreamExt;
    stream.try_collect().await
}

/// A source of logs (CloudWatch Logs, Railway logs, the simulator's log stream).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait LogSource: Send + Sync + Debug + 'static {
    /// What this source supports.
    fn capabilities(&self) -> LogCapabilities;

    /// Lines matching `query`, oldest first.
    async fn query(&self, query: &LogQuery) -> Result<LogStream>;

    /// An aggregated query, where supported.
    async fn aggregate(&self, query: &AggregateQuery) -> Result<AggregateResult> {
        let _ = query;
        Err(Error::unsupported("aggregate", "this log source"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_follow_the_runbook() {
        let now = DateTime::<Utc>::from_timestamp(10_000, 0).unwrap();
        let q = LogQuery::errors_last_hour(LogScope::group("/aws/ecs/app"), now);
        assert_eq!(q.range.duration(), Duration::from_secs(3600));
        assert_eq!(q.limit, Some(100));
        let a =
            AggregateQuery::response_time_stats(LogScope::group("g"), q.range, "/api/v1/orders")
                .unwrap();
        assert!(a.query.contains("filter endpoint = \"/api/v1/orders\""));
        assert!(
            AggregateQuery::response_time_stats(LogScope::group("g"), q.range, "a\"b").is_err()
        );
    }

    #[test]
    fn matches_filters() {
        let now = DateTime::<Utc>::from_timestamp(10_000, 0).unwrap();
        let q = LogQuery::new(
            LogScope::default(),
            TimeRange::last(Duration::from_secs(60), now),
        )
        .with_contains("ERROR")
        .with_min_level(LogLevel::Warn);
        let mut e = LogEntry {
            timestamp: now - chrono::Duration::seconds(5),
            level: LogLevel::Error,
            message: "ERROR boom".into(),
            source: None,
            attributes: BTreeMap::new(),
        };
        assert!(q.matches(&e));
        e.level = LogLevel::Info;
        assert!(!q.matches(&e));
        e.level = LogLevel::Error;
        e.timestamp = now;
        assert!(!q.matches(&e));
        assert_eq!(LogLevel::parse_lenient("err"), LogLevel::Error);
    }
}
