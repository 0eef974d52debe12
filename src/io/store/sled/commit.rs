//! One mail's effect (or one scheduled pass on an SR), written in one transaction.

use std::cell::Cell;

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::outbox;
use super::{SledStore, StoreError, Tree, decode, json, keys};
use crate::contacts::ContactChange;
use crate::io::store::{Commit, CommitStats, MailboxState, SrWrite};
use crate::sr::{FIRST_SR, Sr, State};

/// The result of a step inside a transaction.
pub(super) type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

pub(super) fn abort(e: impl Into<StoreError>) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e.into())
}

/// The trees of one transaction, by name, counting what is written.
pub(super) struct Tx<'a> {
    trees: &'a [TransactionalTree],
    bytes: &'a Cell<u64>,
}

impl<'a> Tx<'a> {
    /// The view of `trees` (all of the store's, in [`Tree`] order).
    pub(super) fn new(trees: &'a [TransactionalTree], bytes: &'a Cell<u64>) -> Tx<'a> {
        Tx { trees, bytes }
    }

    pub(super) fn get(&self, t: Tree, key: impl AsRef<[u8]>) -> TxResult<Option<sled::IVec>> {
        Ok(self.trees[t as usize].get(key)?)
    }

    pub(super) fn put(&self, t: Tree, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> TxResult<()> {
        let (k, v) = (key.as_ref(), value.as_ref());
        self.bytes.set(self.bytes.get() + (k.len() + v.len()) as u64);
        self.trees[t as usize].insert(k, v)?;
        Ok(())
    }

    pub(super) fn remove(&self, t: Tree, key: impl AsRef<[u8]>) -> TxResult<()> {
        self.trees[t as usize].remove(key.as_ref())?;
        Ok(())
    }

    /// Adds `delta` to a counter (never below zero).
    fn bump(&self, t: Tree, key: &[u8], delta: i64) -> TxResult<()> {
        let n = self.get(t, key)?.and_then(|v| keys::read_u64(&v)).unwrap_or(0) as i64;
        self.put(t, key, keys::be((n + delta).max(0) as u64))
    }
}

impl SledStore {
    /// Writes the whole effect of one mail atomically. Not durable until
    /// [`Store::make_durable`].
    pub fn commit(&self, c: &Commit) -> Result<CommitStats, StoreError> {
        let ids: Vec<u64> = c.outbox.iter().map(|_| self.db.generate_id()).collect::<Result<_, _>>()?;
        let qkey = c.quarantine.as_ref().map(|_| self.db.generate_id()).transpose()?;
        let bytes = self.transact(|tx| write(tx, c, &ids, qkey))?.1;
        self.outbox_len.fetch_add(c.outbox.len() as u64, std::sync::atomic::Ordering::Relaxed);
        if c.quarantine.is_some() {
            self.quarantine_len.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        self.count(c);
        Ok(CommitStats { bytes })
    }

    /// Runs `f` as one transaction over every tree; returns its value and the bytes it wrote.
    pub(super) fn transact<T>(&self, f: impl Fn(&Tx<'_>) -> TxResult<T>) -> Result<(T, u64), StoreError> {
        let bytes = Cell::new(0);
        let all: Vec<&sled::Tree> = self.trees.iter().collect();
        let value = all.as_slice().transaction(|trees| {
            // A transaction may run again after a conflict: count only the last run.
            bytes.set(0);
            f(&Tx::new(trees, &bytes))
        })?;
        Ok((value, bytes.get()))
    }
}

fn write(tx: &Tx<'_>, c: &Commit, outbox_ids: &[u64], qkey: Option<u64>) -> TxResult<()> {
    for s in &c.suggested {
        tx.put(Tree::KbSuggested, keys::suggested(&s.customer, &s.article), keys::instant(s.at))?;
    }
    for a in &c.automated {
        tx.put(Tree::Automated, keys::automated(&a.address, a.at, &a.message_id), [])?;
        tx.put(Tree::AutomatedAt, keys::automated_by_time(&a.address, a.at, &a.message_id), [])?;
    }
    for change in &c.contacts {
        match change {
            ContactChange::Add(contact) => tx.put(Tree::Contacts, contact.address.as_bytes(), json(contact))?,
            ContactChange::Remove(address) => tx.remove(Tree::Contacts, address.as_bytes())?,
        }
    }
    for (cse, delta) in &c.load_delta {
        tx.bump(Tree::Loads, cse.as_bytes(), *delta)?;
    }
    for w in &c.srs {
        write_sr(tx, w)?;
    }
    for (id, sr) in &c.message_ids {
        if tx.get(Tree::Msgids, id.as_bytes())?.is_none() {
            tx.put(Tree::Msgids, id.as_bytes(), keys::be(*sr))?;
        }
    }
    if let Some(rr) = c.next_rr {
        tx.put(Tree::Meta, "rr", keys::be(rr))?;
    }
    for s in &c.seen {
        let mut v = keys::be(s.sr).to_vec();
        if let Some(f) = s.fingerprint {
            v.extend_from_slice(&f);
        }
        tx.put(Tree::Seen, s.key.as_bytes(), v)?;
    }
    for (sha, loc) in &c.files {
        tx.put(Tree::Files, sha.as_bytes(), loc.encode())?;
    }
    for (item, id) in c.outbox.iter().zip(outbox_ids) {
        outbox::insert(tx, *id, item)?;
    }
    if let Some(day) = c.digest_day {
        tx.put(Tree::Meta, "digest_day", day.to_string().as_bytes())?;
    }
    if let (Some(q), Some(k)) = (&c.quarantine, qkey) {
        tx.put(Tree::Quarantine, keys::be(k), json(q))?;
    }
    if let Some((validity, uid)) = c.source {
        advance_mailbox(tx, &c.mailbox, validity, uid)?;
        if let Some(d) = c.disposition {
            tx.put(Tree::Pending, keys::pending(&c.mailbox, validity, uid), json(&d))?;
        }
    }
    Ok(())
}

/// The SR's facts, its new messages and events, its counts and its place in the due index.
fn write_sr(tx: &Tx<'_>, w: &SrWrite) -> TxResult<()> {
    let id = w.sr.id;
    let (messages_before, events_before) = w.stored;
    if w.sr.messages.len() < messages_before || w.sr.events.len() < events_before {
        return Err(abort(StoreError::HistoryRewritten(id)));
    }
    if let Some((state, priority)) = w.counted_before {
        tx.bump(Tree::Stats, keys::stats(state, priority).as_bytes(), -1)?;
    }
    tx.bump(Tree::Stats, keys::stats(w.sr.state, w.sr.priority).as_bytes(), 1)?;
    // The due index: the entry the store made last time, not one recomputed from a
    // policy that may have changed since.
    if let Some(old) = tx.get(Tree::Wakes, keys::be(id))?.and_then(|v| keys::read_instant(&v)) {
        tx.remove(Tree::Due, keys::pair(keys::instant(old), keys::be(id)))?;
    }
    match w.wake {
        Some(t) => {
            tx.put(Tree::Due, keys::pair(keys::instant(t), keys::be(id)), [])?;
            tx.put(Tree::Wakes, keys::be(id), keys::instant(t))?;
        }
        None => tx.remove(Tree::Wakes, keys::be(id))?,
    }
    index_open(tx, &w.sr)?;
    for (n, m) in w.sr.messages.iter().enumerate().skip(messages_before) {
        tx.put(Tree::Messages, keys::pair(keys::be(id), keys::be(n as u64)), json(m))?;
    }
    for (n, e) in w.sr.events.iter().enumerate().skip(events_before) {
        tx.put(Tree::Events, keys::pair(keys::be(id), keys::be(n as u64)), json(e))?;
    }
    tx.put(Tree::Srs, keys::be(id), json(&w.sr.facts()))?;
    if w.created {
        let next = tx.get(Tree::Meta, "next_sr")?.and_then(|v| keys::read_u64(&v)).unwrap_or(FIRST_SR);
        tx.put(Tree::Meta, "next_sr", keys::be(next.max(id + 1)))?;
    }
    Ok(())
}

/// The open index: an SR not closed is listed under its assignee (the entry `open_of`
/// names is moved when the assignee changes), a closed one not at all.
pub(super) fn index_open(tx: &Tx<'_>, sr: &Sr) -> TxResult<()> {
    let id = sr.id;
    if let Some(old) = tx.get(Tree::OpenOf, keys::be(id))? {
        tx.remove(Tree::Open, keys::open(&String::from_utf8_lossy(&old), id))?;
    }
    if sr.state == State::Closed {
        return tx.remove(Tree::OpenOf, keys::be(id));
    }
    let assignee = sr.assignee.as_deref().unwrap_or_default().to_ascii_lowercase();
    tx.put(Tree::Open, keys::open(&assignee, id), [])?;
    tx.put(Tree::OpenOf, keys::be(id), assignee.as_bytes())
}

/// Moves the mailbox position to `uid`. Mails are committed in UID order and a
/// failure stops the pass, so every UID up to the position is committed.
fn advance_mailbox(tx: &Tx<'_>, name: &str, validity: u32, uid: u32) -> TxResult<()> {
    let current: MailboxState = match tx.get(Tree::Mailboxes, name)? {
        Some(v) => decode("mailboxes", &v).map_err(abort)?,
        None => MailboxState { uid_validity: validity, last_uid: 0 },
    };
    let last_uid = if current.uid_validity == validity { current.last_uid.max(uid) } else { uid };
    tx.put(Tree::Mailboxes, name, json(&MailboxState { uid_validity: validity, last_uid }))
}

#[cfg(test)]
pub(super) mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::io::store::{Automated, Store, Suggested};
    use crate::sr::{Direction, MessageKind, MessageRecord, lifecycle};

    /// A customer reply numbered `n` (the store's tests share it).
    pub(in crate::io::store) fn reply(n: usize, at: Timestamp) -> MessageRecord {
        MessageRecord {
            direction: Direction::In,
            from: "jane@example.com".into(),
            to: vec!["support@example.test".into()],
            subject: "Re: [SR#100001] Printer".into(),
            message_id: format!("reply{n}@example.com"),
            kind: MessageKind::CustomerReply,
            at,
            attachments: Vec::new(),
            text: format!("Reply number {n}: the printer still prints blank pages, here is what I tried today. {}", "x".repeat(400)),
            files: Vec::new(),
        }
    }

    /// Issue 10, item 12: a commit writes what changed, not the SR's whole history:
    /// one more reply on an SR with 300 messages costs what the first reply cost.
    #[test]
    fn one_more_reply_costs_the_same_however_long_the_sr() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
        let t: Timestamp = "2026-03-03T10:00:00Z".parse()?;
        let mut sr = lifecycle::open(100_001, reply(0, t), None, "Printer".into(), None, t);
        let write = |before: Option<&Sr>, after: &Sr| SrWrite {
            sr: after.clone(),
            created: before.is_none(),
            stored: before.map(|b| (b.messages.len(), b.events.len())).unwrap_or((0, 0)),
            wake: None,
            counted_before: before.map(|b| (b.state, b.priority)),
            before: before.map(Sr::facts),
        };
        store.commit(&Commit { srs: vec![write(None, &sr)], ..Commit::default() })?;
        let mut costs = Vec::new();
        for n in 1..=300 {
            let next = lifecycle::customer_replied(sr.clone(), reply(n, t), t);
            costs.push(store.commit(&Commit { srs: vec![write(Some(&sr), &next)], ..Commit::default() })?.bytes);
            sr = next;
        }
        let (first, last) = (costs[0], costs[299]);
        assert!(last <= 2 * first, "the first reply wrote {first} bytes, the 300th {last}");
        let stored = store.get_sr(100_001)?.ok_or("the SR")?;
        assert_eq!(stored.messages.len(), 301);
        assert_eq!(stored, sr, "the SR reads back whole");
        Ok(())
    }

    /// A store closed after a bulk write opens again with everything in it, and its
    /// lock let go (the data directory can be opened at once).
    #[test]
    fn a_closed_store_opens_again_whole() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
        let t: Timestamp = "2026-03-03T10:00:00Z".parse()?;
        for id in 100_001..100_201 {
            let sr = lifecycle::open(id, reply(0, t), None, "Printer".into(), None, t);
            let write = SrWrite { sr, created: true, stored: (0, 0), wake: None, counted_before: None, before: None };
            store.commit(&Commit { srs: vec![write], ..Commit::default() })?;
        }
        store.close()?;
        let store = Store::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
        assert_eq!(store.get_sr(100_200)?.map(|s| s.messages.len()), Some(1));
        let snapshot = std::fs::read_dir(dir.path().join("db"))?.flatten().any(|e| e.file_name().to_string_lossy().starts_with("snap."));
        assert!(snapshot, "sled's recovery snapshot is written");
        Ok(())
    }

    /// A change that would drop stored history is refused.
    #[test]
    fn history_is_append_only() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
        let t: Timestamp = "2026-03-03T10:00:00Z".parse()?;
        let sr = lifecycle::open(100_001, reply(0, t), None, "Printer".into(), None, t);
        let mut shorter = sr.clone();
        shorter.messages.clear();
        let w = SrWrite { sr: shorter, created: false, stored: (1, 1), wake: None, counted_before: None, before: None };
        assert!(matches!(store.commit(&Commit { srs: vec![w], ..Commit::default() }), Err(StoreError::HistoryRewritten(100_001))));
        Ok(())
    }

    /// The cap's records of one instant do not collide, and old ones are pruned.
    #[test]
    fn automated_records_are_each_their_own_and_pruned_when_old() -> Result<(), Box<dyn std::error::Error>> {
        use crate::gateway::Lookup;
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
        let t: Timestamp = "2026-03-03T10:00:00Z".parse()?;
        for i in 0..3 {
            let automated = vec![Automated { address: "robot@example.com".into(), message_id: format!("m{i}"), at: t }];
            store.commit(&Commit { automated, ..Commit::default() })?;
        }
        assert_eq!(store.automated_since("Robot@example.com", t - jiff::SignedDuration::from_hours(1)), 3);
        assert_eq!(store.prune_automated(t, 100)?, 0, "records at the cut-off stay");
        assert_eq!(store.prune_automated(t + jiff::SignedDuration::from_hours(2), 100)?, 3);
        assert_eq!(store.automated_since("robot@example.com", t - jiff::SignedDuration::from_hours(1)), 0);
        Ok(())
    }

    /// A suggestion is remembered per (customer, article), the latest replacing the one
    /// before, and survives an export and import.
    #[test]
    fn suggestions_are_remembered_per_customer_and_article() -> Result<(), Box<dyn std::error::Error>> {
        use crate::gateway::Lookup;
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
        let (t1, t2): (Timestamp, Timestamp) = ("2026-03-03T10:00:00Z".parse()?, "2026-04-03T10:00:00Z".parse()?);
        let shown = |article: &str, at| Suggested { customer: "Jane@example.com".into(), article: article.into(), at };
        store.commit(&Commit { suggested: vec![shown("status-en", t1), shown("vpn-en", t1)], ..Commit::default() })?;
        store.commit(&Commit { suggested: vec![shown("status-en", t2)], ..Commit::default() })?;
        assert_eq!(store.suggested_at("jane@example.com", "status-en"), Some(t2));
        assert_eq!(store.suggested_at("jane@example.com", "vpn-en"), Some(t1));
        assert_eq!(store.suggested_at("john@example.com", "vpn-en"), None);
        let records: Vec<_> = store.dump()?.into_iter().filter(|d| matches!(d, crate::io::store::Dump::KbSuggested { .. })).collect();
        assert_eq!(records.len(), 2);
        let other = tempfile::tempdir()?;
        let restored = Store::open(other.path(), std::time::Duration::ZERO, 8 << 20)?;
        for r in &records {
            restored.restore(r)?;
        }
        assert_eq!(restored.suggested_at("jane@example.com", "status-en"), Some(t2));
        Ok(())
    }
}
