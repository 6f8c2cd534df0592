//! A stateful fake of the Cloud66 API v3 on loopback.
//!
//! [`FakeCloud66::start`] serves the real paths under `/api/3` (`/stacks.json`, `/stacks/{uid}.json`,
//! `/stacks/{uid}/deployments.json`, `/stacks/{uid}/actions/{id}.json`, `/stacks/{uid}/environments.json`,
//! `/stacks/{uid}/environments/{KEY}.json`, `/stacks/{uid}/servers.json`, `/stacks/{uid}/services.json`; the
//! `.json` suffix is optional) with Cloud66's wrapping: `{"response": ..., "count": N, "pagination": {...}}`
//! for lists, `{"response": ...}` for objects, and `{"error", "error_description", "details"}` with a non-2xx
//! status for errors. Deploys, restarts and variable writes are async actions that finish over tokio time
//! (use paused time). Throttling is `503 {"error": "throttled"}`, as Cloud66 sends it.
//!
//! Seeded with two stacks: `stk-staging` (`yourapp-staging`) and `stk-production` (`yourapp-production`),
//! each live on git ref `v1.0` with services `web` and `worker` and three servers.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use runway_testkit::fake_cloud66::FakeCloud66;
//! let fake = FakeCloud66::start().await;
//! assert!(fake.base_url().ends_with("/api/3"));
//! # }
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use runway_core::TokioClock;
use serde_json::{Value, json};
use tokio::time::Instant;

/// The token the fake accepts (`Authorization: Bearer <TOKEN>`).
pub const TOKEN: &str = "fake-cloud66-token-5d1e";
/// The staging stack's uid.
pub const STAGING: &str = "stk-staging";
/// The production stack's uid.
pub const PRODUCTION: &str = "stk-production";

/// A fault injected into the next request(s), in FIFO order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer this request normally (to aim a later fault at a later request).
    Pass,
    /// `503 {"error": "throttled"}` (Cloud66's rate limiting).
    Throttled,
    /// An error envelope with this status and error id.
    Error(u16, &'static str),
    /// A bare status with a non-JSON body.
    Status(u16),
    /// HTTP 200 with a body that is not JSON.
    MalformedBody,
    /// Answer only after this long (tokio time).
    Delay(Duration),
}

#[derive(Debug, Clone)]
struct Action {
    id: u64,
    stack: String,
    action: String,
    started: Instant,
    finishes: Instant,
    success: bool,
}

#[derive(Debug, Clone)]
struct Dep {
    id: u64,
    stack: String,
    git_hash: String,
    started: Instant,
    finishes: Instant,
    success: bool,
}

#[derive(Debug, Clone)]
struct EnvVar {
    id: u64,
    key: String,
    value: String,
    readonly: bool,
}

#[derive(Debug)]
struct World {
    clock: TokioClock,
    stacks: Vec<(String, String, String)>,
    deps: Vec<Dep>,
    actions: Vec<Action>,
    vars: BTreeMap<String, Vec<EnvVar>>,
    faults: VecDeque<Fault>,
    fail_next: Option<String>,
    per_page: usize,
    deploy_time: Duration,
    action_time: Duration,
    counter: u64,
    requests: Vec<(String, String)>,
}

impl World {
    fn new() -> Self {
        let now = Instant::now();
        let mut w = World {
            clock: TokioClock::now_system(),
            stacks: vec![
                (STAGING.into(), "yourapp-staging".into(), "staging".into()),
                (
                    PRODUCTION.into(),
                    "yourapp-production".into(),
                    "production".into(),
                ),
            ],
            deps: Vec::new(),
            actions: Vec::new(),
            vars: BTreeMap::new(),
            faults: VecDeque::new(),
            fail_next: None,
            per_page: 30,
            deploy_time: Duration::from_secs(6),
            action_time: Duration::from_secs(2),
            counter: 100,
            requests: Vec::new(),
        };
        for s in [STAGING, PRODUCTION] {
            let id = w.next();
            w.deps.push(Dep {
                id,
                stack: s.into(),
                git_hash: "v1.0".into(),
                started: now,
                finishes: now,
                success: true,
            });
            let vid = w.next();
            w.vars.entry(s.into()).or_default().push(EnvVar {
                id: vid,
                key: "STACK_BASE".into(),
                value: "generated".into(),
                readonly: true,
            });
        }
        w
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn iso(&self, t: Instant) -> String {
        self.clock.at(t).to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    fn action_json(&self, a: &Action, now: Instant) -> Value {
        let done = now >= a.finishes;
        json!({
            "id": a.id,
            "user": "dev@yourapp.com",
            "resource_type": "stack",
            "action": a.action,
            "resource_id": a.stack,
            "started_via": "api",
            "started_at": self.iso(a.started),
            "finished_at": if done { json!(self.iso(a.finishes)) } else { Value::Null },
            "finished_success": if done { json!(a.success) } else { Value::Null },
            "finished_message": if done { json!(if a.success { "done" } else { "failed" }) } else { Value::Null },
        })
    }

    fn live(&self, stack: &str, now: Instant) -> Option<&Dep> {
        self.deps
            .iter()
            .filter(|d| d.stack == stack && d.success && now >= d.finishes)
            .max_by_key(|d| d.id)
    }

    fn dep_json(&self, d: &Dep, now: Instant) -> Value {
        let done = now >= d.finishes;
        let live = self.live(&d.stack, now).map(|l| l.id) == Some(d.id);
        json!({
            "id": d.id,
            "triggered_by": "dev@yourapp.com",
            "triggered_via": {"code": 3, "meaning": "api"},
            "started_at": self.iso(d.started),
            "finished_at": if done { json!(self.iso(d.finishes)) } else { Value::Null },
            "outcome": if !done { Value::Null } else if d.success { json!({"code": 1, "meaning": "success"}) } else { json!({"code": 2, "meaning": "failed"}) },
            "git_hash": d.git_hash,
            "deploy_type": {"code": 0, "meaning": "build"},
            "is_head": live,
            "is_live": live,
            "reverted": false,
            "is_deploying": !done,
            "commit_url": null,
        })
    }

    fn stack_json(&self, uid: &str, now: Instant) -> Option<Value> {
        let (uid, name, env) = self.stacks.iter().find(|(u, _, _)| u == uid)?;
        let deploying = self
            .deps
            .iter()
            .any(|d| &d.stack == uid && now < d.finishes);
        let last = self
            .deps
            .iter()
            .filter(|d| &d.stack == uid && now >= d.finishes)
            .max_by_key(|d| d.id);
        let status = if deploying {
            6
        } else if last.is_some_and(|d| !d.success) {
            2
        } else {
            1
        };
        Some(json!({
            "uid": uid,
            "name": name,
            "environment": env,
            "git": "git@github.com:yourapp/app.git",
            "git_branch": "main",
            "cloud": "aws",
            "fqdn": format!("{name}.c66.me"),
            "language": "python",
            "framework": "docker",
            "status": status,
            "health": 3,
            "maintenance_mode": false,
            "has_loadbalancer": true,
            "created_at_iso": self.iso(now),
            "updated_at_iso": self.iso(now),
        }))
    }
}

#[derive(Debug)]
struct Shared {
    world: Mutex<World>,
}

/// A running fake Cloud66 API. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeCloud66 {
    base: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeCloud66 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeCloud66 {
    /// Start on `127.0.0.1:0` with the seeded stacks.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            world: Mutex::new(World::new()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeCloud66 {
            base: format!("http://{addr}/api/3"),
            shared,
            task,
        }
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.shared.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The API base URL (`http://127.0.0.1:PORT/api/3`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Queue a fault for the next request.
    pub fn push_fault(&self, fault: Fault) {
        self.world().faults.push_back(fault);
    }

    /// Make the next deployment (or restart) on `stack` fail.
    pub fn fail_next(&self, stack: &str) {
        self.world().fail_next = Some(stack.into());
    }

    /// Page size of list endpoints (default 30, as Cloud66).
    pub fn set_per_page(&self, n: usize) {
        self.world().per_page = n.max(1);
    }

    /// Add an environment variable directly (`readonly` ones cannot be changed through the API).
    pub fn add_variable(&self, stack: &str, key: &str, value: &str, readonly: bool) {
        let mut w = self.world();
        let id = w.next();
        w.vars.entry(stack.into()).or_default().push(EnvVar {
            id,
            key: key.into(),
            value: value.into(),
            readonly,
        });
    }

    /// A variable's value as stored.
    pub fn variable(&self, stack: &str, key: &str) -> Option<String> {
        self.world()
            .vars
            .get(stack)
            .and_then(|v| v.iter().find(|e| e.key == key).map(|e| e.value.clone()))
    }

    /// `(method, path)` of every request so far.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.world().requests.clone()
    }

    /// How many requests had this method and path.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.world()
            .requests
            .iter()
            .filter(|(m, p)| m == method && p == path)
            .count()
    }
}

fn error(status: u16, id: &str, description: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(json!({"error": id, "error_description": description, "details": description})),
    )
        .into_response()
}

fn one(v: Value) -> Response {
    axum::Json(json!({ "response": v })).into_response()
}

fn page(items: Vec<Value>, query: &str, per_page: usize) -> Response {
    let page: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let count = items.len();
    let pages = count.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    axum::Json(json!({
        "response": slice,
        "count": count,
        "pagination": {
            "previous": if page > 1 { json!(page - 1) } else { Value::Null },
            "next": if page < pages { json!(page + 1) } else { Value::Null },
            "current": page,
            "per_page": per_page,
            "count": count,
            "pages": pages,
        }
    }))
    .into_response()
}

fn form_or_json(body: &Bytes) -> Value {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return v;
    }
    // curl-style form parameters (`key=value&...`), as the docs' examples send them.
    let text = String::from_utf8_lossy(body);
    let mut m = serde_json::Map::new();
    for kv in text.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        m.insert(k.to_owned(), json!(v));
    }
    Value::Object(m)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let fault = {
        let mut w = shared.world.lock().unwrap_or_else(|p| p.into_inner());
        w.requests.push((method.to_string(), path.clone()));
        w.faults.pop_front()
    };
    if let Some(Fault::Delay(d)) = &fault {
        tokio::time::sleep(*d).await;
    }
    match fault {
        Some(Fault::Throttled) => {
            return error(503, "throttled", "Your API rate limit has been exceeded");
        }
        Some(Fault::Error(status, id)) => return error(status, id, "injected"),
        Some(Fault::Status(s)) => {
            return (
                StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_GATEWAY),
                "<html>bad gateway</html>",
            )
                .into_response();
        }
        Some(Fault::MalformedBody) => {
            return ([("content-type", "application/json")], "{\"response\": [").into_response();
        }
        _ => {}
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        return error(401, "unauthenticated", "The access token is invalid");
    }
    let Some(rest) = path.strip_prefix("/api/3/") else {
        return error(404, "not_found", "No such endpoint");
    };
    let segs: Vec<String> = rest
        .split('/')
        .map(|s| s.strip_suffix(".json").unwrap_or(s).to_owned())
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let params = form_or_json(&body);
    let now = Instant::now();
    let mut w = shared.world.lock().unwrap_or_else(|p| p.into_inner());
    let per_page = w.per_page;

    if segs == ["stacks"] && method == Method::GET {
        let items = w
            .stacks
            .iter()
            .filter_map(|(u, _, _)| w.stack_json(u, now))
            .collect();
        return page(items, &query, per_page);
    }
    let Some(&"stacks") = segs.first() else {
        return error(404, "not_found", "No such endpoint");
    };
    let Some(stack) = segs.get(1).map(|s| (*s).to_owned()) else {
        return error(404, "not_found", "No such endpoint");
    };
    if !w.stacks.iter().any(|(u, _, _)| *u == stack) {
        return error(404, "not_found", "Stack not found");
    }
    match (&method, &segs[2..]) {
        (&Method::GET, []) => one(w.stack_json(&stack, now).unwrap_or(Value::Null)),
        (&Method::GET, ["deployments"]) => {
            let mut deps: Vec<&Dep> = w.deps.iter().filter(|d| d.stack == stack).collect();
            deps.sort_by_key(|d| std::cmp::Reverse(d.id));
            let items = deps.iter().map(|d| w.dep_json(d, now)).collect();
            page(items, &query, per_page)
        }
        (&Method::GET, ["deployments", id]) => {
            match w
                .deps
                .iter()
                .find(|d| d.stack == stack && d.id.to_string() == *id)
            {
                Some(d) => one(w.dep_json(d, now)),
                None => error(404, "not_found", "Deployment not found"),
            }
        }
        (&Method::POST, ["deployments"]) => {
            let git_ref = params
                .get("git_ref")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let services = params
                .get("services")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let hash = match (git_ref, services) {
                (Some(r), _) => r,
                (None, Some(s)) => s
                    .split(',')
                    .next()
                    .and_then(|p| p.rsplit_once(':'))
                    .map(|(_, tag)| tag.to_owned())
                    .unwrap_or(s),
                (None, None) => "HEAD".into(),
            };
            let success = w.fail_next.as_deref() != Some(stack.as_str());
            if !success {
                w.fail_next = None;
            }
            let aid = w.next();
            let did = w.next();
            let finishes = now + w.deploy_time;
            w.actions.push(Action {
                id: aid,
                stack: stack.clone(),
                action: "stack_redeploy".into(),
                started: now,
                finishes,
                success,
            });
            w.deps.push(Dep {
                id: did,
                stack: stack.clone(),
                git_hash: hash,
                started: now,
                finishes,
                success,
            });
            axum::Json(json!({"ok": true, "message": "Stack queued for redeployment", "queued": true, "async_action_id": aid}))
                .into_response()
        }
        (&Method::DELETE, ["deployments", _id]) => {
            axum::Json(json!({"ok": true, "message": "Cancelling deployment"})).into_response()
        }
        (&Method::GET, ["actions"]) => {
            let items = w
                .actions
                .iter()
                .filter(|a| a.stack == stack)
                .map(|a| w.action_json(a, now))
                .collect();
            page(items, &query, per_page)
        }
        (&Method::GET, ["actions", id]) => {
            match w
                .actions
                .iter()
                .find(|a| a.stack == stack && a.id.to_string() == *id)
            {
                Some(a) => one(w.action_json(a, now)),
                None => error(404, "not_found", "Action not found"),
            }
        }
        (&Method::POST, ["actions"]) => {
            let command = params.get("command").and_then(Value::as_str).unwrap_or("");
            if !["restart", "clear_caches", "maintenance_mode"].contains(&command) {
                return error(400, "bad_request", "Unknown command");
            }
            let success = w.fail_next.as_deref() != Some(stack.as_str());
            if !success {
                w.fail_next = None;
            }
            let id = w.next();
            let a = Action {
                id,
                stack: stack.clone(),
                action: format!("stack_{command}"),
                started: now,
                finishes: now + w.action_time,
                success,
            };
            let json = w.action_json(&a, now);
            w.actions.push(a);
            one(json)
        }
        (&Method::GET, ["environments"]) => {
            let items = w
                .vars
                .get(&stack)
                .map(|v| {
                    v.iter()
                        .map(|e| {
                            json!({"id": e.id, "key": e.key, "value": e.value, "readonly": e.readonly,
                                   "is_password": false, "is_generated": e.readonly,
                                   "created_at_iso": w.iso(now), "updated_at_iso": w.iso(now), "history": []})
                        })
                        .collect()
                })
                .unwrap_or_default();
            page(items, &query, per_page)
        }
        (m, ["environments"]) | (m, ["environments", _]) if *m != Method::GET => {
            let strategy = params.get("apply_strategy").and_then(Value::as_str);
            if !matches!(strategy, None | Some("immediately" | "deployment")) {
                return error(
                    400,
                    "bad_request",
                    "apply_strategy must be immediately or deployment",
                );
            }
            let key = match segs.get(3) {
                Some(k) => (*k).to_owned(),
                None => match params.get("key").and_then(Value::as_str) {
                    Some(k) => k.to_owned(),
                    None => return error(400, "bad_request", "key is required"),
                },
            };
            let value = params
                .get("value")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let id = w.next();
            let vars = w.vars.entry(stack.clone()).or_default();
            let existing = vars.iter().position(|e| e.key == key);
            match (m.as_str(), existing) {
                ("POST", Some(_)) => return error(409, "conflict", "Key already exists"),
                ("POST", None) => vars.push(EnvVar {
                    id,
                    key,
                    value: value.unwrap_or_default(),
                    readonly: false,
                }),
                ("PUT", Some(i)) if vars[i].readonly => {
                    return error(400, "bad_request", "Readonly variable cannot be changed");
                }
                ("PUT", Some(i)) => vars[i].value = value.unwrap_or_default(),
                ("DELETE", Some(i)) if vars[i].readonly => {
                    return error(400, "bad_request", "Readonly variable cannot be deleted");
                }
                ("DELETE", Some(i)) => {
                    vars.remove(i);
                }
                (_, None) => return error(404, "not_found", "Environment variable not found"),
                _ => return error(405, "bad_request", "Method not allowed"),
            }
            let aid = w.next();
            let a = Action {
                id: aid,
                stack: stack.clone(),
                action: "env_var_change".into(),
                started: now,
                finishes: now + w.action_time,
                success: true,
            };
            let json = w.action_json(&a, now);
            w.actions.push(a);
            one(json)
        }
        (&Method::GET, ["servers"]) => {
            let items = (1..=3)
                .map(|i| {
                    json!({"uid": format!("{stack}-srv-{i}"), "name": format!("api-{i}"), "address": format!("10.0.0.{i}"),
                           "distro": "ubuntu", "distro_version": "22.04", "server_type": "docker", "server_roles": ["docker", "web"],
                           "stack_uid": stack, "has_agent": true, "region": "eu-west-1", "health_state": 3})
                })
                .collect();
            page(items, &query, per_page)
        }
        (&Method::GET, ["services"]) => {
            let items = ["web", "worker"]
                .iter()
                .map(|n| json!({"name": n, "containers": [], "source_type": "image", "git_ref": null}))
                .collect();
            page(items, &query, per_page)
        }
        _ => error(404, "not_found", "No such endpoint"),
    }
}
