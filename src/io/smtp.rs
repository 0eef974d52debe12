//! Delivering mail over SMTP (lettre on tokio, rustls, a pool of reused connections).

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls as LettreTls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{Smtp as SmtpConfig, Tls};

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

/// The SMTP client.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds the client from the `[smtp]` section (no connection is made yet).
    pub fn new(cfg: &SmtpConfig) -> Result<Mailer, SendError> {
        let tls = |host: &str| TlsParameters::new(host.into()).map_err(|e| SendError::Permanent(format!("tls setup: {e}")));
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.clone()).port(cfg.port).tls(match cfg.tls {
            Tls::None => LettreTls::None,
            Tls::Starttls => LettreTls::Required(tls(&cfg.host)?),
            Tls::Tls => LettreTls::Wrapper(tls(&cfg.host)?),
        });
        let builder = builder
            .timeout(Some(Duration::from_secs(60)))
            .pool_config(PoolConfig::new().max_size(cfg.connections as u32).idle_timeout(Duration::from_secs(30)));
        let builder = match (&cfg.username, &cfg.password) {
            (Some(user), Some(pass)) => builder.credentials(Credentials::new(user.clone(), pass.expose().to_string())),
            _ => builder,
        };
        Ok(Mailer { transport: builder.build() })
    }

    /// Submits one rendered message.
    pub async fn send(&self, from: &str, to: &[String], bytes: &[u8]) -> Result<(), SendError> {
        let parse = |a: &str| a.parse::<lettre::Address>().map_err(|e| SendError::Permanent(format!("bad address {a:?}: {e}")));
        let rcpts = to.iter().map(|a| parse(a)).collect::<Result<Vec<_>, _>>()?;
        let envelope = Envelope::new(Some(parse(from)?), rcpts).map_err(|e| SendError::Permanent(e.to_string()))?;
        match self.transport.send_raw(&envelope, bytes).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}
