//! OAuth2 sign-in for mail servers, the pure part: which endpoints and scopes a
//! provider has, what a token request says, what a token reply means, when a
//! token is due for refresh, the SASL strings (XOAUTH2, OAUTHBEARER) that carry
//! a token to IMAP and SMTP, and when a failing credential is worth a mail to
//! the administrator.
//!
//! Nothing here talks to a server, reads a file or the clock: the edge
//! ([`crate::io::oauth`]) sends the requests, keeps the tokens on disk and
//! hands `now` in. Tokens are wrapped in [`crate::config::Secret`], whose
//! `Debug` never shows them.

pub mod certificate;
pub mod grant;
pub mod health;
pub mod provider;
pub mod sasl;
pub mod token;

pub use grant::{ClientAuth, Grant};
pub use health::{Alert, Health};
pub use provider::{Flow, IdentityProvider};
pub use token::{Refusal, TokenReply, Tokens};
