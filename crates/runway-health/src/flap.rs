//! Flap protection: consecutive success and failure thresholds, as a pure state machine.

use serde::{Deserialize, Serialize};

use crate::report::Hold;
use crate::status::Status;

/// How many results in a row change a component's reported status (Kubernetes' `failureThreshold` and
/// `successThreshold`, Consul's `failures_before_critical` and `success_before_passing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlapPolicy {
    /// Failures in a row before a passing component is reported as failing (until then it warns). At least 1.
    pub failure_threshold: u32,
    /// Successes in a row before a failing component is reported as passing again. At least 1.
    pub success_threshold: u32,
}

impl Default for FlapPolicy {
    /// No protection: every result counts at once.
    fn default() -> Self {
        FlapPolicy {
            failure_threshold: 1,
            success_threshold: 1,
        }
    }
}

impl FlapPolicy {
    /// A policy with the given thresholds.
    pub fn new(failure_threshold: u32, success_threshold: u32) -> Self {
        FlapPolicy {
            failure_threshold,
            success_threshold,
        }
    }

    /// Both thresholds must be at least 1.
    pub fn validate(&self) -> Result<(), crate::HealthError> {
        if self.failure_threshold == 0 || self.success_threshold == 0 {
            return Err(crate::HealthError::config(
                "flap_policy",
                "thresholds must be at least 1",
            ));
        }
        Ok(())
    }
}

/// One component's flap-protection state.
///
/// Before any result, the first result is reported as it is (there is no earlier evidence to hold on to).
/// After that, a component reported as pass or warn turns fail only after `failure_threshold` failures in
/// a row (warning meanwhile, with a [`Hold::Failing`]); a component reported as fail turns back only after
/// `success_threshold` non-failures in a row (with a [`Hold::Recovering`] meanwhile).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlapState {
    reported: Option<Status>,
    failures: u32,
    successes: u32,
}

impl FlapState {
    /// A state with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The status reported after the last step, `None` before the first.
    pub fn reported(&self) -> Option<Status> {
        self.reported
    }

    /// Take one raw result; return the status to report and the hold in effect.
    pub fn step(&mut self, policy: &FlapPolicy, raw: Status) -> (Status, Option<Hold>) {
        if raw == Status::Fail {
            self.failures = self.failures.saturating_add(1);
            self.successes = 0;
        } else {
            self.successes = self.successes.saturating_add(1);
            self.failures = 0;
        }
        let (status, hold) = match (self.reported, raw) {
            (None, raw) => (raw, None),
            (Some(Status::Fail), Status::Fail) => (Status::Fail, None),
            (Some(Status::Fail), raw) => {
                if self.successes >= policy.success_threshold {
                    (raw, None)
                } else {
                    (
                        Status::Fail,
                        Some(Hold::Recovering {
                            consecutive: self.successes,
                            threshold: policy.success_threshold,
                        }),
                    )
                }
            }
            (Some(_), Status::Fail) => {
                if self.failures >= policy.failure_threshold {
                    (Status::Fail, None)
                } else {
                    (
                        Status::Warn,
                        Some(Hold::Failing {
                            consecutive: self.failures,
                            threshold: policy.failure_threshold,
                        }),
                    )
                }
            }
            (Some(_), raw) => (raw, None),
        };
        self.reported = Some(status);
        (status, hold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;
    use proptest::prelude::*;

    fn run(policy: FlapPolicy, raws: &[Status]) -> Vec<Status> {
        let mut s = FlapState::new();
        raws.iter().map(|r| s.step(&policy, *r).0).collect()
    }

    #[test]
    fn thresholds() {
        let p = FlapPolicy::new(3, 2);
        assert_eq!(
            run(
                p,
                &[
                    Pass, Fail, Fail, Pass, Fail, Fail, Fail, Pass, Fail, Pass, Pass
                ]
            ),
            vec![
                Pass, Warn, Warn, Pass, Warn, Warn, Fail, Fail, Fail, Fail, Pass
            ]
        );
        assert_eq!(run(p, &[Fail, Pass, Pass]), vec![Fail, Fail, Pass]);
        assert_eq!(
            run(FlapPolicy::default(), &[Pass, Fail, Pass]),
            vec![Pass, Fail, Pass]
        );
        assert!(FlapPolicy::new(0, 1).validate().is_err());
    }

    proptest! {
        /// Never reports fail unless the last `failure_threshold` results failed (or it was already failing
        /// or it is the first result), and never leaves fail without `success_threshold` good results.
        #[test]
        fn invariants(f in 1u32..5, s in 1u32..5, raws in prop::collection::vec(prop_oneof![Just(Pass), Just(Warn), Just(Fail)], 1..60)) {
            let p = FlapPolicy::new(f, s);
            let out = run(p, &raws);
            for i in 1..raws.len() {
                if out[i] == Fail && out[i - 1] != Fail {
                    let start = (i + 1).saturating_sub(f as usize);
                    prop_assert!(raws[start..=i].iter().all(|r| *r == Fail));
                }
                if out[i - 1] == Fail && out[i] != Fail {
                    let start = (i + 1).saturating_sub(s as usize);
                    prop_assert!(raws[start..=i].iter().all(|r| *r != Fail));
                }
            }
        }
    }
}
