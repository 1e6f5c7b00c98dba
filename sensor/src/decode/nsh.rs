//! Network Service Header (RFC 8300, ethertype 0x894F): the base and service path
//! headers and the metadata after them are skipped; the inner packet is IPv4, IPv6,
//! Ethernet or another NSH.

use super::ethernet::{ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use super::DecodeError;

pub const ETHERTYPE_NSH: u16 = 0x894f;
/// The ethertype that names an inner Ethernet frame (transparent bridging).
pub const ETHERTYPE_ETHERNET: u16 = 0x6558;

/// The inner packet's ethertype and bytes.
pub fn decode(d: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    if d.len() < 8 {
        return Err(DecodeError::NshTooSmall);
    }
    if d[0] >> 6 != 0 {
        return Err(DecodeError::NshUnsupportedVersion);
    }
    let len = ((d[1] & 0x3f) as usize) * 4;
    let md_type = d[2] & 0x0f;
    // MD type 1 has a fixed 24-byte header; type 2 at least the 8 of the base and path.
    let valid = match md_type {
        1 => len == 24,
        2 => len >= 8,
        _ => return Err(DecodeError::NshUnsupportedType),
    };
    if !valid || len > d.len() {
        return Err(DecodeError::NshBadHeaderLength);
    }
    let et = match d[3] {
        1 => ETHERTYPE_IPV4,
        2 => ETHERTYPE_IPV6,
        3 => ETHERTYPE_ETHERNET,
        4 => ETHERTYPE_NSH,
        _ => return Err(DecodeError::NshUnknownPayload),
    };
    Ok((et, &d[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md_type_1_over_ipv4_and_bad_headers() {
        let mut d = vec![0x00, 0x06, 0x01, 0x01];
        d.extend_from_slice(&[0; 20]);
        d.push(0x45);
        assert_eq!(decode(&d).unwrap(), (ETHERTYPE_IPV4, &[0x45u8][..]));
        assert_eq!(decode(&d[..7]).unwrap_err(), DecodeError::NshTooSmall);
        let mut v = d.clone();
        v[0] = 0x40;
        assert_eq!(decode(&v).unwrap_err(), DecodeError::NshUnsupportedVersion);
        let mut l = d.clone();
        l[1] = 0x05;
        assert_eq!(decode(&l).unwrap_err(), DecodeError::NshBadHeaderLength);
        let mut p = d.clone();
        p[3] = 9;
        assert_eq!(decode(&p).unwrap_err(), DecodeError::NshUnknownPayload);
    }
}
