//! Executing a validated document against JSON values with apollo-compiler's executor.
//!
//! Root fields are resolved by the fake's state into plain JSON; nested objects are served from that JSON,
//! typed by the schema, so responses contain exactly the fields the document selected.

use apollo_compiler::Schema;
use apollo_compiler::executable::Type;
use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::JsonValue;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use serde_json::Value;

/// Resolves one root field from its coerced arguments.
pub(crate) trait RootResolver {
    fn resolve(&self, field: &str, args: &Value) -> Result<Value, String>;
}

pub(crate) struct Root<'a> {
    pub(crate) type_name: &'a str,
    pub(crate) schema: &'a Valid<Schema>,
    pub(crate) resolver: &'a dyn RootResolver,
}

struct JsonObject<'a> {
    type_name: String,
    schema: &'a Valid<Schema>,
    value: Value,
}

fn to_apollo(v: Value) -> JsonValue {
    JsonValue::from(v)
}

fn from_apollo(v: &apollo_compiler::response::JsonMap) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn wrap<'a>(
    schema: &'a Valid<Schema>,
    ty: &Type,
    value: Value,
) -> Result<ResolvedValue<'a>, FieldError> {
    if value.is_null() {
        return Ok(ResolvedValue::null());
    }
    match ty {
        Type::List(inner) | Type::NonNullList(inner) => {
            let items = match value {
                Value::Array(items) => items,
                _ => {
                    return Err(FieldError {
                        message: "fake: expected a list".into(),
                    });
                }
            };
            let inner = (**inner).clone();
            Ok(ResolvedValue::List(Box::new(
                items
                    .into_iter()
                    .map(move |v| wrap(schema, &inner, v))
                    .collect::<Vec<_>>()
                    .into_iter(),
            )))
        }
        Type::Named(name) | Type::NonNullNamed(name) => match schema.types.get(name) {
            Some(ExtendedType::Object(_)) => Ok(ResolvedValue::object(JsonObject {
                type_name: name.to_string(),
                schema,
                value,
            })),
            Some(ExtendedType::Interface(_) | ExtendedType::Union(_)) => {
                let concrete = value
                    .get("__typename")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| FieldError {
                        message: "fake: abstract type without __typename".into(),
                    })?;
                Ok(ResolvedValue::object(JsonObject {
                    type_name: concrete,
                    schema,
                    value,
                }))
            }
            _ => Ok(ResolvedValue::leaf(to_apollo(value))),
        },
    }
}

/// Relay pagination of a nested connection (`first`, `after`; cursors are positions).
fn paginate(v: Value, args: &Value) -> Value {
    let first = args.get("first").and_then(Value::as_i64);
    let after = args
        .get("after")
        .and_then(Value::as_str)
        .and_then(|c| c.parse::<usize>().ok());
    let Value::Object(mut conn) = v else {
        return v;
    };
    let Some(Value::Array(edges)) = conn.get("edges").cloned() else {
        return Value::Object(conn);
    };
    if first.is_none() && after.is_none() {
        return Value::Object(conn);
    }
    let start = after.map_or(0, |a| a + 1);
    let take = first.map_or(usize::MAX, |f| f.max(0) as usize);
    let page: Vec<Value> = edges
        .iter()
        .enumerate()
        .skip(start)
        .take(take)
        .map(|(i, e)| {
            let mut e = e.clone();
            if let Some(o) = e.as_object_mut() {
                o.insert("cursor".into(), Value::String(i.to_string()));
            }
            e
        })
        .collect();
    let end = start + page.len();
    conn.insert(
        "pageInfo".into(),
        serde_json::json!({
            "hasNextPage": end < edges.len(),
            "hasPreviousPage": start > 0,
            "endCursor": if page.is_empty() { Value::Null } else { Value::String((end - 1).to_string()) },
            "startCursor": if page.is_empty() { Value::Null } else { Value::String(start.to_string()) },
        }),
    );
    conn.insert("edges".into(), Value::Array(page));
    Value::Object(conn)
}

impl ObjectValue for JsonObject<'_> {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let v = self
            .value
            .get(info.field_name())
            .cloned()
            .unwrap_or(Value::Null);
        let args = from_apollo(info.arguments());
        wrap(self.schema, &info.field_definition().ty, paginate(v, &args))
    }
}

impl ObjectValue for Root<'_> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let args = from_apollo(info.arguments());
        let v = self
            .resolver
            .resolve(info.field_name(), &args)
            .map_err(|message| FieldError { message })?;
        wrap(self.schema, &info.field_definition().ty, v)
    }
}
