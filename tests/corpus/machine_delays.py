"""Corpus machine/: class 8 delay warnings, and class 9, the returned Message-ID (see make_machine.py)."""

from make_machine import (ACK, CUST, DS, OURS, PLAIN, RCPT_HEADERS, RFC822, SUBJ, SUPPORT, dsn, mail, mixed, original, report, trace)  # noqa: F401

import base64  # noqa: F401

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
