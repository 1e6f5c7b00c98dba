//! The compiled rule set and the per-thread detector.
//!
//! [`RuleSet::build`] orders the signatures as Suricata does (action, flowbits
//! set-before-read, priority), compiles their patterns and builds the prefilter. A worker
//! thread owns a [`Detector`] (scratch space, host thresholds, counters) and a
//! [`FlowState`] per flow (flowbits, flow thresholds), and calls [`RuleSet::detect`] on
//! every packet. The rules crate never sees a packet: the sensor fills a [`Packet`].

mod compile;
mod evaluate;
mod flow_meta;
mod flow_state;
pub(crate) mod hostbits;
mod inspect;
mod iponly;
mod packet;
mod ports;
mod prefilter;
pub mod profile;
pub mod threshold;

use std::collections::HashMap;

use compile::{flowbits_rank, proto_class, proto_class_matches, Compiled, Source};
use evaluate::Eval;
pub use flow_state::{FlowState, Migration};
use hostbits::SharedHostBits;
pub use inspect::InspectStats;
use inspect::LowerCache;
use iponly::IpOnlyIndex;
pub use packet::{FlowView, IcmpInfo, Packet, PacketEvent, StreamChunk, TcpInfo};
use ports::PortIndex;
pub use prefilter::BulkMatcher;
use prefilter::{PatternSeen, Prefilter, PrefilterBuilder};
use profile::{since, PrefilterLine, Profile, ProfileReport, RuleLine};
use threshold::ThresholdTable;

use crate::signature::{FlowIntOp, FlowIntValue, HeaderCheck, Signature, Transform};

/// A rule that matched and should be reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index into [`RuleSet::signature`].
    pub rule: u32,
    /// The rule has a host-tracked threshold (by_src, by_dst, by_both, by_rule) that
    /// this detector left to the caller ([`Detector::defer_host_thresholds`]): whether
    /// the match alerts is decided where matches of every worker meet, in capture order.
    pub threshold_deferred: bool,
    /// The JSON context of the dataset values that matched (`format json` sets), by
    /// `context_key`: EVE's `alert.context`.
    pub context: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

/// Counters of one detector.
#[derive(Debug, Default, Clone, Copy)]
pub struct DetectStats {
    pub(crate) packets: u64,
    /// Rules whose conditions were checked (after the prefilter).
    pub rules_evaluated: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Alerts a threshold or `noalert` kept back.
    pub alerts_suppressed: u64,
    /// Alerts dropped because a packet raised more than the queue holds.
    pub alert_queue_overflow: u64,
    /// Prefilter scans the multi-pattern matcher failed (Hyperscan's errors); the
    /// rules behind the rest of such a buffer were not checked.
    pub prefilter_errors: u64,
    /// Counters of the payload inspection.
    pub inspect: InspectStats,
}

/// Per-thread detection context.
pub struct Detector {
    seen_rules: Vec<u32>,
    gen: u32,
    candidates: Vec<u32>,
    /// IP-only candidates of the current packet.
    iponly: Vec<u32>,
    /// One per prefilter, aligned with `RuleSet::prefilters`.
    patterns: Vec<PatternSeen>,
    pub(crate) thresholds: SharedThresholds,
    pub(crate) hostbits: SharedHostBits,
    /// Counters since the detector was made.
    pub stats: DetectStats,
    /// Rule profiling, when asked for ([`Detector::enable_profiling`]).
    profile: Option<Box<Profile>>,
    /// Lowercased buffers of the current call, for `nocase` contents.
    lower: LowerCache,
    /// Rules the payload prefilters found in the first pass over the current packet.
    payload_candidates: Vec<u32>,
    /// Rules without a prefilter pattern that the current packet's ports may match.
    always: Vec<u32>,
    /// Host-tracked thresholds are not applied here but reported on the hit.
    defer_host_thresholds: bool,
}

impl Detector {
    /// Entries the host threshold table gave up for newer ones.
    pub fn threshold_evictions(&self) -> u64 {
        lock(&self.thresholds).evicted()
    }

    /// Makes this detector count, per rule and per prefilter, checks, matches and time
    /// (see [`profile`]); [`RuleSet::profile_report`] reads them.
    /// Leaves host-tracked thresholds (by_src, by_dst, by_both, by_rule) to the caller:
    /// such matches come back as hits with [`Hit::threshold_deferred`]. With several
    /// workers each sees part of the traffic, so a host's count is only right where
    /// their matches are merged in capture order (the sensor's worker output).
    pub fn defer_host_thresholds(&mut self, defer: bool) {
        self.defer_host_thresholds = defer;
    }

    /// Starts timing each rule of `rules` (`gatewatch replay --profile`).
    pub fn enable_profiling(&mut self, rules: &RuleSet) {
        self.profile = Some(Box::new(Profile::new(rules.rules.len(), rules.prefilters.len())));
    }
}

/// At most this many alerts per packet (Suricata's `packet-alert-max`).
pub const MAX_ALERTS_PER_PACKET: usize = 15;

/// Bounds of a rule set's runtime state.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries of the host threshold table at most (the oldest are evicted).
    pub threshold_entries: usize,
    /// The multi-pattern matcher of payloads, streams and bodies.
    pub matcher: BulkMatcher,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { threshold_entries: 65_536, matcher: BulkMatcher::BEST }
    }
}

/// The compiled signature rules: prefilters by buffer, IP-only rules, flowbit and dataset state, thresholds.
pub struct RuleSet {
    rules: Vec<Compiled>,
    /// One prefilter per buffer that some rule's fast pattern is in.
    prefilters: Vec<(Source, Prefilter)>,
    /// Rules without a prefilter pattern, by protocol class (tcp, udp, icmp, other):
    /// tested on every packet of their protocol. IP-only rules apart: they are tested
    /// once per flow direction.
    always: [PortIndex; 4],
    ip_only: [IpOnlyIndex; 4],
    flowbit_names: Vec<String>,
    flowint_names: Vec<String>,
    /// Host and host-pair bits, shared by every detector of the set (and carried over
    /// by [`RuleSet::detector_from`]).
    hostbits: SharedHostBits,
    limits: Limits,
    /// Some rule tests a decoder, stream or parser event: packets that carry events
    /// but are not otherwise inspected (fragments, undecodable) are shown to the rules.
    event_rules: bool,
    /// Some rule inspects a packet header buffer (`ipv4.hdr`, `tcp.hdr`, ...).
    header_buffers: bool,
    /// Some rule tags sessions or hosts ([`RuleSet::tagged`] has work).
    has_tags: bool,
    /// Unique per compiled set: tells a shared threshold table whether it has already
    /// been re-keyed to this set.
    id: u64,
}

static NEXT_SET_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Host thresholds shared by the detectors of all workers (a source scanning many
/// hosts spreads over workers; its `by_src` count must not).
pub type SharedThresholds = std::sync::Arc<std::sync::Mutex<ThresholdTable>>;

fn lock(t: &SharedThresholds) -> std::sync::MutexGuard<'_, ThresholdTable> {
    t.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Names numbered in the order first seen (flowbits, flowints).
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.ids.get(name) {
            return i;
        }
        self.names.push(name.to_string());
        let i = self.names.len() as u32 - 1;
        self.ids.insert(name.to_string(), i);
        i
    }
}

/// The indexes a rule set is built with: a prefilter per source of patterns, and for
/// rules without a pattern, the port index or (IP-only rules) the address index of
/// each protocol class.
#[derive(Default)]
struct Indexes {
    prefilters: Vec<(Source, PrefilterBuilder)>,
    always: [PortIndex; 4],
    ip_only: [Vec<u32>; 4],
}

impl Indexes {
    fn add(&mut self, idx: u32, compiled: &Compiled) {
        let sig = &compiled.sig;
        let entries = compiled.prefilter();
        for (source, pattern, nocase, bound) in &entries {
            let pos = match self.prefilters.iter().position(|(k, _)| k == source) {
                Some(p) => p,
                None => {
                    self.prefilters.push((source.clone(), PrefilterBuilder::default()));
                    self.prefilters.len() - 1
                }
            };
            let ports = PortIndex::dst_ports(sig);
            self.prefilters[pos].1.add(idx, pattern, *nocase, *bound, ports);
        }
        if entries.is_empty() {
            for class in (0..4).filter(|&c| proto_class_matches(sig.proto, c)) {
                if sig.is_ip_only() {
                    self.ip_only[class].push(idx);
                } else {
                    self.always[class].add(idx, sig);
                }
            }
        }
    }
}

impl RuleSet {
    /// Compiles signatures into a rule set.
    pub fn build(mut sigs: Vec<Signature>, limits: Limits) -> RuleSet {
        // Suricata's evaluation order; the sort is stable, so file order breaks ties.
        sigs.sort_by_key(|s| (s.action, flowbits_rank(s), s.priority));
        let mut flowbits = Interner::default();
        let mut flowints = Interner::default();
        let mut index = Indexes::default();
        let mut rules = Vec::with_capacity(sigs.len());
        for (idx, sig) in sigs.into_iter().enumerate() {
            let bits = sig
                .flowbits
                .iter()
                .map(|f| (f.cmd, f.names.iter().map(|n| flowbits.id(n)).collect()))
                .collect();
            let mut compiled = Compiled::new(sig, bits);
            compiled.flowints = compiled
                .sig
                .flowints
                .iter()
                .map(|f| {
                    let var = match &f.op {
                        FlowIntOp::Add(FlowIntValue::Var(v))
                        | FlowIntOp::Sub(FlowIntValue::Var(v))
                        | FlowIntOp::Set(FlowIntValue::Var(v))
                        | FlowIntOp::Cmp(_, _, FlowIntValue::Var(v)) => Some(flowints.id(v)),
                        _ => None,
                    };
                    (flowints.id(&f.name), f.op.clone(), var)
                })
                .collect();
            index.add(idx as u32, &compiled);
            rules.push(compiled);
        }
        let Indexes { prefilters, always, ip_only } = index;
        let ip_only = ip_only.map(|l| IpOnlyIndex::build(&l, |r| &rules[r as usize].sig));
        let event_rules = rules.iter().any(|r: &Compiled| {
            r.sig.header_checks.iter().any(|h| matches!(h, HeaderCheck::Event { .. }))
        });
        let header_buffers =
            rules.iter().any(|r| r.sig.buffers.iter().any(|l| l.buffer.packet_header()));
        let has_tags = rules.iter().any(|r| !r.sig.tags.is_empty());
        RuleSet {
            event_rules,
            header_buffers,
            has_tags,
            id: NEXT_SET_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            rules,
            prefilters: prefilters
                .into_iter()
                .map(|(k, p)| {
                    let bulk = k.bulk().then_some(limits.matcher);
                    (k, p.build(bulk))
                })
                .collect(),
            always,
            ip_only,
            flowbit_names: flowbits.names,
            flowint_names: flowints.names,
            hostbits: Default::default(),
            limits,
        }
    }

    /// Does some rule test packet events?
    pub fn has_event_rules(&self) -> bool {
        self.event_rules
    }

    /// Does some rule inspect a packet header buffer?
    pub fn has_header_buffers(&self) -> bool {
        self.header_buffers
    }

    /// The limits the set was built with.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Rules loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// No rule loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule numbered `rule`.
    pub fn signature(&self, rule: u32) -> &Signature {
        &self.rules[rule as usize].sig
    }

    /// Every rule, in load order.
    pub fn signatures(&self) -> impl Iterator<Item = &Signature> {
        self.rules.iter().map(|c| &c.sig)
    }

    /// How runtime state kept for `old` (flowbits, thresholds) carries over to this set
    /// after a reload: rules by (gid, sid), flowbits by name.
    pub fn migration_from(&self, old: &RuleSet) -> Migration {
        let by_id: std::collections::HashMap<(u32, u32), u32> = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, c)| ((c.sig.gid, c.sig.sid), i as u32))
            .collect();
        let bits: std::collections::HashMap<&str, u32> =
            self.flowbit_names.iter().enumerate().map(|(i, n)| (n.as_str(), i as u32)).collect();
        let ints: std::collections::HashMap<&str, u32> =
            self.flowint_names.iter().enumerate().map(|(i, n)| (n.as_str(), i as u32)).collect();
        Migration {
            rules: old.rules.iter().map(|c| by_id.get(&(c.sig.gid, c.sig.sid)).copied()).collect(),
            flowbits: old.flowbit_names.iter().map(|n| bits.get(n.as_str()).copied()).collect(),
            flowints: old.flowint_names.iter().map(|n| ints.get(n.as_str()).copied()).collect(),
        }
    }

    /// A detector for this set that keeps the host thresholds and counters of `old`
    /// (a detector of the set `m` was computed from). A threshold table shared by
    /// several workers is re-keyed once, by the first of them.
    pub fn detector_from(&self, old: Detector, m: &Migration) -> Detector {
        let mut det = self.detector();
        det.thresholds = old.thresholds;
        det.hostbits = old.hostbits;
        {
            let mut t = lock(&det.thresholds);
            if t.set_id != self.id {
                t.migrate(m);
                t.set_id = self.id;
            }
        }
        det.stats = old.stats;
        det.defer_host_thresholds = old.defer_host_thresholds;
        if old.profile.is_some() {
            det.enable_profiling(self);
        }
        det
    }

    /// An empty host threshold table for this set, to share between workers.
    pub fn threshold_table(&self) -> SharedThresholds {
        let table = ThresholdTable::new(self.limits.threshold_entries, self.id);
        std::sync::Arc::new(std::sync::Mutex::new(table))
    }

    /// A fresh detector for one worker thread.
    pub fn detector(&self) -> Detector {
        Detector {
            seen_rules: vec![0; self.rules.len()],
            gen: 1,
            candidates: Vec::new(),
            iponly: Vec::new(),
            patterns: self.prefilters.iter().map(|(_, p)| p.new_seen()).collect(),
            thresholds: self.threshold_table(),
            hostbits: self.hostbits.clone(),
            stats: DetectStats::default(),
            profile: None,
            lower: LowerCache::default(),
            payload_candidates: Vec::new(),
            always: Vec::new(),
            defer_host_thresholds: false,
        }
    }

    /// The profile of `det` (None unless it profiles), with the rules' ids and messages.
    pub fn profile_report(&self, det: &Detector) -> Option<ProfileReport> {
        let p = det.profile.as_deref()?;
        let rules = self
            .rules
            .iter()
            .zip(&p.rules)
            .filter(|(_, cost)| cost.checks > 0)
            .map(|(c, cost)| RuleLine {
                gid: c.sig.gid,
                sid: c.sig.sid,
                rev: c.sig.rev,
                msg: c.sig.msg.clone(),
                checks: cost.checks,
                matches: cost.matches,
                nanos: cost.nanos,
            })
            .collect();
        let prefilters = self
            .prefilters
            .iter()
            .zip(&p.prefilters)
            .map(|((key, pf), cost)| PrefilterLine {
                buffer: key.name(),
                patterns: pf.pattern_count(),
                groups: pf.describe(),
                calls: cost.calls,
                bytes: cost.bytes,
                candidates: cost.candidates,
                nanos: cost.nanos,
            })
            .collect();
        let mut report = ProfileReport {
            detect_calls: p.detect_calls,
            detect_nanos: p.detect_nanos,
            unfiltered_checks: p.unfiltered_checks,
            rules,
            prefilters,
        };
        report.sort();
        Some(report)
    }

    /// Runs the prefilters of what `pkt` carries; leaves the candidate rules, sorted and
    /// once each, in `det.candidates`. A pass over one more transaction of the same
    /// packet (`tx_only`) scans only its sticky buffers and reuses the payload
    /// candidates of the packet's first pass.
    fn prefilter(&self, det: &mut Detector, pkt: &Packet<'_>) {
        let gen = det.gen;
        det.candidates.clear();
        if !pkt.tx_only {
            det.payload_candidates.clear();
        }
        let Detector {
            seen_rules,
            candidates,
            patterns,
            profile,
            payload_candidates,
            lower,
            stats,
            ..
        } = det;
        let mut push = |r: u32| {
            let m = &mut seen_rules[r as usize];
            if *m != gen {
                *m = gen;
                candidates.push(r);
            }
        };
        if pkt.tx_only {
            payload_candidates.iter().for_each(|&r| push(r));
        }
        let payload = !pkt.payload.is_empty() && !pkt.no_payload_inspection && !pkt.payload_seen;
        let dport = pkt.has_ports.then_some(pkt.dport);
        for (i, ((key, pf), seen)) in self.prefilters.iter().zip(patterns.iter_mut()).enumerate() {
            let mut scan = |data: &[u8], base: u64, own: bool, push: &mut dyn FnMut(u32)| {
                seen.next_buffer();
                let t = profile.is_some().then(std::time::Instant::now);
                let owned;
                let low: &[u8] = match (pf.wants_lowercase(), own) {
                    (false, _) => &[],
                    (true, false) => lower.get(data),
                    (true, true) => {
                        owned = data.to_ascii_lowercase();
                        &owned
                    }
                };
                let mut n = 0u64;
                pf.scan(data, low, base, dport, seen, |r| {
                    n += 1;
                    push(r)
                });
                stats.prefilter_errors += std::mem::take(&mut seen.errors);
                if let (Some(t), Some(p)) = (t, profile.as_deref_mut()) {
                    let cost = &mut p.prefilters[i];
                    cost.calls += 1;
                    cost.bytes += data.len() as u64;
                    cost.candidates += n;
                    cost.nanos += since(t);
                }
            };
            // Payload candidates, kept for the transaction passes of this packet.
            let mut push_payload = |r: u32| {
                payload_candidates.push(r);
                push(r)
            };
            match key {
                Source::Packet | Source::Stream if pkt.tx_only => {}
                Source::Stream if pkt.in_stream => {
                    if let Some(chunk) = pkt.stream.filter(|_| !pkt.no_payload_inspection) {
                        scan(chunk.data, chunk.offset, false, &mut push_payload);
                    }
                }
                Source::Packet | Source::Stream => {
                    if payload {
                        scan(pkt.payload, 0, false, &mut push_payload);
                    }
                }
                Source::Buffer(buffer, transforms) => {
                    for (_, data) in pkt.buffers.iter().filter(|(b, _)| b == buffer) {
                        if transforms.is_empty() {
                            scan(data, 0, false, &mut push);
                        } else {
                            scan(&Transform::apply_all(transforms, data), 0, true, &mut push);
                        }
                    }
                }
            }
        }
        candidates.sort_unstable();
    }

    /// Tests one packet; pushes the alerts to raise onto `out` (cleared first).
    /// Counts a packet against the tags of its session and hosts (before it is
    /// inspected: the packet that sets a tag is its first); true when it is to be logged
    /// as a tagged packet.
    pub fn tagged(&self, det: &Detector, pkt: &Packet<'_>, flow: Option<&mut FlowState>) -> bool {
        if !self.has_tags {
            return false;
        }
        let (now, len) = (pkt.ts_secs, pkt.wire_len);
        let mut logged = false;
        if let Some(f) = flow {
            if let Some(b) = f.session_tag.as_mut() {
                if b.take(now, len) {
                    logged = true;
                } else {
                    f.session_tag = None;
                }
            }
        }
        logged | hostbits::lock(&det.hostbits).take_host_tags(pkt.src, pkt.dst, now, len)
    }

    /// Runs the rules on one packet (or stream chunk, or transaction buffer), appending the alerts.
    pub fn detect(
        &self,
        det: &mut Detector,
        pkt: &Packet<'_>,
        mut flow: Option<&mut FlowState>,
        out: &mut Vec<Hit>,
    ) {
        out.clear();
        det.stats.packets += 1;
        if flow.as_ref().is_some_and(|f| f.pass) {
            return;
        }
        det.gen = det.gen.wrapping_add(1);
        if det.gen == 0 {
            det.seen_rules.iter_mut().for_each(|x| *x = 0);
            det.gen = 1;
        }
        let started = det.profile.is_some().then(std::time::Instant::now);
        det.lower.clear();
        self.prefilter(det, pkt);
        let dir = match pkt.flow {
            Some(f) if !f.to_server => 1,
            _ => 0,
        };
        let class = proto_class(pkt.ip_proto);
        let iponly_done = flow.as_ref().is_some_and(|f| f.iponly_done[dir]);
        let mut ip_only = std::mem::take(&mut det.iponly);
        ip_only.clear();
        if !iponly_done && !self.ip_only[class].is_empty() {
            self.ip_only[class].candidates(pkt.src, pkt.dst, &mut ip_only);
        }
        let mut always = std::mem::take(&mut det.always);
        let ports = pkt.has_ports.then_some((pkt.sport, pkt.dport));
        self.always[class].candidates(ports, pkt.app_proto, &mut always);
        let hits = std::mem::take(&mut det.candidates);
        // The three lists are sorted and disjoint: merge them to keep rule order.
        let (mut a, mut b, mut c) = (0, 0, 0);
        loop {
            let next =
                [always.get(a), ip_only.get(b), hits.get(c)].into_iter().flatten().min().copied();
            let Some(r) = next else { break };
            if always.get(a) == Some(&r) {
                a += 1;
            } else if ip_only.get(b) == Some(&r) {
                b += 1;
            } else {
                c += 1;
            }
            let t = det.profile.is_some().then(std::time::Instant::now);
            let eval = self.eval_rule(r, det, pkt, &mut flow, out);
            if let (Some(t), Some(p)) = (t, det.profile.as_deref_mut()) {
                let cost = &mut p.rules[r as usize];
                cost.checks += 1;
                cost.matches += (eval != Eval::NoMatch) as u64;
                cost.nanos += since(t);
                p.unfiltered_checks += (hits.get(c.wrapping_sub(1)) != Some(&r)) as u64;
            }
            if eval == Eval::Pass {
                break;
            }
        }
        det.candidates = hits;
        det.iponly = ip_only;
        det.always = always;
        if let Some(f) = flow {
            f.iponly_done[dir] = true;
            if !out.is_empty() {
                f.alerted = true;
            }
        }
        // Deferred hits are counted where their threshold is decided.
        det.stats.alerts += out.iter().filter(|h| !h.threshold_deferred).count() as u64;
        if let (Some(t), Some(p)) = (started, det.profile.as_deref_mut()) {
            p.detect_calls += 1;
            p.detect_nanos += since(t);
        }
    }
}

#[cfg(test)]
mod tests;
