//! The pure core: the SR record and the steps that change it.
//!
//! Nothing in this module does I/O or reads the clock: every function takes
//! the current record, an event and `now`, and returns the new record.

pub mod command;
pub mod lifecycle;
pub mod request;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Where an SR stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Opened, no CSE response yet.
    New,
    /// Waiting on the CSE.
    Open,
    /// Waiting on the customer.
    AwaitingCustomer,
    /// Parked until a date (no contact attempts, no closure).
    OnHold,
    /// Closed; see `close_reason`.
    Closed,
}

impl State {
    /// The name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Open => "open",
            State::AwaitingCustomer => "awaiting_customer",
            State::OnHold => "on_hold",
            State::Closed => "closed",
        }
    }

    /// Parses a state name as written on the command line.
    pub fn parse(name: &str) -> Option<State> {
        [State::New, State::Open, State::AwaitingCustomer, State::OnHold, State::Closed].into_iter().find(|s| s.as_str() == name)
    }
}

/// Urgency, P1 (critical) to P4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    /// Critical: production down.
    P1,
    /// Serious degradation.
    P2,
    /// The default.
    P3,
    /// Questions and requests.
    P4,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Received by the gateway.
    In,
    /// Sent by the gateway.
    Out,
}

/// What a message was, in the SR's story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The customer's first mail.
    CustomerNew,
    /// A later customer mail.
    CustomerReply,
    /// A CSE's answer.
    CseReply,
    /// Our acknowledgement to the customer.
    Acknowledgement,
    /// Our notice of a new SR to its CSE.
    CseNotification,
    /// A CSE answer relayed to the customer.
    Relay,
    /// A customer mail forwarded to the CSE.
    CustomerUpdate,
    /// An after-hours P1 page to on-call.
    Page,
    /// A missed first-response target reported.
    FirstResponseWarning,
    /// A CSE's internal note (not relayed).
    Note,
    /// A contact attempt to the customer.
    ContactAttempt,
    /// The closure notice to the customer.
    ClosureNotice,
    /// Priority change notice to the customer.
    PriorityChanged,
    /// Reassignment notice to the customer.
    Reassigned,
    /// The SR's history, to a newly assigned CSE.
    History,
    /// Escalation, to the escalation manager (and CSM).
    Escalation,
    /// Escalation accepted, to the customer.
    EscalationConfirmed,
    /// Escalation refused, to the customer.
    EscalationRefused,
    /// Information to the CSE (requests, refusals, strangers, reopening).
    CseInfo,
    /// A CSE's message refused for bad commands, back to the CSE.
    CommandError,
    /// Confirmation of a CSE's commands.
    CommandConfirmation,
    /// An auto-reply or bulk mail received on the SR (not a customer reply).
    AutoReply,
    /// A delivery failure report received on the SR.
    Bounce,
    /// Attachments too large to forward, to the customer.
    AttachmentTooLarge,
    /// A notice to the administrator (never part of an SR; listed so every outgoing kind has a name).
    AdminNotice,
    /// What opened an SR a CSE opened for a customer (a phone call, `#new` or `srgate sr open`):
    /// the CSE's summary, from the CSE (or the operator).
    Intake,
}

/// One message on an SR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// In or out.
    pub direction: Direction,
    /// Sender address.
    pub from: String,
    /// Recipient addresses.
    pub to: Vec<String>,
    /// Subject as sent or received.
    pub subject: String,
    /// Message-ID without angle brackets.
    pub message_id: String,
    /// What the message was.
    pub kind: MessageKind,
    /// When the gateway received or queued it.
    pub at: Timestamp,
    /// Attachment file names.
    pub attachments: Vec<String>,
    /// The text recorded: the writer's new text (in) or the body sent (out).
    pub text: String,
    /// The stored files of a received message (the original and each attachment).
    #[serde(default)]
    pub files: Vec<FileRef>,
}

/// A file kept under `data_dir`, addressed by its content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The name the sender gave it (`message.eml` for the original).
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex: its address in the store.
    pub sha256: String,
    /// False when it was too large to forward.
    pub forwarded: bool,
}

/// A support request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sr {
    /// Sequential number, from 100001, never reused.
    pub id: u64,
    /// Where it stands.
    pub state: State,
    /// Urgency.
    pub priority: Priority,
    /// Handling language (ISO 639-1).
    pub language: String,
    /// The customer's address.
    pub customer: String,
    /// The customer's display name, when their mail gave one.
    pub customer_name: Option<String>,
    /// The CSE's address, once assigned.
    pub assignee: Option<String>,
    /// The original subject, without reply prefixes.
    pub subject: String,
    /// Attempts made to reach the customer in the current cycle.
    pub contact_attempts: u32,
    /// When the SR was opened.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// Why it was closed (`resolved`, `no_response`, ...).
    pub close_reason: Option<String>,
    /// Every message in and out, oldest first.
    pub messages: Vec<MessageRecord>,
    /// The language detected in the customer's first mail.
    #[serde(default)]
    pub detected_language: Option<String>,
    /// Product, from the rules.
    #[serde(default)]
    pub product: Option<String>,
    /// The customer's account.
    #[serde(default)]
    pub account: Option<String>,
    /// The account's tier.
    #[serde(default)]
    pub tier: Option<String>,
    /// Tags from the rules.
    #[serde(default)]
    pub tags: Vec<String>,
    /// True when the SR was opened outside business hours.
    #[serde(default)]
    pub after_hours: bool,
    /// When the first CSE response is due.
    #[serde(default)]
    pub first_response_due: Option<Timestamp>,
    /// When the first CSE response came.
    #[serde(default)]
    pub first_response_at: Option<Timestamp>,
    /// True once the missed first-response target was reported.
    #[serde(default)]
    pub first_response_warned: bool,
    /// When an SR opened after hours is to be assigned (start of business hours).
    #[serde(default)]
    pub assign_at: Option<Timestamp>,
    /// SRs this one refers to.
    #[serde(default)]
    pub related: Vec<u64>,
    /// Every change, oldest first.
    #[serde(default)]
    pub events: Vec<Event>,
    /// True once an escalation was accepted.
    #[serde(default)]
    pub escalated: bool,
    /// The priority the customer asked for (the CSE decides).
    #[serde(default)]
    pub requested_priority: Option<Priority>,
    /// End of the current hold.
    #[serde(default)]
    pub on_hold_until: Option<Timestamp>,
    /// T0 of the current contact cycle (when the SR started waiting on the customer).
    #[serde(default)]
    pub waiting_since: Option<Timestamp>,
    /// When the latest contact attempt was made.
    #[serde(default)]
    pub last_attempt_at: Option<Timestamp>,
    /// How often the SR was reopened.
    #[serde(default)]
    pub reopen_count: u32,
    /// Other addresses on the customer's side that take part (copied by the customer).
    #[serde(default)]
    pub participants: Vec<String>,
    /// The sequence number of the next Message-ID made for this SR. It only grows,
    /// so no two of our mails share a Message-ID, even when a mail is dropped.
    #[serde(default)]
    pub next_seq: u64,
    /// The support address the customer wrote to: every mail of the SR is sent from it.
    /// `None` for an SR stored before `[[address]]` existed: `support_address`.
    #[serde(default)]
    pub support_address: Option<String>,
}

/// One change in an SR's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When.
    pub at: Timestamp,
    /// What (`created`, `assigned`, `customer_reply`, `cse_response`, `note`, `contact_attempt`,
    /// `on_hold`, `hold_ended`, `closed`, `reopened`, `priority_changed`, `priority_requested`,
    /// `reassigned`, `escalated`, `escalation_refused`, `close_requested`, `contact_added`,
    /// `contact_removed`, `first_response_warning`, `stranger`, `delivery_failed`, `quarantined`,
    /// `suspicious`: mail in a CSE's name that was not authenticated; `forwarded_by`: the SR came
    /// through a colleague's forward; `forward_not_used`: a forward opened the SR for its sender).
    pub kind: String,
    /// Who caused it (an address, or `srgate`).
    pub by: String,
    /// Details in words.
    pub detail: String,
}

impl Sr {
    /// The SR's facts without its messages and events: what its own store record holds
    /// (messages and events are records of their own, appended as they come).
    pub fn facts(&self) -> Sr {
        // Every field by name: a new field is a compile error here until it is copied.
        Sr {
            id: self.id,
            state: self.state,
            priority: self.priority,
            language: self.language.clone(),
            customer: self.customer.clone(),
            customer_name: self.customer_name.clone(),
            assignee: self.assignee.clone(),
            subject: self.subject.clone(),
            contact_attempts: self.contact_attempts,
            created_at: self.created_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
            close_reason: self.close_reason.clone(),
            messages: Vec::new(),
            detected_language: self.detected_language.clone(),
            product: self.product.clone(),
            account: self.account.clone(),
            tier: self.tier.clone(),
            tags: self.tags.clone(),
            after_hours: self.after_hours,
            first_response_due: self.first_response_due,
            first_response_at: self.first_response_at,
            first_response_warned: self.first_response_warned,
            assign_at: self.assign_at,
            related: self.related.clone(),
            events: Vec::new(),
            escalated: self.escalated,
            requested_priority: self.requested_priority,
            on_hold_until: self.on_hold_until,
            waiting_since: self.waiting_since,
            last_attempt_at: self.last_attempt_at,
            reopen_count: self.reopen_count,
            participants: self.participants.clone(),
            next_seq: self.next_seq,
            support_address: self.support_address.clone(),
        }
    }

    /// The sequence number for the next Message-ID made for this SR, reserved.
    pub fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq.max(self.messages.len() as u64);
        self.next_seq = seq + 1;
        seq
    }

    /// The subject token, `[SR#N]`.
    pub fn token(&self) -> String {
        token(self.id)
    }

    /// The Message-ID of the customer's latest mail.
    pub fn last_customer_message_id(&self) -> Option<&str> {
        self.messages
            .iter()
            .rev()
            .find(|m| matches!(m.kind, MessageKind::CustomerNew | MessageKind::CustomerReply))
            .map(|m| m.message_id.as_str())
    }

    /// The CSE whose load this SR counts toward: its assignee while not closed.
    pub fn load_holder(&self) -> Option<&str> {
        self.assignee.as_deref().filter(|_| self.state != State::Closed)
    }

    /// Records a change.
    pub fn log(&mut self, at: Timestamp, kind: &str, by: &str, detail: impl Into<String>) {
        self.events.push(Event { at, kind: kind.into(), by: by.into(), detail: detail.into() });
    }

    /// The text of the CSE's latest answer, for contact attempts.
    pub fn last_cse_text(&self) -> Option<&str> {
        self.messages.iter().rev().find(|m| m.kind == MessageKind::CseReply).map(|m| m.text.as_str())
    }

    /// The Message-ID of the mail that opened the SR.
    pub fn first_message_id(&self) -> Option<&str> {
        self.messages.first().map(|m| m.message_id.as_str())
    }
}

/// Changes to the CSEs' open-SR counts when an SR goes from `before` to `after`.
pub fn load_delta(before: Option<&Sr>, after: &Sr) -> Vec<(String, i64)> {
    let old = before.and_then(Sr::load_holder);
    let new = after.load_holder();
    if old == new {
        return Vec::new();
    }
    old.map(|o| (o.to_string(), -1)).into_iter().chain(new.map(|n| (n.to_string(), 1))).collect()
}

/// The subject token for SR `id`.
pub fn token(id: u64) -> String {
    format!("[SR#{id}]")
}

/// The first SR number.
pub const FIRST_SR: u64 = 100_001;

#[cfg(test)]
mod tests {
    use super::*;

    /// An SR stored before `support_address` existed still reads (the desk's default address).
    #[test]
    fn an_sr_stored_without_a_support_address_reads() {
        let now: Timestamp = "2026-03-03T10:00:00Z".parse().expect("instant");
        let first = MessageRecord {
            direction: Direction::In,
            from: "jane@example.com".into(),
            to: vec!["support@example.test".into()],
            subject: "Printer".into(),
            message_id: "m1@example.com".into(),
            kind: MessageKind::CustomerNew,
            at: now,
            attachments: Vec::new(),
            text: "Help".into(),
            files: Vec::new(),
        };
        let mut sr = lifecycle::open(FIRST_SR, first, None, "Printer".into(), None, now);
        sr.support_address = Some("ventas@example.test".into());
        let mut json = serde_json::to_value(&sr).expect("serializes");
        assert_eq!(json["support_address"], "ventas@example.test");
        assert_eq!(serde_json::from_value::<Sr>(json.clone()).expect("reads"), sr);
        json.as_object_mut().expect("an object").remove("support_address");
        let old: Sr = serde_json::from_value(json).expect("an old record reads");
        assert_eq!(old.support_address, None);
        assert_eq!(sr.facts().support_address, sr.support_address, "facts keep it");
    }
}
