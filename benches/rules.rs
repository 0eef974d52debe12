//! Rule evaluation per message: the shipped rules (rules/*.toml) and 1,000
//! generated rules, on a few representative mails.
//!
//! Run with `cargo bench --bench rules`. One iteration evaluates every rule of
//! the set over one mail, so divan's time per iteration is the cost per message.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use srgate::rules::{Facts, RosterView, RuleSet};

fn main() {
    divan::main();
}

/// The mails, by name.
const MAILS: &[&str] = &["en_p1_outage", "fr_p4_howto", "de_no_match", "en_long_no_match", "de_long_no_match"];

/// About 25 KB of text, the backlog benchmark's mean: ASCII, and German with umlauts.
static EN_LONG: LazyLock<String> =
    LazyLock::new(|| "Lorem ipsum dolor sit amet, the printer on floor two prints blank pages again.\n".repeat(320));
static DE_LONG: LazyLock<String> = LazyLock::new(|| DE_TEXT.repeat(60));

static HEADERS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    [
        ("From", "Jane Customer <jane@acme.example.com>"),
        ("To", "support@example.test"),
        ("Subject", "subject"),
        ("Message-ID", "<bench-1@acme.example.com>"),
        ("Date", "Tue, 3 Mar 2026 10:30:00 +0100"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect()
});

const EN_TEXT: &str = "Hello,\n\nsince 08:10 this morning our production is down: none of our users can log in to \
the messaging platform and all mail is queued on the Exchange connector. We have restarted the \
connector twice without success. This affects all 2,000 users at our three sites.\n\n\
Please call me back as soon as possible.\n\nJane";

const FR_TEXT: &str = "Bonjour,\n\nnous souhaitons activer l'authentification à deux facteurs pour les \
utilisateurs du VPN. Comment configurer cette option dans la console d'administration ? \
Nous n'avons rien trouvé dans le guide d'installation. Merci d'avance pour votre aide.\n\n\
Cordialement,\nPierre";

const DE_TEXT: &str = "Guten Tag,\n\nwir haben seit gestern eine merkwürdige Meldung im Verwaltungsportal: \
beim Öffnen der Berichte erscheint ein Hinweis auf eine abgelaufene Lizenz, obwohl unser Vertrag \
bis Ende des Jahres läuft. Die Berichte selbst funktionieren weiterhin. Könnten Sie das bitte prüfen?\n\n\
Mit freundlichen Grüßen\nKlaus";

fn facts(name: &str) -> Facts<'static> {
    let (subject, text, sender, lang, account, tier) = match name {
        "en_p1_outage" => {
            ("URGENT: production down, nobody can log in", EN_TEXT, "jane@acme.example.com", "en", Some("Acme"), Some("premium"))
        }
        "fr_p4_howto" => {
            ("Question sur la double authentification", FR_TEXT, "pierre@globex.example.com", "fr", Some("Globex"), Some("standard"))
        }
        "de_no_match" => ("Lizenzhinweis im Portal", DE_TEXT, "klaus@beispiel.example.de", "de", None, None),
        "en_long_no_match" => ("Problem report", EN_LONG.as_str(), "customer@example.com", "en", None, None),
        "de_long_no_match" => ("Lizenzhinweis im Portal", DE_LONG.as_str(), "klaus@beispiel.example.de", "de", None, None),
        other => panic!("unknown mail {other}"),
    };
    Facts {
        subject,
        text,
        sender,
        headers: HEADERS.as_slice(),
        detected_language: Some(lang),
        account,
        tier,
        mailbox: "support",
        address: "support@example.test",
        business_hours: true,
    }
}

fn roster() -> RosterView {
    RosterView { cses: vec![], pools: None, addresses: None }
}

static SHIPPED: LazyLock<RuleSet> = LazyLock::new(|| {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    RuleSet::load_dir(&dir, &roster()).unwrap_or_else(|e| panic!("shipped rules: {e}"))
});

/// 1,000 rules of the kinds a desk writes: keyword rules on subject or text
/// (most with a list of alternatives), sender rules, header rules and rules
/// gated on language or tier. None of the keywords occurs in the mails, so every
/// rule is tried (no `stop`), which is the worst case.
static GENERATED: LazyLock<RuleSet> = LazyLock::new(|| {
    let text = generated_rules(1000);
    let path = PathBuf::from("generated.toml");
    let set = RuleSet::compile(&[(path.as_path(), text.as_str())], &roster()).unwrap_or_else(|e| panic!("generated rules: {e}"));
    assert_eq!(set.len(), 1000);
    set
});

fn generated_rules(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!("[[rule]]\nname = \"generated {i}\"\n"));
        match i % 5 {
            0 => out.push_str(&format!("when.subject_or_text = ['\\bkeyword{i}\\b', '\\bmotcle{i}\\b', '\\bstichwort{i}\\b']\n")),
            1 => out.push_str(&format!("when.subject = '^\\[ticket-{i}\\]'\n")),
            2 => out.push_str(&format!("when.sender = '@customer{i}\\.example\\.com$'\n")),
            3 => out.push_str(&format!("when.language = [\"fr\", \"de\"]\nwhen.text = '\\bproduct-{i}\\b'\n")),
            _ => out.push_str(&format!("when.tier = \"premium\"\nwhen.headers = {{ \"X-Customer-Id\" = '^C{i:05}$' }}\n")),
        }
        let priority = ["P1", "P2", "P3", "P4"][i % 4];
        out.push_str(&format!("then.priority = \"{priority}\"\nthen.tags = [\"gen-{i}\"]\n\n"));
    }
    out
}

/// The shipped rules (10-priority.toml, 20-products.toml) over one mail.
#[divan::bench(args = MAILS)]
fn shipped_rules(bencher: divan::Bencher, mail: &str) {
    let rules = &*SHIPPED;
    let f = facts(mail);
    bencher.bench(|| rules.evaluate(divan::black_box(&f)));
}

/// 1,000 generated rules over one mail.
#[divan::bench(args = MAILS)]
fn generated_1000_rules(bencher: divan::Bencher, mail: &str) {
    let rules = &*GENERATED;
    let f = facts(mail);
    bencher.bench(|| rules.evaluate(divan::black_box(&f)));
}

/// Loading and compiling the shipped rules (start-up cost, once per process).
#[divan::bench]
fn load_shipped_rules() -> RuleSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    RuleSet::load_dir(&dir, &roster()).unwrap_or_else(|e| panic!("shipped rules: {e}"))
}

/// Compiling 1,000 generated rules (start-up cost, once per process).
#[divan::bench(sample_count = 10)]
fn compile_1000_rules(bencher: divan::Bencher) {
    let text = generated_rules(1000);
    let path = PathBuf::from("generated.toml");
    bencher.bench(|| RuleSet::compile(&[(path.as_path(), text.as_str())], &roster()).map(|s| s.len()).ok());
}
