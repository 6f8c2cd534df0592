//! # runway-secrets
//!
//! Secret rotation, the rotation schedule, and the environment-variable audit.
//!
//! | what | entry points |
//! |---|---|
//! | rotation engine | [`Rotation`] (pure state machine: create -> set -> test -> finish), [`Rotate`] (driver), [`Rotator`] |
//! | rotators | [`PostgresRotator`] (two alternating login roles), [`ApiKeyRotator`] (your [`ApiKeyProvider`]), [`JwtRotator`] (Ed25519 [`KeyRing`], JWKS) |
//! | stores for the embedded default | [`MemorySecretStore`], [`FileSecretStore`] (any [`runway_core::SecretStore`] works, e.g. Secrets Manager) |
//! | schedule | [`RotationPolicy::runbook`] (database passwords quarterly, API keys and JWT secrets annually), [`DueReport`] |
//! | env-var audit | [`audit::audit_stores`]: `.env.example` vs each environment, fingerprints only; [`DotenvStore`] |
//! | fault injection | [`testing::FailingRotator`], [`testing::FailingStore`] |
//!
//! A failure at any step before the promotion leaves the current version untouched and working; the
//! pending version stays staged, and the next run resumes from it. No secret value reaches an event, a log
//! line or an error.
//!
//! ```
//! use std::sync::Arc;
//! use runway_core::{MemorySink, Emitter, RequestToken, SecretStage, SecretStore};
//! use runway_secrets::{JwtRotator, KeyRing, MemoryJwks, MemorySecretStore, Rotate};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = MemorySecretStore::new();
//! let ring = KeyRing::generate(chrono::Utc::now())?;
//! store.create("jwt/signing", ring.to_secret(), &RequestToken::derive("jwt/signing", "init")).await?;
//!
//! let jwks = MemoryJwks::new();
//! let sink = MemorySink::new();
//! let rotate = Rotate::new(Arc::new(store.clone()), Arc::new(JwtRotator::new(Arc::new(jwks.clone()))))
//!     .with_emitter(Emitter::new(Arc::new(sink.clone())));
//! let report = rotate.run("jwt/signing", "2026").await?;
//!
//! let current = store.get("jwt/signing", SecretStage::Current).await?;
//! assert_eq!(current.info.version_id, report.current);
//! assert_eq!(jwks.get().keys.len(), 2); // old and new key both published
//! assert!(!sink.events().is_empty());
//! # Ok(()) }
//! ```

pub mod audit;
mod error;
pub mod rotation;
pub mod rotators;
pub mod schedule;
mod store;
pub mod testing;

pub use audit::{AuditReport, DotenvStore};
pub use error::{Result, RotationFailure, SecretsError};
pub use rotation::{Action, Observation, Rotate, Rotation, RotationReport, RotationStep, Rotator};
pub use rotators::api_key::{ApiKeyProvider, ApiKeyRotator};
pub use rotators::jwt::{JwksPublisher, JwtRotator, KeyRing, MemoryJwks};
pub use rotators::postgres::{PgCredentials, PostgresRotator, PostgresRotatorBuilder};
pub use schedule::{DueReport, DueStatus, RotationPolicy, SecretClass, SecretRecord};
pub use store::{FileSecretStore, MemorySecretStore, decode_store_file};
