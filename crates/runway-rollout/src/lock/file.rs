use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::Utc;
use fs4::{FileExt, TryLockError};
use runway_core::EnvironmentId;

use super::{DeployLock, Held, LockError, LockGuard, LockInfo};

/// A file lock per environment in a directory: `<dir>/<environment>.lock`, holding the owner as JSON.
#[derive(Debug, Clone)]
pub struct FileLock {
    dir: PathBuf,
}

impl FileLock {
    /// Locks in `dir` (created on demand).
    pub fn new(dir: impl AsRef<Path>) -> Self {
        FileLock {
            dir: dir.as_ref().to_path_buf(),
        }
    }

    /// The lock file of `environment`.
    pub fn path(&self, environment: &EnvironmentId) -> PathBuf {
        let safe: String = environment
            .as_str()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.lock"))
    }

    fn io(path: &Path, source: std::io::Error) -> LockError {
        LockError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    fn open(&self, environment: &EnvironmentId) -> Result<(PathBuf, std::fs::File), LockError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Self::io(&self.dir, e))?;
        let path = self.path(environment);
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Self::io(&path, e))?;
        Ok((path, f))
    }

    fn read_info(path: &Path, f: &mut std::fs::File, env: &EnvironmentId) -> LockInfo {
        let mut s = String::new();
        let _ = f.seek(SeekFrom::Start(0));
        let _ = f.read_to_string(&mut s);
        serde_json::from_str(&s).unwrap_or_else(|_| LockInfo {
            environment: env.clone(),
            owner: format!("unknown holder of {}", path.display()),
            run: None,
            acquired_at: std::fs::metadata(path)
                .and_then(|m| m.modified())
                .map(chrono::DateTime::<Utc>::from)
                .unwrap_or_else(|_| Utc::now()),
            pid: None,
        })
    }
}

pub(super) fn release(f: std::fs::File) -> Result<(), LockError> {
    // Clear the owner so a reader never shows a released lock's holder; the lock goes with the handle.
    let _ = f.set_len(0);
    let _ = FileExt::unlock(&f);
    drop(f);
    Ok(())
}

#[async_trait]
impl DeployLock for FileLock {
    async fn acquire(
        &self,
        environment: &EnvironmentId,
        owner: &str,
        run: Option<&str>,
    ) -> Result<LockGuard, LockError> {
        let (path, mut f) = self.open(environment)?;
        match FileExt::try_lock(&f) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held(Box::new(Self::read_info(
                    &path,
                    &mut f,
                    environment,
                ))));
            }
            Err(TryLockError::Error(e)) => return Err(Self::io(&path, e)),
        }
        let info = LockInfo {
            environment: environment.clone(),
            owner: owner.to_string(),
            run: run.map(str::to_string),
            acquired_at: Utc::now(),
            pid: Some(std::process::id()),
        };
        let json = serde_json::to_vec(&info).unwrap_or_default();
        f.set_len(0).map_err(|e| Self::io(&path, e))?;
        f.seek(SeekFrom::Start(0)).map_err(|e| Self::io(&path, e))?;
        f.write_all(&json).map_err(|e| Self::io(&path, e))?;
        f.flush().map_err(|e| Self::io(&path, e))?;
        Ok(LockGuard {
            info,
            held: Some(Held::File(f)),
        })
    }

    async fn status(&self, environment: &EnvironmentId) -> Result<Option<LockInfo>, LockError> {
        let path = self.path(environment);
        if !path.exists() {
            return Ok(None);
        }
        let (path, mut f) = self.open(environment)?;
        match FileExt::try_lock_shared(&f) {
            Ok(()) => {
                let _ = FileExt::unlock(&f);
                Ok(None)
            }
            Err(TryLockError::WouldBlock) => Ok(Some(Self::read_info(&path, &mut f, environment))),
            Err(TryLockError::Error(e)) => Err(Self::io(&path, e)),
        }
    }

    async fn break_lock(&self, environment: &EnvironmentId) -> Result<Option<LockInfo>, LockError> {
        let held = self.status(environment).await?;
        if held.is_some() {
            // The hung holder keeps a lock on the unlinked file; the next acquire creates a fresh one.
            let path = self.path(environment);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Self::io(&path, e)),
            }
        }
        Ok(held)
    }
}
