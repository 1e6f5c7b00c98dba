//! Sensor counters, written as the EVE `stats` record (`suricata`: the parts laid out
//! as Suricata lays them out).

use std::collections::BTreeMap;

use gatewatch_rules::engine::DetectStats;
use serde_json::{json, Value};

use crate::decode::defrag::DefragStats;
use crate::decode::DecodeError;
use crate::flow::FlowStats;

mod suricata;

#[derive(Debug, Default, Clone)]
pub struct DecoderStats {
    pub pkts: u64,
    pub bytes: u64,
    pub invalid: u64,
    pub ethernet: u64,
    pub sll: u64,
    pub null: u64,
    pub raw: u64,
    pub chdlc: u64,
    pub vlan: u64,
    pub vlan_qinq: u64,
    pub ipv4: u64,
    pub ipv6: u64,
    pub tcp: u64,
    pub udp: u64,
    pub sctp: u64,
    pub icmpv4: u64,
    pub icmpv6: u64,
    pub other_ip: u64,
    pub not_ip: u64,
    pub fragments: u64,
    /// Packets carried by each kind of tunnel.
    pub gre: u64,
    pub vxlan: u64,
    pub geneve: u64,
    pub teredo: u64,
    /// IP in IP, by inner and outer version (Suricata's counter names).
    pub ipv4_in_ipv4: u64,
    pub ipv6_in_ipv4: u64,
    pub ipv4_in_ipv6: u64,
    pub ipv6_in_ipv6: u64,
    /// Malformed packets by reason.
    pub events: BTreeMap<DecodeError, u64>,
    /// Packets with a bad checksum that were not inspected.
    pub checksum_dropped: u64,
}

impl DecoderStats {
    pub fn event(&mut self, e: DecodeError) {
        *self.events.entry(e).or_insert(0) += 1;
    }

    /// A packet came out of a tunnel; `outer_v6`: the tunnel packet is IPv6.
    pub fn tunnel(&mut self, kind: crate::decode::tunnel::Kind, outer_v6: bool) {
        use crate::decode::tunnel::Kind;
        *match (kind, outer_v6) {
            (Kind::Gre, _) => &mut self.gre,
            (Kind::Vxlan, _) => &mut self.vxlan,
            (Kind::Geneve, _) => &mut self.geneve,
            (Kind::Teredo, _) => &mut self.teredo,
            (Kind::Ipv4InIp, false) => &mut self.ipv4_in_ipv4,
            (Kind::Ipv6InIp, false) => &mut self.ipv6_in_ipv4,
            (Kind::Ipv4InIp, true) => &mut self.ipv4_in_ipv6,
            (Kind::Ipv6InIp, true) => &mut self.ipv6_in_ipv6,
        } += 1;
    }
}

/// Application-layer counters.
#[derive(Debug, Default, Clone)]
pub struct AppStats {
    /// DNS messages parsed over UDP.
    pub dns_udp: u64,
    /// Messages that could not be parsed, by reason.
    pub errors: BTreeMap<&'static str, u64>,
    /// TCP sessions: HTTP transactions, DNS over TCP, detection failures, parser errors.
    pub session: crate::app::parser::AppCounters,
    /// Bytes of parser state charged to the application-layer memcap now.
    pub memuse: u64,
}

#[derive(Debug, Default, Clone)]
pub struct CaptureStats {
    pub files: u64,
    /// Files that ended early (truncated or corrupt).
    pub files_truncated: u64,
}

#[derive(Debug, Default, Clone)]
pub struct SensorStats {
    pub capture: CaptureStats,
    pub decoder: DecoderStats,
    pub flow: FlowStats,
    pub defrag: DefragStats,
    pub detect: DetectStats,
    pub app_layer: AppStats,
    /// Reassembly counters of ended TCP sessions.
    pub stream: crate::stream::StreamStats,
    /// Bytes held by reassembly now.
    pub stream_memuse: u64,
    /// Host threshold entries given up for newer ones (the table was full).
    pub threshold_evictions: u64,
    /// Counters of the file store, when one is configured.
    pub file_store: Option<crate::output::filestore::FileStoreStats>,
    /// Alerts raised by indicator lists.
    pub ioc_hits: u64,
    /// YARA scanning, when YARA rules are loaded.
    pub yara: Option<crate::scan::ScanStats>,
    /// Sigma on network events, when Sigma rules are loaded.
    pub sigma: Option<crate::sigma::SigmaStats>,
    pub rules_loaded: usize,
    /// Signatures of the rule files that did not load.
    pub rules_skipped: usize,
    /// Rule sets swapped in while running, and the generation in use (1: the set
    /// loaded at start).
    pub reloads: u64,
    pub rules_generation: u64,
    /// Seconds of capture time covered.
    pub uptime: i64,
}

impl SensorStats {
    /// The `stats` object of the EVE record: Suricata's layout and names wherever
    /// Suricata has the counter (so Evebox and the Elastic Suricata integration read
    /// them), Gatewatch's own counters beside them.
    pub fn to_json(&self) -> Value {
        let d = &self.decoder;
        json!({
            "uptime": self.uptime,
            "capture": { "files": self.capture.files, "files_truncated": self.capture.files_truncated },
            "decoder": {
                "pkts": d.pkts, "bytes": d.bytes, "invalid": d.invalid,
                "ethernet": d.ethernet, "sll": d.sll, "null": d.null, "raw": d.raw,
                "chdlc": d.chdlc, "vlan": d.vlan, "vlan_qinq": d.vlan_qinq, "ipv4": d.ipv4,
                "ipv6": d.ipv6, "tcp": d.tcp, "udp": d.udp, "sctp": d.sctp,
                "icmpv4": d.icmpv4, "icmpv6": d.icmpv6,
                "other_ip": d.other_ip, "not_ip": d.not_ip, "fragments": d.fragments,
                "gre": d.gre, "vxlan": d.vxlan, "geneve": d.geneve, "teredo": d.teredo,
                "ipv4_in_ipv4": d.ipv4_in_ipv4, "ipv6_in_ipv4": d.ipv6_in_ipv4,
                "ipv4_in_ipv6": d.ipv4_in_ipv6, "ipv6_in_ipv6": d.ipv6_in_ipv6,
                "checksum_dropped": d.checksum_dropped,
                "event": suricata::decoder_events(&d.events),
            },
            "flow": {
                "total": self.flow.created, "active": self.flow.active, "memuse": self.flow.memuse,
                "tcp": self.flow.tcp, "udp": self.flow.udp,
                "icmpv4": self.flow.icmpv4, "icmpv6": self.flow.icmpv6,
                "memuse_peak": self.flow.memuse_peak, "other": self.flow.other,
                "ended_timeout": self.flow.ended_timeout,
                "ended_shutdown": self.flow.ended_shutdown, "evicted": self.flow.evicted,
            },
            "defrag": {
                "ipv4": { "fragments": self.defrag.fragments[0], "reassembled": self.defrag.reassembled[0] },
                "ipv6": { "fragments": self.defrag.fragments[1], "reassembled": self.defrag.reassembled[1] },
                "overlaps": self.defrag.overlaps, "overlap_conflicts": self.defrag.overlap_conflicts,
                "timeouts": self.defrag.timeouts, "tracker_evictions": self.defrag.tracker_evictions,
                "memcap_drops": self.defrag.memcap_drops, "too_large": self.defrag.too_large,
            },
            "app_layer": suricata::app_layer(&self.app_layer),
            "file_store": self.file_store,
            "yara": self.yara,
            "sigma": self.sigma,
            "ioc": { "hits": self.ioc_hits },
            "tcp": {
                "reassembly_gap": self.stream.gaps,
                "overlap": self.stream.overlaps,
                "overlap_diff_data": self.stream.overlap_conflicts,
                "reassembly_memuse": self.stream_memuse,
                "segments": self.stream.segments, "retransmissions": self.stream.retransmissions,
                "depth_dropped": self.stream.depth_dropped, "memcap_dropped": self.stream.memcap_dropped,
                "gap_bytes": self.stream.gap_bytes,
            },
            "detect": {
                "engines": [{
                    "id": self.rules_generation.saturating_sub(1),
                    "rules_loaded": self.rules_loaded,
                    "rules_failed": self.rules_skipped,
                }],
                "alert": self.detect.alerts,
                "alert_queue_overflow": self.detect.alert_queue_overflow,
                "alerts_suppressed": self.detect.alerts_suppressed,
                "rules_loaded": self.rules_loaded,
                "rules_skipped": self.rules_skipped,
                "reloads": self.reloads,
                "rules_generation": self.rules_generation,
                "rules_evaluated": self.detect.rules_evaluated,
                "pcre_errors": self.detect.inspect.pcre_errors,
                "prefilter_errors": self.detect.prefilter_errors,
                "recursion_limit": self.detect.inspect.recursion_limit,
                "threshold_evictions": self.threshold_evictions,
            },
        })
    }
}
