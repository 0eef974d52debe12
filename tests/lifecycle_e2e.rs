//! Issue 4 end to end on the real stack with `run --once --now`: the contact cycle,
//! holds, every CSE command, escalation, reopening, designated contacts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;
use std::time::Duration;

use common::cli::Cli;
use common::config::StackTls;
use common::read::{body, header, kinds};
use common::{MailStack, stack};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);
/// Tuesday 3 March 2026, 10:30 CET.
const T0: &str = "2026-03-03T09:30:00Z";

struct Desk {
    support: String,
    ann: String,
    bob: String,
    escalation: String,
    customer: String,
    dir: tempfile::TempDir,
}

impl Desk {
    /// A desk whose customer has opened SR 100001 (assigned to Ann) at T0.
    fn opened(ms: &MailStack) -> Desk {
        let u = |p: &str| ms.unique_domain_user(p);
        let (support, ann, bob, escalation) = (u("support"), u("ann"), u("bob"), u("escalation"));
        let customer = ms.unique_user_at("cust", "example.com");
        let dir = tempfile::tempdir().unwrap();
        let root = env!("CARGO_MANIFEST_DIR");
        let lines = ms.srgate_lines().imap(StackTls::Starttls).smtp(StackTls::Implicit);
        let config = format!(
            r#"{top}data_dir = "data"
rules_dir = "{root}/rules"
templates_dir = "{root}/templates"
support_address = "{support}"
support_name = "Example Support"
escalation_address = "{escalation}"
{smtp}[[mailbox]]
name = "support"
{imap}username = "{support}"
password = "secret"
[[cse]]
name = "Ann Engineer"
email = "{ann}"
[[cse]]
name = "Bob Engineer"
email = "{bob}"
# The customers' organisation: designated contacts act for an account.
[[account]]
name = "Acme"
domains = ["example.com"]
"#,
            top = lines.top_level(),
            smtp = lines.smtp_section(),
            imap = lines.mailbox_lines(),
        );
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
        let desk = Desk { support, ann, bob, escalation, customer, dir };
        desk.customer_says(ms, "Printer on fire", "The printer on the second floor is smoking. What should we do?", None);
        desk.run_at(T0);
        assert_eq!(desk.sr()["assignee"], desk.ann.as_str());
        desk
    }

    fn srgate(&self, args: &[&str]) -> Output {
        Cli::in_dir(self.dir.path()).output(args)
    }

    fn run_at(&self, now: &str) {
        Cli::in_dir(self.dir.path()).run_at(now);
    }

    fn sr_n(&self, id: u64) -> Value {
        Cli::in_dir(self.dir.path()).sr(id)
    }

    fn sr(&self) -> Value {
        self.sr_n(100_001)
    }

    fn send(&self, ms: &MailStack, from: &str, subject: &str, body: &str, in_reply_to: Option<&str>) {
        let n = ms.count_messages(&self.support, "INBOX");
        let threading = in_reply_to.map(|id| format!("In-Reply-To: {id}\r\nReferences: {id}\r\n")).unwrap_or_default();
        let raw = format!(
            "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <m{n}-{}>\r\n{threading}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
            self.support,
            from.replace('@', ".")
        );
        ms.send(raw.as_bytes(), from, &[&self.support]);
        ms.wait_for_messages(&self.support, "INBOX", n + 1, WAIT);
    }

    fn customer_says(&self, ms: &MailStack, subject: &str, body: &str, in_reply_to: Option<&str>) {
        self.send(ms, &self.customer, subject, body, in_reply_to);
    }

    /// The CSE answers with their mail client (mutt), as a reply to the latest mail they got.
    fn cse_says(&self, ms: &MailStack, cse: &str, body: &str) {
        let inbox = ms.wait_for_messages(cse, "INBOX", 1, WAIT);
        let last = inbox.last().unwrap();
        let id = header(last, "Message-ID");
        let n = ms.count_messages(&self.support, "INBOX");
        let draft = format!(
            "From: {cse}\nTo: {}\nSubject: Re: {}\nIn-Reply-To: {id}\nReferences: {id}\n\n{body}\n\nOn Tue, 3 Mar 2026, Example Support wrote:\n> earlier text\n",
            self.support,
            header(last, "Subject")
        );
        ms.mutt_send(cse, &draft);
        ms.wait_for_messages(&self.support, "INBOX", n + 1, WAIT);
    }

    /// Bodies of the mails `who` has received, oldest first.
    fn inbox(&self, ms: &MailStack, who: &str) -> Vec<String> {
        ms.messages(who, "INBOX").iter().map(|m| body(&m.raw)).collect()
    }

    fn wait_inbox(&self, ms: &MailStack, who: &str, n: usize) -> Vec<String> {
        ms.wait_for_messages(who, "INBOX", n, WAIT).iter().map(|m| body(m)).collect()
    }
}

#[test]
fn three_unanswered_attempts_close_the_sr_after_ten_days() {
    let ms = stack();
    let desk = Desk::opened(ms);
    desk.cse_says(ms, &desk.ann, "Please unplug it and tell us what the display shows.");
    desk.run_at(T0);
    let sr = desk.sr();
    assert_eq!((sr["state"].as_str(), sr["contact_attempts"].as_u64()), (Some("awaiting_customer"), Some(1)));
    assert_eq!(sr["waiting_since"], "2026-03-03T09:30:00Z");
    desk.run_at("2026-03-05T09:30:00Z"); // day 2: nothing due
    assert_eq!(desk.sr()["contact_attempts"], 1);
    desk.run_at("2026-03-06T09:30:00Z"); // day 3: attempt 2
    assert_eq!(desk.sr()["contact_attempts"], 2);
    desk.run_at("2026-03-10T09:30:00Z"); // day 7: attempt 3
    assert_eq!(desk.sr()["contact_attempts"], 3);
    desk.run_at("2026-03-13T09:29:00Z"); // just before day 10
    assert_eq!(desk.sr()["state"], "awaiting_customer");
    desk.run_at("2026-03-13T09:30:00Z"); // day 10: closed
    let sr = desk.sr();
    assert_eq!((sr["state"].as_str(), sr["close_reason"].as_str()), (Some("closed"), Some("no_response")));
    assert_eq!(sr["closed_at"], "2026-03-13T09:30:00Z");
    desk.run_at("2026-03-20T09:30:00Z");
    // ack, relay, attempt 2, attempt 3, closure notice: exactly one closure notice.
    let mails = desk.wait_inbox(ms, &desk.customer, 5);
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&desk.customer, "INBOX"), 5);
    // Each pass hands its mail to Postfix, which may deliver mail of successive passes in
    // either order: look for each mail, not at a position.
    assert!(mails.iter().any(|m| m.contains("contact attempt 2 of 3") && m.contains("unplug it")), "{mails:?}");
    assert!(mails.iter().any(|m| m.contains("contact attempt 3 of 3")), "{mails:?}");
    assert!(mails.iter().any(|m| m.contains("closed") && m.contains("30 days")), "{mails:?}");
}

#[test]
fn a_reply_on_day_four_stops_the_cycle() {
    let ms = stack();
    let desk = Desk::opened(ms);
    desk.cse_says(ms, &desk.ann, "Could you send a photo?");
    desk.run_at(T0);
    desk.run_at("2026-03-06T09:30:00Z");
    assert_eq!(desk.sr()["contact_attempts"], 2);
    desk.customer_says(ms, "Re: [SR#100001] Printer on fire", "Here is the photo.", None);
    desk.run_at("2026-03-07T09:30:00Z");
    let sr = desk.sr();
    assert_eq!((sr["state"].as_str(), sr["contact_attempts"].as_u64()), (Some("open"), Some(0)));
    desk.run_at("2026-03-20T09:30:00Z");
    assert_eq!(desk.sr()["state"], "open");
    assert_eq!(ms.count_messages(&desk.customer, "INBOX"), 3, "ack, relay, one attempt");
}

#[test]
fn a_hold_suspends_the_cycle_and_ends_with_a_contact_attempt() {
    let ms = stack();
    let desk = Desk::opened(ms);
    desk.cse_says(ms, &desk.ann, "#hold until 2026-03-20\nAs agreed, we wait for your maintenance window.");
    desk.run_at(T0);
    let sr = desk.sr();
    assert_eq!(sr["state"], "on_hold");
    assert_eq!(sr["on_hold_until"], "2026-03-20T08:00:00Z"); // Friday 09:00 CET
    desk.run_at("2026-03-16T09:30:00Z");
    assert_eq!(desk.sr()["state"], "on_hold");
    desk.run_at("2026-03-20T08:00:00Z");
    let sr = desk.sr();
    assert_eq!((sr["state"].as_str(), sr["contact_attempts"].as_u64()), (Some("awaiting_customer"), Some(1)));
    assert_eq!(sr["waiting_since"], "2026-03-20T08:00:00Z");
    let mails = desk.wait_inbox(ms, &desk.customer, 3);
    assert!(mails.iter().any(|m| m.contains("contact attempt 1 of 3")), "{mails:?}");
    assert!(mails.iter().all(|m| !m.contains("#hold")), "the command line is not relayed: {mails:?}");
}

#[test]
fn cse_commands_do_what_they_say() {
    let ms = stack();
    let desk = Desk::opened(ms);
    // #note: recorded, not relayed.
    desk.cse_says(ms, &desk.ann, "#note\nCustomer seems to have an old firmware.");
    desk.run_at(T0);
    assert_eq!(ms.count_messages(&desk.customer, "INBOX"), 1, "only the acknowledgement");
    assert!(kinds(&desk.sr()).contains(&"note".to_string()));
    // #open: relayed, no attempt counted.
    desk.cse_says(ms, &desk.ann, "#open\nWe are looking into it.");
    desk.run_at(T0);
    let sr = desk.sr();
    assert_eq!((sr["state"].as_str(), sr["contact_attempts"].as_u64()), (Some("open"), Some(0)));
    desk.wait_inbox(ms, &desk.customer, 2);
    // A bad command: nothing changes, nothing relayed, the CSE gets the list of commands.
    desk.cse_says(ms, &desk.ann, "#frobnicate\nThis must not reach the customer.");
    desk.run_at(T0);
    let errors = desk.wait_inbox(ms, &desk.ann, 2);
    assert!(errors.iter().any(|m| m.contains("unknown command #frobnicate") && m.contains("#hold until")), "{errors:?}");
    assert!(desk.inbox(ms, &desk.customer).iter().all(|m| !m.contains("must not reach")));
    // #priority + #escalate + #contact add + #confirm in one message.
    let contact = ms.unique_user_at("colleague", "example.com");
    desk.cse_says(ms, &desk.ann, &format!("#priority P1\n#escalate Production line stopped, 200 people idle\n#contact add Carla Colleague <{contact}> +33 1 23 45\n#confirm\nWe are on it."));
    desk.run_at(T0);
    let sr = desk.sr();
    assert_eq!(sr["priority"], "P1");
    assert_eq!(sr["escalated"], true);
    let esc = desk.wait_inbox(ms, &desk.escalation, 1);
    assert!(esc.iter().any(|m| m.contains("200 people idle")), "{esc:?}");
    let customer_mails = desk.wait_inbox(ms, &desk.customer, 5);
    assert!(customer_mails.iter().any(|m| m.contains("from P3 to P1")), "{customer_mails:?}");
    let contacts: Value = serde_json::from_slice(&desk.srgate(&["contacts", "list", "--json"]).stdout).unwrap();
    assert_eq!(contacts[0]["address"], contact.as_str());
    assert_eq!(contacts[0]["phone"], "+33 1 23 45");
    let ann = desk.wait_inbox(ms, &desk.ann, 3);
    assert!(ann.iter().any(|m| m.contains("priority P3 -> P1") && m.contains("escalated")), "{ann:?}");
    // #assign by name: Bob gets the history, the customer is told.
    desk.cse_says(ms, &desk.ann, "#assign Bob Engineer");
    desk.run_at(T0);
    assert_eq!(desk.sr()["assignee"], desk.bob.as_str());
    let bob = desk.wait_inbox(ms, &desk.bob, 1);
    assert!(bob[0].contains("smoking") && bob[0].contains("old firmware"), "{}", bob[0]);
    let customer_mails = desk.wait_inbox(ms, &desk.customer, 6);
    assert!(customer_mails.iter().any(|m| m.contains("Bob Engineer")), "{customer_mails:?}");
    // #contact remove, #hold 14d, then #close.
    desk.cse_says(ms, &desk.bob, &format!("#contact remove {contact}\n#hold 14d"));
    desk.run_at(T0);
    assert_eq!(desk.sr()["on_hold_until"], "2026-03-17T09:30:00Z");
    assert!(desk.srgate(&["contacts", "list", "--json"]).stdout.starts_with(b"[]"));
    desk.cse_says(ms, &desk.bob, "#close\nThe technician replaced the fuser.");
    desk.run_at(T0);
    let sr = desk.sr();
    assert_eq!((sr["state"].as_str(), sr["close_reason"].as_str()), (Some("closed"), Some("resolved")));
    let customer_mails = desk.wait_inbox(ms, &desk.customer, 8);
    assert!(customer_mails.iter().any(|m| m.contains("replaced the fuser")));
    // srgate submits one SR's mail in order; the MTA may still deliver two of them in either order.
    assert!(customer_mails.iter().any(|m| m.contains("is now closed")), "{customer_mails:?}");
}

#[test]
fn customer_escalation_is_refused_too_early_and_accepted_later() {
    let ms = stack();
    let desk = Desk::opened(ms);
    desk.customer_says(ms, "Re: [SR#100001] Please escalate", "Our whole office cannot print invoices.", None);
    desk.run_at("2026-03-03T11:00:00Z");
    let sr = desk.sr();
    assert_eq!(sr["escalated"], false);
    assert!(kinds(&sr).contains(&"escalation_refused".to_string()));
    let mails = desk.wait_inbox(ms, &desk.customer, 2);
    assert!(mails.iter().any(|m| m.contains("time for troubleshooting")), "{mails:?}");
    let ann = desk.wait_inbox(ms, &desk.ann, 3);
    assert!(ann.iter().any(|m| m.contains("refused")), "{ann:?}");
    // The next day, with the impact stated.
    desk.customer_says(ms, "Re: [SR#100001] Please escalate", "Invoices cannot go out: 40,000 EUR a day are late.", None);
    desk.run_at("2026-03-04T10:00:00Z");
    assert_eq!(desk.sr()["escalated"], true);
    // The same pass also alerts the escalation desk that the first-response target passed
    // (09:30 UTC); the MTA may deliver the two mails in either order.
    let esc = desk.wait_inbox(ms, &desk.escalation, 2);
    assert!(esc.iter().any(|m| m.contains("40,000 EUR")), "{esc:?}");
    assert!(esc.iter().any(|m| m.contains("no first response")), "{esc:?}");
    let mails = desk.wait_inbox(ms, &desk.customer, 3);
    assert!(mails.iter().any(|m| m.contains("escalated")), "{mails:?}");
    // A priority request and a close request reach the CSE.
    desk.customer_says(ms, "Re: [SR#100001] x", "Please raise to P1, we lose money.", None);
    desk.run_at("2026-03-04T11:00:00Z");
    assert_eq!(desk.sr()["requested_priority"], "P1");
    desk.customer_says(ms, "Re: [SR#100001] x", "Resolved, thank you!", None);
    desk.run_at("2026-03-04T12:00:00Z");
    assert!(kinds(&desk.sr()).contains(&"close_requested".to_string()));
    let ann = desk.inbox(ms, &desk.ann);
    assert!(ann.iter().any(|m| m.contains("#priority P1")) && ann.iter().any(|m| m.contains("#close")), "{ann:?}");
}

#[test]
fn reopening_inside_and_outside_the_window() {
    let ms = stack();
    let desk = Desk::opened(ms);
    desk.cse_says(ms, &desk.ann, "#close\nFixed by the firmware update.");
    desk.run_at(T0);
    assert_eq!(desk.sr()["state"], "closed");
    let mails = ms.wait_for_messages(&desk.customer, "INBOX", 3, WAIT);
    let closure = mails.into_iter().find(|m| body(m).contains("is now closed")).expect("closure notice");
    // A reply to the closure notice 20 days later reopens.
    desk.customer_says(ms, "Re: [SR#100001] Printer on fire", "It is smoking again.", Some(&header(&closure, "Message-ID")));
    desk.run_at("2026-03-23T09:30:00Z");
    let sr = desk.sr();
    assert_eq!((sr["state"].as_str(), sr["reopen_count"].as_u64()), (Some("open"), Some(1)));
    let ann = desk.wait_inbox(ms, &desk.ann, 2);
    assert!(ann.iter().any(|m| m.contains("reopened")), "{ann:?}");
    // Closed again; 40 days later a reply opens a new SR that refers to it.
    desk.cse_says(ms, &desk.ann, "#close\nReplaced the unit.");
    desk.run_at("2026-03-24T09:30:00Z");
    desk.customer_says(ms, "Re: [SR#100001] Printer on fire", "The new unit is smoking too.", None);
    desk.run_at("2026-05-05T09:30:00Z");
    assert_eq!(desk.sr()["state"], "closed");
    let new = desk.sr_n(100_002);
    assert_eq!(new["related"], serde_json::json!([100_001]));
    let mails = ms.wait_for_messages(&desk.customer, "INBOX", 6, WAIT);
    let text = mails.iter().map(|m| body(m)).find(|b| b.contains("[SR#100002]")).expect("acknowledgement of the new SR");
    assert!(text.contains("[SR#100002]") && text.contains("[SR#100001]"), "{text}");
    // A brand-new mail that only mentions an old token (no reply) also opens a new SR.
    desk.customer_says(ms, "Another printer", "Like in [SR#100001], the third-floor printer smokes.", None);
    desk.run_at("2026-05-05T10:30:00Z");
    assert_eq!(desk.sr_n(100_003)["related"], serde_json::json!([100_001]));
}

#[test]
fn a_designated_contact_acts_on_a_colleagues_sr_and_a_stranger_does_not() {
    let ms = stack();
    let desk = Desk::opened(ms);
    let colleague = ms.unique_user_at("colleague", "example.com");
    let out = desk.srgate(&["contacts", "add", "Carla Colleague", &colleague, "--phone", "+33 1 00"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    desk.send(ms, &colleague, "Re: [SR#100001] Printer on fire", "I am Jane's colleague: the printer is in room 2.14.", None);
    desk.run_at("2026-03-03T10:00:00Z");
    let sr = desk.sr();
    assert_eq!(sr["messages"].as_array().unwrap().iter().filter(|m| m["from"] == colleague.as_str()).count(), 1);
    assert_eq!(sr["state"], "open");
    let ann = desk.wait_inbox(ms, &desk.ann, 2);
    assert!(ann.iter().any(|m| m.contains("room 2.14")), "{ann:?}");
    // A stranger (other domain, not a contact) with the same token gets a new SR.
    let stranger = ms.unique_domain_user("stranger");
    desk.send(ms, &stranger, "Re: [SR#100001] Printer on fire", "Me too!", None);
    desk.run_at("2026-03-03T10:30:00Z");
    let new = desk.sr_n(100_002);
    assert_eq!(new["customer"], stranger.as_str());
    assert_eq!(new["related"], serde_json::json!([100_001]));
    assert!(desk.sr()["messages"].as_array().unwrap().iter().all(|m| m["from"] != stranger.as_str()));
    let ann = desk.wait_inbox(ms, &desk.ann, 3);
    assert!(ann.iter().any(|m| m.contains("not a participant")), "{ann:?}");
}
