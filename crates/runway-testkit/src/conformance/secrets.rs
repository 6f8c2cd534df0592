//! The [`SecretStore`] conformance suite.

use std::sync::Arc;

use runway_core::secrecy::{ExposeSecret, SecretString};
use runway_core::{ErrorKind, RequestToken, SecretStage, SecretStore};

/// What the secrets suite needs from a backend.
#[derive(Debug, Clone)]
pub struct SecretsFixture {
    /// The backend under test.
    pub store: Arc<dyn SecretStore>,
    /// A prefix for secret names, unique to this test run.
    pub prefix: String,
}

impl SecretsFixture {
    /// A fixture with a random name prefix.
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        let n: u64 = rand::random();
        SecretsFixture {
            store,
            prefix: format!("runway-conformance/{n:016x}"),
        }
    }

    fn name(&self, s: &str) -> String {
        format!("{}/{s}", self.prefix)
    }
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn token(s: &str) -> RequestToken {
    // AWS wants 32..64 characters.
    RequestToken::new(format!("{s:0>36}"))
}

async fn value(store: &dyn SecretStore, name: &str, stage: SecretStage) -> String {
    store
        .get(name, stage)
        .await
        .unwrap_or_else(|e| panic!("get {name} {stage}: {e}"))
        .value
        .expose_secret()
        .to_owned()
}

/// A created secret is readable at the current stage.
pub async fn create_then_get_current(fx: &SecretsFixture) {
    let name = fx.name("create");
    fx.store
        .create(&name, secret("v1"), &token("c1"))
        .await
        .expect("create");
    assert_eq!(value(&*fx.store, &name, SecretStage::Current).await, "v1");
    let e = fx.store.get(&name, SecretStage::Pending).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound, "{e}");
}

/// Creating an existing secret (with another token) is a conflict.
pub async fn create_twice_conflicts(fx: &SecretsFixture) {
    let name = fx.name("twice");
    fx.store
        .create(&name, secret("v1"), &token("t1"))
        .await
        .expect("create");
    let e = fx
        .store
        .create(&name, secret("v2"), &token("t2"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Conflict, "{e}");
    assert_eq!(value(&*fx.store, &name, SecretStage::Current).await, "v1");
}

/// A retried pending write with the same token and value returns the same version.
pub async fn put_pending_is_idempotent_per_token(fx: &SecretsFixture) {
    let name = fx.name("idem");
    fx.store
        .create(&name, secret("v1"), &token("i1"))
        .await
        .expect("create");
    let a = fx
        .store
        .put_pending(&name, secret("v2"), &token("i2"))
        .await
        .expect("put");
    let b = fx
        .store
        .put_pending(&name, secret("v2"), &token("i2"))
        .await
        .expect("put again");
    assert_eq!(a, b);
    let versions = fx.store.versions(&name).await.expect("versions");
    assert_eq!(versions.len(), 2, "a retried write created another version");
    assert_eq!(value(&*fx.store, &name, SecretStage::Pending).await, "v2");
    assert_eq!(value(&*fx.store, &name, SecretStage::Current).await, "v1");
}

/// The same token with another value is a conflict, and nothing changes.
pub async fn token_reuse_with_other_value_conflicts(fx: &SecretsFixture) {
    let name = fx.name("reuse");
    fx.store
        .create(&name, secret("v1"), &token("r1"))
        .await
        .expect("create");
    fx.store
        .put_pending(&name, secret("v2"), &token("r2"))
        .await
        .expect("put");
    let e = fx
        .store
        .put_pending(&name, secret("v3"), &token("r2"))
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Conflict | ErrorKind::InvalidInput),
        "token reuse with another value: {e}"
    );
    assert_eq!(value(&*fx.store, &name, SecretStage::Pending).await, "v2");
}

/// Promote: pending becomes current, current becomes previous.
pub async fn promote_moves_stages(fx: &SecretsFixture) {
    let name = fx.name("promote");
    fx.store
        .create(&name, secret("v1"), &token("p1"))
        .await
        .expect("create");
    let v2 = fx
        .store
        .put_pending(&name, secret("v2"), &token("p2"))
        .await
        .expect("put");
    fx.store.promote(&name, &v2).await.expect("promote");
    assert_eq!(value(&*fx.store, &name, SecretStage::Current).await, "v2");
    assert_eq!(value(&*fx.store, &name, SecretStage::Previous).await, "v1");
    let pending = fx.store.get(&name, SecretStage::Pending).await;
    assert!(
        pending.is_err() || pending.as_ref().is_ok_and(|p| p.info.version_id != v2),
        "the promoted version is still pending"
    );
}

/// Promoting the current version changes nothing.
pub async fn promote_is_idempotent(fx: &SecretsFixture) {
    let name = fx.name("promote-idem");
    fx.store
        .create(&name, secret("v1"), &token("q1"))
        .await
        .expect("create");
    let v2 = fx
        .store
        .put_pending(&name, secret("v2"), &token("q2"))
        .await
        .expect("put");
    fx.store.promote(&name, &v2).await.expect("promote");
    fx.store.promote(&name, &v2).await.expect("promote again");
    assert_eq!(value(&*fx.store, &name, SecretStage::Current).await, "v2");
    assert_eq!(value(&*fx.store, &name, SecretStage::Previous).await, "v1");
}

/// Clearing the pending stage leaves current untouched.
pub async fn clear_pending_abandons_rotation(fx: &SecretsFixture) {
    let name = fx.name("clear");
    fx.store
        .create(&name, secret("v1"), &token("x1"))
        .await
        .expect("create");
    fx.store
        .put_pending(&name, secret("v2"), &token("x2"))
        .await
        .expect("put");
    fx.store.clear_pending(&name).await.expect("clear");
    assert_eq!(
        fx.store
            .get(&name, SecretStage::Pending)
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::NotFound
    );
    assert_eq!(value(&*fx.store, &name, SecretStage::Current).await, "v1");
    fx.store
        .clear_pending(&name)
        .await
        .expect("clear again is fine");
}

/// Unknown secrets are `NotFound`.
pub async fn unknown_secret_is_not_found(fx: &SecretsFixture) {
    let name = fx.name("missing");
    let e = fx.store.get(&name, SecretStage::Current).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound, "{e}");
    let e = fx.store.versions(&name).await.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotFound, "{e}");
}

/// Values never appear in `Debug` of versions or the store, nor in error messages.
pub async fn values_never_printed(fx: &SecretsFixture) {
    let marker = "rw-conf-secret-8c2b";
    let name = fx.name("printed");
    fx.store
        .create(&name, secret(marker), &token("d1"))
        .await
        .expect("create");
    let v = fx
        .store
        .get(&name, SecretStage::Current)
        .await
        .expect("get");
    assert!(!format!("{v:?}").contains(marker));
    assert!(!format!("{:?}", fx.store).contains(marker));
    let e = fx
        .store
        .create(&name, secret(marker), &token("d2"))
        .await
        .unwrap_err();
    assert!(!e.to_string().contains(marker) && !format!("{e:?}").contains(marker));
}
