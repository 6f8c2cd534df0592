//! Rollout configuration: strategies, budgets, health gates, analysis policy and deadlines.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::RolloutError;

/// A surge or unavailability budget: a unit count or a percentage of the fleet.
///
/// Parsed from `"2"` or `"25%"`. Percentages resolve with Kubernetes' rounding (see [`resolve_budgets`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Budget {
    /// An absolute number of units.
    Count(u32),
    /// A percentage (0..=100) of the fleet.
    Percent(u32),
}

impl Budget {
    /// Resolve against a fleet of `n` units, rounding percentages up (`round_up`) or down.
    pub fn resolve(self, n: usize, round_up: bool) -> usize {
        match self {
            Budget::Count(c) => c as usize,
            Budget::Percent(p) => {
                let num = n * p as usize;
                if round_up {
                    num.div_ceil(100)
                } else {
                    num / 100
                }
            }
        }
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Budget::Count(c) => write!(f, "{c}"),
            Budget::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl FromStr for Budget {
    type Err = RolloutError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || RolloutError::InvalidConfig {
            field: "budget",
            reason: format!("{s:?} is neither a count nor a percentage like \"25%\""),
        };
        if let Some(p) = t.strip_suffix('%') {
            let v: u32 = p.trim().parse().map_err(|_| bad())?;
            if v > 100 {
                return Err(RolloutError::InvalidConfig {
                    field: "budget",
                    reason: format!("{s:?} is above 100%"),
                });
            }
            Ok(Budget::Percent(v))
        } else {
            Ok(Budget::Count(t.parse().map_err(|_| bad())?))
        }
    }
}

impl TryFrom<String> for Budget {
    type Error = RolloutError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Budget> for String {
    fn from(b: Budget) -> String {
        b.to_string()
    }
}

/// Resolve `(max_surge, max_unavailable)` for a fleet of `n` units the way Kubernetes does: surge rounds up,
/// unavailable rounds down, and when both resolve to zero unavailable becomes 1.
///
/// ```
/// use runway_rollout::{Budget, resolve_budgets};
/// assert_eq!(resolve_budgets(Budget::Percent(25), Budget::Percent(25), 10), (3, 2));
/// assert_eq!(resolve_budgets(Budget::Percent(1), Budget::Percent(1), 2), (1, 0));
/// assert_eq!(resolve_budgets(Budget::Count(0), Budget::Percent(1), 2), (0, 1));
/// ```
pub fn resolve_budgets(max_surge: Budget, max_unavailable: Budget, n: usize) -> (usize, usize) {
    let s = max_surge.resolve(n, true);
    let mut u = max_unavailable.resolve(n, false);
    if s == 0 && u == 0 {
        u = 1;
    }
    (s, u.min(n.max(1)))
}

/// One step of a canary strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CanaryStep {
    /// Move this percentage of the fleet (rounded up) to the new release. Without traffic routing, weight is the
    /// share of units.
    SetWeight(u32),
    /// Move this many units to the new release.
    SetScale(usize),
    /// Wait this long (`None`: until [`RolloutControl::resume`](crate::RolloutControl::resume)).
    Pause(Option<Duration>),
    /// Run the analysis hook; fail rolls back, inconclusive follows [`AnalysisPolicy::on_inconclusive`].
    Analysis,
}

impl fmt::Display for CanaryStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CanaryStep::SetWeight(w) => write!(f, "set_weight {w}%"),
            CanaryStep::SetScale(n) => write!(f, "set_scale {n}"),
            CanaryStep::Pause(Some(d)) => write!(f, "pause {}s", d.as_secs()),
            CanaryStep::Pause(None) => f.write_str("pause until resumed"),
            CanaryStep::Analysis => f.write_str("analysis"),
        }
    }
}

/// How units are replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Strategy {
    /// The runbook's default: one unit at a time, drained from the load balancer while it updates.
    OneAtATime,
    /// Waves bounded by a surge and an unavailability budget (Kubernetes' rolling update).
    Rolling {
        /// Extra units allowed above the fleet size (needs a platform that can add units).
        max_surge: Budget,
        /// Units allowed out of service at once.
        max_unavailable: Budget,
    },
    /// Steps of weights, pauses and analyses; the last step is always "everything".
    Canary {
        /// The steps in order.
        steps: Vec<CanaryStep>,
        /// Surge budget used while moving units.
        max_surge: Budget,
        /// Unavailability budget used while moving units.
        max_unavailable: Budget,
    },
    /// A full new set of units beside the old one, one traffic switch, then the old set is removed.
    BlueGreen {
        /// Run the analysis hook before switching traffic.
        pre_promotion_analysis: bool,
    },
}

impl FromStr for Strategy {
    type Err = RolloutError;

    /// `one-at-a-time`, `rolling` (25% / 25%), `rolling:SURGE:UNAVAILABLE`, `canary` (one unit, pause 60 s,
    /// analysis, half, then all) or `blue-green`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.trim().split(':');
        let name = parts.next().unwrap_or_default();
        match name {
            "one-at-a-time" | "one_at_a_time" => Ok(Strategy::OneAtATime),
            "rolling" => {
                let surge = parts.next().unwrap_or("25%");
                let unavailable = parts.next().unwrap_or("25%");
                Strategy::rolling(surge, unavailable)
            }
            "canary" => Ok(Strategy::canary(vec![
                CanaryStep::SetScale(1),
                CanaryStep::Pause(Some(Duration::from_secs(60))),
                CanaryStep::Analysis,
                CanaryStep::SetWeight(50),
            ])),
            "blue-green" | "blue_green" => Ok(Strategy::BlueGreen {
                pre_promotion_analysis: true,
            }),
            other => Err(RolloutError::InvalidConfig {
                field: "strategy",
                reason: format!(
                    "unknown strategy {other:?} (one-at-a-time, rolling[:SURGE:UNAVAILABLE], canary, blue-green)"
                ),
            }),
        }
    }
}

impl Strategy {
    /// Rolling with `max_surge` and `max_unavailable` (`"25%"` or `"2"`).
    pub fn rolling(max_surge: &str, max_unavailable: &str) -> Result<Self, RolloutError> {
        Ok(Strategy::Rolling {
            max_surge: max_surge.parse()?,
            max_unavailable: max_unavailable.parse()?,
        })
    }

    /// A canary with `steps` that moves one unit at a time without surge.
    pub fn canary(steps: Vec<CanaryStep>) -> Self {
        Strategy::Canary {
            steps,
            max_surge: Budget::Count(0),
            max_unavailable: Budget::Count(1),
        }
    }

    /// A short name (`one-at-a-time`, `rolling`, `canary`, `blue-green`).
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::OneAtATime => "one-at-a-time",
            Strategy::Rolling { .. } => "rolling",
            Strategy::Canary { .. } => "canary",
            Strategy::BlueGreen { .. } => "blue-green",
        }
    }

    /// The surge and unavailability budgets this strategy replaces units with.
    pub fn budgets(&self) -> (Budget, Budget) {
        match self {
            Strategy::OneAtATime | Strategy::BlueGreen { .. } => {
                (Budget::Count(0), Budget::Count(1))
            }
            Strategy::Rolling {
                max_surge,
                max_unavailable,
            }
            | Strategy::Canary {
                max_surge,
                max_unavailable,
                ..
            } => (*max_surge, *max_unavailable),
        }
    }
}

/// Per-unit health gate: when a unit counts as ready, and when as failed.
///
/// Probing starts `initial_delay` after the deployment starts, runs every `period`, and each probe must answer
/// within `timeout`. `success_threshold` consecutive passes make the unit ready (it goes back into the load
/// balancer); it must then stay healthy for `min_ready` (the bake) to count as available. Once the platform says
/// the deployment is up, `failure_threshold` consecutive failures fail the unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthGate {
    /// Wait before the first probe.
    pub initial_delay: Duration,
    /// Time between probes (and between deployment polls).
    pub period: Duration,
    /// Per-probe timeout.
    pub timeout: Duration,
    /// Consecutive passes that make a unit ready.
    pub success_threshold: u32,
    /// Consecutive failures that fail a unit.
    pub failure_threshold: u32,
    /// Bake: how long a ready unit must stay healthy before it counts as available.
    pub min_ready: Duration,
}

impl Default for HealthGate {
    /// Kubernetes' readiness defaults: no delay, every 10 s, 1 s timeout, 1 success, 3 failures, no bake.
    fn default() -> Self {
        HealthGate {
            initial_delay: Duration::ZERO,
            period: Duration::from_secs(10),
            timeout: Duration::from_secs(1),
            success_threshold: 1,
            failure_threshold: 3,
            min_ready: Duration::ZERO,
        }
    }
}

impl HealthGate {
    /// Set the initial delay.
    #[must_use]
    pub fn with_initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }
    /// Set the probe period.
    #[must_use]
    pub fn with_period(mut self, d: Duration) -> Self {
        self.period = d;
        self
    }
    /// Set the probe timeout.
    #[must_use]
    pub fn with_timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// Set the success threshold.
    #[must_use]
    pub fn with_success_threshold(mut self, n: u32) -> Self {
        self.success_threshold = n;
        self
    }
    /// Set the failure threshold.
    #[must_use]
    pub fn with_failure_threshold(mut self, n: u32) -> Self {
        self.failure_threshold = n;
        self
    }
    /// Set the bake (min-ready) time.
    #[must_use]
    pub fn with_min_ready(mut self, d: Duration) -> Self {
        self.min_ready = d;
        self
    }

    /// Worst case from deploy to available for a unit that needs `start` to come up.
    pub fn worst_case(&self, start: Duration) -> Duration {
        let probes = self.success_threshold.max(1);
        self.initial_delay.max(start) + self.period * probes + self.timeout + self.min_ready
    }
}

/// What an inconclusive analysis does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InconclusivePolicy {
    /// Pause until an operator resumes (Argo Rollouts' behaviour).
    Pause,
    /// Treat as a failure and roll back.
    Fail,
}

/// When the analysis hook runs and how its verdicts are treated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisPolicy {
    /// Run after every completed batch (rolling, one-at-a-time).
    pub after_each_batch: bool,
    /// Run once every unit is on the new release, before declaring success.
    pub before_success: bool,
    /// What an inconclusive verdict (or an analysis error) does.
    pub on_inconclusive: InconclusivePolicy,
}

impl Default for AnalysisPolicy {
    /// Before success only; inconclusive pauses.
    fn default() -> Self {
        AnalysisPolicy {
            after_each_batch: false,
            before_success: true,
            on_inconclusive: InconclusivePolicy::Pause,
        }
    }
}

/// Everything that shapes a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutConfig {
    /// How units are replaced.
    pub strategy: Strategy,
    /// The per-unit health gate.
    pub gate: HealthGate,
    /// No progress for this long fails the rollout (or the rollback).
    pub progress_deadline: Duration,
    /// When analysis runs and what inconclusive does (ignored without an analysis hook).
    pub analysis: AnalysisPolicy,
    /// Roll back automatically on a critical trigger; when off, the run halts and reports the mixed fleet.
    pub auto_rollback: bool,
    /// Drain units from the load balancer before updating them, where the platform can.
    pub drain: bool,
    /// How long a non-critical issue may stay open for a hotfix before the rollout rolls back.
    pub hotfix_window: Duration,
}

impl Default for RolloutConfig {
    /// One at a time with drain, Kubernetes' probe defaults, a 10-minute progress deadline, automatic rollback,
    /// a 5-minute hotfix window (the runbook's "can fix quickly").
    fn default() -> Self {
        RolloutConfig {
            strategy: Strategy::OneAtATime,
            gate: HealthGate::default(),
            progress_deadline: Duration::from_secs(600),
            analysis: AnalysisPolicy::default(),
            auto_rollback: true,
            drain: true,
            hotfix_window: Duration::from_secs(300),
        }
    }
}

impl RolloutConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Set the strategy.
    #[must_use]
    pub fn with_strategy(mut self, s: Strategy) -> Self {
        self.strategy = s;
        self
    }
    /// Set the health gate.
    #[must_use]
    pub fn with_gate(mut self, g: HealthGate) -> Self {
        self.gate = g;
        self
    }
    /// Set the progress deadline.
    #[must_use]
    pub fn with_progress_deadline(mut self, d: Duration) -> Self {
        self.progress_deadline = d;
        self
    }
    /// Set the analysis policy.
    #[must_use]
    pub fn with_analysis(mut self, a: AnalysisPolicy) -> Self {
        self.analysis = a;
        self
    }
    /// Turn automatic rollback on or off.
    #[must_use]
    pub fn with_auto_rollback(mut self, on: bool) -> Self {
        self.auto_rollback = on;
        self
    }
    /// Turn draining on or off.
    #[must_use]
    pub fn with_drain(mut self, on: bool) -> Self {
        self.drain = on;
        self
    }
    /// Set the hotfix window.
    #[must_use]
    pub fn with_hotfix_window(mut self, d: Duration) -> Self {
        self.hotfix_window = d;
        self
    }

    /// Check the values that do not depend on the platform.
    pub fn validate(&self) -> Result<(), RolloutError> {
        let g = &self.gate;
        if g.period.is_zero() {
            return Err(RolloutError::InvalidConfig {
                field: "gate.period",
                reason: "must be above zero".into(),
            });
        }
        if g.success_threshold == 0 || g.failure_threshold == 0 {
            return Err(RolloutError::InvalidConfig {
                field: "gate.thresholds",
                reason: "success and failure thresholds must be at least 1".into(),
            });
        }
        if self.progress_deadline <= g.period {
            return Err(RolloutError::InvalidConfig {
                field: "progress_deadline",
                reason: format!(
                    "{:?} must exceed the probe period {:?}",
                    self.progress_deadline, g.period
                ),
            });
        }
        if let Strategy::Canary { steps, .. } = &self.strategy {
            for s in steps {
                if let CanaryStep::SetWeight(w) = s
                    && *w > 100
                {
                    return Err(RolloutError::InvalidConfig {
                        field: "strategy.steps",
                        reason: format!("weight {w} is above 100"),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_rounding() {
        use Budget::*;
        // surge rounds up, unavailable rounds down.
        assert_eq!(resolve_budgets(Percent(25), Percent(25), 10), (3, 2));
        assert_eq!(resolve_budgets(Percent(25), Percent(25), 4), (1, 1));
        assert_eq!(resolve_budgets(Percent(25), Percent(25), 1), (1, 0));
        // both zero forces unavailable to 1.
        assert_eq!(resolve_budgets(Percent(0), Percent(1), 2), (0, 1));
        assert_eq!(resolve_budgets(Count(0), Count(0), 5), (0, 1));
        assert_eq!(resolve_budgets(Count(2), Count(3), 5), (2, 3));
    }

    #[test]
    fn budget_parse_and_display() {
        assert_eq!("25%".parse::<Budget>().unwrap(), Budget::Percent(25));
        assert_eq!(" 3 ".parse::<Budget>().unwrap(), Budget::Count(3));
        assert!("101%".parse::<Budget>().is_err());
        assert!("x".parse::<Budget>().is_err());
        assert_eq!(Budget::Percent(10).to_string(), "10%");
        let j = serde_json::to_string(&Budget::Percent(10)).unwrap();
        assert_eq!(j, "\"10%\"");
        assert_eq!(
            serde_json::from_str::<Budget>(&j).unwrap(),
            Budget::Percent(10)
        );
    }

    #[test]
    fn validation() {
        assert!(RolloutConfig::default().validate().is_ok());
        let bad =
            RolloutConfig::default().with_gate(HealthGate::default().with_period(Duration::ZERO));
        assert!(matches!(
            bad.validate(),
            Err(RolloutError::InvalidConfig {
                field: "gate.period",
                ..
            })
        ));
        let bad = RolloutConfig::default().with_progress_deadline(Duration::from_secs(1));
        assert!(bad.validate().is_err());
    }
}
