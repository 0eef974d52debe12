//! Mail templates: loaded and compiled once, checked with a sample context, rendered by name.
//!
//! Layout: `templates/<language>/<name>.txt` (minijinja syntax). A template
//! missing in the SR's language falls back to `en`. `srgate check` compiles
//! every file and renders each with a sample context in strict mode, so a
//! misspelt variable is caught with its file and line before any mail is sent.

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
];

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
    /// The support address.
    pub support_address: String,
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
    /// Who forwarded the customer's mail to support (`Name (address)`), on the
    /// acknowledgement of an SR opened from a colleague's forward; empty otherwise.
    pub forwarded_by: String,
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
    names: Vec<String>,
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
        let mut errors = Vec::new();
        let mut sources: BTreeMap<String, (PathBuf, String)> = BTreeMap::new();
        let langs = std::fs::read_dir(dir)
            .map_err(|e| Diagnostics(vec![Diagnostic::in_file(dir, format!("cannot read templates folder: {e}"))]))?;
        for lang in langs.flatten().filter(|e| e.path().is_dir()) {
            let Ok(files) = std::fs::read_dir(lang.path()) else { continue };
            for file in files.flatten() {
                let path = file.path();
                if path.extension().and_then(|e| e.to_str()) != Some("txt") {
                    continue;
                }
                let key = format!("{}/{}", lang.file_name().to_string_lossy(), file.file_name().to_string_lossy());
                match std::fs::read_to_string(&path) {
                    Ok(src) => {
                        sources.insert(key, (path, src));
                    }
                    Err(e) => errors.push(Diagnostic::in_file(&path, format!("cannot read: {e}"))),
                }
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
        let sample = sample_context();
        for key in &names {
            if let Err(e) = env.get_template(key).and_then(|t| t.render(minijinja::value::Serde(&sample))) {
                let path = sources.get(key).map(|(p, _)| p.clone()).unwrap_or_else(|| dir.join(key));
                errors.push(Diagnostic { file: path, line: e.line(), message: e.to_string() });
            }
        }
        if errors.is_empty() { Ok(Templates { env, names }) } else { Err(Diagnostics(errors)) }
    }

    /// Renders template `name` in `language`, falling back to English.
    pub fn render(&self, language: &str, name: &str, ctx: &MailContext) -> Result<String, RenderError> {
        let local = format!("{language}/{name}.txt");
        let key = if self.names.contains(&local) { local } else { format!("en/{name}.txt") };
        let err = |e: minijinja::Error| RenderError { name: key.clone(), message: e.to_string() };
        self.env.get_template(&key).and_then(|t| t.render(minijinja::value::Serde(ctx))).map_err(err)
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
