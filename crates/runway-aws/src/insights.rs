//! Logs Insights polling as a pure state machine, and the decoder of `GetQueryResults` answers.
//!
//! [`InsightsPoll::step`] takes one decoded page ([`InsightsPage`]) and the time spent so far and says what
//! to do next ([`PollAction`]): wait and poll again while the query is `Scheduled`/`Running`, fetch the next
//! page of a `Complete` query, or stop. The async driver in [`CloudWatchLogs`](crate::CloudWatchLogs)
//! only performs those actions with `tokio::time`.

use std::collections::BTreeMap;
use std::time::Duration;

use runway_core::{AggregateResult, Error};
use serde::Deserialize;

/// A query's status, as GetQueryResults reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryState {
    /// Queued.
    Scheduled,
    /// Running; rows so far are partial.
    Running,
    /// Finished; rows are final.
    Complete,
    /// Failed on the service side.
    Failed,
    /// Cancelled (StopQuery).
    Cancelled,
    /// Ran past the service's limit (60 minutes).
    Timeout,
    /// A status this client does not know (`Unknown` on the wire, or a new value).
    Unknown(String),
}

impl QueryState {
    /// From the wire value (`"Complete"`, ...).
    pub fn parse(s: &str) -> Self {
        match s {
            "Scheduled" => QueryState::Scheduled,
            "Running" => QueryState::Running,
            "Complete" => QueryState::Complete,
            "Failed" => QueryState::Failed,
            "Cancelled" => QueryState::Cancelled,
            "Timeout" => QueryState::Timeout,
            other => QueryState::Unknown(other.chars().take(40).collect()),
        }
    }

    /// Whether polling again can change the answer.
    pub fn is_final(&self) -> bool {
        !matches!(self, QueryState::Scheduled | QueryState::Running)
    }
}

/// One decoded GetQueryResults answer.
#[derive(Debug, Clone, PartialEq)]
pub struct InsightsPage {
    /// Status.
    pub state: QueryState,
    /// Rows as field -> value (the internal `@ptr` field is dropped).
    pub rows: Vec<BTreeMap<String, String>>,
    /// Records scanned so far.
    pub records_scanned: Option<f64>,
    /// Token for the next page of a complete query.
    pub next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireField {
    field: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStats {
    records_scanned: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePage {
    status: Option<String>,
    #[serde(default)]
    results: Vec<Vec<WireField>>,
    statistics: Option<WireStats>,
    next_token: Option<String>,
}

impl InsightsPage {
    /// Decode the JSON body of a GetQueryResults answer (`{"status": .., "results": [[{"field", "value"}]],
    /// "statistics": {..}, "nextToken": ..}`). Never panics; malformed input is `InvalidInput`.
    ///
    /// ```
    /// use runway_aws::insights::{InsightsPage, QueryState};
    /// let p = InsightsPage::from_json(br#"{"status":"Complete","results":[[{"field":"@message","value":"ERROR x"},{"field":"@ptr","value":"p"}]]}"#).unwrap();
    /// assert_eq!(p.state, QueryState::Complete);
    /// assert_eq!(p.rows[0]["@message"], "ERROR x");
    /// assert!(!p.rows[0].contains_key("@ptr"));
    /// ```
    pub fn from_json(body: &[u8]) -> Result<InsightsPage, Error> {
        let wire: WirePage = serde_json::from_slice(body).map_err(|e| {
            Error::invalid_input(format!("malformed GetQueryResults answer: {e}"))
                .with_backend("aws")
                .with_operation("logs.get_query_results")
        })?;
        let status = wire.status.ok_or_else(|| {
            Error::invalid_input("GetQueryResults answer without a status")
                .with_backend("aws")
                .with_operation("logs.get_query_results")
        })?;
        Ok(InsightsPage::from_parts(
            &status,
            wire.results
                .into_iter()
                .map(|r| r.into_iter().map(|f| (f.field, f.value)).collect())
                .collect(),
            wire.statistics.and_then(|s| s.records_scanned),
            wire.next_token,
        ))
    }

    /// Build from already-split parts (what the SDK output gives).
    pub fn from_parts(
        status: &str,
        rows: Vec<Vec<(Option<String>, Option<String>)>>,
        records_scanned: Option<f64>,
        next_token: Option<String>,
    ) -> InsightsPage {
        let rows = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .filter_map(|(f, v)| Some((f?, v.unwrap_or_default())))
                    .filter(|(f, _)| f != "@ptr")
                    .collect::<BTreeMap<_, _>>()
            })
            .collect();
        InsightsPage {
            state: QueryState::parse(status),
            rows,
            records_scanned: records_scanned.filter(|f| f.is_finite()),
            next_token: next_token.filter(|t| !t.is_empty()),
        }
    }
}

/// What the driver should do next.
#[derive(Debug)]
pub enum PollAction {
    /// Sleep, then call GetQueryResults again (no token).
    Wait(Duration),
    /// Call GetQueryResults at once with this page token.
    FetchPage(String),
    /// Done: the rows are in [`InsightsPoll::into_result`].
    Done,
    /// The query ended badly, or ran past the deadline (then the driver stops it).
    Fail(Error),
}

impl PartialEq for PollAction {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PollAction::Wait(a), PollAction::Wait(b)) => a == b,
            (PollAction::FetchPage(a), PollAction::FetchPage(b)) => a == b,
            (PollAction::Done, PollAction::Done) => true,
            (PollAction::Fail(a), PollAction::Fail(b)) => {
                a.kind() == b.kind() && a.message() == b.message()
            }
            _ => false,
        }
    }
}

/// Polling state of one Insights query.
#[derive(Debug, Clone)]
pub struct InsightsPoll {
    query_id: String,
    interval: Duration,
    max_interval: Duration,
    deadline: Duration,
    max_rows: usize,
    rows: Vec<BTreeMap<String, String>>,
    records_scanned: Option<f64>,
    polls: u32,
}

impl InsightsPoll {
    /// Poll `query_id` every `interval` (growing 1.5x to `max_interval`) until `deadline`; keep at most
    /// `max_rows` rows.
    pub fn new(
        query_id: impl Into<String>,
        interval: Duration,
        max_interval: Duration,
        deadline: Duration,
        max_rows: usize,
    ) -> Self {
        InsightsPoll {
            query_id: query_id.into(),
            interval,
            max_interval: max_interval.max(interval),
            deadline,
            max_rows,
            rows: Vec::new(),
            records_scanned: None,
            polls: 0,
        }
    }

    /// The query id.
    pub fn query_id(&self) -> &str {
        &self.query_id
    }

    /// How many answers were taken.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Take one answer; `elapsed` is the time since the query started.
    pub fn step(&mut self, page: InsightsPage, elapsed: Duration) -> PollAction {
        self.polls += 1;
        let op = |e: Error| {
            e.with_backend("aws")
                .with_operation("logs.get_query_results")
        };
        match page.state {
            QueryState::Scheduled | QueryState::Running => {
                let wait = self.next_wait();
                if elapsed + wait > self.deadline {
                    PollAction::Fail(op(Error::timeout(format!(
                        "Insights query {} still running after {:?}",
                        self.query_id, elapsed
                    ))))
                } else {
                    PollAction::Wait(wait)
                }
            }
            QueryState::Complete => {
                let room = self.max_rows.saturating_sub(self.rows.len());
                self.rows.extend(page.rows.into_iter().take(room));
                if page.records_scanned.is_some() {
                    self.records_scanned = page.records_scanned;
                }
                match page.next_token {
                    Some(t) if self.rows.len() < self.max_rows => PollAction::FetchPage(t),
                    _ => PollAction::Done,
                }
            }
            QueryState::Timeout => PollAction::Fail(op(Error::timeout(format!(
                "Insights query {} timed out on the service",
                self.query_id
            )))),
            QueryState::Failed => PollAction::Fail(op(Error::provider(format!(
                "Insights query {} failed",
                self.query_id
            )))),
            QueryState::Cancelled => PollAction::Fail(op(Error::provider(format!(
                "Insights query {} was cancelled",
                self.query_id
            )))),
            QueryState::Unknown(s) => PollAction::Fail(op(Error::provider(format!(
                "Insights query {} ended with unknown status {s:?}",
                self.query_id
            )))),
        }
    }

    fn next_wait(&self) -> Duration {
        // polls counts the answer just taken: 1 -> interval, then x1.5 each time, capped.
        let factor = 1.5f64.powi(self.polls.saturating_sub(1).min(30) as i32);
        self.interval.mul_f64(factor).min(self.max_interval)
    }

    /// The collected rows.
    pub fn into_result(self) -> AggregateResult {
        AggregateResult {
            rows: self.rows,
            records_scanned: self.records_scanned,
        }
    }
}

/// Drive `poll` to its end: `fetch(token)` performs one GetQueryResults call (`None` re-polls, `Some`
/// fetches that page), [`PollAction::Wait`] sleeps on tokio time. `started` is when the query started.
pub async fn drive<F, Fut>(
    mut poll: InsightsPoll,
    started: tokio::time::Instant,
    mut fetch: F,
) -> Result<AggregateResult, Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<InsightsPage, Error>>,
{
    let mut token = None;
    loop {
        let page = fetch(token.take()).await?;
        match poll.step(page, started.elapsed()) {
            PollAction::Wait(d) => tokio::time::sleep(d).await,
            PollAction::FetchPage(t) => token = Some(t),
            PollAction::Done => return Ok(poll.into_result()),
            PollAction::Fail(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(state: &str, rows: usize, token: Option<&str>) -> InsightsPage {
        InsightsPage::from_parts(
            state,
            (0..rows)
                .map(|i| vec![(Some("@message".into()), Some(format!("m{i}")))])
                .collect(),
            Some(10.0),
            token.map(str::to_owned),
        )
    }

    #[test]
    fn waits_while_running_with_growing_interval() {
        let mut p = InsightsPoll::new(
            "q",
            Duration::from_secs(1),
            Duration::from_secs(2),
            Duration::from_secs(60),
            100,
        );
        assert_eq!(
            p.step(page("Scheduled", 0, None), Duration::ZERO),
            PollAction::Wait(Duration::from_secs(1))
        );
        assert_eq!(
            p.step(page("Running", 3, None), Duration::from_secs(1)),
            PollAction::Wait(Duration::from_millis(1500))
        );
        assert_eq!(
            p.step(page("Running", 3, None), Duration::from_secs(3)),
            PollAction::Wait(Duration::from_secs(2))
        );
        // partial rows of a running query are not kept
        assert_eq!(
            p.step(page("Complete", 2, Some("t1")), Duration::from_secs(5)),
            PollAction::FetchPage("t1".into())
        );
        assert_eq!(
            p.step(page("Complete", 2, None), Duration::from_secs(5)),
            PollAction::Done
        );
        let r = p.into_result();
        assert_eq!(r.rows.len(), 4);
        assert_eq!(r.records_scanned, Some(10.0));
    }

    #[test]
    fn deadline_and_bad_endings_fail_typed() {
        let mut p = InsightsPoll::new(
            "q",
            Duration::from_secs(1),
            Duration::from_secs(1),
            Duration::from_secs(10),
            100,
        );
        match p.step(page("Running", 0, None), Duration::from_secs(10)) {
            PollAction::Fail(e) => assert_eq!(e.kind(), &runway_core::ErrorKind::Timeout),
            other => panic!("{other:?}"),
        }
        for (s, kind) in [
            ("Timeout", runway_core::ErrorKind::Timeout),
            ("Failed", runway_core::ErrorKind::Provider),
            ("Cancelled", runway_core::ErrorKind::Provider),
            ("Unknown", runway_core::ErrorKind::Provider),
        ] {
            match p.step(page(s, 0, None), Duration::ZERO) {
                PollAction::Fail(e) => assert_eq!(e.kind(), &kind),
                other => panic!("{other:?}"),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn driver_polls_on_tokio_time_and_pages() {
        use std::collections::VecDeque;
        use std::sync::{Arc, Mutex};
        let script = Arc::new(Mutex::new(VecDeque::from([
            page("Scheduled", 0, None),
            page("Running", 1, None),
            page("Complete", 2, Some("t1")),
            page("Complete", 1, None),
        ])));
        let tokens = Arc::new(Mutex::new(Vec::new()));
        let start = tokio::time::Instant::now();
        let poll = InsightsPoll::new(
            "q",
            Duration::from_secs(1),
            Duration::from_secs(5),
            Duration::from_secs(60),
            100,
        );
        let (s, t) = (script.clone(), tokens.clone());
        let result = drive(poll, start, move |token| {
            t.lock().unwrap().push(token);
            let next = s.lock().unwrap().pop_front();
            async move { next.ok_or_else(|| Error::provider("script ran out")) }
        })
        .await
        .unwrap();
        assert_eq!(result.rows.len(), 3);
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(2500),
            "waited 1 s then 1.5 s"
        );
        assert_eq!(
            *tokens.lock().unwrap(),
            [None, None, None, Some("t1".to_owned())]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn driver_gives_up_at_the_deadline() {
        let start = tokio::time::Instant::now();
        let poll = InsightsPoll::new(
            "q",
            Duration::from_secs(1),
            Duration::from_secs(4),
            Duration::from_secs(20),
            100,
        );
        let err = drive(poll, start, |_| async { Ok(page("Running", 0, None)) })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &runway_core::ErrorKind::Timeout);
        assert!(start.elapsed() <= Duration::from_secs(20));
        assert!(start.elapsed() >= Duration::from_secs(15));
    }

    #[test]
    fn row_cap_stops_paging() {
        let mut p = InsightsPoll::new(
            "q",
            Duration::from_secs(1),
            Duration::from_secs(1),
            Duration::from_secs(10),
            3,
        );
        assert_eq!(
            p.step(page("Complete", 5, Some("t")), Duration::ZERO),
            PollAction::Done
        );
        assert_eq!(p.into_result().rows.len(), 3);
    }
}
