//! Packets inspected without a flow: those that carry decoder events but are not
//! inspected as flows (fragments held for reassembly, packets that did not decode),
//! shown to the rules that test events (`alert pkthdr any any -> any any
//! (decode-event:ipv6.frag_overlap; ...)`), and ICMPv4 errors about no tracked
//! connection, shown to every rule, as Suricata shows them.

use std::io;
use std::net::IpAddr;

use gatewatch_rules::engine::{IcmpInfo, Packet, PacketEvent};
use gatewatch_rules::signature::{Buffer, EventKind};

use super::detect::alerts::AlertMeta;
use super::inspect::header_buffers;
use super::Pipeline;
use crate::decode::{DecodeError, DecodeEvents, L3, L4};
use crate::output::EventSink;

/// The addresses and protocol of a packet seen only for its events.
pub(super) struct EventPacket {
    pub ts: i64,
    pub version: u8,
    pub proto: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub vlan: [u16; 3],
}

/// The events of a packet as rules name them: those that let decoding go on, then the
/// error that stopped it.
pub(super) fn decode_events(
    version: u8,
    events: DecodeEvents,
    error: Option<DecodeError>,
) -> Vec<PacketEvent> {
    let kind = EventKind::Decode;
    let mut out: Vec<PacketEvent> =
        events.names(version).map(|name| PacketEvent { kind, name }).collect();
    out.extend(error.map(|e| PacketEvent { kind, name: e.as_str() }));
    out
}

impl Pipeline {
    /// Detection on a packet outside any flow, for the rules on its events.
    pub(super) fn inspect_events(
        &mut self,
        at: &EventPacket,
        events: &[PacketEvent],
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        if events.is_empty() || !self.rules.has_event_rules() {
            return Ok(());
        }
        let pkt = Packet {
            events,
            vlan: at.vlan,
            ..Packet::new(at.ts.div_euclid(1_000_000), at.proto, at.src, at.dst, &[])
        };
        self.rules.detect(&mut self.detector, &pkt, None, &mut self.hits);
        let hits = std::mem::take(&mut self.hits);
        if hits.is_empty() {
            return Ok(());
        }
        let has_ports = matches!(at.proto, 6 | 17 | 132);
        let meta = AlertMeta {
            ts: at.ts,
            pcap_cnt: Some(self.pcap_cnt),
            // A protocol with ports shows them, 0 when they could not be read, as
            // Suricata writes such packets.
            src: (at.src, has_ports.then_some(0)),
            dst: (at.dst, has_ports.then_some(0)),
            proto: at.proto,
            ip_v: at.version,
            icmp: None,
            to_server: true,
            vlan: at.vlan,
            // Outside any flow: nothing recorded.
            detection: Default::default(),
            pseudo: None,
            payload: Vec::new(),
        };
        self.write_alerts(&hits, &meta, None, None, None, sink)
    }

    /// Detection on a packet that belongs to no flow (an ICMPv4 error about no
    /// connection tracked here): alerts carry no flow.
    pub(super) fn inspect_flowless(
        &mut self,
        ts: i64,
        pkt: &Packet<'_>,
        l3: &L3<'_>,
        l4: &L4<'_>,
        icmp: Option<IcmpInfo>,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let mut buffers: Vec<(Buffer, &[u8])> = Vec::new();
        if self.rules.has_header_buffers() {
            header_buffers(l3, l4, &mut buffers);
        }
        let pkt = Packet { buffers: &buffers, ..*pkt };
        self.rules.detect(&mut self.detector, &pkt, None, &mut self.hits);
        let hits = std::mem::take(&mut self.hits);
        if !hits.is_empty() {
            let meta = AlertMeta {
                ts,
                pcap_cnt: Some(self.pcap_cnt),
                src: (l3.src, None),
                dst: (l3.dst, None),
                proto: l3.proto,
                ip_v: l3.version,
                icmp,
                to_server: true,
                vlan: l3.vlan,
                detection: Default::default(),
                pseudo: None,
                payload: if self.cfg.eve.payload {
                    let p = l4.payload();
                    p[..p.len().min(crate::config::PAYLOAD_MAX)].to_vec()
                } else {
                    Vec::new()
                },
            };
            self.write_alerts(&hits, &meta, None, None, None, sink)?;
        }
        self.hits = hits;
        Ok(())
    }
}
