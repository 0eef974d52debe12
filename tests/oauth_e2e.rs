//! OAuth2 sign-in end to end, against a real authorization server (`oidc-provider`, from
//! npm) and a Dovecot + Postfix that check every token at its introspection endpoint:
//! each flow reads and acknowledges a customer mail through an OAuth2-signed-in mailbox
//! and SMTP; the device flow with `srgate auth login` and the test as the person; mail
//! flowing across several refreshes of four-second tokens (IDLE sessions kicked,
//! pooled SMTP sessions whose token lapsed); rotation surviving a restart; one revoked
//! credential failing its mailbox alone, with one mail to the administrator; and no
//! token or secret in any log or command output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::cli::Cli;
use common::desk::{customer_mail, exited, free_port, stop};
use common::oauth::{ClientAuth, ClientCertificate, OAuthClient, OAuthConfig, OAuthServer, stack_with_oauth};
use common::{MailStack, wait_until};

/// Access tokens live this long: several refreshes happen within each test.
const TTL: u64 = 4;
const SECRET: &str = "app-secret-4f1c9a";

/// The mailboxes of this binary: each client's tokens open one of them.
fn address(role: &str) -> String {
    format!("oauth-{role}-{}@example.test", std::process::id())
}

struct World {
    ms: &'static MailStack,
    server: &'static OAuthServer,
    cert: ClientCertificate,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let cert = ClientCertificate::generate("srgate-app");
        let clients = vec![
            OAuthClient::app("app-secret", SECRET, &address("cc")),
            OAuthClient::app_with_certificate("app-cert", &cert, &address("cert")),
            OAuthClient::device("dev-login", SECRET),
            OAuthClient::device("dev-crash", SECRET),
            OAuthClient::device("dev-refresh", SECRET),
            OAuthClient::app("app-other", SECRET, &address("other")),
        ];
        let (ms, server) = stack_with_oauth(&OAuthConfig::new(TTL, clients));
        World { ms, server, cert }
    })
}

/// A desk whose mailboxes and SMTP sign in with OAuth2.
struct OAuthDesk {
    dir: tempfile::TempDir,
    metrics_port: u16,
    customer: String,
    admin: String,
}

/// One `[[credential]]` of the test server.
fn credential(server: &OAuthServer, name: &str, client_id: &str, flow: &str, secret_line: &str, extra: &str) -> String {
    format!(
        "[[credential]]\nname = \"{name}\"\nprovider = \"generic\"\nclient_id = \"{client_id}\"\nflow = \"{flow}\"\ntoken_url = \"{}\"\ndevice_authorization_url = \"{}\"\nscopes = [\"offline_access\"]\n{secret_line}\n{extra}\n",
        server.token_url, server.device_authorization_url
    )
}

impl OAuthDesk {
    /// `mailboxes`: (name, user, credential); SMTP signs in as the first mailbox's user with its credential.
    fn new(mailboxes: &[(&str, &str, &str)], credentials: &str) -> OAuthDesk {
        let w = world();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("client-secret"), format!("{SECRET}\n")).unwrap();
        let metrics_port = free_port();
        let lines = w.ms.srgate_lines();
        let (_, first_user, first_credential) = mailboxes[0];
        let customer = w.ms.unique_domain_user("customer");
        let admin = w.ms.unique_domain_user("admin");
        let cse = w.ms.unique_domain_user("cse");
        let root = env!("CARGO_MANIFEST_DIR");
        let mut config = format!(
            "{top}data_dir = \"data\"\nrules_dir = \"{root}/rules\"\ntemplates_dir = \"{root}/templates\"\nsupport_address = \"{first_user}\"\nadmin_address = \"{admin}\"\nmetrics_listen = \"127.0.0.1:{metrics_port}\"\n{smtp}retry_after = \"1s\"\nusername = \"{first_user}\"\nauth = \"oauth2\"\ncredential = \"{first_credential}\"\n",
            top = lines.top_level(),
            smtp = lines.smtp_section(),
        );
        for (name, user, cred) in mailboxes {
            config += &format!(
                "[[mailbox]]\nname = \"{name}\"\n{}username = \"{user}\"\nauth = \"oauth2\"\ncredential = \"{cred}\"\npoll_interval = \"1s\"\n",
                lines.mailbox_lines()
            );
        }
        config += &format!("[[cse]]\nname = \"Ann\"\nemail = \"{cse}\"\n{credentials}");
        std::fs::write(dir.path().join("srgate.toml"), config).unwrap();
        OAuthDesk { dir, metrics_port, customer, admin }
    }

    fn cli(&self) -> Cli {
        Cli::in_dir(self.dir.path())
    }

    fn daemon(&self) -> Child {
        self.daemon_with(&[])
    }

    fn daemon_with(&self, env: &[(&str, &str)]) -> Child {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("daemon.log")).unwrap();
        let mut command = self.cli().command();
        command.arg("run").env("SRGATE_LOG", "info").stdin(Stdio::null()).stderr(log);
        command.envs(env.iter().copied());
        command.spawn().unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// A customer writes to `support`; waits for the acknowledgement (the `n`th mail in the customer's INBOX).
    fn mail_is_acknowledged(&self, support: &str, subject: &str, n: usize) {
        let ms = world().ms;
        ms.send(&customer_mail(&self.customer, support, subject), &self.customer, &[support]);
        let acks = ms.wait_for_messages(&self.customer, "INBOX", n, Duration::from_secs(40));
        assert!(acks.len() >= n, "no acknowledgement for {subject:?} through OAuth2; daemon log:\n{}", self.log());
    }

    /// The saved tokens (the test reads them to check they never leak).
    fn saved(&self, credential: &str) -> serde_json::Value {
        let path = self.dir.path().join(format!("data/credentials/{credential}.json"));
        serde_json::from_slice(&std::fs::read(path).unwrap_or_default()).unwrap_or_default()
    }

    /// Asserts that no secret, token or Bearer string shows in `texts` or the daemon log.
    fn nothing_leaks(&self, credentials: &[&str], texts: &[String]) {
        let mut secrets: Vec<String> = vec![SECRET.to_string()];
        for c in credentials {
            let saved = self.saved(c);
            secrets.extend(["access_token", "refresh_token"].iter().filter_map(|k| saved[*k].as_str().map(str::to_string)));
        }
        let log = self.log();
        for text in texts.iter().chain(std::iter::once(&log)) {
            for s in &secrets {
                assert!(!text.contains(s.as_str()), "a token or secret leaked into output");
            }
            assert!(!text.contains("Bearer "), "a bearer string leaked into output");
        }
    }

    fn health(&self) -> Option<(u16, String)> {
        common::http_get(self.metrics_port, "/healthz")
    }
}

/// Closes Dovecot's sessions of `user`: the mailbox must sign in again, with a token that is fresh by then.
fn kick(ms: &MailStack, user: &str) {
    let conf = ms.dir.join("dovecot/dovecot.conf");
    let _ = Command::new("doveadm").arg("-c").arg(conf).args(["kick", user]).output();
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn client_credentials_with_a_secret_keep_mail_flowing_across_token_refreshes_in_idle_and_delivery() {
    let w = world();
    let support = address("cc");
    // The secret expires in ten days: inside the 14-day notice.
    let expires = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(240)).unwrap().strftime("%Y-%m-%d").to_string();
    let creds = credential(
        w.server,
        "app",
        "app-secret",
        "client_credentials",
        "client_secret_file = \"client-secret\"",
        &format!("client_secret_expires = \"{expires}\""),
    );
    let desk = OAuthDesk::new(&[("support", &support, "app")], &creds);
    let check = desk.cli().output(&["check"]);
    assert!(check.status.success(), "{}", text(&check));
    let daemon = desk.daemon();
    desk.mail_is_acknowledged(&support, "First through OAuth2", 1);
    // Several token lifetimes: each mail arrives after the last token lapsed; the IMAP
    // session is closed by the server so that the mailbox signs in again, and the pooled
    // SMTP session is not reused past its token.
    for round in 2..=4 {
        std::thread::sleep(Duration::from_secs(TTL + 1));
        kick(w.ms, &support);
        desk.mail_is_acknowledged(&support, &format!("Round {round} after a refresh"), round);
    }
    // One notice of the coming expiry, however often the credentials task looks.
    let notices = w.ms.wait_for_messages(&desk.admin, "INBOX", 1, Duration::from_secs(20));
    assert!(
        notices.first().is_some_and(|n| String::from_utf8_lossy(n).contains("client secret of credential app expires")),
        "{}",
        desk.log()
    );
    w.ms.wait_queue_empty(Duration::from_secs(20));
    assert_eq!(w.ms.count_messages(&desk.admin, "INBOX"), 1, "the expiry is announced once");
    let obtained = desk.log().matches("access token obtained").count();
    assert!(obtained >= 4, "tokens were not refreshed ({obtained} obtained)");
    let metrics = common::http_get(desk.metrics_port, "/metrics").map(|(_, body)| body).unwrap_or_default();
    for family in ["srgate_credential_access_token_expiry_timestamp_seconds", "srgate_credential_secret_expiry_timestamp_seconds"] {
        assert!(metrics.contains(&format!("{family}{{credential=\"app\"}}")), "{family} missing:\n{metrics}");
    }
    assert!(metrics.contains("srgate_credential_failing{credential=\"app\"} 0"), "{metrics}");
    let status = desk.cli().json(&["auth", "status", "--json"]);
    assert_eq!(status[0]["state"], "ok", "{status}");
    assert_eq!(status[0]["flow"], "client_credentials");
    assert!(status[0]["access_token_expires_at"].is_string(), "{status}");
    let mode = std::fs::metadata(desk.dir.path().join("data/credentials/app.json"))
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777);
    assert_eq!(mode.ok(), Some(0o600));
    stop(daemon);
    desk.nothing_leaks(&["app"], &[text(&check), status.to_string()]);
}

#[test]
fn a_certificate_credential_signs_in_with_a_client_assertion() {
    let w = world();
    let support = address("cert");
    let secret = format!("client_certificate_file = {:?}\nclient_key_file = {:?}", w.cert.cert_path, w.cert.key_path);
    let creds = credential(w.server, "cert", "app-cert", "client_credentials", &secret, "");
    let desk = OAuthDesk::new(&[("support", &support, "cert")], &creds);
    let daemon = desk.daemon();
    desk.mail_is_acknowledged(&support, "Signed with a certificate", 1);
    let status = desk.cli().json(&["auth", "status", "--json"]);
    assert!(status[0]["client_secret_expires_at"].is_string(), "the certificate's expiry is shown: {status}");
    stop(daemon);
    desk.nothing_leaks(&["cert"], &[status.to_string()]);
}

/// `srgate auth login CREDENTIAL`, with the test as the person who signs in as `login`.
fn auth_login(desk: &OAuthDesk, credential: &str, login: &str) -> String {
    let mut child = desk.cli().command().args(["auth", "login", credential]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = String::new();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    seen += &first;
    let code = first.rsplit(' ').next().unwrap_or_default().to_string();
    assert!(first.contains("enter the code"), "auth login said: {first}");
    world().server.approve(&code, login).expect("the person approves the code");
    for line in lines.map_while(Result::ok) {
        seen += "\n";
        seen += &line;
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "auth login failed: {seen}\n{err}");
    assert!(seen.contains("Signed in"), "{seen}");
    seen + &err
}

#[test]
fn device_code_login_then_the_daemon_runs_on_it_and_a_restart_after_rotation_still_signs_in() {
    let w = world();
    let support = address("device");
    let creds = credential(w.server, "person", "dev-login", "device_code", "client_secret_file = \"client-secret\"", "");
    let desk = OAuthDesk::new(&[("support", &support, "person")], &creds);
    let before = desk.cli().json(&["auth", "status", "--json"]);
    assert_eq!(before[0]["state"], "not signed in", "{before}");
    let said = auth_login(&desk, "person", &support);
    let first_refresh = desk.saved("person")["refresh_token"].as_str().map(str::to_string).expect("a refresh token is saved");
    let daemon = desk.daemon();
    desk.mail_is_acknowledged(&support, "After the device sign-in", 1);
    // The credentials task refreshes ahead of expiry: the server rotates the refresh token every time.
    assert!(
        wait_until(Duration::from_secs(20), Duration::from_millis(200), || desk.saved("person")["refresh_token"].as_str()
            != Some(first_refresh.as_str())),
        "the refresh token was not rotated"
    );
    stop(daemon);
    let rotated = desk.saved("person")["refresh_token"].as_str().map(str::to_string);
    // The first refresh token is dead now (rotation); the saved one carries the restart.
    std::thread::sleep(Duration::from_secs(TTL + 1));
    let daemon = desk.daemon();
    desk.mail_is_acknowledged(&support, "After a restart on the rotated token", 2);
    stop(daemon);
    assert_ne!(rotated.as_deref(), Some(first_refresh.as_str()));
    let status = desk.cli().json(&["auth", "status", "--json"]);
    assert_eq!((status[0]["state"].as_str(), status[0]["has_refresh_token"].as_bool()), (Some("ok"), Some(true)), "{status}");
    desk.nothing_leaks(&["person"], &[said.clone(), status.to_string()]);
    for text in [said, status.to_string(), desk.log()] {
        assert!(!text.contains(first_refresh.as_str()), "the first refresh token leaked into output");
    }
}

#[test]
fn a_revoked_credential_fails_its_mailbox_alone_and_the_admin_is_mailed_once() {
    let w = world();
    let (revoked, other) = (address("revoked"), address("other"));
    // A refresh token obtained elsewhere: the device flow, done by hand, as `refresh_token_file` expects.
    let auth = ClientAuth::Basic("dev-refresh", SECRET);
    let device = w.server.device_authorization(auth, "offline_access").expect("device code");
    w.server.approve(&device.user_code, &revoked).expect("approved");
    let tokens = w.server.device_token(ClientAuth::Basic("dev-refresh", SECRET), &device.device_code).expect("tokens");
    let creds = credential(
        w.server,
        "delegated",
        "dev-refresh",
        "refresh_token",
        "client_secret_file = \"client-secret\"",
        "refresh_token_file = \"refresh-token\"",
    ) + &credential(w.server, "app", "app-other", "client_credentials", "client_secret_file = \"client-secret\"", "");
    // SMTP signs in with the first mailbox's credential: the one that stays good (the admin's mail goes out on it).
    let desk = OAuthDesk::new(&[("other", &other, "app"), ("revoked", &revoked, "delegated")], &creds);
    std::fs::write(desk.dir.path().join("refresh-token"), tokens.refresh_token.clone().expect("a refresh token")).unwrap();
    let daemon = desk.daemon();
    desk.mail_is_acknowledged(&revoked, "Before the revocation", 1);
    assert!(
        wait_until(Duration::from_secs(10), Duration::from_millis(200), || desk.health().is_some_and(|(s, _)| s == 200)),
        "{:?}",
        desk.health()
    );
    // The administrator revokes the grant: the refresh token srgate holds now (rotated every few
    // seconds, so a token read just before a rotation is tried again with the next one).
    let failing = || desk.health().is_some_and(|(s, body)| s != 200 && body.contains("mailbox revoked: credential delegated failing"));
    let mut unhealthy = false;
    for _ in 0..3 {
        let current = desk.saved("delegated")["refresh_token"].as_str().map(str::to_string).expect("held");
        w.server.revoke("dev-refresh", SECRET, &current).expect("revoked");
        unhealthy = wait_until(Duration::from_secs(10), Duration::from_millis(200), failing);
        if unhealthy {
            break;
        }
    }
    assert!(unhealthy, "the revoked credential did not show in /healthz: {:?}\n{}", desk.health(), desk.log());
    let health = desk.health().map(|(_, b)| b).unwrap_or_default();
    assert!(!health.contains("mailbox other"), "the other mailbox is healthy: {health}");
    // The other mailbox, on its own credential, goes on.
    desk.mail_is_acknowledged(&other, "On the other credential", 2);
    // One mail to the administrator, however long the failure lasts.
    let notices = w.ms.wait_for_messages(&desk.admin, "INBOX", 1, Duration::from_secs(20));
    assert_eq!(notices.len(), 1, "{}", desk.log());
    assert!(String::from_utf8_lossy(&notices[0]).contains("credential delegated is failing"));
    std::thread::sleep(Duration::from_secs(2 * TTL));
    w.ms.wait_queue_empty(Duration::from_secs(20));
    assert_eq!(w.ms.count_messages(&desk.admin, "INBOX"), 1, "the administrator is mailed once");
    let status = desk.cli().output(&["auth", "status"]);
    assert!(!status.status.success(), "auth status exits 1 while a credential fails");
    let said = text(&status);
    assert!(said.contains("delegated: failing") && said.contains("invalid_grant"), "{said}");
    stop(daemon);
    desk.nothing_leaks(&["delegated", "app"], &[said, String::from_utf8_lossy(&notices[0]).into_owned(), health]);
}

#[test]
fn a_crash_right_after_a_rotated_refresh_token_is_saved_loses_no_sign_in() {
    let w = world();
    let support = address("crash");
    let creds = credential(w.server, "person", "dev-crash", "device_code", "client_secret_file = \"client-secret\"", "");
    let desk = OAuthDesk::new(&[("support", &support, "person")], &creds);
    auth_login(&desk, "person", &support);
    let signed_in = desk.saved("person")["refresh_token"].as_str().map(str::to_string);
    // The daemon dies at the first refresh, right after the rotated token reached the disk.
    let mut daemon = desk.daemon_with(&[("FAILPOINTS", "oauth.after_save=return")]);
    let status = exited(&mut daemon, Duration::from_secs(30));
    assert!(status.is_some_and(|s| !s.success()), "the daemon did not crash at oauth.after_save: {}", desk.log());
    let saved = desk.saved("person")["refresh_token"].as_str().map(str::to_string);
    assert!(saved.is_some() && saved != signed_in, "the rotated refresh token was not saved before the crash");
    // The token it signed in with is spent (rotation); the saved one carries the restart.
    let daemon = desk.daemon();
    desk.mail_is_acknowledged(&support, "After a crash at the rotation", 1);
    stop(daemon);
}
