//! The correlator as a service, assembled and stopped in one place (as
//! `gatewatch_sensor::daemon` is for the sensor): the listeners for host logs and
//! findings (`[ingest]`) with the host-log Sigma rules and the correlation rules, the
//! store, and the parts configured around it — the Elasticsearch sink, the responder,
//! the monthly report schedule, the analyst console — plus rule reloads on `SIGUSR2`.
//! [`Service::stop`] stops them in the order that loses nothing: console and schedule
//! first, then the listeners (what is queued is stored), then the responder and the
//! sink, which read what was stored.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gatewatch_rules::control::{ControlError, Process, ReloadControl};
use gatewatch_rules::sigma::SigmaSet;

use crate::config::{CorrelatorConfig, IngestConfig, StoreConfig};
use crate::console::{self, ConsoleConfig};
use crate::elastic::{ElasticConfig, Sink};
use crate::report::archive::Schedule;
use crate::report::ReportConfig;
use crate::response::{self, ResponseConfig};
use crate::server::{self, Running, ServerError, Shared};
use crate::store::{Store, StoreError};

/// The sections of the configuration the service reads.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// `[ingest]`: the listeners.
    pub ingest: IngestConfig,
    /// `[correlator]`: incidents, assets, correlation rules, retention.
    pub correlator: CorrelatorConfig,
    /// `[store]`.
    pub store: StoreConfig,
    /// `[elasticsearch]` (empty `url`: no sink).
    pub elasticsearch: ElasticConfig,
    /// `[console]` (empty `listen`: no console).
    pub console: ConsoleConfig,
    /// `[response]` (no actions and no policies: no responder).
    pub response: ResponseConfig,
    /// `[report]` (`schedule`: last month's reports on the first of each month).
    pub report: ReportConfig,
    /// `sigma.rules`: host-log and correlation rules.
    pub sigma_rules: Vec<PathBuf>,
    /// `control.dir`: the pid file and reload status.
    pub control_dir: PathBuf,
}

/// Why the service could not start or stop, naming the part.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// No listener and no tailed file: the service would do nothing.
    #[error(
        "nothing to listen on or read: set ingest.https, ingest.syslog_udp, ingest.syslog_tcp or ingest.eve_files"
    )]
    NothingToDo,
    /// The Sigma rules did not load.
    #[error("Sigma rules: {0}")]
    Sigma(String),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A folder or the I/O runtime could not be made.
    #[error("cannot {what}: {err}")]
    Io {
        /// What was being done.
        what: String,
        /// The system's error.
        err: std::io::Error,
    },
    /// The listeners, or the console, could not start or stop cleanly.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The asset inventory or the correlation rules could not be read.
    #[error(transparent)]
    Setup(#[from] crate::ingest::SetupError),
    /// `[elasticsearch]` could not start.
    #[error(transparent)]
    Elastic(#[from] crate::elastic::SinkError),
    /// `[response]` could not start.
    #[error("[response]: {0}")]
    Response(#[from] response::ResponseError),
    /// The reload control could not start.
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// Loads the Sigma rules of `paths`: the set and a one-line summary. Without rules the
/// service still stores what sensors ship; host logs are accepted and counted.
pub fn load_sigma(paths: &[PathBuf]) -> Result<(SigmaSet, String), ServiceError> {
    let (set, report) = gatewatch_rules::sigma::load_paths(paths);
    let set = set.ok_or_else(|| {
        ServiceError::Sigma(format!("did not load: {}", report.file_errors.join("; ")))
    })?;
    if !report.file_errors.is_empty() {
        return Err(ServiceError::Sigma(report.file_errors.join("; ")));
    }
    let corr =
        report.breakdown.get("correlation rules (run by the correlator)").copied().unwrap_or(0);
    let summary = format!(
        "{} of {} Sigma rules loaded, {} for host logs, {} correlation rules",
        report.loaded,
        report.total,
        set.host_rule_count(),
        corr
    );
    Ok((set, summary))
}

/// The running service.
pub struct Service {
    runtime: tokio::runtime::Runtime,
    running: Running,
    sink: Option<Sink>,
    responder: Option<response::Service>,
    reports: Option<Schedule>,
    console: Option<console::Serving>,
    _control: ReloadControl,
}

impl Service {
    /// Starts every configured part; messages about what started go to standard error.
    pub fn start(cfg: ServiceConfig) -> Result<Service, ServiceError> {
        let ingest = &cfg.ingest;
        if ingest.https.is_empty()
            && ingest.syslog_udp.is_empty()
            && ingest.syslog_tcp.is_empty()
            && ingest.eve_files.is_empty()
        {
            return Err(ServiceError::NothingToDo);
        }
        let (sigma, summary) = load_sigma(&cfg.sigma_rules)?;
        if cfg.sigma_rules.is_empty() {
            tracing::warn!("no Sigma rules (sigma.rules): host logs are only counted");
        } else {
            tracing::info!("{summary}");
        }
        let store = open_store(&cfg.store.path)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("correlator-io")
            .build()
            .map_err(|err| ServiceError::Io { what: "start the I/O runtime".into(), err })?;
        let running = runtime.block_on(server::start(
            cfg.ingest.clone(),
            cfg.correlator.clone(),
            store,
            Arc::new(sigma),
        ))?;
        let sink = start_sink(&cfg, &running.shared)?;
        let responder = start_responder(&cfg, &running.shared)?;
        if let (Some(r), Ok(mut slot)) = (&responder, running.shared.response.lock()) {
            *slot = Some(r.stats.clone());
        }
        let reports = start_reports(&cfg)?;
        let console = if cfg.console.listen.is_empty() {
            None
        } else {
            Some(runtime.block_on(console::open_and_start(
                cfg.console.clone(),
                &cfg.correlator,
                &cfg.store.path,
                cfg.report.clone(),
                &cfg.response,
                Some(running.shared.clone()),
            ))?)
        };
        let control = accept_reloads(&cfg, &running)?;
        let service =
            Service { runtime, running, sink, responder, reports, console, _control: control };
        tracing::info!("listening {}", service.addresses());
        Ok(service)
    }

    /// The addresses it listens on, as JSON (`console`, `https`, `syslog_udp`,
    /// `syslog_tcp`; null when not listening).
    pub fn addresses(&self) -> serde_json::Value {
        let addr = |a: Option<SocketAddr>| a.map(|a| a.to_string());
        serde_json::json!({
            "console": self.console.as_ref().map(|c| c.addr.to_string()),
            "https": addr(self.running.https_addr),
            "syslog_udp": addr(self.running.syslog_udp_addr),
            "syslog_tcp": addr(self.running.syslog_tcp_addr),
        })
    }

    /// Stops every part, storing what is queued, and returns the listeners' final
    /// counters. What the responder and the sink did is written to standard error.
    pub fn stop(self) -> Result<serde_json::Value, ServiceError> {
        tracing::info!("stopping");
        if let Some(c) = self.console {
            c.stop();
        }
        if let Some(r) = self.reports {
            r.stop();
        }
        let stats = self.runtime.block_on(self.running.shutdown())?;
        if let Some(r) = self.responder {
            match r.stop() {
                Ok(st) => tracing::info!(
                    "response: {} blocks executed, {} expired, {} undone, {} failed",
                    st.executed,
                    st.expired,
                    st.undone,
                    st.failed
                ),
                Err(e) => tracing::warn!("response: {e}"),
            }
        }
        if let Some(s) = self.sink {
            match s.stop() {
                Ok(st) => tracing::info!(
                    "elasticsearch: {} documents stored, {} dead-lettered",
                    st.docs_done,
                    st.docs_dead
                ),
                Err(e) => tracing::warn!("elasticsearch: {e}"),
            }
        }
        tracing::info!("stopped; {stats}");
        Ok(stats)
    }
}

fn open_store(path: &Path) -> Result<Store, ServiceError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|err| ServiceError::Io { what: format!("create `{}`", dir.display()), err })?;
    }
    Ok(Store::open(path)?)
}

fn start_sink(cfg: &ServiceConfig, shared: &Shared) -> Result<Option<Sink>, ServiceError> {
    if cfg.elasticsearch.url.is_empty() {
        return Ok(None);
    }
    let s = Sink::start(cfg.elasticsearch.clone(), &cfg.store.path)?;
    if let Ok(mut slot) = shared.elastic.lock() {
        *slot = Some(s.stats.clone());
    }
    tracing::info!("sending to Elasticsearch at {}", cfg.elasticsearch.url);
    Ok(Some(s))
}

fn start_reports(cfg: &ServiceConfig) -> Result<Option<Schedule>, ServiceError> {
    if !cfg.report.schedule {
        return Ok(None);
    }
    let inv = crate::ingest::engine_of(&cfg.correlator)?.inventory;
    let every = Duration::from_secs(3600);
    Schedule::start(cfg.report.clone(), cfg.store.path.clone(), inv, every)
        .map(Some)
        .map_err(|err| ServiceError::Io { what: "start the report schedule".into(), err })
}

/// The responder, when `[response]` configures actions or policies: it also runs with
/// no policy left, so that blocks in force still expire.
fn start_responder(
    cfg: &ServiceConfig,
    shared: &Arc<Shared>,
) -> Result<Option<response::Service>, ServiceError> {
    let r = &cfg.response;
    if r.actions.is_empty() && r.policies.is_empty() {
        return Ok(None);
    }
    let mut responder = response::Responder::new(r, &cfg.correlator)?;
    // The sensors are never blocked: the addresses they connect from, as they are now.
    let shared = shared.clone();
    responder.protect_sensors(Arc::new(move || {
        shared.sensors.lock().map_or_else(
            |_| Vec::new(),
            |s| s.by_name.values().filter_map(|h| sensor_ip(&h.address)).collect(),
        )
    }));
    let modes: Vec<String> =
        responder.policies().iter().map(|p| format!("{} ({})", p.name, p.mode.as_str())).collect();
    tracing::info!(
        "response: {} policies [{}], {} allowlist entries, at most {} automatic blocks a minute",
        modes.len(),
        modes.join(", "),
        responder.allowlist().configured_entries(),
        r.max_blocks_per_minute
    );
    let s = response::Service::start(responder, &cfg.store.path, Duration::from_millis(500))?;
    Ok(Some(s))
}

/// `SIGUSR2` (or `gatewatch rules reload`) loads the Sigma rules again and swaps them in.
fn accept_reloads(cfg: &ServiceConfig, running: &Running) -> Result<ReloadControl, ServiceError> {
    let generation = Arc::new(AtomicU64::new(1));
    let (reloader, paths, g1, g2) =
        (running.reloader.clone(), cfg.sigma_rules.clone(), generation.clone(), generation.clone());
    let control = ReloadControl::start_for(
        &cfg.control_dir,
        Process::Correlator,
        move || -> Result<(u64, String), ServiceError> {
            let (set, summary) = load_sigma(&paths)?;
            let g = g1.load(Ordering::SeqCst) + 1;
            reloader.reload(Arc::new(set), g).map_err(ServerError::from)?;
            g1.store(g, Ordering::SeqCst);
            Ok((g, summary))
        },
        move || g2.load(Ordering::SeqCst),
    )?;
    Ok(control)
}

/// The address of `ip:port` or `[ip]:port`.
fn sensor_ip(addr: &str) -> Option<IpAddr> {
    addr.parse::<SocketAddr>().map(|a| a.ip()).ok().or_else(|| addr.parse().ok())
}
