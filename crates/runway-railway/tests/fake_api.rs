//! The Railway client against the stateful fake API: platform, variables and logs.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use runway_core::{
    ApplyStrategy, ControlModel, DeployOptions, DeploymentStatus, EnvironmentId, EnvironmentKind,
    ListDeployments, ListUnits, LogQuery, LogScope, LogSource, Platform, Release, RollbackTarget,
    SetOptions, TimeRange, UnitState, VariableScope, VariableStore,
};
use runway_railway::{RailwayClient, unit_id};
use runway_testkit::fake_railway::{FakeRailway, PRODUCTION, PROJECT_TOKEN, STAGING};
use secrecy::{ExposeSecret, SecretString};

async fn wait_terminal(
    c: &RailwayClient,
    id: &runway_core::DeploymentId,
) -> runway_core::Deployment {
    for _ in 0..200 {
        let d = c.deployment(id).await.unwrap();
        if d.status.is_terminal() {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("deployment {id} never finished");
}

#[tokio::test(start_paused = true)]
async fn environments_services_and_units() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    let envs = c.environments().await.unwrap();
    assert_eq!(envs.len(), 2);
    assert_eq!(
        c.resolve_environment("Production").await.unwrap().as_str(),
        PRODUCTION
    );
    assert_eq!(
        c.resolve_environment(STAGING).await.unwrap().as_str(),
        STAGING
    );
    assert_eq!(
        c.resolve_environment("qa").await.unwrap_err().kind(),
        &runway_core::ErrorKind::NotFound
    );
    let prod = envs.iter().find(|e| e.id.as_str() == PRODUCTION).unwrap();
    assert_eq!(prod.kind, EnvironmentKind::Production);
    let services = c.services(&prod.id).await.unwrap();
    assert_eq!(services.len(), 4);
    let units = c.units(&prod.id, &ListUnits::default()).await.unwrap();
    let names: Vec<_> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["api-1", "api-2", "api-3", "web"]);
    let web = units.iter().find(|u| u.name == "web").unwrap();
    assert_eq!(web.replicas, 3);
    assert_eq!(web.state, UnitState::Running);
    assert_eq!(web.release.as_ref().unwrap().as_str(), "v1.0");
    assert!(web.is_serving());
    let only = c
        .units(&prod.id, &ListUnits::service("svc-api-2"))
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(c.unit(&only[0].id).await.unwrap(), only[0]);
    assert_eq!(Platform::capabilities(&c).model, ControlModel::Delegated);
}

#[tokio::test(start_paused = true)]
async fn deploy_moves_through_statuses_and_replaces_the_previous_deployment() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    let unit = unit_id(PRODUCTION, "svc-api-1");
    let before = c
        .deployments(&unit, &ListDeployments::default())
        .await
        .unwrap();
    let d = c
        .deploy(&unit, &Release::new("v1.1"), &DeployOptions::default())
        .await
        .unwrap();
    assert_eq!(d.unit, unit);
    assert_eq!(d.release.as_ref().unwrap().as_str(), "v1.1");
    assert!(!d.status.is_terminal(), "{:?}", d.status);
    let mut seen = vec![d.status];
    loop {
        let now = c.deployment(&d.id).await.unwrap();
        if seen.last() != Some(&now.status) {
            seen.push(now.status);
        }
        if now.status.is_terminal() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        seen,
        [
            DeploymentStatus::Queued,
            DeploymentStatus::Building,
            DeploymentStatus::Deploying,
            DeploymentStatus::Succeeded
        ]
    );
    let after = c
        .deployments(&unit, &ListDeployments::default())
        .await
        .unwrap();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after[0].id, d.id, "newest first");
    assert_eq!(after[1].status, DeploymentStatus::Removed);
    let u = c.unit(&unit).await.unwrap();
    assert_eq!(u.release.unwrap().as_str(), "v1.1");
    // Every GraphQL document the client sent validated against the schema.
    assert!(fake.requests().iter().all(|r| r.valid));
    assert_eq!(fake.count("ServiceInstanceDeploy"), 1);
}

#[tokio::test(start_paused = true)]
async fn image_releases_set_the_source_image_first() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    let unit = unit_id(STAGING, "svc-web");
    let d = c
        .deploy(
            &unit,
            &Release::new("v2").with_image("ghcr.io/acme/app:v2"),
            &DeployOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(d.release.unwrap().as_str(), "v2");
    assert_eq!(fake.count("ServiceInstanceSetImage"), 1);
}

#[tokio::test(start_paused = true)]
async fn failed_and_crashed_deployments_map_to_failures() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    fake.fail_next_deploy("svc-api-2", "FAILED");
    let unit = unit_id(PRODUCTION, "svc-api-2");
    let d = c
        .deploy(&unit, &Release::new("bad"), &DeployOptions::default())
        .await
        .unwrap();
    assert_eq!(
        wait_terminal(&c, &d.id).await.status,
        DeploymentStatus::Failed
    );
    // The old release keeps serving.
    let u = c.unit(&unit).await.unwrap();
    assert_eq!(u.state, UnitState::Running);
    assert_eq!(u.release.unwrap().as_str(), "v1.0");

    fake.fail_next_deploy("svc-api-3", "CRASHED");
    let d = c
        .deploy(
            &unit_id(PRODUCTION, "svc-api-3"),
            &Release::new("crashy"),
            &DeployOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        wait_terminal(&c, &d.id).await.status,
        DeploymentStatus::Crashed
    );
}

#[tokio::test(start_paused = true)]
async fn every_status_is_mapped_end_to_end() {
    use runway_testkit::fake_railway::STATUSES;
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    let id = fake.deployment_ids(PRODUCTION, "svc-api-1")[0].clone();
    let mut mapped = std::collections::HashSet::new();
    for s in STATUSES {
        fake.force_status(&id, s);
        let d = c
            .deployment(&runway_core::DeploymentId::new(id.clone()))
            .await
            .unwrap();
        assert_eq!(d.status, runway_railway::wire::map_status(s).unwrap());
        mapped.insert(d.status);
    }
    assert_eq!(
        mapped.len(),
        10,
        "13 Railway statuses land on all 10 runway statuses"
    );
}

#[tokio::test(start_paused = true)]
async fn rollback_finds_the_deployment_it_caused() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    let unit = unit_id(PRODUCTION, "svc-web");
    let d = c
        .deploy(&unit, &Release::new("v1.1"), &DeployOptions::default())
        .await
        .unwrap();
    wait_terminal(&c, &d.id).await;
    let r = c.rollback(&unit, &RollbackTarget::Previous).await.unwrap();
    assert_ne!(r.id, d.id);
    assert_eq!(r.release.as_ref().unwrap().as_str(), "v1.0");
    assert_eq!(
        wait_terminal(&c, &r.id).await.status,
        DeploymentStatus::Succeeded
    );
    assert_eq!(
        c.unit(&unit).await.unwrap().release.unwrap().as_str(),
        "v1.0"
    );
    // To a named release.
    let r2 = c
        .rollback(&unit, &RollbackTarget::Release("v1.1".into()))
        .await
        .unwrap();
    assert_eq!(r2.release.unwrap().as_str(), "v1.1");
    // Nothing to roll back to is NotFound, not a guess.
    let e = c
        .rollback(&unit, &RollbackTarget::Release("v9".into()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &runway_core::ErrorKind::NotFound);
    // The rollback document has no selection set (deploymentRollback returns Boolean!).
    assert!(fake.requests().iter().all(|r| r.valid));
}

#[tokio::test(start_paused = true)]
async fn restart_observes_the_restarted_deployment() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    let unit = unit_id(STAGING, "svc-api-1");
    let r = c.restart(&unit).await.unwrap();
    assert_eq!(r.status, DeploymentStatus::Deploying);
    assert_eq!(
        wait_terminal(&c, &r.id).await.status,
        DeploymentStatus::Succeeded
    );
    assert_eq!(fake.count("DeploymentRestart"), 1);
}

#[tokio::test(start_paused = true)]
async fn idempotent_deploy_does_not_start_a_second_deployment() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    let unit = unit_id(PRODUCTION, "svc-api-1");
    let opts = DeployOptions::with_idempotency_key("release-42");
    let a = c.deploy(&unit, &Release::new("v1.2"), &opts).await.unwrap();
    let b = c.deploy(&unit, &Release::new("v1.2"), &opts).await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(fake.count("ServiceInstanceDeploy"), 1);
}

#[tokio::test(start_paused = true)]
async fn variables_round_trip_with_replace_and_skip_deploys() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    let scope = VariableScope::service(STAGING, "svc-api-1");
    let deploys_before = fake.deployment_ids(STAGING, "svc-api-1").len();
    c.set(
        &scope,
        "DATABASE_URL",
        SecretString::from("postgresql://u:hunter2@db/app"),
        &SetOptions::next_deploy(),
    )
    .await
    .unwrap();
    assert_eq!(
        fake.deployment_ids(STAGING, "svc-api-1").len(),
        deploys_before,
        "skipDeploys: no deployment"
    );
    let got = c.get(&scope, "DATABASE_URL").await.unwrap().unwrap();
    assert_eq!(got.expose_secret(), "postgresql://u:hunter2@db/app");

    let mut many = BTreeMap::new();
    many.insert("A".to_owned(), SecretString::from("1"));
    many.insert("B".to_owned(), SecretString::from("2"));
    c.set_many(&scope, many.clone(), &SetOptions::next_deploy())
        .await
        .unwrap();
    assert_eq!(c.list(&scope).await.unwrap().len(), 3);
    c.set_many(&scope, many, &SetOptions::next_deploy().with_replace(true))
        .await
        .unwrap();
    let names: Vec<_> = c.list(&scope).await.unwrap().into_keys().collect();
    assert_eq!(names, ["A", "B"]);

    // Applying immediately redeploys the service.
    c.set(&scope, "C", SecretString::from("3"), &SetOptions::default())
        .await
        .unwrap();
    assert_eq!(
        fake.deployment_ids(STAGING, "svc-api-1").len(),
        deploys_before + 1
    );

    c.delete(&scope, "A", &SetOptions::default()).await.unwrap();
    c.delete(&scope, "NEVER_SET", &SetOptions::default())
        .await
        .unwrap();
    assert!(c.get(&scope, "A").await.unwrap().is_none());
    // Shared variables are a separate scope.
    let shared = VariableScope::environment(STAGING);
    assert!(c.list(&shared).await.unwrap().is_empty());
    c.set(
        &shared,
        "SHARED",
        SecretString::from("s"),
        &SetOptions::default().with_apply(ApplyStrategy::Immediately),
    )
    .await
    .unwrap();
    assert_eq!(fake.variable(STAGING, None, "SHARED").as_deref(), Some("s"));
    // Variables are read rendered by default, unrendered on request.
    let unrendered = RailwayClient::builder()
        .with_api_token(runway_testkit::fake_railway::ACCOUNT_TOKEN)
        .with_project(runway_testkit::fake_railway::PROJECT_ID)
        .with_base_url(fake.url())
        .with_unrendered_variables(true)
        .build()
        .unwrap();
    unrendered.list(&shared).await.unwrap();
    let sent: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.operation.as_deref() == Some("Variables"))
        .map(|r| r.variables["unrendered"].as_bool())
        .collect();
    assert_eq!(sent.first(), Some(&Some(false)));
    assert_eq!(sent.last(), Some(&Some(true)));
    // Bad names never reach the API.
    assert_eq!(
        c.set(
            &shared,
            "1BAD",
            SecretString::from("x"),
            &SetOptions::default()
        )
        .await
        .unwrap_err()
        .kind(),
        &runway_core::ErrorKind::InvalidInput
    );
}

#[tokio::test(start_paused = true)]
async fn deployment_and_build_logs() {
    let fake = FakeRailway::start().await;
    let c = common::client(&fake);
    let unit = unit_id(PRODUCTION, "svc-api-1");
    let d = c
        .deploy(&unit, &Release::new("v1.3"), &DeployOptions::default())
        .await
        .unwrap();
    wait_terminal(&c, &d.id).await;
    fake.push_log(d.id.as_str(), "error", "ERROR payment webhook failed");
    let range = TimeRange::last(
        Duration::from_secs(3600),
        fake.now() + chrono::Duration::seconds(1),
    );
    let build: Vec<_> = c
        .query(&LogQuery::new(
            LogScope::deployment(d.id.clone()).build_logs(),
            range,
        ))
        .await
        .unwrap()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(build.len(), 1);
    assert_eq!(build[0].as_ref().unwrap().message, "Building v1.3");
    let runtime: Vec<_> = c
        .query(&LogQuery::new(LogScope::deployment(d.id.clone()), range))
        .await
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(runtime.len(), 3);
    assert!(runtime.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    let errors: Vec<_> = c
        .query(&LogQuery::errors_last_hour(
            LogScope::environment(PRODUCTION).with_service("svc-api-1"),
            fake.now() + chrono::Duration::seconds(1),
        ))
        .await
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].level, runway_core::LogLevel::Error);
    let env_logs: Vec<_> = c
        .query(&LogQuery::new(LogScope::environment(PRODUCTION), range).with_limit(2))
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(env_logs.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn project_token_discovers_its_project_and_is_scoped() {
    let fake = FakeRailway::start().await;
    let c = RailwayClient::builder()
        .with_project_token(PROJECT_TOKEN)
        .with_base_url(fake.url())
        .with_retry(common::fast_retry())
        .build()
        .unwrap();
    assert_eq!(
        c.project_id().await.unwrap(),
        runway_testkit::fake_railway::PROJECT_ID
    );
    let units = c
        .units(&EnvironmentId::new(PRODUCTION), &ListUnits::default())
        .await
        .unwrap();
    assert_eq!(units.len(), 4);
    let e = c
        .units(&EnvironmentId::new(STAGING), &ListUnits::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), &runway_core::ErrorKind::PermissionDenied);
    assert!(fake.requests().iter().all(|r| r.auth == "project"));
}

#[tokio::test(start_paused = true)]
async fn service_instances_are_read_page_by_page() {
    let fake = FakeRailway::start().await;
    for i in 0..5 {
        fake.add_service(&format!("worker-{i}"), 1);
    }
    let c = RailwayClient::builder()
        .with_api_token(runway_testkit::fake_railway::ACCOUNT_TOKEN)
        .with_project(runway_testkit::fake_railway::PROJECT_ID)
        .with_base_url(fake.url())
        .with_page_size(2)
        .build()
        .unwrap();
    let units = c
        .units(&EnvironmentId::new(PRODUCTION), &ListUnits::default())
        .await
        .unwrap();
    assert_eq!(units.len(), 9);
    let mut ids: Vec<_> = units.iter().map(|u| u.id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 9, "no unit twice");
    assert_eq!(fake.count("EnvironmentInstances"), 5);
}
