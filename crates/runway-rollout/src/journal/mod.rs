//! The journal: every event of a run, persisted, so a crashed driver can resume or roll back.
//!
//! [`FileJournal`] writes JSON lines (the embedded default); [`PgJournal`] writes a PostgreSQL table (production).
//! [`decode_journal`] reads the JSON-lines format back (it tolerates a torn last line, the mark of a crash
//! mid-write) and [`replay`] folds a run's events into its [`ReplayState`].

mod file;
mod pg;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use runway_core::event::DeployEvent;
use runway_core::{ErrorKind, Event, EventPayload, EventSink, ReleaseId, UnitId};
use serde::{Deserialize, Serialize};

pub use file::FileJournal;
pub use pg::PgJournal;

use crate::engine::ResumePoint;
use crate::outcome::Trigger;

/// Journal failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Reading or writing the file failed.
    #[error("journal i/o on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line (1-based) is not a valid event.
    #[error("journal line {line} is corrupt: {reason}")]
    Corrupt {
        /// The line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The database failed.
    #[error("journal database: {0}")]
    Database(#[source] sqlx::Error),
    /// An event could not be encoded.
    #[error("journal encode: {0}")]
    Encode(#[source] serde_json::Error),
}

impl JournalError {
    /// The runway-wide classification.
    pub fn kind(&self) -> ErrorKind {
        match self {
            JournalError::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
                _ => ErrorKind::Unavailable,
            },
            JournalError::Corrupt { .. } | JournalError::Encode(_) => ErrorKind::InvalidInput,
            JournalError::Database(e) => match e {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                    ErrorKind::Unavailable
                }
                sqlx::Error::RowNotFound => ErrorKind::NotFound,
                _ => ErrorKind::Provider,
            },
        }
    }
}

/// Where a run's events are kept.
#[async_trait]
pub trait Journal: Send + Sync + Debug + 'static {
    /// Persist one event (before the engine goes on).
    async fn append(&self, event: &Event) -> Result<(), JournalError>;
    /// Every event of `run`, in order.
    async fn load(&self, run: &str) -> Result<Vec<Event>, JournalError>;
    /// Ids of runs that started but have no `rollout_finished` event.
    async fn unfinished(&self) -> Result<Vec<String>, JournalError>;
}

/// An [`EventSink`] that appends to a [`Journal`].
#[derive(Debug, Clone)]
pub struct JournalSink(pub Arc<dyn Journal>);

#[async_trait]
impl EventSink for JournalSink {
    async fn emit(&self, event: &Event) -> runway_core::Result<()> {
        self.0
            .append(event)
            .await
            .map_err(|e| runway_core::Error::new(e.kind(), "journal append failed").with_source(e))
    }
}

/// The result of decoding a JSON-lines journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The events, in file order.
    pub events: Vec<Event>,
    /// Whether an incomplete last line (a write cut short by a crash) was dropped.
    pub torn_tail: bool,
}

/// Decode a JSON-lines journal. Blank lines are skipped; an unparsable *last* line without a trailing newline
/// is a torn write and is dropped; any other bad line is [`JournalError::Corrupt`].
///
/// ```
/// use runway_rollout::decode_journal;
/// let ok = decode_journal("").unwrap();
/// assert!(ok.events.is_empty());
/// let torn = decode_journal("{\"seq\":0,").unwrap();
/// assert!(torn.torn_tail);
/// assert!(decode_journal("nonsense\n").is_err());
/// ```
pub fn decode_journal(text: &str) -> Result<Decoded, JournalError> {
    let mut events = Vec::new();
    let mut torn_tail = false;
    let ends_clean = text.is_empty() || text.ends_with('\n');
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Event>(line) {
            Ok(e) => events.push(e),
            Err(err) => {
                if i == last && !ends_clean {
                    torn_tail = true;
                } else {
                    return Err(JournalError::Corrupt {
                        line: i + 1,
                        reason: err.to_string(),
                    });
                }
            }
        }
    }
    Ok(Decoded { events, torn_tail })
}

/// A run's state, folded from its events.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReplayState {
    /// The environment.
    pub environment: Option<String>,
    /// The release rolled out.
    pub release: Option<ReleaseId>,
    /// The release replaced.
    pub previous: Option<ReleaseId>,
    /// The strategy name.
    pub strategy: Option<String>,
    /// Units on each release, as the events left them.
    pub units_by_release: BTreeMap<ReleaseId, Vec<UnitId>>,
    /// Where the run stands.
    pub resume: ResumePoint,
    /// The final outcome name, once finished.
    pub outcome: Option<String>,
    /// The units per release the run reported at its end.
    pub reported_final: Option<BTreeMap<ReleaseId, Vec<UnitId>>>,
    /// Events folded.
    pub events: u64,
    /// The next sequence number.
    pub next_seq: u64,
}

impl ReplayState {
    /// Whether the run has an outcome.
    pub fn finished(&self) -> bool {
        self.outcome.is_some()
    }
}

/// Fold a run's events into its state.
pub fn replay(events: &[Event]) -> ReplayState {
    let mut st = ReplayState::default();
    let mut units: BTreeMap<UnitId, ReleaseId> = BTreeMap::new();
    for e in events {
        st.events += 1;
        st.next_seq = st.next_seq.max(e.seq + 1);
        let EventPayload::Deploy(d) = &e.payload else {
            continue;
        };
        match d {
            DeployEvent::RolloutStarted {
                environment,
                release,
                previous,
                strategy,
                ..
            } => {
                st.environment = Some(environment.to_string());
                st.release = Some(release.clone());
                st.previous = previous.clone();
                st.strategy = Some(strategy.clone());
            }
            DeployEvent::FleetObserved {
                units_by_release, ..
            } => {
                units.clear();
                for (r, us) in units_by_release {
                    for u in us {
                        units.insert(u.clone(), r.clone());
                    }
                }
            }
            DeployEvent::UnitAdded { unit, release } => {
                units.insert(unit.clone(), release.clone());
            }
            DeployEvent::UnitRemoved { unit } => {
                units.remove(unit);
            }
            DeployEvent::UnitDeploying { unit, release, .. }
            | DeployEvent::UnitAvailable { unit, release } => {
                units.insert(unit.clone(), release.clone());
            }
            DeployEvent::BatchStarted { batch, .. } => {
                st.resume.batches = st.resume.batches.max(batch + 1);
            }
            DeployEvent::StepStarted { step, .. } => st.resume.canary_step = *step,
            DeployEvent::RollbackPlanned { trigger, .. } => {
                st.resume.rolling_back = serde_json::from_value::<Trigger>(trigger.clone()).ok();
            }
            DeployEvent::RolloutFinished {
                outcome,
                units_by_release,
            } => {
                st.outcome = Some(outcome.clone());
                st.reported_final = Some(units_by_release.clone());
            }
            _ => {}
        }
    }
    st.units_by_release = crate::outcome::group(units.into_iter().map(|(u, r)| (u, Some(r))));
    st
}

/// Whether `event` ends its run.
pub(crate) fn is_finish(event: &Event) -> bool {
    matches!(
        event.payload,
        EventPayload::Deploy(DeployEvent::RolloutFinished { .. })
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64, d: DeployEvent) -> Event {
        Event {
            seq,
            at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            run: Some("r1".into()),
            payload: EventPayload::Deploy(d),
        }
    }

    #[test]
    fn decode_rejects_corrupt_middle_line_with_its_number() {
        let good = serde_json::to_string(&ev(0, DeployEvent::Resumed)).unwrap();
        let text = format!("{good}\n{{bad\n{good}\n");
        match decode_journal(&text) {
            Err(JournalError::Corrupt { line, .. }) => assert_eq!(line, 2),
            other => panic!("expected corrupt, got {other:?}"),
        }
        let torn = format!("{good}\n{}", &good[..good.len() / 2]);
        let d = decode_journal(&torn).unwrap();
        assert!(d.torn_tail);
        assert_eq!(d.events.len(), 1);
    }

    #[test]
    fn replay_tracks_units_and_outcome() {
        let mut m = BTreeMap::new();
        m.insert(
            ReleaseId::new("v1"),
            vec![UnitId::new("a"), UnitId::new("b")],
        );
        let events = vec![
            ev(
                0,
                DeployEvent::FleetObserved {
                    units_by_release: m,
                    desired: 2,
                    max_surge: 0,
                    max_unavailable: 1,
                },
            ),
            ev(
                1,
                DeployEvent::UnitDeploying {
                    unit: UnitId::new("a"),
                    deployment: "d1".into(),
                    release: ReleaseId::new("v2"),
                },
            ),
            ev(
                2,
                DeployEvent::UnitAdded {
                    unit: UnitId::new("c"),
                    release: ReleaseId::new("v2"),
                },
            ),
            ev(
                3,
                DeployEvent::UnitRemoved {
                    unit: UnitId::new("b"),
                },
            ),
        ];
        let st = replay(&events);
        assert_eq!(st.next_seq, 4);
        assert_eq!(
            st.units_by_release.get(&ReleaseId::new("v2")).unwrap(),
            &vec![UnitId::new("a"), UnitId::new("c")]
        );
        assert!(!st.finished());
    }
}
