//! The release gate: the newest verified backup must be younger than a threshold.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::id::BackupId;
use crate::retention::Candidate;

/// The outcome of [`freshness_gate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateOutcome {
    /// A verified backup is fresh enough.
    Pass {
        /// The newest verified backup.
        id: BackupId,
        /// Its age.
        age: Duration,
    },
    /// No verified backup is fresh enough.
    Fail(GateFailure),
}

impl GateOutcome {
    /// Whether the gate passed.
    pub fn passed(&self) -> bool {
        matches!(self, GateOutcome::Pass { .. })
    }
}

/// Why the gate failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateFailure {
    /// No backup has passed a restore drill.
    NoVerifiedBackup {
        /// How many (unverified) backups exist.
        unverified: usize,
    },
    /// The newest verified backup is too old.
    TooOld {
        /// The newest verified backup.
        id: BackupId,
        /// Its age.
        age: Duration,
        /// The threshold.
        max_age: Duration,
    },
}

impl std::fmt::Display for GateOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GateOutcome::Pass { id, age } => {
                write!(
                    f,
                    "pass: {id} verified, {} old",
                    runway_core::human_duration(*age)
                )
            }
            GateOutcome::Fail(GateFailure::NoVerifiedBackup { unverified }) => write!(
                f,
                "fail: no verified backup ({unverified} unverified; run a restore drill)"
            ),
            GateOutcome::Fail(GateFailure::TooOld { id, age, max_age }) => write!(
                f,
                "fail: newest verified backup {id} is {} old (limit {})",
                runway_core::human_duration(*age),
                runway_core::human_duration(*max_age)
            ),
        }
    }
}

/// Pass when the newest verified backup is younger than `max_age` at `now` (pure).
///
/// ```
/// use std::time::Duration;
/// use chrono::TimeZone;
/// use runway_backup::{BackupId, Candidate, GateOutcome, freshness_gate};
///
/// let t = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
/// let backups = [Candidate { id: BackupId::at(t), created_at: t, verified: true }];
/// let now = t + chrono::Duration::hours(2);
/// assert!(freshness_gate(&backups, now, Duration::from_secs(24 * 3600)).passed());
/// assert!(!freshness_gate(&backups, now, Duration::from_secs(3600)).passed());
/// ```
pub fn freshness_gate(
    candidates: &[Candidate],
    now: DateTime<Utc>,
    max_age: Duration,
) -> GateOutcome {
    let newest = candidates
        .iter()
        .filter(|c| c.verified)
        .max_by_key(|c| (c.created_at, c.id));
    let Some(c) = newest else {
        return GateOutcome::Fail(GateFailure::NoVerifiedBackup {
            unverified: candidates.len(),
        });
    };
    let age = (now - c.created_at).to_std().unwrap_or(Duration::ZERO);
    if age < max_age {
        GateOutcome::Pass { id: c.id, age }
    } else {
        GateOutcome::Fail(GateFailure::TooOld {
            id: c.id,
            age,
            max_age,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn uses_the_newest_verified_and_reports_age() {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let mk = |h: i64, verified| {
            let at = t + chrono::Duration::hours(h);
            Candidate {
                id: BackupId::at(at),
                created_at: at,
                verified,
            }
        };
        let all = [mk(0, true), mk(10, true), mk(20, false)];
        let now = t + chrono::Duration::hours(30);
        let day = Duration::from_secs(86_400);
        assert_eq!(
            freshness_gate(&all, now, day),
            GateOutcome::Pass {
                id: all[1].id,
                age: Duration::from_secs(20 * 3600)
            }
        );
        let hour = Duration::from_secs(3600);
        let out = freshness_gate(&all, now, hour);
        assert_eq!(
            out,
            GateOutcome::Fail(GateFailure::TooOld {
                id: all[1].id,
                age: Duration::from_secs(20 * 3600),
                max_age: hour
            })
        );
        assert!(out.to_string().starts_with("fail:"));
        assert_eq!(
            freshness_gate(&all[2..], now, day),
            GateOutcome::Fail(GateFailure::NoVerifiedBackup { unverified: 1 })
        );
    }
}
