//! IPv6 with extension headers (hop-by-hop, routing, destination options, fragment,
//! authentication) and fragments.

use std::net::{IpAddr, Ipv6Addr};

use super::{DecodeError, Fragment, L3};

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

pub fn decode(data: &[u8], vlan: [u16; 2]) -> Result<L3<'_>, DecodeError> {
    let p = Ipv6Packet::new_checked(data)?;
    let mut next = p.next_header();
    let mut rest = p.payload();
    let mut fragment = None;
    for _ in 0..MAX_EXT_HEADERS {
        match next {
            // Hop-by-hop, routing, destination options, mobility.
            0 | 43 | 60 | 135 => {
                if rest.len() < 8 {
                    return Err(DecodeError::Ipv6ExthdrTruncated);
                }
                let len = (rest[1] as usize + 1) * 8;
                if rest.len() < len {
                    return Err(DecodeError::Ipv6ExthdrTruncated);
                }
                next = rest[0];
                rest = &rest[len..];
            }
            // Authentication header: length in 4-byte units, minus 2.
            51 => {
                if rest.len() < 8 {
                    return Err(DecodeError::Ipv6ExthdrTruncated);
                }
                let len = (rest[1] as usize + 2) * 4;
                if rest.len() < len {
                    return Err(DecodeError::Ipv6ExthdrTruncated);
                }
                next = rest[0];
                rest = &rest[len..];
            }
            44 => {
                if rest.len() < 8 {
                    return Err(DecodeError::Ipv6ExthdrTruncated);
                }
                let off_flags = u16::from_be_bytes([rest[2], rest[3]]);
                let id = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]);
                let offset = (off_flags >> 3) as u32 * 8;
                let more = off_flags & 1 != 0;
                next = rest[0];
                rest = &rest[8..];
                // An atomic fragment (offset 0, no more) is a whole packet.
                if offset != 0 || more {
                    fragment = Some(Fragment { id, offset, more });
                    break;
                }
            }
            // No next header.
            59 => {
                rest = &rest[rest.len()..];
                break;
            }
            _ => break,
        }
    }
    if matches!(next, 0 | 43 | 60 | 135 | 51) && fragment.is_none() {
        return Err(DecodeError::Ipv6ExthdrTooMany);
    }
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
    fn walks_extension_headers_to_fragment() {
        // Hop-by-hop (8 bytes) → fragment (offset 16, more) → UDP.
        let mut ext = vec![44, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[17, 0, 0, 16 | 1, 0, 0, 0, 9]);
        ext.extend_from_slice(&[0xaa; 8]);
        let pkt = packet(0, &ext);
        let l3 = decode(&pkt, [0, 0]).unwrap();
        assert_eq!(l3.proto, 17);
        assert_eq!(l3.fragment, Some(Fragment { id: 9, offset: 16, more: true }));
        assert_eq!(l3.payload, &[0xaa; 8]);
    }

    #[test]
    fn truncated_ext_and_loop() {
        assert_eq!(
            decode(&packet(0, &[6, 3, 0, 0, 0, 0, 0, 0]), [0, 0]).unwrap_err(),
            DecodeError::Ipv6ExthdrTruncated
        );
        let many: Vec<u8> = (0..20).flat_map(|_| [0u8, 0, 0, 0, 0, 0, 0, 0]).collect();
        assert_eq!(decode(&packet(0, &many), [0, 0]).unwrap_err(), DecodeError::Ipv6ExthdrTooMany);
        let mut short = packet(6, &[1, 2, 3]);
        short.truncate(41);
        assert_eq!(decode(&short, [0, 0]).unwrap_err(), DecodeError::Ipv6Truncated);
    }
}
