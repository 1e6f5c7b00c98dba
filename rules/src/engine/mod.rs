//! The compiled rule set and the per-thread detector.
//!
//! [`RuleSet::build`] orders the signatures as Suricata does (action, flowbits
//! set-before-read, priority), compiles their patterns and builds the prefilter. A worker
//! thread owns a [`Detector`] (scratch space, host thresholds, counters) and a
//! [`FlowState`] per flow (flowbits, flow thresholds), and calls [`RuleSet::detect`] on
//! every packet. The rules crate never sees a packet: the sensor fills a [`Packet`].

mod inspect;
mod iponly;
mod prefilter;
pub mod threshold;

use std::collections::HashMap;
use std::net::IpAddr;

pub use inspect::InspectStats;
use inspect::{Inspector, Needle};
use iponly::IpOnlyIndex;
use prefilter::{PatternSeen, Prefilter, PrefilterBuilder};
use threshold::{Entry, ThresholdTable};

use crate::signature::{
    Action, AppProto, Buffer, FlowbitCmd, HeaderCheck, PayloadMatch, Side, Signature, Track,
    Transform,
};

/// What the sensor tells the engine about one packet.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Packet time, seconds since the epoch (for thresholds).
    pub ts_secs: i64,
    pub ip_proto: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// 0 for protocols without ports.
    pub sport: u16,
    pub dport: u16,
    pub has_ports: bool,
    pub payload: &'a [u8],
    pub ttl: u8,
    pub ip_id: u16,
    /// IPv4 fragment bits: R=0x4, D=0x2, M=0x1.
    pub frag_bits: u8,
    /// The packet was rebuilt from fragments.
    pub defragmented: bool,
    pub tcp: Option<TcpInfo>,
    pub icmp: Option<IcmpInfo>,
    pub flow: Option<FlowView>,
    /// The application protocol of the flow, once identified.
    pub app_proto: Option<AppProto>,
    /// Sticky buffers parsed from this packet's application data; a buffer may appear
    /// several times (one DNS query name each), and a rule matches if any instance does.
    pub buffers: &'a [(Buffer, &'a [u8])],
    /// An extra inspection of one more application transaction completed by the same
    /// packet (pipelined requests): only rules with sticky buffers are tested, so that
    /// packet rules do not alert twice.
    pub tx_only: bool,
    /// Stream inspection of a TCP session: `payload` is the end of the bytes already
    /// seen followed by the new in-order bytes, which start at this offset. Only rules
    /// whose contents float (no offset, depth, anchors or packet size) are tested, and
    /// only a match spanning the offset counts: packet inspection finds the others.
    pub stream_split: Option<usize>,
    /// The payload was inspected before (a TCP retransmission): rules with payload
    /// matches do not match it again; packet rules (`dsize`, flags) still do.
    pub payload_seen: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct TcpInfo {
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
}

#[derive(Debug, Clone, Copy)]
pub struct IcmpInfo {
    pub itype: u8,
    pub icode: u8,
    /// Echo identifier and sequence, when the message has them.
    pub id: Option<u16>,
    pub seq: Option<u16>,
}

/// The packet's place in its flow.
#[derive(Debug, Clone, Copy)]
pub struct FlowView {
    /// Sent by the side that opened the flow.
    pub to_server: bool,
    pub established: bool,
}

/// Detection state kept per flow by the sensor.
#[derive(Debug, Default, Clone)]
pub struct FlowState {
    bits: Vec<u64>,
    flow_thresholds: Vec<(u32, Entry)>,
    /// IP-only rules were already tested in this direction (0 = to server, 1 = to client).
    iponly_done: [bool; 2],
    /// A `pass` rule matched: the flow is no longer inspected.
    pub pass: bool,
    /// At least one alert was raised on this flow.
    pub alerted: bool,
}

/// The map from one rule set's rule and flowbit indices to another's (see
/// [`RuleSet::migration_from`]); `None` where the new set has no counterpart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Migration {
    pub rules: Vec<Option<u32>>,
    pub flowbits: Vec<Option<u32>>,
}

impl Migration {
    pub fn rule(&self, old: u32) -> Option<u32> {
        self.rules.get(old as usize).copied().flatten()
    }
}

impl FlowState {
    /// Carries this flow's flowbits and flow thresholds over to a reloaded rule set;
    /// state of rules and flowbits the new set does not have is dropped.
    pub fn migrate(&mut self, m: &Migration) {
        let old = std::mem::take(&mut self.bits);
        for (i, new) in m.flowbits.iter().enumerate() {
            if let Some(n) = new {
                if old.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1) {
                    self.set_bit(*n, true);
                }
            }
        }
        self.flow_thresholds = std::mem::take(&mut self.flow_thresholds)
            .into_iter()
            .filter_map(|(r, e)| m.rule(r).map(|n| (n, e)))
            .collect();
    }

    fn bit(&self, i: u32) -> bool {
        self.bits.get(i as usize / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    fn set_bit(&mut self, i: u32, v: bool) {
        let w = i as usize / 64;
        if self.bits.len() <= w {
            if !v {
                return;
            }
            self.bits.resize(w + 1, 0);
        }
        if v {
            self.bits[w] |= 1 << (i % 64);
        } else {
            self.bits[w] &= !(1 << (i % 64));
        }
    }
}

/// A rule that matched and should be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index into [`RuleSet::signature`].
    pub rule: u32,
}

/// What a prefilter scans: a buffer after a chain of transforms.
struct BufferKey {
    buffer: Buffer,
    transforms: Vec<Transform>,
}

impl BufferKey {
    fn is(&self, buffer: Buffer, transforms: &[Transform]) -> bool {
        self.buffer == buffer && self.transforms == transforms
    }
}

struct Compiled {
    sig: Signature,
    needles: Vec<Option<Needle>>,
    /// Needles of each sticky buffer list, in the order of `sig.buffers`.
    buffer_needles: Vec<Vec<Option<Needle>>>,
    /// (command, flowbit ids).
    flowbits: Vec<(FlowbitCmd, Vec<u32>)>,
    /// The direction the rule's buffers come from: `Some(true)` to server (request
    /// buffers only), `Some(false)` to client (a response buffer).
    buffer_dir: Option<bool>,
    /// The rule can be tested on a stream window (see [`Packet::stream_split`]).
    floating: bool,
}

/// Counters of one detector.
#[derive(Debug, Default, Clone, Copy)]
pub struct DetectStats {
    pub packets: u64,
    pub rules_evaluated: u64,
    pub alerts: u64,
    pub alerts_suppressed: u64,
    pub alert_queue_overflow: u64,
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
    pub thresholds: SharedThresholds,
    pub stats: DetectStats,
}

/// At most this many alerts per packet (Suricata's `packet-alert-max`).
pub const MAX_ALERTS_PER_PACKET: usize = 15;

/// Bounds of a rule set's runtime state.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub threshold_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { threshold_entries: 65_536 }
    }
}

pub struct RuleSet {
    rules: Vec<Compiled>,
    /// One prefilter per buffer that some rule's fast pattern is in.
    prefilters: Vec<(BufferKey, Prefilter)>,
    /// Rules without a prefilter pattern, by protocol class (tcp, udp, icmp, other):
    /// tested on every packet of their protocol. IP-only rules apart: they are tested
    /// once per flow direction.
    always: [Vec<u32>; 4],
    ip_only: [IpOnlyIndex; 4],
    flowbit_names: Vec<String>,
    limits: Limits,
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

fn flowbits_rank(sig: &Signature) -> u8 {
    let write = sig
        .flowbits
        .iter()
        .any(|f| matches!(f.cmd, FlowbitCmd::Set | FlowbitCmd::Unset | FlowbitCmd::Toggle));
    let read =
        sig.flowbits.iter().any(|f| matches!(f.cmd, FlowbitCmd::IsSet | FlowbitCmd::IsNotSet));
    match (write, read) {
        (true, false) => 0,
        (true, true) => 1,
        (false, true) => 2,
        (false, false) => 3,
    }
}

impl RuleSet {
    /// Compiles signatures into a rule set.
    pub fn build(mut sigs: Vec<Signature>, limits: Limits) -> RuleSet {
        // Suricata's evaluation order; the sort is stable, so file order breaks ties.
        sigs.sort_by_key(|s| (s.action, flowbits_rank(s), s.priority));
        let mut names: HashMap<String, u32> = HashMap::new();
        let mut flowbit_names = Vec::new();
        let mut pfs: Vec<(BufferKey, PrefilterBuilder)> = Vec::new();
        let mut always: [Vec<u32>; 4] = Default::default();
        let mut ip_only_lists: [Vec<u32>; 4] = Default::default();
        let mut rules = Vec::with_capacity(sigs.len());
        for (idx, sig) in sigs.into_iter().enumerate() {
            let idx = idx as u32;
            let needles = needles_of(&sig.payload);
            let buffer_needles = sig.buffers.iter().map(|l| needles_of(&l.matches)).collect();
            let flowbits = sig
                .flowbits
                .iter()
                .map(|f| {
                    let ids = f
                        .names
                        .iter()
                        .map(|n| {
                            *names.entry(n.clone()).or_insert_with(|| {
                                flowbit_names.push(n.clone());
                                flowbit_names.len() as u32 - 1
                            })
                        })
                        .collect();
                    (f.cmd, ids)
                })
                .collect();
            let ip_only = sig.is_ip_only();
            match sig.fast_pattern() {
                Some((buffer, transforms, c)) => {
                    let pos = match pfs.iter().position(|(k, _)| k.is(buffer, transforms)) {
                        Some(p) => p,
                        None => {
                            let key = BufferKey { buffer, transforms: transforms.to_vec() };
                            pfs.push((key, PrefilterBuilder::default()));
                            pfs.len() - 1
                        }
                    };
                    pfs[pos].1.add(idx, c.prefilter_bytes(), c.nocase);
                }
                None => {
                    let lists = if ip_only { &mut ip_only_lists } else { &mut always };
                    for (class, list) in lists.iter_mut().enumerate() {
                        if proto_class_matches(sig.proto, class) {
                            list.push(idx);
                        }
                    }
                }
            }
            let sides = sig.buffers.iter().map(|l| l.buffer.side());
            let buffer_dir = sides.fold(None, |dir, side| match (dir, side) {
                (_, Side::Response) | (Some(false), _) => Some(false),
                (_, Side::Request) => Some(true),
                (d, Side::Either) => d,
            });
            let floating = is_floating(&sig);
            rules.push(Compiled { sig, needles, buffer_needles, flowbits, buffer_dir, floating });
        }
        let ip_only = ip_only_lists.map(|l| IpOnlyIndex::build(&l, |r| &rules[r as usize].sig));
        RuleSet {
            id: NEXT_SET_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            rules,
            prefilters: pfs
                .into_iter()
                .map(|(k, p)| {
                    let bulk = matches!(
                        k.buffer,
                        Buffer::Payload | Buffer::FileData | Buffer::HttpRequestBody
                    );
                    (k, p.build(bulk))
                })
                .collect(),
            always,
            ip_only,
            flowbit_names,
            limits,
        }
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn signature(&self, rule: u32) -> &Signature {
        &self.rules[rule as usize].sig
    }

    pub fn signatures(&self) -> impl Iterator<Item = &Signature> {
        self.rules.iter().map(|c| &c.sig)
    }

    pub fn prefilter_patterns(&self) -> usize {
        self.prefilters.iter().map(|(_, p)| p.pattern_count()).sum()
    }

    pub fn flowbit_names(&self) -> &[String] {
        &self.flowbit_names
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
        Migration {
            rules: old.rules.iter().map(|c| by_id.get(&(c.sig.gid, c.sig.sid)).copied()).collect(),
            flowbits: old.flowbit_names.iter().map(|n| bits.get(n.as_str()).copied()).collect(),
        }
    }

    /// A detector for this set that keeps the host thresholds and counters of `old`
    /// (a detector of the set `m` was computed from). A threshold table shared by
    /// several workers is re-keyed once, by the first of them.
    pub fn detector_from(&self, old: Detector, m: &Migration) -> Detector {
        let mut det = self.detector();
        det.thresholds = old.thresholds;
        {
            let mut t = lock(&det.thresholds);
            if t.set_id != self.id {
                t.migrate(m);
                t.set_id = self.id;
            }
        }
        det.stats = old.stats;
        det
    }

    /// An empty host threshold table for this set, to share between workers.
    pub fn threshold_table(&self) -> SharedThresholds {
        let table = ThresholdTable::new(self.limits.threshold_entries, self.id);
        std::sync::Arc::new(std::sync::Mutex::new(table))
    }

    /// A detector that shares `other`'s host thresholds (another worker's).
    pub fn detector_sharing(&self, other: &SharedThresholds) -> Detector {
        Detector { thresholds: other.clone(), ..self.detector() }
    }

    /// A fresh detector for one worker thread.
    pub fn detector(&self) -> Detector {
        Detector {
            seen_rules: vec![0; self.rules.len()],
            gen: 1,
            candidates: Vec::new(),
            iponly: Vec::new(),
            patterns: self.prefilters.iter().map(|(_, p)| PatternSeen::new(p.sizes())).collect(),
            thresholds: self.threshold_table(),
            stats: DetectStats::default(),
        }
    }

    /// Tests one packet; pushes the alerts to raise onto `out` (cleared first).
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
        let gen = det.gen;
        det.candidates.clear();
        {
            let Detector { seen_rules, candidates, patterns, .. } = det;
            let mut push = |r: u32| {
                let m = &mut seen_rules[r as usize];
                if *m != gen {
                    *m = gen;
                    candidates.push(r);
                }
            };
            for ((key, pf), seen) in self.prefilters.iter().zip(patterns.iter_mut()) {
                if key.buffer == Buffer::Payload {
                    if !pkt.payload.is_empty() {
                        seen.next_buffer();
                        pf.scan(pkt.payload, seen, &mut push);
                    }
                    continue;
                }
                for (_, data) in pkt.buffers.iter().filter(|(b, _)| *b == key.buffer) {
                    seen.next_buffer();
                    if key.transforms.is_empty() {
                        pf.scan(data, seen, &mut push);
                    } else {
                        pf.scan(&Transform::apply_all(&key.transforms, data), seen, &mut push);
                    }
                }
            }
            candidates.sort_unstable();
        }
        let dir = match pkt.flow {
            Some(f) if !f.to_server => 1,
            _ => 0,
        };
        let class = proto_class(pkt.ip_proto);
        let iponly_done = flow.as_ref().is_some_and(|f| f.iponly_done[dir]);
        let mut ip_only = std::mem::take(&mut det.iponly);
        ip_only.clear();
        let stream_pass = pkt.stream_split.is_some();
        if !iponly_done && !stream_pass && !self.ip_only[class].is_empty() {
            self.ip_only[class].candidates(pkt.src, pkt.dst, &mut ip_only);
        }
        let always: &[u32] = if stream_pass { &[] } else { &self.always[class] };
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
            if self.eval_rule(r, det, pkt, &mut flow, out) {
                break;
            }
        }
        det.candidates = hits;
        det.iponly = ip_only;
        if let Some(f) = flow {
            f.iponly_done[dir] = true;
            if !out.is_empty() {
                f.alerted = true;
            }
        }
        det.stats.alerts += out.len() as u64;
    }

    /// Tests rule `r`; applies its side effects and queues its alert. Returns true when a
    /// `pass` rule matched and inspection of the packet stops.
    fn eval_rule(
        &self,
        r: u32,
        det: &mut Detector,
        pkt: &Packet<'_>,
        flow: &mut Option<&mut FlowState>,
        out: &mut Vec<Hit>,
    ) -> bool {
        let c = &self.rules[r as usize];
        det.stats.rules_evaluated += 1;
        if !self.rule_matches(c, det, pkt, flow.as_deref()) {
            return false;
        }
        // Side effects first: flowbits change even when the alert is suppressed.
        if let Some(f) = flow.as_deref_mut() {
            for (cmd, ids) in &c.flowbits {
                for &id in ids {
                    match cmd {
                        FlowbitCmd::Set => f.set_bit(id, true),
                        FlowbitCmd::Unset => f.set_bit(id, false),
                        FlowbitCmd::Toggle => {
                            let v = f.bit(id);
                            f.set_bit(id, !v)
                        }
                        FlowbitCmd::IsSet | FlowbitCmd::IsNotSet => {}
                    }
                }
            }
        }
        if c.sig.action == Action::Pass {
            if let Some(f) = flow.as_deref_mut() {
                f.pass = true;
            }
            return true;
        }
        if c.sig.noalert {
            return false;
        }
        if let Some(t) = &c.sig.threshold {
            let alert = if t.track == Track::ByFlow {
                match flow.as_deref_mut() {
                    Some(f) => {
                        let pos = f.flow_thresholds.iter().position(|(rr, _)| *rr == r);
                        let e = match pos {
                            Some(p) => &mut f.flow_thresholds[p].1,
                            None => {
                                f.flow_thresholds.push((r, Entry::default()));
                                &mut f.flow_thresholds.last_mut().expect("just pushed").1
                            }
                        };
                        e.hit(t, pkt.ts_secs)
                    }
                    None => true,
                }
            } else {
                lock(&det.thresholds).hit(r, t, pkt.src, pkt.dst, pkt.ts_secs)
            };
            if !alert {
                det.stats.alerts_suppressed += 1;
                return false;
            }
        }
        if out.len() >= MAX_ALERTS_PER_PACKET {
            det.stats.alert_queue_overflow += 1;
            return false;
        }
        out.push(Hit { rule: r });
        false
    }

    fn rule_matches(
        &self,
        c: &Compiled,
        det: &mut Detector,
        pkt: &Packet<'_>,
        flow: Option<&FlowState>,
    ) -> bool {
        let s = &c.sig;
        if !s.proto.matches(pkt.ip_proto) {
            return false;
        }
        if !pkt.has_ports && (!s.src_ports.any || !s.dst_ports.any) {
            return false;
        }
        let fwd = s.src.contains(pkt.src)
            && s.dst.contains(pkt.dst)
            && s.src_ports.contains(pkt.sport)
            && s.dst_ports.contains(pkt.dport);
        let rev = s.bidirectional
            && s.src.contains(pkt.dst)
            && s.dst.contains(pkt.src)
            && s.src_ports.contains(pkt.dport)
            && s.dst_ports.contains(pkt.sport);
        if !fwd && !rev {
            return false;
        }
        let fc = &s.flow;
        if let Some(to_server) = fc.to_server {
            match pkt.flow {
                Some(f) if f.to_server == to_server => {}
                _ => return false,
            }
        }
        if let Some(est) = fc.established {
            let is = pkt.flow.is_some_and(|f| f.established);
            if is != est {
                return false;
            }
        }
        if let Some(frag) = fc.frag {
            if pkt.defragmented != frag {
                return false;
            }
        }
        if let Some(d) = s.dsize {
            if !d.matches(pkt.payload.len() as u64) {
                return false;
            }
        }
        for h in &s.header_checks {
            if !header_check(h, pkt) {
                return false;
            }
        }
        for (cmd, ids) in &c.flowbits {
            let any_set = ids.iter().any(|&id| flow.is_some_and(|f| f.bit(id)));
            let any_unset = ids.iter().any(|&id| !flow.is_some_and(|f| f.bit(id)));
            match cmd {
                FlowbitCmd::IsSet if !any_set => return false,
                FlowbitCmd::IsNotSet if !any_unset => return false,
                _ => {}
            }
        }
        if pkt.tx_only && s.buffers.is_empty() {
            return false;
        }
        if let (Some(want), Some(f)) = (c.buffer_dir, pkt.flow) {
            if want != f.to_server {
                return false;
            }
        }
        if let Some(app) = s.app_proto {
            if pkt.app_proto != Some(app) {
                return false;
            }
        }
        if pkt.stream_split.is_some() && !c.floating {
            return false;
        }
        if !s.payload.is_empty() {
            if pkt.payload.is_empty() || pkt.payload_seen {
                return false;
            }
            let stats = &mut det.stats.inspect;
            if !Inspector::run_crossing(
                &s.payload,
                &c.needles,
                pkt.payload,
                pkt.stream_split,
                stats,
            ) {
                return false;
            }
        }
        for (list, needles) in s.buffers.iter().zip(&c.buffer_needles) {
            let stats = &mut det.stats.inspect;
            let any = pkt.buffers.iter().filter(|(b, _)| *b == list.buffer).any(|(_, data)| {
                if list.transforms.is_empty() {
                    Inspector::run(&list.matches, needles, data, stats)
                } else {
                    let data = Transform::apply_all(&list.transforms, data);
                    Inspector::run(&list.matches, needles, &data, stats)
                }
            });
            if !any {
                return false;
            }
        }
        true
    }
}

/// Contents only, none tied to a position in the packet.
fn is_floating(sig: &Signature) -> bool {
    let contents_float = sig.payload.iter().all(|m| match m {
        PayloadMatch::Content(c) => {
            c.offset.is_none() && c.depth.is_none() && !c.startswith && !c.endswith
        }
        _ => false,
    });
    let positive = sig.payload.iter().any(|m| matches!(m, PayloadMatch::Content(c) if !c.negated));
    contents_float && positive && sig.buffers.is_empty() && sig.dsize.is_none()
}

fn needles_of(list: &[PayloadMatch]) -> Vec<Option<Needle>> {
    list.iter()
        .map(|m| match m {
            PayloadMatch::Content(c) => Some(Needle::new(c)),
            _ => None,
        })
        .collect()
}

/// Protocol class of a packet: 0 tcp, 1 udp, 2 icmp (v4 and v6), 3 any other.
fn proto_class(ip_proto: u8) -> usize {
    match ip_proto {
        6 => 0,
        17 => 1,
        1 | 58 => 2,
        _ => 3,
    }
}

fn proto_class_matches(proto: crate::signature::Proto, class: usize) -> bool {
    use crate::signature::Proto;
    match proto {
        Proto::Ip => true,
        Proto::Tcp => class == 0,
        Proto::Udp => class == 1,
        Proto::Icmp | Proto::Icmpv6 => class == 2,
    }
}

fn header_check(h: &HeaderCheck, p: &Packet<'_>) -> bool {
    match h {
        HeaderCheck::IcmpType(n) => p.icmp.is_some_and(|i| n.matches(i.itype as u64)),
        HeaderCheck::IcmpCode(n) => p.icmp.is_some_and(|i| n.matches(i.icode as u64)),
        HeaderCheck::IcmpId(v) => p.icmp.and_then(|i| i.id) == Some(*v),
        HeaderCheck::IcmpSeq(v) => p.icmp.and_then(|i| i.seq) == Some(*v),
        HeaderCheck::Ttl(n) => n.matches(p.ttl as u64),
        HeaderCheck::IpProto(n) => n.matches(p.ip_proto as u64),
        HeaderCheck::IpId(v) => p.ip_id == *v,
        HeaderCheck::TcpSeq(v) => p.tcp.is_some_and(|t| t.seq == *v),
        HeaderCheck::TcpAck(v) => p.tcp.is_some_and(|t| t.ack == *v),
        HeaderCheck::TcpWindow { value, negated } => {
            p.tcp.is_some_and(|t| (t.window == *value) != *negated)
        }
        HeaderCheck::TcpFlags { flags, mask, mode } => {
            p.tcp.is_some_and(|t| mode.matches(t.flags & !mask, *flags))
        }
        HeaderCheck::FragBits { bits, mode } => mode.matches(p.frag_bits, *bits),
        HeaderCheck::SameIp => p.src == p.dst,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{Origin, Vars};

    fn set(rules: &[&str]) -> RuleSet {
        let sigs = rules
            .iter()
            .map(|r| {
                Signature::parse(r, &Vars::default(), Origin { file: "t".into(), line: 1 }).unwrap()
            })
            .collect();
        RuleSet::build(sigs, Limits::default())
    }

    fn pkt(payload: &[u8]) -> Packet<'_> {
        Packet {
            ts_secs: 0,
            ip_proto: 6,
            src: "10.0.0.1".parse().unwrap(),
            dst: "8.8.8.8".parse().unwrap(),
            sport: 1234,
            dport: 80,
            has_ports: true,
            payload,
            ttl: 64,
            ip_id: 1,
            frag_bits: 0,
            defragmented: false,
            tcp: Some(TcpInfo { flags: 0x18, seq: 1, ack: 1, window: 100 }),
            icmp: None,
            flow: Some(FlowView { to_server: true, established: true }),
            app_proto: None,
            buffers: &[],
            tx_only: false,
            stream_split: None,
            payload_seen: false,
        }
    }

    fn sids(rs: &RuleSet, det: &mut Detector, p: &Packet<'_>, f: &mut FlowState) -> Vec<u32> {
        let mut out = Vec::new();
        rs.detect(det, p, Some(f), &mut out);
        out.iter().map(|h| rs.signature(h.rule).sid).collect()
    }

    #[test]
    fn prefilter_and_header() {
        let rs = set(&[
            r#"alert tcp any any -> any 80 (content:"GET"; sid:1;)"#,
            r#"alert tcp any any -> any 443 (content:"GET"; sid:2;)"#,
            r#"alert tcp any any -> any any (content:"nope"; sid:3;)"#,
            r#"alert udp any any -> any any (sid:4;)"#,
            r#"alert tcp any any -> any any (flow:to_client; sid:5;)"#,
        ]);
        let mut det = rs.detector();
        let mut f = FlowState::default();
        assert_eq!(sids(&rs, &mut det, &pkt(b"GET /"), &mut f), vec![1]);
    }

    #[test]
    fn reload_carries_flowbits_by_name_and_thresholds_by_sid() {
        let old = set(&[
            r#"alert tcp any any -> any any (content:"A"; flowbits:set,x; flowbits:noalert; sid:1;)"#,
            r#"alert tcp any any -> any any (flowbits:isset,x; content:"B"; sid:2;)"#,
            r#"alert tcp any any -> any any (content:"C"; threshold:type limit, track by_src, count 1, seconds 60; sid:3;)"#,
            r#"alert tcp any any -> any any (content:"D"; threshold:type limit, track by_flow, count 1, seconds 60; sid:4;)"#,
        ]);
        let mut det = old.detector();
        let mut f = FlowState::default();
        assert!(sids(&old, &mut det, &pkt(b"A"), &mut f).is_empty());
        assert_eq!(sids(&old, &mut det, &pkt(b"C"), &mut f), vec![3]);
        assert_eq!(sids(&old, &mut det, &pkt(b"D"), &mut f), vec![4]);
        // The new set adds a flowbit and a rule first, so every index moves.
        let new = set(&[
            r#"alert tcp any any -> any any (content:"Z"; flowbits:set,y; sid:9;)"#,
            r#"alert tcp any any -> any any (flowbits:isset,x; content:"B"; sid:2;)"#,
            r#"alert tcp any any -> any any (content:"D"; threshold:type limit, track by_flow, count 1, seconds 60; sid:4;)"#,
            r#"alert tcp any any -> any any (content:"C"; threshold:type limit, track by_src, count 1, seconds 60; sid:3;)"#,
            r#"alert tcp any any -> any any (content:"A"; flowbits:set,x; flowbits:noalert; sid:1;)"#,
        ]);
        let m = new.migration_from(&old);
        let mut det = new.detector_from(det, &m);
        f.migrate(&m);
        assert_eq!(sids(&new, &mut det, &pkt(b"B"), &mut f), vec![2], "flowbit x survives");
        assert!(sids(&new, &mut det, &pkt(b"C"), &mut f).is_empty(), "host threshold survives");
        assert!(sids(&new, &mut det, &pkt(b"D"), &mut f).is_empty(), "flow threshold survives");
        // Without migration the same packets alert again: the test can fail.
        let mut fresh = FlowState::default();
        let mut det2 = new.detector();
        assert!(sids(&new, &mut det2, &pkt(b"B"), &mut fresh).is_empty());
        assert_eq!(sids(&new, &mut det2, &pkt(b"C"), &mut fresh), vec![3]);
        // A rule gone from the new set leaves no state behind.
        let gone =
            set(&[r#"alert tcp any any -> any any (flowbits:isset,x; content:"B"; sid:2;)"#]);
        let m2 = gone.migration_from(&new);
        assert_eq!(m2.rule(0), None);
        f.migrate(&m2);
        assert!(f.flow_thresholds.is_empty());
    }

    #[test]
    fn flowbits_order_set_before_read() {
        // The reader comes first in the file; the setter still runs first.
        let rs = set(&[
            r#"alert tcp any any -> any any (flowbits:isset,x; content:"B"; sid:2;)"#,
            r#"alert tcp any any -> any any (content:"A"; flowbits:set,x; flowbits:noalert; sid:1;)"#,
        ]);
        let mut det = rs.detector();
        let mut f = FlowState::default();
        assert_eq!(sids(&rs, &mut det, &pkt(b"AB"), &mut f), vec![2]);
        let mut f2 = FlowState::default();
        assert!(sids(&rs, &mut det, &pkt(b"B"), &mut f2).is_empty());
    }

    #[test]
    fn ip_only_once_per_direction_and_pass() {
        let rs = set(&[
            r#"alert ip any any -> any any (sid:1;)"#,
            r#"pass tcp any any -> any 80 (content:"ok"; sid:2;)"#,
            r#"alert tcp any any -> any 80 (content:"ok"; sid:3;)"#,
        ]);
        let mut det = rs.detector();
        let mut f = FlowState::default();
        assert_eq!(sids(&rs, &mut det, &pkt(b"x"), &mut f), vec![1]);
        assert!(sids(&rs, &mut det, &pkt(b"x"), &mut f).is_empty());
        assert!(sids(&rs, &mut det, &pkt(b"ok"), &mut f).is_empty());
        assert!(f.pass);
    }

    #[test]
    fn sticky_buffers_and_app_proto() {
        let rs = set(&[
            r#"alert dns any any -> any any (msg:"q"; content:"|01 00 00 01|"; offset:2; depth:4; dns_query; content:"evil"; sid:1;)"#,
            r#"alert udp any any -> any any (dns.query; content:"EXAMPLE"; nocase; endswith; sid:2;)"#,
            r#"alert dns any any -> any any (content:"zzz"; sid:3;)"#,
            r#"alert udp any any -> any any (dns.query; content:".org"; sid:4;)"#,
        ]);
        assert_eq!(rs.signature(0).buffers.len(), 1);
        let mut det = rs.detector();
        let payload = b"\x12\x34\x01\x00\x00\x01...";
        let bufs: [(Buffer, &[u8]); 2] =
            [(Buffer::DnsQuery, b"www.evil.example"), (Buffer::DnsQuery, b"b.example")];
        let mut p = pkt(payload);
        p.ip_proto = 17;
        p.tcp = None;
        p.buffers = &bufs;
        let mut f = FlowState::default();
        // Not yet identified as DNS: only the protocol-agnostic rule matches.
        assert_eq!(sids(&rs, &mut det, &p, &mut f), vec![2]);
        p.app_proto = Some(AppProto::Dns);
        let mut got = sids(&rs, &mut det, &p, &mut FlowState::default());
        got.sort();
        assert_eq!(got, vec![1, 2]);
    }

    #[test]
    fn transforms_and_bsize() {
        let rs = set(&[
            // dotprefix: the domain and its subdomains, not a longer name ending alike.
            r#"alert dns any any -> any any (dns.query; dotprefix; content:".example.org"; endswith; sid:1;)"#,
            r#"alert dns any any -> any any (dns.query; bsize:<8; sid:2;)"#,
            r#"alert dns any any -> any any (dns.query; to_uppercase; content:"MIXED"; sid:3;)"#,
            r#"alert dns any any -> any any (dns.query; strip_whitespace; content:"ab"; bsize:2; sid:4;)"#,
            r#"alert dns any any -> any any (dns.query; url_decode; content:"a b/"; sid:5;)"#,
        ]);
        let mut det = rs.detector();
        let run = |det: &mut Detector, name: &[u8]| {
            let bufs: [(Buffer, &[u8]); 1] = [(Buffer::DnsQuery, name)];
            let mut p = pkt(b"q");
            p.ip_proto = 17;
            p.tcp = None;
            p.app_proto = Some(AppProto::Dns);
            p.buffers = &bufs;
            let mut got = sids(&rs, det, &p, &mut FlowState::default());
            got.sort();
            got
        };
        assert_eq!(run(&mut det, b"example.org"), vec![1]);
        assert_eq!(run(&mut det, b"www.example.org"), vec![1]);
        assert!(run(&mut det, b"badexample.org").is_empty());
        assert_eq!(run(&mut det, b"a.b"), vec![2]);
        assert_eq!(run(&mut det, b"some.MiXeD.name"), vec![3]);
        assert_eq!(run(&mut det, b"a \tb"), vec![2, 4]);
        assert_eq!(run(&mut det, b"x.a+b%2F.zz"), vec![5]);
        // A lone or malformed escape stays as it is.
        assert!(run(&mut det, b"xx.a+b%2G").is_empty());
        assert!(run(&mut det, b"xxxx.a+b%2").is_empty());
    }

    #[test]
    fn tls_version_keyword() {
        let rs = set(&[r#"alert tls any any -> any any (tls.version:1.2; sid:1;)"#]);
        let mut det = rs.detector();
        let run = |det: &mut Detector, v: &[u8]| {
            let bufs: [(Buffer, &[u8]); 1] = [(Buffer::TlsVersion, v)];
            let mut p = pkt(b"");
            p.app_proto = Some(AppProto::Tls);
            p.flow = Some(FlowView { to_server: false, established: true });
            p.buffers = &bufs;
            sids(&rs, det, &p, &mut FlowState::default())
        };
        assert_eq!(run(&mut det, b"1.2"), vec![1]);
        assert!(run(&mut det, b"1.3").is_empty());
        assert!(run(&mut det, b"1.2.1").is_empty());
        assert!(Signature::parse(
            "alert tls any any -> any any (tls.version:9.9; sid:2;)",
            &Vars::default(),
            Origin { file: "t".into(), line: 1 }
        )
        .is_err());
    }

    #[test]
    fn thresholds_by_src() {
        let rs = set(&[
            r#"alert tcp any any -> any any (content:"x"; threshold:type limit, track by_src, count 2, seconds 60; sid:1;)"#,
        ]);
        let mut det = rs.detector();
        let n: usize =
            (0..5).map(|_| sids(&rs, &mut det, &pkt(b"x"), &mut FlowState::default()).len()).sum();
        assert_eq!(n, 2);
        assert_eq!(det.stats.alerts_suppressed, 3);
    }
}
