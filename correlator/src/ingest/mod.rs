//! The correlator's entry points: EVE alerts (in process from `demo`/`run`, or from
//! the network), and host logs ([`hostlog`], read from [`syslog`] or JSON) that become
//! alerts through Sigma.

pub mod hostlog;
pub mod syslog;

use gatewatch_rules::event::AlertEvent;

use crate::config::CorrelatorConfig;
use crate::incident;
use crate::store::sqlite::{iso_utc, NewAlert, TxOps};
use crate::store::{Store, StoreError};

/// Counters of the ingest path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestStats {
    pub alerts: u64,
    pub incidents_created: u64,
    /// Alerts whose timestamp could not be read (stored with the ingest time).
    pub bad_timestamps: u64,
    /// Shipped findings stored (alerts and protocol records), and those dropped as
    /// already received.
    pub findings: u64,
    pub duplicate_findings: u64,
}

/// What waits for the next transaction: an alert, a shipped finding's id, or both.
struct Pending {
    alert: Option<AlertEvent>,
    finding: Option<String>,
}

pub struct Correlator {
    cfg: CorrelatorConfig,
    store: Store,
    pending: Vec<Pending>,
    pub stats: IngestStats,
}

pub use gatewatch_rules::event::parse_eve_timestamp;

impl Correlator {
    pub fn new(cfg: CorrelatorConfig, store: Store) -> Self {
        Correlator { cfg, store, pending: Vec::new(), stats: IngestStats::default() }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Queues an alert; alerts are written in batches (call [`Correlator::flush`] at the end).
    pub fn ingest(&mut self, alert: &AlertEvent) -> Result<(), StoreError> {
        self.pending.push(Pending { alert: Some(alert.clone()), finding: None });
        if self.pending.len() >= self.cfg.batch_size.max(1) {
            self.flush()?;
        }
        Ok(())
    }

    /// Queues a finding shipped by a sensor: `id` is unique per sender (prefix it with
    /// the sender's name); a finding whose id was stored before is dropped at
    /// [`Correlator::flush`], in the same transaction, so a re-sent batch is stored
    /// exactly once. `alert` is `None` for protocol records (only their id is kept).
    pub fn ingest_finding(&mut self, id: String, alert: Option<AlertEvent>) {
        self.pending.push(Pending { alert, finding: Some(id) });
    }

    /// Writes the queued alerts and their incidents in one transaction.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        let window_us = self.cfg.incident_window_secs as i64 * 1_000_000;
        let now = iso_utc(chrono::Utc::now().timestamp_micros());
        let tx = self.store.transaction()?;
        let ops = TxOps { tx: &tx };
        let mut stats = self.stats;
        let received_us = chrono::Utc::now().timestamp_micros();
        for p in &batch {
            if let Some(id) = &p.finding {
                if !ops.claim_finding(id, received_us)? {
                    stats.duplicate_findings += 1;
                    continue;
                }
                stats.findings += 1;
            }
            let Some(a) = &p.alert else { continue };
            let ts_us = match parse_eve_timestamp(&a.timestamp) {
                Some(t) => t,
                None => {
                    stats.bad_timestamps += 1;
                    chrono::Utc::now().timestamp_micros()
                }
            };
            let raw = serde_json::to_string(a).unwrap_or_default();
            let row = NewAlert {
                ts_us,
                timestamp: &a.timestamp,
                sensor: a.host.as_deref(),
                flow_id: a.flow_id,
                gid: a.alert.gid,
                sid: a.alert.signature_id,
                rev: a.alert.rev,
                signature: &a.alert.signature,
                category: &a.alert.category,
                severity: a.alert.severity,
                src_ip: &a.src_ip,
                src_port: a.src_port,
                dest_ip: &a.dest_ip,
                dest_port: a.dest_port,
                proto: &a.proto,
                raw: &raw,
            };
            let open =
                ops.open_incident(row.gid, row.sid, row.src_ip, row.dest_ip, ts_us - window_us)?;
            let incident_id = match open {
                Some((id, count, first, last)) => {
                    let count = count + 1;
                    ops.update_incident(
                        id,
                        count,
                        first.min(ts_us),
                        last.max(ts_us),
                        incident::score(row.severity, count),
                        &now,
                    )?;
                    id
                }
                None => {
                    stats.incidents_created += 1;
                    let title = incident::title(row.signature, row.src_ip, row.dest_ip);
                    ops.insert_incident(&title, &row, incident::score(row.severity, 1), &now)?
                }
            };
            ops.insert_alert(&row, incident_id)?;
            stats.alerts += 1;
        }
        tx.commit()?;
        self.stats = stats;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatewatch_rules::event::AlertInfo;

    fn alert(ts: &str, sid: u32, src: &str, dst: &str) -> AlertEvent {
        AlertEvent {
            timestamp: ts.into(),
            flow_id: Some(1),
            pcap_cnt: None,
            event_type: "alert".into(),
            src_ip: src.into(),
            src_port: Some(1234),
            dest_ip: dst.into(),
            dest_port: Some(80),
            proto: "TCP".into(),
            ip_v: Some(4),
            icmp_type: None,
            icmp_code: None,
            pkt_src: None,
            direction: None,
            alert: AlertInfo {
                action: "allowed".into(),
                gid: 1,
                signature_id: sid,
                rev: 1,
                signature: format!("rule {sid}"),
                category: "Misc".into(),
                severity: 2,
                source: None,
                target: None,
                metadata: None,
            },
            app_proto: None,
            flow: None,
            app_metadata: Default::default(),
            host: None,
        }
    }

    #[test]
    fn groups_by_rule_and_hosts_within_the_window() {
        let cfg = CorrelatorConfig { incident_window_secs: 600, batch_size: 2 };
        let mut c = Correlator::new(cfg, Store::open_in_memory().unwrap());
        c.ingest(&alert("2026-10-14T01:00:00.000000+0000", 1, "1.1.1.1", "10.0.0.1")).unwrap();
        c.ingest(&alert("2026-10-14T01:05:00.000000+0000", 1, "1.1.1.1", "10.0.0.1")).unwrap();
        // Another destination: another incident.
        c.ingest(&alert("2026-10-14T01:05:00.000000+0000", 1, "1.1.1.1", "10.0.0.2")).unwrap();
        // Same key, but 11 minutes after the last one: a new incident.
        c.ingest(&alert("2026-10-14T01:16:00.000000+0000", 1, "1.1.1.1", "10.0.0.1")).unwrap();
        // Bad timestamp: stored, counted.
        c.ingest(&alert("yesterday", 2, "1.1.1.1", "10.0.0.1")).unwrap();
        c.flush().unwrap();
        assert_eq!(c.store().alert_count().unwrap(), 5);
        assert_eq!(c.store().incident_count().unwrap(), 4);
        assert_eq!(c.stats.bad_timestamps, 1);
        let list = c.store().list_incidents(10).unwrap();
        let first = list.iter().find(|i| i.alert_count == 2).unwrap();
        assert_eq!(first.first_seen, "2026-10-14T01:00:00.000000Z");
        assert_eq!(first.last_seen, "2026-10-14T01:05:00.000000Z");
        assert_eq!(first.score, incident::score(2, 2));
        assert_eq!(c.store().incident_alerts(first.id, 10).unwrap().len(), 2);
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_eve_timestamp("1970-01-01T00:00:01.000002+0000"), Some(1_000_002));
        assert_eq!(parse_eve_timestamp("1970-01-01T07:00:01.5+0700"), Some(1_500_000));
        assert_eq!(parse_eve_timestamp("nope"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Model check of the incident windows: alerts in time order, grouped by
        /// (sid, src, dst); a gap longer than the window starts a new incident.
        #[test]
        fn incident_windows_match_the_model(alerts in proptest::collection::vec((1u32..3, 0usize..2, 0usize..2, 0i64..1_300), 1..60)) {
            let window = 600i64;
            let cfg = CorrelatorConfig { incident_window_secs: window as u32, batch_size: 7 };
            let mut c = Correlator::new(cfg, Store::open_in_memory().unwrap());
            let mut now = 1_790_000_000i64;
            let mut model: std::collections::HashMap<(u32, usize, usize), (i64, Vec<u64>)> = std::collections::HashMap::new();
            let mut closed: Vec<u64> = Vec::new();
            let hosts = ["203.0.113.1", "203.0.113.2"];
            let dsts = ["10.0.0.1", "10.0.0.2"];
            for (sid, s, d, gap) in alerts {
                now += gap;
                let ts = chrono::DateTime::<chrono::Utc>::from_timestamp(now, 0).unwrap().format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string();
                c.ingest(&alert(&ts, sid, hosts[s], dsts[d])).unwrap();
                let e = model.entry((sid, s, d)).or_insert((i64::MIN, Vec::new()));
                if e.1.is_empty() || now - e.0 > window {
                    e.1.push(1);
                } else if let Some(last) = e.1.last_mut() {
                    *last += 1;
                }
                e.0 = now;
            }
            c.flush().unwrap();
            for (_, (_, counts)) in model { closed.extend(counts); }
            closed.sort_unstable();
            let mut got: Vec<u64> = c.store().list_incidents(10_000).unwrap().iter().map(|i| i.alert_count).collect();
            got.sort_unstable();
            proptest::prop_assert_eq!(got, closed);
        }
    }
}
