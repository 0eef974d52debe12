//! The machine-readable parts of a report, as facts: the fields of RFC 3464
//! `message/delivery-status` and RFC 5965 `message/feedback-report` parts, and
//! the Message-IDs of the message a report returns.
//!
//! What the facts mean (a failure, a delay, an abuse report) is decided in
//! [`super::classify`]; here nothing is judged, only read.

use std::sync::LazyLock;

use mail_parser::{Message, MimeHeaders, PartType};
use regex::bytes::Regex;

/// What the parts of a mail say about delivery and feedback.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportParts {
    /// A `message/delivery-status` part is present (with or without a `report-type`).
    pub delivery_status: bool,
    /// The `Action:` values of the delivery-status parts, lower-cased, in order, each once
    /// (`failed`, `delayed`, `delivered`, `relayed`, `expanded`).
    pub actions: Vec<String>,
    /// A `message/feedback-report` part is present: its `Feedback-Type` (lower-cased;
    /// empty when the part names none).
    pub feedback_type: Option<String>,
}

/// At most this many Message-IDs are taken from a report.
const MAX_IDS: usize = 20;
/// At most this many `Action:` values are kept.
const MAX_ACTIONS: usize = 8;
/// How much of a delivery-status or feedback part is read.
const FIELDS_BYTES: usize = 16 * 1024;

/// A `Message-ID:` header line, also folded (`Message-Id:` CRLF, whitespace, `<id>`) and
/// also quoted with `>` or indented, as bounces copy the returned headers.
static MESSAGE_ID_LINE: LazyLock<Regex> =
    LazyLock::new(|| crate::pattern::literal_bytes(r"(?im)^[ \t>]*Message-I[dD][ \t]*:[ \t]*(?:\r?\n[ \t>]+)?<([^<>\s]{1,250})>"));

/// An `Action:` or `Feedback-Type:` field of a report part.
static FIELD: LazyLock<Regex> =
    LazyLock::new(|| crate::pattern::literal_bytes(r"(?im)^(Action|Feedback-Type)[ \t]*:[ \t]*([A-Za-z-]{1,40})"));

/// Reads the report parts of `msg` (its own parts only, not those of attached messages).
pub fn report_parts(msg: &Message<'_>) -> ReportParts {
    let mut facts = ReportParts::default();
    for part in &msg.parts {
        let Some(ct) = part.content_type() else { continue };
        if !ct.ctype().eq_ignore_ascii_case("message") {
            continue;
        }
        let sub = ct.subtype().unwrap_or("");
        let delivery = sub.eq_ignore_ascii_case("delivery-status") || sub.eq_ignore_ascii_case("global-delivery-status");
        let feedback = sub.eq_ignore_ascii_case("feedback-report");
        if !delivery && !feedback {
            continue;
        }
        let body = part.contents();
        let body = body.get(..FIELDS_BYTES).unwrap_or(body);
        if delivery {
            facts.delivery_status = true;
        }
        if feedback && facts.feedback_type.is_none() {
            facts.feedback_type = Some(String::new());
        }
        for c in FIELD.captures_iter(body) {
            let (Some(name), Some(value)) = (c.get(1), c.get(2)) else { continue };
            let value = String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase();
            if name.as_bytes().eq_ignore_ascii_case(b"action") {
                if delivery && !facts.actions.contains(&value) && facts.actions.len() < MAX_ACTIONS {
                    facts.actions.push(value);
                }
            } else if feedback && facts.feedback_type.as_deref().is_some_and(str::is_empty) {
                facts.feedback_type = Some(value);
            }
        }
    }
    facts
}

/// The Message-IDs of the message a report returns, without brackets, each once, at
/// most [`MAX_IDS`]: the Message-ID of an attached `message/rfc822`, then the
/// `Message-ID:` lines of the decoded text parts (`text/rfc822-headers`, a copy in
/// the text), then those of the raw body (`body`, after the mail's own headers).
pub fn returned_ids(msg: &Message<'_>, body: &[u8]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut add = |id: String| {
        if !id.is_empty() && ids.len() < MAX_IDS && !ids.contains(&id) {
            ids.push(id);
        }
    };
    for part in msg.parts.iter().skip(1) {
        match &part.body {
            PartType::Message(inner) => {
                if let Some(id) = inner.message_id() {
                    add(super::bare_id(id));
                }
            }
            PartType::Text(text) => in_text(text.as_bytes(), &mut add),
            PartType::Binary(bytes) | PartType::InlineBinary(bytes)
                if part.content_type().is_some_and(|ct| ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))) =>
            {
                in_text(bytes, &mut add);
            }
            _ => {}
        }
    }
    if msg.parts.len() <= 1
        && let Some(PartType::Text(text)) = msg.parts.first().map(|p| &p.body)
    {
        in_text(text.as_bytes(), &mut add);
    }
    in_text(body, &mut add);
    ids
}

/// Every `Message-ID:` line of `text`, in order.
fn in_text(text: &[u8], add: &mut impl FnMut(String)) {
    for c in MESSAGE_ID_LINE.captures_iter(text) {
        if let Some(m) = c.get(1) {
            add(String::from_utf8_lossy(m.as_bytes()).into_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn parsed(raw: &str) -> Message<'_> {
        MessageParser::default().parse(raw.as_bytes()).expect("parses")
    }

    #[test]
    fn folded_quoted_and_attached_ids_are_found() {
        let raw = "From: x@example.com\r\nContent-Type: multipart/report; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; a\r\n\r\nFinal-Recipient: rfc822; j@example.com\r\nAction: Failed\r\nStatus: 5.1.1\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-Id:\r\n <a.1@example.test>\r\n--b--\r\n";
        let msg = parsed(raw);
        let facts = report_parts(&msg);
        assert!(facts.delivery_status);
        assert_eq!(facts.actions, vec!["failed"]);
        assert_eq!(returned_ids(&msg, raw.as_bytes()), vec!["a.1@example.test"]);
        let quoted = "From: x@example.com\r\n\r\nCopy:\r\n> Message-ID: <q.2@example.test>\r\n";
        assert_eq!(returned_ids(&parsed(quoted), quoted.as_bytes()), vec!["q.2@example.test"]);
    }

    #[test]
    fn a_feedback_report_names_its_type() {
        let raw = "From: x@example.com\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nabuse\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: auth-failure\r\nVersion: 1\r\n--b--\r\n";
        assert_eq!(report_parts(&parsed(raw)).feedback_type.as_deref(), Some("auth-failure"));
    }
}
