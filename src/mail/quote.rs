//! Cutting quoted history from a reply, keeping what the writer added.
//!
//! Pure and total: every input, however malformed, gives a string in time
//! linear in its size (inputs beyond a cap are truncated first), and nothing
//! here panics.
//!
//! Recognised (plain text, see [`new_text`]):
//! - Outlook separators (`-----Original Message-----` and its German, French,
//!   Italian, Spanish, Dutch, Nordic, Portuguese, Polish, CJK forms), the
//!   underscore line, and the `From:/Sent:` header block in English, German,
//!   French, Italian, Spanish and more (a "From" word followed within three
//!   lines by a "Sent"/date word);
//! - attributions of Gmail, Apple Mail, Thunderbird and mutt (`On … wrote:`,
//!   `Am … schrieb …:`, `Le … a écrit :`, `Il … ha scritto:`, `El … escribió:`,
//!   `Op … schreef …:`, `Den … skrev …:`, `… のメッセージ:`, `…写道：`, `…寫道：`,
//!   `* Ann <a@x> [date]:`), also wrapped over two or three lines;
//! - `>` quoting, bottom-posted or inline (new lines between quotes are kept);
//! - signatures after `-- ` (or `--`) and mobile footers (`Sent from my iPhone`, …);
//! - forward markers (`---------- Forwarded message ---------`,
//!   `Begin forwarded message:` and their translations).
//!
//! A mail with no new text (a pure quote or forward) keeps the quoted or
//! forwarded content, without one level of `>` markers.
//!
//! HTML-only mail goes through [`new_text_from_html`].

mod html;
#[cfg(test)]
mod tests;

/// Plain text beyond this many bytes is not looked at (the writer's text is at the top).
const MAX_TEXT_BYTES: usize = 8 << 20;
/// Lines longer than this are never markers or attributions.
const MAX_MARKER_LEN: usize = 400;
/// How many blank lines may separate an attribution from its quote.
const MAX_BLANK_LOOKAHEAD: usize = 10;

/// The writer's new text: what they wrote above (or between) the quoted history, trimmed.
///
/// Lines are right-trimmed, runs of blank lines collapse to one. When nothing is
/// left (a pure forward or quote), the forwarded or quoted content is returned
/// instead, with one level of `>` removed; failing that, the whole text tidied.
pub fn new_text(text: &str) -> String {
    cut(text).text
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
    html::new_text(html)
}

/// The result of a cut: the text, and whether it is the writer's own (not a fallback).
struct Cut {
    text: String,
    fresh: bool,
}

fn cut(text: &str) -> Cut {
    let text = clamp(text, MAX_TEXT_BYTES);
    let unified;
    let text = if text.contains('\r') {
        unified = text.replace("\r\n", "\n").replace('\r', "\n");
        unified.as_str()
    } else {
        text
    };
    let lines: Vec<Line> = text.split('\n').map(Line::new).collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        if line.quoted {
            i += 1;
            continue;
        }
        if hard_stop(&lines, i) {
            break;
        }
        if let Some(span) = attribution(&lines, i) {
            let after = i + span;
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
    let fresh = tidy(kept);
    if !fresh.is_empty() {
        return Cut { text: fresh, fresh: true };
    }
    Cut { text: fallback(&lines), fresh: false }
}

/// The content of a mail that has no new text: what is below its first quote
/// or forward marker, with one level of `>` removed; else the whole text.
fn fallback(lines: &[Line]) -> String {
    for (i, line) in lines.iter().enumerate() {
        let start = if line.quoted || header_block_at(lines, i) {
            Some(i)
        } else if is_outlook_separator(&line.norm) || is_forward_marker(&line.norm) || outlook_underscores_at(lines, i) {
            Some(i + 1)
        } else {
            attribution(lines, i).map(|span| i + span)
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
        let quoted = trimmed.starts_with('>');
        // Long lines are prose or data, never markers: don't bother normalising them.
        let norm = if trimmed.len() > MAX_MARKER_LEN { String::new() } else { normalise(trimmed) };
        Line { raw, norm, quoted }
    }

    fn blank(&self) -> bool {
        self.raw.trim().is_empty()
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

/// Everything from line `i` on is not the writer's new text.
fn hard_stop(lines: &[Line], i: usize) -> bool {
    let Some(line) = lines.get(i) else { return false };
    is_signature(line.raw)
        || is_mobile_footer(&line.norm)
        || is_outlook_separator(&line.norm)
        || is_forward_marker(&line.norm)
        || header_block_at(lines, i)
        || outlook_underscores_at(lines, i)
}

fn is_signature(raw: &str) -> bool {
    raw.trim_end() == "--"
}

const MOBILE_FOOTERS: &[&str] = &[
    "sent from my ",
    "sent from outlook",
    "sent from mail for windows",
    "sent from yahoo mail",
    "sent from samsung",
    "get outlook for ",
    "envoyé de mon ",
    "envoyé depuis mon ",
    "envoyé à partir de ",
    "télécharger outlook pour ",
    "outlook für ",
    "inviato da ",
    "inviato dal mio ",
    "scarica outlook per ",
    "enviado desde mi ",
    "enviado desde ",
    "obtener outlook para ",
    "enviado do meu ",
    "verzonden vanaf mijn ",
    "verstuurd vanaf mijn ",
    "skickat från min ",
    "sendt fra min ",
    "从我的iphone发送",
    "iphoneから送信",
];

fn is_mobile_footer(n: &str) -> bool {
    if n.is_empty() || n.len() > 80 || n.split_whitespace().count() > 6 {
        return false;
    }
    (n.starts_with("von meinem ") && n.trim_end_matches('.').ends_with("gesendet")) || MOBILE_FOOTERS.iter().any(|p| n.starts_with(p))
}

/// The text between the dashes of a `----- Phrase -----` line, if it is one.
fn dashed_phrase(n: &str) -> Option<&str> {
    if n.len() > 120 || !(n.starts_with("--") || n.starts_with("==") || n.starts_with("__")) {
        return None;
    }
    Some(n.trim_matches(|c: char| c == '-' || c == '=' || c == '_' || c == ' ').trim_end_matches([':', '：']).trim())
}

const ORIGINAL_MESSAGE: &[&str] = &[
    "original message",
    "ursprüngliche nachricht",
    "message d'origine",
    "messaggio originale",
    "mensaje original",
    "oorspronkelijk bericht",
    "originalmeddelande",
    "opprinnelig melding",
    "oprindelig meddelelse",
    "mensagem original",
    "wiadomość oryginalna",
    "alkuperäinen viesti",
    "原始邮件",
    "原始郵件",
    "元のメッセージ",
];

fn is_outlook_separator(n: &str) -> bool {
    dashed_phrase(n).is_some_and(|p| ORIGINAL_MESSAGE.contains(&p))
}

const FORWARD_DASHED: &[&str] = &[
    "forwarded message",
    "forward message",
    "weitergeleitete nachricht",
    "message transféré",
    "message transfere",
    "messaggio inoltrato",
    "mensaje reenviado",
    "doorgestuurd bericht",
    "mensagem encaminhada",
    "videresendt melding",
    "videresendt meddelelse",
    "vidarebefordrat meddelande",
    "wiadomość przekazana dalej",
    "转发的邮件",
    "轉寄的郵件",
    "転送されたメッセージ",
];

const FORWARD_COLON: &[&str] = &[
    "begin forwarded message",
    "anfang der weitergeleiteten nachricht",
    "anfang der weitergeleiteten e-mail",
    "début du message réexpédié",
    "début du message transféré",
    "inizio messaggio inoltrato",
    "inicio del mensaje reenviado",
    "comienzo del mensaje reenviado",
    "begin doorgestuurd bericht",
    "início da mensagem reencaminhada",
    "início da mensagem encaminhada",
    "以下为转发的邮件",
    "転送されたメッセージ",
];

fn is_forward_marker(n: &str) -> bool {
    if let Some(p) = dashed_phrase(n) {
        return FORWARD_DASHED.contains(&p);
    }
    match n.strip_suffix(':').or_else(|| n.strip_suffix('：')) {
        Some(p) => FORWARD_COLON.contains(&p.trim()),
        None => false,
    }
}

const FROM_WORDS: &[&str] =
    &["from", "von", "de", "da", "van", "från", "fra", "od", "lähettäjä", "feladó", "от", "kimden", "发件人", "寄件者", "差出人"];

const SENT_WORDS: &[&str] = &[
    "sent",
    "date",
    "gesendet",
    "datum",
    "envoyé",
    "envoye",
    "inviato",
    "data",
    "enviado",
    "enviada",
    "fecha",
    "verzonden",
    "skickat",
    "sendt",
    "wysłano",
    "lähetetty",
    "elküldve",
    "отправлено",
    "дата",
    "gönderildi",
    "tarih",
    "发送时间",
    "日期",
    "寄件日期",
    "送信日時",
];

/// The header name of a `Name: value` line (`*From:*` and `De :` allowed), lower case.
fn header_key(n: &str) -> Option<&str> {
    let n = n.trim_start_matches(['*', ' ']);
    let (colon, _) = n.char_indices().take(32).find(|&(_, c)| c == ':' || c == '：')?;
    let key = n.get(..colon)?.trim_end_matches(['*', ' ']);
    (!key.is_empty()).then_some(key)
}

/// An Outlook-style header block starts at line `i`: a "From" line and, within
/// the next three lines, a "Sent"/date line.
fn header_block_at(lines: &[Line], i: usize) -> bool {
    let is_from = lines.get(i).and_then(|l| header_key(&l.norm)).is_some_and(|k| FROM_WORDS.contains(&k));
    is_from
        && (i + 1..=i + 3)
            .any(|k| lines.get(k).filter(|l| !l.quoted).and_then(|l| header_key(&l.norm)).is_some_and(|key| SENT_WORDS.contains(&key)))
}

/// Outlook's `____…` line right before a header block.
fn outlook_underscores_at(lines: &[Line], i: usize) -> bool {
    let Some(line) = lines.get(i) else { return false };
    let n = line.norm.as_str();
    n.len() >= 8 && n.chars().all(|c| c == '_') && (i + 1..=i + 3).any(|k| header_block_at(lines, k))
}

const ATTRIBUTION_STARTS: &[&str] = &["on ", "am ", "le ", "il ", "el ", "op ", "den ", "på ", "em ", "w dniu ", "dne ", "* "];

const WROTE_WORDS: &[&str] = &[
    "wrote",
    "writes",
    "a écrit",
    "ha scritto",
    "escribió",
    "escribio",
    "schrieb",
    "schreef",
    "skrev",
    "escreveu",
    "napisał",
    "napisal",
    "kirjoitti",
    "írta",
    "написал",
    "napsal",
    "yazdı",
];

const WROTE_INSIDE: &[&str] = &[" schrieb ", " schreef ", " skrev ", " a écrit ", " ha scritto ", " escribió ", " wrote "];

const CJK_WROTE: &[&str] = &["写道", "寫道", "のメッセージ", "書きました", "작성"];

fn starts_attribution(n: &str) -> bool {
    ATTRIBUTION_STARTS.iter().any(|p| n.starts_with(p))
}

/// Whether `n` (normalised, possibly several joined lines) reads as an attribution.
fn is_attribution_text(n: &str, next_quoted: bool) -> bool {
    let Some(body) = n.strip_suffix(':').or_else(|| n.strip_suffix('：')) else { return false };
    let body = body.trim_end();
    if CJK_WROTE.iter().any(|w| body.ends_with(w)) {
        return true;
    }
    // Japanese Gmail: `2026年3月3日(火) 10:00 Ann <ann@example.com>:`
    if body.starts_with(|c: char| c.is_ascii_digit()) && body.contains('年') && body.contains('月') {
        return true;
    }
    let starts = starts_attribution(n);
    if WROTE_WORDS.iter().any(|w| body.ends_with(w)) && (starts || next_quoted) {
        return true;
    }
    if starts && WROTE_INSIDE.iter().any(|w| body.contains(w)) {
        return true;
    }
    // Any other `…<address>…:` line introducing a quote (mutt `* Ann <a@x> [date]:`, unknown languages).
    next_quoted && (body.contains('@') || (n.starts_with("* ") && body.contains('[')))
}

/// An attribution starts at line `i`; returns how many lines it spans (1 to 3).
fn attribution(lines: &[Line], i: usize) -> Option<usize> {
    let line = lines.get(i)?;
    let n = line.norm.as_str();
    if n.is_empty() || line.quoted {
        return None;
    }
    let next_quoted = next_nonblank(lines, i + 1).and_then(|j| lines.get(j)).is_some_and(|l| l.quoted);
    if is_attribution_text(n, next_quoted) {
        return Some(1);
    }
    // Wrapped by the client: `On … Ann <` / `ann@example.com> wrote:`.
    if !starts_attribution(n) || n.ends_with(['.', '!', '?']) {
        return None;
    }
    let mut joined = n.to_string();
    for k in 1..=2 {
        let next = lines.get(i + k)?;
        if next.norm.is_empty() || next.quoted {
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
