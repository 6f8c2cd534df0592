//! The shared SecretStore and LogSource conformance suites against moto.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use runway_aws::{CloudWatchLogs, SecretsManagerStore};
use runway_core::secrecy::SecretString;
use runway_core::{
    AggregateQuery, AggregateResult, LogCapabilities, LogQuery, LogScope, LogSource, LogStream,
    RequestToken, SecretCapabilities, SecretStage, SecretStore, SecretVersion, SecretVersionInfo,
    TimeRange,
};
use runway_testkit::conformance::logs::LogsFixture;
use runway_testkit::conformance::secrets::SecretsFixture;
use runway_testkit::{MotoServer, logs_conformance, secrets_conformance};

/// Keeps the moto server alive (and stops it) with the backend the suite holds.
#[derive(Debug)]
struct Served<T> {
    inner: T,
    _server: MotoServer,
}

#[async_trait]
impl SecretStore for Served<SecretsManagerStore> {
    fn capabilities(&self) -> SecretCapabilities {
        self.inner.capabilities()
    }
    async fn create(
        &self,
        n: &str,
        v: SecretString,
        t: &RequestToken,
    ) -> runway_core::Result<String> {
        self.inner.create(n, v, t).await
    }
    async fn get(&self, n: &str, s: SecretStage) -> runway_core::Result<SecretVersion> {
        self.inner.get(n, s).await
    }
    async fn put_pending(
        &self,
        n: &str,
        v: SecretString,
        t: &RequestToken,
    ) -> runway_core::Result<String> {
        self.inner.put_pending(n, v, t).await
    }
    async fn promote(&self, n: &str, id: &str) -> runway_core::Result<()> {
        self.inner.promote(n, id).await
    }
    async fn clear_pending(&self, n: &str) -> runway_core::Result<()> {
        self.inner.clear_pending(n).await
    }
    async fn versions(&self, n: &str) -> runway_core::Result<Vec<SecretVersionInfo>> {
        self.inner.versions(n).await
    }
}

#[async_trait]
impl LogSource for Served<CloudWatchLogs> {
    fn capabilities(&self) -> LogCapabilities {
        self.inner.capabilities()
    }
    async fn query(&self, q: &LogQuery) -> runway_core::Result<LogStream> {
        self.inner.query(q).await
    }
    async fn aggregate(&self, q: &AggregateQuery) -> runway_core::Result<AggregateResult> {
        self.inner.aggregate(q).await
    }
}

async fn secrets() -> SecretsFixture {
    let server = MotoServer::start();
    let inner = SecretsManagerStore::new(&common::config(&server).await);
    SecretsFixture::new(Arc::new(Served {
        inner,
        _server: server,
    }))
}

async fn logs() -> LogsFixture {
    let server = MotoServer::start();
    let inner = CloudWatchLogs::new(&common::config(&server).await)
        .with_page_size(2)
        .with_polling(
            Duration::from_millis(50),
            Duration::from_millis(100),
            Duration::from_secs(30),
        );
    let group = format!("/conformance/{}", common::unique("g"));
    let c = inner.client();
    c.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    c.create_log_stream()
        .log_group_name(&group)
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let base = now.timestamp_millis() - 10 * 60 * 1000;
    let events: Vec<InputLogEvent> = (0..7)
        .map(|i| {
            let msg = if i % 2 == 0 {
                format!("ERROR marker-77 {i}")
            } else {
                format!("INFO fine {i}")
            };
            InputLogEvent::builder()
                .timestamp(base + i * 1000)
                .message(msg)
                .build()
                .unwrap()
        })
        .collect();
    c.put_log_events()
        .log_group_name(&group)
        .log_stream_name("s")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
    LogsFixture::new(
        Arc::new(Served {
            inner,
            _server: server,
        }),
        LogScope::group(group),
        TimeRange::last(
            Duration::from_secs(3600),
            now + chrono::Duration::seconds(1),
        ),
        "marker-77",
    )
}

secrets_conformance!(secrets_manager, real, secrets());
logs_conformance!(cloudwatch_logs, real, logs());
