//! Machine-generated mail on an SR, and the cap on automated replies.
//!
//! An auto-reply is recorded but is not a customer reply: it does not reopen,
//! does not reset the contact cycle, does not count as an answer. A bounce of
//! our mail is a `delivery_failed` event on its SR, and the CSE is told; a delay
//! warning is a `delivery_delayed` event, and nobody is told. The per-address cap
//! stops loops with auto-responders that do not say they are.

use jiff::{SignedDuration, Timestamp};

use super::new_sr::inbound_record;
use super::outgoing::Outgoing;
use super::{Ctx, Decision, Lookup};
use crate::mail::classify::Classification;
use crate::mail::inbound::Inbound;
use crate::mail::outbound::OutKind;
use crate::sr::{Direction, MessageKind, Sr, lifecycle};
use crate::template::{Extra, RenderError};

/// An auto-reply or bulk mail on `sr`: recorded, nothing else.
pub(super) fn automatic(ctx: Ctx<'_>, mail: &Inbound, mut sr: Sr, c: &Classification, now: Timestamp) -> Decision {
    sr = lifecycle::sent(sr, inbound_record(ctx, mail, MessageKind::AutoReply, mail.new_text.clone(), now), now);
    sr.log(now, "auto_reply", &mail.from, c.signals.join("; "));
    Decision::new(sr, false, Vec::new())
}

/// How much of a delivery report's text reaches the CSE: it is the sender's text, not ours.
const REPORT_EXCERPT: usize = 500;

/// A bounce of our mail on `sr`: a `delivery_failed` event, and the CSE is told.
/// Only a report that names one of the mails we sent on this SR counts (anybody can
/// write a "delivery report"); `None` otherwise. Its text reaches the CSE truncated
/// and marked as what it is: untrusted words from outside.
pub(super) fn bounced(
    ctx: Ctx<'_>,
    mail: &Inbound,
    mut sr: Sr,
    c: &Classification,
    now: Timestamp,
) -> Result<Option<Decision>, RenderError> {
    let Some((id, failed_to)) = returned_mail(mail, &sr) else {
        return Ok(None);
    };
    let excerpt: String = mail.text.chars().take(REPORT_EXCERPT).collect();
    sr = lifecycle::sent(sr, inbound_record(ctx, mail, MessageKind::Bounce, excerpt.clone(), now), now);
    let detail = format!("our message <{id}> to {failed_to} was not delivered ({})", c.signals.join("; "));
    sr.log(now, "delivery_failed", reporter(mail), detail.clone());
    let mut out = Outgoing::new(ctx, sr, now);
    if let Some(d) = out.to_cse(OutKind::CseInfo) {
        let cut = if mail.text.chars().count() > REPORT_EXCERPT { " [cut]" } else { "" };
        let info = format!(
            "Delivery failed on {}: {detail}.\n\nThe report's first {REPORT_EXCERPT} characters follow, as the reporting server (or whoever wrote it) sent them: untrusted text, not from srgate.\n---\n{excerpt}{cut}\n---",
            out.sr.token()
        );
        out.push(d.extra(Extra { info, ..Extra::default() }))?;
    }
    Ok(Some(Decision::new(out.sr, false, out.mails)))
}

/// Who sent a delivery report, as the SR's history names it (a report may have no sender).
fn reporter(mail: &Inbound) -> &str {
    if mail.from.is_empty() { "(null sender)" } else { mail.from.as_str() }
}

/// The first Message-ID a report returns that is one we sent on `sr`, with the
/// recipients of that mail.
fn returned_mail(mail: &Inbound, sr: &Sr) -> Option<(String, String)> {
    let ours = |id: &str| sr.messages.iter().find(|m| m.direction == Direction::Out && m.message_id == id);
    mail.report_ids.iter().find_map(|id| ours(id).map(|m| (id.clone(), m.to.join(", "))))
}

/// A delay warning for our mail on `sr` (the server keeps trying, or a list holds
/// the mail for its moderator): a `delivery_delayed` event, nothing else: no message
/// is recorded on the SR and nobody is told (the mail may still arrive; a failure
/// later comes as a bounce). Only a warning that names one of the mails we sent on
/// this SR counts, as for bounces; `None` otherwise.
pub(super) fn delayed(mail: &Inbound, mut sr: Sr, c: &Classification, now: Timestamp) -> Option<Decision> {
    let (id, to) = returned_mail(mail, &sr)?;
    let detail = format!(
        "our message <{id}> to {to} is delayed, not failed: the report <{}> says delivery goes on ({})",
        mail.record_id(),
        c.signals.join("; ")
    );
    sr.log(now, "delivery_delayed", reporter(mail), detail);
    sr.updated_at = now;
    Some(Decision::new(sr, false, Vec::new()))
}

/// The window automated mail is capped in (`auto_replies_per_hour`): a decision
/// made at `now` counts what each recipient got since `now - AUTOMATED_WINDOW`.
pub const AUTOMATED_WINDOW: SignedDuration = SignedDuration::from_hours(1);

/// Caps automated mail to the customer's side: every recipient (To and Cc) of an
/// automated mail counts, and an address that already got `auto_replies_per_hour`
/// of them in the last hour gets no more (it is taken off the mail; a mail left
/// with no recipient is not sent). Lists (recipient, Message-ID) of what is sent.
pub(super) fn cap_automated(ctx: Ctx<'_>, mut d: Decision, lookup: &impl Lookup, now: Timestamp) -> Decision {
    let cap = ctx.policy.lifecycle().auto_replies_per_hour;
    let since = now - AUTOMATED_WINDOW;
    let mut counted: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut suppressed: Vec<(String, String)> = Vec::new();
    for m in d.outgoing.iter_mut().filter(|m| m.auto_submitted.is_some() && m.kind.to_customer()) {
        let mut keep = |address: &String| {
            let key = address.to_ascii_lowercase();
            let used = *counted.entry(key.clone()).or_insert_with(|| lookup.automated_since(&key, since));
            if used >= cap {
                suppressed.push((m.message_id.clone(), address.clone()));
                return false;
            }
            counted.insert(key.clone(), used + 1);
            d.automated.push((key, m.message_id.clone()));
            true
        };
        m.to.retain(&mut keep);
        m.cc.retain(&mut keep);
        if m.to.is_empty() {
            // No main recipient left: the copies alone are not sent either.
            m.cc.clear();
        }
        if let Some(record) = d.sr.messages.iter_mut().find(|r| r.message_id == m.message_id) {
            record.to = m.to.iter().chain(m.cc.iter()).cloned().collect();
        }
    }
    let unsent: Vec<String> = d.outgoing.iter().filter(|m| m.to.is_empty()).map(|m| m.message_id.clone()).collect();
    d.outgoing.retain(|m| !m.to.is_empty());
    d.automated.retain(|(_, id)| !unsent.contains(id));
    for (id, to) in suppressed {
        if unsent.contains(&id) {
            d.sr.messages.retain(|m| m.message_id != id);
        }
        d.sr.log(now, "auto_reply_suppressed", lifecycle::GATEWAY, format!("{cap} automated mails to {to} in the last hour: no more"));
    }
    // Articles count as shown only when the acknowledgement that lists them goes out.
    if !d.outgoing.iter().any(|m| m.kind == crate::mail::outbound::OutKind::Acknowledgement) {
        d.suggested.clear();
    }
    d
}

/// Our mail `message_id` to `to` was refused for good by the SMTP server: a
/// `delivery_failed` event, and the CSE is told (unless the refused mail was theirs).
pub fn delivery_failed(
    ctx: Ctx<'_>,
    mut sr: Sr,
    message_id: &str,
    to: &[String],
    error: &str,
    now: Timestamp,
) -> Result<Decision, RenderError> {
    let detail = format!("our message <{message_id}> to {} was refused: {error}", to.join(", "));
    sr.log(now, "delivery_failed", lifecycle::GATEWAY, detail.clone());
    let mut out = Outgoing::new(ctx, sr, now);
    let cse_refused = out.sr.assignee.as_ref().is_some_and(|a| to.contains(a));
    if !cse_refused && let Some(d) = out.to_cse(OutKind::CseInfo) {
        out.push(d.extra(Extra { info: format!("Delivery failed on {}: {detail}.", out.sr.token()), ..Extra::default() }))?;
    }
    Ok(Decision::new(out.sr, false, out.mails))
}

/// A mail that names this SR (`from`, as far as it could be read) was quarantined
/// for `reason`: a `quarantined` event, and the CSE is told where to find it, so
/// that a customer's unreadable mail does not go unnoticed.
pub fn quarantined(ctx: Ctx<'_>, mut sr: Sr, from: &str, reason: &str, now: Timestamp) -> Result<Decision, RenderError> {
    let from = if from.is_empty() { "an unknown sender" } else { from };
    let detail = format!("a message from {from} was quarantined: {reason}");
    sr.log(now, "quarantined", lifecycle::GATEWAY, detail.clone());
    let mut out = Outgoing::new(ctx, sr, now);
    if let Some(d) = out.to_cse(OutKind::CseInfo) {
        let info = format!(
            "On {}, {detail}. It was not added to the request and nothing was sent to the customer. `srgate quarantine list` shows it with the content hash of the original, which `srgate file get HASH` writes out.",
            out.sr.token()
        );
        out.push(d.extra(Extra { info, ..Extra::default() }))?;
    }
    Ok(Decision::new(out.sr, false, out.mails))
}
