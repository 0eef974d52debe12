//! Reading and validating the configuration file in one pass: every problem,
//! with file and line, before anything runs (the ripgrep way). The raw TOML
//! shapes (`Raw*`) live here; what they become ([`Config`] and its parts) lives in
//! the parent module.
//!
//! Pure: the one question about the system (does a group exist?) is asked through
//! the [`GroupLookup`] the caller passes in.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::address::RawAddress;
use super::credential::{AuthKind, RawCredential};
use super::security::RawSecurity;
use super::*;
use crate::diag::{Diagnostic, Diagnostics, from_toml};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: u16,
    tls: Option<Spanned<Tls>>,
    #[serde(default)]
    allow_plaintext: bool,
    tls_ca_file: Option<Spanned<PathBuf>>,
    username: Option<String>,
    #[serde(default)]
    auth: AuthKind,
    credential: Option<String>,
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
    tls: Option<Spanned<Tls>>,
    #[serde(default)]
    allow_plaintext: bool,
    tls_ca_file: Option<Spanned<PathBuf>>,
    username: String,
    #[serde(default)]
    auth: AuthKind,
    credential: Option<String>,
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
    #[serde(default)]
    provider: Provider,
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
pub(super) struct Compiler<'a> {
    path: &'a Path,
    source: &'a str,
    base: PathBuf,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Compiler<'_> {
    pub(super) fn error(&mut self, span: Option<std::ops::Range<usize>>, message: impl Into<String>) {
        self.errors.push(Diagnostic::at_offset(self.path, self.source, span.map(|s| s.start), message));
    }

    /// Records something allowed but unwise; `srgate check` prints it, `run` logs it.
    pub(super) fn warning(&mut self, span: Option<std::ops::Range<usize>>, message: impl Into<String>) {
        self.warnings.push(Diagnostic::at_offset(self.path, self.source, span.map(|s| s.start), message));
    }

    /// Deserializes one value, recording its error (with line) on failure.
    pub(super) fn value<T: DeserializeOwned>(&mut self, value: &Spanned<DeValue<'_>>) -> Option<T> {
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
    pub(super) fn list<T: DeserializeOwned>(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Vec<(T, std::ops::Range<usize>)> {
        let DeValue::Array(items) = value.get_ref() else {
            self.error(Some(value.span()), format!("`{key}` must be an array of tables ([[{key}]])"));
            return Vec::new();
        };
        items.iter().filter_map(|item| self.value::<T>(item).map(|v| (v, item.span()))).collect()
    }

    pub(super) fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.base.join(p) }
    }

    pub(super) fn duration(&mut self, text: &str, span: &std::ops::Range<usize>, key: &str) -> Duration {
        match parse_duration(text) {
            Some(d) => d,
            None => {
                self.error(Some(span.clone()), format!("`{key}`: `{text}` is not a duration (examples: \"30s\", \"5m\", \"2h\", \"5d\")"));
                Duration::from_secs(30)
            }
        }
    }

    pub(super) fn password(
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
pub fn compile_with(path: &Path, source: &str, groups: GroupLookup<'_>) -> Result<Config, Diagnostics> {
    let root = DeTable::parse(source).map_err(|e| Diagnostics(vec![from_toml(path, source, &e)]))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut c = Compiler { path, source, base, errors: Vec::new(), warnings: Vec::new() };

    let mut data_dir: Option<PathBuf> = None;
    let mut rules_dir = PathBuf::from("rules");
    let mut templates_dir = PathBuf::from("templates");
    let mut kb_dir: Option<PathBuf> = None;
    let mut support_address: Option<String> = None;
    let mut support_name = None;
    let mut addresses = Vec::new();
    let mut smtp = None;
    let mut mailboxes = Vec::new();
    let mut cses = Vec::new();
    let mut accounts = Vec::new();
    let mut oncall_address: Option<String> = None;
    let mut escalation_address: Option<String> = None;
    let mut max_attachment_bytes: usize = 26_214_400;
    let mut max_message_bytes: usize = 40 * 1024 * 1024;
    let mut require_authenticated_staff = true;
    let mut trusted_authserv_ids: Vec<String> = Vec::new();
    let mut dns_resolver: Option<std::net::SocketAddr> = None;
    let mut metrics_listen: Option<std::net::SocketAddr> = None;
    let mut store_stall_limit = Duration::from_secs(120);
    let mut store_cache_mb: u64 = DEFAULT_STORE_CACHE_MB;
    let mut store = None;
    let mut control_socket_group = None;
    let mut control_socket_path: Option<PathBuf> = None;
    let mut public_domains: Vec<String> = Vec::new();
    let mut max_participants: usize = 10;
    let mut internal_domains: Vec<String> = Vec::new();
    let mut internal_span = None;
    let mut credentials = Vec::new();
    let mut admin_address: Option<String> = None;
    let mut digest = true;
    let mut digest_at: Option<jiff::civil::Time> = None;
    let mut digest_limit = super::DEFAULT_DIGEST_LIMIT;

    let mut present = std::collections::HashSet::new();
    for (key, value) in root.get_ref() {
        present.insert(key.get_ref().to_string());
        match &**key.get_ref() {
            "data_dir" => data_dir = c.value(value),
            "rules_dir" => rules_dir = c.value(value).unwrap_or(rules_dir),
            "templates_dir" => templates_dir = c.value(value).unwrap_or(templates_dir),
            "kb_dir" => kb_dir = c.value(value),
            "support_address" => support_address = c.value(value),
            "support_name" => support_name = c.value(value),
            "address" => addresses = c.list::<RawAddress>("address", value),
            "smtp" => smtp = c.value::<RawSmtp>(value).map(|s| (s, value.span())),
            "mailbox" => mailboxes = c.list::<RawMailbox>("mailbox", value),
            "cse" => cses = c.list::<RawCse>("cse", value),
            "account" => accounts = c.list::<RawAccount>("account", value),
            "credential" => credentials = c.list::<RawCredential>("credential", value),
            "admin_address" => admin_address = c.value(value),
            "oncall_address" => oncall_address = c.value(value),
            "escalation_address" => escalation_address = c.value(value),
            "max_attachment_bytes" => max_attachment_bytes = c.value(value).unwrap_or(max_attachment_bytes),
            "max_message_bytes" => max_message_bytes = c.value(value).unwrap_or(max_message_bytes),
            "require_authenticated_staff" => {
                require_authenticated_staff = c.value(value).unwrap_or(true);
                if !require_authenticated_staff {
                    c.warning(
                        Some(value.span()),
                        "`require_authenticated_staff = false`: mail whose From is a roster address is obeyed as staff without any \
                         authentication; anyone can forge it (relay to the customer, #close, #assign …). Remove the line to turn it on.",
                    );
                }
            }
            "trusted_authserv_ids" => {
                let ids: Vec<String> = c.value(value).unwrap_or_default();
                trusted_authserv_ids = ids.iter().map(|i| i.trim().trim_end_matches('.').to_ascii_lowercase()).collect();
                if trusted_authserv_ids.iter().any(|i| i.is_empty() || i.contains(char::is_whitespace)) {
                    c.error(
                        Some(value.span()),
                        "`trusted_authserv_ids`: each is a host name, as the server writes it (\"mx.example.com\")",
                    );
                }
            }
            "dns_resolver" => {
                if let Some(text) = c.value::<String>(value) {
                    let text = text.trim();
                    let parsed = text.parse::<std::net::IpAddr>().map(|ip| std::net::SocketAddr::new(ip, 53)).or_else(|_| text.parse());
                    match parsed {
                        Ok(a) => dns_resolver = Some(a),
                        Err(_) => c.error(
                            Some(value.span()),
                            format!("`dns_resolver`: `{text}` is not an address (\"127.0.0.1:5353\", or an IP for port 53)"),
                        ),
                    }
                }
            }
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
            "store" => store = c.value::<super::store::RawStore>(value).map(|s| (s, value.span())),
            "store_cache_mb" => {
                store_cache_mb = c.value(value).unwrap_or(store_cache_mb);
                if !(4..=65_536).contains(&store_cache_mb) {
                    c.error(Some(value.span()), format!("`store_cache_mb`: {store_cache_mb} is out of range (4 to 65536)"));
                }
            }
            "digest" => digest = c.value(value).unwrap_or(true),
            "digest_at" => {
                if let Some(text) = c.value::<String>(value) {
                    match jiff::civil::Time::strptime("%H:%M", text.trim()) {
                        Ok(t) => digest_at = Some(t),
                        Err(_) => c.error(Some(value.span()), format!("`digest_at`: `{text}` is not a time of day (\"09:00\")")),
                    }
                }
            }
            "digest_limit" => {
                digest_limit = c.value(value).unwrap_or(digest_limit);
                if !(1..=10_000).contains(&digest_limit) {
                    c.error(Some(value.span()), format!("`digest_limit`: {digest_limit} is out of range (1 to 10000)"));
                }
            }
            "control_socket" => control_socket_path = c.value::<PathBuf>(value),
            "control_socket_group" => {
                if let Some(name) = c.value::<String>(value) {
                    match groups(&name) {
                        Ok(Some(g)) => control_socket_group = Some(g),
                        Ok(None) => {
                            c.error(Some(value.span()), format!("`control_socket_group`: there is no group `{name}` on this system"))
                        }
                        Err(e) => c.error(Some(value.span()), format!("`control_socket_group`: {e}")),
                    }
                }
            }
            "public_domains" => {
                public_domains = c.value::<Vec<String>>(value).unwrap_or_default().iter().map(|d| d.trim().to_ascii_lowercase()).collect()
            }
            "max_participants" => {
                max_participants = c.value(value).unwrap_or(max_participants);
                if max_participants > 100 {
                    c.error(Some(value.span()), format!("`max_participants`: {max_participants} is more than 100"));
                }
            }
            "internal_domains" => {
                let domains: Vec<String> = c.value(value).unwrap_or_default();
                internal_domains =
                    domains.iter().map(|d| d.trim().trim_start_matches('@').trim_end_matches('.').to_ascii_lowercase()).collect();
                internal_span = Some(value.span());
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
    let mut compiled_credentials: Vec<crate::config::Credential> = Vec::new();
    let mut credential_spans = Vec::new();
    for (raw, span) in credentials {
        if let Some(cred) = c.credential(raw, &span) {
            if compiled_credentials.iter().any(|o| o.name == cred.name) {
                c.error(Some(span.clone()), format!("two [[credential]] sections are named `{}`", cred.name));
            }
            credential_spans.push(span);
            compiled_credentials.push(cred);
        }
    }
    let smtp_span = smtp.as_ref().map(|(_, span)| span.clone());
    let smtp = smtp.map(|(s, span)| compile_smtp(&mut c, s, &span));
    let store = store.map(|(s, span)| c.store(s, &span)).unwrap_or_default();
    if !present.contains("smtp") {
        c.error(whole.clone(), "missing section [smtp]");
    }
    if mailboxes.is_empty() && !present.contains("mailbox") {
        c.error(whole.clone(), "no [[mailbox]] configured: give at least one");
    }
    if cses.is_empty() && !present.contains("cse") {
        c.error(whole.clone(), "no [[cse]] configured: the roster needs at least one engineer");
    }
    let mut logins: Vec<(String, Option<String>, std::ops::Range<usize>)> = Vec::new();
    let mailboxes: Vec<Mailbox> = mailboxes
        .into_iter()
        .enumerate()
        .map(|(i, (m, span))| {
            let mb = compile_mailbox(&mut c, m, i + 1, &span);
            logins.push((format!("[[mailbox]] `{}`", mb.name), mb.login.credential().map(str::to_string), span));
            mb
        })
        .collect();
    if let (Some(s), Some(span)) = (&smtp, smtp_span) {
        logins.push(("[smtp]".into(), s.login.as_ref().and_then(Login::credential).map(str::to_string), span));
    }
    let cses = compile_roster(&mut c, cses);
    let addresses = c.addresses(addresses, &cses);
    let accounts = compile_accounts(&mut c, accounts, &public_domains);
    check_internal_domains(&mut c, &internal_domains, &public_domains, internal_span);
    check_credential_use(&mut c, &compiled_credentials, &credential_spans, &logins, admin_address.is_some());
    for (key, addr) in [("oncall_address", &oncall_address), ("escalation_address", &escalation_address), ("admin_address", &admin_address)]
    {
        if let Some(a) = addr.as_deref().filter(|a| !looks_like_address(a)) {
            c.error(whole.clone(), format!("`{key}`: `{a}` is not a mail address"));
        }
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
    let control_socket_path = control_socket_path.map(|p| c.path(&p));
    let (Some(data_dir), Some(support_address), Some(smtp)) = (data_dir, support_address, smtp) else {
        return Err(Diagnostics(vec![Diagnostic::in_file(path, "incomplete configuration")]));
    };
    Ok(Config {
        path: path.to_path_buf(),
        data_dir: c.path(&data_dir),
        rules_dir: c.path(&rules_dir),
        templates_dir: c.path(&templates_dir),
        kb_dir_set: kb_dir.is_some(),
        kb_dir: c.path(&kb_dir.unwrap_or_else(|| PathBuf::from("kb"))),
        support_address,
        support_name,
        addresses,
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
        dns_resolver,
        metrics_listen,
        store_stall_limit,
        store_cache_mb,
        store,
        public_domains,
        max_participants,
        internal_domains,
        warnings: c.warnings,
        control_socket_group,
        control_socket_path,
        credentials: compiled_credentials,
        admin_address,
        digest,
        digest_at,
        digest_limit,
    })
}

/// Each of `internal_domains` is a mail domain, and none is public: mail from an internal
/// domain may forward a customer's mail in their name, so anyone's domain cannot be one.
fn check_internal_domains(c: &mut Compiler<'_>, domains: &[String], public: &[String], span: Option<std::ops::Range<usize>>) {
    for d in domains {
        if d.is_empty() || !d.contains('.') || d.contains(['@', ' ', '\t', '*']) {
            c.error(span.clone(), format!("`internal_domains`: `{d}` is not a mail domain (\"example.com\")"));
        } else if crate::contacts::is_public_domain(d, public) {
            c.error(
                span.clone(),
                format!("`internal_domains`: `{d}` is a public mail domain: anyone can have an address there, so it cannot be internal"),
            );
        }
    }
}

/// Every `credential` named by a mailbox or `[smtp]` (`logins`: section, credential
/// named, its span) exists; an unused one (at its span in `spans`), or credentials
/// without `admin_address` to hear of their trouble, are warned of.
fn check_credential_use(
    c: &mut Compiler<'_>,
    credentials: &[Credential],
    spans: &[std::ops::Range<usize>],
    logins: &[(String, Option<String>, std::ops::Range<usize>)],
    admin: bool,
) {
    let mut used = std::collections::HashSet::new();
    for (section, name, span) in logins.iter().filter_map(|(section, name, span)| Some((section, name.as_ref()?, span))) {
        if credentials.iter().any(|cred| &cred.name == name) {
            used.insert(name.clone());
        } else {
            c.error(Some(span.clone()), format!("{section}: there is no [[credential]] named `{name}`"));
        }
    }
    for (cred, span) in credentials.iter().zip(spans).filter(|(cred, _)| !used.contains(&cred.name)) {
        c.warning(Some(span.clone()), format!("[[credential]] `{}` is not used by any mailbox or [smtp]", cred.name));
    }
    if let (false, Some(span)) = (admin, spans.first()) {
        c.warning(
            Some(span.clone()),
            "OAuth2 credentials without `admin_address`: nobody is mailed when one starts failing or its secret is about to expire",
        );
    }
}

fn compile_accounts(c: &mut Compiler<'_>, raw: Vec<(RawAccount, std::ops::Range<usize>)>, public: &[String]) -> Vec<Account> {
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
            if crate::contacts::is_public_domain(d, public) {
                c.error(
                    Some(span.clone()),
                    format!(
                        "account `{}`: `{d}` is a public mail domain: anyone can write from it, so it cannot identify an account",
                        a.name
                    ),
                );
            }
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
    let login = c.login("[smtp]", s.auth, s.credential, password, false, span);
    if login.is_some() && s.username.is_none() {
        c.error(Some(span.clone()), "[smtp]: signing in needs `username`");
    }
    if s.connections == 0 {
        c.error(Some(span.clone()), "`connections` must be at least 1");
    }
    let retry_for = c.duration(&s.retry_for, span, "retry_for");
    let retry_after = c.duration(&s.retry_after, span, "retry_after");
    let (tls, tls_ca) = c.security(
        RawSecurity {
            section: "[smtp]".into(),
            protocol: Protocol::Smtp,
            host: &s.host,
            port: s.port,
            tls: s.tls,
            allow_plaintext: s.allow_plaintext,
            tls_ca_file: s.tls_ca_file,
        },
        span,
    );
    Smtp { host: s.host, port: s.port, tls, tls_ca, username: s.username, login, connections: s.connections.max(1), retry_for, retry_after }
}

/// `position` is the mailbox's place in the configuration, from 1: an unnamed one is `mailbox-<position>`.
fn compile_mailbox(c: &mut Compiler<'_>, m: RawMailbox, position: usize, span: &std::ops::Range<usize>) -> Mailbox {
    let password = c.password(m.password, m.password_file, m.password_env, span);
    let section = format!("[[mailbox]] `{}`", m.name.as_deref().unwrap_or(&m.username));
    let login = c.login(&section, m.auth, m.credential, password, true, span).unwrap_or(Login::Password(Secret::default()));
    let poll_interval = c.duration(&m.poll_interval, span, "poll_interval");
    let store_key = m.name.clone().unwrap_or_else(|| format!("{}/{}", m.username, m.folder));
    let name = m.name.unwrap_or_else(|| format!("mailbox-{position}"));
    let (tls, tls_ca) = c.security(
        RawSecurity {
            section: format!("[[mailbox]] `{name}`"),
            protocol: Protocol::Imap,
            host: &m.host,
            port: m.port,
            tls: m.tls,
            allow_plaintext: m.allow_plaintext,
            tls_ca_file: m.tls_ca_file,
        },
        span,
    );
    Mailbox {
        store_key,
        name,
        host: m.host,
        port: m.port,
        tls,
        tls_ca,
        username: m.username,
        login,
        folder: m.folder,
        processed_folder: m.processed_folder,
        quarantine_folder: m.quarantine_folder,
        poll_interval,
        provider: m.provider,
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

pub(super) fn looks_like_address(a: &str) -> bool {
    let mut parts = a.splitn(2, '@');
    matches!((parts.next(), parts.next()), (Some(l), Some(d)) if !l.is_empty() && d.contains('.') && !a.contains(char::is_whitespace))
}
