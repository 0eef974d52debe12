//! HTML-only mail → plain text, without the quoted history.
//!
//! A small tag scanner, not a parser: it never fails, never panics, and looks
//! at each byte a bounded number of times (unclosed comments, quotes and
//! raw-text elements run to the end of the input).

use super::{Cut, Rule};

/// HTML beyond this many bytes is not looked at.
const MAX_HTML_BYTES: usize = 8 << 20;
/// Rendered text stops growing at this many bytes.
const MAX_RENDERED_BYTES: usize = 8 << 20;
/// Deeper blockquotes get no more `>` markers (bounds the output of deep nesting).
const MAX_QUOTE_PREFIX: usize = 8;

/// The new text of an HTML mail; the rule is [`Rule::HtmlQuote`] when the
/// structure dropped history, else what the text cut found.
pub(super) fn cut(html: &str) -> Cut {
    let html = super::clamp(html, MAX_HTML_BYTES);
    let (text, dropped) = render(html, Mode::Reply);
    let reply = super::scan(&text);
    let rule = if dropped { Some(Rule::HtmlQuote) } else { reply.rule };
    if reply.fresh {
        return Cut { text: reply.text, rule };
    }
    // Nothing new: a pure forward or quote. Keep its content, quotes marked with `>`.
    let full = super::scan(&render(html, Mode::Full).0);
    Cut { text: full.text, rule: rule.or(full.rule) }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Drop quoted history by structure.
    Reply,
    /// Keep everything visible; blockquotes become `>` lines.
    Full,
}

enum Tok<'a> {
    Text(&'a str),
    Start { name: String, attrs: &'a str, self_closing: bool },
    End { name: String },
}

struct Scanner<'a> {
    s: &'a str,
    pos: usize,
    /// Inside `<script>` or `<style>`: skip to the matching end tag.
    raw: Option<&'static str>,
}

fn find_from(s: &str, from: usize, pat: &str) -> Option<usize> {
    s.get(from..)?.find(pat).map(|p| p + from)
}

fn is_name_byte(b: u8) -> bool {
    !(b.is_ascii_whitespace() || b == b'/' || b == b'>')
}

impl<'a> Scanner<'a> {
    fn new(s: &'a str) -> Scanner<'a> {
        Scanner { s, pos: 0, raw: None }
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.s.as_bytes().get(i).copied()
    }

    /// Position of the first byte at or after `i` that is not a tag-name byte.
    fn name_end(&self, mut i: usize) -> usize {
        while self.byte(i).is_some_and(is_name_byte) {
            i += 1;
        }
        i
    }

    /// Skips a bogus tag or declaration: to just after the next `>`.
    fn skip_to_gt(&mut self, from: usize) {
        self.pos = find_from(self.s, from, ">").map_or(self.s.len(), |p| p + 1);
    }

    fn slice(&self, from: usize, to: usize) -> &'a str {
        self.s.get(from..to).unwrap_or_default()
    }

    fn next_tok(&mut self) -> Option<Tok<'a>> {
        let len = self.s.len();
        if let Some(name) = self.raw.take() {
            self.skip_raw(name);
        }
        loop {
            let start = self.pos;
            let first = self.byte(start)?;
            if first != b'<' {
                let end = find_from(self.s, start, "<").unwrap_or(len);
                self.pos = end;
                return Some(Tok::Text(self.slice(start, end)));
            }
            match self.byte(start + 1) {
                Some(b'!') => {
                    let rest = self.slice(start, len);
                    if rest.starts_with("<!--") {
                        self.pos = find_from(self.s, start + 4, "-->").map_or(len, |p| p + 3);
                    } else if rest.starts_with("<![CDATA[") {
                        self.pos = find_from(self.s, start + 9, "]]>").map_or(len, |p| p + 3);
                    } else {
                        self.skip_to_gt(start + 2);
                    }
                }
                Some(b'?') => self.skip_to_gt(start + 2),
                Some(b'/') if self.byte(start + 2).is_some_and(|b| b.is_ascii_alphabetic()) => {
                    let name_end = self.name_end(start + 2);
                    let name = self.slice(start + 2, name_end).to_ascii_lowercase();
                    self.skip_to_gt(name_end);
                    return Some(Tok::End { name });
                }
                Some(b'/') => self.skip_to_gt(start + 2),
                Some(b) if b.is_ascii_alphabetic() => return Some(self.start_tag(start)),
                _ => {
                    self.pos = start + 1;
                    return Some(Tok::Text(self.slice(start, start + 1)));
                }
            }
        }
    }

    /// A start tag at `start` (`<` followed by a letter).
    fn start_tag(&mut self, start: usize) -> Tok<'a> {
        let len = self.s.len();
        let name_end = self.name_end(start + 1);
        let name = self.slice(start + 1, name_end).to_ascii_lowercase();
        let mut i = name_end;
        let mut after_eq = false;
        let end = loop {
            let Some(b) = self.byte(i) else { break len };
            match b {
                b'>' => break i,
                b'"' | b'\'' if after_eq => {
                    let quote = if b == b'"' { "\"" } else { "'" };
                    match find_from(self.s, i + 1, quote) {
                        Some(p) => i = p + 1,
                        None => break len,
                    }
                    after_eq = false;
                    continue;
                }
                b'=' => after_eq = true,
                b if b.is_ascii_whitespace() => {}
                _ => after_eq = false,
            }
            i += 1;
        };
        self.pos = (end + 1).min(len);
        let mut attrs = self.slice(name_end, end);
        let self_closing = attrs.ends_with('/');
        if self_closing {
            attrs = attrs.get(..attrs.len() - 1).unwrap_or_default();
        }
        if name == "script" || name == "style" {
            self.raw = if name == "script" { Some("script") } else { Some("style") };
        }
        Tok::Start { name, attrs, self_closing }
    }

    /// Skips the content of a raw-text element, up to its end tag (left for the next token).
    fn skip_raw(&mut self, name: &str) {
        let len = self.s.len();
        let mut from = self.pos;
        while let Some(p) = find_from(self.s, from, "</") {
            let candidate = self.s.as_bytes().get(p + 2..p + 2 + name.len());
            if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name.as_bytes())) {
                self.pos = p;
                return;
            }
            from = p + 2;
        }
        self.pos = len;
    }
}

/// The value of attribute `want` (lower case) in a tag's attribute text.
fn attr<'a>(attrs: &'a str, want: &str) -> Option<&'a str> {
    let b = attrs.as_bytes();
    let len = b.len();
    let mut i = 0;
    while i < len {
        while i < len && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let name_start = i;
        while i < len && !(b[i].is_ascii_whitespace() || b[i] == b'=' || b[i] == b'/') {
            i += 1;
        }
        let name = attrs.get(name_start..i).unwrap_or_default();
        while i < len && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if i < len && b[i] == b'=' {
            i += 1;
            while i < len && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < len && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let v_start = i + 1;
                i = v_start;
                while i < len && b[i] != q {
                    i += 1;
                }
                value = attrs.get(v_start..i).unwrap_or_default();
                i += 1;
            } else {
                let v_start = i;
                while i < len && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = attrs.get(v_start..i).unwrap_or_default();
            }
        }
        if !name.is_empty() && name.eq_ignore_ascii_case(want) {
            return Some(value);
        }
        if name.is_empty() && i == name_start {
            i += 1; // a stray `=`: move on
        }
    }
    None
}

fn has_class(attrs: &str, classes: &[&str]) -> bool {
    attr(attrs, "class").is_some_and(|v| v.split_ascii_whitespace().any(|c| classes.iter().any(|k| c.eq_ignore_ascii_case(k))))
}

fn id_ends_with(attrs: &str, ids: &[&str]) -> bool {
    attr(attrs, "id").is_some_and(|v| {
        let v = v.to_ascii_lowercase();
        ids.iter().any(|id| v.ends_with(id))
    })
}

const VOID: &[&str] =
    &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr", "keygen"];

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "caption",
    "blockquote",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "address",
    "dl",
    "dt",
    "dd",
    "center",
    "form",
    "fieldset",
    "figure",
    "figcaption",
    "details",
    "summary",
    "body",
    "html",
];

/// Elements whose content is never shown.
const INVISIBLE: &[&str] = &["head", "title", "template", "script", "style", "noframes", "object", "svg"];

/// Classes of quoted history and signatures (dropped in [`Mode::Reply`]).
const QUOTE_CLASSES: &[&str] = &[
    "gmail_quote",
    "gmail_quote_container",
    "gmail_extra_quote",
    "moz-cite-prefix",
    "yahoo_quoted",
    "gmail_signature",
    "gmail_signature_prefix",
    "moz-signature",
];

/// Ids after which everything is quoted history (Outlook).
const STOP_IDS: &[&str] = &["divrplyfwdmsg", "mail-editor-reference-message-container"];

struct Skip {
    name: String,
    depth: usize,
}

/// Renders HTML as plain text; says whether quoted history was dropped by structure.
pub(super) fn render(html: &str, mode: Mode) -> (String, bool) {
    let mut out = Out::default();
    let mut dropped = false;
    let mut scanner = Scanner::new(html);
    let mut skip: Option<Skip> = None;
    while let Some(tok) = scanner.next_tok() {
        if out.buf.len() > MAX_RENDERED_BYTES {
            break;
        }
        if let Some(s) = skip.as_mut() {
            match &tok {
                Tok::Start { name, .. } if s.name == "head" && name == "body" => skip = None,
                Tok::Start { name, self_closing, .. } if *name == s.name && !self_closing => s.depth += 1,
                Tok::End { name } if *name == s.name => {
                    s.depth = s.depth.saturating_sub(1);
                    if s.depth == 0 {
                        skip = None;
                    }
                }
                _ => {}
            }
            if skip.is_some() {
                continue;
            }
            if let Tok::End { .. } = tok {
                continue;
            }
        }
        match tok {
            Tok::Text(t) => out.text(t),
            Tok::Start { name, attrs, self_closing } => {
                let void = VOID.contains(&name.as_str());
                if mode == Mode::Reply && (id_ends_with(attrs, STOP_IDS) || (name == "hr" && id_ends_with(attrs, &["stopspelling"]))) {
                    dropped = true;
                    break;
                }
                let quote = mode == Mode::Reply
                    && (name == "blockquote" || has_class(attrs, QUOTE_CLASSES) || id_ends_with(attrs, &["appendonsend"]));
                dropped |= quote;
                if quote || INVISIBLE.contains(&name.as_str()) {
                    out.block();
                    if !void && !self_closing {
                        skip = Some(Skip { name, depth: 1 });
                    }
                    continue;
                }
                out.start(&name);
            }
            Tok::End { name } => out.end(&name),
        }
    }
    (out.buf, dropped)
}

#[derive(Default)]
struct Out {
    buf: String,
    /// Blockquote depth ([`Mode::Full`] only reaches here with blockquotes).
    quote: usize,
    pre: usize,
    /// Some text is on the current line.
    mid_line: bool,
    pending_space: bool,
    scratch: String,
}

impl Out {
    fn newline(&mut self) {
        self.buf.push('\n');
        self.mid_line = false;
        self.pending_space = false;
    }

    fn block(&mut self) {
        if self.mid_line {
            self.newline();
        }
        self.pending_space = false;
    }

    fn begin_line(&mut self) {
        if !self.mid_line {
            for _ in 0..self.quote.min(MAX_QUOTE_PREFIX) {
                self.buf.push_str("> ");
            }
            self.mid_line = true;
        }
    }

    fn push_char(&mut self, c: char) {
        if matches!(c, '\u{200b}' | '\u{ad}' | '\u{feff}') {
            return;
        }
        if self.pre > 0 {
            match c {
                '\n' => self.newline(),
                '\r' => {}
                c => {
                    self.begin_line();
                    self.buf.push(if c == '\u{a0}' { ' ' } else { c });
                }
            }
            return;
        }
        if c == '\u{a0}' {
            // A no-break space is kept (an Outlook `<p>&nbsp;</p>` is a blank line).
            if self.pending_space {
                self.buf.push(' ');
                self.pending_space = false;
            }
            self.begin_line();
            self.buf.push(' ');
            return;
        }
        if c.is_whitespace() {
            self.pending_space = self.mid_line;
            return;
        }
        if self.pending_space {
            self.buf.push(' ');
            self.pending_space = false;
        }
        self.begin_line();
        self.buf.push(c);
    }

    fn text(&mut self, raw: &str) {
        let mut decoded = std::mem::take(&mut self.scratch);
        decoded.clear();
        decode_entities(raw, &mut decoded);
        for c in decoded.chars() {
            self.push_char(c);
        }
        self.scratch = decoded;
    }

    fn start(&mut self, name: &str) {
        match name {
            "br" => {
                self.begin_line();
                self.newline();
            }
            "li" => {
                self.block();
                self.begin_line();
                self.buf.push_str("- ");
            }
            "td" | "th" => self.pending_space = self.mid_line,
            "blockquote" => {
                self.block();
                self.quote += 1;
            }
            "pre" => {
                self.block();
                self.pre += 1;
            }
            n if BLOCKS.contains(&n) => self.block(),
            _ => {}
        }
    }

    fn end(&mut self, name: &str) {
        match name {
            "br" => {
                self.begin_line();
                self.newline();
            }
            "td" | "th" => self.pending_space = self.mid_line,
            "blockquote" => {
                self.block();
                self.quote = self.quote.saturating_sub(1);
            }
            "pre" => {
                self.block();
                self.pre = self.pre.saturating_sub(1);
            }
            n if BLOCKS.contains(&n) => self.block(),
            _ => {}
        }
    }
}

/// Appends `s` to `out` with character references decoded (unknown ones kept as written).
pub(super) fn decode_entities(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(rest.get(..p).unwrap_or_default());
        let after = rest.get(p + 1..).unwrap_or_default();
        match entity(after) {
            Some((c, used)) => {
                out.push(c);
                rest = after.get(used..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// The character of the reference at the start of `s` (after `&`) and the bytes it uses.
fn entity(s: &str) -> Option<(char, usize)> {
    let semi = s.bytes().take(12).position(|b| b == b';')?;
    let name = s.get(..semi)?;
    let c = match name.strip_prefix('#') {
        Some(num) => {
            let v = match num.strip_prefix(['x', 'X']) {
                Some(hex) if hex.bytes().all(|b| b.is_ascii_hexdigit()) => u32::from_str_radix(hex, 16).ok()?,
                Some(_) => return None,
                None if num.bytes().all(|b| b.is_ascii_digit()) => num.parse::<u32>().ok()?,
                None => return None,
            };
            numeric(v)
        }
        None => named(name)?,
    };
    Some((c, semi + 1))
}

fn numeric(v: u32) -> char {
    // Browsers read 0x80–0x9F as Windows-1252.
    let mapped = match v {
        0x80 => '€',
        0x85 => '…',
        0x91 => '‘',
        0x92 => '’',
        0x93 => '“',
        0x94 => '”',
        0x95 => '•',
        0x96 => '–',
        0x97 => '—',
        0x99 => '™',
        0 => '\u{fffd}',
        v => char::from_u32(v).unwrap_or('\u{fffd}'),
    };
    if ('\u{80}'..='\u{9f}').contains(&mapped) { '\u{fffd}' } else { mapped }
}

fn named(name: &str) -> Option<char> {
    Some(match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ensp" | "emsp" | "thinsp" => ' ',
        "zwnj" | "zwj" | "shy" => '\u{200b}',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "sect" => '§',
        "deg" => '°',
        "middot" => '·',
        "bull" => '•',
        "times" => '×',
        "divide" => '÷',
        "plusmn" => '±',
        "para" => '¶',
        "iexcl" => '¡',
        "iquest" => '¿',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "eacute" => 'é',
        "Eacute" => 'É',
        "egrave" => 'è',
        "Egrave" => 'È',
        "ecirc" => 'ê',
        "Ecirc" => 'Ê',
        "euml" => 'ë',
        "agrave" => 'à',
        "Agrave" => 'À',
        "aacute" => 'á',
        "Aacute" => 'Á',
        "acirc" => 'â',
        "Acirc" => 'Â',
        "atilde" => 'ã',
        "aring" => 'å',
        "Aring" => 'Å',
        "aelig" => 'æ',
        "AElig" => 'Æ',
        "ccedil" => 'ç',
        "Ccedil" => 'Ç',
        "igrave" => 'ì',
        "iacute" => 'í',
        "Iacute" => 'Í',
        "icirc" => 'î',
        "iuml" => 'ï',
        "ntilde" => 'ñ',
        "Ntilde" => 'Ñ',
        "ograve" => 'ò',
        "Ograve" => 'Ò',
        "oacute" => 'ó',
        "Oacute" => 'Ó',
        "ocirc" => 'ô',
        "otilde" => 'õ',
        "oslash" => 'ø',
        "Oslash" => 'Ø',
        "ugrave" => 'ù',
        "Ugrave" => 'Ù',
        "uacute" => 'ú',
        "Uacute" => 'Ú',
        "ucirc" => 'û',
        "yacute" => 'ý',
        "yuml" => 'ÿ',
        "oelig" => 'œ',
        "OElig" => 'Œ',
        _ => return None,
    })
}
