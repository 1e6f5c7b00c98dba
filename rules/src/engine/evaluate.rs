//! Testing one rule on one packet: header, flow, flowbits, payload and sticky buffers,
//! then its side effects (flowbits, `pass`) and thresholds.

use super::compile::{Compiled, PayloadMode};
use super::hostbits;
use super::inspect::{ByteVars, Inspector, Lower, StreamView};
use super::threshold::Entry;
use super::{lock, Detector, FlowState, Hit, Packet, RuleSet, MAX_ALERTS_PER_PACKET};
use crate::signature::tag::TagBudget;
use crate::signature::{
    Action, Buffer, ByteCmp, FlowIntOp, FlowIntValue, FlowbitCmd, HeaderCheck, PayloadMatch,
    StreamSide, Track, Transform,
};

/// The outcome of testing one rule on one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Eval {
    NoMatch,
    /// The rule matched (whether or not it alerts).
    Matched,
    /// A `pass` rule matched: inspection of the packet stops.
    Pass,
}

impl RuleSet {
    /// Tests rule `r`; applies its side effects and queues its alert.
    pub(super) fn eval_rule(
        &self,
        r: u32,
        det: &mut Detector,
        pkt: &Packet<'_>,
        flow: &mut Option<&mut FlowState>,
        out: &mut Vec<Hit>,
    ) -> Eval {
        let c = &self.rules[r as usize];
        det.stats.rules_evaluated += 1;
        if !self.rule_matches(c, det, pkt, flow.as_deref()) {
            return Eval::NoMatch;
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
        if let Some(f) = flow.as_deref_mut() {
            apply_flowints(c, f);
            self.record_flow_vars(c, pkt, f);
        }
        if c.sig.hostbits.iter().any(|b| !matches!(b.cmd, FlowbitCmd::IsSet | FlowbitCmd::IsNotSet))
        {
            let mut t = hostbits::lock(&det.hostbits);
            for b in &c.sig.hostbits {
                t.apply(b, pkt.src, pkt.dst, pkt.ts_secs);
            }
        }
        if !c.sig.tags.is_empty() {
            self.start_tags(c, det, pkt, flow.as_deref_mut());
        }
        if c.sig.action == Action::Pass {
            if let Some(f) = flow.as_deref_mut() {
                f.pass = true;
            }
            if c.sig.alert_on_pass && out.len() < MAX_ALERTS_PER_PACKET {
                out.push(Hit {
                    rule: r,
                    threshold_deferred: false,
                    context: self.alert_context(c, pkt),
                });
            }
            return Eval::Pass;
        }
        if c.sig.noalert {
            return Eval::Matched;
        }
        let mut threshold_deferred = false;
        if let Some(t) = &c.sig.threshold {
            threshold_deferred = t.track != Track::ByFlow && det.defer_host_thresholds;
            let alert = if threshold_deferred {
                true
            } else if t.track == Track::ByFlow {
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
                return Eval::Matched;
            }
        }
        if out.len() >= MAX_ALERTS_PER_PACKET {
            det.stats.alert_queue_overflow += 1;
            return Eval::Matched;
        }
        let context = self.alert_context(c, pkt);
        out.push(Hit { rule: r, threshold_deferred, context });
        Eval::Matched
    }

    /// The tags of a rule that matched: the session's budget on the flow, a host's in
    /// the table shared by all workers.
    fn start_tags(
        &self,
        c: &Compiled,
        det: &mut Detector,
        pkt: &Packet<'_>,
        flow: Option<&mut FlowState>,
    ) {
        let mut flow = flow;
        for t in &c.sig.tags {
            let budget = TagBudget::start(t, pkt.ts_secs, pkt.wire_len);
            if t.session {
                if let Some(f) = flow.as_deref_mut() {
                    f.session_tag = Some(budget);
                }
            } else {
                let host = if t.dst { pkt.dst } else { pkt.src };
                hostbits::lock(&det.hostbits).tag_host(host, c.sig.sid, budget);
            }
        }
    }

    /// The context of the `format json` dataset values of a matching rule: for each
    /// such keyword, the JSON of the first buffer instance the set holds.
    fn alert_context(
        &self,
        c: &Compiled,
        pkt: &Packet<'_>,
    ) -> Option<Box<serde_json::Map<String, serde_json::Value>>> {
        if !c.dataset_context {
            return None;
        }
        let mut out = serde_json::Map::new();
        for list in &c.sig.buffers {
            let keyed = list.matches.iter().filter_map(|m| match m {
                PayloadMatch::Dataset(d) => d.context_key.as_ref().map(|k| (k, d)),
                _ => None,
            });
            for (key, d) in keyed {
                let lookup = |data: &[u8]| {
                    if list.transforms.is_empty() {
                        d.set.context(data)
                    } else {
                        d.set.context(&Transform::apply_all(&list.transforms, data))
                    }
                };
                let mut found = None;
                any_instance(pkt, list.buffer, |data| {
                    found = lookup(data);
                    found.is_some()
                });
                if let Some(v) = found {
                    out.insert(key.clone(), (*v).clone());
                }
            }
        }
        (!out.is_empty()).then(|| Box::new(out))
    }

    pub(super) fn rule_matches(
        &self,
        c: &Compiled,
        det: &mut Detector,
        pkt: &Packet<'_>,
        flow: Option<&FlowState>,
    ) -> bool {
        let s = &c.sig;
        if !header_matches(s, pkt) || !state_holds(c, det, pkt, flow) {
            return false;
        }
        if pkt.tx_only && s.buffers.iter().all(|l| l.buffer.is_address()) {
            return false;
        }
        if let (Some(want), Some(f)) = (c.buffer_dir, pkt.flow) {
            if want != f.to_server {
                return false;
            }
        }
        let mut vars: ByteVars = Default::default();
        if !s.payload.is_empty() && !Self::payload_matches(c, det, pkt, &mut vars) {
            return false;
        }
        for (list, needles) in s.buffers.iter().zip(&c.buffer_needles) {
            if list.direction.is_some_and(|d| pkt.flow.is_some_and(|f| f.to_server != d)) {
                return false;
            }
            let Detector { stats, lower, .. } = &mut *det;
            let stats = &mut stats.inspect;
            let v = &mut vars;
            if let Some(or_else) = list.absent.filter(|_| !list.buffer.is_address()) {
                let present = pkt.buffers.iter().any(|(b, _)| *b == list.buffer);
                if !present {
                    // Missing from the transaction being inspected: some other buffer
                    // of the same side shows that it is.
                    let side = list.buffer.side();
                    if pkt.buffers.iter().any(|(b, _)| *b != list.buffer && b.side() == side) {
                        continue;
                    }
                    return false;
                }
                if !or_else {
                    return false;
                }
            }
            let mut inspect = |data: &[u8]| {
                if list.transforms.is_empty() {
                    let lower = Lower::Cached(lower);
                    Inspector::run(&list.matches, needles, data, None, lower, stats, v)
                } else {
                    let data = Transform::apply_all(&list.transforms, data);
                    Inspector::run(&list.matches, needles, &data, None, Lower::Own, stats, v)
                }
            };
            if !any_instance(pkt, list.buffer, &mut inspect) {
                return false;
            }
        }
        true
    }

    /// The payload keywords of `c` on what they inspect of this packet: the stream
    /// chunk, the packet's payload, or both (see [`PayloadMode`]).
    fn payload_matches(
        c: &Compiled,
        det: &mut Detector,
        pkt: &Packet<'_>,
        vars: &mut ByteVars,
    ) -> bool {
        if pkt.no_payload_inspection {
            return false;
        }
        let mode = c.payload_mode;
        let packet = !pkt.in_stream || mode.packet();
        let stream = pkt.in_stream && mode.stream();
        let Detector { stats, lower, .. } = det;
        if stream {
            if let Some(chunk) = pkt.stream {
                let view = StreamView { new_from: chunk.new_from, offset: chunk.offset };
                let lower = Lower::Cached(lower);
                let hit = Inspector::run(
                    &c.sig.payload,
                    &c.needles,
                    chunk.data,
                    Some(view),
                    lower,
                    &mut stats.inspect,
                    vars,
                );
                if hit {
                    return true;
                }
            }
        }
        if !packet || (mode == PayloadMode::Stream && pkt.in_stream) {
            return false;
        }
        if pkt.payload.is_empty() || pkt.payload_seen {
            return false;
        }
        let lower = Lower::Cached(lower);
        let (payload, stats) = (pkt.payload, &mut stats.inspect);
        Inspector::run(&c.sig.payload, &c.needles, payload, None, lower, stats, vars)
    }
}

/// The header of rule `s` on this packet: protocol, application protocol, header checks,
/// addresses and ports (either way for `<>` and for a transaction's response), the
/// `flow` conditions, fragments and `dsize`. Cheap tests first: a rule without a
/// prefilter pattern is checked on every packet of its ports.
#[inline]
fn header_matches(s: &crate::signature::Signature, pkt: &Packet<'_>) -> bool {
    if !s.proto.matches(pkt.ip_proto) {
        return false;
    }
    if let Some(app) = s.app_proto {
        if !pkt.app_proto.is_some_and(|f| app.applies_to(f)) {
            return false;
        }
    }
    for h in &s.header_checks {
        if !header_check(h, pkt) {
            return false;
        }
    }
    if !pkt.has_ports && (!s.src_ports.any || !s.dst_ports.any) {
        return false;
    }
    // A transactional rule names client and server: a response is matched reversed.
    let response = s.transactional && pkt.flow.is_some_and(|f| !f.to_server);
    let fwd = !response
        && s.src.contains(pkt.src)
        && s.dst.contains(pkt.dst)
        && s.src_ports.contains(pkt.sport)
        && s.dst_ports.contains(pkt.dport);
    let rev = (s.bidirectional || response)
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
    true
}

/// The state rule `c` reads: flowbits and flowints of the flow, hostbits of the hosts.
#[inline]
fn state_holds(c: &Compiled, det: &Detector, pkt: &Packet<'_>, flow: Option<&FlowState>) -> bool {
    let s = &c.sig;
    for (cmd, ids) in &c.flowbits {
        let any_set = ids.iter().any(|&id| flow.is_some_and(|f| f.bit(id)));
        let any_unset = ids.iter().any(|&id| !flow.is_some_and(|f| f.bit(id)));
        match cmd {
            FlowbitCmd::IsSet if !any_set => return false,
            FlowbitCmd::IsNotSet if !any_unset => return false,
            _ => {}
        }
    }
    if !c.flowints.is_empty() && !flowints_hold(c, flow) {
        return false;
    }
    if s.hostbits.iter().any(|b| matches!(b.cmd, FlowbitCmd::IsSet | FlowbitCmd::IsNotSet)) {
        let t = hostbits::lock(&det.hostbits);
        if !s.hostbits.iter().all(|b| t.check(b, pkt.src, pkt.dst, pkt.ts_secs)) {
            return false;
        }
    }
    true
}

/// Whether IPv4 options hold option `code` (any option for `None`). A malformed
/// length ends the walk: what came before it still counts.
fn has_ip_option(mut opts: &[u8], code: Option<u8>) -> bool {
    while let Some(&t) = opts.first() {
        if code.is_none_or(|c| c == t) {
            return true;
        }
        let len = match t {
            0 => return false,
            1 => 1,
            _ => match opts.get(1) {
                Some(&l) if l >= 2 => l as usize,
                _ => return false,
            },
        };
        opts = opts.get(len..).unwrap_or_default();
    }
    false
}

/// Whether `f` holds for some instance of buffer `b` in this packet: the sensor's
/// buffers, or for `ip.src` / `ip.dst` the packet's address (4 or 16 bytes).
fn any_instance(pkt: &Packet<'_>, b: Buffer, mut f: impl FnMut(&[u8]) -> bool) -> bool {
    instances(pkt, b).any(|d| f(&d))
}

/// One instance of a buffer: bytes the sensor gave, or a packet address held inline
/// (no allocation on the matching path).
pub(super) enum Instance<'p> {
    Buffer(&'p [u8]),
    Address([u8; 16], usize),
}

impl std::ops::Deref for Instance<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Instance::Buffer(b) => b,
            Instance::Address(a, n) => &a[..*n],
        }
    }
}

/// The instances of buffer `b` in the packet: its application buffers, or the
/// packet's address for `ip.src`/`ip.dst`.
pub(super) fn instances<'p>(pkt: &'p Packet<'_>, b: Buffer) -> impl Iterator<Item = Instance<'p>> {
    let address = match b {
        Buffer::IpSrc => Some(crate::signature::dataset::ip_bytes(&pkt.src)),
        Buffer::IpDst => Some(crate::signature::dataset::ip_bytes(&pkt.dst)),
        _ => None,
    };
    let bufs = pkt.buffers.iter().filter(move |(x, _)| address.is_none() && *x == b);
    let addr = address.map(|(a, n)| Instance::Address(a, n));
    bufs.map(|(_, d)| Instance::Buffer(d)).chain(addr)
}

/// The `flowint` conditions of `c` on the flow's variables, in rule order. A rule with
/// flowints matches only packets of a flow.
fn flowints_hold(c: &Compiled, flow: Option<&FlowState>) -> bool {
    let Some(f) = flow else { return false };
    c.flowints.iter().all(|(id, op, var)| {
        let operand = |v: &FlowIntValue| flowint_operand(v, *var, f);
        match op {
            FlowIntOp::IsSet => f.int(*id).is_some(),
            FlowIntOp::IsNotSet => f.int(*id).is_none(),
            FlowIntOp::Cmp(cmp, negated, v) => match (f.int(*id), operand(v)) {
                (Some(a), Some(b)) => {
                    let r = match cmp {
                        ByteCmp::Lt => a < b,
                        ByteCmp::Le => a <= b,
                        ByteCmp::Gt => a > b,
                        ByteCmp::Ge => a >= b,
                        _ => a == b,
                    };
                    r != *negated
                }
                _ => false,
            },
            FlowIntOp::Add(_) | FlowIntOp::Sub(_) | FlowIntOp::Set(_) => true,
        }
    })
}

/// A flowint operand's value: the number, or the variable `var` (its id) if set.
fn flowint_operand(v: &FlowIntValue, var: Option<u32>, f: &FlowState) -> Option<i64> {
    match (v, var) {
        (FlowIntValue::Num(n), _) => Some(*n),
        (FlowIntValue::Var(_), Some(i)) => f.int(i),
        (FlowIntValue::Var(_), None) => None,
    }
}

/// The `flowint` changes of a rule that matched; `+` and `-` on an unset variable
/// start from 0, an operand that is an unset variable changes nothing.
fn apply_flowints(c: &Compiled, f: &mut FlowState) {
    for (id, op, var) in &c.flowints {
        let operand = |v: &FlowIntValue, f: &FlowState| flowint_operand(v, *var, f);
        let cur = f.int(*id).unwrap_or(0);
        let new = match op {
            FlowIntOp::Add(v) => operand(v, f).map(|n| cur.saturating_add(n)),
            FlowIntOp::Sub(v) => operand(v, f).map(|n| cur.saturating_sub(n)),
            FlowIntOp::Set(v) => operand(v, f),
            _ => None,
        };
        if let Some(n) = new {
            f.set_int(*id, n);
        }
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
        HeaderCheck::IpOpt(code) => has_ip_option(p.ip_options, *code),
        HeaderCheck::StreamSize { side, cmp } => p.stream_sizes.is_some_and(|(c, s)| match side {
            StreamSide::Client => cmp.matches(c),
            StreamSide::Server => cmp.matches(s),
            StreamSide::Both => cmp.matches(c) && cmp.matches(s),
            StreamSide::Either => cmp.matches(c) || cmp.matches(s),
        }),
        HeaderCheck::VlanId { cmp, layer } => crate::signature::vlan::vlan_id_matches(
            crate::signature::vlan::layers(&p.vlan),
            *cmp,
            *layer,
        ),
        HeaderCheck::VlanLayers(cmp) => {
            cmp.matches(crate::signature::vlan::layers(&p.vlan).len() as u64)
        }
        HeaderCheck::TcpWindow { value, negated } => {
            p.tcp.is_some_and(|t| (t.window == *value) != *negated)
        }
        HeaderCheck::TcpFlags { flags, mask, mode } => {
            p.tcp.is_some_and(|t| mode.matches(t.flags & !mask, *flags))
        }
        HeaderCheck::FragBits { bits, mode } => mode.matches(p.frag_bits, *bits),
        HeaderCheck::SameIp => p.src == p.dst,
        HeaderCheck::FileHash { buffer, list, negated } => {
            p.buffers.iter().any(|(b, v)| b == buffer && list.hashes.contains(*v) != *negated)
        }
        HeaderCheck::Event { kind, name } => {
            p.events.iter().any(|e| e.kind == *kind && e.name == name.as_str())
        }
        HeaderCheck::FtpBounce => p
            .buffers
            .iter()
            .find(|(b, _)| *b == crate::signature::Buffer::FtpPortAddress)
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<std::net::IpAddr>().ok())
            .is_some_and(|a| a != p.src),
    }
}
