//! The delivery task: the outbox over a pool of SMTP connections.
//!
//! Only durable mail is sent: each pass starts with the durability barrier, so
//! an item whose commit a power cut could still undo never leaves. An item
//! leaves the outbox as soon as the server accepted it (and that removal is
//! handed to the operating system at once, and made durable at the end of the
//! pass): a crash repeats at most the mails in flight, a power cut at most the
//! mails of one pass. Every recipient's fate is recorded: a recipient refused
//! for good is a `delivery_failed` event on the SR (and the CSE is told), one
//! deferred is retried with backoff for `retry_for`, and the others are not
//! sent twice. The items a pass defers are rewritten together at its end (one
//! statement with postgres: a mail server away defers a whole pass); a crash before
//! that leaves them claimed until the claim runs out, then they are tried again.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;
use tracing::{Instrument, debug, error, info_span, warn};

use super::Gateway;
use crate::failpoint::crash_point;
use crate::gateway;
use crate::io::smtp::{Mailer, SendError};
use crate::io::store::{OutboxItem, StoreError};

/// Items taken per delivery pass.
const PASS: usize = 64;

/// What the server said to each recipient of one item.
#[derive(Debug, Default)]
struct Attempt {
    /// At least one recipient was accepted.
    accepted: bool,
    /// Refused for good, with the reason.
    refused: Vec<(String, String)>,
    /// Deferred: to be tried again.
    deferred: Vec<String>,
    /// The last temporary error.
    deferred_error: Option<String>,
}

/// How one item ended this pass.
#[derive(Debug)]
enum Fate {
    /// Every recipient accepted.
    Sent,
    /// Some or all recipients wait for a retry: the item as it is to be rewritten at the
    /// end of the pass (all the pass's deferred items in one write).
    Deferred(u64, Box<OutboxItem>),
    /// Some recipients were refused for good (the others, if any, accepted).
    Failed,
}

/// Delay before delivery attempt `n + 1`: `first`, doubling, capped at one hour, with up to 25% jitter.
fn backoff(first: Duration, attempts: u32) -> SignedDuration {
    let base = first.saturating_mul(1u32 << attempts.clamp(1, 12).saturating_sub(1)).min(Duration::from_secs(3600));
    SignedDuration::try_from(base + crate::time::jitter(base / 4)).unwrap_or(SignedDuration::from_secs(3600))
}

/// Submits `item`; when the server refuses it as a whole for good and it has several
/// recipients, each recipient is tried on its own, so one bad address does not sink
/// the others and each gets its own fate.
async fn send(mailer: &Mailer, item: &OutboxItem) -> Attempt {
    let mut attempt = Attempt::default();
    if crate::failpoint::armed!("delivery.defer") {
        attempt.deferred = item.to.clone();
        attempt.deferred_error = Some("deferred by the failpoint delivery.defer".into());
        return attempt;
    }
    match mailer.send(&item.from, &item.to, &item.bytes).await {
        Ok(()) => attempt.accepted = true,
        Err(SendError::Transient(e)) => {
            attempt.deferred = item.to.clone();
            attempt.deferred_error = Some(e);
        }
        Err(SendError::Permanent(e)) if item.to.len() <= 1 => {
            attempt.refused = item.to.iter().map(|r| (r.clone(), e.clone())).collect();
        }
        Err(SendError::Permanent(e)) => {
            warn!(error = %e, "refused as a whole; trying each recipient");
            for rcpt in &item.to {
                match mailer.send(&item.from, std::slice::from_ref(rcpt), &item.bytes).await {
                    Ok(()) => attempt.accepted = true,
                    Err(SendError::Transient(e)) => {
                        warn!(%rcpt, error = %e, "recipient deferred");
                        attempt.deferred.push(rcpt.clone());
                        attempt.deferred_error = Some(e);
                    }
                    Err(SendError::Permanent(e)) => {
                        error!(%rcpt, error = %e, "recipient refused permanently");
                        attempt.refused.push((rcpt.clone(), e));
                    }
                }
            }
        }
    }
    attempt
}

impl Gateway {
    /// Records what the server said about outbox item `id` (blocking).
    fn settle(&self, id: u64, mut item: OutboxItem, attempt: Attempt, now: Timestamp) -> Result<Fate, StoreError> {
        if !attempt.refused.is_empty() {
            self.metrics.delivery(item.kind.template(), false);
            self.deciding_again(|| self.record_delivery_failure(&item, &attempt.refused, now))?;
        }
        if attempt.deferred.is_empty() {
            self.store.outbox_remove(id)?;
            self.store.flush_to_os()?;
            if attempt.refused.is_empty() {
                self.metrics.delivery(item.kind.template(), true);
                debug!("delivered");
                return Ok(Fate::Sent);
            }
            return Ok(Fate::Failed);
        }
        item.to = attempt.deferred;
        let error = attempt.deferred_error.unwrap_or_default();
        if self.expired(&item, now) {
            error!(error = %error, to = ?item.to, "still deferred after retry_for: giving up");
            self.metrics.delivery(item.kind.template(), false);
            self.store.outbox_remove(id)?;
            let gave_up: Vec<(String, String)> =
                item.to.iter().map(|r| (r.clone(), format!("still deferred after {} attempts: {error}", item.attempts + 1))).collect();
            self.deciding_again(|| self.record_delivery_failure(&item, &gave_up, now))?;
            self.store.flush_to_os()?;
            return Ok(Fate::Failed);
        }
        item.attempts += 1;
        item.next_attempt_at = now + backoff(self.setup().config.smtp.retry_after, item.attempts);
        warn!(error = %error, attempts = item.attempts, next = %item.next_attempt_at, to = ?item.to, "delivery deferred");
        item.last_error = Some(error);
        Ok(Fate::Deferred(id, Box::new(item)))
    }

    /// Records recipients refused for good on the item's SR and tells the CSE.
    fn record_delivery_failure(&self, item: &OutboxItem, refused: &[(String, String)], now: Timestamp) -> Result<(), StoreError> {
        let _guard = self.decide_guard();
        let Some(sr) = self.store.get_sr(item.sr)? else { return Ok(()) };
        let setup = self.setup();
        let to: Vec<String> = refused.iter().map(|(r, _)| r.clone()).collect();
        let why = refused.iter().map(|(r, e)| format!("{r}: {e}")).collect::<Vec<_>>().join("; ");
        let decision = gateway::delivery_failed(self.ctx_of(&setup), sr.clone(), &item.message_id, &to, &why, now);
        match decision.map_err(|e| e.to_string()).and_then(|d| self.writes(Some(&sr), &d, None, now)) {
            Ok(c) => {
                self.store.commit(&c)?;
                self.outbox_ready.notify_one();
                Ok(())
            }
            Err(e) => {
                error!(sr = item.sr, error = %e, "cannot record the delivery failure");
                Ok(())
            }
        }
    }

    fn expired(&self, item: &OutboxItem, now: Timestamp) -> bool {
        let limit = SignedDuration::try_from(self.setup().config.smtp.retry_for).unwrap_or(SignedDuration::MAX);
        now.duration_since(item.queued_at) > limit
    }
}

/// Sends one outbox item and records the outcome.
async fn deliver_one(gw: &Arc<Gateway>, mailer: &Mailer, id: u64, item: OutboxItem, now: Timestamp) -> anyhow::Result<Fate> {
    let span = info_span!("deliver", sr = item.sr, kind = ?item.kind, message_id = %item.message_id);
    async move {
        let attempt = send(mailer, &item).await;
        gw.metrics.smtp(mailer.connect_problem());
        if attempt.accepted {
            crash_point!("delivery.after_accept");
        }
        Ok(gw.blocking(move |gw| gw.settle(id, item, attempt, now)).await??)
    }
    .instrument(span)
    .await
}

/// Delivers every due outbox item once, pass after pass, until none is due or
/// `stop` is set (then after the pass in hand: a stopping daemon does not first
/// work through a large outbox). Returns (sent, not sent).
pub(super) async fn deliver_due(gw: &Arc<Gateway>, mailer: &Mailer, stop: &watch::Receiver<bool>) -> anyhow::Result<(usize, usize)> {
    let (mut sent, mut failed) = (0, 0);
    while !*stop.borrow() {
        let now = gw.clock.now();
        let due = gw
            .blocking(move |gw| {
                gw.store.make_durable()?;
                gw.store.outbox_due(now, PASS)
            })
            .await??;
        if due.is_empty() {
            break;
        }
        let fates: Vec<anyhow::Result<Fate>> = futures_util::stream::iter(due)
            .map(|(id, item)| deliver_one(gw, mailer, id, item, now))
            .buffer_unordered(gw.setup().config.smtp.connections)
            .collect()
            .await;
        let mut deferred = Vec::new();
        let mut first_error = None;
        for fate in fates {
            match fate {
                Ok(Fate::Sent) => sent += 1,
                Ok(Fate::Failed) => failed += 1,
                Ok(Fate::Deferred(id, item)) => {
                    failed += 1;
                    deferred.push((id, *item));
                }
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        // Items not rewritten (a crash first) keep their claim, which runs out: they are
        // tried again early, never lost.
        let retry_later = !deferred.is_empty();
        if retry_later {
            crash_point!("delivery.before_deferrals");
        }
        gw.blocking(move |gw| gw.store.outbox_update_all(&deferred)).await??;
        gw.make_durable().await?;
        if let Some(e) = first_error {
            return Err(e);
        }
        if retry_later {
            break;
        }
    }
    Ok((sent, failed))
}

/// The delivery task of the daemon.
pub(super) async fn deliver_forever(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    match Mailer::new(&gw.setup().config.smtp, gw.smtp_tokens()) {
        Ok(mailer) => {
            deliver_until_stopped(&gw, &mailer, &mut stop).await;
        }
        Err(e) => error!(error = %e, "cannot set up SMTP; outbox will not be delivered"),
    }
}

/// Delivers the outbox pass after pass until `stop` is set, waking when new mail
/// is committed or the next retry falls due. Returns (sent, not sent).
pub(super) async fn deliver_until_stopped(gw: &Arc<Gateway>, mailer: &Mailer, stop: &mut watch::Receiver<bool>) -> (usize, usize) {
    let (mut sent, mut failed) = (0, 0);
    let mut failures = 0u32;
    loop {
        match deliver_due(gw, mailer, stop).await {
            Ok((s, f)) => {
                (sent, failed) = (sent + s, failed + f);
                failures = 0;
            }
            Err(e) => {
                // A failing store (a full or dead disk) is retried with capped backoff, not spun on.
                failures = failures.saturating_add(1);
                error!(error = %e, "outbox pass failed");
            }
        }
        if *stop.borrow() {
            return (sent, failed);
        }
        let now = gw.clock.now();
        let next = gw.blocking(move |gw| gw.store.outbox_next_due_after(now)).await.ok().and_then(Result::ok).flatten();
        let after_failure = Duration::from_secs(1u64 << failures.min(6)).min(Duration::from_secs(60));
        let wait = match next {
            _ if failures > 0 => after_failure,
            Some(t) => Duration::try_from(t.duration_since(now))
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(50), Duration::from_secs(30)),
            None => Duration::from_secs(30),
        };
        tokio::select! {
            _ = gw.outbox_ready.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}
