//! From a [`Config`] to a ready [`Release`]: the wiring of concrete providers to the engines.
//!
//! The embedded default (nothing configured) is: the simulator with three units (`runway-sim`), a SQLite file
//! with the runbook's `users.phone` demo migrations, local backups proven by a restore drill, a file lock and
//! a JSON-lines journal under `state_dir`, and console notifications. Setting `RUNWAY_DATABASE_URL` switches
//! the database, the backups and the lock to PostgreSQL; `notify.kind = "slack"` with `SLACK_WEBHOOK_URL`
//! switches notifications. Restore drills of PostgreSQL backups create their scratch database on the same
//! server, or on `RUNWAY_DRILL_DATABASE_URL` when set (recommended for production).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use runway_backup::{Backups, LocalDir, PgUrl};
use runway_core::{
    Clock, Emitter, Environment, EnvironmentId, EnvironmentKind, EventSink, LogScope, Notifier,
    Release as ReleaseSpec,
};
use runway_health::verify::{ErrorSpike, MonitorPlan, Thresholds, Verification};
use runway_migrate::{MigrationSource, Migrator, PostgresTarget, SqliteTarget};
use runway_rollout::{
    DeployLock, FileJournal, FileLock, HealthGate, PgLock, RolloutConfig, Strategy,
};
use runway_sim::{ReleaseProfile, SimPlatform};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{Config, PlatformKind};
use crate::release::{BackupStep, BackupTarget, MigrateStep, Release};

/// Why a configuration could not be assembled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// A part of the configuration is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The configured platform is not compiled in, or needs more than the configuration gives.
    #[error("{0}")]
    Unsupported(String),
    /// Preparing state (folders, the SQLite file) failed.
    #[error("cannot prepare {path}: {source}")]
    Io {
        /// What.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl AssembleError {
    /// The error's kind.
    pub fn kind(&self) -> runway_core::ErrorKind {
        match self {
            AssembleError::Invalid(_) => runway_core::ErrorKind::InvalidInput,
            AssembleError::Unsupported(_) => runway_core::ErrorKind::Unsupported,
            AssembleError::Io { .. } => runway_core::ErrorKind::Provider,
        }
    }
}

/// An assembled release and the parts a caller may want to look at.
#[derive(Debug)]
pub struct Assembled {
    /// The release, ready to [`run`](Release::run).
    pub release: Release,
    /// The simulator, when the platform is simulated (to inspect units afterwards).
    pub sim: Option<SimPlatform>,
    /// Where state lives.
    pub state_dir: PathBuf,
    /// The rollout journal's file.
    pub journal: PathBuf,
}

/// Demo migrations for the embedded default: the runbook's `users.phone` example, SQLite flavour.
pub fn demo_migrations() -> Result<MigrationSource, AssembleError> {
    runway_migrate::embed_migrations!("$CARGO_MANIFEST_DIR/examples/migrations-sqlite")
        .map_err(|e| AssembleError::Invalid(format!("demo migrations: {e}")))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AssembleError + '_ {
    move |source| AssembleError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Assemble `config` into a release. `database_url` (usually [`Config::database_url`]) switches from the
/// embedded SQLite file to PostgreSQL; events go to `sink`; notifications to `notifier`, or the configured one.
pub fn assemble(
    config: &Config,
    database_url: Option<SecretString>,
    sink: Arc<dyn EventSink>,
    notifier: Option<Arc<dyn Notifier>>,
) -> Result<Assembled, AssembleError> {
    let state_dir = if config.state_dir.as_os_str().is_empty() {
        PathBuf::from(".runway")
    } else {
        config.state_dir.clone()
    };
    std::fs::create_dir_all(&state_dir).map_err(io(&state_dir))?;
    let env_name = config.environment.name.clone();
    let environment = Environment {
        id: EnvironmentId::new(env_name.clone()),
        name: env_name.clone(),
        kind: EnvironmentKind::from_name(&env_name),
    };
    let mut spec = ReleaseSpec::new(config.release.version.clone());
    if let Some(m) = &config.release.message {
        spec = spec.with_message(m.clone());
    }
    if let Some(a) = &config.release.author {
        spec = spec.with_author(a.clone());
    }

    // Platform: the simulator (Railway and Cloud66 are wired by the caller with their own builders).
    if config.platform.kind != PlatformKind::Sim {
        return Err(AssembleError::Unsupported(format!(
            "platform {:?}: build the provider with its crate (runway-railway / runway-cloud66, features `railway` / \
             `cloud66`) and pass it to Release::builder(); runway.toml assembles the simulator only",
            config.platform.kind
        )));
    }
    let profile = if config.platform.bad_release {
        ReleaseProfile::unhealthy(spec.id.clone())
    } else {
        ReleaseProfile::healthy(spec.id.clone()).with_error_rate(config.platform.error_rate)
    };
    let mut initial_vars = runway_core::Variables::new();
    if let Some(file) = &config.platform.env_file {
        let text = std::fs::read_to_string(file).map_err(io(file))?;
        let parsed = runway_core::EnvExample::parse(&text)
            .map_err(|e| AssembleError::Invalid(format!("{}: {e}", file.display())))?;
        for (name, value) in parsed.entries {
            initial_vars.insert(name, SecretString::from(value));
        }
    }
    let sim = SimPlatform::builder()
        .seed(42)
        .variables(
            runway_core::VariableScope::environment(env_name.clone()),
            initial_vars,
        )
        .environment(env_name.clone())
        .units(config.platform.units)
        .initial_release(config.release.previous.clone())
        .start_time(config.platform.start_time)
        .ready_time(config.platform.ready_time)
        .requests_per_unit(100.0)
        .release(profile)
        .build();
    let clock: Arc<dyn Clock> = Arc::new(sim.clock());
    // Migrations, backups and verification report through the same sink as the release.
    let emitter = Emitter::new(sink.clone()).with_clock(clock.clone());

    // Verification: the simulator's metrics and logs against the runbook's thresholds.
    let verification = Verification::builder()
        .with_metrics(Arc::new(sim.clone()))
        .with_error_spike(
            Arc::new(sim.clone()),
            ErrorSpike::new(LogScope::environment(env_name.clone())),
        )
        .with_plan(MonitorPlan {
            window: config.verify.window,
            interval: config.verify.interval,
            thresholds: Thresholds {
                min_samples: config.verify.min_requests,
                ..Thresholds::default()
            },
        })
        .with_clock(clock.clone())
        .with_emitter(emitter.clone())
        .build()
        .map_err(|e| AssembleError::Invalid(format!("verification: {e}")))?;

    // Database, migrations, backups and lock.
    let mut backups = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(state_dir.join(&config.backup.dir))))
        .with_emitter(emitter.clone());
    let drill_url = std::env::var("RUNWAY_DRILL_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from);
    let (migrator, lint_dirs, target, lock): (
        Migrator,
        Vec<PathBuf>,
        BackupTarget,
        Arc<dyn DeployLock>,
    ) = match database_url {
        Some(url) => {
            let dir = config.migrations.dir.clone().ok_or_else(|| {
                AssembleError::Invalid(
                    "a PostgreSQL database needs migrations.dir (the demo migrations are SQLite's)"
                        .into(),
                )
            })?;
            let source = MigrationSource::from_dir(&dir)
                .map_err(|e| AssembleError::Invalid(format!("migrations: {e}")))?;
            let target = PostgresTarget::new(&url)
                .map_err(|e| AssembleError::Invalid(format!("database: {e}")))?;
            let pg = PgUrl::parse(url.expose_secret())
                .map_err(|e| AssembleError::Invalid(format!("database URL: {e}")))?;
            let lint = if config.migrations.lint {
                vec![dir]
            } else {
                Vec::new()
            };
            // Restore drills create their scratch database on the same server unless told otherwise.
            let drill = drill_url
                .as_ref()
                .map(|u| PgUrl::parse(u.expose_secret()))
                .transpose()
                .map_err(|e| AssembleError::Invalid(format!("drill database URL: {e}")))?
                .unwrap_or_else(|| pg.clone());
            backups = backups.with_drill_server(drill);
            (
                Migrator::new(source, target).with_emitter(emitter.clone()),
                lint,
                BackupTarget::Postgres(pg),
                Arc::new(PgLock::new(url.clone())),
            )
        }
        None => {
            let db = state_dir.join(&config.database.sqlite);
            if !db.exists() {
                // A zero-length file is an empty SQLite database.
                std::fs::File::create(&db).map_err(io(&db))?;
            }
            let source = match &config.migrations.dir {
                Some(dir) => MigrationSource::from_dir(dir)
                    .map_err(|e| AssembleError::Invalid(format!("migrations: {e}")))?,
                None => demo_migrations()?,
            };
            let target = SqliteTarget::new(&db)
                .map_err(|e| AssembleError::Invalid(format!("database: {e}")))?;
            // The linter's rules are PostgreSQL's: SQLite migrations are not linted.
            (
                Migrator::new(source, target).with_emitter(emitter.clone()),
                Vec::new(),
                BackupTarget::Sqlite(db),
                Arc::new(FileLock::new(state_dir.join("locks"))),
            )
        }
    };

    let backups = backups
        .build()
        .map_err(|e| AssembleError::Invalid(format!("backups: {e}")))?;

    let notifier: Arc<dyn Notifier> = match notifier {
        Some(n) => n,
        None => match config.notify.kind.as_str() {
            "slack" => {
                let url = Config::slack_webhook().ok_or_else(|| {
                    AssembleError::Invalid("notify.kind = \"slack\" needs SLACK_WEBHOOK_URL".into())
                })?;
                Arc::new(
                    runway_notify::SlackNotifier::builder()
                        .with_webhook(url)
                        .build()
                        .map_err(|e| AssembleError::Invalid(format!("slack: {e}")))?,
                )
            }
            _ => Arc::new(runway_notify::ConsoleNotifier::stdout()),
        },
    };

    let strategy = match config.rollout.strategy.as_str() {
        "rolling" => Strategy::rolling(&config.rollout.max_surge, &config.rollout.max_unavailable)
            .map_err(|e| AssembleError::Invalid(format!("rollout: {e}")))?,
        _ => Strategy::OneAtATime,
    };
    let rollout = RolloutConfig::default()
        .with_strategy(strategy)
        .with_gate(
            HealthGate::default()
                .with_period(config.rollout.period)
                .with_timeout(config.rollout.period)
                .with_failure_threshold(config.rollout.failure_threshold)
                .with_min_ready(config.rollout.bake),
        )
        .with_progress_deadline(config.rollout.progress_deadline);

    let preflight = match &config.preflight.repo {
        Some(repo) => {
            let mut p = crate::preflight::Preflight::new(repo.clone())
                .with_environment_kind(EnvironmentKind::from_name(&env_name))
                .with_variables(
                    Arc::new(sim.clone()),
                    runway_core::VariableScope::environment(env_name.clone()),
                )
                .with_lint(config.migrations.lint);
            // When the release takes (and drills) a backup itself, the preflight need not demand one first.
            p = if config.backup.take {
                p.with_backup_taken_by_release(true)
            } else {
                p.with_backups(backups.clone(), config.backup.max_age)
            };
            if let Some(dir) = &config.migrations.dir {
                p = p.with_migrations_dir(dir.to_string_lossy().into_owned());
            }
            Some(Arc::new(p.build().map_err(|e| {
                AssembleError::Invalid(format!("preflight: {e}"))
            })?))
        }
        None => None,
    };

    let journal = state_dir.join("journal.jsonl");
    let mut release = Release::builder()
        .with_environment(environment)
        .with_release(spec)
        .with_platform(Arc::new(sim.clone()))
        .with_probe(Arc::new(sim.clone()))
        .with_notifier(notifier)
        .with_sink(sink)
        .with_lock(lock)
        .with_journal(Arc::new(FileJournal::new(&journal)))
        .with_rollout(rollout)
        .with_backup(BackupStep {
            backups,
            target,
            take: config.backup.take,
            max_age: config.backup.max_age,
        })
        .with_migrations(MigrateStep {
            migrator,
            lint_dirs,
        })
        .with_verification(verification)
        .with_clock(clock);
    if let Some(p) = preflight {
        release = release.with_preflight(p);
    }
    let release = release
        .build()
        .map_err(|e| AssembleError::Invalid(e.to_string()))?;
    Ok(Assembled {
        release,
        sim: Some(sim),
        state_dir,
        journal,
    })
}
