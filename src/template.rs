//! Mail templates: loaded and compiled once, checked with a sample context, rendered by name.
//!
//! Layout: `templates/<language>/<name>.txt` (minijinja syntax). A template
//! missing in the SR's language falls back to `en`. `srgate check` compiles
//! every file and renders each with a sample context in strict mode, so a
//! misspelt variable is caught with its file and line before any mail is sent.
//!
//! An `[[address]]` with a `templates_dir` has templates of its own, in the same layout
//! and checked the same way, but none is required: for an SR of that address a template
//! is looked for in its folder in the SR's language, then in the main folder in that
//! language, then in its folder in English, then in the main folder in English.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};

/// The templates every installation must provide in `en/`.
pub const REQUIRED: &[&str] = &[
    "acknowledgement",
    "cse_notification",
    "relay",
    "customer_update",
    "page",
    "first_response_warning",
    "contact_attempt",
    "closure_notice",
    "priority_changed",
    "reassigned",
    "history",
    "escalation",
    "escalation_confirmed",
    "escalation_refused",
    "cse_info",
    "command_error",
    "command_confirmation",
    "attachment_too_large",
    "queue",
    "digest",
    "team_digest",
    "desk_error",
    "acknowledgement_phone",
];

/// The templates of mail that belongs to no SR (a CSE's queue, the daily digests):
/// rendered with a [`DeskContext`], always in English (they go to staff).
pub const DESK: &[&str] = &["queue", "digest", "team_digest", "desk_error"];

/// One SR in a queue or a digest, as the templates show it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueEntry {
    /// `[SR#N]`.
    pub token: String,
    /// `P1`..`P4`.
    pub priority: String,
    /// State name.
    pub state: String,
    /// The customer's address.
    pub customer: String,
    /// The SR's subject.
    pub subject: String,
    /// The assigned CSE's name, or empty.
    pub assignee: String,
    /// How long it has been open ("3d 4h", "25m").
    pub age: String,
    /// What happens next and when ("contact attempt 2 Friday 6 March 2026, 10:30 CET",
    /// "hold ends …", "closes for no response …"), or empty.
    pub next: String,
    /// When the first response is (was) due, in the policy's time zone, or empty.
    pub first_response_due: String,
    /// True when the first response came late, or is overdue.
    pub first_response_missed: bool,
}

/// SRs in one state, by priority (the team digest).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StateCount {
    /// State name.
    pub state: String,
    /// P1 SRs.
    pub p1: u64,
    /// P2 SRs.
    pub p2: u64,
    /// P3 SRs.
    pub p3: u64,
    /// P4 SRs.
    pub p4: u64,
    /// All of them.
    pub total: u64,
}

/// What the templates of [`DESK`] can use.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeskContext {
    /// The support desk's display name.
    pub support_name: String,
    /// The support address.
    pub support_address: String,
    /// The CSE the mail is for (empty for the team digest).
    pub cse_name: String,
    /// Their address.
    pub cse_email: String,
    /// The day, in the policy's time zone ("Tuesday 3 March 2026").
    pub date: String,
    /// The CSE's open SRs by priority, oldest first within one (queue and digest): the
    /// first `digest_limit` of them.
    pub srs: Vec<QueueEntry>,
    /// How many open SRs the CSE has, listed or not (queue and digest).
    pub srs_total: u64,
    /// SRs not closed, by state and priority (team digest).
    pub by_state: Vec<StateCount>,
    /// SRs not closed (team digest).
    pub open_total: u64,
    /// First-response targets missed since the previous business day began, oldest SR
    /// first: the first `digest_limit` (team digest).
    pub missed: Vec<QueueEntry>,
    /// How many targets were missed, listed or not (team digest).
    pub missed_total: u64,
    /// The oldest SRs not closed (team digest).
    pub oldest: Vec<QueueEntry>,
    /// SRs not closed that nobody is assigned to, oldest first: the first `digest_limit`
    /// (team digest).
    pub unassigned: Vec<QueueEntry>,
    /// How many SRs not closed nobody is assigned to, listed or not (team digest).
    pub unassigned_total: u64,
    /// The subject of the mail answered (desk_error).
    pub subject: String,
    /// What was wrong with a `#new` or `#queue` (desk_error).
    pub errors: Vec<String>,
    /// The valid commands (desk_error).
    pub commands_help: String,
}

/// What every template can use.
#[derive(Debug, Clone, Serialize)]
pub struct MailContext {
    /// The SR.
    pub sr: SrFacts,
    /// The customer's display name (or address).
    pub customer_name: String,
    /// The customer's address.
    pub customer: String,
    /// The assigned CSE's name, or empty.
    pub cse_name: String,
    /// The assigned CSE's address, or empty (also for unassigned SRs).
    pub cse_email: String,
    /// The support desk's display name.
    pub support_name: String,
    /// The support address (the one the SR's customer wrote to).
    pub support_address: String,
    /// The signature of that address, or empty: shown where a template writes
    /// `{{ signature }}`, else appended to every mail to the customer.
    pub signature: String,
    /// The text this mail carries (the customer's or the CSE's new text).
    pub text: String,
    /// Names of the files attached to the mail this one answers or forwards.
    pub attachments: Vec<String>,
    /// True when the SR was opened outside business hours.
    pub after_hours: bool,
    /// When business hours next start, in the customer's time zone where known.
    pub next_business_start: String,
    /// True when the customer wrote in a local language that is handled in English after hours.
    pub local_language_after_hours: bool,
    /// The detected language's English name ("French").
    pub detected_language_name: String,
    /// Tokens of related SRs.
    pub related: Vec<String>,
    /// The customer's account, or empty.
    pub account: String,
    /// The account's tier, or empty.
    pub tier: String,
    /// When the first response is (was) due, in the policy's time zone.
    pub first_response_due: String,
    /// Values particular to some mails (attempt numbers, impact, history ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Template values that only some mails use; always present (empty by default).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Extra {
    /// The contact attempt's number in the cycle.
    pub attempt: u32,
    /// Attempts per cycle.
    pub attempts_max: u32,
    /// The CSE's latest answer, quoted in contact attempts.
    pub last_question: String,
    /// Why the SR closed (`resolved`, `no_response`).
    pub close_reason: String,
    /// Days after closure during which a reply reopens the SR.
    pub reopen_days: u32,
    /// The previous priority, on a priority change.
    pub old_priority: String,
    /// The business impact of an escalation.
    pub impact: String,
    /// The previous CSE's name, on a reassignment.
    pub previous_cse_name: String,
    /// The SR's messages, oldest first, for a history mail.
    pub history: Vec<HistoryEntry>,
    /// Information for the CSE, in words.
    pub info: String,
    /// Problems in a CSE's commands.
    pub errors: Vec<String>,
    /// What the CSE's commands did.
    pub done: Vec<String>,
    /// The valid CSE commands.
    pub commands_help: String,
    /// End of a hold.
    pub hold_until: String,
    /// Attachments kept but not forwarded because of their size ("name (size)").
    pub oversized: Vec<String>,
    /// The limit on forwarded attachments, in MB.
    pub max_attachment_mb: usize,
    /// Knowledge-base articles suggested for a new SR, best first.
    pub articles: Vec<ArticleLink>,
    /// Who forwarded the customer's mail to support (`Name (address)`), on the
    /// acknowledgement of an SR opened from a colleague's forward; empty otherwise.
    pub forwarded_by: String,
}

/// A knowledge-base article as a mail shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ArticleLink {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its URL.
    pub url: String,
    /// Which terms found it, and where (`outage (subject), down (text)`): for staff.
    pub why: String,
}

/// One message in a history mail.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// When (policy time zone).
    pub at: String,
    /// `in` or `out`.
    pub direction: String,
    /// Sender.
    pub from: String,
    /// Kind of message.
    pub kind: String,
    /// Its text.
    pub text: String,
}

/// SR facts available to templates as `sr.*`.
#[derive(Debug, Clone, Serialize)]
pub struct SrFacts {
    /// Number.
    pub id: u64,
    /// `[SR#N]`.
    pub token: String,
    /// Cleaned subject.
    pub subject: String,
    /// `P1`..`P4`.
    pub priority: String,
    /// State name.
    pub state: String,
    /// Handling language.
    pub language: String,
}

/// The compiled set of templates.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    /// Keys of the compiled templates: `<lang>/<name>.txt`, and `@<address>/<lang>/<name>.txt`
    /// for an address's own.
    names: Vec<String>,
    /// Keys of the templates that place `signature` themselves.
    signed: std::collections::HashSet<String>,
}

/// Why a render failed at run time (a checked set renders unless the data is odd).
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {message}")]
pub struct RenderError {
    /// Template file.
    pub name: String,
    /// What went wrong.
    pub message: String,
}

impl Templates {
    /// Loads every `<lang>/<name>.txt` under `dir`, compiles and checks them all.
    pub fn load(dir: &Path) -> Result<Templates, Diagnostics> {
        Templates::load_with(dir, &[])
    }

    /// Loads the main templates of `dir` and those of each (address, folder) of
    /// `addresses`, compiles and checks them all, reporting every problem at once.
    pub fn load_with(dir: &Path, addresses: &[(String, PathBuf)]) -> Result<Templates, Diagnostics> {
        let mut errors = Vec::new();
        let mut sources: BTreeMap<String, (PathBuf, String)> = BTreeMap::new();
        if let Err(e) = read_folder(dir, "", &mut sources, &mut errors) {
            return Err(Diagnostics(vec![e]));
        }
        for (address, folder) in addresses {
            if let Err(e) = read_folder(folder, &format!("@{}/", address.to_ascii_lowercase()), &mut sources, &mut errors) {
                errors.push(e);
            }
        }
        for name in REQUIRED {
            if !sources.contains_key(&format!("en/{name}.txt")) {
                errors.push(Diagnostic::in_file(&dir.join("en").join(format!("{name}.txt")), "required template is missing"));
            }
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // `{% if %}` lines leave no blank line behind; the last newline stays.
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder().trim_blocks(true).keep_trailing_newline(true).build() {
            env.set_syntax(syntax);
        }
        let mut names = Vec::new();
        for (key, (path, src)) in &sources {
            match env.add_template_owned(key.clone(), src.clone()) {
                Ok(()) => names.push(key.clone()),
                Err(e) => errors.push(Diagnostic { file: path.clone(), line: e.line(), message: e.to_string() }),
            }
        }
        let (sample, desk) = (sample_context(), sample_desk());
        let mut signed = std::collections::HashSet::new();
        for key in &names {
            match env.get_template(key) {
                Ok(t) if t.undeclared_variables(false).contains("signature") => {
                    signed.insert(key.clone());
                }
                _ => {}
            }
            let rendered = env.get_template(key).and_then(|t| {
                if is_desk(key) { t.render(minijinja::value::Serde(&desk)) } else { t.render(minijinja::value::Serde(&sample)) }
            });
            if let Err(e) = rendered {
                let path = sources.get(key).map(|(p, _)| p.clone()).unwrap_or_else(|| dir.join(key));
                errors.push(Diagnostic { file: path, line: e.line(), message: e.to_string() });
            }
        }
        if errors.is_empty() { Ok(Templates { env, names, signed }) } else { Err(Diagnostics(errors)) }
    }

    /// Renders template `name` in `language`, falling back to English.
    pub fn render(&self, language: &str, name: &str, ctx: &MailContext) -> Result<String, RenderError> {
        self.render_as(None, language, name, ctx)
    }

    /// Renders template `name` in `language` for an SR of support address `address` (its
    /// own templates first, see the module documentation). A mail to the customer whose
    /// template does not place `signature` gets it appended (when there is one).
    pub fn render_as(&self, address: Option<&str>, language: &str, name: &str, ctx: &MailContext) -> Result<String, RenderError> {
        let key = self.key(address, language, name);
        let err = |e: minijinja::Error| RenderError { name: key.clone(), message: e.to_string() };
        self.env.get_template(&key).and_then(|t| t.render(minijinja::value::Serde(ctx))).map_err(err)
    }

    /// True when the template `render_as` would use places `signature` itself.
    pub fn places_signature(&self, address: Option<&str>, language: &str, name: &str) -> bool {
        self.signed.contains(&self.key(address, language, name))
    }

    /// The key of the template used for (`address`, `language`, `name`).
    fn key(&self, address: Option<&str>, language: &str, name: &str) -> String {
        let own = address.map(|a| format!("@{}/", a.to_ascii_lowercase())).unwrap_or_default();
        let candidates = [format!("{own}{language}/{name}.txt"), format!("{language}/{name}.txt"), format!("{own}en/{name}.txt")];
        candidates.into_iter().find(|k| self.names.contains(k)).unwrap_or_else(|| format!("en/{name}.txt"))
    }
}

/// Reads every `<lang>/<name>.txt` of `dir` into `sources`, keyed `<prefix><lang>/<name>.txt`;
/// a file that cannot be read is an error in `errors`, a folder that cannot be listed the `Err`.
fn read_folder(
    dir: &Path,
    prefix: &str,
    sources: &mut BTreeMap<String, (PathBuf, String)>,
    errors: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    let langs = std::fs::read_dir(dir).map_err(|e| Diagnostic::in_file(dir, format!("cannot read templates folder: {e}")))?;
    for lang in langs.flatten().filter(|e| e.path().is_dir()) {
        let Ok(files) = std::fs::read_dir(lang.path()) else { continue };
        for file in files.flatten() {
            let path = file.path();
            if path.extension().and_then(|e| e.to_str()) != Some("txt") {
                continue;
            }
            let key = format!("{prefix}{}/{}", lang.file_name().to_string_lossy(), file.file_name().to_string_lossy());
            match std::fs::read_to_string(&path) {
                Ok(src) => {
                    sources.insert(key, (path, src));
                }
                Err(e) => errors.push(Diagnostic::in_file(&path, format!("cannot read: {e}"))),
            }
        }
    }
    Ok(())
}

/// True for `<lang>/<name>.txt` keys of [`DESK`] templates.
fn is_desk(key: &str) -> bool {
    key.rsplit('/').next().and_then(|f| f.strip_suffix(".txt")).is_some_and(|name| DESK.contains(&name))
}

impl Templates {
    /// Renders the [`DESK`] template `name` (in English: it goes to staff).
    pub fn render_desk(&self, name: &str, ctx: &DeskContext) -> Result<String, RenderError> {
        let key = format!("en/{name}.txt");
        let err = |e: minijinja::Error| RenderError { name: key.clone(), message: e.to_string() };
        self.env.get_template(&key).and_then(|t| t.render(minijinja::value::Serde(ctx))).map_err(err)
    }
}

/// A desk context with every field filled, for checking the [`DESK`] templates.
pub fn sample_desk() -> DeskContext {
    let entry = QueueEntry {
        token: "[SR#100001]".into(),
        priority: "P2".into(),
        state: "awaiting_customer".into(),
        customer: "jane@example.com".into(),
        subject: "Sample subject".into(),
        assignee: "Sam Engineer".into(),
        age: "2d 3h".into(),
        next: "contact attempt 2 Friday 6 March 2026, 10:30 CET".into(),
        first_response_due: "Monday 2 March 2026, 14:00 CET".into(),
        first_response_missed: true,
    };
    DeskContext {
        support_name: "Support".into(),
        support_address: "support@example.test".into(),
        cse_name: "Sam Engineer".into(),
        cse_email: "sam@example.test".into(),
        date: "Tuesday 3 March 2026".into(),
        srs: vec![entry.clone()],
        srs_total: 120,
        by_state: vec![StateCount { state: "open".into(), p1: 0, p2: 1, p3: 2, p4: 0, total: 3 }],
        open_total: 3,
        missed: vec![entry.clone()],
        missed_total: 2,
        oldest: vec![entry.clone()],
        unassigned: vec![entry],
        unassigned_total: 1,
        subject: "Call with Jane".into(),
        errors: vec!["#new jane: write #new customer@example.com".into()],
        commands_help: "#new ...".into(),
    }
}

/// A context with every field filled, for checking templates.
pub fn sample_context() -> MailContext {
    MailContext {
        sr: SrFacts {
            id: 100_001,
            token: "[SR#100001]".into(),
            subject: "Sample subject".into(),
            priority: "P3".into(),
            state: "new".into(),
            language: "en".into(),
        },
        customer_name: "Jane Customer".into(),
        customer: "jane@example.com".into(),
        cse_name: "Sam Engineer".into(),
        cse_email: "sam@example.test".into(),
        support_name: "Support".into(),
        support_address: "support@example.test".into(),
        signature: "Example Support, 1 Sample Street, Paris".into(),
        text: "Sample text".into(),
        attachments: vec!["log.txt".into()],
        after_hours: true,
        next_business_start: "Monday 2 March 2026, 09:00 CET".into(),
        local_language_after_hours: true,
        detected_language_name: "French".into(),
        related: vec!["[SR#100000]".into()],
        account: "Acme".into(),
        tier: "premium".into(),
        first_response_due: "Monday 2 March 2026, 10:00 CET".into(),
        extra: Extra {
            attempt: 2,
            attempts_max: 3,
            last_question: "Could you send the log?".into(),
            close_reason: "no_response".into(),
            reopen_days: 30,
            old_priority: "P3".into(),
            impact: "Production line stopped".into(),
            previous_cse_name: "Ann".into(),
            history: vec![HistoryEntry {
                at: "Monday 2 March 2026, 10:00 CET".into(),
                direction: "in".into(),
                from: "jane@example.com".into(),
                kind: "customer_new".into(),
                text: "Help".into(),
            }],
            info: "The customer asks for P1.".into(),
            errors: vec!["#frob: unknown command #frob".into()],
            done: vec!["priority P2".into()],
            commands_help: "#wait ...".into(),
            hold_until: "Monday 2 March 2026, 09:00 CET".into(),
            oversized: vec!["video.mp4 (60 MB)".into()],
            max_attachment_mb: 25,
            articles: vec![ArticleLink {
                id: "status".into(),
                title: "Service status and known outages".into(),
                url: "https://status.example.com/".into(),
                why: "outage (subject)".into(),
            }],
            forwarded_by: "Carla Colleague (carla@example.test)".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let t = Templates::load(&dir).expect("shipped templates are valid");
        let out = t.render("xx", "acknowledgement", &sample_context()).expect("renders");
        assert!(out.contains("[SR#100001]"));
    }

    /// Issue 14, item 4: an address's own templates come first, template by template.
    #[test]
    fn an_address_templates_override_the_main_ones_one_by_one() {
        let main = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let own = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(own.path().join("en")).expect("mkdir");
        std::fs::create_dir_all(own.path().join("fr")).expect("mkdir");
        std::fs::write(own.path().join("en/acknowledgement.txt"), "Brand ack {{ sr.token }}\n").expect("write");
        std::fs::write(own.path().join("fr/relay.txt"), "Marque {{ text }}\n{{ signature }}\n").expect("write");
        let t = Templates::load_with(&main, &[("Brand@example.test".into(), own.path().to_path_buf())]).expect("valid");
        let ctx = sample_context();
        let brand = Some("brand@example.test");
        assert!(t.render_as(brand, "en", "acknowledgement", &ctx).expect("renders").starts_with("Brand ack [SR#100001]"));
        // French: the main French acknowledgement wins over the address's English one.
        let fr = t.render_as(brand, "fr", "acknowledgement", &ctx).expect("renders");
        assert_eq!(fr, t.render("fr", "acknowledgement", &ctx).expect("renders"));
        assert!(t.render_as(brand, "fr", "relay", &ctx).expect("renders").starts_with("Marque Sample text"));
        // German: no German relay of its own, the main German one.
        assert_eq!(t.render_as(brand, "de", "relay", &ctx).expect("renders"), t.render("de", "relay", &ctx).expect("renders"));
        // Other addresses, and the default, never see it.
        assert_eq!(
            t.render_as(Some("other@example.test"), "en", "acknowledgement", &ctx).ok(),
            t.render("en", "acknowledgement", &ctx).ok()
        );
        // Which templates place the signature themselves (the others get it appended).
        assert!(t.places_signature(brand, "fr", "relay"));
        assert!(!t.places_signature(brand, "en", "acknowledgement"));
        assert!(t.places_signature(None, "en", "acknowledgement"), "the shipped customer templates place it");
        assert!(!t.places_signature(None, "en", "cse_notification"), "staff mail has none");
    }

    #[test]
    fn an_address_template_with_an_error_is_reported_with_its_file_and_line() {
        let main = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let own = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(own.path().join("en")).expect("mkdir");
        std::fs::write(own.path().join("en/relay.txt"), "ok\n{{ signatur }}\n").expect("write");
        let err = Templates::load_with(&main, &[("b@example.test".into(), own.path().to_path_buf())]).expect_err("misspelt").to_string();
        assert!(err.contains("en/relay.txt:2:"), "{err}");
        let missing = Templates::load_with(&main, &[("b@example.test".into(), own.path().join("nope"))]).expect_err("no folder");
        assert!(missing.to_string().contains("cannot read templates folder"), "{missing}");
    }

    #[test]
    fn shipped_customer_templates_end_with_the_signature_when_there_is_one() {
        let t = Templates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")).expect("valid");
        let mut ctx = sample_context();
        for lang in ["en", "fr", "de", "it", "es"] {
            let with = t.render(lang, "closure_notice", &ctx).expect("renders");
            assert!(with.trim_end().ends_with("\n\nExample Support, 1 Sample Street, Paris"), "{lang}: {with}");
        }
        ctx.signature.clear();
        let without = t.render("en", "acknowledgement", &ctx).expect("renders");
        assert!(without.ends_with("Support\n"), "no signature, nothing added: {without:?}");
    }

    #[test]
    fn undefined_variable_is_reported_with_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("en")).expect("mkdir");
        for name in REQUIRED {
            std::fs::write(dir.path().join("en").join(format!("{name}.txt")), "Hello {{ customer_name }}\n").expect("write");
        }
        std::fs::write(dir.path().join("en/relay.txt"), "line one\n{{ custmer_name }}\n").expect("write");
        let err = Templates::load(dir.path()).expect_err("undefined var");
        let text = err.to_string();
        assert!(text.contains("relay.txt:2:"), "{text}");
    }
}
