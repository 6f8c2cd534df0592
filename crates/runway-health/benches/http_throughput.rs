//! Health-check throughput and per-check overhead against a local endpoint, with `wrk` as the peer.
//!
//! Run: `cargo bench -p runway-health --bench http_throughput` (or `scripts/bench-health.sh`, which
//! installs wrk). `BENCH_SECS` sets each phase's length (default 5), `BENCH_CONNECTIONS` the concurrency
//! (default 256). The endpoint runs on its own one-thread runtime; wrk runs with one thread (`-t1`) and our
//! checker on one thread too, so both load generators get the same share of the machine.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use runway_health::{Check, CheckResult, FnCheck, HealthChecker, HttpCheck, Status};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn start_endpoint() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = Router::new().route(
                "/health",
                get(|| async {
                    (
                        [("content-type", "application/json")],
                        r#"{"status":"healthy","checks":{"database":"healthy","redis":"healthy"}}"#,
                    )
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}/health", rx.recv().unwrap())
}

fn wrk(url: &str, connections: u64, secs: u64) -> Option<f64> {
    let out = Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{connections}"),
            &format!("-d{secs}s"),
            url,
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

fn one_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `connections` tasks each running the same HTTP check in a loop for `secs`.
fn checks_per_second(url: &str, connections: u64, secs: u64) -> (f64, u64) {
    one_thread().block_on(async {
        let check = Arc::new(
            HttpCheck::builder("endpoint", url)
                .with_timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        );
        let done = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        // Warm the connection pool.
        let warm: Vec<_> = (0..connections)
            .map(|_| {
                let c = check.clone();
                tokio::spawn(async move { c.check().await })
            })
            .collect();
        for w in warm {
            w.await.unwrap();
        }
        let started = Instant::now();
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let (c, done, failed, stop) =
                    (check.clone(), done.clone(), failed.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let r = c.check().await;
                        if r.status == Status::Pass {
                            done.fetch_add(1, Ordering::Relaxed);
                        } else {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();
        (
            done.load(Ordering::Relaxed) as f64 / elapsed,
            failed.load(Ordering::Relaxed),
        )
    })
}

/// `connections` tasks each sending a raw reqwest GET in a loop (the HTTP client alone, for reference).
fn raw_reqwest_per_second(url: &str, connections: u64, secs: u64) -> f64 {
    one_thread().block_on(async {
        let client = HttpCheck::default_client();
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let (client, done, stop, url) =
                    (client.clone(), done.clone(), stop.clone(), url.to_owned());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        if let Ok(r) = client.get(&url).send().await
                            && r.bytes().await.is_ok()
                        {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
    })
}

/// A HealthChecker holding `n` HTTP checks, run back to back for `secs`: checks per second.
fn checker_runs_per_second(url: &str, n: u64, secs: u64) -> f64 {
    one_thread().block_on(async {
        let client = HttpCheck::default_client();
        let mut b = HealthChecker::builder();
        for i in 0..n {
            b = b.with_check(
                HttpCheck::builder(format!("c{i}"), url)
                    .with_client(client.clone())
                    .build()
                    .unwrap(),
            );
        }
        let checker = b.build().unwrap();
        checker.run().await;
        let started = Instant::now();
        let mut runs = 0u64;
        while started.elapsed() < Duration::from_secs(secs) {
            let r = checker.run().await;
            assert_eq!(r.status, Status::Pass);
            runs += 1;
        }
        (runs * n) as f64 / started.elapsed().as_secs_f64()
    })
}

/// Mean sequential latency (µs) of a raw reqwest GET, of an HttpCheck, and of a no-op check through the
/// checker.
fn overhead(url: &str, iterations: u32) -> (f64, f64, f64) {
    one_thread().block_on(async {
        let client = HttpCheck::default_client();
        let check = HttpCheck::builder("endpoint", url)
            .with_client(client.clone())
            .build()
            .unwrap();
        for _ in 0..200 {
            let _ = client.get(url).send().await.unwrap().bytes().await.unwrap();
            check.check().await;
        }
        let mut raw = Duration::ZERO;
        let mut ours = Duration::ZERO;
        // Interleave so drift affects both alike.
        for _ in 0..iterations {
            let t = Instant::now();
            let resp = client.get(url).send().await.unwrap();
            assert!(resp.status().is_success());
            let _ = resp.bytes().await.unwrap();
            raw += t.elapsed();
            let t = Instant::now();
            let r = runway_health::run_check(&check).await;
            assert_eq!(r.0.status, Status::Pass);
            ours += t.elapsed();
        }
        let checker = HealthChecker::builder()
            .with_check(FnCheck::new("noop", || async { CheckResult::pass() }))
            .build()
            .unwrap();
        let t = Instant::now();
        for _ in 0..iterations {
            checker.run().await;
        }
        let noop = t.elapsed();
        let us = |d: Duration| d.as_secs_f64() * 1e6 / iterations as f64;
        (us(raw), us(ours), us(noop))
    })
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let secs = env_u64("BENCH_SECS", 5);
    let connections = env_u64("BENCH_CONNECTIONS", 256);
    let url = start_endpoint();
    println!("endpoint {url}, {connections} concurrent, {secs} s per phase");

    let peer = wrk(&url, connections, secs);
    match peer {
        Some(r) => println!("wrk -t1 -c{connections}:                 {r:>10.0} req/s"),
        None => println!("wrk: not installed (apt-get install wrk, or scripts/bench-health.sh)"),
    }
    let (ours, failed) = checks_per_second(&url, connections, secs);
    println!(
        "runway-health HttpCheck x{connections} loops:  {ours:>10.0} checks/s ({failed} failed)"
    );
    let raw = raw_reqwest_per_second(&url, connections, secs);
    println!("raw reqwest GET x{connections} loops:      {raw:>10.0} req/s (reference)");
    let runs = checker_runs_per_second(&url, connections, secs);
    println!("HealthChecker with {connections} HTTP checks: {runs:>10.0} checks/s");
    if let Some(r) = peer {
        println!("ratio HttpCheck / wrk:             {:>10.2}", ours / r);
        println!("ratio HealthChecker / wrk:         {:>10.2}", runs / r);
    }
    let (raw, check, noop) = overhead(&url, 3000);
    println!("sequential raw reqwest GET:        {raw:>10.1} µs");
    println!("sequential HttpCheck (run_check):  {check:>10.1} µs");
    println!(
        "per-check overhead over raw GET:   {:>10.1} µs",
        check - raw
    );
    println!("HealthChecker::run, one no-op check: {noop:>8.1} µs");
    if peer.is_none() {
        std::process::exit(2);
    }
}
