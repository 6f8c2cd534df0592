//! The rules: one pass over a migration's statements, in order, tracking what the migration has done so far
//! (tables it created, whether `lock_timeout` is set, whether a transaction is open).

use std::collections::{HashMap, HashSet};

use pg_query::protobuf::{
    self, AlterTableCmd, AlterTableType, ConstrType, Constraint, ObjectType, RangeVar,
    TransactionStmtKind, VariableSetKind, a_const,
};
use pg_query::{NodeEnum, NodeRef};

use super::directives::{self, Directives};
use super::finding::{Finding, Report, RuleId, Severity};
use super::parse::{self, ParsedSql};

/// Tables and columns marked deprecated (`table` or `table.column`).
pub(crate) type Deprecations = HashSet<String>;

/// Options that change what the rules report.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleOptions {
    pub(crate) disabled: HashSet<RuleId>,
    /// The runner sets a `lock_timeout` itself for transactional migrations, so those need not.
    pub(crate) assume_lock_timeout: bool,
}

/// A finding before suppressions and context: it remembers its statement.
#[derive(Debug, Clone)]
pub(crate) struct RawFinding {
    pub(crate) rule: RuleId,
    pub(crate) severity: Severity,
    pub(crate) offset: usize,
    /// Index of the statement; `None` for file-level findings.
    pub(crate) statement: Option<usize>,
    pub(crate) message: String,
    pub(crate) alternative: String,
    pub(crate) table: Option<String>,
}

/// Functions whose result differs per row (or per call): a default using one rewrites the table.
const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "random_normal",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "setval",
    "txid_current",
    "pg_current_xact_id",
];

const SERIAL_TYPES: &[&str] = &[
    "serial",
    "serial2",
    "serial4",
    "serial8",
    "smallserial",
    "bigserial",
];

/// Which table a `RangeVar` names, without a `public.` prefix.
pub(crate) fn table_key(rv: &RangeVar) -> String {
    if rv.schemaname.is_empty() || rv.schemaname == "public" {
        rv.relname.clone()
    } else {
        format!("{}.{}", rv.schemaname, rv.relname)
    }
}

fn names_key(items: &[protobuf::Node]) -> String {
    let parts: Vec<&str> = items
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        ["public", rest @ ..] if !rest.is_empty() => rest.join("."),
        _ => parts.join("."),
    }
}

fn object_key(node: Option<&protobuf::Node>) -> String {
    match node.and_then(|n| n.node.as_ref()) {
        Some(NodeEnum::List(l)) => names_key(&l.items),
        Some(NodeEnum::String(s)) => s.sval.clone(),
        _ => String::new(),
    }
}

fn loc(base: usize, location: i32) -> Option<usize> {
    usize::try_from(location).ok().map(|l| l.max(base))
}

struct Pass<'a> {
    parsed: &'a ParsedSql,
    dirs: &'a Directives,
    opts: &'a RuleOptions,
    earlier: &'a Deprecations,
    created: HashSet<String>,
    explicit_tx: bool,
    tx_segment: u32,
    lock_timeout: bool,
    lock_timeout_reported: bool,
    not_valid: HashMap<(String, String), u32>,
    out: Vec<RawFinding>,
    deprecated_here: Deprecations,
}

impl Pass<'_> {
    fn in_tx(&self) -> bool {
        self.explicit_tx || !self.dirs.no_transaction
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        rule: RuleId,
        stmt: usize,
        offset: usize,
        table: Option<&str>,
        message: String,
        alternative: impl Into<String>,
    ) {
        if self.opts.disabled.contains(&rule) {
            return;
        }
        self.out.push(RawFinding {
            rule,
            severity: rule.default_severity(),
            offset,
            statement: Some(stmt),
            message,
            alternative: alternative.into(),
            table: table.map(str::to_string),
        });
    }

    fn existing(&self, table: &str) -> bool {
        !self.created.contains(table)
    }

    fn destructive(&mut self, stmt: usize, offset: usize, table: Option<&str>, what: String) {
        if self.dirs.requires_backup {
            return;
        }
        if let Some(t) = table
            && !self.existing(t)
        {
            return;
        }
        self.push(
            RuleId::DestructiveWithoutBackup,
            stmt,
            offset,
            table,
            format!("{what} destroys data, and the migration does not declare a backup"),
            "take and verify a backup first, then mark the migration with `-- runway-lint:requires-backup` so the \
             release refuses to run it without a fresh verified backup",
        );
    }

    fn access_exclusive(&mut self, stmt: usize, offset: usize, table: &str, what: &str) {
        if self.lock_timeout || self.lock_timeout_reported || !self.existing(table) {
            return;
        }
        self.lock_timeout_reported = true;
        self.push(
            RuleId::MissingLockTimeout,
            stmt,
            offset,
            Some(table),
            format!(
                "{what} takes an ACCESS EXCLUSIVE lock on `{table}` with no lock_timeout set: while it waits behind a \
                 long query, every read and write of the table queues behind it"
            ),
            "start the migration with `SET lock_timeout = '2s';` (and a statement_timeout), and retry the migration \
             when it times out",
        );
    }

    fn statement(&mut self, idx: usize, node: &NodeEnum) {
        let start = self.parsed.statements[idx].start;
        match node {
            NodeEnum::TransactionStmt(t) => match TransactionStmtKind::try_from(t.kind) {
                Ok(TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart) => {
                    self.explicit_tx = true;
                    self.tx_segment += 1;
                }
                Ok(
                    TransactionStmtKind::TransStmtCommit | TransactionStmtKind::TransStmtRollback,
                ) => {
                    self.explicit_tx = false;
                    self.tx_segment += 1;
                }
                _ => {}
            },
            NodeEnum::VariableSetStmt(v) if v.name.eq_ignore_ascii_case("lock_timeout") => {
                self.lock_timeout = match VariableSetKind::try_from(v.kind) {
                    Ok(VariableSetKind::VarSetValue) => !v.args.iter().all(is_zero),
                    _ => false,
                };
            }
            NodeEnum::CreateStmt(c) => {
                if let Some(rv) = &c.relation {
                    self.created.insert(table_key(rv));
                }
            }
            NodeEnum::CreateTableAsStmt(c) => {
                if let Some(rv) = c.into.as_ref().and_then(|i| i.rel.as_ref()) {
                    self.created.insert(table_key(rv));
                }
            }
            NodeEnum::IndexStmt(i) => self.index(idx, start, i),
            NodeEnum::ReindexStmt(r) => {
                let concurrent = r.params.iter().any(|p| {
                    matches!(p.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "concurrently")
                });
                if concurrent {
                    self.concurrent_in_tx(idx, start, "REINDEX CONCURRENTLY");
                }
            }
            NodeEnum::AlterTableStmt(a) => {
                let Some(rv) = &a.relation else { return };
                let table = table_key(rv);
                let is_table = ObjectType::try_from(a.objtype) == Ok(ObjectType::ObjectTable);
                for cmd in &a.cmds {
                    if let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() {
                        self.alter_cmd(idx, start, &table, is_table, cmd);
                    }
                }
            }
            NodeEnum::RenameStmt(r) => self.rename(idx, start, r),
            NodeEnum::DropStmt(d) => self.drop(idx, start, d),
            NodeEnum::TruncateStmt(t) => {
                for rel in &t.relations {
                    if let Some(NodeEnum::RangeVar(rv)) = rel.node.as_ref() {
                        let table = table_key(rv);
                        let at = loc(start, rv.location).unwrap_or(start);
                        self.access_exclusive(idx, at, &table, "TRUNCATE");
                        self.destructive(idx, start, Some(&table), format!("TRUNCATE `{table}`"));
                    }
                }
            }
            NodeEnum::DeleteStmt(d) if d.where_clause.is_none() => {
                if let Some(rv) = &d.relation {
                    let table = table_key(rv);
                    self.destructive(
                        idx,
                        start,
                        Some(&table),
                        format!("DELETE without WHERE on `{table}`"),
                    );
                }
            }
            NodeEnum::UpdateStmt(u) if u.where_clause.is_none() => {
                if let Some(rv) = &u.relation {
                    let table = table_key(rv);
                    self.destructive(
                        idx,
                        start,
                        Some(&table),
                        format!("UPDATE without WHERE on `{table}`"),
                    );
                }
            }
            // Mode 8 is AccessExclusiveLock, the default of LOCK TABLE.
            NodeEnum::LockStmt(l) if l.mode == 8 => {
                for rel in &l.relations {
                    if let Some(NodeEnum::RangeVar(rv)) = rel.node.as_ref() {
                        self.access_exclusive(idx, start, &table_key(rv), "LOCK TABLE");
                    }
                }
            }
            NodeEnum::ClusterStmt(c) => {
                if let Some(rv) = &c.relation {
                    self.access_exclusive(idx, start, &table_key(rv), "CLUSTER");
                }
            }
            NodeEnum::VacuumStmt(v) => {
                let full = v
                    .options
                    .iter()
                    .any(|o| matches!(o.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "full"));
                if full {
                    for rel in &v.rels {
                        if let Some(NodeEnum::VacuumRelation(vr)) = rel.node.as_ref()
                            && let Some(rv) = &vr.relation
                        {
                            self.access_exclusive(idx, start, &table_key(rv), "VACUUM FULL");
                        }
                    }
                }
            }
            NodeEnum::CommentStmt(c)
                if c.comment
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("deprecated") =>
            {
                let key = object_key(c.object.as_deref());
                if !key.is_empty() {
                    self.deprecated_here.insert(key);
                }
            }
            _ => {}
        }
    }

    fn concurrent_in_tx(&mut self, idx: usize, at: usize, what: &str) {
        if self.in_tx() {
            self.push(
                RuleId::ConcurrentInTransaction,
                idx,
                at,
                None,
                format!(
                    "{what} cannot run inside a transaction block, and this migration runs in one (no \
                     `-- runway: no-transaction` directive, or an explicit BEGIN)"
                ),
                "put the statement in its own migration that starts with `-- runway: no-transaction` (make it \
                 re-runnable with IF NOT EXISTS / IF EXISTS)",
            );
        }
    }

    fn index(&mut self, idx: usize, start: usize, i: &protobuf::IndexStmt) {
        let Some(rv) = &i.relation else { return };
        let table = table_key(rv);
        if i.concurrent {
            self.concurrent_in_tx(idx, start, "CREATE INDEX CONCURRENTLY");
        } else if self.existing(&table) {
            let kind = if i.unique {
                "CREATE UNIQUE INDEX"
            } else {
                "CREATE INDEX"
            };
            self.push(
                RuleId::IndexNotConcurrent,
                idx,
                start,
                Some(&table),
                format!("{kind} on `{table}` without CONCURRENTLY blocks writes to the table for the whole build"),
                format!(
                    "`{kind} CONCURRENTLY IF NOT EXISTS ...` in a migration marked `-- runway: no-transaction`"
                ),
            );
        }
    }

    fn alter_cmd(
        &mut self,
        idx: usize,
        start: usize,
        table: &str,
        is_table: bool,
        cmd: &AlterTableCmd,
    ) {
        let Ok(subtype) = AlterTableType::try_from(cmd.subtype) else {
            return;
        };
        let existing = self.existing(table);
        let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
        if is_table
            && !matches!(
                subtype,
                AlterTableType::AtValidateConstraint
                    | AlterTableType::AtSetStatistics
                    | AlterTableType::AtAttachPartition
                    | AlterTableType::AtClusterOn
                    | AlterTableType::AtSetOptions
                    | AlterTableType::AtResetOptions
                    | AlterTableType::AtEnableTrig
                    | AlterTableType::AtDisableTrig
                    | AlterTableType::AtEnableTrigAll
                    | AlterTableType::AtDisableTrigAll
                    | AlterTableType::AtEnableTrigUser
                    | AlterTableType::AtDisableTrigUser
            )
            && !is_foreign_key(def)
            && !is_concurrent_detach(def)
        {
            self.access_exclusive(idx, start, table, "ALTER TABLE");
        }
        match subtype {
            AlterTableType::AtAddColumn => {
                if let Some(NodeEnum::ColumnDef(col)) = def {
                    self.add_column(idx, start, table, existing, col);
                }
            }
            AlterTableType::AtDropColumn => {
                let key = format!("{table}.{}", cmd.name);
                if existing {
                    if !self.earlier.contains(&key) {
                        self.push(
                            RuleId::DropColumnWithoutDeprecation,
                            idx,
                            start,
                            Some(table),
                            format!(
                                "column `{key}` is dropped without a deprecation marker in an earlier released \
                                 migration: running code that still reads it will fail"
                            ),
                            format!(
                                "first release a migration with `-- runway-lint:deprecated column {key}` (or `COMMENT ON \
                                 COLUMN {key} IS 'deprecated: ...'`), ship code that no longer uses the column, then \
                                 drop it in a later release"
                            ),
                        );
                    }
                    self.destructive(idx, start, Some(table), format!("DROP COLUMN `{key}`"));
                }
            }
            AlterTableType::AtAlterColumnType if existing => {
                self.push(
                    RuleId::ColumnTypeChange,
                    idx,
                    start,
                    Some(table),
                    format!(
                        "changing the type of `{table}.{}` rewrites the table and its indexes under ACCESS EXCLUSIVE \
                         (only binary-coercible changes such as varchar to text are exempt)",
                        cmd.name
                    ),
                    "add a new column with the new type, backfill it in batches, switch the code to it, then drop the \
                     old column in a later release",
                );
            }
            AlterTableType::AtSetNotNull if existing => {
                self.push(
                    RuleId::SetNotNull,
                    idx,
                    start,
                    Some(table),
                    format!(
                        "SET NOT NULL on `{table}.{}` scans the whole table under ACCESS EXCLUSIVE",
                        cmd.name
                    ),
                    format!(
                        "add `CHECK ({col} IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT` it in a separate \
                         transaction, then SET NOT NULL (PostgreSQL 12+ skips the scan) and drop the check",
                        col = cmd.name
                    ),
                );
            }
            AlterTableType::AtAddConstraint => {
                if let Some(NodeEnum::Constraint(c)) = def {
                    self.add_constraint(idx, start, table, existing, c);
                }
            }
            AlterTableType::AtValidateConstraint => {
                let key = (table.to_string(), cmd.name.clone());
                if self.not_valid.get(&key) == Some(&self.tx_segment) && self.in_tx() {
                    {
                        self.push(
                            RuleId::ConstraintMissingNotValid,
                            idx,
                            start,
                            Some(table),
                            format!(
                                "constraint `{}` is validated in the same transaction that added it NOT VALID, so \
                                 the heavy lock of the ADD is held during the whole validation scan",
                                cmd.name
                            ),
                            "commit the NOT VALID constraint first, then run `ALTER TABLE ... VALIDATE CONSTRAINT` \
                             in a later migration (or after COMMIT in a no-transaction migration)",
                        );
                    }
                }
            }
            AlterTableType::AtDetachPartition if is_concurrent_detach(def) => {
                self.concurrent_in_tx(idx, start, "DETACH PARTITION CONCURRENTLY");
            }
            _ => {}
        }
    }

    fn add_column(
        &mut self,
        idx: usize,
        start: usize,
        table: &str,
        existing: bool,
        col: &protobuf::ColumnDef,
    ) {
        if !existing {
            return;
        }
        let at = loc(start, col.location).unwrap_or(start);
        let mut not_null = col.is_not_null;
        let mut default = col
            .raw_default
            .as_deref()
            .and_then(|d| d.node.as_ref())
            .cloned();
        let mut identity_or_generated = !col.identity.is_empty();
        let mut stored_generated = !col.generated.is_empty();
        for c in &col.constraints {
            if let Some(NodeEnum::Constraint(c)) = c.node.as_ref() {
                match ConstrType::try_from(c.contype) {
                    Ok(ConstrType::ConstrNotnull | ConstrType::ConstrPrimary) => not_null = true,
                    Ok(ConstrType::ConstrDefault) => {
                        default = c.raw_expr.as_deref().and_then(|e| e.node.as_ref()).cloned();
                    }
                    Ok(ConstrType::ConstrIdentity) => identity_or_generated = true,
                    Ok(ConstrType::ConstrGenerated) => stored_generated = true,
                    _ => {}
                }
            }
        }
        let type_name = col
            .type_name
            .as_ref()
            .map(|t| names_key(&t.names))
            .unwrap_or_default();
        let type_last = type_name.rsplit('.').next().unwrap_or_default().to_string();
        let serial = SERIAL_TYPES.contains(&type_last.as_str());
        let column = format!("{table}.{}", col.colname);
        if not_null && default.is_none() && !identity_or_generated && !serial && !stored_generated {
            self.push(
                RuleId::AddingRequiredColumn,
                idx,
                at,
                Some(table),
                format!(
                    "column `{column}` is added NOT NULL without a default: this fails on a populated table and \
                     breaks INSERTs from the code still running"
                ),
                "add the column nullable, deploy code that writes it, backfill existing rows in batches, then add \
                 NOT NULL (CHECK ... NOT VALID, VALIDATE, SET NOT NULL) in a later migration; or give it a \
                 constant default",
            );
        }
        let volatile = default.as_ref().and_then(volatile_call);
        let reason = if let Some(f) = volatile {
            Some(format!("its default calls the volatile function `{f}()`"))
        } else if serial {
            Some(format!(
                "its type `{type_last}` fills every row from a sequence"
            ))
        } else if stored_generated {
            Some("it is a stored generated column, computed for every row".to_string())
        } else if identity_or_generated {
            Some("it is an identity column, filled for every row".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            self.push(
                RuleId::VolatileDefault,
                idx,
                at,
                Some(table),
                format!("adding column `{column}` rewrites the whole table under ACCESS EXCLUSIVE: {reason}"),
                "add the column without a default (or with a constant one), set the default with ALTER COLUMN \
                 ... SET DEFAULT for new rows, and backfill existing rows in batches",
            );
        }
    }

    fn add_constraint(
        &mut self,
        idx: usize,
        start: usize,
        table: &str,
        existing: bool,
        c: &Constraint,
    ) {
        if !existing {
            return;
        }
        let at = loc(start, c.location).unwrap_or(start);
        let name = if c.conname.is_empty() {
            "(unnamed)".to_string()
        } else {
            c.conname.clone()
        };
        match ConstrType::try_from(c.contype) {
            Ok(kind @ (ConstrType::ConstrCheck | ConstrType::ConstrForeign)) => {
                if c.skip_validation {
                    self.not_valid
                        .insert((table.to_string(), c.conname.clone()), self.tx_segment);
                } else {
                    let what = if kind == ConstrType::ConstrCheck {
                        "CHECK"
                    } else {
                        "FOREIGN KEY"
                    };
                    self.push(
                        RuleId::ConstraintMissingNotValid,
                        idx,
                        at,
                        Some(table),
                        format!(
                            "{what} constraint `{name}` on `{table}` is added without NOT VALID: every existing row \
                             is checked while the lock blocks writes"
                        ),
                        "add it with NOT VALID (a short lock, no scan), then `VALIDATE CONSTRAINT` in a later \
                         transaction (SHARE UPDATE EXCLUSIVE only)",
                    );
                }
            }
            Ok(kind @ (ConstrType::ConstrUnique | ConstrType::ConstrPrimary))
                if c.indexname.is_empty() =>
            {
                let what = if kind == ConstrType::ConstrUnique {
                    "UNIQUE"
                } else {
                    "PRIMARY KEY"
                };
                self.push(
                    RuleId::UniqueConstraintDirect,
                    idx,
                    at,
                    Some(table),
                    format!(
                        "{what} constraint `{name}` on `{table}` builds its index inline, blocking reads and writes \
                         for the whole build"
                    ),
                    format!(
                        "`CREATE UNIQUE INDEX CONCURRENTLY idx ON {table} (...)` in a no-transaction migration, then \
                         `ALTER TABLE {table} ADD CONSTRAINT {name} {what} USING INDEX idx`"
                    ),
                );
            }
            Ok(ConstrType::ConstrExclusion) => {
                // Exclusion constraints have no concurrent build; treat like a direct unique constraint.
                self.push(
                    RuleId::UniqueConstraintDirect,
                    idx,
                    at,
                    Some(table),
                    format!("EXCLUDE constraint `{name}` on `{table}` builds its index under ACCESS EXCLUSIVE"),
                    "build it on a new, empty table and switch over, or schedule a maintenance window",
                );
            }
            _ => {}
        }
    }

    fn rename(&mut self, idx: usize, start: usize, r: &protobuf::RenameStmt) {
        let table = r.relation.as_ref().map(table_key);
        match ObjectType::try_from(r.rename_type) {
            Ok(ObjectType::ObjectColumn) => {
                let Some(table) = table else { return };
                self.access_exclusive(idx, start, &table, "RENAME COLUMN");
                if self.existing(&table) {
                    self.push(
                        RuleId::RenameColumn,
                        idx,
                        start,
                        Some(&table),
                        format!(
                            "renaming `{table}.{}` to `{}` breaks the code that is still running with the old name",
                            r.subname, r.newname
                        ),
                        "add the new column, write to both (trigger or code), backfill, switch reads, then drop the \
                         old column after a deprecation period",
                    );
                }
            }
            Ok(ObjectType::ObjectTable) => {
                let Some(table) = table else { return };
                self.access_exclusive(idx, start, &table, "RENAME TABLE");
                if self.existing(&table) {
                    self.push(
                        RuleId::RenameTable,
                        idx,
                        start,
                        Some(&table),
                        format!(
                            "renaming table `{table}` to `{}` breaks the code that is still running with the old name",
                            r.newname
                        ),
                        "create the new table (or rename and leave an updatable view with the old name), move the \
                         code over, then drop the old name after a deprecation period",
                    );
                }
            }
            _ => {
                if let Some(table) = table {
                    self.access_exclusive(idx, start, &table, "RENAME");
                }
            }
        }
    }

    fn drop(&mut self, idx: usize, start: usize, d: &protobuf::DropStmt) {
        let kind = ObjectType::try_from(d.remove_type);
        match kind {
            Ok(ObjectType::ObjectTable) => {
                for obj in &d.objects {
                    let table = object_key(Some(obj));
                    if table.is_empty() || !self.existing(&table) {
                        continue;
                    }
                    self.access_exclusive(idx, start, &table, "DROP TABLE");
                    if !self.earlier.contains(&table) {
                        self.push(
                            RuleId::DropTableWithoutDeprecation,
                            idx,
                            start,
                            Some(&table),
                            format!(
                                "table `{table}` is dropped without a deprecation marker in an earlier released \
                                 migration: running code that still uses it will fail"
                            ),
                            format!(
                                "first release a migration with `-- runway-lint:deprecated table {table}` (or `COMMENT ON \
                                 TABLE {table} IS 'deprecated: ...'`), ship code that no longer uses it, then drop it \
                                 in a later release"
                            ),
                        );
                    }
                    self.destructive(idx, start, Some(&table), format!("DROP TABLE `{table}`"));
                }
            }
            Ok(ObjectType::ObjectIndex) => {
                if d.concurrent {
                    self.concurrent_in_tx(idx, start, "DROP INDEX CONCURRENTLY");
                } else {
                    let names: Vec<String> =
                        d.objects.iter().map(|o| object_key(Some(o))).collect();
                    self.push(
                        RuleId::IndexNotConcurrent,
                        idx,
                        start,
                        None,
                        format!(
                            "DROP INDEX `{}` without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its table",
                            names.join("`, `")
                        ),
                        "`DROP INDEX CONCURRENTLY IF EXISTS ...` in a migration marked `-- runway: no-transaction`",
                    );
                }
            }
            Ok(
                k @ (ObjectType::ObjectSchema
                | ObjectType::ObjectDatabase
                | ObjectType::ObjectMatview
                | ObjectType::ObjectSequence),
            ) => {
                let what = match k {
                    ObjectType::ObjectSchema => "DROP SCHEMA",
                    ObjectType::ObjectDatabase => "DROP DATABASE",
                    ObjectType::ObjectMatview => "DROP MATERIALIZED VIEW",
                    _ => "DROP SEQUENCE",
                };
                let names: Vec<String> = d.objects.iter().map(|o| object_key(Some(o))).collect();
                self.destructive(idx, start, None, format!("{what} `{}`", names.join("`, `")));
            }
            _ => {}
        }
    }
}

fn is_foreign_key(def: Option<&NodeEnum>) -> bool {
    matches!(def, Some(NodeEnum::Constraint(c)) if ConstrType::try_from(c.contype) == Ok(ConstrType::ConstrForeign))
}

fn is_concurrent_detach(def: Option<&NodeEnum>) -> bool {
    matches!(def, Some(NodeEnum::PartitionCmd(p)) if p.concurrent)
}

fn is_zero(arg: &protobuf::Node) -> bool {
    match arg.node.as_ref() {
        Some(NodeEnum::AConst(c)) => match &c.val {
            Some(a_const::Val::Ival(i)) => i.ival == 0,
            Some(a_const::Val::Sval(s)) => {
                let v = s.sval.trim();
                let digits: String = v
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                digits.parse::<f64>().map(|x| x == 0.0).unwrap_or(true)
            }
            _ => false,
        },
        _ => false,
    }
}

/// The first volatile function the expression calls.
fn volatile_call(expr: &NodeEnum) -> Option<String> {
    let direct = match expr {
        NodeEnum::FuncCall(f) => Some(f.as_ref()),
        _ => None,
    };
    let check = |f: &protobuf::FuncCall| {
        let name = names_key(&f.funcname);
        let last = name
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        VOLATILE_FUNCTIONS.contains(&last.as_str()).then_some(last)
    };
    if let Some(found) = direct.and_then(check) {
        return Some(found);
    }
    expr.nodes().into_iter().find_map(|(n, ..)| match n {
        NodeRef::FuncCall(f) => check(f),
        _ => None,
    })
}

/// Lint one migration's up SQL. `down` is `None` when downgrades are not checked (a loose SQL file),
/// `Some(None)` when the migration has no downgrade file.
pub(crate) fn lint_one(
    file: &str,
    sql: &str,
    down: Option<Option<(&str, &str)>>,
    earlier: &Deprecations,
    opts: &RuleOptions,
) -> (Vec<Finding>, Report, Deprecations, HashSet<String>) {
    let parsed = parse::parse(sql);
    let dirs = directives::scan(&parsed, sql);
    let mut pass = Pass {
        parsed: &parsed,
        dirs: &dirs,
        opts,
        earlier,
        created: HashSet::new(),
        explicit_tx: false,
        tx_segment: 0,
        // The runway runner sets a lock_timeout for transactional migrations only.
        lock_timeout: dirs
            .lock_timeout
            .unwrap_or(opts.assume_lock_timeout && !dirs.no_transaction),
        lock_timeout_reported: false,
        not_valid: HashMap::new(),
        out: Vec::new(),
        deprecated_here: dirs.deprecated.clone(),
    };
    for (i, stmt) in parsed.statements.iter().enumerate() {
        if let Some(node) = &stmt.node {
            pass.statement(i, node);
        }
        if dirs.no_transaction && !pass.explicit_tx {
            // Outside a transaction block every statement commits on its own.
            pass.tx_segment += 1;
        }
    }
    let mut raw = std::mem::take(&mut pass.out);
    let created = std::mem::take(&mut pass.created);
    let deprecated = std::mem::take(&mut pass.deprecated_here);
    if let Some((at, message)) = &parsed.syntax_error {
        raw.push(RawFinding {
            rule: RuleId::SyntaxError,
            severity: Severity::Error,
            offset: *at,
            statement: None,
            message: format!(
                "PostgreSQL rejects this: {message}; statements after it were not checked"
            ),
            alternative: "fix the SQL so `psql` accepts it".into(),
            table: None,
        });
    }
    let mut files = 1;
    let mut statements = parsed.statements.len();
    if let Some(down) = down {
        match down {
            None => raw.push(missing_down(format!(
                "migration `{file}` has no downgrade file"
            ))),
            Some((down_path, down_sql)) => {
                files += 1;
                let dp = parse::parse(down_sql);
                statements += dp.statements.len();
                if dp.statements.iter().all(|s| s.node.is_none()) && dp.syntax_error.is_none() {
                    raw.push(missing_down(format!(
                        "the downgrade `{down_path}` of `{file}` has no statements"
                    )));
                }
                if let Some((at, message)) = &dp.syntax_error {
                    let pos = dp.lines.position(down_sql, *at);
                    raw.push(RawFinding {
                        rule: RuleId::SyntaxError,
                        severity: Severity::Error,
                        offset: 0,
                        statement: None,
                        message: format!(
                            "the downgrade `{down_path}` does not parse at {}:{}: {message}",
                            pos.line, pos.column
                        ),
                        alternative: "fix the downgrade so `psql` accepts it".into(),
                        table: None,
                    });
                }
            }
        }
    }
    raw.retain(|f| !opts.disabled.contains(&f.rule));
    let (kept, suppressed) = directives::apply_suppressions(raw, &dirs, &parsed, sql, opts);
    let findings = kept
        .into_iter()
        .map(|f| {
            let pos = parsed.lines.position(sql, f.offset);
            Finding {
                rule: f.rule,
                severity: f.severity,
                file: file.to_string(),
                line: pos.line,
                column: pos.column,
                message: f.message,
                alternative: f.alternative,
                table: f.table,
            }
        })
        .collect();
    let report = Report {
        files,
        statements,
        findings: Vec::new(),
        suppressed,
    };
    (findings, report, deprecated, created)
}

fn missing_down(message: String) -> RawFinding {
    RawFinding {
        rule: RuleId::MissingDowngrade,
        severity: RuleId::MissingDowngrade.default_severity(),
        offset: 0,
        statement: None,
        message,
        alternative: "add `<version>_<name>.down.sql` that reverts the migration, and prove it round-trips with a \
                      rehearsal; for a truly irreversible migration suppress this with \
                      `-- runway-lint:allow-file missing-downgrade: <why>`"
            .into(),
        table: None,
    }
}
