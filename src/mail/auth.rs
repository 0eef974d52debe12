//! Is a staff mail really from staff? `Authentication-Results` (RFC 8601) from a trusted server.
//!
//! With `require_authenticated_staff = true`, a mail from a roster address is
//! staff mail only when a header added by one of `trusted_authserv_ids`
//! reports DKIM, SPF or DMARC `pass` aligned with the From domain. (Verifying
//! DKIM signatures ourselves would need DNS at processing time; the receiving
//! MTA has already done it, so its verdict is what we trust.)

/// The method that authenticated `from_domain`, from the trusted `Authentication-Results` headers.
pub fn authenticated(headers: &[(String, String)], from_domain: &str, trusted: &[String]) -> Option<String> {
    let from_domain = from_domain.to_ascii_lowercase();
    let aligned = |d: &str| {
        let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
        let d = d.rsplit('@').next().unwrap_or(&d).to_string();
        d == from_domain || from_domain.ends_with(&format!(".{d}")) || d.ends_with(&format!(".{from_domain}"))
    };
    for (_, value) in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Authentication-Results")) {
        let unfolded = value.replace(['\r', '\n'], " ");
        let mut parts = unfolded.split(';');
        let authserv = parts.next().unwrap_or("").split_whitespace().next().unwrap_or("").to_ascii_lowercase();
        if !trusted.iter().any(|t| t.eq_ignore_ascii_case(&authserv)) {
            continue;
        }
        for result in parts {
            let words: Vec<&str> = result.split_whitespace().collect();
            let Some((method, verdict)) = words.first().and_then(|w| w.split_once('=')) else { continue };
            if !verdict.eq_ignore_ascii_case("pass") {
                continue;
            }
            let keys: &[&str] = match method.to_ascii_lowercase().as_str() {
                "dkim" => &["header.d", "header.i"],
                "spf" => &["smtp.mailfrom", "smtp.helo"],
                "dmarc" => &["header.from"],
                _ => &[],
            };
            let ok = words
                .iter()
                .filter_map(|w| w.split_once('='))
                .any(|(k, v)| keys.iter().any(|key| k.eq_ignore_ascii_case(key)) && aligned(v));
            if ok {
                return Some(format!("{method}=pass by {authserv}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> Vec<(String, String)> {
        vec![("Authentication-Results".into(), v.into())]
    }

    #[test]
    fn trusted_aligned_passes_only() {
        let trusted = vec!["mx.example.test".to_string()];
        assert!(authenticated(&h("mx.example.test; dkim=pass header.d=example.test header.s=s1"), "example.test", &trusted).is_some());
        assert!(authenticated(&h("mx.example.test; spf=pass smtp.mailfrom=ann@example.test"), "example.test", &trusted).is_some());
        assert!(authenticated(&h("mx.example.test; dmarc=pass header.from=example.test"), "example.test", &trusted).is_some());
        assert!(authenticated(&h("mx.example.test; dkim=fail header.d=example.test"), "example.test", &trusted).is_none());
        assert!(authenticated(&h("mx.example.test; dkim=pass header.d=evil.example"), "example.test", &trusted).is_none());
        assert!(authenticated(&h("evil.example; dkim=pass header.d=example.test"), "example.test", &trusted).is_none());
        assert!(authenticated(&[], "example.test", &trusted).is_none());
    }
}
