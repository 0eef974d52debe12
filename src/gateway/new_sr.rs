//! A mail that opens an SR: triage, acknowledgement, notification, page.

use jiff::Timestamp;

use super::outgoing::{Draft, Outgoing};
use super::{Ctx, Decision, NewSr};
use crate::mail::auth;
use crate::mail::inbound::Inbound;
use crate::mail::outbound::OutKind;
use crate::mail::thread;
use crate::sr::{Direction, FileRef, MessageKind, MessageRecord, Sr, lifecycle};
use crate::template::{Extra, RenderError};
use crate::triage::{self, Triage};

/// The record of a received mail, with its stored files (the original and each attachment).
pub(super) fn inbound_record(ctx: Ctx<'_>, mail: &Inbound, kind: MessageKind, text: String, now: Timestamp) -> MessageRecord {
    let original = FileRef {
        name: "message.eml".into(),
        content_type: "message/rfc822".into(),
        size: mail.raw_len as u64,
        sha256: mail.content_hash.clone(),
        forwarded: false,
    };
    let parts = mail.attachments.iter().map(|a| FileRef {
        name: a.name.clone(),
        content_type: a.content_type.clone(),
        size: a.data.len() as u64,
        sha256: a.sha256(),
        forwarded: a.data.len() <= ctx.config.max_attachment_bytes,
    });
    MessageRecord {
        files: std::iter::once(original).chain(parts).collect(),
        direction: Direction::In,
        from: mail.from.clone(),
        to: mail.to.iter().chain(mail.cc.iter()).cloned().collect(),
        subject: mail.subject.clone(),
        message_id: mail.record_id(),
        kind,
        at: now,
        attachments: mail.attachments.iter().map(|a| a.name.clone()).collect(),
        text,
    }
}

/// Addresses the customer copied, other than the support address and staff.
pub(super) fn copied(ctx: Ctx<'_>, mail: &Inbound) -> Vec<String> {
    let mut out: Vec<String> = mail
        .to
        .iter()
        .chain(mail.cc.iter())
        .filter(|a| **a != mail.from && !a.eq_ignore_ascii_case(&ctx.config.support_address) && ctx.config.cse_by_email(a).is_none())
        .filter(|a| ctx.config.mailboxes.iter().all(|m| !m.username.eq_ignore_ascii_case(a)))
        .cloned()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Adds the addresses `mail` copied to the SR's participants, when the mail is
/// authenticated (DMARC pass, or a trusted verdict: a forged customer mail must not
/// subscribe its Cc to the conversation), up to `max_participants`. What does not
/// join is recorded (`cc_not_added`); the words for the CSE are returned.
pub(super) fn join_copied(ctx: Ctx<'_>, mail: &Inbound, sr: &mut Sr, now: Timestamp) -> Option<String> {
    let copied: Vec<String> = copied(ctx, mail)
        .into_iter()
        .filter(|a| !a.eq_ignore_ascii_case(&sr.customer) && !sr.participants.iter().any(|p| p.eq_ignore_ascii_case(a)))
        .collect();
    if copied.is_empty() {
        return None;
    }
    if !auth::customer_authenticated(mail, &ctx.config.trusted_authserv_ids) {
        let list = copied.join(", ");
        sr.log(now, "cc_not_added", &mail.from, format!("{list}: the mail is not authenticated, so whom it copies does not join the SR"));
        return Some(format!(
            "The mail copied {list}, but it is not authenticated (no DMARC pass for its sender's domain), so they were not added to {} and get nothing from it. If they should follow it, reply with #cc add ADDRESS.",
            sr.token()
        ));
    }
    let room = ctx.config.max_participants.saturating_sub(sr.participants.len());
    let (joining, left) = copied.split_at(room.min(copied.len()));
    for a in joining {
        sr.participants.push(a.clone());
        sr.log(now, "participant_added", &mail.from, a.clone());
    }
    if left.is_empty() {
        return None;
    }
    let list = left.join(", ");
    let max = ctx.config.max_participants;
    sr.log(now, "cc_not_added", &mail.from, format!("{list}: the SR already has {max} participants (max_participants)"));
    Some(format!("The mail copied {list}, but {} already has {max} participants (max_participants): they were not added.", sr.token()))
}

/// A mail that reached support through a colleague's forward (see [`super::forward`]).
#[derive(Debug, Clone)]
pub(super) struct Via {
    /// The forwarder's address.
    pub forwarder: String,
    /// How the customer is told who forwarded it: `Name (address)`, or the address.
    pub display: String,
    /// How the forward carried the original, in words (`a Gmail forward`).
    pub shape: &'static str,
    /// The original's date, as the forward gives it.
    pub date: Option<String>,
    /// The forwarder's own text above the forward block.
    pub note: String,
    /// True when the forwarder joins the SR as a participant (a colleague of an internal
    /// domain; a roster CSE is staff, and hears of the SR as staff does).
    pub joins: bool,
}

/// Opens SR `new.id` for `mail`; `related` are SRs it mentions.
pub(super) fn open(ctx: Ctx<'_>, mail: &Inbound, new: &NewSr<'_>, related: Vec<u64>, now: Timestamp) -> Result<Decision, RenderError> {
    open_via(ctx, mail, new, related, None, now)
}

/// Records on a new SR that it came through `via`: the event `forwarded_by`, the
/// forwarder's note as a `note` event (never customer text), an internal colleague as a
/// participant (copied like the others, within `max_participants`). The words for the CSE.
fn forwarded(ctx: Ctx<'_>, via: &Via, sr: &mut Sr, now: Timestamp) -> String {
    let sent = via.date.as_deref().map(|d| format!(", sent {d}")).unwrap_or_default();
    let customer = sr.customer.clone();
    sr.log(now, "forwarded_by", &via.forwarder, format!("{} forwarded the mail of {customer} ({}{sent})", via.forwarder, via.shape));
    if !via.note.is_empty() {
        sr.log(now, "note", &via.forwarder, via.note.clone());
    }
    let known = sr.participants.iter().any(|p| p.eq_ignore_ascii_case(&via.forwarder));
    if via.joins && !known && sr.participants.len() < ctx.config.max_participants {
        sr.participants.push(via.forwarder.clone());
        sr.log(now, "participant_added", &via.forwarder, via.forwarder.clone());
    }
    let mut info = format!("{} forwarded this mail of {customer} to support ({}{sent}); the SR is the customer's.", via.display, via.shape);
    if !via.note.is_empty() {
        info.push_str(&format!("\n\nTheir note (not sent to the customer):\n{}", via.note));
    }
    info
}

/// Opens SR `new.id` for `mail`, which came through `via` when it is a colleague's forward.
pub(super) fn open_via(
    ctx: Ctx<'_>,
    mail: &Inbound,
    new: &NewSr<'_>,
    related: Vec<u64>,
    via: Option<&Via>,
    now: Timestamp,
) -> Result<Decision, RenderError> {
    let t: Triage = triage::triage(ctx, mail, new, now);
    let first = inbound_record(ctx, mail, MessageKind::CustomerNew, mail.new_text.clone(), now);
    let subject = thread::clean_subject(&mail.subject);
    let mut sr = lifecycle::open(new.id, first, mail.from_name.clone(), subject, t.assignee.clone(), now);
    sr.priority = t.priority;
    sr.language = t.language.clone();
    sr.detected_language = t.detected_language.clone();
    sr.product = t.product.clone();
    sr.account = t.account.clone();
    sr.tier = t.tier.clone();
    sr.tags = t.tags.clone();
    sr.after_hours = t.after_hours;
    sr.first_response_due = Some(t.first_response_due);
    sr.assign_at = t.assign_at;
    // An unauthenticated mail's copies do not join: its acknowledgement goes to its sender only.
    // A forward's copies are the forwarder's, not the customer's: only the forwarder joins.
    let note = match via {
        None => join_copied(ctx, mail, &mut sr, now).unwrap_or_default(),
        Some(via) => forwarded(ctx, via, &mut sr, now),
    };
    for id in &related {
        sr.log(now, "related", &mail.from, crate::sr::token(*id));
    }
    sr.related = related;
    let customer_mid = mail.record_id();
    let (forward, oversized) = super::forwardable(ctx, mail);
    let attachments = mail.attachments.iter().map(|a| a.name.clone()).collect::<Vec<_>>();

    let mut out = Outgoing::new(ctx, sr, now);
    out.local_language_after_hours = t.local_language_after_hours;
    let csm = triage::csm_copy(ctx.config.account_of(&mail.from), t.priority);
    let forwarded_by = via.map(|v| v.display.clone()).unwrap_or_default();
    let ack = out.to_customer(OutKind::Acknowledgement).extra(Extra { oversized: oversized.clone(), forwarded_by, ..Extra::default() });
    let cc = ack.cc.iter().cloned().chain(csm).collect();
    out.push(ack.cc(cc))?;
    if let Some(cse) = out.sr.assignee.clone() {
        let note = Draft::new(OutKind::CseNotification, vec![cse])
            .thread(Some(customer_mid.clone()), vec![customer_mid.clone()])
            .text(mail.new_text.clone(), attachments.clone(), forward)
            .extra(Extra { oversized: oversized.clone(), info: note, ..Extra::default() });
        out.push(note)?;
    }
    if let (true, Some(pager)) = (t.page_oncall, ctx.config.oncall_address.clone()) {
        let page = Draft::new(OutKind::Page, vec![pager]).thread(Some(customer_mid.clone()), vec![customer_mid]).text(
            mail.new_text.clone(),
            attachments,
            Vec::new(),
        );
        out.push(page)?;
    }
    Ok(Decision::new(out.sr, true, out.mails))
}
