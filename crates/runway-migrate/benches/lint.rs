//! Lint throughput on a generated corpus of migration files, against `squawk` on the same files in the same
//! run, plus a table of which of our rules squawk also reports on that corpus.
//!
//! ```text
//! scripts/bench-lint.sh            # installs squawk-cli with pip when missing, then:
//! cargo bench -p runway-migrate --bench lint
//! ```
//!
//! Environment: `LINT_BENCH_FILES` (default 500 files of 24 statements = 12,000 statements),
//! `LINT_BENCH_RUNS` (default 5; the median is reported), `SQUAWK` (path to the squawk binary).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use runway_migrate::lint::{Linter, MigrationSet, RuleId, render_json};

/// One line per statement; `{i}` makes names unique per statement, `{f}` per file. Safe and unsafe variants of every rule.
const TEMPLATES: &[&str] = &[
    "ALTER TABLE users ADD COLUMN phone_{i} text NOT NULL;",
    "ALTER TABLE users ADD COLUMN note_{i} text;",
    "ALTER TABLE users ADD COLUMN country_{i} text NOT NULL DEFAULT 'NL';",
    "ALTER TABLE users ADD COLUMN token_{i} uuid DEFAULT gen_random_uuid();",
    "ALTER TABLE users ADD COLUMN created_{i} timestamptz DEFAULT now();",
    "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
    "CREATE INDEX users_email_{i}_idx ON users (email);",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_{i}_idx ON users (name);",
    "ALTER TABLE users RENAME COLUMN nick_{i} TO nickname_{i};",
    "ALTER TABLE archive_{i} RENAME TO archive_old_{i};",
    "ALTER TABLE users DROP COLUMN legacy_{i};",
    "DROP TABLE IF EXISTS old_{i};",
    "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12, 2);",
    "ALTER TABLE orders ADD CONSTRAINT orders_user_{i}_fk FOREIGN KEY (user_id) REFERENCES users (id);",
    "ALTER TABLE orders ADD CONSTRAINT orders_amount_{i}_check CHECK (amount > 0) NOT VALID;",
    "ALTER TABLE users ADD CONSTRAINT users_email_{i}_key UNIQUE (email);",
    "ALTER TABLE users ADD CONSTRAINT users_login_{i}_key UNIQUE USING INDEX users_login_{i}_idx;",
    "TRUNCATE sessions_{i};",
    "DELETE FROM events_{i};",
    "UPDATE users SET email = lower(email) WHERE id < {i};",
    "CREATE TABLE items_{f} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, at timestamptz);",
    "CREATE INDEX items_{f}_name_idx ON items_{f} (name);",
    "INSERT INTO audit (kind, at) VALUES ('migration {i}', now());",
    "COMMENT ON COLUMN users.note_{i} IS 'free text';",
];

/// The squawk rules that correspond to each of ours (empty: squawk has no equivalent).
fn squawk_equivalents(rule: RuleId) -> &'static [&'static str] {
    match rule {
        RuleId::AddingRequiredColumn => &["adding-required-field"],
        RuleId::VolatileDefault => &[
            "adding-field-with-default",
            "adding-serial-primary-key-field",
        ],
        RuleId::SetNotNull => &["adding-not-nullable-field"],
        RuleId::IndexNotConcurrent => &[
            "require-concurrent-index-creation",
            "require-concurrent-index-deletion",
        ],
        RuleId::ConcurrentInTransaction => &["ban-concurrent-index-creation-in-transaction"],
        RuleId::RenameColumn => &["renaming-column"],
        RuleId::RenameTable => &["renaming-table"],
        RuleId::DropColumnWithoutDeprecation => &["ban-drop-column"],
        RuleId::DropTableWithoutDeprecation => &["ban-drop-table"],
        RuleId::ColumnTypeChange => &["changing-column-type"],
        RuleId::ConstraintMissingNotValid => &[
            "constraint-missing-not-valid",
            "adding-foreign-key-constraint",
        ],
        RuleId::UniqueConstraintDirect => &["disallowed-unique-constraint"],
        RuleId::MissingLockTimeout => &["require-lock-timeout"],
        RuleId::DestructiveWithoutBackup => {
            &["ban-drop-column", "ban-drop-table", "ban-truncate-cascade"]
        }
        RuleId::SyntaxError => &["syntax-error"],
        _ => &[],
    }
}

fn generate(dir: &Path, files: usize) -> (Vec<PathBuf>, usize) {
    let mut ups = Vec::with_capacity(files);
    let mut statements = 0;
    for f in 0..files {
        let mut sql = String::new();
        // A third of the files set a lock_timeout; every fifth runs without a transaction.
        if f % 5 == 0 {
            sql.push_str("-- runway: no-transaction\n");
        }
        if f % 3 == 0 {
            sql.push_str("SET lock_timeout = '2s';\n");
            statements += 1;
        }
        for k in 0..TEMPLATES.len() {
            // Rotate the order so each file is different.
            let t = TEMPLATES[(k + f) % TEMPLATES.len()];
            sql.push_str(
                &t.replace("{i}", &format!("{f}_{k}"))
                    .replace("{f}", &f.to_string()),
            );
            sql.push('\n');
            statements += 1;
        }
        let up = dir.join(format!("{:05}_gen_{f}.up.sql", f + 1));
        std::fs::write(&up, sql).expect("write up");
        if f % 2 == 0 {
            std::fs::write(
                dir.join(format!("{:05}_gen_{f}.down.sql", f + 1)),
                "SELECT 1;\n",
            )
            .expect("write down");
        }
        ups.push(up);
    }
    (ups, statements)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn find_squawk() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SQUAWK") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("squawk"))
        .find(|p| p.is_file())
}

fn main() {
    let files: usize = std::env::var("LINT_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let runs: usize = std::env::var("LINT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let (ups, statements) = generate(dir.path(), files);
    assert!(
        statements >= 10_000 || files < 500,
        "corpus too small: {statements}"
    );
    let Some(squawk) = find_squawk() else {
        eprintln!(
            "squawk not found: run scripts/bench-lint.sh (pip install squawk-cli) or set SQUAWK"
        );
        std::process::exit(2);
    };
    let version = Command::new(&squawk)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();

    let linter = Linter::default();
    let mut ours = Vec::with_capacity(runs);
    let mut report = None;
    for _ in 0..runs {
        let t = Instant::now();
        let set = MigrationSet::load(&ups).expect("load corpus");
        let r = linter.lint_set(&set);
        let json = render_json(&r);
        ours.push(t.elapsed());
        assert!(!json.is_empty());
        report = Some(r);
    }
    let report = report.expect("at least one run");

    let mut theirs = Vec::with_capacity(runs);
    let mut squawk_out = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let out = Command::new(&squawk)
            .arg("--reporter")
            .arg("json")
            .args(&ups)
            .output()
            .expect("run squawk");
        theirs.push(t.elapsed());
        squawk_out = out.stdout;
    }
    let squawk_findings: Vec<serde_json::Value> =
        serde_json::from_slice(&squawk_out).expect("squawk json");

    let (ours_m, theirs_m) = (median(ours), median(theirs));
    println!(
        "corpus: {files} files, {statements} statements (generated; same files for both tools)"
    );
    println!("| tool | median of {runs} runs | statements/s | findings |");
    println!("|---|---|---|---|");
    println!(
        "| runway lint (load + lint + JSON, in process) | {:.1} ms | {:.0} | {} |",
        ours_m.as_secs_f64() * 1000.0,
        statements as f64 / ours_m.as_secs_f64(),
        report.findings.len()
    );
    println!(
        "| {version} (`--reporter json`, process) | {:.1} ms | {:.0} | {} |",
        theirs_m.as_secs_f64() * 1000.0,
        statements as f64 / theirs_m.as_secs_f64(),
        squawk_findings.len()
    );
    println!(
        "ratio runway/squawk: {:.2}",
        ours_m.as_secs_f64() / theirs_m.as_secs_f64()
    );

    // Which of our findings squawk also reports: same file, same line, an equivalent rule.
    let mut at: HashSet<(String, u64, String)> = HashSet::new();
    let mut squawk_rules: BTreeMap<String, usize> = BTreeMap::new();
    for f in &squawk_findings {
        let file = f["file"].as_str().unwrap_or_default().to_string();
        let line = f["line"].as_u64().unwrap_or(0) + 1; // squawk's lines are 0-based
        let rule = f["rule_name"].as_str().unwrap_or_default().to_string();
        *squawk_rules.entry(rule.clone()).or_default() += 1;
        at.insert((file, line, rule));
    }
    println!();
    println!("| our rule | our findings | also reported by squawk | squawk rule(s) |");
    println!("|---|---|---|---|");
    for rule in RuleId::ALL {
        let ours: Vec<_> = report.of_rule(*rule).collect();
        let eq = squawk_equivalents(*rule);
        let both = ours
            .iter()
            .filter(|f| {
                eq.iter()
                    .any(|r| at.contains(&(f.file.clone(), u64::from(f.line), (*r).to_string())))
            })
            .count();
        let names: BTreeSet<&str> = eq.iter().copied().collect();
        println!(
            "| `{}` | {} | {} | {} |",
            rule.as_str(),
            ours.len(),
            both,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.into_iter().collect::<Vec<_>>().join(", ")
            }
        );
    }
    println!();
    println!("squawk findings by rule: {squawk_rules:?}");
}
