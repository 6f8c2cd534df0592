//! Directives in a migration file's leading comment.
//!
//! The leading comment is every blank line and `--` comment line before the first line of SQL. In it:
//!
//! - `-- no-transaction` on a line of its own (sqlx's marker, so sqlx folders work unchanged);
//! - `-- runway: no-transaction, lock_timeout=10s, statement_timeout=5min` (items separated by commas or
//!   spaces; several `-- runway:` lines may appear).
//!
//! Durations take PostgreSQL's units: `ms`, `s`, `min`, `h`, `d`; a bare number is milliseconds and `0`
//! disables the timeout. Any other `-- runway:` item is an error, so a typo never silently changes how a
//! migration runs.

use std::time::Duration;

/// How one migration file asks to be run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Directives {
    /// Run without a transaction, one statement at a time (for `CREATE INDEX CONCURRENTLY` and friends).
    pub no_transaction: bool,
    /// `lock_timeout` for this migration, overriding the runner's default (`Some(ZERO)` disables it).
    pub lock_timeout: Option<Duration>,
    /// `statement_timeout` for this migration (`Some(ZERO)` disables it).
    pub statement_timeout: Option<Duration>,
}

/// A malformed directive; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectiveError {
    /// A `-- runway:` item that is not a known directive.
    #[error(
        "line {line}: unknown directive {name:?} (known: no-transaction, lock_timeout, statement_timeout)"
    )]
    Unknown {
        /// Line number.
        line: usize,
        /// The item.
        name: String,
    },
    /// A timeout whose value is not a duration.
    #[error("line {line}: {name} needs a duration such as 500ms, 5s or 2min, got {value:?}")]
    BadDuration {
        /// Line number.
        line: usize,
        /// The directive.
        name: String,
        /// The value given.
        value: String,
    },
    /// A directive given twice.
    #[error("line {line}: directive {name} is given more than once")]
    Duplicate {
        /// Line number.
        line: usize,
        /// The directive.
        name: String,
    },
    /// A flag given a value, or a timeout given none.
    #[error("line {line}: directive {name} {problem}")]
    Shape {
        /// Line number.
        line: usize,
        /// The directive.
        name: String,
        /// `"takes no value"` or `"needs a value"`.
        problem: &'static str,
    },
}

impl Directives {
    /// Parse the directives in `sql`'s leading comment.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runway_migrate::Directives;
    ///
    /// let d = Directives::parse("-- runway: no-transaction, lock_timeout=2s\nCREATE INDEX CONCURRENTLY i ON t (a);")
    ///     .unwrap();
    /// assert!(d.no_transaction);
    /// assert_eq!(d.lock_timeout, Some(Duration::from_secs(2)));
    /// assert!(Directives::parse("-- runway: no-transactoin\nSELECT 1;").is_err());
    /// ```
    pub fn parse(sql: &str) -> Result<Directives, DirectiveError> {
        let mut d = Directives::default();
        let mut seen_tx = false;
        let sql = sql.strip_prefix('\u{feff}').unwrap_or(sql);
        for (idx, raw) in sql.lines().enumerate() {
            let line = idx + 1;
            let text = raw.trim();
            if text.is_empty() {
                continue;
            }
            let Some(comment) = text.strip_prefix("--") else {
                break;
            };
            let comment = comment.trim();
            if comment == "no-transaction" {
                if seen_tx {
                    return Err(DirectiveError::Duplicate {
                        line,
                        name: "no-transaction".into(),
                    });
                }
                seen_tx = true;
                d.no_transaction = true;
                continue;
            }
            let Some(items) = comment.strip_prefix("runway:") else {
                continue;
            };
            for item in items
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
            {
                let (name, value) = match item.split_once('=') {
                    Some((n, v)) => (n.trim(), Some(v.trim())),
                    None => (item, None),
                };
                let canonical = name.replace('-', "_").to_ascii_lowercase();
                match canonical.as_str() {
                    "no_transaction" => {
                        if value.is_some() {
                            return Err(DirectiveError::Shape {
                                line,
                                name: "no-transaction".into(),
                                problem: "takes no value",
                            });
                        }
                        if seen_tx {
                            return Err(DirectiveError::Duplicate {
                                line,
                                name: "no-transaction".into(),
                            });
                        }
                        seen_tx = true;
                        d.no_transaction = true;
                    }
                    "lock_timeout" | "statement_timeout" => {
                        let Some(value) = value.filter(|v| !v.is_empty()) else {
                            return Err(DirectiveError::Shape {
                                line,
                                name: canonical,
                                problem: "needs a value",
                            });
                        };
                        let parsed =
                            parse_duration(value).ok_or_else(|| DirectiveError::BadDuration {
                                line,
                                name: canonical.clone(),
                                value: value.to_string(),
                            })?;
                        let slot = if canonical == "lock_timeout" {
                            &mut d.lock_timeout
                        } else {
                            &mut d.statement_timeout
                        };
                        if slot.is_some() {
                            return Err(DirectiveError::Duplicate {
                                line,
                                name: canonical,
                            });
                        }
                        *slot = Some(parsed);
                    }
                    _ => {
                        return Err(DirectiveError::Unknown {
                            line,
                            name: item.to_string(),
                        });
                    }
                }
            }
        }
        Ok(d)
    }
}

/// Parse a PostgreSQL-style duration: `500ms`, `5s`, `2min`, `1h`, `1d`, or bare milliseconds.
pub fn parse_duration(value: &str) -> Option<Duration> {
    let value = value.trim().trim_matches('\'');
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (num, unit) = value.split_at(split);
    if num.is_empty() || num.len() > 12 {
        return None;
    }
    let n: u64 = num.parse().ok()?;
    let ms_per = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms_per).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlx_marker_and_runway_line() {
        let d =
            Directives::parse("-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);").unwrap();
        assert!(d.no_transaction);
        let d = Directives::parse(
            "\n-- add an index\n-- runway: lock_timeout=250ms statement_timeout=1min\nSELECT 1;",
        )
        .unwrap();
        assert!(!d.no_transaction);
        assert_eq!(d.lock_timeout, Some(Duration::from_millis(250)));
        assert_eq!(d.statement_timeout, Some(Duration::from_secs(60)));
    }

    #[test]
    fn only_the_leading_comment_counts() {
        let d = Directives::parse("SELECT 1;\n-- runway: no-transaction\n").unwrap();
        assert_eq!(d, Directives::default());
    }

    #[test]
    fn typed_errors() {
        assert!(matches!(
            Directives::parse("-- runway: lock_timeout=soon"),
            Err(DirectiveError::BadDuration { line: 1, .. })
        ));
        assert!(matches!(
            Directives::parse("--\n-- runway: nope"),
            Err(DirectiveError::Unknown { line: 2, .. })
        ));
        assert!(matches!(
            Directives::parse("-- runway: lock_timeout=1s, lock_timeout=2s"),
            Err(DirectiveError::Duplicate { .. })
        ));
        assert!(matches!(
            Directives::parse("-- runway: lock_timeout"),
            Err(DirectiveError::Shape { .. })
        ));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("1500"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("s"), None);
        assert_eq!(parse_duration("99999999999999999"), None);
    }
}
