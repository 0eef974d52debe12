//! What a batch reads ahead (postgres): the commit of one mail carries the first
//! reads of the next mail's decision in the same write, so that a mail costs one
//! round trip to the database, not three (its reads, its SR number, its commit).
//!
//! The reads go out after the commit's `COMMIT` on the same connection: they see
//! what it wrote, as a read made afterwards would. They are used only by the mail
//! they were asked for (same dedupe key, same addresses), and only once; a commit
//! that fails drops them (the mail decided again reads afresh).
//!
//! The batch also holds one SR number, taken with the reads and kept until an SR
//! is opened with it (a commit naming it succeeds); a commit that fails keeps it,
//! since nobody else can get it. The number still held when the batch ends is given
//! back to the sequence: a gateway alone on its database numbers its SRs without
//! gaps across batches and restarts.
//!
//! With sled nothing is read ahead (its reads cost no round trip) and nothing held.

use std::cell::{Cell, RefCell};

use jiff::Timestamp;

use crate::io::store::{Commit, DecisionReads, ReadsRequest};

/// A batch's reads made ahead and the SR number it holds.
#[derive(Default)]
pub(super) struct Ahead {
    /// What the next mail will read, and the moment it is decided at.
    next: RefCell<Option<(ReadsRequest, Timestamp)>>,
    /// The reads made with the last commit, for the mail they were asked for.
    read: RefCell<Option<(ReadsRequest, Timestamp, DecisionReads)>>,
    /// The SR number taken and not used yet.
    held: Cell<Option<u64>>,
}

impl Ahead {
    /// Sets what the next mail will read (nothing when it is not one to decide).
    pub(super) fn expect_next(&self, next: Option<(ReadsRequest, Timestamp)>) {
        *self.next.borrow_mut() = next;
    }

    /// The reads made ahead for a mail with this dedupe key and these addresses, and
    /// the moment it is decided at; taken (a second decision reads afresh).
    pub(super) fn take(&self, key: &str, addresses: &[String]) -> Option<(Timestamp, DecisionReads)> {
        let (request, now, reads) = self.read.borrow_mut().take()?;
        (request.key == key && request.addresses == addresses).then_some((now, reads))
    }

    /// The SR number held, if any.
    pub(super) fn held(&self) -> Option<u64> {
        self.held.get()
    }

    /// Holds a number the reads took (one the batch already holds is returned, to be
    /// given back: a batch holds one).
    pub(super) fn hold(&self, reads: &DecisionReads) -> Option<u64> {
        let taken = reads.reserved?;
        match self.held.get() {
            Some(_) => Some(taken),
            None => {
                self.held.set(Some(taken));
                None
            }
        }
    }

    /// The number held, given up (at the end of the batch).
    pub(super) fn release(&self) -> Option<u64> {
        self.held.take()
    }

    /// The next mail's request for a commit that opens the SR numbered `opens` (if
    /// any): it asks for an SR number (when the mail may want one) only if the batch
    /// holds none after the commit (holding none, or the commit opening an SR with it). The reads made ahead
    /// before are dropped: they were used, or not wanted.
    pub(super) fn request_with(&self, opens: Option<u64>) -> Option<(ReadsRequest, Timestamp)> {
        self.read.borrow_mut().take();
        let (mut request, now) = self.next.borrow_mut().take()?;
        request.reserve_sr_number &= self.held.get().is_none_or(|n| opens == Some(n));
        Some((request, now))
    }

    /// After a commit that opened the SR numbered `opens` (if any) succeeded with
    /// `request`: the number it opened an SR with is no longer held, and the reads are
    /// kept for the mail they were asked for. A number they took while the batch
    /// holds one is returned, to be given back.
    pub(super) fn committed(
        &self,
        opens: Option<u64>,
        request: Option<(ReadsRequest, Timestamp)>,
        reads: Option<DecisionReads>,
    ) -> Option<u64> {
        if opens.is_some() && self.held.get() == opens {
            self.held.set(None);
        }
        let (request, now) = request?;
        let reads = reads?;
        let spare = self.hold(&reads);
        *self.read.borrow_mut() = Some((request, now, reads));
        spare
    }
}

/// The number of the SR `c` opens, if any.
pub(super) fn opened_by(c: &Commit) -> Option<u64> {
    c.srs.iter().find(|w| w.created).map(|w| w.sr.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(key: &str) -> (ReadsRequest, Timestamp) {
        let request =
            ReadsRequest { key: key.into(), addresses: vec!["a@x.test".into()], since: Timestamp::UNIX_EPOCH, reserve_sr_number: true };
        (request, Timestamp::UNIX_EPOCH)
    }

    fn reads(reserved: Option<u64>) -> DecisionReads {
        DecisionReads { reserved, ..DecisionReads::default() }
    }

    #[test]
    fn the_reads_made_ahead_serve_only_the_mail_they_were_asked_for_and_only_once() {
        let ahead = Ahead::default();
        ahead.expect_next(Some(request("k1")));
        let sent = ahead.request_with(None);
        assert!(sent.as_ref().is_some_and(|(r, _)| r.reserve_sr_number), "no number held: one is asked for");
        assert_eq!(ahead.committed(None, sent, Some(reads(Some(7)))), None);
        assert_eq!(ahead.held(), Some(7));
        assert!(ahead.take("k2", &["a@x.test".into()]).is_none(), "another mail");
        ahead.expect_next(Some(request("k1")));
        let sent = ahead.request_with(None);
        ahead.committed(None, sent, Some(reads(None)));
        assert!(ahead.take("k1", &["a@x.test".into()]).is_some());
        assert!(ahead.take("k1", &["a@x.test".into()]).is_none(), "taken once");
    }

    #[test]
    fn the_number_held_is_let_go_only_by_the_commit_that_opens_an_sr_with_it() {
        let ahead = Ahead::default();
        ahead.hold(&reads(Some(7)));
        ahead.expect_next(Some(request("k1")));
        let sent = ahead.request_with(None);
        assert!(sent.as_ref().is_some_and(|(r, _)| !r.reserve_sr_number), "a number is held: none is asked for");
        ahead.committed(None, sent, None);
        assert_eq!(ahead.held(), Some(7));
        ahead.expect_next(Some(request("k2")));
        let sent = ahead.request_with(Some(7));
        assert!(sent.as_ref().is_some_and(|(r, _)| r.reserve_sr_number), "the commit uses the number: the next is asked for");
        ahead.committed(Some(7), sent, Some(reads(Some(8))));
        assert_eq!(ahead.held(), Some(8));
        assert_eq!(ahead.hold(&reads(Some(9))), Some(9), "a second number is given back");
        assert_eq!(ahead.release(), Some(8));
        assert_eq!(ahead.held(), None);
    }
}
