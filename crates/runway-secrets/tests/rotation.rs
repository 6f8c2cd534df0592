//! The rotation engine over the in-memory and file stores: full rotations, a failure at each step, resume,
//! idempotent re-runs, and no secret value in events or errors.

mod common;

use std::sync::Arc;

use common::FakeProvider;
use runway_core::event::SecretEvent;
use runway_core::{Emitter, EventPayload, MemorySink, RequestToken, SecretStage, SecretStore};
use runway_secrets::testing::{FailingRotator, FailingStore};
use runway_secrets::{
    ApiKeyRotator, FileSecretStore, MemorySecretStore, Rotate, RotationStep, Rotator,
};
use secrecy::{ExposeSecret, SecretString};

const NAME: &str = "payments/api-key";
const FIRST: &str = "sk_live_0000_initialKEYvalue";

async fn seeded() -> (MemorySecretStore, FakeProvider) {
    let store = MemorySecretStore::new();
    store
        .create(
            NAME,
            SecretString::from(FIRST),
            &RequestToken::derive(NAME, "init"),
        )
        .await
        .unwrap();
    (store, FakeProvider::with_key(FIRST))
}

fn events_text(sink: &MemorySink) -> String {
    serde_json::to_string(&sink.events()).unwrap()
}

#[tokio::test]
async fn full_rotation_promotes_and_revokes_previous() {
    let (store, provider) = seeded().await;
    let sink = MemorySink::new();
    let rotate = Rotate::new(
        Arc::new(store.clone()),
        Arc::new(ApiKeyRotator::new(Arc::new(provider.clone()))),
    )
    .with_emitter(Emitter::new(Arc::new(sink.clone())));
    let report = rotate.run(NAME, "2026").await.unwrap();

    let current = store.get(NAME, SecretStage::Current).await.unwrap();
    let previous = store.get(NAME, SecretStage::Previous).await.unwrap();
    assert_eq!(current.info.version_id, report.current);
    assert_eq!(previous.value.expose_secret(), FIRST);
    assert!(provider.accepts(&current.value));
    assert!(!provider.accepts(&previous.value), "previous key revoked");
    assert!(store.get(NAME, SecretStage::Pending).await.is_err());

    let steps: Vec<String> = sink
        .payloads()
        .into_iter()
        .filter_map(|p| match p {
            EventPayload::Secret(SecretEvent::Step { step, .. }) => Some(step),
            _ => None,
        })
        .collect();
    assert_eq!(steps, ["create", "set", "test", "finish"]);
    assert!(matches!(
        sink.payloads().last(),
        Some(EventPayload::Secret(SecretEvent::Completed { .. }))
    ));
    let text = events_text(&sink);
    assert!(!text.contains(FIRST) && !text.contains(current.value.expose_secret()));
}

#[tokio::test]
async fn failure_at_each_step_leaves_current_working() {
    for step in [RotationStep::Create, RotationStep::Set, RotationStep::Test] {
        let (store, provider) = seeded().await;
        let sink = MemorySink::new();
        let rotator = FailingRotator::new(ApiKeyRotator::new(Arc::new(provider.clone())), step);
        let err = Rotate::new(Arc::new(store.clone()), Arc::new(rotator))
            .with_emitter(Emitter::new(Arc::new(sink.clone())))
            .run(NAME, "2026")
            .await
            .unwrap_err();
        assert_eq!(err.step(), Some(step));
        assert!(!err.rotation().unwrap().promoted);
        let current = store.get(NAME, SecretStage::Current).await.unwrap();
        assert_eq!(
            current.value.expose_secret(),
            FIRST,
            "{step}: current untouched"
        );
        assert!(
            provider.accepts(&current.value),
            "{step}: current still accepted"
        );
        assert!(matches!(
            sink.payloads().last(),
            Some(EventPayload::Secret(SecretEvent::Failed { .. }))
        ));
    }
    // The store side of finish: promotion fails.
    let (store, provider) = seeded().await;
    let failing = FailingStore::promote(store.clone());
    let err = Rotate::new(
        Arc::new(failing),
        Arc::new(ApiKeyRotator::new(Arc::new(provider.clone()))),
    )
    .run(NAME, "2026")
    .await
    .unwrap_err();
    assert_eq!(err.step(), Some(RotationStep::Finish));
    let current = store.get(NAME, SecretStage::Current).await.unwrap();
    assert_eq!(current.value.expose_secret(), FIRST);
    assert!(provider.accepts(&current.value));
    // The rotator side of finish (after the promotion): the new current works.
    let (store, provider) = seeded().await;
    let rotator = FailingRotator::new(
        ApiKeyRotator::new(Arc::new(provider.clone())),
        RotationStep::Finish,
    );
    let err = Rotate::new(Arc::new(store.clone()), Arc::new(rotator))
        .run(NAME, "2026")
        .await
        .unwrap_err();
    assert!(err.rotation().unwrap().promoted);
    let current = store.get(NAME, SecretStage::Current).await.unwrap();
    assert_ne!(current.value.expose_secret(), FIRST);
    assert!(provider.accepts(&current.value));
}

#[tokio::test]
async fn resumes_from_pending_after_a_failure() {
    let (store, provider) = seeded().await;
    let rotator: Arc<dyn Rotator> = Arc::new(FailingRotator::once(
        ApiKeyRotator::new(Arc::new(provider.clone())),
        RotationStep::Test,
    ));
    let rotate = Rotate::new(Arc::new(store.clone()), rotator);
    assert!(rotate.run(NAME, "2026").await.is_err());
    let pending = store.get(NAME, SecretStage::Pending).await.unwrap();
    let report = rotate.run(NAME, "2026").await.unwrap();
    assert_eq!(report.resumed_at, Some(RotationStep::Set));
    assert_eq!(report.current, pending.info.version_id);
    // Only one key was issued: the resumed run reused the pending version.
    assert_eq!(provider.issued.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn rerunning_a_finished_rotation_is_a_no_op() {
    let (store, provider) = seeded().await;
    let rotate = Rotate::new(
        Arc::new(store.clone()),
        Arc::new(ApiKeyRotator::new(Arc::new(provider.clone()))),
    );
    let first = rotate.run(NAME, "2026").await.unwrap();
    let again = rotate.run(NAME, "2026").await.unwrap();
    assert_eq!(again.current, first.current);
    assert_eq!(again.resumed_at, Some(RotationStep::Finish));
    assert_eq!(provider.issued.lock().unwrap().len(), 1);
    assert_eq!(store.versions(NAME).await.unwrap().len(), 2);
    // A new rotation id rotates again.
    let next = rotate.run(NAME, "2027").await.unwrap();
    assert_ne!(next.current, first.current);
    assert_eq!(next.previous.as_deref(), Some(first.current.as_str()));
}

#[tokio::test]
async fn clear_pending_on_failure_drops_the_pending_version() {
    let (store, provider) = seeded().await;
    let rotator = FailingRotator::new(
        ApiKeyRotator::new(Arc::new(provider.clone())),
        RotationStep::Test,
    );
    Rotate::new(Arc::new(store.clone()), Arc::new(rotator))
        .clear_pending_on_failure(true)
        .run(NAME, "x")
        .await
        .unwrap_err();
    assert!(store.get(NAME, SecretStage::Pending).await.is_err());
}

#[tokio::test]
async fn file_store_persists_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.json");
    let store = FileSecretStore::open(&path).await.unwrap();
    store
        .create(
            NAME,
            SecretString::from(FIRST),
            &RequestToken::derive(NAME, "init"),
        )
        .await
        .unwrap();
    let provider = FakeProvider::with_key(FIRST);
    let report = Rotate::new(
        Arc::new(store.clone()),
        Arc::new(ApiKeyRotator::new(Arc::new(provider))),
    )
    .run(NAME, "2026")
    .await
    .unwrap();
    let reopened = FileSecretStore::open(&path).await.unwrap();
    let cur = reopened.get(NAME, SecretStage::Current).await.unwrap();
    assert_eq!(cur.info.version_id, report.current);
    assert_eq!(
        reopened
            .get(NAME, SecretStage::Previous)
            .await
            .unwrap()
            .value
            .expose_secret(),
        FIRST
    );
    assert!(!format!("{reopened:?}").contains(FIRST));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "store file is private");
    }
}

#[tokio::test(start_paused = true)]
async fn rotates_on_the_simulator_store() {
    let sim = runway_sim::SimPlatform::builder().build();
    sim.create(
        NAME,
        SecretString::from(FIRST),
        &RequestToken::derive(NAME, "init"),
    )
    .await
    .unwrap();
    let provider = FakeProvider::with_key(FIRST);
    let rotator: Arc<dyn Rotator> = Arc::new(ApiKeyRotator::new(Arc::new(provider.clone())));
    let failing = Rotate::new(
        Arc::new(sim.clone()),
        Arc::new(FailingRotator::once(rotator.clone(), RotationStep::Set)),
    );
    assert!(failing.run(NAME, "2026").await.is_err());
    assert_eq!(
        sim.get(NAME, SecretStage::Current)
            .await
            .unwrap()
            .value
            .expose_secret(),
        FIRST
    );
    let report = Rotate::new(Arc::new(sim.clone()), rotator)
        .run(NAME, "2026")
        .await
        .unwrap();
    assert_eq!(report.resumed_at, Some(RotationStep::Set));
    let cur = sim.get(NAME, SecretStage::Current).await.unwrap();
    assert_eq!(cur.info.version_id, report.current);
    assert!(provider.accepts(&cur.value));
}
