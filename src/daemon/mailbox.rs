//! The mailbox task: connect, read every new mail once, wait (IDLE or poll),
//! reconnect with capped backoff on errors.
//!
//! One pass ([`cycle`]) fetches new mail by UID in ascending batches, hands each
//! batch to [`super::ingest`] on a blocking thread, runs the durability barrier,
//! and only then flags or moves the batch's mails on the server. The next batch is
//! fetched and parsed while one is decided and committed; nothing of it is
//! committed before the batch in hand is durable and flagged. Mail too large
//! to fetch is handled in its place among the others, so the mailbox position
//! never passes a UID that is not committed.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;
use tracing::{info, warn};

use super::Gateway;
use super::ingest::{self, Fetched, Prepared};
use crate::config::Mailbox;
use crate::failpoint::crash_point;
use crate::io::imap::{Connection, Wake};
use crate::io::store::{Disposition, Pending};

/// Mails fetched and committed per barrier (group commit). 200 measured no faster and
/// 16 MB larger at its peak on a 10,000-mail backlog (BENCHMARKS.md, issue 16 round four).
const BATCH: usize = 100;
/// Bytes fetched per batch, at most (about): memory stays bounded.
const BATCH_BYTES: u64 = 64 * 1024 * 1024;
/// How much of the headers of a mail too large to fetch is read.
const GLIMPSE_BYTES: u32 = 64 * 1024;

/// What a pass over one mailbox did.
#[derive(Debug, Default, Clone, Copy)]
pub struct CycleStats {
    /// Mails read and committed.
    pub processed: usize,
    /// Mails seen before (re-read).
    pub duplicates: usize,
    /// Mails quarantined.
    pub quarantined: usize,
}

/// Fetch batches in UID order: at most [`BATCH`] mails and about [`BATCH_BYTES`]
/// each (a mail over `max` counts for its glimpse only).
fn batches(sizes: &[(u32, u64)], max: u64) -> Vec<Vec<(u32, u64)>> {
    let mut out: Vec<Vec<(u32, u64)>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for &(uid, size) in sizes {
        let cost = if size > max { u64::from(GLIMPSE_BYTES) } else { size };
        if !current.is_empty() && (current.len() >= BATCH || bytes + cost > BATCH_BYTES) {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push((uid, size));
        bytes += cost;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Fetches one batch: whole mails, and the first bytes of the headers of those over `max`.
async fn fetch(conn: &mut Connection, batch: &[(u32, u64)], max: u64) -> anyhow::Result<Vec<Fetched>> {
    let (big, fits): (Vec<_>, Vec<_>) = batch.iter().partition(|(_, size)| *size > max);
    let fits: Vec<u32> = fits.iter().map(|(uid, _)| *uid).collect();
    let big_uids: Vec<u32> = big.iter().map(|(uid, _)| *uid).collect();
    let mut whole: std::collections::HashMap<u32, Vec<u8>> = conn.fetch(&fits).await?.into_iter().collect();
    let mut heads: std::collections::HashMap<u32, Vec<u8>> = conn.headers(&big_uids, GLIMPSE_BYTES).await?.into_iter().collect();
    let mut out = Vec::with_capacity(batch.len());
    for &(uid, size) in batch {
        if size > max {
            out.push(Fetched::TooBig { uid, size, head: heads.remove(&uid).unwrap_or_default() });
        } else if let Some(raw) = whole.remove(&uid) {
            out.push(Fetched::Whole { uid, raw });
        } else {
            // Expunged by another client between the listing and the fetch: nothing to read.
            // The batch stops here, so the position does not pass it unread.
            break;
        }
    }
    Ok(out)
}

/// Fetches one batch and parses it (off the runtime): its mails, and whether every
/// mail listed was fetched. `None` when none was. A mail listed but not fetched
/// (expunged meanwhile, or a server hiccup) ends the pass after what was fetched:
/// the next pass lists again, so none is passed unread.
async fn fetch_and_prepare(
    gw: &Arc<Gateway>,
    conn: &mut Connection,
    batch: Vec<(u32, u64)>,
    max: u64,
) -> anyhow::Result<Option<(Vec<Prepared>, bool)>> {
    let fetched = fetch(conn, &batch, max).await?;
    if fetched.is_empty() {
        return Ok(None);
    }
    let fetched_all = fetched.len() == batch.len();
    let prepared = gw.blocking(move |_| ingest::prepare(fetched)).await?;
    Ok(Some((prepared, fetched_all)))
}

/// Verifies the senders of a parsed batch where the decision depends on them (DNS:
/// DKIM, DMARC), several mails at once, in order. A mail in a CSE's name that DNS
/// could not verify yet ends the batch before it: it and the mails after it are read
/// again on the next pass (for a bounded time; see [`crate::io::authn`]). Returns the
/// mails to decide, and whether the batch is whole.
async fn authenticate(
    gw: &Arc<Gateway>,
    conn: &mut Connection,
    mb: &Mailbox,
    prepared: Vec<Prepared>,
) -> anyhow::Result<(Vec<Prepared>, bool)> {
    let setup = gw.setup();
    let verified: Vec<Prepared> = futures_util::stream::iter(prepared)
        .map(|p| {
            let setup = setup.clone();
            async move {
                match p {
                    Prepared::Whole { uid, raw, hash, parsed } => {
                        let parsed = gw.authn.authenticate(&setup.config, mb.provider, &raw, *parsed).await;
                        Prepared::Whole { uid, raw, hash, parsed: Box::new(parsed) }
                    }
                    other => other,
                }
            }
        })
        .buffered(8)
        .collect()
        .await;
    let mut out = Vec::with_capacity(verified.len());
    for p in verified {
        if let Prepared::Whole { uid, parsed, .. } = &p
            && crate::io::authn::held_back(&setup.config, parsed, conn, *uid, gw.clock.now()).await?
        {
            return Ok((out, false));
        }
        out.push(p);
    }
    Ok((out, true))
}

/// Flags or moves every committed-but-unflagged mail of `mb` on the server, then forgets them.
async fn settle_pending(
    gw: &Arc<Gateway>,
    conn: &mut Connection,
    mb: &Mailbox,
    validity: u32,
    pending: Vec<Pending>,
) -> anyhow::Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let uids =
        |d: Disposition| pending.iter().filter(|p| p.uid_validity == validity && p.disposition == d).map(|p| p.uid).collect::<Vec<_>>();
    let processed = uids(Disposition::Processed);
    match &mb.processed_folder {
        Some(folder) => conn.move_to(&processed, folder).await?,
        None => conn.mark_seen(&processed).await?,
    }
    conn.move_to(&uids(Disposition::Quarantine), &mb.quarantine_folder).await?;
    crash_point!("flag.before_clear");
    let key = mb.store_key().to_string();
    gw.blocking(move |gw| gw.store.clear_pending(&key, &pending)).await??;
    Ok(())
}

/// Reads every new mail of `mb` once. Stops early (after the mail in hand) when `stop` is set.
pub(super) async fn cycle(
    gw: &Arc<Gateway>,
    conn: &mut Connection,
    mb: &Mailbox,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<CycleStats> {
    let selected = conn.select(&mb.folder).await?;
    let validity = selected.uid_validity;
    let (name, key) = (mb.name.clone(), mb.store_key().to_string());
    let (after, pending) = gw
        .blocking(move |gw| -> Result<_, crate::io::store::StoreError> {
            let after = match gw.store.mailbox_state(&key)? {
                Some(s) if s.uid_validity == validity => s.last_uid,
                Some(s) => {
                    warn!(mailbox = %name, old = s.uid_validity, new = validity, "UIDVALIDITY changed: reading the folder again (duplicates are recognised)");
                    gw.store.reset_mailbox(&key, validity)?;
                    0
                }
                None => 0,
            };
            Ok((after, gw.store.pending(&key)?))
        })
        .await??;
    settle_pending(gw, conn, mb, validity, pending).await?;
    let mut stats = CycleStats::default();
    let uids = conn.uids_after(after).await?;
    let sizes = conn.sizes(&uids).await?;
    let max = gw.setup().config.max_message_bytes as u64;
    let mut batches = batches(&sizes, max).into_iter();
    let mut next = match batches.next() {
        Some(first) => fetch_and_prepare(gw, conn, first, max).await?,
        None => None,
    };
    // Batch N is decided and committed while batch N+1 is fetched and parsed.
    while let Some((prepared, fetched_all)) = next.take() {
        let (prepared, verified_all) = authenticate(gw, conn, mb, prepared).await?;
        let complete = fetched_all && verified_all;
        if prepared.is_empty() {
            break;
        }
        let (mailbox, stop_flag) = (mb.clone(), stop.clone());
        let ingesting = gw.blocking(move |gw| gw.ingest_batch(&mailbox, validity, prepared, &stop_flag));
        let following = batches.next().filter(|_| complete && !*stop.borrow());
        let reading_ahead = async {
            match following {
                Some(batch) => fetch_and_prepare(gw, conn, batch, max).await,
                None => Ok(None),
            }
        };
        let (outcome, ahead) = tokio::join!(ingesting, reading_ahead);
        let outcome = outcome?;
        stats.processed += outcome.stats.processed;
        stats.duplicates += outcome.stats.duplicates;
        stats.quarantined += outcome.stats.quarantined;
        if let Some(e) = &outcome.failure {
            gw.metrics.store(Some(e.to_string()));
        }
        // Whatever was committed is made durable and flagged, even when the batch ended early.
        crash_point!("commit.before_barrier");
        gw.make_durable().await?;
        crash_point!("barrier.before_flag");
        gw.outbox_ready.notify_one();
        let key = mb.store_key().to_string();
        let pending = gw.blocking(move |gw| gw.store.pending(&key)).await??;
        settle_pending(gw, conn, mb, validity, pending).await?;
        // Progress: a mailbox working through a large backlog is healthy, not "not read yet".
        gw.metrics.polled(&mb.name, crate::time::wall_seconds());
        if let Some(e) = outcome.failure {
            return Err(e.into());
        }
        if *stop.borrow() || !complete {
            break;
        }
        // A failed read ahead counts only now, after the batch before it is flagged.
        next = ahead?;
    }
    gw.metrics.polled(&mb.name, crate::time::wall_seconds());
    gw.metrics.store(None);
    if stats.processed + stats.quarantined > 0 {
        info!(mailbox = %mb.name, processed = stats.processed, duplicates = stats.duplicates, quarantined = stats.quarantined, "cycle done");
    }
    Ok(stats)
}

/// Waits until this gateway holds `mb`'s lease (at once with sled: one process owns
/// the data directory). False when the daemon stops first.
async fn wait_for_lease(gw: &Arc<Gateway>, mb: &Mailbox, stop: &mut watch::Receiver<bool>) -> bool {
    let mut standing_by = false;
    while !*stop.borrow() {
        let key = mb.store_key().to_string();
        match gw.blocking(move |gw| gw.store.own_mailbox(&key)).await {
            Ok(Ok(true)) => {
                if gw.store.is_shared() {
                    gw.metrics.mailbox_owned(&mb.name, true);
                }
                return true;
            }
            Ok(Ok(false)) => {
                if !standing_by {
                    info!("another gateway reads this mailbox; standing by to take it over");
                    standing_by = true;
                }
                gw.metrics.mailbox_owned(&mb.name, false);
            }
            Ok(Err(e)) => warn!(error = %e, "cannot take the mailbox's lease; trying again"),
            Err(e) => warn!(error = %e, "cannot take the mailbox's lease; trying again"),
        }
        tokio::select! {
            _ = tokio::time::sleep(gw.lease_beat()) => {}
            _ = stop.changed() => {}
        }
    }
    false
}

/// True while this gateway still holds `mb`'s lease (as far as it knows: a lost
/// lease also shows as a refused commit).
fn still_owned(gw: &Gateway, mb: &Mailbox) -> bool {
    gw.store.postgres().is_none_or(|pg| pg.leases().holds(mb.store_key()))
}

/// One mailbox, forever: take its lease, connect, read, wait (IDLE or poll), with
/// capped backoff on errors. With a shared store, a gateway that loses the lease
/// stops reading and stands by.
pub(super) async fn watch(gw: Arc<Gateway>, mb: Mailbox, mut stop: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    while !*stop.borrow() {
        if !wait_for_lease(&gw, &mb, &mut stop).await {
            return;
        }
        let result = async {
            let mut conn = gw.connect_mailbox(&mb).await?;
            info!(idle = conn.idle_supported(), "connected");
            failures = 0;
            loop {
                cycle(&gw, &mut conn, &mb, &stop).await?;
                if *stop.borrow() || !still_owned(&gw, &mb) {
                    conn.logout().await;
                    return anyhow::Ok(());
                }
                if conn.idle_supported() {
                    // With a shared store, IDLE ends every failover_after so that a lost lease is noticed.
                    let wait = mb.poll_interval.min(Duration::from_secs(25 * 60)).min(gw.lease_check());
                    let (c, wake) = conn.idle(wait, &mut stop).await?;
                    conn = c;
                    if wake == Wake::Interrupted {
                        conn.logout().await;
                        return Ok(());
                    }
                } else {
                    tokio::select! {
                        _ = tokio::time::sleep(mb.poll_interval.min(gw.lease_check())) => {}
                        _ = stop.changed() => {}
                    }
                }
                if !still_owned(&gw, &mb) {
                    conn.logout().await;
                    return Ok(());
                }
            }
        }
        .await;
        if let Err(e) = &result
            && matches!(e.downcast_ref::<crate::io::store::StoreError>(), Some(crate::io::store::StoreError::Fenced(_)))
        {
            warn!("another gateway took this mailbox over: no longer reading it");
            gw.metrics.mailbox_owned(&mb.name, false);
            // The refused commit is no store failure: the store is fine, the mailbox is another's.
            gw.metrics.store(None);
            continue;
        }
        if !still_owned(&gw, &mb) && !*stop.borrow() {
            warn!("this gateway lost the mailbox's lease: no longer reading it");
            gw.metrics.mailbox_owned(&mb.name, false);
            continue;
        }
        if let Err(e) = result {
            gw.metrics.mailbox_failed(&mb.name, crate::metrics::health_reason(&e));
            failures = failures.saturating_add(1);
            let delay = retry_delay(failures);
            warn!(error = %e, retry_in = ?delay, "mailbox failed; reconnecting");
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Capped exponential backoff with jitter: 1 s, 2 s, 4 s … 5 min.
fn retry_delay(failures: u32) -> Duration {
    let base = Duration::from_secs(1u64 << failures.min(9).saturating_sub(1)).min(Duration::from_secs(300));
    base + crate::time::jitter(base / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_keep_uid_order_and_count_big_mails_by_their_glimpse() {
        let max = 1000;
        let sizes = vec![(1, 10), (2, 5_000_000), (3, 10)];
        assert_eq!(batches(&sizes, max), vec![sizes.clone()]);
        let many: Vec<(u32, u64)> = (1..=2 * BATCH as u32 + 50).map(|u| (u, 10)).collect();
        let b = batches(&many, max);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![BATCH, BATCH, 50]);
        assert!(b.concat().windows(2).all(|w| w[0].0 < w[1].0));
    }
}
