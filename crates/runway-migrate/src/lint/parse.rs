//! The parsed form of one SQL file: statements with byte ranges, comments, and a line index.
//!
//! Parsing is done by libpg_query (the PostgreSQL server's own grammar) through the `pg_query` crate.
//! Comments are not part of the parse tree, so they come from the same library's scanner.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, Token};

/// A 1-based line and column (columns count Unicode code points).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Position {
    /// Line, starting at 1.
    pub line: u32,
    /// Column, starting at 1, in Unicode code points.
    pub column: u32,
}

/// Maps byte offsets to [`Position`]s.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub(crate) fn position(&self, text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        Position {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }

    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

/// One comment of the file.
#[derive(Debug, Clone)]
pub(crate) struct Comment {
    /// Byte offset of the comment's start.
    pub(crate) start: usize,
    /// The comment's text without `--` or `/* */`, trimmed.
    pub(crate) body: String,
}

/// One top-level statement.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    /// Byte offset of the statement's first token.
    pub(crate) start: usize,
    /// Byte offset just past the statement (its `;` excluded).
    pub(crate) end: usize,
    /// The parse tree; `None` for an empty statement.
    pub(crate) node: Option<NodeEnum>,
}

/// A parsed SQL file.
#[derive(Debug, Clone)]
pub(crate) struct ParsedSql {
    pub(crate) statements: Vec<Statement>,
    pub(crate) comments: Vec<Comment>,
    /// A syntax error: byte offset of the failing statement and the parser's message.
    pub(crate) syntax_error: Option<(usize, String)>,
    pub(crate) lines: LineIndex,
}

fn comment_body(raw: &str) -> String {
    let body = if let Some(b) = raw.strip_prefix("--") {
        b
    } else if let Some(b) = raw.strip_prefix("/*") {
        b.strip_suffix("*/").unwrap_or(b)
    } else {
        raw
    };
    body.trim().to_string()
}

/// Parse `sql`; never panics. A syntax error is reported in [`ParsedSql::syntax_error`] with the statements
/// before the failing one still parsed, so the rest of the file can still be linted.
pub(crate) fn parse(sql: &str) -> ParsedSql {
    let lines = LineIndex::new(sql);
    if sql.contains('\0') {
        return ParsedSql {
            statements: Vec::new(),
            comments: Vec::new(),
            syntax_error: Some((sql.find('\0').unwrap_or(0), "NUL byte in SQL text".into())),
            lines,
        };
    }
    // pg_query's scanner builds a slice from a null pointer when there are no tokens at all (an empty or
    // whitespace-only text, where PostgreSQL's whitespace is a subset of Rust's), so never call it then.
    if sql.trim().is_empty() {
        return ParsedSql {
            statements: Vec::new(),
            comments: Vec::new(),
            syntax_error: None,
            lines,
        };
    }
    let tokens = pg_query::scan_tokens(sql).unwrap_or_default();
    let mut comments = Vec::new();
    let mut code_starts = Vec::with_capacity(tokens.len());
    for t in &tokens {
        let (Ok(s), Ok(e)) = (usize::try_from(t.start), usize::try_from(t.end)) else {
            continue;
        };
        let is_comment = t.token == Token::SqlComment as i32 || t.token == Token::CComment as i32;
        if is_comment {
            if let Some(raw) = sql.get(s..e) {
                comments.push(Comment {
                    start: s,
                    body: comment_body(raw),
                });
            }
        } else {
            code_starts.push(s);
        }
    }
    // The first code token at or after `from`.
    let first_code = |from: usize| -> usize {
        let i = code_starts.partition_point(|&s| s < from);
        code_starts.get(i).copied().unwrap_or(from)
    };

    match pg_query::parse(sql, 0) {
        Ok(result) => ParsedSql {
            statements: collect(&result.protobuf.stmts, sql, 0, &first_code),
            comments,
            syntax_error: None,
            lines,
        },
        Err(err) => {
            // Find the failing statement: split at top-level semicolons and parse piece by piece.
            let mut statements = Vec::new();
            let mut syntax_error = Some((
                code_starts.first().copied().unwrap_or(0),
                error_message(&err),
            ));
            for (from, to) in pieces(&tokens, sql.len()) {
                let Some(piece) = sql.get(from..to) else {
                    break;
                };
                match pg_query::parse(piece, 0) {
                    Ok(r) => statements.extend(collect(&r.protobuf.stmts, sql, from, &first_code)),
                    Err(e) => {
                        syntax_error = Some((first_code(from), error_message(&e)));
                        break;
                    }
                }
            }
            ParsedSql {
                statements,
                comments,
                syntax_error,
                lines,
            }
        }
    }
}

/// Byte ranges of the statements, split at semicolons outside parentheses (used only to locate a syntax
/// error; the scanner keeps quoted strings, dollar-quoted bodies and comments as single tokens).
fn pieces(tokens: &[protobuf::ScanToken], len: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut from = 0usize;
    for t in tokens {
        if t.token == Token::Ascii40 as i32 {
            depth += 1;
        } else if t.token == Token::Ascii41 as i32 {
            depth -= 1;
        } else if t.token == Token::Ascii59 as i32 && depth <= 0 {
            let end = usize::try_from(t.end).unwrap_or(len).min(len);
            out.push((from, end));
            from = end;
            depth = 0;
        }
    }
    if from < len {
        out.push((from, len));
    }
    out
}

fn error_message(err: &pg_query::Error) -> String {
    match err {
        pg_query::Error::Parse(m) => m.clone(),
        other => other.to_string(),
    }
}

fn collect(
    stmts: &[protobuf::RawStmt],
    sql: &str,
    base: usize,
    first_code: &dyn Fn(usize) -> usize,
) -> Vec<Statement> {
    stmts
        .iter()
        .map(|raw| {
            let loc = base + usize::try_from(raw.stmt_location).unwrap_or(0);
            let end = if raw.stmt_len == 0 {
                // The last statement runs to the end of the text.
                sql[loc.min(sql.len())..]
                    .find(';')
                    .map(|i| loc + i)
                    .unwrap_or(sql.len())
            } else {
                loc + usize::try_from(raw.stmt_len).unwrap_or(0)
            };
            Statement {
                start: first_code(loc).min(end.max(loc)),
                end,
                node: raw.stmt.as_ref().and_then(|n| n.node.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_code_points() {
        let text = "ab\n\u{e9}x\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 0), Position { line: 1, column: 1 });
        assert_eq!(idx.position(text, 3), Position { line: 2, column: 1 });
        // 'x' is after a two-byte character.
        assert_eq!(idx.position(text, 5), Position { line: 2, column: 2 });
    }

    #[test]
    fn statements_skip_leading_comments() {
        let sql = "-- runway:no-transaction\nSELECT 1;\n/* c */ SELECT 2;";
        let p = parse(sql);
        assert_eq!(p.statements.len(), 2);
        assert_eq!(
            &sql[p.statements[0].start..p.statements[0].start + 6],
            "SELECT"
        );
        assert_eq!(
            &sql[p.statements[1].start..p.statements[1].start + 6],
            "SELECT"
        );
        assert_eq!(p.comments.len(), 2);
        assert_eq!(p.comments[0].body, "runway:no-transaction");
        assert_eq!(p.comments[1].body, "c");
    }

    #[test]
    fn empty_and_whitespace_texts_parse_to_nothing() {
        for sql in ["", " \n\t\r\x0b\x0c ", "\u{a0}"] {
            let p = parse(sql);
            assert!(p.statements.is_empty() && p.syntax_error.is_none());
        }
    }

    #[test]
    fn syntax_error_points_at_failing_statement() {
        let sql = "SELECT 1;\nALTER TABLE t ADD COLUMN;\nSELECT 3;";
        let p = parse(sql);
        let (at, msg) = p.syntax_error.clone().expect("error");
        assert_eq!(p.lines.position(sql, at).line, 2);
        assert!(!msg.is_empty());
        assert_eq!(p.statements.len(), 1);
    }
}
