//! Designated contacts: people who may act on every SR of their organisation.
//!
//! A contact belongs to a scope: an account (by name) or, where no account is
//! configured for the domain, the customer's mail domain.

use serde::{Deserialize, Serialize};

use crate::config::Config;

/// A designated contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Display name.
    pub name: String,
    /// Mail address (lower case).
    pub address: String,
    /// Phone number, if known.
    pub phone: Option<String>,
    /// The account name, or `domain:<domain>`.
    pub scope: String,
}

/// The scope an address belongs to: its account, else its domain.
pub fn scope_of(config: &Config, address: &str) -> String {
    match config.account_of(address) {
        Some(a) => a.name.clone(),
        None => format!("domain:{}", address.rsplit('@').next().unwrap_or("").to_ascii_lowercase()),
    }
}

/// The scope named on the command line (`--account A`), or the address's own.
pub fn scope_for(config: &Config, address: &str, account: Option<&str>) -> Result<String, String> {
    match account {
        Some(name) => config
            .accounts
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
            .map(|a| a.name.clone())
            .ok_or_else(|| format!("no account named {name:?} in the configuration")),
        None => Ok(scope_of(config, address)),
    }
}

/// A change to the contact list, decided by the core and written by the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactChange {
    /// Add or replace.
    Add(Contact),
    /// Remove by address.
    Remove(String),
}
