//! The store's bookkeeping as records a backup can carry and a restore can write:
//! queued mail, pending flags, mailbox positions, the automated-mail records,
//! the knowledge-base suggestions, the dedupe set and the file index. (SRs, contacts and quarantine records
//! have their own lines in [`crate::backup`].)

use base64::Engine as _;

use super::files::Location;
use super::outbox;
use super::{SledStore, StoreError, Tree, decode, json, keys};
use crate::io::store::{Dump, MailboxState, OutboxItem};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    (s.len() == 64).then_some(out)
}

impl SledStore {
    /// Every bookkeeping record, outbox first (oldest first).
    pub fn dump(&self) -> Result<Vec<Dump>, StoreError> {
        let mut out = Vec::new();
        for entry in self.tree(Tree::Outbox).iter() {
            let (k, v) = entry?;
            let item: OutboxItem = decode("outbox", &v)?;
            let bytes = self.tree(Tree::OutboxBodies).get(&k)?.map(|b| b.to_vec()).unwrap_or_default();
            out.push(Dump::Outbox { item, message: base64::engine::general_purpose::STANDARD.encode(bytes) });
        }
        for entry in self.tree(Tree::Mailboxes).iter() {
            let (k, v) = entry?;
            let name = String::from_utf8_lossy(&k).into_owned();
            let state: MailboxState = decode("mailboxes", &v)?;
            out.push(Dump::Mailbox { name, uid_validity: state.uid_validity, last_uid: state.last_uid });
        }
        for entry in self.tree(Tree::Pending).iter() {
            let (k, v) = entry?;
            let Some(nul) = k.iter().position(|b| *b == 0) else { continue };
            let mailbox = String::from_utf8_lossy(&k[..nul]).into_owned();
            let Some((uid_validity, uid)) = keys::read_pending(&mailbox, &k) else { continue };
            out.push(Dump::Pending { mailbox, uid_validity, uid, disposition: decode("pending", &v)? });
        }
        for k in self.tree(Tree::AutomatedAt).iter().keys() {
            let k = k?;
            let (Some(at), Some(rest)) = (keys::read_instant(&k), k.get(8..)) else { continue };
            let Some(nul) = rest.iter().position(|b| *b == 0) else { continue };
            let address = String::from_utf8_lossy(&rest[..nul]).into_owned();
            let message_id = String::from_utf8_lossy(&rest[nul + 1..]).into_owned();
            out.push(Dump::Automated { address, at, message_id });
        }
        for entry in self.tree(Tree::KbSuggested).iter() {
            let (k, v) = entry?;
            let (Some((customer, article)), Some(at)) = (keys::read_suggested(&k), keys::read_instant(&v)) else { continue };
            out.push(Dump::KbSuggested { customer, article, at });
        }
        for entry in self.tree(Tree::Seen).iter() {
            let (k, v) = entry?;
            let fingerprint = v.get(8..40).map(hex);
            out.push(Dump::Seen { key: String::from_utf8_lossy(&k).into_owned(), sr: keys::read_u64(&v).unwrap_or(0), fingerprint });
        }
        for entry in self.tree(Tree::Files).iter() {
            let (k, v) = entry?;
            let location = Location::decode(&v).ok_or_else(|| StoreError::Decode("files".into(), "bad location".into()))?;
            out.push(Dump::File { sha256: String::from_utf8_lossy(&k).into_owned(), location });
        }
        Ok(out)
    }

    /// Writes one bookkeeping record back (a restore into an empty store).
    pub fn restore(&self, record: &Dump) -> Result<(), StoreError> {
        match record {
            Dump::Outbox { item, message } => {
                let mut item = item.clone();
                item.bytes = base64::engine::general_purpose::STANDARD
                    .decode(message)
                    .map_err(|e| StoreError::Decode("outbox".into(), e.to_string()))?;
                let id = self.db.generate_id()?;
                self.transact(|tx| outbox::insert(tx, id, &item))?;
                self.outbox_len.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Dump::Pending { mailbox, uid_validity, uid, disposition } => {
                self.tree(Tree::Pending).insert(keys::pending(mailbox, *uid_validity, *uid), json(disposition))?;
            }
            Dump::Mailbox { name, uid_validity, last_uid } => {
                let state = MailboxState { uid_validity: *uid_validity, last_uid: *last_uid };
                self.tree(Tree::Mailboxes).insert(name.as_bytes(), json(&state))?;
            }
            Dump::Automated { address, at, message_id } => {
                self.tree(Tree::Automated).insert(keys::automated(address, *at, message_id), &[])?;
                self.tree(Tree::AutomatedAt).insert(keys::automated_by_time(address, *at, message_id), &[])?;
            }
            Dump::KbSuggested { customer, article, at } => {
                self.tree(Tree::KbSuggested).insert(keys::suggested(customer, article), keys::instant(*at).to_vec())?;
            }
            Dump::Seen { key, sr, fingerprint } => {
                let mut v = keys::be(*sr).to_vec();
                if let Some(f) = fingerprint.as_deref().and_then(unhex32) {
                    v.extend_from_slice(&f);
                }
                self.tree(Tree::Seen).insert(key.as_bytes(), v)?;
            }
            Dump::File { sha256, location } => {
                self.tree(Tree::Files).insert(sha256.as_bytes(), &location.encode())?;
            }
        }
        Ok(())
    }
}
