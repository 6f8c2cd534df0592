//! Comment directives: the runner's no-transaction directive, markers (backup, deprecation) and suppressions.
//!
//! The runner's directives (read, never changed, so the linter sees what the runner will do):
//!
//! | comment | meaning |
//! |---|---|
//! | `-- no-transaction` or `-- runway: no-transaction` | the runner applies the migration outside a transaction |
//! | `-- runway: lock_timeout=2s` | the runner sets `lock_timeout` for this migration (`0` disables it) |
//!
//! The linter's own markers use the prefix `runway-lint:` (the runner rejects unknown `runway:` items):
//!
//! | comment | meaning |
//! |---|---|
//! | `-- runway-lint:requires-backup` | destructive statements are intended; the release needs a verified backup first |
//! | `-- runway-lint:deprecated table users` / `column users.phone` | deprecated; a later migration may drop it |
//! | `-- runway-lint:allow rule-id[, rule-id]: reason` | suppress those rules on this statement (same line or next) |
//! | `-- runway-lint:allow-file rule-id[, rule-id]: reason` | suppress those rules in the whole file |
//!
//! A suppression without a reason, or with an unknown rule id, is itself an error and suppresses nothing.

use std::collections::HashSet;

use super::finding::{RuleId, Severity};
use super::parse::ParsedSql;
use super::rules::{RawFinding, RuleOptions};

#[derive(Debug, Clone)]
pub(crate) struct LineSuppression {
    offset: usize,
    rules: Vec<RuleId>,
    target: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct FileSuppression {
    offset: usize,
    rules: Vec<RuleId>,
}

/// What the comments of one file say.
#[derive(Debug, Clone, Default)]
pub(crate) struct Directives {
    pub(crate) no_transaction: bool,
    /// The runner's `lock_timeout=` directive: `Some(true)` set, `Some(false)` disabled with `0`.
    pub(crate) lock_timeout: Option<bool>,
    pub(crate) requires_backup: bool,
    pub(crate) deprecated: HashSet<String>,
    line: Vec<LineSuppression>,
    file: Vec<FileSuppression>,
    invalid: Vec<(usize, String)>,
}

/// Parse `rule-a, rule-b: reason`.
fn parse_allow(rest: &str) -> Result<Vec<RuleId>, String> {
    let Some((rules, reason)) = rest.split_once(':') else {
        return Err(
            "a suppression needs a reason: `-- runway-lint:allow <rule-id>: <why this is safe>`"
                .into(),
        );
    };
    if reason.trim().is_empty() {
        return Err("the suppression's reason is empty: say why this is safe".into());
    }
    let mut out = Vec::new();
    for r in rules.split([',', ' ']).filter(|r| !r.trim().is_empty()) {
        match r.parse::<RuleId>() {
            Ok(id) => out.push(id),
            Err(_) => return Err(format!("unknown rule id `{}` in suppression", r.trim())),
        }
    }
    if out.is_empty() {
        return Err("the suppression names no rule id".into());
    }
    Ok(out)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// Collect the directives of a parsed file.
pub(crate) fn scan(parsed: &ParsedSql, _sql: &str) -> Directives {
    let mut d = Directives::default();
    for c in &parsed.comments {
        let body = c.body.as_str();
        if body.eq_ignore_ascii_case("no-transaction") {
            d.no_transaction = true;
            continue;
        }
        if let Some(items) = body.strip_prefix("runway:") {
            runner_items(items, &mut d);
            continue;
        }
        let Some(rest) = strip_prefix_ci(body, "runway-lint:") else {
            continue;
        };
        let rest = rest.trim_start();
        let word_end = rest
            .find(|ch: char| ch.is_whitespace())
            .unwrap_or(rest.len());
        let (word, args) = (&rest[..word_end], rest[word_end..].trim());
        match word.to_ascii_lowercase().as_str() {
            "requires-backup" => d.requires_backup = true,
            "deprecated" => {
                let mut parts = args.split_whitespace();
                match (
                    parts.next().map(str::to_ascii_lowercase).as_deref(),
                    parts.next(),
                ) {
                    (Some("table" | "column"), Some(name)) => {
                        let name = name.trim_end_matches([':', ',', ';']);
                        let name = name.strip_prefix("public.").unwrap_or(name);
                        d.deprecated.insert(name.to_string());
                    }
                    _ => d.invalid.push((
                        c.start,
                        "a deprecation marker reads `-- runway-lint:deprecated table <name>` or \
                         `-- runway-lint:deprecated column <table>.<column>`"
                            .into(),
                    )),
                }
            }
            "allow" => match parse_allow(args) {
                Ok(rules) => d.line.push(LineSuppression {
                    offset: c.start,
                    rules,
                    target: target_statement(parsed, c.start),
                }),
                Err(e) => d.invalid.push((c.start, e)),
            },
            "allow-file" => match parse_allow(args) {
                Ok(rules) => d.file.push(FileSuppression {
                    offset: c.start,
                    rules,
                }),
                Err(e) => d.invalid.push((c.start, e)),
            },
            other => d
                .invalid
                .push((c.start, format!("unknown directive `runway-lint:{other}`"))),
        }
    }
    d
}

/// The runner's `-- runway:` items; unknown ones are the runner's to reject.
fn runner_items(items: &str, d: &mut Directives) {
    for item in items
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        let (name, value) = match item.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (item, None),
        };
        match name.replace('-', "_").to_ascii_lowercase().as_str() {
            "no_transaction" => d.no_transaction = true,
            "lock_timeout" => {
                let v = value.unwrap_or_default().trim_matches('\'');
                let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
                d.lock_timeout = Some(digits.parse::<u64>().map(|n| n > 0).unwrap_or(false));
            }
            _ => {}
        }
    }
}

/// The statement a line suppression at `offset` applies to: the statement on whose lines the comment
/// sits (a trailing comment), otherwise the next statement.
fn target_statement(parsed: &ParsedSql, offset: usize) -> Option<usize> {
    let line = parsed.lines.line_of(offset);
    let mut next = None;
    for (i, s) in parsed.statements.iter().enumerate() {
        if s.start < offset
            && parsed.lines.line_of(s.start) <= line
            && line <= parsed.lines.line_of(s.end)
        {
            return Some(i);
        }
        if s.start > offset && next.is_none() {
            next = Some(i);
        }
    }
    next
}

/// Drop suppressed findings; report invalid and unused suppressions. Returns the kept findings and how
/// many were suppressed.
pub(crate) fn apply_suppressions(
    raw: Vec<RawFinding>,
    d: &Directives,
    _parsed: &ParsedSql,
    _sql: &str,
    opts: &RuleOptions,
) -> (Vec<RawFinding>, usize) {
    let mut line_used = vec![false; d.line.len()];
    let mut file_used = vec![false; d.file.len()];
    let mut kept = Vec::with_capacity(raw.len());
    let mut suppressed = 0;
    for f in raw {
        let mut hit = false;
        for (i, s) in d.file.iter().enumerate() {
            if s.rules.contains(&f.rule) {
                file_used[i] = true;
                hit = true;
            }
        }
        if let Some(stmt) = f.statement {
            for (i, s) in d.line.iter().enumerate() {
                if s.target == Some(stmt) && s.rules.contains(&f.rule) {
                    line_used[i] = true;
                    hit = true;
                }
            }
        }
        if hit {
            suppressed += 1;
        } else {
            kept.push(f);
        }
    }
    for (at, message) in &d.invalid {
        kept.push(RawFinding {
            rule: RuleId::InvalidSuppression,
            severity: Severity::Error,
            offset: *at,
            statement: None,
            message: message.clone(),
            alternative: "write `-- runway-lint:allow <rule-id>: <reason>` (or `allow-file`) with a known rule id".into(),
            table: None,
        });
    }
    if !opts.disabled.contains(&RuleId::UnusedSuppression) {
        let unused_line = d
            .line
            .iter()
            .zip(&line_used)
            .filter(|(_, u)| !**u)
            .map(|(s, _)| (s.offset, &s.rules));
        let unused_file = d
            .file
            .iter()
            .zip(&file_used)
            .filter(|(_, u)| !**u)
            .map(|(s, _)| (s.offset, &s.rules));
        for (at, rules) in unused_line.chain(unused_file) {
            let names: Vec<&str> = rules.iter().map(|r| r.as_str()).collect();
            kept.push(RawFinding {
                rule: RuleId::UnusedSuppression,
                severity: RuleId::UnusedSuppression.default_severity(),
                offset: at,
                statement: None,
                message: format!(
                    "this suppression of `{}` matches no finding",
                    names.join("`, `")
                ),
                alternative: "remove the comment".into(),
                table: None,
            });
        }
    }
    (kept, suppressed)
}
