//! The correlator as a network service: listeners for host logs (syslog over UDP and
//! TCP, JSON over HTTPS with mutual TLS), one detection thread that runs Sigma and the
//! correlation rules over them, and the store the alerts and incidents go to.
//!
//! ```text
//!  syslog/udp ─┐
//!  syslog/tcp ─┼─▶ bounded queue ─▶ detection thread ─▶ Correlator ─▶ SQLite
//!  https/logs ─┘   (events)          (HostLogDetector)   (incidents)
//! ```
//!
//! The queue holds `ingest.queue_events` events. When it is full, UDP messages are
//! dropped and counted (UDP has no way to slow a sender); TCP connections and HTTPS
//! requests wait. An HTTPS request is answered once its events went through detection
//! and their alerts are committed to the store.

pub mod api;
pub mod eve_input;
pub(crate) mod limits;
pub(crate) mod sensors;
mod shipped;
pub(crate) mod syslog;
pub mod tls;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gatewatch_rules::sigma::correlation::CorrelationLimits;
use gatewatch_rules::sigma::SigmaSet;
use gatewatch_rules::signature::address::{parse_addresses, AddressSet};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::config::{CorrelatorConfig, IngestConfig};
use crate::ingest::hostlog::{HostLogDetector, HostLogEvent, HostLogStats};
use crate::store::Store;
use crate::Correlator;

/// Why the service could not start (or stopped), naming the part.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// `ingest.local_utc_offset` is not an offset.
    #[error(transparent)]
    Offset(#[from] crate::config::OffsetError),
    /// `ingest.syslog_allow` is not a list of addresses and networks.
    #[error("ingest.syslog_allow: {0}")]
    SyslogAllow(gatewatch_rules::signature::ParseError),
    /// The store could not be opened (the console's own connection).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The asset inventory or the correlation rules could not be read.
    #[error(transparent)]
    Setup(#[from] crate::ingest::SetupError),
    /// The `[response]` section (the console checks manual blocks against it).
    #[error(transparent)]
    Response(#[from] crate::response::ResponseError),
    /// A listening socket could not be opened.
    #[error("cannot listen on {what} `{addr}`: {err}")]
    Bind {
        /// Which listener (`https`, `syslog udp`, …).
        what: &'static str,
        /// The address configured.
        addr: String,
        /// The system's error.
        err: std::io::Error,
    },
    /// The TLS configuration (certificates, keys, CA) could not be loaded.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The detection thread could not start or failed.
    #[error("the detection thread: {0}")]
    Detection(String),
    /// The position reached in a tailed EVE file could not be read from the store.
    #[error("the position of `{file}` in the store: {source}")]
    Position {
        /// The EVE file.
        file: String,
        /// The store's error.
        source: crate::store::StoreError,
    },
    /// The detection thread's last flush to the store failed.
    #[error("the detection thread: {0}")]
    Ingest(#[from] IngestError),
}

/// Why a batch (host log events, shipped findings) was not stored. The sender keeps
/// it and sends it again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The correlator is stopping: the batch was not taken.
    #[error("the correlator is stopping")]
    Stopping,
    /// The store refused to write it.
    #[error("the store refused {what}: {message}")]
    Store {
        /// What was being written (`the alerts`, `the findings`).
        what: &'static str,
        /// The store's error.
        message: String,
    },
}

impl IngestError {
    fn store(what: &'static str) -> impl FnOnce(crate::store::StoreError) -> IngestError {
        move |e| IngestError::Store { what, message: e.to_string() }
    }
}

/// Counters of the listeners (all since start).
#[derive(Debug, Default)]
pub struct ListenerStats {
    pub(crate) udp_messages: AtomicU64,
    pub(crate) udp_dropped_queue_full: AtomicU64,
    pub(crate) tcp_connections: AtomicU64,
    pub(crate) tcp_refused_too_many: AtomicU64,
    /// Syslog TCP connections refused: the address had its share open.
    pub tcp_refused_per_address: AtomicU64,
    /// Syslog TCP connections closed after `ingest.idle_timeout_secs` of silence.
    pub tcp_idle_closed: AtomicU64,
    /// Syslog TCP connections closed to make room: the listener was full and they were
    /// the ones silent the longest.
    pub tcp_evicted_idle: AtomicU64,
    /// Syslog messages that were not UTF-8, read as Latin-1.
    pub not_utf8_messages: AtomicU64,
    /// HTTPS requests the client certificate's role may not make (`403`).
    pub forbidden: AtomicU64,
    pub(crate) tcp_messages: AtomicU64,
    pub(crate) truncated_messages: AtomicU64,
    pub(crate) bad_messages: AtomicU64,
    pub(crate) denied_senders: AtomicU64,
    pub(crate) https_requests: AtomicU64,
    pub(crate) https_events: AtomicU64,
    pub(crate) https_bad_events: AtomicU64,
    pub(crate) tls_handshake_failures: AtomicU64,
    /// Findings stored from sensors, and lines that were not findings.
    pub findings: AtomicU64,
    pub(crate) findings_bad: AtomicU64,
    /// `POST /api/v1/eve`: alerts stored, records of other types, bad lines.
    pub eve_alerts: AtomicU64,
    pub(crate) eve_other_events: AtomicU64,
    pub(crate) eve_bad_lines: AtomicU64,
}

impl ListenerStats {
    fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> serde_json::Value {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "udp_messages": g(&self.udp_messages),
            "udp_dropped_queue_full": g(&self.udp_dropped_queue_full),
            "tcp_connections": g(&self.tcp_connections),
            "tcp_refused_too_many": g(&self.tcp_refused_too_many),
            "tcp_refused_per_address": g(&self.tcp_refused_per_address),
            "tcp_idle_closed": g(&self.tcp_idle_closed),
            "tcp_evicted_idle": g(&self.tcp_evicted_idle),
            "not_utf8_messages": g(&self.not_utf8_messages),
            "forbidden": g(&self.forbidden),
            "tcp_messages": g(&self.tcp_messages),
            "truncated_messages": g(&self.truncated_messages),
            "bad_messages": g(&self.bad_messages),
            "denied_senders": g(&self.denied_senders),
            "https_requests": g(&self.https_requests),
            "https_events": g(&self.https_events),
            "https_bad_events": g(&self.https_bad_events),
            "tls_handshake_failures": g(&self.tls_handshake_failures),
            "findings": g(&self.findings),
            "findings_bad": g(&self.findings_bad),
            "eve_alerts": g(&self.eve_alerts),
            "eve_other_events": g(&self.eve_other_events),
            "eve_bad_lines": g(&self.eve_bad_lines),
        })
    }
}

/// What the detection thread reports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DetectionStats {
    pub(crate) hostlog: HostLogStats,
    pub(crate) correlation_rules: usize,
    pub(crate) correlation_windows: usize,
    pub(crate) alerts_stored: u64,
    /// Incidents created.
    pub incidents_created: u64,
    /// The incident engine's counters (repeats, suppressed, correlations, merges).
    pub incidents: crate::ingest::IngestStats,
    pub(crate) alert_correlation_rules: usize,
    pub(crate) alert_correlation_windows: usize,
    pub(crate) store_errors: u64,
    pub(crate) rules_generation: u64,
}

/// State shared by the listeners and the API.
pub struct Shared {
    pub(crate) listeners: ListenerStats,
    pub(crate) detection: Mutex<DetectionStats>,
    queue: mpsc::Sender<Work>,
    syslog_allow: Option<AddressSet>,
    pub(crate) cfg: IngestConfig,
    local_offset: chrono::FixedOffset,
    /// Rate limit of error lines in the log.
    logged_errors: AtomicU64,
    /// Sensors known from their heartbeats.
    pub sensors: Mutex<sensors::Sensors>,
    /// Tailed EVE files and their counters.
    pub eve_files: Mutex<std::collections::BTreeMap<String, eve_input::EveFileStats>>,
    /// The store's file, for the API's read connections.
    pub store_path: std::path::PathBuf,
    /// The Elasticsearch sink's counters, when one runs.
    pub elastic: Mutex<Option<Arc<Mutex<crate::elastic::SinkStats>>>>,
    /// The responder's counters, when it runs.
    pub response: Mutex<Option<Arc<Mutex<crate::response::responder::ResponseStats>>>>,
    /// What the HTTPS listener lets in.
    pub admission: limits::Admission,
    /// The syslog UDP socket's inode, to read the kernel's drops on it.
    pub udp_inode: std::sync::OnceLock<u64>,
}

impl Shared {
    /// All counters, as `GET /api/v1/stats` shows them.
    pub fn stats_json(&self) -> serde_json::Value {
        let d = self.detection.lock().map(|d| d.clone()).unwrap_or_default();
        let sensors = self.sensors.lock().map_or(serde_json::Value::Null, |s| {
            let all = s.by_name.values();
            serde_json::json!({
                "known": s.by_name.len(),
                "up": all.clone().filter(|h| h.up).count(),
                "down_events": all.map(|h| h.down_count).sum::<u64>(),
            })
        });
        let eve = self.eve_files.lock().map(|m| eve_input::stats_json(&m)).unwrap_or_default();
        let elastic = self
            .elastic
            .lock()
            .ok()
            .and_then(|e| e.as_ref().and_then(|s| s.lock().ok().map(|s| s.clone())));
        let response = self
            .response
            .lock()
            .ok()
            .and_then(|r| r.as_ref().and_then(|s| s.lock().ok().map(|s| s.clone())));
        let mut listeners = self.listeners.snapshot();
        if let (Some(o), serde_json::Value::Object(a)) =
            (listeners.as_object_mut(), self.admission.stats.snapshot())
        {
            o.extend(a);
            if let Some(drops) = self.udp_inode.get().and_then(|i| syslog::kernel_drops(*i)) {
                o.insert("udp_kernel_drops".into(), drops.into());
            }
        }
        serde_json::json!({"listeners": listeners, "detection": d, "sensors": sensors,
                           "eve_files": eve, "elasticsearch": elastic, "response": response})
    }

    fn allowed(&self, ip: IpAddr) -> bool {
        match &self.syslog_allow {
            None => true,
            Some(set) => set.contains(ip),
        }
    }

    /// Logs a bad input: the first 100, then one in 1,000 (all are counted).
    fn log_error(&self, msg: impl FnOnce() -> String) {
        let n = self.logged_errors.fetch_add(1, Ordering::Relaxed);
        if n < 100 || n.is_multiple_of(1000) {
            tracing::warn!(bad_input = n + 1, "{} (bad input #{})", msg(), n + 1);
        }
    }
}

/// The outcome of one batch, for the HTTPS reply.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct BatchOutcome {
    pub(crate) events: usize,
    /// Alerts in the batch.
    pub alerts: usize,
}

/// A finding shipped by a sensor: its id (prefixed with the sensor's certificate
/// name) and the alert, or the protocol record.
pub struct Finding {
    /// The finding's id: the sensor's certificate name, `:`, the sensor's own id.
    pub id: String,
    /// The alert, when the finding is one.
    pub alert: Option<gatewatch_rules::event::AlertEvent>,
    pub(crate) record: Option<serde_json::Value>,
}

/// What a batch of findings came to, for the sensor's acknowledgement.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct FindingsOutcome {
    pub(crate) stored: u64,
    pub(crate) duplicates: u64,
}

enum Work {
    Events(Vec<HostLogEvent>, Option<oneshot::Sender<Result<BatchOutcome, IngestError>>>),
    /// Committed in a transaction of their own before the answer.
    Findings(Vec<Finding>, oneshot::Sender<Result<FindingsOutcome, IngestError>>),
    Reload(Arc<SigmaSet>, u64),
    /// Alerts read from a tailed EVE file, stored with the file position after them.
    Tail(eve_input::TailBatch),
    /// Finish what is queued before it and end.
    Stop,
}

/// A handle to reload the rules of a running service.
#[derive(Clone)]
pub struct Reloader {
    queue: mpsc::Sender<Work>,
}

impl Reloader {
    /// Hands a newly compiled set to the detection thread (open correlation windows
    /// carry over).
    pub fn reload(&self, set: Arc<SigmaSet>, generation: u64) -> Result<(), IngestError> {
        self.queue.blocking_send(Work::Reload(set, generation)).map_err(|_| IngestError::Stopping)
    }
}

/// The running service: its addresses, counters, and how to stop it.
pub struct Running {
    pub(crate) shared: Arc<Shared>,
    pub(crate) https_addr: Option<std::net::SocketAddr>,
    pub(crate) syslog_udp_addr: Option<std::net::SocketAddr>,
    pub(crate) syslog_tcp_addr: Option<std::net::SocketAddr>,
    pub(crate) reloader: Reloader,
    detection: std::thread::JoinHandle<Result<(), IngestError>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    tails: Vec<std::thread::JoinHandle<()>>,
    stop_tails: Arc<std::sync::atomic::AtomicBool>,
}

impl Running {
    /// Stops the listeners, lets the detection thread finish what is queued, and
    /// returns the final counters.
    pub async fn shutdown(self) -> Result<serde_json::Value, ServerError> {
        for t in &self.tasks {
            t.abort();
        }
        self.stop_tails.store(true, Ordering::Relaxed);
        let tails = self.tails;
        let _ = tokio::task::spawn_blocking(move || {
            for t in tails {
                let _ = t.join();
            }
        })
        .await;
        let stopped = self.shared.queue.send(Work::Stop).await;
        let detection = self.detection;
        let result = tokio::task::spawn_blocking(move || detection.join())
            .await
            .map_err(|e| ServerError::Detection(e.to_string()))?
            .map_err(|_| ServerError::Detection("panicked".into()))?;
        result?;
        if stopped.is_err() {
            return Err(ServerError::Detection("ended before the stop".into()));
        }
        Ok(self.shared.stats_json())
    }
}

/// Starts the listeners configured in `cfg` and the detection thread over `sigma`,
/// writing alerts and incidents to `store`. Must be called inside a Tokio runtime.
pub async fn start(
    cfg: IngestConfig,
    correlator: CorrelatorConfig,
    store: Store,
    sigma: Arc<SigmaSet>,
) -> Result<Running, ServerError> {
    let local_offset = cfg.local_offset()?;
    let syslog_allow = if cfg.syslog_allow.is_empty() {
        None
    } else {
        let expr = format!("[{}]", cfg.syslog_allow.join(","));
        Some(parse_addresses(&expr, &Default::default()).map_err(ServerError::SyslogAllow)?)
    };
    let tls = if cfg.https.is_empty() {
        None
    } else {
        Some(tls::server_config(&cfg.tls_cert, &cfg.tls_key, &cfg.client_ca)?)
    };
    let (tx, rx) = mpsc::channel::<Work>(cfg.queue_events.max(16));
    let limits = CorrelationLimits {
        max_state_entries: cfg.correlation_max_windows.max(1),
        ..CorrelationLimits::default()
    };
    let detector = HostLogDetector::new(sigma, limits, local_offset);
    let shared = Arc::new(Shared {
        listeners: ListenerStats::default(),
        detection: Mutex::new(DetectionStats { rules_generation: 1, ..Default::default() }),
        queue: tx.clone(),
        syslog_allow,
        cfg: cfg.clone(),
        local_offset,
        logged_errors: AtomicU64::new(0),
        sensors: Mutex::new(sensors::Sensors::default()),
        eve_files: Mutex::new(Default::default()),
        store_path: store.path().to_path_buf(),
        elastic: Mutex::new(None),
        response: Mutex::new(None),
        admission: limits::Admission::new(&cfg),
        udp_inode: std::sync::OnceLock::new(),
    });
    let detection = {
        let shared = shared.clone();
        let c = Correlator::open(correlator, store)?;
        std::thread::Builder::new()
            .name("correlator-detect".into())
            .spawn(move || detection_thread(rx, detector, c, &shared))
            .map_err(|e| ServerError::Detection(e.to_string()))?
    };
    let mut tasks = Vec::new();
    let (syslog_udp_addr, syslog_tcp_addr, https_addr) =
        listen(&cfg, tls, &shared, &mut tasks).await?;
    let silence_us = cfg.sensor_down_secs.max(1) as i64 * 1_000_000;
    tasks.push(tokio::spawn(tick(tx.clone(), shared.clone(), silence_us)));
    let stop_tails = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tails = eve_input::start_tails(
        &cfg.eve_files,
        &shared.store_path,
        Duration::from_millis(cfg.eve_poll_ms.max(10)),
        shared.clone(),
        stop_tails.clone(),
    )?;
    Ok(Running {
        shared,
        https_addr,
        syslog_udp_addr,
        syslog_tcp_addr,
        reloader: Reloader { queue: tx },
        detection,
        tasks,
        tails,
        stop_tails,
    })
}

/// The addresses bound by [`listen`]: syslog UDP, syslog TCP, HTTPS.
type Bound =
    (Option<std::net::SocketAddr>, Option<std::net::SocketAddr>, Option<std::net::SocketAddr>);

/// Binds the configured listeners (syslog UDP and TCP, HTTPS when `tls` is set) and
/// spawns their tasks into `tasks`; errors name the listener and its address.
async fn listen(
    cfg: &IngestConfig,
    tls: Option<Arc<rustls::ServerConfig>>,
    shared: &Arc<Shared>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Result<Bound, ServerError> {
    let bind_err = |what, addr: &str| {
        let addr = addr.to_string();
        move |err| ServerError::Bind { what, addr, err }
    };
    let mut syslog_udp_addr = None;
    if !cfg.syslog_udp.is_empty() {
        let sock = tokio::net::UdpSocket::bind(&cfg.syslog_udp)
            .await
            .map_err(bind_err("syslog UDP", &cfg.syslog_udp))?;
        syslog_udp_addr = sock.local_addr().ok();
        syslog::prepare_udp(&sock, shared);
        tasks.push(tokio::spawn(syslog::serve_udp(sock, shared.clone())));
    }
    let mut syslog_tcp_addr = None;
    if !cfg.syslog_tcp.is_empty() {
        let l = tokio::net::TcpListener::bind(&cfg.syslog_tcp)
            .await
            .map_err(bind_err("syslog TCP", &cfg.syslog_tcp))?;
        syslog_tcp_addr = l.local_addr().ok();
        tasks.push(tokio::spawn(syslog::serve_tcp(l, shared.clone())));
    }
    let mut https_addr = None;
    if let Some(tls) = tls {
        let l = tokio::net::TcpListener::bind(&cfg.https)
            .await
            .map_err(bind_err("HTTPS", &cfg.https))?;
        https_addr = l.local_addr().ok();
        tasks.push(tokio::spawn(api::serve(l, tls, shared.clone())));
    }
    Ok((syslog_udp_addr, syslog_tcp_addr, https_addr))
}

/// Once a second: quiet streams get their correlation windows closed and alerts
/// flushed; sensors silent for `silence_us` are marked down and raise their alert.
async fn tick(tx: mpsc::Sender<Work>, shared: Arc<Shared>, silence_us: i64) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let down = match shared.sensors.lock() {
            Ok(mut s) => s.sweep(now_us(), silence_us),
            Err(_) => Vec::new(),
        };
        for a in down {
            tracing::warn!("{}", a.alert.signature);
            let f = Finding { id: String::new(), alert: Some(a), record: None };
            let (r, _) = oneshot::channel();
            if tx.send(Work::Findings(vec![f], r)).await.is_err() {
                break;
            }
        }
        if tx.send(Work::Events(Vec::new(), None)).await.is_err() {
            break;
        }
    }
}

/// Sends events to detection and waits for their outcome (TCP and HTTPS).
async fn submit(shared: &Shared, events: Vec<HostLogEvent>) -> Result<BatchOutcome, IngestError> {
    let (tx, rx) = oneshot::channel();
    shared.queue.send(Work::Events(events, Some(tx))).await.map_err(|_| IngestError::Stopping)?;
    rx.await.map_err(|_| IngestError::Stopping)?
}

async fn submit_findings(
    shared: &Shared,
    findings: Vec<Finding>,
) -> Result<FindingsOutcome, IngestError> {
    let (tx, rx) = oneshot::channel();
    shared.queue.send(Work::Findings(findings, tx)).await.map_err(|_| IngestError::Stopping)?;
    rx.await.map_err(|_| IngestError::Stopping)?
}

/// Stores shipped findings: what is queued before them is committed first, then they
/// are, in one transaction, and only then answered.
fn store_findings(
    findings: Vec<Finding>,
    detector: &mut HostLogDetector,
    correlator: &mut Correlator,
) -> Result<FindingsOutcome, IngestError> {
    correlator.flush().map_err(IngestError::store("earlier alerts"))?;
    let before = correlator.stats;
    for f in findings {
        if let Some(a) = &f.alert {
            // Sensor Sigma alerts feed the correlation rules.
            for c in detector.observe_alert(a) {
                correlator.ingest(&c).map_err(IngestError::store("an alert"))?;
            }
        }
        if f.id.is_empty() {
            // The correlator's own alerts (sensor down) have no id to remember.
            if let Some(a) = &f.alert {
                correlator.ingest(a).map_err(IngestError::store("an alert"))?;
            }
        } else if let Some(r) = f.record {
            correlator.queue_record(r, Some(f.id));
        } else {
            correlator.ingest_finding(f.id, f.alert);
        }
    }
    correlator.flush().map_err(IngestError::store("the findings"))?;
    let after = correlator.stats;
    Ok(FindingsOutcome {
        stored: after.findings - before.findings,
        duplicates: after.duplicate_findings - before.duplicate_findings,
    })
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn detection_thread(
    mut rx: mpsc::Receiver<Work>,
    mut detector: HostLogDetector,
    mut correlator: Correlator,
    shared: &Shared,
) -> Result<(), IngestError> {
    let mut generation = 1;
    let mut stop = false;
    while let Some(first) = rx.blocking_recv() {
        // Take what is queued now, up to a batch, and commit it in one transaction.
        let mut batch = vec![first];
        while batch.len() < 1024 {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let mut replies = Vec::new();
        for work in batch {
            match work {
                Work::Stop => stop = true,
                Work::Reload(set, g) => {
                    detector.replace_rules(set);
                    generation = g;
                }
                Work::Tail(batch) => {
                    for r in batch.records {
                        correlator.queue_record(r, None);
                    }
                    for a in &batch.alerts {
                        for c in detector.observe_alert(a) {
                            correlator.queue(&c);
                        }
                        correlator.queue(a);
                    }
                    let p = batch.position;
                    correlator.mark_position(&batch.source, p.dev, p.ino, p.offset);
                }
                Work::Findings(findings, reply) => {
                    let r = store_findings(findings, &mut detector, &mut correlator);
                    if let Err(e) = &r {
                        shared.log_error(|| e.to_string());
                    }
                    let _ = reply.send(r);
                }
                Work::Events(events, reply) => {
                    let mut outcome = BatchOutcome { events: events.len(), alerts: 0 };
                    for ev in &events {
                        for alert in detector.observe(ev) {
                            outcome.alerts += 1;
                            if let Err(e) = correlator.ingest(&alert) {
                                shared.log_error(|| format!("store: {e}"));
                            }
                        }
                    }
                    if let Some(r) = reply {
                        replies.push((r, outcome));
                    }
                }
            }
        }
        detector.evict_expired(now_us());
        correlator.expire_to_latest();
        let flushed = correlator.flush().and_then(|()| correlator.maintain(now_us()));
        let (rules, windows) = detector.correlation_counts();
        if let Ok(mut d) = shared.detection.lock() {
            d.hostlog = detector.stats;
            d.correlation_rules = rules;
            d.correlation_windows = windows;
            d.alerts_stored = correlator.stats.alerts;
            d.incidents_created = correlator.stats.incidents_created;
            d.incidents = correlator.stats;
            if let Some(c) = &correlator.engine.correlation {
                d.alert_correlation_rules = c.len();
                d.alert_correlation_windows = c.windows();
            }
            d.rules_generation = generation;
            if flushed.is_err() {
                d.store_errors += 1;
            }
        }
        let result = flushed.map_err(IngestError::store("the alerts"));
        if let Err(e) = &result {
            shared.log_error(|| e.to_string());
        }
        for (r, outcome) in replies {
            let _ = r.send(result.clone().map(|_| outcome));
        }
        if stop {
            break;
        }
    }
    correlator.flush().map_err(IngestError::store("the last alerts"))
}
