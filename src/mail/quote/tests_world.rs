//! Issue 12's classes, one test per rule: the attribution, header-block,
//! separator, unmarked-quote, writer's-words and list-footer rules as the
//! world's clients write them, with the rule `cut_text` names.

use super::*;
use std::time::{Duration, Instant};

fn cut_by(input: &str, want: &str, rule: Rule) {
    let cut = cut_text(input);
    assert_eq!(cut.text, want, "input:\n{input}");
    assert_eq!(cut.rule, Some(rule), "input:\n{input}");
}

const QUOTE: &str = "\n\n> Dear Ann,\n>\n> we have opened SR#100001.\n";
const UNQUOTED: &str = "\n\nDear Ann,\n\nwe have opened SR#100001.\n";

// ---------------------------------------------------------------- class 1: attributions

#[test]
fn attributions_of_many_languages() {
    for attribution in [
        "2026-03-03 10:00 GMT+01:00 Example Support <support@example.test>:",
        "вт, 3 мар. 2026 г. в 10:00, Example Support <support@example.test>:",
        "3 марта 2026 г., 10:00 пользователь Example Support <support@example.test> написал:",
        "03.03.2026, 10:00, \"Example Support\" <support@example.test>:",
        "Вторник, 3 марта 2026, 10:00 +03:00 от Example Support <support@example.test>:",
        "03.03.2026 10:00, Example Support пишет:",
        "Dnia 3 marca 2026 10:00 Example Support <support@example.test> napisał(a):",
        "W dniu 3.03.2026 o 10:00, Example Support pisze:",
        "Op 3 mrt 2026, om 10:00 heeft Example Support <support@example.test> het volgende geschreven:",
        "Den 2026-03-03 kl. 10:00, skrev Example Support:",
        "tir. 3. mar. 2026 kl. 10:00 skrev Example Support <support@example.test>:",
        "Example Support kirjoitti 3.3.2026 klo 10.00:",
        "Em 3 de mar. de 2026, à(s) 10:00, Example Support <support@example.test> escreveu:",
        "Dne 03. 03. 26 v 10:00 Example Support napsal(a):",
        "3.03.2026 10:00 tarihinde Example Support yazdı:",
        "2026/03/03 10:00、Example Support <support@example.test>のメール:",
        "2026년 3월 3일 (화) 오전 10:00, Example Support <support@example.test>님이 작성:",
        "Example Support <support@example.test> schrieb:",
    ] {
        cut_by(&format!("Fixed, thanks.\n\n{attribution}{QUOTE}"), "Fixed, thanks.", Rule::Attribution);
    }
}

#[test]
fn attributions_above_unmarked_history() {
    for attribution in [
        "---- On Tue, 03 Mar 2026 10:00:00 +0100 Example Support <support@example.test> wrote ----",
        "---- Am Di, 03 Mär 2026 10:00:00 +0100 schrieb Example Support <support@example.test> ----",
        "Am Dienstag, 3. März 2026 um 10:00:00 MEZ hat Example Support <support@example.test> Folgendes geschrieben:",
        "Вторник, 3 марта 2026, 10:00 +03:00 от Example Support <support@example.test>:",
        "2026-03-03 10:00 GMT+01:00 Example Support <support@example.test>:",
    ] {
        cut_by(&format!("Fixed, thanks.\n\n{attribution}{UNQUOTED}"), "Fixed, thanks.", Rule::Attribution);
    }
}

#[test]
fn prose_with_wrote_words_or_dates_is_kept() {
    for text in [
        "My colleague wrote:\nthe printer is fine.",
        "At 10:00 it failed again:\nE42 on the panel.",
        "In 2025 our director wrote:\nthe printer is fine.",
        "Since 2025 please write to helpdesk@customer.example:\nthey answer fast.",
        "On the server I see this error:\nE42 disk full",
        "Den Drucker haben wir am 3.3.2026 neu gestartet.\nSeitdem geht es.",
        // Lines that open like an attribution and end in a "wrote" word, but name no
        // earlier mail (no date, time or address, no quote below): the writer's words.
        "On startup the installer wrote:\nERROR: disk full\n\nThanks",
        "Le serveur a écrit :\nERREUR 500 base indisponible\n\nQue faire ?",
        "Am Montag hat das System folgendes geschrieben:\nFehler 0x80070005\n\nGruß",
        "Il programma ha scritto:\nerrore 42\n\nGrazie",
    ] {
        assert_eq!(cut_text(text), Cut { text: text.to_string(), rule: None });
    }
}

// ---------------------------------------------------------------- class 2: wrapped attributions, separators

#[test]
fn wrapped_attributions_leave_nothing_behind() {
    for attribution in [
        "2026-03-03 10:00 GMT+01:00 Example Support Team of Example Corporation <\nsupport@example.test>:",
        "вт, 3 мар. 2026 г. в 10:00, Служба поддержки Example Corporation <\nsupport@example.test>:",
        "wt., 3 mar 2026 o 10:00 Example Support Team of Example Corporation <\nsupport@example.test> napisał(a):",
        "2026年3月3日(火) 10:00 Example Support Team of Example Corporation <\nsupport@example.test>:",
        "On Tue, Mar 3, 2026 at 10:00 AM Example Support Team <support@exam\nple.test> wrote:",
        "Den tir. 3. mar. 2026 kl.\n10.00 skrev Example Support Team of Example Corporation <support@example.test>:",
        "Den tis 3 mars 2026 kl 10:00 skrev\nExample Support Team of Example Corporation <\nsupport@example.test>:",
        "Example Support <support@example.test> schrieb am Di., 3.\nMärz 2026, 10:00:",
        "ti 3. maalisk. 2026 klo 10.00 Example Support\n<support@example.test> kirjoitti:",
    ] {
        cut_by(&format!("Fixed, thanks.\n\n{attribution}{QUOTE}"), "Fixed, thanks.", Rule::Attribution);
    }
}

#[test]
fn a_line_before_an_attribution_is_not_part_of_it() {
    cut_by(&format!("Meeting at 10:00\nOn Tue, Mar 3, 2026 at 10:00 AM Ann <a@x> wrote:{QUOTE}"), "Meeting at 10:00", Rule::Attribution);
}

#[test]
fn separators_above_the_cut_go_with_it() {
    cut_by(
        &format!("Fixed.\n\n------------------------------\nOn Tue, Mar 3, 2026, Ann <a@x> wrote:{UNQUOTED}"),
        "Fixed.",
        Rule::Attribution,
    );
    cut_by(
        "Fixed.\n\n________________________________\n\n\n\nFrom: Ann\nSent: Tuesday\nTo: Bob\nSubject: x\n\nold",
        "Fixed.",
        Rule::Separator,
    );
    // Not above a cut: the writer's own divider stays.
    assert!(cut_text("Notes\n------------------------------\nline two").text.contains("-----"), "kept");
}

// ---------------------------------------------------------------- class 3: header blocks and separators

#[test]
fn header_blocks_in_any_order() {
    for block in [
        "De : Example Support <support@example.test>\nEnvoyé le : mardi 3 mars 2026 10:00\nÀ : Marie\nObjet : x",
        "De\u{a0}: Example Support\nEnvoyé le\u{a0}: mardi\nÀ\u{a0}: Marie\nObjet\u{a0}: x",
        "Message du : 03/03/2026 10:00\nDe : \"Example Support\" <support@example.test>\nA : marie@client.example\nObjet : x",
        "Date: Tue, 3 Mar 2026 10:00:00 +0100\nFrom: Example Support <support@example.test>\nTo: ann@customer.example\nSubject: x",
        "Gesendet: Dienstag, 03. März 2026 um 10:00 Uhr\nVon: \"Example Support\" <support@example.test>\nAn: a@x\nBetreff: x",
    ] {
        cut_by(&format!("Fixed.\n\n{block}\n\nold text"), "Fixed.", Rule::HeaderBlock);
    }
}

#[test]
fn separators_of_many_clients() {
    for sep in [
        "-----Reply Message-----",
        "-----Antwort Nachricht-----",
        "*-------- Original Message --------*",
        "-------- Oprindelig besked --------",
        "-------- Opprinnelig melding --------",
        "-----Ursprungligt meddelande-----",
        "---------- Původní e-mail ----------",
        "-----Исходное сообщение-----",
        "-----Özgün İleti-----",
        "------------------ 原始邮件 ------------------",
    ] {
        cut_by(&format!("Fixed.\n\n{sep}\nFrom: Ann\nTo: b@x\n\nold"), "Fixed.", Rule::Separator);
    }
}

#[test]
fn three_header_words_in_prose_are_not_a_block() {
    for text in [
        "To: all of you\nDate: tomorrow\nThe printer is fine.",
        // No date and no sender's address: the writer describing a mail, not quoting one.
        "I forwarded it to our IT:\nFrom: Jane\nTo: IT\nSubject: printer\nThey say it is your problem.",
    ] {
        assert_eq!(cut_text(text).text, text);
    }
}

#[test]
fn html_hr_then_a_header_block() {
    let html = "<div>Thanks.</div><hr><div><b>From:</b> Support &lt;s@x&gt;<br><b>Date:</b> Tuesday<br><b>To:</b> Ann<br><b>Subject:</b> x</div><div>old</div>";
    assert_eq!(cut_html(html), Cut { text: "Thanks.".into(), rule: Some(Rule::HeaderBlock) });
    let gmail = "<div>Thanks.</div><div class=\"gmail_quote\">On Tue Ann wrote:<blockquote>old</blockquote></div>";
    assert_eq!(cut_html(gmail), Cut { text: "Thanks.".into(), rule: Some(Rule::HtmlQuote) });
}

// ---------------------------------------------------------------- class 4: quoted lines without `>`

#[test]
fn wrapped_quote_lines_are_quote() {
    cut_by(
        "Thanks.\n\nOn 03/03/2026 10:00, Support wrote:\n> Dear Ann, thank you for contacting Example Support. We have opened the support\nrequest SR#100001 for your message.\n> Kind regards\n",
        "Thanks.",
        Rule::Attribution,
    );
    cut_by(
        "> Please upload the log to https://files.example.test/upload/sr100001/a1b2c3d4e5f6/\nINDEX.html?token=7f3a9c\n\nDone.",
        "Done.",
        Rule::QuotePrefix,
    );
    // An answer after a long question stays, even without a blank line.
    cut_by(
        "> Could you please send us the serial number of the printer and its firmware version\nSure: CN12345678.\n> Kind regards",
        "Sure: CN12345678.",
        Rule::QuotePrefix,
    );
    // An answer paragraph below a long quoted line stays.
    cut_by(
        "> Could you check whether the toner cartridge is seated and the lid is closed\nyes, both are fine\nand the error stays.\n",
        "yes, both are fine\nand the error stays.",
        Rule::QuotePrefix,
    );
    // Short quoted lines are never wrapped.
    cut_by("> q1\nanswer1\n> q2", "answer1", Rule::QuotePrefix);
    // Inline answers in lower case right under a long question: nothing says they
    // continue it, so they are the writer's.
    cut_by(
        "> Could you please send us the log file from the device and its firmware version\nsure, attached\n\n> Which model is it\nthe X200\n",
        "sure, attached\n\nthe X200",
        Rule::QuotePrefix,
    );
    cut_by(
        "Hi,\n\n> Please restart the device and tell us whether the error comes back again\ndone, it does\n> and the panel code\nE42\n",
        "Hi,\n\ndone, it does\nE42",
        Rule::QuotePrefix,
    );
    // A quote line ending in an article has not ended its sentence.
    cut_by(
        "> We need the serial number of the printer, which you find on the label at the\nback of the device\n> Regards\n\nCN12345678",
        "CN12345678",
        Rule::QuotePrefix,
    );
}

#[test]
fn supercite_prefixes_are_quote() {
    cut_by("ES> Which model?\n\nThe LaserJet 4000.\n\nES> Regards\nES> Support\n", "The LaserJet 4000.", Rule::QuotePrefix);
    // One such line alone is the writer's, and so are menu paths.
    for text in ["A> B resets it.", "Menu> Settings> Printer\nMenu> Settings> Network"] {
        assert_eq!(cut_text(text).text, text);
    }
}

// ---------------------------------------------------------------- class 5: the writer's words

#[test]
fn words_before_an_attribution_on_its_line_are_kept() {
    cut_by(&format!("Thanks! On Tue, Mar 3, 2026 at 10:00 AM Support <s@example.test> wrote:{QUOTE}"), "Thanks!", Rule::Attribution);
    cut_by(
        &format!("Erledigt. Am Di., 3. März 2026 um 10:00 Uhr schrieb Support <s@example.test>:{QUOTE}"),
        "Erledigt.",
        Rule::Attribution,
    );
}

#[test]
fn arrow_content_lines_are_the_writers() {
    let text = ">>> URGENT <<<\n<<< closed >>>\n>>>>>>>>>>>>>>>>>>>>>>>>\nThe printer smokes.";
    assert_eq!(cut_text(text), Cut { text: text.to_string(), rule: None });
    // Deeper quotes are still quotes.
    cut_by("Yes.\n>> older\n> old\n", "Yes.", Rule::QuotePrefix);
}

// ---------------------------------------------------------------- class 6: list footers

#[test]
fn mailing_list_footers_are_cut() {
    for footer in [
        "_______________________________________________\nprinter-users mailing list\nprinter-users@lists.example.org\nhttps://lists.example.org/mailman/listinfo/printer-users",
        "_______________________________________________\nprinter-users mailing list -- printer-users@lists.example.org\nTo unsubscribe send an email to printer-users-leave@lists.example.org",
        "_______________________________________________\nDrucker-Nutzer Mailingliste\nhttps://lists.example.org/mailman/listinfo/drucker-nutzer",
    ] {
        cut_by(&format!("Same here.\n\nAnn\n\n{footer}\n"), "Same here.\n\nAnn", Rule::ListFooter);
    }
}

#[test]
fn nothing_cut_names_no_rule() {
    assert_eq!(cut_text("Just a question."), Cut { text: "Just a question.".into(), rule: None });
    assert_eq!(cut_text("Hi\n-- \nAnn").rule, Some(Rule::Signature));
}

// ---------------------------------------------------------------- cost

#[test]
fn two_megabytes_cut_in_linear_time() {
    // Every line a near-miss of some rule: attribution-like, header-like, wrapped quote, Supercite.
    let pieces = [
        "On Tue, Mar 3, 2026 at 10:00 AM Example Support Team of Example <\n",
        "> Could you please send us the serial number of the printer and its firmware\n",
        "version\n",
        "From: a\nTo: b\n",
        "AB> x\n",
        "Thanks. On the 3.3.2026 at 10:00 we saw it. Le mardi. Am Montag. On it:\n",
        "____________________________________\n",
        "2026-03-03 10:00 GMT+01:00 Ann <\n",
    ];
    let mut text = String::new();
    let mut k = 0;
    while text.len() < 2 << 20 {
        text.push_str(pieces[k % pieces.len()]);
        k += 1;
    }
    let t = Instant::now();
    let _ = cut_text(&text);
    let long_line = "Thanks. ".repeat(300_000) + "On Tue, Ann <a@x> wrote:";
    let _ = cut_text(&long_line);
    // Debug builds are slow; a quadratic cut would take minutes.
    assert!(t.elapsed() < Duration::from_secs(10), "took {:?}", t.elapsed());
}
