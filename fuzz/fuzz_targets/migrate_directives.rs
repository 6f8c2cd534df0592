//! Fuzz the leading-comment directive parser and the file name parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = runway_migrate::Directives::parse(text);
        let _ = runway_migrate::parse_file_name(text);
        let _ = runway_migrate::parse_duration(text);
    }
});
