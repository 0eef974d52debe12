//! The pure decision for one inbound mail: which SR it belongs to, how the SR
//! changes and which mails go out; and the scheduled work on one SR.
//!
//! The shell ([`crate::daemon`]) hands in the parsed mail, what the store knows
//! (through [`Lookup`]) and `now`; it gets back a [`Decision`] to commit in one
//! transaction. Nothing here reads the clock, the network or the disk.
//!
//! - [`new_sr`]: a mail that opens an SR (triage, acknowledgement, notification, page).
//! - [`forward`]: a colleague's forward of a customer's mail: the SR is the original sender's.
//! - [`staff`]: a CSE's mail: commands, relay, state change.
//! - [`customer`]: a mail from the customer's side: reply, requests, reopening; strangers.
//! - [`suspicious`]: mail in a CSE's name that is not authenticated: recorded, never obeyed.
//! - [`tick`]: scheduled work (deferred assignment, targets, contact attempts, holds, closure).
//! - [`outgoing`]: building and recording the mails.
//! - [`intake`]: an SR a CSE opens for a customer (`#new`, `srgate sr open`); staff mail on no SR.
//! - [`queue`]: a CSE's open SRs (`#queue`) and the daily digests; mail of no SR.

mod customer;
mod forward;
pub mod intake;
mod machine;
mod new_sr;
mod outgoing;
pub mod queue;
pub mod shortlist;
mod staff;
mod suspicious;
mod tick;

use std::collections::HashMap;

use jiff::Timestamp;

pub use machine::{AUTOMATED_WINDOW, delivery_failed, quarantined};
pub use outgoing::language_name;
pub use tick::tick;

use crate::config::Config;
use crate::contacts::{Contact, ContactChange};
use crate::kb::Kb;
use crate::mail::auth;
use crate::mail::classify::{Class, Classification, classify};
use crate::mail::inbound::Inbound;
use crate::mail::outbound::OutMail;
use crate::mail::thread;
use crate::policy::Policy;
use crate::rules::RuleSet;
use crate::sr::Sr;
use crate::template::{RenderError, Templates};

/// What the decision needs from the store.
pub trait Lookup {
    /// True when SR `id` exists.
    fn sr_exists(&self, id: u64) -> bool;
    /// The SR a Message-ID (received or sent) belongs to.
    fn sr_of_message(&self, message_id: &str) -> Option<u64>;
    /// The designated contact with this address.
    fn contact(&self, address: &str) -> Option<Contact>;
    /// How many automated mails went to `address` since `since`.
    fn automated_since(&self, address: &str, since: Timestamp) -> u32;
    /// Hands `each` the SRs not closed that are assigned to `cse`, one at a time, in any
    /// order, as facts (messages and events may be empty).
    fn open_srs_of(&self, cse: &str, each: &mut dyn FnMut(&Sr));
    /// When knowledge-base article `article` was last suggested to `customer`, if ever
    /// (a store that keeps no such record answers `None`).
    fn suggested_at(&self, customer: &str, article: &str) -> Option<Timestamp> {
        let _ = (customer, article);
        None
    }
}

/// Fixed inputs of every decision.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The validated configuration.
    pub config: &'a Config,
    /// The compiled templates.
    pub templates: &'a Templates,
    /// The rules.
    pub rules: &'a RuleSet,
    /// Business hours, targets and the lifecycle.
    pub policy: &'a Policy,
    /// The knowledge-base articles.
    pub kb: &'a Kb,
    /// This store's random instance tag, part of every Message-ID we make.
    pub instance: &'a str,
}

/// What a new SR needs besides the mail: its number, where the mail came from,
/// each CSE's count of SRs not closed, and the round-robin turn.
#[derive(Debug, Clone)]
pub struct NewSr<'a> {
    /// The number it gets.
    pub id: u64,
    /// The mailbox the mail arrived in.
    pub mailbox: &'a str,
    /// Open SRs per CSE address.
    pub loads: &'a HashMap<String, usize>,
    /// Round-robin turn for ties.
    pub rr: u64,
}

/// How a mail was threaded, and by which signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Threading {
    /// The subject carries the token of an existing SR.
    Token(u64),
    /// In-Reply-To/References name a Message-ID of an existing SR.
    Reference(u64, String),
    /// The body quotes our marker (a server rewrote the Message-IDs).
    Marker(u64),
    /// Nothing matched: a new SR.
    New,
}

impl Threading {
    /// The SR it names, if any.
    pub fn sr(&self) -> Option<u64> {
        match self {
            Threading::Token(id) | Threading::Reference(id, _) | Threading::Marker(id) => Some(*id),
            Threading::New => None,
        }
    }

    /// The signal that decided, for logs.
    pub fn signal(&self) -> &'static str {
        match self {
            Threading::Token(_) => "token",
            Threading::Reference(..) => "references",
            Threading::Marker(_) => "body marker",
            Threading::New => "none",
        }
    }
}

/// Finds the SR a mail belongs to: the subject token first, then referenced
/// Message-IDs, then the marker we put in every body (of this store's `instance`).
pub fn thread(mail: &Inbound, lookup: &impl Lookup, instance: &str) -> Threading {
    if let Some(id) = thread::token_in(&mail.subject).filter(|id| lookup.sr_exists(*id)) {
        return Threading::Token(id);
    }
    for reference in mail.referenced_ids() {
        if let Some(id) = lookup.sr_of_message(reference) {
            return Threading::Reference(id, reference.to_string());
        }
    }
    match thread::marker_in(&mail.text, instance).filter(|id| lookup.sr_exists(*id)) {
        Some(id) => Threading::Marker(id),
        None => Threading::New,
    }
}

/// True when `mail` answers something of SR `id` (its references name one of the SR's
/// messages, or its subject is a reply to the token), as opposed to mentioning it.
pub fn replies_to(mail: &Inbound, id: u64, lookup: &impl Lookup) -> bool {
    mail.referenced_ids().any(|r| lookup.sr_of_message(r) == Some(id)) || thread::is_reply_subject(&mail.subject)
}

/// The outcome of one inbound mail or one scheduled pass.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The SR after the mail.
    pub sr: Sr,
    /// True when the mail opened this SR.
    pub created: bool,
    /// Mail to send, in order.
    pub outgoing: Vec<OutMail>,
    /// Another SR changed too (the old SR a stranger wrote on: its CSE was told).
    pub also: Option<Box<Decision>>,
    /// Designated contacts to add or remove.
    pub contact_changes: Vec<ContactChange>,
    /// Automated mail sent: (recipient, Message-ID), one per recipient (for the per-address cap).
    pub automated: Vec<(String, String)>,
    /// Knowledge-base articles (ids) suggested to the SR's customer now: the store
    /// remembers them, so that none is suggested to them again within 30 days.
    pub suggested: Vec<String>,
}

impl Decision {
    fn new(sr: Sr, created: bool, outgoing: Vec<OutMail>) -> Decision {
        Decision { sr, created, outgoing, also: None, contact_changes: Vec::new(), automated: Vec::new(), suggested: Vec::new() }
    }
}

/// What an inbound mail comes to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A change to commit.
    Apply(Box<Decision>),
    /// Our own mail coming back: nothing to do.
    Own,
    /// Machine-generated mail that matches no SR: no SR, no reply; kept and reported.
    Unmatched {
        /// The class, signals included.
        classification: Classification,
    },
    /// Mail in a CSE's name, not authenticated, that names no SR: it opens none; kept and reported.
    Suspicious {
        /// What failed, in words.
        why: String,
    },
    /// Staff mail on no SR that is answered and changes nothing else (a CSE's `#queue`,
    /// a `#new` that cannot be done): the answers, of no SR (`sr` = 0).
    Answer {
        /// The mails to send.
        mails: Vec<OutMail>,
    },
}

/// True when `mail` is from a roster CSE and authenticated as such (unless
/// `require_authenticated_staff = false`; see [`crate::mail::auth`]).
pub fn is_staff(ctx: Ctx<'_>, mail: &Inbound) -> bool {
    ctx.config.cse_by_email(&mail.from).is_some() && impersonation(ctx, mail).is_none()
}

/// What failed, when `mail`'s From is a roster CSE but the mail is not
/// authenticated as theirs (and authentication is required).
pub fn impersonation(ctx: Ctx<'_>, mail: &Inbound) -> Option<String> {
    if !ctx.config.require_authenticated_staff || ctx.config.cse_by_email(&mail.from).is_none() {
        return None;
    }
    match auth::staff_verdict(mail, &ctx.config.trusted_authserv_ids) {
        auth::Verdict::Authenticated(_) => None,
        auth::Verdict::Unauthenticated(why) => Some(why),
    }
}

/// True when the decision on `mail` depends on who really sent it, so the edge
/// should verify its signatures first: mail in a CSE's name that nothing else
/// authenticates yet (the provider's signal, a trusted verdict), a forward from an
/// internal domain (see [`forward`]), and mail copying
/// anyone besides the support addresses (they may join the SR). Other mail is
/// decided without DNS, and so is a bounce without a sender address (there is no
/// domain to verify; it is machine mail whatever it says).
pub fn needs_authentication(config: &Config, mail: &Inbound) -> bool {
    if !mail.from.contains('@') {
        return false;
    }
    if config.require_authenticated_staff
        && config.cse_by_email(&mail.from).is_some()
        && !auth::staff_verdict(mail, &config.trusted_authserv_ids).passed()
    {
        return true;
    }
    // A colleague's forward opens the SR for its original sender only when authenticated.
    if mail.forward.is_some() && config.is_internal(&mail.from) && !auth::staff_verdict(mail, &config.trusted_authserv_ids).passed() {
        return true;
    }
    // The addresses that could join the SR (see `new_sr::copied`): not the sender, the
    // desk's own addresses (every support address, every mailbox) or the roster.
    let ours = |a: &str| a.eq_ignore_ascii_case(&mail.from) || config.is_ours(a) || config.cse_by_email(a).is_some();
    mail.to.iter().chain(mail.cc.iter()).any(|a| !ours(a))
}

/// True when `id` is a Message-ID this gateway made.
pub fn is_own_id(ctx: Ctx<'_>, id: &str) -> bool {
    id.starts_with("sr") && id.contains(&format!(".{}@", ctx.instance))
}

/// Classifies `mail` (see [`crate::mail::classify`]).
pub fn classification(ctx: Ctx<'_>, mail: &Inbound) -> Classification {
    classify(mail, |id| is_own_id(ctx, id), &ctx.config.own_addresses())
}

/// Threading for a classified mail: a bounce or a delay warning threads by the
/// Message-IDs it returns; a report (abuse, DMARC, TLS) threads to nothing.
pub fn thread_classified(mail: &Inbound, class: Class, lookup: &impl Lookup, instance: &str) -> Threading {
    if class == Class::Report {
        return Threading::New;
    }
    if matches!(class, Class::Bounce | Class::Delay) {
        for id in &mail.report_ids {
            if let Some(sr) = lookup.sr_of_message(id) {
                return Threading::Reference(sr, id.clone());
            }
        }
    }
    thread(mail, lookup, instance)
}

/// Decides what `mail` does. `existing` is the SR it threads to (None opens a new one).
pub fn decide(
    ctx: Ctx<'_>,
    mail: &Inbound,
    existing: Option<Sr>,
    new: &NewSr<'_>,
    lookup: &impl Lookup,
    now: Timestamp,
) -> Result<Outcome, RenderError> {
    let classification = classification(ctx, mail);
    let impersonation = impersonation(ctx, mail);
    let decision = match (classification.class, existing, impersonation) {
        (Class::Own, ..) => return Ok(Outcome::Own),
        // An abuse or authentication report is about mail, not a request: never on an SR.
        (Class::Report, ..) => return Ok(Outcome::Unmatched { classification }),
        (class, None, _) if class.is_machine() => return Ok(Outcome::Unmatched { classification }),
        (Class::Bounce, Some(sr), _) => match machine::bounced(ctx, mail, sr, &classification, now)? {
            Some(d) => d,
            // A report that names none of this SR's mail is anybody's text: it is kept, not recorded.
            None => return Ok(Outcome::Unmatched { classification }),
        },
        (Class::Delay, Some(sr), _) => match machine::delayed(mail, sr, &classification, now) {
            Some(d) => d,
            None => return Ok(Outcome::Unmatched { classification }),
        },
        (_, Some(sr), _) if classification.class.is_machine() => machine::automatic(ctx, mail, sr, &classification, now),
        // In a CSE's name but not authenticated: never obeyed, never an SR of its own.
        (_, None, Some(why)) => return Ok(Outcome::Suspicious { why }),
        (_, Some(sr), Some(why)) => suspicious::record(ctx, mail, sr, &why, now)?,
        // Staff mail on no SR: `#new` / `#queue` first, then a colleague's forward.
        (_, None, None) => match intake::staff_request(ctx, mail, new, lookup, now)? {
            Some(intake::StaffRequest::Opened(d)) => *d,
            Some(intake::StaffRequest::Answer(mails)) => return Ok(Outcome::Answer { mails }),
            None => match forward::open(ctx, mail, new, lookup, now)? {
                Some(d) => d,
                None => new_sr::open(ctx, mail, new, mentioned(mail, lookup), lookup, now)?,
            },
        },
        (_, Some(sr), None) if ctx.config.cse_by_email(&mail.from).is_some() => staff::respond(ctx, mail, sr, now)?,
        (_, Some(sr), None) => customer::write(ctx, mail, sr, new, lookup, now)?,
    };
    Ok(Outcome::Apply(Box::new(machine::cap_automated(ctx, decision, lookup, now))))
}

/// Records on the decided SR that `mail` reuses the Message-ID of an earlier,
/// different mail (of SR `earlier`, 0 when that mail made none): it was processed
/// on its own, and whoever reads the SR can tell the two apart.
pub fn note_reused_message_id(d: &mut Decision, mail: &Inbound, earlier: u64, now: Timestamp) {
    let id = mail.message_id.as_deref().unwrap_or_default();
    let before = if earlier == 0 { "a mail that made no SR".to_string() } else { crate::sr::token(earlier) };
    d.sr.log(
        now,
        "message_id_reused",
        &mail.from,
        format!("Message-ID <{id}> was used before by a different mail ({before}); this mail was processed on its own"),
    );
}

/// The attachments small enough to forward, and "name (size)" for the others.
fn forwardable(ctx: Ctx<'_>, mail: &Inbound) -> (Vec<crate::mail::Attachment>, Vec<String>) {
    let max = ctx.config.max_attachment_bytes;
    let (small, big): (Vec<_>, Vec<_>) = mail.attachments.iter().cloned().partition(|a| a.data.len() <= max);
    (small, big.iter().map(|a| format!("{} ({} MB)", a.name, a.data.len().div_ceil(1024 * 1024))).collect())
}

/// Existing SRs a new mail mentions by token (subject or text).
fn mentioned(mail: &Inbound, lookup: &impl Lookup) -> Vec<u64> {
    let mut ids: Vec<u64> =
        thread::tokens_in(&mail.subject).into_iter().chain(thread::tokens_in(&mail.new_text)).filter(|id| lookup.sr_exists(*id)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A Message-ID for the `seq`-th message of SR `id`: unique per store, and the
/// same if the same mail is decided again (which keeps re-reads harmless).
pub fn message_id(ctx: Ctx<'_>, id: u64, seq: u64) -> String {
    let domain = ctx.config.support_address.rsplit('@').next().unwrap_or("srgate.invalid");
    format!("sr{id}.{seq}.{}@{domain}", ctx.instance)
}

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests_addresses;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::outbound::OutKind;
    use crate::sr;
    use std::collections::HashMap;
    use std::path::Path;

    struct Mem {
        srs: HashMap<u64, Sr>,
        ids: HashMap<String, u64>,
    }

    /// A store where one address (`"*"`: every address) already got its hourly share of
    /// automated mail.
    struct CappedFor(&'static str);

    impl Lookup for CappedFor {
        fn contact(&self, _: &str) -> Option<Contact> {
            None
        }
        fn automated_since(&self, address: &str, _: Timestamp) -> u32 {
            if self.0 == "*" || address == self.0 { u32::MAX } else { 0 }
        }
        fn open_srs_of(&self, _: &str, _: &mut dyn FnMut(&Sr)) {}
        fn sr_exists(&self, _: u64) -> bool {
            false
        }
        fn sr_of_message(&self, _: &str) -> Option<u64> {
            None
        }
    }

    impl Lookup for Mem {
        fn contact(&self, _: &str) -> Option<Contact> {
            None
        }
        fn automated_since(&self, _: &str, _: Timestamp) -> u32 {
            0
        }
        fn open_srs_of(&self, cse: &str, each: &mut dyn FnMut(&Sr)) {
            self.srs.values().filter(|s| s.state != sr::State::Closed && s.assignee.as_deref() == Some(cse)).for_each(each);
        }
        fn sr_exists(&self, id: u64) -> bool {
            self.srs.contains_key(&id)
        }
        fn sr_of_message(&self, message_id: &str) -> Option<u64> {
            self.ids.get(message_id).copied()
        }
    }

    fn applied(o: Result<Outcome, RenderError>) -> Decision {
        match o.expect("decide") {
            Outcome::Apply(d) => *d,
            other => panic!("expected a change, got {other:?}"),
        }
    }

    fn config() -> Config {
        crate::config::compile(
            Path::new("/x/srgate.toml"),
            r#"
data_dir = "d"
support_address = "support@example.test"
support_name = "Example Support"
[smtp]
host = "127.0.0.1"
port = 25
[[mailbox]]
host = "127.0.0.1"
port = 143
username = "support@example.test"
password = "p"
[[cse]]
name = "Ann"
email = "ann@example.test"
[[cse]]
name = "Bob"
email = "bob@example.test"
"#,
        )
        .expect("config")
    }

    fn templates() -> Templates {
        Templates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")).expect("templates")
    }

    fn parse(raw: &str) -> Inbound {
        crate::mail::inbound::parse(raw.as_bytes()).expect("mail")
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("instant")
    }

    /// The shipped rules, the standard policy and the shipped templates for `config`.
    struct Fixture {
        config: Config,
        templates: Templates,
        rules: RuleSet,
        policy: Policy,
        kb: Kb,
    }

    impl Fixture {
        fn new() -> Fixture {
            let config = config();
            let rules = RuleSet::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"), &crate::setup::roster_view(&config))
                .expect("rules");
            let kb = crate::setup::load_kb(&Path::new(env!("CARGO_MANIFEST_DIR")).join("kb"), true).expect("kb");
            Fixture { config, templates: templates(), rules, policy: Policy::standard(), kb }
        }

        fn ctx(&self) -> Ctx<'_> {
            Ctx { config: &self.config, templates: &self.templates, rules: &self.rules, policy: &self.policy, kb: &self.kb, instance: "t1" }
        }
    }

    mod kb;

    #[test]
    fn the_whole_path() {
        let fixture = Fixture::new();
        let ctx = fixture.ctx();
        let loads = HashMap::new();
        let new = |id| NewSr { id, mailbox: "support", loads: &loads, rr: 1 };
        let mut mem = Mem { srs: HashMap::new(), ids: HashMap::new() };

        let first = parse("From: Jane <jane@example.com>\r\nSubject: Printer on fire\r\nMessage-ID: <m1@example.com>\r\n\r\nHelp!\r\n");
        assert_eq!(thread(&first, &mem, "t1"), Threading::New);
        let d = applied(decide(ctx, &first, None, &new(100_001), &mem, at("2026-03-03T10:00:00Z")));
        assert!(d.created);
        assert_eq!(d.sr.assignee.as_deref(), Some("bob@example.test"));
        assert_eq!(d.outgoing.len(), 2);
        let ack = &d.outgoing[0];
        assert_eq!(ack.subject, "[SR#100001] Printer on fire");
        assert_eq!(ack.in_reply_to.as_deref(), Some("m1@example.com"));
        assert_eq!(ack.auto_submitted, Some("auto-replied"));
        let note = &d.outgoing[1];
        assert_eq!(note.to, vec!["bob@example.test"]);
        assert!(note.body.contains("Help!"));
        for m in &d.sr.messages {
            mem.ids.insert(m.message_id.clone(), d.sr.id);
        }
        mem.srs.insert(d.sr.id, d.sr.clone());

        // The CSE answers the notification from a client that keeps only In-Reply-To.
        let answer = parse(&format!(
            "From: Bob <bob@example.test>\r\nSubject: Re: whatever\r\nIn-Reply-To: <{}>\r\nMessage-ID: <m2@example.test>\r\n\r\nPlease restart it.\r\n\r\nOn Tue, Support wrote:\r\n> Help!\r\n",
            note.message_id
        ));
        let mut answer = answer;
        answer.authentication =
            auth::Authentication { checked: auth::Checked::Verified, dkim_pass: vec!["example.test".into()], ..Default::default() };
        assert_eq!(thread(&answer, &mem, "t1"), Threading::Reference(100_001, note.message_id.clone()));
        let d = applied(decide(ctx, &answer, mem.srs.get(&100_001).cloned(), &new(0), &mem, at("2026-03-03T11:00:00Z")));
        assert_eq!((d.sr.state, d.sr.contact_attempts), (sr::State::AwaitingCustomer, 1));
        let relay = &d.outgoing[0];
        assert_eq!(relay.to, vec!["jane@example.com"]);
        assert_eq!(relay.in_reply_to.as_deref(), Some("m1@example.com"));
        assert_eq!(relay.from_name.as_deref(), Some("Bob (Example Support)"));
        assert!(relay.body.starts_with("Please restart it."));
        assert!(!relay.body.contains("> Help!"));
        mem.srs.insert(100_001, d.sr);

        // The customer answers with the token.
        let reply = parse(
            "From: jane@example.com\r\nSubject: RE: [SR#100001] Printer on fire\r\nMessage-ID: <m3@example.com>\r\n\r\nDone, still burning.\r\n",
        );
        assert_eq!(thread(&reply, &mem, "t1"), Threading::Token(100_001));
        let d = applied(decide(ctx, &reply, mem.srs.get(&100_001).cloned(), &new(0), &mem, at("2026-03-04T09:00:00Z")));
        assert_eq!((d.sr.state, d.sr.contact_attempts), (sr::State::Open, 0));
        assert_eq!(d.outgoing[0].to, vec!["bob@example.test"]);
        assert_eq!(d.outgoing[0].kind, OutKind::CustomerUpdate);
    }

    /// Issue 11: every recipient of an automated mail counts against the cap, copies included:
    /// a participant who had their share gets no more, the customer still gets theirs.
    #[test]
    fn the_cap_counts_every_recipient_of_an_automated_mail() {
        let fixture = Fixture::new();
        let ctx = fixture.ctx();
        let loads = HashMap::new();
        let new = NewSr { id: 100_001, mailbox: "support", loads: &loads, rr: 1 };
        let mut first = parse(
            "From: jane@example.com\r\nTo: support@example.test\r\nCc: colleague@example.com\r\nSubject: Printer\r\nMessage-ID: <cc1@example.com>\r\n\r\nHelp!\r\n",
        );
        first.authentication.dmarc = crate::mail::auth::Dmarc::Pass;
        let d = applied(decide(ctx, &first, None, &new, &CappedFor("colleague@example.com"), at("2026-03-03T10:00:00Z")));
        assert_eq!(d.sr.participants, vec!["colleague@example.com"], "an authenticated customer's copy joins");
        let ack = d.outgoing.iter().find(|m| m.kind == OutKind::Acknowledgement).expect("the customer is acknowledged");
        assert_eq!((ack.to.clone(), ack.cc.clone()), (vec!["jane@example.com".to_string()], Vec::<String>::new()));
        assert_eq!(d.automated.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(), vec!["jane@example.com"]);
        assert!(d.sr.events.iter().any(|e| e.kind == "auto_reply_suppressed" && e.detail.contains("colleague@example.com")));
        // Unauthenticated, the same mail's copy does not join at all.
        first.authentication.dmarc = crate::mail::auth::Dmarc::None;
        let d = applied(decide(ctx, &first, None, &new, &CappedFor("nobody"), at("2026-03-03T10:00:00Z")));
        assert!(d.sr.participants.is_empty());
        let ack = d.outgoing.iter().find(|m| m.kind == OutKind::Acknowledgement).expect("the sender is acknowledged");
        assert!(ack.cc.is_empty(), "an unauthenticated mail's acknowledgement goes to its sender only");
    }

    /// Issue 10, item 7: a mail the cap drops does not give its Message-ID to a later mail.
    #[test]
    fn message_ids_never_repeat_when_the_cap_drops_a_mail() {
        let fixture = Fixture::new();
        let ctx = fixture.ctx();
        let loads = HashMap::new();
        let new = NewSr { id: 100_001, mailbox: "support", loads: &loads, rr: 1 };
        let first = parse("From: jane@example.com\r\nSubject: Printer\r\nMessage-ID: <c1@example.com>\r\n\r\nHelp!\r\n");
        let d = applied(decide(ctx, &first, None, &new, &CappedFor("*"), at("2026-03-03T10:00:00Z")));
        assert!(d.outgoing.iter().all(|m| m.kind != OutKind::Acknowledgement), "the acknowledgement is capped");
        // The first-response target passes: the warning is the next mail the gateway makes.
        let due = d.sr.first_response_due.expect("a target");
        let d = tick(ctx, d.sr, &loads, 1, due).expect("rendered").expect("the warning is due");
        assert!(d.outgoing.iter().any(|m| m.kind == OutKind::FirstResponseWarning));
        let mut ids: Vec<&str> = d.sr.messages.iter().map(|m| m.message_id.as_str()).collect();
        let all = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all, "every message of the SR has its own Message-ID: {:?}", d.sr.messages);
    }

    #[test]
    fn staff_mail_must_be_authenticated_unless_turned_off() {
        let mut fixture = Fixture::new();
        let plain = parse("From: ann@example.test\r\nSubject: Re: [SR#100001] x\r\n\r\n#close");
        let vouched = parse(
            "From: ann@example.test\r\nAuthentication-Results: mx.example.test; dkim=pass header.d=example.test\r\nSubject: Re: [SR#100001] x\r\n\r\n#close",
        );
        let mut signed = plain.clone();
        signed.authentication =
            auth::Authentication { checked: auth::Checked::Verified, dkim_pass: vec!["example.test".into()], ..Default::default() };
        assert!(fixture.config.require_authenticated_staff, "on by default");
        assert!(!is_staff(fixture.ctx(), &plain), "a forged roster address is not staff");
        assert!(impersonation(fixture.ctx(), &plain).is_some_and(|why| why.contains("no trusted_authserv_ids")));
        assert!(is_staff(fixture.ctx(), &signed), "srgate's own DKIM verification");
        assert!(!is_staff(fixture.ctx(), &vouched), "nobody trusted yet");
        assert!(needs_authentication(&fixture.config, &plain));
        assert!(!needs_authentication(&fixture.config, &parse("From: jane@example.com\r\nTo: support@example.test\r\n\r\nhi")));
        assert!(needs_authentication(
            &fixture.config,
            &parse("From: jane@example.com\r\nTo: support@example.test\r\nCc: boss@example.com\r\n\r\nhi")
        ));
        fixture.config.trusted_authserv_ids = vec!["mx.example.test".into()];
        assert!(is_staff(fixture.ctx(), &vouched));
        assert!(!needs_authentication(&fixture.config, &vouched), "already authenticated: no DNS needed");
        fixture.config.require_authenticated_staff = false;
        assert!(is_staff(fixture.ctx(), &plain));
    }

    #[test]
    fn a_forged_cse_mail_is_recorded_not_obeyed_and_the_cse_told_once_a_day() {
        let fixture = Fixture::new();
        let ctx = fixture.ctx();
        let loads = HashMap::new();
        let new = NewSr { id: 100_001, mailbox: "support", loads: &loads, rr: 1 };
        let mem = Mem { srs: HashMap::new(), ids: HashMap::new() };
        let first = parse("From: jane@example.com\r\nSubject: Printer\r\nMessage-ID: <f1@example.com>\r\n\r\nHelp!\r\n");
        let sr = applied(decide(ctx, &first, None, &new, &mem, at("2026-03-03T10:00:00Z"))).sr;
        let forged =
            parse("From: ann@example.test\r\nSubject: Re: [SR#100001] Printer\r\nMessage-ID: <x1@evil.example>\r\n\r\n#close\r\nDone.");
        let d = applied(decide(ctx, &forged, Some(sr.clone()), &new, &mem, at("2026-03-03T11:00:00Z")));
        assert_eq!((d.sr.state, d.sr.priority, d.sr.messages.len()), (sr.state, sr.priority, sr.messages.len() + 1));
        let event = d.sr.events.last().expect("event");
        assert_eq!((event.kind.as_str(), event.by.as_str()), ("suspicious", "ann@example.test"));
        assert!(event.detail.contains("not authenticated") && event.detail.contains("x1@evil.example"), "{event:?}");
        assert_eq!(d.outgoing.len(), 1, "one notice, nothing to the customer");
        assert_eq!(d.outgoing[0].to, vec!["ann@example.test"]);
        let again = applied(decide(ctx, &forged, Some(d.sr.clone()), &new, &mem, at("2026-03-03T12:00:00Z")));
        assert!(again.outgoing.is_empty(), "no second notice the same day");
        let tomorrow = applied(decide(ctx, &forged, Some(again.sr.clone()), &new, &mem, at("2026-03-04T12:00:01Z")));
        assert_eq!(tomorrow.outgoing.len(), 1);
        let stray = parse("From: ann@example.test\r\nSubject: refund\r\n\r\nDo it.");
        assert!(matches!(decide(ctx, &stray, None, &new, &mem, at("2026-03-03T11:00:00Z")), Ok(Outcome::Suspicious { .. })));
    }

    #[test]
    fn a_quarantined_mail_is_logged_on_its_sr_and_only_its_cse_is_told() {
        let fixture = Fixture::new();
        let ctx = fixture.ctx();
        let loads = HashMap::new();
        let first = parse("From: jane@example.com\r\nSubject: Printer\r\nMessage-ID: <q1@example.com>\r\n\r\nHelp!\r\n");
        let mem = Mem { srs: HashMap::new(), ids: HashMap::new() };
        let new = NewSr { id: 100_001, mailbox: "support", loads: &loads, rr: 1 };
        let sr = applied(decide(ctx, &first, None, &new, &mem, at("2026-03-03T10:00:00Z"))).sr;
        let now = at("2026-03-03T11:00:00Z");
        let d = quarantined(ctx, sr.clone(), "jane@example.com", "MIME parts nested 1000 deep", now).expect("rendered");
        assert_eq!((d.sr.state, d.sr.contact_attempts), (sr.state, sr.contact_attempts), "the SR itself is unchanged");
        let event = d.sr.events.last().expect("an event");
        assert_eq!(event.kind, "quarantined");
        assert!(event.detail.contains("jane@example.com") && event.detail.contains("nested"), "{event:?}");
        assert_eq!(d.outgoing.len(), 1);
        assert_eq!(d.outgoing[0].to, sr.assignee.clone().into_iter().collect::<Vec<_>>());
        assert!(d.outgoing[0].body.contains("srgate quarantine list"), "{}", d.outgoing[0].body);
    }

    /// An SR opened by Jane's first mail, in `mem`, and the Message-ID of its acknowledgement.
    fn opened(ctx: Ctx<'_>, mem: &mut Mem) -> (Sr, String) {
        let loads = HashMap::new();
        let new = NewSr { id: 100_001, mailbox: "support", loads: &loads, rr: 1 };
        let first = parse("From: jane@example.com\r\nSubject: Printer\r\nMessage-ID: <j1@example.com>\r\n\r\nHelp!\r\n");
        let d = applied(decide(ctx, &first, None, &new, mem, at("2026-03-03T10:00:00Z")));
        let ack = d.outgoing.iter().find(|m| m.kind == OutKind::Acknowledgement).expect("acknowledged").message_id.clone();
        for m in &d.sr.messages {
            mem.ids.insert(m.message_id.clone(), d.sr.id);
        }
        mem.srs.insert(d.sr.id, d.sr.clone());
        (d.sr, ack)
    }

    /// Decides `raw` the way the daemon does: classify, thread, decide.
    fn decide_raw(ctx: Ctx<'_>, raw: &str, mem: &Mem) -> Outcome {
        let loads = HashMap::new();
        let new = NewSr { id: 100_002, mailbox: "support", loads: &loads, rr: 1 };
        let mail = parse(raw);
        let threading = thread_classified(&mail, classification(ctx, &mail).class, mem, "t1");
        let existing = threading.sr().and_then(|id| mem.srs.get(&id).cloned());
        decide(ctx, &mail, existing, &new, mem, at("2026-03-04T10:00:00Z")).expect("decided")
    }

    /// Issue 12, class 8: a delay warning naming our mail is an event on its SR; nobody is told.
    #[test]
    fn a_delay_warning_is_recorded_and_nobody_told() {
        let fixture = Fixture::new();
        let ctx = fixture.ctx();
        let mut mem = Mem { srs: HashMap::new(), ids: HashMap::new() };
        let (sr, ack) = opened(ctx, &mut mem);
        let raw = format!(
            "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\nTo: support@example.test\r\nSubject: Delayed Mail (still being retried)\r\nMessage-ID: <dly1@mx.example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; jane@example.com\r\nAction: delayed\r\nStatus: 4.4.1\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID:\r\n <{ack}>\r\n--b--\r\n"
        );
        let Outcome::Apply(d) = decide_raw(ctx, &raw, &mem) else { panic!("a delay naming our mail is recorded") };
        assert!(d.outgoing.is_empty(), "nobody is told: {:?}", d.outgoing);
        assert_eq!((d.sr.state, d.sr.messages.len()), (sr.state, sr.messages.len()), "the SR itself is unchanged");
        let event = d.sr.events.last().expect("an event");
        assert_eq!(event.kind, "delivery_delayed");
        assert!(event.detail.contains(&ack) && event.detail.contains("dsn:action=delayed"), "{event:?}");
        // The same warning naming nothing of ours touches no SR.
        let stray = raw.replace(&ack, "other@example.com");
        assert!(matches!(decide_raw(ctx, &stray, &mem), Outcome::Unmatched { .. }));
    }

    /// Issue 12, class 10: an abuse or DMARC report opens no SR and is answered by nobody,
    /// even when it carries an SR's token or our Message-ID.
    #[test]
    fn a_report_opens_no_sr_and_gets_no_answer() {
        let fixture = Fixture::new();
        let ctx = fixture.ctx();
        let mut mem = Mem { srs: HashMap::new(), ids: HashMap::new() };
        let (_, ack) = opened(ctx, &mut mem);
        let arf = format!(
            "From: feedback@arf.example.net\r\nTo: support@example.test\r\nSubject: [SR#100001] complaint\r\nMessage-ID: <arf1@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{ack}>\r\n--b--\r\n"
        );
        let Outcome::Unmatched { classification } = decide_raw(ctx, &arf, &mem) else { panic!("a report is kept, not decided") };
        assert_eq!(classification.class, Class::Report);
        assert!(classification.signals.contains(&"report:feedback-type=abuse".to_string()), "{classification:?}");
        let dmarc = "From: noreply-dmarc-support@example.net\r\nTo: support@example.test\r\nSubject: Report domain: example.test Submitter: example.net Report-ID: <123>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/zip; name=\"example.net!example.test!1772496000!1772582399.zip\"\r\nContent-Disposition: attachment; filename=\"example.net!example.test!1772496000!1772582399.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--b--\r\n";
        assert!(matches!(decide_raw(ctx, dmarc, &mem), Outcome::Unmatched { classification } if classification.class == Class::Report));
    }

    /// Issue 12, class 7: a bounce from `MAILER-DAEMON` without a domain is a bounce like
    /// any other: recorded on the SR of the mail it returns, and the CSE is told.
    #[test]
    fn a_bounce_without_a_sender_domain_is_recorded_like_any_bounce() {
        let fixture = Fixture::new();
        let ctx = fixture.ctx();
        let mut mem = Mem { srs: HashMap::new(), ids: HashMap::new() };
        let (sr, ack) = opened(ctx, &mut mem);
        let raw = format!(
            "Return-Path: <>\r\nFrom: Mail Delivery Subsystem <MAILER-DAEMON>\r\nTo: support@example.test\r\nSubject: Returned mail: see transcript for details\r\nMessage-ID: <b1@mx.example.com>\r\n\r\nThe original message was received at Tue, 3 Mar 2026 10:00:05 +0100\r\n\r\n   ----- The following addresses had permanent fatal errors -----\r\n<jane@example.com>\r\n\r\n   ----- Original message -----\r\n\r\nMessage-Id: <{ack}>\r\nSubject: [SR#100001] Printer\r\n"
        );
        let Outcome::Apply(d) = decide_raw(ctx, &raw, &mem) else { panic!("the bounce is recorded") };
        let event = d.sr.events.iter().rev().find(|e| e.kind == "delivery_failed").expect("delivery_failed");
        assert_eq!(event.by, "mailer-daemon");
        assert!(event.detail.contains(&ack), "{event:?}");
        assert!(d.sr.messages.iter().any(|m| m.kind == sr::MessageKind::Bounce && m.from == "mailer-daemon"));
        assert_eq!(d.outgoing.len(), 1, "the CSE is told");
        assert_eq!(d.outgoing[0].to, sr.assignee.clone().into_iter().collect::<Vec<_>>());
        // Naming none of our mail, the same bounce touches no SR and nobody is answered.
        let stray = raw.replace(&ack, "other@example.com");
        assert!(matches!(decide_raw(ctx, &stray, &mem), Outcome::Unmatched { classification } if classification.class == Class::Bounce));
    }

    #[test]
    fn unknown_token_opens_a_new_sr() {
        let mem = Mem { srs: HashMap::new(), ids: HashMap::new() };
        let m = parse("From: a@example.com\r\nSubject: [SR#999999] hi\r\n\r\nx");
        assert_eq!(thread(&m, &mem, "t1"), Threading::New);
    }
}
