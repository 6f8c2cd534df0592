//! Parsing a remote service's health response, in health+json or the runbook's shape.
//!
//! The input is untrusted: it is bounded in size, every shape error is a typed [`ParseError`], and
//! free text from the remote side is kept only as data ([`RemoteComponent::output`]), truncated.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::status::Status;

/// The largest body [`parse_health_response`] accepts (1 MiB).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Remote strings kept in a parsed response are cut to this many characters.
pub const MAX_TEXT_CHARS: usize = 512;

/// Which shape a response had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// `application/health+json`: `checks` maps keys to arrays of objects.
    HealthJson,
    /// The runbook's: `checks` maps names to `"healthy"` or `"unhealthy: reason"` strings.
    Runbook,
}

/// A JSON value's type, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonType {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonType {
    fn of(v: &Value) -> JsonType {
        match v {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Bool,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonType::Null => "null",
            JsonType::Bool => "boolean",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        })
    }
}

/// Why a health response could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The body is larger than [`MAX_BODY_BYTES`].
    #[error("body of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The body is not JSON.
    #[error("not JSON (line {line}, column {column})")]
    NotJson {
        /// Where parsing stopped.
        line: usize,
        /// Where parsing stopped.
        column: usize,
    },
    /// The top-level value is not an object.
    #[error("expected a JSON object, found {found}")]
    NotAnObject {
        /// What was found.
        found: JsonType,
    },
    /// A required field is missing.
    #[error("missing field {path}")]
    Missing {
        /// The field's path (`status`, `checks.db[0].status`).
        path: String,
    },
    /// A field has the wrong type.
    #[error("{path}: expected {expected}, found {found}")]
    WrongType {
        /// The field's path.
        path: String,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: JsonType,
    },
    /// A status word is not one this parser knows.
    #[error("{path}: unknown status {value:?}")]
    UnknownStatus {
        /// The field's path.
        path: String,
        /// The word (truncated).
        value: String,
    },
}

/// One component entry of a remote response (one node of a health+json check, or a runbook entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteComponent {
    /// Its status, when it gave one (health+json makes it optional per entry).
    pub status: Option<Status>,
    /// `componentId`.
    pub component_id: Option<String>,
    /// `componentType`.
    pub component_type: Option<String>,
    /// `observedValue`, as sent.
    pub observed_value: Option<Value>,
    /// `observedUnit`.
    pub observed_unit: Option<String>,
    /// `time`, as sent.
    pub time: Option<String>,
    /// `output`, or the runbook's text after `unhealthy:` (truncated; remote free text: do not re-publish).
    pub output: Option<String>,
}

/// A parsed remote health response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteHealth {
    /// The overall status.
    pub status: Status,
    /// Which shape it had.
    pub shape: Shape,
    /// Components by key (health+json keys may be `component:measurement`).
    pub checks: BTreeMap<String, Vec<RemoteComponent>>,
    /// `version`.
    pub version: Option<String>,
    /// `releaseId`.
    pub release_id: Option<String>,
    /// `serviceId`.
    pub service_id: Option<String>,
    /// `output` (truncated remote text).
    pub output: Option<String>,
    /// `notes` (truncated remote text).
    pub notes: Vec<String>,
}

impl RemoteHealth {
    /// The worst status among the components, when any reported one.
    pub fn worst_component(&self) -> Option<Status> {
        self.checks
            .values()
            .flatten()
            .filter_map(|c| c.status)
            .max()
    }
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_TEXT_CHARS) {
        Some((i, _)) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

fn status_of(v: &Value, path: &str) -> Result<Status, ParseError> {
    match v {
        Value::String(s) => Status::parse(s).ok_or_else(|| ParseError::UnknownStatus {
            path: path.to_owned(),
            value: s.chars().take(64).collect(),
        }),
        other => Err(ParseError::WrongType {
            path: path.to_owned(),
            expected: "string",
            found: JsonType::of(other),
        }),
    }
}

fn opt_string(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, ParseError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(truncate(s))),
        Some(other) => Err(ParseError::WrongType {
            path: format!("{path}{key}"),
            expected: "string",
            found: JsonType::of(other),
        }),
    }
}

/// Parse a runbook-shape component string: `healthy`, `unhealthy`, or `unhealthy: reason`.
fn runbook_entry(s: &str, path: &str) -> Result<RemoteComponent, ParseError> {
    let (word, rest) = match s.split_once(':') {
        Some((w, r)) => (w, Some(r.trim())),
        None => (s, None),
    };
    let status = Status::parse(word).ok_or_else(|| ParseError::UnknownStatus {
        path: path.to_owned(),
        value: word.chars().take(64).collect(),
    })?;
    Ok(RemoteComponent {
        status: Some(status),
        component_id: None,
        component_type: None,
        observed_value: None,
        observed_unit: None,
        time: None,
        output: rest.filter(|r| !r.is_empty()).map(truncate),
    })
}

fn health_json_entry(v: &Value, path: &str) -> Result<RemoteComponent, ParseError> {
    let obj = v.as_object().ok_or(ParseError::WrongType {
        path: path.to_owned(),
        expected: "object",
        found: JsonType::of(v),
    })?;
    let prefix = format!("{path}.");
    let status = match obj.get("status") {
        None | Some(Value::Null) => None,
        Some(s) => Some(status_of(s, &format!("{prefix}status"))?),
    };
    let observed_value = obj
        .get("observedValue")
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Value::String(s) => Value::String(truncate(s)),
            Value::Number(_) | Value::Bool(_) => v.clone(),
            // Nested values are kept as their (bounded) JSON text.
            other => Value::String(truncate(&other.to_string())),
        });
    Ok(RemoteComponent {
        status,
        component_id: opt_string(obj, "componentId", &prefix)?,
        component_type: opt_string(obj, "componentType", &prefix)?,
        observed_value,
        observed_unit: opt_string(obj, "observedUnit", &prefix)?,
        time: opt_string(obj, "time", &prefix)?,
        output: opt_string(obj, "output", &prefix)?,
    })
}

/// Parse a health response body in either shape.
///
/// The shape is recognised per entry: a string is a runbook entry, an array (or a single object, as some
/// services send) is health+json. The response counts as [`Shape::Runbook`] when every entry is a string
/// and it has at least one, or when it has none and its status uses the runbook's words.
///
/// ```
/// use runway_health::{parse_health_response, Shape, Status};
///
/// let r = parse_health_response(br#"{"status":"unhealthy","checks":{"database":"healthy","redis":"unhealthy: Connection refused"}}"#).unwrap();
/// assert_eq!((r.status, r.shape), (Status::Fail, Shape::Runbook));
/// assert_eq!(r.checks["redis"][0].output.as_deref(), Some("Connection refused"));
///
/// let r = parse_health_response(br#"{"status":"warn","checks":{"db:responseTime":[{"status":"warn","observedValue":812,"observedUnit":"ms"}]}}"#).unwrap();
/// assert_eq!((r.status, r.shape), (Status::Warn, Shape::HealthJson));
///
/// assert!(parse_health_response(b"<html>502</html>").is_err());
/// ```
pub fn parse_health_response(body: &[u8]) -> Result<RemoteHealth, ParseError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ParseError::TooLarge {
            len: body.len(),
            max: MAX_BODY_BYTES,
        });
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| ParseError::NotJson {
        line: e.line(),
        column: e.column(),
    })?;
    parse_health_value(&value)
}

/// Parse an already decoded JSON value (see [`parse_health_response`]).
pub fn parse_health_value(value: &Value) -> Result<RemoteHealth, ParseError> {
    let obj = value.as_object().ok_or(ParseError::NotAnObject {
        found: JsonType::of(value),
    })?;
    let status_value = obj.get("status").ok_or_else(|| ParseError::Missing {
        path: "status".into(),
    })?;
    let status = status_of(status_value, "status")?;
    let runbook_word = status_value
        .as_str()
        .map(|s| {
            let s = s.trim();
            ["healthy", "unhealthy", "degraded"]
                .iter()
                .any(|w| w.eq_ignore_ascii_case(s))
        })
        .unwrap_or(false);

    let mut checks = BTreeMap::new();
    let mut strings = 0usize;
    let mut structured = 0usize;
    // health+json uses `checks`; Spring Boot uses `components` with the same per-entry objects.
    let checks_value = obj.get("checks").or_else(|| obj.get("components"));
    match checks_value {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, v) in map {
                let path = format!("checks.{}", truncate(key));
                let entries = match v {
                    Value::String(s) => {
                        strings += 1;
                        vec![runbook_entry(s, &path)?]
                    }
                    Value::Array(items) => {
                        structured += 1;
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| health_json_entry(item, &format!("{path}[{i}]")))
                            .collect::<Result<Vec<_>, _>>()?
                    }
                    Value::Object(_) => {
                        structured += 1;
                        vec![health_json_entry(v, &path)?]
                    }
                    other => {
                        return Err(ParseError::WrongType {
                            path,
                            expected: "string, array or object",
                            found: JsonType::of(other),
                        });
                    }
                };
                checks.insert(truncate(key), entries);
            }
        }
        Some(other) => {
            return Err(ParseError::WrongType {
                path: "checks".into(),
                expected: "object",
                found: JsonType::of(other),
            });
        }
    }
    let shape = if strings > 0 && structured == 0 || strings == 0 && structured == 0 && runbook_word
    {
        Shape::Runbook
    } else {
        Shape::HealthJson
    };
    let notes = match obj.get("notes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, n)| match n {
                Value::String(s) => Ok(truncate(s)),
                other => Err(ParseError::WrongType {
                    path: format!("notes[{i}]"),
                    expected: "string",
                    found: JsonType::of(other),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => {
            return Err(ParseError::WrongType {
                path: "notes".into(),
                expected: "array",
                found: JsonType::of(other),
            });
        }
    };
    Ok(RemoteHealth {
        status,
        shape,
        checks,
        version: opt_string(obj, "version", "")?,
        release_id: opt_string(obj, "releaseId", "")?,
        service_id: opt_string(obj, "serviceId", "")?,
        output: opt_string(obj, "output", "")?,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_both_shapes_and_spring() {
        let r = parse_health_response(
            br#"{"status":"healthy","checks":{"database":"healthy","redis":"healthy"}}"#,
        )
        .unwrap();
        assert_eq!(r.shape, Shape::Runbook);
        assert_eq!(r.status, Status::Pass);
        assert_eq!(r.worst_component(), Some(Status::Pass));

        let r = parse_health_response(
            br#"{"status":"pass","version":"1","releaseId":"abc","notes":["n"],
                "checks":{"db:connections":[{"componentId":"a","status":"pass","observedValue":3,"observedUnit":"connections","time":"2026-01-01T00:00:00Z"},{"status":"fail","output":"x"}]}}"#,
        )
        .unwrap();
        assert_eq!(r.shape, Shape::HealthJson);
        assert_eq!(r.checks["db:connections"].len(), 2);
        assert_eq!(r.worst_component(), Some(Status::Fail));
        assert_eq!(r.release_id.as_deref(), Some("abc"));

        let r = parse_health_response(
            br#"{"status":"DOWN","components":{"db":{"status":"DOWN"},"ping":{"status":"UP"}}}"#,
        )
        .unwrap();
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.shape, Shape::HealthJson);
    }

    #[test]
    fn typed_errors() {
        assert!(matches!(
            parse_health_response(b"{\"status\":"),
            Err(ParseError::NotJson { .. })
        ));
        assert_eq!(
            parse_health_response(b"[1]"),
            Err(ParseError::NotAnObject {
                found: JsonType::Array
            })
        );
        assert_eq!(
            parse_health_response(b"{}"),
            Err(ParseError::Missing {
                path: "status".into()
            })
        );
        assert!(matches!(
            parse_health_response(br#"{"status":"meh"}"#),
            Err(ParseError::UnknownStatus { .. })
        ));
        assert_eq!(
            parse_health_response(br#"{"status":"pass","checks":{"db":[{"status":7}]}}"#),
            Err(ParseError::WrongType {
                path: "checks.db[0].status".into(),
                expected: "string",
                found: JsonType::Number
            })
        );
        assert!(matches!(
            parse_health_response(&vec![b' '; MAX_BODY_BYTES + 1]),
            Err(ParseError::TooLarge { .. })
        ));
    }

    #[test]
    fn remote_text_is_truncated() {
        let long = "x".repeat(5000);
        let body = format!(r#"{{"status":"unhealthy","checks":{{"db":"unhealthy: {long}"}}}}"#);
        let r = parse_health_response(body.as_bytes()).unwrap();
        assert_eq!(
            r.checks["db"][0].output.as_ref().unwrap().chars().count(),
            MAX_TEXT_CHARS
        );
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            prop_oneof![
                Just("pass".to_owned()),
                Just("healthy".to_owned()),
                Just("unhealthy: boom".to_owned()),
                Just("warn".to_owned()),
                ".{0,12}"
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("status".to_owned()),
                        Just("checks".to_owned()),
                        Just("output".to_owned()),
                        Just("notes".to_owned()),
                        Just("observedValue".to_owned()),
                        "[a-z:]{1,8}"
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            // Any outcome is fine as long as it is a value or a typed error.
            match parse_health_response(&bytes) {
                Ok(r) => prop_assert!(r.checks.len() <= bytes.len()),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }

        #[test]
        fn arbitrary_json_never_panics(v in arb_json()) {
            let text = serde_json::to_vec(&v).unwrap();
            match parse_health_response(&text) {
                Ok(r) => {
                    // The overall status always comes from the top-level `status` field.
                    let word = v.get("status").and_then(Value::as_str).unwrap();
                    prop_assert_eq!(Some(r.status), Status::parse(word));
                }
                Err(e) => {
                    let typed = matches!(
                        e,
                        ParseError::NotAnObject { .. }
                            | ParseError::Missing { .. }
                            | ParseError::WrongType { .. }
                            | ParseError::UnknownStatus { .. }
                    );
                    prop_assert!(typed, "unexpected error {:?}", e);
                }
            }
        }
    }
}
