//! Issue 14, item 4: several support addresses, decided end to end in the pure core.

use std::collections::HashMap;
use std::path::Path;

use jiff::Timestamp;

use super::*;
use crate::mail::outbound::OutKind;
use crate::sr;

use super::testkit::{NO_KB, NoStore as Empty};

struct Fixture {
    config: Config,
    templates: Templates,
    rules: RuleSet,
    policy: Policy,
}

impl Fixture {
    fn new(rules: &str) -> Fixture {
        let config = crate::config::compile(
            Path::new("/x/srgate.toml"),
            r#"
data_dir = "d"
support_address = "support@example.test"
support_name = "Example Support"
[smtp]
host = "127.0.0.1"
port = 25
[[mailbox]]
host = "127.0.0.1"
port = 143
username = "box@example.test"
password = "p"
[[cse]]
name = "Ann"
email = "ann@example.test"
languages = ["en", "es"]
[[address]]
address = "ventas@example.test"
name = "Soporte Ejemplo"
product = "network"
language = "es"
signature = "Soporte Ejemplo, Madrid"
"#,
        )
        .expect("config");
        let rules = RuleSet::compile(&[(Path::new("r.toml"), rules)], &crate::setup::roster_view(&config)).expect("rules");
        let templates = Templates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")).expect("templates");
        Fixture { config, templates, rules, policy: Policy::standard() }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx { config: &self.config, templates: &self.templates, rules: &self.rules, policy: &self.policy, kb: &NO_KB, instance: "t1" }
    }
}

fn parse(raw: &str) -> Inbound {
    crate::mail::inbound::parse(raw.as_bytes()).expect("mail")
}

fn opened(ctx: Ctx<'_>, raw: &str) -> Decision {
    let loads = HashMap::new();
    let new = NewSr { id: 100_001, mailbox: "support", loads: &loads, rr: 0 };
    let now: Timestamp = "2026-03-03T10:00:00Z".parse().expect("instant");
    match decide(ctx, &parse(raw), None, &new, &Empty, now).expect("decided") {
        Outcome::Apply(d) => *d,
        other => panic!("expected a new SR, got {other:?}"),
    }
}

#[test]
fn an_sr_is_answered_from_the_address_its_customer_wrote_to() {
    let fixture = Fixture::new("");
    let ctx = fixture.ctx();
    let d = opened(
        ctx,
        "From: jo@example.com\r\nTo: box@example.test\r\nCc: Ventas@example.test\r\nSubject: Hi\r\nMessage-ID: <a1@example.com>\r\n\r\nHi.\r\n",
    );
    assert_eq!(d.sr.support_address.as_deref(), Some("ventas@example.test"));
    assert!(d.sr.participants.is_empty(), "our own addresses never join: {:?}", d.sr.participants);
    // The address's defaults: its product, and its language for a text too short to detect.
    assert_eq!((d.sr.product.as_deref(), d.sr.language.as_str()), (Some("network"), "es"));
    for mail in &d.outgoing {
        assert_eq!(mail.from, "ventas@example.test", "{:?}", mail.kind);
    }
    let ack = d.outgoing.iter().find(|m| m.kind == OutKind::Acknowledgement).expect("acknowledged");
    assert_eq!(ack.from_name.as_deref(), Some("Soporte Ejemplo"));
    assert!(ack.body.contains("Soporte Ejemplo, Madrid"), "{}", ack.body);
    let note = d.outgoing.iter().find(|m| m.kind == OutKind::CseNotification).expect("notified");
    assert!(!note.body.contains("Soporte Ejemplo, Madrid"), "staff mail carries no signature");
    assert!(d.sr.messages.iter().filter(|m| m.direction == sr::Direction::Out).all(|m| m.from == "ventas@example.test"));

    // The CSE's answer is relayed from that address, under the CSE's name and the address's.
    let mut answer = parse(&format!(
        "From: ann@example.test\r\nTo: ventas@example.test\r\nSubject: Re: {}\r\nMessage-ID: <a2@example.test>\r\n\r\nPlease restart it.\r\n",
        ack.subject
    ));
    answer.authentication =
        auth::Authentication { checked: auth::Checked::Verified, dkim_pass: vec!["example.test".into()], ..Default::default() };
    let loads = HashMap::new();
    let new = NewSr { id: 0, mailbox: "support", loads: &loads, rr: 0 };
    let later: Timestamp = "2026-03-03T11:00:00Z".parse().expect("instant");
    let Outcome::Apply(d) = decide(ctx, &answer, Some(d.sr), &new, &Empty, later).expect("decided") else { panic!("applied") };
    let relay = d.outgoing.iter().find(|m| m.kind == OutKind::Relay).expect("relayed");
    assert_eq!((relay.from.as_str(), relay.from_name.as_deref()), ("ventas@example.test", Some("Ann (Soporte Ejemplo)")));
    assert!(relay.body.contains("Please restart it.") && relay.body.contains("Soporte Ejemplo, Madrid"), "{}", relay.body);
}

#[test]
fn without_a_configured_address_in_sight_the_default_answers() {
    let fixture = Fixture::new("");
    let d =
        opened(fixture.ctx(), "From: jo@example.com\r\nTo: box@example.test\r\nSubject: Hi\r\nMessage-ID: <b1@example.com>\r\n\r\nHi.\r\n");
    assert_eq!(d.sr.support_address.as_deref(), Some("support@example.test"));
    assert_eq!(d.sr.product, None);
    let ack = d.outgoing.iter().find(|m| m.kind == OutKind::Acknowledgement).expect("acknowledged");
    assert_eq!((ack.from.as_str(), ack.from_name.as_deref()), ("support@example.test", Some("Example Support")));
    assert!(!ack.body.contains("Madrid"));
}

#[test]
fn delivery_headers_count_after_to_and_cc() {
    let fixture = Fixture::new("");
    let d = opened(
        fixture.ctx(),
        "Delivered-To: box@example.test\r\nX-Original-To: ventas@example.test\r\nFrom: jo@example.com\r\nTo: Undisclosed recipients:;\r\nSubject: Hi\r\nMessage-ID: <c1@example.com>\r\n\r\nHi.\r\n",
    );
    assert_eq!(d.sr.support_address.as_deref(), Some("ventas@example.test"));
}

#[test]
fn rules_match_on_the_address_and_win_over_its_defaults() {
    let rules = "[[rule]]\nname = \"ventas\"\nwhen.address = \"ventas@example.test\"\nthen.priority = \"P2\"\nthen.product = \"cloud\"\nthen.language = \"en\"\n";
    let fixture = Fixture::new(rules);
    let d = opened(
        fixture.ctx(),
        "From: jo@example.com\r\nTo: ventas@example.test\r\nSubject: Hi\r\nMessage-ID: <d1@example.com>\r\n\r\nHi.\r\n",
    );
    assert_eq!((d.sr.priority, d.sr.product.as_deref(), d.sr.language.as_str()), (sr::Priority::P2, Some("cloud"), "en"));
    let d = opened(
        fixture.ctx(),
        "From: jo@example.com\r\nTo: support@example.test\r\nSubject: Hi\r\nMessage-ID: <d2@example.com>\r\n\r\nHi.\r\n",
    );
    assert_eq!(d.sr.priority, sr::Priority::P3, "the rule names the other address");
}

#[test]
fn every_configured_address_is_ours() {
    let fixture = Fixture::new("");
    let config = &fixture.config;
    let copying = |cc: &str| parse(&format!("From: jo@example.com\r\nTo: support@example.test\r\nCc: {cc}\r\nSubject: Hi\r\n\r\nHi."));
    assert!(!needs_authentication(config, &copying("ventas@example.test")), "copying our other address needs no DNS");
    assert!(!needs_authentication(config, &copying("box@example.test")));
    assert!(needs_authentication(config, &copying("boss@example.com")));
    let looped = parse("From: jo@example.com\r\nX-Loop: ventas@example.test\r\nSubject: Hi\r\n\r\nHi.");
    assert_eq!(classification(fixture.ctx(), &looped).class, Class::Own);
}
