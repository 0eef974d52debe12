//! Work that any gateway may do, claimed so that one does it: outbox items (each
//! mail sent once, however many gateways deliver) and SRs' scheduled work.
//!
//! A claim is a row lock taken with `FOR UPDATE SKIP LOCKED` (two gateways
//! asking at once get different rows) that writes who claimed the row and until
//! when: `failover_after` from now, extended by the gateway's heartbeat while it
//! lives ([`super::lease::Leases::beat`]). A gateway that dies mid-way leaves
//! claims that run out within `failover_after`, and the work is then another's.
//! Only the mails in flight at a crash can go out twice.

use jiff::Timestamp;
use postgres::types::Json;

use super::super::{OutboxItem, StoreError};
use super::{PgStore, at, db, decode, instant};

impl PgStore {
    /// Claims up to `limit` items due at `now` that no older item of their SR to one
    /// of their recipients is waiting for (order per SR and recipient). Items this
    /// gateway claimed before and did not settle (a pass cut short) are its own again:
    /// one delivery pass runs at a time per gateway.
    pub fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<(u64, OutboxItem)>, StoreError> {
        let rows = self
            .client()?
            .query(
                "UPDATE outbox SET claimed_by = $3, claimed_until = now() + make_interval(secs => $4)
                 WHERE id IN (
                    SELECT o.id FROM outbox o
                    WHERE o.next_attempt_at <= $1
                      AND (o.claimed_until IS NULL OR o.claimed_until < now() OR o.claimed_by = $3)
                      AND NOT EXISTS (SELECT 1 FROM outbox older
                                      WHERE older.sr = o.sr AND older.id < o.id AND older.recipients && o.recipients)
                    ORDER BY o.next_attempt_at, o.id
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED)
                 RETURNING id, item, body, next_attempt_at",
                &[&at(now), &(limit as i64), &self.gateway, &self.claim_seconds],
            )
            .map_err(db)?;
        let mut out = rows
            .iter()
            .map(|r| {
                let mut item: OutboxItem = decode("outbox", r.get::<_, Json<serde_json::Value>>(1).0)?;
                item.bytes = r.get(2);
                Ok((r.get::<_, i64>(0) as u64, item, instant(r.get(3))))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by_key(|(id, _, next)| (*next, *id));
        Ok(out.into_iter().map(|(id, item, _)| (id, item)).collect())
    }

    /// The first instant after `now` at which an item is due.
    pub fn outbox_next_due_after(&self, now: Timestamp) -> Result<Option<Timestamp>, StoreError> {
        let row =
            self.client()?.query_one("SELECT min(next_attempt_at) FROM outbox WHERE next_attempt_at > $1", &[&at(now)]).map_err(db)?;
        Ok(row.get::<_, Option<std::time::SystemTime>>(0).map(instant))
    }

    /// Removes a delivered item.
    pub fn outbox_remove(&self, id: u64) -> Result<(), StoreError> {
        let n = self.client()?.execute("DELETE FROM outbox WHERE id = $1", &[&(id as i64)]).map_err(db)?;
        if n > 0 {
            let _ = self
                .outbox_len
                .fetch_update(std::sync::atomic::Ordering::Relaxed, std::sync::atomic::Ordering::Relaxed, |n| Some(n.saturating_sub(1)));
        }
        Ok(())
    }

    /// Rewrites items after an attempt and releases their claims, in one statement
    /// (a pass that found the mail server away defers all its items at once).
    pub fn outbox_update_all(&self, items: &[(u64, OutboxItem)]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = items.iter().map(|(id, _)| *id as i64).collect();
        // Recipients as a JSON array each: an array of arrays must be rectangular.
        let recipients: Vec<Json<Vec<String>>> =
            items.iter().map(|(_, item)| Json(item.to.iter().map(|a| a.to_ascii_lowercase()).collect())).collect();
        let next: Vec<std::time::SystemTime> = items.iter().map(|(_, item)| at(item.next_attempt_at)).collect();
        let attempts: Vec<i32> = items.iter().map(|(_, item)| item.attempts as i32).collect();
        let errors: Vec<Option<&str>> = items.iter().map(|(_, item)| item.last_error.as_deref()).collect();
        let records: Vec<Json<serde_json::Value>> = items.iter().map(|(_, item)| super::json(item)).collect();
        self.client()?
            .execute(
                "UPDATE outbox SET recipients = ARRAY(SELECT jsonb_array_elements_text(u.recipients)),
                    next_attempt_at = u.next_attempt_at, attempts = u.attempts, last_error = u.last_error,
                    item = u.item, claimed_by = NULL, claimed_until = NULL
                 FROM unnest($1::bigint[], $2::jsonb[], $3::timestamptz[], $4::integer[], $5::text[], $6::jsonb[])
                      AS u (id, recipients, next_attempt_at, attempts, last_error, item)
                 WHERE outbox.id = u.id",
                &[&ids, &recipients, &next, &attempts, &errors, &records],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Claims up to `limit` SRs whose scheduled work is due at `now`, earliest first
    /// (this gateway's own earlier claims included: one scheduler pass runs at a time).
    /// The claim ends when the SR's next commit writes its next wake-up, or runs out.
    pub fn due_until(&self, now: Timestamp, limit: usize) -> Result<Vec<u64>, StoreError> {
        let rows = self
            .client()?
            .query(
                "UPDATE srs SET wake_claimed_by = $4, wake_claimed_until = now() + make_interval(secs => $3)
                 WHERE id IN (
                    SELECT id FROM srs
                    WHERE wake_at <= $1 AND (wake_claimed_until IS NULL OR wake_claimed_until < now() OR wake_claimed_by = $4)
                    ORDER BY wake_at, id
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED)
                 RETURNING id, wake_at",
                &[&at(now), &(limit as i64), &self.claim_seconds, &self.gateway],
            )
            .map_err(db)?;
        let mut due: Vec<(std::time::SystemTime, i64)> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
        due.sort();
        Ok(due.into_iter().map(|(_, id)| id as u64).collect())
    }
}
