//! Tunnels whose inner packets are packets of their own, with flows of their own: GRE
//! (with PPP, transparent Ethernet and ERSPAN types II and III), VXLAN (UDP 4789),
//! GENEVE (UDP 6081), Teredo (UDP 3544), and IPv4 or IPv6 in IPv4 or IPv6 (protocols
//! 4 and 41). The outer packet is inspected as it is;
//! the inner one is then decoded from its link layer as if captured.

use super::{L3, L4};
use crate::capture::LinkType;

/// UDP ports of tunnels, as Suricata's defaults.
pub const VXLAN_PORT: u16 = 4789;
pub const GENEVE_PORT: u16 = 6081;
pub const TEREDO_PORT: u16 = 3544;

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;
const ETH_BRIDGE: u16 = 0x6558;
const ERSPAN_II: u16 = 0x88be;
const ERSPAN_III: u16 = 0x22eb;
const PPP: u16 = 0x880b;

/// Which tunnel a packet was in (the EVE `tunnel.type` of its inner packets' records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Gre,
    Vxlan,
    Geneve,
    Teredo,
    /// IPv4 in IP (protocol 4).
    Ipv4InIp,
    /// IPv6 in IP (protocol 41: 6in4, 6in6).
    Ipv6InIp,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gre => "GRE",
            Kind::Vxlan => "VXLAN",
            Kind::Geneve => "Geneve",
            Kind::Teredo => "Teredo",
            Kind::Ipv4InIp => "IPv4",
            Kind::Ipv6InIp => "IPv6",
        }
    }

    /// The EVE `pkt_src` of the packets it carries, as Suricata names them;
    /// `outer_v6`: the tunnel packet is IPv6.
    pub fn pkt_src(self, outer_v6: bool) -> &'static str {
        match self {
            Kind::Gre => "gre tunnel",
            Kind::Vxlan => "vxlan encapsulation",
            Kind::Geneve => "geneve encapsulation",
            Kind::Teredo => "teredo tunnel",
            Kind::Ipv4InIp | Kind::Ipv6InIp if outer_v6 => "ipv6 tunnel",
            Kind::Ipv4InIp | Kind::Ipv6InIp => "ipv4 tunnel",
        }
    }
}

/// The packet a tunnel packet carries: its tunnel, link type and bytes.
pub fn inner<'a>(l3: &L3<'_>, l4: &L4<'a>) -> Option<(Kind, LinkType, &'a [u8])> {
    match l4 {
        L4::Other(p) if l3.proto == 47 => gre(p).map(|(l, d)| (Kind::Gre, l, d)),
        L4::Other(p) if l3.proto == 4 && !p.is_empty() => Some((Kind::Ipv4InIp, LinkType::RAW, p)),
        L4::Other(p) if l3.proto == 41 && !p.is_empty() => Some((Kind::Ipv6InIp, LinkType::RAW, p)),
        L4::Udp(u) if u.dport == VXLAN_PORT => {
            vxlan(u.payload).map(|d| (Kind::Vxlan, LinkType::ETHERNET, d))
        }
        L4::Udp(u) if u.dport == GENEVE_PORT => {
            geneve(u.payload).map(|(l, d)| (Kind::Geneve, l, d))
        }
        L4::Udp(u) if u.sport == TEREDO_PORT || u.dport == TEREDO_PORT => {
            teredo(u.payload).map(|d| (Kind::Teredo, LinkType::RAW, d))
        }
        _ => None,
    }
}

/// The link type of an Ethernet protocol type carried by a tunnel.
fn link_of(proto: u16) -> Option<LinkType> {
    match proto {
        ETH_IPV4 | ETH_IPV6 => Some(LinkType::RAW),
        ETH_BRIDGE => Some(LinkType::ETHERNET),
        _ => None,
    }
}

/// GRE (RFC 2784, 2890) and enhanced GRE of PPTP (RFC 2637, version 1).
fn gre(p: &[u8]) -> Option<(LinkType, &[u8])> {
    let flags = u16::from_be_bytes([*p.first()?, *p.get(1)?]);
    let proto = u16::from_be_bytes([*p.get(2)?, *p.get(3)?]);
    let version = flags & 7;
    let mut at = 4;
    match version {
        0 => {
            for bit in [0x8000, 0x2000, 0x1000] {
                if flags & bit != 0 {
                    at += 4;
                }
            }
        }
        1 => {
            // Key (payload length and call id) always; sequence and ack when flagged.
            at += 4;
            for bit in [0x1000, 0x0080] {
                if flags & bit != 0 {
                    at += 4;
                }
            }
        }
        _ => return None,
    }
    let rest = p.get(at..)?;
    match proto {
        PPP => ppp(rest),
        ERSPAN_II => Some((LinkType::ETHERNET, rest.get(8..)?)),
        ERSPAN_III => {
            // 12 bytes, and an 8-byte platform subheader when the O bit is set.
            let o = rest.get(11)? & 1 != 0;
            Some((LinkType::ETHERNET, rest.get(if o { 20 } else { 12 }..)?))
        }
        other => Some((link_of(other)?, rest)),
    }
}

/// A PPP frame (address and control optional, protocol 1 or 2 bytes) carrying IP.
fn ppp(p: &[u8]) -> Option<(LinkType, &[u8])> {
    let p = p.strip_prefix(&[0xff, 0x03]).unwrap_or(p);
    let (proto, rest) = if p.first()? & 1 == 1 {
        (*p.first()? as u16, p.get(1..)?)
    } else {
        (u16::from_be_bytes([p[0], *p.get(1)?]), p.get(2..)?)
    };
    matches!(proto, 0x21 | 0x57).then_some((LinkType::RAW, rest))
}

/// VXLAN (RFC 7348): 8 bytes, the I flag set and the last (reserved) byte zero, as
/// Suricata checks them, then an Ethernet frame.
fn vxlan(p: &[u8]) -> Option<&[u8]> {
    (p.first()? & 0x08 != 0 && *p.get(7)? == 0).then_some(())?;
    p.get(8..).filter(|f| f.len() >= 14)
}

/// GENEVE (RFC 8926): 8 bytes and the options, then the protocol type's packet.
fn geneve(p: &[u8]) -> Option<(LinkType, &[u8])> {
    if p.first()? >> 6 != 0 {
        return None;
    }
    let opts = (p[0] & 0x3f) as usize * 4;
    let proto = u16::from_be_bytes([*p.get(2)?, *p.get(3)?]);
    Some((link_of(proto)?, p.get(8 + opts..)?))
}

/// Teredo (RFC 4380): an IPv6 packet, after optional authentication and origin
/// indication headers.
fn teredo(mut p: &[u8]) -> Option<&[u8]> {
    if p.starts_with(&[0, 1]) {
        // Authentication: client id and auth value lengths, nonce, confirmation.
        let len = 4 + *p.get(2)? as usize + *p.get(3)? as usize + 9;
        p = p.get(len..)?;
    }
    if p.starts_with(&[0, 0]) {
        p = p.get(8..)?;
    }
    // A whole IPv6 header whose payload length fits what came.
    let fits = p.len() >= 40
        && p[0] >> 4 == 6
        && 40 + u16::from_be_bytes([p[4], p[5]]) as usize == p.len();
    fits.then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gre_headers_and_payload_types() {
        let ip = [0x45u8; 20];
        let mut p = vec![0x20, 0x00, 0x08, 0x00, 1, 2, 3, 4];
        p.extend_from_slice(&ip);
        assert_eq!(gre(&p), Some((LinkType::RAW, &ip[..])));
        // PPTP: version 1, key and sequence, PPP carrying IPv4.
        let mut p = vec![0x30, 0x01, 0x88, 0x0b, 0, 20, 0, 1, 0, 0, 0, 9, 0xff, 0x03, 0x00, 0x21];
        p.extend_from_slice(&ip);
        assert_eq!(gre(&p), Some((LinkType::RAW, &ip[..])));
        assert_eq!(gre(&[0x00, 0x02, 0x08, 0x00]), None, "version 2");
        assert_eq!(gre(&[0x80, 0x00, 0x08]), None, "cut short");
    }

    #[test]
    fn vxlan_geneve_and_teredo() {
        let eth = [0u8; 14];
        let mut v = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
        v.extend_from_slice(&eth);
        assert_eq!(vxlan(&v), Some(&eth[..]));
        assert_eq!(vxlan(&v[..10]), None);
        v[7] = 1;
        assert_eq!(vxlan(&v), None, "reserved byte set");
        let mut g = vec![0x01, 0, 0x65, 0x58, 0, 0, 1, 0, 9, 9, 9, 9];
        g.extend_from_slice(&eth);
        assert_eq!(geneve(&g), Some((LinkType::ETHERNET, &eth[..])));
        let mut ip6 = vec![0x60, 0, 0, 0, 0, 2, 59, 64];
        ip6.extend_from_slice(&[0; 32]);
        ip6.extend_from_slice(&[1, 2]);
        assert_eq!(teredo(&ip6), Some(&ip6[..]));
        let mut with_origin = vec![0, 0, 1, 2, 3, 4, 5, 6];
        with_origin.extend_from_slice(&ip6);
        assert_eq!(teredo(&with_origin), Some(&ip6[..]));
        assert_eq!(teredo(&ip6[..41]), None);
    }
}
