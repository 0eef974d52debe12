//! The shape of a raw mail, counted before it is parsed: its header fields and its MIME
//! delimiters.
//!
//! mail-parser keeps a few hundred bytes for every header field and MIME part it finds
//! (measured: a mail made of nothing but header fields costs it 29 times its size, one
//! of nothing but attachments 40 times; `tests/hostile_memory.rs`). Its limits on parts
//! are checked after parsing, when the memory is spent. Counted here first, in a few
//! passes over the bytes and without allocating per line, such a mail is refused before
//! mail-parser sees it.
//!
//! The counts are upper bounds of what mail-parser reads, so that no mail slips under
//! them: a delimiter is `--` and a declared boundary (or its first [`MAX_BOUNDARY_LEN`]
//! bytes) anywhere in the mail, as mail-parser looks for it; a header section is the top
//! one, the one after each delimiter, and the one after a header section that declares a
//! `message/…` content (an attached mail's own headers); an attached mail that is itself
//! base64 or quoted-printable encoded is decoded and counted the same way, as deep as
//! mail-parser decodes such mails.

use std::collections::BTreeSet;
use std::ops::Range;

use regex::bytes::Regex;

/// What the counts found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Header fields in every header section (continuation lines not counted).
    pub header_fields: usize,
    /// Places where a declared boundary's delimiter occurs.
    pub delimiters: usize,
    /// Distinct boundaries declared.
    pub boundaries: usize,
}

impl Shape {
    fn add(&mut self, other: Shape) {
        self.header_fields += other.header_fields;
        self.delimiters += other.delimiters;
        self.boundaries += other.boundaries;
    }
}

/// How much of a declared boundary is matched (a prefix matches wherever the whole does).
const MAX_BOUNDARY_LEN: usize = 70;
/// How deep mail-parser decodes attached mails that are themselves encoded (its own
/// `MAX_NESTED_ENCODED`), and so how deep they are decoded and counted here.
const MAX_NESTED_ENCODED: usize = 3;

/// Where the values of `boundary=` parameters start (also RFC 2231's `boundary*0=` and
/// `boundary*=`, any case, blanks around `=`): each `=` is found with `memchr` and the
/// name before it checked, cheaper than a case-insensitive pattern over every byte.
fn boundary_values(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    memchr::memchr_iter(b'=', raw).filter_map(move |eq| {
        let before = raw.get(..eq)?;
        let before = before.trim_ascii_end();
        let before = before.strip_suffix(b"*").unwrap_or(before);
        let before = before.strip_suffix(b"*0").unwrap_or(before);
        let name = before.get(before.len().checked_sub(b"boundary".len())?..)?;
        if !name.eq_ignore_ascii_case(b"boundary") {
            return None;
        }
        let after = raw.get(eq + 1..)?;
        let blanks = after.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
        Some(boundary_value(after.get(blanks..)?)).filter(|v| !v.is_empty())
    })
}

/// The value at the start of `rest`: quoted (up to the closing quote or the line's end)
/// or a token (up to white space, `;` or a quote).
fn boundary_value(rest: &[u8]) -> &[u8] {
    let (value, stop): (&[u8], fn(&u8) -> bool) = match rest.strip_prefix(b"\"") {
        Some(quoted) => (quoted, |b| matches!(b, b'"' | b'\r' | b'\n')),
        None => (rest, |b| b.is_ascii_whitespace() || matches!(b, b';' | b'"')),
    };
    let len = value.iter().take(MAX_BOUNDARY_LEN).position(stop).unwrap_or(value.len().min(MAX_BOUNDARY_LEN));
    value.get(..len).unwrap_or_default()
}

/// Counts the header fields and delimiters of `raw`, and of the attached mails in it,
/// decoded when they are encoded. `None` when one of them declares more than `max_parts`
/// distinct boundaries (each declares a multipart: too many parts). Past `max_parts`
/// delimiters and the boundaries' closing ones, the parts' headers are not counted:
/// the mail is refused anyway.
pub fn count(raw: &[u8], max_parts: usize) -> Option<Shape> {
    count_at(raw, max_parts, MAX_NESTED_ENCODED)
}

fn count_at(raw: &[u8], max_parts: usize, depth: usize) -> Option<Shape> {
    let mut declared: BTreeSet<&[u8]> = BTreeSet::new();
    for value in boundary_values(raw) {
        declared.insert(value);
        if declared.len() > max_parts {
            return None;
        }
    }
    let (delimiters, total) = find_delimiters(raw, &declared, max_parts + declared.len() + 1);
    let mut sections = Sections { raw, scanned_to: 0, max_parts, depth, found: Shape::default() };
    sections.count_from(0, delimiters.first().map_or(raw.len(), |d| d.start))?;
    for (i, delimiter) in delimiters.iter().enumerate() {
        let body_end = delimiters.get(i + 1).map_or(raw.len(), |next| next.start);
        // The part's headers start on the line after the delimiter.
        let rest = raw.get(delimiter.end..).unwrap_or_default();
        if let Some(at) = memchr::memchr(b'\n', rest) {
            sections.count_from(delimiter.end + at + 1, body_end)?;
        }
    }
    let mut shape = sections.found;
    shape.add(Shape { header_fields: 0, delimiters: total, boundaries: declared.len() });
    Some(shape)
}

/// Where the delimiters of the declared boundaries are (`--` and the boundary), in order
/// and not overlapping, and how many there are. Past `limit` (the mail is refused) only
/// `limit` of them are kept, not necessarily the first, and the count is the searches'.
fn find_delimiters(raw: &[u8], declared: &BTreeSet<&[u8]>, limit: usize) -> (Vec<Range<usize>>, usize) {
    let mut found: Vec<Range<usize>> = Vec::new();
    let mut total = 0;
    let mut keep = |range: Range<usize>| {
        total += 1;
        if found.len() <= limit {
            found.push(range);
        }
    };
    if declared.len() <= FEW_BOUNDARIES {
        // A mail's one to a few boundaries: a substring search each, no pattern to compile.
        for boundary in declared {
            let delimiter = [b"--".as_slice(), boundary].concat();
            memchr::memmem::find_iter(raw, &delimiter).for_each(|start| keep(start..start + delimiter.len()));
        }
    } else if let Some(pattern) = delimiter_pattern(declared) {
        pattern.find_iter(raw).for_each(|m| keep(m.range()));
    }
    let every_one_kept = total == found.len();
    found.sort_by_key(|r| r.start);
    let mut end = 0;
    found.retain(|r| {
        let apart = r.start >= end;
        if apart {
            end = r.end;
        }
        apart
    });
    if every_one_kept {
        total = found.len();
    }
    found.truncate(limit);
    (found, total)
}

/// Up to this many boundaries are looked for one by one; more, with one pattern.
const FEW_BOUNDARIES: usize = 4;

/// One pattern for the delimiters of every declared boundary: `--` and the boundary.
fn delimiter_pattern(declared: &BTreeSet<&[u8]>) -> Option<Regex> {
    if declared.is_empty() {
        return None;
    }
    let alternatives: Vec<String> =
        declared.iter().map(|b| b.iter().map(|byte| format!("\\x{byte:02x}")).collect::<String>()).map(|hex| format!("--{hex}")).collect();
    regex::bytes::RegexBuilder::new(&format!("(?-u){}", alternatives.join("|"))).size_limit(64 << 20).build().ok()
}

/// What a header section says its body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Not a mail: the section is the last one here.
    Other,
    /// An attached mail, as it is: its own header section follows.
    Mail,
    /// An attached mail in base64 or quoted-printable: decoded before it is read.
    EncodedMail(Encoding),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Base64,
    QuotedPrintable,
}

/// The header fields being read, for the two whose values matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    ContentType,
    TransferEncoding,
    Other,
}

/// Header sections counted so far; each byte is read at most once, so that delimiters
/// placed inside one another's sections cost no more than the mail's length.
struct Sections<'a> {
    raw: &'a [u8],
    scanned_to: usize,
    max_parts: usize,
    depth: usize,
    found: Shape,
}

impl Sections<'_> {
    /// Counts the header section starting at `start`, and the attached mail's after it
    /// while one declares a `message/…` body (decoded first when it is encoded: its
    /// body ends at `body_end`). `None` as [`count`].
    fn count_from(&mut self, mut start: usize, body_end: usize) -> Option<()> {
        while start >= self.scanned_to && start < self.raw.len() {
            let (end, body) = self.section(start);
            self.scanned_to = end;
            match body {
                Body::Other => break,
                Body::Mail => start = end,
                Body::EncodedMail(encoding) => {
                    let encoded = self.raw.get(end..body_end.max(end)).unwrap_or_default();
                    let decoded = match encoding {
                        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(encoded),
                        Encoding::QuotedPrintable => mail_parser::decoders::quoted_printable::quoted_printable_decode(encoded),
                    };
                    if let (Some(decoded), Some(depth)) = (decoded, self.depth.checked_sub(1)) {
                        self.found.add(count_at(&decoded, self.max_parts, depth)?);
                    }
                    break;
                }
            }
        }
        Some(())
    }

    /// Counts the fields of the section at `start`: where it ends (after its blank
    /// line), and what it says its body is.
    fn section(&mut self, start: usize) -> (usize, Body) {
        let mut at = start;
        let mut field = Field::Other;
        let (mut message, mut encoding) = (false, None);
        while let Some(rest) = self.raw.get(at..).filter(|r| !r.is_empty()) {
            let len = memchr::memchr(b'\n', rest).map_or(rest.len(), |p| p + 1);
            let line = rest.get(..len).unwrap_or(rest);
            at += len;
            let content = line.strip_suffix(b"\n").unwrap_or(line);
            let content = content.strip_suffix(b"\r").unwrap_or(content);
            if content.is_empty() {
                break;
            }
            let value = if content.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                content
            } else {
                self.found.header_fields += 1;
                // The name up to the colon, blanks before it allowed (RFC 5322's obsolete syntax).
                let colon = memchr::memchr(b':', content);
                let name = colon.and_then(|at| content.get(..at)).unwrap_or_default().trim_ascii_end();
                let value = colon.and_then(|at| content.get(at + 1..)).unwrap_or(content);
                field = if name.eq_ignore_ascii_case(b"content-type") {
                    Field::ContentType
                } else if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
                    Field::TransferEncoding
                } else {
                    Field::Other
                };
                value
            };
            // A value's first word, on the field's line or the first folded one.
            let value = value.trim_ascii();
            if value.is_empty() || field == Field::Other {
                continue;
            }
            match field {
                Field::ContentType => message = has_prefix_ignoring_case(value, b"message/"),
                Field::TransferEncoding if has_prefix_ignoring_case(value, b"base64") => encoding = Some(Encoding::Base64),
                Field::TransferEncoding if has_prefix_ignoring_case(value, b"quoted-printable") => {
                    encoding = Some(Encoding::QuotedPrintable)
                }
                _ => {}
            }
            field = Field::Other;
        }
        let body = match (message, encoding) {
            (false, _) => Body::Other,
            (true, None) => Body::Mail,
            (true, Some(encoding)) => Body::EncodedMail(encoding),
        };
        (at, body)
    }
}

fn has_prefix_ignoring_case(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(raw: &str) -> Shape {
        count(raw.as_bytes(), 100).expect("few boundaries")
    }

    #[test]
    fn counts_the_fields_of_the_top_section_only_in_a_single_part_mail() {
        let s = shape("From: a@b\r\nSubject: x\r\n continued\r\nTo: c@d\r\n\r\nBody: not a field\r\n");
        assert_eq!(s, Shape { header_fields: 3, delimiters: 0, boundaries: 0 });
    }

    #[test]
    fn counts_delimiters_and_the_fields_of_each_part() {
        let raw = "Content-Type: multipart/mixed;\r\n boundary=\"b1\"\r\n\r\npreamble --x\r\n--b1\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\nHi: there\r\n--b1\r\n\r\nno headers\r\n--b1--\r\n";
        assert_eq!(shape(raw), Shape { header_fields: 3, delimiters: 3, boundaries: 1 });
    }

    #[test]
    fn a_delimiter_anywhere_counts_as_mail_parser_finds_it_anywhere() {
        let raw = "Content-Type: multipart/mixed; boundary=b\n\ntext--b--b\n--b\n\n";
        assert_eq!(shape(raw).delimiters, 3);
    }

    #[test]
    fn an_attached_mail_s_own_headers_count() {
        let raw = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type:\r\n message/rfc822\r\n\r\nFrom: x@y\r\nSubject: inner\r\n\r\nBody: text\r\n--b--\r\n";
        // Top 1, the part 1, the attached mail 2; its body is not a section.
        assert_eq!(shape(raw).header_fields, 4);
        // Without `message/` the part's body is not read as headers.
        assert_eq!(shape(&raw.replace("message/rfc822", "text/plain")).header_fields, 2);
        // A blank before the colon, any case.
        assert_eq!(shape(&raw.replace("Content-Type:\r\n", "CONTENT-type \t:\r\n")).header_fields, 4);
    }

    #[test]
    fn rfc_2231_boundaries_and_long_ones_are_matched_by_their_start() {
        let long = "L".repeat(200);
        let raw = format!(
            "Content-Type: multipart/mixed; boundary*0=\"ab\"; boundary*1=\"cd\"\n\n--abcd\n\n--abcd--\nX: multipart/x; boundary={long}\n--{long}\n"
        );
        let s = shape(&raw);
        assert_eq!((s.boundaries, s.delimiters), (2, 3));
    }

    #[test]
    fn many_boundaries_are_found_alike_with_one_pattern() {
        let mail = |n: usize| -> String {
            let declared: String = (0..n).map(|i| format!("X-{i}: multipart/mixed; boundary=\"k{i}\"\n")).collect();
            let used: String = (0..n).map(|i| format!("--k{i}\n\nx --k{i}--\n")).collect();
            format!("{declared}\n{used}")
        };
        for n in [FEW_BOUNDARIES, FEW_BOUNDARIES + 3] {
            // The line after each `x --kN--` is read as a part's headers (mail-parser would).
            assert_eq!(shape(&mail(n)), Shape { header_fields: n + n - 1, delimiters: 2 * n, boundaries: n }, "{n} boundaries");
        }
    }

    #[test]
    fn boundary_parameters_are_found_in_any_case_and_spacing() {
        let raw = b"a; BoUnDaRy = \"one\"; b; boundary*0*=two; boundary*=three; boundary=; x=y; boundary\t=\tfour\r\n=";
        let found: Vec<&[u8]> = boundary_values(raw).collect();
        assert_eq!(found, vec![b"one".as_slice(), b"two", b"three", b"four"]);
        assert_eq!(boundary_values(b"=boundary").count(), 0);
    }

    #[test]
    fn boundary_values_end_where_the_parameter_does() {
        assert_eq!(boundary_value(b"\"a b\"; x"), b"a b");
        assert_eq!(boundary_value(b"\"open\r\nnext"), b"open");
        assert_eq!(boundary_value(b"tok;x"), b"tok");
        assert_eq!(boundary_value(b"tok\r\n"), b"tok");
        assert_eq!(boundary_value(b"\"\""), b"");
        assert_eq!(boundary_value("L".repeat(100).as_bytes()).len(), MAX_BOUNDARY_LEN);
    }

    #[test]
    fn too_many_boundaries_is_refused_before_counting() {
        let raw: String = (0..5).map(|i| format!("X: a; boundary=b{i}\n")).collect();
        assert!(count(raw.as_bytes(), 4).is_none());
        assert!(count(raw.as_bytes(), 5).is_some());
    }

    #[test]
    fn nested_delimiters_read_each_line_once() {
        // Delimiters on every line and no blank line: each line is counted once.
        let raw = format!("Content-Type: multipart/mixed; boundary=b\n\n{}", "--b\nX: 1\n".repeat(1000));
        let s = count(raw.as_bytes(), 2000).expect("one boundary");
        assert_eq!(s.delimiters, 1000);
        assert_eq!(s.header_fields, 1 + 1000 * 2 - 1);
        // Past the parts there may be, delimiters are counted, their parts' headers not.
        assert_eq!(shape(&raw).delimiters, 1000);
        assert_eq!(shape(&raw).header_fields, s.header_fields);
        let separate = format!("Content-Type: multipart/mixed; boundary=b\n\n{}", "--b\nX: 1\n\n".repeat(1000));
        assert_eq!(shape(&separate), Shape { header_fields: 1 + 102, delimiters: 1000, boundaries: 1 });
    }

    #[test]
    fn an_encoded_attached_mail_is_decoded_and_counted() {
        use base64::Engine as _;
        let inner = "From: x@y\r\nX-A: 1\r\nX-B: 2\r\n\r\nbody\r\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(inner);
        let wrap = |cte: &str, body: &str| {
            format!(
                "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: {cte}\r\n\r\n{body}\r\n--b--\r\n"
            )
        };
        // Top 1, the part 2, the attached mail 3 (not the encoded lines).
        assert_eq!(shape(&wrap("base64", &b64)).header_fields, 6);
        let qp = inner.replace("\r\n", "=0D=0A");
        assert_eq!(shape(&wrap("quoted-printable", &qp)).header_fields, 6);
        // Undecodable: nothing more is counted (mail-parser cannot read it either).
        assert_eq!(shape(&wrap("base64", "%%%")).header_fields, 3);
        // Three levels deep are decoded, as mail-parser does; no deeper.
        let mut nested = inner.to_string();
        for _ in 0..4 {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&nested);
            nested = format!("From: x@y\r\n{}", wrap("base64", &encoded));
        }
        // Each level: From, Content-Type (multipart), the part's 2; the innermost not reached.
        assert_eq!(shape(&nested).header_fields, 4 * 4);
    }
}
