//! [`Report`]: the result of running every check, and its two renderings.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::check::{ComponentType, Observation, Problem};
use crate::status::{HttpMapping, Status};

/// The health+json media type.
pub const HEALTH_JSON: &str = "application/health+json";

/// How much a rendering reveals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exposure {
    /// Statuses, measurements and the fixed wording of problems only (the default for anything served).
    #[default]
    Public,
    /// Also the drivers' details, scrubbed of credentials (may name hosts): for operators and logs.
    Internal,
}

/// Service-level fields of a health+json response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceInfo {
    /// Public version of the service (`version`).
    pub version: Option<String>,
    /// Release of the implementation, such as a commit (`releaseId`).
    pub release_id: Option<String>,
    /// A unique id of the service (`serviceId`).
    pub service_id: Option<String>,
    /// A human description (`description`).
    pub description: Option<String>,
}

impl ServiceInfo {
    /// Empty info.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set `version`.
    #[must_use]
    pub fn with_version(mut self, v: impl Into<String>) -> Self {
        self.version = Some(v.into());
        self
    }

    /// Set `releaseId`.
    #[must_use]
    pub fn with_release_id(mut self, v: impl Into<String>) -> Self {
        self.release_id = Some(v.into());
        self
    }

    /// Set `serviceId`.
    #[must_use]
    pub fn with_service_id(mut self, v: impl Into<String>) -> Self {
        self.service_id = Some(v.into());
        self
    }

    /// Set `description`.
    #[must_use]
    pub fn with_description(mut self, v: impl Into<String>) -> Self {
        self.description = Some(v.into());
        self
    }
}

/// Flap protection holding a component's status back from its latest raw result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "hold", rename_all = "snake_case")]
pub enum Hold {
    /// Failing, but not yet `threshold` times in a row: reported as warn.
    Failing {
        /// Consecutive failures so far.
        consecutive: u32,
        /// Failures needed to report fail.
        threshold: u32,
    },
    /// Passing again, but not yet `threshold` times in a row: still reported as fail.
    Recovering {
        /// Consecutive successes so far.
        consecutive: u32,
        /// Successes needed to report pass.
        threshold: u32,
    },
}

/// One component's entry in a [`Report`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentReport {
    /// The check's name.
    pub name: String,
    /// health+json `componentType`.
    pub component_type: ComponentType,
    /// The reported status (after flap protection and criticality).
    pub status: Status,
    /// The latest raw result's status.
    pub raw_status: Status,
    /// Whether a failure of this component fails the service.
    pub critical: bool,
    /// Why it did not pass.
    pub problem: Option<Problem>,
    /// Flap protection in effect, if any.
    pub hold: Option<Hold>,
    /// Measurements.
    pub observations: Vec<Observation>,
    /// Internal detail (scrubbed); only in [`Exposure::Internal`] renderings, and never serialised.
    #[serde(default, skip_serializing)]
    pub detail: Option<String>,
    /// How long the check took.
    pub duration: Duration,
    /// When the result was taken.
    pub time: DateTime<Utc>,
}

impl ComponentReport {
    /// The public one-line explanation (problem and hold), `None` when passing cleanly.
    pub fn output(&self) -> Option<String> {
        let hold = self.hold.map(|h| match h {
            Hold::Failing {
                consecutive,
                threshold,
            } => format!("failing {consecutive} of {threshold} times in a row"),
            Hold::Recovering {
                consecutive,
                threshold,
            } => format!("recovering {consecutive} of {threshold} times in a row"),
        });
        match (&self.problem, hold) {
            (Some(p), Some(h)) => Some(format!("{p} ({h})")),
            (Some(p), None) => Some(p.to_string()),
            (None, Some(h)) => Some(h),
            (None, None) => None,
        }
    }

    fn output_for(&self, exposure: Exposure) -> Option<String> {
        let public = self.output();
        match (exposure, &self.detail) {
            (Exposure::Internal, Some(d)) => Some(match public {
                Some(p) => format!("{p}: {d}"),
                None => d.clone(),
            }),
            _ => public,
        }
    }
}

/// The result of one run of a [`HealthChecker`](crate::HealthChecker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The overall status: the worst component (a non-critical failure counts as warn).
    pub status: Status,
    /// Each component, in the order the checks were registered.
    pub components: Vec<ComponentReport>,
    /// When the run started.
    pub time: DateTime<Utc>,
    /// How long the whole run took.
    pub duration: Duration,
    /// Service-level fields.
    pub info: ServiceInfo,
}

fn time_str(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        json!(v as i64)
    } else {
        serde_json::Number::from_f64((v * 1000.0).round() / 1000.0)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

impl Report {
    /// Build a report from components, computing the overall status.
    pub fn new(
        components: Vec<ComponentReport>,
        time: DateTime<Utc>,
        duration: Duration,
        info: ServiceInfo,
    ) -> Self {
        let status = Status::worst(components.iter().map(|c| c.status));
        Report {
            status,
            components,
            time,
            duration,
            info,
        }
    }

    /// The component named `name`.
    pub fn component(&self, name: &str) -> Option<&ComponentReport> {
        self.components.iter().find(|c| c.name == name)
    }

    /// The HTTP status to serve this report with, under the default [`HttpMapping`].
    pub fn http_status(&self) -> u16 {
        HttpMapping::default().code(self.status)
    }

    /// Render as `application/health+json` (draft-inadarei-api-health-check).
    ///
    /// Each measurement becomes a `component:measurement` key holding a one-element array; a component
    /// without measurements is keyed by its name. `output` appears only when not passing and, under
    /// [`Exposure::Public`], holds only the fixed wording of the problem.
    pub fn to_health_json(&self, exposure: Exposure) -> Value {
        let mut top = Map::new();
        top.insert("status".into(), json!(self.status.as_str()));
        let info = &self.info;
        for (k, v) in [
            ("version", &info.version),
            ("releaseId", &info.release_id),
            ("serviceId", &info.service_id),
            ("description", &info.description),
        ] {
            if let Some(v) = v {
                top.insert(k.into(), json!(v));
            }
        }
        let failing: Vec<&str> = self
            .components
            .iter()
            .filter(|c| c.status != Status::Pass)
            .map(|c| c.name.as_str())
            .collect();
        if !failing.is_empty() {
            top.insert(
                "output".into(),
                json!(format!(
                    "{} not passing: {}",
                    failing.len(),
                    failing.join(", ")
                )),
            );
        }
        let mut checks = Map::new();
        for c in &self.components {
            let mut base = Map::new();
            base.insert("componentType".into(), json!(c.component_type.as_str()));
            base.insert("status".into(), json!(c.status.as_str()));
            base.insert("time".into(), json!(time_str(c.time)));
            if c.status != Status::Pass
                && let Some(out) = c.output_for(exposure)
            {
                base.insert("output".into(), json!(out));
            }
            if c.observations.is_empty() {
                checks.insert(c.name.clone(), Value::Array(vec![Value::Object(base)]));
            } else {
                for o in &c.observations {
                    let mut entry = base.clone();
                    entry.insert("observedValue".into(), number(o.value));
                    entry.insert("observedUnit".into(), json!(o.unit));
                    checks.insert(
                        format!("{}:{}", c.name, o.measurement),
                        Value::Array(vec![Value::Object(entry)]),
                    );
                }
            }
        }
        top.insert("checks".into(), Value::Object(checks));
        Value::Object(top)
    }

    /// Render in the runbook's shape: `{"status": "healthy", "checks": {"database": "healthy", ...}}`.
    ///
    /// Components read `healthy`, `degraded` or `unhealthy`; the overall status is `healthy` for pass and
    /// warn (both served with 200) and `unhealthy` for fail. Under [`Exposure::Public`] nothing else is said;
    /// under [`Exposure::Internal`] a non-passing component reads `unhealthy: <explanation>` as the runbook's
    /// handler did, with credentials scrubbed.
    pub fn to_runbook_json(&self, exposure: Exposure) -> Value {
        let mut checks = Map::new();
        for c in &self.components {
            let word = c.status.runbook_component_word();
            let text = match (exposure, c.status) {
                (Exposure::Internal, Status::Warn | Status::Fail) => match c.output_for(exposure) {
                    Some(o) => format!("{word}: {o}"),
                    None => word.to_owned(),
                },
                _ => word.to_owned(),
            };
            checks.insert(c.name.clone(), json!(text));
        }
        json!({"status": self.status.runbook_overall_word(), "checks": checks})
    }
}
