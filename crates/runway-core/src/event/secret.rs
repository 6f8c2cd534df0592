use serde::{Deserialize, Serialize};

/// Events of secret rotation. Names and version ids only, never values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SecretEvent {
    /// A rotation started, or resumed from a version already staged pending.
    Started {
        /// Secret name.
        secret: String,
        /// What rotates it (`postgres-password`, `api-key`, `jwt-signing-key`, ...).
        rotator: String,
        /// The step it resumes at, when a previous run left a pending version.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resumed_at: Option<String>,
    },
    /// A rotation finished: `version_id` is current, `previous` the version it replaced.
    Completed {
        /// Secret name.
        secret: String,
        /// The new current version.
        version_id: String,
        /// The version it replaced (now previous).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<String>,
    },
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
