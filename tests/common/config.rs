//! The lines of a test's srgate configuration that depend on the mail stack: where the
//! servers are and how srgate reaches them (over TLS, trusting the stack's test CA).
//! Every test config takes them from here, so a change of how srgate meets the stack
//! is made once.
//!
//! ```ignore
//! let lines = ms.srgate_lines();                // IMAPS, SMTP over STARTTLS
//! let config = format!(
//!     "{top}data_dir = \"data\"\n…\n{smtp}retry_after = \"1s\"\n[[mailbox]]\nname = \"support\"\n{mailbox}username = …",
//!     top = lines.top_level(), smtp = lines.smtp_section(), mailbox = lines.mailbox_lines(),
//! );
//! ```

use std::path::{Path, PathBuf};

use super::MailStack;

/// How srgate secures one connection to the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackTls {
    /// TLS from the first byte: the stack's IMAPS or SMTPS port.
    Implicit,
    /// STARTTLS on the stack's IMAP or SMTP port.
    Starttls,
}

/// The stack-specific lines of one srgate configuration (see the module docs).
#[derive(Debug, Clone)]
pub struct StackLines<'a> {
    ms: &'a MailStack,
    imap: StackTls,
    smtp: StackTls,
    ca_file: Option<PathBuf>,
}

impl MailStack {
    /// The stack-specific lines of an srgate configuration: IMAP over implicit TLS, SMTP
    /// over STARTTLS, both trusting the stack's CA ([`MailStack::ca_file`]).
    pub fn srgate_lines(&self) -> StackLines<'_> {
        StackLines { ms: self, imap: StackTls::Implicit, smtp: StackTls::Starttls, ca_file: Some(self.ca_file.clone()) }
    }
}

impl StackLines<'_> {
    /// How the `[[mailbox]]` reaches Dovecot.
    pub fn imap(mut self, tls: StackTls) -> Self {
        self.imap = tls;
        self
    }

    /// How `[smtp]` reaches Postfix.
    pub fn smtp(mut self, tls: StackTls) -> Self {
        self.smtp = tls;
        self
    }

    /// Trust `file` instead of the stack's CA (e.g. a CA that did not sign the stack's
    /// certificate), or, with `None`, only the Mozilla roots.
    pub fn ca_file(mut self, file: Option<&Path>) -> Self {
        self.ca_file = file.map(Path::to_path_buf);
        self
    }

    /// Top-level keys the stack needs (before any table): the test DNS server, which
    /// serves the DKIM keys the stack signs with ([`super::dns`]); and no daily digests,
    /// which would add mail to the CSEs' inboxes on business mornings (a test that wants
    /// them replaces `digest = false`, see tests/intake_e2e.rs).
    /// With `SRGATE_TEST_STORE=postgres` also the store: a fresh, migrated database of
    /// the tests' PostgreSQL ([`store_line`]), so that the same suites run on both engines.
    pub fn top_level(&self) -> String {
        format!("{}{}", self.top_level_own_store(), store_line())
    }

    /// [`Self::top_level`] for a test that names its own store (whichever engine the
    /// suites run on).
    pub fn top_level_own_store(&self) -> String {
        format!("{}digest = false\n", super::dns::dns_resolver_line())
    }

    /// The `[smtp]` table header and its connection lines; more `[smtp]` keys may follow.
    pub fn smtp_section(&self) -> String {
        let port = match self.smtp {
            StackTls::Implicit => self.ms.smtps_port,
            StackTls::Starttls => self.ms.smtp_port,
        };
        format!("[smtp]\n{}", self.connection(port, self.smtp))
    }

    /// The connection lines of a `[[mailbox]]` (`host`, `port`, `tls`, `tls_ca_file`),
    /// to put after its table header.
    pub fn mailbox_lines(&self) -> String {
        let port = match self.imap {
            StackTls::Implicit => self.ms.imaps_port,
            StackTls::Starttls => self.ms.imap_port,
        };
        self.connection(port, self.imap)
    }

    fn connection(&self, port: u16, tls: StackTls) -> String {
        let tls = match tls {
            StackTls::Implicit => "tls",
            StackTls::Starttls => "starttls",
        };
        let mut lines = format!("host = {}\nport = {port}\ntls = \"{tls}\"\n", toml_string(&self.ms.host));
        if let Some(ca) = &self.ca_file {
            lines += &format!("tls_ca_file = {}\n", toml_string(&ca.to_string_lossy()));
        }
        lines
    }
}

/// True when the suites run on PostgreSQL (`SRGATE_TEST_STORE=postgres`; sled otherwise).
pub fn on_postgres() -> bool {
    std::env::var("SRGATE_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// The top-level `store = { … }` line of the engine the suites run on: nothing for
/// sled (the default); for postgres a new database of the tests' server, migrated,
/// reached over TLS (the server's certificate trusted as the CA).
pub fn store_line() -> String {
    if !on_postgres() {
        return String::new();
    }
    let pg = super::pg::postgres();
    let url = pg.fresh_database("suite");
    if let Err(e) = srgate::io::store::postgres::schema::migrate(&postgres_settings(&url)) {
        panic!("cannot migrate the suite's database: {e}");
    }
    format!(
        "store = {{ engine = \"postgres\", url = {}, tls = \"tls\", tls_ca_file = {} }}\n",
        toml_string(&url),
        toml_string(&pg.ca_file().to_string_lossy())
    )
}

/// How the tests reach the database at `url` from the library (plain TCP on loopback, a
/// small pool): to migrate it, or to open a store on it beside the gateways.
pub fn postgres_settings(url: &str) -> srgate::config::Postgres {
    srgate::config::Postgres {
        url: srgate::config::Secret::new(url),
        host: "127.0.0.1".into(),
        pool_size: 2,
        tls: srgate::config::Tls::None,
        tls_ca: None,
        failover_after: std::time::Duration::from_secs(15),
    }
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
