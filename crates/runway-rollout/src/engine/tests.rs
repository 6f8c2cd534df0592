use super::*;
use crate::config::{Budget, HealthGate};

fn fleet(n: usize, crashed: &[usize]) -> Vec<UnitView> {
    (1..=n)
        .map(|i| UnitView {
            id: UnitId::new(format!("u{i:02}")),
            release: Some(ReleaseId::new("v1")),
            state: if crashed.contains(&i) {
                UnitState::Crashed
            } else {
                UnitState::Running
            },
            in_load_balancer: true,
        })
        .collect()
}

fn engine(strategy: Strategy) -> Engine {
    let cfg = RolloutConfig::default()
        .with_strategy(strategy)
        .with_gate(HealthGate::default().with_period(Duration::from_secs(1)));
    Engine::new(EngineInit::new(
        cfg,
        PlatformCapabilities::all(ControlModel::Orchestrated),
        ReleaseId::new("v2"),
    ))
    .unwrap()
}

fn count(actions: &[Action], f: impl Fn(&Action) -> bool) -> usize {
    actions.iter().filter(|a| f(a)).count()
}

#[test]
fn first_wave_uses_surge_then_unavailability() {
    let mut e = engine(Strategy::Rolling {
        max_surge: Budget::Percent(25),
        max_unavailable: Budget::Percent(25),
    });
    let a = e.step(
        Duration::ZERO,
        Observation::Start {
            fleet: fleet(10, &[]),
        },
    );
    assert_eq!(e.budgets(), (3, 2));
    assert_eq!(count(&a, |a| matches!(a, Action::Add { .. })), 3);
    assert_eq!(count(&a, |a| matches!(a, Action::Drain(_))), 2);
    assert_eq!(e.serving(), 8);
    assert!(a.contains(&Action::Refresh));
    assert!(a.contains(&Action::WakeAt(Duration::from_secs(1))));
}

#[test]
fn down_units_are_converted_for_free() {
    let mut e = engine(Strategy::OneAtATime);
    let a = e.step(
        Duration::ZERO,
        Observation::Start {
            fleet: fleet(4, &[3]),
        },
    );
    // The crashed unit is converted first and costs nothing (it leaves the load balancer first); it already
    // uses the unavailability budget of one, so no serving unit is touched.
    assert!(a.contains(&Action::Drain(UnitId::new("u03"))));
    assert_eq!(count(&a, |a| matches!(a, Action::Drain(_))), 1);
    assert_eq!(e.serving(), 3);
}

#[test]
fn a_failed_deployment_turns_the_run_around() {
    let mut e = engine(Strategy::OneAtATime);
    e.step(
        Duration::ZERO,
        Observation::Start {
            fleet: fleet(3, &[]),
        },
    );
    let a = e.step(
        Duration::ZERO,
        Observation::Drained {
            unit: UnitId::new("u01"),
        },
    );
    assert!(a.iter().any(
        |a| matches!(a, Action::Deploy { unit, rollback: false, .. } if unit.as_str() == "u01")
    ));
    e.step(
        Duration::ZERO,
        Observation::Deployed {
            unit: UnitId::new("u01"),
            deployment: DeploymentId::new("d1"),
        },
    );
    let a = e.step(
        Duration::from_secs(5),
        Observation::Status {
            unit: UnitId::new("u01"),
            deployment: DeploymentId::new("d1"),
            status: DeploymentStatus::Failed,
            message: Some("exit 1".into()),
        },
    );
    assert!(e.rolling_back());
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::Emit(DeployEvent::RollbackStarted { .. })))
    );
    // u01 is down: it goes back to v1 at once, through the platform's rollback.
    assert!(a.iter().any(
        |a| matches!(a, Action::Deploy { unit, release, rollback: true }
        if unit.as_str() == "u01" && release.as_str() == "v1")
    ));
    // A stale status for the old deployment is ignored.
    let before = e.resume_point();
    e.step(
        Duration::from_secs(6),
        Observation::Status {
            unit: UnitId::new("u01"),
            deployment: DeploymentId::new("d1"),
            status: DeploymentStatus::Failed,
            message: None,
        },
    );
    assert_eq!(e.resume_point(), before);
}

#[test]
fn engine_refuses_blue_green_without_traffic_switch() {
    let cfg = RolloutConfig::default().with_strategy(Strategy::BlueGreen {
        pre_promotion_analysis: false,
    });
    let err = Engine::new(EngineInit::new(
        cfg,
        PlatformCapabilities::new(ControlModel::Orchestrated),
        ReleaseId::new("v2"),
    ))
    .unwrap_err();
    assert_eq!(err.kind(), runway_core::ErrorKind::InvalidInput);
}

#[test]
fn a_failed_surge_add_keeps_the_unit_it_was_to_replace() {
    let cfg = RolloutConfig::default()
        .with_strategy(Strategy::Rolling {
            max_surge: Budget::Count(1),
            max_unavailable: Budget::Count(0),
        })
        .with_gate(HealthGate::default().with_period(Duration::from_secs(1)));
    let mut e = Engine::new(
        EngineInit::new(
            cfg,
            PlatformCapabilities::all(ControlModel::Orchestrated),
            ReleaseId::new("v0"),
        )
        .manual_rollback(),
    )
    .unwrap();
    let a = e.step(
        Duration::ZERO,
        Observation::Start {
            fleet: fleet(3, &[]),
        },
    );
    assert_eq!(count(&a, |a| matches!(a, Action::Add { .. })), 1);
    let a = e.step(
        Duration::ZERO,
        Observation::Failed {
            operation: Operation::Add,
            unit: None,
            kind: "timeout".into(),
            message: "request timed out".into(),
        },
    );
    assert_eq!(
        count(&a, |a| matches!(a, Action::Remove(_) | Action::Drain(_))),
        0,
        "{a:?}"
    );
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::Emit(DeployEvent::BatchCompleted { .. })))
    );
    assert_eq!(e.units_by_release()[&ReleaseId::new("v1")].len(), 3);
}
