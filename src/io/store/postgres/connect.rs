//! Connections to the database: TLS as for the mail servers (the server's
//! certificate verified against the Mozilla roots and `tls_ca_file`, never
//! skipped), pooled with r2d2.

use std::time::Duration;

use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::super::StoreError;
use crate::config::{Postgres as Settings, Tls};

pub use super::conn::Manager;

/// A pool of connections to the database.
pub type Pool = r2d2::Pool<Manager>;

/// The connection settings and TLS connector for `settings`, for the pool's connections.
fn pool_config(settings: &Settings) -> Result<(tokio_postgres::Config, MakeRustlsConnect), StoreError> {
    let mut config: tokio_postgres::Config =
        settings.url.expose().parse().map_err(|e| StoreError::Database(format!("the database URL does not parse: {e}")))?;
    config.ssl_mode(if settings.tls == Tls::None { SslMode::Disable } else { SslMode::Require });
    config.connect_timeout(Duration::from_secs(10));
    if config.get_application_name().is_none() {
        config.application_name("srgate");
    }
    let tls = crate::io::tls::client_config(settings.tls_ca.as_ref()).map_err(|e| StoreError::Database(e.to_string()))?;
    Ok((config, MakeRustlsConnect::new(tls)))
}

/// The client configuration and TLS connector for `settings`, for a connection of its
/// own (the lease session, migrations, the schema check).
pub(super) fn client_config(settings: &Settings) -> Result<(postgres::Config, MakeRustlsConnect), StoreError> {
    let (config, tls) = pool_config(settings)?;
    let mut config = postgres::Config::from(config);
    // The server's notices ("relation already exists, skipping") are for the debug log only.
    config.notice_callback(|notice| tracing::debug!(notice = notice.message(), "database notice"));
    Ok((config, tls))
}

/// A pool of `pool_size` connections; fails when the database cannot be reached. Its
/// sessions plan each statement once (`plan_cache_mode`) and commit without waiting for
/// the WAL to reach the disk (`synchronous_commit = off`): the durability barrier
/// ([`super::PgStore::make_durable`]) waits for it once per batch, as sled's does,
/// before any mail is flagged or sent.
pub(super) fn pool(settings: &Settings) -> Result<Pool, StoreError> {
    let (mut config, tls) = pool_config(settings)?;
    // Every statement is prepared once per connection and its parameters are keys, not
    // filters whose selectivity varies: the plan made once serves every execution, and
    // binding does not plan again (a third of the server's time per mail otherwise).
    config.options("-c synchronous_commit=off -c plan_cache_mode=force_generic_plan");
    r2d2::Pool::builder()
        .max_size(settings.pool_size)
        .min_idle(Some(1))
        // A connection that broke (the server restarted, the session was ended) is
        // noticed by its next query, which fails like any database error and is retried.
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10))
        .build(Manager::new(config, tls))
        .map_err(|e| StoreError::Database(format!("cannot connect to the database at {}: {e}", settings.host)))
}

/// A database error in words: the server's message and its SQLSTATE, or the cause.
pub(super) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} ({})", d.message(), d.code().code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}
