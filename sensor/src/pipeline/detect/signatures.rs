//! Signatures on a packet, its stream and its transactions: the passes, the alerts they
//! raise (at most a packet's alert queue), and the packets tagged after them.

use gatewatch_rules::event::ip_text;
use std::io;

use gatewatch_rules::engine::{
    FlowView, Hit, Packet, PacketEvent, StreamChunk, MAX_ALERTS_PER_PACKET,
};
use gatewatch_rules::signature::Buffer;

use crate::app::parser::{meta, AppOutput, TxMeta};
use crate::app::records::{PacketInfo, Record, TaggedPacket};
use crate::capture::Frame;
use crate::output::eve::{proto_name, timestamp, AppEvent};
use crate::output::EventSink;

use crate::pipeline::detect::alerts::{AlertMeta, Pseudo};
use crate::pipeline::flows::flow_summary;
use crate::pipeline::inspect::{header_buffers, Decoded, DnsMessage, PacketAt};
use crate::pipeline::Pipeline;

impl Pipeline {
    /// Detection on a packet of flow `slot`: the packet with its first transaction and
    /// stream chunk, then one pass per further transaction it completed; the alerts
    /// written (with the DNS message of a UDP packet, `dns`), a tagged packet logged.
    /// The application's view of the packet's direction, `None` if the flow is gone.
    pub(in crate::pipeline) fn detect_in_flow(
        &mut self,
        d: &Decoded<'_, '_>,
        at: &PacketAt,
        slot: usize,
        app_out: &mut AppOutput,
        dns: (&[(Buffer, Vec<u8>)], Option<&DnsMessage>),
        sink: &mut dyn EventSink,
    ) -> io::Result<Option<bool>> {
        let (l3, l4) = (d.l3, d.l4);
        let Some(flow) = self.flows.get_mut(slot) else { return Ok(None) };
        // The application's view of the direction (reversed on a response-first pickup).
        let app_to_server = at.to_server ^ flow.session.as_ref().is_some_and(|s| s.reversed);
        // A packet of another protocol in the flow (an ICMP error) inspects none of its
        // transactions.
        let inspections = match flow.session.as_mut() {
            Some(s) if flow.proto == l3.proto => {
                s.route_inspections(app_to_server, std::mem::take(&mut app_out.inspections))
            }
            _ => std::mem::take(&mut app_out.inspections),
        };
        let mut inspections = inspections.into_iter();
        let mut first = inspections.next();
        let first_meta = first.as_mut().and_then(|i| i.meta.take());
        let mut buffers: Vec<(Buffer, &[u8])> =
            dns.0.iter().map(|(b, v)| (*b, v.as_slice())).collect();
        if let Some(i) = &first {
            buffers.extend(i.buffers.iter().map(|(b, v)| (*b, v.as_slice())));
        }
        if self.rules.has_header_buffers() {
            header_buffers(l3, l4, &mut buffers);
        }
        let mut chunks = app_out.chunks.iter().map(|c| StreamChunk {
            data: &c.data,
            new_from: c.new_from,
            offset: c.offset,
        });
        // A datagram rebuilt from fragments carries no event of its last fragment.
        let l3_events = if d.defragmented { Default::default() } else { l3.events };
        let mut events = crate::pipeline::events::decode_events(l3.version, l3_events, None);
        let app_layer = gatewatch_rules::signature::EventKind::AppLayer;
        events.extend(app_out.events.iter().map(|name| PacketEvent { kind: app_layer, name }));
        let pkt = Packet {
            events: &events,
            flow: Some(FlowView {
                to_server: app_to_server,
                established: flow.established_with(l4.payload().len()),
            }),
            app_proto: flow.app_proto,
            buffers: &buffers,
            // Stream bytes the other side acknowledged come with this packet even when
            // it carries none itself.
            in_stream: app_out.in_stream || !app_out.chunks.is_empty(),
            stream: chunks.next(),
            // A retransmitted segment was inspected the first time it came.
            payload_seen: app_out.retransmission,
            wire_len: d.frame.orig_len as usize,
            stream_sizes: flow.session.as_ref().map(|s| (s.stream_size(0), s.stream_size(1))),
            no_payload_inspection: app_out.encrypted,
            ..d.headers()
        };
        // Tagged before inspection: the packet that sets a tag is not logged by it.
        let tagged = match self.flows.get_mut(slot) {
            Some(f) => self.rules.tagged(&self.detector, &pkt, Some(&mut f.detect)),
            None => false,
        };
        // Alerts of each pass, with the transaction they belong to.
        let mut groups = vec![(self.detect_packet(slot, &pkt, chunks), first_meta)];
        // More transactions completed by this packet (pipelining): one pass each.
        for insp in inspections {
            let bufs: Vec<(Buffer, &[u8])> =
                insp.buffers.iter().map(|(b, v)| (*b, v.as_slice())).collect();
            let extra = Packet { buffers: &bufs, tx_only: true, payload_seen: false, ..pkt };
            groups.push((self.detect_pass(slot, &extra), insp.meta));
        }
        cap_packet_alerts(&mut groups, &mut self.detector.stats.alert_queue_overflow);
        if groups.iter().any(|(h, _)| !h.is_empty()) {
            if groups[0].1.is_none() && !groups[0].0.is_empty() {
                groups[0].1 = dns.1.and_then(|m| Some(meta("dns", &m.body)?.with_tx(m.tx_id)));
            }
            // The payload an alert shows: the packet's, or the stream bytes it brought
            // for inspection (an acknowledgement carries none of its own).
            let stream = app_out.chunks.first().map(|c| &c.data[..]).unwrap_or(&[]);
            let shown = if l4.payload().is_empty() { stream } else { l4.payload() };
            let meta = self.flow_alert_meta(d, at, slot, pkt.has_ports, shown);
            self.write_packet_alerts(slot, &groups, &meta, pkt.has_ports, sink)?;
        }
        if tagged {
            self.write_tagged_packet(d.frame, slot, at, sink)?;
        }
        Ok(Some(app_to_server))
    }

    /// Where and when the alerts of a packet of flow `slot` happened, with the flow's
    /// detection metadata and the payload they show (kept when `eve.payload` is on).
    fn flow_alert_meta(
        &self,
        d: &Decoded<'_, '_>,
        at: &PacketAt,
        slot: usize,
        has_ports: bool,
        payload: &[u8],
    ) -> AlertMeta {
        let l3 = d.l3;
        AlertMeta {
            ts: at.ts,
            pcap_cnt: Some(self.pcap_cnt),
            src: (l3.src, has_ports.then_some(at.src.1)),
            dst: (l3.dst, has_ports.then_some(at.dst.1)),
            proto: l3.proto,
            ip_v: l3.version,
            icmp: d.icmp,
            to_server: at.to_server,
            vlan: l3.vlan,
            detection: match self.flows.get(slot) {
                Some(f) => self.rules.flow_metadata(&f.detect),
                None => Default::default(),
            },
            pseudo: None,
            payload: if self.cfg.eve.payload {
                payload[..payload.len().min(crate::config::PAYLOAD_MAX)].to_vec()
            } else {
                Vec::new()
            },
        }
    }

    /// The session of `slot` turned encrypted with this packet: what it held for
    /// inspection is inspected now, by pseudo packets after this one (`pkt_src`
    /// "stream (detect/log)"), not lost with the clear text.
    pub(in crate::pipeline) fn detect_log_flush(
        &mut self,
        slot: usize,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let Some(mut f) = self.flows.lend(slot) else { return Ok(()) };
        let mut out = AppOutput::default();
        let held = f.session.as_mut().map(|s| {
            s.take_held(&mut self.stream_mem, &mut out);
            (s.reversed, (s.stream_size(0), s.stream_size(1)))
        });
        let res = match held {
            Some((reversed, sizes)) => {
                self.pseudo_passes(&mut f, reversed, sizes, Pseudo::DetectLog, &mut out, sink)
            }
            None => Ok(()),
        };
        self.flows.put_back(slot, f);
        res
    }

    /// The packet's first pass, and one more over each further stream chunk (bytes after
    /// a gap given up on at the end of the direction: only its stream is inspected
    /// again); a rule alerts once.
    pub(in crate::pipeline) fn detect_packet<'a>(
        &mut self,
        slot: usize,
        pkt: &Packet<'a>,
        chunks: impl Iterator<Item = StreamChunk<'a>>,
    ) -> Vec<Hit> {
        let mut hits = self.detect_pass(slot, pkt);
        for chunk in chunks {
            let more = Packet { buffers: &[], stream: Some(chunk), payload_seen: true, ..*pkt };
            let seen: Vec<u32> = hits.iter().map(|h| h.rule).collect();
            let new = self.detect_pass(slot, &more);
            hits.extend(new.into_iter().filter(|h| !seen.contains(&h.rule)));
        }
        hits
    }

    /// One detection pass with the flow's detection state.
    pub(in crate::pipeline) fn detect_pass(&mut self, slot: usize, pkt: &Packet<'_>) -> Vec<Hit> {
        let Some(flow) = self.flows.get_mut(slot) else { return Vec::new() };
        self.rules.detect(&mut self.detector, pkt, Some(&mut flow.detect), &mut self.hits);
        std::mem::take(&mut self.hits)
    }

    /// The signature alerts of a packet's passes, each with its transaction.
    pub(in crate::pipeline) fn write_packet_alerts(
        &mut self,
        slot: usize,
        groups: &[(Vec<Hit>, Option<TxMeta>)],
        meta: &AlertMeta,
        ports: bool,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let Some(flow) = self.flows.get_mut(slot) else { return Ok(()) };
        let (flow_id, app_proto) = (flow.id, flow.app_proto);
        let summary = flow_summary(flow, ports);
        for (hits, tx) in groups {
            let flow = Some((flow_id, &summary));
            self.write_alerts(hits, meta, flow, app_proto, tx.as_ref(), sink)?;
        }
        Ok(())
    }

    /// EVE `packet`: a packet of a tagged session or host, as it was captured.
    pub(in crate::pipeline) fn write_tagged_packet(
        &mut self,
        frame: &Frame<'_>,
        slot: usize,
        at: &PacketAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let flow_id = self.flows.get_mut(slot).map_or(0, |f| f.id);
        let record = Record::Packet(TaggedPacket {
            packet: gatewatch_rules::signature::transform::base64_encode(frame.data),
            packet_info: PacketInfo { linktype: frame.link.0 },
        });
        let ev = AppEvent {
            timestamp: timestamp(at.ts),
            flow_id,
            pcap_cnt: Some(self.pcap_cnt),
            in_iface: self.cfg.eve.in_iface.clone(),
            event_type: "packet",
            src_ip: ip_text(&at.src.0),
            src_port: at.src.1,
            dest_ip: ip_text(&at.dst.0),
            dest_port: at.dst.1,
            proto: proto_name(at.proto),
            pkt_src: Some("wire/pcap"),
            community_id: crate::output::community_id::for_eve(
                &self.cfg.eve,
                at.proto,
                at.src,
                at.dst,
                None,
            ),
            tx_id: None,
            carrier: serde_json::Map::new(),
            app_proto: None,
            record,
            host: self.cfg.eve.sensor_name.clone(),
        };
        sink.app_owned(ev)
    }
}

/// At most [`MAX_ALERTS_PER_PACKET`] alerts for one packet over all the transactions it
/// completed, as Suricata's packet alert queue: the first rules in evaluation order are
/// kept (a high-priority alert is not crowded out by many of a lower priority).
fn cap_packet_alerts<T>(groups: &mut [(Vec<Hit>, T)], overflow: &mut u64) {
    let total: usize = groups.iter().map(|(h, _)| h.len()).sum();
    if total <= MAX_ALERTS_PER_PACKET {
        return;
    }
    let mut rules: Vec<u32> = groups.iter().flat_map(|(h, _)| h.iter().map(|h| h.rule)).collect();
    rules.sort_unstable();
    let last = rules[MAX_ALERTS_PER_PACKET - 1];
    // Of the rule at the cut, only as many as fit (earlier transactions first).
    let mut room_at_last = rules[..MAX_ALERTS_PER_PACKET].iter().filter(|&&r| r == last).count();
    for (hits, _) in groups.iter_mut() {
        hits.retain(|h| {
            if h.rule < last {
                true
            } else if h.rule == last && room_at_last > 0 {
                room_at_last -= 1;
                true
            } else {
                false
            }
        });
    }
    *overflow += (total - MAX_ALERTS_PER_PACKET) as u64;
}
