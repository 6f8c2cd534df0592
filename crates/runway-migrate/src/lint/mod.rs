//! The migration safety linter and rehearsal.
//!
//! The runbook's migration Dos and Don'ts as checks on the SQL of each migration, parsed by PostgreSQL's own
//! grammar (libpg_query through the `pg_query` crate), plus process checks (a downgrade exists, drops were
//! deprecated in an earlier release, destructive migrations declare a backup).
//!
//! | what | entry points |
//! |---|---|
//! | load migrations | [`MigrationSet::load`], [`MigrationSet::new`], [`Migration`] |
//! | lint | [`Linter::builder`], [`Linter::lint_set`], [`Linter::lint_sql`], [`Linter::lint_paths`] |
//! | results | [`Report`], [`Finding`], [`RuleId`], [`Severity`] |
//! | output | [`render_text`], [`render_json`], [`render_sarif`] |
//! | context-aware mode | [`LintContext::from_database`], [`LintContext::with_table`], [`TableEstimate`] |
//! | rehearsal | [`Rehearsal::builder`], [`RehearsalReport`] |
//!
//! Directives are SQL comments. The runner's own (`-- no-transaction`, `-- runway: no-transaction,
//! lock_timeout=2s`) are read as the runner reads them. The linter's markers: `-- runway-lint:requires-backup`,
//! `-- runway-lint:deprecated table <t>` / `column <t>.<c>`, and suppressions
//! `-- runway-lint:allow <rule-id>: <reason>` (one statement) or `-- runway-lint:allow-file <rule-id>: <reason>`.
//!
//! ```
//! use runway_migrate::lint::{Linter, Migration, MigrationSet, RuleId};
//!
//! let set = MigrationSet::new(vec![
//!     Migration::new("1", "users", "1_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);")
//!         .with_down("1_users.down.sql", "DROP TABLE users;"),
//!     Migration::new("2", "phone", "2_phone.up.sql",
//!         "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN phone text NOT NULL;"),
//! ])?;
//! let report = Linter::builder().build()?.lint_set(&set);
//! assert!(report.has_errors());
//! let f = report.of_rule(RuleId::AddingRequiredColumn).next().expect("finding");
//! assert_eq!((f.file.as_str(), f.line, f.column), ("2_phone.up.sql", 2, 30));
//! assert_eq!(report.of_rule(RuleId::MissingDowngrade).count(), 1);
//! # Ok::<(), runway_migrate::lint::LintError>(())
//! ```

mod context;
mod directives;
mod error;
mod finding;
mod output;
mod parse;
mod rehearse;
mod rules;
mod source;

use std::collections::HashSet;

pub use context::{LintContext, TableEstimate};
pub use error::LintError;
pub use finding::{Finding, Report, RuleId, Severity};
pub use output::{render_json, render_sarif, render_text};
pub use parse::Position;
pub use rehearse::{
    LockTaken, Rehearsal, RehearsalBuilder, RehearsalReport, RehearsedMigration, StepTiming,
};
pub use source::{DownFile, Migration, MigrationName, MigrationSet, parse_migration_name};

use rules::{Deprecations, RuleOptions};

/// The runway runner's default history table, for [`LintContext::from_database`].
pub const RUNNER_HISTORY_TABLE: &str = "runway_migrations";

/// Default row estimate from which a table counts as large in context-aware mode.
pub const DEFAULT_LARGE_TABLE_ROWS: f64 = 1_000_000.0;

/// The linter: configuration plus optional database context. Cheap to clone; linting is pure (no IO).
#[derive(Debug, Clone)]
pub struct Linter {
    opts: RuleOptions,
    context: Option<LintContext>,
    large_table_rows: f64,
}

impl Default for Linter {
    fn default() -> Self {
        Linter {
            opts: RuleOptions::default(),
            context: None,
            large_table_rows: DEFAULT_LARGE_TABLE_ROWS,
        }
    }
}

/// Builds a [`Linter`].
#[derive(Debug, Clone, Default)]
pub struct LinterBuilder {
    disabled: Vec<String>,
    assume_lock_timeout: bool,
    context: Option<LintContext>,
    large_table_rows: Option<f64>,
}

impl LinterBuilder {
    /// Turn a rule off by its id (validated in [`LinterBuilder::build`]).
    #[must_use]
    pub fn with_disabled_rule(mut self, rule: impl Into<String>) -> Self {
        self.disabled.push(rule.into());
        self
    }

    /// Declare that the runner sets `lock_timeout` for transactional migrations (the runway runner does, 5 s
    /// by default), so only `no-transaction` migrations must set their own.
    #[must_use]
    pub fn with_assume_lock_timeout(mut self, yes: bool) -> Self {
        self.assume_lock_timeout = yes;
        self
    }

    /// Use table size estimates and applied versions from a database (see [`LintContext`]).
    #[must_use]
    pub fn with_context(mut self, context: LintContext) -> Self {
        self.context = Some(context);
        self
    }

    /// Row estimate from which a table counts as large (default [`DEFAULT_LARGE_TABLE_ROWS`]).
    #[must_use]
    pub fn with_large_table_rows(mut self, rows: f64) -> Self {
        self.large_table_rows = Some(rows);
        self
    }

    /// Validate and build.
    ///
    /// # Errors
    /// [`LintError::UnknownRule`] for a disabled rule id that does not exist; [`LintError::InvalidConfig`] for a
    /// negative or non-finite large-table threshold.
    pub fn build(self) -> Result<Linter, LintError> {
        let mut disabled = HashSet::new();
        for r in &self.disabled {
            disabled.insert(r.parse::<RuleId>()?);
        }
        let large_table_rows = self.large_table_rows.unwrap_or(DEFAULT_LARGE_TABLE_ROWS);
        if !large_table_rows.is_finite() || large_table_rows < 0.0 {
            return Err(LintError::InvalidConfig {
                message: format!(
                    "large table threshold must be a non-negative number, got {large_table_rows}"
                ),
            });
        }
        Ok(Linter {
            opts: RuleOptions {
                disabled,
                assume_lock_timeout: self.assume_lock_timeout,
            },
            context: self.context,
            large_table_rows,
        })
    }
}

impl Linter {
    /// Start building a linter.
    pub fn builder() -> LinterBuilder {
        LinterBuilder::default()
    }

    /// Lint one loose SQL file: all statement rules, no downgrade check, no deprecation history.
    pub fn lint_sql(&self, file: &str, sql: &str) -> Report {
        let (findings, mut report, _, _) =
            rules::lint_one(file, sql, None, &Deprecations::new(), &self.opts);
        report.findings = findings;
        self.adjust(&mut report, &HashSet::new());
        report.sort();
        report
    }

    /// Lint an ordered set of migrations: statement rules, downgrade presence, and drops checked against
    /// deprecation markers in earlier migrations (only applied ones when the context knows them).
    pub fn lint_set(&self, set: &MigrationSet) -> Report {
        let mut total = Report::default();
        let mut deprecated = Deprecations::new();
        let mut created_by_set: HashSet<String> = HashSet::new();
        for m in set.migrations() {
            let down = Some(m.down.as_ref().map(|d| (d.path.as_str(), d.sql.as_str())));
            let (findings, mut report, marked, created) =
                rules::lint_one(&m.path, &m.sql, down, &deprecated, &self.opts);
            report.findings = findings;
            self.adjust(&mut report, &created_by_set);
            total.merge(report);
            let released = self.context.as_ref().and_then(|c| c.is_applied(&m.version));
            if released != Some(false) {
                deprecated.extend(marked);
            }
            created_by_set.extend(created);
        }
        total.sort();
        total
    }

    /// Lint files and folders: folders and versioned files (`0003_x.up.sql`) as one ordered
    /// [`MigrationSet`], other `.sql` files as loose SQL ([`Linter::lint_sql`]).
    ///
    /// # Errors
    /// As [`MigrationSet::load`], and IO errors reading loose files.
    pub fn lint_paths<P: AsRef<std::path::Path>>(&self, paths: &[P]) -> Result<Report, LintError> {
        let (mut set_paths, mut loose) = (Vec::new(), Vec::new());
        for p in paths {
            let p = p.as_ref();
            let name = p.file_name().and_then(|f| f.to_str()).unwrap_or_default();
            if p.is_dir() || parse_migration_name(name).is_some() {
                set_paths.push(p.to_path_buf());
            } else {
                loose.push(p.to_path_buf());
            }
        }
        let mut report = if set_paths.is_empty() {
            Report::default()
        } else {
            self.lint_set(&MigrationSet::load(&set_paths)?)
        };
        for p in loose {
            let sql = std::fs::read_to_string(&p).map_err(|source| LintError::Io {
                path: p.clone(),
                source,
            })?;
            report.merge(self.lint_sql(&p.display().to_string(), &sql));
        }
        report.sort();
        Ok(report)
    }

    /// Context-aware adjustment: drop findings on tables that do not exist yet (created empty by an earlier
    /// pending migration), lower size-sensitive findings on empty tables, raise them on large ones.
    fn adjust(&self, report: &mut Report, created_by_set: &HashSet<String>) {
        let Some(ctx) = &self.context else { return };
        let large = self.large_table_rows;
        report.findings.retain_mut(|f| {
            let Some(table) = f.table.clone() else {
                return true;
            };
            match ctx.estimate(&table) {
                None => !(ctx.has_tables() && created_by_set.contains(&table)),
                Some(est) => {
                    let sensitive =
                        f.rule.size_sensitive() || f.rule == RuleId::DestructiveWithoutBackup;
                    if est.is_empty() && f.rule.size_sensitive() {
                        f.severity = Severity::Info;
                        f.message
                            .push_str(" (the table is empty, so this is brief)");
                    } else if sensitive && est.rows >= large {
                        f.severity = f.severity.raised();
                        f.message.push_str(&format!(
                            " (large table: about {:.0} rows, {} MiB)",
                            est.rows,
                            est.bytes() / (1024 * 1024)
                        ));
                    }
                    true
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_validates() {
        assert!(matches!(
            Linter::builder().with_disabled_rule("nope").build(),
            Err(LintError::UnknownRule { .. })
        ));
        assert!(matches!(
            Linter::builder().with_large_table_rows(f64::NAN).build(),
            Err(LintError::InvalidConfig { .. })
        ));
        let l = Linter::builder()
            .with_disabled_rule("rename-column")
            .build()
            .expect("linter");
        let r = l.lint_sql("x.sql", "ALTER TABLE t RENAME COLUMN a TO b;");
        assert_eq!(r.of_rule(RuleId::RenameColumn).count(), 0);
    }
}
