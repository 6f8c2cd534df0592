//! [`Backups`]: the entry point that takes, lists, verifies, restores and expires backups.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use runway_core::event::BackupEvent;
use runway_core::{Clock, Emitter, SystemClock};
use sqlx::Connection;
use tokio::time::Instant;

use crate::error::{BackupError, CountMismatch, Refusal, Result};
use crate::gate::{GateOutcome, freshness_gate};
use crate::id::{BackupId, Engine, parse_listing};
use crate::listing::RestoreListing;
use crate::manifest::{Check, DrillRecord, MANIFEST_VERSION, Manifest, Source, Verification};
use crate::pg::tools::{PgTools, PgUrl, drain_stderr, tool_failed};
use crate::pg::{self, ArchiveInput, RestoreFlags};
use crate::pipe::{Digested, copy_hashed, drain_hashed};
use crate::retention::{self, Candidate, RetentionPlan, RetentionPolicy};
use crate::sqlite;
use crate::storage::{BackupStorage, LocalDir};
use crate::verify::{DrillSummary, VerifyLevel, VerifyReport};

/// Options of a restore into a named target.
///
/// The defaults are the safe ones: the guard refuses the source database and non-empty targets;
/// `--clean --if-exists`; one transaction (so a failed restore leaves nothing); no parallel jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOptions {
    allow_source: bool,
    allow_non_empty: bool,
    clean: bool,
    single_transaction: bool,
    jobs: u32,
    no_owner: bool,
    no_acl: bool,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions {
            allow_source: false,
            allow_non_empty: false,
            clean: true,
            single_transaction: true,
            jobs: 1,
            no_owner: false,
            no_acl: false,
        }
    }
}

impl RestoreOptions {
    /// The safe defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allow restoring over the database the backup was taken from (it is overwritten).
    #[must_use]
    pub fn with_allow_source(mut self, allow: bool) -> Self {
        self.allow_source = allow;
        self
    }

    /// Allow restoring into a database (or file) that already holds objects.
    #[must_use]
    pub fn with_allow_non_empty(mut self, allow: bool) -> Self {
        self.allow_non_empty = allow;
        self
    }

    /// Drop objects before recreating them (`--clean --if-exists`; default on).
    #[must_use]
    pub fn with_clean(mut self, clean: bool) -> Self {
        self.clean = clean;
        self
    }

    /// Restore in one transaction (default on; not possible with parallel jobs, which then win).
    #[must_use]
    pub fn with_single_transaction(mut self, on: bool) -> Self {
        self.single_transaction = on;
        self
    }

    /// Parallel `pg_restore` jobs (default 1). Above 1, a remote backup is first downloaded (and
    /// checksummed) to a scratch file, since parallel restore needs a seekable archive.
    #[must_use]
    pub fn with_jobs(mut self, jobs: u32) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Skip ownership (`--no-owner`): objects belong to the restoring user.
    #[must_use]
    pub fn with_no_owner(mut self, on: bool) -> Self {
        self.no_owner = on;
        self
    }

    /// Skip grants (`--no-acl`).
    #[must_use]
    pub fn with_no_acl(mut self, on: bool) -> Self {
        self.no_acl = on;
        self
    }

    fn flags(&self) -> RestoreFlags {
        RestoreFlags {
            clean: self.clean,
            single_transaction: self.single_transaction && self.jobs <= 1,
            jobs: self.jobs,
            no_owner: self.no_owner,
            no_acl: self.no_acl,
        }
    }
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The backup.
    pub id: BackupId,
    /// The target database (or file) name.
    pub target: String,
    /// How long the restore took (including the checksum pass).
    pub duration: Duration,
    /// Whether it ran in one transaction.
    pub single_transaction: bool,
    /// Parallel jobs used.
    pub jobs: u32,
}

/// One backup as found in storage.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRecord {
    /// Its id.
    pub id: BackupId,
    /// Its manifest (`None`: missing or unreadable, so the backup is incomplete).
    pub manifest: Option<Manifest>,
    /// Its verification record, if any (only when it matches the manifest's hash).
    pub verification: Option<Verification>,
    /// Whether the data file is present.
    pub has_data: bool,
}

impl BackupRecord {
    /// Whether a restore drill verified this backup.
    pub fn is_verified(&self) -> bool {
        match (&self.manifest, &self.verification) {
            (Some(m), Some(v)) => self.has_data && v.is_verified_for(m),
            _ => false,
        }
    }

    /// The deepest verification level that passed.
    pub fn verified_level(&self) -> Option<VerifyLevel> {
        self.verification
            .as_ref()
            .and_then(Verification::highest_passed)
    }

    /// The record as a retention / gate candidate.
    pub fn candidate(&self) -> Candidate {
        Candidate {
            id: self.id,
            created_at: self
                .manifest
                .as_ref()
                .map_or(self.id.created_at(), |m| m.created_at),
            verified: self.is_verified(),
        }
    }
}

/// Whether a retention run deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetentionMode {
    /// Plan and report only (the default).
    #[default]
    DryRun,
    /// Delete what the plan says.
    Delete,
}

/// Builds [`Backups`].
#[derive(Debug, Default)]
pub struct BackupsBuilder {
    storage: Option<Arc<dyn BackupStorage>>,
    emitter: Option<Emitter>,
    clock: Option<Arc<dyn Clock>>,
    tools: Option<PgTools>,
    drill_server: Option<PgUrl>,
    drill_jobs: u32,
    scratch_dir: Option<PathBuf>,
    compress: Option<u8>,
    tool_timeout: Option<Duration>,
}

impl BackupsBuilder {
    /// An empty builder (a storage is required).
    pub fn new() -> Self {
        Self::default()
    }

    /// From the environment: `RUNWAY_BACKUP_DIR` (a local directory), `RUNWAY_BACKUP_DRILL_URL` (the
    /// server for restore drills), `RUNWAY_PG_BIN_DIR` (where `pg_dump` and `pg_restore` are).
    pub fn from_env() -> Result<Self> {
        let mut b = Self::new();
        if let Ok(dir) = std::env::var("RUNWAY_BACKUP_DIR")
            && !dir.is_empty()
        {
            b = b.with_storage(Arc::new(LocalDir::new(dir)));
        }
        if let Ok(url) = std::env::var("RUNWAY_BACKUP_DRILL_URL")
            && !url.is_empty()
        {
            b = b.with_drill_server(PgUrl::parse(&url)?);
        }
        if let Ok(dir) = std::env::var("RUNWAY_PG_BIN_DIR")
            && !dir.is_empty()
        {
            b = b.with_pg_tools(PgTools::in_dir(dir)?);
        }
        Ok(b)
    }

    /// Where backups are stored.
    #[must_use]
    pub fn with_storage(mut self, storage: Arc<dyn BackupStorage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Where events go (default: dropped).
    #[must_use]
    pub fn with_emitter(mut self, emitter: Emitter) -> Self {
        self.emitter = Some(emitter);
        self
    }

    /// The clock for names and timestamps (default: the system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The PostgreSQL binaries (default: [`PgTools::discover`] when first needed).
    #[must_use]
    pub fn with_pg_tools(mut self, tools: PgTools) -> Self {
        self.tools = Some(tools);
        self
    }

    /// An admin URL of the server where restore drills create their scratch databases.
    #[must_use]
    pub fn with_drill_server(mut self, url: PgUrl) -> Self {
        self.drill_server = Some(url);
        self
    }

    /// Parallel jobs for drills (default 1: one transaction).
    #[must_use]
    pub fn with_drill_jobs(mut self, jobs: u32) -> Self {
        self.drill_jobs = jobs;
        self
    }

    /// Where scratch files go (SQLite copies, downloads for parallel restores); default the system temp dir.
    #[must_use]
    pub fn with_scratch_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.scratch_dir = Some(dir.into());
        self
    }

    /// `pg_dump` compression level 0-9 (default: pg_dump's own).
    #[must_use]
    pub fn with_compression(mut self, level: u8) -> Self {
        self.compress = Some(level);
        self
    }

    /// Stop `pg_dump` / `pg_restore` runs that take longer than `limit` ([`BackupError::Timeout`]);
    /// default: no limit.
    #[must_use]
    pub fn with_tool_timeout(mut self, limit: Duration) -> Self {
        self.tool_timeout = Some(limit);
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<Backups> {
        let storage = self.storage.ok_or_else(|| {
            BackupError::InvalidInput("a backup storage is required (with_storage)".into())
        })?;
        if let Some(c) = self.compress
            && c > 9
        {
            return Err(BackupError::InvalidInput(format!(
                "compression level {c} is not in 0..=9"
            )));
        }
        Ok(Backups {
            storage,
            emitter: self.emitter.unwrap_or_else(Emitter::null),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            tools: self.tools,
            drill_server: self.drill_server,
            drill_jobs: self.drill_jobs.max(1),
            scratch_dir: self.scratch_dir,
            compress: self.compress,
            tool_timeout: self.tool_timeout,
            pg_dump_version: Arc::default(),
        })
    }
}

/// Takes, lists, verifies, restores and expires backups in one [`BackupStorage`].
#[derive(Debug, Clone)]
pub struct Backups {
    storage: Arc<dyn BackupStorage>,
    emitter: Emitter,
    clock: Arc<dyn Clock>,
    tools: Option<PgTools>,
    drill_server: Option<PgUrl>,
    drill_jobs: u32,
    scratch_dir: Option<PathBuf>,
    compress: Option<u8>,
    tool_timeout: Option<Duration>,
    pg_dump_version: Arc<tokio::sync::OnceCell<String>>,
}

fn ms(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

impl Backups {
    /// A builder.
    pub fn builder() -> BackupsBuilder {
        BackupsBuilder::new()
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn BackupStorage> {
        &self.storage
    }

    fn tools(&self) -> Result<PgTools> {
        match &self.tools {
            Some(t) => Ok(t.clone()),
            None => PgTools::discover(),
        }
    }

    fn storage_err(
        &self,
        operation: &'static str,
        key: &str,
    ) -> impl FnOnce(runway_core::Error) -> BackupError {
        let backend = self.storage.describe();
        let key = key.to_string();
        move |source| BackupError::Storage {
            backend,
            operation,
            key,
            source: Box::new(source),
        }
    }

    /// Run a tool future under the configured timeout (the child is killed when the future is dropped).
    async fn timed<T>(
        &self,
        tool: &'static str,
        fut: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        match self.tool_timeout {
            Some(limit) => tokio::time::timeout(limit, fut)
                .await
                .map_err(|_| BackupError::Timeout { tool, limit })?,
            None => fut.await,
        }
    }

    async fn emit(&self, e: BackupEvent) -> Result<()> {
        self.emitter
            .emit(e)
            .await
            .map_err(|e| BackupError::Events(Box::new(e)))
    }

    fn scratch(&self) -> Result<tempfile::TempDir> {
        let b = tempfile::Builder::new()
            .prefix("runway-backup-")
            .tempdir_in(self.scratch_dir.clone().unwrap_or_else(std::env::temp_dir));
        b.map_err(BackupError::io("creating a scratch directory"))
    }

    async fn fresh_id(&self, at: DateTime<Utc>) -> Result<BackupId> {
        let keys = self
            .storage
            .list()
            .await
            .map_err(self.storage_err("list", ""))?;
        let taken: BTreeSet<BackupId> = parse_listing(keys.iter().map(|o| o.key.as_str()))
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut id = BackupId::at(at);
        while taken.contains(&id) {
            id = id.next();
        }
        Ok(id)
    }

    fn progress(
        &self,
        id: BackupId,
    ) -> impl FnMut(u64) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + use<> {
        let em = self.emitter.clone();
        move |bytes| {
            let em = em.clone();
            Box::pin(async move {
                // Progress is advisory: a sink error here surfaces on the next lifecycle event.
                let _ = em
                    .emit(BackupEvent::Progress {
                        id: id.to_string(),
                        bytes,
                    })
                    .await;
            })
        }
    }

    fn read_progress(
        &self,
        id: BackupId,
        total: u64,
    ) -> impl FnMut(u64) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + use<> {
        let em = self.emitter.clone();
        move |bytes| {
            let em = em.clone();
            Box::pin(async move {
                let _ = em
                    .emit(BackupEvent::ReadProgress {
                        id: id.to_string(),
                        bytes,
                        total,
                    })
                    .await;
            })
        }
    }

    /// Back up a PostgreSQL database with `pg_dump` (custom format).
    ///
    /// A `REPEATABLE READ` transaction exports its snapshot, `pg_dump --snapshot` dumps exactly that
    /// snapshot, and the same transaction counts every table's rows while the dump streams through
    /// SHA-256 into storage. The manifest is written last: a backup without one is incomplete.
    pub async fn backup_postgres(&self, url: &PgUrl) -> Result<Manifest> {
        let started = Instant::now();
        let created_at = self.clock.now();
        let tools = self.tools()?;
        let tool_version = self
            .pg_dump_version
            .get_or_try_init(|| tools.pg_dump_version())
            .await?
            .clone();
        let mut conn = pg::connect(url, "connecting to the source database").await?;
        let (source, server_version) = pg::identity(&mut conn).await?;
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut conn)
            .await
            .map_err(BackupError::db("starting the snapshot transaction"))?;
        // Counting must not take CPU from pg_dump's own backend.
        sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0")
            .execute(&mut conn)
            .await
            .map_err(BackupError::db("configuring the snapshot transaction"))?;
        let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut conn)
            .await
            .map_err(BackupError::db("exporting the snapshot"))?;

        let id = self.fresh_id(created_at).await?;
        let key = id.data_key(Engine::Postgres);
        self.emit(BackupEvent::Started { id: id.to_string() })
            .await?;
        let mut writer = self
            .storage
            .create(&key)
            .await
            .map_err(self.storage_err("create", &key))?;
        let mut child = pg::spawn_pg_dump(&tools.pg_dump, url, &snapshot, self.compress)?;
        let stderr = drain_stderr(child.stderr.take());
        let stdout = child.stdout.take().expect("stdout is piped");

        let pipeline = async {
            let mut out = stdout;
            let copy = copy_hashed(&mut out, &mut writer, self.progress(id));
            let counts = pg::count_tables(&mut conn);
            let (copied, counts) = tokio::join!(copy, counts);
            // Close our end first: if storage failed mid-stream, pg_dump then stops on EPIPE.
            drop(out);
            let status = child
                .wait()
                .await
                .map_err(BackupError::io("waiting for pg_dump"));
            (copied, counts, status)
        };
        let finished = match self.tool_timeout {
            Some(limit) => {
                tokio::time::timeout(limit, pipeline)
                    .await
                    .map_err(|_| BackupError::Timeout {
                        tool: "pg_dump",
                        limit,
                    })
            }
            None => Ok(pipeline.await),
        };
        let outcome: Result<_> = match finished {
            Err(e) => {
                // kill_on_drop ends pg_dump; wait so it leaves no zombie.
                let _ = child.kill().await;
                Err(e)
            }
            Ok((copied, counts, status)) => {
                let err_text = stderr.await.unwrap_or_default();
                (|| {
                    let status = status?;
                    if !status.success() {
                        return Err(tool_failed("pg_dump", status, &err_text));
                    }
                    let digest = copied.map_err(BackupError::io("streaming pg_dump output"))?;
                    Ok((digest, counts?))
                })()
            }
        };
        let (digest, tables) = match outcome {
            Ok(v) => v,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(e);
            }
        };
        writer
            .commit()
            .await
            .map_err(self.storage_err("commit", &key))?;
        let _ = sqlx::query("COMMIT").execute(&mut conn).await;
        let _ = conn.close().await;

        let manifest = Manifest {
            version: MANIFEST_VERSION,
            id,
            engine: Engine::Postgres,
            file: key,
            source,
            server_version,
            tool_version,
            size: digest.bytes,
            sha256: digest.sha256,
            created_at,
            duration_ms: ms(started.elapsed()),
            tables,
        };
        self.finish(&manifest).await?;
        Ok(manifest)
    }

    async fn finish(&self, manifest: &Manifest) -> Result<()> {
        let mkey = manifest.id.manifest_key();
        self.storage
            .put(&mkey, manifest.to_json().into())
            .await
            .map_err(self.storage_err("put", &mkey))?;
        self.emit(BackupEvent::Completed {
            id: manifest.id.to_string(),
            bytes: manifest.size,
            sha256: manifest.sha256.clone(),
        })
        .await
    }

    /// Back up a SQLite database: `VACUUM INTO` a consistent copy, count its rows, stream it through
    /// SHA-256 into storage.
    pub async fn backup_sqlite(&self, path: &Path) -> Result<Manifest> {
        let started = Instant::now();
        let created_at = self.clock.now();
        let canonical = tokio::fs::canonicalize(path)
            .await
            .map_err(BackupError::io("resolving the SQLite path"))?;
        let scratch = self.scratch()?;
        let copy = scratch.path().join("copy.sqlite");
        let version = sqlite::vacuum_into(&canonical, &copy).await?;
        let mut conn = sqlite::open(&copy, true).await?;
        let tables = sqlite::count_tables(&mut conn).await?;
        let _ = conn.close().await;

        let id = self.fresh_id(created_at).await?;
        let key = id.data_key(Engine::Sqlite);
        self.emit(BackupEvent::Started { id: id.to_string() })
            .await?;
        let mut writer = self
            .storage
            .create(&key)
            .await
            .map_err(self.storage_err("create", &key))?;
        let mut file = tokio::fs::File::open(&copy)
            .await
            .map_err(BackupError::io("opening the SQLite copy"))?;
        let digest = match copy_hashed(&mut file, &mut writer, self.progress(id)).await {
            Ok(d) => d,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(BackupError::Io {
                    operation: "streaming the SQLite copy",
                    source: e,
                });
            }
        };
        writer
            .commit()
            .await
            .map_err(self.storage_err("commit", &key))?;
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            id,
            engine: Engine::Sqlite,
            file: key,
            source: Source {
                database: canonical
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                server: canonical.to_string_lossy().into_owned(),
            },
            server_version: version.clone(),
            tool_version: format!("VACUUM INTO (SQLite {version})"),
            size: digest.bytes,
            sha256: digest.sha256,
            created_at,
            duration_ms: ms(started.elapsed()),
            tables,
        };
        self.finish(&manifest).await?;
        Ok(manifest)
    }

    /// Every backup in storage, newest first (incomplete ones included, with `manifest: None`).
    pub async fn list(&self) -> Result<Vec<BackupRecord>> {
        let keys = self
            .storage
            .list()
            .await
            .map_err(self.storage_err("list", ""))?;
        let mut out = Vec::new();
        for (id, listed) in parse_listing(keys.iter().map(|o| o.key.as_str())) {
            let manifest = if listed.manifest {
                self.manifest(id).await.ok()
            } else {
                None
            };
            let verification = match (&manifest, listed.verification) {
                (Some(m), true) => self
                    .verification(id)
                    .await
                    .ok()
                    .flatten()
                    .filter(|v| v.sha256 == m.sha256),
                _ => None,
            };
            out.push(BackupRecord {
                id,
                has_data: listed.data.is_some()
                    && manifest
                        .as_ref()
                        .is_none_or(|m| Some(m.engine) == listed.data),
                manifest,
                verification,
            });
        }
        Ok(out)
    }

    /// The manifest of `id`.
    pub async fn manifest(&self, id: BackupId) -> Result<Manifest> {
        let key = id.manifest_key();
        let bytes = self.storage.get(&key).await.map_err(|e| {
            if *e.kind() == runway_core::ErrorKind::NotFound {
                BackupError::NotFound(id.to_string())
            } else {
                (self.storage_err("get", &key))(e)
            }
        })?;
        let m = Manifest::from_json(&bytes)?;
        if m.id != id {
            return Err(BackupError::InvalidManifest {
                reason: format!("manifest {key} describes {}", m.id),
                source: None,
            });
        }
        Ok(m)
    }

    /// The verification record of `id`, if one was written.
    pub async fn verification(&self, id: BackupId) -> Result<Option<Verification>> {
        let key = id.verification_key();
        match self.storage.get(&key).await {
            Ok(bytes) => Verification::from_json(&bytes).map(Some),
            Err(e) if *e.kind() == runway_core::ErrorKind::NotFound => Ok(None),
            Err(e) => Err((self.storage_err("get", &key))(e)),
        }
    }

    async fn save_verification(&self, v: &Verification) -> Result<()> {
        let key = v.id.verification_key();
        self.storage
            .put(&key, v.to_json().into())
            .await
            .map_err(self.storage_err("put", &key))
    }

    /// Verify `id` up to `level`, recording each level's result in the verification record.
    ///
    /// Returns the first failure as a typed error: [`BackupError::SizeMismatch`] (truncated),
    /// [`BackupError::ChecksumMismatch`] (flipped byte, wrong manifest), [`BackupError::Unreadable`]
    /// (listing), [`BackupError::CountMismatch`] (drill).
    pub async fn verify(&self, id: BackupId, level: VerifyLevel) -> Result<VerifyReport> {
        let manifest = self.manifest(id).await?;
        let mut record = self
            .verification(id)
            .await
            .ok()
            .flatten()
            .filter(|v| v.sha256 == manifest.sha256)
            .unwrap_or_else(|| Verification::new(&manifest));
        let mut report = VerifyReport {
            id,
            level: VerifyLevel::Checksum,
            timings: Vec::new(),
            drill: None,
            verified: false,
        };
        for step in [
            VerifyLevel::Checksum,
            VerifyLevel::Listing,
            VerifyLevel::Drill,
        ] {
            if step > level {
                break;
            }
            let at = self.clock.now();
            let t = Instant::now();
            let result = match step {
                VerifyLevel::Checksum => self.check_checksum(&manifest).await.map(|_| None),
                VerifyLevel::Listing => self.check_listing(&manifest).await.map(|_| None),
                VerifyLevel::Drill => self.check_drill(&manifest).await.map(Some),
            };
            let elapsed = t.elapsed();
            let check = Check {
                at,
                ok: result.is_ok(),
                duration_ms: ms(elapsed),
                error: result.as_ref().err().map(|e| e.to_string()),
            };
            match step {
                VerifyLevel::Checksum => record.checksum = Some(check),
                VerifyLevel::Listing => record.listing = Some(check),
                VerifyLevel::Drill => {
                    let summary = result.as_ref().ok().cloned().flatten();
                    record.drill = Some(DrillRecord {
                        check,
                        tables_checked: summary.as_ref().map_or(0, |s| s.tables),
                        rows_checked: summary.as_ref().map_or(0, |s| s.rows),
                        restore_ms: summary.as_ref().map_or(0, |s| ms(s.restore)),
                    });
                }
            }
            self.save_verification(&record).await?;
            self.emit(BackupEvent::Verified {
                id: id.to_string(),
                level: step.as_str().into(),
                ok: result.is_ok(),
            })
            .await?;
            if step == VerifyLevel::Drill {
                let (ok, summary) = match &result {
                    Ok(Some(s)) => (true, Some(s.clone())),
                    _ => (false, None),
                };
                self.emit(BackupEvent::DrillCompleted {
                    id: id.to_string(),
                    ok,
                    duration_ms: ms(elapsed),
                    restore_ms: summary.as_ref().map_or(0, |s| ms(s.restore)),
                    tables: summary.as_ref().map_or(0, |s| s.tables),
                    rows: summary.as_ref().map_or(0, |s| s.rows),
                })
                .await?;
            }
            let drill = result?;
            report.level = step;
            report.timings.push((step, elapsed));
            if let Some(d) = drill {
                report.drill = Some(d);
                report.verified = true;
            }
        }
        Ok(report)
    }

    /// Stream the data file and compare size and hash with the manifest.
    async fn check_checksum(&self, m: &Manifest) -> Result<()> {
        let digest = self
            .read_stored::<tokio::io::Sink>(m, None, "reading the backup")
            .await?;
        matches_manifest(m, digest)
    }

    /// Stream the stored data file of `m`, hashing it, into `sink` when given (progress as events).
    async fn read_stored<W>(
        &self,
        m: &Manifest,
        sink: Option<&mut W>,
        doing: &'static str,
    ) -> Result<Digested>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        let stream = self.storage.open(&m.file).await.map_err(|e| {
            if *e.kind() == runway_core::ErrorKind::NotFound {
                BackupError::NotFound(m.file.clone())
            } else {
                (self.storage_err("open", &m.file))(e)
            }
        })?;
        drain_hashed(stream, sink, false, self.read_progress(m.id, m.size))
            .await
            .map_err(BackupError::io(doing))
    }

    /// A local, checksummed copy of the data file when storage is remote (`None`: use the stored file).
    async fn materialize(&self, m: &Manifest, dir: &Path) -> Result<PathBuf> {
        if let Some(p) = self.storage.local_path(&m.file)
            && tokio::fs::try_exists(&p).await.unwrap_or(false)
        {
            return Ok(p);
        }
        let target = dir.join(&m.file);
        let mut file = tokio::fs::File::create(&target)
            .await
            .map_err(BackupError::io("creating a scratch copy"))?;
        let digest = self
            .read_stored(m, Some(&mut file), "downloading the backup")
            .await?;
        matches_manifest(m, digest)?;
        Ok(target)
    }

    async fn archive_input<'a>(
        &self,
        m: &Manifest,
        local: Option<&'a Path>,
    ) -> Result<ArchiveInput<'a>> {
        match local {
            Some(p) => Ok(ArchiveInput::File(p)),
            None => Ok(ArchiveInput::Stream(
                self.storage
                    .open(&m.file)
                    .await
                    .map_err(self.storage_err("open", &m.file))?,
            )),
        }
    }

    fn local_file(&self, m: &Manifest) -> Option<PathBuf> {
        self.storage.local_path(&m.file).filter(|p| p.is_file())
    }

    async fn check_listing(&self, m: &Manifest) -> Result<()> {
        match m.engine {
            Engine::Postgres => {
                let tools = self.tools()?;
                let local = self.local_file(m);
                let input = self.archive_input(m, local.as_deref()).await?;
                let text = self
                    .timed("pg_restore", pg::pg_restore_list(&tools.pg_restore, input))
                    .await
                    .map_err(|e| match e {
                        BackupError::ToolFailed { stderr, .. } => BackupError::Unreadable {
                            id: m.id,
                            detail: stderr,
                        },
                        other => other,
                    })?;
                let listing =
                    RestoreListing::parse(&text).map_err(|e| BackupError::Unreadable {
                        id: m.id,
                        detail: e.to_string(),
                    })?;
                if listing.format() != Some("CUSTOM") {
                    return Err(BackupError::Unreadable {
                        id: m.id,
                        detail: format!(
                            "archive format is {}, expected CUSTOM",
                            listing.format().unwrap_or("unknown")
                        ),
                    });
                }
                let with_data = listing.tables_with_data();
                let missing: Vec<&str> = m
                    .tables
                    .keys()
                    .filter(|t| !with_data.contains(*t))
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    return Err(BackupError::Unreadable {
                        id: m.id,
                        detail: format!("no table data for {}", missing.join(", ")),
                    });
                }
                Ok(())
            }
            Engine::Sqlite => {
                let scratch = self.scratch()?;
                let path = self.materialize(m, scratch.path()).await?;
                let mut conn =
                    sqlite::open(&path, true)
                        .await
                        .map_err(|e| BackupError::Unreadable {
                            id: m.id,
                            detail: e.to_string(),
                        })?;
                let check = sqlite::integrity(&mut conn).await;
                let tables = sqlite::count_tables(&mut conn).await;
                let _ = conn.close().await;
                check.map_err(|detail| BackupError::Unreadable { id: m.id, detail })?;
                let tables = tables.map_err(|e| BackupError::Unreadable {
                    id: m.id,
                    detail: e.to_string(),
                })?;
                let missing: Vec<&str> = m
                    .tables
                    .keys()
                    .filter(|t| !tables.contains_key(*t))
                    .map(String::as_str)
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(BackupError::Unreadable {
                        id: m.id,
                        detail: format!("missing tables {}", missing.join(", ")),
                    })
                }
            }
        }
    }

    fn compare(
        m: &Manifest,
        actual: &std::collections::BTreeMap<String, u64>,
    ) -> Result<(usize, u64)> {
        let mismatches: Vec<CountMismatch> = m
            .tables
            .iter()
            .filter(|(t, n)| actual.get(*t) != Some(*n))
            .map(|(t, n)| CountMismatch {
                table: t.clone(),
                expected: *n,
                actual: actual.get(t).copied(),
            })
            .collect();
        if mismatches.is_empty() {
            Ok((m.tables.len(), m.tables.values().sum()))
        } else {
            Err(BackupError::CountMismatch {
                id: m.id,
                mismatches,
            })
        }
    }

    async fn check_drill(&self, m: &Manifest) -> Result<DrillSummary> {
        let started = Instant::now();
        match m.engine {
            Engine::Postgres => {
                let admin = self
                    .drill_server
                    .clone()
                    .ok_or(BackupError::NotConfigured {
                        level: VerifyLevel::Drill,
                        what: "a drill server (with_drill_server)",
                    })?;
                let tools = self.tools()?;
                let scratch_dir = self.scratch()?;
                let local = match self.local_file(m) {
                    Some(p) => Some(p),
                    None if self.drill_jobs > 1 => {
                        Some(self.materialize(m, scratch_dir.path()).await?)
                    }
                    None => None,
                };
                let scratch = pg::create_scratch(&admin).await?;
                let run = async {
                    let input = self.archive_input(m, local.as_deref()).await?;
                    let flags = RestoreFlags {
                        clean: false,
                        single_transaction: self.drill_jobs <= 1,
                        jobs: self.drill_jobs,
                        no_owner: true,
                        no_acl: true,
                    };
                    let t = Instant::now();
                    self.timed(
                        "pg_restore",
                        pg::pg_restore(&tools.pg_restore, &scratch, input, &flags),
                    )
                    .await?;
                    let restore = t.elapsed();
                    let mut conn =
                        pg::connect(&scratch, "connecting to the scratch database").await?;
                    let counts = pg::count_tables(&mut conn).await;
                    let _ = conn.close().await;
                    Ok::<_, BackupError>((restore, counts?))
                }
                .await;
                let dropped = pg::drop_scratch(&admin, &scratch).await;
                let (restore, counts) = run?;
                dropped?;
                let (tables, rows) = Self::compare(m, &counts)?;
                Ok(DrillSummary {
                    restore,
                    total: started.elapsed(),
                    tables,
                    rows,
                })
            }
            Engine::Sqlite => {
                let scratch = self.scratch()?;
                let t = Instant::now();
                let target = scratch.path().join("drill.sqlite");
                self.write_sqlite_copy(m, &target).await?;
                let restore = t.elapsed();
                let mut conn = sqlite::open(&target, false).await?;
                let check = sqlite::integrity(&mut conn).await;
                let counts = sqlite::count_tables(&mut conn).await;
                let _ = conn.close().await;
                check.map_err(|detail| BackupError::Unreadable { id: m.id, detail })?;
                let (tables, rows) = Self::compare(m, &counts?)?;
                Ok(DrillSummary {
                    restore,
                    total: started.elapsed(),
                    tables,
                    rows,
                })
            }
        }
    }

    /// Stream the stored SQLite file into `target` (checksummed on the way).
    async fn write_sqlite_copy(&self, m: &Manifest, target: &Path) -> Result<()> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let partial = dir.join(format!(
            ".{}.partial",
            target
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(BackupError::io("creating the restore file"))?;
        let digest = self
            .read_stored(m, Some(&mut file), "writing the restore file")
            .await?;
        file.sync_all()
            .await
            .map_err(BackupError::io("syncing the restore file"))?;
        drop(file);
        if let Err(e) = matches_manifest(m, digest) {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut side = target.as_os_str().to_owned();
            side.push(suffix);
            let _ = tokio::fs::remove_file(PathBuf::from(side)).await;
        }
        tokio::fs::rename(&partial, target)
            .await
            .map_err(BackupError::io("moving the restore file into place"))
    }

    async fn refuse(&self, id: BackupId, target: &str, r: Refusal) -> BackupError {
        let _ = self
            .emit(BackupEvent::RestoreRefused {
                id: id.to_string(),
                target: target.to_string(),
                reason: r.to_string(),
            })
            .await;
        BackupError::RestoreRefused(r)
    }

    /// Restore PostgreSQL backup `id` into `target`, behind the guard (see [`RestoreOptions`]).
    ///
    /// The stored file is checksummed first; a backup that fails the check is never restored.
    pub async fn restore_postgres(
        &self,
        id: BackupId,
        target: &PgUrl,
        opts: &RestoreOptions,
    ) -> Result<RestoreReport> {
        let started = Instant::now();
        let m = self.manifest(id).await?;
        if m.engine != Engine::Postgres {
            return Err(BackupError::InvalidInput(format!(
                "{id} is a {} backup, not PostgreSQL",
                m.engine
            )));
        }
        let tools = self.tools()?;
        let mut conn = pg::connect(target, "connecting to the restore target").await?;
        let guarded = pg::guard(
            &mut conn,
            &m.source,
            opts.allow_source,
            opts.allow_non_empty,
        )
        .await;
        let _ = conn.close().await;
        if let Err(BackupError::RestoreRefused(r)) = guarded {
            return Err(self.refuse(id, target.database(), r).await);
        }
        guarded?;
        self.emit(BackupEvent::RestoreStarted {
            id: id.to_string(),
            target: target.database().to_string(),
        })
        .await?;
        let scratch = self.scratch()?;
        let local = match self.local_file(&m) {
            Some(p) => {
                self.check_checksum(&m).await?;
                Some(p)
            }
            None if opts.jobs > 1 => Some(self.materialize(&m, scratch.path()).await?),
            None => {
                self.check_checksum(&m).await?;
                None
            }
        };
        let input = self.archive_input(&m, local.as_deref()).await?;
        let flags = opts.flags();
        self.timed(
            "pg_restore",
            pg::pg_restore(&tools.pg_restore, target, input, &flags),
        )
        .await?;
        let duration = started.elapsed();
        self.emit(BackupEvent::RestoreCompleted {
            id: id.to_string(),
            target: target.database().to_string(),
            duration_ms: ms(duration),
        })
        .await?;
        Ok(RestoreReport {
            id,
            target: target.database().to_string(),
            duration,
            single_transaction: flags.single_transaction,
            jobs: flags.jobs,
        })
    }

    /// Restore SQLite backup `id` to the file `target`, behind the guard: it refuses the source file and
    /// a target that holds tables unless allowed. The file is replaced atomically (its `-wal`/`-shm`
    /// side files are removed); close connections to it first.
    pub async fn restore_sqlite(
        &self,
        id: BackupId,
        target: &Path,
        opts: &RestoreOptions,
    ) -> Result<RestoreReport> {
        let started = Instant::now();
        let m = self.manifest(id).await?;
        if m.engine != Engine::Sqlite {
            return Err(BackupError::InvalidInput(format!(
                "{id} is a {} backup, not SQLite",
                m.engine
            )));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Ok(canon) = tokio::fs::canonicalize(target).await
            && canon.to_string_lossy() == m.source.server
            && !opts.allow_source
        {
            return Err(self
                .refuse(
                    id,
                    &name,
                    Refusal::SourceDatabase {
                        database: name.clone(),
                    },
                )
                .await);
        }
        let objects = sqlite::user_objects(target).await?;
        if objects > 0 && !opts.allow_non_empty && !opts.allow_source {
            return Err(self
                .refuse(
                    id,
                    &name,
                    Refusal::NotEmpty {
                        database: name.clone(),
                        relations: objects,
                    },
                )
                .await);
        }
        self.emit(BackupEvent::RestoreStarted {
            id: id.to_string(),
            target: name.clone(),
        })
        .await?;
        self.write_sqlite_copy(&m, target).await?;
        let duration = started.elapsed();
        self.emit(BackupEvent::RestoreCompleted {
            id: id.to_string(),
            target: name.clone(),
            duration_ms: ms(duration),
        })
        .await?;
        Ok(RestoreReport {
            id,
            target: name,
            duration,
            single_transaction: true,
            jobs: 1,
        })
    }

    /// Plan retention over every backup in storage and, in [`RetentionMode::Delete`], delete what the
    /// plan says (data, manifest and verification record). The newest verified backup is never deleted.
    pub async fn enforce_retention(
        &self,
        policy: &RetentionPolicy,
        mode: RetentionMode,
    ) -> Result<RetentionPlan> {
        let records = self.list().await?;
        let candidates: Vec<Candidate> = records.iter().map(BackupRecord::candidate).collect();
        let plan = retention::plan(&candidates, policy);
        self.emit(BackupEvent::RetentionPlanned {
            keep: plan.keep.iter().map(|(id, _)| id.to_string()).collect(),
            delete: plan.delete.iter().map(ToString::to_string).collect(),
            dry_run: mode == RetentionMode::DryRun,
        })
        .await?;
        if mode == RetentionMode::Delete {
            for id in &plan.delete {
                // Manifest first: a backup without a manifest is already "incomplete", never "verified".
                for key in [
                    id.manifest_key(),
                    id.verification_key(),
                    id.data_key(Engine::Postgres),
                    id.data_key(Engine::Sqlite),
                ] {
                    self.storage
                        .delete(&key)
                        .await
                        .map_err(self.storage_err("delete", &key))?;
                }
                self.emit(BackupEvent::Deleted { id: id.to_string() })
                    .await?;
            }
        }
        Ok(plan)
    }

    /// The release gate: pass when the newest verified backup is younger than `max_age`.
    pub async fn freshness_gate(&self, max_age: Duration) -> Result<GateOutcome> {
        let records = self.list().await?;
        let candidates: Vec<Candidate> = records.iter().map(BackupRecord::candidate).collect();
        Ok(freshness_gate(&candidates, self.clock.now(), max_age))
    }
}

/// Whether the bytes read from storage are the ones the manifest recorded (size first: a truncation is
/// reported as such, not as a checksum mismatch).
fn matches_manifest(m: &Manifest, digest: Digested) -> Result<()> {
    if digest.bytes != m.size {
        return Err(BackupError::SizeMismatch {
            id: m.id,
            expected: m.size,
            actual: digest.bytes,
        });
    }
    if digest.sha256 != m.sha256 {
        return Err(BackupError::ChecksumMismatch {
            id: m.id,
            expected: m.sha256.clone(),
            actual: digest.sha256,
        });
    }
    Ok(())
}
