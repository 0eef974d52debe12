//! Signals: SIGTERM and SIGINT stop the daemon; SIGHUP reloads its files.

use std::sync::Arc;

use tokio::sync::watch;
use tracing::{error, info, warn};

use super::Gateway;

/// Waits for SIGINT or SIGTERM.
pub(super) async fn wait_for_stop() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}

/// SIGHUP: reload rules, templates, policy and roster; a broken set is refused and logged.
pub(super) async fn reload_on_hangup(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        warn!("cannot listen for SIGHUP; reload needs a restart");
        return;
    };
    loop {
        tokio::select! {
            _ = hup.recv() => {
                // Reading and checking every file is blocking work.
                let reloaded = gw.blocking(|gw| gw.reload()).await;
                match reloaded {
                    Ok(Ok(())) => {
                        gw.metrics.reload(true);
                        info!("reloaded configuration, rules, policy and templates");
                    }
                    Ok(Err(errors)) => {
                        gw.metrics.reload(false);
                        for e in &errors.0 {
                            error!(problem = %e, "reload refused");
                        }
                        error!(problems = errors.0.len(), "reload refused: the previous configuration stays in force");
                    }
                    Err(e) => error!(error = %e, "reload failed"),
                }
            }
            _ = stop.changed() => break,
        }
    }
}
