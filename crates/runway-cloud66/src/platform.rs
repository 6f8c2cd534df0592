//! [`Platform`] for Cloud66: stacks are environments and (delegated) units.

use async_trait::async_trait;
use chrono::Utc;
use reqwest::Method;
use runway_core::{
    ControlModel, DeployOptions, Deployment, DeploymentId, DeploymentStatus, Environment,
    EnvironmentId, EnvironmentKind, Idempotency, ListDeployments, ListUnits, Platform,
    PlatformCapabilities, Release, ReleaseId, Result, RollbackTarget, Service, ServiceId,
    ServiceRole, Unit, UnitId, UnitState,
};
use serde_json::json;

use crate::client::{Cloud66Client, seg};
use crate::error::Cloud66Error;
use crate::ids::{DeploymentRef, UnitRef, parse_deployment, parse_unit};
use crate::wire::{self, AsyncAction, RedeployResponse, Stack, StackDeployment, StackService};

/// Map a stack deployment record to a status: running, success (outcome 1), anything else failed.
pub fn deployment_status(d: &StackDeployment) -> DeploymentStatus {
    if d.is_deploying == Some(true) || (d.finished_at.is_none() && d.outcome.is_none()) {
        DeploymentStatus::Deploying
    } else if d.outcome.as_ref().map(|o| o.code) == Some(1) {
        if d.is_live == Some(false) && d.reverted == Some(true) {
            DeploymentStatus::Removed
        } else {
            DeploymentStatus::Succeeded
        }
    } else {
        DeploymentStatus::Failed
    }
}

/// Map an async action to a status: running until `finished_at`, then `finished_success`.
pub fn action_status(a: &AsyncAction) -> DeploymentStatus {
    match (a.is_finished(), a.finished_success) {
        (false, _) if a.started_at.is_none() => DeploymentStatus::Queued,
        (false, _) => DeploymentStatus::Deploying,
        (true, Some(true)) => DeploymentStatus::Succeeded,
        (true, _) => DeploymentStatus::Failed,
    }
}

/// Map a stack's status code to a unit state.
pub fn stack_state(status: Option<i64>) -> UnitState {
    match status {
        Some(1) => UnitState::Running,
        Some(2) => UnitState::Unhealthy,
        Some(5 | 6) => UnitState::Starting,
        Some(0 | 3 | 4) => UnitState::Pending,
        Some(7) => UnitState::Crashed,
        _ => UnitState::Unknown,
    }
}

fn role_for(name: &str) -> ServiceRole {
    let n = name.to_ascii_lowercase();
    if n.contains("worker") || n.contains("celery") {
        ServiceRole::Worker
    } else if n.contains("postgres") || n.contains("mysql") {
        ServiceRole::Database
    } else if n.contains("redis") {
        ServiceRole::Cache
    } else {
        ServiceRole::Web
    }
}

impl Cloud66Client {
    async fn raw_deployments(&self, stack: &str, op: &str) -> Result<Vec<StackDeployment>> {
        let mut list: Vec<StackDeployment> = self
            .get_all(op, &format!("/stacks/{}/deployments.json", seg(stack)))
            .await?;
        list.sort_by_key(|d| std::cmp::Reverse((d.started_at, d.id)));
        Ok(list)
    }

    fn to_deployment(stack: &str, unit: &UnitId, d: &StackDeployment) -> Deployment {
        let created = d.started_at.unwrap_or_else(Utc::now);
        Deployment {
            id: DeploymentRef::Deployment {
                stack: stack.to_owned(),
                id: d.id,
            }
            .id(),
            unit: unit.clone(),
            release: d.git_hash.clone().map(ReleaseId::new),
            status: deployment_status(d),
            created_at: created,
            updated_at: d.finished_at.unwrap_or(created),
            message: None,
        }
    }

    fn action_deployment(
        stack: &str,
        unit: &UnitId,
        a: &AsyncAction,
        release: Option<ReleaseId>,
    ) -> Deployment {
        let created = a.started_at.unwrap_or_else(Utc::now);
        Deployment {
            id: DeploymentRef::Action {
                stack: stack.to_owned(),
                id: a.id,
            }
            .id(),
            unit: unit.clone(),
            release,
            status: action_status(a),
            created_at: created,
            updated_at: a.finished_at.unwrap_or(created),
            message: a.finished_message.clone(),
        }
    }

    /// Start a redeploy and return the deployment that tracks its async action.
    async fn redeploy(
        &self,
        u: &UnitRef,
        unit: &UnitId,
        params: serde_json::Value,
        release: Option<ReleaseId>,
        op: &str,
    ) -> Result<Deployment> {
        let before: std::collections::HashSet<u64> = self
            .raw_deployments(&u.stack, op)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect();
        let body = self
            .send(
                op,
                Method::POST,
                &format!("/stacks/{}/deployments.json", seg(&u.stack)),
                &[],
                Some(&params),
                Idempotency::NonIdempotent,
            )
            .await?;
        let r: RedeployResponse =
            wire::decode_plain(&body.0, "redeploy response").map_err(|e| e.into_error(op))?;
        let id = match (r.ok, r.async_action_id) {
            (true, Some(id)) => id,
            _ => {
                return Err(Cloud66Error::Decode {
                    what: "redeploy response",
                    detail: "not ok, or no async_action_id".into(),
                }
                .into_error(op));
            }
        };
        // The deployment record the action creates is what deployments() lists: find it and return that.
        let start = tokio::time::Instant::now();
        loop {
            let deps = self.raw_deployments(&u.stack, op).await?;
            if let Some(d) = deps.iter().find(|d| !before.contains(&d.id)) {
                return Ok(Self::to_deployment(&u.stack, unit, d));
            }
            let a = self.action(&u.stack, id).await?;
            if a.is_finished() || start.elapsed() >= self.inner.poll_timeout {
                // No record (yet): the action itself is pollable.
                return Ok(Self::action_deployment(&u.stack, unit, &a, release));
            }
            tokio::time::sleep(self.inner.poll_interval).await;
        }
    }

    async fn stack_unit(&self, stack: &Stack, service: Option<&str>) -> Result<Unit> {
        if let Some(svc) = service {
            let known: Vec<StackService> = self
                .get_all(
                    "unit",
                    &format!("/stacks/{}/services.json", seg(&stack.uid)),
                )
                .await?;
            if !known.iter().any(|s| s.name == svc) {
                return Err(Cloud66Error::NotFound(format!(
                    "service {svc:?} in stack {}",
                    stack.uid
                ))
                .into_error("unit"));
            }
        }
        let deps = self.raw_deployments(&stack.uid, "units").await?;
        let live = deps.iter().find(|d| d.is_live == Some(true)).or_else(|| {
            deps.iter()
                .find(|d| deployment_status(d) == DeploymentStatus::Succeeded)
        });
        let deploying = deps
            .iter()
            .find(|d| deployment_status(d) == DeploymentStatus::Deploying);
        let mut state = stack_state(stack.status);
        if state == UnitState::Starting && live.is_some() {
            state = UnitState::Running; // the old release serves while the new one rolls out
        }
        let servers = self.servers(&stack.uid).await.map(|s| s.len()).unwrap_or(1);
        let id = match service {
            Some(s) => UnitId::new(format!("{}/{s}", stack.uid)),
            None => UnitId::new(stack.uid.clone()),
        };
        Ok(Unit {
            id,
            name: match service {
                Some(s) => format!("{}/{s}", stack.name),
                None => stack.name.clone(),
            },
            service: ServiceId::new(service.unwrap_or(&stack.uid).to_owned()),
            environment: EnvironmentId::new(stack.uid.clone()),
            release: deploying
                .or(live)
                .and_then(|d| d.git_hash.clone())
                .map(ReleaseId::new),
            state,
            in_load_balancer: state == UnitState::Running && stack.maintenance_mode != Some(true),
            replicas: u32::try_from(servers).unwrap_or(1).max(1),
        })
    }
}

#[async_trait]
impl Platform for Cloud66Client {
    fn name(&self) -> &str {
        "cloud66"
    }

    fn capabilities(&self) -> PlatformCapabilities {
        PlatformCapabilities::new(ControlModel::Delegated)
            .with_rollback(true)
            .with_restart(true)
    }

    async fn environments(&self) -> Result<Vec<Environment>> {
        Ok(self
            .stacks()
            .await?
            .into_iter()
            .map(|s| Environment {
                kind: s
                    .environment
                    .as_deref()
                    .map(EnvironmentKind::from_name)
                    .unwrap_or_else(|| EnvironmentKind::from_name(&s.name)),
                id: EnvironmentId::new(s.uid),
                name: s.name,
            })
            .collect())
    }

    /// The stack itself (id = the stack uid: the whole-stack unit's service) followed by its docker services.
    async fn services(&self, env: &EnvironmentId) -> Result<Vec<Service>> {
        let stack = self.stack(env.as_str()).await?;
        let list: Vec<StackService> = self
            .get_all(
                "services",
                &format!("/stacks/{}/services.json", seg(env.as_str())),
            )
            .await?;
        let whole = Service {
            id: ServiceId::new(stack.uid.clone()),
            name: stack.name.clone(),
            role: ServiceRole::Web,
            environment: env.clone(),
        };
        Ok(std::iter::once(whole)
            .chain(list.into_iter().map(|s| Service {
                id: ServiceId::new(s.name.clone()),
                role: role_for(&s.name),
                name: s.name,
                environment: env.clone(),
            }))
            .collect())
    }

    async fn units(&self, env: &EnvironmentId, opts: &ListUnits) -> Result<Vec<Unit>> {
        let stack = self.stack(env.as_str()).await?;
        // The whole-stack unit's service is the stack itself; any other service is a docker service unit.
        let service = opts
            .service
            .as_ref()
            .map(|s| s.as_str())
            .filter(|s| *s != stack.uid);
        let unit = self.stack_unit(&stack, service).await?;
        Ok(vec![unit])
    }

    async fn unit(&self, unit: &UnitId) -> Result<Unit> {
        let u = parse_unit(unit).map_err(|e| e.into_error("unit"))?;
        let stack = self.stack(&u.stack).await?;
        self.stack_unit(&stack, u.service.as_deref()).await
    }

    async fn deploy(
        &self,
        unit: &UnitId,
        release: &Release,
        opts: &DeployOptions,
    ) -> Result<Deployment> {
        let u = parse_unit(unit).map_err(|e| e.into_error("deploy"))?;
        if opts.idempotency_key.is_some()
            && let Some(d) = self.raw_deployments(&u.stack, "deploy").await?.first()
            && d.git_hash.as_deref() == Some(release.id.as_str())
            && deployment_status(d) != DeploymentStatus::Failed
        {
            return Ok(Self::to_deployment(&u.stack, unit, d));
        }
        let params = match (&release.image, &u.service) {
            // Docker stacks deploy services at an image tag: "svc:tag".
            (Some(image), Some(svc)) => {
                json!({ "services": format!("{svc}:{}", image_tag(image)) })
            }
            (Some(_), None) => {
                return Err(Cloud66Error::Invalid(
                    "an image release needs a service unit (\"<stack>/<service>\")".into(),
                )
                .into_error("deploy"));
            }
            (None, _) => {
                json!({ "git_ref": release.commit.clone().unwrap_or_else(|| release.id.to_string()) })
            }
        };
        self.redeploy(&u, unit, params, Some(release.id.clone()), "deploy")
            .await
    }

    async fn deployment(&self, id: &DeploymentId) -> Result<Deployment> {
        match parse_deployment(id).map_err(|e| e.into_error("deployment"))? {
            DeploymentRef::Action { stack, id } => {
                let a = self.action(&stack, id).await?;
                // The release is on the deployment record the action created, when it can be matched.
                let release = self
                    .raw_deployments(&stack, "deployment")
                    .await?
                    .into_iter()
                    .find(|d| d.started_at.is_some() && d.started_at == a.started_at)
                    .and_then(|d| d.git_hash)
                    .map(ReleaseId::new);
                Ok(Self::action_deployment(
                    &stack,
                    &UnitId::new(stack.clone()),
                    &a,
                    release,
                ))
            }
            DeploymentRef::Deployment { stack, id } => {
                let d: StackDeployment = self
                    .get_one(
                        "deployment",
                        &format!("/stacks/{}/deployments/{id}.json", seg(&stack)),
                    )
                    .await?;
                Ok(Self::to_deployment(&stack, &UnitId::new(stack.clone()), &d))
            }
        }
    }

    async fn deployments(&self, unit: &UnitId, opts: &ListDeployments) -> Result<Vec<Deployment>> {
        let u = parse_unit(unit).map_err(|e| e.into_error("deployments"))?;
        Ok(self
            .raw_deployments(&u.stack, "deployments")
            .await?
            .iter()
            .take(opts.limit)
            .map(|d| Self::to_deployment(&u.stack, unit, d))
            .collect())
    }

    /// Cloud66 has no rollback endpoint: this redeploys the target deployment's git ref (a rebuild).
    async fn rollback(&self, unit: &UnitId, to: &RollbackTarget) -> Result<Deployment> {
        let u = parse_unit(unit).map_err(|e| e.into_error("rollback"))?;
        let deps = self.raw_deployments(&u.stack, "rollback").await?;
        let ok = |d: &&StackDeployment| deployment_status(d) == DeploymentStatus::Succeeded;
        let not_found = |w: String| Cloud66Error::NotFound(w).into_error("rollback");
        let target = match to {
            RollbackTarget::Previous => {
                let current = deps.first().and_then(|d| d.git_hash.clone());
                deps.iter()
                    .skip(1)
                    .filter(ok)
                    .find(|d| d.git_hash != current)
                    .ok_or_else(|| not_found("an earlier successful deployment".into()))?
            }
            RollbackTarget::Release(r) => deps
                .iter()
                .filter(ok)
                .find(|d| d.git_hash.as_deref() == Some(r.as_str()))
                .ok_or_else(|| not_found(format!("a successful deployment of {r}")))?,
            RollbackTarget::Deployment(id) => {
                let wanted = parse_deployment(id).map_err(|e| e.into_error("rollback"))?;
                deps.iter()
                    .find(|d| {
                        wanted
                            == DeploymentRef::Deployment {
                                stack: u.stack.clone(),
                                id: d.id,
                            }
                    })
                    .ok_or_else(|| not_found(format!("deployment {id}")))?
            }
            _ => {
                return Err(Cloud66Error::Invalid("unsupported rollback target".into())
                    .into_error("rollback"));
            }
        };
        let git = target
            .git_hash
            .clone()
            .ok_or_else(|| not_found("the target deployment's git ref".into()))?;
        self.redeploy(
            &u,
            unit,
            json!({ "git_ref": git }),
            Some(ReleaseId::new(git.clone())),
            "rollback",
        )
        .await
    }

    async fn restart(&self, unit: &UnitId) -> Result<Deployment> {
        let u = parse_unit(unit).map_err(|e| e.into_error("restart"))?;
        let current = self.unit(unit).await?.release;
        let a = self.stack_action(&u.stack, "restart").await?;
        Ok(Self::action_deployment(&u.stack, unit, &a, current))
    }
}

fn image_tag(image: &str) -> &str {
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, t)) if !t.is_empty() => t,
        _ => image,
    }
}
