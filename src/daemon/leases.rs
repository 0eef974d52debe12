//! The leases task (shared store only): speaks on the lease session every
//! `failover_after / 5`, so that the database keeps this gateway's mailbox
//! leases while it lives and ends them when it goes silent (see
//! [`crate::io::store::postgres::lease`]). A session that failed loses every
//! lease at once; the mailbox tasks notice and stand by.

use std::sync::Arc;

use tokio::sync::watch;
use tracing::warn;

use super::Gateway;

/// Keeps the leases alive until the daemon stops.
pub(super) async fn keep_leases(gw: Arc<Gateway>, mut stop: watch::Receiver<bool>) {
    let Some(every) = gw.store.postgres().map(|pg| pg.leases().beat_every()) else { return };
    while !*stop.borrow() {
        let held = gw.blocking(|gw| gw.store.postgres().map(|pg| pg.leases().beat()).unwrap_or_default()).await;
        if let Err(e) = held {
            warn!(error = %e, "the lease heartbeat failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}
