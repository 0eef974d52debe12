//! Is a mail really from who its From says? Evidence a stranger cannot forge.
//!
//! Three kinds of evidence, each pure here (the edge, `io/authn.rs`,
//! gathers the one that needs DNS and hands it in as [`Authentication`]):
//!
//! - **DKIM verified by srgate itself** ([`Authentication::dkim_pass`]): a
//!   signature whose `d=` domain is aligned with the From domain (relaxed:
//!   equal, or one a subdomain of the other), and the DMARC result srgate
//!   computes from those signatures and the From domain's `_dmarc` record.
//! - **Trusted `Authentication-Results`** ([`results::trusted`]): verdicts of the
//!   servers named in `trusted_authserv_ids`, only those above the first
//!   `Received` header another server added: `dkim=pass` with `header.d`
//!   aligned, `dmarc=pass` for the From domain, `spf=pass` with `smtp.mailfrom` aligned.
//! - **The mailbox provider's internal signal** ([`provider`]): Exchange Online's
//!   `X-MS-Exchange-Organization-AuthAs: Internal`, Google's own `mx.google.com` verdict.
//!
//! [`staff_verdict`] says whether a mail in a CSE's name is authenticated and by
//! what, or what failed; [`customer_authenticated`] says whether a customer's
//! From domain passed DMARC.

pub mod provider;
pub mod results;

use serde::Deserialize;

use super::inbound::Inbound;

/// Which service hosts a support mailbox: it decides which internal-mail signals srgate may trust.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Any IMAP server: DKIM verified by srgate and trusted `Authentication-Results`.
    #[default]
    Generic,
    /// Exchange Online: also `X-MS-Exchange-Organization-AuthAs: Internal`.
    Microsoft365,
    /// Google Workspace: also the `mx.google.com` verdict at the top of the headers.
    Google,
}

impl Provider {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Generic => "generic",
            Provider::Microsoft365 => "microsoft365",
            Provider::Google => "google",
        }
    }
}

/// How far srgate's own verification of a mail went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Checked {
    /// Not verified (it did not matter for this mail, or nothing was asked yet).
    #[default]
    NotChecked,
    /// Every signature and the DMARC record were looked up.
    Verified,
    /// A DKIM key lookup failed for a reason that may pass (timeout, SERVFAIL): the reason.
    TempFailed(String),
}

/// DMARC for the From domain, computed by srgate from the DKIM signatures it verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dmarc {
    /// Not computed, or the From domain publishes no DMARC record.
    #[default]
    None,
    /// A verified DKIM signature is aligned with the From domain under its record.
    Pass,
    /// The domain publishes a record and no verified signature is aligned with it.
    Fail,
    /// The record could not be looked up for now (DNS failure): not a pass.
    TempFailed,
}

/// What the edge found out about a mail before the pure decision: srgate's own
/// DKIM and DMARC results, and which provider hosts the mailbox it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authentication {
    /// How far the verification went.
    pub checked: Checked,
    /// The `d=` domains (lower case) of the DKIM signatures that verified.
    pub dkim_pass: Vec<String>,
    /// The signatures that did not verify, in words (`d=evil.example: body hash mismatch`).
    pub dkim_failed: Vec<String>,
    /// DMARC for the From domain.
    pub dmarc: Dmarc,
    /// The service hosting the mailbox the mail was read from.
    pub provider: Provider,
}

/// Is a mail in a CSE's name authenticated?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Yes, and by what (for logs and the SR's events).
    Authenticated(String),
    /// No, and what failed.
    Unauthenticated(String),
}

impl Verdict {
    /// True for [`Verdict::Authenticated`].
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Authenticated(_))
    }
}

/// The domain of an address (lower case), or the value itself when it is a bare domain.
fn domain_of(address: &str) -> String {
    let d = address.trim().trim_start_matches('@');
    d.rsplit('@').next().unwrap_or(d).trim_end_matches('.').to_ascii_lowercase()
}

/// Relaxed alignment: `d` is the From domain, or one is a subdomain of the other. Whoever
/// can sign for a parent or child domain controls that domain's DNS, hence the From domain's.
pub fn aligned(d: &str, from_domain: &str) -> bool {
    let (d, from) = (domain_of(d), domain_of(from_domain));
    !d.is_empty() && (d == from || from.ends_with(&format!(".{d}")) || d.ends_with(&format!(".{from}"))) && d.contains('.')
}

/// The trusted verdict in `r` that authenticates `from_domain`, if it is one.
fn authenticates(r: &results::AuthResult, from_domain: &str) -> bool {
    if r.result != "pass" {
        return false;
    }
    match r.method.as_str() {
        "dkim" => r.prop("header.d").or(r.prop("header.i")).is_some_and(|d| aligned(d, from_domain)),
        "dmarc" => r.prop("header.from").is_some_and(|d| domain_of(d) == domain_of(from_domain)),
        "spf" => r.prop("smtp.mailfrom").is_some_and(|d| aligned(d, from_domain)),
        _ => false,
    }
}

/// Every result srgate may believe for `mail`: the trusted servers' and the provider's.
fn believed(mail: &Inbound, trusted: &[String]) -> Vec<results::AuthResult> {
    let mut all = results::trusted(&mail.headers, trusted);
    if mail.authentication.provider == Provider::Google {
        all.extend(results::first_by(&mail.headers, provider::GOOGLE_AUTHSERV_ID));
    }
    all
}

/// Whether `mail`, From a roster address, is authenticated as its sender: by the
/// provider's internal signal, by a DKIM signature srgate verified aligned with the
/// From domain, or by a trusted `Authentication-Results` verdict aligned with it.
/// `trusted` is `trusted_authserv_ids`.
pub fn staff_verdict(mail: &Inbound, trusted: &[String]) -> Verdict {
    let from_domain = domain_of(&mail.from);
    let auth = &mail.authentication;
    if let Some(signal) = provider::internal(&mail.headers, auth.provider) {
        return Verdict::Authenticated(signal);
    }
    if let Some(d) = auth.dkim_pass.iter().find(|d| aligned(d, &from_domain)) {
        return Verdict::Authenticated(format!("DKIM signature of {d} verified by srgate"));
    }
    let believed = believed(mail, trusted);
    if let Some(r) = believed.iter().find(|r| authenticates(r, &from_domain)) {
        return Verdict::Authenticated(format!("{r}"));
    }
    let mut why = Vec::new();
    match &auth.checked {
        Checked::NotChecked => why.push("srgate did not verify its signatures".to_string()),
        Checked::TempFailed(e) => why.push(format!("DNS failed while verifying its signatures ({e})")),
        Checked::Verified if auth.dkim_pass.is_empty() && auth.dkim_failed.is_empty() => why.push("no DKIM signature".to_string()),
        Checked::Verified => {}
    }
    for d in auth.dkim_pass.iter().filter(|d| !aligned(d, &from_domain)) {
        why.push(format!("DKIM signature of {d}, not of {from_domain}"));
    }
    why.extend(auth.dkim_failed.iter().map(|f| format!("DKIM {f}")));
    if trusted.is_empty() && auth.provider == Provider::Generic {
        why.push("no trusted_authserv_ids configured".into());
    } else if believed.is_empty() {
        why.push("no Authentication-Results from a trusted server".into());
    } else {
        let verdicts: Vec<String> = believed.iter().map(ToString::to_string).collect();
        why.push(format!("trusted verdicts do not authenticate {from_domain}: {}", verdicts.join("; ")));
    }
    Verdict::Unauthenticated(format!("From {} not authenticated: {}", mail.from, why.join("; ")))
}

/// True when `mail`'s From domain passed DMARC: as srgate computed it from the
/// DKIM signatures it verified, or in a trusted `Authentication-Results` verdict.
/// `trusted` is `trusted_authserv_ids`. For the decisions that must not trust a
/// forgeable From (participants copied in, replies to strangers).
pub fn customer_authenticated(mail: &Inbound, trusted: &[String]) -> bool {
    let from_domain = domain_of(&mail.from);
    mail.authentication.dmarc == Dmarc::Pass
        || believed(mail, trusted).iter().any(|r| r.method == "dmarc" && authenticates(r, &from_domain))
}

/// True when waiting may change the verdict: srgate's verification failed on DNS,
/// and nothing else authenticates the mail.
pub fn awaits_dns(mail: &Inbound, trusted: &[String]) -> bool {
    matches!(mail.authentication.checked, Checked::TempFailed(_)) && !staff_verdict(mail, trusted).passed()
}

#[cfg(test)]
mod tests;
