//! Rollout benchmarks against their peers, in one run:
//! (a) virtual rollout time vs the ideal `ceil(N/B) x (start + ready + bake)` for N = 3, 30, 300;
//! (b) unhealthy -> rollback start vs `period x failure_threshold`;
//! (c) CPU time and peak memory of a 10,000-unit rollout on the simulator vs the 2 s / 100 MB limits.
//!
//! `cargo bench -p runway-rollout --bench rollout`

use std::sync::Arc;
use std::time::Duration;

use runway_core::event::DeployEvent;
use runway_core::{ControlModel, EventPayload, MemorySink, Release};
use runway_rollout::{HealthGate, Outcome, Rollout, RolloutConfig, Strategy, resolve_budgets};
use runway_sim::{ReleaseProfile, SimPlatform};

const START: Duration = Duration::from_secs(20);
const READY: Duration = Duration::from_secs(10);

fn sim(n: usize, v2: ReleaseProfile) -> SimPlatform {
    SimPlatform::builder()
        .seed(1)
        .environment("production")
        .service("api")
        .units(n)
        .initial_release("v1")
        .start_time(START)
        .ready_time(READY)
        .release(ReleaseProfile::healthy("v1"))
        .release(v2)
        .model(ControlModel::Orchestrated)
        .build()
}

async fn run(sim: &SimPlatform, cfg: RolloutConfig, sink: &MemorySink) -> runway_rollout::Report {
    Rollout::builder()
        .with_platform(Arc::new(sim.clone()))
        .with_probe(Arc::new(sim.clone()))
        .with_clock(Arc::new(sim.clock()))
        .with_sink(Arc::new(sink.clone()))
        .with_environment("production")
        .with_service("api")
        .with_release(Release::new("v2"))
        .with_config(cfg)
        .build()
        .expect("valid rollout")
        .run()
        .await
        .expect("rollout runs")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime")
}

/// (utime + stime) of this process, from /proc/self/stat, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// A field of /proc/self/status in MiB (VmHWM: peak resident set; VmRSS: now).
fn status_mib(field: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("rollout: bench");
        return;
    }
    println!("## runway-rollout\n");
    println!("`cargo bench -p runway-rollout --bench rollout`\n");

    // (c) first, so the process peak belongs to the big run. In place (no surge) and with surge: the
    // simulator's add_unit scans its fleet, so the surge variant also measures that simulator cost.
    let rss_before = status_mib("VmRSS:");
    let n = 10_000;
    println!("### (c) 10,000-unit rollout on the simulator (events kept in memory)\n");
    println!("RSS before the runs: {rss_before:.1} MiB\n");
    println!(
        "| strategy | CPU time (user+sys) | limit | wall | peak RSS (process) | limit | events | virtual time |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for strategy in ["rolling:0:20%", "rolling:10%:10%"] {
        let cfg = RolloutConfig::default()
            .with_strategy(strategy.parse().expect("valid"))
            .with_gate(
                HealthGate::default()
                    .with_period(Duration::from_secs(5))
                    .with_min_ready(Duration::from_secs(30)),
            );
        let cpu0 = cpu_seconds();
        let wall = std::time::Instant::now();
        let (report, events) = rt().block_on(async {
            let s = sim(n, ReleaseProfile::healthy("v2"));
            let sink = MemorySink::new();
            let r = run(&s, cfg, &sink).await;
            (r, sink.events().len())
        });
        let cpu = cpu_seconds() - cpu0;
        let wall = wall.elapsed();
        let peak = status_mib("VmHWM:");
        assert_eq!(report.outcome, Outcome::Succeeded);
        println!(
            "| {strategy} | {cpu:.2} s | < 2 s | {:.2} s | {peak:.1} MiB | < 100 MB | {events} | {} s |",
            wall.as_secs_f64(),
            report.duration.as_secs()
        );
    }
    println!();

    // (a) virtual rollout time vs the ideal.
    let bake = Duration::from_secs(30);
    let gate = HealthGate::default()
        .with_period(Duration::from_secs(2))
        .with_min_ready(bake);
    println!("### (a) virtual rollout time vs ideal ceil(N/B) x (start + ready + bake)\n");
    println!(
        "start {}s, ready {}s, bake {}s, probe period 2s\n",
        START.as_secs(),
        READY.as_secs(),
        bake.as_secs()
    );
    println!("| N | strategy | B | ideal | measured | ratio |\n|---|---|---|---|---|---|");
    for (n, strategy) in [
        (3, "one-at-a-time"),
        (3, "rolling:1:0"),
        (30, "rolling:0:25%"),
        (30, "rolling:25%:0"),
        (300, "rolling:0:25%"),
        (300, "rolling:25%:25%"),
    ] {
        let st: Strategy = strategy.parse().expect("valid strategy");
        let (sb, ub) = st.budgets();
        let (s, u) = resolve_budgets(sb, ub, n);
        let b = s + u;
        let cfg = RolloutConfig::default()
            .with_strategy(st)
            .with_gate(gate.clone());
        let r = rt().block_on(async {
            run(
                &sim(n, ReleaseProfile::healthy("v2")),
                cfg,
                &MemorySink::new(),
            )
            .await
        });
        assert_eq!(r.outcome, Outcome::Succeeded);
        let ideal = (n.div_ceil(b) as u32) * (START + READY + bake);
        println!(
            "| {n} | {strategy} | {b} | {} s | {} s | {:.3} |",
            ideal.as_secs(),
            r.duration.as_secs(),
            r.duration.as_secs_f64() / ideal.as_secs_f64()
        );
    }

    // (b) detection latency.
    println!("\n### (b) unit turns unhealthy -> rollback starts, vs period x failure_threshold\n");
    println!(
        "| period | threshold | period x threshold | measured | over by | target (<= +1 period) |\n|---|---|---|---|---|---|"
    );
    for (p, th) in [(2u64, 3u32), (5, 3), (10, 1), (1, 5), (10, 3)] {
        let after = Duration::from_millis(7_300);
        let gate = HealthGate::default()
            .with_period(Duration::from_secs(p))
            .with_failure_threshold(th)
            .with_min_ready(Duration::from_secs(600));
        let cfg = RolloutConfig::default()
            .with_strategy(Strategy::OneAtATime)
            .with_gate(gate)
            .with_progress_deadline(Duration::from_secs(3600));
        let sink = MemorySink::new();
        let r = rt().block_on(async {
            run(
                &sim(3, ReleaseProfile::unhealthy_after("v2", after)),
                cfg,
                &sink,
            )
            .await
        });
        assert!(matches!(r.outcome, Outcome::RolledBack { .. }));
        let mut deployed = None;
        let mut rollback = None;
        for e in sink.events() {
            match e.payload {
                EventPayload::Deploy(DeployEvent::UnitDeploying { .. }) if deployed.is_none() => {
                    deployed = Some(e.at)
                }
                EventPayload::Deploy(DeployEvent::RollbackStarted { .. }) => rollback = Some(e.at),
                _ => {}
            }
        }
        let unhealthy_at = deployed.expect("deployed")
            + chrono::Duration::from_std(START + READY + after).expect("small");
        let latency = (rollback.expect("rolled back") - unhealthy_at)
            .to_std()
            .unwrap_or_default();
        let budget = Duration::from_secs(p) * th;
        let over = latency.as_secs_f64() - budget.as_secs_f64();
        println!(
            "| {p} s | {th} | {} s | {:.1} s | {over:+.1} s | {} |",
            budget.as_secs(),
            latency.as_secs_f64(),
            if latency <= budget + Duration::from_secs(p) {
                "met"
            } else {
                "MISSED"
            }
        );
    }
}
