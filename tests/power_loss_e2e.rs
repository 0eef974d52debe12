//! Issue 10, item 1: power cuts. srgate promises that a mail leaves the inbox (flagged `\Seen`,
//! or moved to `processed_folder`) only after its effect is on disk. Here its data directory lives
//! on LazyFS (tests/common/lazyfs.rs), which drops every byte not fsynced when the power is cut;
//! the mail stack does not.
//!
//! For each mode (flag `\Seen`; move to "Processed"), MAILS new customer mails, one per customer
//! address, wait in the support mailbox. The daemon works through them while the test cuts the
//! power CUTS times: first right after the server shows the first mail handled, then at random
//! points of the work. A cut: SIGKILL the daemon, drop every unsynced byte, remount, compare the
//! store with the server (every mail the server shows as handled must have its SR), start the
//! daemon again. Once all is handled (a last mail proves the daemon has read every earlier one)
//! and delivered, the daemon is stopped with SIGTERM, Postfix's queue drains, the power is cut once
//! more, and the end state is checked: one SR per customer, every customer acknowledged with their
//! own SR's number, every original mail intact in the store. Duplicate acknowledgements (a cut
//! between "accepted by SMTP" and "removed from the outbox" resends what was in flight) are
//! reported with their bound, not failed: a crash resends at most the mails in flight (one per SMTP
//! connection), but a power cut takes back every removal from the outbox since the last barrier,
//! which delivery runs once per pass: at most one pass (64 mails) per cut.
//!
//! The figures go to stderr (`--nocapture`). Environment: POWER_LOSS_MAILS (default 250),
//! POWER_LOSS_CUTS (default 2, at least 1) make the same test long (scripts/power-loss.sh);
//! POWER_LOSS_SEED fixes the random cut points; POWER_LOSS_CACHE_MB sizes LazyFS's cache.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::cli::Cli;
use common::lazyfs::LazyFs;
use common::{MailStack, stack, wait_until};

/// `[smtp] connections` in the daemon's config: at most this many mails are in flight per cut.
const CONNECTIONS: usize = 4;
/// Mails one delivery pass takes (src/daemon/delivery.rs): their removals from the outbox become
/// durable together at the pass's end, so a power cut resends at most one pass.
const PASS: usize = 64;
const POLL: Duration = Duration::from_millis(5);
/// The daemon's count of mails read since it started.
const MAILS_READ: &str = "srgate_mail_read_total{mailbox=\"support\"}";

/// The two modes share one mail stack and two cores: one at a time, so the times mean something.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn power_cuts_lose_no_mail_flagged_seen() {
    power_cuts(Mode::Seen);
}

#[test]
fn power_cuts_lose_no_mail_moved_to_processed() {
    power_cuts(Mode::Moved);
}

/// What "handled" looks like on the server.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Flagged `\Seen` in INBOX (no `processed_folder`).
    Seen,
    /// Moved to `processed_folder = "Processed"`.
    Moved,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Seen => "flag \\Seen",
            Mode::Moved => "move to Processed",
        }
    }
}

struct Settings {
    mails: usize,
    cuts: usize,
    seed: u64,
    cache_mb: u64,
}

fn settings() -> Settings {
    let number = |key: &str| -> Option<u64> {
        let v = std::env::var(key).ok()?;
        Some(v.trim().parse().unwrap_or_else(|_| panic!("{key}={v:?} is not a number")))
    };
    let mails = number("POWER_LOSS_MAILS").unwrap_or(250).max(1) as usize;
    let cuts = number("POWER_LOSS_CUTS").unwrap_or(2).max(1) as usize;
    let seed = number("POWER_LOSS_SEED").unwrap_or_else(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(Instant::now().elapsed().as_nanos());
        h.finish() % 1_000_000_007
    });
    // Above what the daemon writes between two cuts (the whole run, in the worst case): about
    // 10 KB per mail measured (at most 18 MB for 2,000 mails), with room to spare; LazyFS's cache
    // use is checked at every cut.
    let cache_mb = number("POWER_LOSS_CACHE_MB").unwrap_or(128.max(mails as u64 / 16));
    Settings { mails, cuts, seed, cache_mb }
}

/// xorshift64*: enough to spread the cut points, and reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

// ------------------------------------------------------------------------------ the desk

/// The daemon's config and log (outside the LazyFS mount) and its support mailbox.
struct Desk {
    dir: tempfile::TempDir,
    support: String,
    metrics_port: u16,
    mode: Mode,
}

impl Desk {
    fn new(ms: &MailStack, mode: Mode, data_dir: &Path) -> Desk {
        let (support, cse) = (ms.unique_domain_user("support"), ms.unique_domain_user("cse"));
        let dir = tempfile::tempdir().unwrap();
        let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let root = env!("CARGO_MANIFEST_DIR");
        let processed = match mode {
            Mode::Seen => "",
            Mode::Moved => "processed_folder = \"Processed\"\n",
        };
        let config = format!(
            "data_dir = \"{data}\"\ncontrol_socket = \"{sock}\"\nrules_dir = \"{root}/rules\"\ntemplates_dir = \"{root}/templates\"\n\
             support_address = \"{support}\"\nmetrics_listen = \"127.0.0.1:{metrics_port}\"\n\
             {smtp}retry_after = \"1s\"\nconnections = {CONNECTIONS}\n\
             [[mailbox]]\nname = \"support\"\n{imap}username = \"{support}\"\n\
             password = \"secret\"\npoll_interval = \"1s\"\n{processed}\
             [[cse]]\nname = \"Ann\"\nemail = \"{cse}\"\n",
            data = data_dir.display(),
            // LazyFS has no sockets: the control socket lives beside the config.
            sock = dir.path().join("srgate.sock").display(),
            // Over TLS, like every end-to-end test.
            smtp = ms.srgate_lines().smtp_section(),
            imap = ms.srgate_lines().mailbox_lines(),
        );
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
        Desk { dir, support, metrics_port, mode }
    }

    fn cli(&self) -> Cli {
        Cli::in_dir(self.dir.path())
    }

    fn start(&self) -> Daemon {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("daemon.log")).unwrap();
        Daemon(Some(self.cli().command().arg("run").env("SRGATE_LOG", "info").stdin(Stdio::null()).stderr(log).spawn().unwrap()))
    }

    fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The value of metric `name` (no labels), while the daemon runs.
    fn metric(&self, name: &str) -> Option<f64> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.metrics_port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    /// `(SR number, customer)` of every SR in the store, read with the daemon stopped (its control
    /// socket cannot exist on LazyFS, which has no mknod: `srgate sr list` opens the store itself).
    fn srs(&self) -> Result<Vec<(u64, String)>, String> {
        let out = self.cli().output(&["sr", "list", "--json"]);
        if !out.status.success() {
            return Err(format!("sr list: {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
        }
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("sr list: {e}"))?;
        Ok(list
            .as_array()
            .map(|a| a.iter().map(|s| (s["id"].as_u64().unwrap_or(0), s["customer"].as_str().unwrap_or("").to_lowercase())).collect())
            .unwrap_or_default())
    }
}

/// The running daemon; SIGKILLed when dropped (a failing test leaves nothing running on the mount).
struct Daemon(Option<Child>);

impl Daemon {
    /// SIGKILL, and reap it: nothing of it runs after this returns.
    fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Its exit status, if it ended on its own.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.0.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGTERM, then its exit status (SIGKILL and `None` after 60 s).
    fn stop(&mut self) -> Option<ExitStatus> {
        let mut c = self.0.take()?;
        let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
        let mut status = None;
        wait_until(Duration::from_secs(60), Duration::from_millis(50), || {
            status = c.try_wait().ok().flatten();
            status.is_some()
        });
        if status.is_none() {
            let _ = c.kill();
            let _ = c.wait();
        }
        status
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

// ------------------------------------------------------------------------------ the server's view

/// The sender of one of our mails (its bare `From:` address).
fn sender(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let from = text.lines().take_while(|l| !l.trim().is_empty()).find_map(|l| l.strip_prefix("From: "));
    from.unwrap_or_default().trim().to_lowercase()
}

/// What the server shows: each handled mail's sender with its bytes, and how many wait.
struct ServerView {
    handled: BTreeMap<String, Vec<u8>>,
    waiting: usize,
}

fn server_view(ms: &MailStack, desk: &Desk) -> ServerView {
    let inbox = ms.messages(&desk.support, "INBOX");
    let (handled, waiting): (Vec<_>, Vec<_>) = match desk.mode {
        Mode::Seen => inbox.into_iter().partition(|m| m.flags.iter().any(|f| f == "\\Seen")),
        Mode::Moved => (ms.messages(&desk.support, "Processed"), inbox),
    };
    ServerView { handled: handled.into_iter().map(|m| (sender(&m.raw), m.raw)).collect(), waiting: waiting.len() }
}

/// How many mails the server shows as handled (cheap: flags or a STATUS).
fn handled_count(ms: &MailStack, desk: &Desk) -> usize {
    match desk.mode {
        Mode::Seen => ms.flags(&desk.support, "INBOX").iter().filter(|(_, f)| f.iter().any(|f| f == "\\Seen")).count(),
        Mode::Moved => ms.count_messages(&desk.support, "Processed"),
    }
}

/// How many mails wait in INBOX, not yet handled.
fn waiting_count(ms: &MailStack, desk: &Desk) -> usize {
    match desk.mode {
        Mode::Seen => ms.flags(&desk.support, "INBOX").iter().filter(|(_, f)| !f.iter().any(|f| f == "\\Seen")).count(),
        Mode::Moved => ms.count_messages(&desk.support, "INBOX"),
    }
}

/// Postfix's queue is empty: everything srgate handed over has reached a mailbox.
fn postfix_idle(ms: &MailStack) -> bool {
    let spool = ms.dir.join("postfix/spool");
    ["incoming", "active", "deferred", "maildrop"].iter().all(|q| {
        fn empty(dir: &Path) -> bool {
            std::fs::read_dir(dir)
                .map_or(true, |entries| entries.flatten().all(|e| e.file_type().is_ok_and(|t| t.is_dir()) && empty(&e.path())))
        }
        empty(&spool.join(q))
    })
}

fn customer_mail(customer: &str, support: &str, n: usize) -> Vec<u8> {
    format!(
        "From: {customer}\r\nTo: {support}\r\nSubject: Power cut problem {n}\r\nMessage-ID: <{}>\r\n\r\nSomething is broken ({n}).\r\n",
        customer.replace('@', ".power@")
    )
    .into_bytes()
}

// ------------------------------------------------------------------------------ the run

/// One cut and what the store held right after it.
struct Cut {
    label: String,
    handled: usize,
    srs: usize,
    cache_percent: f64,
    missing: Vec<String>,
}

struct Run<'a> {
    ms: &'a MailStack,
    mode: Mode,
    fs: LazyFs,
    desk: Desk,
    daemon: Daemon,
    cuts: Vec<Cut>,
}

impl Run<'_> {
    /// SIGKILL, power cut, remount; then every mail the server shows as handled must have an SR.
    fn cut(&mut self, label: String) {
        self.daemon.kill();
        let cache_percent = self.fs.power_cut();
        self.fs.remount();
        let view = server_view(self.ms, &self.desk);
        let srs = self.desk.srs().unwrap_or_else(|e| self.fail(&format!("after {label} the store does not open: {e}")));
        let with_sr: BTreeSet<&str> = srs.iter().map(|(_, c)| c.as_str()).collect();
        let missing: Vec<String> = view.handled.keys().filter(|c| !with_sr.contains(c.as_str())).cloned().collect();
        eprintln!(
            "power-loss [{}]: {label}: {} handled on the server, {} SRs in the store, {} handled but missing from the store (cache {cache_percent:.1}% full)",
            self.mode.name(),
            view.handled.len(),
            srs.len(),
            missing.len()
        );
        self.cuts.push(Cut { label, handled: view.handled.len(), srs: srs.len(), cache_percent, missing });
    }

    /// Waits (polling) for `what`; fails with the figures so far when the daemon dies or time runs out.
    fn wait(&mut self, what: &str, timeout: Duration, mut done: impl FnMut(&Self) -> bool) {
        let (mut died, mut fs_died) = (None, None);
        let ok = wait_until(timeout, POLL, || {
            died = self.daemon.exited();
            fs_died = self.fs.died();
            died.is_some() || fs_died.is_some() || done(self)
        });
        if let Some(why) = fs_died {
            self.fail(&format!("{why}, while waiting for {what}; the run proves nothing: run it again"));
        }
        if let Some(status) = died {
            self.fail(&format!("the daemon exited on its own ({status}) while waiting for {what}"));
        }
        if !ok {
            self.fail(&format!("timed out after {timeout:?} waiting for {what}"));
        }
    }

    fn fail(&self, why: &str) -> ! {
        panic!(
            "power-loss [{}]: {why}\ncuts so far: {}\n--- daemon log\n{}\n--- LazyFS\n{}",
            self.mode.name(),
            self.cuts.iter().map(|c| format!("{}: {} missing", c.label, c.missing.len())).collect::<Vec<_>>().join(", "),
            self.desk.log_tail(30),
            self.fs.log_tail(10)
        );
    }
}

fn power_cuts(mode: Mode) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let s = settings();
    let began = Instant::now();
    let ms = stack();
    let fs = LazyFs::mount(s.cache_mb);
    let desk = Desk::new(ms, mode, &fs.path().join("data"));
    let mut rng = Rng(s.seed | 1);
    let customers: Vec<String> = (0..s.mails).map(|i| ms.unique_user_at(&format!("power{i}"), "example.com")).collect();
    std::thread::scope(|scope| {
        let size = customers.len().div_ceil(4);
        for (k, part) in customers.chunks(size).enumerate() {
            let (desk, offset) = (&desk, k * size);
            scope.spawn(move || {
                for (i, c) in part.iter().enumerate() {
                    ms.append(&desk.support, "INBOX", &customer_mail(c, &desk.support, offset + i));
                }
            });
        }
    });
    eprintln!(
        "power-loss [{}]: {} mails, {} cuts, seed {}, LazyFS cache {} MB, data_dir {}",
        mode.name(),
        s.mails,
        s.cuts,
        s.seed,
        s.cache_mb,
        fs.path().join("data").display()
    );

    let start = Instant::now();
    let daemon = desk.start();
    let mut run = Run { ms, mode, fs, desk, daemon, cuts: Vec::new() };
    let work = Duration::from_secs(120 + s.mails as u64 / 5);

    // The first cut: right after the server shows the first mail handled.
    run.wait("the first mail handled", work, |r| handled_count(r.ms, &r.desk) >= 1);
    run.cut("cut 1 (first mail handled)".into());
    run.daemon = run.desk.start();
    // The others: at random points of the remaining work, spread over it. How far the daemon got
    // is its own count of mails read since it started (a mail read again after a cut counts too),
    // or, when fewer are left to read than drawn (some were committed before the cut and only wait
    // to be flagged), the moment the last is handled. When nothing waits, a random moment of
    // 0.1-1.5 s (reading again, delivering, or idle).
    for k in 2..=s.cuts {
        let waiting = waiting_count(run.ms, &run.desk) as u64;
        let label = if waiting > 0 {
            let cuts_left = (s.cuts - k + 1) as u64;
            let target = 1 + rng.below(2 * waiting / (cuts_left + 1));
            let mut polls = 0;
            run.wait(&format!("{target} mails read (cut {k})"), work, |r| {
                polls += 1; // the metric at every poll, the server's view (dearer) at every 20th
                r.desk.metric(MAILS_READ).unwrap_or(0.0) >= target as f64 || (polls % 20 == 0 && waiting_count(r.ms, &r.desk) == 0)
            });
            format!("cut {k} (after {target} mails read, or all handled)")
        } else {
            let moment = 100 + rng.below(1400);
            std::thread::sleep(Duration::from_millis(moment)); // a random moment, not a condition
            format!("cut {k} ({moment} ms after the restart; no new mail)")
        };
        run.cut(label);
        run.daemon = run.desk.start();
    }

    // Done: nothing waits, then a last mail (highest UID) is handled too, so every earlier one
    // was read by the daemon since the last restart; and the outbox is empty.
    run.wait("every mail handled", work, |r| waiting_count(r.ms, &r.desk) == 0);
    let last = ms.unique_user_at("power-last", "example.com");
    ms.append(&run.desk.support, "INBOX", &customer_mail(&last, &run.desk.support, s.mails));
    run.wait("the last mail handled", work, |r| waiting_count(r.ms, &r.desk) == 0);
    run.wait("an empty outbox", work, |r| r.desk.metric("srgate_outbox_depth") == Some(0.0));
    let worked = start.elapsed();
    let sigterm = run.daemon.stop();
    if !wait_until(Duration::from_secs(120), Duration::from_millis(200), || postfix_idle(ms)) {
        run.fail("Postfix's queue did not drain within 120 s");
    }
    // One more cut after the clean stop: what the daemon left must be on disk too.
    run.cut("cut after the clean stop".into());

    // ------------------------------------------------------------------ the end state
    let view = server_view(ms, &run.desk);
    let srs = run.desk.srs().unwrap_or_else(|e| run.fail(&e));
    let mut sr_of: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (id, c) in &srs {
        sr_of.entry(c.as_str()).or_default().push(*id);
    }
    let everyone: Vec<&String> = customers.iter().chain(std::iter::once(&last)).collect();
    let never = everyone.iter().filter(|c| !sr_of.contains_key(c.as_str())).count();
    let several = everyone.iter().filter(|c| sr_of.get(c.as_str()).is_some_and(|v| v.len() > 1)).count();
    let strangers = srs.iter().filter(|(_, c)| !everyone.iter().any(|e| e.as_str() == c)).count();
    // Acknowledgements: how many each customer got, and those naming an SR that is not theirs.
    let acks: Vec<(usize, usize)> = std::thread::scope(|scope| {
        let sr_of = &sr_of;
        let parts: Vec<_> = everyone
            .chunks(everyone.len().div_ceil(4))
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|c| {
                            let mine = sr_of.get(c.as_str()).cloned().unwrap_or_default();
                            let got = ms.messages(c, "INBOX");
                            let wrong =
                                got.iter().filter(|m| sr_number(&common::read::subject(&m.raw)).is_none_or(|n| !mine.contains(&n))).count();
                            (got.len(), wrong)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts.into_iter().flat_map(|p| p.join().unwrap()).collect()
    });
    let acked = acks.iter().filter(|(n, _)| *n > 0).count();
    let duplicates: usize = acks.iter().map(|(n, _)| n.saturating_sub(1)).sum();
    let wrong_sr: usize = acks.iter().map(|(_, w)| w).sum();
    // The original of every handled mail, kept under its content hash, must be whole
    // (`srgate file get` checks the bytes against the hash; the daemon is stopped).
    let torn = view
        .handled
        .values()
        .filter(|raw| {
            let sha = srgate::mail::inbound::sha256_hex(raw);
            let out = run.desk.cli().output(&["file", "get", &sha]);
            !out.status.success() || srgate::mail::inbound::sha256_hex(&out.stdout) != sha
        })
        .count();

    let lost_at_cuts: BTreeSet<&String> = run.cuts.iter().flat_map(|c| &c.missing).collect();
    let cuts_made = run.cuts.len() - 1;
    let bound = cuts_made * PASS;
    let total = everyone.len();
    let mut failures = Vec::new();
    let mut fails = |bad: bool, what: String| {
        if bad {
            failures.push(what);
        }
    };
    fails(!lost_at_cuts.is_empty(), format!("{} mails handled on the server but missing from the store after a cut", lost_at_cuts.len()));
    fails(never > 0, format!("{never} mails never made an SR"));
    fails(several > 0, format!("{several} customers with more than one SR"));
    fails(strangers > 0, format!("{strangers} SRs of unknown customers"));
    fails(view.handled.len() != total || view.waiting > 0, format!("{} of {total} mails handled on the server", view.handled.len()));
    fails(acked < total, format!("{} customers without an acknowledgement", total - acked));
    fails(wrong_sr > 0, format!("{wrong_sr} acknowledgements naming an SR the store does not hold for that customer"));
    fails(torn > 0, format!("{torn} original mails lost or torn in the store's files"));
    fails(!sigterm.is_some_and(|s| s.success()), format!("SIGTERM exit status {sigterm:?}"));

    let m = mode.name();
    eprintln!("power-loss [{m}]: ==== figures ====");
    eprintln!("power-loss [{m}]: mails: {} (+1 last mail to prove the work done)", s.mails);
    eprintln!("power-loss [{m}]: power cuts while working: {cuts_made} (+1 after the clean stop); seed {}", s.seed);
    for c in &run.cuts {
        eprintln!(
            "power-loss [{m}]:   {}: handled on the server {}, SRs in the store {}, missing {} (cache {:.1}% full)",
            c.label,
            c.handled,
            c.srs,
            c.missing.len(),
            c.cache_percent
        );
    }
    eprintln!("power-loss [{m}]: mails lost at a cut (handled on the server, no SR in the store): {}", lost_at_cuts.len());
    eprintln!("power-loss [{m}]: mails never handled (no SR at the end): {never}");
    eprintln!("power-loss [{m}]: customers with more than one SR: {several}; SRs in the store: {}", srs.len());
    eprintln!("power-loss [{m}]: customers acknowledged: {acked}/{total}");
    eprintln!(
        "power-loss [{m}]: duplicate acknowledgements: {duplicates} (bound: {cuts_made} cuts x one delivery pass of {PASS} = {bound}: {})",
        if duplicates <= bound { "within" } else { "OVER" }
    );
    eprintln!("power-loss [{m}]: acknowledgements naming an SR the store does not hold for that customer: {wrong_sr}");
    eprintln!("power-loss [{m}]: original mails lost or torn in the store's files: {torn}/{}", view.handled.len());
    eprintln!("power-loss [{m}]: SIGTERM exit status: {sigterm:?}");
    eprintln!(
        "power-loss [{m}]: time: work done {:.1} s after the first start; whole test {:.1} s",
        worked.as_secs_f64(),
        began.elapsed().as_secs_f64()
    );
    eprintln!(
        "power-loss [{m}]: result: {}",
        if failures.is_empty() { "PASS".to_string() } else { format!("FAIL ({})", failures.join("; ")) }
    );
    assert!(failures.is_empty(), "power-loss [{m}]: {}\n--- daemon log\n{}", failures.join("; "), run.desk.log_tail(20));
}

/// N of the first `[SR#N]` in a subject.
fn sr_number(subject: &str) -> Option<u64> {
    let rest = &subject[subject.find("[SR#")? + 4..];
    rest[..rest.find(']')?].parse().ok()
}
