//! Designated contacts: people who may act on every SR of their organisation.
//!
//! A contact belongs to a configured account, never to a mail domain alone: a
//! domain is not an organisation (two gmail.com customers are strangers to each
//! other), so an SR whose customer is in no `[[account]]` can have no
//! designated contacts. Public mail domains (a built-in list plus
//! `public_domains` in the config) can never identify an account.

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
    /// The account name. (Contacts made before accounts were required may hold
    /// `domain:<domain>`; such a scope matches no SR.)
    pub scope: String,
}

/// Mail domains anyone can get an address at: never an organisation. A `*` label
/// stands for any last labels (`yahoo.*` is yahoo.com, yahoo.co.uk, yahoo.fr …).
pub const PUBLIC_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.*",
    "hotmail.*",
    "live.*",
    "msn.com",
    "passport.com",
    "yahoo.*",
    "ymail.com",
    "rocketmail.com",
    "aol.*",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "tutanota.com",
    "tuta.io",
    "fastmail.com",
    "zoho.com",
    "mail.com",
    "email.com",
    "hushmail.com",
    "gmx.*",
    "web.de",
    "t-online.de",
    "freenet.de",
    "arcor.de",
    "posteo.de",
    "mailbox.org",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "sfr.fr",
    "laposte.net",
    "libero.it",
    "virgilio.it",
    "tiscali.it",
    "alice.it",
    "terra.com",
    "telefonica.net",
    "btinternet.com",
    "sky.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "bigpond.com",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "interia.pl",
    "onet.pl",
    "mail.ru",
    "bk.ru",
    "inbox.ru",
    "list.ru",
    "yandex.*",
    "ya.ru",
    "rambler.ru",
    "ukr.net",
    "qq.com",
    "foxmail.com",
    "163.com",
    "126.com",
    "yeah.net",
    "sina.com",
    "sina.cn",
    "sohu.com",
    "aliyun.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "rediffmail.com",
    "yahoo.co.jp",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "uol.com.br",
    "bol.com.br",
];

/// True when `domain` is a public mail domain (built in, or one of `extra`).
pub fn is_public_domain(domain: &str, extra: &[String]) -> bool {
    let domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
    let matches = |pattern: &str| match pattern.strip_suffix(".*") {
        Some(stem) => domain.strip_prefix(stem).is_some_and(|rest| rest.starts_with('.') && rest.len() > 1),
        None => domain == pattern,
    };
    PUBLIC_DOMAINS.iter().any(|p| matches(p)) || extra.iter().any(|p| matches(&p.to_ascii_lowercase()))
}

/// The account whose designated contacts may act for `address`, when it belongs to one.
pub fn scope_of(config: &Config, address: &str) -> Option<String> {
    config.account_of(address).map(|a| a.name.clone())
}

/// The account named on the command line (`--account A`), or the address's own.
pub fn scope_for(config: &Config, address: &str, account: Option<&str>) -> Result<String, String> {
    match account {
        Some(name) => config
            .accounts
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
            .map(|a| a.name.clone())
            .ok_or_else(|| format!("no account named {name:?} in the configuration")),
        None => scope_of(config, address).ok_or_else(|| {
            format!("{address} belongs to no configured account: designated contacts act for an account; name it with --account")
        }),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_domains_with_and_without_wildcards() {
        assert!(is_public_domain("gmail.com", &[]));
        assert!(is_public_domain("Yahoo.co.uk", &[]));
        assert!(is_public_domain("gmx.de", &[]));
        assert!(!is_public_domain("yahoo", &[]));
        assert!(!is_public_domain("acme.example.com", &[]));
        assert!(!is_public_domain("notgmail.com", &[]));
        assert!(is_public_domain("isp.example", &["isp.example".into()]));
    }
}
