//! Forwarded mail: the original mail inside a colleague's forward.
//!
//! A forward carries the original in one of two ways:
//!
//! - **inline**, below a block the mail client writes: Outlook (desktop and web:
//!   `-----Original Message-----`, a `____` rule, or a `From:/Sent:/To:/Subject:` block,
//!   localised: `Von:/Gesendet:/An:/Betreff:`, `De :/Envoyé :/À :/Objet :`,
//!   `Da:/Inviato:/A:/Oggetto:`, `De:/Enviado:/Para:/Asunto:`), Gmail
//!   (`---------- Forwarded message ---------`, `Weitergeleitete Nachricht`, `Message
//!   transféré`, `Messaggio inoltrato`, `Mensaje reenviado`), Apple Mail (`Begin
//!   forwarded message:`, `Anfang der weitergeleiteten Nachricht:`, `Début du message
//!   réexpédié :`, `Inizio messaggio inoltrato:`, `Inicio del mensaje reenviado:`, the
//!   original quoted with `>` or not) and Thunderbird (`-------- Forwarded Message
//!   --------` and its translations, a `Subject:/Date:/From:/To:` table);
//! - **attached**, as a `message/rfc822` part, read with mail-parser like any mail.
//!
//! [`find`] returns what it read: the forwarder's note (the text above the block),
//! and the original's sender, subject, date, text and (attached) files; or a forward
//! whose original sender cannot be read. Whether a forward is trusted, and what it
//! does, is the gateway's business ([`crate::gateway`]). Outlook's header block alone
//! (which replies carry too) counts as a forward only under a forward subject (`Fwd:`,
//! `WG:`, `TR:`, `RV:`, `I:` …). Pure and total: no input makes it panic.

use std::sync::LazyLock;

use regex::Regex;

use super::{Attachment, inbound, quote};

/// Text beyond this many bytes is not looked at (the forward block is near the top).
const MAX_TEXT_BYTES: usize = 1 << 20;
/// Lines longer than this are prose, never a marker or a header line.
const MAX_LINE: usize = 400;
/// Blank lines allowed between a marker and its header block.
const MAX_BLANKS: usize = 3;

/// How the forward carried the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Outlook (desktop or web): a separator, a rule or a `From:/Sent:` block.
    Outlook,
    /// Gmail: `---------- Forwarded message ---------`.
    Gmail,
    /// Apple Mail: `Begin forwarded message:`.
    AppleMail,
    /// Thunderbird: `-------- Forwarded Message --------`.
    Thunderbird,
    /// An attached `message/rfc822`.
    Attached,
}

impl Shape {
    /// The name shown in events and `mail inspect --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Outlook => "outlook",
            Shape::Gmail => "gmail",
            Shape::AppleMail => "apple_mail",
            Shape::Thunderbird => "thunderbird",
            Shape::Attached => "attached",
        }
    }

    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Shape::Outlook => "an Outlook forward",
            Shape::Gmail => "a Gmail forward",
            Shape::AppleMail => "an Apple Mail forward",
            Shape::Thunderbird => "a Thunderbird forward",
            Shape::Attached => "a forward as attachment",
        }
    }
}

/// A forward, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// How it carried the original.
    pub shape: Shape,
    /// The forwarder's own text, above the forward block (tidied; may be empty).
    pub note: String,
    /// The original; `None` when its sender cannot be read.
    pub original: Option<Original>,
}

/// The forwarded mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// Its sender's address, lower case (a well-formed address).
    pub from: String,
    /// Its sender's display name.
    pub name: Option<String>,
    /// Its subject as written (prefixes and all), when the block gives one.
    pub subject: Option<String>,
    /// Its date: as the client wrote it (inline), or RFC 3339 from its `Date:` (attached).
    pub date: Option<String>,
    /// Its text, without quoted history (see [`quote`]).
    pub text: String,
    /// The files of an attached original (an inline forward carries the original's
    /// files as its own attachments).
    pub attachments: Vec<Attachment>,
    /// The Message-ID of an attached original, without brackets.
    pub message_id: Option<String>,
}

/// Forward prefixes of subjects (`Fwd:`, `FW:`, `WG:`, `TR:`, `RV:`, `I:`, `ENC:` …), after
/// any reply prefixes or `[EXT]` tags.
static FORWARD_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    crate::pattern::literal(
        r"(?i)^\s*(?:(?:re|aw|sv|antw|r|rif)\s*[:：]\s*|\[[^\]]*\]\s*|\*\s*external\s*\*\s*)*(?:fwd?|wg|tr|rv|i|enc|doorst|pd|vl|转发|轉寄|転送)\s*(?:\[\d+\])?\s*[:：]",
    )
});

/// True when `subject` says the mail is a forward (`Fwd:`, `WG:`, `TR:`, `RV:`, `I:` …).
pub fn is_forward_subject(subject: &str) -> bool {
    FORWARD_SUBJECT.is_match(subject)
}

/// The forward in a parsed mail: an inline block whose sender can be read, else an
/// attached `message/rfc822`, else an inline block whose sender cannot be read.
/// `text` is the mail's text, `subject` its subject and `new_text` its text without
/// quoted history (the note of a forward as attachment).
pub fn find(msg: &mail_parser::Message<'_>, text: &str, subject: &str, new_text: &str) -> Option<Forward> {
    let inline = inline(text, subject);
    if inline.as_ref().is_some_and(|f| f.original.is_some()) {
        return inline;
    }
    attached(msg, new_text).or(inline)
}

/// The first attached `message/rfc822` of `msg`, read as a mail; `note` is the forwarder's text.
pub fn attached(msg: &mail_parser::Message<'_>, note: &str) -> Option<Forward> {
    let part = msg.attachments().find(|p| p.is_message())?;
    let inner = part.message()?;
    let original = inbound::parse_nested(inner.raw_message()).ok().filter(|m| is_address(&m.from)).map(|m| Original {
        date: inner.date().map(|d| d.to_rfc3339()),
        subject: Some(m.subject).filter(|s| !s.is_empty()),
        from: m.from,
        name: m.from_name,
        text: m.new_text,
        attachments: m.attachments,
        message_id: m.message_id,
    });
    Some(Forward { shape: Shape::Attached, note: note.trim().to_string(), original })
}

/// The forward block in a plain `text` (a mail's text part, or its HTML as text), if any.
/// The first block of any kind decides: an Outlook-style header block that is not under a
/// forward `subject` is a reply's quoted history, and then the mail is no forward.
pub fn inline(text: &str, subject: &str) -> Option<Forward> {
    let text = clamp(text, MAX_TEXT_BYTES);
    let unified;
    let text = if text.contains('\r') {
        unified = text.replace("\r\n", "\n").replace('\r', "\n");
        unified.as_str()
    } else {
        text
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let (i, shape, block) = (0..lines.len()).find_map(|i| opening(&lines, i).map(|(shape, block)| (i, shape, block)))?;
    let explicit = matches!(shape, Shape::Gmail | Shape::AppleMail | Shape::Thunderbird);
    if !explicit && !is_forward_subject(subject) {
        return None;
    }
    let note = tidy(lines.get(..i).unwrap_or_default().iter().copied());
    let rest = lines.get(block..).unwrap_or_default();
    Some(Forward { shape, note, original: read_block(rest) })
}

/// Whether line `i` opens a forward block: its shape and the line its header block starts at.
fn opening(lines: &[&str], i: usize) -> Option<(Shape, usize)> {
    let line = lines.get(i)?.trim();
    if line.is_empty() || line.len() > MAX_LINE {
        return None;
    }
    if quote::is_forward_marker_line(line) {
        let shape = if line.ends_with(':') || line.ends_with('：') {
            Shape::AppleMail
        } else if line.trim_start_matches('*').bytes().take_while(|b| *b == b'-').count() >= 10 {
            Shape::Gmail
        } else {
            Shape::Thunderbird
        };
        return Some((shape, i + 1));
    }
    if quote::is_original_message_line(line) {
        return Some((Shape::Outlook, i + 1));
    }
    if quote::is_rule_line_text(line) {
        let next = (i + 1..lines.len()).take(MAX_BLANKS).find(|&j| lines.get(j).is_some_and(|l| !l.trim().is_empty()))?;
        return header_block_at(lines, next).then_some((Shape::Outlook, next));
    }
    header_block_at(lines, i).then_some((Shape::Outlook, i))
}

/// Outlook's block: a "From" line and, within the next three lines, a "Sent"/"Date" line.
fn header_block_at(lines: &[&str], i: usize) -> bool {
    let family = |k: usize| lines.get(k).and_then(|l| field(l)).map(|(f, _)| f);
    family(i) == Some(Field::From) && (i + 1..=i + 3).any(|k| family(k) == Some(Field::Date))
}

/// A header of a forward block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    From,
    Date,
    Subject,
    /// To, Cc, Reply-To: recognised, not kept.
    Other,
}

const FROM_KEYS: &[&str] = &["from", "von", "de", "da", "mittente", "remitente", "absender", "expéditeur"];
const DATE_KEYS: &[&str] = &[
    "date",
    "sent",
    "datum",
    "gesendet",
    "envoyé",
    "envoye",
    "envoyé le",
    "date d'envoi",
    "inviato",
    "data",
    "enviado",
    "enviado el",
    "fecha",
];
const SUBJECT_KEYS: &[&str] = &["subject", "betreff", "objet", "sujet", "oggetto", "asunto"];
const OTHER_KEYS: &[&str] = &[
    "to",
    "an",
    "à",
    "a",
    "pour",
    "para",
    "destinataire",
    "destinatario",
    "cc",
    "bcc",
    "kopie",
    "copie",
    "copie à",
    "copia",
    "cco",
    "reply-to",
    "antwort an",
    "répondre à",
    "rispondi a",
    "responder a",
    "importance",
    "wichtigkeit",
    "priorité",
];

/// The key and value of a `Key: value` line (`*From:* …`, `De : …`, a tab after the colon).
fn key_value(line: &str) -> Option<(String, &str)> {
    let t = line.trim().trim_start_matches('*').trim_start();
    if t.len() > MAX_LINE {
        return None;
    }
    let (colon, c) = t.char_indices().take(32).find(|&(_, c)| c == ':' || c == '：')?;
    let key = t.get(..colon)?.trim_end_matches(['*', ' ', '\u{a0}', '\t']);
    let value = t.get(colon + c.len_utf8()..)?.trim_start_matches('*').trim();
    let key: String = key
        .chars()
        .map(|c| match c {
            '\u{a0}' | '\u{202f}' | '\t' => ' ',
            '\u{2019}' => '\'',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_lowercase();
    let plausible = !key.is_empty() && key.split_whitespace().count() <= 3 && !key.contains(['<', '>', '@', '/']);
    plausible.then_some((key, value))
}

/// The forward-block header a line names, with its value.
fn field(line: &str) -> Option<(Field, &str)> {
    let (key, value) = key_value(line)?;
    let family = if FROM_KEYS.contains(&key.as_str()) {
        Field::From
    } else if DATE_KEYS.contains(&key.as_str()) {
        Field::Date
    } else if SUBJECT_KEYS.contains(&key.as_str()) {
        Field::Subject
    } else if OTHER_KEYS.contains(&key.as_str()) {
        Field::Other
    } else {
        return None;
    };
    Some((family, value))
}

/// The header block at the top of `lines` and the text below it: the original, when
/// its "From" names an address.
fn read_block(lines: &[&str]) -> Option<Original> {
    // Apple Mail (and some others) quote the forwarded mail with `>` in plain text.
    let first = lines.iter().take(MAX_BLANKS + 1).find(|l| !l.trim().is_empty())?;
    let quoted = first.trim_start().starts_with('>');
    let lines: Vec<&str> = if quoted { lines.iter().map(|l| unquote_once(l)).collect() } else { lines.to_vec() };
    let (mut from, mut date, mut subject) = (None::<String>, None::<String>, None::<String>);
    let mut last: Option<Field> = None;
    let mut headers = 0;
    let mut j = 0;
    while let Some(raw) = lines.get(j) {
        let line = raw.trim();
        if line.is_empty() {
            if headers > 0 || j >= MAX_BLANKS {
                break;
            }
            j += 1;
            continue;
        }
        match field(line) {
            Some((f, value)) => {
                let slot = match f {
                    Field::From => Some(&mut from),
                    Field::Date => Some(&mut date),
                    Field::Subject => Some(&mut subject),
                    Field::Other => None,
                };
                if let Some(slot) = slot.filter(|s| s.is_none()) {
                    *slot = Some(value.to_string());
                }
                last = Some(f);
                headers += 1;
            }
            // A folded value: the rest of the previous header.
            None if headers > 0 && (raw.starts_with([' ', '\t']) || (last == Some(Field::Other) && line.contains('@'))) => {
                let slot = match last {
                    Some(Field::From) => from.as_mut(),
                    Some(Field::Subject) => subject.as_mut(),
                    _ => None,
                };
                if let Some(s) = slot {
                    s.push(' ');
                    s.push_str(line);
                }
            }
            None => break,
        }
        j += 1;
    }
    let (address, name) = sender(from.as_deref()?)?;
    let body = lines.get(j..).unwrap_or_default().join("\n");
    Some(Original {
        from: address,
        name,
        subject: subject.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        date: date.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
        text: quote::new_text(&body),
        attachments: Vec::new(),
        message_id: None,
    })
}

/// The address and display name in a forward block's "From" value: `Name <addr>`,
/// `"Doe, Jane" <addr>`, `Name [mailto:addr]`, `Name <addr<mailto:addr>>`, or a bare address.
pub fn sender(value: &str) -> Option<(String, Option<String>)> {
    let bracket = value.find(['<', '[']);
    let inside = bracket.and_then(|b| value.get(b + 1..)).map(|rest| {
        let rest = rest.trim_start();
        let rest = rest.strip_prefix("mailto:").or_else(|| rest.strip_prefix("MAILTO:")).unwrap_or(rest);
        rest.split(['<', '>', ']', ' ']).next().unwrap_or_default()
    });
    let address = inside.filter(|a| is_address(a)).map(str::to_string).or_else(|| {
        value
            .split(|c: char| c.is_whitespace() || "<>[]()\"',;".contains(c))
            .map(|t| t.strip_prefix("mailto:").unwrap_or(t))
            .find(|t| is_address(t))
            .map(str::to_string)
    })?;
    let name = bracket
        .and_then(|b| value.get(..b))
        .map(|n| n.trim().trim_matches(['"', '\'']).trim().to_string())
        .filter(|n| !n.is_empty() && !n.contains('@'));
    Some((address.to_ascii_lowercase(), name))
}

/// True for a well-formed mail address: a local part of allowed characters, a domain
/// of at least two labels with an alphabetic top-level label.
pub fn is_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

/// True when `address` could be a person's: well-formed, and not a machine's
/// (`mailer-daemon`, `postmaster`, `no-reply`, `bounces` …): an acknowledgement must
/// not go to an address nobody reads.
pub fn plausible(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or_default().to_ascii_lowercase();
    let machine = ["mailer-daemon", "postmaster", "bounce", "bounces", "abuse"].contains(&local.as_str())
        || ["no-reply", "noreply", "donotreply", "do-not-reply", "bounce"].iter().any(|p| local.starts_with(p))
        || local.ends_with("-bounces");
    is_address(address) && !machine
}

fn unquote_once(line: &str) -> &str {
    let t = line.trim_start();
    match t.strip_prefix('>') {
        Some(rest) => rest.strip_prefix(' ').unwrap_or(rest),
        None => line,
    }
}

/// Right-trims lines, collapses blank runs, drops rule lines at the end, trims the whole.
fn tidy<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    let mut kept: Vec<&str> = lines.map(str::trim_end).collect();
    while kept.last().is_some_and(|l| l.trim().is_empty() || quote::is_rule_line_text(l)) {
        kept.pop();
    }
    let mut out = String::new();
    let mut blank = false;
    for line in kept {
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank {
                out.push('\n');
            }
        }
        out.push_str(if out.is_empty() { line.trim_start() } else { line });
        blank = false;
    }
    out
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn clamp(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests;
