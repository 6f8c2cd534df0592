//! The runbook's quarterly restore test, as code: restore a backup into a scratch database, compare
//! every table's row count with the manifest, record the drill, drop the scratch copy. Optionally
//! restore into a named target behind the guard.
//!
//! ```text
//! cargo run --example restore-drill                               # newest demo SQLite backup
//! cargo run --example restore-drill -- --dir /var/backups/app \
//!     --drill-url postgres://postgres@127.0.0.1/postgres [--id backup_20260115_103000]
//! cargo run --example restore-drill -- --dir /var/backups/app --restore-to "$STAGING_URL" [--force] [--jobs 4]
//! ```
//!
//! With no backup in the folder, the demo SQLite database is backed up first. Exit code: 0 success,
//! 1 a failed drill or a refused restore, 2 usage or IO problems.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use runway_backup::{BackupId, Backups, Engine, LocalDir, PgUrl, RestoreOptions, VerifyLevel};
use runway_core::event::{BackupEvent, ChannelSink};
use runway_core::{Emitter, EventPayload};

#[derive(Parser, Debug)]
#[command(about = "Restore drill: prove a backup restores with the row counts it recorded")]
struct Args {
    /// Backup folder (default: the demo folder in the temp directory).
    #[arg(long, env = "RUNWAY_BACKUP_DIR")]
    dir: Option<PathBuf>,
    /// The backup to drill (default: the newest).
    #[arg(long)]
    id: Option<BackupId>,
    /// Admin URL of the server where the scratch database is created (PostgreSQL backups).
    #[arg(long, env = "RUNWAY_BACKUP_DRILL_URL", hide_env_values = true)]
    drill_url: Option<String>,
    /// Parallel pg_restore jobs for the drill.
    #[arg(long, default_value_t = 1)]
    jobs: u32,
    /// After the drill, restore into this database URL (PostgreSQL) or file path (SQLite).
    #[arg(long, hide_env_values = true)]
    restore_to: Option<String>,
    /// Allow restoring into a non-empty target.
    #[arg(long, requires = "restore_to")]
    force: bool,
    /// Machine output: the drill (and restore) result as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("restore-drill: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let demo = std::env::temp_dir().join("runway-demo");
    let dir = args.dir.clone().unwrap_or_else(|| demo.join("backups"));
    let events = ChannelSink::new(1024);
    let bar = progress(&events);
    let mut builder = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(&dir)))
        .with_emitter(Emitter::new(Arc::new(events)))
        .with_drill_jobs(args.jobs);
    if let Some(u) = &args.drill_url {
        builder = builder.with_drill_server(PgUrl::parse(u)?);
    }
    let backups = builder.build()?;

    let id = match args.id {
        Some(id) => id,
        None => match backups
            .list()
            .await?
            .into_iter()
            .find(|r| r.manifest.is_some())
        {
            Some(r) => r.id,
            None => {
                let db = demo.join("app.db");
                std::fs::create_dir_all(&demo)?;
                runway_backup::demo::create_sqlite(&db, 20_000).await?;
                backups.backup_sqlite(&db).await?.id
            }
        },
    };
    let manifest = backups.manifest(id).await?;
    bar.set_message(format!("drilling {id}"));
    let report = backups.verify(id, VerifyLevel::Drill).await;
    bar.finish_and_clear();
    match report {
        Ok(r) => {
            let d = r.drill.expect("a drill report");
            if args.json && args.restore_to.is_none() {
                println!(
                    "{}",
                    serde_json::json!({
                        "id": id.to_string(), "drill": "passed", "tables": d.tables, "rows": d.rows,
                        "restore_ms": d.restore.as_millis() as u64, "drill_ms": d.total.as_millis() as u64,
                    })
                );
            } else if !args.json {
                println!(
                    "{id}: drill passed: {} tables, {} rows equal to the manifest; restore {} ms, drill {} ms",
                    d.tables,
                    d.rows,
                    d.restore.as_millis(),
                    d.total.as_millis()
                );
            }
        }
        Err(e) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "id": id.to_string(), "drill": "failed", "error": e.to_string() })
                );
            }
            eprintln!("{id}: drill failed: {e}");
            return Ok(ExitCode::from(1));
        }
    }

    if let Some(target) = &args.restore_to {
        let opts = RestoreOptions::new()
            .with_allow_non_empty(args.force)
            .with_jobs(args.jobs);
        let restored = match manifest.engine {
            Engine::Postgres => {
                backups
                    .restore_postgres(id, &PgUrl::parse(target)?, &opts)
                    .await
            }
            Engine::Sqlite => backups.restore_sqlite(id, target.as_ref(), &opts).await,
        };
        match restored {
            Ok(r) if args.json => println!(
                "{}",
                serde_json::json!({
                    "id": id.to_string(), "drill": "passed", "restored_into": r.target.to_string(),
                    "restore_ms": r.duration.as_millis() as u64,
                })
            ),
            Ok(r) => println!(
                "restored {id} into {} in {} ms",
                r.target,
                r.duration.as_millis()
            ),
            Err(e) => {
                eprintln!("restore refused or failed: {e}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar fed by the backup events.
fn progress(events: &ChannelSink) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {bytes}/{total_bytes}")
            .expect("valid template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut rx = events.subscribe();
    let b = bar.clone();
    tokio::spawn(async move {
        while let Ok(ev) = rx.recv().await {
            match ev.payload {
                EventPayload::Backup(BackupEvent::ReadProgress { bytes, total, .. }) => {
                    b.set_length(total);
                    b.set_position(bytes);
                }
                EventPayload::Backup(BackupEvent::Verified { level, ok, .. }) => {
                    b.println(format!("  {level}: {}", if ok { "ok" } else { "FAILED" }));
                }
                _ => {}
            }
        }
    });
    bar
}
