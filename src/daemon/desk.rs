//! The desk's own work outside any mailbox: the daily digests (once a business day,
//! from the scheduler's pass) and SRs opened from the command line (`srgate sr open`,
//! over the control socket or with the store opened directly).
//!
//! The digests of a day and the day itself are committed in one transaction: after
//! a crash or a restart the day is either done (nothing is sent again) or not
//! (everything is made again, with the same Message-IDs).

use jiff::Timestamp;
use tracing::{debug, error, info};

use super::Gateway;
use super::writes::render_outbox;
use crate::gateway::intake::Intake;
use crate::gateway::{self, NewSr, queue};
use crate::io::control::{self, Response};
use crate::io::store::{Commit, StoreError};
use crate::sr::Sr;

/// Who opened an SR from the command line, in its events.
pub const COMMAND_LINE: &str = "srgate sr open";

impl Gateway {
    /// Queues the daily digests when they are due at `now` (blocking); how many mails.
    pub(super) fn digest_if_due(&self, now: Timestamp) -> Result<usize, StoreError> {
        let setup = self.setup();
        let ctx = self.ctx_of(&setup);
        let Some(day) = queue::digest_due(ctx, self.store.digest_day()?, now) else { return Ok(0) };
        // The scan (seconds at a million open SRs) runs beside the decisions, not under their
        // lock: the digest shows each SR as it was when read. Only the commit is serial.
        let mut tally = queue::DigestTally::new(ctx, day, now);
        let mut open = 0u64;
        self.store.each_open_sr(&mut |sr| {
            open += 1;
            tally.add(sr);
        })?;
        let _guard = self.decide_guard();
        let outbox = match queue::digests(ctx, tally, day, now)
            .map_err(|e| e.to_string())
            .and_then(|m| render_outbox(&m, now).map_err(|e| e.to_string()))
        {
            Ok(outbox) => outbox,
            Err(e) => {
                // Broken templates: the day is marked done rather than tried every pass.
                error!(%day, error = %e, "cannot make the daily digests; none are sent today");
                Vec::new()
            }
        };
        let n = outbox.len();
        match self.store.commit(&Commit { outbox, digest_day: Some(day), ..Commit::default() }) {
            // With a shared store another gateway queued this day's digests first.
            Err(StoreError::Conflict(_)) => {
                debug!(%day, "another gateway queued today's digests");
                return Ok(0);
            }
            result => result?,
        };
        info!(%day, mails = n, open, "daily digests queued");
        Ok(n)
    }

    /// Opens an SR for `intake` (blocking): checked, decided, committed with its mail and
    /// made durable; the delivery task is woken. The new SR, or why not.
    pub fn open_sr(&self, intake: Intake) -> Result<Sr, String> {
        let setup = self.setup();
        let ctx = self.ctx_of(&setup);
        let intake = intake.checked(ctx).map_err(|e| e.join("; "))?;
        let now = self.clock.now();
        let store_error = |e: StoreError| e.to_string();
        let _guard = self.decide_guard();
        let mut refused = None;
        let d = self
            .deciding_again(|| {
                let inputs = self.store.new_sr_inputs()?;
                let id = self.store.take_sr_number(inputs.next_id)?;
                let new = NewSr { id, mailbox: "", loads: &inputs.loads, rr: inputs.rr };
                let decided = gateway::intake::open(ctx, &intake, COMMAND_LINE, &new, self.store.as_ref(), now).map_err(|e| e.to_string());
                let (d, mut c) = match decided.and_then(|d| self.writes(None, &d, None, now).map(|c| (d, c))) {
                    Ok(done) => done,
                    Err(e) => {
                        refused = Some(e);
                        return Ok(None);
                    }
                };
                c.next_rr = Some(inputs.rr + 1);
                c.message_ids.extend(d.sr.first_message_id().map(|id| (id.to_string(), d.sr.id)));
                self.store.commit(&c)?;
                Ok(Some(d))
            })
            .map_err(store_error)?;
        let Some(d) = d else { return Err(refused.unwrap_or_default()) };
        self.store.make_durable().map_err(store_error)?;
        self.outbox_ready.notify_one();
        info!(sr = d.sr.id, customer = %d.sr.customer, "SR opened from the command line");
        Ok(d.sr)
    }
}

impl control::Desk for Gateway {
    fn open_sr(&self, intake: Intake) -> Response {
        match Gateway::open_sr(self, intake) {
            Ok(sr) => Response::Ok(crate::report::sr_json(&sr)),
            Err(e) => Response::Error(e),
        }
    }
}
