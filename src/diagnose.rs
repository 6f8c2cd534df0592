//! The runbook's emergency procedures ("Production Down", "Database Issues", "High Error Rate") as checks.
//!
//! [`Diagnosis`] takes optional components, runs every check it has what it needs for, and returns a
//! [`DiagnosisReport`]: one line per check, typed [`Finding`]s with a [`Severity`] and the runbook's
//! recommended action, and the actions in the order to take them.
//!
//! | check ([`CheckId`]) | runbook step | needs |
//! |---|---|---|
//! | `health` | Production Down 1: check the health endpoint | [`DiagnosisBuilder::with_health_check`] or [`DiagnosisBuilder::with_fleet`] |
//! | `recent-releases` | Production Down 3-4: was there a recent release? then roll back | [`DiagnosisBuilder::with_release_history`] |
//! | `error-rate` | High Error Rate 1-3: ERROR lines in the last hour, patterns, endpoints | [`DiagnosisBuilder::with_logs`] |
//! | `connection-pool` | Database Issues 1: is the pool exhausted? (`pg_stat_activity` vs `max_connections`) | a database |
//! | `slow-queries` | Database Issues 2: queries over 1 s | a database |
//! | `database-size` | Database Issues 3: is the database full? (`pg_database_size`, disk headroom when a limit is known) | a database |
//! | `locks` | Database Issues 4: blocking locks (`pg_locks`, `pg_blocking_pids`) | a database |
//! | `resources` | dashboard thresholds: pool, queue depth, memory, CPU | [`DiagnosisBuilder::with_metrics`] |
//!
//! Pure evaluation lives in [`analyze`] (samples in, findings out). Statements read from
//! `pg_stat_activity` have their string literals redacted ([`analyze::redact_sql`]); no connection string
//! or password reaches a finding.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), runway::diagnose::DiagnoseError> {
//! use std::sync::Arc;
//! use runway::diagnose::{CheckId, Diagnosis, Severity};
//! use runway_core::{LogScope, Platform};
//! use runway_sim::{ReleaseProfile, SimPlatform};
//!
//! // A release that fails 60% of its requests, on every unit.
//! let sim = Arc::new(SimPlatform::builder().units(3).release(ReleaseProfile::healthy("v2").with_error_rate(0.6)).build());
//! let env = "production".into();
//! for u in sim.units(&env, &Default::default()).await.unwrap() {
//!     sim.deploy(&u.id, &runway_core::Release::new("v2"), &Default::default()).await.unwrap();
//! }
//! tokio::time::sleep(std::time::Duration::from_secs(600)).await;
//!
//! let report = Diagnosis::builder()
//!     .with_logs(sim.clone(), LogScope::environment("production"))
//!     .with_clock(Arc::new(sim.clock()))
//!     .build()?
//!     .run()
//!     .await;
//! let errors = report.findings_for(CheckId::ErrorRate).next().expect("error spike found");
//! assert_eq!(errors.severity, Severity::Critical);
//! assert!(!report.healthy());
//! # Ok(()) }
//! ```

pub mod analyze;
mod pg;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use runway_core::{
    Clock, EnvironmentId, ErrorKind, Event, HealthProbe, ListUnits, LogLevel, LogQuery, LogScope,
    LogSource, MetricsQuery, MetricsSource, Platform, SystemClock, TimeRange,
};
use runway_health::{Check, Status as HealthStatus, run_check};
use runway_rollout::{FileJournal, Journal, PgJournal};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};

use analyze::{Blocker, ErrorSummary, PoolSample, ReleaseRecord};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth attention; not by itself an outage.
    Warning,
    /// Act now (the runbook's "critical": roll back, end the session, scale up).
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        })
    }
}

/// The checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    /// The health endpoint or the fleet's health probes.
    Health,
    /// Releases from the rollout journal.
    RecentReleases,
    /// ERROR lines in the logs.
    ErrorRate,
    /// Connections against `max_connections`.
    ConnectionPool,
    /// Statements running longer than the threshold.
    SlowQueries,
    /// Database size and disk headroom.
    DatabaseSize,
    /// Sessions blocked on locks.
    Locks,
    /// Resource use from a metrics source.
    Resources,
}

impl CheckId {
    /// Every check, in report order.
    pub const ALL: [CheckId; 8] = [
        CheckId::Health,
        CheckId::RecentReleases,
        CheckId::ErrorRate,
        CheckId::ConnectionPool,
        CheckId::SlowQueries,
        CheckId::DatabaseSize,
        CheckId::Locks,
        CheckId::Resources,
    ];

    /// The stable kebab-case id.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Health => "health",
            CheckId::RecentReleases => "recent-releases",
            CheckId::ErrorRate => "error-rate",
            CheckId::ConnectionPool => "connection-pool",
            CheckId::SlowQueries => "slow-queries",
            CheckId::DatabaseSize => "database-size",
            CheckId::Locks => "locks",
            CheckId::Resources => "resources",
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// The health check fails or warns.
    HealthFailing {
        /// The health check's name.
        name: String,
        /// Its problem, in public wording.
        problem: String,
        /// Fail (rather than warn).
        failing: bool,
    },
    /// Units fail their health probes.
    UnhealthyUnits {
        /// Unhealthy units.
        unhealthy: Vec<String>,
        /// Units probed.
        total: usize,
    },
    /// A rollout in the window, or one that never finished.
    RecentRelease {
        /// The run id.
        run: String,
        /// The environment.
        environment: String,
        /// The release.
        release: String,
        /// The release it replaced.
        previous: Option<String>,
        /// Seconds since it started.
        age_seconds: u64,
        /// How it ended; `None` while unfinished.
        outcome: Option<String>,
    },
    /// ERROR lines in the last hour at or over the threshold, or rising fast.
    ErrorRate {
        /// ERROR lines in the last hour.
        count: usize,
        /// In the hour before.
        previous_hour: Option<usize>,
        /// The hourly threshold.
        threshold: usize,
        /// The count is a lower bound (the query hit its line limit).
        truncated: bool,
        /// Most frequent message shapes.
        patterns: Vec<(String, usize)>,
        /// Endpoints named by the errors.
        endpoints: Vec<(String, usize)>,
        /// At or over the threshold.
        critical: bool,
    },
    /// Connections near or at `max_connections`.
    ConnectionPool {
        /// Client connections on the server.
        used: i64,
        /// `max_connections`.
        max: i64,
        /// used / max.
        utilisation: f64,
        /// Sessions idle in a transaction.
        idle_in_transaction: i64,
        /// New connections are (about to be) refused.
        exhausted: bool,
    },
    /// A statement running longer than the threshold.
    SlowQuery {
        /// Backend pid.
        pid: i32,
        /// Seconds running.
        seconds: f64,
        /// Role.
        user: String,
        /// `application_name`.
        application: String,
        /// `wait_event_type` (`Lock` when it waits on a lock).
        waiting_on: String,
        /// The statement, literals redacted.
        query: String,
        /// Past the critical threshold.
        critical: bool,
    },
    /// A session blocked by others' locks.
    BlockingLock {
        /// The waiting pid.
        blocked_pid: i32,
        /// Who blocks it (`pg_blocking_pids`).
        blocking_pids: Vec<i32>,
        /// Seconds it has waited.
        waiting_seconds: f64,
        /// The lock mode it waits for.
        mode: String,
        /// The relation, when known.
        relation: Option<String>,
        /// Its statement, redacted.
        blocked_query: String,
        /// What the blockers are doing.
        blockers: Vec<Blocker>,
        /// Waited longer than the slow-query threshold.
        critical: bool,
    },
    /// The database is close to its disk limit.
    DiskSpace {
        /// `pg_database_size`.
        database_bytes: i64,
        /// The known disk limit.
        limit_bytes: u64,
        /// database / limit.
        used: f64,
        /// At or over the critical share.
        critical: bool,
    },
    /// A resource over the runbook's dashboard threshold.
    Resource {
        /// Which measurement.
        measurement: String,
        /// Its value.
        value: f64,
        /// The threshold.
        limit: f64,
        /// `ratio` or `tasks`.
        unit: String,
        /// Far past the threshold.
        critical: bool,
    },
    /// The database does not answer (or refuses connections).
    DatabaseUnreachable {
        /// The runway error kind.
        error_kind: String,
        /// PostgreSQL's SQLSTATE, when it answered with one (`53300`: too many connections).
        sqlstate: Option<String>,
        /// What happened, without the connection string.
        reason: String,
    },
    /// A component (logs, journal, metrics, platform) could not be read.
    CheckFailed {
        /// Which component.
        component: String,
        /// The runway error kind.
        error_kind: String,
        /// The error as displayed.
        reason: String,
    },
}

fn human(secs: f64) -> String {
    runway_core::human_duration(Duration::from_secs_f64(secs.max(0.0)))
}

fn bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else {
        format!("{:.0} kB", n / 1e3)
    }
}

impl FindingKind {
    /// Its check.
    pub fn check(&self) -> CheckId {
        use FindingKind as K;
        match self {
            K::HealthFailing { .. } | K::UnhealthyUnits { .. } => CheckId::Health,
            K::RecentRelease { .. } => CheckId::RecentReleases,
            K::ErrorRate { .. } => CheckId::ErrorRate,
            K::ConnectionPool { .. } | K::DatabaseUnreachable { .. } => CheckId::ConnectionPool,
            K::SlowQuery { .. } => CheckId::SlowQueries,
            K::BlockingLock { .. } => CheckId::Locks,
            K::DiskSpace { .. } => CheckId::DatabaseSize,
            K::Resource { .. } => CheckId::Resources,
            K::CheckFailed { component, .. } => match component.as_str() {
                "logs" => CheckId::ErrorRate,
                "journal" => CheckId::RecentReleases,
                "metrics" => CheckId::Resources,
                _ => CheckId::Health,
            },
        }
    }

    /// Its severity.
    pub fn severity(&self) -> Severity {
        use FindingKind as K;
        let critical = match self {
            K::HealthFailing { failing, .. } => *failing,
            K::UnhealthyUnits { unhealthy, total } => unhealthy.len() * 2 >= *total,
            K::RecentRelease { outcome, .. } => {
                outcome.is_none() || outcome.as_deref() == Some("rollback_failed")
            }
            K::ErrorRate { critical, .. }
            | K::SlowQuery { critical, .. }
            | K::BlockingLock { critical, .. }
            | K::DiskSpace { critical, .. }
            | K::Resource { critical, .. } => *critical,
            K::ConnectionPool { exhausted, .. } => *exhausted,
            K::DatabaseUnreachable { .. } => true,
            K::CheckFailed { .. } => false,
        };
        if critical {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }

    /// What was found, in one line.
    pub fn message(&self) -> String {
        use FindingKind as K;
        match self {
            K::HealthFailing {
                name,
                problem,
                failing,
            } => format!(
                "health check {name} {}: {problem}",
                if *failing { "fails" } else { "warns" }
            ),
            K::UnhealthyUnits { unhealthy, total } => format!(
                "{} of {total} units fail their health probe: {}",
                unhealthy.len(),
                unhealthy.join(", ")
            ),
            K::RecentRelease {
                environment,
                release,
                previous,
                age_seconds,
                outcome,
                ..
            } => {
                let prev = previous
                    .as_deref()
                    .map(|p| format!(" (replacing {p})"))
                    .unwrap_or_default();
                let age = runway_core::human_duration(Duration::from_secs(*age_seconds));
                match outcome.as_deref() {
                    None => format!(
                        "rollout of {release} to {environment}{prev} started {age} ago and never finished"
                    ),
                    Some("succeeded") => {
                        format!("{release} was released to {environment} {age} ago{prev}")
                    }
                    Some("rolled_back") => {
                        format!("{release} was rolled back in {environment} {age} ago")
                    }
                    Some(o) => {
                        format!("rollout of {release} to {environment} {age} ago ended {o}{prev}")
                    }
                }
            }
            K::ErrorRate {
                count,
                previous_hour,
                threshold,
                truncated,
                patterns,
                endpoints,
                ..
            } => {
                let n = if *truncated {
                    format!("at least {count}")
                } else {
                    count.to_string()
                };
                let mut s = format!("{n} ERROR lines in the last hour (threshold {threshold}");
                if let Some(p) = previous_hour {
                    s.push_str(&format!(", {p} the hour before"));
                }
                s.push(')');
                if let Some((p, c)) = patterns.first() {
                    s.push_str(&format!("; top pattern ({c}x): {p}"));
                }
                if let Some((e, c)) = endpoints.first() {
                    s.push_str(&format!("; failing endpoint {e} ({c}x)"));
                }
                s
            }
            K::ConnectionPool {
                used,
                max,
                utilisation,
                idle_in_transaction,
                exhausted,
            } => format!(
                "{used} of {max} connections in use ({:.0}%{}), {idle_in_transaction} idle in transaction",
                utilisation * 100.0,
                if *exhausted { ", exhausted" } else { "" }
            ),
            K::SlowQuery {
                pid,
                seconds,
                user,
                application,
                waiting_on,
                query,
                ..
            } => {
                let wait = if waiting_on.is_empty() {
                    String::new()
                } else {
                    format!(", waiting on {waiting_on}")
                };
                let app = if application.is_empty() {
                    String::new()
                } else {
                    format!(" ({application})")
                };
                format!(
                    "pid {pid} ({user}{app}) has run for {}{wait}: {query}",
                    human(*seconds)
                )
            }
            K::BlockingLock {
                blocked_pid,
                blocking_pids,
                waiting_seconds,
                mode,
                relation,
                blockers,
                ..
            } => {
                let on = relation
                    .as_deref()
                    .map(|r| format!(" on {r}"))
                    .unwrap_or_default();
                let by: Vec<String> = blockers
                    .iter()
                    .map(|b| {
                        format!(
                            "{} ({}, transaction open {})",
                            b.pid,
                            b.state,
                            human(b.transaction_seconds)
                        )
                    })
                    .collect();
                let by = if by.is_empty() {
                    blocking_pids
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                } else {
                    by.join(", ")
                };
                format!(
                    "pid {blocked_pid} has waited {} for {mode}{on}, blocked by pid {by}",
                    human(*waiting_seconds)
                )
            }
            K::DiskSpace {
                database_bytes,
                limit_bytes,
                used,
                ..
            } => format!(
                "database is {} of a {} disk ({:.0}%)",
                bytes(*database_bytes),
                bytes(i64::try_from(*limit_bytes).unwrap_or(i64::MAX)),
                used * 100.0
            ),
            K::Resource {
                measurement,
                value,
                limit,
                unit,
                ..
            } => {
                if unit == "ratio" {
                    format!(
                        "{measurement} is {:.0}% (limit {:.0}%)",
                        value * 100.0,
                        limit * 100.0
                    )
                } else {
                    format!("{measurement} is {value} {unit} (limit {limit})")
                }
            }
            K::DatabaseUnreachable {
                sqlstate, reason, ..
            } => match sqlstate.as_deref() {
                Some("53300") => {
                    "the database refuses new connections: too many clients (pool exhausted)"
                        .to_owned()
                }
                Some(code) => format!("the database answered with SQLSTATE {code}: {reason}"),
                None => format!("the database does not answer: {reason}"),
            },
            K::CheckFailed {
                component, reason, ..
            } => format!("could not read the {component}: {reason}"),
        }
    }

    /// The runbook's recommended action.
    pub fn action(&self) -> String {
        use FindingKind as K;
        match self {
            K::HealthFailing { .. } | K::UnhealthyUnits { .. } => {
                "view the logs for errors and check for a recent release; if there was one, roll back immediately (Production Down 2-4)".into()
            }
            K::RecentRelease {
                release,
                previous,
                outcome,
                ..
            } => match (outcome.as_deref(), previous) {
                (None, _) => "the deployer stopped mid-rollout: resume it or roll it back (cargo run --example rollback) before anything else".into(),
                (Some("succeeded"), Some(p)) => format!(
                    "if the trouble started after {release} went out, roll back to {p} now (cargo run --example rollback -- --to {p}); then investigate"
                ),
                (Some("succeeded"), None) => format!(
                    "if the trouble started after {release} went out, roll back to the previous release now"
                ),
                (Some("rollback_failed"), _) => "the automatic rollback failed: finish it by hand (Railway dashboard: Deployments, redeploy the previous one)".into(),
                _ => "confirm every unit is back on the previous release and healthy".into(),
            },
            K::ErrorRate { endpoints, .. } => {
                let ep = endpoints
                    .first()
                    .map(|(e, _)| format!(" ({e} fails most)"))
                    .unwrap_or_default();
                format!(
                    "group the errors by pattern and endpoint{ep}; roll back if a recent release caused them, fix or fail over if an external dependency is down, scale if traffic spiked (High Error Rate 1-5)"
                )
            }
            K::ConnectionPool {
                idle_in_transaction, ..
            } => {
                if *idle_in_transaction > 0 {
                    "end sessions idle in transaction (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction' AND now() - state_change > interval '5 minutes'), lower the app's pool size or add PgBouncer; if critical, scale up the database (Database Issues 1, 5)".into()
                } else {
                    "lower the app's pool size per instance or add a pooler (PgBouncer); if critical, scale up the database instance (Database Issues 1, 5)".into()
                }
            }
            K::SlowQuery { pid, .. } => format!(
                "EXPLAIN ANALYZE the statement and add the missing index (CREATE INDEX CONCURRENTLY); if it hurts traffic now, cancel it: SELECT pg_cancel_backend({pid}) (Database Issues 2)"
            ),
            K::BlockingLock { blocking_pids, .. } => {
                let pid = blocking_pids.first().copied().unwrap_or_default();
                format!(
                    "find what the blocking session is doing; if it is stuck or idle in transaction, end it: SELECT pg_terminate_backend({pid}) (Database Issues 4)"
                )
            }
            K::DiskSpace { .. } => {
                "free space (VACUUM bloated tables, drop old partitions, expire backups on the same volume) or grow the volume before it fills (Database Issues 3, 5)".into()
            }
            K::Resource { measurement, .. } => match measurement.as_str() {
                "queue_depth" => "add Celery workers or find the task that floods the queue".into(),
                "http_5xx_rate" => {
                    "find the failing endpoint in the error logs; roll back if a recent release caused it, fix or fail over an external dependency (High Error Rate 2-4)".into()
                }
                "db_pool_utilisation" => "check the connection pool: lower per-instance pool sizes or add PgBouncer".into(),
                _ => "scale up or out; if it started with a release, roll back (High Error Rate 5)".into(),
            },
            K::DatabaseUnreachable { .. } => {
                "the database connection fails: this is critical; check the database server and its connection limits, roll back a recent release that changed them (Production Down 5)".into()
            }
            K::CheckFailed { .. } => "check the provider credentials and connectivity, then diagnose again".into(),
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The check.
    pub check: CheckId,
    /// Warning or critical.
    pub severity: Severity,
    /// What was found.
    #[serde(flatten)]
    pub kind: FindingKind,
    /// In one line.
    pub message: String,
    /// The runbook's recommended action.
    pub action: String,
}

impl Finding {
    /// A finding of `kind` (check, severity, message and action follow from it).
    pub fn new(kind: FindingKind) -> Self {
        Finding {
            check: kind.check(),
            severity: kind.severity(),
            message: kind.message(),
            action: kind.action(),
            kind,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] {}\n  action: {}",
            self.severity, self.check, self.message, self.action
        )
    }
}

/// How a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Nothing found.
    Ok,
    /// Warnings only.
    Warning,
    /// At least one critical finding.
    Critical,
    /// Not run: the component is not configured.
    Skipped,
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckStatus::Ok => "OK",
            CheckStatus::Warning => "WARN",
            CheckStatus::Critical => "CRIT",
            CheckStatus::Skipped => "SKIP",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The check.
    pub check: CheckId,
    /// Its status.
    pub status: CheckStatus,
    /// What was measured, or why it was skipped.
    pub summary: String,
}

/// Measurements behind the findings (for JSON consumers and dashboards).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Measurements {
    /// Connection counts, when a database was checked.
    pub pool: Option<PoolSample>,
    /// `pg_database_size` in bytes.
    pub database_bytes: Option<i64>,
    /// The largest tables (name, bytes).
    pub largest_tables: Vec<(String, i64)>,
    /// The error log summary.
    pub errors: Option<ErrorSummary>,
    /// Rollouts found in the journal (newest first).
    pub releases: Vec<ReleaseRecord>,
}

/// The result of a diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiagnosisReport {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// One line per check, in [`CheckId::ALL`] order.
    pub checks: Vec<CheckReport>,
    /// Every finding, critical first.
    pub findings: Vec<Finding>,
    /// What to do, in order (first: the most urgent).
    pub actions: Vec<String>,
    /// The numbers behind the findings.
    pub measurements: Measurements,
}

impl DiagnosisReport {
    /// No critical finding.
    pub fn healthy(&self) -> bool {
        !self
            .findings
            .iter()
            .any(|f| f.severity == Severity::Critical)
    }

    /// Findings of one check.
    pub fn findings_for(&self, check: CheckId) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.check == check)
    }

    /// The status of one check.
    pub fn status(&self, check: CheckId) -> CheckStatus {
        self.checks
            .iter()
            .find(|c| c.check == check)
            .map_or(CheckStatus::Skipped, |c| c.status)
    }

    /// Whether a recent successful release coincides with a health failure or an error spike: the runbook's
    /// "if recent deploy, rollback immediately".
    pub fn rollback_recommended(&self) -> Option<&Finding> {
        let trouble = self.findings.iter().any(|f| {
            f.severity == Severity::Critical
                && (matches!(
                    f.kind,
                    FindingKind::HealthFailing { .. }
                        | FindingKind::UnhealthyUnits { .. }
                        | FindingKind::ErrorRate { .. }
                ) || matches!(&f.kind, FindingKind::Resource { measurement, .. } if measurement == "http_5xx_rate"))
        });
        if !trouble {
            return None;
        }
        self.findings.iter().find(|f| {
            matches!(&f.kind, FindingKind::RecentRelease { outcome: Some(o), .. } if o == "succeeded")
        })
    }

    /// The report as JSON (`healthy`, `checks`, `findings`, `actions`, `measurements`).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("healthy".into(), self.healthy().into());
        }
        v
    }

    /// A human table: one line per check, the findings, then the actions in order.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Diagnosis at {}",
            self.at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        let _ = writeln!(s, "{:<16} {:<6} SUMMARY", "CHECK", "STATUS");
        for c in &self.checks {
            let _ = writeln!(
                s,
                "{:<16} {:<6} {}",
                c.check.as_str(),
                c.status.to_string(),
                c.summary
            );
        }
        if !self.findings.is_empty() {
            let _ = writeln!(s);
            for f in &self.findings {
                let _ = writeln!(
                    s,
                    "{:<8} {:<16} {}",
                    f.severity.to_string(),
                    f.check.as_str(),
                    f.message
                );
            }
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "What to do:");
        for (i, a) in self.actions.iter().enumerate() {
            let _ = writeln!(s, "  {}. {a}", i + 1);
        }
        s
    }
}

/// Thresholds; the defaults are the runbook's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Thresholds {
    /// Connection use that warrants a warning (default 0.8: "pool < 80% utilised").
    pub pool_utilisation: f64,
    /// A query running longer is slow (default 1 s: "any queries > 1s?").
    pub slow_query: Duration,
    /// A query running longer is critical (default 60 s).
    pub slow_query_critical: Duration,
    /// ERROR lines per hour that make the error rate critical (default 50).
    pub error_lines_per_hour: usize,
    /// At most this many ERROR lines are read per hour (default 10,000).
    pub max_error_lines: usize,
    /// How far back a release counts as recent (default 2 h).
    pub recent_release: Duration,
    /// The disk limit of the database volume, when known (bytes).
    pub disk_limit: Option<u64>,
    /// Share of the disk limit that warrants a warning (default 0.8).
    pub disk_warning: f64,
    /// Share that is critical (default 0.9).
    pub disk_critical: f64,
    /// Look at sessions of every database, not only the one connected to (default false).
    pub all_databases: bool,
    /// How long each database or provider call may take (default 10 s).
    pub call_timeout: Duration,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            pool_utilisation: 0.8,
            slow_query: Duration::from_secs(1),
            slow_query_critical: Duration::from_secs(60),
            error_lines_per_hour: 50,
            max_error_lines: 10_000,
            recent_release: Duration::from_secs(2 * 3600),
            disk_limit: None,
            disk_warning: 0.8,
            disk_critical: 0.9,
            all_databases: false,
            call_timeout: Duration::from_secs(10),
        }
    }
}

impl Thresholds {
    /// Set the slow-query threshold.
    #[must_use]
    pub fn with_slow_query(mut self, d: Duration) -> Self {
        self.slow_query = d;
        self
    }

    /// Set the pool warning threshold (0..=1).
    #[must_use]
    pub fn with_pool_utilisation(mut self, share: f64) -> Self {
        self.pool_utilisation = share;
        self
    }

    /// Set the hourly ERROR line threshold.
    #[must_use]
    pub fn with_error_lines_per_hour(mut self, n: usize) -> Self {
        self.error_lines_per_hour = n;
        self
    }

    /// Set the recent-release window.
    #[must_use]
    pub fn with_recent_release(mut self, d: Duration) -> Self {
        self.recent_release = d;
        self
    }

    /// Set the disk limit in bytes.
    #[must_use]
    pub fn with_disk_limit(mut self, bytes: u64) -> Self {
        self.disk_limit = Some(bytes);
        self
    }

    /// Look at every database's sessions.
    #[must_use]
    pub fn with_all_databases(mut self, on: bool) -> Self {
        self.all_databases = on;
        self
    }
}

/// Where recent releases are read from.
#[derive(Debug, Clone)]
pub enum ReleaseHistory {
    /// A JSON-lines journal file ([`FileJournal`], the embedded default).
    File(FileJournal),
    /// The PostgreSQL journal table of [`PgJournal`] on this pool (`runway_rollout_journal`).
    Postgres(PgPool),
    /// Events already in memory.
    Events(Vec<Event>),
}

impl ReleaseHistory {
    async fn events(&self, since: DateTime<Utc>) -> Result<Vec<Event>, runway_core::Error> {
        let wrap = |e: runway_rollout::JournalError| {
            runway_core::Error::new(e.kind(), "reading the journal").with_source(e)
        };
        match self {
            ReleaseHistory::File(j) => j.read_all().map_err(wrap),
            ReleaseHistory::Events(e) => Ok(e.clone()),
            ReleaseHistory::Postgres(pool) => {
                let rows: Vec<(serde_json::Value,)> = sqlx::query_as(
                    "SELECT event FROM runway_rollout_journal
                      WHERE run IN (SELECT run FROM runway_rollout_journal WHERE at >= $1)
                      ORDER BY run, seq",
                )
                .bind(since)
                .fetch_all(pool)
                .await
                .map_err(|e| {
                    runway_core::Error::new(ErrorKind::Unavailable, "reading the journal table")
                        .with_source(e)
                })?;
                let mut events: Vec<Event> = rows
                    .into_iter()
                    .filter_map(|(v,)| serde_json::from_value(v).ok())
                    .collect();
                let journal = PgJournal::new(pool.clone());
                for run in journal.unfinished().await.map_err(wrap)? {
                    if !events
                        .iter()
                        .any(|e| e.run.as_deref() == Some(run.as_str()))
                    {
                        events.extend(journal.load(&run).await.map_err(wrap)?);
                    }
                }
                Ok(events)
            }
        }
    }
}

/// Bad diagnosis configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiagnoseError {
    /// The database URL does not parse (the URL itself is not repeated: it may hold a password).
    #[error("the database URL is not a valid PostgreSQL URL")]
    InvalidDatabaseUrl,
    /// A threshold is out of range.
    #[error("invalid threshold: {0}")]
    InvalidThreshold(String),
    /// The health URL is not usable.
    #[error("invalid health check: {0}")]
    InvalidHealthCheck(#[source] runway_health::HealthError),
}

impl DiagnoseError {
    /// The runway-wide classification.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidInput
    }
}

/// The platform, probe and environment of [`DiagnosisBuilder::with_fleet`].
type Fleet = (Arc<dyn Platform>, Arc<dyn HealthProbe>, EnvironmentId);

/// Builds a [`Diagnosis`] from optional components.
#[derive(Debug, Default)]
pub struct DiagnosisBuilder {
    database: Option<PgPool>,
    database_url: Option<SecretString>,
    logs: Option<(Arc<dyn LogSource>, LogScope)>,
    history: Option<ReleaseHistory>,
    environment: Option<String>,
    health: Vec<Arc<dyn Check>>,
    fleet: Option<Fleet>,
    metrics: Option<(Arc<dyn MetricsSource>, EnvironmentId)>,
    clock: Option<Arc<dyn Clock>>,
    thresholds: Thresholds,
}

impl DiagnosisBuilder {
    /// An empty builder: no components, the runbook's thresholds.
    pub fn new() -> Self {
        Self::default()
    }

    /// From the environment: `RUNWAY_DATABASE_URL` (PostgreSQL to inspect), `RUNWAY_HEALTH_URL` (the
    /// `/health` endpoint), `RUNWAY_JOURNAL` (a rollout journal file) and `RUNWAY_ENVIRONMENT` (whose
    /// releases count). Unset or empty variables leave the component out.
    ///
    /// # Errors
    /// [`DiagnoseError::InvalidHealthCheck`] for a health URL the HTTP check refuses.
    pub fn from_env() -> Result<Self, DiagnoseError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `get` (a test seam).
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, DiagnoseError> {
        let var = |n: &str| get(n).filter(|v| !v.trim().is_empty());
        let mut b = Self::new();
        if let Some(url) = var("RUNWAY_DATABASE_URL") {
            b = b.with_database_url(SecretString::from(url));
        }
        if let Some(url) = var("RUNWAY_HEALTH_URL") {
            let check = runway_health::HttpCheck::builder("health", url)
                .expect_health_response_lenient()
                .build()
                .map_err(DiagnoseError::InvalidHealthCheck)?;
            b = b.with_health_check(Arc::new(check));
        }
        if let Some(path) = var("RUNWAY_JOURNAL") {
            b = b.with_release_history(ReleaseHistory::File(FileJournal::new(path)));
        }
        if let Some(env) = var("RUNWAY_ENVIRONMENT") {
            b = b.with_environment(env);
        }
        Ok(b)
    }

    /// Check this PostgreSQL database (one connection is used).
    #[must_use]
    pub fn with_database(mut self, pool: PgPool) -> Self {
        self.database = Some(pool);
        self
    }

    /// Check the PostgreSQL database at `url` (connected lazily, one connection).
    #[must_use]
    pub fn with_database_url(mut self, url: SecretString) -> Self {
        self.database_url = Some(url);
        self
    }

    /// Read ERROR lines of `scope` from `logs`.
    #[must_use]
    pub fn with_logs(mut self, logs: Arc<dyn LogSource>, scope: LogScope) -> Self {
        self.logs = Some((logs, scope));
        self
    }

    /// Read recent releases from a journal.
    #[must_use]
    pub fn with_release_history(mut self, history: ReleaseHistory) -> Self {
        self.history = Some(history);
        self
    }

    /// Only releases to this environment count.
    #[must_use]
    pub fn with_environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// Run this health check (for example a `runway_health::HttpCheck` on `/health`).
    #[must_use]
    pub fn with_health_check(mut self, check: Arc<dyn Check>) -> Self {
        self.health.push(check);
        self
    }

    /// Probe every unit of `environment` (the simulator implements both traits).
    #[must_use]
    pub fn with_fleet(
        mut self,
        platform: Arc<dyn Platform>,
        probe: Arc<dyn HealthProbe>,
        environment: impl Into<EnvironmentId>,
    ) -> Self {
        self.fleet = Some((platform, probe, environment.into()));
        self
    }

    /// Read resource use (and the last 5 minutes of requests) from a metrics source.
    #[must_use]
    pub fn with_metrics(
        mut self,
        metrics: Arc<dyn MetricsSource>,
        environment: impl Into<EnvironmentId>,
    ) -> Self {
        self.metrics = Some((metrics, environment.into()));
        self
    }

    /// The clock for "now" (default: the system clock; the simulator's for simulated logs).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The thresholds (default: the runbook's).
    #[must_use]
    pub fn with_thresholds(mut self, thresholds: Thresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// Validate and build.
    ///
    /// # Errors
    /// [`DiagnoseError::InvalidDatabaseUrl`] for a URL that does not parse; [`DiagnoseError::InvalidThreshold`]
    /// for shares outside 0..=1.
    pub fn build(self) -> Result<Diagnosis, DiagnoseError> {
        let t = &self.thresholds;
        for (name, v) in [
            ("pool_utilisation", t.pool_utilisation),
            ("disk_warning", t.disk_warning),
            ("disk_critical", t.disk_critical),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(DiagnoseError::InvalidThreshold(format!(
                    "{name} must be within 0..=1, got {v}"
                )));
            }
        }
        let database = match (self.database, &self.database_url) {
            (Some(p), _) => Some(Database::Pool(p)),
            (None, Some(url)) => {
                let u = url.expose_secret();
                if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                    return Err(DiagnoseError::InvalidDatabaseUrl);
                }
                let opts: PgConnectOptions =
                    u.parse().map_err(|_| DiagnoseError::InvalidDatabaseUrl)?;
                Some(Database::Options(Box::new(
                    opts.application_name("runway-doctor"),
                )))
            }
            (None, None) => None,
        };
        Ok(Diagnosis {
            database,
            logs: self.logs,
            history: self.history,
            environment: self.environment,
            health: self.health,
            fleet: self.fleet,
            metrics: self.metrics,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            thresholds: self.thresholds,
        })
    }
}

enum Database {
    Pool(PgPool),
    Options(Box<PgConnectOptions>),
}

/// `PgConnectOptions`' own `Debug` shows the password: print only where the database is.
impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Pool(_) => f.write_str("Database::Pool"),
            Database::Options(o) => f
                .debug_struct("Database::Options")
                .field("host", &o.get_host())
                .field("port", &o.get_port())
                .field("database", &o.get_database())
                .finish_non_exhaustive(),
        }
    }
}

/// The emergency procedures as checks. Build with [`Diagnosis::builder`].
#[derive(Debug)]
pub struct Diagnosis {
    database: Option<Database>,
    logs: Option<(Arc<dyn LogSource>, LogScope)>,
    history: Option<ReleaseHistory>,
    environment: Option<String>,
    health: Vec<Arc<dyn Check>>,
    fleet: Option<Fleet>,
    metrics: Option<(Arc<dyn MetricsSource>, EnvironmentId)>,
    clock: Arc<dyn Clock>,
    thresholds: Thresholds,
}

fn failed(component: &str, e: &runway_core::Error) -> Finding {
    Finding::new(FindingKind::CheckFailed {
        component: component.to_owned(),
        error_kind: format!("{:?}", e.kind()),
        reason: e.to_string(),
    })
}

fn timeout_error(what: &str) -> runway_core::Error {
    runway_core::Error::new(ErrorKind::Timeout, format!("{what} did not answer in time"))
}

const DB_CHECKS: [CheckId; 4] = [
    CheckId::ConnectionPool,
    CheckId::SlowQueries,
    CheckId::DatabaseSize,
    CheckId::Locks,
];

fn database_down(
    e: &sqlx::Error,
    findings: &mut Vec<Finding>,
    summaries: &mut Vec<(CheckId, String, bool)>,
) {
    findings.push(unreachable_db(e));
    for c in DB_CHECKS {
        // Only the pool check has a verdict (the critical finding); the others could not run.
        summaries.push((
            c,
            "database unreachable".into(),
            c == CheckId::ConnectionPool,
        ));
    }
}

fn unreachable_db(e: &sqlx::Error) -> Finding {
    let sqlstate = e
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned());
    let (kind, reason) = match e {
        sqlx::Error::PoolTimedOut => (
            ErrorKind::Timeout,
            "timed out waiting for a connection".to_owned(),
        ),
        sqlx::Error::Io(io) => (
            ErrorKind::Unavailable,
            format!("network error: {}", io.kind()),
        ),
        sqlx::Error::Tls(_) => (ErrorKind::Unavailable, "TLS handshake failed".to_owned()),
        sqlx::Error::Database(d) => (ErrorKind::Provider, d.message().to_owned()),
        _ => (ErrorKind::Unavailable, "connection failed".to_owned()),
    };
    Finding::new(FindingKind::DatabaseUnreachable {
        error_kind: format!("{kind:?}"),
        sqlstate,
        reason,
    })
}

impl Diagnosis {
    /// Start building.
    pub fn builder() -> DiagnosisBuilder {
        DiagnosisBuilder::default()
    }

    /// Run every configured check. Components that fail become findings; this never errors.
    pub async fn run(&self) -> DiagnosisReport {
        let now = self.clock.now();
        let mut findings: Vec<Finding> = Vec::new();
        let mut summaries: Vec<(CheckId, String, bool)> = Vec::new();
        let mut m = Measurements::default();

        let (f, s) = self.check_health().await;
        findings.extend(f);
        summaries.push((
            CheckId::Health,
            s.clone()
                .unwrap_or_else(|| "no health check or fleet configured".into()),
            s.is_some(),
        ));

        match &self.history {
            Some(h) => {
                let since = now
                    - chrono::Duration::from_std(self.thresholds.recent_release)
                        .unwrap_or(chrono::Duration::MAX);
                match tokio::time::timeout(self.thresholds.call_timeout, h.events(since)).await {
                    Ok(Ok(events)) => {
                        let records = analyze::releases(&events);
                        let f = analyze::evaluate_releases(
                            &records,
                            now,
                            self.thresholds.recent_release,
                            self.environment.as_deref(),
                        );
                        let s = format!(
                            "{} rollouts in the journal, {} in the last {}",
                            records.len(),
                            f.len(),
                            runway_core::human_duration(self.thresholds.recent_release)
                        );
                        findings.extend(f);
                        m.releases = records;
                        summaries.push((CheckId::RecentReleases, s, true));
                    }
                    Ok(Err(e)) => {
                        findings.push(failed("journal", &e));
                        summaries.push((
                            CheckId::RecentReleases,
                            "journal unavailable".into(),
                            true,
                        ));
                    }
                    Err(_) => {
                        findings.push(failed("journal", &timeout_error("the journal")));
                        summaries.push((CheckId::RecentReleases, "journal timed out".into(), true));
                    }
                }
            }
            None => summaries.push((
                CheckId::RecentReleases,
                "no journal configured".into(),
                false,
            )),
        }

        match &self.logs {
            Some((logs, scope)) => match tokio::time::timeout(
                self.thresholds.call_timeout,
                self.error_summary(logs.as_ref(), scope, now),
            )
            .await
            {
                Ok(Ok(summary)) => {
                    let s = format!(
                        "{}{} ERROR lines in the last hour{}",
                        if summary.truncated { "≥" } else { "" },
                        summary.count,
                        summary
                            .previous
                            .map(|p| format!(" ({p} the hour before)"))
                            .unwrap_or_default()
                    );
                    findings.extend(analyze::evaluate_errors(&summary, &self.thresholds));
                    m.errors = Some(summary);
                    summaries.push((CheckId::ErrorRate, s, true));
                }
                Ok(Err(e)) => {
                    findings.push(failed("logs", &e));
                    summaries.push((CheckId::ErrorRate, "logs unavailable".into(), true));
                }
                Err(_) => {
                    findings.push(failed("logs", &timeout_error("the log source")));
                    summaries.push((CheckId::ErrorRate, "logs timed out".into(), true));
                }
            },
            None => summaries.push((CheckId::ErrorRate, "no log source configured".into(), false)),
        }

        match &self.database {
            Some(Database::Pool(pool)) => {
                match tokio::time::timeout(self.thresholds.call_timeout, pool.acquire()).await {
                    Ok(Ok(mut conn)) => {
                        self.check_database(&mut conn, &mut findings, &mut summaries, &mut m)
                            .await
                    }
                    Ok(Err(e)) => database_down(&e, &mut findings, &mut summaries),
                    Err(_) => {
                        database_down(&sqlx::Error::PoolTimedOut, &mut findings, &mut summaries)
                    }
                }
            }
            Some(Database::Options(opts)) => {
                match tokio::time::timeout(
                    self.thresholds.call_timeout,
                    PgConnection::connect_with(&**opts),
                )
                .await
                {
                    Ok(Ok(mut conn)) => {
                        self.check_database(&mut conn, &mut findings, &mut summaries, &mut m)
                            .await;
                        let _ = conn.close().await;
                    }
                    Ok(Err(e)) => database_down(&e, &mut findings, &mut summaries),
                    Err(_) => {
                        database_down(&sqlx::Error::PoolTimedOut, &mut findings, &mut summaries)
                    }
                }
            }
            None => {
                for c in [
                    CheckId::ConnectionPool,
                    CheckId::SlowQueries,
                    CheckId::DatabaseSize,
                    CheckId::Locks,
                ] {
                    summaries.push((
                        c,
                        "no database configured (give a PostgreSQL URL)".into(),
                        false,
                    ));
                }
            }
        }

        match &self.metrics {
            Some((metrics, env)) => {
                let (f, s, rate) = self.check_metrics(metrics.as_ref(), env, now).await;
                findings.extend(f);
                summaries.push((CheckId::Resources, s, true));
                // ERROR lines are a proxy; when the request metrics show the 5xx rate within the runbook's 1%,
                // the lines alone do not make an outage.
                if let Some(rate) = rate.filter(|r| *r < 0.01) {
                    for f in findings.iter_mut() {
                        if matches!(f.kind, FindingKind::ErrorRate { critical: true, .. }) {
                            f.severity = Severity::Warning;
                            f.message.push_str(&format!(
                                "; but the 5xx rate is {:.2}%, within the 1% threshold",
                                rate * 100.0
                            ));
                        }
                    }
                }
            }
            None => summaries.push((
                CheckId::Resources,
                "no metrics source configured".into(),
                false,
            )),
        }

        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.check.cmp(&b.check)));
        let checks = CheckId::ALL
            .iter()
            .map(|&check| {
                let (summary, ran) = summaries
                    .iter()
                    .find(|(c, _, _)| *c == check)
                    .map(|(_, s, r)| (s.clone(), *r))
                    .unwrap_or_else(|| ("not run".into(), false));
                let mine: Vec<&Finding> = findings.iter().filter(|f| f.check == check).collect();
                let status = if mine.iter().any(|f| f.severity == Severity::Critical) {
                    CheckStatus::Critical
                } else if !mine.is_empty() {
                    CheckStatus::Warning
                } else if ran {
                    CheckStatus::Ok
                } else {
                    CheckStatus::Skipped
                };
                CheckReport {
                    check,
                    status,
                    summary,
                }
            })
            .collect();
        let mut report = DiagnosisReport {
            at: now,
            checks,
            findings,
            actions: Vec::new(),
            measurements: m,
        };
        report.actions = actions(&report);
        report
    }

    async fn check_health(&self) -> (Vec<Finding>, Option<String>) {
        let mut out = Vec::new();
        let mut parts = Vec::new();
        for check in &self.health {
            let (result, took) = run_check(check.as_ref()).await;
            let problem = result
                .problem
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            match result.status {
                HealthStatus::Pass => {
                    parts.push(format!("{} passes ({} ms)", check.name(), took.as_millis()))
                }
                status => {
                    parts.push(format!(
                        "{} {}",
                        check.name(),
                        if status == HealthStatus::Fail {
                            "fails"
                        } else {
                            "warns"
                        }
                    ));
                    out.push(Finding::new(FindingKind::HealthFailing {
                        name: check.name().to_owned(),
                        problem,
                        failing: status == HealthStatus::Fail,
                    }));
                }
            }
        }
        if let Some((platform, probe, env)) = &self.fleet {
            match tokio::time::timeout(
                self.thresholds.call_timeout,
                platform.units(env, &ListUnits::default()),
            )
            .await
            {
                Ok(Ok(units)) => {
                    let mut unhealthy = Vec::new();
                    for u in &units {
                        let ok = matches!(
                            tokio::time::timeout(self.thresholds.call_timeout, probe.probe(u, Duration::from_secs(5))).await,
                            Ok(Ok(r)) if r.healthy
                        );
                        if !ok {
                            unhealthy.push(u.id.to_string());
                        }
                    }
                    parts.push(format!(
                        "{} of {} units healthy",
                        units.len() - unhealthy.len(),
                        units.len()
                    ));
                    if !unhealthy.is_empty() {
                        out.push(Finding::new(FindingKind::UnhealthyUnits {
                            unhealthy,
                            total: units.len(),
                        }));
                    }
                }
                Ok(Err(e)) => {
                    parts.push("platform unavailable".into());
                    out.push(failed("platform", &e));
                }
                Err(_) => {
                    parts.push("platform timed out".into());
                    out.push(failed("platform", &timeout_error("the platform")));
                }
            }
        }
        let summary = (!parts.is_empty()).then(|| parts.join("; "));
        (out, summary)
    }

    async fn error_summary(
        &self,
        logs: &dyn LogSource,
        scope: &LogScope,
        now: DateTime<Utc>,
    ) -> Result<ErrorSummary, runway_core::Error> {
        let hour = Duration::from_secs(3600);
        let limit = self.thresholds.max_error_lines.max(1);
        let current = collect(logs, &error_query(scope, TimeRange::last(hour, now), limit)).await?;
        let before_end = now - chrono::Duration::seconds(3600);
        // The hour before is a trend hint: a source that cannot serve it does not fail the check.
        let previous = collect(
            logs,
            &error_query(scope, TimeRange::last(hour, before_end), limit),
        )
        .await
        .ok()
        .map(|v| v.len());
        let truncated = current.len() >= limit;
        Ok(analyze::summarise_errors(&current, previous, truncated))
    }

    async fn check_database(
        &self,
        conn: &mut PgConnection,
        findings: &mut Vec<Finding>,
        summaries: &mut Vec<(CheckId, String, bool)>,
        m: &mut Measurements,
    ) {
        let t = &self.thresholds;
        if let Err(e) = pg::prepare(conn).await {
            database_down(&e, findings, summaries);
            return;
        }
        let timeout = t.call_timeout;
        let unavailable =
            |check: CheckId, e: &sqlx::Error, summaries: &mut Vec<(CheckId, String, bool)>| {
                let reason = match e {
                    sqlx::Error::Database(d) => d.message().to_owned(),
                    other => format!("{:?}", std::mem::discriminant(other)),
                };
                summaries.push((check, format!("query failed: {reason}"), true));
            };

        match tokio::time::timeout(timeout, pg::pool(conn)).await {
            Ok(Ok(sample)) => {
                summaries.push((
                    CheckId::ConnectionPool,
                    format!(
                        "{} of {} connections ({:.0}%), {} to this database, {} active, {} idle in transaction",
                        sample.total,
                        sample.max_connections,
                        sample.utilisation() * 100.0,
                        sample.this_database,
                        sample.active,
                        sample.idle_in_transaction
                    ),
                    true,
                ));
                findings.extend(analyze::evaluate_pool(&sample, t));
                m.pool = Some(sample);
            }
            Ok(Err(e)) => unavailable(CheckId::ConnectionPool, &e, summaries),
            Err(_) => summaries.push((CheckId::ConnectionPool, "query timed out".into(), true)),
        }

        match tokio::time::timeout(
            timeout,
            pg::slow(conn, t.slow_query.as_secs_f64(), t.all_databases),
        )
        .await
        {
            Ok(Ok(queries)) => {
                let f = analyze::evaluate_slow(&queries, t);
                summaries.push((
                    CheckId::SlowQueries,
                    format!(
                        "{} active statements over {}",
                        f.len(),
                        runway_core::human_duration(t.slow_query)
                    ),
                    true,
                ));
                findings.extend(f);
            }
            Ok(Err(e)) => unavailable(CheckId::SlowQueries, &e, summaries),
            Err(_) => summaries.push((CheckId::SlowQueries, "query timed out".into(), true)),
        }

        match tokio::time::timeout(timeout, pg::size(conn)).await {
            Ok(Ok((name, size, tables))) => {
                let headroom = match t.disk_limit {
                    Some(limit) => format!(
                        " of a {} disk limit",
                        bytes(i64::try_from(limit).unwrap_or(i64::MAX))
                    ),
                    None => " (disk headroom not visible: give a disk limit)".into(),
                };
                let largest = tables
                    .first()
                    .map(|(n, b)| format!("; largest table {n} {}", bytes(*b)))
                    .unwrap_or_default();
                summaries.push((
                    CheckId::DatabaseSize,
                    format!("{name} is {}{headroom}{largest}", bytes(size)),
                    true,
                ));
                findings.extend(analyze::evaluate_size(size, t.disk_limit, t));
                m.database_bytes = Some(size);
                m.largest_tables = tables;
            }
            Ok(Err(e)) => unavailable(CheckId::DatabaseSize, &e, summaries),
            Err(_) => summaries.push((CheckId::DatabaseSize, "query timed out".into(), true)),
        }

        match tokio::time::timeout(timeout, pg::blocked(conn, t.all_databases)).await {
            Ok(Ok(blocked)) => {
                summaries.push((
                    CheckId::Locks,
                    format!("{} sessions waiting on locks", blocked.len()),
                    true,
                ));
                findings.extend(analyze::evaluate_locks(&blocked, t));
            }
            Ok(Err(e)) => unavailable(CheckId::Locks, &e, summaries),
            Err(_) => summaries.push((CheckId::Locks, "query timed out".into(), true)),
        }
    }

    async fn check_metrics(
        &self,
        metrics: &dyn MetricsSource,
        env: &EnvironmentId,
        now: DateTime<Utc>,
    ) -> (Vec<Finding>, String, Option<f64>) {
        let mut out = Vec::new();
        let mut parts = Vec::new();
        let mut measured = None;
        match tokio::time::timeout(self.thresholds.call_timeout, metrics.resource_metrics(env))
            .await
        {
            Ok(Ok(r)) => {
                let pct =
                    |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{:.0}%", v * 100.0));
                parts.push(format!(
                    "pool {}, queue {}, memory {}, cpu {}",
                    pct(r.db_pool_utilisation),
                    r.queue_depth.map_or("n/a".to_owned(), |q| q.to_string()),
                    pct(r.memory_utilisation),
                    pct(r.cpu_utilisation)
                ));
                out.extend(analyze::evaluate_resources(&r, &self.thresholds));
            }
            Ok(Err(e)) if e.kind() == &ErrorKind::Unsupported => {}
            Ok(Err(e)) => out.push(failed("metrics", &e)),
            Err(_) => out.push(failed("metrics", &timeout_error("the metrics source"))),
        }
        let q = MetricsQuery::new(env.clone(), TimeRange::last(Duration::from_secs(300), now));
        if let Ok(Ok(req)) =
            tokio::time::timeout(self.thresholds.call_timeout, metrics.request_metrics(&q)).await
            && let Some(rate) = req.server_error_rate()
        {
            parts.push(format!(
                "5xx {:.1}% of {} requests in 5 min",
                rate * 100.0,
                req.total
            ));
            measured = Some(rate);
            if rate >= 0.01 {
                out.push(Finding::new(FindingKind::Resource {
                    measurement: "http_5xx_rate".into(),
                    value: (rate * 1000.0).round() / 1000.0,
                    limit: 0.01,
                    unit: "ratio".into(),
                    critical: rate >= 0.5,
                }));
            }
        }
        let summary = if parts.is_empty() {
            "no metrics available".into()
        } else {
            parts.join("; ")
        };
        (out, summary, measured)
    }
}

fn error_query(scope: &LogScope, range: TimeRange, limit: usize) -> LogQuery {
    LogQuery::new(scope.clone(), range)
        .with_contains("ERROR")
        .with_limit(limit)
}

async fn collect(
    logs: &dyn LogSource,
    q: &LogQuery,
) -> Result<Vec<runway_core::LogEntry>, runway_core::Error> {
    let mut stream = logs.query(q).await?;
    let mut out = Vec::new();
    while let Some(entry) = stream.next().await {
        let entry = entry?;
        if q.matches(&entry)
            || (q.range.contains(entry.timestamp) && entry.level == LogLevel::Error)
        {
            out.push(entry);
        }
        if q.limit.is_some_and(|l| out.len() >= l) {
            break;
        }
    }
    Ok(out)
}

/// The actions in order: a rollback first when a recent release meets trouble, then critical findings'
/// actions, then warnings'; duplicates dropped.
fn actions(report: &DiagnosisReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(f) = report.rollback_recommended()
        && let FindingKind::RecentRelease {
            release, previous, ..
        } = &f.kind
    {
        let to = previous
            .as_deref()
            .map(|p| format!(" to {p}"))
            .unwrap_or_default();
        out.push(format!(
            "Roll back {release}{to} now: a recent release coincides with failing health or an error spike (runbook: if recent deploy, rollback immediately)"
        ));
    }
    for f in &report.findings {
        if !out.contains(&f.action) {
            out.push(f.action.clone());
        }
    }
    if report
        .findings
        .iter()
        .any(|f| f.severity == Severity::Critical)
    {
        out.push("Communicate in Slack #alerts, and write the incident report / post-mortem after resolution".into());
    }
    if out.is_empty() {
        out.push("No problem found by these checks; if users still see errors, check external dependencies (API down) and traffic (scale), and keep monitoring".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_first_when_release_meets_errors() {
        let rel = Finding::new(FindingKind::RecentRelease {
            run: "r1".into(),
            environment: "production".into(),
            release: "v2".into(),
            previous: Some("v1".into()),
            age_seconds: 600,
            outcome: Some("succeeded".into()),
        });
        let err = Finding::new(FindingKind::ErrorRate {
            count: 120,
            previous_hour: Some(0),
            threshold: 50,
            truncated: false,
            patterns: vec![],
            endpoints: vec![("/api/v1/orders".into(), 30)],
            critical: true,
        });
        let mut report = DiagnosisReport {
            at: DateTime::from_timestamp(0, 0).unwrap(),
            checks: vec![],
            findings: vec![err, rel],
            actions: vec![],
            measurements: Measurements::default(),
        };
        report.actions = actions(&report);
        assert!(
            report.actions[0].starts_with("Roll back v2 to v1 now"),
            "{:?}",
            report.actions
        );
        assert!(report.actions.last().unwrap().contains("#alerts"));
        // Finding fields and kind fields never collide in JSON (one `check`, one `message`).
        let json = report.to_json();
        assert_eq!(json["findings"][0]["check"], "error-rate");
        assert_eq!(json["findings"][0]["type"], "error_rate");
        assert!(!report.healthy());
        let text = report.render_text();
        assert!(text.contains("What to do:"));
    }

    #[test]
    fn from_vars_wires_components() {
        let vars = |n: &str| match n {
            "RUNWAY_DATABASE_URL" => Some("postgres://app:pw@db.internal/app".to_owned()),
            "RUNWAY_JOURNAL" => Some("/tmp/journal.jsonl".to_owned()),
            "RUNWAY_ENVIRONMENT" => Some("production".to_owned()),
            "RUNWAY_HEALTH_URL" => Some(String::new()),
            _ => None,
        };
        let b = DiagnosisBuilder::from_vars(vars).unwrap();
        assert!(b.database_url.is_some() && b.history.is_some() && b.health.is_empty());
        assert_eq!(b.environment.as_deref(), Some("production"));
        let bad = DiagnosisBuilder::from_vars(|n| {
            (n == "RUNWAY_HEALTH_URL").then(|| "not a url".to_owned())
        });
        assert!(matches!(bad, Err(DiagnoseError::InvalidHealthCheck(_))));
    }

    #[test]
    fn bad_url_is_typed_and_does_not_echo() {
        let err = Diagnosis::builder()
            .with_database_url(SecretString::from("mysql://u:hunter2@h/db"))
            .build()
            .unwrap_err();
        assert!(matches!(err, DiagnoseError::InvalidDatabaseUrl));
        let diag = Diagnosis::builder()
            .with_database_url(SecretString::from(
                "postgres://app:hunter2@db.internal:5432/app",
            ))
            .build()
            .unwrap();
        let debug = format!("{diag:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("db.internal"), "{debug}");
        assert!(!err.to_string().contains("hunter2"));
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
