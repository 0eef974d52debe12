//! SRs a CSE opens for a customer: a phone call taken, an SR number given.
//!
//! By mail, an authenticated roster CSE writes to the support address with
//! `#new customer@example.com` (or `#new "Name" <address>`) on the first line; the
//! subject becomes the SR's, the rest of the text the CSE's summary. From the
//! command line, `srgate sr open` says the same. Either way the SR is opened the
//! one way every SR is ([`super::new_sr::open_sr`]): triaged by the rules on the
//! summary (priority, product, language), the acknowledgement with the summary to
//! the customer in their language, the notification to the assignee; only who it
//! is for, who has it (the CSE, or `#assign`) and the priority (`#priority`) come
//! from the CSE. Staff mail on no SR that asks for the CSE's queue (`#queue`) is
//! answered here too (see [`super::queue`]); any other staff mail on no SR opens an
//! SR as it always did.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::new_sr::{OnBehalf, inbound_record};
use super::outgoing::{Draft, Outgoing};
use super::shortlist::Shortlist;
use super::{Ctx, Decision, Lookup, NewSr, machine, message_id, queue};
use crate::config::Cse;
use crate::mail::inbound::Inbound;
use crate::mail::outbound::{OutKind, OutMail};
use crate::mail::thread;
use crate::sr::command::{self, Command};
use crate::sr::lifecycle::Opened;
use crate::sr::{Direction, MessageKind, MessageRecord, Priority};
use crate::template::{Extra, RenderError};

/// An SR to open for a customer, as a CSE (`#new`) or the operator (`srgate sr open`) asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intake {
    /// The customer's address.
    pub customer: String,
    /// The customer's display name.
    pub name: Option<String>,
    /// The SR's subject.
    pub subject: String,
    /// The CSE's summary of the request: the SR's first text, triaged by the rules.
    pub summary: String,
    /// Who gets it (a roster address or name); `None`: the rules decide.
    pub assignee: Option<String>,
    /// Its priority; `None`: the rules decide.
    pub priority: Option<Priority>,
}

/// What staff mail on no SR asks of the desk.
#[derive(Debug)]
pub enum StaffRequest {
    /// `#new`: an SR opened for the customer.
    Opened(Box<Decision>),
    /// `#queue`, or a `#new` that cannot be done: answers of no SR.
    Answer(Vec<OutMail>),
}

/// The roster entry named by address or name.
fn roster<'a>(ctx: Ctx<'a>, who: &str) -> Option<&'a Cse> {
    ctx.config.cses.iter().find(|c| c.email.eq_ignore_ascii_case(who) || c.name.eq_ignore_ascii_case(who))
}

/// True when the subject asks for the queue (`queue`, also as a reply).
fn is_queue_subject(subject: &str) -> bool {
    thread::clean_subject(subject).trim().eq_ignore_ascii_case("queue")
}

impl Intake {
    /// The request made valid: a customer address that is not ours, a subject, a summary,
    /// the assignee as its roster address. Every problem, in words.
    pub fn checked(mut self, ctx: Ctx<'_>) -> Result<Intake, Vec<String>> {
        let mut errors = Vec::new();
        self.customer = self.customer.trim().trim_matches(['<', '>']).to_ascii_lowercase();
        if !command::is_address(&self.customer) {
            errors.push(format!("{:?} is not a mail address", self.customer));
        } else if ctx.config.cse_by_email(&self.customer).is_some()
            || self.customer.eq_ignore_ascii_case(&ctx.config.support_address)
            || ctx.config.mailboxes.iter().any(|m| m.username.eq_ignore_ascii_case(&self.customer))
        {
            errors.push(format!("{} is one of ours (the roster or a support address), not a customer", self.customer));
        }
        self.name = self.name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        // Reply prefixes and tokens go; nothing left is no subject ("(no subject)" is for customers).
        self.subject = thread::clean_subject(&self.subject);
        if self.subject == thread::clean_subject("") {
            errors.push("the SR needs a subject".into());
        }
        self.summary = self.summary.trim().to_string();
        if self.summary.is_empty() {
            errors.push("the SR needs your summary of the request (the text below the command lines)".into());
        }
        if let Some(who) = &self.assignee {
            match roster(ctx, who) {
                Some(cse) => self.assignee = Some(cse.email.clone()),
                None => errors.push(format!("assignee {who}: nobody of that address or name on the roster")),
            }
        }
        if errors.is_empty() { Ok(self) } else { Err(errors) }
    }
}

/// Opens SR `new.id` for `intake` (checked) on behalf of `by` (the operator, from the
/// command line): the first message is the summary, under a Message-ID of ours.
pub fn open(
    ctx: Ctx<'_>,
    intake: &Intake,
    by: &str,
    new: &NewSr<'_>,
    lookup: &impl Lookup,
    now: Timestamp,
) -> Result<Decision, RenderError> {
    let id = message_id(ctx, new.id, 0);
    let first = MessageRecord {
        direction: Direction::In,
        from: by.to_string(),
        to: vec![ctx.config.support_address.clone()],
        subject: intake.subject.clone(),
        message_id: id.clone(),
        kind: MessageKind::Intake,
        at: now,
        attachments: Vec::new(),
        text: intake.summary.clone(),
        files: Vec::new(),
    };
    let request = request_of(ctx, intake, id, None);
    let d = opened(ctx, intake, by, "from the command line", first, &request, new, lookup, now)?;
    Ok(machine::cap_automated(ctx, d, lookup, now))
}

/// The request as if the customer had written it: what triage reads (sender, subject,
/// text; no headers of the CSE's mail), and the attachments of the CSE's mail.
fn request_of(ctx: Ctx<'_>, intake: &Intake, message_id: String, mail: Option<&Inbound>) -> Inbound {
    Inbound {
        message_id: Some(message_id),
        content_hash: mail.map(|m| m.content_hash.clone()).unwrap_or_default(),
        fingerprint: mail.map(|m| m.fingerprint).unwrap_or_default(),
        raw_len: mail.map_or(0, |m| m.raw_len),
        from: intake.customer.clone(),
        from_name: intake.name.clone(),
        // The address the CSE wrote to: the phone SR is answered from it, as a mail to it would be.
        to: vec![mail.map_or(ctx.config.support_address.as_str(), |m| ctx.config.written_to(&m.to, &m.cc, &m.delivered_to)).to_string()],
        cc: Vec::new(),
        delivered_to: Vec::new(),
        forward: None,
        subject: intake.subject.clone(),
        in_reply_to: Vec::new(),
        references: Vec::new(),
        text: intake.summary.clone(),
        new_text: intake.summary.clone(),
        quote_cut: None,
        attachments: mail.map(|m| m.attachments.clone()).unwrap_or_default(),
        headers: Vec::new(),
        content_language: None,
        detected_language: crate::lang::detect(&intake.summary, None),
        content_type: "text/plain".into(),
        report_type: None,
        report_ids: Vec::new(),
        report_parts: Default::default(),
        authentication: Default::default(),
    }
}

/// Opens the SR and, when the one who opened it does not get it, tells them its number.
#[allow(clippy::too_many_arguments)]
fn opened(
    ctx: Ctx<'_>,
    intake: &Intake,
    by: &str,
    how: &str,
    first: MessageRecord,
    request: &Inbound,
    new: &NewSr<'_>,
    lookup: &impl Lookup,
    now: Timestamp,
) -> Result<Decision, RenderError> {
    let behalf = OnBehalf {
        opened: Opened {
            customer: intake.customer.clone(),
            customer_name: intake.name.clone(),
            by: by.to_string(),
            how: format!("opened for the customer by {by} ({how})"),
        },
        first,
        priority: intake.priority,
        assignee: intake.assignee.clone(),
    };
    let related = super::mentioned(request, lookup);
    let d = super::new_sr::open_sr(ctx, request, super::new_sr::Origin::Phone(Box::new(behalf)), new, related, lookup, now)?;
    if ctx.config.cse_by_email(by).is_none() || d.sr.assignee.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(by)) {
        return Ok(d);
    }
    // A CSE who gave the SR to someone else learns its number all the same.
    let mut out = Outgoing::new(ctx, d.sr, now);
    let (parent, refs) = out.staff_thread();
    let assignee = out.sr.assignee.clone().unwrap_or_else(|| "nobody yet (the rules decide when business hours start)".into());
    let done = vec![format!(
        "{} opened for {}, {:?}, assigned to {assignee}; the customer was acknowledged",
        out.sr.token(),
        out.sr.customer,
        out.sr.priority
    )];
    out.push(
        Draft::new(OutKind::CommandConfirmation, vec![by.to_string()]).thread(parent, refs).extra(Extra { done, ..Extra::default() }),
    )?;
    let mut outgoing = d.outgoing;
    outgoing.extend(out.mails);
    Ok(Decision {
        sr: out.sr,
        outgoing,
        created: d.created,
        also: d.also,
        contact_changes: d.contact_changes,
        automated: d.automated,
        suggested: d.suggested,
    })
}

/// Staff mail on no SR: `#new` opens an SR for the customer, `#queue` (or the subject
/// `queue`) answers with the CSE's open SRs. `None` for anything else (and for mail
/// that is not an authenticated CSE's: the caller decided that), which opens an SR as
/// any mail does. A `#new` or `#queue` with a mistake changes nothing: the CSE gets
/// the problems back.
pub(super) fn staff_request(
    ctx: Ctx<'_>,
    mail: &Inbound,
    new: &NewSr<'_>,
    lookup: &impl Lookup,
    now: Timestamp,
) -> Result<Option<StaffRequest>, RenderError> {
    let Some(cse) = ctx.config.cse_by_email(&mail.from) else { return Ok(None) };
    let parsed = command::parse(&mail.new_text);
    let names = |word: &str| parsed.errors.iter().any(|e| e.to_ascii_lowercase().starts_with(word));
    let wants_new = parsed.commands.iter().any(|c| matches!(c, Command::New { .. })) || names("#new");
    let wants_queue = parsed.commands.contains(&Command::Queue)
        || names("#queue")
        || (parsed.commands.is_empty() && parsed.errors.is_empty() && is_queue_subject(&mail.subject));
    if !wants_new && !wants_queue {
        return Ok(None);
    }
    let mut errors = parsed.errors.clone();
    if wants_new && wants_queue {
        errors.push("#new and #queue: one per mail".into());
    }
    let mut intake = Intake {
        customer: String::new(),
        name: None,
        subject: mail.subject.clone(),
        summary: parsed.text.clone(),
        assignee: Some(cse.email.clone()),
        priority: None,
    };
    for c in &parsed.commands {
        match c {
            Command::New { name, address } => {
                if !intake.customer.is_empty() {
                    errors.push("#new: one customer per mail".into());
                }
                intake.customer = address.clone();
                intake.name = name.clone();
            }
            Command::Priority(p) => intake.priority = Some(*p),
            Command::Assign(who) => intake.assignee = Some(who.clone()),
            Command::Queue | Command::Confirm => {}
            other if wants_new => errors.push(format!("{}: not with #new (write it on the SR's thread once it is open)", other.word())),
            other => errors.push(format!("{}: not with #queue", other.word())),
        }
    }
    if wants_queue {
        if !errors.is_empty() {
            return Ok(Some(StaffRequest::Answer(vec![queue::refusal(ctx, mail, errors, now)?])));
        }
        let mut mine = Shortlist::new(ctx.config.digest_limit);
        lookup.open_srs_of(&cse.email, &mut |sr| mine.offer(queue::urgency(sr), sr));
        return Ok(Some(StaffRequest::Answer(vec![queue::answer(ctx, cse, mine, mail, now)?])));
    }
    let intake = match intake.checked(ctx) {
        Ok(intake) if errors.is_empty() => intake,
        Ok(_) => return Ok(Some(StaffRequest::Answer(vec![queue::refusal(ctx, mail, errors, now)?]))),
        Err(more) => {
            errors.extend(more);
            return Ok(Some(StaffRequest::Answer(vec![queue::refusal(ctx, mail, errors, now)?])));
        }
    };
    let first = inbound_record(ctx, mail, MessageKind::Intake, intake.summary.clone(), now);
    let request = request_of(ctx, &intake, mail.record_id(), Some(mail));
    let d = opened(ctx, &intake, &mail.from, "a phone call, by mail with #new", first, &request, new, lookup, now)?;
    Ok(Some(StaffRequest::Opened(Box::new(d))))
}

#[cfg(test)]
pub(super) mod tests {
    /// No knowledge base.
    static NO_KB: crate::kb::Kb = crate::kb::Kb::empty();
    use std::collections::HashMap;
    use std::path::Path;

    use super::*;
    use crate::config::Config;
    use crate::gateway::{Outcome, decide};
    use crate::mail::auth;
    use crate::policy::Policy;
    use crate::rules::RuleSet;
    use crate::sr::{Sr, State};
    use crate::template::Templates;

    /// A desk with Ann (English, French) and Bob, an escalation address, the shipped
    /// rules and templates and the standard policy; and the SRs it knows.
    pub(in crate::gateway) struct Desk {
        pub config: Config,
        templates: Templates,
        rules: RuleSet,
        policy: Policy,
        pub srs: Vec<Sr>,
    }

    impl Desk {
        pub fn standard() -> Desk {
            let config = crate::config::compile(
                Path::new("/x/srgate.toml"),
                r#"
data_dir = "d"
support_address = "support@example.test"
support_name = "Example Support"
escalation_address = "boss@example.test"
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
languages = ["en", "fr"]
[[cse]]
name = "Bob"
email = "bob@example.test"
"#,
            )
            .expect("config");
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let rules = RuleSet::load_dir(&root.join("rules"), &crate::setup::roster_view(&config)).expect("rules");
            let templates = Templates::load(&root.join("templates")).expect("templates");
            Desk { config, templates, rules, policy: Policy::standard(), srs: Vec::new() }
        }

        pub fn ctx(&self) -> Ctx<'_> {
            Ctx { config: &self.config, templates: &self.templates, rules: &self.rules, policy: &self.policy, kb: &NO_KB, instance: "t1" }
        }
    }

    impl Lookup for Desk {
        fn sr_exists(&self, id: u64) -> bool {
            self.srs.iter().any(|s| s.id == id)
        }
        fn sr_of_message(&self, _: &str) -> Option<u64> {
            None
        }
        fn contact(&self, _: &str) -> Option<crate::contacts::Contact> {
            None
        }
        fn automated_since(&self, _: &str, _: Timestamp) -> u32 {
            0
        }
        fn open_srs_of(&self, cse: &str, each: &mut dyn FnMut(&Sr)) {
            self.srs.iter().filter(|s| s.state != State::Closed && s.assignee.as_deref() == Some(cse)).for_each(each);
        }
    }

    pub fn at(s: &str) -> Timestamp {
        s.parse().expect("instant")
    }

    /// A mail from `from`, DKIM-verified for `example.test` when `signed`.
    pub fn mail(from: &str, subject: &str, body: &str, signed: bool) -> Inbound {
        let raw = format!(
            "From: {from}\r\nTo: support@example.test\r\nSubject: {subject}\r\nMessage-ID: <{}@x>\r\n\r\n{body}\r\n",
            subject.len()
        );
        let mut m = crate::mail::inbound::parse(raw.as_bytes()).expect("mail");
        if signed {
            m.authentication =
                auth::Authentication { checked: auth::Checked::Verified, dkim_pass: vec!["example.test".into()], ..Default::default() };
        }
        m
    }

    fn decide_at(desk: &Desk, m: &Inbound, now: &str) -> Outcome {
        let loads = HashMap::new();
        let new = NewSr { id: 100_001 + desk.srs.len() as u64, mailbox: "support", loads: &loads, rr: 1 };
        decide(desk.ctx(), m, None, &new, desk, at(now)).expect("decided")
    }

    /// Tuesday 3 March 2026, 11:00 CET: business hours.
    const TUESDAY: &str = "2026-03-03T10:00:00Z";

    #[test]
    fn a_cse_opens_an_sr_for_the_customer_on_the_phone() {
        let desk = Desk::standard();
        let m = mail(
            "ann@example.test",
            "Imprimante en panne",
            "#new \"Jean Dupont\" <Jean@Client.example>\n\nLe client signale que l'imprimante du deuxième étage n'imprime plus depuis ce matin, il a déjà redémarré la machine.",
            true,
        );
        let Outcome::Apply(d) = decide_at(&desk, &m, TUESDAY) else { panic!("an SR is opened") };
        assert!(d.created);
        let sr = &d.sr;
        assert_eq!((sr.customer.as_str(), sr.customer_name.as_deref()), ("jean@client.example", Some("Jean Dupont")));
        assert_eq!(sr.assignee.as_deref(), Some("ann@example.test"), "the CSE who took the call has it");
        assert_eq!(sr.subject, "Imprimante en panne");
        assert_eq!((sr.language.as_str(), sr.detected_language.as_deref()), ("fr", Some("fr")), "triaged on the summary");
        let first = &sr.messages[0];
        assert_eq!((first.kind, first.from.as_str()), (MessageKind::Intake, "ann@example.test"));
        assert!(first.text.starts_with("Le client signale"), "the summary without the command: {}", first.text);
        let created = &sr.events[0];
        assert_eq!((created.kind.as_str(), created.by.as_str()), ("created", "ann@example.test"));
        let ack = d.outgoing.iter().find(|m| m.kind == OutKind::Acknowledgement).expect("the customer is acknowledged");
        assert_eq!(ack.to, vec!["jean@client.example"]);
        assert!(ack.body.contains("[SR#100001]") && ack.body.contains("Comme convenu au téléphone avec Ann"), "{}", ack.body);
        assert!(ack.body.contains("deuxième étage"), "the summary is in the acknowledgement: {}", ack.body);
        assert!(ack.in_reply_to.is_none(), "the customer has none of the CSE's mail");
        let note = d.outgoing.iter().find(|m| m.kind == OutKind::CseNotification).expect("the CSE gets the number");
        assert_eq!(note.to, vec!["ann@example.test"]);
        assert!(note.body.contains("phone call"), "{}", note.body);
    }

    #[test]
    fn priority_from_the_rules_unless_the_cse_says_otherwise() {
        let desk = Desk::standard();
        let summary = "Production is down at the customer's site since 9:00.";
        let m = mail("ann@example.test", "Site down", &format!("#new jane@client.example\n{summary}"), true);
        let Outcome::Apply(d) = decide_at(&desk, &m, TUESDAY) else { panic!("opened") };
        assert_eq!(d.sr.priority, Priority::P1, "the rules read the summary");
        let m = mail("ann@example.test", "Site down", &format!("#new jane@client.example\n#priority P2\n#assign Bob\n{summary}"), true);
        let Outcome::Apply(d) = decide_at(&desk, &m, TUESDAY) else { panic!("opened") };
        assert_eq!(d.sr.priority, Priority::P2, "#priority overrides");
        assert_eq!(d.sr.assignee.as_deref(), Some("bob@example.test"));
        let told = d.outgoing.iter().find(|m| m.kind == OutKind::CommandConfirmation).expect("Ann learns the number");
        assert_eq!(told.to, vec!["ann@example.test"]);
        assert!(told.body.contains("[SR#100001]"), "{}", told.body);
        // After hours too, the CSE has it at once, and nobody is paged.
        let d = match decide_at(
            &desk,
            &mail("ann@example.test", "Site down", &format!("#new jane@client.example\n{summary}"), true),
            "2026-03-07T22:00:00Z",
        ) {
            Outcome::Apply(d) => d,
            other => panic!("opened: {other:?}"),
        };
        assert_eq!((d.sr.assignee.as_deref(), d.sr.assign_at), (Some("ann@example.test"), None));
        assert!(d.outgoing.iter().all(|m| m.kind != OutKind::Page));
    }

    #[test]
    fn only_authenticated_staff_may_open_an_sr_for_someone_else() {
        let desk = Desk::standard();
        let body = "#new victim@client.example\nPlease call me back.";
        // A customer writing #new opens an SR for themselves, as any mail does.
        let Outcome::Apply(d) = decide_at(&desk, &mail("mallory@evil.example", "Call", body, false), TUESDAY) else { panic!("an SR") };
        assert_eq!(d.sr.customer, "mallory@evil.example");
        assert!(d.outgoing.iter().all(|m| !m.to.contains(&"victim@client.example".to_string())), "the named customer gets nothing");
        // The same in a CSE's name, unauthenticated: nothing at all (kept for the operator).
        assert!(matches!(decide_at(&desk, &mail("ann@example.test", "Call", body, false), TUESDAY), Outcome::Suspicious { .. }));
    }

    #[test]
    fn a_mistaken_new_changes_nothing_and_says_why() {
        let desk = Desk::standard();
        for (subject, body, expected) in [
            ("Call", "#new jean\nSummary", "#new jean"),
            ("Call", "#new ann@example.test\nSummary", "one of ours"),
            ("", "#new jean@client.example\nSummary", "needs a subject"),
            ("Call", "#new jean@client.example", "summary"),
            ("Call", "#new jean@client.example\n#close\nSummary", "#close: not with #new"),
            ("Call", "#new jean@client.example\n#assign Zoe\nSummary", "Zoe"),
        ] {
            let Outcome::Answer { mails } = decide_at(&desk, &mail("ann@example.test", subject, body, true), TUESDAY) else {
                panic!("{body}: refused")
            };
            assert_eq!(mails.len(), 1, "{body}");
            assert_eq!((mails[0].kind, mails[0].sr, mails[0].to.clone()), (OutKind::CommandError, 0, vec!["ann@example.test".to_string()]));
            assert!(mails[0].body.contains(expected) && mails[0].body.contains("#new customer@example.com"), "{body}: {}", mails[0].body);
        }
    }

    #[test]
    fn the_command_line_opens_the_same_sr() {
        let desk = Desk::standard();
        let loads = HashMap::new();
        let new = NewSr { id: 100_001, mailbox: "", loads: &loads, rr: 0 };
        let intake = Intake {
            customer: " <Jane@Client.example> ".into(),
            name: Some("Jane Roe".into()),
            subject: "Re: Licence renewal".into(),
            summary: "Jane asked how to renew her licence before Friday.".into(),
            assignee: Some("Bob".into()),
            priority: Some(Priority::P4),
        }
        .checked(desk.ctx())
        .expect("valid");
        assert_eq!(
            (intake.customer.as_str(), intake.subject.as_str(), intake.assignee.as_deref()),
            ("jane@client.example", "Licence renewal", Some("bob@example.test"))
        );
        let d = open(desk.ctx(), &intake, "srgate sr open", &new, &desk, at(TUESDAY)).expect("opened");
        assert_eq!((d.sr.priority, d.sr.assignee.as_deref()), (Priority::P4, Some("bob@example.test")));
        assert_eq!(d.sr.messages[0].message_id, message_id(desk.ctx(), 100_001, 0), "a Message-ID of ours");
        assert_eq!(d.sr.messages[0].kind, MessageKind::Intake);
        let ids: Vec<&str> = d.sr.messages.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ids.len(), ids.iter().collect::<std::collections::HashSet<_>>().len(), "no Message-ID twice: {ids:?}");
        let ack = d.outgoing.iter().find(|m| m.kind == OutKind::Acknowledgement).expect("acknowledged");
        assert!(ack.body.contains("As discussed on the phone with Bob") && ack.body.contains("renew her licence"), "{}", ack.body);
        let bad = Intake { customer: "nobody".into(), subject: " ".into(), summary: String::new(), ..intake };
        assert_eq!(bad.checked(desk.ctx()).expect_err("refused").len(), 3);
    }
}
