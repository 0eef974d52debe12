//! The store's two engines, side by side, on a real PostgreSQL (tests/common/pg.rs):
//! what one engine reads back the other reads back alike; and what only a shared
//! database has to guarantee: a stale decision is refused, SR numbers never repeat,
//! a gateway that lost a mailbox's lease cannot commit for it (fencing), outbox
//! items and scheduled work are each claimed by one gateway, and a copy between
//! engines loses nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use jiff::Timestamp;
use srgate::config::Postgres;
use srgate::io::control::{Request, Response, answer};
use srgate::io::store::{Commit, Disposition, OutboxItem, QuarantineRecord, Seen, SrWrite, Store, StoreError};
use srgate::mail::outbound::OutKind;
use srgate::sr::{Direction, MessageKind, MessageRecord, Sr, lifecycle};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A migrated database of its own, reached as the gateway called `name`.
fn settings(url: &str, name: &str) -> Postgres {
    let sep = if url.contains('?') { '&' } else { '?' };
    Postgres { failover_after: Duration::from_secs(3), ..common::config::postgres_settings(&format!("{url}{sep}application_name={name}")) }
}

fn fresh(prefix: &str) -> Result<String> {
    let url = common::pg::postgres().fresh_database(prefix);
    srgate::io::store::postgres::schema::migrate(&settings(&url, "migrate"))?;
    Ok(url)
}

fn gateway(url: &str, name: &str, dir: &std::path::Path) -> Result<Store> {
    Ok(Store::open_postgres(&settings(url, name), &dir.join(name))?)
}

fn t(text: &str) -> Timestamp {
    text.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

fn mail(n: usize, from: &str, at: Timestamp) -> MessageRecord {
    MessageRecord {
        direction: Direction::In,
        from: from.into(),
        to: vec!["support@example.test".into()],
        subject: format!("Printer {n}"),
        message_id: format!("m{n}.{from}"),
        kind: MessageKind::CustomerNew,
        at,
        attachments: Vec::new(),
        text: format!("Mail {n}: the printer prints blank pages. {}", "ü".repeat(50)),
        files: Vec::new(),
    }
}

fn write(before: Option<&Sr>, after: &Sr) -> SrWrite {
    SrWrite {
        sr: after.clone(),
        created: before.is_none(),
        stored: before.map(|b| (b.messages.len(), b.events.len())).unwrap_or((0, 0)),
        wake: Some(after.updated_at + jiff::SignedDuration::from_hours(1)),
        counted_before: before.map(|b| (b.state, b.priority)),
        before: before.map(Sr::facts),
    }
}

fn item(sr: u64, to: &str, n: usize, at: Timestamp) -> OutboxItem {
    OutboxItem {
        sr,
        kind: OutKind::Acknowledgement,
        from: "support@example.test".into(),
        to: vec![to.into()],
        message_id: format!("sr{sr}.{n}@example.test"),
        queued_at: at,
        attempts: 0,
        next_attempt_at: at,
        last_error: None,
        bytes: format!("Subject: ack {n}\r\n\r\nhello\r\n").into_bytes(),
    }
}

/// Opens `n` SRs (each with a reply, queued mail and a dedupe key) and a quarantine record.
fn fill(store: &Store, n: usize) -> Result {
    let at = t("2026-03-03T10:00:00.123456789Z");
    for i in 0..n {
        let id = store.next_sr_id()?;
        let customer = format!("customer{i}@example.com");
        let sr = lifecycle::open(id, mail(i, &customer, at), Some(format!("Customer {i}")), format!("Printer {i}"), None, at);
        let c = Commit {
            srs: vec![write(None, &sr)],
            message_ids: vec![(format!("m{i}.{customer}"), id)],
            seen: vec![Seen { key: format!("mid:m{i}.{customer}"), sr: id, fingerprint: Some([i as u8; 32]) }],
            outbox: vec![item(id, &customer, i, at)],
            load_delta: vec![("cse@example.test".into(), 1)],
            ..Commit::default()
        };
        store.commit(&c)?;
        let replied = lifecycle::customer_replied(sr.clone(), mail(i + 1_000_000, &customer, at), at);
        store.commit(&Commit { srs: vec![write(Some(&sr), &replied)], ..Commit::default() })?;
    }
    let q = QuarantineRecord {
        mailbox: "support".into(),
        uid: 7,
        reason: "no sender".into(),
        from: String::new(),
        subject: "?".into(),
        at,
        content_hash: "00".repeat(32),
    };
    store.commit(&Commit { quarantine: Some(q), ..Commit::default() })?;
    Ok(())
}

fn sr_list(store: &Store) -> Result<serde_json::Value> {
    match answer(store, &Request::SrList { state: None }) {
        Response::Ok(v) => Ok(v),
        Response::Error(e) => Err(e.into()),
    }
}

#[test]
fn both_engines_read_back_what_they_were_given() -> Result {
    let dir = tempfile::tempdir()?;
    let url = fresh("alike")?;
    let sled = Store::open(&dir.path().join("sled"), Duration::ZERO, 8 << 20)?;
    let pg = gateway(&url, "alike", dir.path())?;
    for store in [&sled, &pg] {
        fill(store, 20)?;
    }
    assert_eq!(sr_list(&sled)?, sr_list(&pg)?, "every SR with its history alike");
    assert_eq!(sled.loads()?, pg.loads()?);
    assert_eq!(sled.quarantine()?, pg.quarantine()?);
    assert_eq!(sled.seen("mid:m3.customer3@example.com")?, pg.seen("mid:m3.customer3@example.com")?);
    let now = t("2026-03-03T11:00:00Z");
    let due = |s: &Store| -> Result<Vec<String>> { Ok(s.outbox_due(now, 100)?.into_iter().map(|(_, i)| i.message_id).collect()) };
    assert_eq!(due(&sled)?, due(&pg)?);
    let sr = pg.get_sr(100_001)?.ok_or("SR 100001")?;
    assert_eq!(sr.messages.len(), 2);
    assert_eq!(Some(sr.clone()), sled.get_sr(100_001)?);
    // The SRs not closed, streamed (the digests read them so): a closed SR is not among them.
    let closed = lifecycle::closed(sr.clone(), "resolved", "cse@example.test", now);
    let open = |s: &Store| -> Result<Vec<u64>> {
        let mut ids = Vec::new();
        s.each_open_sr(&mut |sr| ids.push(sr.id))?;
        ids.sort_unstable();
        Ok(ids)
    };
    for store in [&sled, &pg] {
        store.commit(&Commit { srs: vec![write(Some(&sr), &closed)], ..Commit::default() })?;
        assert_eq!(open(store)?, (100_002..=100_020).collect::<Vec<_>>());
        // A CSE's own open SRs (the `#queue` answer reads them so), and nobody else's.
        let id = store.next_sr_id()?;
        let ann = lifecycle::open(id, mail(21, "x@example.com", now), None, "Assigned".into(), Some("ann@example.test".into()), now);
        store.commit(&Commit { srs: vec![write(None, &ann)], ..Commit::default() })?;
        let mut mine = Vec::new();
        srgate::gateway::Lookup::open_srs_of(store, "ann@example.test", &mut |sr| mine.push(sr.id));
        assert_eq!(mine, vec![id]);
        srgate::gateway::Lookup::open_srs_of(store, "bob@example.test", &mut |sr| mine.push(sr.id));
        assert_eq!(mine, vec![id], "Bob has none");
    }
    Ok(())
}

#[test]
fn a_decision_on_a_stale_sr_is_refused() -> Result {
    let dir = tempfile::tempdir()?;
    let url = fresh("stale")?;
    let (a, b) = (gateway(&url, "gw-a", dir.path())?, gateway(&url, "gw-b", dir.path())?);
    fill(&a, 1)?;
    let read_by_a = a.get_sr(100_001)?.ok_or("SR")?;
    let read_by_b = b.get_sr(100_001)?.ok_or("SR")?;
    let at = t("2026-03-03T12:00:00Z");
    let by_a = lifecycle::customer_replied(read_by_a.clone(), mail(50, "customer0@example.com", at), at);
    a.commit(&Commit { srs: vec![write(Some(&read_by_a), &by_a)], ..Commit::default() })?;
    let by_b = lifecycle::customer_replied(read_by_b.clone(), mail(51, "customer0@example.com", at), at);
    let refused = b.commit(&Commit { srs: vec![write(Some(&read_by_b), &by_b)], ..Commit::default() });
    assert!(matches!(refused, Err(StoreError::Conflict(100_001))), "{refused:?}");
    assert_eq!(b.get_sr(100_001)?.ok_or("SR")?.messages.len(), 3, "A's change stands, B's is not half written");
    Ok(())
}

#[test]
fn sr_numbers_come_from_one_sequence() -> Result {
    let dir = tempfile::tempdir()?;
    let url = fresh("numbers")?;
    let (a, b) = (gateway(&url, "gw-a", dir.path())?, gateway(&url, "gw-b", dir.path())?);
    let (na, nb) = (a.next_sr_id()?, b.next_sr_id()?);
    assert_eq!((na, nb), (100_001, 100_001), "both would open the next SR");
    let at = t("2026-03-03T10:00:00Z");
    let open = |id| lifecycle::open(id, mail(1, "jane@example.com", at), None, "Printer".into(), None, at);
    a.commit(&Commit { srs: vec![write(None, &open(na))], ..Commit::default() })?;
    let refused = b.commit(&Commit { srs: vec![write(None, &open(nb))], ..Commit::default() });
    assert!(matches!(refused, Err(StoreError::Conflict(100_001))), "the number is taken: {refused:?}");
    assert_eq!(b.next_sr_id()?, 100_002, "decided again with the next number, no gap");
    b.commit(&Commit { srs: vec![write(None, &open(100_002))], ..Commit::default() })?;
    assert_eq!(a.next_sr_id()?, 100_003);
    Ok(())
}

#[test]
fn a_mail_in_two_mailboxes_is_decided_by_one_gateway() -> Result {
    let dir = tempfile::tempdir()?;
    let url = fresh("seen")?;
    let (a, b) = (gateway(&url, "gw-a", dir.path())?, gateway(&url, "gw-b", dir.path())?);
    let at = t("2026-03-03T10:00:00Z");
    // Both read the dedupe set before either committed: neither had seen the mail.
    assert!(a.seen("mid:both@example.com")?.is_none() && b.seen("mid:both@example.com")?.is_none());
    let open = |id| lifecycle::open(id, mail(1, "jane@example.com", at), None, "Printer".into(), None, at);
    let seen = |sr| vec![Seen { key: "mid:both@example.com".into(), sr, fingerprint: Some([7; 32]) }];
    a.commit(&Commit { srs: vec![write(None, &open(100_001))], seen: seen(100_001), seen_first: true, ..Commit::default() })?;
    let refused = b.commit(&Commit { srs: vec![write(None, &open(100_002))], seen: seen(100_002), seen_first: true, ..Commit::default() });
    assert!(matches!(refused, Err(StoreError::Conflict(100_002))), "the mail is A's: {refused:?}");
    assert!(b.get_sr(100_002)?.is_none(), "B's SR is not half written");
    assert_eq!(b.seen("mid:both@example.com")?.map(|s| s.sr), Some(100_001), "decided again, B finds it seen");
    // Written over when the commit does not claim the key (a restore, an import).
    b.commit(&Commit { seen: seen(100_001), ..Commit::default() })?;
    Ok(())
}

#[test]
fn a_gateway_that_lost_the_lease_cannot_commit_for_the_mailbox() -> Result {
    let dir = tempfile::tempdir()?;
    let url = fresh("fence")?;
    let (a, b) = (gateway(&url, "fence-a", dir.path())?, gateway(&url, "fence-b", dir.path())?);
    let position =
        |uid| Commit { mailbox: "support".into(), source: Some((1, uid)), disposition: Some(Disposition::Processed), ..Commit::default() };
    assert!(a.own_mailbox("support")?);
    assert!(!b.own_mailbox("support")?, "one owner at a time");
    a.commit(&position(1))?;
    assert!(matches!(b.commit(&position(2)), Err(StoreError::Fenced(_))), "no lease, no commit");
    // A's database sessions end (the pool's and the lease's), A does not know yet.
    let ended = common::pg::postgres().terminate_sessions(&url, "fence-a");
    assert!(ended >= 1);
    assert!(common::wait_until(Duration::from_secs(10), Duration::from_millis(100), || b.own_mailbox("support").unwrap_or(false)));
    b.commit(&position(2))?;
    // A's pool reconnects; its commit still carries the old token.
    let mut refused = a.commit(&position(3));
    for _ in 0..3 {
        if !matches!(refused, Err(StoreError::Database(_))) {
            break;
        }
        refused = a.commit(&position(3));
    }
    assert!(matches!(refused, Err(StoreError::Fenced(_))), "{refused:?}");
    assert!(!a.own_mailbox("support")?, "B holds it now");
    assert_eq!(b.mailbox_state("support")?.map(|s| s.last_uid), Some(2));
    Ok(())
}

#[test]
fn three_gateways_claim_each_queued_mail_once() -> Result {
    let dir = tempfile::tempdir()?;
    let url = fresh("claims")?;
    let gateways = ["gw-1", "gw-2", "gw-3"].map(|n| gateway(&url, n, dir.path()));
    let gateways = gateways.into_iter().collect::<std::result::Result<Vec<_>, _>>()?;
    let at = t("2026-03-03T10:00:00Z");
    for chunk in 0..50 {
        let outbox = (0..100).map(|i| item(chunk * 100 + i + 1, &format!("c{i}@example.com"), i as usize, at)).collect();
        gateways[0].commit(&Commit { outbox, ..Commit::default() })?;
    }
    let sent: Vec<Vec<u64>> = std::thread::scope(|s| {
        let workers: Vec<_> = gateways
            .iter()
            .map(|g| {
                s.spawn(move || {
                    let mut mine = Vec::new();
                    while let Ok(batch) = g.outbox_due(at, 64) {
                        if batch.is_empty() {
                            break;
                        }
                        for (id, _) in batch {
                            mine.push(id);
                            let _ = g.outbox_remove(id);
                        }
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_default()).collect()
    });
    let all: Vec<u64> = sent.iter().flatten().copied().collect();
    let distinct: HashSet<u64> = all.iter().copied().collect();
    assert_eq!(all.len(), 5_000, "every mail delivered: {:?}", sent.iter().map(Vec::len).collect::<Vec<_>>());
    assert_eq!(distinct.len(), 5_000, "none twice");
    assert!(sent.iter().all(|s| !s.is_empty()), "all three delivered: {:?}", sent.iter().map(Vec::len).collect::<Vec<_>>());
    Ok(())
}

#[test]
fn scheduled_work_is_claimed_by_one_gateway() -> Result {
    let dir = tempfile::tempdir()?;
    let url = fresh("wakes")?;
    let (a, b) = (gateway(&url, "gw-a", dir.path())?, gateway(&url, "gw-b", dir.path())?);
    fill(&a, 30)?;
    let later = t("2026-03-04T10:00:00Z");
    let (da, db) = (a.due_until(later, 20)?, b.due_until(later, 20)?);
    assert_eq!(da.len() + db.len(), 30);
    assert!(da.iter().all(|id| !db.contains(id)), "no SR claimed twice");
    assert!(b.due_until(later, 20)?.iter().all(|id| db.contains(id)), "another gateway's claims are not handed out");
    assert_eq!(a.due_until(later, 20)?.len(), da.len(), "a gateway's unfinished claims are its own again");
    Ok(())
}

#[test]
fn a_copy_between_engines_loses_nothing() -> Result {
    let dir = tempfile::tempdir()?;
    let policy = srgate::policy::Policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/policy.toml")))?;
    let first = Store::open(&dir.path().join("first"), Duration::ZERO, 8 << 20)?;
    fill(&first, 1_000)?;
    let file = b"%PDF-1.4 an attachment".to_vec();
    let sha: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&file).iter().map(|b| format!("{b:02x}")).collect()
    };
    let placed = first.store_files(&[(sha.clone(), file.as_slice())])?;
    first.commit(&Commit { files: placed, ..Commit::default() })?;
    let url = fresh("copy")?;
    let middle = gateway(&url, "copy", dir.path())?;
    srgate::backup::copy(&first, &middle, &policy)?;
    assert_eq!(sr_list(&first)?, sr_list(&middle)?, "sled → postgres");
    let last = Store::open(&dir.path().join("last"), Duration::ZERO, 8 << 20)?;
    let copied = srgate::backup::copy(&middle, &last, &policy)?;
    assert_eq!(sr_list(&first)?, sr_list(&last)?, "postgres → sled");
    assert_eq!((copied.srs, copied.outbox, copied.quarantine, copied.files), (1_000, 1_000, 1, 1));
    assert_eq!(last.file(&sha)?, Some(file));
    assert_eq!(last.quarantine()?, first.quarantine()?);
    assert_eq!(last.outbox_len(), 1_000);
    Ok(())
}

#[test]
fn the_reporting_views_answer_as_documented() -> Result {
    let url = fresh("views")?;
    let check = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sql/views_check.sql"))?;
    // The script asserts each view's rows itself (RAISE EXCEPTION naming the view) and rolls back.
    common::pg::postgres().psql(&url, &check);
    let dir = tempfile::tempdir()?;
    let pg = gateway(&url, "views", dir.path())?;
    fill(&pg, 3)?;
    let rows = common::pg::postgres().psql(&url, "SELECT count(*) FROM sr_overview WHERE attempts = 0 AND messages = 2");
    assert_eq!(rows.trim(), "3", "the views read what srgate writes");
    Ok(())
}
