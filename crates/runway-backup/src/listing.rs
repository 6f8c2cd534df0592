//! A parser for `pg_restore --list` output: the archive's table of contents.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::BackupError;

/// One table-of-contents entry (`215; 1259 16385 TABLE public users postgres`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocEntry {
    /// The dump id (first column).
    pub dump_id: u64,
    /// The catalog OID of the object's kind.
    pub catalog_oid: u64,
    /// The object's OID.
    pub oid: u64,
    /// The rest of the line: description, schema, name and owner, space separated.
    pub rest: String,
}

impl TocEntry {
    /// For a `TABLE DATA` entry, its `schema.table`.
    pub fn table_data(&self) -> Option<String> {
        let rest = self.rest.strip_prefix("TABLE DATA ")?;
        let mut tokens: Vec<&str> = rest.split(' ').collect();
        if tokens.len() < 3 {
            return None;
        }
        tokens.pop(); // owner
        let schema = tokens.remove(0);
        Some(format!("{schema}.{}", tokens.join(" ")))
    }
}

/// The parsed output of `pg_restore --list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreListing {
    /// Header fields (`dbname`, `TOC Entries`, `Format`, `Dumped by pg_dump version`, ...).
    pub header: BTreeMap<String, String>,
    /// Every entry, in archive order.
    pub entries: Vec<TocEntry>,
}

/// Largest listing accepted (64 MiB).
pub const MAX_LISTING_BYTES: usize = 64 << 20;

impl RestoreListing {
    /// Parse `pg_restore --list` output.
    ///
    /// ```
    /// let text = ";\n;     Format: CUSTOM\n;\n215; 1259 16385 TABLE public users postgres\n\
    ///             3320; 0 16385 TABLE DATA public users postgres\n";
    /// let listing = runway_backup::RestoreListing::parse(text).unwrap();
    /// assert_eq!(listing.format(), Some("CUSTOM"));
    /// assert!(listing.tables_with_data().contains("public.users"));
    /// ```
    pub fn parse(text: &str) -> Result<RestoreListing, BackupError> {
        if text.len() > MAX_LISTING_BYTES {
            return Err(BackupError::InvalidListing {
                line: 0,
                reason: "listing too large",
            });
        }
        let mut out = RestoreListing::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            let bad = |reason| BackupError::InvalidListing {
                line: i + 1,
                reason,
            };
            if line.trim().is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix(';') {
                if let Some((k, v)) = comment.split_once(':') {
                    let k = k.trim();
                    if !k.is_empty() && !k.contains(' ') || matches_header_key(k) {
                        out.header.insert(k.to_string(), v.trim().to_string());
                    }
                }
                continue;
            }
            let (id, rest) = line.split_once(';').ok_or_else(|| bad("expected `id;`"))?;
            let dump_id = id
                .trim()
                .parse()
                .map_err(|_| bad("dump id is not a number"))?;
            let mut parts = rest.trim_start().splitn(3, ' ');
            let catalog_oid = parts
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("catalog oid is not a number"))?;
            let oid = parts
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("oid is not a number"))?;
            let rest = parts
                .next()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad("missing description"))?;
            out.entries.push(TocEntry {
                dump_id,
                catalog_oid,
                oid,
                rest: rest.to_string(),
            });
        }
        if out.entries.is_empty() && out.header.is_empty() {
            return Err(BackupError::InvalidListing {
                line: 0,
                reason: "no header and no entries",
            });
        }
        Ok(out)
    }

    /// The archive format (`CUSTOM`, `DIRECTORY`, `TAR`), from the header.
    pub fn format(&self) -> Option<&str> {
        self.header.get("Format").map(String::as_str)
    }

    /// The `TOC Entries` header count.
    pub fn toc_entries(&self) -> Option<u64> {
        self.header.get("TOC Entries").and_then(|s| s.parse().ok())
    }

    /// Every table whose data the archive holds, as `schema.table`.
    pub fn tables_with_data(&self) -> BTreeSet<String> {
        self.entries
            .iter()
            .filter_map(TocEntry::table_data)
            .collect()
    }
}

fn matches_header_key(k: &str) -> bool {
    matches!(
        k,
        "TOC Entries"
            | "Dump Version"
            | "Archive created at"
            | "Dumped from database version"
            | "Dumped by pg_dump version"
    ) || k.starts_with("Archive created at")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = ";
; Archive created at 2026-01-15 10:30:00 UTC
;     dbname: app
;     TOC Entries: 9
;     Compression: gzip
;     Dump Version: 1.14-0
;     Format: CUSTOM
;     Integer: 4 bytes
;     Offset: 8 bytes
;     Dumped from database version: 15.10 (Debian 15.10-0+deb12u1)
;     Dumped by pg_dump version: 15.10 (Debian 15.10-0+deb12u1)
;
;
; Selected TOC Entries:
;
215; 1259 16385 TABLE public users postgres
216; 1259 16390 TABLE public order items postgres
3320; 0 16385 TABLE DATA public users postgres
3321; 0 16390 TABLE DATA public order items postgres
3170; 2606 16389 CONSTRAINT public users users_pkey postgres
";

    #[test]
    fn parses_a_real_shape() {
        let l = RestoreListing::parse(SAMPLE).unwrap();
        assert_eq!(l.format(), Some("CUSTOM"));
        assert_eq!(l.toc_entries(), Some(9));
        assert_eq!(l.header.get("dbname").map(String::as_str), Some("app"));
        assert_eq!(l.entries.len(), 5);
        let tables = l.tables_with_data();
        assert!(tables.contains("public.users"));
        assert!(tables.contains("public.order items"));
        assert_eq!(tables.len(), 2);
    }

    #[test]
    fn rejects_garbage_with_line_numbers() {
        let err = RestoreListing::parse(";\nnot an entry\n").unwrap_err();
        assert!(matches!(err, BackupError::InvalidListing { line: 2, .. }));
        assert!(matches!(
            RestoreListing::parse(""),
            Err(BackupError::InvalidListing { line: 0, .. })
        ));
        assert!(RestoreListing::parse("12; x 3 TABLE a b c").is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "(?s).{0,400}") {
            if let Err(e) = RestoreListing::parse(&s) {
                prop_assert!(matches!(e, BackupError::InvalidListing { .. }), "unexpected error {}", e);
            }
        }

        #[test]
        fn arbitrary_entry_lines_never_panic(lines in proptest::collection::vec("[0-9]{0,4}; ?[0-9 ]{0,6}[A-Z a-z]{0,20}", 0..20)) {
            let text = lines.join("\n");
            if let Ok(l) = RestoreListing::parse(&text) {
                let _ = l.tables_with_data();
            }
        }
    }
}
