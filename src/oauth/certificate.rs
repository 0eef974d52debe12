//! What a certificate credential needs from its files: the DER inside PEM, the
//! certificate's thumbprints (how Microsoft finds the key) and when it expires
//! (so the administrator hears of it 14 days before).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;

/// The DER of the first PEM block labelled `label` (`CERTIFICATE`, `PRIVATE KEY` …).
pub fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(body).ok()
}

/// SHA-1 and SHA-256 of the certificate's DER (`x5t`, `x5t#S256`).
pub fn thumbprints(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    let sha256 = ring::digest::digest(&ring::digest::SHA256, der);
    (sha1.as_ref().to_vec(), sha256.as_ref().to_vec())
}

/// One DER element: (tag, contents, the rest after it).
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, after) = rest.split_at(n);
        rest = after;
        bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    if rest.len() < len {
        return None;
    }
    let (contents, after) = rest.split_at(len);
    Some((tag, contents, after))
}

/// When the certificate stops being valid (its `notAfter`); `None` when the DER is not an X.509 certificate.
pub fn not_after(der: &[u8]) -> Option<Timestamp> {
    const SEQUENCE: u8 = 0x30;
    let (tag, certificate, _) = element(der)?;
    (tag == SEQUENCE).then_some(())?;
    let (tag, tbs, _) = element(certificate)?;
    (tag == SEQUENCE).then_some(())?;
    let mut rest = tbs;
    // [0] version (optional), serialNumber, signature, issuer, then validity.
    let (tag, _, after) = element(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    for _ in 0..3 {
        rest = element(rest)?.2;
    }
    let (tag, validity, _) = element(rest)?;
    (tag == SEQUENCE).then_some(())?;
    let (_, _, after_not_before) = element(validity)?;
    let (tag, time, _) = element(after_not_before)?;
    let text = std::str::from_utf8(time).ok()?;
    let (year, rest) = match tag {
        0x17 => {
            // UTCTime: YYMMDDHHMMSSZ, years 1950-2049 (RFC 5280 section 4.1.2.5.1).
            let yy: i32 = text.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, text.get(2..)?)
        }
        0x18 => (text.get(..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    let field = |i: usize| -> Option<i8> { rest.get(i..i + 2)?.parse().ok() };
    let date = jiff::civil::date(i16::try_from(year).ok()?, field(0)?, field(2)?);
    let when = date.at(field(4)?, field(6)?, field(8)?, 0);
    jiff::tz::TimeZone::UTC.to_timestamp(when).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_is_read_from_a_real_certificate() {
        // A self-signed certificate made with `openssl req -x509 -days 1 -subj /CN=t` (notAfter 2026-12-03 15:12:01 UTC).
        let pem = "-----BEGIN CERTIFICATE-----
MIIBbTCCAROgAwIBAgIUZIO8wDOWwfZnx5IjE3vDouLyZIEwCgYIKoZIzj0EAwIw
DDEKMAgGA1UEAwwBdDAeFw0yNjEyMDIxNTEyMDFaFw0yNjEyMDMxNTEyMDFaMAwx
CjAIBgNVBAMMAXQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASKxnUzUcb1KO4h
ME5+yqjKYeRZxaxQyp35CVOXRc7aGcVBzowBd8DTMr0zjlJ1Wbzx8mC1rnJnW76N
nUZdgNHto1MwUTAdBgNVHQ4EFgQUNiaLy+X17wwutowg/JeZEJCHjVUwHwYDVR0j
BBgwFoAUNiaLy+X17wwutowg/JeZEJCHjVUwDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNIADBFAiB26TeCHJTkUoHH3S4lQqzhLoq/Vl4kutyW8ZIDfTddwgIh
APo1pFe2g0tLZt5omdN7095BhHKGYhWh6RA1CHNRMES0
-----END CERTIFICATE-----
";
        let der = pem_block(pem, "CERTIFICATE").expect("pem");
        assert_eq!(not_after(&der), Some("2026-12-03T15:12:01Z".parse().expect("ts")));
        assert_eq!(not_after(b"\x30\x03\x02\x01\x01"), None);
        assert_eq!(thumbprints(&der).0.len(), 20);
    }
}
