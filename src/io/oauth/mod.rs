//! OAuth2 tokens at the edge: one [`TokenSource`] per `[[credential]]` obtains,
//! refreshes and keeps its tokens ([`files`]), over HTTPS ([`http`]); `srgate auth
//! login` runs the device flow ([`login`]) and `srgate auth status` reports ([`status`]).
//!
//! A source hands out an access token that is not due for refresh; it refreshes
//! under a lock, so tasks that need a token at the same time cause one request,
//! and a refresh token the server rotates is saved (atomically, 0600) before the
//! new access token is handed to anyone. A token written by `srgate auth login`
//! while the daemon runs is noticed by the file's modification time. Tokens never
//! reach a log: errors carry the server's error code and first line only.

pub mod files;
pub mod http;
pub mod login;
pub mod status;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use jiff::Timestamp;
use tracing::{info, warn};

use crate::config::{ClientSecret, Config, Credential, Secret};
use crate::failpoint::crash_point;
use crate::oauth::grant::{self, ClientAuth, Grant};
use crate::oauth::{Alert, Flow, Health, Refusal, TokenReply, Tokens, certificate};
use files::CredentialFiles;

/// An access token ready for a server, and when it expires.
#[derive(Clone)]
pub struct Bearer {
    /// The token.
    pub token: Secret,
    /// When it expires, when the server said.
    pub expires_at: Option<Timestamp>,
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bearer").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

/// Why no token could be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// The server refused the credential: a person must act.
    #[error("credential {0}: {1}")]
    Refused(String, String),
    /// Passing trouble (the token endpoint cannot be reached, a file cannot be written).
    #[error("credential {0}: {1}")]
    Transient(String, String),
}

impl TokenError {
    /// A short reason for `/healthz`.
    pub fn reason(&self) -> &'static str {
        match self {
            TokenError::Refused(..) => "credential refused",
            TokenError::Transient(..) => "token endpoint unreachable",
        }
    }
}

struct Held {
    tokens: Tokens,
    /// The tokens file's modification time when last read or written.
    stamp: Option<SystemTime>,
    loaded: bool,
}

/// One credential's tokens and health.
pub struct TokenSource {
    credential: Credential,
    files: CredentialFiles,
    held: tokio::sync::Mutex<Held>,
    health: std::sync::Mutex<Health>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource").field("credential", &self.credential.name).finish_non_exhaustive()
    }
}

impl TokenSource {
    /// The source of `credential`, keeping its files in `dir`.
    pub fn new(credential: Credential, dir: &Path) -> TokenSource {
        let files = CredentialFiles::new(dir, &credential.name);
        let health = CredentialFiles::read::<Health>(&files.health()).ok().flatten().map(|(h, _)| h).unwrap_or_default();
        TokenSource {
            credential,
            files,
            held: tokio::sync::Mutex::new(Held { tokens: Tokens::default(), stamp: None, loaded: false }),
            health: std::sync::Mutex::new(health),
        }
    }

    /// The credential's name.
    pub fn name(&self) -> &str {
        &self.credential.name
    }

    /// The credential.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// An access token not due for refresh; refreshed (once, for every waiting
    /// task) when it is. Failures are recorded in the health.
    pub async fn bearer(&self) -> Result<Bearer, TokenError> {
        self.get(None).await
    }

    /// A server refused `refused`: a new token, unless another task got one meanwhile.
    pub async fn refused(&self, refused: &Bearer) -> Result<Bearer, TokenError> {
        self.get(Some(refused.token.expose().to_string())).await
    }

    async fn get(&self, refused: Option<String>) -> Result<Bearer, TokenError> {
        let mut held = self.held.lock().await;
        self.reload(&mut held).await;
        let now = crate::time::wall_now();
        if let Some(bad) = &refused
            && held.tokens.access_token.as_deref() == Some(bad.as_str())
        {
            held.tokens = held.tokens.without_access_token();
        }
        if let Some(token) = held.tokens.usable_access_token(now) {
            return Ok(Bearer { token: Secret::new(token), expires_at: held.tokens.access_expires_at });
        }
        let (credential, current) = (self.credential.clone(), held.tokens.clone());
        let obtained = tokio::task::spawn_blocking(move || obtain(&credential, &current, crate::time::wall_now()))
            .await
            .unwrap_or_else(|e| Err(Refusal::Transient(format!("the token request failed: {e}"))));
        let now = crate::time::wall_now();
        match obtained {
            Ok(tokens) => {
                // Saved before anyone uses them: a rotated refresh token is the only one that works now.
                let (files, to_save) = (self.files.clone(), tokens.clone());
                let saved = tokio::task::spawn_blocking(move || files.write(&files.tokens(), &to_save)).await;
                match saved {
                    Ok(Ok(stamp)) => {
                        crash_point!("oauth.after_save");
                        held.stamp = Some(stamp);
                    }
                    Ok(Err(e)) => warn!(credential = %self.name(), error = %e, "cannot save the new tokens; they are kept in memory"),
                    Err(e) => warn!(credential = %self.name(), error = %e, "cannot save the new tokens; they are kept in memory"),
                }
                held.tokens = tokens;
                self.update_health(|h| h.succeeded(now));
                info!(credential = %self.name(), expires_at = ?held.tokens.access_expires_at, "access token obtained");
                let token = held.tokens.access_token.clone().unwrap_or_default();
                Ok(Bearer { token: Secret::new(token), expires_at: held.tokens.access_expires_at })
            }
            Err(refusal) => {
                let why = refusal.describe();
                let refused = matches!(refusal, Refusal::Refused { .. });
                self.update_health(|h| h.failed(now, &why, refused));
                warn!(credential = %self.name(), error = %why, "no access token");
                Err(if refused {
                    TokenError::Refused(self.name().to_string(), why)
                } else {
                    TokenError::Transient(self.name().to_string(), why)
                })
            }
        }
    }

    /// Reads the tokens file at first use, and again when someone else (`srgate auth
    /// login`) replaced it; a `refresh_token_file` with new contents brings its token in.
    /// The file system is asked on a blocking thread.
    async fn reload(&self, held: &mut Held) {
        let (files, credential, loaded, stamp, tokens) =
            (self.files.clone(), self.credential.clone(), held.loaded, held.stamp, held.tokens.clone());
        let fresh = tokio::task::spawn_blocking(move || on_disk(&files, &credential, loaded, stamp, tokens)).await;
        if let Ok(Some((tokens, stamp))) = fresh {
            held.tokens = tokens;
            held.stamp = stamp;
        }
        held.loaded = true;
    }

    /// A server accepted a token.
    /// Health is written on a change of state, and a success at most once a minute.
    pub fn succeeded(&self) {
        let now = crate::time::wall_now();
        let health = self.health();
        if health.failing_since.is_some() || health.last_success.is_none_or(|t| now.duration_since(t).as_secs() >= 60) {
            self.update_health(|h| h.succeeded(now));
        }
    }

    /// A server refused a token fresh from the token endpoint (the app lacks the
    /// permission, the mailbox is not granted to it …): the credential is failing.
    pub fn server_refused(&self, why: &str) {
        let now = crate::time::wall_now();
        self.update_health(|h| h.failed(now, why, true));
    }

    /// The credential's health.
    pub fn health(&self) -> Health {
        self.health.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// True when the credential is failing now.
    pub fn failing(&self) -> bool {
        self.health().failing(crate::time::wall_now())
    }

    /// When the access token held expires (for metrics); `None` before the first.
    pub fn access_expires_at(&self) -> Option<Timestamp> {
        self.held.try_lock().ok().and_then(|h| h.tokens.access_expires_at)
    }

    /// When the access token held becomes due for refresh.
    pub async fn refresh_at(&self) -> Option<Timestamp> {
        let mut held = self.held.lock().await;
        self.reload(&mut held).await;
        held.tokens.refresh_at()
    }

    /// The alerts due now, remembered as sent in the health file.
    pub fn alerts(&self) -> Vec<Alert> {
        let now = crate::time::wall_now();
        let mut alerts = Vec::new();
        self.update_health(|h| {
            let (next, due) = h.alerts(self.name(), self.credential.expiry(), now);
            alerts = due;
            next
        });
        alerts
    }

    fn update_health(&self, change: impl FnOnce(&Health) -> Health) {
        let mut guard = self.health.lock().unwrap_or_else(|p| p.into_inner());
        let next = change(&guard);
        if next != *guard {
            if let Err(e) = self.files.write_soon(&self.files.health(), &next) {
                warn!(credential = %self.name(), error = %e, "cannot save the credential's health");
            }
            *guard = next;
        }
    }
}

/// The tokens as they are on disk, when they differ from `tokens` (read at `stamp`;
/// `loaded`: read before): the tokens file when it is new, then a new `refresh_token_file`.
fn on_disk(
    files: &CredentialFiles,
    credential: &Credential,
    loaded: bool,
    stamp: Option<SystemTime>,
    mut tokens: Tokens,
) -> Option<(Tokens, Option<SystemTime>)> {
    let (path, mut stamp, mut changed) = (files.tokens(), stamp, false);
    let modified = files::modified(&path);
    if !loaded || (modified.is_some() && modified != stamp) {
        match CredentialFiles::read::<Tokens>(&path) {
            Ok(Some((read, at))) => (tokens, stamp, changed) = (read, Some(at), true),
            Ok(None) => {}
            Err(e) => warn!(credential = %credential.name, error = %e, "cannot read the saved tokens"),
        }
    }
    if let Some(seeded) = seed_from_file(credential, &tokens) {
        info!(credential = %credential.name, "a new refresh token was read from refresh_token_file");
        (tokens, changed) = (seeded, true);
    }
    changed.then_some((tokens, stamp))
}

/// The tokens with the refresh token of `refresh_token_file`, when the file holds
/// one that was not brought in before (refresh token flow only).
fn seed_from_file(credential: &Credential, tokens: &Tokens) -> Option<Tokens> {
    let path = credential.refresh_token_file.as_ref().filter(|_| credential.flow == Flow::RefreshToken)?;
    let text = std::fs::read_to_string(path).ok()?;
    let token = text.trim();
    if token.is_empty() {
        return None;
    }
    let fingerprint = sha256_hex(token.as_bytes());
    if tokens.seeded_from.as_deref() == Some(fingerprint.as_str()) {
        return None;
    }
    let obtained = files::modified(path).and_then(|m| Timestamp::try_from(m).ok());
    Some(Tokens {
        refresh_token: Some(token.to_string()),
        refresh_obtained_at: obtained,
        seeded_from: Some(fingerprint),
        ..Tokens::default()
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// How the client authenticates itself now: a certificate is read and a new
/// assertion signed for every request.
pub fn client_auth(credential: &Credential, now: Timestamp) -> Result<ClientAuth, Refusal> {
    match &credential.client_secret {
        ClientSecret::None => Ok(ClientAuth::None),
        ClientSecret::Secret(s) => Ok(ClientAuth::Secret { secret: s.expose().to_string(), post: credential.secret_in_form() }),
        ClientSecret::Certificate { certificate_file, key_file, .. } => {
            let unreadable = |what: &str, path: &Path| Refusal::Refused {
                code: "bad_certificate".into(),
                description: format!("cannot use the {what} {}", path.display()),
            };
            let cert_pem = std::fs::read_to_string(certificate_file).map_err(|_| unreadable("certificate", certificate_file))?;
            let cert = certificate::pem_block(&cert_pem, "CERTIFICATE").ok_or_else(|| unreadable("certificate", certificate_file))?;
            let key_pem = std::fs::read_to_string(key_file).map_err(|_| unreadable("private key", key_file))?;
            let key = match certificate::pem_block(&key_pem, "PRIVATE KEY") {
                Some(pkcs8) => ring::signature::RsaKeyPair::from_pkcs8(&pkcs8),
                None => {
                    let pkcs1 = certificate::pem_block(&key_pem, "RSA PRIVATE KEY").ok_or_else(|| unreadable("private key", key_file))?;
                    ring::signature::RsaKeyPair::from_der(&pkcs1)
                }
            }
            .map_err(|_| unreadable("RSA private key", key_file))?;
            let rng = ring::rand::SystemRandom::new();
            let mut nonce = [0u8; 16];
            ring::rand::SecureRandom::fill(&rng, &mut nonce).map_err(|_| Refusal::Transient("no randomness".into()))?;
            let jti: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
            let (sha1, sha256) = certificate::thumbprints(&cert);
            let input = grant::assertion_signing_input(&credential.client_id, &credential.token_url, (&sha1, &sha256), &jti, now);
            let mut signature = vec![0u8; key.public().modulus_len()];
            key.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut signature)
                .map_err(|_| unreadable("RSA private key", key_file))?;
            Ok(ClientAuth::Assertion(grant::assertion(&input, &signature)))
        }
    }
}

/// One token request for `credential` (blocking): new tokens, or why not.
pub fn obtain(credential: &Credential, current: &Tokens, now: Timestamp) -> Result<Tokens, Refusal> {
    let grant = match (credential.flow, current.refresh_token.as_deref()) {
        (Flow::ClientCredentials, _) => Grant::ClientCredentials,
        (_, Some(refresh)) => Grant::Refresh(refresh),
        (Flow::DeviceCode, None) => {
            return Err(Refusal::Refused {
                code: "not_signed_in".into(),
                description: format!("nobody has signed in yet: run `srgate auth login {}`", credential.name),
            });
        }
        (Flow::RefreshToken, None) => {
            return Err(Refusal::Refused { code: "no_refresh_token".into(), description: "refresh_token_file holds no token".into() });
        }
    };
    let auth = client_auth(credential, now)?;
    let request = grant::token_request(grant, &credential.client_id, &auth, &credential.scopes);
    let (status, body) = http::post(&credential.token_url, &request, credential.tls_ca.as_ref()).map_err(Refusal::Transient)?;
    if status == 200 {
        let reply: TokenReply =
            serde_json::from_str(&body).map_err(|_| Refusal::Transient(format!("the token endpoint answered {status} without a token")))?;
        Ok(current.after(reply, now))
    } else {
        Err(Refusal::from_reply(status, &body))
    }
}

/// Every credential's source, by name.
#[derive(Debug, Default)]
pub struct Credentials(BTreeMap<String, Arc<TokenSource>>);

impl Credentials {
    /// The sources of `config`'s credentials (nothing is requested yet).
    pub fn new(config: &Config) -> Credentials {
        let dir = config.credentials_dir();
        Credentials(config.credentials.iter().map(|c| (c.name.clone(), Arc::new(TokenSource::new(c.clone(), &dir)))).collect())
    }

    /// The source named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<TokenSource>> {
        self.0.get(name).cloned()
    }

    /// Every source.
    pub fn all(&self) -> impl Iterator<Item = &Arc<TokenSource>> {
        self.0.values()
    }
}
