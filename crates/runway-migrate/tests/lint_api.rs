//! Output formats, suppressions, locations and loading of the linter's public API.

use runway_migrate::lint::{
    LintError, Linter, MigrationSet, RuleId, Severity, render_json, render_sarif, render_text,
};

fn lint(sql: &str) -> runway_migrate::lint::Report {
    Linter::default().lint_sql("m.sql", sql)
}

#[test]
fn locations_are_line_and_column_of_the_statement() {
    let sql = "SET lock_timeout = '1s';\n\n  -- comment\n  CREATE INDEX i ON t (a);\nALTER TABLE t\n  ADD COLUMN b int NOT NULL;";
    let r = lint(sql);
    let idx = r
        .of_rule(RuleId::IndexNotConcurrent)
        .next()
        .expect("index finding");
    assert_eq!((idx.line, idx.column), (4, 3));
    let col = r
        .of_rule(RuleId::AddingRequiredColumn)
        .next()
        .expect("column finding");
    assert_eq!((col.line, col.column), (6, 14));
    assert_eq!(col.table.as_deref(), Some("t"));
    assert!(col.alternative.contains("nullable") && col.alternative.contains("backfill"));
}

#[test]
fn suppressions_need_a_reason_and_apply_to_one_statement_or_the_file() {
    let sql = "SET lock_timeout = '1s';
-- runway-lint:allow rename-column: no client reads `a` since v2
ALTER TABLE t RENAME COLUMN a TO b;
ALTER TABLE t RENAME COLUMN c TO d;
ALTER TABLE t RENAME COLUMN e TO f; -- runway-lint:allow rename-column, rename-table: e is write-only
";
    let r = lint(sql);
    let lines: Vec<u32> = r.of_rule(RuleId::RenameColumn).map(|f| f.line).collect();
    assert_eq!(lines, vec![4]);
    assert_eq!(r.suppressed, 2);
    assert_eq!(r.of_rule(RuleId::UnusedSuppression).count(), 0);

    let file = "-- runway-lint:allow-file rename-column: legacy reporting table, nothing else reads it\n\
                SET lock_timeout = '1s';\nALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE t RENAME COLUMN c TO d;";
    let r = lint(file);
    assert_eq!(r.of_rule(RuleId::RenameColumn).count(), 0);
    assert_eq!(r.suppressed, 2);

    let no_reason = "SET lock_timeout = '1s';\n-- runway-lint:allow rename-column\nALTER TABLE t RENAME COLUMN a TO b;";
    let r = lint(no_reason);
    assert_eq!(
        r.of_rule(RuleId::RenameColumn).count(),
        1,
        "a suppression without a reason suppresses nothing"
    );
    let bad = r
        .of_rule(RuleId::InvalidSuppression)
        .next()
        .expect("invalid suppression");
    assert_eq!(bad.line, 2);
    assert_eq!(bad.severity, Severity::Error);
}

#[test]
fn the_runner_lock_timeout_directive_and_assumption_count() {
    let sql = "ALTER TABLE t ADD COLUMN b int;";
    assert_eq!(lint(sql).of_rule(RuleId::MissingLockTimeout).count(), 1);
    let with_directive = format!("-- runway: lock_timeout=3s, statement_timeout=1min\n{sql}");
    assert_eq!(
        lint(&with_directive)
            .of_rule(RuleId::MissingLockTimeout)
            .count(),
        0
    );
    let assumed = Linter::builder()
        .with_assume_lock_timeout(true)
        .build()
        .expect("linter");
    assert_eq!(
        assumed
            .lint_sql("m.sql", sql)
            .of_rule(RuleId::MissingLockTimeout)
            .count(),
        0
    );
    let disabled = format!("-- runway: lock_timeout=0\n{sql}");
    assert_eq!(
        assumed
            .lint_sql("m.sql", &disabled)
            .of_rule(RuleId::MissingLockTimeout)
            .count(),
        1
    );
}

#[test]
fn text_json_and_sarif_carry_the_same_findings() {
    let sql = "CREATE INDEX i ON t (a);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;";
    let r = Linter::default().lint_sql("db/migrations/0002 add.sql", sql);
    assert!(r.has_errors());
    assert_eq!(r.warnings(), 1);

    let text = render_text(&r);
    assert!(
        text.contains("db/migrations/0002 add.sql:1:1: error[index-not-concurrent]"),
        "{text}"
    );
    assert!(text.contains("safe alternative: "));

    let json: serde_json::Value = serde_json::from_str(&render_json(&r)).expect("json");
    assert_eq!(json["errors"], r.errors());
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), r.findings.len());
    assert_eq!(findings[0]["rule"], "index-not-concurrent");
    assert_eq!(findings[0]["line"], 1);
    assert_eq!(findings[0]["severity"], "error");
    assert!(
        findings[0]["alternative"]
            .as_str()
            .is_some_and(|a| a.contains("CONCURRENTLY"))
    );

    let sarif: serde_json::Value = serde_json::from_str(&render_sarif(&r)).expect("sarif");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), RuleId::ALL.len());
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), r.findings.len());
    for (res, f) in results.iter().zip(&r.findings) {
        let idx = usize::try_from(res["ruleIndex"].as_u64().expect("index")).expect("usize");
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert_eq!(res["ruleId"], f.rule.as_str());
        let region = &res["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], f.line);
        assert_eq!(region["startColumn"], f.column);
    }
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "db/migrations/0002%20add.sql"
    );
    assert_eq!(results[1]["level"], "warning");
}

#[test]
fn syntax_errors_are_findings_with_the_failing_statement() {
    let r = lint("SET lock_timeout = '1s';\nSELEC 1;\nDROP TABLE t;");
    let e = r.of_rule(RuleId::SyntaxError).next().expect("syntax error");
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("syntax error"), "{}", e.message);
}

#[test]
fn loading_layouts_and_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    std::fs::write(
        p.join("0001_users.up.sql"),
        "CREATE TABLE users (id bigint);",
    )
    .expect("write");
    std::fs::write(p.join("0001_users.down.sql"), "DROP TABLE users;").expect("write");
    std::fs::write(p.join("0002_plain.sql"), "SELECT 1;").expect("write");
    std::fs::create_dir(p.join("0010_folder")).expect("mkdir");
    std::fs::write(p.join("0010_folder/up.sql"), "SELECT 2;").expect("write");
    std::fs::write(p.join("0010_folder/down.sql"), "SELECT 3;").expect("write");
    std::fs::write(p.join("README.md"), "not sql").expect("write");
    let set = MigrationSet::load(&[p]).expect("load");
    let versions: Vec<&str> = set
        .migrations()
        .iter()
        .map(|m| m.version.as_str())
        .collect();
    assert_eq!(versions, vec!["0001", "0002", "0010"]);
    assert!(set.migrations()[0].down.is_some());
    assert!(set.migrations()[1].down.is_none());
    assert_eq!(
        set.migrations()[2].down.as_ref().map(|d| d.sql.as_str()),
        Some("SELECT 3;")
    );
    let r = Linter::default().lint_set(&set);
    assert_eq!(r.of_rule(RuleId::MissingDowngrade).count(), 1);
    assert_eq!(r.files, 5);

    // A single up file picks up its down sibling.
    let one = MigrationSet::load(&[p.join("0001_users.up.sql")]).expect("load");
    assert!(one.migrations()[0].down.is_some());

    std::fs::write(p.join("notes.sql"), "SELECT 1;").expect("write");
    let err = MigrationSet::load(&[p]).expect_err("no version");
    assert!(matches!(err, LintError::InvalidMigrationName { .. }));
    assert_eq!(err.kind(), runway_core::ErrorKind::InvalidInput);
    std::fs::remove_file(p.join("notes.sql")).expect("rm");
    std::fs::write(p.join("0003_orphan.down.sql"), "SELECT 1;").expect("write");
    assert!(matches!(
        MigrationSet::load(&[p]),
        Err(LintError::MissingUpFile { .. })
    ));
    let missing = MigrationSet::load(&[p.join("0099_none.sql")]).expect_err("missing file");
    assert_eq!(missing.kind(), runway_core::ErrorKind::NotFound);
}

#[test]
fn the_runners_source_lints_the_same_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    std::fs::write(p.join("1_users.up.sql"), "CREATE TABLE users (id bigint);").expect("write");
    std::fs::write(p.join("1_users.down.sql"), "DROP TABLE users;").expect("write");
    std::fs::write(
        p.join("2_idx.up.sql"),
        "-- runway: no-transaction\nCREATE INDEX CONCURRENTLY users_id_idx ON users (id);",
    )
    .expect("write");
    let source = runway_migrate::MigrationSource::from_dir(p).expect("runner source");
    let set = MigrationSet::from_source(&source).expect("set");
    assert_eq!(set.len(), 2);
    let r = Linter::builder()
        .with_assume_lock_timeout(true)
        .build()
        .expect("linter")
        .lint_set(&set);
    let rules: Vec<RuleId> = r.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, vec![RuleId::MissingDowngrade]);
    assert!(r.findings[0].file.ends_with("2_idx.up.sql"));
}
