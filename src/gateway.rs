//! The pure decision for one inbound mail: which SR it belongs to, how the SR
//! changes and which mails go out.
//!
//! The shell ([`crate::daemon`]) hands in the parsed mail, what the store knows
//! (through [`Lookup`]) and `now`; it gets back a [`Decision`] to commit in one
//! transaction. Nothing here reads the clock, the network or the disk.

use jiff::Timestamp;

use std::collections::HashMap;

use crate::config::Config;
use crate::mail::inbound::Inbound;
use crate::mail::outbound::{OutKind, OutMail};
use crate::mail::thread;
use crate::policy::Policy;
use crate::rules::RuleSet;
use crate::sr::{self, Direction, MessageKind, MessageRecord, Sr, lifecycle};
use crate::template::{MailContext, RenderError, SrFacts, Templates};
use crate::triage::{self, Triage};

/// What the decision needs from the store.
pub trait Lookup {
    /// The SR with number `id`.
    fn sr(&self, id: u64) -> Option<Sr>;
    /// The SR a Message-ID (received or sent) belongs to.
    fn sr_of_message(&self, message_id: &str) -> Option<u64>;
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
    /// Business hours and targets.
    pub policy: &'a Policy,
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
    /// Nothing matched: a new SR.
    New,
}

impl Threading {
    /// The SR it names, if any.
    pub fn sr(&self) -> Option<u64> {
        match self {
            Threading::Token(id) | Threading::Reference(id, _) => Some(*id),
            Threading::New => None,
        }
    }
}

/// Finds the SR a mail belongs to: the subject token first, then referenced Message-IDs.
pub fn thread(mail: &Inbound, lookup: &impl Lookup) -> Threading {
    if let Some(id) = thread::token_in(&mail.subject).filter(|id| lookup.sr(*id).is_some()) {
        return Threading::Token(id);
    }
    for reference in mail.referenced_ids() {
        if let Some(id) = lookup.sr_of_message(reference) {
            return Threading::Reference(id, reference.to_string());
        }
    }
    Threading::New
}

/// The outcome of one inbound mail.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The SR after the mail.
    pub sr: Sr,
    /// True when the mail opened this SR.
    pub created: bool,
    /// Mail to send, in order.
    pub outgoing: Vec<OutMail>,
}

/// Decides what `mail` does. `existing` is the SR it threads to (None opens a new one).
pub fn decide(ctx: Ctx<'_>, mail: &Inbound, existing: Option<Sr>, new: &NewSr<'_>, now: Timestamp) -> Result<Decision, RenderError> {
    let cse = ctx.config.cse_by_email(&mail.from);
    match existing {
        None => open_sr(ctx, mail, new, now),
        Some(sr) if cse.is_some() => cse_reply(ctx, mail, sr, now),
        Some(sr) => customer_reply(ctx, mail, sr, now),
    }
}

fn inbound_record(mail: &Inbound, kind: MessageKind, now: Timestamp) -> MessageRecord {
    MessageRecord {
        direction: Direction::In,
        from: mail.from.clone(),
        to: mail.to.iter().chain(mail.cc.iter()).cloned().collect(),
        subject: mail.subject.clone(),
        message_id: mail.record_id(),
        kind,
        at: now,
        attachments: mail.attachments.iter().map(|a| a.name.clone()).collect(),
        text: mail.new_text.clone(),
    }
}

fn open_sr(ctx: Ctx<'_>, mail: &Inbound, new: &NewSr<'_>, now: Timestamp) -> Result<Decision, RenderError> {
    let t: Triage = triage::triage(ctx, mail, new, now);
    let first = inbound_record(mail, MessageKind::CustomerNew, now);
    let subject = thread::clean_subject(&mail.subject);
    let mut sr = lifecycle::open(new.id, first, mail.from_name.clone(), subject, t.assignee.clone(), now);
    sr.priority = t.priority;
    sr.language = t.language.clone();
    sr.detected_language = t.detected_language.clone();
    sr.product = t.product.clone();
    sr.account = t.account.clone();
    sr.tier = t.tier.clone();
    sr.tags = t.tags.clone();
    sr.after_hours = t.after_hours;
    sr.first_response_due = Some(t.first_response_due);
    sr.assign_at = t.assign_at;
    let customer_mid = mail.record_id();
    let attachments = mail.attachments.iter().map(|a| a.name.clone()).collect::<Vec<_>>();

    let mut out = Outgoing::new(ctx, sr, now);
    out.local_language_after_hours = t.local_language_after_hours;
    let csm = triage::csm_copy(ctx.config.account_of(&mail.from), t.priority);
    let ack = Draft::new(OutKind::Acknowledgement, vec![out.sr.customer.clone()])
        .cc(csm.into_iter().collect())
        .thread(Some(customer_mid.clone()), vec![customer_mid.clone()]);
    out.push(ack)?;
    if let Some(cse) = out.sr.assignee.clone() {
        let note = Draft::new(OutKind::CseNotification, vec![cse]).thread(Some(customer_mid.clone()), vec![customer_mid.clone()]).text(
            mail.new_text.clone(),
            attachments.clone(),
            mail.attachments.clone(),
        );
        out.push(note)?;
    }
    if let (true, Some(pager)) = (t.page_oncall, ctx.config.oncall_address.clone()) {
        let page = Draft::new(OutKind::Page, vec![pager]).thread(Some(customer_mid.clone()), vec![customer_mid]).text(
            mail.new_text.clone(),
            attachments,
            Vec::new(),
        );
        out.push(page)?;
    }
    Ok(Decision { created: true, sr: out.sr, outgoing: out.mails })
}

/// Scheduled work on one SR at `now`: deferred assignment when business hours
/// start, the first-response warning. `None` when nothing is due.
pub fn tick(ctx: Ctx<'_>, sr: Sr, loads: &HashMap<String, usize>, rr: u64, now: Timestamp) -> Result<Option<Decision>, RenderError> {
    if sr.next_wake().is_none_or(|t| t > now) {
        return Ok(None);
    }
    let mut out = Outgoing::new(ctx, sr, now);
    if out.sr.assignee.is_none() && out.sr.assign_at.is_some_and(|t| t <= now) {
        let language = out.sr.language.clone();
        if let Some(cse) = triage::least_loaded(&ctx.config.cses, out.sr.product.as_deref(), &language, loads, rr) {
            out.sr = lifecycle::assigned(out.sr.clone(), cse.clone(), now);
            let first = out.sr.messages.first().cloned();
            let (text, names, mid) = first.map(|m| (m.text, m.attachments, m.message_id)).unwrap_or_default();
            out.push(Draft::new(OutKind::CseNotification, vec![cse]).thread(Some(mid.clone()), vec![mid]).text(text, names, Vec::new()))?;
        }
    }
    let warn_due =
        out.sr.first_response_due.is_some_and(|t| t <= now) && out.sr.first_response_at.is_none() && !out.sr.first_response_warned;
    if warn_due {
        out.sr = lifecycle::first_response_warned(out.sr.clone(), now);
        let to: Vec<String> = out.sr.assignee.iter().chain(ctx.config.escalation_address.iter()).cloned().collect();
        if !to.is_empty() {
            out.push(Draft::new(OutKind::FirstResponseWarning, to))?;
        }
    }
    Ok(Some(Decision { created: false, sr: out.sr, outgoing: out.mails }))
}

fn cse_reply(ctx: Ctx<'_>, mail: &Inbound, sr: Sr, now: Timestamp) -> Result<Decision, RenderError> {
    let sr = lifecycle::cse_responded(sr, inbound_record(mail, MessageKind::CseReply, now), now);
    let parent = sr.last_customer_message_id().map(str::to_string);
    let references: Vec<String> = sr.first_message_id().into_iter().chain(parent.as_deref()).map(str::to_string).collect::<Vec<_>>();
    let references = dedup(references);
    let attachments = mail.attachments.iter().map(|a| a.name.clone()).collect();
    let customer = sr.customer.clone();
    let mut out = Outgoing::new(ctx, sr, now);
    out.from_name = ctx.config.cse_by_email(&mail.from).map(|c| match &ctx.config.support_name {
        Some(s) => format!("{} ({s})", c.name),
        None => c.name.clone(),
    });
    out.push(Draft::new(OutKind::Relay, vec![customer]).thread(parent, references).text(
        mail.new_text.clone(),
        attachments,
        mail.attachments.clone(),
    ))?;
    Ok(Decision { created: false, sr: out.sr, outgoing: out.mails })
}

fn customer_reply(ctx: Ctx<'_>, mail: &Inbound, sr: Sr, now: Timestamp) -> Result<Decision, RenderError> {
    let sr = lifecycle::customer_replied(sr, inbound_record(mail, MessageKind::CustomerReply, now), now);
    let last_to_cse = sr
        .messages
        .iter()
        .rev()
        .find(|m| matches!(m.kind, MessageKind::CseNotification | MessageKind::CustomerUpdate))
        .map(|m| m.message_id.clone());
    let references = dedup(sr.first_message_id().map(str::to_string).into_iter().chain(last_to_cse.clone()).collect());
    let attachments = mail.attachments.iter().map(|a| a.name.clone()).collect();
    let mut out = Outgoing::new(ctx, sr, now);
    if let Some(cse) = out.sr.assignee.clone() {
        out.push(Draft::new(OutKind::CustomerUpdate, vec![cse]).thread(last_to_cse, references).text(
            mail.new_text.clone(),
            attachments,
            mail.attachments.clone(),
        ))?;
    }
    Ok(Decision { created: false, sr: out.sr, outgoing: out.mails })
}

fn dedup(mut ids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    ids
}

/// One mail to build: kind, recipients, threading and the text it carries.
#[derive(Debug, Clone)]
struct Draft {
    kind: OutKind,
    to: Vec<String>,
    cc: Vec<String>,
    in_reply_to: Option<String>,
    references: Vec<String>,
    text: String,
    attachment_names: Vec<String>,
    attachments: Vec<crate::mail::Attachment>,
}

impl Draft {
    fn new(kind: OutKind, to: Vec<String>) -> Draft {
        Draft {
            kind,
            to,
            cc: Vec::new(),
            in_reply_to: None,
            references: Vec::new(),
            text: String::new(),
            attachment_names: Vec::new(),
            attachments: Vec::new(),
        }
    }

    fn cc(mut self, cc: Vec<String>) -> Draft {
        self.cc = cc;
        self
    }

    fn thread(mut self, in_reply_to: Option<String>, references: Vec<String>) -> Draft {
        self.in_reply_to = in_reply_to;
        self.references = references;
        self
    }

    fn text(mut self, text: String, names: Vec<String>, attachments: Vec<crate::mail::Attachment>) -> Draft {
        self.text = text;
        self.attachment_names = names;
        self.attachments = attachments;
        self
    }
}

/// Builds outgoing mails for one SR, recording each on it.
struct Outgoing<'a> {
    ctx: Ctx<'a>,
    sr: Sr,
    now: Timestamp,
    from_name: Option<String>,
    local_language_after_hours: bool,
    mails: Vec<OutMail>,
}

impl<'a> Outgoing<'a> {
    fn new(ctx: Ctx<'a>, sr: Sr, now: Timestamp) -> Self {
        let from_name = ctx.config.support_name.clone();
        Outgoing { ctx, sr, now, from_name, local_language_after_hours: false, mails: Vec::new() }
    }

    fn push(&mut self, d: Draft) -> Result<(), RenderError> {
        let mut context = mail_context(self.ctx, &self.sr, d.text, d.attachment_names, self.now);
        context.local_language_after_hours = self.local_language_after_hours;
        let body = self.ctx.templates.render(&self.sr.language, d.kind.template(), &context)?;
        let message_id = message_id(self.ctx, self.sr.id, self.sr.messages.len());
        let subject = match d.kind {
            OutKind::Page => format!("P1 page: {} {}", self.sr.token(), self.sr.subject),
            OutKind::FirstResponseWarning => format!("First response overdue: {} {}", self.sr.token(), self.sr.subject),
            _ => format!("{} {}", self.sr.token(), self.sr.subject),
        };
        let record = MessageRecord {
            direction: Direction::Out,
            from: self.ctx.config.support_address.clone(),
            to: d.to.iter().chain(d.cc.iter()).cloned().collect(),
            subject: subject.clone(),
            message_id: message_id.clone(),
            kind: record_kind(d.kind),
            at: self.now,
            attachments: d.attachments.iter().map(|a| a.name.clone()).collect(),
            text: body.clone(),
        };
        self.sr = lifecycle::sent(self.sr.clone(), record, self.now);
        self.mails.push(OutMail {
            kind: d.kind,
            sr: self.sr.id,
            from_name: self.from_name.clone(),
            from: self.ctx.config.support_address.clone(),
            to: d.to,
            cc: d.cc,
            subject,
            message_id,
            in_reply_to: d.in_reply_to,
            references: d.references,
            body,
            attachments: d.attachments,
            auto_submitted: match d.kind {
                OutKind::Acknowledgement => Some("auto-replied"),
                OutKind::Page | OutKind::FirstResponseWarning => Some("auto-generated"),
                _ => None,
            },
            date: self.now,
        });
        Ok(())
    }
}

fn record_kind(kind: OutKind) -> MessageKind {
    match kind {
        OutKind::Acknowledgement => MessageKind::Acknowledgement,
        OutKind::CseNotification => MessageKind::CseNotification,
        OutKind::Relay => MessageKind::Relay,
        OutKind::CustomerUpdate => MessageKind::CustomerUpdate,
        OutKind::Page => MessageKind::Page,
        OutKind::FirstResponseWarning => MessageKind::FirstResponseWarning,
    }
}

/// A Message-ID for the `seq`-th message of SR `id`: unique per store, and the
/// same if the same mail is decided again (which keeps re-reads harmless).
pub fn message_id(ctx: Ctx<'_>, id: u64, seq: usize) -> String {
    let domain = ctx.config.support_address.rsplit('@').next().unwrap_or("srgate.invalid");
    format!("sr{id}.{seq}.{}@{domain}", ctx.instance)
}

fn mail_context(ctx: Ctx<'_>, sr: &Sr, text: String, attachments: Vec<String>, now: Timestamp) -> MailContext {
    let cse = sr.assignee.as_deref().and_then(|a| ctx.config.cse_by_email(a));
    let customer_tz = ctx.config.account_of(&sr.customer).and_then(|a| a.timezone.clone());
    let next_start = ctx.policy.next_business_start(now);
    let next_business_start = match &customer_tz {
        Some(tz) => ctx.policy.local_display_in(next_start, tz),
        None => ctx.policy.local_display(next_start),
    };
    MailContext {
        sr: SrFacts {
            id: sr.id,
            token: sr::token(sr.id),
            subject: sr.subject.clone(),
            priority: format!("{:?}", sr.priority),
            state: sr.state.as_str().into(),
            language: sr.language.clone(),
        },
        customer_name: sr.customer_name.clone().unwrap_or_else(|| sr.customer.clone()),
        customer: sr.customer.clone(),
        cse_name: cse.map(|c| c.name.clone()).unwrap_or_default(),
        cse_email: cse.map(|c| c.email.clone()).unwrap_or_default(),
        support_name: ctx.config.support_name.clone().unwrap_or_else(|| "Support".into()),
        support_address: ctx.config.support_address.clone(),
        text,
        attachments,
        after_hours: sr.after_hours,
        next_business_start,
        local_language_after_hours: false,
        detected_language_name: language_name(sr.detected_language.as_deref()).into(),
        related: sr.related.iter().map(|id| sr::token(*id)).collect(),
        account: sr.account.clone().unwrap_or_default(),
        tier: sr.tier.clone().unwrap_or_default(),
        first_response_due: sr.first_response_due.map(|t| ctx.policy.local_display(t)).unwrap_or_default(),
    }
}

/// The English name of a language code, for templates.
pub fn language_name(code: Option<&str>) -> &'static str {
    match code {
        Some("en") => "English",
        Some("fr") => "French",
        Some("de") => "German",
        Some("it") => "Italian",
        Some("es") => "Spanish",
        _ => "your language",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    struct Mem {
        srs: HashMap<u64, Sr>,
        ids: HashMap<String, u64>,
    }

    impl Lookup for Mem {
        fn sr(&self, id: u64) -> Option<Sr> {
            self.srs.get(&id).cloned()
        }
        fn sr_of_message(&self, message_id: &str) -> Option<u64> {
            self.ids.get(message_id).copied()
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

    #[test]
    fn the_whole_path() {
        let (config, templates) = (config(), templates());
        let rules =
            crate::rules::RuleSet::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"), &crate::setup::roster_view(&config))
                .expect("rules");
        let policy = crate::policy::Policy::standard();
        let ctx = Ctx { config: &config, templates: &templates, rules: &rules, policy: &policy, instance: "t1" };
        let loads = HashMap::new();
        let new = |id| NewSr { id, mailbox: "support", loads: &loads, rr: 1 };
        let mut mem = Mem { srs: HashMap::new(), ids: HashMap::new() };

        let first = parse("From: Jane <jane@example.com>\r\nSubject: Printer on fire\r\nMessage-ID: <m1@example.com>\r\n\r\nHelp!\r\n");
        assert_eq!(thread(&first, &mem), Threading::New);
        let d = decide(ctx, &first, None, &new(100_001), at("2026-03-03T10:00:00Z")).expect("decide");
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
        assert_eq!(thread(&answer, &mem), Threading::Reference(100_001, note.message_id.clone()));
        let d = decide(ctx, &answer, mem.sr(100_001), &new(0), at("2026-03-03T11:00:00Z")).expect("decide");
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
        assert_eq!(thread(&reply, &mem), Threading::Token(100_001));
        let d = decide(ctx, &reply, mem.sr(100_001), &new(0), at("2026-03-04T09:00:00Z")).expect("decide");
        assert_eq!((d.sr.state, d.sr.contact_attempts), (sr::State::Open, 0));
        assert_eq!(d.outgoing[0].to, vec!["bob@example.test"]);
        assert_eq!(d.outgoing[0].kind, OutKind::CustomerUpdate);
    }

    #[test]
    fn unknown_token_opens_a_new_sr() {
        let mem = Mem { srs: HashMap::new(), ids: HashMap::new() };
        let m = parse("From: a@example.com\r\nSubject: [SR#999999] hi\r\n\r\nx");
        assert_eq!(thread(&m, &mem), Threading::New);
    }
}
