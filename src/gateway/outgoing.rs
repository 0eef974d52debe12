//! Building the mails one decision sends: a [`Draft`] per mail, rendered from
//! templates and recorded on the SR as it is built.

use jiff::Timestamp;

use super::{Ctx, message_id};
use crate::mail::Attachment;
use crate::mail::outbound::{OutKind, OutMail};
use crate::sr::{self, Direction, MessageKind, MessageRecord, Sr, lifecycle};
use crate::template::{Extra, MailContext, RenderError, SrFacts};

/// One mail to build: kind, recipients, threading and the text it carries.
#[derive(Debug, Clone)]
pub(super) struct Draft {
    pub kind: OutKind,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub text: String,
    pub attachment_names: Vec<String>,
    pub attachments: Vec<Attachment>,
    pub extra: Extra,
    /// The template, when not the kind's own (the acknowledgement of an SR opened by a CSE).
    pub template: Option<&'static str>,
}

impl Draft {
    pub fn new(kind: OutKind, to: Vec<String>) -> Draft {
        Draft {
            kind,
            to,
            cc: Vec::new(),
            in_reply_to: None,
            references: Vec::new(),
            text: String::new(),
            attachment_names: Vec::new(),
            attachments: Vec::new(),
            extra: Extra::default(),
            template: None,
        }
    }

    pub fn cc(mut self, cc: Vec<String>) -> Draft {
        self.cc = cc;
        self
    }

    pub fn thread(mut self, in_reply_to: Option<String>, references: Vec<String>) -> Draft {
        self.in_reply_to = in_reply_to;
        self.references = references;
        self
    }

    pub fn text(mut self, text: String, names: Vec<String>, attachments: Vec<Attachment>) -> Draft {
        self.text = text;
        self.attachment_names = names;
        self.attachments = attachments;
        self
    }

    pub fn extra(mut self, extra: Extra) -> Draft {
        self.extra = extra;
        self
    }

    pub fn template(mut self, name: &'static str) -> Draft {
        self.template = Some(name);
        self
    }
}

/// Builds outgoing mails for one SR, recording each on it.
pub(super) struct Outgoing<'a> {
    pub ctx: Ctx<'a>,
    pub sr: Sr,
    pub now: Timestamp,
    pub from_name: Option<String>,
    pub local_language_after_hours: bool,
    pub mails: Vec<OutMail>,
}

impl<'a> Outgoing<'a> {
    pub fn new(ctx: Ctx<'a>, sr: Sr, now: Timestamp) -> Self {
        let from_name = ctx.config.identity(sr.support_address.as_deref()).name.map(str::to_string);
        Outgoing { ctx, sr, now, from_name, local_language_after_hours: false, mails: Vec::new() }
    }

    /// Who this SR's mail comes from: the support address its customer wrote to.
    pub fn identity(&self) -> crate::config::Identity<'a> {
        let config: &'a crate::config::Config = self.ctx.config;
        config.identity(self.sr.support_address.as_deref())
    }

    /// Threading for mail to the customer: answers their latest mail, within the SR's thread.
    pub fn customer_thread(&self) -> (Option<String>, Vec<String>) {
        let parent = self.sr.last_customer_message_id().map(str::to_string);
        (parent.clone(), dedup(self.sr.first_message_id().map(str::to_string).into_iter().chain(parent).collect()))
    }

    /// Threading for mail to the CSE: answers our latest mail to staff.
    pub fn staff_thread(&self) -> (Option<String>, Vec<String>) {
        let last = self
            .sr
            .messages
            .iter()
            .rev()
            .find(|m| m.direction == Direction::Out && !matches!(m.kind, MessageKind::Acknowledgement | MessageKind::Relay))
            .map(|m| m.message_id.clone());
        (last.clone(), dedup(self.sr.first_message_id().map(str::to_string).into_iter().chain(last).collect()))
    }

    /// A mail to the customer (and the participants they copied).
    pub fn to_customer(&self, kind: OutKind) -> Draft {
        let (parent, refs) = self.customer_thread();
        Draft::new(kind, vec![self.sr.customer.clone()]).cc(self.sr.participants.clone()).thread(parent, refs)
    }

    /// A mail to the assigned CSE (nobody when unassigned).
    pub fn to_cse(&self, kind: OutKind) -> Option<Draft> {
        let (parent, refs) = self.staff_thread();
        self.sr.assignee.clone().map(|a| Draft::new(kind, vec![a]).thread(parent, refs))
    }

    pub fn push(&mut self, d: Draft) -> Result<(), RenderError> {
        let mut context = mail_context(self.ctx, &self.sr, d.text, d.attachment_names, self.now);
        context.local_language_after_hours = self.local_language_after_hours;
        context.extra = d.extra;
        context.extra.max_attachment_mb = self.ctx.config.max_attachment_bytes / (1024 * 1024);
        let language = if d.kind.to_customer() { self.sr.language.clone() } else { "en".to_string() };
        let identity = self.identity();
        let (templates, name) = (self.ctx.templates, d.template.unwrap_or(d.kind.template()));
        let mut body = templates.render_as(identity.templates, &language, name, &context)?;
        if d.kind.to_customer() && !identity.signature.is_empty() && !templates.places_signature(identity.templates, &language, name) {
            body = format!("{}\n\n{}", body.trim_end(), identity.signature);
        }
        body = format!("{}\n\n{}\n", body.trim_end(), crate::mail::thread::marker(self.ctx.instance, self.sr.id));
        let seq = self.sr.take_seq();
        let message_id = message_id(self.ctx, self.sr.id, seq);
        let subject = match d.kind {
            OutKind::Page => format!("P1 page: {} {}", self.sr.token(), self.sr.subject),
            OutKind::FirstResponseWarning => format!("First response overdue: {} {}", self.sr.token(), self.sr.subject),
            OutKind::Escalation => format!("Escalation: {} {}", self.sr.token(), self.sr.subject),
            OutKind::CommandError => format!("Not done: {} {}", self.sr.token(), self.sr.subject),
            _ => format!("{} {}", self.sr.token(), self.sr.subject),
        };
        let record = MessageRecord {
            direction: Direction::Out,
            from: identity.address.to_string(),
            to: d.to.iter().chain(d.cc.iter()).cloned().collect(),
            subject: subject.clone(),
            message_id: message_id.clone(),
            kind: record_kind(d.kind),
            at: self.now,
            attachments: d.attachments.iter().map(|a| a.name.clone()).collect(),
            // Mail to staff repeats the customer's words, already recorded with their message:
            // keep only what the customer was sent.
            text: if d.kind.to_customer() { body.clone() } else { String::new() },
            files: Vec::new(),
        };
        lifecycle::record_sent(&mut self.sr, record, self.now);
        self.mails.push(OutMail {
            kind: d.kind,
            sr: self.sr.id,
            from_name: self.from_name.clone(),
            from: identity.address.to_string(),
            to: d.to,
            cc: d.cc,
            subject,
            message_id,
            in_reply_to: d.in_reply_to,
            references: d.references,
            body,
            attachments: d.attachments,
            auto_submitted: auto_submitted(d.kind),
            date: self.now,
        });
        Ok(())
    }
}

/// RFC 3834: answers to a mail are `auto-replied`, mail the gateway makes on its own `auto-generated`;
/// relays carry a person's words and get none.
fn auto_submitted(kind: OutKind) -> Option<&'static str> {
    match kind {
        OutKind::Relay | OutKind::CustomerUpdate | OutKind::CseNotification | OutKind::History => None,
        OutKind::Acknowledgement
        | OutKind::CommandError
        | OutKind::CommandConfirmation
        | OutKind::EscalationConfirmed
        | OutKind::EscalationRefused
        | OutKind::Queue => Some("auto-replied"),
        _ => Some("auto-generated"),
    }
}

pub(super) fn dedup(mut ids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    ids
}

fn record_kind(kind: OutKind) -> MessageKind {
    match kind {
        OutKind::Acknowledgement => MessageKind::Acknowledgement,
        OutKind::CseNotification => MessageKind::CseNotification,
        OutKind::Relay => MessageKind::Relay,
        OutKind::CustomerUpdate => MessageKind::CustomerUpdate,
        OutKind::Page => MessageKind::Page,
        OutKind::FirstResponseWarning => MessageKind::FirstResponseWarning,
        OutKind::ContactAttempt => MessageKind::ContactAttempt,
        OutKind::ClosureNotice => MessageKind::ClosureNotice,
        OutKind::PriorityChanged => MessageKind::PriorityChanged,
        OutKind::Reassigned => MessageKind::Reassigned,
        OutKind::History => MessageKind::History,
        OutKind::Escalation => MessageKind::Escalation,
        OutKind::EscalationConfirmed => MessageKind::EscalationConfirmed,
        OutKind::EscalationRefused => MessageKind::EscalationRefused,
        OutKind::CseInfo => MessageKind::CseInfo,
        OutKind::CommandError => MessageKind::CommandError,
        OutKind::CommandConfirmation => MessageKind::CommandConfirmation,
        OutKind::AttachmentTooLarge => MessageKind::AttachmentTooLarge,
        // Mail of no SR is never recorded on one; each kind still has a name.
        OutKind::AdminNotice | OutKind::Queue | OutKind::Digest | OutKind::TeamDigest => MessageKind::AdminNotice,
    }
}

pub(super) fn mail_context(ctx: Ctx<'_>, sr: &Sr, text: String, attachments: Vec<String>, now: Timestamp) -> MailContext {
    let cse = sr.assignee.as_deref().and_then(|a| ctx.config.cse_by_email(a));
    let identity = ctx.config.identity(sr.support_address.as_deref());
    let customer_tz = ctx.config.account_of(&sr.customer).and_then(|a| a.timezone.clone());
    let next_start = ctx.policy.next_business_start(now);
    let next_business_start = match &customer_tz {
        Some(tz) => ctx.policy.local_display_in(next_start, tz),
        None => ctx.policy.local_display(next_start),
    };
    MailContext {
        sr: SrFacts {
            id: sr.id,
            token: sr::token(sr.id),
            subject: sr.subject.clone(),
            priority: format!("{:?}", sr.priority),
            state: sr.state.as_str().into(),
            language: sr.language.clone(),
        },
        customer_name: sr.customer_name.clone().unwrap_or_else(|| sr.customer.clone()),
        customer: sr.customer.clone(),
        cse_name: cse.map(|c| c.name.clone()).unwrap_or_default(),
        cse_email: cse.map(|c| c.email.clone()).unwrap_or_default(),
        support_name: identity.name.unwrap_or("Support").to_string(),
        support_address: identity.address.to_string(),
        signature: identity.signature.to_string(),
        text,
        attachments,
        after_hours: sr.after_hours,
        next_business_start,
        local_language_after_hours: false,
        detected_language_name: language_name(sr.detected_language.as_deref()).into(),
        related: sr.related.iter().map(|id| sr::token(*id)).collect(),
        account: sr.account.clone().unwrap_or_default(),
        tier: sr.tier.clone().unwrap_or_default(),
        first_response_due: sr.first_response_due.map(|t| ctx.policy.local_display(t)).unwrap_or_default(),
        extra: Extra::default(),
    }
}

/// The English name of a language code, for templates.
pub fn language_name(code: Option<&str>) -> &'static str {
    match code {
        Some("en") => "English",
        Some("fr") => "French",
        Some("de") => "German",
        Some("it") => "Italian",
        Some("es") => "Spanish",
        _ => "your language",
    }
}
