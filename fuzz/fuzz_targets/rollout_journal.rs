#![no_main]
//! Fuzz the rollout journal decoder (JSON lines) and the replay fold.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(decoded) = runway_rollout::decode_journal(text) {
            let _ = runway_rollout::replay(&decoded.events);
        }
    }
});
