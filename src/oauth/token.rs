//! Tokens: what srgate keeps of a credential, what a token endpoint answers,
//! and when an access token is due for refresh.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// What srgate keeps of one credential's tokens (saved 0600 in the data directory).
/// `Debug` and `Display` say which tokens there are, never the tokens.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// The current access token.
    #[serde(default)]
    pub access_token: Option<String>,
    /// When it was obtained.
    #[serde(default)]
    pub access_obtained_at: Option<Timestamp>,
    /// When it expires.
    #[serde(default)]
    pub access_expires_at: Option<Timestamp>,
    /// The refresh token (device code and refresh token flows).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// When the refresh token was issued (a rotated token is new).
    #[serde(default)]
    pub refresh_obtained_at: Option<Timestamp>,
    /// The SHA-256 of the `refresh_token_file` the refresh token was first read from:
    /// a file with other contents brings a new token in.
    #[serde(default)]
    pub seeded_from: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Display for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the tokens themselves.
        write!(f, "tokens(access: {}, refresh: {})", self.access_token.is_some(), self.refresh_token.is_some())
    }
}

/// A successful token reply (RFC 6749 section 5.1). No `Debug`: it holds tokens.
#[derive(Clone, Deserialize)]
pub struct TokenReply {
    /// The access token.
    pub access_token: String,
    /// Its lifetime in seconds (Microsoft once sent it as a string).
    #[serde(default, deserialize_with = "seconds")]
    pub expires_in: Option<u64>,
    /// A new refresh token, when the server issues or rotates one.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// `Bearer`, normally.
    #[serde(default)]
    pub token_type: Option<String>,
}

fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(u64),
        Text(String),
    }
    Ok(match Option::<Either>::deserialize(d)? {
        Some(Either::Number(n)) => Some(n),
        Some(Either::Text(t)) => t.trim().parse().ok(),
        None => None,
    })
}

/// Lifetime assumed when a reply does not say (RFC 6749 leaves it to the server).
const ASSUMED_LIFETIME: u64 = 3600;

impl Tokens {
    /// The tokens after `reply` arrived at `now`: a refresh token the reply does not
    /// replace is kept (servers that do not rotate send none).
    pub fn after(&self, reply: TokenReply, now: Timestamp) -> Tokens {
        let lifetime = reply.expires_in.unwrap_or(ASSUMED_LIFETIME).min(i64::MAX as u64 / 2);
        let rotated = reply.refresh_token.as_ref().is_some_and(|r| Some(r) != self.refresh_token.as_ref());
        Tokens {
            access_token: Some(reply.access_token),
            access_obtained_at: Some(now),
            access_expires_at: now.checked_add(SignedDuration::from_secs(lifetime as i64)).ok(),
            refresh_token: reply.refresh_token.or_else(|| self.refresh_token.clone()),
            refresh_obtained_at: if rotated { Some(now) } else { self.refresh_obtained_at },
            seeded_from: self.seeded_from.clone(),
        }
    }

    /// The access token, when there is one that is not due for refresh at `now`.
    pub fn usable_access_token(&self, now: Timestamp) -> Option<&str> {
        if self.refresh_due(now) { None } else { self.access_token.as_deref() }
    }

    /// True when the access token should be replaced at `now`: there is none, or
    /// it is in the last quarter of its life (at most 5 minutes before expiry), so
    /// that a token handed to a server is never one about to lapse.
    pub fn refresh_due(&self, now: Timestamp) -> bool {
        match (&self.access_token, self.access_obtained_at, self.access_expires_at) {
            (Some(_), Some(obtained), Some(expires)) => {
                let lifetime = expires.duration_since(obtained);
                let margin = (lifetime / 4).min(SignedDuration::from_mins(5));
                now >= expires - margin
            }
            _ => true,
        }
    }

    /// When the access token becomes due for refresh (`None`: it is already, or there is none).
    pub fn refresh_at(&self) -> Option<Timestamp> {
        let (obtained, expires) = (self.access_obtained_at?, self.access_expires_at?);
        self.access_token.as_ref()?;
        let margin = (expires.duration_since(obtained) / 4).min(SignedDuration::from_mins(5));
        expires.checked_sub(margin).ok()
    }

    /// The same tokens without the access token (the server refused it).
    pub fn without_access_token(&self) -> Tokens {
        Tokens { access_token: None, access_obtained_at: None, access_expires_at: None, ..self.clone() }
    }
}

/// An error reply (RFC 6749 section 5.2; RFC 8628 section 3.5 for the device flow).
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorReply {
    /// The error code (`invalid_grant`, `authorization_pending` …).
    pub error: String,
    /// The server's explanation, when it gives one.
    #[serde(default)]
    pub error_description: Option<String>,
}

/// Why a token request failed, sorted by what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The server refused the credential itself (`invalid_grant`, `invalid_client` …):
    /// asking again will not help; a person must act (sign in again, renew the secret).
    Refused {
        /// The error code.
        code: String,
        /// The server's words, shortened.
        description: String,
    },
    /// Anything else (the server is down, busy, or answered nonsense): try again later.
    Transient(String),
}

impl Refusal {
    /// What an error reply with HTTP `status` and `body` means.
    pub fn from_reply(status: u16, body: &str) -> Refusal {
        match serde_json::from_str::<ErrorReply>(body) {
            Ok(e) => {
                let description = shorten(e.error_description.as_deref().unwrap_or(""));
                match e.error.as_str() {
                    "invalid_grant"
                    | "invalid_client"
                    | "unauthorized_client"
                    | "invalid_scope"
                    | "access_denied"
                    | "expired_token"
                    | "unsupported_grant_type"
                    | "invalid_request" => Refusal::Refused { code: e.error, description },
                    other => Refusal::Transient(format!("{other}: {description}")),
                }
            }
            Err(_) if status == 401 => {
                Refusal::Refused { code: "invalid_client".into(), description: format!("HTTP {status} without an OAuth2 error") }
            }
            Err(_) => Refusal::Transient(format!("HTTP {status} without an OAuth2 error")),
        }
    }

    /// One line for people: never a token (the server's words are cut to 200 characters).
    pub fn describe(&self) -> String {
        match self {
            Refusal::Refused { code, description } if description.is_empty() => format!("refused: {code}"),
            Refusal::Refused { code, description } => format!("refused: {code}: {description}"),
            Refusal::Transient(why) => format!("temporary: {why}"),
        }
    }
}

/// The first line of a server's explanation, at most 200 characters (Microsoft's
/// carry trace ids and timestamps on later lines).
fn shorten(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    line.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).expect("valid")
    }

    fn reply(json: &str) -> TokenReply {
        serde_json::from_str(json).expect("reply")
    }

    #[test]
    fn a_token_is_refreshed_in_the_last_quarter_of_its_life_and_at_most_five_minutes_early() {
        let t = Tokens::default().after(reply(r#"{"access_token":"a","expires_in":8}"#), at(0));
        assert!(!t.refresh_due(at(5)));
        assert!(t.refresh_due(at(6)));
        let hour = Tokens::default().after(reply(r#"{"access_token":"a","expires_in":"3600"}"#), at(0));
        assert!(!hour.refresh_due(at(3299)));
        assert!(hour.refresh_due(at(3300)));
        assert_eq!(hour.refresh_at(), Some(at(3300)));
        assert!(Tokens::default().refresh_due(at(0)));
    }

    #[test]
    fn a_rotated_refresh_token_replaces_the_old_one_and_a_missing_one_keeps_it() {
        let first = Tokens::default().after(reply(r#"{"access_token":"a","refresh_token":"r1"}"#), at(0));
        assert_eq!(first.refresh_token.as_deref(), Some("r1"));
        let kept = first.after(reply(r#"{"access_token":"b"}"#), at(10));
        assert_eq!((kept.refresh_token.as_deref(), kept.refresh_obtained_at), (Some("r1"), Some(at(0))));
        let rotated = kept.after(reply(r#"{"access_token":"c","refresh_token":"r2"}"#), at(20));
        assert_eq!((rotated.refresh_token.as_deref(), rotated.refresh_obtained_at), (Some("r2"), Some(at(20))));
    }

    #[test]
    fn refusals_are_told_from_passing_trouble_and_never_carry_more_than_a_line() {
        let r = Refusal::from_reply(400, r#"{"error":"invalid_grant","error_description":"AADSTS70008: expired\r\nTrace ID: 1"}"#);
        assert_eq!(r, Refusal::Refused { code: "invalid_grant".into(), description: "AADSTS70008: expired".into() });
        assert!(matches!(Refusal::from_reply(503, "<html>busy</html>"), Refusal::Transient(_)));
        assert!(matches!(Refusal::from_reply(401, ""), Refusal::Refused { .. }));
        assert!(matches!(Refusal::from_reply(400, r#"{"error":"temporarily_unavailable"}"#), Refusal::Transient(_)));
    }

    #[test]
    fn tokens_never_show_in_display() {
        let t = Tokens::default().after(reply(r#"{"access_token":"SECRET-A","refresh_token":"SECRET-R"}"#), at(0));
        assert!(!t.to_string().contains("SECRET"));
    }
}
