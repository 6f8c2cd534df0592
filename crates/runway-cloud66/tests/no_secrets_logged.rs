//! Tokens and variable values never reach log output, even at trace level and through retries.

use std::time::Duration;

use runway_cloud66::Cloud66Client;
use runway_core::{RetryPolicy, SetOptions, VariableScope, VariableStore};
use runway_testkit::fake_cloud66::{FakeCloud66, Fault, STAGING, TOKEN};
use secrecy::SecretString;

#[tokio::test(start_paused = true)]
async fn trace_output_has_no_token_or_value() {
    let traces = runway_testkit::traces::capture();

    let fake = FakeCloud66::start().await;
    let c = Cloud66Client::builder()
        .with_token(TOKEN)
        .with_base_url(fake.base_url())
        .with_retry(
            RetryPolicy::default()
                .with_jitter(false)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .with_polling(Duration::from_millis(200), Duration::from_secs(30))
        .build()
        .unwrap();
    fake.push_fault(Fault::Throttled);
    fake.push_fault(Fault::Status(502));
    let scope = VariableScope::environment(STAGING);
    c.set(
        &scope,
        "API_KEY",
        SecretString::from("s3cr3t-value-66"),
        &SetOptions::default(),
    )
    .await
    .unwrap();
    let _ = c.list(&scope).await.unwrap();
    tracing::info!(client = ?c, "client");

    let out = traces.text();
    assert!(out.contains("cloud66 response"), "tracing ran: {out}");
    assert!(!out.contains(TOKEN), "{out}");
    assert!(!out.contains("s3cr3t-value-66"), "{out}");
}
