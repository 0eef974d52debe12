//! Threading keys: the `[SR#N]` token and cleaned subjects.
//!
//! The decision itself (token first, then referenced Message-IDs) lives in
//! [`crate::gateway`]; this module only reads subjects.

use std::sync::LazyLock;

use regex::Regex;

#[allow(clippy::expect_used)]
static TOKEN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[SR#(\d{1,18})\]").expect("valid regex"));

#[allow(clippy::expect_used)]
static PREFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|rv|enc|odp|r|i)\s*(?:\[\d+\])?\s*:\s*)").expect("valid regex"));

#[allow(clippy::expect_used)]
static MENTION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bSR#(\d{6,18})\b").expect("valid regex"));

#[allow(clippy::expect_used)]
static REPLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:\[[^\]]*\]\s*)*(re|aw|sv|vs|antw|r|odp|ynt|回复|答复|回覆|返信)\s*(\[\d+\])?\s*[:：]").expect("valid regex")
});

/// The SR number in the first `[SR#N]` token of `subject`, if any.
pub fn token_in(subject: &str) -> Option<u64> {
    TOKEN.captures_iter(subject).find_map(|c| c.get(1)?.as_str().parse().ok())
}

/// Every SR number mentioned as `[SR#N]` (or `SR#N`) in `text`.
pub fn tokens_in(text: &str) -> Vec<u64> {
    MENTION.captures_iter(text).filter_map(|c| c.get(1)?.as_str().parse().ok()).collect()
}

/// True when the subject starts with a reply prefix (`Re:`, `AW:`, `SV:` …), not a forward.
pub fn is_reply_subject(subject: &str) -> bool {
    REPLY.is_match(subject)
}

/// The subject without reply/forward prefixes and without SR tokens.
pub fn clean_subject(subject: &str) -> String {
    let without_tokens = TOKEN.replace_all(subject, " ");
    let mut s = without_tokens.trim().to_string();
    loop {
        let next = PREFIX.replace(&s, "").trim().to_string();
        if next == s {
            break;
        }
        s = next;
    }
    let collapsed: Vec<&str> = s.split_whitespace().collect();
    let cleaned = collapsed.join(" ");
    if cleaned.is_empty() { "(no subject)".into() } else { cleaned }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_after_any_prefix() {
        assert_eq!(token_in("Re: [SR#100001] Printer"), Some(100_001));
        assert_eq!(token_in("AW: WG: SV: Fwd: RE: Printer [SR#100042]"), Some(100_042));
        assert_eq!(token_in("[SR#x] nothing"), None);
        assert_eq!(token_in("Printer"), None);
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean_subject("Re: AW:  [SR#100001] Printer  on fire"), "Printer on fire");
        assert_eq!(clean_subject("Re[2]: Fwd: hello"), "hello");
        assert_eq!(clean_subject(""), "(no subject)");
        assert_eq!(clean_subject("Reboot loop"), "Reboot loop");
    }
}
