//! The real-world corpus: every `tests/corpus/**/*.eml` beside its `*.expected.json`
//! (see tests/corpus/README.md), read the way the gateway reads it.
//!
//! On a mismatch the actual reading is written beside the file as `*.actual.json`.
//! `SRGATE_CORPUS_SUMMARY=1` prints, per `case` class, how many mails passed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "eml") {
            out.push(p);
        }
    }
}

/// The text with trailing whitespace trimmed from each line and from the whole
/// (how an exact `new_text` expectation is compared).
fn trimmed_lines(s: &str) -> String {
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim_end().to_string()
}

/// How the forward a mail carries (`actual`, as `mail inspect --json` shows it) differs
/// from `want`: `shape`, `note`; `"original": null` for a forward whose sender cannot be
/// read, else the original's `from`, `name`, `clean_subject`, `date`, `attachments`,
/// `message_id` exactly; `text_contains`/`text_excludes` and `note_contains`/`note_excludes`
/// as substrings.
fn forward_differences(want: &Value, actual: &Value) -> Vec<String> {
    if actual.is_null() {
        return vec![format!("forward: expected {want} got none")];
    }
    let mut wrong = Vec::new();
    for key in ["shape", "note"] {
        if let Some(w) = want.get(key).filter(|w| **w != actual[key]) {
            wrong.push(format!("forward.{key}: expected {w} got {}", actual[key]));
        }
    }
    let original = &actual["original"];
    if want.get("original").is_some_and(Value::is_null) {
        if !original.is_null() {
            wrong.push(format!("forward.original: expected none got {original}"));
        }
        return wrong;
    }
    if original.is_null() {
        wrong.push("forward.original: expected one, the sender could not be read".to_string());
        return wrong;
    }
    for key in ["from", "name", "clean_subject", "date", "attachments", "message_id"] {
        if let Some(w) = want.get(key).filter(|w| **w != original[key]) {
            wrong.push(format!("forward.{key}: expected {w} got {}", original[key]));
        }
    }
    let strings = |key: &str| want[key].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>();
    let (text, note) = (original["text"].as_str().unwrap_or(""), actual["note"].as_str().unwrap_or(""));
    for (key, haystack, present) in
        [("text_contains", text, true), ("text_excludes", text, false), ("note_contains", note, true), ("note_excludes", note, false)]
    {
        for s in strings(key).into_iter().filter(|s| haystack.contains(s) != present) {
            let relation = if present { "missing from" } else { "found in" };
            wrong.push(format!("forward.{key}: {s:?} {relation} {haystack:?}"));
        }
    }
    wrong
}

#[test]
fn the_corpus_reads_as_expected() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut emls = Vec::new();
    files(&root, &mut emls);
    emls.sort();
    assert!(emls.len() >= 100, "corpus has {} messages", emls.len());
    let mut failures = Vec::new();
    let mut by_case: std::collections::BTreeMap<String, (usize, usize)> = std::collections::BTreeMap::new();
    for eml in &emls {
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(eml.with_extension("expected.json")).unwrap()).unwrap();
        let raw = std::fs::read(eml).unwrap();
        let actual = srgate::report::inspect_json(&raw);
        let mut wrong = Vec::new();
        let new_text = actual["new_text"].as_str().unwrap_or("");
        for key in ["class", "token", "clean_subject", "quote_cut", "delayed"] {
            if let Some(e) = expected.get(key).filter(|e| **e != actual[key]) {
                wrong.push(format!("{key}: expected {e} got {}", actual[key]));
            }
        }
        if let Some(want) = expected.get("new_text").and_then(Value::as_str)
            && trimmed_lines(want) != trimmed_lines(new_text)
        {
            wrong.push(format!("new_text: expected {want:?} got {new_text:?}"));
        }
        for s in expected["new_text_contains"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !new_text.contains(s) {
                wrong.push(format!("new text lacks {s:?}"));
            }
        }
        for s in expected["new_text_excludes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if new_text.contains(s) {
                wrong.push(format!("new text keeps {s:?}"));
            }
        }
        if let Some(names) = expected.get("attachments") {
            let got: Vec<Value> = actual["attachments"].as_array().into_iter().flatten().map(|a| a["name"].clone()).collect();
            if *names != Value::Array(got.clone()) {
                wrong.push(format!("attachments: expected {names} got {got:?}"));
            }
        }
        if let Some(ids) = expected.get("bounce_of").filter(|ids| **ids != actual["bounce_of"]) {
            wrong.push(format!("bounce_of: expected {ids} got {}", actual["bounce_of"]));
        }
        for s in expected["signals_include"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !actual["signals"].as_array().into_iter().flatten().any(|x| x.as_str().is_some_and(|x| x.starts_with(s))) {
                wrong.push(format!("no signal {s:?} in {}", actual["signals"]));
            }
        }
        if let Some(want) = expected.get("forward") {
            wrong.extend(forward_differences(want, &actual["forward"]));
        }
        if let Some(case) = expected.get("case") {
            let entry = by_case.entry(case.to_string()).or_insert((0, 0));
            entry.0 += usize::from(wrong.is_empty());
            entry.1 += 1;
        }
        let actual_path = eml.with_extension("actual.json");
        if wrong.is_empty() {
            let _ = std::fs::remove_file(&actual_path);
        } else {
            std::fs::write(&actual_path, serde_json::to_string_pretty(&actual).unwrap()).unwrap();
            failures.push(format!("{}:\n  {}", eml.strip_prefix(&root).unwrap().display(), wrong.join("\n  ")));
        }
    }
    if std::env::var_os("SRGATE_CORPUS_SUMMARY").is_some() {
        for (case, (passed, total)) in &by_case {
            println!("case {case}: {passed} of {total} pass");
        }
    }
    assert!(failures.is_empty(), "{} of {} corpus messages differ:\n{}", failures.len(), emls.len(), failures.join("\n"));
}
