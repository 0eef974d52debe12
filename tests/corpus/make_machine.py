#!/usr/bin/env python3
"""Writes tests/corpus/machine/: machine mail as the world's servers write it (issue 12,
classes 7-11): bounces and delay warnings of many MTAs and list managers, abuse and
DMARC/TLS reports, auto-replies, and human Outlook/Exchange mail that carries
Exchange's auto-reply-looking headers. Each mail gets `<name>.expected.json`.
The helpers are here; the mails are in machine_bounces.py (classes 7-8),
machine_delays.py (8's delay warnings, 9) and machine_reports.py (10-11).

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


def main():
    import machine_bounces  # noqa: F401  (each registers its mails, in this order)
    import machine_delays  # noqa: F401
    import machine_reports  # noqa: F401
    from make_machine import MAILS as registered  # the module the three filled (this file runs as __main__)

    os.makedirs(OUT, exist_ok=True)
    for name, text, expected in registered:
        data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
        assert len(data) < 300 * 1024, name
        with open(os.path.join(OUT, name + ".eml"), "wb") as f:
            f.write(data)
        with open(os.path.join(OUT, name + ".expected.json"), "w", encoding="utf-8") as f:
            f.write(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(registered)} mails in {OUT}")


if __name__ == "__main__":
    main()
