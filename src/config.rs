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
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diag::{Diagnostic, Diagnostics, from_toml};

/// A password: never printed, never logged.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
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

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// Plain TCP (loopback or trusted networks only).
    None,
    /// Plain TCP upgraded with STARTTLS.
    Starttls,
    /// TLS from the first byte (implicit TLS).
    Tls,
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
    /// The address customers write to; From and Reply-To of everything sent.
    pub support_address: String,
    /// Display name for the support address.
    pub support_name: Option<String>,
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
    /// Staff mail must be authenticated (DKIM/SPF/DMARC pass reported by a trusted server).
    pub require_authenticated_staff: bool,
    /// The `Authentication-Results` authserv-ids trusted for that.
    pub trusted_authserv_ids: Vec<String>,
    /// Where `/metrics` and `/healthz` are served (off when absent; a bare port means loopback).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// A store write that has not completed after this long means the store is
    /// wedged: the daemon exits (status 75) for its service manager to restart it
    /// (default 2 minutes; see [`crate::watchdog`]).
    pub store_stall_limit: Duration,
    /// The store's page cache in MiB (default 32): more makes big stores faster,
    /// less keeps the daemon smaller (resident memory is about 110 MB plus this at a
    /// million SRs).
    pub store_cache_mb: u64,
    /// Members of this group may use the control socket (`0660`, the data directory
    /// `0710`); without it only root and srgate's own user may.
    pub control_socket_group: Option<crate::io::access::Group>,
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
    /// Connection security.
    pub tls: Tls,
    /// Login, when the server wants one.
    pub username: Option<String>,
    /// Password for `username`.
    pub password: Option<Secret>,
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
    /// Connection security.
    pub tls: Tls,
    /// Login name.
    pub username: String,
    /// Password.
    pub password: Secret,
    /// Folder to read (default `INBOX`).
    pub folder: String,
    /// Folder processed mail is moved to; when absent it is flagged `\Seen`.
    pub processed_folder: Option<String>,
    /// Folder unreadable mail is moved to (default `Quarantine`).
    pub quarantine_folder: String,
    /// How often to look for mail when IDLE is not available.
    pub poll_interval: Duration,
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

impl Config {
    /// Loads and validates the configuration at `path`.
    pub fn load(path: &Path) -> Result<Config, Diagnostics> {
        let source =
            std::fs::read_to_string(path).map_err(|e| Diagnostics(vec![Diagnostic::in_file(path, format!("cannot read: {e}"))]))?;
        compile(path, &source)
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

    /// The control socket of a daemon running on this data directory.
    pub fn control_socket(&self) -> PathBuf {
        self.data_dir.join("srgate.sock")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: u16,
    #[serde(default = "default_tls")]
    tls: Tls,
    username: Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
    #[serde(default = "default_connections")]
    connections: usize,
    #[serde(default = "default_retry_for")]
    retry_for: String,
    #[serde(default = "default_retry_after")]
    retry_after: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMailbox {
    name: Option<String>,
    host: String,
    port: u16,
    #[serde(default = "default_tls")]
    tls: Tls,
    username: String,
    password: Option<String>,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
    #[serde(default = "default_folder")]
    folder: String,
    processed_folder: Option<String>,
    #[serde(default = "default_quarantine")]
    quarantine_folder: String,
    #[serde(default = "default_poll")]
    poll_interval: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCse {
    name: String,
    email: String,
    #[serde(default = "default_languages")]
    languages: Vec<String>,
    products: Option<Vec<String>>,
    #[serde(default)]
    on_call: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    name: String,
    domains: Vec<String>,
    #[serde(default = "default_tier")]
    tier: Tier,
    csm: Option<String>,
    timezone: Option<String>,
}

fn default_languages() -> Vec<String> {
    vec!["en".into()]
}
fn default_tier() -> Tier {
    Tier::Standard
}

fn default_tls() -> Tls {
    Tls::None
}
fn default_connections() -> usize {
    4
}
fn default_retry_for() -> String {
    "5d".into()
}
fn default_retry_after() -> String {
    "30s".into()
}
fn default_folder() -> String {
    "INBOX".into()
}
fn default_quarantine() -> String {
    "Quarantine".into()
}
fn default_poll() -> String {
    "30s".into()
}

/// Collects diagnostics while one file is compiled.
struct Compiler<'a> {
    path: &'a Path,
    source: &'a str,
    base: PathBuf,
    errors: Vec<Diagnostic>,
}

impl Compiler<'_> {
    fn error(&mut self, span: Option<std::ops::Range<usize>>, message: impl Into<String>) {
        self.errors.push(Diagnostic::at_offset(self.path, self.source, span.map(|s| s.start), message));
    }

    /// Deserializes one value, recording its error (with line) on failure.
    fn value<T: DeserializeOwned>(&mut self, value: &Spanned<DeValue<'_>>) -> Option<T> {
        match T::deserialize(ValueDeserializer::from(value.clone())) {
            Ok(v) => Some(v),
            Err(e) => {
                let mut d = from_toml(self.path, self.source, &e);
                if d.line.is_none() {
                    d.line = Some(crate::diag::line_of(self.source, value.span().start));
                }
                self.errors.push(d);
                None
            }
        }
    }

    /// Deserializes an array of tables item by item.
    fn list<T: DeserializeOwned>(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Vec<(T, std::ops::Range<usize>)> {
        let DeValue::Array(items) = value.get_ref() else {
            self.error(Some(value.span()), format!("`{key}` must be an array of tables ([[{key}]])"));
            return Vec::new();
        };
        items.iter().filter_map(|item| self.value::<T>(item).map(|v| (v, item.span()))).collect()
    }

    fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.base.join(p) }
    }

    fn duration(&mut self, text: &str, span: &std::ops::Range<usize>, key: &str) -> Duration {
        match parse_duration(text) {
            Some(d) => d,
            None => {
                self.error(Some(span.clone()), format!("`{key}`: `{text}` is not a duration (examples: \"30s\", \"5m\", \"2h\", \"5d\")"));
                Duration::from_secs(30)
            }
        }
    }

    fn password(
        &mut self,
        inline: Option<String>,
        file: Option<PathBuf>,
        env: Option<String>,
        span: &std::ops::Range<usize>,
    ) -> Option<Secret> {
        if let Some(var) = env {
            if inline.is_some() || file.is_some() {
                self.error(Some(span.clone()), "give one of `password`, `password_file` or `password_env`");
                return None;
            }
            return match std::env::var(&var) {
                Ok(p) => Some(Secret(p)),
                Err(_) => {
                    self.error(Some(span.clone()), format!("`password_env`: the environment variable {var} is not set"));
                    None
                }
            };
        }
        match (inline, file) {
            (Some(_), Some(_)) => {
                self.error(Some(span.clone()), "give one of `password`, `password_file` or `password_env`");
                None
            }
            (Some(p), None) => Some(Secret(p)),
            (None, Some(f)) => {
                let f = self.path(&f);
                match std::fs::read_to_string(&f) {
                    Ok(p) => Some(Secret(p.trim_end_matches(['\r', '\n']).to_string())),
                    Err(e) => {
                        self.error(Some(span.clone()), format!("cannot read password_file {}: {e}", f.display()));
                        None
                    }
                }
            }
            (None, None) => None,
        }
    }
}

/// Compiles configuration text; `path` names it in diagnostics and anchors relative paths.
pub fn compile(path: &Path, source: &str) -> Result<Config, Diagnostics> {
    let root = DeTable::parse(source).map_err(|e| Diagnostics(vec![from_toml(path, source, &e)]))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut c = Compiler { path, source, base, errors: Vec::new() };

    let mut data_dir: Option<PathBuf> = None;
    let mut rules_dir = PathBuf::from("rules");
    let mut templates_dir = PathBuf::from("templates");
    let mut support_address: Option<String> = None;
    let mut support_name = None;
    let mut smtp = None;
    let mut mailboxes = Vec::new();
    let mut cses = Vec::new();
    let mut accounts = Vec::new();
    let mut oncall_address: Option<String> = None;
    let mut escalation_address: Option<String> = None;
    let mut max_attachment_bytes: usize = 26_214_400;
    let mut max_message_bytes: usize = 40 * 1024 * 1024;
    let mut require_authenticated_staff = false;
    let mut trusted_authserv_ids: Vec<String> = Vec::new();
    let mut metrics_listen: Option<std::net::SocketAddr> = None;
    let mut store_stall_limit = Duration::from_secs(120);
    let mut store_cache_mb: u64 = crate::io::store::PAGE_CACHE_BYTES / (1024 * 1024);
    let mut control_socket_group = None;

    let mut present = std::collections::HashSet::new();
    for (key, value) in root.get_ref() {
        present.insert(key.get_ref().to_string());
        match &**key.get_ref() {
            "data_dir" => data_dir = c.value(value),
            "rules_dir" => rules_dir = c.value(value).unwrap_or(rules_dir),
            "templates_dir" => templates_dir = c.value(value).unwrap_or(templates_dir),
            "support_address" => support_address = c.value(value),
            "support_name" => support_name = c.value(value),
            "smtp" => smtp = c.value::<RawSmtp>(value).map(|s| (s, value.span())),
            "mailbox" => mailboxes = c.list::<RawMailbox>("mailbox", value),
            "cse" => cses = c.list::<RawCse>("cse", value),
            "account" => accounts = c.list::<RawAccount>("account", value),
            "oncall_address" => oncall_address = c.value(value),
            "escalation_address" => escalation_address = c.value(value),
            "max_attachment_bytes" => max_attachment_bytes = c.value(value).unwrap_or(max_attachment_bytes),
            "max_message_bytes" => max_message_bytes = c.value(value).unwrap_or(max_message_bytes),
            "require_authenticated_staff" => require_authenticated_staff = c.value(value).unwrap_or(false),
            "trusted_authserv_ids" => trusted_authserv_ids = c.value(value).unwrap_or_default(),
            "metrics_listen" => {
                if let Some(text) = c.value::<String>(value) {
                    let text = text.trim().trim_start_matches(':').to_string();
                    let parsed = text.parse::<u16>().map(|p| std::net::SocketAddr::from(([127, 0, 0, 1], p))).or_else(|_| text.parse());
                    match parsed {
                        Ok(a) => metrics_listen = Some(a),
                        Err(_) => c.error(
                            Some(value.span()),
                            format!("`metrics_listen`: `{text}` is not an address (\"127.0.0.1:9464\" or a port)"),
                        ),
                    }
                }
            }
            "store_stall_limit" => {
                if let Some(text) = c.value::<String>(value) {
                    store_stall_limit = c.duration(&text, &value.span(), "store_stall_limit");
                    if store_stall_limit < Duration::from_secs(10) {
                        c.error(Some(value.span()), "`store_stall_limit` must be at least 10s: a busy disk is not a wedged store");
                    }
                }
            }
            "store_cache_mb" => {
                store_cache_mb = c.value(value).unwrap_or(store_cache_mb);
                if !(4..=65_536).contains(&store_cache_mb) {
                    c.error(Some(value.span()), format!("`store_cache_mb`: {store_cache_mb} is out of range (4 to 65536)"));
                }
            }
            "control_socket_group" => {
                if let Some(name) = c.value::<String>(value) {
                    match crate::io::access::lookup_group(&name) {
                        Ok(Some(g)) => control_socket_group = Some(g),
                        Ok(None) => {
                            c.error(Some(value.span()), format!("`control_socket_group`: there is no group `{name}` on this system"))
                        }
                        Err(e) => c.error(Some(value.span()), format!("`control_socket_group`: {e}")),
                    }
                }
            }
            other => c.error(Some(key.span()), format!("unknown key `{other}`")),
        }
    }

    let whole = Some(0..0);
    if data_dir.is_none() {
        c.error(whole.clone(), "missing key `data_dir`");
    }
    match &support_address {
        None => c.error(whole.clone(), "missing key `support_address`"),
        Some(a) if !looks_like_address(a) => c.error(whole.clone(), format!("`support_address`: `{a}` is not a mail address")),
        _ => {}
    }
    let smtp = smtp.map(|(s, span)| compile_smtp(&mut c, s, &span));
    if !present.contains("smtp") {
        c.error(whole.clone(), "missing section [smtp]");
    }
    if mailboxes.is_empty() && !present.contains("mailbox") {
        c.error(whole.clone(), "no [[mailbox]] configured: give at least one");
    }
    if cses.is_empty() && !present.contains("cse") {
        c.error(whole.clone(), "no [[cse]] configured: the roster needs at least one engineer");
    }
    let mailboxes: Vec<Mailbox> =
        mailboxes.into_iter().enumerate().map(|(i, (m, span))| compile_mailbox(&mut c, m, i + 1, &span)).collect();
    let cses = compile_roster(&mut c, cses);
    let accounts = compile_accounts(&mut c, accounts);
    for (key, addr) in [("oncall_address", &oncall_address), ("escalation_address", &escalation_address)] {
        if let Some(a) = addr.as_deref().filter(|a| !looks_like_address(a)) {
            c.error(whole.clone(), format!("`{key}`: `{a}` is not a mail address"));
        }
    }
    if require_authenticated_staff && trusted_authserv_ids.is_empty() {
        c.error(
            whole.clone(),
            "`require_authenticated_staff = true` needs `trusted_authserv_ids` (the servers whose Authentication-Results you trust)",
        );
    }
    let mut names = std::collections::HashSet::new();
    for m in &mailboxes {
        if !names.insert(m.name.clone()) {
            c.error(whole.clone(), format!("two mailboxes are named `{}`: give each a distinct `name`", m.name));
        }
    }
    let mut keys = std::collections::HashSet::new();
    for m in &mailboxes {
        if !keys.insert(m.store_key()) && names.len() == mailboxes.len() {
            c.error(
                whole.clone(),
                format!("two mailboxes would share the store's reading position `{}`: give each a distinct `name`", m.store_key()),
            );
        }
    }

    if !c.errors.is_empty() {
        return Err(Diagnostics(c.errors));
    }
    let (Some(data_dir), Some(support_address), Some(smtp)) = (data_dir, support_address, smtp) else {
        return Err(Diagnostics(vec![Diagnostic::in_file(path, "incomplete configuration")]));
    };
    Ok(Config {
        path: path.to_path_buf(),
        data_dir: c.path(&data_dir),
        rules_dir: c.path(&rules_dir),
        templates_dir: c.path(&templates_dir),
        support_address,
        support_name,
        smtp,
        mailboxes,
        cses,
        oncall_address,
        escalation_address,
        accounts,
        max_attachment_bytes,
        max_message_bytes,
        require_authenticated_staff,
        trusted_authserv_ids,
        metrics_listen,
        store_stall_limit,
        store_cache_mb,
        control_socket_group,
    })
}

fn compile_accounts(c: &mut Compiler<'_>, raw: Vec<(RawAccount, std::ops::Range<usize>)>) -> Vec<Account> {
    let mut out: Vec<Account> = Vec::new();
    for (a, span) in raw {
        let timezone = a.timezone.as_deref().and_then(|tz| match jiff::tz::TimeZone::get(tz) {
            Ok(z) => Some(z),
            Err(e) => {
                c.error(Some(span.clone()), format!("account `{}`: unknown time zone `{tz}`: {e}", a.name));
                None
            }
        });
        if let Some(csm) = a.csm.as_deref().filter(|x| !looks_like_address(x)) {
            c.error(Some(span.clone()), format!("account `{}`: csm `{csm}` is not a mail address", a.name));
        }
        if a.domains.is_empty() {
            c.error(Some(span.clone()), format!("account `{}` lists no domains", a.name));
        }
        let domains: Vec<String> = a.domains.iter().map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase()).collect();
        for d in &domains {
            if let Some(other) = out.iter().find(|o| o.domains.contains(d)) {
                c.error(Some(span.clone()), format!("domain `{d}` belongs to accounts `{}` and `{}`", other.name, a.name));
            }
        }
        out.push(Account { name: a.name, domains, tier: a.tier, csm: a.csm.map(|x| x.to_ascii_lowercase()), timezone });
    }
    out
}

fn compile_smtp(c: &mut Compiler<'_>, s: RawSmtp, span: &std::ops::Range<usize>) -> Smtp {
    let password = c.password(s.password, s.password_file, s.password_env, span);
    if s.connections == 0 {
        c.error(Some(span.clone()), "`connections` must be at least 1");
    }
    let retry_for = c.duration(&s.retry_for, span, "retry_for");
    let retry_after = c.duration(&s.retry_after, span, "retry_after");
    Smtp {
        host: s.host,
        port: s.port,
        tls: s.tls,
        username: s.username,
        password,
        connections: s.connections.max(1),
        retry_for,
        retry_after,
    }
}

/// `position` is the mailbox's place in the configuration, from 1: an unnamed one is `mailbox-<position>`.
fn compile_mailbox(c: &mut Compiler<'_>, m: RawMailbox, position: usize, span: &std::ops::Range<usize>) -> Mailbox {
    let password = c.password(m.password, m.password_file, m.password_env, span).unwrap_or_else(|| {
        c.error(Some(span.clone()), format!("mailbox `{}`: give `password`, `password_file` or `password_env`", m.username));
        Secret::default()
    });
    let poll_interval = c.duration(&m.poll_interval, span, "poll_interval");
    Mailbox {
        store_key: m.name.clone().unwrap_or_else(|| format!("{}/{}", m.username, m.folder)),
        name: m.name.unwrap_or_else(|| format!("mailbox-{position}")),
        host: m.host,
        port: m.port,
        tls: m.tls,
        username: m.username,
        password,
        folder: m.folder,
        processed_folder: m.processed_folder,
        quarantine_folder: m.quarantine_folder,
        poll_interval,
    }
}

fn compile_roster(c: &mut Compiler<'_>, raw: Vec<(RawCse, std::ops::Range<usize>)>) -> Vec<Cse> {
    let mut roster: Vec<Cse> = Vec::new();
    for (cse, span) in raw {
        if !looks_like_address(&cse.email) {
            c.error(Some(span), format!("cse `{}`: `{}` is not a mail address", cse.name, cse.email));
        } else if roster.iter().any(|r| r.email.eq_ignore_ascii_case(&cse.email)) {
            c.error(Some(span), format!("cse `{}` is listed twice", cse.email));
        } else {
            let languages = cse.languages.iter().map(|l| l.to_ascii_lowercase()).collect();
            let products = cse.products.map(|p| p.iter().map(|x| x.to_ascii_lowercase()).collect());
            roster.push(Cse { name: cse.name, email: cse.email.to_ascii_lowercase(), languages, products, on_call: cse.on_call });
        }
    }
    roster
}

fn looks_like_address(a: &str) -> bool {
    let mut parts = a.splitn(2, '@');
    matches!((parts.next(), parts.next()), (Some(l), Some(d)) if !l.is_empty() && d.contains('.') && !a.contains(char::is_whitespace))
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
mod tests {
    use super::*;

    const GOOD: &str = r#"
data_dir = "data"
support_address = "support@example.test"
[smtp]
host = "127.0.0.1"
port = 2525
[[mailbox]]
host = "127.0.0.1"
port = 1143
username = "support@example.test"
password = "secret"
[[cse]]
name = "Ann"
email = "Ann@Example.test"
"#;

    #[test]
    fn good_config_compiles_with_defaults() {
        let c = compile(Path::new("/etc/srgate/srgate.toml"), GOOD).expect("valid");
        assert_eq!(c.data_dir, PathBuf::from("/etc/srgate/data"));
        assert_eq!(c.mailboxes[0].folder, "INBOX");
        assert_eq!(c.mailboxes[0].poll_interval, Duration::from_secs(30));
        assert_eq!(c.cses[0].email, "ann@example.test");
        assert!(c.cse_by_email("ANN@example.test").is_some());
        assert!(!format!("{:?}", c).contains("secret"));
    }

    #[test]
    fn every_error_is_reported_with_its_line() {
        let bad = GOOD.replace("port = 1143", "port = 1143\nfolderr = \"x\"").replace("[smtp]", "colour = 1\n[smtp]");
        let errs = compile(Path::new("c.toml"), &bad).expect_err("invalid");
        let text = errs.to_string();
        assert!(text.contains("c.toml:4: unknown key `colour`"), "{text}");
        assert!(text.contains("folderr"), "{text}");
        assert_eq!(errs.0.len(), 2, "{text}");
    }

    #[test]
    fn the_store_stall_limit_defaults_to_two_minutes_and_refuses_a_hair_trigger() {
        assert_eq!(compile(Path::new("c.toml"), GOOD).expect("valid").store_stall_limit, Duration::from_secs(120));
        let five = format!("store_stall_limit = \"5m\"\n{GOOD}");
        assert_eq!(compile(Path::new("c.toml"), &five).expect("valid").store_stall_limit, Duration::from_secs(300));
        let errs = compile(Path::new("c.toml"), &format!("store_stall_limit = \"2s\"\n{GOOD}")).expect_err("too short").to_string();
        assert!(errs.contains("c.toml:1:") && errs.contains("at least 10s"), "{errs}");
    }

    #[test]
    fn the_store_cache_is_32_mib_unless_set() {
        assert_eq!(compile(Path::new("c.toml"), GOOD).expect("valid").store_cache_mb, 32);
        assert_eq!(compile(Path::new("c.toml"), &format!("store_cache_mb = 16\n{GOOD}")).expect("valid").store_cache_mb, 16);
        let errs = compile(Path::new("c.toml"), &format!("store_cache_mb = 0\n{GOOD}")).expect_err("zero").to_string();
        assert!(errs.contains("c.toml:1:") && errs.contains("store_cache_mb"), "{errs}");
    }

    #[test]
    fn an_unnamed_mailbox_is_shown_by_its_position_and_keeps_its_legacy_store_key() -> Result<(), Box<dyn std::error::Error>> {
        let two = format!(
            "{GOOD}[[mailbox]]\nname = \"sales\"\nhost = \"127.0.0.1\"\nport = 1143\nusername = \"sales@example.test\"\npassword = \"x\"\n[[mailbox]]\nhost = \"127.0.0.1\"\nport = 1143\nusername = \"other@example.test\"\nfolder = \"Support\"\npassword = \"x\"\n"
        );
        let c = compile(Path::new("c.toml"), &two).map_err(|e| e.to_string())?;
        let shown: Vec<(&str, &str)> = c.mailboxes.iter().map(|m| (m.name.as_str(), m.store_key())).collect();
        assert_eq!(shown, [("mailbox-1", "support@example.test/INBOX"), ("sales", "sales"), ("mailbox-3", "other@example.test/Support")]);
        // A data directory written when the first mailbox was called `support@example.test/INBOX`
        // still has its reading position under that key.
        let dir = tempfile::tempdir()?;
        let store = crate::io::store::Store::open(dir.path())?;
        let read = crate::io::store::Commit { mailbox: "support@example.test/INBOX".into(), source: Some((7, 42)), ..Default::default() };
        store.commit(&read)?;
        let position = store.mailbox_state(c.mailboxes[0].store_key())?.ok_or("the old position is lost")?;
        assert_eq!((position.uid_validity, position.last_uid), (7, 42));
        Ok(())
    }

    #[test]
    fn a_name_equal_to_another_mailboxs_legacy_key_is_refused() {
        let clash = format!(
            "{GOOD}[[mailbox]]\nname = \"support@example.test/INBOX\"\nhost = \"127.0.0.1\"\nport = 1143\nusername = \"x@example.test\"\npassword = \"x\"\n"
        );
        let errs = compile(Path::new("c.toml"), &clash).expect_err("shared position").to_string();
        assert!(errs.contains("share the store's reading position `support@example.test/INBOX`"), "{errs}");
    }

    #[test]
    fn the_control_socket_group_must_exist() {
        assert_eq!(compile(Path::new("c.toml"), GOOD).expect("valid").control_socket_group, None);
        let root = compile(Path::new("c.toml"), &format!("control_socket_group = \"root\"\n{GOOD}")).expect("valid");
        assert_eq!(root.control_socket_group.map(|g| g.gid), Some(0));
        let errs = compile(Path::new("c.toml"), &format!("control_socket_group = \"no-such-group-here\"\n{GOOD}")).expect_err("unknown");
        assert!(errs.to_string().contains("c.toml:1:") && errs.to_string().contains("no group `no-such-group-here`"), "{errs}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("5d"), Some(Duration::from_secs(432_000)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("soon"), None);
    }
}
