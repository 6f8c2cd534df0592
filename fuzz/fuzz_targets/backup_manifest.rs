//! Fuzz the backup manifest and verification record decoders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = runway_backup::Manifest::from_json(data) {
        // A decoded manifest is valid and round-trips.
        assert!(m.validate().is_ok());
        assert_eq!(runway_backup::Manifest::from_json(&m.to_json()).ok(), Some(m));
    }
    let _ = runway_backup::Verification::from_json(data);
});
