//! The tiny blocking SMTP and IMAP clients the harness checks srgate's work with
//! (independent of the crate's own lettre and async-imap code paths), and the bits of
//! the two protocols they need.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};

use super::IO_TIMEOUT;

// ====================================================================== SMTP client

pub(super) struct Smtp {
    pub(super) r: BufReader<TcpStream>,
    pub(super) w: TcpStream,
    pub(super) transcript: String,
}

impl Smtp {
    pub(super) fn connect(addr: &str) -> io::Result<Smtp> {
        let w = TcpStream::connect(addr)?;
        w.set_read_timeout(Some(IO_TIMEOUT))?;
        w.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(Smtp { r: BufReader::new(w.try_clone()?), w, transcript: String::new() })
    }

    pub(super) fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        self.w.write_all(b)
    }

    /// Sends `cmd` (if any), reads a (multi-line) reply, and checks its code.
    pub(super) fn expect(&mut self, code: u16, cmd: Option<&str>) -> Result<String, String> {
        if let Some(cmd) = cmd {
            self.transcript += &format!("C: {cmd}\n");
            self.w.write_all(format!("{cmd}\r\n").as_bytes()).map_err(|e| format!("{e}\n{}", self.transcript))?;
        }
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let n = self.r.read_line(&mut line).map_err(|e| format!("{e}\n{}", self.transcript))?;
            if n == 0 {
                return Err(format!("connection closed\n{}", self.transcript));
            }
            self.transcript += &format!("S: {}", line);
            reply += &line;
            // "250-..." continues, "250 ..." ends
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                break;
            }
        }
        let got: u16 = reply.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        if got != code {
            let _ = self.w.write_all(b"QUIT\r\n");
            let _ = self.w.shutdown(Shutdown::Both);
            return Err(format!("expected {code}, got: {}\ntranscript:\n{}", reply.trim_end(), self.transcript));
        }
        Ok(reply)
    }
}

/// Normalizes line ends to CRLF.
pub(super) fn crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 40 + 2);
    let mut lines: Vec<&[u8]> = raw.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop(); // raw ended with a newline
    }
    for l in lines {
        out.extend_from_slice(l.strip_suffix(b"\r").unwrap_or(l));
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// CRLF line ends, leading dots doubled, terminated by `.` — ready for after `354`.
pub(super) fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 16);
    for line in crlf(raw).split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
    out
}

// ====================================================================== IMAP client

#[derive(Debug)]
pub(super) enum ImapError {
    /// Tagged `NO` (e.g. folder does not exist).
    No(String),
    /// `BAD`, I/O or protocol errors.
    Other(String),
}

impl std::fmt::Display for ImapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImapError::No(t) => write!(f, "NO: {t}"),
            ImapError::Other(t) => write!(f, "{t}"),
        }
    }
}

/// One response: its text (with `{n}` literal markers in place) and the literals' bytes.
pub(super) struct Resp {
    pub(super) text: Vec<u8>,
    pub(super) literals: Vec<Vec<u8>>,
}

pub(super) struct Imap {
    pub(super) r: BufReader<TcpStream>,
    pub(super) w: TcpStream,
    pub(super) tag: u32,
}

impl Imap {
    pub(super) fn connect(addr: &str) -> Result<Imap, String> {
        let w = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        w.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
        w.set_write_timeout(Some(IO_TIMEOUT)).map_err(|e| e.to_string())?;
        let r = BufReader::new(w.try_clone().map_err(|e| e.to_string())?);
        let mut c = Imap { r, w, tag: 0 };
        let greeting = c.read_resp().map_err(|e| format!("greeting: {e}"))?;
        if !greeting.text.starts_with(b"* OK") {
            return Err(format!("bad greeting {}", String::from_utf8_lossy(&greeting.text)));
        }
        Ok(c)
    }

    /// Reads one response line, following `{n}` / `{n+}` literals.
    pub(super) fn read_resp(&mut self) -> io::Result<Resp> {
        let mut text = Vec::new();
        let mut literals = Vec::new();
        loop {
            let start = text.len();
            let n = self.r.read_until(b'\n', &mut text)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "IMAP connection closed"));
            }
            match literal_len(&text[start..]) {
                Some(len) => {
                    let mut lit = vec![0; len];
                    self.r.read_exact(&mut lit)?;
                    literals.push(lit);
                }
                None => return Ok(Resp { text, literals }),
            }
        }
    }

    pub(super) fn command(&mut self, cmd: &str) -> Result<Vec<Resp>, ImapError> {
        self.command_bytes(cmd.as_bytes())
    }

    /// Sends `tag cmd`, collects responses up to the tagged one (included, last).
    pub(super) fn command_bytes(&mut self, cmd: &[u8]) -> Result<Vec<Resp>, ImapError> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        let mut line = format!("{tag} ").into_bytes();
        line.extend_from_slice(cmd);
        line.extend_from_slice(b"\r\n");
        self.w.write_all(&line).map_err(|e| ImapError::Other(e.to_string()))?;
        let mut resps = Vec::new();
        loop {
            let r = self.read_resp().map_err(|e| ImapError::Other(e.to_string()))?;
            if r.text.starts_with(tag.as_bytes()) && r.text.get(tag.len()) == Some(&b' ') {
                let status = String::from_utf8_lossy(&r.text[tag.len() + 1..]).trim_end().to_string();
                if status.starts_with("OK") {
                    resps.push(r);
                    return Ok(resps);
                } else if status.starts_with("NO") {
                    return Err(ImapError::No(status));
                }
                return Err(ImapError::Other(status));
            }
            resps.push(r);
        }
    }

    pub(super) fn logout(&mut self) {
        let _ = self.command("LOGOUT");
    }
}

/// `n` if `line` ends with `{n}\r\n` or `{n+}\r\n`.
pub(super) fn literal_len(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"\r\n").or_else(|| line.strip_suffix(b"\n"))?;
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = &body[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// IMAP quoted string.
pub(super) fn quote(s: &str) -> String {
    assert!(!s.contains(['\r', '\n']), "CR/LF in IMAP string {s:?}");
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

/// The decimal number right after the first `key` in `text`.
pub(super) fn number_after(text: &[u8], key: &[u8]) -> Option<u32> {
    let i = find(text, key)? + key.len();
    let digits: Vec<u8> = text[i..].iter().take_while(|b| b.is_ascii_digit()).copied().collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// The contents of `FLAGS (...)` in a FETCH response.
pub(super) fn parse_flags(text: &[u8]) -> Vec<String> {
    let Some(i) = find(text, b"FLAGS (") else {
        return Vec::new();
    };
    let rest = &text[i + 7..];
    let end = rest.iter().position(|&b| b == b')').unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end]).split_whitespace().map(str::to_string).collect()
}

/// Mailbox name of `* LIST (flags) delim name` (quoted, literal or atom).
pub(super) fn parse_list_name(r: Resp) -> Option<String> {
    let text = &r.text;
    let close = text.iter().position(|&b| b == b')')?;
    let rest = text.get(close + 2..)?; // after ") "
    // delimiter: "x" (maybe "\\") or NIL
    let rest = if rest.starts_with(b"NIL ") {
        &rest[4..]
    } else {
        let mut i = 1;
        while i < rest.len() && rest[i] != b'"' {
            i += if rest[i] == b'\\' { 2 } else { 1 };
        }
        rest.get(i + 2..)?
    };
    let rest = rest.strip_suffix(b"\r\n").unwrap_or(rest);
    if literal_len(&r.text).is_some() || rest.starts_with(b"{") {
        return r.literals.into_iter().next().map(|l| String::from_utf8_lossy(&l).into_owned());
    }
    if let Some(q) = rest.strip_prefix(b"\"") {
        let mut out = Vec::new();
        let mut it = q.iter();
        while let Some(&b) = it.next() {
            match b {
                b'\\' => out.extend(it.next()),
                b'"' => break,
                _ => out.push(b),
            }
        }
        return Some(String::from_utf8_lossy(&out).into_owned());
    }
    Some(String::from_utf8_lossy(rest).into_owned())
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn dot_stuffing_and_crlf() {
        assert_eq!(dot_stuff(b"a\n.b\r\n..c"), b"a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(dot_stuff(b""), b".\r\n");
        assert_eq!(crlf(b"x\r\ny\n"), b"x\r\ny\r\n");
    }

    #[test]
    fn literal_lengths() {
        assert_eq!(literal_len(b"* 1 FETCH (BODY[] {12}\r\n"), Some(12));
        assert_eq!(literal_len(b"a {3+}\r\n"), Some(3));
        assert_eq!(literal_len(b"* OK {x}\r\n"), None);
        assert_eq!(literal_len(b"* OK done\r\n"), None);
    }

    #[test]
    fn list_names() {
        let r = |t: &[u8]| Resp { text: t.to_vec(), literals: vec![] };
        assert_eq!(parse_list_name(r(b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n")).as_deref(), Some("INBOX"));
        assert_eq!(
            parse_list_name(r(b"* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent \\\"Items\\\"\"\r\n")).as_deref(),
            Some("Sent \"Items\"")
        );
        assert_eq!(parse_list_name(r(b"* LIST () NIL Foo\r\n")).as_deref(), Some("Foo"));
    }
}
