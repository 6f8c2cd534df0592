//! Rule ids, severities, findings and reports.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::LintError;

/// How bad a finding is. Only [`Severity::Error`] makes a lint run fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: nothing to do (for example a risky operation on an empty table).
    Info,
    /// Worth a look; does not fail the run.
    Warning,
    /// Unsafe as written; fails the run unless suppressed with a reason.
    Error,
}

impl Severity {
    /// `info`, `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub(crate) fn raised(self) -> Severity {
        match self {
            Severity::Info => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $sev:ident, $size:literal, $summary:literal; )*) => {
        /// A lint rule. Its stable id (kebab-case) is what suppressions, JSON and SARIF use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum RuleId {
            $( $(#[$doc])* $variant, )*
        }

        impl RuleId {
            /// Every rule, in documentation order.
            pub const ALL: &'static [RuleId] = &[ $( RuleId::$variant, )* ];

            /// The stable kebab-case id.
            pub fn as_str(self) -> &'static str {
                match self { $( RuleId::$variant => $id, )* }
            }

            /// The severity before any context adjustment.
            pub fn default_severity(self) -> Severity {
                match self { $( RuleId::$variant => Severity::$sev, )* }
            }

            /// Whether the risk grows with the table's size (rewrites, scans, long locks). Such findings
            /// are lowered on empty tables and raised on large ones in context-aware mode.
            pub fn size_sensitive(self) -> bool {
                match self { $( RuleId::$variant => $size, )* }
            }

            /// A one-line description of what the rule checks.
            pub fn summary(self) -> &'static str {
                match self { $( RuleId::$variant => $summary, )* }
            }
        }

        impl FromStr for RuleId {
            type Err = LintError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $( $id => Ok(RuleId::$variant), )*
                    other => Err(LintError::UnknownRule { rule: other.to_string() }),
                }
            }
        }
    };
}

rules! {
    /// `ADD COLUMN ... NOT NULL` without a default.
    AddingRequiredColumn = "adding-required-column", Error, false,
        "A NOT NULL column is added without a default: fails on populated tables and breaks old INSERTs.";
    /// `ADD COLUMN` with a volatile default (or a serial type, or a stored generated column): rewrites the table.
    VolatileDefault = "volatile-default", Error, true,
        "A column is added with a volatile default, which rewrites the whole table under ACCESS EXCLUSIVE.";
    /// `SET NOT NULL` on an existing column: a full scan under ACCESS EXCLUSIVE.
    SetNotNull = "set-not-null", Warning, true,
        "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK proves it.";
    /// `CREATE INDEX` / `DROP INDEX` without `CONCURRENTLY`.
    IndexNotConcurrent = "index-not-concurrent", Error, true,
        "An index is created or dropped without CONCURRENTLY, blocking writes for the whole build.";
    /// `CONCURRENTLY` inside a transaction.
    ConcurrentInTransaction = "concurrent-in-transaction", Error, false,
        "A CONCURRENTLY operation runs inside a transaction, where PostgreSQL refuses it.";
    /// `ALTER TABLE ... RENAME COLUMN`.
    RenameColumn = "rename-column", Error, false,
        "A column is renamed, which breaks every running client that still uses the old name.";
    /// `ALTER TABLE ... RENAME TO`.
    RenameTable = "rename-table", Error, false,
        "A table is renamed, which breaks every running client that still uses the old name.";
    /// `DROP COLUMN` without a deprecation marker in an earlier migration.
    DropColumnWithoutDeprecation = "drop-column-without-deprecation", Error, false,
        "A column is dropped without having been marked deprecated in an earlier released migration.";
    /// `DROP TABLE` without a deprecation marker in an earlier migration.
    DropTableWithoutDeprecation = "drop-table-without-deprecation", Error, false,
        "A table is dropped without having been marked deprecated in an earlier released migration.";
    /// `ALTER COLUMN ... TYPE`.
    ColumnTypeChange = "column-type-change", Error, true,
        "A column's type is changed, which usually rewrites the table under ACCESS EXCLUSIVE.";
    /// A CHECK or FOREIGN KEY constraint added without `NOT VALID`, or validated in the same transaction.
    ConstraintMissingNotValid = "constraint-missing-not-valid", Error, true,
        "A constraint is added without NOT VALID (or validated in the same transaction), scanning under a heavy lock.";
    /// `ADD CONSTRAINT ... UNIQUE` / `PRIMARY KEY` without `USING INDEX`.
    UniqueConstraintDirect = "unique-constraint-direct", Error, true,
        "A unique or primary key constraint builds its index inline instead of using a concurrent unique index.";
    /// An ACCESS EXCLUSIVE operation without an earlier `SET lock_timeout`.
    MissingLockTimeout = "missing-lock-timeout", Error, false,
        "An ACCESS EXCLUSIVE operation runs without a lock_timeout, so a queued lock can stall all traffic.";
    /// A migration with no downgrade file.
    MissingDowngrade = "missing-downgrade", Error, false,
        "The migration has no downgrade (down) file, or the downgrade is empty.";
    /// `DROP`, `TRUNCATE`, or `DELETE`/`UPDATE` without `WHERE`, with no backup marker.
    DestructiveWithoutBackup = "destructive-without-backup", Error, false,
        "A destructive statement runs in a migration that does not declare `-- runway-lint:requires-backup`.";
    /// The file does not parse as PostgreSQL.
    SyntaxError = "syntax-error", Error, false,
        "The file is not valid PostgreSQL.";
    /// A suppression comment without a reason or with an unknown rule.
    InvalidSuppression = "invalid-suppression", Error, false,
        "A suppression comment is malformed: every suppression needs known rule ids and a reason.";
    /// A suppression that matched no finding.
    UnusedSuppression = "unused-suppression", Warning, false,
        "A suppression comment matched no finding and can be removed.";
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem found in a migration file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Which rule.
    pub rule: RuleId,
    /// How bad, after context adjustment.
    pub severity: Severity,
    /// The file, as given to the linter.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (Unicode code points).
    pub column: u32,
    /// What is wrong, naming the table or column.
    pub message: String,
    /// The safe way to do the same thing.
    pub alternative: String,
    /// The table the finding is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}] {}\n  safe alternative: {}",
            self.file,
            self.line,
            self.column,
            self.severity,
            self.rule,
            self.message,
            self.alternative
        )
    }
}

/// The findings of one lint run, sorted by file, line and column.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Files linted (up and down files).
    pub files: usize,
    /// Statements parsed.
    pub statements: usize,
    /// Findings that were not suppressed.
    pub findings: Vec<Finding>,
    /// How many findings were suppressed by a comment with a reason.
    pub suppressed: usize,
}

impl Report {
    /// Number of findings with severity error.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Number of findings with severity warning.
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    /// `true` when there is at least one error: the lint run fails.
    pub fn has_errors(&self) -> bool {
        self.errors() > 0
    }

    fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }

    /// The summary as a runway event, for an [`Emitter`](runway_core::Emitter) (progress, journal, notifications).
    pub fn event(&self) -> runway_core::event::MigrationEvent {
        runway_core::event::MigrationEvent::Linted {
            errors: self.errors(),
            warnings: self.warnings(),
        }
    }

    /// Findings of one rule.
    pub fn of_rule(&self, rule: RuleId) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.rule == rule)
    }

    pub(crate) fn merge(&mut self, other: Report) {
        self.files += other.files;
        self.statements += other.statements;
        self.findings.extend(other.findings);
        self.suppressed += other.suppressed;
    }

    pub(crate) fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (a.file.as_str(), a.line, a.column, a.rule).cmp(&(
                b.file.as_str(),
                b.line,
                b.column,
                b.rule,
            ))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_event_counts() {
        let r = Report {
            findings: vec![Finding {
                rule: RuleId::RenameColumn,
                severity: Severity::Error,
                file: "f".into(),
                line: 1,
                column: 1,
                message: "m".into(),
                alternative: "a".into(),
                table: None,
            }],
            ..Report::default()
        };
        assert_eq!(
            r.event(),
            runway_core::event::MigrationEvent::Linted {
                errors: 1,
                warnings: 0
            }
        );
    }

    #[test]
    fn rule_ids_round_trip() {
        for r in RuleId::ALL {
            assert_eq!(r.as_str().parse::<RuleId>().ok(), Some(*r));
            assert!(!r.summary().is_empty());
        }
        assert!(matches!(
            "no-such-rule".parse::<RuleId>(),
            Err(LintError::UnknownRule { .. })
        ));
    }
}
