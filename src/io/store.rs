//! The sled store: SRs, the Message-ID index, the dedupe set, the outbox,
//! per-mailbox read positions, pending IMAP flags and the quarantine.
//!
//! **Invariant:** only this module knows the key layout. Every inbound mail's
//! effect ([`Commit`]) is written in one transaction: the SR, its index
//! entries, the dedupe key, the outgoing mail, the mailbox position and the
//! pending flag. The caller flushes before it touches the mail on the server.
//!
//! One process owns a data directory at a time (an exclusive lock on
//! `data_dir/lock`); other processes talk to it over [`super::control`].

use std::fs::File;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use crate::contacts::{Contact, ContactChange};
use crate::gateway::Lookup;
use crate::mail::outbound::OutKind;
use crate::sr::{FIRST_SR, Priority, Sr, State};

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the data directory.
    #[error("another srgate process is using {0} (a daemon is running on this data_dir)")]
    Locked(PathBuf),
    /// The engine failed (I/O, disk full, corruption).
    #[error("store: {0}")]
    Engine(#[from] sled::Error),
    /// A file next to the store failed.
    #[error("store file {0}: {1}")]
    File(PathBuf, std::io::Error),
    /// A stored value did not decode.
    #[error("store: undecodable value under {0}: {1}")]
    Decode(String, String),
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Engine(e),
        }
    }
}

/// sled's page cache: bounded, so that memory does not grow with the store
/// (sled's default is 1 GiB).
pub const PAGE_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Where a mailbox's reading stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MailboxState {
    /// UIDVALIDITY the positions refer to.
    pub uid_validity: u32,
    /// Highest UID whose effect is committed.
    pub last_uid: u32,
}

/// What to do on the server with a committed mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Flag `\Seen` or move to `processed_folder`.
    Processed,
    /// Move to the quarantine folder.
    Quarantine,
}

/// A mail committed but not yet flagged or moved on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// UIDVALIDITY at commit.
    pub uid_validity: u32,
    /// The mail's UID.
    pub uid: u32,
    /// What to do with it.
    pub disposition: Disposition,
}

/// A mail that could not be processed, kept for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineRecord {
    /// Mailbox name.
    pub mailbox: String,
    /// UID in that mailbox.
    pub uid: u32,
    /// Why.
    pub reason: String,
    /// Sender, as far as it could be read.
    pub from: String,
    /// Subject, as far as it could be read.
    pub subject: String,
    /// When.
    pub at: Timestamp,
    /// Content hash of the raw mail (kept in the store).
    pub content_hash: String,
}

/// An outgoing mail waiting for SMTP acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// SR it belongs to.
    pub sr: u64,
    /// What it is.
    pub kind: OutKind,
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub to: Vec<String>,
    /// Our Message-ID.
    pub message_id: String,
    /// When it was queued.
    pub queued_at: Timestamp,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not before this instant.
    pub next_attempt_at: Timestamp,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// The rendered message.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// One SR written by a commit, with its move in the due index.
#[derive(Debug, Clone)]
pub struct SrWrite {
    /// The SR after the change.
    pub sr: Sr,
    /// True when the change created it (advances the SR counter).
    pub created: bool,
    /// Its scheduled wake-up before the change.
    pub wake_before: Option<Timestamp>,
    /// Its scheduled wake-up after the change.
    pub wake_after: Option<Timestamp>,
    /// Its state and priority before the change (None when created), for the counts.
    pub counted_before: Option<(State, Priority)>,
}

/// The full effect of one inbound mail (or one scheduled pass on an SR), written atomically.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    /// Mailbox it was read from.
    pub mailbox: String,
    /// UIDVALIDITY and UID it was read under (None for work that has no server copy).
    pub source: Option<(u32, u32)>,
    /// Processed or quarantined.
    pub disposition: Option<Disposition>,
    /// Dedupe key and the SR it produced (0 when none).
    pub seen: Option<(String, u64)>,
    /// The SRs after the change.
    pub srs: Vec<SrWrite>,
    /// Message-IDs (received and sent) to index, with their SR.
    pub message_ids: Vec<(String, u64)>,
    /// Outgoing mail.
    pub outbox: Vec<OutboxItem>,
    /// A quarantine record.
    pub quarantine: Option<QuarantineRecord>,
    /// The next round-robin turn.
    pub next_rr: Option<u64>,
    /// Changes to the CSEs' open-SR counts.
    pub load_delta: Vec<(String, i64)>,
    /// Designated contacts added or removed.
    pub contacts: Vec<ContactChange>,
    /// Addresses that got an automated mail at this instant (the per-sender cap).
    pub automated: Option<(Timestamp, Vec<String>)>,
    /// More dedupe keys (a restore).
    pub seen_keys: Vec<(String, u64)>,
}

/// The `stats` key of an SR: its state and priority.
fn stats_key(state: State, priority: Priority) -> String {
    format!("{}/{priority:?}", state.as_str())
}

/// The store.
pub struct Store {
    db: sled::Db,
    srs: sled::Tree,
    msgids: sled::Tree,
    seen: sled::Tree,
    outbox: sled::Tree,
    meta: sled::Tree,
    mailboxes: sled::Tree,
    pending: sled::Tree,
    quarantine: sled::Tree,
    data_dir: PathBuf,
    loads: sled::Tree,
    due: sled::Tree,
    contacts: sled::Tree,
    automated: sled::Tree,
    stats: sled::Tree,
    _lock: File,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn abort(e: impl Into<StoreError>) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e.into())
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain structs to JSON cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode<T: for<'de> Deserialize<'de>>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Decode(what.into(), e.to_string()))
}

fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn read_u64(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_be_bytes)
}

fn pending_key(mailbox: &str, validity: u32, uid: u32) -> Vec<u8> {
    let mut k = mailbox.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&validity.to_be_bytes());
    k.extend_from_slice(&uid.to_be_bytes());
    k
}

/// Offset that makes every instant's millisecond count a positive, sortable u64.
const DUE_OFFSET: i64 = 1 << 62;

/// Automated-mail key: address, NUL, instant (ms, big-endian), sequence.
fn automated_key(address: &str, t: Timestamp, seq: u32) -> Vec<u8> {
    let mut k = address.to_ascii_lowercase().into_bytes();
    k.push(0);
    k.extend_from_slice(&((t.as_millisecond() + DUE_OFFSET) as u64).to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Due-index key: the instant (ms, big-endian, offset) then the SR number.
fn due_key(t: Timestamp, sr: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&((t.as_millisecond() + DUE_OFFSET) as u64).to_be_bytes());
    k[8..].copy_from_slice(&sr.to_be_bytes());
    k
}

fn mailbox_prefix(mailbox: &str) -> Vec<u8> {
    let mut k = mailbox.as_bytes().to_vec();
    k.push(0);
    k
}

/// Outbox values: a length-prefixed JSON header, then the message bytes.
fn encode_outbox(item: &OutboxItem) -> Vec<u8> {
    let head = json(item);
    let mut v = Vec::with_capacity(4 + head.len() + item.bytes.len());
    v.extend_from_slice(&(head.len() as u32).to_be_bytes());
    v.extend_from_slice(&head);
    v.extend_from_slice(&item.bytes);
    v
}

/// The header of an outbox value (without copying the message), and where the message starts.
fn decode_outbox_head(v: &[u8]) -> Result<(OutboxItem, usize), StoreError> {
    let bad = || StoreError::Decode("outbox".into(), "truncated".into());
    let len = u32::from_be_bytes(v.get(..4).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize;
    let head = v.get(4..4 + len).ok_or_else(bad)?;
    Ok((decode("outbox", head)?, 4 + len))
}

impl Store {
    /// Opens (or creates) the store in `data_dir`, taking the exclusive lock.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Self::open_waiting(data_dir, std::time::Duration::ZERO)
    }

    /// Like [`Store::open`], but waits up to `patience` for the lock: a command
    /// that holds the store for a moment must not stop a daemon from starting.
    pub fn open_waiting(data_dir: &Path, patience: std::time::Duration) -> Result<Store, StoreError> {
        Self::open_with_cache(data_dir, patience, PAGE_CACHE_BYTES)
    }

    /// Like [`Store::open_waiting`], with a page cache of `cache_bytes` instead of
    /// [`PAGE_CACHE_BYTES`] (bulk loads: a larger cache makes them faster).
    pub fn open_with_cache(data_dir: &Path, patience: std::time::Duration, cache_bytes: u64) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::File(data_dir.to_path_buf(), e))?;
        let lock_path = data_dir.join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::File(lock_path.clone(), e))?;
        let step = std::time::Duration::from_millis(50);
        let mut waited = std::time::Duration::ZERO;
        while lock.try_lock().is_err() {
            if waited >= patience {
                return Err(StoreError::Locked(data_dir.to_path_buf()));
            }
            std::thread::sleep(step);
            waited += step;
        }
        let db = sled::Config::new().path(data_dir.join("db")).cache_capacity(cache_bytes).flush_every_ms(Some(1000)).open()?;
        let tree = |name: &str| db.open_tree(name);
        Ok(Store {
            srs: tree("srs")?,
            msgids: tree("msgids")?,
            seen: tree("seen")?,
            outbox: tree("outbox")?,
            meta: tree("meta")?,
            mailboxes: tree("mailboxes")?,
            pending: tree("pending")?,
            quarantine: tree("quarantine")?,
            data_dir: data_dir.to_path_buf(),
            loads: tree("loads")?,
            due: tree("due")?,
            contacts: tree("contacts")?,
            automated: tree("automated")?,
            stats: tree("stats")?,
            db,
            _lock: lock,
        })
    }

    /// This store's instance tag (made once, random), used in our Message-IDs.
    pub fn instance(&self) -> Result<String, StoreError> {
        if let Some(v) = self.meta.get("instance")? {
            return Ok(String::from_utf8_lossy(&v).into_owned());
        }
        // A random tag: std's hasher keys are seeded from the OS's randomness.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(self.db.generate_id()?);
        let tag = format!("{:012x}", h.finish() & 0xffff_ffff_ffff);
        self.meta.insert("instance", tag.as_bytes())?;
        self.db.flush()?;
        Ok(tag)
    }

    /// Sets the instance tag, SR counter and round-robin turn (a restore).
    pub fn restore_meta(&self, instance: &str, next_sr: u64, rr: u64) -> Result<(), StoreError> {
        self.meta.insert("instance", instance.as_bytes())?;
        self.meta.insert("next_sr", &be(next_sr))?;
        self.meta.insert("rr", &be(rr))?;
        Ok(())
    }

    /// Like [`Store::flush`], for code outside the runtime.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Waits until everything written so far is on disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Checks that the store accepts a write (health).
    pub fn probe_write(&self) -> Result<(), StoreError> {
        self.meta.insert("probe", &be(0))?;
        Ok(())
    }

    /// The SR with number `id`.
    pub fn get_sr(&self, id: u64) -> Result<Option<Sr>, StoreError> {
        self.srs.get(be(id))?.map(|v| decode("srs", &v)).transpose()
    }

    /// Every SR, oldest first.
    pub fn srs(&self) -> impl Iterator<Item = Result<Sr, StoreError>> + '_ {
        self.srs.iter().map(|r| r.map_err(StoreError::from).and_then(|(_, v)| decode("srs", &v)))
    }

    /// The number the next SR gets.
    pub fn next_sr_id(&self) -> Result<u64, StoreError> {
        Ok(self.meta.get("next_sr")?.and_then(|v| read_u64(&v)).unwrap_or(FIRST_SR))
    }

    /// The next round-robin turn.
    pub fn rr_turn(&self) -> Result<u64, StoreError> {
        Ok(self.meta.get("rr")?.and_then(|v| read_u64(&v)).unwrap_or(0))
    }

    /// The SR a dedupe key already produced, when the mail was read before.
    pub fn seen(&self, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.seen.get(key)?.and_then(|v| read_u64(&v)))
    }

    /// Where reading of `mailbox` stands.
    pub fn mailbox_state(&self, mailbox: &str) -> Result<Option<MailboxState>, StoreError> {
        self.mailboxes.get(mailbox)?.map(|v| decode("mailboxes", &v)).transpose()
    }

    /// Starts reading `mailbox` afresh under a new UIDVALIDITY (old pending flags no longer apply).
    pub fn reset_mailbox(&self, mailbox: &str, uid_validity: u32) -> Result<(), StoreError> {
        for key in self.pending.scan_prefix(mailbox_prefix(mailbox)).keys() {
            self.pending.remove(key?)?;
        }
        self.mailboxes.insert(mailbox, json(&MailboxState { uid_validity, last_uid: 0 }))?;
        Ok(())
    }

    /// Mails of `mailbox` committed but not yet flagged or moved.
    pub fn pending(&self, mailbox: &str) -> Result<Vec<Pending>, StoreError> {
        let prefix = mailbox_prefix(mailbox);
        let mut out = Vec::new();
        for item in self.pending.scan_prefix(&prefix) {
            let (k, v) = item?;
            let rest = &k[prefix.len()..];
            if rest.len() != 8 {
                continue;
            }
            let uid_validity = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let uid = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]);
            let disposition = decode("pending", &v)?;
            out.push(Pending { uid_validity, uid, disposition });
        }
        Ok(out)
    }

    /// Forgets a pending flag once the server has it.
    pub fn clear_pending(&self, mailbox: &str, p: &Pending) -> Result<(), StoreError> {
        self.pending.remove(pending_key(mailbox, p.uid_validity, p.uid))?;
        Ok(())
    }

    /// A fresh, increasing key for an outbox item or a quarantine record.
    pub fn next_key(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    /// Writes the whole effect of one mail atomically (not yet flushed).
    pub fn commit(&self, c: &Commit) -> Result<(), StoreError> {
        let trees = (
            &self.srs,
            &self.msgids,
            &self.seen,
            &self.outbox,
            &self.meta,
            &self.mailboxes,
            &self.pending,
            &self.quarantine,
            &self.loads,
            &self.due,
            &self.contacts,
            &self.automated,
            &self.stats,
        );
        let keys: Vec<u64> = c.outbox.iter().map(|_| self.next_key()).collect::<Result<_, _>>()?;
        let qkey = c.quarantine.as_ref().map(|_| self.next_key()).transpose()?;
        trees.transaction(
            |(srs, msgids, seen, outbox, meta, mailboxes, pending, quarantine, loads, due, contacts, automated, stats)| -> TxResult<()> {
                if let Some((at, addresses)) = &c.automated {
                    for (i, a) in addresses.iter().enumerate() {
                        automated.insert(automated_key(a, *at, i as u32), &[])?;
                    }
                }
                for change in &c.contacts {
                    match change {
                        ContactChange::Add(contact) => {
                            contacts.insert(contact.address.as_bytes(), json(contact))?;
                        }
                        ContactChange::Remove(address) => {
                            contacts.remove(address.as_bytes())?;
                        }
                    }
                }
                for (cse, delta) in &c.load_delta {
                    let current = loads.get(cse.as_bytes())?.and_then(|v| read_u64(v.as_ref())).unwrap_or(0) as i64;
                    loads.insert(cse.as_bytes(), &be((current + delta).max(0) as u64))?;
                }
                for w in &c.srs {
                    let bump = |key: String, delta: i64| -> TxResult<()> {
                        let n = stats.get(key.as_bytes())?.and_then(|v| read_u64(v.as_ref())).unwrap_or(0) as i64;
                        stats.insert(key.as_bytes(), &be((n + delta).max(0) as u64))?;
                        Ok(())
                    };
                    if let Some((state, priority)) = w.counted_before {
                        bump(stats_key(state, priority), -1)?;
                    }
                    bump(stats_key(w.sr.state, w.sr.priority), 1)?;
                    if let Some(t) = w.wake_before {
                        due.remove(due_key(t, w.sr.id).to_vec())?;
                    }
                    if let Some(t) = w.wake_after {
                        due.insert(due_key(t, w.sr.id).to_vec(), &[])?;
                    }
                    srs.insert(&be(w.sr.id), json(&w.sr))?;
                    if w.created {
                        let next = read_u64(&meta.get("next_sr")?.unwrap_or_default()).unwrap_or(FIRST_SR);
                        meta.insert("next_sr", &be(next.max(w.sr.id + 1)))?;
                    }
                }
                for (id, sr) in &c.message_ids {
                    msgids.insert(id.as_bytes(), &be(*sr))?;
                }
                if let Some(rr) = c.next_rr {
                    meta.insert("rr", &be(rr))?;
                }
                if let Some((key, sr)) = &c.seen {
                    seen.insert(key.as_bytes(), &be(*sr))?;
                }
                for (key, sr) in &c.seen_keys {
                    seen.insert(key.as_bytes(), &be(*sr))?;
                }
                for (item, key) in c.outbox.iter().zip(&keys) {
                    outbox.insert(&be(*key), encode_outbox(item))?;
                }
                if let (Some(q), Some(k)) = (&c.quarantine, qkey) {
                    quarantine.insert(&be(k), json(q))?;
                }
                if let Some((validity, uid)) = c.source {
                    advance_mailbox(mailboxes, &c.mailbox, validity, uid)?;
                    if let Some(d) = c.disposition {
                        pending.insert(pending_key(&c.mailbox, validity, uid), json(&d))?;
                    }
                }
                Ok(())
            },
        )?;
        Ok(())
    }

    /// Every designated contact.
    pub fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        self.contacts.iter().values().map(|v| decode("contacts", &v?)).collect()
    }

    /// Adds or removes a designated contact (flushed).
    pub async fn change_contact(&self, change: &ContactChange) -> Result<(), StoreError> {
        self.commit(&Commit { contacts: vec![change.clone()], ..Commit::default() })?;
        self.flush().await
    }

    /// Open SRs per CSE address.
    pub fn loads(&self) -> Result<std::collections::HashMap<String, usize>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for item in self.loads.iter() {
            let (k, v) = item?;
            out.insert(String::from_utf8_lossy(&k).into_owned(), read_u64(&v).unwrap_or(0) as usize);
        }
        Ok(out)
    }

    /// SRs with scheduled work due at or before `now`, earliest first, at most `limit`.
    /// Reads only the due index, never every SR.
    pub fn due_until(&self, now: Timestamp, limit: usize) -> Result<Vec<u64>, StoreError> {
        let end = due_key(now, u64::MAX);
        let mut out = Vec::new();
        for item in self.due.range(..=end.to_vec()).keys().take(limit) {
            let k = item?;
            if let Some(id) = k.get(8..16).and_then(read_u64) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// The earliest scheduled wake-up of any SR.
    pub fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .due
            .first()?
            .and_then(|(k, _)| k.get(..8).and_then(read_u64))
            .and_then(|ms| Timestamp::from_millisecond(ms as i64 - DUE_OFFSET).ok()))
    }

    /// Outbox items due at `now`, oldest first, at most `limit`, and at most one per SR
    /// (so that one SR's mails reach their readers in the order they were made).
    pub fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<(u64, OutboxItem)>, StoreError> {
        let mut out = Vec::new();
        let mut srs = std::collections::HashSet::new();
        for item in self.outbox.iter() {
            let (k, v) = item?;
            let Some(key) = read_u64(&k) else { continue };
            let (mut it, body) = decode_outbox_head(&v)?;
            if !srs.insert(it.sr) {
                continue;
            }
            if it.next_attempt_at <= now {
                it.bytes = v[body..].to_vec();
                out.push((key, it));
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// SRs by (state, priority), from the counts kept at every commit.
    pub fn sr_counts(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        let mut out = Vec::new();
        for item in self.stats.iter() {
            let (k, v) = item?;
            let key = String::from_utf8_lossy(&k).into_owned();
            if let Some((state, priority)) = key.split_once('/') {
                out.push((state.to_string(), priority.to_string(), read_u64(&v).unwrap_or(0)));
            }
        }
        Ok(out)
    }

    /// Number of quarantine records.
    pub fn quarantine_len(&self) -> usize {
        self.quarantine.len()
    }

    /// When the oldest outbox item was queued.
    pub fn outbox_oldest(&self) -> Result<Option<Timestamp>, StoreError> {
        match self.outbox.first()? {
            Some((_, v)) => Ok(Some(decode_outbox_head(&v)?.0.queued_at)),
            None => Ok(None),
        }
    }

    /// Number of items in the outbox.
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// The earliest `next_attempt_at` in the outbox.
    pub fn outbox_next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let mut best: Option<Timestamp> = None;
        for item in self.outbox.iter() {
            let (_, v) = item?;
            let (it, _) = decode_outbox_head(&v)?;
            best = Some(best.map_or(it.next_attempt_at, |b| b.min(it.next_attempt_at)));
        }
        Ok(best)
    }

    /// Removes a delivered (or abandoned) outbox item.
    pub fn outbox_remove(&self, key: u64) -> Result<(), StoreError> {
        self.outbox.remove(be(key))?;
        Ok(())
    }

    /// Rewrites an outbox item after a failed attempt.
    pub fn outbox_update(&self, key: u64, item: &OutboxItem) -> Result<(), StoreError> {
        self.outbox.insert(be(key), encode_outbox(item))?;
        Ok(())
    }

    /// Every quarantine record, oldest first.
    pub fn quarantine(&self) -> Result<Vec<QuarantineRecord>, StoreError> {
        self.quarantine.iter().values().map(|v| decode("quarantine", &v?)).collect()
    }

    /// Where the file with content hash `sha256` lives (`data_dir/files/ab/abcdef…`).
    pub fn file_path(&self, sha256: &str) -> PathBuf {
        let shard = sha256.get(..2).unwrap_or("00");
        self.data_dir.join("files").join(shard).join(sha256)
    }

    /// The data directory the store lives in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Writes `bytes` as the file addressed by `sha256`, not yet durable: a batch
    /// stages its files, then [`Store::sync_files`] makes them durable with one
    /// call, before any commit that names them is written.
    pub fn stage_file(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.write_file(sha256, bytes, false)
    }

    /// Makes every staged file durable (one `syncfs` of the data directory's filesystem).
    pub fn sync_files(&self) -> Result<(), StoreError> {
        let dir = File::open(&self.data_dir).map_err(|e| StoreError::File(self.data_dir.clone(), e))?;
        rustix::fs::syncfs(&dir).map_err(|e| StoreError::File(self.data_dir.clone(), e.into()))
    }

    /// Keeps `bytes` as the file addressed by `sha256`, durable when this returns.
    /// Writing the same content twice is a no-op: the address is the content.
    pub fn put_file(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.write_file(sha256, bytes, true)
    }

    /// Writes a content-addressed file through a temporary name; with `durable`,
    /// syncs the file and its folder before returning.
    fn write_file(&self, sha256: &str, bytes: &[u8], durable: bool) -> Result<(), StoreError> {
        use std::io::Write;
        let path = self.file_path(sha256);
        if path.exists() {
            return Ok(());
        }
        let err = |p: &Path, e| StoreError::File(p.to_path_buf(), e);
        let dir = path.parent().unwrap_or(&self.data_dir).to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| err(&dir, e))?;
        // A name of its own per writer: two threads may stage the same content at once.
        static WRITER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".{sha256}.{}.{n}.tmp", std::process::id()));
        let mut f = File::create(&tmp).map_err(|e| err(&tmp, e))?;
        f.write_all(bytes).map_err(|e| err(&tmp, e))?;
        if durable {
            f.sync_all().map_err(|e| err(&tmp, e))?;
        }
        std::fs::rename(&tmp, &path).map_err(|e| err(&path, e))?;
        if durable {
            File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| err(&dir, e))?;
        }
        Ok(())
    }

    /// The content of a stored file.
    pub fn file(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.file_path(sha256);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::File(path, e)),
        }
    }
}

fn advance_mailbox(mailboxes: &TransactionalTree, name: &str, validity: u32, uid: u32) -> TxResult<()> {
    let current: MailboxState = match mailboxes.get(name)? {
        Some(v) => decode("mailboxes", &v).map_err(abort)?,
        None => MailboxState { uid_validity: validity, last_uid: 0 },
    };
    let last_uid = if current.uid_validity == validity { current.last_uid.max(uid) } else { uid };
    mailboxes.insert(name, json(&MailboxState { uid_validity: validity, last_uid }))?;
    Ok(())
}

impl Lookup for Store {
    fn sr(&self, id: u64) -> Option<Sr> {
        self.get_sr(id).ok().flatten()
    }

    fn sr_of_message(&self, message_id: &str) -> Option<u64> {
        self.msgids.get(message_id).ok().flatten().and_then(|v| read_u64(&v))
    }

    fn automated_since(&self, address: &str, since: Timestamp) -> u32 {
        let start = automated_key(address, since, 0);
        let mut end = address.to_ascii_lowercase().into_bytes();
        end.push(1);
        self.automated.range(start..end).count() as u32
    }

    fn contact(&self, address: &str) -> Option<Contact> {
        self.contacts.get(address.to_ascii_lowercase()).ok().flatten().and_then(|v| decode("contacts", &v).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_content_staged_by_several_threads_at_once_is_kept_once() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path())?;
        let bytes = b"the same attachment in two mails of one batch".to_vec();
        let sha = crate::mail::inbound::sha256_hex(&bytes);
        let results: Vec<Result<(), StoreError>> = std::thread::scope(|s| {
            let writers: Vec<_> = (0..4).map(|_| s.spawn(|| (0..50).try_for_each(|_| store.stage_file(&sha, &bytes)))).collect();
            writers.into_iter().map(|w| w.join().unwrap_or_else(|_| Err(StoreError::Decode("thread".into(), "panicked".into())))).collect()
        });
        for r in results {
            r?;
        }
        store.sync_files()?;
        assert_eq!(store.file(&sha)?, Some(bytes));
        let folder = store.file_path(&sha).parent().map(Path::to_path_buf).ok_or("no folder")?;
        assert_eq!(std::fs::read_dir(folder)?.count(), 1, "no temporary files are left behind");
        Ok(())
    }
}
