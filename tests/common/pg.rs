//! The tests' PostgreSQL: one server per test binary (scripts/pgstack.sh), started on
//! first use in a folder under /tmp and stopped by a detached watchdog once the test
//! binary has exited; a fresh database for each test that asks.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running PostgreSQL.
#[derive(Debug)]
pub struct Postgres {
    dir: PathBuf,
    port: u16,
    password: String,
}

static SERVER: OnceLock<Result<Postgres, String>> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The server of this test binary, started on first use. Panics when it cannot start.
pub fn postgres() -> &'static Postgres {
    match SERVER.get_or_init(start) {
        Ok(p) => p,
        Err(e) => panic!("PostgreSQL unavailable: {e}"),
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pgstack.sh")
}

fn start() -> Result<Postgres, String> {
    let dir = tempfile::Builder::new().prefix("srgate-pg-").tempdir_in("/tmp").map_err(|e| e.to_string())?.keep();
    super::spawn_watchdog_named("srgate-pg-watchdog", &script(), &dir)?;
    let out = Command::new(script()).arg("start").arg(&dir).stdin(Stdio::null()).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{} start failed: {}{}",
            script().display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|e| format!("no port from pgstack.sh: {e}"))?;
    let password = std::fs::read_to_string(dir.join("password")).map_err(|e| e.to_string())?.trim().to_string();
    eprintln!("postgres: {} (port {port})", dir.display());
    Ok(Postgres { dir, port, password })
}

impl Postgres {
    /// A new empty database owned by `srgate`; its URL (plain TCP to loopback).
    pub fn fresh_database(&self, prefix: &str) -> String {
        let n = DATABASES.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}_{}_{n}", prefix.replace(|c: char| !c.is_ascii_alphanumeric(), "_"), std::process::id());
        self.psql("postgres", &format!("CREATE DATABASE {name} OWNER srgate"));
        format!("postgres://srgate:{}@127.0.0.1:{}/{name}", self.password, self.port)
    }

    /// The CA that signed the server's certificate (trust it for TLS).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `srgate` role's password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// Runs `sql` as the superuser in `database` (a name, or a URL whose last part is
    /// one); its output, one row a line. Panics on failure.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let database = database.rsplit('/').next().unwrap_or(database).split('?').next().unwrap_or(database);
        let mut cmd = Command::new("psql");
        if nix_is_root() {
            cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--", "psql"]);
        }
        let out = cmd
            .args(["-h"])
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", database, "-At", "-X", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run psql: {e}"));
        assert!(out.status.success(), "psql {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Ends every session of `database` (name or URL) whose application_name is
    /// `application`, as `pg_terminate_backend` does; how many ended.
    pub fn terminate_sessions(&self, database: &str, application: &str) -> usize {
        let database = database.rsplit('/').next().unwrap_or(database).split('?').next().unwrap_or(database);
        let out = self.psql(
            "postgres",
            &format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{database}' AND application_name = '{application}'"
            ),
        );
        out.trim().parse().unwrap_or(0)
    }
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}
