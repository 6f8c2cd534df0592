use serde::{Deserialize, Serialize};

/// Events of the release procedure (preflight, lock, backup gate, migrate, rollout, verify, notify).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReleaseEvent {
    /// A step started.
    StepStarted {
        /// Step name.
        step: String,
    },
    /// A step finished.
    StepFinished {
        /// Step name.
        step: String,
        /// Whether it succeeded.
        ok: bool,
        /// A one-line summary.
        summary: String,
    },
    /// The release finished.
    Finished {
        /// `succeeded`, `rolled_back`, `failed` or `blocked`.
        outcome: String,
    },
}
