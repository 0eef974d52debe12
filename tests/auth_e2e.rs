//! Staff authentication on the real stack: CSE mail is DKIM-signed by the stack's
//! OpenDKIM (as a real site signs its outgoing mail) and verified by srgate against
//! the test DNS server (dnsmasq); forged mail in a CSE's name arrives as an outside
//! attacker's would, put straight into the support mailbox (IMAP APPEND), unsigned.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::cli::Cli;
use common::read::{body, subject};
use common::{MailStack, stack, wait_until};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
const T0: &str = "2026-03-03T09:30:00Z";

/// One desk: its support mailbox, one CSE (Ann), one customer with SR 100001 open.
struct Desk {
    support: String,
    ann: String,
    customer: String,
    dir: tempfile::TempDir,
}

impl Desk {
    /// A desk with `extra` top-level config lines (after the DNS line), and SR 100001 opened by the customer.
    fn opened(ms: &MailStack, dns_line: &str, extra: &str) -> Desk {
        let (support, ann) = (ms.unique_domain_user("support"), ms.unique_domain_user("ann"));
        let customer = ms.unique_user_at("cust", "example.com");
        let dir = tempfile::tempdir().unwrap();
        let root = env!("CARGO_MANIFEST_DIR");
        let config = format!(
            "data_dir = \"data\"\nrules_dir = \"{root}/rules\"\ntemplates_dir = \"{root}/templates\"\nsupport_address = \"{support}\"\n{dns_line}{extra}\n{smtp}[[mailbox]]\nname = \"support\"\n{imap}username = \"{support}\"\npassword = \"secret\"\n[[cse]]\nname = \"Ann Engineer\"\nemail = \"{ann}\"\n",
            // Over TLS (the stack's lines), with this test's own DNS line.
            smtp = ms.srgate_lines().smtp_section(),
            imap = ms.srgate_lines().mailbox_lines(),
        );
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
        let desk = Desk { support, ann, customer, dir };
        let first = format!(
            "From: Jane <{c}>\r\nTo: {s}\r\nSubject: Printer on fire\r\nMessage-ID: <first-{c}>\r\n\r\nIt is burning.\r\n",
            c = desk.customer,
            s = desk.support
        );
        ms.send(first.as_bytes(), &desk.customer, &[&desk.support]);
        ms.wait_for_messages(&desk.support, "INBOX", 1, WAIT);
        desk.cli().run_at(T0);
        assert_eq!(desk.sr()["state"], "new");
        desk
    }

    fn cli(&self) -> Cli {
        Cli::in_dir(self.dir.path())
    }

    fn sr(&self) -> Value {
        self.cli().sr(100_001)
    }

    fn events(&self, kind: &str) -> Vec<Value> {
        self.sr()["events"].as_array().unwrap().iter().filter(|e| e["kind"] == kind).cloned().collect()
    }

    /// A mail in Ann's name on the SR, as raw bytes, with `headers` on top.
    fn in_anns_name(&self, headers: &str, id: &str, body: &str) -> Vec<u8> {
        format!(
            "{headers}From: Ann Engineer <{ann}>\r\nTo: {s}\r\nSubject: Re: [SR#100001] Printer on fire\r\nMessage-ID: <{id}-{ann}>\r\nDate: Tue, 3 Mar 2026 11:00:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
            ann = self.ann,
            s = self.support
        )
        .into_bytes()
    }

    /// Mail in `user`'s INBOX whose subject or body contains `needle`.
    fn mails_with(&self, ms: &MailStack, user: &str, needle: &str) -> Vec<Vec<u8>> {
        ms.messages(user, "INBOX")
            .into_iter()
            .map(|m| m.raw)
            .filter(|raw| subject(raw).contains(needle) || body(raw).contains(needle))
            .collect()
    }
}

/// Waits until Postfix's queue is empty: every mail handed to it has been delivered.
fn queue_drained(ms: &MailStack) {
    fn count(dir: &Path) -> usize {
        std::fs::read_dir(dir).map(|d| d.flatten().map(|e| if e.path().is_dir() { count(&e.path()) } else { 1 }).sum()).unwrap_or(0)
    }
    let spool = ms.dir.join("postfix/spool");
    let empty = || ["incoming", "active", "deferred", "maildrop"].iter().map(|q| count(&spool.join(q))).sum::<usize>() == 0;
    assert!(wait_until(WAIT, Duration::from_millis(100), empty), "Postfix's queue did not drain\n{}", ms.log_tail(20));
}

const FORGED_RECEIVED: &str = "Received: from out.evil.example (out.evil.example [192.0.2.66]) by mail.example.test (Postfix) with ESMTP id F0RG3D; Tue, 3 Mar 2026 11:00:00 +0100\r\nReceived: from laptop by out.evil.example with ESMTP; Tue, 3 Mar 2026 10:59:59 +0100\r\n";

#[test]
fn forged_cse_mail_is_neither_relayed_nor_obeyed_and_the_cse_is_told_once() {
    let ms = stack();
    let desk = Desk::opened(ms, &common::dns::dns_resolver_line(), "trusted_authserv_ids = [\"mail.example.test\"]");
    let before = desk.sr();
    let forged_ar = "Authentication-Results: mail.example.test; dkim=pass header.d=example.test; dmarc=pass header.from=example.test\r\n";
    // 1. Unsigned. 2. A forged verdict of our server, below a Received header of the attacker's.
    // 3. A verdict on top, from a server nobody trusts.
    let forgeries = [
        desk.in_anns_name("", "forged-plain", "#close\r\nAll fixed, closing."),
        desk.in_anns_name(&format!("{FORGED_RECEIVED}{forged_ar}"), "forged-below", "#priority P4\r\nDowngrading."),
        desk.in_anns_name(
            "Authentication-Results: mx.evil.example; dkim=pass header.d=example.test\r\n",
            "forged-other-id",
            "#close\r\nClosing again.",
        ),
    ];
    for raw in &forgeries {
        ms.append(&desk.support, "INBOX", raw);
    }
    desk.cli().run_at("2026-03-03T10:30:00Z");
    queue_drained(ms);

    let sr = desk.sr();
    assert_eq!(sr["state"], "new", "nothing obeyed: {sr:#}");
    assert_eq!(sr["priority"], before["priority"], "the priority is the triage's: {sr:#}");
    let suspicious = desk.events("suspicious");
    assert_eq!(suspicious.len(), 3, "{sr:#}");
    assert!(suspicious.iter().all(|e| e["by"] == desk.ann.as_str()), "{suspicious:?}");
    assert!(suspicious[0]["detail"].as_str().unwrap().contains("no DKIM signature"), "{suspicious:?}");
    assert!(suspicious[1]["detail"].as_str().unwrap().contains("no Authentication-Results from a trusted server"), "{suspicious:?}");
    assert_eq!(desk.cli().json(&["sr", "list", "--json"]).as_array().unwrap().len(), 1, "no SR for the attacker");
    // The customer got only the acknowledgement: nothing relayed, no closure notice.
    assert_eq!(ms.messages(&desk.customer, "INBOX").len(), 1, "only the acknowledgement");
    // The real Ann is told once, not once per forgery.
    let notices = desk.mails_with(ms, &desk.ann, "could not be authenticated");
    assert_eq!(notices.len(), 1, "one notice");
    assert!(subject(&notices[0]).contains("[SR#100001]"));

    // A mail in Ann's name naming no SR opens none: it is quarantined.
    let stray = format!(
        "From: {a}\r\nTo: {s}\r\nSubject: Please refund everything\r\nMessage-ID: <stray-{a}>\r\n\r\nDo it.\r\n",
        a = desk.ann,
        s = desk.support
    );
    ms.append(&desk.support, "INBOX", stray.as_bytes());
    desk.cli().run_at("2026-03-03T10:40:00Z");
    assert_eq!(desk.cli().json(&["sr", "list", "--json"]).as_array().unwrap().len(), 1, "no SR for the attacker");
    let quarantine = desk.cli().json(&["quarantine", "list", "--json"]);
    assert!(quarantine.to_string().contains("not authenticated"), "{quarantine:#}");
}

#[test]
fn a_genuine_signed_cse_reply_is_relayed_and_obeyed() {
    let ms = stack();
    let desk = Desk::opened(ms, &common::dns::dns_resolver_line(), "");
    // Through the stack's Postfix: OpenDKIM signs it for example.test, as Ann's own mail server would.
    let reply = desk.in_anns_name("", "genuine", "#priority P2\r\nPlease unplug it and wait for our technician.");
    ms.send(&reply, &desk.ann, &[&desk.support]);
    ms.wait_for_messages(&desk.support, "INBOX", 2, WAIT);
    let raw = ms.messages(&desk.support, "INBOX").into_iter().map(|m| m.raw).find(|r| subject(r).contains("Printer")).unwrap();
    assert!(String::from_utf8_lossy(&raw).contains("DKIM-Signature:"), "the stack signs CSE mail");
    desk.cli().run_at("2026-03-03T10:30:00Z");
    let sr = desk.sr();
    assert_eq!((sr["state"].as_str(), sr["priority"].as_str()), (Some("awaiting_customer"), Some("P2")), "{sr:#}");
    assert!(desk.events("suspicious").is_empty());
    ms.wait_for_messages(&desk.customer, "INBOX", 3, WAIT);
    assert_eq!(desk.mails_with(ms, &desk.customer, "wait for our technician").len(), 1, "relayed");
}

#[test]
fn a_signed_cse_mail_altered_on_the_way_is_refused() {
    let ms = stack();
    let desk = Desk::opened(ms, &common::dns::dns_resolver_line(), "");
    // Ann's genuine mail, signed by the stack, caught elsewhere and replayed with a new body and another From.
    let scratch = ms.unique_domain_user("scratch");
    ms.send(&desk.in_anns_name("", "genuine-elsewhere", "Thanks, see you tomorrow."), &desk.ann, &[&scratch]);
    let signed = ms.wait_for_messages(&scratch, "INBOX", 1, WAIT).remove(0);
    let signed = String::from_utf8(signed).unwrap();
    assert!(signed.contains("DKIM-Signature:"));
    let tampered = signed.replace("Thanks, see you tomorrow.", "#close\r\nThanks, closing.");
    ms.append(&desk.support, "INBOX", tampered.as_bytes());
    desk.cli().run_at("2026-03-03T10:30:00Z");
    let suspicious = desk.events("suspicious");
    assert_eq!(suspicious.len(), 1, "{:#}", desk.sr());
    let detail = suspicious[0]["detail"].as_str().unwrap();
    assert!(detail.contains("d=example.test") && detail.to_lowercase().contains("body hash"), "{detail}");
    assert_eq!(desk.sr()["state"], "new");
}

#[test]
fn a_trusted_servers_verdict_above_its_own_received_counts() {
    let ms = stack();
    let desk = Desk::opened(ms, &common::dns::dns_resolver_line(), "trusted_authserv_ids = [\"mail.example.test\"]");
    // As the trusted server writes it: its verdict above the Received header it added.
    let vouched = "Authentication-Results: mail.example.test; dkim=pass header.d=example.test header.s=sel\r\nReceived: from out.example.net (out.example.net [192.0.2.7]) by mail.example.test (Postfix) with ESMTP id OK1; Tue, 3 Mar 2026 11:00:00 +0100\r\n";
    ms.append(&desk.support, "INBOX", &desk.in_anns_name(vouched, "vouched", "#close\r\nResolved by the firmware update."));
    desk.cli().run_at("2026-03-03T10:30:00Z");
    let sr = desk.sr();
    assert_eq!(sr["state"], "closed", "{sr:#}");
    assert!(desk.events("suspicious").is_empty());
}

#[test]
fn a_dns_failure_delays_a_cse_mail_then_it_is_refused_and_the_cse_told() {
    let ms = stack();
    // A resolver that does not answer: nothing listens on this port.
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let desk = Desk::opened(ms, &format!("dns_resolver = \"127.0.0.1:{dead}\"\n"), "");
    // The plain customer mail above was decided without DNS; Ann's genuine, signed reply cannot be verified now.
    ms.send(&desk.in_anns_name("", "during-outage", "#close\r\nDone."), &desk.ann, &[&desk.support]);
    ms.wait_for_messages(&desk.support, "INBOX", 2, WAIT);
    let now = jiff::Timestamp::now();
    desk.cli().run_at(&now.to_string());
    assert_eq!(desk.sr()["state"], "new", "not obeyed yet");
    assert!(desk.events("suspicious").is_empty(), "not refused yet either");
    let unread = ms.flags(&desk.support, "INBOX").iter().filter(|(_, f)| !f.iter().any(|x| x == "\\Seen")).count();
    assert_eq!(unread, 1, "left unread for the next cycle");
    // Past the patience (10 minutes after its arrival): decided as unauthenticated, and Ann is told.
    desk.cli().run_at(&(now + jiff::SignedDuration::from_mins(11)).to_string());
    let suspicious = desk.events("suspicious");
    assert_eq!(suspicious.len(), 1, "{:#}", desk.sr());
    assert!(suspicious[0]["detail"].as_str().unwrap().contains("DNS failed"), "{suspicious:?}");
    assert_eq!(desk.sr()["state"], "new");
    queue_drained(ms);
    assert_eq!(desk.mails_with(ms, &desk.ann, "could not be authenticated").len(), 1);
}

#[test]
fn check_says_how_staff_mail_is_authenticated_and_warns_when_it_is_not() {
    let ms = stack();
    let desk = Desk::opened(ms, &common::dns::dns_resolver_line(), "trusted_authserv_ids = [\"mail.example.test\"]");
    let out = desk.cli().output(&["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "mailbox support: staff mail authenticated by DKIM (srgate verifies, resolver 127.0.0.1:{}) or Authentication-Results from mail.example.test",
            common::dns::dns().port
        )),
        "{stdout}"
    );

    let path = desk.dir.path().join("srgate.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("require_authenticated_staff = false\n{config}")).unwrap();
    let out = desk.cli().output(&["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "allowed, but warned: {stderr}");
    assert!(stderr.contains("warning: `require_authenticated_staff = false`"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT authenticated"));
}
