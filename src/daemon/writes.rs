//! From a decision to the store writes that carry it out: the SRs (with what
//! they already have stored and their next wake-up), Message-IDs, the rendered
//! outbox, load and contact changes, the automated-mail records and the
//! knowledge-base articles suggested.

use jiff::Timestamp;

use super::Gateway;
use crate::gateway::Decision;
use crate::io::store::{Automated, Commit, OutboxItem, SrWrite, Suggested};
use crate::mail::outbound;
use crate::sr::{self, Sr, lifecycle};

impl Gateway {
    /// The write of `after` (`before` is the SR as stored, None when `after` is new),
    /// with its next wake-up from the lifecycle.
    pub(super) fn sr_write(&self, before: Option<&Sr>, after: &Sr) -> SrWrite {
        let setup = self.setup();
        let wake = lifecycle::next_wake(after, &setup.policy);
        SrWrite {
            sr: after.clone(),
            created: before.is_none(),
            stored: before.map(|b| (b.messages.len(), b.events.len())).unwrap_or((0, 0)),
            wake,
            counted_before: before.map(|b| (b.state, b.priority)),
            before: before.map(Sr::facts),
        }
    }

    /// The store writes of a decision. `before` is the SR before the change (None
    /// when created); `also_before` the other SR's, when there is one.
    pub(super) fn writes(&self, before: Option<&Sr>, d: &Decision, also_before: Option<&Sr>, now: Timestamp) -> Result<Commit, String> {
        let mut c = Commit::default();
        let add = |before: Option<&Sr>, d: &Decision, c: &mut Commit| -> Result<(), String> {
            let before = if d.created { None } else { before };
            c.srs.push(self.sr_write(before, &d.sr));
            c.load_delta.extend(sr::load_delta(before, &d.sr));
            let closed_now = d.sr.state == sr::State::Closed && before.is_none_or(|b| b.state != sr::State::Closed);
            self.metrics.srs(u64::from(d.created), u64::from(closed_now));
            c.message_ids.extend(d.outgoing.iter().map(|m| (m.message_id.clone(), d.sr.id)));
            c.outbox.extend(render_outbox(&d.outgoing, now).map_err(|e| format!("cannot render mail: {e}"))?);
            c.contacts.extend(d.contact_changes.iter().cloned());
            c.automated.extend(d.automated.iter().map(|(address, message_id)| Automated {
                address: address.clone(),
                message_id: message_id.clone(),
                at: now,
            }));
            c.suggested.extend(d.suggested.iter().map(|article| Suggested {
                customer: d.sr.customer.clone(),
                article: article.clone(),
                at: now,
            }));
            Ok(())
        };
        add(before, d, &mut c)?;
        if let Some(also) = &d.also {
            add(also_before, also, &mut c)?;
        }
        Ok(c)
    }
}

/// The outbox items of `mails`, rendered.
pub(super) fn render_outbox(mails: &[outbound::OutMail], now: Timestamp) -> Result<Vec<OutboxItem>, outbound::RenderError> {
    mails
        .iter()
        .map(|m| {
            Ok(OutboxItem {
                sr: m.sr,
                kind: m.kind,
                from: m.from.clone(),
                to: m.to.iter().chain(m.cc.iter()).cloned().collect(),
                message_id: m.message_id.clone(),
                queued_at: now,
                attempts: 0,
                next_attempt_at: now,
                last_error: None,
                bytes: outbound::render(m)?,
            })
        })
        .collect()
}
