//! Customer requests written as people write: escalate, change the priority, close,
//! and "solved" (the problem is gone: the SR may close as resolved).
//!
//! Looked for in the subject and the first line of the new text, in English,
//! French, German, Italian and Spanish; "solved" in the first lines of the new
//! text only (see [`solved`]).

use std::sync::LazyLock;

use regex::Regex;

use super::Priority;

/// What a customer asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Escalate, with the business impact (the rest of the text).
    Escalate {
        /// The business impact, as written.
        impact: String,
    },
    /// Raise or lower the priority.
    Priority(Priority),
    /// Close the SR (the CSE decides).
    Close,
    /// The customer says the problem is solved (or writes `#close`).
    Solved,
}

static ESCALATE: LazyLock<Regex> = LazyLock::new(|| {
    crate::pattern::literal(
        r"(?i)\b(escalat(e|ion|ing)|escalad(e|er)|eskal(ieren|ation|ieren sie)|escalation|escalare|escalate|escalar|escalamiento|escalado)\b",
    )
});

static PRIORITY: LazyLock<Regex> = LazyLock::new(|| {
    crate::pattern::literal(
        r"(?i)\b(priority|priorit[éeà]|priorität|prioridad|raise|lower|increase|decrease|augmenter|erhöhen|alzare|aumentar|upgrade|downgrade)\b[^\n]{0,40}?\bP([1-4])\b",
    )
});

static CLOSE: LazyLock<Regex> = LazyLock::new(|| {
    crate::pattern::literal(
        r"(?i)(please close|can be closed|you (can|may) close|close (this|the) (ticket|case|request|sr)|resolved,? thank|issue (is )?resolved|vous pouvez (le )?(fermer|clôturer)|peut être (fermé|clôturé)|problème (est )?résolu|kann geschlossen werden|bitte schlie(ß|ss)en|problem (ist )?gelöst|può essere chius[oa]|potete chiudere|problema (è )?risolto|puede(n)? cerrar|se puede cerrar|problema (está )?resuelto)",
    )
});

/// The request a customer mail makes, if any (escalation first, then priority, then closure).
pub fn detect(subject: &str, text: &str) -> Option<Request> {
    let first_line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let head = format!("{subject}\n{first_line}");
    if ESCALATE.is_match(&head) {
        let impact =
            if ESCALATE.is_match(first_line) { text.trim().lines().skip(1).collect::<Vec<_>>().join("\n") } else { text.to_string() };
        let impact = impact.trim().to_string();
        let impact = if impact.is_empty() && ESCALATE.is_match(first_line) { strip_keyword(first_line) } else { impact };
        return Some(Request::Escalate { impact });
    }
    if let Some(c) = PRIORITY.captures(&head) {
        let p = match c.get(2).map(|m| m.as_str()) {
            Some("1") => Priority::P1,
            Some("2") => Priority::P2,
            Some("3") => Priority::P3,
            _ => Priority::P4,
        };
        return Some(Request::Priority(p));
    }
    if solved(text) {
        return Some(Request::Solved);
    }
    CLOSE.is_match(&head).then_some(Request::Close)
}

/// Words that say the problem is solved, in five languages (matched on the text
/// folded to lower case without accents, on word boundaries).
static SOLVED: LazyLock<Regex> = LazyLock::new(|| {
    crate::pattern::literal(
        r"\b(solved|resolved|(that|this|which|it) (has )?fixed it|fixed it|problem (is )?fixed|(c'est|c est|est|probleme|bien) (resolu|regle)e?s?|resolue?s?|gelost|behoben|risolt[oaie]|resuelt[oa]s?|solucionad[oa]s?)\b|(?m:^)\s*#close\b",
    )
});

/// Words before "solved" that undo it: negations, and the words of a wish or a
/// condition ("needs to be solved", "wenn gelöst", "quando risolto").
const UNDOING: &[&str] = &[
    // en
    "not",
    "no",
    "never",
    "nothing",
    "without",
    "nor",
    "cannot",
    "be",
    "will",
    "would",
    "should",
    "must",
    "need",
    "needs",
    "when",
    "once",
    "until",
    "if",
    "hope",
    "hopefully",
    "yet", // fr
    "pas",
    "plus",
    "jamais",
    "ni",
    "sans",
    "aucun",
    "aucune",
    "rien",
    "être",
    "sera",
    "doit",
    "devrait",
    "quand",
    "lorsque",
    "avant",
    "dès",
    "espère", // de
    "nicht",
    "kein",
    "keine",
    "nie",
    "niemals",
    "ohne",
    "werden",
    "wird",
    "muss",
    "müssen",
    "soll",
    "sollte",
    "wenn",
    "sobald",
    "bis",
    "hoffentlich", // it
    "non",
    "mai",
    "senza",
    "né",
    "essere",
    "sarà",
    "deve",
    "dovrebbe",
    "quando",
    "appena",
    "finché",
    "spero", // es
    "nunca",
    "sin",
    "tampoco",
    "ser",
    "será",
    "debe",
    "debería",
    "cuando",
    "hasta",
    "espero",
    "ojalá",
];

/// True when the customer's new text says the problem is solved: "solved", "that
/// fixed it", "c'est résolu", "gelöst", "risolto", "resuelto" (and their forms),
/// or a `#close` line, in the first three non-empty lines; not when a negation or
/// a wish comes up to four words before ("not solved", "pas résolu", "noch nicht
/// gelöst", "non è risolto", "no está resuelto", "needs to be solved"), nor in
/// a question ("Is it solved?").
pub fn solved(text: &str) -> bool {
    // Inline answers keep `>` lines in the new text: those are our words, not the customer's.
    let head: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('>')).take(3).collect();
    let head = crate::kb::fold(&head.join("\n"));
    SOLVED.find_iter(&head).any(|m| !undone(&head[..m.start()]) && !question(&head[m.end()..]))
}

/// True when one of the last four words of `before` (this sentence only) undoes what follows.
fn undone(before: &str) -> bool {
    let sentence = before.rsplit(['.', '!', '?', '\n', ';']).next().unwrap_or(before);
    let folded: Vec<String> = UNDOING.iter().map(|w| crate::kb::fold(w)).collect();
    sentence
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .rev()
        .take(4)
        .any(|w| w.ends_with("n't") || folded.iter().any(|u| u == w))
}

/// True when the sentence that goes on with `after` ends with a question mark.
fn question(after: &str) -> bool {
    after.find(['.', '!', '?', '\n', ';']).is_some_and(|i| after[i..].starts_with('?'))
}

/// The first line without its escalation words, as a last-resort impact ("escalate: line down" → "line down").
fn strip_keyword(line: &str) -> String {
    let rest = ESCALATE.replace(line, "");
    let rest = rest.trim_matches(|c: char| c.is_whitespace() || c == ':' || c == '-' || c == ',' || c == '.');
    let lowered = rest.to_lowercase();
    // "please escalate" alone is no impact.
    if ["please", "bitte", "svp", "s'il vous plaît", "per favore", "por favor", ""].contains(&lowered.as_str()) {
        String::new()
    } else {
        rest.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalations_in_five_languages() {
        for (subject, text) in [
            ("Re: [SR#100001] Please escalate", "Our plant has been down for two days, 300 workers idle."),
            ("Re: [SR#100001] x", "Nous souhaitons escalader ce dossier.\nLa facturation est bloquée."),
            ("AW: [SR#100001] Eskalation", "Die Produktion steht."),
            ("R: [SR#100001] x", "Vorremmo fare escalation.\nIl magazzino è fermo."),
            ("RE: [SR#100001] x", "Queremos escalar este caso.\nLas ventas están paradas."),
        ] {
            match detect(subject, text) {
                Some(Request::Escalate { impact }) => assert!(!impact.is_empty(), "{subject}"),
                other => panic!("{subject}: {other:?}"),
            }
        }
        assert_eq!(detect("Re: x", "Please escalate"), Some(Request::Escalate { impact: String::new() }));
    }

    #[test]
    fn priority_requests() {
        assert_eq!(detect("Re: x", "Please raise to P1, we are losing orders."), Some(Request::Priority(Priority::P1)));
        assert_eq!(detect("Priorität P2", ""), Some(Request::Priority(Priority::P2)));
        assert_eq!(detect("x", "Merci de passer la priorité en P4."), Some(Request::Priority(Priority::P4)));
        assert_eq!(detect("x", "Can you lower this to P3 please"), Some(Request::Priority(Priority::P3)));
    }

    #[test]
    fn solved_in_five_languages_and_not_when_negated() {
        for yes in [
            "Solved, thank you!",
            "Thanks, that fixed it.",
            "Hi Ann,\nthe article did it: problem solved",
            "Merci, c'est résolu.",
            "C’est bien réglé, merci",
            "Danke, das Problem ist gelöst.",
            "Grazie, risolto!",
            "Il problema si è risolto.",
            "Gracias, ya está resuelto.",
            "#close",
            "#close\nThanks for the article.",
        ] {
            assert!(solved(yes), "{yes:?} says solved");
        }
        for no in [
            "Not solved, the VPN still drops.",
            "It isn't solved yet.",
            "That didn't fix it.",
            "Malheureusement ce n'est pas résolu.",
            "Das Problem ist noch nicht gelöst.",
            "Purtroppo non è risolto.",
            "No, no está resuelto.",
            "Is it solved?",
            "This needs to be solved by Friday.",
            "Here are the logs.\nThe tunnel drops every hour.\nPlease advise.\nSolved would be nice.",
            "> solved",
            "We have unsolved issues and #close is not what we want",
        ] {
            assert!(!solved(no), "{no:?} does not say solved");
        }
        assert_eq!(detect("Re: [SR#100001] VPN", "That fixed it, thanks!"), Some(Request::Solved));
    }

    #[test]
    fn close_requests_and_plain_replies() {
        assert_eq!(detect("Re: x", "Resolved, thank you!"), Some(Request::Solved));
        assert_eq!(detect("Re: x", "Please close the ticket."), Some(Request::Close));
        assert_eq!(detect("Re: x", "Vous pouvez fermer le ticket."), Some(Request::Close));
        assert_eq!(detect("Re: x", "Das Ticket kann geschlossen werden."), Some(Request::Close));
        assert_eq!(detect("Re: x", "Here are the logs you asked for."), None);
    }
}
