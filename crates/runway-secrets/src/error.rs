//! The crate's error type.

use runway_core::ErrorKind;

use crate::rotation::RotationStep;

/// A rotation that failed at a step.
#[derive(Debug, thiserror::Error)]
#[error("rotation of {secret:?} failed at {step}: {source}")]
pub struct RotationFailure {
    /// Secret name.
    pub secret: String,
    /// The step.
    pub step: RotationStep,
    /// Whether the new version had already been promoted (only a post-promotion clean-up failed).
    pub promoted: bool,
    /// What went wrong.
    pub source: runway_core::Error,
}

/// An error of this crate: a failed rotation step (naming the secret and the step), or a store or input
/// error outside a rotation. Never contains a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// A rotation failed; before the promotion the current version was not touched, after it (a
    /// `finish` clean-up failure) the new current version already works.
    #[error(transparent)]
    Rotation(Box<RotationFailure>),
    /// A store, variable store or rotator call failed outside a rotation.
    #[error(transparent)]
    Core(Box<runway_core::Error>),
    /// Malformed input (a secret value, a key ring, a store file, a `.env` file).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl From<runway_core::Error> for SecretsError {
    fn from(e: runway_core::Error) -> Self {
        SecretsError::Core(Box::new(e))
    }
}

impl SecretsError {
    /// The backend-independent classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SecretsError::Rotation(f) => f.source.kind().clone(),
            SecretsError::Core(e) => e.kind().clone(),
            SecretsError::InvalidInput(_) => ErrorKind::InvalidInput,
        }
    }

    /// The failed step, for rotation errors.
    pub fn step(&self) -> Option<RotationStep> {
        match self {
            SecretsError::Rotation(f) => Some(f.step),
            _ => None,
        }
    }

    /// The rotation failure, for rotation errors.
    pub fn rotation(&self) -> Option<&RotationFailure> {
        match self {
            SecretsError::Rotation(f) => Some(f),
            _ => None,
        }
    }

    /// As a core error.
    pub fn into_core(self) -> runway_core::Error {
        match self {
            SecretsError::Core(e) => *e,
            e => runway_core::Error::new(e.kind(), e.to_string()).with_backend("secrets"),
        }
    }
}

impl From<SecretsError> for runway_core::Error {
    fn from(e: SecretsError) -> Self {
        e.into_core()
    }
}

/// `Result` with [`SecretsError`].
pub type Result<T, E = SecretsError> = std::result::Result<T, E>;

/// A serde_json error without the input it quotes (it may be a secret): position and category only.
pub(crate) fn redacted_json(what: &str, e: &serde_json::Error) -> SecretsError {
    SecretsError::InvalidInput(format!(
        "malformed {what} at line {} column {} ({:?})",
        e.line(),
        e.column(),
        e.classify()
    ))
}
