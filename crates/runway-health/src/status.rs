//! [`Status`]: pass / warn / fail, its aliases, its ordering and its HTTP mapping.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The health of one component or of a whole service.
///
/// Ordered from best to worst (`Pass < Warn < Fail`), so the overall status of a set of components is
/// their [`max`](Ord::max).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Healthy.
    Pass,
    /// Healthy, with concerns (slow, close to a limit, a failure not yet confirmed).
    Warn,
    /// Unhealthy.
    Fail,
}

impl Status {
    /// The health+json word: `pass`, `warn` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    /// The runbook's word for a component: `healthy`, `degraded` or `unhealthy`.
    pub fn runbook_component_word(self) -> &'static str {
        match self {
            Status::Pass => "healthy",
            Status::Warn => "degraded",
            Status::Fail => "unhealthy",
        }
    }

    /// The runbook's word for the whole service: `healthy` (pass and warn, both served with 2xx) or
    /// `unhealthy`.
    pub fn runbook_overall_word(self) -> &'static str {
        match self {
            Status::Pass | Status::Warn => "healthy",
            Status::Fail => "unhealthy",
        }
    }

    /// Parse a status word, case-insensitively, accepting the aliases in use:
    /// health+json (`pass`, `warn`, `fail`), Node Terminus (`ok`, `error`), Spring Boot (`up`, `down`,
    /// `out_of_service`), Consul (`passing`, `warning`, `critical`) and the runbook (`healthy`, `unhealthy`,
    /// `degraded`). Anything else is `None`.
    pub fn parse(word: &str) -> Option<Status> {
        let w = word.trim();
        const PASS: [&str; 5] = ["pass", "ok", "up", "healthy", "passing"];
        const WARN: [&str; 3] = ["warn", "warning", "degraded"];
        const FAIL: [&str; 8] = [
            "fail",
            "error",
            "down",
            "unhealthy",
            "critical",
            "out_of_service",
            "out-of-service",
            "failing",
        ];
        let is = |set: &[&str]| set.iter().any(|s| s.eq_ignore_ascii_case(w));
        if is(&PASS) {
            Some(Status::Pass)
        } else if is(&WARN) {
            Some(Status::Warn)
        } else if is(&FAIL) {
            Some(Status::Fail)
        } else {
            None
        }
    }

    /// The worst of `statuses`, [`Status::Pass`] when empty.
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
        statuses.into_iter().max().unwrap_or(Status::Pass)
    }

    /// Whether a service in this status should receive traffic (pass and warn).
    pub fn is_serving(self) -> bool {
        self != Status::Fail
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which HTTP status a health response is served with, per [`Status`].
///
/// The default follows the health+json draft and Spring Boot: pass and warn are `200`, fail is `503`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpMapping {
    /// Code for [`Status::Pass`].
    pub pass: u16,
    /// Code for [`Status::Warn`].
    pub warn: u16,
    /// Code for [`Status::Fail`].
    pub fail: u16,
}

impl Default for HttpMapping {
    fn default() -> Self {
        HttpMapping {
            pass: 200,
            warn: 200,
            fail: 503,
        }
    }
}

impl HttpMapping {
    /// The code for `status`.
    pub fn code(&self, status: Status) -> u16 {
        match status {
            Status::Pass => self.pass,
            Status::Warn => self.warn,
            Status::Fail => self.fail,
        }
    }

    /// Check the draft's rule: pass and warn in 200..=399, fail in 400..=599.
    pub fn validate(&self) -> Result<(), crate::HealthError> {
        let ok = (200..400).contains(&self.pass)
            && (200..400).contains(&self.warn)
            && (400..600).contains(&self.fail);
        if ok {
            Ok(())
        } else {
            Err(crate::HealthError::config(
                "http_mapping",
                "pass and warn need a 2xx/3xx code, fail a 4xx/5xx code",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_order() {
        assert_eq!(Status::parse("UP"), Some(Status::Pass));
        assert_eq!(Status::parse("Healthy"), Some(Status::Pass));
        assert_eq!(Status::parse("warning"), Some(Status::Warn));
        assert_eq!(Status::parse("OUT_OF_SERVICE"), Some(Status::Fail));
        assert_eq!(Status::parse("critical"), Some(Status::Fail));
        assert_eq!(Status::parse("unknown"), None);
        assert_eq!(
            Status::worst([Status::Pass, Status::Fail, Status::Warn]),
            Status::Fail
        );
        assert_eq!(Status::worst([]), Status::Pass);
    }

    #[test]
    fn http_mapping() {
        let m = HttpMapping::default();
        assert_eq!(m.code(Status::Pass), 200);
        assert_eq!(m.code(Status::Warn), 200);
        assert_eq!(m.code(Status::Fail), 503);
        assert!(m.validate().is_ok());
        let bad = HttpMapping { fail: 200, ..m };
        assert!(bad.validate().is_err());
    }
}
