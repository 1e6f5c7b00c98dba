//! What the sensor tells the engine about one packet.

use std::net::IpAddr;

use crate::signature::{AppProto, Buffer, EventKind};

/// What the sensor tells the engine about one packet.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Packet time, seconds since the epoch (for thresholds).
    pub ts_secs: i64,
    /// IP protocol number of the transport (6 TCP, 17 UDP, …).
    pub ip_proto: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// 0 for protocols without ports.
    pub sport: u16,
    /// Destination port (0 when `has_ports` is false).
    pub dport: u16,
    /// The transport has ports (TCP, UDP, SCTP).
    pub has_ports: bool,
    /// The bytes inspected: the transport payload (or the reassembled stream chunk).
    pub payload: &'a [u8],
    /// The packet's length on the wire (for `tag` budgets in bytes).
    pub wire_len: usize,
    /// The VLAN ids, outer first, 0 after the last layer (`vlan.id`, `vlan.layers`).
    pub vlan: [u16; 3],
    /// The options of an IPv4 header (`ipopts`).
    pub ip_options: &'a [u8],
    /// The TCP session's stream sizes, client's and server's (`stream_size`).
    pub stream_sizes: Option<(u64, u64)>,
    /// Time to live.
    pub ttl: u8,
    /// IPv4 identification.
    pub ip_id: u16,
    /// IPv4 fragment bits: R=0x4, D=0x2, M=0x1.
    pub frag_bits: u8,
    /// The packet was rebuilt from fragments.
    pub defragmented: bool,
    /// The TCP header's fields (TCP packets).
    pub tcp: Option<TcpInfo>,
    /// The ICMP header's fields (ICMP packets).
    pub icmp: Option<IcmpInfo>,
    /// The packet's flow, when it has one.
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
    /// The payload is part of a reassembled TCP stream. Its content rules then look at
    /// the stream ([`Packet::stream`]), as in Suricata; only the rules that need the
    /// packet itself (`dsize`, contents at an `offset`/`depth`, `tcp-pkt`,
    /// `flow:no_stream`) look at `payload`.
    pub in_stream: bool,
    /// The stream bytes this packet made available, with some already inspected before
    /// them (so that a match across two segments is found).
    pub stream: Option<StreamChunk<'a>>,
    /// The payload was inspected before (a TCP retransmission): rules with payload
    /// matches do not match it again; packet rules (`dsize`, flags) still do.
    pub payload_seen: bool,
    /// Payload inspection is over for this flow (encrypted after a TLS or SSH
    /// handshake, as Suricata's `encryption-handling: track-only`): rules with payload
    /// keywords do not match; header rules still do.
    pub no_payload_inspection: bool,
    /// Events the decoders, stream tracking and parsers raised on this packet.
    pub events: &'a [PacketEvent],
}

/// An event raised on a packet (`decode-event`, `stream-event`, `app-layer-event`):
/// Suricata's event name, lowercase, without the `decoder.` or `stream.` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketEvent {
    /// The layer the event comes from.
    pub kind: EventKind,
    /// Its name, lowercase without the layer prefix.
    pub name: &'static str,
}

impl<'a> Packet<'a> {
    /// A packet of `ip_proto` from `src` to `dst` carrying `payload`, with nothing else
    /// known: no ports, transport header, flow or application data. Callers fill in what
    /// they have with struct update syntax, so that a field added here needs no change
    /// where it does not matter.
    pub fn new(ts_secs: i64, ip_proto: u8, src: IpAddr, dst: IpAddr, payload: &'a [u8]) -> Self {
        Packet {
            ts_secs,
            ip_proto,
            src,
            dst,
            sport: 0,
            dport: 0,
            has_ports: false,
            payload,
            wire_len: payload.len(),
            stream_sizes: None,
            vlan: [0; 3],
            ip_options: &[],
            ttl: 0,
            ip_id: 0,
            frag_bits: 0,
            defragmented: false,
            tcp: None,
            icmp: None,
            flow: None,
            app_proto: None,
            buffers: &[],
            tx_only: false,
            in_stream: false,
            stream: None,
            payload_seen: false,
            no_payload_inspection: false,
            events: &[],
        }
    }
}

/// A piece of a reassembled TCP stream given to stream inspection.
#[derive(Debug, Clone, Copy)]
pub struct StreamChunk<'a> {
    /// Bytes already inspected, then the new ones.
    pub data: &'a [u8],
    /// Where the new bytes start in `data`: a match must end after it (a match that
    /// ends before was found with the chunk before).
    pub new_from: usize,
    /// Stream offset of `data[0]`: `offset` and `depth` of absolute contents count
    /// from the start of the stream.
    pub offset: u64,
}

/// The TCP header fields rules test.
#[derive(Debug, Clone, Copy)]
pub struct TcpInfo {
    /// The flags (FIN 0x01 … CWR 0x80).
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Window size.
    pub window: u16,
}

/// The ICMP header fields rules test.
#[derive(Debug, Clone, Copy)]
pub struct IcmpInfo {
    /// Type.
    pub itype: u8,
    /// Code.
    pub icode: u8,
    /// Echo identifier and sequence, when the message has them.
    pub id: Option<u16>,
    /// Sequence number (echo messages).
    pub seq: Option<u16>,
}

/// The packet's place in its flow.
#[derive(Debug, Clone, Copy)]
pub struct FlowView {
    /// Sent by the side that opened the flow.
    pub to_server: bool,
    /// The TCP session is established (or the flow has seen both sides).
    pub established: bool,
}
