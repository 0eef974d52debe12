//! Issue 10 on the real stack: the daemon crashed at each instant where "nothing is
//! lost" could break (a failpoint aborts the process there), restarted, and the
//! invariants checked; then one test per gap the issue names.
//!
//! The invariants after every crash and restart:
//! 1. every mail on the server is in exactly one SR or one quarantine record;
//! 2. nothing the server shows as `\Seen` or moved is missing from the store;
//! 3. every committed outgoing mail is delivered (the outbox drains, every customer
//!    is acknowledged and the CSE notified of every SR);
//! 4. duplicates are at most the mails in flight at the crash.
//!
//! Needs the `failpoints` feature (scripts/test.sh enables it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use common::desk::{Desk, Options, customer_mail, exited, free_port, mailbox_table, stop};
use common::read::kinds;
use common::{MailStack, stack, wait_until};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
/// Mails in flight at a crash, at most: one per SMTP connection (`[smtp] connections`, 4).
/// Delivery runs beside ingestion, so a crash at any instant may catch some in flight.
const IN_FLIGHT: usize = 4;

/// The mails of one test: a customer each, appended to the support INBOX in order.
fn customers(ms: &MailStack, desk: &Desk, prefix: &str, n: usize) -> Vec<String> {
    let list: Vec<String> = (0..n).map(|i| ms.unique_user_at(&format!("{prefix}{i}"), "example.com")).collect();
    for (i, c) in list.iter().enumerate() {
        ms.append(&desk.support, "INBOX", &customer_mail(c, &desk.support, &format!("{prefix} request {i}")));
    }
    list
}

/// A mail of about `bytes`, over a desk's `max_message_bytes` when large enough.
fn big_mail(customer: &str, support: &str, bytes: usize) -> Vec<u8> {
    let mut raw = customer_mail(customer, support, "huge dump");
    raw.extend(std::iter::repeat_n(b'x', bytes));
    raw.extend_from_slice(b"\r\n");
    raw
}

/// Starts the daemon with `FAILPOINTS=failpoint` and waits for the crash it arms.
fn crash(desk: &Desk, failpoint: &str) {
    let mut daemon = desk.daemon_with(&[("FAILPOINTS", failpoint)]);
    let status = exited(&mut daemon, WAIT);
    let Some(status) = status else {
        let _ = daemon.kill();
        panic!("the daemon did not crash at {failpoint}\n{}", desk.log());
    };
    assert_eq!(status.signal(), Some(6), "crashed (SIGABRT) at {failpoint}: {status:?}\n{}", desk.log());
    // The last of several failpoints is where it crashes (the others set the scene).
    let name = failpoint.rsplit(';').next().unwrap().split('=').next().unwrap();
    assert!(desk.log().contains(&format!("failpoint {name}: crashing here")), "{}", desk.log());
}

/// What the server holds, per folder: (From of each mail, its flags).
fn server(ms: &MailStack, desk: &Desk, folder: &str) -> Vec<(String, Vec<String>)> {
    ms.messages(&desk.support, folder)
        .into_iter()
        .map(|m| {
            (
                common::read::header(&m.raw, "From"),
                ms.flags(&desk.support, folder).into_iter().find(|(u, _)| *u == m.uid).map(|(_, f)| f).unwrap_or_default(),
            )
        })
        .collect()
}

/// Restarts the daemon after a crash, lets it finish the work, stops it and checks
/// the invariants. `quarantined` are the customers whose mail must be quarantined;
/// `in_flight` bounds the duplicate acknowledgements.
fn recover_and_check(ms: &MailStack, desk: &Desk, customers: &[String], quarantined: &[String], moving: bool, in_flight: usize) {
    let daemon = desk.daemon();
    let answered: Vec<&String> = customers.iter().filter(|c| !quarantined.contains(c)).collect();
    let done = wait_until(WAIT, Duration::from_millis(250), || {
        let inbox_settled = if moving {
            ms.count_messages(&desk.support, "INBOX") == 0
        } else {
            ms.flags(&desk.support, "INBOX").iter().all(|(_, f)| f.iter().any(|x| x == "\\Seen"))
        };
        inbox_settled && answered.iter().all(|c| ms.count_messages(c, "INBOX") >= 1) && desk.metric("srgate_outbox_depth") == Some(0.0)
    });
    assert!(stop(daemon).success(), "{}", desk.log());
    assert!(done, "the work did not finish after the restart\n{}", desk.log());
    ms.wait_queue_empty(WAIT);

    // 1. Every mail is in exactly one SR or one quarantine record.
    let srs = desk.srs();
    for c in &answered {
        let mine = srs.iter().filter(|s| s["customer"] == c.as_str()).count();
        assert_eq!(mine, 1, "{c} has {mine} SRs");
    }
    assert_eq!(srs.len(), answered.len(), "one SR per answered mail");
    let records: Vec<Value> =
        serde_json::from_slice::<Value>(&desk.srgate(&["quarantine", "list", "--json"]).stdout).unwrap().as_array().unwrap().clone();
    assert_eq!(records.len(), quarantined.len(), "{records:?}");
    for c in quarantined {
        assert_eq!(records.iter().filter(|r| r["from"] == c.as_str()).count(), 1, "{c}: {records:?}");
    }
    // 2. Nothing the server shows as done is missing from the store.
    let folders: &[&str] = if moving { &["INBOX", "Processed", "Quarantine"] } else { &["INBOX", "Quarantine"] };
    let mut on_server = 0;
    for folder in folders {
        for (from, flags) in server(ms, desk, folder) {
            on_server += 1;
            let done = *folder != "INBOX" || flags.iter().any(|f| f == "\\Seen");
            assert!(done, "{from} in {folder} is not settled: {flags:?}");
            let known = srs.iter().any(|s| from.contains(s["customer"].as_str().unwrap()))
                || records.iter().any(|r| from.contains(r["from"].as_str().unwrap()));
            assert!(known, "{from} is settled in {folder} but missing from the store");
        }
    }
    assert_eq!(on_server, customers.len(), "every mail is still on the server, exactly once");
    // 3. Every committed mail was delivered; 4. duplicates at most the mails in flight.
    let acks: Vec<usize> = answered.iter().map(|c| ms.count_messages(c, "INBOX")).collect();
    assert!(acks.iter().all(|n| *n >= 1), "{acks:?}");
    let duplicates: usize = acks.iter().map(|n| n - 1).sum();
    assert!(duplicates <= in_flight, "{duplicates} duplicate acknowledgements (at most {in_flight} were in flight)");
    // After business hours an SR waits for its assignment and nobody is told before business
    // starts: the CSE is told of every SR assigned (during business hours, every SR).
    let assigned = srs.iter().filter(|s| !s["assignee"].is_null()).count();
    assert!(ms.count_messages(&desk.cse, "INBOX") >= assigned, "the CSE is told of every assigned SR");
    eprintln!("recovered: {} SRs, {} quarantined, {duplicates} duplicate acknowledgements", srs.len(), records.len());
}

/// One crash window: 12 new mails, a crash at `failpoint`, a restart, the invariants.
fn window(failpoint: &str, moving: bool) {
    window_of(failpoint, moving, 12);
}

/// One crash window with `n` new mails.
fn window_of(failpoint: &str, moving: bool, n: usize) {
    let ms = stack();
    let mailbox = if moving { "processed_folder = \"Processed\"".to_string() } else { String::new() };
    let desk = Desk::with(ms, Options { mailbox, ..Options::default() });
    let prefix = failpoint.split('=').next().unwrap().replace('.', "-");
    let list = customers(ms, &desk, &prefix, n);
    crash(&desk, failpoint);
    recover_and_check(ms, &desk, &list, &[], moving, IN_FLIGHT);
}

#[test]
fn a_crash_while_a_batch_is_staged_loses_nothing() {
    window("stage.before_sync=return", false);
}

#[test]
fn a_crash_between_two_mails_of_a_batch_loses_nothing() {
    window("ingest.between_mails=5*off->return", false);
}

/// 250 mails are two fetch batches: the crash comes while batch 1 is decided and batch 2
/// is being fetched and parsed beside it (read ahead, nothing of it committed or flagged).
#[test]
fn a_crash_while_the_next_batch_is_read_ahead_loses_nothing() {
    window_of("ingest.between_mails=150*off->return", false, 250);
}

#[test]
fn a_crash_after_the_commit_before_the_barrier_loses_nothing() {
    window("commit.before_barrier=return", true);
}

#[test]
fn a_crash_after_the_barrier_before_the_flag_loses_nothing() {
    window("barrier.before_flag=return", false);
    window("barrier.before_flag=return", true);
}

#[test]
fn a_crash_after_the_flag_before_the_pending_record_is_cleared_loses_nothing() {
    window("flag.before_clear=return", false);
    window("flag.before_clear=return", true);
}

#[test]
fn a_crash_after_smtp_accepted_a_mail_repeats_at_most_the_mails_in_flight() {
    // Four SMTP connections: at most four mails were accepted and not yet forgotten.
    window("delivery.after_accept=3*off->return", false);
}

#[test]
fn a_crash_before_a_pass_rewrites_its_deferred_items_loses_none_of_them() {
    // Every attempt is deferred; the daemon dies before the pass records it. The items
    // stay in the outbox, unchanged, and the restarted daemon delivers each once.
    window("delivery.defer=return;delivery.before_deferrals=return", false);
}

/// Issue 10, item 2: a mail too large to fetch is handled in its place among the
/// others; a crash right after its quarantine loses none of the smaller mails before it.
#[test]
fn a_crash_after_an_oversize_quarantine_loses_none_of_the_mail_before_it() {
    let ms = stack();
    let desk = Desk::with(ms, Options { top: "max_message_bytes = 20000".into(), ..Options::default() });
    let list: Vec<String> = (0..4).map(|i| ms.unique_user_at(&format!("big{i}"), "example.com")).collect();
    for (i, c) in list.iter().enumerate() {
        let raw = if i == 2 { big_mail(c, &desk.support, 50_000) } else { customer_mail(c, &desk.support, &format!("small {i}")) };
        ms.append(&desk.support, "INBOX", &raw);
    }
    crash(&desk, "quarantine.oversize=return");
    recover_and_check(ms, &desk, &list, &list[2..3], false, IN_FLIGHT);
    let records = desk.srgate(&["quarantine", "list", "--json"]);
    assert!(String::from_utf8_lossy(&records.stdout).contains("over max_message_bytes"));
}

/// Issue 10, item 11: a panic while deciding one mail quarantines that mail and the
/// mailbox goes on; a task that panics is started again by the supervisor.
#[test]
fn a_panic_quarantines_its_mail_and_tasks_are_started_again() {
    let ms = stack();
    let desk = Desk::standard(ms);
    let list = customers(ms, &desk, "panic", 3);
    let daemon = desk.daemon_with(&[("FAILPOINTS", "gateway.decide=1*panic(injected);delivery.after_accept=1*panic(injected)")]);
    let settled = wait_until(WAIT, Duration::from_millis(250), || {
        list[1..].iter().all(|c| ms.count_messages(c, "INBOX") >= 1)
            && desk.metric("srgate_task_restarts_total{task=\"delivery\"}") == Some(1.0)
            && desk.metric("srgate_outbox_depth") == Some(0.0)
    });
    assert!(settled, "{}", desk.log());
    let records = String::from_utf8_lossy(&desk.srgate(&["quarantine", "list", "--json"]).stdout).into_owned();
    assert!(records.contains("srgate failed while processing this mail") && records.contains(list[0].as_str()), "{records}");
    // The mailbox task is alive: a later mail is answered.
    let later = ms.unique_user_at("panic-later", "example.com");
    ms.append(&desk.support, "INBOX", &customer_mail(&later, &desk.support, "after the panic"));
    ms.wait_for_messages(&later, "INBOX", 1, WAIT);
    assert!(stop(daemon).success());
    assert_eq!(desk.srs().len(), 3);
    assert!(desk.log().contains("task panicked; starting it again"), "{}", desk.log());
}

/// Issue 10, item 10: decisions and store writes run on blocking threads, so two busy
/// mailboxes (every decision slowed down to 300 ms) leave `/healthz` answering at once.
#[test]
fn busy_mailboxes_do_not_starve_health() {
    let ms = stack();
    let second = ms.unique_domain_user("support2");
    let tail = mailbox_table(ms, "second", &second);
    let desk = Desk::with(ms, Options { tail, ..Options::default() });
    for (i, c) in (0..15).map(|i| (i, ms.unique_user_at(&format!("busy{i}"), "example.com"))) {
        ms.append(&desk.support, "INBOX", &customer_mail(&c, &desk.support, &format!("first box {i}")));
        let d = ms.unique_user_at(&format!("busy2-{i}"), "example.com");
        ms.append(&second, "INBOX", &customer_mail(&d, &second, &format!("second box {i}")));
    }
    let daemon = desk.daemon_with(&[("FAILPOINTS", "gateway.decide=sleep(300)"), ("TOKIO_WORKER_THREADS", "2")]);
    assert!(wait_until(WAIT, Duration::from_millis(100), || desk.log().contains("decided")), "{}", desk.log());
    let mut slowest = Duration::ZERO;
    for _ in 0..15 {
        let t = std::time::Instant::now();
        let answer = desk.http("/healthz");
        slowest = slowest.max(t.elapsed());
        assert!(answer.is_some(), "/healthz did not answer");
        std::thread::sleep(Duration::from_millis(150));
    }
    let still_busy = desk.srs().len() < 30;
    assert!(stop(daemon).success());
    assert!(still_busy, "the mailboxes were busy all along");
    // Answered from memory by an idle worker: milliseconds; the limit leaves room for a loaded machine.
    assert!(slowest < Duration::from_secs(2), "/healthz took {slowest:?} while the mailboxes were busy");
}

/// Issue 10, item 3: a different mail that reuses a Message-ID is processed, and the
/// reuse is recorded; the same mail read twice still changes nothing.
#[test]
fn a_reused_message_id_is_processed_and_recorded() {
    let ms = stack();
    let desk = Desk::standard(ms);
    let (a, b) = (ms.unique_user_at("scanner-a", "example.com"), ms.unique_user_at("scanner-b", "example.com"));
    let with_id = |from: &str, body: &str| {
        format!("From: {from}\r\nTo: {}\r\nSubject: Scan\r\nMessage-ID: <scan-0001@scanner.example.com>\r\n\r\n{body}\r\n", desk.support)
            .into_bytes()
    };
    ms.append(&desk.support, "INBOX", &with_id(&a, "Page one of the contract."));
    ms.append(&desk.support, "INBOX", &with_id(&b, "An invoice from another office."));
    ms.append(&desk.support, "INBOX", &with_id(&a, "Page one of the contract."));
    desk.run_at("2026-03-03T09:30:00Z");
    let srs = desk.srs();
    assert_eq!(srs.len(), 2, "{srs:?}");
    let second = srs.iter().find(|s| s["customer"] == b.as_str()).unwrap();
    assert!(kinds(second).contains(&"message_id_reused".to_string()), "{second}");
    ms.wait_queue_empty(WAIT);
    assert_eq!((ms.count_messages(&a, "INBOX"), ms.count_messages(&b, "INBOX")), (1, 1));
}

/// Issue 10, item 4: one recipient refused for good (the CSM's address) while the
/// others are accepted: a `delivery_failed` event names it and the CSE is told.
#[test]
fn a_recipient_refused_for_good_is_recorded_and_the_cse_told() {
    let ms = stack();
    let tail = "[[account]]\nname = \"Acme\"\ndomains = [\"example.com\"]\ntier = \"premium\"\ncsm = \"csm@refused.invalid\"\n".to_string();
    let desk = Desk::with(ms, Options { tail, ..Options::default() });
    let c = ms.unique_user_at("refused", "example.com");
    ms.append(&desk.support, "INBOX", &customer_mail(&c, &desk.support, "production down at all sites"));
    desk.run_at("2026-03-03T09:30:00Z");
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&c, "INBOX"), 1, "the customer got the acknowledgement once");
    let sr = &desk.srs()[0];
    let failed: Vec<&Value> = sr["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "delivery_failed").collect();
    assert_eq!(failed.len(), 1, "{sr}");
    assert!(failed[0]["detail"].as_str().unwrap().contains("csm@refused.invalid"), "{sr}");
    let told = ms.messages(&desk.cse, "INBOX").iter().any(|m| String::from_utf8_lossy(&m.raw).contains("Delivery failed"));
    assert!(told, "the CSE is told");
}

/// Issue 10, item 5: a restore keeps mail queued during an SMTP outage, the mailbox
/// positions and the dedupe set: the restored desk delivers it and reads nothing twice.
#[test]
fn a_restore_keeps_queued_mail_and_positions() {
    let ms = stack();
    let dead = free_port();
    let desk = Desk::standard(ms);
    let config = std::fs::read_to_string(desk.config()).unwrap();
    std::fs::write(desk.config(), config.replace(&format!("port = {}\n", ms.smtp_port), &format!("port = {dead}\n"))).unwrap();
    let list = customers(ms, &desk, "restore", 3);
    desk.run_at("2026-03-03T09:30:00Z");
    assert_eq!(desk.srs().len(), 3);
    let export = desk.dir.path().join("backup.jsonl");
    let out = desk.srgate(&["export", "--output", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&export).unwrap();
    assert_eq!(text.lines().filter(|l| l.contains("\"type\":\"outbox\"")).count(), 6, "three acknowledgements, three notifications queued");
    // The restored desk: another data directory, SMTP back.
    std::fs::write(
        desk.config(),
        std::fs::read_to_string(desk.config())
            .unwrap()
            .replace("data_dir = \"data\"", "data_dir = \"restored\"")
            .replace(&format!("port = {dead}\n"), &format!("port = {}\n", ms.smtp_port)),
    )
    .unwrap();
    let out = desk.srgate(&["import", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Read again from the start (a new server, say): nothing is decided twice.
    let out = desk.srgate(&["run", "--once", "--now", "2026-03-03T09:40:00Z"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    ms.wait_queue_empty(WAIT);
    assert_eq!(desk.srs().len(), 3);
    for c in &list {
        assert_eq!(ms.count_messages(c, "INBOX"), 1, "{c}: the queued acknowledgement, once");
    }
    assert_eq!(ms.count_messages(&desk.cse, "INBOX"), 3);
}

/// Issue 10, item 6: an entry of the due index written under an older policy does not
/// make the scheduler spin once it falls due.
#[test]
fn a_policy_change_does_not_make_the_scheduler_spin() {
    let ms = stack();
    let rules = tempfile::tempdir().unwrap();
    for f in ["10-priority.toml", "20-products.toml", "policy.toml"] {
        std::fs::copy(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules").join(f), rules.path().join(f)).unwrap();
    }
    // Business hours around the clock, every day: the SR is assigned at once whatever day the
    // test runs, so the only entry left in the due index is the contact attempt's.
    let policy = std::fs::read_to_string(rules.path().join("policy.toml")).unwrap();
    let mut all_week = String::new();
    for line in policy.lines() {
        if line.starts_with("holidays = [") {
            all_week.push_str("holidays = []\n");
        } else if line.starts_with("    \"") || line == "]" {
            continue;
        } else if line.starts_with("[hours]") {
            all_week.push_str("[hours]\n");
            for day in ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] {
                all_week.push_str(&format!("{day} = [\"00:00\", \"23:59\"]\n"));
            }
        } else if ["monday", "tuesday", "wednesday", "thursday", "friday"].iter().any(|d| line.starts_with(d)) {
            continue;
        } else {
            all_week.push_str(line);
            all_week.push('\n');
        }
    }
    std::fs::write(rules.path().join("policy.toml"), all_week).unwrap();
    let desk = Desk::with(ms, Options { rules_dir: rules.path().to_path_buf(), ..Options::default() });
    let c = ms.unique_user_at("spin", "example.com");
    ms.append(&desk.support, "INBOX", &customer_mail(&c, &desk.support, "VPN broken"));
    // Four days ago the CSE answered: under the shipped policy, attempt 2 fell due a day ago.
    let t0 = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 4);
    desk.run_at(&t0.to_string());
    let answer = format!(
        "From: {}\r\nTo: {}\r\nSubject: Re: [SR#100001] VPN broken\r\nMessage-ID: <spin-answer@example.test>\r\n\r\nWhich client version?\r\n",
        desk.cse, desk.support
    );
    // Through Postfix, which signs it as the CSE's site would (an appended mail is a forgery).
    ms.send(answer.as_bytes(), &desk.cse, &[&desk.support]);
    ms.wait_for_messages(&desk.support, "INBOX", 2, WAIT);
    desk.run_at(&(t0 + jiff::SignedDuration::from_mins(1)).to_string());
    assert_eq!(desk.srs()[0]["state"], "awaiting_customer");
    // The policy changes: attempts on days 5 and 9 now. The entry made for day 3 is stale.
    let policy = std::fs::read_to_string(rules.path().join("policy.toml")).unwrap();
    std::fs::write(
        rules.path().join("policy.toml"),
        policy
            .replace("contact_attempt_days = [3, 7]", "contact_attempt_days = [5, 9]")
            .replace("close_after_days = 10", "close_after_days = 14"),
    )
    .unwrap();
    let daemon = desk.daemon();
    assert!(wait_until(WAIT, Duration::from_millis(100), || desk.log().contains("srgate running")));
    std::thread::sleep(Duration::from_secs(3));
    assert!(stop(daemon).success());
    // A stale entry would make a pass every 100 ms; the daemon makes one (it moves the entry).
    let passes = desk.log().matches("scheduled pass").count();
    assert!(passes <= 1, "the scheduler ran {passes} passes in 3 s\n{}", desk.log());
    assert_eq!(desk.srs()[0]["contact_attempts"], 1, "nothing was due under the new policy");
}

/// Issue 10, item 9: automated mail to one address is capped even when every decision
/// shares one instant (a frozen clock; in production, decisions of one batch).
#[test]
fn the_automated_mail_cap_holds_within_one_instant() {
    let ms = stack();
    let desk = Desk::standard(ms);
    let robot = ms.unique_user_at("responder", "example.com");
    for i in 0..20 {
        let raw = format!(
            "From: {robot}\r\nTo: {}\r\nSubject: Your message {i}\r\nMessage-ID: <responder{i}@example.com>\r\n\r\nWe got your message.\r\n",
            desk.support
        );
        ms.append(&desk.support, "INBOX", raw.as_bytes());
    }
    desk.run_at("2026-03-03T09:30:00Z");
    ms.wait_queue_empty(WAIT);
    assert_eq!(ms.count_messages(&robot, "INBOX"), 5, "five automated mails an hour to one address, no more");
}
