//! Triage of a new mail: rules, language, account, business hours, assignee.
//!
//! Pure: the same function decides a real SR and answers `srgate rules explain`.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::config::{Account, Cse};
use crate::gateway::{Ctx, NewSr};
use crate::mail::inbound::Inbound;
use crate::rules::{Assignment, Facts, Matched};
use crate::sr::Priority;

/// Languages handled locally (best effort, business hours only); English is primary.
pub const LOCAL_LANGUAGES: &[&str] = &["fr", "it", "de", "es"];

/// How a new SR is to be handled.
#[derive(Debug, Clone, Serialize)]
pub struct Triage {
    /// Priority (rules, else P3).
    pub priority: Priority,
    /// Handling language.
    pub language: String,
    /// Language detected in the customer's text.
    pub detected_language: Option<String>,
    /// Product, from the rules.
    pub product: Option<String>,
    /// The customer's account.
    pub account: Option<String>,
    /// The account's tier.
    pub tier: Option<String>,
    /// Tags from the rules.
    pub tags: Vec<String>,
    /// Who gets it now (None: after hours, assigned when business hours start).
    pub assignee: Option<String>,
    /// Why that assignee (or none).
    pub assignment: String,
    /// True when the mail arrived outside business hours.
    pub after_hours: bool,
    /// When the SR is to be assigned, when it waits for business hours.
    pub assign_at: Option<Timestamp>,
    /// When the first response is due.
    pub first_response_due: Timestamp,
    /// Every rule that matched, with file, line and reasons.
    pub matched_rules: Vec<Matched>,
    /// True when the P1 goes to the on-call engineer and is paged.
    pub page_oncall: bool,
    /// True when the customer wrote in a local language but it is handled in English (after hours).
    pub local_language_after_hours: bool,
    /// The support address the customer wrote to (see [`crate::config::Config::written_to`]):
    /// the SR's mail comes from it, and its `product` and `language` are defaults.
    pub support_address: String,
}

/// Triage of `mail` arriving at `now`; `new` gives the mailbox, each CSE's open-SR count and the round-robin turn.
pub fn triage(ctx: Ctx<'_>, mail: &Inbound, new: &NewSr<'_>, now: Timestamp) -> Triage {
    let (config, rules, policy) = (ctx.config, ctx.rules, ctx.policy);
    let (mailbox, loads, rr) = (new.mailbox, new.loads, new.rr);
    let account = config.account_of(&mail.from);
    let detected = mail.detected_language.clone();
    let business_hours = policy.is_business_time(now);
    let support_address = config.written_to(&mail.to, &mail.cc, &mail.delivered_to);
    let defaults = config.address_entry(support_address);
    let facts = Facts {
        subject: &mail.subject,
        text: &mail.new_text,
        sender: &mail.from,
        headers: &mail.headers,
        detected_language: detected.as_deref(),
        account: account.map(|a| a.name.as_str()),
        tier: account.map(|a| a.tier.as_str()),
        mailbox,
        address: support_address,
        business_hours,
    };
    let verdict = rules.evaluate(&facts);
    let priority = verdict.priority_or_default();
    // Rules first, then the text, then the address the customer wrote to.
    let candidate = verdict.language.clone().or_else(|| detected.clone()).or_else(|| defaults.and_then(|d| d.language.clone()));
    let language = handling_language(&config.cses, candidate.as_deref(), business_hours);
    let local_language_after_hours = !business_hours && detected.as_deref().is_some_and(|d| LOCAL_LANGUAGES.contains(&d));
    let product = verdict.product.clone().or_else(|| defaults.and_then(|d| d.product.clone()));
    let (assignee, assignment, page_oncall) = if !business_hours && priority == Priority::P1 {
        let oncall = config.cses.iter().find(|c| c.on_call).or_else(|| config.cses.first());
        (oncall.map(|c| c.email.clone()), "after-hours P1: the on-call engineer".to_string(), true)
    } else if !business_hours {
        (None, "after hours: assigned when business hours start".to_string(), false)
    } else {
        match &verdict.assign {
            Some(Assignment::Cse { email, .. }) => (Some(email.clone()), "named by a rule".to_string(), false),
            Some(Assignment::Pool { pool }) => (
                least_loaded(&config.cses, Some(pool), &language, loads, rr),
                format!("least loaded in pool `{pool}` speaking {language}"),
                false,
            ),
            None => (
                least_loaded(&config.cses, product.as_deref(), &language, loads, rr),
                "least loaded matching product and language".to_string(),
                false,
            ),
        }
    };
    Triage {
        priority,
        language,
        detected_language: detected,
        product,
        account: account.map(|a| a.name.clone()),
        tier: account.map(|a| a.tier.as_str().to_string()),
        tags: verdict.tags.clone(),
        assign_at: (assignee.is_none() && !business_hours).then(|| policy.next_business_start(now)),
        assignee,
        assignment,
        after_hours: !business_hours,
        first_response_due: policy.first_response_due(priority, now),
        matched_rules: verdict.matched,
        page_oncall,
        local_language_after_hours,
        support_address: support_address.to_string(),
    }
}

/// The handling language: a local language only inside business hours and when a CSE speaks it.
pub fn handling_language(roster: &[Cse], candidate: Option<&str>, business_hours: bool) -> String {
    match candidate {
        Some(l) if business_hours && LOCAL_LANGUAGES.contains(&l) && roster.iter().any(|c| c.speaks(l)) => l.to_string(),
        _ => "en".to_string(),
    }
}

/// The least-loaded CSE who handles `product` and speaks `language` (widening
/// to language only, product only, then everyone); ties go round-robin.
pub fn least_loaded(roster: &[Cse], product: Option<&str>, language: &str, loads: &HashMap<String, usize>, rr: u64) -> Option<String> {
    let tiers: [&dyn Fn(&Cse) -> bool; 4] =
        [&|c| c.handles_product(product) && c.speaks(language), &|c| c.speaks(language), &|c| c.handles_product(product), &|_| true];
    let pool: Vec<&Cse> = tiers.iter().map(|ok| roster.iter().filter(|c| ok(c)).collect::<Vec<_>>()).find(|p| !p.is_empty())?;
    let load = |c: &&Cse| loads.get(&c.email).copied().unwrap_or(0);
    let min = pool.iter().map(load).min()?;
    let tied: Vec<&&Cse> = pool.iter().filter(|c| load(c) == min).collect();
    tied.get((rr % tied.len() as u64) as usize).map(|c| c.email.clone())
}

/// The CSM to copy on the acknowledgement: premium accounts, P1 and P2 only.
pub fn csm_copy(account: Option<&Account>, priority: Priority) -> Option<String> {
    let a = account?;
    (a.tier == crate::config::Tier::Premium && priority <= Priority::P2).then(|| a.csm.clone()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cse(email: &str, langs: &[&str], products: Option<&[&str]>) -> Cse {
        Cse {
            name: email.into(),
            email: email.into(),
            languages: langs.iter().map(|s| s.to_string()).collect(),
            products: products.map(|p| p.iter().map(|s| s.to_string()).collect()),
            on_call: false,
        }
    }

    #[test]
    fn least_loaded_prefers_skills_then_load_then_turn() {
        let roster =
            vec![cse("a", &["en"], Some(&["network"])), cse("b", &["en", "fr"], Some(&["network"])), cse("c", &["en", "fr"], None)];
        let mut loads = HashMap::new();
        assert_eq!(least_loaded(&roster, Some("network"), "fr", &loads, 0).as_deref(), Some("b"));
        assert_eq!(least_loaded(&roster, Some("network"), "fr", &loads, 1).as_deref(), Some("c"));
        loads.insert("b".to_string(), 3);
        assert_eq!(least_loaded(&roster, Some("network"), "fr", &loads, 0).as_deref(), Some("c"));
        assert_eq!(least_loaded(&roster, Some("cloud"), "de", &loads, 0).as_deref(), Some("c"));
        assert_eq!(least_loaded(&roster, Some("network"), "en", &loads, 0).as_deref(), Some("a"));
    }

    #[test]
    fn local_language_only_in_hours_with_a_speaker() {
        let roster = vec![cse("a", &["en", "fr"], None)];
        assert_eq!(handling_language(&roster, Some("fr"), true), "fr");
        assert_eq!(handling_language(&roster, Some("fr"), false), "en");
        assert_eq!(handling_language(&roster, Some("de"), true), "en");
        assert_eq!(handling_language(&roster, Some("ja"), true), "en");
        assert_eq!(handling_language(&roster, None, true), "en");
    }
}
