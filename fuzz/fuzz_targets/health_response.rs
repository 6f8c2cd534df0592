//! Fuzz the remote health-response parser (health+json and the runbook's shape).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = runway_health::parse_health_response(data) {
        // A parsed response always has a status, and remote text stays bounded.
        let _ = report.status.as_str();
        for entries in report.checks.values() {
            for e in entries {
                if let Some(o) = &e.output {
                    assert!(o.chars().count() <= runway_health::MAX_TEXT_CHARS);
                }
            }
        }
    }
});
