//! The [`LogSource`] conformance suite.

use std::sync::Arc;

use futures::TryStreamExt;
use runway_core::{AggregateQuery, ErrorKind, LogEntry, LogQuery, LogScope, LogSource, TimeRange};

/// What the logs suite needs from a backend: a scope and range that hold at least three lines, at least one
/// of which contains `marker`, and at least one of which does not.
#[derive(Debug, Clone)]
pub struct LogsFixture {
    /// The backend under test.
    pub source: Arc<dyn LogSource>,
    /// Where the lines are.
    pub scope: LogScope,
    /// When they were written.
    pub range: TimeRange,
    /// Text found in some lines but not all.
    pub marker: String,
}

impl LogsFixture {
    /// A fixture.
    pub fn new(
        source: Arc<dyn LogSource>,
        scope: LogScope,
        range: TimeRange,
        marker: impl Into<String>,
    ) -> Self {
        LogsFixture {
            source,
            scope,
            range,
            marker: marker.into(),
        }
    }

    async fn run(&self, q: &LogQuery) -> Vec<LogEntry> {
        self.source
            .query(q)
            .await
            .expect("query")
            .try_collect()
            .await
            .expect("stream")
    }
}

/// Every line lies in the range, oldest first.
pub async fn lines_are_in_range_and_ordered(fx: &LogsFixture) {
    let lines = fx.run(&LogQuery::new(fx.scope.clone(), fx.range)).await;
    assert!(
        lines.len() >= 3,
        "fixture promised at least 3 lines, got {}",
        lines.len()
    );
    assert!(
        lines.iter().all(|l| fx.range.contains(l.timestamp)),
        "a line outside the range"
    );
    assert!(
        lines.windows(2).all(|w| w[0].timestamp <= w[1].timestamp),
        "lines not oldest first"
    );
}

/// A limit keeps the newest lines.
pub async fn limit_keeps_newest(fx: &LogsFixture) {
    let all = fx.run(&LogQuery::new(fx.scope.clone(), fx.range)).await;
    let two = fx
        .run(&LogQuery::new(fx.scope.clone(), fx.range).with_limit(2))
        .await;
    assert_eq!(two.len(), 2);
    assert_eq!(
        two.last().map(|l| l.timestamp),
        all.last().map(|l| l.timestamp),
        "limit dropped the newest line"
    );
}

/// The text filter keeps exactly the matching lines.
pub async fn contains_filter_applies(fx: &LogsFixture) {
    let all = fx.run(&LogQuery::new(fx.scope.clone(), fx.range)).await;
    let hits = fx
        .run(&LogQuery::new(fx.scope.clone(), fx.range).with_contains(fx.marker.clone()))
        .await;
    assert!(
        !hits.is_empty(),
        "no line contains the marker {:?}",
        fx.marker
    );
    assert!(hits.iter().all(|l| l.message.contains(&fx.marker)));
    assert!(
        hits.len() < all.len(),
        "fixture promised lines without the marker"
    );
}

/// `aggregate` answers when the source claims it, and is `Unsupported` otherwise.
pub async fn aggregate_or_unsupported(fx: &LogsFixture) {
    let q = AggregateQuery::new(fx.scope.clone(), fx.range, runway_core::INSIGHTS_ERRORS);
    let res = fx.source.aggregate(&q).await;
    if fx.source.capabilities().aggregate {
        res.expect("aggregate");
    } else {
        assert_eq!(res.unwrap_err().kind(), &ErrorKind::Unsupported);
    }
}
