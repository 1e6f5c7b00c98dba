//! The end of flows: pending session records, the `flow` record, expiry.

use gatewatch_rules::event::ip_text;
use std::io;

use gatewatch_rules::engine::{FlowView, Packet, PacketEvent, StreamChunk};
use gatewatch_rules::event::FlowSummary;
use gatewatch_rules::signature::Buffer;

use crate::app::parser::{AppOutput, TxMeta};
use crate::app::session::SegmentCx;
use crate::flow::{EndReason, Flow};
use crate::output::community_id;
use crate::output::eve::{proto_name, timestamp, FlowBody, FlowEvent, TcpBody};
use crate::output::EventSink;

use super::detect::alerts::{finding_alert, AlertMeta, FindingAt, Pseudo};
use super::{stats_record, Pipeline};

impl Pipeline {
    /// A flow ends: its session's pending records, then its `flow` record.
    pub(super) fn end_flow(
        &mut self,
        mut f: Flow,
        reason: EndReason,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        // The flow-end passes show the flow's own tunnel, not the current packet's.
        let tunnel = self.flow_tunnels.remove(&f.id);
        let packet_tunnel = std::mem::replace(&mut self.tunnel, tunnel);
        let res = self.end_session(&mut f, sink);
        self.tunnel = packet_tunnel;
        res?;
        self.write_flow(&f, reason, sink)
    }

    /// The end of a flow's session: its pending inspections, findings and records.
    fn end_session(&mut self, f: &mut Flow, sink: &mut dyn EventSink) -> io::Result<()> {
        if let Some(mut session) = f.session.take() {
            let mut out = AppOutput::default();
            let mut cx = SegmentCx {
                ports: [0, 0],
                limits: &self.session_limits,
                mem: &mut self.stream_mem,
                app_mem: &mut self.app_mem,
                counters: &mut self.app,
            };
            session.end(&mut cx, &mut out);
            // Bytes flushed at the end may have identified the protocol only now.
            if session.app_proto.is_some() {
                f.app_proto = session.app_proto;
            }
            for s in session.stream_stats() {
                self.stream_stats.add(&s);
            }
            let sizes = (session.stream_size(0), session.stream_size(1));
            self.pseudo_passes(f, session.reversed, sizes, Pseudo::FlowEnd, &mut out, sink)?;
            // Findings at the flow's end, from the sender (`src`) of what was found.
            let at = FindingAt::flow_end(f);
            let from = |to_server: bool| {
                let to_server = to_server != session.reversed;
                let (src, dst) =
                    if to_server { (f.client, f.server) } else { (f.server, f.client) };
                FindingAt { src, dst, to_server, ..at }
            };
            for (to_server, chunk) in std::mem::take(&mut out.scan_chunks) {
                self.scan_stream(&chunk, &from(to_server), sink)?;
            }
            for (to_server, rec) in out.records {
                // A record's finding is always told from its sender's side.
                self.write_app(rec, &FindingAt { to_server: true, ..from(to_server) }, sink)?;
            }
        }
        Ok(())
    }

    /// What the end of a flow (or of its inspection) left to inspect, as Suricata does
    /// with its pseudo packets, one direction after the other: messages completed by
    /// the end (a request cut short, transactions waiting for a packet of theirs), the
    /// stream bytes never acknowledged or not yet inspected, the parsers' events. A
    /// direction's first pseudo packet carries its first message, stream chunk and
    /// events together, so that a rule mixing them matches as on a real packet.
    pub(super) fn pseudo_passes(
        &mut self,
        f: &mut Flow,
        reversed: bool,
        stream_sizes: (u64, u64),
        pseudo: Pseudo,
        out: &mut AppOutput,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let app_layer = gatewatch_rules::signature::EventKind::AppLayer;
        for to_server in [true, false] {
            // Packet direction 0 is the flow's client; the application's may be swapped.
            let d = usize::from(to_server == reversed);
            let (insps, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut out.inspections)
                .into_iter()
                .partition(|i| i.to_server == to_server);
            out.inspections = rest;
            let chunks: Vec<_> = out.end_chunks.iter().filter(|(e, _)| *e == d).collect();
            let events: Vec<PacketEvent> = out
                .end_events
                .iter()
                .filter(|(e, _)| *e == d)
                .map(|(_, name)| PacketEvent { kind: app_layer, name })
                .collect();
            let chunk = |k: usize| {
                chunks.get(k).map(|(_, c)| StreamChunk {
                    data: &c.data,
                    new_from: c.new_from,
                    offset: c.offset,
                })
            };
            // The first message with the first chunk and the events; the next messages
            // each with their buffers (the first chunk's payload matches carry over, as
            // for pipelined messages of a packet); the further chunks alone.
            let passes = insps.len().max(chunks.len()).max(usize::from(!events.is_empty()));
            for k in 0..passes {
                let insp = insps.get(k);
                let bufs: Vec<(Buffer, &[u8])> = insp
                    .map(|i| i.buffers.iter().map(|(b, v)| (*b, v.as_slice())).collect())
                    .unwrap_or_default();
                let tx_only = k > 0 && insp.is_some();
                let stream = if tx_only { chunk(0) } else { chunk(k) };
                let events = if k == 0 { &events[..] } else { &[] };
                let pass = EndPass {
                    pseudo,
                    to_server,
                    buffers: &bufs,
                    stream,
                    events,
                    stream_sizes,
                    tx_only,
                };
                let meta = insp.and_then(|i| i.meta.as_ref());
                self.pseudo_pass(f, reversed, pass, meta, sink)?;
            }
        }
        Ok(())
    }

    /// One detection pass of a pseudo packet: alerts carry the flow's last timestamp
    /// and no packet (`pkt_src` "stream (flow timeout)" or "stream (detect/log)", or
    /// the flow's tunnel).
    fn pseudo_pass(
        &mut self,
        f: &mut Flow,
        reversed: bool,
        pass: EndPass<'_>,
        tx: Option<&TxMeta>,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let to_server = pass.to_server;
        let (client, server) = if reversed { (f.server, f.client) } else { (f.client, f.server) };
        let (src, dst) = if to_server { (client, server) } else { (server, client) };
        let pkt = Packet {
            sport: src.1,
            dport: dst.1,
            has_ports: true,
            flow: Some(FlowView { to_server, established: f.established() }),
            app_proto: f.app_proto,
            buffers: pass.buffers,
            tx_only: pass.tx_only || (pass.stream.is_none() && pass.events.is_empty()),
            events: pass.events,
            stream_sizes: Some(pass.stream_sizes),
            in_stream: pass.stream.is_some(),
            stream: pass.stream,
            ..Packet::new(f.last_us.div_euclid(1_000_000), f.proto, src.0, dst.0, &[])
        };
        self.rules.detect(&mut self.detector, &pkt, Some(&mut f.detect), &mut self.hits);
        let hits = std::mem::take(&mut self.hits);
        if !hits.is_empty() {
            let meta = AlertMeta {
                ts: f.last_us,
                pcap_cnt: None,
                src: (src.0, Some(src.1)),
                dst: (dst.0, Some(dst.1)),
                proto: f.proto,
                ip_v: if src.0.is_ipv4() { 4 } else { 6 },
                icmp: None,
                to_server,
                vlan: f.vlan,
                detection: self.rules.flow_metadata(&f.detect),
                pseudo: Some(pass.pseudo),
                payload: Vec::new(),
            };
            let summary = flow_summary(f, true);
            self.write_alerts(&hits, &meta, Some((f.id, &summary)), f.app_proto, tx, sink)?;
        }
        self.hits = hits;
        Ok(())
    }

    pub(super) fn expire(&mut self, now: i64, sink: &mut dyn EventSink) -> io::Result<()> {
        let mut ended: Vec<(Flow, EndReason)> = Vec::new();
        self.flows.expire(now, |f, r| ended.push((f, r)));
        for (f, r) in ended {
            self.end_flow(f, r, sink)?;
        }
        Ok(())
    }

    pub(super) fn write_flow(
        &mut self,
        f: &Flow,
        reason: EndReason,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let sigma_wants = self.sigma.as_ref().is_some_and(|(set, _)| set.wants("flow"));
        if !self.cfg.eve.flow && !sigma_wants {
            return Ok(());
        }
        let has_ports = matches!(f.proto, 6 | 17 | 132);
        let ev = FlowEvent {
            timestamp: timestamp(f.start_us),
            flow_id: f.id,
            in_iface: self.cfg.eve.in_iface.clone(),
            event_type: "flow",
            vlan: Some(gatewatch_rules::signature::vlan::layers(&f.vlan).to_vec())
                .filter(|v| !v.is_empty()),
            src_ip: ip_text(&f.client.0),
            src_port: has_ports.then_some(f.client.1),
            dest_ip: ip_text(&f.server.0),
            dest_port: has_ports.then_some(f.server.1),
            proto: proto_name(f.proto),
            icmp_type: f.icmp.map(|i| i.0),
            icmp_code: f.icmp.map(|i| i.1),
            app_proto: f.app_proto.map(|a| a.as_str()),
            flow: FlowBody {
                pkts_toserver: f.pkts[0],
                pkts_toclient: f.pkts[1],
                bytes_toserver: f.bytes[0],
                bytes_toclient: f.bytes[1],
                start: timestamp(f.start_us),
                end: timestamp(f.last_us),
                age: (f.last_us - f.start_us) / 1_000_000,
                state: f.state_str(),
                reason: reason.as_str(),
                alerted: f.detect.alerted,
            },
            community_id: community_id::for_eve(
                &self.cfg.eve,
                f.proto,
                f.client,
                f.server,
                f.icmp.map(|i| i.0),
            ),
            detection: self.rules.flow_metadata(&f.detect),
            tcp: f
                .tcp
                .as_ref()
                .map(|t| TcpBody::new(t.flags, t.flags_ts, t.flags_tc, t.state.as_str())),
            host: self.cfg.eve.sensor_name.clone(),
        };
        if let Some((set, eval)) = self.sigma.as_mut().filter(|_| sigma_wants) {
            let hits = eval.evaluate(set, f.id, &ev);
            if !hits.is_empty() {
                let at = FindingAt::flow_end(f);
                for h in &hits {
                    sink.alert(&finding_alert(
                        &self.cfg.eve,
                        h.alert_info(),
                        &at,
                        serde_json::Map::new(),
                    ))?;
                }
            }
        }
        if !self.cfg.eve.flow {
            return Ok(());
        }
        sink.flow_owned(ev)
    }

    /// The clock moved on to `now_us` (live capture with no packets for this worker):
    /// flows whose timeout passed end now.
    pub fn tick(&mut self, now_us: i64, sink: &mut dyn EventSink) -> io::Result<()> {
        if now_us <= self.last_ts {
            return Ok(());
        }
        self.last_ts = now_us;
        self.expire(now_us, sink)
    }

    /// Ends every flow (end of capture, shutdown).
    pub fn finish_flows(&mut self, sink: &mut dyn EventSink) -> io::Result<()> {
        let mut ended: Vec<(Flow, EndReason)> = Vec::new();
        self.flows.drain(|f, r| ended.push((f, r)));
        for (f, r) in ended {
            self.end_flow(f, r, sink)?;
        }
        Ok(())
    }

    /// Ends every flow and writes the `stats` record.
    pub fn finish(&mut self, sink: &mut dyn EventSink) -> io::Result<()> {
        self.finish_flows(sink)?;
        if self.cfg.eve.stats {
            sink.stats(&stats_record(&self.stats().to_json(), self.last_ts, &self.cfg))?;
        }
        sink.flush()
    }
}

pub(super) fn flow_summary(flow: &Flow, ports: bool) -> FlowSummary {
    FlowSummary {
        pkts_toserver: flow.pkts[0],
        pkts_toclient: flow.pkts[1],
        bytes_toserver: flow.bytes[0],
        bytes_toclient: flow.bytes[1],
        start: timestamp(flow.start_us),
        src_ip: Some(ip_text(&flow.client.0)),
        dest_ip: Some(ip_text(&flow.server.0)),
        src_port: ports.then_some(flow.client.1),
        dest_port: ports.then_some(flow.server.1),
    }
}

/// What a pseudo packet carries: a message's buffers, a stream chunk, events.
struct EndPass<'a> {
    pseudo: Pseudo,
    /// The application's direction.
    to_server: bool,
    buffers: &'a [(Buffer, &'a [u8])],
    stream: Option<StreamChunk<'a>>,
    /// Parser events (`app-layer-event`).
    events: &'a [PacketEvent],
    /// What each side sent (`stream_size`).
    stream_sizes: (u64, u64),
    /// A further message of the same pseudo packet (see [`Packet::tx_only`]).
    tx_only: bool,
}
