//! Pure scanners: functions from one file's path and contents to findings. No IO.
//!
//! [`Preflight`](super::Preflight) walks a repository and feeds each file to the scanners that apply; the
//! scanners are public so tools and tests can run them on text directly.

use std::collections::BTreeMap;

use super::{Finding, FindingKind, Location};

/// Marker that silences every finding on its line (`# preflight:allow`, `// preflight:allow`).
pub const ALLOW_MARKER: &str = "preflight:allow";

/// Which pattern found a hardcoded secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SecretRule {
    /// An AWS access key id (`AKIA...` / `ASIA...`).
    AwsAccessKey,
    /// A `-----BEGIN ... PRIVATE KEY-----` block.
    PrivateKey,
    /// A Slack incoming webhook URL (`hooks.slack.com/services/...`).
    SlackWebhook,
    /// A Slack API token (`xoxb-...`).
    SlackToken,
    /// A GitHub token (`ghp_...`, `github_pat_...`).
    GithubToken,
    /// A Stripe live secret key (`sk_live_...`).
    StripeKey,
    /// A literal assigned to a password-like name (`password = "..."`).
    PasswordAssignment,
    /// A literal assigned to a token-like name (`api_key = "..."`, `SECRET_KEY: ...`).
    TokenAssignment,
    /// A high-entropy literal assigned to any name (a warning: it may be a hash or an id).
    HighEntropyString,
}

impl SecretRule {
    /// The stable kebab-case id.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretRule::AwsAccessKey => "aws-access-key",
            SecretRule::PrivateKey => "private-key",
            SecretRule::SlackWebhook => "slack-webhook",
            SecretRule::SlackToken => "slack-token",
            SecretRule::GithubToken => "github-token",
            SecretRule::StripeKey => "stripe-key",
            SecretRule::PasswordAssignment => "password-assignment",
            SecretRule::TokenAssignment => "token-assignment",
            SecretRule::HighEntropyString => "high-entropy-string",
        }
    }

    /// What the rule found, in words.
    pub fn describe(self) -> &'static str {
        match self {
            SecretRule::AwsAccessKey => "AWS access key id",
            SecretRule::PrivateKey => "private key block",
            SecretRule::SlackWebhook => "Slack webhook URL",
            SecretRule::SlackToken => "Slack token",
            SecretRule::GithubToken => "GitHub token",
            SecretRule::StripeKey => "Stripe live key",
            SecretRule::PasswordAssignment => "hardcoded password",
            SecretRule::TokenAssignment => "hardcoded token or key",
            SecretRule::HighEntropyString => "high-entropy string",
        }
    }

    /// Whether a match blocks the release (every rule but [`SecretRule::HighEntropyString`]).
    pub fn blocks(self) -> bool {
        self != SecretRule::HighEntropyString
    }
}

/// Which debug statement was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DebugRule {
    /// `console.log(` / `console.debug(` in JavaScript or TypeScript application code.
    ConsoleLog,
    /// A `debugger;` statement.
    Debugger,
    /// Python `breakpoint()`.
    Breakpoint,
    /// `import pdb` / `pdb.set_trace()` (and `ipdb`).
    Pdb,
    /// Python `print(` in application code (a warning).
    Print,
}

impl DebugRule {
    /// The stable kebab-case id.
    pub fn as_str(self) -> &'static str {
        match self {
            DebugRule::ConsoleLog => "console-log",
            DebugRule::Debugger => "debugger",
            DebugRule::Breakpoint => "breakpoint",
            DebugRule::Pdb => "pdb",
            DebugRule::Print => "print",
        }
    }

    /// Whether a match blocks the release (every rule but [`DebugRule::Print`]).
    pub fn blocks(self) -> bool {
        self != DebugRule::Print
    }
}

fn at(file: &str, line: usize) -> Option<Location> {
    Some(Location {
        file: file.to_owned(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
    })
}

fn lower_ext(file: &str) -> String {
    let name = file.rsplit('/').next().unwrap_or(file);
    match name.rfind('.') {
        Some(i) if i > 0 => name[i + 1..].to_ascii_lowercase(),
        _ => String::new(),
    }
}

fn base_name(file: &str) -> &str {
    file.rsplit('/').next().unwrap_or(file)
}

// ---------------------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------------------

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts: BTreeMap<char, usize> = BTreeMap::new();
    let mut n = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A line with `[start, end)` replaced by a redaction that keeps only `keep` leading characters of the
/// secret (a fixed, public prefix such as `AKIA`) and its length; the line is shortened to 160 characters.
fn redact(line: &str, start: usize, end: usize, keep: usize) -> String {
    let secret = &line[start..end];
    let kept: String = secret.chars().take(keep).collect();
    let len = secret.chars().count();
    let mut out = String::new();
    out.push_str(line[..start].trim_start());
    out.push_str(&kept);
    out.push_str(&format!("…[redacted, {len} chars]"));
    out.push_str(&line[end..]);
    let out = out.trim_end();
    if out.chars().count() > 160 {
        let mut s: String = out.chars().take(159).collect();
        s.push('…');
        s
    } else {
        out.to_owned()
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Positions where `needle` starts in `line` at a word boundary.
fn starts_of<'a>(line: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    line.match_indices(needle)
        .map(|(i, _)| i)
        .filter(move |&i| i == 0 || !is_word(line.as_bytes()[i - 1]))
}

/// Length of the run of bytes from `from` that satisfy `ok`.
fn run_len(line: &str, from: usize, ok: impl Fn(u8) -> bool) -> usize {
    line.as_bytes()[from..]
        .iter()
        .take_while(|b| ok(**b))
        .count()
}

struct Hit {
    rule: SecretRule,
    start: usize,
    end: usize,
    keep: usize,
}

fn token_hits(line: &str, hits: &mut Vec<Hit>) {
    for prefix in ["AKIA", "ASIA"] {
        for i in starts_of(line, prefix) {
            let body = run_len(line, i + 4, |b| {
                b.is_ascii_uppercase() || b.is_ascii_digit()
            });
            let end = i + 4 + body;
            let boundary = end == line.len() || !is_word(line.as_bytes()[end]);
            if body == 16 && boundary && !line[i..end].ends_with("EXAMPLE") {
                hits.push(Hit {
                    rule: SecretRule::AwsAccessKey,
                    start: i,
                    end,
                    keep: 4,
                });
            }
        }
    }
    // `-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----`: the exact PEM/PGP header, not prose about it.
    if let Some(i) = line.find("-----BEGIN ") {
        let rest = &line[i + 11..];
        let kind_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || *b == b' ')
            .count();
        let tail = &rest[kind_len..];
        let kind = &rest[..kind_len];
        if (kind.ends_with("PRIVATE KEY") || kind.ends_with("PRIVATE KEY BLOCK"))
            && tail.starts_with("-----")
        {
            hits.push(Hit {
                rule: SecretRule::PrivateKey,
                start: i,
                end: line.len(),
                keep: 11,
            });
        }
    }
    let marker = "hooks.slack.com/services/";
    for (i, _) in line.match_indices(marker) {
        let from = i + marker.len();
        let n = run_len(line, from, |b| b.is_ascii_alphanumeric() || b == b'/');
        let parts: Vec<&str> = line[from..from + n].split('/').collect();
        // T<workspace>/B<channel>/<secret>: the real shape, not a documentation stub.
        if parts.len() >= 3
            && parts[0].starts_with('T')
            && parts[1].starts_with('B')
            && parts[2].len() >= 16
        {
            hits.push(Hit {
                rule: SecretRule::SlackWebhook,
                start: from,
                end: from + n,
                keep: 0,
            });
        }
    }
    for prefix in ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"] {
        for i in starts_of(line, prefix) {
            let n = run_len(line, i + 5, |b| b.is_ascii_alphanumeric() || b == b'-');
            if n >= 10 {
                hits.push(Hit {
                    rule: SecretRule::SlackToken,
                    start: i,
                    end: i + 5 + n,
                    keep: 5,
                });
            }
        }
    }
    for prefix in ["ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"] {
        for i in starts_of(line, prefix) {
            let n = run_len(line, i + prefix.len(), is_word);
            if n >= 20 {
                hits.push(Hit {
                    rule: SecretRule::GithubToken,
                    start: i,
                    end: i + prefix.len() + n,
                    keep: prefix.len(),
                });
            }
        }
    }
    for prefix in ["sk_live_", "rk_live_"] {
        for i in starts_of(line, prefix) {
            let n = run_len(line, i + prefix.len(), |b| b.is_ascii_alphanumeric());
            if n >= 16 {
                hits.push(Hit {
                    rule: SecretRule::StripeKey,
                    start: i,
                    end: i + prefix.len() + n,
                    keep: prefix.len(),
                });
            }
        }
    }
}

/// What a key name says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyClass {
    Password,
    Token,
    Other,
}

fn classify_key(key: &str) -> KeyClass {
    let k = key.to_ascii_lowercase().replace(['-', '.'], "_");
    let segments: Vec<&str> = k.split('_').collect();
    if k.contains("password") || k.contains("passwd") || segments.contains(&"pwd") {
        return KeyClass::Password;
    }
    const TOKENISH: &[&str] = &[
        "secret",
        "token",
        "api_key",
        "apikey",
        "access_key",
        "private_key",
        "client_secret",
        "signing_key",
        "auth_key",
        "credential",
        "webhook",
    ];
    if TOKENISH.iter().any(|t| k.contains(t)) {
        return KeyClass::Token;
    }
    KeyClass::Other
}

fn is_placeholder(value: &str, key: &str) -> bool {
    let v = value.trim();
    let l = v.to_ascii_lowercase();
    if v.is_empty()
        || v.starts_with('$')
        || v.starts_with("{{")
        || v.starts_with("%(")
        || v.starts_with('<')
        || v.starts_with("process.env")
        || v.starts_with("os.environ")
        || v.contains("***")
        || l == key.to_ascii_lowercase()
    {
        return true;
    }
    const WORDS: &[&str] = &[
        "example",
        "placeholder",
        "changeme",
        "change_me",
        "change-me",
        "your_",
        "your-",
        "yourpassword",
        "dummy",
        "redacted",
        "xxxx",
        "none",
        "null",
        "undefined",
        "todo",
        "fixme",
        "secret",
        "password",
        "token",
    ];
    if WORDS.iter().any(|w| l == *w || l.contains(w)) {
        return true;
    }
    let first = v.chars().next().unwrap_or(' ');
    v.chars().all(|c| c == first)
}

/// Files whose unquoted values are literals (`.env`, ini, yaml): elsewhere an unquoted value is an expression.
fn unquoted_values_are_literals(file: &str) -> bool {
    let name = base_name(file).to_ascii_lowercase();
    name.starts_with(".env")
        || matches!(
            lower_ext(file).as_str(),
            "ini" | "cfg" | "conf" | "properties" | "yml" | "yaml" | "env"
        )
}

/// Find `key <op> value` assignments on a line: `=`, `:`, `:=`, `=>` with a quoted (or, in config files,
/// bare) value. Returns `(key, value_start, value_end)`.
fn assignments(line: &str, bare_ok: bool, arrow_ok: bool) -> Vec<(String, usize, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'=' && b.get(i + 1) == Some(&b'>') && !arrow_ok {
            i += 2; // a match arm or an arrow function, not an assignment
            continue;
        }
        let op_len = if (c == b':' && b.get(i + 1) == Some(&b'='))
            || (c == b'=' && b.get(i + 1) == Some(&b'>'))
        {
            2
        } else if c == b'=' || c == b':' {
            1
        } else {
            i += 1;
            continue;
        };
        // Not a comparison or a compound operator.
        let prev = if i > 0 { b[i - 1] } else { b' ' };
        let next = b.get(i + op_len).copied().unwrap_or(b' ');
        if c == b'=' && op_len == 1 && (matches!(prev, b'=' | b'!' | b'<' | b'>') || next == b'=') {
            i += 1;
            continue;
        }
        if c == b':' && op_len == 1 && (next == b':' || prev == b':') {
            i += 1;
            continue;
        }
        // The key: an identifier right before (optionally quoted, optionally followed by spaces).
        let mut k_end = i;
        while k_end > 0 && b[k_end - 1] == b' ' {
            k_end -= 1;
        }
        if k_end > 0 && matches!(b[k_end - 1], b'"' | b'\'') {
            k_end -= 1;
        }
        let mut k_start = k_end;
        while k_start > 0 && (is_word(b[k_start - 1]) || matches!(b[k_start - 1], b'-' | b'.')) {
            k_start -= 1;
        }
        if k_start == k_end {
            i += op_len;
            continue;
        }
        let key = line[k_start..k_end].to_owned();
        // The value.
        let mut v = i + op_len;
        while v < b.len() && b[v] == b' ' {
            v += 1;
        }
        if v >= b.len() {
            break;
        }
        let q = b[v];
        if matches!(q, b'"' | b'\'' | b'`') {
            let start = v + 1;
            let mut end = start;
            while end < b.len() && b[end] != q {
                if b[end] == b'\\' {
                    end += 1;
                }
                end += 1;
            }
            if end <= b.len() && end > start {
                let end = end.min(b.len());
                out.push((key, start, end));
            }
            i = end.saturating_add(1).max(i + op_len);
            continue;
        }
        if bare_ok {
            let n = run_len(line, v, |c| !c.is_ascii_whitespace() && c != b'#');
            if n > 0 {
                out.push((key, v, v + n));
            }
            i = v + n.max(1);
            continue;
        }
        i += op_len;
    }
    out
}

fn base64ish(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
}

fn assignment_hits(file: &str, line: &str, hits: &mut Vec<Hit>) {
    let bare_ok = unquoted_values_are_literals(file);
    // `=>` assigns in Ruby, PHP and Perl hashes; elsewhere it is a match arm or an arrow function.
    let arrow_ok = matches!(
        lower_ext(file).as_str(),
        "rb" | "php" | "pl" | "pm" | "rake"
    );
    for (key, start, end) in assignments(line, bare_ok, arrow_ok) {
        let value = &line[start..end];
        if value.contains("://") && !value.contains('@') {
            continue; // a URL without credentials
        }
        let class = classify_key(&key);
        if class != KeyClass::Other && is_placeholder(value, &key) {
            continue;
        }
        let len = value.chars().count();
        let rule = match class {
            KeyClass::Password if len >= 4 && !value.contains(' ') => {
                SecretRule::PasswordAssignment
            }
            KeyClass::Token if len >= 8 && !value.contains(' ') && entropy(value) >= 3.0 => {
                SecretRule::TokenAssignment
            }
            KeyClass::Other
                if len >= 32
                    && base64ish(value)
                    && entropy(value) >= 4.3
                    && value.bytes().any(|b| b.is_ascii_uppercase())
                    && value.bytes().any(|b| b.is_ascii_lowercase())
                    && value.bytes().any(|b| b.is_ascii_digit()) =>
            {
                SecretRule::HighEntropyString
            }
            _ => continue,
        };
        hits.push(Hit {
            rule,
            start,
            end,
            keep: 0,
        });
    }
}

/// Scan one file's text for hardcoded secrets.
///
/// Every finding names `file:line` and carries a redacted preview of the line: the secret is replaced by its
/// length (and, for token formats with a public prefix such as `AKIA`, that prefix), so the secret itself is
/// never copied into a finding. Lines with [`ALLOW_MARKER`] are skipped.
///
/// ```
/// use runway::preflight::scan::{secrets, SecretRule};
/// use runway::preflight::FindingKind;
///
/// let key = format!("AKIA{}", "Z7Q3MX2W4PLKD9RT");
/// let findings = secrets("app/settings.py", &format!("AWS_KEY = \"{key}\"\n"));
/// assert_eq!(findings.len(), 1);
/// let FindingKind::HardcodedSecret { rule, preview } = &findings[0].kind else { panic!() };
/// assert_eq!(*rule, SecretRule::AwsAccessKey);
/// assert!(!preview.contains(&key));
/// ```
pub fn secrets(file: &str, text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.contains(ALLOW_MARKER) || line.len() > 4096 {
            continue;
        }
        let mut hits = Vec::new();
        token_hits(line, &mut hits);
        assignment_hits(file, line, &mut hits);
        // One finding per secret span: a token also caught by its assignment is reported once, by its
        // specific rule.
        hits.sort_by_key(|h| (h.start, h.rule));
        let mut taken: Vec<(usize, usize)> = Vec::new();
        for h in hits {
            if taken.iter().any(|&(s, e)| h.start < e && s < h.end) {
                continue;
            }
            taken.push((h.start, h.end));
            out.push(Finding::new(
                FindingKind::HardcodedSecret {
                    rule: h.rule,
                    // The BEGIN line is a public header; the key body on the lines below is never read.
                    preview: if h.rule == SecretRule::PrivateKey {
                        format!("{} …[key body redacted]", line[h.start..].trim())
                    } else {
                        redact(line, h.start, h.end, h.keep)
                    },
                },
                at(file, n + 1),
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Debug statements
// ---------------------------------------------------------------------------------------------------------

const JS_EXTS: &[&str] = &["js", "jsx", "ts", "tsx", "mjs", "cjs", "vue", "svelte"];

/// Whether a path is test, tooling or script code rather than application code.
pub fn is_non_app_code(file: &str) -> bool {
    let lower = file.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    let dirs = &parts[..parts.len().saturating_sub(1)];
    const NON_APP_DIRS: &[&str] = &[
        "test",
        "tests",
        "__tests__",
        "spec",
        "specs",
        "scripts",
        "script",
        "bin",
        "tools",
        "docs",
        "examples",
        "e2e",
        "cypress",
        "fixtures",
    ];
    if dirs.iter().any(|d| NON_APP_DIRS.contains(d)) {
        return true;
    }
    let name = parts.last().copied().unwrap_or_default();
    name.starts_with("test_")
        || name.ends_with("_test.py")
        || name == "conftest.py"
        || name == "setup.py"
        || name == "manage.py"
        || name == "noxfile.py"
        || name == "fabfile.py"
        || name.contains(".test.")
        || name.contains(".spec.")
        || name.ends_with(".config.js")
        || name.ends_with(".config.ts")
        || name.ends_with(".config.mjs")
}

/// The code part of a line: `None` when the whole line is a comment, else the text before a trailing comment.
fn code_part(line: &str, hash_comments: bool) -> Option<&str> {
    let t = line.trim_start();
    if hash_comments {
        if t.starts_with('#') {
            return None;
        }
        return Some(line.split(" #").next().unwrap_or(line));
    }
    if t.starts_with("//") || t.starts_with("/*") || t.starts_with('*') {
        return None;
    }
    Some(match line.find("//") {
        Some(i) if i == 0 || line.as_bytes()[i - 1] != b':' => &line[..i],
        _ => line,
    })
}

fn call_at_boundary(code: &str, name: &str) -> bool {
    let b = code.as_bytes();
    code.match_indices(name).any(|(i, _)| {
        i == 0 || {
            let p = b[i - 1];
            !is_word(p) && p != b'.'
        }
    })
}

/// Scan one file's text for `console.log`, `debugger;`, `breakpoint()`, `pdb` and (in application code)
/// Python `print(`. Comment lines and lines with [`ALLOW_MARKER`] are skipped; `console.log` and `print` are
/// only reported in application code (see [`is_non_app_code`]).
///
/// ```
/// use runway::preflight::scan::{debug_statements, DebugRule};
/// use runway::preflight::{FindingKind, Severity};
///
/// let f = debug_statements("app/api.py", "import pdb\nprint(order)\n# print(debug)\n");
/// assert_eq!(f.len(), 2);
/// assert!(matches!(f[0].kind, FindingKind::DebugStatement { rule: DebugRule::Pdb, .. }));
/// assert_eq!(f[1].severity, Severity::Warning); // print( does not block
/// ```
pub fn debug_statements(file: &str, text: &str) -> Vec<Finding> {
    let ext = lower_ext(file);
    let js = JS_EXTS.contains(&ext.as_str());
    let py = ext == "py";
    if !js && !py {
        return Vec::new();
    }
    let app = !is_non_app_code(file);
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.contains(ALLOW_MARKER) {
            continue;
        }
        let Some(code) = code_part(line, py) else {
            continue;
        };
        let mut found: Vec<DebugRule> = Vec::new();
        if js {
            if app && (code.contains("console.log(") || code.contains("console.debug(")) {
                found.push(DebugRule::ConsoleLog);
            }
            let t = code.trim();
            if t.starts_with("debugger;") || t == "debugger" || code.contains(" debugger;") {
                found.push(DebugRule::Debugger);
            }
        }
        if py {
            let t = code.trim();
            if call_at_boundary(code, "breakpoint(") {
                found.push(DebugRule::Breakpoint);
            }
            if t.starts_with("import pdb")
                || t.starts_with("import ipdb")
                || t.starts_with("from pdb ")
                || t.starts_with("from ipdb ")
                || code.contains("pdb.set_trace(")
            {
                found.push(DebugRule::Pdb);
            }
            if app && call_at_boundary(code, "print(") && !t.starts_with("def ") {
                found.push(DebugRule::Print);
            }
        }
        for rule in found {
            out.push(Finding::new(
                FindingKind::DebugStatement {
                    rule,
                    preview: preview(line),
                },
                at(file, n + 1),
            ));
        }
    }
    out
}

fn preview(line: &str) -> String {
    let t = line.trim();
    if t.chars().count() > 120 {
        let mut s: String = t.chars().take(119).collect();
        s.push('…');
        s
    } else {
        t.to_owned()
    }
}

// ---------------------------------------------------------------------------------------------------------
// Dependencies
// ---------------------------------------------------------------------------------------------------------

/// Whether a file name is a pip requirements file (`requirements.txt`, `requirements-dev.txt`, or a `.txt`
/// file in a `requirements/` folder).
pub fn is_requirements_file(file: &str) -> bool {
    let name = base_name(file).to_ascii_lowercase();
    let in_dir = file
        .rsplit('/')
        .nth(1)
        .is_some_and(|d| d.eq_ignore_ascii_case("requirements"));
    name.ends_with(".txt") && (name.starts_with("requirements") || in_dir)
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A direct reference (`name @ url`, `-e git+...`) is pinned when it names a commit, a hash or an archive.
fn url_pinned(url: &str) -> bool {
    let u = url.trim();
    let no_frag = u.split('#').next().unwrap_or(u);
    if u.contains("#sha256=") || u.contains("#sha384=") || u.contains("#sha512=") {
        return true;
    }
    if no_frag.starts_with("git+") || no_frag.contains(".git@") {
        return no_frag
            .rsplit('@')
            .next()
            .is_some_and(|r| r.len() >= 7 && is_hex(r));
    }
    let l = no_frag.to_ascii_lowercase();
    l.ends_with(".whl") || l.ends_with(".tar.gz") || l.ends_with(".zip") || l.ends_with(".tgz")
}

/// Check a pip requirements file: every requirement pinned with `==` (or `===`), no wildcards.
///
/// Comments, blank lines, `-r`/`-c` includes, index options, `--hash` options, environment markers
/// (`; python_version < "3.11"`) and line continuations are understood; local paths are accepted; direct
/// references must name a commit, a hash or an archive. Returns the findings and the files it includes
/// (`-r` / `-c`), relative to the requirements file's folder.
///
/// ```
/// use runway::preflight::scan::requirements;
///
/// let (findings, includes) = requirements(
///     "requirements.txt",
///     "-r base.txt\nfastapi==0.110.0 \\\n    --hash=sha256:abc\nuvicorn[standard]>=0.29\nrequests ; python_version < \"3.12\"\n",
/// );
/// assert_eq!(includes, vec!["base.txt".to_string()]);
/// assert_eq!(findings.len(), 2); // uvicorn (>=) and requests (no version)
/// ```
pub fn requirements(file: &str, text: &str) -> (Vec<Finding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut includes = Vec::new();
    let mut logical = String::new();
    let mut start_line = 0;
    let lines: Vec<&str> = text.lines().collect();
    for (n, raw) in lines.iter().enumerate() {
        if logical.is_empty() {
            start_line = n + 1;
        }
        // A comment starts at `#` at the beginning or after whitespace.
        let mut line = *raw;
        if let Some(i) = line
            .char_indices()
            .find(|&(i, c)| c == '#' && (i == 0 || line[..i].ends_with([' ', '\t'])))
            .map(|(i, _)| i)
        {
            line = &line[..i];
        }
        if let Some(stripped) = line.trim_end().strip_suffix('\\') {
            logical.push_str(stripped);
            logical.push(' ');
            if n + 1 < lines.len() {
                continue;
            }
        } else {
            logical.push_str(line);
        }
        let entry = std::mem::take(&mut logical);
        if raw.contains(ALLOW_MARKER) {
            continue;
        }
        check_requirement(file, entry.trim(), start_line, &mut findings, &mut includes);
    }
    (findings, includes)
}

fn check_requirement(
    file: &str,
    entry: &str,
    line: usize,
    findings: &mut Vec<Finding>,
    includes: &mut Vec<String>,
) {
    if entry.is_empty() {
        return;
    }
    let mut unpinned = |package: &str, spec: &str| {
        findings.push(Finding::new(
            FindingKind::UnpinnedRequirement {
                package: package.to_owned(),
                spec: spec.to_owned(),
            },
            at(file, line),
        ));
    };
    if entry.starts_with('-') {
        let (opt, value) = match entry.split_once([' ', '=']) {
            Some((o, v)) => (o, v.trim()),
            None => (entry, ""),
        };
        match opt {
            "-r" | "--requirement" | "-c" | "--constraint" if !value.is_empty() => {
                includes.push(value.to_owned());
            }
            "-e" | "--editable" => {
                let local =
                    value.starts_with('.') || value.starts_with('/') || value.starts_with("file:");
                if !local && !url_pinned(value) {
                    unpinned(value, "editable VCS install without a commit");
                }
            }
            _ => {} // index and build options
        }
        return;
    }
    if entry.starts_with('.') || entry.starts_with('/') || entry.starts_with("file:") {
        return; // a local path
    }
    // Drop options after the requirement (`--hash=...`) and the environment marker.
    let req = entry.split(" --").next().unwrap_or(entry);
    let req = req.split(';').next().unwrap_or(req).trim();
    let name_len = req
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        .count();
    let name = &req[..name_len];
    let mut rest = req[name_len..].trim_start();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r).trim_start();
    }
    if name.is_empty() {
        unpinned(req, "unparseable requirement");
        return;
    }
    if let Some(url) = rest.strip_prefix('@') {
        if !url_pinned(url) {
            unpinned(name, url.trim());
        }
        return;
    }
    if rest.contains("://") {
        if !url_pinned(rest) {
            unpinned(name, rest);
        }
        return;
    }
    let spec = rest.trim_start_matches('(').trim_end_matches(')').trim();
    let clauses: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let pinned = clauses.len() == 1 && {
        let c = clauses[0];
        let v = c
            .strip_prefix("===")
            .or_else(|| c.strip_prefix("=="))
            .map(str::trim);
        v.is_some_and(|v| !v.is_empty() && !v.contains('*'))
    };
    if !pinned {
        unpinned(name, if spec.is_empty() { "no version" } else { spec });
    }
}

/// Lockfiles that pin a `package.json`'s dependency tree.
pub const NODE_LOCKFILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "bun.lock",
];

fn exact_semver(v: &str) -> bool {
    let v = v.trim().trim_start_matches('=').trim_start_matches('v');
    let core = v.split(['-', '+']).next().unwrap_or(v);
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn npm_spec_pinned(spec: &str) -> bool {
    let s = spec.trim();
    if exact_semver(s) {
        return true;
    }
    if s.starts_with("file:")
        || s.starts_with("link:")
        || s.starts_with("workspace:")
        || s.starts_with("portal:")
    {
        return true;
    }
    if let Some(alias) = s.strip_prefix("npm:") {
        return alias.rsplit_once('@').is_some_and(|(_, v)| exact_semver(v));
    }
    if s.contains("://") || s.starts_with("git") || s.contains('/') {
        if let Some((_, frag)) = s.split_once('#') {
            return frag.len() >= 7 && is_hex(frag);
        }
        let l = s.to_ascii_lowercase();
        return l.ends_with(".tgz") || l.ends_with(".tar.gz");
    }
    false
}

/// Check a `package.json`: `dependencies`, `devDependencies` and `optionalDependencies` must use exact
/// versions, unless a lockfile pins the tree (`locked`). `peerDependencies` are ranges by design and are
/// not checked. Malformed JSON is a blocking finding.
///
/// ```
/// use runway::preflight::scan::package_json;
///
/// let manifest = r#"{"dependencies": {"react": "18.2.0", "axios": "^1.6.0"}}"#;
/// assert_eq!(package_json("package.json", manifest, false).len(), 1);
/// assert!(package_json("package.json", manifest, true).is_empty());
/// ```
pub fn package_json(file: &str, text: &str, locked: bool) -> Vec<Finding> {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return vec![Finding::new(
                FindingKind::MalformedManifest {
                    reason: format!("not valid JSON at line {} column {}", e.line(), e.column()),
                },
                at(file, e.line()),
            )];
        }
    };
    let Some(obj) = value.as_object() else {
        return vec![Finding::new(
            FindingKind::MalformedManifest {
                reason: "the top level is not an object".into(),
            },
            at(file, 1),
        )];
    };
    if locked {
        return Vec::new();
    }
    let mut out = Vec::new();
    for section in ["dependencies", "devDependencies", "optionalDependencies"] {
        let Some(deps) = obj.get(section) else {
            continue;
        };
        let Some(deps) = deps.as_object() else {
            out.push(Finding::new(
                FindingKind::MalformedManifest {
                    reason: format!("{section} is not an object"),
                },
                at(file, 1),
            ));
            continue;
        };
        for (name, spec) in deps {
            let spec_s = spec.as_str().unwrap_or_default();
            if !npm_spec_pinned(spec_s) {
                let line = text
                    .lines()
                    .position(|l| l.contains(&format!("\"{name}\"")))
                    .map_or(1, |i| i + 1);
                out.push(Finding::new(
                    FindingKind::UnpinnedPackage {
                        package: name.clone(),
                        spec: spec_s.to_owned(),
                        section: section.to_owned(),
                    },
                    at(file, line),
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Alembic migrations
// ---------------------------------------------------------------------------------------------------------

/// Whether a path looks like an Alembic revision (`.../versions/<rev>.py` under `alembic/` or `migrations/`).
pub fn is_alembic_revision(file: &str) -> bool {
    let parts: Vec<&str> = file.split('/').collect();
    parts.len() >= 3
        && file.ends_with(".py")
        && parts[parts.len() - 2] == "versions"
        && parts[..parts.len() - 2]
            .iter()
            .any(|d| d.contains("alembic") || *d == "migrations")
        && !base_name(file).starts_with("__")
}

/// Check an Alembic revision for a real `downgrade()`: present, and not only `pass`, `...` or a docstring.
/// Files without `def upgrade(` are not revisions and pass.
///
/// ```
/// use runway::preflight::scan::alembic_downgrade;
///
/// let ok = "def upgrade():\n    op.add_column('users', sa.Column('phone', sa.String(20), nullable=True))\n\ndef downgrade():\n    op.drop_column('users', 'phone')\n";
/// assert!(alembic_downgrade("alembic/versions/a1_phone.py", ok).is_empty());
/// let empty = "def upgrade():\n    op.execute('SELECT 1')\n\ndef downgrade():\n    pass\n";
/// assert_eq!(alembic_downgrade("alembic/versions/b2.py", empty).len(), 1);
/// ```
pub fn alembic_downgrade(file: &str, text: &str) -> Vec<Finding> {
    if !text
        .lines()
        .any(|l| l.trim_start().starts_with("def upgrade("))
    {
        return Vec::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    let Some(def) = lines
        .iter()
        .position(|l| l.trim_start().starts_with("def downgrade("))
    else {
        return vec![Finding::new(
            FindingKind::AlembicWithoutDowngrade { empty: false },
            at(file, 1),
        )];
    };
    let indent = |l: &str| l.len() - l.trim_start().len();
    let def_indent = indent(lines[def]);
    let mut real = false;
    let mut in_doc: Option<&str> = None;
    for l in &lines[def + 1..] {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if indent(l) <= def_indent && in_doc.is_none() {
            break;
        }
        if let Some(q) = in_doc {
            if t.contains(q) {
                in_doc = None;
            }
            continue;
        }
        if t.starts_with('#') || t == "pass" || t == "..." {
            continue;
        }
        if let Some(q) = ["\"\"\"", "'''"].into_iter().find(|q| t.starts_with(q)) {
            if !(t.len() >= 6 && t[3..].contains(q)) {
                in_doc = Some(q);
            }
            continue;
        }
        real = true;
        break;
    }
    if real {
        Vec::new()
    } else {
        vec![Finding::new(
            FindingKind::AlembicWithoutDowngrade { empty: true },
            at(file, def + 1),
        )]
    }
}

// ---------------------------------------------------------------------------------------------------------
// Ignore patterns
// ---------------------------------------------------------------------------------------------------------

/// A small gitignore-style matcher (the repository's `.gitignore` and `.preflightignore`, plus defaults).
///
/// Supported: `#` comments, `*`, `?` and `**` globs, a trailing `/` for folders, patterns with a `/`
/// anchored at the repository root, patterns without one matched against every path component.
/// Negations (`!pattern`) are not supported and are ignored.
#[derive(Debug, Clone, Default)]
pub struct IgnoreSet {
    patterns: Vec<(String, bool, bool)>, // (glob, anchored, dir_only)
}

/// Folders and files never scanned.
pub const DEFAULT_IGNORES: &[&str] = &[
    ".git/",
    "node_modules/",
    "target/",
    ".venv/",
    "venv/",
    "__pycache__/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".tox/",
    "dist/",
    "build/",
    "coverage/",
    ".next/",
    "*.min.js",
    "*.map",
];

impl IgnoreSet {
    /// The defaults ([`DEFAULT_IGNORES`]).
    pub fn with_defaults() -> Self {
        let mut s = IgnoreSet::default();
        for p in DEFAULT_IGNORES {
            s.add(p);
        }
        s
    }

    /// Add every pattern of an ignore file's text.
    pub fn add_file(&mut self, text: &str) {
        for line in text.lines() {
            self.add(line);
        }
    }

    /// Add one pattern.
    pub fn add(&mut self, pattern: &str) {
        let p = pattern.trim();
        if p.is_empty() || p.starts_with('#') || p.starts_with('!') {
            return;
        }
        let dir_only = p.ends_with('/');
        let p = p.trim_end_matches('/');
        let anchored = p.contains('/');
        let p = p.trim_start_matches('/');
        if p.is_empty() {
            return;
        }
        self.patterns.push((p.to_owned(), anchored, dir_only));
    }

    /// Whether `path` (relative, `/`-separated) is ignored; `is_dir` says whether it is a folder.
    pub fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        let components: Vec<&str> = path.split('/').collect();
        self.patterns.iter().any(|(glob, anchored, dir_only)| {
            if *dir_only && !is_dir {
                return false;
            }
            if *anchored {
                glob_match(glob.as_bytes(), path.as_bytes())
            } else {
                components
                    .last()
                    .is_some_and(|c| glob_match(glob.as_bytes(), c.as_bytes()))
            }
        })
    }
}

/// Glob match: `*` (no `/`), `**` (anything), `?` (one non-`/` byte).
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    // Iterative matcher with backtracking for the most recent star.
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize, bool)> = None; // (pattern index after star, string index, double)
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            let double = p.get(pi + 1) == Some(&b'*');
            pi += if double { 2 } else { 1 };
            if double && p.get(pi) == Some(&b'/') {
                pi += 1;
            }
            star = Some((pi, si, double));
            continue;
        }
        if pi < p.len() && (p[pi] == s[si] || (p[pi] == b'?' && s[si] != b'/')) {
            pi += 1;
            si += 1;
            continue;
        }
        match star {
            Some((sp, ss, double)) if double || s[ss] != b'/' => {
                pi = sp;
                si = ss + 1;
                star = Some((sp, ss + 1, double));
            }
            _ => return false,
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(prefix: &str, body: &str) -> String {
        format!("{prefix}{body}")
    }

    #[test]
    fn aws_keys_and_example_key() {
        let key = fake("AKIA", "Q2W3E4R5T6Y7U8I9");
        let f = secrets(
            "a.py",
            &format!("k = '{key}'\nx = 'AKIAIOSFODNN7EXAMPLE'\n"),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].location.as_ref().map(|l| l.line), Some(1));
        let text = format!("{f:?}");
        assert!(!text.contains(&key), "{text}");
        assert!(text.contains("AKIA…[redacted, 20 chars]"), "{text}");
    }

    #[test]
    fn private_keys_webhooks_tokens() {
        let text = [
            fake("-----BEGIN RSA ", "PRIVATE KEY-----"),
            fake(
                "url = \"https://hooks.slack.com/services/",
                "T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx\"",
            ),
            fake("const t = 'xoxb-", "123456789012-abcdefABCDEF'"),
        ]
        .join("\n");
        let f = secrets("cfg.js", &text);
        let rules: Vec<SecretRule> = f
            .iter()
            .map(|f| match &f.kind {
                FindingKind::HardcodedSecret { rule, .. } => *rule,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            rules,
            vec![
                SecretRule::PrivateKey,
                SecretRule::SlackWebhook,
                SecretRule::SlackToken
            ]
        );
        assert!(!format!("{f:?}").contains("abcdefghijklmnopqrstuvwx"));
    }

    #[test]
    fn password_assignments_and_placeholders() {
        let hit = secrets("settings.py", "DB_PASSWORD = \"s3cr3t-Pa55\"\n");
        assert_eq!(hit.len(), 1);
        assert!(!format!("{hit:?}").contains("s3cr3t-Pa55"));
        for ok in [
            "password = os.environ['DB_PASSWORD']\n",
            "password = \"\"\n",
            "password = \"changeme\"\n",
            "password = \"${DB_PASSWORD}\"\n",
            "if password == \"hunter22\": pass\n",
            "DB_PASSWORD = \"s3cr3t-Pa55\"  # preflight:allow test fixture\n",
        ] {
            assert!(secrets("settings.py", ok).is_empty(), "{ok}");
        }
        // Bare values are literals only in config files.
        assert_eq!(secrets("config.ini", "password = hunter22\n").len(), 1);
        assert!(secrets("app.py", "password = get_password()\n").is_empty());
    }

    #[test]
    fn prose_and_match_arms_are_not_secrets() {
        assert!(secrets("lib.rs", "//! a `-----BEGIN ... PRIVATE KEY-----` block\n").is_empty());
        assert!(secrets("lib.rs", "    Rule::Token => \"token-assignment\",\n").is_empty());
        assert!(secrets("app.js", "const f = (api_key) => \"x7Yp2Qw9Lm\";\n").is_empty());
        assert_eq!(
            secrets("app.rb", "{ :api_key => \"x7Yp2Qw9Lm\" }\n").len(),
            1
        );
        let stub = "url = \"https://hooks.slack.com/services/T/B/x\"\n";
        assert!(secrets("config.rs", stub).is_empty());
        let header = fake("-----BEGIN OPENSSH ", "PRIVATE KEY-----");
        assert_eq!(secrets("id", &header).len(), 1);
    }

    #[test]
    fn high_entropy_needs_a_mixed_long_literal() {
        let tok = "q8ZkT2vR9xLm4PwN7bYc3HsJ6dFg1AeK"; // preflight:allow (a test token)
        let f = secrets("app.ts", &format!("const blob = \"{tok}\";\n"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, super::super::Severity::Warning);
        let f = secrets("app.ts", &format!("const apiKey = \"{tok}\";\n"));
        assert_eq!(f[0].severity, super::super::Severity::Error);
        assert!(
            secrets(
                "app.ts",
                "const sha = \"3f786850e387550fdab836ed7e6dc881de23001b\";\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn debug_statements_by_language() {
        let js = "console.log('x')\n// console.log('y')\ndebugger;\nlogger.info('console.log(')\n";
        let f = debug_statements("src/app.js", js);
        assert_eq!(f.len(), 3);
        assert!(debug_statements("src/app.test.js", "console.log(1)\n").is_empty());
        assert_eq!(debug_statements("src/app.test.js", "debugger;\n").len(), 1);
        let py = "breakpoint()\nimport pdb; pdb.set_trace()\npprint(x)\nself.print(x)\nprint(x)\n";
        let f = debug_statements("app/main.py", py);
        let rules: Vec<_> = f
            .iter()
            .map(|f| match f.kind {
                FindingKind::DebugStatement { rule, .. } => rule,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            rules,
            vec![DebugRule::Breakpoint, DebugRule::Pdb, DebugRule::Print]
        );
        assert!(debug_statements("scripts/seed.py", "print(x)\n").is_empty());
        assert!(debug_statements("README.md", "console.log(1)\n").is_empty());
    }

    #[test]
    fn requirements_rules() {
        let text = "# deps\nDjango==4.2.11\nflask===3.0.0\ncelery>=5\nredis\nnumpy==1.*\nrequests==2.31.0 ; python_version >= \"3.8\"\npkg @ git+https://github.com/o/r.git@0123456789abcdef0123456789abcdef01234567\nother @ git+https://github.com/o/r.git@main\n-e .\n-e git+https://github.com/o/r.git#egg=r\n--index-url https://pypi.org/simple\nboto3==1.34.0 \\\n  --hash=sha256:aa \\\n  --hash=sha256:bb\n";
        let (f, inc) = requirements("requirements.txt", text);
        assert!(inc.is_empty());
        let names: Vec<_> = f
            .iter()
            .map(|f| match &f.kind {
                FindingKind::UnpinnedRequirement { package, .. } => package.clone(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            names,
            vec![
                "celery",
                "redis",
                "numpy",
                "other",
                "git+https://github.com/o/r.git#egg=r"
            ]
        );
        assert_eq!(f[1].location.as_ref().unwrap().line, 5);
    }

    #[test]
    fn package_json_rules() {
        let text = r#"{
  "dependencies": {"a": "1.2.3", "b": "^1.0.0", "c": "~2.1.0", "d": "latest", "e": "file:../e",
                   "f": "git+https://github.com/o/f.git#0123456789abcdef", "g": "npm:h@2.0.0", "i": "1.x"},
  "devDependencies": {"j": ">=3"},
  "peerDependencies": {"react": "^18"}
}"#;
        let f = package_json("web/package.json", text, false);
        let names: Vec<_> = f
            .iter()
            .map(|f| match &f.kind {
                FindingKind::UnpinnedPackage { package, .. } => package.clone(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(names, vec!["b", "c", "d", "i", "j"]);
        assert!(package_json("package.json", text, true).is_empty());
        let bad = package_json("package.json", "{\"dependencies\": ", false);
        assert!(matches!(bad[0].kind, FindingKind::MalformedManifest { .. }));
    }

    #[test]
    fn alembic_rules() {
        let missing = "def upgrade():\n    op.create_table('x')\n";
        assert!(matches!(
            alembic_downgrade("alembic/versions/1.py", missing)[0].kind,
            FindingKind::AlembicWithoutDowngrade { empty: false }
        ));
        let doc = "def upgrade():\n    pass\n\ndef downgrade():\n    \"\"\"Nothing\n    to do.\"\"\"\n    # later\n\ndef other():\n    x = 1\n";
        assert_eq!(alembic_downgrade("alembic/versions/2.py", doc).len(), 1);
        assert!(is_alembic_revision("alembic/versions/2.py"));
        assert!(is_alembic_revision("app/migrations/versions/2.py"));
        assert!(!is_alembic_revision("app/versions/2.py"));
    }

    #[test]
    fn ignore_patterns() {
        let mut s = IgnoreSet::with_defaults();
        s.add_file("# c\n*.log\n/secrets/\ndocs/generated/**\n!keep.log\n");
        assert!(s.is_ignored("node_modules", true));
        assert!(s.is_ignored("web/node_modules", true));
        assert!(!s.is_ignored("node_modules", false));
        assert!(s.is_ignored("a/b/x.log", false));
        assert!(s.is_ignored("secrets", true));
        assert!(!s.is_ignored("app/secrets", true));
        assert!(s.is_ignored("docs/generated/a/b.md", false));
        assert!(!s.is_ignored("docs/guide.md", false));
        assert!(s.is_ignored("static/app.min.js", false));
        assert!(glob_match(b"a*c", b"abbc"));
        assert!(!glob_match(b"a*c", b"a/c"));
        assert!(glob_match(b"**/x", b"a/b/x"));
    }
}
