//! # runway-aws
//!
//! AWS backends for runway's provider traits:
//!
//! | type | trait | AWS API |
//! |---|---|---|
//! | [`CloudWatchLogs`] | [`runway_core::LogSource`] | FilterLogEvents (ms), Logs Insights StartQuery (s) / GetQueryResults |
//! | [`SecretsManagerStore`] | [`runway_core::SecretStore`] | Secrets Manager with AWSCURRENT / AWSPENDING / AWSPREVIOUS |
//!
//! Both are built from one [`AwsConfig`] ([`AwsConfig::builder`]: endpoint URL, region, credentials, retry
//! policy; the test seam for moto). Every call goes through runway's [`runway_core::RetryPolicy`] (the SDK's
//! own retries are off) and every AWS error is mapped in one function, [`map_sdk_error`].
//!
//! The runbook's queries are presets in runway-core: [`runway_core::LogQuery::errors_last_hour`],
//! [`runway_core::AggregateQuery::errors_last_hour`] and [`runway_core::AggregateQuery::response_time_stats`].
//! Insights polling is a pure state machine ([`insights::InsightsPoll`], driven on tokio time by
//! [`insights::drive`]) with a decoder for GetQueryResults
//! answers ([`insights::InsightsPage::from_json`]).
//!
//! ```
//! use runway_aws::insights::{InsightsPage, InsightsPoll, PollAction};
//! use std::time::Duration;
//!
//! let mut poll = InsightsPoll::new("q-1", Duration::from_secs(1), Duration::from_secs(5), Duration::from_secs(3600), 100);
//! let running = InsightsPage::from_json(br#"{"status":"Running","results":[]}"#).unwrap();
//! assert_eq!(poll.step(running, Duration::ZERO), PollAction::Wait(Duration::from_secs(1)));
//! let done = InsightsPage::from_json(br#"{"status":"Complete","results":[[{"field":"@message","value":"ERROR boom"}]]}"#).unwrap();
//! assert_eq!(poll.step(done, Duration::from_secs(1)), PollAction::Done);
//! assert_eq!(poll.into_result().rows[0]["@message"], "ERROR boom");
//! ```
//!
//! Against AWS or moto (not run here: it needs an endpoint):
//!
//! ```no_run
//! use runway_aws::{AwsConfig, CloudWatchLogs};
//! use runway_core::{AggregateQuery, LogScope, LogSource};
//!
//! # async fn run() -> runway_core::Result<()> {
//! let config = AwsConfig::builder().with_endpoint_url("http://127.0.0.1:5000").with_region("us-east-1").build().await?;
//! let logs = CloudWatchLogs::new(&config);
//! let q = AggregateQuery::errors_last_hour(LogScope::group("/aws/ecs/yourapp-production"), chrono::Utc::now());
//! for row in logs.aggregate(&q).await?.rows {
//!     println!("{} {}", row["@timestamp"], row["@message"]);
//! }
//! # Ok(()) }
//! ```

mod config;
mod error;
pub mod insights;
mod logs;
mod secrets;

pub use config::{AwsConfig, AwsConfigBuilder, ENDPOINT_ENV};
pub use error::{kind_for_aws_code, map_sdk_error};
pub use logs::{CloudWatchLogs, INSIGHTS_MAX_LIMIT, detect_level, filter_pattern};
pub use secrets::{SecretsManagerStore, is_not_found, parse_stage_label, stage_label};
