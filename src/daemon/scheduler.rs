//! The scheduler task: scheduled work from the due index (deferred assignment,
//! first-response warnings, hold ends, contact attempts, closures), the daily
//! digests when due (see [`super::desk`]), and the pruning of automated-mail
//! records the hourly cap no longer needs.
//!
//! It reads only the due index up to `now`, never every SR. Each SR's entry is
//! the one the store made at its last commit, so an entry written under an
//! older policy (a SIGHUP or a restart changed business hours) is moved, not
//! left behind; and work still due after its pass (no CSE to assign yet, say)
//! is tried again a minute later instead of at once, so the scheduler never spins.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;
use tracing::{debug, error, info};

use super::Gateway;
use crate::gateway;
use crate::io::store::{Commit, StoreError};

/// SRs taken per read of the due index.
const CHUNK: usize = 500;
/// When scheduled work that could not be done is tried again.
const RETRY_UNDONE_WORK: SignedDuration = SignedDuration::from_mins(1);
/// Automated-mail records older than this are pruned (the cap looks back one hour).
const AUTOMATED_KEPT: SignedDuration = SignedDuration::from_hours(2);

impl Gateway {
    /// The scheduled work on SR `id` at `now`, committed (blocking).
    fn tick_one(&self, id: u64, now: Timestamp) -> Result<(), StoreError> {
        let _guard = self.decide_guard();
        let Some(sr) = self.store.get_sr(id)? else { return Ok(()) };
        let (loads, rr) = (self.store.loads()?, self.store.rr_turn()?);
        let setup = self.setup();
        let mut c = match gateway::tick(self.ctx_of(&setup), sr.clone(), &loads, rr, now) {
            Ok(Some(d)) => {
                let newly_assigned = sr.assignee.is_none() && d.sr.assignee.is_some();
                match self.writes(Some(&sr), &d, None, now) {
                    Ok(mut c) => {
                        c.next_rr = newly_assigned.then_some(rr + 1);
                        c
                    }
                    Err(e) => {
                        error!(sr = id, error = %e, "scheduled work failed to render; will retry");
                        Commit { srs: vec![self.sr_write(Some(&sr), &sr)], ..Commit::default() }
                    }
                }
            }
            // Nothing due after all: move the index entry to the real wake-up.
            Ok(None) => Commit { srs: vec![self.sr_write(Some(&sr), &sr)], ..Commit::default() },
            Err(e) => {
                error!(sr = id, error = %e, "scheduled work failed to render; will retry");
                Commit { srs: vec![self.sr_write(Some(&sr), &sr)], ..Commit::default() }
            }
        };
        for w in &mut c.srs {
            if w.wake.is_some_and(|t| t <= now) {
                w.wake = Some(now + RETRY_UNDONE_WORK);
            }
        }
        self.store.commit(&c)?;
        debug!(sr = id, "scheduled work done");
        Ok(())
    }

    /// Every SR due at `now`, once each (blocking); returns how many.
    fn run_due_blocking(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut done = 0;
        let mut visited = std::collections::HashSet::new();
        loop {
            let ids: Vec<u64> = self.store.due_until(now, CHUNK)?.into_iter().filter(|id| visited.insert(*id)).collect();
            if ids.is_empty() {
                break;
            }
            for id in ids {
                self.deciding_again(|| self.tick_one(id, now))?;
                done += 1;
            }
        }
        self.store.prune_automated(now - AUTOMATED_KEPT, 10_000)?;
        let digests = self.digest_if_due(now)?;
        if done + digests > 0 {
            self.store.make_durable()?;
            self.outbox_ready.notify_one();
        }
        Ok(done)
    }
}

/// Runs the scheduled work that is due, off the runtime; returns how many SRs were visited.
pub(super) async fn run_due(gw: &Arc<Gateway>) -> anyhow::Result<usize> {
    Ok(gw.blocking(|gw| gw.run_due_blocking()).await??)
}

/// Scheduled work, forever: wakes at the earliest due time in the index (at least every 30 s).
pub(super) async fn schedule_forever(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    loop {
        let watch = crate::time::Stopwatch::start();
        match run_due(&gw).await {
            Ok(0) => {}
            Ok(done) => info!(done, seconds = watch.seconds(), "scheduled pass"),
            Err(e) => error!(error = %e, "scheduled work failed"),
        }
        let next = gw.blocking(|gw| gw.store.next_due()).await.ok().and_then(Result::ok).flatten();
        let wait = match next {
            Some(t) => Duration::try_from(t.duration_since(gw.clock.now()))
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(100), Duration::from_secs(30)),
            None => Duration::from_secs(30),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => break,
        }
    }
}
