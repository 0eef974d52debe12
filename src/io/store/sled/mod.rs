//! The sled store: SRs with their messages and events, the Message-ID index,
//! the dedupe set, the outbox, per-mailbox read positions, pending IMAP
//! flags, the quarantine, the scheduled-work index and the stored files.
//!
//! **Invariant:** only this module knows the key layout ([`keys`]). Every
//! inbound mail's effect ([`Commit`]) is written in one transaction: the SR,
//! its new messages and events, its index entries, the dedupe key, the
//! outgoing mail, the mailbox position and the pending flag. Nothing is
//! durable until [`Store::make_durable`] returns (see [`durable`] for what sled
//! guarantees and how the barrier closes the gaps); the caller runs that
//! barrier before it touches the mail on the server.
//!
//! An SR's record holds its facts only: its messages (with their texts) and
//! its events are records of their own, appended by the commits that make
//! them, so a commit writes what changed, not the SR's whole history.
//!
//! One process owns a data directory at a time (an exclusive lock on
//! `data_dir/lock`); other processes talk to it over [`super::control`].

mod commit;
mod dump;
mod durable;
mod files;
mod keys;
mod outbox;
mod upgrade;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ::sled::transaction::TransactionError;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use files::Location;

use super::{Commit, MailboxState, Pending, QuarantineRecord, SeenEntry, StoreError};

use crate::contacts::Contact;
use crate::gateway::Lookup;
use crate::sr::{Event, FIRST_SR, MessageRecord, Sr};

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Engine(e),
        }
    }
}

/// The trees, in the order of [`Tree`].
const TREES: [&str; 24] = [
    "srs",
    "messages",
    "events",
    "msgids",
    "seen",
    "outbox",
    "outbox_bodies",
    "outbox_due",
    "outbox_by_sr",
    "meta",
    "mailboxes",
    "pending",
    "quarantine",
    "loads",
    "due",
    "wakes",
    "contacts",
    "automated",
    "automated_at",
    "stats",
    "files",
    "open",
    "open_of",
    "kb_suggested",
];

/// One tree of the store.
#[derive(Debug, Clone, Copy)]
#[repr(usize)]
enum Tree {
    /// SR number → the SR's facts (JSON, without messages and events).
    Srs,
    /// (SR, n) → its n-th message (JSON, with its text).
    Messages,
    /// (SR, n) → its n-th event (JSON).
    Events,
    /// Message-ID (received or sent) → SR.
    Msgids,
    /// Dedupe key → SR and content fingerprint.
    Seen,
    /// Outbox id → the item's header (JSON).
    Outbox,
    /// Outbox id → the rendered message.
    OutboxBodies,
    /// (next attempt, outbox id) → nothing: which items are due.
    OutboxDue,
    /// (SR, outbox id) → recipients: the order of one SR's mail per recipient.
    OutboxBySr,
    /// Next SR number, round-robin turn, instance tag, probe.
    Meta,
    /// Mailbox name → UIDVALIDITY and position.
    Mailboxes,
    /// (mailbox, UIDVALIDITY, UID) → what to do on the server.
    Pending,
    /// Id → quarantine record.
    Quarantine,
    /// CSE → SRs not closed.
    Loads,
    /// (wake-up instant, SR) → nothing: the index of scheduled work.
    Due,
    /// SR → the instant it is indexed under in `due`.
    Wakes,
    /// Address → designated contact.
    Contacts,
    /// (address, instant, Message-ID) → nothing: automated mail sent (the per-address cap).
    Automated,
    /// (instant, address, Message-ID) → nothing: the same, by time (for pruning).
    AutomatedAt,
    /// (state/priority) → number of SRs.
    Stats,
    /// SHA-256 → where the file's bytes are in the packs.
    Files,
    /// (assignee, NUL, SR) → nothing: every SR not closed, by its assignee (empty: none).
    Open,
    /// SR → the assignee it is indexed under in `open`.
    OpenOf,
    /// (customer, article id) → when the article was last suggested to the customer.
    KbSuggested,
}

/// The store.
pub struct SledStore {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    data_dir: PathBuf,
    barrier: durable::Barrier,
    packs: files::Packs,
    outbox_len: AtomicU64,
    quarantine_len: AtomicU64,
    /// SRs by `state/priority`: the `stats` tree, mirrored in memory for `/metrics`.
    counts: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    _lock: File,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("data_dir", &self.data_dir).finish_non_exhaustive()
    }
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain structs to JSON cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode<T: for<'de> Deserialize<'de>>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Decode(what.into(), e.to_string()))
}

impl SledStore {
    /// Opens (or creates) the store in `data_dir` with a page cache of `cache_bytes`,
    /// taking the exclusive lock; waits up to `patience` for it (a command that holds
    /// the store for a moment must not stop a daemon from starting).
    pub fn open(data_dir: &Path, patience: std::time::Duration, cache_bytes: u64) -> Result<SledStore, StoreError> {
        let lock = super::lock_data_dir(data_dir, patience)?;
        let db = sled::Config::new().path(data_dir.join("db")).cache_capacity(cache_bytes).flush_every_ms(Some(1000)).open()?;
        let barrier = durable::Barrier::open(data_dir)?;
        let trees = TREES.iter().map(|name| db.open_tree(name)).collect::<Result<Vec<_>, _>>()?;
        let store = SledStore {
            db,
            trees,
            data_dir: data_dir.to_path_buf(),
            barrier,
            packs: files::Packs::new(data_dir),
            outbox_len: AtomicU64::new(0),
            quarantine_len: AtomicU64::new(0),
            counts: std::sync::Mutex::new(std::collections::BTreeMap::new()),
            _lock: lock,
        };
        store.upgrade()?;
        let mut counts = std::collections::BTreeMap::new();
        for item in store.tree(Tree::Stats).iter() {
            let (k, v) = item?;
            counts.insert(String::from_utf8_lossy(&k).into_owned(), keys::read_u64(&v).unwrap_or(0));
        }
        *store.counts.lock().unwrap_or_else(|p| p.into_inner()) = counts;
        store.outbox_len.store(store.tree(Tree::Outbox).len() as u64, Ordering::Relaxed);
        store.quarantine_len.store(store.tree(Tree::Quarantine).len() as u64, Ordering::Relaxed);
        store.sweep_once()?;
        Ok(store)
    }

    fn tree(&self, t: Tree) -> &sled::Tree {
        &self.trees[t as usize]
    }

    /// Removes what the layout before packs could leave behind, once per data directory.
    fn sweep_once(&self) -> Result<(), StoreError> {
        let meta = self.tree(Tree::Meta);
        if meta.get("swept")?.is_none() {
            let removed = self.packs.sweep_legacy_temporaries()?;
            if removed > 0 {
                tracing::info!(removed, "removed temporary files left by an earlier version");
            }
            meta.insert("swept", &[1])?;
        }
        Ok(())
    }

    /// This store's instance tag (made once, random), used in our Message-IDs.
    pub fn instance(&self) -> Result<String, StoreError> {
        let meta = self.tree(Tree::Meta);
        if let Some(v) = meta.get("instance")? {
            return Ok(String::from_utf8_lossy(&v).into_owned());
        }
        // A random tag: std's hasher keys are seeded from the OS's randomness.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(self.db.generate_id()?);
        let tag = format!("{:012x}", h.finish() & 0xffff_ffff_ffff);
        meta.insert("instance", tag.as_bytes())?;
        self.make_durable()?;
        Ok(tag)
    }

    /// Sets the instance tag, SR counter and round-robin turn (a restore).
    pub fn restore_meta(&self, instance: &str, next_sr: u64, rr: u64) -> Result<(), StoreError> {
        let meta = self.tree(Tree::Meta);
        meta.insert("instance", instance.as_bytes())?;
        meta.insert("next_sr", &keys::be(next_sr))?;
        meta.insert("rr", &keys::be(rr))?;
        Ok(())
    }

    /// The durability barrier: returns once every write accepted so far survives a
    /// crash and a power cut (see [`durable`]). Blocking: call it off the async runtime.
    pub fn make_durable(&self) -> Result<(), StoreError> {
        self.barrier.sync(&self.db)
    }

    /// Makes what was written durable and closes the store, leaving sled's recovery
    /// snapshot up to date. sled 0.34 writes that snapshot only while it opens a
    /// database, so an open replays every record written since the one before (4 s
    /// for the first start after a bulk load of 1M SRs, BENCHMARKS.md issue 16):
    /// opening it once more here, before the lock is let go, makes the next open read
    /// the snapshot instead. For the end of a bulk write (`import`, `store copy`).
    pub fn close(self) -> Result<(), StoreError> {
        self.make_durable()?;
        let SledStore { db, trees, data_dir, _lock, .. } = self;
        drop(trees);
        drop(db);
        drop(sled::Config::new().path(data_dir.join("db")).open()?);
        drop(_lock);
        Ok(())
    }

    /// Hands sled's buffers to the operating system (survives a crash of this
    /// process, not a power cut). Cheaper than [`Store::make_durable`].
    pub fn flush_to_os(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Writes a probe and makes it durable (health, the watchdog).
    pub fn probe(&self) -> Result<(), StoreError> {
        self.tree(Tree::Meta).insert("probe", &keys::be(0))?;
        self.make_durable()
    }

    /// The SR with number `id`, with its messages and events.
    pub fn get_sr(&self, id: u64) -> Result<Option<Sr>, StoreError> {
        let Some(head) = self.tree(Tree::Srs).get(keys::be(id))? else { return Ok(None) };
        let mut sr: Sr = decode("srs", &head)?;
        sr.messages = self.history::<MessageRecord>(Tree::Messages, id)?;
        sr.events = self.history::<Event>(Tree::Events, id)?;
        Ok(Some(sr))
    }

    fn history<T: for<'de> Deserialize<'de>>(&self, t: Tree, id: u64) -> Result<Vec<T>, StoreError> {
        let name = TREES[t as usize];
        self.tree(t).scan_prefix(keys::be(id)).values().map(|v| decode(name, &v?)).collect()
    }

    /// True when SR `id` exists.
    pub fn sr_exists(&self, id: u64) -> Result<bool, StoreError> {
        Ok(self.tree(Tree::Srs).contains_key(keys::be(id))?)
    }

    /// Every SR, oldest first, each with its messages and events.
    pub fn srs(&self) -> impl Iterator<Item = Result<Sr, StoreError>> + '_ {
        self.tree(Tree::Srs).iter().keys().map(|k| {
            let id = keys::read_u64(&k?).unwrap_or_default();
            self.get_sr(id)?.ok_or_else(|| StoreError::Decode("srs".into(), format!("SR {id} vanished")))
        })
    }

    /// Hands `each` the SRs not closed that are assigned to `cse`, as their facts (without
    /// messages and events). Reads the open index only.
    fn each_open_sr_of(&self, cse: &str, each: &mut dyn FnMut(&Sr)) -> Result<(), StoreError> {
        self.each_listed(self.tree(Tree::Open).scan_prefix(keys::open_prefix(cse)), each)
    }

    /// Hands `each` every SR not closed, as its facts (without messages and events). Reads
    /// the open index only.
    pub fn each_open_sr(&self, each: &mut dyn FnMut(&Sr)) -> Result<(), StoreError> {
        self.each_listed(self.tree(Tree::Open).iter(), each)
    }

    /// Hands `each` the facts of every SR an open-index scan lists.
    fn each_listed(&self, scan: sled::Iter, each: &mut dyn FnMut(&Sr)) -> Result<(), StoreError> {
        for key in scan.keys() {
            if let Some(id) = keys::open_id(&key?) {
                each(&self.facts(id)?);
            }
        }
        Ok(())
    }

    /// The facts of SR `id` (without messages and events).
    fn facts(&self, id: u64) -> Result<Sr, StoreError> {
        let head = self.tree(Tree::Srs).get(keys::be(id))?.ok_or_else(|| StoreError::Decode("open".into(), format!("SR {id} vanished")))?;
        decode("srs", &head)
    }

    /// The last day the daily digests went out (policy time zone).
    pub fn digest_day(&self) -> Result<Option<jiff::civil::Date>, StoreError> {
        Ok(self.tree(Tree::Meta).get("digest_day")?.and_then(|v| String::from_utf8_lossy(&v).parse().ok()))
    }

    /// True when the store holds no SR.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.tree(Tree::Srs).first()?.is_none())
    }

    /// The number the next SR gets.
    pub fn next_sr_id(&self) -> Result<u64, StoreError> {
        Ok(self.tree(Tree::Meta).get("next_sr")?.and_then(|v| keys::read_u64(&v)).unwrap_or(FIRST_SR))
    }

    /// The next round-robin turn.
    pub fn rr_turn(&self) -> Result<u64, StoreError> {
        Ok(self.tree(Tree::Meta).get("rr")?.and_then(|v| keys::read_u64(&v)).unwrap_or(0))
    }

    /// What the dedupe set knows of `key`.
    pub fn seen(&self, key: &str) -> Result<Option<SeenEntry>, StoreError> {
        Ok(self
            .tree(Tree::Seen)
            .get(key)?
            .map(|v| SeenEntry { sr: keys::read_u64(&v).unwrap_or(0), fingerprint: v.get(8..40).and_then(|f| f.try_into().ok()) }))
    }

    /// Where reading of `mailbox` stands.
    pub fn mailbox_state(&self, mailbox: &str) -> Result<Option<MailboxState>, StoreError> {
        self.tree(Tree::Mailboxes).get(mailbox)?.map(|v| decode("mailboxes", &v)).transpose()
    }

    /// Starts reading `mailbox` afresh under a new UIDVALIDITY (old pending flags no longer apply).
    pub fn reset_mailbox(&self, mailbox: &str, uid_validity: u32) -> Result<(), StoreError> {
        let pending = self.tree(Tree::Pending);
        for key in pending.scan_prefix(keys::mailbox_prefix(mailbox)).keys() {
            pending.remove(key?)?;
        }
        self.tree(Tree::Mailboxes).insert(mailbox, json(&MailboxState { uid_validity, last_uid: 0 }))?;
        Ok(())
    }

    /// Mails of `mailbox` committed but not yet flagged or moved.
    pub fn pending(&self, mailbox: &str) -> Result<Vec<Pending>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree(Tree::Pending).scan_prefix(keys::mailbox_prefix(mailbox)) {
            let (k, v) = item?;
            let Some((uid_validity, uid)) = keys::read_pending(mailbox, &k) else { continue };
            out.push(Pending { uid_validity, uid, disposition: decode("pending", &v)? });
        }
        Ok(out)
    }

    /// Forgets pending flags once the server has them.
    pub fn clear_pending(&self, mailbox: &str, done: &[Pending]) -> Result<(), StoreError> {
        let pending = self.tree(Tree::Pending);
        for p in done {
            pending.remove(keys::pending(mailbox, p.uid_validity, p.uid))?;
        }
        Ok(())
    }

    /// Every designated contact.
    pub fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        self.tree(Tree::Contacts).iter().values().map(|v| decode("contacts", &v?)).collect()
    }

    /// Open SRs per CSE address.
    pub fn loads(&self) -> Result<std::collections::HashMap<String, usize>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for item in self.tree(Tree::Loads).iter() {
            let (k, v) = item?;
            out.insert(String::from_utf8_lossy(&k).into_owned(), keys::read_u64(&v).unwrap_or(0) as usize);
        }
        Ok(out)
    }

    /// SRs with scheduled work due at or before `now`, earliest first, at most `limit`.
    /// Reads only the due index, never every SR. An entry that is not its SR's own
    /// (not the one `wakes` names: left by an earlier layout) is dropped on the way.
    pub fn due_until(&self, now: Timestamp, limit: usize) -> Result<Vec<u64>, StoreError> {
        let end = keys::pair(keys::instant(now), [0xff; 8]);
        let wakes = self.tree(Tree::Wakes);
        let mut out = Vec::new();
        for k in self.tree(Tree::Due).range(..=end.to_vec()).keys() {
            let k = k?;
            let Some(id) = keys::second(&k) else { continue };
            if wakes.get(keys::be(id))?.as_deref() != k.get(..8) {
                // Checked again inside a transaction: a commit writes an SR's entry and
                // its `wakes` together, and a plain read may fall between the two.
                let (stale, _) = self.transact(|tx| {
                    let stale = tx.get(Tree::Wakes, keys::be(id))?.as_deref() != k.get(..8);
                    if stale {
                        tx.remove(Tree::Due, &k)?;
                    }
                    Ok(stale)
                })?;
                if stale {
                    continue;
                }
            }
            out.push(id);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// The earliest scheduled wake-up of any SR.
    pub fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.tree(Tree::Due).first()?.and_then(|(k, _)| keys::read_instant(&k)))
    }

    /// SRs by (state, priority), from the counts kept at every commit (in memory).
    pub fn sr_counts(&self) -> Vec<(String, String, u64)> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts
            .iter()
            .filter_map(|(key, n)| key.split_once('/').map(|(state, priority)| (state.to_string(), priority.to_string(), *n)))
            .collect()
    }

    /// Applies a commit's changes to the in-memory counts.
    fn count(&self, c: &Commit) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        for w in &c.srs {
            if let Some((state, priority)) = w.counted_before {
                let n = counts.entry(keys::stats(state, priority)).or_default();
                *n = n.saturating_sub(1);
            }
            *counts.entry(keys::stats(w.sr.state, w.sr.priority)).or_default() += 1;
        }
    }

    /// Number of quarantine records (kept in memory).
    pub fn quarantine_len(&self) -> u64 {
        self.quarantine_len.load(Ordering::Relaxed)
    }

    /// Every quarantine record, oldest first.
    pub fn quarantine(&self) -> Result<Vec<QuarantineRecord>, StoreError> {
        self.tree(Tree::Quarantine).iter().values().map(|v| decode("quarantine", &v?)).collect()
    }

    /// Removes records of automated mail sent before `before` (they no longer count
    /// against the hourly cap); returns how many went. At most `limit` per call.
    pub fn prune_automated(&self, before: Timestamp, limit: usize) -> Result<usize, StoreError> {
        let (by_time, by_address) = (self.tree(Tree::AutomatedAt), self.tree(Tree::Automated));
        let end = keys::instant(before);
        let mut n = 0;
        for k in by_time.range(..end.to_vec()).keys().take(limit) {
            let k = k?;
            if let Some(other) = keys::automated_from_time_key(&k) {
                by_address.remove(other)?;
            }
            by_time.remove(k)?;
            n += 1;
        }
        Ok(n)
    }

    /// The data directory the store lives in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stores the files of a batch (SHA-256 hex, bytes) that are not stored yet, durably,
    /// in one append; returns the index entries to write with the commits that name them.
    /// Files already stored, or named twice, are written once.
    pub fn store_files(&self, files: &[(String, &[u8])]) -> Result<Vec<(String, Location)>, StoreError> {
        let index = self.tree(Tree::Files);
        let mut seen = std::collections::HashSet::new();
        let mut new: Vec<(&str, &[u8])> = Vec::new();
        for (sha, bytes) in files {
            if !seen.insert(sha.as_str()) || index.contains_key(sha.as_bytes())? || self.packs.read_legacy_exists(sha) {
                continue;
            }
            new.push((sha.as_str(), bytes));
        }
        self.packs.append(&new)
    }

    /// The names of every stored file (the pack index; files of the layout before
    /// packs are named by their own file names).
    pub fn file_names(&self) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> =
            self.tree(Tree::Files).iter().keys().map(|k| k.map(|k| String::from_utf8_lossy(&k).into_owned())).collect::<Result<_, _>>()?;
        names.extend(self.packs.legacy_names()?);
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The content of a stored file, checked against its hash (`None` when it is not stored).
    pub fn file(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.tree(Tree::Files).get(sha256.as_bytes())? {
            Some(v) => {
                let loc = Location::decode(&v).ok_or_else(|| StoreError::Decode("files".into(), sha256.into()))?;
                self.packs.read(sha256, loc).map(Some)
            }
            None => self.packs.read_legacy(sha256),
        }
    }
}

impl Lookup for SledStore {
    fn sr_exists(&self, id: u64) -> bool {
        SledStore::sr_exists(self, id).unwrap_or(false)
    }

    fn sr_of_message(&self, message_id: &str) -> Option<u64> {
        self.tree(Tree::Msgids).get(message_id).ok().flatten().and_then(|v| keys::read_u64(&v))
    }

    fn automated_since(&self, address: &str, since: Timestamp) -> u32 {
        let (start, end) = keys::automated_range(address, since);
        self.tree(Tree::Automated).range(start..end).count() as u32
    }

    fn contact(&self, address: &str) -> Option<Contact> {
        self.tree(Tree::Contacts).get(address.to_ascii_lowercase()).ok().flatten().and_then(|v| decode("contacts", &v).ok())
    }

    fn open_srs_of(&self, cse: &str, each: &mut dyn FnMut(&Sr)) {
        if let Err(e) = self.each_open_sr_of(cse, each) {
            tracing::error!(error = %e, "cannot read the open SRs of {cse}");
        }
    }

    fn suggested_at(&self, customer: &str, article: &str) -> Option<Timestamp> {
        self.tree(Tree::KbSuggested).get(keys::suggested(customer, article)).ok().flatten().and_then(|v| keys::read_instant(&v))
    }
}
