//! IPv6 with extension headers (hop-by-hop, routing, destination options, fragment,
//! authentication) and fragments.

use std::net::{IpAddr, Ipv6Addr};

use super::{DecodeError, DecodeEvents, Fragment, L3};

const HEADER_LEN: usize = 40;
/// Extension headers followed before giving up on a packet.
const MAX_EXT_HEADERS: usize = 16;

/// A view over an IPv6 packet whose fixed header and payload length were validated.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub fn new_checked(buffer: T) -> Result<Self, DecodeError> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(DecodeError::Ipv6TooSmall);
        }
        if b[0] >> 4 != 6 {
            return Err(DecodeError::Ipv6WrongVersion);
        }
        let plen = u16::from_be_bytes([b[4], b[5]]) as usize;
        if b.len() < HEADER_LEN + plen {
            return Err(DecodeError::Ipv6Truncated);
        }
        Ok(Ipv6Packet { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn payload_len(&self) -> usize {
        u16::from_be_bytes([self.b()[4], self.b()[5]]) as usize
    }

    pub fn next_header(&self) -> u8 {
        self.b()[6]
    }

    pub fn hop_limit(&self) -> u8 {
        self.b()[7]
    }

    fn addr(&self, at: usize) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.b()[at..at + 16]);
        Ipv6Addr::from(a)
    }

    pub fn src(&self) -> Ipv6Addr {
        self.addr(8)
    }

    pub fn dst(&self) -> Ipv6Addr {
        self.addr(24)
    }
}

impl<'a> Ipv6Packet<&'a [u8]> {
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer[HEADER_LEN..HEADER_LEN + self.payload_len()]
    }
}

/// Where the extension headers of an IPv6 packet lead.
pub(crate) struct Walk<'a> {
    /// The protocol after the extension headers.
    pub next: u8,
    pub rest: &'a [u8],
    pub fragment: Option<Fragment>,
    pub events: DecodeEvents,
    pub error: Option<DecodeError>,
}

/// Walks the extension headers after the fixed header, whose Next Header is `first`.
pub(crate) fn walk_extensions(first: u8, payload: &[u8]) -> Walk<'_> {
    let mut w = Walk {
        next: first,
        rest: payload,
        fragment: None,
        events: DecodeEvents::default(),
        error: None,
    };
    let mut fragment_headers = 0;
    for i in 0..MAX_EXT_HEADERS {
        let kind = w.next;
        // After an extension header, fewer than 2 bytes cannot start the next header
        // (Suricata's check, whatever that header is).
        if i > 0 && kind != 59 && w.rest.len() < 2 {
            w.error = Some(DecodeError::Ipv6ExthdrTruncated);
            return w;
        }
        let len = match kind {
            // Hop-by-hop, routing, destination options, mobility.
            0 | 43 | 60 | 135 => w.rest.get(1).map(|l| (*l as usize + 1) * 8),
            // Authentication header: length in 4-byte units, minus 2.
            51 => w.rest.get(1).map(|l| (*l as usize + 2) * 4),
            44 => Some(8),
            // No next header.
            59 => {
                w.rest = &w.rest[w.rest.len()..];
                return w;
            }
            _ => return w,
        };
        let Some(len) = len.filter(|l| w.rest.len() >= 8 && w.rest.len() >= *l) else {
            w.error = Some(DecodeError::Ipv6ExthdrTruncated);
            return w;
        };
        let header = &w.rest[..len];
        w.next = header[0];
        w.rest = &w.rest[len..];
        if kind == 44 {
            fragment_headers += 1;
            if fragment_headers > 1 {
                w.events.insert(DecodeEvents::IPV6_DUPL_FH);
            }
            let off_flags = u16::from_be_bytes([header[2], header[3]]);
            let offset = (off_flags >> 3) as u32 * 8;
            let more = off_flags & 1 != 0;
            if offset != 0 || more {
                let id = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
                w.fragment = Some(Fragment { id, offset, more });
                return w;
            }
            // An atomic fragment (offset 0, no more) is a whole packet.
            w.events.insert(DecodeEvents::IPV6_USELESS_FH);
        }
    }
    if matches!(w.next, 0 | 43 | 60 | 135 | 51) {
        w.error = Some(DecodeError::Ipv6ExthdrTooMany);
    }
    w
}

pub fn decode(data: &[u8], vlan: [u16; 3]) -> Result<L3<'_>, DecodeError> {
    let p = Ipv6Packet::new_checked(data)?;
    let walk = walk_extensions(p.next_header(), p.payload());
    if let Some(e) = walk.error {
        return Err(e);
    }
    let (next, rest, fragment) = (walk.next, walk.rest, walk.fragment);
    Ok(L3 {
        version: 6,
        src: IpAddr::V6(p.src()),
        dst: IpAddr::V6(p.dst()),
        proto: next,
        ttl: p.hop_limit(),
        ip_id: 0,
        frag_bits: fragment.map_or(0, |f| f.more as u8),
        fragment,
        vlan,
        header: &data[..HEADER_LEN],
        payload: rest,
        events: walk.events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        p.push(next);
        p.push(64);
        p.extend_from_slice(&[0; 15]);
        p.push(1);
        p.extend_from_slice(&[0; 15]);
        p.push(2);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn fragment_header_events_and_a_chain_cut_short() {
        // An atomic fragment header, then a TCP header that is not there.
        let p = packet(44, &[6, 0, 0, 0, 0xfa, 0xce, 0xf0, 0xe1]);
        assert_eq!(decode(&p, [0; 3]).unwrap_err(), DecodeError::Ipv6ExthdrTruncated);
        let w = walk_extensions(44, &p[40..]);
        assert_eq!(w.events.names(6).collect::<Vec<_>>(), ["ipv6.exthdr_useless_fh"]);
        // Two atomic fragment headers before 8 bytes of UDP.
        let mut two = vec![44, 0, 0, 0, 0, 0, 0, 1, 17, 0, 0, 0, 0, 0, 0, 2];
        two.extend_from_slice(&[0, 1, 0, 2, 0, 8, 0, 0]);
        let p = packet(44, &two);
        let l3 = decode(&p, [0; 3]).unwrap();
        assert_eq!(l3.proto, 17);
        assert_eq!(
            l3.events.names(6).collect::<Vec<_>>(),
            ["ipv6.exthdr_dupl_fh", "ipv6.exthdr_useless_fh"]
        );
    }

    #[test]
    fn walks_extension_headers_to_fragment() {
        // Hop-by-hop (8 bytes) → fragment (offset 16, more) → UDP.
        let mut ext = vec![44, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[17, 0, 0, 16 | 1, 0, 0, 0, 9]);
        ext.extend_from_slice(&[0xaa; 8]);
        let pkt = packet(0, &ext);
        let l3 = decode(&pkt, [0; 3]).unwrap();
        assert_eq!(l3.proto, 17);
        assert_eq!(l3.fragment, Some(Fragment { id: 9, offset: 16, more: true }));
        assert_eq!(l3.payload, &[0xaa; 8]);
    }

    #[test]
    fn truncated_ext_and_loop() {
        assert_eq!(
            decode(&packet(0, &[6, 3, 0, 0, 0, 0, 0, 0]), [0; 3]).unwrap_err(),
            DecodeError::Ipv6ExthdrTruncated
        );
        let many: Vec<u8> = (0..20).flat_map(|_| [0u8, 0, 0, 0, 0, 0, 0, 0]).collect();
        assert_eq!(decode(&packet(0, &many), [0; 3]).unwrap_err(), DecodeError::Ipv6ExthdrTooMany);
        let mut short = packet(6, &[1, 2, 3]);
        short.truncate(41);
        assert_eq!(decode(&short, [0; 3]).unwrap_err(), DecodeError::Ipv6Truncated);
    }
}
