//! The one retry policy every provider call goes through.
//!
//! Exponential backoff with jitter (built on [`backon`]), honouring the provider's `Retry-After`, bounded by a
//! maximum number of retries and by an overall deadline. Rate limits and unavailability are always retried;
//! timeouts only for idempotent calls. All waiting is `tokio::time`, so tests with paused time run instantly.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};

use crate::error::{Error, ErrorKind, Result};

/// Whether repeating a call can have a different effect than making it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Repeating the call is safe (reads, upserts, calls with a client request token).
    Idempotent,
    /// Repeating the call may repeat its effect (starting a deployment): timeouts are not retried.
    NonIdempotent,
}

/// Exponential backoff with jitter, a retry cap and an overall deadline.
///
/// ```
/// use std::time::Duration;
/// use runway_core::{Error, Idempotency, RetryPolicy};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let policy = RetryPolicy::default().with_max_retries(3).with_initial_backoff(Duration::from_millis(1));
/// let mut calls = 0;
/// let out: Result<u32, Error> = policy
///     .run(Idempotency::Idempotent, || {
///         calls += 1;
///         let n = calls;
///         async move { if n < 3 { Err(Error::unavailable("503")) } else { Ok(n) } }
///     })
///     .await;
/// assert_eq!(out.unwrap(), 3);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Delay before the first retry.
    pub initial_backoff: Duration,
    /// Upper bound of one delay (before `Retry-After`, which may exceed it).
    pub max_backoff: Duration,
    /// Growth factor between delays.
    pub factor: f32,
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// Overall time budget from the first attempt; no retry starts past it.
    pub deadline: Duration,
    /// Whether to add random jitter to each delay.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    /// 100 ms doubling to 15 s, 8 retries, a 3-minute budget, with jitter.
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(15),
            factor: 2.0,
            max_retries: 8,
            deadline: Duration::from_secs(180),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Set the first delay.
    #[must_use]
    pub fn with_initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Set the largest delay.
    #[must_use]
    pub fn with_max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Set the number of retries.
    #[must_use]
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Set the overall deadline.
    #[must_use]
    pub fn with_deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    /// Turn jitter on or off (off makes delays exact, for tests).
    #[must_use]
    pub fn with_jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// Whether `err` should be retried for a call of this idempotency.
    pub fn should_retry(&self, err: &Error, idempotency: Idempotency) -> bool {
        match err.kind() {
            ErrorKind::Timeout => idempotency == Idempotency::Idempotent,
            _ => err.is_retryable(),
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        let b = ExponentialBuilder::default()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_factor(self.factor)
            .with_max_times(self.max_retries as usize);
        if self.jitter { b.with_jitter() } else { b }
    }

    /// The delays this policy would wait between attempts, ignoring `Retry-After` and the deadline.
    pub fn delays(&self) -> Vec<Duration> {
        self.backoff().build().collect()
    }

    /// Run `op` until it succeeds, fails with a non-retryable error, runs out of retries or passes the deadline.
    ///
    /// A `RateLimited { retry_after }` error waits at least `retry_after`. The returned error carries the number
    /// of attempts made ([`Error::attempts`]).
    pub async fn run<T, F, Fut>(&self, idempotency: Idempotency, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let attempts = Arc::new(AtomicU32::new(0));
        let start = tokio::time::Instant::now();
        let deadline = self.deadline;
        let counter = attempts.clone();
        let mut op = op;
        let result = (move || {
            counter.fetch_add(1, Ordering::Relaxed);
            op()
        })
        .retry(self.backoff())
        .sleep(tokio::time::sleep)
        .when(|e: &Error| self.should_retry(e, idempotency))
        .adjust(move |e: &Error, next: Option<Duration>| {
            let next = next?;
            let wait = match e.retry_after() {
                Some(hint) if hint > next => hint,
                _ => next,
            };
            if start.elapsed() + wait > deadline {
                None
            } else {
                Some(wait)
            }
        })
        .notify(|e: &Error, wait: Duration| {
            tracing::debug!(error = %e, ?wait, "retrying after error");
        })
        .await;
        let n = attempts.load(Ordering::Relaxed);
        result.map_err(|e| e.with_attempts(n.max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn fast() -> RetryPolicy {
        RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(10))
            .with_jitter(false)
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after() {
        let calls = Cell::new(0);
        let start = tokio::time::Instant::now();
        let out = fast()
            .run(Idempotency::Idempotent, || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n == 1 {
                        Err(Error::rate_limited(Some(Duration::from_secs(7)), "429"))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await
            .unwrap();
        assert_eq!(out, 2);
        assert!(start.elapsed() >= Duration::from_secs(7));
        assert!(start.elapsed() < Duration::from_secs(8));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_and_counts_attempts() {
        let err = fast()
            .with_max_retries(3)
            .run(Idempotency::Idempotent, || async {
                Err::<(), _>(Error::unavailable("503"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.attempts(), 4);
        assert!(err.to_string().contains("after 4 attempts"));
    }

    #[tokio::test(start_paused = true)]
    async fn timeouts_not_retried_when_not_idempotent() {
        let calls = Cell::new(0);
        let err = fast()
            .run(Idempotency::NonIdempotent, || {
                calls.set(calls.get() + 1);
                async { Err::<(), _>(Error::timeout("slow")) }
            })
            .await
            .unwrap_err();
        assert_eq!(calls.get(), 1);
        assert_eq!(err.kind(), &ErrorKind::Timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_fails_at_once() {
        let calls = Cell::new(0);
        let _ = fast()
            .run(Idempotency::Idempotent, || {
                calls.set(calls.get() + 1);
                async { Err::<(), _>(Error::not_found("x")) }
            })
            .await;
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_stops_retries() {
        let start = tokio::time::Instant::now();
        let err = fast()
            .with_max_retries(100)
            .with_deadline(Duration::from_secs(5))
            .run(Idempotency::Idempotent, || async {
                Err::<(), _>(Error::rate_limited(Some(Duration::from_secs(2)), "429"))
            })
            .await
            .unwrap_err();
        assert!(start.elapsed() <= Duration::from_secs(5));
        assert_eq!(err.attempts(), 3);
    }

    #[test]
    fn delays_grow_and_cap() {
        let d = fast()
            .with_max_backoff(Duration::from_millis(50))
            .with_max_retries(5)
            .delays();
        assert_eq!(d.len(), 5);
        assert_eq!(d[0], Duration::from_millis(10));
        assert_eq!(d[1], Duration::from_millis(20));
        assert_eq!(d[4], Duration::from_millis(50));
    }
}
