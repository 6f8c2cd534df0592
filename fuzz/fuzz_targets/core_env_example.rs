#![no_main]
//! `.env.example` parsing: typed errors only, and values never appear in an error.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match runway_core::EnvExample::parse(text) {
            Ok(ex) => {
                for name in ex.names() {
                    assert!(runway_core::validate_name(&name).is_ok());
                }
            }
            Err(e) => assert_eq!(e.kind(), &runway_core::ErrorKind::InvalidInput),
        }
    }
});
