//! One mail's effect (or one scheduled pass on an SR) in one transaction: the same
//! records as sled's commit, plus the checks that let several gateways share the
//! database (the mailbox's fencing token, the SR as the decision read it).

use super::conn::{Batch, params};
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
    /// Writes the whole effect of one mail in one transaction, in one round trip: its
    /// statements go out with `BEGIN` and `COMMIT` (see [`super::conn`]). The checks
    /// that let several gateways share the database are statements of the transaction
    /// that raise when they fail (`srgate_require`, migration 3), which rolls it back.
    pub fn commit(&self, c: &Commit) -> Result<CommitStats, StoreError> {
        let fence_token = match c.source {
            Some(_) => Some(self.leases.fence_token(&c.mailbox)?),
            None => None,
        };
        let mut batch = Batch::default();
        let mut bytes = 0u64;
        if let Some(token) = fence_token {
            batch.execute(
                "SELECT srgate_require(count(*) = 1, 'SRGF1', '0')
                 FROM (SELECT 1 FROM mailbox_leases WHERE mailbox = $1 AND token = $2 FOR SHARE) AS lease",
                params![&c.mailbox, token],
            );
        }
        if let Some(day) = c.digest_day {
            // The digests of a day go out once, whichever gateway's pass queues them.
            batch.execute(
                "WITH moved AS (
                    INSERT INTO srgate_meta (key, value) VALUES ('digest_day', $1)
                    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value WHERE srgate_meta.value < EXCLUDED.value
                    RETURNING 1)
                 SELECT srgate_require(count(*) = 1, 'SRGC1', '0') FROM moved",
                params![day.to_string()],
            );
        }
        for s in &c.suggested {
            batch.execute(
                "INSERT INTO kb_suggested (customer, article, at) VALUES (lower($1), $2, $3)
                 ON CONFLICT (customer, article) DO UPDATE SET at = EXCLUDED.at",
                params![&s.customer, &s.article, at(s.at)],
            );
        }
        for a in &c.automated {
            batch.execute(
                "INSERT INTO automated (address, at, message_id) VALUES (lower($1), $2, $3) ON CONFLICT DO NOTHING",
                params![&a.address, at(a.at), &a.message_id],
            );
        }
        for change in &c.contacts {
            match change {
                ContactChange::Add(contact) => batch.execute(
                    "INSERT INTO contacts (address, record) VALUES ($1, $2) ON CONFLICT (address) DO UPDATE SET record = EXCLUDED.record",
                    params![&contact.address, json(contact)],
                ),
                ContactChange::Remove(address) => batch.execute("DELETE FROM contacts WHERE address = $1", params![address]),
            };
        }
        for (cse, delta) in &c.load_delta {
            batch.execute(
                "INSERT INTO loads (cse, open) VALUES ($1, greatest($2::bigint, 0))
                 ON CONFLICT (cse) DO UPDATE SET open = greatest(loads.open + $2::bigint, 0)",
                params![cse, *delta],
            );
        }
        for w in &c.srs {
            bytes += write_sr(&mut batch, w)?;
        }
        for (id, sr) in &c.message_ids {
            batch.execute("INSERT INTO message_ids (message_id, sr) VALUES ($1, $2) ON CONFLICT DO NOTHING", params![id, *sr as i64]);
        }
        if let Some(rr) = c.next_rr {
            batch.execute(
                "INSERT INTO srgate_meta (key, value) VALUES ('rr', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                params![rr.to_string()],
            );
        }
        for s in &c.seen {
            let values = params![&s.key, s.sr as i64, s.fingerprint.map(|f| f.to_vec())];
            if c.seen_first {
                batch.execute(
                    "WITH recorded AS (
                        INSERT INTO seen (key, sr, fingerprint) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING RETURNING 1)
                     SELECT srgate_require(count(*) = 1, 'SRGC1', $2::bigint::text) FROM recorded",
                    values,
                );
            } else {
                batch.execute(
                    "INSERT INTO seen (key, sr, fingerprint) VALUES ($1, $2, $3)
                     ON CONFLICT (key) DO UPDATE SET sr = EXCLUDED.sr, fingerprint = EXCLUDED.fingerprint",
                    values,
                );
            }
        }
        for item in &c.outbox {
            bytes += insert_outbox(&mut batch, item);
        }
        if let Some(q) = &c.quarantine {
            batch.execute(
                "INSERT INTO quarantine (mailbox, uid, reason, from_address, subject, at, content_hash, record)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                params![&q.mailbox, i64::from(q.uid), &q.reason, &q.from, &q.subject, at(q.at), &q.content_hash, json(q)],
            );
        }
        if let Some((validity, uid)) = c.source {
            advance_mailbox(&mut batch, &c.mailbox, validity, uid);
            if let Some(d) = c.disposition {
                batch.execute(
                    "INSERT INTO pending (mailbox, uid_validity, uid, disposition) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (mailbox, uid_validity, uid) DO UPDATE SET disposition = EXCLUDED.disposition",
                    params![&c.mailbox, i64::from(validity), i64::from(uid), name(&d)],
                );
            }
        }
        self.client()?.transact(&batch).map_err(|e| self.refused(e, &c.mailbox, fence_token))?;
        self.committed(c);
        Ok(CommitStats { bytes })
    }

    /// The store's error for a commit the server refused: a check's refusal
    /// (migration 3: its code, and the SR in its message) or the database's error.
    fn refused(&self, e: postgres::Error, mailbox: &str, token: Option<i64>) -> StoreError {
        let Some(refusal) = e.as_db_error() else { return db(e) };
        match refusal.code().code() {
            "SRGF1" => self.leases.fenced(mailbox, token.unwrap_or_default()),
            "SRGC1" => StoreError::Conflict(refusal.message().parse().unwrap_or(0)),
            _ => db(e),
        }
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

/// Adds an outbox item to the batch; returns the bytes it writes.
pub(super) fn insert_outbox<'a>(batch: &mut Batch<'a>, item: &'a OutboxItem) -> u64 {
    let recipients: Vec<String> = item.to.iter().map(|a| a.to_ascii_lowercase()).collect();
    batch.execute(
        "INSERT INTO outbox (sr, kind, recipients, message_id, queued_at, next_attempt_at, attempts, last_error, item, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![
            item.sr as i64,
            name(&item.kind),
            recipients,
            &item.message_id,
            at(item.queued_at),
            at(item.next_attempt_at),
            item.attempts as i32,
            &item.last_error,
            json(item),
            &item.bytes,
        ],
    );
    item.bytes.len() as u64 + 200
}

/// The SR's row, its new messages and events and its participants. The row of an
/// SR that exists is locked and compared with the SR the decision read: another
/// gateway's change in between refuses this one.
fn write_sr<'a>(batch: &mut Batch<'a>, w: &'a SrWrite) -> Result<u64, StoreError> {
    let sr = &w.sr;
    let id = sr.id as i64;
    let (messages_before, events_before) = w.stored;
    if sr.messages.len() < messages_before || sr.events.len() < events_before {
        return Err(StoreError::HistoryRewritten(sr.id));
    }
    let facts = json(&sr.facts());
    let mut bytes = facts.0.to_string().len() as u64;
    let participants_before: &[String] = if w.created {
        batch.execute(
            "WITH created AS (
                INSERT INTO srs (id, state, priority, assignee, customer, language, product, account, tier, subject,
                    created_at, updated_at, first_response_due, first_response_at, closed_at, close_reason,
                    contact_attempts, reopen_count, facts, message_count, event_count, wake_at)
                VALUES ($1, '', '', NULL, '', '', NULL, NULL, NULL, '', $2, $2, NULL, NULL, NULL, NULL, 0, 0, $3, 0, 0, NULL)
                ON CONFLICT (id) DO NOTHING
                RETURNING 1)
             SELECT srgate_require(count(*) = 1, 'SRGC1', $1::bigint::text) FROM created",
            params![id, at(sr.created_at), facts.clone()],
        );
        // The sequence moves past the number (an import's lower numbers leave it alone).
        batch.query(
            "SELECT setval('sr_number', $1, true) FROM sr_number WHERE $1 >= CASE WHEN is_called THEN last_value + 1 ELSE last_value END",
            params![id],
        );
        &[]
    } else {
        // Locked, and still as the decision read it (re-read after waiting for the lock).
        batch.execute(
            "SELECT srgate_require(count(*) = 1, 'SRGC1', $1::bigint::text)
             FROM (SELECT 1 FROM srs
                   WHERE id = $1 AND ($2::jsonb IS NULL OR facts = $2::jsonb) AND message_count = $3 AND event_count = $4
                   FOR UPDATE) AS unchanged",
            params![id, w.before.as_ref().map(|b| json(&b.facts())), messages_before as i32, events_before as i32],
        );
        w.before.as_ref().map(|b| b.participants.as_slice()).unwrap_or_default()
    };
    batch.execute(
        "UPDATE srs SET state = $2, priority = $3, assignee = $4, customer = $5, language = $6, product = $7, account = $8,
            tier = $9, subject = $10, created_at = $11, updated_at = $12, first_response_due = $13, first_response_at = $14,
            closed_at = $15, close_reason = $16, contact_attempts = $17, reopen_count = $18, facts = $19,
            message_count = $20, event_count = $21, wake_at = $22, wake_claimed_by = NULL, wake_claimed_until = NULL
         WHERE id = $1",
        params![
            id,
            name(&sr.state),
            name(&sr.priority),
            sr.assignee.as_ref().map(|a| a.to_ascii_lowercase()),
            &sr.customer,
            &sr.language,
            &sr.product,
            &sr.account,
            &sr.tier,
            &sr.subject,
            at(sr.created_at),
            at(sr.updated_at),
            sr.first_response_due.map(at),
            sr.first_response_at.map(at),
            sr.closed_at.map(at),
            &sr.close_reason,
            sr.contact_attempts as i32,
            sr.reopen_count as i32,
            facts,
            sr.messages.len() as i32,
            sr.events.len() as i32,
            w.wake.map(at),
        ],
    );
    for (n, m) in sr.messages.iter().enumerate().skip(messages_before) {
        bytes += insert_message(batch, id, n, m);
    }
    for (n, e) in sr.events.iter().enumerate().skip(events_before) {
        let record = json(e);
        bytes += record.0.to_string().len() as u64;
        batch.execute(
            "INSERT INTO events (sr, n, at, kind, by, record) VALUES ($1, $2, $3, $4, $5, $6)",
            params![id, n as i32, at(e.at), &e.kind, &e.by, record],
        );
    }
    write_participants(batch, sr, participants_before);
    Ok(bytes)
}

/// One message: its text in a column of its own, the rest as JSON.
fn insert_message<'a>(batch: &mut Batch<'a>, sr: i64, n: usize, m: &'a MessageRecord) -> u64 {
    let mut record = serde_json::to_value(m).unwrap_or_default();
    if let Some(object) = record.as_object_mut() {
        object.remove("text");
    }
    let bytes = (m.text.len() + record.to_string().len()) as u64;
    batch.execute(
        "INSERT INTO messages (sr, n, direction, kind, from_address, subject, message_id, at, text, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![sr, n as i32, name(&m.direction), name(&m.kind), &m.from, &m.subject, &m.message_id, at(m.at), &m.text, Json(record)],
    );
    bytes
}

/// The participants table follows the SR's list (only the changes are written).
fn write_participants<'a>(batch: &mut Batch<'a>, sr: &'a Sr, before: &'a [String]) {
    let id = sr.id as i64;
    for gone in before.iter().filter(|a| !sr.participants.contains(a)) {
        batch.execute("DELETE FROM participants WHERE sr = $1 AND address = $2", params![id, gone]);
    }
    for new in sr.participants.iter().filter(|a| !before.contains(a)) {
        batch.execute("INSERT INTO participants (sr, address) VALUES ($1, $2) ON CONFLICT DO NOTHING", params![id, new]);
    }
}

/// Moves the mailbox position to `uid` (under a new UIDVALIDITY, to `uid` itself).
fn advance_mailbox<'a>(batch: &mut Batch<'a>, mailbox: &'a str, validity: u32, uid: u32) {
    batch.execute(
        "INSERT INTO mailboxes (mailbox, uid_validity, last_uid) VALUES ($1, $2, $3)
         ON CONFLICT (mailbox) DO UPDATE SET
            last_uid = CASE WHEN mailboxes.uid_validity = EXCLUDED.uid_validity
                            THEN greatest(mailboxes.last_uid, EXCLUDED.last_uid) ELSE EXCLUDED.last_uid END,
            uid_validity = EXCLUDED.uid_validity",
        params![mailbox, i64::from(validity), i64::from(uid)],
    );
}
