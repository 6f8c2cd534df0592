//! [`TcpCheck`]: can a TCP connection be opened.

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::check::{Check, CheckResult, ComponentType, DEFAULT_CHECK_TIMEOUT, Problem, ms};

/// Opens a TCP connection to `host:port` and closes it.
#[derive(Debug, Clone)]
pub struct TcpCheck {
    name: String,
    address: String,
    timeout: Duration,
    critical: bool,
}

impl TcpCheck {
    /// A check of `address` (`host:port`).
    pub fn new(name: impl Into<String>, address: impl Into<String>) -> Self {
        TcpCheck {
            name: name.into(),
            address: address.into(),
            timeout: DEFAULT_CHECK_TIMEOUT,
            critical: true,
        }
    }

    /// The check's timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A failure only warns the service.
    #[must_use]
    pub fn non_critical(mut self) -> Self {
        self.critical = false;
        self
    }
}

#[async_trait]
impl Check for TcpCheck {
    fn name(&self) -> &str {
        &self.name
    }
    fn component_type(&self) -> ComponentType {
        ComponentType::System
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn critical(&self) -> bool {
        self.critical
    }
    async fn check(&self) -> CheckResult {
        let started = Instant::now();
        match tokio::net::TcpStream::connect(self.address.as_str()).await {
            Ok(_) => CheckResult::pass().with_observation(
                "responseTime",
                ms(started.elapsed()).round(),
                "ms",
            ),
            Err(e) => CheckResult::fail(Problem::Unreachable).with_detail(e.to_string()),
        }
    }
}
