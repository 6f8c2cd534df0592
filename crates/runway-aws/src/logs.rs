//! CloudWatch Logs as a [`LogSource`]: FilterLogEvents for lines, Logs Insights for aggregates.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::Client;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use runway_core::{
    AggregateQuery, AggregateResult, Error, Idempotency, LogCapabilities, LogEntry, LogLevel,
    LogQuery, LogSource, LogStream, RetryPolicy, TimeRange,
};

use crate::config::AwsConfig;
use crate::error::map_sdk_error;
use crate::insights::{InsightsPage, InsightsPoll, drive};

/// The most rows one Insights query may return (a StartQuery limit).
pub const INSIGHTS_MAX_LIMIT: usize = 100_000;

/// CloudWatch Logs: [`LogSource::query`] through FilterLogEvents (times in milliseconds, paged with
/// `nextToken`, empty pages followed), [`LogSource::aggregate`] through Logs Insights (StartQuery times in
/// seconds, GetQueryResults polled to a final status, paged).
///
/// The log group comes from [`LogScope::group`](runway_core::LogScope::group), or the default group set
/// with [`CloudWatchLogs::with_default_group`].
#[derive(Debug, Clone)]
pub struct CloudWatchLogs {
    client: Client,
    retry: RetryPolicy,
    default_group: Option<String>,
    page_size: i32,
    poll_interval: Duration,
    max_poll_interval: Duration,
    query_deadline: Duration,
}

impl CloudWatchLogs {
    /// A client from `config`.
    pub fn new(config: &AwsConfig) -> Self {
        CloudWatchLogs {
            client: Client::new(config.sdk_config()),
            retry: config.retry.clone(),
            default_group: None,
            page_size: 10_000,
            poll_interval: Duration::from_secs(1),
            max_poll_interval: Duration::from_secs(5),
            // The service stops queries after 60 minutes.
            query_deadline: Duration::from_secs(61 * 60),
        }
    }

    /// The group used when a query's scope names none (`/aws/ecs/yourapp-production`).
    #[must_use]
    pub fn with_default_group(mut self, group: impl Into<String>) -> Self {
        self.default_group = Some(group.into());
        self
    }

    /// Events per FilterLogEvents page (1 to 10,000).
    #[must_use]
    pub fn with_page_size(mut self, n: usize) -> Self {
        self.page_size = n.clamp(1, 10_000) as i32;
        self
    }

    /// Insights polling: first interval, largest interval, and how long to wait for a final status.
    #[must_use]
    pub fn with_polling(mut self, interval: Duration, max: Duration, deadline: Duration) -> Self {
        self.poll_interval = interval;
        self.max_poll_interval = max;
        self.query_deadline = deadline;
        self
    }

    /// The SDK client (to create groups, put events, or call what runway does not wrap).
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn group(&self, scope: &runway_core::LogScope) -> Result<String, Error> {
        scope
            .group
            .clone()
            .or_else(|| self.default_group.clone())
            .ok_or_else(|| {
                Error::invalid_input(
                    "CloudWatch Logs needs a log group: use LogScope::group or with_default_group",
                )
                .with_backend("aws")
            })
    }

    async fn filter_page(
        &self,
        group: &str,
        range: &TimeRange,
        pattern: Option<&str>,
        token: Option<String>,
    ) -> Result<(Vec<LogEntry>, Option<String>), Error> {
        let out = self
            .retry
            .run(Idempotency::Idempotent, || async {
                self.client
                    .filter_log_events()
                    .log_group_name(group)
                    .start_time(range.start.timestamp_millis())
                    // FilterLogEvents' end is inclusive; TimeRange's is exclusive.
                    .end_time(range.end.timestamp_millis() - 1)
                    .set_filter_pattern(pattern.map(str::to_owned))
                    .limit(self.page_size)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| map_sdk_error("logs.filter_log_events", e))
            })
            .await?;
        Ok((
            out.events()
                .iter()
                .map(|e| {
                    let message = e.message().unwrap_or_default().to_owned();
                    let mut attributes = BTreeMap::new();
                    if let Some(id) = e.event_id() {
                        attributes.insert("event_id".to_owned(), id.to_owned());
                    }
                    LogEntry {
                        timestamp: millis(e.timestamp().unwrap_or_default()),
                        level: detect_level(&message),
                        message,
                        source: e.log_stream_name().map(str::to_owned),
                        attributes,
                    }
                })
                .collect(),
            out.next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        ))
    }

    async fn get_results(
        &self,
        query_id: &str,
        token: Option<String>,
    ) -> Result<InsightsPage, Error> {
        let out = self
            .retry
            .run(Idempotency::Idempotent, || async {
                self.client
                    .get_query_results()
                    .query_id(query_id)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| map_sdk_error("logs.get_query_results", e))
            })
            .await?;
        let rows = out
            .results()
            .iter()
            .map(|row| {
                row.iter()
                    .map(|f| (f.field().map(str::to_owned), f.value().map(str::to_owned)))
                    .collect()
            })
            .collect();
        Ok(InsightsPage::from_parts(
            out.status().map_or("Unknown", |s| s.as_str()),
            rows,
            out.statistics().map(|s| s.records_scanned()),
            out.next_token().map(str::to_owned),
        ))
    }
}

/// A FilterLogEvents pattern matching `text` as a phrase.
pub fn filter_pattern(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The level of a log line: a JSON `level`/`severity` field, else the first level word in the line.
pub fn detect_level(message: &str) -> LogLevel {
    if message.trim_start().starts_with('{')
        && let Ok(serde_json::Value::Object(map)) = serde_json::from_str(message)
        && let Some(serde_json::Value::String(l)) = map
            .get("level")
            .or_else(|| map.get("severity"))
            .or_else(|| map.get("levelname"))
    {
        return LogLevel::parse_lenient(l);
    }
    for word in message
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .take(8)
    {
        match word {
            "ERROR" | "FATAL" | "CRITICAL" => return LogLevel::Error,
            "WARN" | "WARNING" => return LogLevel::Warn,
            "INFO" => return LogLevel::Info,
            "DEBUG" | "TRACE" => return LogLevel::Debug,
            _ => {}
        }
    }
    LogLevel::Info
}

fn millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[async_trait]
impl LogSource for CloudWatchLogs {
    fn capabilities(&self) -> LogCapabilities {
        LogCapabilities::new(true, false)
    }

    async fn query(&self, query: &LogQuery) -> runway_core::Result<LogStream> {
        let group = self.group(&query.scope)?;
        let pattern = query.contains.as_deref().map(filter_pattern);
        let query = query.clone();
        match query.limit {
            // Newest `limit` lines: read every page, keep a bounded tail.
            Some(limit) => {
                let mut tail: VecDeque<LogEntry> = VecDeque::with_capacity(limit.min(10_000));
                let mut token = None;
                loop {
                    let (entries, next) = self
                        .filter_page(&group, &query.range, pattern.as_deref(), token)
                        .await?;
                    for e in entries.into_iter().filter(|e| query.matches(e)) {
                        if tail.len() == limit {
                            tail.pop_front();
                        }
                        if limit > 0 {
                            tail.push_back(e);
                        }
                    }
                    match next {
                        Some(t) => token = Some(t),
                        None => break,
                    }
                }
                Ok(futures::stream::iter(tail.into_iter().map(Ok)).boxed())
            }
            // Everything: stream page by page.
            None => {
                let this = self.clone();
                let stream = futures::stream::try_unfold(
                    (Some(None::<String>), this, group, pattern, query),
                    |(token, this, group, pattern, query)| async move {
                        let Some(token) = token else {
                            return Ok::<_, Error>(None);
                        };
                        let (entries, next) = this
                            .filter_page(&group, &query.range, pattern.as_deref(), token)
                            .await?;
                        let entries: Vec<runway_core::Result<LogEntry>> = entries
                            .into_iter()
                            .filter(|e| query.matches(e))
                            .map(Ok)
                            .collect();
                        Ok::<_, Error>(Some((
                            futures::stream::iter(entries),
                            (next.map(Some), this, group, pattern, query),
                        )))
                    },
                )
                .try_flatten();
                Ok(stream.boxed())
            }
        }
    }

    async fn aggregate(&self, query: &AggregateQuery) -> runway_core::Result<AggregateResult> {
        let group = self.group(&query.scope)?;
        let limit = query.limit.unwrap_or(10_000).clamp(1, INSIGHTS_MAX_LIMIT);
        let start_secs = query.range.start.timestamp();
        // StartQuery's end is inclusive, in seconds.
        let end_secs = (query.range.end.timestamp_millis() - 1).div_euclid(1000);
        let started = tokio::time::Instant::now();
        let query_id = self
            .retry
            .run(Idempotency::Idempotent, || async {
                self.client
                    .start_query()
                    .log_group_name(&group)
                    .start_time(start_secs)
                    .end_time(end_secs.max(start_secs))
                    .query_string(&query.query)
                    .limit(limit as i32)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error("logs.start_query", e))
            })
            .await?
            .query_id()
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::provider("StartQuery returned no query id").with_backend("aws")
            })?;
        tracing::debug!(target: "runway_aws", %query_id, %group, "insights query started");
        let poll = InsightsPoll::new(
            query_id.clone(),
            self.poll_interval,
            self.max_poll_interval,
            self.query_deadline,
            limit,
        );
        let result = drive(poll, started, |token| self.get_results(&query_id, token)).await;
        if let Err(e) = &result
            && e.kind() == &runway_core::ErrorKind::Timeout
        {
            // Best effort: free the concurrent-query slot.
            let _ = self.client.stop_query().query_id(&query_id).send().await;
        }
        result
    }
}
