//! Attribution lines: the line a client writes above the quote it keeps
//! (`On … wrote:`, `Am … schrieb …:`, `2026-03-03 10:00 GMT+01:00 Ann <a@x>:`,
//! `---- On … wrote ----`, `…写道：`), in the languages the big clients ship,
//! also wrapped over two or three lines and after the writer's own words on
//! the same line.
//!
//! The rules, each a shape rather than a string:
//! - a "wrote" word (in one of the languages below) closing the line, or inside
//!   it (Thunderbird's `Ann kirjoitti 3.3.2026 klo 10.00:`), when the line names an
//!   earlier mail: a date or time, an address, or the `>` lines right below it (how
//!   the line opens is no evidence: `On startup the installer wrote:` is prose);
//! - Gmail's locale-neutral form: a date or time, then an address closing the line;
//! - the CJK forms (`写道`, `寫道`, `のメッセージ`, `님이 작성`, `2026年3月3日 … :`);
//! - Zoho's dashed form `---- On … wrote ----`.

use super::{Line, next_nonblank, normalise};

/// How a line opens when it starts an attribution (lower case).
const ATTRIBUTION_STARTS: &[&str] =
    &["on ", "am ", "le ", "il ", "el ", "op ", "den ", "på ", "em ", "w dniu ", "dnia ", "dne ", "às ", "* "];

/// A "wrote" word closing an attribution, lower case, without a trailing `(a)`.
const WROTE_WORDS: &[&str] = &[
    "wrote",
    "writes",
    "a écrit",
    "ha scritto",
    "escribió",
    "escribio",
    "schrieb",
    "geschrieben",
    "schreef",
    "geschreven",
    "skrev",
    "escreveu",
    "napisał",
    "napisała",
    "napisal",
    "pisze",
    "kirjoitti",
    "írta",
    "написал",
    "написала",
    "пишет",
    "пише",
    "napsal",
    "napsala",
    "yazdı",
];

/// A "wrote" word in the middle of an attribution (the date or address follows it).
const WROTE_INSIDE: &[&str] =
    &[" schrieb ", " schreef ", " skrev ", " a écrit ", " ha scritto ", " escribió ", " wrote ", " kirjoitti ", " yazdı ", " escreveu "];

/// CJK endings of an attribution (before the colon).
const CJK_WROTE: &[&str] = &["写道", "寫道", "のメッセージ", "のメール", "書きました", "작성"];

pub(super) fn starts_attribution(n: &str) -> bool {
    ATTRIBUTION_STARTS.iter().any(|p| n.starts_with(p))
}

/// `s` without a trailing `(a)`/`(а)` (Polish, Czech, Russian "wrote" for either gender).
fn without_gender(s: &str) -> &str {
    s.strip_suffix("(a)").or_else(|| s.strip_suffix("(а)")).unwrap_or(s).trim_end()
}

/// A time or a numeric date: a digit, `:` or `.`, two digits (`10:00`, `10.00`, `3.2026`).
pub(super) fn has_date_or_time(s: &str) -> bool {
    s.as_bytes()
        .windows(4)
        .any(|w| w[0].is_ascii_digit() && (w[1] == b':' || w[1] == b'.') && w[2].is_ascii_digit() && w[3].is_ascii_digit())
}

/// `body` ends with an address in brackets (`<a@x>`, `(a@x)`), as clients write the sender.
fn ends_with_address(body: &str) -> bool {
    body.ends_with(['>', ')'])
        && body.trim_end_matches(['>', ')', ' ']).rsplit([' ', '<', '(']).next().is_some_and(|w| w.contains('@') && !w.ends_with('@'))
}

/// Whether `n` (normalised, possibly several joined lines) reads as an attribution.
pub(super) fn is_attribution_text(n: &str, next_quoted: bool) -> bool {
    let Some(body) = n.strip_suffix(':').or_else(|| n.strip_suffix('：')) else { return false };
    let body = body.trim_end();
    if CJK_WROTE.iter().any(|w| body.ends_with(w)) {
        return true;
    }
    // Japanese Gmail: `2026年3月3日(火) 10:00 Ann <ann@example.com>:`
    if body.starts_with(|c: char| c.is_ascii_digit()) && body.contains('年') && body.contains('月') {
        return true;
    }
    // Evidence that the line names an earlier mail: its date or time, its sender's
    // address, or the quote right below it. How the line opens is not enough: "On
    // startup the installer wrote:" and "Le serveur a écrit :" introduce the writer's
    // own words.
    let dated = has_date_or_time(body);
    let evidence = next_quoted || dated || body.contains('@');
    let bare = without_gender(body);
    if WROTE_WORDS.iter().any(|w| bare.ends_with(w)) && evidence {
        return true;
    }
    if evidence && WROTE_INSIDE.iter().any(|w| body.contains(w)) {
        return true;
    }
    // Gmail in any locale: `<date> <time>, Name <address>:`.
    if dated && ends_with_address(body) {
        return true;
    }
    // Any other `…<address>…:` line introducing a quote (mutt `* Ann <a@x> [date]:`, unknown languages).
    next_quoted && (body.contains('@') || (n.starts_with("* ") && body.contains('[')))
}

/// Zoho's `---- On … wrote ----`: an attribution between dashes.
fn is_dashed_attribution(n: &str) -> bool {
    if n.len() < 12 || !n.starts_with("--") || !n.ends_with("--") {
        return false;
    }
    let inner = n.trim_matches(|c: char| c == '-' || c == ' ');
    !inner.is_empty() && is_attribution_text(&format!("{inner}:"), false)
}

/// Whether line `i + 1` could continue the attribution begun on line `i`.
fn may_open(n: &str) -> bool {
    if n.ends_with(['!', '?']) || (n.ends_with('.') && !n.contains(|c: char| c.is_ascii_digit())) {
        return false;
    }
    starts_attribution(n) || n.starts_with(|c: char| c.is_ascii_digit()) || has_date_or_time(n) || n.ends_with('<') || n.contains('@')
}

/// An attribution found at a line.
pub(super) struct Found<'a> {
    /// How many lines it spans (1 to 3).
    pub(super) span: usize,
    /// The writer's words before it on its first line, if any.
    pub(super) keep: Option<&'a str>,
}

/// An attribution starts at line `i`.
pub(super) fn attribution<'a>(lines: &[Line<'a>], i: usize) -> Option<Found<'a>> {
    let line = lines.get(i)?;
    let n = line.norm.as_str();
    if n.is_empty() || line.quoted {
        return None;
    }
    let next_quoted = next_nonblank(lines, i + 1).and_then(|j| lines.get(j)).is_some_and(|l| l.quoted);
    if !starts_attribution(n)
        && let Some(keep) = after_words(line.raw, next_quoted)
    {
        return Some(Found { span: 1, keep: Some(keep) });
    }
    if is_attribution_text(n, next_quoted) || is_dashed_attribution(n) {
        return Some(Found { span: 1, keep: None });
    }
    wrapped(lines, i).map(|span| Found { span, keep: None })
}

/// Wrapped by the client: `On … Ann <` / `ann@example.com> wrote:`; returns the span.
fn wrapped(lines: &[Line], i: usize) -> Option<usize> {
    let n = lines.get(i)?.norm.as_str();
    if !may_open(n) {
        return None;
    }
    let mut joined = n.to_string();
    for k in 1..=2 {
        let next = lines.get(i + k)?;
        // A line that opens an attribution itself is not this one's continuation.
        if next.norm.is_empty() || next.quoted || next.norm.len() > 200 || (k == 1 && starts_attribution(&next.norm)) {
            return None;
        }
        joined.push(' ');
        joined.push_str(&next.norm);
        if joined.contains(|c: char| c.is_ascii_digit()) && is_attribution_text(&joined, false) {
            return Some(k + 1);
        }
    }
    None
}

/// The writer's words before an attribution on the same line (`Thanks! On … wrote:`).
fn after_words(raw: &str, next_quoted: bool) -> Option<&str> {
    let raw = raw.trim_end();
    if !raw.ends_with([':', '：']) {
        return None;
    }
    for (p, _) in raw.match_indices(['.', '!', '?']).take(8) {
        let Some(rest) = raw.get(p + 1..).and_then(|r| r.strip_prefix(' ')) else { continue };
        let n = normalise(rest);
        if starts_attribution(&n) && is_attribution_text(&n, next_quoted) {
            return raw.get(..=p);
        }
    }
    None
}
