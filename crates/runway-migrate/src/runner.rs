//! [`Migrator`]: the thin async driver around the pure planner.
//!
//! Every mutating operation runs the same way: open a dedicated session, poll the lock until it is taken
//! or the wait runs out, create the history table, read the history, plan, execute the plan's batches in
//! order, unlock and close. Dropping the future at any point drops the session, which closes the
//! connection and releases the lock.

use std::sync::Arc;
use std::time::Duration;

use runway_core::event::MigrationEvent;
use runway_core::{Emitter, RetryPolicy};
use tokio::time::Instant;

use crate::error::{Direction, MigrateError, Result};
use crate::plan::{
    self, BatchKind, DownTarget, Plan, PlannedMigration, Policy, Request, Resolution, Status,
};
use crate::source::MigrationSource;
use crate::target::{AppliedMigration, MigrationTarget, TargetSession};

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The request run.
    pub request: Request,
    /// Versions applied, reverted or recorded, in order.
    pub versions: Vec<i64>,
    /// Wall time, lock wait included.
    pub elapsed: Duration,
    /// Time spent waiting for the lock.
    pub lock_wait: Duration,
}

/// Runs migrations from a [`MigrationSource`] against a [`MigrationTarget`].
///
/// Built with [`Migrator::new`] and `with_*` settings; cheap to clone.
#[derive(Debug, Clone)]
pub struct Migrator {
    source: Arc<MigrationSource>,
    target: Arc<dyn MigrationTarget>,
    policy: Policy,
    lock_wait: Duration,
    lock_poll: Duration,
    retry: RetryPolicy,
    emitter: Emitter,
}

impl Migrator {
    /// A migrator with the defaults: refuse out-of-order and missing migrations, 5 s `lock_timeout` per
    /// transactional migration, wait up to 10 minutes for the migration lock polling every 250 ms, retry a
    /// lock-timed-out migration with [`RetryPolicy::default`].
    pub fn new(source: MigrationSource, target: impl MigrationTarget) -> Migrator {
        Self::with_shared(Arc::new(source), Arc::new(target))
    }

    /// A migrator over shared source and target.
    pub fn with_shared(source: Arc<MigrationSource>, target: Arc<dyn MigrationTarget>) -> Migrator {
        Migrator {
            source,
            target,
            policy: Policy::default(),
            lock_wait: Duration::from_secs(600),
            lock_poll: Duration::from_millis(250),
            retry: RetryPolicy::default(),
            emitter: Emitter::null(),
        }
    }

    /// Allow applying a pending migration older than the newest applied one.
    #[must_use]
    pub fn with_out_of_order(mut self, allow: bool) -> Self {
        self.policy.out_of_order = allow;
        self
    }

    /// Tolerate applied migrations whose files are gone.
    #[must_use]
    pub fn with_allow_missing(mut self, allow: bool) -> Self {
        self.policy.allow_missing = allow;
        self
    }

    /// Default `lock_timeout` for transactional migrations (`None`: leave the server's setting).
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.policy.lock_timeout = timeout;
        self
    }

    /// How long to wait for the migration lock before failing with [`MigrateError::LockWait`].
    #[must_use]
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// How often to try the lock while waiting.
    #[must_use]
    pub fn with_lock_poll(mut self, every: Duration) -> Self {
        self.lock_poll = every.max(Duration::from_millis(1));
        self
    }

    /// Backoff for transactional migrations that time out waiting for a table lock.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Where [`MigrationEvent`]s go.
    #[must_use]
    pub fn with_emitter(mut self, emitter: Emitter) -> Self {
        self.emitter = emitter;
        self
    }

    /// The source.
    pub fn source(&self) -> &MigrationSource {
        &self.source
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    async fn emit(&self, e: MigrationEvent) -> Result<()> {
        self.emitter.emit(e).await.map_err(MigrateError::Event)
    }

    async fn session(&self) -> Result<Box<dyn TargetSession>> {
        self.target
            .connect()
            .await
            .map_err(|source| MigrateError::Database {
                operation: "connect",
                source,
            })
    }

    async fn read_history(&self, s: &mut dyn TargetSession) -> Result<Vec<AppliedMigration>> {
        let db = |source| MigrateError::Database {
            operation: "read the history table",
            source,
        };
        if !s.history_exists().await.map_err(db)? {
            return Ok(Vec::new());
        }
        s.history().await.map_err(db)
    }

    /// The history table's rows (empty when it does not exist yet). Takes no lock and writes nothing.
    pub async fn history(&self) -> Result<Vec<AppliedMigration>> {
        let mut s = self.session().await?;
        let h = self.read_history(&mut *s).await;
        let _ = s.close().await;
        h
    }

    /// Every migration and where it stands. Takes no lock and writes nothing.
    pub async fn status(&self) -> Result<Status> {
        Ok(plan::status(&self.source, &self.history().await?))
    }

    /// The newest applied version (`alembic current`).
    pub async fn current(&self) -> Result<Option<i64>> {
        Ok(self.status().await?.current())
    }

    /// The exact SQL `request` would run now, read-only (no lock, nothing written).
    pub async fn plan(&self, request: &Request) -> Result<Plan> {
        let history = self.history().await?;
        self.plan_against(&history, request)
    }

    /// Plan `request` against a given history, offline (no connection): an empty history plans a fresh
    /// database.
    pub fn plan_against(&self, history: &[AppliedMigration], request: &Request) -> Result<Plan> {
        plan::plan(
            &self.source,
            history,
            request,
            &self.policy,
            self.target.dialect(),
            self.target.history_table(),
        )
    }

    /// Apply every pending migration.
    pub async fn up(&self) -> Result<Report> {
        self.run(Request::Up { to: None }).await
    }

    /// Apply pending migrations up to and including `version`.
    pub async fn up_to(&self, version: i64) -> Result<Report> {
        self.run(Request::Up { to: Some(version) }).await
    }

    /// Revert the newest `steps` applied migrations.
    pub async fn down(&self, steps: usize) -> Result<Report> {
        self.run(Request::Down(DownTarget::Steps(steps))).await
    }

    /// Revert every applied migration newer than `version` (`0`: all).
    pub async fn down_to(&self, version: i64) -> Result<Report> {
        self.run(Request::Down(DownTarget::To(version))).await
    }

    /// Record migrations up to `version` as applied without running them.
    pub async fn baseline(&self, version: i64) -> Result<Report> {
        self.run(Request::Baseline { version }).await
    }

    /// Accept the current file of an applied migration that was edited on purpose.
    pub async fn accept(&self, version: i64) -> Result<Report> {
        self.run(Request::Accept { version }).await
    }

    /// Clear a dirty record once the schema was repaired by hand.
    pub async fn resolve(&self, version: i64, resolution: Resolution) -> Result<Report> {
        self.run(Request::Resolve {
            version,
            resolution,
        })
        .await
    }

    /// Run any request under the lock.
    pub async fn run(&self, request: Request) -> Result<Report> {
        let started = Instant::now();
        let mut session = self.session().await?;
        let lock_wait = self.acquire(&mut *session).await?;
        let outcome = self.locked(&mut *session, &request).await;
        // Release explicitly on success and on error; a panic or a dropped future closes the connection,
        // which releases the lock too.
        let unlocked = session.unlock().await;
        let _ = session.close().await;
        let versions = outcome?;
        unlocked.map_err(|source| MigrateError::Database {
            operation: "release the migration lock",
            source,
        })?;
        self.emit(MigrationEvent::LockReleased).await?;
        let elapsed = started.elapsed();
        self.emit(MigrationEvent::Finished {
            operation: operation(&request).into(),
            migrations: versions.len(),
            duration_ms: elapsed.as_millis() as u64,
        })
        .await?;
        Ok(Report {
            request,
            versions,
            elapsed,
            lock_wait,
        })
    }

    async fn acquire(&self, s: &mut dyn TargetSession) -> Result<Duration> {
        let start = Instant::now();
        let mut announced = false;
        loop {
            let got = s
                .try_lock()
                .await
                .map_err(|source| MigrateError::Database {
                    operation: "take the migration lock",
                    source,
                })?;
            if got {
                self.emit(MigrationEvent::LockAcquired).await?;
                return Ok(start.elapsed());
            }
            let waited = start.elapsed();
            if waited >= self.lock_wait {
                return Err(MigrateError::LockWait { waited });
            }
            if !announced {
                announced = true;
                self.emit(MigrationEvent::LockWaiting).await?;
            }
            tokio::time::sleep(self.lock_poll.min(self.lock_wait - waited)).await;
        }
    }

    async fn locked(&self, s: &mut dyn TargetSession, request: &Request) -> Result<Vec<i64>> {
        let dialect = self.target.dialect();
        let exists = s
            .history_exists()
            .await
            .map_err(|source| MigrateError::Database {
                operation: "read the history table",
                source,
            })?;
        if !exists {
            let setup = dialect.create_history(self.target.history_table());
            self.retrying(s, None, &setup)
                .await
                .0
                .map_err(|source| MigrateError::Database {
                    operation: "create the history table",
                    source,
                })?;
        }
        let history = self.read_history(s).await?;
        let plan = self.plan_against(&history, request)?;
        self.emit(MigrationEvent::Planned {
            operation: operation(request).into(),
            migrations: plan.migrations.len(),
        })
        .await?;
        let mut done = Vec::with_capacity(plan.migrations.len());
        for m in &plan.migrations {
            self.execute(s, m, request).await?;
            done.push(m.version);
        }
        Ok(done)
    }

    async fn execute(
        &self,
        s: &mut dyn TargetSession,
        m: &PlannedMigration,
        request: &Request,
    ) -> Result<()> {
        let started = Instant::now();
        let migrating = matches!(request, Request::Up { .. } | Request::Down(_));
        if migrating {
            self.emit(MigrationEvent::Started {
                version: m.version,
                name: m.name.clone(),
                direction: m.direction.as_str().into(),
            })
            .await?;
        }
        let mut bookkeeping = 0usize;
        let mut statement = 0usize;
        let mut attempts_total = 1u32;
        for batch in &m.batches {
            let result = match batch.kind {
                BatchKind::Transaction => {
                    let (r, attempts) = self.retrying(s, Some(m.version), &batch.sql).await;
                    attempts_total = attempts;
                    r
                }
                kind => {
                    if kind == BatchKind::Statement {
                        statement += 1;
                    }
                    s.execute(&batch.sql).await
                }
            };
            if let Err(source) = result {
                // Anything after the claim row (or the dirty mark of a revert) leaves a dirty record.
                let dirty = !m.transactional && bookkeeping == 1;
                if dirty {
                    let _ = self
                        .emit(MigrationEvent::Dirty {
                            version: m.version,
                            direction: m.direction.as_str().into(),
                        })
                        .await;
                }
                let _ = self
                    .emit(MigrationEvent::Failed {
                        version: m.version,
                        error: source.to_string(),
                    })
                    .await;
                return Err(MigrateError::Failed {
                    version: m.version,
                    name: m.name.clone(),
                    direction: m.direction,
                    statement: (!m.transactional && statement > 0).then_some(statement),
                    attempts: attempts_total,
                    dirty,
                    source,
                });
            }
            if batch.kind == BatchKind::Bookkeeping {
                bookkeeping += 1;
            }
        }
        let duration_ms = started.elapsed().as_millis() as u64;
        let event = match (request, m.direction) {
            (Request::Up { .. }, _) => MigrationEvent::Applied {
                version: m.version,
                duration_ms,
            },
            (Request::Down(_), _) => MigrationEvent::Reverted {
                version: m.version,
                duration_ms,
            },
            (Request::Baseline { .. }, _) => MigrationEvent::Baselined { version: m.version },
            (Request::Accept { .. }, _) => MigrationEvent::Accepted { version: m.version },
            (Request::Resolve { resolution, .. }, _) => MigrationEvent::Resolved {
                version: m.version,
                resolution: resolution.as_str().into(),
            },
        };
        self.emit(event).await
    }

    /// Run an all-or-nothing batch (a transaction, or the idempotent history DDL), retrying with backoff
    /// while it fails on a lock timeout. `version` names the migration in `Retrying` events.
    async fn retrying(
        &self,
        s: &mut dyn TargetSession,
        version: Option<i64>,
        sql: &str,
    ) -> (Result<(), crate::target::TargetError>, u32) {
        let delays = self.retry.delays();
        let start = Instant::now();
        let mut attempt = 1u32;
        loop {
            match s.execute(sql).await {
                Ok(()) => return (Ok(()), attempt),
                Err(e) => {
                    let _ = s.rollback().await;
                    let delay = delays.get(attempt as usize - 1).copied();
                    let retry = e.is_lock_timeout()
                        && delay.is_some_and(|d| start.elapsed() + d <= self.retry.deadline);
                    let Some(delay) = delay.filter(|_| retry) else {
                        return (Err(e), attempt);
                    };
                    match version {
                        Some(version) => {
                            let event = MigrationEvent::Retrying {
                                version,
                                attempt,
                                delay_ms: delay.as_millis() as u64,
                                reason: e.to_string(),
                            };
                            if self.emit(event).await.is_err() {
                                return (Err(e), attempt);
                            }
                        }
                        None => tracing::debug!(error = %e, ?delay, "history table busy; retrying"),
                    }
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }
}

fn operation(r: &Request) -> &'static str {
    match r {
        Request::Up { .. } => Direction::Up.as_str(),
        Request::Down(_) => Direction::Down.as_str(),
        Request::Baseline { .. } => "baseline",
        Request::Accept { .. } => "accept",
        Request::Resolve { .. } => "resolve",
    }
}
