//! Issue 14, item 4, end to end on the real stack: several support addresses.
//!
//! One support mailbox receives the mail of two more addresses (aliases: the SMTP envelope
//! goes to the mailbox, the To header names the alias), and a second mailbox receives a
//! third route (a blind copy to an alias, read from `Delivered-To`). Each SR's mail goes out
//! from the address its customer used, with its name, signature and templates; a CSE's
//! answer is relayed from it; rules match on `address`; `sr show` has `support_address`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::cli::Cli;
use common::desk::{Desk, Options, mailbox_table};
use common::read::{body, header, subject};
use common::stack;

const WAIT: Duration = Duration::from_secs(20);
/// Tuesday 3 March 2026, 10:30 CET: inside business hours.
const NOW: &str = "2026-03-03T09:30:00Z";
const LATER: &str = "2026-03-03T10:30:00Z";

fn customer_mail(from: &str, to: &str, subject: &str, id: &str, text: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n")
        .into_bytes()
}

/// A copy of the shipped rules with one more file first.
fn rules_with(dir: &Path, extra: &str) -> std::path::PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for f in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap().flatten() {
        if f.path().extension().is_some_and(|x| x == "toml") {
            std::fs::copy(f.path(), rules.join(f.file_name())).unwrap();
        }
    }
    std::fs::write(rules.join("05-addresses.toml"), extra).unwrap();
    rules
}

/// The From line of `raw` shows `name` and `address`.
fn assert_from(raw: &[u8], name: &str, address: &str) {
    let parsed = mail_parser::MessageParser::default().parse(raw).unwrap();
    let from = parsed.from().and_then(|a| a.first()).unwrap();
    assert_eq!((from.name(), from.address()), (Some(name), Some(address)), "{}", header(raw, "From"));
}

/// The one SR whose customer is `customer`.
fn sr_of(desk: &Desk, customer: &str) -> serde_json::Value {
    let srs = desk.srs();
    let sr = srs.iter().find(|s| s["customer"] == customer).unwrap_or_else(|| panic!("no SR for {customer}: {srs:?}"));
    desk.sr(sr["id"].as_u64().unwrap())
}

#[test]
fn each_sr_is_answered_from_the_address_its_customer_wrote_to() {
    let ms = stack();
    let (ventas, brand) = (ms.unique_domain_user("ventas"), ms.unique_domain_user("brand"));
    let work = tempfile::tempdir().unwrap();
    let brand_templates = work.path().join("brand-templates");
    std::fs::create_dir_all(brand_templates.join("en")).unwrap();
    std::fs::write(
        brand_templates.join("en/acknowledgement.txt"),
        "Brand Care has your request {{ sr.token }}, {{ customer_name }}.\n\n{{ signature }}\n",
    )
    .unwrap();
    let rules = rules_with(
        work.path(),
        &format!(
            "[[rule]]\nname = \"brand customers first\"\nwhen.address = \"{brand}\"\nthen.priority = \"P2\"\nthen.tags = [\"brand\"]\n"
        ),
    );
    let tail = format!(
        "languages = [\"en\", \"es\"]\n{mailbox}\n[[address]]\naddress = \"{ventas}\"\nname = \"Soporte Ventas\"\nlanguage = \"es\"\nproduct = \"network\"\nsignature = \"Soporte Ventas · Calle Mayor 1 · Madrid\"\n[[address]]\naddress = \"{brand}\"\nname = \"Brand Care\"\ntemplates_dir = \"{templates}\"\nsignature = \"Brand Care, always there\"\n",
        mailbox = mailbox_table(ms, "ventas", &ventas),
        templates = brand_templates.display(),
    );
    let desk = Desk::with(ms, Options { rules_dir: rules, tail, ..Options::default() });
    let check = desk.srgate(&["check"]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));

    let (ana, bea, carl, dora) = (
        ms.unique_user_at("ana", "example.com"),
        ms.unique_user_at("bea", "example.com"),
        ms.unique_user_at("carl", "example.com"),
        ms.unique_user_at("dora", "example.com"),
    );
    // Ana and Bea write to the aliases, delivered into the support mailbox; Carl to the
    // support address; Dora copies the Spanish desk blindly (its own mailbox, Delivered-To).
    ms.send(&customer_mail(&ana, &ventas, "Hola", &format!("a1.{ana}"), "Hola, ayuda."), &ana, &[&desk.support]);
    ms.send(
        &customer_mail(&bea, &brand, "Invoice question", &format!("b1.{bea}"), "Where can I download last month's invoice please?"),
        &bea,
        &[&desk.support],
    );
    ms.send(
        &customer_mail(&carl, &desk.support, "Password reset", &format!("c1.{carl}"), "I cannot reset my password, could you help me?"),
        &carl,
        &[&desk.support],
    );
    ms.send(&customer_mail(&dora, "Undisclosed recipients:;", "Consulta", &format!("d1.{dora}"), "Buenos dias."), &dora, &[&ventas]);
    ms.wait_for_messages(&desk.support, "INBOX", 3, WAIT);
    ms.wait_for_messages(&ventas, "INBOX", 1, WAIT);
    desk.run_at(NOW);

    // Ana: the Spanish desk, its name, its signature, its language and product.
    let sr = sr_of(&desk, &ana);
    assert_eq!(sr["support_address"], ventas.as_str());
    assert_eq!((sr["language"].as_str(), sr["product"].as_str()), (Some("es"), Some("network")), "{sr}");
    assert!(sr["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "out").all(|m| m["from"] == ventas.as_str()));
    let ack = ms.wait_for_messages(&ana, "INBOX", 1, WAIT).remove(0);
    assert_from(&ack, "Soporte Ventas", &ventas);
    assert_eq!(header(&ack, "Reply-To"), ventas);
    assert_eq!(header(&ack, "Return-Path"), format!("<{ventas}>"), "the envelope sender too");
    assert!(body(&ack).contains("Soporte Ventas · Calle Mayor 1 · Madrid"), "{}", body(&ack));

    // Bea: the brand's own acknowledgement template, its signature, the rule on `address`.
    let sr = sr_of(&desk, &bea);
    assert_eq!(sr["support_address"], brand.as_str());
    assert_eq!((sr["priority"].as_str(), sr["tags"].clone()), (Some("P2"), serde_json::json!(["brand"])), "{sr}");
    let ack = ms.wait_for_messages(&bea, "INBOX", 1, WAIT).remove(0);
    assert_from(&ack, "Brand Care", &brand);
    let text = body(&ack);
    assert!(text.starts_with("Brand Care has your request [SR#") && text.contains("Brand Care, always there"), "{text}");
    assert_eq!(text.matches("Brand Care, always there").count(), 1, "placed by the template, not appended again: {text}");

    // Carl: the default address, as before [[address]] existed.
    let sr = sr_of(&desk, &carl);
    assert_eq!(sr["support_address"], desk.support.as_str());
    assert_eq!(sr["priority"], "P3");
    let ack = ms.wait_for_messages(&carl, "INBOX", 1, WAIT).remove(0);
    assert!(header(&ack, "From").contains(&desk.support), "{}", header(&ack, "From"));
    assert!(!body(&ack).contains("Madrid") && !body(&ack).contains("always there"), "{}", body(&ack));

    // Dora: found by the delivery header.
    assert_eq!(sr_of(&desk, &dora)["support_address"], ventas.as_str());
    let ack = ms.wait_for_messages(&dora, "INBOX", 1, WAIT).remove(0);
    assert!(header(&ack, "From").contains(&ventas));

    // The CSE answers Ana's SR (to the alias, delivered into the support mailbox): the relay
    // comes from the Spanish desk, under the CSE's name and the desk's, with its signature.
    let ana_sr = sr_of(&desk, &ana);
    let notice = ms
        .wait_for_messages(&desk.cse, "INBOX", 4, WAIT)
        .into_iter()
        .find(|m| subject(m).contains(ana_sr["token"].as_str().unwrap()))
        .expect("Ana's SR notified");
    assert!(header(&notice, "From").contains(&ventas), "staff mail of the SR comes from its address too");
    let answer = format!(
        "From: Ann <{cse}>\r\nTo: {ventas}\r\nSubject: Re: {subj}\r\nIn-Reply-To: {mid}\r\nReferences: {mid}\r\nMessage-ID: <answer.{cse}>\r\n\r\nReinicie el router, por favor.\r\n",
        cse = desk.cse,
        subj = subject(&notice),
        mid = header(&notice, "Message-ID"),
    );
    ms.send(answer.as_bytes(), &desk.cse, &[&desk.support]);
    ms.wait_for_messages(&desk.support, "INBOX", 4, WAIT);
    desk.run_at(LATER);
    let relay = ms
        .wait_for_messages(&ana, "INBOX", 2, WAIT)
        .into_iter()
        .find(|m| body(m).contains("Reinicie el router"))
        .expect("the answer is relayed");
    assert_from(&relay, "Ann (Soporte Ventas)", &ventas);
    assert!(body(&relay).contains("Soporte Ventas · Calle Mayor 1 · Madrid"), "{}", body(&relay));
    assert_eq!(desk.sr(ana_sr["id"].as_u64().unwrap())["state"], "awaiting_customer");

    let show = desk.srgate(&["sr", "show", &ana_sr["id"].to_string()]);
    assert!(
        String::from_utf8_lossy(&show.stdout).contains(&format!("support_address   {ventas}")),
        "{}",
        String::from_utf8_lossy(&show.stdout)
    );

    // A backup keeps it: export, import into an empty data directory, show.
    let backup = work.path().join("backup.jsonl");
    let out = desk.srgate(&["export", "--output", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(desk.config(), restored.path().join("srgate.toml")).unwrap();
    let cli = Cli::in_dir(restored.path());
    let out = cli.output(&["import", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(cli.sr(ana_sr["id"].as_u64().unwrap())["support_address"], ventas.as_str());
}

/// `srgate check` reports every problem of `[[address]]` and of its templates at once, with
/// file and line; a rule naming an address nobody configured is one of them.
#[test]
fn check_reports_bad_addresses_and_their_templates_with_lines() {
    let ms = stack();
    let work = tempfile::tempdir().unwrap();
    let own = work.path().join("own");
    std::fs::create_dir_all(own.join("fr")).unwrap();
    std::fs::write(own.join("fr/relay.txt"), "{{ text }}\n{{ signatur }}\n").unwrap();
    let rules = rules_with(work.path(), "[[rule]]\nname = \"typo\"\nwhen.address = \"nobody@example.test\"\nthen.priority = \"P2\"\n");
    let tail = format!(
        "[[address]]\naddress = \"a@example.test\"\nname = \"A\"\ntemplates_dir = \"{}\"\n[[address]]\naddress = \"A@example.test\"\nname = \"Again\"\n",
        own.display()
    );
    let desk = Desk::with(ms, Options { rules_dir: rules, tail, ..Options::default() });
    let out = desk.srgate(&["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("is listed twice"), "{stderr}");
    // A duplicate stops before rules and templates are read: fix it and look again.
    let config = std::fs::read_to_string(desk.config()).unwrap().replace("address = \"A@example.test\"", "address = \"b@example.test\"");
    std::fs::write(desk.config(), config).unwrap();
    let out = desk.srgate(&["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("own/fr/relay.txt:2:"), "the address's template, with its line: {stderr}");
    assert!(stderr.contains("05-addresses.toml:3:") && stderr.contains("`nobody@example.test` is not a support address"), "{stderr}");
}
