//! The outbox: rendered mail waiting for the SMTP server to accept it.
//!
//! An item's header (recipients, attempts, next attempt) and its bytes are
//! separate records, so a retry rewrites only the header. Two indexes keep
//! every question a delivery pass asks away from a scan of the whole outbox:
//! `outbox_due` (next attempt, id) says what is due, and `outbox_by_sr`
//! (SR, id) → recipients keeps one SR's mail in order **per recipient**: an
//! item waits while an older item of its SR to one of its recipients is still
//! in the outbox, so a relay and the closure notice after it never swap, while
//! an acknowledgement the customer's server keeps deferring does not hold back
//! the CSE's notification or the on-call page.

use jiff::Timestamp;

use super::commit::{Tx, TxResult};
use super::{SledStore, StoreError, Tree, decode, json, keys};
use crate::io::store::OutboxItem;

fn recipients(to: &[String]) -> Vec<u8> {
    to.iter().map(|a| a.to_ascii_lowercase()).collect::<Vec<_>>().join("\n").into_bytes()
}

fn shares_recipient(stored: &[u8], to: &[String]) -> bool {
    let stored = String::from_utf8_lossy(stored);
    stored.split('\n').any(|a| to.iter().any(|b| b.eq_ignore_ascii_case(a)))
}

/// Writes a new item (inside a commit).
pub(super) fn insert(tx: &Tx<'_>, id: u64, item: &OutboxItem) -> TxResult<()> {
    tx.put(Tree::Outbox, keys::be(id), json(item))?;
    tx.put(Tree::OutboxBodies, keys::be(id), &item.bytes)?;
    tx.put(Tree::OutboxDue, keys::pair(keys::instant(item.next_attempt_at), keys::be(id)), [])?;
    tx.put(Tree::OutboxBySr, keys::pair(keys::be(item.sr), keys::be(id)), recipients(&item.to))
}

impl SledStore {
    fn outbox_head(&self, id: u64) -> Result<Option<OutboxItem>, StoreError> {
        self.tree(Tree::Outbox).get(keys::be(id))?.map(|v| decode("outbox", &v)).transpose()
    }

    /// True while an older item of the same SR to one of `item`'s recipients waits.
    fn outbox_blocked(&self, id: u64, item: &OutboxItem) -> Result<bool, StoreError> {
        let start = keys::pair(keys::be(item.sr), [0; 8]);
        let end = keys::pair(keys::be(item.sr), keys::be(id));
        for entry in self.tree(Tree::OutboxBySr).range(start..end) {
            let (_, to) = entry?;
            if shares_recipient(&to, &item.to) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Outbox items due at `now` that may leave now, oldest first, at most `limit`
    /// (see the module docs for the order they keep). Reads the due index, not the outbox.
    pub fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<(u64, OutboxItem)>, StoreError> {
        let end = keys::pair(keys::instant(now), [0xff; 8]);
        let mut out = Vec::new();
        for k in self.tree(Tree::OutboxDue).range(..=end.to_vec()).keys() {
            let Some(id) = keys::second(&k?) else { continue };
            let Some(mut item) = self.outbox_head(id)? else { continue };
            if self.outbox_blocked(id, &item)? {
                continue;
            }
            item.bytes = self.tree(Tree::OutboxBodies).get(keys::be(id))?.map(|b| b.to_vec()).unwrap_or_default();
            out.push((id, item));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The first retry due after `now`: when a delivery pass has something new to do
    /// without being told.
    pub fn outbox_next_due_after(&self, now: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        let start = keys::pair(keys::instant(now + jiff::SignedDuration::from_millis(1)), [0; 8]);
        Ok(self.tree(Tree::OutboxDue).range(start.to_vec()..).keys().next().transpose()?.and_then(|k| keys::read_instant(&k)))
    }

    /// Number of items in the outbox (kept in memory).
    pub fn outbox_len(&self) -> u64 {
        self.outbox_len.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// When the oldest outbox item was queued.
    pub fn outbox_oldest(&self) -> Result<Option<Timestamp>, StoreError> {
        match self.tree(Tree::Outbox).first()? {
            Some((_, v)) => Ok(Some(decode::<OutboxItem>("outbox", &v)?.queued_at)),
            None => Ok(None),
        }
    }

    /// Removes a delivered (or abandoned) item. Not durable until the next barrier;
    /// [`Store::flush_to_os`] makes it survive a crash of the process.
    pub fn outbox_remove(&self, id: u64) -> Result<(), StoreError> {
        let (removed, _) = self.transact(|tx| {
            let Some(v) = tx.get(Tree::Outbox, keys::be(id))? else { return Ok(false) };
            let old: OutboxItem = decode("outbox", &v).map_err(super::commit::abort)?;
            tx.remove(Tree::Outbox, keys::be(id))?;
            tx.remove(Tree::OutboxBodies, keys::be(id))?;
            tx.remove(Tree::OutboxDue, keys::pair(keys::instant(old.next_attempt_at), keys::be(id)))?;
            tx.remove(Tree::OutboxBySr, keys::pair(keys::be(old.sr), keys::be(id)))?;
            Ok(true)
        })?;
        if removed {
            self.outbox_len.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    /// Rewrites an item's header after an attempt (attempts, next attempt, error,
    /// the recipients still to do); its bytes stay.
    pub fn outbox_update(&self, id: u64, item: &OutboxItem) -> Result<(), StoreError> {
        self.transact(|tx| {
            let Some(v) = tx.get(Tree::Outbox, keys::be(id))? else { return Ok(()) };
            let old: OutboxItem = decode("outbox", &v).map_err(super::commit::abort)?;
            tx.remove(Tree::OutboxDue, keys::pair(keys::instant(old.next_attempt_at), keys::be(id)))?;
            tx.put(Tree::Outbox, keys::be(id), json(item))?;
            tx.put(Tree::OutboxDue, keys::pair(keys::instant(item.next_attempt_at), keys::be(id)), [])?;
            tx.put(Tree::OutboxBySr, keys::pair(keys::be(item.sr), keys::be(id)), recipients(&item.to))
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::store::{Commit, Store};
    use crate::mail::outbound::OutKind;

    fn item(sr: u64, to: &str, kind: OutKind, next: Timestamp) -> OutboxItem {
        OutboxItem {
            sr,
            kind,
            from: "support@example.test".into(),
            to: vec![to.into()],
            message_id: format!("{kind:?}-{to}@example.test"),
            queued_at: next,
            attempts: 0,
            next_attempt_at: next,
            last_error: None,
            bytes: b"mail".to_vec(),
        }
    }

    /// Issue 10, item 8: an acknowledgement the customer's server keeps deferring
    /// must not hold back the CSE's notification of the same SR.
    #[test]
    fn order_is_kept_per_recipient_not_per_sr() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
        let now: Timestamp = "2026-03-03T10:00:00Z".parse()?;
        let later = now + jiff::SignedDuration::from_hours(1);
        let c = Commit {
            outbox: vec![
                item(1, "customer@example.com", OutKind::Acknowledgement, now),
                item(1, "cse@example.test", OutKind::CseNotification, now),
                item(1, "customer@example.com", OutKind::Relay, now),
            ],
            ..Commit::default()
        };
        store.commit(&c)?;
        let due = store.outbox_due(now, 10)?;
        let kinds: Vec<OutKind> = due.iter().map(|(_, i)| i.kind).collect();
        assert_eq!(kinds, vec![OutKind::Acknowledgement, OutKind::CseNotification], "the relay waits for the acknowledgement");
        // The customer's server defers the acknowledgement for an hour.
        let (ack_id, mut ack) = due[0].clone();
        ack.attempts = 1;
        ack.next_attempt_at = later;
        store.outbox_update_all(&[(ack_id, ack)])?;
        let (cse_id, _) = due[1].clone();
        store.outbox_remove(cse_id)?;
        assert!(store.outbox_due(now, 10)?.is_empty(), "the relay still waits behind the deferred acknowledgement");
        assert_eq!(store.outbox_next_due_after(now)?, Some(later));
        store.outbox_remove(ack_id)?;
        let due = store.outbox_due(now, 10)?;
        assert_eq!(due.iter().map(|(_, i)| i.kind).collect::<Vec<_>>(), vec![OutKind::Relay]);
        assert_eq!(store.outbox_len(), 1);
        Ok(())
    }
}
