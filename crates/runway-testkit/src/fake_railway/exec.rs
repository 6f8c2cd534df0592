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
        wrap(self.schema, &info.field_definition().ty, v)
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
