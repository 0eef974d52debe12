//! Tests of the rule grammar, its evaluation and the shipped rules.

use super::*;

fn roster() -> RosterView {
    RosterView {
        cses: vec![
            RosterCse { name: "Ann Martin".into(), email: "ann@example.test".into() },
            RosterCse { name: "Bob Weber".into(), email: "Bob@Example.test".into() },
        ],
        pools: Some(vec!["messaging".into(), "endpoint".into(), "network".into(), "cloud".into()]),
        addresses: Some(vec!["support@example.test".into(), "ventas@example.test".into()]),
    }
}

fn facts<'a>(subject: &'a str, text: &'a str) -> Facts<'a> {
    Facts {
        subject,
        text,
        sender: "jo@customer.test",
        headers: &[],
        detected_language: None,
        account: None,
        tier: None,
        mailbox: "support",
        address: "support@example.test",
        business_hours: true,
    }
}

fn one(src: &str) -> Result<RuleSet, Diagnostics> {
    RuleSet::compile(&[(Path::new("rules/50-test.toml"), src)], &roster())
}

fn shipped() -> RuleSet {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"));
    RuleSet::load_dir(dir, &roster()).unwrap_or_else(|e| panic!("shipped rules must load:\n{e}"))
}

#[test]
fn shipped_rules_load_in_file_name_order() {
    let set = shipped();
    assert!(set.len() >= 9, "{}", set.len());
    let files: Vec<String> =
        set.rules().iter().map(|r| r.file().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()).collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted);
    assert!(!files.iter().any(|f| f == POLICY_FILE));
    assert_eq!(set.rules()[0].name(), "P1: outage or production down");
}

#[test]
fn shipped_rules_load_without_pool_checks() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"));
    let set = RuleSet::load_dir(dir, &RosterView::default()).expect("pools unchecked when None");
    assert!(!set.is_empty());
}

#[test]
fn shipped_rules_decide_priority_and_product() {
    let set = shipped();
    // (language, subject, text, expected priority, expected product)
    let cases: &[(&str, &str, &str, Priority, Option<&str>)] = &[
        ("en", "URGENT: production down", "Since 08:00 our whole production is down, all users are affected.", Priority::P1, None),
        ("en", "VPN outage at HQ", "None of our staff can reach the VPN concentrator.", Priority::P1, Some("network")),
        ("en", "Ransomware on file server", "Several laptops show a ransom note, files are encrypted.", Priority::P1, Some("endpoint")),
        ("en", "Exchange very slow", "Outlook takes minutes to open each mail, there is no workaround.", Priority::P2, Some("messaging")),
        ("en", "How do I add a user to the VPN group?", "Could you point me to the documentation?", Priority::P4, Some("network")),
        ("en", "Question about invoices", "Please send a copy of last month's invoice.", Priority::P3, None),
        ("fr", "Panne de production", "Bonjour, notre messagerie est hors service depuis ce matin.", Priority::P1, Some("messaging")),
        (
            "fr",
            "Réseau très lent",
            "Le réseau est très lent sur le site de Lyon, sans contournement possible.",
            Priority::P2,
            Some("network"),
        ),
        ("fr", "Comment faire pour installer l'antivirus ?", "Sur un poste de travail neuf.", Priority::P4, Some("endpoint")),
        (
            "de",
            "Produktionsausfall im Werk",
            "Seit 7 Uhr steht die Produktion, das Netzwerk ist nicht erreichbar.",
            Priority::P1,
            Some("network"),
        ),
        ("de", "Datenverlust nach Update", "Nach dem Update sind Daten in Azure gelöscht.", Priority::P1, Some("cloud")),
        ("de", "Wie kann ich die E-Mail Signatur ändern?", "Gibt es dazu eine Dokumentation?", Priority::P4, Some("messaging")),
        ("it", "Fermo produzione", "Il cluster Kubernetes non risponde, fermo produzione totale.", Priority::P1, Some("cloud")),
        ("it", "Perdita di dati sul portatile", "Dopo l'aggiornamento il portatile ha perso i file.", Priority::P1, Some("endpoint")),
        ("it", "VPN molto lenta", "La VPN è molto lenta e non abbiamo nessun workaround.", Priority::P2, Some("network")),
        (
            "es",
            "Caída de producción",
            "Todos los usuarios están afectados, el servidor de correo no responde.",
            Priority::P1,
            Some("messaging"),
        ),
        ("es", "Problema con la red", "La red de la oficina de Madrid es muy lenta.", Priority::P2, Some("network")),
        ("es", "¿Cómo puedo configurar el cortafuegos?", "Necesitamos abrir un puerto en AWS.", Priority::P4, Some("cloud")),
        ("en", "Red error banner in the portal", "The banner shows a red error since yesterday.", Priority::P3, None),
    ];
    let mut failures = Vec::new();
    for (lang, subject, text, priority, product) in cases {
        let mut f = facts(subject, text);
        f.detected_language = Some(lang);
        let v = set.evaluate(&f);
        if v.priority_or_default() != *priority || v.product.as_deref() != *product {
            failures.push(format!(
                "{subject:?}: got {:?}/{:?}, want {priority:?}/{product:?}; matched {:?}",
                v.priority_or_default(),
                v.product,
                v.matched.iter().map(|m| &m.name).collect::<Vec<_>>()
            ));
        }
        if let Some(p) = product {
            assert_eq!(v.assign, Some(Assignment::Pool { pool: p.to_string() }), "{subject}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn first_wins_tags_accumulate_and_reasons_are_given() {
    let set = shipped();
    let v = set.evaluate(&facts("Production down, very slow VPN", "We lost data too."));
    assert_eq!(v.priority, Some(Priority::P1));
    assert_eq!(v.tags, vec!["outage", "data-loss", "degraded"]);
    let first = &v.matched[0];
    assert_eq!(first.name, "P1: outage or production down");
    assert!(first.file.ends_with("10-priority.toml"));
    assert_eq!(first.line, 5);
    assert!(first.reasons[0].starts_with("subject matches \"(?i)"), "{:?}", first.reasons);
    assert!(first.reasons[0].contains("(\"Production down\")"), "{:?}", first.reasons);
    assert!(v.matched[1].effects.contains(&"priority P1 ignored: already P1".to_string()), "{:?}", v.matched[1].effects);
    let json = serde_json::to_value(&v).expect("serializes");
    assert_eq!(json["priority"], "P1");
    assert_eq!(json["assign"]["kind"], "pool");
    assert_eq!(json["matched"][0]["line"], 5);
}

/// The regexes of a condition are scanned together (one set per condition, one set for
/// every rule's text), and the reason is still the first regex in the order written.
#[test]
fn the_reason_is_the_first_regex_written_that_matches() {
    let src = "[[rule]]\nname = \"a\"\nwhen.text = ['zzz', 'beta', 'alpha']\nthen.tags = [\"a\"]\n\n\
               [[rule]]\nname = \"b\"\nwhen.subject_or_text = ['alpha', 'beta']\nthen.tags = [\"b\"]\n\n\
               [[rule]]\nname = \"c\"\nwhen.text = 'gamma'\nthen.tags = [\"c\"]\n";
    let set = one(src).expect("compiles");
    let v = set.evaluate(&facts("no match here", "alpha and then beta"));
    assert_eq!(v.tags, vec!["a", "b"]);
    assert_eq!(v.matched[0].reasons, vec!["text matches \"(?i)beta\" (\"beta\")"]);
    assert_eq!(v.matched[1].reasons, vec!["text matches \"(?i)alpha\" (\"alpha\")"]);
    let v = set.evaluate(&facts("BETA in the subject", "gamma"));
    assert_eq!(v.tags, vec!["b", "c"]);
    assert_eq!(v.matched[0].reasons, vec!["subject matches \"(?i)beta\" (\"BETA\")"]);
}

#[test]
fn every_condition_kind() {
    let src = r#"
[[rule]]
name = "premium french mail in hours"
when.subject = 'hello'
when.text = ['world', 'monde']
when.sender = '@customer\.test$'
when.headers = { "X-Priority" = '^1', "X-Mailer" = ['outlook', 'thunderbird'] }
when.language = ["fr", "de"]
when.account = "ACME"
when.tier = "premium"
when.mailbox = ["support", "urgent"]
when.address = ["Support@example.test", "ventas@example.test"]
when.business_hours = true
then.priority = "p2"
then.language = "fr"
then.tags = "vip"
then.assign = "Ann Martin"
"#;
    let set = one(src).unwrap_or_else(|e| panic!("{e}"));
    let headers = vec![("x-priority".to_string(), "1 (Highest)".to_string()), ("X-Mailer".to_string(), "Mozilla Thunderbird".to_string())];
    let mut f = facts("HELLO there", "bonjour le monde");
    f.headers = &headers;
    f.detected_language = Some("fr");
    f.account = Some("acme");
    f.tier = Some("premium");
    let v = set.evaluate(&f);
    assert_eq!(v.priority, Some(Priority::P2));
    assert_eq!(v.language.as_deref(), Some("fr"));
    assert_eq!(v.tags, vec!["vip"]);
    assert_eq!(v.assign, Some(Assignment::Cse { email: "ann@example.test".into(), name: "Ann Martin".into() }));
    assert_eq!(v.matched[0].reasons.len(), 11, "{:?}", v.matched[0].reasons);
    assert!(v.matched[0].reasons.contains(&"address is support@example.test".to_string()), "{:?}", v.matched[0].reasons);
    assert!(v.matched[0].reasons.contains(&"header X-Priority matches \"(?i)^1\" (\"1\")".to_string()), "{:?}", v.matched[0].reasons);

    // Each condition failing on its own stops the match.
    type Change = Box<dyn Fn(&mut Facts<'_>)>;
    let variants: Vec<Change> = vec![
        Box::new(|f| f.subject = "bye"),
        Box::new(|f| f.text = "nothing"),
        Box::new(|f| f.sender = "jo@other.test"),
        Box::new(|f| f.headers = &[]),
        Box::new(|f| f.detected_language = Some("en")),
        Box::new(|f| f.detected_language = None),
        Box::new(|f| f.account = None),
        Box::new(|f| f.tier = Some("standard")),
        Box::new(|f| f.mailbox = "sales"),
        Box::new(|f| f.address = "other@example.test"),
        Box::new(|f| f.business_hours = false),
    ];
    for (i, change) in variants.iter().enumerate() {
        let mut g = f;
        change(&mut g);
        assert!(set.evaluate(&g).matched.is_empty(), "variant {i} should not match");
    }
}

#[test]
fn address_names_a_configured_support_address() {
    let src = r#"
[[rule]]
name = "Spanish desk"
when.address = "ventas@example.test"
then.language = "es"
then.product = "network"
"#;
    let set = one(src).unwrap_or_else(|e| panic!("{e}"));
    let mut f = facts("hola", "necesito ayuda");
    assert!(set.evaluate(&f).matched.is_empty(), "mail to the main address");
    f.address = "VENTAS@example.test";
    let v = set.evaluate(&f);
    assert_eq!((v.language.as_deref(), v.product.as_deref()), (Some("es"), Some("network")));
    assert_eq!(v.matched[0].reasons, vec!["address is VENTAS@example.test"]);
    let typo = src.replace("ventas@", "vendas@");
    let err = one(&typo).expect_err("an address nobody writes to").to_string();
    assert!(err.contains("rules/50-test.toml:4:") && err.contains("`vendas@example.test` is not a support address"), "{err}");
    let empty = src.replace("\"ventas@example.test\"", "[]");
    assert!(one(&empty).expect_err("empty").to_string().contains("the list is empty"));
}

#[test]
fn stop_ends_evaluation_and_empty_when_always_matches() {
    let src = r#"
[[rule]]
name = "vip"
when.sender = '@vip\.test$'
then.priority = "P2"
then.assign = "bob@example.test"
then.stop = true

[[rule]]
name = "everyone"
then.tags = ["seen"]
then.priority = "P4"
"#;
    let set = one(src).unwrap_or_else(|e| panic!("{e}"));
    let mut f = facts("x", "y");
    f.sender = "boss@vip.test";
    let v = set.evaluate(&f);
    assert_eq!(v.priority, Some(Priority::P2));
    assert!(v.tags.is_empty());
    assert_eq!(v.matched.len(), 1);
    assert_eq!(v.assign, Some(Assignment::Cse { email: "bob@example.test".into(), name: "Bob Weber".into() }));
    let v = set.evaluate(&facts("x", "y"));
    assert_eq!(v.priority, Some(Priority::P4));
    assert_eq!(v.matched[0].name, "everyone");
    assert_eq!(v.matched[0].reasons, vec!["no conditions: always matches"]);
}

#[test]
fn every_error_is_reported_with_file_and_line_in_one_pass() {
    let a = r#"
[[rule]]
name = "bad regex"
when.subject = ['ok', 'unclosed (group']
then.priority = "P1"

[[rule]]
name = "bad priority and unknown cse"
when.colour = "red"
then.priority = "P0"
then.assign = "nobody@example.test"

[[rule]]
then.priority = "P2"
"#;
    let b = r#"
stray = 1
[[rule]]
name = "unknown action, bad tier and pool"
when.tier = "gold"
then.prio = "P1"
then.assign_pool = "printers"
"#;
    let c = "[[rule]\nname = \"x\"\n";
    let files = [(Path::new("rules/10-a.toml"), a), (Path::new("rules/20-b.toml"), b), (Path::new("rules/30-c.toml"), c)];
    let errs = RuleSet::compile(&files, &roster()).expect_err("invalid");
    let text = errs.to_string();
    for want in [
        "rules/10-a.toml:4: `subject`: bad regex `unclosed (group`: unclosed group",
        "rules/10-a.toml:9: when: unknown condition `colour`",
        "rules/10-a.toml:10: `priority`: `P0` is not a priority",
        "rules/10-a.toml:11: `assign`: unknown CSE `nobody@example.test`",
        "rules/10-a.toml:13: rule: missing `name`",
        "rules/20-b.toml:2: unknown key `stray`",
        "rules/20-b.toml:5: `tier`: `gold` is not a tier",
        "rules/20-b.toml:6: then: unknown action `prio`",
        "rules/20-b.toml:7: `assign_pool`: unknown pool `printers`",
        "rules/30-c.toml:1:",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert_eq!(errs.0.len(), 10, "{text}");
}

#[test]
fn structural_errors() {
    let cases = [
        ("[[rule]]\nname = \"n\"\nwhen.subject = 'x'\n", "missing `then`"),
        ("[[rule]]\nname = \"n\"\nthen = {}\n", "`then` is empty"),
        ("[[rule]]\nname = \"n\"\nthen.assign = \"ann@example.test\"\nthen.assign_pool = \"network\"\n", "not both"),
        ("[[rule]]\nname = \"n\"\nwhen.subject = []\nthen.stop = true\n", "at least one regex"),
        ("[[rule]]\nname = \"n\"\nwhen.language = \"french\"\nthen.stop = true\n", "two-letter"),
        (
            "[[rule]]\nname = \"n\"\nthen.stop = true\n[[rule]]\nname = \"N\"\nthen.stop = true\n",
            "rules/50-test.toml:4: rule `N`: another rule has the same name",
        ),
        ("rule = 3\n", "array of tables"),
    ];
    for (src, want) in cases {
        let text = one(src).map(|_| "compiled".to_string()).unwrap_or_else(|e| e.to_string());
        assert!(text.contains(want), "{src:?}: want {want:?}, got\n{text}");
    }
}

#[test]
fn load_dir_reports_a_missing_folder() {
    let errs = RuleSet::load_dir(Path::new("/nonexistent/rules"), &roster()).expect_err("missing");
    assert!(errs.to_string().contains("cannot read the rules folder"), "{errs}");
}

#[test]
fn load_dir_skips_policy_and_other_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("policy.toml"), "timezone = \"Europe/Paris\"\n").expect("write");
    std::fs::write(dir.path().join("README.md"), "# not rules\n").expect("write");
    std::fs::write(dir.path().join("20-b.toml"), "[[rule]]\nname = \"b\"\nthen.tags = [\"b\"]\n").expect("write");
    std::fs::write(dir.path().join("10-a.toml"), "[[rule]]\nname = \"a\"\nthen.tags = [\"a\"]\n").expect("write");
    let set = RuleSet::load_dir(dir.path(), &roster()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.evaluate(&facts("", "")).tags, vec!["a", "b"]);
}

#[test]
fn readme_examples_compile() {
    let readme = include_str!("../../rules/README.md");
    let blocks: Vec<&str> = readme.split("```toml\n").skip(1).filter_map(|b| b.split("```").next()).collect();
    let mut tried = 0;
    for block in blocks.iter().filter(|b| b.contains("[[rule]]") && !b.contains("[rule.when]")) {
        one(block).unwrap_or_else(|e| panic!("README example does not compile:\n{block}\n{e}"));
        tried += 1;
    }
    assert!(tried >= 4, "{tried}");
    // The grammar block compiles once `assign` or `assign_pool` is dropped.
    let grammar = blocks.iter().find(|b| b.contains("[rule.when]")).expect("grammar block");
    let without_pool: String = grammar.lines().filter(|l| !l.starts_with("assign_pool")).collect::<Vec<_>>().join("\n");
    let set = one(&without_pool.replace("ann@example.com", "ann@example.test")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.len(), 1);
}
