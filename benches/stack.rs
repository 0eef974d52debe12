//! The benchmark harness on the real local stack (Dovecot + Postfix on loopback).
//! Run with `scripts/bench.sh` (or `cargo bench --bench stack`); one line per figure.
//!
//! - backlog: `BENCH_MAILS` (10,000) mixed mails already in the mailbox (70% new, 30%
//!   replies, 1 to 50 KB, 10% with an attachment). Phase by phase on one store: ingestion
//!   alone (`srgate run --once` with SMTP unreachable), then delivery alone of the outbox it
//!   filled; then end to end on a fresh store (`srgate run --once`, delivery beside
//!   ingestion) until every SR is committed and every mail it causes accepted by SMTP.
//!   Beside them, in the same run, a plain IMAP client fetching the same mails (UID FETCH
//!   BODY.PEEK[] in batches of 200) and a plain SMTP client submitting as many mails of the
//!   same sizes over the same number of connections.
//! - latency: `BENCH_LATENCY` (500) mails sent one by one to an idle daemon: SMTP accept of
//!   the customer's mail to SMTP accept of the acknowledgement, beside the floor measured in
//!   the same run: when a plain IMAP client in IDLE on the same mailbox hears of the mail.
//! - scale: a store of `BENCH_SCALE` (1,000,000) SRs made with the library's own code paths:
//!   start-up time, `sr show`, a scheduled-work pass with 10,000 due SRs, resident memory,
//!   bytes on disk per SR.
//!
//! - peer: Request Tracker 5 beside srgate on the same `BENCH_PEER_MAILS` (1,000) mails of
//!   the backlog: srgate end to end (`run --once`, every mail read, decided, committed and
//!   every acknowledgement and notification accepted by SMTP) against `rt-mailgate` fed one
//!   process per mail, `BENCH_PEER_WORKERS` (2) at a time, as an MTA would
//!   (`scripts/rt-peer.sh`, which installs Debian's `request-tracker5` with SQLite when
//!   missing); prints both rates and their ratio. RT threads by its own subject tag only, so
//!   its copy of each reply carries the tag of the ticket its original opened.
//!
//! - flat: the cost of one more customer reply on a long SR, through the real path
//!   (`run --once`, SMTP unreachable): `BENCH_FLAT_MAILS` (200) replies, each to its own SR
//!   that has one message, against as many replies to one SR that already has 1,000.
//!
//! Set `BENCH_ONLY=backlog,latency,scale,peer,flat` to run a subset (`ingestion`: the backlog
//! only as far as ingestion alone), `BENCH_STORE_CACHE_MB=16` to give
//! the daemon another `store_cache_mb`, `BENCH_STORE_LINE='store = { engine = "postgres", … }'`
//! to run it on a (migrated) PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The srgate binary measured: this build's, or `BENCH_SRGATE_BIN` (e.g. an older release,
/// to compare side by side on the same stack).
fn bin() -> String {
    std::env::var("BENCH_SRGATE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_srgate").to_string())
}
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Stack {
    dir: PathBuf,
    imap: u16,
    smtp: u16,
}

impl Stack {
    fn start() -> Stack {
        let dir = PathBuf::from(format!("/tmp/srgate-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (imap, smtp) = (free_port(), free_port());
        let out = Command::new(format!("{ROOT}/scripts/mailstack.sh"))
            .args(["start", dir.join("stack").to_str().unwrap()])
            .env("MAILSTACK_IMAP_PORT", imap.to_string())
            .env("MAILSTACK_SMTP_PORT", smtp.to_string())
            .env("MAILSTACK_IMAPS_PORT", free_port().to_string())
            .env("MAILSTACK_SMTPS_PORT", free_port().to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "mail stack: {}", String::from_utf8_lossy(&out.stderr));
        Stack { dir, imap, smtp }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new(format!("{ROOT}/scripts/mailstack.sh")).args(["stop", self.dir.join("stack").to_str().unwrap()]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A tiny blocking IMAP client: enough to append, fetch in batches and IDLE.
struct Imap {
    r: BufReader<TcpStream>,
    w: TcpStream,
    tag: u32,
}

impl Imap {
    fn login(port: u16, user: &str) -> Imap {
        let w = TcpStream::connect(("127.0.0.1", port)).unwrap();
        w.set_nodelay(true).unwrap();
        let mut c = Imap { r: BufReader::new(w.try_clone().unwrap()), w, tag: 0 };
        let mut greeting = String::new();
        c.r.read_line(&mut greeting).unwrap();
        c.cmd(&format!("LOGIN \"{user}\" \"secret\""));
        c
    }

    /// Sends a command; returns the literal bytes received before the tagged OK.
    fn cmd(&mut self, cmd: &str) -> Vec<Vec<u8>> {
        self.tag += 1;
        let tag = format!("b{}", self.tag);
        write!(self.w, "{tag} {cmd}\r\n").unwrap();
        self.read_until_tag(&tag)
    }

    fn read_until_tag(&mut self, tag: &str) -> Vec<Vec<u8>> {
        let mut literals = Vec::new();
        loop {
            let mut line = Vec::new();
            self.r.read_until(b'\n', &mut line).unwrap();
            if line.is_empty() {
                panic!("IMAP connection closed");
            }
            let text = String::from_utf8_lossy(&line);
            if let Some(n) = text
                .trim_end()
                .strip_suffix('}')
                .and_then(|t| t.rsplit('{').next())
                .and_then(|n| n.trim_end_matches('+').parse::<usize>().ok())
            {
                let mut lit = vec![0; n];
                self.r.read_exact(&mut lit).unwrap();
                literals.push(lit);
                continue;
            }
            if text.starts_with(&format!("{tag} ")) {
                assert!(text[tag.len() + 1..].starts_with("OK"), "{text}");
                return literals;
            }
        }
    }

    fn append(&mut self, folder: &str, raw: &[u8]) {
        self.tag += 1;
        let tag = format!("b{}", self.tag);
        write!(self.w, "{tag} APPEND {folder} {{{}+}}\r\n", raw.len()).unwrap();
        self.w.write_all(raw).unwrap();
        self.w.write_all(b"\r\n").unwrap();
        self.read_until_tag(&tag);
    }
}

/// A tiny blocking SMTP client; `send` returns when the server accepted the mail.
struct Smtp {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Smtp {
    fn connect(port: u16) -> Smtp {
        let w = TcpStream::connect(("127.0.0.1", port)).unwrap();
        w.set_nodelay(true).unwrap();
        let mut c = Smtp { r: BufReader::new(w.try_clone().unwrap()), w };
        c.expect("220");
        c.line("EHLO bench.example.com", "250");
        c
    }

    fn expect(&mut self, code: &str) {
        loop {
            let mut l = String::new();
            self.r.read_line(&mut l).unwrap();
            assert!(l.starts_with(code), "expected {code}, got {l}");
            if l.as_bytes().get(3) != Some(&b'-') {
                return;
            }
        }
    }

    fn line(&mut self, l: &str, code: &str) {
        write!(self.w, "{l}\r\n").unwrap();
        self.expect(code);
    }

    fn send(&mut self, from: &str, to: &str, raw: &[u8]) {
        self.line(&format!("MAIL FROM:<{from}>"), "250");
        self.line(&format!("RCPT TO:<{to}>"), "250");
        self.line("DATA", "354");
        self.w.write_all(raw).unwrap();
        self.line("\r\n.", "250");
    }
}

/// Whether mail `i` of the backlog answers an earlier one (30%).
fn is_reply(i: usize) -> bool {
    i % 10 >= 7 && i >= 10
}

/// Mail `i` of the backlog: 70% new, 30% replies to an earlier new mail; 1 to 50 KB; 10% with an attachment.
fn backlog_mail(i: usize) -> Vec<u8> {
    let size = 1024 + (i * 7919) % (49 * 1024);
    let filler = "Lorem ipsum dolor sit amet, the printer on floor two prints blank pages again.\r\n";
    let body: String = filler.repeat(size / filler.len() + 1)[..size].to_string();
    let reply = is_reply(i);
    let (from, subject, threading) = if reply {
        let original = i - 7;
        (
            format!("customer{original}@example.com"),
            "Re: Problem report".to_string(),
            format!("In-Reply-To: <bench-{original}@example.com>\r\n"),
        )
    } else {
        (format!("customer{i}@example.com"), format!("Problem report {i}"), String::new())
    };
    let head = format!(
        "From: Customer <{from}>\r\nTo: backlog@example.test\r\nSubject: {subject}\r\nMessage-ID: <bench-{i}@example.com>\r\n{threading}MIME-Version: 1.0\r\n"
    );
    if i % 10 == 3 {
        let attachment = "QkVOQ0g=".repeat(size / 16 + 1);
        format!("{head}Content-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\nContent-Type: text/plain\r\n\r\n{}\r\n--bb\r\nContent-Type: application/octet-stream; name=\"log{i}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{attachment}\r\n--bb--\r\n", &body[..body.len() / 2]).into_bytes()
    } else {
        format!("{head}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").into_bytes()
    }
}

fn config(stack: &Stack, dir: &Path, support: &str) -> PathBuf {
    config_smtp(stack, dir, support, stack.smtp)
}

/// The config with SMTP at `smtp` (a closed port keeps the outbox filling).
fn config_smtp(stack: &Stack, dir: &Path, support: &str, smtp: u16) -> PathBuf {
    let path = dir.join("srgate.toml");
    let text = format!(
        "data_dir = \"data\"\nrules_dir = \"{ROOT}/rules\"\ntemplates_dir = \"{ROOT}/templates\"\nsupport_address = \"{support}\"\n[smtp]\nhost = \"127.0.0.1\"\nport = {smtp}\nconnections = 4\nretry_after = \"1s\"\n[[mailbox]]\nname = \"support\"\nhost = \"127.0.0.1\"\nport = {}\nusername = \"{support}\"\npassword = \"secret\"\n[[cse]]\nname = \"Sam\"\nemail = \"cse1@example.test\"\n[[cse]]\nname = \"Alex\"\nemail = \"cse2@example.test\"\n",
        stack.imap
    );
    // BENCH_STORE_CACHE_MB sets the daemon's `store_cache_mb` (default: srgate's default).
    let text = match std::env::var("BENCH_STORE_CACHE_MB") {
        Ok(mb) => format!("store_cache_mb = {mb}\n{text}"),
        Err(_) => text,
    };
    // BENCH_STORE_LINE: a top-level `store = { engine = "postgres", url = … }` line (a migrated
    // database: scripts/bench-engines.sh makes one), to measure the PostgreSQL engine.
    let text = match std::env::var("BENCH_STORE_LINE") {
        Ok(line) => format!("{line}\n{text}"),
        Err(_) => text,
    };
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn json_logs(stderr: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stderr).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

fn field(logs: &[serde_json::Value], message: &str, key: &str) -> Option<f64> {
    logs.iter().find(|l| l["fields"]["message"] == message).and_then(|l| l["fields"][key].as_f64())
}

/// The backlog; with `full` false, only as far as ingestion alone.
fn backlog(stack: &Stack, full: bool) {
    let n = env_usize("BENCH_MAILS", 10_000);
    let support = "backlog@example.test";
    let mut imap = Imap::login(stack.imap, support);
    let t = Instant::now();
    for i in 0..n {
        imap.append("INBOX", &backlog_mail(i));
    }
    eprintln!("(backlog: {n} mails appended in {:.1} s)", t.elapsed().as_secs_f64());

    // The limit beside it: a plain IMAP client fetching the same mails in batches.
    imap.cmd("EXAMINE INBOX");
    let t = Instant::now();
    let mut bytes = 0;
    for start in (1..=n).step_by(200) {
        let lits = imap.cmd(&format!("UID FETCH {start}:{} (BODY.PEEK[])", (start + 199).min(n)));
        bytes += lits.iter().map(Vec::len).sum::<usize>();
    }
    let fetch_secs = t.elapsed().as_secs_f64();
    let fetch_rate = n as f64 / fetch_secs;
    println!("backlog plain IMAP fetch: {n} mails ({:.0} MB) in {fetch_secs:.2} s: {fetch_rate:.0} mails/s", bytes as f64 / 1e6);

    // Phase by phase, on one store: ingestion alone (SMTP unreachable, so the outbox
    // only fills), then delivery alone of that outbox.
    let phases = stack.dir.join("backlog-phases");
    let unreachable = free_port();
    let (logs, peak) = run_once_peak(&config_smtp(stack, &phases, support, unreachable), "2026-03-03T09:30:00Z");
    let ingest = field(&logs, "mailbox read", "ingest_seconds").unwrap_or(f64::NAN);
    println!(
        "backlog srgate ingestion (mailbox -> SR committed and mail flagged, SMTP unreachable): {ingest:.2} s: {:.0} mails/s, {:.0}% of the plain fetch rate; peak resident memory {peak:.0} MB",
        n as f64 / ingest,
        100.0 * (n as f64 / ingest) / fetch_rate
    );
    if !full {
        return;
    }
    let logs = run_once(&config(stack, &phases, support), "2026-03-03T09:30:30Z");
    let deliver = field(&logs, "outbox delivered", "deliver_seconds").unwrap_or(f64::NAN);
    let sent = field(&logs, "outbox delivered", "sent").unwrap_or(0.0) as usize;
    let outbox_rate = sent as f64 / deliver;

    // The limit beside the outbox: a plain SMTP client submitting as many mails, to as
    // many distinct new recipients, of the same sizes, over the same number of connections
    // (4): per mail of the backlog a copy for a CSE (the notification carries the
    // customer's text and attachments), and per new mail a short acknowledgement to a
    // customer address the server has not seen before (Dovecot creates its mailbox, as it
    // did for srgate's customers).
    let ack = format!("Content-Type: text/plain\r\n\r\n{}\r\n", "We have received your request.\r\n".repeat(30)).into_bytes();
    let plain: Vec<(String, Vec<u8>)> = (0..n)
        .flat_map(|i| {
            let copy = (format!("plain-cse{}@example.test", i % 2 + 1), backlog_mail(i));
            std::iter::once(copy).chain((!is_reply(i)).then(|| (format!("plain-customer{i}@example.com"), ack.clone())))
        })
        .take(sent)
        .collect();
    let plain = std::sync::Arc::new(plain);
    eprintln!("(backlog: Postfix's queue drained in {:.1} s)", drain_queue(stack));
    let t = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|c| {
            let (port, plain) = (stack.smtp, plain.clone());
            std::thread::spawn(move || {
                let mut smtp = Smtp::connect(port);
                for (to, raw) in plain.iter().skip(c).step_by(4) {
                    smtp.send("support@example.test", to, raw);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let smtp_rate = sent as f64 / t.elapsed().as_secs_f64();
    println!(
        "backlog plain SMTP submit: {sent} mails of the same sizes to as many new recipients over 4 connections: {smtp_rate:.0} mails/s"
    );
    println!(
        "backlog srgate outbox delivery: {sent} mails in {deliver:.2} s: {outbox_rate:.0} mails/s, {:.0}% of the plain SMTP rate",
        100.0 * outbox_rate / smtp_rate
    );

    // End to end, as in production: a fresh store reads the same mailbox with delivery
    // running beside ingestion.
    eprintln!("(backlog: Postfix's queue drained in {:.1} s)", drain_queue(stack));
    let t = Instant::now();
    let cfg = config(stack, &stack.dir.join("backlog"), support);
    let (logs, peak) = run_once_peak(&cfg, "2026-03-03T09:30:00Z");
    let total = t.elapsed().as_secs_f64();
    let sent = field(&logs, "outbox delivered", "sent").unwrap_or(0.0);
    let ingest = field(&logs, "mailbox read", "ingest_seconds").unwrap_or(f64::NAN);
    let srs = sr_count(&cfg);
    println!(
        "backlog srgate end to end: {n} mails -> {srs} SRs, {sent:.0} mails sent, in {total:.2} s (all read after {ingest:.2} s, peak resident memory {peak:.0} MB): {:.0} mails/s",
        n as f64 / total
    );
}

/// How many SRs the store of `cfg` holds (`srgate sr list`).
fn sr_count(cfg: &Path) -> usize {
    Command::new(bin()).arg("--config").arg(cfg).args(["sr", "list"]).output().unwrap().stdout.iter().filter(|b| **b == b'\n').count()
}

/// `srgate run --once --now NOW` with JSON logs; returns the log lines.
fn run_once(cfg: &Path, now: &str) -> Vec<serde_json::Value> {
    run_once_peak(cfg, now).0
}

/// [`run_once`], and the process's peak resident memory in MB (its `VmHWM`, read
/// every 20 ms while it runs).
fn run_once_peak(cfg: &Path, now: &str) -> (Vec<serde_json::Value>, f64) {
    let mut child = Command::new(bin())
        .arg("--config")
        .arg(cfg)
        .args(["--log-format", "json", "run", "--once", "--now", now])
        .env("SRGATE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        stderr.read_to_end(&mut all).unwrap();
        all
    });
    let mut peak_kb = 0;
    let status = loop {
        peak_kb = peak_kb.max(proc_status_kb(child.id(), "VmHWM:"));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = reader.join().unwrap();
    assert!(status.success(), "{}", String::from_utf8_lossy(&stderr));
    (json_logs(&stderr), peak_kb as f64 / 1024.0)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn latency(stack: &Stack) {
    let n = env_usize("BENCH_LATENCY", 500);
    let support = "latency@example.test";
    let dir = stack.dir.join("latency");
    let cfg = config(stack, &dir, support);
    eprintln!("(latency: Postfix's queue drained in {:.1} s)", drain_queue(stack));
    let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
    let mut daemon: Child = Command::new(bin())
        .arg("--config")
        .arg(&cfg)
        .args(["--log-format", "json", "run"])
        .env("SRGATE_LOG", "srgate=debug")
        .stderr(log)
        .spawn()
        .unwrap();
    // The floor: a plain IMAP client in IDLE on the same mailbox.
    let (tx, rx) = mpsc::channel::<Instant>();
    let port = stack.imap;
    std::thread::spawn(move || {
        let mut imap = Imap::login(port, support);
        imap.cmd("SELECT INBOX");
        write!(imap.w, "idle IDLE\r\n").unwrap();
        loop {
            let mut line = String::new();
            if imap.r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.contains("EXISTS") && tx.send(Instant::now()).is_err() {
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_secs(2));
    let start = Instant::now();
    let wall0 = srgate::time::wall_seconds();
    let mut smtp = Smtp::connect(stack.smtp);
    let mut accepted = Vec::new();
    let mut floor = Vec::new();
    for i in 0..n {
        let raw = format!(
            "From: lat{i}@example.com\r\nTo: {support}\r\nSubject: Latency {i}\r\nMessage-ID: <lat-{i}@example.com>\r\n\r\nHow fast is the answer?\r\n"
        );
        // Forget what the IDLE client heard of earlier mail (the daemon's flag changes, repeats).
        while rx.try_recv().is_ok() {}
        smtp.send(&format!("lat{i}@example.com"), support, raw.as_bytes());
        let t = start.elapsed().as_secs_f64();
        accepted.push(t);
        floor.push(rx.recv_timeout(Duration::from_secs(5)).ok().map(|at| at.duration_since(start).as_secs_f64() - t));
        // Let the daemon answer before the next mail, so that it is idle each time.
        let maildir = stack.dir.join(format!("stack/mail/example.com/lat{i}/Maildir/new"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_dir(&maildir).map(|d| d.count()).unwrap_or(0) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    let _ = Command::new("kill").arg("-TERM").arg(daemon.id().to_string()).status();
    let _ = daemon.wait();
    // SMTP accept of each acknowledgement, from the daemon's own log.
    let mut acked = vec![f64::NAN; n];
    for l in json_logs(&std::fs::read(dir.join("daemon.log")).unwrap()) {
        if l["fields"]["message"] != "delivered" || l["span"]["kind"] != "Acknowledgement" {
            continue;
        }
        let (Some(sr), Some(ts)) = (l["span"]["sr"].as_u64(), l["timestamp"].as_str()) else { continue };
        let Ok(at) = ts.parse::<jiff::Timestamp>() else { continue };
        let i = (sr - 100_001) as usize;
        if i < n {
            acked[i] = at.as_microsecond() as f64 / 1e6 - wall0;
        }
    }
    // Both figures over the same mails: those the mail server itself handed to the IDLE
    // client within 5 s (a mail it held longer is a stall of the stack, counted apart).
    let stalled = floor.iter().filter(|f| f.is_none()).count();
    let paired: Vec<(f64, f64)> =
        (0..n).filter_map(|i| Some((floor.get(i).copied().flatten()?, acked[i] - accepted[i]))).filter(|(_, l)| l.is_finite()).collect();
    let mut floor: Vec<f64> = paired.iter().map(|(f, _)| *f).collect();
    let mut lat: Vec<f64> = paired.iter().map(|(_, l)| *l).collect();
    let got = lat.len();
    let (p50, p99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
    let (f50, f99) = (percentile(&mut floor, 0.5), percentile(&mut floor, 0.99));
    println!("latency IDLE floor (plain IMAP client told of the mail): p50 {:.0} ms, p99 {:.0} ms", f50 * 1e3, f99 * 1e3);
    println!(
        "latency srgate (customer mail accepted -> acknowledgement accepted): p50 {:.0} ms, p99 {:.0} ms ({got} of {n} mails; {stalled} the mail server held over 5 s left out of both)",
        p50 * 1e3,
        p99 * 1e3
    );
    println!("latency srgate over the floor: p50 {:+.0} ms, p99 {:+.0} ms", (p50 - f50) * 1e3, (p99 - f99) * 1e3);
    let log = String::from_utf8_lossy(&std::fs::read(dir.join("daemon.log")).unwrap()).into_owned();
    let problems: Vec<&str> = log.lines().filter(|l| l.contains("\"level\":\"WARN\"") || l.contains("\"level\":\"ERROR\"")).collect();
    println!("latency daemon warnings and errors: {}", problems.len());
    for p in problems.iter().take(5) {
        eprintln!("  {p}");
    }
}

fn rss_kb(pid: u32) -> u64 {
    proc_status_kb(pid, "VmRSS:")
}

/// A kB figure of `/proc/PID/status` (`VmRSS:`, `VmHWM:`), 0 once the process is gone.
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn du(path: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let p = e.path();
        total += if p.is_dir() { du(&p) } else { e.metadata().map(|m| m.len()).unwrap_or(0) };
    }
    total
}

fn scale(stack: &Stack) {
    let n = env_usize("BENCH_SCALE", 1_000_000);
    let dir = stack.dir.join("scale");
    let cfg = config(stack, &dir, "scale@example.test");
    let setup = srgate::setup::Setup::load(&cfg).unwrap();
    let t = Instant::now();
    let made = srgate::bench_support::generate_store(&setup, n, 10_000, srgate::time::Clock::System.now()).unwrap();
    println!("scale store: {made} SRs generated through the library in {:.0} s", t.elapsed().as_secs_f64());
    let bytes = du(&dir.join("data"));
    println!("scale bytes on disk: {:.0} MB, {:.0} bytes per SR", bytes as f64 / 1e6, bytes as f64 / n as f64);

    let t = Instant::now();
    let mut daemon = start_daemon(&cfg, &dir);
    println!("scale start-up (process start -> serving) with {n} SRs: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    let read_log = || std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default();
    while !read_log().contains("scheduled pass") {
        std::thread::sleep(Duration::from_millis(50));
        assert!(t.elapsed() < Duration::from_secs(600), "no scheduled pass");
    }
    let pass = json_logs(read_log().as_bytes()).into_iter().find(|l| l["fields"]["message"] == "scheduled pass").unwrap();
    println!(
        "scale scheduled-work pass: {} due SRs in {:.2} s (contact attempts committed and queued)",
        pass["fields"]["done"],
        pass["fields"]["seconds"].as_f64().unwrap_or(f64::NAN)
    );
    let mut shows = Vec::new();
    for id in [100_001u64, 100_001 + n as u64 / 2, 100_000 + n as u64] {
        let t = Instant::now();
        let out = Command::new(bin()).arg("--config").arg(&cfg).args(["sr", "show", &id.to_string(), "--json"]).output().unwrap();
        assert!(out.status.success());
        shows.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("scale sr show (whole command, via the daemon): {:.1} ms median of 3", percentile(&mut shows, 0.5));
    println!("scale resident memory of the daemon: {:.0} MB", rss_kb(daemon.id()) as f64 / 1024.0);
    let t = Instant::now();
    let _ = Command::new("kill").arg("-TERM").arg(daemon.id().to_string()).status();
    let _ = daemon.wait();
    println!("scale clean stop (SIGTERM -> exit): {:.0} ms", t.elapsed().as_secs_f64() * 1e3);

    // Started again after that clean stop.
    let t = Instant::now();
    let mut daemon = start_daemon(&cfg, &dir);
    println!("scale start-up after a clean stop with {n} SRs: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    println!("scale resident memory after that start: {:.0} MB", rss_kb(daemon.id()) as f64 / 1024.0);
    let _ = Command::new("kill").arg("-TERM").arg(daemon.id().to_string()).status();
    let _ = daemon.wait();
}

/// Waits until Postfix has delivered everything queued (so that a measurement does
/// not compete with the delivery of the mail of the one before it); returns the wait.
fn drain_queue(stack: &Stack) -> f64 {
    fn count(dir: &Path) -> usize {
        std::fs::read_dir(dir).map(|d| d.flatten().map(|e| if e.path().is_dir() { count(&e.path()) } else { 1 }).sum()).unwrap_or(0)
    }
    let spool = stack.dir.join("stack/postfix/spool");
    let t = Instant::now();
    while ["incoming", "active", "deferred", "maildrop"].iter().map(|q| count(&spool.join(q))).sum::<usize>() > 0 {
        assert!(t.elapsed() < Duration::from_secs(600), "Postfix's queue did not drain");
        std::thread::sleep(Duration::from_millis(100));
    }
    t.elapsed().as_secs_f64()
}

/// Starts `srgate run` on `cfg` with JSON logs into `dir/daemon.log`; returns once it serves.
fn start_daemon(cfg: &Path, dir: &Path) -> Child {
    let started = Instant::now();
    let log_path = dir.join("daemon.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let daemon = Command::new(bin())
        .arg("--config")
        .arg(cfg)
        .args(["--log-format", "json", "run"])
        .env("SRGATE_LOG", "info")
        .stderr(log)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    while !read_log().contains("srgate running") {
        std::thread::sleep(Duration::from_millis(5));
        assert!(started.elapsed() < Duration::from_secs(120), "daemon did not start: {}", read_log());
    }
    daemon
}

/// A short customer mail: new (`answers` None) or answering the mail `<flat-{answers}>`.
fn flat_mail(i: usize, answers: Option<usize>) -> Vec<u8> {
    let (from, subject, threading) = match answers {
        Some(o) => (format!("flat{o}@example.com"), "Re: Printer".to_string(), format!("In-Reply-To: <flat-{o}@example.com>\r\n")),
        None => (format!("flat{i}@example.com"), format!("Printer {i}"), String::new()),
    };
    let body = "The printer on floor two prints blank pages again; here is what I tried today.\r\n".repeat(25);
    format!("From: <{from}>\r\nTo: flat@example.test\r\nSubject: {subject}\r\nMessage-ID: <flat-{i}@example.com>\r\n{threading}\r\nMail {i}.\r\n{body}").into_bytes()
}

/// The cost per reply of `replies` (mail numbers and what each answers), read by
/// `run --once` on a store that has read `before` already (SMTP unreachable).
fn flat_cost(stack: &Stack, name: &str, before: &[(usize, Option<usize>)], replies: &[(usize, Option<usize>)]) -> f64 {
    let support = format!("{name}@example.test");
    let dir = stack.dir.join(name);
    let cfg = config_smtp(stack, &dir, &support, free_port());
    let mut imap = Imap::login(stack.imap, &support);
    for &(i, answers) in before {
        imap.append("INBOX", &flat_mail(i, answers));
    }
    run_once(&cfg, "2026-03-03T09:30:00Z");
    for &(i, answers) in replies {
        imap.append("INBOX", &flat_mail(i, answers));
    }
    let logs = run_once(&cfg, "2026-03-03T09:40:00Z");
    // Measured what was meant: every reply went to the SR of the mail it answers.
    let opened = before.iter().chain(replies).filter(|(_, answers)| answers.is_none()).count();
    assert_eq!(sr_count(&cfg), opened, "{name}: the replies opened SRs of their own");
    field(&logs, "mailbox read", "ingest_seconds").unwrap_or(f64::NAN) / replies.len() as f64
}

/// Flat cost per mail: a reply on an SR with 1,000 messages against a reply on an SR with one.
fn flat(stack: &Stack) {
    let n = env_usize("BENCH_FLAT_MAILS", 200);
    // n SRs of one message each, then one reply to each.
    let opened: Vec<_> = (0..n).map(|i| (i, None)).collect();
    let first: Vec<_> = (0..n).map(|i| (n + i, Some(i))).collect();
    let short = flat_cost(stack, "flat-short", &opened, &first);
    // One SR: its first mail and 999 replies (1,000 messages with the acknowledgement and
    // the CSE's copies counted apart), then n more replies.
    let long: Vec<_> = std::iter::once((0, None)).chain((1..1000).map(|i| (i, Some(0)))).collect();
    let more: Vec<_> = (1000..1000 + n).map(|i| (i, Some(0))).collect();
    let deep = flat_cost(stack, "flat-long", &long, &more);
    println!(
        "flat cost per reply (read, decided, committed, flagged; run --once): on an SR with 1 message {:.2} ms, with 1,000 {:.2} ms: {:.2}x",
        short * 1e3,
        deep * 1e3,
        deep / short
    );
}

/// The peer beside us: srgate and Request Tracker on the same mails.
fn peer(stack: &Stack) {
    let n = env_usize("BENCH_PEER_MAILS", 1_000);
    let workers = env_usize("BENCH_PEER_WORKERS", 2);
    let support = "peer@example.test";
    let dir = stack.dir.join("peer");
    let mails = dir.join("mail");
    std::fs::create_dir_all(&mails).unwrap();
    // RT's copy: as an MTA pipes it (LF line ends); a reply carries the tag of the ticket
    // its original opened (rt-peer.sh's warm-up makes tickets 1 to 8).
    let mut ticket_of = std::collections::HashMap::new();
    let mut imap = Imap::login(stack.imap, support);
    for i in 0..n {
        let raw = backlog_mail(i);
        imap.append("INBOX", &raw);
        let mut text = String::from_utf8(raw).unwrap().replace("\r\n", "\n");
        if is_reply(i) {
            let ticket = ticket_of[&(i - 7)];
            text = text.replacen("Subject: Re: Problem report", &format!("Subject: Re: [example.test #{ticket}] Problem report"), 1);
        } else {
            ticket_of.insert(i, 9 + ticket_of.len());
        }
        std::fs::write(mails.join(format!("{i:06}.eml")), text).unwrap();
    }
    eprintln!("(peer: Postfix's queue drained in {:.1} s)", drain_queue(stack));
    let t = Instant::now();
    let cfg = config(stack, &dir, support);
    let logs = run_once(&cfg, "2026-03-03T09:30:00Z");
    let total = t.elapsed().as_secs_f64();
    let sent = field(&logs, "outbox delivered", "sent").unwrap_or(0.0);
    let ours = n as f64 / total;
    assert_eq!(sr_count(&cfg), ticket_of.len(), "srgate opened one SR per new mail");
    println!("peer srgate end to end: {n} mails, {sent:.0} mails sent, in {total:.2} s: {ours:.1} mails/s");
    let out = Command::new(format!("{ROOT}/scripts/rt-peer.sh"))
        .arg("feed")
        .arg(&mails)
        .arg(workers.to_string())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "rt-peer.sh feed failed");
    let line = String::from_utf8_lossy(&out.stdout).lines().find(|l| l.starts_with("rt-mailgate:")).unwrap_or_default().to_string();
    let theirs: f64 = line.rsplit(": ").next().and_then(|r| r.split_whitespace().next()?.parse().ok()).unwrap_or(f64::NAN);
    println!("peer Request Tracker 5 (SQLite, rt-mailgate, {workers} at a time): {line}");
    println!("peer ratio: srgate {ours:.1} mails/s against Request Tracker {theirs:.2} mails/s: {:.0}x", ours / theirs);
}

fn main() {
    let only = std::env::var("BENCH_ONLY").unwrap_or_else(|_| "backlog,latency,scale,peer,flat".into());
    let stack = Stack::start();
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
            .unwrap_or_default()
    );
    if only.contains("backlog") {
        backlog(&stack, true);
    } else if only.contains("ingestion") {
        backlog(&stack, false);
    }
    if only.contains("latency") {
        latency(&stack);
    }
    if only.contains("scale") {
        scale(&stack);
    }
    if only.contains("peer") {
        peer(&stack);
    }
    if only.contains("flat") {
        flat(&stack);
    }
}
