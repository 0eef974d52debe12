//! Scheduled work on one SR: deferred assignment when business hours start,
//! the first-response warning, hold ends, contact attempts and closure.

use std::collections::HashMap;

use jiff::Timestamp;

use super::outgoing::{Draft, Outgoing};
use super::staff::push_closure;
use super::{Ctx, Decision};
use crate::mail::outbound::OutKind;
use crate::sr::Sr;
use crate::sr::lifecycle::{self, GATEWAY, Timed};
use crate::template::{Extra, RenderError};
use crate::triage;

/// Does what is due on `sr` at `now`; `None` when nothing is.
pub fn tick(ctx: Ctx<'_>, sr: Sr, loads: &HashMap<String, usize>, rr: u64, now: Timestamp) -> Result<Option<Decision>, RenderError> {
    if lifecycle::next_wake(&sr, ctx.policy).is_none_or(|t| t > now) {
        return Ok(None);
    }
    let mut out = Outgoing::new(ctx, sr, now);
    if out.sr.assignee.is_none() && out.sr.assign_at.is_some_and(|t| t <= now) {
        let language = out.sr.language.clone();
        if let Some(cse) = triage::least_loaded(&ctx.config.cses, out.sr.product.as_deref(), &language, loads, rr) {
            out.sr = lifecycle::assigned(out.sr.clone(), cse.clone(), GATEWAY, now);
            let first = out.sr.messages.first().cloned();
            let (text, names, mid) = first.map(|m| (m.text, m.attachments, m.message_id)).unwrap_or_default();
            out.push(Draft::new(OutKind::CseNotification, vec![cse]).thread(Some(mid.clone()), vec![mid]).text(text, names, Vec::new()))?;
        }
    }
    let warn_due =
        out.sr.first_response_due.is_some_and(|t| t <= now) && out.sr.first_response_at.is_none() && !out.sr.first_response_warned;
    if warn_due {
        out.sr = lifecycle::first_response_warned(out.sr.clone(), now);
        let to: Vec<String> = out.sr.assignee.iter().chain(ctx.config.escalation_address.iter()).cloned().collect();
        if !to.is_empty() {
            out.push(Draft::new(OutKind::FirstResponseWarning, to))?;
        }
    }
    let (sr, timed) = lifecycle::tick(out.sr.clone(), ctx.policy, now);
    out.sr = sr;
    match timed {
        Some(Timed::ContactAttempt(n)) => {
            let extra = Extra {
                attempt: n,
                attempts_max: lifecycle::max_attempts(ctx.policy),
                last_question: out.sr.last_cse_text().unwrap_or_default().to_string(),
                ..Extra::default()
            };
            let attempt = out.to_customer(OutKind::ContactAttempt).extra(extra);
            out.push(attempt)?;
        }
        Some(Timed::ClosedNoResponse) => push_closure(&mut out)?,
        None => {}
    }
    Ok(Some(Decision::new(out.sr, false, out.mails)))
}
