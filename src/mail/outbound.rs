//! Outgoing mail as a value, and its rendering to RFC 5322 bytes.

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart};
use serde::{Deserialize, Serialize};

use super::Attachment;

/// What an outgoing mail is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutKind {
    /// Acknowledgement of a new SR to the customer.
    Acknowledgement,
    /// Notice of a new SR to its CSE.
    CseNotification,
    /// A CSE answer relayed to the customer.
    Relay,
    /// A customer mail forwarded to the CSE.
    CustomerUpdate,
    /// An after-hours P1 paged to on-call.
    Page,
    /// A missed first-response target, to the CSE and the escalation address.
    FirstResponseWarning,
    /// A contact attempt to the customer.
    ContactAttempt,
    /// The closure notice.
    ClosureNotice,
    /// The priority changed, to the customer.
    PriorityChanged,
    /// The SR moved to another CSE, to the customer.
    Reassigned,
    /// The SR's history, to the new CSE.
    History,
    /// An escalation, to the escalation manager (and CSM).
    Escalation,
    /// Escalation accepted, to the customer.
    EscalationConfirmed,
    /// Escalation refused, to the customer.
    EscalationRefused,
    /// Information to the CSE.
    CseInfo,
    /// Bad commands, back to the CSE.
    CommandError,
    /// What the commands did, to the CSE.
    CommandConfirmation,
    /// Attachments too large to forward, to the customer.
    AttachmentTooLarge,
    /// A notice to `admin_address` (a failing credential, a secret about to expire); of no SR.
    AdminNotice,
    /// A CSE's open SRs, answering their `#queue`; of no SR.
    Queue,
    /// A CSE's open SRs, once a business day; of no SR.
    Digest,
    /// The team's summary to `escalation_address`, once a business day; of no SR.
    TeamDigest,
}

impl OutKind {
    /// The template that renders this kind of mail.
    pub fn template(self) -> &'static str {
        match self {
            OutKind::Acknowledgement => "acknowledgement",
            OutKind::CseNotification => "cse_notification",
            OutKind::Relay => "relay",
            OutKind::CustomerUpdate => "customer_update",
            OutKind::Page => "page",
            OutKind::FirstResponseWarning => "first_response_warning",
            OutKind::ContactAttempt => "contact_attempt",
            OutKind::ClosureNotice => "closure_notice",
            OutKind::PriorityChanged => "priority_changed",
            OutKind::Reassigned => "reassigned",
            OutKind::History => "history",
            OutKind::Escalation => "escalation",
            OutKind::EscalationConfirmed => "escalation_confirmed",
            OutKind::EscalationRefused => "escalation_refused",
            OutKind::CseInfo => "cse_info",
            OutKind::CommandError => "command_error",
            OutKind::CommandConfirmation => "command_confirmation",
            OutKind::AttachmentTooLarge => "attachment_too_large",
            OutKind::AdminNotice => "admin_notice",
            OutKind::Queue => "queue",
            OutKind::Digest => "digest",
            OutKind::TeamDigest => "team_digest",
        }
    }

    /// True for mail to the customer's side (the rest goes to staff).
    pub fn to_customer(self) -> bool {
        matches!(
            self,
            OutKind::Acknowledgement
                | OutKind::Relay
                | OutKind::ContactAttempt
                | OutKind::ClosureNotice
                | OutKind::PriorityChanged
                | OutKind::Reassigned
                | OutKind::EscalationConfirmed
                | OutKind::EscalationRefused
                | OutKind::AttachmentTooLarge
        )
    }
}

/// A mail the gateway will send.
#[derive(Debug, Clone)]
pub struct OutMail {
    /// What it is for.
    pub kind: OutKind,
    /// The SR it belongs to.
    pub sr: u64,
    /// Display name on the From line.
    pub from_name: Option<String>,
    /// The support address (From, Reply-To, envelope sender).
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Copied recipients.
    pub cc: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Our Message-ID, without brackets.
    pub message_id: String,
    /// The message this one answers.
    pub in_reply_to: Option<String>,
    /// The thread so far.
    pub references: Vec<String>,
    /// Plain-text body.
    pub body: String,
    /// Files to attach.
    pub attachments: Vec<Attachment>,
    /// `Auto-Submitted` value (RFC 3834), when automated.
    pub auto_submitted: Option<&'static str>,
    /// The Date header: the gateway's clock, never the system's.
    pub date: jiff::Timestamp,
}

/// Why a mail could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// An address did not parse.
    #[error("bad address {0:?}: {1}")]
    Address(String, String),
    /// lettre refused to build the message.
    #[error("cannot build message: {0}")]
    Build(String),
}

fn mailbox(name: Option<&str>, address: &str) -> Result<Mailbox, RenderError> {
    let email = address.parse().map_err(|e: lettre::address::AddressError| RenderError::Address(address.into(), e.to_string()))?;
    Ok(Mailbox::new(name.map(str::to_string), email))
}

fn raw_header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// `text` with every line ending CRLF (a lone LF gets its CR; CRLF stays as it is).
fn crlf_line_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    let mut rest = text;
    while let Some(lf) = rest.find('\n') {
        let line = &rest[..lf];
        out.push_str(line);
        if !line.ends_with('\r') {
            out.push('\r');
        }
        out.push('\n');
        rest = &rest[lf + 1..];
    }
    out.push_str(rest);
    out
}

/// Renders `mail` to RFC 5322 bytes, with threading and loop-prevention headers.
pub fn render(mail: &OutMail) -> Result<Vec<u8>, RenderError> {
    let from = mailbox(mail.from_name.as_deref(), &mail.from)?;
    let mut builder = Message::builder()
        .from(from.clone())
        .reply_to(mailbox(None, &mail.from)?)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}>", mail.message_id)))
        .date(std::time::SystemTime::try_from(mail.date).unwrap_or(std::time::UNIX_EPOCH));
    for to in &mail.to {
        builder = builder.to(mailbox(None, to)?);
    }
    for cc in &mail.cc {
        builder = builder.cc(mailbox(None, cc)?);
    }
    if let Some(parent) = &mail.in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    if !mail.references.is_empty() {
        let refs: Vec<String> = mail.references.iter().map(|r| format!("<{r}>")).collect();
        builder = builder.references(refs.join(" "));
    }
    // Line ends made CRLF here, in one pass: lettre inserts each missing CR in place,
    // which moves the rest of the body every line (a 10,000-line digest took minutes).
    let text = SinglePart::plain(crlf_line_ends(&mail.body));
    let built = if mail.attachments.is_empty() {
        builder.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for a in &mail.attachments {
            let ct = ContentType::parse(&a.content_type)
                .unwrap_or(ContentType::parse("application/octet-stream").map_err(|e| RenderError::Build(e.to_string()))?);
            parts = parts.singlepart(LettreAttachment::new(a.name.clone()).body(a.data.clone(), ct));
        }
        builder.multipart(parts)
    };
    let mut message = built.map_err(|e| RenderError::Build(e.to_string()))?;
    let headers = message.headers_mut();
    headers.insert_raw(raw_header("X-Loop", mail.from.clone()));
    headers.insert_raw(raw_header("X-SRGate-SR", mail.sr.to_string()));
    if let Some(value) = mail.auto_submitted {
        headers.insert_raw(raw_header("Auto-Submitted", value.into()));
    }
    Ok(message.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_become_crlf_once() {
        assert_eq!(crlf_line_ends("a\nb\r\nc\n\nd"), "a\r\nb\r\nc\r\n\r\nd");
        assert_eq!(crlf_line_ends("\n"), "\r\n");
        assert_eq!(crlf_line_ends("no line end"), "no line end");
        assert_eq!(crlf_line_ends("é\nü\r\n"), "é\r\nü\r\n");
        let long = "SR 100001, waiting on the customer since Monday\n".repeat(10_000);
        assert_eq!(crlf_line_ends(&long), long.replace('\n', "\r\n"));
    }

    #[test]
    fn renders_threading_headers() {
        let mail = OutMail {
            kind: OutKind::Acknowledgement,
            sr: 100_001,
            from_name: Some("Example Support".into()),
            from: "support@example.test".into(),
            to: vec!["jane@example.com".into()],
            cc: vec![],
            subject: "[SR#100001] Printer".into(),
            message_id: "sr100001.2.abc@example.test".into(),
            in_reply_to: Some("orig@example.com".into()),
            references: vec!["orig@example.com".into()],
            body: "We have your request.".into(),
            attachments: vec![Attachment { name: "log.txt".into(), content_type: "text/plain".into(), data: b"log".to_vec() }],
            auto_submitted: Some("auto-replied"),
            date: "2026-03-03T10:00:00Z".parse().expect("instant"),
        };
        let bytes = render(&mail).expect("renders");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("Message-ID: <sr100001.2.abc@example.test>"), "{text}");
        assert!(text.contains("In-Reply-To: <orig@example.com>"), "{text}");
        assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
        assert!(text.contains("Reply-To: support@example.test"), "{text}");
        assert!(text.contains("log.txt"), "{text}");
        let parsed = crate::mail::inbound::parse(&bytes).expect("round trip");
        assert_eq!(parsed.subject, "[SR#100001] Printer");
        assert_eq!(parsed.attachments.len(), 1);
    }
}
