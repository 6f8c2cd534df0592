//! The runbook's rotation schedule as a policy, and a "what is due" report.
//!
//! Database passwords quarterly, API keys annually or when compromised, JWT secrets annually.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Months, Utc};
use runway_core::{ErrorKind, SecretStage, SecretStore};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What kind of secret, for the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretClass {
    /// Database passwords (quarterly).
    DatabasePassword,
    /// API keys (annually, or at once when compromised).
    ApiKey,
    /// JWT signing secrets (annually).
    JwtSigningKey,
}

impl fmt::Display for SecretClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecretClass::DatabasePassword => "database password",
            SecretClass::ApiKey => "API key",
            SecretClass::JwtSigningKey => "JWT signing key",
        })
    }
}

/// Rotation intervals per class, in calendar months, and how early "due soon" starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationPolicy {
    /// Months between rotations, per class.
    pub interval_months: BTreeMap<SecretClass, u32>,
    /// Days before the due date that count as "due soon".
    pub warn_days: u32,
}

impl Default for RotationPolicy {
    fn default() -> Self {
        Self::runbook()
    }
}

impl RotationPolicy {
    /// The runbook's: database passwords every 3 months, API keys and JWT secrets every 12; warn 14 days
    /// ahead.
    pub fn runbook() -> Self {
        RotationPolicy {
            interval_months: BTreeMap::from([
                (SecretClass::DatabasePassword, 3),
                (SecretClass::ApiKey, 12),
                (SecretClass::JwtSigningKey, 12),
            ]),
            warn_days: 14,
        }
    }

    /// Change one interval.
    #[must_use]
    pub fn with_interval(mut self, class: SecretClass, months: u32) -> Self {
        self.interval_months.insert(class, months.max(1));
        self
    }

    /// When a secret of `class` last rotated at `last` is due.
    pub fn due_at(&self, class: SecretClass, last: DateTime<Utc>) -> DateTime<Utc> {
        let months = self.interval_months.get(&class).copied().unwrap_or(12);
        last.checked_add_months(Months::new(months))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The report for `records` at `now`, most urgent first.
    pub fn report(&self, records: &[SecretRecord], now: DateTime<Utc>) -> DueReport {
        let mut items: Vec<DueItem> = records
            .iter()
            .map(|r| {
                let due_at = r.last_rotated.map(|l| self.due_at(r.class, l));
                let status = if r.compromised {
                    DueStatus::Compromised
                } else {
                    match due_at {
                        None => DueStatus::NeverRotated,
                        Some(d) if d <= now => DueStatus::Overdue {
                            days: (now - d).num_days(),
                        },
                        Some(d) if d - chrono::Duration::days(self.warn_days.into()) <= now => {
                            DueStatus::DueSoon {
                                days: (d - now).num_days(),
                            }
                        }
                        Some(_) => DueStatus::Ok,
                    }
                };
                DueItem {
                    name: r.name.clone(),
                    class: r.class,
                    last_rotated: r.last_rotated,
                    due_at,
                    status,
                }
            })
            .collect();
        items.sort_by(|a, b| {
            a.status
                .rank()
                .cmp(&b.status.rank())
                .then(a.due_at.cmp(&b.due_at))
                .then(a.name.cmp(&b.name))
        });
        DueReport { at: now, items }
    }
}

/// A secret as the schedule sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRecord {
    /// Secret name.
    pub name: String,
    /// Its class.
    pub class: SecretClass,
    /// When its current version was written.
    pub last_rotated: Option<DateTime<Utc>>,
    /// Known or suspected to be leaked.
    pub compromised: bool,
}

/// Whether a secret is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DueStatus {
    /// Leaked: rotate now.
    Compromised,
    /// Past its due date by `days`.
    Overdue {
        /// Days overdue.
        days: i64,
    },
    /// No rotation date known.
    NeverRotated,
    /// Due within the warning window.
    DueSoon {
        /// Days left.
        days: i64,
    },
    /// Not due.
    Ok,
}

impl DueStatus {
    fn rank(&self) -> u8 {
        match self {
            DueStatus::Compromised => 0,
            DueStatus::Overdue { .. } => 1,
            DueStatus::NeverRotated => 2,
            DueStatus::DueSoon { .. } => 3,
            DueStatus::Ok => 4,
        }
    }

    /// Whether it should be rotated now.
    pub fn is_due(&self) -> bool {
        self.rank() <= 2
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueItem {
    /// Secret name.
    pub name: String,
    /// Class.
    pub class: SecretClass,
    /// Last rotation.
    pub last_rotated: Option<DateTime<Utc>>,
    /// Next due date.
    pub due_at: Option<DateTime<Utc>>,
    /// Status.
    pub status: DueStatus,
}

/// What is due, most urgent first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueReport {
    /// When it was computed.
    pub at: DateTime<Utc>,
    /// The secrets.
    pub items: Vec<DueItem>,
}

impl DueReport {
    /// The secrets to rotate now.
    pub fn due(&self) -> impl Iterator<Item = &DueItem> {
        self.items.iter().filter(|i| i.status.is_due())
    }
}

impl fmt::Display for DueReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<32} {:<18} {:<12} {:<12} status",
            "secret", "class", "rotated", "due"
        )?;
        let day = |d: Option<DateTime<Utc>>| {
            d.map_or_else(|| "-".to_owned(), |d| d.format("%Y-%m-%d").to_string())
        };
        for i in &self.items {
            let status = match i.status {
                DueStatus::Compromised => "COMPROMISED: rotate now".to_owned(),
                DueStatus::Overdue { days } => format!("OVERDUE by {days} days"),
                DueStatus::NeverRotated => "never rotated".to_owned(),
                DueStatus::DueSoon { days } => format!("due in {days} days"),
                DueStatus::Ok => "ok".to_owned(),
            };
            writeln!(
                f,
                "{:<32} {:<18} {:<12} {:<12} {status}",
                i.name,
                i.class.to_string(),
                day(i.last_rotated),
                day(i.due_at)
            )?;
        }
        Ok(())
    }
}

/// Read each secret's last rotation (its current version's creation time) from `store`. A missing secret
/// is recorded as never rotated.
pub async fn inventory(
    store: &dyn SecretStore,
    secrets: &[(&str, SecretClass)],
) -> Result<Vec<SecretRecord>> {
    let mut out = Vec::with_capacity(secrets.len());
    for (name, class) in secrets {
        let last_rotated = match store.get(name, SecretStage::Current).await {
            Ok(v) => v.info.created_at,
            Err(e) if e.kind() == &ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        out.push(SecretRecord {
            name: (*name).to_owned(),
            class: *class,
            last_rotated,
            compromised: false,
        });
    }
    Ok(out)
}
