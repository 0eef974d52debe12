//! Who really sent a mail, at the edge: DKIM signatures and the DMARC record,
//! verified by srgate itself with DNS (mail-auth over hickory), before the pure
//! decision. The findings go to the core as [`Authentication`] on the mail
//! ([`Inbound::authentication`]); [`crate::mail::auth`] judges them.
//!
//! - **Only where it matters** ([`gateway::needs_authentication`]): mail in a
//!   CSE's name that nothing else authenticates, and mail copying others. A
//!   plain customer mail is decided without DNS, so a desk without DNS does not
//!   wait on timeouts.
//! - **Only the From domain's DNS**: signatures of other domains are not verified
//!   (they could authenticate nothing), so a sender cannot make srgate wait on DNS
//!   servers of his choosing; at most [`MAX_SIGNATURES`] per mail.
//! - **Bounded**: each DNS query times out after [`QUERY_TIMEOUT`] (tried
//!   [`QUERY_ATTEMPTS`] times), the whole verification of a mail after [`MAIL_TIMEOUT`].
//! - **A DNS failure is not a forgery**: a mail in a CSE's name whose verification
//!   failed on DNS, and that nothing else authenticates, is left unread and read
//!   again on the next cycle ([`held_back`]) until [`DNS_PATIENCE`] after its
//!   arrival on the server (its INTERNALDATE); then it is decided as
//!   unauthenticated, and the CSE is told to send it again. Mail behind it waits
//!   too (the mailbox position cannot skip it), for at most that long: the
//!   mailbox is delayed, never wedged.

use std::net::SocketAddr;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use mail_auth::SpfOutput;
use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::{AuthenticatedMessage, DkimResult, DmarcResult, MessageAuthenticator, Parameters};
use tracing::{debug, info};

use crate::config::{Config, Mailbox};
use crate::gateway;
use crate::io::imap::{Connection, ImapError};
use crate::mail::auth::{self, Authentication, Checked, Dmarc};
use crate::mail::inbound::Inbound;

/// How long one DNS query may take before it is tried again.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// How many times a DNS query is tried.
pub const QUERY_ATTEMPTS: usize = 2;
/// How long verifying one mail may take in all.
pub const MAIL_TIMEOUT: Duration = Duration::from_secs(8);
/// The most DKIM signatures verified per mail.
pub const MAX_SIGNATURES: usize = 4;
/// How long after its arrival a mail in a CSE's name waits for DNS to answer.
pub const DNS_PATIENCE: SignedDuration = SignedDuration::from_mins(10);

/// The DNS client srgate verifies signatures with.
pub struct Verifier {
    client: Result<MessageAuthenticator, String>,
    resolver: String,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("resolver", &self.resolver).finish_non_exhaustive()
    }
}

/// Where the DNS questions go, in words: `dns_resolver`, or the system's resolvers.
pub fn resolver_name(config: &Config) -> String {
    match config.dns_resolver {
        Some(addr) => format!("resolver {addr}"),
        None => "the system resolver (/etc/resolv.conf)".into(),
    }
}

fn options(mut opts: ResolverOpts) -> ResolverOpts {
    opts.timeout = QUERY_TIMEOUT;
    opts.attempts = QUERY_ATTEMPTS;
    opts
}

fn client(resolver: Option<SocketAddr>) -> Result<MessageAuthenticator, String> {
    match resolver {
        Some(addr) => {
            let mut server = NameServerConfig::udp_and_tcp(addr.ip());
            for connection in &mut server.connections {
                connection.port = addr.port();
            }
            MessageAuthenticator::new(ResolverConfig::from_name_servers(vec![server]), options(ResolverOpts::default()))
                .map_err(|e| e.to_string())
        }
        None => {
            let (config, opts) = mail_auth::hickory_resolver::system_conf::read_system_conf().map_err(|e| e.to_string())?;
            if config.name_servers().is_empty() {
                return Err("no nameserver in /etc/resolv.conf".into());
            }
            MessageAuthenticator::new(config, options(opts)).map_err(|e| e.to_string())
        }
    }
}

/// Checks that DNS can be set up as configured; the reason when it cannot (for `srgate check`).
pub fn usable(config: &Config) -> Result<(), String> {
    client(config.dns_resolver).map(drop)
}

impl Verifier {
    /// A verifier asking `dns_resolver`, or the system's resolvers. A resolver that
    /// cannot be set up makes every verification a temporary failure (and is logged).
    pub fn new(config: &Config) -> Verifier {
        let resolver = resolver_name(config);
        let client = client(config.dns_resolver);
        if let Err(e) = &client {
            tracing::error!(%resolver, error = %e, "cannot set up DNS: signatures cannot be verified");
        }
        Verifier { client, resolver }
    }

    /// Verifies the DKIM signatures of `raw` aligned with `from_domain` (at most
    /// [`MAX_SIGNATURES`]) and DMARC for it, in at most [`MAIL_TIMEOUT`]. Signatures of other
    /// domains can authenticate nothing, so their keys are never asked for: a sender cannot
    /// make srgate wait on DNS servers of his choosing.
    pub async fn verify(&self, raw: &[u8], from_domain: &str) -> Authentication {
        let client = match &self.client {
            Ok(c) => c,
            Err(e) => return temp_failed(format!("DNS is not set up: {e}")),
        };
        match tokio::time::timeout(MAIL_TIMEOUT, verify_with(client, raw, from_domain)).await {
            Ok(found) => found,
            Err(_) => temp_failed(format!("no answer from {} within {} s", self.resolver, MAIL_TIMEOUT.as_secs())),
        }
    }

    /// Fills `parsed`'s [`Inbound::authentication`]: the mailbox's provider always, srgate's
    /// own DKIM and DMARC results when the decision depends on the sender (see the module docs).
    pub async fn authenticate(
        &self,
        config: &Config,
        provider: crate::config::Provider,
        raw: &[u8],
        parsed: Result<Inbound, String>,
    ) -> Result<Inbound, String> {
        let mut mail = parsed?;
        mail.authentication.provider = provider;
        if gateway::needs_authentication(config, &mail) {
            let watch = crate::time::Stopwatch::start();
            let from_domain = mail.from.rsplit('@').next().unwrap_or_default().to_string();
            mail.authentication = Authentication { provider, ..self.verify(raw, &from_domain).await };
            let found = &mail.authentication;
            debug!(seconds = watch.seconds(), checked = ?found.checked, dkim = ?found.dkim_pass, dmarc = ?found.dmarc, "sender verified");
        }
        Ok(mail)
    }
}

fn temp_failed(why: String) -> Authentication {
    Authentication { checked: Checked::TempFailed(why), ..Authentication::default() }
}

async fn verify_with(client: &MessageAuthenticator, raw: &[u8], from_domain: &str) -> Authentication {
    let mut found = Authentication { checked: Checked::Verified, ..Authentication::default() };
    let Some(mut message) = AuthenticatedMessage::parse(raw) else { return found };
    let mut kept = 0;
    message.dkim_headers.retain(|h| {
        let d = h.header.d.to_ascii_lowercase();
        let keep = auth::aligned(&d, from_domain) && kept < MAX_SIGNATURES;
        if keep {
            kept += 1;
        } else {
            found.dkim_failed.push(format!("d={d}: not verified (not aligned with {from_domain}, or over {MAX_SIGNATURES} signatures)"));
        }
        keep
    });
    let outputs = client.verify_dkim(Parameters::new(&message)).await;
    for output in &outputs {
        let domain = output.signature().map(|s| s.d.to_ascii_lowercase()).unwrap_or_else(|| "(unreadable signature)".into());
        match output.result() {
            DkimResult::Pass => found.dkim_pass.push(domain),
            DkimResult::TempError(e) => found.checked = Checked::TempFailed(format!("d={domain}: {e}")),
            DkimResult::Fail(e) | DkimResult::Neutral(e) | DkimResult::PermError(e) => found.dkim_failed.push(format!("d={domain}: {e}")),
            DkimResult::None => {}
        }
    }
    let spf = SpfOutput::new(String::new());
    let dmarc = client.verify_dmarc(Parameters::new(mail_auth::dmarc::verify::DmarcParameters::new(&message, &outputs, "", &spf))).await;
    found.dmarc = match dmarc.dkim_result() {
        DmarcResult::Pass => Dmarc::Pass,
        DmarcResult::Fail(_) => Dmarc::Fail,
        DmarcResult::TempError(e) => {
            debug!(domain = dmarc.domain(), error = %e, "DMARC record: DNS failed");
            Dmarc::TempFailed
        }
        DmarcResult::PermError(_) | DmarcResult::None => Dmarc::None,
    };
    found
}

/// True when `parsed` is a mail in a CSE's name (or a forward from an internal domain)
/// that DNS could not verify yet and that arrived less than [`DNS_PATIENCE`] ago: leave
/// it (and the mails after it) unread for the next cycle. Asks the server for its arrival (INTERNALDATE) only in that case.
pub async fn held_back(
    config: &Config,
    parsed: &Result<Inbound, String>,
    conn: &mut Connection,
    uid: u32,
    now: Timestamp,
) -> Result<bool, ImapError> {
    let Ok(mail) = parsed else { return Ok(false) };
    let staff = config.require_authenticated_staff && config.cse_by_email(&mail.from).is_some();
    // A colleague's forward too: unverified, it would open the SR for the colleague.
    let forwarder = mail.forward.is_some() && config.is_internal(&mail.from);
    if !((staff || forwarder) && auth::awaits_dns(mail, &config.trusted_authserv_ids)) {
        return Ok(false);
    }
    let wait = conn.arrived(uid).await?.is_some_and(|at| now < at + DNS_PATIENCE);
    if wait {
        info!(uid, from = %mail.from, checked = ?mail.authentication.checked, "cannot verify a mail in a CSE's name for now: DNS failed; reading it again on the next cycle");
    }
    Ok(wait)
}

/// How staff mail read from `mailbox` will be authenticated, in words (for `srgate check`);
/// the reason when it cannot be: authentication is required, the mailbox's provider has
/// no internal signal, no server is trusted and DNS cannot be asked. `dns` is [`usable`]'s answer.
pub fn plan(config: &Config, mailbox: &Mailbox, dns: &Result<(), String>) -> Result<String, String> {
    if !config.require_authenticated_staff {
        return Ok(format!("mailbox {}: staff mail is NOT authenticated (require_authenticated_staff = false)", mailbox.name));
    }
    let mut ways = Vec::new();
    match mailbox.provider {
        crate::config::Provider::Microsoft365 => {
            ways.push("Exchange Online's internal signal (X-MS-Exchange-Organization-AuthAs: Internal)".to_string())
        }
        crate::config::Provider::Google => {
            ways.push(format!("Google's own verdict (the first Authentication-Results, by {})", auth::provider::GOOGLE_AUTHSERV_ID))
        }
        crate::config::Provider::Generic => {}
    }
    if dns.is_ok() {
        ways.push(format!("DKIM (srgate verifies, {})", resolver_name(config)));
    }
    if !config.trusted_authserv_ids.is_empty() {
        ways.push(format!("Authentication-Results from {}", config.trusted_authserv_ids.join(", ")));
    }
    match (ways.is_empty(), dns) {
        (true, Err(e)) => Err(format!(
            "mailbox {}: staff mail cannot be authenticated: DNS cannot be asked ({e}), no trusted_authserv_ids and provider \"{}\"; \
             set dns_resolver, trusted_authserv_ids or the mailbox's provider",
            mailbox.name,
            mailbox.provider.as_str()
        )),
        _ => Ok(format!("mailbox {}: staff mail authenticated by {}", mailbox.name, ways.join(" or "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str, mailbox_extra: &str) -> Config {
        let text = format!(
            "data_dir = \"d\"\nsupport_address = \"support@example.test\"\n{extra}\n[smtp]\nhost = \"127.0.0.1\"\nport = 25\n[[mailbox]]\nname = \"support\"\nhost = \"127.0.0.1\"\nport = 143\nusername = \"support@example.test\"\npassword = \"p\"\n{mailbox_extra}\n[[cse]]\nname = \"Ann\"\nemail = \"ann@example.test\"\n"
        );
        crate::config::compile(std::path::Path::new("/x/srgate.toml"), &text).expect("config")
    }

    #[test]
    fn the_plan_per_mailbox_and_when_there_is_none() {
        let no_dns = Err("no nameserver in /etc/resolv.conf".to_string());
        let c = config("dns_resolver = \"127.0.0.1:5353\"\ntrusted_authserv_ids = [\"MX.example.test\"]", "");
        assert_eq!(
            plan(&c, &c.mailboxes[0], &Ok(())).expect("a plan"),
            "mailbox support: staff mail authenticated by DKIM (srgate verifies, resolver 127.0.0.1:5353) or Authentication-Results from mx.example.test"
        );
        let bare = config("", "");
        let err = plan(&bare, &bare.mailboxes[0], &no_dns).expect_err("no way to authenticate");
        assert!(err.contains("cannot be authenticated") && err.contains("no nameserver"), "{err}");
        let exchange = config("", "provider = \"microsoft365\"");
        assert!(plan(&exchange, &exchange.mailboxes[0], &no_dns).expect("Exchange's signal").contains("AuthAs: Internal"));
        let off = config("require_authenticated_staff = false", "");
        assert!(plan(&off, &off.mailboxes[0], &no_dns).expect("off").contains("NOT authenticated"));
        assert_eq!(off.warnings.len(), 1);
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn a_bad_resolver_is_a_config_error() {
        let text = "data_dir = \"d\"\nsupport_address = \"s@example.test\"\ndns_resolver = \"here\"\n[smtp]\nhost = \"h\"\nport = 25\n[[mailbox]]\nhost = \"h\"\nport = 143\nusername = \"u\"\npassword = \"p\"\n[[cse]]\nname = \"A\"\nemail = \"a@example.test\"\n";
        let errs = crate::config::compile(std::path::Path::new("c.toml"), text).expect_err("bad").to_string();
        assert!(errs.contains("c.toml:3:") && errs.contains("dns_resolver"), "{errs}");
        assert_eq!(config("dns_resolver = \"192.0.2.1\"", "").dns_resolver, Some("192.0.2.1:53".parse().expect("addr")));
    }
}
