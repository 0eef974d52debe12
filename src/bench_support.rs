//! Building large stores for benchmarks, through the library's own code paths
//! (the lifecycle functions and [`Store::commit`]), not by writing keys by hand.

use jiff::{SignedDuration, Timestamp};

use crate::io::store::{Commit, Seen, SrWrite, Store, StoreError};
use crate::setup::Setup;
use crate::sr::lifecycle::{self, Response};
use crate::sr::{self, Direction, MessageKind, MessageRecord};

fn record(kind: MessageKind, from: &str, id: String, at: Timestamp, text: &str) -> MessageRecord {
    MessageRecord {
        direction: Direction::In,
        from: from.into(),
        to: vec!["support@example.test".into()],
        subject: "Generated request".into(),
        message_id: id,
        kind,
        at,
        attachments: Vec::new(),
        text: text.into(),
        files: Vec::new(),
    }
}

/// Fills the store of `setup` with `n` SRs; the last `due` of them wait on the
/// customer with a contact attempt due at `now`. Returns the number written.
pub fn generate_store(setup: &Setup, n: usize, due: usize, now: Timestamp) -> Result<usize, StoreError> {
    // A bulk load: a larger page cache than the daemon's. (With the daemon's 32 MB, sled 0.34
    // deadlocked twice at about half a million SRs here: spacejam/sled#1412, see `watchdog`.)
    let store = Store::open(&setup.config.data_dir, std::time::Duration::ZERO, 256 * 1024 * 1024)?;
    let policy = &setup.policy;
    let cses: Vec<String> = setup.config.cses.iter().map(|c| c.email.clone()).collect();
    for i in 0..n {
        let id = sr::FIRST_SR + i as u64;
        let customer = format!("customer{i}@example.com");
        let created = now - SignedDuration::from_hours(24 * 5);
        let first = record(MessageKind::CustomerNew, &customer, format!("gen-{i}@example.com"), created, "The printer prints blank pages.");
        let assignee = cses.get(i % cses.len().max(1)).cloned();
        let mut s = lifecycle::open(id, first, None, format!("Generated request {i}"), assignee, created);
        if i >= n.saturating_sub(due) {
            let t0 = now - SignedDuration::from_hours(24 * 4);
            let answer = record(
                MessageKind::CseReply,
                cses.first().map(String::as_str).unwrap_or("cse@example.test"),
                format!("gen-cse-{i}@example.test"),
                t0,
                "Which model is it?",
            );
            s = lifecycle::cse_responded(s, answer, Response::Wait, policy, t0);
        } else {
            s.first_response_at = Some(created);
        }
        let c = Commit {
            srs: vec![SrWrite {
                wake: lifecycle::next_wake(&s, policy),
                sr: s.clone(),
                created: true,
                stored: (0, 0),
                counted_before: None,
                before: None,
            }],
            message_ids: s.messages.iter().map(|m| (m.message_id.clone(), id)).collect(),
            seen: vec![Seen { key: format!("mid:gen-{i}@example.com"), sr: id, fingerprint: None }],
            load_delta: sr::load_delta(None, &s),
            ..Commit::default()
        };
        store.commit(&c)?;
    }
    // Closed as `import` closes it: the daemon's first start reads sled's snapshot.
    store.close()?;
    Ok(n)
}
