//! Inspection of one decoded packet: flow, application layer, detection, records.

use gatewatch_rules::event::ip_text;
use std::io;
use std::net::IpAddr;

use gatewatch_rules::engine::{
    FlowView, Hit, IcmpInfo, Packet, PacketEvent, StreamChunk, TcpInfo, MAX_ALERTS_PER_PACKET,
};
use gatewatch_rules::event::Endpoint;
use gatewatch_rules::signature::{AppProto, Buffer};

use crate::app::dns;
use crate::app::dns::record::DnsBody;
use crate::app::ftp::FtpDataConn;
use crate::app::parser::AppParser;
use crate::app::parser::{meta, AppOutput, TxMeta, TO_CLIENT, TO_SERVER};
use crate::app::records::{AnomalyRecord, PacketInfo, Record, TaggedPacket};
use crate::app::session::{Segment, SegmentCx, TcpSession};
use crate::app::{dhcp, ike, krb5, ntp, quic, sip, snmp, tftp};
use crate::capture::Frame;
use crate::decode::{L3, L4};
use crate::flow::tcp::TcpState;
use crate::flow::{EndReason, Flow, Lookup};
use crate::ioc::{ioc_alert_info, IocHit};
use crate::output::eve::{proto_name, timestamp, AppEvent};
use crate::output::EventSink;
use crate::stats::DecoderStats;

use super::alerts::{finding_alert, AlertMeta, FindingAt, Pseudo};
use super::flows::flow_summary;
use super::Sensor;

impl Sensor {
    /// One decoded packet: its flow, the application layer, detection, and the records
    /// and alerts it gives.
    pub(super) fn inspect(
        &mut self,
        frame: &Frame<'_>,
        l3: &L3<'_>,
        l4: &L4<'_>,
        defragmented: bool,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let (tcp, icmp) = transport_info(&mut self.stats.decoder, l4);
        let d = Decoded { frame, l3, l4, defragmented, tcp, icmp };
        let Some(look) = self.find_flow(&d, sink)? else { return Ok(()) };
        let slot = look.slot;
        let Some(first_packet) = self.flows.get_mut(slot).map(|f| f.pkts[0] + f.pkts[1] == 1)
        else {
            return Ok(());
        };
        let (sport, dport) = l4.ports().unwrap_or((0, 0));
        let at = PacketAt {
            ts: frame.ts_us,
            proto: l3.proto,
            src: (l3.src, sport),
            dst: (l3.dst, dport),
            to_server: look.to_server,
        };
        if first_packet {
            self.flow_start(slot, &at, sink)?;
        }
        let mut dns_events = Vec::new();
        let (dns_names, dns_event) = match l4 {
            L4::Udp(u) => {
                let port_53 = u.sport == 53 || u.dport == 53;
                self.udp_dns(slot, u.payload, port_53, look.to_server, &mut dns_events)
            }
            _ => (Vec::new(), None),
        };
        let mut app_out = match (l4, tcp) {
            (L4::Tcp(t), Some(ti)) => self.tcp_segment(slot, t.payload, ti, &at),
            (L4::Udp(u), _) if dns_event.is_none() => self.udp_app(slot, u.payload, &at),
            _ => AppOutput::default(),
        };
        app_out.events.append(&mut dns_events);
        let dns = (dns_names.as_slice(), dns_event.as_ref());
        let Some(app_to_server) = self.detect_in_flow(&d, &at, slot, &mut app_out, dns, sink)?
        else {
            return Ok(());
        };
        let mut records: Vec<(bool, Record)> = app_out.records;
        if let Some(m) = dns_event {
            records.insert(0, (look.to_server, Record::Dns(m.body)));
        }
        records.extend(
            app_out
                .events
                .iter()
                .map(|n| (look.to_server, Record::Anomaly(AnomalyRecord::app_layer(n)))),
        );
        self.write_packet_records(slot, &at, app_to_server, app_out.scan_chunks, records, sink)?;
        if app_out.went_encrypted {
            self.detect_log_flush(slot, sink)?;
        }
        Ok(())
    }

    /// The flow of a packet, found or created (flows it evicts are ended); an ICMP
    /// error about a tracked connection counts in that connection's flow. `None` when
    /// the packet belongs to no flow: an ICMPv4 error never starts one (Suricata's
    /// `FlowCreateCheck`), and one about no tracked connection is inspected here
    /// without a flow.
    fn find_flow(
        &mut self,
        d: &Decoded<'_, '_>,
        sink: &mut dyn EventSink,
    ) -> io::Result<Option<Lookup>> {
        let (l3, l4, ts) = (d.l3, d.l4, d.frame.ts_us);
        let wire_len = d.frame.orig_len as usize;
        let quoted = match l4 {
            L4::Icmp(i) => crate::decode::icmp::quoted_connection(i),
            _ => None,
        };
        if let Some(look) =
            quoted.and_then(|q| self.flows.track_icmp_error(q, l3.vlan, l3.src, wire_len, ts))
        {
            return Ok(Some(look));
        }
        if matches!(l4, L4::Icmp(i) if crate::decode::icmp::is_v4_error(i)) {
            let pkt = Packet {
                events: &super::events::decode_events(l3.version, l3.events, None),
                wire_len,
                ..d.headers()
            };
            self.inspect_flowless(ts, &pkt, l3, l4, d.icmp, sink)?;
            return Ok(None);
        }
        let (sport, dport) = l4.ports().unwrap_or((0, 0));
        let mut ended: Vec<(Flow, EndReason)> = Vec::new();
        let look = self.flows.track(
            l3.proto,
            (l3.src, sport),
            (l3.dst, dport),
            l3.vlan,
            d.tcp,
            d.icmp.map(|i| (i.itype, i.icode)),
            wire_len,
            ts,
            |f, r| ended.push((f, r)),
        );
        for (f, r) in ended {
            self.end_flow(f, r, sink)?;
        }
        Ok(Some(look))
    }

    /// The first packet of a flow: the tunnel it came through is kept for the flow's
    /// end, its addresses are checked against the indicator lists.
    fn flow_start(
        &mut self,
        slot: usize,
        at: &PacketAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        if let Some(t) = self.tunnel.as_ref() {
            if let Some(f) = self.flows.get(slot) {
                self.flow_tunnels.insert(f.id, t.clone());
            }
        }
        if self.ioc.is_some() {
            self.indicators_at_flow_start(slot, at, sink)?;
        }
        Ok(())
    }

    /// Detection on a packet of flow `slot`: the packet with its first transaction and
    /// stream chunk, then one pass per further transaction it completed; the alerts
    /// written (with the DNS message of a UDP packet, `dns`), a tagged packet logged.
    /// The application's view of the packet's direction, `None` if the flow is gone.
    fn detect_in_flow(
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
        let mut events = super::events::decode_events(l3.version, l3_events, None);
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
            let meta = AlertMeta {
                ts: at.ts,
                pcap_cnt: Some(self.pcap_cnt),
                src: (l3.src, pkt.has_ports.then_some(at.src.1)),
                dst: (l3.dst, pkt.has_ports.then_some(at.dst.1)),
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
            };
            self.write_packet_alerts(slot, &groups, &meta, pkt.has_ports, sink)?;
        }
        if tagged {
            self.write_tagged_packet(d.frame, slot, at, sink)?;
        }
        Ok(Some(app_to_server))
    }

    /// The session of `slot` turned encrypted with this packet: what it held for
    /// inspection is inspected now, by pseudo packets after this one (`pkt_src`
    /// "stream (detect/log)"), not lost with the clear text.
    fn detect_log_flush(&mut self, slot: usize, sink: &mut dyn EventSink) -> io::Result<()> {
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

    /// Indicator lists: both addresses of a flow, at its first packet.
    fn indicators_at_flow_start(
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
            let host = self.cfg.eve.sensor_name.clone();
            sink.alert(&finding_alert(host, info, &finding, serde_json::Map::new()))?;
        }
        Ok(())
    }

    /// DNS over UDP (port 53, or a flow already known as DNS; confirmed by parsing): the
    /// query names of a request (`dns.query`) and the record of the message.
    fn udp_dns(
        &mut self,
        slot: usize,
        payload: &[u8],
        port_53: bool,
        to_server: bool,
        events: &mut Vec<&'static str>,
    ) -> (Vec<(Buffer, Vec<u8>)>, Option<DnsMessage>) {
        let Some(flow) = self.flows.get_mut(slot) else { return (Vec::new(), None) };
        if payload.is_empty() || !(port_53 || flow.app_proto == Some(AppProto::Dns)) {
            return (Vec::new(), None);
        }
        match dns::parse_message(payload) {
            Ok(msg) => {
                flow.app_proto = Some(AppProto::Dns);
                self.stats.app_layer.dns_udp += 1;
                // `dns.query` is the question of a request, as in Suricata.
                let names = dns::buffers(&msg);
                events.extend(dns::events(&msg, to_server));
                let tx = dns_tx(flow, msg.id, msg.is_response());
                // Suricata 8 numbers each DNS message as a transaction of its own.
                let message = flow.dns_messages;
                flow.dns_messages += 1;
                let body = DnsBody::from_message(&msg, tx);
                (names, Some(DnsMessage { body, tx_id: message }))
            }
            Err(e) => {
                let why = match e {
                    crate::app::ParseError::Malformed(w) => w,
                    crate::app::ParseError::Incomplete => "dns.incomplete",
                };
                *self.stats.app_layer.errors.entry(why).or_insert(0) += 1;
                events.push("dns.malformed_data");
                (Vec::new(), None)
            }
        }
    }

    /// UDP other than DNS, one message per datagram, each protocol on its port and
    /// confirmed by parsing: Kerberos (88), SIP (5060), NTP (123), TFTP requests (69),
    /// SNMP (161, 162), DHCP (67, 68), QUIC (443, 80),
    /// IKE (500, 4500).
    fn udp_app(&mut self, slot: usize, payload: &[u8], at: &PacketAt) -> AppOutput {
        let mut out = AppOutput::default();
        let Some(flow) = self.flows.get_mut(slot) else { return out };
        if payload.is_empty() {
            return out;
        }
        if flow.session.is_none() {
            let port = |p: u16| at.src.1 == p || at.dst.1 == p;
            let (proto, parser): (AppProto, Box<dyn AppParser>) =
                if port(88) && krb5::probe_udp(payload) {
                    (AppProto::Krb5, Box::<krb5::Krb5Conn>::default())
                } else if port(5060) && sip::probe_udp(payload) {
                    (AppProto::Sip, Box::<sip::SipConn>::default())
                } else if port(123) && ntp::probe(payload) {
                    (AppProto::Ntp, Box::<ntp::NtpConn>::default())
                } else if port(69) && tftp::probe(payload) {
                    (AppProto::Tftp, Box::<tftp::TftpConn>::default())
                } else if (port(161) || port(162)) && snmp::probe(payload) {
                    (AppProto::Snmp, Box::<snmp::SnmpConn>::default())
                } else if (port(67) || port(68)) && dhcp::probe(payload) {
                    (AppProto::Dhcp, Box::<dhcp::DhcpConn>::default())
                } else if (port(443) || port(80)) && quic::probe(payload) {
                    (AppProto::Quic, Box::<quic::QuicConn>::default())
                } else if (port(500) || port(4500)) && ike::probe(payload) {
                    (AppProto::Ike, Box::<ike::IkeConn>::default())
                } else {
                    return out;
                };
            flow.app_proto = Some(proto);
            flow.session = Some(Box::new(TcpSession::expecting(parser, proto)));
        }
        // The flow's opener is the client: its datagrams go to the server.
        let dir = if at.to_server { TO_SERVER } else { TO_CLIENT };
        if let Some(session) = flow.session.as_mut() {
            session.datagram(dir, payload, &mut self.app_mem, &mut self.app, &mut out);
        }
        out
    }

    /// TCP: reassembly and the application layer. A session starts at the client's
    /// SYN, or anywhere with midstream pickup.
    fn tcp_segment(
        &mut self,
        slot: usize,
        payload: &[u8],
        ti: TcpInfo,
        at: &PacketAt,
    ) -> AppOutput {
        let mut out = AppOutput::default();
        let Some(flow) = self.flows.get_mut(slot) else { return out };
        let syn = ti.flags & 0x12 == 0x02;
        let start = syn || (self.cfg.stream.midstream && !payload.is_empty());
        if flow.session.is_none() && !start {
            return out;
        }
        // After a SYN, nothing is reassembled until the server answers it: as Suricata
        // without `stream.async-oneside`, a client talking to no one is not a session.
        let unanswered = flow.tcp.as_ref().is_some_and(|t| t.state == TcpState::SynSent);
        if unanswered && !syn {
            return out;
        }
        if flow.session.is_none() && syn {
            // A data connection an FTP session announced.
            if let Some(rec) = self.expectations.take(at.dst, at.ts) {
                let parser = Box::new(FtpDataConn::new(rec, self.session_limits.files));
                flow.session = Some(Box::new(TcpSession::expecting(parser, AppProto::FtpData)));
            }
        }
        let session = flow.session.get_or_insert_with(Box::default);
        // A RST the session did not accept does not end its streams either.
        let rst_ignored = flow.tcp.as_ref().is_some_and(|t| t.rst_ignored);
        let flags = if rst_ignored { ti.flags & !0x04 } else { ti.flags };
        let seg = Segment { to_server: at.to_server, flags, seq: ti.seq, ack: ti.ack, payload };
        let mut cx = SegmentCx {
            ports: [at.src.1, at.dst.1],
            limits: &self.session_limits,
            mem: &mut self.stream_mem,
            app_mem: &mut self.app_mem,
            counters: &mut self.app,
        };
        session.on_segment(seg, &mut cx, &mut out);
        if session.app_proto.is_some() {
            flow.app_proto = session.app_proto;
        }
        let (client, server) = match session.reversed {
            false => (flow.client.0, flow.server.0),
            true => (flow.server.0, flow.client.0),
        };
        for e in out.expect.drain(..) {
            let host = if e.on_server { server } else { client };
            self.expectations.insert((host, e.port), e.transfer, at.ts);
        }
        out
    }

    /// The packet's first pass, and one more over each further stream chunk (bytes after
    /// a gap given up on at the end of the direction: only its stream is inspected
    /// again); a rule alerts once.
    fn detect_packet<'a>(
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
    fn detect_pass(&mut self, slot: usize, pkt: &Packet<'_>) -> Vec<Hit> {
        let Some(flow) = self.flows.get_mut(slot) else { return Vec::new() };
        self.rules.detect(&mut self.detector, pkt, Some(&mut flow.detect), &mut self.hits);
        std::mem::take(&mut self.hits)
    }

    /// The signature alerts of a packet's passes, each with its transaction.
    fn write_packet_alerts(
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
    fn write_tagged_packet(
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
            event_type: "packet",
            src_ip: ip_text(&at.src.0),
            src_port: at.src.1,
            dest_ip: ip_text(&at.dst.0),
            dest_port: at.dst.1,
            proto: proto_name(at.proto),
            pkt_src: Some("wire/pcap"),
            tx_id: None,
            app_proto: None,
            record,
            host: self.cfg.eve.sensor_name.clone(),
        };
        sink.app_owned(ev)
    }

    /// YARA over the stream chunks, then the application-layer records of the packet.
    fn write_packet_records(
        &mut self,
        slot: usize,
        at: &PacketAt,
        app_to_server: bool,
        scan_chunks: Vec<(bool, Vec<u8>)>,
        records: Vec<(bool, Record)>,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let Some(flow) = self.flows.get_mut(slot) else { return Ok(()) };
        let (flow_id, app_proto) = (flow.id, flow.app_proto);
        // The application's client and server.
        let client = if app_to_server == at.to_server {
            (flow.client, flow.server)
        } else {
            (flow.server, flow.client)
        };
        // Findings of this packet, from the sender (`src`) of what was found.
        let base = FindingAt {
            ts: at.ts,
            flow_id,
            pcap_cnt: Some(self.pcap_cnt),
            proto: at.proto,
            src: client.0,
            dst: client.1,
            to_server: true,
            app_proto,
        };
        for (to_server, chunk) in scan_chunks {
            let (src, dst) = if to_server { (client.0, client.1) } else { (client.1, client.0) };
            self.scan_stream(&chunk, &FindingAt { src, dst, to_server, ..base }, sink)?;
        }
        for (to_server, rec) in records {
            let (src, dst) = match rec {
                // A DNS record or an anomaly is oriented like its packet.
                Record::Dns(_) | Record::Anomaly(_) => (at.src, at.dst),
                _ if to_server => (client.0, client.1),
                _ => (client.1, client.0),
            };
            // A record's finding is always told from its sender's side.
            self.write_app(rec, &FindingAt { src, dst, ..base }, sink)?;
        }
        Ok(())
    }
}

/// A packet's time, protocol and endpoints (with ports, 0 without), as captured.
/// A DNS message of a datagram: its record, and its number among the flow's messages
/// (alerts' `tx_id`: Suricata 8 makes each message a transaction).
struct DnsMessage {
    body: DnsBody,
    tx_id: u64,
}

/// A decoded packet and what its transport header says.
struct Decoded<'p, 'a> {
    frame: &'p Frame<'a>,
    l3: &'p L3<'a>,
    l4: &'p L4<'a>,
    /// Rebuilt from IP fragments.
    defragmented: bool,
    tcp: Option<TcpInfo>,
    icmp: Option<IcmpInfo>,
}

impl<'a> Decoded<'_, 'a> {
    /// The packet as the rules see its headers.
    fn headers(&self) -> Packet<'a> {
        packet_headers(self.frame.ts_us, self.l3, self.l4, self.defragmented, self.tcp, self.icmp)
    }
}

struct PacketAt {
    ts: i64,
    proto: u8,
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    to_server: bool,
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

/// What rules see of a packet's headers; no flow, no application data.
pub(super) fn packet_headers<'a>(
    ts: i64,
    l3: &L3<'a>,
    l4: &L4<'a>,
    defragmented: bool,
    tcp: Option<TcpInfo>,
    icmp: Option<IcmpInfo>,
) -> Packet<'a> {
    let (sport, dport) = l4.ports().unwrap_or((0, 0));
    Packet {
        sport,
        dport,
        has_ports: l4.ports().is_some(),
        ttl: l3.ttl,
        ip_id: l3.ip_id,
        frag_bits: l3.frag_bits,
        defragmented,
        tcp,
        icmp,
        vlan: l3.vlan,
        ip_options: if l3.version == 4 { l3.header.get(20..).unwrap_or_default() } else { &[] },
        ..Packet::new(ts.div_euclid(1_000_000), l3.proto, l3.src, l3.dst, l4.payload())
    }
}

/// The packet header buffers (`ipv4.hdr`, `tcp.hdr`, ...).
pub(super) fn header_buffers<'a>(l3: &L3<'a>, l4: &L4<'a>, out: &mut Vec<(Buffer, &'a [u8])>) {
    let ip = if l3.version == 4 { Buffer::Ipv4Hdr } else { Buffer::Ipv6Hdr };
    out.push((ip, l3.header));
    match l4 {
        L4::Tcp(t) => out.push((Buffer::TcpHdr, t.header)),
        L4::Udp(u) => out.push((Buffer::UdpHdr, &u.datagram[..u.datagram.len().min(8)])),
        L4::Icmp(i) => {
            out.push((if i.v6 { Buffer::Icmpv6Hdr } else { Buffer::Icmpv4Hdr }, i.header))
        }
        L4::Sctp(_) | L4::Other(_) => {}
    }
}

/// The transport header fields rules test, with the packet counted by protocol.
fn transport_info(d: &mut DecoderStats, l4: &L4<'_>) -> (Option<TcpInfo>, Option<IcmpInfo>) {
    match l4 {
        L4::Tcp(t) => {
            d.tcp += 1;
            (Some(TcpInfo { flags: t.flags, seq: t.seq, ack: t.ack, window: t.window }), None)
        }
        L4::Udp(_) => {
            d.udp += 1;
            (None, None)
        }
        L4::Sctp(_) => {
            d.sctp += 1;
            (None, None)
        }
        L4::Icmp(i) => {
            if i.v6 {
                d.icmpv6 += 1;
            } else {
                d.icmpv4 += 1;
            }
            let (id, seq) = match i.echo {
                Some((a, b)) => (Some(a), Some(b)),
                None => (None, None),
            };
            (None, Some(IcmpInfo { itype: i.itype, icode: i.icode, id, seq }))
        }
        L4::Other(_) => {
            d.other_ip += 1;
            (None, None)
        }
    }
}

/// The transaction id of a DNS message in its flow: a request opens one, a response
/// belongs to the latest request with its id (or opens one if there was none).
pub(super) fn dns_tx(flow: &mut Flow, id: u16, response: bool) -> u64 {
    if response {
        if let Some(&(_, tx)) = flow.dns_txs.iter().rev().find(|(i, _)| *i == id) {
            return tx;
        }
    }
    let tx = flow.dns_next_tx;
    flow.dns_next_tx += 1;
    if flow.dns_txs.len() >= 16 {
        flow.dns_txs.remove(0);
    }
    flow.dns_txs.push((id, tx));
    tx
}
