//! Retention: keep the last N daily, weekly and monthly backups (grandfather-father-son).
//!
//! [`plan`] is pure: it takes the backups and a policy and returns what to keep (with the reasons) and
//! what to delete. It never deletes the newest verified backup, whatever the policy says. Applying a plan
//! is a separate, explicit step ([`Backups::enforce_retention`](crate::Backups::enforce_retention), dry-run
//! by default).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::id::BackupId;

/// How many backups to keep in each tier. A backup may satisfy several tiers at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// Always keep the newest N backups (default 1).
    pub keep_last: u32,
    /// Keep the newest backup of each of the last N days that have backups (default 7).
    pub daily: u32,
    /// Keep the newest backup of each of the last N ISO weeks that have backups (default 4).
    pub weekly: u32,
    /// Keep the newest backup of each of the last N months that have backups (default 6).
    pub monthly: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            keep_last: 1,
            daily: 7,
            weekly: 4,
            monthly: 6,
        }
    }
}

impl RetentionPolicy {
    /// Keep nothing by tier (only the newest verified backup survives); combine with the `with_*` setters.
    pub fn none() -> Self {
        RetentionPolicy {
            keep_last: 0,
            daily: 0,
            weekly: 0,
            monthly: 0,
        }
    }

    /// Set `keep_last`.
    #[must_use]
    pub fn with_keep_last(mut self, n: u32) -> Self {
        self.keep_last = n;
        self
    }

    /// Set `daily`.
    #[must_use]
    pub fn with_daily(mut self, n: u32) -> Self {
        self.daily = n;
        self
    }

    /// Set `weekly`.
    #[must_use]
    pub fn with_weekly(mut self, n: u32) -> Self {
        self.weekly = n;
        self
    }

    /// Set `monthly`.
    #[must_use]
    pub fn with_monthly(mut self, n: u32) -> Self {
        self.monthly = n;
        self
    }
}

/// What the planner needs to know about one backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The backup.
    pub id: BackupId,
    /// When it was taken.
    pub created_at: DateTime<Utc>,
    /// Whether a restore drill verified it.
    pub verified: bool,
}

/// Why a backup is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepReason {
    /// Among the newest `keep_last`.
    Last,
    /// Newest of its day.
    Daily,
    /// Newest of its ISO week.
    Weekly,
    /// Newest of its month.
    Monthly,
    /// The newest verified backup (never deleted).
    NewestVerified,
}

/// The outcome of [`plan`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionPlan {
    /// Kept backups, newest first, with every reason that applies.
    pub keep: Vec<(BackupId, Vec<KeepReason>)>,
    /// Backups to delete, newest first.
    pub delete: Vec<BackupId>,
}

impl RetentionPlan {
    /// Whether `id` is kept.
    pub fn keeps(&self, id: &BackupId) -> bool {
        self.keep.iter().any(|(k, _)| k == id)
    }
}

/// Plan which backups to keep and which to delete.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use runway_backup::{BackupId, Candidate, RetentionPolicy, retention};
///
/// let start = Utc.with_ymd_and_hms(2026, 1, 1, 3, 0, 0).unwrap();
/// let backups: Vec<Candidate> = (0..30)
///     .map(|d| {
///         let at = start + Duration::days(d);
///         Candidate { id: BackupId::at(at), created_at: at, verified: d == 3 }
///     })
///     .collect();
/// let plan = retention::plan(&backups, &RetentionPolicy::none().with_daily(7));
/// assert_eq!(plan.keep.len(), 8); // 7 days + the newest verified one (day 3)
/// assert!(plan.keeps(&backups[3].id));
/// ```
pub fn plan(candidates: &[Candidate], policy: &RetentionPolicy) -> RetentionPlan {
    let mut sorted: Vec<Candidate> = candidates.to_vec();
    sorted.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    sorted.dedup_by(|a, b| a.id == b.id);

    let mut reasons: BTreeMap<BackupId, BTreeSet<KeepReason>> = BTreeMap::new();
    for c in sorted.iter().take(policy.keep_last as usize) {
        reasons.entry(c.id).or_default().insert(KeepReason::Last);
    }
    tier(
        &sorted,
        policy.daily,
        KeepReason::Daily,
        &mut reasons,
        |t| (t.year(), t.ordinal(), 0),
    );
    tier(
        &sorted,
        policy.weekly,
        KeepReason::Weekly,
        &mut reasons,
        |t| {
            let w = t.iso_week();
            (w.year(), w.week(), 1)
        },
    );
    tier(
        &sorted,
        policy.monthly,
        KeepReason::Monthly,
        &mut reasons,
        |t| (t.year(), t.month(), 2),
    );
    if let Some(v) = sorted.iter().find(|c| c.verified) {
        reasons
            .entry(v.id)
            .or_default()
            .insert(KeepReason::NewestVerified);
    }

    let mut out = RetentionPlan::default();
    for c in &sorted {
        match reasons.get(&c.id) {
            Some(r) => out.keep.push((c.id, r.iter().copied().collect())),
            None => out.delete.push(c.id),
        }
    }
    out
}

fn tier(
    sorted: &[Candidate],
    n: u32,
    reason: KeepReason,
    reasons: &mut BTreeMap<BackupId, BTreeSet<KeepReason>>,
    bucket: impl Fn(DateTime<Utc>) -> (i32, u32, u8),
) {
    let mut seen = BTreeSet::new();
    for c in sorted {
        if seen.len() >= n as usize {
            break;
        }
        // Newest first, so the first backup of a new bucket is that bucket's newest.
        if seen.insert(bucket(c.created_at)) {
            reasons.entry(c.id).or_default().insert(reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn at(days: i64, hours: i64) -> Candidate {
        let t = Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
            + Duration::days(days)
            + Duration::hours(hours);
        Candidate {
            id: BackupId::at(t),
            created_at: t,
            verified: false,
        }
    }

    #[test]
    fn gfs_tiers() {
        // Two backups a day for 70 days.
        let all: Vec<Candidate> = (0..70).flat_map(|d| [at(d, 1), at(d, 13)]).collect();
        let p = plan(
            &all,
            &RetentionPolicy::none()
                .with_daily(3)
                .with_weekly(2)
                .with_monthly(2),
        );
        let newest = all.iter().max_by_key(|c| c.created_at).unwrap();
        assert!(p.keeps(&newest.id));
        // 3 daily (days 69, 68, 67), weekly adds the newest of the previous week, monthly that of the
        // previous month.
        let daily: Vec<_> = p
            .keep
            .iter()
            .filter(|(_, r)| r.contains(&KeepReason::Daily))
            .collect();
        assert_eq!(daily.len(), 3);
        assert!(p.keep.len() <= 3 + 2 + 2);
        assert!(p.keep.len() >= 4);
        assert_eq!(p.keep.len() + p.delete.len(), all.len());
    }

    #[test]
    fn an_empty_policy_keeps_only_the_newest_verified() {
        let mut all: Vec<Candidate> = (0..10).map(|d| at(d, 0)).collect();
        all[2].verified = true;
        all[5].verified = true;
        let p = plan(&all, &RetentionPolicy::none());
        assert_eq!(p.keep, vec![(all[5].id, vec![KeepReason::NewestVerified])]);
        assert_eq!(p.delete.len(), 9);
    }

    fn candidates() -> impl Strategy<Value = Vec<Candidate>> {
        proptest::collection::vec((0i64..400 * 24, any::<bool>()), 0..60).prop_map(|v| {
            v.into_iter()
                .map(|(h, verified)| {
                    let mut c = at(0, h);
                    c.verified = verified;
                    c
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn never_deletes_the_newest_verified_backup(
            all in candidates(),
            last in 0u32..4, daily in 0u32..10, weekly in 0u32..6, monthly in 0u32..6,
        ) {
            let policy = RetentionPolicy { keep_last: last, daily, weekly, monthly };
            let p = plan(&all, &policy);
            if let Some(newest_verified) = all.iter().filter(|c| c.verified).max_by_key(|c| (c.created_at, c.id)) {
                prop_assert!(p.keeps(&newest_verified.id));
                prop_assert!(!p.delete.contains(&newest_verified.id));
            }
            // Every backup lands exactly once; the plan never keeps more than the policy allows.
            let mut ids: Vec<BackupId> = all.iter().map(|c| c.id).collect();
            ids.sort();
            ids.dedup();
            let mut planned: Vec<BackupId> = p.keep.iter().map(|(id, _)| *id).chain(p.delete.iter().copied()).collect();
            planned.sort();
            prop_assert_eq!(planned, ids);
            prop_assert!(p.keep.len() as u32 <= last + daily + weekly + monthly + 1);
            // The newest backup is kept whenever any tier keeps anything.
            if last + daily + weekly + monthly > 0
                && let Some(newest) = all.iter().max_by_key(|c| (c.created_at, c.id))
            {
                prop_assert!(p.keeps(&newest.id));
            }
        }
    }
}
