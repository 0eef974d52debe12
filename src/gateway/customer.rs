//! A mail from the customer's side on an existing SR: the customer, an address
//! they copied, or a designated contact of their organisation. Anyone else is a
//! stranger: their mail does not touch the SR but opens a new one that refers to it.

use jiff::{SignedDuration, Timestamp};

use super::new_sr::{self, inbound_record};
use super::outgoing::Outgoing;
use super::staff::{push_closure, push_escalation};
use super::{Ctx, Decision, Lookup, NewSr, replies_to};
use crate::contacts::scope_of;
use crate::mail::inbound::Inbound;
use crate::mail::outbound::OutKind;
use crate::sr::request::{self, Request};
use crate::sr::{MessageKind, Sr, State, lifecycle};
use crate::template::{Extra, RenderError};

/// Who wrote, as far as the SR is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The SR's customer.
    Customer,
    /// An address the customer copied.
    Participant,
    /// A designated contact of the customer's organisation.
    Contact,
    /// Anybody else.
    Stranger,
}

/// The role of `sender` on `sr`.
pub fn role(ctx: Ctx<'_>, sr: &Sr, sender: &str, lookup: &impl Lookup) -> Role {
    if sender.eq_ignore_ascii_case(&sr.customer) {
        Role::Customer
    } else if sr.participants.iter().any(|p| p.eq_ignore_ascii_case(sender)) {
        Role::Participant
    } else if scope_of(ctx.config, &sr.customer).is_some_and(|scope| lookup.contact(sender).is_some_and(|c| c.scope == scope)) {
        Role::Contact
    } else {
        Role::Stranger
    }
}

/// Applies a customer-side mail to `sr`.
pub(super) fn write(
    ctx: Ctx<'_>,
    mail: &Inbound,
    sr: Sr,
    new: &NewSr<'_>,
    lookup: &impl Lookup,
    now: Timestamp,
) -> Result<Decision, RenderError> {
    let role = role(ctx, &sr, &mail.from, lookup);
    if role == Role::Stranger {
        return stranger(ctx, mail, sr, new, lookup, now);
    }
    if sr.state == State::Closed {
        let window = SignedDuration::from_hours(24 * i64::from(ctx.policy.lifecycle().reopen_window_days));
        let in_window = sr.closed_at.is_some_and(|c| now <= c + window);
        if !(in_window && replies_to(mail, sr.id, lookup)) {
            // Too late, or a new mail that only mentions the old SR: a new SR refers to it.
            let mut related = super::mentioned(mail, lookup);
            if !related.contains(&sr.id) {
                related.insert(0, sr.id);
            }
            return new_sr::open(ctx, mail, new, related, lookup, now);
        }
    }
    let request = request::detect(&mail.subject, &mail.new_text);
    let says_solved = request == Some(Request::Solved);
    let was_closed = sr.state == State::Closed;
    let record = inbound_record(ctx, mail, MessageKind::CustomerReply, mail.new_text.clone(), now);
    let mut sr = match (was_closed, says_solved) {
        (true, true) => lifecycle::confirmed_closed(sr, record, now),
        (true, false) => lifecycle::reopened(sr, record, now),
        (false, _) => lifecycle::customer_replied(sr, record, now),
    };
    // "Solved" closes the SR when a stranger could not have written it: see [`may_close`].
    let closing = says_solved && !was_closed && may_close(ctx, mail, sr.id, lookup);
    if closing {
        sr = lifecycle::closed(sr, "resolved", &mail.from, now);
    }
    let note = new_sr::join_copied(ctx, mail, &mut sr, now);
    let mut out = Outgoing::new(ctx, sr, now);
    let attachments: Vec<String> = mail.attachments.iter().map(|a| a.name.clone()).collect();
    let (forward, oversized) = super::forwardable(ctx, mail);
    if let Some(update) = out.to_cse(OutKind::CustomerUpdate) {
        let token = out.sr.token();
        let status = match (was_closed, says_solved, closing) {
            (true, true, _) => Some(format!("The customer says the problem is solved; {token} stays closed.")),
            (true, false, _) => Some(format!("The customer reopened {token}.")),
            (false, _, true) => Some(format!("The customer says the problem is solved: {token} is closed as resolved.")),
            _ => None,
        };
        let info = status.into_iter().chain(note).collect::<Vec<_>>().join("\n\n");
        out.push(update.text(mail.new_text.clone(), attachments, forward).extra(Extra {
            info,
            oversized: oversized.clone(),
            ..Extra::default()
        }))?;
    }
    if !oversized.is_empty() {
        let notice = out.to_customer(OutKind::AttachmentTooLarge).extra(Extra { oversized, ..Extra::default() });
        out.push(notice)?;
    }
    if closing {
        push_closure(&mut out)?;
    }
    match request {
        Some(Request::Solved) if closing || was_closed => {}
        Some(req) => handle_request(&mut out, req, &mail.from)?,
        None => {}
    }
    Ok(Decision::new(out.sr, false, out.mails))
}

/// True when a customer's "solved" may close the SR by itself: the mail is
/// authenticated (DMARC pass, or a trusted verdict), or it answers one of our mails
/// on this SR (whose Message-IDs, with this store's random instance tag, only the
/// recipients have seen). Otherwise anyone who guesses an SR number could close it:
/// the CSE is asked instead.
fn may_close(ctx: Ctx<'_>, mail: &Inbound, id: u64, lookup: &impl Lookup) -> bool {
    crate::mail::auth::customer_authenticated(mail, &ctx.config.trusted_authserv_ids)
        || mail.referenced_ids().any(|r| super::is_own_id(ctx, r) && lookup.sr_of_message(r) == Some(id))
}

fn handle_request(out: &mut Outgoing<'_>, req: Request, by: &str) -> Result<(), RenderError> {
    let (ctx, now) = (out.ctx, out.now);
    match req {
        Request::Escalate { impact } => {
            if out.sr.escalated {
                return tell_cse(out, format!("The customer asked again to escalate {} (already escalated).", out.sr.token()));
            }
            if !impact.trim().is_empty() && lifecycle::may_escalate(&out.sr, ctx.policy, now) {
                out.sr = lifecycle::escalated(out.sr.clone(), &impact, by, now);
                push_escalation(out, &impact)
            } else {
                let why = if impact.trim().is_empty() {
                    "no business impact was given"
                } else {
                    "the SR has not yet had time for troubleshooting"
                };
                out.sr.log(now, "escalation_refused", by, why);
                let refusal = out.to_customer(OutKind::EscalationRefused).extra(Extra {
                    info: why.into(),
                    impact: impact.clone(),
                    ..Extra::default()
                });
                out.push(refusal)?;
                tell_cse(out, format!("The customer asked to escalate {}; refused because {why}.", out.sr.token()))
            }
        }
        Request::Priority(p) => {
            out.sr = lifecycle::priority_requested(out.sr.clone(), p, by, now);
            tell_cse(
                out,
                format!(
                    "The customer asks to change the priority of {} from {:?} to {p:?}. Reply with #priority {p:?} to accept.",
                    out.sr.token(),
                    out.sr.priority
                ),
            )
        }
        Request::Close => {
            out.sr.log(now, "close_requested", by, "");
            tell_cse(out, format!("The customer says {} can be closed. Reply with #close to close it.", out.sr.token()))
        }
        Request::Solved => {
            out.sr.log(now, "close_requested", by, "says solved; the mail is not authenticated and answers none of our mails");
            tell_cse(
                out,
                format!(
                    "The customer says {} is solved, but the mail is neither authenticated nor an answer to one of our mails, so it was not closed. Reply with #close to close it.",
                    out.sr.token()
                ),
            )
        }
    }
}

fn tell_cse(out: &mut Outgoing<'_>, info: String) -> Result<(), RenderError> {
    match out.to_cse(OutKind::CseInfo) {
        Some(d) => out.push(d.extra(Extra { info, ..Extra::default() })),
        None => Ok(()),
    }
}

/// A stranger wrote on `old`: a new SR refers to it, and `old`'s CSE is told, at most
/// once a day per SR (a stranger writing again and again must not flood the CSE).
fn stranger(ctx: Ctx<'_>, mail: &Inbound, old: Sr, new: &NewSr<'_>, lookup: &impl Lookup, now: Timestamp) -> Result<Decision, RenderError> {
    let mut opened = new_sr::open(ctx, mail, new, vec![old.id], lookup, now)?;
    let told_lately = old.events.iter().any(|e| e.kind == "stranger" && now.duration_since(e.at) < SignedDuration::from_hours(24));
    let mut o = old;
    o.log(now, "stranger", &mail.from, format!("wrote on this SR; opened {}", crate::sr::token(opened.sr.id)));
    let mut out = Outgoing::new(ctx, o, now);
    let info = format!(
        "{} wrote on {} but is not a participant; the mail opened {} instead. (Further strangers' mail on {} today is recorded on it without a notice.)",
        mail.from,
        out.sr.token(),
        crate::sr::token(opened.sr.id),
        out.sr.token()
    );
    if !told_lately && let Some(d) = out.to_cse(OutKind::CseInfo) {
        out.push(d.extra(Extra { info, ..Extra::default() }))?;
    }
    opened.also = Some(Box::new(Decision::new(out.sr, false, out.mails)));
    Ok(opened)
}
