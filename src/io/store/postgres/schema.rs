//! The schema: versioned SQL files (`migrations/NNNN_name.sql`), compiled into
//! srgate, applied in order by `srgate migrate`, each in one transaction and
//! recorded in `srgate_schema` with its SHA-256. A gateway checks at start that
//! the database has exactly the versions it knows, with the same contents:
//! an older schema asks for `srgate migrate`, a newer one for the newer srgate.

use postgres::GenericClient;
use sha2::{Digest, Sha256};

use super::super::StoreError;
use super::db;
use crate::config::Postgres as Settings;

/// One schema file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its version (the file's number).
    pub version: i32,
    /// Its name (the rest of the file name).
    pub name: &'static str,
    /// Its SQL.
    pub sql: &'static str,
}

/// Every schema file this srgate knows, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "initial", sql: include_str!("../../../../migrations/0001_initial.sql") },
    Migration { version: 2, name: "views", sql: include_str!("../../../../migrations/0002_views.sql") },
    Migration { version: 3, name: "commit_checks", sql: include_str!("../../../../migrations/0003_commit_checks.sql") },
    Migration { version: 4, name: "automated_by_address", sql: include_str!("../../../../migrations/0004_automated_by_address.sql") },
];

/// The schema version this srgate runs on.
pub fn current_version() -> i32 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// An advisory lock key: `srgate migrate` runs once at a time per database.
const MIGRATE_LOCK: i64 = 0x5352_4741_5445_0001;

/// Applies the schema files the database does not have yet; returns the versions applied.
/// Safe to run again (and from two machines at once: they take turns).
pub fn migrate(settings: &Settings) -> Result<Vec<Migration>, StoreError> {
    let (config, tls) = super::connect::client_config(settings)?;
    let mut client = config.connect(tls).map_err(db)?;
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK]).map_err(db)?;
    let result = apply(&mut client);
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK]);
    result
}

fn apply(client: &mut postgres::Client) -> Result<Vec<Migration>, StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS srgate_schema (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .map_err(db)?;
    let known = applied(client)?;
    if let Some((v, _, _)) = known.iter().find(|(v, _, _)| *v > current_version()) {
        return Err(StoreError::Schema(format!(
            "the database has schema version {v}, this srgate knows versions up to {}: run the newer srgate",
            current_version()
        )));
    }
    let mut done = Vec::new();
    for m in MIGRATIONS {
        if let Some((_, _, sum)) = known.iter().find(|(v, _, _)| *v == m.version) {
            if *sum != checksum(m.sql) {
                return Err(changed(m));
            }
            continue;
        }
        let mut tx = client.transaction().map_err(db)?;
        tx.batch_execute(m.sql)
            .map_err(|e| StoreError::Schema(format!("applying {:04}_{}.sql: {}", m.version, m.name, super::connect::describe(&e))))?;
        tx.execute("INSERT INTO srgate_schema (version, name, checksum) VALUES ($1, $2, $3)", &[&m.version, &m.name, &checksum(m.sql)])
            .map_err(db)?;
        tx.commit().map_err(db)?;
        done.push(*m);
    }
    Ok(done)
}

fn changed(m: &Migration) -> StoreError {
    StoreError::Schema(format!(
        "schema version {} ({}) in the database differs from this srgate's {:04}_{}.sql: the database was changed by hand or by another build",
        m.version, m.name, m.version, m.name
    ))
}

/// (version, name, checksum) of every applied schema file.
fn applied(client: &mut impl GenericClient) -> Result<Vec<(i32, String, String)>, StoreError> {
    let rows = client.query("SELECT version, name, checksum FROM srgate_schema ORDER BY version", &[]).map_err(db)?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

/// Connects as a gateway would and checks the schema (`srgate check`); returns the
/// schema version. Blocking: call it off the async runtime.
pub fn verify(settings: &Settings) -> Result<i32, StoreError> {
    let (config, tls) = super::connect::client_config(settings)?;
    let mut client = config.connect(tls).map_err(|e| {
        StoreError::Database(format!("cannot connect to the database at {}: {}", settings.host, super::connect::describe(&e)))
    })?;
    check(&mut client)?;
    Ok(current_version())
}

/// Checks that the database's schema is exactly the one this srgate knows.
pub fn check(client: &mut impl GenericClient) -> Result<(), StoreError> {
    let exists: bool = client.query_one("SELECT to_regclass('srgate_schema') IS NOT NULL", &[]).map_err(db)?.get(0);
    if !exists {
        return Err(StoreError::Schema("the database has no srgate schema yet: run `srgate migrate`".into()));
    }
    let known = applied(client)?;
    let newest = known.last().map(|(v, _, _)| *v).unwrap_or(0);
    if newest > current_version() {
        return Err(StoreError::Schema(format!(
            "the database has schema version {newest}, this srgate knows versions up to {}: run the newer srgate",
            current_version()
        )));
    }
    for m in MIGRATIONS {
        match known.iter().find(|(v, _, _)| *v == m.version) {
            None => {
                return Err(StoreError::Schema(format!(
                    "the database has schema version {newest}, this srgate needs {}: run `srgate migrate`",
                    current_version()
                )));
            }
            Some((_, _, sum)) if *sum != checksum(m.sql) => return Err(changed(m)),
            Some(_) => {}
        }
    }
    Ok(())
}
