//! Arbitrary input never panics the decoders of migration files, and their errors are typed.

use proptest::prelude::*;
use runway_core::ErrorKind;
use runway_migrate::{
    Checksum, Directives, MigrateError, MigrationSource, SourceFile, parse_duration,
    parse_file_name, split_statements,
};

fn file_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,22}_[a-z_]{0,8}(\\.up|\\.down)?\\.sql",
        "[a-z0-9_.]{0,12}\\.sql",
        "\\PC{0,16}",
    ]
}

fn sql_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "(-- (runway: )?[a-z_=0-9, -]{0,30}\n){0,3}[A-Z ;'\"$()/*\n-]{0,60}",
        "\\PC{0,120}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn sources_never_panic_and_errors_are_typed(
        files in proptest::collection::vec((file_name(), sql_text()), 0..6),
        raw in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut input: Vec<SourceFile> = files
            .into_iter()
            .map(|(file, sql)| SourceFile { file, contents: sql.into_bytes(), path: None })
            .collect();
        input.push(SourceFile { file: "999_raw.sql".into(), contents: raw, path: None });
        match MigrationSource::from_files(input) {
            Ok(s) => {
                let versions: Vec<i64> = s.migrations().iter().map(|m| m.version).collect();
                let mut sorted = versions.clone();
                sorted.sort();
                sorted.dedup();
                prop_assert_eq!(versions, sorted);
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
                let typed = matches!(
                    e,
                    MigrateError::BadFileName { .. }
                        | MigrateError::NotUtf8 { .. }
                        | MigrateError::DuplicateVersion { .. }
                        | MigrateError::OrphanDown { .. }
                        | MigrateError::Directive { .. }
                );
                prop_assert!(typed, "{e:?}");
            }
        }
    }

    #[test]
    fn directives_and_names_never_panic(sql in sql_text(), name in file_name(), d in "\\PC{0,12}") {
        let _ = Directives::parse(&sql);
        let _ = parse_file_name(&name);
        let _ = parse_duration(&d);
    }

    #[test]
    fn statements_are_non_empty_slices_of_the_input(sql in sql_text()) {
        for s in split_statements(&sql) {
            prop_assert!(!s.is_empty());
            prop_assert!(sql.contains(s));
        }
    }

    #[test]
    fn checksum_ignores_line_endings_and_trailing_whitespace(
        lines in proptest::collection::vec("[a-zA-Z0-9 ();,']{0,20}", 0..8),
        pad in "[ \t]{0,3}",
    ) {
        let lf = lines.join("\n");
        let crlf: String = lines.iter().map(|l| format!("{}{pad}\r\n", l.trim_end())).collect();
        prop_assert_eq!(Checksum::of(&lf), Checksum::of(&crlf));
    }
}
