//! Output formats: human text, JSON, and SARIF 2.1.0 (for code-scanning UIs).

use serde_json::{Value, json};

use super::finding::{Report, RuleId, Severity};

/// One line per finding (`file:line:column: severity[rule] message`), its safe alternative, and a summary.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&f.to_string());
        out.push('\n');
    }
    out.push_str(&format!(
        "{} error(s), {} warning(s), {} suppressed; {} file(s), {} statement(s)\n",
        report.errors(),
        report.warnings(),
        report.suppressed,
        report.files,
        report.statements
    ));
    out
}

/// The report as pretty JSON: `{"findings": [...], "errors": n, "warnings": n, ...}`.
pub fn render_json(report: &Report) -> String {
    let v = json!({
        "findings": report.findings,
        "errors": report.errors(),
        "warnings": report.warnings(),
        "suppressed": report.suppressed,
        "files": report.files,
        "statements": report.statements,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for ch in path.chars() {
        match ch {
            '\\' => out.push('/'),
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            c => out.push(c),
        }
    }
    out
}

/// The report as a SARIF 2.1.0 log with one run; every rule is described in `tool.driver.rules`, and each
/// result carries the safe alternative in its message and in `properties.alternative`.
pub fn render_sarif(report: &Report) -> String {
    let rules: Vec<Value> = RuleId::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.as_str(),
                "name": r.as_str(),
                "shortDescription": { "text": r.summary() },
                "defaultConfiguration": { "level": level(r.default_severity()) },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = RuleId::ALL.iter().position(|r| *r == f.rule).unwrap_or(0);
            json!({
                "ruleId": f.rule.as_str(),
                "ruleIndex": index,
                "level": level(f.severity),
                "message": { "text": format!("{}\nSafe alternative: {}", f.message, f.alternative) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.file) },
                        "region": { "startLine": f.line, "startColumn": f.column }
                    }
                }],
                "properties": { "alternative": f.alternative, "table": f.table },
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "runway-lint",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}
