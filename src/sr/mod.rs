//! The pure core: the SR record and the steps that change it.
//!
//! Nothing in this module does I/O or reads the clock: every function takes
//! the current record, an event and `now`, and returns the new record.

pub mod lifecycle;

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
}

impl Sr {
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

    /// When the gateway next has work to do on this SR on its own (deferred
    /// assignment, a first-response warning), if ever.
    pub fn next_wake(&self) -> Option<Timestamp> {
        if self.state == State::Closed {
            return None;
        }
        let assign = self.assign_at.filter(|_| self.assignee.is_none());
        let warn = self.first_response_due.filter(|_| self.first_response_at.is_none() && !self.first_response_warned);
        [assign, warn].into_iter().flatten().min()
    }

    /// The Message-ID of the mail that opened the SR.
    pub fn first_message_id(&self) -> Option<&str> {
        self.messages.first().map(|m| m.message_id.as_str())
    }
}

/// The subject token for SR `id`.
pub fn token(id: u64) -> String {
    format!("[SR#{id}]")
}

/// The first SR number.
pub const FIRST_SR: u64 = 100_001;
