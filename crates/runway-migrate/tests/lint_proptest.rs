//! Arbitrary input never panics the linter, and its findings stay well-formed.

use proptest::prelude::*;
use runway_migrate::lint::{
    Linter, Migration, MigrationSet, RuleId, parse_migration_name, render_sarif,
};

const FRAGMENTS: &[&str] = &[
    "ALTER TABLE t ADD COLUMN c int NOT NULL",
    "CREATE INDEX CONCURRENTLY i ON t (a)",
    "-- runway-lint:allow rename-column: because\n",
    "-- runway: no-transaction\n",
    "/* runway-lint:allow-file x */",
    "DROP TABLE t",
    "BEGIN",
    "COMMIT",
    "$$ ; $$",
    "'unterminated",
    ";",
    "\n",
    "(",
    ")",
    "é",
    "SET lock_timeout = 0",
];

fn sqlish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(FRAGMENTS).prop_map(str::to_string),
            any::<String>(),
        ],
        0..12,
    )
    .prop_map(|parts| parts.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lint_never_panics(sql in sqlish(), down in proptest::option::of(sqlish())) {
        let linter = Linter::default();
        let r = linter.lint_sql("x.sql", &sql);
        let lines = u32::try_from(sql.lines().count().max(1) + 1).unwrap_or(u32::MAX);
        for f in &r.findings {
            prop_assert!(f.line >= 1 && f.line <= lines, "line {} of {}", f.line, lines);
            prop_assert!(f.column >= 1);
            prop_assert!(RuleId::ALL.contains(&f.rule));
        }
        let mut m = Migration::new("1", "x", "1_x.up.sql", sql);
        if let Some(d) = down {
            m = m.with_down("1_x.down.sql", d);
        }
        let set = MigrationSet::new(vec![m]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let report = linter.lint_set(&set);
        let sarif: serde_json::Value = serde_json::from_str(&render_sarif(&report))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(sarif["runs"][0]["results"].as_array().map(Vec::len), Some(report.findings.len()));
    }

    #[test]
    fn arbitrary_file_contents_load_or_fail_typed(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let up = dir.path().join("0001_x.up.sql");
        let loose = dir.path().join("notes.sql");
        std::fs::write(&up, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        std::fs::write(&loose, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match Linter::default().lint_paths(&[&up, &loose]) {
            Ok(r) => prop_assert_eq!(r.files, 2),
            Err(e) => {
                prop_assert!(std::str::from_utf8(&bytes).is_err());
                prop_assert_eq!(e.kind(), runway_core::ErrorKind::InvalidInput);
            }
        }
    }

    #[test]
    fn file_names_never_panic(name in any::<String>()) {
        if let Some(m) = parse_migration_name(&name) {
            prop_assert!(!m.version.is_empty());
            prop_assert!(m.version.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
