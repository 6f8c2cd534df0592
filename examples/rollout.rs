//! The rollout engine alone (the `deploy` example runs the whole release around it): roll a simulated
//! fleet from v1 to v2 on paused time with any strategy, showing units and batches as they move;
//! `--bad-release` makes v2 unhealthy so the automatic rollback shows, `--plan` prints the dry run.
//!
//! ```text
//! cargo run --example rollout -- [--units N] [--strategy one-at-a-time|rolling[:S:U]|canary|blue-green]
//!                                [--bad-release] [--json] [--plan]
//! ```

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use runway_core::{EventSink, Release};
use runway_rollout::{
    FileJournal, FileLock, HealthGate, JsonLinesSink, ProgressSink, Rollout, RolloutConfig,
    Strategy,
};
use runway_sim::{ReleaseProfile, SimPlatform};

#[derive(Parser, Debug)]
#[command(about = "Simulated rolling deploy with health gates and automatic rollback")]
struct Args {
    /// Units in the fleet.
    #[arg(long, default_value_t = 3)]
    units: usize,
    /// Make v2 fail its health checks.
    #[arg(long)]
    bad_release: bool,
    /// Print events as JSON lines instead of progress bars.
    #[arg(long)]
    json: bool,
    /// one-at-a-time, rolling[:SURGE:UNAVAILABLE], canary or blue-green.
    #[arg(long, default_value = "one-at-a-time")]
    strategy: Strategy,
    /// Print the dry-run plan and exit.
    #[arg(long)]
    plan: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The simulator runs on tokio time: a paused clock makes minutes of rollout take milliseconds.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()?;
    rt.block_on(async move {
        let v2 = if args.bad_release {
            ReleaseProfile::unhealthy("v2")
        } else {
            ReleaseProfile::healthy("v2")
        };
        let sim = SimPlatform::builder()
            .seed(7)
            .environment("production")
            .service("api")
            .units(args.units)
            .initial_release("v1")
            .start_time(Duration::from_secs(20))
            .ready_time(Duration::from_secs(10))
            .release(v2)
            .build();
        let dir = std::env::temp_dir().join("runway-deploy-example");
        let sink: Arc<dyn EventSink> = if args.json {
            Arc::new(JsonLinesSink)
        } else {
            Arc::new(ProgressSink::new().with_pace(Duration::from_millis(60)))
        };
        let gate = HealthGate::default()
            .with_period(Duration::from_secs(2))
            .with_min_ready(Duration::from_secs(10));
        let rollout = Rollout::builder()
            .with_platform(Arc::new(sim.clone()))
            .with_probe(Arc::new(sim.clone()))
            .with_clock(Arc::new(sim.clock()))
            .with_environment("production")
            .with_service("api")
            .with_release(
                Release::new("v2").with_message("feat(webhooks): add subscription endpoints"),
            )
            .with_config(
                RolloutConfig::default()
                    .with_strategy(args.strategy)
                    .with_gate(gate),
            )
            .with_journal(Arc::new(FileJournal::new(dir.join("journal.jsonl"))))
            .with_lock(Arc::new(FileLock::new(&dir)))
            .with_sink(sink)
            .build()?;
        if args.plan {
            print!("{}", rollout.plan(Duration::from_secs(30)).await?);
            return Ok(());
        }
        let report = rollout.run().await?;
        if !args.json {
            println!(
                "{} in {}s (virtual): {}",
                report.run,
                report.duration.as_secs(),
                report.outcome
            );
        }
        Ok(())
    })
}
