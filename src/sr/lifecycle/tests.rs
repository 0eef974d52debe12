//! The lifecycle as a pure function: table-driven cases with literal instants,
//! and property tests over random sequences of replies, holds and time.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::sr::{Direction, MessageKind};

fn at(s: &str) -> Timestamp {
    s.parse().expect("literal instant")
}

fn msg(kind: MessageKind, from: &str, when: Timestamp) -> MessageRecord {
    MessageRecord {
        direction: Direction::In,
        from: from.into(),
        to: vec!["support@example.test".into()],
        subject: "Printer on fire".into(),
        message_id: format!("{when}-{from}"),
        kind,
        at: when,
        attachments: vec![],
        text: "text".into(),
        files: vec![],
    }
}

fn policy() -> Policy {
    Policy::standard()
}

fn new_sr(t: Timestamp) -> Sr {
    open(100_001, msg(MessageKind::CustomerNew, "c@example.com", t), None, "s".into(), Some("cse@example.test".into()), t)
}

fn cse(sr: Sr, r: Response, t: Timestamp) -> Sr {
    cse_responded(sr, msg(MessageKind::CseReply, "cse@example.test", t), r, &policy(), t)
}

fn run_ticks(mut sr: Sr, until: Timestamp) -> (Sr, Vec<(Timestamp, Timed)>) {
    let p = policy();
    let mut out = Vec::new();
    while let Some(t) = next_wake(&sr, &p).filter(|t| *t <= until) {
        let (next, happened) = tick(sr, &p, t);
        sr = next;
        match happened {
            Some(h) => out.push((t, h)),
            None => break,
        }
    }
    (sr, out)
}

#[test]
fn a_new_sr_is_p3_english_and_new() {
    let sr = new_sr(at("2026-03-03T10:00:00Z"));
    assert_eq!((sr.state, sr.priority, sr.language.as_str()), (State::New, Priority::P3, "en"));
    assert_eq!(sr.token(), "[SR#100001]");
    assert_eq!(sr.events[0].kind, "created");
}

#[test]
fn three_attempts_in_ten_days_then_closure() {
    let t0 = at("2026-03-03T10:00:00Z");
    let sr = cse(new_sr(at("2026-03-03T09:00:00Z")), Response::Wait, t0);
    assert_eq!((sr.state, sr.contact_attempts, sr.waiting_since), (State::AwaitingCustomer, 1, Some(t0)));
    assert_eq!(next_wake(&sr, &policy()), Some(at("2026-03-06T10:00:00Z")));
    let (sr, happened) = run_ticks(sr, at("2026-04-01T00:00:00Z"));
    assert_eq!(
        happened,
        vec![
            (at("2026-03-06T10:00:00Z"), Timed::ContactAttempt(2)),
            (at("2026-03-10T10:00:00Z"), Timed::ContactAttempt(3)),
            (at("2026-03-13T10:00:00Z"), Timed::ClosedNoResponse),
        ]
    );
    assert_eq!(
        (sr.state, sr.close_reason.as_deref(), sr.closed_at),
        (State::Closed, Some("no_response"), Some(at("2026-03-13T10:00:00Z")))
    );
    assert_eq!(next_wake(&sr, &policy()), None);
}

#[test]
fn a_reply_on_day_four_stops_the_cycle() {
    let t0 = at("2026-03-03T10:00:00Z");
    let sr = cse(new_sr(t0), Response::Wait, t0);
    let (sr, happened) = run_ticks(sr, at("2026-03-07T10:00:00Z"));
    assert_eq!(happened, vec![(at("2026-03-06T10:00:00Z"), Timed::ContactAttempt(2))]);
    let sr = customer_replied(sr, msg(MessageKind::CustomerReply, "c@example.com", at("2026-03-07T10:00:00Z")), at("2026-03-07T10:00:00Z"));
    assert_eq!((sr.state, sr.contact_attempts, sr.waiting_since), (State::Open, 0, None));
    assert_eq!(run_ticks(sr, at("2026-05-01T00:00:00Z")).1, vec![]);
}

#[test]
fn a_late_gateway_spaces_its_attempts() {
    let t0 = at("2026-03-03T10:00:00Z");
    let sr = cse(new_sr(t0), Response::Wait, t0);
    // Nothing ran until day 12: one attempt now, the next one four days later, closure three days after.
    let (sr, h) = tick(sr, &policy(), at("2026-03-15T10:00:00Z"));
    assert_eq!(h, Some(Timed::ContactAttempt(2)));
    assert_eq!(next_wake(&sr, &policy()), Some(at("2026-03-19T10:00:00Z")));
    let (sr, h) = tick(sr, &policy(), at("2026-03-19T10:00:00Z"));
    assert_eq!(h, Some(Timed::ContactAttempt(3)));
    assert_eq!(closure_due(&sr, &policy()), Some(at("2026-03-22T10:00:00Z")));
}

#[test]
fn a_cse_message_in_the_cycle_is_the_next_attempt() {
    let t0 = at("2026-03-03T10:00:00Z");
    let sr = cse(new_sr(t0), Response::Wait, t0);
    let sr = cse(sr, Response::Wait, at("2026-03-05T10:00:00Z"));
    assert_eq!((sr.contact_attempts, sr.waiting_since), (2, Some(t0)));
    assert_eq!(next_wake(&sr, &policy()), Some(at("2026-03-10T10:00:00Z")));
}

#[test]
fn hold_then_new_cycle() {
    let t0 = at("2026-03-03T10:00:00Z");
    let sr = cse(new_sr(t0), Response::Hold(at("2026-03-20T08:00:00Z")), t0);
    assert_eq!((sr.state, sr.on_hold_until), (State::OnHold, Some(at("2026-03-20T08:00:00Z"))));
    let (sr, h) = run_ticks(sr, at("2026-03-20T08:00:00Z"));
    assert_eq!(h, vec![(at("2026-03-20T08:00:00Z"), Timed::ContactAttempt(1))]);
    assert_eq!((sr.state, sr.contact_attempts, sr.waiting_since), (State::AwaitingCustomer, 1, Some(at("2026-03-20T08:00:00Z"))));
    assert_eq!(closure_due(&sr, &policy()), None);
}

#[test]
fn close_reopen_open_note() {
    let t0 = at("2026-03-03T10:00:00Z");
    let sr = cse(new_sr(t0), Response::Note, t0);
    assert_eq!((sr.state, sr.first_response_at), (State::New, None));
    let sr = cse(sr, Response::Open, t0);
    assert_eq!((sr.state, sr.contact_attempts), (State::Open, 0));
    let sr = cse(sr, Response::Close, at("2026-03-04T10:00:00Z"));
    assert_eq!((sr.state, sr.close_reason.as_deref()), (State::Closed, Some("resolved")));
    let sr = reopened(sr, msg(MessageKind::CustomerReply, "c@example.com", at("2026-03-10T10:00:00Z")), at("2026-03-10T10:00:00Z"));
    assert_eq!((sr.state, sr.reopen_count, sr.closed_at), (State::Open, 1, None));
    assert!(sr.events.iter().any(|e| e.kind == "reopened"));
}

#[test]
fn escalation_needs_p1_or_a_business_day() {
    let created = at("2026-03-03T09:00:00Z"); // Tuesday 10:00 CET
    let mut sr = new_sr(created);
    assert!(!may_escalate(&sr, &policy(), at("2026-03-03T15:00:00Z")));
    assert!(may_escalate(&sr, &policy(), at("2026-03-04T09:00:00Z")));
    sr.priority = Priority::P1;
    assert!(may_escalate(&sr, &policy(), created));
}

#[derive(Debug, Clone)]
enum Step {
    Wait(u32),
    Customer(u32),
    CseWait(u32),
    Hold(u32, u32),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        (1u32..400).prop_map(Step::Wait),
        (1u32..400).prop_map(Step::Customer),
        (1u32..400).prop_map(Step::CseWait),
        ((1u32..400), (1u32..600)).prop_map(|(a, b)| Step::Hold(a, b)),
    ];
    proptest::collection::vec(step, 1..40)
}

proptest! {
    #[test]
    fn the_cycle_keeps_its_promises(steps in steps()) {
        let p = policy();
        let mut now = at("2026-03-02T08:00:00Z");
        let mut sr = new_sr(now);
        let mut closures = 0;
        let mut last_customer_reply: Option<Timestamp> = None;
        let mut hold_end: Option<Timestamp> = None;
        let hours = |h: u32| SignedDuration::from_hours(i64::from(h));
        for step in steps {
            let (wait, action) = match &step {
                Step::Wait(h) => (*h, None),
                Step::Customer(h) | Step::CseWait(h) => (*h, Some(step.clone())),
                Step::Hold(h, _) => (*h, Some(step.clone())),
            };
            let until = now + hours(wait);
            // Let time pass, step by step.
            while let Some(t) = next_wake(&sr, &p).filter(|t| *t <= until) {
                let before = sr.clone();
                let (next, happened) = tick(sr, &p, t);
                sr = next;
                match happened {
                    Some(Timed::ClosedNoResponse) => {
                        closures += 1;
                        prop_assert_eq!(before.contact_attempts, max_attempts(&p), "closed with fewer attempts");
                        let t0 = before.waiting_since.expect("cycle");
                        prop_assert!(t >= t0 + hours(240), "closed before T0 + 10 days");
                        prop_assert!(last_customer_reply.is_none_or(|r| r < t0), "closed after a reply in the cycle");
                        prop_assert!(hold_end.is_none_or(|h| t > h), "closure not after the hold");
                    }
                    Some(Timed::ContactAttempt(_)) => {
                        let t0 = sr.waiting_since.expect("cycle");
                        prop_assert!(last_customer_reply.is_none_or(|r| r < t0 || r > t), "attempt after a reply in the same cycle");
                        prop_assert!(hold_end.is_none_or(|h| t >= h), "attempt during a hold");
                    }
                    None => break,
                }
            }
            now = until;
            match action {
                Some(Step::Customer(_)) if sr.state != State::Closed => {
                    sr = customer_replied(sr, msg(MessageKind::CustomerReply, "c@example.com", now), now);
                    last_customer_reply = Some(now);
                    hold_end = None;
                }
                Some(Step::CseWait(_)) if sr.state != State::Closed => {
                    sr = cse(sr, Response::Wait, now);
                    hold_end = None;
                }
                Some(Step::Hold(_, len)) if sr.state != State::Closed => {
                    let end = now + hours(len);
                    sr = cse(sr, Response::Hold(end), now);
                    hold_end = Some(end);
                }
                _ => {}
            }
        }
        prop_assert!(closures <= 1, "two closure notices");
        prop_assert!(sr.contact_attempts <= max_attempts(&p));
    }
}
