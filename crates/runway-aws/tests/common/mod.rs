//! Shared helpers for the moto tests.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::time::Duration;

use runway_aws::AwsConfig;
use runway_core::RetryPolicy;
use runway_testkit::MotoServer;
use secrecy::SecretString;

pub async fn config(moto: &MotoServer) -> AwsConfig {
    AwsConfig::builder()
        .with_endpoint_url(moto.url())
        .with_region("us-east-1")
        .with_credentials("testing", SecretString::from("testing"), None)
        .with_retry(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(20))
                .with_max_retries(3),
        )
        .build()
        .await
        .expect("config")
}

/// A unique name per test run.
pub fn unique(prefix: &str) -> String {
    let n: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    format!("{prefix}-{}-{n}", std::process::id())
}
