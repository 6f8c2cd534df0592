//! Loading Railway's real introspection schema and validating documents against it.

use std::sync::OnceLock;

use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use cynic_introspection::IntrospectionQuery;

/// The introspection result shipped with this crate (a copy of Railway's `schema.json`).
const INTROSPECTION: &str = include_str!("../../railway-schema.json");

static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
static SDL: OnceLock<String> = OnceLock::new();

/// Railway's schema as SDL, converted from the introspection JSON with cynic-introspection.
///
/// The introspection result has one known quirk: `Team.id` carries a deprecation that `Node.id` lacks, which
/// some validators reject; the SDL conversion keeps it and apollo-compiler accepts it.
pub fn sdl() -> &'static str {
    SDL.get_or_init(|| {
        let json: serde_json::Value =
            serde_json::from_str(INTROSPECTION).expect("railway-schema.json is JSON");
        let data = json.get("data").cloned().unwrap_or(json);
        let query: IntrospectionQuery =
            serde_json::from_value(data).expect("railway-schema.json is an introspection result");
        query
            .into_schema()
            .expect("introspection result converts to a schema")
            .to_sdl()
    })
}

/// Railway's real schema, parsed and validated once per process.
pub fn schema() -> &'static Valid<Schema> {
    SCHEMA.get_or_init(|| {
        Schema::parse_and_validate(sdl(), "railway.graphql")
            .unwrap_or_else(|e| panic!("Railway schema does not validate: {}", e.errors))
    })
}

/// Validate one GraphQL document against Railway's schema.
///
/// Returns the validated document, or every validation message (as Railway would put them in `errors[]`).
pub fn validate_document(document: &str) -> Result<Valid<ExecutableDocument>, Vec<String>> {
    ExecutableDocument::parse_and_validate(schema(), document, "operation.graphql").map_err(|e| {
        e.errors
            .iter()
            .map(|d| d.error.to_string())
            .collect::<Vec<_>>()
    })
}
