//! Application-layer records: EVE events, Sigma rules and files.

use gatewatch_rules::event::ip_text;
use std::io;

use crate::app::records::Record;
use crate::output::community_id;
use crate::output::eve::{proto_name, timestamp, AppEvent};
use crate::output::EventSink;

use super::detect::alerts::FindingAt;
use super::Pipeline;

impl Pipeline {
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
        let carrier = match &mut record {
            Record::Fileinfo(f) => std::mem::take(&mut f.carrier),
            _ => serde_json::Map::new(),
        };
        let ev = AppEvent {
            timestamp: timestamp(at.ts),
            flow_id: at.flow_id,
            pcap_cnt: at.pcap_cnt,
            in_iface: self.cfg.eve.in_iface.clone(),
            event_type,
            src_ip: ip_text(&at.src.0),
            src_port: at.src.1,
            dest_ip: ip_text(&at.dst.0),
            dest_port: at.dst.1,
            proto: proto_name(at.proto),
            pkt_src: at.pcap_cnt.map(|_| "wire/pcap"),
            community_id: community_id::for_eve(&self.cfg.eve, at.proto, at.src, at.dst, None),
            tx_id,
            carrier,
            app_proto: app,
            record,
            host: self.cfg.eve.sensor_name.clone(),
        };
        self.sigma_alerts(&ev, at, sink)?;
        sink.app_owned(ev)
    }
}

/// A record's object under its EVE name, for the metadata of an alert about it.
pub(in crate::pipeline) fn record_metadata(
    record: &Record,
) -> serde_json::Map<String, serde_json::Value> {
    let mut app_metadata = serde_json::Map::new();
    if let (Ok(v), Some(name)) = (serde_json::to_value(record), record.object_name()) {
        let v = v.get(name).cloned().unwrap_or(v);
        app_metadata.insert(name.to_string(), v);
    }
    app_metadata
}
