#![no_main]
//! Redaction of statements read from `pg_stat_activity` and masking of log messages: never panic, bounded
//! output, and no string literal's contents survive.

use libfuzzer_sys::fuzz_target;
use runway::diagnose::analyze::{message_pattern, redact_sql};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let r = redact_sql(text);
    assert!(r.chars().count() <= 160);
    let inner: String = text
        .chars()
        .filter(|c| !matches!(c, '\'' | '$'))
        .take(100)
        .collect();
    if inner.trim().chars().count() >= 8 {
        let wrapped = redact_sql(&format!("SELECT '{inner}' AS x"));
        assert!(!wrapped.contains(inner.trim()), "{wrapped}");
    }
    assert!(message_pattern(text).chars().count() <= 120);
});
