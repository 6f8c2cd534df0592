//! The rotation engine: a pure state machine over create -> set -> test -> finish, and a thin driver.
//!
//! The protocol is Secrets Manager's: `create` writes a new version staged pending (with a client request
//! token derived from the rotation id, so a retried or resumed write finds its version); `set` makes the
//! target accept it while the current value keeps working; `test` proves the pending value works; `finish`
//! promotes it (current becomes previous) and lets the rotator retire what the previous version granted.
//!
//! Every transition is [`Rotation::step`]: `(state, observation) -> (state, action)`, no IO. A run that
//! stopped half-way resumes from the store: a version already staged pending skips `create`, a current
//! version carrying this rotation's token skips to the clean-up. A failure before the promotion never
//! touches the current version.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use runway_core::event::SecretEvent;
use runway_core::{
    Emitter, ErrorKind, RequestToken, SecretStage, SecretStore, SecretVersion, SecretVersionInfo,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::{Result, RotationFailure, SecretsError};

/// A rotation step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationStep {
    /// Generate a new value and stage it pending.
    Create,
    /// Make the target accept the pending value.
    Set,
    /// Prove the pending value works against the target.
    Test,
    /// Promote pending to current, then retire the previous value.
    Finish,
}

impl RotationStep {
    /// `create`, `set`, `test`, `finish`.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationStep::Create => "create",
            RotationStep::Set => "set",
            RotationStep::Test => "test",
            RotationStep::Finish => "finish",
        }
    }
}

impl fmt::Display for RotationStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What rotates one kind of secret against its target (a database role, an API provider, a key set).
///
/// Each method must be idempotent: a resumed rotation may call `set`, `test` and `finish` again.
/// Errors must not contain secret values.
#[async_trait]
pub trait Rotator: Send + Sync + fmt::Debug + 'static {
    /// A short name for events (`postgres-password`).
    fn name(&self) -> &str;

    /// The next value, derived from the current one (which user to alternate to, which keys to keep).
    async fn create(&self, current: &SecretVersion) -> runway_core::Result<SecretString>;

    /// Make the target accept `pending` without breaking `current`.
    async fn set(
        &self,
        pending: &SecretVersion,
        current: &SecretVersion,
    ) -> runway_core::Result<()>;

    /// Check that `pending` works against the target.
    async fn test(&self, pending: &SecretVersion) -> runway_core::Result<()>;

    /// After the promotion: retire what `previous` granted, once that is safe.
    async fn finish(
        &self,
        current: &SecretVersion,
        previous: Option<&SecretVersion>,
    ) -> runway_core::Result<()> {
        let _ = (current, previous);
        Ok(())
    }
}

/// Forwarding impl, so an `Arc<dyn Rotator>` can be wrapped (for example by
/// [`FailingRotator`](crate::testing::FailingRotator)).
#[async_trait]
impl<R: Rotator + ?Sized> Rotator for Arc<R> {
    fn name(&self) -> &str {
        (**self).name()
    }

    async fn create(&self, current: &SecretVersion) -> runway_core::Result<SecretString> {
        (**self).create(current).await
    }

    async fn set(
        &self,
        pending: &SecretVersion,
        current: &SecretVersion,
    ) -> runway_core::Result<()> {
        (**self).set(pending, current).await
    }

    async fn test(&self, pending: &SecretVersion) -> runway_core::Result<()> {
        (**self).test(pending).await
    }

    async fn finish(
        &self,
        current: &SecretVersion,
        previous: Option<&SecretVersion>,
    ) -> runway_core::Result<()> {
        (**self).finish(current, previous).await
    }
}

/// What the store says before a rotation starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// The current version.
    pub current: SecretVersionInfo,
    /// The pending version, when one is staged.
    pub pending: Option<SecretVersionInfo>,
}

/// What the driver observed after performing an [`Action`].
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The store was read.
    Inspected(Inspection),
    /// The pending version was written.
    Created {
        /// Its id.
        version_id: String,
    },
    /// The target accepts the pending value.
    TargetSet,
    /// The pending value works.
    Tested,
    /// The pending version is current.
    Promoted,
    /// The previous value was retired.
    CleanedUp,
    /// The action failed.
    Failed {
        /// Its kind.
        kind: ErrorKind,
    },
}

/// What the driver must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Read the current and pending versions.
    Inspect,
    /// Ask the rotator for a value and stage it pending with `token`.
    CreatePending {
        /// The client request token.
        token: RequestToken,
    },
    /// Call [`Rotator::set`] with this pending version.
    SetTarget {
        /// Pending version id.
        pending: String,
    },
    /// Call [`Rotator::test`].
    TestTarget {
        /// Pending version id.
        pending: String,
    },
    /// Promote `pending` to current.
    Promote {
        /// Pending version id.
        pending: String,
    },
    /// Call [`Rotator::finish`] with the new current and the previous version.
    CleanUp,
    /// Stop: done.
    Complete {
        /// The current version id.
        current: String,
        /// The previous version id.
        previous: Option<String>,
    },
    /// Stop: failed at `step`.
    Abort {
        /// The step.
        step: RotationStep,
        /// Whether the promotion had happened.
        promoted: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum Phase {
    Inspecting,
    Creating {
        current: String,
    },
    Setting {
        current: String,
        pending: String,
    },
    Testing {
        current: String,
        pending: String,
    },
    Promoting {
        current: String,
        pending: String,
    },
    CleaningUp {
        current: String,
        previous: Option<String>,
    },
    Done,
}

/// The state of one rotation: serialisable (a journal can persist it) and free of secret values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    secret: String,
    token: RequestToken,
    phase: Phase,
    resumed_at: Option<RotationStep>,
}

impl Rotation {
    /// A rotation of `secret` identified by `rotation_id` (its token is derived from both, so re-running the
    /// same rotation id is idempotent).
    pub fn new(secret: impl Into<String>, rotation_id: &str) -> Self {
        let secret = secret.into();
        Rotation {
            token: RequestToken::derive(&secret, rotation_id),
            secret,
            phase: Phase::Inspecting,
            resumed_at: None,
        }
    }

    /// The first action.
    pub fn start(&self) -> Action {
        Action::Inspect
    }

    /// The secret.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The client request token of the new version.
    pub fn token(&self) -> &RequestToken {
        &self.token
    }

    /// The step a resumed rotation picked up at.
    pub fn resumed_at(&self) -> Option<RotationStep> {
        self.resumed_at
    }

    /// The step the rotation is in (`None` before inspection and when done).
    pub fn current_step(&self) -> Option<RotationStep> {
        match &self.phase {
            Phase::Inspecting | Phase::Done => None,
            Phase::Creating { .. } => Some(RotationStep::Create),
            Phase::Setting { .. } => Some(RotationStep::Set),
            Phase::Testing { .. } => Some(RotationStep::Test),
            Phase::Promoting { .. } | Phase::CleaningUp { .. } => Some(RotationStep::Finish),
        }
    }

    /// One transition. Pure: no IO, no clock.
    pub fn step(mut self, obs: Observation) -> (Rotation, Action) {
        if let Observation::Failed { .. } = obs {
            let step = self.current_step().unwrap_or(RotationStep::Create);
            let promoted = matches!(self.phase, Phase::CleaningUp { .. });
            self.phase = Phase::Done;
            return (self, Action::Abort { step, promoted });
        }
        let phase = std::mem::replace(&mut self.phase, Phase::Done);
        let (phase, action) = match (phase, obs) {
            (Phase::Inspecting, Observation::Inspected(ins)) => {
                let current = ins.current.version_id.clone();
                if current == self.token.as_str() {
                    // Promoted by an earlier run of this rotation: only the clean-up may be left.
                    self.resumed_at = Some(RotationStep::Finish);
                    let previous = None;
                    (Phase::CleaningUp { current, previous }, Action::CleanUp)
                } else if let Some(p) = ins.pending.filter(|p| p.version_id != current) {
                    // A version is staged pending (ours, or left by another run): resume from it.
                    self.resumed_at = Some(RotationStep::Set);
                    let pending = p.version_id;
                    (
                        Phase::Setting {
                            current,
                            pending: pending.clone(),
                        },
                        Action::SetTarget { pending },
                    )
                } else {
                    (
                        Phase::Creating { current },
                        Action::CreatePending {
                            token: self.token.clone(),
                        },
                    )
                }
            }
            (Phase::Creating { current }, Observation::Created { version_id }) => (
                Phase::Setting {
                    current,
                    pending: version_id.clone(),
                },
                Action::SetTarget {
                    pending: version_id,
                },
            ),
            (Phase::Setting { current, pending }, Observation::TargetSet) => (
                Phase::Testing {
                    current,
                    pending: pending.clone(),
                },
                Action::TestTarget { pending },
            ),
            (Phase::Testing { current, pending }, Observation::Tested) => (
                Phase::Promoting {
                    current,
                    pending: pending.clone(),
                },
                Action::Promote { pending },
            ),
            (Phase::Promoting { current, pending }, Observation::Promoted) => (
                Phase::CleaningUp {
                    current: pending,
                    previous: Some(current),
                },
                Action::CleanUp,
            ),
            (Phase::CleaningUp { current, previous }, Observation::CleanedUp) => {
                (Phase::Done, Action::Complete { current, previous })
            }
            (phase, _) => {
                // An observation that does not fit the phase: a driver bug; stop without touching anything.
                let step = match phase {
                    Phase::Creating { .. } => RotationStep::Create,
                    Phase::Setting { .. } => RotationStep::Set,
                    Phase::Testing { .. } => RotationStep::Test,
                    _ => RotationStep::Finish,
                };
                let promoted = matches!(phase, Phase::CleaningUp { .. });
                (Phase::Done, Action::Abort { step, promoted })
            }
        };
        self.phase = phase;
        (self, action)
    }
}

/// The outcome of a finished rotation (ids only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationReport {
    /// Secret name.
    pub secret: String,
    /// The new current version.
    pub current: String,
    /// The version it replaced.
    pub previous: Option<String>,
    /// Where a resumed run picked up.
    pub resumed_at: Option<RotationStep>,
}

/// Runs rotations: performs the state machine's actions against a store and a rotator, emitting a
/// [`SecretEvent`] per step.
#[derive(Debug, Clone)]
pub struct Rotate {
    store: Arc<dyn SecretStore>,
    rotator: Arc<dyn Rotator>,
    emitter: Emitter,
    clear_pending_on_failure: bool,
}

impl Rotate {
    /// Rotate secrets in `store` with `rotator`.
    pub fn new(store: Arc<dyn SecretStore>, rotator: Arc<dyn Rotator>) -> Self {
        Rotate {
            store,
            rotator,
            emitter: Emitter::null(),
            clear_pending_on_failure: false,
        }
    }

    /// Send events to `emitter`.
    #[must_use]
    pub fn with_emitter(mut self, emitter: Emitter) -> Self {
        self.emitter = emitter;
        self
    }

    /// On a failure before the promotion, drop the pending version instead of keeping it for a resume.
    #[must_use]
    pub fn clear_pending_on_failure(mut self, clear: bool) -> Self {
        self.clear_pending_on_failure = clear;
        self
    }

    /// Rotate `secret` under `rotation_id` (reuse the id to resume a run that stopped; a new id starts
    /// a new rotation, e.g. `2026-q4` or a timestamp).
    pub async fn run(&self, secret: &str, rotation_id: &str) -> Result<RotationReport> {
        let mut rotation = Rotation::new(secret, rotation_id);
        let mut action = rotation.start();
        let mut last_error: Option<runway_core::Error> = None;
        loop {
            let obs = match self.perform(&rotation, &action).await {
                Ok(obs) => obs,
                Err(e) => {
                    let kind = e.kind().clone();
                    last_error = Some(e);
                    Observation::Failed { kind }
                }
            };
            let succeeded = !matches!(obs, Observation::Failed { .. });
            let (next, next_action) = rotation.step(obs);
            rotation = next;
            if succeeded {
                if matches!(action, Action::Inspect) {
                    self.emit(SecretEvent::Started {
                        secret: secret.to_owned(),
                        rotator: self.rotator.name().to_owned(),
                        resumed_at: rotation.resumed_at().map(|s| s.as_str().to_owned()),
                    })
                    .await?;
                }
                if let Some((step, version_id)) = completed_step(&action, &next_action) {
                    tracing::info!(target: "runway_secrets", secret, %step, "rotation step done");
                    self.emit(SecretEvent::Step {
                        secret: secret.to_owned(),
                        step: step.as_str().to_owned(),
                        version_id,
                    })
                    .await?;
                }
            }
            match next_action {
                Action::Complete { current, previous } => {
                    self.emit(SecretEvent::Completed {
                        secret: secret.to_owned(),
                        version_id: current.clone(),
                        previous: previous.clone(),
                    })
                    .await?;
                    tracing::info!(target: "runway_secrets", secret, version = %current, "rotation completed");
                    return Ok(RotationReport {
                        secret: secret.to_owned(),
                        current,
                        previous,
                        resumed_at: rotation.resumed_at(),
                    });
                }
                Action::Abort { step, promoted } => {
                    let source = last_error.take().unwrap_or_else(|| {
                        runway_core::Error::provider("rotation observed an unexpected state")
                    });
                    if !promoted
                        && self.clear_pending_on_failure
                        && let Err(e) = self.store.clear_pending(secret).await
                    {
                        tracing::warn!(target: "runway_secrets", secret, error = %e, "could not clear the pending version");
                    }
                    tracing::warn!(target: "runway_secrets", secret, %step, error = %source, "rotation failed");
                    self.emit(SecretEvent::Failed {
                        secret: secret.to_owned(),
                        step: step.as_str().to_owned(),
                        error: source.to_string(),
                    })
                    .await?;
                    return Err(SecretsError::Rotation(Box::new(RotationFailure {
                        secret: secret.to_owned(),
                        step,
                        promoted,
                        source,
                    })));
                }
                a => action = a,
            }
        }
    }

    async fn emit(&self, e: SecretEvent) -> Result<()> {
        self.emitter.emit(e).await.map_err(SecretsError::from)
    }

    async fn version_by_id(&self, secret: &str, id: &str) -> runway_core::Result<SecretVersion> {
        for stage in [
            SecretStage::Pending,
            SecretStage::Current,
            SecretStage::Previous,
        ] {
            match self.store.get(secret, stage).await {
                Ok(v) if v.info.version_id == id => return Ok(v),
                Ok(_) => {}
                Err(e) if e.kind() == &ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Err(runway_core::Error::not_found(format!(
            "secret {secret:?} has no staged version {id:?}"
        )))
    }

    async fn perform(
        &self,
        rotation: &Rotation,
        action: &Action,
    ) -> runway_core::Result<Observation> {
        let secret = rotation.secret();
        Ok(match action {
            Action::Inspect => {
                let current = self.store.get(secret, SecretStage::Current).await?.info;
                let pending = match self.store.get(secret, SecretStage::Pending).await {
                    Ok(v) => Some(v.info),
                    Err(e) if e.kind() == &ErrorKind::NotFound => None,
                    Err(e) => return Err(e),
                };
                Observation::Inspected(Inspection { current, pending })
            }
            Action::CreatePending { token } => {
                let current = self.store.get(secret, SecretStage::Current).await?;
                let value = self.rotator.create(&current).await?;
                let version_id = self.store.put_pending(secret, value, token).await?;
                Observation::Created { version_id }
            }
            Action::SetTarget { pending } => {
                let p = self.version_by_id(secret, pending).await?;
                let current = self.store.get(secret, SecretStage::Current).await?;
                self.rotator.set(&p, &current).await?;
                Observation::TargetSet
            }
            Action::TestTarget { pending } => {
                let p = self.version_by_id(secret, pending).await?;
                self.rotator.test(&p).await?;
                Observation::Tested
            }
            Action::Promote { pending } => {
                self.store.promote(secret, pending).await?;
                Observation::Promoted
            }
            Action::CleanUp => {
                let current = self.store.get(secret, SecretStage::Current).await?;
                let previous = match self.store.get(secret, SecretStage::Previous).await {
                    Ok(v) => Some(v),
                    Err(e) if e.kind() == &ErrorKind::NotFound => None,
                    Err(e) => return Err(e),
                };
                self.rotator.finish(&current, previous.as_ref()).await?;
                Observation::CleanedUp
            }
            Action::Complete { .. } | Action::Abort { .. } => {
                return Err(runway_core::Error::provider(
                    "rotation driver asked to perform a final action",
                ));
            }
        })
    }
}

/// The step an action completed (and the version it concerned); the promotion is part of `finish`, which
/// completes with the clean-up.
fn completed_step(done: &Action, next: &Action) -> Option<(RotationStep, Option<String>)> {
    match (done, next) {
        (Action::CreatePending { .. }, Action::SetTarget { pending }) => {
            Some((RotationStep::Create, Some(pending.clone())))
        }
        (Action::SetTarget { pending }, _) => Some((RotationStep::Set, Some(pending.clone()))),
        (Action::TestTarget { pending }, _) => Some((RotationStep::Test, Some(pending.clone()))),
        (Action::CleanUp, Action::Complete { current, .. }) => {
            Some((RotationStep::Finish, Some(current.clone())))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str) -> SecretVersionInfo {
        SecretVersionInfo {
            version_id: id.into(),
            stages: vec![],
            created_at: None,
        }
    }

    #[test]
    fn happy_path_visits_every_step() {
        let r = Rotation::new("db", "r1");
        let token = r.token().clone();
        let (r, a) = r.step(Observation::Inspected(Inspection {
            current: info("v0"),
            pending: None,
        }));
        assert_eq!(
            a,
            Action::CreatePending {
                token: token.clone()
            }
        );
        let (r, a) = r.step(Observation::Created {
            version_id: token.as_str().into(),
        });
        assert_eq!(
            a,
            Action::SetTarget {
                pending: token.as_str().into()
            }
        );
        let (r, a) = r.step(Observation::TargetSet);
        assert!(matches!(a, Action::TestTarget { .. }));
        let (r, a) = r.step(Observation::Tested);
        assert!(matches!(a, Action::Promote { .. }));
        let (r, a) = r.step(Observation::Promoted);
        assert_eq!(a, Action::CleanUp);
        let (_, a) = r.step(Observation::CleanedUp);
        assert_eq!(
            a,
            Action::Complete {
                current: token.as_str().into(),
                previous: Some("v0".into())
            }
        );
    }

    #[test]
    fn resumes_from_pending_and_from_promoted() {
        let r = Rotation::new("db", "r1");
        let (r, a) = r.clone().step(Observation::Inspected(Inspection {
            current: info("v0"),
            pending: Some(info("left-over")),
        }));
        assert_eq!(
            a,
            Action::SetTarget {
                pending: "left-over".into()
            }
        );
        assert_eq!(r.resumed_at(), Some(RotationStep::Set));
        let fresh = Rotation::new("db", "r1");
        let tok = fresh.token().as_str().to_owned();
        let (r, a) = fresh.step(Observation::Inspected(Inspection {
            current: info(&tok),
            pending: None,
        }));
        assert_eq!(a, Action::CleanUp);
        assert_eq!(r.resumed_at(), Some(RotationStep::Finish));
    }

    #[test]
    fn failures_abort_at_their_step() {
        let r = Rotation::new("db", "r1");
        let (r, _) = r.step(Observation::Inspected(Inspection {
            current: info("v0"),
            pending: None,
        }));
        let (r2, a) = r.clone().step(Observation::Failed {
            kind: ErrorKind::Unavailable,
        });
        assert_eq!(
            a,
            Action::Abort {
                step: RotationStep::Create,
                promoted: false
            }
        );
        assert_eq!(r2.current_step(), None);
        let (r, _) = r.step(Observation::Created {
            version_id: "p".into(),
        });
        let (r, _) = r.step(Observation::TargetSet);
        let (_, a) = r.step(Observation::Failed {
            kind: ErrorKind::Provider,
        });
        assert_eq!(
            a,
            Action::Abort {
                step: RotationStep::Test,
                promoted: false
            }
        );
    }

    #[test]
    fn state_serialises_without_values() {
        let r = Rotation::new("db", "r1");
        let json = serde_json::to_string(&r).unwrap();
        let back: Rotation = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn out_of_order_observation_aborts() {
        let r = Rotation::new("db", "r1");
        let (_, a) = r.step(Observation::Promoted);
        assert!(matches!(a, Action::Abort { .. }));
    }
}
