//! The tests' PostgreSQL: one real server per test binary (`scripts/pgstack.sh`), started on
//! first use in a folder under /tmp, with a fresh database for each test that asks.
//!
//! The server listens on a free port of 127.0.0.1 only, speaks TLS (its certificate is signed
//! by a test CA: [`Postgres::ca_file`]) and keeps `fsync` on, as in production. The role
//! `srgate` owns the tests' databases and logs in over TCP with a password (scram-sha-256);
//! the superuser `postgres` does the tests' own admin work ([`Postgres::psql`],
//! [`Postgres::terminate_sessions`]) over the unix socket in the server's folder.
//!
//! Clean-up: statics are never dropped, so [`postgres`] first spawns a detached watchdog
//! (`srgate-pg-watchdog`, which scripts/test.sh waits for) that, once the test binary has
//! exited however it ended, runs `pgstack.sh stop DIR` and deletes DIR
//! (`SRGATE_MAILSTACK_KEEP=1` keeps DIR, with the server's log, for debugging).

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The role that owns the tests' databases (and logs in over TCP with [`Postgres::password`]).
pub const ROLE: &str = "srgate";

/// PostgreSQL's longest identifier, in bytes.
const MAX_IDENTIFIER: usize = 63;

/// A running PostgreSQL of this test binary.
#[derive(Debug)]
pub struct Postgres {
    /// The server's folder: `data/`, `log`, `ca.crt`, the unix socket (see scripts/pgstack.sh).
    dir: PathBuf,
    /// Where the PostgreSQL programs of the server's version are.
    bin_dir: PathBuf,
    port: u16,
    password: String,
}

static SERVER: OnceLock<Result<Postgres, String>> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The server of this test binary, started on first use (thread-safe: later callers wait
/// for it). Panics with the start script's output when it cannot start.
pub fn postgres() -> &'static Postgres {
    match SERVER.get_or_init(start) {
        Ok(server) => server,
        Err(e) => panic!("PostgreSQL unavailable: {e}"),
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pgstack.sh")
}

fn start() -> Result<Postgres, String> {
    // Short path: the unix socket's path must fit in 107 bytes.
    let dir = tempfile::Builder::new()
        .prefix("srgate-pg-")
        .tempdir_in("/tmp")
        .map_err(|e| format!("cannot create a folder in /tmp: {e}"))?
        .keep();
    super::spawn_watchdog_named("srgate-pg-watchdog", &script(), &dir)?;
    let out = Command::new(script())
        .arg("start")
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script().display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} start {} failed ({}):\n{}{}",
            script().display(),
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let port = stdout.trim().parse().map_err(|e| format!("pgstack.sh printed {stdout:?}, not a port: {e}"))?;
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).map(|text| text.trim().to_string()).map_err(|e| format!("cannot read {name}: {e}"))
    };
    let password = read("password")?;
    let bin_dir = PathBuf::from(read("bindir")?);
    eprintln!("postgres: {} (port {port})", dir.display());
    Ok(Postgres { dir, bin_dir, port, password })
}

impl Postgres {
    /// Creates a new, empty database owned by [`ROLE`], named after `prefix` (and made unique
    /// across tests and test binaries); returns its URL,
    /// `postgres://srgate:PASSWORD@127.0.0.1:PORT/NAME`. The URL leaves TLS to the caller:
    /// add `?sslmode=...` (and `&sslrootcert=` [`Self::ca_file`]) as needed.
    pub fn fresh_database(&self, prefix: &str) -> String {
        let name = database_name(prefix, std::process::id(), DATABASES.fetch_add(1, Ordering::Relaxed));
        self.psql("postgres", &format!("CREATE DATABASE {} OWNER {ROLE}", quote_identifier(&name)));
        self.url(&name)
    }

    /// The URL of `database` for [`ROLE`] over TCP, without TLS settings (see [`Self::fresh_database`]).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{ROLE}:{}@127.0.0.1:{}/{database}", self.password, self.port)
    }

    /// The test CA's certificate (PEM), which signed the server's: trust it for TLS
    /// (`sslmode=verify-full` holds too: the certificate names 127.0.0.1 and localhost).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The password of [`ROLE`].
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The server's folder (its `log` is there).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of a PostgreSQL program (`psql`, `pg_dump`, ...) of the server's version.
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// Runs `sql` (one or more statements) as the superuser in `database` (a name, or a URL
    /// whose path is one) over the unix socket, with `psql -At -X -q -v ON_ERROR_STOP=1`:
    /// its output, one row a line, columns separated by `|`. Panics, with psql's errors,
    /// when a statement fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let database = database_of(database);
        // PostgreSQL's socket is reached as the `postgres` OS user, whom pg_hba.conf trusts.
        let mut cmd = if running_as_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(self.program("psql"));
            cmd
        } else {
            Command::new(self.program("psql"))
        };
        cmd.arg("-h")
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", database])
            .args(["-At", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run psql: {e}"));
        // Fed from a thread: psql may write output before it has read all of its input.
        let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("psql has no stdin"));
        let input = sql.to_string();
        let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("psql did not finish: {e}"));
        let fed = feeder.join().unwrap_or_else(|_| panic!("psql's input thread panicked"));
        assert!(
            out.status.success() && fed.is_ok(),
            "psql in {database} failed ({}): {sql}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Ends every session of `database` (a name or a URL) whose `application_name` is
    /// `application_name`, as an operator's `pg_terminate_backend` does, and waits (up to
    /// 10 s each) until they are gone; how many ended.
    pub fn terminate_sessions(&self, database: &str, application_name: &str) -> usize {
        let sql = format!(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_stat_activity \
             WHERE datname = {} AND application_name = {} AND pid <> pg_backend_pid()",
            quote_literal(database_of(database)),
            quote_literal(application_name)
        );
        let out = self.psql("postgres", &sql);
        out.trim().parse().unwrap_or_else(|e| panic!("pg_terminate_backend count {out:?}: {e}"))
    }
}

/// `<prefix>_<pid>_<n>`: lower case letters, digits and `_` (no quoting needed in SQL or
/// in a URL), unique per test binary (pid) and per call (n), at most 63 bytes.
fn database_name(prefix: &str, pid: u32, n: usize) -> String {
    let suffix = format!("_{pid}_{n}");
    let mut stem: String = prefix.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if !stem.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        stem.insert_str(0, "db_");
    }
    stem.truncate(MAX_IDENTIFIER - suffix.len());
    stem + &suffix
}

/// The database's name in `database`: itself, or the path of a `postgres://` URL.
fn database_of(database: &str) -> &str {
    let Some(rest) = database.split_once("://").map(|(_, rest)| rest) else {
        return database;
    };
    let path = rest.split_once('/').map_or("", |(_, path)| path);
    path.split(['?', '#']).next().unwrap_or(path)
}

/// `name` as an SQL identifier in double quotes.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as an SQL string literal.
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn database_names_are_plain_unique_and_short() {
        assert_eq!(database_name("store-Engines", 42, 7), "store_engines_42_7");
        assert_eq!(database_name("1st", 42, 0), "db_1st_42_0");
        let long = database_name(&"x".repeat(100), 4_000_000, 123);
        assert_eq!(long.len(), MAX_IDENTIFIER);
        assert!(long.ends_with("_4000000_123"));
    }

    #[test]
    fn database_of_a_url_is_its_path() {
        assert_eq!(database_of("suite_1_2"), "suite_1_2");
        assert_eq!(database_of("postgres://srgate:pw@127.0.0.1:5/suite_1_2"), "suite_1_2");
        assert_eq!(database_of("postgres://srgate:pw@127.0.0.1:5/suite_1_2?sslmode=require&application_name=a"), "suite_1_2");
    }

    #[test]
    fn sql_quoting() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
