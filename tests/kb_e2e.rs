//! Issue 14, item 2 end to end on the real stack with `run --once --now`: knowledge-base
//! articles in the acknowledgement (in the customer's language, none for an unrelated
//! mail, not twice to one customer within 30 days), a customer's "that fixed it"
//! closing the SR, and `srgate check` on a broken `kb/` file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::desk::{Desk, Options};
use common::read::{body, header, kinds};
use common::{MailStack, stack};

const WAIT: Duration = Duration::from_secs(20);
/// Tuesday 3 March 2026, 10:30 CET: business hours.
const T0: &str = "2026-03-03T09:30:00Z";

/// A desk with the shipped `kb/`, Ann (English) and Bea (English and French).
fn desk(ms: &MailStack) -> (Desk, String) {
    let bea = ms.unique_domain_user("bea");
    let root = env!("CARGO_MANIFEST_DIR");
    let options = Options {
        top: format!("kb_dir = \"{root}/kb\"\nsupport_name = \"Example Support\""),
        tail: format!("[[cse]]\nname = \"Bea\"\nemail = \"{bea}\"\nlanguages = [\"en\", \"fr\"]\n"),
        ..Options::default()
    };
    (Desk::with(ms, options), bea)
}

/// `from` writes a new mail to the desk (or a reply, with `in_reply_to`); waits until it is in the support mailbox.
fn send(ms: &MailStack, desk: &Desk, from: &str, subject: &str, text: &str, in_reply_to: Option<&str>) {
    let n = ms.count_messages(&desk.support, "INBOX");
    let threading = in_reply_to.map(|id| format!("In-Reply-To: {id}\r\nReferences: {id}\r\n")).unwrap_or_default();
    let raw = format!(
        "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <kb{n}.{}>\r\n{threading}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n",
        desk.support,
        from.replace('@', ".")
    );
    ms.send(raw.as_bytes(), from, &[&desk.support]);
    ms.wait_for_messages(&desk.support, "INBOX", n + 1, WAIT);
}

/// The `n`-th mail (1-based) `who` received, raw, once it is there.
fn nth_mail(ms: &MailStack, who: &str, n: usize) -> Vec<u8> {
    ms.wait_for_messages(who, "INBOX", n, WAIT).swap_remove(n - 1)
}

/// The mail `who` received whose body contains `needle`.
fn mail_with(ms: &MailStack, who: &str, needle: &str) -> String {
    let mut found = None;
    common::wait_until(WAIT, Duration::from_millis(100), || {
        found = ms.messages(who, "INBOX").into_iter().map(|m| body(&m.raw)).find(|b| b.contains(needle));
        found.is_some()
    });
    found.unwrap_or_else(|| panic!("no mail to {who} contains {needle:?}"))
}

#[test]
fn an_outage_gets_the_status_article_in_its_language_and_an_unrelated_mail_none() {
    let ms = stack();
    let (desk, bea) = desk(ms);
    let (en, fr, other) =
        (ms.unique_user_at("cust", "example.com"), ms.unique_user_at("client", "example.com"), ms.unique_user_at("buyer", "example.com"));
    send(ms, &desk, &en, "Portal down", "Since 9:00 we cannot reach the portal: every page shows 503 Service Unavailable.", None);
    send(
        ms,
        &desk,
        &fr,
        "Portail en panne",
        "Bonjour,\n\ndepuis ce matin le portail est indisponible et ne répond plus. Nos équipes ne peuvent plus travailler.\n\nMerci de votre aide.",
        None,
    );
    send(ms, &desk, &other, "Invoice copy", "Could you send me a copy of the March invoice? Our accounting needs it.", None);
    desk.run_at(T0);

    let ack = body(&nth_mail(ms, &en, 1));
    assert!(ack.contains("Service status and known outages") && ack.contains("https://status.example.com/"), "{ack}");
    assert!(ack.contains("reply \"solved\""), "{ack}");
    let ack_fr = body(&nth_mail(ms, &fr, 1));
    assert!(ack_fr.contains("Nous avons ouvert"), "the acknowledgement is in French: {ack_fr}");
    assert!(ack_fr.contains("État du service et incidents en cours") && ack_fr.contains("https://status.example.com/fr/"), "{ack_fr}");
    assert!(!ack_fr.contains("Service status and known outages"), "only the French article: {ack_fr}");
    let ack_other = body(&nth_mail(ms, &other, 1));
    assert!(!ack_other.contains("knowledge base") && !ack_other.contains("https://"), "no article for an invoice: {ack_other}");

    // The CSE's notification lists the articles and why they matched; the SR records the suggestion.
    let sr = desk.srs().into_iter().find(|s| s["customer"] == en.as_str()).expect("the English SR");
    let cse = sr["assignee"].as_str().expect("assigned").to_string();
    assert!([desk.cse.as_str(), bea.as_str()].contains(&cse.as_str()));
    let note = mail_with(ms, &cse, "Portal down");
    assert!(note.contains("status-en: Service status and known outages") && note.contains("down (subject)"), "{note}");
    assert!(sr["events"].as_array().unwrap().iter().any(|e| e["kind"] == "kb_suggested" && e["detail"] == "status-en"), "{sr}");

    // `rules explain` says which articles matched and why.
    let eml = desk.dir.path().join("outage.eml");
    std::fs::write(&eml, "From: x@example.com\r\nSubject: Portal down\r\n\r\nWe cannot reach the portal, 503 everywhere.\r\n").unwrap();
    let out = desk.srgate(&["rules", "explain", eml.to_str().unwrap(), "--now", T0, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &v["articles"][0];
    assert_eq!((first["id"].as_str(), first["suggested"].as_bool()), (Some("status-en"), Some(true)), "{v}");
    let terms: Vec<&str> = first["hits"].as_array().unwrap().iter().filter_map(|h| h["term"].as_str()).collect();
    assert!(terms.contains(&"down") && terms.contains(&"cannot reach"), "{terms:?}");
    let human = desk.srgate(&["rules", "explain", eml.to_str().unwrap(), "--now", T0]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("article \"status-en\"") && text.contains("suggested") && text.contains("matched down (subject)"), "{text}");
}

#[test]
fn one_article_is_not_suggested_twice_to_a_customer_within_30_days() {
    let ms = stack();
    let (desk, _) = desk(ms);
    let customer = ms.unique_user_at("cust", "example.com");
    send(ms, &desk, &customer, "Portal down", "We cannot reach the portal, it times out.", None);
    desk.run_at(T0);
    assert!(body(&nth_mail(ms, &customer, 1)).contains("https://status.example.com/"));
    // Ten days later, another outage: a new SR, but not the same article again.
    send(ms, &desk, &customer, "Portal down again", "The portal is unavailable again, every request times out.", None);
    desk.run_at("2026-03-13T09:30:00Z");
    let second = body(&nth_mail(ms, &customer, 2));
    assert!(second.contains("[SR#100002]") && !second.contains("https://status.example.com/"), "{second}");
    // Another customer is shown it all the same.
    let other = ms.unique_user_at("other", "example.com");
    send(ms, &desk, &other, "Portal down", "We cannot reach the portal, it times out.", None);
    desk.run_at("2026-03-13T09:31:00Z");
    assert!(body(&nth_mail(ms, &other, 1)).contains("https://status.example.com/"));
    // After 30 days, the first customer sees it again.
    send(ms, &desk, &customer, "Portal down once more", "The portal is unreachable, 502 Bad Gateway.", None);
    desk.run_at("2026-04-03T08:30:00Z");
    let third = body(&nth_mail(ms, &customer, 3));
    assert!(third.contains("[SR#100004]") && third.contains("https://status.example.com/"), "{third}");
}

#[test]
fn that_fixed_it_closes_the_sr_as_resolved_and_not_solved_does_not() {
    let ms = stack();
    let (desk, _) = desk(ms);
    let customer = ms.unique_user_at("cust", "example.com");
    send(ms, &desk, &customer, "Portal down", "We cannot reach the portal: 503 Service Unavailable.", None);
    desk.run_at(T0);
    let ack = nth_mail(ms, &customer, 1);
    let ack_id = header(&ack, "Message-ID");
    let quoted = body(&ack).lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n");
    let subject = format!("Re: {}", header(&ack, "Subject"));

    // Negated: the SR stays open (and "solved" in the quoted acknowledgement does not count).
    let not_yet = format!("Not solved yet, the portal is still down.\n\nOn Tue, 3 Mar 2026, Example Support wrote:\n{quoted}");
    send(ms, &desk, &customer, &subject, &not_yet, Some(&ack_id));
    desk.run_at("2026-03-03T10:00:00Z");
    let sr = desk.sr(100_001);
    assert_eq!(sr["state"], "open", "{sr}");

    let fixed = format!("Thanks, that fixed it!\n\nOn Tue, 3 Mar 2026, Example Support wrote:\n{quoted}");
    send(ms, &desk, &customer, &subject, &fixed, Some(&ack_id));
    desk.run_at("2026-03-03T11:00:00Z");
    let sr = desk.sr(100_001);
    assert_eq!((sr["state"].as_str(), sr["close_reason"].as_str()), (Some("closed"), Some("resolved")), "{sr}");
    assert!(kinds(&sr).contains(&"closed".to_string()));
    let notice = body(&nth_mail(ms, &customer, 2));
    assert!(notice.contains("is now closed") && notice.contains("as resolved"), "{notice}");
    mail_with(ms, &desk.cse, "is closed as resolved");
}

#[test]
fn a_broken_kb_file_fails_check_with_its_line() {
    let ms = stack();
    let options = Options { top: "kb_dir = \"kb\"".into(), ..Options::default() };
    let desk = Desk::with(ms, options);
    let kb = desk.dir.path().join("kb");
    // A named folder that does not exist is an error.
    let missing = desk.srgate(&["check"]);
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("kb_dir"));
    std::fs::create_dir(&kb).unwrap();
    std::fs::write(kb.join("good.toml"), std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/kb/30-vpn.toml")).unwrap()).unwrap();
    let ok = desk.srgate(&["check"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("knowledge base: 5 articles"));
    std::fs::write(
        kb.join("printer.toml"),
        "[[article]]\nid = \"printer\"\ntitle = \"Printer offline\"\nurl = \"https://kb.example.com/printer\"\nlanguages = [\"en\", \"pt\"]\nmatch = [\"printer\", \"/offline(/\"]\n",
    )
    .unwrap();
    let bad = desk.srgate(&["check"]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success(), "{err}");
    let file = kb.join("printer.toml");
    assert!(err.contains(&format!("{}:5: `languages`: unknown language `pt`", file.display())), "{err}");
    assert!(err.contains(&format!("{}:6: `match`: bad regex `offline(`", file.display())), "{err}");
}
