//! The correlator's entry points: EVE alerts (in process from `demo`/`run`, or from
//! the network), and host logs ([`hostlog`], read from [`syslog`] or JSON) that become
//! alerts through Sigma.

pub mod eve_file;
pub mod hostlog;
pub mod syslog;

use std::sync::Arc;

use gatewatch_rules::event::AlertEvent;
use gatewatch_rules::sigma::correlation::CorrelationLimits;

use crate::config::CorrelatorConfig;
use crate::incident::assets::Inventory;
use crate::incident::correlate::AlertCorrelation;
use crate::incident::engine::{IncidentEngine, Windows};
use crate::incident::suppress::Suppressions;
use crate::store::sqlite::set_input_position;
use crate::store::write::TxOps;
use crate::store::{Store, StoreError};

/// Counters of the ingest path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestStats {
    /// Alerts placed in incidents (repeats included, suppressed ones not).
    pub alerts: u64,
    /// Incidents created.
    pub incidents_created: u64,
    /// Alerts that only counted as a repeat of an identical earlier one.
    pub repeats: u64,
    /// Alerts stored against a suppression.
    pub suppressed: u64,
    /// Times a correlation rule fired.
    pub correlations: u64,
    /// Incidents merged into another (same campaign).
    pub incidents_merged: u64,
    /// Alerts whose timestamp could not be read (stored with the ingest time).
    pub bad_timestamps: u64,
    /// Shipped findings stored (alerts and protocol records), and those dropped as
    /// already received.
    pub findings: u64,
    pub(crate) duplicate_findings: u64,
    /// Protocol records stored, and those of types not kept (`record_types`).
    pub records: u64,
    pub(crate) records_not_kept: u64,
}

/// What waits for the next transaction: an alert, a shipped finding's id, or a
/// tailed file's position after the alerts before it.
enum Pending {
    Alert {
        alert: Box<AlertEvent>,
        finding: Option<String>,
    },
    Finding(String),
    /// A protocol record (EVE `dns`, `http`, `flow` …), with its finding id if shipped.
    Record {
        record: Box<serde_json::Value>,
        finding: Option<String>,
    },
    Position {
        source: String,
        dev: u64,
        ino: u64,
        offset: u64,
    },
}

/// Why the correlator could not be set up from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The asset inventory could not be read.
    #[error(transparent)]
    Inventory(#[from] crate::incident::assets::InventoryError),
    /// The correlation rules could not be loaded.
    #[error("correlation rules: {0}")]
    Correlation(#[from] crate::incident::correlate::CorrelationError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often suppressions are re-read from the store (analysts change them through
/// another connection).
const SUPPRESSIONS_REFRESH_US: i64 = 5_000_000;
/// How often retention runs.
const RETENTION_EVERY_US: i64 = 3_600_000_000;

/// The incident builder: queues alerts and records, writes them in batches, keeps incidents, suppressions and retention up to date.
pub struct Correlator {
    cfg: CorrelatorConfig,
    store: Store,
    pending: Vec<Pending>,
    /// The incident engine (grouping, correlation, scores).
    pub engine: IncidentEngine,
    /// Counters since it started.
    pub stats: IngestStats,
    suppressions_read_us: i64,
    retention_run_us: i64,
    /// The latest event time placed (µs): the clock of campaigns and correlation
    /// windows.
    latest_event_us: i64,
    /// When [`Correlator::expire_to_latest`] last ran (wall clock, µs).
    expired_at_us: i64,
}

pub use gatewatch_rules::event::parse_eve_timestamp;

fn wall_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// The incident windows of a configuration.
fn windows_of(cfg: &CorrelatorConfig) -> Windows {
    Windows {
        inactivity_us: cfg.incident_window_secs as i64 * 1_000_000,
        max_span_us: (cfg.incident_max_span_secs.min(i64::MAX as u64 / 2_000_000) as i64)
            * 1_000_000,
    }
}

/// An incident engine with everything a configuration names: the asset inventory and
/// the correlation rules (the correlator's, and the console's, which recomputes merged
/// incidents with it). Errors name the file and the entry.
pub fn engine_of(cfg: &CorrelatorConfig) -> Result<IncidentEngine, SetupError> {
    let mut engine = IncidentEngine::new(windows_of(cfg), Arc::new(Inventory::default()));
    if let Some(p) = &cfg.assets {
        engine.inventory = Arc::new(Inventory::load(p)?);
    }
    if cfg.correlation_builtin || !cfg.correlation_rules.is_empty() {
        engine.correlation = Some(AlertCorrelation::load(
            cfg.correlation_builtin,
            &cfg.correlation_rules,
            &limits(cfg),
        )?);
    }
    Ok(engine)
}

impl Correlator {
    /// A correlator with no asset inventory and the shipped correlation rules (when
    /// `cfg.correlation_builtin`); see [`Correlator::open`] for the rest of the
    /// configuration.
    pub fn new(cfg: CorrelatorConfig, store: Store) -> Self {
        let mut engine = IncidentEngine::new(windows_of(&cfg), Arc::new(Inventory::default()));
        if cfg.correlation_builtin {
            engine.correlation = AlertCorrelation::load(true, &[], &limits(&cfg)).ok();
        }
        let mut c = Correlator {
            cfg,
            store,
            pending: Vec::new(),
            engine,
            stats: IngestStats::default(),
            suppressions_read_us: i64::MIN,
            retention_run_us: i64::MIN,
            latest_event_us: i64::MIN,
            expired_at_us: i64::MIN,
        };
        // Read errors surface at the first flush, which reads them again.
        let _ = c.refresh_suppressions(wall_us());
        c
    }

    /// A correlator with everything its configuration names: the asset inventory and
    /// the correlation rules. Errors name the file and the entry.
    pub fn open(cfg: CorrelatorConfig, store: Store) -> Result<Self, SetupError> {
        let engine = engine_of(&cfg)?;
        if let Some(r) = engine.correlation.as_ref().map(|c| &c.report) {
            // A correlation rule that does not compile is skipped: say which and why.
            if !r.skipped.is_empty() || !r.notes.is_empty() {
                tracing::info!("{}", r.to_text(3).trim_end());
            }
        }
        let mut c = Correlator::new(cfg, store);
        c.engine = engine;
        c.refresh_suppressions(wall_us())?;
        Ok(c)
    }

    /// The store it writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, mutably (tests, maintenance).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The store, once the correlator is done (what is queued and not flushed is dropped).
    pub fn into_store(self) -> Store {
        self.store
    }

    /// Re-reads the suppressions now (they are also re-read every few seconds).
    pub fn reload_suppressions(&mut self) -> Result<(), StoreError> {
        self.refresh_suppressions(wall_us())
    }

    fn refresh_suppressions(&mut self, now_us: i64) -> Result<(), StoreError> {
        self.engine.suppressions = Suppressions::new(self.store.suppressions()?);
        self.suppressions_read_us = now_us;
        Ok(())
    }

    /// Queues an alert; alerts are written in batches (call [`Correlator::flush`] at the end).
    pub fn ingest(&mut self, alert: &AlertEvent) -> Result<(), StoreError> {
        self.pending.push(pending_alert(alert.clone(), None));
        if self.pending.len() >= self.cfg.batch_size.max(1) {
            self.flush()?;
        }
        Ok(())
    }

    /// Queues an alert without writing a full batch: what is queued after it (a file
    /// position) is committed in the same transaction.
    pub fn queue(&mut self, alert: &AlertEvent) {
        self.pending.push(pending_alert(alert.clone(), None));
    }

    /// Queues a finding shipped by a sensor: `id` is unique per sender (prefix it with
    /// the sender's name); a finding whose id was stored before is dropped at
    /// [`Correlator::flush`], in the same transaction, so a re-sent batch is stored
    /// exactly once. `alert` is `None` for protocol records (only their id is kept).
    pub fn ingest_finding(&mut self, id: String, alert: Option<AlertEvent>) {
        self.pending.push(match alert {
            Some(alert) => pending_alert(alert, Some(id)),
            None => Pending::Finding(id),
        });
    }

    /// Queues a protocol record (an EVE record other than an alert), with its finding
    /// id when a sensor shipped it (then stored once, as for alerts). Kept when its
    /// type is in `record_types`; counted either way.
    pub fn queue_record(&mut self, record: serde_json::Value, finding: Option<String>) {
        self.pending.push(Pending::Record { record: Box::new(record), finding });
    }

    /// [`Correlator::queue_record`], writing a batch when enough is queued.
    pub fn ingest_record(&mut self, record: serde_json::Value) -> Result<(), StoreError> {
        self.queue_record(record, None);
        if self.pending.len() >= self.cfg.batch_size.max(1) {
            self.flush()?;
        }
        Ok(())
    }

    /// Records, in the transaction of the alerts queued before it, that a tailed file
    /// was consumed up to `offset`: a restart resumes there, and nothing is stored
    /// twice or lost.
    pub fn mark_position(&mut self, source: &str, dev: u64, ino: u64, offset: u64) {
        self.pending.push(Pending::Position { source: source.to_string(), dev, ino, offset });
    }

    /// Housekeeping between batches (wall clock `now_us`): re-reads suppressions,
    /// forgets ended campaigns and correlation windows, applies retention hourly.
    pub fn maintain(&mut self, now_us: i64) -> Result<(), StoreError> {
        if now_us.saturating_sub(self.suppressions_read_us) >= SUPPRESSIONS_REFRESH_US {
            self.refresh_suppressions(now_us)?;
        }
        if self.cfg.retention_days > 0
            && now_us.saturating_sub(self.retention_run_us) >= RETENTION_EVERY_US
        {
            self.retention_run_us = now_us;
            let before = now_us - self.cfg.retention_days as i64 * 86_400_000_000;
            let (a, i) = self.store.apply_retention(before, 10_000)?;
            let keep_records = self.cfg.records_retention_days.min(self.cfg.retention_days);
            let r = self
                .store
                .delete_records_before(now_us - keep_records as i64 * 86_400_000_000, 10_000)?;
            if r > 0 {
                tracing::info!("retention ({keep_records} days): deleted {r} protocol records");
            }
            // Sensors' heartbeats stay as long as alerts (the monthly report's sensor health).
            self.store.delete_stats_before(before, 10_000)?;
            // Ids of shipped findings are remembered as long as records are kept.
            self.store
                .forget_findings_before(now_us - keep_records as i64 * 86_400_000_000, 10_000)?;
            if a + i > 0 {
                tracing::info!(
                    "retention ({} days): deleted {a} alerts and {i} closed incidents",
                    self.cfg.retention_days
                );
            }
        }
        Ok(())
    }

    /// Forgets correlation windows and campaigns that ended before `event_us` (event
    /// time: call it on quiet streams).
    pub fn expire(&mut self, event_us: i64) {
        self.engine.campaigns.expire(event_us);
        if let Some(c) = self.engine.correlation.as_mut() {
            c.evict_expired(event_us);
        }
    }

    /// [`Correlator::expire`] at the latest event time placed, at most once a second
    /// (wall clock): it walks every window, and the service calls it per batch.
    pub fn expire_to_latest(&mut self) {
        let now = wall_us();
        if self.latest_event_us > i64::MIN && now.saturating_sub(self.expired_at_us) >= 1_000_000 {
            self.expired_at_us = now;
            self.expire(self.latest_event_us);
        }
    }

    /// Writes the queued alerts and their incidents in one transaction.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let now_us = wall_us();
        if now_us.saturating_sub(self.suppressions_read_us) >= SUPPRESSIONS_REFRESH_US {
            self.refresh_suppressions(now_us)?;
        }
        let batch = std::mem::take(&mut self.pending);
        let engine_before = self.engine.stats;
        match self.write(&batch, now_us) {
            Ok(stats) => self.stats = stats,
            Err(e) => {
                // Nothing of the batch is stored: it stays queued for the next flush.
                self.engine.stats = engine_before;
                let later = std::mem::replace(&mut self.pending, batch);
                self.pending.extend(later);
                return Err(e);
            }
        }
        Ok(())
    }

    fn write(&mut self, batch: &[Pending], now_us: i64) -> Result<IngestStats, StoreError> {
        let mut stats = self.stats;
        let tx = self.store.transaction()?;
        let ops = TxOps::new(&tx)?;
        for p in batch {
            let (a, finding) = match p {
                Pending::Position { source, dev, ino, offset } => {
                    set_input_position(&tx, source, *dev, *ino, *offset, now_us)?;
                    continue;
                }
                Pending::Finding(id) => (None, Some(id)),
                Pending::Record { record, finding } => {
                    if let Some(id) = finding {
                        if !ops.claim_finding(id, now_us)? {
                            stats.duplicate_findings += 1;
                            continue;
                        }
                        stats.findings += 1;
                    }
                    let kept =
                        store_record(&self.cfg.record_types, &ops, record, now_us, &mut stats)?;
                    for id in kept {
                        self.engine.success_shown(&ops, id, record, now_us)?;
                    }
                    continue;
                }
                Pending::Alert { alert, finding } => (Some(&**alert), finding.as_ref()),
            };
            if let Some(id) = finding {
                if !ops.claim_finding(id, now_us)? {
                    stats.duplicate_findings += 1;
                    continue;
                }
                stats.findings += 1;
            }
            let Some(a) = a else { continue };
            let ts_us = match parse_eve_timestamp(&a.timestamp) {
                Some(t) => t,
                None => {
                    stats.bad_timestamps += 1;
                    now_us
                }
            };
            let raw = serde_json::to_string(a).unwrap_or_default();
            self.engine.place(&ops, a, ts_us, &raw, now_us)?;
            self.latest_event_us = self.latest_event_us.max(ts_us);
        }
        tx.commit()?;
        let e = self.engine.stats;
        stats.alerts = e.alerts;
        stats.incidents_created = e.incidents_created;
        stats.repeats = e.repeats;
        stats.suppressed = e.suppressed;
        stats.correlations = e.correlations;
        stats.incidents_merged = e.incidents_merged;
        Ok(stats)
    }
}

/// An alert queued for the store, its addresses in one spelling: Suricata's full IPv6
/// and a sensor's compressed IPv6 name the same host, which must be one entity.
fn pending_alert(mut alert: AlertEvent, finding: Option<String>) -> Pending {
    alert.canonicalize_addresses();
    Pending::Alert { alert: Box::new(alert), finding }
}

/// Stores record `r` when its kind is kept; returns the incidents its flow is part of.
fn store_record(
    record_types: &[String],
    ops: &TxOps<'_>,
    r: &serde_json::Value,
    now_us: i64,
    stats: &mut IngestStats,
) -> Result<Vec<i64>, StoreError> {
    let kind = r.get("event_type").and_then(|t| t.as_str()).unwrap_or("");
    if !record_types.iter().any(|t| t == kind) {
        stats.records_not_kept += 1;
        return Ok(Vec::new());
    }
    let text = |k: &str| r.get(k).and_then(|v| v.as_str());
    let ts = text("timestamp").and_then(parse_eve_timestamp).unwrap_or(now_us);
    let flow = r.get("flow_id").and_then(|f| f.as_u64());
    let body = r.to_string();
    ops.insert_record(&crate::store::write::NewRecord {
        ts_us: ts,
        event_type: kind,
        sensor: text("host"),
        flow_id: flow,
        src_ip: text("src_ip"),
        dest_ip: text("dest_ip"),
        body: &body,
    })?;
    stats.records += 1;
    // A record of a flow already in incidents makes them findable by its observables
    // (and may show that the attack worked: the caller asks).
    let Some(flow) = flow else { return Ok(Vec::new()) };
    let incidents = ops.flow_incidents(flow)?;
    if !incidents.is_empty() {
        let found = crate::incident::observables::of_event(r);
        for id in &incidents {
            ops.add_observables(*id, &found)?;
        }
    }
    Ok(incidents)
}

impl Correlator {
    /// Alerts and positions queued, not yet written.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

fn limits(cfg: &CorrelatorConfig) -> CorrelationLimits {
    CorrelationLimits {
        max_state_entries: cfg.correlation_max_windows.max(1),
        ..CorrelationLimits::default()
    }
}

#[cfg(test)]
mod tests;
