//! Post-deploy verification: immediate checks, then a monitoring window against the runbook's thresholds.
//!
//! Without `--url` it runs against the built-in simulator: three units move from v1 to v2 (whose error
//! rate and latency you choose), then a 15-minute window is verified in simulated time (instant).
//!
//! ```text
//! cargo run --example verify                                 # healthy v2: pass
//! cargo run --example verify -- --error-rate 0.03            # 3 % 5xx: fail
//! cargo run --example verify -- --p50-ms 300 --p99-ms 2000   # slow: fail on p95
//! cargo run --example verify -- --url https://api.yourapp.com --ping-path /api/v1/ping
//! ```
//!
//! Exit code: 0 pass, 1 inconclusive, 2 fail.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use runway_core::{
    Clock, DeployOptions, ListUnits, LogScope, LogSource, MetricsSource, Platform, Release,
};
use runway_health::verify::{
    ErrorSpike, MonitorPlan, Thresholds, Verdict, Verification, VerifyScope,
};
use runway_sim::{ReleaseProfile, SimPlatform};

#[derive(Debug, Parser)]
#[command(about = "Verify a deployment: immediate checks and an SLO monitoring window")]
struct Args {
    /// Verify a live service at this base URL (immediate checks only) instead of the simulator.
    #[arg(long)]
    url: Option<String>,
    /// Health path (must answer 200).
    #[arg(long, default_value = "/health")]
    health_path: String,
    /// Ping path (must answer 2xx).
    #[arg(long, default_value = "/api/v1/ping")]
    ping_path: String,
    /// Simulator: v2's share of 5xx responses.
    #[arg(long, default_value_t = 0.001)]
    error_rate: f64,
    /// Simulator: v2's median latency (ms).
    #[arg(long, default_value_t = 80.0)]
    p50_ms: f64,
    /// Simulator: v2's 99th percentile latency (ms).
    #[arg(long, default_value_t = 300.0)]
    p99_ms: f64,
    /// Monitoring window (seconds).
    #[arg(long, default_value_t = 900)]
    window_secs: u64,
    /// Minimum requests before a verdict.
    #[arg(long, default_value_t = 100)]
    min_samples: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn exit(verdict: Verdict) -> ExitCode {
    ExitCode::from(match verdict {
        Verdict::Pass => 0,
        Verdict::Inconclusive => 1,
        Verdict::Fail => 2,
    })
}

async fn against_url(args: &Args, base: &str) -> anyhow::Result<Verdict> {
    let base = base.trim_end_matches('/');
    let v = Verification::builder()
        .with_health_url(format!("{base}{}", args.health_path))
        .with_ping_url(format!("{base}{}", args.ping_path))
        .build()?;
    let report = v
        .run(&VerifyScope::new("production", chrono::Utc::now()))
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for c in &report.immediate.checks.components {
            println!(
                "{:<8} {:<5} {}",
                c.name,
                c.status.as_str(),
                c.output().unwrap_or_default()
            );
        }
        println!("verdict: {} ({})", report.verdict.as_str(), report.reason);
    }
    Ok(report.verdict)
}

async fn against_sim(args: &Args) -> anyhow::Result<Verdict> {
    let sim = SimPlatform::builder()
        .units(3)
        .initial_release("v1")
        .release(
            ReleaseProfile::healthy("v2")
                .with_error_rate(args.error_rate)
                .with_latency_ms(args.p50_ms, args.p99_ms),
        )
        .build();
    let env = "production".into();
    let units = sim.units(&env, &ListUnits::default()).await?;
    for u in &units {
        sim.deploy(&u.id, &Release::new("v2"), &DeployOptions::default())
            .await?;
    }
    tokio::time::sleep(Duration::from_secs(120)).await; // start + ready, in simulated time
    let deployed_at = sim.clock().now();
    let metrics: Arc<dyn MetricsSource> = Arc::new(sim.clone());
    let logs: Arc<dyn LogSource> = Arc::new(sim.clone());
    let v = Verification::builder()
        .with_metrics(metrics)
        .with_error_spike(logs, ErrorSpike::new(LogScope::environment("production")))
        .with_plan(MonitorPlan {
            window: Duration::from_secs(args.window_secs),
            interval: Duration::from_secs(30),
            thresholds: Thresholds::default().with_min_samples(args.min_samples),
        })
        .with_clock(Arc::new(sim.clock()))
        .build()?;
    let scope = VerifyScope::new("production", deployed_at).with_release("v2");
    let report = v.run(&scope).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        if let Some(e) = &report.immediate.errors {
            println!(
                "log errors: {} before deploy, {} since (spike: {})",
                e.before, e.after, e.spike
            );
        }
        if let Some(m) = &report.monitoring {
            println!("{} requests in the window", m.samples);
            for c in &m.criteria {
                println!("  {:<8} {c}", format!("{:?}", c.outcome).to_lowercase());
            }
        }
        println!("verdict: {} ({})", report.verdict.as_str(), report.reason);
    }
    Ok(report.verdict)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut rt = tokio::runtime::Builder::new_current_thread();
    rt.enable_all();
    if args.url.is_none() {
        // The simulator runs on tokio time: pause it so the monitoring window passes instantly.
        rt.start_paused(true);
    }
    let rt = match rt.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("verify: {e}");
            return ExitCode::from(2);
        }
    };
    let out = rt.block_on(async {
        match &args.url {
            Some(base) => against_url(&args, base).await,
            None => against_sim(&args).await,
        }
    });
    match out {
        Ok(v) => exit(v),
        Err(e) => {
            eprintln!("verify: {e}");
            ExitCode::from(2)
        }
    }
}
