use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use runway_core::{Error, Result};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{BackupStorage, ByteStream, ObjectInfo, StorageWriter, check_key};

/// Backups in a local directory (created when missing). Data files are written as `.<key>.partial` and
/// renamed into place after an `fsync`, so a crash never leaves a half-written file under a backup's name.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runway_core::Result<()> {
/// use runway_backup::{BackupStorage, LocalDir};
/// let dir = tempfile::tempdir()?;
/// let store = LocalDir::new(dir.path());
/// store.put("notes.json", "{}".into()).await?;
/// assert_eq!(store.list().await?.len(), 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    /// Backups under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalDir { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn err(&self, op: &str, key: &str, e: io::Error) -> Error {
        let kind = e.kind();
        let base = Error::from(e)
            .with_backend(self.describe())
            .with_operation(op.to_string());
        if kind == io::ErrorKind::NotFound {
            Error::not_found(format!("{key} not found"))
                .with_backend(self.describe())
                .with_operation(op.to_string())
        } else {
            base
        }
    }
}

#[async_trait]
impl BackupStorage for LocalDir {
    fn describe(&self) -> String {
        format!("local:{}", self.root.display())
    }

    async fn create(&self, key: &str) -> Result<Box<dyn StorageWriter>> {
        let final_path = self.path(key)?;
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(|e| self.err("create", key, e))?;
        let partial = self.root.join(format!(".{key}.partial"));
        if tokio::fs::try_exists(&final_path).await.unwrap_or(false) {
            return Err(Error::conflict(format!("{key} already exists"))
                .with_backend(self.describe())
                .with_operation("create"));
        }
        // `create_new`: two writers racing for one key cannot interleave into the same file.
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .await
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => Error::conflict(format!("{key} is being written"))
                    .with_backend(self.describe())
                    .with_operation("create"),
                _ => self.err("create", key, e),
            })?;
        Ok(Box::new(LocalWriter {
            file: Some(tokio::io::BufWriter::with_capacity(1 << 20, file)),
            partial,
            final_path,
        }))
    }

    async fn open(&self, key: &str) -> Result<ByteStream> {
        let path = self.path(key)?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| self.err("open", key, e))?;
        Ok(tokio_util::io::ReaderStream::with_capacity(file, 1 << 18).boxed())
    }

    async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        let path = self.path(key)?;
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(|e| self.err("put", key, e))?;
        let tmp = self.root.join(format!(".{key}.partial"));
        tokio::fs::write(&tmp, &bytes)
            .await
            .map_err(|e| self.err("put", key, e))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| self.err("put", key, e))
    }

    async fn get(&self, key: &str) -> Result<Bytes> {
        let path = self.path(key)?;
        tokio::fs::read(&path)
            .await
            .map(Bytes::from)
            .map_err(|e| self.err("get", key, e))
    }

    async fn list(&self) -> Result<Vec<ObjectInfo>> {
        let mut out = Vec::new();
        let mut dir = match tokio::fs::read_dir(&self.root).await {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(self.err("list", "", e)),
        };
        while let Some(entry) = dir
            .next_entry()
            .await
            .map_err(|e| self.err("list", "", e))?
        {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let meta = entry
                .metadata()
                .await
                .map_err(|e| self.err("list", &name, e))?;
            if meta.is_file() {
                out.push(ObjectInfo {
                    key: name,
                    size: meta.len(),
                });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.err("delete", key, e)),
        }
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.path(key).ok()
    }
}

#[derive(Debug)]
struct LocalWriter {
    file: Option<tokio::io::BufWriter<tokio::fs::File>>,
    partial: PathBuf,
    final_path: PathBuf,
}

impl LocalWriter {
    fn file(&mut self) -> io::Result<&mut tokio::io::BufWriter<tokio::fs::File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("writer already finished"))
    }
}

impl AsyncWrite for LocalWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.file() {
            Ok(f) => Pin::new(f).poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.file() {
            Ok(f) => Pin::new(f).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.file() {
            Ok(f) => Pin::new(f).poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

#[async_trait]
impl StorageWriter for LocalWriter {
    async fn commit(mut self: Box<Self>) -> Result<()> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| Error::conflict("writer already finished"))?;
        file.flush().await?;
        let file = file.into_inner();
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&self.partial, &self.final_path).await?;
        Ok(())
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        self.file.take();
        match tokio::fs::remove_file(&self.partial).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}
