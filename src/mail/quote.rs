//! Cutting quoted history from a reply, keeping what the writer added.
//!
//! Pure and total: every input, however malformed, gives a string in time
//! linear in its size (inputs beyond a cap are truncated first), and nothing
//! here panics.
//!
//! Recognised (plain text, see [`new_text`]); each rule is named by a [`Rule`]:
//! - [`Rule::Separator`]: Outlook separators (`-----Original Message-----`,
//!   `-----Reply Message-----`, `-----Antwort Nachricht-----` and the German,
//!   French, Italian, Spanish, Dutch, Nordic, Portuguese, Polish, Czech,
//!   Russian, Turkish, Korean, CJK forms, with `-`, `=`, `_` or `*` decorations),
//!   and a `____…`/`-----…` line before a header block;
//! - [`Rule::HeaderBlock`]: a `From:/Sent:` header block in many languages, or any
//!   three header lines in a row with a "From" and a date or subject, in any
//!   order (`Date:` first, GMX's `Gesendet:` first, French Hotmail's `Envoyé le :`,
//!   `Message du :`), see [`markers`];
//! - [`Rule::Attribution`]: attributions (`On … wrote:`, `Am … schrieb …:`,
//!   Gmail's `2026-03-03 10:00 GMT+01:00 Ann <a@x>:` in any locale, Dutch,
//!   Polish, Cyrillic, Nordic, Finnish, Portuguese, Czech, Turkish, CJK and
//!   Korean forms, Zoho's `---- On … wrote ----`), also wrapped over two or
//!   three lines and after the writer's words on the same line, see [`attribution`];
//! - [`Rule::QuotePrefix`]: `>` quoting, bottom-posted or inline (new lines between
//!   quotes are kept), Supercite initials (`AB> `, when at least two lines carry
//!   them), and unmarked continuations of a long quoted line (a wrapped quote
//!   line, a broken link); `>>> text <<<` and long `>>>>` runs are the writer's;
//! - [`Rule::Signature`]: signatures after `-- ` (or `--`) and mobile footers
//!   (`Sent from my iPhone`, …);
//! - [`Rule::Forward`]: forward markers (`---------- Forwarded message ---------`,
//!   `Begin forwarded message:` and their translations);
//! - [`Rule::ListFooter`]: a mailing list's footer (an underscore line, then a
//!   line naming the list).
//!
//! A separator line left right above the cut is dropped with it. A mail with no
//! new text (a pure quote or forward) keeps the quoted or forwarded content,
//! without one level of `>` markers.
//!
//! HTML-only mail goes through [`new_text_from_html`].

mod attribution;
mod html;
mod markers;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_world;

use attribution::attribution;
use markers::{hard_stop, header_block_at, is_forward_marker, is_outlook_separator, is_rule_line, rule_before_header_block};

/// Plain text beyond this many bytes is not looked at (the writer's text is at the top).
const MAX_TEXT_BYTES: usize = 8 << 20;
/// Nor beyond this many lines: the scan keeps about 50 bytes per line, so a text of
/// nothing but line breaks would otherwise cost fifty times its size.
const MAX_TEXT_LINES: usize = 100_000;
/// Lines longer than this are never markers or attributions.
const MAX_MARKER_LEN: usize = 400;
/// How many blank lines may separate an attribution from its quote.
const MAX_BLANK_LOOKAHEAD: usize = 10;
/// A quoted line at least this long (chars) may have been wrapped by the client.
const WRAP_WIDTH: usize = 60;
/// The longest unmarked line read as the wrapped rest of a quoted line.
const MAX_WRAP_REST: usize = 40;

/// Which rule cut the quoted history from a reply (`quote_cut` in `mail inspect --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// An attribution line (`On … wrote:` and its forms).
    Attribution,
    /// A quoted header block (`From:/Sent:`, `De :/Envoyé le :`, `Date:/From:` …).
    HeaderBlock,
    /// A separator (`-----Original Message-----`, `____…` before a header block).
    Separator,
    /// A forward marker (`---------- Forwarded message ---------`).
    Forward,
    /// Lines quoted with `>` (or `AB>`), and their unmarked wrapped rests.
    QuotePrefix,
    /// A mailing list's footer.
    ListFooter,
    /// A signature (`-- `) or a mobile footer (`Sent from my iPhone`).
    Signature,
    /// Quoted history recognised by HTML structure (`blockquote`, `gmail_quote`, `divRplyFwdMsg` …;
    /// also a signature marked by its class, `gmail_signature`, `moz-signature`).
    HtmlQuote,
}

impl Rule {
    /// The rule's name as `mail inspect --json` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Attribution => "attribution",
            Rule::HeaderBlock => "header_block",
            Rule::Separator => "separator",
            Rule::Forward => "forward",
            Rule::QuotePrefix => "quote_prefix",
            Rule::ListFooter => "list_footer",
            Rule::Signature => "signature",
            Rule::HtmlQuote => "html_quote",
        }
    }
}

/// The writer's new text and the rule that cut the history from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The new text, as [`new_text`] gives it.
    pub text: String,
    /// The first rule that cut something, `None` when nothing was cut.
    pub rule: Option<Rule>,
}

/// The writer's new text: what they wrote above (or between) the quoted history, trimmed.
///
/// Lines are right-trimmed, runs of blank lines collapse to one. When nothing is
/// left (a pure forward or quote), the forwarded or quoted content is returned
/// instead, with one level of `>` removed; failing that, the whole text tidied.
pub fn new_text(text: &str) -> String {
    scan(text).text
}

/// [`new_text`] with the rule that cut the history.
pub fn cut_text(text: &str) -> Cut {
    let s = scan(text);
    Cut { text: s.text, rule: s.rule }
}

/// The writer's new text of an HTML-only mail, as plain text.
///
/// Drops quoted history by structure (`<blockquote>`, Gmail's `gmail_quote`,
/// Outlook's `divRplyFwdMsg` and everything after it, `appendonsend`,
/// Thunderbird's `moz-cite-prefix`, signatures marked as such), drops `<head>`,
/// `<style>`, `<script>`, renders the rest as text (blocks and `<br>` as line
/// breaks, `<li>` as `- `, entities decoded, whitespace collapsed) and applies
/// [`new_text`] to the result. When that leaves nothing, the whole mail is
/// rendered with blockquotes as `>` lines and given to [`new_text`], so a pure
/// forward keeps its content.
pub fn new_text_from_html(html: &str) -> String {
    html::cut(html).text
}

/// [`new_text_from_html`] with the rule that cut the history.
pub fn cut_html(html: &str) -> Cut {
    html::cut(html)
}

/// True when `line` is a forward marker (`---------- Forwarded message ---------`,
/// `-------- Weitergeleitete Nachricht --------`, `Begin forwarded message:`,
/// `Début du message réexpédié :` and the other forms the cutter knows).
pub fn is_forward_marker_line(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.len() <= MAX_MARKER_LEN && is_forward_marker(&normalise(trimmed))
}

/// True when `line` is an Outlook separator (`-----Original Message-----`,
/// `-----Ursprüngliche Nachricht-----`, `-----Message d'origine-----` …).
pub fn is_original_message_line(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.len() <= MAX_MARKER_LEN && is_outlook_separator(&normalise(trimmed))
}

/// True when `line` is a rule (at least eight `_`, `-` or `=` and nothing else),
/// as Outlook puts above the header block of a forwarded or quoted mail.
pub fn is_rule_line_text(line: &str) -> bool {
    is_rule_line(line.trim())
}

/// The result of a scan: the text, the rule that cut, and whether the text is
/// the writer's own (not a fallback).
struct Scan {
    text: String,
    rule: Option<Rule>,
    fresh: bool,
}

fn scan(text: &str) -> Scan {
    let text = clamp_lines(clamp(text, MAX_TEXT_BYTES), MAX_TEXT_LINES);
    let unified;
    let text = if text.contains('\r') {
        unified = text.replace("\r\n", "\n").replace('\r', "\n");
        clamp_lines(&unified, MAX_TEXT_LINES)
    } else {
        text
    };
    let mut lines: Vec<Line> = Vec::with_capacity(memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1);
    lines.extend(text.split('\n').map(Line::new));
    mark_supercite(&mut lines);
    mark_wrapped_rests(&mut lines);
    let mut kept: Vec<&str> = Vec::new();
    let mut rule = None;
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        if line.quoted {
            rule = rule.or(Some(Rule::QuotePrefix));
            i += 1;
            continue;
        }
        if let Some(stop) = hard_stop(&lines, i) {
            rule = rule.or(Some(stop));
            break;
        }
        if let Some(found) = attribution(&lines, i) {
            rule = rule.or(Some(Rule::Attribution));
            kept.extend(found.keep);
            let after = i + found.span;
            match next_nonblank(&lines, after) {
                Some(j) if lines.get(j).is_some_and(|l| l.quoted) => {
                    // Followed by `>` lines: drop it and them, keep any inline answers.
                    i = after;
                    continue;
                }
                // Followed by unmarked history (or nothing): everything from here is old.
                _ => break,
            }
        }
        kept.push(line.raw);
        i += 1;
    }
    if rule.is_some() {
        // A separator line left right above the cut goes with it.
        while kept.last().is_some_and(|l| l.trim().is_empty() || is_rule_line(l.trim())) {
            kept.pop();
        }
    }
    let fresh = tidy(kept);
    if !fresh.is_empty() {
        return Scan { text: fresh, rule, fresh: true };
    }
    Scan { text: fallback(&lines), rule, fresh: false }
}

/// The content of a mail that has no new text: what is below its first quote
/// or forward marker, with one level of `>` removed; else the whole text.
fn fallback(lines: &[Line]) -> String {
    for (i, line) in lines.iter().enumerate() {
        let start = if line.quoted || header_block_at(lines, i) {
            Some(i)
        } else if is_outlook_separator(&line.norm) || is_forward_marker(&line.norm) || rule_before_header_block(lines, i) {
            Some(i + 1)
        } else {
            attribution(lines, i).map(|found| i + found.span)
        };
        if let Some(start) = start {
            let body = tidy(lines.get(start..).unwrap_or(&[]).iter().map(|l| unquote_once(l.raw)));
            if !body.is_empty() {
                return body;
            }
            break;
        }
    }
    tidy(lines.iter().map(|l| l.raw))
}

/// One line, with a normalised form for matching (trimmed, lower case,
/// no-break spaces as spaces, typographic apostrophes as `'`).
struct Line<'a> {
    raw: &'a str,
    norm: String,
    quoted: bool,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str) -> Line<'a> {
        let trimmed = raw.trim();
        // Long lines are prose or data, never markers: don't bother normalising them.
        let norm = if trimmed.len() > MAX_MARKER_LEN { String::new() } else { normalise(trimmed) };
        Line { raw, norm, quoted: is_quote_marked(trimmed) }
    }

    fn blank(&self) -> bool {
        self.raw.trim().is_empty()
    }
}

/// A line quoted with `>`; not the writer's `>>> Note <<<` or a long `>>>>>>` divider.
fn is_quote_marked(trimmed: &str) -> bool {
    let opening = trimmed.bytes().take_while(|&b| b == b'>').count();
    let closing = trimmed.bytes().rev().take_while(|&b| b == b'<').count();
    let decorated = opening >= 2 && closing >= 2;
    let divider = trimmed.len() >= 20 && opening == trimmed.len();
    opening > 0 && !decorated && !divider
}

/// The Supercite prefix of a line (`AB> text`): one to three capital initials and `>`.
fn supercite_prefix(raw: &str) -> Option<&str> {
    let t = raw.trim_start();
    let end = t.bytes().take(4).position(|b| b == b'>')?;
    let prefix = t.get(..end)?;
    let after = t.as_bytes().get(end + 1);
    (end >= 1 && prefix.bytes().all(|b| b.is_ascii_uppercase()) && after.is_none_or(|b| *b == b' ' || *b == b'>')).then_some(prefix)
}

/// Lines quoted Supercite-style (`AB> `) when at least two lines carry the same prefix.
fn mark_supercite(lines: &mut [Line]) {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for line in lines.iter() {
        if let Some(p) = supercite_prefix(line.raw) {
            *counts.entry(p).or_default() += 1;
        }
    }
    if counts.is_empty() {
        return;
    }
    for line in lines.iter_mut() {
        if supercite_prefix(line.raw).is_some_and(|p| counts.get(p).is_some_and(|&c| c >= 2)) {
            line.quoted = true;
        }
    }
}

/// An unmarked line right below a long `>` line that ends mid-sentence is that
/// line's wrapped rest when it is short, stands alone (a quote, a blank line or
/// the end follows) and there is evidence that it continues the quote: the quote
/// line ends in a word no sentence ends in (an article, preposition or
/// conjunction), the rest is a single word after a broken link, or the rest
/// finishes a sentence in lower case with the quote going on right below it.
/// Without such evidence the line is the writer's: an inline answer (`sure,
/// attached`) right under a question must never be lost.
/// Words no sentence ends in (articles, prepositions, conjunctions) in the five
/// languages of the rules.
const NO_SENTENCE_ENDS_IN: &[&str] = &[
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by", "from", "as", "that", "your", "our", "but", "der",
    "die", "das", "den", "dem", "des", "und", "oder", "von", "zu", "im", "am", "an", "auf", "mit", "für", "ein", "eine", "le", "la", "les",
    "un", "une", "et", "ou", "de", "du", "des", "au", "aux", "en", "pour", "par", "sur", "avec", "il", "lo", "gli", "di", "da", "per",
    "con", "su", "el", "los", "las", "y", "del", "por", "para",
];

fn mark_wrapped_rests(lines: &mut [Line]) {
    for i in 1..lines.len() {
        let (Some(prev), Some(line)) = (lines.get(i - 1), lines.get(i)) else { continue };
        if !prev.quoted || line.quoted || line.blank() || !prev.raw.trim_start().starts_with('>') {
            continue;
        }
        if lines.get(i + 1).is_some_and(|next| !next.quoted && !next.blank()) {
            continue;
        }
        let quote = prev.raw.trim();
        let rest = line.raw.trim();
        if quote.chars().count() < WRAP_WIDTH || quote.ends_with(['.', '!', '?', ':', ';']) || rest.chars().count() > MAX_WRAP_REST {
            continue;
        }
        let lower = rest.starts_with(|c: char| c.is_lowercase());
        let broken_link = !rest.contains(char::is_whitespace) && quote.rsplit(' ').next().is_some_and(|w| w.contains("://"));
        let unfinished = quote.rsplit(' ').next().is_some_and(|w| NO_SENTENCE_ENDS_IN.contains(&w.to_lowercase().as_str()));
        let quote_goes_on = lines.get(i + 1).is_some_and(|next| next.quoted);
        let finishes_sentence = rest.contains(' ') && rest.ends_with(['.', '!', '?']) && quote_goes_on;
        if (broken_link || (lower && (unfinished || finishes_sentence)))
            && let Some(l) = lines.get_mut(i)
        {
            l.quoted = true;
        }
    }
}

fn normalise(s: &str) -> String {
    if !s.is_ascii() {
        return normalise_chars(s);
    }
    // The common case, byte by byte: the same result as `normalise_chars`.
    let mut out = s.to_ascii_lowercase();
    if out.contains('\t') {
        out = out.replace('\t', " ");
    }
    out.trim().to_string()
}

/// [`normalise`] for any text, char by char.
fn normalise_chars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{a0}' | '\u{202f}' | '\u{2007}' | '\t' => out.push(' '),
            '\u{2019}' | '\u{2018}' => out.push('\''),
            c => out.extend(c.to_lowercase()),
        }
    }
    out.trim().to_string()
}

/// Right-trims lines, collapses blank runs to one, trims the whole.
fn tidy<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in lines {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if out.is_empty() {
            out.push_str(line.trim_start());
        } else {
            out.push('\n');
            if blank {
                out.push('\n');
            }
            out.push_str(line);
        }
        blank = false;
    }
    out
}

fn unquote_once(line: &str) -> &str {
    let t = line.trim_start();
    match t.strip_prefix('>') {
        Some(rest) => rest.strip_prefix(' ').unwrap_or(rest),
        None => line,
    }
}

/// The first `max` lines of `s` (split at `\n`, at least one), without the break after the last.
fn clamp_lines(s: &str, max: usize) -> &str {
    match memchr::memchr_iter(b'\n', s.as_bytes()).nth(max.saturating_sub(1)) {
        Some(end) => s.get(..end).unwrap_or_default(),
        None => s,
    }
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

fn next_nonblank(lines: &[Line], from: usize) -> Option<usize> {
    (from..lines.len()).take(MAX_BLANK_LOOKAHEAD + 1).find(|&j| lines.get(j).is_some_and(|l| !l.blank()))
}
