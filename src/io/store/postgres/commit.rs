//! One mail's effect (or one scheduled pass on an SR) in one transaction: the same
//! records as sled's commit, plus the checks that let several gateways share the
//! database (the mailbox's fencing token, the SR as the decision read it).
//!
//! Each statement costs the server an answer to send and srgate a wake-up, so a
//! commit is as few statements as it can be. A statement is made of [`Part`]s: each
//! part's writes are common table expressions of one `WITH` (rows from arrays,
//! `unnest`), its checks the select list (`srgate_require`, which raises). The usual
//! commit of a mail (its bookkeeping, one SR, the next mail's reads) is one statement,
//! a transaction of its own; the rare parts (quarantine, contacts, suggestions, the
//! digest day) and further SRs are statements of their own in one transaction.

use super::conn::{Batch, Param, params};
use postgres::types::Json;
use std::collections::HashMap;
use std::sync::LazyLock;

use super::super::{Commit, CommitStats, DecisionReads, OutboxItem, ReadsRequest, SeenEntry, SrWrite, StoreError};
use super::{PgStore, at, db, json};
use crate::contacts::ContactChange;
use crate::sr::MessageRecord;

/// The serde name of a unit enum value (`"assigned"`, `"p2"`).
pub(super) fn name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

impl PgStore {
    /// Writes the whole effect of one mail in one transaction, in one round trip: one
    /// statement, or a few sent with `BEGIN` and `COMMIT` in one write (see
    /// [`super::conn`]). The checks that let several gateways share the database raise
    /// when they fail (`srgate_require`, migration 3), which rolls it all back.
    pub fn commit(&self, c: &Commit) -> Result<CommitStats, StoreError> {
        Ok(self.commit_then_read(c, None)?.0)
    }

    /// [`PgStore::commit`], and the next mail's first reads ([`PgStore::decision_reads`]):
    /// returned by the commit's statement when it is one (with what it writes added,
    /// [`with_own_writes`]), otherwise sent in the same write to run once the
    /// transaction has ended. Either way they cost no round trip of their own and are
    /// what a read made after the commit returns. The reads are `None` when they failed
    /// (or were not asked for); their error is not the commit's.
    pub fn commit_then_read(&self, c: &Commit, next: Option<&ReadsRequest>) -> Result<(CommitStats, Option<DecisionReads>), StoreError> {
        let fence_token = match c.source {
            Some(_) => Some(self.leases.fence_token(&c.mailbox)?),
            None => None,
        };
        // The next mail's reads go in the commit's statement when it is one statement.
        let rare = c.digest_day.is_some() || !c.suggested.is_empty() || !c.contacts.is_empty() || c.quarantine.is_some();
        let lower = next.map(super::lower_case).unwrap_or_default();
        let reads = next.filter(|_| !rare).map(|request| super::reads_params(request, &lower));
        let mut batch = Batch::default();
        let (bytes, folded) = write_srs_and_bookkeeping(&mut batch, c, fence_token, reads)?;
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
        for change in &c.contacts {
            match change {
                ContactChange::Add(contact) => batch.execute(
                    "INSERT INTO contacts (address, record) VALUES ($1, $2) ON CONFLICT (address) DO UPDATE SET record = EXCLUDED.record",
                    params![&contact.address, json(contact)],
                ),
                ContactChange::Remove(address) => batch.execute("DELETE FROM contacts WHERE address = $1", params![address]),
            };
        }
        if let Some(q) = &c.quarantine {
            batch.execute(
                "INSERT INTO quarantine (mailbox, uid, reason, from_address, subject, at, content_hash, record)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                params![&q.mailbox, i64::from(q.uid), &q.reason, &q.from, &q.subject, at(q.at), &q.content_hash, json(q)],
            );
        }
        let refused = |e| self.refused(e, &c.mailbox, fence_token);
        let request = match next {
            Some(request) if !folded => request,
            _ => {
                let answers = self.client()?.transact(&batch).map_err(refused)?;
                self.committed(c);
                let row = answers.first().and_then(|a| a.rows().first());
                let reads = next.zip(row).map(|(request, row)| with_own_writes(c, request, super::reads_of_row(request, &lower, row)));
                return Ok((CommitStats { bytes }, reads.filter(|_| folded)));
            }
        };
        let (committed, answers) = self.client()?.transact_then(&batch, &super::reads_batch(request, &lower)).map_err(db)?;
        committed.map_err(refused)?;
        self.committed(c);
        let reads = super::reads_answered(request, &lower, answers)
            .inspect_err(|e| tracing::debug!(error = %e, "the next mail's reads failed; it reads again"))
            .ok();
        Ok((CommitStats { bytes }, reads))
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

/// The statement that queues outbox items, `$1` to `$10` (one array per column, in
/// order): spliced into [`BOOKKEEPING`] and [`insert_outbox`]. Each item's recipients,
/// lower case, go as a JSON array (an array of arrays must be rectangular).
macro_rules! queue_outbox {
    () => {
        "INSERT INTO outbox (sr, kind, recipients, message_id, queued_at, next_attempt_at, attempts, last_error, item, body)
         SELECT sr, kind, ARRAY(SELECT jsonb_array_elements_text(recipients)), message_id, queued_at, next_attempt_at,
                attempts, last_error, item, body
         FROM unnest($1::bigint[], $2::text[], $3::jsonb[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::integer[],
                     $8::text[], $9::jsonb[], $10::bytea[]) WITH ORDINALITY
              AS queued (sr, kind, recipients, message_id, queued_at, next_attempt_at, attempts, last_error, item, body, place)
         ORDER BY place"
    };
}

/// A statement as its common table expressions (the writes) and its checks (the
/// select list that raises when a write must not stand): two such parts make one
/// statement, so that a mail's commit is one statement, a transaction of its own.
struct Part {
    writes: &'static str,
    checks: &'static str,
    /// Its parameters, `$1` to `$params`.
    params: usize,
}

/// Everything of a commit but its SRs and its rare parts (see [`bookkeeping`]),
/// `$1` to `$27`.
const BOOKKEEPING: Part = Part {
    writes: concat!(
        "queued AS (",
        queue_outbox!(),
        "),
         fence AS (SELECT 1 FROM mailbox_leases WHERE mailbox = $11::text AND token = $12::bigint FOR SHARE),
         sent AS (
            INSERT INTO automated (address, at, message_id)
            SELECT * FROM unnest($13::text[], $14::timestamptz[], $15::text[]) ON CONFLICT DO NOTHING),
         delta AS (SELECT * FROM unnest($16::text[], $17::bigint[]) AS delta (cse, delta)),
         loaded AS (
            INSERT INTO loads (cse, open) SELECT cse, greatest(delta, 0) FROM delta
            ON CONFLICT (cse) DO UPDATE
            SET open = greatest(loads.open + (SELECT d.delta FROM delta AS d WHERE d.cse = EXCLUDED.cse), 0)),
         threaded AS (
            INSERT INTO message_ids (message_id, sr) SELECT * FROM unnest($18::text[], $19::bigint[]) ON CONFLICT DO NOTHING),
         turned AS (
            INSERT INTO srgate_meta (key, value) SELECT 'rr', $20::text WHERE $20::text IS NOT NULL
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value),
         moved AS (
            INSERT INTO mailboxes (mailbox, uid_validity, last_uid)
            SELECT $11::text, $21::bigint, $22::bigint WHERE $22::bigint IS NOT NULL
            ON CONFLICT (mailbox) DO UPDATE SET
               last_uid = CASE WHEN mailboxes.uid_validity = EXCLUDED.uid_validity
                               THEN greatest(mailboxes.last_uid, EXCLUDED.last_uid) ELSE EXCLUDED.last_uid END,
               uid_validity = EXCLUDED.uid_validity),
         flagged AS (
            INSERT INTO pending (mailbox, uid_validity, uid, disposition)
            SELECT $11::text, $21::bigint, $22::bigint, $23::text WHERE $22::bigint IS NOT NULL AND $23::text IS NOT NULL
            ON CONFLICT (mailbox, uid_validity, uid) DO UPDATE SET disposition = EXCLUDED.disposition),
         recorded AS (
            INSERT INTO seen (key, sr, fingerprint) SELECT * FROM unnest($24::text[], $25::bigint[], $26::bytea[])
            ON CONFLICT (key) DO UPDATE SET sr = EXCLUDED.sr, fingerprint = EXCLUDED.fingerprint WHERE NOT $27::boolean
            RETURNING 1)"
    ),
    checks: "srgate_require($12::bigint IS NULL OR (SELECT count(*) FROM fence) = 1, 'SRGF1', '0'),
             srgate_require((SELECT count(*) FROM recorded) = cardinality($24::text[]), 'SRGC1',
                            coalesce(($25::bigint[])[1], 0)::text)",
    params: 27,
};

/// The history of an SR after the first messages and events stored, `$23` to `$38`
/// (see [`sr_write_columns`]), written after the CTE `sr_row` that writes its row,
/// and only when that returns the row (a refused write then raises its conflict, not
/// a duplicate key).
macro_rules! write_history {
    () => {
        "written AS (
            INSERT INTO messages (sr, n, direction, kind, from_address, subject, message_id, at, text, record)
            SELECT $1::bigint, * FROM unnest($23::integer[], $24::text[], $25::text[], $26::text[], $27::text[], $28::text[],
                                             $29::timestamptz[], $30::text[], $31::jsonb[])
            WHERE EXISTS (SELECT 1 FROM sr_row)),
         logged AS (
            INSERT INTO events (sr, n, at, kind, by, record)
            SELECT $1::bigint, * FROM unnest($32::integer[], $33::timestamptz[], $34::text[], $35::text[], $36::jsonb[])
            WHERE EXISTS (SELECT 1 FROM sr_row)),
         left_sr AS (
            DELETE FROM participants WHERE sr = $1::bigint AND address = ANY($37::text[]) AND EXISTS (SELECT 1 FROM sr_row)),
         joined_sr AS (
            INSERT INTO participants (sr, address) SELECT $1::bigint, address FROM unnest($38::text[]) AS address
            WHERE EXISTS (SELECT 1 FROM sr_row)
            ON CONFLICT DO NOTHING)"
    };
}

/// A new SR with its history, `$1` to `$38`: its number must be free, and the sequence
/// moves past it (an import's lower numbers leave it alone).
const CREATED: Part = Part {
    writes: concat!(
        "sr_row AS (
            INSERT INTO srs (id, state, priority, assignee, customer, language, product, account, tier, subject,
                created_at, updated_at, first_response_due, first_response_at, closed_at, close_reason,
                contact_attempts, reopen_count, facts, message_count, event_count, wake_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
            ON CONFLICT (id) DO NOTHING
            RETURNING 1),
         ",
        write_history!()
    ),
    checks: "srgate_require((SELECT count(*) FROM sr_row) = 1, 'SRGC1', $1::bigint::text),
             (SELECT setval('sr_number', $1, true) FROM sr_number
              WHERE $1 >= CASE WHEN is_called THEN last_value + 1 ELSE last_value END)",
    params: 38,
};

/// A change to an SR that exists, with its new history, `$1` to `$41`: the row is
/// changed only if it is still as the decision read it (`$39` to `$41`, checked again
/// once its lock is had).
const CHANGED: Part = Part {
    writes: concat!(
        "sr_row AS (
            UPDATE srs SET state = $2, priority = $3, assignee = $4, customer = $5, language = $6, product = $7,
                account = $8, tier = $9, subject = $10, created_at = $11, updated_at = $12, first_response_due = $13,
                first_response_at = $14, closed_at = $15, close_reason = $16, contact_attempts = $17,
                reopen_count = $18, facts = $19, message_count = $20, event_count = $21, wake_at = $22,
                wake_claimed_by = NULL, wake_claimed_until = NULL
            WHERE id = $1 AND ($39::jsonb IS NULL OR facts = $39::jsonb) AND message_count = $40 AND event_count = $41
            RETURNING 1),
         ",
        write_history!()
    ),
    checks: "srgate_require((SELECT count(*) FROM sr_row) = 1, 'SRGC1', $1::bigint::text)",
    params: 41,
};

/// One statement of `parts`, each part's parameters numbered after the last part's.
fn statement(parts: &[&Part]) -> String {
    let mut shift = 0;
    let (mut writes, mut checks) = (Vec::new(), Vec::new());
    for part in parts {
        writes.push(renumber(part.writes, shift));
        checks.push(renumber(part.checks, shift));
        shift += part.params;
    }
    writes.retain(|w| !w.is_empty());
    let with = if writes.is_empty() { String::new() } else { format!("WITH {} ", writes.join(",\n")) };
    format!("{with}SELECT {}", checks.join(",\n"))
}

/// `sql` with each parameter `$n` made `$(n + shift)`.
fn renumber(sql: &str, shift: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut rest = sql;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..=dollar]);
        rest = &rest[dollar + 1..];
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if let Ok(n) = rest[..digits].parse::<usize>() {
            out.push_str(&(n + shift).to_string());
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// The next mail's first reads (see [`super::DECISION_READ_COLUMNS`]), `$1` to `$4`:
/// the commit's statement returns them, as the database was before it (see
/// [`with_own_writes`]).
const READS: Part = Part { writes: "", checks: super::DECISION_READ_COLUMNS, params: 4 };

/// What a statement of a commit is made of: the bookkeeping, an SR's write (`true`
/// when it creates the SR) and the next mail's reads.
type Shape = (bool, Option<bool>, bool);

/// Every statement a commit may be, made once.
static STATEMENTS: LazyLock<HashMap<Shape, String>> = LazyLock::new(|| {
    let mut all = HashMap::new();
    for bookkeeping in [false, true] {
        for sr in [None, Some(true), Some(false)] {
            for reads in [false, true] {
                let sr_part = sr.map(|created| if created { &CREATED } else { &CHANGED });
                let parts: Vec<&Part> =
                    [bookkeeping.then_some(&BOOKKEEPING), sr_part, reads.then_some(&READS)].into_iter().flatten().collect();
                all.insert((bookkeeping, sr, reads), statement(&parts));
            }
        }
    }
    all
});

/// The statement of this shape.
fn sql(shape: Shape) -> &'static str {
    STATEMENTS.get(&shape).map_or("SELECT 1", String::as_str)
}

/// The parameters of [`queue_outbox`] for `items`.
fn outbox_columns(items: &[OutboxItem]) -> Vec<Param<'_>> {
    let recipients: Vec<Json<Vec<String>>> = items.iter().map(|i| Json(i.to.iter().map(|a| a.to_ascii_lowercase()).collect())).collect();
    let kinds: Vec<String> = items.iter().map(|i| name(&i.kind)).collect();
    let records: Vec<Json<serde_json::Value>> = items.iter().map(json).collect();
    params![
        column(items, |i| i.sr as i64),
        kinds,
        recipients,
        column(items, |i| i.message_id.as_str()),
        column(items, |i| at(i.queued_at)),
        column(items, |i| at(i.next_attempt_at)),
        column(items, |i| i.attempts as i32),
        column(items, |i| i.last_error.as_deref()),
        records,
        column(items, |i| i.bytes.as_slice()),
    ]
}

/// Adds outbox items to the batch, in order, as one statement (a restore).
pub(super) fn insert_outbox<'a>(batch: &mut Batch<'a>, items: &'a [OutboxItem]) {
    batch.execute(queue_outbox!(), outbox_columns(items));
}

/// Adds a commit's SRs and its bookkeeping to the batch: one statement when it writes
/// one SR or none (a mail's commit), with the next mail's `reads` when given; otherwise
/// one for the bookkeeping and one per SR. Returns the bytes they write, and whether
/// the reads are in (the first statement's answer then ends with them).
fn write_srs_and_bookkeeping<'a>(
    batch: &mut Batch<'a>,
    c: &'a Commit,
    token: Option<i64>,
    reads: Option<Vec<Param<'a>>>,
) -> Result<(u64, bool), StoreError> {
    let mut bytes: u64 = c.outbox.iter().map(|i| i.bytes.len() as u64 + 200).sum();
    let bookkeeping = bookkeeping(c, token);
    if let [] | [_] = c.srs.as_slice()
        && (bookkeeping.is_some() || !c.srs.is_empty())
    {
        let shape = (bookkeeping.is_some(), c.srs.first().map(|w| w.created), reads.is_some());
        let mut values = bookkeeping.unwrap_or_default();
        if let Some(w) = c.srs.first() {
            let (sr_values, sr_bytes) = sr_write_columns(w)?;
            values.extend(sr_values);
            bytes += sr_bytes;
        }
        let folded = reads.is_some();
        values.extend(reads.unwrap_or_default());
        batch.query(sql(shape), values);
        return Ok((bytes, folded));
    }
    if let Some(values) = bookkeeping {
        batch.execute(sql((true, None, false)), values);
    }
    for w in &c.srs {
        let (values, sr_bytes) = sr_write_columns(w)?;
        bytes += sr_bytes;
        batch.execute(sql((false, Some(w.created), false)), values);
    }
    Ok((bytes, false))
}

/// The next mail's reads made in the statement that commits `c` see the database as
/// it was before it: what `c` writes is added, so that they are what a read made
/// after the commit returns (the dedupe entry of a key it records, the round-robin
/// turn, the loads, the next SR number, the automated mails it sends).
fn with_own_writes(c: &Commit, request: &ReadsRequest, mut reads: DecisionReads) -> DecisionReads {
    if let Some(s) = c.seen.iter().find(|s| s.key == request.key) {
        reads.seen = Some(SeenEntry { sr: s.sr, fingerprint: s.fingerprint });
    }
    if let Some(rr) = c.next_rr {
        reads.inputs.rr = rr;
    }
    for (cse, delta) in &c.load_delta {
        let open = reads.inputs.loads.entry(cse.clone()).or_default();
        *open = (*open as i64).saturating_add(*delta).max(0) as usize;
    }
    for w in c.srs.iter().filter(|w| w.created) {
        reads.inputs.next_id = reads.inputs.next_id.max(w.sr.id + 1);
    }
    for a in c.automated.iter().filter(|a| a.at >= request.since) {
        if let Some(n) = reads.automated.get_mut(&a.address.to_ascii_lowercase()) {
            *n += 1;
        }
    }
    reads
}

/// The parameters of [`BOOKKEEPING`] (none when there is nothing of it): the check of
/// the mailbox's fencing token (`token`), the automated mails sent, the CSEs' loads,
/// the Message-IDs the mail threads by, the round-robin turn, the mailbox's position
/// (under a new UIDVALIDITY, the UID itself) and the mail's pending flag, its dedupe
/// keys (refused when `seen_first` and a key is recorded already) and the outbox
/// items, in order.
fn bookkeeping(c: &Commit, token: Option<i64>) -> Option<Vec<Param<'_>>> {
    let nothing = token.is_none()
        && c.outbox.is_empty()
        && c.automated.is_empty()
        && c.load_delta.is_empty()
        && c.message_ids.is_empty()
        && c.next_rr.is_none()
        && c.source.is_none()
        && c.seen.is_empty();
    if nothing {
        return None;
    }
    // One row per CSE (a statement changes a row once).
    let mut loads = std::collections::BTreeMap::<&str, i64>::new();
    for (cse, delta) in &c.load_delta {
        *loads.entry(cse.as_str()).or_default() += delta;
    }
    let (validity, uid) = c.source.map(|(v, u)| (i64::from(v), i64::from(u))).unzip();
    let mut values = outbox_columns(&c.outbox);
    values.extend(params![
        &c.mailbox,
        token,
        column(&c.automated, |a| a.address.to_ascii_lowercase()),
        column(&c.automated, |a| at(a.at)),
        column(&c.automated, |a| a.message_id.as_str()),
        loads.keys().copied().collect::<Vec<_>>(),
        loads.values().copied().collect::<Vec<_>>(),
        column(&c.message_ids, |(id, _)| id.as_str()),
        column(&c.message_ids, |(_, sr)| *sr as i64),
        c.next_rr.map(|rr| rr.to_string()),
        validity,
        uid,
        c.source.and(c.disposition).map(|d| name(&d)),
        column(&c.seen, |s| s.key.as_str()),
        column(&c.seen, |s| s.sr as i64),
        column(&c.seen, |s| s.fingerprint.map(|f| f.to_vec())),
        c.seen_first,
    ]);
    Some(values)
}

/// The parameters of an SR's write ([`CREATED`] or [`CHANGED`]): its row (`$1`, its
/// number, to `$22`), its history after the messages and events stored (a message's
/// text in a column of its own, the rest as JSON) and the changes to its participants
/// (`$23` to `$38`), and for a change the SR as the decision read it (`$39` to `$41`).
/// Also the bytes they hold.
fn sr_write_columns(w: &SrWrite) -> Result<(Vec<Param<'_>>, u64), StoreError> {
    let sr = &w.sr;
    let stored = w.stored;
    let messages = sr.messages.get(stored.0..).ok_or(StoreError::HistoryRewritten(sr.id))?;
    let events = sr.events.get(stored.1..).ok_or(StoreError::HistoryRewritten(sr.id))?;
    let before = w.before.as_ref().map(|b| b.participants.as_slice()).unwrap_or_default();
    let facts = json(&sr.facts());
    let message_records: Vec<Json<serde_json::Value>> = column(messages, |m| Json(message_record(m)));
    let event_records: Vec<Json<serde_json::Value>> = column(events, json);
    let bytes = facts.0.to_string().len()
        + messages.iter().map(|m| m.text.len()).sum::<usize>()
        + message_records.iter().chain(&event_records).map(|r| r.0.to_string().len()).sum::<usize>();
    let numbers = |from: usize, n: usize| (from..from + n).map(|n| n as i32).collect::<Vec<_>>();
    let mut values = params![
        sr.id as i64,
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
    ];
    values.extend(params![
        numbers(stored.0, messages.len()),
        column(messages, |m| name(&m.direction)),
        column(messages, |m| name(&m.kind)),
        column(messages, |m| m.from.as_str()),
        column(messages, |m| m.subject.as_str()),
        column(messages, |m| m.message_id.as_str()),
        column(messages, |m| at(m.at)),
        column(messages, |m| m.text.as_str()),
        message_records,
        numbers(stored.1, events.len()),
        column(events, |e| at(e.at)),
        column(events, |e| e.kind.as_str()),
        column(events, |e| e.by.as_str()),
        event_records,
        before.iter().filter(|a| !sr.participants.contains(a)).map(String::as_str).collect::<Vec<_>>(),
        sr.participants.iter().filter(|a| !before.contains(a)).map(String::as_str).collect::<Vec<_>>(),
    ]);
    if !w.created {
        values.extend(params![w.before.as_ref().map(|b| json(&b.facts())), stored.0 as i32, stored.1 as i32]);
    }
    Ok((values, bytes as u64))
}

/// One column of a statement that writes many rows (`unnest`): `f` of each item.
fn column<'a, T, U>(items: &'a [T], f: impl Fn(&'a T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

/// A message as stored beside its text: everything but the text, as JSON.
fn message_record(m: &MessageRecord) -> serde_json::Value {
    let mut record = serde_json::to_value(m).unwrap_or_default();
    if let Some(object) = record.as_object_mut() {
        object.remove("text");
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_joined_in_one_statement_number_their_parameters_one_after_the_other() {
        assert_eq!(renumber("$1 = $12::bigint, '$'", 27), "$28 = $39::bigint, '$'");
        let alone = sql((true, None, false));
        assert!(alone.starts_with("WITH queued AS (") && alone.contains("$27::boolean") && !alone.contains("$28"));
        let merged = sql((true, Some(false), false));
        assert!(merged.contains("$27::boolean") && merged.contains("WHERE id = $28 AND ($66::jsonb"));
        assert!(merged.contains("$68") && !merged.contains("$69"));
        let with_reads = sql((true, Some(true), true));
        assert!(with_reads.contains("key = $66)") && with_reads.contains("WHEN $69::boolean") && !with_reads.contains("$70"));
        assert!(sql((false, None, true)).starts_with("SELECT (SELECT sr FROM seen WHERE key = $1)"));
    }

    #[test]
    fn reads_made_with_a_commit_see_what_it_writes() {
        use crate::io::store::{Automated, Seen};
        let now = jiff::Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_hours(2);
        let c = Commit {
            seen: vec![Seen { key: "mid:<a@x>".into(), sr: 7, fingerprint: None }],
            next_rr: Some(4),
            load_delta: vec![("sam@x.test".into(), 1), ("alex@x.test".into(), -3)],
            automated: vec![Automated { address: "Ann@Example.com".into(), message_id: "<ack@x>".into(), at: now }],
            ..Commit::default()
        };
        let request = ReadsRequest {
            key: "mid:<a@x>".into(),
            addresses: vec!["ann@example.com".into()],
            since: now - jiff::SignedDuration::from_hours(1),
            reserve_sr_number: false,
        };
        let mut before = DecisionReads::default();
        before.inputs.loads.insert("alex@x.test".into(), 2);
        before.automated.insert("ann@example.com".into(), 1);
        let after = with_own_writes(&c, &request, before);
        assert_eq!(after.seen, Some(SeenEntry { sr: 7, fingerprint: None }));
        assert_eq!(after.inputs.rr, 4);
        assert_eq!(after.inputs.loads.get("sam@x.test"), Some(&1));
        assert_eq!(after.inputs.loads.get("alex@x.test"), Some(&0), "a load never goes below nothing");
        assert_eq!(after.automated.get("ann@example.com"), Some(&2));
    }
}
