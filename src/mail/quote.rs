//! Cutting quoted history from a reply, keeping what the writer added.

/// The writer's new text: everything above the first quote marker, trimmed.
///
/// Markers: an attribution line (`On … wrote:`), an Outlook separator
/// (`-----Original Message-----`, `From:` header blocks), or a `>`-quoted line.
/// When the cut leaves nothing (a pure forward or quote), the full text is kept.
pub fn new_text(text: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if is_quote_start(line, lines.get(i + 1).copied()) {
            break;
        }
        kept.push(line);
    }
    let cut = kept.join("\n").trim().to_string();
    if cut.is_empty() { text.trim().to_string() } else { cut }
}

fn is_quote_start(line: &str, next: Option<&str>) -> bool {
    let t = line.trim();
    if t.starts_with('>') || t.contains("-----Original Message-----") {
        return true;
    }
    let attribution = |s: &str| s.starts_with("On ") && s.ends_with("wrote:");
    if attribution(t) {
        return true;
    }
    // An attribution wrapped over two lines by the client.
    if t.starts_with("On ") && next.is_some_and(|n| n.trim().ends_with("wrote:")) {
        return true;
    }
    t.starts_with("From: ") && next.is_some_and(|n| n.trim_start().starts_with("Sent: "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_attribution_and_quotes() {
        assert_eq!(new_text("Thanks!\n\nOn Tue, 3 Mar 2026 at 10:00, Ann <a@x> wrote:\n> hi"), "Thanks!");
        assert_eq!(new_text("Fixed.\n> old\n> older"), "Fixed.");
        assert_eq!(new_text("Yes\nOn Tue, 3 Mar 2026, Ann Long-Name\n<a@x> wrote:\n> q"), "Yes");
        assert_eq!(new_text("Ok\n-----Original Message-----\nFrom: x"), "Ok");
        assert_eq!(new_text("Ok\nFrom: Ann\nSent: Monday\n"), "Ok");
    }

    #[test]
    fn a_pure_quote_keeps_its_content() {
        assert_eq!(new_text("> only quoted"), "> only quoted");
    }
}
