//! Check a service's health: one or more URLs and/or configured PostgreSQL, Redis, queue and TCP checks.
//!
//! ```text
//! cargo run --example health -- https://api.yourapp.com/health
//! cargo run --example health -- --postgres "$DATABASE_URL" --redis "$REDIS_URL" --queue celery --json
//! ```
//!
//! URLs are fetched and, when the body is a health response (health+json or the runbook's shape), its
//! status counts too. Prints a table, or the report as JSON (`--json`, `--format runbook|health+json`).
//! `--detail` adds driver messages (credentials scrubbed; may name hosts). Exit code: 0 pass, 1 warn,
//! 2 fail (and 2 for usage errors), as monitoring plugins expect.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use runway_core::secrecy::SecretString;
use runway_health::{
    Exposure, HealthChecker, HttpCheck, PostgresCheck, QueueDepthCheck, RedisCheck, Report, Status,
    TcpCheck,
};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// `application/health+json`.
    HealthJson,
    /// The runbook's `{"status": "healthy", "checks": {...}}`.
    Runbook,
}

#[derive(Debug, Parser)]
#[command(about = "Check health: URLs, PostgreSQL, Redis, Celery queue depth, TCP ports")]
struct Args {
    /// URLs to check (each must answer 2xx/3xx; a health body's status counts).
    urls: Vec<String>,
    /// PostgreSQL URL: SELECT 1, connection use, long queries.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    postgres: Option<String>,
    /// Redis URL: PING and memory; also the broker for --queue.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    redis: Option<String>,
    /// Celery queue lists to measure on --redis (repeatable).
    #[arg(long)]
    queue: Vec<String>,
    /// Queue depth at which to warn.
    #[arg(long, default_value_t = 100)]
    queue_warn: u64,
    /// host:port to connect to (repeatable).
    #[arg(long)]
    tcp: Vec<String>,
    /// Warn when a URL takes at least this many milliseconds.
    #[arg(long, default_value_t = 500)]
    slow_ms: u64,
    /// Timeout of each check, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    timeout_ms: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// JSON shape.
    #[arg(long, value_enum, default_value = "health-json")]
    format: Format,
    /// Include driver messages (scrubbed of credentials; may name hosts).
    #[arg(long)]
    detail: bool,
}

fn build(args: &Args) -> anyhow::Result<HealthChecker> {
    let timeout = Duration::from_millis(args.timeout_ms);
    let mut b = HealthChecker::builder().with_probe_timeout(timeout + Duration::from_secs(1));
    for (i, url) in args.urls.iter().enumerate() {
        let name = if args.urls.len() == 1 {
            "http".to_owned()
        } else {
            format!("http-{}", i + 1)
        };
        b = b.with_check(
            HttpCheck::builder(name, url.clone())
                .expect_status_range(200..=399)
                .expect_health_response_lenient()
                .with_latency_warn(Duration::from_millis(args.slow_ms))
                .with_timeout(timeout)
                .build()?,
        );
    }
    if let Some(url) = &args.postgres {
        b = b.with_check(
            PostgresCheck::connect("database", &SecretString::from(url.clone()))?
                .with_timeout(timeout),
        );
    }
    if let Some(url) = &args.redis {
        let url = SecretString::from(url.clone());
        b = b.with_check(RedisCheck::new("redis", &url)?.with_timeout(timeout));
        if !args.queue.is_empty() {
            b = b.with_check(
                QueueDepthCheck::new("queue", &url)?
                    .with_queues(args.queue.clone())
                    .with_warn_at(args.queue_warn)
                    .with_timeout(timeout),
            );
        }
    } else if !args.queue.is_empty() {
        anyhow::bail!("--queue needs --redis (the Celery broker)");
    }
    for (i, addr) in args.tcp.iter().enumerate() {
        b = b.with_check(
            TcpCheck::new(format!("tcp-{}", i + 1), addr.clone()).with_timeout(timeout),
        );
    }
    let checker = b.build()?;
    if checker.names().is_empty() {
        anyhow::bail!("nothing to check: give a URL, --postgres, --redis or --tcp");
    }
    Ok(checker)
}

fn print_table(report: &Report, exposure: Exposure) {
    println!("{:<12} {:<6} {:>8}  output", "check", "status", "ms");
    for c in &report.components {
        let mut out = c.output().unwrap_or_default();
        if exposure == Exposure::Internal
            && let Some(d) = &c.detail
        {
            out = if out.is_empty() {
                d.clone()
            } else {
                format!("{out}: {d}")
            };
        }
        println!(
            "{:<12} {:<6} {:>8.1}  {}",
            c.name,
            c.status.as_str(),
            c.duration.as_secs_f64() * 1000.0,
            out
        );
    }
    println!("overall: {} (HTTP {})", report.status, report.http_status());
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let checker = match build(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("health: {e}");
            return ExitCode::from(2);
        }
    };
    let report = checker.report().await;
    let exposure = if args.detail {
        Exposure::Internal
    } else {
        Exposure::Public
    };
    if args.json {
        let v = match args.format {
            Format::HealthJson => report.to_health_json(exposure),
            Format::Runbook => report.to_runbook_json(exposure),
        };
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print_table(&report, exposure);
    }
    ExitCode::from(match report.status {
        Status::Pass => 0,
        Status::Warn => 1,
        Status::Fail => 2,
    })
}
