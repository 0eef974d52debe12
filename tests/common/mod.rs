//! Real-mail-stack harness for srgate's integration tests.
//!
//! `stack()` starts ONE real Postfix (SMTP) + Dovecot (IMAP, fed by Postfix over LMTP) per test
//! binary, on free loopback ports, in a short temp dir under /tmp, via `scripts/mailstack.sh`.
//! It speaks TLS: STARTTLS on its IMAP and SMTP ports (optional there), implicit TLS on its
//! IMAPS and SMTPS ports, with a certificate signed by the stack's own test CA ([`MailStack::ca_file`]).
//! srgate's test configs get their stack-specific lines (over TLS) from [`MailStack::srgate_lines`].
//! Every address in `example.test` / `example.com` is a mailbox (catch-all) and can log in over
//! IMAP with [`PASSWORD`]; use [`MailStack::unique_domain_user`] so each test has its own mailboxes.
//!
//! The helpers are deliberately tiny *blocking* SMTP / IMAP clients over plain `std::net::TcpStream`
//! (independent of the crate's own lettre/async-imap code paths, so they can check its work),
//! plus `mutt` as a real third-party mail client. Every call opens its own connection, so tests
//! in the same binary may use the stack from parallel threads.
//!
//! Clean-up: statics are never dropped, so `stack()` first spawns a detached watchdog (own
//! session, via `setsid`) that polls the test process and, once it has exited (normally, by
//! panic, Ctrl-C or SIGKILL), runs `mailstack.sh stop DIR` and deletes DIR.
//! Set `SRGATE_MAILSTACK_KEEP=1` to keep DIR (configs, maildirs, logs) for debugging.
//!
//! Use from a test file with `mod common;`.
#![allow(dead_code)] // each test binary uses a different subset of the helpers

pub mod cli;
pub mod config;
pub mod desk;
pub mod dns;
pub mod lazyfs;
pub mod oauth;
pub mod pg;
pub mod read;
mod wire;

use wire::*;

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Password of every catch-all address.
pub const PASSWORD: &str = "secret";
/// The domains the stack accepts and delivers (any local part).
pub const DOMAINS: [&str; 2] = ["example.test", "example.com"];
/// Socket timeout for the helper clients.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A running loopback mail stack (see the module docs).
#[derive(Debug)]
pub struct MailStack {
    /// Stack directory: configs, `mail/<domain>/<user>/Maildir`, `log/{dovecot,postfix}.log`.
    pub dir: PathBuf,
    /// Always `127.0.0.1`.
    pub host: String,
    /// IMAP, plain or STARTTLS.
    pub imap_port: u16,
    /// SMTP, plain or STARTTLS.
    pub smtp_port: u16,
    /// IMAP over implicit TLS.
    pub imaps_port: u16,
    /// SMTP over implicit TLS (`smtpd_tls_wrappermode`).
    pub smtps_port: u16,
    /// The test CA (PEM) that signed the stack's certificate (SAN IP:127.0.0.1, DNS:localhost).
    pub ca_file: PathBuf,
    /// Set when Dovecot also accepts OAuth2 tokens, checked there (see [`oauth::stack_with_oauth`]).
    pub oauth2_introspection_url: Option<oauth::IntrospectionUrl>,
}

/// One message as read over IMAP.
#[derive(Debug, Clone)]
pub struct ImapMessage {
    pub uid: u32,
    pub flags: Vec<String>,
    pub raw: Vec<u8>,
}

static STACK: OnceLock<Result<MailStack, String>> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The stack of this test binary, started on first use (thread-safe; later callers wait for it).
/// Panics with the start script's output if it cannot be started.
pub fn stack() -> &'static MailStack {
    match STACK.get_or_init(start_stack) {
        Ok(s) => s,
        Err(e) => panic!("mail stack unavailable: {e}"),
    }
}

/// `GET path` on 127.0.0.1:`port` (srgate's `/metrics` and `/healthz`): (status, body), or
/// `None` when nothing answers within 5 s.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text.split("\r\n\r\n").nth(1).unwrap_or("").to_string()))
}

/// Polls `f` every `poll` until it returns true (→ true) or `timeout` has passed (→ false).
/// `f` is always evaluated at least once, and once more at the deadline.
pub fn wait_until(timeout: Duration, poll: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(poll.min(deadline - now));
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mailstack.sh")
}

/// `N` distinct free loopback ports (all bound at once, then released).
fn free_ports<const N: usize>() -> io::Result<[u16; N]> {
    let listeners = (0..N).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<io::Result<Vec<_>>>()?;
    let mut ports = [0; N];
    for (port, l) in ports.iter_mut().zip(&listeners) {
        *port = l.local_addr()?.port();
    }
    Ok(ports)
}

fn start_stack() -> Result<MailStack, String> {
    let script = script();
    // Short path: unix sockets under DIR are limited to 108 bytes.
    let dir = tempfile::Builder::new()
        .prefix("srgate-ms-")
        .tempdir_in("/tmp")
        .map_err(|e| format!("cannot create temp dir in /tmp: {e}"))?
        .keep();
    spawn_watchdog(&script, &dir)?;

    let mut last = String::new();
    for _attempt in 0..3 {
        let [imap_port, smtp_port, imaps_port, smtps_port] = free_ports().map_err(|e| format!("cannot pick free ports: {e}"))?;
        let ca_file = dir.join("tls/ca.pem");
        let oauth2_introspection_url = oauth::stack_introspection_url();
        let candidate = MailStack {
            dir: dir.clone(),
            host: "127.0.0.1".into(),
            imap_port,
            smtp_port,
            imaps_port,
            smtps_port,
            ca_file,
            oauth2_introspection_url,
        };
        let out = Command::new(&script)
            .arg("start")
            .arg(&dir)
            .envs(candidate.script_env())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        last = format!(
            "{} start {} exited with {}\n--- stdout\n{}--- stderr\n{}",
            script.display(),
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        match out.status.code() {
            Some(0) => {
                eprintln!("mailstack: {} (imap {imap_port}, smtp {smtp_port}, imaps {imaps_port}, smtps {smtps_port})", dir.display());
                return Ok(candidate);
            }
            Some(4) => continue, // a port was grabbed in the meantime: pick others
            _ => break,
        }
    }
    Err(last)
}

/// Detached process that stops the stack and removes `dir` once this test process is gone.
fn spawn_watchdog(script: &Path, dir: &Path) -> Result<(), String> {
    spawn_watchdog_named("srgate-mailstack-watchdog", script, dir)
}

/// Detached process named `name` that runs `script stop dir` and removes `dir` once
/// this test process is gone (scripts/test.sh waits for these by name).
fn spawn_watchdog_named(name: &str, script: &Path, dir: &Path) -> Result<(), String> {
    const WATCH: &str = r#"
        while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
        "$2" stop "$3" >/dev/null 2>&1
        [ "$4" = 1 ] || rm -rf "$3"
    "#;
    let keep = if std::env::var_os("SRGATE_MAILSTACK_KEEP").is_some_and(|v| v == "1") { "1" } else { "0" };
    let args: Vec<std::ffi::OsString> = vec![
        "-c".into(),
        WATCH.into(),
        name.into(), // $0
        std::process::id().to_string().into(),
        script.as_os_str().to_owned(),
        dir.as_os_str().to_owned(),
        keep.into(),
    ];
    // Own session (setsid): survives Ctrl-C / SIGHUP sent to the test's process group.
    // Fall back to an own process group where setsid(1) is missing.
    let mut cmd = if Path::new("/usr/bin/setsid").exists() || Path::new("/bin/setsid").exists() {
        let mut c = Command::new("setsid");
        c.arg("sh");
        c
    } else {
        let mut c = Command::new("sh");
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        c
    };
    cmd.args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot spawn clean-up watchdog: {e}"))
}

impl MailStack {
    /// The environment `scripts/mailstack.sh` needs to start (or restart) this stack as it is.
    pub fn script_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MAILSTACK_IMAP_PORT", self.imap_port.to_string()),
            ("MAILSTACK_SMTP_PORT", self.smtp_port.to_string()),
            ("MAILSTACK_IMAPS_PORT", self.imaps_port.to_string()),
            ("MAILSTACK_SMTPS_PORT", self.smtps_port.to_string()),
            ("MAILSTACK_HOST", self.host.clone()),
            ("MAILSTACK_PASSWORD", PASSWORD.to_string()),
            ("MAILSTACK_DOMAINS", DOMAINS.join(" ")),
        ]
        .into_iter()
        .chain(self.oauth2_introspection_url.as_ref().map(|u| ("MAILSTACK_OAUTH2_INTROSPECTION_URL", u.0.clone())))
        .collect()
    }

    /// A fresh address `<prefix>-<n>-<pid>@example.test`, lowercased (Dovecot lowercases logins);
    /// its mailbox springs into existence on first delivery or login.
    pub fn unique_domain_user(&self, prefix: &str) -> String {
        self.unique_user_at(prefix, DOMAINS[0])
    }

    /// Like [`Self::unique_domain_user`] in another of the stack's [`DOMAINS`].
    pub fn unique_user_at(&self, prefix: &str, domain: &str) -> String {
        assert!(DOMAINS.contains(&domain), "{domain} is not served by the stack ({DOMAINS:?})");
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{n}-{}@{domain}", std::process::id()).to_lowercase()
    }

    /// `127.0.0.1:<imap_port>`
    pub fn imap_addr(&self) -> String {
        format!("{}:{}", self.host, self.imap_port)
    }

    /// `127.0.0.1:<smtp_port>`
    pub fn smtp_addr(&self) -> String {
        format!("{}:{}", self.host, self.smtp_port)
    }

    /// The last `n` lines of the Postfix and Dovecot logs (for failure messages).
    pub fn log_tail(&self, n: usize) -> String {
        let mut s = String::new();
        for name in ["postfix.log", "dovecot.log"] {
            let path = self.dir.join("log").join(name);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            s += &format!("--- {}\n", path.display());
            for l in &lines[lines.len().saturating_sub(n)..] {
                s += l;
                s.push('\n');
            }
        }
        s
    }

    /// Mails Postfix still holds in any of its queues (not yet delivered, bounced or dropped).
    pub fn queued(&self) -> usize {
        fn files(dir: &Path) -> usize {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .map(|e| match e.file_type() {
                            Ok(t) if t.is_dir() => files(&e.path()),
                            Ok(t) if t.is_file() => 1,
                            _ => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        let spool = self.dir.join("postfix/spool");
        ["maildrop", "incoming", "active", "deferred", "hold"].iter().map(|q| files(&spool.join(q))).sum()
    }

    /// Waits until Postfix's queues are empty: every mail it accepted has reached its
    /// mailbox. Only then can a test say "at most N mails arrived". Panics on timeout.
    pub fn wait_queue_empty(&self, timeout: Duration) {
        if !wait_until(timeout, Duration::from_millis(100), || self.queued() == 0) {
            panic!("Postfix still holds {} mail(s) after {timeout:?}\n{}", self.queued(), self.log_tail(15));
        }
    }

    // ------------------------------------------------------------------ SMTP

    /// Submits `raw` (a full RFC 5322 message; LF or CRLF line ends) to Postfix over plain SMTP
    /// without auth. Panics with the server's reply on any failure.
    pub fn send(&self, raw: &[u8], from: &str, to: &[&str]) {
        if let Err(e) = self.try_send(raw, from, to) {
            panic!("SMTP send to {} failed: {e}", self.smtp_addr());
        }
    }

    /// Like [`Self::send`], returning the first unexpected reply (e.g. `554 5.7.1 ... Relay
    /// access denied` for a recipient outside [`DOMAINS`]) instead of panicking.
    pub fn try_send(&self, raw: &[u8], from: &str, to: &[&str]) -> Result<(), String> {
        let mut s = Smtp::connect(&self.smtp_addr()).map_err(|e| e.to_string())?;
        s.expect(220, None)?;
        s.expect(250, Some("EHLO srgate-tests.example.test"))?;
        s.expect(250, Some(&format!("MAIL FROM:<{from}>")))?;
        for rcpt in to {
            s.expect(250, Some(&format!("RCPT TO:<{rcpt}>")))?;
        }
        s.expect(354, Some("DATA"))?;
        s.write_all(&dot_stuff(raw)).map_err(|e| e.to_string())?;
        s.expect(250, Some("."))?;
        let _ = s.expect(221, Some("QUIT"));
        Ok(())
    }

    // ------------------------------------------------------------------ IMAP

    fn imap(&self, user: &str) -> Result<Imap, String> {
        let mut c = Imap::connect(&self.imap_addr())?;
        c.command(&format!("LOGIN {} {}", quote(user), quote(PASSWORD))).map_err(|e| format!("LOGIN {user}: {e}"))?;
        Ok(c)
    }

    /// Number of messages in `folder` (0 if the folder does not exist). Panics if `user`
    /// cannot log in.
    pub fn count_messages(&self, user: &str, folder: &str) -> usize {
        let mut c = self.imap(user).unwrap_or_else(|e| panic!("IMAP: {e}"));
        let n = match c.command(&format!("STATUS {} (MESSAGES)", quote(folder))) {
            Ok(resps) => {
                resps.iter().find(|r| r.text.starts_with(b"* STATUS ")).and_then(|r| number_after(&r.text, b"MESSAGES ")).unwrap_or(0)
                    as usize
            }
            Err(ImapError::No(_)) => 0,
            Err(e) => panic!("IMAP STATUS {folder} as {user}: {e}"),
        };
        c.logout();
        n
    }

    /// All messages of `folder` in UID order, read without setting `\Seen` (EXAMINE +
    /// BODY.PEEK[]). Empty if the folder does not exist.
    pub fn messages(&self, user: &str, folder: &str) -> Vec<ImapMessage> {
        self.fetch(user, folder, true).unwrap_or_else(|e| panic!("IMAP fetch {folder} as {user}: {e}"))
    }

    /// `(uid, flags)` of every message in `folder`, in UID order (empty if it does not exist).
    pub fn flags(&self, user: &str, folder: &str) -> Vec<(u32, Vec<String>)> {
        self.fetch(user, folder, false)
            .unwrap_or_else(|e| panic!("IMAP fetch {folder} as {user}: {e}"))
            .into_iter()
            .map(|m| (m.uid, m.flags))
            .collect()
    }

    fn fetch(&self, user: &str, folder: &str, bodies: bool) -> Result<Vec<ImapMessage>, String> {
        let mut c = self.imap(user)?;
        let exists = match c.command(&format!("EXAMINE {}", quote(folder))) {
            Ok(resps) => resps
                .iter()
                .filter(|r| r.text.ends_with(b" EXISTS\r\n"))
                .filter_map(|r| number_after(&r.text, b"* "))
                .next_back()
                .unwrap_or(0),
            Err(ImapError::No(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.to_string()),
        };
        if exists == 0 {
            c.logout();
            return Ok(Vec::new());
        }
        let items = if bodies { "(UID FLAGS BODY.PEEK[])" } else { "(UID FLAGS)" };
        let resps = c.command(&format!("UID FETCH 1:* {items}")).map_err(|e| e.to_string())?;
        c.logout();
        let mut out = Vec::new();
        for r in resps {
            if !(r.text.starts_with(b"* ") && contains(&r.text, b" FETCH (")) {
                continue;
            }
            // Another session changing flags meanwhile (e.g. srgate flagging mail) makes the server
            // add unsolicited `* N FETCH (FLAGS (...))` without UID or body: not ours, skip them.
            if !contains(&r.text, b"UID ") || (bodies && !contains(&r.text, b"BODY[")) {
                continue;
            }
            let uid = number_after(&r.text, b"UID ").ok_or_else(|| format!("no UID in {}", String::from_utf8_lossy(&r.text)))?;
            let flags = parse_flags(&r.text);
            let raw = if bodies {
                if contains(&r.text, b"BODY[] NIL") {
                    Vec::new()
                } else {
                    r.literals.into_iter().next().ok_or_else(|| format!("no body literal in {}", String::from_utf8_lossy(&r.text)))?
                }
            } else {
                Vec::new()
            };
            out.push(ImapMessage { uid, flags, raw });
        }
        out.sort_by_key(|m| m.uid);
        Ok(out)
    }

    /// Polls (every 100 ms) until `folder` of `user` holds at least `count` messages, then
    /// returns all their raw bodies in UID order. Panics on timeout, with the mail logs.
    pub fn wait_for_messages(&self, user: &str, folder: &str, count: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let mut have = 0;
        let ok = wait_until(timeout, Duration::from_millis(100), || {
            have = self.count_messages(user, folder);
            have >= count
        });
        if !ok {
            panic!(
                "timed out after {timeout:?} waiting for {count} message(s) in {user}/{folder} \
                 (have {have})\n{}",
                self.log_tail(15)
            );
        }
        self.messages(user, folder).into_iter().map(|m| m.raw).collect()
    }

    /// Every folder of `user` (`LIST "" "*"`), e.g. `["INBOX", "Drafts", "Sent", "Trash"]`.
    pub fn list_folders(&self, user: &str) -> Vec<String> {
        let mut c = self.imap(user).unwrap_or_else(|e| panic!("IMAP: {e}"));
        let resps = c.command(r#"LIST "" "*""#).unwrap_or_else(|e| panic!("IMAP LIST as {user}: {e}"));
        c.logout();
        resps.into_iter().filter(|r| r.text.starts_with(b"* LIST ")).filter_map(parse_list_name).collect()
    }

    /// Creates `folder` for `user` (ok if it already exists).
    pub fn create_folder(&self, user: &str, folder: &str) {
        let mut c = self.imap(user).unwrap_or_else(|e| panic!("IMAP: {e}"));
        match c.command(&format!("CREATE {}", quote(folder))) {
            Ok(_) => {}
            Err(ImapError::No(t)) if t.contains("ALREADYEXISTS") => {}
            Err(e) => panic!("IMAP CREATE {folder} as {user}: {e}"),
        }
        c.logout();
    }

    /// Stores `raw` directly into `folder` (IMAP APPEND, no SMTP involved); returns its UID.
    pub fn append(&self, user: &str, folder: &str, raw: &[u8]) -> u32 {
        let mut c = self.imap(user).unwrap_or_else(|e| panic!("IMAP: {e}"));
        let raw = crlf(raw);
        // LITERAL+ (`{n+}`): no need to wait for a continuation request
        let mut cmd = format!("APPEND {} {{{}+}}\r\n", quote(folder), raw.len()).into_bytes();
        cmd.extend_from_slice(&raw);
        let resps = c.command_bytes(&cmd).unwrap_or_else(|e| panic!("IMAP APPEND {folder} as {user}: {e}"));
        c.logout();
        // tagged `OK [APPENDUID <validity> <uid>] ...` (UIDPLUS)
        resps
            .last()
            .and_then(|r| {
                let i = find(&r.text, b"[APPENDUID ")?;
                let rest = &r.text[i + 11..];
                let sp = find(rest, b" ")?;
                number_after(&rest[sp..], b" ")
            })
            .unwrap_or_else(|| panic!("no APPENDUID in APPEND reply"))
    }

    // ------------------------------------------------------------------ mutt

    /// Sends `draft` (full headers + blank line + body, e.g. a reply with In-Reply-To and
    /// References) with the real `mutt` client through the stack's SMTP port, as a real user's
    /// mail client would (mutt adds Message-ID, Date, MIME headers, ...). `from` sets mutt's
    /// `$from` (a `From:` line in the draft takes precedence). Panics with mutt's output on failure.
    pub fn mutt_send(&self, from: &str, draft: &str) {
        assert!(!from.contains('\''), "from must not contain a single quote: {from}");
        let tmp = tempfile::tempdir().expect("mutt temp dir");
        let home = tmp.path();
        let muttrc = home.join("muttrc");
        let draft_path = home.join("draft.eml");
        let rc = format!(
            "set from='{from}'\n\
             set realname=''\n\
             set use_from=yes\n\
             set envelope_from=yes\n\
             set hostname='srgate-tests.example.test'\n\
             set smtp_url='smtp://{host}:{port}/'\n\
             set ssl_starttls=no\n\
             set ssl_force_tls=no\n\
             set record=''\n\
             set copy=no\n\
             set edit_headers=yes\n\
             set charset='utf-8'\n\
             set send_charset='utf-8'\n\
             unset sig_dashes\n\
             set signature=''\n\
             set tmpdir='{tmpdir}'\n",
            host = self.host,
            port = self.smtp_port,
            tmpdir = home.display(),
        );
        std::fs::write(&muttrc, rc).expect("write muttrc");
        std::fs::write(&draft_path, draft).expect("write draft");
        let mut child = Command::new("mutt")
            .arg("-n")
            .arg("-F")
            .arg(&muttrc)
            .arg("-H")
            .arg(&draft_path)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
            .env("HOME", home)
            .env("TMPDIR", home)
            .env("LANG", "C.UTF-8")
            .env("TERM", "dumb")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run mutt ({e}); install it: apt-get install -y mutt (scripts/test.sh does)"));
        // mutt must not hang a test: kill it after 60 s
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().expect("wait for mutt").is_none() {
            if Instant::now() >= deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().expect("mutt output");
        if !out.status.success() {
            panic!(
                "mutt failed ({})\n--- stdout\n{}\n--- stderr\n{}\n--- draft\n{draft}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.log_tail(10)
            );
        }
    }
}
