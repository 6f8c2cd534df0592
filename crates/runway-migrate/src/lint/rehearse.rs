//! Rehearsal: apply pending migrations to a scratch copy of the database, measure them, record the locks
//! they take, and prove each downgrade round-trips (up, down, up again leaves the same schema).
//!
//! The copy is made with `pg_dump -Fc` piped into `pg_restore` (schema only by default; with data when
//! asked), into a sibling database on the same server. The scratch database is dropped afterwards, also
//! when a migration fails, unless [`RehearsalBuilder::with_keep`] is set.
//!
//! Locks: for a transactional migration, the locks are read from `pg_locks` on the migration's own
//! connection just before `COMMIT` (every lock taken in a transaction is held until then, so this is exact).
//! For a `no-transaction` migration, a second connection samples `pg_locks` for the migration's backend
//! while each statement runs (short locks between samples can be missed; the interval is configurable).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sqlx::{Connection, PgConnection};
use tokio::io::AsyncReadExt;

use super::LintError;
use super::directives;
use super::parse;
use super::source::Migration;

/// A lock a migration held on a relation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LockTaken {
    /// `schema.relation`.
    pub relation: String,
    /// PostgreSQL lock mode, e.g. `AccessExclusiveLock`.
    pub mode: String,
    /// Whether it was seen granted (`false`: the migration was waiting for it).
    pub granted: bool,
}

/// How long one step took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StepTiming {
    /// Wall time of the step, in milliseconds (as `Duration`).
    #[serde(serialize_with = "ser_ms")]
    pub duration: Duration,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// The rehearsal of one migration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RehearsedMigration {
    /// Version.
    pub version: String,
    /// Name.
    pub name: String,
    /// Whether it ran outside a transaction.
    pub no_transaction: bool,
    /// The first apply.
    pub up: StepTiming,
    /// Locks held or seen during the first apply, sorted.
    pub locks: Vec<LockTaken>,
    /// The downgrade, when there is one.
    pub down: Option<StepTiming>,
    /// The second apply, after the downgrade.
    pub reapply: Option<StepTiming>,
    /// Whether down restored the schema from before, and up again gave the same schema as the first up.
    pub round_trips: bool,
    /// What did not round-trip (the first differing schema line, or "no downgrade").
    pub problems: Vec<String>,
}

/// The result of a rehearsal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RehearsalReport {
    /// The scratch database's name.
    pub scratch_database: String,
    /// Time to clone the source into the scratch database.
    #[serde(serialize_with = "ser_ms")]
    pub clone_duration: Duration,
    /// Versions skipped because the source's history table lists them as applied.
    pub skipped: Vec<String>,
    /// One entry per migration, in order.
    pub migrations: Vec<RehearsedMigration>,
    /// Why the rehearsal stopped before the last migration (a downgrade, or the up after it, failed, so
    /// the copy is no longer in the state the next migration expects).
    pub stopped: Option<String>,
}

impl RehearsalReport {
    /// `true` when every migration was rehearsed and its downgrade round-trips.
    pub fn round_trips(&self) -> bool {
        self.stopped.is_none() && self.migrations.iter().all(|m| m.round_trips)
    }

    /// Like [`RehearsalReport::round_trips`], but migrations without a downgrade are left to the linter's
    /// `missing-downgrade` rule (which an irreversible migration suppresses with a reason).
    pub fn downgrades_round_trip(&self) -> bool {
        self.stopped.is_none()
            && self
                .migrations
                .iter()
                .all(|m| m.down.is_none() || m.round_trips)
    }

    /// Human-readable summary: one line per migration with durations and heavy locks.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "rehearsal in {} (clone {:.0} ms)\n",
            self.scratch_database,
            self.clone_duration.as_secs_f64() * 1000.0
        );
        for m in &self.migrations {
            let ms = |t: &Option<StepTiming>| {
                t.map(|t| format!("{:.1} ms", t.duration.as_secs_f64() * 1000.0))
                    .unwrap_or_else(|| "-".into())
            };
            out.push_str(&format!(
                "{} {}: up {:.1} ms, down {}, up again {}, round-trip {}\n",
                m.version,
                m.name,
                m.up.duration.as_secs_f64() * 1000.0,
                ms(&m.down),
                ms(&m.reapply),
                if m.round_trips { "ok" } else { "FAILED" }
            ));
            for l in &m.locks {
                out.push_str(&format!(
                    "    {} {}{}\n",
                    l.mode,
                    l.relation,
                    if l.granted { "" } else { " (waited)" }
                ));
            }
            for p in &m.problems {
                out.push_str(&format!("    problem: {p}\n"));
            }
        }
        if let Some(why) = &self.stopped {
            out.push_str(&format!("stopped: {why}\n"));
        }
        out
    }
}

/// Builds a [`Rehearsal`].
#[derive(Debug)]
pub struct RehearsalBuilder {
    source: SecretString,
    with_data: bool,
    keep: bool,
    sample_interval: Duration,
    scratch_name: Option<String>,
    bin_dir: Option<PathBuf>,
    history_table: Option<String>,
}

/// A configured rehearsal (see the module docs).
#[derive(Debug)]
pub struct Rehearsal {
    source: url::Url,
    password: Option<SecretString>,
    with_data: bool,
    keep: bool,
    sample_interval: Duration,
    scratch_name: Option<String>,
    bin_dir: Option<PathBuf>,
    history_table: Option<String>,
}

impl RehearsalBuilder {
    /// Skip migrations that the source's history table (a table with a `version` column, such as the runner's
    /// [`RUNNER_HISTORY_TABLE`](super::RUNNER_HISTORY_TABLE)) lists as applied: only pending ones are rehearsed.
    #[must_use]
    pub fn with_history_table(mut self, table: impl Into<String>) -> Self {
        self.history_table = Some(table.into());
        self
    }

    /// Copy data too (`pg_dump` without `--schema-only`): slower, but locks and durations are realistic.
    #[must_use]
    pub fn with_data(mut self, yes: bool) -> Self {
        self.with_data = yes;
        self
    }

    /// Keep the scratch database afterwards (for inspection).
    #[must_use]
    pub fn with_keep(mut self, yes: bool) -> Self {
        self.keep = yes;
        self
    }

    /// How often `pg_locks` is sampled during no-transaction migrations (default 2 ms).
    #[must_use]
    pub fn with_sample_interval(mut self, every: Duration) -> Self {
        self.sample_interval = every;
        self
    }

    /// Name of the scratch database (default `<source>_rehearsal_<random>`).
    #[must_use]
    pub fn with_scratch_name(mut self, name: impl Into<String>) -> Self {
        self.scratch_name = Some(name.into());
        self
    }

    /// Folder holding `pg_dump` and `pg_restore` (default: the newest `/usr/lib/postgresql/*/bin`, then `PATH`).
    #[must_use]
    pub fn with_bin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.bin_dir = Some(dir.into());
        self
    }

    /// Validate and build.
    ///
    /// # Errors
    /// [`LintError::InvalidConfig`] when the URL is not a `postgres://` URL with a database name, or the scratch
    /// name is not a plain identifier.
    pub fn build(self) -> Result<Rehearsal, LintError> {
        let bad = |m: &str| LintError::InvalidConfig {
            message: m.to_string(),
        };
        let mut source = url::Url::parse(self.source.expose_secret())
            .map_err(|_| bad("the source database URL does not parse"))?;
        if !matches!(source.scheme(), "postgres" | "postgresql") {
            return Err(bad("the source database URL must start with postgres://"));
        }
        if source.path().trim_start_matches('/').is_empty() {
            return Err(bad("the source database URL names no database"));
        }
        let password = source.password().map(|p| {
            let decoded = percent_decode(p);
            SecretString::from(decoded)
        });
        let _ = source.set_password(None);
        if let Some(n) = &self.scratch_name
            && (n.is_empty()
                || n.len() > 63
                || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(bad(
                "the scratch database name must be 1-63 letters, digits or underscores",
            ));
        }
        if self.sample_interval.is_zero() {
            return Err(bad("the lock sample interval must be positive"));
        }
        Ok(Rehearsal {
            source,
            password,
            with_data: self.with_data,
            keep: self.keep,
            sample_interval: self.sample_interval,
            scratch_name: self.scratch_name,
            bin_dir: self.bin_dir,
            history_table: self.history_table,
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pg_bin(dir: Option<&PathBuf>, name: &str) -> Result<PathBuf, LintError> {
    if let Some(d) = dir {
        let p = d.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let p = e.path().join("bin").join(name);
            p.is_file().then_some((major, p))
        })
        .collect();
    versioned.sort();
    if let Some((_, p)) = versioned.pop() {
        return Ok(p);
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .ok_or_else(|| LintError::Tool {
            tool: name.to_string(),
            message: "not found (install the PostgreSQL client tools)".into(),
        })
}

const LOCKS_SQL: &str = "SELECT n.nspname || '.' || c.relname, l.mode, l.granted \
     FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE l.locktype = 'relation' AND l.pid = $1 \
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'";

fn db_err(step: impl Into<String>) -> impl FnOnce(sqlx::Error) -> LintError {
    let step = step.into();
    move |source| LintError::Database { step, source }
}

impl Rehearsal {
    /// Start building a rehearsal of the database at `source_url` (kept secret: never logged or shown).
    pub fn builder(source_url: SecretString) -> RehearsalBuilder {
        RehearsalBuilder {
            source: source_url,
            with_data: false,
            keep: false,
            sample_interval: Duration::from_millis(2),
            scratch_name: None,
            bin_dir: None,
            history_table: None,
        }
    }

    fn url_for(&self, db: &str) -> url::Url {
        let mut u = self.source.clone();
        u.set_path(&format!("/{db}"));
        u
    }

    fn conn_url(&self, db: &str) -> SecretString {
        let mut u = self.url_for(db);
        if let Some(p) = &self.password {
            let _ = u.set_password(Some(p.expose_secret()));
        }
        SecretString::from(u.to_string())
    }

    fn source_db(&self) -> String {
        percent_decode(self.source.path().trim_start_matches('/'))
    }

    fn command(&self, program: PathBuf) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(program);
        if let Some(p) = &self.password {
            c.env("PGPASSWORD", p.expose_secret());
        }
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Clone, apply `pending` in order (each: up, record locks, down, up again), and drop the clone.
    ///
    /// # Errors
    /// [`LintError::Tool`] when pg_dump/pg_restore fail, [`LintError::Database`] on connection problems, and
    /// [`LintError::MigrationFailed`] when a migration (or its downgrade) fails on the copy: exactly what
    /// the rehearsal is for.
    pub async fn run(&self, pending: &[Migration]) -> Result<RehearsalReport, LintError> {
        let source_db = self.source_db();
        let scratch = match &self.scratch_name {
            Some(n) => n.clone(),
            None => {
                let suffix: u32 = rand::rng().random();
                let base: String = source_db
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(40)
                    .collect();
                format!("{base}_rehearsal_{suffix:08x}")
            }
        };
        let mut admin = PgConnection::connect(self.conn_url(&source_db).expose_secret())
            .await
            .map_err(db_err("connect to the source database"))?;
        sqlx::raw_sql(&format!("CREATE DATABASE \"{scratch}\""))
            .execute(&mut admin)
            .await
            .map_err(db_err("create the scratch database"))?;
        let applied = match &self.history_table {
            Some(t) => super::context::applied_versions(&mut admin, t)
                .await?
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let norm = |v: &str| v.trim_start_matches('0').to_string();
        let (skipped, todo): (Vec<&Migration>, Vec<&Migration>) = pending
            .iter()
            .partition(|m| applied.iter().any(|a| norm(a) == norm(&m.version)));
        let todo: Vec<Migration> = todo.into_iter().cloned().collect();
        let result = self
            .rehearse(&source_db, &scratch, &todo)
            .await
            .map(|mut r| {
                r.skipped = skipped.iter().map(|m| m.version.clone()).collect();
                r
            });
        if !self.keep {
            let dropped = sqlx::raw_sql(&format!(
                "DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)"
            ))
            .execute(&mut admin)
            .await;
            if let Err(e) = dropped {
                tracing::warn!(database = %scratch, error = %e, "could not drop the scratch database");
            }
        }
        let _ = admin.close().await;
        result
    }

    async fn rehearse(
        &self,
        source_db: &str,
        scratch: &str,
        pending: &[Migration],
    ) -> Result<RehearsalReport, LintError> {
        let started = Instant::now();
        self.clone_into(source_db, scratch).await?;
        let clone_duration = started.elapsed();
        let url = self.conn_url(scratch);
        let mut conn = PgConnection::connect(url.expose_secret())
            .await
            .map_err(db_err("connect to the scratch database"))?;
        let mut migrations = Vec::with_capacity(pending.len());
        let mut before = self.schema(scratch).await?;
        let mut stopped = None;
        for m in pending {
            let parsed = parse::parse(&m.sql);
            let no_tx = directives::scan(&parsed, &m.sql).no_transaction;
            let (up, locks) = self.apply(&mut conn, &url, m, &m.sql, no_tx, "up").await?;
            let after = self.schema(scratch).await?;
            let mut problems = Vec::new();
            let (mut down, mut reapply) = (None, None);
            if let Some(d) = &m.down {
                let dparsed = parse::parse(&d.sql);
                let d_no_tx = directives::scan(&dparsed, &d.sql).no_transaction;
                match self
                    .apply(&mut conn, &url, m, &d.sql, d_no_tx, "down")
                    .await
                {
                    Ok((t, _)) => {
                        down = Some(t);
                        let reverted = self.schema(scratch).await?;
                        if let Some(diff) = first_difference(&before, &reverted) {
                            problems
                                .push(format!("down does not restore the previous schema: {diff}"));
                        }
                        match self.apply(&mut conn, &url, m, &m.sql, no_tx, "re-up").await {
                            Ok((t, _)) => {
                                reapply = Some(t);
                                let again = self.schema(scratch).await?;
                                if let Some(diff) = first_difference(&after, &again) {
                                    problems.push(format!(
                                        "up after down gives a different schema: {diff}"
                                    ));
                                }
                            }
                            Err(e) => {
                                problems.push(format!("up after down fails: {e}"));
                                stopped = Some(format!(
                                    "migration {} does not apply again after its downgrade",
                                    m.version
                                ));
                            }
                        }
                    }
                    Err(e) => {
                        problems.push(format!("the downgrade fails: {e}"));
                        stopped = Some(format!("the downgrade of migration {} fails", m.version));
                    }
                }
            } else {
                problems.push("no downgrade".to_string());
            }
            migrations.push(RehearsedMigration {
                version: m.version.clone(),
                name: m.name.clone(),
                no_transaction: no_tx,
                up,
                locks,
                down,
                reapply,
                round_trips: problems.is_empty(),
                problems,
            });
            before = after;
            if stopped.is_some() {
                break;
            }
        }
        let _ = conn.close().await;
        Ok(RehearsalReport {
            scratch_database: scratch.to_string(),
            clone_duration,
            skipped: Vec::new(),
            migrations,
            stopped,
        })
    }

    async fn clone_into(&self, source_db: &str, scratch: &str) -> Result<(), LintError> {
        let mut dump = self.command(pg_bin(self.bin_dir.as_ref(), "pg_dump")?);
        dump.arg("--format=custom")
            .arg("--no-owner")
            .arg("--no-privileges");
        if !self.with_data {
            dump.arg("--schema-only");
        }
        dump.arg(format!("--dbname={}", self.url_for(source_db)));
        let mut dump = dump
            .spawn()
            .map_err(|e| tool_err("pg_dump", e.to_string()))?;
        let dump_out: Stdio = dump
            .stdout
            .take()
            .and_then(|o| o.try_into().ok())
            .ok_or_else(|| tool_err("pg_dump", "no stdout".into()))?;
        let mut restore = self.command(pg_bin(self.bin_dir.as_ref(), "pg_restore")?);
        restore
            .arg("--no-owner")
            .arg("--no-privileges")
            .arg("--exit-on-error")
            .arg(format!("--dbname={}", self.url_for(scratch)))
            .stdin(dump_out);
        let restore = restore
            .spawn()
            .map_err(|e| tool_err("pg_restore", e.to_string()))?;
        let mut dump_err = String::new();
        if let Some(mut e) = dump.stderr.take() {
            let _ = e.read_to_string(&mut dump_err).await;
        }
        let dump_status = dump
            .wait()
            .await
            .map_err(|e| tool_err("pg_dump", e.to_string()))?;
        let restored = restore
            .wait_with_output()
            .await
            .map_err(|e| tool_err("pg_restore", e.to_string()))?;
        if !dump_status.success() {
            return Err(tool_err(
                "pg_dump",
                format!("{dump_status}: {}", dump_err.trim()),
            ));
        }
        if !restored.status.success() {
            return Err(tool_err(
                "pg_restore",
                format!(
                    "{}: {}",
                    restored.status,
                    String::from_utf8_lossy(&restored.stderr).trim()
                ),
            ));
        }
        Ok(())
    }

    /// The schema as `pg_dump --schema-only` text, without comments, settings and blank lines.
    async fn schema(&self, db: &str) -> Result<Vec<String>, LintError> {
        let mut dump = self.command(pg_bin(self.bin_dir.as_ref(), "pg_dump")?);
        dump.arg("--schema-only")
            .arg("--no-owner")
            .arg("--no-privileges")
            .arg(format!("--dbname={}", self.url_for(db)));
        let out = dump
            .output()
            .await
            .map_err(|e| tool_err("pg_dump", e.to_string()))?;
        if !out.status.success() {
            return Err(tool_err(
                "pg_dump",
                format!(
                    "{}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim_end)
            .filter(|l| {
                !(l.is_empty()
                    || l.starts_with("--")
                    || l.starts_with("\\restrict")
                    || l.starts_with("\\unrestrict")
                    || l.starts_with("SET ")
                    || l.starts_with("SELECT pg_catalog.set_config"))
            })
            .map(str::to_string)
            .collect())
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        url: &SecretString,
        m: &Migration,
        sql: &str,
        no_tx: bool,
        direction: &str,
    ) -> Result<(StepTiming, Vec<LockTaken>), LintError> {
        let failed = |e: sqlx::Error| LintError::MigrationFailed {
            version: m.version.clone(),
            direction: direction.to_string(),
            message: match &e {
                sqlx::Error::Database(d) => d.message().to_string(),
                other => other.to_string(),
            },
        };
        let started = Instant::now();
        let mut locks = Vec::new();
        if no_tx {
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err("read the backend pid"))?;
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
            let sampler = tokio::spawn(sample_locks(
                url.clone(),
                pid,
                self.sample_interval,
                ready_tx,
                stop_rx,
            ));
            // Start only once the sampler is connected, so the first locks are not missed.
            let _ = ready_rx.await;
            let parsed = parse::parse(sql);
            let mut outcome = Ok(());
            for s in &parsed.statements {
                if s.node.is_none() {
                    continue;
                }
                let text = &sql[s.start..s.end];
                if let Err(e) = sqlx::raw_sql(text).execute(&mut *conn).await {
                    outcome = Err(failed(e));
                    break;
                }
            }
            let _ = stop_tx.send(());
            if let Ok(Ok(seen)) = sampler.await {
                locks = seen;
            }
            outcome?;
        } else {
            sqlx::raw_sql("BEGIN")
                .execute(&mut *conn)
                .await
                .map_err(db_err("BEGIN"))?;
            if let Err(e) = sqlx::raw_sql(sql).execute(&mut *conn).await {
                let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
                return Err(failed(e));
            }
            let rows: Vec<(String, String, bool)> =
                sqlx::query_as(&LOCKS_SQL.replace("$1", "pg_backend_pid()"))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(db_err("read pg_locks"))?;
            sqlx::raw_sql("COMMIT")
                .execute(&mut *conn)
                .await
                .map_err(failed)?;
            locks = rows
                .into_iter()
                .map(|(relation, mode, granted)| LockTaken {
                    relation,
                    mode,
                    granted,
                })
                .collect();
        }
        let duration = started.elapsed();
        locks.sort();
        locks.dedup();
        Ok((StepTiming { duration }, locks))
    }
}

fn tool_err(tool: &str, message: String) -> LintError {
    LintError::Tool {
        tool: tool.to_string(),
        message,
    }
}

async fn sample_locks(
    url: SecretString,
    pid: i32,
    every: Duration,
    ready: tokio::sync::oneshot::Sender<()>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<Vec<LockTaken>, LintError> {
    // Dropping `ready` on a connection error lets the migration go ahead unsampled.
    let mut conn = PgConnection::connect(url.expose_secret())
        .await
        .map_err(db_err("connect the lock sampler"))?;
    let _ = ready.send(());
    let mut seen = Vec::new();
    loop {
        let rows: Vec<(String, String, bool)> = sqlx::query_as(LOCKS_SQL)
            .bind(pid)
            .fetch_all(&mut conn)
            .await
            .map_err(db_err("sample pg_locks"))?;
        seen.extend(rows.into_iter().map(|(relation, mode, granted)| LockTaken {
            relation,
            mode,
            granted,
        }));
        tokio::select! {
            _ = &mut stop => break,
            () = tokio::time::sleep(every) => {}
        }
    }
    let _ = conn.close().await;
    seen.sort();
    seen.dedup();
    Ok(seen)
}

fn first_difference(a: &[String], b: &[String]) -> Option<String> {
    if a == b {
        return None;
    }
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            return Some(format!("line {}: expected `{x}`, got `{y}`", i + 1));
        }
    }
    Some(if a.len() > b.len() {
        format!("missing `{}`", a[b.len()])
    } else {
        format!("extra `{}`", b[a.len()])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_password() {
        let r = Rehearsal::builder(SecretString::from(
            "postgres://u:s3cr%40t@localhost/app".to_string(),
        ))
        .build()
        .expect("build");
        let shown = format!("{r:?}");
        assert!(!shown.contains("s3cr"), "{shown}");
        assert_eq!(
            r.password.as_ref().map(|p| p.expose_secret().to_string()),
            Some("s3cr@t".into())
        );
        assert!(!r.conn_url("x").expose_secret().is_empty());
        assert!(matches!(
            Rehearsal::builder(SecretString::from("mysql://x/y".to_string())).build(),
            Err(LintError::InvalidConfig { .. })
        ));
        let err = Rehearsal::builder(SecretString::from("postgres://u:hunter2@h".to_string()))
            .build()
            .expect_err("no db");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn differences() {
        let a = vec!["x".to_string(), "y".to_string()];
        assert_eq!(first_difference(&a, &a), None);
        assert!(first_difference(&a, &a[..1]).is_some_and(|d| d.contains("missing")));
    }
}
