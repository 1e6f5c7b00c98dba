//! Packet sources. Offline: pcap and pcapng files ([`pcap`]); a [`writer`] for captures
//! the tests and the demo generate. Live: network interfaces ([`live`]), through our
//! TPACKET_V3 ring ([`afpacket`]) or pnet's datalink channel.

pub mod afpacket;
pub mod live;
pub mod pcap;
pub mod writer;

/// Link-layer type of a capture (the pcap LINKTYPE_ values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback (`DLT_NULL`).
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet.
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP.
    pub const RAW: LinkType = LinkType(101);
    pub(crate) const C_HDLC: LinkType = LinkType(104);
    /// OpenBSD loopback (`DLT_LOOP`).
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture (SLL).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux cooked capture v2 (SLL2).
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// Some BSDs write DLT_RAW as 12 or 14.
    pub const RAW_BSD12: LinkType = LinkType(12);
    pub(crate) const RAW_BSD14: LinkType = LinkType(14);

    /// Link types the decoder reads; packets of any other count as invalid.
    pub const DECODED: [LinkType; 11] = [
        LinkType::NULL,
        LinkType::ETHERNET,
        LinkType::RAW,
        LinkType::C_HDLC,
        LinkType::LOOP,
        LinkType::LINUX_SLL,
        LinkType::IPV4,
        LinkType::IPV6,
        LinkType::LINUX_SLL2,
        LinkType::RAW_BSD12,
        LinkType::RAW_BSD14,
    ];

    pub(crate) fn is_decoded(self) -> bool {
        LinkType::DECODED.contains(&self)
    }
}

/// One captured frame, borrowed from the source's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Microseconds since the Unix epoch.
    pub ts_us: i64,
    /// Length on the wire (may exceed `data.len()` when the snaplen cut it).
    pub orig_len: u32,
    pub(crate) link: LinkType,
    /// The frame's bytes, from the link header on.
    pub data: &'a [u8],
}
