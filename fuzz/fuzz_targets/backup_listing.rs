//! Fuzz the backup-listing parsers: storage keys (`backup_YYYYMMDD_HHMMSS[_N].dump`, manifests,
//! verification records) and `pg_restore --list` output.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = runway_backup::parse_listing(text.lines());
        if let Ok(id) = runway_backup::BackupId::parse(text) {
            assert_eq!(runway_backup::BackupId::parse(&id.to_string()).ok(), Some(id));
        }
        if let Ok(listing) = runway_backup::RestoreListing::parse(text) {
            let _ = listing.tables_with_data();
            let _ = listing.toc_entries();
        }
    }
});
