//! Reads, the small bookkeeping writes (positions, pending flags, the cap's
//! pruning), files, and the records of a backup.

use base64::Engine as _;
use jiff::Timestamp;
use postgres::types::Json;
use sha2::{Digest, Sha256};

use super::super::{Disposition, Dump, Location, MailboxState, Pending, QuarantineRecord, SeenEntry, StoreError};
use super::commit::{insert_outbox, name};
use super::conn::{Answer, Batch, params};
use super::{PgStore, at, db, decode, instant};
use crate::contacts::Contact;
use crate::gateway::Lookup;
use crate::sr::{Event, MessageRecord, Sr};

/// SRs read per round trip when every SR is listed.
const PAGE: i64 = 200;

impl PgStore {
    /// The SR with number `id`, with its messages and events.
    pub fn get_sr(&self, id: u64) -> Result<Option<Sr>, StoreError> {
        // The three reads go out together (one round trip). They are not one snapshot:
        // a commit between them makes the SR look changed to the commit that follows a
        // decision on it, which is then decided again.
        let mut batch = Batch::default();
        batch.query("SELECT facts FROM srs WHERE id = $1", params![id as i64]);
        batch.query("SELECT text, record FROM messages WHERE sr = $1 ORDER BY n", params![id as i64]);
        batch.query("SELECT record FROM events WHERE sr = $1 ORDER BY n", params![id as i64]);
        let mut answers = self.client()?.pipeline(&batch).map_err(db)?.into_iter();
        let mut next = || answers.next().unwrap_or(Ok(Answer::Changed(0))).map_err(db);
        let (facts, messages, events) = (next()?, next()?, next()?);
        let Some(row) = facts.rows().first() else { return Ok(None) };
        let mut sr: Sr = decode("srs", row.get::<_, Json<serde_json::Value>>(0).0)?;
        sr.messages = messages.rows().iter().map(|r| message(r.get(0), r.get(1))).collect::<Result<_, _>>()?;
        sr.events =
            events.rows().iter().map(|r| decode::<Event>("events", r.get::<_, Json<serde_json::Value>>(0).0)).collect::<Result<_, _>>()?;
        Ok(Some(sr))
    }

    /// True when SR `id` exists.
    pub fn sr_exists(&self, id: u64) -> Result<bool, StoreError> {
        let row = self.client()?.query_one("SELECT EXISTS (SELECT 1 FROM srs WHERE id = $1)", &[&(id as i64)]).map_err(db)?;
        Ok(row.get(0))
    }

    /// Every SR, oldest first, each with its messages and events (read a page at a time).
    pub fn srs(&self) -> impl Iterator<Item = Result<Sr, StoreError>> + '_ {
        let mut after = 0i64;
        let mut page: std::vec::IntoIter<i64> = Vec::new().into_iter();
        let mut done = false;
        std::iter::from_fn(move || {
            loop {
                if let Some(id) = page.next() {
                    after = id;
                    return Some(
                        self.get_sr(id as u64)
                            .and_then(|sr| sr.ok_or_else(|| StoreError::Decode("srs".into(), format!("SR {id} vanished")))),
                    );
                }
                if done {
                    return None;
                }
                let ids = self
                    .client()
                    .and_then(|mut c| c.query("SELECT id FROM srs WHERE id > $1 ORDER BY id LIMIT $2", &[&after, &PAGE]).map_err(db));
                match ids {
                    Ok(rows) => {
                        done = (rows.len() as i64) < PAGE;
                        page = rows.iter().map(|r| r.get::<_, i64>(0)).collect::<Vec<_>>().into_iter();
                    }
                    Err(e) => {
                        done = true;
                        return Some(Err(e));
                    }
                }
            }
        })
    }

    /// Hands `each` the SRs not closed that are assigned to `cse`, as facts, as the rows
    /// arrive (the condition is the index `srs_open_by_assignee`'s, so that it is used).
    fn each_open_sr_of(&self, cse: &str, each: &mut dyn FnMut(&Sr)) -> Result<(), StoreError> {
        self.each_facts_where("state <> 'closed' AND coalesce(assignee, '') = $1", &[&cse.to_ascii_lowercase()], each)
    }

    /// Hands `each` every SR not closed, as facts, as the rows arrive.
    pub fn each_open_sr(&self, each: &mut dyn FnMut(&Sr)) -> Result<(), StoreError> {
        self.each_facts_where("state <> 'closed'", &[], each)
    }

    /// Streams the facts of the SRs that meet `condition` (never all held at once).
    fn each_facts_where(
        &self,
        condition: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
        each: &mut dyn FnMut(&Sr),
    ) -> Result<(), StoreError> {
        let sql = format!("SELECT facts FROM srs WHERE {condition}");
        let mut failed = None;
        self.client()?
            .for_each_row(&sql, params, &mut |row| match decode("srs", row.get::<_, Json<serde_json::Value>>(0).0) {
                Ok(sr) => {
                    each(&sr);
                    true
                }
                Err(e) => {
                    failed = Some(e);
                    false
                }
            })
            .map_err(db)?;
        failed.map_or(Ok(()), Err)
    }

    /// True when the store holds no SR.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        let row = self.client()?.query_one("SELECT NOT EXISTS (SELECT 1 FROM srs)", &[]).map_err(db)?;
        Ok(row.get(0))
    }

    /// What the dedupe set knows of `key`.
    pub fn seen(&self, key: &str) -> Result<Option<SeenEntry>, StoreError> {
        let row = self.client()?.query_opt("SELECT sr, fingerprint FROM seen WHERE key = $1", &[&key]).map_err(db)?;
        Ok(row.as_ref().map(|r| seen_entry(r, 0)))
    }

    /// Where reading of `mailbox` stands.
    pub fn mailbox_state(&self, mailbox: &str) -> Result<Option<MailboxState>, StoreError> {
        let row = self.client()?.query_opt("SELECT uid_validity, last_uid FROM mailboxes WHERE mailbox = $1", &[&mailbox]).map_err(db)?;
        Ok(row.map(|r| MailboxState { uid_validity: r.get::<_, i64>(0) as u32, last_uid: r.get::<_, i64>(1) as u32 }))
    }

    /// Starts reading `mailbox` afresh under a new UIDVALIDITY (old pending flags go).
    pub fn reset_mailbox(&self, mailbox: &str, uid_validity: u32) -> Result<(), StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(db)?;
        self.leases.check_fence(&mut tx, mailbox)?;
        tx.execute("DELETE FROM pending WHERE mailbox = $1", &[&mailbox]).map_err(db)?;
        tx.execute(
            "INSERT INTO mailboxes (mailbox, uid_validity, last_uid) VALUES ($1, $2, 0)
             ON CONFLICT (mailbox) DO UPDATE SET uid_validity = EXCLUDED.uid_validity, last_uid = 0",
            &[&mailbox, &i64::from(uid_validity)],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Mails of `mailbox` committed but not yet flagged or moved.
    pub fn pending(&self, mailbox: &str) -> Result<Vec<Pending>, StoreError> {
        let rows = self
            .client()?
            .query("SELECT uid_validity, uid, disposition FROM pending WHERE mailbox = $1 ORDER BY uid_validity, uid", &[&mailbox])
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                let disposition: Disposition = decode("pending", serde_json::Value::String(r.get(2)))?;
                Ok(Pending { uid_validity: r.get::<_, i64>(0) as u32, uid: r.get::<_, i64>(1) as u32, disposition })
            })
            .collect()
    }

    /// Forgets pending flags once the server has them.
    pub fn clear_pending(&self, mailbox: &str, done: &[Pending]) -> Result<(), StoreError> {
        if done.is_empty() {
            return Ok(());
        }
        let validities: Vec<i64> = done.iter().map(|p| i64::from(p.uid_validity)).collect();
        let uids: Vec<i64> = done.iter().map(|p| i64::from(p.uid)).collect();
        self.client()?
            .execute(
                "DELETE FROM pending WHERE mailbox = $1
                 AND (uid_validity, uid) IN (SELECT * FROM unnest($2::bigint[], $3::bigint[]))",
                &[&mailbox, &validities, &uids],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Every designated contact.
    pub fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        let rows = self.client()?.query("SELECT record FROM contacts ORDER BY address", &[]).map_err(db)?;
        rows.iter().map(|r| decode("contacts", r.get::<_, Json<serde_json::Value>>(0).0)).collect()
    }

    /// Open SRs per CSE address.
    pub fn loads(&self) -> Result<std::collections::HashMap<String, usize>, StoreError> {
        let rows = self.client()?.query("SELECT cse, open FROM loads", &[]).map_err(db)?;
        Ok(rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as usize)).collect())
    }

    /// The earliest scheduled wake-up of any SR.
    pub fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let row = self.client()?.query_one("SELECT min(wake_at) FROM srs WHERE wake_at IS NOT NULL", &[]).map_err(db)?;
        Ok(row.get::<_, Option<std::time::SystemTime>>(0).map(instant))
    }

    /// Every quarantine record, oldest first.
    pub fn quarantine(&self) -> Result<Vec<QuarantineRecord>, StoreError> {
        let rows = self.client()?.query("SELECT record FROM quarantine ORDER BY id", &[]).map_err(db)?;
        rows.iter().map(|r| decode("quarantine", r.get::<_, Json<serde_json::Value>>(0).0)).collect()
    }

    /// Removes records of automated mail sent before `before`; at most `limit`.
    pub fn prune_automated(&self, before: Timestamp, limit: usize) -> Result<usize, StoreError> {
        let n = self
            .client()?
            .execute(
                "DELETE FROM automated WHERE ctid IN (SELECT ctid FROM automated WHERE at < $1 LIMIT $2)",
                &[&at(before), &(limit as i64)],
            )
            .map_err(db)?;
        Ok(n as usize)
    }

    /// Stores the files not stored yet, each once, committed before this returns
    /// (files before the records that name them); no index entries to carry.
    pub fn store_files(&self, files: &[(String, &[u8])]) -> Result<Vec<(String, Location)>, StoreError> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let mut seen = std::collections::HashSet::new();
        let (hashes, contents): (Vec<&str>, Vec<&[u8]>) =
            files.iter().filter(|(sha, _)| seen.insert(sha.as_str())).map(|(sha, bytes)| (sha.as_str(), *bytes)).unzip();
        self.client()?
            .execute(
                "INSERT INTO files (sha256, size, bytes) SELECT sha256, octet_length(bytes), bytes
                 FROM unnest($1::text[], $2::bytea[]) AS stored (sha256, bytes) ON CONFLICT (sha256) DO NOTHING",
                &[&hashes, &contents],
            )
            .map_err(db)?;
        Ok(Vec::new())
    }

    /// The content of a stored file, checked against its hash.
    pub fn file(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self.client()?.query_opt("SELECT bytes FROM files WHERE sha256 = $1", &[&sha256]).map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let bytes: Vec<u8> = row.get(0);
        let actual: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        if actual != sha256 {
            return Err(StoreError::Damaged(sha256.into()));
        }
        Ok(Some(bytes))
    }

    /// The names of every stored file.
    pub fn file_names(&self) -> Result<Vec<String>, StoreError> {
        let rows = self.client()?.query("SELECT sha256 FROM files ORDER BY sha256", &[]).map_err(db)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// The bookkeeping records for a backup (files travel by [`PgStore::file_names`]).
    pub fn dump(&self) -> Result<Vec<Dump>, StoreError> {
        let mut client = self.client()?;
        let mut out = Vec::new();
        for r in client.query("SELECT item, body FROM outbox ORDER BY id", &[]).map_err(db)? {
            let item = decode("outbox", r.get::<_, Json<serde_json::Value>>(0).0)?;
            let body: Vec<u8> = r.get(1);
            out.push(Dump::Outbox { item, message: base64::engine::general_purpose::STANDARD.encode(body) });
        }
        for r in client.query("SELECT mailbox, uid_validity, last_uid FROM mailboxes ORDER BY mailbox", &[]).map_err(db)? {
            out.push(Dump::Mailbox { name: r.get(0), uid_validity: r.get::<_, i64>(1) as u32, last_uid: r.get::<_, i64>(2) as u32 });
        }
        for r in client.query("SELECT mailbox, uid_validity, uid, disposition FROM pending ORDER BY 1, 2, 3", &[]).map_err(db)? {
            let disposition = decode("pending", serde_json::Value::String(r.get(3)))?;
            out.push(Dump::Pending {
                mailbox: r.get(0),
                uid_validity: r.get::<_, i64>(1) as u32,
                uid: r.get::<_, i64>(2) as u32,
                disposition,
            });
        }
        for r in client.query("SELECT address, at, message_id FROM automated ORDER BY at, address", &[]).map_err(db)? {
            out.push(Dump::Automated { address: r.get(0), at: instant(r.get(1)), message_id: r.get(2) });
        }
        for r in client.query("SELECT customer, article, at FROM kb_suggested ORDER BY 1, 2", &[]).map_err(db)? {
            out.push(Dump::KbSuggested { customer: r.get(0), article: r.get(1), at: instant(r.get(2)) });
        }
        for r in client.query("SELECT key, sr, fingerprint FROM seen ORDER BY key", &[]).map_err(db)? {
            let fingerprint = r.get::<_, Option<Vec<u8>>>(2).map(|f| f.iter().map(|b| format!("{b:02x}")).collect());
            out.push(Dump::Seen { key: r.get(0), sr: r.get::<_, i64>(1) as u64, fingerprint });
        }
        Ok(out)
    }

    /// Writes one bookkeeping record back (a restore). A sled file-index entry has no
    /// meaning here: files are copied with their bytes (`srgate store copy`).
    pub fn restore(&self, record: &Dump) -> Result<(), StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(db)?;
        match record {
            Dump::Outbox { item, message } => {
                let mut item = item.clone();
                item.bytes = base64::engine::general_purpose::STANDARD
                    .decode(message)
                    .map_err(|e| StoreError::Decode("outbox".into(), e.to_string()))?;
                let mut batch = Batch::default();
                insert_outbox(&mut batch, std::slice::from_ref(&item));
                tx.run(&batch).map_err(db)?;
                self.outbox_len.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Dump::Pending { mailbox, uid_validity, uid, disposition } => {
                tx.execute(
                    "INSERT INTO pending (mailbox, uid_validity, uid, disposition) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[mailbox, &i64::from(*uid_validity), &i64::from(*uid), &name(disposition)],
                )
                .map_err(db)?;
            }
            Dump::Mailbox { name: mailbox, uid_validity, last_uid } => {
                tx.execute(
                    "INSERT INTO mailboxes (mailbox, uid_validity, last_uid) VALUES ($1, $2, $3)
                     ON CONFLICT (mailbox) DO UPDATE SET uid_validity = EXCLUDED.uid_validity, last_uid = EXCLUDED.last_uid",
                    &[mailbox, &i64::from(*uid_validity), &i64::from(*last_uid)],
                )
                .map_err(db)?;
            }
            Dump::Automated { address, at: when, message_id } => {
                tx.execute(
                    "INSERT INTO automated (address, at, message_id) VALUES (lower($1), $2, $3) ON CONFLICT DO NOTHING",
                    &[address, &at(*when), message_id],
                )
                .map_err(db)?;
            }
            Dump::KbSuggested { customer, article, at: when } => {
                tx.execute(
                    "INSERT INTO kb_suggested (customer, article, at) VALUES (lower($1), $2, $3)
                     ON CONFLICT (customer, article) DO UPDATE SET at = EXCLUDED.at",
                    &[customer, article, &at(*when)],
                )
                .map_err(db)?;
            }
            Dump::Seen { key, sr, fingerprint } => {
                let fingerprint: Option<Vec<u8>> = fingerprint.as_deref().and_then(unhex);
                tx.execute(
                    "INSERT INTO seen (key, sr, fingerprint) VALUES ($1, $2, $3)
                     ON CONFLICT (key) DO UPDATE SET sr = EXCLUDED.sr, fingerprint = EXCLUDED.fingerprint",
                    &[key, &(*sr as i64), &fingerprint],
                )
                .map_err(db)?;
            }
            Dump::File { .. } => {}
        }
        tx.commit().map_err(db)
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// A message row back as the record: its JSON with the text put back.
fn message(text: String, record: Json<serde_json::Value>) -> Result<MessageRecord, StoreError> {
    let mut value = record.0;
    if let Some(object) = value.as_object_mut() {
        object.insert("text".into(), serde_json::Value::String(text));
    }
    decode("messages", value)
}

/// A dedupe entry from the columns (sr, fingerprint) of a row starting at `first`.
pub(super) fn seen_entry(r: &postgres::Row, first: usize) -> SeenEntry {
    let fingerprint = r.get::<_, Option<Vec<u8>>>(first + 1).and_then(|f| f.as_slice().try_into().ok());
    SeenEntry { sr: r.get::<_, i64>(first) as u64, fingerprint }
}

impl Lookup for PgStore {
    fn sr_exists(&self, id: u64) -> bool {
        PgStore::sr_exists(self, id).unwrap_or(false)
    }

    fn sr_of_message(&self, message_id: &str) -> Option<u64> {
        let row = self.client().ok()?.query_opt("SELECT sr FROM message_ids WHERE message_id = $1", &[&message_id]).ok()??;
        Some(row.get::<_, i64>(0) as u64)
    }

    fn automated_since(&self, address: &str, since: Timestamp) -> u32 {
        let Ok(mut client) = self.client() else { return 0 };
        client
            .query_one("SELECT count(*) FROM automated WHERE address = lower($1) AND at >= $2", &[&address, &at(since)])
            .map(|r| r.get::<_, i64>(0) as u32)
            .unwrap_or(0)
    }

    fn contact(&self, address: &str) -> Option<Contact> {
        let row = self.client().ok()?.query_opt("SELECT record FROM contacts WHERE address = lower($1)", &[&address]).ok()??;
        decode("contacts", row.get::<_, Json<serde_json::Value>>(0).0).ok()
    }

    fn open_srs_of(&self, cse: &str, each: &mut dyn FnMut(&Sr)) {
        if let Err(e) = self.each_open_sr_of(cse, each) {
            tracing::error!(error = %e, "cannot read the open SRs of {cse}");
        }
    }

    fn suggested_at(&self, customer: &str, article: &str) -> Option<Timestamp> {
        let row = self
            .client()
            .ok()?
            .query_opt("SELECT at FROM kb_suggested WHERE customer = lower($1) AND article = $2", &[&customer, &article])
            .ok()??;
        Some(instant(row.get(0)))
    }
}
