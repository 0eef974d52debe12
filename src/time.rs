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
