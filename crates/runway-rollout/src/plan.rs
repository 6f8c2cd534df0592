//! The dry-run plan: batches and durations, computed without touching the platform.

use std::fmt;
use std::time::Duration;

use runway_core::{ControlModel, PlatformCapabilities, UnitId};
use serde::Serialize;

use crate::config::{CanaryStep, RolloutConfig, Strategy, resolve_budgets};
use crate::error::RolloutError;

/// One planned batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedBatch {
    /// Units updated in place (drained first where the platform can).
    pub in_place: Vec<UnitId>,
    /// Old units replaced by surge units (added first, retired once the new ones are available).
    pub replaced: Vec<UnitId>,
    /// A pause after the batch (canary), `None` for none; `Some(None)` pauses until resumed.
    pub pause_after: Option<Option<Duration>>,
    /// Whether the analysis hook runs after the batch.
    pub analysis_after: bool,
}

impl PlannedBatch {
    /// Every unit the batch touches.
    pub fn units(&self) -> impl Iterator<Item = &UnitId> {
        self.in_place.iter().chain(self.replaced.iter())
    }
}

/// What a rollout would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Strategy name.
    pub strategy: String,
    /// Fleet size.
    pub units: usize,
    /// Resolved surge budget.
    pub max_surge: usize,
    /// Resolved unavailability budget.
    pub max_unavailable: usize,
    /// The batches in order.
    pub batches: Vec<PlannedBatch>,
    /// Healthy-path duration: each batch takes `max(start, initial_delay) + success_threshold x period + bake`
    /// plus bounded pauses.
    pub expected: Duration,
    /// Worst case before an outcome when every batch comes within a hair of the progress deadline, a bad one
    /// trips it, and the rollback takes as long again.
    pub worst_case: Duration,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} over {} units (max surge {}, max unavailable {}): {} batches",
            self.strategy,
            self.units,
            self.max_surge,
            self.max_unavailable,
            self.batches.len()
        )?;
        for (i, b) in self.batches.iter().enumerate() {
            let names: Vec<&str> = b.in_place.iter().map(|u| u.as_str()).collect();
            let repl: Vec<&str> = b.replaced.iter().map(|u| u.as_str()).collect();
            write!(f, "  batch {i}: in place [{}]", names.join(", "))?;
            if !repl.is_empty() {
                write!(f, ", replaced by surge [{}]", repl.join(", "))?;
            }
            match b.pause_after {
                Some(Some(d)) => write!(f, ", then pause {}s", d.as_secs())?,
                Some(None) => write!(f, ", then pause until resumed")?,
                None => {}
            }
            if b.analysis_after {
                write!(f, ", then analysis")?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "expected {}s, worst case {}s",
            self.expected.as_secs(),
            self.worst_case.as_secs()
        )
    }
}

/// Plan a rollout of `units` with `config` on a platform with `caps`; `start` is how long a unit takes to start.
///
/// ```
/// use std::time::Duration;
/// use runway_core::{ControlModel, PlatformCapabilities, UnitId};
/// use runway_rollout::{RolloutConfig, Strategy, plan};
///
/// let units: Vec<UnitId> = (1..=3).map(|i| UnitId::new(format!("api-{i}"))).collect();
/// let caps = PlatformCapabilities::all(ControlModel::Orchestrated);
/// let p = plan(&RolloutConfig::default(), &caps, &units, Duration::from_secs(20)).unwrap();
/// assert_eq!(p.batches.len(), 3); // one at a time
/// let rolling = RolloutConfig::default().with_strategy(Strategy::rolling("1", "1").unwrap());
/// assert_eq!(plan(&rolling, &caps, &units, Duration::from_secs(20)).unwrap().batches.len(), 2);
/// ```
pub fn plan(
    config: &RolloutConfig,
    caps: &PlatformCapabilities,
    units: &[UnitId],
    start: Duration,
) -> Result<Plan, RolloutError> {
    config.validate()?;
    let n = units.len();
    let (sb, ub) = config.strategy.budgets();
    let (mut s, u) = resolve_budgets(sb, ub, n);
    if !caps.surge || caps.model == ControlModel::Delegated {
        s = 0;
    }
    let g = &config.gate;
    let per_batch = g.initial_delay.max(start) + g.period * g.success_threshold + g.min_ready;
    let mut batches = Vec::new();
    let mut done = 0usize;
    let mut take = |goal: usize, batches: &mut Vec<PlannedBatch>| {
        while done < goal {
            let left = goal - done;
            let (sz_s, sz_u) = if caps.model == ControlModel::Delegated {
                (0, left)
            } else {
                let a = s.min(left);
                (a, u.min(left - a))
            };
            let replaced = units[done..done + sz_s].to_vec();
            let in_place = units[done + sz_s..done + sz_s + sz_u].to_vec();
            done += sz_s + sz_u;
            batches.push(PlannedBatch {
                in_place,
                replaced,
                pause_after: None,
                analysis_after: config.analysis.after_each_batch,
            });
        }
    };
    let mut pauses = Duration::ZERO;
    match &config.strategy {
        Strategy::BlueGreen {
            pre_promotion_analysis,
        } => {
            batches.push(PlannedBatch {
                in_place: Vec::new(),
                replaced: units.to_vec(),
                pause_after: None,
                analysis_after: *pre_promotion_analysis,
            });
        }
        Strategy::Canary { steps, .. } => {
            for st in steps {
                match st {
                    CanaryStep::SetWeight(w) => take((n * *w as usize).div_ceil(100), &mut batches),
                    CanaryStep::SetScale(k) => take((*k).min(n), &mut batches),
                    CanaryStep::Pause(d) => {
                        if let Some(b) = batches.last_mut() {
                            b.pause_after = Some(*d);
                        }
                        pauses += d.unwrap_or_default();
                    }
                    CanaryStep::Analysis => {
                        if let Some(b) = batches.last_mut() {
                            b.analysis_after = true;
                        }
                    }
                }
            }
            take(n, &mut batches);
        }
        _ => take(n, &mut batches),
    }
    let k = batches.len() as u32;
    Ok(Plan {
        strategy: config.strategy.name().into(),
        units: n,
        max_surge: s,
        max_unavailable: u,
        expected: per_batch * k + pauses,
        worst_case: (config.progress_deadline * k + pauses) * 2,
        batches,
    })
}
