//! Verification: exact percentiles from recorded samples, the minimum-sample rule, the monitoring window
//! (paused time), the error-spike rule over a log source, and the Analysis hook.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use runway_core::{
    Analysis, AnalysisContext, AnalysisVerdict, Clock, EnvironmentId, LogCapabilities, LogEntry,
    LogLevel, LogQuery, LogScope, LogSource, LogStream, MetricsQuery, MetricsSource, ReleaseId,
    RequestMetrics, ResourceMetrics, TokioClock, UnitId,
};
use runway_health::verify::{
    ErrorSpike, Metric, MonitorPlan, Outcome, Thresholds, Verdict, Verification, VerifyScope,
    evaluate,
};

fn window(samples: &[(u16, u64, usize)]) -> RequestMetrics {
    let mut m = RequestMetrics::default();
    for &(status, ms, n) in samples {
        for _ in 0..n {
            m.record(status, ms);
        }
    }
    m
}

fn p95(e: &runway_health::verify::Evaluation) -> f64 {
    e.criterion(Metric::LatencyP95).unwrap().observed.unwrap()
}

#[test]
fn exact_p95_from_recorded_samples() {
    let t = Thresholds::default();
    // 95 fast and 5 slow: the 95th of 100 values is still fast.
    let e = evaluate(&window(&[(200, 120, 95), (200, 1900, 5)]), None, &t);
    assert_eq!(p95(&e), 120.0);
    assert_eq!(e.verdict, Verdict::Pass);
    // One more slow request moves p95 to the slow value.
    let e = evaluate(&window(&[(200, 120, 94), (200, 1900, 6)]), None, &t);
    assert_eq!(p95(&e), 1900.0);
    assert_eq!(e.verdict, Verdict::Fail);
    assert!(
        e.reason().contains("p95_ms 1900 (needs < 500)"),
        "{}",
        e.reason()
    );

    // 1..=1000 ms: p95 is exactly 950; "p95 < 500" is strict, so 500 itself breaches.
    let mut m = RequestMetrics::default();
    for ms in 1..=1000 {
        m.record(200, ms);
    }
    let e = evaluate(
        &m,
        None,
        &t.clone().with_max_p95(Duration::from_millis(951)),
    );
    assert_eq!((p95(&e), e.verdict), (950.0, Verdict::Pass));
    let e = evaluate(
        &m,
        None,
        &t.clone().with_max_p95(Duration::from_millis(950)),
    );
    assert_eq!(e.verdict, Verdict::Fail);
}

#[test]
fn percentiles_merge_histograms_never_average() {
    // Unit A: 100 requests at 10 ms (p95 10). Unit B: 90 at 10 ms, 10 at 1000 ms (p95 1000).
    let a = window(&[(200, 10, 100)]);
    let b = window(&[(200, 10, 90), (200, 1000, 10)]);
    let averaged =
        (a.latency_quantile_ms(0.95).unwrap() + b.latency_quantile_ms(0.95).unwrap()) / 2;
    assert_eq!(averaged, 505, "averaging per-unit p95 would breach 500 ms");
    let mut merged = a.clone();
    merged.merge(&b);
    // 200 requests, 190 at 10 ms: the true p95 is 10 ms.
    let e = evaluate(&merged, None, &Thresholds::default());
    assert_eq!(p95(&e), 10.0);
    assert_eq!(e.verdict, Verdict::Pass);
}

#[test]
fn rates_are_strict_and_minimum_samples_gate_the_verdict() {
    let t = Thresholds::default();
    // Exactly 99 % 2xx and 1 % 5xx: both runbook gates ("> 99 %", "< 1 %") fail.
    let e = evaluate(&window(&[(200, 20, 990), (503, 20, 10)]), None, &t);
    assert_eq!(e.verdict, Verdict::Fail);
    assert_eq!(
        e.criterion(Metric::SuccessRate).unwrap().outcome,
        Outcome::Breached
    );
    assert_eq!(
        e.criterion(Metric::ServerErrorRate).unwrap().outcome,
        Outcome::Breached
    );
    // 99.9 % passes.
    let e = evaluate(&window(&[(200, 20, 999), (503, 20, 1)]), None, &t);
    assert_eq!(e.verdict, Verdict::Pass);

    // 99 requests: inconclusive even when every one failed; 100 decide.
    let e = evaluate(&window(&[(500, 20, 99)]), None, &t);
    assert_eq!(e.verdict, Verdict::Inconclusive);
    assert_eq!(
        e.criterion(Metric::ServerErrorRate).unwrap().outcome,
        Outcome::InsufficientSamples
    );
    assert!(
        e.reason()
            .contains("99 requests, fewer than the minimum of 100")
    );
    assert_eq!(
        evaluate(&window(&[(200, 20, 99)]), None, &t).verdict,
        Verdict::Inconclusive
    );
    assert_eq!(
        evaluate(&window(&[(200, 20, 100)]), None, &t).verdict,
        Verdict::Pass
    );
    assert_eq!(
        evaluate(&RequestMetrics::default(), None, &t).verdict,
        Verdict::Inconclusive
    );

    // Resource thresholds do not need request samples.
    let hot = ResourceMetrics {
        cpu_utilisation: Some(0.93),
        ..ResourceMetrics::default()
    };
    let e = evaluate(&window(&[(200, 20, 3)]), Some(&hot), &t);
    assert_eq!(e.verdict, Verdict::Fail);
    assert!(
        e.reason().contains("cpu 93.00% (needs < 70.00%)"),
        "{}",
        e.reason()
    );
    let ok = ResourceMetrics {
        db_pool_utilisation: Some(0.5),
        queue_depth: Some(99),
        memory_utilisation: Some(0.79),
        cpu_utilisation: Some(0.69),
    };
    let e = evaluate(&window(&[(200, 20, 100)]), Some(&ok), &t);
    assert_eq!(e.verdict, Verdict::Pass);
    let full = ResourceMetrics {
        queue_depth: Some(100),
        ..ok.clone()
    };
    assert_eq!(
        evaluate(&window(&[(200, 20, 100)]), Some(&full), &t).verdict,
        Verdict::Fail
    );
    // All configurable.
    let lax = t.clone().with_max_queue_depth(500).with_min_samples(10);
    assert_eq!(
        evaluate(&window(&[(200, 20, 10)]), Some(&full), &lax).verdict,
        Verdict::Pass
    );
    assert!(Thresholds::default().with_max_cpu(7.0).validate().is_err());
    assert!(
        Thresholds::default()
            .with_min_samples(0)
            .validate()
            .is_err()
    );
}

/// Metrics that grow by `per_read` requests each read, optionally turning bad after `bad_after` reads.
#[derive(Debug)]
struct ScriptedMetrics {
    per_read: Vec<(u16, u64, usize)>,
    bad_after: Option<usize>,
    reads: Mutex<(usize, RequestMetrics)>,
    queries: Mutex<Vec<MetricsQuery>>,
}

impl ScriptedMetrics {
    fn new(per_read: Vec<(u16, u64, usize)>, bad_after: Option<usize>) -> Arc<Self> {
        Arc::new(ScriptedMetrics {
            per_read,
            bad_after,
            reads: Mutex::new((0, RequestMetrics::default())),
            queries: Mutex::new(Vec::new()),
        })
    }
    fn reads(&self) -> usize {
        self.reads.lock().unwrap().0
    }
}

#[async_trait]
impl MetricsSource for ScriptedMetrics {
    async fn request_metrics(&self, query: &MetricsQuery) -> runway_core::Result<RequestMetrics> {
        self.queries.lock().unwrap().push(query.clone());
        let mut g = self.reads.lock().unwrap();
        g.0 += 1;
        let bad = self.bad_after.is_some_and(|n| g.0 > n);
        let status = |s: u16| if bad { 500 } else { s };
        let add = window(
            &self
                .per_read
                .iter()
                .map(|&(s, ms, n)| (status(s), ms, n))
                .collect::<Vec<_>>(),
        );
        g.1.merge(&add);
        Ok(g.1.clone())
    }
}

fn plan(window: u64, interval: u64) -> MonitorPlan {
    MonitorPlan {
        window: Duration::from_secs(window),
        interval: Duration::from_secs(interval),
        thresholds: Thresholds::default(),
    }
}

#[tokio::test(start_paused = true)]
async fn monitoring_window_runs_to_the_end_or_stops_at_a_breach() {
    let clock = Arc::new(TokioClock::starting_at(
        DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
    ));
    let deployed_at = clock.now();
    let scope = VerifyScope::new("production", deployed_at)
        .with_release("v1.1")
        .with_units(vec![UnitId::new("api-1")]);

    let healthy = ScriptedMetrics::new(vec![(200, 40, 50)], None);
    let v = Verification::builder()
        .with_metrics(healthy.clone())
        .with_plan(plan(300, 30))
        .with_clock(clock.clone())
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let report = v.run(&scope).await.unwrap();
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.reason);
    assert_eq!(started.elapsed(), Duration::from_secs(300));
    assert_eq!(healthy.reads(), 10);
    let q = healthy.queries.lock().unwrap().last().cloned().unwrap();
    assert_eq!(q.release, Some(ReleaseId::new("v1.1")));
    assert_eq!(q.units, vec![UnitId::new("api-1")]);
    assert_eq!(q.range.start, deployed_at);

    let turning_bad = ScriptedMetrics::new(vec![(200, 40, 100)], Some(3));
    let v = Verification::builder()
        .with_metrics(turning_bad.clone())
        .with_plan(plan(1800, 60))
        .with_clock(clock.clone())
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let report = v.run(&scope).await.unwrap();
    assert_eq!(report.verdict, Verdict::Fail);
    assert!(report.reason.contains("5xx_rate"), "{}", report.reason);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(240),
        "stopped at the first breach"
    );

    let quiet = ScriptedMetrics::new(vec![(200, 40, 2)], None);
    let v = Verification::builder()
        .with_metrics(quiet)
        .with_plan(plan(120, 30))
        .with_clock(clock.clone())
        .build()
        .unwrap();
    let report = v.run(&scope).await.unwrap();
    assert_eq!(
        report.verdict,
        Verdict::Inconclusive,
        "8 requests are too few"
    );
}

/// Log lines at fixed times.
#[derive(Debug)]
struct Logs(Vec<LogEntry>);

#[async_trait]
impl LogSource for Logs {
    fn capabilities(&self) -> LogCapabilities {
        LogCapabilities::new(false, false)
    }
    async fn query(&self, query: &LogQuery) -> runway_core::Result<LogStream> {
        let q = query.clone();
        let lines: Vec<_> = self
            .0
            .iter()
            .filter(|e| q.matches(e))
            .cloned()
            .map(Ok)
            .collect();
        Ok(futures::stream::iter(lines).boxed())
    }
}

fn line(at: DateTime<Utc>, secs: i64, level: LogLevel) -> LogEntry {
    LogEntry {
        timestamp: at + chrono::Duration::seconds(secs),
        level,
        message: format!("{level} something"),
        source: None,
        attributes: BTreeMap::new(),
    }
}

#[tokio::test(start_paused = true)]
async fn error_spike_in_logs_fails_the_immediate_phase() {
    let clock = Arc::new(TokioClock::starting_at(
        DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
    ));
    let deployed_at = clock.now() - chrono::Duration::seconds(300);
    // Baseline: 6 errors in the hour before (0.1/min). After: 12 in 5 minutes (2.4/min).
    let mut lines: Vec<LogEntry> = (0..6)
        .map(|i| line(deployed_at, -600 * (i + 1), LogLevel::Error))
        .collect();
    lines.extend((0..12).map(|i| line(deployed_at, 20 * i + 1, LogLevel::Error)));
    lines.extend((0..50).map(|i| line(deployed_at, i, LogLevel::Info)));
    let logs: Arc<dyn LogSource> = Arc::new(Logs(lines));
    let scope = LogScope::environment("production");
    let v = Verification::builder()
        .with_error_spike(logs.clone(), ErrorSpike::new(scope.clone()))
        .with_clock(clock.clone())
        .build()
        .unwrap();
    let r = v.immediate(deployed_at).await.unwrap();
    let e = r.errors.clone().unwrap();
    assert_eq!((e.before, e.after, e.spike), (6, 12, true));
    assert!(!r.passed());
    assert!(r.reason().contains("error spike"), "{}", r.reason());

    // The same errors spread over the baseline at the same rate are no spike.
    let v = Verification::builder()
        .with_error_spike(
            logs.clone(),
            ErrorSpike::new(scope.clone()).with_ratio(30.0),
        )
        .with_clock(clock.clone())
        .build()
        .unwrap();
    assert!(v.immediate(deployed_at).await.unwrap().passed());
    // Fewer than min_errors never count.
    let v = Verification::builder()
        .with_error_spike(logs, ErrorSpike::new(scope).with_min_errors(13))
        .with_clock(clock)
        .build()
        .unwrap();
    assert!(v.immediate(deployed_at).await.unwrap().passed());
}

#[tokio::test]
async fn immediate_http_checks_gate_the_monitoring_window() {
    let base = common::zoo().await;
    let metrics = ScriptedMetrics::new(vec![(200, 40, 500)], None);
    let v = Verification::builder()
        .with_health_url(format!("{base}/error"))
        .with_ping_url(format!("{base}/ok"))
        .with_metrics(metrics.clone())
        .with_plan(plan(1, 1))
        .build()
        .unwrap();
    let report = v
        .run(&VerifyScope::new("production", Utc::now()))
        .await
        .unwrap();
    assert_eq!(report.verdict, Verdict::Fail);
    assert!(
        report.reason.contains("health: unexpected HTTP status 500"),
        "{}",
        report.reason
    );
    assert!(report.monitoring.is_none());
    assert_eq!(
        metrics.reads(),
        0,
        "no monitoring after a failed immediate phase"
    );
    assert!(
        Verification::builder()
            .with_health_url("nope")
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn analysis_hook_judges_the_context_window() {
    let base = common::zoo().await;
    let good = ScriptedMetrics::new(vec![(200, 40, 200)], None);
    let v = Verification::builder()
        .with_health_url(format!("{base}/ok"))
        .with_metrics(good.clone())
        .build()
        .unwrap();
    let ctx = AnalysisContext::new(EnvironmentId::new("production"), ReleaseId::new("v2"))
        .with_updated_units(vec![UnitId::new("api-1"), UnitId::new("api-2")])
        .with_window(Duration::from_secs(600));
    let analysis: Arc<dyn Analysis> = Arc::new(v);
    assert_eq!(analysis.analyze(&ctx).await.unwrap(), AnalysisVerdict::Pass);
    let q = good.queries.lock().unwrap()[0].clone();
    assert_eq!(q.release, Some(ReleaseId::new("v2")));
    assert_eq!(q.units.len(), 2);
    assert_eq!(q.range.duration(), Duration::from_secs(600));

    let bad = ScriptedMetrics::new(vec![(200, 900, 200)], None);
    let v = Verification::builder().with_metrics(bad).build().unwrap();
    match v.analyze(&ctx).await.unwrap() {
        AnalysisVerdict::Fail { reason } => assert!(reason.contains("p95_ms 900"), "{reason}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    let few = ScriptedMetrics::new(vec![(200, 40, 10)], None);
    let v = Verification::builder().with_metrics(few).build().unwrap();
    assert!(matches!(
        v.analyze(&ctx).await.unwrap(),
        AnalysisVerdict::Inconclusive { .. }
    ));
}
