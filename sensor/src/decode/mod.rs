//! Decoders for the link, network and transport layers, in the smoltcp "wire" style:
//! a typed view over a byte slice whose `new_checked` validates lengths once, so that no
//! accessor can panic. Every malformed packet becomes a [`DecodeError`], a `Copy` value
//! that is counted per reason (Suricata's decoder events), never a panic.

pub mod checksum;
pub mod defrag;
pub(crate) mod ethernet;
pub(crate) mod icmp;
pub(crate) mod ipv4;
pub(crate) mod ipv6;
pub(crate) mod nsh;
pub(crate) mod sctp;
pub(crate) mod sll;
pub(crate) mod tcp;
pub(crate) mod tunnel;
pub(crate) mod udp;

use std::net::IpAddr;

use crate::capture::LinkType;

/// Why a packet could not be decoded. Names follow Suricata's decoder events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DecodeError {
    /// The decoder event `decoder.unsupported_linktype`.
    UnsupportedLinkType,
    /// The decoder event `ethernet.pkt_too_small`.
    EthernetTooSmall,
    /// The decoder event `vlan.header_too_small`.
    VlanTooSmall,
    /// The decoder event `vlan.too_many_layers`.
    VlanTooManyLayers,
    /// The decoder event `sll.pkt_too_small`.
    SllTooSmall,
    /// The decoder event `null.pkt_too_small`.
    NullTooSmall,
    /// The decoder event `chdlc.pkt_too_small`.
    ChdlcTooSmall,
    /// The decoder event `nsh.header_too_small`.
    NshTooSmall,
    /// The decoder event `nsh.unsupported_version`.
    NshUnsupportedVersion,
    /// The decoder event `nsh.bad_header_length`.
    NshBadHeaderLength,
    /// The decoder event `nsh.unsupported_type`.
    NshUnsupportedType,
    /// The decoder event `nsh.unknown_payload`.
    NshUnknownPayload,
    /// The decoder event `sctp.pkt_too_small`.
    SctpTooSmall,
    /// The decoder event `ipv4.pkt_too_small`.
    Ipv4TooSmall,
    /// The decoder event `ipv4.wrong_ip_version`.
    Ipv4WrongVersion,
    /// The decoder event `ipv4.hlen_too_small`.
    Ipv4HlenTooSmall,
    /// The decoder event `ipv4.iplen_smaller_than_hlen`.
    Ipv4IplenSmallerThanHlen,
    /// The decoder event `ipv4.trunc_pkt`.
    Ipv4Truncated,
    /// The decoder event `ipv4.opt_malformed`.
    Ipv4OptionMalformed,
    /// The decoder event `ipv4.invalid_checksum`.
    Ipv4InvalidChecksum,
    /// The decoder event `ipv6.pkt_too_small`.
    Ipv6TooSmall,
    /// The decoder event `ipv6.wrong_ip_version`.
    Ipv6WrongVersion,
    /// The decoder event `ipv6.trunc_pkt`.
    Ipv6Truncated,
    /// The decoder event `ipv6.trunc_exthdr`.
    Ipv6ExthdrTruncated,
    /// The decoder event `ipv6.exthdr_too_many`.
    Ipv6ExthdrTooMany,
    /// The decoder event `tcp.pkt_too_small`.
    TcpTooSmall,
    /// The decoder event `tcp.hlen_too_small`.
    TcpHlenTooSmall,
    /// The decoder event `tcp.invalid_optlen`.
    TcpOptionInvalidLength,
    /// The decoder event `tcp.invalid_checksum`.
    TcpInvalidChecksum,
    /// The decoder event `udp.hlen_too_small`: less than a UDP header.
    UdpHlenTooSmall,
    /// The decoder event `udp.pkt_too_small`: shorter than its length field says.
    UdpTooSmall,
    /// The decoder event `udp.len_invalid`.
    UdpLenInvalid,
    /// The decoder event `udp.invalid_checksum`.
    UdpInvalidChecksum,
    /// The decoder event `icmp.pkt_too_small`.
    IcmpTooSmall,
    /// The decoder event `icmp.invalid_checksum`.
    IcmpInvalidChecksum,
}

impl DecodeError {
    /// The Suricata event name (`ipv4.pkt_too_small`), as EVE and `decode-event` name it.
    pub fn as_str(self) -> &'static str {
        use DecodeError::*;
        match self {
            UnsupportedLinkType => "decoder.unsupported_linktype",
            EthernetTooSmall => "ethernet.pkt_too_small",
            VlanTooSmall => "vlan.header_too_small",
            VlanTooManyLayers => "vlan.too_many_layers",
            SllTooSmall => "sll.pkt_too_small",
            NullTooSmall => "null.pkt_too_small",
            ChdlcTooSmall => "chdlc.pkt_too_small",
            NshTooSmall => "nsh.header_too_small",
            NshUnsupportedVersion => "nsh.unsupported_version",
            NshBadHeaderLength => "nsh.bad_header_length",
            NshUnsupportedType => "nsh.unsupported_type",
            NshUnknownPayload => "nsh.unknown_payload",
            SctpTooSmall => "sctp.pkt_too_small",
            Ipv4TooSmall => "ipv4.pkt_too_small",
            Ipv4WrongVersion => "ipv4.wrong_ip_version",
            Ipv4HlenTooSmall => "ipv4.hlen_too_small",
            Ipv4IplenSmallerThanHlen => "ipv4.iplen_smaller_than_hlen",
            Ipv4Truncated => "ipv4.trunc_pkt",
            Ipv4OptionMalformed => "ipv4.opt_malformed",
            Ipv4InvalidChecksum => "ipv4.invalid_checksum",
            Ipv6TooSmall => "ipv6.pkt_too_small",
            Ipv6WrongVersion => "ipv6.wrong_ip_version",
            Ipv6Truncated => "ipv6.trunc_pkt",
            Ipv6ExthdrTruncated => "ipv6.trunc_exthdr",
            Ipv6ExthdrTooMany => "ipv6.exthdr_too_many",
            TcpTooSmall => "tcp.pkt_too_small",
            TcpHlenTooSmall => "tcp.hlen_too_small",
            TcpOptionInvalidLength => "tcp.invalid_optlen",
            TcpInvalidChecksum => "tcp.invalid_checksum",
            UdpHlenTooSmall => "udp.hlen_too_small",
            UdpTooSmall => "udp.pkt_too_small",
            UdpLenInvalid => "udp.len_invalid",
            UdpInvalidChecksum => "udp.invalid_checksum",
            IcmpTooSmall => "icmp.pkt_too_small",
            IcmpInvalidChecksum => "icmp.invalid_checksum",
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Walks type-length-value options (IPv4 and TCP share the layout: 0 ends the list,
/// 1 is a one-byte no-op, others carry a length that counts the two header bytes) and
/// checks that each fits in `opts`.
pub(crate) fn check_tlv_options(opts: &[u8], err: DecodeError) -> Result<(), DecodeError> {
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => break,
            1 => i += 1,
            _ => {
                let len = *opts.get(i + 1).ok_or(err)? as usize;
                if len < 2 || i + len > opts.len() {
                    return Err(err);
                }
                i += len;
            }
        }
    }
    Ok(())
}

/// Events on a packet that did not stop its decoding (Suricata decoder events), a set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeEvents(u8);

impl DecodeEvents {
    /// An IPv6 packet with a second fragment header.
    pub const IPV6_DUPL_FH: DecodeEvents = DecodeEvents(1);
    /// An IPv6 fragment header of a whole packet (offset 0, no more fragments).
    pub const IPV6_USELESS_FH: DecodeEvents = DecodeEvents(2);
    /// A fragment overlapping one seen before.
    pub const FRAG_OVERLAP: DecodeEvents = DecodeEvents(4);
    /// A fragment, not the last, whose length is not a multiple of 8.
    pub const FRAG_INVALID_LENGTH: DecodeEvents = DecodeEvents(8);
    /// A fragment ending beyond the largest datagram.
    pub const FRAG_PKT_TOO_LARGE: DecodeEvents = DecodeEvents(16);

    pub(crate) fn insert(&mut self, e: DecodeEvents) {
        self.0 |= e.0;
    }

    /// No event raised.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Suricata's names of the events of an IP `version` packet.
    pub fn names(self, version: u8) -> impl Iterator<Item = &'static str> {
        let v6 = version == 6;
        [
            (Self::IPV6_DUPL_FH, "ipv6.exthdr_dupl_fh"),
            (Self::IPV6_USELESS_FH, "ipv6.exthdr_useless_fh"),
            (Self::FRAG_OVERLAP, if v6 { "ipv6.frag_overlap" } else { "ipv4.frag_overlap" }),
            (
                Self::FRAG_INVALID_LENGTH,
                if v6 { "ipv6.frag_invalid_length" } else { "ipv4.frag_invalid_length" },
            ),
            (
                Self::FRAG_PKT_TOO_LARGE,
                if v6 { "ipv6.frag_pkt_too_large" } else { "ipv4.frag_pkt_too_large" },
            ),
        ]
        .into_iter()
        .filter(move |(e, _)| self.0 & e.0 != 0)
        .map(|(_, n)| n)
    }
}

/// What can still be told of a packet whose IP layer did not decode: its addresses and
/// the events raised before the error, so that rules on decoder events see it.
#[derive(Clone, Copy, Debug)]
pub struct Undecoded {
    /// 4 or 6.
    pub version: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Transport protocol (after IPv6 extension headers).
    pub proto: u8,
    pub(crate) events: DecodeEvents,
    pub(crate) vlan: [u16; 3],
}

/// The IP header of a frame that [`decode_l3`] refused, when its fixed part is there.
pub fn undecoded(link: LinkType, data: &[u8]) -> Option<Undecoded> {
    let (_, ethertype, vlan, rest) = link_layer(link, data).ok()?;
    match ethertype {
        ethernet::ETHERTYPE_IPV4 if rest.len() >= 20 => Some(Undecoded {
            version: 4,
            src: IpAddr::from(<[u8; 4]>::try_from(&rest[12..16]).ok()?),
            dst: IpAddr::from(<[u8; 4]>::try_from(&rest[16..20]).ok()?),
            proto: rest[9],
            events: DecodeEvents::default(),
            vlan,
        }),
        ethernet::ETHERTYPE_IPV6 if rest.len() >= 40 => {
            let walk = ipv6::walk_extensions(rest[6], &rest[40..]);
            Some(Undecoded {
                version: 6,
                src: IpAddr::from(<[u8; 16]>::try_from(&rest[8..24]).ok()?),
                dst: IpAddr::from(<[u8; 16]>::try_from(&rest[24..40]).ok()?),
                proto: walk.next,
                events: walk.events,
                vlan,
            })
        }
        _ => None,
    }
}

/// IPv4 or IPv6 fragment information.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// Offset of this fragment's data in bytes.
    pub offset: u32,
    /// More fragments follow (the MF bit).
    pub more: bool,
}

/// The network layer of a packet, with the transport bytes it carries.
#[derive(Clone, Copy, Debug)]
pub struct L3<'a> {
    /// 4 or 6.
    pub version: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Transport protocol (after IPv6 extension headers).
    pub proto: u8,
    /// Time to live (hop limit for IPv6).
    pub ttl: u8,
    /// IPv4 identification (0 for IPv6).
    pub ip_id: u16,
    /// R=0x4, D=0x2, M=0x1 (IPv4).
    pub frag_bits: u8,
    /// Set when the packet is a fragment.
    pub fragment: Option<Fragment>,
    /// VLAN ids, outermost first (0 when absent).
    pub vlan: [u16; 3],
    /// The IP header (IPv4 with options; the fixed IPv6 header).
    pub header: &'a [u8],
    /// Transport header and payload, bounded by the IP length.
    pub payload: &'a [u8],
    /// Events that did not stop decoding.
    pub events: DecodeEvents,
}

/// Layer-2 counters the pipeline keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L2Kind {
    /// Ethernet II (with VLAN tags).
    Ethernet,
    /// Linux cooked capture (SLL, SLL2).
    Sll,
    /// BSD loopback (DLT_NULL, DLT_LOOP).
    Null,
    /// Raw IP (no link header).
    Raw,
    /// Cisco HDLC.
    Chdlc,
}

/// Result of link + network decoding: an IP packet, or a frame that is valid but not IP
/// (ARP, LLDP, ...).
#[derive(Debug)]
pub enum Decoded<'a> {
    /// An IPv4 or IPv6 packet.
    Ip(L3<'a>),
    /// A frame of another ethertype, counted and passed by.
    NotIp {
        /// The link layer it came on.
        l2: L2Kind,
        /// Its ethertype (after VLAN tags).
        ethertype: u16,
    },
}

/// Decodes link and network layers.
pub fn decode_l3(link: LinkType, data: &[u8]) -> Result<(L2Kind, Decoded<'_>), DecodeError> {
    let (l2, mut ethertype, mut vlan, mut rest) = link_layer(link, data)?;
    // Service headers (NSH) before the network layer, maybe around an Ethernet frame.
    for _ in 0..4 {
        if ethertype != nsh::ETHERTYPE_NSH {
            break;
        }
        (ethertype, rest) = nsh::decode(rest)?;
        if ethertype == nsh::ETHERTYPE_ETHERNET {
            (ethertype, vlan, rest) = ethernet::decode(rest)?;
        }
    }
    match ethertype {
        ethernet::ETHERTYPE_IPV4 => ipv4::decode(rest, vlan).map(|l3| (l2, Decoded::Ip(l3))),
        ethernet::ETHERTYPE_IPV6 => ipv6::decode(rest, vlan).map(|l3| (l2, Decoded::Ip(l3))),
        other => Ok((l2, Decoded::NotIp { l2, ethertype: other })),
    }
}

/// The link layer: its kind, the ethertype it carries, VLAN ids and the rest.
type LinkLayer<'a> = (L2Kind, u16, [u16; 3], &'a [u8]);

fn link_layer(link: LinkType, data: &[u8]) -> Result<LinkLayer<'_>, DecodeError> {
    Ok(match link {
        LinkType::ETHERNET => {
            let (et, vlan, rest) = ethernet::decode(data)?;
            (L2Kind::Ethernet, et, vlan, rest)
        }
        LinkType::LINUX_SLL => {
            let (et, rest) = sll::decode_sll(data)?;
            let (et, vlan, rest) = ethernet::strip_vlans(et, rest)?;
            (L2Kind::Sll, et, vlan, rest)
        }
        LinkType::LINUX_SLL2 => {
            let (et, rest) = sll::decode_sll2(data)?;
            let (et, vlan, rest) = ethernet::strip_vlans(et, rest)?;
            (L2Kind::Sll, et, vlan, rest)
        }
        LinkType::C_HDLC => {
            // Address, control, then the protocol as an ethertype.
            if data.len() < 4 {
                return Err(DecodeError::ChdlcTooSmall);
            }
            let et = u16::from_be_bytes([data[2], data[3]]);
            (L2Kind::Chdlc, et, [0; 3], &data[4..])
        }
        LinkType::NULL | LinkType::LOOP => {
            let (et, rest) = sll::decode_null(data, link == LinkType::LOOP)?;
            (L2Kind::Null, et, [0; 3], rest)
        }
        LinkType::RAW
        | LinkType::RAW_BSD12
        | LinkType::RAW_BSD14
        | LinkType::IPV4
        | LinkType::IPV6 => {
            let et = match data.first().map(|b| b >> 4) {
                Some(4) => ethernet::ETHERTYPE_IPV4,
                Some(6) => ethernet::ETHERTYPE_IPV6,
                Some(_) => return Err(DecodeError::Ipv4WrongVersion),
                None => return Err(DecodeError::Ipv4TooSmall),
            };
            (L2Kind::Raw, et, [0; 3], data)
        }
        _ => return Err(DecodeError::UnsupportedLinkType),
    })
}

/// The transport layer.
#[derive(Clone, Copy, Debug)]
pub enum L4<'a> {
    /// TCP.
    Tcp(tcp::TcpRepr<'a>),
    /// UDP.
    Udp(udp::UdpRepr<'a>),
    /// ICMP or ICMPv6.
    Icmp(icmp::IcmpRepr<'a>),
    /// SCTP.
    Sctp(sctp::SctpRepr<'a>),
    /// Any other IP protocol: the payload as is.
    Other(&'a [u8]),
}

impl<'a> L4<'a> {
    /// The transport payload.
    pub fn payload(&self) -> &'a [u8] {
        match self {
            L4::Tcp(t) => t.payload,
            L4::Udp(u) => u.payload,
            L4::Icmp(i) => i.payload,
            L4::Sctp(s) => s.payload,
            L4::Other(p) => p,
        }
    }

    /// Source and destination ports (TCP, UDP, SCTP).
    pub fn ports(&self) -> Option<(u16, u16)> {
        match self {
            L4::Tcp(t) => Some((t.sport, t.dport)),
            L4::Udp(u) => Some((u.sport, u.dport)),
            L4::Sctp(s) => Some((s.sport, s.dport)),
            _ => None,
        }
    }

    /// The "ports" a flow of IP protocol `proto` is keyed by: the ports, or for ESP the
    /// low 16 bits of the SPI and 0, as Suricata 8 keeps an ESP flow per security
    /// association (each direction has its own); 0 and 0 for other protocols.
    pub fn flow_ports(&self, proto: u8) -> (u16, u16) {
        match (self, proto) {
            (L4::Other(p), 50) if p.len() >= 4 => (u16::from_be_bytes([p[2], p[3]]), 0),
            _ => self.ports().unwrap_or((0, 0)),
        }
    }
}

/// Decodes the transport layer of a (reassembled) IP payload.
pub fn decode_l4<'a>(l3: &L3<'_>, bytes: &'a [u8]) -> Result<L4<'a>, DecodeError> {
    match l3.proto {
        6 => tcp::decode(bytes).map(L4::Tcp),
        17 => udp::decode(bytes).map(L4::Udp),
        1 => icmp::decode(bytes, false).map(L4::Icmp),
        58 => icmp::decode(bytes, true).map(L4::Icmp),
        132 => sctp::decode(bytes).map(L4::Sctp),
        _ => Ok(L4::Other(bytes)),
    }
}

/// Checks the transport checksum: `Err` names the failure, `Ok` when correct or when the
/// protocol has none (or UDP over IPv4 left it out).
pub fn verify_l4_checksum(l3: &L3<'_>, bytes: &[u8], l4: &L4<'_>) -> Result<(), DecodeError> {
    match l4 {
        L4::Tcp(_) if !checksum::verify_transport(l3.src, l3.dst, 6, bytes) => {
            Err(DecodeError::TcpInvalidChecksum)
        }
        L4::Udp(u)
            if (u.checksum != 0 || l3.version == 6)
                && !checksum::verify_transport(l3.src, l3.dst, 17, u.datagram) =>
        {
            Err(DecodeError::UdpInvalidChecksum)
        }
        L4::Icmp(i) if !i.v6 && checksum::ones_complement(0, bytes) != 0xffff => {
            Err(DecodeError::IcmpInvalidChecksum)
        }
        L4::Icmp(i) if i.v6 && !checksum::verify_transport(l3.src, l3.dst, 58, bytes) => {
            Err(DecodeError::IcmpInvalidChecksum)
        }
        _ => Ok(()),
    }
}
