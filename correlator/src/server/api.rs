//! The HTTPS API (mutual TLS; the client certificate's common name is the sender's
//! name):
//!
//! - `POST /api/v1/logs`: host log events as JSON — one object per line, objects one
//!   after another (pretty-printed, as `evtx_dump -o json` writes), or arrays of
//!   objects. Answers once the events went through detection and their alerts are
//!   stored: `200 {"accepted": N, "rejected": M, "alerts": K, "errors": [...]}` (the
//!   first 20 errors, each naming its lines); `400` when nothing in the body is an
//!   event; `413` over `ingest.max_body_bytes`; `503` when the correlator is stopping.
//! - `POST /api/v1/findings`: what a Gatewatch sensor ships: one JSON object per line,
//!   `{"id": "...", "record": <EVE record>}`. Alerts are stored (and go through the
//!   incident engine); every record's id is remembered, prefixed with the sender's
//!   certificate name, so a batch sent twice is stored once. The body is parsed and
//!   committed 8,192 lines at a time (`super::shipped`). Answers after the commit:
//!   `200 {"stored": N, "duplicates": M, "rejected": K, "errors": [...]}`; `400` when no
//!   line is a finding; `403` without a client certificate name.
//! - `GET /api/v1/sensors`: every sensor known from its heartbeats (the `stats` records
//!   it ships): up or down, last heartbeat, version, rule generation, packets, drops,
//!   spool bytes.
//! - `GET /api/v1/stats`: the counters of listeners and detection.
//! - `GET /api/v1/health`: `{"status": "ok"}`.
//! - `GET /metrics`: the same counters in Prometheus text (`gatewatch_correlator_…`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;

use super::limits::IdleTimeout;
use super::{now_us, submit, tls, ListenerStats, Shared};
use crate::ingest::hostlog::{HostLogEvent, Via};

/// Who is calling: the address, the client certificate's name and its role.
#[derive(Clone, Debug)]
pub struct Client {
    /// The peer's address.
    pub addr: SocketAddr,
    /// The client certificate's common name.
    pub name: Option<String>,
    /// What the certificate may do (sensor, console, agent).
    pub role: CertRole,
}

/// What a client certificate may do, from the role `gatewatch pki issue` wrote in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertRole {
    /// A sensor: post findings, EVE and logs; read the counters.
    Sensor,
    /// A log forwarder on an agency's host: post host logs only.
    Forwarder,
    /// A reader (a dashboard, a script): read incidents and counters only.
    Reader,
    /// A certificate issued before roles existed: everything, as before (a warning is
    /// logged; issue it again with a role).
    Unrestricted,
}

impl CertRole {
    pub(crate) fn of_unit(unit: Option<&str>) -> CertRole {
        match unit {
            Some("gatewatch-sensor") => CertRole::Sensor,
            Some("gatewatch-forwarder") => CertRole::Forwarder,
            Some("gatewatch-reader") => CertRole::Reader,
            _ => CertRole::Unrestricted,
        }
    }

    fn name(self) -> &'static str {
        match self {
            CertRole::Sensor => "sensor",
            CertRole::Forwarder => "log forwarder",
            CertRole::Reader => "reader",
            CertRole::Unrestricted => "certificate without a role",
        }
    }

    /// May this role call `method path`?
    pub fn may(self, method: &axum::http::Method, path: &str) -> bool {
        use axum::http::Method;
        let read = *method == Method::GET || *method == Method::HEAD;
        match self {
            _ if path == "/api/v1/health" => true,
            CertRole::Unrestricted => true,
            CertRole::Sensor => {
                (*method == Method::POST
                    && matches!(path, "/api/v1/findings" | "/api/v1/eve" | "/api/v1/logs"))
                    || (read && matches!(path, "/api/v1/stats" | "/metrics" | "/api/v1/sensors"))
            }
            CertRole::Forwarder => *method == Method::POST && path == "/api/v1/logs",
            CertRole::Reader => read,
        }
    }
}

/// Refuses what the certificate's role may not do (`403`, counted).
async fn authorize(
    State(shared): State<Arc<Shared>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let role = req.extensions().get::<Client>().map_or(CertRole::Unrestricted, |c| c.role);
    if role.may(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    ListenerStats::bump(&shared.listeners.forbidden);
    let msg = format!("a {} may not {} {}", role.name(), req.method(), req.uri().path());
    (StatusCode::FORBIDDEN, Json(json!({"error": msg}))).into_response()
}

/// Errors of a body listed in the reply at most.
pub(super) const MAX_ERRORS_IN_REPLY: usize = 20;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.cfg.max_body_bytes;
    Router::new()
        .route("/api/v1/logs", post(post_logs))
        .route("/api/v1/findings", post(super::shipped::post_findings))
        .route("/api/v1/eve", post(super::shipped::post_eve))
        .route("/api/v1/incidents", get(list_incidents))
        .route("/api/v1/incidents/{id}", get(get_incident))
        .route(
            "/api/v1/sensors",
            get(|State(s): State<Arc<Shared>>| async move {
                let list: Vec<super::sensors::SensorHealth> = s
                    .sensors
                    .lock()
                    .map(|s| s.by_name.values().cloned().collect())
                    .unwrap_or_default();
                Json(json!(list))
            }),
        )
        .route(
            "/api/v1/stats",
            get(|State(s): State<Arc<Shared>>| async move { Json(s.stats_json()) }),
        )
        .route("/api/v1/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route(
            "/metrics",
            get(|State(s): State<Arc<Shared>>| async move {
                use gatewatch_rules::metrics::{exposition, Tree, CONTENT_TYPE};
                let stats = s.stats_json();
                let tree = Tree { prefix: "gatewatch_correlator", value: &stats, labels: vec![] };
                ([("content-type", CONTENT_TYPE)], exposition(&[tree]))
            }),
        )
        .layer(DefaultBodyLimit::max(limit))
        // The body is read (within the limits) before the role is checked, so that a
        // refused client that writes its whole body first still reads the answer.
        .layer(axum::middleware::from_fn_with_state(shared.clone(), authorize))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), super::limits::admit))
        .with_state(shared)
}

async fn post_logs(
    State(shared): State<Arc<Shared>>,
    Extension(client): Extension<Client>,
    body: axum::body::Bytes,
) -> (StatusCode, Json<serde_json::Value>) {
    ListenerStats::bump(&shared.listeners.https_requests);
    let who = client.clone();
    let (events, mut errors) = match off_workers(move || read_logs(&body, &who)).await {
        Ok(x) => x,
        Err(e) => return e,
    };
    let (accepted, rejected) = (events.len(), errors.len());
    shared.listeners.https_events.fetch_add(accepted as u64, std::sync::atomic::Ordering::Relaxed);
    shared
        .listeners
        .https_bad_events
        .fetch_add(rejected as u64, std::sync::atomic::Ordering::Relaxed);
    for e in errors.iter().take(3) {
        let who = client.name.clone().unwrap_or_else(|| client.addr.to_string());
        shared.log_error(|| format!("POST /api/v1/logs from {who}: {e}"));
    }
    errors.truncate(MAX_ERRORS_IN_REPLY);
    if accepted == 0 {
        let status = if rejected == 0 { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        return (
            status,
            Json(json!({"accepted": 0, "rejected": rejected, "alerts": 0, "errors": errors})),
        );
    }
    match submit(&shared, events).await {
        Ok(outcome) => (
            StatusCode::OK,
            Json(
                json!({"accepted": accepted, "rejected": rejected, "alerts": outcome.alerts, "errors": errors}),
            ),
        ),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": e.to_string()}))),
    }
}

/// Runs `read` (parsing a body: linear, but a large body still takes a while) on the
/// blocking pool, off the threads that serve every connection.
pub(super) async fn off_workers<T: Send + 'static>(
    read: impl FnOnce() -> T + Send + 'static,
) -> Result<T, (StatusCode, Json<serde_json::Value>)> {
    tokio::task::spawn_blocking(read).await.map_err(|_| {
        (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "reading the body failed"})))
    })
}

/// The host log events of a `/logs` body, and what could not be read, by lines.
fn read_logs(body: &[u8], client: &Client) -> (Vec<HostLogEvent>, Vec<String>) {
    let received_us = now_us();
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let read = gatewatch_rules::sigma::host::for_each_event(
        body,
        |event| {
            events.push(HostLogEvent {
                event,
                received_us,
                peer: Some(client.addr.ip()),
                sender: client.name.clone(),
                via: Via::Https,
                forwarded: client.role == CertRole::Forwarder,
            })
        },
        |e| errors.push(e),
    );
    if let Err(e) = read {
        errors.push(format!("cannot read the body: {e}"));
    }
    (events, errors)
}

/// Query of `GET /api/v1/incidents`.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    /// Comma-separated statuses.
    status: Option<String>,
    agency: Option<String>,
    entity: Option<String>,
    min_score: Option<u32>,
    tactic: Option<String>,
    q: Option<String>,
    /// `score` or `last_seen` (default).
    sort: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

fn api_error(
    status: StatusCode,
    code: &str,
    message: String,
) -> (StatusCode, Json<serde_json::Value>) {
    (status, Json(json!({"error": {"code": code, "message": message}})))
}

/// Runs a read query on a connection of its own, off the I/O threads.
async fn read<T: serde::Serialize + Send + 'static>(
    shared: &Shared,
    f: impl FnOnce(&crate::store::Store) -> Result<Option<T>, crate::store::StoreError> + Send + 'static,
) -> (StatusCode, Json<serde_json::Value>) {
    let path = shared.store_path.clone();
    let r = tokio::task::spawn_blocking(move || {
        let store = crate::store::Store::open_reader(&path)?;
        f(&store)
    })
    .await;
    match r {
        Ok(Ok(Some(v))) => (StatusCode::OK, Json(serde_json::to_value(v).unwrap_or_default())),
        Ok(Ok(None)) => api_error(StatusCode::NOT_FOUND, "not_found", "no such incident".into()),
        Ok(Err(e)) => api_error(StatusCode::INTERNAL_SERVER_ERROR, "store", e.to_string()),
        Err(e) => api_error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
    }
}

async fn list_incidents(
    State(shared): State<Arc<Shared>>,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> (StatusCode, Json<serde_json::Value>) {
    let mut status = Vec::new();
    for s in q.status.iter().flat_map(|s| s.split(',')).filter(|s| !s.trim().is_empty()) {
        match crate::store::Status::parse(s) {
            Some(st) => status.push(st.as_str().to_string()),
            None => {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "bad_status",
                    format!("unknown status `{s}`"),
                )
            }
        }
    }
    let f = crate::store::IncidentFilter {
        status,
        agency: q.agency,
        entity: q.entity,
        min_score: q.min_score,
        tactic: q.tactic,
        text: q.q,
        order: if q.sort.as_deref() == Some("score") {
            crate::store::IncidentOrder::Score
        } else {
            crate::store::IncidentOrder::LastSeen
        },
        limit: q.limit.unwrap_or(50).clamp(1, 1000),
        offset: q.offset.unwrap_or(0),
        ..Default::default()
    };
    read(&shared, move |s| s.find_incidents(&f).map(Some)).await
}

async fn get_incident(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> (StatusCode, Json<serde_json::Value>) {
    read(&shared, move |s| s.incident_record(id, 500)).await
}

pub(super) async fn serve(
    listener: TcpListener,
    tls_cfg: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_cfg);
    let app = router(shared.clone());
    loop {
        let (tcp, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                shared.log_error(|| format!("HTTPS accept: {e}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (acceptor, app, shared) = (acceptor.clone(), app.clone(), shared.clone());
        let span = tracing::info_span!("connection", peer = %addr, listener = "https");
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                let stream =
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            ListenerStats::bump(&shared.listeners.tls_handshake_failures);
                            shared.log_error(|| format!("TLS handshake with {addr}: {e}"));
                            return;
                        }
                        Err(_) => {
                            ListenerStats::bump(&shared.listeners.tls_handshake_failures);
                            return;
                        }
                    };
                let leaf = stream.get_ref().1.peer_certificates().and_then(|c| c.first());
                let name = leaf.and_then(|c| tls::common_name(c));
                let role =
                    CertRole::of_unit(leaf.and_then(|c| tls::organizational_unit(c)).as_deref());
                if role == CertRole::Unrestricted {
                    let who = name.clone().unwrap_or_else(|| addr.to_string());
                    shared.log_error(|| {
                    format!("client certificate {who} has no role: allowed everything; issue it again with `gatewatch pki issue --role sensor|forwarder|reader`")
                });
                }
                let app = app.layer(Extension(Client { addr, name, role }));
                let service = hyper_util::service::TowerToHyperService::new(app);
                let idle = Duration::from_secs(shared.cfg.idle_timeout_secs.max(1));
                let served = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .serve_connection(TokioIo::new(IdleTimeout::new(stream, idle)), service)
                    .await;
                if let Err(e) = served {
                    shared.log_error(|| format!("HTTPS connection from {addr}: {e}"));
                }
            },
            span,
        ));
    }
}
