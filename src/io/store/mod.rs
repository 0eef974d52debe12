//! The store: SRs with their messages and events, the Message-ID index, the
//! dedupe set, the outbox, per-mailbox read positions, pending IMAP flags, the
//! quarantine, the scheduled-work index and the stored files.
//!
//! Two engines keep them behind this one interface ([`Store`]):
//! - [`sled`] (the default): an embedded database in `data_dir`, owned by one
//!   process at a time;
//! - [`postgres`]: a PostgreSQL database shared by any number of gateways, each
//!   mailbox read by the one gateway that holds its lease (see [`postgres::lease`]).
//!
//! **Invariant:** every inbound mail's effect ([`Commit`]) is written in one
//! transaction of the engine: the SR, its new messages and events, its index
//! entries, the dedupe key, the outgoing mail, the mailbox position and the
//! pending flag. Nothing is acknowledged on the server before
//! [`Store::make_durable`] returns. Only the engines know their layout; the
//! rest of srgate sees the records of [`records`].

pub mod postgres;
mod records;
pub mod sled;

use std::path::{Path, PathBuf};

use jiff::Timestamp;

pub use records::{
    Automated, Commit, CommitStats, DecisionReads, Disposition, Dump, Location, MailboxState, NewSrInputs, OutboxItem, Pending,
    QuarantineRecord, ReadsRequest, Seen, SeenEntry, SrWrite, Suggested,
};

use crate::config::{Config, StoreEngine};
use crate::contacts::{Contact, ContactChange};
use crate::gateway::Lookup;
use crate::sr::Sr;

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the data directory.
    #[error("another srgate process is using {0} (a daemon is running on this data_dir)")]
    Locked(PathBuf),
    /// The engine failed (I/O, disk full, corruption).
    #[error("store: {0}")]
    Engine(#[from] ::sled::Error),
    /// The database failed or could not be reached.
    #[error("database: {0}")]
    Database(String),
    /// The database's schema is not the one this srgate knows.
    #[error("database schema: {0}")]
    Schema(String),
    /// The commit names a mailbox this gateway no longer owns: another gateway took it over.
    #[error("mailbox {0}: this gateway no longer holds its lease (another gateway took it over); the commit was refused")]
    Fenced(String),
    /// The SR changed since the decision read it, or its number was taken, or (0) the
    /// day's digests were queued, by another gateway: decide again.
    #[error("SR {0} was changed by another gateway since it was read; the change was refused")]
    Conflict(u64),
    /// A file next to the store failed.
    #[error("store file {0}: {1}")]
    File(PathBuf, std::io::Error),
    /// A stored value did not decode.
    #[error("store: undecodable value under {0}: {1}")]
    Decode(String, String),
    /// A stored file's bytes do not match its content hash.
    #[error("store: damaged file: {0}")]
    Damaged(String),
    /// A commit would rewrite history (fewer messages or events than stored).
    #[error("store: SR {0}: a change may only append messages and events")]
    HistoryRewritten(u64),
    /// The data directory was written by a newer srgate.
    #[error("store: the data directory has layout {0}, this srgate knows layouts up to {1}: run the newer srgate, or restore a backup")]
    NewerFormat(u64, u64),
}

/// Takes the exclusive lock on `data_dir/lock` (creating the folder), waiting up to
/// `patience`: one process per data directory. sled's store holds it; with postgres the
/// daemon does (its control socket and tokens live there), not the commands.
pub fn lock_data_dir(data_dir: &Path, patience: std::time::Duration) -> Result<std::fs::File, StoreError> {
    std::fs::create_dir_all(data_dir).map_err(|e| StoreError::File(data_dir.to_path_buf(), e))?;
    let lock_path = data_dir.join("lock");
    let lock = std::fs::File::options()
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
    Ok(lock)
}

/// The engine behind a [`Store`]. (One store per process: the variants' sizes do not matter.)
#[allow(clippy::large_enum_variant)]
enum Engine {
    Sled(self::sled::SledStore),
    Postgres(postgres::PgStore),
}

/// The store: one of the two engines, chosen by `[store] engine`.
pub struct Store {
    engine: Engine,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("engine", &self.engine_name()).field("data_dir", &self.data_dir()).finish_non_exhaustive()
    }
}

/// Runs `$body` with `$s` bound to the engine, whichever it is.
macro_rules! on_engine {
    ($self:ident, $s:ident => $body:expr) => {
        match &$self.engine {
            Engine::Sled($s) => $body,
            Engine::Postgres($s) => $body,
        }
    };
}

impl Store {
    /// Opens (or creates) a sled store in `data_dir` with a page cache of `cache_bytes`,
    /// taking the exclusive lock; waits up to `patience` for it (a command that holds
    /// the store for a moment must not stop a daemon from starting).
    pub fn open(data_dir: &Path, patience: std::time::Duration, cache_bytes: u64) -> Result<Store, StoreError> {
        Ok(Store { engine: Engine::Sled(self::sled::SledStore::open(data_dir, patience, cache_bytes)?) })
    }

    /// Opens the store `config` names: sled in `data_dir`, or the PostgreSQL database
    /// (whose schema must be the one this srgate knows: `srgate migrate` makes it so).
    pub fn open_configured(config: &Config, patience: std::time::Duration) -> Result<Store, StoreError> {
        match &config.store.engine {
            StoreEngine::Sled => Store::open(&config.data_dir, patience, config.store_cache_mb * 1024 * 1024),
            StoreEngine::Postgres(pg) => Store::open_postgres(pg, &config.data_dir),
        }
    }

    /// Opens the PostgreSQL store `settings` name (`data_dir` keeps tokens and the socket).
    pub fn open_postgres(settings: &crate::config::Postgres, data_dir: &Path) -> Result<Store, StoreError> {
        Ok(Store { engine: Engine::Postgres(postgres::PgStore::open(settings, data_dir)?) })
    }

    /// `sled` or `postgres`.
    pub fn engine_name(&self) -> &'static str {
        match self.engine {
            Engine::Sled(_) => "sled",
            Engine::Postgres(_) => "postgres",
        }
    }

    /// True when several gateways may share this store (postgres): then mailboxes are
    /// read under leases and no control socket is needed to reach the data.
    pub fn is_shared(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// The PostgreSQL engine, when that is the one.
    pub fn postgres(&self) -> Option<&postgres::PgStore> {
        match &self.engine {
            Engine::Postgres(pg) => Some(pg),
            Engine::Sled(_) => None,
        }
    }

    /// Writes the whole effect of one mail atomically. Not durable until [`Store::make_durable`].
    pub fn commit(&self, c: &Commit) -> Result<CommitStats, StoreError> {
        on_engine!(self, s => s.commit(c))
    }

    /// [`Store::commit`], and the first reads of the next mail's decision made with it
    /// ([`Store::decision_reads`]). With postgres both go in one write and cost one
    /// round trip, the reads made once the commit's transaction has ended (they see
    /// what it wrote); sled commits only (its reads cost no round trip) and returns no
    /// reads. No reads either when they failed: the caller reads again.
    pub fn commit_then_read(&self, c: &Commit, next: Option<&ReadsRequest>) -> Result<(CommitStats, Option<DecisionReads>), StoreError> {
        match &self.engine {
            Engine::Sled(s) => Ok((s.commit(c)?, None)),
            Engine::Postgres(s) => s.commit_then_read(c, next),
        }
    }

    /// Adds or removes a designated contact, durably.
    pub fn change_contact(&self, change: &ContactChange) -> Result<(), StoreError> {
        self.commit(&Commit { contacts: vec![change.clone()], ..Commit::default() })?;
        self.make_durable()
    }

    /// The store's bookkeeping records (outbox, pending flags, positions, the cap, the
    /// suggestions, the dedupe set, the file index), for a backup.
    pub fn dump(&self) -> Result<Vec<Dump>, StoreError> {
        on_engine!(self, s => s.dump())
    }

    /// Writes one bookkeeping record back (a restore).
    pub fn restore(&self, record: &Dump) -> Result<(), StoreError> {
        on_engine!(self, s => s.restore(record))
    }

    /// This store's instance tag (made once, random), used in our Message-IDs.
    pub fn instance(&self) -> Result<String, StoreError> {
        on_engine!(self, s => s.instance())
    }

    /// Sets the instance tag, SR counter and round-robin turn (a restore).
    pub fn restore_meta(&self, instance: &str, next_sr: u64, rr: u64) -> Result<(), StoreError> {
        on_engine!(self, s => s.restore_meta(instance, next_sr, rr))
    }

    /// The durability barrier: returns once every write accepted so far survives a
    /// crash and a power cut. Blocking: call it off the async runtime.
    pub fn make_durable(&self) -> Result<(), StoreError> {
        on_engine!(self, s => s.make_durable())
    }

    /// Makes every write durable and closes the store, so that the next open is as
    /// quick as any (sled: its recovery snapshot written; see `SledStore::close`). For
    /// the end of a bulk write.
    pub fn close(self) -> Result<(), StoreError> {
        match self.engine {
            Engine::Sled(s) => s.close(),
            Engine::Postgres(p) => p.make_durable(),
        }
    }

    /// Hands buffered writes to the operating system (survives a crash of this
    /// process, not a power cut). Cheaper than [`Store::make_durable`].
    pub fn flush_to_os(&self) -> Result<(), StoreError> {
        on_engine!(self, s => s.flush_to_os())
    }

    /// Writes a probe and makes it durable (health, the watchdog).
    pub fn probe(&self) -> Result<(), StoreError> {
        on_engine!(self, s => s.probe())
    }

    /// The SR with number `id`, with its messages and events.
    pub fn get_sr(&self, id: u64) -> Result<Option<Sr>, StoreError> {
        on_engine!(self, s => s.get_sr(id))
    }

    /// True when SR `id` exists.
    pub fn sr_exists(&self, id: u64) -> Result<bool, StoreError> {
        on_engine!(self, s => s.sr_exists(id))
    }

    /// Every SR, oldest first, each with its messages and events.
    pub fn srs(&self) -> Box<dyn Iterator<Item = Result<Sr, StoreError>> + '_> {
        on_engine!(self, s => Box::new(s.srs()))
    }

    /// Hands `each` every SR not closed, one at a time, as its facts (without messages and
    /// events): a desk of a million SRs is read through, never held.
    pub fn each_open_sr(&self, each: &mut dyn FnMut(&Sr)) -> Result<(), StoreError> {
        on_engine!(self, s => s.each_open_sr(each))
    }

    /// The last day the daily digests went out (policy time zone).
    pub fn digest_day(&self) -> Result<Option<jiff::civil::Date>, StoreError> {
        on_engine!(self, s => s.digest_day())
    }

    /// True when the store holds no SR.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        on_engine!(self, s => s.is_empty())
    }

    /// The number the next SR gets.
    pub fn next_sr_id(&self) -> Result<u64, StoreError> {
        on_engine!(self, s => s.next_sr_id())
    }

    /// The next round-robin turn.
    pub fn rr_turn(&self) -> Result<u64, StoreError> {
        on_engine!(self, s => s.rr_turn())
    }

    /// The number an SR that a decision opens gets, once the decision is made. With
    /// sled, `provisional`, the number the decision read (a gateway's tasks decide in
    /// turn). With postgres, the sequence's next value, taken: gateways and tasks that
    /// open SRs at the same moment get different numbers and never refuse each other
    /// (a number whose commit then fails is left unused: the only gaps).
    pub fn take_sr_number(&self, provisional: u64) -> Result<u64, StoreError> {
        match &self.engine {
            Engine::Sled(_) => Ok(provisional),
            Engine::Postgres(s) => s.take_sr_number(),
        }
    }

    /// The loads, the round-robin turn and the next SR number, read together (one
    /// round trip with postgres).
    pub fn new_sr_inputs(&self) -> Result<NewSrInputs, StoreError> {
        match &self.engine {
            Engine::Sled(s) => Ok(NewSrInputs { loads: s.loads()?, rr: s.rr_turn()?, next_id: s.next_sr_id()? }),
            Engine::Postgres(s) => s.new_sr_inputs(),
        }
    }

    /// The reads a decision on an inbound mail starts with, together: what the dedupe
    /// set knows of the request's key, the new-SR inputs, the automated mails each of
    /// its addresses got in its window and, when asked, an SR number taken for the
    /// decision (one round trip with postgres; sled reads its own files, leaves the
    /// counts to [`Prefetched`]'s fallback and takes no number: a gateway's tasks
    /// decide in turn, so the number read is the one the SR gets).
    pub fn decision_reads(&self, request: &ReadsRequest) -> Result<DecisionReads, StoreError> {
        match &self.engine {
            Engine::Sled(s) => Ok(DecisionReads {
                seen: s.seen(&request.key)?,
                inputs: NewSrInputs { loads: s.loads()?, rr: s.rr_turn()?, next_id: s.next_sr_id()? },
                since: request.since,
                automated: Default::default(),
                reserved: None,
            }),
            Engine::Postgres(s) => s.decision_reads(request),
        }
    }

    /// Gives back an SR number taken with [`Store::decision_reads`] and not used: the
    /// next SR gets it unless another gateway took a number since (it is then left
    /// unused). Nothing with sled.
    pub fn give_back_sr_number(&self, number: u64) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(_) => Ok(()),
            Engine::Postgres(s) => s.give_back_sr_number(number),
        }
    }

    /// What the dedupe set knows of `key`.
    pub fn seen(&self, key: &str) -> Result<Option<SeenEntry>, StoreError> {
        on_engine!(self, s => s.seen(key))
    }

    /// Where reading of `mailbox` stands.
    pub fn mailbox_state(&self, mailbox: &str) -> Result<Option<MailboxState>, StoreError> {
        on_engine!(self, s => s.mailbox_state(mailbox))
    }

    /// Starts reading `mailbox` afresh under a new UIDVALIDITY (old pending flags no longer apply).
    pub fn reset_mailbox(&self, mailbox: &str, uid_validity: u32) -> Result<(), StoreError> {
        on_engine!(self, s => s.reset_mailbox(mailbox, uid_validity))
    }

    /// Mails of `mailbox` committed but not yet flagged or moved.
    pub fn pending(&self, mailbox: &str) -> Result<Vec<Pending>, StoreError> {
        on_engine!(self, s => s.pending(mailbox))
    }

    /// Forgets pending flags once the server has them.
    pub fn clear_pending(&self, mailbox: &str, done: &[Pending]) -> Result<(), StoreError> {
        on_engine!(self, s => s.clear_pending(mailbox, done))
    }

    /// Every designated contact.
    pub fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        on_engine!(self, s => s.contacts())
    }

    /// Open SRs per CSE address.
    pub fn loads(&self) -> Result<std::collections::HashMap<String, usize>, StoreError> {
        on_engine!(self, s => s.loads())
    }

    /// SRs with scheduled work due at or before `now`, earliest first, at most `limit`.
    /// With postgres the SRs returned are claimed by this gateway for a while, so that
    /// scheduled work runs once however many gateways share the database.
    pub fn due_until(&self, now: Timestamp, limit: usize) -> Result<Vec<u64>, StoreError> {
        on_engine!(self, s => s.due_until(now, limit))
    }

    /// The earliest scheduled wake-up of any SR.
    pub fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        on_engine!(self, s => s.next_due())
    }

    /// SRs by (state, priority) (kept in memory: `/metrics` reads it).
    pub fn sr_counts(&self) -> Vec<(String, String, u64)> {
        on_engine!(self, s => s.sr_counts())
    }

    /// Number of quarantine records (kept in memory).
    pub fn quarantine_len(&self) -> u64 {
        on_engine!(self, s => s.quarantine_len())
    }

    /// Every quarantine record, oldest first.
    pub fn quarantine(&self) -> Result<Vec<QuarantineRecord>, StoreError> {
        on_engine!(self, s => s.quarantine())
    }

    /// Removes records of automated mail sent before `before`; returns how many went.
    pub fn prune_automated(&self, before: Timestamp, limit: usize) -> Result<usize, StoreError> {
        on_engine!(self, s => s.prune_automated(before, limit))
    }

    /// The data directory (sled's database; with postgres: tokens, the control socket).
    pub fn data_dir(&self) -> &Path {
        on_engine!(self, s => s.data_dir())
    }

    /// Stores the files of a batch (SHA-256 hex, bytes) that are not stored yet, durably;
    /// returns the index entries to write with the commits that name them (none with
    /// postgres, whose files are rows of their own, committed here).
    pub fn store_files(&self, files: &[(String, &[u8])]) -> Result<Vec<(String, Location)>, StoreError> {
        on_engine!(self, s => s.store_files(files))
    }

    /// The content of a stored file, checked against its hash (`None` when it is not stored).
    pub fn file(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        on_engine!(self, s => s.file(sha256))
    }

    /// The SHA-256 names of every stored file (a copy between engines carries them all).
    pub fn file_names(&self) -> Result<Vec<String>, StoreError> {
        on_engine!(self, s => s.file_names())
    }

    /// Outbox items due at `now` that no older item of their SR to one of their
    /// recipients is waiting for, at most `limit`. With postgres they are claimed by
    /// this gateway until settled (or for ten minutes), so several gateways deliver in
    /// parallel without sending anything twice.
    pub fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<(u64, OutboxItem)>, StoreError> {
        on_engine!(self, s => s.outbox_due(now, limit))
    }

    /// The first instant after `now` at which an item is due.
    pub fn outbox_next_due_after(&self, now: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        on_engine!(self, s => s.outbox_next_due_after(now))
    }

    /// Number of outbox items.
    pub fn outbox_len(&self) -> u64 {
        on_engine!(self, s => s.outbox_len())
    }

    /// When the oldest waiting item was queued.
    pub fn outbox_oldest(&self) -> Result<Option<Timestamp>, StoreError> {
        on_engine!(self, s => s.outbox_oldest())
    }

    /// Removes a delivered item.
    pub fn outbox_remove(&self, id: u64) -> Result<(), StoreError> {
        on_engine!(self, s => s.outbox_remove(id))
    }

    /// Rewrites items after an attempt (recipients left, attempts, next attempt): one
    /// statement with postgres.
    pub fn outbox_update_all(&self, items: &[(u64, OutboxItem)]) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(s) => items.iter().try_for_each(|(id, item)| s.outbox_update(*id, item)),
            Engine::Postgres(s) => s.outbox_update_all(items),
        }
    }

    /// Tries to take (or keep) the lease on `mailbox` (its store key): true when this
    /// gateway may read it. With sled the data directory's lock makes this process the
    /// only reader: always true.
    pub fn own_mailbox(&self, mailbox: &str) -> Result<bool, StoreError> {
        match &self.engine {
            Engine::Sled(_) => Ok(true),
            Engine::Postgres(pg) => pg.leases().own(mailbox),
        }
    }

    /// The mailboxes (store keys) whose leases this gateway holds (sled: `None`, every one).
    pub fn owned_mailboxes(&self) -> Option<Vec<String>> {
        self.postgres().map(|pg| pg.leases().owned())
    }
}

/// The store, with the answers a decision's first reads got beforehand
/// ([`Store::decision_reads`]); anything else is asked of the store.
pub struct Prefetched<'a> {
    /// The store.
    pub store: &'a Store,
    /// What was read beforehand.
    pub reads: &'a DecisionReads,
}

impl Lookup for Prefetched<'_> {
    fn sr_exists(&self, id: u64) -> bool {
        self.store.sr_exists(id).unwrap_or(false)
    }

    fn sr_of_message(&self, message_id: &str) -> Option<u64> {
        self.store.sr_of_message(message_id)
    }

    fn automated_since(&self, address: &str, since: Timestamp) -> u32 {
        match self.reads.automated.get(&address.to_ascii_lowercase()) {
            Some(n) if since == self.reads.since => *n,
            _ => self.store.automated_since(address, since),
        }
    }

    fn contact(&self, address: &str) -> Option<Contact> {
        self.store.contact(address)
    }

    fn open_srs_of(&self, cse: &str, each: &mut dyn FnMut(&Sr)) {
        self.store.open_srs_of(cse, each)
    }

    fn suggested_at(&self, customer: &str, article: &str) -> Option<Timestamp> {
        self.store.suggested_at(customer, article)
    }
}

impl Lookup for Store {
    fn sr_exists(&self, id: u64) -> bool {
        on_engine!(self, s => Lookup::sr_exists(s, id))
    }

    fn sr_of_message(&self, message_id: &str) -> Option<u64> {
        on_engine!(self, s => s.sr_of_message(message_id))
    }

    fn automated_since(&self, address: &str, since: Timestamp) -> u32 {
        on_engine!(self, s => s.automated_since(address, since))
    }

    fn contact(&self, address: &str) -> Option<Contact> {
        on_engine!(self, s => s.contact(address))
    }

    fn open_srs_of(&self, cse: &str, each: &mut dyn FnMut(&Sr)) {
        on_engine!(self, s => s.open_srs_of(cse, each))
    }

    fn suggested_at(&self, customer: &str, article: &str) -> Option<Timestamp> {
        on_engine!(self, s => s.suggested_at(customer, article))
    }
}
