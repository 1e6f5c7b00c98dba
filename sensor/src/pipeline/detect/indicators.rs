//! Indicator (IOC) lists: a flow's addresses at its first packet, and the values of
//! application records (DNS names, TLS SNI, URLs, JA3/JA4, file hashes).

use std::io;

use gatewatch_rules::event::{ip_text, Endpoint};

use crate::app::records::Record;
use crate::ioc::{ioc_alert_info, record_hits, IocHit};
use crate::output::EventSink;
use crate::pipeline::app_events::record_metadata;
use crate::pipeline::detect::alerts::{finding_alert, FindingAt};
use crate::pipeline::inspect::PacketAt;
use crate::pipeline::Pipeline;

impl Pipeline {
    /// Indicator lists: both addresses of a flow, at its first packet.
    pub(in crate::pipeline) fn indicators_at_flow_start(
        &mut self,
        slot: usize,
        at: &PacketAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let (Some(set), Some(flow)) = (self.ioc.as_deref(), self.flows.get_mut(slot)) else {
            return Ok(());
        };
        for (bad, other, field) in
            [(flow.client, flow.server, "flow.src_ip"), (flow.server, flow.client, "flow.dest_ip")]
        {
            let Some(indicator) = set.lookup_ip(bad.0) else { continue };
            let mut info = ioc_alert_info(set, &IocHit { indicator, field });
            info.source = Some(Endpoint { ip: ip_text(&bad.0), port: Some(bad.1) });
            info.target = Some(Endpoint { ip: ip_text(&other.0), port: Some(other.1) });
            let finding = FindingAt {
                ts: at.ts,
                flow_id: flow.id,
                pcap_cnt: Some(self.pcap_cnt),
                proto: at.proto,
                src: at.src,
                dst: at.dst,
                to_server: at.to_server,
                app_proto: flow.app_proto,
            };
            self.stats.ioc_hits += 1;
            sink.alert(&finding_alert(&self.cfg.eve, info, &finding, serde_json::Map::new()))?;
        }
        Ok(())
    }

    /// Indicator lists over the names, addresses and hashes of a record.
    pub(in crate::pipeline) fn indicator_alerts(
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
            let info = ioc_alert_info(set, h);
            sink.alert(&finding_alert(&self.cfg.eve, info, at, app_metadata.clone()))?;
        }
        Ok(())
    }
}
