//! The sensor pipeline for one worker: decode → defragment → flow → detect → output.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use gatewatch_rules::detection::Detection;
use gatewatch_rules::engine::profile::ProfileReport;
use gatewatch_rules::engine::{
    Detector, FlowView, Hit, IcmpInfo, Packet, RuleSet, StreamChunk, TcpInfo,
};
use gatewatch_rules::event::{AlertEvent, AlertInfo, Endpoint, FlowSummary};
use gatewatch_rules::ioc::IocSet;
use gatewatch_rules::signature::{options::metadata_map, Action, AppProto, Buffer, Target};
use serde_json::json;

use crate::app::dns;
use crate::app::session::{AppCounters, AppOutput, Record, SessionLimits, TxMeta};
use crate::capture::Frame;
use crate::config::{ChecksumMode, SensorConfig};
use crate::decode::defrag::Defrag;
use crate::decode::{self, ipv4, Decoded, L2Kind, L3, L4};
use crate::flow::{EndReason, Flow, FlowTable};
use crate::ioc::{ioc_alert_info, record_hits, IocHit};
use crate::output::eve::{proto_name, timestamp, AppEvent, DnsBody, FlowBody, FlowEvent, TcpBody};
use crate::output::filestore::FileStore;
use crate::output::{EventSink, HeldThreshold};
use crate::scan::{yara_alert_info, ContentScanner};
use crate::sigma::SigmaEval;
use crate::stats::SensorStats;
use crate::stream::{Memcap, StreamStats};
use gatewatch_rules::sigma::SigmaSet;

mod replay;

pub use replay::{replay_files, write_profile, ReplaySummary};

/// Packets sampled by checksum `auto` mode before it decides.
const AUTO_SAMPLE: u64 = 1000;

struct ChecksumState {
    mode: ChecksumMode,
    sampled: u64,
    bad: u64,
}

impl ChecksumState {
    /// Should a packet with a bad checksum be dropped?
    fn drop_bad(&self) -> bool {
        self.mode == ChecksumMode::Yes
    }

    fn observe(&mut self, bad: bool) {
        if self.mode != ChecksumMode::Auto {
            return;
        }
        self.sampled += 1;
        self.bad += bad as u64;
        if self.sampled >= AUTO_SAMPLE {
            self.mode =
                if self.bad * 10 > self.sampled { ChecksumMode::No } else { ChecksumMode::Yes };
        }
    }
}

/// One worker's pipeline.
pub struct Sensor {
    cfg: SensorConfig,
    rules: Arc<RuleSet>,
    detector: Detector,
    flows: FlowTable,
    defrag: Defrag,
    checksum: ChecksumState,
    stats: SensorStats,
    hits: Vec<Hit>,
    /// Reassembly memory of all sessions of this worker.
    stream_mem: Memcap,
    session_limits: SessionLimits,
    app: AppCounters,
    /// Reassembly counters of ended sessions.
    stream_stats: StreamStats,
    files: Option<FileStore>,
    /// YARA over files and stream chunks, when YARA rules are loaded.
    scanner: Option<ContentScanner>,
    /// Indicator lists, when loaded.
    ioc: Option<Arc<IocSet>>,
    /// Sigma rules for network events, when loaded, with this worker's state.
    sigma: Option<(Arc<SigmaSet>, SigmaEval)>,
    pcap_cnt: u64,
    first_ts: Option<i64>,
    last_ts: i64,
    /// The rule profile of the rule sets replaced by reloads.
    profile_before_reload: Option<ProfileReport>,
}

impl Sensor {
    pub fn new(cfg: SensorConfig, detection: impl Into<Detection>) -> Self {
        let detection = detection.into();
        let rules = detection.signatures;
        let rules_skipped = detection.signatures_skipped;
        let scanner = detection.yara.map(|set| ContentScanner::new(set, &cfg.yara));
        let ioc = detection.ioc;
        let sigma = detection.sigma.map(|set| {
            let eval = SigmaEval::new(&set);
            (set, eval)
        });
        let mut detector = rules.detector();
        if cfg.detect.profile_rules.is_some() {
            detector.enable_profiling(&rules);
        }
        let flows = FlowTable::new(cfg.flow.clone(), cfg.stream.midstream);
        let defrag = Defrag::new(cfg.defrag.clone());
        let checksum = ChecksumState { mode: cfg.capture.checksum_validation, sampled: 0, bad: 0 };
        let stats = SensorStats {
            rules_loaded: rules.len(),
            rules_skipped,
            rules_generation: 1,
            ..Default::default()
        };
        let stream_mem = Memcap::new(cfg.stream.memcap);
        let mut session_limits = SessionLimits {
            depth: cfg.stream.depth,
            max_pending: cfg.stream.max_pending,
            ..SessionLimits::default()
        };
        session_limits.http.body_limit = cfg.stream.http_body_limit;
        if scanner.is_some() {
            session_limits.scan_depth = cfg.yara.stream_depth;
        }
        let files =
            cfg.files.store_dir.clone().map(|d| FileStore::new(d, cfg.files.store_max_bytes));
        Sensor {
            cfg,
            rules,
            detector,
            flows,
            defrag,
            checksum,
            stats,
            hits: Vec::new(),
            stream_mem,
            session_limits,
            app: AppCounters::default(),
            stream_stats: StreamStats::default(),
            files,
            scanner,
            ioc,
            sigma,
            pcap_cnt: 0,
            first_ts: None,
            last_ts: 0,
            profile_before_reload: None,
        }
    }

    /// The rule profile so far (None unless `detect.profile_rules` is set), over every
    /// rule set this worker ran.
    pub fn profile_report(&self) -> Option<ProfileReport> {
        let now = self.rules.profile_report(&self.detector);
        match (self.profile_before_reload.clone(), now) {
            (Some(mut before), Some(now)) => {
                before.merge(&now);
                Some(before)
            }
            (before, now) => now.or(before),
        }
    }

    /// Leaves host-tracked thresholds (`track by_src`, …) to whoever merges the output
    /// of all workers: such alerts go to [`EventSink::held_alert`]. Call before the
    /// first packet; reloads keep it.
    pub fn defer_host_thresholds(&mut self) {
        self.detector.defer_host_thresholds(true);
    }

    /// Swaps in a newly compiled set of every engine, between two packets. Flows,
    /// sessions and reassembly go on untouched; each flow's flowbits and flow
    /// thresholds, and the host thresholds, carry over to the rules of the new set with
    /// the same (gid, sid) (flowbits by name). YARA, indicator and Sigma counters go on.
    pub fn reload(&mut self, detection: Detection, generation: u64) {
        let new = detection.signatures;
        if let Some(old) = self.rules.profile_report(&self.detector) {
            self.profile_before_reload.get_or_insert_with(Default::default).merge(&old);
        }
        let m = new.migration_from(&self.rules);
        let old_detector = std::mem::replace(&mut self.detector, new.detector());
        self.detector = new.detector_from(old_detector, &m);
        self.flows.for_each_mut(|f| f.detect.migrate(&m));
        self.stats.rules_loaded = new.len();
        self.stats.rules_skipped = detection.signatures_skipped;
        self.rules = new;
        self.scanner = detection.yara.map(|set| {
            let mut scanner = ContentScanner::new(set, &self.cfg.yara);
            if let Some(old) = &self.scanner {
                let rules = scanner.stats.rules;
                scanner.stats = old.stats.clone();
                scanner.stats.rules = rules;
            }
            scanner
        });
        self.session_limits.scan_depth =
            if self.scanner.is_some() { self.cfg.yara.stream_depth } else { 0 };
        self.ioc = detection.ioc;
        self.sigma = detection.sigma.map(|set| {
            let mut eval = SigmaEval::new(&set);
            if let Some((_, old)) = self.sigma.take() {
                let rules = std::mem::take(&mut eval.stats.rules);
                eval = old;
                eval.stats.rules = rules;
            }
            (set, eval)
        });
        self.stats.reloads += 1;
        self.stats.rules_generation = generation;
    }

    pub fn stats(&self) -> SensorStats {
        let mut s = self.stats.clone();
        s.flow = self.flows.stats;
        s.defrag = self.defrag.stats;
        s.detect = self.detector.stats;
        s.app_layer.session = self.app.clone();
        s.stream = self.stream_stats;
        s.stream_memuse = self.stream_mem.used() as u64;
        s.file_store = self.files.as_ref().map(|f| f.stats.clone());
        s.yara = self.scanner.as_ref().map(|y| y.stats.clone());
        s.sigma = self.sigma.as_ref().map(|(_, e)| e.stats.clone());
        s.uptime = self.first_ts.map_or(0, |f| (self.last_ts - f) / 1_000_000);
        s
    }

    pub fn note_file(&mut self, truncated: bool) {
        self.stats.capture.files += 1;
        self.stats.capture.files_truncated += truncated as u64;
    }

    /// Processes one captured frame.
    pub fn process(&mut self, frame: &Frame<'_>, sink: &mut dyn EventSink) -> io::Result<()> {
        self.process_numbered(frame, self.pcap_cnt + 1, sink)
    }

    /// Processes one frame that is the `number`th of its capture (EVE `pcap_cnt`), when
    /// this worker sees only some of the capture's frames.
    pub fn process_numbered(
        &mut self,
        frame: &Frame<'_>,
        number: u64,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        self.pcap_cnt = number;
        let ts = frame.ts_us;
        self.first_ts.get_or_insert(ts);
        self.last_ts = self.last_ts.max(ts);
        let d = &mut self.stats.decoder;
        d.pkts += 1;
        d.bytes += frame.orig_len as u64;
        self.expire(ts, sink)?;
        let (l2, decoded) = match decode::decode_l3(frame.link, frame.data) {
            Ok(x) => x,
            Err(e) => {
                let d = &mut self.stats.decoder;
                d.invalid += 1;
                d.event(e);
                return Ok(());
            }
        };
        let d = &mut self.stats.decoder;
        match l2 {
            L2Kind::Ethernet => d.ethernet += 1,
            L2Kind::Sll => d.sll += 1,
            L2Kind::Null => d.null += 1,
            L2Kind::Raw => d.raw += 1,
        }
        let l3 = match decoded {
            Decoded::Ip(l3) => l3,
            Decoded::NotIp { .. } => {
                d.not_ip += 1;
                return Ok(());
            }
        };
        if l3.vlan[0] != 0 {
            d.vlan += 1;
            if l3.vlan[1] != 0 {
                d.vlan_qinq += 1;
            }
        }
        if l3.version == 4 {
            d.ipv4 += 1;
            if self.checksum.mode != ChecksumMode::No {
                let ok = ipv4::header_checksum_ok(l3.header);
                self.checksum.observe(!ok);
                if !ok && self.checksum.drop_bad() {
                    self.stats.decoder.event(decode::DecodeError::Ipv4InvalidChecksum);
                    self.stats.decoder.checksum_dropped += 1;
                    return Ok(());
                }
            }
        } else {
            d.ipv6 += 1;
        }
        let owned;
        let (bytes, defragmented): (&[u8], bool) = match l3.fragment {
            Some(frag) => {
                self.stats.decoder.fragments += 1;
                match self.defrag.insert(&l3, frag, ts) {
                    Some(v) => {
                        owned = v;
                        (&owned, true)
                    }
                    None => return Ok(()),
                }
            }
            None => (l3.payload, false),
        };
        let l4 = match decode::decode_l4(&l3, bytes) {
            Ok(l4) => l4,
            Err(e) => {
                let d = &mut self.stats.decoder;
                d.invalid += 1;
                d.event(e);
                return Ok(());
            }
        };
        if self.checksum.mode != ChecksumMode::No {
            let res = decode::verify_l4_checksum(&l3, bytes, &l4);
            self.checksum.observe(res.is_err());
            if let Err(e) = res {
                if self.checksum.drop_bad() {
                    self.stats.decoder.event(e);
                    self.stats.decoder.checksum_dropped += 1;
                    return Ok(());
                }
            }
        }
        self.inspect(frame, &l3, &l4, defragmented, sink)
    }

    fn inspect(
        &mut self,
        frame: &Frame<'_>,
        l3: &L3<'_>,
        l4: &L4<'_>,
        defragmented: bool,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let ts = frame.ts_us;
        let d = &mut self.stats.decoder;
        let (tcp, icmp) = match l4 {
            L4::Tcp(t) => {
                d.tcp += 1;
                (Some(TcpInfo { flags: t.flags, seq: t.seq, ack: t.ack, window: t.window }), None)
            }
            L4::Udp(_) => {
                d.udp += 1;
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
        };
        let (sport, dport) = l4.ports().unwrap_or((0, 0));
        let mut ended: Vec<(Flow, EndReason)> = Vec::new();
        let look = self.flows.track(
            l3.proto,
            (l3.src, sport),
            (l3.dst, dport),
            l3.vlan,
            tcp.map(|t| t.flags),
            icmp.map(|i| (i.itype, i.icode)),
            frame.orig_len as usize,
            ts,
            |f, r| ended.push((f, r)),
        );
        for (f, r) in ended {
            self.end_flow(f, r, sink)?;
        }
        let Some(flow) = self.flows.get_mut(look.slot) else { return Ok(()) };
        // Indicator lists: both addresses of a flow, at its first packet.
        if let (Some(set), 1) = (self.ioc.as_deref(), flow.pkts[0] + flow.pkts[1]) {
            for (bad, other, field) in [
                (flow.client, flow.server, "flow.src_ip"),
                (flow.server, flow.client, "flow.dest_ip"),
            ] {
                let Some(indicator) = set.lookup_ip(bad.0) else { continue };
                let mut info = ioc_alert_info(set, &IocHit { indicator, field });
                info.source = Some(Endpoint { ip: bad.0.to_string(), port: Some(bad.1) });
                info.target = Some(Endpoint { ip: other.0.to_string(), port: Some(other.1) });
                let at = FindingAt {
                    ts,
                    flow_id: flow.id,
                    pcap_cnt: Some(self.pcap_cnt),
                    proto: l3.proto,
                    src: (l3.src, sport),
                    dst: (l3.dst, dport),
                    to_server: look.to_server,
                    app_proto: flow.app_proto,
                };
                self.stats.ioc_hits += 1;
                let host = self.cfg.eve.sensor_name.clone();
                sink.alert(&finding_alert(host, info, &at, serde_json::Map::new()))?;
            }
        }
        // Application layer: DNS over UDP (port 53, confirmed by parsing).
        let mut dns_names: Vec<Vec<u8>> = Vec::new();
        let mut dns_event: Option<DnsBody> = None;
        if let L4::Udp(u) = l4 {
            let port_53 = u.sport == 53 || u.dport == 53;
            if !u.payload.is_empty() && (port_53 || flow.app_proto == Some(AppProto::Dns)) {
                match dns::parse_message(u.payload) {
                    Ok(msg) => {
                        flow.app_proto = Some(AppProto::Dns);
                        self.stats.app_layer.dns_udp += 1;
                        // `dns.query` is the question of a request, as in Suricata.
                        if !msg.is_response() {
                            dns_names = msg.questions.iter().map(|q| q.name.clone()).collect();
                        }
                        let tx = dns_tx(flow, msg.id, msg.is_response());
                        dns_event = Some(DnsBody::from_message(&msg, tx));
                    }
                    Err(e) => {
                        let why = match e {
                            crate::app::ParseError::Malformed(w) => w,
                            crate::app::ParseError::Incomplete => "dns.incomplete",
                        };
                        *self.stats.app_layer.errors.entry(why).or_insert(0) += 1;
                    }
                }
            }
        }
        // TCP: reassembly and the application layer.
        let mut app_out = AppOutput::default();
        if let (L4::Tcp(t), Some(ti)) = (l4, tcp) {
            // A session starts at the client's SYN, or anywhere with midstream pickup.
            let syn = ti.flags & 0x12 == 0x02;
            let start = syn || (self.cfg.stream.midstream && !t.payload.is_empty());
            if flow.session.is_some() || start {
                let session = flow.session.get_or_insert_with(Box::default);
                session.on_segment(
                    look.to_server,
                    ti.flags,
                    ti.seq,
                    t.payload,
                    sport == 53 || dport == 53,
                    &self.session_limits,
                    &mut self.stream_mem,
                    &mut self.app,
                    &mut app_out,
                );
                if session.app_proto.is_some() {
                    flow.app_proto = session.app_proto;
                }
            }
        }
        // The application's view of the direction (reversed on a response-first pickup).
        let app_to_server = look.to_server ^ flow.session.as_ref().is_some_and(|s| s.reversed);
        let mut inspections = app_out.inspections.into_iter();
        let first = inspections.next();
        let mut buffers: Vec<(Buffer, &[u8])> =
            dns_names.iter().map(|n| (Buffer::DnsQuery, n.as_slice())).collect();
        if let Some(i) = &first {
            buffers.extend(i.buffers.iter().map(|(b, v)| (*b, v.as_slice())));
        }
        let mut chunks = app_out.chunks.iter().map(|c| StreamChunk {
            data: &c.data,
            new_from: c.new_from,
            offset: c.offset,
        });
        let pkt = Packet {
            ts_secs: ts.div_euclid(1_000_000),
            ip_proto: l3.proto,
            src: l3.src,
            dst: l3.dst,
            sport,
            dport,
            has_ports: l4.ports().is_some(),
            payload: l4.payload(),
            ttl: l3.ttl,
            ip_id: l3.ip_id,
            frag_bits: l3.frag_bits,
            defragmented,
            tcp,
            icmp,
            flow: Some(FlowView { to_server: app_to_server, established: flow.established() }),
            app_proto: flow.app_proto,
            buffers: &buffers,
            tx_only: false,
            in_stream: app_out.in_stream,
            stream: chunks.next(),
            // A retransmitted segment was inspected the first time it came.
            payload_seen: app_out.retransmission,
            no_payload_inspection: app_out.encrypted,
        };
        // Alerts of each pass, with the transaction they belong to.
        let first_meta = first.as_ref().and_then(|i| i.meta.clone()).or_else(|| {
            dns_event.as_ref().and_then(|d| serde_json::to_value(d).ok().map(|v| ("dns", v)))
        });
        let mut groups: Vec<(Vec<Hit>, Option<TxMeta>)> = Vec::new();
        self.rules.detect(&mut self.detector, &pkt, Some(&mut flow.detect), &mut self.hits);
        let mut first_hits = std::mem::take(&mut self.hits);
        // A second chunk (bytes after a gap given up on at the end of the direction):
        // only its stream is inspected again.
        for chunk in chunks {
            let more = Packet { buffers: &[], stream: Some(chunk), payload_seen: true, ..pkt };
            self.rules.detect(&mut self.detector, &more, Some(&mut flow.detect), &mut self.hits);
            let seen: Vec<u32> = first_hits.iter().map(|h| h.rule).collect();
            first_hits.extend(self.hits.drain(..).filter(|h| !seen.contains(&h.rule)));
        }
        groups.push((first_hits, first_meta));
        // More transactions completed by this packet (pipelining): one pass each.
        for insp in inspections {
            let bufs: Vec<(Buffer, &[u8])> =
                insp.buffers.iter().map(|(b, v)| (*b, v.as_slice())).collect();
            let extra = Packet { buffers: &bufs, tx_only: true, payload_seen: false, ..pkt };
            self.rules.detect(&mut self.detector, &extra, Some(&mut flow.detect), &mut self.hits);
            groups.push((std::mem::take(&mut self.hits), insp.meta));
        }
        let app_proto = flow.app_proto;
        let flow_id = flow.id;
        let client = if app_to_server == look.to_server {
            (flow.client, flow.server)
        } else {
            (flow.server, flow.client)
        };
        let mut records: Vec<(bool, Record)> = app_out.records;
        if let Some(d) = dns_event {
            records.insert(0, (look.to_server, Record::Dns(d)));
        }
        if groups.iter().any(|(h, _)| !h.is_empty()) {
            let flow_summary = flow_summary(flow, l4.ports().is_some());
            let meta = AlertMeta {
                ts,
                pcap_cnt: Some(self.pcap_cnt),
                src: (l3.src, l4.ports().map(|p| p.0)),
                dst: (l3.dst, l4.ports().map(|p| p.1)),
                proto: l3.proto,
                ip_v: l3.version,
                icmp,
                to_server: look.to_server,
            };
            for (hits, tx) in &groups {
                let tx = tx.as_ref().map(|(k, v)| (*k, v));
                self.write_alerts(hits, &meta, flow_id, app_proto, tx, &flow_summary, sink)?;
            }
        }
        for (to_server, chunk) in app_out.scan_chunks {
            let (src, dst) = if to_server { (client.0, client.1) } else { (client.1, client.0) };
            let at = FindingAt {
                ts,
                flow_id,
                pcap_cnt: Some(self.pcap_cnt),
                proto: l3.proto,
                src,
                dst,
                to_server,
                app_proto,
            };
            self.scan_stream(&chunk, &at, sink)?;
        }
        for (to_server, rec) in records {
            let (src, dst) = match rec {
                // A DNS record is oriented like its packet.
                Record::Dns(_) => ((l3.src, sport), (l3.dst, dport)),
                _ if to_server => (client.0, client.1),
                _ => (client.1, client.0),
            };
            self.write_app(
                rec,
                flow_id,
                Some(self.pcap_cnt),
                ts,
                l3.proto,
                src,
                dst,
                app_proto,
                sink,
            )?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn write_alerts(
        &self,
        hits: &[Hit],
        m: &AlertMeta,
        flow_id: u64,
        app_proto: Option<AppProto>,
        tx: Option<(&'static str, &serde_json::Value)>,
        flow_summary: &FlowSummary,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let mut app_metadata = serde_json::Map::new();
        if let Some((k, v)) = tx {
            app_metadata.insert(k.to_string(), v.clone());
        }
        let ep = |(ip, port): (IpAddr, Option<u16>)| Some(Endpoint { ip: ip.to_string(), port });
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
                flow_id: Some(flow_id),
                pcap_cnt: m.pcap_cnt,
                event_type: "alert".into(),
                src_ip: m.src.0.to_string(),
                src_port: m.src.1,
                dest_ip: m.dst.0.to_string(),
                dest_port: m.dst.1,
                proto: proto_name(m.proto),
                ip_v: Some(m.ip_v),
                icmp_type: m.icmp.map(|i| i.itype),
                icmp_code: m.icmp.map(|i| i.icode),
                pkt_src: Some(
                    if m.pcap_cnt.is_some() { "wire/pcap" } else { "stream (flow timeout)" }.into(),
                ),
                direction: Some(if m.to_server { "to_server" } else { "to_client" }.into()),
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
                },
                app_proto: app_proto.map(|a| a.as_str().to_string()),
                flow: Some(flow_summary.clone()),
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

    /// Scans a stream chunk with YARA and writes an alert per matching rule.
    fn scan_stream(
        &mut self,
        chunk: &[u8],
        at: &FindingAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let Some(scanner) = self.scanner.as_mut() else { return Ok(()) };
        for m in scanner.scan_stream(chunk) {
            let alert = finding_alert(
                self.cfg.eve.sensor_name.clone(),
                yara_alert_info(&m),
                at,
                serde_json::Map::new(),
            );
            sink.alert(&alert)?;
        }
        Ok(())
    }

    /// Writes one application-layer record.
    #[allow(clippy::too_many_arguments)]
    fn write_app(
        &mut self,
        mut record: Record,
        flow_id: u64,
        pcap_cnt: Option<u64>,
        ts: i64,
        proto: u8,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        app_proto: Option<AppProto>,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        if let (Record::Fileinfo(f), Some(store)) = (&mut record, self.files.as_mut()) {
            f.stored = store.store(&f.sha256, f.storable.then_some(f.data.as_slice()));
        }
        if let Some(set) = self.ioc.as_deref() {
            let hits = record_hits(set, &record);
            if !hits.is_empty() {
                let mut app_metadata = serde_json::Map::new();
                if let (Ok(v), Some(name)) = (serde_json::to_value(&record), record_name(&record)) {
                    let v = v.get(name).cloned().unwrap_or(v);
                    app_metadata.insert(name.to_string(), v);
                }
                let at = FindingAt {
                    ts,
                    flow_id,
                    pcap_cnt,
                    proto,
                    src,
                    dst,
                    to_server: true,
                    app_proto,
                };
                for h in &hits {
                    self.stats.ioc_hits += 1;
                    let host = self.cfg.eve.sensor_name.clone();
                    let info = ioc_alert_info(set, h);
                    sink.alert(&finding_alert(host, info, &at, app_metadata.clone()))?;
                }
            }
        }
        if let (Record::Fileinfo(f), Some(scanner)) = (&record, self.scanner.as_mut()) {
            let matches = scanner.scan_file(f);
            if !matches.is_empty() {
                let mut app_metadata = serde_json::Map::new();
                if let Ok(v) = serde_json::to_value(f) {
                    app_metadata.insert("fileinfo".into(), v);
                }
                // A file goes from its sender (`src`) to its receiver.
                let at = FindingAt {
                    ts,
                    flow_id,
                    pcap_cnt,
                    proto,
                    src,
                    dst,
                    to_server: true,
                    app_proto,
                };
                for m in &matches {
                    let alert = finding_alert(
                        self.cfg.eve.sensor_name.clone(),
                        yara_alert_info(m),
                        &at,
                        app_metadata.clone(),
                    );
                    sink.alert(&alert)?;
                }
            }
        }
        let (event_type, tx_id, app) = match &record {
            Record::Dns(_) => ("dns", None, None),
            Record::Http(h) => ("http", Some(h.tx_id), None),
            Record::Fileinfo(_) => ("fileinfo", None, app_proto.map(|a| a.as_str())),
            Record::Tls(_) => ("tls", None, None),
            Record::Ssh(_) => ("ssh", None, None),
            Record::Smtp(e) => ("smtp", Some(e.tx_id), None),
        };
        let ev = AppEvent {
            timestamp: timestamp(ts),
            flow_id,
            pcap_cnt,
            event_type,
            src_ip: src.0.to_string(),
            src_port: src.1,
            dest_ip: dst.0.to_string(),
            dest_port: dst.1,
            proto: proto_name(proto),
            pkt_src: pcap_cnt.map(|_| "wire/pcap"),
            tx_id,
            app_proto: app,
            record,
            host: self.cfg.eve.sensor_name.clone(),
        };
        if let Some((set, eval)) = self.sigma.as_mut() {
            let hits = eval.evaluate(set, flow_id, &ev);
            if !hits.is_empty() {
                let mut app_metadata = serde_json::Map::new();
                if let (Ok(v), Some(name)) =
                    (serde_json::to_value(&ev.record), record_name(&ev.record))
                {
                    let v = v.get(name).cloned().unwrap_or(v);
                    app_metadata.insert(name.to_string(), v);
                }
                let at = FindingAt {
                    ts,
                    flow_id,
                    pcap_cnt,
                    proto,
                    src,
                    dst,
                    to_server: true,
                    app_proto,
                };
                for h in &hits {
                    let host = self.cfg.eve.sensor_name.clone();
                    sink.alert(&finding_alert(host, h.alert_info(), &at, app_metadata.clone()))?;
                }
            }
        }
        sink.app(&ev)
    }

    /// A flow ends: its session's pending records, then its `flow` record.
    fn end_flow(
        &mut self,
        mut f: Flow,
        reason: EndReason,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        if let Some(mut session) = f.session.take() {
            let mut out = AppOutput::default();
            session.end(&mut self.stream_mem, &mut self.app, &mut out);
            for s in session.stream_stats() {
                self.stream_stats.add(&s);
            }
            // Messages completed by the end of the flow (a request cut short) are
            // inspected as Suricata does with its flow-end pseudo packets.
            for insp in out.inspections.drain(..) {
                let bufs: Vec<(Buffer, &[u8])> =
                    insp.buffers.iter().map(|(b, v)| (*b, v.as_slice())).collect();
                let to_server = insp.to_server;
                let (client, server) =
                    if session.reversed { (f.server, f.client) } else { (f.client, f.server) };
                let (src, dst) = if to_server { (client, server) } else { (server, client) };
                let pkt = Packet {
                    ts_secs: f.last_us.div_euclid(1_000_000),
                    ip_proto: f.proto,
                    src: src.0,
                    dst: dst.0,
                    sport: src.1,
                    dport: dst.1,
                    has_ports: true,
                    payload: &[],
                    ttl: 0,
                    ip_id: 0,
                    frag_bits: 0,
                    defragmented: false,
                    tcp: None,
                    icmp: None,
                    flow: Some(FlowView { to_server, established: f.established() }),
                    app_proto: f.app_proto,
                    buffers: &bufs,
                    tx_only: true,
                    in_stream: false,
                    stream: None,
                    payload_seen: false,
                    no_payload_inspection: false,
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
                    };
                    let tx = insp.meta.as_ref().map(|(k, v)| (*k, v));
                    let summary = flow_summary(&f, true);
                    self.write_alerts(&hits, &meta, f.id, f.app_proto, tx, &summary, sink)?;
                }
                self.hits = hits;
            }
            for (to_server, chunk) in std::mem::take(&mut out.scan_chunks) {
                let to_server = to_server != session.reversed;
                let (src, dst) =
                    if to_server { (f.client, f.server) } else { (f.server, f.client) };
                let at = FindingAt {
                    ts: f.last_us,
                    flow_id: f.id,
                    pcap_cnt: None,
                    proto: f.proto,
                    src,
                    dst,
                    to_server,
                    app_proto: f.app_proto,
                };
                self.scan_stream(&chunk, &at, sink)?;
            }
            for (to_server, rec) in out.records {
                let to_server = to_server != session.reversed;
                let (src, dst) =
                    if to_server { (f.client, f.server) } else { (f.server, f.client) };
                self.write_app(rec, f.id, None, f.last_us, f.proto, src, dst, f.app_proto, sink)?;
            }
        }
        self.write_flow(&f, reason, sink)
    }

    fn expire(&mut self, now: i64, sink: &mut dyn EventSink) -> io::Result<()> {
        let mut ended: Vec<(Flow, EndReason)> = Vec::new();
        self.flows.expire(now, |f, r| ended.push((f, r)));
        for (f, r) in ended {
            self.end_flow(f, r, sink)?;
        }
        Ok(())
    }

    fn write_flow(
        &mut self,
        f: &Flow,
        reason: EndReason,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let sigma_wants = self.sigma.as_ref().is_some_and(|(set, _)| set.wants("flow"));
        if !self.cfg.eve.flow && !sigma_wants {
            return Ok(());
        }
        let has_ports = matches!(f.proto, 6 | 17);
        let ev = FlowEvent {
            timestamp: timestamp(f.start_us),
            flow_id: f.id,
            event_type: "flow",
            vlan: (f.vlan[0] != 0).then(|| f.vlan.iter().copied().filter(|v| *v != 0).collect()),
            src_ip: f.client.0.to_string(),
            src_port: has_ports.then_some(f.client.1),
            dest_ip: f.server.0.to_string(),
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
            tcp: f
                .tcp
                .as_ref()
                .map(|t| TcpBody::new(t.flags, t.flags_ts, t.flags_tc, t.state.as_str())),
            host: self.cfg.eve.sensor_name.clone(),
        };
        if let Some((set, eval)) = self.sigma.as_mut().filter(|_| sigma_wants) {
            let hits = eval.evaluate(set, f.id, &ev);
            if !hits.is_empty() {
                let at = FindingAt {
                    ts: f.last_us,
                    flow_id: f.id,
                    pcap_cnt: None,
                    proto: f.proto,
                    src: f.client,
                    dst: f.server,
                    to_server: true,
                    app_proto: f.app_proto,
                };
                for h in &hits {
                    let host = self.cfg.eve.sensor_name.clone();
                    sink.alert(&finding_alert(host, h.alert_info(), &at, serde_json::Map::new()))?;
                }
            }
        }
        if !self.cfg.eve.flow {
            return Ok(());
        }
        sink.flow(&ev)
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

/// The EVE `stats` record around a `stats` object.
pub fn stats_record(
    stats: &serde_json::Value,
    ts_us: i64,
    cfg: &SensorConfig,
) -> serde_json::Value {
    let mut rec = json!({
        "timestamp": timestamp(ts_us),
        "event_type": "stats",
        "stats": stats,
    });
    if let (Some(name), Some(obj)) = (&cfg.eve.sensor_name, rec.as_object_mut()) {
        obj.insert("host".into(), json!(name));
    }
    rec
}

/// The transaction id of a DNS message in its flow: a request opens one, a response
/// belongs to the latest request with its id (or opens one if there was none).
fn dns_tx(flow: &mut Flow, id: u16, response: bool) -> u64 {
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

/// The EVE envelope of an alert raised by an engine other than signatures.
fn finding_alert(
    host: Option<String>,
    alert: AlertInfo,
    at: &FindingAt,
    app_metadata: serde_json::Map<String, serde_json::Value>,
) -> AlertEvent {
    AlertEvent {
        timestamp: timestamp(at.ts),
        flow_id: Some(at.flow_id),
        pcap_cnt: at.pcap_cnt,
        event_type: "alert".into(),
        src_ip: at.src.0.to_string(),
        src_port: Some(at.src.1),
        dest_ip: at.dst.0.to_string(),
        dest_port: Some(at.dst.1),
        proto: proto_name(at.proto),
        ip_v: Some(if at.src.0.is_ipv4() { 4 } else { 6 }),
        icmp_type: None,
        icmp_code: None,
        pkt_src: Some(
            if at.pcap_cnt.is_some() { "wire/pcap" } else { "stream (flow timeout)" }.into(),
        ),
        direction: Some(if at.to_server { "to_server" } else { "to_client" }.into()),
        alert,
        app_proto: at.app_proto.map(|a| a.as_str().to_string()),
        flow: None,
        app_metadata,
        host,
    }
}

/// The EVE name of a record's object (`dns`, `http`, …).
fn record_name(r: &Record) -> Option<&'static str> {
    match r {
        Record::Dns(_) => Some("dns"),
        Record::Http(_) => Some("http"),
        Record::Fileinfo(_) => Some("fileinfo"),
        Record::Tls(_) => Some("tls"),
        Record::Ssh(_) => Some("ssh"),
        Record::Smtp(_) => None,
    }
}

/// Where a finding of a content engine (YARA, IOC, Sigma) was made.
struct FindingAt {
    ts: i64,
    flow_id: u64,
    pcap_cnt: Option<u64>,
    proto: u8,
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    to_server: bool,
    app_proto: Option<AppProto>,
}

/// Where an alert comes from: a captured packet, or the end of a flow.
struct AlertMeta {
    ts: i64,
    pcap_cnt: Option<u64>,
    src: (IpAddr, Option<u16>),
    dst: (IpAddr, Option<u16>),
    proto: u8,
    ip_v: u8,
    icmp: Option<IcmpInfo>,
    to_server: bool,
}

fn flow_summary(flow: &Flow, ports: bool) -> FlowSummary {
    FlowSummary {
        pkts_toserver: flow.pkts[0],
        pkts_toclient: flow.pkts[1],
        bytes_toserver: flow.bytes[0],
        bytes_toclient: flow.bytes[1],
        start: timestamp(flow.start_us),
        src_ip: Some(flow.client.0.to_string()),
        dest_ip: Some(flow.server.0.to_string()),
        src_port: ports.then_some(flow.client.1),
        dest_port: ports.then_some(flow.server.1),
    }
}
