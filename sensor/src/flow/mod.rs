//! The flow table: bidirectional 5-tuple (+ VLAN) flows, per-state timeouts and a cap
//! on the number of flows (the oldest-expiring flow is evicted, and counted).

pub mod tcp;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;

use gatewatch_rules::engine::FlowState as DetectState;
use gatewatch_rules::engine::TcpInfo;
use serde::{Deserialize, Serialize};

pub use tcp::{TcpState, TcpTrack};

/// `[flow]`: flow table bounds and timeouts.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FlowConfig {
    /// Flows tracked at once; beyond this the flow closest to its timeout is evicted.
    pub max_flows: usize,
    /// Memory for flow state, in bytes: the cap becomes the smaller of `max_flows` and
    /// `memcap_bytes / FlowTable::BYTES_PER_FLOW`.
    pub memcap_bytes: usize,
    /// Seconds of inactivity before a TCP flow that never completed its handshake ends.
    pub tcp_new_timeout: u32,
    /// Seconds of inactivity before an established TCP flow ends.
    pub tcp_established_timeout: u32,
    /// Seconds after a TCP flow closed (FIN both ways, or RST) before it ends.
    pub tcp_closed_timeout: u32,
    /// UDP flow seen in one direction only.
    pub udp_new_timeout: u32,
    /// UDP flow seen in both directions.
    pub udp_established_timeout: u32,
    /// ICMP and every other protocol, one direction / both.
    pub other_new_timeout: u32,
    pub(crate) other_established_timeout: u32,
}

impl Default for FlowConfig {
    /// Suricata's defaults.
    fn default() -> Self {
        FlowConfig {
            max_flows: 262_144,
            memcap_bytes: 128 << 20,
            tcp_new_timeout: 60,
            tcp_established_timeout: 600,
            tcp_closed_timeout: 60,
            udp_new_timeout: 30,
            udp_established_timeout: 300,
            other_new_timeout: 30,
            other_established_timeout: 300,
        }
    }
}

impl FlowConfig {
    /// The longest a flow is kept after its last packet, in seconds.
    pub fn longest_timeout(&self) -> u32 {
        [
            self.tcp_new_timeout,
            self.tcp_established_timeout,
            self.tcp_closed_timeout,
            self.udp_new_timeout,
            self.udp_established_timeout,
            self.other_new_timeout,
            self.other_established_timeout,
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }
}

/// Both directions of a flow map to the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub proto: u8,
    pub lo: (IpAddr, u16),
    pub hi: (IpAddr, u16),
    pub vlan: [u16; 3],
}

impl FlowKey {
    pub fn new(proto: u8, src: (IpAddr, u16), dst: (IpAddr, u16), vlan: [u16; 3]) -> FlowKey {
        let (lo, hi) = if src <= dst { (src, dst) } else { (dst, src) };
        FlowKey { proto, lo, hi, vlan }
    }
}

/// Why a flow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    Timeout,
    /// Evicted at the flow cap.
    Forced,
    /// End of the capture.
    Shutdown,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Forced => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

#[derive(Debug)]
pub struct Flow {
    pub id: u64,
    pub key: FlowKey,
    /// The side that opened the flow.
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    pub proto: u8,
    pub vlan: [u16; 3],
    pub start_us: i64,
    pub last_us: i64,
    /// [to server, to client].
    pub pkts: [u64; 2],
    pub bytes: [u64; 2],
    pub tcp: Option<TcpTrack>,
    /// ICMP type/code of the first packet (for the EVE record).
    pub icmp: Option<(u8, u8)>,
    pub detect: DetectState,
    /// The application protocol, once identified.
    pub app_proto: Option<gatewatch_rules::signature::AppProto>,
    /// DNS transactions: (message id, tx id) of recent requests, and the next tx id.
    pub dns_txs: Vec<(u16, u64)>,
    pub dns_next_tx: u64,
    /// DNS messages seen in the flow.
    pub dns_messages: u64,
    /// Reassembly and application layer of a TCP session, once it carried data; for a
    /// UDP flow other than DNS (Kerberos), its application layer once identified.
    pub session: Option<Box<crate::app::session::TcpSession>>,
    /// Timeout deadline currently queued for this flow.
    deadline_us: i64,
}

impl Flow {
    pub fn seen_both(&self) -> bool {
        self.pkts[0] > 0 && self.pkts[1] > 0
    }

    /// flow:established, as Suricata defines it: a TCP session in the established state
    /// (the packet completing the handshake counts, a FIN does not); other protocols once
    /// both directions were seen.
    /// `established` for a packet carrying `payload_len` bytes. Application data on
    /// the handshake's last ACK counts as established: Suricata inspects it at a later
    /// packet of the session (once acknowledged), where the flow is established; here it
    /// is inspected on the packet that carries it.
    pub fn established_with(&self, payload_len: usize) -> bool {
        self.established()
            || (payload_len > 0 && self.tcp.as_ref().is_some_and(|t| t.completes_handshake))
    }

    pub fn established(&self) -> bool {
        match &self.tcp {
            // As Suricata: every state from the handshake's end on, closing ones too.
            Some(t) => t.packet_established,
            None => self.seen_both(),
        }
    }

    /// EVE `flow.state`.
    pub fn state_str(&self) -> &'static str {
        match &self.tcp {
            Some(t) if t.state == TcpState::Closed => "closed",
            Some(t) if t.was_established => "established",
            Some(_) => "new",
            None if self.seen_both() => "established",
            None => "new",
        }
    }

    fn timeout_secs(&self, cfg: &FlowConfig) -> u32 {
        match (&self.tcp, self.proto) {
            (Some(t), _) if t.state == TcpState::Closed => cfg.tcp_closed_timeout,
            (Some(t), _) if t.was_established => cfg.tcp_established_timeout,
            (Some(_), _) => cfg.tcp_new_timeout,
            (None, 17) if self.seen_both() => cfg.udp_established_timeout,
            (None, 17) => cfg.udp_new_timeout,
            (None, _) if self.seen_both() => cfg.other_established_timeout,
            (None, _) => cfg.other_new_timeout,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct FlowStats {
    pub created: u64,
    pub ended_timeout: u64,
    pub ended_shutdown: u64,
    /// Flows evicted because the table was full.
    pub evicted: u64,
    pub active: u64,
    /// Estimated bytes of flow state in use (`active * BYTES_PER_FLOW`).
    pub memuse: u64,
    /// Highest `memuse` seen.
    pub memuse_peak: u64,
    pub tcp: u64,
    pub udp: u64,
    pub icmpv4: u64,
    pub icmpv6: u64,
    pub other: u64,
}

/// Where a packet falls in its flow.
pub struct Lookup {
    pub slot: usize,
    pub to_server: bool,
}

pub struct FlowTable {
    cfg: FlowConfig,
    midstream: bool,
    map: HashMap<FlowKey, usize>,
    slots: Vec<Option<Flow>>,
    free: Vec<usize>,
    /// (deadline, slot, flow id): lazily re-checked when popped.
    timers: BinaryHeap<Reverse<(i64, usize, u64)>>,
    next_id: u64,
    pub stats: FlowStats,
}

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d049bb133111eb);
    x ^ (x >> 31)
}

impl FlowTable {
    /// Memory one tracked flow costs: the flow, its map entry and its timer (detection
    /// state that grows, such as flowbits, comes on top).
    pub const BYTES_PER_FLOW: usize = std::mem::size_of::<Option<Flow>>()
        + 2 * std::mem::size_of::<(FlowKey, usize)>()
        + std::mem::size_of::<(i64, usize, u64)>();

    /// The effective flow cap.
    pub fn capacity(&self) -> usize {
        self.cfg.max_flows.min(self.cfg.memcap_bytes / Self::BYTES_PER_FLOW).max(1)
    }

    /// Estimated bytes of flow state in use.
    pub fn memuse(&self) -> usize {
        self.map.len() * Self::BYTES_PER_FLOW
    }

    pub fn new(cfg: FlowConfig, midstream: bool) -> Self {
        FlowTable {
            cfg,
            midstream,
            map: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            timers: BinaryHeap::new(),
            next_id: 1,
            stats: FlowStats::default(),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, slot: usize) -> Option<&Flow> {
        self.slots.get(slot).and_then(|s| s.as_ref())
    }

    pub fn get_mut(&mut self, slot: usize) -> Option<&mut Flow> {
        self.slots.get_mut(slot).and_then(|s| s.as_mut())
    }

    /// The flow at `slot`, lent out of the table while work on it also needs the
    /// table's owner; [`FlowTable::put_back`] returns it.
    pub fn lend(&mut self, slot: usize) -> Option<Flow> {
        self.slots.get_mut(slot)?.take()
    }

    /// Returns a flow [`FlowTable::lend`] lent.
    pub fn put_back(&mut self, slot: usize, flow: Flow) {
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(flow);
        }
    }

    /// Ends every flow whose timeout passed at `now_us`, handing each to `ended`.
    pub fn expire(&mut self, now_us: i64, mut ended: impl FnMut(Flow, EndReason)) {
        while let Some(&Reverse((deadline, slot, id))) = self.timers.peek() {
            if deadline > now_us {
                break;
            }
            self.timers.pop();
            let Some(flow) = self.slots.get(slot).and_then(|s| s.as_ref()) else { continue };
            if flow.id != id {
                continue;
            }
            let real = flow.last_us + flow.timeout_secs(&self.cfg) as i64 * 1_000_000;
            if real > now_us {
                self.timers.push(Reverse((real, slot, id)));
                if let Some(f) = self.slots[slot].as_mut() {
                    f.deadline_us = real;
                }
                continue;
            }
            if let Some(f) = self.take(slot) {
                self.stats.ended_timeout += 1;
                ended(f, EndReason::Timeout);
            }
        }
    }

    fn take(&mut self, slot: usize) -> Option<Flow> {
        let f = self.slots.get_mut(slot)?.take()?;
        self.map.remove(&f.key);
        self.free.push(slot);
        self.stats.active = self.map.len() as u64;
        self.stats.memuse = self.memuse() as u64;
        self.stats.memuse_peak = self.stats.memuse_peak.max(self.stats.memuse);
        Some(f)
    }

    /// Ends all flows (end of capture).
    /// Every tracked flow, mutably (rule reloads carry flow state over).
    pub fn for_each_mut(&mut self, mut each: impl FnMut(&mut Flow)) {
        self.slots.iter_mut().flatten().for_each(&mut each);
    }

    pub fn drain(&mut self, mut ended: impl FnMut(Flow, EndReason)) {
        let mut slots: Vec<usize> = self.map.values().copied().collect();
        // Deterministic output: in order of flow start.
        slots.sort_by_key(|&s| self.slots[s].as_ref().map(|f| (f.start_us, f.id)));
        for s in slots {
            if let Some(f) = self.take(s) {
                self.stats.ended_shutdown += 1;
                ended(f, EndReason::Shutdown);
            }
        }
        self.timers.clear();
    }

    /// An ICMP error about a connection tracked here (`quoted`: protocol, source and
    /// destination of the packet it quotes) counts in that connection's flow, as in
    /// Suricata: to the server when the error comes from the flow's client address.
    /// `None` when no such flow is tracked (the caller decides: an ICMPv4 error is then
    /// inspected without a flow).
    pub fn track_icmp_error(
        &mut self,
        quoted: crate::decode::icmp::Quoted,
        vlan: [u16; 3],
        sender: IpAddr,
        wire_len: usize,
        now_us: i64,
    ) -> Option<Lookup> {
        let (proto, src, dst) = quoted;
        let slot = *self.map.get(&FlowKey::new(proto, src, dst, vlan))?;
        let flow = self.slots.get_mut(slot)?.as_mut()?;
        let to_server = sender == flow.client.0;
        let dir = usize::from(!to_server);
        flow.pkts[dir] += 1;
        flow.bytes[dir] += wire_len as u64;
        flow.last_us = flow.last_us.max(now_us);
        Some(Lookup { slot, to_server })
    }

    /// Finds or creates the flow of a packet and updates its counters and TCP state.
    #[allow(clippy::too_many_arguments)]
    pub fn track(
        &mut self,
        proto: u8,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        vlan: [u16; 3],
        tcp: Option<TcpInfo>,
        icmp: Option<(u8, u8)>,
        wire_len: usize,
        now_us: i64,
        mut evicted: impl FnMut(Flow, EndReason),
    ) -> Lookup {
        let key = FlowKey::new(proto, src, dst, vlan);
        let (slot, first) = match self.map.get(&key) {
            Some(&s) => (s, false),
            None => {
                if self.map.len() >= self.capacity() {
                    self.evict_one(&mut evicted);
                }
                // A SYN/ACK first means the destination opened the flow.
                let reversed = matches!(tcp, Some(t) if t.flags & 0x12 == 0x12);
                let (client, server) = if reversed { (dst, src) } else { (src, dst) };
                let id =
                    mix(self.next_id ^ (now_us as u64).rotate_left(17)) & 0x0007_ffff_ffff_ffff;
                self.next_id += 1;
                let flow = Flow {
                    id,
                    key,
                    client,
                    server,
                    proto,
                    vlan,
                    start_us: now_us,
                    last_us: now_us,
                    pkts: [0; 2],
                    bytes: [0; 2],
                    tcp: tcp.map(|t| TcpTrack::new(t, self.midstream)),
                    icmp,
                    detect: DetectState::default(),
                    app_proto: None,
                    dns_txs: Vec::new(),
                    dns_next_tx: 0,
                    dns_messages: 0,
                    session: None,
                    deadline_us: 0,
                };
                let slot = match self.free.pop() {
                    Some(s) => {
                        self.slots[s] = Some(flow);
                        s
                    }
                    None => {
                        self.slots.push(Some(flow));
                        self.slots.len() - 1
                    }
                };
                self.map.insert(key, slot);
                self.stats.created += 1;
                match proto {
                    6 => self.stats.tcp += 1,
                    17 => self.stats.udp += 1,
                    1 => self.stats.icmpv4 += 1,
                    58 => self.stats.icmpv6 += 1,
                    _ => self.stats.other += 1,
                }
                self.stats.active = self.map.len() as u64;
                self.stats.memuse = self.memuse() as u64;
                self.stats.memuse_peak = self.stats.memuse_peak.max(self.stats.memuse);
                (slot, true)
            }
        };
        let cfg = &self.cfg;
        let flow = self.slots[slot].as_mut().expect("slot of a mapped flow is occupied");
        let to_server = src == flow.client;
        let dir = if to_server { 0 } else { 1 };
        flow.pkts[dir] += 1;
        flow.bytes[dir] += wire_len as u64;
        flow.last_us = flow.last_us.max(now_us);
        if let (Some(t), Some(seg)) = (flow.tcp.as_mut(), tcp) {
            t.update(dir, seg, first);
        }
        if first {
            let deadline = now_us + flow.timeout_secs(cfg) as i64 * 1_000_000;
            flow.deadline_us = deadline;
            let id = flow.id;
            self.timers.push(Reverse((deadline, slot, id)));
        }
        Lookup { slot, to_server }
    }

    fn evict_one(&mut self, evicted: &mut impl FnMut(Flow, EndReason)) {
        while let Some(Reverse((_, slot, id))) = self.timers.pop() {
            if self.slots.get(slot).and_then(|s| s.as_ref()).is_some_and(|f| f.id == id) {
                if let Some(f) = self.take(slot) {
                    self.stats.evicted += 1;
                    evicted(f, EndReason::Forced);
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(flags: u8) -> TcpInfo {
        TcpInfo { flags, seq: 0, ack: 0, window: 0 }
    }

    fn ep(s: &str, p: u16) -> (IpAddr, u16) {
        (s.parse().unwrap(), p)
    }

    #[test]
    fn both_directions_share_a_flow() {
        let mut t = FlowTable::new(FlowConfig::default(), false);
        let a = t.track(
            6,
            ep("10.0.0.1", 1000),
            ep("10.0.0.2", 80),
            [0; 3],
            Some(seg(0x02)),
            None,
            60,
            0,
            |_, _| {},
        );
        let b = t.track(
            6,
            ep("10.0.0.2", 80),
            ep("10.0.0.1", 1000),
            [0; 3],
            Some(seg(0x12)),
            None,
            60,
            1,
            |_, _| {},
        );
        assert_eq!(a.slot, b.slot);
        assert!(a.to_server && !b.to_server);
        let c = t.track(
            6,
            ep("10.0.0.1", 1000),
            ep("10.0.0.2", 80),
            [0; 3],
            Some(seg(0x10)),
            None,
            60,
            2,
            |_, _| {},
        );
        let f = t.get(c.slot).unwrap();
        // As Suricata: the handshake's last ACK is not yet of an established session.
        assert!(!f.established());
        assert_eq!(f.pkts, [2, 1]);
        let d = t.track(
            6,
            ep("10.0.0.2", 80),
            ep("10.0.0.1", 1000),
            [0; 3],
            Some(seg(0x18)),
            None,
            60,
            3,
            |_, _| {},
        );
        assert!(t.get(d.slot).unwrap().established());
    }

    #[test]
    fn an_icmp_error_counts_in_the_flow_it_reports_on() {
        let mut t = FlowTable::new(FlowConfig::default(), false);
        let (client, server) = (ep("10.0.0.1", 5000), ep("10.0.0.2", 53));
        let a = t.track(17, client, server, [0; 3], None, None, 60, 0, |_, _| {});
        // From the server (port unreachable): to the client; quoted either way round.
        let b = t.track_icmp_error((17, client, server), [0; 3], server.0, 70, 5).unwrap();
        assert_eq!((b.slot, b.to_server), (a.slot, false));
        let c = t.track_icmp_error((17, server, client), [0; 3], client.0, 70, 6).unwrap();
        assert!(c.to_server);
        let f = t.get(a.slot).unwrap();
        assert_eq!((f.pkts, f.bytes, f.last_us), ([2, 1], [130, 70], 6));
        // No flow of that connection (or on another VLAN): none is created.
        assert!(t.track_icmp_error((6, client, server), [0; 3], server.0, 70, 7).is_none());
        assert!(t.track_icmp_error((17, client, server), [5, 0, 0], server.0, 70, 7).is_none());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn memcap_limits_the_flow_count() {
        let cfg =
            FlowConfig { memcap_bytes: FlowTable::BYTES_PER_FLOW * 3, ..FlowConfig::default() };
        let mut t = FlowTable::new(cfg, false);
        for i in 0..10u16 {
            t.track(
                17,
                ep("10.0.0.1", i),
                ep("10.0.0.2", 53),
                [0; 3],
                None,
                None,
                60,
                0,
                |_, _| {},
            );
        }
        assert_eq!(t.len(), 3);
        assert_eq!(t.stats.evicted, 7);
        assert_eq!(t.stats.memuse as usize, 3 * FlowTable::BYTES_PER_FLOW);
    }

    #[test]
    fn timeouts_and_cap() {
        let cfg = FlowConfig { max_flows: 2, ..FlowConfig::default() };
        let mut t = FlowTable::new(cfg, false);
        let mut ended = Vec::new();
        for i in 0..3u16 {
            t.track(
                17,
                ep("10.0.0.1", 1000 + i),
                ep("10.0.0.2", 53),
                [0; 3],
                None,
                None,
                60,
                i as i64,
                |f, r| ended.push((f.key, r)),
            );
        }
        assert_eq!(t.len(), 2);
        assert_eq!(t.stats.evicted, 1);
        assert_eq!(ended[0].1, EndReason::Forced);
        // Activity pushes the deadline: the flow at t=1 is touched at t=20s.
        t.track(
            17,
            ep("10.0.0.1", 1001),
            ep("10.0.0.2", 53),
            [0; 3],
            None,
            None,
            60,
            20_000_000,
            |_, _| {},
        );
        t.expire(31_000_000, |f, r| ended.push((f.key, r)));
        assert_eq!(t.len(), 1);
        assert_eq!(ended.last().unwrap().1, EndReason::Timeout);
        t.expire(51_000_000, |f, r| ended.push((f.key, r)));
        assert!(t.is_empty());
        assert_eq!(t.stats.ended_timeout, 2);
    }

    proptest::proptest! {
        /// Model check of the table: whatever the packets and clock, the cap holds, every
        /// flow ends exactly once, and no flow times out before its inactivity timeout.
        #[test]
        fn bounded_and_every_flow_ends_once(
            cap in 1usize..8,
            ops in proptest::collection::vec((0u8..3, 0u16..6, 0u16..3, 0u8..4, 0i64..90_000_000), 1..200),
        ) {
            let cfg = FlowConfig { max_flows: cap, ..FlowConfig::default() };
            let timeout_of = |proto: u8| -> i64 { if proto == 6 { 60 } else { 30 } };
            let mut t = FlowTable::new(cfg, true);
            let mut now = 0i64;
            let mut ended: Vec<(u64, EndReason)> = Vec::new();
            let mut last_seen: std::collections::HashMap<u64, (i64, u8)> = std::collections::HashMap::new();
            let mut created = std::collections::HashSet::new();
            for (proto_sel, sport, dport, flags_sel, step) in ops {
                now += step;
                let mut expired = Vec::new();
                t.expire(now, |f, r| expired.push((f.id, r, f.last_us, f.proto)));
                for (id, r, last, proto) in expired {
                    // Only new (never-established) flows here: the shortest timeout applies.
                    proptest::prop_assert!(now - last >= timeout_of(proto) * 1_000_000 || r != EndReason::Timeout);
                    ended.push((id, r));
                }
                let proto = [6u8, 17, 1][proto_sel as usize];
                let flags = [0x02u8, 0x12, 0x10, 0x04][flags_sel as usize];
                let a: IpAddr = "10.0.0.1".parse().unwrap();
                let b: IpAddr = "10.0.0.2".parse().unwrap();
                let (src, dst) = if sport % 2 == 0 { ((a, sport), (b, dport)) } else { ((b, dport), (a, sport)) };
                let look = t.track(proto, src, dst, [0; 3], (proto == 6).then_some(seg(flags)), None, 60, now, |f, r| ended.push((f.id, r)));
                let f = t.get(look.slot).unwrap();
                created.insert(f.id);
                last_seen.insert(f.id, (now, proto));
                proptest::prop_assert!(t.len() <= cap);
            }
            t.drain(|f, r| ended.push((f.id, r)));
            proptest::prop_assert!(t.is_empty());
            let mut ids: Vec<u64> = ended.iter().map(|e| e.0).collect();
            ids.sort_unstable();
            let before = ids.len();
            ids.dedup();
            proptest::prop_assert_eq!(before, ids.len(), "a flow ended twice");
            proptest::prop_assert_eq!(ids.len(), created.len(), "a flow never ended");
            let s = t.stats;
            proptest::prop_assert_eq!(s.created, s.ended_timeout + s.evicted + s.ended_shutdown);
        }
    }
}
