//! The internal-mail signals of hosted mailboxes that a stranger cannot forge.
//!
//! - **Microsoft 365 (Exchange Online).** Exchange stamps every message with
//!   `X-MS-Exchange-Organization-AuthAs`: `Internal` when the sender logged in to
//!   the organisation (or came over a connector the organisation trusts),
//!   `Anonymous` for mail from the internet. Its *header firewall* removes every
//!   `X-MS-Exchange-Organization-*` header from mail that enters the organisation
//!   from an untrusted source, so an outsider cannot bring their own. srgate
//!   reads `Internal` as authenticated, and only when no copy of the header says
//!   anything else.
//! - **Google Workspace.** Gmail's receiving servers stamp each mail they accept
//!   with `Authentication-Results: mx.google.com; …` at the top of the headers
//!   they add, above everything the sender wrote; any `mx.google.com` header a
//!   sender forged sits below it. So only the first `Authentication-Results`
//!   header of the block counts, and only when its authserv-id is `mx.google.com`
//!   ([`super::results::first_by`]). (Observed behaviour, not a documented
//!   guarantee: README "Staff authentication" says so.) Mail between users of the same Workspace
//!   domain is DKIM-signed by Google when DKIM signing is on, which srgate verifies itself.

use super::Provider;

/// The authserv-id Gmail writes in its `Authentication-Results` headers.
pub const GOOGLE_AUTHSERV_ID: &str = "mx.google.com";

/// The Exchange Online header that says how the sender was authenticated.
const EXCHANGE_AUTH_AS: &str = "X-MS-Exchange-Organization-AuthAs";

/// The provider's signal that the mail was sent from inside the organisation, in words; `None` without one.
pub fn internal(headers: &[(String, String)], provider: Provider) -> Option<String> {
    match provider {
        Provider::Microsoft365 => {
            let mut values = headers.iter().filter(|(n, _)| n.trim().eq_ignore_ascii_case(EXCHANGE_AUTH_AS)).map(|(_, v)| v.trim());
            let first = values.next()?;
            let internal = |v: &str| v.eq_ignore_ascii_case("Internal");
            (internal(first) && values.all(internal))
                .then(|| format!("Exchange Online: sent from inside the organisation ({EXCHANGE_AUTH_AS}: Internal)"))
        }
        Provider::Google | Provider::Generic => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn exchange_internal_only_for_microsoft365_mailboxes() {
        let internal_mail = h(&[
            ("X-MS-Exchange-Organization-AuthAs", "Internal"),
            ("X-MS-Exchange-Organization-AuthSource", "AM0PR01.eurprd01.prod.exchangelabs.com"),
        ]);
        assert!(internal(&internal_mail, Provider::Microsoft365).is_some());
        assert!(internal(&internal_mail, Provider::Generic).is_none(), "a generic mailbox does not believe Exchange's headers");
        assert!(internal(&h(&[("X-MS-Exchange-Organization-AuthAs", "Anonymous")]), Provider::Microsoft365).is_none());
        let mixed = h(&[("X-MS-Exchange-Organization-AuthAs", "Anonymous"), ("X-MS-Exchange-Organization-AuthAs", "Internal")]);
        assert!(internal(&mixed, Provider::Microsoft365).is_none());
        assert!(internal(&[], Provider::Microsoft365).is_none());
    }
}
