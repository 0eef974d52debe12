//! A mail that opens an SR: triage, acknowledgement, notification, page.

use jiff::Timestamp;

use super::outgoing::{Draft, Outgoing};
use super::{Ctx, Decision, Lookup, NewSr};
use crate::kb;
use crate::mail::auth;
use crate::mail::inbound::Inbound;
use crate::mail::outbound::OutKind;
use crate::mail::thread;
use crate::sr::{Direction, FileRef, MessageKind, MessageRecord, Priority, Sr, lifecycle};
use crate::template::{ArticleLink, Extra, RenderError};
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

/// Addresses the customer copied, other than the desk's own (every support address and
/// mailbox) and staff.
pub(super) fn copied(ctx: Ctx<'_>, mail: &Inbound) -> Vec<String> {
    let mut out: Vec<String> = mail
        .to
        .iter()
        .chain(mail.cc.iter())
        .filter(|a| **a != mail.from && !ctx.config.is_ours(a) && ctx.config.cse_by_email(a).is_none())
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

/// The knowledge-base articles to suggest for a new SR from `mail` triaged as `t`: the
/// best matches the customer was not shown within [`kb::REPEAT_AFTER_DAYS`].
fn articles(ctx: Ctx<'_>, mail: &Inbound, t: &Triage, lookup: &impl Lookup, now: Timestamp) -> Vec<ArticleLink> {
    let query = kb::Query {
        subject: &mail.subject,
        text: &mail.new_text,
        language: &t.language,
        detected_language: t.detected_language.as_deref(),
        product: t.product.as_deref(),
    };
    let window = jiff::SignedDuration::from_hours(24 * kb::REPEAT_AFTER_DAYS);
    let shown_lately = |id: &str| lookup.suggested_at(&mail.from, id).is_some_and(|at| now.duration_since(at) < window);
    ctx.kb.suggest(&query, shown_lately).into_iter().map(|c| ArticleLink { why: c.why(), id: c.id, title: c.title, url: c.url }).collect()
}

/// An SR a CSE opens for a customer (see [`super::intake`]): who it is for and who
/// opened it, its first message as recorded (the CSE's summary), and what the CSE decided.
#[derive(Debug, Clone)]
pub(super) struct OnBehalf {
    pub opened: lifecycle::Opened,
    pub first: MessageRecord,
    pub priority: Option<Priority>,
    pub assignee: Option<String>,
}

impl OnBehalf {
    /// What the CSE decided overrides the rules: the priority (and its target), the
    /// assignee (now, whatever the hour: an engineer has it, nobody is paged).
    fn adjust(&self, ctx: Ctx<'_>, t: &mut Triage, now: Timestamp) {
        if let Some(p) = self.priority {
            t.priority = p;
            t.first_response_due = ctx.policy.first_response_due(p, now);
        }
        if let Some(a) = &self.assignee {
            t.assignee = Some(a.clone());
            t.assignment = format!("opened by {}", self.opened.by);
            t.assign_at = None;
            t.page_oncall = false;
        }
    }
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

/// How an SR comes to be opened.
pub(super) enum Origin<'a> {
    /// A customer's own mail.
    Mail,
    /// A CSE opens it for a customer (a phone call).
    Phone(Box<OnBehalf>),
    /// A colleague forwarded the customer's mail.
    Forward(&'a Via),
}

/// Opens SR `new.id` for `mail`; `related` are SRs it mentions.
pub(super) fn open(
    ctx: Ctx<'_>,
    mail: &Inbound,
    new: &NewSr<'_>,
    related: Vec<u64>,
    lookup: &impl Lookup,
    now: Timestamp,
) -> Result<Decision, RenderError> {
    open_sr(ctx, mail, Origin::Mail, new, related, lookup, now)
}

/// Opens SR `new.id`: the one way every SR is opened. `mail` is the request as its
/// customer's (for an SR a CSE opens, made from the CSE's summary; for a forward, the
/// original as the forward carried it); `origin` says how it came; `related` are SRs it mentions.
pub(super) fn open_sr(
    ctx: Ctx<'_>,
    mail: &Inbound,
    origin: Origin<'_>,
    new: &NewSr<'_>,
    related: Vec<u64>,
    lookup: &impl Lookup,
    now: Timestamp,
) -> Result<Decision, RenderError> {
    let (behalf, via) = match origin {
        Origin::Mail => (None, None),
        Origin::Phone(b) => (Some(*b), None),
        Origin::Forward(v) => (None, Some(v)),
    };
    let mut t: Triage = triage::triage(ctx, mail, new, now);
    if let Some(b) = &behalf {
        b.adjust(ctx, &mut t, now);
    }
    let phone = behalf.as_ref().map(|b| b.opened.by.clone());
    let (first, opened) = match behalf {
        Some(b) => (b.first, b.opened),
        None => {
            let first = inbound_record(ctx, mail, MessageKind::CustomerNew, mail.new_text.clone(), now);
            let opened = lifecycle::Opened {
                customer: mail.from.clone(),
                customer_name: mail.from_name.clone(),
                by: mail.from.clone(),
                how: "opened by mail".into(),
            };
            (first, opened)
        }
    };
    let subject = thread::clean_subject(&mail.subject);
    let mut sr = lifecycle::open_for(new.id, opened, first, subject, t.assignee.clone(), now);
    sr.priority = t.priority;
    sr.support_address = Some(t.support_address.clone());
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
    // A phone SR's acknowledgement carries the CSE's summary, not suggestions.
    let articles = if phone.is_some() { Vec::new() } else { articles(ctx, mail, &t, lookup, now) };
    if !articles.is_empty() {
        let ids: Vec<&str> = articles.iter().map(|a| a.id.as_str()).collect();
        sr.log(now, "kb_suggested", lifecycle::GATEWAY, ids.join(", "));
    }
    let customer_mid = mail.record_id();
    let (forward, oversized) = super::forwardable(ctx, mail);
    let attachments = mail.attachments.iter().map(|a| a.name.clone()).collect::<Vec<_>>();

    let mut out = Outgoing::new(ctx, sr, now);
    out.local_language_after_hours = t.local_language_after_hours;
    let csm = triage::csm_copy(ctx.config.account_of(&mail.from), t.priority);
    let forwarded_by = via.map(|v| v.display.clone()).unwrap_or_default();
    let mut ack = out.to_customer(OutKind::Acknowledgement).extra(Extra {
        oversized: oversized.clone(),
        articles: articles.clone(),
        forwarded_by,
        ..Extra::default()
    });
    if phone.is_some() {
        // The customer has none of the CSE's mail: the acknowledgement starts the thread.
        ack = ack.thread(None, Vec::new()).template("acknowledgement_phone").text(mail.new_text.clone(), Vec::new(), Vec::new());
    }
    let cc = ack.cc.iter().cloned().chain(csm).collect();
    out.push(ack.cc(cc))?;
    let note = match &phone {
        Some(by) => format!("Opened by {by} for the customer (a phone call): the text above is that summary. {note}").trim().to_string(),
        None => note,
    };
    if let Some(cse) = out.sr.assignee.clone() {
        let note = Draft::new(OutKind::CseNotification, vec![cse])
            .thread(Some(customer_mid.clone()), vec![customer_mid.clone()])
            .text(mail.new_text.clone(), attachments.clone(), forward)
            .extra(Extra { oversized: oversized.clone(), info: note, articles: articles.clone(), ..Extra::default() });
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
    let mut d = Decision::new(out.sr, true, out.mails);
    d.suggested = articles.into_iter().map(|a| a.id).collect();
    Ok(d)
}
