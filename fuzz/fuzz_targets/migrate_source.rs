//! Fuzz the migration folder decoder: file names and contents -> `MigrationSource::from_files`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runway_migrate::{MigrationSource, SourceFile};

fuzz_target!(|data: &[u8]| {
    // Split the input into up to four (name, contents) files at 0xff bytes.
    let parts: Vec<&[u8]> = data.split(|b| *b == 0xff).take(8).collect();
    let files = parts.chunks(2).map(|c| SourceFile {
        file: String::from_utf8_lossy(c[0]).into_owned(),
        contents: c.get(1).map(|b| b.to_vec()).unwrap_or_default(),
        path: None,
    });
    let _ = MigrationSource::from_files(files);
});
