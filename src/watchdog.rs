//! The store watchdog: a wedged store stops the daemon instead of silencing it.
//!
//! sled 0.34 can deadlock under heavy write load (spacejam/sled#1412: a writer
//! holds the segment accountant while it waits for a file truncation that no
//! I/O thread is free to run). Every reader and writer then blocks forever: the
//! daemon would look alive and read no mail. The watchdog writes a probe to the
//! store every `period` on a thread of its own; when a probe has not completed
//! after `limit`, it reports and calls `on_wedged`, which in the daemon exits
//! with status 75 (EX_TEMPFAIL) so that the service manager restarts it.
//!
//! Nothing is lost by that exit: a mail is flagged only after its commit was
//! flushed, and an outbox item leaves only after the server accepted it, so
//! the restarted daemon reads again whatever was not durable.

use std::sync::mpsc;
use std::time::Duration;

/// Exit status of a daemon that stopped because its store was wedged (EX_TEMPFAIL).
pub const WEDGED_EXIT_STATUS: i32 = 75;

/// Starts the watchdog thread. `probe` writes to the store and waits until the
/// write is durable; it returns whether the store accepted it (an error is the
/// health check's business, not the watchdog's: only a probe that never returns
/// counts). `on_wedged` runs once, with how long the probe has been waiting.
pub fn spawn<P, W>(period: Duration, limit: Duration, probe: P, on_wedged: W) -> std::io::Result<()>
where
    P: Fn() -> bool + Send + Sync + 'static,
    W: FnOnce(Duration) + Send + 'static,
{
    let probe = std::sync::Arc::new(probe);
    std::thread::Builder::new().name("store-watchdog".into()).spawn(move || {
        loop {
            let (done, finished) = mpsc::channel();
            let probe = probe.clone();
            let started = std::time::Instant::now();
            let spawned = std::thread::Builder::new().name("store-probe".into()).spawn(move || {
                let _ = done.send(probe());
            });
            if spawned.is_err() {
                // No thread to probe with now: try again next period.
                std::thread::sleep(period);
                continue;
            }
            match finished.recv_timeout(limit) {
                Ok(_) => std::thread::sleep(period.saturating_sub(started.elapsed())),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    on_wedged(started.elapsed());
                    return;
                }
                // The probe thread died without an answer (a panic): not a wedge.
                Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(period),
            }
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_probe_that_never_returns_is_reported_once_after_the_limit() {
        let (tx, rx) = mpsc::channel();
        let spawned = spawn(
            Duration::from_millis(10),
            Duration::from_millis(200),
            || loop {
                std::thread::park()
            },
            move |waited| {
                let _ = tx.send(waited);
            },
        );
        assert!(spawned.is_ok());
        let waited = rx.recv_timeout(Duration::from_secs(10));
        assert!(matches!(waited, Ok(w) if w >= Duration::from_millis(200)), "{waited:?}");
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "reported once");
    }

    #[test]
    fn a_store_that_answers_is_probed_again_and_again_and_never_reported() {
        let probes = Arc::new(AtomicUsize::new(0));
        let wedged = Arc::new(Mutex::new(false));
        let (counter, flag) = (probes.clone(), wedged.clone());
        let spawned = spawn(
            Duration::from_millis(10),
            Duration::from_millis(500),
            move || counter.fetch_add(1, Ordering::SeqCst) % 2 == 0,
            move |_| {
                if let Ok(mut w) = flag.lock() {
                    *w = true;
                }
            },
        );
        assert!(spawned.is_ok());
        std::thread::sleep(Duration::from_millis(300));
        assert!(probes.load(Ordering::SeqCst) >= 5, "probed {} times", probes.load(Ordering::SeqCst));
        assert!(!*wedged.lock().unwrap_or_else(|p| p.into_inner()));
    }
}
