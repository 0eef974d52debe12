//! The imperative shell: reads mailboxes, runs the pure core, commits, flags, delivers.
//!
//! One task per mailbox, one delivery task, one control-socket task; a watch
//! channel tells them all to stop. The order for every mail is fixed:
//! fetch → decide (pure) → commit SR + outbox + position in one transaction →
//! flush → flag or move on the server. A crash between any two steps loses
//! nothing: an unflushed commit is redone from the server copy (the decision is
//! deterministic and deduplicated), a flushed but unflagged mail is flagged
//! from the `pending` list on the next pass.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use std::sync::Mutex;

use tokio::sync::{Notify, watch};
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::config::Mailbox;
use crate::gateway::Decision;
use crate::gateway::{self, Ctx, NewSr, Outcome as GatewayOutcome};
use crate::io::imap::{self, Connection, Wake};
use crate::io::smtp::{Mailer, SendError};
use crate::io::store::{Commit, Disposition, OutboxItem, QuarantineRecord, SrWrite, Store, StoreError};
use crate::mail::inbound::{self, Glimpse, Inbound};
use crate::mail::outbound;
use crate::metrics::{Metrics, StoreFacts};
use crate::setup::Setup;
use crate::sr::{self, Sr, lifecycle};
use crate::time::Clock;

/// Mails fetched and committed per flush (group commit).
const BATCH: usize = 200;

/// Everything a running gateway holds.
pub struct Gateway {
    /// Config, rules, policy and templates: swapped whole on reload (SIGHUP).
    setup: std::sync::RwLock<Arc<Setup>>,
    /// Where the configuration came from, for reloads.
    config_path: std::path::PathBuf,
    /// The store.
    pub store: Arc<Store>,
    instance: String,
    clock: Clock,
    /// Serializes decide+commit across mailbox tasks (an SR is changed by one mail at a time).
    decide_lock: Mutex<()>,
    outbox_ready: Notify,
    /// Counters for `/metrics` and the health verdict.
    pub metrics: Metrics,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("instance", &self.instance).finish_non_exhaustive()
    }
}

/// What a cycle over one mailbox did.
#[derive(Debug, Default, Clone, Copy)]
pub struct CycleStats {
    /// Mails read and committed.
    pub processed: usize,
    /// Mails seen before (re-read).
    pub duplicates: usize,
    /// Mails quarantined.
    pub quarantined: usize,
}

enum Outcome {
    Processed,
    Duplicate,
    Quarantined,
}

impl Gateway {
    /// Opens the store for a loaded setup.
    pub fn open(setup: Setup, clock: Clock) -> anyhow::Result<Gateway> {
        let cache = setup.config.store_cache_mb * 1024 * 1024;
        let store = Store::open_with_cache(&setup.config.data_dir, Duration::from_secs(3), cache)?;
        let instance = store.instance()?;
        Ok(Gateway {
            config_path: setup.config.path.clone(),
            setup: std::sync::RwLock::new(Arc::new(setup)),
            store: Arc::new(store),
            instance,
            clock,
            decide_lock: Mutex::new(()),
            outbox_ready: Notify::new(),
            metrics: Metrics::default(),
        })
    }

    /// The current setup (config, rules, policy, templates).
    pub fn setup(&self) -> Arc<Setup> {
        self.setup.read().map(|s| s.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Loads config, rules, policy and templates again and swaps them in whole; a set
    /// with any error is refused and the running one stays. Mailboxes, SMTP and the
    /// data directory are kept until a restart.
    pub fn reload(&self) -> Result<(), crate::diag::Diagnostics> {
        let new = Setup::load(&self.config_path)?;
        let old = self.setup();
        let (a, b) = (&old.config, &new.config);
        let mailboxes = |c: &crate::config::Config| {
            c.mailboxes.iter().map(|m| (m.name.clone(), m.host.clone(), m.port, m.folder.clone())).collect::<Vec<_>>()
        };
        if mailboxes(a) != mailboxes(b) || a.smtp.host != b.smtp.host || a.smtp.port != b.smtp.port || a.data_dir != b.data_dir {
            warn!("mailboxes, [smtp] and data_dir changes take effect at the next restart");
        }
        match self.setup.write() {
            Ok(mut s) => *s = Arc::new(new),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(new),
        }
        Ok(())
    }

    fn ctx_of<'a>(&'a self, s: &'a Setup) -> Ctx<'a> {
        Ctx { config: &s.config, templates: &s.templates, rules: &s.rules, policy: &s.policy, instance: &self.instance }
    }

    /// Runs the scheduled work that is due (from the due index), committing each SR's change.
    pub async fn run_due(&self) -> anyhow::Result<usize> {
        let mut done = 0;
        loop {
            let now = self.clock.now();
            let ids = self.store.due_until(now, 500)?;
            if ids.is_empty() {
                break;
            }
            for id in &ids {
                let _guard = self.decide_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let Some(sr) = self.store.get_sr(*id)? else { continue };
                let (loads, rr) = (self.store.loads()?, self.store.rr_turn()?);
                let setup = self.setup();
                let c = match gateway::tick(self.ctx_of(&setup), sr.clone(), &loads, rr, now) {
                    Ok(Some(d)) => {
                        let newly_assigned = sr.assignee.is_none() && d.sr.assignee.is_some();
                        let mut c = self.writes(Some(&sr), &d, None, now).map_err(|e| anyhow::anyhow!("SR {id}: {e}"))?;
                        c.next_rr = newly_assigned.then_some(rr + 1);
                        c
                    }
                    // Nothing due after all: move the index entry to the real wake-up.
                    Ok(None) => Commit { srs: vec![self.rewrite(&sr, &sr, false)], ..Commit::default() },
                    Err(e) => {
                        error!(sr = id, error = %e, "scheduled work failed to render; will retry");
                        continue;
                    }
                };
                self.store.commit(&c)?;
                debug!(sr = id, "scheduled work done");
                done += 1;
            }
            self.store.flush().await?;
            self.outbox_ready.notify_one();
            if ids.len() < 500 {
                break;
            }
        }
        Ok(done)
    }

    fn rewrite(&self, before: &Sr, after: &Sr, created: bool) -> SrWrite {
        let setup = self.setup();
        let policy = &setup.policy;
        SrWrite {
            sr: after.clone(),
            created,
            wake_before: (!created).then(|| lifecycle::next_wake(before, policy)).flatten(),
            wake_after: lifecycle::next_wake(after, policy),
            counted_before: (!created).then_some((before.state, before.priority)),
        }
    }

    /// The store writes of a decision: its SRs (with due-index moves), Message-IDs,
    /// outbox, load changes and contact changes. `before` is the SR before the
    /// change (None when created); `also_before` the other SR's, when there is one.
    fn writes(&self, before: Option<&Sr>, d: &Decision, also_before: Option<&Sr>, now: Timestamp) -> Result<Commit, String> {
        let mut c = Commit::default();
        let add = |before: Option<&Sr>, d: &Decision, c: &mut Commit| -> Result<(), String> {
            c.srs.push(match before {
                Some(b) => self.rewrite(b, &d.sr, d.created),
                None => self.rewrite(&d.sr, &d.sr, true),
            });
            c.load_delta.extend(sr::load_delta(before, &d.sr));
            let closed_now = d.sr.state == sr::State::Closed && before.is_none_or(|b| b.state != sr::State::Closed);
            self.metrics.srs(u64::from(d.created), u64::from(closed_now));
            c.message_ids.extend(d.outgoing.iter().map(|m| (m.message_id.clone(), d.sr.id)));
            c.outbox.extend(self.render_outbox(&d.outgoing, now).map_err(|e| format!("cannot render mail: {e}"))?);
            c.contacts.extend(d.contact_changes.iter().cloned());
            Ok(())
        };
        add(before, d, &mut c)?;
        if let Some(also) = &d.also {
            add(also_before, also, &mut c)?;
        }
        Ok(c)
    }

    fn render_outbox(&self, mails: &[outbound::OutMail], now: Timestamp) -> Result<Vec<OutboxItem>, outbound::RenderError> {
        mails
            .iter()
            .map(|m| {
                Ok(OutboxItem {
                    sr: m.sr,
                    kind: m.kind,
                    from: m.from.clone(),
                    to: m.to.iter().chain(m.cc.iter()).cloned().collect(),
                    message_id: m.message_id.clone(),
                    queued_at: now,
                    attempts: 0,
                    next_attempt_at: now,
                    last_error: None,
                    bytes: outbound::render(m)?,
                })
            })
            .collect()
    }

    /// Writes the files of one raw mail (the original and its attachments), not yet synced.
    fn stage(&self, raw: &[u8], parsed: &Parsed) -> Result<(), StoreError> {
        self.store.stage_file(&inbound::sha256_hex(raw), raw)?;
        if let Ok(mail) = parsed {
            for a in &mail.attachments {
                self.store.stage_file(&a.sha256(), &a.data)?;
            }
        }
        Ok(())
    }

    /// Parses a fetched batch and stages its files, on every core: both are work
    /// of one mail alone (only the decisions and commits that follow are serial).
    /// The mails come back in the order they were fetched.
    fn prepare(&self, fetched: Vec<(u32, Vec<u8>)>) -> Result<Vec<(u32, Vec<u8>, Parsed)>, StoreError> {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
        let per_worker = fetched.len().div_ceil(workers).max(1);
        let mut shares: Vec<Vec<(u32, Vec<u8>)>> = Vec::new();
        let mut rest = fetched.into_iter();
        loop {
            let share: Vec<_> = rest.by_ref().take(per_worker).collect();
            if share.is_empty() {
                break;
            }
            shares.push(share);
        }
        let prepare_share = |share: Vec<(u32, Vec<u8>)>| -> Result<Vec<(u32, Vec<u8>, Parsed)>, StoreError> {
            share
                .into_iter()
                .map(|(uid, raw)| {
                    let parsed = parse_guarded(&raw);
                    self.stage(&raw, &parsed)?;
                    Ok((uid, raw, parsed))
                })
                .collect()
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = shares.into_iter().map(|share| scope.spawn(move || prepare_share(share))).collect();
            let mut prepared = Vec::new();
            for handle in handles {
                let panicked = || StoreError::File(self.store.data_dir().into(), std::io::Error::other("a thread staging mail panicked"));
                let share = handle.join().map_err(|_| panicked())??;
                prepared.extend(share);
            }
            Ok(prepared)
        })
    }

    /// Commits the effect of one raw mail read from `mb` at (`validity`, `uid`).
    /// Its files were staged and synced by the caller ([`Gateway::cycle`]) before this.
    fn ingest(&self, mb: &Mailbox, validity: u32, uid: u32, raw: &[u8], parsed: Parsed) -> Result<Outcome, StoreError> {
        // edge (issue 11): `mailbox` is the name people see; `key_of_mailbox` where the store keeps its position.
        let (mailbox, key_of_mailbox) = (mb.name.as_str(), mb.store_key());
        let now = self.clock.now();
        let source = Some((validity, uid));
        let mail = match parsed {
            Ok(mail) => mail,
            Err(why) => {
                let _guard = self.decide_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                return self.quarantine(mb, source, raw, why, Known::Unread, now);
            }
        };
        let span = info_span!("mail", mailbox, uid, message_id = mail.message_id.as_deref().unwrap_or("-"), sr = tracing::field::Empty);
        let _enter = span.enter();
        let key = mail.dedupe_key();
        // Held from the dedupe check to the commit: the same mail in two mailboxes is decided once.
        let _guard = self.decide_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.store.seen(&key)?.is_some() {
            debug!("already processed; flagging only");
            let c = Commit { mailbox: key_of_mailbox.into(), source, disposition: Some(Disposition::Processed), ..Commit::default() };
            self.store.commit(&c)?;
            return Ok(Outcome::Duplicate);
        }
        let setup = self.setup();
        let ctx = self.ctx_of(&setup);
        let class = gateway::classification(ctx, &mail);
        let threading = gateway::thread_classified(&mail, class.class, self.store.as_ref(), &self.instance);
        let existing = threading.sr().map(|id| self.store.get_sr(id)).transpose()?.flatten();
        let (loads, rr) = (self.store.loads()?, self.store.rr_turn()?);
        let new = NewSr { id: self.store.next_sr_id()?, mailbox, loads: &loads, rr };
        let decision = match gateway::decide(ctx, &mail, existing.clone(), &new, self.store.as_ref(), now) {
            Ok(GatewayOutcome::Apply(d)) => *d,
            Ok(GatewayOutcome::Own) => {
                debug!("our own mail came back; nothing to do");
                let c = Commit {
                    mailbox: key_of_mailbox.into(),
                    source,
                    disposition: Some(Disposition::Processed),
                    seen: Some((key, 0)),
                    ..Commit::default()
                };
                self.store.commit(&c)?;
                return Ok(Outcome::Duplicate);
            }
            Ok(GatewayOutcome::Unmatched { classification }) => {
                let reason = format!(
                    "{:?} mail matching no SR: kept, no SR, no reply ({})",
                    classification.class,
                    classification.signals.join("; ")
                );
                return self.quarantine(mb, source, raw, reason, Known::Parsed(&mail), now);
            }
            Err(e) => return self.quarantine(mb, source, raw, e.to_string(), Known::Parsed(&mail), now),
        };
        span.record("sr", decision.sr.id);
        info!(sr = decision.sr.id, class = ?class.class, signal = threading.signal(), created = decision.created, "decided");
        let (before, also_before) = if decision.created { (None, existing.as_ref()) } else { (existing.as_ref(), None) };
        let mut c = match self.writes(before, &decision, also_before, now) {
            Ok(c) => c,
            Err(e) => return self.quarantine(mb, source, raw, e, Known::Parsed(&mail), now),
        };
        c.mailbox = key_of_mailbox.into();
        c.source = source;
        c.disposition = Some(Disposition::Processed);
        c.seen = Some((key, decision.sr.id));
        c.next_rr = decision.created.then_some(rr + 1);
        c.message_ids.push((mail.record_id(), decision.sr.id));
        c.automated = Some((now, decision.automated.clone()));
        self.store.commit(&c)?;
        Ok(Outcome::Processed)
    }

    fn quarantine(
        &self,
        mb: &Mailbox,
        source: Option<(u32, u32)>,
        raw: &[u8],
        reason: String,
        known: Known<'_>,
        now: Timestamp,
    ) -> Result<Outcome, StoreError> {
        let hash = if raw.is_empty() { String::new() } else { inbound::sha256_hex(raw) };
        let mailbox = mb.name.as_str(); // edge (issue 11): shown; the store's position is under mb.store_key()
        warn!(mailbox, uid = source.map(|s| s.1), %reason, "quarantined");
        if !raw.is_empty() {
            self.store.put_file(&hash, raw)?;
        }
        let glimpse = |bytes: &[u8]| std::panic::catch_unwind(|| inbound::glimpse(bytes)).unwrap_or_default();
        let glimpse = match known {
            Known::Parsed(m) => Glimpse { from: m.from.clone(), subject: m.subject.clone() },
            Known::Unread => glimpse(raw),
            Known::Headers(headers) => glimpse(headers),
        };
        // The SR the mail names (if any) records it and its CSE is told.
        let mut c = self.quarantine_on_sr(&glimpse, &reason, now)?;
        c.quarantine = Some(QuarantineRecord {
            mailbox: mailbox.into(),
            uid: source.map(|s| s.1).unwrap_or(0),
            reason,
            from: glimpse.from,
            subject: glimpse.subject,
            at: now,
            content_hash: hash.clone(),
        });
        c.mailbox = mb.store_key().into();
        c.source = source;
        c.disposition = Some(Disposition::Quarantine);
        c.seen = match known {
            Known::Parsed(m) => Some((m.dedupe_key(), 0)),
            _ => (!hash.is_empty()).then(|| (format!("sha256:{hash}"), 0)),
        };
        self.store.commit(&c)?;
        Ok(Outcome::Quarantined)
    }

    /// The writes that record a quarantined mail on the SR its subject token names,
    /// with a note to the SR's CSE; nothing when it names none (or the note cannot
    /// be made: the quarantine itself must not fail for it). Called with `decide_lock` held.
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

    /// Flags or moves every committed-but-unflagged mail of `mb` on the server.
    async fn settle_pending(&self, conn: &mut Connection, mb: &Mailbox, validity: u32) -> anyhow::Result<()> {
        let pending = self.store.pending(mb.store_key())?; // edge (issue 11): store key
        if pending.is_empty() {
            return Ok(());
        }
        let uids =
            |d: Disposition| pending.iter().filter(|p| p.uid_validity == validity && p.disposition == d).map(|p| p.uid).collect::<Vec<_>>();
        let processed = uids(Disposition::Processed);
        match &mb.processed_folder {
            Some(folder) => conn.move_to(&processed, folder).await?,
            None => conn.mark_seen(&processed).await?,
        }
        conn.move_to(&uids(Disposition::Quarantine), &mb.quarantine_folder).await?;
        for p in &pending {
            self.store.clear_pending(mb.store_key(), p)?;
        }
        Ok(())
    }

    /// Reads every new mail of `mb` once. Stops early (after the mail in hand) when `stop` is set.
    pub async fn cycle(&self, conn: &mut Connection, mb: &Mailbox, stop: &watch::Receiver<bool>) -> anyhow::Result<CycleStats> {
        let selected = conn.select(&mb.folder).await?;
        let state = self.store.mailbox_state(mb.store_key())?; // edge (issue 11): store key
        let after = match state {
            Some(s) if s.uid_validity == selected.uid_validity => s.last_uid,
            Some(s) => {
                warn!(mailbox = %mb.name, old = s.uid_validity, new = selected.uid_validity, "UIDVALIDITY changed: reading the folder again (duplicates are recognised)");
                self.store.reset_mailbox(mb.store_key(), selected.uid_validity)?;
                0
            }
            None => 0,
        };
        self.settle_pending(conn, mb, selected.uid_validity).await?;
        let mut stats = CycleStats::default();
        let uids = conn.uids_after(after).await?;
        let sizes = conn.sizes(&uids).await?;
        let max = self.setup().config.max_message_bytes as u64;
        let (too_big, fits): (Vec<_>, Vec<_>) = sizes.into_iter().partition(|(_, size)| *size > max);
        // Too large to fetch: the start of their headers still says who wrote and about what.
        let uids_too_big: Vec<u32> = too_big.iter().map(|(uid, _)| *uid).collect();
        let heads: std::collections::HashMap<u32, Vec<u8>> = conn.headers(&uids_too_big, 64 * 1024).await?.into_iter().collect();
        for (uid, size) in too_big {
            let reason = format!("message of {size} bytes is over max_message_bytes ({max}); left unparsed");
            let head = heads.get(&uid).map(Vec::as_slice).unwrap_or_default();
            let _guard = self.decide_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            self.quarantine(mb, Some((selected.uid_validity, uid)), &[], reason, Known::Headers(head), self.clock.now())?;
            stats.quarantined += 1;
        }
        for chunk in batches(&fits) {
            let fetched = conn.fetch(&chunk).await?;
            // Group commit for files: stage every original and attachment of the batch,
            // make them durable with one sync, and only then commit the records naming them.
            let fetched = match self.prepare(fetched) {
                Ok(f) => f,
                Err(e) => {
                    self.metrics.store(Some(e.to_string()));
                    return Err(e.into());
                }
            };
            self.store.sync_files()?;
            let mut failure = None;
            for (uid, raw, parsed) in fetched {
                if *stop.borrow() {
                    break;
                }
                let watch = crate::time::Stopwatch::start();
                let result = self.ingest(mb, selected.uid_validity, uid, &raw, parsed);
                self.metrics.mail_read(&mb.name, watch.seconds());
                match result {
                    Ok(Outcome::Processed) => stats.processed += 1,
                    Ok(Outcome::Duplicate) => stats.duplicates += 1,
                    Ok(Outcome::Quarantined) => stats.quarantined += 1,
                    Err(e) => {
                        error!(mailbox = %mb.name, uid, error = %e, "store write failed: the mail stays unflagged and is read again");
                        self.metrics.store(Some(e.to_string()));
                        failure = Some(e);
                        break;
                    }
                }
            }
            self.store.flush().await.context("flushing the store")?;
            self.outbox_ready.notify_one();
            self.settle_pending(conn, mb, selected.uid_validity).await?;
            if let Some(e) = failure {
                return Err(e.into());
            }
            if *stop.borrow() {
                break;
            }
        }
        self.metrics.polled(&mb.name, crate::time::wall_seconds());
        self.metrics.store(None);
        if stats.processed + stats.quarantined > 0 {
            info!(mailbox = %mb.name, processed = stats.processed, duplicates = stats.duplicates, quarantined = stats.quarantined, "cycle done");
        }
        Ok(stats)
    }

    /// Delivers every due outbox item once, over the pool, pass after pass, until
    /// none is due or `stop` is set (then after the pass in hand: a stopping daemon
    /// does not first work through a large outbox). Returns (sent, failed).
    ///
    /// Only durable items are sent (the store is flushed before the outbox is
    /// read), and each item leaves the outbox, flushed, as soon as the server
    /// accepted it: a crash can repeat at most the mails in flight.
    pub async fn deliver_due(&self, mailer: &Mailer, stop: &watch::Receiver<bool>) -> anyhow::Result<(usize, usize)> {
        let (mut sent, mut failed) = (0, 0);
        while !*stop.borrow() {
            self.store.flush().await?;
            let now = self.clock.now();
            let due = self.store.outbox_due(now, 64)?;
            if due.is_empty() {
                break;
            }
            let results: Vec<Result<bool, StoreError>> = futures_util::stream::iter(due)
                .map(|(key, item)| self.deliver_one(mailer, key, item, now))
                .buffer_unordered(self.setup().config.smtp.connections)
                .collect()
                .await;
            let mut deferred = false;
            for result in results {
                match result? {
                    true => sent += 1,
                    false => {
                        failed += 1;
                        deferred = true;
                    }
                }
            }
            if deferred {
                break;
            }
        }
        Ok((sent, failed))
    }

    /// Sends one outbox item and records the outcome; true when it was accepted.
    async fn deliver_one(&self, mailer: &Mailer, key: u64, mut item: OutboxItem, now: Timestamp) -> Result<bool, StoreError> {
        let span = info_span!("deliver", sr = item.sr, kind = ?item.kind, message_id = %item.message_id);
        async move {
            let mut result = mailer.send(&item.from, &item.to, &item.bytes).await;
            if let (Err(SendError::Permanent(e)), true) = (&result, item.to.len() > 1) {
                // One refused recipient must not sink the others: deliver one by one.
                warn!(error = %e, "refused as a whole; trying each recipient");
                let mut remaining = Vec::new();
                for rcpt in std::mem::take(&mut item.to) {
                    match mailer.send(&item.from, std::slice::from_ref(&rcpt), &item.bytes).await {
                        Ok(()) => {}
                        Err(SendError::Transient(e)) => {
                            warn!(%rcpt, error = %e, "recipient deferred");
                            remaining.push(rcpt);
                        }
                        Err(SendError::Permanent(e)) => error!(%rcpt, error = %e, "recipient refused permanently"),
                    }
                }
                result = if remaining.is_empty() { Ok(()) } else { Err(SendError::Transient("some recipients deferred".into())) };
                item.to = remaining;
            }
            match result {
                Ok(()) => {
                    self.store.outbox_remove(key)?;
                    self.store.flush().await?;
                    self.metrics.delivery(item.kind.template(), true);
                    debug!("delivered");
                    Ok(true)
                }
                Err(SendError::Transient(e)) if !self.expired(&item, now) => {
                    item.attempts += 1;
                    item.next_attempt_at = now + backoff(self.setup().config.smtp.retry_after, item.attempts);
                    warn!(error = %e, attempts = item.attempts, next = %item.next_attempt_at, "delivery deferred");
                    item.last_error = Some(e);
                    self.store.outbox_update(key, &item)?;
                    Ok(false)
                }
                Err(e) => {
                    error!(error = %e, to = ?item.to, "delivery failed permanently; mail abandoned");
                    self.metrics.delivery(item.kind.template(), false);
                    self.store.outbox_remove(key)?;
                    self.record_delivery_failure(&item, &e.to_string(), now)?;
                    self.store.flush().await?;
                    self.outbox_ready.notify_one();
                    Ok(false)
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Records a refused mail on its SR and tells the CSE.
    fn record_delivery_failure(&self, item: &OutboxItem, error: &str, now: Timestamp) -> Result<(), StoreError> {
        let _guard = self.decide_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(sr) = self.store.get_sr(item.sr)? else { return Ok(()) };
        let setup = self.setup();
        match gateway::delivery_failed(self.ctx_of(&setup), sr.clone(), &item.message_id, &item.to, error, now) {
            Ok(d) => match self.writes(Some(&sr), &d, None, now) {
                Ok(c) => self.store.commit(&c),
                Err(e) => {
                    error!(sr = item.sr, error = %e, "cannot record the delivery failure");
                    Ok(())
                }
            },
            Err(e) => {
                error!(sr = item.sr, error = %e, "cannot record the delivery failure");
                Ok(())
            }
        }
    }

    fn expired(&self, item: &OutboxItem, now: Timestamp) -> bool {
        let limit = SignedDuration::try_from(self.setup().config.smtp.retry_for).unwrap_or(SignedDuration::MAX);
        now.duration_since(item.queued_at) > limit
    }
}

/// A parsed mail, or why it cannot be read.
type Parsed = Result<Inbound, String>;

/// What is known of a mail being quarantined, besides its raw bytes.
#[derive(Clone, Copy)]
enum Known<'a> {
    /// It was parsed: its facts.
    Parsed(&'a Inbound),
    /// It could not be read as a whole: what its own headers say.
    Unread,
    /// It was too large to fetch: the first bytes of its headers.
    Headers(&'a [u8]),
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

/// Fetch batches: at most [`BATCH`] mails and about 64 MiB each, so memory stays bounded.
fn batches(sizes: &[(u32, u64)]) -> Vec<Vec<u32>> {
    const BYTES: u64 = 64 * 1024 * 1024;
    let mut out: Vec<Vec<u32>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for (uid, size) in sizes {
        if !current.is_empty() && (current.len() >= BATCH || bytes + size > BYTES) {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(*uid);
        bytes += size;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Delay before delivery attempt `n + 1`: `first`, doubling, capped at one hour, with up to 25% jitter.
fn backoff(first: Duration, attempts: u32) -> SignedDuration {
    let base = first.saturating_mul(1u32 << attempts.clamp(1, 12).saturating_sub(1)).min(Duration::from_secs(3600));
    SignedDuration::try_from(base + crate::time::jitter(base / 4)).unwrap_or(SignedDuration::from_secs(3600))
}

impl Gateway {
    fn store_facts(&self) -> StoreFacts {
        let now = self.clock.now();
        StoreFacts {
            outbox_depth: self.store.outbox_len() as u64,
            outbox_oldest_age: self
                .store
                .outbox_oldest()
                .ok()
                .flatten()
                .map(|t| now.duration_since(t).as_secs_f64().max(0.0))
                .unwrap_or(0.0),
            quarantined: self.store.quarantine_len() as u64,
            srs: self.store.sr_counts().unwrap_or_default(),
            writable: self.store.probe_write().is_ok(),
        }
    }
}

impl crate::io::http::Endpoints for Gateway {
    fn metrics(&self) -> String {
        self.metrics.render(&self.store_facts())
    }

    fn health(&self) -> Result<String, String> {
        // A mailbox is healthy when it is not failing and was read within three poll intervals (at least 10 s).
        let limits: Vec<(String, f64)> =
            self.setup().config.mailboxes.iter().map(|m| (m.name.clone(), (3.0 * m.poll_interval.as_secs_f64()).max(10.0))).collect();
        self.metrics.health(&limits, crate::time::wall_seconds(), &self.store_facts())
    }
}

/// `run --once`: read every mailbox, do the scheduled work, deliver the outbox, return.
///
/// Delivery runs beside ingestion (as in the daemon): the first acknowledgements
/// leave while later mails are still being read. A last pass after ingestion
/// picks up whatever the delivery task had not seen yet.
pub async fn run_once(gw: Arc<Gateway>) -> anyhow::Result<()> {
    watch_the_store(&gw)?;
    let mailer = Mailer::new(&gw.setup().config.smtp)?;
    let (stop_tx, stop) = watch::channel(false);
    let started = crate::time::Stopwatch::start();
    let delivery = {
        let (gw, mut stop) = (gw.clone(), stop.clone());
        tokio::spawn(async move {
            let tally = deliver_until_stopped(&gw, &mailer, &mut stop).await;
            (mailer, tally)
        })
    };
    let mut failures = Vec::new();
    for mb in &gw.setup().config.mailboxes {
        let result = async {
            let mut conn = imap::connect(mb).await?;
            let stats = gw.cycle(&mut conn, mb, &stop).await?;
            conn.logout().await;
            anyhow::Ok(stats)
        }
        .await;
        match result {
            Ok(stats) => info!(mailbox = %mb.name, processed = stats.processed, ingest_seconds = started.seconds(), "mailbox read"),
            Err(e) => {
                error!(mailbox = %mb.name, error = %e, "mailbox could not be read");
                failures.push(format!("{}: {e}", mb.name));
            }
        }
    }
    let scheduled = gw.run_due().await?;
    if scheduled > 0 {
        info!(scheduled, "scheduled work done");
    }
    let _ = stop_tx.send(true);
    let (mailer, (mut sent, mut failed)) = delivery.await.context("the delivery task failed")?;
    let (_, never) = watch::channel(false);
    let (last_sent, last_failed) = gw.deliver_due(&mailer, &never).await?;
    (sent, failed) = (sent + last_sent, failed + last_failed);
    info!(sent, failed, waiting = gw.store.outbox_len(), deliver_seconds = started.seconds(), "outbox delivered");
    gw.store.flush().await?;
    if failures.is_empty() { Ok(()) } else { anyhow::bail!("some mailboxes could not be read: {}", failures.join("; ")) }
}

/// Starts the [`crate::watchdog`]: a store write that has not completed after
/// `store_stall_limit` ends the process with status 75, for the service manager
/// (or the next cron run) to start it again.
fn watch_the_store(gw: &Gateway) -> anyhow::Result<()> {
    let limit = gw.setup().config.store_stall_limit;
    let store = gw.store.clone();
    let probe = move || store.probe_write().and_then(|()| store.flush_blocking()).is_ok();
    let on_wedged = |waited: Duration| {
        error!(
            waited_seconds = waited.as_secs(),
            status = crate::watchdog::WEDGED_EXIT_STATUS,
            "the store has not completed a write for {waited:?}: it is wedged; exiting for the service manager to restart srgate (nothing is lost: mail not yet durable is still unflagged and is read again)"
        );
        std::process::exit(crate::watchdog::WEDGED_EXIT_STATUS);
    };
    crate::watchdog::spawn(Duration::from_secs(10).min(limit / 4), limit, probe, on_wedged).context("cannot start the store watchdog")
}

/// The daemon: runs until SIGTERM/SIGINT, then finishes the mail in hand, flushes and returns.
pub async fn run(gw: Arc<Gateway>) -> anyhow::Result<()> {
    watch_the_store(&gw)?;
    let (stop_tx, stop) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    // edge (issue 11): the socket is bound (0600, or 0660 with control_socket_group) before
    // anything starts, so a socket that cannot be set up stops the daemon at once.
    let setup = gw.setup();
    let control = crate::io::control::ControlSocket::bind(&setup.config.control_socket(), setup.config.control_socket_group.clone())
        .context("cannot set up the control socket")?;
    tasks.spawn(control.serve(gw.store.clone(), stop.clone()));
    for mb in gw.setup().config.mailboxes.clone() {
        let (gw, stop) = (gw.clone(), stop.clone());
        let span = info_span!("mailbox", name = %mb.name);
        tasks.spawn(async move { watch_mailbox(gw, mb, stop).await }.instrument(span));
    }
    {
        let (gw, stop) = (gw.clone(), stop.clone());
        tasks.spawn(async move { deliver_forever(gw, stop).await }.instrument(info_span!("outbox")));
    }
    {
        let (gw, stop) = (gw.clone(), stop.clone());
        tasks.spawn(async move { schedule_forever(gw, stop).await }.instrument(info_span!("scheduler")));
    }
    {
        let (gw, stop) = (gw.clone(), stop.clone());
        tasks.spawn(async move { reload_on_hangup(gw, stop).await }.instrument(info_span!("reload")));
    }
    if let Some(addr) = gw.setup().config.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on metrics_listen {addr}"))?;
        info!(%addr, "serving /metrics and /healthz");
        let (endpoints, stop) = (gw.clone() as Arc<dyn crate::io::http::Endpoints>, stop.clone());
        tasks.spawn(crate::io::http::serve(listener, endpoints, stop));
    }
    info!(mailboxes = gw.setup().config.mailboxes.len(), "srgate running");
    wait_for_signal().await;
    info!("stopping: finishing the mail in hand");
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(Duration::from_secs(20), async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        warn!("some tasks did not stop within 20 s; aborting them");
        tasks.abort_all();
    }
    gw.store.flush().await?;
    info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}

/// One mailbox, forever: connect, read, wait (IDLE or poll), with capped backoff on errors.
async fn watch_mailbox(gw: Arc<Gateway>, mb: Mailbox, mut stop: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    while !*stop.borrow() {
        let result = async {
            let mut conn = imap::connect(&mb).await?;
            info!(idle = conn.idle_supported(), "connected");
            failures = 0;
            loop {
                gw.cycle(&mut conn, &mb, &stop).await?;
                if *stop.borrow() {
                    conn.logout().await;
                    return anyhow::Ok(());
                }
                if conn.idle_supported() {
                    let wait = mb.poll_interval.min(Duration::from_secs(25 * 60));
                    let (c, wake) = conn.idle(wait, &mut stop).await?;
                    conn = c;
                    if wake == Wake::Interrupted {
                        conn.logout().await;
                        return Ok(());
                    }
                } else {
                    tokio::select! {
                        _ = tokio::time::sleep(mb.poll_interval) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        }
        .await;
        if let Err(e) = result {
            gw.metrics.mailbox_failed(&mb.name, crate::metrics::health_reason(&e)); // edge (issue 11): a short reason only
            failures = failures.saturating_add(1);
            let delay = retry_delay(failures);
            warn!(error = %e, retry_in = ?delay, "mailbox failed; reconnecting");
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Capped exponential backoff with jitter: 1 s, 2 s, 4 s … 5 min.
fn retry_delay(failures: u32) -> Duration {
    let base = Duration::from_secs(1u64 << failures.min(9).saturating_sub(1)).min(Duration::from_secs(300));
    base + crate::time::jitter(base / 4)
}

async fn deliver_forever(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    match Mailer::new(&gw.setup().config.smtp) {
        Ok(mailer) => {
            deliver_until_stopped(&gw, &mailer, &mut stop).await;
        }
        Err(e) => error!(error = %e, "cannot set up SMTP; outbox will not be delivered"),
    }
}

/// Delivers the outbox pass after pass until `stop` is set, waking when new mail
/// is committed or the next retry falls due. Returns (sent, failed).
async fn deliver_until_stopped(gw: &Gateway, mailer: &Mailer, stop: &mut watch::Receiver<bool>) -> (usize, usize) {
    let (mut sent, mut failed) = (0, 0);
    loop {
        match gw.deliver_due(mailer, stop).await {
            Ok((s, f)) => (sent, failed) = (sent + s, failed + f),
            Err(e) => error!(error = %e, "outbox pass failed"),
        }
        if *stop.borrow() {
            return (sent, failed);
        }
        let wait = match gw.store.outbox_next_due() {
            Ok(Some(t)) => Duration::try_from(t.duration_since(gw.clock.now()))
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(50), Duration::from_secs(30)),
            _ => Duration::from_secs(30),
        };
        tokio::select! {
            _ = gw.outbox_ready.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Scheduled work, forever: wakes at the earliest due time in the index (at least every 30 s).
async fn schedule_forever(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    loop {
        let watch = crate::time::Stopwatch::start();
        match gw.run_due().await {
            Ok(0) => {}
            Ok(done) => info!(done, seconds = watch.seconds(), "scheduled pass"),
            Err(e) => error!(error = %e, "scheduled work failed"),
        }
        let wait = match gw.store.next_due() {
            Ok(Some(t)) => Duration::try_from(t.duration_since(gw.clock.now()))
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(100), Duration::from_secs(30)),
            _ => Duration::from_secs(30),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => break,
        }
    }
}

/// SIGHUP: reload rules, templates, policy and roster; a broken set is refused and logged.
async fn reload_on_hangup(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        warn!("cannot listen for SIGHUP; reload needs a restart");
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => match gw.reload() {
                Ok(()) => {
                    gw.metrics.reload(true);
                    info!("reloaded configuration, rules, policy and templates");
                }
                Err(errors) => {
                    gw.metrics.reload(false);
                    for e in &errors.0 {
                        error!(problem = %e, "reload refused");
                    }
                    error!(problems = errors.0.len(), "reload refused: the previous configuration stays in force");
                }
            },
            _ = stop.changed() => break,
        }
    }
}
