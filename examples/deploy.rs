//! The main job: the whole release procedure of the runbook.
//!
//! With no configuration it runs on the embedded default (a simulator with 3 units, SQLite with the
//! runbook's `users.phone` migrations, a local backup proven by a restore drill, console notifications).
//! `runway.toml` and `RUNWAY_*` variables switch each part to production.
//!
//! ```text
//! cargo run --example deploy                  # a good release
//! cargo run --example deploy -- --bad-release # a release that fails its health checks: automatic rollback
//! cargo run --example deploy -- --json        # the report as JSON
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use runway::config::Config;
use runway::progress::Progress;

/// Run a release: preflight, lock, backup, migrate, roll out, verify, notify.
#[derive(Parser)]
struct Args {
    /// Configuration file (default: runway.toml when present).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Deploy this version instead of the configured one.
    #[arg(long)]
    release: Option<String>,
    /// Simulator: the new release fails its health checks (shows the automatic rollback).
    #[arg(long)]
    bad_release: bool,
    /// Simulated units.
    #[arg(long)]
    units: Option<usize>,
    /// Strategy: one-at-a-time (default) or rolling.
    #[arg(long)]
    strategy: Option<String>,
    /// Run the pre-deployment checklist on this application repository first.
    #[arg(long)]
    preflight: Option<PathBuf>,
    /// Print the report as JSON instead of progress.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let path = args.config.clone().or_else(|| {
        let p = PathBuf::from("runway.toml");
        p.exists().then_some(p)
    });
    let mut config = match Config::load(path.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("deploy: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(r) = args.release {
        config.release.version = r;
    }
    if let Some(n) = args.units {
        config.platform.units = n;
    }
    if let Some(s) = args.strategy {
        config.rollout.strategy = s;
    }
    config.platform.bad_release |= args.bad_release;
    if let Some(repo) = args.preflight {
        // The simulated environment starts with the repository's `.env.<environment>`, when it has one.
        let env_file = repo.join(format!(".env.{}", config.environment.name));
        if config.platform.env_file.is_none() && env_file.exists() {
            config.platform.env_file = Some(env_file);
        }
        config.preflight.repo = Some(repo);
    }

    let sink: Arc<dyn runway_core::EventSink> = if args.json {
        Arc::new(runway_core::event::NullSink)
    } else {
        Arc::new(Progress::new())
    };
    let notifier: Option<Arc<dyn runway_core::Notifier>> = args
        .json
        .then(|| Arc::new(runway_notify::ConsoleNotifier::stderr()) as _);
    let assembled =
        match runway::assemble::assemble(&config, Config::database_url(), sink, notifier) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("deploy: {e}");
                return ExitCode::from(2);
            }
        };
    let report = assembled.release.run().await;
    // A picture of the rollout from its journal: units x time, release, health, rollback.
    let timeline = assembled.state_dir.join("timeline.svg");
    if let Ok(text) = std::fs::read_to_string(&assembled.journal)
        && let Ok(journal) = runway_rollout::decode_journal(&text)
    {
        let svg = runway::timeline::svg(&runway::timeline::last_run(&journal.events));
        let _ = std::fs::write(&timeline, svg);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serialises")
        );
    } else {
        println!(
            "\n{} in {} (journal: {}, timeline: {})",
            report.outcome.name(),
            runway_core::human_duration(report.duration),
            assembled.journal.display(),
            timeline.display()
        );
    }
    ExitCode::from(report.outcome.exit_code() as u8)
}
