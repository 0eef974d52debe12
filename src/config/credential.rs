//! How srgate signs in to its mail servers: `auth` and `credential` in a
//! `[[mailbox]]` or `[smtp]`, and the `[[credential]]` sections they name
//! (OAuth2: provider, client, flow; see [`crate::oauth`]).

use std::path::PathBuf;

use jiff::Timestamp;
use serde::Deserialize;
use toml::Spanned;

use super::compile::Compiler;
use super::{Secret, TrustedCa, is_loopback};
use crate::oauth::{Flow, IdentityProvider, certificate};

/// How a mailbox or the SMTP server is signed in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// A password (`auth = "password"`, the default).
    Password(Secret),
    /// A token of the named `[[credential]]` (`auth = "oauth2"`, `credential = "NAME"`).
    OAuth2 {
        /// The credential's name.
        credential: String,
    },
}

impl Login {
    /// The credential's name, for OAuth2.
    pub fn credential(&self) -> Option<&str> {
        match self {
            Login::OAuth2 { credential } => Some(credential),
            Login::Password(_) => None,
        }
    }
}

/// How the OAuth2 client proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientSecret {
    /// A public client (device code for Microsoft's public apps): no secret.
    None,
    /// A client secret (`client_secret_file` or `client_secret_env`).
    Secret(Secret),
    /// A certificate and its private key (PEM): a signed client assertion (RFC 7523).
    Certificate {
        /// `client_certificate_file`.
        certificate_file: PathBuf,
        /// `client_key_file` (PKCS#8 or PKCS#1 RSA).
        key_file: PathBuf,
        /// When the certificate expires (read from it).
        expires: Option<Timestamp>,
    },
}

/// One `[[credential]]`: where and how tokens are obtained.
#[derive(Debug, Clone)]
pub struct Credential {
    /// Its name, as `credential = "NAME"` gives it.
    pub name: String,
    /// Who issues the tokens.
    pub provider: IdentityProvider,
    /// How tokens are obtained.
    pub flow: Flow,
    /// Microsoft's directory (tenant id or domain).
    pub tenant: Option<String>,
    /// The app's client id.
    pub client_id: String,
    /// How the app proves who it is.
    pub client_secret: ClientSecret,
    /// When the client secret expires (`client_secret_expires`), when known.
    pub client_secret_expires: Option<Timestamp>,
    /// The token endpoint.
    pub token_url: String,
    /// The device-authorization endpoint (device code flow).
    pub device_authorization_url: Option<String>,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// Where the first refresh token is read (refresh token flow).
    pub refresh_token_file: Option<PathBuf>,
    /// CAs trusted for the token endpoint besides the Mozilla roots.
    pub tls_ca: Option<TrustedCa>,
}

impl Credential {
    /// What expires and when, for the 14-day notice: the certificate's end or `client_secret_expires`.
    pub fn expiry(&self) -> Option<(&'static str, Timestamp)> {
        match &self.client_secret {
            ClientSecret::Certificate { expires: Some(at), .. } => Some(("certificate", *at)),
            ClientSecret::Secret(_) => self.client_secret_expires.map(|at| ("client secret", at)),
            _ => None,
        }
    }

    /// A client secret travels in the form (Microsoft's and Google's documented way)
    /// rather than in an HTTP Basic header (what RFC 6749 asks every server to accept).
    pub fn secret_in_form(&self) -> bool {
        self.provider != IdentityProvider::Generic
    }
}

/// A `[[credential]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCredential {
    name: String,
    provider: IdentityProvider,
    flow: Flow,
    tenant: Option<String>,
    client_id: String,
    client_secret_file: Option<PathBuf>,
    client_secret_env: Option<String>,
    client_certificate_file: Option<PathBuf>,
    client_key_file: Option<PathBuf>,
    client_secret_expires: Option<String>,
    token_url: Option<String>,
    device_authorization_url: Option<String>,
    scopes: Option<Vec<String>>,
    refresh_token_file: Option<PathBuf>,
    tls_ca_file: Option<Spanned<PathBuf>>,
}

/// `auth` in a mailbox or `[smtp]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum AuthKind {
    /// A password (the default).
    #[default]
    Password,
    /// OAuth2 (`credential` names the `[[credential]]`).
    Oauth2,
}

type Span = std::ops::Range<usize>;

impl Compiler<'_> {
    /// The login of a mailbox or `[smtp]`: `auth`, `credential` and the password keys.
    /// `required`: a mailbox must sign in; `[smtp]` may go without AUTH.
    pub(super) fn login(
        &mut self,
        section: &str,
        auth: AuthKind,
        credential: Option<String>,
        password: Option<Secret>,
        required: bool,
        span: &Span,
    ) -> Option<Login> {
        match (auth, credential) {
            (AuthKind::Password, Some(name)) => {
                self.error(Some(span.clone()), format!("{section}: `credential = \"{name}\"` needs `auth = \"oauth2\"`"));
                None
            }
            (AuthKind::Password, None) => match password {
                Some(p) => Some(Login::Password(p)),
                None if required => {
                    self.error(
                        Some(span.clone()),
                        format!(
                            "{section}: give `password`, `password_file` or `password_env` (or `auth = \"oauth2\"` with a `credential`)"
                        ),
                    );
                    None
                }
                None => None,
            },
            (AuthKind::Oauth2, None) => {
                self.error(
                    Some(span.clone()),
                    format!("{section}: `auth = \"oauth2\"` needs `credential = \"NAME\"`, naming a [[credential]]"),
                );
                None
            }
            (AuthKind::Oauth2, Some(name)) => {
                if password.is_some() {
                    self.error(Some(span.clone()), format!("{section}: a password is not used with `auth = \"oauth2\"`: remove it"));
                }
                Some(Login::OAuth2 { credential: name })
            }
        }
    }

    /// Compiles one `[[credential]]`.
    pub(super) fn credential(&mut self, raw: RawCredential, span: &Span) -> Option<Credential> {
        let section = format!("[[credential]] `{}`", raw.name);
        let err = |c: &mut Compiler<'_>, message: String| c.error(Some(span.clone()), format!("{section}: {message}"));
        if raw.name.trim().is_empty() || !raw.name.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)) {
            err(self, "`name` may hold letters, digits, `-`, `_` and `.` only (it names a file)".into());
            return None;
        }
        if raw.client_id.trim().is_empty() {
            err(self, "`client_id` is empty".into());
        }
        let tenant = raw.tenant.clone().filter(|t| !t.trim().is_empty());
        if raw.provider == IdentityProvider::Microsoft && tenant.is_none() {
            err(self, "Microsoft needs `tenant`: the directory id or domain (contoso.onmicrosoft.com)".into());
        }
        if raw.provider != IdentityProvider::Microsoft && tenant.is_some() {
            self.warning(Some(span.clone()), format!("{section}: `tenant` is Microsoft's and has no effect here"));
        }
        let tenant_text = tenant.clone().unwrap_or_default();
        let token_url = match (raw.token_url, raw.provider.token_url(&tenant_text)) {
            (Some(u), _) | (None, Some(u)) => u,
            (None, None) => {
                err(self, "a `generic` provider needs `token_url`".into());
                String::new()
            }
        };
        let device_authorization_url = raw.device_authorization_url.or_else(|| raw.provider.device_authorization_url(&tenant_text));
        if raw.flow == Flow::DeviceCode && device_authorization_url.is_none() {
            err(self, "the device code flow needs `device_authorization_url`".into());
        }
        if raw.provider == IdentityProvider::Google && raw.flow == Flow::ClientCredentials {
            err(self, "Google has no client-credentials access to Gmail: use `flow = \"device_code\"` or `\"refresh_token\"`".into());
        }
        for url in std::iter::once(&token_url).chain(device_authorization_url.iter()).filter(|u| !u.is_empty()) {
            if let Some(problem) = endpoint_problem(url) {
                err(self, problem);
            }
        }
        let client_secret = self.client_secret(
            &section,
            &raw.client_secret_file,
            &raw.client_secret_env,
            &raw.client_certificate_file,
            &raw.client_key_file,
            span,
        );
        if raw.flow == Flow::ClientCredentials && client_secret == ClientSecret::None {
            err(self, "the client credentials flow needs `client_secret_file`, `client_secret_env` or `client_certificate_file` with `client_key_file`".into());
        }
        let client_secret_expires = raw.client_secret_expires.as_deref().and_then(|text| match parse_expiry(text) {
            Some(at) => Some(at),
            None => {
                err(self, format!("`client_secret_expires`: `{text}` is not a date (\"2027-06-30\")"));
                None
            }
        });
        if client_secret_expires.is_some() && !matches!(client_secret, ClientSecret::Secret(_)) {
            self.warning(
                Some(span.clone()),
                format!("{section}: `client_secret_expires` is for a client secret; a certificate's expiry is read from it"),
            );
        }
        let refresh_token_file = raw.refresh_token_file.map(|f| self.path(&f));
        match (raw.flow, &refresh_token_file) {
            (Flow::RefreshToken, None) => err(self, "the refresh token flow needs `refresh_token_file`".into()),
            (Flow::RefreshToken, Some(f)) if std::fs::metadata(f).is_err() => {
                err(self, format!("cannot read refresh_token_file {}", f.display()));
            }
            (Flow::ClientCredentials | Flow::DeviceCode, Some(_)) => {
                self.warning(Some(span.clone()), format!("{section}: `refresh_token_file` is read by the refresh token flow only"));
            }
            _ => {}
        }
        let scopes = raw.scopes.unwrap_or_else(|| raw.provider.scopes(raw.flow));
        if scopes.is_empty() && raw.provider == IdentityProvider::Generic {
            self.warning(Some(span.clone()), format!("{section}: no `scopes`: the server's default scopes are asked for"));
        }
        let tls_ca = raw.tls_ca_file.as_ref().and_then(|f| self.trusted_ca(f));
        Some(Credential {
            name: raw.name,
            provider: raw.provider,
            flow: raw.flow,
            tenant,
            client_id: raw.client_id,
            client_secret,
            client_secret_expires,
            token_url,
            device_authorization_url,
            scopes,
            refresh_token_file,
            tls_ca,
        })
    }

    fn client_secret(
        &mut self,
        section: &str,
        file: &Option<PathBuf>,
        env: &Option<String>,
        certificate: &Option<PathBuf>,
        key: &Option<PathBuf>,
        span: &Span,
    ) -> ClientSecret {
        let given = usize::from(file.is_some()) + usize::from(env.is_some()) + usize::from(certificate.is_some() || key.is_some());
        if given > 1 {
            self.error(Some(span.clone()), format!("{section}: give one of `client_secret_file`, `client_secret_env` or a certificate"));
            return ClientSecret::None;
        }
        if let Some(secret) = self.password(None, file.clone(), env.clone(), span) {
            return ClientSecret::Secret(secret);
        }
        match (certificate, key) {
            (None, None) => ClientSecret::None,
            (Some(c), Some(k)) => {
                let (certificate_file, key_file) = (self.path(c), self.path(k));
                let der = std::fs::read_to_string(&certificate_file).ok().and_then(|pem| certificate::pem_block(&pem, "CERTIFICATE"));
                let expires = der.as_deref().and_then(certificate::not_after);
                if der.is_none() {
                    self.error(Some(span.clone()), format!("{section}: {} is not a PEM certificate", certificate_file.display()));
                }
                let key_text = std::fs::read_to_string(&key_file).unwrap_or_default();
                if certificate::pem_block(&key_text, "PRIVATE KEY").is_none()
                    && certificate::pem_block(&key_text, "RSA PRIVATE KEY").is_none()
                {
                    self.error(
                        Some(span.clone()),
                        format!("{section}: {} is not a PEM private key (PRIVATE KEY or RSA PRIVATE KEY)", key_file.display()),
                    );
                }
                ClientSecret::Certificate { certificate_file, key_file, expires }
            }
            _ => {
                self.error(
                    Some(span.clone()),
                    format!("{section}: a certificate needs both `client_certificate_file` and `client_key_file`"),
                );
                ClientSecret::None
            }
        }
    }
}

/// Why `url` cannot be a token endpoint: only HTTPS crosses the network (a
/// secret and tokens travel in it); plain HTTP is for this machine only.
fn endpoint_problem(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" => None,
        "http" if is_loopback(host) => None,
        "http" => Some(format!("`{url}`: plain HTTP would send the client secret and tokens in clear; use https")),
        _ => Some(format!("`{url}` is not an http(s) URL")),
    }
    .or_else(|| host.is_empty().then(|| format!("`{url}` names no host")))
}

/// `2027-06-30` (the end of that day, UTC) or an RFC 3339 instant.
fn parse_expiry(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Some(at);
    }
    let date: jiff::civil::Date = text.parse().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(date.at(23, 59, 59, 0)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoints_are_https_or_on_this_machine() {
        assert_eq!(endpoint_problem("https://login.microsoftonline.com/x/oauth2/v2.0/token"), None);
        assert_eq!(endpoint_problem("http://127.0.0.1:9000/token"), None);
        assert_eq!(endpoint_problem("http://[::1]:9000/token"), None);
        assert!(endpoint_problem("http://idp.example.com/token").is_some());
        assert!(endpoint_problem("ftp://x/").is_some());
        assert_eq!(parse_expiry("2027-06-30"), Some("2027-06-30T23:59:59Z".parse().expect("ts")));
    }
}
