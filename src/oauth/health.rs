//! A credential's health, and when its trouble is worth a mail to the administrator.
//!
//! A credential fails when its token request is refused (the grant was revoked,
//! the secret expired, consent was withdrawn) or when a mail server refuses a
//! token that was fresh from the token endpoint; a token endpoint that cannot be
//! reached is passing trouble and counts as failing only after [`GRACE`]. The
//! administrator is mailed once when a credential starts failing (again only after
//! it has worked in between), and once, [`EXPIRY_NOTICE`] ahead, before a known
//! client secret or certificate expires.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// How long a token endpoint may be unreachable before its credential counts as failing.
pub const GRACE: SignedDuration = SignedDuration::from_mins(10);
/// How long before a known secret or certificate expiry the administrator is told.
pub const EXPIRY_NOTICE: SignedDuration = SignedDuration::from_hours(14 * 24);

/// What srgate remembers of a credential's sign-ins (saved beside its tokens; no secrets).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The last time a token was obtained or a server accepted one.
    #[serde(default)]
    pub last_success: Option<Timestamp>,
    /// The last failure, in words (never a token).
    #[serde(default)]
    pub last_error: Option<String>,
    /// When it happened.
    #[serde(default)]
    pub last_error_at: Option<Timestamp>,
    /// The first failure since the last success.
    #[serde(default)]
    pub failing_since: Option<Timestamp>,
    /// The last failure was a refusal of the credential itself (not passing trouble).
    #[serde(default)]
    pub refused: bool,
    /// The administrator was mailed about the current failure.
    #[serde(default)]
    pub failure_alerted: bool,
    /// The expiry the administrator was last warned about.
    #[serde(default)]
    pub expiry_alerted: Option<Timestamp>,
}

/// A mail the administrator should get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    /// A credential started failing.
    Failing {
        /// The credential's name.
        credential: String,
        /// Since when.
        since: Timestamp,
        /// The last failure, in words.
        why: String,
    },
    /// A client secret or certificate expires soon.
    Expires {
        /// The credential's name.
        credential: String,
        /// What expires ("client secret", "certificate").
        what: &'static str,
        /// When.
        at: Timestamp,
    },
}

impl Health {
    /// After a success at `now`.
    pub fn succeeded(&self, now: Timestamp) -> Health {
        Health { last_success: Some(now), failing_since: None, refused: false, failure_alerted: false, ..self.clone() }
    }

    /// After a failure at `now`; `refused` when the credential itself was refused.
    pub fn failed(&self, now: Timestamp, why: &str, refused: bool) -> Health {
        Health {
            last_error: Some(why.to_string()),
            last_error_at: Some(now),
            failing_since: self.failing_since.or(Some(now)),
            refused,
            ..self.clone()
        }
    }

    /// True when the credential is failing at `now` (what `/healthz` and the alert go by).
    pub fn failing(&self, now: Timestamp) -> bool {
        match self.failing_since {
            None => false,
            Some(since) => self.refused || now.duration_since(since) >= GRACE,
        }
    }

    /// The alerts due at `now` for `credential` (whose secret or certificate expires at
    /// `expiry`, when known), and the health that remembers they were sent.
    pub fn alerts(&self, credential: &str, expiry: Option<(&'static str, Timestamp)>, now: Timestamp) -> (Health, Vec<Alert>) {
        let mut next = self.clone();
        let mut alerts = Vec::new();
        if self.failing(now) && !self.failure_alerted {
            next.failure_alerted = true;
            alerts.push(Alert::Failing {
                credential: credential.to_string(),
                since: self.failing_since.unwrap_or(now),
                why: self.last_error.clone().unwrap_or_default(),
            });
        }
        if let Some((what, at)) = expiry
            && at.duration_since(now) <= EXPIRY_NOTICE
            && self.expiry_alerted != Some(at)
        {
            next.expiry_alerted = Some(at);
            alerts.push(Alert::Expires { credential: credential.to_string(), what, at });
        }
        (next, alerts)
    }
}

impl Alert {
    /// The subject of the mail to the administrator.
    pub fn subject(&self) -> String {
        match self {
            Alert::Failing { credential, .. } => format!("srgate: sign-in with credential {credential} is failing"),
            Alert::Expires { credential, what, at } => {
                format!("srgate: the {what} of credential {credential} expires on {}", at.strftime("%Y-%m-%d"))
            }
        }
    }

    /// The body of the mail to the administrator: what happened and what to do.
    pub fn body(&self) -> String {
        match self {
            Alert::Failing { credential, since, why } => format!(
                "srgate cannot sign in with the OAuth2 credential `{credential}` since {since}.\n\n\
                 Last error: {why}\n\n\
                 The mailboxes (or the outgoing mail) that use it are not being served until this is fixed; \
                 everything else goes on. Mail waits on the server and in srgate's outbox: nothing is lost.\n\n\
                 What to do:\n\
                 - `srgate auth status` shows the credential's state.\n\
                 - A revoked or expired sign-in (device code): run `srgate auth login {credential}` again.\n\
                 - An expired or changed client secret or certificate: put the new one in place and restart srgate.\n\
                 - A refresh token obtained elsewhere: write a new one to its refresh_token_file.\n\n\
                 You get this mail once; the next comes only if the credential fails again after working.\n"
            ),
            Alert::Expires { credential, what, at } => format!(
                "The {what} of the OAuth2 credential `{credential}` expires at {at}.\n\n\
                 After that srgate can no longer sign in with it. Create a new {what} for the app \
                 (Microsoft Entra admin center: App registrations > Certificates & secrets), \
                 put it in place (client_secret_file, client_secret_env or client_certificate_file), \
                 update `client_secret_expires` if you set it, and restart srgate.\n"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).expect("valid")
    }

    #[test]
    fn a_refusal_alerts_once_and_again_only_after_a_success() {
        let h = Health::default().failed(at(0), "refused: invalid_grant", true);
        assert!(h.failing(at(0)));
        let (h, alerts) = h.alerts("ms", None, at(0));
        assert_eq!(alerts.len(), 1);
        let h = h.failed(at(5), "refused: invalid_grant", true);
        assert!(h.alerts("ms", None, at(5)).1.is_empty());
        let h = h.succeeded(at(9)).failed(at(10), "refused: invalid_grant", true);
        assert_eq!(h.alerts("ms", None, at(10)).1.len(), 1);
    }

    #[test]
    fn passing_trouble_fails_only_after_the_grace() {
        let h = Health::default().failed(at(0), "temporary: connect refused", false);
        assert!(!h.failing(at(599)));
        assert!(h.failing(at(600)));
    }

    #[test]
    fn a_known_expiry_is_announced_fourteen_days_ahead_once() {
        let expiry = at(20 * 86_400);
        let h = Health::default();
        assert!(h.alerts("ms", Some(("client secret", expiry)), at(0)).1.is_empty());
        let (h, alerts) = h.alerts("ms", Some(("client secret", expiry)), at(6 * 86_400));
        assert!(matches!(alerts.as_slice(), [Alert::Expires { what: "client secret", .. }]));
        assert!(h.alerts("ms", Some(("client secret", expiry)), at(7 * 86_400)).1.is_empty());
    }
}
