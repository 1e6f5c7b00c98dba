//! The sensor pipeline for one worker: decode → defragment → flow → detect → output.
//!
//! `inspect` takes a decoded packet through its flow and the application layer;
//! `detect` is the detection stage (signatures, indicator lists, YARA, Sigma, and the
//! alerts they make); `flows` writes flow records and ends flows; `events` and
//! `app_events` turn decoder events and application records into EVE.

use std::io;
use std::sync::Arc;

use gatewatch_rules::detection::Detection;
use gatewatch_rules::engine::profile::ProfileReport;
use gatewatch_rules::engine::{Detector, Hit, RuleSet};
use gatewatch_rules::ioc::IocSet;
use serde_json::json;

use crate::app::expect::Expectations;
use crate::app::parser::AppCounters;
use crate::app::session::SessionLimits;
use crate::capture::Frame;
use crate::config::{ChecksumMode, SensorConfig};
use crate::decode::defrag::Defrag;
use crate::decode::{self, ipv4, Decoded, L2Kind};
use crate::flow::FlowTable;
use crate::output::eve::timestamp;
use crate::output::filestore::FileStore;
use crate::output::EventSink;
use crate::scan::ContentScanner;
use crate::sigma::SigmaEval;
use crate::stats::SensorStats;
use crate::stream::{Memcap, StreamStats};
use events::{decode_events, EventPacket};
use gatewatch_rules::sigma::SigmaSet;

mod app_events;
mod detect;
mod events;
mod flows;
mod inspect;

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
pub struct Pipeline {
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
    /// Parser state (pending transactions, partial messages) of all sessions of this
    /// worker.
    app_mem: Memcap,
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
    /// Connections announced by sessions (FTP data), shared with the other workers.
    expectations: Arc<Expectations>,
    /// The tunnel packet whose inner packet is being inspected (EVE `tunnel`).
    tunnel: Option<TunnelCx>,
    /// The tunnel each tunneled flow came through, by flow id: its flow-end alerts
    /// show it as Suricata's pseudo packets do.
    flow_tunnels: std::collections::HashMap<u64, TunnelCx>,
}

/// The outer packet of a tunnel, as the alerts of its inner packets show it.
#[derive(Clone, Debug)]
pub(crate) struct TunnelCx {
    src: (std::net::IpAddr, Option<u16>),
    dst: (std::net::IpAddr, Option<u16>),
    proto: u8,
    depth: u8,
    /// `pkt_src` of the outer packet, and of the inner one.
    outer_pkt_src: &'static str,
    pub(crate) inner_pkt_src: &'static str,
}

impl TunnelCx {
    /// The EVE `tunnel` object.
    pub(crate) fn json(&self) -> serde_json::Value {
        let mut t = serde_json::json!({
            "src_ip": gatewatch_rules::event::ip_text(&self.src.0),
            "dest_ip": gatewatch_rules::event::ip_text(&self.dst.0),
            "proto": crate::output::eve::proto_name(self.proto),
            "depth": self.depth,
            "pkt_src": self.outer_pkt_src,
        });
        if let (Some(sp), Some(dp)) = (self.src.1, self.dst.1) {
            t["src_port"] = sp.into();
            t["dest_port"] = dp.into();
        }
        t
    }
}

impl Pipeline {
    /// Shares the table of announced connections with other workers' sensors.
    pub fn share_expectations(&mut self, table: Arc<Expectations>) {
        self.expectations = table;
    }

    /// A pipeline with this configuration and these rules.
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
        let app_mem = Memcap::new(cfg.stream.app_memcap);
        let mut session_limits = SessionLimits {
            depth: cfg.stream.depth,
            max_pending: cfg.stream.max_pending,
            inline: cfg.stream.inline,
            ..SessionLimits::default()
        };
        session_limits.http.body_limit = cfg.stream.http_body_limit;
        session_limits.http.max_tx = cfg.stream.http_max_tx;
        let files =
            cfg.files.store_dir.clone().map(|d| FileStore::new(d, cfg.files.store_max_bytes));
        content_limits(&mut session_limits, &cfg, scanner.is_some());
        Pipeline {
            cfg,
            rules,
            detector,
            flows,
            defrag,
            checksum,
            stats,
            hits: Vec::new(),
            stream_mem,
            app_mem,
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
            expectations: Arc::default(),
            tunnel: None,
            flow_tunnels: Default::default(),
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
        content_limits(&mut self.session_limits, &self.cfg, self.scanner.is_some());
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

    /// Its counters now.
    pub fn stats(&self) -> SensorStats {
        let mut s = self.stats.clone();
        s.flow = self.flows.stats;
        s.defrag = self.defrag.stats;
        s.detect = self.detector.stats;
        s.app_layer.session = self.app.clone();
        s.stream = self.stream_stats;
        s.stream_memuse = self.stream_mem.used() as u64;
        s.app_layer.memuse = self.app_mem.used() as u64;
        s.threshold_evictions = self.detector.threshold_evictions();
        s.file_store = self.files.as_ref().map(|f| f.stats.clone());
        s.yara = self.scanner.as_ref().map(|y| y.stats.clone());
        s.sigma = self.sigma.as_ref().map(|(_, e)| e.stats.clone());
        s.uptime = self.first_ts.map_or(0, |f| (self.last_ts - f) / 1_000_000);
        s
    }

    pub(crate) fn note_file(&mut self, truncated: bool) {
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
        self.decode_and_inspect(frame, 0, sink)
    }

    /// Decodes a frame, or a packet a tunnel carried (`depth` tunnels deep), and
    /// inspects it; then the packet it carries, if it is a tunnel packet.
    fn decode_and_inspect(
        &mut self,
        frame: &Frame<'_>,
        depth: u8,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let ts = frame.ts_us;
        let (l2, decoded) = match decode::decode_l3(frame.link, frame.data) {
            Ok(x) => x,
            Err(e) => return self.undecodable(frame, e, sink),
        };
        let d = &mut self.stats.decoder;
        match l2 {
            L2Kind::Ethernet => d.ethernet += 1,
            L2Kind::Sll => d.sll += 1,
            L2Kind::Null => d.null += 1,
            L2Kind::Raw => d.raw += 1,
            L2Kind::Chdlc => d.chdlc += 1,
        }
        let Decoded::Ip(l3) = decoded else {
            d.not_ip += 1;
            return Ok(());
        };
        if !self.count_ip(&l3) {
            return Ok(());
        }
        let owned;
        let (bytes, defragmented): (&[u8], bool) = match l3.fragment {
            Some(frag) => {
                self.stats.decoder.fragments += 1;
                let mut events = l3.events;
                let whole = self.defrag.insert(&l3, frag, ts, &mut events);
                let at = event_packet(ts, &l3);
                self.inspect_events(&at, &decode_events(l3.version, events, None), sink)?;
                match whole {
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
                let events = if defragmented { Default::default() } else { l3.events };
                let events = decode_events(l3.version, events, Some(e));
                return self.inspect_events(&event_packet(ts, &l3), &events, sink);
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
        self.inspect(frame, &l3, &l4, defragmented, sink)?;
        self.follow_tunnel(ts, &l3, &l4, depth, sink)
    }

    /// A frame whose network layer did not decode: counted, and its decoder events
    /// inspected with what could be read of its addresses.
    fn undecodable(
        &mut self,
        frame: &Frame<'_>,
        e: decode::DecodeError,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let d = &mut self.stats.decoder;
        d.invalid += 1;
        d.event(e);
        let Some(u) = decode::undecoded(frame.link, frame.data) else { return Ok(()) };
        let at = EventPacket {
            ts: frame.ts_us,
            version: u.version,
            proto: u.proto,
            src: u.src,
            dst: u.dst,
            vlan: u.vlan,
        };
        self.inspect_events(&at, &decode_events(u.version, u.events, Some(e)), sink)
    }

    /// Counts an IP packet (VLAN tags, version) and checks an IPv4 header checksum as
    /// configured; false when the packet is dropped for a bad checksum.
    fn count_ip(&mut self, l3: &decode::L3<'_>) -> bool {
        let d = &mut self.stats.decoder;
        if l3.vlan[0] != 0 {
            d.vlan += 1;
            if l3.vlan[1] != 0 {
                d.vlan_qinq += 1;
            }
        }
        if l3.version != 4 {
            d.ipv6 += 1;
            return true;
        }
        d.ipv4 += 1;
        if self.checksum.mode == ChecksumMode::No {
            return true;
        }
        let ok = ipv4::header_checksum_ok(l3.header);
        self.checksum.observe(!ok);
        if !ok && self.checksum.drop_bad() {
            self.stats.decoder.event(decode::DecodeError::Ipv4InvalidChecksum);
            self.stats.decoder.checksum_dropped += 1;
            return false;
        }
        true
    }

    /// Decodes and inspects the packet a tunnel packet carries, if any (up to
    /// [`MAX_TUNNEL_DEPTH`] tunnels deep).
    fn follow_tunnel(
        &mut self,
        ts: i64,
        l3: &decode::L3<'_>,
        l4: &decode::L4<'_>,
        depth: u8,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let Some((kind, link, data)) = decode::tunnel::inner(l3, l4) else { return Ok(()) };
        if depth >= MAX_TUNNEL_DEPTH {
            return Ok(());
        }
        let outer_v6 = l3.version == 6;
        self.stats.decoder.tunnel(kind, outer_v6);
        let inner = Frame { ts_us: ts, orig_len: data.len() as u32, link, data };
        let ports = l4.ports();
        let cx = TunnelCx {
            src: (l3.src, ports.map(|p| p.0)),
            dst: (l3.dst, ports.map(|p| p.1)),
            proto: l3.proto,
            depth,
            outer_pkt_src: self.tunnel.as_ref().map_or("wire/pcap", |t| t.inner_pkt_src),
            inner_pkt_src: kind.pkt_src(outer_v6),
        };
        let outer = self.tunnel.replace(cx);
        let res = self.decode_and_inspect(&inner, depth + 1, sink);
        self.tunnel = outer;
        res
    }
}

/// Tunnels inside tunnels followed; deeper packets are inspected as tunnel packets.
const MAX_TUNNEL_DEPTH: u8 = 3;

/// A packet's time, protocol and addresses, for [`Pipeline::inspect_events`].
fn event_packet(ts: i64, l3: &decode::L3<'_>) -> EventPacket {
    let (version, proto, src, dst, vlan) = (l3.version, l3.proto, l3.src, l3.dst, l3.vlan);
    EventPacket { ts, version, proto, src, dst, vlan }
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
    // Datasets are shared by every worker: counted once, here.
    let sets = gatewatch_rules::signature::dataset::counters();
    if let (false, Some(st)) = (sets.is_empty(), rec["stats"].as_object_mut()) {
        let sets: serde_json::Map<String, serde_json::Value> = sets
            .into_iter()
            .map(|(name, values, refused)| (name, json!({"values": values, "refused": refused})))
            .collect();
        st.insert("datasets".into(), serde_json::Value::Object(sets));
    }
    if let (Some(name), Some(obj)) = (&cfg.eve.sensor_name, rec.as_object_mut()) {
        obj.insert("host".into(), json!(name));
    }
    rec
}

/// What the application layer keeps of streams and files: the first bytes of streams
/// and whole files (to [`crate::app::files::DEFAULT_KEEP`]) only when YARA scans them or files are
/// stored; otherwise no more of a file than `file.data` inspects.
fn content_limits(limits: &mut SessionLimits, cfg: &SensorConfig, yara: bool) {
    use crate::app::files;
    limits.scan_depth = if yara { cfg.yara.stream_depth } else { 0 };
    let keep_files = (yara && cfg.yara.scan_files) || cfg.files.store_dir.is_some();
    let inspect = cfg.stream.file_data_limit;
    limits.files = files::FileLimits {
        inspect,
        keep: if keep_files { files::DEFAULT_KEEP.max(inspect) } else { inspect },
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::files::{FileLimits, DEFAULT_KEEP};

    #[test]
    fn files_are_kept_whole_only_for_yara_or_the_file_store() {
        let mut cfg = SensorConfig::default();
        cfg.stream.file_data_limit = 5000;
        let mut limits = SessionLimits::default();
        content_limits(&mut limits, &cfg, false);
        assert_eq!(limits.files, FileLimits { inspect: 5000, keep: 5000 });
        assert_eq!(limits.scan_depth, 0);
        content_limits(&mut limits, &cfg, true);
        assert_eq!(limits.files, FileLimits { inspect: 5000, keep: DEFAULT_KEEP });
        assert_eq!(limits.scan_depth, cfg.yara.stream_depth);
        cfg.yara.scan_files = false;
        content_limits(&mut limits, &cfg, true);
        assert_eq!(limits.files.keep, 5000, "YARA on streams only");
        cfg.files.store_dir = Some("/var/lib/gatewatch/files".into());
        content_limits(&mut limits, &cfg, false);
        assert_eq!(limits.files.keep, DEFAULT_KEEP);
    }
}
