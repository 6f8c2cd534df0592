//! A stateful fake of the Railway GraphQL API on loopback, validating every document against the real schema.
//!
//! [`FakeRailway::start`] serves `POST /graphql/v2` on `127.0.0.1:0`. Every request's document is parsed and
//! validated against Railway's real schema ([`schema`]) and its variables are coerced to the declared types;
//! an unknown field, a wrong argument type or a selection set on a `Boolean!` is answered the way Railway
//! answers: HTTP 200 with `errors[]` and a message. Valid documents run against stateful data:
//!
//! - one project with the environments `staging` and `production` and the services `api-1`, `api-2`,
//!   `api-3` (one replica each) and `web` (three replicas), each instance running release `v1.0`;
//! - deployments move `INITIALIZING -> BUILDING -> DEPLOYING -> SUCCESS` over tokio time (use paused time),
//!   the previous successful deployment then becomes `REMOVED`; rollbacks and restarts behave likewise;
//! - variables persist per environment and per service; logs are generated per deployment;
//! - faults ([`Fault`]) and rate limits are injectable; every request is recorded ([`FakeRailway::requests`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use runway_testkit::fake_railway::{FakeRailway, validate_document};
//! let fake = FakeRailway::start().await;
//! assert!(fake.url().ends_with("/graphql/v2"));
//! assert!(validate_document("query { deployment(id: \"x\") { id status } }").is_ok());
//! assert!(validate_document("mutation { deploymentRollback(id: \"x\") { id } }").is_err());
//! # }
//! ```

mod exec;
mod schema;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apollo_compiler::resolvers::Execution;
use apollo_compiler::response::JsonMap;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, SecondsFormat, Utc};
use runway_core::{Clock, TokioClock};
use serde_json::{Value, json};
use tokio::time::Instant;

pub use schema::{schema, sdl, validate_document};

use exec::{Root, RootResolver};

/// The account token the fake accepts as `Authorization: Bearer`.
pub const ACCOUNT_TOKEN: &str = "fake-railway-account-token-7f3a";
/// The project token the fake accepts as `Project-Access-Token` (bound to the production environment).
pub const PROJECT_TOKEN: &str = "fake-railway-project-token-91c2";
/// The fake project's id.
pub const PROJECT_ID: &str = "prj-yourapp";
/// The staging environment's id.
pub const STAGING: &str = "env-staging";
/// The production environment's id.
pub const PRODUCTION: &str = "env-production";

/// A fault injected into the next request(s), in FIFO order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer this request normally (to aim a later fault at a later request).
    Pass,
    /// HTTP 429 with `Retry-After` (seconds) and an exhausted `X-RateLimit-Remaining`.
    RateLimited {
        /// The `Retry-After` value.
        retry_after: Duration,
    },
    /// A bare HTTP status (502, 503, 500, ...) with a short body.
    Status(u16),
    /// HTTP 200 with `errors: [{message}]` and `data: null`.
    GraphqlError(String),
    /// HTTP 200 with a body that is not JSON.
    MalformedBody,
    /// HTTP 200 with JSON that is not a GraphQL response of the query (`{"data": {"unexpected": 1}}`).
    WrongShape,
    /// Answer only after this long (tokio time).
    Delay(Duration),
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The operation's name, when it had one.
    pub operation: Option<String>,
    /// `"bearer"`, `"project"` or `"none"`.
    pub auth: &'static str,
    /// Whether the document validated.
    pub valid: bool,
    /// The request's variables (may contain values; do not print).
    pub variables: Value,
}

#[derive(Debug, Clone)]
struct Dep {
    seq: u64,
    id: String,
    env: String,
    svc: String,
    created: Instant,
    plan: Vec<(Duration, &'static str)>,
    meta: Value,
    restarted: Option<Instant>,
    forced: Option<(&'static str, Instant)>,
}

#[derive(Debug, Clone)]
struct Svc {
    id: String,
    name: String,
    replicas: i64,
}

#[derive(Debug, Clone)]
struct LogLine {
    deployment: String,
    build: bool,
    at: Instant,
    severity: &'static str,
    message: String,
}

#[derive(Debug)]
struct World {
    clock: TokioClock,
    envs: Vec<(String, String)>,
    services: Vec<Svc>,
    images: HashMap<(String, String), String>,
    deps: Vec<Dep>,
    vars: HashMap<(String, Option<String>), BTreeMap<String, String>>,
    logs: Vec<LogLine>,
    faults: VecDeque<Fault>,
    outcomes: HashMap<String, &'static str>,
    build_time: Duration,
    deploy_time: Duration,
    requests: Vec<RecordedRequest>,
    counter: u64,
    rate_limit: u64,
    rate_window: Duration,
    window_start: Instant,
    window_used: u64,
}

const RESTART_TIME: Duration = Duration::from_secs(2);

/// Statuses a deployment may be forced into with [`FakeRailway::force_status`].
pub const STATUSES: [&str; 13] = [
    "BUILDING",
    "CRASHED",
    "DEPLOYING",
    "FAILED",
    "INITIALIZING",
    "NEEDS_APPROVAL",
    "QUEUED",
    "REMOVED",
    "REMOVING",
    "SKIPPED",
    "SLEEPING",
    "SUCCESS",
    "WAITING",
];

impl World {
    fn new() -> Self {
        let now = Instant::now();
        let mut w = World {
            clock: TokioClock::now_system(),
            envs: vec![
                (STAGING.into(), "staging".into()),
                (PRODUCTION.into(), "production".into()),
            ],
            services: ["api-1", "api-2", "api-3"]
                .iter()
                .map(|n| Svc {
                    id: format!("svc-{n}"),
                    name: (*n).into(),
                    replicas: 1,
                })
                .chain(std::iter::once(Svc {
                    id: "svc-web".into(),
                    name: "web".into(),
                    replicas: 3,
                }))
                .collect(),
            images: HashMap::new(),
            deps: Vec::new(),
            vars: HashMap::new(),
            logs: Vec::new(),
            faults: VecDeque::new(),
            outcomes: HashMap::new(),
            build_time: Duration::from_secs(3),
            deploy_time: Duration::from_secs(2),
            requests: Vec::new(),
            counter: 0,
            rate_limit: 100_000,
            rate_window: Duration::from_secs(3600),
            window_start: now,
            window_used: 0,
        };
        // Every instance starts on v1.0, deployed an hour ago.
        let envs: Vec<String> = w.envs.iter().map(|(id, _)| id.clone()).collect();
        let svcs: Vec<String> = w.services.iter().map(|s| s.id.clone()).collect();
        for e in &envs {
            for s in &svcs {
                let id = w.next_id();
                let seq = w.counter;
                w.deps.push(Dep {
                    seq,
                    id,
                    env: e.clone(),
                    svc: s.clone(),
                    created: now,
                    plan: vec![(Duration::ZERO, "SUCCESS")],
                    meta: json!({"commitHash": "v1.0", "reason": "deploy"}),
                    restarted: None,
                    forced: None,
                });
            }
        }
        w
    }

    fn next_id(&mut self) -> String {
        self.counter += 1;
        format!("dep-{:04}", self.counter)
    }

    fn time(&self, t: Instant) -> String {
        self.clock
            .at(t)
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    fn base_status(d: &Dep, now: Instant) -> (&'static str, Instant) {
        let elapsed = now.saturating_duration_since(d.created);
        let mut cur = (d.plan[0].1, d.created + d.plan[0].0);
        for (at, s) in &d.plan {
            if *at <= elapsed {
                cur = (s, d.created + *at);
            }
        }
        cur
    }

    /// (status, when it last changed)
    fn status(&self, d: &Dep, now: Instant) -> (&'static str, Instant) {
        if let Some(f) = d.forced {
            return f;
        }
        let (base, changed) = Self::base_status(d, now);
        if base == "SUCCESS" {
            // Superseded by a newer successful deployment of the same instance?
            let newer_success = self.deps.iter().any(|o| {
                o.env == d.env
                    && o.svc == d.svc
                    && o.seq > d.seq
                    && o.forced.is_none()
                    && Self::base_status(o, now).0 == "SUCCESS"
            });
            if newer_success {
                let at = self
                    .deps
                    .iter()
                    .filter(|o| o.env == d.env && o.svc == d.svc && o.seq > d.seq)
                    .map(|o| Self::base_status(o, now).1)
                    .min()
                    .unwrap_or(changed);
                return ("REMOVED", at);
            }
            if let Some(r) = d.restarted {
                if now < r + RESTART_TIME {
                    return ("DEPLOYING", r);
                }
                return ("SUCCESS", r + RESTART_TIME);
            }
        }
        (base, changed)
    }

    fn dep_json(&self, d: &Dep, now: Instant) -> Value {
        let (status, changed) = self.status(d, now);
        let reached_success = Self::base_status(d, now).0 == "SUCCESS";
        json!({
            "id": d.id,
            "status": status,
            "createdAt": self.time(d.created),
            "updatedAt": self.time(changed),
            "statusUpdatedAt": self.time(changed),
            "meta": d.meta,
            "environmentId": d.env,
            "serviceId": d.svc,
            "projectId": PROJECT_ID,
            "canRollback": reached_success,
            "canRedeploy": true,
            "deploymentStopped": false,
            "suggestAddServiceDomain": false,
            "instances": [],
            "sockets": [],
            "staticUrl": null,
            "url": null,
        })
    }

    fn deps_of(&self, env: &str, svc: &str) -> Vec<&Dep> {
        let mut v: Vec<&Dep> = self
            .deps
            .iter()
            .filter(|d| d.env == env && d.svc == svc)
            .collect();
        v.sort_by_key(|d| std::cmp::Reverse(d.seq));
        v
    }

    fn instance_json(&self, env: &str, svc: &Svc, now: Instant) -> Value {
        let deps = self.deps_of(env, &svc.id);
        let latest = deps.first().map(|d| self.dep_json(d, now));
        let active: Vec<Value> = deps
            .iter()
            .filter(|d| matches!(self.status(d, now).0, "SUCCESS" | "SLEEPING"))
            .map(|d| self.dep_json(d, now))
            .collect();
        json!({
            "id": format!("si-{env}-{}", svc.id),
            "serviceId": svc.id,
            "serviceName": svc.name,
            "environmentId": env,
            "numReplicas": svc.replicas,
            "latestDeployment": latest,
            "activeDeployments": active,
            "source": {"image": self.images.get(&(env.to_owned(), svc.id.clone())), "repo": null},
            "createdAt": self.time(self.window_start),
            "updatedAt": self.time(now),
        })
    }

    fn create_deployment(
        &mut self,
        env: &str,
        svc: &str,
        meta: Value,
        build: bool,
        now: Instant,
    ) -> String {
        let id = self.next_id();
        let outcome = self.outcomes.remove(svc);
        let b = if build {
            self.build_time
        } else {
            Duration::ZERO
        };
        let mut plan = vec![(Duration::ZERO, "INITIALIZING")];
        if build {
            plan.push((Duration::from_millis(500), "BUILDING"));
        }
        match outcome {
            Some("FAILED") => plan.push((b.max(Duration::from_secs(1)), "FAILED")),
            Some(other) => {
                plan.push((b, "DEPLOYING"));
                plan.push((b + self.deploy_time, other));
            }
            None => {
                plan.push((b, "DEPLOYING"));
                plan.push((b + self.deploy_time, "SUCCESS"));
            }
        }
        let release = meta
            .get("commitHash")
            .or_else(|| meta.get("image"))
            .and_then(Value::as_str)
            .unwrap_or("latest")
            .to_owned();
        if build {
            self.logs.push(LogLine {
                deployment: id.clone(),
                build: true,
                at: now + Duration::from_millis(600),
                severity: "info",
                message: format!("Building {release}"),
            });
        }
        self.logs.push(LogLine {
            deployment: id.clone(),
            build: false,
            at: now + b + Duration::from_millis(100),
            severity: "info",
            message: format!("Starting container for {release}"),
        });
        self.logs.push(LogLine {
            deployment: id.clone(),
            build: false,
            at: now + b + self.deploy_time,
            severity: if outcome.is_some() { "error" } else { "info" },
            message: if outcome.is_some() {
                format!("ERROR {release} exited with code 1")
            } else {
                "Listening on 0.0.0.0:8080".into()
            },
        });
        self.deps.push(Dep {
            seq: self.counter,
            id: id.clone(),
            env: env.into(),
            svc: svc.into(),
            created: now,
            plan,
            meta,
            restarted: None,
            forced: None,
        });
        id
    }
}

#[derive(Debug)]
struct Shared {
    world: Mutex<World>,
}

/// A running fake Railway API. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeRailway {
    url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeRailway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Auth {
    Account,
    Project,
}

impl FakeRailway {
    /// Start on `127.0.0.1:0` with the seeded world.
    pub async fn start() -> Self {
        let _ = schema(); // load before the first request so no request pays for it
        let shared = Arc::new(Shared {
            world: Mutex::new(World::new()),
        });
        let app = Router::new()
            .route("/graphql/v2", post(handle))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeRailway {
            url: format!("http://{addr}/graphql/v2"),
            shared,
            task,
        }
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.shared.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The endpoint URL (`http://127.0.0.1:PORT/graphql/v2`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Queue a fault for the next request (faults apply in FIFO order, one per request).
    pub fn push_fault(&self, fault: Fault) {
        self.world().faults.push_back(fault);
    }

    /// Make the next deployment of `service_id` end in `status` (`"FAILED"` fails the build; `"CRASHED"` or
    /// any other status ends the deploy phase there).
    pub fn fail_next_deploy(&self, service_id: &str, status: &'static str) {
        self.world().outcomes.insert(service_id.into(), status);
    }

    /// Pin a deployment to one of the 13 statuses (to exercise status mapping end to end).
    pub fn force_status(&self, deployment_id: &str, status: &'static str) {
        assert!(STATUSES.contains(&status), "unknown status {status}");
        let now = Instant::now();
        let mut w = self.world();
        if let Some(d) = w.deps.iter_mut().find(|d| d.id == deployment_id) {
            d.forced = Some((status, now));
        }
    }

    /// Set how long builds and deploy phases take (tokio time).
    pub fn set_timings(&self, build: Duration, deploy: Duration) {
        let mut w = self.world();
        w.build_time = build;
        w.deploy_time = deploy;
    }

    /// Allow `limit` requests per `window`; past that the fake answers 429 with `Retry-After`.
    pub fn set_rate_limit(&self, limit: u64, window: Duration) {
        let mut w = self.world();
        w.rate_limit = limit;
        w.rate_window = window;
        w.window_start = Instant::now();
        w.window_used = 0;
    }

    /// Add a service (one instance per environment, running `v1.0`); returns its id.
    pub fn add_service(&self, name: &str, replicas: i64) -> String {
        let mut w = self.world();
        let id = format!("svc-{name}");
        w.services.push(Svc {
            id: id.clone(),
            name: name.into(),
            replicas,
        });
        let envs: Vec<String> = w.envs.iter().map(|(e, _)| e.clone()).collect();
        let now = Instant::now();
        for e in envs {
            let dep = w.next_id();
            let seq = w.counter;
            w.deps.push(Dep {
                seq,
                id: dep,
                env: e,
                svc: id.clone(),
                created: now,
                plan: vec![(Duration::ZERO, "SUCCESS")],
                meta: json!({"commitHash": "v1.0", "reason": "deploy"}),
                restarted: None,
                forced: None,
            });
        }
        id
    }

    /// Append a runtime log line to a deployment, timestamped now.
    pub fn push_log(&self, deployment_id: &str, severity: &'static str, message: &str) {
        let now = Instant::now();
        self.world().logs.push(LogLine {
            deployment: deployment_id.into(),
            build: false,
            at: now,
            severity,
            message: message.into(),
        });
    }

    /// A variable as stored (`service_id: None` for shared variables).
    pub fn variable(&self, env: &str, service_id: Option<&str>, name: &str) -> Option<String> {
        self.world()
            .vars
            .get(&(env.to_owned(), service_id.map(str::to_owned)))
            .and_then(|m| m.get(name).cloned())
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.world().requests.clone()
    }

    /// How many requests named `operation` were received.
    pub fn count(&self, operation: &str) -> usize {
        self.world()
            .requests
            .iter()
            .filter(|r| r.operation.as_deref() == Some(operation))
            .count()
    }

    /// Ids of the deployments of one instance, newest first.
    pub fn deployment_ids(&self, env: &str, service_id: &str) -> Vec<String> {
        self.world()
            .deps_of(env, service_id)
            .iter()
            .map(|d| d.id.clone())
            .collect()
    }

    /// The wall-clock time the fake reports for "now" (it follows tokio time).
    pub fn now(&self) -> DateTime<Utc> {
        self.world().clock.now()
    }
}

fn gql_errors(messages: impl IntoIterator<Item = String>) -> Value {
    json!({
        "data": null,
        "errors": messages.into_iter().map(|m| json!({"message": m})).collect::<Vec<_>>(),
    })
}

fn with_limits(mut resp: Response, limit: u64, remaining: u64, reset: Duration) -> Response {
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(h, "x-ratelimit-limit", limit.to_string());
    set(h, "x-ratelimit-remaining", remaining.to_string());
    set(h, "x-ratelimit-reset", reset.as_secs().max(1).to_string());
    resp
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let auth_header = headers.get("authorization").and_then(|v| v.to_str().ok());
    let project_header = headers
        .get("project-access-token")
        .and_then(|v| v.to_str().ok());
    let auth_kind = if project_header.is_some() {
        "project"
    } else if auth_header.is_some() {
        "bearer"
    } else {
        "none"
    };
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let variables = parsed
        .as_ref()
        .and_then(|v| v.get("variables"))
        .cloned()
        .unwrap_or(Value::Null);
    // Record on arrival, so requests the client gave up on are still counted.
    let (fault, index) = {
        let mut w = shared.world.lock().unwrap_or_else(|p| p.into_inner());
        w.requests.push(RecordedRequest {
            operation: parsed
                .as_ref()
                .and_then(|v| v.get("query"))
                .and_then(Value::as_str)
                .and_then(op_name),
            auth: auth_kind,
            valid: false,
            variables: variables.clone(),
        });
        (w.faults.pop_front(), w.requests.len() - 1)
    };
    if let Some(Fault::Delay(d)) = &fault {
        tokio::time::sleep(*d).await;
    }
    let mut w = shared.world.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    // Rate-limit window.
    if now >= w.window_start + w.rate_window {
        w.window_start = now;
        w.window_used = 0;
    }
    let reset = (w.window_start + w.rate_window).saturating_duration_since(now);
    let limit = w.rate_limit;
    let exhausted = w.window_used >= limit;
    if !exhausted {
        w.window_used += 1;
    }
    let remaining = limit.saturating_sub(w.window_used);

    if exhausted {
        let resp = (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", reset.as_secs().max(1).to_string())],
            axum::Json(gql_errors(["Rate limit exceeded".to_owned()])),
        )
            .into_response();
        return with_limits(resp, limit, 0, reset);
    }

    match fault {
        Some(Fault::RateLimited { retry_after }) => {
            let resp = (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", retry_after.as_secs().to_string())],
                axum::Json(gql_errors(["Rate limit exceeded".to_owned()])),
            )
                .into_response();
            return with_limits(resp, limit, 0, retry_after);
        }
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            return with_limits(
                (status, "upstream error").into_response(),
                limit,
                remaining,
                reset,
            );
        }
        Some(Fault::GraphqlError(m)) => {
            return with_limits(
                axum::Json(gql_errors([m])).into_response(),
                limit,
                remaining,
                reset,
            );
        }
        Some(Fault::MalformedBody) => {
            return with_limits(
                (
                    [("content-type", "application/json")],
                    "{\"data\": {\"deploy",
                )
                    .into_response(),
                limit,
                remaining,
                reset,
            );
        }
        Some(Fault::WrongShape) => {
            return with_limits(
                axum::Json(json!({"data": {"unexpected": 1}})).into_response(),
                limit,
                remaining,
                reset,
            );
        }
        _ => {}
    }

    let Some(parsed) = parsed else {
        return with_limits(
            (
                StatusCode::BAD_REQUEST,
                axum::Json(gql_errors(["Invalid JSON body".to_owned()])),
            )
                .into_response(),
            limit,
            remaining,
            reset,
        );
    };
    let Some(query) = parsed.get("query").and_then(Value::as_str) else {
        return with_limits(
            (
                StatusCode::BAD_REQUEST,
                axum::Json(gql_errors(["Must provide query string.".to_owned()])),
            )
                .into_response(),
            limit,
            remaining,
            reset,
        );
    };

    // Authentication, as Railway answers it: errors[] in a 200.
    let auth = match (project_header, auth_header) {
        (Some(t), _) if t == PROJECT_TOKEN => Some(Auth::Project),
        (Some(_), _) => {
            return with_limits(
                axum::Json(gql_errors(["Project Token not found".to_owned()])).into_response(),
                limit,
                remaining,
                reset,
            );
        }
        (None, Some(h)) if h == format!("Bearer {ACCOUNT_TOKEN}") => Some(Auth::Account),
        _ => None,
    };
    let Some(auth) = auth else {
        return with_limits(
            axum::Json(gql_errors(["Not Authorized".to_owned()])).into_response(),
            limit,
            remaining,
            reset,
        );
    };

    let doc = match validate_document(query) {
        Ok(doc) => doc,
        Err(messages) => {
            return with_limits(
                axum::Json(gql_errors(messages)).into_response(),
                limit,
                remaining,
                reset,
            );
        }
    };
    if let Some(r) = w.requests.get_mut(index) {
        r.valid = true;
    }
    let op_name_req = parsed.get("operationName").and_then(Value::as_str);
    let operation = match doc.operations.get(op_name_req) {
        Ok(op) => op,
        Err(e) => {
            return with_limits(
                axum::Json(gql_errors([e.to_graphql_error(&doc.sources).message])).into_response(),
                limit,
                remaining,
                reset,
            );
        }
    };
    let raw_vars: JsonMap = match &variables {
        Value::Null => JsonMap::new(),
        v => serde_json::from_value(v.clone()).unwrap_or_default(),
    };
    let coerced =
        match apollo_compiler::request::coerce_variable_values(schema(), operation, &raw_vars) {
            Ok(c) => c,
            Err(e) => {
                let msg = e.to_graphql_error(&doc.sources).message;
                return with_limits(
                    axum::Json(gql_errors([msg])).into_response(),
                    limit,
                    remaining,
                    reset,
                );
            }
        };
    let root_type = match operation.operation_type {
        apollo_compiler::executable::OperationType::Query => "Query",
        apollo_compiler::executable::OperationType::Mutation => "Mutation",
        apollo_compiler::executable::OperationType::Subscription => "Subscription",
    };
    let resolver = Resolver {
        world: RefCell::new(&mut w),
        auth,
        now,
    };
    let root = Root {
        type_name: root_type,
        schema: schema(),
        resolver: &resolver,
    };
    let result = Execution::new(schema(), &doc)
        .operation(operation)
        .coerced_variable_values(&coerced)
        .execute_sync(&root);
    let body = match result {
        Ok(resp) => serde_json::to_value(&resp)
            .map(strip_resolver_prefix)
            .unwrap_or_else(|_| gql_errors(["fake: serialize".to_owned()])),
        Err(e) => gql_errors([e.to_graphql_error(&doc.sources).message]),
    };
    with_limits(axum::Json(body).into_response(), limit, remaining, reset)
}

/// apollo-compiler prefixes field errors with "resolver error: "; Railway's messages have no prefix.
fn strip_resolver_prefix(mut body: Value) -> Value {
    if let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) {
        for e in errors {
            if let Some(m) = e.get("message").and_then(Value::as_str)
                && let Some(rest) = m.strip_prefix("resolver error: ")
            {
                e["message"] = Value::String(rest.to_owned());
            }
        }
    }
    body
}

fn op_name(query: &str) -> Option<String> {
    let q = query.trim_start();
    let rest = q
        .strip_prefix("query")
        .or_else(|| q.strip_prefix("mutation"))
        .or_else(|| q.strip_prefix("subscription"))?;
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

struct Resolver<'a, 'b> {
    world: RefCell<&'a mut std::sync::MutexGuard<'b, World>>,
    auth: Auth,
    now: Instant,
}

fn s<'v>(args: &'v Value, k: &str) -> Option<&'v str> {
    args.get(k).and_then(Value::as_str)
}

impl Resolver<'_, '_> {
    fn check_env(&self, env: &str) -> Result<(), String> {
        if self.auth == Auth::Project && env != PRODUCTION {
            return Err("Not Authorized".into());
        }
        let w = self.world.borrow();
        if w.envs.iter().any(|(e, _)| e == env) {
            Ok(())
        } else {
            Err("Environment not found".into())
        }
    }

    fn check_project(&self, project: Option<&str>) -> Result<(), String> {
        match project {
            Some(p) if p != PROJECT_ID => Err("Project not found".into()),
            _ => Ok(()),
        }
    }

    fn svc(&self, id: &str) -> Result<Svc, String> {
        self.world
            .borrow()
            .services
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or_else(|| "Service not found".to_owned())
    }
}

impl RootResolver for Resolver<'_, '_> {
    fn resolve(&self, field: &str, args: &Value) -> Result<Value, String> {
        let now = self.now;
        match field {
            "projectToken" => {
                if self.auth != Auth::Project {
                    return Err("Project Token not found".into());
                }
                Ok(
                    json!({"projectId": PROJECT_ID, "environmentId": PRODUCTION, "id": "pt-1", "name": "ci"}),
                )
            }
            "project" => {
                self.check_project(s(args, "id"))?;
                let w = self.world.borrow();
                let envs: Vec<Value> = w
                    .envs
                    .iter()
                    .filter(|(e, _)| self.auth == Auth::Account || e == PRODUCTION)
                    .map(|(id, name)| json!({"node": {"id": id, "name": name}}))
                    .collect();
                let services: Vec<Value> = w
                    .services
                    .iter()
                    .map(|s| json!({"node": {"id": s.id, "name": s.name}}))
                    .collect();
                Ok(json!({
                    "id": PROJECT_ID,
                    "name": "yourapp",
                    "environments": {"edges": envs},
                    "services": {"edges": services},
                }))
            }
            "environment" => {
                let env = s(args, "id").unwrap_or_default().to_owned();
                self.check_project(s(args, "projectId"))?;
                self.check_env(&env)?;
                let w = self.world.borrow();
                let name = w
                    .envs
                    .iter()
                    .find(|(e, _)| *e == env)
                    .map(|(_, n)| n.clone());
                let edges: Vec<Value> = w
                    .services
                    .iter()
                    .map(|svc| json!({"node": w.instance_json(&env, svc, now)}))
                    .collect();
                Ok(json!({
                    "id": env,
                    "name": name,
                    "projectId": PROJECT_ID,
                    "serviceInstances": {"edges": edges, "pageInfo": {"hasNextPage": false, "endCursor": null}},
                }))
            }
            "serviceInstance" => {
                let env = s(args, "environmentId").unwrap_or_default().to_owned();
                self.check_env(&env)?;
                let svc = self.svc(s(args, "serviceId").unwrap_or_default())?;
                Ok(self.world.borrow().instance_json(&env, &svc, now))
            }
            "deployment" => {
                let id = s(args, "id").unwrap_or_default();
                let w = self.world.borrow();
                let d = w
                    .deps
                    .iter()
                    .find(|d| d.id == id)
                    .ok_or_else(|| "Deployment not found".to_owned())?;
                if self.auth == Auth::Project && d.env != PRODUCTION {
                    return Err("Not Authorized".into());
                }
                Ok(w.dep_json(d, now))
            }
            "deployments" => {
                let input = args.get("input").cloned().unwrap_or(Value::Null);
                self.check_project(s(&input, "projectId"))?;
                let env = s(&input, "environmentId").map(str::to_owned);
                if let Some(e) = &env {
                    self.check_env(e)?;
                }
                let svc = s(&input, "serviceId").map(str::to_owned);
                let first = args
                    .get("first")
                    .and_then(Value::as_i64)
                    .unwrap_or(100)
                    .max(0) as usize;
                let status_in: Option<Vec<String>> = input
                    .get("status")
                    .and_then(|s| s.get("in"))
                    .and_then(|v| serde_json::from_value(v.clone()).ok());
                let w = self.world.borrow();
                let mut deps: Vec<&Dep> = w
                    .deps
                    .iter()
                    .filter(|d| env.as_deref().is_none_or(|e| d.env == e))
                    .filter(|d| svc.as_deref().is_none_or(|s| d.svc == s))
                    .filter(|d| {
                        status_in
                            .as_ref()
                            .is_none_or(|set| set.iter().any(|s| s == w.status(d, now).0))
                    })
                    .collect();
                deps.sort_by_key(|d| std::cmp::Reverse(d.seq));
                let edges: Vec<Value> = deps
                    .into_iter()
                    .take(first)
                    .map(|d| json!({"node": w.dep_json(d, now), "cursor": d.id}))
                    .collect();
                Ok(json!({"edges": edges, "pageInfo": {"hasNextPage": false}}))
            }
            "serviceInstanceDeployV2" => {
                let env = s(args, "environmentId").unwrap_or_default().to_owned();
                self.check_env(&env)?;
                let svc = self.svc(s(args, "serviceId").unwrap_or_default())?;
                let mut w = self.world.borrow_mut();
                let image = w.images.get(&(env.clone(), svc.id.clone())).cloned();
                let meta = match (s(args, "commitSha"), image) {
                    (Some(sha), _) => json!({"commitHash": sha, "reason": "deploy"}),
                    (None, Some(img)) => json!({"image": img, "reason": "deploy"}),
                    (None, None) => json!({"commitHash": "latest", "reason": "deploy"}),
                };
                let id = w.create_deployment(&env, &svc.id, meta, true, now);
                Ok(json!(id))
            }
            "serviceInstanceUpdate" => {
                let env = s(args, "environmentId").unwrap_or_default().to_owned();
                self.check_env(&env)?;
                let svc = self.svc(s(args, "serviceId").unwrap_or_default())?;
                if let Some(img) = args
                    .get("input")
                    .and_then(|i| i.get("source"))
                    .and_then(|s| s.get("image"))
                    .and_then(Value::as_str)
                {
                    self.world
                        .borrow_mut()
                        .images
                        .insert((env, svc.id), img.to_owned());
                }
                Ok(json!(true))
            }
            "deploymentRollback" => {
                let id = s(args, "id").unwrap_or_default();
                let mut w = self.world.borrow_mut();
                let d = w
                    .deps
                    .iter()
                    .find(|d| d.id == id)
                    .cloned()
                    .ok_or_else(|| "Deployment not found".to_owned())?;
                if World::base_status(&d, now).0 != "SUCCESS" {
                    return Err("Deployment cannot be rolled back".into());
                }
                let mut meta = d.meta.clone();
                if let Some(m) = meta.as_object_mut() {
                    m.insert("reason".into(), json!("rollback"));
                }
                w.create_deployment(&d.env, &d.svc, meta, false, now);
                Ok(json!(true))
            }
            "deploymentRestart" => {
                let id = s(args, "id").unwrap_or_default();
                let mut w = self.world.borrow_mut();
                let d = w
                    .deps
                    .iter_mut()
                    .find(|d| d.id == id)
                    .ok_or_else(|| "Deployment not found".to_owned())?;
                d.restarted = Some(now);
                Ok(json!(true))
            }
            "variables" => {
                self.check_project(s(args, "projectId"))?;
                let env = s(args, "environmentId").unwrap_or_default().to_owned();
                self.check_env(&env)?;
                let svc = s(args, "serviceId").map(str::to_owned);
                if let Some(sv) = &svc {
                    self.svc(sv)?;
                }
                let w = self.world.borrow();
                Ok(json!(w.vars.get(&(env, svc)).cloned().unwrap_or_default()))
            }
            "variableUpsert" | "variableCollectionUpsert" | "variableDelete" => {
                let input = args.get("input").cloned().unwrap_or(Value::Null);
                self.check_project(s(&input, "projectId"))?;
                let env = s(&input, "environmentId").unwrap_or_default().to_owned();
                self.check_env(&env)?;
                let svc = s(&input, "serviceId").map(str::to_owned);
                if let Some(sv) = &svc {
                    self.svc(sv)?;
                }
                let skip = input
                    .get("skipDeploys")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let mut w = self.world.borrow_mut();
                let key = (env.clone(), svc.clone());
                match field {
                    "variableUpsert" => {
                        let name = s(&input, "name").unwrap_or_default().to_owned();
                        let value = s(&input, "value").unwrap_or_default().to_owned();
                        w.vars.entry(key).or_default().insert(name, value);
                    }
                    "variableCollectionUpsert" => {
                        let map = input
                            .get("variables")
                            .and_then(Value::as_object)
                            .ok_or_else(|| "variables must be an object".to_owned())?;
                        let mut parsed = BTreeMap::new();
                        for (k, v) in map {
                            let v = v
                                .as_str()
                                .ok_or_else(|| format!("Variable {k} must be a string"))?;
                            parsed.insert(k.clone(), v.to_owned());
                        }
                        let replace = input
                            .get("replace")
                            .and_then(Value::as_bool)
                            .unwrap_or(false);
                        let entry = w.vars.entry(key).or_default();
                        if replace {
                            *entry = parsed;
                        } else {
                            entry.extend(parsed);
                        }
                    }
                    _ => {
                        let name = s(&input, "name").unwrap_or_default();
                        if let Some(m) = w.vars.get_mut(&key) {
                            m.remove(name);
                        }
                    }
                }
                // A variable change redeploys the service it belongs to, unless skipDeploys.
                if !skip
                    && field != "variableDelete"
                    && let Some(sv) = &svc
                {
                    let meta = w
                        .deps_of(&env, sv)
                        .first()
                        .map(|d| d.meta.clone())
                        .unwrap_or(json!({}));
                    let mut meta = meta;
                    if let Some(m) = meta.as_object_mut() {
                        m.insert("reason".into(), json!("variables"));
                    }
                    w.create_deployment(&env, sv, meta, false, now);
                }
                Ok(json!(true))
            }
            "deploymentLogs" | "buildLogs" | "environmentLogs" => {
                let w = self.world.borrow();
                let build = field == "buildLogs";
                let (start, end) = if field == "environmentLogs" {
                    let env = s(args, "environmentId").unwrap_or_default().to_owned();
                    drop(w);
                    self.check_env(&env)?;
                    let w2 = self.world.borrow();
                    let (a, b) = (
                        parse_date(s(args, "afterDate")),
                        parse_date(s(args, "beforeDate")),
                    );
                    let limit = args
                        .get("afterLimit")
                        .and_then(Value::as_i64)
                        .unwrap_or(500)
                        .max(0) as usize;
                    return Ok(logs_json(
                        &w2,
                        |l| {
                            w2.deps.iter().any(|d| d.id == l.deployment && d.env == env) && !l.build
                        },
                        a,
                        b,
                        s(args, "filter"),
                        limit,
                        now,
                    ));
                } else {
                    (
                        parse_date(s(args, "startDate")),
                        parse_date(s(args, "endDate")),
                    )
                };
                let dep = s(args, "deploymentId").unwrap_or_default().to_owned();
                if !w.deps.iter().any(|d| d.id == dep) {
                    return Err("Deployment not found".into());
                }
                let limit = args
                    .get("limit")
                    .and_then(Value::as_i64)
                    .unwrap_or(500)
                    .max(0) as usize;
                Ok(logs_json(
                    &w,
                    |l| l.deployment == dep && l.build == build,
                    start,
                    end,
                    s(args, "filter"),
                    limit,
                    now,
                ))
            }
            other => Err(format!(
                "fake Railway: {other} is valid but not implemented by the fake"
            )),
        }
    }
}

fn parse_date(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

fn logs_json(
    w: &World,
    pick: impl Fn(&LogLine) -> bool,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    filter: Option<&str>,
    limit: usize,
    now: Instant,
) -> Value {
    let mut lines: Vec<&LogLine> = w
        .logs
        .iter()
        .filter(|l| l.at <= now && pick(l))
        .filter(|l| {
            let t = w.clock.at(l.at);
            start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
        })
        .filter(|l| filter.is_none_or(|f| f.is_empty() || l.message.contains(f)))
        .collect();
    lines.sort_by_key(|l| l.at);
    if lines.len() > limit {
        lines.drain(..lines.len() - limit);
    }
    let dep_service = |id: &str| w.deps.iter().find(|d| d.id == id).map(|d| d.svc.clone());
    Value::Array(
        lines
            .into_iter()
            .map(|l| {
                json!({
                    "timestamp": w.clock.at(l.at).to_rfc3339_opts(SecondsFormat::Nanos, true),
                    "message": l.message,
                    "severity": l.severity,
                    "attributes": [{"key": "level", "value": l.severity}],
                    "tags": {"deploymentId": l.deployment, "serviceId": dep_service(&l.deployment)},
                })
            })
            .collect(),
    )
}
