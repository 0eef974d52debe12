//! The configuration file: raw TOML → validated [`Config`].
//!
//! Loading happens in two stages, as in ripgrep and vector: the TOML document
//! is parsed with spans, every section is deserialized on its own (so one bad
//! section does not hide the next), and then the values are validated. Every
//! problem is reported at once, each with file and line.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::diag::{Diagnostic, Diagnostics};
pub use crate::mail::auth::Provider;

/// The store's page cache unless `store_cache_mb` says otherwise (the storage engine's own
/// default, 1 GiB, lets memory grow with the store).
pub const DEFAULT_STORE_CACHE_MB: u64 = 32;

/// The most SRs one list of a desk mail shows unless `digest_limit` says otherwise.
pub const DEFAULT_DIGEST_LIMIT: usize = 100;

mod address;
mod compile;
mod credential;
mod security;
mod store;

pub use address::{Identity, SupportAddress};
use compile::Compiler;
pub use compile::compile_with;
pub use credential::{ClientSecret, Credential, Login};
pub use security::{Protocol, Tls, TrustedCa, default_tls, is_loopback};
pub use store::{Postgres, StoreEngine, StoreSettings};

/// A password, client secret or token: never printed, never logged.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret that did not come from the configuration (a token).
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The password itself, for the one place that sends it to a server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this configuration came from.
    pub path: PathBuf,
    /// Where the store, attachments and control socket live.
    pub data_dir: PathBuf,
    /// Folder of rule and policy files.
    pub rules_dir: PathBuf,
    /// Folder of mail templates (`<lang>/<name>.txt`).
    pub templates_dir: PathBuf,
    /// Folder of knowledge-base articles (`kb_dir`, default `kb` beside the config file).
    pub kb_dir: PathBuf,
    /// True when `kb_dir` was written in the config: then the folder must exist.
    pub kb_dir_set: bool,
    /// The address customers write to; From and Reply-To of everything sent (of an SR
    /// opened on another `[[address]]`: that one).
    pub support_address: String,
    /// Display name for the support address.
    pub support_name: Option<String>,
    /// More support addresses (`[[address]]`), each with its name, signature, templates and
    /// triage defaults; `support_address` stays the default (see [`Config::identity`]).
    pub addresses: Vec<SupportAddress>,
    /// Outgoing mail server.
    pub smtp: Smtp,
    /// Mailboxes to read.
    pub mailboxes: Vec<Mailbox>,
    /// The roster of support engineers.
    pub cses: Vec<Cse>,
    /// Where after-hours P1 pages go (no page when absent).
    pub oncall_address: Option<String>,
    /// Where first-response warnings (and later escalations) go (none when absent).
    pub escalation_address: Option<String>,
    /// Customer accounts, found by sender domain.
    pub accounts: Vec<Account>,
    /// Attachments larger than this are stored but not forwarded (bytes; default 25 MiB).
    pub max_attachment_bytes: usize,
    /// Messages larger than this are quarantined unparsed (bytes; default 40 MiB).
    pub max_message_bytes: usize,
    /// Staff mail must be authenticated (default true): DKIM verified by srgate, a trusted
    /// `Authentication-Results` verdict or the mailbox provider's internal signal
    /// (see [`crate::mail::auth`]). False is an explicit, warned opt-out.
    pub require_authenticated_staff: bool,
    /// The servers whose `Authentication-Results` count, by authserv-id; a `Received`
    /// header naming one of them in its `by` clause is theirs (see [`crate::mail::auth`]).
    pub trusted_authserv_ids: Vec<String>,
    /// The DNS server srgate asks for DKIM keys and DMARC records (`dns_resolver =
    /// "127.0.0.1:5353"`); `None` means the system's resolvers (`/etc/resolv.conf`).
    pub dns_resolver: Option<std::net::SocketAddr>,
    /// Where `/metrics` and `/healthz` are served (off when absent; a bare port means loopback).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// A store write that has not completed after this long means the store is
    /// wedged: srgate exits (status 75) for its service manager to restart it
    /// (default 2 minutes; see [`crate::watchdog`]).
    pub store_stall_limit: Duration,
    /// The store's page cache in MiB (default 32): more makes big stores faster,
    /// less keeps srgate smaller (resident memory is about 110 MB plus this at a
    /// million SRs).
    pub store_cache_mb: u64,
    /// `[store]`: sled in `data_dir` (the default) or a PostgreSQL database.
    pub store: StoreSettings,
    /// Mail domains that are public besides the built-in list (see
    /// [`crate::contacts::PUBLIC_DOMAINS`]): never an account's, never a scope.
    pub public_domains: Vec<String>,
    /// The most addresses besides the customer that take part in one SR (default 10).
    pub max_participants: usize,
    /// Mail domains of the organisation itself (`internal_domains`, lower case): an
    /// authenticated mail from one of them (or a subdomain) that forwards a customer's
    /// mail opens the SR for the original sender (see [`crate::mail::forward`]).
    pub internal_domains: Vec<String>,
    /// What is allowed but unwise (plaintext to a remote server, …): `srgate check`
    /// prints each as `file:line: warning: …` and `run` logs them at start.
    pub warnings: Vec<Diagnostic>,
    /// Members of this group may use the control socket (`0660`, the data directory
    /// `0710`); without it only root and srgate's own user may.
    pub control_socket_group: Option<Group>,
    /// Where the control socket is, when not in `data_dir` (e.g. `/run/srgate/srgate.sock`:
    /// a data directory on a file system without sockets, or kept apart from them).
    pub control_socket_path: Option<PathBuf>,
    /// OAuth2 credentials (`[[credential]]`), named by `credential` in a mailbox or `[smtp]`.
    pub credentials: Vec<Credential>,
    /// Who is mailed when a credential starts failing or a secret is about to expire.
    pub admin_address: Option<String>,
    /// Daily digests (default true): each CSE's open SRs, and the team summary to
    /// `escalation_address`, once per business day (`digest = false` turns them off).
    pub digest: bool,
    /// When the digests go out, local time in the policy's zone (`digest_at = "09:00"`);
    /// `None`: when business hours start that day.
    pub digest_at: Option<jiff::civil::Time>,
    /// The most SRs one list of a digest or a `#queue` answer shows, most urgent (or
    /// oldest) first; the rest are counted, not listed (`digest_limit = 100`).
    pub digest_limit: usize,
}

/// Service tier of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The default.
    Standard,
    /// Has a named Customer Service Manager.
    Premium,
}

impl Tier {
    /// The name used in rules and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Standard => "standard",
            Tier::Premium => "premium",
        }
    }
}

/// A customer organisation.
#[derive(Debug, Clone)]
pub struct Account {
    /// Name, as rules and reports use it.
    pub name: String,
    /// Sender domains that belong to it (lower case).
    pub domains: Vec<String>,
    /// Service tier.
    pub tier: Tier,
    /// The Customer Service Manager's address (premium accounts).
    pub csm: Option<String>,
    /// The customer's time zone, for times quoted to them.
    pub timezone: Option<jiff::tz::TimeZone>,
}

/// Outgoing mail server settings.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Connection security (default: see [`default_tls`]).
    pub tls: Tls,
    /// CAs trusted besides the Mozilla roots.
    pub tls_ca: Option<TrustedCa>,
    /// Login, when the server wants one.
    pub username: Option<String>,
    /// How `username` signs in (`None`: no SMTP AUTH).
    pub login: Option<Login>,
    /// Parallel connections used to deliver the outbox.
    pub connections: usize,
    /// How long a temporarily refused mail is retried before it is given up.
    pub retry_for: Duration,
    /// The first retry delay; it doubles with each attempt, up to an hour.
    pub retry_after: Duration,
}

/// One IMAP mailbox to read.
#[derive(Debug, Clone)]
pub struct Mailbox {
    /// Its name in health, metrics, logs and rules: the configured `name`, else
    /// `mailbox-N` by its position in the configuration (from 1).
    pub name: String,
    /// Where the store keeps this mailbox's reading position (see [`Mailbox::store_key`]).
    store_key: String,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Connection security (default: see [`default_tls`]).
    pub tls: Tls,
    /// CAs trusted besides the Mozilla roots.
    pub tls_ca: Option<TrustedCa>,
    /// Login name.
    pub username: String,
    /// How `username` signs in: a password or an OAuth2 credential.
    pub login: Login,
    /// Folder to read (default `INBOX`).
    pub folder: String,
    /// Folder processed mail is moved to; when absent it is flagged `\Seen`.
    pub processed_folder: Option<String>,
    /// Folder unreadable mail is moved to (default `Quarantine`).
    pub quarantine_folder: String,
    /// How often to look for mail when IDLE is not available.
    pub poll_interval: Duration,
    /// The service hosting the mailbox, whose internal-mail signals may be trusted.
    pub provider: Provider,
}

/// A support engineer on the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cse {
    /// Display name.
    pub name: String,
    /// Mail address (compared case-insensitively).
    pub email: String,
    /// Languages they handle (ISO 639-1; default `["en"]`).
    pub languages: Vec<String>,
    /// Products they handle; `None` means every product.
    pub products: Option<Vec<String>>,
    /// On the on-call rota for after-hours P1s.
    pub on_call: bool,
}

impl Cse {
    /// True when they handle `product` (every CSE handles "no product").
    pub fn handles_product(&self, product: Option<&str>) -> bool {
        match (product, &self.products) {
            (None, _) | (_, None) => true,
            (Some(p), Some(list)) => list.iter().any(|x| x.eq_ignore_ascii_case(p)),
        }
    }

    /// True when they speak `language`.
    pub fn speaks(&self, language: &str) -> bool {
        self.languages.iter().any(|l| l.eq_ignore_ascii_case(language))
    }
}

impl Mailbox {
    /// The key of this mailbox's reading position and pending flags in the store:
    /// the configured `name`, else `username/folder`, the name an unnamed mailbox
    /// had before `mailbox-N` (so a data directory written then keeps its place).
    /// Only the store uses it; everything shown to people uses [`Mailbox::name`].
    pub fn store_key(&self) -> &str {
        &self.store_key
    }
}

/// A system group (`control_socket_group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Its name.
    pub name: String,
    /// Its number.
    pub gid: u32,
}

/// How the configuration asks the system for a group by name: the edge passes
/// `io::access::lookup_group`; `Err` is a reason the lookup could not be made.
pub type GroupLookup<'a> = &'a dyn Fn(&str) -> Result<Option<Group>, String>;

/// [`compile_with`] where no group can be looked up: a `control_socket_group` is
/// then an error (tests and tools that never bind the control socket).
pub fn compile(path: &Path, source: &str) -> Result<Config, Diagnostics> {
    compile_with(path, source, &|_| Err("groups cannot be looked up here".to_string()))
}

impl Config {
    /// Loads and validates the configuration at `path`, asking `groups` about
    /// `control_socket_group`.
    pub fn load(path: &Path, groups: GroupLookup<'_>) -> Result<Config, Diagnostics> {
        let source =
            std::fs::read_to_string(path).map_err(|e| Diagnostics(vec![Diagnostic::in_file(path, format!("cannot read: {e}"))]))?;
        compile_with(path, &source, groups)
    }

    /// The roster entry for `address`, if it belongs to a CSE.
    pub fn cse_by_email(&self, address: &str) -> Option<&Cse> {
        self.cses.iter().find(|c| c.email.eq_ignore_ascii_case(address))
    }

    /// The account a sender address belongs to, by its domain.
    pub fn account_of(&self, address: &str) -> Option<&Account> {
        let domain = address.rsplit('@').next()?.to_ascii_lowercase();
        self.accounts.iter().find(|a| a.domains.contains(&domain))
    }

    /// True when `address` is of an internal domain (`internal_domains`, or a subdomain of one).
    /// Says nothing about who sent a mail in that name: see [`crate::gateway`].
    pub fn is_internal(&self, address: &str) -> bool {
        let Some((_, domain)) = address.rsplit_once('@') else { return false };
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        self.internal_domains.iter().any(|d| domain == *d || domain.strip_suffix(d.as_str()).is_some_and(|rest| rest.ends_with('.')))
    }

    /// The `[[credential]]` named `name`.
    pub fn credential(&self, name: &str) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.name == name)
    }

    /// Where srgate keeps its OAuth2 tokens and their health (`data_dir/credentials`, 0700).
    pub fn credentials_dir(&self) -> PathBuf {
        self.data_dir.join("credentials")
    }

    /// The control socket of the srgate running on this data directory (`control_socket`,
    /// default `data_dir/srgate.sock`).
    pub fn control_socket(&self) -> PathBuf {
        self.control_socket_path.clone().unwrap_or_else(|| self.data_dir.join("srgate.sock"))
    }
}

/// Parses `"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"5d"` (a bare number means seconds).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => return Some(Duration::from_millis(n)),
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests;
