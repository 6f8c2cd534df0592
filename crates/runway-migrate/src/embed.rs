//! Compile-time embedding.

/// Embed a migrations folder in the binary at compile time and load it as a
/// [`MigrationSource`](crate::MigrationSource) (returns `Result<MigrationSource, MigrateError>`).
///
/// The path is relative to the crate root unless it starts with an environment variable such as
/// `$CARGO_MANIFEST_DIR`. Cargo does not rebuild when a file is *added* to the folder; add
/// `println!("cargo:rerun-if-changed=migrations");` to a `build.rs` to make it.
///
/// ```
/// let source = runway_migrate::embed_migrations!("$CARGO_MANIFEST_DIR/tests/fixtures/reversible").unwrap();
/// assert_eq!(source.origin(), "embedded");
/// assert_eq!(source.migrations()[0].name, "create_accounts");
/// assert!(source.migrations()[1].up.directives.no_transaction);
/// ```
#[macro_export]
macro_rules! embed_migrations {
    ($path:tt) => {{
        use $crate::__private::include_dir;
        static DIR: include_dir::Dir<'static> = include_dir::include_dir!($path);
        $crate::MigrationSource::from_embedded(&DIR)
    }};
}
