//! Every GraphQL document this crate sends, as constants.
//!
//! [`ALL`] lists them; a test validates each one against Railway's real schema, so a document that would be
//! rejected by the API (unknown field, wrong argument type, selection on a scalar) fails the build's tests.

/// The project and environment a project token is bound to.
pub const PROJECT_TOKEN: &str = r#"query ProjectToken {
  projectToken { projectId environmentId }
}"#;

/// A project's environments.
pub const PROJECT_ENVIRONMENTS: &str = r#"query ProjectEnvironments($id: String!) {
  project(id: $id) {
    id
    name
    environments { edges { node { id name } } }
  }
}"#;

/// The service instances of an environment, with their latest and active deployments (one page).
pub const ENVIRONMENT_INSTANCES: &str = r#"query EnvironmentInstances($id: String!, $projectId: String, $first: Int, $after: String) {
  environment(id: $id, projectId: $projectId) {
    id
    name
    serviceInstances(first: $first, after: $after) {
      edges {
        node {
          id
          serviceId
          serviceName
          environmentId
          numReplicas
          latestDeployment { id status createdAt updatedAt statusUpdatedAt meta environmentId serviceId canRollback }
          activeDeployments { id status createdAt updatedAt statusUpdatedAt meta environmentId serviceId canRollback }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}"#;

/// One service instance, with its latest and active deployments.
pub const SERVICE_INSTANCE: &str = r#"query ServiceInstance($environmentId: String!, $serviceId: String!) {
  serviceInstance(environmentId: $environmentId, serviceId: $serviceId) {
    id
    serviceId
    serviceName
    environmentId
    numReplicas
    latestDeployment { id status createdAt updatedAt statusUpdatedAt meta environmentId serviceId canRollback }
    activeDeployments { id status createdAt updatedAt statusUpdatedAt meta environmentId serviceId canRollback }
  }
}"#;

/// One deployment.
pub const DEPLOYMENT: &str = r#"query Deployment($id: String!) {
  deployment(id: $id) { id status createdAt updatedAt statusUpdatedAt meta environmentId serviceId canRollback }
}"#;

/// A service instance's deployments, newest first.
pub const DEPLOYMENTS: &str = r#"query Deployments($input: DeploymentListInput!, $first: Int) {
  deployments(input: $input, first: $first) {
    edges { node { id status createdAt updatedAt statusUpdatedAt meta environmentId serviceId canRollback } }
  }
}"#;

/// Deploy a service instance; returns the new deployment's id.
pub const SERVICE_INSTANCE_DEPLOY: &str = r#"mutation ServiceInstanceDeploy($environmentId: String!, $serviceId: String!, $commitSha: String) {
  serviceInstanceDeployV2(environmentId: $environmentId, serviceId: $serviceId, commitSha: $commitSha)
}"#;

/// Point a service instance at an image (before deploying an image release).
pub const SERVICE_INSTANCE_SET_IMAGE: &str = r#"mutation ServiceInstanceSetImage($environmentId: String!, $serviceId: String!, $image: String!) {
  serviceInstanceUpdate(environmentId: $environmentId, serviceId: $serviceId, input: { source: { image: $image } })
}"#;

/// Roll back to an earlier deployment. Returns only `Boolean!`: no selection set.
pub const DEPLOYMENT_ROLLBACK: &str = r#"mutation DeploymentRollback($id: String!) {
  deploymentRollback(id: $id)
}"#;

/// Restart a deployment without rebuilding. Returns only `Boolean!`.
pub const DEPLOYMENT_RESTART: &str = r#"mutation DeploymentRestart($id: String!) {
  deploymentRestart(id: $id)
}"#;

/// Variables of an environment (shared) or of one service: a JSON map. `unrendered: true` keeps
/// `${{Service.VAR}}` references instead of resolving them.
pub const VARIABLES: &str = r#"query Variables($projectId: String!, $environmentId: String!, $serviceId: String, $unrendered: Boolean) {
  variables(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId, unrendered: $unrendered)
}"#;

/// Set one variable.
pub const VARIABLE_UPSERT: &str = r#"mutation VariableUpsert($input: VariableUpsertInput!) {
  variableUpsert(input: $input)
}"#;

/// Set many variables at once, optionally replacing the whole set.
pub const VARIABLE_COLLECTION_UPSERT: &str = r#"mutation VariableCollectionUpsert($input: VariableCollectionUpsertInput!) {
  variableCollectionUpsert(input: $input)
}"#;

/// Delete one variable.
pub const VARIABLE_DELETE: &str = r#"mutation VariableDelete($input: VariableDeleteInput!) {
  variableDelete(input: $input)
}"#;

/// A deployment's runtime logs.
pub const DEPLOYMENT_LOGS: &str = r#"query DeploymentLogs($deploymentId: String!, $limit: Int, $filter: String, $startDate: DateTime, $endDate: DateTime) {
  deploymentLogs(deploymentId: $deploymentId, limit: $limit, filter: $filter, startDate: $startDate, endDate: $endDate) {
    timestamp message severity attributes { key value }
  }
}"#;

/// A deployment's build logs.
pub const BUILD_LOGS: &str = r#"query BuildLogs($deploymentId: String!, $limit: Int, $filter: String, $startDate: DateTime, $endDate: DateTime) {
  buildLogs(deploymentId: $deploymentId, limit: $limit, filter: $filter, startDate: $startDate, endDate: $endDate) {
    timestamp message severity attributes { key value }
  }
}"#;

/// An environment's logs (every service) between two dates.
pub const ENVIRONMENT_LOGS: &str = r#"query EnvironmentLogs($environmentId: String!, $filter: String, $afterDate: String, $beforeDate: String, $afterLimit: Int) {
  environmentLogs(environmentId: $environmentId, filter: $filter, afterDate: $afterDate, beforeDate: $beforeDate, afterLimit: $afterLimit) {
    timestamp message severity attributes { key value }
    tags { serviceId deploymentId }
  }
}"#;

/// Every document, by operation name.
pub const ALL: &[(&str, &str)] = &[
    ("ProjectToken", PROJECT_TOKEN),
    ("ProjectEnvironments", PROJECT_ENVIRONMENTS),
    ("EnvironmentInstances", ENVIRONMENT_INSTANCES),
    ("ServiceInstance", SERVICE_INSTANCE),
    ("Deployment", DEPLOYMENT),
    ("Deployments", DEPLOYMENTS),
    ("ServiceInstanceDeploy", SERVICE_INSTANCE_DEPLOY),
    ("ServiceInstanceSetImage", SERVICE_INSTANCE_SET_IMAGE),
    ("DeploymentRollback", DEPLOYMENT_ROLLBACK),
    ("DeploymentRestart", DEPLOYMENT_RESTART),
    ("Variables", VARIABLES),
    ("VariableUpsert", VARIABLE_UPSERT),
    ("VariableCollectionUpsert", VARIABLE_COLLECTION_UPSERT),
    ("VariableDelete", VARIABLE_DELETE),
    ("DeploymentLogs", DEPLOYMENT_LOGS),
    ("BuildLogs", BUILD_LOGS),
    ("EnvironmentLogs", ENVIRONMENT_LOGS),
];
