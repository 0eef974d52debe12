//! Several support addresses: the `[[address]]` sections beside `support_address`.
//!
//! Each SR remembers the address its customer wrote to ([`Config::written_to`]) and every
//! mail of that SR goes out from it, under its display name, with its signature and (when
//! set) its own templates ([`Config::identity`]). Every configured address, and every
//! mailbox login, is "ours" ([`Config::is_ours`]): never a participant, never a stranger
//! to acknowledge, always our own mail when it comes back in `X-Loop`.
//!
//! A configuration without `[[address]]` behaves exactly as one with `support_address` alone.

use std::path::PathBuf;

use serde::Deserialize;

use super::compile::{Compiler, looks_like_address};
use super::{Config, Cse};

/// One `[[address]]`: a support address customers may write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportAddress {
    /// The address, lower case.
    pub address: String,
    /// Display name on the From line of its mails (`support_name` for the others).
    pub name: String,
    /// A folder of templates (`<language>/<name>.txt`) used before the main ones, template by template.
    pub templates_dir: Option<PathBuf>,
    /// The product of its SRs when no rule sets one.
    pub product: Option<String>,
    /// The language of its SRs when no rule sets one and none is detected in the text.
    pub language: Option<String>,
    /// Text at the end of every mail of its SRs to the customer (template variable `signature`).
    pub signature: Option<String>,
}

/// Who the mails of one SR come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity<'a> {
    /// From, Reply-To, envelope sender and `X-Loop`.
    pub address: &'a str,
    /// Display name on the From line.
    pub name: Option<&'a str>,
    /// Signature for mails to the customer (empty when none).
    pub signature: &'a str,
    /// The address whose own templates come first, when it has a `templates_dir`.
    pub templates: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAddress {
    address: String,
    name: String,
    templates_dir: Option<PathBuf>,
    product: Option<String>,
    language: Option<String>,
    signature: Option<String>,
}

impl Compiler<'_> {
    /// Validates the `[[address]]` sections: each a mail address, none twice, none a
    /// CSE's, an existing `templates_dir`, a two-letter `language`, a non-empty `product`.
    pub(super) fn addresses(&mut self, raw: Vec<(RawAddress, std::ops::Range<usize>)>, cses: &[Cse]) -> Vec<SupportAddress> {
        let mut out: Vec<SupportAddress> = Vec::new();
        for (a, span) in raw {
            let address = a.address.trim().to_ascii_lowercase();
            let at = Some(span.clone());
            if !looks_like_address(&address) {
                self.error(at.clone(), format!("[[address]]: `{}` is not a mail address", a.address));
            } else if out.iter().any(|o| o.address == address) {
                self.error(at.clone(), format!("[[address]] `{address}` is listed twice"));
            } else if cses.iter().any(|c| c.email == address) {
                self.error(
                    at.clone(),
                    format!("[[address]] `{address}` is also a CSE's address: staff and the desk need addresses of their own"),
                );
            }
            if a.name.trim().is_empty() {
                self.error(at.clone(), format!("[[address]] `{address}`: `name` is empty"));
            }
            let templates_dir = a.templates_dir.map(|d| self.path(&d));
            if let Some(dir) = templates_dir.as_ref().filter(|d| !d.is_dir()) {
                self.error(at.clone(), format!("[[address]] `{address}`: templates_dir {} is not a folder", dir.display()));
            }
            let language = a.language.map(|l| l.trim().to_ascii_lowercase());
            if let Some(l) = language.as_deref().filter(|l| !(l.len() == 2 && l.chars().all(|c| c.is_ascii_lowercase()))) {
                self.error(
                    at.clone(),
                    format!("[[address]] `{address}`: `language`: `{l}` is not a two-letter ISO 639-1 code (en, fr, de…)"),
                );
            }
            let product = a.product.map(|p| p.trim().to_string());
            if product.as_deref().is_some_and(str::is_empty) {
                self.error(at.clone(), format!("[[address]] `{address}`: `product` is empty"));
            }
            let signature = a.signature.map(|s| s.trim_end().to_string()).filter(|s| !s.is_empty());
            out.push(SupportAddress { address, name: a.name.trim().to_string(), templates_dir, product, language, signature });
        }
        out
    }
}

impl Config {
    /// The `[[address]]` section of `address`, if there is one.
    pub fn address_entry(&self, address: &str) -> Option<&SupportAddress> {
        self.addresses.iter().find(|a| a.address.eq_ignore_ascii_case(address))
    }

    /// True when customers may write to `address`: `support_address` or an `[[address]]`.
    pub fn is_support_address(&self, address: &str) -> bool {
        address.eq_ignore_ascii_case(&self.support_address) || self.address_entry(address).is_some()
    }

    /// True when `address` is the desk's own: a support address or a mailbox's login.
    /// Such an address never joins an SR and never needs its sender authenticated.
    pub fn is_ours(&self, address: &str) -> bool {
        self.is_support_address(address) || self.mailboxes.iter().any(|m| m.username.eq_ignore_ascii_case(address))
    }

    /// Every address the desk sends from (`support_address` first): the `X-Loop` values that are ours.
    pub fn own_addresses(&self) -> Vec<&str> {
        std::iter::once(self.support_address.as_str()).chain(self.addresses.iter().map(|a| a.address.as_str())).collect()
    }

    /// The support address a customer wrote to: the first configured one among `to`, then
    /// `cc`, then `delivered_to` (`X-Original-To` and `Delivered-To`, as the mail server
    /// recorded them); `support_address` when none is.
    pub fn written_to(&self, to: &[String], cc: &[String], delivered_to: &[String]) -> &str {
        to.iter()
            .chain(cc)
            .chain(delivered_to)
            .find_map(|a| {
                if a.eq_ignore_ascii_case(&self.support_address) {
                    Some(self.support_address.as_str())
                } else {
                    self.address_entry(a).map(|e| e.address.as_str())
                }
            })
            .unwrap_or(&self.support_address)
    }

    /// Who the mails of an SR that remembers `address` come from. An SR without one (opened
    /// before `[[address]]` existed) or whose address is no longer configured is answered
    /// from `support_address`.
    pub fn identity(&self, address: Option<&str>) -> Identity<'_> {
        let address = address.filter(|a| self.is_support_address(a)).unwrap_or(&self.support_address);
        match self.address_entry(address) {
            Some(e) => Identity {
                address: &e.address,
                name: Some(&e.name),
                signature: e.signature.as_deref().unwrap_or_default(),
                templates: e.templates_dir.as_ref().map(|_| e.address.as_str()),
            },
            None => Identity { address: &self.support_address, name: self.support_name.as_deref(), signature: "", templates: None },
        }
    }

    /// The `[[address]]` folders of templates: (address, folder).
    pub fn address_templates(&self) -> Vec<(String, PathBuf)> {
        self.addresses.iter().filter_map(|a| a.templates_dir.clone().map(|d| (a.address.clone(), d))).collect()
    }
}
