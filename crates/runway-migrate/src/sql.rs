//! A lexical statement splitter for migration files.
//!
//! No-transaction migrations run one statement at a time (PostgreSQL runs a multi-statement query as one
//! implicit transaction, so `CREATE INDEX CONCURRENTLY` must be sent alone). Splitting needs only the lexical
//! structure, not a grammar: `;` ends a statement except inside `'strings'` (with `E'...'` escapes),
//! `"identifiers"`, `$tag$ dollar quotes $tag$`, `-- line` and nested `/* block */` comments, and the
//! `BEGIN ... END` bodies of `CREATE FUNCTION`/`PROCEDURE`/`TRIGGER` (SQL-standard bodies, SQLite triggers).
//! The server still parses every statement itself, so the splitter never has to reject anything.

/// The statements of `sql`, trimmed, without their terminating `;`, skipping empty and comment-only ones.
///
/// ```
/// let s = runway_migrate::split_statements(
///     "CREATE TABLE t (a text DEFAULT 'x;y'); -- one\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;",
/// );
/// assert_eq!(s.len(), 2);
/// assert!(s[1].ends_with("LANGUAGE sql"));
/// ```
pub fn split_statements(sql: &str) -> Vec<&str> {
    scan(sql).statements
}

/// Whether `sql` ends with a terminated statement (or holds no statement at all), so that another statement
/// can be appended after a newline without a `;` of its own.
pub fn is_terminated(sql: &str) -> bool {
    !scan(sql).open_tail
}

/// The leading words of `statement` (upper-cased, at most `n`), skipping comments, quoted text and
/// punctuation.
fn leading_words(statement: &str, n: usize) -> Vec<String> {
    let b = statement.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < b.len() && words.len() < n {
        let c = b[i];
        match c {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = find(b, b"\n", i).map_or(b.len(), |p| p + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = find(b, b"*/", i + 2).map_or(b.len(), |p| p + 2);
            }
            b'\'' | b'"' => i = skip_quoted(b, i, c, false),
            b';' => break,
            c if is_ident_start(c) => {
                let from = i;
                while i < b.len() && is_ident_char(b[i]) {
                    i += 1;
                }
                words.push(statement[from..i].to_ascii_uppercase());
            }
            _ => i += 1,
        }
    }
    words
}

/// The kind of a statement PostgreSQL refuses inside a transaction block (`CREATE INDEX CONCURRENTLY`,
/// `VACUUM`, ...), if `statement` is one. Looks at the leading words only.
///
/// ```
/// use runway_migrate::non_transactional;
/// assert_eq!(non_transactional("-- x\ncreate unique index concurrently i on t (a)"), Some("CREATE INDEX CONCURRENTLY"));
/// assert_eq!(non_transactional("CREATE INDEX i ON t (a)"), None);
/// ```
pub fn non_transactional(statement: &str) -> Option<&'static str> {
    let w = leading_words(statement, 12);
    let at = |i: usize| w.get(i).map(String::as_str);
    let has = |word: &str| w.iter().any(|x| x == word);
    match (at(0), at(1)) {
        (Some("CREATE"), Some("INDEX")) | (Some("CREATE"), Some("UNIQUE"))
            if has("INDEX") && w.iter().take(4).any(|x| x == "CONCURRENTLY") =>
        {
            Some("CREATE INDEX CONCURRENTLY")
        }
        (Some("DROP"), Some("INDEX")) if at(2) == Some("CONCURRENTLY") => {
            Some("DROP INDEX CONCURRENTLY")
        }
        (Some("REINDEX"), _) if has("CONCURRENTLY") => Some("REINDEX CONCURRENTLY"),
        (Some("ALTER"), Some("TABLE")) if has("DETACH") && has("CONCURRENTLY") => {
            Some("DETACH PARTITION CONCURRENTLY")
        }
        (Some("VACUUM"), _) => Some("VACUUM"),
        (Some("ALTER"), Some("SYSTEM")) => Some("ALTER SYSTEM"),
        (Some("CREATE" | "DROP"), Some("DATABASE")) => Some("CREATE/DROP DATABASE"),
        (Some("CREATE" | "DROP"), Some("TABLESPACE")) => Some("CREATE/DROP TABLESPACE"),
        _ => None,
    }
}

struct Scan<'a> {
    statements: Vec<&'a str>,
    open_tail: bool,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident_char(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == b'$'
}

/// Length of a dollar-quote tag (`$$`, `$body$`) starting at `i`, if there is one.
fn dollar_tag(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if let Some(&c) = b.get(j) {
        if c == b'$' {
            return Some(2);
        }
        if !is_ident_start(c) {
            return None;
        }
    }
    while let Some(&c) = b.get(j) {
        if c == b'$' {
            return Some(j + 1 - i);
        }
        if !(is_ident_start(c) || c.is_ascii_digit()) {
            return None;
        }
        j += 1;
    }
    None
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn scan(sql: &str) -> Scan<'_> {
    let b = sql.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut has_code = false;
    let mut words: Vec<String> = Vec::new();
    let mut depth: usize = 0;
    fn push<'a>(statements: &mut Vec<&'a str>, sql: &'a str, from: usize, to: usize, code: bool) {
        // `code` is decided byte by byte with ASCII whitespace rules, while `trim` also strips Unicode
        // whitespace (a vertical tab, a no-break space): a run of only those is not a statement.
        let statement = sql[from..to].trim();
        if code && !statement.is_empty() {
            statements.push(statement);
        }
    }
    while i < b.len() {
        let c = b[i];
        match c {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = find(b, b"\n", i).map_or(b.len(), |p| p + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut nest = 1usize;
                i += 2;
                while i < b.len() && nest > 0 {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        nest += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        nest -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
            b'\'' => {
                has_code = true;
                let escapes = words.last().is_some_and(|w| w == "E")
                    && i > 0
                    && (b[i - 1] == b'E' || b[i - 1] == b'e');
                i = skip_quoted(b, i, b'\'', escapes);
            }
            b'"' => {
                has_code = true;
                i = skip_quoted(b, i, b'"', false);
            }
            b'$' => {
                has_code = true;
                match dollar_tag(b, i) {
                    Some(len) => {
                        let tag = &b[i..i + len];
                        i = find(b, tag, i + len).map_or(b.len(), |p| p + len);
                    }
                    None => i += 1,
                }
            }
            b';' if depth == 0 => {
                push(&mut statements, sql, start, i, has_code);
                i += 1;
                start = i;
                has_code = false;
                words.clear();
            }
            c if is_ident_start(c) => {
                has_code = true;
                let from = i;
                while i < b.len() && is_ident_char(b[i]) {
                    i += 1;
                }
                let word = sql[from..i].to_ascii_uppercase();
                let routine = words.first().is_some_and(|w| w == "CREATE")
                    && words
                        .iter()
                        .take(6)
                        .any(|w| w == "FUNCTION" || w == "PROCEDURE" || w == "TRIGGER");
                if routine {
                    match word.as_str() {
                        "BEGIN" => depth += 1,
                        "CASE" if depth > 0 => depth += 1,
                        "END" if depth > 0 => depth -= 1,
                        _ => {}
                    }
                }
                if words.len() < 8 {
                    words.push(word);
                } else if let Some(last) = words.last_mut() {
                    *last = word;
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                has_code = true;
                i += 1;
            }
        }
    }
    let open_tail = has_code;
    push(&mut statements, sql, start, b.len(), has_code);
    Scan {
        statements,
        open_tail,
    }
}

/// Index just past the closing quote of the quoted run opening at `i` (or the end of input).
fn skip_quoted(b: &[u8], i: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        let c = b[j];
        if backslash_escapes && c == b'\\' {
            j += 2;
            continue;
        }
        if c == quote {
            if b.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {

    #[test]
    fn unicode_whitespace_alone_is_no_statement() {
        // Found by the migrate_split fuzz target: a lone vertical tab became an empty statement.
        assert!(split_statements("\u{b}").is_empty());
        assert!(
            split_statements("SELECT 1;\u{a0};\u{b}")
                .iter()
                .all(|s| !s.is_empty())
        );
        assert_eq!(split_statements("SELECT 1;\u{a0};\u{b}"), vec!["SELECT 1"]);
    }

    use super::*;

    #[test]
    fn splits_on_top_level_semicolons() {
        let s = split_statements("SELECT 1; SELECT ';' ; -- c;\n/* a; /* b; */ c; */ SELECT 2");
        assert_eq!(
            s,
            vec![
                "SELECT 1",
                "SELECT ';'",
                "-- c;\n/* a; /* b; */ c; */ SELECT 2"
            ]
        );
    }

    #[test]
    fn quotes_and_dollar_quotes() {
        let s = split_statements(
            "SELECT E'it\\'s;'; SELECT \"a;b\" FROM t; DO $x$ BEGIN PERFORM 1; END $x$; SELECT $1;",
        );
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!(s[2], "DO $x$ BEGIN PERFORM 1; END $x$");
    }

    #[test]
    fn routine_bodies_stay_whole() {
        let s = split_statements(
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE c SET n = CASE WHEN n > 0 THEN n + 1 ELSE 1 END; INSERT INTO l VALUES (1); END; SELECT 1;",
        );
        assert_eq!(s.len(), 2, "{s:?}");
        let s = split_statements(
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3",
        );
        assert_eq!(s.len(), 2, "{s:?}");
    }

    #[test]
    fn comment_only_statements_are_dropped() {
        assert!(split_statements("-- nothing\n;\n/* here */;").is_empty());
        assert!(is_terminated("SELECT 1; -- done"));
        assert!(!is_terminated("SELECT 1 -- open"));
        assert!(is_terminated(""));
    }

    #[test]
    fn finds_statements_that_cannot_run_in_a_transaction() {
        for (sql, kind) in [
            (
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)",
                "CREATE INDEX CONCURRENTLY",
            ),
            (
                "/* c */ DROP INDEX CONCURRENTLY i",
                "DROP INDEX CONCURRENTLY",
            ),
            (
                "REINDEX (VERBOSE) INDEX CONCURRENTLY i",
                "REINDEX CONCURRENTLY",
            ),
            (
                "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
                "DETACH PARTITION CONCURRENTLY",
            ),
            ("vacuum analyze t", "VACUUM"),
        ] {
            assert_eq!(non_transactional(sql), Some(kind), "{sql}");
        }
        for sql in [
            "CREATE INDEX i ON t (a)",
            "-- CREATE INDEX CONCURRENTLY\nSELECT 1",
            "SELECT 'VACUUM'",
            "CREATE TABLE concurrently (a int)",
        ] {
            assert_eq!(non_transactional(sql), None, "{sql}");
        }
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for s in ["'abc", "\"abc", "$$abc", "/* abc", "E'\\", "$a", "é;'ü"] {
            let _ = split_statements(s);
        }
    }
}
