//! Canary, blue-green, analysis, pause/resume/abort, manual rollback, issues, deadlines and the dry-run plan.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use runway_core::event::DeployEvent;
use runway_core::{
    Analysis, AnalysisContext, AnalysisVerdict, ControlModel, EventPayload, MemorySink,
    PlatformCapabilities, ReleaseId, UnitId,
};
use runway_rollout::{
    AnalysisPolicy, CanaryStep, InconclusivePolicy, Issue, IssueKind, Outcome, Strategy, Trigger,
    plan,
};
use runway_sim::ReleaseProfile;

/// An analysis hook that answers from a script and records what it was asked.
#[derive(Debug, Default)]
struct Scripted {
    answers: Mutex<Vec<AnalysisVerdict>>,
    seen: Mutex<Vec<usize>>,
}

impl Scripted {
    fn new(mut answers: Vec<AnalysisVerdict>) -> Arc<Self> {
        answers.reverse();
        Arc::new(Scripted {
            answers: Mutex::new(answers),
            seen: Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl Analysis for Scripted {
    async fn analyze(&self, ctx: &AnalysisContext) -> runway_core::Result<AnalysisVerdict> {
        self.seen.lock().unwrap().push(ctx.updated_units.len());
        Ok(self
            .answers
            .lock()
            .unwrap()
            .pop()
            .unwrap_or(AnalysisVerdict::Pass))
    }
}

fn deploy_events(sink: &MemorySink) -> Vec<DeployEvent> {
    sink.payloads()
        .into_iter()
        .filter_map(|p| match p {
            EventPayload::Deploy(d) => Some(d),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn canary_steps_pause_analyse_and_promote() {
    let sim = sim(10, ReleaseProfile::healthy("v2"));
    let hook = Scripted::new(vec![AnalysisVerdict::Pass, AnalysisVerdict::Pass]);
    let steps = vec![
        CanaryStep::SetWeight(20),
        CanaryStep::Pause(Some(Duration::from_secs(300))),
        CanaryStep::Analysis,
        CanaryStep::SetScale(5),
    ];
    let sink = MemorySink::new();
    let t0 = tokio::time::Instant::now();
    let r = builder(&sim, config(Strategy::canary(steps)), &sink)
        .with_analysis(hook.clone())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert!(releases(&sim).iter().all(|v| v == "v2"));
    // The step analysis saw the 2 canary units; the final one all 10.
    assert_eq!(*hook.seen.lock().unwrap(), vec![2, 10]);
    assert!(
        t0.elapsed() >= Duration::from_secs(300),
        "the pause was honoured"
    );
    let ev = deploy_events(&sink);
    assert!(
        ev.iter()
            .any(|e| matches!(e, DeployEvent::StepStarted { step: 1, .. }))
    );
}

#[tokio::test(start_paused = true)]
async fn failed_canary_analysis_rolls_back_only_the_canaries() {
    let sim = sim(10, ReleaseProfile::healthy("v2"));
    let hook = Scripted::new(vec![AnalysisVerdict::Fail {
        reason: "5xx 3% > 1%".into(),
    }]);
    let steps = vec![CanaryStep::SetWeight(10), CanaryStep::Analysis];
    let sink = MemorySink::new();
    let r = builder(&sim, config(Strategy::canary(steps)), &sink)
        .with_analysis(hook)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(
        r.outcome,
        Outcome::RolledBack {
            trigger: Trigger::AnalysisFailed {
                reason: "5xx 3% > 1%".into()
            }
        }
    );
    assert!(releases(&sim).iter().all(|v| v == "v1"));
    let deploys = deploy_events(&sink)
        .into_iter()
        .filter(
            |e| matches!(e, DeployEvent::UnitDeploying { release, .. } if release.as_str() == "v2"),
        )
        .count();
    assert_eq!(deploys, 1, "only the 10% canary was touched");
}

#[tokio::test(start_paused = true)]
async fn inconclusive_analysis_pauses_until_resumed_or_fails_when_configured() {
    // Pause policy: waits for the operator.
    let sim1 = sim(3, ReleaseProfile::healthy("v2"));
    let hook = Scripted::new(vec![AnalysisVerdict::Inconclusive {
        reason: "only 12 requests".into(),
    }]);
    let sink = MemorySink::new();
    let rollout = builder(&sim1, config(Strategy::rolling("0", "3").unwrap()), &sink)
        .with_analysis(hook)
        .build()
        .unwrap();
    let control = rollout.control();
    let t0 = tokio::time::Instant::now();
    let task = tokio::spawn(async move { rollout.run().await.unwrap() });
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(!task.is_finished(), "paused, not finished and not failed");
    assert!(control.resume());
    let r = task.await.unwrap();
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert!(t0.elapsed() >= Duration::from_secs(3600));
    assert!(
        deploy_events(&sink)
            .iter()
            .any(|e| matches!(e, DeployEvent::Paused { .. }))
    );

    // Fail policy: rolls back.
    let sim2 = sim(3, ReleaseProfile::healthy("v2"));
    let hook = Scripted::new(vec![AnalysisVerdict::Inconclusive {
        reason: "metrics unavailable".into(),
    }]);
    let cfg = config(Strategy::OneAtATime).with_analysis(AnalysisPolicy {
        after_each_batch: true,
        before_success: true,
        on_inconclusive: InconclusivePolicy::Fail,
    });
    let r = builder(&sim2, cfg, &MemorySink::new())
        .with_analysis(hook)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert!(matches!(
        r.outcome,
        Outcome::RolledBack {
            trigger: Trigger::AnalysisInconclusive { .. }
        }
    ));
    assert!(releases(&sim2).iter().all(|v| v == "v1"));
}

#[tokio::test(start_paused = true)]
async fn blue_green_switches_once_and_switches_back_on_failure() {
    let sim1 = sim(3, ReleaseProfile::healthy("v2"));
    let t0 = tokio::time::Instant::now();
    let (r, sink) = run(
        &sim1,
        config(Strategy::BlueGreen {
            pre_promotion_analysis: false,
        }),
    )
    .await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    let snap = sim1.snapshot();
    assert_eq!(snap.len(), 3);
    assert!(
        snap.iter()
            .all(|u| u.release.as_ref().unwrap().as_str() == "v2" && u.in_load_balancer)
    );
    assert_eq!(sim1.min_serving_healthy(t0, tokio::time::Instant::now()), 3);
    let switches = deploy_events(&sink)
        .iter()
        .filter(|e| matches!(e, DeployEvent::TrafficSwitched { .. }))
        .count();
    assert_eq!(switches, 1);

    // Post-promotion analysis fails: traffic goes back to blue, green is removed.
    let sim2 = sim(3, ReleaseProfile::healthy("v2"));
    let hook = Scripted::new(vec![AnalysisVerdict::Fail {
        reason: "p95 900ms".into(),
    }]);
    let t0 = tokio::time::Instant::now();
    let sink = MemorySink::new();
    let r = builder(
        &sim2,
        config(Strategy::BlueGreen {
            pre_promotion_analysis: false,
        }),
        &sink,
    )
    .with_analysis(hook)
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    assert!(matches!(r.outcome, Outcome::RolledBack { .. }), "{r:?}");
    let snap = sim2.snapshot();
    assert_eq!(snap.len(), 3);
    assert!(
        snap.iter()
            .all(|u| u.release.as_ref().unwrap().as_str() == "v1" && u.in_load_balancer)
    );
    assert_eq!(sim2.min_serving_healthy(t0, tokio::time::Instant::now()), 3);
}

#[tokio::test(start_paused = true)]
async fn pause_stops_new_batches_and_abort_rolls_back() {
    let sim = sim(4, ReleaseProfile::healthy("v2"));
    let sink = MemorySink::new();
    let rollout = builder(&sim, config(Strategy::OneAtATime), &sink)
        .build()
        .unwrap();
    let control = rollout.control();
    let task = tokio::spawn(async move { rollout.run().await.unwrap() });
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(control.pause());
    tokio::time::sleep(Duration::from_secs(3600)).await;
    // Paused for an hour (longer than the progress deadline): still one batch, no deadline trip.
    let started = deploy_events(&sink)
        .iter()
        .filter(|e| matches!(e, DeployEvent::BatchStarted { .. }))
        .count();
    assert_eq!(started, 1);
    assert!(!task.is_finished());
    assert!(control.abort());
    let r = task.await.unwrap();
    assert_eq!(
        r.outcome,
        Outcome::RolledBack {
            trigger: Trigger::Aborted
        }
    );
    assert!(releases(&sim).iter().all(|v| v == "v1"));
    assert!(!control.pause(), "the run is over");
}

#[tokio::test(start_paused = true)]
async fn reported_issues_follow_the_decision_tree() {
    // Critical: roll back now.
    let sim1 = sim(3, ReleaseProfile::healthy("v2"));
    let rollout = builder(&sim1, config(Strategy::OneAtATime), &MemorySink::new())
        .build()
        .unwrap();
    let control = rollout.control();
    let task = tokio::spawn(async move { rollout.run().await.unwrap() });
    tokio::time::sleep(Duration::from_secs(40)).await;
    control.report(Issue::new(IssueKind::DatabaseConnection, "pool exhausted"));
    let r = task.await.unwrap();
    assert_eq!(
        r.outcome,
        Outcome::RolledBack {
            trigger: Trigger::Issue {
                issue: "pool exhausted".into()
            }
        }
    );
    // Non-critical, fixed within the window: the rollout goes on.
    let sim2 = sim(3, ReleaseProfile::healthy("v2"));
    let sink = MemorySink::new();
    let rollout = builder(&sim2, config(Strategy::OneAtATime), &sink)
        .build()
        .unwrap();
    let control = rollout.control();
    let task = tokio::spawn(async move { rollout.run().await.unwrap() });
    tokio::time::sleep(Duration::from_secs(10)).await;
    control.report(Issue::new(IssueKind::MinorUiBug, "button misaligned"));
    tokio::time::sleep(Duration::from_secs(60)).await;
    control.resolved();
    assert_eq!(task.await.unwrap().outcome, Outcome::Succeeded);
    assert!(deploy_events(&sink).contains(&DeployEvent::IssueResolved));
    // Non-critical, not fixed in time: rolls back when the window closes.
    let sim3 = sim(6, ReleaseProfile::healthy("v2"));
    let rollout = builder(
        &sim3,
        config(Strategy::OneAtATime).with_hotfix_window(Duration::from_secs(60)),
        &MemorySink::new(),
    )
    .build()
    .unwrap();
    let control = rollout.control();
    let task = tokio::spawn(async move { rollout.run().await.unwrap() });
    tokio::time::sleep(Duration::from_secs(10)).await;
    control.report(Issue::new(IssueKind::SingleEndpoint, "/orders 500"));
    let r = task.await.unwrap();
    assert!(
        matches!(
            r.outcome,
            Outcome::RolledBack {
                trigger: Trigger::Issue { .. }
            }
        ),
        "{r:?}"
    );
    assert!(releases(&sim3).iter().all(|v| v == "v1"));
}

#[tokio::test(start_paused = true)]
async fn manual_rollback_to_a_named_release() {
    let sim = sim(3, ReleaseProfile::healthy("v2"));
    let (r, _) = run(&sim, config(Strategy::OneAtATime)).await;
    assert_eq!(r.outcome, Outcome::Succeeded);
    let sink = MemorySink::new();
    let t0 = tokio::time::Instant::now();
    let r = runway_rollout::Rollout::builder()
        .with_platform(Arc::new(sim.clone()))
        .with_probe(Arc::new(sim.clone()))
        .with_environment("production")
        .with_service("api")
        .with_config(config(Strategy::OneAtATime))
        .with_sink(Arc::new(sink.clone()))
        .rollback_to("v1")
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(
        r.outcome,
        Outcome::RolledBack {
            trigger: Trigger::Manual {
                to: ReleaseId::new("v1")
            }
        }
    );
    assert!(releases(&sim).iter().all(|v| v == "v1"));
    assert!(
        sim.min_serving_healthy(t0, tokio::time::Instant::now()) >= 2,
        "same capacity rules"
    );
}

#[tokio::test(start_paused = true)]
async fn slow_start_trips_the_progress_deadline() {
    let sim = sim(
        3,
        ReleaseProfile::healthy("v2").with_start_time(Duration::from_secs(900)),
    );
    let (r, _) = run(&sim, config(Strategy::OneAtATime)).await;
    assert_eq!(
        r.outcome,
        Outcome::RolledBack {
            trigger: Trigger::ProgressDeadline {
                deadline: Duration::from_secs(300)
            }
        }
    );
    assert!(releases(&sim).iter().all(|v| v == "v1"));
}

#[tokio::test(start_paused = true)]
async fn without_auto_rollback_the_run_halts_and_says_where_units_are() {
    let sim = sim(3, ReleaseProfile::unhealthy("v2"));
    let (r, _) = run(&sim, config(Strategy::OneAtATime).with_auto_rollback(false)).await;
    match r.outcome {
        Outcome::Halted {
            units_by_release, ..
        } => {
            assert_eq!(
                units_by_release[&ReleaseId::new("v2")],
                vec![UnitId::new("api-1")]
            );
            assert_eq!(units_by_release[&ReleaseId::new("v1")].len(), 2);
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn dry_run_plan_lists_batches_and_durations() {
    let units: Vec<UnitId> = (1..=10).map(|i| UnitId::new(format!("api-{i}"))).collect();
    let caps = PlatformCapabilities::all(ControlModel::Orchestrated);
    let cfg = config(Strategy::rolling("25%", "25%").unwrap());
    let p = plan(&cfg, &caps, &units, START + READY).unwrap();
    assert_eq!((p.max_surge, p.max_unavailable), (3, 2));
    assert_eq!(p.batches.len(), 2);
    assert_eq!(p.batches[0].replaced.len(), 3);
    assert_eq!(p.batches[0].in_place.len(), 2);
    // 2 batches x (30 s start+ready + 2 s probe + 10 s bake).
    assert_eq!(p.expected, Duration::from_secs(84));
    assert!(p.worst_case >= Duration::from_secs(1200));
    let text = p.to_string();
    assert!(text.contains("batch 1"), "{text}");
    // Without surge support the surge budget is 0.
    let p = plan(
        &cfg,
        &PlatformCapabilities::new(ControlModel::Orchestrated),
        &units,
        START,
    )
    .unwrap();
    assert_eq!(p.max_surge, 0);
    assert_eq!(p.batches.len(), 5);
    // Canary: 10% then the rest.
    let p = plan(
        &config(Strategy::canary(vec![
            CanaryStep::SetWeight(10),
            CanaryStep::Pause(None),
        ])),
        &caps,
        &units,
        START,
    )
    .unwrap();
    assert_eq!(p.batches[0].in_place.len(), 1);
    assert_eq!(p.batches[0].pause_after, Some(None));
}
