//! The tests' PostgreSQL (tests/common/pg.rs, scripts/pgstack.sh) does what the store's
//! tests rely on: fresh databases of their own, owned by `srgate`; `srgate` logs in over TCP
//! with TLS that a client can verify, and with its password only; the server is configured
//! as promised (loopback only, fsync on, 200 connections); and ending a gateway's sessions
//! by application_name ends those and no others.

#![allow(clippy::unwrap_used)] // the shared helpers in tests/common unwrap

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::pg::{Postgres, ROLE, postgres};
use common::wait_until;

/// A `psql` client over TCP to `conninfo` (a URL or `key=value` words), as an application
/// would connect: no superuser, no unix socket; the password comes from `PGPASSWORD`.
fn tcp_psql(pg: &Postgres, conninfo: &str, password: &str) -> Command {
    let mut cmd = Command::new(pg.program("psql"));
    cmd.args(["-At", "-X", "-v", "ON_ERROR_STOP=1", "-d", conninfo])
        .env("PGPASSWORD", password)
        .env("PGPASSFILE", "/dev/null")
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null());
    cmd
}

/// Runs `sql` through [`tcp_psql`]: (success, stdout, stderr).
fn tcp_query(pg: &Postgres, conninfo: &str, password: &str, sql: &str) -> (bool, String, String) {
    let out = tcp_psql(pg, conninfo, password).args(["-c", sql]).output().unwrap_or_else(|e| panic!("cannot run psql: {e}"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `key=value` connection words for `database` as `srgate`, checking the server against the test CA.
fn verified_tls(pg: &Postgres, database: &str) -> String {
    format!("host=127.0.0.1 port={} user={ROLE} dbname={database} sslmode=verify-ca sslrootcert={}", pg.port(), pg.ca_file().display())
}

/// The database name at the end of a URL from `fresh_database`.
fn name_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

#[test]
fn fresh_databases_are_empty_separate_and_owned_by_srgate() {
    let pg = postgres();
    let first = pg.fresh_database("smoke-first");
    let second = pg.fresh_database("smoke-first");
    assert_ne!(first, second, "two calls, two databases");
    let expected_url = format!("postgres://{ROLE}:{}@127.0.0.1:{}/", pg.password(), pg.port());
    assert!(first.starts_with(&expected_url), "{first}");

    for url in [&first, &second] {
        let owner = pg.psql(url, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()");
        assert_eq!(owner.trim(), ROLE, "owner of {url}");
        let tables = pg.psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
        assert_eq!(tables.trim(), "0", "{url} starts empty");
    }

    // What one database holds, the other does not see.
    let rows = pg.psql(&first, "CREATE TABLE notes (n int); INSERT INTO notes VALUES (1), (2); SELECT sum(n) FROM notes;");
    assert_eq!(rows.trim(), "3");
    let other = pg.psql(&second, "SELECT count(*) FROM pg_tables WHERE tablename = 'notes'");
    assert_eq!(other.trim(), "0");
    assert_eq!(pg.psql(&second, "SELECT current_database()").trim(), name_of(&second));
}

#[test]
#[should_panic(expected = "psql in")]
fn a_failing_statement_panics_with_psql_s_error() {
    let pg = postgres();
    pg.psql("postgres", "SELECT 1; SELECT * FROM no_such_table;");
}

#[test]
fn srgate_logs_in_over_tcp_with_verified_tls_and_its_password() {
    let pg = postgres();
    let url = pg.fresh_database("smoke-tls");
    let name = name_of(&url);

    // As the brief for the store puts it: key=value words, the password from PGPASSWORD.
    let (ok, out, err) = tcp_query(
        pg,
        &verified_tls(pg, name),
        pg.password(),
        "SHOW ssl; SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid(); SELECT current_user, current_database();",
    );
    assert!(ok, "TLS login refused: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"on"), "SHOW ssl: {out}");
    assert!(lines.get(1).is_some_and(|l| l.starts_with("t|TLSv1.")), "pg_stat_ssl: {out}");
    assert_eq!(lines.get(2).copied(), Some(format!("{ROLE}|{name}").as_str()), "{out}");

    // The URL fresh_database returns, with the strictest check: the certificate names 127.0.0.1.
    let strict = format!("{url}?sslmode=verify-full&sslrootcert={}", pg.ca_file().display());
    let (ok, out, err) = tcp_query(pg, &strict, "", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    assert!(ok && out.trim() == "t", "verify-full over the URL: {out}{err}");

    // sslmode=require (encrypted, the certificate not checked) is accepted too.
    let (ok, out, err) = tcp_query(pg, &format!("{url}?sslmode=require"), "", "SHOW ssl");
    assert!(ok && out.trim() == "on", "sslmode=require: {out}{err}");

    // Without the test CA, the certificate does not verify.
    let (ok, _, err) = tcp_query(pg, &format!("{url}?sslmode=verify-ca&sslrootcert=/dev/null"), "", "SELECT 1");
    assert!(!ok, "a certificate verified without its CA");
    assert!(err.contains("certificate"), "{err}");

    // A wrong password is refused, stored as SCRAM.
    let (ok, _, err) = tcp_query(pg, &verified_tls(pg, name), "not-the-password", "SELECT 1");
    assert!(!ok && err.contains("password authentication failed"), "{err}");
    let stored = pg.psql("postgres", &format!("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = '{ROLE}'"));
    assert_eq!(stored.trim(), "SCRAM-SHA-256$");

    // The superuser does not come in over TCP.
    let admin = format!("host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=require", pg.port());
    let (ok, _, err) = tcp_query(pg, &admin, "", "SELECT 1");
    assert!(!ok, "postgres logged in over TCP: {err}");
}

#[test]
fn the_server_is_configured_as_promised() {
    let pg = postgres();
    let settings = pg.psql(
        "postgres",
        "SELECT name || '=' || setting FROM pg_settings \
         WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'max_connections', 'listen_addresses', \
                        'ssl', 'password_encryption', 'port') \
         ORDER BY name",
    );
    let expected = [
        "fsync=on".to_string(),
        "full_page_writes=on".into(),
        "listen_addresses=127.0.0.1".into(),
        "max_connections=200".into(),
        "password_encryption=scram-sha-256".into(),
        format!("port={}", pg.port()),
        "ssl=on".into(),
        "synchronous_commit=on".into(),
    ];
    assert_eq!(settings.lines().collect::<Vec<_>>(), expected);

    // The database `srgate` exists for the role of the same name.
    let (ok, out, err) = tcp_query(pg, &verified_tls(pg, ROLE), pg.password(), "SELECT current_database()");
    assert!(ok && out.trim() == ROLE, "{out}{err}");
    assert!(pg.dir().join("log").is_file());
}

/// `psql -c 'SELECT pg_sleep(30)'` as `srgate` over TLS, connected as `application_name`.
fn sleeper(pg: &Postgres, database: &str, application_name: &str) -> Child {
    let conninfo = format!("{} application_name={application_name}", verified_tls(pg, database));
    tcp_psql(pg, &conninfo, pg.password())
        .args(["-c", "SELECT pg_sleep(30)"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start psql: {e}"))
}

/// How many sessions of `database` are connected as `application_name`.
fn sessions(pg: &Postgres, database: &str, application_name: &str) -> usize {
    let sql = format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND application_name = '{application_name}'");
    pg.psql("postgres", &sql).trim().parse().unwrap_or(usize::MAX)
}

#[test]
fn terminate_sessions_ends_the_named_sessions_and_no_others() {
    let pg = postgres();
    let url = pg.fresh_database("smoke-terminate");
    let name = name_of(&url);
    let victim = sleeper(pg, name, "gateway-a");
    let mut bystander = sleeper(pg, name, "gateway-b");
    assert!(
        wait_until(Duration::from_secs(15), Duration::from_millis(50), || sessions(pg, name, "gateway-a") == 1
            && sessions(pg, name, "gateway-b") == 1),
        "the two sleeping sessions never showed up"
    );

    let started = Instant::now();
    assert_eq!(pg.terminate_sessions(&url, "gateway-a"), 1);
    assert_eq!(sessions(pg, name, "gateway-a"), 0, "terminate_sessions returned before the session was gone");

    // The client learns it at once, long before its 30 s sleep would have ended.
    let ended = victim.wait_with_output().unwrap_or_else(|e| panic!("psql: {e}"));
    assert!(started.elapsed() < Duration::from_secs(10), "the session lived on for {:?}", started.elapsed());
    assert!(!ended.status.success(), "psql succeeded: {ended:?}");
    let err = String::from_utf8_lossy(&ended.stderr);
    assert!(err.contains("terminating connection due to administrator command"), "{err}");

    // The other application's session is untouched, and nothing else matches.
    assert!(bystander.try_wait().is_ok_and(|status| status.is_none()), "gateway-b's psql ended too");
    assert_eq!(sessions(pg, name, "gateway-b"), 1);
    assert_eq!(pg.terminate_sessions(name, "gateway-a"), 0);
    assert_eq!(pg.terminate_sessions(name, "gateway-b"), 1);
    let status = bystander.wait().unwrap_or_else(|e| panic!("psql: {e}"));
    assert!(!status.success());
}
