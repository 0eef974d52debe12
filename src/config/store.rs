//! `[store]`: which engine keeps the SRs. `engine = "sled"` (the default: an
//! embedded database in `data_dir`) or `"postgres"` with `url` (or `url_file` /
//! `url_env`, so that no password sits in the configuration), `pool_size`,
//! `tls` / `allow_plaintext` / `tls_ca_file` as for the mail servers, and
//! `failover_after`: how soon another gateway takes over a mailbox whose owner
//! died or lost its database connection.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::security::{Protocol, RawSecurity, Tls, TrustedCa};
use super::{Compiler, Secret};

/// The store's engine and its settings.
#[derive(Debug, Clone, Default)]
pub struct StoreSettings {
    /// Which engine.
    pub engine: StoreEngine,
}

/// The engines.
#[derive(Debug, Clone, Default)]
pub enum StoreEngine {
    /// sled in `data_dir` (the default).
    #[default]
    Sled,
    /// A PostgreSQL database, shared by any number of gateways.
    Postgres(Postgres),
}

/// How to reach the PostgreSQL database.
#[derive(Debug, Clone)]
pub struct Postgres {
    /// The connection URL or `key=value` string (it may hold a password: never logged).
    pub url: Secret,
    /// The server's host (from the URL), for messages.
    pub host: String,
    /// Connections kept open by one gateway (default 8).
    pub pool_size: u32,
    /// `none` or `tls` (default: none to this machine, TLS elsewhere).
    pub tls: Tls,
    /// CAs trusted besides the Mozilla roots.
    pub tls_ca: Option<TrustedCa>,
    /// How long a mailbox waits for a dead owner before another gateway reads it (default 15 s).
    pub failover_after: Duration,
}

/// `[store]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    #[serde(default)]
    engine: Option<Spanned<String>>,
    url: Option<String>,
    url_file: Option<PathBuf>,
    url_env: Option<String>,
    pool_size: Option<Spanned<u32>>,
    tls: Option<Spanned<Tls>>,
    #[serde(default)]
    allow_plaintext: bool,
    tls_ca_file: Option<Spanned<PathBuf>>,
    failover_after: Option<Spanned<String>>,
}

impl Compiler<'_> {
    /// Checks `[store]` (at `span`) and makes its settings.
    pub(super) fn store(&mut self, raw: RawStore, span: &std::ops::Range<usize>) -> StoreSettings {
        let engine = raw.engine.as_ref().map(|e| e.get_ref().trim().to_ascii_lowercase());
        match engine.as_deref() {
            None | Some("sled") => {
                if raw.url.is_some() || raw.url_file.is_some() || raw.url_env.is_some() {
                    self.warning(Some(span.clone()), "[store]: `url` has no effect with `engine = \"sled\"`");
                }
                StoreSettings { engine: StoreEngine::Sled }
            }
            Some("postgres") => match self.postgres(raw, span) {
                Some(pg) => StoreSettings { engine: StoreEngine::Postgres(pg) },
                None => StoreSettings::default(),
            },
            Some(other) => {
                let at = raw.engine.as_ref().map(Spanned::span);
                self.error(at, format!("[store]: `engine = \"{other}\"`: the engines are \"sled\" and \"postgres\""));
                StoreSettings::default()
            }
        }
    }

    fn postgres(&mut self, raw: RawStore, span: &std::ops::Range<usize>) -> Option<Postgres> {
        let url = self.secret_text("url", raw.url, raw.url_file, raw.url_env, span);
        let Some(url) = url else {
            self.error(Some(span.clone()), "[store]: `engine = \"postgres\"` needs `url`, `url_file` or `url_env`");
            return None;
        };
        let parsed: Result<postgres::Config, _> = url.expose().parse();
        let parsed = match parsed {
            Ok(p) => p,
            // The parser's message never quotes the URL (it may hold a password).
            Err(e) => {
                self.error(Some(span.clone()), format!("[store]: the database URL does not parse: {e}"));
                return None;
            }
        };
        let host = match parsed.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => "localhost".to_string(),
        };
        let port = parsed.get_ports().first().copied().unwrap_or(5432);
        let pool_size = raw.pool_size.map(|p| {
            let n = *p.get_ref();
            if !(1..=512).contains(&n) {
                self.error(Some(p.span()), format!("[store]: `pool_size = {n}` is out of range (1 to 512)"));
            }
            n
        });
        if let Some(t) = &raw.tls
            && *t.get_ref() == Tls::Starttls
        {
            self.error(Some(t.span()), "[store]: `tls` is \"none\" or \"tls\" (PostgreSQL negotiates TLS itself)");
        }
        let security = RawSecurity {
            section: "[store]".into(),
            protocol: Protocol::Database,
            host: &host,
            port,
            tls: raw.tls,
            allow_plaintext: raw.allow_plaintext,
            tls_ca_file: raw.tls_ca_file,
        };
        let (tls, tls_ca) = self.security(security, span);
        let failover_after = match raw.failover_after {
            Some(text) => {
                let d = self.duration(text.get_ref(), &text.span(), "failover_after");
                if d < Duration::from_secs(3) {
                    self.error(Some(text.span()), "[store]: `failover_after` is at least 3s (a lease is renewed several times within it)");
                }
                d
            }
            None => Duration::from_secs(15),
        };
        Some(Postgres { url, host, pool_size: pool_size.unwrap_or(8), tls, tls_ca, failover_after })
    }

    /// A secret given inline (`KEY`), in a file (`KEY_file`) or in an environment variable (`KEY_env`).
    fn secret_text(
        &mut self,
        key: &str,
        inline: Option<String>,
        file: Option<PathBuf>,
        env: Option<String>,
        span: &std::ops::Range<usize>,
    ) -> Option<Secret> {
        let given = usize::from(inline.is_some()) + usize::from(file.is_some()) + usize::from(env.is_some());
        if given > 1 {
            self.error(Some(span.clone()), format!("[store]: give one of `{key}`, `{key}_file` or `{key}_env`"));
            return None;
        }
        if let Some(var) = env {
            return match std::env::var(&var) {
                Ok(v) => Some(Secret::new(v.trim())),
                Err(_) => {
                    self.error(Some(span.clone()), format!("[store]: `{key}_env`: the environment variable {var} is not set"));
                    None
                }
            };
        }
        if let Some(f) = file {
            let f = self.path(&f);
            return match std::fs::read_to_string(&f) {
                Ok(v) => Some(Secret::new(v.trim())),
                Err(e) => {
                    self.error(Some(span.clone()), format!("[store]: cannot read {key}_file {}: {e}", f.display()));
                    None
                }
            };
        }
        inline.map(Secret::new)
    }
}
