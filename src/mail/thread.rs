//! Threading keys: the `[SR#N]` token and cleaned subjects.
//!
//! The decision itself (token first, then referenced Message-IDs) lives in
//! [`crate::gateway`]; this module only reads subjects.

use std::sync::LazyLock;

use regex::Regex;

static TOKEN: LazyLock<Regex> = LazyLock::new(|| crate::pattern::literal(r"\[SR#(\d{1,18})\]"));

/// Reply and forward prefixes of real clients, in their languages (`Re[2]:` and
/// full-width colons included), and the tags mail gateways put in front.
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    crate::pattern::literal(
        r"(?i)^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|doorst|rif|r|i|tr|r[ée]f\.?|rv|enc|odp|pd|ynt|vl|回复|答复|转发|回覆|轉寄|返信|転送)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]|\[(?:ext|external|extern|externe|externo|esterno)\]|\*\s*external\s*\*)\s*",
    )
});

/// A marker placed in every outgoing body, found again in quoted history when a
/// server rewrote our Message-IDs and the subject lost its token.
static MARKER: LazyLock<Regex> = LazyLock::new(|| crate::pattern::literal(r"\[ref:srgate:([0-9a-f]{6,16}):(\d{1,18})\]"));

/// The marker for SR `id` of the store `instance`.
pub fn marker(instance: &str, id: u64) -> String {
    format!("[ref:srgate:{instance}:{id}]")
}

/// The SR number of the first marker of `instance` in `text`.
pub fn marker_in(text: &str, instance: &str) -> Option<u64> {
    MARKER.captures_iter(text).filter(|c| c.get(1).is_some_and(|m| m.as_str() == instance)).find_map(|c| c.get(2)?.as_str().parse().ok())
}

static MENTION: LazyLock<Regex> = LazyLock::new(|| crate::pattern::literal(r"\bSR#(\d{6,18})\b"));

static REPLY: LazyLock<Regex> = LazyLock::new(|| {
    crate::pattern::literal(
        r"(?i)^\s*(?:\[[^\]]*\]\s*|\*\s*external\s*\*\s*)*(re|aw|sv|vs|antw|r|odp|ynt|rif|回复|答复|回覆|返信)\s*(\[\d+\])?\s*[:：]",
    )
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
    fn markers() {
        let text = format!("thanks\n> blah {}\n", marker("a1b2c3d4e5f6", 100_042));
        assert_eq!(marker_in(&text, "a1b2c3d4e5f6"), Some(100_042));
        assert_eq!(marker_in(&text, "ffffffffffff"), None);
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean_subject("Re: AW:  [SR#100001] Printer  on fire"), "Printer on fire");
        assert_eq!(clean_subject("Re[2]: Fwd: hello"), "hello");
        assert_eq!(clean_subject(""), "(no subject)");
        assert_eq!(clean_subject("Reboot loop"), "Reboot loop");
        assert_eq!(clean_subject("Rename the server"), "Rename the server");
        assert_eq!(clean_subject("Information needed"), "Information needed");
        for s in [
            "RE: AW: WG: [SR#100001] Printer",
            "SV:VS: Printer [SR#100001]",
            "Antw: Doorst: RIF: R: I: TR: Printer",
            "Réf. : RV: ENC: Odp: PD: YNT: VL: Printer",
            "回复：答复: 转发: 回覆: 返信: 転送: Printer",
            "Re[2]: [EXT] *EXTERNAL* [External] Printer",
            "FW:Fwd:re:Printer",
        ] {
            assert_eq!(clean_subject(s), "Printer", "{s}");
        }
        assert_eq!(token_in("回复：[SR#100001] 打印机"), Some(100_001));
    }
}
