//! Reading a mailbox over IMAP (async-imap on tokio, plain/STARTTLS/TLS; see [`crate::io::tls`]).
//!
//! This adapter knows IMAP and nothing of SRs: it selects a folder, lists
//! UIDs above a position, fetches raw messages without setting `\Seen`
//! (`BODY.PEEK[]`), flags or moves them, and waits in IDLE.

use std::fmt::Debug;
use std::time::Duration;

use async_imap::Session;
use async_imap::extensions::idle::IdleResponse;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::{Mailbox, Secret, Tls};
use crate::io::tls::Connector;
use crate::oauth::sasl;

/// Any byte stream IMAP can run over.
pub trait ImapStream: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapStream for T {}

type Stream = Box<dyn ImapStream>;

/// How long one IMAP command may take before the connection is given up.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// IMAP failures; all of them are worth a retry on a new connection.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// TCP failed.
    #[error("connect to {0}: {1}")]
    Connect(String, String),
    /// TLS failed: the message names the server and why (an untrusted certificate…).
    #[error("{0}")]
    Tls(String),
    /// The server refused the login (the login name, then the server's words).
    #[error("imap: login as {0} refused: {1}")]
    Login(String, String),
    /// The server refused an OAuth2 token (the login name, the mechanism, the server's words).
    #[error("imap: {1} sign-in as {0} refused: {2}")]
    TokenRefused(String, &'static str, String),
    /// The server said no or the protocol broke.
    #[error("imap: {0}")]
    Protocol(String),
    /// The server did not answer in time.
    #[error("imap: timed out during {0}")]
    Timeout(&'static str),
}

impl ImapError {
    /// A short reason for `/healthz`: no login name, host or port, nothing the
    /// server said (the full error goes to the log).
    pub fn reason(&self) -> &'static str {
        match self {
            ImapError::Connect(..) => "cannot connect",
            ImapError::Tls(why) if why.contains("not trusted") => "TLS certificate not trusted",
            ImapError::Tls(_) => "TLS failed",
            ImapError::Login(..) => "login refused",
            ImapError::TokenRefused(..) => "token refused",
            ImapError::Protocol(_) => "server error",
            ImapError::Timeout(_) => "timed out",
        }
    }
}

impl From<async_imap::error::Error> for ImapError {
    fn from(e: async_imap::error::Error) -> Self {
        ImapError::Protocol(e.to_string())
    }
}

async fn timed<T>(what: &'static str, fut: impl Future<Output = Result<T, ImapError>>) -> Result<T, ImapError> {
    tokio::time::timeout(COMMAND_TIMEOUT, fut).await.map_err(|_| ImapError::Timeout(what))?
}

/// A logged-in connection.
pub struct Connection {
    session: Session<Stream>,
    idle_supported: bool,
    move_supported: bool,
}

/// What SELECT reported.
#[derive(Debug, Clone, Copy)]
pub struct Selected {
    /// UIDVALIDITY (0 when the server gave none).
    pub uid_validity: u32,
    /// Messages in the folder.
    pub exists: u32,
}

/// Why an IDLE wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The server announced a change.
    Changed,
    /// The wait timed out (time for a periodic check).
    Timeout,
    /// We were asked to stop.
    Interrupted,
}

async fn wrap_tls(mb: &Mailbox, tcp: TcpStream) -> Result<Stream, ImapError> {
    let tls = Connector::new(mb.tls_ca.as_ref()).map_err(|e| ImapError::Tls(e.0))?;
    Ok(Box::new(tls.connect(&mb.host, mb.port, tcp).await.map_err(|e| ImapError::Tls(e.0))?))
}

/// What the login presents.
#[derive(Clone, Copy)]
pub enum SignIn<'a> {
    /// LOGIN with a password.
    Password(&'a Secret),
    /// AUTHENTICATE with an OAuth2 access token: OAUTHBEARER where the server
    /// offers it, XOAUTH2 otherwise.
    Bearer(&'a Secret),
}

/// The SASL exchange of a bearer token: the token first; after an error challenge,
/// the reply that ends the exchange.
struct TokenExchange {
    first: Option<String>,
    after_error: &'static str,
}

impl async_imap::Authenticator for TokenExchange {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        self.first.take().unwrap_or_else(|| self.after_error.to_string())
    }
}

/// The SASL mechanisms the server offers (`AUTH=…` in CAPABILITY), upper case.
async fn mechanisms<T: ImapStream>(client: &mut async_imap::Client<T>) -> Result<Vec<String>, ImapError> {
    use async_imap::imap_proto::{Capability, Response};
    use async_imap::types::UnsolicitedResponse;
    let (tx, rx) = async_channel::bounded(16);
    client.run_command_and_check_ok("CAPABILITY", Some(tx)).await?;
    let mut found = Vec::new();
    while let Ok(UnsolicitedResponse::Other(reply)) = rx.try_recv() {
        if let Response::Capabilities(list) = reply.parsed() {
            found.extend(list.iter().filter_map(|c| match c {
                Capability::Auth(m) => Some(m.to_ascii_uppercase()),
                _ => None,
            }));
        }
    }
    Ok(found)
}

/// Connects and signs in to `mb`.
pub async fn connect(mb: &Mailbox, sign_in: SignIn<'_>) -> Result<Connection, ImapError> {
    timed("login", async {
        let addr = format!("{}:{}", mb.host, mb.port);
        let tcp = TcpStream::connect(&addr).await.map_err(|e| ImapError::Connect(addr.clone(), e.to_string()))?;
        tcp.set_nodelay(true).ok();
        let stream: Stream = match mb.tls {
            Tls::Tls => wrap_tls(mb, tcp).await?,
            Tls::None => Box::new(tcp),
            Tls::Starttls => {
                let mut client = async_imap::Client::new(tcp);
                greeting(&mut client).await?;
                client
                    .run_command_and_check_ok("STARTTLS", None)
                    .await
                    .map_err(|e| ImapError::Protocol(format!("{addr} refused STARTTLS: {e}")))?;
                wrap_tls(mb, client.into_inner()).await?
            }
        };
        let mut client = async_imap::Client::new(stream);
        if mb.tls != Tls::Starttls {
            greeting(&mut client).await?;
        }
        let mut session = match sign_in {
            SignIn::Password(password) => client
                .login(&mb.username, password.expose())
                .await
                .map_err(|(e, _)| ImapError::Login(mb.username.clone(), e.to_string()))?,
            SignIn::Bearer(token) => {
                let offered = mechanisms(&mut client).await?;
                let (mechanism, exchange) = if offered.iter().any(|m| m == "OAUTHBEARER") {
                    let first = sasl::oauthbearer(&mb.username, &mb.host, mb.port, token.expose());
                    ("OAUTHBEARER", TokenExchange { first: Some(first), after_error: sasl::ABORT_AFTER_ERROR })
                } else {
                    ("XOAUTH2", TokenExchange { first: Some(sasl::xoauth2(&mb.username, token.expose())), after_error: "" })
                };
                client
                    .authenticate(mechanism, exchange)
                    .await
                    .map_err(|(e, _)| ImapError::TokenRefused(mb.username.clone(), mechanism, e.to_string()))?
            }
        };
        let caps = session.capabilities().await?;
        let idle_supported = caps.has_str("IDLE");
        let move_supported = caps.has_str("MOVE");
        Ok(Connection { session, idle_supported, move_supported })
    })
    .await
}

async fn greeting<T: ImapStream>(client: &mut async_imap::Client<T>) -> Result<(), ImapError> {
    match client.read_response().await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ImapError::Protocol("connection closed before greeting".into())),
        Err(e) => Err(ImapError::Protocol(e.to_string())),
    }
}

/// Formats UIDs as a compact IMAP sequence set (`1:4,7,9:10`).
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
        i += 1;
    }
    parts.join(",")
}

impl Connection {
    /// True when the server offers IDLE.
    pub fn idle_supported(&self) -> bool {
        self.idle_supported
    }

    fn drain_unsolicited(&mut self) {
        while self.session.unsolicited_responses.try_recv().is_ok() {}
    }

    /// Selects `folder`.
    pub async fn select(&mut self, folder: &str) -> Result<Selected, ImapError> {
        let mb = timed("select", async { Ok(self.session.select(folder).await?) }).await?;
        self.drain_unsolicited();
        Ok(Selected { uid_validity: mb.uid_validity.unwrap_or(0), exists: mb.exists })
    }

    /// UIDs above `after`, ascending.
    pub async fn uids_after(&mut self, after: u32) -> Result<Vec<u32>, ImapError> {
        let query = format!("UID {}:*", after.saturating_add(1));
        let found = timed("search", async { Ok(self.session.uid_search(&query).await?) }).await?;
        self.drain_unsolicited();
        let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > after).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The size in bytes of each message in `uids`.
    pub async fn sizes(&mut self, uids: &[u32]) -> Result<Vec<(u32, u64)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uid_set(uids);
        let mut out = timed("fetch sizes", async {
            let stream = self.session.uid_fetch(&set, "(UID RFC822.SIZE)").await?;
            let fetched: Vec<_> = stream.try_collect().await?;
            Ok(fetched.iter().filter_map(|f| Some((f.uid?, u64::from(f.size?)))).collect::<Vec<_>>())
        })
        .await?;
        self.drain_unsolicited();
        out.sort_by_key(|(uid, _)| *uid);
        Ok(out)
    }

    /// Raw messages for `uids` (BODY.PEEK[]: fetching does not set `\Seen`).
    pub async fn fetch(&mut self, uids: &[u32]) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uid_set(uids);
        let mut out = timed("fetch", async {
            let stream = self.session.uid_fetch(&set, "(UID BODY.PEEK[])").await?;
            let fetched: Vec<_> = stream.try_collect().await?;
            Ok(fetched.iter().filter_map(|f| Some((f.uid?, f.body().unwrap_or_default().to_vec()))).collect::<Vec<_>>())
        })
        .await?;
        self.drain_unsolicited();
        out.sort_by_key(|(uid, _)| *uid);
        Ok(out)
    }

    /// When the server received message `uid` (its INTERNALDATE); `None` when it does not say.
    pub async fn arrived(&mut self, uid: u32) -> Result<Option<jiff::Timestamp>, ImapError> {
        let set = uid_set(&[uid]);
        let seconds = timed("fetch internaldate", async {
            let stream = self.session.uid_fetch(&set, "(UID INTERNALDATE)").await?;
            let fetched: Vec<_> = stream.try_collect().await?;
            Ok(fetched.iter().find(|f| f.uid == Some(uid)).and_then(|f| f.internal_date()).map(|d| d.timestamp()))
        })
        .await?;
        self.drain_unsolicited();
        Ok(seconds.and_then(|s| jiff::Timestamp::from_second(s).ok()))
    }

    /// The first `limit` bytes of the headers of `uids` (`BODY.PEEK[HEADER]<0.limit>`):
    /// who sent a message too large to fetch, and what it is about.
    pub async fn headers(&mut self, uids: &[u32], limit: u32) -> Result<Vec<(u32, Vec<u8>)>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let set = uid_set(uids);
        let query = format!("(UID BODY.PEEK[HEADER]<0.{limit}>)");
        let out = timed("fetch headers", async {
            let stream = self.session.uid_fetch(&set, &query).await?;
            let fetched: Vec<_> = stream.try_collect().await?;
            Ok(fetched.iter().filter_map(|f| Some((f.uid?, f.header().unwrap_or_default().to_vec()))).collect::<Vec<_>>())
        })
        .await?;
        self.drain_unsolicited();
        Ok(out)
    }

    /// Flags `uids` as `\Seen`.
    pub async fn mark_seen(&mut self, uids: &[u32]) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        timed("store", async {
            let stream = self.session.uid_store(&set, "+FLAGS.SILENT (\\Seen)").await?;
            let _: Vec<_> = stream.try_collect().await?;
            Ok(())
        })
        .await?;
        self.drain_unsolicited();
        Ok(())
    }

    /// Moves `uids` to `folder`, creating it when missing.
    pub async fn move_to(&mut self, uids: &[u32], folder: &str) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        timed("move", async {
            // CREATE fails harmlessly when the folder exists.
            let _ = self.session.create(folder).await;
            if self.move_supported {
                self.session.uid_mv(&set, folder).await?;
            } else {
                self.session.uid_copy(&set, folder).await?;
                let stream = self.session.uid_store(&set, "+FLAGS.SILENT (\\Seen \\Deleted)").await?;
                let _: Vec<_> = stream.try_collect().await?;
                let stream = self.session.uid_expunge(&set).await?;
                let _: Vec<_> = stream.try_collect().await?;
            }
            Ok(())
        })
        .await?;
        self.drain_unsolicited();
        Ok(())
    }

    /// Waits in IDLE until the server reports a change, `timeout` passes or `stop` fires.
    pub async fn idle(self, timeout: Duration, stop: &mut tokio::sync::watch::Receiver<bool>) -> Result<(Connection, Wake), ImapError> {
        let Connection { session, idle_supported, move_supported } = self;
        let mut handle = session.idle();
        timed("idle", async { Ok(handle.init().await?) }).await?;
        let wake = {
            let (wait, interrupt) = handle.wait_with_timeout(timeout);
            tokio::pin!(wait);
            tokio::select! {
                r = &mut wait => match r? {
                    IdleResponse::NewData(_) => Wake::Changed,
                    IdleResponse::Timeout => Wake::Timeout,
                    IdleResponse::ManualInterrupt => Wake::Interrupted,
                },
                _ = stop.changed() => {
                    drop(interrupt);
                    let _ = wait.await;
                    Wake::Interrupted
                }
            }
        };
        let session = timed("idle done", async { Ok(handle.done().await?) }).await?;
        let mut conn = Connection { session, idle_supported, move_supported };
        conn.drain_unsolicited();
        Ok((conn, wake))
    }

    /// Logs out (best effort).
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn compact_sets() {
        assert_eq!(uid_set(&[4, 1, 2, 3, 7, 9, 10]), "1:4,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
    }
}
