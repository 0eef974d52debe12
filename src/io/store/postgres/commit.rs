//! One mail's effect (or one scheduled pass on an SR) in one transaction: the same
//! records as sled's commit, plus the checks that let several gateways share the
//! database (the mailbox's fencing token, the SR as the decision read it).

use super::conn::Tx;
use postgres::types::Json;

use super::super::{Commit, CommitStats, OutboxItem, SrWrite, StoreError};
use super::{PgStore, at, db, json};
use crate::contacts::ContactChange;
use crate::sr::{MessageRecord, Sr};

/// The serde name of a unit enum value (`"assigned"`, `"p2"`).
pub(super) fn name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

impl PgStore {
    /// Writes the whole effect of one mail in one transaction, durable when it returns.
    pub fn commit(&self, c: &Commit) -> Result<CommitStats, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(db)?;
        let mut bytes = 0u64;
        if c.source.is_some() {
            self.leases.check_fence(&mut tx, &c.mailbox)?;
        }
        if let Some(day) = c.digest_day {
            // The digests of a day go out once, whichever gateway's pass queues them.
            let n = tx
                .execute(
                    "INSERT INTO srgate_meta (key, value) VALUES ('digest_day', $1)
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value WHERE srgate_meta.value < EXCLUDED.value",
                    &[&day.to_string()],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Conflict(0));
            }
        }
        for s in &c.suggested {
            tx.execute(
                "INSERT INTO kb_suggested (customer, article, at) VALUES (lower($1), $2, $3)
                 ON CONFLICT (customer, article) DO UPDATE SET at = EXCLUDED.at",
                &[&s.customer, &s.article, &at(s.at)],
            )
            .map_err(db)?;
        }
        for a in &c.automated {
            tx.execute(
                "INSERT INTO automated (address, at, message_id) VALUES (lower($1), $2, $3) ON CONFLICT DO NOTHING",
                &[&a.address, &at(a.at), &a.message_id],
            )
            .map_err(db)?;
        }
        for change in &c.contacts {
            match change {
                ContactChange::Add(contact) => tx.execute(
                    "INSERT INTO contacts (address, record) VALUES ($1, $2) ON CONFLICT (address) DO UPDATE SET record = EXCLUDED.record",
                    &[&contact.address, &json(contact)],
                ),
                ContactChange::Remove(address) => tx.execute("DELETE FROM contacts WHERE address = $1", &[address]),
            }
            .map_err(db)?;
        }
        for (cse, delta) in &c.load_delta {
            tx.execute(
                "INSERT INTO loads (cse, open) VALUES ($1, greatest($2::bigint, 0))
                 ON CONFLICT (cse) DO UPDATE SET open = greatest(loads.open + $2::bigint, 0)",
                &[cse, delta],
            )
            .map_err(db)?;
        }
        for w in &c.srs {
            bytes += write_sr(&mut tx, w)?;
        }
        for (id, sr) in &c.message_ids {
            tx.execute("INSERT INTO message_ids (message_id, sr) VALUES ($1, $2) ON CONFLICT DO NOTHING", &[id, &(*sr as i64)])
                .map_err(db)?;
        }
        if let Some(rr) = c.next_rr {
            tx.execute(
                "INSERT INTO srgate_meta (key, value) VALUES ('rr', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&rr.to_string()],
            )
            .map_err(db)?;
        }
        for s in &c.seen {
            let fingerprint = s.fingerprint.map(|f| f.to_vec());
            tx.execute(
                "INSERT INTO seen (key, sr, fingerprint) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET sr = EXCLUDED.sr, fingerprint = EXCLUDED.fingerprint",
                &[&s.key, &(s.sr as i64), &fingerprint],
            )
            .map_err(db)?;
        }
        for item in &c.outbox {
            bytes += insert_outbox(&mut tx, item)?;
        }
        if let Some(q) = &c.quarantine {
            tx.execute(
                "INSERT INTO quarantine (mailbox, uid, reason, from_address, subject, at, content_hash, record)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&q.mailbox, &i64::from(q.uid), &q.reason, &q.from, &q.subject, &at(q.at), &q.content_hash, &json(q)],
            )
            .map_err(db)?;
        }
        if let Some((validity, uid)) = c.source {
            advance_mailbox(&mut tx, &c.mailbox, validity, uid)?;
            if let Some(d) = c.disposition {
                tx.execute(
                    "INSERT INTO pending (mailbox, uid_validity, uid, disposition) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (mailbox, uid_validity, uid) DO UPDATE SET disposition = EXCLUDED.disposition",
                    &[&c.mailbox, &i64::from(validity), &i64::from(uid), &name(&d)],
                )
                .map_err(db)?;
            }
        }
        tx.commit().map_err(db)?;
        self.committed(c);
        Ok(CommitStats { bytes })
    }

    /// Brings the in-memory figures up to date after a commit.
    fn committed(&self, c: &Commit) {
        use std::sync::atomic::Ordering::Relaxed;
        self.outbox_len.fetch_add(c.outbox.len() as u64, Relaxed);
        if c.quarantine.is_some() {
            self.quarantine_len.fetch_add(1, Relaxed);
        }
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        for w in &c.srs {
            if let Some((state, priority)) = w.counted_before {
                let n = counts.entry((name(&state), name(&priority))).or_default();
                *n = n.saturating_sub(1);
            }
            *counts.entry((name(&w.sr.state), name(&w.sr.priority))).or_default() += 1;
        }
    }
}

/// Inserts an outbox item; returns the bytes written.
pub(super) fn insert_outbox(tx: &mut Tx<'_>, item: &OutboxItem) -> Result<u64, StoreError> {
    let recipients: Vec<String> = item.to.iter().map(|a| a.to_ascii_lowercase()).collect();
    tx.execute(
        "INSERT INTO outbox (sr, kind, recipients, message_id, queued_at, next_attempt_at, attempts, last_error, item, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &(item.sr as i64),
            &name(&item.kind),
            &recipients,
            &item.message_id,
            &at(item.queued_at),
            &at(item.next_attempt_at),
            &(item.attempts as i32),
            &item.last_error,
            &json(item),
            &item.bytes,
        ],
    )
    .map_err(db)?;
    Ok(item.bytes.len() as u64 + 200)
}

/// The SR's row, its new messages and events and its participants. The row of an
/// SR that exists is locked and compared with the SR the decision read: another
/// gateway's change in between refuses this one.
fn write_sr(tx: &mut Tx<'_>, w: &SrWrite) -> Result<u64, StoreError> {
    let sr = &w.sr;
    let id = sr.id as i64;
    let (messages_before, events_before) = w.stored;
    if sr.messages.len() < messages_before || sr.events.len() < events_before {
        return Err(StoreError::HistoryRewritten(sr.id));
    }
    let facts = json(&sr.facts());
    let mut bytes = facts.0.to_string().len() as u64;
    let participants_before: Vec<String> = if w.created {
        let inserted = tx
            .execute(
                "INSERT INTO srs (id, state, priority, assignee, customer, language, product, account, tier, subject,
                    created_at, updated_at, first_response_due, first_response_at, closed_at, close_reason,
                    contact_attempts, reopen_count, facts, message_count, event_count, wake_at)
                 VALUES ($1, '', '', NULL, '', '', NULL, NULL, NULL, '', $2, $2, NULL, NULL, NULL, NULL, 0, 0, $3, 0, 0, NULL)
                 ON CONFLICT (id) DO NOTHING",
                &[&id, &at(sr.created_at), &facts],
            )
            .map_err(db)?;
        if inserted == 0 {
            return Err(StoreError::Conflict(sr.id));
        }
        // The sequence moves past the number (an import's lower numbers leave it alone).
        tx.execute(
            "SELECT setval('sr_number', $1, true) FROM sr_number WHERE $1 >= CASE WHEN is_called THEN last_value + 1 ELSE last_value END",
            &[&id],
        )
        .map_err(db)?;
        Vec::new()
    } else {
        let row = tx
            .query_opt("SELECT facts, message_count, event_count FROM srs WHERE id = $1 FOR UPDATE", &[&id])
            .map_err(db)?
            .ok_or(StoreError::Conflict(sr.id))?;
        let stored: Json<serde_json::Value> = row.get(0);
        let counts = (row.get::<_, i32>(1) as usize, row.get::<_, i32>(2) as usize);
        let unchanged = w.before.as_ref().is_none_or(|b| json(&b.facts()).0 == stored.0);
        if !unchanged || counts != w.stored {
            return Err(StoreError::Conflict(sr.id));
        }
        w.before.as_ref().map(|b| b.participants.clone()).unwrap_or_default()
    };
    tx.execute(
        "UPDATE srs SET state = $2, priority = $3, assignee = $4, customer = $5, language = $6, product = $7, account = $8,
            tier = $9, subject = $10, created_at = $11, updated_at = $12, first_response_due = $13, first_response_at = $14,
            closed_at = $15, close_reason = $16, contact_attempts = $17, reopen_count = $18, facts = $19,
            message_count = $20, event_count = $21, wake_at = $22, wake_claimed_by = NULL, wake_claimed_until = NULL
         WHERE id = $1",
        &[
            &id,
            &name(&sr.state),
            &name(&sr.priority),
            &sr.assignee.as_ref().map(|a| a.to_ascii_lowercase()),
            &sr.customer,
            &sr.language,
            &sr.product,
            &sr.account,
            &sr.tier,
            &sr.subject,
            &at(sr.created_at),
            &at(sr.updated_at),
            &sr.first_response_due.map(at),
            &sr.first_response_at.map(at),
            &sr.closed_at.map(at),
            &sr.close_reason,
            &(sr.contact_attempts as i32),
            &(sr.reopen_count as i32),
            &facts,
            &(sr.messages.len() as i32),
            &(sr.events.len() as i32),
            &w.wake.map(at),
        ],
    )
    .map_err(db)?;
    for (n, m) in sr.messages.iter().enumerate().skip(messages_before) {
        bytes += insert_message(tx, id, n, m)?;
    }
    for (n, e) in sr.events.iter().enumerate().skip(events_before) {
        let record = json(e);
        bytes += record.0.to_string().len() as u64;
        tx.execute(
            "INSERT INTO events (sr, n, at, kind, by, record) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&id, &(n as i32), &at(e.at), &e.kind, &e.by, &record],
        )
        .map_err(db)?;
    }
    write_participants(tx, sr, &participants_before)?;
    Ok(bytes)
}

/// One message: its text in a column of its own, the rest as JSON.
fn insert_message(tx: &mut Tx<'_>, sr: i64, n: usize, m: &MessageRecord) -> Result<u64, StoreError> {
    let mut record = serde_json::to_value(m).unwrap_or_default();
    if let Some(object) = record.as_object_mut() {
        object.remove("text");
    }
    let bytes = (m.text.len() + record.to_string().len()) as u64;
    tx.execute(
        "INSERT INTO messages (sr, n, direction, kind, from_address, subject, message_id, at, text, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[&sr, &(n as i32), &name(&m.direction), &name(&m.kind), &m.from, &m.subject, &m.message_id, &at(m.at), &m.text, &Json(record)],
    )
    .map_err(db)?;
    Ok(bytes)
}

/// The participants table follows the SR's list (only the changes are written).
fn write_participants(tx: &mut Tx<'_>, sr: &Sr, before: &[String]) -> Result<(), StoreError> {
    let id = sr.id as i64;
    for gone in before.iter().filter(|a| !sr.participants.contains(a)) {
        tx.execute("DELETE FROM participants WHERE sr = $1 AND address = $2", &[&id, gone]).map_err(db)?;
    }
    for new in sr.participants.iter().filter(|a| !before.contains(a)) {
        tx.execute("INSERT INTO participants (sr, address) VALUES ($1, $2) ON CONFLICT DO NOTHING", &[&id, new]).map_err(db)?;
    }
    Ok(())
}

/// Moves the mailbox position to `uid` (under a new UIDVALIDITY, to `uid` itself).
fn advance_mailbox(tx: &mut Tx<'_>, mailbox: &str, validity: u32, uid: u32) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO mailboxes (mailbox, uid_validity, last_uid) VALUES ($1, $2, $3)
         ON CONFLICT (mailbox) DO UPDATE SET
            last_uid = CASE WHEN mailboxes.uid_validity = EXCLUDED.uid_validity
                            THEN greatest(mailboxes.last_uid, EXCLUDED.last_uid) ELSE EXCLUDED.last_uid END,
            uid_validity = EXCLUDED.uid_validity",
        &[&mailbox, &i64::from(validity), &i64::from(uid)],
    )
    .map_err(db)?;
    Ok(())
}
