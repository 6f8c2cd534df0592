//! Event consumers for terminals: an indicatif display of units and batches, and JSON lines on stdout.
//!
//! Both are plain [`EventSink`]s: they show what the engine emits and nothing else.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use runway_core::event::DeployEvent;
use runway_core::{Event, EventPayload, EventSink, UnitId};

/// Shows one line per unit (release and state) and an overall bar of units on the target release, with
/// batches, the rollback and the outcome, driven only by [`DeployEvent`]s.
#[derive(Debug)]
pub struct ProgressSink {
    multi: MultiProgress,
    state: Mutex<Display>,
    pace: Duration,
}

#[derive(Debug, Default)]
struct Display {
    overall: Option<ProgressBar>,
    units: BTreeMap<UnitId, ProgressBar>,
    release: String,
    target: String,
    desired: u64,
    done: u64,
}

impl ProgressSink {
    /// A display on stderr.
    pub fn new() -> Self {
        Self::with_target(ProgressDrawTarget::stderr())
    }

    /// A display on `target` (hidden in tests).
    pub fn with_target(target: ProgressDrawTarget) -> Self {
        ProgressSink {
            multi: MultiProgress::with_draw_target(target),
            state: Mutex::new(Display::default()),
            pace: Duration::ZERO,
        }
    }

    /// Hold each event on screen for `pace` of real time (a simulated rollout on paused time is otherwise
    /// over before the eye can follow).
    #[must_use]
    pub fn with_pace(mut self, pace: Duration) -> Self {
        self.pace = pace;
        self
    }

    fn unit_bar(&self, d: &mut Display, unit: &UnitId) -> ProgressBar {
        d.units
            .entry(unit.clone())
            .or_insert_with(|| {
                let pb = self.multi.add(ProgressBar::new_spinner());
                pb.set_style(
                    ProgressStyle::with_template("  {prefix:>10} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                pb.set_prefix(unit.to_string());
                pb
            })
            .clone()
    }

    fn show(&self, e: &DeployEvent) {
        let mut d = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            DeployEvent::RolloutStarted {
                release,
                previous,
                units,
                strategy,
                environment,
            } => {
                d.release = release.to_string();
                d.target = release.to_string();
                d.desired = *units as u64;
                let pb = self.multi.insert(0, ProgressBar::new(*units as u64));
                pb.set_style(
                    ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                pb.set_prefix(environment.to_string());
                pb.set_message(format!(
                    "{} -> {release} ({strategy})",
                    previous.as_ref().map(|p| p.to_string()).unwrap_or_default()
                ));
                d.overall = Some(pb);
            }
            DeployEvent::FleetObserved {
                units_by_release, ..
            } => {
                for (r, us) in units_by_release {
                    for u in us {
                        self.unit_bar(&mut d, u).set_message(format!("{r} serving"));
                    }
                }
            }
            DeployEvent::BatchStarted { batch, units } => {
                if let Some(o) = &d.overall {
                    o.set_message(format!(
                        "batch {} ({} units) -> {}",
                        batch + 1,
                        units.len(),
                        d.target
                    ));
                }
            }
            DeployEvent::UnitDrained { unit } => {
                self.unit_bar(&mut d, unit)
                    .set_message("drained from the load balancer");
            }
            DeployEvent::UnitDeploying { unit, release, .. } => {
                self.unit_bar(&mut d, unit)
                    .set_message(format!("deploying {release}"));
            }
            DeployEvent::UnitAdded { unit, release } => {
                self.unit_bar(&mut d, unit)
                    .set_message(format!("added on {release} (surge)"));
            }
            DeployEvent::UnitReady { unit } => {
                self.unit_bar(&mut d, unit).set_message("ready, baking");
            }
            DeployEvent::UnitRestored { unit } => {
                self.unit_bar(&mut d, unit)
                    .set_message("back in the load balancer, baking");
            }
            DeployEvent::UnitAvailable { unit, release } => {
                self.unit_bar(&mut d, unit)
                    .set_message(format!("{release} serving"));
                if release.as_str() == d.target {
                    d.done += 1;
                    if let Some(o) = &d.overall {
                        o.set_position(d.done.min(d.desired));
                    }
                }
            }
            DeployEvent::UnitUnhealthy { unit, detail } => {
                self.unit_bar(&mut d, unit)
                    .set_message(format!("UNHEALTHY: {detail}"));
            }
            DeployEvent::UnitRemoved { unit } => {
                if let Some(pb) = d.units.remove(unit) {
                    pb.finish_with_message("removed");
                }
            }
            DeployEvent::RollbackPlanned { target, .. } => {
                d.target = target.to_string();
                d.done = 0;
                if let Some(o) = &d.overall {
                    o.set_position(0);
                }
            }
            DeployEvent::RollbackStarted { trigger } => {
                if let Some(o) = &d.overall {
                    o.set_message(format!("ROLLING BACK to {}: {trigger}", d.target));
                    o.println(format!("rollback started: {trigger}"));
                }
            }
            DeployEvent::Paused { reason } => {
                if let Some(o) = &d.overall {
                    o.set_message(format!("paused: {reason}"));
                }
            }
            DeployEvent::TrafficSwitched { to, .. } => {
                if let Some(o) = &d.overall {
                    o.set_message(format!("traffic switched to {} units", to.len()));
                }
            }
            DeployEvent::RolloutFinished {
                outcome,
                units_by_release,
            } => {
                let summary: Vec<String> = units_by_release
                    .iter()
                    .map(|(r, u)| format!("{r}: {}", u.len()))
                    .collect();
                if let Some(o) = &d.overall {
                    o.set_position(d.desired);
                    o.finish_with_message(format!("{outcome} ({})", summary.join(", ")));
                }
                for pb in d.units.values() {
                    pb.finish();
                }
            }
            _ => {}
        }
    }
}

impl Default for ProgressSink {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EventSink for ProgressSink {
    async fn emit(&self, event: &Event) -> runway_core::Result<()> {
        if let EventPayload::Deploy(e) = &event.payload {
            self.show(e);
            if !self.pace.is_zero() {
                std::thread::sleep(self.pace);
            }
        }
        Ok(())
    }
}

/// Writes every event as one JSON line to stdout.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLinesSink;

#[async_trait]
impl EventSink for JsonLinesSink {
    async fn emit(&self, event: &Event) -> runway_core::Result<()> {
        let line = serde_json::to_string(event)?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        Ok(())
    }
}
