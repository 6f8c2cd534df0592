//! Wall-clock time that tests can control.
//!
//! All *waiting* in runway goes through `tokio::time`, so tests run with paused time. *Timestamps* come from a
//! [`Clock`]: [`SystemClock`] in production, [`TokioClock`] wherever time must follow tokio's (paused) clock,
//! as in the simulator.

use std::fmt::Debug;

use chrono::{DateTime, Utc};

/// A source of wall-clock timestamps.
pub trait Clock: Send + Sync + Debug + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that starts at a fixed time and advances with `tokio::time` (so paused time moves it).
///
/// ```
/// use std::time::Duration;
/// use runway_core::{Clock, TokioClock};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let start = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
/// let clock = TokioClock::starting_at(start);
/// tokio::time::sleep(Duration::from_secs(3600)).await; // instant with paused time
/// assert_eq!((clock.now() - start).num_seconds(), 3600);
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    base: DateTime<Utc>,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `base` now.
    pub fn starting_at(base: DateTime<Utc>) -> Self {
        TokioClock {
            base,
            origin: tokio::time::Instant::now(),
        }
    }

    /// A clock reading the system time now and advancing with tokio.
    pub fn now_system() -> Self {
        Self::starting_at(Utc::now())
    }

    /// The tokio instant this clock counts from.
    pub fn origin(&self) -> tokio::time::Instant {
        self.origin
    }

    /// The wall-clock time of a tokio instant.
    pub fn at(&self, instant: tokio::time::Instant) -> DateTime<Utc> {
        let elapsed = instant.saturating_duration_since(self.origin);
        self.base + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        self.at(tokio::time::Instant::now())
    }
}
