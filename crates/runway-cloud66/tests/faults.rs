//! Fault handling: 503 throttled, 429, 5xx, timeouts, malformed JSON and the error envelope.

mod common;

use std::time::Duration;

use runway_cloud66::{Cloud66Client, Cloud66Error};
use runway_core::{ErrorKind, Platform, RetryPolicy, SetOptions, VariableScope, VariableStore};
use runway_testkit::fake_cloud66::{FakeCloud66, Fault, STAGING, TOKEN};
use secrecy::SecretString;

fn no_retry(fake: &FakeCloud66) -> Cloud66Client {
    Cloud66Client::builder()
        .with_token(TOKEN)
        .with_base_url(fake.base_url())
        .with_retry(RetryPolicy::none())
        .with_timeout(Duration::from_secs(5))
        .with_polling(Duration::from_millis(500), Duration::from_secs(5))
        .build()
        .unwrap()
}

fn source(e: &runway_core::Error) -> &Cloud66Error {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<Cloud66Error>())
        .expect("cloud66 errors carry their Cloud66Error")
}

#[tokio::test(start_paused = true)]
async fn throttled_503_is_rate_limiting_and_retried() {
    let fake = FakeCloud66::start().await;
    let e = no_retry(&fake);
    fake.push_fault(Fault::Throttled);
    let err = e.environments().await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }), "{err}");
    assert!(err.is_retryable());
    match source(&err) {
        Cloud66Error::Http { status, error, .. } => {
            assert_eq!(*status, 503);
            assert_eq!(error.as_deref(), Some("throttled"));
        }
        other => panic!("{other:?}"),
    }
    let c = common::client(&fake);
    fake.push_fault(Fault::Throttled);
    fake.push_fault(Fault::Error(429, "too_many_requests"));
    assert_eq!(c.environments().await.unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn not_implemented_503_is_unsupported_and_not_retried() {
    let fake = FakeCloud66::start().await;
    let c = common::client(&fake);
    fake.push_fault(Fault::Error(503, "not_implemented"));
    let e = c.environments().await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unsupported);
    assert_eq!(e.attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn server_errors_retry_then_report_attempts() {
    let fake = FakeCloud66::start().await;
    let c = common::client(&fake);
    fake.push_fault(Fault::Status(502));
    assert_eq!(c.environments().await.unwrap().len(), 2);
    for _ in 0..10 {
        fake.push_fault(Fault::Status(500));
    }
    let e = c.environments().await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unavailable);
    assert_eq!(e.attempts(), 5);
}

#[tokio::test(start_paused = true)]
async fn envelope_errors_map_by_status_and_id() {
    let fake = FakeCloud66::start().await;
    let c = no_retry(&fake);
    for (status, id, kind) in [
        (401, "unauthenticated", ErrorKind::Unauthenticated),
        (402, "trial_expired", ErrorKind::PermissionDenied),
        (403, "forbidden", ErrorKind::PermissionDenied),
        (404, "not_found", ErrorKind::NotFound),
        (408, "time_out", ErrorKind::Timeout),
        (409, "conflict", ErrorKind::Conflict),
        (400, "bad_request", ErrorKind::InvalidInput),
    ] {
        fake.push_fault(Fault::Error(status, id));
        let e = c.environments().await.unwrap_err();
        assert_eq!(e.kind(), &kind, "{status} {id}");
        assert!(e.to_string().contains(id), "{e}");
    }
    let bad = Cloud66Client::builder()
        .with_token("wrong")
        .with_base_url(fake.base_url())
        .with_retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(
        bad.environments().await.unwrap_err().kind(),
        &ErrorKind::Unauthenticated
    );
    assert_eq!(
        c.stack("nope").await.unwrap_err().kind(),
        &ErrorKind::NotFound
    );
}

#[tokio::test(start_paused = true)]
async fn timeouts_and_malformed_bodies() {
    let fake = FakeCloud66::start().await;
    let c = no_retry(&fake);
    fake.push_fault(Fault::Delay(Duration::from_secs(60)));
    assert_eq!(
        c.environments().await.unwrap_err().kind(),
        &ErrorKind::Timeout
    );
    fake.push_fault(Fault::MalformedBody);
    let e = c.environments().await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(matches!(source(&e), Cloud66Error::Decode { .. }));
    // A redeploy is not idempotent: its timeout is not retried.
    let c = common::client(&fake);
    fake.push_fault(Fault::Pass); // the deployments listing before the POST
    fake.push_fault(Fault::Delay(Duration::from_secs(60)));
    let e = c
        .deploy(
            &STAGING.into(),
            &runway_core::Release::new("v5"),
            &Default::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Timeout);
    assert_eq!(
        fake.count("POST", "/api/3/stacks/stk-staging/deployments.json"),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn secrets_stay_out_of_errors_and_debug() {
    let fake = FakeCloud66::start().await;
    let c = no_retry(&fake);
    assert!(!format!("{c:?}").contains(TOKEN));
    fake.push_fault(Fault::Error(400, "bad_request"));
    let e = c
        .set(
            &VariableScope::environment(STAGING),
            "DB_PASSWORD",
            SecretString::from("hunter2-c66"),
            &SetOptions::default(),
        )
        .await
        .unwrap_err();
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(
            !text.contains("hunter2-c66") && !text.contains(TOKEN),
            "{text}"
        );
    }
    let listed = c.list(&VariableScope::environment(STAGING)).await.unwrap();
    assert!(!format!("{listed:?}").contains("generated"));
}
