//! Failpoints: named instants where a test can make the process crash.
//!
//! They exist only in builds with the cargo feature `failpoints` (the tests
//! enable it; the product never has it). The environment variable
//! `FAILPOINTS` arms them, in the `fail` crate's syntax, for example
//! `FAILPOINTS="commit.before_barrier=return"` (crash at the first pass) or
//! `FAILPOINTS="ingest.between_mails=5*off->return"` (at the sixth). The action
//! `return` aborts the process on the spot, with no destructor, flush or
//! clean-up: a crash at that instant. `panic` and `sleep(ms)` work as the
//! `fail` crate defines them.
//!
//! The instants (see ARCHITECTURE.md, "Windows"):
//! `stage.before_write`, `stage.before_sync` (a batch's files half written),
//! `ingest.between_mails`, `commit.before_barrier`, `barrier.before_flag`,
//! `flag.before_clear`, `quarantine.oversize`, `delivery.after_accept`,
//! `delivery.before_deferrals` (a pass's deferred items not rewritten yet; `delivery.defer`
//! makes every attempt a deferral),
//! `gateway.decide` (a panic while deciding one mail), `oauth.after_save` (new OAuth2
//! tokens saved, not yet used).
//!
//! One is a switch rather than a crash: `barrier.skip_sync=return` makes the
//! durability barrier stop at sled's own flush (no `fdatasync`), so that the
//! benchmarks can measure what the barrier costs.

/// Marks a named instant where a test may crash the process (a no-op without the
/// `failpoints` feature).
#[cfg(feature = "failpoints")]
macro_rules! crash_point {
    ($name:literal) => {
        if fail::eval($name, |_| ()).is_some() {
            $crate::failpoint::crash($name)
        }
    };
}

/// Marks a named instant where a test may crash the process (a no-op without the
/// `failpoints` feature).
#[cfg(not(feature = "failpoints"))]
macro_rules! crash_point {
    ($name:literal) => {};
}

pub(crate) use crash_point;

/// True when the failpoint `name` is armed with `return` (always false without the
/// `failpoints` feature): a switch for measurements, such as the cost of a step.
#[cfg(feature = "failpoints")]
macro_rules! armed {
    ($name:literal) => {
        fail::eval($name, |_| ()).is_some()
    };
}

/// True when the failpoint `name` is armed with `return` (always false without the
/// `failpoints` feature): a switch for measurements, such as the cost of a step.
#[cfg(not(feature = "failpoints"))]
macro_rules! armed {
    ($name:literal) => {
        false
    };
}

pub(crate) use armed;

/// Ends the process at once, as a crash would (SIGABRT; nothing is flushed).
#[cfg(feature = "failpoints")]
pub fn crash(name: &str) -> ! {
    eprintln!("failpoint {name}: crashing here");
    std::process::abort()
}

/// Arms the failpoints named in `FAILPOINTS`; keep the value for the life of the process.
#[cfg(feature = "failpoints")]
pub fn arm() -> fail::FailScenario<'static> {
    fail::FailScenario::setup()
}

/// True in builds with failpoints (the tests check that they run on one).
pub const COMPILED_IN: bool = cfg!(feature = "failpoints");
