//! Moving bytes while hashing them, with progress callbacks.

use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::storage::ByteStream;

/// Read buffer for tool output (pg_dump writes in small chunks; a large buffer keeps syscalls down).
pub(crate) const CHUNK: usize = 256 << 10;
/// How often progress is reported.
pub(crate) const PROGRESS_EVERY: u64 = 8 << 20;

/// Bytes moved and their SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digested {
    pub bytes: u64,
    pub sha256: String,
}

/// Copy `reader` into `writer`, hashing on the way. `progress` is called every [`PROGRESS_EVERY`] bytes.
pub(crate) async fn copy_hashed<R, W, F, Fut>(
    reader: &mut R,
    writer: &mut W,
    mut progress: F,
) -> std::io::Result<Digested>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    let mut next_report = PROGRESS_EVERY;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        writer.write_all(&buf[..n]).await?;
        total += n as u64;
        if total >= next_report {
            next_report = total + PROGRESS_EVERY;
            progress(total).await;
        }
    }
    Ok(Digested {
        bytes: total,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Drain `stream`, hashing it; when `sink` is given, also write every chunk there. A sink that closes
/// early (a reader that stopped, such as `pg_restore --list`) is tolerated when `tolerate_closed_sink`.
pub(crate) async fn drain_hashed<W, F, Fut>(
    mut stream: ByteStream,
    mut sink: Option<&mut W>,
    tolerate_closed_sink: bool,
    mut progress: F,
) -> std::io::Result<Digested>
where
    W: AsyncWrite + Unpin + ?Sized,
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    let mut next_report = PROGRESS_EVERY;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        total += chunk.len() as u64;
        if let Some(w) = sink.as_deref_mut() {
            match w.write_all(&chunk).await {
                Ok(()) => {}
                Err(e) if tolerate_closed_sink && e.kind() == std::io::ErrorKind::BrokenPipe => {
                    sink = None;
                }
                Err(e) => return Err(e),
            }
        }
        if total >= next_report {
            next_report = total + PROGRESS_EVERY;
            progress(total).await;
        }
    }
    if let Some(w) = sink {
        match w.shutdown().await {
            Ok(()) => {}
            Err(e) if tolerate_closed_sink && e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Digested {
        bytes: total,
        sha256: hex::encode(hasher.finalize()),
    })
}
