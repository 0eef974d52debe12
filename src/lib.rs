//! srgate: an email-driven support-request (SR) gateway.
//!
//! Customers write to a support address; engineers (CSEs) answer from their
//! ordinary mail client. srgate reads the support mailboxes over IMAP, turns
//! each message into a new SR or a step of an existing one, keeps everything
//! in an embedded sled store and sends templated mail over SMTP.
//!
//! # Layout
//! - [`sr`]: the pure core: the SR record and its lifecycle steps.
//! - [`mail`]: inbound parsing, threading keys, quote cutting, outbound rendering (pure).
//! - [`template`]: templates compiled at start-up, checked with a sample context.
//! - [`rules`]: rule files (conditions → priority, product, language, tags, assignee), compiled once (pure).
//! - [`policy`]: business hours, holidays and first-response targets from rules/policy.toml (pure).
//! - [`lang`]: language detection of the customer's new text (pure).
//! - [`kb`]: knowledge-base articles from `kb/` and the matcher that suggests them to new SRs (pure).
//! - [`gateway`]: the pure decision for one inbound mail: which SR, what changes, what to send.
//! - [`oauth`]: OAuth2 sign-in, the pure part: endpoints, token requests and replies, refresh timing, SASL strings, credential health.
//! - [`config`]: raw TOML → validated [`config::Config`], every error with file and line.
//! - [`diag`]: file-and-line diagnostics shared by config and template checks.
//! - [`time`]: the only place that reads the clock.
//! - [`io`]: the edge: sled store, IMAP, SMTP, the control socket.
//! - [`daemon`]: the loop that ties the edge to the core; `run` and `run --once`.
//! - [`report`]: human and JSON views of SRs for the command line.
//! - [`watchdog`]: stops the daemon when the store wedges, for its service manager to restart it.
//! - [`failpoint`]: named instants where tests crash the process (cargo feature `failpoints`).
//!
//! See ARCHITECTURE.md for the invariants that hold between these modules.
#![forbid(unsafe_code)]

pub mod backup;
pub mod bench_support;
pub mod config;
pub mod contacts;
pub mod daemon;
pub mod diag;
pub mod failpoint;
pub mod gateway;
pub mod io;
pub mod kb;
pub mod lang;
pub mod mail;
pub mod metrics;
pub mod oauth;
pub mod pattern;
pub mod policy;
pub mod report;
pub mod rules;
pub mod setup;
pub mod sr;
pub mod template;
pub mod time;
pub mod triage;
pub mod watchdog;
