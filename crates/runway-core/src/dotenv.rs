//! `.env` parsing without variable expansion.
//!
//! Common `.env` parsers expand `$VAR` and `${VAR}` references to earlier lines. For runway that is both
//! wrong and dangerous. It is wrong because example values document what a variable holds; they are not
//! templates. It is dangerous because a short file whose lines each reference the previous one twice grows
//! exponentially (fuzzing found exactly that: a few hundred bytes exhausted memory). This parser reads
//! values literally and never allocates more than its input.
//!
//! Syntax: `NAME=value` and `export NAME=value`; `#` comments (whole lines, or after whitespace following
//! an unquoted value); `'single quoted'` (literal); `"double quoted"` with `\n`, `\t`, `\r`, `\"` and
//! `\\` escapes, which may span lines; whitespace around unquoted values is trimmed.

use crate::error::{Error, Result};

/// Parse `.env` text into `(name, value)` pairs in file order. A malformed line is an
/// [`InvalidInput`](crate::ErrorKind::InvalidInput) error naming its line number, never its content.
pub fn parse_dotenv(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, raw)) = lines.next() {
        let line_no = index + 1;
        let line = raw.trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let bad = |why: &str| Error::invalid_input(format!("malformed .env line {line_no}: {why}"));
        let (name, rest) = line
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=value"))?;
        let name = name.trim();
        crate::vars::validate_name(name).map_err(|_| bad("invalid variable name"))?;
        let rest = rest.trim_start();
        let value = if let Some(body) = rest.strip_prefix('\'') {
            let end = body
                .find('\'')
                .ok_or_else(|| bad("unclosed single quote"))?;
            trailing_ok(&body[end + 1..])
                .then_some(())
                .ok_or_else(|| bad("text after the closing quote"))?;
            body[..end].to_owned()
        } else if let Some(body) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chunk = body.to_owned();
            loop {
                match unescape_until_quote(&chunk, &mut value) {
                    Some(after) => {
                        trailing_ok(after)
                            .then_some(())
                            .ok_or_else(|| bad("text after the closing quote"))?;
                        break;
                    }
                    None => {
                        // The quote continues on the next line.
                        let (_, next) = lines.next().ok_or_else(|| bad("unclosed double quote"))?;
                        value.push('\n');
                        chunk = next.to_owned();
                    }
                }
            }
            value
        } else {
            let unquoted = match rest.find(" #").or_else(|| rest.find("\t#")) {
                Some(i) => &rest[..i],
                None => rest,
            };
            unquoted.trim_end().to_owned()
        };
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

/// Whether what follows a closing quote is only whitespace or a comment.
fn trailing_ok(after: &str) -> bool {
    let t = after.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// Append `chunk` up to its closing `"` (unescaping) to `value`; returns the text after the quote, or `None`
/// when the chunk ends inside the quotes.
fn unescape_until_quote<'a>(chunk: &'a str, value: &mut String) -> Option<&'a str> {
    let mut chars = chunk.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some(&chunk[i + 1..]),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, other)) => value.push(other),
                None => value.push('\\'),
            },
            other => value.push(other),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_literal() {
        let v = parse_dotenv(
            "# comment\nA=1\nexport B = two words  # note\nC='$A ${B}'\nD=\"line\\nnext \\\"q\\\"\"\nE=$A$A\n",
        )
        .unwrap();
        assert_eq!(
            v,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "$A ${B}".into()),
                ("D".into(), "line\nnext \"q\"".into()),
                ("E".into(), "$A$A".into()),
            ]
        );
    }

    #[test]
    fn multi_line_double_quotes() {
        let v = parse_dotenv("KEY=\"-----BEGIN\nabc\n-----END\"\nNEXT=1\n").unwrap();
        assert_eq!(v[0].1, "-----BEGIN\nabc\n-----END");
        assert_eq!(v[1], ("NEXT".into(), "1".into()));
    }

    #[test]
    fn errors_name_the_line_and_never_the_value() {
        for (text, line) in [
            ("A=1\nnot a pair hunter2\n", 2),
            ("A='hunter2\n", 1),
            ("A=\"hunter2\n", 1),
            ("1A=hunter2\n", 1),
            ("A='x' hunter2\n", 1),
        ] {
            let e = parse_dotenv(text).unwrap_err();
            assert!(e.to_string().contains(&format!("line {line}")), "{e}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn doubling_references_do_not_expand() {
        // Each line refers to the previous twice: with expansion this is 2^60 bytes.
        let mut text = String::from("V0=xx\n");
        for i in 1..60 {
            text.push_str(&format!("V{i}=$V{p}$V{p}\n", p = i - 1));
        }
        let v = parse_dotenv(&text).unwrap();
        assert_eq!(v.len(), 60);
        assert!(v.iter().all(|(_, val)| val.len() <= 8));
    }
}
