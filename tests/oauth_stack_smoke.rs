//! Proves the OAuth2 harness (tests/common/oauth.rs, tests/oauth/server.mjs, scripts/oauth-server.sh,
//! mailstack.sh's oauth2 passdb) with hand-written protocol clients, independent of srgate's code:
//! tokens from the real authorization server open exactly their mailbox on Dovecot (IMAP) and
//! Postfix (SMTP AUTH, through Dovecot), and nothing else; expired, revoked and disabled ones don't.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;

use common::MailStack;
use common::oauth::{self, ClientAuth, ClientCertificate, OAuthClient, OAuthConfig, OAuthServer, Sasl};

const TTL: u64 = 3;
const SUPPORT: &str = "support@example.test";
const SALES: &str = "sales@example.test";
const BILLING: &str = "billing@example.com";

fn cert() -> &'static ClientCertificate {
    static CERT: OnceLock<ClientCertificate> = OnceLock::new();
    CERT.get_or_init(|| ClientCertificate::generate("app2"))
}

/// The one configuration of this binary (every test asks for the same).
fn setup() -> (&'static MailStack, &'static OAuthServer) {
    oauth::stack_with_oauth(&OAuthConfig::new(
        TTL,
        vec![
            OAuthClient::app("app1", "s1", SUPPORT),
            OAuthClient::app_with_certificate("app2", cert(), SALES),
            OAuthClient::app("app3", "s3", BILLING),
            OAuthClient::device("dev1", "d1"),
        ],
    ))
}

#[test]
fn a_client_credentials_token_opens_its_mailbox_on_imap_and_smtp() {
    let (s, o) = setup();
    let t = o.client_credentials(ClientAuth::Basic("app1", "s1")).unwrap();
    assert_eq!(t.expires_in, TTL);
    assert!(t.refresh_token.is_none(), "client_credentials gives no refresh token");
    let seen = o.introspect(&t.access_token).unwrap();
    assert_eq!((seen["active"].as_bool(), seen["email"].as_str()), (Some(true), Some(SUPPORT)));
    for mech in [Sasl::XOauth2, Sasl::OAuthBearer] {
        s.imap_oauth_login(mech, SUPPORT, &t.access_token).unwrap_or_else(|e| panic!("IMAP {mech:?}: {e}"));
        s.smtp_oauth_login(mech, SUPPORT, &t.access_token).unwrap_or_else(|e| panic!("SMTP {mech:?}: {e}"));
    }
    // client_secret_post works as well; the password still opens the same mailbox
    let t2 = o.client_credentials(ClientAuth::Post("app1", "s1")).unwrap();
    s.imap_oauth_login(Sasl::XOauth2, SUPPORT, &t2.access_token).unwrap();
    assert_eq!(s.count_messages(SUPPORT, "INBOX"), 0);
    // wrong secret
    assert_eq!(o.client_credentials(ClientAuth::Basic("app1", "nope")).unwrap_err().error, "invalid_client");
}

#[test]
fn a_token_is_no_password_and_opens_no_other_mailbox() {
    let (s, o) = setup();
    let t = o.client_credentials(ClientAuth::Basic("app1", "s1")).unwrap();
    for mech in [Sasl::XOauth2, Sasl::OAuthBearer] {
        assert!(s.imap_oauth_login(mech, SALES, &t.access_token).is_err(), "IMAP {mech:?}: app1's token opened {SALES}");
        assert!(s.smtp_oauth_login(mech, SALES, &t.access_token).is_err(), "SMTP {mech:?}: app1's token opened {SALES}");
    }
    // the token as a password (PLAIN via IMAP LOGIN): refused by the password passdb
    assert!(s.imap_password_login(SUPPORT, &t.access_token).is_err(), "a token was accepted as a password");
    s.imap_password_login(SUPPORT, common::PASSWORD).unwrap();
    // a made-up token
    assert!(s.imap_oauth_login(Sasl::XOauth2, SUPPORT, "not-a-token").is_err());
}

#[test]
fn a_certificate_client_gets_a_token_for_its_mailbox() {
    let (s, o) = setup();
    let t = o.client_credentials(ClientAuth::Certificate("app2", cert())).unwrap();
    s.imap_oauth_login(Sasl::OAuthBearer, SALES, &t.access_token).unwrap();
    s.smtp_oauth_login(Sasl::XOauth2, SALES, &t.access_token).unwrap();
    assert!(s.imap_oauth_login(Sasl::XOauth2, SUPPORT, &t.access_token).is_err());
    // another key (not registered) is refused
    let stranger = ClientCertificate::generate("stranger");
    assert_eq!(o.client_credentials(ClientAuth::Certificate("app2", &stranger)).unwrap_err().error, "invalid_client");
}

#[test]
fn an_expired_token_is_refused() {
    let (s, o) = setup();
    let t = o.client_credentials(ClientAuth::Basic("app1", "s1")).unwrap();
    s.imap_oauth_login(Sasl::XOauth2, SUPPORT, &t.access_token).unwrap();
    std::thread::sleep(oauth::past_ttl(TTL));
    assert_eq!(o.introspect(&t.access_token).unwrap()["active"], false);
    assert!(s.imap_oauth_login(Sasl::XOauth2, SUPPORT, &t.access_token).is_err(), "IMAP accepted an expired token");
    assert!(s.smtp_oauth_login(Sasl::XOauth2, SUPPORT, &t.access_token).is_err(), "SMTP accepted an expired token");
}

#[test]
fn a_disabled_client_gets_no_token_and_its_tokens_stop_working() {
    let (s, o) = setup();
    let t = o.client_credentials(ClientAuth::Basic("app3", "s3")).unwrap();
    s.imap_oauth_login(Sasl::XOauth2, BILLING, &t.access_token).unwrap();
    o.disable_client("app3").unwrap();
    assert_eq!(o.client_credentials(ClientAuth::Basic("app3", "s3")).unwrap_err().error, "invalid_client");
    assert_eq!(o.introspect(&t.access_token).unwrap()["active"], false);
    assert!(s.imap_oauth_login(Sasl::XOauth2, BILLING, &t.access_token).is_err(), "a disabled app's token still opens its mailbox");
}

#[test]
fn the_device_flow_gives_rotating_refresh_tokens_and_revocation_ends_them() {
    let (s, o) = setup();
    let dev = ClientAuth::Basic("dev1", "d1");
    let person = s.unique_domain_user("cse");
    let other = s.unique_domain_user("cse");
    let da = o.device_authorization(dev, "offline_access").unwrap();
    assert_eq!(o.device_token(dev, &da.device_code).unwrap_err().error, "authorization_pending");
    o.approve(&da.user_code, &person).unwrap_or_else(|e| panic!("{e}\n{}", o.log_tail(10)));
    let t = o.device_token(dev, &da.device_code).unwrap();
    let rt1 = t.refresh_token.clone().expect("a refresh token (scope offline_access)");
    assert_eq!(o.introspect(&t.access_token).unwrap()["email"], person.as_str());
    s.imap_oauth_login(Sasl::XOauth2, &person, &t.access_token).unwrap();
    s.smtp_oauth_login(Sasl::OAuthBearer, &person, &t.access_token).unwrap();
    assert!(s.imap_oauth_login(Sasl::XOauth2, &other, &t.access_token).is_err(), "the person's token opened another mailbox");
    // a refresh token is no access token: inactive for the introspector, refused by Dovecot
    assert_eq!(o.introspect(&rt1).unwrap()["active"], false);
    assert!(s.imap_oauth_login(Sasl::XOauth2, &person, &rt1).is_err(), "a refresh token opened the mailbox");

    // rotation: a new refresh token on every use; the used one is refused
    let t2 = o.refresh(dev, &rt1).unwrap();
    let rt2 = t2.refresh_token.clone().expect("a rotated refresh token");
    assert_ne!(rt1, rt2);
    s.imap_oauth_login(Sasl::OAuthBearer, &person, &t2.access_token).unwrap();
    assert_eq!(o.refresh(dev, &rt1).unwrap_err().error, "invalid_grant");
    // (reuse of rt1 revoked the whole grant: rt2 is dead too, by the server's reuse detection)
    assert_eq!(o.refresh(dev, &rt2).unwrap_err().error, "invalid_grant");

    // revocation (RFC 7009) of a fresh grant's refresh token
    let da = o.device_authorization(dev, "offline_access").unwrap();
    o.approve(&da.user_code, &person).unwrap();
    let t = o.device_token(dev, &da.device_code).unwrap();
    let rt = t.refresh_token.clone().unwrap();
    s.imap_oauth_login(Sasl::XOauth2, &person, &t.access_token).unwrap();
    o.revoke("dev1", "d1", &rt).unwrap();
    assert_eq!(o.refresh(dev, &rt).unwrap_err().error, "invalid_grant");
    assert_eq!(o.introspect(&t.access_token).unwrap()["active"], false);
    assert!(s.imap_oauth_login(Sasl::XOauth2, &person, &t.access_token).is_err(), "an access token of a revoked grant still works");
    // a device code is good for one token response (presenting it again revokes its grant)
    assert_eq!(o.device_token(dev, &da.device_code).unwrap_err().error, "invalid_grant");
}

#[test]
fn a_wrong_user_code_is_not_approved() {
    let (_, o) = setup();
    assert!(o.approve("BCDF-GHJK", "someone@example.test").is_err());
}
