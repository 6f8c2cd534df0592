//! [`VariableStore`] for Railway: `variables`, `variableUpsert`, `variableCollectionUpsert`, `variableDelete`.

use async_trait::async_trait;
use runway_core::{
    ApplyStrategy, Idempotency, Result, SetOptions, VariableCapabilities, VariableScope,
    VariableStore, Variables, validate_name,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use crate::client::RailwayClient;
use crate::ops;
use crate::wire;

impl RailwayClient {
    async fn scope_json(&self, scope: &VariableScope) -> Result<Map<String, Value>> {
        let project = self.project_id().await?;
        let mut m = Map::new();
        m.insert("projectId".into(), json!(project));
        m.insert("environmentId".into(), json!(scope.environment.as_str()));
        if let Some(s) = &scope.service {
            m.insert("serviceId".into(), json!(s.as_str()));
        }
        Ok(m)
    }
}

fn skip_deploys(opts: &SetOptions) -> bool {
    opts.apply == ApplyStrategy::NextDeploy
}

#[async_trait]
impl VariableStore for RailwayClient {
    fn capabilities(&self) -> VariableCapabilities {
        VariableCapabilities::new(true, true)
    }

    async fn list(&self, scope: &VariableScope) -> Result<Variables> {
        let mut vars = self.scope_json(scope).await?;
        vars.insert("unrendered".into(), json!(self.inner.unrendered));
        let vars = Value::Object(vars);
        let data = self
            .call(
                "variables.list",
                ops::VARIABLES,
                vars,
                &[],
                Idempotency::Idempotent,
            )
            .await?;
        let map = wire::decode_variables(&data).map_err(|e| e.into_error("variables.list"))?;
        Ok(map
            .into_iter()
            .map(|(k, v)| (k, SecretString::from(v)))
            .collect())
    }

    async fn set(
        &self,
        scope: &VariableScope,
        name: &str,
        value: SecretString,
        opts: &SetOptions,
    ) -> Result<()> {
        validate_name(name)?;
        let mut input = self.scope_json(scope).await?;
        input.insert("name".into(), json!(name));
        input.insert("value".into(), json!(value.expose_secret()));
        input.insert("skipDeploys".into(), json!(skip_deploys(opts)));
        let data = self
            .call(
                "variables.set",
                ops::VARIABLE_UPSERT,
                json!({ "input": input }),
                &[value.expose_secret()],
                Idempotency::Idempotent,
            )
            .await?;
        wire::decode_true(&data, "variableUpsert").map_err(|e| e.into_error("variables.set"))
    }

    async fn set_many(
        &self,
        scope: &VariableScope,
        vars: Variables,
        opts: &SetOptions,
    ) -> Result<()> {
        for name in vars.keys() {
            validate_name(name)?;
        }
        let mut input = self.scope_json(scope).await?;
        let map: Map<String, Value> = vars
            .iter()
            .map(|(k, v)| (k.clone(), json!(v.expose_secret())))
            .collect();
        input.insert("variables".into(), Value::Object(map));
        input.insert("replace".into(), json!(opts.replace));
        input.insert("skipDeploys".into(), json!(skip_deploys(opts)));
        let secrets: Vec<&str> = vars.values().map(|v| v.expose_secret()).collect();
        let data = self
            .call(
                "variables.set_many",
                ops::VARIABLE_COLLECTION_UPSERT,
                json!({ "input": input }),
                &secrets,
                Idempotency::Idempotent,
            )
            .await?;
        wire::decode_true(&data, "variableCollectionUpsert")
            .map_err(|e| e.into_error("variables.set_many"))
    }

    async fn delete(&self, scope: &VariableScope, name: &str, _opts: &SetOptions) -> Result<()> {
        validate_name(name)?;
        let mut input = self.scope_json(scope).await?;
        input.insert("name".into(), json!(name));
        let result = self
            .call(
                "variables.delete",
                ops::VARIABLE_DELETE,
                json!({ "input": input }),
                &[],
                Idempotency::Idempotent,
            )
            .await;
        match result {
            Ok(data) => wire::decode_true(&data, "variableDelete")
                .map_err(|e| e.into_error("variables.delete")),
            // Deleting an unset variable is not an error.
            Err(e) if e.kind() == &runway_core::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}
