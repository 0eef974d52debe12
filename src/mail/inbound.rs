//! Parsing a received message into the facts the gateway needs.

use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

use super::{Attachment, bare_id, dsn, forward, quote, shape};

/// A received message, reduced to what the gateway uses.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// Message-ID without brackets, when the mail has one.
    pub message_id: Option<String>,
    /// SHA-256 of the raw bytes, hex.
    pub content_hash: String,
    /// SHA-256 of what makes this mail this mail (sender, subject, text, attachments),
    /// without what servers add or re-encode on the way: two copies of one mail (say,
    /// in two mailboxes) share it, two different mails that reuse a Message-ID do not.
    pub fingerprint: [u8; 32],
    /// Size of the raw message in bytes.
    pub raw_len: usize,
    /// Sender address, lower-cased. A bounce may have none that routes: then this is
    /// what its From says without a domain (`mailer-daemon`), or empty (`From: <>`, no
    /// From at all); such a mail is always machine mail (see [`sender_less_bounce`]).
    pub from: String,
    /// Sender display name.
    pub from_name: Option<String>,
    /// To addresses, lower-cased.
    pub to: Vec<String>,
    /// Cc addresses, lower-cased.
    pub cc: Vec<String>,
    /// Where the mail server delivered the mail: every `X-Original-To` (the recipient before
    /// alias expansion), then every `Delivered-To`, top first, lower-cased. Anybody can write
    /// these headers too: they only ever choose among the desk's own addresses.
    pub delivered_to: Vec<String>,
    /// Subject as decoded (empty when absent).
    pub subject: String,
    /// In-Reply-To Message-IDs.
    pub in_reply_to: Vec<String>,
    /// References Message-IDs.
    pub references: Vec<String>,
    /// The whole text body (HTML converted to text when there is no plain part).
    pub text: String,
    /// The writer's new text: `text` without quoted history.
    pub new_text: String,
    /// The rule that cut the quoted history from `new_text` (none when nothing was cut).
    pub quote_cut: Option<quote::Rule>,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Every header as (name, raw value), in order.
    pub headers: Vec<(String, String)>,
    /// The Content-Language header, a hint for language detection.
    pub content_language: Option<String>,
    /// The language of `new_text`, or of the `content_language` hint, detected once when
    /// the mail is read (on the parsing threads, not on the deciding one): see [`crate::lang::detect`].
    pub detected_language: Option<String>,
    /// The top-level MIME type (`multipart/report`, `text/plain` …).
    pub content_type: String,
    /// The `report-type` parameter of a `multipart/report`.
    pub report_type: Option<String>,
    /// Message-IDs of the message a report returns (an attached message, returned
    /// headers, a copy in the text, folded or not), without brackets; read only from
    /// mail that may be a report (see [`may_be_report`]).
    pub report_ids: Vec<String>,
    /// The delivery-status and feedback-report parts, as read.
    pub report_parts: dsn::ReportParts,
    /// What the edge verified of its sender (DKIM, DMARC) before the decision;
    /// [`super::auth::Checked::NotChecked`] as parsed.
    pub authentication: super::auth::Authentication,
    /// The forwarded mail it carries, inline or attached (see [`forward`]); whether
    /// it counts depends on who forwarded it (see [`crate::gateway`]).
    pub forward: Option<forward::Forward>,
}

impl Inbound {
    /// The key that makes re-reading this mail harmless: its Message-ID, or its content hash.
    pub fn dedupe_key(&self) -> String {
        match &self.message_id {
            Some(id) => format!("mid:{id}"),
            None => format!("sha256:{}", self.content_hash),
        }
    }

    /// The Message-ID to record: the real one, or one derived from the content hash.
    pub fn record_id(&self) -> String {
        self.message_id.clone().unwrap_or_else(|| format!("{}@no-message-id.invalid", &self.content_hash[..32]))
    }

    /// Every Message-ID this mail refers to, most specific first.
    pub fn referenced_ids(&self) -> impl Iterator<Item = &str> {
        self.in_reply_to.iter().chain(self.references.iter().rev()).map(String::as_str)
    }
}

/// Why a mail could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// mail-parser found no message in the bytes.
    #[error("not a parseable RFC 5322 message")]
    NotAMessage,
    /// There is no usable From address.
    #[error("no sender address (From)")]
    NoSender,
    /// NUL bytes in the header section.
    #[error("NUL bytes in the headers")]
    NulInHeaders,
    /// A header line longer than the limit.
    #[error("a header line of {0} bytes (limit {MAX_HEADER_LINE})")]
    HeaderLineTooLong(usize),
    /// More MIME parts than the limit.
    #[error("{0} MIME parts (limit {MAX_PARTS})")]
    TooManyParts(usize),
    /// More distinct MIME boundaries declared than there may be parts.
    #[error("more than {MAX_PARTS} MIME boundaries declared")]
    TooManyBoundaries,
    /// More header fields, over all header sections, than the limit.
    #[error("{0} header fields (limit {MAX_HEADER_FIELDS})")]
    TooManyHeaderFields(usize),
    /// Multiparts nested deeper than the limit.
    #[error("multiparts nested {0} deep (limit {MAX_DEPTH})")]
    TooDeep(usize),
}

/// The longest header line accepted (bytes).
pub const MAX_HEADER_LINE: usize = 64 * 1024;
/// The most MIME parts accepted.
pub const MAX_PARTS: usize = 2_000;
/// The deepest multipart nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// The most header fields accepted, the top section's and every part's together (a
/// mail of 2,000 parts with four fields each is 8,001).
pub const MAX_HEADER_FIELDS: usize = 10_000;

/// Structural limits checked on the raw mail before parsing.
fn check_structure(raw: &[u8]) -> Result<(), Unreadable> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| raw.windows(2).position(|w| w == b"\n\n")).unwrap_or(raw.len());
    let head = &raw[..end];
    if head.contains(&0) {
        return Err(Unreadable::NulInHeaders);
    }
    let longest = head.split(|b| *b == b'\n').map(<[u8]>::len).max().unwrap_or(0);
    if longest > MAX_HEADER_LINE {
        return Err(Unreadable::HeaderLineTooLong(longest));
    }
    // What mail-parser would build a structure for, counted before it does (see `shape`).
    let shape = shape::count(raw, MAX_PARTS).ok_or(Unreadable::TooManyBoundaries)?;
    if shape.header_fields > MAX_HEADER_FIELDS {
        return Err(Unreadable::TooManyHeaderFields(shape.header_fields));
    }
    // Each multipart's closing delimiter starts no part.
    let parts = shape.delimiters.saturating_sub(shape.boundaries);
    if parts > MAX_PARTS {
        return Err(Unreadable::TooManyParts(parts));
    }
    Ok(())
}

/// Depth of the MIME tree, without recursion.
fn depth(msg: &mail_parser::Message<'_>) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(0u32, 1usize)];
    while let Some((id, d)) = stack.pop() {
        deepest = deepest.max(d);
        if d > MAX_DEPTH {
            break;
        }
        if let Some(mail_parser::PartType::Multipart(children)) = msg.parts.get(id as usize).map(|p| &p.body) {
            stack.extend(children.iter().map(|c| (*c, d + 1)));
        }
    }
    deepest
}

/// SHA-256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `bytes` as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The [`Inbound::fingerprint`] of a mail: its sender, subject, text and the hashes
/// of its attachments, as decoded. Trace headers, a Date or Message-ID added on the
/// way, and a change of transfer encoding between servers do not change it.
fn fingerprint(from: &str, subject: &str, text: &str, attachments: &[Attachment]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [from, subject, text] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    for a in attachments {
        h.update(Sha256::digest(&a.data));
    }
    h.finalize().into()
}

/// Words of delivery software in the first 4 KB of a body (any MTA's report, in any style).
fn looks_like_bounce_body(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase();
    [
        "mailer-daemon",
        "postmaster@",
        "undeliverable",
        "undelivered",
        "could not be delivered",
        "couldn't be delivered",
        "wasn't able to deliver",
        "unable to deliver",
        "delivery has failed",
        "delivery failure",
        "failed permanently",
        "not been delivered",
        "delivery status notification",
        "delayed",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// True when the sender alone says machine: a daemon's name, a null or absent From,
/// a null Return-Path, a no-reply or list-manager address.
fn machine_sender(from: &str, return_path_null: bool) -> bool {
    let local = from.split('@').next().unwrap_or("").to_ascii_lowercase();
    return_path_null
        || local.is_empty()
        || ["mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster", "no-reply", "noreply", "bounce", "bounces", "sympa", "mailman"]
            .iter()
            .any(|w| local == *w)
        || local.ends_with("-bounces")
        || local.ends_with("-owner")
        || local.ends_with("-request")
        || local.starts_with("owner-")
        || local.starts_with("bounce")
        || local.starts_with("no-reply")
        || local.starts_with("noreply")
}

/// True when `mail` may be a report whose returned Message-IDs are worth reading:
/// a `multipart/report`, a delivery-status part, a machine sender, or words of
/// delivery software in the body.
fn may_be_report(content_type: &str, parts: &dsn::ReportParts, from: &str, return_path_null: bool, body: &[u8]) -> bool {
    content_type == "multipart/report"
        || parts.delivery_status
        || parts.feedback_type.is_some()
        || machine_sender(from, return_path_null)
        || looks_like_bounce_body(body)
}

/// The daemon names a bounce's From may carry without a domain.
const DAEMON_NAMES: [&str; 5] = ["mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster", "mail delivery subsystem"];

/// Issue 12, class 7: the sender of a mail whose From has no routable address, when the
/// mail is a bounce all the same: `MAILER-DAEMON` (or another daemon name) without a
/// domain, as the address or as the only word of the From; or no address at all
/// (`From: <>`, no From) on a mail shaped as a delivery report (a delivery-status part,
/// `multipart/report`, or a null Return-Path). It is returned as the From reads,
/// lower-cased, without a domain (`mailer-daemon`, or empty). `None` for anything
/// else: that mail has no sender and stays unreadable.
pub fn sender_less_bounce(
    address: Option<&str>,
    name: Option<&str>,
    content_type: &str,
    parts: &dsn::ReportParts,
    return_path_null: bool,
) -> Option<String> {
    let norm = |s: Option<&str>| s.map(|w| w.trim().trim_matches(|c| c == '<' || c == '>').trim().to_ascii_lowercase()).unwrap_or_default();
    let (address, name) = (norm(address), norm(name));
    if DAEMON_NAMES.contains(&address.as_str()) {
        return Some(address);
    }
    if address.is_empty() && DAEMON_NAMES.contains(&name.as_str()) {
        return Some(name);
    }
    let shaped = parts.delivery_status || content_type == "multipart/report" || return_path_null;
    (address.is_empty() && shaped).then_some(address)
}

/// Joins the soft line breaks of `format=flowed` text (RFC 3676): a line that
/// ends with a space continues on the next of the same quote depth; quote depth
/// and space-stuffing are kept. A soft break before a line of another depth is
/// a hard one (RFC 3676 4.5: such lines never join), so a quote never swallows
/// the answer below it.
fn unflow(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending = false;
    let mut pending_depth = 0;
    for line in text.lines() {
        let is_sig = line == "-- ";
        let depth = line.chars().take_while(|c| *c == '>').count();
        let content = &line[depth..];
        let content = content.strip_prefix(' ').unwrap_or(content);
        if pending && depth != pending_depth {
            out.push('\n');
            pending = false;
        }
        pending_depth = depth;
        if !pending && depth > 0 {
            out.push_str(&">".repeat(depth));
            out.push(' ');
        }
        if !is_sig && content.ends_with(' ') {
            out.push_str(if delsp { &content[..content.len() - 1] } else { content });
            pending = true;
        } else {
            out.push_str(content);
            out.push('\n');
            pending = false;
        }
    }
    out
}

/// How much of a mail [`glimpse`] reads.
const GLIMPSE_BYTES: usize = 64 * 1024;

/// Sender and subject of a mail that could not be read as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Glimpse {
    /// Sender address, lower-cased (empty when none could be read).
    pub from: String,
    /// Subject as decoded (empty when none could be read).
    pub subject: String,
}

/// Sender and subject of a mail, from the headers in its first 64 KB only: what
/// a quarantine record shows, and how an unreadable mail finds the SR it names.
pub fn glimpse(raw: &[u8]) -> Glimpse {
    let head = raw.get(..GLIMPSE_BYTES).unwrap_or(raw);
    let Some(msg) = MessageParser::default().parse_headers(head) else { return Glimpse::default() };
    let from = msg.from().and_then(|a| a.first()).and_then(|a| a.address()).map(|a| a.trim().to_ascii_lowercase()).unwrap_or_default();
    let subject = msg.subject().map(|s| s.trim().chars().take(500).collect()).unwrap_or_default();
    Glimpse { from, subject }
}

/// The addresses of `X-Original-To`, then of `Delivered-To` headers, in header order
/// (a bare address or one in angle brackets; anything else is skipped).
fn delivered_to(headers: &[(String, String)]) -> Vec<String> {
    let values = |name: &'static str| headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    values("X-Original-To")
        .chain(values("Delivered-To"))
        .map(|v| v.trim().trim_start_matches('<').trim_end_matches('>').trim().to_ascii_lowercase())
        .filter(|a| a.contains('@') && !a.contains(char::is_whitespace))
        .collect()
}

/// Parses raw message bytes.
pub fn parse(raw: &[u8]) -> Result<Inbound, Unreadable> {
    parse_at(raw, true)
}

/// Parses a mail attached to another (a forwarded `message/rfc822`): like [`parse`],
/// without looking for forwards inside it (one level is read, never a chain).
pub fn parse_nested(raw: &[u8]) -> Result<Inbound, Unreadable> {
    parse_at(raw, false)
}

fn parse_at(raw: &[u8], outer: bool) -> Result<Inbound, Unreadable> {
    // An attached mail is counted again although its mail's count covered it: parsed on its
    // own, the encoded mails inside it are decoded afresh, a level deeper than that count went.
    check_structure(raw)?;
    let msg = MessageParser::default().parse(raw).ok_or(Unreadable::NotAMessage)?;
    if msg.parts.len() > MAX_PARTS {
        return Err(Unreadable::TooManyParts(msg.parts.len()));
    }
    let d = depth(&msg);
    if d > MAX_DEPTH {
        return Err(Unreadable::TooDeep(d));
    }
    let root_type = msg.root_part().content_type();
    let content_type = root_type
        .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")))
        .unwrap_or_else(|| "text/plain".into())
        .to_ascii_lowercase();
    let report_type = root_type.and_then(|ct| ct.attribute("report-type")).map(str::to_string);
    let report_parts = dsn::report_parts(&msg);
    let return_path_null = msg.header_raw("Return-Path").is_some_and(|v| v.trim() == "<>");
    let sender = msg.from().and_then(|a| a.first());
    let address = sender.and_then(|s| s.address()).map(|a| a.trim().to_ascii_lowercase());
    let from = match address.as_deref().filter(|a| a.contains('@')) {
        Some(a) => a.to_string(),
        None => {
            let name = sender.and_then(|s| s.name());
            sender_less_bounce(address.as_deref(), name, &content_type, &report_parts, return_path_null).ok_or(Unreadable::NoSender)?
        }
    };
    let from_name = sender.and_then(|s| s.name()).map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    let addresses = |a: Option<&mail_parser::Address<'_>>| -> Vec<String> {
        a.map(|a| a.iter().filter_map(|x| x.address()).map(|x| x.trim().to_ascii_lowercase()).collect()).unwrap_or_default()
    };
    let ids = |v: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        v.as_text_list().map(|l| l.iter().map(|s| bare_id(s)).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    };
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let flowed = msg
        .text_part(0)
        .and_then(|p| p.content_type())
        .filter(|ct| ct.attribute("format").is_some_and(|f| f.eq_ignore_ascii_case("flowed")));
    let text = match flowed {
        Some(ct) => unflow(&text, ct.attribute("delsp").is_some_and(|d| d.eq_ignore_ascii_case("yes"))),
        None => text,
    };
    // HTML-only mail: cut the quote using the HTML structure (blockquote, gmail_quote, divRplyFwdMsg).
    let html_only = msg.text_part(0).is_some_and(|p| matches!(p.body, mail_parser::PartType::Html(_)));
    let html = if html_only { msg.body_html(0) } else { None };
    let quote::Cut { text: new_text, rule: quote_cut } = match html {
        Some(html) => quote::cut_html(&html),
        None => quote::cut_text(&text),
    };
    let attachments: Vec<Attachment> = msg
        .attachments()
        .enumerate()
        .map(|(i, part)| Attachment {
            name: part.attachment_name().map(str::to_string).unwrap_or_else(|| format!("attachment-{}", i + 1)),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            data: part.contents().to_vec(),
        })
        .collect();
    let headers: Vec<(String, String)> = msg.headers_raw().map(|(n, v)| (n.to_string(), v.trim().to_string())).collect();
    let body = raw.get(msg.root_part().raw_body_offset() as usize..).unwrap_or_default();
    let report_ids =
        if may_be_report(&content_type, &report_parts, &from, return_path_null, body) { dsn::returned_ids(&msg, body) } else { Vec::new() };
    let delivered_to = delivered_to(&headers);
    let content_language = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("Content-Language")).map(|(_, v)| v.clone());
    let subject = msg.subject().unwrap_or_default().trim().to_string();
    let fingerprint = fingerprint(&from, &subject, &text, &attachments);
    let forward = if outer { forward::find(&msg, &text, &subject, &new_text) } else { None };
    let detected_language = crate::lang::detect(&new_text, content_language.as_deref());
    Ok(Inbound {
        detected_language,
        content_type,
        report_type,
        report_ids,
        report_parts,
        headers,
        content_language,
        message_id: msg.message_id().map(bare_id).filter(|s| !s.is_empty()),
        fingerprint,
        content_hash: sha256_hex(raw),
        raw_len: raw.len(),
        from,
        from_name,
        to: addresses(msg.to()),
        cc: addresses(msg.cc()),
        delivered_to,
        subject,
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        new_text,
        quote_cut,
        text,
        attachments,
        authentication: super::auth::Authentication::default(),
        forward,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_facts() {
        let raw = b"From: Jane Doe <Jane@Example.com>\r\nTo: support@example.test\r\nSubject: Re: [SR#100001] Printer\r\nMessage-ID: <abc@example.com>\r\nIn-Reply-To: <x@srgate>\r\nReferences: <a@b> <x@srgate>\r\n\r\nStill broken.\r\n\r\nOn Mon, 2 Mar 2026, Support wrote:\r\n> old\r\n";
        let m = parse(raw).expect("parses");
        assert_eq!(m.from, "jane@example.com");
        assert_eq!(m.from_name.as_deref(), Some("Jane Doe"));
        assert_eq!(m.message_id.as_deref(), Some("abc@example.com"));
        assert_eq!(m.in_reply_to, vec!["x@srgate"]);
        assert_eq!(m.references, vec!["a@b", "x@srgate"]);
        assert_eq!(m.new_text, "Still broken.");
        assert_eq!(m.dedupe_key(), "mid:abc@example.com");
        assert_eq!(m.referenced_ids().collect::<Vec<_>>(), vec!["x@srgate", "x@srgate", "a@b"]);
    }

    #[test]
    fn hostile_structures_are_refused() {
        let nul = b"From: a@example.com\r\nSubject: x\0y\r\n\r\nbody".to_vec();
        assert_eq!(parse(&nul).map(|_| ()), Err(Unreadable::NulInHeaders));
        let long = format!("From: a@example.com\r\nX-Long: {}\r\n\r\nbody", "a".repeat(MAX_HEADER_LINE + 1));
        assert!(matches!(parse(long.as_bytes()), Err(Unreadable::HeaderLineTooLong(_))));
        let mut many = String::from("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n");
        for _ in 0..(MAX_PARTS + 10) {
            many.push_str("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n");
        }
        many.push_str("--b--\r\n");
        assert!(matches!(parse(many.as_bytes()), Err(Unreadable::TooManyParts(_))));
        let mut deep = String::from("From: a@example.com\r\n");
        for i in 0..200 {
            deep.push_str(&format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"));
        }
        deep.push_str("Content-Type: text/plain\r\n\r\nx\r\n");
        assert!(matches!(parse(deep.as_bytes()), Err(Unreadable::TooDeep(_))));
        // NUL bytes in a body are only data.
        assert!(parse(b"From: a@example.com\r\nSubject: x\r\n\r\nbo\0dy").is_ok());
    }

    #[test]
    fn structures_too_large_for_the_parser_are_refused_before_it_runs() {
        let top = format!("From: a@example.com\r\n{}\r\nbody", "X-A: v\r\n".repeat(MAX_HEADER_FIELDS));
        assert_eq!(parse(top.as_bytes()).map(|_| ()), Err(Unreadable::TooManyHeaderFields(MAX_HEADER_FIELDS + 1)));
        // In a part, and in an attached mail's own headers.
        let fields = "X-A: v\r\n".repeat(MAX_HEADER_FIELDS);
        let multipart = "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n";
        let in_part = format!("{multipart}--b\r\n{fields}\r\nx\r\n--b--\r\n");
        assert!(matches!(parse(in_part.as_bytes()), Err(Unreadable::TooManyHeaderFields(_))));
        let attached = format!("{multipart}--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: c@example.com\r\n{fields}\r\nx\r\n--b--\r\n");
        assert!(matches!(parse(attached.as_bytes()), Err(Unreadable::TooManyHeaderFields(_))));
        // As many parts as the limit are read; the parts' own field lines count, the text's do not.
        let parts = |n: usize| format!("{multipart}{}--b--\r\n", "--b\r\nContent-Type: text/plain\r\n\r\nNote: x\r\n".repeat(n));
        assert_eq!(parse(parts(MAX_PARTS - 1).as_bytes()).map(|m| m.raw_len > 0), Ok(true));
        assert_eq!(parse(parts(MAX_PARTS + 1).as_bytes()).map(|_| ()), Err(Unreadable::TooManyParts(MAX_PARTS + 1)));
        let boundaries: String = (0..=MAX_PARTS).map(|i| format!("X-B{i}: multipart/mixed; boundary=b{i}\r\n")).collect();
        assert_eq!(parse(format!("From: a@example.com\r\n{boundaries}\r\nx").as_bytes()).map(|_| ()), Err(Unreadable::TooManyBoundaries));
    }

    #[test]
    fn flowed_text_is_joined() {
        assert_eq!(unflow("one two \nthree\n> quoted \n> more\n-- \nsig\n", false), "one two three\n> quoted more\n-- \nsig\n");
        // Lines of different quote depth never join.
        assert_eq!(unflow("> question? \nanswer\nnew \n> old\n", false), "> question? \nanswer\nnew \n> old\n");
    }

    #[test]
    fn the_fingerprint_ignores_the_way_not_the_content() {
        let a = parse(b"Received: from a\r\nFrom: a@example.com\r\nSubject: x\r\nMessage-ID: <m@x>\r\n\r\nbody\r\n").expect("parses");
        let b = parse(
            b"Received: from b\r\nDate: Tue, 3 Mar 2026 10:00:00 +0000\r\nFrom: a@example.com\r\nSubject: x\r\nMessage-ID: <m@x>\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbo=64y\r\n",
        )
        .expect("parses");
        let c = parse(b"From: a@example.com\r\nSubject: x\r\nMessage-ID: <m@x>\r\n\r\nanother body\r\n").expect("parses");
        assert_eq!(a.fingerprint, b.fingerprint, "trace headers, an added Date, another encoding: the same mail");
        assert_ne!(a.fingerprint, c.fingerprint, "the same Message-ID on another mail");
    }

    #[test]
    fn delivery_headers_are_read_original_recipient_first() {
        let raw = b"Delivered-To: Box@example.test\r\nX-Original-To: <Sales@example.test>\r\nDelivered-To: not an address\r\nFrom: a@example.com\r\nTo: Undisclosed recipients:;\r\nSubject: x\r\n\r\nbody";
        let m = parse(raw).expect("parses");
        assert_eq!(m.delivered_to, vec!["sales@example.test", "box@example.test"]);
        assert!(m.to.is_empty());
    }

    #[test]
    fn no_sender_is_unreadable() {
        assert_eq!(parse(b"Subject: hi\r\n\r\nbody").map(|_| ()), Err(Unreadable::NoSender));
    }

    #[test]
    fn missing_message_id_dedupes_by_content() {
        let m = parse(b"From: a@example.com\r\nSubject: x\r\n\r\nbody").expect("parses");
        assert!(m.dedupe_key().starts_with("sha256:"));
        assert!(m.record_id().ends_with("@no-message-id.invalid"));
    }
}
