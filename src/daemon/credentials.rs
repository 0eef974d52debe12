//! Signing in with OAuth2 credentials, and the credentials task.
//!
//! A mailbox or `[smtp]` with `auth = "oauth2"` asks its credential's
//! [`TokenSource`](crate::io::oauth::TokenSource) for a token; a server that
//! refuses it gets one new token, once (the token may have been revoked before
//! its time); a second refusal marks the credential failing, and the mailbox
//! backs off like after any other fault, alone.
//!
//! The credentials task refreshes every token ahead of its expiry, whether or not a
//! connection needs it just then: a revoked grant or an expired secret is found
//! while the IDLE session opened with the last token still runs, and a refresh token
//! the server rotates keeps moving. It also mails `admin_address` when a credential
//! starts failing and 14 days before a known secret or certificate expires.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tracing::{info, warn};

use super::Gateway;
use crate::config::{Login, Mailbox};
use crate::io::imap::{self, Connection, ImapError, SignIn};
use crate::io::oauth::TokenSource;
use crate::io::store::Commit;
use crate::mail::outbound::{OutKind, OutMail};
use crate::oauth::Alert;

/// How often the task looks at the credentials at most (token expiry wakes it sooner).
const LOOK_EVERY: Duration = Duration::from_secs(60);

impl Gateway {
    /// Connects to `mb` and signs in: with its password, or with its credential's
    /// token, refreshed and tried once more when the server refuses it.
    pub(super) async fn connect_mailbox(&self, mb: &Mailbox) -> anyhow::Result<Connection> {
        let credential = match &mb.login {
            Login::Password(password) => return Ok(imap::connect(mb, SignIn::Password(password)).await?),
            Login::OAuth2 { credential } => credential,
        };
        let source = self.credentials.get(credential).with_context(|| format!("no credential `{credential}`"))?;
        let bearer = source.bearer().await?;
        match imap::connect(mb, SignIn::Bearer(&bearer.token)).await {
            Ok(conn) => {
                source.succeeded();
                Ok(conn)
            }
            Err(ImapError::TokenRefused(..)) => {
                let fresh = source.refused(&bearer).await?;
                match imap::connect(mb, SignIn::Bearer(&fresh.token)).await {
                    Ok(conn) => {
                        source.succeeded();
                        Ok(conn)
                    }
                    Err(e @ ImapError::TokenRefused(..)) => {
                        source.server_refused(&format!("the IMAP server refused a fresh token for {}", mb.username));
                        Err(e.into())
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The token source `[smtp]` signs in with, when it uses OAuth2.
    pub(super) fn smtp_tokens(&self) -> Option<Arc<TokenSource>> {
        let setup = self.setup();
        let name = setup.config.smtp.login.as_ref().and_then(Login::credential)?;
        self.credentials.get(name)
    }

    /// Queues a mail to `admin_address` about `alert` (logged only, when there is none).
    async fn tell_admin(self: &Arc<Self>, alert: Alert) -> anyhow::Result<()> {
        let setup = self.setup();
        let Some(admin) = setup.config.admin_address.clone() else {
            warn!(subject = %alert.subject(), "no admin_address to tell");
            return Ok(());
        };
        let now = self.clock.now();
        let domain = setup.config.support_address.rsplit('@').next().unwrap_or("srgate.invalid").to_string();
        let mail = OutMail {
            kind: OutKind::AdminNotice,
            sr: 0,
            from_name: setup.config.support_name.clone(),
            from: setup.config.support_address.clone(),
            to: vec![admin],
            cc: Vec::new(),
            subject: alert.subject(),
            message_id: format!("admin.{}.{}@{domain}", now.as_millisecond(), self.instance),
            in_reply_to: None,
            references: Vec::new(),
            body: alert.body(),
            attachments: Vec::new(),
            auto_submitted: Some("auto-generated"),
            date: now,
        };
        let outbox = super::writes::render_outbox(std::slice::from_ref(&mail), now)?;
        info!(subject = %alert.subject(), "mailing the administrator");
        let commit = Commit { outbox, ..Commit::default() };
        self.blocking(move |gw| gw.store.commit(&commit)).await??;
        self.make_durable().await?;
        self.outbox_ready.notify_one();
        Ok(())
    }
}

/// The credentials task: refresh ahead of expiry, alerts, metrics.
pub(super) async fn watch_credentials(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    let sources: Vec<Arc<TokenSource>> = gw.credentials.all().cloned().collect();
    if sources.is_empty() {
        return;
    }
    while !*stop.borrow() {
        let mut next = LOOK_EVERY;
        for source in &sources {
            let due = source.refresh_at().await;
            let now = crate::time::wall_now();
            if due.is_none_or(|t| t <= now) {
                // Errors are in the source's health (and the log); the mailbox backs off on its own.
                if source.bearer().await.is_err() {
                    gw.metrics.credential_refresh_failed(source.name());
                }
            }
            if let Some(t) = source.refresh_at().await {
                let wait = crate::time::wall_now().duration_until(t);
                if let Ok(wait) = Duration::try_from(wait) {
                    next = next.min(wait);
                }
            }
            for alert in source.alerts() {
                if let Err(e) = gw.tell_admin(alert).await {
                    warn!(credential = %source.name(), error = %e, "cannot queue the mail to the administrator");
                }
            }
            gw.metrics.credential(
                source.name(),
                source.access_expires_at(),
                source.credential().expiry().map(|(_, at)| at),
                source.failing(),
            );
        }
        // A failing credential is looked at again soon, not in a tight loop.
        let next = next.max(Duration::from_secs(1));
        tokio::select! {
            _ = tokio::time::sleep(next) => {}
            _ = stop.changed() => {}
        }
    }
}
