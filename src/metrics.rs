//! Counters and gauges for `/metrics` (Prometheus text format), and the health verdict.
//!
//! The daemon counts as it works; the store is asked for the rest (outbox,
//! quarantine, SRs by state and priority) when `/metrics` is scraped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Latency buckets (seconds) of the processing histogram.
const BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Debug, Default)]
struct Inner {
    mail_read: BTreeMap<String, u64>,
    srs_opened: u64,
    srs_closed: u64,
    sent: BTreeMap<String, u64>,
    failed: BTreeMap<String, u64>,
    last_poll: BTreeMap<String, f64>,
    mailbox_error: BTreeMap<String, String>,
    store_error: Option<String>,
    smtp_error: Option<String>,
    latency_counts: Vec<u64>,
    latency_sum: f64,
    latency_n: u64,
    reloads: u64,
    reload_failures: u64,
    restarts: BTreeMap<String, u64>,
    probe_failed: bool,
    /// Per credential: access-token expiry, secret expiry (Unix seconds), failing.
    credentials: BTreeMap<String, (Option<f64>, Option<f64>, bool)>,
    refresh_failures: BTreeMap<String, u64>,
    /// With a shared store: mailbox → whether this gateway holds its lease.
    owned: BTreeMap<String, bool>,
}

/// The daemon's counters.
#[derive(Debug, Default)]
pub struct Metrics(Mutex<Inner>);

/// What the store reports at scrape time.
#[derive(Debug, Default, Clone)]
pub struct StoreFacts {
    /// Mails waiting in the outbox.
    pub outbox_depth: u64,
    /// Age of the oldest, seconds.
    pub outbox_oldest_age: f64,
    /// Quarantine records.
    pub quarantined: u64,
    /// SRs by (state, priority).
    pub srs: Vec<(String, String, u64)>,
    /// Whether a test write just succeeded.
    pub writable: bool,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        match self.0.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// A mail was read from `mailbox` and processed in `seconds`.
    pub fn mail_read(&self, mailbox: &str, seconds: f64) {
        self.with(|m| {
            *m.mail_read.entry(mailbox.to_string()).or_default() += 1;
            if m.latency_counts.is_empty() {
                m.latency_counts = vec![0; BUCKETS.len()];
            }
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    m.latency_counts[i] += 1;
                }
            }
            m.latency_sum += seconds;
            m.latency_n += 1;
        });
    }

    /// SRs opened and closed by a commit.
    pub fn srs(&self, opened: u64, closed: u64) {
        self.with(|m| {
            m.srs_opened += opened;
            m.srs_closed += closed;
        });
    }

    /// A mail of `kind` was accepted (or refused for good) by SMTP.
    pub fn delivery(&self, kind: &str, ok: bool) {
        self.with(|m| *(if ok { &mut m.sent } else { &mut m.failed }).entry(kind.to_string()).or_default() += 1);
    }

    /// `mailbox` was read completely at `at` (Unix seconds).
    pub fn polled(&self, mailbox: &str, at: f64) {
        self.with(|m| {
            m.last_poll.insert(mailbox.to_string(), at);
            m.mailbox_error.remove(mailbox);
        });
    }

    /// With a shared store: whether this gateway holds `mailbox`'s lease (reads it) or
    /// another gateway does (this one stands by).
    pub fn mailbox_owned(&self, mailbox: &str, owned: bool) {
        self.with(|m| {
            m.owned.insert(mailbox.to_string(), owned);
        });
    }

    /// `mailbox` failed, for a short `reason` ([`health_reason`]): what `/healthz` says of it.
    pub fn mailbox_failed(&self, mailbox: &str, reason: &str) {
        self.with(|m| {
            m.mailbox_error.insert(mailbox.to_string(), reason.to_string());
        });
    }

    /// A store write failed (or, with `None`, worked again). `/healthz` says only
    /// "a write failed"; the error itself is in the log.
    pub fn store(&self, error: Option<String>) {
        self.with(|m| m.store_error = error.map(|_| "a write failed (see the log)".to_string()));
    }

    /// The supervisor started the task `name` again after it failed.
    pub fn task_restarted(&self, name: &str) {
        self.with(|m| *m.restarts.entry(name.to_string()).or_default() += 1);
    }

    /// The watchdog's latest store probe (a durable write) worked, or not.
    pub fn store_probe(&self, ok: bool) {
        self.with(|m| m.probe_failed = !ok);
    }

    /// True unless the latest store probe failed.
    pub fn store_probe_ok(&self) -> bool {
        self.with(|m| !m.probe_failed)
    }

    /// The last attempt to connect to the SMTP server failed (or, with `None`, worked).
    pub fn smtp(&self, error: Option<String>) {
        self.with(|m| m.smtp_error = error);
    }

    /// A credential's state: when its access token and its secret expire, and whether it is failing.
    pub fn credential(&self, name: &str, access_expires: Option<jiff::Timestamp>, secret_expires: Option<jiff::Timestamp>, failing: bool) {
        let seconds = |t: Option<jiff::Timestamp>| t.map(|t| t.as_millisecond() as f64 / 1000.0);
        self.with(|m| {
            m.credentials.insert(name.to_string(), (seconds(access_expires), seconds(secret_expires), failing));
        });
    }

    /// A credential's token could not be refreshed.
    pub fn credential_refresh_failed(&self, name: &str) {
        self.with(|m| *m.refresh_failures.entry(name.to_string()).or_default() += 1);
    }

    /// A reload was tried.
    pub fn reload(&self, ok: bool) {
        self.with(|m| if ok { m.reloads += 1 } else { m.reload_failures += 1 });
    }

    /// The health verdict: `Ok` when every mailbox was read within its limit, the store is
    /// writable and the last attempt to connect to the SMTP server worked. Otherwise one line
    /// per problem, `mailbox NAME: REASON`, `store: REASON` or `smtp: …`, with short reasons for
    /// mailboxes: never a login name or a password (those are in the log).
    pub fn health(&self, mailboxes: &[(String, f64)], now: f64, store: &StoreFacts) -> Result<String, String> {
        self.with(|m| {
            let mut problems = Vec::new();
            for (name, limit) in mailboxes {
                if m.owned.get(name) == Some(&false) {
                    // Another gateway reads it; this one stands by.
                    continue;
                }
                match (m.mailbox_error.get(name), m.last_poll.get(name)) {
                    (Some(reason), _) => problems.push(format!("mailbox {name}: {reason}")),
                    (None, Some(t)) if now - t <= *limit => {}
                    (None, Some(t)) => problems.push(format!("mailbox {name}: not read for {:.0} s", now - t)),
                    (None, None) => problems.push(format!("mailbox {name}: not read yet")),
                }
            }
            if !store.writable {
                problems.push("store: not writable".into());
            }
            if let Some(reason) = &m.store_error {
                problems.push(format!("store: {reason}"));
            }
            if let Some(e) = &m.smtp_error {
                problems.push(format!("smtp: cannot connect: {e}"));
            }
            let owners: String = m
                .owned
                .iter()
                .map(|(name, owned)| {
                    format!("mailbox {name}: {}\n", if *owned { "owned (read here)" } else { "standby (another gateway reads it)" })
                })
                .collect();
            if problems.is_empty() { Ok(format!("ok\n{owners}")) } else { Err(problems.join("\n") + "\n" + &owners) }
        })
    }

    /// The Prometheus text exposition.
    pub fn render(&self, store: &StoreFacts) -> String {
        self.with(|m| {
            let mut o = String::new();
            let mut family = |name: &str, kind: &str, help: &str| {
                let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
            };
            family("srgate_mail_read_total", "counter", "Mails read and processed, by mailbox.");
            let mut lines = String::new();
            for (k, v) in &m.mail_read {
                let _ = writeln!(lines, "srgate_mail_read_total{{mailbox=\"{}\"}} {v}", escape(k));
            }
            o.push_str(&lines);
            let _ = writeln!(o, "# HELP srgate_srs_opened_total SRs opened.\n# TYPE srgate_srs_opened_total counter\nsrgate_srs_opened_total {}", m.srs_opened);
            let _ = writeln!(o, "# HELP srgate_srs_closed_total SRs closed.\n# TYPE srgate_srs_closed_total counter\nsrgate_srs_closed_total {}", m.srs_closed);
            let _ = writeln!(o, "# HELP srgate_mail_sent_total Mails accepted by SMTP, by kind.\n# TYPE srgate_mail_sent_total counter");
            for (k, v) in &m.sent {
                let _ = writeln!(o, "srgate_mail_sent_total{{kind=\"{}\"}} {v}", escape(k));
            }
            let _ = writeln!(o, "# HELP srgate_mail_failed_total Mails refused for good, by kind.\n# TYPE srgate_mail_failed_total counter");
            for (k, v) in &m.failed {
                let _ = writeln!(o, "srgate_mail_failed_total{{kind=\"{}\"}} {v}", escape(k));
            }
            let _ = writeln!(o, "# HELP srgate_outbox_depth Mails waiting in the outbox.\n# TYPE srgate_outbox_depth gauge\nsrgate_outbox_depth {}", store.outbox_depth);
            let _ = writeln!(o, "# HELP srgate_outbox_oldest_age_seconds Age of the oldest mail in the outbox.\n# TYPE srgate_outbox_oldest_age_seconds gauge\nsrgate_outbox_oldest_age_seconds {:.3}", store.outbox_oldest_age);
            let _ = writeln!(o, "# HELP srgate_quarantine Mails quarantined (kept and reported).\n# TYPE srgate_quarantine gauge\nsrgate_quarantine {}", store.quarantined);
            let _ = writeln!(o, "# HELP srgate_mailbox_last_poll_timestamp_seconds When each mailbox was last read completely.\n# TYPE srgate_mailbox_last_poll_timestamp_seconds gauge");
            for (k, v) in &m.last_poll {
                let _ = writeln!(o, "srgate_mailbox_last_poll_timestamp_seconds{{mailbox=\"{}\"}} {v:.3}", escape(k));
            }
            if !m.owned.is_empty() {
                let _ = writeln!(o, "# HELP srgate_mailbox_owned 1 when this gateway holds the mailbox's lease and reads it, 0 when another gateway does.\n# TYPE srgate_mailbox_owned gauge");
                for (k, owned) in &m.owned {
                    let _ = writeln!(o, "srgate_mailbox_owned{{mailbox=\"{}\"}} {}", escape(k), u8::from(*owned));
                }
            }
            let _ = writeln!(o, "# HELP srgate_processing_seconds Time from fetch to commit, per mail.\n# TYPE srgate_processing_seconds histogram");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(o, "srgate_processing_seconds_bucket{{le=\"{b}\"}} {}", m.latency_counts.get(i).copied().unwrap_or(0));
            }
            let _ = writeln!(o, "srgate_processing_seconds_bucket{{le=\"+Inf\"}} {}\nsrgate_processing_seconds_sum {:.6}\nsrgate_processing_seconds_count {}", m.latency_n, m.latency_sum, m.latency_n);
            let _ = writeln!(o, "# HELP srgate_srs SRs by state and priority.\n# TYPE srgate_srs gauge");
            for (state, priority, n) in &store.srs {
                let _ = writeln!(o, "srgate_srs{{state=\"{state}\",priority=\"{priority}\"}} {n}");
            }
            let _ = writeln!(o, "# HELP srgate_store_writable 1 when the store accepts writes.\n# TYPE srgate_store_writable gauge\nsrgate_store_writable {}", u8::from(store.writable && m.store_error.is_none()));
            let _ = writeln!(o, "# HELP srgate_task_restarts_total Tasks started again after a failure, by task.\n# TYPE srgate_task_restarts_total counter");
            for (k, v) in &m.restarts {
                let _ = writeln!(o, "srgate_task_restarts_total{{task=\"{}\"}} {v}", escape(k));
            }
            let _ = writeln!(o, "# HELP srgate_credential_access_token_expiry_timestamp_seconds When each credential's access token expires.\n# TYPE srgate_credential_access_token_expiry_timestamp_seconds gauge");
            for (k, (at, _, _)) in &m.credentials {
                if let Some(at) = at {
                    let _ = writeln!(o, "srgate_credential_access_token_expiry_timestamp_seconds{{credential=\"{}\"}} {at:.0}", escape(k));
                }
            }
            let _ = writeln!(o, "# HELP srgate_credential_secret_expiry_timestamp_seconds When each credential's client secret or certificate expires, when known.\n# TYPE srgate_credential_secret_expiry_timestamp_seconds gauge");
            for (k, (_, at, _)) in &m.credentials {
                if let Some(at) = at {
                    let _ = writeln!(o, "srgate_credential_secret_expiry_timestamp_seconds{{credential=\"{}\"}} {at:.0}", escape(k));
                }
            }
            let _ = writeln!(o, "# HELP srgate_credential_failing 1 while a credential cannot sign in.\n# TYPE srgate_credential_failing gauge");
            for (k, (_, _, failing)) in &m.credentials {
                let _ = writeln!(o, "srgate_credential_failing{{credential=\"{}\"}} {}", escape(k), u8::from(*failing));
            }
            let _ = writeln!(o, "# HELP srgate_credential_refresh_failures_total Token requests that failed, by credential.\n# TYPE srgate_credential_refresh_failures_total counter");
            for (k, v) in &m.refresh_failures {
                let _ = writeln!(o, "srgate_credential_refresh_failures_total{{credential=\"{}\"}} {v}", escape(k));
            }
            let _ = writeln!(o, "# HELP srgate_reloads_total Reloads (SIGHUP) by outcome.\n# TYPE srgate_reloads_total counter\nsrgate_reloads_total{{outcome=\"ok\"}} {}\nsrgate_reloads_total{{outcome=\"refused\"}} {}", m.reloads, m.reload_failures);
            o
        })
    }
}

/// The short reason `/healthz` gives for a mailbox that failed with `e`: a category
/// ("cannot connect", "login refused", "TLS certificate not trusted", "timed out",
/// "server error", "store error"), never the error's own words, which may name
/// the login, the host and the port.
pub fn health_reason(e: &anyhow::Error) -> &'static str {
    if let Some(imap) = e.downcast_ref::<crate::io::imap::ImapError>() {
        imap.reason()
    } else if let Some(token) = e.downcast_ref::<crate::io::oauth::TokenError>() {
        token.reason()
    } else if e.downcast_ref::<crate::io::store::StoreError>().is_some() {
        "store error"
    } else {
        "failed (see the log)"
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_and_health() {
        let m = Metrics::default();
        m.mail_read("support", 0.02);
        m.delivery("acknowledgement", true);
        m.polled("support", 1000.0);
        let facts = StoreFacts { outbox_depth: 2, writable: true, srs: vec![("open".into(), "P1".into(), 3)], ..StoreFacts::default() };
        let text = m.render(&facts);
        assert!(text.contains("srgate_mail_read_total{mailbox=\"support\"} 1"), "{text}");
        assert!(text.contains("srgate_srs{state=\"open\",priority=\"P1\"} 3"), "{text}");
        assert!(text.contains("srgate_processing_seconds_bucket{le=\"0.025\"} 1"), "{text}");
        assert!(m.health(&[("support".into(), 60.0)], 1030.0, &facts).is_ok());
        assert!(m.health(&[("support".into(), 60.0)], 1100.0, &facts).is_err());
        m.store(Some("disk full".into()));
        assert!(m.health(&[("support".into(), 60.0)], 1030.0, &facts).is_err());
    }

    #[test]
    fn an_smtp_server_that_cannot_be_reached_is_unhealthy_until_it_can() {
        let m = Metrics::default();
        m.polled("support", 1000.0);
        let facts = StoreFacts { writable: true, ..StoreFacts::default() };
        let limits = [("support".to_string(), 60.0)];
        m.smtp(Some("certificate for h:465 is not trusted (unknown issuer)".into()));
        let why = m.health(&limits, 1010.0, &facts).expect_err("unhealthy");
        assert!(why.contains("smtp: cannot connect: certificate for h:465 is not trusted"), "{why}");
        m.smtp(None);
        assert!(m.health(&limits, 1010.0, &facts).is_ok());
    }

    #[test]
    fn health_names_the_mailbox_and_a_short_reason_only() {
        use crate::io::imap::ImapError;
        let m = Metrics::default();
        let facts = StoreFacts { writable: true, ..StoreFacts::default() };
        let refused = anyhow::Error::from(ImapError::Login("ann@example.test".into(), "NO [AUTHENTICATIONFAILED]".into()));
        m.mailbox_failed("mailbox-1", health_reason(&refused));
        let unreachable =
            anyhow::Error::from(ImapError::Connect("127.0.0.1:1143".into(), "Connection refused".into())).context("reading mailbox-2");
        m.mailbox_failed("mailbox-2", health_reason(&unreachable));
        m.store(Some("store file /var/lib/srgate/files/ab: No space left on device".into()));
        let limits = [("mailbox-1".to_string(), 60.0), ("mailbox-2".to_string(), 60.0), ("mailbox-3".to_string(), 60.0)];
        let body = m.health(&limits, 1000.0, &facts).expect_err("failing");
        assert_eq!(
            body,
            "mailbox mailbox-1: login refused\nmailbox mailbox-2: cannot connect\nmailbox mailbox-3: not read yet\nstore: a write failed (see the log)\n"
        );
        let timed_out = anyhow::Error::from(ImapError::Timeout("login"));
        assert_eq!(health_reason(&timed_out), "timed out");
        let untrusted = anyhow::Error::from(ImapError::Tls(
            "certificate for imap.example.test:993 is not trusted (unknown issuer); set tls_ca_file to the CA that signed it".into(),
        ));
        assert_eq!(health_reason(&untrusted), "TLS certificate not trusted");
    }
}
