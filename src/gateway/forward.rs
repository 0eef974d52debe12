//! A colleague's forward of a customer's mail: the SR is the original sender's.
//!
//! Mail that names no SR and carries a forward ([`crate::mail::forward`]) opens the SR
//! for the original sender when the forwarder is trusted: a roster CSE authenticated as
//! staff ([`super::is_staff`]), or an address of `internal_domains` whose mail is
//! authenticated the same way ([`auth::staff_verdict`]: srgate's own DKIM verification,
//! a trusted server's verdict, the provider's internal signal). A From header alone is
//! anybody's: an unauthenticated mail from an internal domain is decided as any mail.
//!
//! The SR gets the original's subject, text, date (in the `forwarded_by` event) and
//! files; the rules and triage read the original's text; the forwarder's note is an
//! internal `note` event; the customer gets one acknowledgement saying who forwarded
//! the mail. A forward whose original sender cannot be read, or names an address that
//! cannot be a customer's (ours, a machine's, the forwarder's own), opens the SR for
//! the forwarder as any mail does, with a `forward_not_used` event saying why.

use jiff::Timestamp;

use super::new_sr::{self, Via};
use super::{Ctx, Decision, Lookup, NewSr, is_staff, mentioned};
use crate::mail::auth;
use crate::mail::forward::{self, Forward, Original, Shape};
use crate::mail::inbound::Inbound;
use crate::template::RenderError;

/// Who may forward a customer's mail in the customer's name, and how they show.
struct Forwarder {
    display: String,
    joins: bool,
}

/// Opens the SR a forward makes, when `mail` (naming no SR) is one: for the original
/// sender, or for the forwarder with the reason recorded. `None`: not a forward from a
/// colleague; the caller opens the SR as for any mail.
pub(super) fn open(
    ctx: Ctx<'_>,
    mail: &Inbound,
    new: &NewSr<'_>,
    lookup: &impl Lookup,
    now: Timestamp,
) -> Result<Option<Decision>, RenderError> {
    let Some(found) = mail.forward.as_ref() else { return Ok(None) };
    let forwarder = match forwarder(ctx, mail) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        Err(why) => return as_today(ctx, mail, new, lookup, &format!("not trusted as a forwarder: {why}"), now).map(Some),
    };
    let original = match found.original.as_ref() {
        Some(o) => o,
        None => {
            let why = format!("{}, but its original sender cannot be read", found.shape.describe());
            return as_today(ctx, mail, new, lookup, &why, now).map(Some);
        }
    };
    if let Some(why) = refused(ctx, mail, original) {
        return as_today(ctx, mail, new, lookup, &format!("{}: {why}", found.shape.describe()), now).map(Some);
    }
    let customer_mail = as_original(mail, found, original);
    let via = Via {
        forwarder: mail.from.clone(),
        display: forwarder.display,
        shape: found.shape.describe(),
        date: original.date.clone(),
        note: found.note.clone(),
        joins: forwarder.joins,
    };
    let related = mentioned(&customer_mail, lookup);
    new_sr::open_sr(ctx, &customer_mail, new_sr::Origin::Forward(&via), new, related, lookup, now).map(Some)
}

/// The forwarder, when `mail` is from a trusted colleague; `Err` with what failed when it
/// is in an internal domain's name but not authenticated; `Ok(None)` for anybody else.
fn forwarder(ctx: Ctx<'_>, mail: &Inbound) -> Result<Option<Forwarder>, String> {
    let display = |name: Option<&str>| match name {
        Some(n) if !n.trim().is_empty() => format!("{} ({})", n.trim(), mail.from),
        _ => mail.from.clone(),
    };
    if let Some(cse) = ctx.config.cse_by_email(&mail.from) {
        // `decide` only gets here with staff mail authenticated as policy requires.
        return Ok(is_staff(ctx, mail).then(|| Forwarder { display: display(Some(&cse.name)), joins: false }));
    }
    if !ctx.config.is_internal(&mail.from) {
        return Ok(None);
    }
    match auth::staff_verdict(mail, &ctx.config.trusted_authserv_ids) {
        auth::Verdict::Authenticated(_) => Ok(Some(Forwarder { display: display(mail.from_name.as_deref()), joins: true })),
        auth::Verdict::Unauthenticated(why) => Err(why),
    }
}

/// Why the original's sender cannot have the SR: not a person's address, or one of ours.
fn refused(ctx: Ctx<'_>, mail: &Inbound, original: &Original) -> Option<String> {
    let from = original.from.as_str();
    let config = ctx.config;
    if !forward::plausible(from) {
        Some(format!("the original sender {from} is not an address a person reads"))
    } else if from.eq_ignore_ascii_case(&mail.from) {
        Some("the original is the forwarder's own mail".into())
    } else if config.is_ours(from) || config.cse_by_email(from).is_some() {
        Some(format!("the original sender {from} is one of our own addresses"))
    } else {
        None
    }
}

/// Opens the SR for the forwarder, as for any mail, and records why the forward was not used.
fn as_today(
    ctx: Ctx<'_>,
    mail: &Inbound,
    new: &NewSr<'_>,
    lookup: &impl Lookup,
    why: &str,
    now: Timestamp,
) -> Result<Decision, RenderError> {
    let mut d = new_sr::open(ctx, mail, new, mentioned(mail, lookup), lookup, now)?;
    d.sr.log(now, "forward_not_used", &mail.from, format!("the SR is the sender's: {why}"));
    Ok(d)
}

/// The customer's mail as the forward carried it: its sender, subject, text and files,
/// with the forward's Message-ID (which the store knows this mail by) and none of the
/// forward's authentication (it speaks for the forwarder, not the customer) or copies.
fn as_original(mail: &Inbound, found: &Forward, original: &Original) -> Inbound {
    let mut m = mail.clone();
    m.from = original.from.clone();
    m.from_name = original.name.clone();
    m.subject = original.subject.clone().unwrap_or_else(|| mail.subject.clone());
    m.text = original.text.clone();
    m.new_text = original.text.clone();
    m.quote_cut = None;
    m.cc = Vec::new();
    m.content_language = None;
    m.detected_language = crate::lang::detect(&m.new_text, None);
    m.authentication = auth::Authentication::default();
    m.forward = None;
    if found.shape == Shape::Attached {
        // The original's files, and any the forwarder added; not the attached mail itself
        // (it is kept: it is part of the forward's stored original).
        let added = mail.attachments.iter().filter(|a| !a.content_type.eq_ignore_ascii_case("message/rfc822")).cloned();
        m.attachments = original.attachments.iter().cloned().chain(added).collect();
    }
    m
}

#[cfg(test)]
mod tests;
