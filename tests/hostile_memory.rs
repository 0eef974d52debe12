//! Hostile mail in bounded memory: shapes of mail that could make reading one cost many
//! times its size (a text of nothing but line breaks, a million HTML elements, tens of
//! thousands of forward markers, header fields or MIME parts), each read through the whole
//! pure read path (`srgate::mail::read_path`: parse, classify, thread, cut, language) in a
//! process of its own, whose peak resident memory (`VmHWM`) is compared with its size.
//!
//! What the bounds are: srgate's own steps (the quote and forward cutters, HTML to text)
//! keep a few copies of a text at most (measured 0.5 to 6.4 times its size); the shapes
//! mail-parser would build a structure for line by line (header fields, parts) are counted
//! and refused before it runs (`srgate::mail::shape`), where it used to spend 17 to 41
//! times their size first. `max_message_bytes` bounds the mail, and so the cost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::process::Command;

/// How many times its size a text may cost: its copies (decoded, line breaks unified,
/// cut, the HTML rendered as text) and the cutter's lines.
const TEXT: usize = 8;
/// How many times its size a mail refused before parsing may cost.
const REFUSED: usize = 1;
/// Set in the child: the file to read.
const CHILD: &str = "SRGATE_HOSTILE_MEMORY_FILE";
/// About how large each hostile mail is.
const SIZE: usize = 8 << 20;
/// What reading any mail costs the first time, whatever its size (lazily built tables:
/// the language detector's, the patterns'): about 4 MB, measured on a one-line mail.
const FIXED: usize = 8 << 20;

fn head(content_type: &str) -> String {
    format!(
        "From: Customer <c@example.com>\r\nTo: support@example.test\r\nSubject: Problem\r\nMessage-ID: <h@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
    )
}

/// `unit` repeated to about [`SIZE`] bytes.
fn fill(unit: &str) -> String {
    unit.repeat(SIZE / unit.len())
}

/// Each shape: its name, the mail, and how many times its size its reading may cost.
/// Texts: [`TEXT`]; what is refused before parsing: [`REFUSED`].
fn shapes() -> Vec<(&'static str, String, usize)> {
    let multipart = head("multipart/mixed; boundary=\"b\"");
    vec![
        ("text of line breaks", format!("{}\r\n{}", head("text/plain"), fill("\r\n")), TEXT),
        ("text of bare carriage returns", format!("{}\r\n{}", head("text/plain"), fill("\r")), TEXT),
        ("text of one-letter lines", format!("{}\r\n{}", head("text/plain"), fill("a\r\n")), TEXT),
        ("text of quote prefixes", format!("{}\r\n{}", head("text/plain"), fill("> > > > > > > > x\r\n")), TEXT),
        (
            "text of forward markers",
            format!(
                "{}\r\n{}",
                head("text/plain"),
                fill("---------- Forwarded message ---------\r\nFrom: b@example.com\r\nSubject: y\r\n\r\n")
            ),
            TEXT,
        ),
        ("HTML of a million elements", format!("{}\r\n{}", head("text/html"), fill("<div>a</div>")), TEXT),
        ("HTML of nested blockquotes", format!("{}\r\n{}", head("text/html"), fill("<blockquote>")), TEXT),
        ("HTML of unclosed tags", format!("{}\r\n{}", head("text/html"), fill("<b>")), TEXT),
        // What mail-parser would build a structure for, line by line: refused before it runs.
        ("header fields", format!("{}{}\r\nhi\r\n", head("text/plain"), fill("X-A: v\r\n")), REFUSED),
        ("MIME parts", format!("{multipart}\r\n{}--b--\r\n", fill("--b\r\n\r\nx\r\n")), REFUSED),
        (
            "attachments",
            format!(
                "{multipart}\r\n{}--b--\r\n",
                fill("--b\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nQQ==\r\n")
            ),
            REFUSED,
        ),
        (
            "an attached mail's header fields",
            format!("{multipart}\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n{}\r\nx\r\n--b--\r\n", fill("X-A: v\r\n")),
            REFUSED,
        ),
        (
            "a base64 attached mail's header fields",
            format!(
                "{multipart}\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
                base64_lines(&fill("X-A: v\r\n"))
            ),
            REFUSED,
        ),
        ("addresses", format!("{}Cc: {}\r\n\r\nhi\r\n", head("text/plain"), fill("u@example.com, ")), REFUSED),
        ("references", format!("{}References: {}\r\n\r\nhi\r\n", head("text/plain"), fill("<r@example.com> ")), REFUSED),
    ]
}

/// `data` in base64, 76 characters a line.
fn base64_lines(data: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    encoded.as_bytes().chunks(76).map(|line| String::from_utf8_lossy(line) + "\r\n").collect()
}

/// The process's peak resident memory so far, in bytes.
fn peak_resident() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<usize>().ok()).expect("a number of kB") * 1024
}

#[test]
fn hostile_mail_costs_a_bounded_multiple_of_its_size() {
    if let Ok(file) = std::env::var(CHILD) {
        // The child: read the mail, note the peak so far, read it the gateway's way.
        let raw = std::fs::read(&file).expect("the mail");
        let before = peak_resident();
        std::hint::black_box(srgate::mail::read_path(std::hint::black_box(&raw)));
        println!("hostile-memory {before} {}", peak_resident());
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let me = std::env::current_exe().expect("the test binary");
    let mut report = String::new();
    let mut over = Vec::new();
    for (name, mail, factor) in shapes() {
        let file = dir.path().join("mail.eml");
        std::fs::write(&file, &mail).expect("write the mail");
        let out = Command::new(&me)
            .args(["--exact", "hostile_mail_costs_a_bounded_multiple_of_its_size", "--nocapture", "--test-threads=1"])
            .env(CHILD, &file)
            .output()
            .expect("run the child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("hostile-memory ").map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("{name}: the child said nothing ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
        let (before, peak) = line.split_once(' ').expect("two numbers");
        let (before, peak): (usize, usize) = (before.parse().expect("before"), peak.parse().expect("peak"));
        let cost = peak.saturating_sub(before);
        let ratio = cost as f64 / mail.len() as f64;
        writeln!(report, "{name:32} {:5.1} MB mail: {:6.1} MB more at peak ({ratio:4.1}x; bound {factor}x)", mb(mail.len()), mb(cost))
            .unwrap();
        if cost > FIXED + factor * mail.len() {
            over.push(name);
        }
    }
    println!("{report}");
    assert!(over.is_empty(), "over their bound: {over:?}\n{report}");
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}
