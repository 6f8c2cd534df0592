#![no_main]
//! `package.json` checks and Alembic revision checks on arbitrary text: never panic, typed findings only.

use libfuzzer_sys::fuzz_target;
use runway::preflight::FindingKind;
use runway::preflight::scan::{alembic_downgrade, package_json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for locked in [false, true] {
        for f in package_json("package.json", text, locked) {
            assert!(matches!(
                f.kind,
                FindingKind::UnpinnedPackage { .. } | FindingKind::MalformedManifest { .. }
            ));
            assert!(!locked || matches!(f.kind, FindingKind::MalformedManifest { .. }));
        }
    }
    for f in alembic_downgrade("alembic/versions/x.py", text) {
        assert!(matches!(
            f.kind,
            FindingKind::AlembicWithoutDowngrade { .. }
        ));
    }
});
