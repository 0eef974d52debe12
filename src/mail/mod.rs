//! Mail in and out, as values.
//!
//! - [`inbound`]: raw bytes → [`inbound::Inbound`] (mail-parser), total: bad mail is an error value, never a panic.
//! - [`thread`]: the threading keys of a mail (subject token, referenced Message-IDs) and subject cleaning.
//! - [`quote`]: the writer's new text, without the quoted history.
//! - [`outbound`]: an [`outbound::OutMail`] → RFC 5322 bytes (lettre's builder).
//!
//! Nothing here does I/O.

pub mod auth;
pub mod classify;
pub mod inbound;
pub mod outbound;
pub mod quote;
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

/// Strips surrounding angle brackets and whitespace from a Message-ID.
pub fn bare_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}
