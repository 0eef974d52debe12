//! Mail in and out, as values.
//!
//! - [`inbound`]: raw bytes → [`inbound::Inbound`] (mail-parser), total: bad mail is an error value, never a panic.
//! - [`dsn`]: the fields of delivery-status and feedback-report parts, the Message-IDs a report returns.
//! - [`classify`]: human, auto-reply, bulk, bounce, delay, report or our own mail, with the signals that decided.
//! - [`forward`]: the original mail inside a forward (inline blocks of the common clients, attached `message/rfc822`).
//! - [`thread`]: the threading keys of a mail (subject token, referenced Message-IDs) and subject cleaning.
//! - [`quote`]: the writer's new text, without the quoted history.
//! - [`outbound`]: an [`outbound::OutMail`] → RFC 5322 bytes (lettre's builder).
//!
//! Nothing here does I/O.

pub mod auth;
pub mod classify;
pub mod dsn;
pub mod forward;
pub mod inbound;
pub mod outbound;
pub mod quote;
pub mod shape;
pub mod thread;

/// A file attached to a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name as the sender gave it (or `attachment-N`).
    pub name: String,
    /// MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// The decoded content.
    pub data: Vec<u8>,
}

impl Attachment {
    /// SHA-256 of the content, hex.
    pub fn sha256(&self) -> String {
        inbound::sha256_hex(&self.data)
    }
}

/// The whole pure read path for one raw mail, as the gateway runs it: parse,
/// classify, threading keys, the new text (text and HTML cutters), language.
/// Returns a small number derived from every step so that nothing is optimized
/// away. Shared by the fuzz target, the property tests and the benchmark.
pub fn read_path(raw: &[u8]) -> usize {
    let Ok(mail) = inbound::parse(raw) else { return 0 };
    let c = classify::classify(&mail, |id| id.starts_with("sr"), &["support@example.test"]);
    let token = thread::token_in(&mail.subject).unwrap_or(0) as usize;
    let mentions = thread::tokens_in(&mail.new_text).len();
    let marker = thread::marker_in(&mail.text, "a1b2c3d4e5f6").unwrap_or(0) as usize;
    let clean = thread::clean_subject(&mail.subject).len() + usize::from(thread::is_reply_subject(&mail.subject));
    let cut = quote::new_text(&mail.text).len() + quote::new_text_from_html(&mail.text).len();
    let language = mail.detected_language.as_ref().map_or(0, |l| l.len());
    usize::from(c.class.is_machine()) + token + mentions + marker + clean + cut + language
}

/// Strips surrounding angle brackets and whitespace from a Message-ID.
pub fn bare_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}
