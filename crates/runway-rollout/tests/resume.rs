//! Crash-resume: the driver is dropped at random points (task aborted); a new driver resumes from the journal
//! and finishes or rolls back, and the lock is free afterwards.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use runway_core::{EnvironmentId, MemorySink};
use runway_rollout::{
    DeployLock, FileJournal, FileLock, Journal, Outcome, ResumePolicy, RolloutError, Strategy,
    Trigger, replay,
};
use runway_sim::{ReleaseProfile, SimPlatform};

struct Setup {
    sim: SimPlatform,
    journal: Arc<FileJournal>,
    lock: Arc<FileLock>,
    _dir: tempfile::TempDir,
}

fn setup(units: usize, v2: ReleaseProfile) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    Setup {
        sim: sim(units, v2),
        journal: Arc::new(FileJournal::new(dir.path().join("journal.jsonl"))),
        lock: Arc::new(FileLock::new(dir.path().join("locks"))),
        _dir: dir,
    }
}

async fn kill_then_resume(s: &Setup, kill_at: Duration, policy: ResumePolicy) -> Option<Outcome> {
    let cfg = config(Strategy::rolling("1", "1").unwrap());
    let sink = MemorySink::new();
    let rollout = builder(&s.sim, cfg.clone(), &sink)
        .with_journal(s.journal.clone())
        .with_lock(s.lock.clone())
        .with_run_id("run-1")
        .build()
        .unwrap();
    let task = tokio::spawn(async move { rollout.run().await });
    tokio::time::sleep(kill_at).await;
    task.abort();
    let first = task.await;
    let env = EnvironmentId::new("production");
    assert_eq!(
        s.lock.status(&env).await.unwrap(),
        None,
        "lock freed by the dropped driver"
    );
    if let Ok(Ok(report)) = first {
        // Finished before the kill.
        return Some(report.outcome);
    }
    let unfinished = s.journal.unfinished().await.unwrap();
    let second = builder(&s.sim, cfg, &sink)
        .with_journal(s.journal.clone())
        .with_lock(s.lock.clone());
    let report = if unfinished.contains(&"run-1".to_string()) {
        second
            .resume("run-1", policy)
            .build()
            .unwrap()
            .run()
            .await
            .unwrap()
    } else {
        // Killed before anything was journaled: start over.
        assert!(s.journal.load("run-1").await.unwrap().is_empty());
        second
            .with_run_id("run-1")
            .build()
            .unwrap()
            .run()
            .await
            .unwrap()
    };
    assert_eq!(
        s.lock.status(&env).await.unwrap(),
        None,
        "lock released at the end"
    );
    let st = replay(&s.journal.load("run-1").await.unwrap());
    assert!(st.finished());
    let mut sim_view = s.sim.units_by_release();
    for v in sim_view.values_mut() {
        v.sort();
    }
    assert_eq!(sim_view, report.units_by_release);
    Some(report.outcome)
}

#[tokio::test(start_paused = true)]
async fn dropped_driver_resumes_healthy_rollout_to_success() {
    for (i, secs) in [0u64, 1, 7, 25, 31, 44, 63, 90, 121]
        .into_iter()
        .enumerate()
    {
        let s = setup(3 + i % 3, ReleaseProfile::healthy("v2"));
        let out = kill_then_resume(&s, Duration::from_secs(secs), ResumePolicy::Continue).await;
        assert_eq!(out, Some(Outcome::Succeeded), "killed at {secs}s");
        assert!(
            releases(&s.sim).iter().all(|r| r == "v2"),
            "killed at {secs}s"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn dropped_driver_resumes_bad_rollout_to_rollback() {
    for secs in [3u64, 20, 29, 33, 45, 70] {
        let s = setup(4, ReleaseProfile::unhealthy("v2"));
        let out = kill_then_resume(&s, Duration::from_secs(secs), ResumePolicy::Continue).await;
        assert!(
            matches!(out, Some(Outcome::RolledBack { .. })),
            "killed at {secs}s: {out:?}"
        );
        assert!(
            releases(&s.sim).iter().all(|r| r == "v1"),
            "killed at {secs}s"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn resume_with_roll_back_policy_restores_the_old_release() {
    let s = setup(5, ReleaseProfile::healthy("v2"));
    let out = kill_then_resume(&s, Duration::from_secs(50), ResumePolicy::RollBack).await;
    assert_eq!(
        out,
        Some(Outcome::RolledBack {
            trigger: Trigger::Interrupted
        })
    );
    assert!(releases(&s.sim).iter().all(|r| r == "v1"));
}

#[tokio::test(start_paused = true)]
async fn resuming_a_finished_run_is_refused_and_a_held_lock_blocks() {
    let s = setup(2, ReleaseProfile::healthy("v2"));
    let sink = MemorySink::new();
    let cfg = config(Strategy::OneAtATime);
    let env = EnvironmentId::new("production");
    let held = s.lock.acquire(&env, "someone-else", None).await.unwrap();
    let blocked = builder(&s.sim, cfg.clone(), &sink)
        .with_journal(s.journal.clone())
        .with_lock(s.lock.clone())
        .with_run_id("run-2")
        .build()
        .unwrap()
        .run()
        .await;
    match blocked {
        Err(e @ RolloutError::Locked { .. }) => {
            assert_eq!(e.kind(), runway_core::ErrorKind::Conflict);
            assert!(e.to_string().contains("someone-else"));
        }
        other => panic!("{other:?}"),
    }
    held.release().await.unwrap();
    let r = builder(&s.sim, cfg.clone(), &sink)
        .with_journal(s.journal.clone())
        .with_lock(s.lock.clone())
        .with_run_id("run-2")
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Succeeded);
    let again = builder(&s.sim, cfg, &sink)
        .with_journal(s.journal.clone())
        .resume("run-2", ResumePolicy::Continue)
        .build()
        .unwrap()
        .run()
        .await;
    assert!(
        matches!(again, Err(RolloutError::NothingToResume(_))),
        "{again:?}"
    );
}
