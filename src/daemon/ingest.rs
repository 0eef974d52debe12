//! A fetched batch into the store, on a blocking thread: parse (on every core),
//! store the files (one durable append), then decide and commit one mail at a
//! time, in UID order, stopping at the first store failure. The mailbox position
//! therefore only ever moves over UIDs that are all committed.
//!
//! Nothing a mail contains can stop its mailbox: a mail that cannot be read, is
//! too large, matches nothing, cannot be rendered or makes the decision panic
//! is quarantined (a record, its original kept, the mail moved to the quarantine
//! folder), and the next mail is processed normally.

use std::collections::HashMap;

use jiff::Timestamp;
use tokio::sync::watch;
use tracing::{debug, error, info, info_span, warn};

use super::Gateway;
use super::ahead::{self, Ahead};
use super::mailbox::CycleStats;
use crate::config::Mailbox;
use crate::failpoint::crash_point;
use crate::gateway::{self, NewSr, Outcome as GatewayOutcome};
use crate::io::store::{
    Commit, DecisionReads, Disposition, Location, Prefetched, QuarantineRecord, ReadsRequest, Seen, SeenEntry, StoreError,
};
use crate::mail::inbound::{self, Glimpse, Inbound};

/// A mail as fetched.
#[derive(Debug)]
pub(super) enum Fetched {
    /// Its bytes.
    Whole {
        /// Its UID.
        uid: u32,
        /// The raw message.
        raw: Vec<u8>,
    },
    /// Over `max_message_bytes`: only the start of its headers was fetched.
    TooBig {
        /// Its UID.
        uid: u32,
        /// Its size.
        size: u64,
        /// The first bytes of its headers.
        head: Vec<u8>,
    },
}

/// What a batch came to: counts, and the store failure that ended it early.
#[derive(Debug, Default)]
pub(super) struct BatchOutcome {
    pub stats: CycleStats,
    pub failure: Option<StoreError>,
}

enum Outcome {
    Processed,
    Duplicate,
    Quarantined,
}

/// A parsed mail, or why it cannot be read.
type Parsed = Result<Inbound, String>;

/// A fetched mail, parsed: ready to be authenticated (async, at the edge) and decided.
pub(super) enum Prepared {
    /// A mail that was fetched whole.
    Whole {
        /// Its UID.
        uid: u32,
        /// The raw message.
        raw: Vec<u8>,
        /// Its SHA-256, hex.
        hash: String,
        /// The parsed mail, or why it cannot be read.
        parsed: Box<Parsed>,
    },
    /// A mail too large to fetch.
    TooBig {
        /// Its UID.
        uid: u32,
        /// Its size.
        size: u64,
        /// The first bytes of its headers.
        head: Vec<u8>,
    },
}

/// What is known of a mail being quarantined, besides its raw bytes.
#[derive(Clone, Copy)]
enum Known<'a> {
    /// It was parsed: its facts.
    Parsed(&'a Inbound),
    /// It was parsed, and is machine mail (a report, an auto-reply) that belongs to no SR:
    /// whatever SR its subject names is not told (anybody can write such a subject).
    Machine(&'a Inbound),
    /// It could not be read as a whole: what its own headers say.
    Unread(&'a [u8]),
    /// It was too large to fetch: the first bytes of its headers.
    Headers(&'a [u8]),
}

/// The dedupe key a quarantined mail is recorded under: its own key when it was read,
/// its content hash when it could not be, its place (mailbox, UIDVALIDITY, UID) when
/// it was too large to fetch.
fn quarantine_key(mailbox: &str, source: (u32, u32), hash: &str, known: Known<'_>) -> Option<String> {
    match known {
        Known::Parsed(m) | Known::Machine(m) => Some(m.dedupe_key()),
        Known::Headers(_) => Some(format!("oversize:{mailbox}:{}:{}", source.0, source.1)),
        Known::Unread(_) if !hash.is_empty() => Some(format!("sha256:{hash}")),
        Known::Unread(_) => None,
    }
}

/// What the decision on `mail`, made at `now`, reads first. It asks for an SR number
/// when the mail looks like one that opens an SR (it names none and answers nothing);
/// a mail that opens one without asking takes its number when it does.
fn reads_request(mail: &Inbound, now: Timestamp) -> ReadsRequest {
    let opens_an_sr = crate::mail::thread::token_in(&mail.subject).is_none() && mail.in_reply_to.is_empty() && mail.references.is_empty();
    ReadsRequest {
        key: mail.dedupe_key(),
        addresses: std::iter::once(&mail.from).chain(&mail.cc).cloned().collect(),
        since: now - gateway::AUTOMATED_WINDOW,
        reserve_sr_number: opens_an_sr,
    }
}

/// Parses one mail. mail-parser is total, but a gateway must not die on one mail:
/// a panic is a quarantine reason too.
fn parse_guarded(raw: &[u8]) -> Parsed {
    match std::panic::catch_unwind(|| inbound::parse(raw)) {
        Ok(Ok(mail)) => Ok(mail),
        Ok(Err(why)) => Err(why.to_string()),
        Err(_) => Err("the parser failed on this mail".into()),
    }
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into())
}

/// Parses a batch on every core; the mails come back in the order they were fetched.
/// Blocking: run it on a blocking thread.
pub(super) fn prepare(fetched: Vec<Fetched>) -> Vec<Prepared> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let per_worker = fetched.len().div_ceil(workers).max(1);
    let mut shares: Vec<Vec<Fetched>> = Vec::new();
    let mut rest = fetched.into_iter();
    loop {
        let share: Vec<_> = rest.by_ref().take(per_worker).collect();
        if share.is_empty() {
            break;
        }
        shares.push(share);
    }
    let prepare_share = |share: Vec<Fetched>| -> Vec<Prepared> {
        share
            .into_iter()
            .map(|f| match f {
                Fetched::Whole { uid, raw } => {
                    let parsed = parse_guarded(&raw);
                    let hash = match &parsed {
                        Ok(m) => m.content_hash.clone(),
                        Err(_) => inbound::sha256_hex(&raw),
                    };
                    Prepared::Whole { uid, raw, hash, parsed: Box::new(parsed) }
                }
                Fetched::TooBig { uid, size, head } => Prepared::TooBig { uid, size, head },
            })
            .collect()
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = shares.into_iter().map(|share| scope.spawn(move || prepare_share(share))).collect();
        // parse_guarded catches panics, so a share's thread does not panic.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// The files of a mail: its original and, when it was read, each attachment.
fn files_of(p: &Prepared) -> Vec<(String, &[u8])> {
    match p {
        Prepared::Whole { raw, hash, parsed, .. } => {
            let mut out = vec![(hash.clone(), raw.as_slice())];
            if let Ok(mail) = parsed.as_ref() {
                out.extend(mail.attachments.iter().map(|a| (a.sha256(), a.data.as_slice())));
                // A forwarded mail's own files, should its SR be opened for its sender.
                let forwarded = mail.forward.iter().filter_map(|f| f.original.as_ref()).flat_map(|o| o.attachments.iter());
                out.extend(forwarded.map(|a| (a.sha256(), a.data.as_slice())));
            }
            out
        }
        Prepared::TooBig { .. } => Vec::new(),
    }
}

impl Gateway {
    /// Processes a prepared (and authenticated) batch of `mailbox` (read under
    /// `validity`), in UID order. Stops early, after the mail in hand, when `stop` is
    /// set. Nothing is durable yet: the caller runs the barrier, then flags.
    pub(super) fn ingest_batch(&self, mb: &Mailbox, validity: u32, prepared: Vec<Prepared>, stop: &watch::Receiver<bool>) -> BatchOutcome {
        let mailbox = mb.name.as_str();
        let mut out = BatchOutcome::default();
        // Files before the records that name them: one durable append for the batch.
        let wanted: Vec<(String, &[u8])> = prepared.iter().flat_map(files_of).collect();
        let stored: HashMap<String, Location> = match self.store.store_files(&wanted) {
            Ok(placed) => placed.into_iter().collect(),
            Err(e) => {
                out.failure = Some(e);
                return out;
            }
        };
        let entries = |p: &Prepared| -> Vec<(String, Location)> {
            files_of(p).into_iter().filter_map(|(sha, _)| stored.get(&sha).map(|l| (sha, *l))).collect()
        };
        let ahead = Ahead::default();
        for (i, p) in prepared.iter().enumerate() {
            if *stop.borrow() {
                break;
            }
            if i > 0 {
                crash_point!("ingest.between_mails");
            }
            ahead.expect_next(prepared.get(i + 1).and_then(|next| self.reads_ahead(next)));
            let files = entries(p);
            let watch = crate::time::Stopwatch::start();
            let result = match p {
                Prepared::TooBig { uid, size, head } => {
                    let max = self.setup().config.max_message_bytes;
                    let reason = format!("message of {size} bytes is over max_message_bytes ({max}); left unparsed");
                    let result = self.quarantine(&ahead, mb, (validity, *uid), "", reason, Known::Headers(head), files);
                    crash_point!("quarantine.oversize");
                    result
                }
                Prepared::Whole { uid, raw, hash, parsed } => match parsed.as_ref() {
                    Err(why) => self.quarantine(&ahead, mb, (validity, *uid), hash, why.clone(), Known::Unread(raw), files),
                    Ok(mail) => {
                        let one =
                            std::panic::AssertUnwindSafe(|| self.ingest_deciding_again(&ahead, mb, (validity, *uid), hash, mail, &files));
                        std::panic::catch_unwind(one).unwrap_or_else(|payload| {
                            let why = panic_message(payload.as_ref());
                            error!(mailbox, uid, panic = %why, "srgate failed on this mail; quarantining it");
                            let reason = format!("srgate failed while processing this mail ({why}); kept for the operator");
                            self.quarantine(&ahead, mb, (validity, *uid), hash, reason, Known::Unread(raw), files)
                        })
                    }
                },
            };
            self.metrics.mail_read(mailbox, watch.seconds());
            match result {
                Ok(Outcome::Processed) => out.stats.processed += 1,
                Ok(Outcome::Duplicate) => out.stats.duplicates += 1,
                Ok(Outcome::Quarantined) => out.stats.quarantined += 1,
                Err(e) => {
                    error!(mailbox, error = %e, "store write failed: the mail stays unflagged and is read again");
                    out.failure = Some(e);
                    break;
                }
            }
        }
        if let Some(number) = ahead.release() {
            self.give_back(number);
        }
        out
    }

    /// What the decision on `next` will read first, asked for ahead with the commit of
    /// the mail before it (postgres; nothing with sled, whose reads cost no round trip,
    /// nor for a mail that will not be decided).
    fn reads_ahead(&self, next: &Prepared) -> Option<(ReadsRequest, Timestamp)> {
        let Prepared::Whole { parsed, .. } = next else { return None };
        let mail = parsed.as_ref().as_ref().ok()?;
        let now = self.clock.now();
        self.store.postgres().is_some().then(|| (reads_request(mail, now), now))
    }

    /// A decision's first reads and the moment it is made at: the reads made ahead
    /// for this mail, or made now. An SR number is asked for when the batch holds none
    /// and the mail looks like one that opens an SR.
    fn first_reads(&self, ahead: &Ahead, mail: &Inbound) -> Result<(Timestamp, DecisionReads), StoreError> {
        let now = self.clock.now();
        let mut request = reads_request(mail, now);
        if let Some(made) = ahead.take(&request.key, &request.addresses) {
            return Ok(made);
        }
        request.reserve_sr_number &= self.store.postgres().is_some() && ahead.held().is_none();
        let reads = self.store.decision_reads(&request)?;
        if let Some(spare) = ahead.hold(&reads) {
            self.give_back(spare);
        }
        Ok((now, reads))
    }

    /// Commits `c` with, in the same round trip (postgres), the first reads of the
    /// next mail's decision.
    fn commit_ahead(&self, ahead: &Ahead, c: &Commit) -> Result<(), StoreError> {
        let opens = ahead::opened_by(c);
        let request = ahead.request_with(opens);
        let (_, reads) = match self.store.commit_then_read(c, request.as_ref().map(|(r, _)| r)) {
            Ok(done) => done,
            Err(e) => {
                // The number held is taken after all (another gateway's number given back
                // as it took the next one): the mail decided again takes another.
                if matches!(e, StoreError::Conflict(id) if Some(id) == opens && opens == ahead.held()) {
                    ahead.release();
                }
                return Err(e);
            }
        };
        if let Some(spare) = ahead.committed(opens, request, reads) {
            self.give_back(spare);
        }
        Ok(())
    }

    /// Gives back an SR number taken and not used (the next SR gets it).
    fn give_back(&self, number: u64) {
        if let Err(e) = self.store.give_back_sr_number(number) {
            warn!(number, error = %e, "cannot give back an unused SR number: it stays unused");
        }
    }

    /// [`Gateway::ingest_one`], decided again (up to 5 times) when another gateway
    /// changed what it read before its commit.
    fn ingest_deciding_again(
        &self,
        ahead: &Ahead,
        mb: &Mailbox,
        source: (u32, u32),
        hash: &str,
        mail: &Inbound,
        files: &[(String, Location)],
    ) -> Result<Outcome, StoreError> {
        self.deciding_again(|| self.ingest_one(ahead, mb, source, hash, mail, files.to_vec()))
    }

    /// Commits the effect of one parsed mail read at `source` (UIDVALIDITY, UID).
    fn ingest_one(
        &self,
        ahead: &Ahead,
        mb: &Mailbox,
        source: (u32, u32),
        hash: &str,
        mail: &Inbound,
        files: Vec<(String, Location)>,
    ) -> Result<Outcome, StoreError> {
        let mailbox = mb.name.as_str();
        let span =
            info_span!("mail", mailbox, uid = source.1, message_id = mail.message_id.as_deref().unwrap_or("-"), sr = tracing::field::Empty);
        let _enter = span.enter();
        let pending = |seen: Vec<Seen>| Commit {
            mailbox: mb.store_key().into(),
            source: Some(source),
            disposition: Some(Disposition::Processed),
            seen,
            seen_first: true,
            files: files.clone(),
            ..Commit::default()
        };
        // Held from the dedupe check to the commit: the same mail in two mailboxes is decided once.
        let _guard = self.decide_guard();
        // The decision's first reads, together: the dedupe set, the new-SR inputs, the
        // automated mails its likely recipients got in the cap's window and an SR number
        // (one round trip, made with the last commit when it could be).
        let (now, reads) = self.first_reads(ahead, mail)?;
        let Some((key, reused)) = self.dedupe_key(mail, reads.seen)? else {
            debug!("already processed; flagging only");
            self.commit_ahead(ahead, &pending(Vec::new()))?;
            return Ok(Outcome::Duplicate);
        };
        let seen = |sr: u64| vec![Seen { key: key.clone(), sr, fingerprint: Some(mail.fingerprint) }];
        let setup = self.setup();
        let ctx = self.ctx_of(&setup);
        let class = gateway::classification(ctx, mail);
        let threading = gateway::thread_classified(mail, class.class, self.store.as_ref(), &self.instance);
        let existing = threading.sr().map(|id| self.store.get_sr(id)).transpose()?.flatten();
        let inputs = &reads.inputs;
        let mut new = NewSr { id: ahead.held().unwrap_or(inputs.next_id), mailbox, loads: &inputs.loads, rr: inputs.rr };
        crash_point!("gateway.decide");
        let lookup = Prefetched { store: &self.store, reads: &reads };
        let mut outcome = gateway::decide(ctx, mail, existing.clone(), &new, &lookup, now);
        // A new SR's number is the one the batch holds; otherwise (sled, or a mail that
        // did not look like it would open one) it is taken once the decision opens one,
        // and a number other than the one this decision read makes it decide again.
        if let Ok(GatewayOutcome::Apply(d)) = &outcome
            && d.created
            && ahead.held() != Some(new.id)
        {
            let taken = self.store.take_sr_number(new.id)?;
            if taken != new.id {
                new.id = taken;
                outcome = gateway::decide(ctx, mail, existing.clone(), &new, &lookup, now);
            }
        }
        let mut decision = match outcome {
            Ok(GatewayOutcome::Apply(d)) => *d,
            Ok(GatewayOutcome::Own) => {
                debug!("our own mail came back; nothing to do");
                self.commit_ahead(ahead, &pending(seen(0)))?;
                return Ok(Outcome::Duplicate);
            }
            // Mail in a CSE's name, not authenticated, naming no SR: kept, opens nothing.
            Ok(GatewayOutcome::Suspicious { why }) => {
                return self.quarantine_locked(ahead, mb, (source, Some(key)), hash, why, Known::Parsed(mail), files, now);
            }
            // Staff mail on no SR that is answered (`#queue`, a `#new` that cannot be done).
            Ok(GatewayOutcome::Answer { mails }) => {
                let outbox = match super::writes::render_outbox(&mails, now) {
                    Ok(outbox) => outbox,
                    Err(e) => {
                        let why = format!("cannot render mail: {e}");
                        return self.quarantine_locked(ahead, mb, (source, Some(key)), hash, why, Known::Parsed(mail), files, now);
                    }
                };
                info!(answers = outbox.len(), "staff mail on no SR answered");
                self.commit_ahead(ahead, &Commit { outbox, ..pending(seen(0)) })?;
                return Ok(Outcome::Processed);
            }
            Ok(GatewayOutcome::Unmatched { classification }) => {
                let reason = format!(
                    "{:?} mail matching no SR: kept, no SR, no reply ({})",
                    classification.class,
                    classification.signals.join("; ")
                );
                return self.quarantine_locked(ahead, mb, (source, Some(key)), hash, reason, Known::Machine(mail), files, now);
            }
            Err(e) => return self.quarantine_locked(ahead, mb, (source, Some(key)), hash, e.to_string(), Known::Parsed(mail), files, now),
        };
        if let Some(earlier) = reused {
            gateway::note_reused_message_id(&mut decision, mail, earlier, now);
        }
        span.record("sr", decision.sr.id);
        info!(sr = decision.sr.id, class = ?class.class, signal = threading.signal(), created = decision.created, "decided");
        let (before, also_before) = if decision.created { (None, existing.as_ref()) } else { (existing.as_ref(), None) };
        let mut c = match self.writes(before, &decision, also_before, now) {
            Ok(c) => c,
            Err(e) => return self.quarantine_locked(ahead, mb, (source, Some(key)), hash, e, Known::Parsed(mail), files, now),
        };
        c.mailbox = mb.store_key().into();
        c.source = Some(source);
        c.disposition = Some(Disposition::Processed);
        c.seen = seen(decision.sr.id);
        c.seen_first = true;
        c.next_rr = decision.created.then_some(inputs.rr + 1);
        c.message_ids.push((mail.record_id(), decision.sr.id));
        c.files = files;
        self.commit_ahead(ahead, &c)?;
        Ok(Outcome::Processed)
    }

    /// The dedupe key to record `mail` under, and the SR of an earlier, different
    /// mail that used the same Message-ID; `None` when this very mail was processed
    /// before. A Message-ID alone does not make two mails the same: senders reuse
    /// them, so the content fingerprint decides. `earlier` is what the dedupe set
    /// holds under the mail's key.
    fn dedupe_key(&self, mail: &Inbound, earlier: Option<SeenEntry>) -> Result<Option<(String, Option<u64>)>, StoreError> {
        let key = mail.dedupe_key();
        let Some(earlier) = earlier else { return Ok(Some((key, None))) };
        if earlier.fingerprint.is_none_or(|f| f == mail.fingerprint) {
            return Ok(None);
        }
        let own = format!("{key}#{}", inbound::hex(&mail.fingerprint[..8]));
        if self.store.seen(&own)?.is_some() {
            return Ok(None);
        }
        warn!(key, earlier_sr = earlier.sr, "a different mail reuses this Message-ID: processing it on its own");
        Ok(Some((own, Some(earlier.sr))))
    }

    /// Quarantines a mail (takes the decision lock), unless this very mail was
    /// quarantined before (it is then only flagged again).
    #[allow(clippy::too_many_arguments)]
    fn quarantine(
        &self,
        ahead: &Ahead,
        mb: &Mailbox,
        source: (u32, u32),
        hash: &str,
        reason: String,
        known: Known<'_>,
        files: Vec<(String, Location)>,
    ) -> Result<Outcome, StoreError> {
        let mailbox = mb.name.as_str();
        let _guard = self.decide_guard();
        let key = quarantine_key(mb.store_key(), source, hash, known);
        if let Some(key) = &key
            && self.store.seen(key)?.is_some()
        {
            debug!(mailbox, uid = source.1, "quarantined before; flagging only");
            let c = Commit {
                mailbox: mb.store_key().into(),
                source: Some(source),
                disposition: Some(Disposition::Quarantine),
                ..Commit::default()
            };
            self.commit_ahead(ahead, &c)?;
            return Ok(Outcome::Duplicate);
        }
        self.quarantine_locked(ahead, mb, (source, key), hash, reason, known, files, self.clock.now())
    }

    /// Quarantines a mail, the decision lock held: a record with what could be read
    /// of it, the move to the quarantine folder, and a note on the SR it names.
    /// The second argument is where it was read and the dedupe key it is recorded under.
    #[allow(clippy::too_many_arguments)]
    fn quarantine_locked(
        &self,
        ahead: &Ahead,
        mb: &Mailbox,
        (source, key): ((u32, u32), Option<String>),
        hash: &str,
        reason: String,
        known: Known<'_>,
        files: Vec<(String, Location)>,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        let mailbox = mb.name.as_str();
        warn!(mailbox, uid = source.1, %reason, "quarantined");
        let glimpse = |bytes: &[u8]| std::panic::catch_unwind(|| inbound::glimpse(bytes)).unwrap_or_default();
        let glimpse = match known {
            Known::Parsed(m) | Known::Machine(m) => Glimpse { from: m.from.clone(), subject: m.subject.clone() },
            Known::Unread(raw) => glimpse(raw),
            Known::Headers(headers) => glimpse(headers),
        };
        // The SR the mail names (if any) records it and its CSE is told (not for machine mail:
        // a forged report naming an SR must not reach its CSE).
        let mut c = match known {
            Known::Machine(_) => Commit::default(),
            _ => self.quarantine_on_sr(&glimpse, &reason, now)?,
        };
        c.quarantine = Some(QuarantineRecord {
            mailbox: mailbox.into(),
            uid: source.1,
            reason,
            from: glimpse.from,
            subject: glimpse.subject,
            at: now,
            content_hash: hash.to_string(),
        });
        c.mailbox = mb.store_key().into();
        c.source = Some(source);
        c.disposition = Some(Disposition::Quarantine);
        let fingerprint = match known {
            Known::Parsed(m) | Known::Machine(m) => Some(m.fingerprint),
            _ => None,
        };
        c.seen = key.map(|key| Seen { key, sr: 0, fingerprint }).into_iter().collect();
        c.seen_first = true;
        c.files = files;
        self.commit_ahead(ahead, &c)?;
        Ok(Outcome::Quarantined)
    }

    /// The writes that record a quarantined mail on the SR its subject token names,
    /// with a note to the SR's CSE; nothing when it names none (or the note cannot
    /// be made: the quarantine itself must not fail for it).
    fn quarantine_on_sr(&self, glimpse: &Glimpse, reason: &str, now: Timestamp) -> Result<Commit, StoreError> {
        let Some(sr) = crate::mail::thread::token_in(&glimpse.subject).map(|id| self.store.get_sr(id)).transpose()?.flatten() else {
            return Ok(Commit::default());
        };
        let setup = self.setup();
        let decision = match gateway::quarantined(self.ctx_of(&setup), sr.clone(), &glimpse.from, reason, now) {
            Ok(d) => d,
            Err(e) => {
                error!(sr = sr.id, error = %e, "cannot tell the CSE of the quarantined mail");
                return Ok(Commit::default());
            }
        };
        match self.writes(Some(&sr), &decision, None, now) {
            Ok(c) => Ok(c),
            Err(e) => {
                error!(sr = sr.id, error = %e, "cannot tell the CSE of the quarantined mail");
                Ok(Commit::default())
            }
        }
    }
}
