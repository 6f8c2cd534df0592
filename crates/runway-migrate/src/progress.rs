//! Human-readable progress lines for [`MigrationEvent`]s.

use async_trait::async_trait;
use runway_core::event::MigrationEvent;
use runway_core::{Event, EventPayload, EventSink};

/// One line describing a migration event, or `None` for events not worth a line.
///
/// ```
/// use runway_core::event::MigrationEvent;
/// let line = runway_migrate::describe(&MigrationEvent::Applied { version: 3, duration_ms: 12 });
/// assert_eq!(line.as_deref(), Some("     3 applied in 12 ms"));
/// ```
pub fn describe(e: &MigrationEvent) -> Option<String> {
    Some(match e {
        MigrationEvent::LockWaiting => {
            "waiting for the migration lock (another runner holds it)...".into()
        }
        MigrationEvent::Started {
            version,
            name,
            direction,
        } => format!("{direction:>4}  {version} {name} ..."),
        MigrationEvent::Applied {
            version,
            duration_ms,
        } => format!("     {version} applied in {duration_ms} ms"),
        MigrationEvent::Reverted {
            version,
            duration_ms,
        } => format!("     {version} reverted in {duration_ms} ms"),
        MigrationEvent::Retrying {
            version,
            attempt,
            delay_ms,
            ..
        } => format!(
            "     {version}: timed out waiting for a table lock (attempt {attempt}); retrying in {delay_ms} ms"
        ),
        MigrationEvent::Failed { version, error } => format!("     {version} FAILED: {error}"),
        MigrationEvent::Dirty { version, .. } => {
            format!("     {version} is now DIRTY: repair it by hand, then resolve it")
        }
        MigrationEvent::Baselined { version } => format!("baselined at {version}"),
        MigrationEvent::Accepted { version } => format!("accepted the edited file of {version}"),
        MigrationEvent::Resolved {
            version,
            resolution,
        } => format!("resolved {version} as {resolution}"),
        MigrationEvent::Finished {
            operation,
            migrations,
            duration_ms,
        } => format!("{operation}: {migrations} migration(s) in {duration_ms} ms"),
        _ => return None,
    })
}

/// An [`EventSink`] that prints [`describe`]d migration events to standard error.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsoleProgress;

#[async_trait]
impl EventSink for ConsoleProgress {
    async fn emit(&self, event: &Event) -> runway_core::Result<()> {
        if let EventPayload::Migration(e) = &event.payload
            && let Some(line) = describe(e)
        {
            eprintln!("{line}");
        }
        Ok(())
    }
}
