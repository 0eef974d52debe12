//! Delivering mail over SMTP: lettre's protocol client on our own pool of connections.
//!
//! We open the TCP connections ourselves so that they run with `TCP_NODELAY`:
//! lettre writes a message and its final `.` in two writes, and with Nagle's
//! algorithm the second waits for a delayed ACK (about 40 ms per mail).
//! Connections are reused; one that fails is dropped, and a send that failed
//! on a reused connection is tried once more on a fresh one. STARTTLS and
//! implicit TLS verify the server's certificate as IMAP does (see [`crate::io::tls`]);
//! the last connection failure is kept for the health verdict.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use crate::config::{Login, Smtp as SmtpConfig, Tls};
use crate::io::oauth::TokenSource;
use crate::io::tls::{self, Connector};

/// How long connecting (and greeting, TLS, AUTH) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one message submission may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(120);

/// A delivery failure, sorted by what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Try again later (4xx, connection trouble).
    #[error("temporary: {0}")]
    Transient(String),
    /// Will never work (5xx, bad address).
    #[error("permanent: {0}")]
    Permanent(String),
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        if e.is_permanent() { SendError::Permanent(e.to_string()) } else { SendError::Transient(e.to_string()) }
    }
}

/// How connections are secured, prepared once.
#[derive(Clone)]
enum Security {
    Plain,
    Starttls(TlsParameters),
    Implicit(Connector),
}

/// A signed-in connection and the expiry of the token it signed in with (none for a password).
type Session = (AsyncSmtpConnection, Option<jiff::Timestamp>);

/// The SMTP client: settings plus idle connections ready for reuse.
#[derive(Clone)]
pub struct Mailer {
    config: Arc<SmtpConfig>,
    security: Security,
    /// The OAuth2 tokens `[smtp]` signs in with (`auth = "oauth2"`).
    tokens: Option<Arc<TokenSource>>,
    /// Connections ready for reuse, with the expiry of the token they signed in with:
    /// a session is not reused once its token has lapsed.
    idle: Arc<Mutex<Vec<Session>>>,
    /// Why the last attempt to connect failed; `None` once one succeeds.
    connect_problem: Arc<std::sync::Mutex<Option<String>>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("host", &self.config.host).field("port", &self.config.port).finish_non_exhaustive()
    }
}

/// An implicit-TLS stream, as lettre wants it.
#[derive(Debug)]
struct TlsStream(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for TlsStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsStream {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl Mailer {
    /// The client for the `[smtp]` section (no connection is made yet); `tokens` is
    /// the source of its OAuth2 credential, when it signs in with one.
    pub fn new(cfg: &SmtpConfig, tokens: Option<Arc<TokenSource>>) -> Result<Mailer, SendError> {
        let setup = |e: tls::TlsError| SendError::Permanent(e.0);
        let security = match cfg.tls {
            Tls::None => Security::Plain,
            Tls::Starttls => Security::Starttls(tls::smtp_parameters(&cfg.host, cfg.tls_ca.as_ref()).map_err(setup)?),
            Tls::Tls => Security::Implicit(Connector::new(cfg.tls_ca.as_ref()).map_err(setup)?),
        };
        Ok(Mailer {
            config: Arc::new(cfg.clone()),
            security,
            tokens,
            idle: Arc::new(Mutex::new(Vec::new())),
            connect_problem: Arc::new(std::sync::Mutex::new(None)),
        })
    }

    /// Why the last attempt to connect to the server failed (an untrusted certificate,
    /// a refused connection…); `None` when the last attempt succeeded.
    pub fn connect_problem(&self) -> Option<String> {
        self.connect_problem.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn connect(&self) -> Result<Session, SendError> {
        let result = self.try_connect().await;
        let problem = match &result {
            Ok(_) => None,
            Err(SendError::Transient(why) | SendError::Permanent(why)) => Some(why.clone()),
        };
        *self.connect_problem.lock().unwrap_or_else(|p| p.into_inner()) = problem;
        result
    }

    async fn try_connect(&self) -> Result<Session, SendError> {
        let cfg = &self.config;
        let addr = format!("{}:{}", cfg.host, cfg.port);
        let work = async {
            let mut conn = self.open().await?;
            let user = cfg.username.clone().unwrap_or_default();
            match &cfg.login {
                None => Ok((conn, None)),
                Some(Login::Password(pass)) => {
                    let credentials = Credentials::new(user.clone(), pass.expose().to_string());
                    // A refused login is the configuration's fault, not the mail's: retried, never failed for good.
                    conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
                        .await
                        .map_err(|e| SendError::Transient(format!("SMTP AUTH as {user} refused: {e}")))?;
                    Ok((conn, None))
                }
                Some(Login::OAuth2 { credential }) => {
                    let source = self.tokens.clone().ok_or_else(|| SendError::Transient(format!("no credential `{credential}`")))?;
                    let bearer = source.bearer().await.map_err(|e| SendError::Transient(e.to_string()))?;
                    let with = |token: &crate::config::Secret| Credentials::new(user.clone(), token.expose().to_string());
                    if conn.auth(&[Mechanism::Xoauth2], &with(&bearer.token)).await.is_ok() {
                        source.succeeded();
                        return Ok((conn, bearer.expires_at));
                    }
                    // Refused (the token may have been revoked early): a new token, on a new session.
                    conn.abort().await;
                    let fresh = source.refused(&bearer).await.map_err(|e| SendError::Transient(e.to_string()))?;
                    let mut conn = self.open().await?;
                    match conn.auth(&[Mechanism::Xoauth2], &with(&fresh.token)).await {
                        Ok(_) => {
                            source.succeeded();
                            Ok((conn, fresh.expires_at))
                        }
                        Err(e) => {
                            conn.abort().await;
                            source.server_refused(&format!("the SMTP server refused a fresh token for {user}"));
                            Err(SendError::Transient(format!("SMTP XOAUTH2 sign-in as {user} refused: {e}")))
                        }
                    }
                }
            }
        };
        tokio::time::timeout(CONNECT_TIMEOUT, work).await.map_err(|_| SendError::Transient(format!("connect {addr}: timed out")))?
    }

    /// A new session: TCP, TLS as configured, EHLO; not signed in yet.
    async fn open(&self) -> Result<AsyncSmtpConnection, SendError> {
        let cfg = &self.config;
        let addr = format!("{}:{}", cfg.host, cfg.port);
        let tls_refused = |e: lettre::transport::smtp::Error| match tls::explain(&cfg.host, cfg.port, &e) {
            Some(why) => SendError::Transient(why),
            None => SendError::Transient(format!("STARTTLS with {addr}: {e}")),
        };
        let work = async {
            let tcp = TcpStream::connect(&addr).await.map_err(|e| SendError::Transient(format!("connect {addr}: {e}")))?;
            tcp.set_nodelay(true).ok();
            let hello = ClientId::default();
            let stream: Box<dyn AsyncTokioStream> = match &self.security {
                Security::Implicit(tls) => {
                    Box::new(TlsStream(tls.connect(&cfg.host, cfg.port, tcp).await.map_err(|e| SendError::Transient(e.0))?))
                }
                Security::Plain | Security::Starttls(_) => Box::new(tcp),
            };
            let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &hello).await?;
            if let Security::Starttls(params) = &self.security {
                conn.starttls(params.clone(), &hello).await.map_err(tls_refused)?;
            }
            Ok(conn)
        };
        work.await
    }

    /// Submits one rendered message.
    pub async fn send(&self, from: &str, to: &[String], bytes: &[u8]) -> Result<(), SendError> {
        let parse = |a: &str| a.parse::<lettre::Address>().map_err(|e| SendError::Permanent(format!("bad address {a:?}: {e}")));
        let rcpts = to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
        let envelope = Envelope::new(Some(parse(from)?), rcpts).map_err(|e| SendError::Permanent(e.to_string()))?;
        let reused = {
            // A session whose token has lapsed is closed rather than reused.
            let now = crate::time::wall_now();
            let mut idle = self.idle.lock().await;
            idle.retain(|(_, expires)| expires.is_none_or(|t| t > now));
            idle.pop()
        };
        let fresh = reused.is_none();
        let conn = match reused {
            Some(c) => c,
            None => self.connect().await?,
        };
        match self.send_on(conn, &envelope, bytes).await {
            Err(SendError::Transient(_)) if !fresh => {
                // The reused connection may have gone stale: once more on a new one.
                let conn = self.connect().await?;
                self.send_on(conn, &envelope, bytes).await
            }
            other => other,
        }
    }

    async fn send_on(&self, (mut conn, expires): Session, envelope: &Envelope, bytes: &[u8]) -> Result<(), SendError> {
        let result = tokio::time::timeout(SEND_TIMEOUT, conn.send(envelope, bytes)).await;
        match result {
            Ok(Ok(_)) => {
                let mut idle = self.idle.lock().await;
                if idle.len() < self.config.connections {
                    idle.push((conn, expires));
                }
                Ok(())
            }
            Ok(Err(e)) => {
                conn.abort().await;
                Err(e.into())
            }
            Err(_) => Err(SendError::Transient("SMTP send timed out".into())),
        }
    }
}
