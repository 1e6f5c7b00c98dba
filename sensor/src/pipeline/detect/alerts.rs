//! Alerts: of signatures (with their flow and transaction), and of content engines.

use gatewatch_rules::event::ip_text;
use std::io;
use std::net::IpAddr;

use gatewatch_rules::engine::{Hit, IcmpInfo};
use gatewatch_rules::event::{AlertEvent, AlertInfo, Endpoint, FlowSummary};
use gatewatch_rules::signature::{options::metadata_map, Action, AppProto, Target};

use crate::app::parser::TxMeta;
use crate::output::community_id;
use crate::output::eve::{proto_name, timestamp};
use crate::output::{EventSink, HeldThreshold};

use crate::pipeline::Pipeline;

impl Pipeline {
    #[allow(clippy::too_many_arguments)]
    pub(in crate::pipeline) fn write_alerts(
        &self,
        hits: &[Hit],
        m: &AlertMeta,
        flow: Option<(u64, &FlowSummary)>,
        app_proto: Option<AppProto>,
        tx: Option<&TxMeta>,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let (app_metadata, pkt_src) = self.alert_context(m, tx);
        let ep = |(ip, port): (IpAddr, Option<u16>)| Some(Endpoint { ip: ip_text(&ip), port });
        // Suricata writes a community id on the alerts of a flow only.
        let community_id = flow.and_then(|_| {
            let (src, dst) = ((m.src.0, m.src.1.unwrap_or(0)), (m.dst.0, m.dst.1.unwrap_or(0)));
            community_id::for_eve(&self.cfg.eve, m.proto, src, dst, m.icmp.map(|i| i.itype))
        });
        for h in hits {
            let sig = self.rules.signature(h.rule);
            let (source, target) = match sig.target {
                Some(Target::SrcIp) => (ep(m.dst), ep(m.src)),
                Some(Target::DestIp) => (ep(m.src), ep(m.dst)),
                None => (None, None),
            };
            let meta = metadata_map(sig);
            let alert = AlertEvent {
                timestamp: timestamp(m.ts),
                flow_id: flow.map(|f| f.0),
                pcap_cnt: m.pcap_cnt,
                in_iface: self.cfg.eve.in_iface.clone(),
                event_type: "alert".into(),
                src_ip: ip_text(&m.src.0),
                src_port: m.src.1,
                dest_ip: ip_text(&m.dst.0),
                dest_port: m.dst.1,
                proto: proto_name(m.proto),
                ip_v: Some(m.ip_v),
                icmp_type: m.icmp.map(|i| i.itype),
                icmp_code: m.icmp.map(|i| i.icode),
                pkt_src: Some(pkt_src.into()),
                community_id: community_id.clone(),
                // A packet of no flow has no direction (Suricata writes none).
                direction: flow.map(|_| if m.to_server { "to_server" } else { "to_client" }.into()),
                alert: AlertInfo {
                    action: match sig.action {
                        Action::Alert | Action::Pass | Action::Drop | Action::Reject => {
                            "allowed".into()
                        }
                    },
                    gid: sig.gid,
                    signature_id: sig.sid,
                    rev: sig.rev,
                    signature: sig.msg.clone(),
                    category: sig.category.clone(),
                    severity: sig.priority,
                    source,
                    target,
                    metadata: (!meta.is_empty()).then_some(meta),
                    context: h.context.as_deref().cloned(),
                },
                app_proto: app_proto.map(|a| a.as_str().to_string()),
                flow: flow.map(|f| f.1.clone()),
                app_metadata: app_metadata.clone(),
                host: self.cfg.eve.sensor_name.clone(),
            };
            match (h.threshold_deferred, sig.threshold) {
                (true, Some(threshold)) => {
                    let held = HeldThreshold {
                        threshold,
                        src: m.src.0,
                        dst: m.dst.0,
                        ts_secs: m.ts.div_euclid(1_000_000),
                    };
                    sink.held_alert(&alert, &held)?
                }
                _ => sink.alert(&alert)?,
            }
        }
        Ok(())
    }

    /// What every alert of a packet carries besides the rule: the transaction, VLANs,
    /// the flow's detection metadata, the tunnel, the payload (`eve.payload`); and
    /// where the packet came from (`pkt_src`).
    fn alert_context(
        &self,
        m: &AlertMeta,
        tx: Option<&TxMeta>,
    ) -> (serde_json::Map<String, serde_json::Value>, &'static str) {
        let mut app_metadata = serde_json::Map::new();
        if let Some((k, v)) = tx.and_then(TxMeta::json) {
            app_metadata.insert(k.to_string(), v);
        }
        // The transaction's number in its flow, as Suricata's `tx_id`.
        if let Some(id) = tx.and_then(|t| t.tx_id) {
            app_metadata.insert("tx_id".into(), id.into());
        }
        let vlans = gatewatch_rules::signature::vlan::layers(&m.vlan);
        if !vlans.is_empty() {
            app_metadata.insert("vlan".into(), vlans.into());
        }
        app_metadata.extend(m.detection.iter().map(|(k, v)| (k.clone(), v.clone())));
        if !m.payload.is_empty() {
            let printable: String = m
                .payload
                .iter()
                .map(|&b| if b == b' ' || b.is_ascii_graphic() { b as char } else { '.' })
                .collect();
            let encoded = gatewatch_rules::signature::transform::base64_encode(&m.payload);
            app_metadata.insert("payload".into(), encoded.into());
            app_metadata.insert("payload_printable".into(), printable.into());
        }
        // A packet out of a tunnel: the tunnel packet, as Suricata's `tunnel` object.
        // (At a flow's end, the flow's tunnel: see `flow_end_pass`.)
        let tunnel = self.tunnel.as_ref();
        if let Some(t) = tunnel {
            app_metadata.insert("tunnel".into(), t.json());
        }
        let pkt_src = match (tunnel, m.pseudo) {
            (Some(t), _) => t.inner_pkt_src,
            (None, Some(pseudo)) => pseudo.pkt_src(),
            (None, None) => "wire/pcap",
        };
        (app_metadata, pkt_src)
    }
}

/// The EVE envelope of an alert raised by an engine other than signatures.
pub(in crate::pipeline) fn finding_alert(
    eve: &crate::config::EveConfig,
    alert: AlertInfo,
    at: &FindingAt,
    app_metadata: serde_json::Map<String, serde_json::Value>,
) -> AlertEvent {
    AlertEvent {
        timestamp: timestamp(at.ts),
        flow_id: Some(at.flow_id),
        pcap_cnt: at.pcap_cnt,
        in_iface: eve.in_iface.clone(),
        event_type: "alert".into(),
        src_ip: ip_text(&at.src.0),
        src_port: Some(at.src.1),
        dest_ip: ip_text(&at.dst.0),
        dest_port: Some(at.dst.1),
        proto: proto_name(at.proto),
        ip_v: Some(if at.src.0.is_ipv4() { 4 } else { 6 }),
        icmp_type: None,
        icmp_code: None,
        pkt_src: Some(
            if at.pcap_cnt.is_some() { "wire/pcap" } else { "stream (flow timeout)" }.into(),
        ),
        community_id: community_id::for_eve(eve, at.proto, at.src, at.dst, None),
        direction: Some(if at.to_server { "to_server" } else { "to_client" }.into()),
        alert,
        app_proto: at.app_proto.map(|a| a.as_str().to_string()),
        flow: None,
        app_metadata,
        host: eve.sensor_name.clone(),
    }
}

/// Where a finding of a content engine (YARA, IOC, Sigma) was made.
pub(in crate::pipeline) struct FindingAt {
    pub(in crate::pipeline) ts: i64,
    pub(in crate::pipeline) flow_id: u64,
    pub(in crate::pipeline) pcap_cnt: Option<u64>,
    pub(in crate::pipeline) proto: u8,
    pub(in crate::pipeline) src: (IpAddr, u16),
    pub(in crate::pipeline) dst: (IpAddr, u16),
    pub(in crate::pipeline) to_server: bool,
    pub(in crate::pipeline) app_proto: Option<AppProto>,
}

impl FindingAt {
    /// A finding at the end of flow `f`, told from its client's side.
    pub(in crate::pipeline) fn flow_end(f: &crate::flow::Flow) -> FindingAt {
        FindingAt {
            ts: f.last_us,
            flow_id: f.id,
            pcap_cnt: None,
            proto: f.proto,
            src: f.client,
            dst: f.server,
            to_server: true,
            app_proto: f.app_proto,
        }
    }
}

/// Where an alert comes from: a captured packet, or the end of a flow.
pub(in crate::pipeline) struct AlertMeta {
    pub(in crate::pipeline) ts: i64,
    pub(in crate::pipeline) pcap_cnt: Option<u64>,
    pub(in crate::pipeline) src: (IpAddr, Option<u16>),
    pub(in crate::pipeline) dst: (IpAddr, Option<u16>),
    pub(in crate::pipeline) proto: u8,
    pub(in crate::pipeline) ip_v: u8,
    pub(in crate::pipeline) icmp: Option<IcmpInfo>,
    pub(in crate::pipeline) to_server: bool,
    /// The VLAN ids, outer first, 0 after the last.
    pub(in crate::pipeline) vlan: [u16; 3],
    /// The flow's `traffic` and `metadata` (flowbits, flowints, entropy), if any.
    pub(in crate::pipeline) detection: serde_json::Map<String, serde_json::Value>,
    /// The pseudo packet the alert comes from; `None` for a captured packet.
    pub(in crate::pipeline) pseudo: Option<Pseudo>,
    /// The packet's payload, when `eve.payload` asks for it (at most `PAYLOAD_MAX`).
    pub(in crate::pipeline) payload: Vec<u8>,
}

/// Suricata's pseudo packets: detection passes over what a flow holds, with no
/// packet of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::pipeline) enum Pseudo {
    /// The flow ended (timeout, shutdown, eviction, reset).
    FlowEnd,
    /// The session stopped being inspected (encrypted): what it held is inspected
    /// now, after the packet that did it.
    DetectLog,
}

impl Pseudo {
    /// EVE `pkt_src`.
    pub(in crate::pipeline) fn pkt_src(self) -> &'static str {
        match self {
            Pseudo::FlowEnd => "stream (flow timeout)",
            Pseudo::DetectLog => "stream (detect/log)",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use gatewatch_rules::engine::{Limits, RuleSet};
    use gatewatch_rules::load_report::LoadReport;
    use gatewatch_rules::signature::{file, Vars};

    use crate::config::SensorConfig;
    use crate::output::AlertCollector;
    use crate::pipeline::Pipeline;
    use crate::synth;

    fn alerts(payload: bool) -> Vec<gatewatch_rules::event::AlertEvent> {
        let mut sigs = Vec::new();
        let rule =
            "alert tcp any any -> any 80 (msg:\"GET\"; flow:to_server; content:\"GET /\"; sid:1;)";
        file::load_text(rule, "t.rules", &Vars::default(), &mut sigs, &mut LoadReport::default());
        let mut cfg = SensorConfig::default();
        cfg.eve.payload = payload;
        let rules = Arc::new(RuleSet::build(sigs, Limits::default()));
        let mut sensor = Pipeline::new(cfg, rules);
        let mut out = AlertCollector::default();
        for (ts, frame) in synth::TcpSession::demo_pair().frames() {
            sensor.process(&synth::frame(ts, &frame), &mut out).expect("process");
        }
        sensor.finish(&mut out).expect("finish");
        out.alerts
    }

    /// `eve.payload`: the packet's payload in base64 and printable, as Suricata writes
    /// them; nothing by default.
    #[test]
    fn alerts_carry_the_payload_when_asked() {
        let on = alerts(true);
        assert_eq!(on.len(), 1, "{on:?}");
        let m = &on[0].app_metadata;
        let want = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let b64 = gatewatch_rules::signature::transform::base64_encode(want);
        assert_eq!(m["payload"], serde_json::json!(b64));
        assert_eq!(m["payload_printable"], "GET / HTTP/1.1..Host: a....");
        let off = alerts(false);
        assert_eq!(off.len(), 1);
        assert!(!off[0].app_metadata.contains_key("payload"));
        assert!(!off[0].app_metadata.contains_key("payload_printable"));
    }
}
