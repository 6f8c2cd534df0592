//! The rule corpus: `tests/lint_corpus/<rule-id>/{pos,neg}-<case>/` are migration folders. In positive cases,
//! every line that should produce a finding of the rule carries the comment `expect: <rule-id>`; the linter
//! must report exactly those lines (no more, no fewer). Negative cases must produce no finding of the rule.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use runway_migrate::lint::{Linter, MigrationSet, RuleId};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint_corpus")
}

fn dirs(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(p)
        .expect("read corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// `(file name, line)` of every `expect: <rule>` marker in the case's files.
fn expected(case: &Path, rule: RuleId) -> BTreeSet<(String, u32)> {
    let marker = format!("expect: {}", rule.as_str());
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(case).expect("case dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        let name = path
            .file_name()
            .and_then(|f| f.to_str())
            .expect("name")
            .to_string();
        for (i, line) in text.lines().enumerate() {
            if line.contains(&marker) {
                out.insert((name.clone(), u32::try_from(i + 1).expect("line")));
            }
        }
    }
    out
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .and_then(|f| f.to_str())
        .expect("name")
        .to_string()
}

#[test]
fn every_rule_has_a_positive_and_a_negative_case() {
    let root = corpus();
    for rule in RuleId::ALL {
        let dir = root.join(rule.as_str());
        assert!(dir.is_dir(), "no corpus folder for {rule}");
        let cases = dirs(&dir);
        let name = |c: &PathBuf| {
            c.file_name()
                .and_then(|f| f.to_str())
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            cases.iter().any(|c| name(c).starts_with("pos-")),
            "{rule}: no positive case"
        );
        assert!(
            cases.iter().any(|c| name(c).starts_with("neg-")),
            "{rule}: no negative case"
        );
    }
}

#[test]
fn corpus_findings_match_expectations() {
    let linter = Linter::builder().build().expect("linter");
    let mut checked = 0;
    for rule_dir in dirs(&corpus()) {
        let rule: RuleId = rule_dir
            .file_name()
            .and_then(|f| f.to_str())
            .expect("name")
            .parse()
            .expect("corpus folder named after a rule id");
        for case in dirs(&rule_dir) {
            let case_name = case
                .file_name()
                .and_then(|f| f.to_str())
                .expect("name")
                .to_string();
            let set = MigrationSet::load(&[&case]).expect("load case");
            let report = linter.lint_set(&set);
            let got: BTreeSet<(String, u32)> = report
                .of_rule(rule)
                .map(|f| (file_name(&f.file), f.line))
                .collect();
            let want = expected(&case, rule);
            if case_name.starts_with("pos-") {
                assert!(
                    !want.is_empty(),
                    "{rule}/{case_name}: a positive case needs `expect:` markers"
                );
            } else {
                assert!(
                    want.is_empty(),
                    "{rule}/{case_name}: a negative case has `expect:` markers"
                );
            }
            assert_eq!(
                got, want,
                "{rule}/{case_name}: findings\n{:#?}",
                report.findings
            );
            for f in report.of_rule(rule) {
                assert!(f.column >= 1 && !f.message.is_empty() && !f.alternative.is_empty());
            }
            checked += 1;
        }
    }
    assert!(checked >= 2 * RuleId::ALL.len(), "only {checked} cases");
}
