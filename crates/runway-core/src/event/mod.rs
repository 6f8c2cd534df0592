//! Typed events and the [`EventSink`] trait.
//!
//! Every engine emits [`Event`]s; progress bars, the audit journal, notifications and JSON output are all
//! consumers of the same stream. Each capability owns one payload enum in its own module here
//! ([`DeployEvent`], [`MigrationEvent`], [`BackupEvent`], [`HealthEvent`], [`SecretEvent`], [`ReleaseEvent`]).
//! Events are serialisable (the journal persists them) and never carry secret values.

mod backup;
mod deploy;
mod health;
mod migrate;
mod release;
mod secret;

pub use backup::BackupEvent;
pub use deploy::DeployEvent;
pub use health::HealthEvent;
pub use migrate::MigrationEvent;
pub use release::ReleaseEvent;
pub use secret::SecretEvent;

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::error::Result;

/// What an event is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "domain", content = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventPayload {
    /// Rollout engine.
    Deploy(DeployEvent),
    /// Migration runner and linter.
    Migration(MigrationEvent),
    /// Backups, restores, drills.
    Backup(BackupEvent),
    /// Health checks and verification.
    Health(HealthEvent),
    /// Secret rotation.
    Secret(SecretEvent),
    /// The release procedure.
    Release(ReleaseEvent),
    /// A free-form progress message.
    Message {
        /// The text (no secrets).
        text: String,
    },
}

/// One event: a sequence number, a timestamp, an optional run id, and the payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in its emitter's stream, from 0.
    pub seq: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The run (release, rollout, rotation) it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// What happened.
    pub payload: EventPayload,
}

/// Consumes events. Sinks must be cheap or buffer: engines await them on their critical path.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait EventSink: Send + Sync + Debug + 'static {
    /// Take one event. An error stops the engine that emitted it (a journal that cannot write must not be ignored).
    async fn emit(&self, event: &Event) -> Result<()>;
}

/// Stamps payloads with a sequence number, a timestamp and a run id, and sends them to a sink.
#[derive(Debug, Clone)]
pub struct Emitter {
    sink: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    run: Option<String>,
    seq: Arc<AtomicU64>,
}

impl Emitter {
    /// An emitter to `sink` with the system clock.
    pub fn new(sink: Arc<dyn EventSink>) -> Self {
        Emitter {
            sink,
            clock: Arc::new(SystemClock),
            run: None,
            seq: Arc::new(AtomicU64::new(0)),
        }
    }

    /// An emitter that drops everything.
    pub fn null() -> Self {
        Self::new(Arc::new(NullSink))
    }

    /// Use `clock` for timestamps.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Tag events with `run`.
    #[must_use]
    pub fn with_run(mut self, run: impl Into<String>) -> Self {
        self.run = Some(run.into());
        self
    }

    /// Continue numbering from `next` (when resuming a journal).
    #[must_use]
    pub fn starting_at(self, next: u64) -> Self {
        self.seq.store(next, Ordering::SeqCst);
        self
    }

    /// The clock used for timestamps.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Emit `payload`.
    pub async fn emit(&self, payload: impl Into<EventPayload>) -> Result<()> {
        let event = Event {
            seq: self.seq.fetch_add(1, Ordering::SeqCst),
            at: self.clock.now(),
            run: self.run.clone(),
            payload: payload.into(),
        };
        self.sink.emit(&event).await
    }
}

impl From<DeployEvent> for EventPayload {
    fn from(e: DeployEvent) -> Self {
        EventPayload::Deploy(e)
    }
}
impl From<MigrationEvent> for EventPayload {
    fn from(e: MigrationEvent) -> Self {
        EventPayload::Migration(e)
    }
}
impl From<BackupEvent> for EventPayload {
    fn from(e: BackupEvent) -> Self {
        EventPayload::Backup(e)
    }
}
impl From<HealthEvent> for EventPayload {
    fn from(e: HealthEvent) -> Self {
        EventPayload::Health(e)
    }
}
impl From<SecretEvent> for EventPayload {
    fn from(e: SecretEvent) -> Self {
        EventPayload::Secret(e)
    }
}
impl From<ReleaseEvent> for EventPayload {
    fn from(e: ReleaseEvent) -> Self {
        EventPayload::Release(e)
    }
}

/// Drops every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSink;

#[async_trait]
impl EventSink for NullSink {
    async fn emit(&self, _event: &Event) -> Result<()> {
        Ok(())
    }
}

/// Keeps every event in memory (tests, summaries).
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    events: Arc<Mutex<Vec<Event>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every event so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().expect("memory sink poisoned").clone()
    }

    /// Every payload so far.
    pub fn payloads(&self) -> Vec<EventPayload> {
        self.events().into_iter().map(|e| e.payload).collect()
    }
}

#[async_trait]
impl EventSink for MemorySink {
    async fn emit(&self, event: &Event) -> Result<()> {
        self.events
            .lock()
            .expect("memory sink poisoned")
            .push(event.clone());
        Ok(())
    }
}

/// Logs every event through `tracing` at info level, as JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingSink;

#[async_trait]
impl EventSink for TracingSink {
    async fn emit(&self, event: &Event) -> Result<()> {
        let json = serde_json::to_string(&event.payload)?;
        tracing::info!(seq = event.seq, run = ?event.run, event = %json, "runway event");
        Ok(())
    }
}

/// Sends every event to several sinks in order; the first error stops the fan-out.
#[derive(Debug, Clone, Default)]
pub struct FanoutSink {
    sinks: Vec<Arc<dyn EventSink>>,
}

impl FanoutSink {
    /// An empty fan-out.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a sink.
    #[must_use]
    pub fn with(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sinks.push(sink);
        self
    }
}

#[async_trait]
impl EventSink for FanoutSink {
    async fn emit(&self, event: &Event) -> Result<()> {
        for s in &self.sinks {
            s.emit(event).await?;
        }
        Ok(())
    }
}

/// Broadcasts events to subscribers (progress displays); a lagging subscriber misses events, the engine never waits.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: tokio::sync::broadcast::Sender<Event>,
}

impl ChannelSink {
    /// A channel keeping up to `capacity` unread events per subscriber.
    pub fn new(capacity: usize) -> Self {
        ChannelSink {
            tx: tokio::sync::broadcast::channel(capacity.max(1)).0,
        }
    }

    /// A new subscriber.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

#[async_trait]
impl EventSink for ChannelSink {
    async fn emit(&self, event: &Event) -> Result<()> {
        // No subscriber is fine.
        let _ = self.tx.send(event.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ReleaseId, UnitId};

    #[tokio::test]
    async fn emitter_numbers_and_fans_out() {
        let a = MemorySink::new();
        let b = MemorySink::new();
        let fan = FanoutSink::new()
            .with(Arc::new(a.clone()))
            .with(Arc::new(b.clone()));
        let em = Emitter::new(Arc::new(fan)).with_run("r1");
        em.emit(DeployEvent::UnitReady {
            unit: UnitId::new("u1"),
        })
        .await
        .unwrap();
        em.emit(EventPayload::Message { text: "hi".into() })
            .await
            .unwrap();
        let ev = a.events();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].seq, 0);
        assert_eq!(ev[1].seq, 1);
        assert_eq!(ev[0].run.as_deref(), Some("r1"));
        assert_eq!(b.events(), ev);
    }

    #[test]
    fn events_round_trip_json() {
        let e = Event {
            seq: 3,
            at: DateTime::from_timestamp(1, 0).unwrap(),
            run: None,
            payload: EventPayload::Deploy(DeployEvent::RolloutStarted {
                environment: "production".into(),
                release: ReleaseId::new("v2"),
                previous: Some(ReleaseId::new("v1")),
                units: 3,
                strategy: "one-at-a-time".into(),
            }),
        };
        let json = serde_json::to_string(&e).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }
}
