//! Mail in a CSE's name that is not authenticated as theirs.
//!
//! Anyone can write a CSE's address in From. Such a mail is neither relayed nor
//! obeyed: the SR records a `suspicious` event saying what failed, and the CSE
//! whose address was used gets one notice (a real CSE whose mail failed, say on a
//! DNS outage, learns to send it again; a forger learns nothing, since the notice
//! goes to the roster address, never to the mail's sender). At most one notice per
//! SR and CSE in [`NOTICE_EVERY`]: a flood of forgeries does not become a flood of mail.

use jiff::{SignedDuration, Timestamp};

use super::outgoing::{Draft, Outgoing};
use super::{Ctx, Decision};
use crate::mail::inbound::Inbound;
use crate::mail::outbound::OutKind;
use crate::sr::Sr;
use crate::template::{Extra, RenderError};

/// The event kind recorded on the SR.
pub const EVENT: &str = "suspicious";

/// The least time between two notices to the same CSE about the same SR.
pub const NOTICE_EVERY: SignedDuration = SignedDuration::from_hours(24);

/// Records the unauthenticated `mail` on `sr` (nothing else changes) and tells the CSE it names, at most once a day.
pub(super) fn record(ctx: Ctx<'_>, mail: &Inbound, sr: Sr, why: &str, now: Timestamp) -> Result<Decision, RenderError> {
    let told_lately = sr.events.iter().any(|e| e.kind == EVENT && e.by.eq_ignore_ascii_case(&mail.from) && e.at + NOTICE_EVERY > now);
    let mut sr = sr;
    let detail = format!(
        "{why}. Subject \"{}\", Message-ID <{}>, original sha256 {}: not relayed, no command obeyed",
        mail.subject,
        mail.record_id(),
        mail.content_hash
    );
    sr.log(now, EVENT, &mail.from, detail);
    let mut out = Outgoing::new(ctx, sr, now);
    if !told_lately {
        let (parent, refs) = out.staff_thread();
        let info = format!(
            "A mail in your name on {token} could not be authenticated, so srgate neither sent it to the customer nor obeyed its commands.\n\n\
             {why}.\n\nSubject: {subject}\n\n\
             If you sent it, send it again from your usual mail account; it must carry your domain's DKIM signature (or be \
             vouched for by the mail server srgate trusts). If you did not, someone is writing in your name: nothing changed on \
             {token}. Further such mails on {token} within a day are recorded on the SR without another notice.",
            token = out.sr.token(),
            subject = mail.subject,
        );
        out.push(Draft::new(OutKind::CseInfo, vec![mail.from.clone()]).thread(parent, refs).extra(Extra { info, ..Extra::default() }))?;
    }
    Ok(Decision::new(out.sr, false, out.mails))
}
