//! The pure parts per mail: parse + classify + thread + strip + rules, over the
//! real-world corpus (tests/corpus) and the golden triage set (tests/golden).
//!
//! Run with `cargo bench --bench pipeline`; one iteration handles one whole mail.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use srgate::mail::{classify, inbound, thread};
use srgate::rules::{Facts, RosterView, RuleSet};

fn main() {
    divan::main();
}

fn emls(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            emls(&p, out);
        } else if p.extension().is_some_and(|x| x == "eml") && !p.to_string_lossy().contains("hostile") {
            out.push(p);
        }
    }
}

static MAILS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    emls(&root.join("tests/corpus"), &mut files);
    emls(&root.join("tests/golden"), &mut files);
    files.sort();
    files.iter().filter_map(|f| std::fs::read(f).ok()).collect()
});

static RULES: LazyLock<RuleSet> = LazyLock::new(|| {
    RuleSet::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"), &RosterView { cses: vec![], pools: None, addresses: None })
        .expect("shipped rules")
});

/// The whole pure path for one mail.
fn pipeline(raw: &[u8]) -> usize {
    let Ok(mail) = inbound::parse(raw) else { return 0 };
    let c = classify::classify(&mail, |id| id.starts_with("sr"), &["support@example.test"]);
    let token = thread::token_in(&mail.subject);
    let clean = thread::clean_subject(&mail.subject);
    let language = srgate::lang::detect(&mail.new_text, mail.content_language.as_deref());
    let facts = Facts {
        subject: &mail.subject,
        text: &mail.new_text,
        sender: &mail.from,
        headers: &mail.headers,
        detected_language: language.as_deref(),
        account: None,
        tier: None,
        mailbox: "support",
        address: "support@example.test",
        business_hours: true,
    };
    let verdict = RULES.evaluate(&facts);
    usize::from(c.class.is_machine()) + token.map_or(0, |t| t as usize) + clean.len() + verdict.matched.len()
}

/// Every mail of the corpus once; divan reports the time per mail via `items_count`.
#[divan::bench]
fn whole_corpus(b: divan::Bencher) {
    let mails = &*MAILS;
    b.counter(divan::counter::ItemsCount::new(mails.len())).bench(|| mails.iter().map(|m| pipeline(divan::black_box(m))).sum::<usize>());
}

/// A 2 MB reply whose every line nearly matches a quote rule: the cut alone.
#[divan::bench]
fn cut_two_megabytes(b: divan::Bencher) {
    let pieces = [
        "On Tue, Mar 3, 2026 at 10:00 AM Example Support Team of Example <\n",
        "> Could you please send us the serial number of the printer and its firmware\n",
        "version\n",
        "From: a\nTo: b\n",
        "AB> x\n",
        "Thanks. On the 3.3.2026 at 10:00 we saw it. Le mardi. Am Montag. On it:\n",
        "____________________________________\n",
    ];
    let mut text = String::from("New text.\n");
    let mut k = 0;
    while text.len() < 2 << 20 {
        text.push_str(pieces[k % pieces.len()]);
        k += 1;
    }
    b.bench(|| srgate::mail::quote::cut_text(divan::black_box(&text)).text.len());
}

/// Parsing alone, for comparison.
#[divan::bench]
fn parse_only(b: divan::Bencher) {
    let mails = &*MAILS;
    b.counter(divan::counter::ItemsCount::new(mails.len()))
        .bench(|| mails.iter().filter(|m| inbound::parse(divan::black_box(m)).is_ok()).count());
}
