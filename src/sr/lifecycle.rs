//! State changes of an SR, as pure functions of (SR, event, now, policy).
//!
//! The contact cycle: a CSE response that waits on the customer is attempt 1
//! at T0 (`waiting_since`). Further attempts fall due `contact_attempt_days`
//! after T0 (and never sooner after the previous attempt than the nominal gap,
//! so a gateway that was down does not send a burst); once every attempt is
//! made and `close_after_days` have passed, the SR closes as `no_response`.
//! A customer reply ends the cycle at any moment. A hold suspends it; when the
//! hold ends a new cycle starts with a contact attempt.

use jiff::Timestamp;

use super::{MessageRecord, Priority, Sr, State};
use crate::policy::Policy;

/// Who the gateway is, in events.
pub const GATEWAY: &str = "srgate";

/// Opens a new SR from the customer's first mail.
pub fn open(id: u64, first: MessageRecord, customer_name: Option<String>, subject: String, assignee: Option<String>, now: Timestamp) -> Sr {
    let customer = first.from.clone();
    let opened = Opened { customer: customer.clone(), customer_name, by: customer, how: "opened by mail".into() };
    open_for(id, opened, first, subject, assignee, now)
}

/// Who an SR is for, and who opened it how (a customer by mail, or a CSE for a phone call).
#[derive(Debug, Clone)]
pub struct Opened {
    /// The customer's address.
    pub customer: String,
    /// The customer's display name, when known.
    pub customer_name: Option<String>,
    /// Who opened it (the customer, a CSE, the operator).
    pub by: String,
    /// How, in words (the `created` event's detail).
    pub how: String,
}

/// Opens a new SR for `opened.customer` whose first message is `first` (which may
/// come from somebody else: the CSE who took a phone call).
pub fn open_for(id: u64, opened: Opened, first: MessageRecord, subject: String, assignee: Option<String>, now: Timestamp) -> Sr {
    let Opened { customer, customer_name, by, how } = opened;
    let mut sr = Sr {
        id,
        state: State::New,
        priority: Priority::P3,
        language: "en".into(),
        customer,
        customer_name,
        assignee: assignee.clone(),
        subject,
        contact_attempts: 0,
        created_at: now,
        updated_at: now,
        closed_at: None,
        close_reason: None,
        messages: vec![first],
        detected_language: None,
        product: None,
        account: None,
        tier: None,
        tags: Vec::new(),
        after_hours: false,
        first_response_due: None,
        first_response_at: None,
        first_response_warned: false,
        assign_at: None,
        related: Vec::new(),
        events: Vec::new(),
        escalated: false,
        requested_priority: None,
        on_hold_until: None,
        waiting_since: None,
        last_attempt_at: None,
        reopen_count: 0,
        participants: Vec::new(),
        next_seq: 0,
        support_address: None,
    };
    sr.log(now, "created", &by, how);
    if let Some(a) = assignee {
        sr.log(now, "assigned", GATEWAY, a);
    }
    sr
}

fn end_cycle(sr: &mut Sr) {
    sr.contact_attempts = 0;
    sr.waiting_since = None;
    sr.last_attempt_at = None;
    sr.on_hold_until = None;
}

/// A customer (or a contact acting for them) wrote: the SR goes back to the CSE's side.
pub fn customer_replied(mut sr: Sr, message: MessageRecord, now: Timestamp) -> Sr {
    let by = message.from.clone();
    sr.messages.push(message);
    sr.state = State::Open;
    end_cycle(&mut sr);
    sr.updated_at = now;
    sr.log(now, "customer_reply", &by, "");
    sr
}

/// A customer confirmed on a closed SR that the problem is solved: recorded, and it stays closed.
pub fn confirmed_closed(mut sr: Sr, message: MessageRecord, now: Timestamp) -> Sr {
    let by = message.from.clone();
    sr.messages.push(message);
    sr.updated_at = now;
    sr.log(now, "customer_reply", &by, "says solved: stays closed");
    sr
}

/// A customer replied to a closed SR within the reopening window.
pub fn reopened(mut sr: Sr, message: MessageRecord, now: Timestamp) -> Sr {
    sr.closed_at = None;
    sr.close_reason = None;
    sr.reopen_count += 1;
    let by = message.from.clone();
    sr.log(now, "reopened", &by, format!("reopened ({} time(s))", sr.reopen_count));
    customer_replied(sr, message, now)
}

/// How a CSE response leaves the SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    /// Wait on the customer (a contact attempt).
    Wait,
    /// Keep it on the CSE's side.
    Open,
    /// Internal note: nothing changes hands.
    Note,
    /// Hold until the instant.
    Hold(Timestamp),
    /// Close as resolved.
    Close,
}

/// A CSE answered.
pub fn cse_responded(mut sr: Sr, message: MessageRecord, response: Response, policy: &Policy, now: Timestamp) -> Sr {
    let by = message.from.clone();
    sr.messages.push(message);
    if response != Response::Note {
        sr.first_response_at.get_or_insert(now);
    }
    if sr.state == State::Closed && !matches!(response, Response::Note | Response::Close) {
        sr.closed_at = None;
        sr.close_reason = None;
        sr.log(now, "reopened", &by, "by the CSE");
    }
    sr.updated_at = now;
    match response {
        Response::Note => sr.log(now, "note", &by, ""),
        Response::Open => {
            sr.state = State::Open;
            end_cycle(&mut sr);
            sr.log(now, "cse_response", &by, "kept open");
        }
        Response::Wait => {
            let max = max_attempts(policy);
            if sr.state == State::AwaitingCustomer && sr.waiting_since.is_some() {
                // A CSE message inside the cycle is the next attempt.
                sr.contact_attempts = (sr.contact_attempts + 1).min(max);
            } else {
                sr.state = State::AwaitingCustomer;
                sr.waiting_since = Some(now);
                sr.contact_attempts = 1;
            }
            sr.on_hold_until = None;
            sr.last_attempt_at = Some(now);
            sr.log(now, "cse_response", &by, format!("waiting on the customer (attempt {} of {max})", sr.contact_attempts));
        }
        Response::Hold(until) => {
            sr.state = State::OnHold;
            end_cycle(&mut sr);
            sr.on_hold_until = Some(until);
            sr.log(now, "on_hold", &by, format!("until {until}"));
        }
        Response::Close => return closed(sr, "resolved", &by, now),
    }
    sr
}

/// Closes the SR.
pub fn closed(mut sr: Sr, reason: &str, by: &str, now: Timestamp) -> Sr {
    sr.state = State::Closed;
    sr.closed_at = Some(now);
    sr.close_reason = Some(reason.into());
    end_cycle(&mut sr);
    sr.updated_at = now;
    sr.log(now, "closed", by, reason);
    sr
}

/// The priority changes (by a CSE).
pub fn priority_changed(mut sr: Sr, priority: Priority, by: &str, now: Timestamp) -> Sr {
    let old = sr.priority;
    sr.priority = priority;
    if sr.requested_priority == Some(priority) {
        sr.requested_priority = None;
    }
    sr.updated_at = now;
    sr.log(now, "priority_changed", by, format!("{old:?} -> {priority:?}"));
    sr
}

/// The customer asked for another priority (the CSE decides).
pub fn priority_requested(mut sr: Sr, priority: Priority, by: &str, now: Timestamp) -> Sr {
    sr.requested_priority = Some(priority);
    sr.updated_at = now;
    sr.log(now, "priority_requested", by, format!("{priority:?}"));
    sr
}

/// The SR is given to `cse` (deferred assignment at the start of business hours, or reassignment).
pub fn assigned(mut sr: Sr, cse: String, by: &str, now: Timestamp) -> Sr {
    let kind = if sr.assignee.is_some() { "reassigned" } else { "assigned" };
    let detail = match &sr.assignee {
        Some(old) => format!("{old} -> {cse}"),
        None => cse.clone(),
    };
    sr.assignee = Some(cse);
    sr.assign_at = None;
    sr.updated_at = now;
    sr.log(now, kind, by, detail);
    sr
}

/// An escalation was accepted.
pub fn escalated(mut sr: Sr, impact: &str, by: &str, now: Timestamp) -> Sr {
    sr.escalated = true;
    sr.updated_at = now;
    sr.log(now, "escalated", by, impact);
    sr
}

/// True when a customer may escalate now: P1, or open at least the policy's business days.
pub fn may_escalate(sr: &Sr, policy: &Policy, now: Timestamp) -> bool {
    sr.priority == Priority::P1 || policy.add_business_days(sr.created_at, policy.lifecycle().escalation_after_business_days) <= now
}

/// The missed first-response target has been reported.
pub fn first_response_warned(mut sr: Sr, now: Timestamp) -> Sr {
    sr.first_response_warned = true;
    sr.updated_at = now;
    sr.log(now, "first_response_warning", GATEWAY, "first-response target missed");
    sr
}

/// The gateway sent a message on the SR (no state change).
pub fn sent(mut sr: Sr, message: MessageRecord, now: Timestamp) -> Sr {
    record_sent(&mut sr, message, now);
    sr
}

/// Like [`sent`], in place (no copy of a large SR).
pub fn record_sent(sr: &mut Sr, message: MessageRecord, now: Timestamp) {
    sr.messages.push(message);
    sr.updated_at = now;
}

/// Attempts per cycle: the CSE's response plus the scheduled ones.
pub fn max_attempts(policy: &Policy) -> u32 {
    1 + policy.lifecycle().contact_attempt_days.len() as u32
}

/// When the next contact attempt is due, in the current cycle.
pub fn next_attempt_due(sr: &Sr, policy: &Policy) -> Option<Timestamp> {
    if sr.state != State::AwaitingCustomer {
        return None;
    }
    let days = &policy.lifecycle().contact_attempt_days;
    let made = sr.contact_attempts as usize;
    if made == 0 || made > days.len() {
        return None;
    }
    let t0 = sr.waiting_since?;
    let nominal = policy.after_days(t0, days[made - 1]);
    let gap = if made >= 2 { days[made - 1] - days[made - 2] } else { days[0] };
    let spaced = sr.last_attempt_at.map(|t| policy.after_days(t, gap)).unwrap_or(nominal);
    Some(nominal.max(spaced))
}

/// When the SR closes for no response, once every attempt is made.
pub fn closure_due(sr: &Sr, policy: &Policy) -> Option<Timestamp> {
    let l = policy.lifecycle();
    if sr.state != State::AwaitingCustomer || sr.contact_attempts < max_attempts(policy) {
        return None;
    }
    let t0 = sr.waiting_since?;
    let nominal = policy.after_days(t0, l.close_after_days);
    let gap = l.close_after_days - l.contact_attempt_days.last().copied().unwrap_or(0);
    let spaced = sr.last_attempt_at.map(|t| policy.after_days(t, gap)).unwrap_or(nominal);
    Some(nominal.max(spaced))
}

/// When the gateway next has work to do on this SR on its own, if ever.
pub fn next_wake(sr: &Sr, policy: &Policy) -> Option<Timestamp> {
    if sr.state == State::Closed {
        return None;
    }
    let assign = sr.assign_at.filter(|_| sr.assignee.is_none());
    let warn = sr.first_response_due.filter(|_| sr.first_response_at.is_none() && !sr.first_response_warned);
    let hold = sr.on_hold_until.filter(|_| sr.state == State::OnHold);
    [assign, warn, hold, next_attempt_due(sr, policy), closure_due(sr, policy)].into_iter().flatten().min()
}

/// What the passage of time did to the contact cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timed {
    /// A contact attempt is to be sent (its number in the cycle).
    ContactAttempt(u32),
    /// The SR closed for no response: the closure notice is to be sent.
    ClosedNoResponse,
}

/// Advances the contact cycle to `now`: at most one step per call.
pub fn tick(mut sr: Sr, policy: &Policy, now: Timestamp) -> (Sr, Option<Timed>) {
    match sr.state {
        State::OnHold if sr.on_hold_until.is_some_and(|t| t <= now) => {
            sr.state = State::AwaitingCustomer;
            sr.on_hold_until = None;
            sr.waiting_since = Some(now);
            sr.last_attempt_at = Some(now);
            sr.contact_attempts = 1;
            sr.updated_at = now;
            sr.log(now, "hold_ended", GATEWAY, "hold ended; new contact cycle");
            sr.log(now, "contact_attempt", GATEWAY, format!("attempt 1 of {}", max_attempts(policy)));
            (sr, Some(Timed::ContactAttempt(1)))
        }
        State::AwaitingCustomer if closure_due(&sr, policy).is_some_and(|t| t <= now) => {
            (closed(sr, "no_response", GATEWAY, now), Some(Timed::ClosedNoResponse))
        }
        State::AwaitingCustomer if next_attempt_due(&sr, policy).is_some_and(|t| t <= now) => {
            sr.contact_attempts += 1;
            sr.last_attempt_at = Some(now);
            sr.updated_at = now;
            let n = sr.contact_attempts;
            sr.log(now, "contact_attempt", GATEWAY, format!("attempt {n} of {}", max_attempts(policy)));
            (sr, Some(Timed::ContactAttempt(n)))
        }
        _ => (sr, None),
    }
}

#[cfg(test)]
mod tests;
