//! Fuzz the migration linter's entry point: arbitrary SQL text (and a downgrade) must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runway_migrate::lint::{Linter, Migration, MigrationSet, render_sarif};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (up, down) = match text.split_once("\n--down--\n") {
        Some((u, d)) => (u.to_string(), Some(d.to_string())),
        None => (text.to_string(), None),
    };
    let linter = Linter::default();
    let _ = linter.lint_sql("fuzz.sql", &up);
    let mut m = Migration::new("1", "fuzz", "1_fuzz.up.sql", up);
    if let Some(d) = down {
        m = m.with_down("1_fuzz.down.sql", d);
    }
    if let Ok(set) = MigrationSet::new(vec![m]) {
        let _ = render_sarif(&linter.lint_set(&set));
    }
});
