//! Proves the real-mail-stack harness (tests/common): Postfix SMTP -> LMTP -> Dovecot IMAP,
//! and mutt as a real client. Not about srgate itself.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use mail_parser::MessageParser;

const WAIT: Duration = Duration::from_secs(30);

/// The raw value of header `name`, unfolded (mutt folds long References lines).
fn header(raw: &[u8], name: &str) -> Option<String> {
    let msg = MessageParser::default().parse(raw).expect("parsable message");
    msg.header_raw(name).map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[test]
fn smtp_send_arrives_in_imap_inbox() {
    let s = common::stack();
    let to = s.unique_domain_user("support");
    let from = s.unique_user_at("customer", "example.com");
    let raw = format!(
        "From: Customer <{from}>\n\
         To: {to}\n\
         Subject: printer on fire\n\
         Message-ID: <smoke-1@example.com>\n\
         Date: Sat, 28 Nov 2026 10:00:00 +0000\n\
         \n\
         Hello,\n\
         .a line starting with a dot\n\
         .\n\
         the end\n"
    );
    s.send(raw.as_bytes(), &from, &[&to]);

    let msgs = s.wait_for_messages(&to, "INBOX", 1, WAIT);
    assert_eq!(msgs.len(), 1);
    let got = &msgs[0];
    assert_eq!(header(got, "Subject").as_deref(), Some("printer on fire"));
    assert_eq!(header(got, "Message-ID").as_deref(), Some("<smoke-1@example.com>"));
    let text = String::from_utf8_lossy(got);
    assert!(text.contains("\r\n.a line starting with a dot\r\n.\r\nthe end\r\n"), "{text}");
    assert!(text.starts_with("Return-Path: <"), "delivered via LMTP: {text}");

    assert_eq!(s.count_messages(&to, "INBOX"), 1);
    // BODY.PEEK[] must not have set \Seen
    let flags = s.flags(&to, "INBOX");
    assert_eq!(flags.len(), 1);
    assert!(!flags[0].1.iter().any(|f| f == "\\Seen"), "{flags:?}");
    // the sender's own mailbox stays empty; a missing folder counts as 0
    assert_eq!(s.count_messages(&from, "INBOX"), 0);
    assert_eq!(s.count_messages(&to, "No/Such/Folder"), 0);
}

#[test]
fn mutt_reply_keeps_threading_headers() {
    let s = common::stack();
    let support = s.unique_domain_user("support");
    let customer = s.unique_user_at("customer", "example.com");
    let draft = format!(
        "From: Customer Name <{customer}>\n\
         To: {support}\n\
         Subject: Re: [SR-00042] printer on fire\n\
         In-Reply-To: <sr-00042.1@example.test>\n\
         References: <root-0@example.com> <sr-00042.1@example.test>\n\
         \n\
         Still burning. Ünïcödé too.\n"
    );
    s.mutt_send(&customer, &draft);

    let msgs = s.wait_for_messages(&support, "INBOX", 1, WAIT);
    let got = &msgs[0];
    assert_eq!(header(got, "In-Reply-To").as_deref(), Some("<sr-00042.1@example.test>"));
    assert_eq!(header(got, "References").as_deref(), Some("<root-0@example.com> <sr-00042.1@example.test>"));
    assert_eq!(header(got, "Subject").as_deref(), Some("Re: [SR-00042] printer on fire"));
    let msg = MessageParser::default().parse(got).unwrap();
    assert_eq!(msg.from().unwrap().first().unwrap().address(), Some(customer.as_str()));
    assert!(msg.body_text(0).unwrap().contains("Ünïcödé"));
    // mutt really was the client: it generated a Message-ID with the muttrc's $hostname
    let mid = header(got, "Message-ID").unwrap_or_default();
    assert!(mid.ends_with("@srgate-tests.example.test>"), "{mid}");
}

#[test]
fn parallel_senders_each_get_their_own_mailbox() {
    let s = common::stack();
    std::thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                let to = s.unique_domain_user(&format!("par{t}"));
                for i in 0..3 {
                    let raw = format!("To: {to}\nSubject: msg {i}\n\nbody {i}\n");
                    s.send(raw.as_bytes(), "sender@example.com", &[&to]);
                }
                let msgs = s.wait_for_messages(&to, "INBOX", 3, WAIT);
                assert_eq!(msgs.len(), 3);
            });
        }
    });
}

#[test]
fn folders_append_and_relay_refusal() {
    let s = common::stack();
    let user = s.unique_domain_user("folders");
    let folders = s.list_folders(&user);
    for f in ["INBOX", "Drafts", "Sent", "Trash"] {
        assert!(folders.iter().any(|x| x == f), "{f} missing in {folders:?}");
    }
    s.create_folder(&user, "Support Done");
    s.create_folder(&user, "Support Done"); // idempotent
    assert!(s.list_folders(&user).iter().any(|x| x == "Support Done"));
    let uid = s.append(&user, "Support Done", b"Subject: appended\n\nhi\n");
    let msgs = s.messages(&user, "Support Done");
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].uid, uid);
    assert_eq!(header(&msgs[0].raw, "Subject").as_deref(), Some("appended"));

    // nothing leaves the machine
    let err = s.try_send(b"Subject: x\n\nx\n", "a@example.com", &["someone@elsewhere.invalid"]).unwrap_err();
    assert!(err.contains("554"), "{err}");

    assert!(common::wait_until(Duration::from_secs(1), Duration::from_millis(10), || s.count_messages(&user, "Support Done") == 1));
}
