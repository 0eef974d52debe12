//! Backup and restore: every SR with its history and files' metadata, the
//! designated contacts and the quarantine, as JSON lines.
//!
//! The first line names the format and the store's instance tag (kept on
//! import, so our Message-IDs stay ours); then one object per line, each with
//! a `type`: `sr`, `contact` or `quarantine`. A round trip is lossless: export,
//! import into an empty data directory, export again gives the same lines.
//! Attachments and originals are files under `data_dir/files/` (content-
//! addressed, append-only): copy that folder beside the export.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::contacts::{Contact, ContactChange};
use crate::io::store::{Commit, QuarantineRecord, SrWrite, Store, StoreError};
use crate::policy::Policy;
use crate::sr::{self, Direction, Sr, lifecycle};

/// The format tag of the first line.
pub const FORMAT: &str = "srgate-export";

/// One line of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    /// The header line.
    Header {
        /// Always [`FORMAT`].
        format: String,
        /// Format version (1).
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
    #[error("the data directory already holds SRs: import only into an empty one")]
    NotEmpty,
}

/// Writes the whole store to `out`; returns the number of SRs.
pub fn export(store: &Store, out: &mut impl Write) -> Result<usize, BackupError> {
    let header =
        Line::Header { format: FORMAT.into(), version: 1, instance: store.instance()?, next_sr: store.next_sr_id()?, rr: store.rr_turn()? };
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
    out.flush()?;
    Ok(n)
}

/// Restores an export into an empty store, rebuilding every index; returns the number of SRs.
pub fn import(store: &Store, input: impl BufRead, policy: &Policy) -> Result<usize, BackupError> {
    if store.srs().next().is_some() {
        return Err(BackupError::NotEmpty);
    }
    let mut n = 0;
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(&line).map_err(|e| BackupError::Line(i + 1, e.to_string()))?;
        match parsed {
            Line::Header { format, instance, next_sr, rr, .. } => {
                if format != FORMAT {
                    return Err(BackupError::Line(i + 1, format!("not an srgate export ({format})")));
                }
                store.restore_meta(&instance, next_sr, rr)?;
            }
            Line::Sr(sr) => {
                store.commit(&restore_sr(&sr, policy))?;
                n += 1;
            }
            Line::Contact(c) => store.commit(&Commit { contacts: vec![ContactChange::Add(c)], ..Commit::default() })?,
            Line::Quarantine(q) => store.commit(&Commit { quarantine: Some(q), ..Commit::default() })?,
        }
    }
    store.flush_blocking()?;
    Ok(n)
}

/// The writes that put `sr` back with its indexes: Message-IDs, dedupe keys, load, due time, counts.
fn restore_sr(sr: &Sr, policy: &Policy) -> Commit {
    let mut c = Commit {
        srs: vec![SrWrite {
            sr: sr.clone(),
            created: true,
            wake_before: None,
            wake_after: lifecycle::next_wake(sr, policy),
            counted_before: None,
        }],
        ..Commit::default()
    };
    c.load_delta = sr::load_delta(None, sr);
    c.message_ids = sr.messages.iter().map(|m| (m.message_id.clone(), sr.id)).collect();
    c.seen_keys = sr
        .messages
        .iter()
        .filter(|m| m.direction == Direction::In)
        .map(|m| match (m.message_id.ends_with("@no-message-id.invalid"), m.files.first()) {
            (true, Some(original)) => (format!("sha256:{}", original.sha256), sr.id),
            _ => (format!("mid:{}", m.message_id), sr.id),
        })
        .collect();
    c
}
