//! The edge: everything that touches disk or network.
//!
//! - [`store`]: the store, sled or PostgreSQL behind one interface; only its engines know their layout.
//! - [`imap`]: reading mailboxes (async-imap).
//! - [`smtp`]: delivering the outbox (lettre).
//! - [`control`]: the control socket through which commands reach a running daemon.
//! - [`client`]: the commands' side: ask the daemon, or read the store directly.
//! - [`access`]: who may reach the data directory and the control socket (modes, umask, peers).
//! - [`http`]: `/metrics` and `/healthz`.
//! - [`authn`]: verifying a mail's DKIM signatures and DMARC with DNS, before the decision.
//! - [`tls`]: certificate trust for IMAP and SMTP, and refusals worded for the operator.

pub mod access;
pub mod authn;
pub mod client;
pub mod control;
pub mod http;
pub mod imap;
pub mod oauth;
pub mod smtp;
pub mod store;
pub mod tls;
