//! A support desk driven as an operator drives it: its own support mailbox and CSE
//! on the stack, a data directory, the `srgate` daemon started and stopped as a
//! process (with its log in the desk's folder), `/metrics` and `/healthz`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

use serde_json::Value;

use super::cli::Cli;
use super::config::StackTls;
use super::{MailStack, wait_until};

/// What a desk's configuration holds besides the stack's addresses.
#[derive(Debug, Clone)]
pub struct Options {
    /// `data_dir` (relative to the desk's folder, or absolute).
    pub data_dir: String,
    /// The rules folder.
    pub rules_dir: PathBuf,
    /// More top-level lines.
    pub top: String,
    /// More `[smtp]` lines.
    pub smtp: String,
    /// More `[[mailbox]]` lines.
    pub mailbox: String,
    /// More lines at the end (e.g. `[[account]]` tables).
    pub tail: String,
    /// How the mailbox reaches Dovecot.
    pub imap: StackTls,
    /// How `[smtp]` reaches Postfix.
    pub smtp_tls: StackTls,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            data_dir: "data".into(),
            rules_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
            top: String::new(),
            smtp: String::new(),
            mailbox: String::new(),
            tail: String::new(),
            imap: StackTls::Starttls,
            smtp_tls: StackTls::Starttls,
        }
    }
}

/// One desk.
pub struct Desk {
    pub support: String,
    pub cse: String,
    pub dir: tempfile::TempDir,
    pub metrics_port: u16,
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

impl Desk {
    /// A desk with the shipped rules and `data_dir = "data"`.
    pub fn standard(ms: &MailStack) -> Desk {
        Desk::with(ms, Options::default())
    }

    /// A desk with `options`.
    pub fn with(ms: &MailStack, options: Options) -> Desk {
        let (support, cse) = (ms.unique_domain_user("support"), ms.unique_domain_user("cse"));
        let dir = tempfile::tempdir().unwrap();
        let metrics_port = free_port();
        let root = env!("CARGO_MANIFEST_DIR");
        let lines = ms.srgate_lines().imap(options.imap).smtp(options.smtp_tls);
        let config = format!(
            "{stack_top}data_dir = \"{data_dir}\"\nrules_dir = \"{rules}\"\ntemplates_dir = \"{root}/templates\"\nsupport_address = \"{support}\"\nmetrics_listen = \"127.0.0.1:{metrics_port}\"\n{top}\n{smtp}retry_after = \"1s\"\n{smtp_extra}\n[[mailbox]]\nname = \"support\"\n{imap}username = \"{support}\"\npassword = \"secret\"\npoll_interval = \"1s\"\n{mailbox}\n[[cse]]\nname = \"Ann\"\nemail = \"{cse}\"\n{tail}\n",
            // A desk whose options name a store keeps it (tests/failover_e2e.rs).
            stack_top = if options.top.contains("store = {") { lines.top_level_own_store() } else { lines.top_level() },
            data_dir = options.data_dir,
            rules = options.rules_dir.display(),
            top = options.top,
            smtp = lines.smtp_section(),
            smtp_extra = options.smtp,
            imap = lines.mailbox_lines(),
            mailbox = options.mailbox,
            tail = options.tail,
        );
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
        Desk { support, cse, dir, metrics_port }
    }

    /// The configuration file.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("srgate.toml")
    }

    /// `srgate ARGS…` on this desk's configuration.
    pub fn srgate(&self, args: &[&str]) -> Output {
        Cli::in_dir(self.dir.path()).output(args)
    }

    /// `run --once --now NOW`, which must succeed.
    pub fn run_at(&self, now: &str) {
        let out = self.srgate(&["run", "--once", "--now", now]);
        assert!(out.status.success(), "run --once failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `sr show N --json`.
    pub fn sr(&self, id: u64) -> Value {
        let out = self.srgate(&["sr", "show", &id.to_string(), "--json"]);
        assert!(out.status.success(), "sr show {id}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The daemon, logging (info) to `daemon.log` in the desk's folder.
    pub fn daemon(&self) -> Child {
        self.daemon_with(&[])
    }

    /// The daemon with more environment (e.g. `FAILPOINTS`).
    pub fn daemon_with(&self, env: &[(&str, &str)]) -> Child {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("daemon.log")).unwrap();
        let mut c = Cli::in_dir(self.dir.path()).command();
        c.arg("run").env("SRGATE_LOG", "info").stderr(log);
        for (k, v) in env {
            c.env(k, v);
        }
        c.spawn().unwrap()
    }

    /// Everything the daemons of this desk logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// `sr list --json` (empty when it fails).
    pub fn srs(&self) -> Vec<Value> {
        let out = self.srgate(&["sr", "list", "--json"]);
        if !out.status.success() {
            return Vec::new();
        }
        serde_json::from_slice::<Value>(&out.stdout).ok().and_then(|v| v.as_array().cloned()).unwrap_or_default()
    }

    /// GET `path` on the metrics listener: (status, body).
    pub fn http(&self, path: &str) -> Option<(u16, String)> {
        super::http_get(self.metrics_port, path)
    }

    /// One sample of `/metrics` (`name` with its labels, as written).
    pub fn metric(&self, name: &str) -> Option<f64> {
        let (_, body) = self.http("/metrics")?;
        body.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.split_whitespace().last()?.parse().ok())
    }
}

/// A second `[[mailbox]]` on the stack (to append to a desk's `tail`).
pub fn mailbox_table(ms: &MailStack, name: &str, user: &str) -> String {
    let lines = ms.srgate_lines().imap(StackTls::Starttls);
    format!(
        "[[mailbox]]\nname = \"{name}\"\n{}username = \"{user}\"\npassword = \"secret\"\npoll_interval = \"1s\"\n",
        lines.mailbox_lines()
    )
}

/// Sends `sig` (e.g. "TERM", "HUP") to the daemon.
pub fn signal(child: &Child, sig: &str) {
    let _ = Command::new("kill").arg(format!("-{sig}")).arg(child.id().to_string()).status();
}

/// SIGTERM, then waits (at most 15 s) for the daemon to exit.
pub fn stop(mut child: Child) -> std::process::ExitStatus {
    signal(&child, "TERM");
    for _ in 0..300 {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    panic!("the daemon did not stop within 15 s of SIGTERM");
}

/// Waits (at most `limit`) for a daemon to exit on its own; its status.
pub fn exited(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let mut status = None;
    wait_until(limit, Duration::from_millis(50), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status
}

/// A new customer mail with a Message-ID of its own.
pub fn customer_mail(customer: &str, support: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: {customer}\r\nTo: {support}\r\nSubject: {subject}\r\nMessage-ID: <{}>\r\n\r\nPlease help with {subject}.\r\n",
        customer.replace('@', ".id@")
    )
    .into_bytes()
}

/// (customers with an SR, SRs, customers acknowledged, duplicate acknowledgements)
pub fn accounting(ms: &MailStack, desk: &Desk, customers: &[String]) -> (usize, usize, usize, usize) {
    let srs = desk.srs();
    let with_sr = customers.iter().filter(|c| srs.iter().any(|s| s["customer"] == c.as_str())).count();
    let acks: Vec<usize> = customers.iter().map(|c| ms.count_messages(c, "INBOX")).collect();
    (with_sr, srs.len(), acks.iter().filter(|n| **n > 0).count(), acks.iter().map(|n| n.saturating_sub(1)).sum())
}
