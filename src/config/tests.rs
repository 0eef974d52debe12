//! Unit tests of the configuration: defaults, errors with their lines, store keys.

use super::*;

const GOOD: &str = r#"
data_dir = "data"
support_address = "support@example.test"
[smtp]
host = "127.0.0.1"
port = 2525
[[mailbox]]
host = "127.0.0.1"
port = 1143
username = "support@example.test"
password = "secret"
[[cse]]
name = "Ann"
email = "Ann@Example.test"
"#;

#[test]
fn good_config_compiles_with_defaults() {
    let c = compile(Path::new("/etc/srgate/srgate.toml"), GOOD).expect("valid");
    assert_eq!(c.data_dir, PathBuf::from("/etc/srgate/data"));
    assert_eq!(c.mailboxes[0].folder, "INBOX");
    assert_eq!(c.mailboxes[0].poll_interval, Duration::from_secs(30));
    assert_eq!(c.cses[0].email, "ann@example.test");
    assert!(c.cse_by_email("ANN@example.test").is_some());
    assert!(!format!("{:?}", c).contains("secret"));
}

#[test]
fn every_error_is_reported_with_its_line() {
    let bad = GOOD.replace("port = 1143", "port = 1143\nfolderr = \"x\"").replace("[smtp]", "colour = 1\n[smtp]");
    let errs = compile(Path::new("c.toml"), &bad).expect_err("invalid");
    let text = errs.to_string();
    assert!(text.contains("c.toml:4: unknown key `colour`"), "{text}");
    assert!(text.contains("folderr"), "{text}");
    assert_eq!(errs.0.len(), 2, "{text}");
}

#[test]
fn the_store_stall_limit_defaults_to_two_minutes_and_refuses_a_hair_trigger() {
    assert_eq!(compile(Path::new("c.toml"), GOOD).expect("valid").store_stall_limit, Duration::from_secs(120));
    let five = format!("store_stall_limit = \"5m\"\n{GOOD}");
    assert_eq!(compile(Path::new("c.toml"), &five).expect("valid").store_stall_limit, Duration::from_secs(300));
    let errs = compile(Path::new("c.toml"), &format!("store_stall_limit = \"2s\"\n{GOOD}")).expect_err("too short").to_string();
    assert!(errs.contains("c.toml:1:") && errs.contains("at least 10s"), "{errs}");
}

#[test]
fn desk_lists_are_100_long_unless_set() {
    assert_eq!(compile(Path::new("c.toml"), GOOD).expect("valid").digest_limit, 100);
    assert_eq!(compile(Path::new("c.toml"), &format!("digest_limit = 25\n{GOOD}")).expect("valid").digest_limit, 25);
    let errs = compile(Path::new("c.toml"), &format!("digest_limit = 0\n{GOOD}")).expect_err("zero").to_string();
    assert!(errs.contains("c.toml:1:") && errs.contains("digest_limit"), "{errs}");
}

#[test]
fn the_store_cache_is_32_mib_unless_set() {
    assert_eq!(compile(Path::new("c.toml"), GOOD).expect("valid").store_cache_mb, 32);
    assert_eq!(compile(Path::new("c.toml"), &format!("store_cache_mb = 16\n{GOOD}")).expect("valid").store_cache_mb, 16);
    let errs = compile(Path::new("c.toml"), &format!("store_cache_mb = 0\n{GOOD}")).expect_err("zero").to_string();
    assert!(errs.contains("c.toml:1:") && errs.contains("store_cache_mb"), "{errs}");
}

#[test]
fn an_unnamed_mailbox_is_shown_by_its_position_and_keeps_its_legacy_store_key() -> Result<(), Box<dyn std::error::Error>> {
    let two = format!(
        "{GOOD}[[mailbox]]\nname = \"sales\"\nhost = \"127.0.0.1\"\nport = 1143\nusername = \"sales@example.test\"\npassword = \"x\"\n[[mailbox]]\nhost = \"127.0.0.1\"\nport = 1143\nusername = \"other@example.test\"\nfolder = \"Support\"\npassword = \"x\"\n"
    );
    let c = compile(Path::new("c.toml"), &two).map_err(|e| e.to_string())?;
    let shown: Vec<(&str, &str)> = c.mailboxes.iter().map(|m| (m.name.as_str(), m.store_key())).collect();
    assert_eq!(shown, [("mailbox-1", "support@example.test/INBOX"), ("sales", "sales"), ("mailbox-3", "other@example.test/Support")]);
    // A data directory written when the first mailbox was called `support@example.test/INBOX`
    // still has its reading position under that key.
    let dir = tempfile::tempdir()?;
    let store = crate::io::store::Store::open(dir.path(), std::time::Duration::ZERO, 8 << 20)?;
    let read = crate::io::store::Commit { mailbox: "support@example.test/INBOX".into(), source: Some((7, 42)), ..Default::default() };
    store.commit(&read)?;
    let position = store.mailbox_state(c.mailboxes[0].store_key())?.ok_or("the old position is lost")?;
    assert_eq!((position.uid_validity, position.last_uid), (7, 42));
    Ok(())
}

#[test]
fn a_name_equal_to_another_mailboxs_legacy_key_is_refused() {
    let clash = format!(
        "{GOOD}[[mailbox]]\nname = \"support@example.test/INBOX\"\nhost = \"127.0.0.1\"\nport = 1143\nusername = \"x@example.test\"\npassword = \"x\"\n"
    );
    let errs = compile(Path::new("c.toml"), &clash).expect_err("shared position").to_string();
    assert!(errs.contains("share the store's reading position `support@example.test/INBOX`"), "{errs}");
}

#[test]
fn the_control_socket_group_must_exist() {
    assert_eq!(compile(Path::new("c.toml"), GOOD).expect("valid").control_socket_group, None);
    // The edge's lookup, as `Config::load` is given it.
    let system = |source: &str| compile_with(Path::new("c.toml"), source, &crate::io::access::lookup_group);
    let root = system(&format!("control_socket_group = \"root\"\n{GOOD}")).expect("valid");
    assert_eq!(root.control_socket_group.map(|g| g.gid), Some(0));
    let errs = system(&format!("control_socket_group = \"no-such-group-here\"\n{GOOD}")).expect_err("unknown");
    assert!(errs.to_string().contains("c.toml:1:") && errs.to_string().contains("no group `no-such-group-here`"), "{errs}");
}

#[test]
fn durations() {
    assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
    assert_eq!(parse_duration("5d"), Some(Duration::from_secs(432_000)));
    assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
    assert_eq!(parse_duration("soon"), None);
}

const OAUTH: &str = r#"
data_dir = "data"
support_address = "support@example.test"
admin_address = "it@example.test"
[smtp]
host = "127.0.0.1"
port = 2525
username = "support@example.test"
auth = "oauth2"
credential = "m365"
[[mailbox]]
host = "127.0.0.1"
port = 1143
username = "support@example.test"
auth = "oauth2"
credential = "m365"
[[credential]]
name = "m365"
provider = "microsoft"
tenant = "contoso.onmicrosoft.com"
client_id = "11111111-2222-3333-4444-555555555555"
client_secret_env = "SRGATE_TEST_CLIENT_SECRET"
client_secret_expires = "2027-06-30"
flow = "client_credentials"
[[cse]]
name = "Ann"
email = "ann@example.test"
"#;

#[test]
fn an_oauth2_mailbox_and_smtp_name_a_microsoft_credential_with_its_endpoints_and_scopes() {
    let dir = tempfile::tempdir().expect("tmp");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "very-secret\n").expect("write");
    let source = OAUTH.replace("client_secret_env = \"SRGATE_TEST_CLIENT_SECRET\"", &format!("client_secret_file = {secret:?}"));
    let c = compile(Path::new("c.toml"), &source).expect("valid");
    assert_eq!(c.mailboxes[0].login, Login::OAuth2 { credential: "m365".into() });
    assert_eq!(c.smtp.login, Some(Login::OAuth2 { credential: "m365".into() }));
    let cred = c.credential("m365").expect("credential");
    assert_eq!(cred.token_url, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    assert_eq!(cred.scopes, ["https://outlook.office365.com/.default"]);
    assert_eq!(cred.expiry().map(|(what, _)| what), Some("client secret"));
    assert!(!format!("{c:?}").contains("very-secret"));
}

#[test]
fn credential_mistakes_are_named_with_their_lines() {
    let dir = tempfile::tempdir().expect("tmp");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").expect("write");
    let good = OAUTH.replace("client_secret_env = \"SRGATE_TEST_CLIENT_SECRET\"", &format!("client_secret_file = {:?}", secret));
    assert!(compile(Path::new("c.toml"), &good).is_ok(), "{:?}", compile(Path::new("c.toml"), &good).err().map(|e| e.to_string()));
    let missing = good.replace("credential = \"m365\"\n[[mailbox]]", "credential = \"nope\"\n[[mailbox]]");
    let text = compile(Path::new("c.toml"), &missing).expect_err("unknown credential").to_string();
    assert!(text.contains("c.toml:5: [smtp]: there is no [[credential]] named `nope`"), "{text}");
    let plain = good
        .replace("provider = \"microsoft\"", "provider = \"generic\"\ntoken_url = \"http://idp.example.com/token\"")
        .replace("tenant = \"contoso.onmicrosoft.com\"\n", "");
    let text = compile(Path::new("c.toml"), &plain).expect_err("plain http").to_string();
    assert!(text.contains("c.toml:17: [[credential]] `m365`") && text.contains("use https"), "{text}");
    let with_password = good.replacen(
        "auth = \"oauth2\"\ncredential = \"m365\"\n[[credential]]",
        "auth = \"oauth2\"\ncredential = \"m365\"\npassword = \"x\"\n[[credential]]",
        1,
    );
    let text = compile(Path::new("c.toml"), &with_password).expect_err("password with oauth2").to_string();
    assert!(text.contains("a password is not used with `auth = \"oauth2\"`"), "{text}");
}

/// Issue 14, item 4: `[[address]]` entries beside `support_address`.
#[test]
fn support_addresses_compile_and_decide_who_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("ventas")).expect("mkdir");
    let text = format!(
        "{GOOD}\n[[address]]\naddress = \"Ventas@Example.test\"\nname = \"Soporte\"\ntemplates_dir = \"ventas\"\nproduct = \"network\"\nlanguage = \"ES\"\nsignature = \"Soporte Ejemplo\\nMadrid\\n\"\n[[address]]\naddress = \"brand@example.test\"\nname = \"Brand Care\"\n"
    );
    let c = compile(&dir.path().join("srgate.toml"), &text).expect("valid");
    let ventas = c.address_entry("VENTAS@example.test").expect("listed");
    assert_eq!(ventas.address, "ventas@example.test");
    assert_eq!((ventas.product.as_deref(), ventas.language.as_deref()), (Some("network"), Some("es")));
    assert_eq!(ventas.templates_dir.as_deref(), Some(dir.path().join("ventas").as_path()));
    assert_eq!(ventas.signature.as_deref(), Some("Soporte Ejemplo\nMadrid"));
    assert!(c.is_ours("brand@example.test") && c.is_ours("Support@example.test") && !c.is_ours("ann@example.test"));
    assert_eq!(c.own_addresses(), vec!["support@example.test", "ventas@example.test", "brand@example.test"]);

    // To, then Cc, then the delivery headers; the default when none is ours.
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(c.written_to(&v(&["x@example.com", "brand@example.test"]), &v(&["ventas@example.test"]), &[]), "brand@example.test");
    assert_eq!(c.written_to(&v(&["x@example.com"]), &v(&["Ventas@example.test"]), &v(&["brand@example.test"])), "ventas@example.test");
    assert_eq!(c.written_to(&[], &[], &v(&["brand@example.test"])), "brand@example.test");
    assert_eq!(c.written_to(&v(&["support@example.test", "brand@example.test"]), &[], &[]), "support@example.test");
    assert_eq!(c.written_to(&v(&["x@example.com"]), &[], &[]), "support@example.test");

    let id = c.identity(Some("ventas@example.test"));
    assert_eq!(
        (id.address, id.name, id.signature, id.templates),
        ("ventas@example.test", Some("Soporte"), "Soporte Ejemplo\nMadrid", Some("ventas@example.test"))
    );
    let brand = c.identity(Some("brand@example.test"));
    assert_eq!((brand.name, brand.signature, brand.templates), (Some("Brand Care"), "", None));
    // An SR from before [[address]], or of an address no longer configured: the default.
    for old in [None, Some("gone@example.test")] {
        let id = c.identity(old);
        assert_eq!((id.address, id.name, id.signature), ("support@example.test", None, ""));
    }
    assert_eq!(c.address_templates(), vec![("ventas@example.test".to_string(), dir.path().join("ventas"))]);
}

#[test]
fn without_addresses_the_support_address_is_the_only_one() {
    let c = compile(Path::new("c.toml"), GOOD).expect("valid");
    assert!(c.addresses.is_empty());
    assert_eq!(c.own_addresses(), vec!["support@example.test"]);
    assert_eq!(c.written_to(&["sales@example.test".to_string()], &[], &[]), "support@example.test");
    assert_eq!(c.identity(None).address, "support@example.test");
    assert!(c.is_ours("support@example.test"), "the mailbox login and the support address");
}

#[test]
fn bad_addresses_are_reported_together_with_their_lines() {
    let text = format!(
        "{GOOD}[[address]]\naddress = \"not an address\"\nname = \"A\"\n[[address]]\naddress = \"b@example.test\"\nname = \"B\"\n[[address]]\naddress = \"B@example.test\"\nname = \"B again\"\n[[address]]\naddress = \"ann@example.test\"\nname = \"Ann\"\n[[address]]\naddress = \"c@example.test\"\nname = \" \"\ntemplates_dir = \"/nonexistent/templates\"\nlanguage = \"spanish\"\nproduct = \"\"\n[[address]]\naddress = \"d@example.test\"\nname = \"D\"\ncolour = \"red\"\n"
    );
    let errs = compile(Path::new("c.toml"), &text).expect_err("invalid").to_string();
    for expected in [
        "c.toml:15: [[address]]: `not an address` is not a mail address",
        "c.toml:21: [[address]] `b@example.test` is listed twice",
        "c.toml:24: [[address]] `ann@example.test` is also a CSE's address",
        "c.toml:27: [[address]] `c@example.test`: `name` is empty",
        "templates_dir /nonexistent/templates is not a folder",
        "`spanish` is not a two-letter ISO 639-1 code",
        "`c@example.test`: `product` is empty",
        "c.toml:36: unknown field `colour`",
    ] {
        assert!(errs.contains(expected), "missing {expected:?} in:\n{errs}");
    }
}

#[test]
fn internal_domains_are_mail_domains_and_never_public() {
    assert!(compile(Path::new("c.toml"), GOOD).expect("valid").internal_domains.is_empty());
    let c = compile(Path::new("c.toml"), &format!("internal_domains = [\"Corp.Example.\", \"@branch.example\"]\n{GOOD}")).expect("valid");
    assert_eq!(c.internal_domains, vec!["corp.example", "branch.example"]);
    assert!(c.is_internal("ann@corp.example") && c.is_internal("bob@EU.Corp.Example") && c.is_internal("carla@branch.example"));
    assert!(!c.is_internal("eve@evilcorp.example") && !c.is_internal("eve@corp.example.evil.example") && !c.is_internal("corp.example"));
    for (value, why) in
        [("\"gmail.com\"", "public mail domain"), ("\"localhost\"", "not a mail domain"), ("\"a@b.example\"", "not a mail domain")]
    {
        let errs = compile(Path::new("c.toml"), &format!("public_domains = [\"isp.example\"]\ninternal_domains = [{value}]\n{GOOD}"))
            .expect_err(value)
            .to_string();
        assert!(errs.contains("c.toml:2:") && errs.contains(why), "{value}: {errs}");
    }
    // A public domain named by `public_domains`, wherever that key is in the file.
    let errs = compile(Path::new("c.toml"), &format!("internal_domains = [\"isp.example\"]\npublic_domains = [\"isp.example\"]\n{GOOD}"))
        .expect_err("public")
        .to_string();
    assert!(errs.contains("public mail domain"), "{errs}");
}
