//! Triggers, outcomes and the runbook's rollback decision tree.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use runway_core::{ReleaseId, UnitId};
use serde::{Deserialize, Serialize};

/// What made a rollout roll back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "trigger", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Trigger {
    /// A unit failed its health gate (`failure_threshold` consecutive failed probes).
    HealthGate {
        /// The unit.
        unit: UnitId,
        /// The last probe's reason.
        detail: String,
    },
    /// A unit on the new release crashed.
    Crash {
        /// The unit.
        unit: UnitId,
    },
    /// The platform reported the deployment failed.
    DeploymentFailed {
        /// The unit.
        unit: UnitId,
        /// The platform's message.
        detail: String,
    },
    /// No progress within the progress deadline.
    ProgressDeadline {
        /// The deadline.
        deadline: Duration,
    },
    /// The analysis hook failed the release.
    AnalysisFailed {
        /// Its reason.
        reason: String,
    },
    /// The analysis was inconclusive and the policy says fail.
    AnalysisInconclusive {
        /// Its reason.
        reason: String,
    },
    /// A platform call failed for good (after retries).
    PlatformError {
        /// The operation.
        operation: String,
        /// The error kind (`rate_limited`, `unavailable`, ...).
        kind: String,
    },
    /// A critical issue was reported, or a non-critical one outlived its hotfix window.
    Issue {
        /// The issue.
        issue: String,
    },
    /// An operator aborted the rollout.
    Aborted,
    /// The driver stopped mid-rollout and was resumed with the roll-back policy.
    Interrupted,
    /// An operator asked for a rollback to a named release.
    Manual {
        /// The release.
        to: ReleaseId,
    },
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::HealthGate { unit, detail } => {
                write!(f, "health check failed on {unit}: {detail}")
            }
            Trigger::Crash { unit } => write!(f, "unit {unit} crashed"),
            Trigger::DeploymentFailed { unit, detail } => {
                write!(f, "deployment failed on {unit}: {detail}")
            }
            Trigger::ProgressDeadline { deadline } => {
                write!(f, "no progress within {}s", deadline.as_secs())
            }
            Trigger::AnalysisFailed { reason } => write!(f, "analysis failed: {reason}"),
            Trigger::AnalysisInconclusive { reason } => {
                write!(f, "analysis inconclusive: {reason}")
            }
            Trigger::PlatformError { operation, kind } => write!(f, "{operation} failed ({kind})"),
            Trigger::Issue { issue } => write!(f, "issue: {issue}"),
            Trigger::Aborted => f.write_str("aborted by operator"),
            Trigger::Interrupted => f.write_str("driver interrupted; resumed to roll back"),
            Trigger::Manual { to } => write!(f, "manual rollback to {to}"),
        }
    }
}

/// How a run ended. Never "succeeded" after a rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Every unit runs the new release and passed its gate (and the analysis, when configured).
    Succeeded,
    /// Every unit runs the previous (or named) release again.
    RolledBack {
        /// Why.
        trigger: Trigger,
    },
    /// The rollback did not complete: units are left on several releases.
    RollbackFailed {
        /// Why the rollback started.
        trigger: Trigger,
        /// Why it did not finish.
        reason: String,
        /// Units on each release at the end.
        units_by_release: BTreeMap<ReleaseId, Vec<UnitId>>,
    },
    /// A critical trigger fired with automatic rollback off: the run stopped where it was.
    Halted {
        /// Why.
        trigger: Trigger,
        /// Units on each release at the end.
        units_by_release: BTreeMap<ReleaseId, Vec<UnitId>>,
    },
}

impl Outcome {
    /// `succeeded`, `rolled_back`, `rollback_failed` or `halted`.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::RolledBack { .. } => "rolled_back",
            Outcome::RollbackFailed { .. } => "rollback_failed",
            Outcome::Halted { .. } => "halted",
        }
    }

    /// The trigger, unless the run succeeded.
    pub fn trigger(&self) -> Option<&Trigger> {
        match self {
            Outcome::Succeeded => None,
            Outcome::RolledBack { trigger }
            | Outcome::RollbackFailed { trigger, .. }
            | Outcome::Halted { trigger, .. } => Some(trigger),
        }
    }

    /// Whether the run succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Succeeded => f.write_str("succeeded"),
            Outcome::RolledBack { trigger } => write!(f, "rolled back ({trigger})"),
            Outcome::RollbackFailed {
                trigger,
                reason,
                units_by_release,
            } => {
                write!(f, "rollback failed ({trigger}; {reason}):")?;
                for (r, u) in units_by_release {
                    write!(f, " {r}={}", u.len())?;
                }
                Ok(())
            }
            Outcome::Halted {
                trigger,
                units_by_release,
            } => {
                write!(f, "halted ({trigger}):")?;
                for (r, u) in units_by_release {
                    write!(f, " {r}={}", u.len())?;
                }
                Ok(())
            }
        }
    }
}

/// The runbook's issue categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IssueKind {
    /// Critical: the application won't start.
    WontStart,
    /// Critical: the database connection fails.
    DatabaseConnection,
    /// Critical: 50% or more of requests fail.
    RequestsFailing,
    /// Critical: a security vulnerability.
    SecurityVulnerability,
    /// Critical: data corruption.
    DataCorruption,
    /// Non-critical: a single endpoint fails.
    SingleEndpoint,
    /// Non-critical: a minor UI bug.
    MinorUiBug,
    /// Non-critical: performance degraded by less than 10%.
    PerformanceDegradation,
}

impl IssueKind {
    /// Whether the runbook lists it as critical (roll back immediately).
    pub fn is_critical(self) -> bool {
        matches!(
            self,
            IssueKind::WontStart
                | IssueKind::DatabaseConnection
                | IssueKind::RequestsFailing
                | IssueKind::SecurityVulnerability
                | IssueKind::DataCorruption
        )
    }
}

/// A problem seen during or after a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Its category.
    pub kind: IssueKind,
    /// A one-line description (no secrets).
    pub summary: String,
    /// How long a fix is expected to take, when someone knows.
    pub fix_estimate: Option<Duration>,
}

impl Issue {
    /// An issue with no fix estimate.
    pub fn new(kind: IssueKind, summary: impl Into<String>) -> Self {
        Issue {
            kind,
            summary: summary.into(),
            fix_estimate: None,
        }
    }

    /// Set the fix estimate.
    #[must_use]
    pub fn with_fix_estimate(mut self, d: Duration) -> Self {
        self.fix_estimate = Some(d);
        self
    }

    /// Classify by the runbook's rules alone.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runway_rollout::{Decision, Issue, IssueKind};
    ///
    /// let window = Duration::from_secs(300);
    /// let crash = Issue::new(IssueKind::WontStart, "app exits on boot");
    /// assert_eq!(crash.decide(window), Decision::RollbackNow);
    /// let ui = Issue::new(IssueKind::MinorUiBug, "button misaligned").with_fix_estimate(Duration::from_secs(120));
    /// assert_eq!(ui.decide(window), Decision::Hotfix { window });
    /// let slow = Issue::new(IssueKind::SingleEndpoint, "/orders 500s").with_fix_estimate(Duration::from_secs(3600));
    /// assert_eq!(slow.decide(window), Decision::RollbackNow);
    /// ```
    pub fn decide(&self, hotfix_window: Duration) -> Decision {
        decide(self, hotfix_window)
    }
}

/// What the decision tree says to do about an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Critical, or not fixable within the window: roll back now.
    RollbackNow,
    /// Non-critical and fixable quickly: deploy a hotfix within `window`; if it is not fixed by then, roll back.
    Hotfix {
        /// The time allowed.
        window: Duration,
    },
}

/// The runbook's rollback decision tree: critical -> roll back now; non-critical -> hotfix if it can be fixed
/// within the window (no estimate counts as "can fix quickly", the window then bounds it), else roll back.
pub fn decide(issue: &Issue, hotfix_window: Duration) -> Decision {
    if issue.kind.is_critical() {
        return Decision::RollbackNow;
    }
    match issue.fix_estimate {
        Some(d) if d > hotfix_window => Decision::RollbackNow,
        _ => Decision::Hotfix {
            window: hotfix_window,
        },
    }
}

/// The fleet by release, from `(unit, release)` pairs.
pub(crate) fn group(
    units: impl IntoIterator<Item = (UnitId, Option<ReleaseId>)>,
) -> BTreeMap<ReleaseId, Vec<UnitId>> {
    let mut m: BTreeMap<ReleaseId, Vec<UnitId>> = BTreeMap::new();
    for (u, r) in units {
        m.entry(r.unwrap_or_else(|| ReleaseId::new("unknown")))
            .or_default()
            .push(u);
    }
    for v in m.values_mut() {
        v.sort();
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_tree_follows_the_runbook() {
        let w = Duration::from_secs(300);
        for k in [
            IssueKind::WontStart,
            IssueKind::DatabaseConnection,
            IssueKind::RequestsFailing,
            IssueKind::SecurityVulnerability,
            IssueKind::DataCorruption,
        ] {
            assert_eq!(
                decide(&Issue::new(k, "x"), w),
                Decision::RollbackNow,
                "{k:?}"
            );
        }
        for k in [
            IssueKind::SingleEndpoint,
            IssueKind::MinorUiBug,
            IssueKind::PerformanceDegradation,
        ] {
            assert_eq!(
                decide(&Issue::new(k, "x"), w),
                Decision::Hotfix { window: w }
            );
            let slow = Issue::new(k, "x").with_fix_estimate(w + Duration::from_secs(1));
            assert_eq!(decide(&slow, w), Decision::RollbackNow);
        }
    }

    #[test]
    fn outcome_names_and_display() {
        let o = Outcome::RolledBack {
            trigger: Trigger::Crash {
                unit: UnitId::new("api-1"),
            },
        };
        assert_eq!(o.name(), "rolled_back");
        assert_eq!(o.to_string(), "rolled back (unit api-1 crashed)");
        assert!(!o.is_success());
        let j = serde_json::to_value(&o).unwrap();
        assert_eq!(j["outcome"], "rolled_back");
        assert_eq!(j["trigger"]["trigger"], "crash");
        assert_eq!(serde_json::from_value::<Outcome>(j).unwrap(), o);
    }
}
