//! The gateway's clock: the only module that reads the system time.
//!
//! Everything else receives `now` as a value. `run --once --now T` freezes
//! the clock at `T` for a whole cycle, which makes replays and tests exact.

use jiff::Timestamp;

/// Where "now" comes from.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// The system clock.
    System,
    /// A frozen instant (`--now`).
    Fixed(Timestamp),
}

impl Clock {
    /// The current instant according to this clock.
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Fixed(t) => *t,
        }
    }
}

/// A random delay in `[0, max)`, to spread retries of many clients apart.
pub fn jitter(max: std::time::Duration) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let nanos = max.as_nanos().max(1) as u64;
    std::time::Duration::from_nanos(random % nanos)
}

/// Seconds since the Unix epoch on the system clock (for metrics, never for policy).
pub fn wall_seconds() -> f64 {
    std::time::SystemTime::UNIX_EPOCH.elapsed().map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The system clock as an instant, for what real time governs whatever the gateway's
/// clock says (token expiry: a frozen `--now` does not stop a token from lapsing).
pub fn wall_now() -> Timestamp {
    Timestamp::now()
}

/// A monotonic stopwatch (for latency metrics).
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(std::time::Instant);

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Stopwatch {
        Stopwatch(std::time::Instant::now())
    }

    /// Seconds since the start.
    pub fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}
