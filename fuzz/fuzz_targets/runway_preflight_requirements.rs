#![no_main]
//! `requirements*.txt` parsing on arbitrary text: never panics; findings are unpinned requirements only.

use libfuzzer_sys::fuzz_target;
use runway::preflight::FindingKind;
use runway::preflight::scan::requirements;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (findings, includes) = requirements("requirements.txt", text);
    for f in findings {
        assert!(matches!(f.kind, FindingKind::UnpinnedRequirement { .. }));
    }
    for inc in includes {
        assert!(!inc.is_empty());
    }
});
