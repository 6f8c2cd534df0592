//! The generic JSON webhook and the console notifier.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runway_core::{ErrorKind, Notification, NotificationKind, Notifier, Release, RetryPolicy};
use runway_notify::{ConsoleNotifier, NotifyError, WebhookNotifier};
use secrecy::SecretString;
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn succeeded() -> Notification {
    Notification::new(
        NotificationKind::Succeeded,
        "staging".into(),
        "Staging",
        Release::new("v9"),
    )
    .with_duration(Duration::from_secs(42))
    .with_link("View Application", "https://staging.example.invalid")
}

#[tokio::test]
async fn webhook_posts_json_with_bearer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("authorization", "Bearer tok-123"))
        .and(header("x-team", "platform"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let n = WebhookNotifier::builder()
        .with_url(SecretString::from(format!("{}/hook", server.uri())))
        .with_bearer_token(SecretString::from("tok-123"))
        .with_header("x-team", "platform")
        .build()
        .unwrap();
    assert!(!format!("{n:?}").contains("tok-123"));
    n.notify(&succeeded()).await.unwrap();
    let body: serde_json::Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(body["version"], 1);
    assert_eq!(body["notification"]["kind"], "succeeded");
    assert_eq!(body["notification"]["environment_name"], "Staging");
    assert!(body["text"].as_str().unwrap().contains("Duration: 42s"));
}

#[tokio::test]
async fn webhook_maps_statuses() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let n = WebhookNotifier::builder()
        .with_url(SecretString::from(server.uri()))
        .with_retry(RetryPolicy::default().with_initial_backoff(Duration::from_millis(5)))
        .build()
        .unwrap();
    let err = n.send(&succeeded()).await.unwrap_err();
    assert_eq!(
        err,
        NotifyError::Http {
            status: 401,
            retry_after: None
        }
    );
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);
impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn console_prints_the_runbook_format() {
    let buf = Buf::default();
    let c = ConsoleNotifier::to_writer(buf.clone());
    c.notify(&succeeded()).await.unwrap();
    let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        out,
        "✅ Deployment Successful\nEnvironment: Staging\nDuration: 42s\nHealth Check: Passed\n\n[View Application] https://staging.example.invalid\n\n"
    );
}

#[tokio::test]
async fn multi_notifier_tries_every_notifier() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let failing = WebhookNotifier::builder()
        .with_url(SecretString::from(server.uri()))
        .with_retry(RetryPolicy::none())
        .build()
        .unwrap();
    let buf = Buf::default();
    let multi = runway_notify::MultiNotifier::new()
        .with(std::sync::Arc::new(failing))
        .with(std::sync::Arc::new(ConsoleNotifier::to_writer(buf.clone())));
    let err = multi.notify(&succeeded()).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Unavailable);
    assert!(
        !buf.0.lock().unwrap().is_empty(),
        "the console still got the message"
    );
}
