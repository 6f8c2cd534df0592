use serde::{Deserialize, Serialize};

/// Events of secret rotation. Names and version ids only, never values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecretEvent {
    /// A rotation step finished.
    Step {
        /// Secret name.
        secret: String,
        /// `create`, `set`, `test` or `finish`.
        step: String,
        /// The version involved.
        version_id: Option<String>,
    },
    /// A rotation failed at a step; the current secret still works.
    Failed {
        /// Secret name.
        secret: String,
        /// The step.
        step: String,
        /// The error (no secrets).
        error: String,
    },
}
