//! Take a backup (PostgreSQL with `pg_dump`, or the demo SQLite database), verify it, and optionally
//! plan retention or check the release gate.
//!
//! ```text
//! cargo run --example backup                                   # demo SQLite database, drill-verified
//! cargo run --example backup -- --database-url "$DATABASE_URL" --dir /var/backups/app \
//!     --verify drill --drill-url postgres://postgres@127.0.0.1/postgres
//! cargo run --example backup -- --dir /var/backups/app --no-backup --retain --daily 7 --weekly 4 --monthly 6
//! cargo run --example backup -- --dir /var/backups/app --no-backup --gate-hours 24
//! ```
//!
//! Exit code: 0 success, 1 a failed verification or gate, 2 usage or IO problems.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use runway_backup::{Backups, LocalDir, PgUrl, RetentionMode, RetentionPolicy, VerifyLevel};
use runway_core::event::{BackupEvent, ChannelSink};
use runway_core::{Emitter, EventPayload};

#[derive(Parser, Debug)]
#[command(about = "Back up a database into a folder, verify it, expire old backups")]
struct Args {
    /// PostgreSQL source; without it the demo SQLite database is backed up.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Backup folder (default: a demo folder in the temp directory).
    #[arg(long, env = "RUNWAY_BACKUP_DIR")]
    dir: Option<PathBuf>,
    /// How far to verify the new backup.
    #[arg(long, value_enum, default_value = "drill")]
    verify: Level,
    /// Admin URL of the server for PostgreSQL restore drills (default: the source's server).
    #[arg(long, env = "RUNWAY_BACKUP_DRILL_URL", hide_env_values = true)]
    drill_url: Option<String>,
    /// Only list, plan retention or check the gate.
    #[arg(long)]
    no_backup: bool,
    /// Plan retention (a dry run unless --delete).
    #[arg(long)]
    retain: bool,
    /// Keep the newest backup of each of the last N days.
    #[arg(long, default_value_t = 7)]
    daily: u32,
    /// Keep the newest backup of each of the last N weeks.
    #[arg(long, default_value_t = 4)]
    weekly: u32,
    /// Keep the newest backup of each of the last N months.
    #[arg(long, default_value_t = 6)]
    monthly: u32,
    /// Really delete what retention plans to delete.
    #[arg(long, requires = "retain")]
    delete: bool,
    /// Fail unless the newest verified backup is younger than this many hours.
    #[arg(long)]
    gate_hours: Option<u64>,
    /// Machine output: one JSON object (manifest, verification, backups, retention, gate) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Level {
    None,
    Checksum,
    Listing,
    Drill,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("backup: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut out = serde_json::Map::new();
    let code = run_into(&args, &mut out).await?;
    if args.json {
        println!("{}", serde_json::Value::Object(out));
    }
    Ok(code)
}

/// Prints text unless `--json`.
macro_rules! say {
    ($args:expr, $($t:tt)*) => {
        if !$args.json {
            println!($($t)*);
        }
    };
}

async fn run_into(
    args: &Args,
    out: &mut serde_json::Map<String, serde_json::Value>,
) -> anyhow::Result<ExitCode> {
    let demo = std::env::temp_dir().join("runway-demo");
    let dir = args.dir.clone().unwrap_or_else(|| demo.join("backups"));
    let events = ChannelSink::new(1024);
    let bar = progress(&events);
    let mut builder = Backups::builder()
        .with_storage(Arc::new(LocalDir::new(&dir)))
        .with_emitter(Emitter::new(Arc::new(events)));
    let source = args.database_url.as_deref().map(PgUrl::parse).transpose()?;
    let drill = match (&args.drill_url, &source) {
        (Some(u), _) => Some(PgUrl::parse(u)?),
        (None, Some(s)) => Some(s.with_database("postgres")),
        _ => None,
    };
    if let Some(d) = drill {
        builder = builder.with_drill_server(d);
    }
    let backups = builder.build()?;

    if !args.no_backup {
        let manifest = match &source {
            Some(url) => backups.backup_postgres(url).await?,
            None => {
                let db = demo.join("app.db");
                if !db.exists() {
                    std::fs::create_dir_all(&demo)?;
                    runway_backup::demo::create_sqlite(&db, 20_000).await?;
                }
                backups.backup_sqlite(&db).await?
            }
        };
        bar.finish_and_clear();
        out.insert("manifest".into(), serde_json::to_value(&manifest)?);
        say!(
            args,
            "{}  {} bytes  sha256 {}  {} tables, {} rows  in {} ms  -> {}",
            manifest.id,
            manifest.size,
            &manifest.sha256[..16],
            manifest.tables.len(),
            manifest.tables.values().sum::<u64>(),
            manifest.duration_ms,
            dir.display()
        );
        let level = match args.verify {
            Level::None => None,
            Level::Checksum => Some(VerifyLevel::Checksum),
            Level::Listing => Some(VerifyLevel::Listing),
            Level::Drill => Some(VerifyLevel::Drill),
        };
        if let Some(level) = level {
            match backups.verify(manifest.id, level).await {
                Ok(r) => {
                    out.insert(
                        "verified".into(),
                        serde_json::json!({ "level": r.level.to_string(), "verified": r.verified }),
                    );
                    say!(
                        args,
                        "verified to {}{}",
                        r.level,
                        r.drill
                            .map(|d| format!(
                                ": drill restored {} tables / {} rows in {} ms",
                                d.tables,
                                d.rows,
                                d.restore.as_millis()
                            ))
                            .unwrap_or_default()
                    )
                }
                Err(e) => {
                    out.insert("verification_error".into(), e.to_string().into());
                    eprintln!("verification failed: {e}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }

    let mut listed = Vec::new();
    for r in backups.list().await? {
        let state = if r.is_verified() {
            "verified".to_string()
        } else {
            r.verified_level()
                .map_or("unverified".into(), |l| format!("{l} ok"))
        };
        say!(args, "  {}  {state}", r.id);
        listed.push(serde_json::json!({ "id": r.id.to_string(), "state": state }));
    }
    out.insert("backups".into(), listed.into());

    if args.retain {
        let policy = RetentionPolicy {
            keep_last: 1,
            daily: args.daily,
            weekly: args.weekly,
            monthly: args.monthly,
        };
        let mode = if args.delete {
            RetentionMode::Delete
        } else {
            RetentionMode::DryRun
        };
        let plan = backups.enforce_retention(&policy, mode).await?;
        out.insert(
            "retention".into(),
            serde_json::json!({
                "keep": plan.keep.iter().map(|(id, why)| (id.to_string(), format!("{why:?}"))).collect::<Vec<_>>(),
                "delete": plan.delete.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
                "deleted": args.delete,
            }),
        );
        for (id, why) in &plan.keep {
            say!(args, "keep    {id}  {why:?}");
        }
        let verb = if args.delete {
            "deleted"
        } else {
            "would delete"
        };
        for id in &plan.delete {
            say!(args, "{verb}  {id}");
        }
    }

    if let Some(hours) = args.gate_hours {
        let outcome = backups
            .freshness_gate(Duration::from_secs(hours * 3600))
            .await?;
        out.insert(
            "gate".into(),
            serde_json::json!({ "passed": outcome.passed(), "detail": outcome.to_string() }),
        );
        say!(args, "gate {outcome}");
        if !outcome.passed() {
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar fed by the backup events.
fn progress(events: &ChannelSink) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {bytes} ({binary_bytes_per_sec})")
            .expect("valid template"),
    );
    let mut rx = events.subscribe();
    let b = bar.clone();
    tokio::spawn(async move {
        while let Ok(ev) = rx.recv().await {
            if let EventPayload::Backup(e) = ev.payload {
                match e {
                    BackupEvent::Started { id } => b.set_message(format!("writing {id}")),
                    BackupEvent::Progress { bytes, .. } => b.set_position(bytes),
                    BackupEvent::ReadProgress { id, bytes, total } => {
                        b.set_message(format!("reading {id}"));
                        b.set_length(total);
                        b.set_position(bytes);
                    }
                    BackupEvent::Completed { .. } => b.set_message("done"),
                    _ => {}
                }
                b.tick();
            }
        }
    });
    bar
}
