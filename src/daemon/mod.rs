//! The imperative shell: reads mailboxes, runs the pure core, commits, flags, delivers.
//!
//! One module per task, each a loop that ends when the stop signal fires:
//! - [`mailbox`]: one task per `[[mailbox]]`: connect, read new mail, wait (IDLE or poll);
//! - [`delivery`]: the outbox, over a pool of SMTP connections;
//! - [`scheduler`]: scheduled work from the due index (contact attempts, closures, …);
//! - [`credentials`]: OAuth2 tokens refreshed ahead of expiry, failing credentials told to the administrator;
//! - [`leases`]: with a shared store, the mailbox leases kept alive;
//! - [`desk`]: the daily digests (from the scheduler's pass) and SRs opened from the command line;
//! - [`signals`]: SIGTERM/SIGINT (stop) and SIGHUP (reload);
//! - the control socket ([`crate::io::control`]) and `/metrics` ([`crate::io::http`]).
//!
//! [`supervisor`] runs every task and starts it again when it panics. Async
//! tasks only wait on the network and on timers: everything that touches the
//! store, the disk or the CPU for long (parsing, deciding, committing, the
//! durability barrier) runs on tokio's blocking threads ([`Gateway::blocking`]),
//! so a busy mailbox never starves IDLE, delivery or `/healthz`.
//!
//! The order for every mail is fixed: fetch → store its files (durable) →
//! decide (pure) → commit SR + outbox + position + pending flag in one
//! transaction → durability barrier → flag or move on the server → forget the
//! pending flag. A crash between any two steps loses nothing: an uncommitted
//! mail is still unflagged and read again (the decision is deterministic and
//! deduplicated); a committed but unflagged one is flagged from the pending
//! list on the next pass.

mod ahead;
mod credentials;
mod delivery;
mod desk;
mod endpoints;
mod ingest;
mod leases;
mod mailbox;
mod scheduler;
mod signals;
mod supervisor;
mod writes;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::{Notify, watch};
use tracing::{error, info, info_span, warn};

use crate::gateway::Ctx;
use crate::io::control::ControlSocket;
use crate::io::smtp::Mailer;
use crate::io::store::Store;
use crate::metrics::Metrics;
use crate::setup::Setup;
use crate::time::Clock;

pub use desk::COMMAND_LINE;
pub use mailbox::CycleStats;

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
    /// Serializes decide+commit across mailbox tasks (an SR is changed by one mail
    /// at a time) on a store of this process alone (sled). A shared store (postgres)
    /// checks each commit against what its decision read instead, and the tasks run
    /// in parallel. Only ever taken on blocking threads.
    decide_lock: Mutex<()>,
    outbox_ready: Notify,
    /// Counters for `/metrics` and the health verdict.
    pub metrics: Metrics,
    /// DNS for verifying senders (`dns_resolver`; changes need a restart).
    authn: crate::io::authn::Verifier,
    /// The OAuth2 credentials' tokens (changes need a restart).
    credentials: crate::io::oauth::Credentials,
    /// With a shared store, this daemon's lock on its data directory (sled's store holds its own).
    _data_dir_lock: Option<std::fs::File>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("instance", &self.instance).finish_non_exhaustive()
    }
}

impl Gateway {
    /// Opens the store for a loaded setup.
    pub fn open(setup: Setup, clock: Clock) -> anyhow::Result<Gateway> {
        let store = Store::open_configured(&setup.config, Duration::from_secs(3))?;
        // One daemon per data directory, whatever the engine: its socket and tokens live there.
        let data_dir_lock = match store.is_shared() {
            true => Some(crate::io::store::lock_data_dir(&setup.config.data_dir, Duration::from_secs(3))?),
            false => None,
        };
        let instance = store.instance()?;
        let authn = crate::io::authn::Verifier::new(&setup.config);
        let credentials = crate::io::oauth::Credentials::new(&setup.config);
        Ok(Gateway {
            authn,
            credentials,
            config_path: setup.config.path.clone(),
            setup: std::sync::RwLock::new(Arc::new(setup)),
            store: Arc::new(store),
            instance,
            clock,
            decide_lock: Mutex::new(()),
            outbox_ready: Notify::new(),
            metrics: Metrics::default(),
            _data_dir_lock: data_dir_lock,
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
        Ctx { config: &s.config, templates: &s.templates, rules: &s.rules, policy: &s.policy, kb: &s.kb, instance: &self.instance }
    }

    /// Takes the decision lock (a panic while it was held does not poison it for good);
    /// none with a shared store, whose commits refuse a decision made on a stale read
    /// (see [`Gateway::deciding_again`]).
    fn decide_guard(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        if self.store.is_shared() {
            return None;
        }
        Some(self.decide_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Runs `decide_and_commit` again, up to 5 times, while its commit is refused
    /// because another gateway (or another task of this one) changed what the decision
    /// read: an SR, the SR number, the dedupe key ([`StoreError::Conflict`]).
    fn deciding_again<T>(
        &self,
        mut decide_and_commit: impl FnMut() -> Result<T, crate::io::store::StoreError>,
    ) -> Result<T, crate::io::store::StoreError> {
        let mut tries = 0;
        loop {
            match decide_and_commit() {
                Err(crate::io::store::StoreError::Conflict(sr)) if tries < 5 => {
                    tries += 1;
                    tracing::debug!(sr, tries, "changed meanwhile by another gateway or task: deciding again");
                }
                result => return result,
            }
        }
    }

    /// Runs `work` on one of tokio's blocking threads: store access, parsing,
    /// deciding and the durability barrier never run on the async workers.
    pub async fn blocking<T, F>(self: &Arc<Self>, work: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Gateway) -> T + Send + 'static,
    {
        let gw = self.clone();
        // The caller's span goes along: a log line from the blocking thread still names
        // its mailbox, SR or outbox item.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| work(&gw))).await.context("a blocking task failed")
    }

    /// How often a standby gateway tries to take a mailbox's lease (sled: never needed).
    fn lease_beat(&self) -> Duration {
        self.store.postgres().map(|pg| pg.leases().beat_every()).unwrap_or(Duration::from_secs(3))
    }

    /// How long a reading gateway goes without checking that it still holds the lease.
    fn lease_check(&self) -> Duration {
        self.store.postgres().map(|pg| pg.leases().beat_every() * 5).unwrap_or(Duration::MAX)
    }

    /// The durability barrier, off the runtime.
    async fn make_durable(self: &Arc<Self>) -> anyhow::Result<()> {
        self.blocking(|gw| gw.store.make_durable()).await?.context("making the store durable")
    }
}

/// `run --once`: read every mailbox, do the scheduled work, deliver the outbox, return.
///
/// Delivery runs beside ingestion (as in the daemon): the first acknowledgements
/// leave while later mails are still being read. A last pass after ingestion
/// picks up whatever the delivery task had not seen yet.
pub async fn run_once(gw: Arc<Gateway>) -> anyhow::Result<()> {
    endpoints::watch_the_store(&gw)?;
    let mailer = Mailer::new(&gw.setup().config.smtp, gw.smtp_tokens())?;
    let (stop_tx, stop) = watch::channel(false);
    let started = crate::time::Stopwatch::start();
    let delivery = {
        let (gw, mut stop) = (gw.clone(), stop.clone());
        tokio::spawn(async move {
            let tally = delivery::deliver_until_stopped(&gw, &mailer, &mut stop).await;
            (mailer, tally)
        })
    };
    let leases = {
        let (gw, stop) = (gw.clone(), stop.clone());
        tokio::spawn(leases::keep_leases(gw, stop))
    };
    let mut failures = Vec::new();
    for mb in &gw.setup().config.mailboxes {
        let key = mb.store_key().to_string();
        if !gw.blocking(move |gw| gw.store.own_mailbox(&key)).await?? {
            info!(mailbox = %mb.name, "another gateway reads this mailbox; left to it");
            continue;
        }
        let result = async {
            let mut conn = gw.connect_mailbox(mb).await?;
            let stats = mailbox::cycle(&gw, &mut conn, mb, &stop).await?;
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
    let scheduled = scheduler::run_due(&gw).await?;
    if scheduled > 0 {
        info!(scheduled, "scheduled work done");
    }
    let _ = stop_tx.send(true);
    let _ = leases.await;
    let (mailer, (mut sent, mut failed)) = delivery.await.context("the delivery task failed")?;
    let (_, never) = watch::channel(false);
    let (last_sent, last_failed) = delivery::deliver_due(&gw, &mailer, &never).await?;
    (sent, failed) = (sent + last_sent, failed + last_failed);
    info!(sent, failed, waiting = gw.store.outbox_len(), deliver_seconds = started.seconds(), "outbox delivered");
    gw.make_durable().await?;
    if failures.is_empty() { Ok(()) } else { anyhow::bail!("some mailboxes could not be read: {}", failures.join("; ")) }
}

/// The daemon: runs until SIGTERM/SIGINT, then finishes the mail in hand, makes
/// the store durable and returns.
pub async fn run(gw: Arc<Gateway>) -> anyhow::Result<()> {
    endpoints::watch_the_store(&gw)?;
    let (stop_tx, stop) = watch::channel(false);
    let mut tasks = supervisor::Supervisor::new(stop.clone(), gw.clone());
    {
        // The socket is bound (0600, or 0660 with control_socket_group) before anything
        // starts: a socket that cannot be set up stops the daemon at once. Started again
        // after a failure, the task binds it anew.
        let setup = gw.setup();
        let (path, group) = (setup.config.control_socket(), setup.config.control_socket_group.clone());
        let bound = ControlSocket::bind(&path, group.clone()).context("cannot set up the control socket")?;
        let bound = Arc::new(Mutex::new(Some(bound)));
        let store = gw.store.clone();
        let desk = gw.clone() as Arc<dyn crate::io::control::Desk>;
        tasks.spawn("control", move |stop| {
            let (path, group, store, desk) = (path.clone(), group.clone(), store.clone(), desk.clone());
            let ready = bound.lock().unwrap_or_else(|p| p.into_inner()).take();
            async move {
                match ready.map_or_else(|| ControlSocket::bind(&path, group), Ok) {
                    Ok(socket) => socket.serve(store, desk, stop).await,
                    Err(e) => error!(error = %e, "cannot set up the control socket"),
                }
            }
        });
    }
    for mb in gw.setup().config.mailboxes.clone() {
        let gw = gw.clone();
        let span = info_span!("mailbox", name = %mb.name);
        tasks.spawn_in(span, &format!("mailbox {}", mb.name), move |stop| mailbox::watch(gw.clone(), mb.clone(), stop));
    }
    {
        let gw = gw.clone();
        tasks.spawn_in(info_span!("outbox"), "delivery", move |stop| delivery::deliver_forever(gw.clone(), stop));
    }
    {
        let gw = gw.clone();
        tasks.spawn_in(info_span!("scheduler"), "scheduler", move |stop| scheduler::schedule_forever(gw.clone(), stop));
    }
    if gw.store.is_shared() {
        let gw = gw.clone();
        tasks.spawn_in(info_span!("leases"), "leases", move |stop| leases::keep_leases(gw.clone(), stop));
    }
    if !gw.setup().config.credentials.is_empty() {
        let gw = gw.clone();
        tasks.spawn_in(info_span!("credentials"), "credentials", move |stop| credentials::watch_credentials(gw.clone(), stop));
    }
    {
        let gw = gw.clone();
        tasks.spawn_in(info_span!("reload"), "reload", move |stop| signals::reload_on_hangup(gw.clone(), stop));
    }
    if let Some(addr) = gw.setup().config.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on metrics_listen {addr}"))?;
        info!(%addr, "serving /metrics and /healthz");
        let listener = Arc::new(listener);
        let endpoints = gw.clone() as Arc<dyn crate::io::http::Endpoints>;
        tasks.spawn("http", move |stop| crate::io::http::serve(listener.clone(), endpoints.clone(), stop));
    }
    info!(mailboxes = gw.setup().config.mailboxes.len(), "srgate running");
    signals::wait_for_stop().await;
    info!("stopping: finishing the mail in hand");
    let _ = stop_tx.send(true);
    if !tasks.wait(Duration::from_secs(20)).await {
        warn!("some tasks did not stop within 20 s; they were aborted");
    }
    gw.make_durable().await?;
    info!("stopped");
    Ok(())
}
