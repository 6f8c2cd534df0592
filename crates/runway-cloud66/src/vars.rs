//! [`VariableStore`] for Cloud66: stack environment variables with an apply strategy.

use std::collections::BTreeSet;

use async_trait::async_trait;
use reqwest::Method;
use runway_core::{
    ApplyStrategy, ErrorKind, Idempotency, Result, SetOptions, VariableCapabilities, VariableScope,
    VariableStore, Variables, validate_name,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::client::{Cloud66Client, seg};
use crate::error::Cloud66Error;
use crate::wire::{self, AsyncAction, EnvVar};

fn strategy(opts: &SetOptions) -> &'static str {
    match opts.apply {
        ApplyStrategy::Immediately => "immediately",
        ApplyStrategy::NextDeploy => "deployment",
    }
}

fn stack_of(scope: &VariableScope, op: &str) -> Result<String> {
    if scope.service.is_some() {
        return Err(Cloud66Error::Unsupported("per-service environment variables").into_error(op));
    }
    Ok(scope.environment.to_string())
}

impl Cloud66Client {
    /// A stack's environment variables as Cloud66 lists them (values hidden from `Debug`).
    pub async fn raw_vars(&self, stack: &str, op: &str) -> Result<Vec<EnvVar>> {
        self.get_all(op, &format!("/stacks/{}/environments.json", seg(stack)))
            .await
    }

    async fn write_var(
        &self,
        stack: &str,
        method: Method,
        path: String,
        body: serde_json::Value,
        op: &str,
    ) -> Result<()> {
        let out = self
            .send(op, method, &path, &[], Some(&body), Idempotency::Idempotent)
            .await?;
        // Writes answer with an async action; wait for it so a following read sees the change.
        match wire::decode_envelope::<AsyncAction>(&out.0) {
            Ok((a, _)) => self.wait_action(stack, a.id).await.map(|_| ()),
            Err(_) => Ok(()),
        }
    }
}

#[async_trait]
impl VariableStore for Cloud66Client {
    fn capabilities(&self) -> VariableCapabilities {
        VariableCapabilities::new(true, false)
    }

    async fn list(&self, scope: &VariableScope) -> Result<Variables> {
        let stack = stack_of(scope, "variables.list")?;
        let vars: Vec<EnvVar> = self
            .get_all(
                "variables.list",
                &format!("/stacks/{}/environments.json", seg(&stack)),
            )
            .await?;
        Ok(vars
            .into_iter()
            .map(|v| (v.key, SecretString::from(v.value.unwrap_or_default())))
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
        let stack = stack_of(scope, "variables.set")?;
        let put = self
            .write_var(
                &stack,
                Method::PUT,
                format!("/stacks/{}/environments/{}.json", seg(&stack), seg(name)),
                json!({ "value": value.expose_secret(), "apply_strategy": strategy(opts) }),
                "variables.set",
            )
            .await;
        match put {
            Err(e) if e.kind() == &ErrorKind::NotFound => {
                self.write_var(
                    &stack,
                    Method::POST,
                    format!("/stacks/{}/environments.json", seg(&stack)),
                    json!({ "key": name, "value": value.expose_secret(), "apply_strategy": strategy(opts) }),
                    "variables.set",
                )
                .await
            }
            other => other,
        }
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
        // Replacing keeps Cloud66's readonly (generated) variables: the API refuses to delete them.
        let existing: BTreeSet<String> = if opts.replace {
            let stack = stack_of(scope, "variables.set_many")?;
            self.raw_vars(&stack, "variables.set_many")
                .await?
                .into_iter()
                .filter(|v| v.readonly != Some(true))
                .map(|v| v.key)
                .collect()
        } else {
            BTreeSet::new()
        };
        for (name, value) in &vars {
            self.set(scope, name, value.clone(), opts).await?;
        }
        for name in existing.iter().filter(|n| !vars.contains_key(*n)) {
            self.delete(scope, name, opts).await?;
        }
        Ok(())
    }

    async fn delete(&self, scope: &VariableScope, name: &str, opts: &SetOptions) -> Result<()> {
        validate_name(name)?;
        let stack = stack_of(scope, "variables.delete")?;
        match self
            .write_var(
                &stack,
                Method::DELETE,
                format!("/stacks/{}/environments/{}.json", seg(&stack), seg(name)),
                json!({ "apply_strategy": strategy(opts) }),
                "variables.delete",
            )
            .await
        {
            Err(e) if e.kind() == &ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}
