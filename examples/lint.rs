//! Lint migration files or folders; optionally rehearse them on a scratch copy of a database.
//!
//! ```text
//! cargo run --features lint --example lint -- migrations/                 # text report
//! cargo run --features lint --example lint -- --sarif migrations/ > lint.sarif
//! cargo run --features lint --example lint -- --database-url "$DATABASE_URL" --rehearse migrations/
//! ```
//!
//! Exit code: 0 clean (warnings allowed), 1 lint errors or a failed rehearsal, 2 usage or IO problems.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use runway_core::secrecy::SecretString;
use runway_migrate::lint::{
    LintContext, Linter, MigrationSet, Rehearsal, render_json, render_sarif, render_text,
};

#[derive(Parser, Debug)]
#[command(about = "Migration safety linter (PostgreSQL)")]
struct Args {
    /// Migration files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long, conflicts_with = "sarif")]
    json: bool,
    /// Print SARIF 2.1.0.
    #[arg(long)]
    sarif: bool,
    /// Target database, for table size estimates (context-aware mode) and rehearsal.
    #[arg(long, env = "RUNWAY_LINT_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// History table whose `version` column lists applied migrations.
    #[arg(long, default_value = runway_migrate::lint::RUNNER_HISTORY_TABLE)]
    history_table: String,
    /// Rule ids to turn off.
    #[arg(long = "disable", value_name = "RULE")]
    disabled: Vec<String>,
    /// The runner sets lock_timeout itself.
    #[arg(long)]
    assume_lock_timeout: bool,
    /// Rehearse the migrations on a scratch copy of --database-url.
    #[arg(long, requires = "database_url")]
    rehearse: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lint: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let url = args.database_url.map(SecretString::from);
    let mut builder = Linter::builder().with_assume_lock_timeout(args.assume_lock_timeout);
    for r in &args.disabled {
        builder = builder.with_disabled_rule(r.clone());
    }
    if let Some(url) = &url {
        builder =
            builder.with_context(LintContext::from_database(url, Some(&args.history_table)).await?);
    }
    let report = builder.build()?.lint_paths(&args.paths)?;
    if args.json {
        println!("{}", render_json(&report));
    } else if args.sarif {
        println!("{}", render_sarif(&report));
    } else {
        print!("{}", render_text(&report));
    }
    let mut failed = report.has_errors();
    if let (true, Some(url)) = (args.rehearse, url) {
        let rehearsal = Rehearsal::builder(url)
            .build()?
            .run(MigrationSet::load(&args.paths)?.migrations())
            .await?;
        eprint!("{}", rehearsal.to_text());
        failed |= !rehearsal.downgrades_round_trip();
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
