//! The forward blocks of the common clients, in English, German, French, Italian and Spanish.

use super::*;

/// The forward in `text` under `subject`; it must have a readable original.
fn original(subject: &str, text: &str) -> (Forward, Original) {
    let f = inline(text, subject).unwrap_or_else(|| panic!("a forward in {text:?}"));
    let o = f.original.clone().unwrap_or_else(|| panic!("a readable original in {text:?}"));
    (f, o)
}

#[test]
fn gmail_in_three_languages() {
    let en = "Hi support,\n\nplease look after Jane.\n\nAnn\n\n---------- Forwarded message ---------\nFrom: Jane Doe <Jane.Doe@Customer.example>\nDate: Tue, Mar 3, 2026 at 4:12\u{202f}PM\nSubject: Printer on fire\nTo: Ann <ann@example.test>\n\n\nHello,\n\nthe printer in 3.14 is smoking.\n\nJane\n";
    let (f, o) = original("Fwd: Printer on fire", en);
    assert_eq!((f.shape, f.note.as_str()), (Shape::Gmail, "Hi support,\n\nplease look after Jane.\n\nAnn"));
    assert_eq!((o.from.as_str(), o.name.as_deref()), ("jane.doe@customer.example", Some("Jane Doe")));
    assert_eq!(o.subject.as_deref(), Some("Printer on fire"));
    assert_eq!(o.date.as_deref(), Some("Tue, Mar 3, 2026 at 4:12\u{202f}PM"));
    assert_eq!(o.text, "Hello,\n\nthe printer in 3.14 is smoking.\n\nJane");

    let de = "Bitte übernehmen.\n\n---------- Weitergeleitete Nachricht ---------\nVon: Petra Schmidt <p.schmidt@kunde.example>\nDate: Di., 3. März 2026 um 10:00 Uhr\nSubject: Drucker defekt\nTo: <ann@example.test>\n\n\nGuten Tag,\nder Drucker riecht verbrannt.\n";
    let (f, o) = original("Fwd: Drucker defekt", de);
    assert_eq!((f.shape, o.from.as_str(), o.subject.as_deref()), (Shape::Gmail, "p.schmidt@kunde.example", Some("Drucker defekt")));
    assert_eq!(o.date.as_deref(), Some("Di., 3. März 2026 um 10:00 Uhr"));
    assert_eq!(o.text, "Guten Tag,\nder Drucker riecht verbrannt.");

    let fr = "Pour vous.\n\n---------- Message transféré ---------\nDe\u{a0}: Marie Curie <marie@client.example>\nDate: mar. 3 mars 2026 à 10:00\nSubject: Imprimante en panne\nTo: <ann@example.test>\n\n\nBonjour,\nl'imprimante ne répond plus.\n";
    let (f, o) = original("TR: Imprimante en panne", fr);
    assert_eq!((f.shape, o.from.as_str(), o.name.as_deref()), (Shape::Gmail, "marie@client.example", Some("Marie Curie")));
    assert_eq!(o.text, "Bonjour,\nl'imprimante ne répond plus.");
}

#[test]
fn outlook_in_five_languages() {
    let cases = [
        (
            "FW: Printer",
            "From: Jane Doe <jane@customer.example>\nSent: Tuesday, March 3, 2026 10:00 AM\nTo: Ann <ann@example.test>\nSubject: Printer",
        ),
        (
            "WG: Drucker",
            "Von: Jane Doe <jane@customer.example>\nGesendet: Dienstag, 3. März 2026 10:00\nAn: Ann <ann@example.test>\nBetreff: Printer",
        ),
        (
            "TR: Imprimante",
            "De : Jane Doe <jane@customer.example>\nEnvoyé : mardi 3 mars 2026 10:00\nÀ : Ann <ann@example.test>\nObjet : Printer",
        ),
        (
            "I: Stampante",
            "Da: Jane Doe <jane@customer.example>\nInviato: martedì 3 marzo 2026 10:00\nA: Ann <ann@example.test>\nOggetto: Printer",
        ),
        (
            "RV: Impresora",
            "De: Jane Doe <jane@customer.example>\nEnviado el: martes, 3 de marzo de 2026 10:00\nPara: Ann <ann@example.test>\nAsunto: Printer",
        ),
    ];
    for (subject, block) in cases {
        let text = format!("Please open an SR for Jane.\n\nAnn\n\n{block}\n\nHello,\nthe printer is on fire.\n\nJane\n");
        let (f, o) = original(subject, &text);
        assert_eq!(f.shape, Shape::Outlook, "{subject}");
        assert_eq!(f.note, "Please open an SR for Jane.\n\nAnn", "{subject}");
        assert_eq!((o.from.as_str(), o.name.as_deref()), ("jane@customer.example", Some("Jane Doe")), "{subject}");
        assert_eq!(o.subject.as_deref(), Some("Printer"), "{subject}");
        assert!(o.date.as_deref().is_some_and(|d| d.contains("2026")), "{subject}: {o:?}");
        assert_eq!(o.text, "Hello,\nthe printer is on fire.\n\nJane", "{subject}");
    }
}

#[test]
fn outlook_separators_rules_and_bold_keys() {
    let plain = "FYI\n\n-----Original Message-----\nFrom: Jane Doe [mailto:jane@customer.example]\nSent: Tuesday, March 3, 2026 10:00 AM\nTo: Ann\nSubject: RE: Printer\n\nStill broken.\n";
    let (f, o) = original("FW: Printer", plain);
    assert_eq!((f.shape, f.note.as_str(), o.from.as_str()), (Shape::Outlook, "FYI", "jane@customer.example"));
    assert_eq!(o.subject.as_deref(), Some("RE: Printer"));
    let de = "-----Ursprüngliche Nachricht-----\nVon: Jane <jane@customer.example>\nGesendet: Dienstag, 3. März 2026 10:00\nBetreff: Drucker\n\nKaputt.\n";
    assert_eq!(original("WG: Drucker", de).1.text, "Kaputt.");
    let owa = "See below.\n\n________________________________\nFrom: Jane Doe <jane@customer.example<mailto:jane@customer.example>>\nSent: Tuesday, March 3, 2026 10:00\nTo: Ann <ann@example.test<mailto:ann@example.test>>\nSubject: Printer\n\nOn fire.\n";
    let (f, o) = original("Fw: Printer", owa);
    assert_eq!((f.note.as_str(), o.from.as_str(), o.text.as_str()), ("See below.", "jane@customer.example", "On fire."));
    let bold = "*From:* Jane Doe <jane@customer.example>\n*Sent:* Tuesday, March 3, 2026 10:00\n*Subject:* Printer\n\nOn fire.\n";
    assert_eq!(original("FW: Printer", bold).1.from, "jane@customer.example");
}

#[test]
fn apple_mail_quoted_or_not() {
    let en = "Sent from my iPhone\n\nBegin forwarded message:\n\n> From: Jane Doe <jane@customer.example>\n> Subject: Printer\n> Date: 3 March 2026 at 10:00:00 CET\n> To: Ann <ann@example.test>\n>\n> The printer is on fire.\n>\n> Jane\n";
    let (f, o) = original("Fwd: Printer", en);
    assert_eq!((f.shape, f.note.as_str()), (Shape::AppleMail, "Sent from my iPhone"));
    assert_eq!((o.from.as_str(), o.date.as_deref()), ("jane@customer.example", Some("3 March 2026 at 10:00:00 CET")));
    assert_eq!(o.text, "The printer is on fire.\n\nJane");
    let fr = "Début du message réexpédié :\n\nDe: Marie <marie@client.example>\nObjet: Imprimante\nDate: 3 mars 2026 à 10:00:00 UTC+1\nÀ: ann@example.test\n\nBonjour, elle ne marche plus.\n";
    let (f, o) = original("Fwd: Imprimante", fr);
    assert_eq!((f.shape, f.note.as_str(), o.from.as_str()), (Shape::AppleMail, "", "marie@client.example"));
    assert_eq!(o.subject.as_deref(), Some("Imprimante"));
    let de = "Anfang der weitergeleiteten Nachricht:\n\nVon: Petra <petra@kunde.example>\nBetreff: Drucker\nDatum: 3. März 2026 um 10:00:00 MEZ\nAn: ann@example.test\n\nDer Drucker brennt.\n";
    assert_eq!(original("WG: Drucker", de).1.text, "Der Drucker brennt.");
    let es = "Inicio del mensaje reenviado:\n\nDe: Lucía <lucia@cliente.example>\nAsunto: Impresora\nFecha: 3 de marzo de 2026, 10:00:00 CET\nPara: ann@example.test\n\nLa impresora no funciona.\n";
    assert_eq!(original("RV: Impresora", es).1.from, "lucia@cliente.example");
    let it = "Inizio messaggio inoltrato:\n\nDa: Giulia <giulia@cliente.example>\nOggetto: Stampante\nData: 3 marzo 2026 10:00:00 CET\nA: ann@example.test\n\nLa stampante è guasta.\n";
    assert_eq!(original("I: Stampante", it).1.from, "giulia@cliente.example");
}

#[test]
fn thunderbird_tables_in_three_languages() {
    let en = "Over to you.\n\n-------- Forwarded Message --------\nSubject: \tPrinter\nDate: \tTue, 3 Mar 2026 10:00:00 +0100\nFrom: \tJane Doe <jane@customer.example>\nTo: \tann@example.test\n\n\n\nHello, it burns.\n";
    let (f, o) = original("Fwd: Printer", en);
    assert_eq!((f.shape, o.from.as_str(), o.subject.as_deref()), (Shape::Thunderbird, "jane@customer.example", Some("Printer")));
    assert_eq!((o.date.as_deref(), o.text.as_str()), (Some("Tue, 3 Mar 2026 10:00:00 +0100"), "Hello, it burns."));
    let de = "-------- Weitergeleitete Nachricht --------\nBetreff: \tDrucker\nDatum: \tTue, 3 Mar 2026 10:00:00 +0100\nVon: \tPetra <petra@kunde.example>\nAn: \tann@example.test\n\nEr brennt.\n";
    let (f, o) = original("WG: Drucker", de);
    assert_eq!((f.shape, o.from.as_str(), o.subject.as_deref()), (Shape::Thunderbird, "petra@kunde.example", Some("Drucker")));
    let fr = "-------- Message transféré --------\nSujet : \tImprimante\nDate : \tTue, 3 Mar 2026 10:00:00 +0100\nDe : \tMarie <marie@client.example>\nPour : \tann@example.test\n\nElle brûle.\n";
    let (f, o) = original("Fwd: Imprimante", fr);
    assert_eq!((f.shape, o.from.as_str(), o.subject.as_deref()), (Shape::Thunderbird, "marie@client.example", Some("Imprimante")));
    let it = "-------- Messaggio Inoltrato --------\nOggetto: \tStampante\nData: \tTue, 3 Mar 2026 10:00:00 +0100\nMittente: \tGiulia <giulia@cliente.example>\nA: \tann@example.test\n\nGuasta.\n";
    assert_eq!(original("I: Stampante", it).1.from, "giulia@cliente.example");
}

#[test]
fn a_reply_is_no_forward_and_the_first_block_decides() {
    let reply = "Thanks, we will look.\n\nFrom: Jane Doe <jane@customer.example>\nSent: Tuesday, March 3, 2026 10:00 AM\nSubject: Printer\n\nOn fire.\n";
    assert_eq!(inline(reply, "RE: Printer"), None, "an Outlook reply's history is not a forward");
    // Jane's own mail forwarded Tom's: Ann's forward of it names Jane, not Tom.
    let nested = "For you.\n\nFrom: Jane <jane@customer.example>\nSent: Tuesday, March 3, 2026 10:00 AM\nSubject: Fwd: Printer\n\nTom says it burns.\n\n---------- Forwarded message ---------\nFrom: Tom <tom@customer.example>\nDate: Mon, Mar 2, 2026\nSubject: Printer\n\nIt burns.\n";
    let (_, o) = original("FW: Fwd: Printer", nested);
    assert_eq!(o.from, "jane@customer.example");
    assert_eq!(o.text, "Tom says it burns.", "the original's own history is cut like any mail's");
    // The same under a reply subject is not a forward (rather than Tom's).
    assert_eq!(inline(nested, "RE: Printer"), None);
    // An explicit marker is a forward whatever the subject says.
    let gmail = "---------- Forwarded message ---------\nFrom: Jane <jane@customer.example>\n\nHi\n";
    assert_eq!(original("Printer", gmail).1.from, "jane@customer.example");
}

#[test]
fn a_forward_whose_sender_cannot_be_read() {
    // Outlook shows a colleague of the same organisation by name only.
    let by_name = "From: Jane Doe\nSent: Tuesday, March 3, 2026 10:00 AM\nSubject: Printer\n\nOn fire.\n";
    let f = inline(by_name, "FW: Printer").expect("a forward");
    assert_eq!((f.shape, f.original), (Shape::Outlook, None));
    for text in [
        "Note\n---------- Forwarded message ---------\n",
        "---------- Forwarded message ---------\nthe printer burns\n",
        "Begin forwarded message:\n\n> Date: today\n> Subject: x\n>\n> text\n",
        "---------- Forwarded message ---------\nFrom: jane at customer dot example\nSubject: x\n\nhi\n",
        "---------- Forwarded message ---------\nFrom: <jane@localhost>\n\nhi\n",
    ] {
        let f = inline(text, "Fwd: x").expect("a forward");
        assert_eq!(f.original, None, "{text:?}");
    }
    assert_eq!(inline("Just a mail.\n\nBye\n", "Fwd: x"), None, "no block, no forward");
}

#[test]
fn senders_as_clients_write_them() {
    let cases = [
        ("Jane Doe <Jane@Customer.example>", "jane@customer.example", Some("Jane Doe")),
        ("\"Doe, Jane\" <jane@customer.example>", "jane@customer.example", Some("Doe, Jane")),
        ("Jane Doe [mailto:jane@customer.example]", "jane@customer.example", Some("Jane Doe")),
        ("Jane <jane@customer.example<mailto:jane@customer.example>>", "jane@customer.example", Some("Jane")),
        ("jane@customer.example", "jane@customer.example", None),
        ("<jane@customer.example>", "jane@customer.example", None),
        ("Jane Doe <mailto:jane@customer.example>", "jane@customer.example", Some("Jane Doe")),
    ];
    for (value, address, name) in cases {
        assert_eq!(sender(value), Some((address.to_string(), name.map(str::to_string))), "{value}");
    }
    assert_eq!(sender("Jane Doe"), None);
    assert!(is_address("o'brien+tag@sub.customer.example"));
    for bad in ["jane@", "@x.example", "jane@localhost", "jane@x.123", "a..b@x.example", "jane@-x.example", "ja ne@x.example"] {
        assert!(!is_address(bad), "{bad}");
    }
    for machine in ["mailer-daemon@x.example", "no-reply@x.example", "noreply-alerts@x.example", "list-bounces@x.example"] {
        assert!(!plausible(machine), "{machine}");
    }
    assert!(plausible("jane@customer.example"));
}

#[test]
fn forward_subjects() {
    for s in ["Fwd: x", "FW: x", "Fw:x", "WG: x", "TR: x", "RV: x", "I: x", "ENC: x", "RE: FW: x", "[EXT] Fwd: x", "AW: WG: x", "转发: x"]
    {
        assert!(is_forward_subject(s), "{s}");
    }
    for s in ["Re: x", "AW: x", "Printer", "Info: x", "Trouble", "Request: x", "RIF: x"] {
        assert!(!is_forward_subject(s), "{s}");
    }
}

#[test]
fn an_attached_message_is_read_as_a_mail() {
    let raw = "From: Ann <ann@example.test>\r\nTo: support@example.test\r\nSubject: Fwd: Printer\r\nMessage-ID: <fwd1@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPlease take this one.\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"Printer.eml\"\r\n\r\nFrom: Jane Doe <jane@customer.example>\r\nTo: ann@example.test\r\nSubject: Printer\r\nDate: Tue, 03 Mar 2026 10:00:00 +0100\r\nMessage-ID: <orig1@customer.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"c\"\r\n\r\n--c\r\nContent-Type: text/plain\r\n\r\nIt burns.\r\n--c\r\nContent-Type: text/plain; name=\"log.txt\"\r\nContent-Disposition: attachment; filename=\"log.txt\"\r\n\r\nE451\r\n--c--\r\n\r\n--b--\r\n";
    let mail = inbound::parse(raw.as_bytes()).expect("parses");
    let f = mail.forward.expect("a forward");
    assert_eq!((f.shape, f.note.as_str()), (Shape::Attached, "Please take this one."));
    let o = f.original.expect("readable");
    assert_eq!((o.from.as_str(), o.name.as_deref(), o.subject.as_deref()), ("jane@customer.example", Some("Jane Doe"), Some("Printer")));
    assert_eq!(o.date.as_deref(), Some("2026-03-03T10:00:00+01:00"));
    assert_eq!((o.text.as_str(), o.message_id.as_deref()), ("It burns.", Some("orig1@customer.example")));
    assert_eq!(o.attachments.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), vec!["log.txt"]);
    assert_eq!(o.attachments[0].data, b"E451");
    // An attached message without a sender is a forward whose sender cannot be read.
    let nobody = raw.replace("From: Jane Doe <jane@customer.example>\r\n", "");
    let f = inbound::parse(nobody.as_bytes()).expect("parses").forward.expect("a forward");
    assert_eq!((f.shape, f.original), (Shape::Attached, None));
}

#[test]
fn hostile_text_is_read_in_time_without_panics() {
    let long = format!("---------- Forwarded message ---------\nFrom: {}\n\n{}", "<".repeat(100_000), "x".repeat(2 << 20));
    assert!(inline(&long, "Fwd: x").is_some_and(|f| f.original.is_none()));
    let many = "From: a\nSent: b\n".repeat(50_000);
    let _ = inline(&many, "FW: x");
    for text in
        ["", "\n", "：", "From:", "From：<@>", "---------- Forwarded message ---------", "Begin forwarded message:\n>", "é：ü\r\r\n"]
    {
        let _ = inline(text, "Fwd: x");
    }
}
