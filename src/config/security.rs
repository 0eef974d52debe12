//! How `[smtp]` and `[[mailbox]]` connections are secured: `tls` and its defaults,
//! `allow_plaintext`, `tls_ca_file`.
//!
//! To this machine (loopback) plain TCP is the default; to any other host TLS is,
//! and plaintext is an error unless `allow_plaintext = true` says the network is
//! trusted (then it is a warning, printed by `srgate check` and logged at start).

use std::path::PathBuf;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::Deserialize;
use toml::Spanned;

use super::Compiler;

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// Plain TCP: the default to this machine; elsewhere only with `allow_plaintext = true`.
    None,
    /// Plain TCP upgraded with STARTTLS.
    Starttls,
    /// TLS from the first byte (implicit TLS).
    Tls,
}

impl Tls {
    /// The name used in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            Tls::None => "none",
            Tls::Starttls => "starttls",
            Tls::Tls => "tls",
        }
    }
}

/// The protocol a server section speaks: its `tls` default depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `[[mailbox]]`.
    Imap,
    /// `[smtp]`.
    Smtp,
    /// `[store]` (PostgreSQL).
    Database,
}

/// True when `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim();
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// The `tls` of a section that sets none. To this machine ([`is_loopback`]): `none`.
/// Elsewhere TLS, by port: STARTTLS on IMAP's 143 and SMTP's 25 and 587; implicit
/// TLS on 993, 465 and every other port (RFC 8314 prefers implicit TLS).
pub fn default_tls(protocol: Protocol, host: &str, port: u16) -> Tls {
    if is_loopback(host) {
        return Tls::None;
    }
    match (protocol, port) {
        (Protocol::Imap, 143) | (Protocol::Smtp, 25 | 587) => Tls::Starttls,
        _ => Tls::Tls,
    }
}

/// CA certificates trusted for a server besides the Mozilla roots (`tls_ca_file`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedCa {
    /// The PEM file they were read from (at start; a changed file needs a restart).
    pub file: PathBuf,
    /// The certificates, each checked to be usable as a trust anchor.
    pub certs: Vec<CertificateDer<'static>>,
}

/// The connection settings shared by `[smtp]` and `[[mailbox]]`, as written.
pub(super) struct RawSecurity<'r> {
    /// `[smtp]` or `` [[mailbox]] `name` ``, for messages.
    pub(super) section: String,
    pub(super) protocol: Protocol,
    pub(super) host: &'r str,
    pub(super) port: u16,
    pub(super) tls: Option<Spanned<Tls>>,
    pub(super) allow_plaintext: bool,
    pub(super) tls_ca_file: Option<Spanned<PathBuf>>,
}

impl Compiler<'_> {
    /// The section's `tls` (its default when unset) and extra CAs. Plaintext to another
    /// machine is an error unless `allow_plaintext = true`, and then a warning.
    pub(super) fn security(&mut self, raw: RawSecurity<'_>, span: &std::ops::Range<usize>) -> (Tls, Option<TrustedCa>) {
        let RawSecurity { section, protocol, host, port, tls, allow_plaintext, tls_ca_file } = raw;
        let tls_span = tls.as_ref().map(|t| t.span()).unwrap_or_else(|| span.clone());
        let tls = tls.map(Spanned::into_inner).unwrap_or_else(|| default_tls(protocol, host, port));
        if tls == Tls::None && !is_loopback(host) {
            if allow_plaintext {
                self.warning(
                    Some(tls_span.clone()),
                    format!("{section}: plaintext to {host}:{port} (`allow_plaintext = true`): the password and the mail cross the network readable by anyone on the way"),
                );
            } else {
                self.error(
                    Some(tls_span.clone()),
                    format!("{section}: `tls = \"none\"` would send the password and the mail in clear to {host}:{port}: use \"starttls\" or \"tls\", or set `allow_plaintext = true` if the network is trusted"),
                );
            }
        }
        let ca = tls_ca_file.and_then(|file| {
            if tls == Tls::None {
                self.warning(Some(file.span()), format!("{section}: `tls_ca_file` has no effect with `tls = \"none\"`"));
            }
            self.trusted_ca(&file)
        });
        (tls, ca)
    }

    /// Reads a `tls_ca_file`: PEM certificates, each usable as a trust anchor.
    pub(super) fn trusted_ca(&mut self, file: &Spanned<PathBuf>) -> Option<TrustedCa> {
        let path = self.path(file.get_ref());
        let span = Some(file.span());
        let pem = match std::fs::read(&path) {
            Ok(p) => p,
            Err(e) => {
                self.error(span, format!("`tls_ca_file`: cannot read {}: {e}", path.display()));
                return None;
            }
        };
        let certs = match CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>() {
            Ok(c) if c.is_empty() => {
                self.error(span, format!("`tls_ca_file`: {} holds no certificate (-----BEGIN CERTIFICATE-----)", path.display()));
                return None;
            }
            Ok(c) => c,
            Err(e) => {
                self.error(span, format!("`tls_ca_file`: {} is not a PEM file of certificates: {e}", path.display()));
                return None;
            }
        };
        let mut roots = rustls::RootCertStore::empty();
        for (i, cert) in certs.iter().enumerate() {
            if let Err(e) = roots.add(cert.clone()) {
                self.error(
                    span.clone(),
                    format!("`tls_ca_file`: certificate {} of {} cannot be trusted as a CA: {e}", i + 1, path.display()),
                );
                return None;
            }
        }
        Some(TrustedCa { file: path, certs })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, compile};

    /// A CA certificate (P-256, valid until 2126) for the `tls_ca_file` tests.
    const FIXTURE_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBqTCCAU+gAwIBAgIUaw6GqS17TiYPS5v9tH3XoNnML0kwCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWc3JnYXRlIHRlc3QgZml4dHVyZSBDQTAgFw0yNjEyMDIwOTA2
NTdaGA8yMTI2MTEwODA5MDY1N1owITEfMB0GA1UEAwwWc3JnYXRlIHRlc3QgZml4
dHVyZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABIM5jo9UQW78if/MN9/7
mkFcUsMDVCtBMrwD1hDWQbea//0HdzLbd/CYbq/4obmHEk3AGEQmsT/3tBCDSc2Q
jMmjYzBhMB0GA1UdDgQWBBTnQ3l+aDr5AHlUlbC6S80voDo9tzAfBgNVHSMEGDAW
gBTnQ3l+aDr5AHlUlbC6S80voDo9tzAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB
/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAiBnmARHCmugU4ur0fMQY79ook7gCfkT
6/aB4ZMFeAnCfAIhAK8+u0p+HbUhjb2VyYjXzI3tZ8yOCFZKMLkdGTRLDtag
-----END CERTIFICATE-----
";

    /// A configuration whose `[smtp]` and `[[mailbox]]` get the given lines.
    fn config(smtp: &str, mailbox: &str) -> String {
        format!(
            "data_dir = \"data\"\nsupport_address = \"support@example.test\"\n[smtp]\n{smtp}\n[[mailbox]]\nname = \"support\"\n{mailbox}\nusername = \"support@example.test\"\npassword = \"secret\"\n[[cse]]\nname = \"Ann\"\nemail = \"ann@example.test\"\n"
        )
    }

    fn load(text: &str) -> Config {
        compile(Path::new("c.toml"), text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn refused(text: &str) -> String {
        compile(Path::new("c.toml"), text).expect_err("refused").to_string()
    }

    #[test]
    fn loopback_is_localhost_127_slash_8_and_colon_colon_1() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["mail.example.com", "10.0.0.1", "128.0.0.1", "::2", "localhost.example.com", "0.0.0.0", ""] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn tls_defaults_by_host_and_port() {
        use Protocol::{Imap, Smtp};
        let cases = [
            (Imap, "mail.example.com", 993, Tls::Tls),
            (Imap, "mail.example.com", 143, Tls::Starttls),
            (Imap, "mail.example.com", 10143, Tls::Tls),
            (Smtp, "mail.example.com", 465, Tls::Tls),
            (Smtp, "mail.example.com", 587, Tls::Starttls),
            (Smtp, "mail.example.com", 25, Tls::Starttls),
            (Smtp, "mail.example.com", 2525, Tls::Tls),
            (Smtp, "mail.example.com", 143, Tls::Tls),
            (Imap, "127.0.0.1", 993, Tls::None),
            (Smtp, "localhost", 587, Tls::None),
            (Imap, "::1", 143, Tls::None),
        ];
        for (protocol, host, port, want) in cases {
            assert_eq!(default_tls(protocol, host, port), want, "{protocol:?} {host}:{port}");
        }
        let c = load(&config("host = \"smtp.example.com\"\nport = 587", "host = \"imap.example.com\"\nport = 993"));
        assert_eq!((c.smtp.tls, c.mailboxes[0].tls), (Tls::Starttls, Tls::Tls));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let c = load(&config("host = \"127.0.0.1\"\nport = 2525", "host = \"localhost\"\nport = 1143"));
        assert_eq!((c.smtp.tls, c.mailboxes[0].tls), (Tls::None, Tls::None));
        let c = load(&config("host = \"smtp.example.com\"\nport = 587\ntls = \"tls\"", "host = \"127.0.0.1\"\nport = 1993\ntls = \"tls\""));
        assert_eq!((c.smtp.tls, c.mailboxes[0].tls), (Tls::Tls, Tls::Tls), "an explicit tls wins");
    }

    #[test]
    fn plaintext_to_another_host_is_refused_with_its_line() {
        let text =
            config("host = \"smtp.example.com\"\nport = 25\ntls = \"none\"", "host = \"imap.example.com\"\nport = 143\ntls = \"none\"");
        let errs = refused(&text);
        assert!(
            errs.contains("c.toml:6: [smtp]: `tls = \"none\"` would send the password and the mail in clear to smtp.example.com:25"),
            "{errs}"
        );
        assert!(errs.contains("c.toml:11: [[mailbox]] `support`: `tls = \"none\"`"), "{errs}");
        assert!(errs.contains("allow_plaintext = true"), "{errs}");
    }

    #[test]
    fn allow_plaintext_turns_the_error_into_a_warning() {
        let text = config(
            "host = \"smtp.example.com\"\nport = 25\ntls = \"none\"\nallow_plaintext = true",
            "host = \"imap.example.com\"\nport = 143\nallow_plaintext = true\ntls = \"none\"",
        );
        let c = load(&text);
        assert_eq!((c.smtp.tls, c.mailboxes[0].tls), (Tls::None, Tls::None));
        let warnings: Vec<String> = c.warnings.iter().map(|w| w.as_warning().to_string()).collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("c.toml:6: warning: [smtp]: plaintext to smtp.example.com:25"), "{warnings:?}");
        assert!(warnings[1].starts_with("c.toml:13: warning: [[mailbox]] `support`: plaintext to imap.example.com:143"), "{warnings:?}");
        // allow_plaintext does not change the default: TLS unless `tls = "none"` is written.
        let c = load(&config("host = \"smtp.example.com\"\nport = 25\nallow_plaintext = true", "host = \"imap.example.com\"\nport = 143"));
        assert_eq!((c.smtp.tls, c.mailboxes[0].tls), (Tls::Starttls, Tls::Starttls));
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn tls_ca_file_is_read_and_checked_with_its_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("ca.pem"), FIXTURE_CA).expect("write");
        std::fs::write(dir.path().join("empty.pem"), "no certificate here\n").expect("write");
        let at = |text: &str| compile(&dir.path().join("c.toml"), text);
        let c = at(&config("host = \"smtp.example.com\"\nport = 465\ntls_ca_file = \"ca.pem\"", "host = \"imap.example.com\"\nport = 993"))
            .expect("valid");
        let ca = c.smtp.tls_ca.expect("a CA");
        assert_eq!((ca.file, ca.certs.len()), (dir.path().join("ca.pem"), 1));
        assert!(c.mailboxes[0].tls_ca.is_none());

        let errs = at(&config(
            "host = \"smtp.example.com\"\nport = 465\ntls_ca_file = \"missing.pem\"",
            "host = \"imap.example.com\"\nport = 993\ntls_ca_file = \"empty.pem\"",
        ))
        .expect_err("refused")
        .to_string();
        assert!(errs.contains("c.toml:6: `tls_ca_file`: cannot read") && errs.contains("missing.pem"), "{errs}");
        assert!(errs.contains("c.toml:11: `tls_ca_file`:") && errs.contains("holds no certificate"), "{errs}");

        let c =
            at(&config("host = \"127.0.0.1\"\nport = 25\ntls_ca_file = \"ca.pem\"", "host = \"127.0.0.1\"\nport = 143")).expect("valid");
        assert!(c.warnings[0].as_warning().to_string().contains("`tls_ca_file` has no effect with `tls = \"none\"`"), "{:?}", c.warnings);
    }
}
