//! Issue 11 on the real stack: what a stranger on the internet can make srgate do with
//! forged mail, and that the genuine paths still work.
//!
//! Genuine mail goes through the stack's Postfix, whose OpenDKIM signs mail of its
//! domains as a real site's outgoing server does (a DMARC pass for the customer's
//! domain, served by the test DNS server). Forged mail arrives as an outsider's would:
//! straight into the support mailbox (IMAP APPEND), unsigned. (Staff impersonation is
//! in tests/auth_e2e.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::desk::{Desk, Options};
use common::read::kinds;
use common::{MailStack, stack};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
const T0: &str = "2026-03-03T09:30:00Z";
const T1: &str = "2026-03-03T10:30:00Z";

/// A mail from `from` to the desk, with `headers` (Cc, Subject, …) and `body`.
fn mail(desk: &Desk, from: &str, id: &str, headers: &str, body: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: {}\r\n{headers}Message-ID: <{id}>\r\nDate: Tue, 3 Mar 2026 10:00:00 +0100\r\n\r\n{body}\r\n", desk.support)
        .into_bytes()
}

/// Sends `raw` through Postfix (signed, like the sender's own server would) and waits for it.
fn genuine(ms: &MailStack, desk: &Desk, from: &str, raw: &[u8]) {
    let before = ms.count_messages(&desk.support, "INBOX");
    ms.send(raw, from, &[&desk.support]);
    ms.wait_for_messages(&desk.support, "INBOX", before + 1, WAIT);
}

/// The decoded text of every mail in `user`'s INBOX, with its whitespace collapsed.
fn texts(ms: &MailStack, user: &str) -> Vec<String> {
    ms.messages(user, "INBOX").iter().map(|m| common::read::body(&m.raw).split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

/// SR 100001, opened by a genuine mail from `customer`.
fn opened(ms: &MailStack, desk: &Desk, customer: &str) -> Value {
    genuine(ms, desk, customer, &mail(desk, customer, &format!("open-{customer}"), "Subject: VPN broken\r\n", "The VPN drops."));
    desk.run_at(T0);
    desk.sr(100_001)
}

/// A forged customer mail copying an attacker: the attacker does not join the SR, gets
/// nothing of it later, and the CSE is told; a genuine customer's copy joins.
#[test]
fn a_forged_customer_mail_cannot_subscribe_anyone() {
    let ms = stack();
    let desk = Desk::standard(ms);
    let customer = ms.unique_user_at("victim", "example.com");
    opened(ms, &desk, &customer);
    let attacker = ms.unique_user_at("eavesdropper", "example.com");
    let forged = mail(
        &desk,
        &customer,
        "forged-cc@x",
        &format!("Subject: Re: [SR#100001] VPN broken\r\nCc: {attacker}\r\n"),
        "Copying my colleague.",
    );
    ms.append(&desk.support, "INBOX", &forged);
    desk.run_at(T1);
    let sr = desk.sr(100_001);
    assert_eq!(sr["participants"], serde_json::json!([]), "{sr}");
    assert!(kinds(&sr).contains(&"cc_not_added".to_string()), "{sr}");
    // The CSE answers: the relay goes to the customer only.
    ms.wait_queue_empty(WAIT);
    let note = texts(ms, &desk.cse).into_iter().find(|m| m.contains("not authenticated"));
    assert!(
        note.is_some_and(|n| n.contains(&attacker) && n.contains("#cc add")),
        "the CSE is told who was not added: {:?}",
        texts(ms, &desk.cse)
    );
    let answer = mail(&desk, &desk.cse, "answer@x", "Subject: Re: [SR#100001] VPN broken\r\n", "Which client version?");
    genuine(ms, &desk, &desk.cse, &answer);
    desk.run_at(T1);
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&attacker, "INBOX"), 0, "the attacker got nothing");
    assert_eq!(ms.count_messages(&customer, "INBOX"), 2, "acknowledgement and relay");

    // The genuine customer copies a colleague: the colleague joins and gets the next relay.
    let colleague = ms.unique_user_at("colleague", "example.com");
    let real = mail(&desk, &customer, "real-cc@x", &format!("Subject: Re: [SR#100001] VPN broken\r\nCc: {colleague}\r\n"), "Version 5.2.");
    genuine(ms, &desk, &customer, &real);
    desk.run_at(T1);
    assert_eq!(desk.sr(100_001)["participants"], serde_json::json!([colleague.clone()]));
    let answer = mail(&desk, &desk.cse, "answer2@x", "Subject: Re: [SR#100001] VPN broken\r\n", "Please update to 5.3.");
    genuine(ms, &desk, &desk.cse, &answer);
    desk.run_at(T1);
    let relayed = ms.wait_for_messages(&colleague, "INBOX", 1, WAIT);
    assert!(common::read::body(&relayed[0]).contains("Please update to 5.3."), "the colleague gets the next relay");
}

/// One forged mail copying 50 addresses opens an SR whose acknowledgement goes to its
/// sender only: the support domain mails none of the 50.
#[test]
fn a_mail_copying_fifty_addresses_makes_no_backscatter() {
    let ms = stack();
    let desk = Desk::standard(ms);
    let sender = ms.unique_user_at("spoofed", "example.com");
    let victims: Vec<String> = (0..50).map(|i| ms.unique_user_at(&format!("victim{i}"), "example.com")).collect();
    let forged = mail(&desk, &sender, "fifty@x", &format!("Subject: Buy now\r\nCc: {}\r\n", victims.join(", ")), "Click here.");
    ms.append(&desk.support, "INBOX", &forged);
    desk.run_at(T0);
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&sender, "INBOX"), 1, "the acknowledgement goes to the sender only");
    for v in &victims {
        assert_eq!(ms.count_messages(v, "INBOX"), 0, "{v} got mail");
    }
    let sr = desk.sr(100_001);
    assert_eq!(sr["participants"], serde_json::json!([]));
    assert!(kinds(&sr).contains(&"cc_not_added".to_string()));
}

/// A forged delivery report naming none of our mails changes nothing and tells no one;
/// a report naming one of ours is recorded, its text cut and marked as untrusted.
#[test]
fn a_forged_bounce_is_not_recorded_and_a_real_one_is_marked_untrusted() {
    let ms = stack();
    let desk = Desk::standard(ms);
    let customer = ms.unique_user_at("bounced", "example.com");
    let sr = opened(ms, &desk, &customer);
    let ack_id = sr["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "acknowledgement").unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let notes_before = ms.count_messages(&desk.cse, "INBOX");
    let report = |id: &str, named: &str, text: &str| {
        format!(
            "From: Mail Delivery System <MAILER-DAEMON@example.com>\r\nTo: {s}\r\nSubject: Undelivered Mail Returned to Sender [SR#100001]\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n{text}\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; {customer}\r\nAction: failed\r\nStatus: 5.1.1\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{named}>\r\nSubject: [SR#100001] VPN broken\r\n--b--\r\n",
            s = desk.support
        )
        .into_bytes()
    };
    // Forged: it names a Message-ID we never sent on this SR.
    ms.append(
        &desk.support,
        "INBOX",
        &report("forged-dsn@x", "guessed.1.abcdef@example.test", "Your account is locked: log in at http://evil.example/ to unlock it."),
    );
    desk.run_at(T1);
    let sr = desk.sr(100_001);
    assert!(!kinds(&sr).contains(&"delivery_failed".to_string()), "{sr}");
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&desk.cse, "INBOX"), notes_before, "the CSE is not told of a forged report");
    let kept = String::from_utf8_lossy(&desk.srgate(&["quarantine", "list", "--json"]).stdout).into_owned();
    assert!(kept.contains("forged") || kept.contains("Bounce"), "the forged report is kept for the operator: {kept}");

    // Real: it names our acknowledgement. Its long text reaches the CSE cut, and marked.
    let long = format!("The mail system says: {}", "x".repeat(3000));
    ms.append(&desk.support, "INBOX", &report("real-dsn@x", &ack_id, &long));
    desk.run_at(T1);
    let sr = desk.sr(100_001);
    assert!(kinds(&sr).contains(&"delivery_failed".to_string()), "{sr}");
    ms.wait_for_messages(&desk.cse, "INBOX", notes_before + 1, WAIT);
    let told = texts(ms, &desk.cse).into_iter().find(|m| m.contains("Delivery failed")).unwrap();
    assert!(told.contains("untrusted text") && told.contains("[cut]"), "{told}");
    assert!(!told.contains(&"x".repeat(600)), "the report's text is cut");
}

/// A stranger writing twenty times on someone else's SR: the SR does not change, and its
/// CSE is told once, not twenty times.
#[test]
fn a_stranger_writing_twenty_times_tells_the_cse_once() {
    let ms = stack();
    let desk = Desk::standard(ms);
    let customer = ms.unique_user_at("owner", "example.com");
    opened(ms, &desk, &customer);
    let stranger = ms.unique_user_at("stranger", "example.com");
    for i in 0..20 {
        let raw =
            mail(&desk, &stranger, &format!("stranger{i}@x"), "Subject: Re: [SR#100001] VPN broken\r\n", &format!("Let me in, take {i}."));
        ms.append(&desk.support, "INBOX", &raw);
    }
    desk.run_at(T1);
    ms.wait_queue_empty(WAIT);
    let sr = desk.sr(100_001);
    assert_eq!(sr["state"], "new", "the SR is unchanged");
    assert_eq!(kinds(&sr).iter().filter(|k| *k == "stranger").count(), 20, "every attempt is recorded");
    let notices = texts(ms, &desk.cse).iter().filter(|m| m.contains("is not a participant")).count();
    assert_eq!(notices, 1, "one notice to the CSE, not twenty");
    assert!(ms.count_messages(&stranger, "INBOX") <= 5, "the stranger's acknowledgements are capped");
}

/// Contacts act for configured accounts only: on an SR of a public mail domain,
/// `#contact add` is refused with the reason, and nobody can act on another customer's
/// SR of that domain; an account may not name a public domain.
#[test]
fn a_public_mail_domain_is_never_a_contact_scope() {
    let ms = stack();
    // example.com plays a public mail domain here (like gmail.com).
    let desk = Desk::with(ms, Options { top: "public_domains = [\"example.com\"]".into(), ..Options::default() });
    let (alice, bob) = (ms.unique_user_at("alice", "example.com"), ms.unique_user_at("bob", "example.com"));
    opened(ms, &desk, &alice);
    genuine(ms, &desk, &bob, &mail(&desk, &bob, &format!("open-{bob}"), "Subject: Printer jam\r\n", "Jammed."));
    desk.run_at(T0);
    let carla = ms.unique_user_at("carla", "example.com");
    let add = mail(
        &desk,
        &desk.cse,
        "add@x",
        "Subject: Re: [SR#100001] VPN broken\r\n",
        &format!("#contact add Carla <{carla}>\nShe will follow up."),
    );
    genuine(ms, &desk, &desk.cse, &add);
    desk.run_at(T1);
    let refusal = texts(ms, &desk.cse).into_iter().find(|m| m.contains("no configured [[account]]"));
    assert!(refusal.is_some(), "the CSE is told why: {:?}", texts(ms, &desk.cse));
    let contacts = desk.srgate(&["contacts", "list", "--json"]);
    assert_eq!(String::from_utf8_lossy(&contacts.stdout).trim(), "[]");
    let cli = desk.srgate(&["contacts", "add", "Carla", &carla]);
    assert!(!cli.status.success() && String::from_utf8_lossy(&cli.stderr).contains("no configured account"));
    // Carla writes on Bob's SR: a stranger there.
    genuine(ms, &desk, &carla, &mail(&desk, &carla, "carla@x", "Subject: Re: [SR#100002] Printer jam\r\n", "Close it."));
    desk.run_at(T1);
    assert!(kinds(&desk.sr(100_002)).contains(&"stranger".to_string()));
    // An account may not claim a public domain.
    let bad = std::fs::read_to_string(desk.config()).unwrap() + "[[account]]\nname = \"Everyone\"\ndomains = [\"gmail.com\"]\n";
    std::fs::write(desk.config(), bad).unwrap();
    let check = desk.srgate(&["check"]);
    assert!(!check.status.success());
    assert!(
        String::from_utf8_lossy(&check.stderr).contains("`gmail.com` is a public mail domain"),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// An authenticated customer copying more people than `max_participants` allows: the
/// first ones join, the rest are recorded as not added and the CSE is told who.
#[test]
fn participants_stop_at_max_participants() {
    let ms = stack();
    let desk = Desk::with(ms, Options { top: "max_participants = 2".into(), ..Options::default() });
    let customer = ms.unique_user_at("many", "example.com");
    opened(ms, &desk, &customer);
    let colleagues: Vec<String> = (0..3).map(|i| ms.unique_user_at(&format!("colleague{i}"), "example.com")).collect();
    let cc = format!("Subject: Re: [SR#100001] VPN broken\r\nCc: {}\r\n", colleagues.join(", "));
    genuine(ms, &desk, &customer, &mail(&desk, &customer, "three-cc@x", &cc, "Copying my team."));
    desk.run_at(T1);
    let sr = desk.sr(100_001);
    let joined: Vec<&str> = sr["participants"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(joined.len(), 2, "{sr}");
    let left: Vec<&String> = colleagues.iter().filter(|c| !joined.contains(&c.as_str())).collect();
    assert_eq!(left.len(), 1, "{sr}");
    let not_added = sr["events"].as_array().unwrap().iter().find(|e| e["kind"] == "cc_not_added").expect("recorded");
    assert!(not_added["detail"].as_str().unwrap().contains(left[0].as_str()), "{not_added}");
    ms.wait_queue_empty(WAIT);
    assert!(
        texts(ms, &desk.cse).iter().any(|t| t.contains(left[0].as_str()) && t.contains("max_participants")),
        "the CSE is told who was not added: {:?}",
        texts(ms, &desk.cse)
    );
}
