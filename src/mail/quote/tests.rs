use super::*;
use std::time::{Duration, Instant};

fn cut_is(input: &str, want: &str) {
    assert_eq!(new_text(input), want, "input:\n{input}");
}

// ---------------------------------------------------------------- Outlook

#[test]
fn outlook_original_message_separators() {
    for sep in [
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Message d’origine-----",
        "-----Messaggio originale-----",
        "-----Mensaje original-----",
        "-------- Original Message --------",
    ] {
        cut_is(&format!("Ok, done.\r\n\r\n{sep}\r\nFrom: Ann\r\nTo: b@x\r\nSubject: y\r\n\r\nold\r\n"), "Ok, done.");
    }
}

#[test]
fn outlook_english_header_block() {
    cut_is(
        "Hi team,\n\nthe printer is still jammed after the update.\n\nBest regards\nJohn\n\n\
         ________________________________\n\
         From: Support <support@example.test>\n\
         Sent: Tuesday, March 3, 2026 10:00 AM\n\
         To: John Doe <john@example.com>\n\
         Subject: [SR#100001] Printer\n\n\
         Dear John,\nplease restart it.\n",
        "Hi team,\n\nthe printer is still jammed after the update.\n\nBest regards\nJohn",
    );
    // Bold header names as Outlook's HTML→text gives them, no underscore line.
    cut_is("Done.\n\n*From:* Support <s@x>\n*Sent:* Tuesday\n*To:* John\n*Subject:* x\n\nold", "Done.");
}

#[test]
fn outlook_german_header_block() {
    cut_is(
        "Hallo,\n\nder Drucker druckt wieder nicht.\n\nViele Grüße\nJörg\n\n\
         Von: Support <support@example.test>\n\
         Gesendet: Dienstag, 3. März 2026 10:00\n\
         An: Jörg Müller <j@example.de>\n\
         Betreff: AW: [SR#100001] Drucker\n\n\
         Sehr geehrter Herr Müller,\n",
        "Hallo,\n\nder Drucker druckt wieder nicht.\n\nViele Grüße\nJörg",
    );
}

#[test]
fn outlook_french_header_block_with_and_without_space() {
    cut_is(
        "Bonjour,\n\nle problème persiste.\n\nCordialement\n\n\
         De : Support <support@example.test>\n\
         Envoyé : mardi 3 mars 2026 10:00\n\
         À : Marie <m@example.fr>\n\
         Objet : RE: [SR#100001] Imprimante\n\nold",
        "Bonjour,\n\nle problème persiste.\n\nCordialement",
    );
    // No-break space before the colon, as Outlook writes it.
    cut_is("Merci.\n\nDe\u{a0}: Support\nEnvoyé\u{a0}: mardi\nÀ\u{a0}: Marie\n\nold", "Merci.");
    cut_is("Merci.\n\nDe: Support\nEnvoyé: mardi\nÀ: Marie\nObjet: x\n\nold", "Merci.");
}

#[test]
fn outlook_italian_header_block() {
    cut_is(
        "Buongiorno,\n\nla stampante è ancora bloccata.\n\nCordiali saluti\n\n\
         Da: Supporto <support@example.test>\n\
         Inviato: martedì 3 marzo 2026 10:00\n\
         A: Luca <l@example.it>\n\
         Oggetto: R: [SR#100001] Stampante\n\nold",
        "Buongiorno,\n\nla stampante è ancora bloccata.\n\nCordiali saluti",
    );
}

#[test]
fn outlook_spanish_header_block() {
    cut_is(
        "Hola,\n\nla impresora sigue sin funcionar.\n\nSaludos\n\n\
         ________________________________\n\
         De: Soporte <support@example.test>\n\
         Enviado: martes, 3 de marzo de 2026 10:00\n\
         Para: Ana <a@example.es>\n\
         Asunto: RE: [SR#100001] Impresora\n\nold",
        "Hola,\n\nla impresora sigue sin funcionar.\n\nSaludos",
    );
}

#[test]
fn outlook_header_block_needs_its_date_line() {
    // A `From:` line in the writer's text alone is not a header block.
    cut_is("From: my laptop\nthe error shows again.", "From: my laptop\nthe error shows again.");
    // A lone underscore line is not a separator either.
    cut_is("Notes\n__________\nline two", "Notes\n__________\nline two");
}

// ---------------------------------------------------------------- attributions

#[test]
fn gmail_english() {
    cut_is(
        "Thanks, that fixed it!\n\nOn Tue, Mar 3, 2026 at 10:00 AM Support <support@example.test> wrote:\n\n> Please restart.\n>\n> Support\n",
        "Thanks, that fixed it!",
    );
}

#[test]
fn gmail_english_wrapped() {
    cut_is(
        "Still broken.\n\nOn Tue, Mar 3, 2026 at 10:00 AM Support Team of Example <\nsupport@example.test> wrote:\n\n> Please restart.\n",
        "Still broken.",
    );
    cut_is(
        "Still broken.\n\nOn Tue, Mar 3, 2026 at 10:00 AM\nSupport Team of Example Corporation\n<support@example.test> wrote:\n> x\n",
        "Still broken.",
    );
}

#[test]
fn gmail_french() {
    cut_is("Merci beaucoup.\n\nLe mar. 3 mars 2026 à 10:00, Support <support@example.test> a écrit :\n\n> Bonjour,\n", "Merci beaucoup.");
    cut_is("Merci.\n\nLe mar. 3 mars 2026 à 10:00, Support de l'équipe <\nsupport@example.test> a écrit :\n> x", "Merci.");
}

#[test]
fn gmail_german() {
    cut_is("Danke!\n\nAm Di., 3. März 2026 um 10:00 Uhr schrieb Support <support@example.test>:\n\n> Hallo\n", "Danke!");
    cut_is("Danke!\n\nAm Di., 3. März 2026 um 10:00 Uhr schrieb Support Team <\nsupport@example.test>:\n> Hallo\n", "Danke!");
}

#[test]
fn gmail_italian() {
    cut_is("Grazie.\n\nIl giorno mar 3 mar 2026 alle ore 10:00 Supporto <support@example.test> ha scritto:\n\n> Buongiorno\n", "Grazie.");
    cut_is("Grazie.\n\nIl giorno mar 3 mar 2026 alle ore 10:00 Supporto Clienti <\nsupport@example.test> ha scritto:\n> x", "Grazie.");
}

#[test]
fn gmail_spanish() {
    cut_is("Gracias.\n\nEl mar, 3 mar 2026 a las 10:00, Soporte (<support@example.test>) escribió:\n\n> Hola\n", "Gracias.");
    cut_is("Gracias.\n\nEl mar, 3 mar 2026 a las 10:00, Soporte Técnico (<\nsupport@example.test>) escribió:\n> x", "Gracias.");
}

#[test]
fn dutch_and_nordic_attributions() {
    cut_is("Bedankt.\n\nOp di 3 mrt 2026 om 10:00 schreef Support <support@example.test>:\n> Hallo", "Bedankt.");
    cut_is("Tack.\n\nDen tis 3 mars 2026 kl 10:00 skrev Support <support@example.test>:\n> Hej", "Tack.");
}

#[test]
fn japanese_and_chinese_gmail() {
    cut_is("ありがとうございます。\n\n2026年3月3日(火) 10:00 Support <support@example.test>:\n\n> こんにちは\n", "ありがとうございます。");
    cut_is("了解しました。\n\n2026/03/03 10:00、Support <support@example.test>のメッセージ:\n\n> こんにちは\n", "了解しました。");
    cut_is("谢谢！\n\nSupport <support@example.test> 于2026年3月3日周二 10:00写道：\n\n> 你好\n", "谢谢！");
    cut_is("謝謝！\n\nSupport <support@example.test> 於 2026年3月3日 週二 上午10:00寫道：\n\n> 你好\n", "謝謝！");
}

#[test]
fn apple_mail() {
    cut_is(
        "Works now.\n\nSent from my iPhone\n\n> On Mar 3, 2026, at 10:00, Support <support@example.test> wrote:\n>\n> Please restart.\n",
        "Works now.",
    );
    cut_is("Works now.\n\n> On 3. Mar 2026, at 10:00, Support <s@x> wrote:\n> \n> Hi\n", "Works now.");
    cut_is("Geht wieder.\n\n> Am 03.03.2026 um 10:00 schrieb Support <s@x>:\n> \n> Hallo\n", "Geht wieder.");
    cut_is("Ça marche.\n\nLe 3 mars 2026 à 10:00, Support <s@x> a écrit :\n\n> Bonjour\n", "Ça marche.");
}

#[test]
fn thunderbird() {
    cut_is("Fine now.\n\nOn 3/3/26 10:00, Support wrote:\n> Please restart.\n", "Fine now.");
    cut_is("Passt.\n\nAm 03.03.26 um 10:00 schrieb Support:\n> Hallo\n", "Passt.");
    // Unmarked history after an attribution (HTML rendered to text) is cut too.
    cut_is("Fine now.\n\nOn 3/3/26 10:00, Support wrote:\nPlease restart.\n", "Fine now.");
}

#[test]
fn mutt() {
    cut_is("Agreed.\n\nOn Tue, Mar 03, 2026 at 10:00:00AM +0100, Ann wrote:\n> proposal\n", "Agreed.");
    cut_is("Agreed.\n\n* Ann <ann@example.com> [2026-03-03 10:00]:\n> proposal\n", "Agreed.");
}

#[test]
fn attribution_words_in_prose_are_kept() {
    cut_is("On the server I see this error:\nE42 disk full", "On the server I see this error:\nE42 disk full");
    cut_is("Le serveur est en panne.\nIl faut redémarrer.", "Le serveur est en panne.\nIl faut redémarrer.");
}

// ---------------------------------------------------------------- `>` quoting

#[test]
fn bottom_quote() {
    cut_is("Fixed.\n> old\n> older", "Fixed.");
    cut_is("Fixed.\n\n> old\n\n> older\n\n", "Fixed.");
}

#[test]
fn inline_replies_keep_the_answers() {
    cut_is(
        "On Tue, Mar 3, 2026 at 10:00 AM Support <s@x> wrote:\n\
         > Which model is it?\n\nThe LaserJet 4000.\n\n> Since when?\n\nSince Monday.\n\n> Regards\n> Support\n",
        "The LaserJet 4000.\n\nSince Monday.",
    );
    cut_is("> q1\nanswer1\n> q2\n> q2b\nanswer2\n", "answer1\nanswer2");
}

#[test]
fn signatures() {
    cut_is("Please call me.\n\n-- \nJohn Doe\nACME Corp\n+41 00 000 00 00", "Please call me.");
    cut_is("Please call me.\n--\nJohn", "Please call me.");
    cut_is("Please call me.\n\n-- \nJohn\n\nOn Tue, Mar 3, 2026, Support wrote:\n> x", "Please call me.");
}

#[test]
fn mobile_footers() {
    for footer in [
        "Sent from my iPhone",
        "Sent from my Samsung Galaxy smartphone.",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Inviato da iPhone",
        "Enviado desde mi iPhone",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Get Outlook for Android",
    ] {
        cut_is(&format!("Yes, tomorrow works.\n\n{footer}\n\nOn Tue, Mar 3, 2026, Support wrote:\n> x"), "Yes, tomorrow works.");
    }
    // A sentence that merely starts like one stays.
    cut_is("Sent from my laptop yesterday, the log shows error 42 again.", "Sent from my laptop yesterday, the log shows error 42 again.");
}

// ---------------------------------------------------------------- forwards and pure quotes

#[test]
fn forward_with_comment_keeps_the_comment() {
    for marker in [
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
        "-------- Weitergeleitete Nachricht --------",
        "-------- Message transféré --------",
        "---------- Messaggio inoltrato ----------",
        "---------- Mensaje reenviado ---------",
        "-------- Forwarded Message --------",
    ] {
        cut_is(&format!("FYI, see below.\n\n{marker}\nFrom: Ann <a@x>\nDate: Tue, Mar 3, 2026\nSubject: x\n\nbody"), "FYI, see below.");
    }
}

#[test]
fn forward_only_keeps_the_forwarded_content() {
    cut_is(
        "---------- Forwarded message ---------\nFrom: Ann <ann@example.com>\nDate: Tue, Mar 3, 2026 at 10:00 AM\nSubject: Printer\nTo: <support@example.test>\n\n\nThe printer is on fire.\n",
        "From: Ann <ann@example.com>\nDate: Tue, Mar 3, 2026 at 10:00 AM\nSubject: Printer\nTo: <support@example.test>\n\nThe printer is on fire.",
    );
    cut_is(
        "Sent from my iPhone\n\nBegin forwarded message:\n\n> From: Ann <ann@example.com>\n> Subject: Printer\n>\n> The printer is on fire.\n",
        "From: Ann <ann@example.com>\nSubject: Printer\n\nThe printer is on fire.",
    );
    cut_is(
        "________________________________\nFrom: Ann\nSent: Tuesday\nTo: Support\nSubject: Printer\n\nOn fire.",
        "From: Ann\nSent: Tuesday\nTo: Support\nSubject: Printer\n\nOn fire.",
    );
}

#[test]
fn a_pure_quote_keeps_its_content() {
    cut_is("> only quoted", "only quoted");
    cut_is("On Tue, Mar 3, 2026, Ann wrote:\n> line one\n> > older\n", "line one\n> older");
    cut_is("-- \nJohn", "--\nJohn");
    cut_is("   \n\n  ", "");
}

#[test]
fn tidies_whitespace() {
    cut_is("\n\n  Hello   \n\n\n\nWorld\t\n\n", "Hello\n\nWorld");
    cut_is("a\r\nb\rc", "a\nb\nc");
}

// ---------------------------------------------------------------- HTML

fn html_is(input: &str, want: &str) {
    assert_eq!(new_text_from_html(input), want, "input:\n{input}");
}

#[test]
fn html_gmail_reply() {
    html_is(
        r#"<div dir="ltr">Thanks, that fixed it!<div><br></div><div>John</div></div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Tue, Mar 3, 2026 at 10:00 AM Support &lt;<a href="mailto:s@x">s@x</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">Please restart.</blockquote></div>"#,
        "Thanks, that fixed it!\n\nJohn",
    );
}

#[test]
fn html_gmail_signature_dropped() {
    html_is(
        r#"<div dir="ltr">See attached.<br clear="all"><div><br></div><span class="gmail_signature_prefix">-- </span><br><div dir="ltr" class="gmail_signature">John Doe<br>ACME</div></div>"#,
        "See attached.",
    );
}

#[test]
fn html_outlook_web_reply() {
    html_is(
        r#"<html><head><meta charset="utf-8"><style>p { margin: 0 } .x > .y {}</style></head><body><div class="elementToProof" style="font-family: Aptos">Still broken &amp; smoking.</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri"><b>From:</b> Support &lt;s@x&gt;<br><b>Sent:</b> Tuesday, March 3, 2026 10:00<br></font></div><div>Please restart.</div></body></html>"#,
        "Still broken & smoking.",
    );
}

#[test]
fn html_outlook_desktop_reply() {
    // No ids: the `From:/Gesendet:` block is found in the rendered text.
    html_is(
        r#"<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><!--[if gte mso 9]><xml><o:shapedefaults/></xml><![endif]--><style><!-- p.MsoNormal {margin:0cm} --></style></head><body lang="DE"><div class="WordSection1"><p class="MsoNormal">Hallo,<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p><p class="MsoNormal">geht immer noch nicht.<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p><div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal"><b>Von:</b> Support &lt;s@x&gt; <br><b>Gesendet:</b> Dienstag, 3. März 2026 10:00<br><b>An:</b> Jörg<br><b>Betreff:</b> x<o:p></o:p></p></div><p class="MsoNormal">Sehr geehrter Herr,</p></div></body></html>"#,
        "Hallo,\n\ngeht immer noch nicht.",
    );
}

#[test]
fn html_apple_mail_reply() {
    html_is(
        r#"<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body dir="auto">Works now.<div><br></div><div>Ann<br><div dir="ltr"><br><blockquote type="cite">On Mar 3, 2026, at 10:00, Support &lt;s@x&gt; wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr"><div>Please restart.</div></div></blockquote></div></body></html>"#,
        "Works now.\n\nAnn",
    );
}

#[test]
fn html_thunderbird_reply() {
    html_is(
        r#"<!DOCTYPE html><html><head><meta http-equiv="content-type" content="text/html; charset=UTF-8"></head><body><p>Fine now, thanks.</p><ul><li>printer 1</li><li>printer 2</li></ul><div class="moz-cite-prefix">On 3/3/26 10:00, Support wrote:<br></div><blockquote type="cite" cite="mid:abc@x">Please restart.</blockquote><div class="moz-signature">-- <br>Ann</div></body></html>"#,
        "Fine now, thanks.\n- printer 1\n- printer 2",
    );
}

#[test]
fn html_text_attribution_inside_html() {
    html_is("<div>Ok.</div><div>On Tue, Mar 3, 2026, Ann wrote:</div><div>&gt; old</div>", "Ok.");
}

#[test]
fn html_entities_and_whitespace() {
    html_is(
        "<p>a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; f&nbsp;g &#233;&#xE9;&#XE9; &eacute; &bogus; &#xZZ; &#0; &</p>\n\n<p>  lots   of\n\tspace  </p>",
        "a & b <c> \"d\" 'e' f g ééé é &bogus; &#xZZ; \u{fffd} &\nlots of space",
    );
    html_is("<pre>  keep\n    this</pre>", "keep\n    this");
    html_is("<table><tr><td>A</td><td>B</td></tr><tr><td>C</td><td>D</td></tr></table>", "A B\nC D");
    html_is("<script>if (a < b) { document.write('<b>x</b>') }</script>Visible<SCRIPT>x</SCRIPT>", "Visible");
}

#[test]
fn html_forward_only_keeps_content() {
    html_is(
        r#"<div dir="ltr"><br><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: <strong class="gmail_sendername">Ann</strong> <span>&lt;ann@example.com&gt;</span><br>Date: Tue, Mar 3, 2026 at 10:00 AM<br>Subject: Printer<br></div><br><br><div dir="ltr">The printer is on fire.</div></div></div>"#,
        "From: Ann <ann@example.com>\nDate: Tue, Mar 3, 2026 at 10:00 AM\nSubject: Printer\n\nThe printer is on fire.",
    );
    html_is(
        r#"<html><body dir="auto"><div>Begin forwarded message:</div><br><blockquote type="cite"><div><b>From:</b> Ann &lt;ann@example.com&gt;<br><b>Subject:</b> Printer</div><br><div>On fire.</div></blockquote></body></html>"#,
        "From: Ann <ann@example.com>\nSubject: Printer\n\nOn fire.",
    );
    // Nothing but a quote.
    html_is("<blockquote>only <b>quoted</b></blockquote>", "only quoted");
}

#[test]
fn html_malformed() {
    html_is("<div>unclosed <b>bold <i>and <p>para", "unclosed bold and\npara");
    html_is("a < b and c > d <3 </ > <!", "a < b and c > d <3");
    html_is("<div class=\"unterminated>text never shown", "");
    html_is("before<!-- never closed <div>x</div>", "before");
    html_is("<blockquote>q<blockquote>qq</blockquote>q2</blockquote>New<div class=gmail_quote>x", "New");
    html_is("<head><title>T</title><body>Body text", "Body text");
    html_is("<div>ümlaut<ß>€</div>", "ümlaut<ß>€");
    html_is("</div></p></blockquote>tail", "tail");
    html_is("<div id=divRplyFwdMsg", "");
    html_is("", "");
}

#[test]
fn html_huge_input_is_fast() {
    let mut big = String::from("<div>Top line</div><blockquote>");
    while big.len() < 5 << 20 {
        big.push_str("<div class=\"x\">quoted &amp; more <b>bold</b> text</div>\n");
    }
    let t = Instant::now();
    assert_eq!(new_text_from_html(&big), "Top line");
    let mut unclosed = String::new();
    while unclosed.len() < 5 << 20 {
        unclosed.push_str("<a href='x <b <!-- &#x ");
    }
    let _ = new_text_from_html(&unclosed);
    let mut text = String::new();
    while text.len() < 5 << 20 {
        text.push_str("On Tue wrote\nFrom: a\n> q\nnew\n");
    }
    let _ = new_text(&text);
    // Deep nesting: bounded output, no stack use (nothing recurses).
    let deep = format!("{}{}", "<blockquote>".repeat(200_000), "<br>x".repeat(200_000));
    let out = new_text_from_html(&deep);
    assert!(out.len() < 8 << 20, "{}", out.len());
    assert!(out.contains("\n> > > > > > > x\n"), "{}", out.get(..40).unwrap_or_default());
    assert!(t.elapsed() < Duration::from_secs(20), "took {:?}", t.elapsed());
}

// ---------------------------------------------------------------- fuzz-ish

/// A deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const PIECES: &[&str] = &[
    "<",
    ">",
    "</",
    "/>",
    "<!--",
    "-->",
    "<![CDATA[",
    "<div class=gmail_quote>",
    "<blockquote>",
    "</blockquote>",
    "<div id=\"divRplyFwdMsg\">",
    "<script>",
    "</script",
    "<style>",
    "<pre>",
    "</pre>",
    "<head>",
    "<body>",
    "<br>",
    "<li>",
    "&",
    "&#",
    "&#x",
    "&#1114112;",
    "&#xD800;",
    "&amp;",
    ";",
    "\"",
    "'",
    "=",
    "\n",
    "\r",
    "\r\n",
    " ",
    "\t",
    "\u{a0}",
    "> ",
    "-- \n",
    "--",
    "On Tue, Mar 3, 2026 Ann <a@x>",
    " wrote:",
    "From: a\n",
    "Sent: b\n",
    "De : c\n",
    "________________________________\n",
    "-----Original Message-----",
    "Begin forwarded message:",
    "写道：",
    "年月",
    "é",
    "ß",
    "日本",
    "😀",
    "\u{0}",
    "\u{feff}",
    "*",
    "[",
    "@",
];

fn random_input(rng: &mut Rng) -> String {
    let mut s = String::new();
    let n = (rng.next() % 60) as usize;
    for _ in 0..n {
        let r = rng.next();
        if r.is_multiple_of(5) {
            // A raw char, anywhere in Unicode's scalar range.
            let c = char::from_u32((r >> 8) as u32 % 0x11_0000).unwrap_or('?');
            s.push(c);
        } else {
            s.push_str(PIECES[(r >> 8) as usize % PIECES.len()]);
        }
    }
    s
}

#[test]
fn fuzzish_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let input = random_input(&mut rng);
        let a = new_text(&input);
        let b = new_text_from_html(&input);
        // Results are tidy: no trailing whitespace, no double blank lines.
        for out in [&a, &b] {
            assert!(!out.contains("\n\n\n"), "{input:?} → {out:?}");
            assert!(out.lines().all(|l| l == l.trim_end()), "{input:?} → {out:?}");
        }
    }
}

#[test]
fn clamp_lines_keeps_the_first_lines() {
    assert_eq!(clamp_lines("a\nb\nc", 2), "a\nb");
    assert_eq!(clamp_lines("a\nb\n", 2), "a\nb");
    assert_eq!(clamp_lines("a\nb", 2), "a\nb");
    assert_eq!(clamp_lines("", 2), "");
}

#[test]
fn a_text_of_more_lines_than_are_read_is_cut_within_them() {
    // The writer's text and the attribution at the top, a history longer than the window.
    let history: String = (0..MAX_TEXT_LINES + 10).map(|i| format!("> line {i}\r\n")).collect();
    let input = format!("Thanks, that fixed it.\r\n\r\nOn Mon, 2 Mar 2026 at 10:00, Sam wrote:\r\n{history}");
    assert_eq!(new_text(&input), "Thanks, that fixed it.");
    // Nothing but line breaks (bare CRs too): nothing to keep, whatever the count.
    for breaks in ["\n", "\r", "\r\n"] {
        assert_eq!(new_text(&breaks.repeat(MAX_TEXT_LINES * 3)), "");
    }
    // A writer's text longer than the window keeps its first lines only.
    let long: String = (0..MAX_TEXT_LINES + 10).map(|i| format!("row {i}\n")).collect();
    let kept = new_text(&long);
    assert_eq!(kept.lines().count(), MAX_TEXT_LINES);
    assert!(kept.ends_with(&format!("row {}", MAX_TEXT_LINES - 1)), "{}", &kept[kept.len() - 20..]);
}

#[test]
fn clamp_respects_char_boundaries() {
    assert_eq!(clamp("aé", 2), "a");
    assert_eq!(clamp("aé", 3), "aé");
    assert_eq!(clamp("", 0), "");
}

proptest::proptest! {
    /// The byte-wise fast path for ASCII lines gives what the char-wise one gives.
    #[test]
    fn ascii_normalisation_matches_the_general_one(line in "[ -~\t]{0,120}") {
        let trimmed = line.trim();
        proptest::prop_assert_eq!(normalise(trimmed), normalise_chars(trimmed));
    }
}
