//! The PostgreSQL engine: one database shared by any number of gateways.
//!
//! Every gateway runs the same decisions as with sled; what changes is who may
//! write what:
//! - a mailbox is read by the gateway holding its lease ([`lease`]); every
//!   commit for a mailbox checks the lease's fencing token inside its
//!   transaction, so a gateway that lost the lease cannot commit for it;
//! - an SR's write checks that the stored SR is still the one the decision read
//!   (its row is locked for the transaction): two gateways never change one SR at
//!   once, the later one decides again ([`StoreError::Conflict`]);
//! - outbox items and scheduled work are claimed with `FOR UPDATE SKIP LOCKED`
//!   and a claim that runs out, so each is done by one gateway ([`outbox`]);
//! - SR numbers come from a sequence, moved past each number by the commit that
//!   creates its SR (two gateways opening an SR at once: the later one decides again).
//!
//! The schema is the versioned files in `migrations/` ([`schema`]); a gateway
//! refuses to open a database whose schema it does not know. The pool's
//! commits do not wait for the disk (`synchronous_commit = off`); the
//! durability barrier is one synchronous commit, which waits until the WAL is on
//! disk up to it, and so covers every commit before it, as sled's barrier does.
//!
//! The client is the synchronous `postgres` crate (tokio-postgres underneath)
//! behind an r2d2 pool: every store call already runs on a blocking thread
//! (see `Gateway::blocking`), so a blocking client keeps the engine a plain
//! function call like sled, with no second async path through the shell.

mod commit;
mod conn;
mod connect;
pub mod lease;
mod outbox;
mod read;
pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use jiff::Timestamp;
use postgres::types::Json;

use super::StoreError;
use crate::config::Postgres as Settings;
use conn::{Batch, params};

pub use connect::Pool;

/// The PostgreSQL store.
pub struct PgStore {
    /// The connections (taken out only by [`Drop`]).
    pool: Option<Pool>,
    data_dir: PathBuf,
    /// This gateway's name in claims and leases (host, process, a random tag).
    gateway: String,
    /// How long a claim (outbox item, scheduled work) lasts unless this gateway's
    /// heartbeat extends it: `failover_after`.
    claim_seconds: f64,
    leases: lease::Leases,
    outbox_len: AtomicU64,
    quarantine_len: AtomicU64,
    counts: Mutex<BTreeMap<(String, String), u64>>,
    /// When the oldest outbox item was queued, as last counted (`/metrics` reads it from memory).
    outbox_oldest: Mutex<Option<Timestamp>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("gateway", &self.gateway).finish_non_exhaustive()
    }
}

/// A database failure as a store error (the message never holds the URL).
pub(super) fn db(e: postgres::Error) -> StoreError {
    StoreError::Database(connect::describe(&e))
}

/// A pool failure as a store error.
fn pool_error(e: r2d2::Error) -> StoreError {
    StoreError::Database(format!("no database connection: {e}"))
}

/// An instant as PostgreSQL's `timestamptz`.
pub(super) fn at(t: Timestamp) -> SystemTime {
    SystemTime::try_from(t).unwrap_or(SystemTime::UNIX_EPOCH)
}

/// A `timestamptz` back as an instant.
pub(super) fn instant(t: SystemTime) -> Timestamp {
    Timestamp::try_from(t).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A stored JSON value decoded.
pub(super) fn decode<T: for<'de> serde::Deserialize<'de>>(what: &str, value: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| StoreError::Decode(what.into(), e.to_string()))
}

/// Our own record as JSON (serializing plain structs cannot fail).
pub(super) fn json<T: serde::Serialize>(value: &T) -> Json<serde_json::Value> {
    Json(serde_json::to_value(value).unwrap_or_default())
}

/// The next SR number, the round-robin turn and the loads (the CSEs and their open
/// SRs in the same order), as the columns of one row: spliced into [`DECISION_READS`].
macro_rules! new_sr_inputs_columns {
    () => {
        "(SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM sr_number),
         (SELECT value FROM srgate_meta WHERE key = 'rr'),
         (SELECT coalesce(array_agg(cse ORDER BY cse), '{}') FROM loads),
         (SELECT coalesce(array_agg(open ORDER BY cse), '{}') FROM loads)"
    };
}

/// The new-SR inputs in one query.
const NEW_SR_INPUTS: &str = concat!("SELECT ", new_sr_inputs_columns!());

/// A decision's first reads as the columns of one row, so that the server answers
/// them at once: the dedupe set's entry for the key ($1), the new-SR inputs, the
/// address of each automated mail sent to the addresses ($2) since $3, and an SR
/// number taken from the sequence when $4 asks for one. Alone in [`DECISION_READS`],
/// or after a commit's checks in the commit's statement (see `commit`).
macro_rules! decision_read_columns {
    () => {
        concat!(
            "(SELECT sr FROM seen WHERE key = $1), (SELECT fingerprint FROM seen WHERE key = $1), ",
            new_sr_inputs_columns!(),
            ", (SELECT coalesce(array_agg(address), '{}') FROM automated WHERE address = ANY($2) AND at >= $3),
             CASE WHEN $4::boolean THEN nextval('sr_number') END"
        )
    };
}

/// The columns of [`decision_read_columns`], for a commit's statement.
const DECISION_READ_COLUMNS: &str = decision_read_columns!();

/// How many columns [`decision_read_columns`] has.
const DECISION_READ_WIDTH: usize = 8;

/// A decision's first reads in one statement.
const DECISION_READS: &str = concat!("SELECT ", decision_read_columns!());

/// The request's addresses, lower case (as the automated mails are recorded).
fn lower_case(request: &super::ReadsRequest) -> Vec<String> {
    request.addresses.iter().map(|a| a.to_ascii_lowercase()).collect()
}

/// The parameters of [`DECISION_READ_COLUMNS`].
fn reads_params<'a>(request: &'a super::ReadsRequest, lower: &'a [String]) -> Vec<conn::Param<'a>> {
    params![&request.key, lower, at(request.since), request.reserve_sr_number]
}

/// The statement of a decision's first reads ([`PgStore::decision_reads`]).
fn reads_batch<'a>(request: &'a super::ReadsRequest, lower: &'a [String]) -> Batch<'a> {
    let mut batch = Batch::default();
    batch.query(DECISION_READS, reads_params(request, lower));
    batch
}

/// The decision's first reads from the answer to [`reads_batch`].
fn reads_answered(
    request: &super::ReadsRequest,
    lower: &[String],
    answers: Vec<Result<conn::Answer, postgres::Error>>,
) -> Result<super::DecisionReads, StoreError> {
    let answer = answers.into_iter().next().unwrap_or(Ok(conn::Answer::Changed(0))).map_err(db)?;
    let row = answer.rows().first().ok_or_else(|| StoreError::Database("the decision's reads answered no row".into()))?;
    Ok(reads_of_row(request, lower, row))
}

/// The decision's first reads from the last [`DECISION_READ_WIDTH`] columns of `row`.
fn reads_of_row(request: &super::ReadsRequest, lower: &[String], row: &postgres::Row) -> super::DecisionReads {
    let first = row.len().saturating_sub(DECISION_READ_WIDTH);
    let mut counts: std::collections::HashMap<String, u32> = lower.iter().map(|a| (a.clone(), 0)).collect();
    for address in row.get::<_, Vec<String>>(first + 6) {
        *counts.entry(address).or_default() += 1;
    }
    super::DecisionReads {
        seen: row.get::<_, Option<i64>>(first).map(|_| read::seen_entry(row, first)),
        inputs: new_sr_inputs(row, first + 2),
        since: request.since,
        automated: counts,
        reserved: row.get::<_, Option<i64>>(first + 7).map(|n| n as u64),
    }
}

/// The new-SR inputs from the columns of [`new_sr_inputs_columns`] starting at `first`.
fn new_sr_inputs(row: &postgres::Row, first: usize) -> super::NewSrInputs {
    let cses: Vec<String> = row.get(first + 2);
    let open: Vec<i64> = row.get(first + 3);
    super::NewSrInputs {
        next_id: row.get::<_, i64>(first) as u64,
        rr: row.get::<_, Option<String>>(first + 1).and_then(|v| v.parse().ok()).unwrap_or(0),
        loads: cses.into_iter().zip(open.into_iter().map(|n| n.max(0) as usize)).collect(),
    }
}

impl PgStore {
    /// Connects to the database `settings` name and checks that its schema is the one
    /// this srgate knows. `data_dir` still holds tokens and the control socket.
    pub fn open(settings: &Settings, data_dir: &Path) -> Result<PgStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::File(data_dir.to_path_buf(), e))?;
        schema::verify(settings)?;
        let pool = connect::pool(settings)?;
        // Unique per opened store (claims are told apart by it), readable in `mailbox_leases`.
        let gateway = format!("{}:{}:{:06x}", hostname(), std::process::id(), random_u64() & 0xff_ffff);
        let leases = lease::Leases::new(settings, gateway.clone());
        // The figures /metrics shows are counted by the daemon's first probe, not here:
        // a command (`sr show`) must not count a million SRs to start.
        let store = PgStore {
            pool: Some(pool),
            data_dir: data_dir.to_path_buf(),
            gateway,
            claim_seconds: settings.failover_after.as_secs_f64(),
            leases,
            outbox_len: AtomicU64::new(0),
            quarantine_len: AtomicU64::new(0),
            counts: Mutex::new(BTreeMap::new()),
            outbox_oldest: Mutex::new(None),
        };
        Ok(store)
    }

    /// A pooled connection.
    pub(super) fn client(&self) -> Result<r2d2::PooledConnection<connect::Manager>, StoreError> {
        self.pool.as_ref().ok_or_else(|| StoreError::Database("the store is closed".into()))?.get().map_err(pool_error)
    }

    /// This gateway's leases on mailboxes.
    pub fn leases(&self) -> &lease::Leases {
        &self.leases
    }

    /// This gateway's name in claims and leases.
    pub fn gateway(&self) -> &str {
        &self.gateway
    }

    /// The data directory (tokens, the control socket).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The durability barrier: a synchronous commit, which returns once the WAL is on
    /// disk up to it, and so every commit before it (this gateway's and any other's
    /// that it could see). The pool's own commits do not wait (see [`connect::pool`]).
    pub fn make_durable(&self) -> Result<(), StoreError> {
        let mut batch = Batch::default();
        batch.query("SELECT set_config('synchronous_commit', 'on', true)", Vec::new());
        batch.execute(
            "INSERT INTO srgate_meta (key, value) VALUES ('barrier ' || $1, now()::text)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            params![&self.gateway],
        );
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(db)?;
        tx.run(&batch).map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Nothing to do: a commit is in the server's hands when it returns (it survives a
    /// crash of this process; a crash of the server loses what the barrier did not cover).
    pub fn flush_to_os(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Reaches the database and refreshes the figures `/metrics` reads from memory
    /// (SRs by state and priority, outbox and quarantine sizes: other gateways change them too).
    pub fn probe(&self) -> Result<(), StoreError> {
        self.refresh_counts()
    }

    fn refresh_counts(&self) -> Result<(), StoreError> {
        let mut client = self.client()?;
        let rows = client.query("SELECT state, priority, count(*) FROM srs GROUP BY state, priority", &[]).map_err(db)?;
        let counts = rows.iter().map(|r| ((r.get::<_, String>(0), r.get::<_, String>(1)), r.get::<_, i64>(2) as u64)).collect();
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()) = counts;
        let row = client
            .query_one("SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM quarantine), (SELECT min(queued_at) FROM outbox)", &[])
            .map_err(db)?;
        self.outbox_len.store(row.get::<_, i64>(0) as u64, Ordering::Relaxed);
        self.quarantine_len.store(row.get::<_, i64>(1) as u64, Ordering::Relaxed);
        *self.outbox_oldest.lock().unwrap_or_else(|p| p.into_inner()) = row.get::<_, Option<SystemTime>>(2).map(instant);
        Ok(())
    }

    /// SRs by (state, priority), as last counted.
    pub fn sr_counts(&self) -> Vec<(String, String, u64)> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.iter().map(|((s, p), n)| (s.clone(), p.clone(), *n)).collect()
    }

    /// Number of quarantine records, as last counted.
    pub fn quarantine_len(&self) -> u64 {
        self.quarantine_len.load(Ordering::Relaxed)
    }

    /// When the oldest outbox item was queued, as last counted (every gateway's items).
    pub fn outbox_oldest(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(*self.outbox_oldest.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Number of outbox items, as last counted.
    pub fn outbox_len(&self) -> u64 {
        self.outbox_len.load(Ordering::Relaxed)
    }

    /// This store's instance tag (made once, random, shared by every gateway).
    pub fn instance(&self) -> Result<String, StoreError> {
        let mut client = self.client()?;
        let tag = format!("{:012x}", random_u64() & 0xffff_ffff_ffff);
        client.execute("INSERT INTO srgate_meta (key, value) VALUES ('instance', $1) ON CONFLICT (key) DO NOTHING", &[&tag]).map_err(db)?;
        let row = client.query_one("SELECT value FROM srgate_meta WHERE key = 'instance'", &[]).map_err(db)?;
        Ok(row.get(0))
    }

    /// Sets the instance tag, SR counter and round-robin turn (a restore).
    pub fn restore_meta(&self, instance: &str, next_sr: u64, rr: u64) -> Result<(), StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(db)?;
        for (key, value) in [("instance", instance.to_string()), ("rr", rr.to_string())] {
            tx.execute(
                "INSERT INTO srgate_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&key, &value],
            )
            .map_err(db)?;
        }
        tx.execute("SELECT setval('sr_number', $1, false)", &[&(next_sr.max(crate::sr::FIRST_SR) as i64)]).map_err(db)?;
        tx.commit().map_err(db)
    }

    /// The number the next SR gets: the `sr_number` sequence's next value, read without
    /// taking it. The commit that creates the SR moves the sequence past it; when two
    /// gateways open an SR at the same moment, the second commit finds the number taken
    /// and its mail is decided again with the next one. Numbers stay gapless.
    pub fn next_sr_id(&self) -> Result<u64, StoreError> {
        let row = self
            .client()?
            .query_one("SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM sr_number", &[])
            .map_err(db)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    /// What the dedupe set knows of the request's key, the new-SR inputs, the automated
    /// mails each of its addresses got in the window and, when asked, an SR number
    /// taken from the sequence: one round trip.
    pub fn decision_reads(&self, request: &super::ReadsRequest) -> Result<super::DecisionReads, StoreError> {
        let lower = lower_case(request);
        let answers = self.client()?.pipeline(&reads_batch(request, &lower)).map_err(db)?;
        reads_answered(request, &lower, answers)
    }

    /// Gives `number` back to the sequence when it is still the last one taken (the
    /// next SR gets it); otherwise another gateway took a number since, and it stays
    /// unused.
    pub fn give_back_sr_number(&self, number: u64) -> Result<(), StoreError> {
        self.client()?
            .execute("SELECT setval('sr_number', $1, false) FROM sr_number WHERE last_value = $1 AND is_called", &[&(number as i64)])
            .map_err(db)?;
        Ok(())
    }

    /// The loads, the round-robin turn and the next SR number in one query.
    pub fn new_sr_inputs(&self) -> Result<super::NewSrInputs, StoreError> {
        let row = self.client()?.query_one(NEW_SR_INPUTS, &[]).map_err(db)?;
        Ok(new_sr_inputs(&row, 0))
    }

    /// Takes the `sr_number` sequence's next value (see [`super::Store::take_sr_number`]).
    pub fn take_sr_number(&self) -> Result<u64, StoreError> {
        let row = self.client()?.query_one("SELECT nextval('sr_number')", &[]).map_err(db)?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    /// The next round-robin turn.
    pub fn rr_turn(&self) -> Result<u64, StoreError> {
        let row = self.client()?.query_opt("SELECT value FROM srgate_meta WHERE key = 'rr'", &[]).map_err(db)?;
        Ok(row.and_then(|r| r.get::<_, String>(0).parse().ok()).unwrap_or(0))
    }

    /// The last day the daily digests went out.
    pub fn digest_day(&self) -> Result<Option<jiff::civil::Date>, StoreError> {
        let row = self.client()?.query_opt("SELECT value FROM srgate_meta WHERE key = 'digest_day'", &[]).map_err(db)?;
        Ok(row.and_then(|r| r.get::<_, String>(0).parse().ok()))
    }
}

impl Drop for PgStore {
    /// A postgres client closes its connection with a blocking call that must not run
    /// on an async worker (a store may be dropped there): the pool goes on a thread.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::Builder::new().name("srgate-db-close".into()).spawn(move || drop(pool));
        }
    }
}

/// This machine's name, for the gateway's name in leases and claims.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "gateway".into())
}

/// A random number (std's hasher keys are seeded from the OS's randomness).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}
