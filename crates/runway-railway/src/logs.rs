//! [`LogSource`] for Railway: `deploymentLogs`, `buildLogs` and `environmentLogs`.

use async_trait::async_trait;
use chrono::SecondsFormat;
use futures::stream;
use runway_core::{
    DeploymentId, Idempotency, LogCapabilities, LogQuery, LogSource, LogStream, Result,
};
use serde_json::json;

use crate::client::RailwayClient;
use crate::error::RailwayError;
use crate::ops;
use crate::unit::unit_id;
use crate::wire;

/// Railway caps one logs query; larger limits are clamped to this.
const MAX_LIMIT: usize = 5000;

#[async_trait]
impl LogSource for RailwayClient {
    fn capabilities(&self) -> LogCapabilities {
        LogCapabilities::new(false, true)
    }

    async fn query(&self, q: &LogQuery) -> Result<LogStream> {
        let limit = q.limit.unwrap_or(500).clamp(1, MAX_LIMIT);
        let start = q.range.start.to_rfc3339_opts(SecondsFormat::Millis, true);
        let end = q.range.end.to_rfc3339_opts(SecondsFormat::Millis, true);
        let deployment: Option<DeploymentId> =
            match (&q.scope.deployment, &q.scope.environment, &q.scope.service) {
                (Some(d), _, _) => Some(d.clone()),
                // A service's logs are its latest deployment's logs.
                (None, Some(env), Some(svc)) => self
                    .raw_deployments(&unit_id(env.as_str(), svc.as_str()), 1, "logs")
                    .await?
                    .into_iter()
                    .next()
                    .map(|d| DeploymentId::new(d.id)),
                _ => None,
            };
        let mut entries = if let Some(dep) = deployment {
            let (doc, field) = if q.scope.build {
                (ops::BUILD_LOGS, "buildLogs")
            } else {
                (ops::DEPLOYMENT_LOGS, "deploymentLogs")
            };
            let data = self
                .call(
                    "logs",
                    doc,
                    json!({
                        "deploymentId": dep.as_str(),
                        "limit": limit as i64,
                        "filter": q.contains,
                        "startDate": start,
                        "endDate": end,
                    }),
                    &[],
                    Idempotency::Idempotent,
                )
                .await?;
            wire::decode_logs(&data, field).map_err(|e| e.into_error("logs"))?
        } else if let Some(env) = &q.scope.environment {
            let data = self
                .call(
                    "logs",
                    ops::ENVIRONMENT_LOGS,
                    json!({
                        "environmentId": env.as_str(),
                        "filter": q.contains,
                        "afterDate": start,
                        "beforeDate": end,
                        "afterLimit": limit as i64,
                    }),
                    &[],
                    Idempotency::Idempotent,
                )
                .await?;
            wire::decode_logs(&data, "environmentLogs").map_err(|e| e.into_error("logs"))?
        } else {
            return Err(RailwayError::Invalid(
                "a Railway log query needs a deployment, or an environment (and optionally a service)".into(),
            )
            .into_error("logs"));
        };
        // Railway's filter language is richer than a substring; apply the query's exact semantics too.
        entries.retain(|e| q.matches(e));
        entries.sort_by_key(|e| e.timestamp);
        if entries.len() > limit {
            entries.drain(..entries.len() - limit);
        }
        Ok(Box::pin(stream::iter(entries.into_iter().map(Ok))))
    }
}
