//! The runbook's emergency procedures as a diagnosis: health, recent releases, error rate, database
//! connection pool, slow queries, size, locks and resource use, each with the recommended action.
//!
//! ```text
//! cargo run --example doctor                                   # the embedded default: the simulator
//! cargo run --example doctor -- --demo-bad-release             # ... after a release that fails requests
//! cargo run --example doctor -- --database-url "$DATABASE_URL" --health-url https://api.example.com/health \
//!     --journal .runway/journal.jsonl --json
//! ```
//!
//! Without `--database-url` the database checks are skipped (the embedded default's SQLite database has no
//! sessions, locks or connection limit to inspect). Exit code: 0 nothing critical (warnings allowed),
//! 1 critical findings, 2 usage or configuration error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use runway::diagnose::{Diagnosis, ReleaseHistory, Thresholds};
use runway_core::event::DeployEvent;
use runway_core::secrecy::SecretString;
use runway_core::{Clock, Event, EventPayload, ListUnits, LogScope, Platform, Release, ReleaseId};
use runway_health::HttpCheck;
use runway_rollout::FileJournal;
use runway_sim::{ReleaseProfile, SimPlatform};

#[derive(Parser, Debug)]
#[command(about = "Emergency diagnosis: Production Down, Database Issues, High Error Rate")]
struct Args {
    /// PostgreSQL to inspect (pg_stat_activity, pg_locks, pg_database_size).
    #[arg(long, env = "RUNWAY_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The health endpoint to check (the runbook's /health).
    #[arg(long)]
    health_url: Option<String>,
    /// Redis to check (Production Down 5: "check infrastructure (database, redis)").
    #[arg(long, env = "RUNWAY_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// A rollout journal file (JSON lines) for recent releases.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// Read recent releases from the database's journal table (runway_rollout_journal).
    #[arg(long, requires = "database_url", conflicts_with = "journal")]
    journal_table: bool,
    /// The environment whose releases count.
    #[arg(long, default_value = "production")]
    environment: String,
    /// A query running longer than this is slow.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    slow_query: Duration,
    /// ERROR lines per hour that make the error rate critical.
    #[arg(long, default_value_t = 50)]
    error_threshold: usize,
    /// The database volume's size in GB, to judge disk headroom.
    #[arg(long)]
    disk_limit_gb: Option<f64>,
    /// Look at sessions of every database on the server.
    #[arg(long)]
    all_databases: bool,
    /// Embedded default only: simulate a release that fails half its requests, ten minutes ago.
    #[arg(long)]
    demo_bad_release: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    runway_migrate::parse_duration(s)
        .ok_or_else(|| format!("not a duration: {s:?} (try 1s or 500ms)"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    // The embedded default runs the simulator in virtual time: a current-thread runtime whose clock is
    // paused, so "ten minutes of traffic" takes no time.
    let embedded =
        args.database_url.is_none() && args.health_url.is_none() && args.redis_url.is_none();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(embedded)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("doctor: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(args, embedded)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("doctor: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args, embedded: bool) -> anyhow::Result<ExitCode> {
    let mut thresholds = Thresholds::default()
        .with_slow_query(args.slow_query)
        .with_error_lines_per_hour(args.error_threshold)
        .with_all_databases(args.all_databases);
    if let Some(gb) = args.disk_limit_gb {
        anyhow::ensure!(
            gb > 0.0 && gb.is_finite(),
            "--disk-limit-gb must be positive"
        );
        thresholds = thresholds.with_disk_limit((gb * 1e9) as u64);
    }
    let mut b = Diagnosis::builder()
        .with_thresholds(thresholds)
        .with_environment(args.environment.clone());
    if let Some(url) = &args.database_url {
        if args.journal_table {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect_lazy(url)?;
            b = b.with_release_history(ReleaseHistory::Postgres(pool));
        }
        b = b.with_database_url(SecretString::from(url.clone()));
    }
    if let Some(url) = &args.health_url {
        b = b.with_health_check(Arc::new(
            HttpCheck::builder("health", url)
                .expect_health_response_lenient()
                .build()?,
        ));
    }
    if let Some(url) = &args.redis_url {
        let check = runway_health::RedisCheck::new("redis", &SecretString::from(url.clone()))?;
        b = b.with_health_check(Arc::new(check));
    }
    if let Some(path) = &args.journal {
        b = b.with_release_history(ReleaseHistory::File(FileJournal::new(path)));
    }
    if embedded {
        let (sim, events) = simulated(args.demo_bad_release, &args.environment).await?;
        let sim = Arc::new(sim);
        b = b
            .with_logs(
                sim.clone(),
                LogScope::environment(args.environment.as_str()),
            )
            .with_fleet(sim.clone(), sim.clone(), args.environment.as_str())
            .with_metrics(sim.clone(), args.environment.as_str())
            .with_clock(Arc::new(sim.clock()));
        if args.journal.is_none() {
            b = b.with_release_history(ReleaseHistory::Events(events));
        }
        if !args.json {
            println!(
                "Embedded default: simulated {} (3 units). Database checks need --database-url.\n",
                args.environment
            );
        }
    }
    let report = b.build()?.run().await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(if report.healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The simulator after an hour on v1, optionally followed by a release of an erroring v2 ten minutes ago,
/// with the journal events such a rollout leaves.
async fn simulated(bad_release: bool, env: &str) -> anyhow::Result<(SimPlatform, Vec<Event>)> {
    let sim = SimPlatform::builder()
        .environment(env)
        .units(3)
        .initial_release("v1")
        .release(ReleaseProfile::healthy("v1").with_error_rate(0.0))
        .release(ReleaseProfile::healthy("v2").with_error_rate(0.5))
        .build();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    let mut events = Vec::new();
    if bad_release {
        let clock = sim.clock();
        let run = "demo-release-v2".to_owned();
        let started = clock.now();
        for u in sim.units(&env.into(), &ListUnits::default()).await? {
            sim.deploy(&u.id, &Release::new("v2"), &Default::default())
                .await?;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
        events.push(Event {
            seq: 0,
            at: started,
            run: Some(run.clone()),
            payload: EventPayload::Deploy(DeployEvent::RolloutStarted {
                environment: env.into(),
                release: ReleaseId::new("v2"),
                previous: Some(ReleaseId::new("v1")),
                units: 3,
                strategy: "rolling".into(),
            }),
        });
        events.push(Event {
            seq: 1,
            at: clock.now(),
            run: Some(run),
            payload: EventPayload::Deploy(DeployEvent::RolloutFinished {
                outcome: "succeeded".into(),
                units_by_release: sim.units_by_release(),
            }),
        });
        tokio::time::sleep(Duration::from_secs(540)).await;
    }
    Ok((sim, events))
}
