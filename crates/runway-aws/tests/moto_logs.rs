//! CloudWatch Logs against moto: FilterLogEvents paging and filtering, and a Logs Insights round trip.

mod common;

use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use chrono::Utc;
use futures::TryStreamExt;
use runway_aws::CloudWatchLogs;
use runway_core::{AggregateQuery, ErrorKind, LogLevel, LogQuery, LogScope, LogSource, TimeRange};
use runway_testkit::MotoServer;

async fn seeded(logs: &CloudWatchLogs, group: &str, n: usize) {
    let c = logs.client();
    c.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    c.create_log_stream()
        .log_group_name(group)
        .log_stream_name("api-1")
        .send()
        .await
        .unwrap();
    let base = Utc::now().timestamp_millis() - 30 * 60 * 1000;
    let events: Vec<InputLogEvent> = (0..n)
        .map(|i| {
            let msg = if i % 3 == 0 {
                format!("ERROR request {i} failed")
            } else {
                format!("INFO request {i} ok duration_ms={}", 100 + i)
            };
            InputLogEvent::builder()
                .timestamp(base + i as i64 * 1000)
                .message(msg)
                .build()
                .unwrap()
        })
        .collect();
    c.put_log_events()
        .log_group_name(group)
        .log_stream_name("api-1")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn filter_log_events_pages_and_filters() {
    let moto = MotoServer::start();
    let logs = CloudWatchLogs::new(&common::config(&moto).await).with_page_size(4);
    let group = format!("/aws/ecs/{}", common::unique("prod"));
    seeded(&logs, &group, 30).await;

    let scope = LogScope::group(&group);
    let all: Vec<_> = logs
        .query(&LogQuery::new(
            scope.clone(),
            TimeRange::last(Duration::from_secs(3600), Utc::now()),
        ))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 30, "every page was followed");
    assert!(
        all.windows(2).all(|w| w[0].timestamp <= w[1].timestamp),
        "oldest first"
    );
    assert_eq!(all[0].source.as_deref(), Some("api-1"));

    let errors: Vec<_> = logs
        .query(&LogQuery::errors_last_hour(scope.clone(), Utc::now()))
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(errors.len(), 10);
    assert!(
        errors
            .iter()
            .all(|e| e.message.contains("ERROR") && e.level == LogLevel::Error)
    );

    let newest: Vec<_> = logs
        .query(
            &LogQuery::new(
                scope,
                TimeRange::last(Duration::from_secs(3600), Utc::now()),
            )
            .with_limit(5),
        )
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(newest.len(), 5);
    assert!(
        newest.last().unwrap().message.contains("request 29"),
        "the newest lines, newest last"
    );

    let missing = logs
        .query(&LogQuery::new(
            LogScope::group("/nope/missing"),
            TimeRange::last(Duration::from_secs(60), Utc::now()),
        ))
        .await;
    match missing {
        Err(e) => assert_eq!(e.kind(), &ErrorKind::NotFound),
        Ok(s) => {
            let r: Result<Vec<_>, _> = s.try_collect().await;
            assert_eq!(r.unwrap_err().kind(), &ErrorKind::NotFound);
        }
    }
    let no_group = logs
        .query(&LogQuery::new(
            LogScope::default(),
            TimeRange::last(Duration::from_secs(60), Utc::now()),
        ))
        .await;
    assert_eq!(no_group.err().unwrap().kind(), &ErrorKind::InvalidInput);
}

#[tokio::test]
async fn insights_query_round_trip() {
    let moto = MotoServer::start();
    let logs = CloudWatchLogs::new(&common::config(&moto).await).with_polling(
        Duration::from_millis(50),
        Duration::from_millis(200),
        Duration::from_secs(30),
    );
    let group = format!("/aws/ecs/{}", common::unique("prod"));
    seeded(&logs, &group, 12).await;
    let scope = LogScope::group(&group);

    let result = logs
        .aggregate(&AggregateQuery::errors_last_hour(scope.clone(), Utc::now()))
        .await
        .unwrap();
    // moto runs the query without evaluating it: the request, polling and decoding are what is tested.
    assert!(!result.rows.is_empty());
    assert!(
        result
            .rows
            .iter()
            .all(|r| r.contains_key("@message") && !r.contains_key("@ptr"))
    );
    assert!(
        result
            .rows
            .iter()
            .any(|r| r["@message"].contains("ERROR request 0"))
    );

    let stats = AggregateQuery::response_time_stats(
        scope,
        TimeRange::last(Duration::from_secs(3600), Utc::now()),
        "/api/v1/orders",
    )
    .unwrap();
    assert!(logs.aggregate(&stats).await.is_ok());

    let missing = logs
        .aggregate(&AggregateQuery::errors_last_hour(
            LogScope::group("/nope/missing"),
            Utc::now(),
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), &ErrorKind::NotFound);
}
