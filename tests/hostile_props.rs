//! Generated hostile MIME through the whole pure path: parse → classify →
//! thread → strip. Nothing may panic, whatever the structure or the bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use srgate::mail::quote;

fn pipeline(raw: &[u8]) {
    let _ = srgate::mail::read_path(raw);
}

/// A MIME tree `depth` deep with `parts` leaves, bodies in `encoding`, charset `charset`.
fn mime(depth: usize, parts: usize, encoding: &str, charset: &str, body: &[u8], header_len: usize) -> Vec<u8> {
    let mut out =
        format!("From: Fuzz <fuzz@example.com>\r\nSubject: =?{charset}?B?w6TDtsO8?= [SR#100001]\r\nX-Long: {}\r\n", "h".repeat(header_len))
            .into_bytes();
    for i in 0..depth {
        out.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=\"d{i}\"\r\n\r\n--d{i}\r\n").as_bytes());
    }
    out.extend_from_slice(b"Content-Type: multipart/alternative; boundary=\"p\"\r\n\r\n");
    for i in 0..parts {
        let ctype = if i % 3 == 0 { "text/html" } else { "text/plain" };
        out.extend_from_slice(format!("--p\r\nContent-Type: {ctype}; charset=\"{charset}\"; name*=UTF-8''n%C3%A4me{i}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    if parts.is_multiple_of(2) {
        out.extend_from_slice(b"--p--\r\n");
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn structured_hostile_mime_never_panics(
        depth in 0usize..300,
        parts in 0usize..3000,
        encoding in prop::sample::select(vec!["base64", "quoted-printable", "8bit", "x-uue", "binary", ""]),
        charset in prop::sample::select(vec!["utf-8", "iso-8859-1", "windows-1252", "koi8-r", "iso-2022-jp", "shift_jis", "gbk", "big5", "x-unknown", "utf-7", ""]),
        body in prop::collection::vec(any::<u8>(), 0..400),
        header_len in prop::sample::select(vec![0usize, 100, 70_000, 200_000]),
    ) {
        pipeline(&mime(depth, parts, encoding, charset, &body, header_len));
    }

    #[test]
    fn random_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..4096)) {
        pipeline(&raw);
        let mut with_headers = b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n".to_vec();
        with_headers.extend_from_slice(&raw);
        pipeline(&with_headers);
    }

    #[test]
    fn random_html_never_panics(html in "(<[a-z/!]{0,12}[^>]{0,30}>?|[^<]{0,40}|&#?[a-z0-9]{0,6};?){0,200}") {
        let _ = quote::new_text_from_html(&html);
        let _ = quote::new_text(&html);
    }
}
