#![no_main]
//! The preflight secret and debug-statement scanners on arbitrary file contents: never panic, every secret
//! finding is redacted, every finding points at a line of the input.

use libfuzzer_sys::fuzz_target;
use runway::preflight::FindingKind;
use runway::preflight::scan::{debug_statements, secrets};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count() as u32;
    for file in [
        "app/settings.py",
        "web/src/app.js",
        "config.ini",
        ".env",
        "tests/test_x.py",
    ] {
        for f in secrets(file, text) {
            let FindingKind::HardcodedSecret { preview, .. } = &f.kind else {
                panic!("unexpected kind")
            };
            assert!(preview.contains("redacted"), "{preview}");
            assert!(
                f.location
                    .as_ref()
                    .is_some_and(|l| l.line >= 1 && l.line <= lines)
            );
        }
        for f in debug_statements(file, text) {
            assert!(
                f.location
                    .as_ref()
                    .is_some_and(|l| l.line >= 1 && l.line <= lines)
            );
        }
    }
});
