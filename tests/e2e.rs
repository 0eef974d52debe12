//! End to end on the real stack: Postfix + Dovecot started by `common`, the
//! `srgate` binary driven as an operator would, mutt as the CSE's mail client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::cli::Cli;
use common::read::{attachment_names, body, header, subject};
use common::{MailStack, stack, wait_until};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

/// One support desk of one test: its own support mailbox, CSEs, data dir.
struct Desk {
    support: String,
    cses: Vec<String>,
    dir: tempfile::TempDir,
}

impl Desk {
    fn new(ms: &MailStack) -> Desk {
        Self::with(ms, "")
    }

    /// A desk whose `[[mailbox]]` gets `mailbox_extra` lines.
    fn with(ms: &MailStack, mailbox_extra: &str) -> Desk {
        let support = ms.unique_domain_user("support");
        let cses = vec![ms.unique_domain_user("cse-ann"), ms.unique_domain_user("cse-bob")];
        let dir = tempfile::tempdir().unwrap();
        let root = env!("CARGO_MANIFEST_DIR");
        let lines = ms.srgate_lines();
        let config = format!(
            r#"{top}data_dir = "data"
rules_dir = "{root}/rules"
templates_dir = "{root}/templates"
support_address = "{support}"
support_name = "Example Support"
{smtp}[[mailbox]]
name = "support"
{imap}username = "{support}"
password = "secret"
poll_interval = "1s"
{mailbox_extra}
[[cse]]
name = "Ann Engineer"
email = "{ann}"
[[cse]]
name = "Bob Engineer"
email = "{bob}"
"#,
            top = lines.top_level(),
            smtp = lines.smtp_section(),
            imap = lines.mailbox_lines(),
            ann = cses[0],
            bob = cses[1],
        );
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
        Desk { support, cses, dir }
    }

    fn cmd(&self) -> Command {
        let mut c = Cli::in_dir(self.dir.path()).command();
        c.env("SRGATE_LOG", "info");
        c
    }

    fn srgate(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// One cycle at a fixed instant inside business hours (Tuesday 3 March 2026, 10:30 CET),
    /// so that assignment does not depend on the day the tests run.
    fn run_once(&self) {
        self.run_once_at("2026-03-03T09:30:00Z");
    }

    fn run_once_at(&self, now: &str) {
        Cli::in_dir(self.dir.path()).run_at(now);
    }

    fn json(&self, args: &[&str]) -> Value {
        Cli::in_dir(self.dir.path()).json(args)
    }

    fn srs(&self) -> Vec<Value> {
        self.json(&["sr", "list", "--json"]).as_array().unwrap().clone()
    }

    fn sr(&self, id: u64) -> Value {
        self.json(&["sr", "show", &id.to_string(), "--json"])
    }

    /// Waits until the support INBOX holds `n` messages.
    fn wait_inbox(&self, ms: &MailStack, n: usize) {
        ms.wait_for_messages(&self.support, "INBOX", n, WAIT);
    }
}

fn mail(from: &str, to: &str, subject: &str, message_id: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\nDate: Tue, 3 Mar 2026 10:00:00 +0100\r\n{extra_headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").into_bytes()
}

fn with_attachment(from: &str, to: &str, subject: &str, message_id: &str, body: &str, file: &str, content: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b1\r\nContent-Type: text/plain; name=\"{file}\"\r\nContent-Disposition: attachment; filename=\"{file}\"\r\n\r\n{content}\r\n--b1--\r\n"
    )
    .into_bytes()
}

/// Opens one SR from `customer` with an attachment and returns (desk, sr id).
fn opened(ms: &MailStack) -> (Desk, String, u64) {
    let desk = Desk::new(ms);
    let customer = ms.unique_user_at("jane", "example.com");
    let raw = with_attachment(
        &format!("Jane Doe <{customer}>"),
        &desk.support,
        "Printer on fire",
        &format!("first-{customer}"),
        "It is burning.",
        "log.txt",
        "smoke detected",
    );
    ms.send(&raw, &customer, &[&desk.support]);
    desk.wait_inbox(ms, 1);
    desk.run_once();
    let srs = desk.srs();
    assert_eq!(srs.len(), 1, "{srs:?}");
    let id = srs[0]["id"].as_u64().unwrap();
    (desk, customer, id)
}

#[test]
fn a_new_mail_opens_an_sr_acknowledges_the_customer_and_notifies_the_cse() {
    let ms = stack();
    let (desk, customer, id) = opened(ms);
    assert_eq!(id, 100_001);
    let sr = desk.sr(id);
    assert_eq!(sr["token"], "[SR#100001]");
    assert_eq!(sr["state"], "new");
    assert_eq!(sr["priority"], "P3");
    assert_eq!(sr["language"], "en");
    assert_eq!(sr["customer"], customer.as_str());
    assert_eq!(sr["subject"], "Printer on fire");
    assert_eq!(sr["contact_attempts"], 0);
    assert_eq!(sr["closed_at"], Value::Null);
    assert_eq!(sr["close_reason"], Value::Null);
    let assignee = sr["assignee"].as_str().unwrap().to_string();
    assert!(desk.cses.contains(&assignee));
    let messages = sr["messages"].as_array().unwrap();
    assert_eq!(messages[0]["direction"], "in");
    assert_eq!(messages[0]["attachments"], serde_json::json!(["log.txt"]));
    assert_eq!(messages.len(), 3);

    // The acknowledgement, threaded to the customer's mail, marked automatic.
    let acks = ms.wait_for_messages(&customer, "INBOX", 1, WAIT);
    let ack = &acks[0];
    assert_eq!(subject(ack), "[SR#100001] Printer on fire");
    assert_eq!(header(ack, "In-Reply-To"), format!("<first-{customer}>"));
    assert_eq!(header(ack, "Auto-Submitted"), "auto-replied");
    assert!(header(ack, "From").contains(&desk.support));
    assert!(header(ack, "Reply-To").contains(&desk.support));
    assert!(!header(ack, "Message-ID").is_empty());

    // The CSE's notification carries the text and the attachment.
    let notes = ms.wait_for_messages(&assignee, "INBOX", 1, WAIT);
    assert_eq!(subject(&notes[0]), "[SR#100001] Printer on fire");
    assert!(body(&notes[0]).contains("It is burning."));
    assert_eq!(attachment_names(&notes[0]), vec!["log.txt"]);

    // The inbound mail is flagged only now, after the commit.
    let flags = ms.flags(&desk.support, "INBOX");
    assert!(flags.iter().all(|(_, f)| f.iter().any(|x| x == "\\Seen")), "{flags:?}");
}

#[test]
fn a_cse_reply_from_mutt_is_relayed_and_a_customer_reply_goes_back_to_the_cse() {
    let ms = stack();
    let (desk, customer, id) = opened(ms);
    let assignee = desk.sr(id)["assignee"].as_str().unwrap().to_string();
    let note = ms.wait_for_messages(&assignee, "INBOX", 1, WAIT).remove(0);
    let note_id = header(&note, "Message-ID");

    // The CSE answers from mutt, quoting the notification.
    let draft = format!(
        "From: Engineer <{assignee}>\nTo: {support}\nSubject: Re: {subj}\nIn-Reply-To: {note_id}\nReferences: {note_id}\n\nPlease unplug it and send a photo.\n\nOn Tue, Mar 03, 2026, Example Support wrote:\n> It is burning.\n",
        support = desk.support,
        subj = subject(&note)
    );
    ms.mutt_send(&assignee, &draft);
    desk.wait_inbox(ms, 2);
    desk.run_once();

    let sr = desk.sr(id);
    assert_eq!(sr["state"], "awaiting_customer");
    assert_eq!(sr["contact_attempts"], 1);
    let inbox = ms.wait_for_messages(&customer, "INBOX", 2, WAIT);
    let relay = inbox.iter().find(|m| body(m).contains("unplug")).expect("relay arrived");
    assert!(subject(relay).contains("[SR#100001]"));
    assert!(!body(relay).contains("> It is burning."), "quoted history is cut: {}", body(relay));
    assert_eq!(header(relay, "In-Reply-To"), format!("<first-{customer}>"));
    assert!(header(relay, "From").contains(&desk.support));

    // The customer answers the relay (token in subject), with an attachment.
    let raw = with_attachment(
        &customer,
        &desk.support,
        "Re: [SR#100001] Printer on fire",
        &format!("second-{customer}"),
        "Here is the photo.",
        "photo.txt",
        "ashes",
    );
    ms.send(&raw, &customer, &[&desk.support]);
    desk.wait_inbox(ms, 3);
    desk.run_once();
    let sr = desk.sr(id);
    assert_eq!(sr["state"], "open");
    assert_eq!(sr["contact_attempts"], 0);
    let cse_inbox = ms.wait_for_messages(&assignee, "INBOX", 2, WAIT);
    let update = cse_inbox.iter().find(|m| body(m).contains("Here is the photo.")).expect("update reached the CSE");
    assert!(subject(update).contains("[SR#100001]"));
    assert_eq!(attachment_names(update), vec!["photo.txt"]);
    assert_eq!(desk.srs().len(), 1, "no new SR was opened");
}

#[test]
fn a_reply_threads_by_references_without_a_token() {
    let ms = stack();
    let (desk, customer, id) = opened(ms);
    let ack = ms.wait_for_messages(&customer, "INBOX", 1, WAIT).remove(0);
    let ack_id = header(&ack, "Message-ID");
    let raw = mail(
        &customer,
        &desk.support,
        "Re: Printer on fire",
        &format!("third-{customer}"),
        &format!("In-Reply-To: {ack_id}\r\nReferences: {ack_id}\r\n"),
        "More smoke.",
    );
    ms.send(&raw, &customer, &[&desk.support]);
    desk.wait_inbox(ms, 2);
    desk.run_once();
    assert_eq!(desk.srs().len(), 1);
    let sr = desk.sr(id);
    assert_eq!(sr["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "in").count(), 2);
}

#[test]
fn reading_a_message_twice_changes_nothing() {
    let ms = stack();
    let (desk, customer, _) = opened(ms);
    // The same mail again (a client re-uploads it; it gets a new UID) and a cycle more.
    let raw = with_attachment(
        &format!("Jane Doe <{customer}>"),
        &desk.support,
        "Printer on fire",
        &format!("first-{customer}"),
        "It is burning.",
        "log.txt",
        "smoke detected",
    );
    ms.append(&desk.support, "INBOX", &raw);
    // A mail without Message-ID, twice.
    let bare = format!("From: {customer}\r\nTo: {}\r\nSubject: No id\r\n\r\nbody\r\n", desk.support).into_bytes();
    ms.append(&desk.support, "INBOX", &bare);
    ms.append(&desk.support, "INBOX", &bare);
    desk.run_once();
    desk.run_once();
    let srs = desk.srs();
    assert_eq!(srs.len(), 2, "one SR for the first mail, one for the id-less mail: {srs:?}");
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&customer, "INBOX"), 2, "one acknowledgement per SR");
}

#[test]
fn processed_mail_moves_to_the_processed_folder_and_bad_mail_to_quarantine() {
    let ms = stack();
    let desk = Desk::with(ms, "processed_folder = \"Processed\"");
    let customer = ms.unique_user_at("max", "example.com");
    ms.append(&desk.support, "INBOX", format!("To: {}\r\nSubject: who am I\r\n\r\nno sender\r\n", desk.support).as_bytes());
    ms.send(&mail(&customer, &desk.support, "VPN down", &format!("vpn-{customer}"), "", "No tunnel."), &customer, &[&desk.support]);
    desk.wait_inbox(ms, 2);
    desk.run_once();
    assert_eq!(desk.srs().len(), 1);
    assert_eq!(ms.count_messages(&desk.support, "INBOX"), 0);
    assert_eq!(ms.count_messages(&desk.support, "Processed"), 1);
    assert_eq!(ms.count_messages(&desk.support, "Quarantine"), 1);
    let q = desk.json(&["quarantine", "list", "--json"]);
    let q = q.as_array().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["mailbox"], "support");
    assert!(q[0]["reason"].as_str().unwrap().contains("sender"));
    // Unreadable as a whole, its headers still say what it is about.
    assert_eq!(q[0]["subject"], "who am I");
}

#[test]
fn run_once_now_freezes_the_clock() {
    let ms = stack();
    let desk = Desk::new(ms);
    let customer = ms.unique_user_at("kim", "example.com");
    ms.send(&mail(&customer, &desk.support, "Disk full", &format!("d-{customer}"), "", "Full."), &customer, &[&desk.support]);
    desk.wait_inbox(ms, 1);
    desk.run_once_at("2026-03-03T09:15:00+01:00");
    let sr = &desk.srs()[0];
    assert_eq!(sr["created_at"], "2026-03-03T08:15:00Z");
    assert_eq!(sr["messages"][1]["at"], "2026-03-03T08:15:00Z");
}

#[test]
fn sr_numbers_are_sequential_and_round_robin_assigns() {
    let ms = stack();
    let desk = Desk::new(ms);
    for i in 0..3 {
        let customer = ms.unique_user_at("c", "example.com");
        ms.send(
            &mail(&customer, &desk.support, &format!("Issue {i}"), &format!("rr-{i}-{customer}"), "", "x"),
            &customer,
            &[&desk.support],
        );
        desk.wait_inbox(ms, i + 1);
        desk.run_once();
    }
    let srs = desk.srs();
    let ids: Vec<u64> = srs.iter().map(|s| s["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![100_001, 100_002, 100_003]);
    let assignees: Vec<&str> = srs.iter().map(|s| s["assignee"].as_str().unwrap()).collect();
    assert_eq!(assignees[0], assignees[2]);
    assert_ne!(assignees[0], assignees[1]);
    let only_new = desk.json(&["sr", "list", "--state", "new", "--json"]);
    assert_eq!(only_new.as_array().unwrap().len(), 3);
    let closed = desk.json(&["sr", "list", "--state", "closed", "--json"]);
    assert_eq!(closed.as_array().unwrap().len(), 0);
}

#[test]
fn check_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "data_dir = \"d\"\nsupport_address = \"s@example.test\"\ncolour = \"blue\"\n[smtp]\nhost = \"h\"\nport = 25\n[[mailbox]]\nhost = \"h\"\nport = 143\nusername = \"u\"\npassword = \"p\"\npoll_interval = \"soon\"\n[[cse]]\nname = \"A\"\nemail = \"a@example.test\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_srgate")).arg("--config").arg(&path).arg("check").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3: unknown key `colour`"), "{err}");
    assert!(err.contains("bad.toml:7:") && err.contains("poll_interval"), "{err}");
}

/// Starts the daemon on `desk`.
fn spawn_daemon(desk: &Desk) -> std::process::Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(desk.dir.path().join("daemon.log")).unwrap();
    desk.cmd().arg("run").stderr(log).spawn().unwrap()
}

#[test]
fn the_daemon_serves_sr_commands_refuses_a_second_daemon_and_stops_cleanly() {
    let ms = stack();
    let desk = Desk::new(ms);
    let daemon = spawn_daemon(&desk);
    let customer = ms.unique_user_at("eve", "example.com");
    ms.send(&mail(&customer, &desk.support, "Login broken", &format!("l-{customer}"), "", "Cannot log in."), &customer, &[&desk.support]);
    // IDLE wakes the daemon; the SR shows through the control socket while the daemon holds the store.
    let appeared =
        wait_until(WAIT, Duration::from_millis(200), || desk.srgate(&["sr", "list", "--json"]).status.success() && !desk.srs().is_empty());
    assert!(appeared, "no SR; daemon log:\n{}", std::fs::read_to_string(desk.dir.path().join("daemon.log")).unwrap_or_default());
    assert_eq!(desk.sr(100_001)["customer"], customer.as_str());
    ms.wait_for_messages(&customer, "INBOX", 1, WAIT);

    let second = desk.srgate(&["run"]);
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("another srgate daemon"), "{}", String::from_utf8_lossy(&second.stderr));

    let status = common::desk::stop(daemon);
    assert!(status.success(), "exit status {status:?}");
    // Without the daemon the command opens the store itself.
    assert_eq!(desk.srs().len(), 1);
}

#[test]
fn sigkill_while_working_through_100_mails_loses_nothing_and_acknowledges_once() {
    let ms = stack();
    let desk = Desk::new(ms);
    let customers: Vec<String> = (0..100).map(|i| ms.unique_user_at(&format!("k{i}"), "example.com")).collect();
    for (i, c) in customers.iter().enumerate() {
        ms.append(&desk.support, "INBOX", &mail(c, &desk.support, &format!("Crash {i}"), &format!("crash-{i}-{c}"), "", "Crash test."));
    }
    let mut daemon = spawn_daemon(&desk);
    // Kill it as soon as some (not all) acknowledgements are out.
    wait_until(WAIT, Duration::from_millis(5), || {
        customers.iter().take(100).filter(|c| ms.count_messages(c, "INBOX") > 0).take(5).count() >= 5
    });
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let daemon = spawn_daemon(&desk);
    let all_acked =
        wait_until(Duration::from_secs(60), Duration::from_millis(250), || customers.iter().all(|c| ms.count_messages(c, "INBOX") >= 1));
    assert!(all_acked, "every customer is acknowledged");
    assert!(common::desk::stop(daemon).success());
    ms.wait_queue_empty(WAIT);
    let srs = desk.srs();
    assert_eq!(srs.len(), 100);
    let mut customers_seen: Vec<&str> = srs.iter().map(|s| s["customer"].as_str().unwrap()).collect();
    customers_seen.sort();
    customers_seen.dedup();
    assert_eq!(customers_seen.len(), 100, "one SR per mail");
    let duplicates: usize = customers.iter().map(|c| ms.count_messages(c, "INBOX").saturating_sub(1)).sum();
    // Mail in flight at the kill: at most one delivery batch (the pool size).
    assert!(duplicates <= 4, "{duplicates} duplicate acknowledgements");
}
