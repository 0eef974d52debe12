//! What `/metrics` and `/healthz` show, and the store watchdog behind the health verdict.
//!
//! Both endpoints answer from memory: the daemon's counters, the store's
//! in-memory counts (outbox depth, quarantine, SRs by state and priority) and
//! the watchdog's last probe. A scrape never scans the store or waits on it.

use std::time::Duration;

use anyhow::Context as _;
use tracing::error;

use super::Gateway;
use crate::metrics::StoreFacts;

impl Gateway {
    fn store_facts(&self) -> StoreFacts {
        let now = self.clock.now();
        StoreFacts {
            outbox_depth: self.store.outbox_len(),
            outbox_oldest_age: self
                .store
                .outbox_oldest()
                .ok()
                .flatten()
                .map(|t| now.duration_since(t).as_secs_f64().max(0.0))
                .unwrap_or(0.0),
            quarantined: self.store.quarantine_len(),
            srs: self.store.sr_counts(),
            writable: self.metrics.store_probe_ok(),
        }
    }
}

impl Gateway {
    /// `mailbox NAME: credential C failing` and `smtp: credential C failing` lines, one
    /// for each user of a failing credential.
    fn credential_problems(&self) -> Vec<String> {
        let setup = self.setup();
        let failing = |login: Option<&crate::config::Login>| {
            let name = login.and_then(crate::config::Login::credential)?;
            self.credentials.get(name).filter(|s| s.failing()).map(|_| name.to_string())
        };
        let mut problems: Vec<String> = setup
            .config
            .mailboxes
            .iter()
            .filter_map(|m| failing(Some(&m.login)).map(|c| format!("mailbox {}: credential {c} failing\n", m.name)))
            .collect();
        if let Some(c) = failing(setup.config.smtp.login.as_ref()) {
            problems.push(format!("smtp: credential {c} failing\n"));
        }
        problems
    }
}

impl crate::io::http::Endpoints for Gateway {
    fn metrics(&self) -> String {
        self.metrics.render(&self.store_facts())
    }

    fn health(&self) -> Result<String, String> {
        // A mailbox is healthy when it is not failing and was read within three poll intervals (at least 10 s).
        let limits: Vec<(String, f64)> =
            self.setup().config.mailboxes.iter().map(|m| (m.name.clone(), (3.0 * m.poll_interval.as_secs_f64()).max(10.0))).collect();
        let verdict = self.metrics.health(&limits, crate::time::wall_seconds(), &self.store_facts());
        let problems = self.credential_problems();
        match (verdict, problems.is_empty()) {
            (verdict, true) => verdict,
            (Ok(_), false) => Err(problems.join("")),
            (Err(others), false) => Err(others + &problems.join("")),
        }
    }
}

/// Starts the [`crate::watchdog`]: a probe (a store write made durable) every 10 s,
/// whose outcome feeds the health verdict; a probe that has not completed after
/// `store_stall_limit` ends the process with status 75, for the service manager
/// (or the next cron run) to start it again.
pub(super) fn watch_the_store(gw: &std::sync::Arc<Gateway>) -> anyhow::Result<()> {
    let limit = gw.setup().config.store_stall_limit;
    let probing = gw.clone();
    let probe = move || {
        let ok = probing.store.probe().is_ok();
        probing.metrics.store_probe(ok);
        ok
    };
    let on_wedged = |waited: Duration| {
        error!(
            waited_seconds = waited.as_secs(),
            status = crate::watchdog::WEDGED_EXIT_STATUS,
            "the store has not completed a write for {waited:?}: it is wedged; exiting for the service manager to restart srgate (nothing is lost: mail not yet durable is still unflagged and is read again)"
        );
        std::process::exit(crate::watchdog::WEDGED_EXIT_STATUS);
    };
    crate::watchdog::spawn(Duration::from_secs(10).min(limit / 4), limit, probe, on_wedged).context("cannot start the store watchdog")
}
