//! A human progress display for any runway run, driven only by its events.
//!
//! [`Progress`] is an [`EventSink`]: hand it to a release (or a rollout, a migration, a backup) and it shows
//! the release steps as lines, each unit of a rollout as a live status bar, and the fleet's progress as a
//! bar. On a terminal it draws with indicatif; elsewhere (CI logs, pipes) it prints one plain line per
//! event, so the same run reads well in both.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use runway_core::event::{BackupEvent, DeployEvent, HealthEvent, MigrationEvent, ReleaseEvent};
use runway_core::{Event, EventPayload, EventSink, UnitId};

/// Renders events for people.
#[derive(Debug)]
pub struct Progress {
    inner: Mutex<State>,
}

#[derive(Debug)]
struct State {
    bars: Option<MultiProgress>,
    fleet: Option<ProgressBar>,
    units: BTreeMap<UnitId, ProgressBar>,
    release: String,
    previous: String,
    total: u64,
    done: u64,
}

impl Progress {
    /// Bars on a terminal (stderr), plain lines otherwise.
    pub fn new() -> Self {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(15)));
        Progress {
            inner: Mutex::new(State {
                bars,
                fleet: None,
                units: BTreeMap::new(),
                release: String::new(),
                previous: String::new(),
                total: 0,
                done: 0,
            }),
        }
    }

    /// Always plain lines (for logs and tests).
    pub fn plain() -> Self {
        let p = Self::new();
        p.inner.lock().expect("progress poisoned").bars = None;
        p
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    fn line(&self, text: String) {
        match &self.bars {
            Some(mp) => {
                let _ = mp.println(text);
            }
            None => println!("{text}"),
        }
    }

    fn unit(&mut self, unit: &UnitId, status: &str) {
        let label = format!("{unit:<10} {status}");
        if let Some(mp) = &self.bars {
            let bar = self.units.entry(unit.clone()).or_insert_with(|| {
                let b = mp.add(ProgressBar::new_spinner());
                b.set_style(
                    ProgressStyle::with_template("  {spinner:.cyan} {msg}")
                        .expect("static template")
                        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✓"),
                );
                b.enable_steady_tick(Duration::from_millis(100));
                b
            });
            bar.set_message(label);
        } else {
            println!("  {label}");
        }
    }

    fn finish_unit(&mut self, unit: &UnitId, status: &str) {
        self.unit(unit, status);
        if let Some(b) = self.units.get(unit) {
            b.finish_with_message(format!("{unit:<10} {status}"));
        }
    }

    fn render(&mut self, event: &Event) {
        match &event.payload {
            EventPayload::Release(e) => self.release_event(e),
            EventPayload::Deploy(e) => self.deploy_event(e),
            EventPayload::Migration(e) => self.migration_event(e),
            EventPayload::Backup(e) => self.backup_event(e),
            EventPayload::Health(e) => self.health_event(e),
            EventPayload::Message { text } => self.line(format!("  {text}")),
            _ => {}
        }
    }

    fn release_event(&mut self, e: &ReleaseEvent) {
        match e {
            ReleaseEvent::StepStarted { step } => self.line(format!("▶ {step}")),
            ReleaseEvent::StepFinished { step, ok, summary } => {
                let mark = if *ok { "✔" } else { "✘" };
                self.line(format!("{mark} {step}: {summary}"));
            }
            ReleaseEvent::Finished { outcome } => self.line(format!("release {outcome}")),
            _ => {}
        }
    }

    fn deploy_event(&mut self, e: &DeployEvent) {
        match e {
            DeployEvent::RolloutStarted {
                release,
                previous,
                units,
                strategy,
                ..
            } => {
                self.release = release.to_string();
                self.previous = previous.as_ref().map(|p| p.to_string()).unwrap_or_default();
                self.total = *units as u64;
                self.done = 0;
                self.line(format!(
                    "  rolling out {release} over {units} units ({strategy}), replacing {}",
                    if self.previous.is_empty() {
                        "nothing"
                    } else {
                        &self.previous
                    }
                ));
                if let Some(mp) = &self.bars {
                    let b = mp.add(ProgressBar::new(self.total));
                    b.set_style(
                        ProgressStyle::with_template(
                            "  fleet [{bar:30.green/white}] {pos}/{len} on {msg}",
                        )
                        .expect("static template")
                        .progress_chars("█▓░"),
                    );
                    b.set_message(self.release.clone());
                    self.fleet = Some(b);
                }
            }
            DeployEvent::BatchStarted { batch, units } => {
                let names: Vec<String> = units.iter().map(|u| u.to_string()).collect();
                self.line(format!("  batch {}: {}", batch + 1, names.join(", ")));
            }
            DeployEvent::UnitDrained { unit } => self.unit(unit, "drained from the load balancer"),
            DeployEvent::UnitDeploying { unit, release, .. } => {
                self.unit(unit, &format!("deploying {release}"))
            }
            DeployEvent::UnitReady { unit } => self.unit(unit, "ready, checking health"),
            DeployEvent::UnitUnhealthy { unit, detail } => {
                self.finish_unit(unit, &format!("unhealthy: {detail}"))
            }
            DeployEvent::UnitRestored { unit } => {
                self.done += 1;
                if let Some(f) = &self.fleet {
                    f.set_position(self.done.min(self.total));
                }
                self.finish_unit(unit, "healthy, back in the load balancer")
            }
            DeployEvent::RollbackStarted { trigger } => {
                self.line(format!("  ⟲ rolling back: {trigger}"));
                if let Some(f) = &self.fleet {
                    f.set_message(format!("{} (rolling back)", self.release));
                }
            }
            DeployEvent::RolloutFinished {
                outcome,
                units_by_release,
            } => {
                if let Some(f) = self.fleet.take() {
                    f.finish_and_clear();
                }
                for (_, b) in std::mem::take(&mut self.units) {
                    b.finish();
                }
                let fleet: Vec<String> = units_by_release
                    .iter()
                    .map(|(r, us)| format!("{r}: {}", us.len()))
                    .collect();
                self.line(format!("  rollout {outcome} ({})", fleet.join(", ")));
            }
            _ => {}
        }
    }

    fn migration_event(&mut self, e: &MigrationEvent) {
        match e {
            MigrationEvent::Applied {
                version,
                duration_ms,
                ..
            } => self.line(format!("  migration {version} applied in {duration_ms} ms")),
            MigrationEvent::Failed { version, error, .. } => {
                self.line(format!("  migration {version} failed: {error}"))
            }
            MigrationEvent::LockWaiting => self.line("  waiting for the migration lock".into()),
            _ => {}
        }
    }

    fn backup_event(&mut self, e: &BackupEvent) {
        match e {
            BackupEvent::Completed { id, bytes, .. } => {
                self.line(format!("  backup {id}: {bytes} bytes, sha256 recorded"))
            }
            BackupEvent::Verified { id, level, ok, .. } => self.line(format!(
                "  backup {id}: {level} {}",
                if *ok { "passed" } else { "FAILED" }
            )),
            _ => {}
        }
    }

    fn health_event(&mut self, e: &HealthEvent) {
        if let HealthEvent::Verification {
            phase,
            verdict,
            reason,
            ..
        } = e
        {
            let why = reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            self.line(format!("  verification {phase}: {verdict}{why}"));
        }
    }
}

#[async_trait]
impl EventSink for Progress {
    async fn emit(&self, event: &Event) -> runway_core::Result<()> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .render(event);
        Ok(())
    }
}
