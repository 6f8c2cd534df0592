//! The runbook's log queries: errors in the last hour, and response time stats for an endpoint.
//!
//! ```text
//! cargo run --example logs                      # the simulator's log stream, after a bad release
//! cargo run --example logs --features aws -- --group /aws/ecs/yourapp-production [--insights] [--stats /api/v1/orders]
//! ```
//! Against AWS, region and credentials come from the usual AWS environment; `RUNWAY_AWS_ENDPOINT_URL`
//! points at an emulator (moto).

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use runway_core::{
    Clock, DeployOptions, ListUnits, LogQuery, LogScope, LogSource, Platform, Release, collect_logs,
};

#[derive(Parser, Debug)]
#[command(about = "Errors in the last hour, or response time stats (CloudWatch Logs Insights)")]
struct Args {
    /// CloudWatch log group (needs the `aws` feature); without it, the simulator.
    #[arg(long)]
    group: Option<String>,
    /// Run the error query through Logs Insights instead of FilterLogEvents.
    #[arg(long)]
    insights: bool,
    /// Response time stats (avg/max/min duration_ms) for this endpoint over the last hour (Insights).
    #[arg(long)]
    stats: Option<String>,
    /// At most this many lines.
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match args.group.clone() {
        Some(group) => aws(args, group),
        None => simulated(args),
    }
}

/// The simulator on paused time: v2 fails half its requests on one unit for ten minutes.
fn simulated(args: Args) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()?;
    rt.block_on(async move {
        let sim = runway_sim::SimPlatform::builder()
            .seed(7)
            .units(3)
            .initial_release("v1")
            .release(runway_sim::ReleaseProfile::unhealthy("v2"))
            .build();
        let units = sim
            .units(&"production".into(), &ListUnits::default())
            .await?;
        sim.deploy(&units[0].id, &Release::new("v2"), &DeployOptions::default())
            .await?;
        tokio::time::sleep(Duration::from_secs(600)).await;
        let source: Arc<dyn LogSource> = Arc::new(sim.clone());
        let now = sim.clock().now();
        if args.stats.is_some() || args.insights {
            anyhow::bail!("the simulator has no Logs Insights; use --group with the aws feature");
        }
        let query = LogQuery::errors_last_hour(LogScope::environment("production"), now)
            .with_limit(args.limit);
        print_errors(source.as_ref(), query).await
    })
}

async fn print_errors(source: &dyn LogSource, query: LogQuery) -> anyhow::Result<()> {
    let lines = collect_logs(source.query(&query).await?).await?;
    for e in &lines {
        println!(
            "{} {:<5} {:<10} {}",
            e.timestamp.to_rfc3339(),
            e.level,
            e.source.as_deref().unwrap_or("-"),
            e.message
        );
    }
    println!("{} error lines in the last hour", lines.len());
    Ok(())
}

#[cfg(feature = "aws")]
fn aws(args: Args, group: String) -> anyhow::Result<()> {
    use runway_core::{AggregateQuery, TimeRange};
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let config = runway_aws::AwsConfigBuilder::from_env().build().await?;
        let logs = runway_aws::CloudWatchLogs::new(&config);
        let scope = LogScope::group(group);
        let now = runway_core::SystemClock.now();
        if let Some(endpoint) = &args.stats {
            let q = AggregateQuery::response_time_stats(
                scope,
                TimeRange::last(Duration::from_secs(3600), now),
                endpoint,
            )?;
            for row in logs.aggregate(&q).await?.rows {
                println!("{}", serde_json::to_string(&row)?);
            }
            return Ok(());
        }
        if args.insights {
            let mut q = AggregateQuery::errors_last_hour(scope, now);
            q.limit = Some(args.limit);
            let result = logs.aggregate(&q).await?;
            for row in &result.rows {
                println!(
                    "{} {}",
                    row.get("@timestamp").map_or("-", String::as_str),
                    row.get("@message").map_or("", String::as_str)
                );
            }
            println!("{} rows", result.rows.len());
            return Ok(());
        }
        print_errors(
            &logs,
            LogQuery::errors_last_hour(scope, now).with_limit(args.limit),
        )
        .await
    })
}

#[cfg(not(feature = "aws"))]
fn aws(_args: Args, _group: String) -> anyhow::Result<()> {
    anyhow::bail!(
        "CloudWatch needs the aws feature: cargo run --example logs --features aws -- --group ..."
    )
}
