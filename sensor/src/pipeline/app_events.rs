//! Application-layer records: EVE events, Sigma rules and files.

use gatewatch_rules::event::ip_text;
use std::io;

use crate::app::records::Record;
use crate::ioc::{ioc_alert_info, record_hits};
use crate::output::eve::{proto_name, timestamp, AppEvent};
use crate::output::EventSink;
use crate::scan::yara_alert_info;

use super::alerts::{finding_alert, FindingAt};
use super::Sensor;

impl Sensor {
    /// Writes one application-layer record, found at `at` (its sender `src`, its
    /// receiver `dst`), with the alerts of the engines that look at records.
    pub(super) fn write_app(
        &mut self,
        mut record: Record,
        at: &FindingAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        if let (Record::Fileinfo(f), Some(store)) = (&mut record, self.files.as_mut()) {
            f.stored = store.store(&f.sha256, f.storable.then_some(f.data.as_slice()));
        }
        self.indicator_alerts(&record, at, sink)?;
        self.yara_file_alerts(&record, at, sink)?;
        let (event_type, tx_id) = (record.event_type(), record.tx_id());
        // A file tells which protocol carried it.
        let app = matches!(record, Record::Fileinfo(_)).then_some(at.app_proto).flatten();
        let app = app.map(|a| a.as_str());
        let ev = AppEvent {
            timestamp: timestamp(at.ts),
            flow_id: at.flow_id,
            pcap_cnt: at.pcap_cnt,
            event_type,
            src_ip: ip_text(&at.src.0),
            src_port: at.src.1,
            dest_ip: ip_text(&at.dst.0),
            dest_port: at.dst.1,
            proto: proto_name(at.proto),
            pkt_src: at.pcap_cnt.map(|_| "wire/pcap"),
            tx_id,
            app_proto: app,
            record,
            host: self.cfg.eve.sensor_name.clone(),
        };
        self.sigma_alerts(&ev, at, sink)?;
        sink.app_owned(ev)
    }

    /// Indicator lists over the names, addresses and hashes of a record.
    fn indicator_alerts(
        &mut self,
        record: &Record,
        at: &FindingAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let Some(set) = self.ioc.as_deref() else { return Ok(()) };
        let hits = record_hits(set, record);
        if hits.is_empty() {
            return Ok(());
        }
        let app_metadata = record_metadata(record);
        for h in &hits {
            self.stats.ioc_hits += 1;
            let host = self.cfg.eve.sensor_name.clone();
            let info = ioc_alert_info(set, h);
            sink.alert(&finding_alert(host, info, at, app_metadata.clone()))?;
        }
        Ok(())
    }

    /// YARA over a file (it goes from its sender, `src`, to its receiver).
    fn yara_file_alerts(
        &mut self,
        record: &Record,
        at: &FindingAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let (Record::Fileinfo(f), Some(scanner)) = (record, self.scanner.as_mut()) else {
            return Ok(());
        };
        let matches = scanner.scan_file(f);
        if matches.is_empty() {
            return Ok(());
        }
        let mut app_metadata = serde_json::Map::new();
        if let Ok(v) = serde_json::to_value(f) {
            app_metadata.insert("fileinfo".into(), v);
        }
        for m in &matches {
            let host = self.cfg.eve.sensor_name.clone();
            sink.alert(&finding_alert(host, yara_alert_info(m), at, app_metadata.clone()))?;
        }
        Ok(())
    }

    /// Sigma rules over the event.
    fn sigma_alerts(
        &mut self,
        ev: &AppEvent,
        at: &FindingAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let Some((set, eval)) = self.sigma.as_mut() else { return Ok(()) };
        let hits = eval.evaluate(set, at.flow_id, ev);
        if hits.is_empty() {
            return Ok(());
        }
        let app_metadata = record_metadata(&ev.record);
        for h in &hits {
            let host = self.cfg.eve.sensor_name.clone();
            sink.alert(&finding_alert(host, h.alert_info(), at, app_metadata.clone()))?;
        }
        Ok(())
    }
}

/// A record's object under its EVE name, for the metadata of an alert about it.
fn record_metadata(record: &Record) -> serde_json::Map<String, serde_json::Value> {
    let mut app_metadata = serde_json::Map::new();
    if let (Ok(v), Some(name)) = (serde_json::to_value(record), record.object_name()) {
        let v = v.get(name).cloned().unwrap_or(v);
        app_metadata.insert(name.to_string(), v);
    }
    app_metadata
}
