//! Secrets Manager against moto: the SecretStore contract, a full rotation, a failure injected at each
//! rotation step leaving AWSCURRENT valid, and no secret value in the SDK's or runway's tracing output.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use runway_aws::SecretsManagerStore;
use runway_core::{Emitter, ErrorKind, MemorySink, RequestToken, SecretStage, SecretStore};
use runway_secrets::testing::{FailingRotator, FailingStore};
use runway_secrets::{ApiKeyProvider, ApiKeyRotator, Rotate, RotationStep};
use runway_testkit::MotoServer;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Default, Clone)]
struct Provider {
    valid: Arc<Mutex<BTreeSet<String>>>,
    n: Arc<Mutex<u32>>,
}

impl Provider {
    fn accepts(&self, k: &SecretString) -> bool {
        self.valid.lock().unwrap().contains(k.expose_secret())
    }
}

#[async_trait]
impl ApiKeyProvider for Provider {
    async fn issue(&self, _c: &SecretString) -> runway_core::Result<SecretString> {
        let mut n = self.n.lock().unwrap();
        *n += 1;
        let k = format!("sk_live_{:03}_Kp4xW9qZ", *n);
        self.valid.lock().unwrap().insert(k.clone());
        Ok(SecretString::from(k))
    }
    async fn verify(&self, k: &SecretString) -> runway_core::Result<()> {
        if self.accepts(k) {
            Ok(())
        } else {
            Err(runway_core::Error::new(
                ErrorKind::Unauthenticated,
                "rejected",
            ))
        }
    }
    async fn revoke(&self, k: &SecretString) -> runway_core::Result<()> {
        self.valid.lock().unwrap().remove(k.expose_secret());
        Ok(())
    }
}

const FIRST: &str = "sk_live_000_initialValueXyZ";

async fn seeded(store: &SecretsManagerStore, name: &str) -> Provider {
    store
        .create(
            name,
            SecretString::from(FIRST),
            &RequestToken::derive(name, "init"),
        )
        .await
        .unwrap();
    let p = Provider::default();
    p.valid.lock().unwrap().insert(FIRST.into());
    p
}

#[tokio::test]
async fn store_contract() {
    let moto = MotoServer::start();
    let store = SecretsManagerStore::new(&common::config(&moto).await);
    let name = common::unique("contract");
    let t0 = RequestToken::derive(&name, "0");
    let v0 = store
        .create(&name, SecretString::from("v0"), &t0)
        .await
        .unwrap();
    assert_eq!(v0, t0.as_str());
    let dup = store
        .create(
            &name,
            SecretString::from("x"),
            &RequestToken::derive(&name, "x"),
        )
        .await
        .unwrap_err();
    assert_eq!(dup.kind(), &ErrorKind::Conflict);
    assert_eq!(
        store
            .get("missing-secret", SecretStage::Current)
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::NotFound
    );
    assert_eq!(
        store
            .get(&name, SecretStage::Pending)
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::NotFound
    );

    let t1 = RequestToken::derive(&name, "1");
    let v1 = store
        .put_pending(&name, SecretString::from("v1"), &t1)
        .await
        .unwrap();
    // A retried write with the same token and value is the same version.
    assert_eq!(
        store
            .put_pending(&name, SecretString::from("v1"), &t1)
            .await
            .unwrap(),
        v1
    );
    assert_eq!(
        store
            .get(&name, SecretStage::Pending)
            .await
            .unwrap()
            .info
            .version_id,
        v1
    );
    assert_eq!(
        store
            .get(&name, SecretStage::Current)
            .await
            .unwrap()
            .value
            .expose_secret(),
        "v0"
    );

    store.promote(&name, &v1).await.unwrap();
    store.promote(&name, &v1).await.unwrap();
    let cur = store.get(&name, SecretStage::Current).await.unwrap();
    assert_eq!(cur.value.expose_secret(), "v1");
    assert_eq!(cur.info.stages, [SecretStage::Current]);
    assert_eq!(
        store
            .get(&name, SecretStage::Previous)
            .await
            .unwrap()
            .info
            .version_id,
        v0
    );
    assert!(store.get(&name, SecretStage::Pending).await.is_err());

    store
        .put_pending(
            &name,
            SecretString::from("v2"),
            &RequestToken::derive(&name, "2"),
        )
        .await
        .unwrap();
    store.clear_pending(&name).await.unwrap();
    assert!(store.get(&name, SecretStage::Pending).await.is_err());
    let versions = store.versions(&name).await.unwrap();
    assert!(versions.len() >= 2);
    assert!(
        versions
            .iter()
            .any(|v| v.version_id == v1 && v.stages == [SecretStage::Current])
    );

    let short = store
        .put_pending(&name, SecretString::from("v3"), &RequestToken::new("short"))
        .await;
    assert_eq!(short.unwrap_err().kind(), &ErrorKind::InvalidInput);
}

#[tokio::test]
async fn full_rotation_through_secrets_manager() {
    let moto = MotoServer::start();
    let store = SecretsManagerStore::new(&common::config(&moto).await);
    let name = common::unique("payments/api-key");
    let provider = seeded(&store, &name).await;
    let sink = MemorySink::new();
    let report = Rotate::new(
        Arc::new(store.clone()),
        Arc::new(ApiKeyRotator::new(Arc::new(provider.clone()))),
    )
    .with_emitter(Emitter::new(Arc::new(sink.clone())))
    .run(&name, "2026")
    .await
    .unwrap();
    let cur = store.get(&name, SecretStage::Current).await.unwrap();
    assert_eq!(cur.info.version_id, report.current);
    assert!(provider.accepts(&cur.value));
    let prev = store.get(&name, SecretStage::Previous).await.unwrap();
    assert_eq!(prev.value.expose_secret(), FIRST);
    assert!(!provider.accepts(&prev.value));
    assert!(
        store.get(&name, SecretStage::Pending).await.is_err(),
        "no pending left (final-state rule)"
    );
    let events = serde_json::to_string(&sink.events()).unwrap();
    assert!(!events.contains(FIRST) && !events.contains(cur.value.expose_secret()));
    assert!(events.contains("\"finish\""));
}

#[tokio::test]
async fn failure_at_each_step_leaves_awscurrent_valid() {
    let moto = MotoServer::start();
    let store = SecretsManagerStore::new(&common::config(&moto).await);
    for step in [RotationStep::Create, RotationStep::Set, RotationStep::Test] {
        let name = common::unique(&format!("fail-{step}"));
        let provider = seeded(&store, &name).await;
        let rotator = FailingRotator::new(ApiKeyRotator::new(Arc::new(provider.clone())), step);
        let err = Rotate::new(Arc::new(store.clone()), Arc::new(rotator))
            .run(&name, "2026")
            .await
            .unwrap_err();
        assert_eq!(err.step(), Some(step));
        let cur = store.get(&name, SecretStage::Current).await.unwrap();
        assert_eq!(cur.value.expose_secret(), FIRST, "{step}");
        assert!(provider.accepts(&cur.value), "{step}");
    }
    // finish: the promotion fails
    let name = common::unique("fail-promote");
    let provider = seeded(&store, &name).await;
    let err = Rotate::new(
        Arc::new(FailingStore::promote(store.clone())),
        Arc::new(ApiKeyRotator::new(Arc::new(provider.clone()))),
    )
    .run(&name, "2026")
    .await
    .unwrap_err();
    assert_eq!(err.step(), Some(RotationStep::Finish));
    let cur = store.get(&name, SecretStage::Current).await.unwrap();
    assert_eq!(cur.value.expose_secret(), FIRST);
    assert!(provider.accepts(&cur.value));
    // ...and the next run resumes from the pending version and completes.
    let report = Rotate::new(
        Arc::new(store.clone()),
        Arc::new(ApiKeyRotator::new(Arc::new(provider.clone()))),
    )
    .run(&name, "2026")
    .await
    .unwrap();
    assert_eq!(report.resumed_at, Some(RotationStep::Set));
    assert!(provider.accepts(&store.get(&name, SecretStage::Current).await.unwrap().value));
    // finish: the clean-up after the promotion fails; the new AWSCURRENT works.
    let name = common::unique("fail-cleanup");
    let provider = seeded(&store, &name).await;
    let rotator = FailingRotator::new(
        ApiKeyRotator::new(Arc::new(provider.clone())),
        RotationStep::Finish,
    );
    let err = Rotate::new(Arc::new(store.clone()), Arc::new(rotator))
        .run(&name, "2026")
        .await
        .unwrap_err();
    assert!(err.rotation().unwrap().promoted);
    assert!(provider.accepts(&store.get(&name, SecretStage::Current).await.unwrap().value));
}

#[tokio::test]
async fn no_secret_value_in_sdk_tracing() {
    let traces = runway_testkit::traces::capture();
    let moto = MotoServer::start();
    let store = SecretsManagerStore::new(&common::config(&moto).await);
    let name = common::unique("leak");
    let provider = seeded(&store, &name).await;
    let sink = MemorySink::new();
    Rotate::new(
        Arc::new(store.clone()),
        Arc::new(ApiKeyRotator::new(Arc::new(provider.clone()))),
    )
    .with_emitter(Emitter::new(Arc::new(sink.clone())))
    .run(&name, "2026")
    .await
    .unwrap();
    let cur = store.get(&name, SecretStage::Current).await.unwrap();
    let logs = traces.text();
    assert!(logs.contains("rotation completed"));
    assert!(
        logs.contains("aws_smithy_runtime"),
        "the SDK's own trace output was captured"
    );
    let all = format!(
        "{logs}\n{}\n{store:?}",
        serde_json::to_string(&sink.events()).unwrap()
    );
    assert!(!all.contains(FIRST), "first value leaked");
    assert!(!all.contains(cur.value.expose_secret()), "new value leaked");
}
