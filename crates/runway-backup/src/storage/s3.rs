use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use runway_core::{Error, Idempotency, Result, RetryPolicy};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncWrite;

use super::{BackupStorage, ByteStream, ObjectInfo, StorageWriter, check_key};

/// Default part size for multipart uploads of data files.
const PART_BYTES: usize = 16 << 20;
/// S3's minimum part size.
const MIN_PART_BYTES: usize = 5 << 20;

/// Backups in an S3-compatible bucket (AWS S3, MinIO, moto, R2, ...) through `object_store`.
///
/// Data files are streamed with multipart uploads (16 MiB parts by default); an upload that is not committed is
/// aborted, so no partial object appears. Small calls (manifests, listing, deletes) go through a
/// [`RetryPolicy`].
#[derive(Clone)]
pub struct S3Storage {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: Option<String>,
    retry: RetryPolicy,
    part_bytes: usize,
}

impl fmt::Debug for S3Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Storage")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Builds an [`S3Storage`]. Credentials are [`SecretString`]s and never appear in `Debug` output.
pub struct S3StorageBuilder {
    bucket: Option<String>,
    prefix: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<SecretString>,
    allow_http: bool,
    retry: RetryPolicy,
    from_env: bool,
    part_bytes: usize,
}

impl fmt::Debug for S3StorageBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3StorageBuilder")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field(
                "access_key_id",
                &self.access_key_id.as_ref().map(|_| "<set>"),
            )
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl Default for S3StorageBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl S3StorageBuilder {
    /// An empty builder (bucket required).
    pub fn new() -> Self {
        S3StorageBuilder {
            bucket: None,
            prefix: None,
            region: None,
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
            retry: RetryPolicy::default(),
            from_env: false,
            part_bytes: PART_BYTES,
        }
    }

    /// Start from the standard `AWS_*` environment variables (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT`, ...);
    /// `RUNWAY_BACKUP_BUCKET` and `RUNWAY_BACKUP_PREFIX` set bucket and prefix.
    pub fn from_env() -> Self {
        let mut b = Self::new();
        b.from_env = true;
        b.bucket = std::env::var("RUNWAY_BACKUP_BUCKET")
            .ok()
            .filter(|s| !s.is_empty());
        b.prefix = std::env::var("RUNWAY_BACKUP_PREFIX")
            .ok()
            .filter(|s| !s.is_empty());
        b
    }

    /// The bucket.
    #[must_use]
    pub fn with_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.bucket = Some(bucket.into());
        self
    }

    /// Keep every key under `prefix/`.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into().trim_matches('/').to_string());
        self
    }

    /// The region (`us-east-1`).
    #[must_use]
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// A custom endpoint (MinIO, moto); path-style requests are used with it.
    #[must_use]
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Static credentials.
    #[must_use]
    pub fn with_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret: SecretString,
    ) -> Self {
        self.access_key_id = Some(access_key_id.into());
        self.secret_access_key = Some(secret);
        self
    }

    /// Allow plain `http://` endpoints (test servers).
    #[must_use]
    pub fn with_allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// The retry policy for small calls.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Multipart upload part size (default 16 MiB, at least 5 MiB as S3 requires).
    #[must_use]
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_bytes = bytes;
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<S3Storage> {
        if self.part_bytes < MIN_PART_BYTES {
            return Err(Error::invalid_input(format!(
                "part size {} is below S3's minimum of {MIN_PART_BYTES} bytes",
                self.part_bytes
            )));
        }
        let bucket = self
            .bucket
            .filter(|b| !b.is_empty())
            .ok_or_else(|| Error::invalid_input("S3 storage needs a bucket"))?;
        let mut b = if self.from_env {
            AmazonS3Builder::from_env()
        } else {
            AmazonS3Builder::new()
        }
        .with_bucket_name(&bucket)
        .with_allow_http(self.allow_http);
        if let Some(r) = self.region {
            b = b.with_region(r);
        }
        if let Some(e) = self.endpoint {
            b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
        }
        if let (Some(id), Some(secret)) = (self.access_key_id, self.secret_access_key) {
            b = b
                .with_access_key_id(id)
                .with_secret_access_key(secret.expose_secret());
        }
        let store = b.build().map_err(map_error)?;
        Ok(S3Storage {
            store: Arc::new(store),
            bucket,
            prefix: self.prefix.filter(|p| !p.is_empty()),
            retry: self.retry,
            part_bytes: self.part_bytes,
        })
    }
}

impl S3Storage {
    /// A builder.
    pub fn builder() -> S3StorageBuilder {
        S3StorageBuilder::new()
    }

    /// Wrap any `object_store` store (GCS, Azure, in-memory) under an optional prefix.
    pub fn from_store(store: Arc<dyn ObjectStore>, prefix: Option<String>) -> Self {
        S3Storage {
            store,
            bucket: "custom".into(),
            prefix,
            retry: RetryPolicy::default(),
            part_bytes: PART_BYTES,
        }
    }

    fn path(&self, key: &str) -> Result<Path> {
        check_key(key)?;
        Ok(match &self.prefix {
            Some(p) => Path::from(format!("{p}/{key}")),
            None => Path::from(key),
        })
    }

    fn ctx(&self, op: &'static str, e: Error) -> Error {
        e.with_backend(self.describe()).with_operation(op)
    }
}

/// The one place `object_store` errors become runway errors.
fn map_error(e: object_store::Error) -> Error {
    use object_store::Error as E;
    let msg = e.to_string();
    let base = match &e {
        E::NotFound { .. } => Error::not_found(msg),
        E::AlreadyExists { .. } | E::Precondition { .. } | E::NotModified { .. } => {
            Error::conflict(msg)
        }
        E::PermissionDenied { .. } => Error::new(runway_core::ErrorKind::PermissionDenied, msg),
        E::Unauthenticated { .. } => Error::new(runway_core::ErrorKind::Unauthenticated, msg),
        E::InvalidPath { .. } | E::UnknownConfigurationKey { .. } => Error::invalid_input(msg),
        E::NotSupported { .. } | E::NotImplemented => {
            Error::new(runway_core::ErrorKind::Unsupported, msg)
        }
        _ => Error::unavailable(msg),
    };
    base.with_source(e)
}

#[async_trait]
impl BackupStorage for S3Storage {
    fn describe(&self) -> String {
        match &self.prefix {
            Some(p) => format!("s3://{}/{p}", self.bucket),
            None => format!("s3://{}", self.bucket),
        }
    }

    async fn create(&self, key: &str) -> Result<Box<dyn StorageWriter>> {
        let path = self.path(key)?;
        let writer = BufWriter::with_capacity(self.store.clone(), path, self.part_bytes)
            .with_max_concurrency(4);
        Ok(Box::new(S3Writer {
            inner: writer,
            describe: self.describe(),
        }))
    }

    async fn open(&self, key: &str) -> Result<ByteStream> {
        let path = self.path(key)?;
        let got = self
            .retry
            .run(Idempotency::Idempotent, || async {
                self.store.get(&path).await.map_err(map_error)
            })
            .await
            .map_err(|e| self.ctx("open", e))?;
        Ok(got
            .into_stream()
            .map_err(|e| io::Error::other(map_error(e)))
            .boxed())
    }

    async fn put(&self, key: &str, bytes: Bytes) -> Result<()> {
        let path = self.path(key)?;
        self.retry
            .run(Idempotency::Idempotent, || async {
                self.store
                    .put(&path, PutPayload::from_bytes(bytes.clone()))
                    .await
                    .map(|_| ())
                    .map_err(map_error)
            })
            .await
            .map_err(|e| self.ctx("put", e))
    }

    async fn get(&self, key: &str) -> Result<Bytes> {
        let path = self.path(key)?;
        self.retry
            .run(Idempotency::Idempotent, || async {
                self.store
                    .get(&path)
                    .await
                    .map_err(map_error)?
                    .bytes()
                    .await
                    .map_err(map_error)
            })
            .await
            .map_err(|e| self.ctx("get", e))
    }

    async fn list(&self) -> Result<Vec<ObjectInfo>> {
        let prefix = self.prefix.as_ref().map(|p| Path::from(p.as_str()));
        let metas: Vec<object_store::ObjectMeta> = self
            .retry
            .run(Idempotency::Idempotent, || async {
                self.store
                    .list(prefix.as_ref())
                    .try_collect()
                    .await
                    .map_err(map_error)
            })
            .await
            .map_err(|e| self.ctx("list", e))?;
        let mut out: Vec<ObjectInfo> = metas
            .into_iter()
            .filter_map(|m| {
                let key = m.location.filename()?.to_string();
                Some(ObjectInfo { key, size: m.size })
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        self.retry
            .run(Idempotency::Idempotent, || async {
                match self.store.delete(&path).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(map_error(e)),
                }
            })
            .await
            .map_err(|e| self.ctx("delete", e))
    }
}

struct S3Writer {
    inner: BufWriter,
    describe: String,
}

impl fmt::Debug for S3Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Writer")
            .field("store", &self.describe)
            .finish()
    }
}

impl AsyncWrite for S3Writer {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[async_trait]
impl StorageWriter for S3Writer {
    async fn commit(mut self: Box<Self>) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        self.inner.shutdown().await.map_err(|e| {
            Error::unavailable("upload did not complete")
                .with_backend(self.describe.clone())
                .with_operation("commit")
                .with_source(e)
        })
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        self.inner.abort().await.map_err(map_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret_key() {
        let b = S3Storage::builder()
            .with_bucket("backups")
            .with_credentials("AKIDEXAMPLE", SecretString::from("wJalrXUtnFEMI-secret"));
        let shown = format!("{b:?}");
        assert!(
            !shown.contains("wJalrXUtnFEMI-secret") && !shown.contains("AKIDEXAMPLE"),
            "{shown}"
        );
        let s = b
            .with_endpoint("http://127.0.0.1:1")
            .with_allow_http(true)
            .build()
            .unwrap();
        assert!(!format!("{s:?}").contains("secret"));
        assert_eq!(s.describe(), "s3://backups");
    }
}
