//! Context-aware linting against a real database: table size estimates and applied versions.

use runway_core::secrecy::SecretString;
use runway_migrate::lint::{
    LintContext, LintError, Linter, Migration, MigrationSet, RuleId, Severity, TableEstimate,
};
use runway_testkit::TestDatabase;

const LT: &str = "SET lock_timeout = '2s';\n";

fn m(v: &str, sql: &str) -> Migration {
    Migration::new(v, "m", format!("{v}_m.up.sql"), sql)
        .with_down(format!("{v}_m.down.sql"), "SELECT 1;")
}

async fn seeded() -> TestDatabase {
    let db = TestDatabase::create().await;
    let pool = db.pool().await;
    sqlx::raw_sql(
        "CREATE TABLE big (id bigint PRIMARY KEY, email text);
         INSERT INTO big SELECT g, 'u' || g FROM generate_series(1, 5000) g;
         CREATE TABLE small (id bigint PRIMARY KEY, email text);
         INSERT INTO small SELECT g, 'u' || g FROM generate_series(1, 20) g;
         CREATE TABLE empty_t (id bigint PRIMARY KEY, email text);
         CREATE TABLE legacy (id bigint);
         CREATE TABLE schema_history (version bigint PRIMARY KEY, success boolean NOT NULL);
         INSERT INTO schema_history VALUES (1, true), (2, true), (3, false);
         ANALYZE;",
    )
    .execute(&pool)
    .await
    .expect("seed");
    pool.close().await;
    db
}

#[tokio::test]
async fn size_estimates_raise_lower_and_drop_findings() {
    let db = seeded().await;
    let ctx = LintContext::from_database(&SecretString::from(db.url().to_string()), None)
        .await
        .expect("context");
    let big = ctx.estimate("big").expect("big is known");
    assert!(big.rows >= 4000.0 && big.pages > 0, "{big:?}");
    assert!(ctx.estimate("empty_t").expect("empty_t").is_empty());

    let set = MigrationSet::new(vec![
        m("3", &format!("{LT}ALTER TABLE big ALTER COLUMN email SET NOT NULL;\nALTER TABLE small ALTER COLUMN email SET NOT NULL;\nALTER TABLE empty_t ALTER COLUMN email SET NOT NULL;")),
        m("4", "CREATE TABLE fresh (id bigint, email text);"),
        m("5", "CREATE INDEX fresh_email_idx ON fresh (email);"),
    ])
    .expect("set");

    let plain = Linter::builder().build().expect("linter").lint_set(&set);
    let sev = |r: &runway_migrate::lint::Report, table: &str| {
        r.of_rule(RuleId::SetNotNull)
            .find(|f| f.table.as_deref() == Some(table))
            .map(|f| f.severity)
    };
    assert_eq!(sev(&plain, "big"), Some(Severity::Warning));
    assert_eq!(plain.of_rule(RuleId::IndexNotConcurrent).count(), 1);

    let aware = Linter::builder()
        .with_context(ctx)
        .with_large_table_rows(1000.0)
        .build()
        .expect("linter")
        .lint_set(&set);
    assert_eq!(sev(&aware, "big"), Some(Severity::Error));
    assert_eq!(sev(&aware, "small"), Some(Severity::Warning));
    assert_eq!(sev(&aware, "empty_t"), Some(Severity::Info));
    let big_finding = aware
        .of_rule(RuleId::SetNotNull)
        .find(|f| f.table.as_deref() == Some("big"))
        .expect("big finding");
    assert!(
        big_finding.message.contains("large table"),
        "{}",
        big_finding.message
    );
    // `fresh` does not exist in the database: an earlier pending migration creates it empty.
    assert_eq!(aware.of_rule(RuleId::IndexNotConcurrent).count(), 0);
}

#[tokio::test]
async fn only_released_deprecations_allow_a_drop() {
    let db = seeded().await;
    let ctx = LintContext::from_database(
        &SecretString::from(db.url().to_string()),
        Some("schema_history"),
    )
    .await
    .expect("context");
    assert_eq!(ctx.is_applied("0002"), Some(true));
    assert_eq!(
        ctx.is_applied("3"),
        Some(false),
        "a failed (dirty) row is not released"
    );
    let set = MigrationSet::new(vec![
        m("2", "-- runway-lint:deprecated table legacy\nSELECT 1;"),
        m("3", "-- runway-lint:deprecated column big.email\nSELECT 1;"),
        m(
            "4",
            &format!("-- runway-lint:requires-backup\n{LT}DROP TABLE legacy;\nALTER TABLE big DROP COLUMN email;"),
        ),
    ])
    .expect("set");
    let with_history = Linter::builder()
        .with_context(ctx)
        .build()
        .expect("linter")
        .lint_set(&set);
    assert_eq!(
        with_history
            .of_rule(RuleId::DropTableWithoutDeprecation)
            .count(),
        0
    );
    let col: Vec<_> = with_history
        .of_rule(RuleId::DropColumnWithoutDeprecation)
        .collect();
    assert_eq!(
        col.len(),
        1,
        "the marker in unreleased migration 3 does not count"
    );
    assert_eq!(col[0].line, 4);

    let without = Linter::builder().build().expect("linter").lint_set(&set);
    assert_eq!(
        without
            .of_rule(RuleId::DropColumnWithoutDeprecation)
            .count(),
        0
    );
}

#[tokio::test]
async fn context_errors_are_typed_and_hide_the_url() {
    let err = LintContext::from_database(
        &SecretString::from("postgres://u:hunter2@127.0.0.1:1/x".to_string()),
        None,
    )
    .await
    .expect_err("nothing listens on port 1");
    assert!(matches!(err, LintError::Database { .. }));
    assert!(!err.to_string().contains("hunter2"));
    let ctx = LintContext::new().with_table("public.t", TableEstimate::new(10.0, 1));
    assert!(ctx.estimate("t").is_some());
    assert!(!format!("{ctx:?}").contains("t\""));
}
