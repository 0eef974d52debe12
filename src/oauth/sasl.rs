//! The SASL messages that carry a bearer token to a mail server: XOAUTH2
//! (Google's and Microsoft's) and OAUTHBEARER (RFC 7628). Both are sent
//! base64-encoded by the protocol client.

/// `user=USER^Aauth=Bearer TOKEN^A^A`.
pub fn xoauth2(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// `n,a=USER,^Ahost=HOST^Aport=PORT^Aauth=Bearer TOKEN^A^A` (RFC 7628 section 3.1;
/// `,` and `=` in the user name are escaped as RFC 5801 says).
pub fn oauthbearer(user: &str, host: &str, port: u16, token: &str) -> String {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
}

/// The reply to a server's error challenge: a lone `^A` ends the exchange (RFC 7628
/// section 3.2.3; XOAUTH2 servers expect an empty reply, which also works there).
pub const ABORT_AFTER_ERROR: &str = "\x01";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messages_are_as_the_specifications_write_them() {
        assert_eq!(xoauth2("a@b", "T"), "user=a@b\x01auth=Bearer T\x01\x01");
        assert_eq!(oauthbearer("a,b=c", "h", 993, "T"), "n,a=a=2Cb=3Dc,\x01host=h\x01port=993\x01auth=Bearer T\x01\x01");
    }
}
