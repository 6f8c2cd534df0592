//! Secret stores for the embedded default: [`MemorySecretStore`] and [`FileSecretStore`] (a JSON file).
//!
//! Both follow Secrets Manager's rules: version ids are client request tokens (a retried write with the
//! same token and value returns the same version; another value is a `Conflict`), each stage sits on one
//! version, promoting moves current to previous, and versions without a stage are kept (deprecated) up to
//! a limit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use runway_core::{
    Clock, Error, RequestToken, SecretCapabilities, SecretStage, SecretStore, SecretVersion,
    SecretVersionInfo, SystemClock,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{SecretsError, redacted_json};

/// Versions without a stage kept per secret.
const KEEP_DEPRECATED: usize = 10;

#[derive(Clone)]
struct StoredVersion {
    id: String,
    value: SecretString,
    stages: Vec<SecretStage>,
    created_at: DateTime<Utc>,
}

#[derive(Default, Clone)]
struct State {
    secrets: BTreeMap<String, Vec<StoredVersion>>,
}

fn not_found(name: &str) -> Error {
    Error::not_found(format!("no secret named {name:?}")).with_backend("memory")
}

impl State {
    fn versions(&self, name: &str) -> Result<&Vec<StoredVersion>, Error> {
        self.secrets.get(name).ok_or_else(|| not_found(name))
    }

    fn versions_mut(&mut self, name: &str) -> Result<&mut Vec<StoredVersion>, Error> {
        self.secrets.get_mut(name).ok_or_else(|| not_found(name))
    }

    fn create(
        &mut self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        if name.is_empty() {
            return Err(Error::invalid_input("a secret name must not be empty"));
        }
        if let Some(vs) = self.secrets.get(name) {
            // Idempotent retry of the same create.
            if let Some(v) = vs.iter().find(|v| v.id == token.as_str())
                && v.value.expose_secret() == value.expose_secret()
            {
                return Ok(v.id.clone());
            }
            return Err(
                Error::conflict(format!("secret {name:?} already exists")).with_backend("memory")
            );
        }
        self.secrets.insert(
            name.to_owned(),
            vec![StoredVersion {
                id: token.as_str().to_owned(),
                value,
                stages: vec![SecretStage::Current],
                created_at: now,
            }],
        );
        Ok(token.as_str().to_owned())
    }

    fn get(&self, name: &str, stage: SecretStage) -> Result<SecretVersion, Error> {
        let v = self
            .versions(name)?
            .iter()
            .find(|v| v.stages.contains(&stage))
            .ok_or_else(|| {
                Error::not_found(format!("secret {name:?} has no {stage} version"))
                    .with_backend("memory")
            })?;
        Ok(SecretVersion {
            info: info(v),
            value: v.value.clone(),
        })
    }

    fn put_pending(
        &mut self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let vs = self.versions_mut(name)?;
        if let Some(v) = vs.iter().find(|v| v.id == token.as_str()) {
            if v.value.expose_secret() != value.expose_secret() {
                return Err(Error::conflict(format!(
                    "version {:?} of secret {name:?} exists with another value",
                    v.id
                ))
                .with_backend("memory"));
            }
            let id = v.id.clone();
            let already_current = v.stages.contains(&SecretStage::Current);
            if !already_current {
                move_stage(vs, SecretStage::Pending, &id);
            }
            return Ok(id);
        }
        for v in vs.iter_mut() {
            v.stages.retain(|s| *s != SecretStage::Pending);
        }
        vs.push(StoredVersion {
            id: token.as_str().to_owned(),
            value,
            stages: vec![SecretStage::Pending],
            created_at: now,
        });
        prune(vs);
        Ok(token.as_str().to_owned())
    }

    fn promote(&mut self, name: &str, version_id: &str) -> Result<(), Error> {
        let vs = self.versions_mut(name)?;
        let Some(target) = vs.iter().position(|v| v.id == version_id) else {
            return Err(
                Error::not_found(format!("secret {name:?} has no version {version_id:?}"))
                    .with_backend("memory"),
            );
        };
        if !vs[target].stages.contains(&SecretStage::Current) {
            for v in vs.iter_mut() {
                v.stages.retain(|s| *s != SecretStage::Previous);
            }
            for v in vs.iter_mut() {
                if v.stages.contains(&SecretStage::Current) {
                    v.stages.retain(|s| *s != SecretStage::Current);
                    v.stages.push(SecretStage::Previous);
                    v.stages.sort();
                }
            }
            vs[target].stages.push(SecretStage::Current);
        }
        vs[target].stages.retain(|s| *s != SecretStage::Pending);
        vs[target].stages.sort();
        prune(vs);
        Ok(())
    }

    fn clear_pending(&mut self, name: &str) -> Result<(), Error> {
        let vs = self.versions_mut(name)?;
        for v in vs.iter_mut() {
            v.stages.retain(|s| *s != SecretStage::Pending);
        }
        prune(vs);
        Ok(())
    }
}

fn move_stage(vs: &mut [StoredVersion], stage: SecretStage, to: &str) {
    for v in vs.iter_mut() {
        if v.id == to {
            if !v.stages.contains(&stage) {
                v.stages.push(stage);
                v.stages.sort();
            }
        } else {
            v.stages.retain(|s| *s != stage);
        }
    }
}

fn prune(vs: &mut Vec<StoredVersion>) {
    let deprecated = vs.iter().filter(|v| v.stages.is_empty()).count();
    let mut drop = deprecated.saturating_sub(KEEP_DEPRECATED);
    vs.retain(|v| {
        if drop > 0 && v.stages.is_empty() {
            drop -= 1;
            false
        } else {
            true
        }
    });
}

fn info(v: &StoredVersion) -> SecretVersionInfo {
    SecretVersionInfo {
        version_id: v.id.clone(),
        stages: v.stages.clone(),
        created_at: Some(v.created_at),
    }
}

/// An in-memory [`SecretStore`] (tests, the embedded default). Clones share the same secrets.
#[derive(Clone)]
pub struct MemorySecretStore {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemorySecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.lock().secrets.keys().cloned().collect();
        f.debug_struct("MemorySecretStore")
            .field("secrets", &names)
            .finish()
    }
}

impl Default for MemorySecretStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemorySecretStore {
    /// An empty store with the system clock.
    pub fn new() -> Self {
        MemorySecretStore {
            state: Arc::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Stamp versions with `clock` (a simulator's or a paused tokio clock).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Names of the stored secrets.
    pub fn names(&self) -> Vec<String> {
        self.lock().secrets.keys().cloned().collect()
    }
}

#[async_trait]
impl SecretStore for MemorySecretStore {
    fn capabilities(&self) -> SecretCapabilities {
        SecretCapabilities::new(true)
    }

    async fn create(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> runway_core::Result<String> {
        let now = self.clock.now();
        self.lock().create(name, value, token, now)
    }

    async fn get(&self, name: &str, stage: SecretStage) -> runway_core::Result<SecretVersion> {
        self.lock().get(name, stage)
    }

    async fn put_pending(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> runway_core::Result<String> {
        let now = self.clock.now();
        self.lock().put_pending(name, value, token, now)
    }

    async fn promote(&self, name: &str, version_id: &str) -> runway_core::Result<()> {
        self.lock().promote(name, version_id)
    }

    async fn clear_pending(&self, name: &str) -> runway_core::Result<()> {
        self.lock().clear_pending(name)
    }

    async fn versions(&self, name: &str) -> runway_core::Result<Vec<SecretVersionInfo>> {
        Ok(self.lock().versions(name)?.iter().map(info).collect())
    }
}

#[derive(Serialize, Deserialize)]
struct FileVersion {
    id: String,
    value: String,
    #[serde(default)]
    stages: Vec<SecretStage>,
    created_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct FileFormat {
    format: u32,
    #[serde(default)]
    secrets: BTreeMap<String, Vec<FileVersion>>,
}

/// Decode a [`FileSecretStore`] file. Errors give the position only, never the content.
pub fn decode_store_file(bytes: &[u8]) -> Result<usize, SecretsError> {
    decode(bytes).map(|s| s.secrets.len())
}

fn decode(bytes: &[u8]) -> Result<State, SecretsError> {
    let f: FileFormat =
        serde_json::from_slice(bytes).map_err(|e| redacted_json("secret store file", &e))?;
    if f.format != 1 {
        return Err(SecretsError::InvalidInput(format!(
            "secret store file has format {}, expected 1",
            f.format
        )));
    }
    let mut state = State::default();
    for (name, versions) in f.secrets {
        let mut seen = std::collections::BTreeSet::new();
        for v in &versions {
            for s in &v.stages {
                if !seen.insert(*s) {
                    return Err(SecretsError::InvalidInput(format!(
                        "secret {name:?}: stage {s} is on more than one version"
                    )));
                }
            }
        }
        if !seen.contains(&SecretStage::Current) {
            return Err(SecretsError::InvalidInput(format!(
                "secret {name:?} has no current version"
            )));
        }
        state.secrets.insert(
            name,
            versions
                .into_iter()
                .map(|v| StoredVersion {
                    id: v.id,
                    value: SecretString::from(v.value),
                    stages: v.stages,
                    created_at: v.created_at,
                })
                .collect(),
        );
    }
    Ok(state)
}

fn encode(state: &State) -> Vec<u8> {
    let f = FileFormat {
        format: 1,
        secrets: state
            .secrets
            .iter()
            .map(|(n, vs)| {
                (
                    n.clone(),
                    vs.iter()
                        .map(|v| FileVersion {
                            id: v.id.clone(),
                            value: v.value.expose_secret().to_owned(),
                            stages: v.stages.clone(),
                            created_at: v.created_at,
                        })
                        .collect(),
                )
            })
            .collect(),
    };
    serde_json::to_vec_pretty(&f).unwrap_or_default()
}

/// A [`SecretStore`] persisted in one JSON file (mode 0600, replaced atomically on each write).
///
/// For the embedded default and local development: the values are stored in plain text, protected only by
/// file permissions. Use Secrets Manager in production.
#[derive(Clone)]
pub struct FileSecretStore {
    path: PathBuf,
    inner: MemorySecretStore,
    write: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for FileSecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSecretStore")
            .field("path", &self.path)
            .field("secrets", &self.inner.names())
            .finish()
    }
}

impl FileSecretStore {
    /// Open `path`, or start empty when it does not exist.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, SecretsError> {
        let path = path.as_ref().to_owned();
        let state = match tokio::fs::read(&path).await {
            Ok(bytes) => decode(&bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(runway_core::Error::from(e).into()),
        };
        let inner = MemorySecretStore::new();
        *inner.lock() = state;
        Ok(FileSecretStore {
            path,
            inner,
            write: Arc::default(),
        })
    }

    /// Stamp versions with `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.inner = self.inner.with_clock(clock);
        self
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn mutate<T>(
        &self,
        f: impl FnOnce(&mut State, DateTime<Utc>) -> Result<T, Error>,
    ) -> runway_core::Result<T> {
        let _guard = self.write.lock().await;
        let now = self.inner.clock.now();
        let (out, bytes) = {
            let mut state = self.inner.lock();
            let mut next = state.clone();
            let out = f(&mut next, now)?;
            let bytes = encode(&next);
            *state = next;
            (out, bytes)
        };
        let tmp = self.path.with_extension("tmp");
        let write = async {
            let mut opts = tokio::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            opts.mode(0o600);
            let mut file = opts.open(&tmp).await?;
            tokio::io::AsyncWriteExt::write_all(&mut file, &bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&tmp, &self.path).await
        };
        write.await.map_err(Error::from)?;
        Ok(out)
    }
}

#[async_trait]
impl SecretStore for FileSecretStore {
    fn capabilities(&self) -> SecretCapabilities {
        SecretCapabilities::new(true)
    }

    async fn create(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> runway_core::Result<String> {
        self.mutate(|s, now| s.create(name, value, token, now))
            .await
    }

    async fn get(&self, name: &str, stage: SecretStage) -> runway_core::Result<SecretVersion> {
        self.inner.get(name, stage).await
    }

    async fn put_pending(
        &self,
        name: &str,
        value: SecretString,
        token: &RequestToken,
    ) -> runway_core::Result<String> {
        self.mutate(|s, now| s.put_pending(name, value, token, now))
            .await
    }

    async fn promote(&self, name: &str, version_id: &str) -> runway_core::Result<()> {
        self.mutate(|s, _| s.promote(name, version_id)).await
    }

    async fn clear_pending(&self, name: &str) -> runway_core::Result<()> {
        self.mutate(|s, _| s.clear_pending(name)).await
    }

    async fn versions(&self, name: &str) -> runway_core::Result<Vec<SecretVersionInfo>> {
        self.inner.versions(name).await
    }
}
