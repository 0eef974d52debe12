//! Reading the mail the tests receive: headers, subject, body, attachments, SR events.

use mail_parser::{MessageParser, MimeHeaders};
use serde_json::Value;

/// The value of header `name`, unfolded; empty when absent.
pub fn header(raw: &[u8], name: &str) -> String {
    MessageParser::default()
        .parse(raw)
        .and_then(|m| m.header_raw(name).map(|v| v.split_whitespace().collect::<Vec<_>>().join(" ")))
        .unwrap_or_default()
}

/// The decoded subject.
pub fn subject(raw: &[u8]) -> String {
    MessageParser::default().parse(raw).and_then(|m| m.subject().map(str::to_string)).unwrap_or_default()
}

/// The text body.
pub fn body(raw: &[u8]) -> String {
    MessageParser::default().parse(raw).and_then(|m| m.body_text(0).map(|b| b.into_owned())).unwrap_or_default()
}

/// The attachments' file names, in order.
pub fn attachment_names(raw: &[u8]) -> Vec<String> {
    MessageParser::default()
        .parse(raw)
        .map(|m| m.attachments().filter_map(|a| a.attachment_name().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The kinds of an SR's events (`sr show --json`), oldest first.
pub fn kinds(sr: &Value) -> Vec<String> {
    sr["events"].as_array().into_iter().flatten().filter_map(|e| e["kind"].as_str()).map(str::to_string).collect()
}
