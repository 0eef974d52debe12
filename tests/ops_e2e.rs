//! Issue 6 on the real stack: crashes, outages of Dovecot and Postfix, a full disk,
//! SIGHUP with broken rules, SIGTERM in a burst, backup round trip.
//!
//! These tests stop and start this binary's mail stack, so they run one at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::desk::{Desk, Options, accounting, customer_mail, signal, stop};
use common::{MailStack, stack, wait_until};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn stack_cmd(ms: &MailStack, action: &str) {
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mailstack.sh"))
        .arg(action)
        .arg(&ms.dir)
        .envs(ms.script_env())
        .output()
        .unwrap();
    assert!(out.status.success(), "mailstack {action}: {}", String::from_utf8_lossy(&out.stderr));
}

fn stop_postfix(ms: &MailStack) {
    let pid = std::fs::read_to_string(ms.dir.join("postfix/spool/pid/master.pid")).unwrap();
    let _ = Command::new("kill").arg("-TERM").arg(pid.trim()).status();
    assert!(wait_until(Duration::from_secs(10), Duration::from_millis(100), || std::net::TcpStream::connect(("127.0.0.1", ms.smtp_port))
        .is_err()));
}

#[test]
fn repeated_sigkills_lose_nothing() {
    let _one = serial();
    let ms = stack();
    let desk = Desk::standard(ms);
    let customers: Vec<String> = (0..300).map(|i| ms.unique_user_at(&format!("kill{i}"), "example.com")).collect();
    for (i, c) in customers.iter().enumerate() {
        ms.append(&desk.support, "INBOX", &customer_mail(c, &desk.support, &format!("crash {i}")));
    }
    let kills = 4;
    let mut daemon = desk.daemon();
    for k in 0..kills {
        std::thread::sleep(Duration::from_millis(300 + 200 * k));
        daemon.kill().unwrap();
        daemon.wait().unwrap();
        daemon = desk.daemon();
    }
    let done = wait_until(Duration::from_secs(120), Duration::from_millis(500), || accounting(ms, &desk, &customers).2 == customers.len());
    let figures = accounting(ms, &desk, &customers);
    assert!(stop(daemon).success());
    assert!(done, "not every customer was acknowledged: {figures:?}\n{}", desk.log());
    let (with_sr, srs, acked, dups) = accounting(ms, &desk, &customers);
    eprintln!(
        "crash test: {} mails, {kills} kills: {srs} SRs, {with_sr} customers with an SR, {acked} acknowledged, {dups} duplicate acknowledgements",
        customers.len()
    );
    assert_eq!((with_sr, srs, acked), (300, 300, 300));
    assert!(dups <= kills as usize * 4, "{dups} duplicates for {kills} kills");
}

#[test]
fn sigterm_in_a_burst_exits_cleanly_and_a_backup_round_trip_is_lossless() {
    let _one = serial();
    let ms = stack();
    let desk = Desk::standard(ms);
    let customers: Vec<String> = (0..200).map(|i| ms.unique_user_at(&format!("burst{i}"), "example.com")).collect();
    for (i, c) in customers.iter().enumerate() {
        ms.append(&desk.support, "INBOX", &customer_mail(c, &desk.support, &format!("burst {i}")));
    }
    let daemon = desk.daemon();
    std::thread::sleep(Duration::from_millis(400));
    let status = stop(daemon);
    assert!(status.success(), "SIGTERM exit status {status:?}\n{}", desk.log());
    assert!(desk.log().contains("stopped"));
    let daemon = desk.daemon();
    assert!(
        wait_until(Duration::from_secs(60), Duration::from_millis(300), || accounting(ms, &desk, &customers).2 == customers.len()),
        "{}",
        desk.log()
    );
    let (with_sr, srs, _, dups) = accounting(ms, &desk, &customers);
    assert_eq!((with_sr, srs), (200, 200));
    assert!(dups <= 4, "{dups} duplicate acknowledgements");

    // Backup while the daemon runs, restore into an empty data directory, back up again.
    let first = desk.dir.path().join("first.jsonl");
    let out = desk.srgate(&["export", "--output", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stop(daemon).success());
    let copy = desk.dir.path().join("restore.toml");
    let mut restore = std::fs::read_to_string(desk.config()).unwrap().replace("data_dir = \"data\"", "data_dir = \"data2\"");
    if common::config::on_postgres() {
        // An empty store to restore into: a fresh database.
        let line = restore.lines().find(|l| l.starts_with("store = ")).unwrap().to_string();
        restore = restore.replace(&format!("{line}\n"), &common::config::store_line());
    }
    std::fs::write(&copy, restore).unwrap();
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_srgate")).arg("--config").arg(&copy).args(args).output().unwrap();
    let out = run(&["import", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let second = desk.dir.path().join("second.jsonl");
    assert!(run(&["export", "--output", second.to_str().unwrap()]).status.success());
    let (a, b) = (std::fs::read_to_string(&first).unwrap(), std::fs::read_to_string(&second).unwrap());
    assert_eq!(a.lines().filter(|l| l.starts_with("{\"type\":\"sr\"")).count(), 200);
    assert!(a == b, "the round trip changed the export");
    assert_eq!(run(&["sr", "show", "100001", "--json"]).stdout, desk.srgate(&["sr", "show", "100001", "--json"]).stdout);
    // A second import into the now non-empty directory is refused.
    assert!(!run(&["import", first.to_str().unwrap()]).status.success());
}

#[test]
fn outages_of_postfix_and_dovecot_lose_nothing_and_health_tells() {
    let _one = serial();
    let ms = stack();
    let desk = Desk::standard(ms);
    let daemon = desk.daemon();
    let c = |n: &str| ms.unique_user_at(n, "example.com");
    let (a, b, d) = (c("outage-a"), c("outage-b"), c("outage-d"));
    assert!(
        wait_until(Duration::from_secs(15), Duration::from_millis(200), || desk.http("/healthz").is_some_and(|(s, _)| s == 200)),
        "{}",
        desk.log()
    );
    ms.append(&desk.support, "INBOX", &customer_mail(&a, &desk.support, "before"));
    ms.wait_for_messages(&a, "INBOX", 1, Duration::from_secs(20));

    // Postfix down: mail is still read and committed, the outbox holds the replies.
    stop_postfix(ms);
    ms.append(&desk.support, "INBOX", &customer_mail(&b, &desk.support, "during smtp outage"));
    assert!(
        wait_until(Duration::from_secs(20), Duration::from_millis(200), || desk.metric("srgate_outbox_depth").is_some_and(|n| n >= 1.0)),
        "{}",
        desk.log()
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(ms.count_messages(&b, "INBOX"), 0);
    let t = std::time::Instant::now();
    stack_cmd(ms, "start");
    ms.wait_for_messages(&b, "INBOX", 1, Duration::from_secs(60));
    eprintln!("outage: SMTP down; backlog delivered {:.1} s after the stack was started again", t.elapsed().as_secs_f64());
    assert!(wait_until(Duration::from_secs(20), Duration::from_millis(200), || desk.metric("srgate_outbox_depth") == Some(0.0)));

    // Dovecot (and everything) down: health says so while it lasts.
    let t = std::time::Instant::now();
    stack_cmd(ms, "stop");
    assert!(
        wait_until(Duration::from_secs(30), Duration::from_millis(200), || desk.http("/healthz").is_some_and(|(s, _)| s == 503)),
        "{}",
        desk.log()
    );
    eprintln!("outage: IMAP down; /healthz said 503 {:.1} s after the stop began", t.elapsed().as_secs_f64());
    let (_, why) = desk.http("/healthz").unwrap();
    assert!(why.contains("support"), "{why}");
    let t = std::time::Instant::now();
    stack_cmd(ms, "start");
    ms.append(&desk.support, "INBOX", &customer_mail(&d, &desk.support, "after the outage"));
    ms.wait_for_messages(&d, "INBOX", 1, Duration::from_secs(60));
    eprintln!("outage: IMAP back; a new mail answered {:.1} s after the stack was started again", t.elapsed().as_secs_f64());
    assert!(wait_until(Duration::from_secs(30), Duration::from_millis(200), || desk.http("/healthz").is_some_and(|(s, _)| s == 200)));
    eprintln!("outage: /healthz back to 200 {:.1} s after the restart", t.elapsed().as_secs_f64());
    assert!(stop(daemon).success());
    assert_eq!(desk.srs().len(), 3);
    for who in [&a, &b, &d] {
        assert_eq!(ms.count_messages(who, "INBOX"), 1, "{who}");
    }
}

#[test]
fn a_full_disk_leaves_mail_unflagged_and_nothing_is_lost() {
    let _one = serial();
    if !Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0") {
        eprintln!("skipped: mounting a small filesystem needs root");
        return;
    }
    if common::config::on_postgres() {
        // The store is in the database; a full data_dir holds only tokens and the socket.
        eprintln!("skipped: with postgres the data directory holds no store to fill");
        return;
    }
    let ms = stack();
    let mount = tempfile::tempdir().unwrap();
    let mnt = mount.path().to_str().unwrap().to_string();
    assert!(Command::new("mount").args(["-t", "tmpfs", "-o", "size=6m", "tmpfs", &mnt]).status().unwrap().success());
    struct Unmount(String);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mnt.clone());
    let desk = Desk::with(ms, Options { data_dir: format!("{mnt}/data"), ..Options::default() });
    let customers: Vec<String> = (0..8).map(|i| ms.unique_user_at(&format!("disk{i}"), "example.com")).collect();
    let big = "QUJD".repeat(350_000); // about 1 MB decoded per mail
    for (i, c) in customers.iter().enumerate() {
        let raw = format!(
            "From: {c}\r\nTo: {s}\r\nSubject: dump {i}\r\nMessage-ID: <disk{i}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee dump {i}.\r\n--b\r\nContent-Type: application/octet-stream; name=d{i}.bin\r\nContent-Disposition: attachment; filename=d{i}.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n{big}{i}\r\n--b--\r\n",
            s = desk.support
        );
        ms.append(&desk.support, "INBOX", raw.as_bytes());
    }
    let out = desk.srgate(&["run", "--once", "--now", "2026-03-03T09:30:00Z"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("store write failed") || stderr.contains("No space"), "expected a full disk: {stderr}");
    // Every flagged mail has its SR; every unflagged one has none.
    let flags = ms.flags(&desk.support, "INBOX");
    let seen = flags.iter().filter(|(_, f)| f.iter().any(|x| x == "\\Seen")).count();
    assert!(seen < customers.len(), "{flags:?}");
    assert_eq!(desk.srs().len(), seen);
    // More room: the next cycle takes the rest.
    assert!(Command::new("mount").args(["-o", "remount,size=64m", &mnt]).status().unwrap().success());
    let out = desk.srgate(&["run", "--once", "--now", "2026-03-03T09:40:00Z"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(desk.srs().len(), customers.len());
    assert!(ms.flags(&desk.support, "INBOX").iter().all(|(_, f)| f.iter().any(|x| x == "\\Seen")));
    for c in &customers {
        ms.wait_for_messages(c, "INBOX", 1, Duration::from_secs(20));
        assert_eq!(ms.count_messages(c, "INBOX"), 1);
    }
}

#[test]
fn sighup_with_broken_rules_keeps_the_old_ones() {
    let _one = serial();
    let ms = stack();
    let rules = tempfile::tempdir().unwrap();
    for f in ["10-priority.toml", "20-products.toml", "policy.toml"] {
        std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules").join(f), rules.path().join(f)).unwrap();
    }
    let desk = Desk::with(ms, Options { rules_dir: rules.path().to_path_buf(), ..Options::default() });
    let daemon = desk.daemon();
    assert!(wait_until(Duration::from_secs(15), Duration::from_millis(200), || desk.log().contains("srgate running")));
    std::fs::write(
        rules.path().join("30-extra.toml"),
        "[[rule]]\nname = \"broken\"\nwhen.subject = \"(unclosed\"\nthen.priority = \"P2\"\n",
    )
    .unwrap();
    signal(&daemon, "HUP");
    assert!(wait_until(Duration::from_secs(10), Duration::from_millis(100), || desk.log().contains("reload refused")), "{}", desk.log());
    assert!(desk.log().contains("30-extra.toml:3"), "{}", desk.log());
    let c1 = ms.unique_user_at("hup1", "example.com");
    ms.append(&desk.support, "INBOX", &customer_mail(&c1, &desk.support, "production down at all sites"));
    assert!(wait_until(Duration::from_secs(20), Duration::from_millis(200), || desk.srs().len() == 1));
    assert_eq!(desk.srs()[0]["priority"], "P1", "the old rules still work");
    std::fs::write(
        rules.path().join("30-extra.toml"),
        "[[rule]]\nname = \"magic\"\nwhen.subject = \"magic word\"\nthen.priority = \"P2\"\n",
    )
    .unwrap();
    signal(&daemon, "HUP");
    assert!(
        wait_until(Duration::from_secs(10), Duration::from_millis(100), || desk.log().contains("reloaded configuration")),
        "{}",
        desk.log()
    );
    let c2 = ms.unique_user_at("hup2", "example.com");
    ms.append(&desk.support, "INBOX", &customer_mail(&c2, &desk.support, "the magic word"));
    assert!(wait_until(Duration::from_secs(20), Duration::from_millis(200), || desk.srs().len() == 2));
    assert_eq!(desk.srs()[1]["priority"], "P2", "the new rules are in force");
    assert!(desk.metric("srgate_reloads_total{outcome=\"refused\"}").is_some_and(|n| n >= 1.0));
    assert!(stop(daemon).success());
    let _ = &desk.cse;
}
