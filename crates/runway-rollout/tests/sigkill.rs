//! Crash-resume with a real child process killed by SIGKILL mid-rollout: the OS frees the file lock, the
//! journal survives, and a new process resumes to an outcome.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runway_core::EnvironmentId;
use runway_rollout::{DeployLock, FileJournal, FileLock, Journal, replay};

const HELPER: &str = env!("CARGO_BIN_EXE_rollout-crash-helper");

fn write_state(path: &Path, units: usize) {
    let units: Vec<serde_json::Value> = (1..=units)
        .map(|i| serde_json::json!({"id": format!("api-{i}"), "release": "v1", "deployed_at_ms": null, "in_lb": true}))
        .collect();
    std::fs::write(
        path,
        serde_json::json!({"units": units, "deployments": []}).to_string(),
    )
    .unwrap();
}

fn releases(path: &Path) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["release"].as_str().unwrap().to_string())
        .collect()
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

fn scenario(bad: bool, kill_after_events: usize) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let journal = dir.path().join("journal.jsonl");
    let locks = dir.path().join("locks");
    write_state(&state, 4);
    let mut args = vec![
        state.to_str().unwrap().to_string(),
        journal.to_str().unwrap().to_string(),
        locks.to_str().unwrap().to_string(),
        "run".to_string(),
    ];
    if bad {
        args.push("bad".into());
    }
    let mut child = Command::new(HELPER)
        .args(&args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while lines(&journal) < kill_after_events {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "child made no progress"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("child exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let env = EnvironmentId::new("production");
    let lock = FileLock::new(&locks);
    assert_eq!(
        rt.block_on(lock.status(&env)).unwrap(),
        None,
        "the OS freed the killed holder's lock"
    );
    let fj = FileJournal::new(&journal);
    let before = rt.block_on(fj.load("crash-run")).unwrap();
    assert!(!replay(&before).finished(), "killed mid-run");

    args[3] = "resume".into();
    let out = Command::new(HELPER).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "resume failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = report["outcome"]["outcome"].as_str().unwrap().to_string();
    let rel = releases(&state);
    if bad {
        assert_eq!(outcome, "rolled_back", "{report}");
        assert!(rel.iter().all(|r| r == "v1"), "{rel:?}");
    } else {
        assert_eq!(outcome, "succeeded", "{report}");
        assert!(rel.iter().all(|r| r == "v2"), "{rel:?}");
    }
    assert_eq!(
        rt.block_on(lock.status(&env)).unwrap(),
        None,
        "lock free afterwards"
    );
    let after = replay(&rt.block_on(fj.load("crash-run")).unwrap());
    assert!(after.finished());
}

#[test]
fn sigkill_mid_rollout_then_resume_succeeds() {
    for k in [3, 9, 17] {
        scenario(false, k);
    }
}

#[test]
fn sigkill_mid_bad_rollout_then_resume_rolls_back() {
    for k in [6, 11] {
        scenario(true, k);
    }
}
