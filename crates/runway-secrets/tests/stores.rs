//! The SecretStore contract on the in-memory and file stores.

use runway_core::{ErrorKind, RequestToken, SecretStage, SecretStore};
use runway_secrets::{FileSecretStore, MemorySecretStore};
use secrecy::{ExposeSecret, SecretString};

async fn contract(store: &dyn SecretStore) {
    let t0 = RequestToken::derive("s", "0");
    let v0 = store
        .create("s", SecretString::from("v0"), &t0)
        .await
        .unwrap();
    // idempotent create
    assert_eq!(
        store
            .create("s", SecretString::from("v0"), &t0)
            .await
            .unwrap(),
        v0
    );
    let e = store
        .create(
            "s",
            SecretString::from("other"),
            &RequestToken::derive("s", "x"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Conflict);
    assert_eq!(
        store
            .get("missing", SecretStage::Current)
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::NotFound
    );
    assert_eq!(
        store
            .get("s", SecretStage::Pending)
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::NotFound
    );

    let t1 = RequestToken::derive("s", "1");
    let v1 = store
        .put_pending("s", SecretString::from("v1"), &t1)
        .await
        .unwrap();
    assert_eq!(
        store
            .put_pending("s", SecretString::from("v1"), &t1)
            .await
            .unwrap(),
        v1
    );
    assert_eq!(
        store
            .put_pending("s", SecretString::from("changed"), &t1)
            .await
            .unwrap_err()
            .kind(),
        &ErrorKind::Conflict
    );
    assert_eq!(
        store
            .get("s", SecretStage::Pending)
            .await
            .unwrap()
            .info
            .version_id,
        v1
    );
    assert_eq!(
        store
            .get("s", SecretStage::Current)
            .await
            .unwrap()
            .value
            .expose_secret(),
        "v0"
    );

    store.promote("s", &v1).await.unwrap();
    store.promote("s", &v1).await.unwrap(); // no-op
    assert_eq!(
        store
            .get("s", SecretStage::Current)
            .await
            .unwrap()
            .value
            .expose_secret(),
        "v1"
    );
    assert_eq!(
        store
            .get("s", SecretStage::Previous)
            .await
            .unwrap()
            .info
            .version_id,
        v0
    );
    assert!(store.get("s", SecretStage::Pending).await.is_err());

    let t2 = RequestToken::derive("s", "2");
    store
        .put_pending("s", SecretString::from("v2"), &t2)
        .await
        .unwrap();
    store.clear_pending("s").await.unwrap();
    store.clear_pending("s").await.unwrap();
    assert!(store.get("s", SecretStage::Pending).await.is_err());
    let versions = store.versions("s").await.unwrap();
    assert_eq!(versions.len(), 3);
    assert!(
        versions.iter().any(|v| v.stages.is_empty()),
        "a deprecated version"
    );
    assert_eq!(
        store.promote("s", "nope").await.unwrap_err().kind(),
        &ErrorKind::NotFound
    );
}

#[tokio::test]
async fn memory_store_contract() {
    contract(&MemorySecretStore::new()).await;
}

#[tokio::test]
async fn file_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileSecretStore::open(dir.path().join("s.json"))
        .await
        .unwrap();
    contract(&store).await;
    let reopened = FileSecretStore::open(dir.path().join("s.json"))
        .await
        .unwrap();
    assert_eq!(reopened.versions("s").await.unwrap().len(), 3);
}

#[tokio::test]
async fn corrupt_store_file_is_typed_and_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    std::fs::write(&p, br#"{"format":1,"secrets":{"a":[{"id":"x","value":"hunter2","stages":["current","current"],"created_at":"2026-01-01T00:00:00Z"}]}}"#).unwrap();
    let err = FileSecretStore::open(&p).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    std::fs::write(
        &p,
        br#"{"format":1,"secrets":{"a":[{"id":"x","value":7777777}]}}"#,
    )
    .unwrap();
    let err = FileSecretStore::open(&p).await.unwrap_err();
    assert!(!err.to_string().contains("7777777"), "{err}");
}
