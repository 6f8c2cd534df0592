//! The console notifier: the runbook's message as plain text, for the embedded default.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use runway_core::{Notification, Notifier};

use crate::error::{NotifyError, Result};
use crate::slack::runbook_lines;

/// Formats `n` the way the runbook prints it: title, fields, then `[Label] url` links.
///
/// ```
/// use runway_core::{Notification, NotificationKind, Release, RollbackStatus};
/// let n = Notification::new(NotificationKind::Failed, "production".into(), "Production", Release::new("v2"))
///     .with_error("Health check failed")
///     .with_rollback(RollbackStatus::Automatic);
/// assert_eq!(
///     runway_notify::console::format(&n),
///     "❌ Deployment Failed\nEnvironment: Production\nError: Health check failed\nRollback: Automatic\n"
/// );
/// ```
pub fn format(n: &Notification) -> String {
    let mut out = runbook_lines(n).join("\n");
    out.push('\n');
    if !n.links.is_empty() {
        out.push('\n');
        let links: Vec<String> = n
            .links
            .iter()
            .map(|(label, url)| format!("[{label}] {url}"))
            .collect();
        out.push_str(&links.join("\n"));
        out.push('\n');
    }
    out
}

type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

/// Writes notifications to stdout (or any writer), one blank line between messages.
#[derive(Clone)]
pub struct ConsoleNotifier {
    out: Sink,
}

impl fmt::Debug for ConsoleNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleNotifier").finish_non_exhaustive()
    }
}

impl Default for ConsoleNotifier {
    fn default() -> Self {
        Self::stdout()
    }
}

impl ConsoleNotifier {
    /// To standard output.
    pub fn stdout() -> Self {
        Self::to_writer(std::io::stdout())
    }

    /// To standard error.
    pub fn stderr() -> Self {
        Self::to_writer(std::io::stderr())
    }

    /// To `writer` (a file, a buffer in tests).
    pub fn to_writer(writer: impl Write + Send + 'static) -> Self {
        ConsoleNotifier {
            out: Arc::new(Mutex::new(Box::new(writer))),
        }
    }

    /// Write one notification.
    pub fn write(&self, n: &Notification) -> Result<()> {
        let text = format(n);
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.write_all(text.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush())
            .map_err(|e| NotifyError::Io(e.kind().to_string()))
    }
}

#[async_trait]
impl Notifier for ConsoleNotifier {
    async fn notify(&self, notification: &Notification) -> runway_core::Result<()> {
        self.write(notification).map_err(|e| e.into_core("console"))
    }
}
