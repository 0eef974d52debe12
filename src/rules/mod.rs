//! Rule files: conditions on an incoming mail → priority, product, language,
//! tags and assignee.
//!
//! Every `*.toml` file of the rules folder except `policy.toml` holds an
//! ordered list of `[[rule]]` tables; files are read in file-name order
//! (`10-priority.toml` before `20-products.toml`) and rules in file order.
//! Each rule has a `when` table (conditions, all of which must hold) and a
//! `then` table (actions). Regexes are compiled once, case-insensitively, by
//! [`RuleSet::compile`]; every problem of every file is reported in one pass,
//! each with file and line. Evaluation ([`RuleSet::evaluate`]) is pure.
//!
//! **First wins**: the first matching rule that sets a field (priority,
//! product, language, assignee) decides it; later rules cannot change it.
//! Tags accumulate. `stop = true` ends the evaluation after its rule. When no
//! rule sets a priority the caller uses [`DEFAULT_PRIORITY`] (P3).
//! See rules/README.md for the grammar with examples.

pub(crate) mod spans;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, Diagnostics, line_of};
use crate::sr::Priority;
use spans::{Sink, Span};

/// The priority of an SR when no rule sets one.
pub const DEFAULT_PRIORITY: Priority = Priority::P3;

/// The file in the rules folder that is the policy, not rules.
pub const POLICY_FILE: &str = "policy.toml";

/// The condition keys of `when`, for messages.
const CONDITIONS: &str = "subject, text, subject_or_text, sender, headers, language, account, tier, mailbox, address, business_hours";

/// The action keys of `then`, for messages.
const ACTIONS: &str = "priority, product, language, tags, assign, assign_pool, stop";

/// What the rules need to know of the roster, to check `assign` and `assign_pool`.
#[derive(Debug, Clone, Default)]
pub struct RosterView {
    /// The engineers.
    pub cses: Vec<RosterCse>,
    /// The pool names `assign_pool` may use (products and named groups);
    /// `None` accepts any pool name.
    pub pools: Option<Vec<String>>,
    /// The support addresses `address` may name (`support_address` and every
    /// `[[address]]`); `None` accepts any address.
    pub addresses: Option<Vec<String>>,
}

/// One engineer, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterCse {
    /// Display name.
    pub name: String,
    /// Mail address.
    pub email: String,
}

impl RosterView {
    /// The engineer whose address or name is `who` (case-insensitive).
    pub fn find(&self, who: &str) -> Option<&RosterCse> {
        let who = who.trim();
        self.cses.iter().find(|c| c.email.eq_ignore_ascii_case(who)).or_else(|| self.cses.iter().find(|c| c.name.eq_ignore_ascii_case(who)))
    }

    fn knows_pool(&self, pool: &str) -> bool {
        self.pools.as_ref().is_none_or(|pools| pools.iter().any(|p| p.eq_ignore_ascii_case(pool)))
    }

    fn knows_address(&self, address: &str) -> bool {
        self.addresses.as_ref().is_none_or(|list| list.iter().any(|a| a.eq_ignore_ascii_case(address)))
    }
}

/// Who a rule gives the SR to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Assignment {
    /// A named engineer (`assign`).
    Cse {
        /// Their address (lower case).
        email: String,
        /// Their display name.
        name: String,
    },
    /// The least-loaded engineer of a pool (`assign_pool`).
    Pool {
        /// The pool: a product or a named group.
        pool: String,
    },
}

/// The facts about one incoming mail that rules look at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The Subject header.
    pub subject: &'a str,
    /// The customer's new text (quotes cut).
    pub text: &'a str,
    /// The sender's address.
    pub sender: &'a str,
    /// Every header, name and value, in order.
    pub headers: &'a [(String, String)],
    /// The detected language (ISO 639-1), if any.
    pub detected_language: Option<&'a str>,
    /// The customer's account name, if known.
    pub account: Option<&'a str>,
    /// The account's tier ("standard" or "premium"), if known.
    pub tier: Option<&'a str>,
    /// The name of the mailbox the mail arrived in.
    pub mailbox: &'a str,
    /// The support address the customer wrote to (see [`crate::config::Config::written_to`]).
    pub address: &'a str,
    /// Whether the mail arrived inside business hours.
    pub business_hours: bool,
}

/// The outcome of the rules for one mail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The priority, when a rule set one (else [`DEFAULT_PRIORITY`] applies).
    pub priority: Option<Priority>,
    /// The product.
    pub product: Option<String>,
    /// The handling language a rule forced.
    pub language: Option<String>,
    /// Every tag of every matching rule, first occurrence order, no repeats.
    pub tags: Vec<String>,
    /// The assignee a rule chose.
    pub assign: Option<Assignment>,
    /// Every rule that matched, in evaluation order.
    pub matched: Vec<Matched>,
}

impl Verdict {
    /// The priority, or [`DEFAULT_PRIORITY`] when no rule set one.
    pub fn priority_or_default(&self) -> Priority {
        self.priority.unwrap_or(DEFAULT_PRIORITY)
    }
}

/// One rule that matched, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matched {
    /// The rule's name.
    pub name: String,
    /// The file it is in.
    pub file: PathBuf,
    /// The line of its `[[rule]]`.
    pub line: usize,
    /// Why it matched, one line per condition (`subject matches "(?i)outage" ("Outage")`).
    pub reasons: Vec<String>,
    /// What it did, one line per action; an action that lost to an earlier
    /// rule says so (`priority P2 ignored: already P1`).
    pub effects: Vec<String>,
}

/// A compiled, case-insensitive regex and its text as written.
#[derive(Debug, Clone)]
struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    /// The reason text when this pattern matches `haystack`.
    fn find(&self, what: &str, haystack: &str) -> Option<String> {
        let m = self.regex.find(haystack)?;
        Some(format!("{what} matches \"(?i){}\" ({:?})", self.source, excerpt(m.as_str())))
    }
}

/// At most 60 characters of a match, for reasons.
fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// A condition's regexes: each as written (for the reason), and all of them in one
/// set, so that a haystack is scanned once however many there are.
#[derive(Debug, Clone)]
struct Patterns {
    list: Vec<Pattern>,
    /// `None` for a single regex, or when the set outgrows the regex size limit its
    /// members kept to: then each regex scans on its own.
    set: Option<RegexSet>,
    /// Where the list starts in the rule set's [`TextScan`], when it is there.
    in_text_scan: Option<usize>,
}

impl Patterns {
    fn new(list: Vec<Pattern>) -> Patterns {
        let set = if list.len() > 1 { regex_set(&list) } else { None };
        Patterns { list, set, in_text_scan: None }
    }

    /// The reason for the first regex, in the order written, that matches `haystack`.
    fn first_match(&self, what: &str, haystack: &str) -> Option<String> {
        match &self.set {
            Some(set) => self.list.get(set.matches(haystack).into_iter().next()?)?.find(what, haystack),
            None => self.list.iter().find_map(|p| p.find(what, haystack)),
        }
    }

    /// [`Patterns::first_match`] on the mail's text, read from the scan made once for every rule.
    fn first_text_match(&self, text: &str, scan: &TextScan<'_>) -> Option<String> {
        match (self.in_text_scan, scan.matches()) {
            (Some(at), Some(hits)) => {
                let first = (0..self.list.len()).find(|i| hits.matched(at + i))?;
                self.list.get(first)?.find("text", text)
            }
            _ => self.first_match("text", text),
        }
    }
}

/// Every regex of every rule that looks at the text, in one set: a long text is
/// scanned once for the whole rule set, not once per rule.
#[derive(Debug, Clone, Default)]
struct TextSet(Option<RegexSet>);

/// The [`TextSet`]'s scan of one mail's text, made when a rule first asks.
struct TextScan<'a> {
    set: &'a TextSet,
    text: &'a str,
    done: std::cell::OnceCell<Option<regex::SetMatches>>,
}

impl TextScan<'_> {
    fn matches(&self) -> Option<&regex::SetMatches> {
        self.done.get_or_init(|| self.set.0.as_ref().map(|s| s.matches(self.text))).as_ref()
    }
}

/// One set of `list`'s regexes, case-insensitive as each is.
fn regex_set(list: &[Pattern]) -> Option<RegexSet> {
    RegexSetBuilder::new(list.iter().map(|p| p.source.as_str())).case_insensitive(true).build().ok()
}

/// One condition of a rule's `when`.
#[derive(Debug, Clone)]
enum Condition {
    Subject(Patterns),
    Text(Patterns),
    SubjectOrText(Patterns),
    Sender(Patterns),
    Header(String, Patterns),
    Language(Vec<String>),
    Account(Vec<String>),
    Tier(Vec<String>),
    Mailbox(Vec<String>),
    Address(Vec<String>),
    BusinessHours(bool),
}

fn one_of(what: &str, value: Option<&str>, list: &[String]) -> Option<String> {
    let v = value?;
    list.iter().any(|x| x.eq_ignore_ascii_case(v)).then(|| format!("{what} is {v}"))
}

impl Condition {
    /// The reason this condition holds for `facts`, or `None`.
    fn check(&self, f: &Facts<'_>, scan: &TextScan<'_>) -> Option<String> {
        match self {
            Condition::Subject(p) => p.first_match("subject", f.subject),
            Condition::Text(p) => p.first_text_match(f.text, scan),
            Condition::SubjectOrText(p) => p.first_match("subject", f.subject).or_else(|| p.first_text_match(f.text, scan)),
            Condition::Sender(p) => p.first_match("sender", f.sender),
            Condition::Header(name, p) => f
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .find_map(|(_, value)| p.first_match(&format!("header {name}"), value)),
            Condition::Language(list) => one_of("detected language", f.detected_language, list),
            Condition::Account(list) => one_of("account", f.account, list),
            Condition::Tier(list) => one_of("tier", f.tier, list),
            Condition::Mailbox(list) => one_of("mailbox", Some(f.mailbox), list),
            Condition::Address(list) => one_of("address", Some(f.address), list),
            Condition::BusinessHours(want) => (f.business_hours == *want)
                .then(|| if *want { "inside business hours".to_string() } else { "outside business hours".to_string() }),
        }
    }
}

/// The actions of a rule's `then`.
#[derive(Debug, Clone, Default)]
struct Actions {
    priority: Option<Priority>,
    product: Option<String>,
    language: Option<String>,
    tags: Vec<String>,
    assign: Option<Assignment>,
    stop: bool,
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    name: String,
    file: PathBuf,
    line: usize,
    conditions: Vec<Condition>,
    actions: Actions,
}

impl Rule {
    /// The rule's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file it is in.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The line of its `[[rule]]`.
    pub fn line(&self) -> usize {
        self.line
    }
}

/// Every rule of the rules folder, compiled, in evaluation order.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    text_set: TextSet,
}

impl RuleSet {
    /// Loads every `*.toml` file of `dir` except `policy.toml`, in file-name
    /// order, and compiles them against `roster`. Every problem of every file
    /// is reported at once.
    pub fn load_dir(dir: &Path, roster: &RosterView) -> Result<RuleSet, Diagnostics> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Diagnostics(vec![Diagnostic::in_file(dir, format!("cannot read the rules folder: {e}"))]))?;
        let mut paths: Vec<PathBuf> = Vec::new();
        let mut errors = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => {
                    let p = e.path();
                    let is_toml = p.extension().is_some_and(|x| x == "toml");
                    let is_policy = p.file_name().is_some_and(|n| n == POLICY_FILE);
                    if is_toml && !is_policy && p.is_file() {
                        paths.push(p);
                    }
                }
                Err(e) => errors.push(Diagnostic::in_file(dir, format!("cannot list the rules folder: {e}"))),
            }
        }
        paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        let mut sources = Vec::new();
        for p in paths {
            match std::fs::read_to_string(&p) {
                Ok(text) => sources.push((p, text)),
                Err(e) => errors.push(Diagnostic::in_file(&p, format!("cannot read: {e}"))),
            }
        }
        let borrowed: Vec<(&Path, &str)> = sources.iter().map(|(p, t)| (p.as_path(), t.as_str())).collect();
        match RuleSet::compile(&borrowed, roster) {
            Ok(set) if errors.is_empty() => Ok(set),
            Ok(_) => Err(Diagnostics(errors)),
            Err(Diagnostics(more)) => {
                errors.extend(more);
                Err(Diagnostics(errors))
            }
        }
    }

    /// Compiles rule files given as (path, text), in the order given.
    pub fn compile(files: &[(&Path, &str)], roster: &RosterView) -> Result<RuleSet, Diagnostics> {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        let mut names: HashSet<String> = HashSet::new();
        for (path, source) in files {
            let mut s = Sink::new(path, source);
            if let Some(doc) = s.parse() {
                compile_file(&mut s, doc.get_ref(), roster, &mut rules, &mut names);
            }
            errors.extend(s.errors);
        }
        if errors.is_empty() { Ok(RuleSet::new(rules)) } else { Err(Diagnostics(errors)) }
    }

    /// The set of compiled `rules`, with every regex on the text gathered in one [`TextSet`].
    fn new(mut rules: Vec<Rule>) -> RuleSet {
        let mut all = Vec::new();
        for c in rules.iter_mut().flat_map(|r| r.conditions.iter_mut()) {
            if let Condition::Text(p) | Condition::SubjectOrText(p) = c {
                p.in_text_scan = Some(all.len());
                all.extend(p.list.iter().cloned());
            }
        }
        let text_set = TextSet(regex_set(&all));
        RuleSet { rules, text_set }
    }

    /// The rules, in evaluation order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Runs every rule over `facts`, first wins (see the module documentation).
    pub fn evaluate(&self, facts: &Facts<'_>) -> Verdict {
        let mut v = Verdict::default();
        let scan = TextScan { set: &self.text_set, text: facts.text, done: std::cell::OnceCell::new() };
        for rule in &self.rules {
            let mut reasons = Vec::with_capacity(rule.conditions.len());
            let holds = rule.conditions.iter().all(|c| match c.check(facts, &scan) {
                Some(r) => {
                    reasons.push(r);
                    true
                }
                None => false,
            });
            if !holds {
                continue;
            }
            if reasons.is_empty() {
                reasons.push("no conditions: always matches".into());
            }
            let a = &rule.actions;
            let mut effects = Vec::new();
            if let Some(p) = a.priority {
                effects.push(first_wins(&mut v.priority, p, |x| format!("{x:?}"), "priority"));
            }
            if let Some(p) = &a.product {
                effects.push(first_wins(&mut v.product, p.clone(), Clone::clone, "product"));
            }
            if let Some(l) = &a.language {
                effects.push(first_wins(&mut v.language, l.clone(), Clone::clone, "language"));
            }
            if let Some(x) = &a.assign {
                effects.push(first_wins(&mut v.assign, x.clone(), describe_assignment, "assignee"));
            }
            for t in &a.tags {
                if !v.tags.contains(t) {
                    v.tags.push(t.clone());
                }
                effects.push(format!("tag {t}"));
            }
            if a.stop {
                effects.push("stop".into());
            }
            v.matched.push(Matched { name: rule.name.clone(), file: rule.file.clone(), line: rule.line, reasons, effects });
            if a.stop {
                break;
            }
        }
        v
    }
}

fn describe_assignment(a: &Assignment) -> String {
    match a {
        Assignment::Cse { email, .. } => email.clone(),
        Assignment::Pool { pool } => format!("pool {pool}"),
    }
}

/// Sets `slot` to `value` unless an earlier rule did; the effect, in words.
fn first_wins<T>(slot: &mut Option<T>, value: T, show: impl Fn(&T) -> String, what: &str) -> String {
    match slot {
        Some(earlier) => format!("{what} {} ignored: already {}", show(&value), show(earlier)),
        None => {
            let text = format!("{what} {}", show(&value));
            *slot = Some(value);
            text
        }
    }
}

fn compile_file(s: &mut Sink<'_>, doc: &DeTable<'_>, roster: &RosterView, rules: &mut Vec<Rule>, names: &mut HashSet<String>) {
    for (key, value) in doc {
        if key.get_ref() != "rule" {
            s.error(&key.span(), format!("unknown key `{}`: a rule file holds only [[rule]] tables", key.get_ref()));
            continue;
        }
        let DeValue::Array(items) = value.get_ref() else {
            s.error(&value.span(), "`rule` must be an array of tables ([[rule]])");
            continue;
        };
        for item in items {
            if let Some(rule) = compile_rule(s, item, roster) {
                if !names.insert(rule.name.to_lowercase()) {
                    s.error(&item.span(), format!("rule `{}`: another rule has the same name", rule.name));
                }
                rules.push(rule);
            }
        }
    }
}

fn compile_rule(s: &mut Sink<'_>, item: &Spanned<DeValue<'_>>, roster: &RosterView) -> Option<Rule> {
    let span = item.span();
    let DeValue::Table(table) = item.get_ref() else {
        s.error(&span, "each `rule` must be a table");
        return None;
    };
    let before = s.errors.len();
    let mut name: Option<String> = None;
    let mut conditions = Vec::new();
    let mut actions: Option<Actions> = None;
    for (key, value) in table {
        match &**key.get_ref() {
            "name" => name = s.value::<String>("name", value).filter(|n| !n.trim().is_empty()),
            "description" => {
                s.value::<String>("description", value);
            }
            "when" => {
                if let Some(t) = s.table("when", value) {
                    conditions = compile_conditions(s, t, roster);
                }
            }
            "then" => {
                if let Some(t) = s.table("then", value) {
                    actions = Some(compile_actions(s, t, &value.span(), roster));
                }
            }
            other => s.error(&key.span(), format!("rule: unknown key `{other}` (expected name, description, when, then)")),
        }
    }
    let line = line_of(s.source, span.start);
    let Some(name) = name else {
        s.error(&span, "rule: missing `name` (a short text naming the rule)");
        return None;
    };
    let Some(actions) = actions else {
        s.error(&span, format!("rule `{name}`: missing `then` (what the rule does)"));
        return None;
    };
    (s.errors.len() == before).then(|| Rule { name, file: s.path.to_path_buf(), line, conditions, actions })
}

fn compile_patterns(s: &mut Sink<'_>, key: &str, value: &Spanned<DeValue<'_>>) -> Patterns {
    let texts = s.strings(key, value);
    if texts.is_empty() {
        s.error(&value.span(), format!("`{key}`: give at least one regex"));
    }
    let mut out = Vec::new();
    for (text, span) in texts {
        match RegexBuilder::new(&text).case_insensitive(true).build() {
            Ok(regex) => out.push(Pattern { source: text, regex }),
            Err(e) => s.error(&span, format!("`{key}`: bad regex `{text}`: {}", regex_message(&e))),
        }
    }
    Patterns::new(out)
}

/// The one-line cause of a regex error (regex prints a multi-line picture).
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("error: ").map(str::to_string))
        .unwrap_or_else(|| text.lines().next().unwrap_or_default().to_string())
}

/// A non-empty list of names (a string or an array of strings).
fn names_list(s: &mut Sink<'_>, key: &str, value: &Spanned<DeValue<'_>>) -> Vec<String> {
    let list: Vec<String> = s.strings(key, value).into_iter().map(|(t, _)| t.trim().to_string()).collect();
    if list.is_empty() {
        s.error(&value.span(), format!("`{key}`: the list is empty, so the rule could never match"));
    }
    list
}

fn is_language_code(code: &str) -> bool {
    code.len() == 2 && code.chars().all(|c| c.is_ascii_lowercase())
}

fn compile_conditions(s: &mut Sink<'_>, table: &DeTable<'_>, roster: &RosterView) -> Vec<Condition> {
    let mut out = Vec::new();
    for (key, value) in table {
        let k = key.get_ref();
        let cond = match &**k {
            "subject" => Condition::Subject(compile_patterns(s, k, value)),
            "text" => Condition::Text(compile_patterns(s, k, value)),
            "subject_or_text" => Condition::SubjectOrText(compile_patterns(s, k, value)),
            "sender" => Condition::Sender(compile_patterns(s, k, value)),
            "headers" => {
                let Some(headers) = s.table("headers", value) else { continue };
                for (name, patterns) in headers {
                    let label = format!("headers.{}", name.get_ref());
                    let p = compile_patterns(s, &label, patterns);
                    out.push(Condition::Header(name.get_ref().to_string(), p));
                }
                continue;
            }
            "language" => {
                let list = names_list(s, k, value);
                for code in list.iter().filter(|c| !is_language_code(c)) {
                    s.error(&value.span(), format!("`language`: `{code}` is not a two-letter ISO 639-1 code (en, fr, de, it, es…)"));
                }
                Condition::Language(list)
            }
            "account" => Condition::Account(names_list(s, k, value)),
            "tier" => {
                let list = names_list(s, k, value);
                for t in list.iter().filter(|t| !matches!(t.as_str(), "standard" | "premium")) {
                    s.error(&value.span(), format!("`tier`: `{t}` is not a tier (standard, premium)"));
                }
                Condition::Tier(list)
            }
            "mailbox" => Condition::Mailbox(names_list(s, k, value)),
            "address" => {
                let list: Vec<String> = names_list(s, k, value).iter().map(|a| a.to_ascii_lowercase()).collect();
                for a in list.iter().filter(|a| !roster.knows_address(a)) {
                    s.error(&value.span(), format!("`address`: `{a}` is not a support address (support_address or an [[address]])"));
                }
                Condition::Address(list)
            }
            "business_hours" => match s.value::<bool>(k, value) {
                Some(b) => Condition::BusinessHours(b),
                None => continue,
            },
            other => {
                s.error(&key.span(), format!("when: unknown condition `{other}` (expected {CONDITIONS})"));
                continue;
            }
        };
        out.push(cond);
    }
    out
}

fn parse_priority(text: &str) -> Option<Priority> {
    match text.trim().to_ascii_uppercase().as_str() {
        "P1" => Some(Priority::P1),
        "P2" => Some(Priority::P2),
        "P3" => Some(Priority::P3),
        "P4" => Some(Priority::P4),
        _ => None,
    }
}

fn compile_actions(s: &mut Sink<'_>, table: &DeTable<'_>, span: &Span, roster: &RosterView) -> Actions {
    let mut a = Actions::default();
    let mut has_cse = false;
    for (key, value) in table {
        let k = key.get_ref();
        match &**k {
            "priority" => {
                if let Some(text) = s.value::<String>(k, value) {
                    match parse_priority(&text) {
                        Some(p) => a.priority = Some(p),
                        None => s.error(&value.span(), format!("`priority`: `{text}` is not a priority (P1, P2, P3, P4)")),
                    }
                }
            }
            "product" => {
                if let Some(p) = s.value::<String>(k, value) {
                    if p.trim().is_empty() {
                        s.error(&value.span(), "`product` is empty");
                    }
                    a.product = Some(p.trim().to_string());
                }
            }
            "language" => {
                if let Some(l) = s.value::<String>(k, value) {
                    if !is_language_code(&l) {
                        s.error(&value.span(), format!("`language`: `{l}` is not a two-letter ISO 639-1 code (en, fr, de, it, es…)"));
                    }
                    a.language = Some(l);
                }
            }
            "tags" => {
                for (t, tspan) in s.strings(k, value) {
                    if t.trim().is_empty() {
                        s.error(&tspan, "`tags`: empty tag");
                    } else if !a.tags.contains(&t) {
                        a.tags.push(t);
                    }
                }
            }
            "assign" => {
                if let Some(who) = s.value::<String>(k, value) {
                    match roster.find(&who) {
                        Some(c) => a.assign = Some(Assignment::Cse { email: c.email.to_ascii_lowercase(), name: c.name.clone() }),
                        None => s.error(&value.span(), format!("`assign`: unknown CSE `{who}` (not on the roster)")),
                    }
                    has_cse = true;
                }
            }
            "assign_pool" => {
                if let Some(pool) = s.value::<String>(k, value) {
                    if roster.knows_pool(&pool) {
                        a.assign = Some(Assignment::Pool { pool });
                    } else {
                        s.error(&value.span(), format!("`assign_pool`: unknown pool `{pool}` (no CSE has this product or group)"));
                    }
                }
                if has_cse || table.iter().any(|(k, _)| k.get_ref() == "assign") {
                    s.error(&value.span(), "give `assign` or `assign_pool`, not both");
                }
            }
            "stop" => a.stop = s.value::<bool>(k, value).unwrap_or(false),
            other => s.error(&key.span(), format!("then: unknown action `{other}` (expected {ACTIONS})")),
        }
    }
    let does_something =
        a.priority.is_some() || a.product.is_some() || a.language.is_some() || !a.tags.is_empty() || a.assign.is_some() || a.stop;
    if !does_something && table.is_empty() {
        s.error(span, format!("`then` is empty: give at least one action ({ACTIONS})"));
    }
    a
}

#[cfg(test)]
mod tests;
