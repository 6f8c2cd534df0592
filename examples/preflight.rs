//! The pre-deployment checklist on an application repository.
//!
//! ```text
//! cargo run --example preflight                                   # the current directory
//! cargo run --example preflight -- path/to/app --json
//! cargo run --example preflight -- path/to/app --environment production \
//!     --target-vars prod.env --backup-dir /var/backups/app --backup-max-age 24h
//! ```
//!
//! `--target-vars` reads the target's variables from a dotenv file (for example `railway variables --kv >
//! prod.env`); only names and fingerprints are printed. Exit code: 0 nothing blocks (warnings allowed),
//! 1 blocking findings, 2 usage or configuration error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use runway::preflight::Preflight;
use runway_backup::{Backups, LocalDir};
use runway_core::{EnvironmentKind, SetOptions, VariableScope, VariableStore, Variables};

#[derive(Parser, Debug)]
#[command(
    about = "Pre-deployment checklist: env vars, migrations, pinned dependencies, secrets, debug statements, backup"
)]
struct Args {
    /// The application repository.
    #[arg(default_value = ".")]
    repo: PathBuf,
    /// The target environment (its kind is guessed from the name unless --kind is given).
    #[arg(long, default_value = "staging")]
    environment: String,
    /// The target's kind: production, staging or other.
    #[arg(long, value_parser = ["production", "staging", "other"])]
    kind: Option<String>,
    /// A dotenv file with the target's variables, compared against .env.example.
    #[arg(long, value_name = "FILE")]
    target_vars: Option<PathBuf>,
    /// A local backup folder to check for a fresh verified backup.
    #[arg(long, env = "RUNWAY_BACKUP_DIR")]
    backup_dir: Option<PathBuf>,
    /// The oldest acceptable verified backup (`24h`, `90min`).
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    backup_max_age: std::time::Duration,
    /// The SQL migrations folder, relative to the repository.
    #[arg(long)]
    migrations: Option<String>,
    /// Skip the migration safety linter (downgrades are still checked).
    #[arg(long)]
    no_lint: bool,
    /// Extra gitignore-style patterns to skip.
    #[arg(long = "ignore", value_name = "PATTERN")]
    ignores: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    runway_migrate::parse_duration(s)
        .ok_or_else(|| format!("not a duration: {s:?} (try 24h or 90min)"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("preflight: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let kind = match args.kind.as_deref() {
        Some("production") => EnvironmentKind::Production,
        Some("staging") => EnvironmentKind::Staging,
        Some(_) => EnvironmentKind::Other,
        None => EnvironmentKind::from_name(&args.environment),
    };
    let mut pf = Preflight::new(&args.repo)
        .with_environment_kind(kind)
        .with_lint(!args.no_lint);
    if let Some(dir) = args.migrations {
        pf = pf.with_migrations_dir(dir);
    }
    for p in args.ignores {
        pf = pf.with_ignore(p);
    }
    if let Some(file) = &args.target_vars {
        // An in-memory store holding the file's variables (the simulator's variable store).
        let text = std::fs::read_to_string(file)?;
        let mut vars = Variables::new();
        for item in dotenvy_iter(&text)? {
            vars.insert(item.0, item.1.into());
        }
        let store = Arc::new(
            runway_sim::SimPlatform::builder()
                .environment(&args.environment)
                .build(),
        );
        let scope = VariableScope::environment(args.environment.as_str());
        store.set_many(&scope, vars, &SetOptions::default()).await?;
        pf = pf.with_variables(store, scope);
    }
    if let Some(dir) = args.backup_dir {
        let backups = Backups::builder()
            .with_storage(Arc::new(LocalDir::new(dir)))
            .build()?;
        pf = pf.with_backups(backups, args.backup_max_age);
    }
    let report = pf.build()?.run().await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `NAME=value` pairs of a dotenv file (values are secrets: never printed).
fn dotenvy_iter(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let example = runway_core::EnvExample::parse(text)?;
    Ok(example.entries)
}
