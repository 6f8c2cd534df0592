//! The crate's error type.

use runway_core::ErrorKind;

/// What can stop a rollout before it has an outcome (a rollback is an outcome, not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RolloutError {
    /// A configuration value is invalid, alone or for this platform.
    #[error("invalid rollout configuration: {field}: {reason}")]
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A required builder input is missing.
    #[error("rollout builder is missing {0}")]
    Missing(&'static str),
    /// Another rollout holds the environment's deploy lock.
    #[error("environment {environment} is locked by {owner} (since {acquired_at})")]
    Locked {
        /// The environment.
        environment: String,
        /// Who holds the lock.
        owner: String,
        /// When it was taken (RFC 3339).
        acquired_at: String,
    },
    /// The platform failed in a way the engine cannot work around (listing the fleet at start).
    #[error("platform error during {step}: {source}")]
    Platform {
        /// What the engine was doing.
        step: &'static str,
        /// The provider error.
        #[source]
        source: Box<runway_core::Error>,
    },
    /// The journal could not be read or written.
    #[error("journal: {0}")]
    Journal(#[from] crate::journal::JournalError),
    /// The deploy lock could not be taken or released.
    #[error("deploy lock: {0}")]
    Lock(#[from] crate::lock::LockError),
    /// An event sink refused an event (the journal must not be ignored).
    #[error("event sink failed: {0}")]
    Sink(#[source] Box<runway_core::Error>),
    /// Nothing to resume: the journal holds no unfinished run with this id.
    #[error("no unfinished run {0} in the journal")]
    NothingToResume(String),
}

impl RolloutError {
    /// The runway-wide classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RolloutError::InvalidConfig { .. } | RolloutError::Missing(_) => {
                ErrorKind::InvalidInput
            }
            RolloutError::Locked { .. } => ErrorKind::Conflict,
            RolloutError::Platform { source, .. } | RolloutError::Sink(source) => {
                source.kind().clone()
            }
            RolloutError::Journal(e) => e.kind(),
            RolloutError::Lock(e) => e.kind(),
            RolloutError::NothingToResume(_) => ErrorKind::NotFound,
        }
    }
}
