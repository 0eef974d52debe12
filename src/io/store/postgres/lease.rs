//! Mailbox leases: each mailbox is read by exactly one gateway at a time.
//!
//! The owner holds a PostgreSQL session advisory lock on the mailbox, on a
//! connection of its own (not the pool's). The lock lives exactly as long as
//! that session: when the gateway dies, its connection closes and the lock is
//! free at once; when the gateway hangs or loses the network, the server ends
//! the silent session after `failover_after` (`idle_session_timeout`), since the
//! owner speaks on it every `failover_after / 5` while it is alive. Others try
//! to take the lock every `failover_after / 5`, so a mailbox is read again
//! within `failover_after` of its owner's death.
//!
//! A gateway whose session failed while it held leases stands back for
//! `failover_after` before it tries for any lock again, so that a gateway with a
//! working connection takes its mailboxes over.
//!
//! Fencing: whoever takes the lock also raises the mailbox's `token` in
//! `mailbox_leases`; every commit for the mailbox checks, inside its
//! transaction and under a share lock on that row, that the token is still the
//! one this gateway took. A gateway that lost its lease cannot commit for the
//! mailbox any more, even before it notices the loss; it then stops reading it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::conn::Tx;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::super::StoreError;
use super::db;
use crate::config::Postgres as Settings;

/// The advisory lock of a mailbox (by its store key).
const LOCK: &str = "pg_try_advisory_lock(hashtextextended('srgate mailbox ' || $1, 0))";

/// This gateway's leases.
pub struct Leases {
    connect: Option<(postgres::Config, MakeRustlsConnect)>,
    gateway: String,
    failover_after: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The session holding the advisory locks.
    session: Option<postgres::Client>,
    /// Mailbox → the fencing token taken with its lock.
    held: BTreeMap<String, i64>,
    /// When the session last spoke.
    last_beat: Option<Instant>,
    /// When this gateway last lost its leases (its session failed).
    lost_at: Option<Instant>,
}

impl std::fmt::Debug for Leases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leases").field("gateway", &self.gateway).finish_non_exhaustive()
    }
}

impl Leases {
    /// No leases yet; the session is opened by the first [`Leases::own`].
    pub(super) fn new(settings: &Settings, gateway: String) -> Leases {
        Leases {
            connect: super::connect::client_config(settings).ok(),
            gateway,
            failover_after: settings.failover_after,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// How often the owner speaks on its session and the others try the locks.
    pub fn beat_every(&self) -> Duration {
        self.failover_after / 5
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes or keeps the lease on `mailbox`: true when this gateway may read it.
    pub fn own(&self, mailbox: &str) -> Result<bool, StoreError> {
        let mut inner = self.inner();
        self.beat_locked(&mut inner);
        if inner.held.contains_key(mailbox) {
            return Ok(inner.session.is_some());
        }
        // A gateway whose session failed stands back for failover_after: the others
        // (whose connections did not fail) take its mailboxes over first.
        if inner.lost_at.is_some_and(|t| t.elapsed() < self.failover_after) {
            return Ok(false);
        }
        // A session that died (ended by the server, the network) is replaced once.
        let mut tries = 0;
        let taken = loop {
            if inner.session.is_none() {
                inner.session = Some(self.open_session()?);
                inner.last_beat = Some(Instant::now());
            }
            let Some(session) = inner.session.as_mut() else { return Ok(false) };
            match session.query_one(&format!("SELECT {LOCK}"), &[&mailbox]).map(|r| r.get::<_, bool>(0)) {
                Ok(taken) => break taken,
                Err(e) => {
                    lost(&mut inner, &e);
                    tries += 1;
                    if tries > 1 {
                        return Err(db(e));
                    }
                }
            }
        };
        if !taken {
            return Ok(false);
        }
        let Some(session) = inner.session.as_mut() else { return Ok(false) };
        let token = session.query_one(
            "INSERT INTO mailbox_leases (mailbox, token, owner, taken_at) VALUES ($1, 1, $2, now())
             ON CONFLICT (mailbox) DO UPDATE SET token = mailbox_leases.token + 1, owner = EXCLUDED.owner, taken_at = now()
             RETURNING token",
            &[&mailbox, &self.gateway],
        );
        match token {
            Ok(row) => {
                let token: i64 = row.get(0);
                tracing::info!(mailbox, token, gateway = %self.gateway, "took the mailbox's lease");
                inner.held.insert(mailbox.to_string(), token);
                Ok(true)
            }
            Err(e) => {
                lost(&mut inner, &e);
                Err(db(e))
            }
        }
    }

    fn open_session(&self) -> Result<postgres::Client, StoreError> {
        let Some((config, tls)) = &self.connect else {
            return Err(StoreError::Database("the database URL does not parse".into()));
        };
        let mut session = config.connect(tls.clone()).map_err(db)?;
        // A gateway that stops speaking (hung, cut off) loses its locks after failover_after.
        let timeout = format!("SET idle_session_timeout = {}", self.failover_after.as_millis());
        if let Err(e) = session.batch_execute(&timeout) {
            tracing::warn!(error = %super::connect::describe(&e), "the database does not end silent sessions (PostgreSQL 14 or later does): a hung gateway keeps its mailboxes");
        }
        Ok(session)
    }

    /// Speaks on the session if it has been quiet for a beat, extending this gateway's
    /// claims (outbox items, scheduled work) by `failover_after`; a session that fails
    /// loses every lease at once.
    fn beat_locked(&self, inner: &mut Inner) {
        let quiet = inner.last_beat.is_none_or(|t| t.elapsed() >= self.beat_every());
        if !quiet {
            return;
        }
        if let Some(session) = inner.session.as_mut() {
            let seconds = self.failover_after.as_secs_f64();
            let extended = session
                .execute(
                    "UPDATE outbox SET claimed_until = now() + make_interval(secs => $2) WHERE claimed_by = $1",
                    &[&self.gateway, &seconds],
                )
                .and_then(|_| {
                    session.execute(
                        "UPDATE srs SET wake_claimed_until = now() + make_interval(secs => $2) WHERE wake_claimed_by = $1",
                        &[&self.gateway, &seconds],
                    )
                });
            match extended {
                Ok(_) => inner.last_beat = Some(Instant::now()),
                Err(e) => lost(inner, &e),
            }
        }
    }

    /// Keeps the leases and claims alive (called every [`Leases::beat_every`] by the
    /// daemon, which it keeps in the database's sight even without a mailbox); returns
    /// the mailboxes still held.
    pub fn beat(&self) -> Vec<String> {
        let mut inner = self.inner();
        if inner.session.is_none() {
            match self.open_session() {
                Ok(session) => inner.session = Some(session),
                Err(e) => tracing::warn!(error = %e, "cannot open the lease session"),
            }
        }
        self.beat_locked(&mut inner);
        inner.held.keys().cloned().collect()
    }

    /// The mailboxes this gateway holds.
    pub fn owned(&self) -> Vec<String> {
        self.inner().held.keys().cloned().collect()
    }

    /// True when this gateway holds `mailbox`'s lease (as far as it knows).
    pub fn holds(&self, mailbox: &str) -> bool {
        self.inner().held.contains_key(mailbox)
    }

    /// Gives a lease up (the mailbox task stopped, or found it lost).
    pub fn release(&self, mailbox: &str) {
        let mut inner = self.inner();
        if inner.held.remove(mailbox).is_some()
            && let Some(session) = inner.session.as_mut()
        {
            let _ = session.execute("SELECT pg_advisory_unlock(hashtextextended('srgate mailbox ' || $1, 0))", &[&mailbox]);
        }
    }

    /// Fails unless the lease on `mailbox` is still this gateway's: checked inside
    /// `tx`, under a share lock on the lease's row, so a takeover waits for this
    /// commit or makes it fail. A lost lease is forgotten.
    pub(super) fn check_fence(&self, tx: &mut Tx<'_>, mailbox: &str) -> Result<(), StoreError> {
        let token = self.fence_token(mailbox)?;
        let row = tx.query_opt("SELECT token FROM mailbox_leases WHERE mailbox = $1 FOR SHARE", &[&mailbox]).map_err(db)?;
        if row.map(|r| r.get::<_, i64>(0)) == Some(token) {
            return Ok(());
        }
        Err(self.fenced(mailbox, token))
    }

    /// The fencing token of this gateway's lease on `mailbox`; fails without a lease.
    pub(super) fn fence_token(&self, mailbox: &str) -> Result<i64, StoreError> {
        self.inner().held.get(mailbox).copied().ok_or_else(|| StoreError::Fenced(mailbox.to_string()))
    }

    /// The database holds another token for `mailbox` than this gateway's `token`:
    /// the lease is forgotten and the commit refused.
    pub(super) fn fenced(&self, mailbox: &str, token: i64) -> StoreError {
        tracing::error!(mailbox, token, "another gateway took this mailbox over: the commit is refused and the mailbox left to it");
        self.inner().held.remove(mailbox);
        StoreError::Fenced(mailbox.to_string())
    }
}

impl Drop for Leases {
    /// The session's client closes with a blocking call: on a thread of its own.
    fn drop(&mut self) {
        if let Some(session) = self.inner().session.take() {
            let _ = std::thread::Builder::new().name("srgate-db-close".into()).spawn(move || drop(session));
        }
    }
}

/// The session failed: every lock it held is gone (or soon will be).
fn lost(inner: &mut Inner, e: &postgres::Error) {
    if !inner.held.is_empty() {
        inner.lost_at = Some(Instant::now());
        tracing::error!(error = %super::connect::describe(e), mailboxes = ?inner.held.keys().collect::<Vec<_>>(), "the lease session failed: these mailboxes are no longer read here");
    }
    inner.session = None;
    inner.held.clear();
    inner.last_beat = None;
}
