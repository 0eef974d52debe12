//! Each engineer's queue, by mail: the answer to a CSE's `#queue`, and the daily
//! digests (each CSE's open SRs, the team's summary to `escalation_address`).
//!
//! These mails belong to no SR (`sr` = 0 in the outbox, like the administrator's
//! notices): they are built here from SR facts and rendered from the desk templates
//! ([`crate::template::DESK`]), in English (they go to staff). Their Message-IDs
//! are made from what they answer (the CSE's mail, the day), so a mail decided
//! again after a crash makes the same mail.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use super::Ctx;
use super::shortlist::Shortlist;
use crate::config::Cse;
use crate::mail::inbound::{Inbound, hex};
use crate::mail::outbound::{OutKind, OutMail};
use crate::sr::command::HELP;
use crate::sr::{Priority, Sr, State, lifecycle};
use crate::template::{DeskContext, QueueEntry, RenderError, StateCount};

/// How many of the oldest open SRs the team digest lists.
const OLDEST: usize = 5;
/// How far back the team digest looks for the previous business day.
const LOOK_BACK_DAYS: usize = 14;

/// "3d 4h", "5h 12m", "25m".
fn age(d: SignedDuration) -> String {
    let minutes = d.as_secs().max(0) / 60;
    let (days, hours, minutes) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m"),
        (0, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

/// True when the first-response target of `sr` was missed (the response came late,
/// or none came and the target is past).
fn missed(sr: &Sr, now: Timestamp) -> bool {
    match (sr.first_response_due, sr.first_response_at) {
        (Some(due), Some(at)) => at > due,
        (Some(due), None) => now > due,
        _ => false,
    }
}

/// What happens next to `sr` and when, in words (empty when it waits on us).
fn next(ctx: Ctx<'_>, sr: &Sr) -> String {
    let show = |t: Timestamp| ctx.policy.local_display(t);
    match sr.state {
        State::OnHold => sr.on_hold_until.map(|t| format!("hold ends {}", show(t))).unwrap_or_default(),
        State::AwaitingCustomer => match (lifecycle::next_attempt_due(sr, ctx.policy), lifecycle::closure_due(sr, ctx.policy)) {
            (Some(t), _) => format!("contact attempt {} {}", sr.contact_attempts + 1, show(t)),
            (None, Some(t)) => format!("closes for no response {}", show(t)),
            _ => String::new(),
        },
        _ => match sr.assign_at.filter(|_| sr.assignee.is_none()) {
            Some(t) => format!("assigned when business hours start, {}", show(t)),
            None => String::new(),
        },
    }
}

/// One SR as the queue and the digests show it.
pub fn entry(ctx: Ctx<'_>, sr: &Sr, now: Timestamp) -> QueueEntry {
    let assignee = sr.assignee.as_deref().map(|a| ctx.config.cse_by_email(a).map_or(a.to_string(), |c| c.name.clone()));
    QueueEntry {
        token: sr.token(),
        priority: format!("{:?}", sr.priority),
        state: sr.state.as_str().into(),
        customer: sr.customer.clone(),
        subject: sr.subject.clone(),
        assignee: assignee.unwrap_or_default(),
        age: age(sr.created_at.duration_until(now)),
        next: next(ctx, sr),
        first_response_due: sr.first_response_due.map(|t| ctx.policy.local_display(t)).unwrap_or_default(),
        first_response_missed: missed(sr, now),
    }
}

/// The order of a CSE's list: by priority, oldest first within one.
pub type Urgency = (Priority, Timestamp, u64);

/// Where `sr` comes in a CSE's list.
pub fn urgency(sr: &Sr) -> Urgency {
    (sr.priority, sr.created_at, sr.id)
}

/// The order of the team's lists: oldest first.
type Seniority = (Timestamp, u64);

fn seniority(sr: &Sr) -> Seniority {
    (sr.created_at, sr.id)
}

/// The entries of a shortlist, in its order.
fn entries<K: Ord>(ctx: Ctx<'_>, list: Shortlist<K, Sr>, now: Timestamp) -> Vec<QueueEntry> {
    list.into_sorted().iter().map(|s| entry(ctx, s, now)).collect()
}

/// "Tuesday 3 March 2026".
fn day_name(day: Date) -> String {
    jiff::fmt::strtime::format("%A %-d %B %Y", day).unwrap_or_else(|_| day.to_string())
}

/// The desk context every desk mail starts from.
fn desk(ctx: Ctx<'_>, day: Date) -> DeskContext {
    DeskContext {
        support_name: ctx.config.support_name.clone().unwrap_or_else(|| "Support".into()),
        support_address: ctx.config.support_address.clone(),
        date: day_name(day),
        ..DeskContext::default()
    }
}

/// A rendered desk mail of no SR.
struct DeskMail<'a> {
    kind: OutKind,
    /// The desk template ([`crate::template::DESK`]) it is rendered from.
    template: &'static str,
    to: String,
    subject: String,
    message_id: String,
    in_reply_to: Option<String>,
    context: &'a DeskContext,
}

fn render(ctx: Ctx<'_>, m: DeskMail<'_>, now: Timestamp) -> Result<OutMail, RenderError> {
    let body = ctx.templates.render_desk(m.template, m.context)?;
    Ok(OutMail {
        kind: m.kind,
        sr: 0,
        from_name: ctx.config.support_name.clone(),
        from: ctx.config.support_address.clone(),
        to: vec![m.to],
        cc: Vec::new(),
        subject: m.subject,
        message_id: m.message_id,
        references: m.in_reply_to.iter().cloned().collect(),
        in_reply_to: m.in_reply_to,
        body,
        attachments: Vec::new(),
        auto_submitted: Some(if m.kind == OutKind::Digest || m.kind == OutKind::TeamDigest { "auto-generated" } else { "auto-replied" }),
        date: now,
    })
}

/// A Message-ID for a desk mail: `what.key.instance@domain`.
fn desk_id(ctx: Ctx<'_>, what: &str, key: &str) -> String {
    let domain = ctx.config.support_address.rsplit('@').next().unwrap_or("srgate.invalid");
    format!("{what}.{key}.{}@{domain}", ctx.instance)
}

/// The answer to a CSE's `#queue`: their open SRs (`mine`, by [`urgency`]; the first
/// `digest_limit` listed, all counted).
pub(super) fn answer(
    ctx: Ctx<'_>,
    cse: &Cse,
    mine: Shortlist<Urgency, Sr>,
    mail: &Inbound,
    now: Timestamp,
) -> Result<OutMail, RenderError> {
    let mut context = desk(ctx, ctx.policy.local_date(now));
    context.cse_name = cse.name.clone();
    context.cse_email = cse.email.clone();
    context.srs_total = mine.total();
    context.srs = entries(ctx, mine, now);
    let subject = format!("Your queue: {} open SR(s)", context.srs_total);
    let id = desk_id(ctx, "queue", &hex(&mail.fingerprint[..8]));
    render(
        ctx,
        DeskMail {
            kind: OutKind::Queue,
            template: "queue",
            to: mail.from.clone(),
            subject,
            message_id: id,
            in_reply_to: mail.message_id.clone(),
            context: &context,
        },
        now,
    )
}

/// The answer to a `#new` or `#queue` that cannot be done: the problems, and the commands.
pub(super) fn refusal(ctx: Ctx<'_>, mail: &Inbound, errors: Vec<String>, now: Timestamp) -> Result<OutMail, RenderError> {
    let mut context = desk(ctx, ctx.policy.local_date(now));
    context.cse_email = mail.from.clone();
    context.cse_name = ctx.config.cse_by_email(&mail.from).map(|c| c.name.clone()).unwrap_or_default();
    context.subject = mail.subject.clone();
    context.errors = errors;
    context.commands_help = HELP.into();
    let subject = format!("Not done: {}", mail.subject);
    let id = desk_id(ctx, "refused", &hex(&mail.fingerprint[..8]));
    render(
        ctx,
        DeskMail {
            kind: OutKind::CommandError,
            template: "desk_error",
            to: mail.from.clone(),
            subject,
            message_id: id,
            in_reply_to: mail.message_id.clone(),
            context: &context,
        },
        now,
    )
}

/// The day whose digests are due at `now`, if any: digests are on (`digest`), the day
/// (policy time zone) is a business day, it is at or after `digest_at` (else the
/// opening of business hours), and `last` (the last day sent) is an earlier day.
pub fn digest_due(ctx: Ctx<'_>, last: Option<Date>, now: Timestamp) -> Option<Date> {
    if !ctx.config.digest {
        return None;
    }
    let today = ctx.policy.local_date(now);
    let opening = ctx.policy.opening_on(today)?;
    let at = ctx.config.digest_at.map_or(opening, |t| ctx.policy.local_instant(today, t));
    (now >= at && last.is_none_or(|l| l < today)).then_some(today)
}

/// What the daily digests show of the SRs not closed, gathered one SR at a time (a desk
/// may have a million): for each roster CSE the most urgent `digest_limit` of theirs and
/// how many they have; for the team the counts by state and priority and its lists, each
/// at most `digest_limit` long (the oldest: five).
#[derive(Debug)]
pub struct DigestTally {
    /// By roster CSE address, lowercase.
    mine: HashMap<String, Shortlist<Urgency, Sr>>,
    /// Counts by state (New, Open, AwaitingCustomer, OnHold) and priority (P1..P4).
    by_state: [[u64; 4]; 4],
    missed: Shortlist<Seniority, Sr>,
    oldest: Shortlist<Seniority, Sr>,
    unassigned: Shortlist<Seniority, Sr>,
    /// Targets due in `[since, today)` that were missed count as the previous business day's.
    since: Timestamp,
    today: Timestamp,
    now: Timestamp,
}

/// The states the team summary counts, in its order.
const COUNTED: [State; 4] = [State::New, State::Open, State::AwaitingCustomer, State::OnHold];

impl DigestTally {
    /// An empty tally for the digests of `day`, made at `now`.
    pub fn new(ctx: Ctx<'_>, day: Date, now: Timestamp) -> Self {
        let limit = ctx.config.digest_limit;
        let today = ctx.policy.local_instant(day, jiff::civil::Time::midnight());
        DigestTally {
            mine: ctx.config.cses.iter().map(|c| (c.email.to_ascii_lowercase(), Shortlist::new(limit))).collect(),
            by_state: [[0; 4]; 4],
            missed: Shortlist::new(limit),
            oldest: Shortlist::new(OLDEST),
            unassigned: Shortlist::new(limit),
            since: previous_business_day_start(ctx, day).unwrap_or(today),
            today,
            now,
        }
    }

    /// Counts `sr` (closed SRs are not counted).
    pub fn add(&mut self, sr: &Sr) {
        let Some(state) = COUNTED.iter().position(|s| *s == sr.state) else { return };
        self.by_state[state][sr.priority as usize] += 1;
        match sr.assignee.as_deref() {
            Some(a) => {
                if let Some(list) = self.mine.get_mut(&a.to_ascii_lowercase()) {
                    list.offer(urgency(sr), sr);
                }
            }
            None => self.unassigned.offer(seniority(sr), sr),
        }
        self.oldest.offer(seniority(sr), sr);
        if sr.first_response_due.is_some_and(|d| self.since <= d && d < self.today) && missed(sr, self.now) {
            self.missed.offer(seniority(sr), sr);
        }
    }
}

/// The digests of `day` from the tally of every SR not closed: each roster CSE with open
/// SRs gets them by priority; `escalation_address` gets the team's summary. Message-IDs
/// are the day's, so a pass made again makes the same mails.
pub fn digests(ctx: Ctx<'_>, mut tally: DigestTally, day: Date, now: Timestamp) -> Result<Vec<OutMail>, RenderError> {
    let mut out = Vec::new();
    let date = day.to_string();
    for cse in &ctx.config.cses {
        let Some(mine) = tally.mine.remove(&cse.email.to_ascii_lowercase()).filter(|m| m.total() > 0) else { continue };
        let mut context = desk(ctx, day);
        context.cse_name = cse.name.clone();
        context.cse_email = cse.email.clone();
        context.srs_total = mine.total();
        context.srs = entries(ctx, mine, now);
        let subject = format!("Your open SRs on {} ({})", context.date, context.srs_total);
        let id = desk_id(ctx, "digest", &format!("{date}.{}", hex(&sha_prefix(&cse.email))));
        out.push(render(
            ctx,
            DeskMail {
                kind: OutKind::Digest,
                template: "digest",
                to: cse.email.clone(),
                subject,
                message_id: id,
                in_reply_to: None,
                context: &context,
            },
            now,
        )?);
    }
    if let Some(team) = &ctx.config.escalation_address {
        let context = team_summary(ctx, tally, day, now);
        let subject = format!("Support desk summary for {}: {} open SR(s)", context.date, context.open_total);
        let id = desk_id(ctx, "team", &date);
        out.push(render(
            ctx,
            DeskMail {
                kind: OutKind::TeamDigest,
                template: "team_digest",
                to: team.clone(),
                subject,
                message_id: id,
                in_reply_to: None,
                context: &context,
            },
            now,
        )?);
    }
    Ok(out)
}

/// The first bytes of an address's SHA-256: a Message-ID part that reveals nothing.
fn sha_prefix(address: &str) -> [u8; 6] {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(address.to_ascii_lowercase().as_bytes());
    let mut out = [0u8; 6];
    out.copy_from_slice(&digest[..6]);
    out
}

/// The start of the business day before `day` (midnight, policy time zone), within two weeks.
fn previous_business_day_start(ctx: Ctx<'_>, day: Date) -> Option<Timestamp> {
    let mut d = day;
    for _ in 0..LOOK_BACK_DAYS {
        d = d.yesterday().ok()?;
        if ctx.policy.is_business_day(d) {
            return Some(ctx.policy.local_instant(d, jiff::civil::Time::midnight()));
        }
    }
    None
}

/// The team's summary: SRs by state and priority, targets missed since the previous
/// business day began, the oldest open SRs, the unassigned ones.
fn team_summary(ctx: Ctx<'_>, tally: DigestTally, day: Date, now: Timestamp) -> DeskContext {
    let mut context = desk(ctx, day);
    for (state, [p1, p2, p3, p4]) in COUNTED.iter().zip(tally.by_state) {
        let total = p1 + p2 + p3 + p4;
        if total > 0 {
            context.by_state.push(StateCount { state: state.as_str().into(), p1, p2, p3, p4, total });
        }
        context.open_total += total;
    }
    context.missed_total = tally.missed.total();
    context.missed = entries(ctx, tally.missed, now);
    context.oldest = entries(ctx, tally.oldest, now);
    context.unassigned_total = tally.unassigned.total();
    context.unassigned = entries(ctx, tally.unassigned, now);
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_people_say_them() {
        assert_eq!(age(SignedDuration::from_mins(25)), "25m");
        assert_eq!(age(SignedDuration::from_mins(5 * 60 + 12)), "5h 12m");
        assert_eq!(age(SignedDuration::from_hours(76)), "3d 4h");
        assert_eq!(age(SignedDuration::from_mins(-3)), "0m");
    }
}

#[cfg(test)]
mod digest_tests {
    use super::*;
    use crate::gateway::Outcome;
    use crate::gateway::intake::tests::{Desk, at, mail};

    /// SRs of Ann and Bob opened by customers at `opened`, answered or not.
    fn desk_with_srs(opened: &str) -> Desk {
        let mut desk = Desk::standard();
        let loads = std::collections::HashMap::new();
        for (i, (who, subject, body)) in [
            ("a@client.example", "Printer", "The printer prints blank pages."),
            ("b@client.example", "Production down", "Production is down since this morning."),
            ("c@client.example", "Question", "How do I export my data?"),
        ]
        .into_iter()
        .enumerate()
        {
            let new = crate::gateway::NewSr { id: 100_001 + i as u64, mailbox: "support", loads: &loads, rr: i as u64 };
            let Outcome::Apply(d) =
                crate::gateway::decide(desk.ctx(), &mail(who, subject, body, false), None, &new, &desk, at(opened)).expect("decided")
            else {
                panic!("opened")
            };
            desk.srs.push(d.sr);
        }
        desk
    }

    #[test]
    fn queue_lists_the_cses_open_srs_by_priority() {
        let desk = desk_with_srs("2026-03-03T10:00:00Z");
        let ann = desk.srs.iter().filter(|s| s.assignee.as_deref() == Some("ann@example.test")).count();
        assert!(ann > 0, "Ann has SRs: {:?}", desk.srs.iter().map(|s| &s.assignee).collect::<Vec<_>>());
        for (subject, body) in [("anything", "#queue"), ("Queue", "")] {
            let Outcome::Answer { mails } = crate::gateway::decide(
                desk.ctx(),
                &mail("ann@example.test", subject, body, true),
                None,
                &crate::gateway::NewSr { id: 100_010, mailbox: "support", loads: &Default::default(), rr: 0 },
                &desk,
                at("2026-03-04T15:00:00Z"),
            )
            .expect("decided") else {
                panic!("answered")
            };
            let q = &mails[0];
            assert_eq!((q.kind, q.sr, q.to.clone()), (OutKind::Queue, 0, vec!["ann@example.test".to_string()]));
            assert!(q.subject.contains(&format!("{ann} open SR")), "{}", q.subject);
            for s in desk.srs.iter().filter(|s| s.assignee.as_deref() == Some("ann@example.test")) {
                assert!(q.body.contains(&s.token()) && q.body.contains(&s.customer) && q.body.contains(&s.subject), "{}", q.body);
            }
            assert!(q.body.contains("first response:") && q.body.contains("MISSED"), "a day later the targets are missed: {}", q.body);
        }
        let mut all = Shortlist::new(10);
        desk.srs.iter().for_each(|s| all.offer(urgency(s), s));
        assert_eq!(all.into_sorted()[0].priority, Priority::P1, "by priority");
    }

    #[test]
    fn digests_are_due_once_on_business_mornings() {
        let mut desk = Desk::standard();
        let ctx = desk.ctx();
        // Wednesday 4 March 2026: 08:59 CET no, 09:00 yes, not again once sent.
        assert_eq!(digest_due(ctx, None, at("2026-03-04T07:59:00Z")), None);
        let wednesday = Date::constant(2026, 3, 4);
        assert_eq!(digest_due(ctx, None, at("2026-03-04T08:00:00Z")), Some(wednesday));
        assert_eq!(digest_due(ctx, Some(Date::constant(2026, 3, 3)), at("2026-03-04T16:00:00Z")), Some(wednesday));
        assert_eq!(digest_due(ctx, Some(wednesday), at("2026-03-04T16:00:00Z")), None);
        // Saturday, and Christmas (a Friday in 2026): nothing.
        assert_eq!(digest_due(ctx, None, at("2026-03-07T10:00:00Z")), None);
        assert_eq!(digest_due(ctx, None, at("2026-12-25T10:00:00Z")), None);
        desk.config.digest_at = Some(jiff::civil::Time::constant(10, 30, 0, 0));
        assert_eq!(digest_due(desk.ctx(), None, at("2026-03-04T09:00:00Z")), None);
        assert_eq!(digest_due(desk.ctx(), None, at("2026-03-04T09:30:00Z")), Some(wednesday));
        desk.config.digest = false;
        assert_eq!(digest_due(desk.ctx(), None, at("2026-03-04T09:30:00Z")), None);
    }

    #[test]
    fn each_cse_gets_their_list_and_the_team_its_summary() {
        let desk = desk_with_srs("2026-03-03T10:00:00Z");
        let now = at("2026-03-04T08:00:00Z");
        let mails = digests(desk.ctx(), tally(&desk, now), Date::constant(2026, 3, 4), now).expect("rendered");
        let cses: std::collections::BTreeSet<&str> = desk.srs.iter().filter_map(|s| s.assignee.as_deref()).collect();
        assert_eq!(mails.iter().filter(|m| m.kind == OutKind::Digest).count(), cses.len());
        for m in mails.iter().filter(|m| m.kind == OutKind::Digest) {
            let mine = desk.srs.iter().filter(|s| s.assignee.as_deref() == Some(m.to[0].as_str()));
            for s in mine {
                assert!(m.body.contains(&s.token()), "{}", m.body);
            }
        }
        let team = mails.iter().find(|m| m.kind == OutKind::TeamDigest).expect("the team summary");
        assert_eq!((team.to.clone(), team.sr), (vec!["boss@example.test".to_string()], 0));
        assert!(team.body.contains("3 SR(s) not closed") && team.body.contains("new: 3"), "{}", team.body);
        // The P1 (due 1 h after Tuesday 11:00) was missed yesterday.
        let p1 = desk.srs.iter().find(|s| s.priority == Priority::P1).expect("a P1");
        let missed = team.body.split("First-response targets missed").nth(1).and_then(|t| t.split("Oldest").next()).unwrap_or_default();
        assert!(missed.contains(&p1.token()), "{}", team.body);
        let again = digests(desk.ctx(), tally(&desk, now), Date::constant(2026, 3, 4), now).expect("rendered");
        assert_eq!(
            mails.iter().map(|m| &m.message_id).collect::<Vec<_>>(),
            again.iter().map(|m| &m.message_id).collect::<Vec<_>>(),
            "the same day makes the same mails"
        );
    }

    /// Every SR of `desk`, tallied for Wednesday 4 March 2026's digests.
    fn tally(desk: &Desk, now: Timestamp) -> DigestTally {
        let mut tally = DigestTally::new(desk.ctx(), Date::constant(2026, 3, 4), now);
        desk.srs.iter().for_each(|s| tally.add(s));
        tally
    }

    /// The tokens listed in a desk mail, in order.
    fn tokens(body: &str) -> Vec<&str> {
        body.lines().filter_map(|l| l.trim_start().strip_prefix("[SR#")?.split(']').next()).collect()
    }

    #[test]
    fn long_lists_show_the_most_urgent_and_count_the_rest() {
        let mut desk = desk_with_srs("2026-03-03T10:00:00Z");
        let model = desk.srs[0].clone();
        // Ann gets 40 more SRs of every priority, opened one minute apart; 20 more are unassigned.
        for i in 0..60u64 {
            let mut sr = model.clone();
            sr.id = 200_000 + i;
            sr.priority = [Priority::P4, Priority::P3, Priority::P2, Priority::P1][i as usize % 4];
            sr.created_at = at("2026-03-02T10:00:00Z") + SignedDuration::from_mins(i as i64);
            sr.assignee = (i < 40).then(|| "ann@example.test".to_string());
            desk.srs.push(sr);
        }
        desk.config.digest_limit = 3;
        let now = at("2026-03-04T08:00:00Z");
        let ann_total = desk.srs.iter().filter(|s| s.assignee.as_deref() == Some("ann@example.test")).count();
        let unassigned_total = desk.srs.iter().filter(|s| s.assignee.is_none()).count();
        let mails = digests(desk.ctx(), tally(&desk, now), Date::constant(2026, 3, 4), now).expect("rendered");
        let ann = mails.iter().find(|m| m.to == ["ann@example.test"]).expect("Ann's digest");
        // The three most urgent: the P1s, oldest first (200003, 200007, 200011).
        assert_eq!(tokens(&ann.body), ["200003", "200007", "200011"], "{}", ann.body);
        assert!(ann.subject.contains(&format!("({ann_total})")), "{}", ann.subject);
        assert!(ann.body.contains(&format!("({ann_total}), by priority")) && ann.body.contains("the 3 most urgent"), "{}", ann.body);
        assert!(ann.body.contains(&format!("... and {} more, not listed here.", ann_total - 3)), "{}", ann.body);
        let team = mails.iter().find(|m| m.kind == OutKind::TeamDigest).expect("the team summary");
        let unassigned = team.body.split("Unassigned SRs").nth(1).unwrap_or_default();
        assert!(unassigned.starts_with(&format!(" ({unassigned_total}; the 3 oldest):")), "{}", team.body);
        assert_eq!(tokens(unassigned), ["200040", "200041", "200042"], "{}", team.body);
        assert!(team.body.contains(&format!("{} SR(s) not closed", desk.srs.len())), "{}", team.body);
        // #queue lists the same three and counts the rest.
        let Outcome::Answer { mails } = crate::gateway::decide(
            desk.ctx(),
            &mail("ann@example.test", "queue", "", true),
            None,
            &crate::gateway::NewSr { id: 300_000, mailbox: "support", loads: &Default::default(), rr: 0 },
            &desk,
            now,
        )
        .expect("decided") else {
            panic!("answered")
        };
        assert_eq!(tokens(&mails[0].body), ["200003", "200007", "200011"], "{}", mails[0].body);
        assert!(mails[0].subject.contains(&format!("{ann_total} open SR")), "{}", mails[0].subject);
        // A short list says nothing of more.
        desk.config.digest_limit = 100;
        let mails = digests(desk.ctx(), tally(&desk, now), Date::constant(2026, 3, 4), now).expect("rendered");
        assert!(mails.iter().all(|m| !m.body.contains("more, not listed") && !m.body.contains("oldest)")), "{mails:?}");
    }
}
