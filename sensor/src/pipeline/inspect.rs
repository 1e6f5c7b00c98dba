//! Inspection of one decoded packet: its flow, the application layer, and the records
//! it gives. Detection on it is [`super::detect`]'s.

use std::io;
use std::net::IpAddr;

use gatewatch_rules::engine::{IcmpInfo, Packet, TcpInfo};
use gatewatch_rules::signature::{AppProto, Buffer};

use crate::app::dns;
use crate::app::dns::record::DnsBody;
use crate::app::ftp::FtpDataConn;
use crate::app::parser::AppParser;
use crate::app::parser::{AppOutput, TO_CLIENT, TO_SERVER};
use crate::app::records::{AnomalyRecord, Record};
use crate::app::session::{Segment, SegmentCx, TcpSession};
use crate::app::{dhcp, ike, krb5, ntp, quic, sip, snmp, tftp};
use crate::capture::Frame;
use crate::decode::{L3, L4};
use crate::flow::tcp::TcpState;
use crate::flow::{EndReason, Flow, Lookup};
use crate::output::EventSink;
use crate::stats::DecoderStats;

use super::detect::alerts::FindingAt;
use super::Pipeline;

impl Pipeline {
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
        let (sport, dport) = l4.flow_ports(l3.proto);
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
                if flow.app_proto != Some(AppProto::Dns) {
                    self.app.flow_detected(AppProto::Dns, false);
                }
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
            self.app.flow_detected(proto, false);
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
pub(in crate::pipeline) struct DnsMessage {
    pub(in crate::pipeline) body: DnsBody,
    pub(in crate::pipeline) tx_id: u64,
}

/// A decoded packet and what its transport header says.
pub(in crate::pipeline) struct Decoded<'p, 'a> {
    pub(in crate::pipeline) frame: &'p Frame<'a>,
    pub(in crate::pipeline) l3: &'p L3<'a>,
    pub(in crate::pipeline) l4: &'p L4<'a>,
    /// Rebuilt from IP fragments.
    pub(in crate::pipeline) defragmented: bool,
    pub(in crate::pipeline) tcp: Option<TcpInfo>,
    pub(in crate::pipeline) icmp: Option<IcmpInfo>,
}

impl<'a> Decoded<'_, 'a> {
    /// The packet as the rules see its headers.
    pub(in crate::pipeline) fn headers(&self) -> Packet<'a> {
        packet_headers(self.frame.ts_us, self.l3, self.l4, self.defragmented, self.tcp, self.icmp)
    }
}

pub(in crate::pipeline) struct PacketAt {
    pub(in crate::pipeline) ts: i64,
    pub(in crate::pipeline) proto: u8,
    pub(in crate::pipeline) src: (IpAddr, u16),
    pub(in crate::pipeline) dst: (IpAddr, u16),
    pub(in crate::pipeline) to_server: bool,
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
pub(in crate::pipeline) fn header_buffers<'a>(
    l3: &L3<'a>,
    l4: &L4<'a>,
    out: &mut Vec<(Buffer, &'a [u8])>,
) {
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
