//! The live sensor: one reader thread per interface, each dispatching to its own
//! `Workers`; records go to one shared sink. Reloaded rule sets are picked up
//! between two reads; quiet flows expire on the wall clock; a `stats` record per
//! interface is written every `live.stats_interval` seconds and at the end, with the
//! kernel's and the dispatcher's drop counters beside the pipeline's.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gatewatch_rules::detection::Detection;
use gatewatch_rules::engine::profile::ProfileReport;
use serde_json::{json, Value};

use crate::capture::live::{self, LiveConfig, LiveSource, LiveStats};
use crate::config::SensorConfig;
use crate::metrics::Board;
use crate::output::EventSink;
use crate::pipeline::stats_record;
use crate::reload::RuleSlot;
use crate::workers::{merge_stats, Backpressure, DispatchStats, WorkerLimits, Workers};

/// The sink all interfaces write to.
pub type SharedSink = Arc<Mutex<Box<dyn EventSink + Send>>>;

/// What one interface did, at the end.
#[derive(Clone, Debug)]
pub struct InterfaceSummary {
    /// The interface.
    pub interface: String,
    /// Its capture counters.
    pub capture: LiveStats,
    /// The dispatcher's counters for it.
    pub dispatch: DispatchStats,
    /// The final `stats` object (pipeline counters added up over the workers).
    pub stats: Value,
    /// The rule profile of the interface's workers (with `detect.profile_rules`).
    pub profile: Option<ProfileReport>,
}

/// When each interface's capture loop last went round. A loop that stops going round
/// (a read that hangs, workers that no longer drain) stops the service manager's
/// watchdog pings, and systemd restarts the sensor.
#[derive(Clone, Debug, Default)]
pub struct Heartbeats(Arc<Mutex<BTreeMap<String, Instant>>>);

impl Heartbeats {
    fn beat(&self, interface: &str) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match m.get_mut(interface) {
            Some(t) => *t = Instant::now(),
            None => {
                m.insert(interface.to_string(), Instant::now());
            }
        }
    }

    /// Whether every interface's loop went round within `within` (true before any
    /// loop started).
    pub fn all_within(&self, within: Duration) -> bool {
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.values().all(|t| t.elapsed() <= within)
    }
}

/// What the capture loops share with the rest of the process: the stop flag, the
/// counters the metrics endpoint serves, the heartbeats the watchdog reads.
#[derive(Clone, Debug, Default)]
pub struct Shared {
    /// Set to stop every capture loop.
    pub stop: Arc<AtomicBool>,
    /// The latest `stats` of every interface.
    pub board: Board,
    /// When each loop last went round.
    pub heartbeats: Heartbeats,
}

fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

fn with_sink<T>(
    sink: &SharedSink,
    f: impl FnOnce(&mut dyn EventSink) -> io::Result<T>,
) -> io::Result<T> {
    let mut guard = sink.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut **guard)
}

/// Captures on every interface of `live` until `stop` is set; returns per interface
/// what it did. Opening any interface fails the whole start (nothing half-started);
/// `ready` is called once all are open.
pub fn run(
    cfg: &SensorConfig,
    live: &LiveConfig,
    slot: Arc<RuleSlot>,
    sink: SharedSink,
    shared: &Shared,
    ready: impl FnOnce(),
) -> io::Result<Vec<InterfaceSummary>> {
    let stop = &shared.stop;
    if live.interfaces.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "live.interfaces is empty"));
    }
    let mut sources = Vec::new();
    for i in &live.interfaces {
        sources.push(live::open(i, live)?);
    }
    ready();
    let mut threads = Vec::new();
    for source in sources {
        let (mut cfg, live, slot, sink, shared) =
            (cfg.clone(), live.clone(), slot.clone(), sink.clone(), shared.clone());
        // Every record of this interface's workers says where it was captured.
        cfg.eve.in_iface = Some(source.interface().to_string());
        let name = format!("capture-{}", source.interface());
        threads.push(std::thread::Builder::new().name(name).spawn(move || {
            let iface = source.interface().to_string();
            let _span = tracing::info_span!("capture", iface).entered();
            capture_loop(source, &cfg, &live, &slot, &sink, &shared)
        })?);
    }
    let mut out = Vec::new();
    let mut first_error = None;
    for t in threads {
        match t.join() {
            Ok(Ok(s)) => out.push(s),
            Ok(Err(e)) => {
                stop.store(true, Ordering::SeqCst);
                first_error.get_or_insert(e);
            }
            Err(_) => {
                stop.store(true, Ordering::SeqCst);
                first_error.get_or_insert(io::Error::other("a capture thread panicked"));
            }
        }
    }
    // What `set` taught the datasets with a `save` or `state` file is kept.
    for e in gatewatch_rules::signature::dataset::save_all() {
        tracing::warn!("{e}");
    }
    if let Some(path) = &cfg.detect.profile_rules {
        let mut all: Option<ProfileReport> = None;
        for p in out.iter().filter_map(|s| s.profile.as_ref()) {
            all.get_or_insert_with(Default::default).merge(p);
        }
        if let Some(all) = all {
            if let Err(e) = crate::replay::write_profile(path, &all) {
                tracing::error!("cannot write the rule profile to `{}`: {e}", path.display());
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// The `stats` object of one interface: the workers' counters added up, and the
/// capture's.
fn interface_stats(
    records: &[Value],
    interface: &str,
    capture: LiveStats,
    dispatch: DispatchStats,
    workers: usize,
) -> Value {
    let mut stats = merge_stats(records);
    if !stats.is_object() {
        stats = json!({});
    }
    stats["capture"] = json!({
        "interface": interface,
        "received": capture.received,
        "kernel_packets": capture.kernel_packets,
        "kernel_drops": capture.kernel_drops,
        "kernel_freezes": capture.kernel_freezes,
        "bad_blocks": capture.bad_blocks,
        "queue_drops": dispatch.queue_drops,
        "flows_by_load": dispatch.balance.by_load,
        "flows_by_hash": dispatch.balance.by_hash,
    });
    stats["workers"] = json!(workers);
    stats
}

fn capture_loop(
    mut source: Box<dyn LiveSource>,
    cfg: &SensorConfig,
    live: &LiveConfig,
    slot: &RuleSlot,
    sink: &SharedSink,
    shared: &Shared,
) -> io::Result<InterfaceSummary> {
    let (stop, board) = (&shared.stop, &shared.board);
    let (mut generation, detection): (u64, Detection) = slot.current();
    let n = cfg.capture.workers.max(1);
    let mut workers =
        Workers::start(n, cfg, &detection, WorkerLimits::default(), Backpressure::Drop)?;
    let interface = source.interface().to_string();
    let interval = Duration::from_secs(live.stats_interval.max(1));
    let (mut last_stats, mut last_tick, mut last_flush) =
        (Instant::now(), Instant::now(), Instant::now());
    let mut number = 0u64;
    let mut pending: Vec<Value> = Vec::new();
    shared.heartbeats.beat(&interface);
    let result = (|| -> io::Result<()> {
        while !stop.load(Ordering::Relaxed) {
            let got = source.read(Duration::from_millis(100), &mut |f| {
                number += 1;
                workers.dispatch(f, number);
            })?;
            // Partial batches go out when the source is quiet or every 10 ms, so a
            // frame waits little and a busy source still sends full batches.
            if got == 0 || last_flush.elapsed() >= Duration::from_millis(10) {
                workers.flush();
                last_flush = Instant::now();
            }
            if slot.generation() != generation {
                let (g, d) = slot.current();
                workers.reload(&d, g);
                generation = g;
            }
            if last_tick.elapsed() >= Duration::from_secs(1) {
                // Once a second: quiet flows expire, and what was written reaches the
                // file (EVE readers tail it).
                workers.tick(now_us());
                with_sink(sink, |s| s.flush())?;
                shared.heartbeats.beat(&interface);
                last_tick = Instant::now();
            }
            if last_stats.elapsed() >= interval {
                workers.request_stats();
                last_stats = Instant::now();
            }
            let arrived = with_sink(sink, |s| workers.drain(s))?;
            pending.extend(arrived.into_iter().map(|(_, v)| v));
            if pending.len() >= n {
                let st =
                    interface_stats(&pending[..n], &interface, source.stats(), workers.stats, n);
                pending.clear();
                board
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(interface.clone(), st.clone());
                if cfg.eve.stats {
                    with_sink(sink, |s| {
                        s.stats(&stats_record(&st, now_us(), cfg))?;
                        s.flush()
                    })?;
                }
            }
        }
        Ok(())
    })();
    // Stopping or failing, the workers end their flows and report.
    let dispatch = workers.stats;
    let finished = with_sink(sink, |s| workers.finish(s))?;
    let records = finished.stats;
    result?;
    let capture = source.stats();
    let stats = interface_stats(&records, &interface, capture, dispatch, n);
    board.lock().unwrap_or_else(|p| p.into_inner()).insert(interface.clone(), stats.clone());
    with_sink(sink, |s| {
        if cfg.eve.stats {
            s.stats(&stats_record(&stats, now_us(), cfg))?;
        }
        s.flush()
    })?;
    Ok(InterfaceSummary { interface, capture, dispatch, stats, profile: finished.profile })
}
