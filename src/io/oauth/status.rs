//! `srgate auth status [--json]`: each credential's flow, who signs in with it,
//! its token expiry, the age of its refresh token, a known secret expiry, and its
//! last success and error. Read from the files the daemon keeps, so it answers
//! whether the daemon runs or not; no token or secret is ever shown.

use jiff::Timestamp;
use serde::Serialize;

use super::files::CredentialFiles;
use crate::config::{Config, Credential, Login};
use crate::oauth::{Health, Tokens};

/// One credential's state.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialStatus {
    /// The credential's name.
    pub name: String,
    /// `microsoft`, `google` or `generic`.
    pub provider: &'static str,
    /// `client_credentials`, `device_code` or `refresh_token`.
    pub flow: &'static str,
    /// The accounts that sign in with it (mailbox and SMTP user names).
    pub accounts: Vec<String>,
    /// Where it is used (`mailbox NAME`, `smtp`).
    pub used_by: Vec<String>,
    /// When the access token held expires.
    pub access_token_expires_at: Option<Timestamp>,
    /// Whether a refresh token is held.
    pub has_refresh_token: bool,
    /// When the refresh token held was issued.
    pub refresh_token_obtained_at: Option<Timestamp>,
    /// Its age in days.
    pub refresh_token_age_days: Option<f64>,
    /// When the client secret or certificate expires, when known.
    pub client_secret_expires_at: Option<Timestamp>,
    /// The last time a token was obtained or accepted.
    pub last_success: Option<Timestamp>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<Timestamp>,
    /// True when the credential is failing now.
    pub failing: bool,
    /// `ok`, `failing`, `not signed in` or `unused yet`.
    pub state: &'static str,
}

/// The state of every credential of `config` at `now`.
pub fn status(config: &Config, now: Timestamp) -> Vec<CredentialStatus> {
    config.credentials.iter().map(|c| one(config, c, now)).collect()
}

fn one(config: &Config, credential: &Credential, now: Timestamp) -> CredentialStatus {
    let files = CredentialFiles::new(&config.credentials_dir(), &credential.name);
    let tokens: Tokens = CredentialFiles::read(&files.tokens()).ok().flatten().map(|(t, _)| t).unwrap_or_default();
    let health: Health = CredentialFiles::read(&files.health()).ok().flatten().map(|(h, _)| h).unwrap_or_default();
    let mut accounts = Vec::new();
    let mut used_by = Vec::new();
    let uses = |login: Option<&Login>| login.and_then(Login::credential) == Some(credential.name.as_str());
    for m in config.mailboxes.iter().filter(|m| uses(Some(&m.login))) {
        used_by.push(format!("mailbox {}", m.name));
        accounts.push(m.username.clone());
    }
    if uses(config.smtp.login.as_ref()) {
        used_by.push("smtp".into());
        accounts.extend(config.smtp.username.clone());
    }
    accounts.sort();
    accounts.dedup();
    let failing = health.failing(now);
    let state = if failing {
        "failing"
    } else if credential.flow.uses_refresh_token() && tokens.refresh_token.is_none() && credential.refresh_token_file.is_none() {
        "not signed in"
    } else if health.last_success.is_none() {
        "unused yet"
    } else {
        "ok"
    };
    CredentialStatus {
        name: credential.name.clone(),
        provider: credential.provider.as_str(),
        flow: credential.flow.as_str(),
        accounts,
        used_by,
        access_token_expires_at: tokens.access_expires_at,
        has_refresh_token: tokens.refresh_token.is_some(),
        refresh_token_obtained_at: tokens.refresh_obtained_at,
        refresh_token_age_days: tokens.refresh_obtained_at.map(|t| (now.duration_since(t).as_secs_f64() / 86_400.0 * 10.0).round() / 10.0),
        client_secret_expires_at: credential.expiry().map(|(_, at)| at),
        last_success: health.last_success,
        last_error: health.last_error,
        last_error_at: health.last_error_at,
        failing,
        state,
    }
}

/// The human view: a paragraph per credential.
pub fn render(rows: &[CredentialStatus]) -> String {
    if rows.is_empty() {
        return "no [[credential]] configured\n".into();
    }
    let show = |t: Option<Timestamp>| t.map_or_else(|| "-".to_string(), |t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string());
    let mut out = String::new();
    for r in rows {
        out.push_str(&format!("{}: {} ({} {}, for {})\n", r.name, r.state, r.provider, r.flow, r.accounts.join(", ")));
        out.push_str(&format!("  used by:              {}\n", if r.used_by.is_empty() { "-".into() } else { r.used_by.join(", ") }));
        out.push_str(&format!("  access token expires: {}\n", show(r.access_token_expires_at)));
        if r.flow != "client_credentials" {
            let age = r.refresh_token_age_days.map_or_else(|| "-".to_string(), |d| format!("{d} days"));
            out.push_str(&format!("  refresh token:        {} (age {age})\n", if r.has_refresh_token { "held" } else { "none" }));
        }
        out.push_str(&format!("  secret expires:       {}\n", show(r.client_secret_expires_at)));
        out.push_str(&format!("  last success:         {}\n", show(r.last_success)));
        if let Some(e) = &r.last_error {
            out.push_str(&format!("  last error:           {} ({})\n", e, show(r.last_error_at)));
        }
    }
    out
}
