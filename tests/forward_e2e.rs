//! Forwarded mail on the real stack: a roster CSE and a colleague of an internal domain
//! forward customers' mails (the real-shaped samples of `tests/corpus/forwards/`, with
//! this test's addresses) through Postfix, whose OpenDKIM signs them as a real site's
//! outgoing server does; srgate verifies the signatures against the test DNS server. A
//! forgery in a colleague's name arrives as an outsider's would, put straight into the
//! support mailbox (IMAP APPEND), unsigned.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::desk::{Desk, Options};
use common::read::{attachment_names, body};
use common::{MailStack, stack};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
/// A Wednesday, 10:30 in Paris: business hours.
const NOW: &str = "2026-03-04T09:30:00Z";

/// A desk whose CSE, Ann, speaks English, German and French, with `example.test` internal.
fn desk(ms: &MailStack) -> Desk {
    Desk::with(
        ms,
        Options {
            top: "internal_domains = [\"example.test\"]\n".into(),
            tail: "languages = [\"en\", \"de\", \"fr\"]\n".into(),
            ..Options::default()
        },
    )
}

/// A sample of `tests/corpus/forwards/` with the forwarder, the customer and the support
/// address replaced by this test's.
fn sample(file: &str, forwarder: (&str, &str), customer: (&str, &str), support: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/forwards").join(file);
    let text = String::from_utf8(std::fs::read(path).unwrap()).unwrap();
    text.replace(forwarder.0, forwarder.1).replace(customer.0, customer.1).replace("support@example.test", support).into_bytes()
}

/// One forward and what must come of it.
struct Case {
    file: &'static str,
    /// The forwarder's address in the sample.
    sample_forwarder: &'static str,
    /// The customer's address in the sample.
    sample_customer: &'static str,
    /// True: forwarded by the roster CSE; false: by the internal colleague.
    by_cse: bool,
    subject: &'static str,
    text: &'static str,
    attachments: &'static [&'static str],
    /// The acknowledgement's words for the forward, in the customer's language.
    ack: &'static str,
}

const CASES: &[Case] = &[
    Case {
        file: "en_outlook_forward.eml",
        sample_forwarder: "ann.seller@example.test",
        sample_customer: "jane.doe@customer.example",
        by_cse: true,
        subject: "Printer on fire in room 3.14",
        text: "smoking again",
        attachments: &["E451_panel_log.txt"],
        ack: "Your message reached us through",
    },
    Case {
        file: "de_outlook_forward_wg.eml",
        sample_forwarder: "petra.vertrieb@example.test",
        sample_customer: "j.mueller@kunde.example",
        by_cse: false,
        subject: "Störung: Drucker im Großraumbüro",
        text: "riecht schon wieder verbrannt",
        attachments: &[],
        ack: "Ihre Nachricht wurde uns von",
    },
    Case {
        file: "fr_owa_forward_tr.eml",
        sample_forwarder: "luc.commercial@example.test",
        sample_customer: "marie.curie@client.example",
        by_cse: true,
        subject: "Imprimante en panne au 2e étage",
        text: "affiche l'erreur E-451",
        attachments: &[],
        ack: "par l'intermédiaire de",
    },
    Case {
        file: "en_gmail_forward.eml",
        sample_forwarder: "ann.seller@example.test",
        sample_customer: "tom.baker@customer.example",
        by_cse: false,
        subject: "VPN drops every 10 minutes",
        text: "IKE SA expired",
        attachments: &[],
        ack: "Your message reached us through",
    },
    Case {
        file: "de_gmail_forward.eml",
        sample_forwarder: "petra.vertrieb@example.test",
        sample_customer: "p.schmidt@kunde.example",
        by_cse: true,
        subject: "Lizenzserver nicht erreichbar",
        text: "Lizenzserver nicht mehr erreichbar",
        attachments: &[],
        ack: "Ihre Nachricht wurde uns von",
    },
    Case {
        file: "fr_gmail_forward.eml",
        sample_forwarder: "luc.commercial@example.test",
        sample_customer: "paul.martin@client.example",
        by_cse: false,
        subject: "Sauvegarde échouée",
        text: "la sauvegarde de cette nuit a échoué",
        attachments: &[],
        ack: "par l'intermédiaire de",
    },
    Case {
        file: "en_apple_mail_forward.eml",
        sample_forwarder: "ann.seller@example.test",
        sample_customer: "jane.doe@customer.example",
        by_cse: true,
        subject: "Scanner stopped sending mail",
        text: "SMTP authentication failed",
        attachments: &[],
        ack: "Your message reached us through",
    },
    Case {
        file: "de_apple_mail_forward.eml",
        sample_forwarder: "petra.vertrieb@example.test",
        sample_customer: "j.mueller@kunde.example",
        by_cse: false,
        subject: "Kein Zugriff auf das Portal",
        text: "nicht mehr in das Kundenportal",
        attachments: &[],
        ack: "Ihre Nachricht wurde uns von",
    },
    Case {
        file: "fr_apple_mail_forward_iphone.eml",
        sample_forwarder: "luc.commercial@example.test",
        sample_customer: "marie.curie@client.example",
        by_cse: true,
        subject: "Écran noir au démarrage",
        text: "trois postes affichent un écran noir",
        attachments: &[],
        ack: "par l'intermédiaire de",
    },
    Case {
        file: "en_thunderbird_forward.eml",
        sample_forwarder: "ann.seller@example.test",
        sample_customer: "tom.baker@customer.example",
        by_cse: false,
        subject: "Backup job fails every night",
        text: "device not ready",
        attachments: &[],
        ack: "Your message reached us through",
    },
    Case {
        file: "de_thunderbird_forward.eml",
        sample_forwarder: "petra.vertrieb@example.test",
        sample_customer: "j.mueller@kunde.example",
        by_cse: true,
        subject: "Drucker druckt nur leere Seiten",
        text: "nur noch leere Seiten",
        attachments: &[],
        ack: "Ihre Nachricht wurde uns von",
    },
    Case {
        file: "fr_thunderbird_forward.eml",
        sample_forwarder: "luc.commercial@example.test",
        sample_customer: "paul.martin@client.example",
        by_cse: false,
        subject: "Messagerie inaccessible",
        text: "plus personne chez nous ne peut envoyer",
        attachments: &[],
        ack: "par l'intermédiaire de",
    },
    Case {
        file: "en_outlook_forward_attached.eml",
        sample_forwarder: "ann.seller@example.test",
        sample_customer: "jane.doe@customer.example",
        by_cse: true,
        subject: "Label printer prints garbage",
        text: "prints garbage characters",
        attachments: &["label.png"],
        ack: "Your message reached us through",
    },
];

/// The SR of `customer` among the desk's SRs, shown in full.
fn sr_of(desk: &Desk, customer: &str) -> Value {
    let srs = desk.srs();
    let listed = srs.iter().find(|s| s["customer"] == customer).unwrap_or_else(|| panic!("no SR for {customer}: {srs:#?}"));
    desk.sr(listed["id"].as_u64().unwrap())
}

fn events<'a>(sr: &'a Value, kind: &str) -> Vec<&'a Value> {
    sr["events"].as_array().unwrap().iter().filter(|e| e["kind"] == kind).collect()
}

#[test]
fn forwards_of_each_shape_open_the_sr_for_the_original_sender() {
    let ms = stack();
    let desk = desk(ms);
    let colleague = ms.unique_domain_user("carla");
    let customers: Vec<String> = CASES.iter().map(|_| ms.unique_user_at("cust", "example.com")).collect();
    for (case, customer) in CASES.iter().zip(&customers) {
        let forwarder = if case.by_cse { &desk.cse } else { &colleague };
        let raw = sample(case.file, (case.sample_forwarder, forwarder), (case.sample_customer, customer), &desk.support);
        ms.send(&raw, forwarder, &[&desk.support]);
    }
    ms.wait_for_messages(&desk.support, "INBOX", CASES.len(), WAIT);
    desk.run_at(NOW);

    assert_eq!(desk.srs().len(), CASES.len(), "one SR per forward, none for a forwarder");
    for (case, customer) in CASES.iter().zip(&customers) {
        let forwarder = if case.by_cse { &desk.cse } else { &colleague };
        let sr = sr_of(&desk, customer);
        assert_eq!(sr["subject"], case.subject, "{}: {sr:#}", case.file);
        let first = &sr["messages"][0];
        assert!(first["text"].as_str().unwrap().contains(case.text), "{}: the original's text: {first:#}", case.file);
        assert_eq!(first["attachments"], serde_json::json!(case.attachments), "{}", case.file);
        let by = events(&sr, "forwarded_by");
        assert_eq!(by.len(), 1, "{}: {sr:#}", case.file);
        assert_eq!(by[0]["by"], forwarder.as_str(), "{}", case.file);
        assert!(by[0]["detail"].as_str().unwrap().contains(customer.as_str()), "{}: {by:?}", case.file);
        let participants: Vec<&str> = sr["participants"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        let expected: Vec<&str> = if case.by_cse { vec![] } else { vec![colleague.as_str()] };
        assert_eq!(participants, expected, "{}: a colleague joins, the CSE does not", case.file);
    }

    // Every customer gets one acknowledgement, in their language, naming the forwarder.
    for (case, customer) in CASES.iter().zip(&customers) {
        let forwarder = if case.by_cse { &desk.cse } else { &colleague };
        ms.wait_for_messages(customer, "INBOX", 1, WAIT);
        let text = body(&ms.messages(customer, "INBOX")[0].raw);
        assert!(text.contains(case.ack) && text.contains(forwarder.as_str()), "{}: {text}", case.file);
    }
    ms.wait_queue_empty(WAIT);
    for (case, customer) in CASES.iter().zip(&customers) {
        assert_eq!(ms.count_messages(customer, "INBOX"), 1, "{}: one acknowledgement", case.file);
    }
    // A colleague who joined is copied on the acknowledgement, and the CSE is told with the files.
    let copies = ms.messages(&colleague, "INBOX").into_iter().filter(|m| body(&m.raw).contains("reached us through")).count();
    assert!(copies >= 1, "the colleague is copied");
    let notices = ms.messages(&desk.cse, "INBOX");
    let with_log = notices.iter().find(|m| body(&m.raw).contains("smoking again")).expect("the CSE's notification");
    assert_eq!(attachment_names(&with_log.raw), vec!["E451_panel_log.txt"]);
    let with_png = notices.iter().find(|m| body(&m.raw).contains("prints garbage characters")).expect("the CSE's notification");
    assert_eq!(attachment_names(&with_png.raw), vec!["label.png"]);
    assert!(body(&with_log.raw).contains("Please open a request for Jane"), "the forwarder's note reaches the CSE");
}

#[test]
fn unreadable_and_unauthenticated_forwards_are_their_senders() {
    let ms = stack();
    let desk = desk(ms);
    let colleague = ms.unique_domain_user("carla");
    let (customer, other) = (ms.unique_user_at("cust", "example.com"), ms.unique_user_at("cust", "example.com"));
    // Outlook shows the original's sender by name only: the SR is the CSE's, as today.
    let name_only = sample("en_outlook_forward_name_only.eml", ("ann.seller@example.test", &desk.cse), ("-", "-"), &desk.support);
    ms.send(&name_only, &desk.cse, &[&desk.support]);
    // A colleague's forward that was not signed (forged, or not through our server): not trusted.
    let forged =
        sample("en_gmail_forward.eml", ("ann.seller@example.test", &colleague), ("tom.baker@customer.example", &customer), &desk.support);
    ms.append(&desk.support, "INBOX", &forged);
    // The same from a customer's domain, signed: an ordinary customer mail.
    let outsider = sample("fr_gmail_forward.eml", ("luc.commercial@example.test", &other), ("-", "-"), &desk.support);
    ms.send(&outsider, &other, &[&desk.support]);
    ms.wait_for_messages(&desk.support, "INBOX", 3, WAIT);
    desk.run_at(NOW);

    assert_eq!(desk.srs().len(), 3, "{:#?}", desk.srs());
    let cse_sr = sr_of(&desk, &desk.cse);
    let why = events(&cse_sr, "forward_not_used");
    assert!(why.len() == 1 && why[0]["detail"].as_str().unwrap().contains("cannot be read"), "{cse_sr:#}");
    let colleague_sr = sr_of(&desk, &colleague);
    let why = events(&colleague_sr, "forward_not_used");
    assert!(why.len() == 1 && why[0]["detail"].as_str().unwrap().contains("not authenticated"), "{colleague_sr:#}");
    assert!(events(&colleague_sr, "forwarded_by").is_empty());
    let other_sr = sr_of(&desk, &other);
    assert!(events(&other_sr, "forwarded_by").is_empty() && events(&other_sr, "forward_not_used").is_empty(), "{other_sr:#}");
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&customer, "INBOX"), 0, "nothing goes to the customer a forgery names");
}
