//! Knowledge-base articles and the matcher that suggests them (pure).
//!
//! The `kb/` folder holds TOML files: one article per file (its keys at the top
//! level) or several `[[article]]` tables in one file. Each article has an `id`,
//! a `title`, a `url`, the `languages` it is written for, optionally the
//! `products` it is about (none: every product) and the `match` terms that find
//! it, and optionally `min_score`.
//!
//! **Match terms.** A plain string is a word or a phrase, found case- and
//! accent-insensitively on word boundaries (`"password"` does not match
//! `passwords`; `"connect*"` matches `connect`, `connection`, `connecting`;
//! the words of a phrase may be split by any white space). A string written
//! `/…/` or `re:…` is a regular expression (Rust syntax, case-insensitive, on
//! the text as written).
//!
//! **Score.** Each distinct term that occurs counts 2 when it is in the subject
//! and 1 when it is only in the text. An article is suggested when its score
//! reaches its `min_score` (default [`MIN_SCORE`]: one word alone in the text
//! never suggests), for an SR in one of its languages (the handling or the
//! detected language) and of one of its products. At most [`MAX_SUGGESTIONS`]
//! are suggested, best first; the caller leaves out what the customer was
//! shown lately.
//!
//! Compiling ([`Kb::compile`]) reports every problem of every file with its line:
//! bad TOML, missing or unknown keys, bad regexes, unknown languages, duplicate ids.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder, SetMatches};
use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, Diagnostics, line_of};
use crate::rules::spans::{Sink, Span};

/// The default least score that suggests an article.
pub const MIN_SCORE: u32 = 3;

/// The most articles one acknowledgement lists.
pub const MAX_SUGGESTIONS: usize = 3;

/// Days during which an article suggested to a customer is not suggested to them again.
pub const REPEAT_AFTER_DAYS: i64 = 30;

/// The languages an article may be written for.
pub const LANGUAGES: &[&str] = &["en", "fr", "de", "it", "es"];

/// The keys of an article, for messages.
const KEYS: &str = "id, title, url, languages, products, match, min_score";

/// One match term, compiled.
#[derive(Debug, Clone)]
struct Term {
    /// As written in the file.
    source: String,
    /// What finds it.
    regex: Regex,
    /// True for a word or phrase (matched on the folded text), false for a regex (on the text as written).
    folded: bool,
    /// Its place in the knowledge base's [`TermSets`] (the folded or the written one).
    at: usize,
}

/// One article, compiled.
#[derive(Debug, Clone)]
pub struct Article {
    /// Its id, unique in the knowledge base.
    pub id: String,
    /// Its title, as shown to the customer.
    pub title: String,
    /// Where to read it.
    pub url: String,
    /// The languages it is written for.
    pub languages: Vec<String>,
    /// The products it is about (empty: every product).
    pub products: Vec<String>,
    /// The least score that suggests it.
    pub min_score: u32,
    /// The file it is in.
    pub file: PathBuf,
    /// The line where it starts.
    pub line: usize,
    terms: Vec<Term>,
}

/// Every article of the `kb/` folder, in file-name and file order.
#[derive(Debug, Clone, Default)]
pub struct Kb {
    articles: Vec<Article>,
    sets: TermSets,
}

impl Kb {
    /// A knowledge base without articles (no `kb/` folder).
    pub const fn empty() -> Kb {
        Kb { articles: Vec::new(), sets: TermSets { folded: None, written: None } }
    }

    /// The knowledge base of `articles`, every term also gathered in its [`TermSets`].
    fn new(mut articles: Vec<Article>) -> Kb {
        let (mut folded, mut written) = (Vec::new(), Vec::new());
        for t in articles.iter_mut().flat_map(|a| a.terms.iter_mut()) {
            let gathered = if t.folded { &mut folded } else { &mut written };
            t.at = gathered.len();
            gathered.push(t.regex.as_str().to_string());
        }
        let set = |patterns: Vec<String>, case_insensitive| {
            RegexSetBuilder::new(patterns).case_insensitive(case_insensitive).build().ok().filter(|s| !s.is_empty())
        };
        Kb { articles, sets: TermSets { folded: set(folded, false), written: set(written, true) } }
    }
}

/// Every term of every article in two sets, words and phrases (on folded text) and
/// regexes (on the text as written), so that a text is scanned once per set, not once
/// per term. `None` when there is no such term, or when a set outgrows the size limit
/// its terms kept to: then each term scans on its own.
#[derive(Debug, Clone, Default)]
struct TermSets {
    folded: Option<RegexSet>,
    written: Option<RegexSet>,
}

/// Where terms occur in one query: the subject and the text, folded and as written.
struct Occurrences<'a> {
    /// (subject, text), folded.
    folded: (String, String),
    /// (subject, text), as written.
    written: (&'a str, &'a str),
    /// The [`TermSets`]' matches on the subject and on the text, when there are sets.
    folded_hits: Option<(SetMatches, SetMatches)>,
    written_hits: Option<(SetMatches, SetMatches)>,
}

impl<'a> Occurrences<'a> {
    fn scan(sets: &TermSets, q: &Query<'a>) -> Occurrences<'a> {
        let folded = (fold(q.subject), fold(q.text));
        let folded_hits = sets.folded.as_ref().map(|s| (s.matches(&folded.0), s.matches(&folded.1)));
        let written_hits = sets.written.as_ref().map(|s| (s.matches(q.subject), s.matches(q.text)));
        Occurrences { folded, written: (q.subject, q.text), folded_hits, written_hits }
    }

    /// Whether `t` occurs in the subject (`in_subject`) or else in the text.
    fn found(&self, t: &Term, in_subject: bool) -> bool {
        let hits = if t.folded { &self.folded_hits } else { &self.written_hits };
        if let Some((subject, text)) = hits {
            return if in_subject { subject.matched(t.at) } else { text.matched(t.at) };
        }
        let (subject, text) = if t.folded { (self.folded.0.as_str(), self.folded.1.as_str()) } else { self.written };
        t.regex.is_match(if in_subject { subject } else { text })
    }
}

/// What the matcher looks at: the new SR's subject, its new text, its languages and product.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The subject as the customer wrote it.
    pub subject: &'a str,
    /// The customer's new text (quoted history cut).
    pub text: &'a str,
    /// The handling language.
    pub language: &'a str,
    /// The detected language, if any.
    pub detected_language: Option<&'a str>,
    /// The product, if triage found one.
    pub product: Option<&'a str>,
}

/// A term that occurred, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The term as written in the article.
    pub term: String,
    /// `subject` or `text`.
    #[serde(rename = "where")]
    pub place: &'static str,
}

/// An article some of whose terms occur in a mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// The article's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its URL.
    pub url: String,
    /// The sum over its distinct terms that occur: 2 in the subject, 1 in the text only.
    pub score: u32,
    /// The least score that suggests it.
    pub min_score: u32,
    /// The terms that occurred.
    pub hits: Vec<Hit>,
    /// Where it is defined (`file:line`).
    pub source: String,
}

impl Candidate {
    /// True when the score reaches the article's minimum.
    pub fn strong(&self) -> bool {
        self.score >= self.min_score
    }

    /// The terms that occurred, in words: `outage (subject), down (text)`.
    pub fn why(&self) -> String {
        self.hits.iter().map(|h| format!("{} ({})", h.term, h.place)).collect::<Vec<_>>().join(", ")
    }
}

impl Kb {
    /// Compiles knowledge-base files given as (path, text), in the order given.
    pub fn compile(files: &[(&Path, &str)]) -> Result<Kb, Diagnostics> {
        let mut articles = Vec::new();
        let mut errors = Vec::new();
        let mut ids: HashSet<String> = HashSet::new();
        for (path, source) in files {
            let mut s = Sink::new(path, source);
            if let Some(doc) = s.parse() {
                compile_file(&mut s, &doc, &mut articles, &mut ids);
            }
            errors.extend(s.errors);
        }
        if errors.is_empty() { Ok(Kb::new(articles)) } else { Err(Diagnostics(errors)) }
    }

    /// The articles.
    pub fn articles(&self) -> &[Article] {
        &self.articles
    }

    /// Whether there are no articles.
    pub fn is_empty(&self) -> bool {
        self.articles.is_empty()
    }

    /// Every article for the query's language and product with at least one term
    /// that occurs, best first (score, then the order of the files).
    pub fn candidates(&self, q: &Query<'_>) -> Vec<Candidate> {
        let serving: Vec<&Article> = self.articles.iter().filter(|a| a.serves(q)).collect();
        if serving.is_empty() {
            return Vec::new();
        }
        let occurrences = Occurrences::scan(&self.sets, q);
        let mut out: Vec<Candidate> = serving
            .into_iter()
            .filter_map(|a| {
                let mut hits = Vec::new();
                let mut score = 0;
                for t in &a.terms {
                    if occurrences.found(t, true) {
                        score += 2;
                        hits.push(Hit { term: t.source.clone(), place: "subject" });
                    } else if occurrences.found(t, false) {
                        score += 1;
                        hits.push(Hit { term: t.source.clone(), place: "text" });
                    }
                }
                (score > 0).then(|| Candidate {
                    id: a.id.clone(),
                    title: a.title.clone(),
                    url: a.url.clone(),
                    score,
                    min_score: a.min_score,
                    hits,
                    source: format!("{}:{}", a.file.display(), a.line),
                })
            })
            .collect();
        // A stable sort keeps the files' order among equal scores.
        out.sort_by_key(|c| std::cmp::Reverse(c.score));
        out
    }

    /// The articles to suggest: strong candidates, best first, without those
    /// `shown_lately` (shown to this customer within the last 30 days), at most
    /// [`MAX_SUGGESTIONS`].
    pub fn suggest(&self, q: &Query<'_>, shown_lately: impl Fn(&str) -> bool) -> Vec<Candidate> {
        self.candidates(q).into_iter().filter(|c| c.strong() && !shown_lately(&c.id)).take(MAX_SUGGESTIONS).collect()
    }
}

impl Article {
    /// True when the article is written for one of the query's languages and is about its product.
    fn serves(&self, q: &Query<'_>) -> bool {
        let language = self.languages.iter().any(|l| l == q.language || Some(l.as_str()) == q.detected_language);
        let product = self.products.is_empty() || q.product.is_some_and(|p| self.products.iter().any(|x| x.eq_ignore_ascii_case(p)));
        language && product
    }
}

/// `text` in lower case without diacritics (`Gelöst` → `gelost`, `Résolu` → `resolu`,
/// `Straße` → `strasse`), typographic apostrophes made plain: what words and
/// phrases are matched on.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            c.to_lowercase().for_each(|c| fold_lowercase(c, &mut out));
        }
    }
    out
}

/// Appends a lower-case character to folded text, without its diacritic.
fn fold_lowercase(c: char, out: &mut String) {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => out.push('a'),
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => out.push('c'),
        'ď' | 'đ' => out.push('d'),
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => out.push('e'),
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => out.push('i'),
        'ñ' | 'ń' | 'ņ' | 'ň' => out.push('n'),
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => out.push('o'),
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => out.push('u'),
        'ý' | 'ÿ' | 'ŷ' => out.push('y'),
        'ś' | 'ŝ' | 'ş' | 'š' => out.push('s'),
        'ź' | 'ż' | 'ž' => out.push('z'),
        'ğ' | 'ĝ' | 'ġ' | 'ģ' => out.push('g'),
        'ł' => out.push('l'),
        'ŕ' | 'ř' | 'ŗ' => out.push('r'),
        'ť' | 'ţ' => out.push('t'),
        'ß' => out.push_str("ss"),
        'æ' => out.push_str("ae"),
        'œ' => out.push_str("oe"),
        '’' | '‘' | 'ʼ' => out.push('\''),
        other => out.push(other),
    }
}

/// The regex that finds a plain term (a word or a phrase, `*` ending a word for
/// any ending) in folded text, on word boundaries.
fn words_regex(term: &str) -> Result<Regex, String> {
    let folded = fold(term.trim());
    let words: Vec<&str> = folded.split_whitespace().collect();
    if words.is_empty() {
        return Err("an empty term".into());
    }
    let word_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut pattern = String::new();
    if word_char(folded.trim().chars().next()) {
        pattern.push_str(r"\b");
    }
    let parts: Vec<String> = words
        .iter()
        .map(|w| match w.strip_suffix('*') {
            Some(stem) if !stem.is_empty() => format!(r"{}\w*", regex::escape(stem)),
            _ => regex::escape(w),
        })
        .collect();
    pattern.push_str(&parts.join(r"\s+"));
    if word_char(folded.trim().chars().last()) {
        pattern.push_str(r"\b");
    }
    Regex::new(&pattern).map_err(|e| e.to_string())
}

/// Compiles one term: `/…/` or `re:…` is a regex, anything else words.
fn compile_term(source: &str) -> Result<Term, String> {
    let trimmed = source.trim();
    let regex_source = trimmed
        .strip_prefix("re:")
        .or_else(|| (trimmed.len() >= 2 && trimmed.starts_with('/') && trimmed.ends_with('/')).then(|| &trimmed[1..trimmed.len() - 1]));
    match regex_source {
        Some(r) if r.trim().is_empty() => Err("an empty regex".into()),
        Some(r) => RegexBuilder::new(r)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map(|regex| Term { source: source.to_string(), regex, folded: false, at: 0 })
            .map_err(|e| format!("bad regex `{r}`: {}", regex_message(&e))),
        None => words_regex(trimmed).map(|regex| Term { source: source.to_string(), regex, folded: true, at: 0 }),
    }
}

/// The one-line cause of a regex error (regex prints a multi-line picture).
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("error: ").map(str::to_string))
        .unwrap_or_else(|| text.lines().next().unwrap_or_default().to_string())
}

fn compile_file(s: &mut Sink<'_>, doc: &Spanned<DeTable<'_>>, articles: &mut Vec<Article>, ids: &mut HashSet<String>) {
    let table = doc.get_ref();
    if table.is_empty() {
        return;
    }
    let Some((key, value)) = table.iter().find(|(k, _)| k.get_ref() == "article") else {
        // One article: its keys at the top level of the file.
        let start = table.iter().map(|(k, _)| k.span().start).min().unwrap_or(0);
        let article = compile_article(s, table, &(start..start));
        push(s, article, articles, ids);
        return;
    };
    if let Some((other, _)) = table.iter().find(|(k, _)| k.get_ref() != "article") {
        s.error(&other.span(), format!("`{}`: a file holds either [[article]] tables or one article's keys, not both", other.get_ref()));
    }
    let DeValue::Array(items) = value.get_ref() else {
        s.error(&key.span(), "`article` must be an array of tables ([[article]])");
        return;
    };
    for item in items {
        let DeValue::Table(t) = item.get_ref() else {
            s.error(&item.span(), "each `article` must be a table");
            continue;
        };
        let article = compile_article(s, t, &item.span());
        push(s, article, articles, ids);
    }
}

fn push(s: &mut Sink<'_>, article: Option<(Article, Span)>, articles: &mut Vec<Article>, ids: &mut HashSet<String>) {
    let Some((a, id_span)) = article else { return };
    if !ids.insert(a.id.to_lowercase()) {
        let first = articles.iter().find(|o| o.id.eq_ignore_ascii_case(&a.id)).map(|o| format!(" ({}:{})", o.file.display(), o.line));
        s.error(&id_span, format!("article `{}`: another article has the same id{}", a.id, first.unwrap_or_default()));
        return;
    }
    articles.push(a);
}

/// One article's table; `span` locates it when a key is missing. Returns the article and its id's span.
fn compile_article(s: &mut Sink<'_>, table: &DeTable<'_>, span: &Span) -> Option<(Article, Span)> {
    let before = s.errors.len();
    let (mut id, mut title, mut url, mut languages, mut products, mut terms, mut min_score) =
        (None, None, None, None, Vec::new(), None, None);
    let mut id_span = span.clone();
    for (key, value) in table {
        let nonempty = |s: &mut Sink<'_>, k: &str| s.value::<String>(k, value).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        match &**key.get_ref() {
            "id" => {
                id_span = value.span();
                id = nonempty(s, "id");
                if let Some(bad) = id.as_deref().filter(|i| i.contains(char::is_whitespace)) {
                    s.error(&value.span(), format!("`id`: `{bad}` has white space; use letters, digits, `-`, `_` or `.`"));
                }
            }
            "title" => title = nonempty(s, "title"),
            "url" => {
                url = nonempty(s, "url");
                if let Some(bad) = url.as_deref().filter(|u| !(u.starts_with("https://") || u.starts_with("http://"))) {
                    s.error(&value.span(), format!("`url`: `{bad}` is not an http(s) address"));
                }
            }
            "languages" => {
                let list = s.strings("languages", value);
                for (code, span) in &list {
                    if !LANGUAGES.contains(&code.as_str()) {
                        s.error(span, format!("`languages`: unknown language `{code}` (expected {})", LANGUAGES.join(", ")));
                    }
                }
                languages = Some(list.into_iter().map(|(c, _)| c).collect::<Vec<_>>()).filter(|l| !l.is_empty());
            }
            "products" => products = s.strings("products", value).into_iter().map(|(p, _)| p.trim().to_string()).collect(),
            "match" => {
                let mut out: Vec<Term> = Vec::new();
                for (text, span) in s.strings("match", value) {
                    match compile_term(&text) {
                        Ok(t) if !out.iter().any(|o| fold(&o.source) == fold(&t.source)) => out.push(t),
                        Ok(_) => {}
                        Err(e) => s.error(&span, format!("`match`: {e}")),
                    }
                }
                terms = Some(out).filter(|t| !t.is_empty());
            }
            "min_score" => match s.value::<u32>("min_score", value) {
                Some(0) => s.error(&value.span(), "`min_score`: at least 1"),
                other => min_score = other,
            },
            other => s.error(&key.span(), format!("article: unknown key `{other}` (expected {KEYS})")),
        }
    }
    let line = line_of(s.source, span.start);
    let what = id.as_deref().map(|i| format!("article `{i}`")).unwrap_or_else(|| "article".into());
    for (missing, key, hint) in [
        (id.is_none(), "id", "a short unique name"),
        (title.is_none(), "title", "what the customer sees"),
        (url.is_none(), "url", "where the article is"),
        (languages.is_none(), "languages", "e.g. [\"en\"]"),
        (terms.is_none(), "match", "words, phrases or /regexes/ that find it"),
    ] {
        if missing {
            s.error(span, format!("{what}: missing `{key}` ({hint})"));
        }
    }
    if s.errors.len() != before {
        return None;
    }
    let article = Article {
        id: id?,
        title: title?,
        url: url?,
        languages: languages?,
        products,
        min_score: min_score.unwrap_or(MIN_SCORE),
        file: s.path.to_path_buf(),
        line,
        terms: terms?,
    };
    Some((article, id_span))
}

/// A whole-folder problem, for the loader at the edge.
pub fn folder_error(dir: &Path, message: impl Into<String>) -> Diagnostics {
    Diagnostics(vec![Diagnostic::in_file(dir, message)])
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTAGE: &str = r#"
[[article]]
id = "status-en"
title = "Service status and known outages"
url = "https://status.example.com/"
languages = ["en"]
match = ["outage", "down", "unavailable", "cannot reach", "/\\b50[234]\\b/"]

[[article]]
id = "status-fr"
title = "État du service"
url = "https://status.example.com/fr"
languages = ["fr"]
match = ["panne", "indisponible", "hors service", "ne répond*"]
"#;

    const VPN: &str = r#"
id = "vpn"
title = "VPN does not connect"
url = "https://kb.example.com/vpn"
languages = ["en", "de"]
products = ["network"]
match = ["vpn", "tunnel", "verbindung*", "re:auth(entication)? failed"]
"#;

    fn kb() -> Kb {
        Kb::compile(&[(Path::new("kb/10-status.toml"), OUTAGE), (Path::new("kb/vpn.toml"), VPN)]).expect("valid")
    }

    fn q<'a>(subject: &'a str, text: &'a str, language: &'a str, product: Option<&'a str>) -> Query<'a> {
        Query { subject, text, language, detected_language: Some(language), product }
    }

    fn ids(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn an_outage_mail_finds_the_status_article_in_its_language() {
        let kb = kb();
        let en = kb.suggest(&q("Portal down", "Since 9:00 we cannot reach the portal: 503 on every page.", "en", None), |_| false);
        assert_eq!(ids(&en), vec!["status-en"]);
        assert_eq!(en[0].score, 4, "down in the subject (2), cannot reach and 503 in the text: {:?}", en[0].hits);
        assert_eq!(en[0].why(), "down (subject), cannot reach (text), /\\b50[234]\\b/ (text)");
        let fr = kb.suggest(&q("Portail en PANNE", "Le portail est indisponible, il ne répond plus.", "fr", None), |_| false);
        assert_eq!(ids(&fr), vec!["status-fr"], "accents and case do not matter; `répond*` matches répond");
    }

    /// The terms gathered in two sets find what each term finds on its own.
    #[test]
    fn the_term_sets_find_what_each_term_finds() {
        let (with_sets, without) = (kb(), Kb { sets: TermSets::default(), ..kb() });
        assert!(with_sets.sets.folded.is_some() && with_sets.sets.written.is_some());
        let queries = [
            q("Portal down", "Since 9:00 we cannot reach the portal: 503 on every page.", "en", None),
            q("Portail en PANNE", "Le portail est indisponible, il ne répond plus.", "fr", None),
            q("VPN", "The VPN client cannot connect since the update; tunnel drops.", "en", Some("vpn")),
            q("Hello", "Nothing to see.", "de", None),
        ];
        for query in &queries {
            let (a, b) = (with_sets.candidates(query), without.candidates(query));
            assert_eq!(ids(&a), ids(&b));
            assert_eq!(a.iter().map(Candidate::why).collect::<Vec<_>>(), b.iter().map(Candidate::why).collect::<Vec<_>>());
        }
    }

    #[test]
    fn one_common_word_in_the_text_does_not_suggest() {
        let kb = kb();
        let c = kb.candidates(&q("Invoice", "Our office is down the hall, please send the invoice there.", "en", None));
        assert_eq!(ids(&c), vec!["status-en"]);
        assert!(!c[0].strong(), "score {} under {}", c[0].score, c[0].min_score);
        assert!(kb.suggest(&q("Invoice", "Our office is down the hall.", "en", None), |_| false).is_empty());
        assert!(kb.suggest(&q("Invoice copy", "Please send the March invoice again.", "en", None), |_| false).is_empty());
    }

    #[test]
    fn words_match_on_boundaries_only() {
        let kb = kb();
        assert!(kb.candidates(&q("Downloads", "Countdown unavailableness", "en", None)).is_empty(), "no partial words");
        let t = compile_term("not  reachable").expect("compiles");
        assert!(t.regex.is_match(&fold("Server NOT\nreachable.")));
        let star = compile_term("connect*").expect("compiles");
        assert!(star.regex.is_match("connection lost") && star.regex.is_match("connect") && !star.regex.is_match("reconnect"));
        assert!(compile_term("#close").expect("compiles").regex.is_match("please #close"));
    }

    #[test]
    fn language_and_product_narrow_the_choice() {
        let kb = kb();
        let mail = ("VPN tunnel", "Authentication failed when the VPN starts.");
        assert_eq!(ids(&kb.suggest(&q(mail.0, mail.1, "en", Some("network")), |_| false)), vec!["vpn"]);
        assert!(kb.suggest(&q(mail.0, mail.1, "en", Some("cloud")), |_| false).is_empty(), "another product");
        assert!(kb.suggest(&q(mail.0, mail.1, "en", None), |_| false).is_empty(), "no product");
        assert!(kb.suggest(&q(mail.0, mail.1, "fr", Some("network")), |_| false).is_empty(), "no French version");
        let detected = Query {
            subject: "VPN Verbindung",
            text: "Die VPN Verbindung bricht ab.",
            language: "en",
            detected_language: Some("de"),
            product: Some("network"),
        };
        assert_eq!(
            ids(&kb.suggest(&detected, |_| false)),
            vec!["vpn"],
            "the detected language counts too (after hours: handled in English)"
        );
    }

    #[test]
    fn best_first_at_most_three_and_not_what_was_shown_lately() {
        let many: String = (1..=5)
            .map(|i| {
                let terms: Vec<String> = (1..=i).map(|k| format!("\"word{k}\"")).collect();
                format!("[[article]]\nid = \"a{i}\"\ntitle = \"A{i}\"\nurl = \"https://kb.example.com/{i}\"\nlanguages = [\"en\"]\nmatch = [{}]\nmin_score = 1\n", terms.join(", "))
            })
            .collect();
        let kb = Kb::compile(&[(Path::new("kb/many.toml"), many.as_str())]).expect("valid");
        let text = "word1 word2 word3 word4 word5";
        assert_eq!(ids(&kb.suggest(&q("x", text, "en", None), |_| false)), vec!["a5", "a4", "a3"]);
        assert_eq!(ids(&kb.suggest(&q("x", text, "en", None), |id| id == "a4")), vec!["a5", "a3", "a2"]);
    }

    #[test]
    fn problems_are_reported_with_file_and_line() {
        let bad = "[[article]]\nid = \"a\"\ntitle = \"A\"\nurl = \"https://x.example\"\nlanguages = [\"en\", \"nl\"]\nmatch = [\"/(unclosed/\"]\n\n[[article]]\nid = \"a\"\ntitle = \"B\"\nurl = \"ftp://x\"\nlanguages = [\"en\"]\nmatch = [\"x\"]\ncolour = \"red\"\n\n[[article]]\ntitle = \"C\"\n";
        let err = Kb::compile(&[(Path::new("kb/bad.toml"), bad)]).expect_err("invalid").to_string();
        for expected in [
            "kb/bad.toml:5: `languages`: unknown language `nl`",
            "kb/bad.toml:6: `match`: bad regex `(unclosed`",
            "kb/bad.toml:11: `url`: `ftp://x` is not an http(s) address",
            "kb/bad.toml:14: article: unknown key `colour`",
            "kb/bad.toml:16: article: missing `id`",
            "missing `url`",
            "missing `match`",
        ] {
            assert!(err.contains(expected), "{expected:?} not in:\n{err}");
        }
        let dup = Kb::compile(&[(Path::new("kb/1.toml"), VPN), (Path::new("kb/2.toml"), VPN)]).expect_err("duplicate").to_string();
        assert_eq!(dup, "kb/2.toml:2: article `vpn`: another article has the same id (kb/1.toml:2)");
        let syntax = Kb::compile(&[(Path::new("kb/s.toml"), "id = \"x\"\ntitle = \n")]).expect_err("syntax").to_string();
        assert!(syntax.starts_with("kb/s.toml:2:"), "{syntax}");
    }

    #[test]
    fn folding_removes_accents_and_case() {
        assert_eq!(fold("C'EST RÉSOLU, Straße, Gelöst, ÇA"), "c'est resolu, strasse, gelost, ca");
        assert_eq!(fold("l’accès"), "l'acces");
    }
}
