"""Corpus machine/: classes 10 and 11, reports and auto-replies (see make_machine.py)."""

from make_machine import (ACK, CUST, DS, OURS, PLAIN, RCPT_HEADERS, RFC822, SUBJ, SUPPORT, dsn, mail, mixed, original, report, trace)  # noqa: F401

import base64  # noqa: F401

# ---------------------------------------------------------------- class 10: abuse and authentication reports


def arf(head, text, fields, reported, boundary, report_type="feedback-report"):
    return report(head, [
        ("Content-Type: text/plain; charset=\"US-ASCII\"\nContent-Transfer-Encoding: 7bit", text),
        ("Content-Type: message/feedback-report", fields),
        (RFC822 + "\nContent-Disposition: inline", reported),
    ], boundary, report_type=report_type)


mail("c10_yahoo_arf_abuse", 10, "yahoo", "report", arf(
    trace(host="feedback.arf.mail.yahoo.example", ip="192.0.2.33", sender="<feedback@arf.mail.yahoo.example>") + """From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.example>
To: support@example.test
Subject: FW: [SR#100001] Printer on fire
Message-ID: <1772528406.123456.ybfl@arf.mail.yahoo.example>
Date: 3 Mar 2026 09:00:06 -0000
""", "This is an email abuse report for an email message received from IP 192.0.2.10 on Tue, 03 Mar 2026 09:00:01 +0000.\nFor more information about this format please see http://www.mipassoc.org/arf/.\n",
    """Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 0.1
Original-Mail-From: <support@example.test>
Original-Rcpt-To: <jane.doe@yahoo.example>
Received-Date: Tue, 03 Mar 2026 09:00:01 +0000
Reported-Domain: example.test
Authentication-Results: mta1015.mail.ne1.yahoo.example  from=example.test; domainkeys=neutral (no sig);  from=example.test; dkim=pass (ok)
""", original(mid=ACK), "----=_Part_1772528406_ybfl"),
    bounce_of=[ACK], signals=["report:report-type=feedback-report", "report:feedback-type=abuse"])

mail("c10_hotmail_jmrp_arf", 10, "hotmail", "report", arf(
    trace(host="BAY004-MC1F12.hotmail.example", ip="192.0.2.34", sender="<staff@hotmail.example>") + """From: staff@hotmail.example
To: support@example.test
Subject: complaint about message from 192.0.2.10
Message-ID: <BAY004-MC1F12a1b2c3d4e5f6@phx.gbl>
Date: Tue, 3 Mar 2026 01:00:06 -0800
X-HmXmrOriginalRecipient: <jane.doe@hotmail.example>
""", "This is an email abuse report for an email message received from IP 192.0.2.10 on Tue, 3 Mar 2026 01:00:01 -0800.\n",
    """Feedback-Type: abuse
User-Agent: Hotmail FBL
Version: 1
Original-Mail-From: <support@example.test>
Original-Rcpt-To: <jane.doe@hotmail.example>
Received-Date: Tue, 3 Mar 2026 01:00:01 -0800
Source-IP: 192.0.2.10
""", original(mid=ACK).replace(CUST, "jane.doe@hotmail.example"), "_a1b2c3d4-e5f6-jmrp_"),
    bounce_of=[ACK], signals=["report:feedback-type=abuse"], token=None)

mail("c10_arf_without_report_type", 10, "other", "report", arf(
    trace(host="fbl.isp.example", ip="198.51.100.150", sender="<fbl@isp.example>") + """From: ISP Feedback Loop <fbl@isp.example>
To: support@example.test
Subject: Email Feedback Report for IP 192.0.2.10
Message-ID: <fbl.20260303.000123@isp.example>
Date: Tue, 3 Mar 2026 10:00:06 +0100
""", "A user of isp.example marked the attached message as spam.\n",
    """Feedback-Type: abuse
User-Agent: ISP-FBL/1.4
Version: 1
Source-IP: 192.0.2.10
Original-Rcpt-To: <jane.doe@isp.example>
Arrival-Date: Tue, 3 Mar 2026 10:00:01 +0100
""", original(mid=ACK), "fbl-000123", report_type=None),
    bounce_of=[ACK], signals=["report:feedback-type=abuse"], token=None)

mail("c10_dmarc_forensic_auth_failure", 10, "other", "report", arf(
    trace(host="dmarc.receiver.example", ip="198.51.100.160", sender="<dmarc-failures@receiver.example>") + """From: DMARC Failure Reports <dmarc-failures@receiver.example>
To: support@example.test
Subject: FW: [SR#100001] Printer on fire
Message-ID: <ruf.1772528406.77@receiver.example>
Date: Tue, 3 Mar 2026 10:00:06 +0100
""", "This is an authentication failure report for an email message received from IP 203.0.113.66 on Tue, 3 Mar 2026 10:00:01 +0100.\n",
    """Feedback-Type: auth-failure
User-Agent: receiver-dmarc/2.1
Version: 1
Original-Envelope-Id: 4A2B3C4D5E
Original-Mail-From: <bounce@attacker.example>
Arrival-Date: Tue, 3 Mar 2026 10:00:01 +0100
Source-IP: 203.0.113.66
Reported-Domain: example.test
Authentication-Results: dmarc.receiver.example; dmarc=fail (p=reject) header.from=example.test; spf=fail smtp.mailfrom=attacker.example; dkim=none
Auth-Failure: dmarc
Delivery-Result: reject
Identity-Alignment: none
""", original(mid="spoof.1@attacker.example", body=False), "ruf-77"),
    bounce_of=["spoof.1@attacker.example"], signals=["report:feedback-type=auth-failure"])


def b64(data):
    enc = base64.b64encode(data).decode()
    return "\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))


ZIP = bytes.fromhex("504b0304140000000800") + b"\x00" * 20  # a zip header: the content is never read
GZ = bytes.fromhex("1f8b0800000000000003") + b"\x00" * 20

mail("c10_dmarc_aggregate_google_zip", 10, "google", "report", mixed(
    trace(host="mail-yw1-f201.google.example", ip="192.0.2.201", sender="<noreply-dmarc-support@google.example>") + """Date: Tue, 03 Mar 2026 15:59:59 -0800
From: noreply-dmarc-support@google.example
To: support@example.test
Subject: Report domain: example.test Submitter: google.com Report-ID: 12345678901234567890
Message-ID: <12345678901234567890@google.com>
""", [
        ("Content-Type: text/plain; charset=\"UTF-8\"; format=flowed; delsp=yes\nContent-Transfer-Encoding: base64", b64(b"This is an aggregate report from google.com.\n")),
        ("Content-Type: application/zip; \n\tname=\"google.com!example.test!1772496000!1772582399.zip\"\nContent-Disposition: attachment; \n\tfilename=\"google.com!example.test!1772496000!1772582399.zip\"\nContent-Transfer-Encoding: base64", b64(ZIP)),
    ], "000000000000aa11bb22cc33dd44"),
    signals=["report:dmarc-aggregate-file"])

mail("c10_dmarc_aggregate_microsoft_gzip", 10, "microsoft", "report", mixed(
    trace(host="NAM12-DM6-obe.outbound.protection.outlook.example", ip="192.0.2.202", sender="<dmarcreport@microsoft.example>") + """From: DMARC Aggregate Report <dmarcreport@microsoft.example>
To: <support@example.test>
Subject: Report Domain: example.test Submitter: enterprise.protection.outlook.com Report-ID: <4f3e2d1c0b0a49f8a7b6c5d4e3f2a1b0>
Date: Wed, 4 Mar 2026 05:12:40 +0000
Message-ID: <4f3e2d1c0b0a49f8a7b6c5d4e3f2a1b0@example.test>
""", [
        ("Content-Type: text/plain; charset=\"us-ascii\"", "This is a DMARC aggregate report from Microsoft Corporation. For Emails received between 2026-03-03 00:00:00 UTC to 2026-03-04 00:00:00 UTC.\n"),
        ("Content-Type: application/gzip\nContent-Disposition: attachment;\n\tfilename=\"enterprise.protection.outlook.com!example.test!1772496000!1772582400.xml.gz\"\nContent-Transfer-Encoding: base64", b64(GZ)),
    ], "_000_4f3e2d1c0b0a49f8a7b6c5d4e3f2a1b0_"),
    signals=["report:dmarc-aggregate-file"])

mail("c10_dmarc_aggregate_subject_and_zip", 10, "yahoo", "report", mixed(
    trace(host="dmarc.yahoo.example", ip="192.0.2.35", sender="<dmarchelp@yahooinc.example>") + """From: Yahoo DMARC <dmarchelp@yahooinc.example>
To: support@example.test
Subject: Report Domain: example.test Submitter: yahoo.com Report-ID: <1772582400.123456>
Date: Wed, 4 Mar 2026 00:10:00 +0000
Message-ID: <1772582400.123456.dmarc@yahooinc.example>
""", [
        ("Content-Type: application/zip\nContent-Disposition: attachment; filename=\"yahoo_dmarc_report_2026-03-03.zip\"\nContent-Transfer-Encoding: base64", b64(ZIP)),
    ], "dmarc-yahoo-1772582400"),
    signals=["report:subject"])

mail("c10_tls_report_google", 10, "google", "report", report(
    trace(host="mail-yw1-f202.google.example", ip="192.0.2.202", sender="<noreply-smtp-tls-reporting@google.example>") + """Date: Tue, 03 Mar 2026 16:59:59 -0800
From: noreply-smtp-tls-reporting@google.example
To: support@example.test
Subject: Report Domain: example.test Submitter: google.com Report-ID: <2026.03.03T00.00.00Z+example.test@google.com>
TLS-Report-Domain: example.test
TLS-Report-Submitter: google.com
Message-ID: <00000000000067ab89061234cd01@google.com>
""", [
        ("Content-Type: text/plain; charset=\"UTF-8\"", "This is an aggregate TLS report from google.com\n"),
        ("Content-Type: application/tlsrpt+gzip; \n\tname=\"google.com!example.test!1772496000!1772582399!001.json.gz\"\nContent-Disposition: attachment; \n\tfilename=\"google.com!example.test!1772496000!1772582399!001.json.gz\"\nContent-Transfer-Encoding: base64", b64(GZ)),
    ], "00000000000067ab89061234cd01", report_type="tlsrpt"),
    signals=["report:report-type=tlsrpt"])

mail("c10_human_asks_about_dmarc_report", 10, "outlook", "human", mixed(
    trace(host="mail.customer.example", ip="198.51.100.25", sender="<jane.doe@customer.example>") + f"""From: Jane Doe <{CUST}>
To: support@example.test
Subject: DMARC report for example.test shows failures
Date: Wed, 4 Mar 2026 09:00:00 +0100
Message-ID: <DB9PR03MB7777.human.3@customer.example>
X-Auto-Response-Suppress: All
""", [
        ("Content-Type: text/plain; charset=\"us-ascii\"", "Hello,\n\nour DMARC aggregate report (attached) shows your mails failing SPF. Can you check?\n\nJane\n"),
        ("Content-Type: text/xml; name=\"report.xml\"\nContent-Disposition: attachment; filename=\"report.xml\"", "<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>customer.example</org_name></report_metadata></feedback>\n"),
    ], "_004_DB9PR03MB7777human3_"),
    token=None)

# ---------------------------------------------------------------- class 11: auto-replies, and people whose Outlook looks like one


def exchange_reply(subject, body, headers, mid, lang="en-US", sender=CUST, name="Jane Doe", charset="utf-8"):
    return trace(host="EUR03-AM5-obe.outbound.protection.outlook.example", ip="192.0.2.121", sender=f"<{sender}>") + f"""From: {name} <{sender}>
To: Example Support <{SUPPORT}>
Subject: {subject}
Thread-Topic: {SUBJ}
Thread-Index: AQHaBcDeFgHiJkLmNoPqRsTuVwXyZbCdEfGh
Date: Tue, 3 Mar 2026 09:10:00 +0000
Message-ID: <{mid}>
References: <{ACK}>
In-Reply-To: <{ACK}>
Accept-Language: {lang}, en-US
Content-Language: {lang}
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
{headers}MIME-Version: 1.0
Content-Type: text/plain; charset="{charset}"
Content-Transfer-Encoding: 8bit

{body}"""


def enc(s):
    return "=?utf-8?B?" + base64.b64encode(s.encode()).decode() + "?="


OOF_RULES = "X-MS-Exchange-Inbox-Rules-Loop: jane.doe@customer.example\nX-Auto-Response-Suppress: All\n"

mail("c11_exchange_oof_sv_subject_only", 11, "exchange", "auto_reply", exchange_reply(
    f"Automatiskt svar: {SUBJ}", "Jag är på semester till och med 15 mars och har begränsad tillgång till e-post.\n",
    OOF_RULES + "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n", "oof.sv.1@customer.example", lang="sv-SE"),
    signals=["subject:automatiskt svar"])

mail("c11_exchange_oof_nl", 11, "exchange", "auto_reply", exchange_reply(
    f"Automatisch antwoord: {SUBJ}", "Ik ben afwezig tot en met 15 maart.\n",
    "Auto-Submitted: auto-generated\n" + OOF_RULES, "oof.nl.1@customer.example", lang="nl-NL"),
    signals=["auto_submitted:auto-generated"])

mail("c11_exchange_oof_pl_encoded", 11, "exchange", "auto_reply", exchange_reply(
    enc(f"Odpowiedź automatyczna: {SUBJ}"), "Jestem poza biurem do 15 marca.\n",
    OOF_RULES, "oof.pl.1@customer.example", lang="pl-PL"),
    signals=["subject:odpowiedź automatyczna"], token="auto")

mail("c11_exchange_oof_ru_encoded", 11, "exchange", "auto_reply", exchange_reply(
    enc(f"Автоматический ответ: {SUBJ}"), "Я в отпуске до 15 марта.\n",
    OOF_RULES, "oof.ru.1@customer.example", lang="ru-RU"),
    signals=["subject:автоматический ответ"])

mail("c11_exchange_oof_ja_encoded", 11, "exchange", "auto_reply", exchange_reply(
    enc(f"自動応答: {SUBJ}"), "3月15日まで不在にしております。\n",
    "Auto-Submitted: auto-replied\n" + OOF_RULES, "oof.ja.1@customer.example", lang="ja-JP"),
    signals=["auto_submitted:auto-replied"])

mail("c11_exchange2003_out_of_office_autoreply", 11, "exchange", "auto_reply", exchange_reply(
    f"Out of Office AutoReply: {SUBJ}", "I am out of the office until March 15.\n",
    "X-Auto-Response-Suppress: All\n", "oof.2003.1@customer.example"),
    signals=["subject:out of office autoreply"])

mail("c11_dovecot_sieve_vacation", 11, "dovecot", "auto_reply", trace(host="imap.customer.example", ip="198.51.100.170", sender="<>") + f"""Message-ID: <dovecot-sieve-1772528999-4711-0@imap.customer.example>
Date: Tue, 03 Mar 2026 10:10:00 +0100
X-Sieve: Pigeonhole Sieve 0.5.21
Precedence: bulk
From: Jane Doe <{CUST}>
To: <{SUPPORT}>
Subject: Auto: {SUBJ}
In-Reply-To: <{ACK}>
References: <{ACK}>
Auto-Submitted: auto-replied (vacation)
X-Sieve-Redirected-From: jane.doe@customer.example
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

I am on holiday until March 15.
""", signals=["auto_submitted:auto-replied (vacation)"])

mail("c11_zimbra_out_of_office", 11, "zimbra", "auto_reply", trace(host="zimbra.customer.example", ip="198.51.100.130", sender="<jane.doe@customer.example>") + f"""Date: Tue, 3 Mar 2026 10:10:00 +0100 (CET)
From: Jane Doe <{CUST}>
To: support@example.test
Message-ID: <2011234567.123.1772529000000.JavaMail.zimbra@customer.example>
In-Reply-To: <{ACK}>
Subject: Re: {SUBJ}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit
Auto-Submitted: auto-replied (zimbra; vacation)
Precedence: bulk
X-Mailer: Zimbra 10.0.8_GA_4611 (zclient/10.0.8_GA_4611)

I am out of the office until March 15. For urgent matters call the front desk.
""", signals=["auto_submitted:auto-replied (zimbra; vacation)"])

HUMAN_TEXT = "Hello,\n\nthe printer is still on fire after the firmware update. What next?\n\nJane\n\n"

mail("c11_outlook_human_with_auto_response_suppress", 11, "outlook", "human", exchange_reply(
    f"RE: {SUBJ}", HUMAN_TEXT, "X-Auto-Response-Suppress: All\n", "DB9PR03MB7777.human.11@customer.example"))

mail("c11_exchange_human_with_inbox_rules_loop", 11, "exchange", "human", exchange_reply(
    f"RE: {SUBJ}", HUMAN_TEXT, "X-MS-Exchange-Inbox-Rules-Loop: printers@customer.example\n", "DB9PR03MB7777.human.12@customer.example"))

mail("c11_exchange_human_with_all_rule_headers", 11, "exchange", "human", exchange_reply(
    f"RE: {SUBJ}", HUMAN_TEXT,
    "X-MS-Exchange-Inbox-Rules-Loop: printers@customer.example\nX-Auto-Response-Suppress: DR, OOF, AutoReply\nX-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n",
    "DB9PR03MB7777.human.13@customer.example"))

mail("c11_outlook_human_subject_about_autoreply", 11, "outlook", "human", exchange_reply(
    "Auto-reply rule not working for our shared mailbox", "Hello,\n\nsince yesterday the auto-reply rule of printers@customer.example sends nothing. Can you look?\n\nJane\n",
    "X-Auto-Response-Suppress: All\n", "DB9PR03MB7777.human.14@customer.example"))

mail("c11_owa_human_de_with_suppress", 11, "outlook", "human", exchange_reply(
    f"AW: {SUBJ}", "Hallo,\n\nder Drucker brennt weiterhin. Was nun?\n\nJane\n", "X-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: jane.doe@customer.example\n",
    "DB9PR03MB7777.human.15@customer.example", lang="de-DE"))

mail("c11_outlook_human_mentions_out_of_office", 11, "outlook", "human", exchange_reply(
    f"RE: {SUBJ} - out of office until Monday, colleague takes over", "Hello,\n\nI am out of the office until Monday; my colleague Max takes over this case.\n\nJane\n",
    "X-Auto-Response-Suppress: All\n", "DB9PR03MB7777.human.16@customer.example"))
