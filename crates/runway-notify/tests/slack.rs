//! The Slack notifier against a local webhook answering 200 ok, 400, 404, 410, 429 and 5xx.

use std::time::Duration;

use runway_core::{
    ErrorKind, Notification, NotificationKind, Notifier, Release, RetryPolicy, RollbackStatus,
};
use runway_notify::{NotifyError, SlackError, SlackNotifier};
use secrecy::SecretString;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOOK: &str = "/services/T000/B000/XXXXSECRETXXXX";

fn started() -> Notification {
    Notification::new(
        NotificationKind::Started,
        "production".into(),
        "Production",
        Release::new("v1.1")
            .with_message("feat(webhooks): add subscription endpoints")
            .with_author("john-doe"),
    )
    .with_link("View Logs", "https://logs.example.invalid/x")
}

fn notifier(server: &MockServer) -> SlackNotifier {
    SlackNotifier::builder()
        .with_webhook(SecretString::from(format!("{}{HOOK}", server.uri())))
        .allow_http(true)
        .with_retry(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(10))
                .with_jitter(false)
                .with_max_retries(3),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn ok_is_delivered_with_blocks_and_fallback() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK))
        .and(header("content-type", "application/json"))
        .and(body_partial_json(serde_json::json!({
            "text": "🚀 Deployment Started\nEnvironment: Production\nCommit: feat(webhooks): add subscription endpoints\nAuthor: @john-doe\nStatus: Building..."
        })))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    notifier(&server).notify(&started()).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&reqs[0].body).unwrap();
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["text"], "🚀 Deployment Started");
    assert_eq!(blocks.last().unwrap()["type"], "actions");
    assert_eq!(
        blocks.last().unwrap()["elements"][0]["url"],
        "https://logs.example.invalid/x"
    );
}

#[tokio::test]
async fn success_and_failure_messages_follow_the_runbook() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let n = notifier(&server);
    let base = started();
    let mut ok = base.clone();
    ok.kind = NotificationKind::Succeeded;
    n.notify(
        &ok.with_duration(Duration::from_secs(222))
            .with_health("Passed"),
    )
    .await
    .unwrap();
    let mut failed = base.clone();
    failed.kind = NotificationKind::Failed;
    n.notify(
        &failed
            .with_error("Health check failed")
            .with_rollback(RollbackStatus::Automatic),
    )
    .await
    .unwrap();
    let reqs = server.received_requests().await.unwrap();
    let texts: Vec<String> = reqs
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        texts[0],
        "✅ Deployment Successful\nEnvironment: Production\nDuration: 3m 42s\nHealth Check: Passed"
    );
    assert_eq!(
        texts[1],
        "❌ Deployment Failed\nEnvironment: Production\nError: Health check failed\nRollback: Automatic"
    );
}

async fn answer(status: u16, body: &str) -> (NotifyError, usize) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    let err = notifier(&server)
        .send(&runway_notify::SlackMessage::render(&started()))
        .await
        .unwrap_err();
    let calls = server.received_requests().await.unwrap().len();
    (err, calls)
}

#[tokio::test]
async fn bad_request_is_permanent_and_typed() {
    let (err, calls) = answer(400, "invalid_payload").await;
    assert_eq!(err, NotifyError::Slack(SlackError::InvalidPayload));
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(calls, 1, "400 is not retried");
}

#[tokio::test]
async fn not_found_and_gone_are_permanent() {
    let (err, calls) = answer(404, "no_service").await;
    assert_eq!(err, NotifyError::Slack(SlackError::NoService));
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(calls, 1);
    let (err, _) = answer(404, "channel_not_found").await;
    assert_eq!(err, NotifyError::Slack(SlackError::ChannelNotFound));
    let (err, calls) = answer(410, "channel_is_archived").await;
    assert_eq!(err, NotifyError::Slack(SlackError::ChannelIsArchived));
    assert_eq!(calls, 1);
    let (err, _) = answer(403, "action_prohibited").await;
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
}

#[tokio::test]
async fn ok_status_without_ok_body_is_an_error() {
    let (err, _) = answer(200, "{\"ok\":false}").await;
    assert_eq!(
        err,
        NotifyError::Slack(SlackError::Unexpected { status: 200 })
    );
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_delivers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string("{\"ok\":false,\"error\":\"rate_limited\"}"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let start = std::time::Instant::now();
    notifier(&server).notify(&started()).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn persistent_rate_limit_gives_up_with_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .mount(&server)
        .await;
    let err = notifier(&server)
        .send(&runway_notify::SlackMessage::render(&started()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, NotifyError::GaveUp { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(matches!(
        err.root(),
        NotifyError::Slack(SlackError::RateLimited { .. })
    ));
    let core = err.into_core("slack");
    assert_eq!(core.attempts(), 4);
    assert!(matches!(core.kind(), ErrorKind::RateLimited { .. }));
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("rollup_error"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    notifier(&server).notify(&started()).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn webhook_url_never_leaks() {
    // Nothing listens on this port: a transport error.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let n = SlackNotifier::builder()
        .with_webhook(SecretString::from(format!("http://127.0.0.1:{port}{HOOK}")))
        .allow_http(true)
        .with_retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = n.notify(&started()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    for text in [format!("{err}"), format!("{err:?}"), format!("{n:?}")] {
        assert!(!text.contains("XXXXSECRETXXXX"), "{text}");
    }
    let bad = SlackNotifier::builder()
        .with_webhook(SecretString::from(
            "http://hooks.example.invalid/XXXXSECRETXXXX".to_owned(),
        ))
        .build()
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidInput);
    assert!(!bad.to_string().contains("XXXXSECRETXXXX"));
}
