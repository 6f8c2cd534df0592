//! Tokens and variable values never reach log output, even at trace level and through retries.

use std::time::Duration;

use runway_core::{RetryPolicy, SetOptions, VariableScope, VariableStore};
use runway_railway::RailwayClient;
use runway_testkit::fake_railway::{ACCOUNT_TOKEN, FakeRailway, Fault, PRODUCTION, PROJECT_ID};
use secrecy::SecretString;

#[tokio::test(start_paused = true)]
async fn trace_output_has_no_token_or_value() {
    let traces = runway_testkit::traces::capture();

    let fake = FakeRailway::start().await;
    let c = RailwayClient::builder()
        .with_api_token(ACCOUNT_TOKEN)
        .with_project(PROJECT_ID)
        .with_base_url(fake.url())
        .with_retry(
            RetryPolicy::default()
                .with_jitter(false)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    fake.push_fault(Fault::GraphqlError(
        "Problem processing value s3cr3t-value-42".into(),
    ));
    fake.push_fault(Fault::Status(503));
    let scope = VariableScope::environment(PRODUCTION);
    let _ = c
        .set(
            &scope,
            "API_KEY",
            SecretString::from("s3cr3t-value-42"),
            &SetOptions::default(),
        )
        .await;
    c.set(
        &scope,
        "API_KEY",
        SecretString::from("s3cr3t-value-42"),
        &SetOptions::default(),
    )
    .await
    .unwrap();
    let _ = c.list(&scope).await.unwrap();
    tracing::info!(client = ?c, "client");

    let out = traces.text();
    assert!(
        out.contains("railway graphql response"),
        "tracing ran: {out}"
    );
    assert!(!out.contains(ACCOUNT_TOKEN), "{out}");
    assert!(!out.contains("s3cr3t-value-42"), "{out}");
}
