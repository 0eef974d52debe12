//! Issue 5 end to end on the real stack: auto-replies, bounces, loops, hostile mail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::cli::Cli;
use common::config::StackTls;
use common::read::{header, kinds};
use common::{MailStack, stack};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);
const T0: &str = "2026-03-03T09:30:00Z";

struct Desk {
    support: String,
    cse: String,
    customer: String,
    dir: tempfile::TempDir,
}

impl Desk {
    fn new(ms: &MailStack) -> Desk {
        let (support, cse) = (ms.unique_domain_user("support"), ms.unique_domain_user("cse"));
        let customer = ms.unique_user_at("cust", "example.com");
        let dir = tempfile::tempdir().unwrap();
        let root = env!("CARGO_MANIFEST_DIR");
        let lines = ms.srgate_lines().smtp(StackTls::Implicit);
        let config = format!(
            "{top}data_dir = \"data\"\nrules_dir = \"{root}/rules\"\ntemplates_dir = \"{root}/templates\"\nsupport_address = \"{support}\"\nmax_attachment_bytes = 100000\n{smtp}[[mailbox]]\nname = \"support\"\n{imap}username = \"{support}\"\npassword = \"secret\"\n[[cse]]\nname = \"Ann\"\nemail = \"{cse}\"\n",
            top = lines.top_level(),
            smtp = lines.smtp_section(),
            imap = lines.mailbox_lines(),
        );
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
        Desk { support, cse, customer, dir }
    }

    fn run_at(&self, now: &str) {
        Cli::in_dir(self.dir.path()).run_at(now);
    }

    fn json(&self, args: &[&str]) -> Value {
        Cli::in_dir(self.dir.path()).json(args)
    }

    fn deliver(&self, ms: &MailStack, from: &str, raw: &str) {
        let n = ms.count_messages(&self.support, "INBOX");
        ms.send(raw.as_bytes(), from, &[&self.support]);
        ms.wait_for_messages(&self.support, "INBOX", n + 1, WAIT);
    }
}

/// Opens SR 100001 and has the CSE answer it, so that it waits on the customer.
fn waiting(ms: &MailStack, desk: &Desk) -> Vec<u8> {
    desk.deliver(
        ms,
        &desk.customer,
        &format!(
            "From: {}\r\nTo: {}\r\nSubject: VPN broken\r\nMessage-ID: <v1@example.com>\r\n\r\nThe VPN drops every five minutes.\r\n",
            desk.customer, desk.support
        ),
    );
    desk.run_at(T0);
    let note = ms.wait_for_messages(&desk.cse, "INBOX", 1, WAIT).remove(0);
    let id = header(&note, "Message-ID");
    desk.deliver(ms, &desk.cse, &format!("From: {}\r\nTo: {}\r\nSubject: Re: [SR#100001] VPN broken\r\nIn-Reply-To: {id}\r\nMessage-ID: <c1@example.test>\r\n\r\nWhich client version do you use?\r\n", desk.cse, desk.support));
    desk.run_at(T0);
    ms.wait_for_messages(&desk.customer, "INBOX", 2, WAIT).remove(1)
}

#[test]
fn an_out_of_office_reply_in_the_cycle_changes_nothing() {
    let ms = stack();
    let desk = Desk::new(ms);
    let relay = waiting(ms, &desk);
    let relay_id = header(&relay, "Message-ID");
    desk.deliver(
        ms,
        &desk.customer,
        &format!("From: {}\r\nTo: {}\r\nSubject: Automatic reply: [SR#100001] VPN broken\r\nAuto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\nIn-Reply-To: {relay_id}\r\nMessage-ID: <ooo1@example.com>\r\n\r\nI am out of the office until Monday.\r\n", desk.customer, desk.support),
    );
    desk.run_at("2026-03-04T09:30:00Z");
    let sr = desk.json(&["sr", "show", "100001", "--json"]);
    assert_eq!((sr["state"].as_str(), sr["contact_attempts"].as_u64()), (Some("awaiting_customer"), Some(1)));
    assert!(kinds(&sr).contains(&"auto_reply".to_string()));
    assert_eq!(ms.count_messages(&desk.cse, "INBOX"), 1, "the CSE is not bothered");
    assert_eq!(ms.count_messages(&desk.customer, "INBOX"), 2, "no answer to an auto-reply");
    desk.run_at("2026-03-06T09:30:00Z");
    assert_eq!(desk.json(&["sr", "show", "100001", "--json"])["contact_attempts"], 2, "the cycle goes on");
}

#[test]
fn a_bounce_lands_on_its_sr_and_the_cse_is_told() {
    let ms = stack();
    let desk = Desk::new(ms);
    let relay = waiting(ms, &desk);
    let relay_id = header(&relay, "Message-ID");
    let dsn = format!(
        "From: MAILER-DAEMON@mail.example.com (Mail Delivery System)\r\nTo: {support}\r\nSubject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <dsn1@mail.example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mail.example.com.\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n\r\n<{cust}>: mailbox full\r\n--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.example.com\r\n\r\nFinal-Recipient: rfc822; {cust}\r\nAction: failed\r\nStatus: 5.2.2\r\n--BB\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {support}\r\nTo: {cust}\r\nSubject: [SR#100001] VPN broken\r\nMessage-ID: {relay_id}\r\n--BB--\r\n",
        support = desk.support,
        cust = desk.customer
    );
    desk.deliver(ms, "mailer-daemon@example.com", &dsn);
    desk.run_at("2026-03-03T10:00:00Z");
    let srs = desk.json(&["sr", "list", "--json"]);
    assert_eq!(srs.as_array().unwrap().len(), 1, "a bounce never opens an SR");
    let sr = &srs[0];
    let failed = sr["events"].as_array().unwrap().iter().find(|e| e["kind"] == "delivery_failed").expect("delivery_failed event");
    assert!(failed["detail"].as_str().unwrap().contains(relay_id.trim_matches(['<', '>'])), "{failed}");
    let cse = ms.wait_for_messages(&desk.cse, "INBOX", 2, WAIT);
    assert!(cse.iter().any(|m| String::from_utf8_lossy(m).contains("Delivery failed")));
}

#[test]
fn an_auto_responder_loop_stops_at_the_cap_and_machine_mail_opens_nothing() {
    let ms = stack();
    let desk = Desk::new(ms);
    let robot = ms.unique_user_at("robot", "example.com");
    for i in 0..7 {
        desk.deliver(ms, &robot, &format!("From: {robot}\r\nTo: {}\r\nSubject: Ticket received {i}\r\nMessage-ID: <robot{i}@example.com>\r\n\r\nThank you for your mail, we will answer soon.\r\n", desk.support));
        desk.run_at(&format!("2026-03-03T09:{:02}:00Z", 30 + i));
    }
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&robot, "INBOX"), 5, "five automated replies an hour, no more");
    // A self-declared auto-responder and a newsletter open no SR and get nothing.
    let machine = ms.unique_user_at("away", "example.com");
    desk.deliver(ms, &machine, &format!("From: {machine}\r\nTo: {}\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <away1@example.com>\r\n\r\nAway.\r\n", desk.support));
    desk.deliver(ms, &machine, &format!("From: {machine}\r\nTo: {}\r\nSubject: News\r\nPrecedence: bulk\r\nList-Id: <news.example.com>\r\nMessage-ID: <news1@example.com>\r\n\r\nNews.\r\n", desk.support));
    desk.run_at("2026-03-03T10:00:00Z");
    assert_eq!(desk.json(&["sr", "list", "--json"]).as_array().unwrap().len(), 7);
    assert_eq!(ms.count_messages(&machine, "INBOX"), 0);
    let q = desk.json(&["quarantine", "list", "--json"]);
    let reasons: Vec<&str> = q.as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.contains("AutoReply mail matching no SR")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("Bulk mail matching no SR")), "{reasons:?}");
}

#[test]
fn hostile_mail_is_quarantined_and_the_next_one_processed() {
    let ms = stack();
    let desk = Desk::new(ms);
    let from = format!("From: {}\r\nTo: {}\r\n", desk.customer, desk.support);
    let mut deep = format!("{from}Subject: deep\r\n");
    for i in 0..1000 {
        deep.push_str(&format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"));
    }
    deep.push_str("Content-Type: text/plain\r\n\r\nx\r\n");
    let mut parts = format!("{from}Subject: parts\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n");
    for _ in 0..10_000 {
        parts.push_str("--p\r\nContent-Type: text/plain\r\n\r\nx\r\n");
    }
    parts.push_str("--p--\r\n");
    let long = format!("{from}Subject: long\r\nX-Junk: {}\r\n\r\nbody\r\n", "j".repeat(1024 * 1024));
    // Refused before it is parsed (the parser would keep a structure for each field).
    let fields = format!("{from}Subject: fields\r\n{}\r\nbody\r\n", "X-Junk: j\r\n".repeat(20_000));
    // IMAP cannot carry NUL in a header (Dovecot refuses the APPEND); NUL in headers is
    // covered by the unit tests. NUL in a body is data: the mail is processed.
    let nul = format!("{from}Subject: nul in body\r\nMessage-ID: <nul@example.com>\r\n\r\nbody\0with nul\r\n");
    let big = format!("{from}Subject: big\r\nContent-Type: text/plain\r\n\r\n{}\r\n", "0123456789abcdef\r\n".repeat(50 * 1024 * 1024 / 18));
    let broken = "Subject: no sender at all\r\n\r\nwho am I".to_string();
    for raw in [&deep, &parts, &long, &fields, &nul, &big, &broken] {
        ms.append(&desk.support, "INBOX", raw.as_bytes());
    }
    ms.append(
        &desk.support,
        "INBOX",
        format!("{from}Subject: A real question\r\nMessage-ID: <real@example.com>\r\n\r\nHow do I reset my password?\r\n").as_bytes(),
    );
    desk.run_at(T0);
    let q = desk.json(&["quarantine", "list", "--json"]);
    let reasons: Vec<String> = q.as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap().to_string()).collect();
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    for needle in ["nested", "10000 MIME parts", "header line", "20003 header fields", "max_message_bytes", "sender"] {
        assert!(reasons.iter().any(|r| r.contains(needle)), "{needle}: {reasons:?}");
    }
    assert_eq!(ms.count_messages(&desk.support, "Quarantine"), 6);
    // Unreadable or unfetched, each record still says what it is about.
    let mut subjects: Vec<&str> = q.as_array().unwrap().iter().map(|r| r["subject"].as_str().unwrap()).collect();
    subjects.sort_unstable();
    assert_eq!(subjects, vec!["big", "deep", "fields", "long", "no sender at all", "parts"]);
    let big_one = q.as_array().unwrap().iter().find(|r| r["reason"].as_str().unwrap().contains("max_message_bytes")).unwrap();
    assert_eq!((big_one["from"].as_str(), big_one["subject"].as_str()), (Some(desk.customer.as_str()), Some("big")), "{big_one}");
    let srs = desk.json(&["sr", "list", "--json"]);
    let subjects: Vec<&str> = srs.as_array().unwrap().iter().map(|s| s["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, vec!["nul in body", "A real question"]);
}

#[test]
fn an_unreadable_mail_naming_an_sr_is_quarantined_and_its_cse_told() {
    let ms = stack();
    let desk = Desk::new(ms);
    waiting(ms, &desk);
    // The customer's follow-up is nested 1,000 MIME levels deep: unreadable, but its
    // headers still say who wrote it and which SR it is for.
    let mut deep = format!("From: {}\r\nTo: {}\r\nSubject: Re: [SR#100001] VPN broken\r\n", desk.customer, desk.support);
    for i in 0..1000 {
        deep.push_str(&format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"));
    }
    deep.push_str("Content-Type: text/plain\r\n\r\nversion 5.1\r\n");
    desk.deliver(ms, &desk.customer, &deep);
    desk.run_at("2026-03-03T10:00:00Z");
    let q = desk.json(&["quarantine", "list", "--json"]);
    assert_eq!(q[0]["from"], desk.customer.as_str(), "{q}");
    assert_eq!(q[0]["subject"], "Re: [SR#100001] VPN broken", "{q}");
    let sr = desk.json(&["sr", "show", "100001", "--json"]);
    assert!(kinds(&sr).contains(&"quarantined".to_string()), "{sr}");
    assert_eq!(sr["state"], "awaiting_customer", "the SR itself is unchanged");
    let cse = ms.wait_for_messages(&desk.cse, "INBOX", 2, WAIT);
    let told = cse.iter().map(|m| String::from_utf8_lossy(m).into_owned()).find(|m| m.contains("was quarantined"));
    let told = told.expect("the CSE is told");
    assert!(told.contains("[SR#100001]") && told.contains("nested") && told.contains(desk.customer.as_str()), "{told}");
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&desk.customer, "INBOX"), 2, "nothing goes to the customer");
}

#[test]
fn large_attachments_are_kept_but_not_forwarded() {
    let ms = stack();
    let desk = Desk::new(ms);
    let blob = "QUFB".repeat(40_000); // 120 KB decoded, over the 100 KB limit of this desk
    let raw = format!(
        "From: {}\r\nTo: {}\r\nSubject: Crash dump\r\nMessage-ID: <dump@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nThe dump is attached.\r\n--m\r\nContent-Type: application/octet-stream; name=\"core.dmp\"\r\nContent-Disposition: attachment; filename=\"core.dmp\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{blob}\r\n--m\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\n\r\nsmall\r\n--m--\r\n",
        desk.customer, desk.support
    );
    desk.deliver(ms, &desk.customer, &raw);
    desk.run_at(T0);
    let sr = desk.json(&["sr", "show", "100001", "--json"]);
    assert_eq!(sr["messages"][0]["attachments"], serde_json::json!(["core.dmp", "notes.txt"]));
    let note = ms.wait_for_messages(&desk.cse, "INBOX", 1, WAIT).remove(0);
    let text = String::from_utf8_lossy(&note);
    assert!(text.contains("NOT attached") && text.contains("core.dmp"), "{text}");
    assert!(text.contains("notes.txt"));
    let ack = ms.wait_for_messages(&desk.customer, "INBOX", 1, WAIT).remove(0);
    assert!(String::from_utf8_lossy(&ack).contains("core.dmp"));
    // Both files are kept in the store, addressed by content hash, and come back whole.
    let files = sr["messages"][0]["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "the original and both attachments: {files:?}");
    for file in files {
        let sha = file["sha256"].as_str().unwrap();
        let out = Cli::in_dir(desk.dir.path()).output(&["file", "get", sha]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout.len() as u64, file["size"].as_u64().unwrap(), "{file}");
    }
}

/// Issue 12, classes 7, 8 and 10 on the real stack: a bounce whose From has no domain is
/// recorded like any bounce; a delay warning is an event and nobody is told; an abuse
/// report naming the SR and our mail touches no SR, is answered by nobody, and is kept.
/// (The sender-less mails are stored with IMAP APPEND: Postfix would add its domain.)
#[test]
fn sender_less_bounces_delays_and_reports_as_the_world_sends_them() {
    let ms = stack();
    let desk = Desk::new(ms);
    let relay = waiting(ms, &desk);
    let relay_id = header(&relay, "Message-ID");
    let (support, cust) = (desk.support.as_str(), desk.customer.as_str());
    let delay = format!(
        "Return-Path: <>\r\nFrom: <>\r\nTo: {support}\r\nSubject: Delivery Status Notification (Delay)\r\nMessage-ID: <delay1@gw.example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"D\"\r\n\r\n--D\r\nContent-Type: text/plain\r\n\r\nTHIS IS A WARNING MESSAGE ONLY.\r\n--D\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; gw.example.com\r\n\r\nFinal-Recipient: rfc822; {cust}\r\nAction: delayed\r\nStatus: 4.4.7\r\n--D\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-Id:\r\n {relay_id}\r\nSubject: [SR#100001] VPN broken\r\n--D--\r\n"
    );
    ms.append(support, "INBOX", delay.as_bytes());
    let arf = format!(
        "From: Feedback Loop <fbl@isp.example.com>\r\nTo: {support}\r\nSubject: FW: [SR#100001] VPN broken\r\nMessage-ID: <arf1@isp.example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n--F\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n--F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n--F\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {relay_id}\r\nSubject: [SR#100001] VPN broken\r\n--F--\r\n"
    );
    ms.append(support, "INBOX", arf.as_bytes());
    desk.run_at("2026-03-03T11:00:00Z");
    let sr = desk.json(&["sr", "show", "100001", "--json"]);
    let delayed = sr["events"].as_array().unwrap().iter().find(|e| e["kind"] == "delivery_delayed").expect("delivery_delayed event");
    assert!(delayed["detail"].as_str().unwrap().contains(relay_id.trim_matches(['<', '>'])), "{delayed}");
    assert!(!kinds(&sr).contains(&"delivery_failed".to_string()), "a delay is no failure");
    assert_eq!(desk.json(&["sr", "list", "--json"]).as_array().unwrap().len(), 1, "a report opens no SR");
    let q = desk.json(&["quarantine", "list", "--json"]);
    let reasons: Vec<&str> = q.as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.contains("Report mail") && r.contains("report:feedback-type=abuse")), "{reasons:?}");
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&desk.cse, "INBOX"), 1, "nobody is told of a delay or a report");
    assert_eq!(ms.count_messages(cust, "INBOX"), 2, "nothing to the customer");

    let bounce = format!(
        "Return-Path: <>\r\nFrom: Mail Delivery Subsystem <MAILER-DAEMON>\r\nTo: {support}\r\nSubject: Returned mail: see transcript for details\r\nMessage-Id: <b1@mail.example.com>\r\n\r\nThe original message was received at Tue, 3 Mar 2026 10:00:05 +0100\r\n\r\n   ----- The following addresses had permanent fatal errors -----\r\n<{cust}>\r\n\r\n   ----- Original message -----\r\n\r\nMessage-Id: {relay_id}\r\nSubject: [SR#100001] VPN broken\r\n"
    );
    ms.append(support, "INBOX", bounce.as_bytes());
    desk.run_at("2026-03-03T12:00:00Z");
    let sr = desk.json(&["sr", "show", "100001", "--json"]);
    let failed = sr["events"].as_array().unwrap().iter().find(|e| e["kind"] == "delivery_failed").expect("delivery_failed event");
    assert_eq!(failed["by"], "mailer-daemon", "{failed}");
    let cse = ms.wait_for_messages(&desk.cse, "INBOX", 2, WAIT);
    assert!(cse.iter().any(|m| String::from_utf8_lossy(m).contains("Delivery failed")));
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(cust, "INBOX"), 2, "nothing to the customer");
}
