#!/usr/bin/env python3
"""Writes tests/corpus/machine/: machine mail as the world's servers write it (issue 12,
classes 7-11): bounces and delay warnings of many MTAs and list managers, abuse and
DMARC/TLS reports, auto-replies, and human Outlook/Exchange mail that carries
Exchange's auto-reply-looking headers. Each mail gets `<name>.expected.json`.

Run from anywhere: `python3 tests/corpus/make_machine.py` (byte-identical output).
Domains are reserved (example.test, *.example); IPs are documentation ranges.
"""

import base64
import json
import os
import re

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "machine")
OURS = "sr100001.3.abc123def456@example.test"  # the contact attempt that bounces
ACK = "sr100001.1.abc123def456@example.test"  # the acknowledgement customers reply to
CUST = "jane.doe@customer.example"
SUPPORT = "support@example.test"
SUBJ = "[SR#100001] Printer on fire"

MAILS = []


def mail(name, case, client, cls, text, bounce_of=None, delayed=None, signals=None, token="auto"):
    """Registers one mail (LF line ends here; written as CRLF)."""
    expected = {"class": cls, "case": case, "client": client}
    if bounce_of is not None:
        expected["bounce_of"] = bounce_of
    if delayed is not None:
        expected["delayed"] = delayed
    if signals:
        expected["signals_include"] = signals
    if token == "auto":
        subject = re.search(r"^Subject: (.*)$", text, re.M)
        if subject and not subject.group(1).startswith("=?"):
            m = re.search(r"\[SR#(\d+)\]", subject.group(1))
            expected["token"] = int(m.group(1)) if m else None
    MAILS.append((name, text, expected))


def original(mid=OURS, folded=False, subject=SUBJ, body=True):
    """Our outgoing mail as it was sent (headers, and the body unless `body` is False)."""
    mid_line = f"Message-ID:\n <{mid}>" if folded else f"Message-ID: <{mid}>"
    head = f"""Return-Path: <{SUPPORT}>
Received: by mx.example.test (Postfix, from userid 1001)
	id 9F2E31C0A7; Tue,  3 Mar 2026 10:00:00 +0100 (CET)
From: Example Support <{SUPPORT}>
To: Jane Doe <{CUST}>
Subject: {subject}
Date: Tue, 03 Mar 2026 10:00:00 +0100
{mid_line}
In-Reply-To: <m1@customer.example>
References: <m1@customer.example>
X-Loop: {SUPPORT}
Auto-Submitted: auto-generated
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
"""
    if not body:
        return head
    return head + """
Dear Jane Doe,

We are still waiting for your answer on support request SR#100001
"Printer on fire" (contact attempt 1 of 3).

Kind regards,
Example Support
"""


def dsn(reporting, recipient, action, status, diag, extra=""):
    """An RFC 3464 message/delivery-status body."""
    return f"""Reporting-MTA: dns; {reporting}
{extra}Arrival-Date: Tue, 3 Mar 2026 10:00:01 +0100

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx1.customer.example
Diagnostic-Code: smtp; {diag}
"""


def report(head, parts, boundary, report_type="delivery-status"):
    """A multipart/report (report_type None: no report-type parameter)."""
    rt = f" report-type={report_type};" if report_type else ""
    out = head + f"MIME-Version: 1.0\nContent-Type: multipart/report;{rt}\n\tboundary=\"{boundary}\"\n\nThis is a MIME-encapsulated message.\n\n"
    for ctype, body in parts:
        out += f"--{boundary}\n{ctype}\n\n{body.rstrip(chr(10))}\n\n"
    return out + f"--{boundary}--\n"


def mixed(head, parts, boundary):
    out = head + f"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\n\n"
    for ctype, body in parts:
        out += f"--{boundary}\n{ctype}\n\n{body.rstrip(chr(10))}\n\n"
    return out + f"--{boundary}--\n"


def trace(host="mail.customer.example", ip="198.51.100.25", sender="<>"):
    return f"""Return-Path: {sender}
Delivered-To: {SUPPORT}
Received: from {host} ({host} [{ip}])
	by mx.example.test (Postfix) with ESMTPS id 4C1A21C0B2
	for <{SUPPORT}>; Tue,  3 Mar 2026 10:00:07 +0100 (CET)
"""


RCPT_HEADERS = "Content-Type: text/rfc822-headers"
RFC822 = "Content-Type: message/rfc822"
DS = "Content-Type: message/delivery-status"
PLAIN = "Content-Type: text/plain; charset=us-ascii"

# ---------------------------------------------------------------- class 7: bounces whatever their From

mail("c7_sendmail_mailer_daemon_without_domain", 7, "sendmail", "bounce", report(
    trace() + """From: Mail Delivery Subsystem <MAILER-DAEMON>
To: <support@example.test>
Date: Tue, 3 Mar 2026 10:00:06 +0100
Message-Id: <202603030900.6239A6p0012345@mail.customer.example>
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)
""", [
        (PLAIN, f"""The original message was received at Tue, 3 Mar 2026 10:00:01 +0100
from mx.example.test [192.0.2.10]

   ----- The following addresses had permanent fatal errors -----
<{CUST}>
    (reason: 550 5.1.1 <{CUST}>... User unknown)

   ----- Transcript of session follows -----
... while talking to mx1.customer.example.:
>>> DATA
<<< 550 5.1.1 <{CUST}>... User unknown
550 5.1.1 <{CUST}>... User unknown
<<< 503 5.0.0 Need RCPT (recipient)
"""),
        (DS, dsn("mail.customer.example", CUST, "failed", "5.1.1", "550 5.1.1 <jane.doe@customer.example>... User unknown")),
        (RCPT_HEADERS, original(body=False)),
    ], "6239A6p0012345.1772528406/mail.customer.example"),
    bounce_of=[OURS], delayed=False, signals=["dsn:report-type=delivery-status", "from:mailer-daemon"])

mail("c7_postfix_mailer_daemon_without_domain", 7, "postfix", "bounce", report(
    trace() + """From: MAILER-DAEMON (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: support@example.test
Auto-Submitted: auto-replied
Message-Id: <20260303090006.7A1B23E0101@mail.customer.example>
Date: Tue,  3 Mar 2026 10:00:06 +0100 (CET)
""", [
        ("Content-Description: Notification\n" + PLAIN, f"""This is the mail system at host mail.customer.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{CUST}>: host mx1.customer.example[203.0.113.5] said: 550 5.1.1
    <{CUST}>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)
"""),
        ("Content-Description: Delivery report\n" + DS, dsn("mail.customer.example", CUST, "failed", "5.1.1", "550 5.1.1 Recipient address rejected: User unknown", "X-Postfix-Queue-ID: 7A1B23E0101\nX-Postfix-Sender: rfc822; support@example.test\n")),
        ("Content-Description: Undelivered Message Headers\n" + RCPT_HEADERS, original(body=False)),
    ], "7A1B23E0101.1772528406/mail.customer.example"),
    bounce_of=[OURS], delayed=False, signals=["from:mailer-daemon"])

mail("c7_null_from_appliance", 7, "other", "bounce", report(
    trace(host="gw.customer.example", ip="198.51.100.40") + """From: <>
To: support@example.test
Subject: Delivery Status Notification (Failure)
Date: Tue, 3 Mar 2026 10:00:06 +0100
Message-ID: <dsn-48213@gw.customer.example>
""", [
        (PLAIN, f"""This is an automatically generated Delivery Status Notification.

Delivery to the following recipients failed.

       {CUST}
"""),
        (DS, dsn("gw.customer.example", CUST, "failed", "5.2.1", "550 5.2.1 mailbox disabled")),
        (RFC822, original()),
    ], "=_dsn_48213"),
    bounce_of=[OURS], delayed=False, signals=["from:null"])

mail("c7_no_from_at_all_dsn", 7, "other", "bounce", report(
    trace(host="relay.customer.example", ip="198.51.100.41") + """To: support@example.test
Subject: Undeliverable mail
Date: Tue, 3 Mar 2026 10:00:06 +0100
Message-ID: <ndr.20260303.1@relay.customer.example>
""", [
        (PLAIN, "Your message could not be delivered to the recipient below.\n\n" + CUST + "\n"),
        (DS, dsn("relay.customer.example", CUST, "failed", "5.4.1", "550 5.4.1 Recipient address rejected: Access denied")),
        (RCPT_HEADERS, original(body=False)),
    ], "----=_NDR_20260303"),
    bounce_of=[OURS], delayed=False, signals=["from:null", "dsn:report-type=delivery-status"])

mail("c7_qmail_bare_mailer_daemon", 7, "qmail", "bounce", trace(host="mail.customer-old.example", ip="198.51.100.60") + """Date: 3 Mar 2026 09:00:04 -0000
From: MAILER-DAEMON
To: support@example.test
Subject: failure notice
Message-ID: <20260303090004.21346.qmail@mail.customer-old.example>

Hi. This is the qmail-send program at mail.customer-old.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<jane.doe@customer-old.example>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

""" + original(), bounce_of=[OURS], signals=["from:mailer-daemon", "subject:failure notice"])

mail("c7_mailer_daemon_without_domain_names_no_mail_of_ours", 7, "sendmail", "bounce", report(
    trace() + """From: Mail Delivery Subsystem <MAILER-DAEMON>
To: <support@example.test>
Date: Tue, 3 Mar 2026 10:00:06 +0100
Message-Id: <202603030900.6239A6p0012399@mail.customer.example>
Subject: Returned mail: see transcript for details
""", [
        (PLAIN, f"""The original message was received at Tue, 3 Mar 2026 10:00:01 +0100

   ----- The following addresses had permanent fatal errors -----
<{CUST}>
    (reason: 550 5.1.1 User unknown)
"""),
        (DS, dsn("mail.customer.example", CUST, "failed", "5.1.1", "550 5.1.1 User unknown")),
        (RCPT_HEADERS, original(mid="forged.4711@elsewhere.example", body=False)),
    ], "6239A6p0012399.1772528406/mail.customer.example"),
    bounce_of=["forged.4711@elsewhere.example"], delayed=False)

mail("c7_null_from_delay", 7, "other", "delay", report(
    trace(host="gw.customer.example", ip="198.51.100.40") + """From: <>
To: support@example.test
Subject: Delivery Status Notification (Delay)
Date: Tue, 3 Mar 2026 14:00:06 +0100
Message-ID: <dsn-48299@gw.customer.example>
""", [
        (PLAIN, f"""This is an automatically generated Delivery Status Notification.

THIS IS A WARNING MESSAGE ONLY.
YOU DO NOT NEED TO RESEND YOUR MESSAGE.

Delivery to the following recipients has been delayed.

       {CUST}
"""),
        (DS, dsn("gw.customer.example", CUST, "delayed", "4.4.7", "451 4.4.7 timeout")),
        (RCPT_HEADERS, original(body=False)),
    ], "=_dsn_48299"),
    bounce_of=[OURS], delayed=True, signals=["dsn:action=delayed"])

# ---------------------------------------------------------------- class 8: bounces by MTA and service

mail("c8_qmail_failure_notice_original_headers", 8, "qmail", "bounce", trace(host="mail.customer-old.example", ip="198.51.100.60") + """Date: 3 Mar 2026 09:00:04 -0000
From: MAILER-DAEMON@mail.customer-old.example
To: support@example.test
Subject: failure notice

Hi. This is the qmail-send program at mail.customer-old.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<jane.doe@customer-old.example>:
203.0.113.9 does not like recipient.
Remote host said: 550 5.2.1 Mailbox disabled
Giving up on 203.0.113.9.

--- Enclosed are the original headers of the message.

""" + original(body=False), bounce_of=[OURS], signals=["subject:failure notice"])

mail("c8_domino_delivery_failure", 8, "domino", "bounce", mixed(
    trace(host="notes.customer.example", ip="198.51.100.70") + f"""Subject: DELIVERY FAILURE: User jane.doe (jane.doe@customer.example) not
 listed in Domino Directory
To: support@example.test
From: Postmaster@customer.example
Date: Tue, 3 Mar 2026 10:00:05 +0100
Message-ID: <OF8A1B2C3D.E4F5A6B7-ON00258A12.0034A1B2@customer.example>
X-MIMETrack: Serialize by Router on NOTES01/Customer(Release 12.0.2|November 03, 2022) at
 03.03.2026 10:00:05
""", [
        (PLAIN, f"""Your message

  Subject: {SUBJ}

was not delivered to:

  {CUST}

because:

  User jane.doe ({CUST}) not listed in Domino Directory
"""),
        (RFC822, original()),
    ], "0__=4EBB0A89DFA1B2C38f9e8a93df938690918c4EBB0A89DFA1B2C3"),
    bounce_of=[OURS], signals=["from:postmaster", "subject:delivery failure"])

mail("c8_domino_delivery_failure_hop_count", 8, "domino", "bounce", mixed(
    trace(host="notes.customer.example", ip="198.51.100.70") + f"""Subject: DELIVERY FAILURE: Error transferring to NOTES02/Customer; Maximum hop
 count exceeded.  Message probably in a routing loop.
To: support@example.test
From: Mail Router <Postmaster@customer.example>
Date: Tue, 3 Mar 2026 10:00:05 +0100
""", [
        (PLAIN, f"""Your message

  Subject: {SUBJ}

was not delivered to:

  {CUST}

because:

  Error transferring to NOTES02/Customer; Maximum hop count exceeded.  Message probably in a routing loop.
"""),
        (RFC822, original()),
    ], "0__=4EBB0A89DFA1B2C48f9e8a93df938690918c4EBB0A89DFA1B2C4"),
    bounce_of=[OURS], signals=["subject:delivery failure"])

mail("c8_mdaemon_permanent_delivery_failure", 8, "mdaemon", "bounce", mixed(
    trace(host="mail.smallbiz.example", ip="198.51.100.80") + """From: MDaemon@mail.smallbiz.example
To: support@example.test
Subject: Permanent Delivery Failure
Date: Tue, 03 Mar 2026 10:00:05 +0100
Message-ID: <MDAEMON-F202603031000.AA0005123md5001000123456@mail.smallbiz.example>
X-MDaemon-Deliver-To: support@example.test
X-Mailer: MDaemon 23.5.1
""", [
        (PLAIN, """The attached message had PERMANENT fatal delivery errors!

After one or more unsuccessful delivery attempts the attached message has
been removed from the mail queue on this server.  The number and frequency
of delivery attempts are determined by local configuration parameters.

YOU DO NOT NEED TO RESEND THIS MESSAGE.  THIS IS JUST AN INFORMATIONAL NOTICE.

--- Session Transcript ---
 Tue 2026-03-03 10:00:04.512: Parsing message <mail.smallbiz.example\\pd50001000123.msg>
 Tue 2026-03-03 10:00:04.530: *  To: jane@smallbiz.example
 Tue 2026-03-03 10:00:05.010: <-- 550 5.1.1 No such user here
--- End Transcript ---
"""),
        (RFC822, original()),
    ], "MD_MIME_BOUNDARY_20260303"),
    bounce_of=[OURS], signals=["from:mdaemon", "subject:delivery failure"])

mail("c8_amazon_ses_dsn", 8, "amazon-ses", "bounce", report(
    trace(host="a8-12.smtp-out.amazonses.example", ip="192.0.2.80") + f"""From: MAILER-DAEMON@amazonses.example
To: support@example.test
Subject: Delivery Status Notification (Failure)
Message-ID: <0100018e0a1b2c3d-4e5f6a7b-8c9d-0e1f-2a3b-4c5d6e7f8a9b-000000@email.amazonses.example>
Date: Tue, 3 Mar 2026 09:00:06 +0000
""", [
        (PLAIN, f"""An error occurred while trying to deliver the mail to the following recipients:
{CUST}
"""),
        (DS, dsn("a8-12.smtp-out.amazonses.example", CUST, "failed", "5.1.1", "smtp; 550 5.1.1 user unknown", "X-Original-Message-ID: <0100018e0a1b2c3d@email.amazonses.example>\n")),
        (RFC822, original()),
    ], "----=_Part_1283710_1717251302.1772528406000"),
    bounce_of=[OURS], signals=["dsn:action=failed"])

mail("c8_carrier_noreply_notice_attached", 8, "carrier", "bounce", mixed(
    trace(host="smtp.carrier.example", ip="198.51.100.90", sender="<no-reply@mail.carrier.example>") + """From: "Carrier Mail" <no-reply@mail.carrier.example>
To: support@example.test
Subject: Undeliverable message
Date: Tue, 3 Mar 2026 10:00:09 +0100
Message-ID: <notice.8831.20260303@mail.carrier.example>
""", [
        (PLAIN, f"""Your message could not be delivered to {CUST}.

The recipient's mailbox is full. Please try again later or contact the recipient by other means.

This is an automatically generated message; replies are not read.
"""),
        (RFC822, original()),
    ], "carrier-notice-8831"),
    bounce_of=[OURS], signals=["from:no-reply", "subject:undeliverable"])

mail("c8_report_without_report_type", 8, "other", "bounce", report(
    trace(host="filter.customer.example", ip="198.51.100.45") + """From: "Mail Gateway" <postmaster@filter.customer.example>
To: support@example.test
Subject: Message delivery notification
Date: Tue, 3 Mar 2026 10:00:06 +0100
Message-ID: <gw.20260303.77@filter.customer.example>
""", [
        (PLAIN, f"Your message to {CUST} was not delivered: the recipient refused it.\n"),
        (DS, dsn("filter.customer.example", CUST, "failed", "5.7.1", "550 5.7.1 Message rejected by policy")),
        (RCPT_HEADERS, original(body=False)),
    ], "gw-dsn-77", report_type=None),
    bounce_of=[OURS], signals=["dsn:message/delivery-status", "dsn:action=failed"])

mail("c8_mailman2_request_rejected", 8, "mailman", "bounce", trace(host="lists.customer.example", ip="198.51.100.50", sender="<printer-users-bounces@lists.customer.example>") + f"""Subject: Request to mailing list Printer-users rejected
From: printer-users-owner@lists.customer.example
To: support@example.test
Message-ID: <mailman.12.1772528406.4188.printer-users@lists.customer.example>
Date: Tue, 03 Mar 2026 10:00:06 +0100
Precedence: bulk
X-BeenThere: printer-users@lists.customer.example
X-Mailman-Version: 2.1.39
List-Id: <printer-users.lists.customer.example>
X-List-Administrivia: yes
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

Your request to the Printer-users mailing list

    Posting of your message titled "{SUBJ}"

has been rejected by the list moderator.  The moderator gave the
following reason for rejecting your request:

"Non-members are not allowed to post to this list."

Any questions or comments should be directed to the list administrator
at:

    printer-users-owner@lists.customer.example
""", bounce_of=[], signals=["from:printer-users-owner"], token=None)

mail("c8_mailman3_message_rejected", 8, "mailman", "bounce", mixed(
    trace(host="lists.customer.example", ip="198.51.100.50", sender="<printer-users-bounces@lists.customer.example>") + """Subject: Your message to printer-users@lists.customer.example was rejected
From: printer-users-owner@lists.customer.example
To: support@example.test
Message-ID: <177252840612.4188.9114311711111111@lists.customer.example>
Date: Tue, 03 Mar 2026 09:00:06 -0000
Precedence: bulk
List-Id: <printer-users.lists.customer.example>
X-Mailman-Version: 3.3.9
""", [
        (PLAIN, """Your message to the Printer-users mailing-list was rejected for the following
reasons:

The message is not from a list member

The original message as received by Mailman is attached.
"""),
        (RFC822, original()),
    ], "===============5160523771046474373=="),
    bounce_of=[OURS], signals=["subject:"])

mail("c8_sympa_message_rejected", 8, "sympa", "bounce", mixed(
    trace(host="lists.university.example", ip="198.51.100.55", sender="<sympa-request@lists.university.example>") + """From: SYMPA <sympa@lists.university.example>
To: support@example.test
Subject: Your message has been rejected
Date: Tue, 3 Mar 2026 10:00:06 +0100
Message-Id: <sympa.1772528406.4711.27@lists.university.example>
Auto-Submitted: auto-replied
X-Loop: sympa@lists.university.example
""", [
        ("Content-Type: text/plain; charset=utf-8", """Your message for list "printers" (attached below) has been rejected.
You are not allowed to send this message for the following reason:

     Only list members may post to list printers@lists.university.example.

For further information, please contact printers-request@lists.university.example
"""),
        (RFC822, original()),
    ], "----------=_1772528406-4711-27"),
    bounce_of=[OURS], signals=["from:sympa"])

mail("c8_google_groups_rejected", 8, "google-groups", "bounce", report(
    trace(host="mail-sor-f69.google.example", ip="192.0.2.69") + f"""From: Mail Delivery Subsystem <mailer-daemon@googlemail.example>
To: support@example.test
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
Message-ID: <65e4a8f6.050a0220.bd4e2.7f33.GMR@mx.google.example>
Date: Tue, 03 Mar 2026 01:00:06 -0800 (PST)
""", [
        ("Content-Type: text/plain; charset=\"UTF-8\"", """** Message blocked **

Your message to printer-users@googlegroups.example has been blocked. See technical details below for more information.

The response was:
You do not have permission to post to this group. Contact the group owner or manager to ask for permission.
"""),
        (DS, dsn("googlemail.example", "printer-users@googlegroups.example", "failed", "5.7.0", "550 5.7.0 Message rejected: you do not have permission to post to this group")),
        (RFC822, original()),
    ], "000000000000a1b2c3061234abcd"),
    bounce_of=[OURS], signals=["dsn:action=failed"])

mail("c8_exim_plain_text", 8, "exim", "bounce", trace(host="mx.hoster.example", ip="198.51.100.100") + f"""Received: from Debian-exim by mx.hoster.example with local (Exim 4.96)
	id 1vXyZa-0004Ab-Cd
	for support@example.test; Tue, 03 Mar 2026 10:00:06 +0100
X-Failed-Recipients: {CUST}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mx.hoster.example>
To: support@example.test
Content-Type: text/plain; charset=us-ascii
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1vXyZa-0004Ab-Cd@mx.hoster.example>
Date: Tue, 03 Mar 2026 10:00:06 +0100

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {CUST}
    host mx1.customer.example [203.0.113.5]
    SMTP error from remote mail server after RCPT TO:<{CUST}>:
    550 5.1.1 User unknown

------ This is a copy of the message, including all the headers. ------

Return-path: <{SUPPORT}>
Received: from mx.example.test ([192.0.2.10])
	by mx.hoster.example with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384
	(Exim 4.96)
	(envelope-from <{SUPPORT}>)
	id 1vXyZ9-0004AY-Ab
	for {CUST}; Tue, 03 Mar 2026 10:00:05 +0100
""" + original(), bounce_of=[OURS], signals=["from:mailer-daemon", "subject:mail delivery failed"])

mail("c8_exim_multipart_report", 8, "exim", "bounce", report(
    trace(host="mx.hoster.example", ip="198.51.100.100") + f"""Received: from Debian-exim by mx.hoster.example with local (Exim 4.97)
	id 1vXyZb-0004Ac-Ef
	for support@example.test; Tue, 03 Mar 2026 10:00:06 +0100
X-Failed-Recipients: {CUST}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mx.hoster.example>
To: support@example.test
References: <{OURS}>
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1vXyZb-0004Ac-Ef@mx.hoster.example>
Date: Tue, 03 Mar 2026 10:00:06 +0100
""", [
        ("Content-Type: text/plain; charset=us-ascii", f"""This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {CUST}
    host mx1.customer.example [203.0.113.5]
    SMTP error from remote mail server after RCPT TO:<{CUST}>:
    552 5.2.2 Mailbox full
"""),
        ("Content-Type: message/delivery-status", f"""Reporting-MTA: dns; mx.hoster.example

Action: failed
Final-Recipient: rfc822;{CUST}
Status: 5.0.0
Remote-MTA: dns; mx1.customer.example
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full
"""),
        ("Content-Type: message/rfc822", original()),
    ], "1772528406-eximdsn-1804289383"),
    bounce_of=[OURS], signals=["dsn:action=failed"])

mail("c8_sendmail_returned_mail", 8, "sendmail", "bounce", report(
    trace(host="mail.customer.example", ip="198.51.100.25") + """From: Mail Delivery Subsystem <MAILER-DAEMON@mail.customer.example>
To: <support@example.test>
Date: Tue, 3 Mar 2026 10:00:06 +0100
Message-Id: <202603030900.6239A6p0012346@mail.customer.example>
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)
""", [
        (PLAIN, f"""The original message was received at Tue, 3 Mar 2026 10:00:01 +0100
from mx.example.test [192.0.2.10]

   ----- The following addresses had permanent fatal errors -----
<{CUST}>
    (reason: 552 5.2.2 Mailbox full)

   ----- Transcript of session follows -----
... while talking to mx1.customer.example.:
>>> DATA
<<< 552 5.2.2 <{CUST}>... Mailbox full
"""),
        (DS, dsn("mail.customer.example", CUST, "failed", "5.2.2", "552 5.2.2 Mailbox full")),
        (RFC822, original()),
    ], "6239A6p0012346.1772528406/mail.customer.example"),
    bounce_of=[OURS], signals=["dsn:report-type=delivery-status"])

mail("c8_exchange2016_ndr", 8, "exchange", "bounce", report(
    trace(host="EXCH01.customer.example", ip="198.51.100.120") + f"""From: Microsoft Outlook
	<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@customer.example>
To: <support@example.test>
Date: Tue, 3 Mar 2026 09:00:06 +0000
Content-Language: en-US
Message-ID: <a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d@EXCH01.customer.example>
In-Reply-To: <{OURS}>
References: <{OURS}>
Thread-Topic: {SUBJ}
Thread-Index: AQHaBcDeFgHiJkLmNoPqRsTuVwXyZa==
Subject: Undeliverable: {SUBJ}
Auto-Submitted: auto-replied
X-MS-Exchange-Organization-SCL: -1
X-MS-TNEF-Correlator:
X-MS-Exchange-Organization-AuthSource: EXCH01.customer.example
X-MS-Exchange-Organization-AuthAs: Internal
""", [
        ("Content-Type: text/plain; charset=\"us-ascii\"", f"""Delivery has failed to these recipients or groups:

{CUST}<mailto:{CUST}>
The email address you entered couldn't be found. Please check the recipient's email address and try to send the message again. If the problem continues, please contact your helpdesk.

Diagnostic information for administrators:

Generating server: EXCH01.customer.example

{CUST}
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'
"""),
        (DS, dsn("EXCH01.customer.example", CUST, "failed", "5.1.10", "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup")),
        (RFC822, original()),
    ], "_000_a1b2c3d4e5f64a7b8c9d0e1f2a3b4c5dEXCH01customerexample_"),
    bounce_of=[OURS], signals=["dsn:report-type=delivery-status"])

mail("c8_exchange_online_ndr_fr", 8, "exchange", "bounce", report(
    trace(host="EUR03-AM5-obe.outbound.protection.outlook.example", ip="192.0.2.121") + f"""From: postmaster@customer.example
To: <support@example.test>
Date: Tue, 3 Mar 2026 09:00:06 +0000
Content-Language: fr-FR
Message-ID: <f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f@AM5PR0301MB1234.eurprd03.prod.outlook.example>
In-Reply-To: <{OURS}>
References: <{OURS}>
Subject: =?iso-8859-1?Q?Non_remis=A0:_[SR#100001]_Printer_on_fire?=
Auto-Submitted: auto-replied
""", [
        ("Content-Type: text/plain; charset=\"iso-8859-1\"\nContent-Transfer-Encoding: quoted-printable", f"""La remise =E0 ces destinataires ou groupes a =E9chou=E9 :

{CUST}<mailto:{CUST}>
Le serveur de messagerie du destinataire a rejet=E9 votre message.
"""),
        (DS, dsn("AM5PR0301MB1234.eurprd03.prod.outlook.example", CUST, "failed", "5.4.1", "smtp;550 5.4.1 Recipient address rejected: Access denied")),
        (RCPT_HEADERS, original(body=False)),
    ], "_000_f0e1d2c3b4a5496887765a4b3c2d1e0fAM5PR0301MB1234eurprd_"),
    bounce_of=[OURS], signals=["dsn:action=failed"], token=None)

mail("c8_gmail_address_not_found", 8, "gmail", "bounce", report(
    trace(host="mail-sor-f41.google.example", ip="192.0.2.41") + """From: Mail Delivery Subsystem <mailer-daemon@googlemail.example>
To: support@example.test
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
References: <sr100001.3.abc123def456@example.test>
In-Reply-To: <sr100001.3.abc123def456@example.test>
X-Failed-Recipients: jane.doe@gmail.example
Message-ID: <65e4a8f6.170a0220.1b2c3.4d5e.GMR@mx.google.example>
Date: Tue, 03 Mar 2026 01:00:06 -0800 (PST)
""", [
        ("Content-Type: text/plain; charset=\"UTF-8\"", """
** Address not found **

Your message wasn't delivered to jane.doe@gmail.example because the address couldn't be found, or is unable to receive mail.

Learn more here: https://support.google.example/mail/?p=NoSuchUser

The response was:

The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. Learn more at https://support.google.example/mail/?p=NoSuchUser
"""),
        (DS, dsn("googlemail.example", "jane.doe@gmail.example", "failed", "5.1.1", "smtp; The email account that you tried to reach does not exist.", "X-Google-Original-From: support@example.test\n")),
        (RFC822, original()),
    ], "00000000000012ab34061234cdef"),
    bounce_of=[OURS], signals=["dsn:action=failed"])

mail("c8_yahoo_failure_notice", 8, "yahoo", "bounce", trace(host="sonic301-20.consmr.mail.bf2.yahoo.example", ip="192.0.2.30") + f"""Date: Tue, 3 Mar 2026 09:00:06 +0000
From: MAILER-DAEMON@yahoo.example
To: support@example.test
Subject: Failure Notice
X-Yahoo-Newman-Property: ymail-5

Sorry, we were unable to deliver your message to the following address.

<jane.doe@yahoo.example>:
554: delivery error: dd This user doesn't have a yahoo.example account (jane.doe@yahoo.example) [0] - mta4123.mail.bf1.yahoo.example

--- Below this line is a copy of the message.

""" + original(), bounce_of=[OURS], signals=["from:mailer-daemon"])

mail("c8_outlookcom_undeliverable", 8, "outlook.com", "bounce", report(
    trace(host="DM6PR02MB1234.namprd02.prod.outlook.example", ip="192.0.2.122") + f"""From: postmaster@outlook.example
To: <support@example.test>
Date: Tue, 3 Mar 2026 09:00:06 +0000
Content-Language: en-US
Message-ID: <0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f@DM6PR02MB1234.namprd02.prod.outlook.example>
In-Reply-To: <{OURS}>
References: <{OURS}>
Subject: Undeliverable: {SUBJ}
Auto-Submitted: auto-replied
""", [
        ("Content-Type: text/plain; charset=\"us-ascii\"", """Your message to jane.doe@outlook.example couldn't be delivered.
jane.doe wasn't found at outlook.example.

Action Required: Recipient
Unknown To address
"""),
        (DS, dsn("DM6PR02MB1234.namprd02.prod.outlook.example", "jane.doe@outlook.example", "failed", "5.1.1", "smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found")),
        (RCPT_HEADERS, original(body=False)),
    ], "_000_0c1d2e3f4a5b4c6d8e7f9a0b1c2d3e4fDM6PR02MB1234namprd02_"),
    bounce_of=[OURS], signals=["dsn:action=failed"])

mail("c8_zimbra_postfix_undelivered", 8, "zimbra", "bounce", report(
    trace(host="zimbra.customer.example", ip="198.51.100.130") + """From: MAILER-DAEMON@zimbra.customer.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: support@example.test
Auto-Submitted: auto-replied
Message-Id: <20260303090006.4D2C1A0012@zimbra.customer.example>
Date: Tue,  3 Mar 2026 10:00:06 +0100 (CET)
""", [
        ("Content-Description: Notification\n" + PLAIN, f"""This is the mail system at host zimbra.customer.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<{CUST}>: mailbox for {CUST} is over quota
"""),
        ("Content-Description: Delivery report\n" + DS, dsn("zimbra.customer.example", CUST, "failed", "5.2.2", "552 5.2.2 Mailbox is over quota")),
        ("Content-Description: Undelivered Message\n" + RFC822, original()),
    ], "4D2C1A0012.1772528406/zimbra.customer.example"),
    bounce_of=[OURS], signals=["dsn:action=failed"])

mail("c8_courier_null_local_part", 8, "courier", "bounce", report(
    trace(host="mx.courier-host.example", ip="198.51.100.140") + f"""From: "Courier mail server at mx.courier-host.example" <@mx.courier-host.example>
To: support@example.test
Subject: NOTICE: mail delivery status.
Date: Tue, 03 Mar 2026 10:00:06 +0100
Message-ID: <courier.000000000012AB34.0000001234@mx.courier-host.example>
""", [
        (PLAIN, f"""This is a delivery status notification from mx.courier-host.example,
running the Courier mail server, version 1.3.2.

The original message was received on Tue, 03 Mar 2026 10:00:01 +0100
from mx.example.test [192.0.2.10]

---------------------------------------------------------------------------

                           UNDELIVERABLE MAIL

Your message to the following recipients cannot be delivered:

<{CUST}>:
    mx1.customer.example [203.0.113.5]:
>>> RCPT TO:<{CUST}>
<<< 550 5.1.1 User unknown
"""),
        (DS, dsn("mx.courier-host.example", CUST, "failed", "5.0.0", "550 5.1.1 User unknown")),
        (RFC822, original()),
    ], "=_courier-host-1772528406-0001"),
    bounce_of=[OURS], signals=["from:null"])

mail("c8_human_forwards_a_bounce", 8, "outlook", "human", trace(host="mail.customer.example", ip="198.51.100.25", sender="<jane.doe@customer.example>") + f"""From: Jane Doe <{CUST}>
To: support@example.test
Subject: FW: Undelivered Mail Returned to Sender
Date: Tue, 3 Mar 2026 11:00:00 +0100
Message-ID: <DB9PR03MB7777.human.1@customer.example>
Content-Type: text/plain; charset="us-ascii"
X-Auto-Response-Suppress: All

Hi, my colleague's mails to you bounce, see below. Can you check your side?

Jane

-----Original Message-----
From: MAILER-DAEMON@mail.customer.example
Sent: Tuesday, March 3, 2026 10:00 AM
To: Jane Doe <{CUST}>
Subject: Undelivered Mail Returned to Sender

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.
""", bounce_of=None, token=None)

# delay warnings: recorded, nobody told

mail("c8_postfix_delay", 8, "postfix", "delay", report(
    trace() + """From: MAILER-DAEMON@mail.customer.example (Mail Delivery System)
Subject: Delayed Mail (still being retried)
To: support@example.test
Auto-Submitted: auto-replied
Message-Id: <20260303130006.8B2C34F0202@mail.customer.example>
Date: Tue,  3 Mar 2026 14:00:06 +0100 (CET)
""", [
        ("Content-Description: Notification\n" + PLAIN, f"""This is the mail system at host mail.customer.example.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than 4 hour(s).
It will be retried until it is 5 day(s) old.

For further assistance, please send mail to postmaster.

                   The mail system

<{CUST}>: connect to mx1.customer.example[203.0.113.5]:25: Connection timed
    out
"""),
        ("Content-Description: Delivery report\n" + DS, dsn("mail.customer.example", CUST, "delayed", "4.4.1", "X-Postfix; connect to mx1.customer.example[203.0.113.5]:25: Connection timed out", "X-Postfix-Queue-ID: 8B2C34F0202\n") + "Will-Retry-Until: Sun, 8 Mar 2026 10:00:01 +0100 (CET)\n"),
        ("Content-Description: Undelivered Message Headers\n" + RCPT_HEADERS, original(body=False)),
    ], "8B2C34F0202.1772542806/mail.customer.example"),
    bounce_of=[OURS], delayed=True, signals=["dsn:action=delayed"])

mail("c8_sendmail_delay", 8, "sendmail", "delay", report(
    trace() + """From: Mail Delivery Subsystem <MAILER-DAEMON@mail.customer.example>
To: <support@example.test>
Date: Tue, 3 Mar 2026 14:00:06 +0100
Message-Id: <202603031300.6239A6p0012347@mail.customer.example>
Subject: Warning: could not send message for past 4 hours
Auto-Submitted: auto-generated (warning-timeout)
""", [
        (PLAIN, f"""    **********************************************
    **      THIS IS A WARNING MESSAGE ONLY      **
    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **
    **********************************************

The original message was received at Tue, 3 Mar 2026 10:00:01 +0100
from mx.example.test [192.0.2.10]

   ----- Transcript of session follows -----
<{CUST}>... Deferred: Connection timed out with mx1.customer.example.
Warning: message still undelivered after 4 hours
Will keep trying until message is 5 days old
"""),
        (DS, dsn("mail.customer.example", CUST, "delayed", "4.4.1", "smtp; 451 4.4.1 reply: read error from mx1.customer.example.")),
        (RCPT_HEADERS, original(body=False)),
    ], "6239A6p0012347.1772542806/mail.customer.example"),
    bounce_of=[OURS], delayed=True, signals=["dsn:action=delayed"])

mail("c8_exim_delay_multipart", 8, "exim", "delay", report(
    trace(host="mx.hoster.example", ip="198.51.100.100") + f"""Received: from Debian-exim by mx.hoster.example with local (Exim 4.97)
	id 1vXzAa-0004Ba-Gh
	for support@example.test; Wed, 04 Mar 2026 10:00:06 +0100
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mx.hoster.example>
To: support@example.test
References: <{OURS}>
Subject: Warning: message 1vXyZ9-0004AY-Ab delayed 24 hours
Message-Id: <E1vXzAa-0004Ba-Gh@mx.hoster.example>
Date: Wed, 04 Mar 2026 10:00:06 +0100
""", [
        ("Content-Type: text/plain; charset=us-ascii", f"""This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mx.hoster.example.

The message identifier is:     1vXyZ9-0004AY-Ab
The subject of the message is: {SUBJ}
The date of the message is:    Tue, 03 Mar 2026 10:00:00 +0100

The address to which the message has not yet been delivered is:

  {CUST}
    host mx1.customer.example [203.0.113.5]
    Delay reason: SMTP error from remote mail server after RCPT TO:<{CUST}>:
    451 4.7.1 Greylisted, please try again later

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered. Eventually the mail delivery software will give up,
and when that happens, the message will be returned to you.
"""),
        ("Content-Type: message/delivery-status", f"""Reporting-MTA: dns; mx.hoster.example

Action: delayed
Final-Recipient: rfc822;{CUST}
Status: 4.0.0
Remote-MTA: dns; mx1.customer.example
Diagnostic-Code: smtp; 451 4.7.1 Greylisted, please try again later
Will-Retry-Until: Sat, 07 Mar 2026 10:00:05 +0100
"""),
        ("Content-Type: text/rfc822-headers", original(body=False)),
    ], "1772614806-eximdsn-846930886"),
    bounce_of=[OURS], delayed=True, signals=["dsn:action=delayed"])

mail("c8_exim_delay_plain_no_message_id", 8, "exim", "delay", trace(host="mx.oldhoster.example", ip="198.51.100.101") + f"""Received: from mail by mx.oldhoster.example with local (Exim 4.69)
	id 1Kabcd-0001Xy-Zz
	for support@example.test; Wed, 04 Mar 2026 10:00:06 +0100
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@mx.oldhoster.example>
To: support@example.test
Subject: Warning: message 1Kabcc-0001Xw-Yy delayed 24 hours
Message-Id: <E1Kabcd-0001Xy-Zz@mx.oldhoster.example>
Date: Wed, 04 Mar 2026 10:00:06 +0100

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on mx.oldhoster.example.

The message identifier is:     1Kabcc-0001Xw-Yy
The subject of the message is: {SUBJ}
The date of the message is:    Tue, 03 Mar 2026 10:00:00 +0100

The address to which the message has not yet been delivered is:

  {CUST}

No action is required on your part. Delivery attempts will continue for
some time, and this warning may be repeated at intervals if the message
remains undelivered. Eventually the mail delivery software will give up,
and when that happens, the message will be returned to you.
""", bounce_of=[], delayed=True, signals=["subject:delayed"], token=None)

mail("c8_exchange_delivery_delayed", 8, "exchange", "delay", report(
    trace(host="EXCH01.customer.example", ip="198.51.100.120") + f"""From: postmaster@customer.example
To: <support@example.test>
Date: Tue, 3 Mar 2026 18:00:06 +0000
Content-Language: en-US
Message-ID: <b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e@EXCH01.customer.example>
In-Reply-To: <{OURS}>
References: <{OURS}>
Subject: Delivery delayed:{SUBJ}
Auto-Submitted: auto-replied
""", [
        ("Content-Type: text/plain; charset=\"us-ascii\"", f"""Delivery is delayed to these recipients or groups:

{CUST}<mailto:{CUST}>

Subject: {SUBJ}

This message hasn't been delivered yet. Delivery will continue to be attempted.

The server will keep trying to deliver this message for the next 1 days, 19 hours and 52 minutes. You'll be notified if the message can't be delivered by that time.
"""),
        (DS, dsn("EXCH01.customer.example", CUST, "delayed", "4.4.7", "smtp;400 4.4.7 Message delayed")),
        (RCPT_HEADERS, original(body=False)),
    ], "_000_b2c3d4e5f6a74b8c9d0e1f2a3b4c5d6eEXCH01customerexample_"),
    bounce_of=[OURS], delayed=True, signals=["dsn:action=delayed"])

mail("c8_gmail_delay", 8, "gmail", "delay", report(
    trace(host="mail-sor-f41.google.example", ip="192.0.2.41") + """From: Mail Delivery Subsystem <mailer-daemon@googlemail.example>
To: support@example.test
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Delay)
References: <sr100001.3.abc123def456@example.test>
In-Reply-To: <sr100001.3.abc123def456@example.test>
Message-ID: <65e4e16a.050a0220.8f2c1.9a0b.GMR@mx.google.example>
Date: Tue, 03 Mar 2026 05:00:06 -0800 (PST)
""", [
        ("Content-Type: text/plain; charset=\"UTF-8\"", f"""
** Message not delivered yet **

There was a temporary problem delivering your message to {CUST}. Gmail will retry for 44 more hours. You'll be notified if the delivery fails permanently.

The response from the remote server was:
451 4.3.0 Mail server temporarily rejected message.
"""),
        (DS, dsn("googlemail.example", CUST, "delayed", "4.3.0", "smtp; 451 4.3.0 Mail server temporarily rejected message.") + "Will-Retry-Until: Thu, 05 Mar 2026 01:00:05 -0800 (PST)\n"),
        (RCPT_HEADERS, original(body=False)),
    ], "00000000000034cd56061234ef01"),
    bounce_of=[OURS], delayed=True, signals=["dsn:action=delayed"])

mail("c8_mailman_held_for_moderation", 8, "mailman", "delay", trace(host="lists.customer.example", ip="198.51.100.50", sender="<printer-users-bounces@lists.customer.example>") + f"""Subject: Your message to Printer-users awaits moderator approval
From: printer-users-bounces@lists.customer.example
To: support@example.test
Message-ID: <mailman.13.1772528406.4188.printer-users@lists.customer.example>
Date: Tue, 03 Mar 2026 10:00:06 +0100
Precedence: bulk
X-BeenThere: printer-users@lists.customer.example
X-Mailman-Version: 2.1.39
List-Id: <printer-users.lists.customer.example>
X-List-Administrivia: yes
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit

Your mail to 'Printer-users' with the subject

    {SUBJ}

Is being held until the list moderator can review it for approval.

The reason it is being held:

    Post by non-member to a members-only list

Either the message will get posted to the list, or you will receive
notification of the moderator's decision.  If you would like to cancel
this posting, please visit the following URL:

    https://lists.customer.example/mailman/confirm/printer-users/0123456789abcdef0123456789abcdef01234567
""", bounce_of=[], delayed=True, signals=["subject:awaits moderator"], token=None)

mail("c8_human_mentions_delayed_delivery", 8, "thunderbird", "human", trace(host="mail.customer.example", ip="198.51.100.25", sender="<jane.doe@customer.example>") + f"""From: Jane Doe <{CUST}>
To: support@example.test
Subject: Re: {SUBJ}
Date: Wed, 4 Mar 2026 09:00:00 +0100
Message-ID: <5e6f7a8b-human-2@customer.example>
In-Reply-To: <{OURS}>
References: <m1@customer.example> <{OURS}>
User-Agent: Mozilla Thunderbird
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

Hello,

your message was delayed by our mail server (it said "delivery delayed"
and "will be retried"), sorry. The printer is still on fire.

Jane
""", bounce_of=None)

# ---------------------------------------------------------------- class 9: the returned Message-ID, however written

mail("c9_amazon_workmail_folded_message_id", 9, "amazon-workmail", "bounce", report(
    trace(host="smtp.mail.us-west-2.awsapps.example", ip="192.0.2.90") + """From: MAILER-DAEMON@us-west-2.awsapps.example
To: support@example.test
Subject: Delivery Status Notification (Failure)
Message-ID: <0101018e0b2c3d4e-workmail-dsn-000000@us-west-2.awsapps.example>
Date: Tue, 3 Mar 2026 09:00:06 +0000
""", [
        (PLAIN, f"""An error occurred while trying to deliver the mail to the following recipients:
{CUST}
"""),
        (DS, dsn("smtp.mail.us-west-2.awsapps.example", CUST, "failed", "5.1.1", "smtp; 550 5.1.1 user unknown")),
        (RCPT_HEADERS, original(folded=True, body=False).replace("Message-ID:", "Message-Id:")),
    ], "----=_Part_998877_1234567890.1772528406000"),
    bounce_of=[OURS], signals=["dsn:action=failed"])

mail("c9_postfix_folded_message_id_rfc822", 9, "postfix", "bounce", report(
    trace() + """From: MAILER-DAEMON@mail.customer.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: support@example.test
Auto-Submitted: auto-replied
Message-Id: <20260303090006.9C3D45A0303@mail.customer.example>
Date: Tue,  3 Mar 2026 10:00:06 +0100 (CET)
""", [
        ("Content-Description: Notification\n" + PLAIN, f"""This is the mail system at host mail.customer.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<{CUST}>: host mx1.customer.example[203.0.113.5] said: 550 5.7.1 Rejected
"""),
        ("Content-Description: Delivery report\n" + DS, dsn("mail.customer.example", CUST, "failed", "5.7.1", "550 5.7.1 Rejected")),
        ("Content-Description: Undelivered Message\n" + RFC822, original(folded=True)),
    ], "9C3D45A0303.1772528406/mail.customer.example"),
    bounce_of=[OURS], signals=["dsn:action=failed"])

mail("c9_carrier_plain_text_quoted_original", 9, "carrier", "bounce", trace(host="smtp.carrier.example", ip="198.51.100.90", sender="<no-reply@mail.carrier.example>") + f"""From: "Carrier Mail" <no-reply@mail.carrier.example>
To: support@example.test
Subject: Message not delivered
Date: Tue, 3 Mar 2026 10:00:09 +0100
Message-ID: <notice.8832.20260303@mail.carrier.example>
Content-Type: text/plain; charset=us-ascii

Your message was not delivered to {CUST}: the mailbox does not exist.

> From: Example Support <{SUPPORT}>
> To: Jane Doe <{CUST}>
> Subject: {SUBJ}
> Date: Tue, 03 Mar 2026 10:00:00 +0100
> Message-ID: <{OURS}>
>
> Dear Jane Doe,
""", bounce_of=[OURS], signals=["from:no-reply"])

mail("c9_exchange_online_rfc822_folded", 9, "exchange", "bounce", report(
    trace(host="EUR03-AM5-obe.outbound.protection.outlook.example", ip="192.0.2.121") + f"""From: Microsoft Outlook <postmaster@customer.example>
To: <support@example.test>
Date: Tue, 3 Mar 2026 09:00:06 +0000
Content-Language: en-US
Message-ID: <c3d4e5f6-a7b8-4c9d-0e1f-2a3b4c5d6e7f@AM5PR0301MB1234.eurprd03.prod.outlook.example>
Subject: Undeliverable: {SUBJ}
Auto-Submitted: auto-replied
""", [
        ("Content-Type: text/plain; charset=\"us-ascii\"", f"""Delivery has failed to these recipients or groups:

{CUST}<mailto:{CUST}>
The recipient's mailbox is full and can't accept messages now.
"""),
        (DS, dsn("AM5PR0301MB1234.eurprd03.prod.outlook.example", CUST, "failed", "5.2.2", "smtp;554 5.2.2 mailbox full")),
        (RFC822, original(folded=True).replace("Message-ID:\n <", "Message-ID:\n\t<")),
    ], "_000_c3d4e5f6a7b84c9d0e1f2a3b4c5d6e7fAM5PR0301MB1234eurprd_"),
    bounce_of=[OURS], signals=["dsn:action=failed"])

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


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, text, expected in MAILS:
        data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
        assert len(data) < 300 * 1024, name
        with open(os.path.join(OUT, name + ".eml"), "wb") as f:
            f.write(data)
        with open(os.path.join(OUT, name + ".expected.json"), "w", encoding="utf-8") as f:
            f.write(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(MAILS)} mails in {OUT}")


if __name__ == "__main__":
    main()
