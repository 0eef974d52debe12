"""Corpus machine/: classes 7 and 8, bounces (see make_machine.py)."""

from make_machine import (ACK, CUST, DS, OURS, PLAIN, RCPT_HEADERS, RFC822, SUBJ, SUPPORT, dsn, mail, mixed, original, report, trace)  # noqa: F401

import base64  # noqa: F401

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
