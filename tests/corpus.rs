//! The real-world corpus: every `tests/corpus/**/*.eml` beside its `*.expected.json`
//! (see tests/corpus/README.md), read the way the gateway reads it.
//!
//! On a mismatch the actual reading is written beside the file as `*.actual.json`.
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

#[test]
fn the_corpus_reads_as_expected() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut emls = Vec::new();
    files(&root, &mut emls);
    emls.sort();
    assert!(emls.len() >= 100, "corpus has {} messages", emls.len());
    let mut failures = Vec::new();
    for eml in &emls {
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(eml.with_extension("expected.json")).unwrap()).unwrap();
        let raw = std::fs::read(eml).unwrap();
        let actual = srgate::report::inspect_json(&raw);
        let mut wrong = Vec::new();
        let new_text = actual["new_text"].as_str().unwrap_or("");
        for key in ["class", "token", "clean_subject", "delayed"] {
            if let Some(e) = expected.get(key).filter(|e| **e != actual[key]) {
                wrong.push(format!("{key}: expected {e} got {}", actual[key]));
            }
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
        let actual_path = eml.with_extension("actual.json");
        if wrong.is_empty() {
            let _ = std::fs::remove_file(&actual_path);
        } else {
            std::fs::write(&actual_path, serde_json::to_string_pretty(&actual).unwrap()).unwrap();
            failures.push(format!("{}:\n  {}", eml.strip_prefix(&root).unwrap().display(), wrong.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} corpus messages differ:\n{}", failures.len(), emls.len(), failures.join("\n"));
}
