//! Backup and restore: everything the store holds, as JSON lines.
//!
//! The first line names the format and the store's instance tag (kept on
//! import, so our Message-IDs stay ours); then one object per line, each with
//! a `type`: `sr` (with its messages and events), `contact`, `quarantine`, and
//! the store's bookkeeping ([`Dump`]): `outbox` (mail waiting out an SMTP
//! outage), `pending` (mail committed but not yet flagged on the server),
//! `mailbox` (read positions), `automated` (the per-address cap), `seen` (the
//! dedupe set) and `file` (where each original and attachment is in the packs).
//! A round trip is lossless: export, import into an empty data directory,
//! export again gives the same lines. The files themselves are the packs under
//! `data_dir/files/`: copy that folder beside the export.
//!
//! Version 1 exports (SRs, contacts and quarantine only) still import; the
//! dedupe set is then rebuilt from the SRs' messages.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::contacts::{Contact, ContactChange};
use crate::io::store::{Commit, Dump, QuarantineRecord, Seen, SrWrite, Store, StoreError};
use crate::policy::Policy;
use crate::sr::{self, Direction, Sr, lifecycle};

/// The format tag of the first line.
pub const FORMAT: &str = "srgate-export";
/// The version written.
pub const VERSION: u32 = 2;

/// One line of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    /// The header line.
    Header {
        /// Always [`FORMAT`].
        format: String,
        /// Format version ([`VERSION`]).
        version: u32,
        /// The store's instance tag.
        instance: String,
        /// The next SR number.
        next_sr: u64,
        /// The round-robin turn.
        rr: u64,
    },
    /// An SR, whole.
    Sr(Box<Sr>),
    /// A designated contact.
    Contact(Contact),
    /// A quarantine record.
    Quarantine(QuarantineRecord),
}

/// A line of an export as read back: one of [`Line`], or the store's bookkeeping.
enum Read {
    Line(Line),
    Store(Dump),
}

/// Reads one line: the `type` says which it is.
fn read_line(text: &str) -> Result<Read, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let kind = value.get("type").and_then(|t| t.as_str()).unwrap_or_default();
    if matches!(kind, "header" | "sr" | "contact" | "quarantine") {
        serde_json::from_value(value).map(Read::Line).map_err(|e| e.to_string())
    } else {
        serde_json::from_value(value).map(Read::Store).map_err(|e| e.to_string())
    }
}

/// Backup and restore failures.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading or writing the file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A line did not decode.
    #[error("line {0}: {1}")]
    Line(usize, String),
    /// The target store is not empty.
    #[error("the store already holds SRs: import only into an empty one (a new data_dir, or an empty database)")]
    NotEmpty,
}

/// Writes the whole store to `out`; returns the number of SRs.
pub fn export(store: &Store, out: &mut impl Write) -> Result<usize, BackupError> {
    let header = Line::Header {
        format: FORMAT.into(),
        version: VERSION,
        instance: store.instance()?,
        next_sr: store.next_sr_id()?,
        rr: store.rr_turn()?,
    };
    let mut write = |line: &Line| -> Result<(), BackupError> {
        serde_json::to_writer(&mut *out, line).map_err(|e| BackupError::Io(e.into()))?;
        out.write_all(b"\n")?;
        Ok(())
    };
    write(&header)?;
    let mut n = 0;
    for sr in store.srs() {
        write(&Line::Sr(Box::new(sr?)))?;
        n += 1;
    }
    for c in store.contacts()? {
        write(&Line::Contact(c))?;
    }
    for q in store.quarantine()? {
        write(&Line::Quarantine(q))?;
    }
    for d in store.dump()? {
        serde_json::to_writer(&mut *out, &d).map_err(|e| BackupError::Io(e.into()))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(n)
}

/// Restores an export into an empty store, rebuilding every index; returns the number of SRs.
pub fn import(store: &Store, input: impl BufRead, policy: &Policy) -> Result<usize, BackupError> {
    if !store.is_empty()? {
        return Err(BackupError::NotEmpty);
    }
    let mut n = 0;
    let mut version = 1;
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = read_line(&line).map_err(|e| BackupError::Line(i + 1, e))?;
        let parsed = match parsed {
            Read::Line(l) => l,
            Read::Store(d) => {
                store.restore(&d)?;
                continue;
            }
        };
        match parsed {
            Line::Header { format, version: v, instance, next_sr, rr } => {
                if format != FORMAT {
                    return Err(BackupError::Line(i + 1, format!("not an srgate export ({format})")));
                }
                if v > VERSION {
                    return Err(BackupError::Line(i + 1, format!("export version {v} is newer than this srgate ({VERSION})")));
                }
                version = v;
                store.restore_meta(&instance, next_sr, rr)?;
            }
            Line::Sr(sr) => {
                store.commit(&restore_sr(&sr, policy, version == 1))?;
                n += 1;
            }
            Line::Contact(c) => {
                store.commit(&Commit { contacts: vec![ContactChange::Add(c)], ..Commit::default() })?;
            }
            Line::Quarantine(q) => {
                store.commit(&Commit { quarantine: Some(q), ..Commit::default() })?;
            }
        }
    }
    store.make_durable()?;
    Ok(n)
}

/// What a copy between stores moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Copied {
    /// SRs, with their messages and events.
    pub srs: usize,
    /// Designated contacts.
    pub contacts: usize,
    /// Quarantine records.
    pub quarantine: usize,
    /// Mails waiting in the outbox.
    pub outbox: usize,
    /// Other bookkeeping records (positions, pending flags, the cap, suggestions, the dedupe set).
    pub bookkeeping: usize,
    /// Stored files (originals and attachments), with their bytes.
    pub files: usize,
}

/// Copies everything `from` holds into `to`, which must be empty: SRs with their
/// history and indexes, contacts, quarantine, the outbox, read positions, pending
/// flags, the dedupe set, the cap, suggestions, the instance tag and SR counter, and
/// every stored file with its bytes (checked against its hash on the way). Works
/// between any two engines (sled → postgres and back); nothing is lost.
pub fn copy(from: &Store, to: &Store, policy: &Policy) -> Result<Copied, BackupError> {
    if !to.is_empty()? {
        return Err(BackupError::NotEmpty);
    }
    let mut copied = Copied::default();
    // Files first: every record that names one finds it there.
    for names in from.file_names()?.chunks(32) {
        let mut batch = Vec::new();
        for name in names {
            if let Some(bytes) = from.file(name)? {
                batch.push((name.clone(), bytes));
            }
        }
        let refs: Vec<(String, &[u8])> = batch.iter().map(|(n, b)| (n.clone(), b.as_slice())).collect();
        let files = to.store_files(&refs)?;
        if !files.is_empty() {
            to.commit(&Commit { files, ..Commit::default() })?;
        }
        copied.files += batch.len();
    }
    to.restore_meta(&from.instance()?, from.next_sr_id()?, from.rr_turn()?)?;
    for sr in from.srs() {
        to.commit(&restore_sr(&sr?, policy, false))?;
        copied.srs += 1;
    }
    for c in from.contacts()? {
        to.commit(&Commit { contacts: vec![ContactChange::Add(c)], ..Commit::default() })?;
        copied.contacts += 1;
    }
    for q in from.quarantine()? {
        to.commit(&Commit { quarantine: Some(q), ..Commit::default() })?;
        copied.quarantine += 1;
    }
    for d in from.dump()? {
        match d {
            // The engines index their own files; the bytes were copied above.
            Dump::File { .. } => continue,
            Dump::Outbox { .. } => copied.outbox += 1,
            _ => copied.bookkeeping += 1,
        }
        to.restore(&d)?;
    }
    to.make_durable()?;
    Ok(copied)
}

/// The writes that put `sr` back with its indexes: Message-IDs, load, due time,
/// counts, and (for a version 1 export, which has no dedupe lines) its dedupe keys.
fn restore_sr(sr: &Sr, policy: &Policy, with_seen: bool) -> Commit {
    let mut c = Commit {
        srs: vec![SrWrite {
            sr: sr.clone(),
            created: true,
            stored: (0, 0),
            wake: lifecycle::next_wake(sr, policy),
            counted_before: None,
            before: None,
        }],
        ..Commit::default()
    };
    c.load_delta = sr::load_delta(None, sr);
    c.message_ids = sr.messages.iter().map(|m| (m.message_id.clone(), sr.id)).collect();
    if with_seen {
        c.seen = sr
            .messages
            .iter()
            .filter(|m| m.direction == Direction::In)
            .map(|m| {
                let key = match (m.message_id.ends_with("@no-message-id.invalid"), m.files.first()) {
                    (true, Some(original)) => format!("sha256:{}", original.sha256),
                    _ => format!("mid:{}", m.message_id),
                };
                Seen { key, sr: sr.id, fingerprint: None }
            })
            .collect();
    }
    c
}
