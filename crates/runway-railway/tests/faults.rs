//! Fault handling: 429 with Retry-After, exhausted rate-limit windows, 5xx, timeouts, malformed JSON and
//! GraphQL errors in a 200, all as typed errors or transparent retries.

mod common;

use std::time::Duration;

use runway_core::{
    ErrorKind, ListUnits, Platform, RetryPolicy, SetOptions, VariableScope, VariableStore,
};
use runway_railway::{RailwayClient, RailwayError};
use runway_testkit::fake_railway::{ACCOUNT_TOKEN, FakeRailway, Fault, PRODUCTION, PROJECT_ID};
use secrecy::SecretString;

fn no_retry(fake: &FakeRailway) -> RailwayClient {
    RailwayClient::builder()
        .with_api_token(ACCOUNT_TOKEN)
        .with_project(PROJECT_ID)
        .with_base_url(fake.url())
        .with_retry(RetryPolicy::none())
        .with_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn source(e: &runway_core::Error) -> &RailwayError {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<RailwayError>())
        .expect("railway errors carry their RailwayError")
}

#[tokio::test(start_paused = true)]
async fn honours_retry_after_on_429() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    fake.push_fault(Fault::RateLimited {
        retry_after: Duration::from_secs(7),
    });
    let start = tokio::time::Instant::now();
    let envs = c.environments().await.unwrap();
    assert_eq!(envs.len(), 2);
    assert!(
        start.elapsed() >= Duration::from_secs(7),
        "{:?}",
        start.elapsed()
    );
    assert!(start.elapsed() < Duration::from_secs(9));
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_429_without_retries_is_rate_limited_with_the_hint() {
    let fake = FakeRailway::start().await;
    let c = no_retry(&fake);
    fake.push_fault(Fault::RateLimited {
        retry_after: Duration::from_secs(30),
    });
    let e = c.environments().await.unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    assert!(e.is_retryable());
    assert_eq!(e.backend(), Some("railway"));
    assert_eq!(e.operation(), Some("environments"));
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_window_pauses_the_client_without_sending() {
    let fake = FakeRailway::start().await;
    fake.set_rate_limit(2, Duration::from_secs(60));
    let c = no_retry(&fake);
    c.environments().await.unwrap();
    c.environments().await.unwrap();
    let state = c.rate_limit().unwrap();
    assert_eq!(state.limit, Some(2));
    assert_eq!(state.remaining, Some(0));
    let sent = fake.requests().len();
    let e = c.environments().await.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::RateLimited { retry_after: Some(d) } if *d <= Duration::from_secs(60))
    );
    assert_eq!(
        fake.requests().len(),
        sent,
        "no request spent on a certain 429"
    );
    // With retries, a client waits for the window to reset (the 429's Retry-After) and goes on.
    let c = common::client(&fake);
    let start = tokio::time::Instant::now();
    assert_eq!(c.environments().await.unwrap().len(), 2);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(59) && waited <= Duration::from_secs(62),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_then_reported_with_attempts() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    fake.push_fault(Fault::Status(502));
    fake.push_fault(Fault::Status(503));
    assert_eq!(c.environments().await.unwrap().len(), 2);
    for _ in 0..10 {
        fake.push_fault(Fault::Status(500));
    }
    let e = c.environments().await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unavailable);
    assert_eq!(e.attempts(), 5);
    assert!(matches!(source(&e), RailwayError::Http { status: 500, .. }));
}

#[tokio::test(start_paused = true)]
async fn timeouts_are_typed_and_retried_only_when_idempotent() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake); // 10 s timeout
    fake.push_fault(Fault::Delay(Duration::from_secs(60)));
    // A read is idempotent: the timeout is retried and the second attempt succeeds.
    assert_eq!(c.environments().await.unwrap().len(), 2);

    let c = no_retry(&fake); // 5 s timeout
    fake.push_fault(Fault::Delay(Duration::from_secs(60)));
    let e = c.environments().await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Timeout);

    // Starting a deployment is not idempotent: a timeout is not retried, so no second deployment starts.
    let c = common::client(&fake);
    let unit = runway_railway::unit_id(PRODUCTION, "svc-api-1");
    let before = fake.count("ServiceInstanceDeploy");
    fake.push_fault(Fault::Delay(Duration::from_secs(60)));
    let e = c
        .deploy(&unit, &runway_core::Release::new("v9"), &Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Timeout);
    assert_eq!(fake.count("ServiceInstanceDeploy"), before + 1);
}

#[tokio::test(start_paused = true)]
async fn malformed_json_and_wrong_shapes_are_invalid_input() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    fake.push_fault(Fault::MalformedBody);
    let e = c.environments().await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(matches!(source(&e), RailwayError::Decode { .. }));
    fake.push_fault(Fault::WrongShape);
    let e = c.environments().await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert_eq!(e.attempts(), 1, "decode errors are not retried");
}

#[tokio::test(start_paused = true)]
async fn graphql_errors_in_a_200_are_typed() {
    let fake = FakeRailway::start().await;
    let c = no_retry(&fake);
    let cases = [
        ("Not Authorized", ErrorKind::PermissionDenied),
        ("Project Token not found", ErrorKind::Unauthenticated),
        ("Deployment not found", ErrorKind::NotFound),
        ("Problem processing request", ErrorKind::Provider),
    ];
    for (message, kind) in cases {
        fake.push_fault(Fault::GraphqlError(message.into()));
        let e = c.environments().await.unwrap_err();
        assert_eq!(e.kind(), &kind, "{message}");
        match source(&e) {
            RailwayError::Graphql(errors) => assert_eq!(errors[0].message, message),
            other => panic!("{other:?}"),
        }
    }
    // Real errors from the fake: an unknown deployment, a bad token.
    let e = c.deployment(&"nope".into()).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound);
    let bad = RailwayClient::builder()
        .with_api_token("wrong")
        .with_project(PROJECT_ID)
        .with_base_url(fake.url())
        .with_retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(
        bad.units(&PRODUCTION.into(), &ListUnits::default())
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::PermissionDenied
    );
}

#[tokio::test(start_paused = true)]
async fn secrets_never_reach_errors_or_debug() {
    let fake = FakeRailway::start().await;
    let c = no_retry(&fake);
    let debug = format!("{c:?}");
    assert!(!debug.contains(ACCOUNT_TOKEN), "{debug}");
    // A server message echoing the value back is scrubbed.
    fake.push_fault(Fault::GraphqlError(
        "Variable \"$input\" got invalid value {\"value\":\"hunter2-secret\"}".into(),
    ));
    let e = c
        .set(
            &VariableScope::environment(PRODUCTION),
            "DB_PASSWORD",
            SecretString::from("hunter2-secret"),
            &SetOptions::default(),
        )
        .await
        .unwrap_err();
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains("hunter2-secret"), "{text}");
        assert!(!text.contains(ACCOUNT_TOKEN), "{text}");
    }
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    let vars = c
        .list(&VariableScope::environment(PRODUCTION))
        .await
        .unwrap();
    assert!(!format!("{vars:?}").contains("hunter2"));
}
