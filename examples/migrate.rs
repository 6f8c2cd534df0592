//! Apply, revert and inspect migrations (the runbook's `alembic upgrade head` / `alembic current`).
//!
//! ```text
//! cargo run --example migrate -- status                  # demo: a local SQLite file + examples/migrations-sqlite
//! cargo run --example migrate -- up
//! cargo run --example migrate -- down --steps 2
//! cargo run --example migrate -- plan                    # the exact SQL `up` would run, nothing written
//! cargo run --example migrate -- --database-url "$DATABASE_URL" --dir examples/migrations up --to 3
//! ```
//!
//! With `--database-url postgres://...` and no `--dir`, the PostgreSQL demo folder `examples/migrations` is used.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use runway_core::Emitter;
use runway_migrate::{
    ConsoleProgress, DownTarget, HistoryTable, MigrationSource, MigrationTarget, Migrator,
    PostgresTarget, Request, Resolution, SqliteTarget,
};

#[derive(Parser)]
#[command(about = "Run database migrations (PostgreSQL, or a local SQLite demo by default)")]
struct Cli {
    /// postgres://... or sqlite://path; without it, a SQLite file in the temp folder.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The migrations folder (`<version>_<name>.up.sql` / `.down.sql`).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// History table (`name` or `schema.name`).
    #[arg(long, default_value = "runway_migrations")]
    table: String,
    /// Allow pending migrations older than the newest applied one.
    #[arg(long)]
    out_of_order: bool,
    /// Machine output: every migration event as a JSON line, then the result as one JSON object.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations (all, or up to --to).
    Up {
        #[arg(long)]
        to: Option<i64>,
    },
    /// Revert migrations (--steps N, default 1, or --to V).
    Down {
        #[arg(long, conflicts_with = "to")]
        steps: Option<usize>,
        #[arg(long)]
        to: Option<i64>,
    },
    /// Show every migration and where it stands.
    Status,
    /// Print the exact SQL `up` (or `down` with --down) would run, without writing anything.
    Plan {
        #[arg(long)]
        down: bool,
        #[arg(long)]
        steps: Option<usize>,
    },
    /// Record migrations up to VERSION as applied without running them.
    Baseline { version: i64 },
    /// Accept the edited file of an applied migration.
    Accept { version: i64 },
    /// Clear a dirty record after repairing the schema by hand.
    Resolve {
        version: i64,
        /// What the schema now is: `applied` or `reverted`.
        #[arg(long = "as", value_parser = ["applied", "reverted"])]
        resolution: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let table = HistoryTable::parse(&cli.table)?;
    let (target, default_dir): (Arc<dyn MigrationTarget>, _) = match cli.database_url.as_deref() {
        Some(url) if url.starts_with("postgres") => (
            Arc::new(PostgresTarget::new(&url.to_string().into())?.with_table(table)),
            root.join("migrations"),
        ),
        Some(url) => (
            Arc::new(SqliteTarget::from_url(url)?.with_table(table)),
            root.join("migrations-sqlite"),
        ),
        None => {
            let file = std::env::temp_dir().join("runway-migrate-demo.sqlite");
            eprintln!(
                "no --database-url: using the demo SQLite database {}",
                file.display()
            );
            (
                Arc::new(SqliteTarget::new(file)?.with_table(table)),
                root.join("migrations-sqlite"),
            )
        }
    };
    let source = MigrationSource::from_dir(cli.dir.unwrap_or(default_dir))?;
    let migrator = Migrator::with_shared(Arc::new(source), target)
        .with_out_of_order(cli.out_of_order)
        .with_emitter(if cli.json {
            Emitter::new(Arc::new(runway_rollout::JsonLinesSink))
        } else {
            Emitter::new(Arc::new(ConsoleProgress))
        });
    let json = cli.json;
    let report = |r: runway_migrate::Report| {
        if json {
            println!("{}", serde_json::json!({ "applied": r.versions }));
        }
    };

    match cli.command {
        Command::Up { to } => report(migrator.run(Request::Up { to }).await?),
        Command::Down { steps, to } => {
            let target = to.map_or(DownTarget::Steps(steps.unwrap_or(1)), DownTarget::To);
            report(migrator.run(Request::Down(target)).await?)
        }
        Command::Status if json => {
            let status = migrator.status().await?;
            let entries: Vec<_> = status
                .entries
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "version": e.version,
                        "name": e.name,
                        "state": e.state.as_str(),
                        "applied_at": e.applied.as_ref().map(|a| a.applied_at.to_rfc3339()),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::json!({ "current": status.current(), "pending": status.pending(), "migrations": entries })
            );
        }
        Command::Status => {
            let status = migrator.status().await?;
            for e in &status.entries {
                let at = e
                    .applied
                    .as_ref()
                    .map(|a| a.applied_at.to_rfc3339())
                    .unwrap_or_default();
                println!(
                    "{:>6}  {:<32} {:<24} {at}",
                    e.version,
                    e.name,
                    e.state.as_str()
                );
            }
            let current = status.current().map_or("none".into(), |v| v.to_string());
            println!("current: {current}; pending: {}", status.pending().len());
        }
        Command::Plan { down, steps } => {
            let request = if down {
                Request::Down(DownTarget::Steps(steps.unwrap_or(1)))
            } else {
                Request::Up { to: None }
            };
            let plan = migrator.plan(&request).await?;
            if json {
                println!("{}", serde_json::json!({ "sql": plan.to_sql() }));
            } else {
                print!("{plan}");
            }
        }
        Command::Baseline { version } => report(migrator.baseline(version).await?),
        Command::Accept { version } => report(migrator.accept(version).await?),
        Command::Resolve {
            version,
            resolution,
        } => {
            let r = if resolution == "applied" {
                Resolution::Applied
            } else {
                Resolution::Reverted
            };
            report(migrator.resolve(version, r).await?)
        }
    }
    Ok(())
}
