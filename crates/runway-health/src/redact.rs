//! Scrubbing credentials out of free text before it is stored in a report.
//!
//! Public responses never carry free text at all (they show a [`Problem`](crate::Problem)'s fixed wording).
//! Internal details (logs, `--detail` output) may name hosts, but never passwords: [`scrub`] removes the
//! user-info part of URLs and `password=...`-style pairs.

/// Replace credentials in `text`: `scheme://user:secret@host` becomes `scheme://***@host`, and the value
/// of `password=`, `pwd=`, `passwd=`, `secret=`, `token=` (any case, `=` or `:`) becomes `***`.
pub fn scrub(text: &str) -> String {
    let urls = scrub_userinfo(text);
    scrub_pairs(&urls)
}

fn scrub_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or whitespace.
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        if let Some(at) = authority.rfind('@') {
            out.push_str("***");
            out.push_str(&authority[at..]);
        } else {
            out.push_str(authority);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn scrub_pairs(text: &str) -> String {
    const KEYS: [&str; 6] = ["password", "passwd", "pwd", "secret", "token", "apikey"];
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let matched = KEYS.iter().find_map(|k| {
            let at_word_start = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
            if at_word_start && lower[i..].starts_with(k) {
                let after = i + k.len();
                lower[after..]
                    .char_indices()
                    .find(|(_, c)| !c.is_whitespace())
                    .filter(|(_, c)| *c == '=' || *c == ':')
                    .map(|(j, _)| after + j + 1)
            } else {
                None
            }
        });
        match matched {
            Some(value_start) => {
                out.push_str(&text[i..value_start]);
                // Skip spaces, then an optional quote, then the value up to whitespace, quote, ';' or ','.
                let mut j = value_start;
                while j < text.len() && bytes[j] == b' ' {
                    j += 1;
                }
                let quote =
                    (j < text.len() && (bytes[j] == b'\'' || bytes[j] == b'"')).then(|| bytes[j]);
                if quote.is_some() {
                    j += 1;
                }
                let start = j;
                while j < text.len() {
                    let b = bytes[j];
                    let stop = match quote {
                        Some(q) => b == q,
                        None => b.is_ascii_whitespace() || b == b';' || b == b',' || b == b'&',
                    };
                    if stop {
                        break;
                    }
                    j += 1;
                }
                out.push_str(&text[value_start..start]);
                out.push_str("***");
                i = j;
            }
            None => {
                let ch = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[i..i + ch]);
                i += ch;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_userinfo_and_pairs() {
        assert_eq!(
            scrub("cannot reach postgres://app:hunter2@db.internal:5432/prod now"),
            "cannot reach postgres://***@db.internal:5432/prod now"
        );
        assert_eq!(
            scrub("redis://:s3cr3t@cache:6379"),
            "redis://***@cache:6379"
        );
        assert_eq!(
            scrub("host=db user=app password=hunter2 sslmode=require"),
            "host=db user=app password=*** sslmode=require"
        );
        assert_eq!(scrub("Password: 'a b c' end"), "Password: '***' end");
        assert_eq!(
            scrub("no secrets here: http://x/y"),
            "no secrets here: http://x/y"
        );
        assert_eq!(scrub("tokenizer=ok"), "tokenizer=ok");
        assert_eq!(scrub("héllo ünïcode"), "héllo ünïcode");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_hides_embedded_passwords(prefix in "[ -~]{0,40}", pw in "[a-zA-Z0-9]{6,20}") {
            let text = format!("{prefix} postgres://user:{pw}@host/db");
            let out = scrub(&text);
            let needle = format!(":{pw}@");
            proptest::prop_assert!(!out.contains(&needle));
        }
    }
}
