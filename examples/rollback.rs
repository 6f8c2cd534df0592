//! Manual rollback with the runbook's decision tree.
//!
//! Describe the issue; critical issues (the app won't start, the database connection fails, 50%+ of requests
//! failing, a security vulnerability, data corruption) roll back now, and so does a non-critical one that
//! cannot be fixed within the hotfix window. Otherwise the decision is "deploy a hotfix within the window".
//!
//! On the embedded default the fleet is simulated: it first runs `--from` (deployed over `--to`), then the
//! rollback takes it back to `--to`, one unit at a time behind the load balancer.
//!
//! ```text
//! cargo run --example rollback -- --issue wont-start
//! cargo run --example rollback -- --issue single-endpoint --fix-minutes 3
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use runway_core::{EnvironmentId, Release};
use runway_rollout::{Decision, HealthGate, Issue, IssueKind, Rollout, RolloutConfig};
use runway_sim::SimPlatform;

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    WontStart,
    DatabaseConnection,
    RequestsFailing,
    SecurityVulnerability,
    DataCorruption,
    SingleEndpoint,
    MinorUiBug,
    PerformanceDegradation,
}

/// Decide whether to roll back, and do it.
#[derive(Parser)]
struct Args {
    /// What is wrong.
    #[arg(long, value_enum)]
    issue: Kind,
    /// How long a fix would take, in minutes (non-critical issues).
    #[arg(long)]
    fix_minutes: Option<u64>,
    /// The hotfix window, in minutes (the runbook says 5).
    #[arg(long, default_value_t = 5)]
    window_minutes: u64,
    /// The release running now.
    #[arg(long, default_value = "v1.1")]
    from: String,
    /// The release to go back to.
    #[arg(long, default_value = "v1.0")]
    to: String,
    /// Machine output: the decision and the rollback report as one JSON object.
    #[arg(long)]
    json: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let kind = match args.issue {
        Kind::WontStart => IssueKind::WontStart,
        Kind::DatabaseConnection => IssueKind::DatabaseConnection,
        Kind::RequestsFailing => IssueKind::RequestsFailing,
        Kind::SecurityVulnerability => IssueKind::SecurityVulnerability,
        Kind::DataCorruption => IssueKind::DataCorruption,
        Kind::SingleEndpoint => IssueKind::SingleEndpoint,
        Kind::MinorUiBug => IssueKind::MinorUiBug,
        Kind::PerformanceDegradation => IssueKind::PerformanceDegradation,
    };
    let mut issue = Issue::new(kind, "reported by the operator");
    if let Some(m) = args.fix_minutes {
        issue = issue.with_fix_estimate(Duration::from_secs(m * 60));
    }
    let window = Duration::from_secs(args.window_minutes * 60);
    let decision = issue.decide(window);
    if args.json && matches!(decision, Decision::Hotfix { .. }) {
        println!(
            "{}",
            serde_json::json!({ "issue": issue, "decision": decision })
        );
        return ExitCode::SUCCESS;
    }
    match decision {
        Decision::Hotfix { window } => {
            println!(
                "decision: deploy a hotfix within {}; roll back if it is not fixed by then",
                runway_core::human_duration(window)
            );
            return ExitCode::SUCCESS;
        }
        Decision::RollbackNow if !args.json => println!("decision: roll back now"),
        Decision::RollbackNow => {}
    }

    let sim = SimPlatform::builder()
        .units(3)
        .initial_release(args.to.clone())
        .start_time(Duration::from_millis(300))
        .ready_time(Duration::from_millis(300))
        .build();
    let env = EnvironmentId::new("production");
    let gate = HealthGate::default()
        .with_period(Duration::from_millis(100))
        .with_min_ready(Duration::from_millis(200));
    let config = RolloutConfig::default().with_gate(gate);
    let progress: Arc<dyn runway_core::EventSink> = if args.json {
        Arc::new(runway_core::event::NullSink)
    } else {
        Arc::new(runway::progress::Progress::new())
    };
    let rollout = |builder: runway_rollout::RolloutBuilder| {
        builder
            .with_platform(Arc::new(sim.clone()))
            .with_probe(Arc::new(sim.clone()))
            .with_environment(env.clone())
            .with_config(config.clone())
            .with_sink(progress.clone())
            .build()
    };
    // The simulated fleet first runs the release being rolled back.
    let Ok(forward) = rollout(Rollout::builder().with_release(Release::new(args.from.clone())))
    else {
        eprintln!("rollback: cannot set up the simulated fleet");
        return ExitCode::from(2);
    };
    if let Err(e) = forward.run().await {
        eprintln!("rollback: {e}");
        return ExitCode::from(2);
    }
    let back = match rollout(Rollout::builder().rollback_to(args.to.clone())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rollback: {e}");
            return ExitCode::from(2);
        }
    };
    match back.run().await {
        Ok(report) => {
            let fleet: Vec<String> = sim
                .units_by_release()
                .iter()
                .map(|(r, us)| format!("{r}: {} units", us.len()))
                .collect();
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "issue": issue, "decision": decision, "rollback": report })
                );
            } else {
                println!("\n{} ({})", report.outcome, fleet.join(", "));
            }
            // A manual rollback that completed ends "rolled back"; anything else left units behind.
            match report.outcome {
                runway_rollout::Outcome::RolledBack { .. } => ExitCode::SUCCESS,
                _ => ExitCode::from(1),
            }
        }
        Err(e) => {
            eprintln!("rollback: {e}");
            ExitCode::from(2)
        }
    }
}
