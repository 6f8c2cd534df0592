//! [`HttpProbe`]: the rollout engine's [`HealthProbe`] over HTTP.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use runway_core::{HealthProbe, ProbeResult, Unit, UnitId};
use tokio::time::Instant;

use crate::check::Check;
use crate::checks::HttpCheck;
use crate::status::Status;

type UrlFor = dyn Fn(&Unit) -> Option<String> + Send + Sync;

/// Probes a unit by fetching its health URL: healthy on a 2xx/3xx answer whose body, when it is a health
/// response in either shape, does not report fail. A warn is healthy (it serves traffic) with the warning
/// as detail. The unit -> URL mapping is the caller's (units differ per platform).
///
/// Details are the fixed public wording of the problem: never the URL or the driver's message.
#[derive(Clone)]
pub struct HttpProbe {
    url_for: Arc<UrlFor>,
    client: reqwest::Client,
}

impl fmt::Debug for HttpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProbe").finish_non_exhaustive()
    }
}

impl HttpProbe {
    /// A probe mapping each unit to its health URL with `url_for` (`None`: the unit has no URL).
    pub fn new(url_for: impl Fn(&Unit) -> Option<String> + Send + Sync + 'static) -> Self {
        HttpProbe {
            url_for: Arc::new(url_for),
            client: HttpCheck::default_client(),
        }
    }

    /// A probe from a fixed unit -> URL table.
    pub fn from_map(urls: HashMap<UnitId, String>) -> Self {
        Self::new(move |u| urls.get(&u.id).cloned())
    }

    /// Use this HTTP client (the test seam).
    #[must_use]
    pub fn with_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }
}

#[async_trait]
impl HealthProbe for HttpProbe {
    async fn probe(&self, unit: &Unit, timeout: Duration) -> runway_core::Result<ProbeResult> {
        let started = Instant::now();
        let Some(url) = (self.url_for)(unit) else {
            return Err(runway_core::Error::not_found(format!(
                "no health URL for unit {}",
                unit.id.as_str()
            ))
            .with_backend("runway-health"));
        };
        // Leave the probe's caller a margin: the request gets 90 % of the probe timeout.
        let request_timeout = timeout.mul_f64(0.9).max(Duration::from_millis(1));
        let check = HttpCheck::builder("health", url)
            .expect_status_range(200..=399)
            .expect_health_response_lenient()
            .with_timeout(request_timeout)
            .with_client(self.client.clone())
            .build()
            .map_err(runway_core::Error::from)?;
        let result = match tokio::time::timeout(timeout, check.check()).await {
            Ok(r) => r,
            Err(_) => crate::CheckResult::fail(crate::Problem::Timeout {
                after_ms: timeout.as_millis() as u64,
            }),
        };
        let latency = started.elapsed();
        Ok(match result.status {
            Status::Pass => ProbeResult::healthy(latency),
            Status::Warn => ProbeResult {
                healthy: true,
                latency,
                detail: result.problem.map(|p| p.to_string()),
            },
            Status::Fail => ProbeResult::unhealthy(
                latency,
                result
                    .problem
                    .map_or_else(|| "failed".to_owned(), |p| p.to_string()),
            ),
        })
    }
}
