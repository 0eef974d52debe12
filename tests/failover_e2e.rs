//! Several gateways on one PostgreSQL database and one mailbox, on the real stack:
//! the mailbox is read by one gateway at a time; when its owner is killed the other
//! takes over (and the takeover times are printed); when the owner's database
//! sessions are ended while it keeps running, the other takes over and the old
//! owner's commits are refused (fencing). In every case each customer has exactly
//! one SR, is acknowledged, duplicates are at most the mails in flight, and nothing
//! stays unseen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use common::cli::Cli;
use common::desk::{Desk, Options, customer_mail, free_port};
use common::{MailStack, http_get, stack, wait_until};

/// One gateway of the desk: its own folder, data directory and metrics port, the
/// desk's database reached under its own application name.
struct Gateway {
    name: String,
    dir: PathBuf,
    metrics_port: u16,
    child: Option<Child>,
}

impl Gateway {
    fn cli(&self) -> Cli {
        Cli::in_dir(&self.dir)
    }

    fn start(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join("daemon.log")).unwrap();
        let child = self.cli().command().arg("run").env("SRGATE_LOG", "info").stderr(log).spawn().unwrap();
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// 1 when it says it reads the mailbox, 0 when it stands by, None before it says.
    fn owns(&self) -> Option<bool> {
        let (_, body) = http_get(self.metrics_port, "/metrics")?;
        let line = body.lines().find(|l| l.starts_with("srgate_mailbox_owned{mailbox=\"support\"}"))?;
        Some(line.ends_with(" 1"))
    }

    fn outbox(&self) -> Option<f64> {
        let (_, body) = http_get(self.metrics_port, "/metrics")?;
        body.lines().find(|l| l.starts_with("srgate_outbox_depth "))?.split_whitespace().last()?.parse().ok()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A desk whose store is a fresh database, and `n` gateways on it.
fn desk_with_gateways(ms: &MailStack, n: usize) -> (Desk, Vec<Gateway>, String) {
    desk_with(ms, n, String::new())
}

/// The same, with more lines at the end of the configuration (`tail`).
fn desk_with(ms: &MailStack, n: usize, tail: String) -> (Desk, Vec<Gateway>, String) {
    let pg = common::pg::postgres();
    let url = pg.fresh_database("failover");
    let store = |name: &str| {
        format!(
            "store = {{ engine = \"postgres\", url = \"{url}?application_name={name}\", tls = \"tls\", tls_ca_file = \"{}\" }}\n",
            pg.ca_file().display()
        )
    };
    let desk = Desk::with(ms, Options { top: store("gw-0"), data_dir: "data-0".into(), tail, ..Options::default() });
    let text = std::fs::read_to_string(desk.config()).unwrap();
    let migrate = desk.srgate(&["migrate"]);
    assert!(migrate.status.success(), "migrate: {}", String::from_utf8_lossy(&migrate.stderr));
    let gateways = (0..n)
        .map(|i| {
            let dir = desk.dir.path().join(format!("gw-{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            let port = free_port();
            let config = text
                .replace("application_name=gw-0", &format!("application_name=gw-{i}"))
                .replace("data_dir = \"data-0\"", &format!("data_dir = \"data-{i}\""))
                .replace(&format!("127.0.0.1:{}", desk.metrics_port), &format!("127.0.0.1:{port}"));
            std::fs::write(dir.join("srgate.toml"), config).unwrap();
            Gateway { name: format!("gw-{i}"), dir, metrics_port: port, child: None }
        })
        .collect();
    (desk, gateways, url)
}

/// Mails delivered to `address`'s maildir on the stack.
fn delivered(ms: &MailStack, address: &str) -> usize {
    let (local, domain) = address.split_once('@').unwrap();
    let maildir = ms.dir.join("mail").join(domain).join(local).join("Maildir");
    ["new", "cur"].iter().map(|d| std::fs::read_dir(maildir.join(d)).map(|r| r.count()).unwrap_or(0)).sum()
}

/// A small random number generator, seeded from the clock (the seed is printed).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Every customer has one SR and at least one acknowledgement; duplicates are counted.
fn check_outcome(ms: &MailStack, desk: &Desk, cli: &Cli, customers: &[String]) -> usize {
    let srs = cli.json(&["sr", "list", "--json"]);
    let srs = srs.as_array().unwrap();
    let mut seen: Vec<&str> = srs.iter().map(|s| s["customer"].as_str().unwrap()).collect();
    seen.sort();
    let before = seen.len();
    seen.dedup();
    assert_eq!(before, seen.len(), "no customer has two SRs");
    assert_eq!(seen.len(), customers.len(), "every customer has an SR");
    let unseen = ms.flags(&desk.support, "INBOX").iter().filter(|(_, f)| !f.iter().any(|f| f == "\\Seen")).count();
    assert_eq!(unseen, 0, "nothing left unseen");
    let missing: Vec<&String> = customers.iter().filter(|c| delivered(ms, c) == 0).collect();
    assert!(missing.is_empty(), "{} customers not acknowledged, e.g. {:?}", missing.len(), missing.first());
    customers.iter().map(|c| delivered(ms, c).saturating_sub(1)).sum()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn the_owner_killed_ten_times_the_other_gateway_takes_over_and_nothing_is_lost() {
    let ms = stack();
    let (desk, mut gws, _url) = desk_with_gateways(ms, 2);
    let customers: Vec<String> = (0..2_000).map(|i| ms.unique_user_at(&format!("f{i}"), "example.com")).collect();
    for g in &mut gws {
        g.start();
    }
    assert!(wait_until(Duration::from_secs(30), Duration::from_millis(50), || gws.iter().any(|g| g.owns() == Some(true))));
    // The mail arrives while the gateways are killed.
    let feeder = {
        let (customers, support) = (customers.clone(), desk.support.clone());
        std::thread::spawn(move || {
            let ms = stack();
            for (i, c) in customers.iter().enumerate() {
                ms.append(&support, "INBOX", &customer_mail(c, &support, &format!("Failover {i}")));
            }
        })
    };
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("failover: seed {seed}");
    let mut rng = Lcg(seed);
    let mut takeovers = Vec::new();
    for round in 0..10 {
        std::thread::sleep(Duration::from_millis(500 + rng.below(2_500)));
        let owner = gws.iter().position(|g| g.owns() == Some(true)).unwrap_or_else(|| panic!("round {round}: nobody owns the mailbox"));
        let other = 1 - owner;
        let killed = Instant::now();
        gws[owner].kill();
        let took = wait_until(Duration::from_secs(30), Duration::from_millis(20), || gws[other].owns() == Some(true));
        assert!(took, "round {round}: {} did not take over\n{}", gws[other].name, gws[other].log());
        let seconds = killed.elapsed().as_secs_f64();
        eprintln!("failover: round {round}: {} killed, {} took over after {seconds:.2} s", gws[owner].name, gws[other].name);
        takeovers.push(seconds);
        gws[owner].start();
    }
    feeder.join().unwrap();
    let done = wait_until(Duration::from_secs(240), Duration::from_millis(500), || {
        ms.flags(&desk.support, "INBOX").iter().all(|(_, f)| f.iter().any(|f| f == "\\Seen")) && gws.iter().all(|g| g.outbox() == Some(0.0))
    });
    assert!(done, "the mailbox was not worked through\n{}", gws[0].log());
    ms.wait_queue_empty(Duration::from_secs(120));
    let duplicates = check_outcome(ms, &desk, &gws[0].cli(), &customers);
    // A kill repeats at most the mails in flight: [smtp] connections (4) per kill.
    assert!(duplicates <= 40, "{duplicates} duplicate acknowledgements after 10 kills");
    let max = takeovers.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "failover: takeover after the owner's death: median {:.2} s, max {max:.2} s over {} kills; {duplicates} duplicate acknowledgements",
        median(&mut takeovers),
        takeovers.len()
    );
    assert!(max <= 15.0, "a takeover took {max:.1} s, more than failover_after");
}

#[test]
fn an_owner_whose_database_sessions_end_is_fenced_and_stops_reading() {
    let ms = stack();
    let (desk, mut gws, url) = desk_with_gateways(ms, 2);
    gws[0].start();
    assert!(wait_until(Duration::from_secs(30), Duration::from_millis(50), || gws[0].owns() == Some(true)));
    gws[1].start();
    assert!(wait_until(Duration::from_secs(30), Duration::from_millis(50), || gws[1].owns() == Some(false)), "gw-1 stands by");
    let customers: Vec<String> = (0..200).map(|i| ms.unique_user_at(&format!("g{i}"), "example.com")).collect();
    for (i, c) in customers.iter().take(100).enumerate() {
        ms.append(&desk.support, "INBOX", &customer_mail(c, &desk.support, &format!("Fence {i}")));
    }
    // gw-0 keeps running; the database ends its sessions (the pool's and the lease's).
    let ended = common::pg::postgres().terminate_sessions(&url, "gw-0");
    assert!(ended >= 1, "gw-0 had sessions");
    assert!(
        wait_until(Duration::from_secs(20), Duration::from_millis(50), || gws[1].owns() == Some(true)),
        "gw-1 takes over\n{}",
        gws[1].log()
    );
    for (i, c) in customers.iter().enumerate().skip(100) {
        ms.append(&desk.support, "INBOX", &customer_mail(c, &desk.support, &format!("Fence {i}")));
    }
    assert!(
        wait_until(Duration::from_secs(30), Duration::from_millis(100), || gws[0].owns() == Some(false)),
        "gw-0 stops reading\n{}",
        gws[0].log()
    );
    let done = wait_until(Duration::from_secs(120), Duration::from_millis(250), || {
        ms.flags(&desk.support, "INBOX").iter().all(|(_, f)| f.iter().any(|f| f == "\\Seen")) && gws.iter().all(|g| g.outbox() == Some(0.0))
    });
    assert!(done, "the mailbox was not worked through\n{}", gws[1].log());
    ms.wait_queue_empty(Duration::from_secs(60));
    let duplicates = check_outcome(ms, &desk, &gws[1].cli(), &customers);
    assert!(duplicates <= 4, "{duplicates} duplicate acknowledgements: something was decided twice");
    assert!(gws[0].owns() == Some(false), "the old owner stays off the mailbox");
}

#[test]
fn three_gateways_deliver_five_thousand_queued_mails_each_once() {
    let ms = stack();
    let (desk, mut gws, url) = desk_with_gateways(ms, 3);
    // 5,000 mails queued in the database (as an SMTP outage would leave them), 10 to each of 500 customers.
    let customers: Vec<String> = (0..500).map(|i| ms.unique_user_at(&format!("d{i}"), "example.com")).collect();
    {
        let settings = common::config::postgres_settings(&url);
        let store = srgate::io::store::Store::open_postgres(&settings, &desk.dir.path().join("queue")).unwrap();
        let now = jiff::Timestamp::now();
        for round in 0..10 {
            let outbox = customers
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let n = round * customers.len() + i;
                    let id = format!("queued{n}.{}@example.test", std::process::id());
                    srgate::io::store::OutboxItem {
                        sr: n as u64 + 1,
                        kind: srgate::mail::outbound::OutKind::Acknowledgement,
                        from: desk.support.clone(),
                        to: vec![c.clone()],
                        message_id: id.clone(),
                        queued_at: now,
                        attempts: 0,
                        next_attempt_at: now,
                        last_error: None,
                        bytes: format!(
                            "From: {}\r\nTo: {c}\r\nSubject: queued {n}\r\nMessage-ID: <{id}>\r\n\r\nQueued mail {n}.\r\n",
                            desk.support
                        )
                        .into_bytes(),
                    }
                })
                .collect();
            store.commit(&srgate::io::store::Commit { outbox, ..Default::default() }).unwrap();
        }
    }
    let started = Instant::now();
    for g in &mut gws {
        g.start();
    }
    let drained = wait_until(Duration::from_secs(300), Duration::from_millis(250), || {
        gws.iter().all(|g| g.outbox() == Some(0.0)) && customers.iter().map(|c| delivered(ms, c)).sum::<usize>() >= 5_000
    });
    assert!(drained, "the outbox was not drained\n{}", gws[0].log());
    ms.wait_queue_empty(Duration::from_secs(120));
    eprintln!("parallel delivery: 5,000 queued mails delivered by three gateways in {:.1} s", started.elapsed().as_secs_f64());
    let counts: Vec<usize> = customers.iter().map(|c| delivered(ms, c)).collect();
    assert!(counts.iter().all(|n| *n == 10), "each mail once: {:?}", counts.iter().filter(|n| **n != 10).collect::<Vec<_>>());
    let sent: Vec<String> = gws
        .iter()
        .map(|g| http_get(g.metrics_port, "/metrics").map(|(_, b)| b).unwrap_or_default())
        .map(|b| b.lines().filter(|l| l.starts_with("srgate_mail_sent_total")).map(|l| l.to_string()).collect::<Vec<_>>().join(","))
        .collect();
    eprintln!("parallel delivery: sent per gateway: {sent:?}");
}

#[test]
fn two_gateways_open_srs_at_once_and_a_mail_in_both_mailboxes_is_decided_once() {
    let ms = stack();
    let sales = ms.unique_user_at("sales", "example.test");
    let sales_table = common::desk::mailbox_table(ms, "sales", &sales);
    let (desk, mut gws, _) = desk_with(ms, 2, sales_table.clone());
    // gw-0 reads the support mailbox, gw-1 the sales mailbox: both open SRs at full speed.
    let text = std::fs::read_to_string(gws[0].dir.join("srgate.toml")).unwrap();
    std::fs::write(gws[0].dir.join("srgate.toml"), text.replace(&sales_table, "")).unwrap();
    let text = std::fs::read_to_string(gws[1].dir.join("srgate.toml")).unwrap();
    let (from, to) = (text.find("[[mailbox]]\nname = \"support\"").unwrap(), text.find("[[cse]]").unwrap());
    std::fs::write(gws[1].dir.join("srgate.toml"), format!("{}{}", &text[..from], &text[to..])).unwrap();
    let customers: Vec<String> = (0..650).map(|i| ms.unique_user_at(&format!("p{i}"), "example.com")).collect();
    for (i, c) in customers.iter().enumerate() {
        let mail = customer_mail(c, &desk.support, &format!("Parallel {i}"));
        // 300 to each mailbox, and the last 50 to both (Cc'd to sales): the same mail twice.
        if !(300..600).contains(&i) {
            ms.append(&desk.support, "INBOX", &mail);
        }
        if i >= 300 {
            ms.append(&sales, "INBOX", &mail);
        }
    }
    for g in &mut gws {
        g.start();
    }
    let all_seen = |user: &str| ms.flags(user, "INBOX").iter().all(|(_, f)| f.iter().any(|f| f == "\\Seen"));
    let done = wait_until(Duration::from_secs(240), Duration::from_millis(250), || {
        all_seen(&desk.support) && all_seen(&sales) && gws.iter().all(|g| g.outbox() == Some(0.0))
    });
    assert!(done, "the mailboxes were not worked through\n{}\n{}", gws[0].log(), gws[1].log());
    ms.wait_queue_empty(Duration::from_secs(120));
    let srs = gws[0].cli().json(&["sr", "list", "--json"]);
    let srs = srs.as_array().unwrap();
    let mut numbers: Vec<u64> = srs.iter().map(|s| s["id"].as_u64().unwrap()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), srs.len(), "no SR number twice");
    let mut owners: Vec<&str> = srs.iter().map(|s| s["customer"].as_str().unwrap()).collect();
    owners.sort_unstable();
    owners.dedup();
    assert_eq!((owners.len(), srs.len()), (650, 650), "one SR per customer, the mails in both mailboxes included");
    let unused = numbers.last().unwrap() - numbers.first().unwrap() + 1 - numbers.len() as u64;
    assert!(unused <= 50, "{unused} numbers left unused: more than the mails decided by both gateways");
    for g in &gws {
        assert!(!g.log().contains("store write failed"), "a commit was refused for good on {}\n{}", g.name, g.log());
    }
    eprintln!("two gateways, two mailboxes: 650 SRs, {unused} numbers left unused (mails in both mailboxes: 50)");
}
