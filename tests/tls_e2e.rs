//! TLS on the real stack: a mailbox over IMAPS and one over STARTTLS read and answered
//! over SMTP with STARTTLS and implicit TLS; servers whose certificate the configuration
//! does not trust refused with an error that names them, in `run --once`'s output, the
//! daemon's log and `/healthz`; plaintext to another host refused unless allowed, and
//! then warned about by `srgate check`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

use common::cli::Cli;
use common::config::{StackLines, StackTls};
use common::{MailStack, stack, wait_until};

const WAIT: Duration = Duration::from_secs(20);
/// Tuesday 3 March 2026, 10:30 CET.
const T0: &str = "2026-03-03T09:30:00Z";

/// One support desk: its mailbox, its CSE, its data and configuration.
struct Desk {
    support: String,
    cse: String,
    dir: tempfile::TempDir,
    /// Top-level lines of the configuration (`metrics_listen`).
    extra: String,
}

impl Desk {
    /// A desk reaching the stack as `lines` say; `extra` goes at the top of the file.
    fn new(ms: &MailStack, lines: &StackLines<'_>, extra: &str) -> Desk {
        Desk::mixed(ms, lines, lines, extra)
    }

    /// A desk whose `[[mailbox]]` takes its connection lines from `imap`, its `[smtp]` from `smtp`.
    fn mixed(ms: &MailStack, imap: &StackLines<'_>, smtp: &StackLines<'_>, extra: &str) -> Desk {
        let desk = Desk {
            support: ms.unique_domain_user("support"),
            cse: ms.unique_domain_user("cse"),
            dir: tempfile::tempdir().unwrap(),
            extra: extra.to_string(),
        };
        desk.configure(imap, smtp);
        desk
    }

    /// (Re)writes the configuration.
    fn configure(&self, imap: &StackLines<'_>, smtp: &StackLines<'_>) {
        let root = env!("CARGO_MANIFEST_DIR");
        let config = format!(
            "{top}{extra}data_dir = \"data\"\nrules_dir = \"{root}/rules\"\ntemplates_dir = \"{root}/templates\"\nsupport_address = \"{support}\"\n{smtp}retry_after = \"1s\"\n[[mailbox]]\nname = \"support\"\n{imap}username = \"{support}\"\npassword = \"secret\"\npoll_interval = \"1s\"\n[[cse]]\nname = \"Ann\"\nemail = \"{cse}\"\n",
            top = imap.top_level(),
            extra = self.extra,
            support = self.support,
            smtp = smtp.smtp_section(),
            imap = imap.mailbox_lines(),
            cse = self.cse,
        );
        std::fs::write(self.dir.path().join("srgate.toml"), config).unwrap();
    }

    fn cli(&self) -> Cli {
        Cli::in_dir(self.dir.path())
    }

    fn run_once_at(&self, now: &str) -> Output {
        self.cli().command().args(["run", "--once", "--now", now]).env("SRGATE_LOG", "info").output().unwrap()
    }

    fn srs(&self) -> usize {
        self.cli().json(&["sr", "list", "--json"]).as_array().map_or(0, Vec::len)
    }

    /// A new customer writes to the desk; returns the customer's address.
    fn customer_writes(&self, ms: &MailStack, subject: &str) -> String {
        let customer = ms.unique_user_at("cust", "example.com");
        let raw = format!(
            "From: {customer}\r\nTo: {support}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Tue, 3 Mar 2026 10:00:00 +0100\r\n\r\nPlease help with {subject}.\r\n",
            support = self.support,
            id = customer.replace('@', ".msg@"),
        );
        ms.send(raw.as_bytes(), &customer, &[&self.support]);
        ms.wait_for_messages(&self.support, "INBOX", 1, WAIT);
        customer
    }
}

/// A CA of our own that signed nothing the stack presents (P-256, in `dir`).
fn other_ca(dir: &Path) -> PathBuf {
    let (key, pem) = (dir.join("other-ca.key"), dir.join("other-ca.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=a CA the stack does not use"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&pem)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    pem
}

fn untrusted(port: u16) -> String {
    format!("certificate for 127.0.0.1:{port} is not trusted (unknown issuer); set tls_ca_file to the CA that signed it")
}

/// A customer's mail is read over `imap` and acknowledged over `smtp`.
fn read_and_answered(imap: StackTls, smtp: StackTls) {
    let ms = stack();
    let desk = Desk::new(ms, &ms.srgate_lines().imap(imap).smtp(smtp), "");
    let customer = desk.customer_writes(ms, "VPN down");
    let out = desk.run_once_at(T0);
    assert!(out.status.success(), "run --once: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(desk.srs(), 1);
    let ack = ms.wait_for_messages(&customer, "INBOX", 1, WAIT);
    assert!(String::from_utf8_lossy(&ack[0]).contains("[SR#100001]"), "{}", String::from_utf8_lossy(&ack[0]));
    let flags = ms.flags(&desk.support, "INBOX");
    assert!(flags.iter().all(|(_, f)| f.iter().any(|x| x == "\\Seen")), "read over TLS, flagged: {flags:?}");
}

#[test]
fn a_mailbox_over_imaps_is_read_and_answered_over_smtp_with_starttls() {
    read_and_answered(StackTls::Implicit, StackTls::Starttls);
}

#[test]
fn a_mailbox_over_starttls_is_read_and_answered_over_smtp_with_implicit_tls() {
    read_and_answered(StackTls::Starttls, StackTls::Implicit);
}

#[test]
fn an_imap_server_the_config_does_not_trust_is_refused_with_its_name_and_the_remedy() {
    let ms = stack();
    let scratch = tempfile::tempdir().unwrap();
    let other = other_ca(scratch.path());
    for (tls, port, ca) in [(StackTls::Implicit, ms.imaps_port, None), (StackTls::Starttls, ms.imap_port, Some(other.as_path()))] {
        let desk = Desk::new(ms, &ms.srgate_lines().imap(tls).ca_file(ca), "");
        desk.customer_writes(ms, "printer on fire");
        let out = desk.run_once_at(T0);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{tls:?}: an untrusted server must fail the run: {stderr}");
        assert!(stderr.contains(&untrusted(port)), "{tls:?}: {stderr}");
        assert_eq!(desk.srs(), 0, "{tls:?}: nothing was read");
        let flags = ms.flags(&desk.support, "INBOX");
        assert!(flags.iter().all(|(_, f)| !f.iter().any(|x| x == "\\Seen")), "{tls:?}: the mail is left unread: {flags:?}");
    }
}

#[test]
fn an_smtp_server_the_config_does_not_trust_is_refused_and_the_mail_waits() {
    let ms = stack();
    let scratch = tempfile::tempdir().unwrap();
    let other = other_ca(scratch.path());
    for (tls, port) in [(StackTls::Starttls, ms.smtp_port), (StackTls::Implicit, ms.smtps_port)] {
        // IMAP trusts the stack's CA; SMTP trusts another one.
        let trusting = ms.srgate_lines().smtp(tls);
        let desk = Desk::mixed(ms, &trusting, &trusting.clone().ca_file(Some(&other)), "");

        let customer = desk.customer_writes(ms, "disk full");
        let out = desk.run_once_at(T0);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&untrusted(port)), "{tls:?}: {stderr}");
        assert!(stderr.contains("delivery deferred"), "{tls:?}: {stderr}");
        assert_eq!(desk.srs(), 1, "{tls:?}: the mail was read and its SR opened");

        // Trusting the right CA delivers what waited.
        desk.configure(&trusting, &trusting);
        let out = desk.run_once_at("2026-03-03T10:30:00Z");
        assert!(out.status.success(), "{tls:?}: {}", String::from_utf8_lossy(&out.stderr));
        ms.wait_for_messages(&customer, "INBOX", 1, WAIT);
    }
}

/// A running daemon with `/healthz` on `port`.
struct Daemon {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Daemon {
    fn start(desk: &Desk, port: u16) -> Daemon {
        let log = desk.dir.path().join("daemon.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = desk.cli().command().arg("run").env("SRGATE_LOG", "info").stderr(file).spawn().unwrap();
        Daemon { child, port, log }
    }

    fn health(&self) -> Option<(u16, String)> {
        common::http_get(self.port, "/healthz")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        if !wait_until(Duration::from_secs(15), Duration::from_millis(50), || self.child.try_wait().is_ok_and(|s| s.is_some())) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn healthz_and_the_log_name_the_servers_whose_certificate_is_not_trusted() {
    let ms = stack();
    let scratch = tempfile::tempdir().unwrap();
    let other = other_ca(scratch.path());

    // IMAP over IMAPS signed by a CA the config does not trust.
    let port = free_port();
    let trusting = ms.srgate_lines();
    let desk = Desk::mixed(ms, &trusting.clone().ca_file(Some(&other)), &trusting, &format!("metrics_listen = \"127.0.0.1:{port}\"\n"));
    let daemon = Daemon::start(&desk, port);
    let mut last = None;
    // /healthz gives the mailbox and a short reason; the log names the server and the remedy.
    let refused = wait_until(WAIT, Duration::from_millis(200), || {
        last = daemon.health();
        last.as_ref().is_some_and(|(status, body)| *status == 503 && body.contains("mailbox support: TLS certificate not trusted"))
    });
    assert!(refused, "healthz: {last:?}\n{}", daemon.log());
    assert!(daemon.log().contains(&untrusted(ms.imaps_port)), "{}", daemon.log());
    drop(daemon);

    // IMAP trusted, SMTP (STARTTLS) not: the mail is read, its acknowledgement waits, health says why.
    let port = free_port();
    let desk = Desk::mixed(ms, &trusting, &trusting.clone().ca_file(Some(&other)), &format!("metrics_listen = \"127.0.0.1:{port}\"\n"));
    let daemon = Daemon::start(&desk, port);
    let customer = desk.customer_writes(ms, "backup failed");
    let refused = wait_until(WAIT, Duration::from_millis(200), || {
        last = daemon.health();
        last.as_ref()
            .is_some_and(|(status, body)| *status == 503 && body.contains(&format!("smtp: cannot connect: {}", untrusted(ms.smtp_port))))
    });
    assert!(refused, "healthz: {last:?}\n{}", daemon.log());
    assert!(daemon.log().contains(&untrusted(ms.smtp_port)), "{}", daemon.log());
    assert_eq!(ms.count_messages(&customer, "INBOX"), 0);
}

#[test]
fn plaintext_to_another_host_is_refused_unless_allowed_and_check_warns_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let write = |smtp_extra: &str| {
        let config = format!(
            "data_dir = \"data\"\nrules_dir = \"{root}/rules\"\ntemplates_dir = \"{root}/templates\"\nsupport_address = \"support@example.test\"\n[smtp]\nhost = \"smtp.example.com\"\nport = 25\ntls = \"none\"\n{smtp_extra}[[mailbox]]\nhost = \"imap.example.com\"\nport = 993\nusername = \"support@example.test\"\npassword = \"secret\"\n[[cse]]\nname = \"Ann\"\nemail = \"ann@example.test\"\n"
        );
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
    };
    let cli = Cli::in_dir(dir.path());
    let config = dir.path().join("srgate.toml");

    write("");
    let out = cli.output(&["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:8: [smtp]: `tls = \"none\"` would send the password and the mail in clear to smtp.example.com:25",
            config.display()
        )),
        "{stderr}"
    );

    write("allow_plaintext = true\n");
    for _ in 0..2 {
        let out = cli.output(&["check"]);
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{stderr}");
        assert!(stdout.contains(": ok ("), "{stdout}");
        assert!(stderr.contains(&format!("{}:8: warning: [smtp]: plaintext to smtp.example.com:25", config.display())), "{stderr}");
    }
}
