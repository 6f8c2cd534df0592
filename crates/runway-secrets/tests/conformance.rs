//! The shared SecretStore conformance suite on the in-memory and file stores.

use std::sync::Arc;

use async_trait::async_trait;
use runway_core::secrecy::SecretString;
use runway_core::{
    RequestToken, SecretCapabilities, SecretStage, SecretStore, SecretVersion, SecretVersionInfo,
};
use runway_secrets::{FileSecretStore, MemorySecretStore};
use runway_testkit::conformance::secrets::SecretsFixture;
use runway_testkit::secrets_conformance;

/// A file store that removes its folder when the suite drops it.
#[derive(Debug)]
struct InTempDir {
    inner: FileSecretStore,
    _dir: tempfile::TempDir,
}

#[async_trait]
impl SecretStore for InTempDir {
    fn capabilities(&self) -> SecretCapabilities {
        self.inner.capabilities()
    }
    async fn create(
        &self,
        n: &str,
        v: SecretString,
        t: &RequestToken,
    ) -> runway_core::Result<String> {
        self.inner.create(n, v, t).await
    }
    async fn get(&self, n: &str, s: SecretStage) -> runway_core::Result<SecretVersion> {
        self.inner.get(n, s).await
    }
    async fn put_pending(
        &self,
        n: &str,
        v: SecretString,
        t: &RequestToken,
    ) -> runway_core::Result<String> {
        self.inner.put_pending(n, v, t).await
    }
    async fn promote(&self, n: &str, id: &str) -> runway_core::Result<()> {
        self.inner.promote(n, id).await
    }
    async fn clear_pending(&self, n: &str) -> runway_core::Result<()> {
        self.inner.clear_pending(n).await
    }
    async fn versions(&self, n: &str) -> runway_core::Result<Vec<SecretVersionInfo>> {
        self.inner.versions(n).await
    }
}

async fn memory() -> SecretsFixture {
    SecretsFixture::new(Arc::new(MemorySecretStore::new()))
}

async fn file() -> SecretsFixture {
    let dir = tempfile::tempdir().unwrap();
    let inner = FileSecretStore::open(dir.path().join("secrets.json"))
        .await
        .unwrap();
    SecretsFixture::new(Arc::new(InTempDir { inner, _dir: dir }))
}

secrets_conformance!(memory_store, paused, memory());
secrets_conformance!(file_store, real, file());
