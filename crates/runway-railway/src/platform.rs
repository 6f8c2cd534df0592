//! [`Platform`] for Railway: service instances are units.

use std::collections::HashSet;

use async_trait::async_trait;
use runway_core::{
    DeployOptions, Deployment, DeploymentId, DeploymentStatus, Environment, EnvironmentId,
    EnvironmentKind, Idempotency, ListDeployments, ListUnits, Platform, PlatformCapabilities,
    Release, Result, RollbackTarget, Service, ServiceId, ServiceRole, Unit, UnitId, UnitState,
};
use serde_json::json;

use crate::client::RailwayClient;
use crate::error::RailwayError;
use crate::ops;
use crate::unit::{parse_unit, unit_id};
use crate::wire::{self, RawDeployment, RawInstance};

fn role_for(name: &str) -> ServiceRole {
    let n = name.to_ascii_lowercase();
    if n.contains("postgres") || n.contains("mysql") || n == "db" || n.contains("database") {
        ServiceRole::Database
    } else if n.contains("redis") || n.contains("cache") {
        ServiceRole::Cache
    } else if n.contains("worker") || n.contains("celery") || n.contains("queue") {
        ServiceRole::Worker
    } else {
        ServiceRole::Web
    }
}

fn active(inst: &RawInstance) -> Option<&RawDeployment> {
    inst.active_deployments
        .iter()
        .find(|d| d.status == "SUCCESS")
        .or_else(|| inst.active_deployments.first())
}

fn to_unit(inst: &RawInstance) -> Result<Unit> {
    let latest = inst.latest_deployment.as_ref();
    let serving = active(inst);
    let latest_status = latest
        .map(|d| wire::map_status(&d.status))
        .transpose()
        .map_err(|e| e.into_error("units"))?;
    let state = match latest_status {
        None => UnitState::Pending,
        Some(DeploymentStatus::Succeeded) => UnitState::Running,
        Some(DeploymentStatus::Crashed) if serving.is_none() => UnitState::Crashed,
        Some(DeploymentStatus::Failed) if serving.is_none() => UnitState::Crashed,
        Some(DeploymentStatus::Sleeping) => UnitState::Stopped,
        Some(
            DeploymentStatus::Queued
            | DeploymentStatus::WaitingApproval
            | DeploymentStatus::Building
            | DeploymentStatus::Deploying,
        ) if serving.is_none() => UnitState::Starting,
        Some(_) if serving.is_some() => UnitState::Running,
        Some(_) => UnitState::Stopped,
    };
    // The release being run, or being rolled out when a deployment is in progress.
    let release = match latest_status {
        Some(s) if !s.is_terminal() || s == DeploymentStatus::Succeeded => {
            latest.and_then(RawDeployment::release)
        }
        _ => serving.and_then(RawDeployment::release),
    };
    Ok(Unit {
        id: unit_id(&inst.environment_id, &inst.service_id),
        name: inst.service_name.clone(),
        service: ServiceId::new(inst.service_id.clone()),
        environment: EnvironmentId::new(inst.environment_id.clone()),
        release,
        state,
        in_load_balancer: state == UnitState::Running,
        replicas: inst
            .num_replicas
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1)
            .max(1),
    })
}

impl RailwayClient {
    /// Every service instance of an environment (all pages).
    pub(crate) async fn instances(&self, env: &EnvironmentId) -> Result<Vec<RawInstance>> {
        let project = self.project_id().await.ok();
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data = self
                .call(
                    "units",
                    ops::ENVIRONMENT_INSTANCES,
                    json!({"id": env.as_str(), "projectId": project, "first": self.inner.page_size, "after": after}),
                    &[],
                    Idempotency::Idempotent,
                )
                .await?;
            let (page, next) = wire::decode_instances(&data).map_err(|e| e.into_error("units"))?;
            out.extend(page);
            match next {
                Some(c) if out.len() < 10_000 => after = Some(c),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn instance(&self, unit: &UnitId) -> Result<RawInstance> {
        let (env, svc) = parse_unit(unit).map_err(|e| e.into_error("unit"))?;
        let data = self
            .call(
                "unit",
                ops::SERVICE_INSTANCE,
                json!({"environmentId": env, "serviceId": svc}),
                &[],
                Idempotency::Idempotent,
            )
            .await?;
        wire::decode_instance(&data).map_err(|e| e.into_error("unit"))
    }

    pub(crate) async fn raw_deployment(&self, id: &str, op: &str) -> Result<RawDeployment> {
        let data = self
            .call(
                op,
                ops::DEPLOYMENT,
                json!({"id": id}),
                &[],
                Idempotency::Idempotent,
            )
            .await?;
        wire::decode_deployment(&data).map_err(|e| e.into_error(op.to_owned().as_str()))
    }

    /// Deployments of a unit, newest first, as Railway reports them.
    pub(crate) async fn raw_deployments(
        &self,
        unit: &UnitId,
        first: usize,
        op: &str,
    ) -> Result<Vec<RawDeployment>> {
        let (env, svc) = parse_unit(unit).map_err(|e| e.into_error(op))?;
        let project = self.project_id().await.ok();
        let data = self
            .call(
                op,
                ops::DEPLOYMENTS,
                json!({
                    "input": {"projectId": project, "environmentId": env, "serviceId": svc},
                    "first": first.clamp(1, 500) as i64,
                }),
                &[],
                Idempotency::Idempotent,
            )
            .await?;
        let mut list = wire::decode_deployments(&data).map_err(|e| e.into_error(op))?;
        list.sort_by_key(|d| std::cmp::Reverse(d.created_at));
        Ok(list)
    }

    /// After a mutation that returns only `true`, poll until the deployment it caused shows up: a deployment
    /// not in `before`, or (for a restart) `watch` with a newer status change.
    async fn await_new_deployment(
        &self,
        unit: &UnitId,
        before: &HashSet<String>,
        watch: Option<&RawDeployment>,
        operation: &'static str,
    ) -> Result<Deployment> {
        let start = tokio::time::Instant::now();
        loop {
            let list = self.raw_deployments(unit, 10, operation).await?;
            if let Some(d) = list.into_iter().find(|d| !before.contains(&d.id)) {
                return d.into_deployment().map_err(|e| e.into_error(operation));
            }
            if let Some(w) = watch {
                let now = self.raw_deployment(&w.id, operation).await?;
                if now.changed_at() > w.changed_at() || now.status != w.status {
                    return now.into_deployment().map_err(|e| e.into_error(operation));
                }
            }
            if start.elapsed() >= self.inner.poll_timeout {
                return Err(RailwayError::NotObserved {
                    operation,
                    waited: start.elapsed(),
                }
                .into_error(operation));
            }
            tokio::time::sleep(self.inner.poll_interval).await;
        }
    }

    /// The environment id for a name (`"production"`) or id, from the project's environments.
    pub async fn resolve_environment(&self, name_or_id: &str) -> Result<EnvironmentId> {
        let envs = self.environments().await?;
        envs.iter()
            .find(|e| e.id.as_str() == name_or_id)
            .or_else(|| {
                envs.iter()
                    .find(|e| e.name.eq_ignore_ascii_case(name_or_id))
            })
            .map(|e| e.id.clone())
            .ok_or_else(|| {
                RailwayError::NotFound(format!("environment {name_or_id:?} in the project"))
                    .into_error("environments")
            })
    }

    async fn rollback_target(&self, unit: &UnitId, to: &RollbackTarget) -> Result<RawDeployment> {
        let list = self.raw_deployments(unit, 50, "rollback").await?;
        let not_found = |what: String| RailwayError::NotFound(what).into_error("rollback");
        match to {
            RollbackTarget::Deployment(id) => list
                .into_iter()
                .find(|d| d.id == id.as_str())
                .ok_or_else(|| not_found(format!("deployment {id} of unit {unit}"))),
            RollbackTarget::Release(rel) => list
                .into_iter()
                .filter(|d| d.can_rollback)
                .find(|d| d.release().as_ref() == Some(rel))
                .ok_or_else(|| not_found(format!("a deployment of release {rel} to roll back to"))),
            RollbackTarget::Previous => {
                let mut iter = list.into_iter();
                let latest = iter
                    .next()
                    .ok_or_else(|| not_found(format!("deployments of unit {unit}")))?;
                let current = latest.release();
                iter.filter(|d| d.can_rollback)
                    .find(|d| d.release() != current || current.is_none())
                    .ok_or_else(|| not_found("an earlier deployment to roll back to".into()))
            }
            _ => {
                Err(RailwayError::Invalid("unsupported rollback target".into())
                    .into_error("rollback"))
            }
        }
    }
}

#[async_trait]
impl Platform for RailwayClient {
    fn name(&self) -> &str {
        "railway"
    }

    fn capabilities(&self) -> PlatformCapabilities {
        PlatformCapabilities::new(self.inner.model)
            .with_rollback(true)
            .with_restart(true)
    }

    async fn environments(&self) -> Result<Vec<Environment>> {
        let project = self.project_id().await?;
        let data = self
            .call(
                "environments",
                ops::PROJECT_ENVIRONMENTS,
                json!({"id": project}),
                &[],
                Idempotency::Idempotent,
            )
            .await?;
        let envs = wire::decode_environments(&data).map_err(|e| e.into_error("environments"))?;
        Ok(envs
            .into_iter()
            .map(|(id, name)| Environment {
                id: EnvironmentId::new(id),
                kind: EnvironmentKind::from_name(&name),
                name,
            })
            .collect())
    }

    async fn services(&self, env: &EnvironmentId) -> Result<Vec<Service>> {
        Ok(self
            .instances(env)
            .await?
            .into_iter()
            .map(|i| Service {
                id: ServiceId::new(i.service_id),
                role: role_for(&i.service_name),
                name: i.service_name,
                environment: env.clone(),
            })
            .collect())
    }

    async fn units(&self, env: &EnvironmentId, opts: &ListUnits) -> Result<Vec<Unit>> {
        let mut units = self
            .instances(env)
            .await?
            .iter()
            .filter(|i| {
                opts.service
                    .as_ref()
                    .is_none_or(|s| s.as_str() == i.service_id)
            })
            .map(to_unit)
            .collect::<Result<Vec<_>>>()?;
        units.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(units)
    }

    async fn unit(&self, unit: &UnitId) -> Result<Unit> {
        to_unit(&self.instance(unit).await?)
    }

    async fn deploy(
        &self,
        unit: &UnitId,
        release: &Release,
        opts: &DeployOptions,
    ) -> Result<Deployment> {
        let (env, svc) = parse_unit(unit).map_err(|e| e.into_error("deploy"))?;
        // Idempotency: a retried deploy of the same release whose deployment already exists returns it.
        if opts.idempotency_key.is_some()
            && let Some(latest) = self
                .raw_deployments(unit, 1, "deploy")
                .await?
                .into_iter()
                .next()
            && latest.release().as_ref() == Some(&release.id)
            && !wire::map_status(&latest.status)
                .map(|s| s.is_terminal() && s != DeploymentStatus::Succeeded)
                .unwrap_or(true)
        {
            return latest.into_deployment().map_err(|e| e.into_error("deploy"));
        }
        let commit = if let Some(image) = &release.image {
            self.call(
                "deploy",
                ops::SERVICE_INSTANCE_SET_IMAGE,
                json!({"environmentId": env, "serviceId": svc, "image": image}),
                &[],
                Idempotency::Idempotent,
            )
            .await
            .and_then(|d| {
                wire::decode_true(&d, "serviceInstanceUpdate").map_err(|e| e.into_error("deploy"))
            })?;
            None
        } else {
            Some(
                release
                    .commit
                    .clone()
                    .unwrap_or_else(|| release.id.to_string()),
            )
        };
        let data = self
            .call(
                "deploy",
                ops::SERVICE_INSTANCE_DEPLOY,
                json!({"environmentId": env, "serviceId": svc, "commitSha": commit}),
                &[],
                Idempotency::NonIdempotent,
            )
            .await?;
        let id = wire::decode_deploy_id(&data).map_err(|e| e.into_error("deploy"))?;
        self.deployment(&DeploymentId::new(id)).await
    }

    async fn deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        self.raw_deployment(id.as_str(), "deployment")
            .await?
            .into_deployment()
            .map_err(|e| e.into_error("deployment"))
    }

    async fn deployments(&self, unit: &UnitId, opts: &ListDeployments) -> Result<Vec<Deployment>> {
        self.raw_deployments(unit, opts.limit, "deployments")
            .await?
            .into_iter()
            .take(opts.limit)
            .map(|d| d.into_deployment().map_err(|e| e.into_error("deployments")))
            .collect()
    }

    async fn rollback(&self, unit: &UnitId, to: &RollbackTarget) -> Result<Deployment> {
        let target = self.rollback_target(unit, to).await?;
        let before: HashSet<String> = self
            .raw_deployments(unit, 10, "rollback")
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect();
        let data = self
            .call(
                "rollback",
                ops::DEPLOYMENT_ROLLBACK,
                json!({"id": target.id}),
                &[],
                Idempotency::NonIdempotent,
            )
            .await?;
        wire::decode_true(&data, "deploymentRollback").map_err(|e| e.into_error("rollback"))?;
        self.await_new_deployment(unit, &before, None, "rollback")
            .await
    }

    async fn restart(&self, unit: &UnitId) -> Result<Deployment> {
        let inst = self.instance(unit).await?;
        let target = active(&inst)
            .cloned()
            .or(inst.latest_deployment.clone())
            .ok_or_else(|| {
                RailwayError::NotFound(format!("a deployment of unit {unit} to restart"))
                    .into_error("restart")
            })?;
        let before: HashSet<String> = self
            .raw_deployments(unit, 10, "restart")
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect();
        let data = self
            .call(
                "restart",
                ops::DEPLOYMENT_RESTART,
                json!({"id": target.id}),
                &[],
                Idempotency::NonIdempotent,
            )
            .await?;
        wire::decode_true(&data, "deploymentRestart").map_err(|e| e.into_error("restart"))?;
        self.await_new_deployment(unit, &before, Some(&target), "restart")
            .await
    }
}
