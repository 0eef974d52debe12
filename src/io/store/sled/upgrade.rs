//! Upgrading a data directory written by an earlier srgate, once, at open.
//!
//! The store's layout has a number, kept in `meta` under `format`. A store
//! without one was written by srgate before the durability work (layout 1):
//!
//! - an SR's record held its messages (with their texts) and events; they now
//!   live apart, one record each, in `messages` and `events`;
//! - an outbox item was one value (a length-prefixed JSON header, then the
//!   message); it is now a header, a body and two index entries;
//! - the due index had no `wakes` entry saying which key is an SR's own;
//! - automated-mail records had no by-time twin, so they were never pruned.
//!
//! Layout 2 had no open index (`open`, `open_of`: every SR not closed, by assignee).
//!
//! Every step looks at each record and converts it only if it still has the
//! old shape, so an upgrade interrupted by a crash simply runs again at the
//! next open; the layout number is written last, after a durability barrier.
//! A store with a layout newer than this binary knows is refused rather than
//! misread.

use std::collections::BTreeMap;

use super::outbox;
use super::{SledStore, StoreError, Tree, decode, json, keys};
use crate::io::store::OutboxItem;
use crate::sr::Sr;

/// The layout this binary writes.
pub(super) const FORMAT: u64 = 3;

impl SledStore {
    /// Brings the store to [`FORMAT`] (blocking; once per data directory).
    pub(super) fn upgrade(&self) -> Result<(), StoreError> {
        let meta = self.tree(Tree::Meta);
        match meta.get("format")?.and_then(|v| keys::read_u64(&v)) {
            Some(FORMAT) => return Ok(()),
            Some(newer) if newer > FORMAT => return Err(StoreError::NewerFormat(newer, FORMAT)),
            _ => {}
        }
        let srs = self.split_histories()?;
        let outbox = self.split_outbox()?;
        let wakes = self.rebuild_wakes()?;
        let automated = self.index_automated_by_time()?;
        let open = self.index_open_srs()?;
        if srs + outbox + wakes + automated + open > 0 {
            tracing::info!(srs, outbox, wakes, automated, open, "upgraded a store written by an earlier srgate");
        }
        self.make_durable()?;
        meta.insert("format", &keys::be(FORMAT))?;
        self.make_durable()
    }

    /// Lists every SR not closed in the open index (layout 3), unless it is listed already.
    fn index_open_srs(&self) -> Result<usize, StoreError> {
        let mut done = 0;
        for item in self.tree(Tree::Srs).iter() {
            let (key, value) = item?;
            if self.tree(Tree::OpenOf).contains_key(&key)? {
                continue;
            }
            let sr: Sr = decode("srs", &value)?;
            if sr.state == crate::sr::State::Closed {
                continue;
            }
            self.transact(|tx| super::commit::index_open(tx, &sr))?;
            done += 1;
        }
        Ok(done)
    }

    /// Moves each SR's embedded messages and events to their own records.
    fn split_histories(&self) -> Result<usize, StoreError> {
        let mut done = 0;
        for item in self.tree(Tree::Srs).iter() {
            let (key, value) = item?;
            let sr: Sr = decode("srs", &value)?;
            if sr.messages.is_empty() && sr.events.is_empty() {
                continue;
            }
            let id = sr.id;
            self.transact(|tx| {
                for (n, m) in sr.messages.iter().enumerate() {
                    tx.put(Tree::Messages, keys::pair(keys::be(id), keys::be(n as u64)), json(m))?;
                }
                for (n, e) in sr.events.iter().enumerate() {
                    tx.put(Tree::Events, keys::pair(keys::be(id), keys::be(n as u64)), json(e))?;
                }
                tx.put(Tree::Srs, &key, json(&sr.facts()))
            })?;
            done += 1;
        }
        Ok(done)
    }

    /// Splits each one-value outbox item into header, body and index entries.
    fn split_outbox(&self) -> Result<usize, StoreError> {
        let mut done = 0;
        for item in self.tree(Tree::Outbox).iter() {
            let (key, value) = item?;
            if value.first() == Some(&b'{') {
                continue;
            }
            let Some(id) = keys::read_u64(&key) else { continue };
            let old = decode_layout_1(&value)?;
            self.transact(|tx| outbox::insert(tx, id, &old))?;
            done += 1;
        }
        Ok(done)
    }

    /// Names each SR's own due entry in `wakes`. Where an older policy left an SR
    /// several entries, the earliest wins: the scheduler visits the SR then, finds
    /// its real wake-up and moves the entry there, and the index drops the others
    /// as stale when it meets them.
    fn rebuild_wakes(&self) -> Result<usize, StoreError> {
        let wakes = self.tree(Tree::Wakes);
        let mut earliest: BTreeMap<u64, [u8; 8]> = BTreeMap::new();
        for k in self.tree(Tree::Due).iter().keys() {
            let k = k?;
            let (Some(id), Some(at)) = (keys::second(&k), k.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok())) else { continue };
            earliest.entry(id).or_insert(at);
        }
        let mut done = 0;
        for (id, at) in earliest {
            if wakes.get(keys::be(id))?.is_none() {
                wakes.insert(keys::be(id), &at)?;
                done += 1;
            }
        }
        Ok(done)
    }

    /// Gives every automated-mail record its by-time twin, so pruning finds it.
    fn index_automated_by_time(&self) -> Result<usize, StoreError> {
        let by_time = self.tree(Tree::AutomatedAt);
        let mut done = 0;
        for k in self.tree(Tree::Automated).iter().keys() {
            let k = k?;
            let Some(twin) = keys::automated_to_time_key(&k) else { continue };
            if !by_time.contains_key(&twin)? {
                by_time.insert(twin, &[])?;
                done += 1;
            }
        }
        Ok(done)
    }
}

/// An outbox value of layout 1: a 4-byte header length, the JSON header, the message.
fn decode_layout_1(value: &[u8]) -> Result<OutboxItem, StoreError> {
    let bad = || StoreError::Decode("outbox".into(), "truncated item of an earlier layout".into());
    let len = value.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()).map(u32::from_be_bytes).ok_or_else(bad)? as usize;
    let head = value.get(4..4 + len).ok_or_else(bad)?;
    let mut item: OutboxItem = decode("outbox", head)?;
    item.bytes = value.get(4 + len..).ok_or_else(bad)?.to_vec();
    Ok(item)
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    use super::*;
    use crate::gateway::Lookup;
    use crate::io::store::sled::commit::tests::reply as mail;
    use crate::mail::outbound::OutKind;
    use crate::sr::lifecycle;

    /// A data directory in layout 1 (what srgate wrote before the durability work)
    /// opens with every SR's history, every queued mail, its schedule and its cap
    /// records intact, and the upgrade is done once.
    #[test]
    fn a_store_of_the_earlier_layout_opens_with_nothing_lost() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let t: Timestamp = "2026-03-03T10:00:00Z".parse()?;
        let mut sr = lifecycle::open(100_001, mail(0, t), None, "Printer".into(), None, t);
        sr = lifecycle::customer_replied(sr, mail(1, t), t);
        let (messages, events) = (sr.messages.clone(), sr.events.clone());
        assert!(!events.is_empty());
        let queued = OutboxItem {
            sr: 100_001,
            kind: OutKind::Acknowledgement,
            from: "support@example.test".into(),
            to: vec!["jane@example.com".into()],
            message_id: "sr100001.0@example.test".into(),
            queued_at: t,
            attempts: 2,
            next_attempt_at: t,
            last_error: Some("451 greylisted".into()),
            bytes: b"Subject: ack\r\n\r\nhello\r\n".to_vec(),
        };
        {
            let store = SledStore::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
            store.tree(Tree::Meta).remove("format")?;
            store.tree(Tree::Srs).insert(keys::be(100_001), json(&sr))?;
            let head = json(&queued);
            let mut value = (head.len() as u32).to_be_bytes().to_vec();
            value.extend_from_slice(&head);
            value.extend_from_slice(&queued.bytes);
            store.tree(Tree::Outbox).insert(keys::be(42), value)?;
            let (early, late) = (t + SignedDuration::from_hours(1), t + SignedDuration::from_hours(3));
            for at in [late, early] {
                store.tree(Tree::Due).insert(keys::pair(keys::instant(at), keys::be(100_001)), &[])?;
            }
            let mut cap = b"robot@example.com\0".to_vec();
            cap.extend_from_slice(&keys::instant(t));
            cap.extend_from_slice(&7u32.to_be_bytes());
            store.tree(Tree::Automated).insert(cap, &[])?;
            store.make_durable()?;
        }
        let store = SledStore::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
        let back = store.get_sr(100_001)?.ok_or("the SR")?;
        assert_eq!((back.messages, back.events), (messages, events), "the history moved to its own records");
        let head: Sr = decode("srs", &store.tree(Tree::Srs).get(keys::be(100_001))?.ok_or("head")?)?;
        assert!(head.messages.is_empty() && head.events.is_empty(), "the SR's record holds its facts only");
        assert_eq!(store.outbox_len(), 1);
        let due = store.outbox_due(t, 10)?;
        assert_eq!(due, vec![(42, queued)], "the queued mail is due, with its bytes");
        assert_eq!(store.due_until(t + SignedDuration::from_hours(4), 10)?, vec![100_001], "one entry per SR");
        assert_eq!(store.tree(Tree::Due).len(), 1, "the later, stale entry is gone");
        assert_eq!(store.automated_since("robot@example.com", t - SignedDuration::from_hours(1)), 1);
        assert_eq!(store.prune_automated(t + SignedDuration::from_hours(2), 10)?, 1, "old cap records are pruned");
        drop(store);
        let store = SledStore::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
        assert_eq!(store.get_sr(100_001)?.ok_or("the SR")?.messages.len(), 2, "a second open changes nothing");
        store.tree(Tree::Meta).insert("format", &keys::be(FORMAT + 1))?;
        drop(store);
        let refused = SledStore::open(dir.path(), std::time::Duration::ZERO, 8 << 20);
        assert!(matches!(refused, Err(StoreError::NewerFormat(4, 3))), "a newer layout is refused");
        Ok(())
    }
}
