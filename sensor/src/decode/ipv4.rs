//! IPv4 with options and fragments.

use std::net::{IpAddr, Ipv4Addr};

use super::{DecodeError, Fragment, L3};

mod field {
    pub const VER_IHL: usize = 0;
    pub const LENGTH: std::ops::Range<usize> = 2..4;
    pub const IDENT: std::ops::Range<usize> = 4..6;
    pub const FLG_OFF: std::ops::Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const SRC: std::ops::Range<usize> = 12..16;
    pub const DST: std::ops::Range<usize> = 16..20;
    pub const MIN_HEADER: usize = 20;
}

/// A view over an IPv4 packet whose header and total length were validated.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    pub fn new_checked(buffer: T) -> Result<Self, DecodeError> {
        let b = buffer.as_ref();
        if b.len() < field::MIN_HEADER {
            return Err(DecodeError::Ipv4TooSmall);
        }
        if b[field::VER_IHL] >> 4 != 4 {
            return Err(DecodeError::Ipv4WrongVersion);
        }
        let hlen = ((b[field::VER_IHL] & 0x0f) as usize) * 4;
        if hlen < field::MIN_HEADER {
            return Err(DecodeError::Ipv4HlenTooSmall);
        }
        let total = u16::from_be_bytes([b[2], b[3]]) as usize;
        if total < hlen {
            return Err(DecodeError::Ipv4IplenSmallerThanHlen);
        }
        if b.len() < total || b.len() < hlen {
            return Err(DecodeError::Ipv4Truncated);
        }
        let p = Ipv4Packet { buffer };
        p.check_options()?;
        Ok(p)
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn header_len(&self) -> usize {
        ((self.b()[field::VER_IHL] & 0x0f) as usize) * 4
    }

    pub fn total_len(&self) -> usize {
        let b = &self.b()[field::LENGTH];
        u16::from_be_bytes([b[0], b[1]]) as usize
    }

    pub fn ident(&self) -> u16 {
        let b = &self.b()[field::IDENT];
        u16::from_be_bytes([b[0], b[1]])
    }

    fn flags_offset(&self) -> u16 {
        let b = &self.b()[field::FLG_OFF];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn more_fragments(&self) -> bool {
        self.flags_offset() & 0x2000 != 0
    }

    pub fn dont_fragment(&self) -> bool {
        self.flags_offset() & 0x4000 != 0
    }

    pub fn reserved_bit(&self) -> bool {
        self.flags_offset() & 0x8000 != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u32 {
        (self.flags_offset() & 0x1fff) as u32 * 8
    }

    pub fn ttl(&self) -> u8 {
        self.b()[field::TTL]
    }

    pub fn protocol(&self) -> u8 {
        self.b()[field::PROTOCOL]
    }

    pub fn src(&self) -> Ipv4Addr {
        let s = &self.b()[field::SRC];
        Ipv4Addr::new(s[0], s[1], s[2], s[3])
    }

    pub fn dst(&self) -> Ipv4Addr {
        let s = &self.b()[field::DST];
        Ipv4Addr::new(s[0], s[1], s[2], s[3])
    }

    /// Walks the options: each must fit in the header.
    fn check_options(&self) -> Result<(), DecodeError> {
        let opts = &self.b()[field::MIN_HEADER..self.header_len()];
        super::check_tlv_options(opts, DecodeError::Ipv4OptionMalformed)
    }
}

impl<'a> Ipv4Packet<&'a [u8]> {
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer[self.header_len()..self.total_len()]
    }
}

pub fn decode(data: &[u8], vlan: [u16; 3]) -> Result<L3<'_>, DecodeError> {
    let p = Ipv4Packet::new_checked(data)?;
    let fragment = (p.more_fragments() || p.frag_offset() != 0).then(|| Fragment {
        id: p.ident() as u32,
        offset: p.frag_offset(),
        more: p.more_fragments(),
    });
    let frag_bits =
        (p.reserved_bit() as u8) << 2 | (p.dont_fragment() as u8) << 1 | p.more_fragments() as u8;
    Ok(L3 {
        version: 4,
        src: IpAddr::V4(p.src()),
        dst: IpAddr::V4(p.dst()),
        proto: p.protocol(),
        ttl: p.ttl(),
        ip_id: p.ident(),
        frag_bits,
        fragment,
        vlan,
        header: &data[..p.header_len()],
        payload: p.payload(),
        events: Default::default(),
    })
}

/// Verifies the header checksum (`header` as in [`L3::header`]).
pub fn header_checksum_ok(header: &[u8]) -> bool {
    super::checksum::ones_complement(0, header) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(total: u16, ihl: u8) -> Vec<u8> {
        let mut h = vec![
            0x40 | ihl,
            0,
            0,
            0,
            0x12,
            0x34,
            0x20,
            0x01,
            64,
            6,
            0,
            0,
            10,
            0,
            0,
            1,
            10,
            0,
            0,
            2,
        ];
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h
    }

    #[test]
    fn parses_fragment_fields() {
        let mut h = header(28, 5);
        h.extend_from_slice(&[0; 8]);
        let l3 = decode(&h, [0; 3]).unwrap();
        assert_eq!(l3.fragment, Some(Fragment { id: 0x1234, offset: 8, more: true }));
        assert_eq!(l3.payload.len(), 8);
        assert_eq!(l3.frag_bits, 1);
    }

    #[test]
    fn errors() {
        assert_eq!(decode(&[0x45; 10], [0; 3]).unwrap_err(), DecodeError::Ipv4TooSmall);
        assert_eq!(decode(&header(20, 4), [0; 3]).unwrap_err(), DecodeError::Ipv4HlenTooSmall);
        assert_eq!(
            decode(&header(10, 5), [0; 3]).unwrap_err(),
            DecodeError::Ipv4IplenSmallerThanHlen
        );
        assert_eq!(decode(&header(40, 5), [0; 3]).unwrap_err(), DecodeError::Ipv4Truncated);
        let mut h = header(24, 6);
        h.extend_from_slice(&[7, 9, 0, 0]); // option length runs past the header
        assert_eq!(decode(&h, [0; 3]).unwrap_err(), DecodeError::Ipv4OptionMalformed);
        let mut ok = header(24, 6);
        ok.extend_from_slice(&[1, 1, 1, 0]);
        assert!(decode(&ok, [0; 3]).is_ok());
    }

    #[test]
    fn trailing_ethernet_padding_is_ignored() {
        let mut h = header(20, 5);
        h[6] = 0;
        h.extend_from_slice(&[0; 6]);
        assert_eq!(decode(&h, [0; 3]).unwrap().payload.len(), 0);
    }
}
