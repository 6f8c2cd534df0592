//! Where backups live: the [`BackupStorage`] trait, a local directory and (feature `s3`) S3-compatible
//! object storage.
//!
//! A backup's data file is written through a [`StorageWriter`] while it is produced, so no full temporary
//! copy is ever made; it becomes visible only on [`StorageWriter::commit`]. Manifests and verification
//! records are small and use [`BackupStorage::put`].

mod local;
#[cfg(feature = "s3")]
mod s3;

pub use local::LocalDir;
#[cfg(feature = "s3")]
pub use s3::{S3Storage, S3StorageBuilder};

use std::fmt::Debug;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use runway_core::Result;
use tokio::io::AsyncWrite;

/// A stream of a stored object's bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// One stored object, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Its key (a file name, relative to the storage's root or prefix).
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A backend that stores backup files by key. Keys are plain file names (`backup_20250115_103000.dump`).
///
/// Implementations map their errors to [`runway_core::Error`] kinds in one place (missing objects are
/// [`ErrorKind::NotFound`](runway_core::ErrorKind::NotFound)).
#[async_trait]
pub trait BackupStorage: Send + Sync + Debug + 'static {
    /// A short description for messages (`local:/var/backups`, `s3://bucket/prefix`).
    fn describe(&self) -> String;

    /// Start writing `key`; nothing is visible under `key` until the writer is committed.
    async fn create(&self, key: &str) -> Result<Box<dyn StorageWriter>>;

    /// Stream the bytes of `key`.
    async fn open(&self, key: &str) -> Result<ByteStream>;

    /// Store a small object in one call (replacing any previous one).
    async fn put(&self, key: &str, bytes: Bytes) -> Result<()>;

    /// Read a small object in one call.
    async fn get(&self, key: &str) -> Result<Bytes>;

    /// Every committed object.
    async fn list(&self) -> Result<Vec<ObjectInfo>>;

    /// Delete `key`; deleting a missing key succeeds.
    async fn delete(&self, key: &str) -> Result<()>;

    /// A local file holding `key`, when the backend is a local directory (lets `pg_restore -j` seek).
    fn local_path(&self, key: &str) -> Option<PathBuf> {
        let _ = key;
        None
    }
}

/// An object being written. Dropping it without [`commit`](StorageWriter::commit) leaves nothing
/// visible (call [`abort`](StorageWriter::abort) to clean up eagerly).
#[async_trait]
pub trait StorageWriter: AsyncWrite + Send + Unpin + Debug {
    /// Finish the object and make it visible under its key.
    async fn commit(self: Box<Self>) -> Result<()>;
    /// Discard what was written.
    async fn abort(self: Box<Self>) -> Result<()>;
}

pub(crate) fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 255
        && !key.starts_with('.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(runway_core::Error::invalid_input(format!(
            "storage key {:?} must be a plain file name",
            key.chars().take(100).collect::<String>()
        )))
    }
}
