//! Customer requests written as people write: escalate, change the priority, close.
//!
//! Looked for in the subject and the first line of the new text, in English,
//! French, German, Italian and Spanish.

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
    CLOSE.is_match(&head).then_some(Request::Close)
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
    fn close_requests_and_plain_replies() {
        assert_eq!(detect("Re: x", "Resolved, thank you!"), Some(Request::Close));
        assert_eq!(detect("Re: x", "Vous pouvez fermer le ticket."), Some(Request::Close));
        assert_eq!(detect("Re: x", "Das Ticket kann geschlossen werden."), Some(Request::Close));
        assert_eq!(detect("Re: x", "Here are the logs you asked for."), None);
    }
}
