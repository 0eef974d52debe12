#!/usr/bin/env python3
"""Writes tests/corpus/replies/: replies to SR#100001 as the world's clients
write them, one per quoting habit (issue 12, classes 1-6), each with its exact
expected new text.

Run from anywhere: python3 tests/corpus/make_replies.py (byte-identical output).
"""

import base64
import html
import json
import os
import quopri

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "replies")

ACK_EN = """Dear Ann,

thank you for contacting Example Support. We have opened the support
request SR#100001 for your message "Printer on fire" (priority P2).

Kind regards
Example Support"""

ACK_DE = """Sehr geehrte Frau Berger,

vielen Dank für Ihre Nachricht an den Example Support. Wir haben die
Supportanfrage SR#100001 zu Ihrer Nachricht "Drucker brennt" eröffnet.

Mit freundlichen Grüßen
Example Support"""

ACK_FR = """Bonjour Marie,

merci d'avoir contacté le support Example. Nous avons ouvert la demande
SR#100001 pour votre message "Imprimante en feu" (priorité P2).

Cordialement
Le support Example"""

ACK_EXCLUDE = {"en": "We have opened the support", "de": "Wir haben die", "fr": "Nous avons ouvert la demande"}

HEADER_BLOCK_EN = """From: Example Support <support@example.test>
Sent: Tuesday, March 3, 2026 10:00 AM
To: Ann Berger <ann@customer.example>
Subject: [SR#100001] Printer on fire"""


def quoted(text, prefix="> "):
    return "\n".join((prefix + line).rstrip() if line else prefix.rstrip() for line in text.split("\n"))


def ack(lang):
    return {"de": ACK_DE, "fr": ACK_FR}.get(lang, ACK_EN)


CLIENT_HEADERS = {
    "outlook": ["X-Mailer: Microsoft Outlook 16.0", "Thread-Index: AQHbrAbc1234567890abcdefABCDEFgh=="],
    "owa": ["X-MS-Has-Attach: ", "X-MS-TNEF-Correlator: ", "Thread-Index: AQHbrOWA12345678"],
    "hotmail": ["X-MS-Has-Attach: ", "X-Originating-IP: [192.0.2.44]"],
    "gmail": [],
    "apple": ["X-Mailer: Apple Mail (2.3826.400.131.1.6)"],
    "iphone": ["X-Mailer: iPhone Mail (22D82)"],
    "thunderbird": ["User-Agent: Mozilla Thunderbird"],
    "zoho": ["User-Agent: Zoho Mail", "X-Mailer: Zoho Mail"],
    "yandex": ["X-Mailer: Yamail [ http://yandex.ru ] 5.0"],
    "mailru": ["X-Mailer: Mail.Ru Mailer 1.0"],
    "seznam": ["X-Mailer: szn-ebox-5.0.187"],
    "onet": ["X-Mailer: Onet Poczta"],
    "wp": ["X-Mailer: WP Poczta"],
    "naver": ["X-Mailer: NAVER Mail"],
    "qq": ["X-QQ-MIME: TCMime 1.0 by Tencent", "X-Mailer: QQMail 2.x"],
    "foxmail": ["X-Mailer: Foxmail 7.2.25.228[cn]"],
    "yahoo": ["X-Mailer: WebService/1.1.23187 YMailNorrin"],
    "mutt": ["User-Agent: Mutt/2.2.12 (2023-09-09)"],
    "gnus": ["User-Agent: Gnus/5.13 (Gnus v5.13)"],
    "k9": ["User-Agent: K-9 Mail for Android"],
    "gmx": ["X-UI-Message-Type: mail", "X-Priority: 3"],
    "orange": ["X-Mailer: Orange Webmail"],
    "samsung": ["X-Mailer: Samsung Email"],
    "roundcube": ["User-Agent: Roundcube Webmail/1.6.9"],
    "other": [],
    "zimbra": ["X-Mailer: Zimbra 9.0.0_GA_4546 (ZimbraWebClient - FF115 (Linux)/9.0.0_GA_4546)"],
    "windowsmail": [],
    "mailman": ["List-Id: Printer users <printer-users.lists.example.org>", "List-Post: <mailto:printer-users@lists.example.org>", "Precedence: list"],
}

# The `client` field groups the clients the README table counts.
CLIENT_FIELD = {
    "owa": "outlook",
    "hotmail": "outlook",
    "iphone": "apple",
    "gnus": "other",
    "k9": "other",
    "gmx": "other",
    "orange": "other",
    "samsung": "other",
    "roundcube": "other",
    "zimbra": "other",
    "windowsmail": "other",
}

SUBJECT = {
    "de": "AW: [SR#100001] Drucker brennt",
    "fr": "RE: [SR#100001] Imprimante en feu",
    "zh": "回复：[SR#100001] Printer on fire",
}

CASES = []


def case(name, client, lang, klass, body, expect, html_body=None, html_only=False, flowed=False, cte="8bit",
         exclude=None, headers=(), subject=None):
    CASES.append(dict(name=name, client=client, lang=lang, klass=klass, body=body, expect=expect,
                      html_body=html_body, html_only=html_only, flowed=flowed, cte=cte, exclude=exclude,
                      headers=list(headers), subject=subject))


def reply(text, attribution, lang="en", blank=True, prefix="> "):
    sep = "\n\n" if blank else "\n"
    return text + "\n\n" + attribution + sep + quoted(ack(lang), prefix) + "\n"


def reply_unquoted(text, attribution, lang="en"):
    return text + "\n\n" + attribution + "\n\n" + ack(lang) + "\n"


# ------------------------------------------------------------------ class 1: attributions

C1 = [
    ("en_gmail_iso_date", "gmail", "en", "Thanks, the new fuser unit works.\n\nAnn",
     "2026-03-03 10:00 GMT+01:00 Example Support <support@example.test>:"),
    ("ru_gmail_cyrillic_date", "gmail", "ru", "Спасибо, принтер снова работает.\n\nАнна",
     "вт, 3 мар. 2026 г. в 10:00, Example Support <support@example.test>:"),
    ("ru_gmail_polzovatel_napisal", "gmail", "ru", "Добрый день!\n\nДеталь получили, завтра поставим.",
     "3 марта 2026 г., 10:00 пользователь Example Support <support@example.test> написал:"),
    ("ru_yandex", "yandex", "ru", "Здравствуйте!\n\nЗапчасть пришла, спасибо.",
     "03.03.2026, 10:00, \"Example Support\" <support@example.test>:"),
    ("ru_mailru", "mailru", "ru", "Всё заработало, заявку можно закрыть.",
     "Вторник, 3 марта 2026, 10:00 +03:00 от Example Support <support@example.test>:"),
    ("ru_apple_napisal_a", "apple", "ru", "Спасибо, всё работает.",
     "3 марта 2026 г., в 10:00, Example Support <support@example.test> написал(а):"),
    ("ru_thunderbird_pishet", "thunderbird", "ru", "Принтер снова печатает.",
     "03.03.2026 10:00, Example Support пишет:"),
    ("uk_gmail_pyshe", "gmail", "uk", "Дякую, принтер знову працює.",
     "вт, 3 бер. 2026 р. о 10:00 Example Support <support@example.test> пише:"),
    ("pl_onet_dnia", "onet", "pl", "Dzień dobry,\n\ndrukarka znowu działa, dziękuję.\n\nAnna",
     "Dnia 3 marca 2026 10:00 Example Support <support@example.test> napisał(a):"),
    ("pl_wp_dnia_quoted_name", "wp", "pl", "Dziękuję, problem rozwiązany.",
     "Dnia 3 marca 2026 10:00 \"Example Support\" <support@example.test> napisał(a):"),
    ("pl_gmail_napisal_a", "gmail", "pl", "Dziękuję, działa.",
     "wt., 3 mar 2026 o 10:00 Example Support <support@example.test> napisał(a):"),
    ("pl_thunderbird_w_dniu_pisze", "thunderbird", "pl", "Drukarka działa poprawnie.",
     "W dniu 3.03.2026 o 10:00, Example Support pisze:"),
    ("nl_apple_het_volgende_geschreven", "apple", "nl", "Bedankt, de printer werkt weer.",
     "Op 3 mrt 2026, om 10:00 heeft Example Support <support@example.test> het volgende geschreven:"),
    ("nl_thunderbird_schreef", "thunderbird", "nl", "Het werkt weer, dank u.",
     "Op 03-03-2026 om 10:00 schreef Example Support:"),
    ("sv_gmail_skrev", "gmail", "sv", "Tack, skrivaren fungerar igen.",
     "Den tis 3 mars 2026 kl 10:00 skrev Example Support <support@example.test>:"),
    ("sv_thunderbird_skrev", "thunderbird", "sv", "Nu fungerar det.",
     "Den 2026-03-03 kl. 10:00, skrev Example Support:"),
    ("da_gmail_skrev", "gmail", "da", "Tak, printeren virker igen.",
     "Den tir. 3. mar. 2026 kl. 10.00 skrev Example Support <support@example.test>:"),
    ("nb_gmail_skrev", "gmail", "nb", "Takk, skriveren virker igjen.",
     "tir. 3. mar. 2026 kl. 10:00 skrev Example Support <support@example.test>:"),
    ("fi_gmail_kirjoitti", "gmail", "fi", "Kiitos, tulostin toimii taas.",
     "ti 3.3.2026 klo 10.00 Example Support (support@example.test) kirjoitti:"),
    ("fi_thunderbird_kirjoitti_date_after", "thunderbird", "fi", "Tulostin toimii.",
     "Example Support kirjoitti 3.3.2026 klo 10.00:"),
    ("pt_gmail_escreveu", "gmail", "pt", "Obrigada, a impressora voltou a funcionar.",
     "Em ter., 3 de mar. de 2026 às 10:00, Example Support <support@example.test> escreveu:"),
    ("pt_apple_escreveu", "apple", "pt", "Funciona, obrigada.",
     "Em 3 de mar. de 2026, à(s) 10:00, Example Support <support@example.test> escreveu:"),
    ("cs_gmail_odesilatel_napsal", "gmail", "cs", "Děkuji, tiskárna zase funguje.",
     "út 3. 3. 2026 v 10:00 odesílatel Example Support <support@example.test> napsal:"),
    ("cs_thunderbird_dne_napsal_a", "thunderbird", "cs", "Funguje to, děkuji.",
     "Dne 03. 03. 26 v 10:00 Example Support napsal(a):"),
    ("tr_gmail_sunu_yazdi", "gmail", "tr", "Teşekkürler, yazıcı tekrar çalışıyor.",
     "Sal, 3 Mar 2026 tarihinde 10:00 saatinde Example Support <support@example.test> şunu yazdı:"),
    ("tr_thunderbird_tarihinde_yazdi", "thunderbird", "tr", "Yazıcı çalışıyor.",
     "3.03.2026 10:00 tarihinde Example Support yazdı:"),
    ("ja_apple_no_meeru", "apple", "ja", "ありがとうございます。直りました。",
     "2026/03/03 10:00、Example Support <support@example.test>のメール:"),
    ("zh_apple_xiedao", "apple", "zh", "谢谢，打印机已经修好了。",
     "2026年3月3日 10:00，Example Support <support@example.test> 写道："),
    ("ko_gmail_jakseong", "gmail", "ko", "감사합니다. 프린터가 다시 작동합니다.",
     "2026년 3월 3일 (화) 오전 10:00, Example Support <support@example.test>님이 작성:"),
    ("de_k9_name_schrieb", "k9", "de", "Danke, läuft wieder.",
     "Example Support <support@example.test> schrieb:"),
    ("en_k9_wrote_on_date", "k9", "en", "Thanks, all good now.",
     "On March 3, 2026 10:00:00 AM GMT+01:00, Example Support <support@example.test> wrote:"),
]
for name, client, lang, text, attribution in C1:
    quote_lang = lang if lang in ("de", "fr") else "en"
    case(name, client, lang, 1, reply(text, attribution, quote_lang), text, exclude=ACK_EXCLUDE[quote_lang],
         flowed=client == "thunderbird", cte="quoted-printable" if client == "gmail" else "8bit")

# More locales and apps, written after the rules (a check that they are rules, not strings).
C1_MORE = [
    ("pl_iphone_wiadomosc_napisana", "iphone", "pl", "Dziękuję, działa.",
     "Wiadomość napisana przez Example Support <support@example.test> w dniu 03.03.2026, o godz. 10:00:"),
    ("tr_apple_sunlari_yazdi", "apple", "tr", "Teşekkürler, çözüldü.",
     "Example Support <support@example.test> şunları yazdı (3 Mar 2026 10:00):"),
    ("hu_gmail_ezt_irta", "gmail", "hu", "Köszönöm, a nyomtató újra működik.",
     "Example Support <support@example.test> ezt írta (időpont: 2026. márc. 3., K, 10:00):"),
    ("ja_yahoo_no_message", "yahoo", "ja", "承知しました。ありがとうございます。",
     "2026年3月3日(火) 10:00、Example Support <support@example.test> のメッセージ:"),
    ("es_thunderbird_escribio", "thunderbird", "es", "Gracias, ya funciona.",
     "El 3/3/26 a las 10:00, Example Support escribió:"),
    ("it_thunderbird_ha_scritto", "thunderbird", "it", "Grazie, risolto.",
     "Il 03/03/26 10:00, Example Support ha scritto:"),
]
for name, client, lang, text, attribution in C1_MORE:
    case(name, client, lang, 1, reply(text, attribution), text, exclude=ACK_EXCLUDE["en"], flowed=client == "thunderbird")

# Unmarked history after the attribution (webmail plain parts, Zoho, Yahoo).
C1_UNQUOTED = [
    ("en_zoho_dashed_wrote", "zoho", "en", "Hello,\n\nthe printer works again.\n\nRegards\nAnn",
     "---- On Tue, 03 Mar 2026 10:00:00 +0100 Example Support <support@example.test> wrote ----"),
    ("de_zoho_dashed_schrieb", "zoho", "de", "Hallo,\n\nder Drucker läuft wieder.",
     "---- Am Di, 03 Mär 2026 10:00:00 +0100 schrieb Example Support <support@example.test> ----"),
    ("en_yahoo_unquoted", "yahoo", "en", "Works now, thanks.",
     "On Tuesday, March 3, 2026, 10:00:00 AM GMT+1, Example Support <support@example.test> wrote:"),
    ("de_yahoo_folgendes_geschrieben", "yahoo", "de", "Danke, es funktioniert wieder.",
     "Am Dienstag, 3. März 2026 um 10:00:00 MEZ hat Example Support <support@example.test> Folgendes geschrieben:"),
    ("fr_yahoo_a_ecrit", "yahoo", "fr", "Merci, tout fonctionne.",
     "Le mardi 3 mars 2026 à 10:00:00 UTC+1, Example Support <support@example.test> a écrit :"),
    ("pt_yahoo_escreveu", "yahoo", "pt", "Obrigada, resolvido.",
     "Em terça-feira, 3 de março de 2026 10:00:00 BRT, Example Support <support@example.test> escreveu:"),
    ("ru_mailru_unquoted", "mailru", "ru", "Спасибо, заявку можно закрывать.",
     ">Вторник, 3 марта 2026, 10:00 +03:00 от Example Support <support@example.test>:".lstrip(">")),
]
for name, client, lang, text, attribution in C1_UNQUOTED:
    quote_lang = lang if lang in ("de", "fr") else "en"
    case(name, client, lang, 1, reply_unquoted(text, attribution, quote_lang), text, exclude=ACK_EXCLUDE[quote_lang])

# ------------------------------------------------------------------ class 2: wrapped attributions, separators

C2 = [
    ("en_gmail_iso_date_wrapped", "gmail", "en", "Thanks, the technician fixed it.",
     "2026-03-03 10:00 GMT+01:00 Example Support Team of Example Corporation <\nsupport@example.test>:"),
    ("ru_gmail_wrapped_after_lt", "gmail", "ru", "Спасибо, всё работает.",
     "вт, 3 мар. 2026 г. в 10:00, Служба поддержки Example Corporation <\nsupport@example.test>:"),
    ("pl_gmail_wrapped_after_lt", "gmail", "pl", "Dziękuję, już działa.",
     "wt., 3 mar 2026 o 10:00 Example Support Team of Example Corporation <\nsupport@example.test> napisał(a):"),
    ("ja_gmail_wrapped_after_lt", "gmail", "ja", "ありがとうございます。",
     "2026年3月3日(火) 10:00 Example Support Team of Example Corporation <\nsupport@example.test>:"),
    ("en_gmail_wrapped_inside_address", "gmail", "en", "Done, thank you.",
     "On Tue, Mar 3, 2026 at 10:00 AM Example Support Team of Example <support@exam\nple.test> wrote:"),
    ("da_gmail_wrapped_after_period", "gmail", "da", "Tak, det virker.",
     "Den tir. 3. mar. 2026 kl.\n10.00 skrev Example Support Team of Example Corporation <support@example.test>:"),
    ("sv_gmail_wrapped_three_lines", "gmail", "sv", "Tack, löst.",
     "Den tis 3 mars 2026 kl 10:00 skrev\nExample Support Team of Example Corporation <\nsupport@example.test>:"),
    ("cs_gmail_wrapped_inside_address", "gmail", "cs", "Děkuji, vyřešeno.",
     "út 3. 3. 2026 v 10:00 odesílatel Example Support Team <support@\nexample.test> napsal:"),
]
C2 += [
    ("fr_gmail_wrapped_quoted_name", "gmail", "fr", "Merci, c'est réparé.",
     "Le mar. 3 mars 2026 à 10:00, \"Example Support\" <\nsupport@example.test> a écrit :"),
    ("ru_yandex_wrapped_after_lt", "yandex", "ru", "Спасибо, работает.",
     "03.03.2026, 10:00, \"Служба поддержки Example Corporation\" <\nsupport@example.test>:"),
    ("it_gmail_wrapped_three_lines", "gmail", "it", "Grazie, ora funziona.",
     "Il giorno mar 3 mar 2026 alle ore 10:00\nExample Support Team of Example Corporation <\nsupport@example.test> ha scritto:"),
]
C2 += [
    ("de_gmail_name_schrieb_am_wrapped", "gmail", "de", "Danke, passt so.",
     "Example Support <support@example.test> schrieb am Di., 3.\nMärz 2026, 10:00:"),
]
for name, client, lang, text, attribution in C2:
    case(name, client, lang, 2, reply(text, attribution), text, exclude=ACK_EXCLUDE["en"], cte="quoted-printable")

case("en_outlook_dashes_before_attribution", "samsung", "en", 2,
     "Thanks, it prints again.\n\n------------------------------\nOn Tue, Mar 3, 2026 at 10:00 AM, Example Support <support@example.test> wrote:\n\n"
     + ACK_EN + "\n",
     "Thanks, it prints again.", exclude="We have opened the support")
case("en_owa_underscores_far_from_headers", "owa", "en", 2,
     "Hello,\n\nthe printer works again.\n\nAnn\n\n________________________________\n\n\n\n" + HEADER_BLOCK_EN + "\n\n" + ACK_EN + "\n",
     "Hello,\n\nthe printer works again.\n\nAnn", exclude="We have opened the support")
case("en_outlook_ios_dashes_header_block", "outlook", "en", 2,
     "Yes, please send the technician.\n\nGet Outlook for iOS\n------------------------------\n" + HEADER_BLOCK_EN + "\n\n" + ACK_EN + "\n",
     "Yes, please send the technician.", exclude="We have opened the support")
case("en_outlook_underscores_then_attribution", "outlook", "en", 2,
     "The log is attached.\n\n________________________________\nOn Tue, Mar 3, 2026 10:00 AM, Example Support wrote:\n\n" + ACK_EN + "\n",
     "The log is attached.", exclude="We have opened the support")

# ------------------------------------------------------------------ class 3: header blocks and separators

FR_HOTMAIL = """De : Example Support <support@example.test>
Envoyé le : mardi 3 mars 2026 10:00
À : Marie Dupont <marie@client.example>
Objet : [SR#100001] Imprimante en feu"""

case("fr_hotmail_envoye_le", "hotmail", "fr", 3,
     "Bonjour,\n\nle technicien est passé, tout fonctionne.\n\nMarie\n\n________________________________\n" + FR_HOTMAIL + "\n\n" + ACK_FR + "\n",
     "Bonjour,\n\nle technicien est passé, tout fonctionne.\n\nMarie", exclude="Nous avons ouvert la demande")
case("fr_hotmail_envoye_le_no_separator", "hotmail", "fr", 3,
     "Merci, c'est réglé.\n\n" + FR_HOTMAIL.replace(" :", "\u00a0:") + "\n\n" + ACK_FR + "\n",
     "Merci, c'est réglé.", exclude="Nous avons ouvert la demande")
case("fr_orange_message_du", "orange", "fr", 3,
     "Bonjour,\n\nl'imprimante fonctionne de nouveau.\n\nMarie\n\nMessage du : 03/03/2026 10:00\nDe : \"Example Support\" <support@example.test>\nA : marie@client.example\nObjet : [SR#100001] Imprimante en feu\n\n"
     + ACK_FR + "\n",
     "Bonjour,\n\nl'imprimante fonctionne de nouveau.\n\nMarie", exclude="Nous avons ouvert la demande")
case("fr_orange_message_du_quoted", "orange", "fr", 3,
     "C'est bon pour moi.\n\n> Message du 03/03/26 10:00\n> De : \"Example Support\" <support@example.test>\n> A : marie@client.example\n> Copie à :\n> Objet : [SR#100001] Imprimante en feu\n>\n"
     + quoted(ACK_FR) + "\n",
     "C'est bon pour moi.", exclude="Nous avons ouvert la demande")
case("en_android_reply_message", "samsung", "en", 3,
     "Sure, Thursday works.\n\n-----Reply Message-----\nFrom: Example Support <support@example.test>\nTo: Ann Berger <ann@customer.example>\nSubject: [SR#100001] Printer on fire\n\n" + ACK_EN + "\n",
     "Sure, Thursday works.", exclude="We have opened the support")
case("de_android_antwort_nachricht", "samsung", "de", 3,
     "Donnerstag passt.\n\n-----Antwort Nachricht-----\nVon: Example Support <support@example.test>\nAn: Anna Berger <anna@kunde.example>\nBetreff: [SR#100001] Drucker brennt\n\n" + ACK_DE + "\n",
     "Donnerstag passt.", exclude="Wir haben die")
case("en_samsung_original_message", "samsung", "en", 3,
     "Thanks!\n\n-------- Original message --------\nFrom: Example Support <support@example.test> \nDate: 03/03/2026 10:00 (GMT+01:00) \nTo: ann@customer.example \nSubject: [SR#100001] Printer on fire \n\n" + ACK_EN + "\n",
     "Thanks!", exclude="We have opened the support")
case("en_decorated_original_message_bold", "other", "en", 3,
     "Please close the request.\n\n*-------- Original Message --------*\n*Subject:* [SR#100001] Printer on fire\n*Date:* Tue, 3 Mar 2026 10:00:00 +0100\n*From:* Example Support <support@example.test>\n*To:* Ann Berger <ann@customer.example>\n\n"
     + ACK_EN + "\n",
     "Please close the request.", exclude="We have opened the support")
case("en_thunderbird_original_message_table", "thunderbird", "en", 3,
     "See the quoted mail below, I never got an answer.\n\n-------- Original Message --------\nSubject: \t[SR#100001] Printer on fire\nDate: \tTue, 3 Mar 2026 10:00:00 +0100\nFrom: \tExample Support <support@example.test>\nTo: \tAnn Berger <ann@customer.example>\n\n\n\n"
     + ACK_EN + "\n",
     "See the quoted mail below, I never got an answer.", exclude="We have opened the support")
case("da_samsung_oprindelig_besked", "samsung", "da", 3,
     "Tak, det virker nu.\n\n-------- Oprindelig besked --------\nFra: Example Support <support@example.test> \nDato: 03.03.2026 10.00 (GMT+01:00) \nTil: ann@customer.example \nEmne: [SR#100001] Printer on fire \n\n" + ACK_EN + "\n",
     "Tak, det virker nu.", exclude="We have opened the support")
case("nb_iphone_opprinnelig_melding", "iphone", "nb", 3,
     "Takk, det fungerer.\n\nSendt fra min iPhone\n\n-------- Opprinnelig melding --------\nFra: Example Support <support@example.test>\nDato: 3. mars 2026 kl. 10:00:00 CET\nTil: ann@customer.example\nEmne: [SR#100001] Printer on fire\n\n" + ACK_EN + "\n",
     "Takk, det fungerer.", exclude="We have opened the support")
case("da_outlook_oprindelig_meddelelse", "outlook", "da", 3,
     "Printeren virker igen.\n\n-----Oprindelig meddelelse-----\nFra: Example Support <support@example.test>\nSendt: 3. marts 2026 10:00\nTil: Ann Berger <ann@customer.example>\nEmne: [SR#100001] Printer on fire\n\n" + ACK_EN + "\n",
     "Printeren virker igen.", exclude="We have opened the support")
case("en_roundcube_date_first_block", "roundcube", "en", 3,
     "Confirmed, it works.\n\nDate: Tue, 3 Mar 2026 10:00:00 +0100\nFrom: Example Support <support@example.test>\nTo: ann@customer.example\nSubject: [SR#100001] Printer on fire\n\n" + ACK_EN + "\n",
     "Confirmed, it works.", exclude="We have opened the support")
case("de_gmx_gesendet_first", "gmx", "de", 3,
     "Hallo,\n\nder Drucker läuft wieder.\n\nGruß Anna\n\n\nGesendet: Dienstag, 03. März 2026 um 10:00 Uhr\nVon: \"Example Support\" <support@example.test>\nAn: anna@kunde.example\nBetreff: [SR#100001] Drucker brennt\n\n"
     + ACK_DE + "\n",
     "Hallo,\n\nder Drucker läuft wieder.\n\nGruß Anna", exclude="Wir haben die")
case("sv_outlook_ursprungligt_meddelande", "outlook", "sv", 3,
     "Skrivaren fungerar igen.\n\n-----Ursprungligt meddelande-----\nFrån: Example Support <support@example.test>\nSkickat: den 3 mars 2026 10:00\nTill: Ann Berger <ann@customer.example>\nÄmne: [SR#100001] Printer on fire\n\n" + ACK_EN + "\n",
     "Skrivaren fungerar igen.", exclude="We have opened the support")
case("cs_seznam_puvodni_email", "seznam", "cs", 3,
     "Dobrý den,\n\ntiskárna už funguje.\n\nAnna\n\n---------- Původní e-mail ----------\nOd: Example Support <support@example.test>\nKomu: anna@zakaznik.example\nDatum: 3. 3. 2026 10:00:00\nPředmět: [SR#100001] Printer on fire\n" + ACK_EN + "\n",
     "Dobrý den,\n\ntiskárna už funguje.\n\nAnna", exclude="We have opened the support")
case("ru_outlook_ishodnoe_soobshchenie", "outlook", "ru", 3,
     "Принтер работает.\n\n-----Исходное сообщение-----\nОт: Example Support <support@example.test>\nОтправлено: 3 марта 2026 г. 10:00\nКому: Анна <anna@klient.example>\nТема: [SR#100001] Printer on fire\n\n" + ACK_EN + "\n",
     "Принтер работает.", exclude="We have opened the support")
case("tr_outlook_ozgun_ileti", "outlook", "tr", 3,
     "Yazıcı çalışıyor.\n\n-----Özgün İleti-----\nKimden: Example Support <support@example.test>\nGönderildi: 3 Mart 2026 Salı 10:00\nKime: Ayşe <ayse@musteri.example>\nKonu: [SR#100001] Printer on fire\n\n" + ACK_EN + "\n",
     "Yazıcı çalışıyor.", exclude="We have opened the support")
case("ko_naver_original_message", "naver", "ko", 3,
     "확인했습니다. 감사합니다.\n\n-----Original Message-----\nFrom: \"Example Support\"<support@example.test>\nTo: \"김지은\"<jieun@customer.example>;\nCc:\nSent: 2026-03-03 (화) 10:00:00 (GMT+09:00)\nSubject: [SR#100001] Printer on fire\n\n" + ACK_EN + "\n",
     "확인했습니다. 감사합니다.", exclude="We have opened the support")
case("zh_qq_yuanshi_youjian", "qq", "zh", 3,
     "好的，谢谢。\n\n\n------------------ 原始邮件 ------------------\n发件人: \"Example Support\"<support@example.test>;\n发送时间: 2026年3月3日(星期二) 上午10:00\n收件人: \"王芳\"<wangfang@customer.example>;\n主题: [SR#100001] Printer on fire\n\n" + ACK_EN + "\n",
     "好的，谢谢。", exclude="We have opened the support")
case("zh_foxmail_header_block", "foxmail", "zh", 3,
     "收到，打印机已恢复。\n\n\nFrom: Example Support\nDate: 2026-03-03 10:00\nTo: wangfang\nSubject: [SR#100001] Printer on fire\n" + ACK_EN + "\n",
     "收到，打印机已恢复。", exclude="We have opened the support")

HR_HTML = """<html><body><div>Thanks, the printer is fine now.</div><div><br></div><div>Ann</div>
<hr>
<div><b>From:</b> Example Support &lt;support@example.test&gt;<br>
<b>Date:</b> Tuesday, March 3, 2026 at 10:00<br>
<b>To:</b> Ann Berger &lt;ann@customer.example&gt;<br>
<b>Subject:</b> [SR#100001] Printer on fire</div>
<div><br></div>
<div>Dear Ann,</div><div>thank you for contacting Example Support. We have opened the support request SR#100001.</div>
</body></html>"""
case("en_webmail_html_hr_from_date", "other", "en", 3, None, "Thanks, the printer is fine now.\n\nAnn",
     html_body=HR_HTML, html_only=True, exclude="We have opened the support")
HR_HTML_FR = """<html><body><p>Bonjour,</p><p>c'est réparé, merci.</p>
<hr size="1" tabindex="-1">
<p><b>Date&nbsp;:</b> mardi 3 mars 2026 10:00<br><b>De&nbsp;:</b> Example Support &lt;support@example.test&gt;<br><b>À&nbsp;:</b> marie@client.example<br><b>Objet&nbsp;:</b> [SR#100001] Imprimante en feu</p>
<p>Bonjour Marie,</p><p>merci d'avoir contacté le support Example. Nous avons ouvert la demande SR#100001.</p>
</body></html>"""
case("fr_webmail_html_hr_date_first", "other", "fr", 3, None, "Bonjour,\nc'est réparé, merci.",
     html_body=HR_HTML_FR, html_only=True, exclude="Nous avons ouvert la demande")

case("fr_zimbra_dash_le_a_ecrit", "zimbra", "fr", 1,
     "Bonjour,\n\nc'est bon pour nous.\n\nMarie\n\n- Le 2026-03-03 10:00, Example Support a écrit :\n" + quoted(ACK_FR) + "\n",
     "Bonjour,\n\nc'est bon pour nous.\n\nMarie", exclude="Nous avons ouvert la demande")
case("fr_yahoo_indented_header_block", "yahoo", "fr", 3,
     "bonjour,\nje n'ai pas eu de retour sur ma question..\nmerci d'avance\n\n      De : Example Support <support@example.test>\n À : Marie Dupont <marie@client.example>\n Envoyé le : Mardi 3 mars 2026 10h00\n Objet : [SR#100001] Imprimante en feu\n\n" + ACK_FR + "\n",
     "bonjour,\nje n'ai pas eu de retour sur ma question..\nmerci d'avance", exclude="Nous avons ouvert la demande")
case("en_windows_mail_header_block", "windowsmail", "en", 3,
     "Great, thanks, I will test it now.\nAnn\n\nSent from Mail for Windows\n\nFrom: Example Support\nSent: March 3, 2026 10:00 AM\nTo: ann@customer.example\nSubject: [SR#100001] Printer on fire\n\n" + ACK_EN + "\n",
     "Great, thanks, I will test it now.\nAnn", exclude="We have opened the support")

# HTML-only replies of webmails whose structure has no class srgate knows: the text rules cut.
ACK_EN_HTML = "<div>Dear Ann,</div><div><br></div><div>thank you for contacting Example Support. We have opened the support request SR#100001.</div>"
case("en_zoho_html_only", "zoho", "en", 1, None, "Hello,\nthe printer works again.",
     html_body="<html><body><div style=\"font-family: Verdana\"><div>Hello,</div><div>the printer works again.</div>"
     "<div class=\"zmail_extra_hr\" style=\"border-top: 1px solid rgb(204, 204, 204)\"></div><div class=\"zmail_extra\">"
     "<div><br></div><div id=\"1\"><div>---- On Tue, 03 Mar 2026 10:00:00 +0100 <b>Example Support &lt;support@example.test&gt;</b> wrote ---</div></div>"
     "<div><br></div><div>" + ACK_EN_HTML + "</div></div></div></body></html>",
     html_only=True, exclude="We have opened the support")
case("ru_mailru_html_only", "mailru", "ru", 1, None, "Спасибо, всё работает.",
     html_body="<html><body><div>Спасибо, всё работает.</div><div><br></div>"
     "<div>Вторник, 3 марта 2026, 10:00 +03:00 от Example Support &lt;<a href=\"mailto:support@example.test\">support@example.test</a>&gt;:<br></div>"
     "<div><div id=\"mail-app-auto-default\"><div>" + ACK_EN_HTML + "</div></div></div></body></html>",
     html_only=True, exclude="We have opened the support")
case("zh_qq_html_only", "qq", "zh", 3, None, "好的，明天下午可以。",
     html_body="<html><body><div>好的，明天下午可以。</div><div><br></div>"
     "<div style=\"font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;\">------------------&nbsp;原始邮件&nbsp;------------------</div>"
     "<div style=\"font-size: 12px;background:#efefef;padding:8px;\"><div><b>发件人:</b>&nbsp;\"Example Support\"&lt;support@example.test&gt;;</div>"
     "<div><b>发送时间:</b>&nbsp;2026年3月3日(星期二) 上午10:00</div><div><b>收件人:</b>&nbsp;\"王芳\"&lt;wangfang@customer.example&gt;;</div>"
     "<div><b>主题:</b>&nbsp;[SR#100001] Printer on fire</div></div><div><br></div>" + ACK_EN_HTML + "</body></html>",
     html_only=True, exclude="We have opened the support")
case("en_yahoo_html_only", "yahoo", "en", 1, None, "Thanks, all fine now.",
     html_body="<html><body><div class=\"ydp1a2b3c4dyahoo-style-wrap\"><div>Thanks, all fine now.</div></div>"
     "<div id=\"ydp5e6f7a8byahoo_quoted_1234\" class=\"ydp5e6f7a8byahoo_quoted\"><div>On Tuesday, March 3, 2026, 10:00:00 AM GMT+1, Example Support &lt;support@example.test&gt; wrote:</div>"
     "<div><br></div>" + ACK_EN_HTML + "</div></body></html>",
     html_only=True, exclude="We have opened the support")

# ------------------------------------------------------------------ class 4: quoted lines without `>`

case("en_thunderbird_wrapped_quote_line", "thunderbird", "en", 4,
     "Thanks, I will try that tomorrow.\n\nOn 03/03/2026 10:00, Example Support wrote:\n> Dear Ann, thank you for contacting Example Support. We have opened the support\nrequest SR#100001 for your message.\n>\n> Kind regards\n> Example Support\n",
     "Thanks, I will try that tomorrow.", exclude="request SR#100001 for your message")
case("en_mutt_inline_wrapped_question", "mutt", "en", 4,
     "On Tue, Mar 03, 2026 at 10:00:00AM +0100, Example Support wrote:\n> Could you tell us the model of the printer and the firmware version shown on the\ndisplay?\n\nIt is a LaserJet 4000, firmware 20260101.\n\n> Kind regards\n> Example Support\n",
     "It is a LaserJet 4000, firmware 20260101.", exclude="display?")
case("en_gmail_broken_link_in_quote", "gmail", "en", 4,
     "Done, the log is uploaded.\n\nOn Tue, Mar 3, 2026 at 10:00 AM Example Support <support@example.test> wrote:\n\n> Please upload the log to https://files.example.test/upload/sr100001/a1b2c3d4e5f6/\nindex.html?token=7f3a9c\n>\n> Kind regards\n> Example Support\n",
     "Done, the log is uploaded.", exclude="token=7f3a9c")
case("en_inline_wrapped_middle_of_quote", "thunderbird", "en", 4,
     "See my answers below.\n\nOn 03/03/2026 10:00, Example Support wrote:\n> We need the serial number of the printer, which you find on the label at the\nback of the device, and the\n> firmware version.\n\nSerial CN12345678, firmware 20260101.\n\n> Kind regards\n",
     "See my answers below.\n\nSerial CN12345678, firmware 20260101.", exclude="back of the device")
case("de_thunderbird_broken_link_in_quote", "thunderbird", "de", 4,
     "Danke, hat geklappt.\n\nAm 03.03.2026 um 10:00 schrieb Example Support:\n> Die Anleitung finden Sie unter https://docs.example.test/drucker/anleitungen/fixiereinheit-\ntausch.html\n>\n> Mit freundlichen Grüßen\n",
     "Danke, hat geklappt.", exclude="tausch.html")
case("en_gnus_supercite_prefix", "gnus", "en", 4,
     ">>>>> \"ES\" == Example Support <support@example.test> writes:\n\nES> Which printer model is it?\n\nIt is the LaserJet 4000.\n\nES> Kind regards\nES> Example Support\n",
     "It is the LaserJet 4000.", exclude="Which printer model")
case("de_supercite_initials", "other", "de", 4,
     "Hallo,\n\nanbei die Antworten.\n\nES> Welches Modell ist es?\n\nEin LaserJet 4000.\n\nES> Seit wann tritt der Fehler auf?\n\nSeit Montag.\n",
     "Hallo,\n\nanbei die Antworten.\n\nEin LaserJet 4000.\n\nSeit Montag.", exclude="Welches Modell")
case("en_inline_answer_after_long_quote_kept", "mutt", "en", 4,
     "On Tue, Mar 03, 2026 at 10:00:00AM +0100, Example Support wrote:\n> Could you please send us the serial number of the printer and its firmware version\nSure: CN12345678, firmware 20260101.\n> Kind regards\n",
     "Sure: CN12345678, firmware 20260101.", exclude="Kind regards")

# ------------------------------------------------------------------ class 5: the writer's words

case("en_word_before_on_wrote", "gmail", "en", 5,
     "Thanks! On Tue, Mar 3, 2026 at 10:00 AM Example Support <support@example.test> wrote:\n\n" + quoted(ACK_EN) + "\n",
     "Thanks!", exclude="We have opened the support", cte="quoted-printable")
case("de_word_before_am_schrieb", "gmail", "de", 5,
     "Erledigt. Am Di., 3. März 2026 um 10:00 Uhr schrieb Example Support <support@example.test>:\n\n" + quoted(ACK_DE) + "\n",
     "Erledigt.", exclude="Wir haben die", cte="quoted-printable")
case("fr_word_before_le_a_ecrit", "apple", "fr", 5,
     "Parfait, merci. Le 3 mars 2026 à 10:00, Example Support <support@example.test> a écrit :\n\n" + quoted(ACK_FR) + "\n",
     "Parfait, merci.", exclude="Nous avons ouvert la demande")
case("en_arrow_content_lines", "thunderbird", "en", 5,
     "Steps I took:\n>>> opened the tray <<<\n<<< closed it again >>>\n>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>\nThe error stays.\n\nOn 03/03/2026 10:00, Example Support wrote:\n" + quoted(ACK_EN) + "\n",
     "Steps I took:\n>>> opened the tray <<<\n<<< closed it again >>>\n>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>\nThe error stays.", exclude="We have opened the support")
case("en_arrow_heading_line", "outlook", "en", 5,
     ">>> URGENT <<<\nThe printer is smoking again.\n\n" + HEADER_BLOCK_EN + "\n\n" + ACK_EN + "\n",
     ">>> URGENT <<<\nThe printer is smoking again.", exclude="We have opened the support")
case("en_flowed_quote_then_answer", "thunderbird", "en", 5,
     "On 03/03/2026 10:00, Example Support wrote:\n> Which model is it? \nThe LaserJet 4000.\n\n> Since when does the error \n> show? \nSince Monday.\n",
     "The LaserJet 4000.\n\nSince Monday.", exclude="Which model", flowed=True)
case("de_flowed_answer_then_quote", "thunderbird", "de", 5,
     "Hallo, \nhier die Antwort: ein LaserJet \n> Welches Modell ist es? \n> Bitte angeben.\n",
     "Hallo, hier die Antwort: ein LaserJet", exclude="Welches Modell", flowed=True)

# ------------------------------------------------------------------ class 6: mailing-list footers

MAILMAN2 = "_______________________________________________\nprinter-users mailing list\nprinter-users@lists.example.org\nhttps://lists.example.org/mailman/listinfo/printer-users\n"
MAILMAN3 = "_______________________________________________\nprinter-users mailing list -- printer-users@lists.example.org\nTo unsubscribe send an email to printer-users-leave@lists.example.org\n"
MAILMAN_DE = "_______________________________________________\nDrucker-Nutzer Mailingliste\nDrucker-Nutzer@lists.example.org\nhttps://lists.example.org/mailman/listinfo/drucker-nutzer\n"

case("en_mailman2_footer", "mailman", "en", 6,
     "Hi,\n\nthe driver update fixed it here too.\n\nAnn\n\n" + MAILMAN2,
     "Hi,\n\nthe driver update fixed it here too.\n\nAnn", exclude="listinfo")
case("en_mailman3_footer", "mailman", "en", 6,
     "Same here: firmware 20260101 fixes the jam.\n" + MAILMAN3,
     "Same here: firmware 20260101 fixes the jam.", exclude="To unsubscribe")
case("de_mailman_footer", "mailman", "de", 6,
     "Bei uns hilft der neue Treiber auch.\n\nAnna\n\n" + MAILMAN_DE,
     "Bei uns hilft der neue Treiber auch.\n\nAnna", exclude="Mailingliste")
case("en_mailman_footer_after_quote", "mailman", "en", 6,
     "Works for me too.\n\nOn Tue, Mar 3, 2026 at 10:00 AM Example Support <support@example.test> wrote:\n" + quoted(ACK_EN) + "\n" + quoted(MAILMAN2.rstrip("\n")) + "\n" + MAILMAN2,
     "Works for me too.", exclude="listinfo")
case("en_mailman_footer_inline_reply", "mailman", "en", 6,
     "> Which driver version do you run?\n\n3.2.1 on all machines.\n\n" + MAILMAN2,
     "3.2.1 on all machines.", exclude="listinfo")

# ------------------------------------------------------------------ the writer's words kept (added after review)

case("en_inline_lower_case_answers_kept", "mutt", "en", 4,
     "On Tue, Mar 03, 2026 at 10:00:00AM +0100, Example Support wrote:\n> Could you please send us the log file from the printer and its firmware version\nsure, attached\n\n> Which model is it\nthe LaserJet 4000\n\n> Kind regards\n",
     "sure, attached\n\nthe LaserJet 4000", exclude="Kind regards")
case("en_prose_wrote_line_kept", "thunderbird", "en", 1,
     "Hi,\n\nOn startup the installer wrote:\nERROR: disk full on /var\n\nWhat should I do?\nJane\n\nOn 03/03/2026 10:00, Example Support wrote:\n" + quoted(ACK_EN) + "\n",
     "Hi,\n\nOn startup the installer wrote:\nERROR: disk full on /var\n\nWhat should I do?\nJane", exclude="We have opened the support")
case("fr_prose_a_ecrit_line_kept", "thunderbird", "fr", 1,
     "Bonjour,\n\nLe serveur a écrit :\nERREUR 500 base indisponible\n\nQue faire ?\nMarie\n\nLe 03/03/2026 à 10:00, Example Support a écrit :\n" + quoted(ACK_FR) + "\n",
     "Bonjour,\n\nLe serveur a écrit :\nERREUR 500 base indisponible\n\nQue faire ?\nMarie", exclude="Nous avons ouvert la demande")

# ------------------------------------------------------------------ writing


# The rule `mail inspect --json` names in `quote_cut`: by class, except where another rule cuts first.
DEFAULT_CUT = {1: "attribution", 2: "attribution", 3: "separator", 4: "attribution", 5: "attribution", 6: "list_footer"}
CUT_BY = {
    "en_windows_mail_header_block": "signature",
    "fr_yahoo_indented_header_block": "header_block",
    "de_flowed_answer_then_quote": "quote_prefix",
    "de_gmx_gesendet_first": "header_block",
    "de_supercite_initials": "quote_prefix",
    "en_arrow_heading_line": "header_block",
    "en_gnus_supercite_prefix": "quote_prefix",
    "en_mailman_footer_after_quote": "attribution",
    "en_mailman_footer_inline_reply": "quote_prefix",
    "en_outlook_ios_dashes_header_block": "signature",
    "en_owa_underscores_far_from_headers": "separator",
    "en_roundcube_date_first_block": "header_block",
    "en_webmail_html_hr_from_date": "header_block",
    "fr_hotmail_envoye_le_no_separator": "header_block",
    "fr_orange_message_du": "header_block",
    "fr_orange_message_du_quoted": "quote_prefix",
    "fr_webmail_html_hr_date_first": "header_block",
    "nb_iphone_opprinnelig_melding": "signature",
    "zh_foxmail_header_block": "header_block",
}


def plain_part(c, body):
    params = "text/plain; charset=\"UTF-8\""
    if c["flowed"]:
        params += "; format=flowed"
    if c["cte"] == "quoted-printable":
        enc = quopri.encodestring(body.encode("utf-8")).decode("ascii")
    elif c["cte"] == "base64":
        raw = base64.b64encode(body.encode("utf-8")).decode("ascii")
        enc = "\n".join(raw[i:i + 76] for i in range(0, len(raw), 76)) + "\n"
    else:
        enc = body
    return f"Content-Type: {params}\nContent-Transfer-Encoding: {c['cte']}\n\n{enc}"


def html_of(text):
    lines = [html.escape(line) or "<br>" for line in text.split("\n")]
    return "<div dir=\"ltr\">" + "".join(f"<div>{line}</div>\n" for line in lines) + "</div>\n"


def render(c, n):
    client = c["client"]
    host = {"gmail": "mail.gmail.example", "outlook": "outlook.example", "owa": "outlook.example",
            "hotmail": "hotmail.example"}.get(client, f"{client}.example")
    headers = [
        f"Return-Path: <ann@customer.example>",
        f"Received: from mail.customer.example (mail.customer.example [198.51.100.{40 + n % 200}])\n\tby mx.example.test (Postfix) with ESMTPS id 4R{n:04d}AB12\n\tfor <support@example.test>; Wed, 4 Mar 2026 09:{n % 60:02d}:00 +0100 (CET)",
        f"From: Ann Berger <ann@customer.example>",
        f"To: Example Support <support@example.test>",
        f"Subject: {c['subject'] or SUBJECT.get(c['lang'], 'Re: [SR#100001] Printer on fire')}",
        f"Date: Wed, 4 Mar 2026 09:{n % 60:02d}:00 +0100",
        f"Message-ID: <r{n:04d}.{c['name'].replace('_', '-')}@{host}>",
        "In-Reply-To: <sr100001.1.abc123def456@example.test>",
        "References: <sr100001.1.abc123def456@example.test>",
        "MIME-Version: 1.0",
    ] + CLIENT_HEADERS[client] + c["headers"]
    if c["html_only"]:
        headers.append("Content-Type: text/html; charset=\"UTF-8\"\nContent-Transfer-Encoding: 8bit")
        return "\n".join(headers) + "\n\n" + c["html_body"]
    if client in ("gmail", "outlook", "owa", "hotmail", "apple", "yahoo", "zoho", "qq", "naver"):
        boundary = f"000000000000{n:04d}b5e1f0a6"
        html_body = c["html_body"] or html_of(c["body"])
        headers.append(f"Content-Type: multipart/alternative; boundary=\"{boundary}\"")
        return ("\n".join(headers) + "\n\n" + f"--{boundary}\n" + plain_part(c, c["body"]) + f"\n--{boundary}\n"
                + "Content-Type: text/html; charset=\"UTF-8\"\nContent-Transfer-Encoding: 8bit\n\n" + html_body
                + f"\n--{boundary}--\n")
    return "\n".join(headers) + "\n" + plain_part(c, c["body"])


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".eml") or old.endswith(".expected.json"):
            os.remove(os.path.join(OUT, old))
    names = set()
    for n, c in enumerate(CASES, start=1):
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        mail = render(c, n).replace("\r\n", "\n").replace("\n", "\r\n")
        assert len(mail) < 300_000
        with open(os.path.join(OUT, c["name"] + ".eml"), "w", encoding="utf-8", newline="") as f:
            f.write(mail)
        expected = {"class": "human", "token": 100001, "new_text": c["expect"]}
        if c["exclude"]:
            expected["new_text_excludes"] = [c["exclude"]]
        expected["quote_cut"] = CUT_BY.get(c["name"], DEFAULT_CUT[c["klass"]])
        expected["client"] = CLIENT_FIELD.get(c["client"], c["client"])
        expected["mail_client"] = c["client"]
        expected["language"] = c["lang"]
        expected["case"] = c["klass"]
        if c["client"] == "mailman":
            del expected["class"]
        with open(os.path.join(OUT, c["name"] + ".expected.json"), "w", encoding="utf-8", newline="\n") as f:
            f.write(json.dumps(expected, ensure_ascii=False, indent=2) + "\n")
    print(f"{len(CASES)} mails in {OUT}")


if __name__ == "__main__":
    main()
