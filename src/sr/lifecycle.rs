//! State changes of an SR, as pure functions of (SR, event, now).

use jiff::Timestamp;

use super::{MessageRecord, Priority, Sr, State};

/// Opens a new SR from the customer's first mail.
pub fn open(id: u64, first: MessageRecord, customer_name: Option<String>, subject: String, assignee: Option<String>, now: Timestamp) -> Sr {
    Sr {
        id,
        state: State::New,
        priority: Priority::P3,
        language: "en".into(),
        customer: first.from.clone(),
        customer_name,
        assignee,
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
    }
}

/// A customer wrote on the SR: it goes back to the CSE's side.
pub fn customer_replied(mut sr: Sr, message: MessageRecord, now: Timestamp) -> Sr {
    sr.messages.push(message);
    sr.state = State::Open;
    sr.contact_attempts = 0;
    sr.updated_at = now;
    sr
}

/// A CSE answered: the SR now waits on the customer, and that answer is attempt 1.
pub fn cse_responded(mut sr: Sr, message: MessageRecord, now: Timestamp) -> Sr {
    sr.messages.push(message);
    sr.first_response_at.get_or_insert(now);
    sr.state = State::AwaitingCustomer;
    sr.contact_attempts = 1;
    sr.updated_at = now;
    sr
}

/// The SR is given to `cse` (deferred assignment at the start of business hours, or reassignment).
pub fn assigned(mut sr: Sr, cse: String, now: Timestamp) -> Sr {
    sr.assignee = Some(cse);
    sr.assign_at = None;
    sr.updated_at = now;
    sr
}

/// The missed first-response target has been reported.
pub fn first_response_warned(mut sr: Sr, now: Timestamp) -> Sr {
    sr.first_response_warned = true;
    sr.updated_at = now;
    sr
}

/// The gateway sent a message on the SR (no state change).
pub fn sent(mut sr: Sr, message: MessageRecord, now: Timestamp) -> Sr {
    sr.messages.push(message);
    sr.updated_at = now;
    sr
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sr::{Direction, MessageKind};

    fn at(s: &str) -> Timestamp {
        s.parse().expect("literal instant")
    }

    fn msg(kind: MessageKind, from: &str, when: &str) -> MessageRecord {
        MessageRecord {
            direction: Direction::In,
            from: from.into(),
            to: vec!["support@example.test".into()],
            subject: "Printer on fire".into(),
            message_id: format!("{when}@example.com"),
            kind,
            at: at(when),
            attachments: vec![],
            text: "help".into(),
        }
    }

    #[test]
    fn a_new_sr_is_p3_english_and_new() {
        let sr = open(
            100_001,
            msg(MessageKind::CustomerNew, "c@example.com", "2026-03-03T10:00:00Z"),
            None,
            "Printer on fire".into(),
            Some("cse@example.test".into()),
            at("2026-03-03T10:00:00Z"),
        );
        assert_eq!(sr.state, State::New);
        assert_eq!(sr.priority, Priority::P3);
        assert_eq!(sr.language, "en");
        assert_eq!(sr.customer, "c@example.com");
        assert_eq!(sr.token(), "[SR#100001]");
    }

    #[test]
    fn cse_answer_waits_on_customer_and_customer_reply_resets() {
        let t0 = "2026-03-03T10:00:00Z";
        let sr = open(100_001, msg(MessageKind::CustomerNew, "c@example.com", t0), None, "s".into(), None, at(t0));
        let sr = cse_responded(sr, msg(MessageKind::CseReply, "cse@example.test", "2026-03-03T11:00:00Z"), at("2026-03-03T11:00:00Z"));
        assert_eq!((sr.state, sr.contact_attempts), (State::AwaitingCustomer, 1));
        let sr = customer_replied(sr, msg(MessageKind::CustomerReply, "c@example.com", "2026-03-04T09:00:00Z"), at("2026-03-04T09:00:00Z"));
        assert_eq!((sr.state, sr.contact_attempts), (State::Open, 0));
        assert_eq!(sr.updated_at, at("2026-03-04T09:00:00Z"));
        assert_eq!(sr.last_customer_message_id(), Some("2026-03-04T09:00:00Z@example.com"));
    }
}
