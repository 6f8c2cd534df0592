//! Capture every `tracing` line a test produces, at TRACE level, to assert that no secret leaks.
//!
//! ```
//! let traces = runway_testkit::traces::capture();
//! tracing::info!(user = "ada", "hello");
//! assert!(traces.text().contains("hello"));
//! assert!(!traces.text().contains("hunter2"));
//! ```

use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a [`capture`] collected; capturing stops when it is dropped.
pub struct Traces {
    buf: Buf,
    _guard: tracing::subscriber::DefaultGuard,
}

impl std::fmt::Debug for Traces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Traces").finish_non_exhaustive()
    }
}

impl Traces {
    /// Everything written so far, as text (no ANSI colours).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// Record all tracing output of this thread (the test's runtime thread) at TRACE level until the returned
/// value is dropped.
pub fn capture() -> Traces {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    Traces {
        buf,
        _guard: tracing::subscriber::set_default(subscriber),
    }
}
