//! A real OAuth 2.0 authorization server for the tests, and a mail stack that accepts its tokens.
//!
//! The server is `tests/oauth/server.mjs` (the `oidc-provider` npm package) on a free loopback
//! port, run by `scripts/oauth-server.sh`; one per test binary, started on first use with the
//! binary's [`OAuthConfig`]. Its endpoints, and the scopes each flow needs, are documented at the
//! top of server.mjs: client_credentials (any scope, none needed), the device flow (scope
//! `offline_access` for a refresh token), refresh_token (rotated on every use).
//!
//! [`stack_with_oauth`] gives the binary's mail stack with Dovecot's `oauth2` passdb pointed at the
//! server's introspection endpoint: every address of the stack then also logs in with an access
//! token whose introspection `email` is that address (XOAUTH2 or OAUTHBEARER, IMAP and SMTP AUTH),
//! besides the password. Call it before anything in the binary calls `common::stack()`.
//!
//! Nothing here prints a token or a secret: [`Tokens`], [`OAuthClient`] and [`DeviceAuthorization`]
//! redact them in `Debug`, and errors carry the server's error code, never the request.
//! A detached watchdog stops the server and removes its folder once the test binary has exited
//! (`SRGATE_MAILSTACK_KEEP=1` keeps the folder, with the server's log `oauth-server.log`).

use std::fmt;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{IO_TIMEOUT, MailStack, free_ports, stack};

/// The grant type of the device flow (RFC 8628).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The client id Dovecot introspects tokens with.
pub const INTROSPECTOR_ID: &str = "dovecot";

/// The server's settings (see server.mjs for their meaning); the introspector is added by the harness.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthConfig {
    /// Seconds an access token lives (every flow).
    pub access_token_ttl: u64,
    /// Seconds a refresh token lives.
    pub refresh_token_ttl: u64,
    /// A new refresh token on every use; the used one is then refused (`invalid_grant`).
    pub rotate_refresh_tokens: bool,
    /// The registered clients.
    pub clients: Vec<OAuthClient>,
}

impl OAuthConfig {
    /// Access tokens living `access_token_ttl` seconds, refresh tokens a day, rotation on.
    pub fn new(access_token_ttl: u64, clients: Vec<OAuthClient>) -> OAuthConfig {
        OAuthConfig { access_token_ttl, refresh_token_ttl: 86_400, rotate_refresh_tokens: true, clients }
    }

    fn to_json(&self, port: u16, introspector_secret: &str) -> Value {
        json!({
            "port": port,
            "access_token_ttl": self.access_token_ttl,
            "refresh_token_ttl": self.refresh_token_ttl,
            "rotate_refresh_tokens": self.rotate_refresh_tokens,
            "introspector": {"client_id": INTROSPECTOR_ID, "client_secret": introspector_secret},
            "clients": self.clients.iter().map(OAuthClient::to_json).collect::<Vec<_>>(),
        })
    }
}

/// One registered client (an application).
#[derive(Clone, PartialEq)]
pub struct OAuthClient {
    /// Its id.
    pub client_id: String,
    /// Its secret (client_secret_basic or client_secret_post); `None` with `jwks` or for a public client.
    pub client_secret: Option<String>,
    /// Its public keys (private_key_jwt, RS256).
    pub jwks: Option<Value>,
    /// `client_credentials`, [`DEVICE_CODE_GRANT`], `refresh_token`.
    pub grant_types: Vec<String>,
    /// The mailbox its client_credentials tokens open (introspection `email`).
    pub mailbox: Option<String>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("jwks", &self.jwks.is_some())
            .field("grant_types", &self.grant_types)
            .field("mailbox", &self.mailbox)
            .finish()
    }
}

impl OAuthClient {
    /// A client_credentials app with a secret whose tokens open `mailbox`.
    pub fn app(client_id: &str, secret: &str, mailbox: &str) -> OAuthClient {
        OAuthClient {
            client_id: client_id.into(),
            client_secret: Some(secret.into()),
            jwks: None,
            grant_types: vec!["client_credentials".into()],
            mailbox: Some(mailbox.into()),
        }
    }

    /// A client_credentials app authenticating with `cert`'s key (private_key_jwt) whose tokens open `mailbox`.
    pub fn app_with_certificate(client_id: &str, cert: &ClientCertificate, mailbox: &str) -> OAuthClient {
        OAuthClient {
            client_id: client_id.into(),
            client_secret: None,
            jwks: Some(json!({"keys": [cert.jwk]})),
            grant_types: vec!["client_credentials".into()],
            mailbox: Some(mailbox.into()),
        }
    }

    /// A device-flow client with a secret (device_code and refresh_token grants).
    pub fn device(client_id: &str, secret: &str) -> OAuthClient {
        OAuthClient {
            client_id: client_id.into(),
            client_secret: Some(secret.into()),
            jwks: None,
            grant_types: vec![DEVICE_CODE_GRANT.into(), "refresh_token".into()],
            mailbox: None,
        }
    }

    fn to_json(&self) -> Value {
        let mut c = json!({"client_id": self.client_id, "grant_types": self.grant_types});
        if let Some(s) = &self.client_secret {
            c["client_secret"] = json!(s);
        }
        if let Some(j) = &self.jwks {
            c["jwks"] = j.clone();
        }
        if let Some(m) = &self.mailbox {
            c["mailbox"] = json!(m);
        }
        c
    }
}

/// An RSA key pair and a self-signed certificate made with openssl (the app's "certificate
/// credential"), in the OAuth folder's `certs/`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientCertificate {
    /// The private key, PEM (PKCS#8).
    pub key_path: PathBuf,
    /// The certificate, PEM.
    pub cert_path: PathBuf,
    /// base64url SHA-1 of the certificate's DER (JWT header `x5t`; also the JWK's `kid`).
    pub x5t: String,
    /// base64url SHA-256 of the certificate's DER (JWT header `x5t#S256`).
    pub x5t_s256: String,
    /// The public JWK the server knows: kty, n, e, kid (= x5t), x5t, x5c, use, alg.
    pub jwk: Value,
}

impl ClientCertificate {
    /// Makes `certs/<name>.key` and `certs/<name>.pem` (RSA 2048, 1 year, CN=name). Panics on failure.
    pub fn generate(name: &str) -> ClientCertificate {
        let dir = dir().join("certs");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let key_path = dir.join(format!("{name}.key"));
        let cert_path = dir.join(format!("{name}.pem"));
        let key = key_path.to_string_lossy();
        let cert = cert_path.to_string_lossy();
        let subject = format!("/CN={name}");
        openssl(&["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &cert, "-days", "365", "-subj", &subject]);
        let text = String::from_utf8_lossy(&openssl(&["x509", "-in", &cert, "-noout", "-text"])).into_owned();
        assert!(text.contains("Exponent: 65537 "), "unexpected RSA exponent in {cert}");
        let modulus = String::from_utf8_lossy(&openssl(&["x509", "-in", &cert, "-noout", "-modulus"])).into_owned();
        let modulus = modulus.trim().strip_prefix("Modulus=").unwrap_or_else(|| panic!("openssl -modulus: {modulus}"));
        let der = openssl(&["x509", "-in", &cert, "-outform", "DER"]);
        let x5t = URL_SAFE_NO_PAD.encode(unhex(&fingerprint(&cert, "-sha1")));
        let x5t_s256 = URL_SAFE_NO_PAD.encode(unhex(&fingerprint(&cert, "-sha256")));
        let jwk = json!({
            "kty": "RSA", "n": URL_SAFE_NO_PAD.encode(unhex(modulus)), "e": "AQAB",
            "kid": x5t, "x5t": x5t, "x5c": [STANDARD.encode(&der)], "use": "sig", "alg": "RS256",
        });
        ClientCertificate { key_path, cert_path, x5t, x5t_s256, jwk }
    }

    /// A private_key_jwt client assertion (RS256, header kid and x5t, one minute of life, a fresh jti)
    /// for `client_id` at `audience` (the token endpoint URL or the issuer).
    pub fn client_assertion(&self, client_id: &str, audience: &str) -> String {
        static JTI: AtomicUsize = AtomicUsize::new(0);
        let now = unix_now();
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.x5t, "x5t": self.x5t});
        let jti = format!("{}-{}-{}", std::process::id(), JTI.fetch_add(1, Ordering::Relaxed), now);
        let claims = json!({"iss": client_id, "sub": client_id, "aud": audience, "jti": jti, "iat": now, "exp": now + 60});
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = openssl_stdin(&["dgst", "-sha256", "-sign", &self.key_path.to_string_lossy()], input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

fn openssl_stdin(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e}"));
    child.stdin.take().map(|mut i| i.write_all(stdin)).transpose().unwrap_or_else(|e| panic!("openssl stdin: {e}"));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("openssl: {e}"));
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn openssl(args: &[&str]) -> Vec<u8> {
    openssl_stdin(args, b"")
}

/// The hex digits of `openssl x509 -fingerprint -<digest>` ("SHA1 Fingerprint=AB:CD:...").
fn fingerprint(cert: &str, digest: &str) -> String {
    let out = String::from_utf8_lossy(&openssl(&["x509", "-in", cert, "-noout", "-fingerprint", digest])).into_owned();
    out.trim().split_once('=').map(|(_, h)| h.replace(':', "")).unwrap_or_else(|| panic!("openssl -fingerprint: {out}"))
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or_else(|_| panic!("not hex: {hex}"))).collect()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

// ================================================================== the server

/// The running authorization server of this test binary. `Debug` hides the introspector's secret.
pub struct OAuthServer {
    /// Its folder: config.json, oauth.env, oauth-server.log, certs/.
    pub dir: PathBuf,
    /// `http://127.0.0.1:PORT`
    pub issuer: String,
    /// Token endpoint.
    pub token_url: String,
    /// Device authorization endpoint (RFC 8628).
    pub device_authorization_url: String,
    /// Verification page (where the person enters the user code).
    pub verification_url: String,
    /// Introspection endpoint (RFC 7662).
    pub introspection_url: String,
    /// Revocation endpoint (RFC 7009).
    pub revocation_url: String,
    /// The configuration it was started with.
    pub config: OAuthConfig,
    introspector_secret: String,
}

impl fmt::Debug for OAuthServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthServer")
            .field("dir", &self.dir)
            .field("issuer", &self.issuer)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// `http://dovecot:SECRET@127.0.0.1:PORT/token/introspection`: what Dovecot introspects with
/// (`MAILSTACK_OAUTH2_INTROSPECTION_URL`). `Debug` hides the secret.
#[derive(Clone, PartialEq)]
pub struct IntrospectionUrl(pub String);

impl fmt::Debug for IntrospectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = match (self.0.split_once("://"), self.0.rsplit_once('@')) {
            (Some((scheme, _)), Some((_, host))) => format!("{scheme}://{INTROSPECTOR_ID}:<redacted>@{host}"),
            _ => self.0.clone(),
        };
        f.debug_tuple("IntrospectionUrl").field(&shown).finish()
    }
}

/// What the token endpoint answered on success. `Debug` shows no token.
#[derive(Clone)]
pub struct Tokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token, if one was issued.
    pub refresh_token: Option<String>,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The granted scope, if the server said.
    pub scope: Option<String>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// The device authorization endpoint's answer. `Debug` hides the device code.
#[derive(Clone)]
pub struct DeviceAuthorization {
    /// The device's secret handle, for the token requests.
    pub device_code: String,
    /// The code the person types at the verification page.
    pub user_code: String,
    /// The verification page.
    pub verification_uri: String,
    /// The verification page with the user code in it.
    pub verification_uri_complete: Option<String>,
    /// Seconds the codes live.
    pub expires_in: u64,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &"<redacted>")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// An OAuth error answer: HTTP status and the `error` code (`invalid_grant`, `invalid_client`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    /// HTTP status (0: no answer).
    pub status: u16,
    /// The `error` field, or a description of the transport failure.
    pub error: String,
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.error)
    }
}

/// How a client authenticates at the token endpoint.
#[derive(Clone, Copy)]
pub enum ClientAuth<'a> {
    /// HTTP Basic (client_secret_basic).
    Basic(&'a str, &'a str),
    /// client_id and client_secret in the form (client_secret_post).
    Post(&'a str, &'a str),
    /// A private_key_jwt assertion signed with the certificate's key.
    Certificate(&'a str, &'a ClientCertificate),
    /// Only client_id (a public client).
    Public(&'a str),
}

static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
static SERVER: OnceLock<Result<OAuthServer, String>> = OnceLock::new();
static STACK_URL: OnceLock<IntrospectionUrl> = OnceLock::new();

/// The OAuth folder of this test binary (made on first use, removed by the watchdog after the binary).
pub fn dir() -> &'static Path {
    match DIR.get_or_init(make_dir) {
        Ok(d) => d,
        Err(e) => panic!("OAuth folder unavailable: {e}"),
    }
}

/// The authorization server of this test binary, started with `config` on first use.
/// Panics if it cannot start, or if it already runs with another configuration.
pub fn server(config: &OAuthConfig) -> &'static OAuthServer {
    match SERVER.get_or_init(|| start(config)) {
        Ok(s) => {
            assert_eq!(&s.config, config, "this test binary's OAuth server already runs with another configuration");
            s
        }
        Err(e) => panic!("OAuth server unavailable: {e}"),
    }
}

/// The binary's mail stack, whose Dovecot accepts `config`'s server's tokens (XOAUTH2 and
/// OAUTHBEARER, IMAP and SMTP AUTH), and that server. Panics if `common::stack()` was already
/// started without OAuth2 in this binary.
pub fn stack_with_oauth(config: &OAuthConfig) -> (&'static MailStack, &'static OAuthServer) {
    let server = server(config);
    let url = server.dovecot_introspection_url();
    let _ = STACK_URL.set(url.clone());
    let s = stack();
    assert_eq!(
        s.oauth2_introspection_url.as_ref(),
        Some(&url),
        "the mail stack was started without OAuth2: call oauth::stack_with_oauth first"
    );
    (s, server)
}

/// The introspection URL `common::stack()` starts Dovecot with, once [`stack_with_oauth`] asked for it.
pub(super) fn stack_introspection_url() -> Option<IntrospectionUrl> {
    STACK_URL.get().cloned()
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/oauth-server.sh")
}

fn make_dir() -> Result<PathBuf, String> {
    let dir = tempfile::Builder::new().prefix("srgate-oauth-").tempdir_in("/tmp").map_err(|e| e.to_string())?.keep();
    spawn_watchdog(&dir)?;
    Ok(dir)
}

fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf)).map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn start(config: &OAuthConfig) -> Result<OAuthServer, String> {
    let dir = DIR.get_or_init(make_dir).clone()?;
    let introspector_secret = random_hex(16)?;
    let config_path = dir.join("config.json");
    let mut last = String::new();
    for _ in 0..3 {
        let [port] = free_ports().map_err(|e| format!("cannot pick a free port: {e}"))?;
        std::fs::write(&config_path, config.to_json(port, &introspector_secret).to_string()).map_err(|e| e.to_string())?;
        let out = Command::new(script())
            .arg("start")
            .arg(&dir)
            .arg(&config_path)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script().display()))?;
        last = format!(
            "oauth-server.sh start exited with {}\n--- stdout\n{}--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        match out.status.code() {
            Some(0) => {
                let env = std::fs::read_to_string(dir.join("oauth.env")).map_err(|e| format!("oauth.env: {e}"))?;
                let get = |key: &str| {
                    env.lines()
                        .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
                        .map(str::to_string)
                        .ok_or(format!("{key} missing in oauth.env"))
                };
                eprintln!("oauth: oidc-provider on 127.0.0.1:{port} ({})", dir.display());
                return Ok(OAuthServer {
                    issuer: get("OAUTH_ISSUER")?,
                    token_url: get("OAUTH_TOKEN_URL")?,
                    device_authorization_url: get("OAUTH_DEVICE_AUTHORIZATION_URL")?,
                    verification_url: get("OAUTH_VERIFICATION_URL")?,
                    introspection_url: get("OAUTH_INTROSPECTION_URL")?,
                    revocation_url: get("OAUTH_REVOCATION_URL")?,
                    dir,
                    config: config.clone(),
                    introspector_secret,
                });
            }
            Some(4) => continue, // the port was taken in the meantime
            _ => break,
        }
    }
    Err(last)
}

/// Detached process that stops the server and removes `dir` once this test process is gone.
fn spawn_watchdog(dir: &Path) -> Result<(), String> {
    const WATCH: &str = r#"
        while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
        "$2" stop "$3" >/dev/null 2>&1
        [ "$4" = 1 ] || rm -rf "$3"
    "#;
    let keep = if std::env::var_os("SRGATE_MAILSTACK_KEEP").is_some_and(|v| v == "1") { "1" } else { "0" };
    Command::new("setsid")
        .args(["sh", "-c", WATCH, "srgate-oauth-watchdog", &std::process::id().to_string()])
        .arg(script())
        .arg(dir)
        .arg(keep)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot spawn the OAuth clean-up watchdog: {e}"))
}

impl OAuthServer {
    /// Dovecot's introspection URL, with the introspector's credentials in it.
    pub fn dovecot_introspection_url(&self) -> IntrospectionUrl {
        let rest = self.introspection_url.strip_prefix("http://").unwrap_or(&self.introspection_url);
        IntrospectionUrl(format!("http://{INTROSPECTOR_ID}:{}@{rest}", self.introspector_secret))
    }

    /// The last `n` lines of the server's log (no tokens in it), for failure messages.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.dir.join("oauth-server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Acts as the person of the device flow (`oauth-server.sh approve`): enters `user_code` at the
    /// verification page, signs in as `login`, consents. Err with the script's message.
    pub fn approve(&self, user_code: &str, login: &str) -> Result<(), String> {
        self.run(&["approve", user_code, login])
    }

    /// RFC 7009 revocation of `token` by its client (client_secret_basic).
    pub fn revoke(&self, client_id: &str, secret: &str, token: &str) -> Result<(), String> {
        self.run(&["revoke", client_id, secret, token])
    }

    /// "The app's secret was revoked by the admin": `client_id`'s token requests fail with
    /// invalid_client from now on, and its tokens introspect as inactive.
    pub fn disable_client(&self, client_id: &str) -> Result<(), String> {
        self.run(&["disable-client", client_id])
    }

    fn run(&self, args: &[&str]) -> Result<(), String> {
        let out = Command::new(script())
            .arg(args[0])
            .arg(&self.dir)
            .args(&args[1..])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run oauth-server.sh: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("oauth-server.sh {} failed ({}): {}", args[0], out.status, String::from_utf8_lossy(&out.stderr).trim()))
        }
    }

    /// A token request at the token endpoint with `form` (grant_type etc.) and `auth`.
    pub fn token_request(&self, auth: ClientAuth<'_>, form: &[(&str, &str)]) -> Result<Tokens, OAuthError> {
        let body = self.post(&self.token_url, auth, form)?;
        let access_token = body["access_token"].as_str().ok_or(OAuthError { status: 200, error: "no access_token".into() })?;
        Ok(Tokens {
            access_token: access_token.to_string(),
            refresh_token: body["refresh_token"].as_str().map(str::to_string),
            expires_in: body["expires_in"].as_u64().unwrap_or(0),
            scope: body["scope"].as_str().map(str::to_string),
        })
    }

    /// client_credentials grant.
    pub fn client_credentials(&self, auth: ClientAuth<'_>) -> Result<Tokens, OAuthError> {
        self.token_request(auth, &[("grant_type", "client_credentials")])
    }

    /// Starts the device flow (RFC 8628) for `scope` (e.g. "offline_access").
    pub fn device_authorization(&self, auth: ClientAuth<'_>, scope: &str) -> Result<DeviceAuthorization, OAuthError> {
        let body = self.post(&self.device_authorization_url, auth, &[("scope", scope)])?;
        let field = |k: &str| body[k].as_str().map(str::to_string).ok_or(OAuthError { status: 200, error: format!("no {k}") });
        Ok(DeviceAuthorization {
            device_code: field("device_code")?,
            user_code: field("user_code")?,
            verification_uri: field("verification_uri")?,
            verification_uri_complete: body["verification_uri_complete"].as_str().map(str::to_string),
            expires_in: body["expires_in"].as_u64().unwrap_or(0),
        })
    }

    /// One device-code token request (Err `authorization_pending` until the person approved).
    pub fn device_token(&self, auth: ClientAuth<'_>, device_code: &str) -> Result<Tokens, OAuthError> {
        self.token_request(auth, &[("grant_type", DEVICE_CODE_GRANT), ("device_code", device_code)])
    }

    /// refresh_token grant.
    pub fn refresh(&self, auth: ClientAuth<'_>, refresh_token: &str) -> Result<Tokens, OAuthError> {
        self.token_request(auth, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)])
    }

    /// RFC 7662 introspection of `token` as Dovecot does it (the introspector's credentials):
    /// `{"active": false}` or the token's fields (`active`, `email`, `client_id`, `exp`, ...).
    pub fn introspect(&self, token: &str) -> Result<Value, OAuthError> {
        self.post(&self.introspection_url, ClientAuth::Basic(INTROSPECTOR_ID, &self.introspector_secret), &[("token", token)])
    }

    /// POSTs `form` to `url` with `auth`: the JSON answer on 200, else its `error`.
    pub fn post(&self, url: &str, auth: ClientAuth<'_>, form: &[(&str, &str)]) -> Result<Value, OAuthError> {
        let mut fields: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut basic = None;
        match auth {
            ClientAuth::Basic(id, secret) => basic = Some((id, secret)),
            ClientAuth::Post(id, secret) => {
                fields.push(("client_id".into(), id.into()));
                fields.push(("client_secret".into(), secret.into()));
            }
            ClientAuth::Certificate(id, cert) => {
                fields.push(("client_id".into(), id.into()));
                fields.push(("client_assertion_type".into(), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
                fields.push(("client_assertion".into(), cert.client_assertion(id, &self.token_url)));
            }
            ClientAuth::Public(id) => fields.push(("client_id".into(), id.into())),
        }
        let body = fields.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect::<Vec<_>>().join("&");
        let (status, text) = http_post(url, basic, &body).map_err(|e| OAuthError { status: 0, error: e })?;
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status == 200 {
            Ok(json)
        } else {
            Err(OAuthError { status, error: json["error"].as_str().unwrap_or("(no error field)").to_string() })
        }
    }
}

/// application/x-www-form-urlencoded (also for HTTP Basic credentials, RFC 6749 2.3.1).
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One HTTP/1.1 POST to `http://127.0.0.1:PORT/path`: (status, body). No redirects, no TLS.
fn http_post(url: &str, basic: Option<(&str, &str)>, body: &str) -> Result<(u16, String), String> {
    let rest = url.strip_prefix("http://").ok_or(format!("not an http URL: {url}"))?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut s = TcpStream::connect(host).map_err(|e| format!("connect {host}: {e}"))?;
    s.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    let auth = basic
        .map(|(id, secret)| format!("Authorization: Basic {}\r\n", STANDARD.encode(format!("{}:{}", form_encode(id), form_encode(secret)))))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n{auth}\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).map_err(|e| format!("send to {host}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("read from {host}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP header end")?;
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or("no HTTP status")?;
    let chunked =
        head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked"));
    Ok((status, if chunked { dechunk(body) } else { body.to_string() }))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out += &rest[..n];
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

// ============================================================ SASL logins

/// The SASL mechanisms that carry a bearer token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sasl {
    /// Google/Microsoft's XOAUTH2: `user=U^Aauth=Bearer T^A^A`.
    XOauth2,
    /// RFC 7628 OAUTHBEARER: `n,a=U,^Ahost=H^Aport=P^Aauth=Bearer T^A^A`.
    OAuthBearer,
}

impl Sasl {
    /// The mechanism's name.
    pub fn name(self) -> &'static str {
        match self {
            Sasl::XOauth2 => "XOAUTH2",
            Sasl::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// The base64 initial response for `user` and `token` (to a server at 127.0.0.1:`port`).
    pub fn initial_response(self, user: &str, token: &str, port: u16) -> String {
        let raw = match self {
            Sasl::XOauth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
            Sasl::OAuthBearer => format!("n,a={user},\x01host=127.0.0.1\x01port={port}\x01auth=Bearer {token}\x01\x01"),
        };
        STANDARD.encode(raw)
    }

    /// What the client sends after the server's error challenge (RFC 7628: %x01; XOAUTH2: empty).
    fn after_error(self) -> &'static str {
        match self {
            Sasl::XOauth2 => "",
            Sasl::OAuthBearer => "AQ==",
        }
    }
}

impl MailStack {
    /// `AUTHENTICATE <mech> <initial response>` on the IMAP port (plain) as `user` with `token`.
    /// Ok once logged in; Err with the server's (token-free) answer.
    pub fn imap_oauth_login(&self, mech: Sasl, user: &str, token: &str) -> Result<(), String> {
        let (mut r, mut w) = connect(&self.imap_addr())?;
        let greeting = read_line(&mut r)?;
        if !greeting.starts_with("* OK") {
            return Err(format!("IMAP greeting: {greeting}"));
        }
        send(&mut w, &format!("a AUTHENTICATE {} {}", mech.name(), mech.initial_response(user, token, self.imap_port)))?;
        let mut transcript = String::new();
        loop {
            let line = read_line(&mut r)?;
            transcript += &format!("S: {line}\n");
            if line.starts_with("+") {
                send(&mut w, mech.after_error())?; // the error challenge: end the exchange
            } else if let Some(status) = line.strip_prefix("a ") {
                let _ = send(&mut w, "b LOGOUT");
                return if status.starts_with("OK") { Ok(()) } else { Err(transcript.trim_end().to_string()) };
            }
        }
    }

    /// IMAP `LOGIN user password` (SASL PLAIN in Dovecot) with `password`, which may be a token:
    /// Ok once logged in; Err with the server's answer (never the password).
    pub fn imap_password_login(&self, user: &str, password: &str) -> Result<(), String> {
        let (mut r, mut w) = connect(&self.imap_addr())?;
        read_line(&mut r)?;
        let quote = |v: &str| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""));
        send(&mut w, &format!("a LOGIN {} {}", quote(user), quote(password)))?;
        loop {
            let line = read_line(&mut r)?;
            if let Some(status) = line.strip_prefix("a ") {
                let _ = send(&mut w, "b LOGOUT");
                return if status.starts_with("OK") { Ok(()) } else { Err(line) };
            }
        }
    }

    /// `AUTH <mech> <initial response>` on Postfix's SMTP port (plain) as `user` with `token`.
    /// Ok on 235; Err with the server's (token-free) replies.
    pub fn smtp_oauth_login(&self, mech: Sasl, user: &str, token: &str) -> Result<(), String> {
        let (mut r, mut w) = connect(&self.smtp_addr())?;
        let mut transcript = String::new();
        let mut reply = |r: &mut std::io::BufReader<TcpStream>| -> Result<String, String> {
            loop {
                let line = read_line(r)?;
                transcript += &format!("S: {line}\n");
                if line.len() < 4 || line.as_bytes()[3] != b'-' {
                    return Ok(line);
                }
            }
        };
        reply(&mut r)?;
        send(&mut w, "EHLO srgate-tests.example.test")?;
        let ehlo = reply(&mut r)?;
        if !ehlo.starts_with("250") {
            return Err(format!("EHLO: {ehlo}"));
        }
        send(&mut w, &format!("AUTH {} {}", mech.name(), mech.initial_response(user, token, self.smtp_port)))?;
        let mut answer = reply(&mut r)?;
        if answer.starts_with("334") {
            send(&mut w, mech.after_error())?;
            answer = reply(&mut r)?;
        }
        let _ = send(&mut w, "QUIT");
        if answer.starts_with("235") { Ok(()) } else { Err(transcript.trim_end().to_string()) }
    }
}

fn connect(addr: &str) -> Result<(std::io::BufReader<TcpStream>, TcpStream), String> {
    let w = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    w.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
    let r = std::io::BufReader::new(w.try_clone().map_err(|e| e.to_string())?);
    Ok((r, w))
}

fn send(w: &mut TcpStream, line: &str) -> Result<(), String> {
    w.write_all(format!("{line}\r\n").as_bytes()).map_err(|e| format!("send: {e}"))
}

fn read_line(r: &mut std::io::BufReader<TcpStream>) -> Result<String, String> {
    let mut line = String::new();
    match std::io::BufRead::read_line(r, &mut line) {
        Ok(0) => Err("connection closed".into()),
        Ok(_) => Ok(line.trim_end().to_string()),
        Err(e) => Err(format!("read: {e}")),
    }
}

/// How long to wait for an access token of `ttl` seconds to be surely expired.
pub fn past_ttl(ttl: u64) -> Duration {
    Duration::from_millis(ttl * 1000 + 1100)
}
