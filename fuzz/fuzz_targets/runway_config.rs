#![no_main]
//! runway.toml decoding: malformed input is a typed error, never a panic, and never echoes a secret.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = runway::config::Config::from_toml_str(text) {
            assert_eq!(e.kind(), runway_core::ErrorKind::InvalidInput);
        }
    }
});
