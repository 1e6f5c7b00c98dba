//! An in-process stand-in for Elasticsearch, for the sink's tests and benchmark
//! (Elasticsearch cannot be installed on the build machines). It implements what the
//! sink uses with Elasticsearch's documented request and response shapes:
//!
//! - `GET /` (version), `PUT /_ilm/policy/{name}`, `PUT /_index_template/{name}`,
//!   `GET /_alias/{name}` (404 when missing), `PUT /{index}` with `aliases`;
//! - `POST /_bulk`: `create` (409 `version_conflict_engine_exception` when the id
//!   exists) and `index` with `version_type: external` (409 when not newer), into
//!   indices that a template covers (else a 400 item: documents before templates is a
//!   bug), or the alias of an index;
//! - faults on demand: a 429 for every Nth item, a 400 `mapper_parsing_exception` for
//!   documents containing a marker, whole requests answered 503 or 429, and outages
//!   (the port refuses connections, open connections are cut).

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};

/// index → id → (version, source).
pub type Docs = HashMap<String, HashMap<String, (i64, Value)>>;

/// What the mock holds and how it misbehaves.
#[derive(Default)]
pub struct MockState {
    pub docs: Mutex<Docs>,
    pub templates: Mutex<HashMap<String, Value>>,
    pub policies: Mutex<HashMap<String, Value>>,
    /// alias → index.
    pub aliases: Mutex<HashMap<String, String>>,
    /// Every Nth bulk item (counted across requests) is answered 429; 0: never.
    pub item_429_every: AtomicUsize,
    /// Documents whose source contains this are refused (400 mapper_parsing_exception).
    pub reject_marker: Mutex<Option<String>>,
    /// The next N bulk requests are answered with this status as a whole.
    pub fail_next: AtomicUsize,
    pub fail_status: AtomicUsize,
    pub bulk_requests: AtomicU64,
    pub items: AtomicU64,
    pub created: AtomicU64,
    pub conflicts: AtomicU64,
    item_counter: AtomicUsize,
}

impl MockState {
    /// Documents stored in indices whose name starts with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.docs
            .lock()
            .unwrap()
            .iter()
            .filter(|(i, _)| i.starts_with(prefix))
            .map(|(_, d)| d.len())
            .sum()
    }

    pub fn doc(&self, index: &str, id: &str) -> Option<(i64, Value)> {
        self.docs.lock().unwrap().get(index).and_then(|d| d.get(id).cloned())
    }
}

/// A running mock: its address, state, and the switch for outages.
pub struct EsMock {
    pub addr: SocketAddr,
    pub state: Arc<MockState>,
    rt: tokio::runtime::Runtime,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// Index patterns: `*` matches any run of characters.
fn pattern_matches(pattern: &str, index: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == index;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !index.starts_with(first) || index.len() < first.len() + last.len() || !index.ends_with(last)
    {
        return false;
    }
    let mut rest = &index[first.len()..index.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn covered(state: &MockState, index: &str) -> bool {
    state.templates.lock().unwrap().values().any(|t| {
        t["index_patterns"].as_array().is_some_and(|ps| {
            ps.iter().any(|p| p.as_str().is_some_and(|p| pattern_matches(p, index)))
        })
    })
}

async fn bulk(State(st): State<Arc<MockState>>, body: Bytes) -> (StatusCode, Json<Value>) {
    st.bulk_requests.fetch_add(1, Ordering::Relaxed);
    if st.fail_next.load(Ordering::Relaxed) > 0 {
        st.fail_next.fetch_sub(1, Ordering::Relaxed);
        let code = StatusCode::from_u16(st.fail_status.load(Ordering::Relaxed) as u16)
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return (
            code,
            Json(
                json!({"error": {"type": "cluster_block_exception", "reason": "blocked by: [SERVICE_UNAVAILABLE/2/no master]"}, "status": code.as_u16()}),
            ),
        );
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let mut items = Vec::new();
    let mut errors = false;
    while let Some(action) = lines.next() {
        let Ok(action) = serde_json::from_str::<Value>(action) else {
            return (
                StatusCode::BAD_REQUEST,
                Json(
                    json!({"error": {"type": "x_content_parse_exception", "reason": "malformed action"}, "status": 400}),
                ),
            );
        };
        let Some((op, meta)) = action.as_object().and_then(|o| o.iter().next()) else {
            return (
                StatusCode::BAD_REQUEST,
                Json(
                    json!({"error": {"type": "illegal_argument_exception", "reason": "empty action"}, "status": 400}),
                ),
            );
        };
        let source_text = lines.next().unwrap_or("");
        let source: Value = serde_json::from_str(source_text).unwrap_or(Value::Null);
        st.items.fetch_add(1, Ordering::Relaxed);
        let mut index = meta["_index"].as_str().unwrap_or("").to_string();
        let id = meta["_id"].as_str().unwrap_or("").to_string();
        if let Some(target) = st.aliases.lock().unwrap().get(&index) {
            index = target.clone();
        }
        let n = st.item_counter.fetch_add(1, Ordering::Relaxed) + 1;
        let every = st.item_429_every.load(Ordering::Relaxed);
        let item = |status: u16, err: Option<Value>| {
            let mut o = json!({"_index": index, "_id": id, "status": status});
            match err {
                Some(e) => o["error"] = e,
                None => {
                    o["result"] = json!("created");
                    o["_version"] = json!(1);
                }
            }
            json!({ op.clone(): o })
        };
        if every > 0 && n % every == 0 {
            errors = true;
            items.push(item(429, Some(json!({"type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating operation"}))));
            continue;
        }
        let marker = st.reject_marker.lock().unwrap().clone();
        if marker.is_some_and(|m| source_text.contains(&m)) {
            errors = true;
            items.push(item(400, Some(json!({"type": "mapper_parsing_exception", "reason": "failed to parse field [destination.ip] of type [ip]"}))));
            continue;
        }
        if !covered(&st, &index) {
            errors = true;
            items.push(item(400, Some(json!({"type": "index_not_found_exception", "reason": format!("no template covers [{index}] (mock: templates first)")}))));
            continue;
        }
        let mut docs = st.docs.lock().unwrap();
        let idx = docs.entry(index.clone()).or_default();
        match op.as_str() {
            "create" => {
                if idx.contains_key(&id) {
                    st.conflicts.fetch_add(1, Ordering::Relaxed);
                    errors = true;
                    items.push(item(409, Some(json!({"type": "version_conflict_engine_exception", "reason": format!("[{id}]: version conflict, document already exists (current version [1])")}))));
                } else {
                    idx.insert(id.clone(), (1, source));
                    st.created.fetch_add(1, Ordering::Relaxed);
                    items.push(item(201, None));
                }
            }
            "index" => {
                let v = meta["version"].as_i64().unwrap_or(1);
                match idx.get(&id) {
                    Some((cur, _)) if *cur >= v && meta["version_type"] == "external" => {
                        st.conflicts.fetch_add(1, Ordering::Relaxed);
                        errors = true;
                        items.push(item(409, Some(json!({"type": "version_conflict_engine_exception", "reason": format!("[{id}]: version conflict, current version [{cur}] is higher or equal to the one provided [{v}]")}))));
                    }
                    _ => {
                        idx.insert(id.clone(), (v, source));
                        items.push(item(201, None));
                    }
                }
            }
            other => {
                errors = true;
                items.push(item(400, Some(json!({"type": "illegal_argument_exception", "reason": format!("mock: op {other}")}))));
            }
        }
    }
    (StatusCode::OK, Json(json!({"took": 1, "errors": errors, "items": items})))
}

fn router(state: Arc<MockState>) -> Router {
    Router::new()
        .route("/", get(|| async { Json(json!({"name": "mock", "cluster_name": "gatewatch-test", "version": {"number": "8.15.0", "build_flavor": "default"}, "tagline": "You Know, for Search"})) }))
        .route(
            "/_ilm/policy/{name}",
            put(|State(st): State<Arc<MockState>>, Path(name): Path<String>, Json(v): Json<Value>| async move {
                st.policies.lock().unwrap().insert(name, v);
                Json(json!({"acknowledged": true}))
            }),
        )
        .route(
            "/_index_template/{name}",
            put(|State(st): State<Arc<MockState>>, Path(name): Path<String>, Json(v): Json<Value>| async move {
                st.templates.lock().unwrap().insert(name, v);
                Json(json!({"acknowledged": true}))
            }),
        )
        .route(
            "/_alias/{name}",
            get(|State(st): State<Arc<MockState>>, Path(name): Path<String>| async move {
                match st.aliases.lock().unwrap().get(&name) {
                    Some(i) => (StatusCode::OK, Json(json!({ i.clone(): {"aliases": { name: {"is_write_index": true}}}}))),
                    None => (StatusCode::NOT_FOUND, Json(json!({"error": format!("alias [{name}] missing"), "status": 404}))),
                }
            }),
        )
        .route(
            "/{index}",
            put(|State(st): State<Arc<MockState>>, Path(index): Path<String>, Json(v): Json<Value>| async move {
                if let Some(a) = v["aliases"].as_object() {
                    for alias in a.keys() {
                        st.aliases.lock().unwrap().insert(alias.clone(), index.clone());
                    }
                }
                Json(json!({"acknowledged": true, "shards_acknowledged": true, "index": index}))
            }),
        )
        .route("/_bulk", post(bulk))
        // Elasticsearch's default http.max_content_length: 100 MB (a larger body is a 413).
        .layer(axum::extract::DefaultBodyLimit::max(100 << 20))
        .with_state(state)
}

async fn serve(listener: tokio::net::TcpListener, app: Router) {
    // Connections live in this set: cutting the server (an outage) cuts them too.
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let app = app.clone();
        conns.spawn(async move {
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                .await;
        });
        while conns.try_join_next().is_some() {}
    }
}

impl EsMock {
    pub fn start() -> EsMock {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let state = Arc::new(MockState::default());
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = rt.spawn(serve(listener, router(state.clone())));
        EsMock { addr, state, rt, server: Some(server) }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An outage: the port refuses connections and open ones are cut.
    pub fn down(&mut self) {
        if let Some(s) = self.server.take() {
            s.abort();
            let _ = self.rt.block_on(s);
        }
    }

    /// Back, on the same port.
    pub fn up(&mut self) {
        if self.server.is_some() {
            return;
        }
        let listener = self.rt.block_on(async {
            for _ in 0..100 {
                match tokio::net::TcpListener::bind(self.addr).await {
                    Ok(l) => return l,
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                }
            }
            panic!("cannot bind {} again", self.addr)
        });
        self.server = Some(self.rt.spawn(serve(listener, router(self.state.clone()))));
    }
}
