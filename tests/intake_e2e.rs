//! Issue 14, items 1 and 5, end to end on the real stack: an SR opened for a phone call
//! (by a CSE's `#new` mail, DKIM-signed by the stack, and by `srgate sr open` with and
//! without a daemon), a CSE's `#queue`, and the daily digests under `run --once --now`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::cli::Cli;
use common::config::StackTls;
use common::desk::{exited, signal};
use common::read::{body, header, subject};
use common::{MailStack, stack, wait_until};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);
/// Tuesday 3 March 2026, 10:30 CET: business hours.
const TUESDAY: &str = "2026-03-03T09:30:00Z";

struct Desk {
    support: String,
    ann: String,
    escalation: String,
    dir: tempfile::TempDir,
}

impl Desk {
    /// A desk with Ann (English and French), the shipped rules (a holiday added on Monday
    /// 2 March 2026) and templates; digests on when `digests`.
    fn new(ms: &MailStack, digests: bool) -> Desk {
        let u = |p: &str| ms.unique_domain_user(p);
        let (support, ann, escalation) = (u("support"), u("ann"), u("escalation"));
        let dir = tempfile::tempdir().unwrap();
        let root = env!("CARGO_MANIFEST_DIR");
        let rules = dir.path().join("rules");
        std::fs::create_dir(&rules).unwrap();
        for f in std::fs::read_dir(PathBuf::from(root).join("rules")).unwrap().flatten() {
            std::fs::copy(f.path(), rules.join(f.file_name())).unwrap();
        }
        let policy = std::fs::read_to_string(rules.join("policy.toml")).unwrap();
        std::fs::write(rules.join("policy.toml"), policy.replace("holidays = [", "holidays = [\n    \"2026-03-02\",")).unwrap();
        let lines = ms.srgate_lines().imap(StackTls::Starttls).smtp(StackTls::Starttls);
        let top = lines.top_level();
        assert!(top.contains("digest = false"), "the stack's lines turn digests off: {top}");
        let top = if digests { top.replace("digest = false", "digest = true") } else { top };
        let config = format!(
            r#"{top}data_dir = "data"
rules_dir = "rules"
templates_dir = "{root}/templates"
support_address = "{support}"
support_name = "Example Support"
escalation_address = "{escalation}"
{smtp}retry_after = "1s"
[[mailbox]]
name = "support"
{imap}username = "{support}"
password = "secret"
poll_interval = "1s"
[[cse]]
name = "Ann Engineer"
email = "{ann}"
languages = ["en", "fr"]
"#,
            smtp = lines.smtp_section(),
            imap = lines.mailbox_lines(),
        );
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
        Desk { support, ann, escalation, dir }
    }

    fn cli(&self) -> Cli {
        Cli::in_dir(self.dir.path())
    }

    fn run_at(&self, now: &str) {
        self.cli().run_at(now);
    }

    fn sr(&self, id: u64) -> Value {
        self.cli().sr(id)
    }

    fn srs(&self) -> Vec<Value> {
        self.cli().json(&["sr", "list", "--json"]).as_array().cloned().unwrap_or_default()
    }

    /// Sends a mail to the support address through the stack (which DKIM-signs mail from
    /// its domains), and waits until it is there.
    fn mail(&self, ms: &MailStack, from: &str, subject: &str, text: &str, extra_headers: &str) {
        let n = ms.count_messages(&self.support, "INBOX");
        let raw = format!(
            "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <m{n}.{}>\r\n{extra_headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n",
            self.support,
            from.replace('@', ".at.")
        );
        ms.send(raw.as_bytes(), from, &[&self.support]);
        ms.wait_for_messages(&self.support, "INBOX", n + 1, WAIT);
    }

    /// The mails of `who` whose subject contains `needle`.
    fn mails_with_subject(&self, ms: &MailStack, who: &str, needle: &str) -> Vec<Vec<u8>> {
        ms.messages(who, "INBOX").into_iter().map(|m| m.raw).filter(|raw| subject(raw).contains(needle)).collect()
    }
}

/// The first mail of `who` (waiting for it).
fn first_mail(ms: &MailStack, who: &str) -> Vec<u8> {
    ms.wait_for_messages(who, "INBOX", 1, WAIT).remove(0)
}

#[test]
fn a_cse_opens_an_sr_for_a_phone_call_by_mail_and_the_customer_replies_on_it() {
    let ms = stack();
    let desk = Desk::new(ms, false);
    let customer = ms.unique_user_at("jean", "example.com");
    desk.mail(
        ms,
        &desk.ann,
        "Production arrêtée",
        &format!(
            "#new \"Jean Dupont\" <{customer}>\n\nLe client signale une panne générale de production depuis ce matin : \
             plus aucune commande ne part. Il a déjà redémarré le serveur."
        ),
        "",
    );
    desk.run_at(TUESDAY);
    let sr = desk.sr(100_001);
    assert_eq!(sr["customer"], customer.as_str());
    assert_eq!(sr["assignee"], desk.ann.as_str(), "the CSE who took the call has it");
    assert_eq!((sr["priority"].as_str(), sr["language"].as_str()), (Some("P1"), Some("fr")), "triaged on the summary: {sr}");
    assert_eq!(sr["subject"], "Production arrêtée");
    assert_eq!(sr["messages"][0]["kind"], "intake", "{sr}");
    let ack = first_mail(ms, &customer);
    let text = body(&ack);
    assert!(subject(&ack).contains("[SR#100001]"), "{}", subject(&ack));
    assert!(text.contains("Comme convenu au téléphone avec Ann Engineer") && text.contains("[SR#100001]"), "{text}");
    assert!(text.contains("plus aucune commande ne part"), "the summary: {text}");
    assert!(!text.contains("#new"), "the command line stays with us: {text}");

    // The customer answers the acknowledgement: it threads to the SR, Ann is told.
    let ann_before = ms.count_messages(&desk.ann, "INBOX");
    let id = header(&ack, "Message-ID");
    desk.mail(
        ms,
        &customer,
        &format!("Re: {}", subject(&ack)),
        "Merci, voici le journal du serveur.",
        &format!("In-Reply-To: {id}\r\nReferences: {id}\r\n"),
    );
    desk.run_at("2026-03-03T10:00:00Z");
    let sr = desk.sr(100_001);
    assert_eq!(sr["state"], "open", "{sr}");
    assert!(sr["messages"].as_array().unwrap().iter().any(|m| m["kind"] == "customer_reply"), "{sr}");
    assert_eq!(desk.srs().len(), 1, "no second SR");
    let ann = ms.wait_for_messages(&desk.ann, "INBOX", ann_before + 1, WAIT);
    assert!(ann.iter().any(|m| body(m).contains("voici le journal")), "Ann gets the reply");
}

#[test]
fn a_new_from_anybody_else_opens_nothing_for_the_named_customer() {
    let ms = stack();
    let desk = Desk::new(ms, false);
    let (victim, forged_victim) = (ms.unique_user_at("victim", "example.com"), ms.unique_user_at("victim", "example.com"));
    let stranger = ms.unique_user_at("stranger", "example.com");
    // A customer who writes #new gets an SR of their own, as any mail does.
    desk.mail(ms, &stranger, "Call me", &format!("#new {victim}\nPlease open this for my colleague."), "");
    // The same in Ann's name but not signed (put straight into the mailbox): nothing.
    let forged = format!(
        "From: {}\r\nTo: {}\r\nSubject: Call\r\nMessage-ID: <forged@evil.example>\r\n\r\n#new {forged_victim}\r\nSummary.\r\n",
        desk.ann, desk.support
    );
    ms.append(&desk.support, "INBOX", forged.as_bytes());
    desk.run_at(TUESDAY);
    ms.wait_queue_empty(WAIT);
    let srs = desk.srs();
    assert_eq!(srs.len(), 1, "{srs:?}");
    assert_eq!(srs[0]["customer"], stranger.as_str(), "the sender's own SR");
    assert_eq!(ms.count_messages(&victim, "INBOX"), 0, "the named customer gets nothing");
    assert_eq!(ms.count_messages(&forged_victim, "INBOX"), 0);
    let quarantine = desk.cli().json(&["quarantine", "list", "--json"]);
    assert!(quarantine.as_array().unwrap().iter().any(|q| q["subject"] == "Call"), "the forgery is kept: {quarantine}");
}

#[test]
fn srgate_sr_open_with_and_without_a_daemon() {
    let ms = stack();
    let desk = Desk::new(ms, false);
    let customer = ms.unique_user_at("jeanne", "example.com");
    let summary = desk.dir.path().join("summary.txt");
    std::fs::write(
        &summary,
        "La cliente nous a appelés ce matin : elle demande comment renouveler sa licence avant vendredi, \
         car son contrat arrive à échéance et elle ne trouve pas le formulaire sur le portail.\n",
    )
    .unwrap();
    // Without a daemon: the command opens the store; the mail goes with the next run.
    let out = desk.cli().output(&[
        "sr",
        "open",
        "--customer",
        &customer,
        "--name",
        "Jeanne Martin",
        "--subject",
        "Renouvellement de licence",
        "--priority",
        "P2",
        "--body-file",
        summary.to_str().unwrap(),
        "--json",
        "--now",
        TUESDAY,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sr: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((sr["token"].as_str(), sr["customer"].as_str()), (Some("[SR#100001]"), Some(customer.as_str())));
    assert_eq!((sr["priority"].as_str(), sr["language"].as_str()), (Some("P2"), Some("fr")), "{sr}");
    assert_eq!(sr["assignee"], desk.ann.as_str(), "the rules pick the CSE");
    desk.run_at(TUESDAY);
    let ack = first_mail(ms, &customer);
    assert!(body(&ack).contains("Comme convenu au téléphone") && body(&ack).contains("[SR#100001]"), "{}", body(&ack));

    // With a daemon: it opens the SR and sends at once.
    let other = ms.unique_user_at("joe", "example.com");
    let mut daemon = desk.cli().command();
    let mut daemon = daemon.arg("run").stderr(std::process::Stdio::null()).spawn().unwrap();
    assert!(wait_until(WAIT, Duration::from_millis(100), || desk.dir.path().join("data/srgate.sock").exists()), "the daemon's socket");
    let out = desk.cli().output(&["sr", "open", "--customer", &other, "--subject", "Licence question", "--assignee", "Ann Engineer"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("opened [SR#100002]"), "{}", String::from_utf8_lossy(&out.stdout));
    let ack = first_mail(ms, &other);
    assert!(subject(&ack).contains("[SR#100002]"), "{}", subject(&ack));
    let refused = desk.cli().output(&["sr", "open", "--customer", &desk.ann, "--subject", "x"]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("not a customer"));
    signal(&daemon, "TERM");
    assert!(exited(&mut daemon, WAIT).is_some_and(|s| s.success()));
    assert_eq!(desk.sr(100_002)["assignee"], desk.ann.as_str());
    assert_eq!(desk.srs().len(), 2);
}

#[test]
fn queue_answers_the_cse_with_their_open_srs() {
    let ms = stack();
    let desk = Desk::new(ms, false);
    let (a, b) = (ms.unique_user_at("alice", "example.com"), ms.unique_user_at("bob", "example.com"));
    desk.mail(ms, &a, "Printer prints blank pages", "Our printer prints blank pages.", "");
    desk.mail(ms, &b, "Production is down", "Production is down since this morning.", "");
    desk.run_at(TUESDAY);
    desk.mail(ms, &desk.ann, "my queue please", "#queue", "");
    desk.run_at("2026-03-04T09:00:00Z");
    let mut answers = Vec::new();
    wait_until(WAIT, Duration::from_millis(100), || {
        answers = desk.mails_with_subject(ms, &desk.ann, "Your queue");
        !answers.is_empty()
    });
    assert_eq!(answers.len(), 1);
    let text = body(&answers[0]);
    assert!(subject(&answers[0]).contains("2 open SR(s)"), "{}", subject(&answers[0]));
    let (p1, p3) = (text.find("[SR#100002] P1").expect("the P1"), text.find("[SR#100001] P3").expect("the P3"));
    assert!(p1 < p3, "by priority: {text}");
    for needle in [a.as_str(), b.as_str(), "Printer prints blank pages", "Production is down", "open for:", "first response:", "(MISSED)"] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    assert_eq!(desk.srs().len(), 2, "a #queue opens no SR");
    // The subject `queue` alone does the same.
    desk.mail(ms, &desk.ann, "queue", "", "");
    desk.run_at("2026-03-04T09:05:00Z");
    assert!(wait_until(WAIT, Duration::from_millis(100), || desk.mails_with_subject(ms, &desk.ann, "Your queue").len() == 2));
}

#[test]
fn the_daily_digest_goes_out_once_on_business_mornings_only() {
    let ms = stack();
    let desk = Desk::new(ms, true);
    let customers: Vec<String> = (0..2).map(|_| ms.unique_user_at("cust", "example.com")).collect();
    desk.mail(ms, &customers[0], "Printer upstairs", "The printer upstairs prints blank pages.", "");
    desk.mail(ms, &customers[1], "Printer", "The printer prints blank pages.", "");
    let count = |needle: &str, who: &str| {
        ms.wait_queue_empty(WAIT);
        desk.mails_with_subject(ms, who, needle).len()
    };
    // Friday 27 February 2026, 10:00 CET: the SRs open, then the day's digests go out.
    desk.run_at("2026-02-27T09:00:00Z");
    assert!(wait_until(WAIT, Duration::from_millis(100), || desk.mails_with_subject(ms, &desk.ann, "Your open SRs").len() == 1));
    let digest = desk.mails_with_subject(ms, &desk.ann, "Your open SRs").remove(0);
    let text = body(&digest);
    assert!(subject(&digest).contains("Friday 27 February 2026 (2)"), "{}", subject(&digest));
    assert!(text.contains("[SR#100001]") && text.contains("[SR#100002]") && text.contains(&customers[0]), "{text}");
    assert!(
        wait_until(WAIT, Duration::from_millis(100), || desk.mails_with_subject(ms, &desk.escalation, "Support desk summary").len() == 1)
    );
    let team = body(&desk.mails_with_subject(ms, &desk.escalation, "Support desk summary")[0]);
    assert!(team.contains("2 SR(s) not closed") && team.contains("new: 2 (P1 0, P2 0, P3 2, P4 0)"), "{team}");
    assert!(team.contains("Oldest open SRs:") && team.contains("Unassigned SRs:"), "{team}");
    // Later that day, a new process (a restart): not again.
    desk.run_at("2026-02-27T15:00:00Z");
    // Saturday, and Monday 2 March (a holiday in this desk's policy): nothing.
    desk.run_at("2026-02-28T09:00:00Z");
    desk.run_at("2026-03-02T09:00:00Z");
    assert_eq!(count("Your open SRs", &desk.ann), 1, "once on Friday, nothing on Saturday or the holiday");
    assert_eq!(count("Support desk summary", &desk.escalation), 1);
    // Tuesday morning: the next digests.
    desk.run_at("2026-03-03T08:05:00Z");
    assert!(wait_until(WAIT, Duration::from_millis(100), || desk.mails_with_subject(ms, &desk.ann, "Your open SRs").len() == 2));
    assert_eq!(count("Support desk summary", &desk.escalation), 2);
    assert_eq!(count("Your open SRs", &desk.ann), 2);
}
