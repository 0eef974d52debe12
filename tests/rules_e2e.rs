//! Issue 3 end to end on the real stack: language, business hours, on-call, accounts, targets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;
use std::time::Duration;

use common::cli::Cli;
use common::read::{body, header};
use common::{MailStack, stack};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);
const TUESDAY_MORNING: &str = "2026-03-03T09:30:00Z"; // 10:30 CET
const SATURDAY: &str = "2026-03-07T14:00:00Z"; // 15:00 CET
const SATURDAY_NIGHT: &str = "2026-03-07T22:00:00Z"; // 23:00 CET
const MONDAY_OPENING: &str = "2026-03-09T08:00:00Z"; // 09:00 CET

struct Desk {
    support: String,
    english: String,
    french: String,
    oncall: String,
    pager: String,
    escalation: String,
    csm: String,
    dir: tempfile::TempDir,
}

impl Desk {
    fn new(ms: &MailStack) -> Desk {
        let u = |p: &str| ms.unique_domain_user(p);
        let (support, english, french, oncall, pager, escalation, csm) =
            (u("support"), u("ann"), u("bruno"), u("olga"), u("pager"), u("escalation"), u("csm"));
        let dir = tempfile::tempdir().unwrap();
        let root = env!("CARGO_MANIFEST_DIR");
        let dns = common::dns::dns_resolver_line();
        let config = format!(
            r#"data_dir = "data"
rules_dir = "{root}/rules"
templates_dir = "{root}/templates"
support_address = "{support}"
{dns}support_name = "Example Support"
oncall_address = "{pager}"
escalation_address = "{escalation}"
[smtp]
host = "127.0.0.1"
port = {smtp}
[[mailbox]]
name = "support"
host = "127.0.0.1"
port = {imap}
username = "{support}"
password = "secret"
[[cse]]
name = "Ann English"
email = "{english}"
languages = ["en"]
[[cse]]
name = "Bruno Francais"
email = "{french}"
languages = ["en", "fr"]
[[cse]]
name = "Olga OnCall"
email = "{oncall}"
on_call = true
[[account]]
name = "Acme"
domains = ["acme.example.com"]
tier = "premium"
csm = "{csm}"
"#,
            smtp = ms.smtp_port,
            imap = ms.imap_port,
        );
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
        Desk { support, english, french, oncall, pager, escalation, csm, dir }
    }

    fn srgate(&self, args: &[&str]) -> Output {
        Cli::in_dir(self.dir.path()).output(args)
    }

    fn run_at(&self, now: &str) {
        Cli::in_dir(self.dir.path()).run_at(now);
    }

    fn sr(&self, id: u64) -> Value {
        Cli::in_dir(self.dir.path()).sr(id)
    }

    fn customer_writes(&self, ms: &MailStack, from: &str, subject: &str, body: &str) {
        let n = ms.count_messages(&self.support, "INBOX");
        let raw = format!(
            "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <{}-{}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
            self.support,
            n,
            from.replace('@', ".")
        );
        ms.send(raw.as_bytes(), from, &[&self.support]);
        ms.wait_for_messages(&self.support, "INBOX", n + 1, WAIT);
    }
}

const FRENCH: &str = "Bonjour, notre imprimante du deuxième étage n'imprime plus depuis ce matin. \
Nous avons redémarré l'appareil et vérifié le câble, sans succès. \
Pourriez-vous nous aider à trouver la cause du problème ? Merci beaucoup.";

#[test]
fn a_french_mail_on_tuesday_morning_goes_to_a_french_speaker_and_is_acknowledged_in_french() {
    let ms = stack();
    let desk = Desk::new(ms);
    let customer = ms.unique_user_at("marie", "example.com");
    desk.customer_writes(ms, &customer, "Imprimante en panne", FRENCH);
    desk.run_at(TUESDAY_MORNING);
    let sr = desk.sr(100_001);
    assert_eq!(sr["detected_language"], "fr");
    assert_eq!(sr["language"], "fr");
    assert_eq!(sr["assignee"], desk.french.as_str());
    assert_eq!(sr["after_hours"], false);
    let ack = ms.wait_for_messages(&customer, "INBOX", 1, WAIT).remove(0);
    let text = body(&ack);
    assert!(text.contains("Bonjour") || text.contains("Madame") || text.contains("demande"), "French acknowledgement: {text}");
    ms.wait_for_messages(&desk.french, "INBOX", 1, WAIT);
}

#[test]
fn the_same_french_mail_on_saturday_is_handled_in_english_and_waits_for_monday() {
    let ms = stack();
    let desk = Desk::new(ms);
    let customer = ms.unique_user_at("luc", "example.com");
    desk.customer_writes(ms, &customer, "Imprimante en panne", FRENCH);
    desk.run_at(SATURDAY);
    let sr = desk.sr(100_001);
    assert_eq!(sr["detected_language"], "fr");
    assert_eq!(sr["language"], "en");
    assert_eq!(sr["priority"], "P3");
    assert_eq!(sr["assignee"], Value::Null);
    assert_eq!(sr["after_hours"], true);
    let ack = ms.wait_for_messages(&customer, "INBOX", 1, WAIT).remove(0);
    let text = body(&ack);
    assert!(text.contains("Support in French is available during business hours"), "{text}");
    assert!(text.contains("Monday 9 March 2026, 09:00 CET"), "{text}");

    // Nobody is notified before Monday; at 09:00 the SR is assigned and its CSE told.
    desk.run_at("2026-03-08T12:00:00Z");
    assert_eq!(desk.sr(100_001)["assignee"], Value::Null);
    desk.run_at(MONDAY_OPENING);
    let sr = desk.sr(100_001);
    let assignee = sr["assignee"].as_str().expect("assigned at opening").to_string();
    let note = ms.wait_for_messages(&assignee, "INBOX", 1, WAIT).remove(0);
    assert!(body(&note).contains("imprimante"), "{}", body(&note));
}

#[test]
fn a_p1_on_saturday_night_pages_on_call() {
    let ms = stack();
    let desk = Desk::new(ms);
    let customer = ms.unique_user_at("ops", "example.com");
    desk.customer_writes(
        ms,
        &customer,
        "Production down: all users affected",
        "Our production cluster is down since 22:40 and all users are affected. Nothing loads.",
    );
    desk.run_at(SATURDAY_NIGHT);
    let sr = desk.sr(100_001);
    assert_eq!(sr["priority"], "P1");
    assert_eq!(sr["after_hours"], true);
    assert_eq!(sr["assignee"], desk.oncall.as_str());
    let page = ms.wait_for_messages(&desk.pager, "INBOX", 1, WAIT).remove(0);
    assert!(header(&page, "Subject").contains("[SR#100001]"));
    assert!(body(&page).contains("production cluster is down"));
    ms.wait_for_messages(&desk.oncall, "INBOX", 1, WAIT);
    let ack = ms.wait_for_messages(&customer, "INBOX", 1, WAIT).remove(0);
    assert!(body(&ack).contains("on-call engineer has been paged"), "{}", body(&ack));
}

#[test]
fn a_p3_on_saturday_is_acknowledged_with_monday_nine() {
    let ms = stack();
    let desk = Desk::new(ms);
    let customer = ms.unique_user_at("tom", "example.com");
    desk.customer_writes(
        ms,
        &customer,
        "Printer question",
        "The printer on the second floor prints everything twice. Could you have a look next week?",
    );
    desk.run_at(SATURDAY);
    let sr = desk.sr(100_001);
    assert_eq!(sr["priority"], "P3");
    assert_eq!(sr["assignee"], Value::Null);
    let ack = ms.wait_for_messages(&customer, "INBOX", 1, WAIT).remove(0);
    assert!(body(&ack).contains("Monday 9 March 2026, 09:00 CET"), "{}", body(&ack));
    assert_eq!(
        ms.count_messages(&desk.english, "INBOX") + ms.count_messages(&desk.french, "INBOX") + ms.count_messages(&desk.oncall, "INBOX"),
        0
    );
}

#[test]
fn premium_p1_copies_the_csm_and_a_missed_target_warns_once() {
    let ms = stack();
    let desk = Desk::new(ms);
    let customer = ms.unique_user_at("cio", "example.com").replace("@example.com", "@acme.example.com");
    // acme.example.com is not a stack domain: the customer's own copy cannot be delivered, so
    // look at the CSM's copy of the acknowledgement instead.
    let raw = format!(
        "From: {customer}\r\nTo: {}\r\nSubject: Ransomware on file server\r\nMessage-ID: <rw@acme.example.com>\r\n\r\nWe see a ransomware note on the file server. Please help urgently.\r\n",
        desk.support
    );
    ms.append(&desk.support, "INBOX", raw.as_bytes());
    desk.run_at(TUESDAY_MORNING);
    let sr = desk.sr(100_001);
    assert_eq!(sr["priority"], "P1");
    assert_eq!(sr["account"], "Acme");
    assert_eq!(sr["tier"], "premium");
    assert_eq!(sr["first_response_due"], "2026-03-03T10:30:00Z");
    let copy = ms.wait_for_messages(&desk.csm, "INBOX", 1, WAIT).remove(0);
    assert!(header(&copy, "Cc").contains(&desk.csm));
    assert!(header(&copy, "Subject").contains("[SR#100001]"));

    // An hour passes without a CSE answer: the CSE and the escalation address are warned, once.
    desk.run_at("2026-03-03T10:31:00Z");
    desk.run_at("2026-03-03T11:31:00Z");
    let warnings = ms.wait_for_messages(&desk.escalation, "INBOX", 1, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(ms.count_messages(&desk.escalation, "INBOX"), 1);
    assert!(header(&warnings[0], "Subject").contains("First response overdue"));
}

#[test]
fn explain_prints_the_decision() {
    let ms = stack();
    let desk = Desk::new(ms);
    let file = desk.dir.path().join("m.eml");
    std::fs::write(&file, "From: Jean <jean@acme.example.com>\r\nSubject: Panne de production VPN\r\n\r\nBonjour, depuis ce matin le VPN est hors service et toute la production est en panne. Aucun utilisateur ne peut se connecter au réseau. Merci de nous aider rapidement.\r\n").unwrap();
    let out = desk.srgate(&["rules", "explain", file.to_str().unwrap(), "--now", TUESDAY_MORNING, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["priority"], "P1");
    assert_eq!(v["language"], "fr");
    assert_eq!(v["detected_language"], "fr");
    assert_eq!(v["product"], "network");
    assert_eq!(v["account"], "Acme");
    assert_eq!(v["tier"], "premium");
    assert_eq!(v["after_hours"], false);
    assert_eq!(v["assignee"], desk.french.as_str());
    let rules = v["matched_rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| r["file"].as_str().is_some() && r["line"].as_u64().is_some()));
    assert!(!rules.is_empty());
    // Nothing was stored.
    assert!(!desk.dir.path().join("data").exists());
}

#[test]
fn check_rejects_broken_rules_with_file_and_line() {
    let ms = stack();
    let desk = Desk::new(ms);
    let rules = desk.dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("10-bad.toml"), "[[rule]]\nname = \"broken\"\nwhen.subject = \"(unclosed\"\nthen.priority = \"P1\"\n\n[[rule]]\nname = \"nobody\"\nthen.assign = \"ghost@example.test\"\nthen.colour = \"red\"\n").unwrap();
    let cfg = std::fs::read_to_string(desk.dir.path().join("srgate.toml")).unwrap();
    let cfg = cfg.replace(&format!("rules_dir = \"{}/rules\"", env!("CARGO_MANIFEST_DIR")), "rules_dir = \"rules\"");
    std::fs::write(desk.dir.path().join("srgate.toml"), cfg).unwrap();
    let out = desk.srgate(&["check"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("10-bad.toml:3:"), "{err}");
    assert!(err.contains("ghost@example.test"), "{err}");
    assert!(err.contains("colour"), "{err}");
}
