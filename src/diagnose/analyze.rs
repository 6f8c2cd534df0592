//! Pure evaluation: samples in, findings out. No IO, so every threshold is unit-testable.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use runway_core::event::DeployEvent;
use runway_core::{Event, EventPayload, LogEntry, ReleaseId, ResourceMetrics};
use serde::Serialize;

use super::{Finding, FindingKind, Thresholds};

/// Connection counts from `pg_stat_activity` and the server's limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PoolSample {
    /// Client connections on the whole server.
    pub total: i64,
    /// Client connections to the database checked.
    pub this_database: i64,
    /// Sessions running a statement.
    pub active: i64,
    /// Idle sessions.
    pub idle: i64,
    /// Sessions idle inside an open transaction (a classic pool leak).
    pub idle_in_transaction: i64,
    /// `max_connections`.
    pub max_connections: i64,
    /// `superuser_reserved_connections`.
    pub reserved: i64,
}

impl PoolSample {
    /// Used share of `max_connections`.
    pub fn utilisation(&self) -> f64 {
        if self.max_connections <= 0 {
            return 0.0;
        }
        self.total as f64 / self.max_connections as f64
    }
}

/// Evaluate connection use: at or above the threshold is a warning, at or above the connections ordinary
/// users may open (`max_connections - superuser_reserved_connections`) or 95% is critical.
pub fn evaluate_pool(sample: &PoolSample, thresholds: &Thresholds) -> Option<Finding> {
    let u = sample.utilisation();
    let usable = (sample.max_connections - sample.reserved).max(1);
    let exhausted = sample.total >= usable || u >= 0.95;
    if !exhausted && u < thresholds.pool_utilisation {
        return None;
    }
    Some(Finding::new(FindingKind::ConnectionPool {
        used: sample.total,
        max: sample.max_connections,
        utilisation: round2(u),
        idle_in_transaction: sample.idle_in_transaction,
        exhausted,
    }))
}

/// One `active` session from `pg_stat_activity`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveQuery {
    /// Backend pid.
    pub pid: i32,
    /// Role.
    pub user: String,
    /// `application_name`.
    pub application: String,
    /// Seconds since `query_start`.
    pub seconds: f64,
    /// `wait_event_type`, empty when running.
    pub wait_event_type: String,
    /// The statement with string literals redacted ([`redact_sql`]).
    pub query: String,
}

/// One finding per query running longer than the threshold, slowest first.
pub fn evaluate_slow(queries: &[ActiveQuery], thresholds: &Thresholds) -> Vec<Finding> {
    let mut qs: Vec<&ActiveQuery> = queries
        .iter()
        .filter(|q| q.seconds > thresholds.slow_query.as_secs_f64())
        .collect();
    qs.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    qs.into_iter()
        .map(|q| {
            Finding::new(FindingKind::SlowQuery {
                pid: q.pid,
                seconds: round2(q.seconds),
                user: q.user.clone(),
                application: q.application.clone(),
                waiting_on: q.wait_event_type.clone(),
                query: q.query.clone(),
                critical: q.seconds >= thresholds.slow_query_critical.as_secs_f64(),
            })
        })
        .collect()
}

/// A session waiting for a lock, and who holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockedSession {
    /// The waiting pid.
    pub pid: i32,
    /// `pg_blocking_pids(pid)`.
    pub blocking_pids: Vec<i32>,
    /// Seconds it has waited (since its statement started).
    pub waiting_seconds: f64,
    /// The lock mode it waits for.
    pub mode: String,
    /// The relation, when the lock is on one.
    pub relation: Option<String>,
    /// Its statement, redacted.
    pub query: String,
    /// The blockers: pid, state, seconds in their transaction, statement (redacted).
    pub blockers: Vec<Blocker>,
}

/// A session holding a lock others wait for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocker {
    /// Its pid.
    pub pid: i32,
    /// Its state (`idle in transaction` is the usual culprit).
    pub state: String,
    /// Seconds since its transaction began.
    pub transaction_seconds: f64,
    /// Its last statement, redacted.
    pub query: String,
}

/// One finding per blocked session; critical when it has waited longer than the slow-query threshold.
pub fn evaluate_locks(blocked: &[BlockedSession], thresholds: &Thresholds) -> Vec<Finding> {
    blocked
        .iter()
        .map(|b| {
            Finding::new(FindingKind::BlockingLock {
                blocked_pid: b.pid,
                blocking_pids: b.blocking_pids.clone(),
                waiting_seconds: round2(b.waiting_seconds),
                mode: b.mode.clone(),
                relation: b.relation.clone(),
                blocked_query: b.query.clone(),
                blockers: b.blockers.clone(),
                critical: b.waiting_seconds >= thresholds.slow_query.as_secs_f64(),
            })
        })
        .collect()
}

/// Database size against a disk limit, when one is known.
pub fn evaluate_size(bytes: i64, limit: Option<u64>, thresholds: &Thresholds) -> Option<Finding> {
    let limit = limit?;
    if limit == 0 {
        return None;
    }
    let used = bytes.max(0) as f64 / limit as f64;
    if used < thresholds.disk_warning {
        return None;
    }
    Some(Finding::new(FindingKind::DiskSpace {
        database_bytes: bytes,
        limit_bytes: limit,
        used: round2(used),
        critical: used >= thresholds.disk_critical,
    }))
}

/// What the error logs of the last hour say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErrorSummary {
    /// ERROR lines in the window (a lower bound when `truncated`).
    pub count: usize,
    /// ERROR lines in the window before it (for a trend).
    pub previous: Option<usize>,
    /// The query hit its line limit.
    pub truncated: bool,
    /// The most frequent message shapes (numbers and ids masked), with counts.
    pub patterns: Vec<(String, usize)>,
    /// Endpoints named by the errors (attributes `endpoint`, `path`, `route`, or a `/path` in the message).
    pub endpoints: Vec<(String, usize)>,
    /// The first ERROR line's time in the window.
    pub first_at: Option<DateTime<Utc>>,
}

/// Mask the variable parts of a log message (numbers, hex ids, quoted values) so equal errors group.
pub fn message_pattern(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|d| d.is_ascii_alphanumeric() || *d == '.')
            {
                chars.next();
            }
            out.push('#');
        } else if c == '"' || c == '\'' {
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
            }
            out.push_str("\"…\"");
        } else {
            out.push(c);
        }
    }
    let mut s: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 120 {
        s = s.chars().take(119).collect();
        s.push('…');
    }
    s
}

fn endpoint_of(entry: &LogEntry) -> Option<String> {
    for key in ["endpoint", "path", "route", "url"] {
        if let Some(v) = entry.attributes.get(key) {
            return Some(v.split('?').next().unwrap_or(v).to_owned());
        }
    }
    entry
        .message
        .split_whitespace()
        .find(|t| {
            t.starts_with('/')
                && t.len() > 1
                && t[1..].starts_with(|c: char| c.is_ascii_alphabetic())
        })
        .map(|t| {
            let t = t.trim_end_matches([',', ':', ';', ')', '"', '\'']);
            t.split('?').next().unwrap_or(t).to_owned()
        })
}

fn top(counts: BTreeMap<String, usize>, n: usize) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// Summarise ERROR lines: count, top patterns and endpoints.
pub fn summarise_errors(
    entries: &[LogEntry],
    previous: Option<usize>,
    truncated: bool,
) -> ErrorSummary {
    let mut patterns = BTreeMap::new();
    let mut endpoints = BTreeMap::new();
    for e in entries {
        *patterns.entry(message_pattern(&e.message)).or_default() += 1;
        if let Some(ep) = endpoint_of(e) {
            *endpoints.entry(ep).or_default() += 1;
        }
    }
    ErrorSummary {
        count: entries.len(),
        previous,
        truncated,
        patterns: top(patterns, 5),
        endpoints: top(endpoints, 5),
        first_at: entries.iter().map(|e| e.timestamp).min(),
    }
}

/// Critical at or above the hourly threshold; a warning at a fifth of it when the count at least doubled
/// against the hour before.
pub fn evaluate_errors(summary: &ErrorSummary, thresholds: &Thresholds) -> Option<Finding> {
    let t = thresholds.error_lines_per_hour.max(1);
    let critical = summary.count >= t;
    let rising = summary.count >= t.div_ceil(5).max(1)
        && summary
            .previous
            .is_some_and(|p| summary.count >= p.saturating_mul(2).max(1));
    if !critical && !rising {
        return None;
    }
    Some(Finding::new(FindingKind::ErrorRate {
        count: summary.count,
        previous_hour: summary.previous,
        threshold: t,
        truncated: summary.truncated,
        patterns: summary.patterns.clone(),
        endpoints: summary.endpoints.clone(),
        critical,
    }))
}

/// One rollout, as its journal events tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseRecord {
    /// The run id.
    pub run: String,
    /// The environment.
    pub environment: String,
    /// The release rolled out.
    pub release: ReleaseId,
    /// The release it replaced.
    pub previous: Option<ReleaseId>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished, if it did.
    pub finished_at: Option<DateTime<Utc>>,
    /// `succeeded`, `rolled_back`, `rollback_failed`; `None` while unfinished.
    pub outcome: Option<String>,
}

/// Fold journal events into rollouts (newest first).
pub fn releases(events: &[Event]) -> Vec<ReleaseRecord> {
    let mut by_run: BTreeMap<String, ReleaseRecord> = BTreeMap::new();
    for e in events {
        let Some(run) = &e.run else { continue };
        let EventPayload::Deploy(d) = &e.payload else {
            continue;
        };
        match d {
            DeployEvent::RolloutStarted {
                environment,
                release,
                previous,
                ..
            } => {
                by_run.entry(run.clone()).or_insert_with(|| ReleaseRecord {
                    run: run.clone(),
                    environment: environment.to_string(),
                    release: release.clone(),
                    previous: previous.clone(),
                    started_at: e.at,
                    finished_at: None,
                    outcome: None,
                });
            }
            DeployEvent::RolloutFinished { outcome, .. } => {
                if let Some(r) = by_run.get_mut(run) {
                    r.finished_at = Some(e.at);
                    r.outcome = Some(outcome.clone());
                }
            }
            _ => {}
        }
    }
    let mut v: Vec<ReleaseRecord> = by_run.into_values().collect();
    v.sort_by(|a, b| {
        b.started_at
            .cmp(&a.started_at)
            .then_with(|| a.run.cmp(&b.run))
    });
    v
}

/// Findings for rollouts that started within `window` before `now`, and for unfinished ones.
pub fn evaluate_releases(
    records: &[ReleaseRecord],
    now: DateTime<Utc>,
    window: Duration,
    environment: Option<&str>,
) -> Vec<Finding> {
    let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
    records
        .iter()
        .filter(|r| environment.is_none_or(|e| r.environment == e))
        .filter(|r| r.outcome.is_none() || now - r.started_at <= window)
        .map(|r| {
            let age = (now - r.started_at).to_std().unwrap_or(Duration::ZERO);
            Finding::new(FindingKind::RecentRelease {
                run: r.run.clone(),
                environment: r.environment.clone(),
                release: r.release.to_string(),
                previous: r.previous.as_ref().map(ToString::to_string),
                age_seconds: age.as_secs(),
                outcome: r.outcome.clone(),
            })
        })
        .collect()
}

/// The runbook's dashboard thresholds on resource use: pool < 80%, queue < 100, memory < 80%, CPU < 70%.
pub fn evaluate_resources(r: &ResourceMetrics, thresholds: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut check = |name: &str, value: Option<f64>, limit: f64, critical_at: f64, unit: &str| {
        if let Some(v) = value
            && v >= limit
        {
            out.push(Finding::new(FindingKind::Resource {
                measurement: name.to_owned(),
                value: round2(v),
                limit,
                unit: unit.to_owned(),
                critical: v >= critical_at,
            }));
        }
    };
    check(
        "db_pool_utilisation",
        r.db_pool_utilisation,
        thresholds.pool_utilisation,
        0.95,
        "ratio",
    );
    check(
        "queue_depth",
        r.queue_depth.map(|q| q as f64),
        100.0,
        1000.0,
        "tasks",
    );
    check(
        "memory_utilisation",
        r.memory_utilisation,
        0.80,
        0.95,
        "ratio",
    );
    check("cpu_utilisation", r.cpu_utilisation, 0.70, 0.95, "ratio");
    out
}

/// Replace SQL string literals with `'…'` and shorten to 160 characters, so statements shown from
/// `pg_stat_activity` (which may hold passwords or personal data in literals) reveal only their shape.
pub fn redact_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len().min(200));
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                    }
                    Some('\'') | None => break,
                    Some(_) => {}
                }
            }
            out.push_str("'…'");
        } else if c == '$' && chars.peek() == Some(&'$') {
            chars.next();
            let mut prev = ' ';
            for d in chars.by_ref() {
                if prev == '$' && d == '$' {
                    break;
                }
                prev = d;
            }
            out.push_str("$$…$$");
        } else {
            out.push(c);
        }
    }
    let s: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 160 {
        let mut t: String = s.chars().take(159).collect();
        t.push('…');
        t
    } else {
        s
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_thresholds() {
        let t = Thresholds::default();
        let mut s = PoolSample {
            total: 50,
            max_connections: 100,
            reserved: 3,
            ..PoolSample::default()
        };
        assert!(evaluate_pool(&s, &t).is_none());
        s.total = 80;
        let f = evaluate_pool(&s, &t).unwrap();
        assert_eq!(f.severity, super::super::Severity::Warning);
        s.total = 97;
        let f = evaluate_pool(&s, &t).unwrap();
        assert_eq!(f.severity, super::super::Severity::Critical);
    }

    #[test]
    fn sql_is_redacted() {
        assert_eq!(
            redact_sql("ALTER ROLE app PASSWORD 'hunter''2'  ;"),
            "ALTER ROLE app PASSWORD '…' ;"
        );
        assert_eq!(redact_sql("SELECT $$secret$$, 1"), "SELECT $$…$$, 1");
        assert!(!redact_sql("SELECT 'x").contains('x'));
    }

    #[test]
    fn error_patterns_group() {
        let at = DateTime::from_timestamp(1_000, 0).unwrap();
        let mk = |m: &str| LogEntry {
            timestamp: at,
            level: runway_core::LogLevel::Error,
            message: m.into(),
            source: None,
            attributes: BTreeMap::new(),
        };
        let e = [
            mk("ERROR api-1: 3 of 10 requests failed with 5xx"),
            mk("ERROR api-2: 5 of 12 requests failed with 5xx"),
            mk("ERROR POST /api/v1/orders 500 order_id=77"),
        ];
        let s = summarise_errors(&e, Some(1), false);
        assert_eq!(
            s.patterns[0],
            ("ERROR api-#: # of # requests failed with #".into(), 2)
        );
        assert_eq!(s.endpoints, vec![("/api/v1/orders".into(), 1)]);
        let t = Thresholds {
            error_lines_per_hour: 10,
            ..Thresholds::default()
        };
        let f = evaluate_errors(&s, &t).unwrap();
        assert_eq!(f.severity, super::super::Severity::Warning); // 3 >= 2 and 3 >= 2 x 1
        assert!(evaluate_errors(&summarise_errors(&e, Some(3), false), &t).is_none());
    }
}
