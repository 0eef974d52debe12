//! The records every engine reads and writes: one mail's effect ([`Commit`]),
//! the outgoing mail it queues ([`OutboxItem`]), a mailbox's position and pending
//! flags, quarantine records, the dedupe set's entries and the bookkeeping records
//! of a backup ([`Dump`]). The engines ([`super::sled`], [`super::postgres`]) store
//! them; nothing here knows how.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::contacts::ContactChange;
use crate::mail::outbound::OutKind;
use crate::sr::{Priority, Sr, State};

pub use super::sled::Location;

/// Where a mailbox's reading stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MailboxState {
    /// UIDVALIDITY the positions refer to.
    pub uid_validity: u32,
    /// Every UID up to this one is committed.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// What the dedupe set knows of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenEntry {
    /// The SR the mail went to (0: none, e.g. quarantined or our own mail).
    pub sr: u64,
    /// The mail's content fingerprint (absent in records made before fingerprints).
    pub fingerprint: Option<[u8; 32]>,
}

/// One SR written by a commit.
#[derive(Debug, Clone)]
pub struct SrWrite {
    /// The SR after the change, its whole history included.
    pub sr: Sr,
    /// True when the change created it (advances the SR counter).
    pub created: bool,
    /// How many of its messages and events are already stored (0, 0 when created):
    /// the commit appends the rest.
    pub stored: (usize, usize),
    /// Its scheduled wake-up after the change (the store remembers the one before).
    pub wake: Option<Timestamp>,
    /// Its state and priority before the change (None when created), for the counts.
    pub counted_before: Option<(State, Priority)>,
    /// Its facts as the decision read them (None when created; without messages and
    /// events). An engine that several gateways share refuses the write
    /// ([`super::StoreError::Conflict`]) when the stored SR is no longer this one.
    pub before: Option<Sr>,
}

/// A dedupe key and what it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The key (`mid:<Message-ID>`, `sha256:<hash>`, …).
    pub key: String,
    /// The SR the mail went to (0 when none).
    pub sr: u64,
    /// The mail's content fingerprint (SHA-256), when known.
    pub fingerprint: Option<[u8; 32]>,
}

/// An automated mail sent to one address (the per-address cap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Automated {
    /// The recipient.
    pub address: String,
    /// The mail's Message-ID (which makes the record its own).
    pub message_id: String,
    /// When.
    pub at: Timestamp,
}

/// A knowledge-base article suggested to a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggested {
    /// The customer's address.
    pub customer: String,
    /// The article's id.
    pub article: String,
    /// When.
    pub at: Timestamp,
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
    /// Dedupe keys written.
    pub seen: Vec<Seen>,
    /// The `seen` keys are recorded here first: with an engine several gateways share,
    /// a key another gateway recorded meanwhile refuses the commit
    /// ([`super::StoreError::Conflict`]), so that a mail that reached two mailboxes read
    /// by two gateways is decided once. (False: the keys are written over.)
    pub seen_first: bool,
    /// The SRs after the change.
    pub srs: Vec<SrWrite>,
    /// Message-IDs (received and sent) to index, with their SR; an ID already
    /// indexed keeps its SR (a reused Message-ID does not move a thread).
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
    /// Automated mail sent, per recipient.
    pub automated: Vec<Automated>,
    /// Knowledge-base articles suggested (the latest suggestion of an article to a customer replaces the one before).
    pub suggested: Vec<Suggested>,
    /// Index entries of files stored for this mail.
    pub files: Vec<(String, Location)>,
    /// The day whose daily digests this commit queues (remembered so that they go out once).
    pub digest_day: Option<jiff::civil::Date>,
}

/// What a commit wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Bytes of keys and values written.
    pub bytes: u64,
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
    /// Envelope recipients still to be delivered.
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

/// One bookkeeping record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Dump {
    /// A mail waiting in the outbox.
    Outbox {
        /// Its header.
        item: OutboxItem,
        /// The rendered message, base64.
        message: String,
    },
    /// A committed mail not yet flagged or moved on the server.
    Pending {
        /// Mailbox name.
        mailbox: String,
        /// UIDVALIDITY.
        uid_validity: u32,
        /// UID.
        uid: u32,
        /// What to do with it.
        disposition: Disposition,
    },
    /// Where a mailbox's reading stands.
    Mailbox {
        /// Mailbox name.
        name: String,
        /// UIDVALIDITY.
        uid_validity: u32,
        /// Every UID up to this one is committed.
        last_uid: u32,
    },
    /// An automated mail sent (the per-address cap).
    Automated {
        /// Recipient.
        address: String,
        /// When.
        at: Timestamp,
        /// Its Message-ID.
        message_id: String,
    },
    /// A knowledge-base article suggested to a customer (not again within 30 days).
    KbSuggested {
        /// The customer's address.
        customer: String,
        /// The article's id.
        article: String,
        /// When.
        at: Timestamp,
    },
    /// A dedupe key.
    Seen {
        /// The key.
        key: String,
        /// Its SR (0: none).
        sr: u64,
        /// The content fingerprint, hex.
        fingerprint: Option<String>,
    },
    /// Where a stored file's bytes are (the packs under `data_dir/files` travel beside the backup).
    File {
        /// Its SHA-256.
        sha256: String,
        /// Where.
        location: Location,
    },
}

/// What deciding on a mail that may open an SR reads from the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSrInputs {
    /// Open SRs per CSE.
    pub loads: std::collections::HashMap<String, usize>,
    /// The next round-robin turn.
    pub rr: u64,
    /// The number a new SR gets.
    pub next_id: u64,
}

/// What a decision on an inbound mail reads first: see [`super::Store::decision_reads`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadsRequest {
    /// The mail's dedupe key.
    pub key: String,
    /// The addresses whose automated mails are counted (the mail's sender and Cc).
    pub addresses: Vec<String>,
    /// The start of the window they are counted in.
    pub since: Timestamp,
    /// Whether to take an SR number too (postgres: the sequence's next value, for the
    /// SR the decision may open; see [`DecisionReads::reserved`]).
    pub reserve_sr_number: bool,
}

/// The reads a decision on an inbound mail starts with, made together (one round
/// trip with postgres): see [`super::Store::decision_reads`].
#[derive(Debug, Clone, Default)]
pub struct DecisionReads {
    /// What the dedupe set knows of the mail's key.
    pub seen: Option<SeenEntry>,
    /// The loads, the round-robin turn and the next SR number.
    pub inputs: NewSrInputs,
    /// The start of the window the automated mails were counted in.
    pub since: Timestamp,
    /// Automated mails each address asked about (lower case) got since `since`.
    pub automated: std::collections::HashMap<String, u32>,
    /// The SR number taken for the caller, when it asked for one (postgres only):
    /// nobody else gets it; what the caller does not use it gives back
    /// ([`super::Store::give_back_sr_number`]).
    pub reserved: Option<u64>,
}
