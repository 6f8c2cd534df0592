//! The pure planner: source + history + request -> the exact SQL to run, or a refusal naming the version.
//!
//! No IO happens here, so every policy decision (dirty, edited, missing, out-of-order, irreversible) is unit
//! tested without a database, and `plan` works offline against any history.

use std::fmt;
use std::time::Duration;

use crate::error::{Direction, MigrateError, Result};
use crate::source::{Migration, MigrationScript, MigrationSource};
use crate::sql::{is_terminated, non_transactional, split_statements};
use crate::target::{AppliedMigration, Dialect, HistoryTable};

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// Apply pending migrations, all of them or up to and including `to`.
    Up {
        /// The last version to apply.
        to: Option<i64>,
    },
    /// Revert applied migrations.
    Down(DownTarget),
    /// Record every migration up to and including `version` as applied without running it (an existing
    /// schema adopting the runner). Needs an empty history.
    Baseline {
        /// The version the existing schema corresponds to.
        version: i64,
    },
    /// Accept the current file of an applied migration that was edited on purpose.
    Accept {
        /// The version.
        version: i64,
    },
    /// Clear a dirty record once the operator has repaired the schema by hand.
    Resolve {
        /// The version.
        version: i64,
        /// What the schema now is.
        resolution: Resolution,
    },
}

/// How far to revert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownTarget {
    /// The newest `n` applied migrations.
    Steps(usize),
    /// Every applied migration newer than this version (`To(0)` reverts everything).
    To(i64),
}

/// How the operator left a dirty migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The migration's changes are fully in place: record it as applied.
    Applied,
    /// The migration's changes are fully gone: forget it, so it runs again.
    Reverted,
}

impl Resolution {
    /// `"applied"` or `"reverted"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Applied => "applied",
            Resolution::Reverted => "reverted",
        }
    }
}

/// Runner policy that shapes a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Apply a pending migration older than the newest applied one (default: refuse).
    pub out_of_order: bool,
    /// Tolerate applied migrations whose files are gone (default: refuse).
    pub allow_missing: bool,
    /// `lock_timeout` for transactional migrations without their own directive (default 5 s; `None`
    /// leaves the server's setting).
    pub lock_timeout: Option<Duration>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            out_of_order: false,
            allow_missing: false,
            lock_timeout: Some(Duration::from_secs(5)),
        }
    }
}

/// What a batch of SQL is, for the driver and for reading a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    /// `BEGIN; ... COMMIT;` as one round trip: all or nothing, retried on a lock timeout.
    Transaction,
    /// One statement of a no-transaction migration, committed on its own.
    Statement,
    /// A history-table write outside a transaction.
    Bookkeeping,
    /// A session setting (`SET` / `RESET`) around a no-transaction migration.
    Session,
}

/// SQL sent to the server as one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// What it is.
    pub kind: BatchKind,
    /// The exact text sent.
    pub sql: String,
}

/// One migration in a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMigration {
    /// The version.
    pub version: i64,
    /// The name.
    pub name: String,
    /// Up or down.
    pub direction: Direction,
    /// Whether it runs in one transaction.
    pub transactional: bool,
    /// What the operation is (`apply`, `revert`, `baseline`, `accept`, `resolve`).
    pub operation: &'static str,
    /// The SQL, in order.
    pub batches: Vec<Batch>,
}

/// The exact SQL a request would run, in order, with transaction boundaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The request planned.
    pub request: Request,
    /// The SQL flavour.
    pub dialect: Dialect,
    /// The history table DDL run first (idempotent).
    pub setup: String,
    /// The migrations, in execution order.
    pub migrations: Vec<PlannedMigration>,
}

impl Plan {
    /// Whether nothing would run.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    /// The versions, in execution order.
    pub fn versions(&self) -> Vec<i64> {
        self.migrations.iter().map(|m| m.version).collect()
    }

    /// The whole plan as one SQL script, with comments marking each migration and batch.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        out.push_str("-- runway-migrate plan\n-- history table (idempotent)\n");
        out.push_str(&self.setup);
        out.push_str(";\n");
        if self.migrations.is_empty() {
            out.push_str("-- nothing to do\n");
        }
        for m in &self.migrations {
            out.push_str(&format!(
                "\n-- {} {} {} ({}, {})\n",
                m.operation,
                m.version,
                m.name,
                m.direction,
                if m.transactional {
                    "one transaction"
                } else {
                    "no transaction: each statement commits on its own"
                }
            ));
            for b in &m.batches {
                if b.kind == BatchKind::Statement {
                    out.push_str("-- statement (autocommit)\n");
                }
                if b.kind == BatchKind::Transaction {
                    out.push_str(&b.sql);
                } else {
                    out.push_str(&terminate(&b.sql));
                }
                out.push('\n');
            }
        }
        out
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sql())
    }
}

/// `sql` without trailing whitespace, followed by a live `;` unless it already ends with one (on a line of
/// its own when the last line is a comment).
fn terminate(sql: &str) -> String {
    let body = sql.trim_end();
    if is_terminated(body) {
        return body.to_string();
    }
    let same_line = format!("{body};");
    if is_terminated(&same_line) {
        same_line
    } else {
        format!("{body}\n;")
    }
}

/// Where a migration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationState {
    /// Not applied yet.
    Pending,
    /// Not applied and older than the newest applied migration.
    PendingOutOfOrder,
    /// Applied and unchanged.
    Applied,
    /// Recorded by `baseline`.
    Baseline,
    /// Applied, but the file changed since.
    Edited,
    /// Failed part-way outside a transaction.
    Dirty,
    /// Applied, but the file is gone.
    Missing,
}

impl MigrationState {
    /// A short label.
    pub fn as_str(&self) -> &'static str {
        match self {
            MigrationState::Pending => "pending",
            MigrationState::PendingOutOfOrder => "pending (out of order)",
            MigrationState::Applied => "applied",
            MigrationState::Baseline => "baseline",
            MigrationState::Edited => "EDITED",
            MigrationState::Dirty => "DIRTY",
            MigrationState::Missing => "MISSING FILE",
        }
    }

    /// Whether it needs the operator's attention.
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            MigrationState::Edited | MigrationState::Dirty | MigrationState::Missing
        )
    }
}

/// One line of a status report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// The version.
    pub version: i64,
    /// The name (from the file, or the history when the file is gone).
    pub name: String,
    /// Its state.
    pub state: MigrationState,
    /// The history row, if applied.
    pub applied: Option<AppliedMigration>,
}

/// Every migration known to the source or the history, by version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The entries.
    pub entries: Vec<StatusEntry>,
}

impl Status {
    /// The newest applied (successful) version, like `alembic current`.
    pub fn current(&self) -> Option<i64> {
        self.entries
            .iter()
            .filter(|e| e.applied.as_ref().is_some_and(|a| a.success))
            .map(|e| e.version)
            .max()
    }

    /// Versions still to apply.
    pub fn pending(&self) -> Vec<i64> {
        self.entries
            .iter()
            .filter(|e| {
                matches!(
                    e.state,
                    MigrationState::Pending | MigrationState::PendingOutOfOrder
                )
            })
            .map(|e| e.version)
            .collect()
    }

    /// Entries needing attention (edited, dirty, missing).
    pub fn problems(&self) -> Vec<&StatusEntry> {
        self.entries
            .iter()
            .filter(|e| e.state.is_problem())
            .collect()
    }
}

/// Compute the status of `source` against `history`.
pub fn status(source: &MigrationSource, history: &[AppliedMigration]) -> Status {
    let latest_applied = history.iter().map(|h| h.version).max();
    let mut entries: Vec<StatusEntry> = Vec::new();
    for m in source.migrations() {
        let applied = history.iter().find(|h| h.version == m.version).cloned();
        let state = match &applied {
            None if latest_applied.is_some_and(|l| l > m.version) => {
                MigrationState::PendingOutOfOrder
            }
            None => MigrationState::Pending,
            Some(a) if !a.success => MigrationState::Dirty,
            Some(a) if a.checksum != m.checksum.as_str() => MigrationState::Edited,
            Some(a) if a.baseline => MigrationState::Baseline,
            Some(_) => MigrationState::Applied,
        };
        entries.push(StatusEntry {
            version: m.version,
            name: m.name.clone(),
            state,
            applied,
        });
    }
    for h in history {
        if source.get(h.version).is_none() {
            entries.push(StatusEntry {
                version: h.version,
                name: h.name.clone(),
                state: if h.success {
                    MigrationState::Missing
                } else {
                    MigrationState::Dirty
                },
                applied: Some(h.clone()),
            });
        }
    }
    entries.sort_by_key(|e| e.version);
    Status { entries }
}

/// Plan `request` for `source` against `history`. Pure: no IO.
pub fn plan(
    source: &MigrationSource,
    history: &[AppliedMigration],
    request: &Request,
    policy: &Policy,
    dialect: Dialect,
    table: &HistoryTable,
) -> Result<Plan> {
    let b = Builder {
        dialect,
        table,
        policy,
    };
    let migrations = match request {
        Request::Up { to } => {
            check_history(source, history, policy)?;
            if let Some(to) = to
                && source.get(*to).is_none()
            {
                return Err(MigrateError::UnknownVersion { version: *to });
            }
            let latest = history.iter().map(|h| h.version).max();
            let mut out = Vec::new();
            for m in source.migrations() {
                if to.is_some_and(|t| m.version > t) {
                    break;
                }
                if history.iter().any(|h| h.version == m.version) {
                    continue;
                }
                if let Some(latest) = latest.filter(|l| *l > m.version)
                    && !policy.out_of_order
                {
                    return Err(MigrateError::OutOfOrder {
                        version: m.version,
                        latest,
                    });
                }
                check_transactional(m.version, &m.up)?;
                out.push(b.up(m));
            }
            out
        }
        Request::Down(target) => {
            check_history(source, history, policy)?;
            let mut applied: Vec<&AppliedMigration> = history.iter().collect();
            applied.sort_by_key(|h| std::cmp::Reverse(h.version));
            let chosen: Vec<&AppliedMigration> = match target {
                DownTarget::Steps(n) => applied.into_iter().take(*n).collect(),
                DownTarget::To(v) => applied.into_iter().filter(|h| h.version > *v).collect(),
            };
            let mut out = Vec::new();
            for h in chosen {
                let m = source
                    .get(h.version)
                    .ok_or_else(|| MigrateError::MissingApplied {
                        version: h.version,
                        name: h.name.clone(),
                    })?;
                let down = m.down.as_ref().ok_or_else(|| MigrateError::Irreversible {
                    version: m.version,
                    name: m.name.clone(),
                })?;
                check_transactional(m.version, down)?;
                out.push(b.down(m, down));
            }
            out
        }
        Request::Baseline { version } => {
            if !history.is_empty() {
                return Err(MigrateError::BaselineNotEmpty {
                    version: *version,
                    recorded: history.len(),
                });
            }
            if source.get(*version).is_none() {
                return Err(MigrateError::UnknownVersion { version: *version });
            }
            let rows: Vec<&Migration> = source
                .migrations()
                .iter()
                .take_while(|m| m.version <= *version)
                .collect();
            let mut sql = format!("{};\n", dialect.begin());
            for m in &rows {
                sql.push_str(&dialect.insert_baseline(table, m));
                sql.push_str(";\n");
            }
            sql.push_str("COMMIT;");
            vec![PlannedMigration {
                version: *version,
                name: source
                    .get(*version)
                    .map(|m| m.name.clone())
                    .unwrap_or_default(),
                direction: Direction::Up,
                transactional: true,
                operation: "baseline",
                batches: vec![Batch {
                    kind: BatchKind::Transaction,
                    sql,
                }],
            }]
        }
        Request::Accept { version } => {
            let h = history
                .iter()
                .find(|h| h.version == *version)
                .ok_or(MigrateError::NotApplied { version: *version })?;
            if !h.success {
                return Err(MigrateError::Dirty {
                    version: h.version,
                    name: h.name.clone(),
                });
            }
            let m = source
                .get(*version)
                .ok_or(MigrateError::UnknownVersion { version: *version })?;
            vec![b.single(m, "accept", dialect.accept(table, m))]
        }
        Request::Resolve {
            version,
            resolution,
        } => {
            let h = history
                .iter()
                .find(|h| h.version == *version)
                .ok_or(MigrateError::NotApplied { version: *version })?;
            if h.success {
                return Err(MigrateError::NotDirty { version: *version });
            }
            let sql = match resolution {
                Resolution::Applied => dialect.mark_resolved(table, *version),
                Resolution::Reverted => dialect.delete(table, *version),
            };
            vec![PlannedMigration {
                version: *version,
                name: h.name.clone(),
                direction: Direction::Up,
                transactional: false,
                operation: "resolve",
                batches: vec![Batch {
                    kind: BatchKind::Bookkeeping,
                    sql,
                }],
            }]
        }
    };
    Ok(Plan {
        request: request.clone(),
        dialect,
        setup: dialect.create_history(table),
        migrations,
    })
}

/// Refuse a transactional script holding a statement that cannot run in a transaction: it would fail at
/// run time anyway, and `plan` should say so offline.
fn check_transactional(version: i64, script: &MigrationScript) -> Result<()> {
    if script.directives.no_transaction {
        return Ok(());
    }
    if let Some(statement) = split_statements(&script.sql)
        .into_iter()
        .find_map(non_transactional)
    {
        return Err(MigrateError::NeedsNoTransaction {
            version,
            file: script.file.clone(),
            statement,
        });
    }
    Ok(())
}

/// Refuse dirty, edited and (unless allowed) missing migrations.
fn check_history(
    source: &MigrationSource,
    history: &[AppliedMigration],
    policy: &Policy,
) -> Result<()> {
    if let Some(d) = history.iter().find(|h| !h.success) {
        return Err(MigrateError::Dirty {
            version: d.version,
            name: d.name.clone(),
        });
    }
    for h in history {
        match source.get(h.version) {
            None if policy.allow_missing => {}
            None => {
                return Err(MigrateError::MissingApplied {
                    version: h.version,
                    name: h.name.clone(),
                });
            }
            Some(m) if m.checksum.as_str() != h.checksum => {
                return Err(MigrateError::Edited {
                    version: h.version,
                    name: m.name.clone(),
                    applied: h.checksum.clone(),
                    current: m.checksum.to_string(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

struct Builder<'a> {
    dialect: Dialect,
    table: &'a HistoryTable,
    policy: &'a Policy,
}

impl Builder<'_> {
    fn single(&self, m: &Migration, operation: &'static str, sql: String) -> PlannedMigration {
        PlannedMigration {
            version: m.version,
            name: m.name.clone(),
            direction: Direction::Up,
            transactional: false,
            operation,
            batches: vec![Batch {
                kind: BatchKind::Bookkeeping,
                sql,
            }],
        }
    }

    fn timeouts(&self, script: &MigrationScript, local: bool) -> Vec<(String, &'static str)> {
        let d = self.dialect;
        let lock = if local {
            script.directives.lock_timeout.or(self.policy.lock_timeout)
        } else {
            script.directives.lock_timeout
        };
        let mut out = Vec::new();
        if let Some(v) = lock
            && let Some(s) = d.set_timeout("lock_timeout", v, local)
        {
            out.push((s, "lock_timeout"));
        }
        if let Some(v) = script.directives.statement_timeout
            && let Some(s) = d.set_timeout("statement_timeout", v, local)
        {
            out.push((s, "statement_timeout"));
        }
        out
    }

    fn transaction(&self, script: &MigrationScript, before: String, after: String) -> Batch {
        let mut sql = format!("{};\n", self.dialect.begin());
        for (s, _) in self.timeouts(script, true) {
            sql.push_str(&s);
            sql.push_str(";\n");
        }
        if !before.is_empty() {
            sql.push_str(&before);
            sql.push_str(";\n");
        }
        sql.push_str(&terminate(&script.sql));
        sql.push('\n');
        sql.push_str(&after);
        sql.push_str(";\nCOMMIT;");
        Batch {
            kind: BatchKind::Transaction,
            sql,
        }
    }

    fn autocommit(&self, script: &MigrationScript, before: String, after: String) -> Vec<Batch> {
        let settings = self.timeouts(script, false);
        let mut out = Vec::new();
        for (s, _) in &settings {
            out.push(Batch {
                kind: BatchKind::Session,
                sql: s.clone(),
            });
        }
        out.push(Batch {
            kind: BatchKind::Bookkeeping,
            sql: before,
        });
        for st in split_statements(&script.sql) {
            out.push(Batch {
                kind: BatchKind::Statement,
                sql: st.to_string(),
            });
        }
        out.push(Batch {
            kind: BatchKind::Bookkeeping,
            sql: after,
        });
        for (_, name) in &settings {
            if let Some(r) = self.dialect.reset(name) {
                out.push(Batch {
                    kind: BatchKind::Session,
                    sql: r,
                });
            }
        }
        out
    }

    fn up(&self, m: &Migration) -> PlannedMigration {
        let (d, t) = (self.dialect, self.table);
        let claim = d.insert_claim(t, m);
        let done = d.mark_applied(t, m.version);
        let transactional = !m.up.directives.no_transaction;
        let batches = if transactional {
            vec![self.transaction(&m.up, claim, done)]
        } else {
            self.autocommit(&m.up, claim, done)
        };
        PlannedMigration {
            version: m.version,
            name: m.name.clone(),
            direction: Direction::Up,
            transactional,
            operation: "apply",
            batches,
        }
    }

    fn down(&self, m: &Migration, down: &MigrationScript) -> PlannedMigration {
        let (d, t) = (self.dialect, self.table);
        let transactional = !down.directives.no_transaction;
        let forget = d.delete(t, m.version);
        let batches = if transactional {
            self.transaction(down, String::new(), forget)
        } else {
            return PlannedMigration {
                version: m.version,
                name: m.name.clone(),
                direction: Direction::Down,
                transactional,
                operation: "revert",
                batches: self.autocommit(down, d.mark_dirty(t, m.version), forget),
            };
        };
        PlannedMigration {
            version: m.version,
            name: m.name.clone(),
            direction: Direction::Down,
            transactional,
            operation: "revert",
            batches: vec![batches],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Migration, MigrationSource};

    fn src(specs: &[(i64, &str, Option<&str>)]) -> MigrationSource {
        MigrationSource::from_migrations(specs.iter().map(|(v, up, down)| {
            Migration::new(*v, format!("m{v}"), *up, down.map(str::to_string)).unwrap()
        }))
        .unwrap()
    }

    fn applied(m: &Migration) -> AppliedMigration {
        AppliedMigration {
            version: m.version,
            name: m.name.clone(),
            checksum: m.checksum.to_string(),
            applied_at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
            duration: Duration::ZERO,
            success: true,
            no_transaction: false,
            baseline: false,
        }
    }

    fn p(s: &MigrationSource, h: &[AppliedMigration], r: Request) -> Result<Plan> {
        plan(
            s,
            h,
            &r,
            &Policy::default(),
            Dialect::Postgres,
            &HistoryTable::default(),
        )
    }

    #[test]
    fn up_plans_pending_in_order_with_lock_timeout() {
        let s = src(&[
            (1, "CREATE TABLE a ()", None),
            (2, "CREATE TABLE b ();", None),
        ]);
        let plan = p(&s, &[applied(&s.migrations()[0])], Request::Up { to: None }).unwrap();
        assert_eq!(plan.versions(), vec![2]);
        let sql = &plan.migrations[0].batches[0].sql;
        assert!(
            sql.starts_with("BEGIN;\nSET LOCAL lock_timeout = '5000ms';\nINSERT INTO"),
            "{sql}"
        );
        assert!(sql.contains("CREATE TABLE b ();\nUPDATE"), "{sql}");
        assert!(sql.ends_with("COMMIT;"));
        let whole = plan.to_sql();
        assert!(
            whole.contains("-- apply 2 m2 (up, one transaction)"),
            "{whole}"
        );
    }

    #[test]
    fn no_transaction_runs_statement_by_statement() {
        let s = src(&[(
            1,
            "-- runway: no-transaction, lock_timeout=1s\nCREATE INDEX CONCURRENTLY i ON t (a);\nCREATE INDEX CONCURRENTLY j ON t (b);",
            None,
        )]);
        let plan = p(&s, &[], Request::Up { to: None }).unwrap();
        let kinds: Vec<BatchKind> = plan.migrations[0].batches.iter().map(|b| b.kind).collect();
        use BatchKind::*;
        assert_eq!(
            kinds,
            vec![
                Session,
                Bookkeeping,
                Statement,
                Statement,
                Bookkeeping,
                Session
            ]
        );
        assert_eq!(
            plan.migrations[0].batches[0].sql,
            "SET lock_timeout = '1000ms'"
        );
        assert!(!plan.migrations[0].transactional);
    }

    #[test]
    fn refusals_name_the_version() {
        let s = src(&[
            (1, "SELECT 1", Some("SELECT 0")),
            (2, "SELECT 2", None),
            (3, "SELECT 3", None),
        ]);
        let a1 = applied(&s.migrations()[0]);
        let a3 = applied(&s.migrations()[2]);
        let e = p(&s, &[a1.clone(), a3.clone()], Request::Up { to: None }).unwrap_err();
        assert!(matches!(
            e,
            MigrateError::OutOfOrder {
                version: 2,
                latest: 3
            }
        ));
        let ok = plan(
            &s,
            &[a1.clone(), a3.clone()],
            &Request::Up { to: None },
            &Policy {
                out_of_order: true,
                ..Policy::default()
            },
            Dialect::Postgres,
            &HistoryTable::default(),
        )
        .unwrap();
        assert_eq!(ok.versions(), vec![2]);

        let mut edited = a1.clone();
        edited.checksum = "0".repeat(64);
        let e = p(&s, &[edited], Request::Up { to: None }).unwrap_err();
        assert!(matches!(e, MigrateError::Edited { version: 1, .. }));

        let mut dirty = a1.clone();
        dirty.success = false;
        let e = p(&s, std::slice::from_ref(&dirty), Request::Up { to: None }).unwrap_err();
        assert!(matches!(e, MigrateError::Dirty { version: 1, .. }));
        let e = p(&s, &[dirty], Request::Down(DownTarget::Steps(1))).unwrap_err();
        assert_eq!(e.version(), Some(1));

        let mut gone = a1.clone();
        gone.version = 9;
        let e = p(&s, &[a1.clone(), gone], Request::Up { to: None }).unwrap_err();
        assert!(matches!(e, MigrateError::MissingApplied { version: 9, .. }));

        let a2 = applied(&s.migrations()[1]);
        let e = p(&s, &[a1.clone(), a2], Request::Down(DownTarget::Steps(1))).unwrap_err();
        assert!(matches!(e, MigrateError::Irreversible { version: 2, .. }));
        let e = p(&s, &[], Request::Up { to: Some(7) }).unwrap_err();
        assert!(matches!(e, MigrateError::UnknownVersion { version: 7 }));
    }

    #[test]
    fn concurrently_in_a_transaction_is_refused_offline() {
        let s = src(&[(4, "CREATE INDEX CONCURRENTLY i ON t (a);", None)]);
        let e = p(&s, &[], Request::Up { to: None }).unwrap_err();
        assert!(
            matches!(
                e,
                MigrateError::NeedsNoTransaction {
                    version: 4,
                    statement: "CREATE INDEX CONCURRENTLY",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("-- runway: no-transaction"));
    }

    #[test]
    fn down_reverts_newest_first() {
        let s = src(&[
            (1, "A", Some("a")),
            (2, "B", Some("-- no-transaction\nb1; b2")),
            (3, "C", Some("c")),
        ]);
        let h: Vec<AppliedMigration> = s.migrations().iter().map(applied).collect();
        assert_eq!(
            p(&s, &h, Request::Down(DownTarget::Steps(2)))
                .unwrap()
                .versions(),
            vec![3, 2]
        );
        let all = p(&s, &h, Request::Down(DownTarget::To(0))).unwrap();
        assert_eq!(all.versions(), vec![3, 2, 1]);
        let two = &all.migrations[1];
        assert!(!two.transactional);
        assert!(two.batches[0].sql.starts_with("UPDATE"));
        assert!(two.batches.last().unwrap().sql.starts_with("DELETE"));
    }

    #[test]
    fn baseline_accept_resolve() {
        let s = src(&[(1, "A", None), (2, "B", None), (3, "C", None)]);
        let b = p(&s, &[], Request::Baseline { version: 2 }).unwrap();
        assert_eq!(b.migrations[0].batches[0].sql.matches("INSERT").count(), 2);
        let h = vec![applied(&s.migrations()[0])];
        assert!(matches!(
            p(&s, &h, Request::Baseline { version: 2 }),
            Err(MigrateError::BaselineNotEmpty { .. })
        ));
        assert!(p(&s, &h, Request::Accept { version: 1 }).is_ok());
        assert!(matches!(
            p(
                &s,
                &h,
                Request::Resolve {
                    version: 1,
                    resolution: Resolution::Applied
                }
            ),
            Err(MigrateError::NotDirty { version: 1 })
        ));
        let st = status(&s, &h);
        assert_eq!(st.current(), Some(1));
        assert_eq!(st.pending(), vec![2, 3]);
    }

    #[test]
    fn names_are_quoted_in_bookkeeping() {
        let m = Migration::new(1, "it's", "SELECT 1", None).unwrap();
        let sql = Dialect::Postgres.insert_claim(&HistoryTable::default(), &m);
        assert!(sql.contains("'it''s'"), "{sql}");
    }
}
