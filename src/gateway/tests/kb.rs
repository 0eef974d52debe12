//! Knowledge-base suggestions on a new SR, and a customer's "solved".

use super::*;

/// A store that remembers one suggestion: `article` shown to every customer at `at`.
struct Shown {
    article: &'static str,
    at: Option<Timestamp>,
    capped: bool,
    ack: Option<(String, u64)>,
}

impl Lookup for Shown {
    fn sr_exists(&self, id: u64) -> bool {
        self.ack.as_ref().is_some_and(|(_, sr)| *sr == id)
    }
    fn sr_of_message(&self, message_id: &str) -> Option<u64> {
        self.ack.as_ref().filter(|(id, _)| id == message_id).map(|(_, sr)| *sr)
    }
    fn contact(&self, _: &str) -> Option<Contact> {
        None
    }
    fn automated_since(&self, _: &str, _: Timestamp) -> u32 {
        if self.capped { u32::MAX } else { 0 }
    }
    fn suggested_at(&self, _: &str, article: &str) -> Option<Timestamp> {
        self.at.filter(|_| article == self.article)
    }
    fn open_srs_of(&self, _: &str, _: &mut dyn FnMut(&crate::sr::Sr)) {}
}

const OUTAGE: &str = "From: jane@example.com\r\nSubject: Portal down\r\nMessage-ID: <o1@example.com>\r\n\r\nWe cannot reach the portal: 503 Service Unavailable.\r\n";

fn opened(ctx: Ctx<'_>, lookup: &Shown, now: &str) -> Decision {
    let loads = HashMap::new();
    let new = NewSr { id: 100_001, mailbox: "support", loads: &loads, rr: 1 };
    applied(decide(ctx, &parse(OUTAGE), None, &new, lookup, at(now)))
}

#[test]
fn a_new_sr_suggests_articles_once_in_30_days() {
    let fixture = Fixture::new();
    let ctx = fixture.ctx();
    let never = Shown { article: "status-en", at: None, capped: false, ack: None };
    let d = opened(ctx, &never, "2026-03-03T10:00:00Z");
    assert_eq!(d.suggested, vec!["status-en"]);
    let ack = d.outgoing.iter().find(|m| m.kind == OutKind::Acknowledgement).expect("ack");
    assert!(ack.body.contains("https://status.example.com/"), "{}", ack.body);
    let note = d.outgoing.iter().find(|m| m.kind == OutKind::CseNotification).expect("note");
    assert!(note.body.contains("status-en") && note.body.contains("down (subject)"), "{}", note.body);
    assert!(d.sr.events.iter().any(|e| e.kind == "kb_suggested" && e.detail == "status-en"));

    let lately = Shown { at: Some(at("2026-02-20T10:00:00Z")), ..never };
    let d = opened(ctx, &lately, "2026-03-03T10:00:00Z");
    assert!(d.suggested.is_empty());
    assert!(!d.outgoing.iter().any(|m| m.body.contains("https://status.example.com/")));
    let d = opened(ctx, &lately, "2026-03-22T10:00:01Z");
    assert_eq!(d.suggested, vec!["status-en"], "30 days later it is suggested again");

    let capped = Shown { article: "none", at: None, capped: true, ack: None };
    let d = opened(ctx, &capped, "2026-03-03T10:00:00Z");
    assert!(d.suggested.is_empty(), "an acknowledgement that is not sent shows nothing");
}

/// The customer's answer to SR 100001 (`references` our acknowledgement, or not).
fn answer(ctx: Ctx<'_>, sr: Sr, text: &str, references: Option<&str>, lookup: &Shown, now: &str) -> Decision {
    let loads = HashMap::new();
    let new = NewSr { id: 100_002, mailbox: "support", loads: &loads, rr: 1 };
    let threading = references.map(|id| format!("In-Reply-To: <{id}>\r\n")).unwrap_or_default();
    let raw = format!(
        "From: jane@example.com\r\nSubject: Re: [SR#100001] Portal down\r\nMessage-ID: <a{now}@example.com>\r\n{threading}\r\n{text}\r\n"
    );
    applied(decide(ctx, &parse(&raw), Some(sr), &new, lookup, at(now)))
}

#[test]
fn solved_closes_only_an_answer_to_our_mail_or_an_authenticated_one() {
    let fixture = Fixture::new();
    let ctx = fixture.ctx();
    let first = opened(ctx, &Shown { article: "", at: None, capped: false, ack: None }, "2026-03-03T10:00:00Z");
    let ack_id = first.outgoing.iter().find(|m| m.kind == OutKind::Acknowledgement).expect("ack").message_id.clone();
    let store = Shown { article: "", at: None, capped: false, ack: Some((ack_id.clone(), 100_001)) };

    // Token only (anyone could write it): the CSE is asked, nothing closes.
    let d = answer(ctx, first.sr.clone(), "Solved, thanks!", None, &store, "2026-03-03T11:00:00Z");
    assert_eq!(d.sr.state, sr::State::Open);
    assert!(d.outgoing.iter().any(|m| m.kind == OutKind::CseInfo && m.body.contains("#close")));

    // An answer to our acknowledgement: closed as resolved, the customer gets the notice.
    let d = answer(ctx, first.sr.clone(), "Thanks, that fixed it.", Some(&ack_id), &store, "2026-03-03T11:00:00Z");
    assert_eq!((d.sr.state, d.sr.close_reason.as_deref()), (sr::State::Closed, Some("resolved")));
    assert!(d.outgoing.iter().any(|m| m.kind == OutKind::ClosureNotice && m.to == vec!["jane@example.com"]));
    assert!(d.outgoing.iter().any(|m| m.kind == OutKind::CustomerUpdate && m.body.contains("closed as resolved")));

    // Negated: nothing closes, and nobody is asked to.
    let d2 = answer(ctx, first.sr.clone(), "Sadly it is not solved.", Some(&ack_id), &store, "2026-03-03T11:00:00Z");
    assert_eq!(d2.sr.state, sr::State::Open);
    assert!(!d2.outgoing.iter().any(|m| m.kind == OutKind::CseInfo || m.kind == OutKind::ClosureNotice));

    // "Solved" again on the closed SR: recorded, it stays closed, no second notice.
    let again = answer(ctx, d.sr, "Gelöst, danke!", Some(&ack_id), &store, "2026-03-04T09:00:00Z");
    assert_eq!((again.sr.state, again.sr.reopen_count), (sr::State::Closed, 0));
    assert!(!again.outgoing.iter().any(|m| m.kind == OutKind::ClosureNotice));
}
