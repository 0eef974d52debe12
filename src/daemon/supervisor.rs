//! The supervisor: every task of the daemon runs under it, and a task that
//! panics (or ends while the daemon is not stopping) is started again, after a
//! capped backoff, and counted in `/metrics`. A failing mailbox task never takes
//! delivery, the scheduler or the other mailboxes with it, and a mail that makes
//! the decision panic is quarantined by [`super::ingest`], so the restarted task
//! does not trip over it again.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{Instrument, error, warn};

use super::Gateway;

/// Runs and restarts the daemon's tasks.
pub(super) struct Supervisor {
    tasks: JoinSet<()>,
    stop: watch::Receiver<bool>,
    gw: Arc<Gateway>,
}

/// Capped exponential backoff with jitter before a task is started again: 1 s, 2 s … 1 min.
fn restart_delay(failures: u32) -> Duration {
    let base = Duration::from_secs(1u64 << failures.min(6).saturating_sub(1)).min(Duration::from_secs(60));
    base + crate::time::jitter(base / 4)
}

impl Supervisor {
    /// A supervisor whose tasks end when `stop` fires.
    pub(super) fn new(stop: watch::Receiver<bool>, gw: Arc<Gateway>) -> Supervisor {
        Supervisor { tasks: JoinSet::new(), stop, gw }
    }

    /// Runs the task `make` builds, under `name`, restarting it when it fails.
    pub(super) fn spawn<F, Fut>(&mut self, name: &str, make: F)
    where
        F: Fn(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.spawn_in(tracing::Span::none(), name, make);
    }

    /// Like [`Supervisor::spawn`], inside a tracing span.
    pub(super) fn spawn_in<F, Fut>(&mut self, span: tracing::Span, name: &str, make: F)
    where
        F: Fn(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (name, mut stop, gw) = (name.to_string(), self.stop.clone(), self.gw.clone());
        self.tasks.spawn(async move {
            let mut failures = 0u32;
            loop {
                let run = tokio::spawn(make(stop.clone()).instrument(span.clone())).await;
                if *stop.borrow() {
                    return;
                }
                failures = failures.saturating_add(1);
                gw.metrics.task_restarted(&name);
                match run {
                    Err(e) if e.is_panic() => error!(task = %name, "task panicked; starting it again"),
                    _ => warn!(task = %name, "task ended unexpectedly; starting it again"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(restart_delay(failures)) => {}
                    _ = stop.changed() => return,
                }
            }
        });
    }

    /// Waits for every task to end, at most `limit`; aborts the rest. True when all ended in time.
    pub(super) async fn wait(mut self, limit: Duration) -> bool {
        let drained = tokio::time::timeout(limit, async { while self.tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            self.tasks.abort_all();
            return false;
        }
        true
    }
}
