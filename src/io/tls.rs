//! TLS for IMAP and SMTP: whom a connection trusts, and what we say when it does not.
//!
//! A server's certificate is always verified, against the Mozilla roots (webpki-roots)
//! plus the CAs of the section's `tls_ca_file`. There is no way to turn verification
//! off. A refusal names the server and why, in words an operator can act on:
//! "certificate for mail.example.com:993 is not trusted (unknown issuer); set
//! tls_ca_file to the CA that signed it".

use std::error::Error as StdError;
use std::sync::Arc;

use lettre::transport::smtp::client::{Certificate, CertificateStore, TlsParameters};
use rustls::{CertificateError, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::config::TrustedCa;

/// A TLS failure, worded for the operator (it names the server).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(pub String);

/// Opens TLS connections to the servers of one configuration section.
#[derive(Clone)]
pub struct Connector {
    inner: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").finish_non_exhaustive()
    }
}

/// The Mozilla roots plus `extra`.
fn roots(extra: Option<&TrustedCa>) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra.map(|ca| ca.certs.as_slice()).unwrap_or_default() {
        // Every certificate was checked as a trust anchor when the configuration was
        // loaded; one refused here would only mean fewer servers are trusted.
        let _ = roots.add(cert.clone());
    }
    roots
}

/// A client configuration trusting the Mozilla roots and `extra` (IMAP, PostgreSQL).
pub fn client_config(extra: Option<&TrustedCa>) -> Result<rustls::ClientConfig, TlsError> {
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots(extra))
        .with_no_client_auth())
}

impl Connector {
    /// A connector trusting the Mozilla roots and `extra`.
    pub fn new(extra: Option<&TrustedCa>) -> Result<Connector, TlsError> {
        Ok(Connector { inner: tokio_rustls::TlsConnector::from(Arc::new(client_config(extra)?)) })
    }

    /// Opens TLS over `tcp` to `host` (`port` is for messages), verifying its certificate.
    pub async fn connect(&self, host: &str, port: u16, tcp: TcpStream) -> Result<TlsStream<TcpStream>, TlsError> {
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| TlsError(format!("TLS with {host}:{port}: `{host}` is not a host name or address: {e}")))?;
        self.inner
            .connect(name, tcp)
            .await
            .map_err(|e| TlsError(explain(host, port, &e).unwrap_or_else(|| format!("TLS with {host}:{port} failed: {e}"))))
    }
}

/// lettre's parameters for SMTP STARTTLS to `host`: the same trust as [`Connector`].
pub fn smtp_parameters(host: &str, extra: Option<&TrustedCa>) -> Result<TlsParameters, TlsError> {
    let mut builder = TlsParameters::builder(host.to_string()).certificate_store(CertificateStore::WebpkiRoots);
    for cert in extra.map(|ca| ca.certs.as_slice()).unwrap_or_default() {
        let cert = Certificate::from_der(cert.to_vec()).map_err(|e| TlsError(format!("TLS set-up for {host}: {e}")))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| TlsError(format!("TLS set-up for {host}: {e}")))
}

/// The TLS error somewhere in `error`'s chain, if any (rustls errors travel inside
/// `std::io::Error`s, and lettre wraps those again).
fn rustls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) =
            e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        next = e.source();
    }
    None
}

/// Why TLS with `host:port` failed, in words an operator can act on; `None` when
/// `error` holds no TLS error.
pub fn explain(host: &str, port: u16, error: &(dyn StdError + 'static)) -> Option<String> {
    rustls_error(error).map(|e| describe(host, port, e))
}

fn describe(host: &str, port: u16, error: &rustls::Error) -> String {
    let addr = format!("{host}:{port}");
    let rustls::Error::InvalidCertificate(cert) = error else {
        return match error {
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
                "TLS with {addr} failed: the server did not answer in TLS ({error}); is it a plain or STARTTLS port (tls = \"starttls\")?"
            ),
            _ => format!("TLS with {addr} failed: {error}"),
        };
    };
    match cert {
        CertificateError::UnknownIssuer => {
            format!("certificate for {addr} is not trusted (unknown issuer); set tls_ca_file to the CA that signed it")
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("certificate for {addr} is not valid for the name {host} ({cert}); connect by a name the certificate lists")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!("certificate for {addr} has expired ({cert})"),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            format!("certificate for {addr} is not valid yet ({cert}); is this machine's clock right?")
        }
        other => format!("certificate for {addr} is not trusted ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_server_and_the_remedy() {
        let unknown =
            std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer));
        assert_eq!(
            explain("127.0.0.1", 10993, &unknown).as_deref(),
            Some("certificate for 127.0.0.1:10993 is not trusted (unknown issuer); set tls_ca_file to the CA that signed it")
        );
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert!(
            explain("mail.example.com", 465, &expired).is_some_and(|m| m.starts_with("certificate for mail.example.com:465 has expired"))
        );
        let wrong_name = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        assert!(explain("mail.example.com", 993, &wrong_name).is_some_and(|m| m.contains("not valid for the name mail.example.com")));
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(explain("h", 1, &plain), None);
    }

    #[test]
    fn extra_roots_are_added_to_the_mozilla_ones() {
        let mozilla = roots(None).len();
        assert!(mozilla > 100);
        assert_eq!(roots(Some(&TrustedCa { file: "none".into(), certs: Vec::new() })).len(), mozilla);
    }
}
