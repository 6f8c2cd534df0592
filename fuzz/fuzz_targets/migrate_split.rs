//! Fuzz the statement splitter used for no-transaction migrations.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for s in runway_migrate::split_statements(text) {
            assert!(!s.is_empty());
            let _ = runway_migrate::non_transactional(s);
        }
        let _ = runway_migrate::is_terminated(text);
    }
});
