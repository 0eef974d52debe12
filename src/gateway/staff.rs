//! A CSE's mail on an SR: `#` commands, the relay to the customer, the state change.
//!
//! Every command is checked before anything is applied: one bad command and the
//! message changes nothing, nothing is relayed, and the CSE gets the list of
//! valid commands back.

use jiff::{SignedDuration, Timestamp};

use super::new_sr::inbound_record;
use super::outgoing::{Draft, Outgoing};
use super::{Ctx, Decision};
use crate::contacts::{Contact, ContactChange, scope_of};
use crate::mail::inbound::Inbound;
use crate::mail::outbound::OutKind;
use crate::sr::command::{self, Command, HELP};
use crate::sr::lifecycle::{self, Response};
use crate::sr::{MessageKind, Sr};
use crate::template::{Extra, HistoryEntry, RenderError};

/// Applies a CSE's mail to `sr`.
pub(super) fn respond(ctx: Ctx<'_>, mail: &Inbound, sr: Sr, now: Timestamp) -> Result<Decision, RenderError> {
    let parsed = command::parse(&mail.new_text);
    let mut errors = parsed.errors.clone();
    errors.extend(refusals(ctx, &sr, &parsed.commands));
    let by = mail.from.clone();
    if !errors.is_empty() {
        let mut out = Outgoing::new(ctx, sr, now);
        let (parent, refs) = (mail.message_id.clone(), mail.message_id.iter().cloned().collect());
        let extra = Extra { errors, commands_help: HELP.into(), ..Extra::default() };
        out.push(Draft::new(OutKind::CommandError, vec![by]).thread(parent, refs).extra(extra))?;
        return Ok(Decision::new(out.sr, false, out.mails));
    }

    let text = parsed.text.clone();
    let response = response_of(ctx, &parsed.commands, !text.is_empty(), now);
    let closing = matches!(response, Some(Response::Close));
    let kind = if response == Some(Response::Note) { MessageKind::Note } else { MessageKind::CseReply };
    let record = inbound_record(ctx, mail, kind, text.clone(), now);
    let mut out = Outgoing::new(ctx, sr, now);
    let mut done = Vec::new();
    let mut contact_changes = Vec::new();

    // Commands that change facts come first, so that the relay reads right.
    for c in &parsed.commands {
        match c {
            Command::Priority(p) if *p != out.sr.priority => {
                let old = format!("{:?}", out.sr.priority);
                out.sr = lifecycle::priority_changed(out.sr.clone(), *p, &by, now);
                let notice = out.to_customer(OutKind::PriorityChanged).extra(Extra { old_priority: old.clone(), ..Extra::default() });
                out.push(notice)?;
                done.push(format!("priority {old} -> {p:?}; the customer was told"));
            }
            Command::Assign(who) => {
                let Some(cse) = find_cse(ctx, who).filter(|c| out.sr.assignee.as_deref() != Some(c.email.as_str())) else { continue };
                let previous =
                    out.sr.assignee.as_deref().and_then(|a| ctx.config.cse_by_email(a)).map(|c| c.name.clone()).unwrap_or_default();
                out.sr = lifecycle::assigned(out.sr.clone(), cse.email.clone(), &by, now);
                let history = history(ctx, &out.sr);
                let (parent, refs) = out.staff_thread();
                let extra = Extra { history, previous_cse_name: previous.clone(), ..Extra::default() };
                out.push(Draft::new(OutKind::History, vec![cse.email.clone()]).thread(parent, refs).extra(extra))?;
                let notice = out.to_customer(OutKind::Reassigned).extra(Extra { previous_cse_name: previous, ..Extra::default() });
                out.push(notice)?;
                done.push(format!("assigned to {}; history sent, the customer was told", cse.email));
            }
            Command::Escalate(impact) => {
                out.sr = lifecycle::escalated(out.sr.clone(), impact, &by, now);
                push_escalation(&mut out, impact)?;
                done.push("escalated".into());
            }
            Command::CcAdd(address) if !out.sr.participants.iter().any(|p| p.eq_ignore_ascii_case(address)) => {
                out.sr.participants.push(address.clone());
                out.sr.log(now, "participant_added", &by, address.clone());
                done.push(format!("{address} copied on the SR from now on"));
            }
            Command::CcRemove(address) => {
                out.sr.participants.retain(|p| !p.eq_ignore_ascii_case(address));
                out.sr.log(now, "participant_removed", &by, address.clone());
                done.push(format!("{address} no longer copied"));
            }
            Command::ContactAdd { name, address, phone } => {
                // Checked by `refusals`: the customer belongs to an account.
                let Some(scope) = scope_of(ctx.config, &out.sr.customer) else { continue };
                out.sr.log(now, "contact_added", &by, format!("{name} <{address}> ({scope})"));
                contact_changes.push(ContactChange::Add(Contact {
                    name: name.clone(),
                    address: address.clone(),
                    phone: phone.clone(),
                    scope,
                }));
                done.push(format!("designated contact {address} added"));
            }
            Command::ContactRemove(address) => {
                out.sr.log(now, "contact_removed", &by, address.clone());
                contact_changes.push(ContactChange::Remove(address.clone()));
                done.push(format!("designated contact {address} removed"));
            }
            _ => {}
        }
    }

    out.sr = match response {
        Some(r) => lifecycle::cse_responded(out.sr.clone(), record, r, ctx.policy, now),
        None => lifecycle::sent(out.sr.clone(), record, now),
    };
    if !text.is_empty() && response != Some(Response::Note) {
        let desk = out.identity().name;
        out.from_name = ctx.config.cse_by_email(&by).map(|c| match desk {
            Some(s) => format!("{} ({s})", c.name),
            None => c.name.clone(),
        });
        let attachments = mail.attachments.iter().map(|a| a.name.clone()).collect();
        let (forward, _) = super::forwardable(ctx, mail);
        let relay = out.to_customer(OutKind::Relay).text(text, attachments, forward);
        out.push(relay)?;
        out.from_name = desk.map(str::to_string);
    }
    match response {
        Some(Response::Hold(until)) => done.push(format!("on hold until {}", ctx.policy.local_display(until))),
        Some(Response::Note) => done.push("note recorded (not sent to the customer)".into()),
        Some(Response::Open) => done.push("answer sent; the SR stays on our side".into()),
        Some(Response::Wait) => done.push(format!("answer sent; waiting on the customer (attempt {})", out.sr.contact_attempts)),
        _ => {}
    }
    if closing {
        push_closure(&mut out)?;
        done.push("closed as resolved; the customer got the closure notice".into());
    }
    if parsed.commands.contains(&Command::Confirm) {
        let (parent, refs) = (mail.message_id.clone(), mail.message_id.iter().cloned().collect());
        out.push(Draft::new(OutKind::CommandConfirmation, vec![by]).thread(parent, refs).extra(Extra { done, ..Extra::default() }))?;
    }
    let mut d = Decision::new(out.sr, false, out.mails);
    d.contact_changes = contact_changes;
    Ok(d)
}

/// Why commands that parse cannot be carried out on `sr` (nothing is applied when any is refused).
fn refusals(ctx: Ctx<'_>, sr: &Sr, commands: &[Command]) -> Vec<String> {
    let mut errors = Vec::new();
    let mut participants = sr.participants.clone();
    for c in commands {
        match c {
            Command::Assign(who) if find_cse(ctx, who).is_none() => {
                errors.push(format!("#assign {who}: nobody of that address or name on the roster"))
            }
            Command::ContactAdd { address, .. } if scope_of(ctx.config, &sr.customer).is_none() => errors.push(format!(
                "#contact add {address}: {} belongs to no configured [[account]]; designated contacts act for an account, never for a mail domain, so none can be added on {}",
                sr.customer,
                sr.token()
            )),
            Command::CcAdd(a) if a.eq_ignore_ascii_case(&sr.customer) || ctx.config.cse_by_email(a).is_some() => {
                errors.push(format!("#cc add {a}: the customer and the engineers are on the SR already"))
            }
            Command::CcAdd(a) if !participants.iter().any(|p| p.eq_ignore_ascii_case(a)) => {
                if participants.len() >= ctx.config.max_participants {
                    errors.push(format!("#cc add {a}: {} has {} participants already (max_participants)", sr.token(), participants.len()));
                } else {
                    participants.push(a.clone());
                }
            }
            Command::CcRemove(a) if !participants.iter().any(|p| p.eq_ignore_ascii_case(a)) => {
                errors.push(format!("#cc remove {a}: not a participant of {}", sr.token()))
            }
            Command::CcRemove(a) => participants.retain(|p| !p.eq_ignore_ascii_case(a)),
            Command::New { address, .. } => errors.push(format!(
                "#new {address}: opens an SR in a new mail to {} (not in a reply on {})",
                ctx.config.support_address,
                sr.token()
            )),
            Command::Queue => {
                errors.push(format!("#queue: write it in a new mail to {} (not in a reply on {})", ctx.config.support_address, sr.token()))
            }
            _ => {}
        }
    }
    errors
}

/// The roster entry named by address or name.
fn find_cse<'a>(ctx: Ctx<'a>, who: &str) -> Option<&'a crate::config::Cse> {
    ctx.config.cses.iter().find(|x| x.email.eq_ignore_ascii_case(who) || x.name.eq_ignore_ascii_case(who))
}

/// The state the CSE's message leaves the SR in; `None` when it only ran commands.
fn response_of(ctx: Ctx<'_>, commands: &[Command], has_text: bool, now: Timestamp) -> Option<Response> {
    let explicit = commands.iter().rev().find_map(|c| match c {
        Command::Wait => Some(Response::Wait),
        Command::Open => Some(Response::Open),
        Command::Note => Some(Response::Note),
        Command::Close => Some(Response::Close),
        Command::HoldFor(days) => Some(Response::Hold(now + SignedDuration::from_hours(24 * i64::from(*days)))),
        Command::HoldUntil(date) => Some(Response::Hold(ctx.policy.business_start_on(*date))),
        _ => None,
    });
    explicit.or(has_text.then_some(Response::Wait))
}

/// The escalation mail to the escalation manager and, for premium accounts, the CSM.
pub(super) fn push_escalation(out: &mut Outgoing<'_>, impact: &str) -> Result<(), RenderError> {
    let ctx = out.ctx;
    let csm = ctx.config.account_of(&out.sr.customer).filter(|a| a.tier == crate::config::Tier::Premium).and_then(|a| a.csm.clone());
    let to: Vec<String> = ctx.config.escalation_address.iter().cloned().chain(csm).collect();
    if !to.is_empty() {
        let (parent, refs) = out.staff_thread();
        let cc = out.sr.assignee.iter().cloned().collect();
        out.push(
            Draft::new(OutKind::Escalation, to).cc(cc).thread(parent, refs).extra(Extra { impact: impact.into(), ..Extra::default() }),
        )?;
    }
    let confirmation = out.to_customer(OutKind::EscalationConfirmed).extra(Extra { impact: impact.into(), ..Extra::default() });
    out.push(confirmation)
}

/// The closure notice to the customer.
pub(super) fn push_closure(out: &mut Outgoing<'_>) -> Result<(), RenderError> {
    let extra = Extra {
        close_reason: out.sr.close_reason.clone().unwrap_or_default(),
        reopen_days: out.ctx.policy.lifecycle().reopen_window_days,
        ..Extra::default()
    };
    let notice = out.to_customer(OutKind::ClosureNotice).extra(extra);
    out.push(notice)
}

/// The SR's messages for a history mail.
fn history(ctx: Ctx<'_>, sr: &Sr) -> Vec<HistoryEntry> {
    sr.messages
        .iter()
        .filter(|m| {
            matches!(
                m.kind,
                MessageKind::CustomerNew
                    | MessageKind::Intake
                    | MessageKind::CustomerReply
                    | MessageKind::CseReply
                    | MessageKind::Note
                    | MessageKind::ContactAttempt
            )
        })
        .map(|m| HistoryEntry {
            at: ctx.policy.local_display(m.at),
            direction: if m.direction == crate::sr::Direction::In { "in".into() } else { "out".into() },
            from: m.from.clone(),
            kind: serde_json::to_value(m.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            text: m.text.clone(),
        })
        .collect()
}
