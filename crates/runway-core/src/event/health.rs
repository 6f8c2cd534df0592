use serde::{Deserialize, Serialize};

/// Events of health checks and post-deploy verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HealthEvent {
    /// A check finished.
    Check {
        /// Check name.
        name: String,
        /// `pass`, `warn` or `fail`.
        status: String,
        /// Redacted detail.
        detail: Option<String>,
    },
    /// A verification phase finished.
    Verification {
        /// `immediate` or `monitoring`.
        phase: String,
        /// `pass`, `fail` or `inconclusive`.
        verdict: String,
        /// Why, for fail and inconclusive.
        reason: Option<String>,
    },
}
