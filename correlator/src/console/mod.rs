//! The analyst console: a web UI and a REST API over HTTPS (rustls), with accounts,
//! roles, sessions and API tokens.
//!
//! ```text
//!  browser ──HTTPS──▶ /            the UI (bundled into the binary; no CDN)
//!                     /api/v1/…    REST (JSON; session cookie + CSRF token, or bearer token)
//!                     /api/v1/events   live updates (server-sent events)
//!                     /api/openapi.json
//!                          │
//!                          ▼
//!                    SQLite (read pool + one write connection)
//! ```
//!
//! It runs inside `gatewatch correlator` (`[console] listen`), after `gatewatch demo`,
//! or alone over a store with `gatewatch console`.

pub mod auth;
pub(crate) mod blocks;
pub(crate) mod catalog;
pub(crate) mod db;
pub(crate) mod error;
pub(crate) mod incidents;
pub(crate) mod openapi;
pub(crate) mod reports;
pub(crate) mod ui;
pub(crate) mod wall;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::http::{header, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::incident::engine::IncidentEngine;
use crate::server::Shared;
use crate::store::StoreError;
use auth::{Peer, Throttle};
use db::Db;

/// `[console]` of the configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    /// `address:port` to serve on (HTTPS); empty: no console.
    pub listen: String,
    /// The server's certificate chain and key (PEM).
    pub tls_cert: PathBuf,
    /// Its private key (PEM, mode 0600).
    pub tls_key: PathBuf,
    /// A session ends this long after sign-in …
    pub session_hours: u32,
    /// … or after this long without a request.
    pub idle_minutes: u32,
    /// Failed sign-ins (per account; four times as many per address) before a lock.
    pub login_max_failures: u32,
    /// The first lock; doubled at each further failure, up to an hour.
    pub login_lockout_secs: u32,
    /// Passwords checked at once, at most (argon2id: 19 MiB and a core each).
    pub login_max_verifications: usize,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            listen: String::new(),
            tls_cert: PathBuf::from("pki/console.crt"),
            tls_key: PathBuf::from("pki/console.key"),
            session_hours: 12,
            idle_minutes: 120,
            login_max_failures: 5,
            login_lockout_secs: 60,
            login_max_verifications: 4,
        }
    }
}

/// The console's state, shared by its handlers.
pub struct Console {
    pub(crate) cfg: ConsoleConfig,
    pub(crate) db: Db,
    pub(crate) throttle: Throttle,
    /// Turns to check a password ([`ConsoleConfig::login_max_verifications`]).
    pub verifications: tokio::sync::Semaphore,
    /// The inventory (and rule counts) incidents are scored with; merges recompute with it.
    pub engine: Arc<IncidentEngine>,
    /// The running correlator's counters and sensors, when the console runs inside it.
    pub service: Option<Arc<Shared>>,
    /// Where kept reports are, and how reports are made.
    pub report: crate::report::ReportConfig,
    /// The store's change number, watched by the live-update streams.
    changes: tokio::sync::watch::Sender<i64>,
    /// Overviews computed in the last minute, by (days, until): an overview aggregates
    /// every incident of its period (seconds at a million incidents).
    pub overviews: std::sync::Mutex<
        std::collections::HashMap<
            (u32, i64),
            (std::time::Instant, crate::store::overview::Overview),
        >,
    >,
    /// The queue's open counts by severity, at the store's change number they were
    /// counted at (every queue page shows them; they change only with the store).
    pub(crate) open_counts: OpenCounts,
    /// Wall screens computed in the last minute.
    pub(crate) walls: wall::Walls,
    /// The checks of manual blocks and approvals (the `[response]` section); none
    /// when no action is configured.
    pub guard: Option<Arc<crate::response::guard::BlockGuard>>,
    /// Countries of addresses (`report.geoip`), loaded at first use.
    pub(crate) geoip: std::sync::OnceLock<Option<crate::report::geoip::GeoIp>>,
}

/// Open incidents by severity at a change number.
pub(crate) type OpenCounts =
    Arc<std::sync::Mutex<Option<(i64, Vec<crate::store::overview::Counted>)>>>;

impl Console {
    /// A console over the store at `store_path`, with its configuration.
    pub fn new(
        cfg: ConsoleConfig,
        store_path: PathBuf,
        engine: Arc<IncidentEngine>,
        service: Option<Arc<Shared>>,
        report: crate::report::ReportConfig,
        guard: Option<Arc<crate::response::guard::BlockGuard>>,
    ) -> Result<Arc<Console>, StoreError> {
        let db = Db::open(store_path)?;
        let (changes, _) = tokio::sync::watch::channel(0);
        let verifications = tokio::sync::Semaphore::new(cfg.login_max_verifications.max(1));
        Ok(Arc::new(Console {
            cfg,
            db,
            throttle: Throttle::default(),
            verifications,
            open_counts: OpenCounts::default(),
            engine,
            service,
            report,
            changes,
            overviews: Default::default(),
            walls: Default::default(),
            geoip: Default::default(),
            guard,
        }))
    }

    /// Wakes the live-update streams (after a change made through the console).
    pub fn notify(&self) {
        self.changes.send_modify(|v| *v += 0);
    }

    /// Watches the store's change number (the engine's changes come from another
    /// connection, or another process): once a second.
    fn watch_store(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let c = self.clone();
        tokio::spawn(async move {
            let mut last = -1;
            loop {
                if let Ok(seq) = c.db.read(|s| s.change_seq()).await {
                    if seq != last {
                        last = seq;
                        c.changes.send_replace(seq);
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    }
}

/// Live updates: an `incidents` event with the store's change number whenever
/// incidents changed; a comment every 15 s keeps the connection open.
#[utoipa::path(get, path = "/api/v1/events", tag = "incidents",
    responses((status = 200, description = "text/event-stream of `incidents` events", content_type = "text/event-stream")))]
pub async fn events(
    State(c): State<Arc<Console>>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>> {
    let rx = c.changes.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let seq = *rx.borrow_and_update();
        Some((Ok(Event::default().event("incidents").data(seq.to_string())), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Security headers of every answer: no framing, no sniffing, no referrer, scripts and
/// styles only from the console itself, HTTPS remembered; API answers are not cached.
async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let api = req.uri().path().starts_with("/api/");
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    if api {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    r
}

pub(crate) fn router(console: Arc<Console>) -> Router {
    use auth::*;
    use catalog::*;
    use incidents::*;
    Router::new()
        .route("/api/openapi.json", get(|| async { Json(openapi::document()) }))
        .route("/api/v1/health", get(|| async { Json(serde_json::json!({"status": "ok"})) }))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/session", get(session))
        .route("/api/v1/me/password", post(change_own_password))
        .route("/api/v1/users", get(list_users).post(add_user))
        .route("/api/v1/users/{name}", post(change_user))
        .route("/api/v1/tokens", get(list_tokens).post(add_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/incidents", get(list_incidents))
        .route("/api/v1/incidents/{id}", get(get_incident))
        .route("/api/v1/incidents/{id}/transition", post(transition))
        .route("/api/v1/incidents/{id}/assign", post(assign))
        .route("/api/v1/incidents/{id}/notes", post(add_note))
        .route("/api/v1/incidents/{id}/merge", post(merge))
        .route("/api/v1/alerts", get(list_alerts))
        .route("/api/v1/alerts/{id}", get(catalog::get_alert))
        .route("/api/v1/reports", get(reports::list_reports))
        .route("/api/v1/reports/months", get(reports::report_months))
        .route(
            "/api/v1/reports/recommendations",
            get(reports::get_recommendations).put(reports::put_recommendations),
        )
        .route("/api/v1/reports/generate", get(reports::generate_report))
        .route("/api/v1/reports/files/{name}", get(reports::get_report_file))
        .route("/api/v1/blocks", get(blocks::list_blocks).post(blocks::add_block))
        .route("/api/v1/blocks/actions", get(blocks::block_actions))
        .route("/api/v1/blocks/{id}", get(blocks::get_block))
        .route("/api/v1/blocks/{id}/approve", post(blocks::approve_block))
        .route("/api/v1/blocks/{id}/deny", post(blocks::deny_block))
        .route("/api/v1/blocks/{id}/undo", post(blocks::undo_block))
        .route("/api/v1/suppressions", get(list_suppressions).post(add_suppression))
        .route("/api/v1/suppressions/{id}", delete(remove_suppression))
        .route("/api/v1/sensors", get(list_sensors))
        .route("/api/v1/assets", get(list_assets))
        .route("/api/v1/rulesets", get(list_rulesets))
        .route("/api/v1/audit", get(list_audit))
        .route("/api/v1/overview", get(overview))
        .route("/api/v1/wall", get(wall::wall))
        .route("/api/v1/settings", get(catalog::settings))
        .route("/api/v1/views", get(list_views).post(save_view))
        .route("/api/v1/views/{id}", delete(delete_view))
        .route("/api/v1/events", get(events))
        .fallback(ui::serve)
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .layer(axum::middleware::from_fn_with_state(console.clone(), authenticate))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(console)
}

/// A console serving: its address and how to stop it.
pub struct Serving {
    /// The address it listens on.
    pub addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Serving {
    /// Stops it and waits for the requests in flight.
    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Binds `cfg.listen` and serves the console. Must be called inside a Tokio runtime.
/// Opens the store at `store_path` for a console of `cfg` and serves it (inside the
/// running correlator when `service` is given: its counters and sensors are shown).
pub async fn open_and_start(
    cfg: ConsoleConfig,
    correlator: &crate::config::CorrelatorConfig,
    store_path: &std::path::Path,
    report: crate::report::ReportConfig,
    response: &crate::response::ResponseConfig,
    service: Option<Arc<Shared>>,
) -> Result<Serving, crate::server::ServerError> {
    let engine = Arc::new(crate::ingest::engine_of(correlator)?);
    let guard = if response.actions.is_empty() {
        None
    } else {
        let g = crate::response::guard::BlockGuard::new(response, engine.inventory.clone())?;
        Some(Arc::new(g))
    };
    let console = Console::new(cfg, store_path.to_path_buf(), engine, service, report, guard)?;
    start(console).await
}

/// Starts serving the console on its configured address.
pub async fn start(console: Arc<Console>) -> Result<Serving, crate::server::ServerError> {
    let cfg = &console.cfg;
    let tls = crate::server::tls::server_config_without_clients(&cfg.tls_cert, &cfg.tls_key)?;
    let listener = TcpListener::bind(&cfg.listen).await.map_err(|err| {
        crate::server::ServerError::Bind { what: "the console", addr: cfg.listen.clone(), err }
    })?;
    let addr = listener.local_addr().map_err(|err| crate::server::ServerError::Bind {
        what: "the console",
        addr: cfg.listen.clone(),
        err,
    })?;
    let watcher = console.watch_store();
    let app = router(console);
    let serve = tokio::spawn(serve(listener, tls, app));
    Ok(Serving { addr, tasks: vec![watcher, serve] })
}

async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, app: Router) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let (tcp, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(Ok(stream)) =
                tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
            else {
                return;
            };
            let app = app.layer(Extension(Peer(addr)));
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
