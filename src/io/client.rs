//! The commands' side of the store: a request is answered by the daemon over its
//! control socket when one runs on the data directory, else from the store itself
//! (opened off the async runtime: the PostgreSQL client blocks). With a shared store
//! (postgres) the store is always read directly, from any machine with the
//! configuration: no daemon and no socket are needed.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use tokio::io::AsyncWriteExt;

use crate::config::{Config, StoreEngine};
use crate::io::control::{self, Request, Response};
use crate::io::store::{Store, StoreError};

/// Opens the store for a command while no daemon holds it. `Ok(None)` when a daemon
/// holds it after all (starting up, its socket not yet answering). Blocking.
fn open_store(config: &Config) -> anyhow::Result<Option<Store>> {
    if let Some(warning) = crate::io::access::secure_data_dir(&config.data_dir, config.control_socket_group.as_ref())? {
        tracing::warn!("{warning}");
    }
    match Store::open_configured(config, std::time::Duration::ZERO) {
        Ok(store) => Ok(Some(store)),
        Err(StoreError::Locked(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Opens the store off the runtime (the PostgreSQL client blocks): see [`open_store`].
async fn open_store_blocking(config: &Config) -> anyhow::Result<Option<Store>> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || open_store(&config)).await?
}

/// Answers a request from the store itself, off the runtime; `None` when a daemon holds it.
async fn answer_directly(config: &Config, req: Request) -> anyhow::Result<Option<Response>> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || Ok(open_store(&config)?.map(|store| control::answer(&store, &req)))).await?
}

/// Answers a request: from the running daemon when there is one, else from the store directly.
pub async fn query(config: &Config, req: Request) -> anyhow::Result<serde_json::Value> {
    let socket = config.control_socket();
    // A shared database needs no daemon: any machine with the configuration reads it.
    let shared = matches!(config.store.engine, StoreEngine::Postgres(_));
    let asked = if shared { None } else { control::ask(&socket, &req).await? };
    let response = match asked {
        Some(r) => r,
        None => match answer_directly(config, req.clone()).await? {
            Some(response) => response,
            None => {
                // A daemon holds the store but its socket did not answer yet (starting up): retry once.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                control::ask(&socket, &req).await?.context("a daemon holds the store but does not answer on its control socket")?
            }
        },
    };
    match response {
        Response::Ok(v) => Ok(v),
        Response::Error(e) => bail!(e),
    }
}

/// `export [--output FILE]`: the export goes to FILE or standard output, opened by
/// this process, so only where the user running it may write. The lines come from
/// the daemon over its socket when one runs, else from the store directly. A FILE
/// this command created is removed again when the export fails.
pub async fn export(config: &Config, output: Option<&Path>) -> anyhow::Result<usize> {
    let mut file = None;
    if let Some(path) = output {
        let existed = std::fs::symlink_metadata(path).is_ok();
        let f = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
            .with_context(|| format!("cannot write the export to {}", path.display()))?;
        file = Some((f, path, existed));
    }
    let result = match &mut file {
        Some((f, path, _)) => {
            let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, f);
            let n = export_into(config, &mut out).await;
            let flushed = async {
                out.flush().await?;
                out.into_inner().sync_all().await
            };
            match (n, flushed.await) {
                (Ok(n), Ok(())) => Ok(n),
                (Err(e), _) => Err(e),
                (Ok(_), Err(e)) => Err(anyhow::Error::new(e).context(format!("cannot write the export to {}", path.display()))),
            }
        }
        None => {
            let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, tokio::io::stdout());
            let n = export_into(config, &mut out).await?;
            out.flush().await.context("cannot write the export to standard output")?;
            Ok(n)
        }
    };
    if let (Err(_), Some((_, path, false))) = (&result, &file) {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Writes the export into `out`: from the daemon, or from the store when no daemon runs.
async fn export_into(config: &Config, out: &mut (impl tokio::io::AsyncWrite + Unpin)) -> anyhow::Result<usize> {
    let socket = config.control_socket();
    if let Some(n) = control::export_from_daemon(&socket, out).await? {
        return Ok(n);
    }
    match open_store_blocking(config).await? {
        Some(store) => Ok(control::ExportStream::start(Arc::new(store)).copy_to(out).await?),
        None => {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            control::export_from_daemon(&socket, out).await?.context("a daemon holds the store but does not answer on its control socket")
        }
    }
}
