//! What [`RuleSet::build`](super::RuleSet::build) makes of each signature: its lists
//! ready to match, where its payload is inspected, and which prefilter it joins.

use super::inspect::Prepared;
use crate::signature::{
    Buffer, Content, FlowIntOp, FlowbitCmd, PayloadMatch, Proto, Side, Signature, Transform,
};

/// Where a rule's payload keywords are inspected on a TCP packet that belongs to a
/// reassembled stream (on every other packet they inspect the packet's payload).
///
/// As in Suricata, content rules inspect the stream, so that a match split over two
/// segments is found and one repeated by a retransmission is not; the rules that need
/// the packet itself inspect the packet: `dsize`, `tcp-pkt` and `flow:no_stream`
/// (packet only), and contents at an absolute `offset`/`depth`, which Suricata tests on
/// both (on the stream their positions count from the start of the stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PayloadMode {
    /// No payload keywords.
    None,
    Packet,
    Stream,
    Both,
}

impl PayloadMode {
    pub(crate) fn of(sig: &Signature) -> PayloadMode {
        if sig.payload.is_empty() {
            return PayloadMode::None;
        }
        // A match that places the rule in the stream: without one (only byte_*,
        // isdataat or negated contents) there is no position to tell new from old.
        let anchor = sig.payload.iter().any(|m| match m {
            PayloadMatch::Content(c) => !c.negated,
            PayloadMatch::Pcre(p) => !p.negated,
            _ => false,
        });
        if sig.flow.stream == Some(true) {
            return PayloadMode::Stream;
        }
        if !anchor || sig.dsize.is_some() || sig.flow.stream == Some(false) {
            return PayloadMode::Packet;
        }
        let absolute = sig.payload.iter().any(|m| {
            matches!(m, PayloadMatch::Content(c)
                if !c.is_relative() && (c.offset.is_some() || c.depth.is_some() || c.startswith))
        });
        if absolute {
            PayloadMode::Both
        } else {
            PayloadMode::Stream
        }
    }

    pub(crate) fn stream(self) -> bool {
        matches!(self, PayloadMode::Stream | PayloadMode::Both)
    }

    pub(crate) fn packet(self) -> bool {
        matches!(self, PayloadMode::Packet | PayloadMode::Both)
    }
}

/// What a prefilter scans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The payload of a packet, for rules that inspect packets.
    Packet,
    /// The stream chunk of a TCP packet, or the payload of any other packet, for rules
    /// that inspect the stream.
    Stream,
    /// A sticky buffer after a chain of transforms.
    Buffer(Buffer, Vec<Transform>),
}

impl Source {
    /// The name in profiles: the buffer keyword and its transforms.
    pub(crate) fn name(&self) -> String {
        match self {
            Source::Packet => "pkt_data (packet)".into(),
            Source::Stream => "pkt_data (stream)".into(),
            Source::Buffer(b, t) => std::iter::once(b.name())
                .chain(t.iter().map(|t| t.keyword()))
                .collect::<Vec<_>>()
                .join("|"),
        }
    }

    /// Buffers that carry bulk data get the fastest (and largest) automaton.
    pub(crate) fn bulk(&self) -> bool {
        matches!(
            self,
            Source::Packet
                | Source::Stream
                | Source::Buffer(Buffer::FileData | Buffer::HttpRequestBody, _)
        )
    }
}

pub(crate) struct Compiled {
    pub sig: Signature,
    /// The payload list, ready to match.
    pub needles: Prepared,
    /// Each sticky buffer list, ready to match, in the order of `sig.buffers`.
    pub buffer_needles: Vec<Prepared>,
    /// (command, flowbit ids).
    pub flowbits: Vec<(FlowbitCmd, Vec<u32>)>,
    /// The direction the rule's buffers come from: `Some(true)` to server (request
    /// buffers only), `Some(false)` to client (a response buffer).
    pub buffer_dir: Option<bool>,
    /// Some `dataset` of the rule gives alerts a JSON context.
    pub dataset_context: bool,
    pub payload_mode: PayloadMode,
    /// (variable id, operation, id of the variable operand) of each `flowint`.
    pub flowints: Vec<(u32, FlowIntOp, Option<u32>)>,
}

impl Compiled {
    pub(crate) fn new(sig: Signature, flowbits: Vec<(FlowbitCmd, Vec<u32>)>) -> Compiled {
        let needles = Prepared::new(&sig.payload);
        let buffer_needles = sig.buffers.iter().map(|l| Prepared::new(&l.matches)).collect();
        let sides = sig.buffers.iter().map(|l| match l.direction {
            Some(true) => Side::Request,
            Some(false) => Side::Response,
            None => l.buffer.side(),
        });
        let buffer_dir = sides.fold(None, |dir, side| match (dir, side) {
            (_, Side::Response) | (Some(false), _) => Some(false),
            (_, Side::Request) => Some(true),
            (d, Side::Either) => d,
        });
        let payload_mode = PayloadMode::of(&sig);
        let flowints = Vec::new();
        let dataset_context = sig
            .buffers
            .iter()
            .flat_map(|l| &l.matches)
            .any(|m| matches!(m, PayloadMatch::Dataset(d) if d.context_key.is_some()));
        Compiled {
            sig,
            needles,
            buffer_needles,
            flowbits,
            buffer_dir,
            payload_mode,
            flowints,
            dataset_context,
        }
    }

    /// The rule's prefilter patterns: (prefilter, pattern, nocase, bound), one per
    /// prefilter it joins (two for a rule that inspects both the packet and the
    /// stream). Empty: the rule has no content to prefilter on.
    pub(crate) fn prefilter(&self) -> Vec<(Source, &[u8], bool, Option<u64>)> {
        let Some((buffer, transforms, c)) = self.sig.fast_pattern() else { return Vec::new() };
        if buffer != Buffer::Payload {
            let source = Source::Buffer(buffer, transforms.to_vec());
            let bound = self.sig.list(buffer).and_then(|list| list_bound(list, c));
            return vec![(source, c.prefilter_bytes(), c.nocase, bound)];
        }
        let entries = match self.payload_mode {
            // On the stream the fast pattern; on the packet, where the rule's anchored
            // content must be near the start, that content when it is selective enough
            // (a pattern with a depth only needs the start of the buffer searched).
            PayloadMode::Both => {
                let packet = anchored_content(&self.sig.payload, c).unwrap_or(c);
                vec![entry(Source::Packet, packet), entry(Source::Stream, c)]
            }
            PayloadMode::Stream => vec![entry(Source::Stream, c)],
            PayloadMode::Packet | PayloadMode::None => {
                // A packet larger than `dsize` allows is not the rule's: its pattern
                // can only end within that size (`dsize:<20` needs 20 bytes searched).
                let (source, p, nocase, b) = entry(Source::Packet, c);
                vec![(source, p, nocase, tighter(b, self.sig.dsize.and_then(|d| d.max())))]
            }
        };
        // A pattern of one to three bytes anywhere in the payload (`|03|`) is in most
        // packets: it would cost every scan more than it saves. Such a rule is tested on
        // every packet its ports allow instead (see `ports`).
        if entries.iter().any(|(_, p, _, bound)| p.len() < MIN_UNBOUNDED && bound.is_none()) {
            return Vec::new();
        }
        entries
    }
}

fn entry(source: Source, c: &Content) -> (Source, &[u8], bool, Option<u64>) {
    (source, c.prefilter_bytes(), c.nocase, bound(c))
}

/// Payload patterns shorter than this go to the prefilter only with a depth.
const MIN_UNBOUNDED: usize = 4;

/// Anchored contents shorter than this are poor prefilter patterns (`|00|` at offset
/// 2 is in most packets): the fast pattern is used instead.
const MIN_ANCHORED: usize = 4;

/// The content to prefilter packets on for a rule that inspects packets because of an
/// anchored content: the fast pattern if it is anchored, else the longest anchored
/// content of at least [`MIN_ANCHORED`] bytes.
fn anchored_content<'a>(list: &'a [PayloadMatch], fast: &'a Content) -> Option<&'a Content> {
    if bound(fast).is_some() {
        return Some(fast);
    }
    list.iter()
        .filter_map(|m| match m {
            PayloadMatch::Content(c) if bound(c).is_some() => Some(c),
            _ => None,
        })
        .filter(|c| c.prefilter_bytes().len() >= MIN_ANCHORED)
        .max_by_key(|c| c.prefilter_bytes().len())
}

/// The offset after which `c` cannot end, for an absolute content with a depth.
fn bound(c: &Content) -> Option<u64> {
    if c.is_relative() || c.negated {
        return None;
    }
    let depth = match (c.depth, c.startswith) {
        (Some(d), _) => d as usize,
        (None, true) => c.pattern.len(),
        (None, false) => return None,
    };
    Some(u64::from(c.offset.unwrap_or(0)) + depth as u64)
}

/// The tighter of two bounds (None: unbounded).
fn tighter(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The offset after which the fast pattern `fast` of a sticky buffer's `list` cannot
/// end, if the list bounds it: an absolute content with a depth, or contents relative
/// to those before them with `within`, counted from the start of the buffer (where the
/// first relative content of a list is anchored: `file_data; content:"MZ"; within:2;`).
/// A match other than a positive content leaves the position of the next one unknown.
/// (Not for the payload: a relative content in a stream chunk counts from the chunk,
/// while the prefilter's bound counts from the start of the stream.)
fn list_bound(list: &[PayloadMatch], fast: &Content) -> Option<u64> {
    // The offset the previous match cannot end after (the start of the buffer first).
    let mut cursor = Some(0u64);
    for m in list {
        let PayloadMatch::Content(c) = m else {
            cursor = None;
            continue;
        };
        if c.negated {
            cursor = None;
            continue;
        }
        let by_depth = c.depth.map(|d| u64::from(c.offset.unwrap_or(0)) + u64::from(d));
        let end = if c.is_relative() {
            let by_within = match (cursor, c.within) {
                (Some(prev), Some(w)) => {
                    Some((prev as i64 + i64::from(c.distance.unwrap_or(0)) + i64::from(w)).max(0)
                        as u64)
                }
                _ => None,
            };
            tighter(by_within, by_depth)
        } else {
            bound(c)
        };
        if std::ptr::eq(c, fast) {
            return end;
        }
        cursor = end;
    }
    None
}

/// Suricata's evaluation order within an action and priority: rules that only set
/// flowbits, then rules that set and read, then readers, then the rest.
/// Host bits and flowints count as flowbits do.
pub(crate) fn flowbits_rank(sig: &Signature) -> u8 {
    let writes =
        |c: FlowbitCmd| matches!(c, FlowbitCmd::Set | FlowbitCmd::Unset | FlowbitCmd::Toggle);
    let cmds = || sig.flowbits.iter().map(|f| f.cmd).chain(sig.hostbits.iter().map(|h| h.cmd));
    let write = cmds().any(writes) || sig.flowints.iter().any(|f| f.writes());
    let read = cmds().any(|c| !writes(c)) || sig.flowints.iter().any(|f| !f.writes());
    match (write, read) {
        (true, false) => 0,
        (true, true) => 1,
        (false, true) => 2,
        (false, false) => 3,
    }
}

/// Protocol class of a packet: 0 tcp, 1 udp, 2 icmp (v4 and v6), 3 any other.
pub(crate) fn proto_class(ip_proto: u8) -> usize {
    match ip_proto {
        6 => 0,
        17 => 1,
        1 | 58 => 2,
        _ => 3,
    }
}

pub(crate) fn proto_class_matches(proto: Proto, class: usize) -> bool {
    match proto {
        Proto::Ip => true,
        Proto::Tcp => class == 0,
        Proto::Udp => class == 1,
        Proto::Icmp | Proto::Icmpv6 => class == 2,
        Proto::Sctp => class == 3,
    }
}
