use super::*;

fn mail(headers: &str) -> Inbound {
    crate::mail::inbound::parse(format!("From: Ann <ann@example.test>\r\n{headers}Subject: Re: [SR#100001] x\r\n\r\n#close\r\n").as_bytes())
        .expect("mail")
}

fn with(mut m: Inbound, auth: Authentication) -> Inbound {
    m.authentication = auth;
    m
}

fn ids() -> Vec<String> {
    vec!["mx.example.test".to_string()]
}

fn verified(pass: &[&str]) -> Authentication {
    Authentication { checked: Checked::Verified, dkim_pass: pass.iter().map(|d| d.to_string()).collect(), ..Authentication::default() }
}

#[test]
fn alignment_is_relaxed_but_never_foreign() {
    assert!(aligned("example.test", "example.test"));
    assert!(aligned("mail.example.test", "example.test"));
    assert!(aligned("@Example.Test", "eu.example.test"));
    assert!(!aligned("evil.example", "example.test"));
    assert!(!aligned("notexample.test", "example.test"));
    assert!(!aligned("test", "example.test"), "a bare top-level domain aligns with nothing");
}

#[test]
fn srgate_dkim_aligned_with_from_authenticates() {
    let v = staff_verdict(&with(mail(""), verified(&["example.test"])), &[]);
    assert_eq!(v, Verdict::Authenticated("DKIM signature of example.test verified by srgate".into()));
    let foreign = staff_verdict(&with(mail(""), verified(&["evil.example"])), &[]);
    assert!(matches!(&foreign, Verdict::Unauthenticated(w) if w.contains("evil.example")), "{foreign:?}");
    let failed = Authentication { dkim_failed: vec!["d=example.test: body hash mismatch".into()], ..verified(&[]) };
    let v = staff_verdict(&with(mail(""), failed), &[]);
    assert!(matches!(&v, Verdict::Unauthenticated(w) if w.contains("body hash mismatch")), "{v:?}");
    let v = staff_verdict(&with(mail(""), verified(&[])), &[]);
    assert!(matches!(&v, Verdict::Unauthenticated(w) if w.contains("no DKIM signature")), "{v:?}");
}

#[test]
fn a_trusted_verdict_authenticates_only_when_aligned() {
    let ar = |v: &str| mail(&format!("Authentication-Results: {v}\r\n"));
    for good in [
        "mx.example.test; dkim=pass header.d=example.test",
        "mx.example.test; dkim=pass header.i=@example.test",
        "mx.example.test; spf=pass smtp.mailfrom=ann@example.test",
        "mx.example.test; dmarc=pass header.from=example.test",
    ] {
        assert!(staff_verdict(&ar(good), &ids()).passed(), "{good}");
    }
    for bad in [
        "mx.example.test; dkim=fail header.d=example.test",
        "mx.example.test; dkim=pass header.d=evil.example",
        "mx.example.test; dmarc=pass header.from=sub.example.test",
        "mx.example.test; spf=pass smtp.helo=example.test",
        "evil.example; dkim=pass header.d=example.test",
    ] {
        assert!(!staff_verdict(&ar(bad), &ids()).passed(), "{bad}");
    }
    assert!(!staff_verdict(&ar("mx.example.test; dkim=pass header.d=example.test"), &[]).passed(), "nobody trusted, nothing counts");
}

#[test]
fn a_forged_verdict_below_a_foreign_received_does_not_count() {
    let forged = mail(
        "Received: from out.evil.example by mx.example.test; Tue, 3 Mar 2026 10:00:00 +0100\r\nReceived: from laptop by out.evil.example; Tue, 3 Mar 2026 10:00:00 +0100\r\nAuthentication-Results: mx.example.test; dkim=pass header.d=example.test\r\n",
    );
    let v = staff_verdict(&forged, &ids());
    assert!(matches!(&v, Verdict::Unauthenticated(w) if w.contains("no Authentication-Results from a trusted server")), "{v:?}");
}

#[test]
fn providers_signals() {
    let exchange = mail("X-MS-Exchange-Organization-AuthAs: Internal\r\n");
    assert!(!staff_verdict(&exchange, &[]).passed(), "a generic mailbox ignores Exchange's header");
    let auth = Authentication { provider: Provider::Microsoft365, ..Authentication::default() };
    assert!(staff_verdict(&with(exchange, auth), &[]).passed());
    let google = |headers: &str| {
        with(mail(headers), Authentication { provider: Provider::Google, checked: Checked::Verified, ..Authentication::default() })
    };
    assert!(staff_verdict(&google("Authentication-Results: mx.google.com; dkim=pass header.i=@example.test\r\n"), &[]).passed());
    let forged_below = google(
        "Authentication-Results: mx.google.com; dkim=none\r\nAuthentication-Results: mx.google.com; dkim=pass header.i=@example.test\r\n",
    );
    assert!(!staff_verdict(&forged_below, &[]).passed(), "only Google's own topmost header counts");
}

#[test]
fn dns_trouble_is_said_and_awaited() {
    let m = with(mail(""), Authentication { checked: Checked::TempFailed("timed out".into()), ..Authentication::default() });
    let v = staff_verdict(&m, &ids());
    assert!(matches!(&v, Verdict::Unauthenticated(w) if w.contains("DNS failed") && w.contains("timed out")), "{v:?}");
    assert!(awaits_dns(&m, &ids()));
    let trusted = with(
        mail("Authentication-Results: mx.example.test; dkim=pass header.d=example.test\r\n"),
        Authentication { checked: Checked::TempFailed("timed out".into()), ..Authentication::default() },
    );
    assert!(!awaits_dns(&trusted, &ids()), "a trusted verdict needs no DNS");
    assert!(!awaits_dns(&with(mail(""), verified(&[])), &ids()));
}

#[test]
fn customers_are_authenticated_by_dmarc_only() {
    let pass = Authentication { dmarc: Dmarc::Pass, ..verified(&["example.test"]) };
    assert!(customer_authenticated(&with(mail(""), pass), &[]));
    assert!(!customer_authenticated(&with(mail(""), verified(&["example.test"])), &[]), "DKIM alone is not DMARC");
    assert!(customer_authenticated(&mail("Authentication-Results: mx.example.test; dmarc=pass header.from=example.test\r\n"), &ids()));
    assert!(!customer_authenticated(&mail("Authentication-Results: mx.example.test; dkim=pass header.d=example.test\r\n"), &ids()));
    assert!(!customer_authenticated(&mail("Authentication-Results: evil.example; dmarc=pass header.from=example.test\r\n"), &ids()));
}
