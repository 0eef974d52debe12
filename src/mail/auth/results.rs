//! `Authentication-Results` headers (RFC 8601): parsing, and which of them to believe.
//!
//! Anybody can write an `Authentication-Results` header into a mail; only the
//! ones the receiving servers added count (RFC 8601 §5, §7.1, §7.2). Headers are
//! prepended as a mail travels, so the top of the header block is the newest
//! and was written by the servers closest to the mailbox. [`trusted`] walks the
//! block from the top and believes a header that names a trusted authserv-id
//! only while every `Received` header above it was added by a trusted server:
//! a `Received` header is the trusted server's when the host in its `by` clause
//! is one of the trusted authserv-ids. The first `Received` header added by
//! anybody else ends the walk; everything below it came from outside.
//!
//! Position is not the whole story: an attacker can write a `Received` header
//! naming our server below the real ones. So the trusted server must also
//! remove `Authentication-Results` headers carrying its own authserv-id from
//! mail it receives (RFC 8601 §5 asks it to); README "Security" says how.

/// One result of an `Authentication-Results` header (a `resinfo`: method, result, properties).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    /// The server that wrote it (lower case).
    pub authserv_id: String,
    /// `dkim`, `spf`, `dmarc` … (lower case).
    pub method: String,
    /// `pass`, `fail`, `none` … (lower case).
    pub result: String,
    /// `header.d=example.com`, `smtp.mailfrom=a@example.com` …, as (name, value), names in lower case.
    pub props: Vec<(String, String)>,
}

impl AuthResult {
    /// The value of property `name` (`header.d`), if present.
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.props.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Display for AuthResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.method, self.result)?;
        for (n, v) in &self.props {
            write!(f, " {n}={v}")?;
        }
        write!(f, " by {}", self.authserv_id)
    }
}

/// Removes RFC 5322 comments (nested parentheses), keeping quoted strings as they are.
fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for ch in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(ch);
            }
            continue;
        }
        match ch {
            '\\' if quoted || depth > 0 => {
                escaped = true;
                if depth == 0 {
                    out.push(ch);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(ch);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                out.push(' ');
            }
            '\r' | '\n' => out.push(' '),
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    out
}

/// Splits on `;` outside quoted strings.
fn statements(value: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    for ch in value.chars() {
        match ch {
            ';' if !quoted => parts.push(String::new()),
            _ => {
                quoted ^= ch == '"';
                if let Some(p) = parts.last_mut() {
                    p.push(ch);
                }
            }
        }
    }
    parts
}

/// The authserv-id of an `Authentication-Results` value and its results; `None`
/// when the value has no authserv-id (it starts with a result, as Exchange Online writes them).
pub fn parse(value: &str) -> Option<(String, Vec<AuthResult>)> {
    let clean = without_comments(value);
    let mut parts = statements(&clean).into_iter();
    let head = parts.next()?;
    let authserv_id = head.split_whitespace().next()?.trim_end_matches('.').to_ascii_lowercase();
    if authserv_id.is_empty() || authserv_id.contains('=') {
        return None;
    }
    let mut results = Vec::new();
    for part in parts {
        let mut words = part.split_whitespace();
        let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else { continue };
        let method = method.split('/').next().unwrap_or(method).to_ascii_lowercase();
        let props = words
            .filter_map(|w| w.split_once('='))
            .filter(|(n, _)| n.contains('.'))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim_matches('"').to_string()))
            .collect();
        results.push(AuthResult { authserv_id: authserv_id.clone(), method, result: result.to_ascii_lowercase(), props });
    }
    Some((authserv_id, results))
}

/// The host in the `by` clause of a `Received` header value (lower case), if it has one.
pub fn received_by(value: &str) -> Option<String> {
    let clean = without_comments(value);
    let stamp = clean.rsplit_once(';').map_or(clean.as_str(), |(clauses, _)| clauses);
    let mut words = stamp.split_whitespace();
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case("by") {
            return words.next().map(|h| h.trim_end_matches('.').to_ascii_lowercase());
        }
    }
    None
}

/// True when header `name` is `wanted` (case-insensitive).
fn is(name: &str, wanted: &str) -> bool {
    name.trim().eq_ignore_ascii_case(wanted)
}

/// The results srgate may believe: from `Authentication-Results` headers naming one
/// of `trusted` as authserv-id, above the first `Received` header whose `by` host is
/// not one of `trusted` (see the module docs). `headers` are in the mail's order.
pub fn trusted(headers: &[(String, String)], trusted: &[String]) -> Vec<AuthResult> {
    let is_trusted = |host: &str| trusted.iter().any(|t| t.eq_ignore_ascii_case(host));
    let mut out = Vec::new();
    for (name, value) in headers {
        if is(name, "Received") {
            match received_by(value) {
                Some(host) if is_trusted(&host) => continue,
                _ => break,
            }
        }
        if is(name, "Authentication-Results")
            && let Some((id, results)) = parse(value)
            && is_trusted(&id)
        {
            out.extend(results);
        }
    }
    out
}

/// The results of the first `Authentication-Results` header of the block when `id`
/// wrote it (a provider that stamps every mail it receives above the sender's headers).
pub fn first_by(headers: &[(String, String)], id: &str) -> Vec<AuthResult> {
    headers
        .iter()
        .find(|(n, _)| is(n, "Authentication-Results"))
        .and_then(|(_, v)| parse(v))
        .filter(|(authserv, _)| authserv.eq_ignore_ascii_case(id))
        .map(|(_, results)| results)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    fn ids() -> Vec<String> {
        vec!["mx.example.test".into()]
    }

    #[test]
    fn parses_results_comments_and_quotes() {
        let (id, r) = parse(
            "mx.example.test 1; dkim=pass (2048-bit key; secure) header.d=example.test header.s=sel;\r\n spf=pass (sender ok) smtp.mailfrom=ann@example.test; dmarc=pass reason=\"a;b\" header.from=example.test",
        )
        .expect("parsed");
        assert_eq!(id, "mx.example.test");
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!((r[0].method.as_str(), r[0].result.as_str(), r[0].prop("header.d")), ("dkim", "pass", Some("example.test")));
        assert_eq!(r[1].prop("smtp.mailfrom"), Some("ann@example.test"));
        assert_eq!(r[2].prop("header.from"), Some("example.test"));
        assert_eq!(parse("mx.example.test; none").map(|(_, r)| r.len()), Some(0));
        assert!(parse("spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=contoso.com; dkim=pass header.d=contoso.com").is_none());
    }

    #[test]
    fn received_by_clause() {
        assert_eq!(
            received_by(
                "from a.example (a.example [192.0.2.1])\r\n\tby mx.example.test (Postfix) with ESMTP id 1; Tue, 3 Mar 2026 10:00:00 +0100"
            )
            .as_deref(),
            Some("mx.example.test")
        );
        assert_eq!(received_by("from x (helo by evil) by MX.Example.Test. with LMTP; date").as_deref(), Some("mx.example.test"));
        assert_eq!(received_by("from x with SMTP; date"), None);
    }

    #[test]
    fn only_headers_above_the_first_foreign_received_count() {
        let good = "mx.example.test; dkim=pass header.d=example.test";
        // The trusted server's header, above its own Received and below the LMTP hop.
        let mail = h(&[
            ("Received", "from mx.example.test by mx.example.test with LMTP; date"),
            ("Authentication-Results", good),
            ("Received", "from out.example.net (out.example.net [192.0.2.1]) by mx.example.test (Postfix); date"),
            ("Received", "from laptop by out.example.net; date"),
        ]);
        assert_eq!(trusted(&mail, &ids()).len(), 1);
        // Forged below a Received of a server that is not ours.
        let forged_below = h(&[
            ("Received", "from out.example.net by mx.example.test; date"),
            ("Received", "from laptop by out.example.net; date"),
            ("Authentication-Results", good),
        ]);
        assert!(trusted(&forged_below, &ids()).is_empty());
        // Above, but by a server we do not trust.
        let other_id =
            h(&[("Authentication-Results", "evil.example; dkim=pass header.d=example.test"), ("Received", "by mx.example.test; d")]);
        assert!(trusted(&other_id, &ids()).is_empty());
        // A Received without a by clause is nobody we trust.
        let anonymous = h(&[("Received", "from somewhere; date"), ("Authentication-Results", good)]);
        assert!(trusted(&anonymous, &ids()).is_empty());
        // No Received at all (appended by the mailbox owner): the top of the block is ours.
        assert_eq!(trusted(&h(&[("Authentication-Results", good)]), &ids()).len(), 1);
        assert!(trusted(&h(&[("Authentication-Results", good)]), &[]).is_empty());
    }

    #[test]
    fn the_first_header_of_a_provider() {
        let mail = h(&[
            ("Received", "by 2002:a05:7300::1 with SMTP id x; date"),
            ("Received", "from out.example.net by mx.google.com with ESMTPS id y; date"),
            ("Authentication-Results", "mx.google.com; dkim=fail header.i=@example.test"),
            ("Authentication-Results", "mx.google.com; dkim=pass header.i=@example.test"),
        ]);
        let r = first_by(&mail, "mx.google.com");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].result, "fail", "only the topmost header is Google's own");
        assert!(first_by(&h(&[("Authentication-Results", "evil.example; dkim=pass")]), "mx.google.com").is_empty());
    }
}
