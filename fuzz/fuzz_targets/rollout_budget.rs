#![no_main]
//! Fuzz the budget ("25%" / "3") and strategy name parsers.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(b) = text.parse::<runway_rollout::Budget>() {
            let _ = runway_rollout::resolve_budgets(b, b, 200);
        }
        let _ = text.parse::<runway_rollout::Strategy>();
    }
});
