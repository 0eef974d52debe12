//! Golden tests for triage: every `tests/golden/*.eml` beside its `*.expected.json`.
//!
//! Each file is run through `srgate rules explain --json --now <expected.now>` with
//! `tests/golden/srgate.toml`; the fields in the expectation must match. On a mismatch the
//! actual decision is written beside the file as `*.actual.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const FIELDS: &[&str] = &["priority", "product", "detected_language", "language", "account", "tier", "after_hours", "assignee"];

fn rule_names(v: &Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|r| r.get("name").or(Some(r)).and_then(Value::as_str)).map(str::to_string).collect()
}

#[test]
fn golden_corpus_decides_as_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect();
    files.sort();
    assert!(files.len() >= 20, "the corpus has {} messages", files.len());
    let mut failures = Vec::new();
    for eml in &files {
        let expected_path = eml.with_extension("expected.json");
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
        let now = expected["now"].as_str().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_srgate"))
            .arg("--config")
            .arg(dir.join("srgate.toml"))
            .args(["rules", "explain"])
            .arg(eml)
            .args(["--now", now, "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", eml.display(), String::from_utf8_lossy(&out.stderr));
        let actual: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut wrong = Vec::new();
        for f in FIELDS {
            if expected.get(*f).is_some() && expected[*f] != actual[*f] {
                wrong.push(format!("{f}: expected {} got {}", expected[*f], actual[*f]));
            }
        }
        if expected.get("matched_rules").is_some() && rule_names(&expected["matched_rules"]) != rule_names(&actual["matched_rules"]) {
            wrong.push(format!(
                "matched_rules: expected {:?} got {:?}",
                rule_names(&expected["matched_rules"]),
                rule_names(&actual["matched_rules"])
            ));
        }
        let actual_path = eml.with_extension("actual.json");
        if wrong.is_empty() {
            let _ = std::fs::remove_file(&actual_path);
        } else {
            std::fs::write(&actual_path, serde_json::to_string_pretty(&actual).unwrap()).unwrap();
            failures.push(format!("{}:\n  {}", eml.file_name().unwrap().to_string_lossy(), wrong.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} golden files differ:\n{}", failures.len(), files.len(), failures.join("\n"));
}
