//! Forwards by staff, by colleagues of an internal domain (authenticated or not), and the guards.

use std::collections::HashMap;
use std::path::Path;

use crate::config::Config;
use crate::gateway::{Ctx, Decision, NewSr, Outcome, decide, needs_authentication};
use crate::mail::auth::{Authentication, Checked};
use crate::mail::inbound::Inbound;
use crate::mail::outbound::OutKind;
use crate::policy::Policy;
use crate::rules::RuleSet;
use crate::sr::Priority;
use crate::template::Templates;

use crate::gateway::testkit::{NO_KB, NoStore as Nothing};

struct Fixture {
    config: Config,
    templates: Templates,
    rules: RuleSet,
    policy: Policy,
}

impl Fixture {
    fn new() -> Fixture {
        let config = crate::config::compile(
            Path::new("/x/srgate.toml"),
            r#"
data_dir = "d"
support_address = "support@example.test"
internal_domains = ["example.test"]
[smtp]
host = "127.0.0.1"
port = 25
[[mailbox]]
host = "127.0.0.1"
port = 143
username = "support@example.test"
password = "p"
[[cse]]
name = "Ann Engineer"
email = "ann@example.test"
"#,
        )
        .expect("config");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let rules = RuleSet::load_dir(&root.join("rules"), &crate::setup::roster_view(&config)).expect("rules");
        Fixture { config, templates: Templates::load(&root.join("templates")).expect("templates"), rules, policy: Policy::standard() }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx { config: &self.config, templates: &self.templates, rules: &self.rules, policy: &self.policy, kb: &NO_KB, instance: "t1" }
    }

    /// Decides `mail` as a new mail on a Tuesday morning.
    fn decide(&self, mail: &Inbound) -> Decision {
        let loads = HashMap::new();
        let new = NewSr { id: 100_001, mailbox: "support", loads: &loads, rr: 1 };
        match decide(self.ctx(), mail, None, &new, &Nothing, "2026-03-03T09:00:00Z".parse().expect("instant")) {
            Ok(Outcome::Apply(d)) => *d,
            other => panic!("expected an SR, got {other:?}"),
        }
    }
}

/// A Gmail forward from `from` of Jane's mail, `signed` when srgate verified its DKIM signature.
fn forward(from: &str, signed: bool, original_from: &str, original_text: &str) -> Inbound {
    let raw = format!(
        "From: Forwarder <{from}>\r\nTo: support@example.test\r\nCc: boss@example.test\r\nSubject: Fwd: Printer on fire\r\nMessage-ID: <fwd-{from}>\r\n\r\nPlease help Jane, she is a key customer.\r\n\r\n---------- Forwarded message ---------\r\nFrom: Jane Doe <{original_from}>\r\nDate: Mon, Mar 2, 2026 at 4:12 PM\r\nSubject: Printer on fire\r\nTo: <{from}>\r\n\r\n\r\n{original_text}\r\n\r\nJane\r\n"
    );
    let mut mail = crate::mail::inbound::parse(raw.as_bytes()).expect("parses");
    if signed {
        mail.authentication = Authentication { checked: Checked::Verified, dkim_pass: vec!["example.test".into()], ..Default::default() };
    }
    mail
}

fn events<'a>(d: &'a Decision, kind: &str) -> Vec<&'a crate::sr::Event> {
    d.sr.events.iter().filter(|e| e.kind == kind).collect()
}

#[test]
fn a_cse_forward_opens_the_sr_for_the_original_sender() {
    let f = Fixture::new();
    let d = f.decide(&forward("ann@example.test", true, "Jane@Customer.example", "Our printer is on fire."));
    assert_eq!((d.sr.customer.as_str(), d.sr.customer_name.as_deref()), ("jane@customer.example", Some("Jane Doe")));
    assert_eq!(d.sr.subject, "Printer on fire");
    assert_eq!(d.sr.messages[0].text, "Our printer is on fire.\n\nJane", "the original's text, not the note");
    let by = events(&d, "forwarded_by");
    assert_eq!(by.len(), 1);
    assert_eq!(by[0].by, "ann@example.test");
    assert!(by[0].detail.contains("jane@customer.example") && by[0].detail.contains("Mon, Mar 2, 2026"), "{by:?}");
    let note = events(&d, "note");
    assert_eq!(note.len(), 1);
    assert_eq!(note[0].detail, "Please help Jane, she is a key customer.");
    assert!(d.sr.participants.is_empty(), "a CSE is staff, not a participant; the forward's Cc does not join: {:?}", d.sr.participants);
    let acks: Vec<_> = d.outgoing.iter().filter(|m| m.kind == OutKind::Acknowledgement).collect();
    assert_eq!(acks.len(), 1, "one acknowledgement");
    assert_eq!((acks[0].to.clone(), acks[0].cc.clone()), (vec!["jane@customer.example".to_string()], Vec::<String>::new()));
    assert!(acks[0].body.contains("reached us through Ann Engineer (ann@example.test)"), "{}", acks[0].body);
    assert!(!acks[0].body.contains("key customer"), "the note is not the customer's: {}", acks[0].body);
    let notice = d.outgoing.iter().find(|m| m.kind == OutKind::CseNotification).expect("the CSE is told");
    assert!(notice.body.contains("Our printer is on fire.") && notice.body.contains("key customer"), "{}", notice.body);
}

#[test]
fn an_authenticated_colleague_joins_and_an_unauthenticated_one_is_not_trusted() {
    let f = Fixture::new();
    let unsigned = forward("carla@example.test", false, "jane@customer.example", "Our printer is on fire.");
    let mut uncopied = unsigned.clone();
    uncopied.cc.clear();
    assert!(needs_authentication(&f.config, &uncopied), "srgate verifies an internal forward's signature");
    uncopied.forward = None;
    assert!(!needs_authentication(&f.config, &uncopied), "other internal mail is decided without DNS");
    let d = f.decide(&forward("carla@example.test", true, "jane@customer.example", "Our printer is on fire."));
    assert_eq!(d.sr.customer, "jane@customer.example");
    assert_eq!(d.sr.participants, vec!["carla@example.test"]);
    let ack = d.outgoing.iter().find(|m| m.kind == OutKind::Acknowledgement).expect("acknowledged");
    assert_eq!((ack.to.clone(), ack.cc.clone()), (vec!["jane@customer.example".to_string()], vec!["carla@example.test".to_string()]));
    assert!(ack.body.contains("reached us through Forwarder (carla@example.test)"), "{}", ack.body);

    let d = f.decide(&unsigned);
    assert_eq!(d.sr.customer, "carla@example.test", "a From header is not an identity: the SR is the sender's, as any mail's");
    assert!(events(&d, "forwarded_by").is_empty());
    let why = events(&d, "forward_not_used");
    assert!(why.len() == 1 && why[0].detail.contains("not authenticated"), "{why:?}");
}

#[test]
fn a_stranger_forward_is_any_mail() {
    let f = Fixture::new();
    let d = f.decide(&forward("tom@outside.example", true, "jane@customer.example", "Our printer is on fire."));
    assert_eq!(d.sr.customer, "tom@outside.example");
    assert!(events(&d, "forwarded_by").is_empty() && events(&d, "forward_not_used").is_empty());
}

#[test]
fn forwards_of_our_own_or_machine_addresses_are_the_forwarders() {
    let f = Fixture::new();
    for original in ["support@example.test", "ann@example.test", "mailer-daemon@customer.example", "no-reply@customer.example"] {
        let d = f.decide(&forward("carla@example.test", true, original, "Text."));
        assert_eq!(d.sr.customer, "carla@example.test", "{original}");
        let why = events(&d, "forward_not_used");
        assert_eq!(why.len(), 1, "{original}: {:?}", d.sr.events);
    }
    // Outlook names a colleague by name only: the sender cannot be read.
    let raw = "From: Ann <ann@example.test>\r\nTo: support@example.test\r\nSubject: FW: Printer\r\nMessage-ID: <n1@example.test>\r\n\r\nTake it.\r\n\r\nFrom: Jane Doe\r\nSent: Monday, March 2, 2026 4:12 PM\r\nSubject: Printer\r\n\r\nOn fire.\r\n";
    let mut mail = crate::mail::inbound::parse(raw.as_bytes()).expect("parses");
    mail.authentication = Authentication { checked: Checked::Verified, dkim_pass: vec!["example.test".into()], ..Default::default() };
    let d = f.decide(&mail);
    assert_eq!(d.sr.customer, "ann@example.test");
    assert!(events(&d, "forward_not_used")[0].detail.contains("cannot be read"), "{:?}", d.sr.events);
}

#[test]
fn the_rules_read_the_original_not_the_note() {
    let f = Fixture::new();
    let d = f.decide(&forward("ann@example.test", true, "jane@customer.example", "Our production is down since 8:00."));
    assert_eq!(d.sr.priority, Priority::P1);
    let calm = f.decide(&forward("ann@example.test", true, "jane@customer.example", "How do I change the toner?"));
    assert_ne!(calm.sr.priority, Priority::P1);
}

#[test]
fn an_attached_original_brings_its_files_and_date() {
    let f = Fixture::new();
    let raw = "From: Ann <ann@example.test>\r\nTo: support@example.test\r\nSubject: FW: Printer\r\nMessage-ID: <a1@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFor Jane.\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: Jane <jane@customer.example>\r\nSubject: Printer\r\nDate: Mon, 02 Mar 2026 16:12:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"c\"\r\n\r\n--c\r\nContent-Type: text/plain\r\n\r\nIt burns.\r\n--c\r\nContent-Type: text/plain; name=\"log.txt\"\r\nContent-Disposition: attachment; filename=\"log.txt\"\r\n\r\nE451\r\n--c--\r\n--b--\r\n";
    let mut mail = crate::mail::inbound::parse(raw.as_bytes()).expect("parses");
    mail.authentication = Authentication { checked: Checked::Verified, dkim_pass: vec!["example.test".into()], ..Default::default() };
    let d = f.decide(&mail);
    assert_eq!(
        (d.sr.customer.as_str(), d.sr.subject.as_str(), d.sr.messages[0].text.as_str()),
        ("jane@customer.example", "Printer", "It burns.")
    );
    assert_eq!(d.sr.messages[0].attachments, vec!["log.txt"]);
    assert!(events(&d, "forwarded_by")[0].detail.contains("2026-03-02T16:12:00+01:00"), "{:?}", d.sr.events);
    let notice = d.outgoing.iter().find(|m| m.kind == OutKind::CseNotification).expect("the CSE is told");
    assert_eq!(notice.attachments.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), vec!["log.txt"]);
}
