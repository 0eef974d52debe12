//! Regular expressions written in srgate's own source.
//!
//! Every pattern compiled here is a string literal of this crate, never input:
//! whether it compiles is decided when the code is written, and the unit tests
//! of each module that holds one force it. That is the one reason srgate's code
//! may panic on a regex; patterns from rule files go through
//! `Regex::new` and report their errors with file and line.

use regex::Regex;

/// Compiles `pattern`, a literal of this crate (see the module docs).
#[allow(clippy::expect_used)]
pub fn literal(pattern: &'static str) -> Regex {
    Regex::new(pattern).expect("a pattern written in srgate's source compiles")
}

/// Compiles `pattern`, a literal of this crate, to match bytes (see the module docs).
#[allow(clippy::expect_used)]
pub fn literal_bytes(pattern: &'static str) -> regex::bytes::Regex {
    regex::bytes::Regex::new(pattern).expect("a pattern written in srgate's source compiles")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_literal_compiles() {
        assert!(super::literal(r"\[SR#(\d{1,18})\]").is_match("[SR#100001]"));
    }
}
